"""Preservation: ask Save Page Now to capture the live Original Article links the Wayback Machine holds no
capture of yet, so that when they die there is something to repair them with.

- Which links: Original Article links whose URL is alive (alive, redirected or moved: `check` decides), not
  links to captures, not already preserved. "No capture yet" is one TimeGate request per URL (cached: a found
  capture for good, none for `archive_negative_ttl_days`).
- How: SPN2 when LINKKEEPER_SPN_ACCESS_KEY / LINKKEEPER_SPN_SECRET are set (POST, then poll the job), else the
  anonymous GET /save/URL form.
- Within SPN's limits: the client paces captures below 7 a minute signed in (3 anonymous); a run stops at the
  day's quota (30,000 signed in, the account's own figure from /save/status/user when it says less; 200
  anonymous), counting this day's requests in `preservations`; no URL is asked more than 5 times a day.
- Retries: only the status_ext values SPN2's document calls temporary (archive.SPN_RETRYABLE), each after a
  longer wait. `too-many-daily-captures` means the URL was captured many times today already; a target SPN
  cannot reach (`not-found` ...) is recorded as such, not retried.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Iterator

from linkkeeper import store
from linkkeeper.wayback import (SPN_ANONYMOUS_PER_DAY, SPN_PER_URL_PER_DAY, SPN_SIGNED_IN_PER_DAY,
                                SPN_URL_DAILY_LIMIT, ArchiveError, BlockedSiteError, NotSentError, SaveJob,
                                SpnAuthError, SpnQuotaError, WaybackClient, surt_key)
from linkkeeper.net.session import session_for
from linkkeeper.settings import Settings
from linkkeeper.repair.capture import LookupCache
from linkkeeper.text.dates import to_iso

SPN_ATTEMPTS = 3  # per URL and run, for retryable errors
RETRY_WAIT = 30.0  # seconds before the first retry, doubled after each
POLL_INTERVAL = 5.0
POLL_TIMEOUT = 300.0  # an unknown or expired job reads "pending" for ever
WORKERS = 3  # jobs in progress at once: below SPN2's session limit


@dataclass
class PreserveSummary:
    mode: str = ""
    considered: int = 0  # live links looked at
    already_archived: int = 0
    excluded: int = 0
    requested: int = 0  # URLs sent to Save Page Now
    captured: int = 0
    failed: int = 0
    target_gone: int = 0  # SPN could not reach a page `check` found alive
    pending: int = 0  # still pending when polling stopped: looked up again next run
    skipped_url_limit: int = 0
    stopped: str | None = None  # why the run ended early (the day's quota, refused keys)
    archive_requests: dict[str, int] = field(default_factory=dict)
    results: list[dict] = field(default_factory=list)


def _day_start(now: datetime) -> datetime:
    return now.astimezone(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)


def _exists_key(url: str) -> str:
    return f"exists|{surt_key(url)}"


@dataclass
class _Run:
    """What the workers of one run share."""

    db: Any
    wayback: WaybackClient
    cache: LookupCache
    summary: PreserveSummary
    budget: int
    now: Callable[[], datetime]
    poll_interval: float
    poll_timeout: float
    retry_wait: float
    on_result: Callable[[dict], None] | None
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    def over(self) -> bool:
        return self.stop.is_set() or self.summary.requested >= self.budget


async def preserve_links(db, settings: Settings, *, date_from: str | None = None, date_to: str | None = None,
                         limit: int | None = None, session=None, client: WaybackClient | None = None,
                         on_result: Callable[[dict], None] | None = None, poll_interval: float = POLL_INTERVAL,
                         poll_timeout: float = POLL_TIMEOUT, retry_wait: float = RETRY_WAIT,
                         now: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> PreserveSummary:
    """Ask for captures of live links with none, at most `limit` this run (see the module notes)."""
    summary = PreserveSummary()

    async def run(session) -> None:
        wayback = client or WaybackClient(session, settings)
        before = dict(wayback.requests)
        summary.mode = "spn2" if wayback.spn_signed_in else "anonymous"
        budget = await _budget(db, wayback, summary, limit, now)
        if budget <= 0:
            return
        state = _Run(db, wayback, LookupCache(db, settings.archive_negative_ttl_days), summary, budget, now,
                     poll_interval, poll_timeout, retry_wait, on_result)
        rows = iter(list(store.links_to_preserve(db, date_from=date_from, date_to=date_to)))
        await asyncio.gather(*(_worker(state, rows) for _ in range(WORKERS)))
        summary.archive_requests = {k: v - before.get(k, 0) for k, v in wayback.requests.items()
                                    if v - before.get(k, 0)}

    async with session_for(settings, client.session if client is not None else session) as shared:
        await run(shared)
    return summary


async def _budget(db, wayback: WaybackClient, summary: PreserveSummary, limit: int | None,
                  now: Callable[[], datetime]) -> int:
    """How many captures this run may ask for: what is left of the day's quota (the account's own figure when
    it says less), at most `limit`. At 0, summary.stopped says why."""
    daily = SPN_SIGNED_IN_PER_DAY if summary.mode == "spn2" else SPN_ANONYMOUS_PER_DAY
    room = daily - store.preservations_since(db, _day_start(now()), mode=summary.mode)
    if summary.mode == "spn2":
        try:
            user = await wayback.spn2_user_status()
        except SpnAuthError as exc:
            summary.stopped = str(exc)
            return 0
        except ArchiveError:
            user = {}
        if isinstance(user.get("daily_captures_limit"), int) and isinstance(user.get("daily_captures"), int):
            room = min(room, user["daily_captures_limit"] - user["daily_captures"])
    budget = max(0, min(room, limit if limit is not None else room))
    if budget <= 0:
        summary.stopped = "the day's Save Page Now quota is spent"
    return budget


async def _worker(run: _Run, rows: Iterator[dict]) -> None:
    for row in rows:
        if run.over() or not await _preserve_one(run, row):
            return


async def _preserve_one(run: _Run, row: dict) -> bool:
    """Ask for a capture of one link if the archive has none; False when this worker is done (the run
    stopped, or the budget is spent)."""
    summary, url = run.summary, row["url"]
    summary.considered += 1
    try:
        known = await _captured_already(run, url)
    except ArchiveError:
        return True  # the archive is down: this URL waits for the next run
    if known.get("excluded"):
        summary.excluded += 1
        return True
    if known.get("timestamp"):
        summary.already_archived += 1
        return True
    if store.preservations_since(run.db, _day_start(run.now()), url=url) >= SPN_PER_URL_PER_DAY:
        summary.skipped_url_limit += 1
        return True
    # Checked again after the lookup's await (another worker may have spent the budget or hit the quota
    # meanwhile) and taken at once, with no await between, so workers never overshoot.
    if run.over():
        return False
    summary.requested += 1
    record = {"url": url, "link_id": row["link_id"], "post_id": row["post_id"], "mode": summary.mode,
              "requested_at": to_iso(run.now()), "attempts": 1}
    try:
        job, attempts = await _save(run, url)
    except SpnQuotaError as exc:
        summary.stopped = str(exc)
        run.stop.set()
        record.update(status="error", status_ext="daily-quota", message=str(exc)[:500])
    except SpnAuthError as exc:
        summary.stopped = str(exc)
        run.stop.set()
        summary.requested -= 1
        return True
    except NotSentError:
        summary.requested -= 1  # another worker stopped the run while this one waited its turn
        return False
    except ArchiveError as exc:
        record.update(status="error", status_ext="archive-unavailable", message=f"{type(exc).__name__}: {exc}"[:500])
    else:
        _note_job(run, url, record, job, attempts)
    _keep(run, record)
    return True


async def _captured_already(run: _Run, url: str) -> dict:
    async def fetch() -> dict:
        try:
            return {"timestamp": await run.wayback.timegate_hop(url, run.now())}
        except BlockedSiteError as exc:
            return {"timestamp": None, "excluded": str(exc)}

    return await run.cache.get(_exists_key(url), "replay", fetch, negative=lambda v: not v.get("timestamp"))


async def _save(run: _Run, url: str) -> tuple[SaveJob, int]:
    """One Save Page Now job, retried after longer and longer waits while SPN calls its error temporary."""
    wait, attempts = run.retry_wait, 0
    while True:
        attempts += 1
        job = await run.wayback.save_page(url, poll_interval=run.poll_interval, poll_timeout=run.poll_timeout,
                                          proceed=lambda: not run.stop.is_set())
        if job.retryable and attempts < SPN_ATTEMPTS:
            await run.wayback.sleep(wait)
            wait *= 2
            continue
        return job, attempts


def _note_job(run: _Run, url: str, record: dict, job: SaveJob, attempts: int) -> None:
    record.update(status=job.status, job_id=job.job_id, status_ext=job.status_ext, message=job.message,
                  capture_timestamp=job.timestamp, archive_url=job.archive_url, attempts=attempts)
    if job.status == "success":
        run.cache.put(_exists_key(url), "replay", {"timestamp": job.timestamp}, negative=False)
    elif job.status == "pending" or job.status_ext == SPN_URL_DAILY_LIMIT:
        # Probably captured after all: the next run looks again instead of trusting "none".
        store.forget_archive_lookup(run.db, _exists_key(url))
    run.summary.target_gone += job.target_gone


def _keep(run: _Run, record: dict) -> None:
    summary = run.summary
    summary.captured += record["status"] == "success"
    summary.pending += record["status"] == "pending"
    summary.failed += record["status"] == "error"
    store.save_preservation(run.db, record)
    summary.results.append(record)
    if run.on_result:
        run.on_result(record)
