"""The target date a capture should be nearest to, and the candidate captures in order (steps 1 and 2 of the
package notes): pure, no I/O."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import datetime, time, timedelta, timezone
from typing import Iterable

from linkkeeper.text.dates import parse_iso_or_none
from linkkeeper.text.urls import url_date
from linkkeeper.wayback import CdxRecord, format_timestamp, surt_key, timestamp_to_datetime

AFTER_WEIGHT = 2.0


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

    def as_json(self) -> dict:
        return asdict(self)


def order_candidates(records: Iterable[CdxRecord], when: datetime, *, source: str = "cdx") -> list[CaptureCandidate]:
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
    return [CaptureCandidate(b.timestamp, b.original, b.mimetype, b.digest, rank, revisited, source)
            for rank, revisited, b in ordered]
