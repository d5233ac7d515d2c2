"""The check run: many URLs on one session, polite per host (lanes per host, a global bound on requests in
flight, adaptive intervals after a 429), each probe read by the soft-404 and drift tests, and each check stored
with the verdict the policy (check/verdict.py) decides as soon as it is done, so an interrupted run keeps
everything finished before the interruption. `check --confirm-now` re-probes failures while the pass goes on."""

from __future__ import annotations

import asyncio
import random
from collections import defaultdict, deque
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import AsyncIterator, Callable, Iterable
from urllib.parse import urlsplit

from linkkeeper import store
from linkkeeper.check import verdict
from linkkeeper.check.evidence import Evidence
from linkkeeper.check.pagetests import drift_reason, sibling_url, sibling_verdict, url_shape
from linkkeeper.check.probe import probe
from linkkeeper.net.session import HostLimiter, make_session
from linkkeeper.settings import Settings


def _lighten(ev: Evidence) -> Evidence:
    """Drop what only the classification read (page text, raw head): an evidence kept waiting for its
    confirmation should not hold a page in memory."""
    ev.text, ev.raw_head = "", ""
    return ev


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


class _CheckRun:
    """The state one run of check_urls shares among its tasks: the session, the host limiter, the global gate,
    the sibling probes (one per host and URL shape), and the confirmations under way."""

    def __init__(self, db, session, settings: Settings, *, want_body: Callable[[str], bool],
                 on_result: Callable[[Evidence, dict], None] | None, now: Callable[[], datetime],
                 sleep: Callable[[float], object], confirm_now: bool) -> None:
        self.db, self.session, self.settings = db, session, settings
        self.want_body, self.on_result, self.now, self.sleep = want_body, on_result, now, sleep
        self.confirm_now = confirm_now
        self.summary = CheckSummary()
        self.policy = verdict.Policy.from_settings(settings)
        self.hosts = HostLimiter(settings.per_host, settings.per_host_interval, settings.max_host_interval)
        self.gate = asyncio.Semaphore(max(1, settings.concurrency))
        self.siblings: dict[str, asyncio.Future] = {}
        # With confirm_now, each failure is re-probed `confirm_spacing` seconds later by a task of its own,
        # while the pass goes on: no lane waits out the spacing, and the confirmations of early failures are
        # done by the time the slowest hosts finish.
        self.confirmations: set[asyncio.Task] = set()

    def _slot(self, host: str):
        @asynccontextmanager
        async def slot() -> AsyncIterator[None]:
            # The host's interval is waited out before taking a global slot: a slow host holds up no other.
            async with self.hosts.slot(host):
                async with self.gate:
                    yield
        return slot

    async def probe_url(self, url: str, body: bool) -> Evidence:
        host = urlsplit(url).hostname or ""
        return await probe(self.session, url, self.settings, want_body=body, sleep=self.sleep,
                           slot=self._slot(host), on_status=lambda ev: self.hosts.feedback(host, ev.status))

    async def sibling_of(self, url: str) -> Evidence | None:
        key = url_shape(url)
        if key not in self.siblings:
            other = sibling_url(url)
            self.siblings[key] = asyncio.ensure_future(self.probe_url(other, True) if other else _nothing())
        return await self.siblings[key]

    async def evaluate(self, url: str, body: bool) -> Evidence:
        """One probe and everything that reads it: the sibling probe, the drift test, the overrides."""
        ev = await self.probe_url(url, body)
        if ev.evidence_class in verdict.GOOD_CLASSES and body:
            if self.settings.sibling_probe:
                sib = await self.sibling_of(ev.url)
                reason = sibling_verdict(ev, sib) if sib else None
                if reason:
                    ev.evidence_class, ev.reason = "soft-404", reason
            if ev.evidence_class in verdict.GOOD_CLASSES:
                drift = drift_reason(ev.text, store.lead_texts_for(self.db, url), self.settings.drift_threshold)
                if drift:
                    ev.evidence_class, ev.reason = "drifted", drift
        ev.evidence_class, ev.reason = verdict.apply_overrides(url, ev.evidence_class, ev.status, ev.reason,
                                                               self.policy)
        return ev

    def store_result(self, url: str, ev: Evidence, confirmed: bool) -> None:
        sig = verdict.signature(ev.evidence_class, ev.status, ev.error_class)
        previous = store.url_state(self.db, url)
        state = verdict.decide(ev.evidence_class, ev.reason, previous, self.now(), self.policy,
                               mark=store.url_mark(self.db, url), sig=sig, confirmed_now=confirmed,
                               moved_to=ev.final_url if ev.evidence_class == "moved" else None)
        store.record_check(self.db, ev.records(state["verdict"]), state)
        self.summary.checked += 1
        self.summary.verdicts[state["verdict"]] += 1
        if state["verdict"] in store.BROKEN_VERDICTS and (previous or {}).get("verdict") not in store.BROKEN_VERDICTS:
            self.summary.new_dead += 1
        if self.on_result:
            self.on_result(ev, state)

    async def confirm_later(self, url: str, body: bool, first: Evidence) -> None:
        history = [first]
        for _ in range(self.settings.confirm_probes):
            await self.sleep(self.settings.confirm_spacing)
            again = _lighten(await self.evaluate(url, body))
            history.append(again)
            if again.evidence_class not in verdict.FAILING_CLASSES:
                break
        last = history[-1]
        last.earlier = [e for h in history[:-1] for e in (*h.earlier, h)] + last.earlier
        self.store_result(url, last, last.evidence_class in verdict.FAILING_CLASSES)

    async def check_one(self, url: str) -> None:
        body = self.want_body(url)
        ev = await self.evaluate(url, body)
        confirmed = ev.reason == "domain listed in always_dead"
        if self.confirm_now and ev.evidence_class in verdict.FAILING_CLASSES and not confirmed:
            task = asyncio.ensure_future(self.confirm_later(url, body, _lighten(ev)))
            self.confirmations.add(task)
            task.add_done_callback(self.confirmations.discard)
            return
        self.store_result(url, ev, confirmed)


async def _nothing() -> None:
    return None


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
    by_host = _group_by_host(urls)
    host_order = list(by_host)
    random.Random(0).shuffle(host_order)
    # Lanes are cheap; the cap only keeps a run over very many hosts from making them all at once.
    lanes_open = asyncio.Semaphore(max(512, settings.concurrency * 4))
    # Links come from strangers: the checker's session trusts no endpoint past the address guard.
    async with make_session(settings, trust_archive=False) as session:
        run = _CheckRun(db, session, settings, want_body=want_body, on_result=on_result, now=now, sleep=sleep,
                        confirm_now=confirm_now)

        async def lane(queue: deque) -> None:
            async with lanes_open:
                while queue:
                    await run.check_one(queue.popleft())

        await asyncio.gather(*(lane(by_host[h]) for h in host_order
                               for _ in range(min(settings.per_host, len(by_host[h])))))
        while run.confirmations:
            await asyncio.gather(*list(run.confirmations))
    run.summary.verdicts = dict(run.summary.verdicts)
    return run.summary
