"""The check run: many URLs on one session, polite per host (lanes per host, a global bound on requests in
flight, adaptive intervals after a 429), each probe read by the tests that can still change its verdict (a page
holding its post's lead is the article: nothing more is read), and the checks stored with the verdicts the
policy (check/verdict.py) decides in small batches as they finish (each check as it finishes in a small run),
so an interrupted run keeps everything finished before the interruption, and a killed one all but its last
batch. Shared by a run's links: one random-sibling probe per host and URL shape, and one
probe of a host's root when a link of it does not answer or answers 5xx. `check --confirm-now` re-probes
failures while the pass goes on."""

from __future__ import annotations

import asyncio
import gc
import random
import time
from collections import defaultdict, deque
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import partial
from itertools import islice
from typing import Callable, Iterable, Iterator
from urllib.parse import urlsplit

import aiohttp

from linkkeeper import store
from linkkeeper.check import verdict
from linkkeeper.check.evidence import Evidence
from linkkeeper.check.pagetests import (PagePrint, drift_judgement, front_page_reason, page_print, sibling_url,
                                        sibling_verdict, url_shape)
from linkkeeper.check.probe import probe
from linkkeeper.net.session import HostLimiter, RequestSlot, make_session
from linkkeeper.settings import Settings
from linkkeeper.text.similarity import probes_needed
from linkkeeper.text.urls import host_of, plain_origin

# Finished checks are stored in batches (one transaction each: a transaction per check cost more than the
# check's own parsing): at most MAX_BATCH checks, at most one in BATCH_SHARE of the run's (a small run, as a
# nightly run's few due links, stores each check as it finishes), and at least every FLUSH_SECONDS. A run
# killed outright loses at most its last batch, which the next run checks again (never-checked or still due).
MAX_BATCH = 256
BATCH_SHARE = 100
FLUSH_SECONDS = 2.0
# The lead probes of a host's next links read along with one link's (one query for them all). Reading 256
# ahead instead of 32 gained nothing measurable on the all-200 bench and cost 11 MB of peak RSS.
PROBES_AHEAD = 31

# Allocations between two runs of the cyclic garbage collector during a check run (_fewer_collections).
GC_YOUNG = 20_000

# What `want_body` may answer for a URL: True (GET, the whole page: an Original Article link), False (HEAD,
# GET only where HEAD says nothing) or PEEK (HEAD, then the first 64 KB of an HTML page: other outbound links).
PEEK = "peek"


def reading_for(originals: set[str] | None) -> Callable[[str], bool | str]:
    """`want_body` for a run: every link read in full when `originals` is None (Original Article links
    only), else the Original Article links in full and every other outbound link peeked (`--all-links`):
    a 200 "not found" or "video unavailable" page is only seen in its body."""
    if originals is None:
        return lambda _url: True
    return lambda url: True if url in originals else PEEK


def _fast_inflate() -> None:
    """Inflate gzip answers with ISA-L (isal), about twice as fast as zlib: most pages come gzipped, and
    inflating them is much of a check's CPU. aiohttp's own hook; without isal, zlib as before."""
    try:
        from isal import isal_zlib
    except ImportError:
        return
    aiohttp.set_zlib_backend(isal_zlib)


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """Python's cyclic garbage collector run every GC_YOUNG allocations instead of every 700 while the run
    lasts: a run allocates many short-lived objects (requests, pages, evidence) that reference counting
    frees anyway, and at 700 the collector took about 6% of the checker's CPU (bench/check_bench.py). What
    exists when the run starts (modules, the run's list of links) is frozen out of the collector's full
    passes, which would otherwise scan it again and again, more the more links."""
    before = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(GC_YOUNG, *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()


def _silent(ev: Evidence) -> bool:
    """Whether a probe got no answer at all from its host: no status, no redirect, one of the errors of a
    host that does not answer (a reset after the headers is an answer)."""
    return ev.error_class in verdict.SILENT_HOST_ERRORS and not ev.status and not ev.redirect_chain


@dataclass
class CheckSummary:
    checked: int = 0
    verdicts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    new_dead: int = 0


def _root_of(url: str) -> str:
    """The URL's site root, `scheme://netloc/` (scheme and host lower-case): one probe per run each."""
    plain = plain_origin(url)
    if plain is not None:
        return plain[3] + "/"
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/"


def _group_by_host(urls: Iterable[str]) -> dict[str, deque]:
    by_host: dict[str, deque] = defaultdict(deque)
    for url in urls:
        by_host[host_of(url)].append(url)
    return by_host


class _CheckRun:
    """The state one run of check_urls shares among its tasks: the session, the host limiter, the global gate,
    the sibling probes (one per host and URL shape), and the confirmations under way."""

    def __init__(self, db, session, settings: Settings, *, want_body: Callable[[str], bool | str],
                 on_result: Callable[[Evidence, dict], None] | None, now: Callable[[], datetime],
                 sleep: Callable[[float], object], confirm_now: bool, batch: int = 1) -> None:
        self.db, self.session, self.settings = db, session, settings
        # Finished checks waiting to be stored together (store_result, flush).
        self.batch, self.pending, self.flushed_at = max(1, batch), [], time.monotonic()
        self.probes: dict[str, list[tuple[str, ...]]] = {}  # read ahead of their checks (probes_of)
        self.want_body, self.on_result, self.now, self.sleep = want_body, on_result, now, sleep
        self.confirm_now = confirm_now
        self.summary = CheckSummary()
        self.policy = verdict.Policy.from_settings(settings)
        self.hosts = HostLimiter(settings.per_host, settings.per_host_interval, settings.max_host_interval)
        self.gate = asyncio.Semaphore(max(1, settings.concurrency))
        self.siblings: dict[tuple[str, bool], asyncio.Future] = {}
        self.roots: dict[str, asyncio.Future] = {}
        self.root_settings = settings.replace(retries=0)
        # With confirm_now, each failure is re-probed `confirm_spacing` seconds later by a task of its own,
        # while the pass goes on: no lane waits out the spacing, and the confirmations of early failures are
        # done by the time the slowest hosts finish.
        self.confirmations: set[asyncio.Task] = set()

    def _slot(self, host: str) -> Callable[[], RequestSlot]:
        return partial(RequestSlot, self.hosts, host, self.gate)

    async def probe_url(self, url: str, body: bool | str, leads: list[tuple[str, ...]] | None = None, *,
                        settings: Settings | None = None, host: str | None = None) -> Evidence:
        host = host if host is not None else host_of(url)
        return await probe(self.session, url, settings or self.settings, want_body=body, sleep=self.sleep, leads=leads,
                           slot=self._slot(host), on_status=lambda ev: self.hosts.feedback(
                               host, ev.status, sent_at=self.hosts.clock() - ev.elapsed_ms / 1000))

    def _shared(self, cache: dict, key, make) -> asyncio.Future:
        if key not in cache:
            cache[key] = asyncio.ensure_future(make())
        return cache[key]

    async def sibling_of(self, ev: Evidence, peek: bool) -> PagePrint | None:
        """What a surely-missing URL shaped like this one gets: one probe per host and URL shape per run, kept
        as a PagePrint (not the page)."""
        other = sibling_url(ev.url)
        if other is None:
            return None

        async def make() -> PagePrint:
            return page_print(await self.probe_url(other, PEEK if peek else True))
        return await self._shared(self.siblings, (url_shape(ev.url), peek), make)

    async def root_of(self, url: str) -> Evidence | None:
        """The host's root, probed once per run for all its links (HEAD, GET where HEAD says nothing), in one
        attempt: it is asked only after a link of the host failed all of its own, and a hanging host's retries
        would hold its lanes for minutes. None when the URL is the root itself."""
        root = _root_of(url)  # the key host_silent reads
        if url.rstrip("/").lower() == root.rstrip("/").lower():
            return None
        return await self._shared(self.roots, root, lambda: self.probe_url(root, False, settings=self.root_settings))

    def host_silent(self, root: str) -> bool:
        """Whether this run already found the host of this root (scheme://netloc/) silent (its root did not
        answer): its other links get one attempt each, not `retries` more, so a host that never answers does
        not hold its lanes."""
        done = self.roots.get(root)
        return bool(done and done.done() and not done.cancelled() and done.exception() is None
                    and _silent(done.result()))

    async def read_page(self, ev: Evidence, peek: bool) -> None:
        """The tests of a live page that did not plainly hold its lead: redirected onto a front page, the
        random sibling, drift (against the citing posts' texts, read only here: most pages hold their lead).
        Each runs only while the verdict is still live."""
        reason = front_page_reason(ev)
        if reason is None and self.settings.sibling_probe:
            sibling = await self.sibling_of(ev, peek)
            reason = sibling_verdict(ev, sibling) if sibling else None
        if reason:
            ev.evidence_class, ev.reason = "soft-404", reason
            return
        posts = [] if peek else store.post_leads_of(self.db, [ev.url])[ev.url]
        if posts:
            drifted, note = drift_judgement(ev, posts, self.settings.drift_threshold)
            if drifted:
                ev.evidence_class, ev.reason = "drifted", note
            elif note:
                ev.reason = f"{ev.reason}; {note}" if ev.reason else note

    async def host_answers(self, ev: Evidence) -> None:
        """A link that got no answer, or a server error: does its host's root answer? A host that does not
        answer at all makes the link `unreachable`; a 5xx on an article whose host answers is a server error
        that counts towards dead (verdict.decide); otherwise the evidence stays as it is."""
        silent = _silent(ev)
        server_error = ev.evidence_class == "transient" and 500 <= (ev.status or 0) < 600
        if not (silent or server_error):
            return
        root = await self.root_of(ev.url)
        if root is None:
            root = ev
        root_silent = _silent(root)
        if silent and root_silent:
            what = "its root neither" if root is not ev else "it is the site's root"
            ev.evidence_class = "unreachable"
            ev.reason = f"host does not answer ({ev.error_class}); {what}"
        elif silent and ev.evidence_class == "unreachable":
            ev.evidence_class = "transient"  # the host answers: this failure was this URL's, or a moment's
        elif server_error and not root_silent and root is not ev and (root.status or 600) < 500:
            ev.server_error = True

    def probes_of(self, url: str, upcoming: Iterable[str]) -> list[tuple[str, ...]]:
        """The lead probes of the posts citing `url` (those that can recognise a lead), read with those of the
        next links of its host's queue (`upcoming`) in one query, and kept until their own check asks."""
        if url not in self.probes:
            ahead = [u for u in islice(upcoming, PROBES_AHEAD) if u not in self.probes and self.want_body(u) is True]
            self.probes.update(store.lead_probes_of(self.db, [url, *ahead]))
        return [p for p in self.probes.pop(url) if probes_needed(p)]

    async def evaluate(self, url: str, body: bool | str, upcoming: Iterable[str] = ()) -> Evidence:
        """One probe and everything that can still change its verdict: the page tests, the host's root, the
        overrides. `upcoming`: the next links of the host, whose posts' texts are read along with this one's."""
        probes = self.probes_of(url, upcoming) if body is True else []
        host = host_of(url)  # once per link: the host's lanes, its root, the overrides
        silent = self.host_silent(_root_of(url))
        ev = await self.probe_url(url, body, probes, settings=self.root_settings if silent else None, host=host)
        if ev.evidence_class in verdict.GOOD_CLASSES and ev.markup and not ev.lead_held:
            await self.read_page(ev, peek=body is not True)
        await self.host_answers(ev)
        ev.evidence_class, ev.reason = verdict.apply_overrides(url, ev.evidence_class, ev.status, ev.reason,
                                                               self.policy, host=host)
        return ev

    def store_result(self, url: str, ev: Evidence, confirmed: bool) -> None:
        """Queue a finished check for the next batch (stored at once when batches are of one)."""
        if self.batch > 1:
            ev.lighten()  # a page waiting for its batch would hold memory for nothing
        self.pending.append((url, ev, confirmed, self.now()))
        if len(self.pending) >= self.batch or time.monotonic() - self.flushed_at >= FLUSH_SECONDS:
            self.flush()

    def flush(self) -> None:
        """Store the queued checks with the verdicts they decide, in one transaction, then report them
        (on_result): what is reported as done is stored."""
        pending, self.pending = self.pending, []
        self.flushed_at = time.monotonic()
        if not pending:
            return
        urls = [url for url, *_ in pending]
        previous, marks = store.url_states(self.db, urls), store.url_marks(self.db, urls)
        decided = []
        for url, ev, confirmed, now in pending:
            sig = verdict.signature(ev.evidence_class, ev.status, ev.error_class)
            state = verdict.decide(ev.evidence_class, ev.reason, previous.get(url), now, self.policy,
                                   mark=marks.get(url), sig=sig, confirmed_now=confirmed,
                                   moved_to=ev.final_url if ev.evidence_class == "moved" else None,
                                   server_error=ev.server_error)
            decided.append((ev, state, (previous.get(url) or {}).get("verdict")))
        store.record_checks(self.db, [(ev.records(state["verdict"]), state) for ev, state, _ in decided])
        for ev, state, before in decided:
            self.summary.checked += 1
            self.summary.verdicts[state["verdict"]] += 1
            if state["verdict"] in store.BROKEN_VERDICTS and before not in store.BROKEN_VERDICTS:
                self.summary.new_dead += 1
            if self.on_result:
                self.on_result(ev, state)

    async def confirm_later(self, url: str, body: bool | str, first: Evidence) -> None:
        history = [first]
        for _ in range(self.settings.confirm_probes):
            await self.sleep(self.settings.confirm_spacing)
            again = (await self.evaluate(url, body)).lighten()
            history.append(again)
            if again.evidence_class not in verdict.FAILING_CLASSES:
                break
        last = history[-1]
        last.earlier = [e for h in history[:-1] for e in (*h.earlier, h)] + last.earlier
        self.store_result(url, last, last.evidence_class in verdict.FAILING_CLASSES)

    async def check_one(self, url: str, upcoming: Iterable[str] = ()) -> None:
        body = self.want_body(url)
        ev = await self.evaluate(url, body, upcoming)
        confirmed = ev.reason == "domain listed in always_dead"
        if self.confirm_now and ev.evidence_class in verdict.FAILING_CLASSES and not confirmed:
            task = asyncio.ensure_future(self.confirm_later(url, body, ev.lighten()))
            self.confirmations.add(task)
            task.add_done_callback(self.confirmations.discard)
            return
        self.store_result(url, ev, confirmed)


async def check_urls(db, urls: Iterable[str], settings: Settings, *, confirm_now: bool = False,
                     want_body: Callable[[str], bool | str] = lambda _url: True,
                     on_result: Callable[[Evidence, dict], None] | None = None,
                     now: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
                     sleep: Callable[[float], object] = asyncio.sleep) -> CheckSummary:
    """Check every URL and store each check with the URL's new verdict as it finishes, in batches (MAX_BATCH,
    BATCH_SHARE, FLUSH_SECONDS; `on_result` is called once a check is stored), so an interrupted run keeps
    everything finished before the interruption and a killed one loses at most its last batch.
    `want_body(url)`: True to read the whole page (Original Article links: lead, soft-404 and drift tests),
    PEEK to read the first 64 KB of an HTML page after HEAD (other outbound links), False for HEAD alone.

    Each host gets `per_host` lanes taking its URLs in turn; a global semaphore bounds the requests in
    flight; a lane waits out its host's interval (raised after a 429) without holding a global slot, so one
    slow or rate-limited host never holds up the others.
    """
    with _fewer_collections():
        return await _check_all(db, urls, settings, confirm_now=confirm_now, want_body=want_body,
                                on_result=on_result, now=now, sleep=sleep)


async def _check_all(db, urls: Iterable[str], settings: Settings, *, confirm_now: bool,
                     want_body: Callable[[str], bool | str], on_result: Callable[[Evidence, dict], None] | None,
                     now: Callable[[], datetime], sleep: Callable[[float], object]) -> CheckSummary:
    _fast_inflate()
    by_host = _group_by_host(urls)
    total = sum(map(len, by_host.values()))
    host_order = list(by_host)
    random.Random(0).shuffle(host_order)
    # Lanes are cheap; the cap only keeps a run over very many hosts from making them all at once.
    lanes_open = asyncio.Semaphore(max(512, settings.concurrency * 4))
    # Links come from strangers: the checker's session trusts no endpoint past the address guard.
    async with make_session(settings, trust_archive=False) as session:
        run = _CheckRun(db, session, settings, want_body=want_body, on_result=on_result, now=now, sleep=sleep,
                        confirm_now=confirm_now, batch=min(MAX_BATCH, total // BATCH_SHARE))

        async def lane(queue: deque) -> None:
            async with lanes_open:
                while queue:
                    await run.check_one(queue.popleft(), queue)

        try:
            await asyncio.gather(*(lane(by_host[h]) for h in host_order
                                   for _ in range(min(settings.per_host, len(by_host[h])))))
            while run.confirmations:
                await asyncio.gather(*list(run.confirmations))
        finally:
            run.flush()  # stopped (SIGINT, SIGTERM, an error) or done: what was finished is kept
    run.summary.verdicts = dict(run.summary.verdicts)
    return run.summary
