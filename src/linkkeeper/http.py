"""The one aiohttp session: connect_to rules, the address guard, per-host limits and timeouts.

The address guard keeps a link written by a stranger from turning the checker against the machine it runs
on: names that resolve to loopback, private, link-local, multicast, reserved or unspecified addresses are
refused (judged on the address that would actually be connected), unless a connect_to rule or the
`allow_addresses` setting says otherwise.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from collections import defaultdict
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, Callable

import aiohttp
from aiohttp.abc import AbstractResolver
from aiohttp.resolver import ThreadedResolver

from linkkeeper.settings import ConnectTo, Settings


class AddressRefused(OSError):
    """The target resolves to an address the guard refuses (loopback, private, link-local, ...)."""


def refusal_reason(address: str, allow: tuple[str, ...] = ()) -> str | None:
    """Why connecting to this IP address is refused, or None when it is a public address (or allowed)."""
    try:
        ip = ipaddress.ip_address(address.strip("[]").split("%")[0])
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    for entry in allow:
        try:
            if ip in ipaddress.ip_network(entry, strict=False):
                return None
        except ValueError:
            continue
    for label, flag in (("loopback", ip.is_loopback), ("private", ip.is_private), ("link-local", ip.is_link_local),
                        ("multicast", ip.is_multicast), ("unspecified", ip.is_unspecified),
                        ("reserved", ip.is_reserved)):
        if flag:
            return f"{label} address {ip}"
    return None


class GuardedResolver(AbstractResolver):
    """Resolves through connect_to rules first, then DNS, and refuses what the address guard refuses."""

    def __init__(self, connect_to: tuple[ConnectTo, ...] = (), allow: tuple[str, ...] = ()) -> None:
        self.connect_to = connect_to
        self.allow = allow
        self.inner = ThreadedResolver()

    async def resolve(self, host: str, port: int = 0, family: int = socket.AF_INET) -> list[dict[str, Any]]:
        for rule in self.connect_to:
            if rule.matches(host, port):
                fam = socket.AF_INET6 if ":" in rule.address else socket.AF_INET
                return [{"hostname": host, "host": rule.address, "port": rule.to_port or port,
                         "family": fam, "proto": 0, "flags": socket.AI_NUMERICHOST}]
        infos = await self.inner.resolve(host, port, family)
        for info in infos:
            reason = refusal_reason(info["host"], self.allow)
            if reason:
                raise AddressRefused(f"{host} resolves to {reason}")
        return infos

    async def close(self) -> None:
        await self.inner.close()


def literal_refusal(host: str, settings: Settings) -> str | None:
    """IP-literal hosts never reach the resolver (aiohttp connects to them directly), so judge them here."""
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None
    if any(rule.matches(host, 0) or rule.host == host for rule in settings.connect_to if rule.host != "*"):
        return None
    return refusal_reason(host, settings.allow_addresses)


def make_session(settings: Settings, **kwargs: Any) -> aiohttp.ClientSession:
    """The one session of a run: connection pool sized to the global concurrency, guarded resolver."""
    connector = aiohttp.TCPConnector(
        limit=settings.concurrency, limit_per_host=0, ttl_dns_cache=300,
        resolver=GuardedResolver(settings.connect_to, settings.allow_addresses),
        enable_cleanup_closed=True,
    )
    timeout = aiohttp.ClientTimeout(total=settings.total_timeout, sock_connect=settings.connect_timeout,
                                    sock_read=settings.read_timeout)
    return aiohttp.ClientSession(
        connector=connector, timeout=timeout, headers={"User-Agent": settings.full_user_agent},
        auto_decompress=True, trust_env=False, **kwargs,
    )


class HostLimiter:
    """Politeness per host, shared by every task of the run: at most `per_host` requests in flight, at least
    `interval` seconds between the starts of two requests, and an adaptive interval: a 429 doubles it (at
    least 1 s, at most `max_interval`), each good answer lets it decay back towards the configured floor."""

    def __init__(self, per_host: int, interval: float = 0.0, max_interval: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.per_host = max(1, per_host)
        self.floor = max(0.0, interval)
        self.max_interval = max_interval
        self.clock = clock
        self._semaphores: dict[str, asyncio.Semaphore] = defaultdict(lambda: asyncio.Semaphore(self.per_host))
        self.intervals: dict[str, float] = defaultdict(lambda: self.floor)
        self._next_start: dict[str, float] = defaultdict(float)

    def __call__(self, host: str) -> asyncio.Semaphore:
        return self._semaphores[host.lower()]

    @asynccontextmanager
    async def slot(self, host: str) -> AsyncIterator[None]:
        host = host.lower()
        async with self._semaphores[host]:
            wait = self._next_start[host] - self.clock()
            if wait > 0:
                await asyncio.sleep(wait)
            self._next_start[host] = max(self.clock(), self._next_start[host]) + self.intervals[host]
            yield

    def feedback(self, host: str, status: int | None) -> None:
        host = host.lower()
        if status == 429:
            self.intervals[host] = min(self.max_interval, max(1.0, self.intervals[host] * 2))
            self._next_start[host] = max(self._next_start[host], self.clock() + self.intervals[host])
        elif status is not None and status < 400 and self.intervals[host] > self.floor:
            self.intervals[host] = max(self.floor, self.intervals[host] * 0.8)
