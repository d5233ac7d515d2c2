"""One probe of one URL over HTTP: GET (or HEAD, then GET where HEAD says nothing; or GET of the first
PEEK_BYTES of an HTML page, nothing of another type: `want_body="peek"`), redirects followed by hand and each hop judged by the address
guard, the body read within max_bytes and the URL's time, decoded by its charset; retried with tenacity while
the outcome is transient, and once more as a browser where a site refuses the bot. Returns `Evidence`
(check/evidence.py), classified with the leads of the posts citing the URL when given."""

from __future__ import annotations

import asyncio
import codecs
import random
import re
import time
from contextlib import asynccontextmanager
from typing import AsyncIterator, Callable
from urllib.parse import urljoin, urlsplit

import aiohttp
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt

from linkkeeper import store
from linkkeeper.check.evidence import (Evidence, RefusedRedirect, classify, classify_error, error_text,
                                       REDIRECT_STATUSES)
from linkkeeper.net.guard import AddressRefused, literal_refusal
from linkkeeper.settings import Settings
from linkkeeper.text.html import html_to_text, page_title
from linkkeeper.text.urls import plain_origin

# How much of an outbound link's page is read (`check --all-links`): enough for a not-found, parked or
# challenge page and the sibling test, little for a big page.
PEEK_BYTES = 65_536
# HEAD answers that say nothing about the page: ask again with GET.
HEAD_INCONCLUSIVE = lambda status: not (200 <= status < 300)  # noqa: E731
# Statuses after which a site may just be refusing our user agent: ask once more as a browser would.
BOT_REFUSED = {403, 406, 999}

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([\w-]+)""", re.IGNORECASE)


class _Transient(Exception):
    def __init__(self, evidence: Evidence) -> None:
        super().__init__(evidence.error_class)
        self.evidence = evidence


def _retry_after(value: str | None, cap: float) -> float | None:
    if not value:
        return None
    try:
        return min(max(float(value), 0.0), cap)
    except ValueError:
        return None  # an HTTP date: the exponential backoff stands in for it


# Text codecs Python has that no web page is written in; a page naming one gets the usual fallbacks.
_NOT_PAGE_CODECS = {"idna", "punycode", "unicode-escape", "raw-unicode-escape", "utf-7", "undefined"}


def _decode(body: bytes, content_type: str | None) -> str:
    charset = None
    if content_type and "charset=" in content_type.lower():
        charset = content_type.lower().split("charset=", 1)[1].split(";")[0].strip().strip('"\'')
    if not charset:
        m = _META_CHARSET.search(body[:4096])
        charset = m.group(1).decode("ascii", "replace") if m else None
    for candidate in filter(None, (charset, "utf-8")):
        try:
            if codecs.lookup(candidate).name in _NOT_PAGE_CODECS:
                continue
            # bytes.decode refuses bytes-to-bytes codecs (zlib, base64, rot13 ...) with a LookupError, whatever
            # charset a page declares.
            return body.decode(candidate)
        except (LookupError, UnicodeError, ValueError):
            continue
    return body.decode("cp1252", errors="replace")  # the usual truth behind a wrong charset label


async def _read_body(resp: aiohttp.ClientResponse, settings: Settings, deadline: float, ev: Evidence,
                     max_bytes: int) -> bytes:
    """At most max_bytes of the body, counted after decompression (aiohttp hands over decompressed chunks,
    decompressing no more than the reader asks for), and only until the URL's time is up: a decompression
    bomb, an endless or a slowly dripping body is cut, noted in ev.cut, and judged on what was read."""
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in resp.content.iter_chunked(65536):
            room = max_bytes - size
            chunks.append(chunk[:room])
            size += min(len(chunk), room)
            if size >= max_bytes and (len(chunk) > room or not resp.content.at_eof()):
                ev.cut = (f"body cut at {max_bytes} bytes (max_bytes, counted after decompression)"
                          if max_bytes == settings.max_bytes else f"read the first {max_bytes} bytes")
                break
    except asyncio.TimeoutError:
        if time.monotonic() < deadline - 0.01:
            raise  # a stalled read (read_timeout), not the URL's time running out: a timeout as any other
        ev.cut = f"body cut after {settings.total_timeout:g} s (total_timeout) at {size} bytes"
    ev.truncated = ev.cut is not None
    return b"".join(chunks)


async def _follow(session: aiohttp.ClientSession, method: str, url: str, settings: Settings, ev: Evidence,
                  headers: dict[str, str] | None, deadline: float | None = None, max_bytes: int | None = None,
                  only_html: bool = False) -> int:
    """One request with redirects followed by hand (to record the chain and stop loops). Returns the final
    status; for GET, reads at most max_bytes of the (decompressed) body, so a huge or endless response
    cannot hold the run (`only_html`: no body at all unless the answer may be HTML). Every hop is judged by the address guard (here for IP literals, to say so without a
    request; in the session's connector for every connection) and shares the URL's time, `deadline`."""
    deadline = deadline if deadline is not None else time.monotonic() + settings.total_timeout
    current = url
    seen = {url}
    ev.redirect_chain = []
    for _ in range(settings.max_redirects + 1):
        plain = plain_origin(current)
        if plain is not None:
            scheme, host = plain[0], plain[1]
        else:
            try:
                parts = urlsplit(current)
                scheme, host = parts.scheme, parts.hostname or ""
            except ValueError:
                raise aiohttp.InvalidURL(current) from None
        if scheme.lower() not in ("http", "https"):
            kind = f"{scheme}:" if scheme else "schemeless"
            raise RefusedRedirect(f"{'redirect to a' if ev.redirect_chain else 'a'} {kind} URL refused "
                                  f"({current[:200]})")
        refusal = literal_refusal(host, settings)
        if refusal:
            raise AddressRefused(f"{host} is a {refusal}")
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise asyncio.TimeoutError(f"more than {settings.total_timeout:g} s (total_timeout) for this URL")
        timeout = aiohttp.ClientTimeout(total=remaining, sock_connect=settings.connect_timeout,
                                        sock_read=settings.read_timeout)
        async with session.request(method, current, allow_redirects=False, headers=headers,
                                   timeout=timeout) as resp:
            ev.status, ev.final_url = resp.status, current
            if resp.status in REDIRECT_STATUSES and resp.headers.get("Location"):
                target = urljoin(current, resp.headers["Location"])
                ev.redirect_chain.append({"url": current, "status": resp.status, "location": target})
                if target in seen:
                    ev.error_class, ev.error = "redirect_loop", f"redirect loop back to {target}"
                    return resp.status
                seen.add(target)
                current = target
                continue
            ev.retry_after = _retry_after(resp.headers.get("Retry-After"), settings.retry_wait_max)
            ev.content_type = resp.content_type
            if method == "GET" and not (only_html and not _is_html(resp.content_type)):
                body = await _read_body(resp, settings, deadline, ev, max_bytes or settings.max_bytes)
                markup = _decode(body, resp.headers.get("Content-Type"))
                del body
                if "html" in (resp.content_type or "") or markup.lstrip()[:1] == "<":
                    # Kept whole for the tests that read it (evidence.py reads only what it needs).
                    ev.markup = markup
                    title = page_title(markup)
                    ev.title = html_to_text(title)[:300] if title is not None else None
            return resp.status
    ev.error_class, ev.error = "too_many_redirects", f"more than {settings.max_redirects} redirects"
    return ev.status or 0


def _is_html(content_type: str | None) -> bool:
    """Whether an answer may be HTML (aiohttp names a missing Content-Type application/octet-stream)."""
    return not content_type or "html" in content_type or content_type == "application/octet-stream"


async def probe_once(session: aiohttp.ClientSession, url: str, settings: Settings, *, want_body: bool | str = True,
                     browser: bool = False, leads: list[tuple[str, ...]] | None = None) -> Evidence:
    """GET, reading the body (the soft-404 and drift tests), when `want_body` is true; HEAD, then GET where
    HEAD is refused or inconclusive, when it is false; with "peek", GET of the first PEEK_BYTES of an HTML
    page, no body of another type (one request: HEAD then GET would take a slow site's time twice). `leads`:
    the probes of the citing posts' leads."""
    ev = Evidence(url=url, checked_at=store.utcnow())
    headers = browser_headers(settings) if browser else None
    started = time.monotonic()
    # total_timeout bounds the whole probe: HEAD and GET, every redirect hop, the body.
    deadline = started + settings.total_timeout
    try:
        status = None
        peek = want_body == "peek"
        if want_body is False:
            status = await _follow(session, "HEAD", url, settings, ev, headers, deadline)
        inconclusive = status is not None and ev.error_class is None and HEAD_INCONCLUSIVE(status)
        if want_body is True or peek or inconclusive:
            ev.method = "GET"
            await _follow(session, "GET", url, settings, ev, headers, deadline, only_html=peek,
                          max_bytes=min(PEEK_BYTES, settings.max_bytes) if peek else None)
        ev.evidence_class, ev.reason = classify(ev, leads)
        ev.error_class = ev.error_class or (f"http_{ev.status}" if ev.status and not 200 <= ev.status < 300 else None)
        if ev.cut and not (peek and ev.cut.startswith("read the first")):
            ev.reason = f"{ev.reason}; {ev.cut}" if ev.reason else ev.cut
            ev.error = ev.error or ev.cut
    except Exception as exc:  # noqa: BLE001 - every failure becomes evidence, never a crash of the run
        ev.evidence_class, ev.error_class = classify_error(exc)
        ev.error = error_text(exc)
        ev.reason = ev.error
    ev.elapsed_ms = int((time.monotonic() - started) * 1000)
    return ev


def browser_headers(settings: Settings) -> dict[str, str]:
    return {"User-Agent": settings.browser_user_agent,
            "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
            "Accept-Language": "en-CA,en;q=0.9,fr;q=0.7"}


@asynccontextmanager
async def _no_slot() -> AsyncIterator[None]:
    yield


async def probe(session: aiohttp.ClientSession, url: str, settings: Settings, *, want_body: bool | str = True,
                sleep: Callable[[float], object] = asyncio.sleep,
                slot: Callable[[], object] = _no_slot,
                on_status: Callable[[Evidence], None] | None = None,
                leads: list[tuple[str, ...]] | None = None) -> Evidence:
    """probe_once, retried with tenacity (exponential backoff with jitter; Retry-After honoured, capped) while
    the outcome is transient; once more as a browser where the site seems to refuse the bot. `slot` is held
    around each request only, so waiting between attempts frees the host and the run for others."""
    earlier: list[Evidence] = []

    def backoff(retry_number: int, ev: Evidence) -> float:
        # Exponential with jitter (as tenacity's wait_exponential_jitter), never shorter than Retry-After.
        wait = min(settings.retry_wait_max, 0.5 * 2 ** (retry_number - 1)) + random.uniform(0, 0.5)
        return max(min(wait, settings.retry_wait_max), ev.retry_after or 0.0)

    async def attempt_once(browser: bool = False) -> Evidence:
        async with slot():
            ev = await probe_once(session, url, settings, want_body=want_body, browser=browser, leads=leads)
        if on_status:
            on_status(ev)
        return ev

    def retryable(ev: Evidence) -> bool:
        return ev.evidence_class == "transient" and ev.error_class not in ("redirect_loop", "too_many_redirects")

    # Most URLs answer at once: the first attempt is made without setting up the retry machinery.
    last = await attempt_once()
    attempts = 1
    if retryable(last) and settings.retries > 0:
        await sleep(backoff(1, last))
        try:
            async for attempt in AsyncRetrying(stop=stop_after_attempt(settings.retries), sleep=sleep, reraise=True,
                                               wait=lambda rs: backoff(rs.attempt_number + 1, rs.outcome.exception().evidence),
                                               retry=retry_if_exception_type(_Transient)):
                with attempt:
                    attempts += 1
                    earlier.append(last)
                    last = await attempt_once()
                    if retryable(last):
                        raise _Transient(last)
        except _Transient:
            pass
    assert last is not None
    if last.evidence_class == "blocked" and (last.status in BOT_REFUSED or "challenge" in (last.reason or "")):
        earlier.append(last)
        attempts += 1
        last = await attempt_once(browser=True)
    last.attempts = attempts
    last.earlier = earlier
    return last
