"""The outlet map: for each outlet name (a post's `Source:` line), the domains its working Original Article
links point at in posts outside the nullified window, each with its era (first and last post linking to it)
and its URL shape (date in the path and in which format, the section prefixes before the date, whether slugs
come from the headline, and the article ids its links carry, which anchor the domain's id clock).
`data/outlets.toml`, merged with the file the `outlets_file` setting names, adds outlets the blog never linked
elsewhere, aliases and date paths."""

from __future__ import annotations

import re
import tomllib
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from importlib import resources
from pathlib import Path
from typing import Any, Iterable
from urllib.parse import urlsplit

from linkkeeper import store
from linkkeeper.settings import Settings, SettingsError
from linkkeeper.text.dates import local_date
from linkkeeper.text.urls import MONTH_NAMES, host_key, parse_dated_path, slug_words
from linkkeeper.text.words import content_words, fold, outlet_key

SHIPPED_OUTLETS = "outlets.toml"

# A domain is "of the post's era" when the blog linked it within this many days of the post.
ERA_MARGIN_DAYS = 120
# URL shapes are read from the links closest in time: outlets redesign their URLs (the Star, Dec 2012).
SHAPE_ERA_DAYS = 270
MAX_DOMAINS = 2
# Second-level labels under which a registrable domain has three labels (guardian.co.uk, pm.gc.ca).
_SECOND_LEVEL = frozenset({"co", "com", "org", "net", "gov", "ac", "edu", "gc", "ltd", "plc"})
# A domain's slugs name its stories when, on average, this share of a slug's words is in the linking post.
INFORMATIVE_SLUGS = 0.2
MAX_SECTIONS = 8

# Link shorteners and feed redirectors say nothing about where an outlet publishes.
REDIRECTOR_HOSTS = frozenset({
    "feedproxy.google.com", "feeds.feedburner.com", "feeds.reuters.com", "rss.cnn.com", "news.google.com",
    "www.google.com", "google.com", "bit.ly", "t.co", "ow.ly", "goo.gl", "tinyurl.com", "dlvr.it", "is.gd",
    "l.facebook.com", "www.facebook.com", "twitter.com", "web.archive.org", "archive.org",
})


def registrable_domain(host: str) -> str:
    """The domain a site's hosts share: `blogs.ottawacitizen.com` -> `ottawacitizen.com`,
    `www.guardian.co.uk` -> `guardian.co.uk`."""
    labels = [label for label in host.lower().rstrip(".").split(".") if label]
    if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in _SECOND_LEVEL:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def names_author(path: str, author: str | None) -> bool:
    """Whether a path segment before the last one holds a writer's first and last name (`patrick-holmes`):
    two name words of the author line, of four letters or more... or of any length for the first. One word
    alone is not enough: `Postmedia News` would name every `/news/` path."""
    names = [w for w in re.findall(r"[a-z]+", fold(author or "")) if len(w) >= 2]
    pairs = {(a, b) for a, b in zip(names, names[1:]) if len(b) >= 4}
    for segment in [seg for seg in path.lower().split("/") if seg][:-1]:
        words = re.findall(r"[a-z]+", segment)
        if any(pair in pairs for pair in zip(words, words[1:])):
            return True
    return False


# Words of a byline that name an agency or a desk, not a writer (`The Canadian Press`, `Postmedia News`).
_NOT_A_WRITER = frozenset({"press", "news", "agency", "reuters", "associated", "staff", "wire", "service", "bureau",
                           "qmi", "afp", "postmedia", "editorial", "board"})


def _writer_templates(value: Any, origin: str, name: str) -> list[str]:
    """`writer_pages` of the outlets file: true/false, or a list of writer's-page shapes (checked here)."""
    if isinstance(value, bool):
        return []
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        raise RecoveryConfigError(f"{origin}: outlet {name!r}: writer_pages must be true, false or a list of paths")
    for template in value:
        fields = set(re.findall(r"\{(\w+)\}", template))
        if not template.startswith("/") or not {"writer", "slug"} <= fields or \
                fields - {"writer", "slug", "id", "yyyy", "mm", "dd"}:
            raise RecoveryConfigError(f"{origin}: outlet {name!r}: writer page {template!r} must be a path holding "
                                      "{writer} and {slug} (and only {id}, {yyyy}, {mm}, {dd} besides)")
    return list(value)


def author_slug(author: str | None) -> str | None:
    """The first writer of an Author: line as outlets put a name in a URL (`Patrick Holmes` ->
    `patrick-holmes`); None for a wire service or a missing line."""
    first = re.split(r",|\band\b|&", fold(author or ""))[0]
    words = re.findall(r"[a-z]+", first)
    if not 2 <= len(words) <= 4 or _NOT_A_WRITER & set(words):
        return None
    return "-".join(words)


# Where outlets commonly file a column or a contributor's piece under the writer's name, beside its news URL
# (`/columns/patrick-holmes/some-slug/`). Tried on the live web before an approval (or on one held by another
# rule) of an outlet with no known writer-page shape: an outlet's column shape is often nowhere in the blog or
# the archive (the column URL the blogger linked may never have been captured, and the blog may link no other
# column).
COMMON_WRITER_PAGES = ("/columns/{writer}/{slug}/", "/authors/{writer}/{slug}/", "/blogs/{writer}/{slug}/")


def author_twin_possible(author: str | None, url: str, profiles: Iterable[DomainProfile]) -> bool:
    """The outlet files articles under their writers' names too (`DomainProfile.author_pages`), the post names
    its author, and the recovered URL is not such a page: the writer's copy may be the one linked."""
    if not author or names_author(urlsplit(url).path or "/", author):
        return False
    return any(profile.author_pages() for profile in profiles)


def other_article_host(profiles: Iterable[DomainProfile], url: str, when: date) -> str | None:
    """Another host of the found page's domain that the blog linked articles on within ERA_MARGIN_DAYS of
    `when` (`blogs.ottawacitizen.com` beside `www.ottawacitizen.com`): an outlet publishing on two hosts at
    once may have had the article on both, and the blogger may have linked the copy the archive never
    captured. None where the blog used no other host of the domain then."""
    found = host_key(urlsplit(url).hostname or "")
    for profile in sorted(profiles, key=lambda p: p.host_key):
        if profile.host_key != found and registrable_domain(profile.host_key) == registrable_domain(found) and \
                any(link.when and abs((link.when - when).days) <= ERA_MARGIN_DAYS for link in profile.links):
            return profile.host
    return None


def common_writer_page_urls(article_url: str, author: str | None) -> list[str]:
    """The article's addresses in the common writer-page shapes (COMMON_WRITER_PAGES) on its own host: the
    first writer's name and the article's slug. Empty for a wire byline or a URL without a slug, and where
    the URL already names the writer."""
    parts = urlsplit(article_url)
    writer = author_slug(author)
    found = _slug_segment(parts.path or "/")
    if not writer or found is None or not parts.hostname or names_author(parts.path or "/", author):
        return []
    return [f"{parts.scheme or 'http'}://{parts.hostname}" + t.format(writer=writer, slug=found[0])
            for t in COMMON_WRITER_PAGES]


# A slug of three words or more in a path segment.
_SLUG = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+){2,}")


def _slug_segment(path: str) -> tuple[str, str] | None:
    """(the hyphenated slug, the article id after it or "") of a path's last segment that holds a slug of
    three words or more: `marshall-it-is-a-cynical-move_n_2246554.html` -> (`marshall-it-is-a-cynical-move`,
    `2246554`)."""
    for segment in reversed([seg for seg in path.split("/") if seg]):
        match = _SLUG.search(segment.lower())
        if match:
            ident = re.search(r"\d{5,}", segment[match.end():])
            return match.group(0), ident.group(0) if ident else ""
    return None


def id_section(path: str) -> tuple[str, str, str] | None:
    """(section, the rest from the slug on, the rest's shape) of an undated path whose slug comes with an
    article id the outlet routes by: `/news/world/some-slug/article5810048/` -> (`/news/world/`,
    `some-slug/article5810048/`, `{slug}/article{id}/`); `/business/article/1258148--some-slug` ->
    (`/business/article/`, `1258148--some-slug`, `{id}--{slug}`). None without a section, a slug or an id."""
    if parse_dated_path(path) is not None:
        return None
    segments = path.split("/")
    for i in range(len(segments) - 1, 0, -1):
        match = _SLUG.search(segments[i].lower())
        if match is None:
            continue
        rest = "/".join(segments[i:])
        shape = re.sub(r"\d{5,}", "{id}", rest[:match.start()]) + "{slug}" + re.sub(r"\d{5,}", "{id}", rest[match.end():])
        if i == 1 or "{id}" not in shape:
            return None
        return "/".join(segments[:i]) + "/", rest, shape
    return None


def _abbreviates(word: str, section: str) -> bool:
    """Whether a slug's first word names its section: a word of the section's path begun by it (`pol` of
    `/news/politics/story/`, `north` of `/news/canada/north/story/`) or a hyphenated folder's initials (`bc` of
    `british-columbia`)."""
    if len(word) < 2:
        return False
    for folder in (f for f in section.lower().split("/") if f):
        parts = folder.split("-")
        if any(part.startswith(word) for part in parts) or (len(parts) > 1 and "".join(p[0] for p in parts) == word):
            return True
    return False


def _section_tag(rest: str, section: str) -> str | None:
    first = re.match(r"([a-z]+)-", rest.lower())
    return first.group(1) if first and _abbreviates(first.group(1), section) else None


class RecoveryConfigError(SettingsError):
    """The outlets file cannot be used; the message names the file."""


@dataclass
class LearnedLink:
    path: str
    when: date | None  # the linking post's date (None for a date path from the outlets file)
    title: str = ""
    query: str = ""  # Postmedia's `id=7303160`: the article's id lives there
    text: str = ""  # the lead the linking post reproduces
    author: str = ""  # the linking post's Author: line


@dataclass
class DomainProfile:
    """What the blog's links (and the outlets file) say about one domain of one outlet."""

    host_key: str
    spellings: Counter = field(default_factory=Counter)
    links: list[LearnedLink] = field(default_factory=list)
    hints: list[tuple[str, str]] = field(default_factory=list)  # (prefix, fmt) from the outlets file
    writer_pages: bool = False  # the outlets file says it files articles under writers' names too
    writer_templates: list[str] = field(default_factory=list)  # and where: `/{writer}/{slug}_b_{id}.html`
    file_rank: int | None = None  # position in the outlets file's domain list
    _memo: dict = field(default_factory=dict, repr=False)

    @property
    def host(self) -> str:
        return self.spellings.most_common(1)[0][0] if self.spellings else self.host_key

    @property
    def count(self) -> int:
        return len(self.links)

    def era(self) -> tuple[date, date] | None:
        dates = sorted(link.when for link in self.links if link.when)
        return (dates[0], dates[-1]) if dates else None

    def era_distance(self, when: date) -> int | None:
        """0 when the blog linked this domain around `when`, else days to the nearest link; None if never."""
        era = self.era()
        if era is None:
            return None
        first, last = era
        margin = timedelta(days=ERA_MARGIN_DAYS)
        if first - margin <= when <= last + margin:
            return 0
        return min(abs((when - first).days), abs((when - last).days))

    def _near(self, when: date) -> list[LearnedLink]:
        dated = [link for link in self.links if link.when]
        near = [link for link in dated if abs((link.when - when).days) <= SHAPE_ERA_DAYS]
        return near or sorted(dated, key=lambda link: abs((link.when - when).days))[:3]

    def shapes(self, when: date) -> tuple[list[tuple[str, str]], bool]:
        """(dated shapes as (section prefix, format), most used first; whether undated paths are in use)
        around `when`."""
        near = self._near(when)
        fmts = {d.fmt for link in near if (d := parse_dated_path(link.path))}
        counts = Counter((d.prefix, d.fmt) for link in self.links
                         if (d := parse_dated_path(link.path)) and d.fmt in fmts)
        dated = [shape for shape, _ in counts.most_common()]
        dated += [hint for hint in self.hints if hint not in dated]
        undated = any(parse_dated_path(link.path) is None for link in near) or (not near and not self.hints)
        return dated[:MAX_SECTIONS], undated

    def slug_title_ratio(self) -> float | None:
        """How much of a slug the linking post explains (its headline and the text it reproduces: a slug is
        often cut from an earlier headline, whose words the story's lead still holds), on average over the
        blog's links."""
        if "slug_ratio" not in self._memo:
            ratios = []
            for link in self.links:
                words = set(content_words(link.title)) | set(content_words(link.text))
                if not words:
                    continue
                dated = parse_dated_path(link.path)
                slug = set((slug_words(dated.rest) if dated else []) or slug_words(link.path))
                ratios.append(len(slug & words) / len(slug) if slug else 0.0)
            self._memo["slug_ratio"] = round(sum(ratios) / len(ratios), 3) if ratios else None
        return self._memo["slug_ratio"]

    def slug_informative(self) -> bool:
        ratio = self.slug_title_ratio()
        return True if ratio is None else ratio >= INFORMATIVE_SLUGS

    def author_pages(self) -> bool:
        """Whether the domain also files articles under their writer's name (`/samuel-mcgregor/slug_b_1`,
        `/blogs/bloggers/patrick-holmes/...`, `/authors/david-doherty/slug/`): a blog link whose path, before
        its last segment, names the linking post's author. Such an outlet often runs one text on a news URL
        and on the writer's page, and the one the blogger linked may never have been captured."""
        if "author_pages" not in self._memo:
            self._memo["author_pages"] = self.writer_pages or any(names_author(link.path, link.author)
                                                                  for link in self.links)
        return self._memo["author_pages"]

    def writer_page_url(self, article_url: str, author: str | None, when: date | None) -> str | None:
        """Where the outlet would have filed `article_url` under its writer's name, read off the blog's own
        links to writers' pages of this domain (`/blogs/bloggers/patrick-holmes/2012/09/slug`,
        `/authors/david-doherty/slug/`, `/samuel-mcgregor/slug_b_2246554.html`), else off the outlets file's
        shapes (`writer_templates`): the writer's name, the article's slug and id and its date put where such
        a page has them. None when neither gives a shape, the byline names no writer, or the article's URL
        has no slug (or not the id the shape needs)."""
        writer = author_slug(author)
        found = _slug_segment(urlsplit(article_url).path or "/")
        if not writer or found is None:
            return None
        slug, ident = found
        for link in self.links:
            if not names_author(link.path, link.author):
                continue
            segments = link.path.split("/")
            named = [i for i, seg in enumerate(segments[:-1]) if names_author(f"/{seg}/x", link.author)]
            own = _slug_segment(link.path)
            if not named or own is None:
                continue
            out = []
            for i, seg in enumerate(segments):
                if i == named[0]:
                    seg = writer
                elif re.fullmatch(r"(?:19|20)\d{2}", seg) and when:
                    seg = f"{when:%Y}"
                elif re.fullmatch(r"\d{2}", seg) and when and out and re.fullmatch(r"(?:19|20)\d{2}", out[-1]):
                    seg = f"{when:%m}"
                elif re.fullmatch(r"\d{2}", seg) and when and len(out) >= 2 and re.fullmatch(r"\d{2}", out[-1]):
                    seg = f"{when:%d}"
                elif own[0] in seg:
                    seg = seg.replace(own[0], slug, 1)
                    if own[1] and own[1] in seg:
                        if not ident:
                            return None  # the writer's pages carry an id the article's URL does not give
                        seg = seg.replace(own[1], ident)
                out.append(seg)
            return f"http://{self.host}{'/'.join(out)}"
        for template in self.writer_templates:
            values = {"writer": writer, "slug": slug, "id": ident,
                      **({"yyyy": f"{when:%Y}", "mm": f"{when:%m}", "dd": f"{when:%d}"} if when else {})}
            if all(values.get(name) for name in re.findall(r"\{(\w+)\}", template)):
                return f"http://{self.host}" + template.format(**values)
        return None

    def news_page_url(self, writer_url: str, author: str | None, when: date | None) -> str | None:
        """Where the outlet's news pages would have the article of a writer's page (`/authors/sandra-kowalski/
        employment-insurance-changes/`, a page whose path names the post's author), read off the blog's own
        links of this domain to dated news pages (`/2012/09/25/some-slug/`, or rabble.ca's `/news/2012/11/
        some-slug`, a month's): the writer's slug put after the date `when`. None when the page does not name
        the writer, carries an id (which no news URL would share), `when` is unknown, or the blog links no
        dated page of the domain with the slug right after its date."""
        path = urlsplit(writer_url).path or "/"
        found = _slug_segment(path)
        if when is None or found is None or found[1] or not names_author(path, author):
            return None
        slug = found[0]
        for link in self._near(when):
            dated = parse_dated_path(link.path)
            own = _slug_segment(link.path)
            if dated is None or own is None or own[1] or names_author(link.path, link.author):
                continue
            if not dated.rest.startswith(own[0]):
                continue  # a folder (an id, a section) between the date and the slug: not to be guessed
            month = f"{when:%m}" if "mm" in dated.fmt else MONTH_NAMES[when.month - 1]
            day = f"{when:%d}/" if dated.day_known else ""
            return f"http://{self.host}{dated.prefix}{when:%Y}/{month}/{day}{slug}{dated.rest[len(own[0]):]}"
        return None

    def links_news_pages(self, when: date) -> bool:
        """Whether the blog links this domain's dated news pages (a date in the path, no writer named) around
        `when`: the outlet had such a page for an article the found writer's page also carries, at an address
        no shape may build (`news_page_url`)."""
        return any(parse_dated_path(link.path) is not None and not names_author(link.path, link.author)
                   for link in self._near(when))

    def section_tags(self) -> dict[str, str]:
        """The word the outlet puts before its slugs in a dated section (CBC's `pol-`, `bc-`, `ottawa-`), read off
        the blog's links: the first word of most of the section's slugs, where it names the section."""
        firsts: dict[str, list[str | None]] = {}
        for link in self.links:
            dated = parse_dated_path(link.path)
            if dated is not None and dated.prefix != "/":
                firsts.setdefault(dated.prefix, []).append(_section_tag(dated.rest, dated.prefix))
        tags = {}
        for section, words in firsts.items():
            word, n = Counter(words).most_common(1)[0]
            if word and 2 * n > len(words):
                tags[section] = word
        return tags

    def section_addresses(self, url: str) -> list[str]:
        """The page's address in each other section the blog's links (and the outlets file) give the domain,
        where an outlet may have filed the same article: `/world/2012/oct/14/slug` beside `/commentisfree/2012/
        oct/14/slug`; `/news/world/slug/article5810048/` beside `/report-on-business/economy/slug/article5810048/`
        (an id the outlet routes by); with the section's word before the slug where the outlet puts one
        (`/news/technology/story/2012/09/18/tech-slug.html` beside `/news/canada/ottawa/story/2012/09/18/
        ottawa-slug.html`). Writers' pages are not sections."""
        parts = urlsplit(url)
        path = parts.path or "/"
        base = f"{parts.scheme}://{parts.netloc}"
        dated = parse_dated_path(path)
        if dated is not None:
            if not dated.day_known or dated.prefix == "/":
                return []
            tags = self.section_tags()
            middle = path[len(dated.prefix):len(path) - len(dated.rest)]
            slug = dated.rest
            own = tags.get(dated.prefix) or _section_tag(slug, dated.prefix)
            if own and slug.lower().startswith(own + "-"):
                slug = slug[len(own) + 1:]
            # Every section the outlet is known by (`shapes`: eight at most): the blog links some far more than
            # others, and the article's other one may be any of them.
            return [base + prefix + middle + (f"{tags[prefix]}-" if prefix in tags else "") + slug
                    for prefix, fmt in self.shapes(dated.date)[0] if fmt == dated.fmt and prefix not in ("/", dated.prefix)]
        found = id_section(path)
        if found is None:
            return []
        sections = Counter(other[0] for link in self.links
                           if (other := id_section(link.path)) and other[2] == found[2] and other[0] != found[0]
                           and not names_author(link.path, link.author))
        return [base + section + found[1] for section, _ in sections.most_common(MAX_SECTIONS)]

    def id_anchors(self) -> list[tuple[str, date]]:
        """(URL, date of the post linking it) for every link of the domain: each says its article existed by
        then, which the id clock (idclock.py) reads as a bound on the ids below it."""
        return [(f"http://{self.host}{link.path}" + (f"?{link.query}" if link.query else ""), link.when)
                for link in self.links if link.when]


@dataclass
class Outlet:
    """One outlet (its names folded by outlet_key) and the domains it publishes on."""

    key: str
    domains: dict[str, DomainProfile] = field(default_factory=dict)

    def domain(self, host: str) -> DomainProfile:
        key = host_key(host)
        profile = self.domains.get(key)
        if profile is None:
            profile = self.domains[key] = DomainProfile(key)
        profile.spellings[host.lower()] += 0  # known spelling, even when only the file names it
        return profile


class OutletMap:
    """Outlet name -> its domains, learned from the blog and completed by the outlets file."""

    def __init__(self) -> None:
        self.outlets: dict[str, Outlet] = {}
        self.aliases: dict[str, str] = {}

    def _key(self, name: str | None) -> str:
        key = outlet_key(name)
        return self.aliases.get(key, key)

    def outlet(self, name: str) -> Outlet:
        key = self._key(name)
        if key not in self.outlets:
            self.outlets[key] = Outlet(key)
        return self.outlets[key]

    def lookup(self, name: str | None) -> Outlet | None:
        key = self._key(name)
        if not key:
            return None
        found = self.outlets.get(key)
        if found is None and key.startswith("the"):
            found = self.outlets.get(self.aliases.get(key[3:], key[3:]))
        return found

    def add_link(self, outlet_name: str | None, url: str, when: date | None, title: str = "", text: str = "",
                 author: str = "") -> None:
        if not outlet_key(outlet_name):
            return
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        if not host or host in REDIRECTOR_HOSTS or host_key(host) in REDIRECTOR_HOSTS:
            return
        outlet = self.outlet(outlet_name)
        profile = outlet.domain(host)
        profile.spellings[host] += 1
        profile.links.append(LearnedLink(parts.path or "/", when, title, parts.query, text, author))
        profile._memo.clear()

    def merge_by_domain(self) -> None:
        """One outlet per site: the names the blog writes for one outlet ("The Globe and Mail",
        "globeandmail", "theglobeandmail.com") are merged when their links mostly lead to the same domain,
        into the name with the most links (the others become its aliases)."""
        by_home: dict[str, list[Outlet]] = {}
        for outlet in self.outlets.values():
            counts = Counter()
            for profile in outlet.domains.values():
                counts[registrable_domain(profile.host)] += profile.count
            if counts and counts.most_common(1)[0][1] > 0:
                by_home.setdefault(counts.most_common(1)[0][0], []).append(outlet)
        for group in by_home.values():
            if len(group) < 2:
                continue
            group.sort(key=lambda o: (-sum(p.count for p in o.domains.values()), o.key))
            keep = group[0]
            for other in group[1:]:
                for key, profile in other.domains.items():
                    mine = keep.domains.setdefault(key, DomainProfile(key))
                    mine.spellings.update(profile.spellings)
                    mine.links += profile.links
                    mine.hints += [h for h in profile.hints if h not in mine.hints]
                    if profile.file_rank is not None:
                        mine.file_rank = profile.file_rank if mine.file_rank is None else min(mine.file_rank,
                                                                                             profile.file_rank)
                    mine._memo.clear()
                del self.outlets[other.key]
                self.aliases[other.key] = keep.key
                for alias, target in list(self.aliases.items()):
                    if target == other.key:
                        self.aliases[alias] = keep.key

    def apply_file(self, entries: dict[str, dict], origin: str) -> None:
        for name, entry in entries.items():
            if not isinstance(entry, dict):
                raise RecoveryConfigError(f"{origin}: outlet {name!r} must be a table")
            for alias in entry.get("aliases", []) or []:
                self.aliases[outlet_key(alias)] = outlet_key(name)
        for name, entry in entries.items():
            outlet = self.outlet(name)
            hints = [_parse_date_template(t, origin, name) for t in entry.get("date_paths", []) or []]
            domains = entry.get("domains", []) or []
            writer = entry.get("writer_pages", False)
            templates = _writer_templates(writer, origin, name)
            if not isinstance(domains, list) or not all(isinstance(d, str) and d for d in domains):
                raise RecoveryConfigError(f"{origin}: outlet {name!r}: domains must be a list of host names")
            for rank, host in enumerate(domains):
                if "/" in host or ":" in host:
                    raise RecoveryConfigError(f"{origin}: outlet {name!r}: {host!r} is not a host name")
                profile = outlet.domain(host)
                profile.file_rank = rank if profile.file_rank is None else min(profile.file_rank, rank)
                profile.hints += [h for h in hints if h not in profile.hints]
                profile.writer_pages = profile.writer_pages or bool(writer)
                profile.writer_templates += [t for t in templates if t not in profile.writer_templates]
                profile._memo.clear()

    def domains_for(self, outlet: Outlet, when: date) -> list[DomainProfile]:
        """The domains to search for a post of this date: those the blog linked around then; else the
        outlets file's, with the blog's nearest in time first."""
        profiles = list(outlet.domains.values())
        learned = [p for p in profiles if p.era() is not None]
        active = sorted((p for p in learned if p.era_distance(when) == 0), key=lambda p: -p.count)
        if active:
            return active[:MAX_DOMAINS]
        chosen = sorted((p for p in profiles if p.file_rank is not None), key=lambda p: p.file_rank)
        if learned:
            nearest = min(learned, key=lambda p: p.era_distance(when))
            chosen = [nearest] + [p for p in chosen if p is not nearest]
        return chosen[:MAX_DOMAINS]


def _parse_date_template(template: Any, origin: str, name: str) -> tuple[str, str]:
    if not isinstance(template, str) or "{yyyy}" not in template or not template.startswith("/"):
        raise RecoveryConfigError(f"{origin}: outlet {name!r}: date path {template!r} must start with / and "
                                  "hold {yyyy}")
    sample = (template.replace("{yyyy}", "2000").replace("{mon}", "jan").replace("{mm}", "01")
              .replace("{dd}", "01"))
    dated = parse_dated_path(sample + ("x" if sample.endswith("/") else "/x"))
    if dated is None or "{" in sample:
        raise RecoveryConfigError(f"{origin}: outlet {name!r}: date path {template!r} is not "
                                  "PREFIX/{yyyy}/{mm or mon}[/{dd}]/")
    return dated.prefix, dated.fmt


def read_outlets_file(path: Path | str) -> dict[str, dict]:
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RecoveryConfigError(f"{path}: outlets file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise RecoveryConfigError(f"{path}: {exc}") from None
    outlets = data.get("outlets", {})
    if not isinstance(outlets, dict):
        raise RecoveryConfigError(f"{path}: [outlets.NAME] tables expected")
    return outlets


def shipped_outlets_path() -> Path:
    return Path(str(resources.files("linkkeeper") / "data" / SHIPPED_OUTLETS))


def learn_outlet_map(db, settings: Settings) -> OutletMap:
    """The outlet map: the outlets files first (their aliases decide which outlet a link belongs to), then
    every working Original Article link outside the nullified window."""
    mapping = OutletMap()
    shipped = read_outlets_file(shipped_outlets_path())
    user = read_outlets_file(settings.outlets_file) if settings.outlets_file else {}
    # The user's file wins outlet by outlet: an entry there replaces the shipped one, however it is spelled.
    replaced = {outlet_key(name) for name in user}
    mapping.apply_file({k: v for k, v in shipped.items() if outlet_key(k) not in replaced}, SHIPPED_OUTLETS)
    if user:
        mapping.apply_file(user, str(settings.outlets_file))
    for row in store.original_links_for_learning(db, exclude_from=settings.nullified_from,
                                                  exclude_to=settings.nullified_to):
        mapping.add_link(row["outlet"], row["url"], local_date(row["published"]), row["title"] or "",
                         row.get("lead_text") or "", row.get("author") or "")
    mapping.merge_by_domain()
    return mapping

