"""SURT keys as the Wayback Machine's index computes them, written from the Internet Archive's published
canonicalisation rules (IAURLCanonicalizer): lowercase host, path and query; drop `www`, `www2`... and the
default port; sort query arguments; strip a trailing slash unless the path is `/`; ignore the scheme and
the fragment. `http://www.Guardian.co.uk/World/` -> `uk,co,guardian)/world`.

Owned here: the key function and the scope keys CDX match types use.
"""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import urlsplit

_WWW = re.compile(r"^www\d*\.")


def _split(url: str):
    url = url.strip()
    if "://" not in url[:12]:
        url = "http://" + url
    return urlsplit(url)


def host_key(host: str) -> str:
    host = _WWW.sub("", host.lower().rstrip("."))
    return ",".join(reversed(host.split(".")))


@lru_cache(maxsize=300_000)
def surt(url: str) -> str:
    parts = _split(url)
    host = (parts.hostname or "").lower()
    port = parts.port
    default = {"http": 80, "https": 443}.get(parts.scheme.lower())
    key = host_key(host)
    if port and port != default:
        key += f":{port}"
    path = (parts.path or "/").lower()
    if len(path) > 1 and path.endswith("/"):
        path = path[:-1]
    query = parts.query.lower()
    if query:
        query = "&".join(sorted(query.split("&")))
        return f"{key}){path}?{query}"
    return f"{key}){path}"


def scope(url: str, match_type: str) -> tuple[str, bool]:
    """(key, is_prefix) for a CDX query: exact keys match whole; prefix/host/domain match by prefix."""
    if match_type == "exact":
        return surt(url), False
    if match_type == "prefix":
        return surt(url), True
    host = host_key(_split(url).hostname or "")
    if match_type == "host":
        return host + ")", True
    return host, True  # domain: the host and every subdomain (keys "uk,co,guardian)" and "uk,co,guardian,")


def in_domain(key: str, domain_key: str) -> bool:
    return key.startswith(domain_key + ")") or key.startswith(domain_key + ",") or key.startswith(domain_key + ":")
