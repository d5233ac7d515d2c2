"""Archive answers kept by question: found captures for good, "nothing there" answers for
`archive_negative_ttl_days` (table `archive_lookups`, through store.py; in memory without a database), so a
second run over the same links asks the archive nothing. Concurrent asks of one question share one request."""

from __future__ import annotations

import asyncio
from typing import Any, Awaitable, Callable

from linkkeeper import store


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
        self.put(key, endpoint, value, negative=negative(value))
        return value
