"""Whether the network, or the archive, can be reached at all, asked before a command starts its real work:
a TCP connection to a few hosts (through the connect_to rules, judged by the address guard), no HTTP request.

Without this, a machine that is offline has every link it checks recorded as failing (a dead link, with
`--confirm-now`), and a refused archive is retried for minutes, link after link, before the run ends as if
nothing were wrong. With it, the command stops within seconds, says why, and exits 3.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Iterable
from urllib.parse import urlsplit

from linkkeeper.net.guard import AddressRefused, GuardedResolver
from linkkeeper.net.session import archive_endpoints
from linkkeeper.settings import Settings
from linkkeeper.text.urls import plain_origin

# Seconds to wait for a connection; the connect_timeout setting when that is shorter.
PROBE_TIMEOUT = 8.0
# The network is judged on the most linked sites, and only when there are this many: with fewer, every one
# of them may simply be gone, and the checker's verdicts (which wait days before "dead") are the judges.
NETWORK_HOSTS, NETWORK_MIN_HOSTS = 6, 3


def _host_port(url: str) -> tuple[str, int] | None:
    plain = plain_origin(url)
    if plain is not None:
        scheme, host, port, _ = plain
        return host.rstrip("."), port or (443 if scheme == "https" else 80)
    parts = urlsplit(url)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return None
    return (parts.hostname.rstrip("."), port) if parts.hostname else None


async def connect_failure(settings: Settings, host: str, port: int,
                          trusted: frozenset[tuple[str, int]] = frozenset()) -> str | None:
    """Why no TCP connection to host:port can be made (the name does not resolve, the connection is refused
    or times out), or None when one can, or when the address guard refuses the host (a refusal is not the
    network's doing)."""
    timeout = min(settings.connect_timeout, PROBE_TIMEOUT)
    resolver = GuardedResolver(settings.connect_to, settings.allow_addresses, trusted)
    try:
        infos = await asyncio.wait_for(resolver.resolve(host, port), timeout)
    except AddressRefused:
        return None
    except asyncio.TimeoutError:
        return f"{host}: no answer from DNS within {timeout:g} s"
    except OSError as exc:
        return f"{host}: the name does not resolve ({exc.strerror or exc})"
    finally:
        await resolver.close()
    reason = "no address"
    for info in infos[:2]:
        try:
            _reader, writer = await asyncio.wait_for(asyncio.open_connection(info["host"], info["port"]), timeout)
        except asyncio.TimeoutError:
            reason = f"no answer within {timeout:g} s"
            continue
        except OSError as exc:
            reason = (exc.strerror or str(exc)).lower()
            continue
        writer.close()
        return None
    return f"{host}:{port}: {reason}"


async def network_failure(settings: Settings, urls: Iterable[str]) -> str | None:
    """Why the network seems unreachable: every one of the most linked sites fails to connect. None when
    one connects, or when the URLs name too few sites to tell."""
    counts = Counter(hp for url in urls if (hp := _host_port(url)))
    targets = [hp for hp, _ in counts.most_common(NETWORK_HOSTS)]
    if len(targets) < NETWORK_MIN_HOSTS:
        return None
    reasons = await asyncio.gather(*(connect_failure(settings, host, port) for host, port in targets))
    if any(reason is None for reason in reasons):
        return None
    return (f"cannot reach the network: none of the {len(targets)} most linked sites answers "
            f"({'; '.join(reasons[:3])}); nothing was checked")


async def archive_failure(settings: Settings, endpoints: Iterable[str] = ("cdx", "replay")) -> str | None:
    """Why the archive cannot be reached (the first of its endpoints that fails to connect), or None."""
    urls = {"cdx": settings.wayback_cdx_url, "replay": settings.wayback_replay_url,
            "availability": settings.wayback_availability_url, "save": settings.wayback_save_url}
    targets = list(dict.fromkeys(hp for name in endpoints if (hp := _host_port(urls[name]))))
    trusted = archive_endpoints(settings)
    reasons = await asyncio.gather(*(connect_failure(settings, host, port, trusted) for host, port in targets))
    failed = [reason for reason in reasons if reason]
    if not failed:
        return None
    return f"cannot reach the archive: {failed[0]}; nothing was looked up"
