"""The SQLite store: the schema and every SQL statement, through sqlite-utils. Knows nothing of HTTP or formats.

Tables (documented in the README): sources, posts, links, checks, url_status, repairs.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import sqlite_utils

from linkkeeper.text.dates import now_iso, to_iso

SCHEMA_VERSION = 1

# Verdicts a URL can carry in url_status (README, "Verdicts"); "nullified" lives on links (no URL to check).
VERDICTS = ("alive", "redirected", "moved", "drifted", "suspect", "dead", "soft-404", "blocked", "unknown",
            "refused")
# Verdicts on which a repair is looked for: the link no longer leads to the article.
BROKEN_VERDICTS = ("dead", "soft-404")
# A repair is proposed (waiting for the curator), approved (by the curator or automatically above the
# confidence threshold), rejected, or unavailable (the archive has no usable capture).
REPAIR_STATES = ("proposed", "approved", "rejected", "unavailable")


def utcnow() -> str:
    return now_iso()


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
    ensure_recovery_schema(db)  # the recovery tables: see the section at the end of this module
    ensure_curator_schema(db)  # decisions and report snapshots: see THE CURATOR'S DESK below
    ensure_archive_schema(db)  # archive_lookups, preservations: see ARCHIVE LOOKUPS AND PRESERVATION below
    ensure_run_schema(db)  # runs, posts.deleted_at: see THE NIGHTLY RUN below
    db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")


@contextmanager
def transaction(db: sqlite_utils.Database) -> Iterator[None]:
    """One atomic unit of work: everything inside lands together or not at all."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    else:
        db.execute("COMMIT")


def link_id(post_id: str, anchor_index: int) -> str:
    return hashlib.sha1(f"{post_id}#{anchor_index}".encode()).hexdigest()[:16]


# --- sources and posts --------------------------------------------------------------------------------

def upsert_source(db, *, path: str, format: str, sha256: str, size: int, blog_url: str | None,
                  title: str | None) -> int:
    existing = list(db["sources"].rows_where("path = ?", [path], limit=1))
    row = {"path": path, "format": format, "sha256": sha256, "size": size, "blog_url": blog_url,
           "title": title, "ingested_at": utcnow()}
    if existing:
        db["sources"].update(existing[0]["id"], row)
        return existing[0]["id"]
    return db["sources"].insert(row).last_pk


def set_source_post_count(db, source_id: int, count: int) -> None:
    db["sources"].update(source_id, {"posts": count})


_UPSERT_SQL: dict[tuple, str] = {}


def _upsert(db, table: str, row: dict[str, Any], pk: str = "id") -> None:
    """INSERT ... ON CONFLICT DO UPDATE of the given columns only. sqlite-utils' Table.upsert introspects
    the table on every call, which made ingest spend most of its time in PRAGMAs; the statement text is
    cached here per column set and run through Database.execute."""
    columns = tuple(row)
    key = (table, columns, pk)
    sql = _UPSERT_SQL.get(key)
    if sql is None:
        names = ", ".join(f'"{c}"' for c in columns)
        updates = ", ".join(f'"{c}" = excluded."{c}"' for c in columns if c != pk)
        sql = _UPSERT_SQL[key] = (f'INSERT INTO "{table}" ({names}) VALUES ({", ".join("?" * len(columns))}) '
                                  f'ON CONFLICT("{pk}") DO UPDATE SET {updates}')
    db.execute(sql, list(row.values()))


def _insert(db, table: str, row: dict[str, Any]) -> int:
    """INSERT of one row through a cached statement (see _upsert); returns its rowid."""
    columns = tuple(row)
    key = (table, columns, None)
    sql = _UPSERT_SQL.get(key)
    if sql is None:
        names = ", ".join(f'"{c}"' for c in columns)
        sql = _UPSERT_SQL[key] = f'INSERT INTO "{table}" ({names}) VALUES ({", ".join("?" * len(columns))})'
    return db.execute(sql, list(row.values())).lastrowid


def upsert_post(db, post: dict[str, Any], links: Iterable[dict[str, Any]]) -> bool:
    """Insert or update one post and replace its links. Returns True when the post is new or changed.

    Checks and repairs of a link survive a re-ingest as long as the link (post id + anchor index) stays;
    links that disappeared from the post are dropped with their proposed repairs.
    """
    content_sha1 = hashlib.sha1((post.get("content") or "").encode()).hexdigest()
    previous = db.execute("SELECT content_sha1, updated FROM posts WHERE id = ?", [post["id"]]).fetchone()
    changed = previous is None or previous[0] != content_sha1 or previous[1] != post.get("updated")
    if not changed:
        # Same post in a newer copy of the export: only where it now lives changes (and a post read again
        # is live, even if a full feed read once missed it).
        db.execute("UPDATE posts SET source_id = ?, line = ?, deleted_at = NULL WHERE id = ?",
                   [post.get("source_id"), post.get("line"), post["id"]])
        return False
    _upsert(db, "posts", dict(post, labels=json.dumps(post.get("labels") or [], ensure_ascii=False),
                              content_sha1=content_sha1, ingested_at=utcnow()))
    rows = [dict(link, id=link_id(post["id"], link["anchor_index"]), post_id=post["id"]) for link in links]
    keep = [r["id"] for r in rows]
    placeholders = ",".join("?" * len(keep)) or "''"
    # A post seen for the first time has no links to drop (the common case of a first ingest).
    stale = [] if previous is None else [r[0] for r in db.execute(
        f"SELECT id FROM links WHERE post_id = ? AND id NOT IN ({placeholders})", [post["id"], *keep])]
    if stale:
        marks = ",".join("?" * len(stale))
        db.execute(f"DELETE FROM repairs WHERE link_id IN ({marks})", stale)
        db.execute(f"DELETE FROM links WHERE id IN ({marks})", stale)
    for row in rows:
        if previous is not None:
            old = db.execute("SELECT url FROM links WHERE id = ?", [row["id"]]).fetchone()
            if old is not None and old[0] != row["url"]:
                # The link now points elsewhere: a repair proposed for the old target no longer applies.
                db.execute("DELETE FROM repairs WHERE link_id = ? AND state != 'approved'", [row["id"]])
        _upsert(db, "links", row)
    return True


def set_known_url(db, post_id: str, url: str) -> str:
    """Record the URL a nullified Original Article link should have had; returns the link id."""
    row = db.execute("SELECT id FROM links WHERE post_id = ? AND role = 'original'", [post_id]).fetchone()
    if row is None:
        raise KeyError(f"post {post_id!r} has no Original Article link")
    with transaction(db):
        db["links"].update(row[0], {"known_url": url})
    return row[0]


# --- what to check -------------------------------------------------------------------------------------

def links_to_check(db, *, date_from: str | None = None, date_to: str | None = None,
                   all_links: bool = False) -> Iterator[str]:
    """Distinct normalised URLs of original-article links (every outbound link with all_links) in posts
    published within [date_from, date_to] (inclusive dates). Links to Wayback captures are left out: they
    are replayed through the archive client (its rate limit), not probed (archive_links_to_check)."""
    return _link_urls(db, date_from, date_to, all_links, wayback=False)


def _link_urls(db, date_from: str | None, date_to: str | None, all_links: bool, *, wayback: bool) -> Iterator[str]:
    where, params = ["l.url_normalized IS NOT NULL", "l.nullified_reason IS NULL", "p.deleted_at IS NULL"], []
    if not all_links:
        where.append("l.role = 'original'")
    where += _date_clause(date_from, date_to, params)
    where.append(_IS_WAYBACK if wayback else _NOT_WAYBACK)
    params += WAYBACK_URL_PATTERNS
    sql = (f"SELECT DISTINCT l.url_normalized FROM links l JOIN posts p ON p.id = l.post_id "
           f"WHERE {' AND '.join(where)} ORDER BY l.url_normalized")
    for (url,) in db.execute(sql, params):
        yield url


def _date_clause(date_from: str | None, date_to: str | None, params: list) -> list[str]:
    clauses = []
    if date_from:
        clauses.append("substr(p.published, 1, 10) >= ?")
        params.append(date_from)
    if date_to:
        clauses.append("substr(p.published, 1, 10) <= ?")
        params.append(date_to)
    return clauses


def _one(db, sql: str, params: list) -> dict | None:
    cursor = db.execute(sql, params)
    row = cursor.fetchone()
    return dict(zip([d[0] for d in cursor.description], row)) if row else None


def url_state(db, url: str) -> dict | None:
    """The URL's current verdict row (url_status), or None before its first check."""
    return _one(db, "SELECT * FROM url_status WHERE url = ?", [url])


def url_mark(db, url: str) -> dict | None:
    return _one(db, "SELECT * FROM url_marks WHERE url = ?", [url])


def set_url_mark(db, url: str, mark: str, signature: str, note: str | None = None) -> None:
    with transaction(db):
        db["url_marks"].upsert({"url": url, "mark": mark, "signature": signature, "note": note,
                                "created_at": utcnow()}, pk="url")


def record_check(db, attempts: list[dict[str, Any]], state: dict[str, Any]) -> int:
    """Store one check - every attempt of it, the last one deciding - and the URL's new state (decided by
    verdict.decide), together."""
    rows = [dict(a, redirect_chain=json.dumps(a.get("redirect_chain") or [])) for a in attempts]
    check = attempts[-1]
    with transaction(db):
        for row in rows:
            check_id = _insert(db, "checks", row)
        _upsert(db, "url_status", dict(state, url=check["url"], last_checked=check["checked_at"], check_id=check_id,
                                       status=check.get("status"), final_url=check.get("final_url"),
                                       error_class=check.get("error_class")), pk="url")
    return check_id


def lead_texts_for(db, url: str) -> list[str]:
    """The reproduced article text of the posts whose Original Article link is this URL (the drift test)."""
    return [r[0] for r in db.execute(
        "SELECT p.lead_text FROM links l JOIN posts p ON p.id = l.post_id "
        "WHERE l.url_normalized = ? AND l.role = 'original' AND p.lead_text IS NOT NULL LIMIT 5", [url])]


# --- repairs ---------------------------------------------------------------------------------------------

def links_needing_repair(db, *, date_from: str | None = None, date_to: str | None = None,
                         retry: bool = False) -> Iterator[dict]:
    """Original-article links whose URL is dead, or that are nullified with a known URL, and that have no
    repair yet (with `retry`, also those whose repair found no usable capture). A nullified link's URL is
    known when a curator (`linkkeeper known-url`) or the recovery stage wrote it into known_url."""
    params: list = []
    where = ["l.role = 'original'", "(r.id IS NULL OR r.state = 'unavailable')" if retry else "r.id IS NULL",
             "((s.verdict IN ('dead', 'soft-404')) OR (l.nullified_reason IS NOT NULL AND l.known_url IS NOT NULL))",
             "p.deleted_at IS NULL"]
    where += _date_clause(date_from, date_to, params)
    sql = f"""
        SELECT l.id AS link_id, l.post_id, COALESCE(l.known_url, l.url) AS url, l.url_normalized,
               l.nullified_reason, s.verdict,
               s.status, s.error_class, p.published, p.title, p.content, p.lead_text
        FROM links l
        JOIN posts p ON p.id = l.post_id
        LEFT JOIN url_status s ON s.url = l.url_normalized
        LEFT JOIN repairs r ON r.link_id = l.id
        WHERE {' AND '.join(where)}
        ORDER BY p.published, l.id"""
    cursor = db.execute(sql, params)
    names = [d[0] for d in cursor.description]
    for row in cursor:
        yield dict(zip(names, row))


def save_repair(db, repair: dict[str, Any]) -> int:
    now = utcnow()
    row = dict(repair, evidence=json.dumps(repair.get("evidence") or {}, ensure_ascii=False), created_at=now)
    if row.get("state") == "approved":
        row.setdefault("decided_at", now)
        row.setdefault("note", "approved automatically: confidence at or above auto_approve_confidence")
    with transaction(db):
        # A link looked up again (repair --retry) keeps its repair id, so ids a curator noted stay valid.
        again = db.execute("SELECT id FROM repairs WHERE link_id = ? AND state = 'unavailable'",
                           [row.get("link_id")]).fetchone()
        if again:
            db["repairs"].update(again[0], row)
            return again[0]
        return db["repairs"].insert(row, replace=False).last_pk


def decide_repairs(db, ids: Iterable[int], state: str, note: str | None = None, *, origin: str = "cli") -> int:
    """Approve or reject repairs, all or none, recorded as one batch of decisions (THE CURATOR'S DESK)."""
    actions = {"approved": "approve", "rejected": "reject"}
    if state not in actions:
        raise ValueError(f"a repair can be approved or rejected, not set to {state!r}")
    ids = list(ids)
    record_decisions(db, [{"repair_id": i, "action": actions[state]} for i in ids], origin=origin, note=note)
    return len(ids)


def approved_replacements(db, source_id: int) -> dict[str, dict[int, str]]:
    """post id -> {anchor index -> replacement href} for the approved repairs of one source."""
    out: dict[str, dict[int, str]] = {}
    sql = """SELECT r.post_id, l.anchor_index, r.replacement FROM repairs r
             JOIN links l ON l.id = r.link_id JOIN posts p ON p.id = r.post_id
             WHERE r.state = 'approved' AND p.source_id = ?"""
    for post_id, index, replacement in db.execute(sql, [source_id]):
        out.setdefault(post_id, {})[index] = replacement
    return out


def source_posts(db, source_id: int) -> Iterator[dict]:
    """The live posts of one source in file order: id, url, title, published, updated, labels (a list), html."""
    sql = """SELECT id, url, title, published, updated, labels, content AS html FROM posts
             WHERE source_id = ? AND deleted_at IS NULL ORDER BY line, id"""
    cursor = db.execute(sql, [source_id])
    names = [d[0] for d in cursor.description]
    for row in cursor:
        item = dict(zip(names, row))
        item["labels"] = json.loads(item["labels"]) if item["labels"] else []
        yield item


# --- reporting -------------------------------------------------------------------------------------------

def report_rows(db, *, all_links: bool = False, since: str | None = None) -> Iterator[dict]:
    """One row per link: the post, the link, its verdict with evidence, and the repair if any; the curator's
    mark on its URL and its category in the previous report. With `since` (a timestamp in utcnow()'s form)
    only links whose verdict or repair changed after it (changed_since_clause)."""
    role = "" if all_links else "AND l.role = 'original'"
    changed, params = changed_since_clause(since) if since else ("", [])
    sql = f"""
        SELECT p.id AS post_id, p.url AS post_url, p.title AS post_title, p.published AS post_published,
               p.outlet, p.author, l.id AS link_id, l.role, l.url, l.anchor_text, l.nullified_reason,
               CASE WHEN l.nullified_reason IS NULL THEN l.url_normalized END AS url_normalized,
               COALESCE(s.verdict, CASE WHEN l.nullified_reason IS NOT NULL THEN 'nullified' END) AS verdict,
               s.status, s.final_url, s.error_class, s.last_checked, c.redirect_chain, c.error, c.elapsed_ms,
               c.method,
               r.id AS repair_id, r.replacement, r.capture_timestamp, r.confidence, r.state AS repair_state,
               r.reason AS repair_reason, r.evidence AS repair_evidence,
               r.decided_at AS repair_decided_at, r.note AS repair_note, s.evidence_class,
               s.reason AS verdict_reason, m.mark, m.signature AS mark_signature, m.created_at AS marked_at,
               ps.category AS previous_category
        FROM links l
        JOIN posts p ON p.id = l.post_id
        LEFT JOIN url_status s ON s.url = l.url_normalized AND l.nullified_reason IS NULL
        LEFT JOIN checks c ON c.id = s.check_id
        LEFT JOIN repairs r ON r.link_id = l.id
        LEFT JOIN url_marks m ON m.url = l.url_normalized AND l.nullified_reason IS NULL
        LEFT JOIN report_link_states ps ON ps.link_id = l.id
        WHERE p.deleted_at IS NULL {role} {changed}
        ORDER BY p.published, p.id, l.anchor_index"""
    cursor = db.execute(sql, params)
    names = [d[0] for d in cursor.description]
    for row in cursor:
        item = dict(zip(names, row))
        item["redirect_chain"] = json.loads(item["redirect_chain"]) if item["redirect_chain"] else []
        item["repair_evidence"] = json.loads(item["repair_evidence"]) if item["repair_evidence"] else None
        yield item


def counts(db) -> dict[str, Any]:
    # Deleted posts (posts.deleted_at, noted by a full feed run) are history, not part of the blog.
    posts = db.execute("SELECT count(*) FROM posts WHERE deleted_at IS NULL").fetchone()[0]
    originals = db.execute("SELECT count(*) FROM links l JOIN posts p ON p.id = l.post_id "
                           "WHERE l.role = 'original' AND p.deleted_at IS NULL").fetchone()[0]
    no_original = db.execute(
        "SELECT count(*) FROM posts p WHERE p.deleted_at IS NULL AND "
        "NOT EXISTS (SELECT 1 FROM links l WHERE l.post_id = p.id AND l.role = 'original')"
    ).fetchone()[0]
    verdicts = dict(db.execute(
        """SELECT COALESCE(s.verdict, CASE WHEN l.nullified_reason IS NOT NULL THEN 'nullified' ELSE 'unchecked' END) v,
                  count(*) FROM links l JOIN posts p ON p.id = l.post_id
                  LEFT JOIN url_status s ON s.url = l.url_normalized AND l.nullified_reason IS NULL
           WHERE l.role = 'original' AND p.deleted_at IS NULL GROUP BY v""").fetchall())
    repairs = dict(db.execute("SELECT state, count(*) FROM repairs GROUP BY state").fetchall())
    return {"posts": posts, "original_links": originals, "posts_without_original_link": no_original,
            "verdicts": verdicts, "repairs": repairs}


# ═══════════════════════════════════ RECOVERY OF NULLIFIED LINKS (recover.py) ═══════════════════════════════════
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


def nullified_links_to_recover(db, *, date_from: str | None = None, date_to: str | None = None) -> Iterator[dict]:
    """Nullified Original Article links with no known URL and no repair yet (decided links are skipped, so a
    run resumes where the last one stopped), with what their post says about the article."""
    params: list = []
    where = ["l.role = 'original'", "l.nullified_reason IS NOT NULL", "l.known_url IS NULL", "r.id IS NULL"]
    where += _date_clause(date_from, date_to, params)
    sql = f"""
        SELECT l.id AS link_id, l.post_id, l.anchor_index, l.url, l.nullified_reason, p.published, p.title,
               p.content, p.outlet, p.author
        FROM links l JOIN posts p ON p.id = l.post_id LEFT JOIN repairs r ON r.link_id = l.id
        WHERE {' AND '.join(where)}
        ORDER BY p.published, l.id"""
    cursor = db.execute(sql, params)
    names = [d[0] for d in cursor.description]
    for row in cursor:
        yield dict(zip(names, row))


def count_nullified_links(db, *, date_from: str | None = None, date_to: str | None = None) -> tuple[int, int]:
    """(nullified Original Article links in the range, how many of them already have a repair)."""
    params: list = []
    where = ["l.role = 'original'", "l.nullified_reason IS NOT NULL"] + _date_clause(date_from, date_to, params)
    row = db.execute(f"""SELECT count(*), count(r.id) FROM links l JOIN posts p ON p.id = l.post_id
                         LEFT JOIN repairs r ON r.link_id = l.id WHERE {' AND '.join(where)}""", params).fetchone()
    return row[0], row[1]


def original_links_for_learning(db, *, exclude_from: str | None = None,
                                exclude_to: str | None = None) -> Iterator[dict]:
    """Working Original Article links with their post's outlet, date and title, outside [exclude_from,
    exclude_to]: what the blog itself says about each outlet's domains and URL shapes."""
    params: list = []
    where = ["l.role = 'original'", "l.nullified_reason IS NULL", "l.url_normalized IS NOT NULL"]
    if exclude_from and exclude_to:
        where.append("NOT (substr(p.published, 1, 10) BETWEEN ? AND ?)")
        params += [exclude_from, exclude_to]
    sql = f"""SELECT l.url_normalized AS url, p.outlet, p.published, p.title FROM links l
              JOIN posts p ON p.id = l.post_id WHERE {' AND '.join(where)} ORDER BY p.published"""
    cursor = db.execute(sql, params)
    names = [d[0] for d in cursor.description]
    for row in cursor:
        yield dict(zip(names, row))


def recovery_query(db, key: str) -> dict | None:
    rows = list(db["recovery_queries"].rows_where("key = ?", [key], limit=1))
    if not rows:
        return None
    row = rows[0]
    return dict(row, params=json.loads(row["params"] or "{}"), rows=json.loads(row["rows"] or "[]"))


def save_recovery_query(db, key: str, *, url: str, match_type: str | None, params: dict, rows: list,
                        error: str | None = None) -> None:
    with transaction(db):
        db["recovery_queries"].upsert({
            "key": key, "url": url, "match_type": match_type, "params": json.dumps(params, sort_keys=True),
            "rows": json.dumps(rows), "row_count": len(rows), "fetched_at": utcnow(), "error": error,
        }, pk="key")


def save_recovery_candidates(db, link_id: str, post_id: str, candidates: list[dict[str, Any]]) -> None:
    """Replace the candidates kept for one link (a link is only looked at again when it has no repair)."""
    now = utcnow()
    rows = [dict(c, link_id=link_id, post_id=post_id, evidence=json.dumps(c.get("evidence") or {}, ensure_ascii=False),
                 created_at=now) for c in candidates]
    with transaction(db):
        db.execute("DELETE FROM recovery_candidates WHERE link_id = ?", [link_id])
        if rows:
            db["recovery_candidates"].insert_all(rows)


def recovery_candidates(db, link_id: str) -> list[dict]:
    rows = db.execute("SELECT * FROM recovery_candidates WHERE link_id = ? ORDER BY rank", [link_id])
    names = [d[0] for d in rows.description]
    out = []
    for row in rows:
        item = dict(zip(names, row))
        item["evidence"] = json.loads(item["evidence"]) if item["evidence"] else {}
        out.append(item)
    return out


def set_recovered_url(db, link_id: str, url: str) -> None:
    """Keep the recovered original URL of a nullified link (links.known_url), beside its repair."""
    with transaction(db):
        db["links"].update(link_id, {"known_url": url})

# ═════════════════════════════════ END RECOVERY OF NULLIFIED LINKS ═════════════════════════════════


# ═══════════════════════════════════ THE CURATOR'S DESK (curator.py, review.py, report.py) ═══════════════════════════════════
# Every change a curator makes to a repair - approve, reject, edit, "not dead" - is a row in `decisions`,
# written in the same transaction as the change together with what it replaced, so undo can put it back
# exactly. Decisions made together (a bulk approve, an import, "edit and approve") share a batch, and undo
# reverts the latest batch not yet undone.

DECISION_ACTIONS = ("approve", "reject", "edit", "not-dead")
_ACTION_STATE = {"approve": "approved", "reject": "rejected", "not-dead": "rejected"}
_REPAIR_FIELDS = ("state", "replacement", "capture_timestamp", "decided_at", "note")
# How a link counts in the report's figures and charts (report.category decides it).
HEALTH_CATEGORIES = ("working", "repaired", "broken", "uncertain", "unchecked")


class UndoConflict(ValueError):
    """The repair changed since the decision being undone, so undoing would overwrite someone's work."""


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


def repair_row(db, repair_id: int) -> dict | None:
    cursor = db.execute(
        """SELECT r.id, r.link_id, r.url, r.state, r.replacement, r.capture_timestamp, r.decided_at, r.note,
                  l.url_normalized, l.nullified_reason
           FROM repairs r LEFT JOIN links l ON l.id = r.link_id WHERE r.id = ?""", [repair_id])
    row = cursor.fetchone()
    return dict(zip([d[0] for d in cursor.description], row)) if row else None


def repair_for_link(db, link_id: str) -> int | None:
    row = db.execute("SELECT id FROM repairs WHERE link_id = ?", [link_id]).fetchone()
    return row[0] if row else None


def record_decisions(db, decisions: Iterable[dict[str, Any]], *, origin: str, note: str | None = None) -> list[dict]:
    """Apply decisions - each {"repair_id", "action", "replacement"?, "capture_timestamp"?, "note"?, and for
    "not-dead" "signature"} - all or none, as one batch. Returns the decision rows written.

    Raises KeyError for an unknown repair and ValueError for a decision that cannot apply. Replacements are
    validated by the caller (curator.validate_replacement); this only refuses to approve nothing.
    """
    items = list(decisions)
    now = utcnow()
    written: list[dict] = []
    with transaction(db):
        batch = db.execute("SELECT COALESCE(max(batch), 0) + 1 FROM decisions").fetchone()[0]
        for item in items:
            action, repair_id = item["action"], item["repair_id"]
            if action not in DECISION_ACTIONS:
                raise ValueError(f"unknown action {action!r}")
            repair = repair_row(db, repair_id)
            if repair is None:
                raise KeyError(f"no repair with id {repair_id}")
            previous: dict[str, Any] = {"repair": {k: repair[k] for k in _REPAIR_FIELDS}}
            change: dict[str, Any] = {"decided_at": now, "note": item.get("note", note)}
            if action == "edit":
                change.update(replacement=item["replacement"], capture_timestamp=item.get("capture_timestamp"))
                # A replacement found by hand makes a repair the archive could not make reviewable again.
                change["state"] = "proposed" if repair["state"] == "unavailable" else repair["state"]
            else:
                change["state"] = _ACTION_STATE[action]
            if change["state"] == "approved" and not change.get("replacement", repair["replacement"]):
                raise ValueError(f"repair {repair_id} has no replacement to approve")
            if action == "not-dead":
                url = repair["url_normalized"]
                if not url or repair["nullified_reason"]:
                    raise ValueError(f"repair {repair_id}: a nullified link has no URL that could be alive")
                old = db.execute("SELECT url, mark, signature, note, created_at FROM url_marks WHERE url = ?",
                                 [url]).fetchone()
                previous["url_mark"] = dict(zip(("url", "mark", "signature", "note", "created_at"), old)) if old else None
                db["url_marks"].upsert({"url": url, "mark": "not-dead", "signature": item["signature"],
                                        "note": change["note"], "created_at": now}, pk="url")
            db["repairs"].update(repair_id, change)
            row = {"batch": batch, "decided_at": now, "repair_id": repair_id, "link_id": repair["link_id"],
                   "url": repair["url"], "action": action, "previous_state": repair["state"],
                   "new_state": change["state"], "previous_replacement": repair["replacement"],
                   "new_replacement": change.get("replacement", repair["replacement"]), "note": change["note"],
                   "origin": origin, "previous": json.dumps(previous, ensure_ascii=False), "undone_at": None}
            row["id"] = db["decisions"].insert(row).last_pk
            written.append(row)
    return written


def undo_last_batch(db) -> list[dict]:
    """Revert the latest batch of decisions not yet undone; returns its decisions ([] when none is left).
    Raises UndoConflict, changing nothing, when a repair has changed since (re-ingest, another decision)."""
    now = utcnow()
    with transaction(db):
        batch = db.execute("SELECT max(batch) FROM decisions WHERE undone_at IS NULL").fetchone()[0]
        if batch is None:
            return []
        cursor = db.execute("SELECT * FROM decisions WHERE batch = ? AND undone_at IS NULL ORDER BY id DESC", [batch])
        names = [d[0] for d in cursor.description]
        rows = [dict(zip(names, r)) for r in cursor.fetchall()]
        for row in rows:
            repair = repair_row(db, row["repair_id"])
            if repair is None:
                raise UndoConflict(f"repair {row['repair_id']} no longer exists (its post changed since)")
            if repair["state"] != row["new_state"] or repair["replacement"] != row["new_replacement"]:
                raise UndoConflict(f"repair {row['repair_id']} changed since decision {row['id']}; not undone")
            previous = json.loads(row["previous"])
            db["repairs"].update(row["repair_id"], previous["repair"])
            if "url_mark" in previous:
                db.execute("DELETE FROM url_marks WHERE url = ?", [repair["url_normalized"]])
                if previous["url_mark"]:
                    db["url_marks"].insert(previous["url_mark"])
            db.execute("UPDATE decisions SET undone_at = ? WHERE id = ?", [now, row["id"]])
            row["undone_at"] = now
    return rows


def decision_rows(db, *, limit: int | None = None, newest_first: bool = False) -> Iterator[dict]:
    order = "DESC" if newest_first else "ASC"
    sql = f"SELECT * FROM decisions ORDER BY id {order}" + (" LIMIT ?" if limit else "")
    cursor = db.execute(sql, [limit] if limit else [])
    names = [d[0] for d in cursor.description]
    for row in cursor:
        yield dict(zip(names, row))


def pending_repairs(db, *, min_confidence: float | None = None) -> list[dict]:
    """Repairs waiting for the curator, with what review needs to rank and show them. `failing_since` is
    when the URL started failing (its first failing check in the current run of failures), or for a
    nullified link the post's publication."""
    status_columns = {c.name for c in db["url_status"].columns}
    first_failure = "s.first_failure_at" if "first_failure_at" in status_columns else "NULL"
    params: list = []
    where = "r.state = 'proposed' AND p.deleted_at IS NULL"
    if min_confidence is not None:
        where += " AND r.confidence >= ? AND r.replacement IS NOT NULL"
        params.append(min_confidence)
    cursor = db.execute(f"""
        SELECT r.id, r.link_id, r.post_id, r.url, r.reason, r.replacement, r.capture_timestamp, r.confidence,
               r.evidence, r.distance_days, r.created_at, r.note,
               p.title AS post_title, p.url AS post_url, p.published, p.outlet, p.content,
               l.nullified_reason, l.url_normalized, s.verdict, s.status, s.error_class,
               CASE WHEN l.nullified_reason IS NOT NULL THEN p.published
                    ELSE COALESCE({first_failure},
                        (SELECT min(c.checked_at) FROM checks c WHERE c.url = l.url_normalized
                           AND c.verdict IN ('dead', 'soft-404')
                           AND c.checked_at > COALESCE((SELECT max(g.checked_at) FROM checks g
                               WHERE g.url = c.url AND g.verdict IN ('alive', 'redirected', 'moved', 'drifted')), '')),
                        r.created_at) END AS failing_since
        FROM repairs r
        JOIN posts p ON p.id = r.post_id
        JOIN links l ON l.id = r.link_id
        LEFT JOIN url_status s ON s.url = l.url_normalized AND l.nullified_reason IS NULL
        WHERE {where}""", params)
    names = [d[0] for d in cursor.description]
    rows = [dict(zip(names, r)) for r in cursor.fetchall()]
    for row in rows:
        row["evidence"] = json.loads(row["evidence"]) if row["evidence"] else {}
    return rows


def changed_since_clause(since: str) -> tuple[str, list]:
    """report_rows' filter for `report --since`: the link's latest check gave another verdict than its last
    check before `since` (or it had none), or its repair was made or decided at or after it, a decision about
    it was made or undone at or after it, or its URL was marked at or after it. Checks are compared with checks
    (the deciding attempt of each carries the URL's verdict), so a policy verdict is never compared with a
    probe's. "At or after": timestamps have whole seconds, and a change in the report's own second must not
    fall between two reports."""
    latest = ("(SELECT c2.verdict FROM checks c2 WHERE c2.url = l.url_normalized {op} "
              "ORDER BY c2.checked_at DESC, c2.id DESC LIMIT 1)")
    sql = f"""AND ((s.last_checked >= ? AND {latest.format(op="AND c2.checked_at >= ?")}
                     IS NOT {latest.format(op="AND c2.checked_at < ?")})
                OR r.created_at >= ? OR r.decided_at >= ? OR m.created_at >= ?
                OR EXISTS (SELECT 1 FROM decisions d WHERE d.link_id = l.id AND (d.decided_at >= ? OR d.undone_at >= ?)))"""
    return sql, [since] * 8


def check_history(db, url: str | None, limit: int = 8) -> list[dict]:
    """The URL's latest checks (every attempt), newest first."""
    if not url:
        return []
    cursor = db.execute("""SELECT checked_at, method, status, error_class, verdict, attempts FROM checks
                           WHERE url = ? ORDER BY checked_at DESC, id DESC LIMIT ?""", [url, limit])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, r)) for r in cursor.fetchall()]


def last_report_time(db) -> str | None:
    return db.execute("SELECT max(generated_at) FROM report_snapshots").fetchone()[0]


def previous_report_summary(db) -> dict | None:
    row = db.execute("SELECT summary FROM report_snapshots ORDER BY id DESC LIMIT 1").fetchone()
    return json.loads(row[0]) if row else None


def begin_link_states(db) -> None:
    """A scratch table for the states of the report being written; save_report_snapshot swaps it in."""
    db.execute("CREATE TEMP TABLE IF NOT EXISTS new_link_states "
               "(link_id TEXT PRIMARY KEY, category TEXT, verdict TEXT, repair_state TEXT)")
    db.execute("DELETE FROM temp.new_link_states")


def add_link_states(db, rows: list[tuple]) -> None:
    """(link_id, category, verdict, repair_state) tuples, in chunks as the report streams."""
    db.conn.executemany("INSERT OR REPLACE INTO temp.new_link_states VALUES (?, ?, ?, ?)", rows)


def save_report_snapshot(db, generated_at: str, summary: dict, *, all_links: bool) -> int:
    with transaction(db):
        links = db.execute("SELECT count(*) FROM temp.new_link_states").fetchone()[0]
        snapshot = db["report_snapshots"].insert(
            {"generated_at": generated_at, "all_links": int(all_links),
             "summary": json.dumps(summary, ensure_ascii=False), "links": links}).last_pk
        db.execute("""INSERT OR REPLACE INTO report_link_states (link_id, category, verdict, repair_state, snapshot_id)
                      SELECT link_id, category, verdict, repair_state, ? FROM temp.new_link_states""", [snapshot])
        db.execute("DELETE FROM report_link_states WHERE link_id NOT IN (SELECT id FROM links)")
    db.execute("DROP TABLE IF EXISTS temp.new_link_states")
    return snapshot

# ═════════════════════════════════ END THE CURATOR'S DESK ═════════════════════════════════


# ═══════════════════════ ARCHIVE LOOKUPS AND PRESERVATION (snapshot.py, repair.py, preserve.py) ═══════════════════════
# archive_lookups: every archive answer a run acted on, under a key naming the question. Found captures are
# kept for good; "nothing there" answers expire (archive_negative_ttl_days), so a nightly run repeats no
# lookup yet notices what the archive gained since. preservations: each Save Page Now request and its end.

WAYBACK_URL_PATTERNS = ("http://web.archive.org/web/%", "https://web.archive.org/web/%",
                        "http://wayback.archive.org/web/%", "https://wayback.archive.org/web/%")
_NOT_WAYBACK = "NOT (" + " OR ".join(["l.url_normalized LIKE ?"] * len(WAYBACK_URL_PATTERNS)) + ")"
_IS_WAYBACK = "(" + " OR ".join(["l.url_normalized LIKE ?"] * len(WAYBACK_URL_PATTERNS)) + ")"
# Verdicts of a page that is there to be captured (a drifted page no longer holds the article).
LIVE_VERDICTS = ("alive", "redirected", "moved")


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


def archive_lookup(db, key: str, now: datetime | None = None) -> tuple[bool, Any]:
    """(found, result) for a cached archive answer; an expired answer counts as not found."""
    row = db.execute("SELECT result, expires_at FROM archive_lookups WHERE key = ?", [key]).fetchone()
    if row is None or (row[1] is not None and row[1] <= to_iso(now or datetime.now(timezone.utc))):
        return False, None
    return True, json.loads(row[0])


def save_archive_lookup(db, key: str, endpoint: str, result: Any, *, ttl_seconds: float | None,
                        now: datetime | None = None) -> None:
    """Keep an archive answer: for good (ttl_seconds None) or until it expires."""
    fetched = now or datetime.now(timezone.utc)
    expires = None if ttl_seconds is None else to_iso(fetched + timedelta(seconds=ttl_seconds))
    with transaction(db):
        db["archive_lookups"].upsert({"key": key, "endpoint": endpoint, "result": json.dumps(result, ensure_ascii=False),
                                      "fetched_at": to_iso(fetched), "expires_at": expires}, pk="key")


def forget_archive_lookup(db, key: str) -> None:
    with transaction(db):
        db.execute("DELETE FROM archive_lookups WHERE key = ?", [key])


def archive_links_to_check(db, *, date_from: str | None = None, date_to: str | None = None,
                           all_links: bool = False) -> Iterator[str]:
    """Distinct links (Original Article ones unless all_links) that are themselves Wayback captures."""
    return _link_urls(db, date_from, date_to, all_links, wayback=True)


def links_to_preserve(db, *, date_from: str | None = None, date_to: str | None = None) -> Iterator[dict]:
    """Live Original Article URLs (one row per URL, oldest post first) not yet captured by Save Page Now."""
    params: list = []
    where = ["l.role = 'original'", "l.url_normalized IS NOT NULL", "l.nullified_reason IS NULL",
             f"s.verdict IN ({','.join('?' * len(LIVE_VERDICTS))})"]
    params += LIVE_VERDICTS
    where += _date_clause(date_from, date_to, params)
    where.append(_NOT_WAYBACK)
    params += WAYBACK_URL_PATTERNS
    where.append("NOT EXISTS (SELECT 1 FROM preservations v WHERE v.url = l.url_normalized AND v.status = 'success')")
    sql = f"""
        SELECT l.url_normalized AS url, min(l.id) AS link_id, min(l.post_id) AS post_id, min(p.published) AS published
        FROM links l JOIN posts p ON p.id = l.post_id JOIN url_status s ON s.url = l.url_normalized
        WHERE {' AND '.join(where)}
        GROUP BY l.url_normalized ORDER BY min(p.published), l.url_normalized"""
    cursor = db.execute(sql, params)
    names = [d[0] for d in cursor.description]
    for row in cursor:
        yield dict(zip(names, row))


def save_preservation(db, row: dict[str, Any]) -> int:
    with transaction(db):
        return db["preservations"].insert(dict(row, finished_at=row.get("finished_at") or utcnow())).last_pk


def preservations_since(db, since: datetime, *, mode: str | None = None, url: str | None = None) -> int:
    """Save Page Now requests made since `since` (by mode, or for one URL): what counts against its daily limits."""
    where, params = ["requested_at >= ?", "status != 'not-sent'"], [to_iso(since)]
    if mode:
        where.append("mode = ?")
        params.append(mode)
    if url:
        where.append("url = ?")
        params.append(url)
    return db.execute(f"SELECT COALESCE(sum(attempts), 0) FROM preservations WHERE {' AND '.join(where)}",
                      params).fetchone()[0]

# ═════════════════════════════════ END ARCHIVE LOOKUPS AND PRESERVATION ═════════════════════════════════


# ═══════════════════════════════════ THE NIGHTLY RUN (pipeline.py) ═══════════════════════════════════
# runs: one row per `linkkeeper run`. The row of a run in progress (status 'running', with its pid, host and
# process start time) is also the lock that keeps a second run out; a partial unique index allows one only.
# posts.deleted_at: when a full read of the blog's feed no longer listed the post (cleared when it is back).

RUN_STATES = ("running", "ok", "breakage", "failed", "interrupted", "abandoned")
COMPLETED_RUN_STATES = ("ok", "breakage")
GOOD_VERDICTS = ("alive", "redirected", "moved", "drifted")
# Verdicts of a failure still being confirmed (or of a probe that could not tell): re-checked on the
# confirmation schedule rather than after days.
RECHECK_SOON_VERDICTS = ("suspect", "unknown")


class RunRefused(RuntimeError):
    """Another run holds the lock; `holder` is its runs row."""

    def __init__(self, holder: dict) -> None:
        super().__init__(f"run {holder['id']} is running (pid {holder['pid']} on {holder['hostname']}, "
                         f"started {holder['started_at']})")
        self.holder = holder


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


def _dicts(cursor) -> list[dict]:
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def _max_ids(db) -> tuple[int, int]:
    return (db.execute("SELECT COALESCE(max(id), 0) FROM checks").fetchone()[0],
            db.execute("SELECT COALESCE(max(id), 0) FROM repairs").fetchone()[0])


def begin_run(db, row: dict[str, Any], is_stale: Callable[[dict], bool]) -> int:
    """Take the lock and open the run's row, in one write transaction. Raises RunRefused while another run's
    row is 'running' and `is_stale` says its process lives; a stale holder is marked 'abandoned' (its work is
    kept: every unit of it was committed on its own)."""
    with transaction(db):
        for holder in _dicts(db.execute("SELECT * FROM runs WHERE status = 'running'")):
            if not is_stale(holder):
                raise RunRefused(holder)
            db.execute("UPDATE runs SET status = 'abandoned', message = ? WHERE id = ?",
                       [f"its process (pid {holder['pid']} on {holder['hostname']}) was gone when run "
                        f"started at {row.get('started_at')} found it", holder["id"]])
        checks, repairs = _max_ids(db)
        return db["runs"].insert(dict(row, status="running", check_id_start=checks, repair_id_start=repairs)).last_pk


def update_run(db, run_id: int, **fields: Any) -> None:
    with transaction(db):
        db["runs"].update(run_id, fields)


def finish_run(db, run_id: int, *, status: str, exit_code: int, counts: dict, message: str | None = None) -> None:
    """Close the run's row (which releases the lock), with what it did."""
    if status not in RUN_STATES:
        raise ValueError(f"unknown run status {status!r}")
    with transaction(db):
        checks, repairs = _max_ids(db)
        db["runs"].update(run_id, {"status": status, "exit_code": exit_code, "finished_at": utcnow(),
                                   "counts": json.dumps(counts, ensure_ascii=False, sort_keys=True),
                                   "message": message, "check_id_end": checks, "repair_id_end": repairs})


def run_row(db, run_id: int) -> dict | None:
    rows = _dicts(db.execute("SELECT * FROM runs WHERE id = ?", [run_id]))
    return rows[0] if rows else None


def last_completed_run(db, *, before: int | None = None) -> dict | None:
    """The latest run that finished its work (ok or breakage), optionally before run `before`."""
    params: list = list(COMPLETED_RUN_STATES)
    where = "status IN (?, ?)"
    if before is not None:
        where += " AND id < ?"
        params.append(before)
    rows = _dicts(db.execute(f"SELECT * FROM runs WHERE {where} ORDER BY id DESC LIMIT 1", params))
    return rows[0] if rows else None


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
    """(the latest feed read of this source, the latest full one): when they started, as utcnow() strings."""
    row = db.execute("""SELECT max(feed_checkpoint), max(CASE WHEN "full" = 1 THEN feed_checkpoint END)
                        FROM runs WHERE source = ? AND feed_checkpoint IS NOT NULL""", [source]).fetchone()
    return row[0], row[1]


def live_post_count(db, source_id: int) -> int:
    return db.execute("SELECT count(*) FROM posts WHERE source_id = ? AND deleted_at IS NULL", [source_id]).fetchone()[0]


def source_by_path(db, path: str) -> dict | None:
    rows = list(db["sources"].rows_where("path = ?", [path], limit=1))
    return rows[0] if rows else None


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
            db.conn.executemany("UPDATE posts SET deleted_at = ? WHERE id = ?", [(utcnow(), i) for i in deleted])
            db.execute("DELETE FROM temp.seen_posts")
            if source_id is not None:
                set_source_post_count(db, source_id, live_post_count(db, source_id))
        # The run keeps which posts it found deleted: "deleted since run N" must not hang on timestamps of
        # one-second resolution.
        db["runs"].update(run_id, {"full": int(full), "feed_since": since, "feed_checkpoint": checkpoint,
                                   "deleted_posts": json.dumps(deleted) if deleted else None})
    return len(deleted)


def due_urls(db, *, now: str, alive_after_seconds: float, soon_after_seconds: float, limit: int | None = None,
             all_links: bool = False) -> list[str]:
    """The URLs a run should check now, oldest due first: never-checked URLs at once (first of all), then
    suspect and unknown ones `soon_after_seconds` after their last check (the confirmation schedule), and
    every other verdict `alive_after_seconds` after it. `now` is the cut-off (utcnow()'s form; the caller
    adds any slack). Only links of posts not deleted; original-article links unless `all_links`."""
    where = ["l.url_normalized IS NOT NULL", "l.nullified_reason IS NULL", "p.deleted_at IS NULL", _NOT_WAYBACK]
    params: list = list(WAYBACK_URL_PATTERNS)
    if not all_links:
        where.append("l.role = 'original'")
    soon = ",".join("?" * len(RECHECK_SOON_VERDICTS))
    sql = f"""
        WITH wanted AS (SELECT DISTINCT l.url_normalized AS url FROM links l JOIN posts p ON p.id = l.post_id
                        WHERE {' AND '.join(where)}),
        scheduled AS (
            SELECT w.url, CASE
                WHEN s.url IS NULL OR s.last_checked IS NULL THEN NULL
                WHEN s.verdict IN ({soon}) THEN strftime('%Y-%m-%dT%H:%M:%SZ', s.last_checked, ?)
                ELSE strftime('%Y-%m-%dT%H:%M:%SZ', s.last_checked, ?) END AS due_at
            FROM wanted w LEFT JOIN url_status s ON s.url = w.url)
        SELECT url FROM scheduled WHERE due_at IS NULL OR due_at <= ?
        ORDER BY due_at IS NOT NULL, due_at, url LIMIT ?"""
    params += [*RECHECK_SOON_VERDICTS, f"+{int(soon_after_seconds)} seconds", f"+{int(alive_after_seconds)} seconds",
               now, -1 if limit is None else max(0, limit)]
    return [row[0] for row in db.execute(sql, params)]


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
    newly_broken = _dicts(db.execute(
        f"""SELECT s.url, s.verdict, s.reason, s.status, s.error_class FROM url_status s
            WHERE s.verdict IN ({broken}) AND COALESCE({then}, '') NOT IN ({broken})
              AND EXISTS (SELECT 1 FROM links l JOIN posts p ON p.id = l.post_id
                          WHERE l.url_normalized = s.url AND p.deleted_at IS NULL)
            ORDER BY s.url""", [*BROKEN_VERDICTS, check_base, *BROKEN_VERDICTS]))
    recovered = _dicts(db.execute(
        f"""SELECT s.url, s.verdict FROM url_status s
            WHERE s.verdict IN ({good}) AND {then} IN ({broken}) ORDER BY s.url""",
        [*GOOD_VERDICTS, check_base, *BROKEN_VERDICTS]))
    repairs = _dicts(db.execute(
        "SELECT id, link_id, post_id, url, state, replacement, confidence FROM repairs WHERE id > ? ORDER BY id",
        [repair_base]))
    noted = {i for (ids,) in db.execute("SELECT deleted_posts FROM runs WHERE id > ? AND deleted_posts IS NOT NULL",
                                        [run_id]) for i in json.loads(ids)}
    if not ended:
        noted |= set(json.loads(run["deleted_posts"] or "[]"))
    deleted = [r for r in _dicts(db.execute(
        "SELECT id, url, title, deleted_at FROM posts WHERE deleted_at IS NOT NULL ORDER BY id")) if r["id"] in noted]
    return {"since_run": run_id, "since": time_base, "newly_broken": newly_broken, "recovered": recovered,
            "repairs": repairs, "deleted_posts": deleted}

# ═════════════════════════════════ END THE NIGHTLY RUN ═════════════════════════════════
