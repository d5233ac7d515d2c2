"""Repairs: the links that need one, the repair found for each (a Wayback capture, or none), those waiting
for the curator, and the approved ones an export writes back. Decisions on them: decisions.py."""

from __future__ import annotations

import json
from typing import Any, Iterator

from linkkeeper.store.sql import date_clause, first_row, transaction
from linkkeeper.text.dates import now_iso

# A repair is proposed (waiting for the curator), approved (by the curator or automatically above the
# confidence threshold), rejected, or unavailable (the archive has no usable capture).
REPAIR_STATES = ("proposed", "approved", "rejected", "unavailable")
# Verdicts whose link no longer leads to the article the post cites: gone (dead, soft-404) or replaced by
# another page (drifted). Each gets a capture from before it went.
REPAIRED_VERDICTS = ("dead", "soft-404", "drifted")


def links_needing_repair(db, *, date_from: str | None = None, date_to: str | None = None,
                         retry: bool = False) -> Iterator[dict]:
    """Original-article links whose URL is dead or drifted (the page no longer holds the article), or that are
    nullified with a known URL, and that have no repair yet (with `retry`, also those whose repair found no
    usable capture). A nullified link's URL is known when a curator (`linkkeeper known-url`) or the recovery
    stage wrote it into known_url. `drifted_since` is the first check of the current run of drifted checks:
    the page had changed by then."""
    params: list = []
    where = ["l.role = 'original'", "(r.id IS NULL OR r.state = 'unavailable')" if retry else "r.id IS NULL",
             f"((s.verdict IN ({','.join('?' * len(REPAIRED_VERDICTS))})) "
             "OR (l.nullified_reason IS NOT NULL AND l.known_url IS NOT NULL))",
             "p.deleted_at IS NULL"]
    params += REPAIRED_VERDICTS
    where += date_clause(date_from, date_to, params)
    sql = f"""
        SELECT l.id AS link_id, l.post_id, COALESCE(l.known_url, l.url) AS url, l.url_normalized,
               l.nullified_reason, s.verdict,
               s.status, s.error_class, p.published, p.title, p.content, p.lead_text,
               CASE WHEN s.verdict = 'drifted' AND l.nullified_reason IS NULL THEN
                   (SELECT min(c.checked_at) FROM checks c WHERE c.url = l.url_normalized
                      AND c.evidence_class = 'drifted'
                      AND c.checked_at > COALESCE((SELECT max(g.checked_at) FROM checks g WHERE g.url = c.url
                          AND g.evidence_class IN ('alive', 'redirected', 'moved')), ''))
               END AS drifted_since
        FROM links l
        JOIN posts p ON p.id = l.post_id
        LEFT JOIN url_status s ON s.url = l.url_normalized
        LEFT JOIN repairs r ON r.link_id = l.id
        WHERE {' AND '.join(where)}
        ORDER BY p.published, l.id"""
    yield from db.query(sql, params)


def save_repair(db, repair: dict[str, Any]) -> int:
    now = now_iso()
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


def repair_row(db, repair_id: int) -> dict | None:
    return first_row(db, """
        SELECT r.id, r.link_id, r.post_id, r.url, r.state, r.replacement, r.capture_timestamp, r.decided_at,
               r.note, r.capture_url, r.confidence, r.evidence, r.distance_days, r.target_date,
               l.url_normalized, l.nullified_reason
        FROM repairs r LEFT JOIN links l ON l.id = r.link_id WHERE r.id = ?""", [repair_id])


def repair_for_link(db, link_id: str) -> int | None:
    row = db.execute("SELECT id FROM repairs WHERE link_id = ?", [link_id]).fetchone()
    return row[0] if row else None


def pending_repairs(db, *, min_confidence: float | None = None) -> list[dict]:
    """Repairs waiting for the curator, with what review needs to rank and show them. `failing_since` is
    when the URL started failing (its first failing check in the current run of failures), or for a
    nullified link the post's publication."""
    params: list = []
    where = "r.state = 'proposed' AND p.deleted_at IS NULL"
    if min_confidence is not None:
        where += " AND r.confidence >= ? AND r.replacement IS NOT NULL"
        params.append(min_confidence)
    rows = list(db.query(f"""
        SELECT r.id, r.link_id, r.post_id, r.url, r.reason, r.replacement, r.capture_timestamp, r.confidence,
               r.evidence, r.distance_days, r.created_at, r.note,
               p.title AS post_title, p.url AS post_url, p.published, p.outlet, p.content,
               l.nullified_reason, l.url_normalized, s.verdict, s.status, s.error_class,
               CASE WHEN l.nullified_reason IS NOT NULL THEN p.published
                    ELSE COALESCE(s.first_failure_at,
                        (SELECT min(c.checked_at) FROM checks c WHERE c.url = l.url_normalized
                           AND c.verdict IN ('dead', 'soft-404')
                           AND c.checked_at > COALESCE((SELECT max(g.checked_at) FROM checks g
                               WHERE g.url = c.url AND g.verdict IN ('alive', 'redirected', 'moved', 'drifted')), '')),
                        r.created_at) END AS failing_since
        FROM repairs r
        JOIN posts p ON p.id = r.post_id
        JOIN links l ON l.id = r.link_id
        LEFT JOIN url_status s ON s.url = l.url_normalized AND l.nullified_reason IS NULL
        WHERE {where}""", params))
    for row in rows:
        row["evidence"] = json.loads(row["evidence"]) if row["evidence"] else {}
    return rows


def approved_replacements(db, source_id: int) -> dict[str, dict[int, str]]:
    """post id -> {anchor index -> replacement href} for the approved repairs of one source."""
    out: dict[str, dict[int, str]] = {}
    sql = """SELECT r.post_id, l.anchor_index, r.replacement FROM repairs r
             JOIN links l ON l.id = r.link_id JOIN posts p ON p.id = r.post_id
             WHERE r.state = 'approved' AND p.source_id = ?"""
    for post_id, index, replacement in db.execute(sql, [source_id]):
        out.setdefault(post_id, {})[index] = replacement
    return out


def approved_versions(db, source_id: int) -> dict[str, dict[int, dict]]:
    """post id -> {anchor index -> the approved replacement with the page it replaces and the capture behind
    it}: what Robust Links attributes say (export's `robust_links`)."""
    out: dict[str, dict[int, dict]] = {}
    sql = """SELECT r.post_id, l.anchor_index, r.replacement, COALESCE(r.url, l.known_url, l.url) AS original,
                    r.capture_url, r.capture_timestamp
             FROM repairs r JOIN links l ON l.id = r.link_id JOIN posts p ON p.id = r.post_id
             WHERE r.state = 'approved' AND p.source_id = ?"""
    for post_id, index, replacement, original, capture_url, timestamp in db.execute(sql, [source_id]):
        out.setdefault(post_id, {})[index] = {"replacement": replacement, "original": original,
                                              "capture_url": capture_url, "capture_timestamp": timestamp}
    return out
