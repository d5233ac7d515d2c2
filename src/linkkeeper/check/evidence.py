"""What one probe of one URL saw (`Evidence`: status, redirect chain, title and text, error) and what it means
on its own: its evidence class (alive, redirected, moved, dead, soft-404, blocked, transient, refused) from the
answer, or from the exception the request ended in. No I/O here."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field, fields

import aiohttp

from linkkeeper.check import verdict
from linkkeeper.net.guard import AddressRefused

TRANSIENT_STATUSES = {408, 425, 429, 500, 502, 503, 504, 509, 520, 521, 522, 523, 524}
REDIRECT_STATUSES = {301, 302, 303, 307, 308}
PERMANENT_REDIRECTS = {301, 308}


@dataclass
class Evidence:
    """What one check of one URL saw, and what it means on its own (evidence_class)."""

    url: str
    checked_at: str = ""
    method: str = "HEAD"
    status: int | None = None
    final_url: str | None = None
    redirect_chain: list[dict] = field(default_factory=list)
    error_class: str | None = None
    error: str | None = None
    elapsed_ms: int = 0
    evidence_class: str = "transient"
    reason: str | None = None
    title: str | None = None
    attempts: int = 1
    # Not stored: what the classification and the soft-404/drift tests read.
    text: str = ""
    raw_head: str = ""
    canonical: str | None = None
    truncated: bool = False
    cut: str | None = None  # why the body was not read to its end (max_bytes, total_timeout)
    retry_after: float | None = None
    earlier: list["Evidence"] = field(default_factory=list)

    _TRANSIENT_FIELDS = ("text", "raw_head", "canonical", "truncated", "cut", "retry_after", "earlier")

    def record(self, url_verdict: str | None = None) -> dict:
        # Field by field, not dataclasses.asdict: asdict deep-copies the page text and every earlier attempt.
        row = {name: getattr(self, name) for name in _STORED_FIELDS}
        row["verdict"] = url_verdict or self.evidence_class
        return row

    def records(self, url_verdict: str) -> list[dict]:
        """Every attempt as a row of the checks table: the retried ones, then this one."""
        rows = [dict(ev.record(), attempts=i + 1) for i, ev in enumerate(self.earlier)]
        return rows + [self.record(url_verdict)]


_STORED_FIELDS = tuple(f.name for f in fields(Evidence) if f.name not in Evidence._TRANSIENT_FIELDS)


class RefusedRedirect(Exception):
    """A redirect to something other than a web page (file:, ftp:, data:, javascript: ...): never followed."""


# aiohttp's parser errors for a status line or header past max_line_size / max_field_size / max_headers.
_HEADER_LIMIT = re.compile(r"too long|too many headers|Got more than \d+ bytes", re.IGNORECASE)


def _chain(exc: BaseException) -> list[BaseException]:
    chain = [exc]
    while chain[-1].__cause__ is not None or getattr(chain[-1], "os_error", None) is not None:
        nxt = chain[-1].__cause__ or chain[-1].os_error
        if nxt in chain:
            break
        chain.append(nxt)
    return chain


def error_text(exc: BaseException) -> str:
    """What to record about a failure: the guard's own words when it refused (aiohttp's wrapper only says
    it could not connect), else the exception as raised."""
    refused = next((e for e in _chain(exc) if isinstance(e, AddressRefused)), None)
    shown = refused or exc
    return f"{type(shown).__name__}: {shown}"[:500]


def classify_error(exc: BaseException) -> tuple[str, str]:
    """(evidence class, error class) for an exception raised while connecting or reading."""
    chain = _chain(exc)
    if any(isinstance(e, AddressRefused) for e in chain):
        return "refused", "address_refused"
    if isinstance(exc, RefusedRedirect):
        return "refused", "redirect_scheme"
    if isinstance(exc, aiohttp.ClientResponseError) and _HEADER_LIMIT.search(str(exc)):
        return "transient", "oversized_headers"
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return "dead", "dns"
    if isinstance(exc, (asyncio.TimeoutError, aiohttp.ServerTimeoutError)):
        return "transient", "timeout"
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        return "transient", "tls_certificate"
    if isinstance(exc, aiohttp.ClientConnectorSSLError):
        return "transient", "tls"
    if isinstance(exc, aiohttp.ClientConnectorError):
        if any(isinstance(e, ConnectionRefusedError) for e in chain):
            return "dead", "connection_refused"
        return "transient", "connect"
    if isinstance(exc, (aiohttp.ServerDisconnectedError, aiohttp.ClientPayloadError, ConnectionResetError,
                        aiohttp.ClientOSError)):
        return "transient", "connection_reset"
    if isinstance(exc, aiohttp.InvalidURL):
        return "dead", "invalid_url"
    return "transient", type(exc).__name__


def classify(ev: Evidence) -> tuple[str, str | None]:
    """The evidence class of one probe, with the reason for it."""
    status = ev.status or 0
    if ev.error_class in ("redirect_loop", "too_many_redirects"):
        return "transient", ev.error
    challenge = verdict.looks_challenge(ev.title, ev.text, ev.raw_head)
    if status in verdict.BLOCKED_STATUSES:
        return "blocked", challenge or f"HTTP {status}"
    if 200 <= status < 300:
        if challenge:
            return "blocked", challenge
        parked = verdict.looks_parked(ev.title, ev.text)
        if parked:
            return "dead", parked
        soft = verdict.redirect_soft_404(ev.url, ev.final_url) or verdict.looks_not_found(ev.title, ev.text)
        if soft:
            return "soft-404", soft
        if ev.redirect_chain:
            first = ev.redirect_chain[0]["status"]
            if first in PERMANENT_REDIRECTS and verdict.same_article_path(ev.url, ev.final_url or ev.url):
                return "moved", f"permanent redirect to {ev.final_url}"
            return "redirected", f"redirected to {ev.final_url}"
        return "alive", None
    if status in verdict.HARD_DEAD_STATUSES:
        return "dead", f"HTTP {status}"
    if challenge:
        return "blocked", challenge
    # 5xx, 429 and the other answers (400, 405 to GET, 3xx without Location...) say something is off, not that
    # the page is gone.
    return "transient", f"HTTP {status}"
