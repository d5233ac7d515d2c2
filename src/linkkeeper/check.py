"""Checking: one probe of one URL -> evidence with a verdict, and the asyncio worker that probes many URLs
on one session under a global and a per-host limit, storing every check as it completes.

Verdicts here are the plain cases: alive, redirected, dead (404, 410, DNS failure, connection refused),
blocked (401, 403, 451), unknown (timeouts, 5xx, 429 once retries are spent), refused (the address guard).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import defaultdict, deque
from dataclasses import asdict, dataclass, field
from typing import Callable, Iterable
from urllib.parse import urljoin, urlsplit

import aiohttp
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential_jitter

from linkkeeper import store
from linkkeeper.http import AddressRefused, HostLimiter, literal_refusal, make_session
from linkkeeper.settings import Settings

DEAD_STATUSES = {404, 410}
BLOCKED_STATUSES = {401, 403, 451}
TRANSIENT_STATUSES = {408, 429, 500, 502, 503, 504, 509, 520, 521, 522, 523, 524}
REDIRECT_STATUSES = {301, 302, 303, 307, 308}


@dataclass
class Evidence:
    """What one check of one URL saw, and the verdict it supports."""

    url: str
    checked_at: str = ""
    method: str = "HEAD"
    status: int | None = None
    final_url: str | None = None
    redirect_chain: list[dict] = field(default_factory=list)
    error_class: str | None = None
    error: str | None = None
    elapsed_ms: int = 0
    verdict: str = "unknown"
    attempts: int = 1
    retry_after: float | None = None
    # Earlier attempts of the same check (transient failures that were retried), oldest first.
    earlier: list["Evidence"] = field(default_factory=list)

    def record(self) -> dict:
        row = asdict(self)
        row.pop("retry_after")
        row.pop("earlier")
        return row

    def records(self) -> list[dict]:
        """Every attempt as a row of the checks table: the retried ones, then this one."""
        rows = [dict(ev.record(), attempts=i + 1) for i, ev in enumerate(self.earlier)]
        return rows + [self.record()]


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
        return None  # an HTTP date; the exponential backoff stands in for it


def classify_error(exc: BaseException) -> tuple[str, str]:
    """(verdict, error_class) for an exception raised while connecting or reading."""
    chain = [exc]
    while chain[-1].__cause__ is not None or getattr(chain[-1], "os_error", None) is not None:
        nxt = chain[-1].__cause__ or chain[-1].os_error
        if nxt in chain:
            break
        chain.append(nxt)
    if any(isinstance(e, AddressRefused) for e in chain):
        return "refused", "address_refused"
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return "dead", "dns"
    if isinstance(exc, (asyncio.TimeoutError, aiohttp.ServerTimeoutError)):
        return "unknown", "timeout"
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        return "unknown", "tls_certificate"
    if isinstance(exc, aiohttp.ClientConnectorSSLError):
        return "unknown", "tls"
    if isinstance(exc, aiohttp.ClientConnectorError):
        if any(isinstance(e, ConnectionRefusedError) for e in chain):
            return "dead", "connection_refused"
        return "unknown", "connect"
    if isinstance(exc, aiohttp.TooManyRedirects):
        return "unknown", "too_many_redirects"
    if isinstance(exc, (aiohttp.ServerDisconnectedError, aiohttp.ClientPayloadError, ConnectionResetError)):
        return "unknown", "connection_reset"
    if isinstance(exc, aiohttp.InvalidURL):
        return "dead", "invalid_url"
    return "unknown", type(exc).__name__


def verdict_for_status(status: int, redirected: bool) -> tuple[str, str | None]:
    if 200 <= status < 300:
        return ("redirected" if redirected else "alive"), None
    if status in DEAD_STATUSES:
        return "dead", f"http_{status}"
    if status in BLOCKED_STATUSES:
        return "blocked", f"http_{status}"
    if status in TRANSIENT_STATUSES or status >= 500:
        return "unknown", f"http_{status}"
    return "unknown", f"http_{status}"


async def _follow(session: aiohttp.ClientSession, method: str, url: str, settings: Settings,
                  ev: Evidence) -> int:
    """One request with redirects followed by hand (to record the chain and stop loops). Returns the final
    status; for GET, reads at most max_bytes of the body so a huge or endless response cannot hold the run."""
    current = url
    seen = {url}
    ev.redirect_chain = []
    for _ in range(settings.max_redirects + 1):
        host = urlsplit(current).hostname or ""
        refusal = literal_refusal(host, settings)
        if refusal:
            raise AddressRefused(f"{host} is a {refusal}")
        async with session.request(method, current, allow_redirects=False) as resp:
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
                remaining = settings.max_bytes
                async for chunk in resp.content.iter_chunked(65536):
                    remaining -= len(chunk)
                    if remaining <= 0:
                        break
            return resp.status
    ev.error_class, ev.error = "too_many_redirects", f"more than {settings.max_redirects} redirects"
    return ev.status or 0


async def probe_once(session: aiohttp.ClientSession, url: str, settings: Settings) -> Evidence:
    """HEAD, then GET where HEAD is refused or inconclusive (anything but 2xx, a 404/410 included: some
    servers answer HEAD wrongly)."""
    ev = Evidence(url=url, checked_at=store.utcnow())
    started = time.monotonic()
    try:
        status = await _follow(session, "HEAD", url, settings, ev)
        if ev.error_class is None and not (200 <= status < 300):
            ev.method = "GET"
            status = await _follow(session, "GET", url, settings, ev)
        if ev.error_class in ("redirect_loop", "too_many_redirects"):
            ev.verdict = "unknown"
        else:
            ev.verdict, ev.error_class = verdict_for_status(status, bool(ev.redirect_chain))
            if ev.verdict == "redirected" and ev.redirect_chain:
                ev.final_url = ev.final_url or ev.redirect_chain[-1]["location"]
    except Exception as exc:  # noqa: BLE001 - every failure becomes evidence, never a crash of the run
        ev.verdict, ev.error_class = classify_error(exc)
        ev.error = f"{type(exc).__name__}: {exc}"[:500]
    ev.elapsed_ms = int((time.monotonic() - started) * 1000)
    return ev


def is_transient(ev: Evidence) -> bool:
    return ev.verdict == "unknown" and ev.error_class not in ("redirect_loop", "too_many_redirects")


async def probe(session: aiohttp.ClientSession, url: str, settings: Settings,
                sleep: Callable[[float], object] = asyncio.sleep) -> Evidence:
    """probe_once, retried with tenacity (exponential backoff with jitter; Retry-After honoured, capped)
    while the outcome is transient."""
    attempts = 0
    last: Evidence | None = None
    earlier: list[Evidence] = []

    def wait(retry_state) -> float:
        backoff = wait_exponential_jitter(multiplier=0.5, max=settings.retry_wait_max, jitter=0.5)(retry_state)
        ev = retry_state.outcome.exception().evidence
        return max(backoff, ev.retry_after or 0.0)

    try:
        async for attempt in AsyncRetrying(stop=stop_after_attempt(settings.retries + 1), wait=wait,
                                           retry=retry_if_exception_type(_Transient), sleep=sleep,
                                           reraise=True):
            with attempt:
                attempts += 1
                if last is not None:
                    earlier.append(last)
                last = await probe_once(session, url, settings)
                if is_transient(last):
                    raise _Transient(last)
    except _Transient:
        pass
    assert last is not None
    last.attempts = attempts
    last.earlier = earlier
    return last


def interleave_by_host(urls: Iterable[str]) -> list[str]:
    """Round-robin over hosts, so the run keeps every host busy instead of queueing behind one."""
    by_host: dict[str, deque] = defaultdict(deque)
    for url in urls:
        by_host[urlsplit(url).hostname or ""].append(url)
    queues = list(by_host.values())
    random.Random(0).shuffle(queues)
    out: list[str] = []
    while queues:
        queues = [q for q in queues if q]
        for q in queues:
            out.append(q.popleft())
    return out


@dataclass
class CheckSummary:
    checked: int = 0
    verdicts: dict[str, int] = field(default_factory=lambda: defaultdict(int))


async def check_urls(db, urls: Iterable[str], settings: Settings,
                     on_result: Callable[[Evidence], None] | None = None) -> CheckSummary:
    """Probe every URL once (with retries) and store each check as soon as it is done, so an interrupted run
    keeps everything finished before the interruption."""
    summary = CheckSummary()
    hosts = HostLimiter(settings.per_host)
    queue = interleave_by_host(urls)
    position = 0

    async with make_session(settings) as session:
        async def worker() -> None:
            nonlocal position
            while position < len(queue):
                url = queue[position]
                position += 1
                async with hosts(urlsplit(url).hostname or ""):
                    ev = await probe(session, url, settings)
                store.record_check(db, ev.records())
                summary.checked += 1
                summary.verdicts[ev.verdict] += 1
                if on_result:
                    on_result(ev)

        await asyncio.gather(*(worker() for _ in range(max(1, min(settings.concurrency, len(queue))))))
    summary.verdicts = dict(summary.verdicts)
    return summary
