"""The store's schema: the tables, created where missing when a database is opened, and the columns added to
databases made before them."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlite_utils

SCHEMA_VERSION = 1


def open_db(path: str | Path) -> sqlite_utils.Database:
    """Open (creating if needed) the database, in WAL mode so a reader (Datasette, a report) never blocks a run."""
    conn = sqlite3.connect(str(path), isolation_level=None, timeout=30)
    db = sqlite_utils.Database(conn)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    ensure_schema(db)
    return db


def ensure_schema(db: sqlite_utils.Database) -> None:
    if "sources" not in db.table_names():
        db["sources"].create(
            {"id": int, "path": str, "format": str, "sha256": str, "size": int, "blog_url": str,
             "title": str, "ingested_at": str, "posts": int},
            pk="id",
        )
        db["sources"].create_index(["path"], unique=True)
    if "posts" not in db.table_names():
        db["posts"].create(
            {"id": str, "source_id": int, "url": str, "title": str, "published": str, "updated": str,
             "labels": str, "content": str, "outlet": str, "author": str, "original_url": str,
             "original_state": str, "lead_text": str, "content_sha1": str, "line": int, "ingested_at": str},
            pk="id",
            foreign_keys=[("source_id", "sources", "id")],
        )
        db["posts"].create_index(["published"])
        db["posts"].create_index(["source_id"])
    elif "lead_text" not in db["posts"].columns_dict:
        # Databases made before the lead text was stored: forgetting the content hashes makes the next
        # ingest rewrite every post, lead text included.
        db["posts"].add_column("lead_text", str)
        db.execute("UPDATE posts SET content_sha1 = NULL")
    if "links" not in db.table_names():
        db["links"].create(
            {"id": str, "post_id": str, "anchor_index": int, "role": str, "url": str, "url_normalized": str,
             "anchor_text": str, "nullified_reason": str, "known_url": str},
            pk="id",
            foreign_keys=[("post_id", "posts", "id")],
        )
        db["links"].create_index(["post_id"])
        db["links"].create_index(["url_normalized"])
    if "checks" not in db.table_names():
        db["checks"].create(
            {"id": int, "url": str, "checked_at": str, "method": str, "status": int, "final_url": str,
             "redirect_chain": str, "error_class": str, "error": str, "elapsed_ms": int, "verdict": str,
             "evidence_class": str, "reason": str, "title": str, "attempts": int},
            pk="id",
        )
        db["checks"].create_index(["url", "checked_at"])
    if "url_status" not in db.table_names():
        db["url_status"].create(
            {"url": str, "verdict": str, "evidence_class": str, "reason": str, "status": int, "final_url": str,
             "moved_to": str, "error_class": str, "last_checked": str, "check_id": int,
             "consecutive_failures": int, "first_failure_at": str, "single_day": int},
            pk="url",
        )
    if "url_marks" not in db.table_names():
        # A curator's "not dead" mark: it holds while the failure looks the same (signature) and lapses
        # when the failure changes.
        db["url_marks"].create({"url": str, "mark": str, "signature": str, "note": str, "created_at": str}, pk="url")
    if "repairs" not in db.table_names():
        db["repairs"].create(
            {"id": int, "link_id": str, "post_id": str, "url": str, "reason": str, "replacement": str,
             "capture_timestamp": str, "capture_url": str, "target_date": str, "distance_days": float,
             "confidence": float, "evidence": str, "state": str, "created_at": str, "decided_at": str,
             "note": str},
            pk="id",
            foreign_keys=[("link_id", "links", "id"), ("post_id", "posts", "id")],
        )
        db["repairs"].create_index(["link_id"], unique=True)
        db["repairs"].create_index(["state"])
    ensure_recovery_schema(db)  # recovery_queries, recovery_candidates
    ensure_curator_schema(db)  # decisions and report snapshots
    ensure_archive_schema(db)  # archive_lookups, preservations
    ensure_run_schema(db)  # runs, posts.deleted_at
    db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")


# recovery_queries: every CDX query the recovery made, with its rows, so a resumed run repeats none.
# recovery_candidates: the archived URLs considered for a nullified link, ranked, with their evidence.
def ensure_recovery_schema(db: sqlite_utils.Database) -> None:
    if "recovery_queries" not in db.table_names():
        db["recovery_queries"].create(
            {"key": str, "url": str, "match_type": str, "params": str, "rows": str, "row_count": int,
             "fetched_at": str, "error": str},
            pk="key",
        )
    if "recovery_candidates" not in db.table_names():
        db["recovery_candidates"].create(
            {"id": int, "link_id": str, "post_id": str, "rank": int, "url": str, "timestamp": str,
             "archive_url": str, "prescore": float, "confidence": float, "verified": int, "chosen": int,
             "evidence": str, "created_at": str},
            pk="id",
            foreign_keys=[("link_id", "links", "id"), ("post_id", "posts", "id")],
        )
        db["recovery_candidates"].create_index(["link_id", "rank"])


# decisions: every change a curator makes to a repair, with what it replaced (for undo).
def ensure_curator_schema(db) -> None:
    names = set(db.table_names())
    if "decisions" not in names:
        # No foreign key to repairs: a re-ingest may drop a repair, and its history should outlive it.
        db["decisions"].create(
            {"id": int, "batch": int, "decided_at": str, "repair_id": int, "link_id": str, "url": str,
             "action": str, "previous_state": str, "new_state": str, "previous_replacement": str,
             "new_replacement": str, "note": str, "origin": str, "previous": str, "undone_at": str},
            pk="id")
        db["decisions"].create_index(["batch"])
        db["decisions"].create_index(["link_id"])
    if "report_snapshots" not in names:
        db["report_snapshots"].create(
            {"id": int, "generated_at": str, "all_links": int, "summary": str, "links": int}, pk="id")
    if "report_link_states" not in names:
        # Only the latest state of each link: enough to say what changed since the previous report
        # without keeping a copy of every link per report.
        db["report_link_states"].create(
            {"link_id": str, "category": str, "verdict": str, "repair_state": str, "snapshot_id": int},
            pk="link_id")


# archive_lookups: every archive answer a run acted on, under a key naming the question; "nothing there"
# answers expire. preservations: each Save Page Now request and its end.
def ensure_archive_schema(db) -> None:
    names = set(db.table_names())
    if "archive_lookups" not in names:
        db["archive_lookups"].create(
            {"key": str, "endpoint": str, "result": str, "fetched_at": str, "expires_at": str}, pk="key")
        db["archive_lookups"].create_index(["expires_at"])
    if "preservations" not in names:
        db["preservations"].create(
            {"id": int, "url": str, "link_id": str, "post_id": str, "mode": str, "job_id": str, "status": str,
             "status_ext": str, "message": str, "capture_timestamp": str, "archive_url": str, "attempts": int,
             "requested_at": str, "finished_at": str},
            pk="id")
        db["preservations"].create_index(["url"])
        db["preservations"].create_index(["requested_at"])


# runs: one row per `linkkeeper run`; the row of a run in progress is also the lock that keeps a second run
# out (a partial unique index allows one only). posts.deleted_at: when a full read of the blog's feed no
# longer listed the post (cleared when it is back).
def ensure_run_schema(db) -> None:
    db.execute("""CREATE TABLE IF NOT EXISTS runs (
        id INTEGER PRIMARY KEY, started_at TEXT, finished_at TEXT, source TEXT, status TEXT, counts TEXT,
        exit_code INTEGER, message TEXT, pid INTEGER, hostname TEXT, process_started TEXT, "full" INTEGER,
        feed_since TEXT, feed_checkpoint TEXT, check_id_start INTEGER, check_id_end INTEGER,
        repair_id_start INTEGER, repair_id_end INTEGER, deleted_posts TEXT)""")
    db.execute("CREATE UNIQUE INDEX IF NOT EXISTS runs_one_running ON runs(status) WHERE status = 'running'")
    if "deleted_at" not in db["posts"].columns_dict:
        try:
            db.execute("ALTER TABLE posts ADD COLUMN deleted_at TEXT")
        except sqlite3.OperationalError as exc:  # another process added it first
            if "duplicate column" not in str(exc):
                raise
