"""The target date a capture should be nearest to, and the candidate captures in order (steps 1 and 2 of the
package notes): pure, no I/O."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import datetime, time, timedelta, timezone
from typing import Iterable

from linkkeeper.text.dates import parse_iso_or_none
from linkkeeper.text.urls import url_date
from linkkeeper.wayback import CdxRecord, format_timestamp, surt_key, timestamp_to_datetime

AFTER_WEIGHT = 2.0

# Query arguments that feeds, newsletters and share buttons add to an article's URL: the page is the same
# (the Wayback Machine often holds a feed's `?cmp=rss` or `?utm_source=feedburner` capture as the first one).
TRACKING_ARG = re.compile(r"(?:utm_[a-z]+|cmp|cmpid|ncid|icid|mbid|xtor|fbclid|gclid|mc_cid|mc_eid|ito|dlvrit)"
                          r"(?:=|$)", re.IGNORECASE)


def page_key(url: str) -> str:
    """The archive's match key of a page, tracking arguments left out: `story.html?id=7&utm_source=x` and
    `story.html?id=7` are one page."""
    key = surt_key(url)
    base, sep, query = key.partition("?")
    if not sep:
        return key
    kept = [arg for arg in query.split("&") if arg and not TRACKING_ARG.match(arg)]
    return base + ("?" + "&".join(kept) if kept else "")


@dataclass(frozen=True)
class Target:
    when: datetime  # aware, UTC
    source: str  # "post", "url" (the article's date in its URL) or "archive-link" (the capture linked)

    @property
    def timestamp(self) -> str:
        return format_timestamp(self.when)


def target_date(url: str, published: str | None, archive_timestamp: str | None = None) -> Target:
    """The date a replacement should be nearest to (see the package notes)."""
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


def weighted_distance(captured: datetime, when: datetime) -> float:
    """Seconds from the target, a capture after it counting AFTER_WEIGHT times as far."""
    delta = (captured - when).total_seconds()
    return -delta if delta <= 0 else delta * AFTER_WEIGHT


@dataclass(frozen=True)
class CaptureCandidate:
    """A capture worth fetching: a 200 row (or the capture a revisit repeats), with its rank."""

    timestamp: str
    original: str
    mimetype: str = ""
    digest: str = ""
    rank: float = 0.0  # weighted seconds from the target (smaller is better)
    revisited: str | None = None  # a revisit of it nearer the target, which it stands for
    source: str = "cdx"
    revisited_original: str | None = None  # the URL that revisit was recorded under

    def as_json(self) -> dict:
        return asdict(self)


def order_candidates(records: Iterable[CdxRecord], when: datetime, *, source: str = "cdx",
                     before: datetime | None = None) -> list[CaptureCandidate]:
    """200 captures nearest first (weighted), each capture once; redirects, errors, malformed rows and revisits
    whose repeated capture is not in the answer are left out, and so are captures at or after `before` (a page
    seen to change then: later captures show what replaced it). A page's captures under tracking arguments
    count as its own (page_key)."""
    records = [r for r in records if not r.is_malformed and r.datetime is not None
               and (before is None or r.datetime < before)]
    bases: dict[tuple[str, str], list[CdxRecord]] = defaultdict(list)
    for r in records:
        if not r.is_revisit:
            bases[(page_key(r.original), r.digest)].append(r)
    best: dict[tuple[str, str], tuple[float, CdxRecord | None, CdxRecord]] = {}
    for r in records:
        if r.is_revisit:
            earlier = [b for b in bases.get((page_key(r.original), r.digest), []) if b.timestamp <= r.timestamp]
            # A revisit whose capture is not in the answer (recorded under another URL, or filtered out) is
            # fetched as it is: the Wayback Machine replays it as the content it repeats, and verification
            # tells an article from the redirect or error page it may repeat.
            base, seen_at = (max(earlier, key=lambda b: b.timestamp), r) if earlier else (r, None)
        else:
            base, seen_at = r, None
        if base.statuscode != "200" and not base.is_revisit:
            continue  # a revisit of a redirect or an error page is a redirect or an error page
        rank, revisited = weighted_distance(base.datetime, when), None  # type: ignore[arg-type]
        if seen_at is not None and (seen_rank := weighted_distance(seen_at.datetime, when)) < rank:  # type: ignore[arg-type]
            rank, revisited = seen_rank, seen_at
        key = (base.timestamp, page_key(base.original))
        if key not in best or rank < best[key][0]:
            best[key] = (rank, revisited, base)
    # Revisits on their own come last: many repeat a redirect or an error page, each costing a fetch.
    ordered = sorted(best.values(), key=lambda item: (item[2].is_revisit, item[0], item[2].timestamp))
    return [CaptureCandidate(b.timestamp, b.original, b.mimetype, b.digest, rank,
                             revisited.timestamp if revisited else None, source,
                             revisited.original if revisited else None)
            for rank, revisited, b in ordered]
