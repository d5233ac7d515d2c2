"""The nightly integrity run, `linkkeeper run SOURCE`: ingest (an export file, or the blog's public feed) ->
check what is due -> repair newly dead links -> preserve (when asked) -> report, in one command that is safe
to schedule.

Safe to schedule means:

- **Incremental.** The feed is read from where the last read left off (`updated-min`, see sources/feed.py),
  and a full read (which alone can tell deleted posts) happens every `full_every_days` or with `--full`.
  Links are checked on a schedule (store.due_urls): new links at once, suspect and unknown links on the
  confirmation schedule, the rest every `recheck_alive_days`; oldest due first, at most `max_checks` a run.
- **Resumable.** Every unit of work - a feed page, a check, a repair - is committed in its own transaction,
  and every stage takes only what is not done yet (a checked URL is not due again; a link with a repair
  needs none), so a run killed at any point, even by SIGKILL, leaves whole units only, and the next run does
  the rest: nothing twice, nothing lost.
- **Exclusive.** The run's row in `runs` (status 'running', with pid, host and process start time) is its
  lock. A second run refuses while the holder's process lives; a holder whose process is gone (or whose pid
  now belongs to another process) is stale, marked 'abandoned', and its work is simply carried on.
- **Interruptible.** SIGINT and SIGTERM stop the run: the work in flight is cancelled (a check is stored
  in one synchronous step, so a cancelled one leaves nothing behind), the run is marked 'interrupted', one
  line says what was kept, and the process exits 130 (SIGINT) or 143 (SIGTERM).

Exit codes (exits.py): 0 healthy, 1 new breakage (a link became dead or soft-404 since the last completed
run), 2 usage, settings or input error, 3 the run failed (the feed, the network or the archive unreachable,
or another run holds the lock), 130 / 143 stopped by SIGINT / SIGTERM.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import socket
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Callable

from linkkeeper.sources import ingest as ingestmod
from linkkeeper import store
from linkkeeper.net.session import run as run_stage
from linkkeeper.exits import EXIT_BREAKAGE, EXIT_FAILED, EXIT_FOR_SIGNAL, EXIT_OK, EXIT_USAGE
from linkkeeper.faults import WorkCounter
from linkkeeper.progress import Console  # noqa: F401 - the run's console; callers import it from here
from linkkeeper.settings import Settings
from linkkeeper.sources import feed as feedmod
from linkkeeper.text.dates import parse_iso, to_iso, utcnow

# A nightly run starts at about the same time each night and its checks land minutes into it; without this
# slack a link due "in 7 days" would wait for the 8th night because it was checked 3 minutes later last week.
DUE_SLACK = timedelta(hours=2)
# An incremental feed read starts this long before the previous read began: Blogger's clock and ours differ,
# and a post edited while the previous read was under way must not fall between two reads.
FEED_OVERLAP = timedelta(hours=1)

log = logging.getLogger("linkkeeper.run")


@dataclass
class RunOptions:
    source: str
    full: bool = False
    max_checks: int | None = None  # None: the max_checks setting (0 there means no cap)
    all_links: bool = False
    repair: bool = True
    preserve: bool = False
    report: bool = True
    reports_dir: str | None = None
    feed_format: str = "atom"
    break_lock: bool = False


@dataclass
class RunResult:
    run_id: int | None
    status: str
    exit_code: int
    message: str
    counts: dict[str, Any] = field(default_factory=dict)
    changes: dict[str, Any] | None = None
    reports: dict[str, str] = field(default_factory=dict)

    def summary_line(self) -> str:
        c = self.counts
        parts = [f"run {self.run_id if self.run_id is not None else '-'} {self.status}"]
        if "ingest" in c:
            i = c["ingest"]
            deleted = f", {i['deleted']} deleted" if i.get("deleted") else ""
            parts.append(f"{i.get('posts', 0)} posts read ({i.get('changed', 0)} new or changed{deleted})")
        if "check" in c:
            k = c["check"]
            verdicts = ", ".join(f"{v} {n}" for v, n in sorted(k.get("verdicts", {}).items()))
            parts.append(f"checked {k.get('checked', 0)} of {k.get('due', 0)} due" + (f" ({verdicts})" if verdicts else ""))
        if self.changes is not None:
            parts.append(f"{len(self.changes['newly_broken'])} newly broken, {len(self.changes['recovered'])} recovered")
        if "repair" in c:
            r = c["repair"]
            parts.append(f"{r.get('proposed', 0) + r.get('unavailable', 0)} repairs looked up "
                         f"({r.get('approved', 0)} approved)")
        if self.reports.get("html"):
            parts.append(f"report {self.reports['html']}")
        line = "; ".join(parts)
        return f"{line}: {self.message}" if self.message else line

    def as_json(self) -> dict[str, Any]:
        return {"run": self.run_id, "status": self.status, "exit_code": self.exit_code, "message": self.message,
                "counts": self.counts, "changes": self.changes, "reports": self.reports}


class RunAborted(Exception):
    """A stage cannot go on; `exit_code` says whose fault (EXIT_USAGE: the input; EXIT_FAILED: the world)."""

    def __init__(self, message: str, exit_code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.exit_code = exit_code


# --- the lock ------------------------------------------------------------------------------------------------

def _proc_stat(pid: int) -> tuple[str, str] | None:
    """(state, start time in clock ticks since boot) of a process, from /proc (Linux); None elsewhere."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            data = fh.read()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: the fields proper start after the last ')'.
    rest = data[data.rindex(b")") + 2:].split()
    return rest[0].decode(), rest[19].decode()


def process_started(pid: int | None = None) -> str | None:
    """What tells this process apart from a later one given the same pid."""
    stat = _proc_stat(os.getpid() if pid is None else pid)
    return stat[1] if stat else None


def holder_is_stale(holder: dict, hostname: str | None = None) -> bool:
    """Whether the process holding the run lock is gone. A holder on another host cannot be judged from here
    and counts as alive (use --break-lock when it is known to be gone)."""
    if holder.get("hostname") != (hostname or socket.gethostname()):
        return False
    pid = holder.get("pid")
    if not pid:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass  # alive, under another user
    stat = _proc_stat(pid)
    if stat is not None:
        state, started = stat
        if state == "Z":
            return True  # exited; only its parent has not collected it yet
        if holder.get("process_started") and started != holder["process_started"]:
            return True  # the pid was reused by another process
    return False


# --- the run ---------------------------------------------------------------------------------------------------

class Stopper:
    """What SIGINT and SIGTERM do: note the signal and cancel the work in flight (once)."""

    def __init__(self) -> None:
        self.signal: str | None = None
        self.task: asyncio.Future | None = None

    def stop(self, name: str) -> None:
        if self.signal is not None:
            return
        self.signal = name
        if self.task is not None and not self.task.done():
            self.task.cancel()


async def execute(db, settings: Settings, options: RunOptions, *, console: Console | None = None,
                  now: Callable[[], datetime] = utcnow, sleep: Callable[[float], object] = asyncio.sleep,
                  stopper: Stopper | None = None) -> RunResult:
    """Take the lock, run the stages, record the run. Never raises for what a run can meet (bad input, the
    network, an interruption): the RunResult says what happened and which exit code it means."""
    console = console or Console(quiet=True)
    stopper = stopper or Stopper()
    if options.feed_format not in ("atom", "json"):
        return RunResult(None, "failed", EXIT_USAGE, f"unknown feed format {options.feed_format!r}")
    is_feed = feedmod.is_address(options.source)
    try:
        source_key = feedmod.feed_id(options.source) if is_feed else str(Path(options.source).resolve())
    except feedmod.FeedError as exc:
        return RunResult(None, "failed", EXIT_USAGE, str(exc))
    if not is_feed and not Path(options.source).is_file():
        return RunResult(None, "failed", EXIT_USAGE, f"{options.source}: no such export file")
    hostname = socket.gethostname()
    row = {"started_at": to_iso(now()), "source": source_key, "pid": os.getpid(), "hostname": hostname,
           "process_started": process_started()}
    try:
        run_id = store.begin_run(db, row, (lambda h: True) if options.break_lock else
                                 (lambda h: holder_is_stale(h, hostname)))
    except store.RunRefused as exc:
        return RunResult(None, "refused", EXIT_FAILED,
                         f"another run is in progress: {exc}; not starting. If that process is gone for good "
                         f"(another host, say), run again with --break-lock")
    console.log(f"run {run_id} started: {options.source}")
    counts: dict[str, Any] = {}
    work = WorkCounter()
    task = asyncio.ensure_future(_stages(db, settings, options, run_id, counts, work, console, now, sleep, is_feed,
                                         source_key))
    stopper.task = task
    if stopper.signal is not None:
        task.cancel()
    result: RunResult
    try:
        reports = await task
        result = _conclude(db, run_id, counts, reports)
    except asyncio.CancelledError:
        if stopper.signal is None:
            store.finish_run(db, run_id, status="interrupted", exit_code=EXIT_FAILED, counts=counts,
                             message="cancelled")
            raise
        result = RunResult(run_id, "interrupted", EXIT_FOR_SIGNAL[stopper.signal],
                           f"interrupted by {stopper.signal}: {_work_kept(counts)}; the next run carries on from "
                           f"there", counts)
    except RunAborted as exc:
        result = RunResult(run_id, "failed", exc.exit_code, str(exc), counts)
    except Exception as exc:  # noqa: BLE001 - a failed run is recorded, with what it had done
        log.exception("run %s failed", run_id)
        result = RunResult(run_id, "failed", EXIT_FAILED, f"{type(exc).__name__}: {exc}", counts)
    counts["units"] = work.units
    store.finish_run(db, run_id, status=result.status, exit_code=result.exit_code, counts=counts,
                     message=result.message or None)
    console.log(f"run {run_id} {result.status} (exit code {result.exit_code})")
    return result


def _work_kept(counts: dict) -> str:
    """What an interrupted run kept, stage by stage: "14 posts read, 3 of 12 checks saved"."""
    parts = []
    if "ingest" in counts:
        parts.append(f"{counts['ingest'].get('posts', 0):,} posts read")
    if "check" in counts:
        parts.append(f"{counts['check']['checked']:,} of {counts['check']['due']:,} due checks saved")
    if "repair" in counts:
        parts.append(f"{counts['repair']['proposed'] + counts['repair']['unavailable']:,} repairs saved")
    return ", ".join(parts) or "nothing was under way yet"


def _conclude(db, run_id: int, counts: dict, reports: dict[str, str]) -> RunResult:
    baseline = store.change_baseline_run(db, run_id)
    changes = store.changes_since(db, baseline)
    counts["new"] = {"broken": len(changes["newly_broken"]), "recovered": len(changes["recovered"]),
                     "repairs": len(changes["repairs"]), "deleted_posts": len(changes["deleted_posts"])}
    broken = bool(changes["newly_broken"])
    status, code = ("breakage", EXIT_BREAKAGE) if broken else ("ok", EXIT_OK)
    since = f" since run {baseline}" if baseline != run_id else ""
    message = f"{len(changes['newly_broken'])} links broke{since}" if broken else ""
    return RunResult(run_id, status, code, message, counts, changes, reports)


async def _stages(db, settings: Settings, options: RunOptions, run_id: int, counts: dict, work: WorkCounter,
                  console: Console, now: Callable[[], datetime], sleep, is_feed: bool, source_key: str) -> dict[str, str]:
    if is_feed:
        counts["ingest"] = await _ingest_feed(db, settings, options, run_id, work, console, now, sleep, source_key)
    else:
        counts["ingest"] = _ingest_file(db, settings, options, work, console)
    # Each stage fills its counts as it goes, so an interrupted run can say what it kept.
    counts["check"] = {"due": 0, "checked": 0, "verdicts": {}, "capped": False}
    await _check(db, settings, options, work, console, now, sleep, counts["check"])
    if options.repair:
        counts["repair"] = {"proposed": 0, "approved": 0, "unavailable": 0}
        await _repair(db, settings, work, console, counts["repair"])
    if options.preserve:
        counts["preserve"] = await _preserve(db, settings, work, console)
    reports: dict[str, str] = {}
    if options.report:
        from linkkeeper.desk.report import write_reports

        paths = write_reports(db, options.reports_dir or settings.reports_dir, all_links=options.all_links)
        reports = {kind: str(path) for kind, path in paths.items()}
        console.log(f"report: {reports.get('html') or next(iter(reports.values()), '')}")
    return reports


def _ingest_file(db, settings: Settings, options: RunOptions, work: WorkCounter, console: Console) -> dict:
    from linkkeeper.sources.common import ExportError

    path = Path(options.source)
    known = store.source_by_path(db, str(path.resolve()))
    if known and known.get("sha256") and known.get("size") == path.stat().st_size \
            and known["sha256"] == ingestmod.file_sha256(path):
        console.log(f"ingest: {path} unchanged since it was ingested")
        work.committed()
        return {"source": str(path), "unchanged": True, "posts": 0, "changed": 0}
    try:
        result = ingestmod.ingest(db, path, blog_hosts=settings.blog_hosts)
    except ExportError as exc:
        raise RunAborted(f"{exc} (nothing was ingested from this file)", EXIT_USAGE) from None
    for warning in result.warnings:
        console.log(f"warning: {warning}")
    work.committed()
    console.log(f"ingest: {result.posts} posts from {path} ({result.changed} new or changed)")
    return {"source": str(path), "posts": result.posts, "changed": result.changed}


async def _ingest_feed(db, settings: Settings, options: RunOptions, run_id: int, work: WorkCounter, console: Console,
                       now: Callable[[], datetime], sleep, source_key: str) -> dict:
    last, last_full = store.feed_checkpoints(db, source_key)
    started = now()
    full = (options.full or last is None or last_full is None
            or started - parse_iso(last_full) >= timedelta(days=settings.full_every_days))
    since = None if full else to_iso(parse_iso(last) - FEED_OVERLAP)
    console.log(f"ingest: reading {'the whole feed' if full else f'the feed from {since}'} of {options.source}")
    base = feedmod.feed_base(options.source)
    seen: set[str] = set()
    source_id = None
    blog_id = None
    counts = {"source": source_key, "full": full, "since": since, "pages": 0, "posts": 0, "changed": 0, "deleted": 0}
    try:
        async with feedmod.feed_session(settings) as session:
            async for page in feedmod.read_pages(session, options.source, fmt=options.feed_format,
                                                 page_size=settings.feed_page_size, updated_min=since,
                                                 retries=settings.retries, retry_wait_max=settings.retry_wait_max,
                                                 max_redirects=settings.max_redirects, sleep=sleep):
                info = {"path": source_key, "format": feedmod.FORMAT, "blog_url": page.blog_url or base + "/",
                        "title": page.title}
                posts = work.posts_of_page(counts["pages"] + 1, page.posts)
                result = ingestmod.ingest_posts(db, posts, info, blog_hosts=settings.blog_hosts)
                source_id, blog_id = result.source_id, page.blog_id or blog_id
                seen.update(post.id for post in page.posts)
                counts["pages"] += 1
                counts["posts"] += result.posts
                counts["changed"] += result.changed
                work.committed()
                console.progress("feed", counts["posts"], max(page.total_results or 0, counts["posts"]))
    except feedmod.FeedError as exc:
        raise RunAborted(str(exc), EXIT_FAILED if exc.transient else EXIT_USAGE) from None
    if source_id is None:
        known = store.source_by_path(db, source_key)
        source_id = known["id"] if known else None
    if full and not seen:
        # An empty listing is far likelier a broken feed than a blog whose every post was deleted.
        console.log("warning: the feed listed no posts; no post is marked deleted")
    prefix = f"tag:blogger.com,1999:blog-{blog_id}.post-" if blog_id else None
    counts["deleted"] = store.finish_feed_read(db, run_id, source_id=source_id, seen=seen if (full and seen) else None,
                                               post_prefix=prefix, full=full, since=since, checkpoint=to_iso(started))
    console.log(f"ingest: {counts['posts']} posts in {counts['pages']} pages ({counts['changed']} new or changed"
                + (f", {counts['deleted']} no longer in the feed" if counts["deleted"] else "") + ")")
    return counts


async def _check(db, settings: Settings, options: RunOptions, work: WorkCounter, console: Console,
                 now: Callable[[], datetime], sleep, counts: dict[str, Any]) -> None:
    from linkkeeper.check.runner import check_urls, reading_for
    from linkkeeper.net.reach import network_failure

    cap = settings.max_checks if options.max_checks is None else options.max_checks
    soon_hours = settings.dead_after_hours / max(1, settings.dead_after_checks - 1)
    due = store.due_urls(db, now=to_iso(now() + DUE_SLACK), alive_after_seconds=settings.recheck_alive_days * 86400,
                         soon_after_seconds=soon_hours * 3600, all_links=options.all_links)
    chosen = due[:cap] if cap and cap > 0 else due
    counts.update(due=len(due), capped=len(chosen) < len(due))
    console.log(f"check: {len(due)} links due" + (f", checking the {len(chosen)} longest due" if counts["capped"] else ""))
    if not chosen:
        return
    problem = await network_failure(settings, chosen)
    if problem:
        raise RunAborted(problem)
    originals = set(store.links_to_check(db)) if options.all_links else None
    done = 0

    def on_result(_evidence, state: dict) -> None:
        nonlocal done
        done += 1
        counts["checked"] = done
        counts["verdicts"][state["verdict"]] = counts["verdicts"].get(state["verdict"], 0) + 1
        work.committed()
        console.progress("check", done, len(chosen))

    await check_urls(db, chosen, settings, on_result=on_result, now=now, sleep=sleep,
                     want_body=reading_for(originals))


async def _repair(db, settings: Settings, work: WorkCounter, console: Console, counts: dict[str, Any]) -> None:
    from linkkeeper.net.reach import archive_failure
    from linkkeeper.repair.proposals import propose_repairs

    if next(iter(store.links_needing_repair(db)), None) is not None:
        problem = await archive_failure(settings)
        if problem:
            raise RunAborted(problem)

    def on_result(repair: dict) -> None:
        key = "unavailable" if repair["state"] == "unavailable" else "proposed"
        counts[key] += 1
        counts["approved"] += repair["state"] == "approved"
        work.committed()

    summary = await propose_repairs(db, settings, on_result=on_result)
    counts["considered"] = summary.considered
    if summary.considered:
        console.log(f"repair: {summary.considered} links looked up: {counts['approved']} approved automatically, "
                    f"{counts['proposed'] - counts['approved']} for review, {counts['unavailable']} with no usable capture")


async def _preserve(db, settings: Settings, work: WorkCounter, console: Console) -> dict:
    from linkkeeper.repair.preserve import preserve_links as entry
    counts: dict[str, Any] = {"results": 0}

    def on_result(_row) -> None:
        counts["results"] += 1
        work.committed()

    summary = await entry(db, settings, on_result=on_result)
    for name in ("considered", "requested", "captured", "failed", "stopped"):
        if hasattr(summary, name):
            counts[name] = getattr(summary, name)
    console.log(f"preserve: {counts['results']} links sent to Save Page Now"
                + (f" (stopped: {counts['stopped']})" if counts.get("stopped") else ""))
    return counts


# --- the synchronous entry point: signals, the event loop ------------------------------------------------------

def run(db, settings: Settings, options: RunOptions, *, console: Console | None = None) -> RunResult:
    """execute() under asyncio.run, with SIGINT and SIGTERM stopping the run cleanly (exit code 130, 143)."""
    stopper = Stopper()

    async def main() -> RunResult:
        loop = asyncio.get_running_loop()
        installed = []
        for sig, name in ((signal.SIGINT, "SIGINT"), (signal.SIGTERM, "SIGTERM")):
            try:
                loop.add_signal_handler(sig, stopper.stop, name)
                installed.append(sig)
            except (NotImplementedError, RuntimeError, ValueError):
                pass  # not the main thread, or no signals here: the run is simply not interruptible cleanly
        try:
            return await execute(db, settings, options, console=console, stopper=stopper)
        finally:
            for sig in installed:
                loop.remove_signal_handler(sig)

    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        return run_stage(main())
    finally:
        for sig, handler in previous.items():
            try:
                signal.signal(sig, handler)
            except (ValueError, TypeError):
                pass


def result_json(result: RunResult) -> str:
    return json.dumps(result.as_json(), indent=2, ensure_ascii=False, sort_keys=True)

