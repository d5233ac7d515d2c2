"""The evaluation world: a seeded blog of news clippings, the web its links lead to today, and the Wayback
Machine's captures of that web, with the truth about every link.

Owned here: generation (`build`) and the records the servers and the grader share. Nothing here imports
linkkeeper: the world is built from what is known about the real blog, the real outlets and the real
archive (see README.md), never from the product's heuristics.

- Posts 2008-2014 (some published years after their article), 15% of them inside the nullified window
  2012-09-11..2012-12-11, whose Original Article link is nullified in one of several plausible shapes.
- Each post copies the lead of an article of one of ~26 outlets, at that outlet's URL shape of the day.
- Each URL has a fate today (`outlets.TODAY`) and a capture history: good captures soon after publication,
  revisits, later captures of an updated version, paywall pages, and after the URL died, captures of what it
  became (404s, redirects home, soft 404 pages, another article).
- The archive also holds tens of thousands of other articles of the same outlets (decoys), rival articles on
  the same story, wire copies on sister papers, and the same article under two URLs on one outlet.
"""

from __future__ import annotations

import base64
import gc
import hashlib
import math
import random
import string
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache

from . import outlets as O
from . import prose, vocab
from .surt import surt
from .timeutil import to_utc, ts14

WINDOW = (date(2012, 9, 11), date(2012, 12, 11))
BLOG_HOST = "democracyastray.blogspot.com"
DENSE = (date(2012, 7, 15), date(2013, 1, 31))  # decoys are dense around the window (recovery's search space)
WORLD_END = datetime(2024, 6, 30)
TOPIC_WEIGHTS = {"budget": 12, "environment": 14, "justice": 10, "democracy": 16, "indigenous": 8, "labour": 8,
                 "health": 7, "foreign": 9, "economy": 9, "science": 7}
POSTMEDIA = ("citizen", "vansun", "gazette", "canadacom")


@dataclass(slots=True)
class Article:
    aid: int
    outlet: str
    shape: str
    local: datetime  # publication, Eastern local time
    meta: O.Meta
    url: str
    story_seed: str
    text_seed: str
    updated_at: datetime | None  # local time of a rewrite of the opening (version 2), if any
    fate: str = "alive"
    changed_at: datetime | None = None  # local time the URL stopped serving the article (death, move, drift)
    target: str | None = None  # where a moved/redirected/drifted URL leads today
    other: int = -1  # the article served instead (drift)
    alt_urls: tuple[str, ...] = ()  # the same article under other URLs of the outlet
    in_blog: bool = False

    @property
    def utc(self) -> datetime:
        return to_utc(self.local)


@dataclass(slots=True)
class Capture:
    key: str
    ts: str
    original: str
    mime: str
    status: str
    content: str  # content id; equal ids are byte-identical captures (the CDX digest is `digest(content)`)
    length: str
    kind: str  # article | revisit | redirect | notfound | soft404 | home | section | parked | paywall | feed | print
    ref: int = -1  # article id whose content is served (article, revisit, paywall, print, soft404 host...)
    version: int = 1
    location: str = ""  # captured redirect's target
    unplayable: bool = False  # listed, but replay sends to a neighbouring capture (a real quirk)


@dataclass(slots=True)
class Route:
    """What a URL does on today's web."""

    fate: str
    aid: int = -1  # article served (alive fates, drift)
    target: str = ""  # redirect target
    version: int = 1


@dataclass(slots=True)
class Outbound:
    url: str
    fate: str
    kind: str  # the host family (youtube, wikipedia, article, ...)
    aid: int = -1


@dataclass(slots=True)
class Post:
    pid: str
    url: str
    local: datetime
    updated: datetime
    title: str
    labels: tuple[str, ...]
    outlet: str
    spelling: str
    authors: str  # as printed after "Author:"
    aid: int
    version: int  # the article version the post copied
    linked_url: str  # the URL the blogger linked (before any nullification)
    href: str | None  # what the export carries: None = no href attribute
    nullified: str  # "" or the nullified shape
    trailer_style: str
    outbound: list[Outbound] = field(default_factory=list)
    html: str = ""


@dataclass
class World:
    seed: int
    blog_id: str
    articles: list[Article]
    posts: list[Post]
    captures: list[Capture]
    routes: dict[str, Route]  # "host/path?query" -> Route
    host_level: dict[str, str]  # host -> refused | hang | reset | drop | dns | parked | botwall | cross_home | head405
    excluded: tuple[str, ...]  # host keys (SURT) of excluded sites
    hosts: set[str]  # every host a link or redirect can reach (connect_to rules)

    def article_text(self, aid: int) -> prose.ArticleText:
        a = self.articles[aid]
        return _text(a.story_seed, a.text_seed, a.updated_at is not None)


@lru_cache(maxsize=4096)
def _text(story_seed: str, text_seed: str, updated: bool) -> prose.ArticleText:
    return prose.article(_story(story_seed), text_seed, updated)


def route_key(url: str) -> str:
    """The web's lookup key: host (lowercase) and the raw path with its query, scheme ignored."""
    rest = url.split("://", 1)[1]
    host, _, path = rest.partition("/")
    return host.lower() + "/" + path


def _weighted(rng: random.Random, table: dict[str, float]) -> str:
    keys = list(table)
    return rng.choices(keys, weights=[table[k] for k in keys])[0]


@lru_cache(maxsize=100_000)
def digest(content_id: str) -> str:
    """The CDX digest of a content id: base32 of a SHA-1, as the real index spells digests."""
    return base64.b32encode(hashlib.sha1(content_id.encode()).digest()).decode()


def _code(rng: random.Random, shape: str) -> str:
    if shape == "reuters":
        return f"{rng.randint(80, 99)}{rng.randint(10, 99)}{rng.choice(string.ascii_uppercase)}{rng.choice(string.ascii_uppercase)}"
    if shape == "wapo":
        h = "".join(rng.choice("0123456789abcdef") for _ in range(32))
        return f"{h[:8]}-{h[8:12]}-11e2-{h[16:20]}-{h[20:]}"
    if shape == "google_cp":
        return "".join(rng.choice(string.ascii_letters + string.digits + "_-") for _ in range(30))
    if shape == "aljazeera":
        return f"{rng.randint(10000, 99999)}"
    return ""


# --- generation ----------------------------------------------------------------------------------------------

class _Gen:
    """Holds the generator's state while `build` runs."""

    def __init__(self, seed: int, decoy_scale: float) -> None:
        self.seed = seed
        self.rng = random.Random(f"world:{seed}")
        self.decoy_scale = decoy_scale
        self.articles: list[Article] = []
        self.captures: list[Capture] = []
        self.routes: dict[str, Route] = {}
        self.used_urls: set[str] = set()
        self.blog_id = ""

    # articles -----------------------------------------------------------------------------------------------
    def new_article(self, outlet: O.Outlet, local: datetime, story_seed: str | None = None,
                    shape: str | None = None, section: str | None = None, in_blog: bool = False,
                    topic: str | None = None) -> Article | None:
        era = outlet.era_at(local.date())
        if era is None:
            return None
        rng = self.rng
        aid = len(self.articles)
        if story_seed is None:
            story_seed = f"{self.seed}:story:{aid}"
            if topic is None:
                topic = _weighted(rng, TOPIC_WEIGHTS)
            story_seed += f":{topic}"
        text_seed = f"{self.seed}:text:{aid}"
        s = _story(story_seed)
        head = prose.article_head(s, text_seed)
        shape = shape or era.shape
        section = section or rng.choice(era.sections)
        ident = O.clock_id(era.clock, local, rng.randint(-400, 400)) if era.clock else rng.randint(1, 999)
        author_slug = prose.slugify(head.authors[0], 3) if head.authors else "staff"
        meta = O.Meta(local, prose.slugify(head.slug_source), ident, section, author_slug, _code(rng, shape))
        url = O.SHAPES[shape](meta)
        n = 1
        while url in self.used_urls:  # same slug the same day: sites append a number
            n += 1
            local += timedelta(seconds=n)  # and file names made of the time differ by the second
            meta = O.Meta(local, f"{prose.slugify(head.slug_source)}-{n}", ident + n, section, author_slug,
                          _code(rng, shape))
            url = O.SHAPES[shape](meta)
        self.used_urls.add(url)
        updated = local + timedelta(hours=rng.uniform(2, 40)) if rng.random() < 0.08 else None
        a = Article(aid, outlet.key, shape, local, meta, url, story_seed, text_seed, updated, in_blog=in_blog)
        self.articles.append(a)
        return a

    def set_fate(self, a: Article, fate: str | None = None) -> None:
        rng = self.rng
        a.fate = fate or _weighted(rng, O.TODAY[a.shape])
        if a.fate in ("alive", "alive_slow", "alive_flaky", "alive_flaky_run", "alive_429", "alive_429_retry_after",
                      "alive_edited", "paywall_ua", "botwall"):
            return
        lo = a.local + timedelta(days=180)
        start, end = _EVENTS.get(a.shape, (lo, datetime(2023, 12, 31)))
        start = max(start, lo)
        if start >= end:
            end = start + timedelta(days=200)
        a.changed_at = start + timedelta(seconds=rng.uniform(0, (end - start).total_seconds()))
        if a.changed_at > WORLD_END:
            a.changed_at = WORLD_END - timedelta(days=30)
        if a.fate in ("moved", "moved_chain"):
            target = O.MOVED_TO[a.shape](a.meta)
            if target == a.url or target in self.used_urls:
                # the new CMS kept this address (or another article holds the new one): it is simply alive
                a.fate, a.changed_at = "alive", None
                return
            self.used_urls.add(target)
            a.target = target
        elif a.fate in ("drifted_inplace", "drifted_redirect"):
            other = self.new_article(O.BY_KEY[a.outlet], a.changed_at, shape=a.shape) or \
                self.new_article(O.BY_KEY[a.outlet], a.local + timedelta(days=3), shape=a.shape)
            assert other is not None
            other.fate = "alive"
            a.other = other.aid
            if a.fate == "drifted_redirect":
                a.target = other.url

    # captures -----------------------------------------------------------------------------------------------
    def capture(self, url: str, when_utc: datetime, kind: str, status: str, mime: str = "text/html",
                ref: int = -1, version: int = 1, location: str = "", digest_of: str = "") -> Capture:
        rng = self.rng
        original = url
        if when_utc.year <= 2011 and rng.random() < 0.3:  # older crawls recorded the port
            host = url.split("/")[2]
            original = url.replace(host, host + ":80", 1)
        elif when_utc.year >= 2017 and rng.random() < 0.5:  # later crawls met https
            original = "https://" + url.split("://", 1)[1]
        c = Capture(surt(url), ts14(when_utc), original, mime, status, digest_of or f"{kind}:{ref}:{version}:{location}:{url}",
                    str(rng.randint(4000, 95000)), kind, ref, version, location,
                    unplayable=rng.random() < 0.02)
        self.captures.append(c)
        return c

    def article_captures(self, a: Article, rate: float, dense: bool) -> None:
        """A capture history for one URL of an article (its main URL and each of its alt URLs)."""
        for url in (a.url,) + a.alt_urls:
            self._url_captures(a, url, rate, dense)

    def _url_captures(self, a: Article, url: str, rate: float, dense: bool) -> None:
        rng = self.rng
        utc = a.utc
        if a.local.year <= 2009:
            rate *= 0.85
        changed = to_utc(a.changed_at) if a.changed_at else None
        upd = to_utc(a.updated_at) if a.updated_at else None
        good_times: list[datetime] = []
        if rng.random() < rate:
            r = rng.random()
            lag = (rng.uniform(0.02, 2) if r < 0.6 else rng.uniform(2, 30) if r < 0.85 else rng.uniform(30, 900))
            first = utc + timedelta(days=lag)
            extra = rng.choices([0, 1, 2, 3, 5], weights=[40, 28, 18, 9, 5])[0] if dense else rng.choice([0, 0, 1, 2])
            good_times.append(first)
            horizon = min(changed or WORLD_END, utc + timedelta(days=3 * 365), WORLD_END)
            for _ in range(extra):
                if horizon > first:
                    good_times.append(first + timedelta(seconds=rng.uniform(0, (horizon - first).total_seconds())))
        good_times = sorted(t for t in good_times if not changed or t < changed)
        variant = ""
        if good_times and rng.random() < 0.1:  # the first crawl came from a feed, with its tracking query
            variant = url + ("&" if "?" in url else "?") + rng.choice(["cmp=rss", "utm_source=feedburner&utm_medium=feed", "cmpid=rss1"])
        last_digest = None
        for i, t in enumerate(good_times):
            version = 2 if upd and t >= upd else 1
            content_id = f"article:{a.aid}:{version}"
            paywalled = a.outlet in ("globe", "nyt") and t.year >= 2013 and rng.random() < 0.5
            target_url = variant if (variant and i == 0) else url
            if paywalled:
                self.capture(target_url, t, "paywall", "200", ref=a.aid, version=version)
                last_digest = None
                continue
            if last_digest == content_id and rng.random() < 0.5:
                c = self.capture(target_url, t, "revisit", "-", mime="warc/revisit", ref=a.aid, version=version,
                                 digest_of=content_id)
                c.length = str(rng.randint(500, 900))
            else:
                self.capture(target_url, t, "article", "200", ref=a.aid, version=version, digest_of=content_id)
            last_digest = content_id
        if rng.random() < 0.04 and good_times:  # print and comment pages are captured too
            self.capture(url.rstrip("/") + ("&service=print" if "?" in url else "?service=print"),
                         good_times[0] + timedelta(hours=3), "print", "200", ref=a.aid)
        if changed and changed < WORLD_END and rng.random() < (0.75 if dense else 0.4):
            for _ in range(rng.choice([1, 1, 2])):
                t = changed + timedelta(seconds=rng.uniform(0, max(1.0, (WORLD_END - changed).total_seconds())))
                self._dead_capture(a, url, t)

    def _dead_capture(self, a: Article, url: str, t: datetime) -> None:
        host = url.split("/")[2]
        f = a.fate
        if f in ("dead_404",):
            self.capture(url, t, "notfound", "404", ref=a.aid)
        elif f == "dead_410":
            self.capture(url, t, "notfound", "410", ref=a.aid)
        elif f in ("soft404_page", "soft404_expired", "soft404_host"):
            self.capture(url, t, "soft404", "200", ref=a.aid, digest_of=f"soft404:{host}:{f}")
        elif f in ("soft404_home", "soft404_home_cross", "soft404_section", "moved", "moved_chain", "drifted_redirect"):
            self.capture(url, t, "redirect", "301", mime="unk" if self.rng.random() < 0.3 else "text/html",
                         ref=a.aid, location=a.target or _home_target(url, f))
        elif f == "drifted_inplace":
            self.capture(url, t, "article", "200", ref=a.other, digest_of=f"article:{a.other}:1")
        elif f == "parked":
            self.capture(url, t, "parked", "200", digest_of=f"parked:{host}")
        # refused / hang / reset / drop / dns: the crawler got nothing, nothing is recorded

    # the blog ---------------------------------------------------------------------------------------------
    def posts(self, n: int) -> list[Post]:
        rng = self.rng
        dates = _post_dates(rng, n)
        out: list[Post] = []
        blog_slugs: set[str] = set()
        for i, (local, kind) in enumerate(dates):
            for _attempt in range(40):
                late = _lateness(rng, kind)
                art_local = local - timedelta(days=late, hours=rng.uniform(0.5, 9))
                if art_local < datetime(2008, 1, 1, 6):
                    continue
                candidates = [o for o in O.OUTLETS if o.era_at(art_local.date())]
                outlet = rng.choices(candidates, weights=[o.weight for o in candidates])[0]
                break
            else:
                raise RuntimeError("no outlet for a post date")
            in_window = WINDOW[0] <= local.date() <= WINDOW[1]
            a = self.new_article(outlet, art_local, in_blog=True)
            assert a is not None
            dup = in_window and outlet.dup_kinds and rng.random() < 0.3
            if dup:
                self._add_alt_url(a, outlet, rng.choice(outlet.dup_kinds))
            self.set_fate(a)
            post = self._post(i, a, outlet, local, kind, in_window, blog_slugs)
            out.append(post)
            # Rival coverage and wire copies sit beside the article in the archive.
            if in_window or rng.random() < 0.15:
                for _ in range(rng.choice([0, 1, 1, 2])):
                    rival = self.new_article(outlet, art_local + timedelta(hours=rng.uniform(-60, 72)), story_seed=a.story_seed)
                    if rival:
                        self.set_fate(rival)
            if outlet.key in POSTMEDIA and rng.random() < 0.35:
                for sister in rng.sample([k for k in POSTMEDIA if k != outlet.key], rng.choice([1, 2])):
                    copy = self.new_article(O.BY_KEY[sister], art_local + timedelta(minutes=rng.uniform(5, 300)),
                                            story_seed=a.story_seed)
                    if copy:
                        copy.text_seed = a.text_seed  # a wire story: the same text on a sister paper
                        copy.updated_at = a.updated_at
                        self.set_fate(copy)
        return out

    def _add_alt_url(self, a: Article, outlet: O.Outlet, kind: str) -> None:
        era = outlet.era_at(a.local.date())
        assert era is not None
        m = a.meta
        if kind == "two_sections":
            others = [s for s in era.sections if s != m.section]
            alt = O.SHAPES[a.shape](O.Meta(m.when, m.slug, m.ident, self.rng.choice(others), m.author_slug, m.code))
        else:
            alt = O.SHAPES[outlet.alt_shapes[kind]](m)
        if alt not in self.used_urls and alt != a.url:
            self.used_urls.add(alt)
            a.alt_urls = (alt,)

    def _post(self, i: int, a: Article, outlet: O.Outlet, local: datetime, kind: str, in_window: bool,
              blog_slugs: set[str]) -> Post:
        rng = self.rng
        text = _text(a.story_seed, a.text_seed, a.updated_at is not None)
        version = 2 if a.updated_at and local >= a.updated_at else 1
        title = text.headline
        r = rng.random()
        if r < 0.02:
            title = ""
        elif r < 0.06:
            title = title.title()
        slug = _blog_slug(title or text.headline, blog_slugs, local)
        pid = f"tag:blogger.com,1999:blog-{self.blog_id}.post-{rng.randint(10**18, 10**19 - 1)}"
        url = f"http://{BLOG_HOST}/{local:%Y/%m}/{slug}.html"
        linked = a.url if not a.alt_urls or rng.random() < 0.5 else a.alt_urls[0]
        href: str | None = linked
        nullified = ""
        if in_window:
            nullified = _weighted(rng, {"empty": 30, "hash": 20, "missing": 20, "blog_root": 15, "self": 10, "blog_ca": 5})
            href = {"empty": "", "hash": "#", "missing": None, "blog_root": f"http://{BLOG_HOST}/",
                    "self": url, "blog_ca": f"http://{BLOG_HOST.replace('.com', '.ca')}/"}[nullified]
        authors = text.head.authors
        if not authors:
            author_line = "--"
        elif len(authors) == 1:
            author_line = authors[0]
        else:
            author_line = ", ".join(authors[:-1]) + " and " + authors[-1]
        labels = tuple(rng.sample(_labels(a), k=min(len(_labels(a)), rng.choice([1, 2, 3]))))
        spelling = rng.choices([s for s, _ in outlet.spellings], weights=[w for _, w in outlet.spellings])[0]
        updated = local + timedelta(minutes=rng.choice([0, 0, 2, 15, 60 * 24 * rng.randint(1, 900)]))
        return Post(pid, url, local, updated, title, labels, outlet.key, spelling, author_line, a.aid, version,
                    linked, href, nullified, _weighted(rng, {"plain": 60, "bold": 20, "span": 15, "target": 5}))

    def outbound_links(self, posts: list[Post]) -> None:
        rng = self.rng
        for p in posts:
            if rng.random() > 0.35:
                continue
            for _ in range(rng.choice([1, 1, 1, 2, 3])):
                family = _weighted(rng, {k: v[0] for k, v in OUTBOUND.items()})
                if family == "article":
                    outlet = rng.choices(O.OUTLETS, weights=[o.weight for o in O.OUTLETS])[0]
                    a = self.new_article(outlet, p.local - timedelta(days=rng.uniform(1, 40)))
                    if a is None:
                        continue
                    self.set_fate(a)
                    a.in_blog = True
                    p.outbound.append(Outbound(a.url, a.fate, "article", a.aid))
                    continue
                _, builder, fates = OUTBOUND[family]
                url = builder(rng, p.local)
                if url in self.used_urls:
                    continue
                self.used_urls.add(url)
                fate = _weighted(rng, fates)
                p.outbound.append(Outbound(url, fate, family))

    def decoys(self) -> None:
        """Articles the blog never linked, for the archive's index: dense around the window, sparse elsewhere."""
        rng = self.rng
        for outlet in O.OUTLETS:
            for era in outlet.eras:
                day = max(era.start, date(2008, 1, 1))
                last = min(era.end, date(2014, 12, 31))
                while day <= last:
                    dense = DENSE[0] <= day <= DENSE[1]
                    rate = outlet.size * (0.25 if dense else 0.015) * self.decoy_scale
                    for _ in range(_poisson(rng, rate)):
                        local = datetime.combine(day, datetime.min.time()) + timedelta(hours=rng.uniform(5, 23.5))
                        a = self.new_article(outlet, local)
                        if a is not None:
                            a.fate = _weighted(rng, O.TODAY[a.shape])
                            if a.fate in ("moved", "moved_chain", "drifted_inplace", "drifted_redirect"):
                                a.fate = "dead_404"  # keeps decoys cheap: no second article behind them
                            self.set_fate(a, a.fate)
                    day += timedelta(days=1)

    def all_captures(self) -> None:
        for a in list(self.articles):
            outlet = O.BY_KEY[a.outlet]
            dense = a.in_blog or DENSE[0] <= a.local.date() <= DENSE[1]
            self.article_captures(a, outlet.capture_rate, dense)
            if a.fate in ("moved", "moved_chain") and a.target and a.changed_at:
                # the new address is crawled too once the site moved
                for _ in range(self.rng.choice([0, 1, 2])):
                    t = to_utc(a.changed_at) + timedelta(days=self.rng.uniform(1, 900))
                    if t < WORLD_END:
                        self.capture(a.target, t, "article", "200", ref=a.aid,
                                     version=2 if a.updated_at else 1,
                                     digest_of=f"article:{a.aid}:{2 if a.updated_at else 1}")
        self._site_pages()

    def _site_pages(self) -> None:
        """Home pages and section fronts, captured about monthly: redirect targets must replay."""
        rng = self.rng
        hosts = set()
        for o in O.OUTLETS:
            hosts |= o.hosts
        hosts |= {O.host_of(u) for u in O.CROSS_HOME.values()} | {O.host_of(u) for u in O.HOME_OF.values()}
        for host in sorted(hosts):
            if host.endswith(".invalid"):
                continue
            month = datetime(2008, 1, 1)
            while month < WORLD_END:
                t = month + timedelta(days=rng.uniform(0, 27), seconds=rng.uniform(0, 86400))
                self.capture(f"http://{host}/", t, "home", "200", digest_of=f"home:{host}:{t:%Y%m}")
                if rng.random() < 0.3:
                    self.capture(f"http://{host}/news/", t + timedelta(hours=2), "section", "200",
                                 digest_of=f"section:{host}:{t:%Y%m}")
                month = (month + timedelta(days=32)).replace(day=1)

    # today's web --------------------------------------------------------------------------------------------
    def web(self, posts: list[Post]) -> tuple[dict[str, str], set[str]]:
        routes = self.routes
        for a in self.articles:
            for url in (a.url,) + a.alt_urls:
                self._route(a, url)
        for p in posts:
            for ob in p.outbound:
                if ob.kind != "article":
                    routes[route_key(ob.url)] = Route(ob.fate, target=_outbound_target(ob))
        host_level = dict(HOST_LEVEL)
        hosts = {O.host_of(u) for u in (a.url for a in self.articles)}
        hosts |= {O.host_of(a.target) for a in self.articles if a.target}
        hosts |= {O.host_of(ob.url) for p in posts for ob in p.outbound}
        hosts |= {k.split("/")[0] for k in routes}
        hosts |= {O.host_of(r.target) for r in routes.values() if r.target.startswith("http")}
        hosts |= {O.host_of(u) for u in O.CROSS_HOME.values()} | {O.host_of(u) for u in O.HOME_OF.values()}
        return host_level, hosts

    def _route(self, a: Article, url: str) -> None:
        key = route_key(url)
        f = a.fate
        version = 2 if a.updated_at else 1
        if f in ("moved", "moved_chain"):
            assert a.target
            self.routes[route_key(a.target)] = Route("alive", a.aid, version=version)
            if f == "moved_chain":
                bare = a.target.replace("://www.", "://", 1)
                self.routes[route_key(bare)] = Route("redirect", target=a.target)
                self.routes[key] = Route("moved", a.aid, bare)
            else:
                self.routes[key] = Route("moved", a.aid, a.target)
        elif f == "drifted_redirect":
            self.routes[key] = Route("moved", a.other, a.target or "")
        elif f == "drifted_inplace":
            self.routes[key] = Route("alive", a.other)
        elif f in ("soft404_home", "soft404_home_cross", "soft404_section"):
            self.routes[key] = Route("redirect", target=_home_target(url, f))
        else:
            self.routes[key] = Route(f, a.aid, version=version)


_EVENTS: dict[str, tuple[datetime, datetime]] = {
    # when sites changed what old URLs do (migrations, closures)
    "star_article": (datetime(2012, 12, 1), datetime(2014, 6, 1)),
    "guardian_uk": (datetime(2013, 7, 29), datetime(2013, 8, 30)),
    "huff_news": (datetime(2021, 3, 1), datetime(2021, 6, 1)),
    "huff_blog": (datetime(2021, 3, 1), datetime(2021, 6, 1)),
    "sunnews": (datetime(2015, 2, 13), datetime(2015, 3, 1)),
    "openfile": (datetime(2012, 10, 1), datetime(2012, 11, 1)),
    "themark": (datetime(2014, 7, 1), datetime(2015, 1, 1)),
    "embassy": (datetime(2016, 7, 1), datetime(2016, 9, 1)),
    "ctv_old": (datetime(2012, 3, 1), datetime(2013, 1, 1)),
    "citizen_query": (datetime(2014, 6, 1), datetime(2016, 6, 1)),
    "vansun_query": (datetime(2014, 6, 1), datetime(2016, 6, 1)),
    "gazette_query": (datetime(2014, 6, 1), datetime(2016, 6, 1)),
    "rabble_news": (datetime(2021, 1, 1), datetime(2021, 8, 1)),
    "rabble_blog": (datetime(2021, 1, 1), datetime(2021, 8, 1)),
    "macleans_dated": (datetime(2013, 1, 1), datetime(2014, 1, 1)),
}

HOST_LEVEL: dict[str, str] = {
    "blogs.ottawacitizen.com": "refused",
    "www.sunnewsnetwork.ca": "hang",
    "openfile.invalid": "dns",
    "www.themarknews.com": "parked",
    "www.washingtonpost.com": "botwall",
    "blogs.vancouversun.com": "cross_home",
    "www.embassynews.ca": "cross_home",
    "www.ctv.ca": "cross_home",
    "www.savethelakes.ca": "reset",
    "www.voterights.ca": "drop",
    "www.northernwatch.ca": "hang",
    "www.stopthecuts.invalid": "dns",
    "www.change.org": "head405",
    "www.documentcloud.org": "head405",
}


def _home_target(url: str, fate: str) -> str:
    host = O.host_of(url)
    if fate == "soft404_home_cross":
        return O.CROSS_HOME.get(host, "http://news.google.com/")
    if fate == "soft404_section":
        first = url.split("/")[3] if len(url.split("/")) > 4 else "news"
        return f"http://{host}/{first}/"
    if host == "www.pm.gc.ca":
        return "http://pm.gc.ca/eng"
    return O.HOME_OF.get(host, f"http://{host}/")


def _outbound_target(ob: Outbound) -> str:
    if ob.fate == "soft404_home_cross":
        return "http://www.ourcommons.ca/"
    if ob.fate == "soft404_home":
        return _home_target(ob.url, ob.fate)
    return ""


def _rand_word(rng: random.Random) -> str:
    return rng.choice(vocab.SURNAMES + vocab.PLACES).replace("'", "")


OUTBOUND: dict[str, tuple[float, object, dict[str, float]]] = {
    "youtube": (5, lambda r, t: "http://www.youtube.com/watch?v=" + "".join(r.choice(string.ascii_letters + string.digits + "-_") for _ in range(11)),
                {"alive": .45, "soft404_video": .55}),
    "wikipedia": (4, lambda r, t: f"http://en.wikipedia.org/wiki/{_rand_word(r)}_{r.choice(['Act', 'affair', 'River', 'Commission', '(politician)'])}",
                  {"alive": .9, "dead_404": .1}),
    "parl": (3, lambda r, t: f"http://www.parl.gc.ca/HousePublications/Publication.aspx?DocId={r.randint(5000000, 6999999)}&Language=E&Mode=1",
             {"soft404_home_cross": .5, "alive": .5}),
    "pm": (2, lambda r, t: f"http://www.pm.gc.ca/eng/media.asp?id={r.randint(2000, 5999)}", {"soft404_home": 1.0}),
    "pbo": (2, lambda r, t: f"http://www.pbo-dpb.gc.ca/files/files/Publications/{_rand_word(r)}_{r.choice(['Report', 'Costing', 'Outlook'])}_{t.year}.pdf",
            {"alive_pdf": .6, "dead_404": .4}),
    "cbcplayer": (2, lambda r, t: f"http://www.cbc.ca/player/News/Politics/ID/{r.randint(1800000000, 2400000000)}/",
                  {"soft404_video": .6, "alive": .4}),
    "change": (2, lambda r, t: f"http://www.change.org/petitions/{prose.slugify(_rand_word(r) + ' ' + _rand_word(r) + ' stop the cuts')}",
               {"alive": .6, "dead_404": .4}),
    "documentcloud": (2, lambda r, t: f"http://www.documentcloud.org/documents/{r.randint(100000, 999999)}-{prose.slugify(_rand_word(r))}.html",
                      {"alive": .85, "dead_410": .15}),
    "blogspot": (3, lambda r, t: f"http://{r.choice(['progressivebloggers', 'galloping-beaver', 'northernlights-pol', 'dawgsblawg', 'impolitical-notes'])}.blogspot.com/{t:%Y/%m}/{prose.slugify(_rand_word(r) + ' ' + _rand_word(r))}.html",
                 {"alive": .5, "dead_404": .5}),
    "savethelakes": (.5, lambda r, t: f"http://www.savethelakes.ca/news/{prose.slugify(_rand_word(r))}", {"reset": 1.0}),
    "voterights": (.5, lambda r, t: f"http://www.voterights.ca/?p={r.randint(100, 9999)}", {"drop": 1.0}),
    "northernwatch": (.5, lambda r, t: f"http://www.northernwatch.ca/{t:%Y}/{prose.slugify(_rand_word(r))}.html", {"hang": 1.0}),
    "stopthecuts": (1, lambda r, t: f"http://www.stopthecuts.invalid/action/{r.randint(1, 400)}", {"dns": 1.0}),
    "article": (8, None, {}),
}


@lru_cache(maxsize=200_000)
def _story(seed: str) -> prose.Story:
    topic = seed.rsplit(":", 1)[-1]
    return prose.story_for(seed, topic if topic in TOPIC_WEIGHTS else None)


def _labels(a: Article) -> list[str]:
    topic = _story(a.story_seed).topic
    return list(vocab.TOPICS[topic]["labels"]) + ["Canadian Politics"]


def _blog_slug(title: str, used: set[str], local: datetime) -> str:
    words = prose.slugify(title, 20).split("-")
    if words and words[0] in ("the", "a", "an") and len(words) > 1:
        words = words[1:]  # Blogger drops a leading article
    slug = ""
    for w in words:
        if len(slug) + len(w) + 1 > 40:
            break
        slug = f"{slug}-{w}" if slug else w
    slug = slug or "blog-post"
    base, n = slug, 1
    while f"{local:%Y/%m}/{slug}" in used:
        n += 1
        slug = f"{base}_{n}"
    used.add(f"{local:%Y/%m}/{slug}")
    return slug


def _poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, int(rng.gauss(lam, math.sqrt(lam)) + 0.5))
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _post_dates(rng: random.Random, n: int) -> list[tuple[datetime, str]]:
    """(local time, kind) per post: kind is 'normal', 'window' or 'late' (a 2015-2019 post of an old article)."""
    n_window = round(n * 0.15)
    n_late = max(1, round(n * 0.03))
    rest = n - n_window - n_late
    years = [2008, 2009, 2010, 2011, 2012, 2013, 2014]
    weights = [4, 9, 13, 17, 15, 14, 10]
    out: list[tuple[datetime, str]] = []

    def at(day: date) -> datetime:
        return datetime.combine(day, datetime.min.time()) + timedelta(minutes=rng.randint(6 * 60, 23 * 60 + 55))

    for _ in range(rest):
        y = rng.choices(years, weights=weights)[0]
        while True:
            day = date(y, 1, 1) + timedelta(days=rng.randrange(366 if y % 4 == 0 else 365))
            if not (WINDOW[0] <= day <= WINDOW[1]):
                break
        out.append((at(day), "normal"))
    span = (WINDOW[1] - WINDOW[0]).days
    for _ in range(n_window):
        out.append((at(WINDOW[0] + timedelta(days=rng.randint(0, span))), "window"))
    for _ in range(n_late):
        out.append((at(date(2015, 1, 1) + timedelta(days=rng.randrange(5 * 365))), "late"))
    out.sort()
    return out


def _lateness(rng: random.Random, kind: str) -> float:
    """Days between the article and the post: mostly the same day or the next, sometimes weeks, a few years."""
    if kind == "late":
        return rng.uniform(2 * 365, 7 * 365)
    r = rng.random()
    if r < 0.55:
        return 0
    if r < 0.75:
        return 1
    if r < 0.85:
        return rng.randint(2, 7)
    if r < 0.95:
        return rng.randint(8, 60)
    return rng.randint(365, 4 * 365)


def build(seed: int = 1, posts: int = 800, decoy_scale: float = 1.0) -> World:
    """The world for `seed`: the same arguments always give the same world, byte for byte."""
    # Hundreds of thousands of small objects and no cycles: the cyclic collector only slows this down.
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _build(seed, posts, decoy_scale)
    finally:
        if enabled:
            gc.enable()


def _build(seed: int, posts: int, decoy_scale: float) -> World:
    g = _Gen(seed, decoy_scale)
    g.blog_id = str(random.Random(f"blog:{seed}").randint(10**18, 10**19 - 1))
    blog_posts = g.posts(posts)
    g.outbound_links(blog_posts)
    g.decoys()
    g.all_captures()
    host_level, hosts = g.web(blog_posts)
    g.captures.sort(key=lambda c: (c.key, c.ts))
    # Exclusion covers a whole registered domain (the real cassette: nationalpost.com, every subdomain).
    excluded = tuple(sorted({",".join(reversed(h.split(".")[-2:])) for o in O.OUTLETS if o.excluded for h in o.hosts}))
    return World(seed, g.blog_id, g.articles, blog_posts, g.captures, g.routes, host_level, excluded,
                 {h for h in hosts if h})
