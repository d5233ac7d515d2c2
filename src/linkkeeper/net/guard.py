"""The address guard: a link written by a stranger must not turn linkkeeper against the machine it runs on.
Loopback, private, link-local, multicast, reserved, unspecified and other non-public addresses are refused,
judged on the address that would actually be connected: every address a name resolves to (GuardedResolver,
through aiohttp's public AbstractResolver interface), and an IP literal in any spelling the socket layer accepts
(`literal_address_guard`, a client middleware: aiohttp hands IP literals straight to the socket without asking the
resolver, and a middleware sees every request, redirect hops included). connect_to rules and the
`allow_addresses` setting are the only ways past it; a session for the archive client also lets through the
archive endpoints the settings name."""

from __future__ import annotations

import functools
import ipaddress
import re
import socket
from typing import Any

import aiohttp
from aiohttp.abc import AbstractResolver
from aiohttp.resolver import ThreadedResolver

from linkkeeper.settings import ConnectTo, Settings


class AddressRefused(OSError):
    """The target resolves to an address the guard refuses (loopback, private, link-local, ...)."""


# Every spelling inet_aton takes for IPv4 (decimal, octal, hex, 1 to 4 parts): getaddrinfo reads these without
# asking DNS, so `http://0x7f.1/` reaches 127.0.0.1 unless it is judged as the address it is.
_LEGACY_IPV4 = re.compile(r"(?:0x[0-9a-f]*|[0-9]+)(?:\.(?:0x[0-9a-f]*|[0-9]+)){0,3}", re.IGNORECASE)
# aiohttp takes a host of digits and dots for an address, whatever its shape.
_DIGITS_AND_DOTS = re.compile(r"[0-9.]+")
# Prefixes whose addresses carry an IPv4 address inside: judged by that address (6to4, NAT64 well-known prefix).
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


@functools.lru_cache(maxsize=4096)
def ip_of(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The IP address a URL host names literally, in any spelling the socket layer would accept, or None for a
    name (which DNS must resolve). Cached: it is asked for every request and redirect hop, of few hosts."""
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
    """Resolves names through connect_to rules first, then DNS, and refuses an answer holding any address the
    guard refuses (one private address among public ones is how DNS rebinding starts). IP literals never
    reach a resolver (see RoutingConnector); `literal_address_guard` judges them. `trusted` (host, port) pairs
    are resolved without judging: the archive endpoints the settings name."""

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


def _judge_literal(host: str, port: int | None, connect_to: tuple[ConnectTo, ...], allow: tuple[str, ...],
                   trusted: frozenset[tuple[str, int]]):
    """The address an IP-literal host names, or AddressRefused. A connect_to rule naming the address sends it
    elsewhere (RoutingConnector), so it is not judged."""
    ip = ip_of(host)
    if ip is None:
        raise AddressRefused(f"{host} is not a readable IP address")
    if (host.lower().rstrip("."), port) in trusted or _rule_for(connect_to, host, port) is not None:
        return ip
    reason = refusal_reason(str(ip), allow)
    if reason:
        raise AddressRefused(f"{host} is a {reason}")
    return ip


def _literal_judgement(host: str, port: int | None, connect_to: tuple[ConnectTo, ...], allow: tuple[str, ...],
                       trusted: frozenset[tuple[str, int]]) -> str | None:
    """Why a request to host:port is refused by the literal guard, or None (a name, or an address let through)."""
    if ip_of(host) is None and not looks_literal(host):
        return None
    try:
        _judge_literal(host, port, connect_to, allow, trusted)
    except AddressRefused as refused:
        return str(refused)
    return None


def literal_address_guard(connect_to: tuple[ConnectTo, ...] = (), allow: tuple[str, ...] = (),
                          trusted: frozenset[tuple[str, int]] = frozenset()):
    """A client middleware (aiohttp's public `middlewares=` hook, run for every request and every redirect hop
    it follows) that judges IP-literal hosts, which aiohttp connects to without asking the resolver. Each
    (host, port)'s judgement is kept for the session: the rules are fixed, and a run asks again for every
    link of a host."""
    judged: dict[tuple[str, int | None], str | None] = {}

    async def guard(request: Any, handler: Any) -> Any:
        key = (request.url.raw_host or "", request.url.port)
        if key not in judged:
            if len(judged) >= 10_000:
                judged.clear()  # a run of very many hosts: bounded memory, not a lasting cache
            judged[key] = _literal_judgement(*key, connect_to, allow, trusted)
        if judged[key] is not None:
            raise AddressRefused(judged[key])
        return await handler(request)

    return guard


# ─── the one private aiohttp hook, fenced ───────────────────────────────────────────────────────────────────
# Where an IP-literal host is connected is decided in a private method: upstream aiohttp/connector.py,
# `TCPConnector._resolve_host(self, host, port, traces=None)`, returns the literal at once when
# `is_ip_address(host)`, asking no resolver. Two things need it, and nothing public reaches it: a connect_to
# rule may name an IP address (curl's --connect-to does; the tests route 169.254.169.254 to a loopback
# stand-in), and an IPv4-mapped IPv6 literal is connected over IPv4, where it leads (an IPv6-only socket or a
# host without IPv6 would fail it). Whether an address may be connected at all is judged without it (the
# resolver and the middleware above). tests/test_hostile.py::test_the_private_aiohttp_hook_is_what_it_was
# fails when the upstream method changes shape.


class RoutingConnector(aiohttp.TCPConnector):
    """A TCPConnector that connects IP-literal hosts where connect_to rules say, IPv4-mapped ones over IPv4."""

    def __init__(self, connect_to: tuple[ConnectTo, ...], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.connect_to = connect_to

    async def _resolve_host(self, host: str, port: int, traces: Any = None) -> list[dict[str, Any]]:
        ip = ip_of(host)
        if ip is None and not looks_literal(host):
            return await super()._resolve_host(host, port, traces=traces)
        rule = _rule_for(self.connect_to, host, port)
        if rule:
            return [_info(host, rule.address, rule.to_port or port)]
        if ip is None:
            raise AddressRefused(f"{host} is not a readable IP address")
        # Connect to the address as judged, not to the spelling (aiohttp refuses legacy spellings outright).
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
