"""Checking: one probe of one URL -> evidence (status, redirect chain, page title and text, error class) and
its evidence class; the soft-404 sibling probe and the content-drift test; and the asyncio worker that
checks many URLs on one session, polite per host, storing each check with the verdict the policy in
verdict.py decides.
"""

from __future__ import annotations

import asyncio
import codecs
import random
import re
import string
import time
from collections import defaultdict, deque
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone
from typing import AsyncIterator, Callable, Iterable
from urllib.parse import urljoin, urlsplit, urlunsplit

import aiohttp
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt

from linkkeeper import store
from linkkeeper.check import verdict
from linkkeeper.net.session import AddressRefused, HostLimiter, literal_refusal, make_session
from linkkeeper.text.html import canonical_url, html_to_text, page_title
from linkkeeper.settings import Settings
from linkkeeper.text.similarity import containment, shingles

TRANSIENT_STATUSES = {408, 425, 429, 500, 502, 503, 504, 509, 520, 521, 522, 523, 524}
REDIRECT_STATUSES = {301, 302, 303, 307, 308}
PERMANENT_REDIRECTS = {301, 308}
# HEAD answers that say nothing about the page: ask again with GET.
HEAD_INCONCLUSIVE = lambda status: not (200 <= status < 300)  # noqa: E731
# Statuses after which a site may just be refusing our user agent: ask once more as a browser would.
BOT_REFUSED = {403, 406, 999}
# Below this many words a page (or a post) has too little text to judge drift or similarity.
MIN_WORDS = 20

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([\w-]+)""", re.IGNORECASE)


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
            codec = codecs.lookup(candidate)
            # Bytes-to-bytes codecs (zlib, base64, rot13 ...) are no charset, whatever a page declares.
            if not getattr(codec, "_is_text_encoding", True) or codec.name in _NOT_PAGE_CODECS:
                continue
            return body.decode(candidate)
        except (LookupError, UnicodeError, ValueError):
            continue
    return body.decode("cp1252", errors="replace")  # the usual truth behind a wrong charset label


async def _read_body(resp: aiohttp.ClientResponse, settings: Settings, deadline: float, ev: Evidence) -> bytes:
    """At most max_bytes of the body, counted after decompression (aiohttp hands over decompressed chunks,
    decompressing no more than the reader asks for), and only until the URL's time is up: a decompression
    bomb, an endless or a slowly dripping body is cut, noted in ev.cut, and judged on what was read."""
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in resp.content.iter_chunked(65536):
            room = settings.max_bytes - size
            chunks.append(chunk[:room])
            size += min(len(chunk), room)
            if size >= settings.max_bytes and (len(chunk) > room or not resp.content.at_eof()):
                ev.cut = f"body cut at {settings.max_bytes} bytes (max_bytes, counted after decompression)"
                break
    except asyncio.TimeoutError:
        if time.monotonic() < deadline - 0.01:
            raise  # a stalled read (read_timeout), not the URL's time running out: a timeout as any other
        ev.cut = f"body cut after {settings.total_timeout:g} s (total_timeout) at {size} bytes"
    ev.truncated = ev.cut is not None
    return b"".join(chunks)


async def _follow(session: aiohttp.ClientSession, method: str, url: str, settings: Settings, ev: Evidence,
                  headers: dict[str, str] | None, deadline: float | None = None) -> int:
    """One request with redirects followed by hand (to record the chain and stop loops). Returns the final
    status; for GET, reads at most max_bytes of the (decompressed) body, so a huge or endless response
    cannot hold the run. Every hop is judged by the address guard (here for IP literals, to say so without a
    request; in the session's connector for every connection) and shares the URL's time, `deadline`."""
    deadline = deadline if deadline is not None else time.monotonic() + settings.total_timeout
    current = url
    seen = {url}
    ev.redirect_chain = []
    for _ in range(settings.max_redirects + 1):
        try:
            parts = urlsplit(current)
            host = parts.hostname or ""
        except ValueError:
            raise aiohttp.InvalidURL(current) from None
        if parts.scheme.lower() not in ("http", "https"):
            kind = f"{parts.scheme}:" if parts.scheme else "schemeless"
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
            if method == "GET":
                body = await _read_body(resp, settings, deadline, ev)
                markup = _decode(body, resp.headers.get("Content-Type"))
                ev.raw_head = markup[:5000]
                if "html" in (resp.content_type or "") or markup.lstrip()[:1] == "<":
                    title = page_title(markup)
                    ev.title = html_to_text(title)[:300] if title is not None else None
                    ev.text = html_to_text(markup)
                    ev.canonical = canonical_url(markup, current)
            return resp.status
    ev.error_class, ev.error = "too_many_redirects", f"more than {settings.max_redirects} redirects"
    return ev.status or 0


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
    if status in TRANSIENT_STATUSES or status >= 500:
        return "transient", f"HTTP {status}"
    # Other answers (400, 405 to GET, 3xx without Location...) say something is off, not that the page is gone.
    return "transient", f"HTTP {status}"


async def probe_once(session: aiohttp.ClientSession, url: str, settings: Settings, *, want_body: bool = True,
                     browser: bool = False) -> Evidence:
    """GET (reading the body, for the soft-404 and drift tests) or, when no body is wanted, HEAD then GET
    where HEAD is refused or inconclusive."""
    ev = Evidence(url=url, checked_at=store.utcnow())
    headers = browser_headers(settings) if browser else None
    started = time.monotonic()
    # total_timeout bounds the whole probe: HEAD and GET, every redirect hop, the body.
    deadline = started + settings.total_timeout
    try:
        status = None
        if not want_body:
            status = await _follow(session, "HEAD", url, settings, ev, headers, deadline)
        if want_body or (ev.error_class is None and HEAD_INCONCLUSIVE(status)):
            ev.method = "GET"
            await _follow(session, "GET", url, settings, ev, headers, deadline)
        ev.evidence_class, ev.reason = classify(ev)
        ev.error_class = ev.error_class or (f"http_{ev.status}" if ev.status and not 200 <= ev.status < 300 else None)
        if ev.cut:
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


async def probe(session: aiohttp.ClientSession, url: str, settings: Settings, *, want_body: bool = True,
                sleep: Callable[[float], object] = asyncio.sleep,
                slot: Callable[[], object] = _no_slot,
                on_status: Callable[[Evidence], None] | None = None) -> Evidence:
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
            ev = await probe_once(session, url, settings, want_body=want_body, browser=browser)
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


# --- soft 404: the random-sibling probe (Bar-Yossef et al.; JingyZhu/fable's sic_transit) -------------------

def url_shape(url: str) -> str:
    """The shape of a URL's path: digits and letters generalised, so siblings share one probe per run."""
    parts = urlsplit(url)
    shape = re.sub(r"[0-9]+", "9", parts.path)
    shape = re.sub(r"[A-Za-z]+", "a", shape)
    return f"{(parts.hostname or '').lower()}{shape}{'?' if parts.query else ''}"


def sibling_url(url: str) -> str | None:
    """A URL on the same host shaped like this one that cannot exist: the last path segment's letters and
    digits replaced at random, same lengths and punctuation. None for a home page."""
    parts = urlsplit(url)
    segments = parts.path.split("/")
    index = max((i for i, s in enumerate(segments) if s), default=None)
    if index is None:
        return None
    rng = random.Random(url)
    stem, dot, ext = segments[index].rpartition(".") if "." in segments[index] else (segments[index], "", "")
    if not dot:
        stem, ext = segments[index], ""

    def scramble(ch: str) -> str:
        if ch.isdigit():
            return rng.choice(string.digits)
        if ch.isalpha():
            return rng.choice(string.ascii_lowercase)
        return ch

    segments[index] = "".join(scramble(c) for c in stem) + (f".{ext}" if dot else "")
    return urlunsplit((parts.scheme, parts.netloc, "/".join(segments), parts.query, ""))


def text_resemblance(a: str, b: str) -> float:
    """Jaccard similarity of two texts' shingle sets."""
    sa, sb = shingles(a), shingles(b)
    if not sa or not sb:
        return 1.0 if sa == sb else 0.0
    return len(sa & sb) / len(sa | sb)


def sibling_verdict(real: Evidence, sibling: Evidence) -> str | None:
    """Why the real page is a soft 404 given what a surely-missing sibling got, or None."""
    if sibling.evidence_class in ("dead", "soft-404") or not (200 <= (sibling.status or 0) < 300):
        return None  # the server tells missing pages apart: the real page's 200 means something
    if real.canonical and real.canonical.rstrip("/") == (real.final_url or real.url).rstrip("/"):
        return None
    if sibling.final_url and real.final_url and sibling.final_url == real.final_url and real.final_url != real.url:
        return f"a URL that cannot exist lands on the same page ({real.final_url})"
    if real.text and sibling.text and text_resemblance(real.text, sibling.text) >= 0.95:
        return "a URL that cannot exist gets the same page text"
    return None


def drift_reason(page_text: str, lead_texts: list[str], threshold: float) -> str | None:
    """Whether a live page no longer holds the text the posts citing it reproduce (their lead texts)."""
    if len(page_text.split()) < MIN_WORDS:
        return None  # a script-rendered or tiny page: nothing to judge by
    best = None
    for lead in lead_texts:
        if len(lead.split()) < MIN_WORDS:
            continue
        score = containment(lead, page_text)
        best = score if best is None else max(best, score)
    if best is not None and best < threshold:
        return f"the page holds {best:.0%} of the text the post reproduces (threshold {threshold:.0%})"
    return None


def _lighten(ev: Evidence) -> Evidence:
    """Drop what only the classification read (page text, raw head): an evidence kept waiting for its
    confirmation should not hold a page in memory."""
    ev.text, ev.raw_head = "", ""
    return ev


# --- the worker ------------------------------------------------------------------------------------------

@dataclass
class CheckSummary:
    checked: int = 0
    verdicts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    new_dead: int = 0


def _group_by_host(urls: Iterable[str]) -> dict[str, deque]:
    by_host: dict[str, deque] = defaultdict(deque)
    for url in urls:
        by_host[urlsplit(url).hostname or ""].append(url)
    return by_host


async def check_urls(db, urls: Iterable[str], settings: Settings, *, confirm_now: bool = False,
                     want_body: Callable[[str], bool] = lambda _url: True,
                     on_result: Callable[[Evidence, dict], None] | None = None,
                     now: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
                     sleep: Callable[[float], object] = asyncio.sleep) -> CheckSummary:
    """Check every URL and store each check with the URL's new verdict as soon as it is done, so an
    interrupted run keeps everything finished before the interruption.

    Each host gets `per_host` lanes taking its URLs in turn; a global semaphore bounds the requests in
    flight; a lane waits out its host's interval (raised after a 429) without holding a global slot, so one
    slow or rate-limited host never holds up the others.
    """
    summary = CheckSummary()
    policy = verdict.Policy.from_settings(settings)
    hosts = HostLimiter(settings.per_host, settings.per_host_interval, settings.max_host_interval)
    gate = asyncio.Semaphore(max(1, settings.concurrency))
    siblings: dict[str, asyncio.Future] = {}
    by_host = _group_by_host(urls)
    host_order = list(by_host)
    random.Random(0).shuffle(host_order)
    # Lanes are cheap; the cap only keeps a run over very many hosts from making them all at once.
    lanes_open = asyncio.Semaphore(max(512, settings.concurrency * 4))

    # Links come from strangers: the checker's session trusts no endpoint past the address guard.
    async with make_session(settings, trust_archive=False) as session:
        def slot_for(host: str):
            @asynccontextmanager
            async def slot() -> AsyncIterator[None]:
                async with hosts.slot(host):
                    async with gate:
                        yield
            return slot

        def on_status(host: str):
            return lambda ev: hosts.feedback(host, ev.status)

        async def probe_url(url: str, body: bool) -> Evidence:
            host = urlsplit(url).hostname or ""
            return await probe(session, url, settings, want_body=body, sleep=sleep, slot=slot_for(host),
                               on_status=on_status(host))

        async def sibling_of(url: str) -> Evidence | None:
            key = url_shape(url)
            if key not in siblings:
                siblings[key] = asyncio.ensure_future(_probe_sibling(url))
            return await siblings[key]

        async def _probe_sibling(url: str) -> Evidence | None:
            other = sibling_url(url)
            return await probe_url(other, True) if other else None

        async def evaluate(url: str, body: bool) -> Evidence:
            """One probe and everything that reads it: the sibling probe, the drift test, the overrides."""
            ev = await probe_url(url, body)
            if ev.evidence_class in verdict.GOOD_CLASSES and body:
                if settings.sibling_probe:
                    sib = await sibling_of(ev.url)
                    reason = sibling_verdict(ev, sib) if sib else None
                    if reason:
                        ev.evidence_class, ev.reason = "soft-404", reason
                if ev.evidence_class in verdict.GOOD_CLASSES:
                    drift = drift_reason(ev.text, store.lead_texts_for(db, url), settings.drift_threshold)
                    if drift:
                        ev.evidence_class, ev.reason = "drifted", drift
            ev.evidence_class, ev.reason = verdict.apply_overrides(url, ev.evidence_class, ev.status, ev.reason, policy)
            return ev

        def store_result(url: str, ev: Evidence, confirmed: bool) -> None:
            sig = verdict.signature(ev.evidence_class, ev.status, ev.error_class)
            previous = store.url_state(db, url)
            state = verdict.decide(ev.evidence_class, ev.reason, previous, now(), policy,
                                   mark=store.url_mark(db, url), sig=sig, confirmed_now=confirmed,
                                   moved_to=ev.final_url if ev.evidence_class == "moved" else None)
            store.record_check(db, ev.records(state["verdict"]), state)
            summary.checked += 1
            summary.verdicts[state["verdict"]] += 1
            if state["verdict"] in store.BROKEN_VERDICTS and (previous or {}).get("verdict") not in store.BROKEN_VERDICTS:
                summary.new_dead += 1
            if on_result:
                on_result(ev, state)

        # With confirm_now, each failure is re-probed `confirm_spacing` seconds later by a task of its own,
        # while the pass goes on: no lane waits out the spacing, and the confirmations of early failures are
        # done by the time the slowest hosts finish.
        confirmations: set[asyncio.Task] = set()

        async def confirm_later(url: str, body: bool, first: Evidence) -> None:
            history = [first]
            for _ in range(settings.confirm_probes):
                await sleep(settings.confirm_spacing)
                again = _lighten(await evaluate(url, body))
                history.append(again)
                if again.evidence_class not in verdict.FAILING_CLASSES:
                    break
            last = history[-1]
            last.earlier = [e for h in history[:-1] for e in (*h.earlier, h)] + last.earlier
            store_result(url, last, last.evidence_class in verdict.FAILING_CLASSES)

        async def check_one(url: str) -> None:
            body = want_body(url)
            ev = await evaluate(url, body)
            confirmed = ev.reason == "domain listed in always_dead"
            if confirm_now and ev.evidence_class in verdict.FAILING_CLASSES and not confirmed:
                task = asyncio.ensure_future(confirm_later(url, body, _lighten(ev)))
                confirmations.add(task)
                task.add_done_callback(confirmations.discard)
                return
            store_result(url, ev, confirmed)

        async def lane(queue: deque) -> None:
            async with lanes_open:
                while queue:
                    await check_one(queue.popleft())

        await asyncio.gather(*(lane(by_host[h]) for h in host_order for _ in range(min(settings.per_host, len(by_host[h])))))
        while confirmations:
            await asyncio.gather(*list(confirmations))
    summary.verdicts = dict(summary.verdicts)
    return summary
