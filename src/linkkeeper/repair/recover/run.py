"""Recovering nullified Original Article links from the Wayback Machine's index.

Between 2012-09-11 and 2012-12-11 the blogging software dropped the target of every post's Original Article
link. Each post still names its outlet (`Source:`), its date, the article's author (`Author:`), its headline
(the post title) and its opening paragraphs. From that:

1. **Outlet map** (`learn_outlet_map`): for each outlet name, the domains its working Original Article links
   point at in posts outside the window, each with its era (first and last post linking to it) and its URL
   shape (date in the path and in which format, the section prefixes before the date, whether slugs come
   from the headline, numeric ids and how they grow with time). `data/outlets.toml` (merged with the file
   the `outlets_file` setting names) adds outlets the blog never linked elsewhere, aliases and date paths.
2. **Candidates** (`plan_queries`, `QueryCache`): CDX queries shared by every post of a period - a prefix
   query per domain, section and month on date-shaped paths (`www.guardian.co.uk/world/2012/oct/`), and one
   per domain and week of capture dates where paths hold no date - 200 HTML captures collapsed by URL. Each
   query is made once: kept in memory for the run and in `recovery_queries` for the next one.
3. **Scoring**: slug against headline, date proximity (from the path, an id, or the capture) and outlet rank
   the candidates; the best few are fetched raw from the archive and compared with the post's paragraphs,
   headline and author line, which gives the confidence in 0..1 and its evidence.
4. **Decision**: a clear winner at or above `auto_approve_confidence` is approved; close or weak cases wait
   for the curator with their candidates (`recovery_candidates`, and the repair's evidence); nothing
   plausible is recorded as unavailable. The recovered URL becomes the replacement where it is still alive,
   else its capture; the original URL is kept in links.known_url.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
import sys
import tomllib
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from importlib import resources
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator
from urllib.parse import urlsplit

from linkkeeper import store
from linkkeeper.wayback import (ArchiveError, ArchiveUnavailableError, BlockedSiteError, CdxRecord, NoMementoError,
                                RateLimitedError, WaybackClient, public_archive_url)
from linkkeeper.text.html import first_heading, html_to_text, page_title
from linkkeeper.text.urls import NOT_ARTICLE, host_key, parse_dated_path, period_path, slug_words, url_id
from linkkeeper.text.words import content_words, fold, outlet_key, slug_score
from linkkeeper.net.session import run as run_stage
from linkkeeper.settings import Settings, SettingsError
from linkkeeper.text.similarity import containment, page_text, post_lead_text
from linkkeeper.text.dates import local_date, parse_iso_or_none, to_iso

__all__ = [
    "CdxQuery", "Candidate", "DomainProfile", "OutletMap", "QueryCache", "RecoveryConfigError",
    "RecoveryOutcome", "RecoverySummary", "author_score", "confidence", "learn_outlet_map",
    "plan_queries", "fallback_queries", "recover_nullified", "run_repair_command",
    
]

SHIPPED_OUTLETS = "outlets.toml"

# A domain is "of the post's era" when the blog linked it within this many days of the post.
ERA_MARGIN_DAYS = 120
# URL shapes are read from the links closest in time: outlets redesign their URLs (the Star, Dec 2012).
SHAPE_ERA_DAYS = 270
MAX_DOMAINS = 2
MAX_SECTIONS = 8
# Captures follow publication: a query over capture dates reaches this many days past the period.
CAPTURE_LAG_DAYS = 3
# An id-based date estimate is rough (ids grow unevenly): only far outliers are ruled out by it.
ID_SLACK_DAYS = 45
CDX_PAGE_ROWS = 20_000
CDX_MAX_PAGES = 20
# Candidates fetched from the archive per post: few where slugs name the article, more where only a date can.
VERIFY_TOP = 4
VERIFY_TOP_SLUGLESS = 12
# While nothing convincing turns up, further batches are fetched, up to this many batches per query round.
VERIFY_ROUNDS = 3
# Candidates still worth a look before a strong match is approved (see _Recoverer.one).
CONFIRM_PRESCORE = 0.45
CONFIRM_MAX = 8
MIN_WORDS = 20
# The decision.
REVIEW_FLOOR = 0.45
AMBIGUITY_MARGIN = 0.15
MIN_TEXT_FOR_AUTO = 0.85
MIN_TITLE_FOR_AUTO = 0.6
UNVERIFIED_CAP = 0.6
OTHER_OUTLET_FACTOR = 0.6
CANDIDATES_KEPT = 10
BASE_FILTERS = ("statuscode:200", "mimetype:text/html")

# Link shorteners and feed redirectors say nothing about where an outlet publishes.
REDIRECTOR_HOSTS = frozenset({
    "feedproxy.google.com", "feeds.feedburner.com", "feeds.reuters.com", "rss.cnn.com", "news.google.com",
    "www.google.com", "google.com", "bit.ly", "t.co", "ow.ly", "goo.gl", "tinyurl.com", "dlvr.it", "is.gd",
    "l.facebook.com", "www.facebook.com", "twitter.com", "web.archive.org", "archive.org",
})


class RecoveryConfigError(SettingsError):
    """The outlets file cannot be used; the message names the file."""


# ═══════════════════════════════════════════════ the outlet map ═══════════════════════════════════════════════


@dataclass
class LearnedLink:
    path: str
    when: date | None  # the linking post's date (None for a date path from the outlets file)
    title: str = ""


@dataclass(frozen=True)
class IdModel:
    """Article ids against time, fitted on the blog's own links: day ordinal = intercept + slope * id."""

    intercept: float
    slope: float
    points: int

    def date_of(self, ident: int) -> date | None:
        try:
            return date.fromordinal(int(round(self.intercept + self.slope * ident)))
        except (ValueError, OverflowError):
            return None


def fit_id_model(points: Iterable[tuple[int, date]]) -> IdModel | None:
    pts = sorted({(i, d.toordinal()) for i, d in points})
    if len({i for i, _ in pts}) < 2:
        return None
    mean_i = sum(i for i, _ in pts) / len(pts)
    mean_d = sum(d for _, d in pts) / len(pts)
    sxx = sum((i - mean_i) ** 2 for i, _ in pts)
    sxy = sum((i - mean_i) * (d - mean_d) for i, d in pts)
    if sxx == 0 or sxy <= 0:
        return None  # ids that do not grow with time say nothing about dates
    slope = sxy / sxx
    return IdModel(mean_d - slope * mean_i, slope, len(pts))


@dataclass
class DomainProfile:
    """What the blog's links (and the outlets file) say about one domain of one outlet."""

    host_key: str
    spellings: Counter = field(default_factory=Counter)
    links: list[LearnedLink] = field(default_factory=list)
    hints: list[tuple[str, str]] = field(default_factory=list)  # (prefix, fmt) from the outlets file
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

    def undated_prefix(self) -> str:
        """The first path segment every undated link shares (`/news/` at the BBC), else `/`: it narrows a
        query over capture dates without losing a section."""
        if "undated_prefix" not in self._memo:
            firsts = set()
            for link in self.links:
                if parse_dated_path(link.path) is None:
                    segments = [s for s in link.path.split("/") if s]
                    firsts.add(segments[0] if len(segments) > 1 else "")
            only = next(iter(firsts)) if len(firsts) == 1 else ""
            self._memo["undated_prefix"] = f"/{only}/" if re.fullmatch(r"[A-Za-z][A-Za-z-]{1,30}", only) else "/"
        return self._memo["undated_prefix"]

    def slug_title_ratio(self) -> float | None:
        """How much of a slug the linking post's title explains, on average over the blog's links."""
        if "slug_ratio" not in self._memo:
            ratios = []
            for link in self.links:
                title = set(content_words(link.title))
                if not title:
                    continue
                dated = parse_dated_path(link.path)
                slug = set(slug_words(dated.rest if dated else link.path))
                ratios.append(len(slug & title) / len(slug) if slug else 0.0)
            self._memo["slug_ratio"] = round(sum(ratios) / len(ratios), 3) if ratios else None
        return self._memo["slug_ratio"]

    def slug_informative(self) -> bool:
        ratio = self.slug_title_ratio()
        return True if ratio is None else ratio >= 0.4

    def id_model(self) -> IdModel | None:
        if "id_model" not in self._memo:
            points = []
            for link in self.links:
                dated = parse_dated_path(link.path)
                ident = url_id(dated.rest if dated else link.path)
                if ident is not None and link.when:
                    points.append((ident, link.when))
            self._memo["id_model"] = fit_id_model(points)
        return self._memo["id_model"]

    def describe(self, when: date | None = None) -> dict:
        era = self.era()
        dated, undated = self.shapes(when) if when else ([], False)
        return {"host": self.host, "links": self.count, "era": [str(d) for d in era] if era else None,
                "from_file": self.file_rank is not None, "dated_shapes": [list(s) for s in dated],
                "undated": undated, "undated_prefix": self.undated_prefix(),
                "slug_title_ratio": self.slug_title_ratio(), "id_model": bool(self.id_model())}


@dataclass
class Outlet:
    key: str
    names: Counter = field(default_factory=Counter)
    domains: dict[str, DomainProfile] = field(default_factory=dict)

    def domain(self, host: str) -> DomainProfile:
        key = host_key(host)
        profile = self.domains.get(key)
        if profile is None:
            profile = self.domains[key] = DomainProfile(key)
        profile.spellings[host.lower()] += 0  # known spelling, even when only the file names it
        return profile

    @property
    def name(self) -> str:
        return self.names.most_common(1)[0][0] if self.names else self.key


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

    def add_link(self, outlet_name: str | None, url: str, when: date | None, title: str = "") -> None:
        if not outlet_key(outlet_name):
            return
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        if not host or host in REDIRECTOR_HOSTS or host_key(host) in REDIRECTOR_HOSTS:
            return
        outlet = self.outlet(outlet_name)
        outlet.names[outlet_name.strip()] += 1
        profile = outlet.domain(host)
        profile.spellings[host] += 1
        profile.links.append(LearnedLink(parts.path or "/", when, title))
        profile._memo.clear()

    def apply_file(self, entries: dict[str, dict], origin: str) -> None:
        for name, entry in entries.items():
            if not isinstance(entry, dict):
                raise RecoveryConfigError(f"{origin}: outlet {name!r} must be a table")
            for alias in entry.get("aliases", []) or []:
                self.aliases[outlet_key(alias)] = outlet_key(name)
        for name, entry in entries.items():
            outlet = self.outlet(name)
            outlet.names[name] += 0
            hints = [_parse_date_template(t, origin, name) for t in entry.get("date_paths", []) or []]
            domains = entry.get("domains", []) or []
            if not isinstance(domains, list) or not all(isinstance(d, str) and d for d in domains):
                raise RecoveryConfigError(f"{origin}: outlet {name!r}: domains must be a list of host names")
            for rank, host in enumerate(domains):
                if "/" in host or ":" in host:
                    raise RecoveryConfigError(f"{origin}: outlet {name!r}: {host!r} is not a host name")
                profile = outlet.domain(host)
                profile.file_rank = rank if profile.file_rank is None else min(profile.file_rank, rank)
                profile.hints += [h for h in hints if h not in profile.hints]
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

    def describe(self, when: date | None = None) -> dict:
        return {key: {"names": sorted(o.names), "domains": [p.describe(when) for p in o.domains.values()]}
                for key, o in sorted(self.outlets.items())}


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
        mapping.add_link(row["outlet"], row["url"], local_date(row["published"]), row["title"] or "")
    return mapping


# ══════════════════════════════════════════════════ queries ══════════════════════════════════════════════════


@dataclass(frozen=True)
class CdxQuery:
    """One CDX search, shared by every post that needs it. `key` identifies it in the cache."""

    url: str
    match_type: str = "prefix"
    from_: str | None = None
    to: str | None = None
    filters: tuple[str, ...] = BASE_FILTERS
    collapse: str = "urlkey"
    purpose: str = field(default="", compare=False)

    @property
    def key(self) -> str:
        return json.dumps({"url": self.url.lower(), "matchType": self.match_type, "from": self.from_,
                           "to": self.to, "filter": list(self.filters), "collapse": self.collapse},
                          sort_keys=True)


def _months(lo: date, hi: date) -> list[date]:
    out, current = [], lo.replace(day=1)
    while current <= hi:
        out.append(current)
        current = (current + timedelta(days=32)).replace(day=1)
    return out


def _mondays(lo: date, hi: date) -> list[date]:
    out, current = [], lo - timedelta(days=lo.weekday())
    while current <= hi:
        out.append(current)
        current += timedelta(days=7)
    return out


def _ts(day: date, end: bool = False) -> str:
    return day.strftime("%Y%m%d") + ("235959" if end else "000000")


def _window(when: date, lookback: int) -> tuple[date, date]:
    # An article appears before (or, across time zones, a day after) the post reproducing it.
    return when - timedelta(days=lookback), when + timedelta(days=1)


def plan_queries(profiles: Iterable[DomainProfile], when: date, lookback: int) -> list[CdxQuery]:
    """The first-round queries for a post: per date-shaped section a month prefix, per undated domain a
    week of captures. Neighbouring posts plan the same queries, so the cache answers them."""
    lo, hi = _window(when, lookback)
    queries: list[CdxQuery] = []
    for profile in profiles:
        dated, undated = profile.shapes(when)
        for prefix, fmt in dated:
            for month in _months(lo, hi):
                url = f"{profile.host}{prefix}{period_path(fmt, month)}"
                queries.append(CdxQuery(url, purpose=f"{url}* (date in the path)"))
        if undated:
            base = f"{profile.host}{profile.undated_prefix()}"
            for monday in _mondays(lo, hi):
                sunday = monday + timedelta(days=6)
                queries.append(CdxQuery(base, from_=_ts(monday),
                                        to=_ts(sunday + timedelta(days=CAPTURE_LAG_DAYS), end=True),
                                        purpose=f"{base}* captured {monday}..{sunday} (+{CAPTURE_LAG_DAYS} days)"))
    return list(dict.fromkeys(queries))


def fallback_queries(profiles: Iterable[DomainProfile], when: date, lookback: int) -> list[CdxQuery]:
    """Second round, for posts the first found nothing convincing for: the whole host over a month of
    captures, keeping only paths dated in that month (the article may be in a section the blog never
    linked). Heavier for the server, so only asked when needed, and shared per domain and month."""
    lo, hi = _window(when, lookback)
    queries: list[CdxQuery] = []
    for profile in profiles:
        dated, _ = profile.shapes(when)
        fmts = sorted({fmt for prefix, fmt in dated if prefix != "/"})
        if not fmts:
            continue  # already queried host-wide (date at the root) or by capture date
        for month in _months(lo, hi):
            month_end = (month + timedelta(days=32)).replace(day=1) - timedelta(days=1)
            periods = sorted({period_path(fmt, month).rstrip("/") for fmt in fmts})
            pattern = "original:.*/(" + "|".join(re.escape(p) for p in periods) + ")/.*"
            url = f"{profile.host}/"
            queries.append(CdxQuery(url, from_=_ts(month), to=_ts(month_end + timedelta(days=CAPTURE_LAG_DAYS), True),
                                    filters=BASE_FILTERS + (pattern,),
                                    purpose=f"{url}* captured in {month:%Y-%m}, paths dated {'|'.join(periods)}"))
    return list(dict.fromkeys(queries))


_FIELDS = ("urlkey", "timestamp", "original", "mimetype", "statuscode", "digest", "length")


class QueryCache:
    """Every CDX query once: in memory for the run (concurrent posts await the same request) and in the
    recovery_queries table for the next run. A blocked site is remembered; an archive failure is not (the
    next run asks again)."""

    def __init__(self, db, client: WaybackClient) -> None:
        self.db = db
        self.client = client
        self._tasks: dict[str, asyncio.Future] = {}
        self.sent = 0
        self.from_store = 0
        self.shared = 0

    async def records(self, query: CdxQuery) -> list[CdxRecord]:
        task = self._tasks.get(query.key)
        if task is None:
            task = self._tasks[query.key] = asyncio.ensure_future(self._load(query))
        else:
            self.shared += 1
        return await asyncio.shield(task)

    async def _load(self, query: CdxQuery) -> list[CdxRecord]:
        cached = store.recovery_query(self.db, query.key)
        if cached is not None:
            self.from_store += 1
            return [CdxRecord(*row) for row in cached["rows"]]
        error = None
        self.sent += 1
        try:
            records = await self.client.search(query.url, match_type=query.match_type, from_=query.from_,
                                               to=query.to, filters=list(query.filters), collapse=query.collapse,
                                               limit=CDX_PAGE_ROWS, resume=True, max_pages=CDX_MAX_PAGES)
        except BlockedSiteError as exc:
            records, error = [], f"blocked: {exc}"
        rows = [[getattr(r, name) for name in _FIELDS] for r in records]
        store.save_recovery_query(self.db, query.key, url=query.url, match_type=query.match_type,
                                  params=json.loads(query.key), rows=rows, error=error)
        return records


# ═══════════════════════════════════════════ candidates and scores ═══════════════════════════════════════════


@dataclass
class PostContext:
    link_id: str
    post_id: str
    href: str | None
    nullified_reason: str | None
    published: str | None
    when: date
    title: str
    title_words: list[str]
    outlet: str | None
    author: str | None
    lead: str
    content: str

    @property
    def lead_words(self) -> int:
        return len(self.lead.split())

    @classmethod
    def from_row(cls, row: dict) -> "PostContext":
        content = row.get("content") or ""
        return cls(row["link_id"], row["post_id"], row.get("url"), row.get("nullified_reason"), row.get("published"),
                   local_date(row.get("published")) or date.today(), row.get("title") or "",
                   content_words(row.get("title") or ""), row.get("outlet"), row.get("author"), post_lead_text(content),
                   content)


@dataclass
class Candidate:
    url: str
    timestamp: str
    record: CdxRecord
    profile: DomainProfile | None
    article_date: date | None
    date_source: str  # path | id | capture
    day_known: bool
    slug: list[str]
    slug_score: float = 0.0
    date_score: float = 0.0
    prescore: float = 0.0
    verified: bool = False
    confidence: float | None = None
    text_similarity: float | None = None
    title_match: float | None = None
    author_match: float | None = None
    evidence: dict = field(default_factory=dict)

    @property
    def archive_url(self) -> str:
        return public_archive_url(self.evidence.get("memento_timestamp") or self.timestamp, self.url)

    def summary(self) -> dict:
        return {"url": self.url, "timestamp": self.timestamp, "archive_url": self.archive_url,
                "prescore": self.prescore, "confidence": self.confidence, "verified": self.verified,
                "article_date": str(self.article_date) if self.article_date else None,
                "date_source": self.date_source, "slug_score": self.slug_score, "date_score": self.date_score,
                "text_similarity": self.text_similarity, "title_match": self.title_match,
                "author_match": self.author_match, **{k: v for k, v in self.evidence.items()
                                                      if k in ("memento_error", "memento_status", "note")}}


def date_score(article: date, when: date, source: str, day_known: bool) -> float:
    delta = (when - article).days  # > 0: the article came first, as it should
    if source == "path":
        if not day_known:
            return 0.6
        if delta < -1:
            return 0.0
        return 1.0 if delta <= 1 else round(math.exp(-(delta - 1) / 4), 3)
    if source == "id":
        return round(0.9 * math.exp(-max(0, abs(delta) - 3) / 15), 3)
    # Only the capture date: pages are captured around the time they appear, but not always.
    return round(0.7 * math.exp(-abs(delta) / 4), 3)


def _candidate(record: CdxRecord, post: PostContext, profiles: dict[str, DomainProfile],
               lookback: int) -> Candidate | None:
    if record.statuscode != "200" or record.is_revisit or record.is_malformed:
        return None
    if not (record.mimetype.startswith("text/html") or record.mimetype == "application/xhtml+xml"):
        return None
    parts = urlsplit(record.original)
    path = parts.path or "/"
    if NOT_ARTICLE.search(path):
        return None
    profile = profiles.get(host_key(parts.hostname or ""))
    lo, hi = _window(post.when, lookback)
    dated = parse_dated_path(path)
    captured = record.datetime.date() if record.datetime else None
    if dated is not None:
        if not dated.rest.strip("/"):
            return None  # the day's or month's index page, not an article
        rest, article, source, day_known = dated.rest, dated.date, "path", dated.day_known
        if day_known and not lo <= article <= hi:
            return None
        if not day_known and not (article <= hi and article + timedelta(days=31) >= lo):
            return None
    else:
        rest, day_known = path, False
        model = profile.id_model() if profile else None
        ident = url_id(path)
        estimate = model.date_of(ident) if (model and ident is not None) else None
        if estimate is not None:
            article, source = estimate, "id"
            if not lo - timedelta(days=ID_SLACK_DAYS) <= article <= hi + timedelta(days=ID_SLACK_DAYS):
                return None  # an old article captured again that week
        elif captured is not None:
            article, source = captured, "capture"
            if not lo <= article <= hi + timedelta(days=CAPTURE_LAG_DAYS):
                return None
        else:
            return None
    slug = slug_words(rest)
    if not slug and url_id(rest) is None:
        return None  # neither a headline nor an id: a section front or a tag page
    cand = Candidate(record.original, record.timestamp, record, profile, article, source, day_known, slug)
    cand.slug_score = slug_score(slug, post.title_words)
    cand.date_score = date_score(article, post.when, source, day_known)
    informative = profile.slug_informative() if profile else True
    cand.prescore = round(0.65 * cand.slug_score + 0.35 * cand.date_score if (informative and slug)
                          else cand.date_score, 3)
    if profile is None:
        cand.prescore = round(cand.prescore * OTHER_OUTLET_FACTOR, 3)
    return cand


def add_candidates(found: dict[tuple[str, str], Candidate], records: Iterable[CdxRecord], post: PostContext,
                   profiles: dict[str, DomainProfile], lookback: int) -> int:
    """Merge records into `found` (one candidate per page: scheme, www, case, trailing slash and query
    ignored; the earliest capture kept). Returns how many new pages were added."""
    added = 0
    for record in records:
        cand = _candidate(record, post, profiles, lookback)
        if cand is None:
            continue
        parts = urlsplit(record.original)
        key = (host_key(parts.hostname or ""), (parts.path or "/").rstrip("/").lower())
        old = found.get(key)
        if old is None:
            found[key] = cand
            added += 1
        elif not old.verified and (bool(urlsplit(old.url).query), old.timestamp) > (bool(parts.query), record.timestamp):
            found[key] = cand
    return added


def author_score(author: str | None, page_words: set[str]) -> float | None:
    """Share of the Author line's people whose surname the page carries; None when the post names nobody."""
    if not author:
        return None
    total = found = 0
    for name in re.split(r"\s*(?:,|;|&|\band\b|\bwith\b)\s*", author):
        name = re.split(r"\s+(?:in|for|at)\s+", name.strip())[0]  # "Justin McCurry in Tokyo"
        parts = [p for p in re.findall(r"[a-z0-9]+", fold(name)) if len(p) > 1]
        if not parts:
            continue
        total += 1
        found += parts[-1] in page_words
    return round(found / total, 3) if total else None


def confidence(text_similarity: float | None, title_match: float, author_match: float | None,
               date_match: float) -> float:
    """0..1: mostly how much of the post's reproduced text the capture holds, then headline, byline, date.
    Without enough text to compare, a capture can be proposed but never reach automatic approval."""
    author = 0.5 if author_match is None else author_match
    if text_similarity is None:
        # Scaled, not capped: candidates must still rank against each other.
        return round(UNVERIFIED_CAP * (0.4 * title_match + 0.3 * author + 0.3 * date_match), 3)
    return round(0.65 * text_similarity + 0.2 * title_match + 0.1 * author + 0.05 * date_match, 3)




@dataclass
class Fetched:
    status: int | None = None
    timestamp: str | None = None
    text: str = ""
    headline: str = ""
    page_words: set = field(default_factory=set)
    error: str | None = None


class CaptureCache:
    """Captures fetched raw (`id_`) once per run, whichever post asks."""

    def __init__(self, client: WaybackClient) -> None:
        self.client = client
        self._tasks: dict[tuple[str, str], asyncio.Future] = {}

    async def get(self, url: str, timestamp: str) -> Fetched:
        key = (url, timestamp)
        if key not in self._tasks:
            self._tasks[key] = asyncio.ensure_future(self._fetch(url, timestamp))
        return await asyncio.shield(self._tasks[key])

    async def _fetch(self, url: str, timestamp: str) -> Fetched:
        try:
            memento = await self.client.get_memento(url, timestamp, raw=True)
        except (ArchiveUnavailableError, RateLimitedError):
            raise  # the archive, not the capture: the post is retried in the next run
        except (NoMementoError, BlockedSiteError, ArchiveError) as exc:
            return Fetched(error=f"{type(exc).__name__}: {exc}"[:300])
        markup = memento.body.decode("utf-8", "replace")
        heads = [html_to_text(raw) for raw in (page_title(markup), first_heading(markup)) if raw]
        text = page_text(markup)
        return Fetched(status=memento.status, timestamp=memento.timestamp, text=text, headline=" ".join(heads),
                       page_words=set(re.findall(r"[a-z0-9]+", fold(text))))


async def verify(cand: Candidate, post: PostContext, captures: CaptureCache) -> None:
    """Fetch the candidate's capture and compare it with the post: its confidence and evidence."""
    fetched = await captures.get(cand.url, cand.timestamp)
    cand.verified = True
    if fetched.error or fetched.status != 200:
        cand.confidence = 0.0
        if fetched.error:
            cand.evidence["memento_error"] = fetched.error
        else:
            cand.evidence["memento_status"] = fetched.status
        return
    cand.evidence["memento_timestamp"] = fetched.timestamp
    cand.text_similarity = round(containment(post.lead, fetched.text), 3) if post.lead_words >= MIN_WORDS else None
    title_words = set(post.title_words)
    headline = round(len(title_words & set(content_words(fetched.headline))) / len(title_words), 3) if title_words else 0.0
    informative = cand.profile.slug_informative() if cand.profile else True
    cand.title_match = max(headline, cand.slug_score if informative else 0.0)
    cand.author_match = author_score(post.author, fetched.page_words)
    cand.confidence = confidence(cand.text_similarity, cand.title_match, cand.author_match, cand.date_score)
    if cand.profile is None:
        cand.confidence = round(cand.confidence * OTHER_OUTLET_FACTOR, 3)
        cand.evidence["note"] = "not one of the outlet's domains"


async def verify_best(found: dict, post: PostContext, captures: CaptureCache) -> int:
    """Verify the most promising unverified candidates; returns how many were fetched."""
    pending = sorted((c for c in found.values() if not c.verified and c.prescore > 0),
                     key=lambda c: (-c.prescore, c.url))
    if not pending:
        return 0
    slugless = not any(c.slug and (c.profile is None or c.profile.slug_informative()) for c in pending)
    limit = VERIFY_TOP_SLUGLESS if slugless else VERIFY_TOP
    top = pending[0].prescore
    # Far below the leader, a candidate is not worth a request (the leader always is).
    chosen = [pending[0]] + [c for c in pending[1:limit] if c.prescore >= max(0.15, 0.4 * top)]
    await asyncio.gather(*(verify(c, post, captures) for c in chosen))
    return len(chosen)


@dataclass
class Decision:
    state: str  # approved | proposed | unavailable
    reason: str
    best: Candidate | None = None
    runner_up: Candidate | None = None


def decide(found: Iterable[Candidate], auto_approve: float) -> Decision:
    ranked = sorted((c for c in found if c.verified), key=lambda c: (-(c.confidence or 0.0), c.url))
    if not ranked:
        return Decision("unavailable", "no capture of the outlet's pages matched the post's date and shape")
    best, runner = ranked[0], (ranked[1] if len(ranked) > 1 else None)
    if (best.confidence or 0.0) < REVIEW_FLOOR:
        return Decision("unavailable", f"no capture resembles the post (best confidence {best.confidence})",
                        best, runner)
    close = runner is not None and (runner.confidence or 0.0) > (best.confidence or 0.0) - AMBIGUITY_MARGIN
    if close:
        return Decision("proposed", f"ambiguous: {runner.url} scores {runner.confidence} against "
                                    f"{best.confidence}", best, runner)
    if best.text_similarity is None:
        return Decision("proposed", "the post reproduces too little text to verify the capture", best, runner)
    if (best.confidence or 0.0) >= auto_approve and best.text_similarity >= MIN_TEXT_FOR_AUTO \
            and (best.title_match or 0.0) >= MIN_TITLE_FOR_AUTO:
        return Decision("approved", "clear winner: the capture holds the post's text under its headline",
                        best, runner)
    return Decision("proposed", f"best match below automatic approval (confidence {best.confidence}, "
                                f"text {best.text_similarity}, title {best.title_match})", best, runner)


# ═════════════════════════════════════════════════ the run ═════════════════════════════════════════════════


@dataclass
class RecoveryOutcome:
    link_id: str
    post_id: str
    title: str
    state: str  # approved | proposed | unavailable | error
    reason: str
    url: str | None = None
    replacement: str | None = None
    confidence: float | None = None


@dataclass
class RecoverySummary:
    in_range: int = 0
    already_decided: int = 0
    considered: int = 0
    approved: int = 0
    proposed: int = 0
    unavailable: int = 0
    errors: int = 0
    queries_sent: int = 0
    queries_from_store: int = 0
    queries_shared: int = 0
    captures_fetched: int = 0
    live_checks: int = 0
    archive_requests: dict[str, int] = field(default_factory=dict)
    outcomes: list[RecoveryOutcome] = field(default_factory=list)

    @property
    def recovered(self) -> int:
        return self.approved + self.proposed

    def as_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "outcomes"} | {"recovered": self.recovered}


async def live_replacement(session, url: str, settings: Settings, content: str) -> tuple[str | None, dict]:
    """The URL to link if the recovered page is alive now (permanent redirects followed, and the page still
    holding the post's text), with what the probe saw."""
    from linkkeeper.check.pagetests import drift_reason
    from linkkeeper.check.probe import probe

    ev = await probe(session, url, settings, want_body=True)
    info = {"url": url, "evidence_class": ev.evidence_class, "status": ev.status, "final_url": ev.final_url,
            "reason": ev.reason, "checked_at": ev.checked_at}
    if ev.evidence_class not in ("alive", "moved"):
        return None, info
    drift = drift_reason(ev.text, [content], settings.drift_threshold)
    if drift:
        info["drift"] = drift
        return None, info
    return (ev.final_url or url), info


class _Recoverer:
    def __init__(self, db, settings: Settings, outlet_map: OutletMap, client: WaybackClient, session,
                 summary: RecoverySummary, live_check: bool) -> None:
        self.db, self.settings, self.map = db, settings, outlet_map
        self.client, self.session, self.summary = client, session, summary
        self.queries = QueryCache(db, client)
        self.captures = CaptureCache(client)
        self.lookback = max(0, settings.recover_lookback_days)
        self.live_check = live_check

    async def one(self, row: dict) -> RecoveryOutcome:
        post = PostContext.from_row(row)
        outlet = self.map.lookup(post.outlet)
        if not post.outlet:
            return self._save(post, Decision("unavailable", "the post has no Source: line"), {}, {})
        profiles = self.map.domains_for(outlet, post.when) if outlet else []
        if not profiles:
            return self._save(post, Decision("unavailable", f"no domain known for outlet {post.outlet!r}: add it "
                                                            f"to the outlets file"), {}, {"outlet": post.outlet})
        by_key = {p.host_key: p for p in outlet.domains.values()}
        context: dict[str, Any] = {"outlet": post.outlet, "domains": [p.host for p in profiles], "queries": []}
        found: dict[tuple[str, str], Candidate] = {}
        for round_ in (plan_queries(profiles, post.when, self.lookback),
                       fallback_queries(profiles, post.when, self.lookback)):
            if context["queries"] and not self._worth_another_round(found):
                break
            if not round_:
                continue
            results = await asyncio.gather(*(self.queries.records(q) for q in round_))
            context["queries"] += [q.purpose for q in round_]
            for records in results:
                add_candidates(found, records, post, by_key, self.lookback)
            for _ in range(VERIFY_ROUNDS):
                fetched = await verify_best(found, post, self.captures)
                self.summary.captures_fetched += fetched
                if not fetched or not self._worth_another_round(found):
                    break
        context["candidates_seen"] = len(found)
        if not self._worth_another_round(found):
            # Before approving, every other plausible page is looked at: a close runner-up (an updated
            # version under a new headline, the same story republished) may rank low on its slug alone.
            rivals = sorted((c for c in found.values() if not c.verified and c.prescore >= CONFIRM_PRESCORE),
                            key=lambda c: (-c.prescore, c.url))[:CONFIRM_MAX]
            await asyncio.gather(*(verify(c, post, self.captures) for c in rivals))
            self.summary.captures_fetched += len(rivals)
        decision = decide(found.values(), self.settings.auto_approve_confidence)
        live = None
        if decision.state != "unavailable" and self.live_check:
            self.summary.live_checks += 1
            live = await live_replacement(self.session, decision.best.url, self.settings, post.content)
        return self._save(post, decision, found, context, live)

    def _worth_another_round(self, found: dict) -> bool:
        best = max((c.confidence or 0.0 for c in found.values() if c.verified), default=0.0)
        return best < self.settings.auto_approve_confidence

    def _save(self, post: PostContext, decision: Decision, found: dict, context: dict,
              live: tuple[str | None, dict] | None = None) -> RecoveryOutcome:
        ranked = sorted(found.values(), key=lambda c: (not c.verified, -(c.confidence or 0.0), -c.prescore, c.url))
        kept = ranked[:CANDIDATES_KEPT]
        best = decision.best if decision.state != "unavailable" else None
        store.save_recovery_candidates(self.db, post.link_id, post.post_id, [
            {"rank": i + 1, "url": c.url, "timestamp": c.timestamp, "archive_url": c.archive_url,
             "prescore": c.prescore, "confidence": c.confidence, "verified": int(c.verified),
             "chosen": int(best is not None and c is best), "evidence": c.summary()}
            for i, c in enumerate(kept)])
        target = parse_iso_or_none(post.published)
        evidence = dict(context, method="recovered from the Wayback Machine's index (nullified link)",
                        decision=decision.reason,
                        candidates=[c.summary() for c in kept[:5]])
        repair: dict[str, Any] = {
            "link_id": post.link_id, "post_id": post.post_id, "state": decision.state,
            "reason": f"nullified ({post.nullified_reason})",
            "target_date": to_iso(target) if target else None,
            "confidence": decision.best.confidence if decision.best else 0.0,
        }
        replacement = None
        if best is not None:
            live_url, live_info = live if live else (None, None)
            replacement = live_url or best.archive_url
            captured = best.record.datetime
            evidence.update(recovered_url=best.url, text_similarity=best.text_similarity,
                            title_match=best.title_match, author_match=best.author_match,
                            date_score=best.date_score, slug_score=best.slug_score,
                            capture={"timestamp": best.record.timestamp, "original": best.record.original,
                                     "statuscode": best.record.statuscode, "mimetype": best.record.mimetype,
                                     "digest": best.record.digest},
                            replacement_kind="live" if live_url else "archive")
            if live_info:
                evidence["live_check"] = live_info
            repair.update(url=best.url, replacement=replacement,
                          capture_timestamp=best.evidence.get("memento_timestamp") or best.timestamp,
                          capture_url=best.archive_url,
                          distance_days=round(abs((captured - target).total_seconds()) / 86400, 2)
                          if captured and target else None)
            # known_url before the repair: should the run stop between the two, the next `repair` finds a
            # nullified link with a known URL and no repair, and looks its capture up the usual way.
            store.set_recovered_url(self.db, post.link_id, best.url)
        else:
            repair["url"] = post.href
        repair["evidence"] = evidence
        store.save_repair(self.db, repair)
        return RecoveryOutcome(post.link_id, post.post_id, post.title, decision.state, decision.reason,
                               best.url if best else None, replacement, repair["confidence"])


async def recover_nullified(db, settings: Settings, *, date_from: str | None = None, date_to: str | None = None,
                            session=None, client: WaybackClient | None = None, outlet_map: OutletMap | None = None,
                            on_result: Callable[[RecoveryOutcome], None] | None = None, concurrency: int = 4,
                            live_check: bool = True, limit: int | None = None) -> RecoverySummary:
    """Recover the nullified Original Article links of posts in [date_from, date_to] that have no repair yet,
    each decided and stored as soon as it is done (an interrupted run resumes with the rest, and the CDX
    queries it made come from recovery_queries). `limit` stops after that many links."""
    from linkkeeper.net.session import session_for

    summary = RecoverySummary()
    summary.in_range, summary.already_decided = store.count_nullified_links(db, date_from=date_from, date_to=date_to)
    rows = list(store.nullified_links_to_recover(db, date_from=date_from, date_to=date_to))[:limit]
    summary.considered = len(rows)
    if not rows:
        return summary
    outlet_map = outlet_map or learn_outlet_map(db, settings)

    async def run(session) -> None:
        wayback = client or WaybackClient(session, settings)
        before = Counter(wayback.requests)
        recoverer = _Recoverer(db, settings, outlet_map, wayback, session, summary, live_check)
        queue = iter(rows)

        async def worker() -> None:
            for row in queue:
                try:
                    outcome = await recoverer.one(row)
                except (ArchiveUnavailableError, RateLimitedError) as exc:
                    # Nothing is stored: the link stays undecided and the next run tries it again.
                    outcome = RecoveryOutcome(row["link_id"], row["post_id"], row.get("title") or "", "error",
                                              f"{type(exc).__name__}: {exc}")
                summary.outcomes.append(outcome)
                if outcome.state == "error":
                    summary.errors += 1
                else:
                    setattr(summary, outcome.state, getattr(summary, outcome.state) + 1)
                if on_result:
                    on_result(outcome)

        try:
            await asyncio.gather(*(worker() for _ in range(max(1, min(concurrency, len(rows))))))
        finally:
            summary.queries_sent = recoverer.queries.sent
            summary.queries_from_store = recoverer.queries.from_store
            summary.queries_shared = recoverer.queries.shared
            summary.archive_requests = {k: wayback.requests[k] - before[k] for k in wayback.requests
                                        if wayback.requests[k] - before[k]}

    async with session_for(settings, session) as shared:
        await run(shared)
    return summary


# ═══════════════════════════════════════ `linkkeeper repair`: the bulk run ═══════════════════════════════════════


@contextmanager
def _progress(total: int, label: str, echo: Callable[[str], None], interactive: bool) -> Iterator[Callable[[str], None]]:
    """A progress bar on a terminal; elsewhere (logs, CI) one plain line per link."""
    import click

    if interactive and total:
        with click.progressbar(length=total, label=label, show_pos=True) as bar:
            yield lambda _line: bar.update(1)
        return
    done = 0

    def tick(line: str) -> None:
        nonlocal done
        done += 1
        echo(f"{label} {done}/{total}: {line}")

    yield tick


def run_repair_command(db, settings: Settings, *, date_from: str | None = None, date_to: str | None = None,
                       recover: bool = True, echo: Callable[[str], None] = print,
                       interactive: bool | None = None) -> dict:
    """`linkkeeper repair`: dead links first (repair.propose_repairs), then the nullified links of the range
    recovered from the archive's index; a progress bar or plain lines, and a closing summary."""
    from linkkeeper.net.session import make_session
    from linkkeeper.repair.proposals import propose_repairs

    interactive = sys.stdout.isatty() if interactive is None else interactive
    outlet_map = learn_outlet_map(db, settings) if recover else None  # a bad outlets file stops the run early

    async def main():
        async with make_session(settings) as session:
            # One client for both stages: one CDX rate limit for the whole run.
            client = WaybackClient(session, settings)
            dead_total = sum(1 for _ in store.links_needing_repair(db, date_from=date_from, date_to=date_to))
            with _progress(dead_total, "dead links", echo, interactive) as tick:
                dead = await propose_repairs(db, settings, date_from=date_from, date_to=date_to, session=session,
                                             client=client, on_result=lambda r: tick(f"{r['state']} {r['url']}"))
            recovered = None
            if recover:
                todo = sum(1 for _ in store.nullified_links_to_recover(db, date_from=date_from, date_to=date_to))
                with _progress(todo, "nullified links", echo, interactive) as tick:
                    recovered = await recover_nullified(
                        db, settings, date_from=date_from, date_to=date_to, session=session, client=client,
                        outlet_map=outlet_map,
                        on_result=lambda o: tick(f"{o.state} {o.url or '-'} ({o.title[:60]})"))
            return dead, recovered

    dead, recovered = run_stage(main())
    requests = sum(dead.archive_requests.values())
    echo(f"{dead.considered} links needed repair: {dead.approved} approved automatically, "
         f"{dead.proposed - dead.approved} for review, {dead.unavailable} with no usable capture "
         f"({requests} archive requests)")
    result = {"dead": dead.__dict__, "recovery": None}
    if recovered is not None:
        r = recovered
        echo(f"nullified links in range: {r.in_range} ({r.already_decided} decided before this run); "
             f"recovered {r.recovered} ({r.approved} automatically, {r.proposed} for review), "
             f"{r.unavailable} unrecoverable" + (f", {r.errors} failed (retried next run)" if r.errors else ""))
        echo(f"archive requests used: {r.archive_requests.get('cdx', 0)} CDX ({r.queries_sent} queries, "
             f"{r.queries_from_store} answered from earlier runs), {r.archive_requests.get('replay', 0)} replay; "
             f"{r.live_checks} live checks")
        result["recovery"] = r.as_dict()
    return result
