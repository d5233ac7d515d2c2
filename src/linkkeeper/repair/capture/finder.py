"""Finding a capture that verifies, for each page wanted, in the order that spends fewest requests (see the
package notes): a host's shared CDX prefix query, else the page's own CDX list, then other archives; every
answer through ArchiveLookups, so asked once ever."""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Iterable
from urllib.parse import urlsplit

from linkkeeper.repair.capture.lookups import ArchiveLookups, LookupCache, record_of
from linkkeeper.repair.capture.ranking import (AFTER_WEIGHT, CaptureCandidate, Target, order_candidates, page_key,
                                              weighted_distance)
from linkkeeper.repair.capture.verification import CaptureCheck, verify_capture
from linkkeeper.settings import Settings
from linkkeeper.text.urls import host_key, normalize_url
from linkkeeper.wayback import (ArchiveError, ArchiveQueryError, CdxRecord, WaybackClient, format_timestamp,
                                public_archive_url, surt_key, timestamp_to_datetime)

# Bulk lookups: how many links of one host make a prefix query worth it, how far apart their dates may be to
# share one, and how far around those dates it looks.
BULK_MIN_LINKS = 3
BULK_SPAN_DAYS = 365
BULK_PAD_DAYS = 60


@dataclass(frozen=True)
class Want:
    """A page whose capture is wanted, and what the capture is judged against."""

    url: str  # the page itself (for a dead archive link: the page it captured)
    target: Target
    post_text: str = ""
    skip: frozenset[str] = frozenset()  # capture timestamps known not to do (a dead archive link's own)
    before: datetime | None = None  # the page changed by then (a drifted link): later captures show another

    @property
    def key(self) -> str:
        return surt_key(self.url)

    @property
    def page(self) -> str:
        return page_key(self.url)

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
    source: str  # cdx-prefix, cdx, or memento:<endpoint>
    text_similarity: float | None
    verified: bool  # False: a best effort whose text did not match the post
    mimetype: str = ""
    digest: str = ""
    revisited: str | None = None  # a revisit record: the timestamp of the verified capture it repeats

    @property
    def datetime(self) -> datetime | None:
        return timestamp_to_datetime(self.timestamp)


@dataclass
class Finding:
    """What a search found: the capture, or why none; the captures rejected and the steps taken (the repair's
    evidence)."""

    choice: Choice | None = None
    rejected: list[dict] = field(default_factory=list)
    path: list[str] = field(default_factory=list)
    error: str | None = None  # why nothing was found (excluded, never archived, archive down ...)
    transient: bool = False  # the archive failed us: try again later


class SnapshotFinder:
    """Finds and verifies a capture per Want; `plan` first lets links of one host share CDX queries."""

    def __init__(self, client: WaybackClient, settings: Settings, cache: LookupCache | None = None) -> None:
        self.settings = settings
        self.cache = cache or LookupCache(None, settings.archive_negative_ttl_days)
        self.lookups = ArchiveLookups(client, self.cache)
        self._bulk: dict[str, asyncio.Task] = {}
        self.stats: Counter[str] = Counter()

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
            previous: asyncio.Task | None = None
            for cluster in clusters:
                if len({w.key for w in cluster}) < BULK_MIN_LINKS:
                    continue
                # One host's queries one after another (the CDX rate limit serialises them anyway): a host the
                # archive excludes is refused once, and the client answers its other spans (wayback.client).
                task = previous = asyncio.ensure_future(self._bulk_cluster(cluster, after=previous))
                planned += 1
                for want in cluster:
                    self._bulk.setdefault(want.ident, task)
        return planned

    @staticmethod
    def _candidates_key(want: Want) -> str:
        return f"candidates|{want.key}|{want.target.timestamp}"

    async def _bulk_cluster(self, cluster: list[Want], after: asyncio.Task | None = None) -> None:
        if after is not None:
            await asyncio.wait([after])  # its outcome is its own: only the order matters here
        first, last = cluster[0].target.when, cluster[-1].target.when
        start, end = first - timedelta(days=BULK_PAD_DAYS), last + timedelta(days=BULK_PAD_DAYS)
        from_, to = format_timestamp(start), format_timestamp(end)
        try:
            answer = await self.lookups.prefix_rows(prefix_url(cluster), from_, to)
        except ArchiveQueryError:
            raise  # a query of ours the archive would refuse: a bug to surface, not a host with no captures
        except ArchiveError:
            return  # the archive is down or refused the query: each link asks on its own instead
        self.stats["bulk_queries"] += 1
        rows = [record_of(r) for r in answer["rows"]]
        by_page: dict[str, list[CdxRecord]] = defaultdict(list)
        for record in rows:
            by_page[page_key(record.original)].append(record)
        # Rows come by urlkey: with pages left unread, only keys before the last one returned are complete.
        keys = [record.urlkey or surt_key(record.original) for record in rows]
        complete_before = max(keys) if answer.get("truncated") and keys else None
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
                candidates = [c for c in order_candidates(by_page.get(want.page, []), want.target.when,
                                                          source="cdx-prefix", before=want.before)
                              if c.rank <= horizon]
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
        """The nearest capture that verifies (see the package notes); the archive failing is a Finding, not an
        exception (a request of ours it would refuse is raised: that is a bug)."""
        try:
            return await self._find(want)
        except ArchiveQueryError:
            raise  # a request of ours the archive would refuse: a bug to surface, not a capture missing
        except ArchiveError as exc:
            # Down, rate limited past the retries, or an answer we cannot read: nothing was cached, so the
            # next run asks again.
            return Finding(error=f"{type(exc).__name__}: {exc}", transient=True)

    async def _find(self, want: Want) -> Finding:
        search = _Search(want, self.settings.min_text_similarity, max(1, self.settings.verify_budget),
                         tried=set(want.skip))
        finding = search.finding
        # 1. A host's shared prefix query.
        planned = await self._planned(want)
        if planned is not None:
            finding.path.append("cdx-prefix")
            search.excluded = planned.get("excluded")
            if chosen := await self._try_candidates(search, [CaptureCandidate(**c) for c in planned["candidates"]]):
                return search.found(chosen)
        # 2. The page's own CDX list (its variants under tracking arguments included), where the shared
        # query did not settle it: one request, then one replay per capture judged.
        if not search.excluded and search.budget > 0:
            finding.path.append("cdx")
            answer = await self.lookups.page_captures(want.url)
            if answer.get("excluded"):
                search.excluded = answer["excluded"]
            elif not answer["rows"]:
                search.never_archived = True
            elif chosen := await self._try_candidates(search, order_candidates(
                    [record_of(r) for r in answer["rows"]], want.target.when, before=want.before)):
                return search.found(chosen)
        if search.excluded:
            finding.error = f"excluded from the Wayback Machine ({search.excluded})"
        # 3. Other archives.
        for endpoint in self.settings.memento_timegates:
            chosen = await self._try_other_archive(endpoint, search)
            finding.path.append(f"memento:{endpoint}")
            if chosen:
                return search.found(chosen)
        if search.best_effort:
            finding.choice = max(search.best_effort, key=lambda c: (c.text_similarity or 0.0, -abs(
                (c.datetime or want.target.when) - want.target.when).total_seconds()))
        elif finding.error is None:
            finding.error = "no capture verifies" if finding.rejected else ("the Wayback Machine has not archived this URL as a working page (no 200 capture)")
        return finding

    async def _try_candidates(self, search: _Search, candidates: list[CaptureCandidate]) -> Choice | None:
        """The first of the listed captures that verifies, within the budget; an "excluded" page ends the list."""
        for candidate in candidates:
            if search.budget <= 0 or search.excluded:
                return None
            if candidate.timestamp in search.tried:
                continue
            search.tried.add(candidate.timestamp)
            search.budget -= 1
            view = await self.lookups.memento(candidate.original, candidate.timestamp)
            served = view.get("timestamp")
            if served and served != candidate.timestamp:
                if served in search.tried:
                    continue  # the listed capture plays as one already judged
                search.tried.add(served)
            if chosen := search.judge(view, candidate.timestamp, candidate.source, candidate):
                return chosen
        return None

    async def _try_other_archive(self, endpoint: str, search: _Search) -> Choice | None:
        want = search.want
        source = f"memento:{endpoint}"
        try:
            items = await self.lookups.other_mementos(endpoint, want.url, want.target.when)
        except ArchiveQueryError:
            raise
        except ArchiveError as exc:
            search.reject("", {}, CaptureCheck(False, "error", f"{endpoint}: {exc}"), source)
            return None
        # The Wayback Machine was asked already; aggregators list its captures too.
        items = [i for i in items if (urlsplit(i["uri"]).hostname or "") not in ("web.archive.org", "wayback.archive.org")]

        def rank(item: dict) -> float:
            when = timestamp_to_datetime(item["timestamp"]) if item["timestamp"] else None
            return weighted_distance(when, want.target.when) if when else float("inf")

        for item in sorted(items, key=rank)[:max(1, self.settings.verify_budget)]:
            view = await self.lookups.other_memento(item)
            archive = (urlsplit(item["uri"]).hostname or "").lower()
            chosen = search.judge(view, item["timestamp"], source, archive=archive, url=item["uri"],
                                  timestamp=view.get("timestamp") or item["timestamp"])
            if chosen:
                return chosen
        return None


@dataclass
class _Search:
    """One Want's search through the steps of `SnapshotFinder._find`: the fetches left, the captures judged,
    the rejections with their reasons, and the captures rejected for their text alone (a best effort, should
    nothing verify)."""

    want: Want
    min_similarity: float
    budget: int
    tried: set[str] = field(default_factory=set)
    finding: Finding = field(default_factory=Finding)
    best_effort: list[Choice] = field(default_factory=list)
    excluded: str | None = None  # why the Wayback Machine will not show the page: no use asking it further
    never_archived: bool = False

    def found(self, choice: Choice) -> Finding:
        self.finding.choice = choice
        return self.finding

    def judge(self, view: dict, listed: str, source: str, candidate: CaptureCandidate | None = None, *,
              archive: str = "web.archive.org", url: str | None = None, timestamp: str | None = None) -> Choice | None:
        """The capture as a Choice when it verifies; otherwise None, the rejection noted, an "excluded" page
        remembered and a page rejected for its text alone kept as a best effort. `listed` is the timestamp the
        capture was asked for; `timestamp`, when given, the one it is known by (another archive's)."""
        check = verify_capture(view, self.want.post_text, self.min_similarity)
        if check.ok:
            return _choice(view, check, source, candidate, archive, url, timestamp)
        self.reject(listed, view, check, source)
        if check.kind == "excluded":
            self.excluded = check.reason
        elif check.text_only:
            self.best_effort.append(_choice(view, check, source, candidate, archive, url, timestamp))
        return None

    def reject(self, listed: str, view: dict, check: CaptureCheck, source: str) -> None:
        self.finding.rejected.append({
            "timestamp": listed, "served": view.get("timestamp"), "original": view.get("original"),
            "source": source, "status": view.get("status"), "kind": check.kind, "reason": check.reason,
            "text_similarity": check.text_similarity, "title": view.get("title")})


def _choice(view: dict, check: CaptureCheck, source: str, candidate: CaptureCandidate | None, archive: str,
            url: str | None, timestamp: str | None) -> Choice:
    timestamp = timestamp or view["timestamp"]
    original, repeats = view["original"], None
    if candidate is not None and candidate.revisited and timestamp == candidate.timestamp:
        # A revisit nearer the target repeats these very bytes (same digest), and the Wayback Machine replays it
        # as this content at its own date: link that capture, the page as it stood nearest the target.
        repeats = timestamp
        timestamp, original = candidate.revisited, candidate.revisited_original or original
    # The Wayback Machine plays a capture under the URL without the default port its older rows carry.
    return Choice(url or public_archive_url(timestamp, normalize_url(original)), timestamp, original, archive,
                  source, check.text_similarity, check.ok, view.get("mimetype") or "",
                  candidate.digest if candidate else "", repeats)


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

