"""A simulated blog window for the recovery of nullified links, used by tests/test_recover.py and
bench/recover_bench.py: a Blogger export whose posts in 2012-09-11 .. 2012-12-11 lost their Original Article
hrefs, posts outside the window that teach the outlets' domains and URL shapes, and a simulated Wayback
Machine holding each lost article among many decoys:

- same-day articles in the same section whose slugs share words with the headline;
- updated versions (a later URL of the same story: new headline, first paragraph rewritten);
- live blogs quoting the article's first paragraph;
- section fronts and day indexes listing the headline and first sentence;
- other outlets' copies of the story (wire copy under another outlet's URL);
- filler: the outlet's other articles of the month or week, old articles captured again, redirects,
  404s, revisits, RSS and print pages.

Outlet URL shapes follow the real ones of 2012: the Guardian `/world/2012/oct/16/slug`, CBC
`/news/politics/story/2012/10/16/slug.html`, HuffPost Canada `/2012/10/16/slug_n_1234567.html`, the Star
`/news/canada/article/1270111--slug` (dated paths only from December 2012), the Globe
`/news/politics/slug/article4612345/`, the BBC `/news/world-us-canada-19961234` (no slug), the Ottawa Citizen
`/news/slug/7712345/story.html`, the National Post `news.nationalpost.com/2012/10/16/slug/` (never linked
outside the window: only the outlets file knows it).

Everything is derived from one seed, so a test can state exactly what each post's answer is.
"""

from __future__ import annotations

import html
import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

from functools import cached_property

from linkkeeper.sim.archive import Capture as _BaseCapture
from linkkeeper.sim.archive import SimulatedArchive
from linkkeeper.sim.web import Page, SimulatedWeb
from linkkeeper.wayback import surt_key


class Capture(_BaseCapture):
    """A capture whose match key is computed once: the simulator reads it for every capture on every
    request, and this world holds thousands."""

    @cached_property
    def key(self) -> str:
        return surt_key(self.url)

BLOG_HOST = "democracyastray.blogspot.com"
BLOG_ID = "6412345678901234567"
WINDOW = (date(2012, 9, 11), date(2012, 12, 11))
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")

# Post kinds: what the recovery should make of them.
RECOVERABLE_KINDS = ("clear", "ambiguous-update", "ambiguous-duplicate", "short-lead", "late", "changed-text",
                     "unseen-section")
CLEAR, AMBIG_UPDATE, AMBIG_DUP, SHORT, LATE, CHANGED, UNSEEN, MISSING, UNKNOWN = (
    "clear", "ambiguous-update", "ambiguous-duplicate", "short-lead", "late", "changed-text", "unseen-section",
    "missing", "unknown-outlet")

ACTORS = ["Harper", "Mulcair", "Flaherty", "Kenney", "Baird", "Oliver", "Toews", "Clement", "Ambrose", "Redford",
          "McGuinty", "Marois", "Clark", "Trudeau", "Rae", "Page", "Fraser", "Spence", "Atleo", "Obama", "Romney",
          "Cameron", "Morsi", "Chavez", "Ashton", "Fantino", "MacKay", "Raitt", "Duncan", "Finley", "Ritz",
          "Poilievre", "Del Mastro", "Wallin", "Duffy", "Ignatieff", "Layton", "May", "Horwath", "Ford"]
ACTIONS = ["defends", "slams", "unveils", "scraps", "delays", "expands", "blocks", "backs", "questions", "rejects",
           "approves", "probes", "cuts", "freezes", "restores", "overhauls", "quietly changes", "fast-tracks",
           "warns against", "calls for", "abandons", "rewrites", "buries", "shelves"]
THINGS = ["pipeline review", "omnibus budget bill", "environmental assessment rules", "veterans benefits",
          "refugee health cuts", "prison farm closures", "fighter jet purchase", "census changes", "fisheries act",
          "navigable waters law", "Senate reform", "election fraud probe", "robocall investigation",
          "foreign takeover rules", "China investment treaty", "oil sands emissions", "Arctic sovereignty plan",
          "employment insurance overhaul", "pension age increase", "asbestos exports", "wheat board changes",
          "gun registry data", "crime bill costs", "lobbying rules", "information commissioner backlog",
          "climate research funding", "federal library closures", "tanker traffic plan", "Nexen takeover",
          "Idle No More protests", "reserve housing audit", "Kyoto withdrawal", "freshwater research station",
          "muzzled scientists", "temporary foreign workers", "drone program", "online surveillance bill",
          "student tuition hike", "food inspection failures", "beef recall", "military procurement mess",
          "shipbuilding contract", "aid agency merger", "charity audits", "mining accountability law"]
QUALIFIERS = ["amid criticism", "after damning report", "despite warnings", "in Commons showdown",
              "as deadline looms", "behind closed doors", "ahead of vote", "under pressure", "in rare move",
              "for second time", "after months of silence", "over First Nations objections", "in late-night sitting",
              "as protests grow", "before holiday break"]
# Sentences are assembled from short parts, so two articles rarely share a run of four words (as real
# articles on different stories rarely do), while every article keeps the same register.
SUBJECTS = ["critics", "officials", "two backbenchers", "the premier", "environmental groups", "union leaders",
            "several chiefs", "the budget officer", "senior bureaucrats", "business lobbyists", "legal scholars",
            "mayors", "former diplomats", "retired judges", "economists", "church groups", "student leaders",
            "fishermen", "farmers", "residents", "opposition MPs", "party insiders", "two senators", "auditors",
            "scientists", "teachers", "nurses", "veterans", "local councillors", "the commissioner", "lawyers",
            "analysts", "pollsters", "donors", "activists", "shipyard workers", "provincial ministers", "aides",
            "inspectors", "researchers"]
VERBS = ["warned", "argued", "conceded", "insisted", "revealed", "complained", "suggested", "acknowledged",
         "predicted", "demanded proof", "disclosed", "doubted", "testified", "claimed", "noted", "stressed",
         "hinted", "admitted", "alleged", "signalled", "confirmed", "denied", "recalled", "wrote",
         "told reporters", "told the committee", "told a rally", "said privately", "said Tuesday",
         "said in a statement"]
OBJECTS = ["the costs", "the deadline", "the review", "internal memos", "the watchdog", "new rules", "the contract",
           "federal scientists", "the treaty", "local hospitals", "the pension fund", "border guards", "the tender",
           "the briefing notes", "the database", "fishing quotas", "the tanker route", "water samples",
           "the audit", "cabinet documents", "the consultation", "the regulator", "rail inspectors",
           "the loan guarantee", "the lobbyist registry", "the ethics screen", "the bylaw", "the settlement",
           "the inquiry", "the ombudsman", "the reserve", "mining permits", "the emissions target",
           "the spending cap", "the hiring freeze", "the transfer payments", "the warship design",
           "the food safety plan", "the grain terminals", "the spy agency", "polling stations", "refugee claims",
           "the research vessel", "emergency funds", "the drug plan", "the court ruling", "hydro rates",
           "the seal hunt", "the northern allowance", "the aid budget", "the voters list", "the coast guard",
           "the wetlands", "the ferry service", "the gas plant", "the trade office", "the bridge tolls",
           "the hospital wait lists", "the museum", "the literacy program"]
PREDICATES = ["had doubled", "were ignored", "was rewritten", "were never tested", "would collapse", "was leaked",
              "had stalled", "was rushed", "were quietly dropped", "had been promised", "fell short",
              "went unanswered", "was overruled", "could be challenged", "had vanished", "was misread",
              "were shredded", "had been padded", "was delayed again", "were outsourced", "had cracked",
              "was never signed", "were lowered", "had been frozen", "was reopened", "were exaggerated",
              "was kept secret", "were cut twice", "had leaked", "was sold off", "were overbooked",
              "had been politicized", "was scaled back", "were contaminated", "had expired", "was reversed",
              "were understaffed", "had tripled", "was abandoned", "were mislabelled"]
TIMES = ["last spring", "in March", "since 2006", "this week", "on Friday", "before the summer", "two years ago",
         "after the election", "by December", "over the weekend", "in the fall sitting", "during question period",
         "at dawn", "by midnight", "within days", "last winter", "in early June", "since the byelection",
         "after the audit", "before Christmas", "in the previous budget", "at the convention", "overnight",
         "in committee", "in the dying days of the session"]
PLACES = ["in Ottawa", "in Vancouver", "in Toronto", "in Winnipeg", "in Halifax", "in Calgary", "in Montreal",
          "on Parliament Hill", "in Regina", "in Iqaluit", "in Fredericton", "in Thunder Bay", "in Saskatoon",
          "in Victoria", "in Sudbury", "in Moncton", "in Kamloops", "in Gatineau", "in Yellowknife", "in Quebec City"]
FIRST = ["Tonda", "Kady", "Glen", "Gloria", "Laura", "Mike", "Ivan", "Bruce", "Chantal", "Les", "Daniel", "Shawn",
         "Jennifer", "Susan", "Paul", "Andrew", "Heather", "Steven", "Marie", "Kathryn", "Joan", "Terry", "Lee",
         "Amanda", "Peter", "Rachel", "Jason", "Stephanie", "Tim", "Alison"]
LAST = ["MacCharles", "OMalley", "McGregor", "Galloway", "Payton", "DeSouza", "Semeniuk", "Campion-Smith",
        "Hebert", "Whittington", "Leblanc", "McCarthy", "Ditchburn", "Delacourt", "Wells", "Coyne", "Scoffield",
        "Chase", "Vanderklippe", "Curry", "Bryden", "Mayeda", "Kennedy", "Boutilier", "Clark", "Taber", "Fekete",
        "Whitington", "Smith", "Cheadle"]


@dataclass
class Article:
    outlet: str
    url: str
    headline: str
    author: str | None
    published: date
    paragraphs: list[str]
    section: str = ""

    def html(self, site: str) -> str:
        byline = f"<p class='byline'>By {html.escape(self.author)}</p>" if self.author else ""
        body = "".join(f"<p>{html.escape(p)}</p>" for p in self.paragraphs)
        return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(self.headline)} | "
                f"{html.escape(site)}</title></head><body><nav>News · Politics · World · Opinion · Business</nav>"
                f"<article><h1>{html.escape(self.headline)}</h1>{byline}{body}</article>"
                f"<footer>© {site}</footer></body></html>")


@dataclass
class WorldPost:
    number: int
    published: str  # ISO with the blog's offset
    title: str
    outlet: str
    author: str  # as the Author: line says ("--" for none)
    lead: list[str]
    href: str | None  # the href written into the post (None: no href attribute)
    kind: str  # a kind above, or "learning" for posts outside the window
    expected: str | None = None  # the article's URL (None when nothing should be found)
    equivalents: list[str] = field(default_factory=list)  # other URLs that are the same article
    live: str | None = None  # "alive", "moved" or None (dead now)

    @property
    def id(self) -> str:
        return f"tag:blogger.com,1999:blog-{BLOG_ID}.post-{self.number}"

    @property
    def day(self) -> date:
        return date.fromisoformat(self.published[:10])

    @property
    def in_window(self) -> bool:
        return WINDOW[0] <= self.day <= WINDOW[1]

    @property
    def recoverable(self) -> bool:
        return self.kind in RECOVERABLE_KINDS


# ---- outlets -----------------------------------------------------------------------------------------------

def _slugify(text: str, sep: str = "-", max_words: int = 8) -> str:
    words = "".join(c if c.isalnum() else " " for c in text.lower().replace("'", "")).split()
    return sep.join(words[:max_words])


@dataclass
class OutletSpec:
    name: str  # as written after Source:
    site: str  # shown in page titles
    sections: list[str]
    id_base: int = 0
    id_rate: float = 0.0

    def ident(self, day: date, rng: random.Random) -> int:
        days = (day - date(2011, 1, 1)).days
        return int(self.id_base + self.id_rate * days + rng.uniform(0, self.id_rate * 0.8))

    def host(self, day: date) -> str:
        raise NotImplementedError

    def url(self, headline: str, day: date, section: str, rng: random.Random) -> str:
        raise NotImplementedError


class Guardian(OutletSpec):
    def host(self, day: date) -> str:
        return "www.guardian.co.uk" if day < date(2013, 7, 30) else "www.theguardian.com"

    def url(self, headline, day, section, rng):
        return f"http://{self.host(day)}/{section}/{day.year}/{MONTHS[day.month - 1]}/{day.day:02d}/" \
               f"{_slugify(headline, max_words=6)}"


class Cbc(OutletSpec):
    def host(self, day):
        return "www.cbc.ca"

    def url(self, headline, day, section, rng):
        return f"http://www.cbc.ca/news/{section}/story/{day.year}/{day.month:02d}/{day.day:02d}/" \
               f"{'pol-' if section == 'politics' else ''}{_slugify(headline, max_words=5)}.html"


class Huff(OutletSpec):
    def host(self, day):
        return "www.huffingtonpost.ca"

    def url(self, headline, day, section, rng):
        return f"http://www.huffingtonpost.ca/{day.year}/{day.month:02d}/{day.day:02d}/" \
               f"{_slugify(headline, max_words=7)}_n_{self.ident(day, rng)}.html"


class Star(OutletSpec):
    def host(self, day):
        return "www.thestar.com"

    def url(self, headline, day, section, rng):
        if day >= date(2012, 12, 15):
            return f"http://www.thestar.com/news/{section}/{day.year}/{day.month:02d}/{day.day:02d}/" \
                   f"{_slugify(headline, '_', 6)}.html"
        return f"http://www.thestar.com/news/{section}/article/{self.ident(day, rng)}--{_slugify(headline, max_words=6)}"


class Globe(OutletSpec):
    def host(self, day):
        return "www.theglobeandmail.com"

    def url(self, headline, day, section, rng):
        return f"http://www.theglobeandmail.com/news/{section}/{_slugify(headline, max_words=6)}/" \
               f"article{self.ident(day, rng)}/"


class Bbc(OutletSpec):
    def host(self, day):
        return "www.bbc.co.uk"

    def url(self, headline, day, section, rng):
        return f"http://www.bbc.co.uk/news/{section}-{self.ident(day, rng)}"


class Citizen(OutletSpec):
    def host(self, day):
        return "www.ottawacitizen.com"

    def url(self, headline, day, section, rng):
        return f"http://www.ottawacitizen.com/news/{_slugify(headline, max_words=5)}/{self.ident(day, rng)}/story.html"


class NatPost(OutletSpec):
    def host(self, day):
        return "news.nationalpost.com"

    def url(self, headline, day, section, rng):
        return f"http://news.nationalpost.com/{day.year}/{day.month:02d}/{day.day:02d}/{_slugify(headline, max_words=7)}/"


OUTLETS: dict[str, OutletSpec] = {
    "theguardian": Guardian("theguardian", "guardian.co.uk", ["world", "politics", "environment", "commentisfree"]),
    "cbc": Cbc("cbc", "CBC News", ["politics", "canada", "technology"]),
    "huffingtonpost": Huff("huffingtonpost", "Huffington Post Canada", [""], 800_000, 2_500),
    "thestar": Star("thestar", "thestar.com", ["canada", "gta", "world"], 900_000, 350),
    "theglobeandmail": Globe("theglobeandmail", "The Globe and Mail", ["politics", "national", "world"],
                             1_800_000, 5_000),
    "bbc": Bbc("bbc", "BBC News", ["world-us-canada", "world-europe", "uk-politics"], 12_000_000, 9_000),
    "ottawacitizen": Citizen("ottawacitizen", "Ottawa Citizen", [""], 4_000_000, 4_000),
    "nationalpost": NatPost("nationalpost", "National Post", [""]),
}
# How often each outlet appears in the window (the National Post only there, an unknown outlet rarely).
WEIGHTS = {"theguardian": 20, "cbc": 15, "huffingtonpost": 14, "thestar": 12, "theglobeandmail": 12, "bbc": 10,
           "ottawacitizen": 8, "nationalpost": 6}


# ---- text --------------------------------------------------------------------------------------------------

class Writer:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used_titles: set[str] = set()

    def headline(self, thing: str | None = None) -> str:
        for _ in range(1000):
            parts = [self.rng.choice(ACTORS), self.rng.choice(ACTIONS), thing or self.rng.choice(THINGS),
                     self.rng.choice(QUALIFIERS)]
            title = " ".join(parts)
            title = title[0].upper() + title[1:]
            if title not in self.used_titles:
                self.used_titles.add(title)
                return title
        raise RuntimeError("ran out of headlines")

    def similar(self, headline: str) -> str:
        """Same topic, another story: a new actor, action and qualifier around the same subject."""
        thing = next((t for t in THINGS if t.lower() in headline.lower()), self.rng.choice(THINGS))
        return self.headline(thing)

    def clause(self) -> str:
        r = self.rng
        return f"{r.choice(OBJECTS)} {r.choice(PREDICATES)} {r.choice(TIMES)}"

    def sentence(self) -> str:
        r = self.rng
        subject = r.choice(SUBJECTS)
        return (f"{subject[0].upper()}{subject[1:]} {r.choice(PLACES)} {r.choice(VERBS)} that {self.clause()}, "
                f"while {r.choice(SUBJECTS)} {r.choice(VERBS)} that {r.randint(2, 98)} per cent of "
                f"{self.clause()}.")

    def paragraph(self, topic: str | None = None) -> str:
        opening = f"{topic}. " if topic else ""
        return opening + " ".join(self.sentence() for _ in range(self.rng.randint(1, 2)))

    def author(self) -> str:
        return f"{self.rng.choice(FIRST)} {self.rng.choice(LAST)}"


# ---- the world ---------------------------------------------------------------------------------------------

def _ts(when: datetime) -> str:
    return when.astimezone(timezone.utc).strftime("%Y%m%d%H%M%S")


def _at(day: date, hours: float) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=timezone.utc) + timedelta(hours=hours)


NULLIFIED_HREFS = [None, "", "#", f"http://{BLOG_HOST}/", "javascript:void(0)", "http://democracyastray.blogspot.ca/"]


class RecoveryWorld:
    """Posts, the Blogger export, the archive and the live web of one seed."""

    def __init__(self, window_posts: int = 40, seed: int = 2012, filler_per_month: int = 12,
                 filler_per_week: int = 10, archive: SimulatedArchive | None = None) -> None:
        self.rng = random.Random(seed)
        self.writer = Writer(self.rng)
        self.archive = archive or SimulatedArchive()  # pass one with limits and a clock to measure pacing
        self.web = SimulatedWeb()
        self.posts: list[WorldPost] = []
        self.articles: list[Article] = []
        self._number = 1000
        self._learning_posts()
        self._window_posts(window_posts)
        self._filler(filler_per_month, filler_per_week)
        self._check()

    def _check(self) -> None:
        # A decoy landing on a lost article's URL would make the expected answers wrong: refuse such a seed.
        captured = {c.key for c in self.archive.captures if c.status == 200 and not c.revisit}
        for post in self.window:
            if post.expected and (surt_key(post.expected) in captured) != (post.kind != MISSING):
                raise RuntimeError(f"world seed collision at {post.expected} ({post.kind})")

    # -- helpers

    def _next_number(self) -> int:
        self._number += 1
        return self._number

    def _article(self, outlet: str, day: date, headline: str | None = None, author: str | None = None,
                 paragraphs: list[str] | None = None, section: str | None = None) -> Article:
        spec = OUTLETS[outlet]
        headline = headline or self.writer.headline()
        section = self.rng.choice(spec.sections) if section is None else section
        paragraphs = paragraphs or [self.writer.paragraph(headline)] + [self.writer.paragraph() for _ in range(4)]
        article = Article(outlet, spec.url(headline, day, section, self.rng), headline, author, day, paragraphs, section)
        self.articles.append(article)
        return article

    def _capture(self, article: Article, hours_after: float, **fields) -> Capture:
        site = OUTLETS[article.outlet].site
        return self.archive.add(Capture(article.url, _ts(_at(article.published, hours_after)),
                                        body=article.html(site), **fields))

    # -- posts outside the window: what the recovery learns from

    def _learning_posts(self) -> None:
        days = [date(2011, 6, 3) + timedelta(days=int(i * 1180 / 7)) for i in range(8)]  # 2011-06 .. 2014-08
        for outlet in OUTLETS:
            if outlet == "nationalpost":
                continue  # only the outlets file knows it
            for day in days:
                if WINDOW[0] - timedelta(days=10) <= day <= WINDOW[1] + timedelta(days=10):
                    day = WINDOW[1] + timedelta(days=15)  # outside the window: these links still work
                author = self.writer.author()
                article = self._article(outlet, day, author=author)
                self.posts.append(WorldPost(self._next_number(), f"{day}T10:00:00.000-04:00", article.headline,
                                            outlet, author, article.paragraphs[:2], article.url, "learning",
                                            expected=article.url))

    # -- the window

    def _kinds(self, n: int) -> list[str]:
        special = [AMBIG_UPDATE, AMBIG_DUP, SHORT, LATE, CHANGED, UNSEEN, MISSING, MISSING, UNKNOWN]
        scale = max(1, n // 40)
        kinds = [k for k in special for _ in range(scale)]
        kinds += [CLEAR] * max(0, n - len(kinds))
        self.rng.shuffle(kinds)
        return kinds[:n]

    def _window_posts(self, n: int) -> None:
        span = (WINDOW[1] - WINDOW[0]).days
        outlets = [o for o, w in WEIGHTS.items() for _ in range(w)]
        for i, kind in enumerate(self._kinds(n)):
            day = WINDOW[0] + timedelta(days=int(i * span / max(1, n - 1)))
            outlet = "obscurezine" if kind == UNKNOWN else self.rng.choice(outlets)
            if kind in (AMBIG_DUP,) and outlet not in ("cbc", "theguardian"):
                outlet = "cbc"
            if kind == UNSEEN:
                outlet = "theguardian"
            self._window_post(day, outlet, kind)

    def _window_post(self, day: date, outlet: str, kind: str) -> None:
        rng, writer = self.rng, self.writer
        offset = 20 if kind == LATE else rng.choice([0, 0, 0, 1, 1, 2, 3, 5])
        published = day - timedelta(days=offset)
        author = writer.author() if rng.random() < 0.75 else None
        number = self._next_number()
        href = NULLIFIED_HREFS[number % len(NULLIFIED_HREFS)]
        stamp = f"{day}T{rng.randint(6, 22):02d}:{rng.choice(['05', '20', '35', '50'])}:00.000-0{4 if day.month < 11 else 5}:00"
        if kind == UNKNOWN:
            headline = writer.headline()
            paragraphs = [writer.paragraph(headline), writer.paragraph()]
            self.posts.append(WorldPost(number, stamp, headline, "obscurezine", author or "--", paragraphs, href, kind))
            return
        spec = OUTLETS[outlet]
        # "media": a section no post outside the window links to, and the outlets file does not name.
        article = self._article(outlet, published, author=author, section="media" if kind == UNSEEN else None)
        lead = article.paragraphs[:rng.choice([2, 2, 3])]
        if kind == SHORT:
            lead = [" ".join(article.paragraphs[0].split()[:12])]
        post = WorldPost(number, stamp, article.headline, outlet, author or "--", lead, href, kind,
                         expected=article.url)
        self.posts.append(post)
        hours = rng.uniform(1, 30)
        if kind != MISSING:
            if kind == CHANGED:
                # Captured only after the outlet rewrote the lead: half the text the post reproduces is gone.
                changed = Article(outlet, article.url, article.headline, author, published,
                                  [article.paragraphs[0], writer.paragraph()] + article.paragraphs[2:], article.section)
                self.archive.add(Capture(article.url, _ts(_at(published, hours)), body=changed.html(spec.site)))
            else:
                self._capture(article, hours)
            # Later captures: a revisit, and after a redesign a redirect or a 404.
            self._capture(article, hours + 24 * rng.randint(30, 200), revisit=True)
            self.archive.add(Capture(article.url, _ts(_at(published, 24 * 700)), status=rng.choice([301, 404]),
                                     redirect_to="/", body=b"moved"))
            # A tracking-parameter variant that redirected to the article.
            self.archive.add(Capture(article.url + "?CMP=twt_gu", _ts(_at(published, hours + 2)), status=301,
                                     redirect_to=article.url))
        # Its fate on the live web today.
        fate = rng.random()
        if isinstance(spec, Guardian) and fate < 0.6:
            new = article.url.replace("www.guardian.co.uk", "www.theguardian.com")
            self.web.add(article.url, Page(status=301, location=new))
            self.web.add(new, Page(body=article.html("theguardian.com")))
            post.live = "moved"
        elif fate < 0.35:
            self.web.add(article.url, Page(body=article.html(spec.site)))
            post.live = "alive"
        self._decoys(post, article, kind, hours)

    def _decoys(self, post: WorldPost, article: Article, kind: str, hours: float) -> None:
        rng, writer = self.rng, self.writer
        outlet, day, spec = article.outlet, article.published, OUTLETS[article.outlet]
        # Same day, same section, a slug sharing words with the headline.
        for _ in range(rng.randint(2, 4)):
            similar = self._article(outlet, day + timedelta(days=rng.choice([0, 0, -1, 1])),
                                    headline=writer.similar(article.headline), author=writer.author(),
                                    section=article.section)
            self._capture(similar, rng.uniform(1, 40))
        # An updated version of the story under a later URL.
        if kind == AMBIG_UPDATE or (kind != CHANGED and rng.random() < 0.4):
            # A new headline around the old one (so a new slug, even where slugs keep only the first words).
            headline = rng.choice(["Pressure mounts as", "New questions as", "Fallout grows as"]) + " " + \
                article.headline.rsplit(" ", 2)[0]
            if kind == AMBIG_UPDATE:
                # The update keeps the whole lead under a new first paragraph: text alone cannot tell them apart.
                paragraphs = [writer.paragraph()] + post.lead + article.paragraphs[len(post.lead):]
            else:
                paragraphs = [writer.paragraph(headline)] + article.paragraphs[1:]
            update = self._article(outlet, day, headline=headline, author=article.author, paragraphs=paragraphs,
                                   section=article.section)
            self._capture(update, hours + rng.uniform(3, 20))
        # The same article published twice by the outlet (another section, same text).
        if kind == AMBIG_DUP:
            other = next(s for s in spec.sections if s != article.section)
            twin = Article(outlet, spec.url(article.headline, day, other, rng), article.headline, article.author,
                           day, article.paragraphs, other)
            self.articles.append(twin)
            self._capture(twin, hours + 1)
            post.equivalents.append(twin.url)
        # A live blog quoting the first paragraph.
        if rng.random() < 0.35:
            entries = [writer.paragraph() for _ in range(6)]
            entries.insert(3, article.paragraphs[0])
            live = self._article(outlet, day, headline="Live: " + article.headline.rsplit(" ", 2)[0],
                                 author=writer.author(), paragraphs=entries, section=article.section)
            self._capture(live, hours + 5)
        # Another outlet's copy (wire story): the same text under that outlet's URL.
        if rng.random() < 0.3:
            other = rng.choice([o for o in OUTLETS if o != outlet])
            copy = self._article(other, day, headline=article.headline, author=article.author,
                                 paragraphs=article.paragraphs)
            self._capture(copy, hours + 3)
        # A section front or day index listing the headline and first sentence, and an RSS feed.
        blurb = article.paragraphs[0].split(". ")[0] + "."
        index_html = (f"<html><head><title>{html.escape(spec.site)} - latest</title></head><body><ul>"
                      f"<li><a href='{article.url}'>{html.escape(article.headline)}</a> {html.escape(blurb)} "
                      f"By {html.escape(article.author or 'staff')}</li></ul></body></html>")
        if isinstance(spec, Guardian):
            index_url = f"http://{spec.host(day)}/{article.section}/{day.year}/{MONTHS[day.month - 1]}/{day.day:02d}"
        elif isinstance(spec, (Cbc, Huff, NatPost)):
            index_url = article.url.rsplit("/", 1)[0] + "/" if not article.url.endswith("/") else \
                article.url.rstrip("/").rsplit("/", 1)[0] + "/"
        else:
            index_url = f"http://{spec.host(day)}/news/{article.section or 'canada'}/"
        self.archive.add(Capture(index_url, _ts(_at(day, hours + 1)), body=index_html))
        self.archive.add(Capture(article.url.rstrip("/") + "/rss", _ts(_at(day, hours + 2)),
                                 mimetype="application/rss+xml", body="<rss/>"))

    def _filler(self, per_month: int, per_week: int) -> None:
        """The outlets' other articles around the window, and old articles captured again."""
        rng = self.rng
        start, end = WINDOW[0] - timedelta(days=30), WINDOW[1] + timedelta(days=10)
        for outlet, spec in OUTLETS.items():
            dated = isinstance(spec, (Guardian, Cbc, Huff, NatPost))
            per_day = (per_month * len(spec.sections)) / 30 if dated else per_week / 7
            day = start
            while day <= end:
                for _ in range(int(per_day) + (rng.random() < per_day % 1)):
                    article = self._article(outlet, day, author=self.writer.author())
                    self._capture(article, rng.uniform(0, 48))
                if not dated and rng.random() < 0.5:
                    old = self._article(outlet, day - timedelta(days=rng.randint(200, 600)), author=self.writer.author())
                    self.archive.add(Capture(old.url, _ts(_at(day, rng.uniform(0, 24))),
                                             body=old.html(spec.site)))
                day += timedelta(days=1)

    # -- what the tests read

    @property
    def window(self) -> list[WorldPost]:
        return [p for p in self.posts if p.in_window]

    def post_html(self, post: WorldPost) -> str:
        lead = "".join(f"<p>{html.escape(p)}</p>" for p in post.lead)
        anchor = "<a>Original Article</a>" if post.href is None else \
            f'<a href="{html.escape(post.href)}">Original Article</a>'
        return f"{lead}{anchor}<br />\nSource: {html.escape(post.outlet)}<br />\nAuthor: {html.escape(post.author)}"

    def export_text(self) -> str:
        """A legacy Blogger export of every post."""
        tag = f"tag:blogger.com,1999:blog-{BLOG_ID}"
        out = ["<?xml version='1.0' encoding='UTF-8'?>"
               "<feed xmlns='http://www.w3.org/2005/Atom' xmlns:thr='http://purl.org/syndication/thread/1.0'>"
               f"<id>{tag}.archive</id><updated>2014-10-23T07:40:00.000-04:00</updated>"
               "<title type='text'>Democracy Gone Astray</title>"
               f"<link rel='alternate' type='text/html' href='http://{BLOG_HOST}/'/>\n"]
        for post in sorted(self.posts, key=lambda p: p.number):
            slug = _slugify(post.title, max_words=6)
            out.append(
                f"<entry><id>{post.id}</id><published>{post.published}</published><updated>{post.published}</updated>"
                "<category scheme='http://schemas.google.com/g/2005#kind' "
                "term='http://schemas.google.com/blogger/2008/kind#post'/>"
                f"<link rel='alternate' type='text/html' href='http://{BLOG_HOST}/{post.published[:4]}/"
                f"{post.published[5:7]}/{slug}.html'/>"
                f"<title type='text'>{html.escape(post.title, quote=False)}</title>"
                f"<content type='html'>{html.escape(self.post_html(post), quote=False)}</content>"
                "<author><name>Democracy Gone Astray</name></author></entry>\n")
        out.append("</feed>\n")
        return "".join(out)
