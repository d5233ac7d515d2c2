"""What one probe of one URL saw (`Evidence`: status, redirect chain, title and page, error) and what it means
on its own: its evidence class (alive, redirected, moved, dead, soft-404, unreachable, blocked, transient,
refused) from the answer, or from the exception the request ended in. No I/O here.

A page is read only as far as its class needs: the raw HTML of an article link is first searched for the
post's lead (the lead's probes, text/similarity.py); a page that plainly holds it is the article, alive, and
nothing else is read. Other pages get the full reading (visible text, main text, the not-found, parked and
challenge tests), each view computed once when first asked for."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field, fields

import aiohttp

from linkkeeper.check import verdict
from linkkeeper.net.guard import AddressRefused
from linkkeeper.text.html import MainText, canonical_url, first_heading, html_to_text, main_text
from linkkeeper.text.normalize import normalize_text
from linkkeeper.text.similarity import count_probes, holds_probes, probes_needed

# The opening of a page the parked and challenge tests read: such pages are small, and say it early.
HEAD_BYTES = 32_000
# Soft hyphens as entities (written ones are looked for apart, _has_soft_hyphen): inside words, they hide a
# lead's words from the raw HTML. Opening with a literal "&", the pattern is searched from each "&" only: as
# one IGNORECASE alternation with the written character, it was tried at every position of the page.
_SOFT_HYPHEN_ENTITY = re.compile("&(?:shy|#173|#xad);", re.IGNORECASE)


def _has_soft_hyphen(markup: str) -> bool:
    return "\u00ad" in markup or _SOFT_HYPHEN_ENTITY.search(markup) is not None

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
    markup: str = ""  # the decoded HTML of the answer (empty for other content)
    content_type: str | None = None
    truncated: bool = False
    cut: str | None = None  # why the body was not read to its end (max_bytes, total_timeout)
    retry_after: float | None = None
    lead_held: bool = False  # the page plainly holds a citing post's lead: it is the article
    server_error: bool = False  # a 5xx on an article whose host's root answers (verdict.decide)
    earlier: list["Evidence"] = field(default_factory=list)
    _views: dict = field(default_factory=dict, repr=False, compare=False)

    _TRANSIENT_FIELDS = ("markup", "content_type", "truncated", "cut", "retry_after", "lead_held", "server_error",
                         "earlier", "_views")

    # --- views of the page, each computed once --------------------------------------------------------------

    def _view(self, name: str, make):
        if name not in self._views:
            self._views[name] = make()
        return self._views[name]

    @property
    def text(self) -> str:
        """The page's visible text on one line."""
        return self._view("text", lambda: html_to_text(self.markup) if self.markup else "")

    @property
    def folded(self) -> str:
        """The visible text as comparisons spell it (normalize_text)."""
        return self._view("folded", lambda: normalize_text(self.text))

    @property
    def raw_head(self) -> str:
        return self.markup[:5000]

    @property
    def head_text(self) -> str:
        """The visible text of the page's opening (HEAD_BYTES of markup)."""
        return self._view("head_text", lambda: html_to_text(self.markup[:HEAD_BYTES]) if self.markup else "")

    @property
    def main(self) -> MainText:
        return self._view("main", lambda: main_text(self.markup))

    @property
    def heading(self) -> str | None:
        def make() -> str | None:
            raw = first_heading(self.markup) if self.markup else None
            return html_to_text(raw)[:300] if raw is not None else None
        return self._view("heading", make)

    @property
    def canonical(self) -> str | None:
        return self._view("canonical", lambda: canonical_url(self.markup, self.final_url or self.url)
                          if self.markup else None)

    def holds_lead(self, leads: list[tuple[str, ...]]) -> bool:
        """Whether the page plainly holds one of the leads (each a post's probes): in its raw HTML as it
        came, else in its visible text (entities decoded, spaces collapsed), else in that text normalised
        (soft hyphens inside words, case). The page is read further only where the raw HTML held some of a
        lead, or has soft hyphens: a page holding none of it is not worth its text here."""
        leads = [p for p in leads if probes_needed(p)]
        if not leads or not self.markup:
            return False
        counts = [count_probes(self.markup, p) for p in leads]
        if any(n >= probes_needed(p) for n, p in zip(counts, leads)):
            return True
        if not any(counts) and not _has_soft_hyphen(self.markup):
            return False
        return (any(holds_probes(self.text, p) for p in leads)
                or any(holds_probes(self.folded, p, casefold=True) for p in leads))

    def lighten(self) -> "Evidence":
        """Drop the page (markup and its views): an evidence kept waiting for its confirmation should not
        hold a page in memory."""
        self.markup = ""
        self._views.clear()
        return self

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
        return "unreachable", "dns"
    if isinstance(exc, (asyncio.TimeoutError, aiohttp.ServerTimeoutError)):
        return "transient", "timeout"
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        return "transient", "tls_certificate"
    if isinstance(exc, aiohttp.ClientConnectorSSLError):
        return "transient", "tls"
    if isinstance(exc, aiohttp.ClientConnectorError):
        if any(isinstance(e, ConnectionRefusedError) for e in chain):
            return "unreachable", "connection_refused"
        return "transient", "connect"
    if isinstance(exc, (aiohttp.ServerDisconnectedError, aiohttp.ClientPayloadError, ConnectionResetError,
                        aiohttp.ClientOSError)):
        return "transient", "connection_reset"
    if isinstance(exc, aiohttp.InvalidURL):
        return "dead", "invalid_url"
    return "transient", type(exc).__name__


def classify(ev: Evidence, leads: list[tuple[str, ...]] | None = None) -> tuple[str, str | None]:
    """The evidence class of one probe, with the reason for it. `leads` are the probes of the leads of the
    posts citing the URL: a 2xx page that plainly holds one is the article (the not-found, parked and
    challenge tests cannot change that, and are not run)."""
    status = ev.status or 0
    if ev.error_class in ("redirect_loop", "too_many_redirects"):
        return "transient", ev.error
    if 200 <= status < 300:
        if leads and ev.holds_lead(leads):
            ev.lead_held = True
            return _redirect_class(ev)
        challenge = verdict.looks_challenge(ev.title, ev.head_text, ev.raw_head)
        if challenge:
            return "blocked", challenge
        parked = verdict.looks_parked(ev.title, ev.head_text)
        if parked:
            return "dead", parked
        soft = verdict.redirect_soft_404(ev.url, ev.final_url) or (
            verdict.looks_not_found(ev.title, ev.main.text, ev.heading) if ev.markup else
            verdict.looks_not_found(ev.title, ""))
        if soft:
            return "soft-404", soft
        return _redirect_class(ev)
    if status in verdict.HARD_DEAD_STATUSES:
        return "dead", f"HTTP {status}"
    # A challenge page says why a site refuses (blocked, never dead); only its opening is read.
    challenge = verdict.looks_challenge(ev.title, ev.head_text, ev.raw_head) if ev.markup else None
    if status in verdict.BLOCKED_STATUSES:
        return "blocked", challenge or f"HTTP {status}"
    if challenge:
        return "blocked", challenge
    # 5xx, 429 and the other answers (400, 405 to GET, 3xx without Location...) say something is off, not that
    # the page is gone.
    return "transient", f"HTTP {status}"


def _redirect_class(ev: Evidence) -> tuple[str, str | None]:
    """alive, or, after redirects, moved (a permanent redirect to another article URL) or redirected."""
    if ev.redirect_chain:
        first = ev.redirect_chain[0]["status"]
        if first in PERMANENT_REDIRECTS and (ev.lead_held or verdict.same_article_path(ev.url, ev.final_url or ev.url)):
            return "moved", f"permanent redirect to {ev.final_url}"
        return "redirected", f"redirected to {ev.final_url}"
    return "alive", None
