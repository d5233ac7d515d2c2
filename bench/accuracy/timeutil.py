"""Times of the evaluation world: Eastern local time for the blog and the outlets' URLs, UTC 14-digit
timestamps for the archive.

Owned here: the conversion rules only (North American DST as in force since 2007: from the second Sunday of
March to the first Sunday of November, 02:00 local).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache


@lru_cache(maxsize=None)
def _nth_sunday(year: int, month: int, n: int) -> date:
    d = date(year, month, 1)
    d += timedelta(days=(6 - d.weekday()) % 7)
    return d + timedelta(weeks=n - 1)


@lru_cache(maxsize=None)
def _dst_span(year: int) -> tuple[datetime, datetime]:
    start = datetime.combine(_nth_sunday(year, 3, 2), datetime.min.time()).replace(hour=2)
    end = datetime.combine(_nth_sunday(year, 11, 1), datetime.min.time()).replace(hour=2)
    return start, end


def eastern_offset_hours(local: datetime) -> int:
    start, end = _dst_span(local.year)
    return -4 if start <= local < end else -5


def to_utc(local: datetime) -> datetime:
    return local - timedelta(hours=eastern_offset_hours(local))


def blogger_time(local: datetime) -> str:
    """Blogger's export form: `2012-10-03T09:05:00.000-04:00`."""
    off = eastern_offset_hours(local)
    return f"{local:%Y-%m-%dT%H:%M:%S}.000{off:+03d}:00"


def ts14(utc: datetime) -> str:
    return "%04d%02d%02d%02d%02d%02d" % (utc.year, utc.month, utc.day, utc.hour, utc.minute, utc.second)


def parse_ts(ts: str) -> datetime:
    """A 1-14 digit Wayback timestamp, padded to its earliest instant (invalid parts clamped)."""
    digits = "".join(ch for ch in ts if ch.isdigit())[:14]
    digits = digits + "00000101000000"[len(digits):]
    y, mo, d = int(digits[0:4]), int(digits[4:6]), int(digits[6:8])
    h, mi, s = int(digits[8:10]), int(digits[10:12]), int(digits[12:14])
    mo = min(max(mo, 1), 12)
    while True:
        try:
            return datetime(y, mo, max(d, 1), min(h, 23), min(mi, 59), min(s, 59))
        except ValueError:
            d -= 1


def pad_ts(ts: str, high: bool) -> str:
    """A `from` bound pads to the earliest instant, a `to` bound to the latest, as the CDX server does."""
    digits = "".join(ch for ch in ts if ch.isdigit())[:14]
    if not high:
        return ts14(parse_ts(digits))
    upper = digits + "99991231235959"[len(digits):]
    return upper
