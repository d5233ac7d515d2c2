"""Owns one HTTP answer as the client read it (status, headers, a capped body), and the shape of the client's
`send` that spn.py and memento.py are handed: every request they make goes through the client's limiters
and retries (WaybackClient._request), never around them."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Awaitable, Callable

import aiohttp
from multidict import CIMultiDict

# Failures of the connection itself (not an answer): retried like a 5xx, then ArchiveUnavailableError.
TRANSPORT_ERRORS = (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError, asyncio.TimeoutError)


@dataclass
class ArchiveResponse:
    """An answer from an archive endpoint, body cut at the request's cap."""

    status: int
    headers: CIMultiDict
    body: bytes
    truncated: bool
    url: str

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    @property
    def is_memento(self) -> bool:
        """An archived response: its status belongs to the archived site, not to the archive."""
        return "Memento-Datetime" in self.headers


# WaybackClient._request: (endpoint, method, url, *, params, data, headers, cap, timeout, final, proceed).
Send = Callable[..., Awaitable[ArchiveResponse]]


async def read_capped(response: aiohttp.ClientResponse, cap: int) -> tuple[bytes, bool]:
    """The body up to `cap` bytes, and whether there was more."""
    chunks: list[bytes] = []
    total = 0
    async for chunk in response.content.iter_chunked(64 * 1024):
        room = cap - total
        if len(chunk) >= room:
            chunks.append(chunk[:room])
            return b"".join(chunks), len(chunk) > room or not response.content.at_eof()
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks), False
