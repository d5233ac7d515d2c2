"""Owns the fallback to other archives: asking a TimeTravel-style JSON API or a plain RFC 7089 TimeGate which
mementos of a URL exist near a time, and fetching one of them. Requests go through the `send` the client
hands in (its "memento" limiter, one request a second, and its retries); WaybackClient's
other_archive_mementos and fetch_other_memento are the way in."""

from __future__ import annotations

import email.utils
from datetime import datetime
from urllib.parse import urljoin

from linkkeeper.net.session import endpoints_of
from linkkeeper.text.urls import link_refusal
from linkkeeper.wayback.errors import ArchiveError
from linkkeeper.wayback.records import (Memento, OtherMemento, as_utc, format_timestamp, http_date, memento_links,
                                        parse_timetravel)
from linkkeeper.wayback.transport import Send

# Other archives (Memento aggregators and TimeGates) are asked gently: one request a second.
OTHER_ARCHIVE_RATE = 1.0
_LIST_CAP = 2_000_000  # a TimeTravel answer lists mementos; large, but never a page


async def other_archive_mementos(send: Send, endpoint: str, url: str, when: datetime) -> list[OtherMemento]:
    """Mementos of `url` near `when` in other archives, from a TimeTravel-style JSON API
    (`.../api/json/` + TS/URL) or a plain RFC 7089 TimeGate (endpoint + URL, Accept-Datetime)."""
    if "/api/json" in endpoint:
        ts = format_timestamp(as_utc(when))
        response = await send("memento", "GET", f"{endpoint.rstrip('/')}/{ts}/{url}", cap=_LIST_CAP)
        if response.status in (404, 410) or not response.body.strip():
            return []
        if response.status >= 400:
            raise ArchiveError(f"{endpoint}: HTTP {response.status} for {url}")
        return parse_timetravel(response.body)
    accept = email.utils.format_datetime(as_utc(when), usegmt=True)
    response = await send("memento", "GET", f"{endpoint}{url}", headers={"Accept-Datetime": accept}, cap=65536)
    if response.status in (404, 410):
        return []
    if response.status >= 400:
        raise ArchiveError(f"{endpoint}: HTTP {response.status} for {url}")
    out: list[OtherMemento] = []
    location = response.headers.get("Location")
    if 300 <= response.status < 400 and location and link_refusal(urljoin(f"{endpoint}{url}", location)) is None:
        out.append(OtherMemento(urljoin(f"{endpoint}{url}", location), None, "closest"))
    for rel, (uri, when_) in memento_links(response.headers.get("Link")).items():
        if rel.endswith("memento") and link_refusal(uri) is None:  # as in parse_timetravel
            if out and out[0].uri == uri and out[0].datetime is None:
                out[0] = OtherMemento(uri, when_, "closest")
            elif all(m.uri != uri for m in out):
                out.append(OtherMemento(uri, when_, rel.replace(" memento", "") or "memento"))
    return out


async def fetch_other_memento(send: Send, memento: OtherMemento, *, cap: int, max_hops: int = 5,
                              off_limits: frozenset[tuple[str, int]] = frozenset()) -> Memento:
    """GET a memento in another archive, following its redirects by hand (each through the limiter). No hop
    may reach `off_limits` ((host, port) pairs: the Wayback endpoints the settings name, which the archive
    session lets through the address guard for the Wayback client's own questions only)."""
    current = memento.uri
    for _hop in range(max_hops + 1):
        refused = link_refusal(current)
        if refused is None and endpoints_of([current]) & off_limits:
            refused = "it leads to a configured Wayback endpoint, which is asked only the Wayback client's questions"
        if refused:
            # The aggregator's answer, or the archive's redirect: one memento lost, not the run.
            raise ArchiveError(f"{current[:200]!r}: not fetched: {refused}")
        response = await send("memento", "GET", current, cap=cap)
        location = response.headers.get("Location")
        if 300 <= response.status < 400 and location:
            current = urljoin(current, location)
            continue
        captured = http_date(response.headers.get("Memento-Datetime")) or memento.datetime
        original = memento_links(response.headers.get("Link")).get("original", (None, None))[0]
        return Memento(url=original or memento.uri, timestamp=format_timestamp(captured) if captured
                       else memento.timestamp, status=response.status, body=response.body,
                       requested_url=current, requested_timestamp=memento.timestamp,
                       mimetype=response.headers.get("Content-Type", ""), truncated=response.truncated,
                       headers=dict(response.headers))
    raise ArchiveError(f"{memento.uri}: more than {max_hops} redirects")
