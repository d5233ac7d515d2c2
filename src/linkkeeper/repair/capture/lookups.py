"""The archive questions capture choosing asks - a capture, a URL's captures nearest a date, a prefix's
captures over a span, another archive's mementos - each answered in a form that can be kept, and kept by
question: found captures for good, "nothing there" answers for `archive_negative_ttl_days` (table
`archive_lookups`, through store.py; in memory without a database), so a second run over the same links asks
the archive nothing. Concurrent asks of one question share one request."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime
from typing import Any, Awaitable, Callable

from linkkeeper import store
from linkkeeper.repair.capture.ranking import page_key
from linkkeeper.repair.capture.verification import view_of
from linkkeeper.text.urls import link_refusal
from linkkeeper.wayback import (ArchiveError, ArchiveQueryError, ArchiveUnavailableError, BlockedSiteError, CdxRecord,
                                MementoRedirectLoopError, NoMementoError, OtherMemento, RateLimitedError,
                                WaybackClient, format_timestamp, surt_key, timestamp_to_datetime)

# One page's captures (and its variants under tracking arguments) in one answer.
PAGE_CAPTURE_ROWS = 2_000
# The bulk prefix query (see the package notes): 200 captures and revisits (status `-`), a few pages at most.
PREFIX_FILTER = "statuscode:200|-"
PREFIX_FIELDS = ("urlkey", "timestamp", "original", "mimetype", "statuscode", "digest")
PREFIX_PAGE_ROWS = 10_000
PREFIX_MAX_PAGES = 3


class LookupCache:
    """Archive answers by question (see the module notes)."""

    def __init__(self, db=None, negative_ttl_days: float = 7.0) -> None:
        self.db = db
        self.negative_ttl = negative_ttl_days * 86400.0
        self.hits = 0
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

    def forget(self, key: str) -> None:
        if self.db is None:
            self._memory.pop(key, None)
        else:
            store.forget_archive_lookup(self.db, key)

    async def get(self, key: str, endpoint: str, fetch: Callable[[], Awaitable[Any]],
                  negative: Callable[[Any], bool], valid: Callable[[Any], bool] = lambda _v: True) -> Any:
        """The cached answer, or fetch it and keep it. Errors (an archive that is down) are never kept. What is
        read back is checked like a fresh answer (`valid`): a poisoned or outdated entry is dropped and asked
        again."""
        found, value = self.peek(key)
        if found and not valid(value):
            self.forget(key)
            found = False
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
        self.put(key, endpoint, value, negative=negative(value))
        return value


class ArchiveLookups:
    """The archive's answers through a LookupCache (see the module notes); archive failures and requests of
    ours it would refuse are raised, never kept."""

    def __init__(self, client: WaybackClient, cache: LookupCache) -> None:
        self.client = client
        self.cache = cache

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
            except (ArchiveUnavailableError, RateLimitedError, ArchiveQueryError):
                raise  # the archive is down, or our request is wrong: neither says anything of the capture
            except ArchiveError as exc:
                return {"requested": requested, "error": "error", "message": f"{type(exc).__name__}: {exc}"}
            view = view_of(memento, requested)
            if memento.timestamp != requested:
                # Landed elsewhere: keep it under its own timestamp too, so asking for it later costs nothing.
                self.cache.put(self._memento_key(memento.url, memento.timestamp), "replay",
                               dict(view, requested=memento.timestamp), negative=False)
            return view

        return await self.cache.get(self._memento_key(url, requested), "replay", fetch,
                                    negative=lambda v: bool(v.get("error")), valid=_is_view)

    @staticmethod
    def _memento_key(url: str, timestamp: str) -> str:
        return f"memento|{timestamp}|{url}"

    async def page_captures(self, url: str) -> dict:
        """Every 200 capture and revisit of one page, its tracking-argument variants included (`?cmp=rss`
        is often the first capture): ONE CDX prefix query on the URL, rows of other pages dropped."""
        key = page_key(url)
        prefix = _prefix_url(url)

        async def fetch() -> dict:
            try:
                records = await self.client.search(prefix, match_type="prefix", filters=[PREFIX_FILTER],
                                                   fields=PREFIX_FIELDS, limit=PAGE_CAPTURE_ROWS)
            except BlockedSiteError as exc:
                return {"excluded": str(exc), "rows": []}
            return {"rows": [row_of(r) for r in records if page_key(r.original) == key]}

        return await self.cache.get(f"cdx-page|{key}", "cdx", fetch, negative=lambda v: not v.get("rows"),
                                    valid=_are_rows)

    async def prefix_rows(self, prefix_url: str, from_: str, to: str) -> dict:
        async def fetch() -> dict:
            try:
                records, truncated = await self.client.prefix_search(
                    prefix_url, from_=from_, to=to, filters=[PREFIX_FILTER], fields=PREFIX_FIELDS,
                    page_rows=PREFIX_PAGE_ROWS, max_pages=PREFIX_MAX_PAGES)
            except BlockedSiteError as exc:
                return {"excluded": str(exc), "rows": [], "truncated": False}
            return {"rows": [row_of(r) for r in records], "truncated": truncated}

        return await self.cache.get(f"cdx-prefix|{prefix_url}|{from_}|{to}", "cdx", fetch,
                                    negative=lambda v: not v.get("rows"), valid=_are_rows)

    async def other_mementos(self, endpoint: str, url: str, when: datetime) -> list[dict]:
        async def fetch() -> list[dict]:
            found = await self.client.other_archive_mementos(endpoint, url, when)
            return [{"uri": m.uri, "timestamp": m.timestamp, "rel": m.rel} for m in found]

        return await self.cache.get(f"other|{endpoint}|{format_timestamp(when)}|{surt_key(url)}", "memento",
                                    fetch, negative=lambda v: not v, valid=_are_other_mementos)

    async def other_memento(self, item: dict) -> dict:
        async def fetch() -> dict:
            memento = OtherMemento(item["uri"], timestamp_to_datetime(item["timestamp"]) if item["timestamp"] else None,
                                   item["rel"])
            try:
                fetched = await self.client.fetch_other_memento(memento)
            except (ArchiveUnavailableError, RateLimitedError, ArchiveQueryError):
                raise
            except ArchiveError as exc:
                return {"requested": item["timestamp"], "error": "error", "message": str(exc)}
            return view_of(fetched, item["timestamp"])

        return await self.cache.get(f"other-memento|{item['uri']}", "memento", fetch,
                                    negative=lambda v: bool(v.get("error")), valid=_is_view)


# What a cached answer must look like to be used, the checks a fresh one passed (the parsers in wayback/).
_TIMESTAMP = re.compile(r"\d{14}")


def _is_view(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("requested"), str) and (
        bool(value.get("error")) or isinstance(value.get("text"), str))


def _are_rows(value: Any) -> bool:
    return isinstance(value, dict) and are_rows(value.get("rows"))


def are_rows(rows: Any) -> bool:
    """Whether `rows` (read back from the database) are CDX rows as row_of keeps them."""
    return isinstance(rows, list) and all(
        isinstance(row, list) and len(row) == len(CdxRecord.__dataclass_fields__)
        and all(isinstance(cell, str) for cell in row) for row in rows)


def _are_other_mementos(value: Any) -> bool:
    return isinstance(value, list) and all(
        isinstance(item, dict) and link_refusal(item.get("uri")) is None and isinstance(item.get("rel"), str)
        and (item.get("timestamp") == "" or (isinstance(item.get("timestamp"), str)
                                             and _TIMESTAMP.fullmatch(item["timestamp"]) is not None))
        for item in value)


def row_of(record: CdxRecord) -> list[str]:
    """A CDX record as the cache keeps it."""
    return [record.urlkey, record.timestamp, record.original, record.mimetype, record.statuscode, record.digest,
            record.length]


def record_of(row: list[str]) -> CdxRecord:
    return CdxRecord(*row)


def _prefix_url(url: str) -> str:
    """A URL as a CDX prefix covering its variants: no scheme, no fragment, no trailing slash (the index keys
    drop it, so `slug/` would not match `slug?cmp=rss`)."""
    text = url.split("#", 1)[0]
    text = text.split("://", 1)[1] if "://" in text else text
    base, sep, query = text.partition("?")
    return (base.rstrip("/") or base) + (sep + query if sep else "")
