"""The SQLite store: the schema and every SQL statement, through sqlite-utils. Knows nothing of HTTP or formats.

Tables (documented in the README): sources, posts, links, checks, url_status, repairs.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Iterator

import sqlite_utils

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
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


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
             "original_state": str, "content_sha1": str, "line": int, "ingested_at": str},
            pk="id",
            foreign_keys=[("source_id", "sources", "id")],
        )
        db["posts"].create_index(["published"])
        db["posts"].create_index(["source_id"])
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


def upsert_post(db, post: dict[str, Any], links: Iterable[dict[str, Any]]) -> bool:
    """Insert or update one post and replace its links. Returns True when the post is new or changed.

    Checks and repairs of a link survive a re-ingest as long as the link (post id + anchor index) stays;
    links that disappeared from the post are dropped with their proposed repairs.
    """
    post = dict(post, labels=json.dumps(post.get("labels") or [], ensure_ascii=False),
                content_sha1=hashlib.sha1((post.get("content") or "").encode()).hexdigest(),
                ingested_at=utcnow())
    previous = db.execute("SELECT content_sha1, updated FROM posts WHERE id = ?", [post["id"]]).fetchone()
    changed = previous is None or previous[0] != post["content_sha1"] or previous[1] != post.get("updated")
    db["posts"].upsert(post, pk="id")
    if changed:
        rows = [dict(link, id=link_id(post["id"], link["anchor_index"]), post_id=post["id"]) for link in links]
        keep = [r["id"] for r in rows]
        placeholders = ",".join("?" * len(keep)) or "''"
        stale = [r[0] for r in db.execute(
            f"SELECT id FROM links WHERE post_id = ? AND id NOT IN ({placeholders})", [post["id"], *keep])]
        if stale:
            marks = ",".join("?" * len(stale))
            db.execute(f"DELETE FROM repairs WHERE link_id IN ({marks})", stale)
            db.execute(f"DELETE FROM links WHERE id IN ({marks})", stale)
        for row in rows:
            old = db.execute("SELECT url FROM links WHERE id = ?", [row["id"]]).fetchone()
            if old is not None and old[0] != row["url"]:
                # The link now points elsewhere: a repair proposed for the old target no longer applies.
                db.execute("DELETE FROM repairs WHERE link_id = ? AND state != 'approved'", [row["id"]])
        if rows:
            db["links"].upsert_all(rows, pk="id")
    return changed


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
    published within [date_from, date_to] (inclusive dates)."""
    where, params = ["l.url_normalized IS NOT NULL", "l.nullified_reason IS NULL"], []
    if not all_links:
        where.append("l.role = 'original'")
    where += _date_clause(date_from, date_to, params)
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


def url_state(db, url: str) -> dict | None:
    """The URL's current verdict row (url_status), or None before its first check."""
    rows = list(db["url_status"].rows_where("url = ?", [url], limit=1))
    return rows[0] if rows else None


def url_mark(db, url: str) -> dict | None:
    rows = list(db["url_marks"].rows_where("url = ?", [url], limit=1))
    return rows[0] if rows else None


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
            check_id = db["checks"].insert(row).last_pk
        db["url_status"].upsert(dict(state, url=check["url"], last_checked=check["checked_at"], check_id=check_id,
                                     status=check.get("status"), final_url=check.get("final_url"),
                                     error_class=check.get("error_class")), pk="url")
    return check_id


def lead_html_for(db, url: str) -> list[str]:
    """The content of the posts whose Original Article link is this URL (for the content-drift test)."""
    return [r[0] for r in db.execute(
        "SELECT p.content FROM links l JOIN posts p ON p.id = l.post_id "
        "WHERE l.url_normalized = ? AND l.role = 'original' LIMIT 5", [url])]


# --- repairs ---------------------------------------------------------------------------------------------

def links_needing_repair(db, *, date_from: str | None = None, date_to: str | None = None) -> Iterator[dict]:
    """Original-article links whose URL is dead, or that are nullified with a known URL, and that have no
    repair yet. A nullified link's URL is known when a curator (`linkkeeper known-url`) or the recovery
    stage wrote it into known_url."""
    params: list = []
    where = ["l.role = 'original'", "r.id IS NULL",
             "((s.verdict IN ('dead', 'soft-404')) OR (l.nullified_reason IS NOT NULL AND l.known_url IS NOT NULL))"]
    where += _date_clause(date_from, date_to, params)
    sql = f"""
        SELECT l.id AS link_id, l.post_id, COALESCE(l.known_url, l.url) AS url, l.url_normalized,
               l.nullified_reason, s.verdict,
               s.status, s.error_class, p.published, p.title, p.content
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
        return db["repairs"].insert(row, replace=False).last_pk


def decide_repairs(db, ids: Iterable[int], state: str, note: str | None = None) -> int:
    if state not in REPAIR_STATES:
        raise ValueError(f"unknown repair state {state!r}")
    ids = list(ids)
    with transaction(db):
        for repair_id in ids:
            row = db.execute("SELECT replacement FROM repairs WHERE id = ?", [repair_id]).fetchone()
            if row is None:
                raise KeyError(f"no repair with id {repair_id}")
            if state == "approved" and not row[0]:
                raise ValueError(f"repair {repair_id} has no replacement to approve")
            db["repairs"].update(repair_id, {"state": state, "decided_at": utcnow(), "note": note})
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


# --- reporting -------------------------------------------------------------------------------------------

def report_rows(db, *, all_links: bool = False) -> Iterator[dict]:
    """One row per link: the post, the link, its verdict with evidence, and the repair if any."""
    role = "" if all_links else "AND l.role = 'original'"
    sql = f"""
        SELECT p.id AS post_id, p.url AS post_url, p.title AS post_title, p.published AS post_published,
               p.outlet, p.author, l.id AS link_id, l.role, l.url, l.anchor_text, l.nullified_reason,
               COALESCE(s.verdict, CASE WHEN l.nullified_reason IS NOT NULL THEN 'nullified' END) AS verdict,
               s.status, s.final_url, s.error_class, s.last_checked, c.redirect_chain, c.error, c.elapsed_ms,
               c.method,
               r.id AS repair_id, r.replacement, r.capture_timestamp, r.confidence, r.state AS repair_state,
               r.reason AS repair_reason, r.evidence AS repair_evidence
        FROM links l
        JOIN posts p ON p.id = l.post_id
        LEFT JOIN url_status s ON s.url = l.url_normalized AND l.nullified_reason IS NULL
        LEFT JOIN checks c ON c.id = s.check_id
        LEFT JOIN repairs r ON r.link_id = l.id
        WHERE 1 = 1 {role}
        ORDER BY p.published, p.id, l.anchor_index"""
    cursor = db.execute(sql)
    names = [d[0] for d in cursor.description]
    for row in cursor:
        item = dict(zip(names, row))
        item["redirect_chain"] = json.loads(item["redirect_chain"]) if item["redirect_chain"] else []
        item["repair_evidence"] = json.loads(item["repair_evidence"]) if item["repair_evidence"] else None
        yield item


def counts(db) -> dict[str, Any]:
    posts = db.execute("SELECT count(*) FROM posts").fetchone()[0]
    originals = db.execute("SELECT count(*) FROM links WHERE role = 'original'").fetchone()[0]
    no_original = db.execute(
        "SELECT count(*) FROM posts p WHERE NOT EXISTS (SELECT 1 FROM links l WHERE l.post_id = p.id AND l.role = 'original')"
    ).fetchone()[0]
    verdicts = dict(db.execute(
        """SELECT COALESCE(s.verdict, CASE WHEN l.nullified_reason IS NOT NULL THEN 'nullified' ELSE 'unchecked' END) v,
                  count(*) FROM links l LEFT JOIN url_status s ON s.url = l.url_normalized AND l.nullified_reason IS NULL
           WHERE l.role = 'original' GROUP BY v""").fetchall())
    repairs = dict(db.execute("SELECT state, count(*) FROM repairs GROUP BY state").fetchall())
    return {"posts": posts, "original_links": originals, "posts_without_original_link": no_original,
            "verdicts": verdicts, "repairs": repairs}
