"""Times as linkkeeper stores and compares them: aware UTC datetimes, written as `2026-11-27T08:00:00Z`.
Python 3.11's `fromisoformat` reads the `Z` and every offset an export writes; a time without an offset is
taken as UTC. Pure functions; no I/O."""

from __future__ import annotations

from datetime import date, datetime, timezone


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def to_iso(when: datetime) -> str:
    """The store's spelling of a time: UTC, to the second, with a Z (`2026-11-27T08:00:00Z`; isoformat
    spells it a third faster than strftime, and every check writes one)."""
    if when.tzinfo is not timezone.utc:
        when = when.astimezone(timezone.utc)
    return when.isoformat(timespec="seconds")[:19] + "Z"


def now_iso() -> str:
    return to_iso(utcnow())


def parse_iso(text: str) -> datetime:
    """An ISO 8601 date or date-time as an aware datetime (no offset: UTC). Raises ValueError."""
    when = datetime.fromisoformat(text.strip())
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def parse_iso_or_none(text: str | None) -> datetime | None:
    """Like parse_iso, but None for an empty or unreadable value (dates in exports written by others)."""
    if not text:
        return None
    try:
        return parse_iso(text)
    except ValueError:
        return None


def local_date(text: str | None) -> date | None:
    """The calendar date a time was written with (its own offset, not UTC): the day the blog showed."""
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.strip()).date()
    except ValueError:
        try:
            return date.fromisoformat(text.strip()[:10])
        except ValueError:
            return None
