"""What the archive was asked and what was sent to it: archive_lookups, every archive answer a run acted on
under a key naming the question (found captures kept for good, "nothing there" answers until they expire),
and preservations, each Save Page Now request with the live links still waiting for one."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator

from linkkeeper.store.checks import LIVE_VERDICTS, NOT_WAYBACK, WAYBACK_URL_PATTERNS
from linkkeeper.store.sql import date_clause, transaction
from linkkeeper.text.dates import now_iso, to_iso


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


def links_to_preserve(db, *, date_from: str | None = None, date_to: str | None = None) -> Iterator[dict]:
    """Live Original Article URLs (one row per URL, oldest post first) not yet captured by Save Page Now."""
    params: list = []
    where = ["l.role = 'original'", "l.url_normalized IS NOT NULL", "l.nullified_reason IS NULL",
             f"s.verdict IN ({','.join('?' * len(LIVE_VERDICTS))})"]
    params += LIVE_VERDICTS
    where += date_clause(date_from, date_to, params)
    where.append(NOT_WAYBACK)
    params += WAYBACK_URL_PATTERNS
    where.append("NOT EXISTS (SELECT 1 FROM preservations v WHERE v.url = l.url_normalized AND v.status = 'success')")
    sql = f"""
        SELECT l.url_normalized AS url, min(l.id) AS link_id, min(l.post_id) AS post_id, min(p.published) AS published
        FROM links l JOIN posts p ON p.id = l.post_id JOIN url_status s ON s.url = l.url_normalized
        WHERE {' AND '.join(where)}
        GROUP BY l.url_normalized ORDER BY min(p.published), l.url_normalized"""
    yield from db.query(sql, params)


def save_preservation(db, row: dict[str, Any]) -> int:
    with transaction(db):
        return db["preservations"].insert(dict(row, finished_at=row.get("finished_at") or now_iso())).last_pk


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
