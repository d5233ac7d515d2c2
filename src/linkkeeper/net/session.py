"""The one aiohttp session: connect_to rules, the address guard, per-host limits and timeouts.

The address guard keeps a link written by a stranger from turning the checker against the machine it runs
on: loopback, private, link-local, multicast, reserved, unspecified and other non-public addresses are
refused, judged on the address that would actually be connected: every address a name resolves to
(GuardedResolver), and an IP literal in any spelling the socket layer accepts (GuardedConnector, since
aiohttp never asks the resolver about literals). A connect_to rule or the `allow_addresses` setting are the
only ways past it; a session for the archive client also lets through the archive endpoints the settings
name.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import ipaddress
import re
import socket
import time
from collections import defaultdict
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, Awaitable, Callable, TypeVar
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver
from aiohttp.resolver import ThreadedResolver

from linkkeeper.settings import ConnectTo, Settings


T = TypeVar("T")


class AddressRefused(OSError):
    """The target resolves to an address the guard refuses (loopback, private, link-local, ...)."""


# Every spelling inet_aton takes for IPv4 (decimal, octal, hex, 1 to 4 parts): getaddrinfo reads these without
# asking DNS, so `http://0x7f.1/` reaches 127.0.0.1 unless it is judged as the address it is.
_LEGACY_IPV4 = re.compile(r"(?:0x[0-9a-f]*|[0-9]+)(?:\.(?:0x[0-9a-f]*|[0-9]+)){0,3}", re.IGNORECASE)
# aiohttp takes a host of digits and dots for an address, whatever its shape.
_DIGITS_AND_DOTS = re.compile(r"[0-9.]+")
# Prefixes whose addresses carry an IPv4 address inside: judged by that address (6to4, NAT64 well-known prefix).
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def ip_of(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The IP address a URL host names literally, in any spelling the socket layer would accept, or None for a
    name (which DNS must resolve)."""
    text = host.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    if text.endswith(".") and not text.endswith(".."):
        text = text[:-1]  # "127.0.0.1." is the same address, and a resolver may be asked for it as a name
    text = text.replace("%25", "%")  # a zone id as written in a URL: [fe80::1%25eth0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        pass
    if _LEGACY_IPV4.fullmatch(text):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(text))
        except OSError:
            return None
    return None


def looks_literal(host: str) -> bool:
    """Whether aiohttp or the socket layer would take this host as an address rather than a name (so a host
    like this that ip_of cannot read must be refused, not handed on)."""
    text = host.strip("[]").rstrip(".")
    return ":" in text or bool(text) and bool(_LEGACY_IPV4.fullmatch(text) or _DIGITS_AND_DOTS.fullmatch(text))


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped:
        return ip.ipv4_mapped
    if ip.sixtofour:
        return ip.sixtofour
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


@functools.lru_cache(maxsize=64)
def _networks(allow: tuple[str, ...]) -> tuple:
    # Parsed once per allow-list: the guard runs for every connection and every redirect hop.
    nets = []
    for entry in allow:
        try:
            nets.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            continue
    return tuple(nets)


def _allowed(ip, allow: tuple[str, ...]) -> bool:
    return any(ip.version == net.version and ip in net for net in _networks(tuple(allow)))


def _why(ip) -> str | None:
    # Most specific first: Python counts loopback, link-local and unspecified addresses as private too.
    for label, flag in (("loopback", ip.is_loopback), ("unspecified", ip.is_unspecified),
                        ("link-local", ip.is_link_local), ("multicast", ip.is_multicast),
                        ("site-local", getattr(ip, "is_site_local", False)), ("private", ip.is_private),
                        ("reserved", ip.is_reserved)):
        if flag:
            return label
    # Whatever else is not globally routable (shared address space 100.64.0.0/10, ...) is no public site either.
    return None if ip.is_global else "non-public"


def refusal_reason(address: str, allow: tuple[str, ...] = ()) -> str | None:
    """Why connecting to this IP address is refused, or None when it is a public address (or allowed).

    Any spelling is read (see ip_of); an address that carries an IPv4 address (IPv4-mapped, 6to4, NAT64) is
    judged by the address it carries as well as by itself."""
    ip = ip_of(address)
    if ip is None:
        return f"unreadable IP address {address!r}" if looks_literal(address) else None
    if _allowed(ip, allow):
        return None
    inner = _embedded_ipv4(ip) if isinstance(ip, ipaddress.IPv6Address) else None
    if inner is not None:
        if _allowed(inner, allow):
            return None
        why = _why(inner)
        if why:
            return f"{why} address {inner} (inside {ip})"
        if ip.ipv4_mapped or ip in _NAT64:
            return None  # a public IPv4 address reached over IPv6
    why = _why(ip)
    return f"{why} address {ip}" if why else None


def _info(host: str, address: str, port: int) -> dict[str, Any]:
    fam = socket.AF_INET6 if ":" in address else socket.AF_INET
    return {"hostname": host, "host": address, "port": port, "family": fam, "proto": 0,
            "flags": socket.AI_NUMERICHOST}


def _rule_for(connect_to: tuple[ConnectTo, ...], host: str, port: int | None) -> ConnectTo | None:
    """The connect_to rule for host:port (any port when None). A "*" rule routes names only: a literal
    address in a link never silently becomes the test server; a rule naming an address matches its every
    spelling."""
    ip = ip_of(host)
    literal = ip is not None or looks_literal(host)
    for rule in connect_to:
        if rule.host == "*" and literal:
            continue
        if port is not None and rule.port not in ("*", str(port)):
            continue
        if rule.host in ("*", host.lower()) or (ip is not None and ip_of(rule.host) == ip):
            return rule
    return None


class GuardedResolver(AbstractResolver):
    """Resolves through connect_to rules first, then DNS, and refuses what the address guard refuses.

    `trusted` (host, port) pairs are resolved without judging: the archive endpoints the settings name."""

    def __init__(self, connect_to: tuple[ConnectTo, ...] = (), allow: tuple[str, ...] = (),
                 trusted: frozenset[tuple[str, int]] = frozenset()) -> None:
        self.connect_to = connect_to
        self.allow = allow
        self.trusted = trusted
        self.inner = ThreadedResolver()

    async def resolve(self, host: str, port: int = 0, family: int = socket.AF_INET) -> list[dict[str, Any]]:
        rule = _rule_for(self.connect_to, host, port)
        if rule:
            return [_info(host, rule.address, rule.to_port or port)]
        infos = await self.inner.resolve(host, port, family)
        if (host.lower().rstrip("."), port) in self.trusted:
            return infos
        for info in infos:
            reason = refusal_reason(info["host"], self.allow)
            if reason:
                raise AddressRefused(f"{host} resolves to {reason}")
        return infos

    async def close(self) -> None:
        await self.inner.close()


# The connector below judges IP-literal hosts where aiohttp decides what to connect to. If a new aiohttp
# stopped calling this hook, literals would pass unjudged: fail at import instead of silently.
if not callable(getattr(aiohttp.TCPConnector, "_resolve_host", None)):  # pragma: no cover
    raise ImportError("this aiohttp has no TCPConnector._resolve_host: the address guard cannot judge IP literals")


class GuardedConnector(aiohttp.TCPConnector):
    """A TCPConnector that judges every host it is asked to connect to: aiohttp hands IP-literal hosts
    straight to the socket layer without consulting the resolver, so they are judged here (in every spelling,
    for every request and redirect hop of every session made by make_session); names go to GuardedResolver.
    connect_to rules apply first, to names and to literal addresses named explicitly."""

    def __init__(self, connect_to: tuple[ConnectTo, ...] = (), allow: tuple[str, ...] = (),
                 trusted: frozenset[tuple[str, int]] = frozenset(), **kwargs: Any) -> None:
        super().__init__(resolver=GuardedResolver(connect_to, allow, trusted), **kwargs)
        self.connect_to = connect_to
        self.allow = allow
        self.trusted = trusted

    async def _resolve_host(self, host: str, port: int, traces: Any = None) -> list[dict[str, Any]]:
        rule = _rule_for(self.connect_to, host, port)
        if rule:
            return [_info(host, rule.address, rule.to_port or port)]
        ip = ip_of(host)
        if ip is None and not looks_literal(host):
            return await super()._resolve_host(host, port, traces=traces)
        if ip is None:
            raise AddressRefused(f"{host} is not a readable IP address")
        if (host.lower().rstrip("."), port) not in self.trusted:
            reason = refusal_reason(str(ip), self.allow)
            if reason:
                raise AddressRefused(f"{host} is a {reason}")
        # Connect to the address as judged, not to the spelling (aiohttp rejects legacy spellings outright),
        # and to an IPv4-mapped address over IPv4, which is where it leads.
        target = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped else ip
        return [_info(host, str(target), port)]


def literal_refusal(host: str, settings: Settings) -> str | None:
    """Why a link's IP-literal host is refused (None for names, allowed or routed addresses): lets the checker
    say so before making a request. GuardedConnector enforces the same rule on every connection."""
    return _literal_refusal(host, settings.connect_to, settings.allow_addresses)


@functools.lru_cache(maxsize=4096)
def _literal_refusal(host: str, connect_to: tuple, allow: tuple[str, ...]) -> str | None:
    # Cached: it runs for every request and redirect hop, and a run meets few distinct hosts.
    if ip_of(host) is None and not looks_literal(host):
        return None
    if _rule_for(connect_to, host, None) is not None:
        return None
    return refusal_reason(host, allow)


def archive_endpoints(settings: Settings) -> frozenset[tuple[str, int]]:
    """(host, port) of every archive service the settings name: chosen by whoever runs linkkeeper, so the
    archive client may reach them wherever they are (a local Wayback stand-in, a pywb on the LAN)."""
    urls = [settings.wayback_cdx_url, settings.wayback_availability_url, settings.wayback_replay_url,
            getattr(settings, "wayback_save_url", ""), *getattr(settings, "memento_timegates", ())]
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
    connector = GuardedConnector(
        settings.connect_to, settings.allow_addresses, archive_endpoints(settings) if trust_archive else frozenset(),
        limit=settings.concurrency, limit_per_host=0, ttl_dns_cache=300, enable_cleanup_closed=True,
    )
    timeout = aiohttp.ClientTimeout(total=settings.total_timeout, sock_connect=settings.connect_timeout,
                                    sock_read=settings.read_timeout)
    limits: dict[str, int] = {"max_line_size": settings.max_header_size, "max_field_size": settings.max_header_size}
    if "max_headers" in inspect.signature(aiohttp.ClientSession).parameters:
        limits["max_headers"] = settings.max_headers
    return aiohttp.ClientSession(
        connector=connector, timeout=timeout, headers={"User-Agent": settings.full_user_agent},
        auto_decompress=True, trust_env=False, **limits, **kwargs,
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
