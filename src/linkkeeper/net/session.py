"""The one aiohttp session of a run (connect_to rules and the address guard of net/guard.py on every
connection, bounded headers, timeouts), the event loop a stage runs on, and politeness per host.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections import defaultdict
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, Awaitable, Callable, TypeVar
from urllib.parse import urlsplit

import aiohttp

from linkkeeper.net.guard import GuardedResolver, RoutingConnector, literal_address_guard
from linkkeeper.settings import Settings


T = TypeVar("T")


def archive_endpoints(settings: Settings) -> frozenset[tuple[str, int]]:
    """(host, port) of every archive service the settings name: chosen by whoever runs linkkeeper, so the
    archive client may reach them wherever they are (a local Wayback stand-in, a pywb on the LAN)."""
    return endpoints_of([*wayback_urls(settings), *getattr(settings, "memento_timegates", ())])


def wayback_urls(settings: Settings) -> list[str]:
    """The Wayback Machine's endpoints the settings name (CDX, availability, replay, Save Page Now)."""
    return [settings.wayback_cdx_url, settings.wayback_availability_url, settings.wayback_replay_url,
            getattr(settings, "wayback_save_url", "")]


def endpoints_of(urls) -> frozenset[tuple[str, int]]:
    """(host, port) of each URL that has a readable one."""
    pairs = set()
    for url in urls:
        parts = urlsplit(url or "")
        if parts.hostname:
            try:
                port = parts.port or (443 if parts.scheme == "https" else 80)
            except ValueError:
                continue
            pairs.add((parts.hostname.rstrip("."), port))
    return frozenset(pairs)


def run(coro: Awaitable[T]) -> T:
    """Run a stage's coroutine to completion on uvloop where it is installed (libuv's event loop: the
    checker spends a good part of its CPU in the event loop and aiohttp's transport; measured in
    bench/check_bench.py), else on asyncio's own loop."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    return uvloop.run(coro)


@asynccontextmanager
async def session_for(settings: Settings, session: aiohttp.ClientSession | None = None) -> AsyncIterator[aiohttp.ClientSession]:
    """The caller's session when it has one (a run shares one pool and one set of limits), else a new one
    closed on exit."""
    if session is not None:
        yield session
    else:
        async with make_session(settings) as own:
            yield own


def make_session(settings: Settings, *, trust_archive: bool = True, **kwargs: Any) -> aiohttp.ClientSession:
    """The one session of a run: connection pool sized to the global concurrency, every connection judged by
    the address guard, response headers bounded. `trust_archive` lets the configured archive endpoints
    through the guard (the checker's session passes False: a link in a post is never trusted)."""
    trusted = archive_endpoints(settings) if trust_archive else frozenset()
    options = dict(resolver=GuardedResolver(settings.connect_to, settings.allow_addresses, trusted),
                   limit=settings.concurrency, limit_per_host=0, ttl_dns_cache=300, enable_cleanup_closed=True)
    connector = RoutingConnector(settings.connect_to, **options)
    timeout = aiohttp.ClientTimeout(total=settings.total_timeout, sock_connect=settings.connect_timeout,
                                    sock_read=settings.read_timeout)
    limits: dict[str, int] = {"max_line_size": settings.max_header_size, "max_field_size": settings.max_header_size}
    if "max_headers" in inspect.signature(aiohttp.ClientSession).parameters:
        limits["max_headers"] = settings.max_headers
    return aiohttp.ClientSession(
        connector=connector, timeout=timeout, headers={"User-Agent": settings.full_user_agent},
        auto_decompress=True, trust_env=False,
        middlewares=(literal_address_guard(settings.connect_to, settings.allow_addresses, trusted),),
        **limits, **kwargs,
    )


class HostLimiter:
    """Politeness per host, shared by every task of the run: at most `per_host` requests in flight, at least
    `interval` seconds between the starts of two requests, and an adaptive interval: a 429 doubles it (at
    least 1 s, at most `max_interval`), each good answer halves it, back towards the configured floor.
    A 429 to a request sent before the host was last slowed does not slow it again: the requests in flight
    when a host starts refusing all come back 429 together, and each doubling the interval made one burst
    a pause of a minute; the host's answers at the new pace decide the next step."""

    def __init__(self, per_host: int, interval: float = 0.0, max_interval: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.per_host = max(1, per_host)
        self.floor = max(0.0, interval)
        self.max_interval = max_interval
        self.clock = clock
        self._semaphores: dict[str, asyncio.Semaphore] = defaultdict(lambda: asyncio.Semaphore(self.per_host))
        self.intervals: dict[str, float] = defaultdict(lambda: self.floor)
        self._next_start: dict[str, float] = defaultdict(float)
        self._slowed_at: dict[str, float] = {}

    async def acquire(self, host: str) -> None:
        """Take one of the host's lanes, then wait out its interval (release with `release`)."""
        semaphore = self._semaphores[host]
        await semaphore.acquire()
        try:
            wait = self._next_start[host] - self.clock()
            if wait > 0:
                await asyncio.sleep(wait)
        except BaseException:
            semaphore.release()
            raise
        self._next_start[host] = max(self.clock(), self._next_start[host]) + self.intervals[host]

    def release(self, host: str) -> None:
        self._semaphores[host].release()

    def feedback(self, host: str, status: int | None, sent_at: float | None = None) -> None:
        """Adapt the host's interval to an answer; `sent_at` (the clock's time the request was sent, when
        known) tells a 429 to a request sent before the host was last slowed, which does not slow it again."""
        host = host.lower()
        if status == 429:
            if sent_at is not None and sent_at < self._slowed_at.get(host, float("-inf")):
                return
            self._slowed_at[host] = self.clock()
            self.intervals[host] = min(self.max_interval, max(1.0, self.intervals[host] * 2))
            self._next_start[host] = max(self._next_start[host], self.clock() + self.intervals[host])
        elif status is not None and status < 400 and self.intervals[host] > self.floor:
            # Halved: one 429 then good answers costs the host about 2 s of its pace in all (1 + 1/2 + ...),
            # not about 5 s at 0.8, while all its lanes wait; another 429 slows it again.
            self.intervals[host] = max(self.floor, self.intervals[host] * 0.5)


class RequestSlot:
    """Held around one request: a lane of its host, its interval waited out first (a slow host holds up no
    other), then one of the run's global slots (`gate`). A plain class rather than two nested
    asynccontextmanagers: it is entered once per request, and the generator machinery cost more than the
    semaphores themselves."""

    __slots__ = ("gate", "host", "hosts")

    def __init__(self, hosts: HostLimiter, host: str, gate: asyncio.Semaphore) -> None:
        self.hosts, self.host, self.gate = hosts, host.lower(), gate

    async def __aenter__(self) -> None:
        await self.hosts.acquire(self.host)
        try:
            await self.gate.acquire()
        except BaseException:
            self.hosts.release(self.host)
            raise

    async def __aexit__(self, *exc_info: object) -> None:
        self.gate.release()
        self.hosts.release(self.host)
