"""The nightly run (`linkkeeper run`): its row in `runs`, which while it is 'running' is also the lock
that keeps a second run out; the feed reads it made, and which posts a full read found deleted
(posts.deleted_at); and what changed since a run, for "new since the last run"."""

from __future__ import annotations

import json
from typing import Any, Callable, Iterable

from linkkeeper.store.checks import BROKEN_VERDICTS, GOOD_VERDICTS
from linkkeeper.store.posts import live_post_count, set_source_post_count
from linkkeeper.store.sql import first_row, transaction
from linkkeeper.text.dates import now_iso

RUN_STATES = ("running", "ok", "breakage", "failed", "interrupted", "abandoned")
COMPLETED_RUN_STATES = ("ok", "breakage")


class RunRefused(RuntimeError):
    """Another run holds the lock; `holder` is its runs row."""

    def __init__(self, holder: dict) -> None:
        super().__init__(f"run {holder['id']} is running (pid {holder['pid']} on {holder['hostname']}, "
                         f"started {holder['started_at']})")
        self.holder = holder


def _max_ids(db) -> tuple[int, int]:
    return (db.execute("SELECT COALESCE(max(id), 0) FROM checks").fetchone()[0],
            db.execute("SELECT COALESCE(max(id), 0) FROM repairs").fetchone()[0])


def begin_run(db, row: dict[str, Any], is_stale: Callable[[dict], bool]) -> int:
    """Take the lock and open the run's row, in one write transaction. Raises RunRefused while another run's
    row is 'running' and `is_stale` says its process lives; a stale holder is marked 'abandoned' (its work is
    kept: every unit of it was committed on its own)."""
    with transaction(db):
        for holder in list(db.query("SELECT * FROM runs WHERE status = 'running'")):
            if not is_stale(holder):
                raise RunRefused(holder)
            db.execute("UPDATE runs SET status = 'abandoned', message = ? WHERE id = ?",
                       [f"its process (pid {holder['pid']} on {holder['hostname']}) was gone when run "
                        f"started at {row.get('started_at')} found it", holder["id"]])
        checks, repairs = _max_ids(db)
        return db["runs"].insert(dict(row, status="running", check_id_start=checks, repair_id_start=repairs)).last_pk


def finish_run(db, run_id: int, *, status: str, exit_code: int, counts: dict, message: str | None = None) -> None:
    """Close the run's row (which releases the lock), with what it did."""
    if status not in RUN_STATES:
        raise ValueError(f"unknown run status {status!r}")
    with transaction(db):
        checks, repairs = _max_ids(db)
        db["runs"].update(run_id, {"status": status, "exit_code": exit_code, "finished_at": now_iso(),
                                   "counts": json.dumps(counts, ensure_ascii=False, sort_keys=True),
                                   "message": message, "check_id_end": checks, "repair_id_end": repairs})


def run_row(db, run_id: int) -> dict | None:
    return first_row(db, "SELECT * FROM runs WHERE id = ?", [run_id])


def last_completed_run(db, *, before: int | None = None) -> dict | None:
    """The latest run that finished its work (ok or breakage), optionally before run `before`."""
    params: list = list(COMPLETED_RUN_STATES)
    where = "status IN (?, ?)"
    if before is not None:
        where += " AND id < ?"
        params.append(before)
    return first_row(db, f"SELECT * FROM runs WHERE {where} ORDER BY id DESC LIMIT 1", params)


def change_baseline_run(db, run_id: int) -> int:
    """The run whose end the "new since the last run" of run `run_id` is counted from: the last completed run
    before it, or, when there is none, the first run of all (counted from its start). Runs killed or
    interrupted in between do not move the baseline, so what they found is still new for the run that
    finishes their work."""
    last = last_completed_run(db, before=run_id)
    if last is not None:
        return last["id"]
    return db.execute("SELECT min(id) FROM runs").fetchone()[0]


def feed_checkpoints(db, source: str) -> tuple[str | None, str | None]:
    """(the latest feed read of this source, the latest full one): when they started, as now_iso() strings."""
    row = db.execute("""SELECT max(feed_checkpoint), max(CASE WHEN "full" = 1 THEN feed_checkpoint END)
                        FROM runs WHERE source = ? AND feed_checkpoint IS NOT NULL""", [source]).fetchone()
    return row[0], row[1]


def finish_feed_read(db, run_id: int, *, source_id: int | None, seen: Iterable[str] | None, post_prefix: str | None,
                     full: bool, since: str | None, checkpoint: str) -> int:
    """Record a completed read of the feed in the run's row and, for a full read, mark the posts of the blog
    it no longer lists as deleted - together, so a run killed in between reads the feed again rather than
    trusting a read whose deletions were never noted. Returns how many posts were newly marked deleted.

    The blog's posts are those of the feed's source and, when the blog id is known (`post_prefix`, e.g.
    'tag:blogger.com,1999:blog-123.post-'), those ingested earlier from an export of the same blog."""
    deleted: list[str] = []
    with transaction(db):
        if full and seen is not None:
            db.execute("CREATE TEMP TABLE IF NOT EXISTS seen_posts (id TEXT PRIMARY KEY)")
            db.execute("DELETE FROM temp.seen_posts")
            db.conn.executemany("INSERT OR IGNORE INTO temp.seen_posts (id) VALUES (?)", [(i,) for i in seen])
            mine = "source_id = ?" + (" OR substr(id, 1, length(?)) = ?" if post_prefix else "")
            params = [source_id] + ([post_prefix, post_prefix] if post_prefix else [])
            deleted = [r[0] for r in db.execute(
                f"""SELECT id FROM posts WHERE deleted_at IS NULL AND ({mine})
                    AND id NOT IN (SELECT id FROM temp.seen_posts) ORDER BY id""", params)]
            db.conn.executemany("UPDATE posts SET deleted_at = ? WHERE id = ?", [(now_iso(), i) for i in deleted])
            db.execute("DELETE FROM temp.seen_posts")
            if source_id is not None:
                set_source_post_count(db, source_id, live_post_count(db, source_id))
        # The run keeps which posts it found deleted: "deleted since run N" must not hang on timestamps of
        # one-second resolution.
        db["runs"].update(run_id, {"full": int(full), "feed_since": since, "feed_checkpoint": checkpoint,
                                   "deleted_posts": json.dumps(deleted) if deleted else None})
    return len(deleted)


def changes_since(db, run_id: int) -> dict[str, Any]:
    """What changed since run `run_id` ended (or began, for a run that did not complete): URLs that became broken
    (dead, soft-404) or recovered (a good verdict after a broken one), repairs made, posts deleted. A URL's
    verdict "then" is the verdict of its last check before the boundary (each check's deciding row carries
    the URL's verdict; a check's rows are committed together, so the boundary never splits one)."""
    run = run_row(db, run_id)
    if run is None:
        raise KeyError(f"no run with id {run_id}")
    # Only a completed run is a boundary at its end: what a killed, interrupted or failed run found is still
    # news for the run that completes its work.
    ended = run["status"] in COMPLETED_RUN_STATES and run["check_id_end"] is not None
    check_base = run["check_id_end"] if ended else run["check_id_start"] or 0
    repair_base = run["repair_id_end"] if ended else run["repair_id_start"] or 0
    time_base = (run["finished_at"] if ended else run["started_at"]) or ""
    then = "(SELECT c.verdict FROM checks c WHERE c.url = s.url AND c.id <= ? ORDER BY c.id DESC LIMIT 1)"
    broken = ",".join("?" * len(BROKEN_VERDICTS))
    good = ",".join("?" * len(GOOD_VERDICTS))
    newly_broken = list(db.query(
        f"""SELECT s.url, s.verdict, s.reason, s.status, s.error_class FROM url_status s
            WHERE s.verdict IN ({broken}) AND COALESCE({then}, '') NOT IN ({broken})
              AND EXISTS (SELECT 1 FROM links l JOIN posts p ON p.id = l.post_id
                          WHERE l.url_normalized = s.url AND p.deleted_at IS NULL)
            ORDER BY s.url""", [*BROKEN_VERDICTS, check_base, *BROKEN_VERDICTS]))
    recovered = list(db.query(
        f"""SELECT s.url, s.verdict FROM url_status s
            WHERE s.verdict IN ({good}) AND {then} IN ({broken}) ORDER BY s.url""",
        [*GOOD_VERDICTS, check_base, *BROKEN_VERDICTS]))
    repairs = list(db.query(
        "SELECT id, link_id, post_id, url, state, replacement, confidence FROM repairs WHERE id > ? ORDER BY id",
        [repair_base]))
    noted = {i for (ids,) in db.execute("SELECT deleted_posts FROM runs WHERE id > ? AND deleted_posts IS NOT NULL",
                                        [run_id]) for i in json.loads(ids)}
    if not ended:
        noted |= set(json.loads(run["deleted_posts"] or "[]"))
    deleted = [r for r in db.query(
        "SELECT id, url, title, deleted_at FROM posts WHERE deleted_at IS NOT NULL ORDER BY id") if r["id"] in noted]
    return {"since_run": run_id, "since": time_base, "newly_broken": newly_broken, "recovered": recovered,
            "repairs": repairs, "deleted_posts": deleted}
