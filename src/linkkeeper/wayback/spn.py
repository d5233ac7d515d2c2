"""Owns Save Page Now: SPN2 (submit a job, poll it) when access keys are set, the anonymous GET /save/URL form
otherwise; reading its answers into SaveJobs and its refusals into SpnAuthError and SpnQuotaError. Requests go
through the `send` the client hands in (its "spn" and "spn_status" limiters and retries); WaybackClient's
save_page and spn2_user_status are the way in.

Facts this relies on (IA's SPN2 API document and observed answers, see FIELD-NOTES.md): 7 captures a minute
signed in, 3 anonymous; SPN2 answers a job id, polled until success or error (`status_ext`); an unknown or
expired job reads "pending" for ever; the daily quota is announced in prose; the anonymous form says where the
capture is in Content-Location, Location, a Link, or not at all.
"""

from __future__ import annotations

import html
import re
from datetime import datetime, timezone
from typing import Any, Awaitable, Callable

import aiohttp

from linkkeeper.settings import Settings
from linkkeeper.wayback.errors import SpnAuthError, SpnQuotaError
from linkkeeper.wayback.records import SaveJob, json_or_none, memento_links, parse_archive_location
from linkkeeper.wayback.transport import ArchiveResponse, Send

# Captures a minute and a day, signed in or not. The client paces itself at SPN_SAFETY of the per-minute
# limits, as EDGI's client does for CDX ("80% of the hard limits"), because the limits are per IP and per
# account, not per process.
SPN_SIGNED_IN_PER_MINUTE = 7
SPN_ANONYMOUS_PER_MINUTE = 3
SPN_SIGNED_IN_PER_DAY = 30_000
SPN_ANONYMOUS_PER_DAY = 200
SPN_PER_URL_PER_DAY = 5
SPN_SAFETY = 0.8
SPN_STATUS_RATE = 1.0  # status polls a second, shared by every job being watched
# The account-wide (or anonymous) daily quota is announced in prose, not as a status_ext (observed_in_issues).
_SPN_QUOTA_TEXT = re.compile(r"daily\s+(?:not-logged-in\s+)?captures?\s+limit|captures?\s+per\s+day", re.IGNORECASE)
_SPN_STATUS_EXT = re.compile(r"error:([a-z][a-z-]+)")
_ANSWER_CAP = 65536  # SPN's answers are short JSON or a short page; a capture is never sent back

Locate = Callable[[str, datetime], Awaitable[str | None]]  # one TimeGate hop: the capture nearest a time


def signed_in(settings: Settings) -> bool:
    return bool(settings.spn_access_key and settings.spn_secret)


def submit_rate(settings: Settings) -> float:
    """Captures a second the client allows itself."""
    per_minute = SPN_SIGNED_IN_PER_MINUTE if signed_in(settings) else SPN_ANONYMOUS_PER_MINUTE
    return per_minute * SPN_SAFETY / 60.0


def _headers(settings: Settings) -> dict[str, str]:
    return {"Accept": "application/json", "Authorization": f"LOW {settings.spn_access_key}:{settings.spn_secret}"}


def _save_timeout(settings: Settings) -> aiohttp.ClientTimeout:
    # A capture is made while we wait (17-50 s measured); the anonymous form answers only when it is done.
    return aiohttp.ClientTimeout(total=max(settings.total_timeout, 120.0), sock_connect=settings.connect_timeout)


def _status_ext(value: Any) -> str | None:
    text = str(value or "").strip()
    if not text:
        return None
    return text[len("error:"):] if text.startswith("error:") else text


def _is_answer(response: ArchiveResponse) -> bool:
    """Save Page Now answers that are not outages: the quota message, and failure pages naming their error
    (a failed capture is SPN's answer about the target; asking again at once would only fail again)."""
    if response.status == 429:
        return bool(_SPN_QUOTA_TEXT.search(response.text[:4000]))
    if response.status >= 500:
        return bool(_SPN_STATUS_EXT.search(response.text[:4000])
                    or "X-Archive-Wayback-Runtime-Error" in response.headers)
    return False


def _raise_refusals(response: ArchiveResponse, who: str) -> None:
    if response.status in (401, 403):
        raise SpnAuthError(f"Save Page Now refused {who} (HTTP {response.status}): {response.text.strip()[:200]}")
    # Only an answer that is not a capture can be the quota message (a captured page may say anything).
    if response.status >= 400 and _SPN_QUOTA_TEXT.search(response.text[:4000]):
        raise SpnQuotaError(f"Save Page Now daily quota: {html.unescape(response.text.strip())[:200]}")


async def save_page(send: Send, settings: Settings, url: str, *, sleep: Callable[[float], Awaitable[Any]],
                    locate: Locate, poll_interval: float, poll_timeout: float,
                    proceed: Callable[[], bool] | None) -> SaveJob:
    """SPN2 (submit, then poll the job until it ends or `poll_timeout` passes) when keys are set, otherwise the
    anonymous form."""
    if not signed_in(settings):
        return await save_anonymous(send, settings, url, locate=locate, proceed=proceed)
    job = await submit(send, settings, url, proceed=proceed)
    waited = 0.0
    while job.status == "pending" and job.job_id and waited < poll_timeout:
        await sleep(poll_interval)
        waited += poll_interval
        job = await poll(send, settings, job)
    return job


async def submit(send: Send, settings: Settings, url: str, proceed: Callable[[], bool] | None = None) -> SaveJob:
    """POST the URL to SPN2: a pending job with its id, or SPN's error as a SaveJob."""
    response = await send("spn", "POST", settings.wayback_save_url.rstrip("/"), data={"url": url},
                          headers=_headers(settings), cap=_ANSWER_CAP, timeout=_save_timeout(settings),
                          final=_is_answer, proceed=proceed)
    _raise_refusals(response, "the access keys")
    data = json_or_none(response.text)
    if isinstance(data, dict) and data.get("job_id"):
        return SaveJob(url, "spn2", "pending", job_id=str(data["job_id"]))
    if isinstance(data, dict):
        if _SPN_QUOTA_TEXT.search(str(data.get("message") or "")):
            raise SpnQuotaError(f"Save Page Now daily quota: {data.get('message')}")
        return SaveJob(url, "spn2", "error", status_ext=_status_ext(data.get("status_ext")) or
                       f"http-{response.status}", message=str(data.get("message") or "")[:500])
    match = _SPN_STATUS_EXT.search(response.text)
    return SaveJob(url, "spn2", "error", status_ext=match.group(1) if match else f"http-{response.status}",
                   message=response.text.strip()[:500])


async def poll(send: Send, settings: Settings, job: SaveJob) -> SaveJob:
    """One poll of a job. `pending` may also mean the job is unknown or expired (the status endpoint says
    pending for made-up ids, observed_in_issues.json), which is why polling has a time limit."""
    base = settings.wayback_save_url.rstrip("/")
    response = await send("spn_status", "GET", f"{base}/status/{job.job_id}", headers=_headers(settings),
                          cap=_ANSWER_CAP)
    _raise_refusals(response, "the access keys")
    data = json_or_none(response.text)
    if not isinstance(data, dict):
        return SaveJob(**{**job.__dict__, "polls": job.polls + 1})
    status = str(data.get("status") or "pending")
    common = dict(url=job.url, mode=job.mode, job_id=job.job_id, polls=job.polls + 1)
    if status == "success":
        return SaveJob(status="success", timestamp=str(data.get("timestamp") or "") or None,
                       original_url=str(data.get("original_url") or "") or None, **common)
    if status == "error":
        return SaveJob(status="error", status_ext=_status_ext(data.get("status_ext")) or "unknown",
                       message=str(data.get("message") or "")[:500], **common)
    return SaveJob(status="pending", **common)


async def user_status(send: Send, settings: Settings) -> dict:
    """The account's SPN budget: {"available": sessions, "daily_captures": n, "daily_captures_limit": n, ...}."""
    base = settings.wayback_save_url.rstrip("/")
    response = await send("spn_status", "GET", f"{base}/status/user", headers=_headers(settings), cap=_ANSWER_CAP)
    _raise_refusals(response, "the access keys")
    data = json_or_none(response.text)
    return data if isinstance(data, dict) else {}


async def save_anonymous(send: Send, settings: Settings, url: str, *, locate: Locate,
                         proceed: Callable[[], bool] | None = None) -> SaveJob:
    """The anonymous form, GET /save/URL. Where the new capture is told differs by year: a relative
    Content-Location (2020), a Location, a Link rel=memento, or nothing at all (2025); in the last case one
    TimeGate hop (`locate`) finds the capture just made."""
    base = settings.wayback_save_url.rstrip("/")
    response = await send("spn", "GET", f"{base}/{url}", cap=_ANSWER_CAP, timeout=_save_timeout(settings),
                          final=_is_answer, proceed=proceed)
    _raise_refusals(response, "an anonymous capture")
    if response.status >= 400:
        match = _SPN_STATUS_EXT.search(response.text)
        return SaveJob(url, "anonymous", "error",
                       status_ext=match.group(1) if match else f"http-{response.status}",
                       message=html.unescape(re.sub(r"<[^>]+>", " ", response.text)).strip()[:500])
    located = None
    for value in (response.headers.get("Content-Location"), response.headers.get("Location"),
                  (memento_links(response.headers.get("Link")).get("memento") or (None,))[0]):
        located = parse_archive_location(value)
        if located:
            break
    if located:
        timestamp, _mode, original = located
        return SaveJob(url, "anonymous", "success", timestamp=timestamp, original_url=original)
    timestamp = await locate(url, datetime.now(timezone.utc))
    if timestamp:
        return SaveJob(url, "anonymous", "success", timestamp=timestamp, original_url=url,
                       message="capture located by a TimeGate request (the save answer did not say where)")
    return SaveJob(url, "anonymous", "error", status_ext="no-capture-found",
                   message="Save Page Now answered, but no capture of the URL can be found")
