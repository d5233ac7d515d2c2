"""Choosing the right capture of a page and proving it is the page: the target date, the candidate captures in
order, the verification of each by fetching it raw, and the archive lookups behind them, each kept in SQLite.

How a capture is chosen (the README's `repair` section says the same for curators):

1. **Target date**: the article's own date when its URL carries one (`/2012/10/16/`, `/2012/oct/16/`,
   `20121016`, `2012-10-16`) and the post came out later than the day after it - the blog sometimes posts an
   article weeks or years late - otherwise the post's publication time. A link that is itself a capture
   targets that capture's own date.
2. **Candidates**: 200 captures, nearest the target first, where a capture after the target counts
   AFTER_WEIGHT times as far as one before it (the page as the blogger saw it beats later edits, yet a
   capture the day after still beats one a month before). Redirects, errors and revisit records are never
   candidates; a revisit stands for the capture it repeats (same digest), which it proves unchanged at the
   revisit's date, so that capture ranks at the nearer of the two dates.
3. **Verification**: each candidate is fetched raw (`id_`) and rejected when it is a captured redirect, not
   a 200, the Wayback Machine's "excluded" page, a soft 404, a paywall or login page, or - where the post
   reproduces the article - when it holds less than `min_text_similarity` of the post's text. A rejected
   candidate yields to the next, at most `verify_budget` fetches per link; every rejection is kept as evidence.
   A capture rejected only for its text is kept as a best effort and proposed (never approved) when nothing
   better turns up.

Where candidates come from, in the order that spends fewest requests:

- **Bulk** (`plan`): where one host has BULK_MIN_LINKS or more links to repair in a span of dates, ONE CDX
  prefix query (`matchType=prefix` on the links' longest common URL prefix, `from`/`to` around their dates,
  `filter=statuscode:200|-`) answers all of them; a link then costs one replay request to verify. Not
  `collapse=urlkey` (it keeps each URL's first capture, not the nearest one) nor `collapse=timestamp:N`
  (rows are sorted by URL, so it would merge the captures of neighbouring URLs): what saves requests is the
  narrow prefix and date range, which keep the answer to one page.
- **TimeGate**: for a link on its own, GET `{replay}{target}id_/{url}`: the Wayback Machine's 302 leads to the
  nearest capture, which is fetched and verified at once (replay allows 8 requests a second, CDX 0.4). A URL
  never archived or excluded costs that one replay request and no CDX one. When the capture fails, or might
  be a revisit or not the nearest by our weighting (see `_settled`), one CDX query lists the rest.
- **Other archives**: the `memento_timegates` (a Memento aggregator or TimeGate) when the Wayback Machine has
  nothing that verifies.

Every answer goes through LookupCache (table `archive_lookups`): found captures are kept for good, "nothing
there" answers for `archive_negative_ttl_days`, so a second run over the same links asks the archive nothing.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime, time, timedelta, timezone
from typing import Any, Awaitable, Callable, Iterable
from urllib.parse import urlsplit

from linkkeeper import store
from linkkeeper.wayback import (EXCLUDED_TEXT, ArchiveError, ArchiveUnavailableError, BlockedSiteError, CdxRecord,
                                Memento, MementoRedirectLoopError, NoMementoError, OtherMemento, RateLimitedError,
                                WaybackClient, format_timestamp, public_archive_url, surt_key, timestamp_to_datetime)
from linkkeeper.text.html import page_title
from linkkeeper.text.urls import host_key, url_date
from linkkeeper.settings import Settings
from linkkeeper.text.similarity import containment, page_text
from linkkeeper.check.verdict import SHORT_PAGE_WORDS, looks_challenge, looks_not_found, looks_parked
from linkkeeper.text.dates import parse_iso_or_none

__all__ = [
    "AFTER_WEIGHT", "Candidate", "Choice", "Finding", "LookupCache", "SnapshotFinder", "Target", "Want",
    "order_candidates", "target_date", "verify", "weighted_distance",
]

AFTER_WEIGHT = 2.0
# Bulk lookups: how many links of one host make a prefix query worth it, how far apart their dates may be to
# share one, and how far around those dates it looks.
BULK_MIN_LINKS = 3
BULK_SPAN_DAYS = 365
BULK_PAD_DAYS = 60
BULK_PAGE_ROWS = 10_000
BULK_MAX_PAGES = 3
BULK_FIELDS = ("urlkey", "timestamp", "original", "mimetype", "statuscode", "digest")
CDX_CLOSEST_LIMIT = 25
# Below this many words a post reproduces too little of the article to compare texts.
MIN_WORDS_TO_COMPARE = 20
# Text kept per capture in the cache: the article's opening is what a post reproduces.
TEXT_CAP = 100_000
_CANDIDATE_FILTER = "statuscode:200|-"

_PASSWORD_INPUT = re.compile(r"""<input\b[^>]*\btype\s*=\s*["']?password""", re.IGNORECASE)
_PAYWALL = re.compile(
    r"subscribe\s+(?:now\s+)?to\s+(?:continue|keep)\s+reading"
    r"|to\s+continue\s+reading[,.:]?\s+(?:please\s+)?(?:subscribe|log\s*in|sign\s*in|register)"
    r"|(?:article|story|content)\s+is\s+(?:only\s+)?(?:available\s+)?(?:to|for)\s+(?:paying\s+|paid\s+)?subscribers"
    r"|subscribers?[\s-]+only\b"
    r"|(?:sign|log)\s*in\s+to\s+(?:continue|read|view|access)"
    r"|you(?:'ve|\s+have)\s+reached\s+(?:your|the)\s+(?:limit|maximum)\s+of\s+(?:free\s+)?(?:articles|stories)"
    r"|create\s+(?:a\s+free\s+|an\s+)?account\s+to\s+(?:continue|read|keep\s+reading)",
    re.IGNORECASE,
)


# ═══════════════════════════════════════════════ target date ════════════════════════════════════════════════


@dataclass(frozen=True)
class Target:
    when: datetime  # aware, UTC
    source: str  # "post", "url" (the article's date in its URL) or "archive-link" (the capture linked)

    @property
    def timestamp(self) -> str:
        return format_timestamp(self.when)


def target_date(url: str, published: str | None, archive_timestamp: str | None = None) -> Target:
    """The date a replacement should be nearest to (see the module notes)."""
    if archive_timestamp and (captured := timestamp_to_datetime(archive_timestamp)) is not None:
        return Target(captured, "archive-link")
    posted = parse_iso_or_none(published)
    article = url_date(url)
    if posted is not None and article is not None and article <= posted.date() - timedelta(days=2):
        # Posted late: the capture should show the article as published. The day's end, so captures made
        # during the day of publication count as at or before it.
        return Target(datetime.combine(article, time(23, 59, 59), timezone.utc), "url")
    if posted is None:
        return Target(datetime.now(timezone.utc).replace(microsecond=0), "now")
    # An article dated after its post is not dated by its URL (a number that only looks like a date).
    return Target(posted.astimezone(timezone.utc), "post")


# ═══════════════════════════════════════════════ candidates ═════════════════════════════════════════════════


def weighted_distance(captured: datetime, when: datetime) -> float:
    """Seconds from the target, a capture after it counting AFTER_WEIGHT times as far."""
    delta = (captured - when).total_seconds()
    return -delta if delta <= 0 else delta * AFTER_WEIGHT


@dataclass(frozen=True)
class Candidate:
    """A capture worth fetching: a 200 row (or the capture a revisit repeats), with its rank."""

    timestamp: str
    original: str
    mimetype: str = ""
    digest: str = ""
    rank: float = 0.0  # weighted seconds from the target (smaller is better)
    revisited: str | None = None  # a revisit of it nearer the target, which it stands for
    source: str = "cdx"

    def as_json(self) -> dict:
        return asdict(self)


def order_candidates(records: Iterable[CdxRecord], when: datetime, *, source: str = "cdx") -> list[Candidate]:
    """200 captures nearest first (weighted), each capture once; redirects, errors, malformed rows and revisits
    whose repeated capture is not in the answer are left out."""
    records = [r for r in records if not r.is_malformed and r.datetime is not None]
    bases: dict[tuple[str, str], list[CdxRecord]] = defaultdict(list)
    for r in records:
        if not r.is_revisit:
            bases[(surt_key(r.original), r.digest)].append(r)
    best: dict[tuple[str, str], tuple[float, str | None, CdxRecord]] = {}
    for r in records:
        if r.is_revisit:
            earlier = [b for b in bases.get((surt_key(r.original), r.digest), []) if b.timestamp <= r.timestamp]
            if not earlier:
                continue
            base, seen_at = max(earlier, key=lambda b: b.timestamp), r
        else:
            base, seen_at = r, None
        if base.statuscode != "200":
            continue  # a revisit of a redirect or an error page is a redirect or an error page
        rank, revisited = weighted_distance(base.datetime, when), None  # type: ignore[arg-type]
        if seen_at is not None and (seen_rank := weighted_distance(seen_at.datetime, when)) < rank:  # type: ignore[arg-type]
            rank, revisited = seen_rank, seen_at.timestamp
        key = (base.timestamp, surt_key(base.original))
        if key not in best or rank < best[key][0]:
            best[key] = (rank, revisited, base)
    ordered = sorted(best.values(), key=lambda item: (item[0], item[2].timestamp))
    return [Candidate(b.timestamp, b.original, b.mimetype, b.digest, rank, revisited, source)
            for rank, revisited, b in ordered]


# ═══════════════════════════════════════════════ verification ═══════════════════════════════════════════════


def view_of(memento: Memento, requested: str) -> dict:
    """What verification (and the cache) keeps of a fetched capture."""
    raw = memento.body.decode("utf-8", "replace") if memento.body else ""
    textual = not memento.mimetype or any(t in memento.mimetype.lower() for t in ("html", "text", "xml"))
    title = page_title(raw[:200_000]) if textual else None
    prev = memento.links.get("prev memento", (None, None))[1]
    first = memento.links.get("first memento", (None, None))[1]
    return {
        "requested": requested, "timestamp": memento.timestamp, "original": memento.url, "status": memento.status,
        "redirect_location": memento.redirect_location, "mimetype": memento.mimetype,
        "title": page_text(title)[:300] if title else None,
        "text": page_text(raw)[:TEXT_CAP] if textual else "",
        "login_form": bool(textual and _PASSWORD_INPUT.search(raw[:200_000])),
        "prev": format_timestamp(prev) if prev else None,
        "first": format_timestamp(first) if first else None, "error": None,
    }


@dataclass
class Verdict:
    ok: bool
    kind: str | None = None  # redirect, status, excluded, no-memento, error, soft-404, paywall, challenge, text
    reason: str | None = None
    text_similarity: float | None = None

    @property
    def text_only(self) -> bool:
        """Rejected for its text alone: a 200 page that may be the article as it read later."""
        return self.kind == "text"


def enough_text(post_text: str) -> bool:
    return len(post_text.split()) >= MIN_WORDS_TO_COMPARE


def verify(view: dict, post_text: str, min_similarity: float) -> Verdict:
    """Whether a fetched capture is the article (see the module notes, step 3)."""
    error = view.get("error")
    if error:
        return Verdict(False, error, view.get("message") or error)
    status = view["status"]
    if 300 <= status < 400:
        return Verdict(False, "redirect", f"captured HTTP {status} redirect to {view.get('redirect_location')}")
    if status != 200:
        return Verdict(False, "status", f"captured HTTP {status}")
    text, title = view.get("text") or "", view.get("title")
    if EXCLUDED_TEXT in text[:4000]:
        return Verdict(False, "excluded", "the Wayback Machine's 'excluded' page")
    similarity = round(containment(post_text, text), 3) if enough_text(post_text) else None
    # A capture holding the post's text is the article, whatever else its page says (a "subscribe" banner,
    # a "404" in a sidebar): the marker tests only judge pages that do not.
    if similarity is not None and similarity >= min_similarity:
        return Verdict(True, text_similarity=similarity)
    short = len(text.split()) < SHORT_PAGE_WORDS
    soft = looks_not_found(title, text) or looks_parked(title, text) or looks_challenge(title, text)
    if soft:
        return Verdict(False, "soft-404", soft, similarity)
    paywall = _PAYWALL.search(f"{title or ''} {text[:6000]}")
    if paywall and (similarity is not None or short):
        return Verdict(False, "paywall", f"paywall or login page ({paywall.group(0)!r})", similarity)
    if view.get("login_form") and short:
        return Verdict(False, "paywall", "login page (a password form and little else)", similarity)
    if similarity is not None:
        return Verdict(False, "text", f"holds {similarity:.0%} of the post's text (below {min_similarity:.0%})",
                       similarity)
    return Verdict(True, text_similarity=None)


# ═══════════════════════════════════════════════ lookup cache ═══════════════════════════════════════════════


class LookupCache:
    """Archive answers by question: in `archive_lookups` (or in memory without a database). Concurrent asks of
    the same question share one request."""

    def __init__(self, db=None, negative_ttl_days: float = 7.0) -> None:
        self.db = db
        self.negative_ttl = negative_ttl_days * 86400.0
        self.hits = 0
        self.misses = 0
        self._memory: dict[str, Any] = {}
        self._inflight: dict[str, asyncio.Task] = {}

    def peek(self, key: str) -> tuple[bool, Any]:
        if self.db is None:
            return (key in self._memory), self._memory.get(key)
        return store.archive_lookup(self.db, key)

    def put(self, key: str, endpoint: str, value: Any, *, negative: bool) -> None:
        if self.db is None:
            self._memory[key] = value
        else:
            store.save_archive_lookup(self.db, key, endpoint, value,
                                      ttl_seconds=self.negative_ttl if negative else None)

    async def get(self, key: str, endpoint: str, fetch: Callable[[], Awaitable[Any]],
                  negative: Callable[[Any], bool]) -> Any:
        """The cached answer, or fetch it and keep it. Errors (an archive that is down) are never kept."""
        found, value = self.peek(key)
        if found:
            self.hits += 1
            return value
        task = self._inflight.get(key)
        if task is None:
            task = asyncio.ensure_future(self._fetch(key, endpoint, fetch, negative))
            self._inflight[key] = task
            task.add_done_callback(lambda _t: self._inflight.pop(key, None))
        else:
            self.hits += 1
        return await asyncio.shield(task)

    async def _fetch(self, key: str, endpoint: str, fetch: Callable[[], Awaitable[Any]],
                     negative: Callable[[Any], bool]) -> Any:
        value = await fetch()
        self.misses += 1
        self.put(key, endpoint, value, negative=negative(value))
        return value


# ═══════════════════════════════════════════════ finding ════════════════════════════════════════════════════


@dataclass(frozen=True)
class Want:
    """A page whose capture is wanted, and what the capture is judged against."""

    url: str  # the page itself (for a dead archive link: the page it captured)
    target: Target
    post_text: str = ""
    skip: frozenset[str] = frozenset()  # capture timestamps known not to do (a dead archive link's own)

    @property
    def key(self) -> str:
        return surt_key(self.url)

    @property
    def ident(self) -> str:
        return f"{self.key}|{self.target.timestamp}"

    @property
    def host(self) -> str:
        return self.key.split(")", 1)[0]


@dataclass
class Choice:
    """The capture a repair proposes."""

    archive_url: str
    timestamp: str
    original: str
    archive: str  # web.archive.org, or the other archive's host
    source: str  # cdx-prefix, timegate, cdx, or memento:<endpoint>
    text_similarity: float | None
    verified: bool  # False: a best effort whose text did not match the post
    mimetype: str = ""
    digest: str = ""
    revisited: str | None = None

    @property
    def datetime(self) -> datetime | None:
        return timestamp_to_datetime(self.timestamp)


@dataclass
class Finding:
    choice: Choice | None = None
    rejected: list[dict] = field(default_factory=list)
    path: list[str] = field(default_factory=list)
    error: str | None = None  # why nothing was found (excluded, never archived, archive down ...)
    transient: bool = False  # the archive failed us: try again later


class SnapshotFinder:
    """Finds and verifies a capture per Want; `plan` first lets links of one host share CDX queries."""

    def __init__(self, client: WaybackClient, settings: Settings, cache: LookupCache | None = None) -> None:
        self.client = client
        self.settings = settings
        self.cache = cache or LookupCache(None, settings.archive_negative_ttl_days)
        self._bulk: dict[str, asyncio.Task] = {}
        self.stats: Counter[str] = Counter()

    # ---- cached lookups

    async def memento(self, url: str, timestamp: str) -> dict:
        """The capture of `url` at (or, through the Wayback Machine's redirect, nearest to) `timestamp`."""
        requested = format_timestamp(timestamp)

        async def fetch() -> dict:
            try:
                memento = await self.client.get_memento(url, requested, raw=True)
            except NoMementoError as exc:
                return {"requested": requested, "error": "no-memento", "message": str(exc)}
            except BlockedSiteError as exc:
                return {"requested": requested, "error": "excluded", "message": f"excluded from the archive: {exc}"}
            except MementoRedirectLoopError as exc:
                return {"requested": requested, "error": "redirect", "message": str(exc)}
            except (ArchiveUnavailableError, RateLimitedError):
                raise
            except ArchiveError as exc:
                return {"requested": requested, "error": "error", "message": f"{type(exc).__name__}: {exc}"}
            view = view_of(memento, requested)
            if memento.timestamp != requested:
                # Landed elsewhere: keep it under its own timestamp too, so asking for it later costs nothing.
                self.cache.put(self._memento_key(memento.url, memento.timestamp), "replay",
                               dict(view, requested=memento.timestamp), negative=False)
            return view

        return await self.cache.get(self._memento_key(url, requested), "replay", fetch,
                                    negative=lambda v: bool(v.get("error")))

    @staticmethod
    def _memento_key(url: str, timestamp: str) -> str:
        return f"memento|{timestamp}|{url}"

    async def cdx_closest(self, url: str, when: datetime) -> dict:
        async def fetch() -> dict:
            try:
                records = await self.client.closest_captures(url, when, limit=CDX_CLOSEST_LIMIT)
            except BlockedSiteError as exc:
                return {"excluded": str(exc), "rows": []}
            return {"rows": [_row(r) for r in records]}

        return await self.cache.get(f"cdx-closest|{surt_key(url)}|{format_timestamp(when)}", "cdx", fetch,
                                    negative=lambda v: not v.get("rows"))

    async def prefix_rows(self, prefix_url: str, from_: str, to: str) -> dict:
        async def fetch() -> dict:
            try:
                records, truncated = await self.client.prefix_search(
                    prefix_url, from_=from_, to=to, filters=[_CANDIDATE_FILTER], fields=BULK_FIELDS,
                    page_rows=BULK_PAGE_ROWS, max_pages=BULK_MAX_PAGES)
            except BlockedSiteError as exc:
                return {"excluded": str(exc), "rows": [], "truncated": False}
            return {"rows": [_row(r) for r in records], "truncated": truncated}

        return await self.cache.get(f"cdx-prefix|{prefix_url}|{from_}|{to}", "cdx", fetch,
                                    negative=lambda v: not v.get("rows"))

    async def other_mementos(self, endpoint: str, url: str, when: datetime) -> list[dict]:
        async def fetch() -> list[dict]:
            found = await self.client.other_archive_mementos(endpoint, url, when)
            return [{"uri": m.uri, "timestamp": m.timestamp, "rel": m.rel} for m in found]

        return await self.cache.get(f"other|{endpoint}|{format_timestamp(when)}|{surt_key(url)}", "memento",
                                    fetch, negative=lambda v: not v)

    async def other_memento(self, item: dict) -> dict:
        async def fetch() -> dict:
            memento = OtherMemento(item["uri"], timestamp_to_datetime(item["timestamp"]) if item["timestamp"] else None,
                                   item["rel"])
            try:
                fetched = await self.client.fetch_other_memento(memento)
            except (ArchiveUnavailableError, RateLimitedError):
                raise
            except ArchiveError as exc:
                return {"requested": item["timestamp"], "error": "error", "message": str(exc)}
            return view_of(fetched, item["timestamp"])

        return await self.cache.get(f"other-memento|{item['uri']}", "memento", fetch,
                                    negative=lambda v: bool(v.get("error")))

    # ---- bulk planning

    def plan(self, wants: Iterable[Want]) -> int:
        """Start one CDX prefix query per host and span of dates that has BULK_MIN_LINKS links or more (links
        whose candidates an earlier run already listed are left out). Returns the number of queries planned."""
        by_host: dict[str, list[Want]] = defaultdict(list)
        for want in wants:
            if want.ident in self._bulk or self.cache.peek(self._candidates_key(want))[0]:
                continue
            by_host[want.host].append(want)
        planned = 0
        for group in by_host.values():
            group.sort(key=lambda w: w.target.when)
            clusters: list[list[Want]] = []
            for want in group:
                if clusters and want.target.when - clusters[-1][0].target.when <= timedelta(days=BULK_SPAN_DAYS):
                    clusters[-1].append(want)
                else:
                    clusters.append([want])
            for cluster in clusters:
                if len({w.key for w in cluster}) < BULK_MIN_LINKS:
                    continue
                task = asyncio.ensure_future(self._bulk_cluster(cluster))
                planned += 1
                for want in cluster:
                    self._bulk.setdefault(want.ident, task)
        return planned

    @staticmethod
    def _candidates_key(want: Want) -> str:
        return f"candidates|{want.key}|{want.target.timestamp}"

    async def _bulk_cluster(self, cluster: list[Want]) -> None:
        first, last = cluster[0].target.when, cluster[-1].target.when
        start, end = first - timedelta(days=BULK_PAD_DAYS), last + timedelta(days=BULK_PAD_DAYS)
        from_, to = format_timestamp(start), format_timestamp(end)
        try:
            answer = await self.prefix_rows(prefix_url(cluster), from_, to)
        except ArchiveError:
            return  # the archive is down or refused the query: each link asks on its own instead
        self.stats["bulk_queries"] += 1
        rows = [_record(r) for r in answer["rows"]]
        by_key: dict[str, list[CdxRecord]] = defaultdict(list)
        for record in rows:
            by_key[record.urlkey or surt_key(record.original)].append(record)
        # Rows come by urlkey: with pages left unread, only keys before the last one returned are complete.
        complete_before = max(by_key) if answer.get("truncated") and by_key else None
        for want in cluster:
            if complete_before is not None and want.key >= complete_before:
                continue
            if answer.get("excluded"):
                info = {"excluded": answer["excluded"], "candidates": []}
            else:
                horizon = min((want.target.when - start).total_seconds(),
                              AFTER_WEIGHT * (end - want.target.when).total_seconds())
                # Beyond the horizon a capture outside the range could rank nearer: those are left to the
                # link's own CDX query.
                candidates = [c for c in order_candidates(by_key.get(want.key, []), want.target.when,
                                                          source="cdx-prefix") if c.rank <= horizon]
                info = {"candidates": [c.as_json() for c in candidates]}
            self.cache.put(self._candidates_key(want), "cdx", info, negative=not info["candidates"])

    async def _planned(self, want: Want) -> dict | None:
        task = self._bulk.get(want.ident)
        if task is not None:
            await task
        found, info = self.cache.peek(self._candidates_key(want))
        return info if found else None

    # ---- finding

    async def find(self, want: Want) -> Finding:
        """The nearest capture that verifies (see the module notes); never raises for archive failures."""
        try:
            return await self._find(want)
        except ArchiveError as exc:
            # Down, rate limited past the retries, or an answer we cannot read: nothing was cached, so the
            # next run asks again.
            return Finding(error=f"{type(exc).__name__}: {exc}", transient=True)

    async def _find(self, want: Want) -> Finding:
        finding = Finding()
        budget = max(1, self.settings.verify_budget)
        tried: set[str] = set(want.skip)
        best_effort: list[Choice] = []
        excluded: str | None = None
        never_archived = False
        min_similarity = self.settings.min_text_similarity

        def note(candidate_ts: str, view: dict, verdict: Verdict, source: str) -> None:
            finding.rejected.append({
                "timestamp": candidate_ts, "served": view.get("timestamp"), "original": view.get("original"),
                "source": source, "status": view.get("status"), "kind": verdict.kind, "reason": verdict.reason,
                "text_similarity": verdict.text_similarity, "title": view.get("title")})

        def choice_of(view: dict, verdict: Verdict, source: str, candidate: Candidate | None = None,
                      archive: str = "web.archive.org", url: str | None = None) -> Choice:
            timestamp = view["timestamp"]
            return Choice(url or public_archive_url(timestamp, view["original"]), timestamp, view["original"],
                          archive, source, verdict.text_similarity, verdict.ok, view.get("mimetype") or "",
                          candidate.digest if candidate else "", candidate.revisited if candidate else None)

        async def try_candidates(candidates: list[Candidate]) -> Choice | None:
            nonlocal budget, excluded
            for candidate in candidates:
                if budget <= 0 or excluded:
                    return None
                if candidate.timestamp in tried:
                    continue
                tried.add(candidate.timestamp)
                budget -= 1
                view = await self.memento(candidate.original, candidate.timestamp)
                served = view.get("timestamp")
                if served and served != candidate.timestamp:
                    if served in tried:
                        continue  # the listed capture plays as one already judged
                    tried.add(served)
                verdict = verify(view, want.post_text, min_similarity)
                if verdict.ok:
                    return choice_of(view, verdict, candidate.source, candidate)
                note(candidate.timestamp, view, verdict, candidate.source)
                if verdict.kind == "excluded":
                    excluded = verdict.reason
                elif verdict.text_only:
                    best_effort.append(choice_of(view, verdict, candidate.source, candidate))
            return None

        # 1. A host's shared prefix query.
        planned = await self._planned(want)
        if planned is not None:
            finding.path.append("cdx-prefix")
            excluded = planned.get("excluded")
            chosen = await try_candidates([Candidate(**c) for c in planned["candidates"]])
            if chosen:
                finding.choice = chosen
                return finding
        # 2. The TimeGate, where no list of captures is at hand.
        if not excluded and not (planned and planned["candidates"]) and budget > 0:
            finding.path.append("timegate")
            view = await self.memento(want.url, want.target.timestamp)
            if view.get("error") == "no-memento":
                never_archived = True
                finding.error = "the Wayback Machine has not archived this URL"
            elif view.get("error") == "excluded":
                excluded = view.get("message")
            elif view.get("timestamp") not in tried:
                verdict = verify(view, want.post_text, min_similarity)
                if verdict.ok and self._settled(view):
                    finding.choice = choice_of(view, verdict, "timegate")
                    return finding
                if not verdict.ok:
                    budget -= 1
                    tried.add(view.get("timestamp") or want.target.timestamp)
                    note(view.get("timestamp") or want.target.timestamp, view, verdict, "timegate")
                    if verdict.kind == "excluded":
                        excluded = verdict.reason
                    elif verdict.text_only:
                        best_effort.append(choice_of(view, verdict, "timegate"))
                # A capture that verified but may not be the nearest good one stays a candidate: its
                # fetch is cached, so the CDX list below judges it again for nothing.
        # 3. The URL's own CDX list around the target.
        if not excluded and not never_archived and budget > 0:
            finding.path.append("cdx")
            answer = await self.cdx_closest(want.url, want.target.when)
            if answer.get("excluded"):
                excluded = answer["excluded"]
            else:
                chosen = await try_candidates(order_candidates([_record(r) for r in answer["rows"]],
                                                               want.target.when))
                if chosen:
                    finding.choice = chosen
                    return finding
        if excluded:
            finding.error = f"excluded from the Wayback Machine ({excluded})"
        # 4. Other archives.
        for endpoint in self.settings.memento_timegates:
            chosen = await self._other_archive(endpoint, want, note, choice_of, best_effort)
            finding.path.append(f"memento:{endpoint}")
            if chosen:
                finding.choice = chosen
                return finding
        if best_effort:
            finding.choice = max(best_effort, key=lambda c: (c.text_similarity or 0.0, -abs(
                (c.datetime or want.target.when) - want.target.when).total_seconds()))
        elif finding.error is None:
            finding.error = "no capture verifies" if finding.rejected else "no 200 capture in the Wayback Machine"
        return finding

    @staticmethod
    def _settled(view: dict) -> bool:
        """Whether the TimeGate's capture can be taken without the CDX list: only when it is the URL's first
        memento. The Wayback Machine replays a revisit record like any memento (the repeated capture's bytes
        at the revisit's date), so any later capture that verifies may still be a revisit; and a capture
        before it could rank nearer by our weighting. The first memento is neither, and nothing after it is
        nearer (the TimeGate chose it). Anything else is settled by one CDX query, where the fetch just made
        is judged again from the cache."""
        return bool(view.get("timestamp")) and view.get("first") == view.get("timestamp")

    async def _other_archive(self, endpoint: str, want: Want, note, choice_of, best_effort) -> Choice | None:
        try:
            items = await self.other_mementos(endpoint, want.url, want.target.when)
        except ArchiveError as exc:
            note("", {}, Verdict(False, "error", f"{endpoint}: {exc}"), f"memento:{endpoint}")
            return None
        # The Wayback Machine was asked already; aggregators list its captures too.
        items = [i for i in items if (urlsplit(i["uri"]).hostname or "") not in ("web.archive.org", "wayback.archive.org")]

        def rank(item: dict) -> float:
            when = timestamp_to_datetime(item["timestamp"]) if item["timestamp"] else None
            return weighted_distance(when, want.target.when) if when else float("inf")

        for item in sorted(items, key=rank)[:max(1, self.settings.verify_budget)]:
            view = await self.other_memento(item)
            verdict = verify(view, want.post_text, self.settings.min_text_similarity)
            source = f"memento:{endpoint}"
            archive = (urlsplit(item["uri"]).hostname or "").lower()
            if verdict.ok:
                return choice_of(dict(view, timestamp=view.get("timestamp") or item["timestamp"]), verdict, source,
                                 archive=archive, url=item["uri"])
            note(item["timestamp"], view, verdict, source)
            if verdict.text_only:
                best_effort.append(choice_of(dict(view, timestamp=view.get("timestamp") or item["timestamp"]),
                                             verdict, source, archive=archive, url=item["uri"]))
        return None


def prefix_url(cluster: list[Want]) -> str:
    """The narrowest URL prefix (as a CDX `url` for matchType=prefix) covering every link of a cluster."""
    paths = [w.key.split(")", 1)[1] for w in cluster]
    common = paths[0]
    for path in paths[1:]:
        while not path.startswith(common):
            common = common[:-1]
    parts = urlsplit(cluster[0].url)
    host = host_key(parts.hostname)
    if parts.port and parts.port not in (80, 443):
        host += f":{parts.port}"
    return f"{host}{common or '/'}"


def _row(record: CdxRecord) -> list[str]:
    return [record.urlkey, record.timestamp, record.original, record.mimetype, record.statuscode, record.digest,
            record.length]


def _record(row: list[str]) -> CdxRecord:
    return CdxRecord(*row)
