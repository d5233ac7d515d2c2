"""What the reports read and keep: one row per link with everything known about it, the headline counts,
and the snapshot of each report written (report_snapshots, and report_link_states: each link's category as
the latest report saw it, so the next one can say what changed)."""

from __future__ import annotations

import json
from typing import Any, Iterator

from linkkeeper.store.sql import transaction

# How a link counts in the report's figures and charts (report.category decides it).
HEALTH_CATEGORIES = ("working", "repaired", "broken", "uncertain", "unchecked")


def report_rows(db, *, all_links: bool = False, since: str | None = None) -> Iterator[dict]:
    """One row per link: the post, the link, its verdict with evidence, and the repair if any; the curator's
    mark on its URL and its category in the previous report. With `since` (a timestamp in utcnow()'s form)
    only links whose verdict or repair changed after it (_changed_since_clause)."""
    role = "" if all_links else "AND l.role = 'original'"
    changed, params = _changed_since_clause(since) if since else ("", [])
    sql = f"""
        SELECT p.id AS post_id, p.url AS post_url, p.title AS post_title, p.published AS post_published,
               p.outlet, p.author, l.id AS link_id, l.role, l.url, l.anchor_text, l.nullified_reason,
               CASE WHEN l.nullified_reason IS NULL THEN l.url_normalized END AS url_normalized,
               COALESCE(s.verdict, CASE WHEN l.nullified_reason IS NOT NULL THEN 'nullified' END) AS verdict,
               s.status, s.final_url, s.error_class, s.last_checked, c.redirect_chain, c.error, c.elapsed_ms,
               c.method,
               r.id AS repair_id, r.replacement, r.capture_timestamp, r.confidence, r.state AS repair_state,
               r.reason AS repair_reason, r.evidence AS repair_evidence, r.target_date, r.distance_days,
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
    for item in db.query(sql, params):
        item["redirect_chain"] = json.loads(item["redirect_chain"]) if item["redirect_chain"] else []
        item["repair_evidence"] = json.loads(item["repair_evidence"]) if item["repair_evidence"] else None
        yield item


# Which links need a person (desk/queue.py says why each waits): a proposed repair, a repair the archive could
# not make, a nullified link no URL was found for, a live page that no longer holds the post's text.
_ATTENTION = """(r.state IN ('proposed', 'unavailable')
                 OR (r.id IS NULL AND l.nullified_reason IS NOT NULL AND l.known_url IS NULL)
                 OR (r.id IS NULL AND s.verdict = 'drifted'))"""


def attention_rows(db, *, link_id: str | None = None) -> list[dict]:
    """Every Original Article link that needs a person (_ATTENTION), with its post, what the checks saw,
    its repair if it has one, the curator's mark on its URL, and since when it has been failing (its URL's
    first failing check in the current run of failures; for a nullified link, the post's publication).
    With `link_id`, that link alone, whether or not it needs anyone."""
    where, params = (f"AND {_ATTENTION}", []) if link_id is None else ("AND l.id = ?", [link_id])
    rows = list(db.query(f"""
        SELECT l.id AS link_id, l.post_id, l.url, l.url_normalized, l.nullified_reason, l.known_url,
               p.title AS post_title, p.url AS post_url, p.published, p.outlet, p.author, p.content, p.lead_text,
               s.verdict, s.status, s.error_class, s.reason AS verdict_reason, s.evidence_class, s.final_url,
               s.moved_to, s.last_checked, c.redirect_chain, m.mark, m.signature AS mark_signature,
               r.id AS repair_id, r.state, r.reason AS repair_reason, r.replacement, r.capture_timestamp,
               r.capture_url, r.confidence, r.evidence AS repair_evidence, r.distance_days, r.target_date,
               r.note AS repair_note, r.url AS repair_url,
               CASE WHEN l.nullified_reason IS NOT NULL THEN p.published
                    ELSE COALESCE(s.first_failure_at,
                        (SELECT min(f.checked_at) FROM checks f WHERE f.url = l.url_normalized
                           AND f.verdict IN ('dead', 'soft-404', 'drifted')
                           AND f.checked_at > COALESCE((SELECT max(g.checked_at) FROM checks g
                               WHERE g.url = f.url AND g.verdict IN ('alive', 'redirected', 'moved')), '')),
                        r.created_at) END AS failing_since
        FROM links l
        JOIN posts p ON p.id = l.post_id
        LEFT JOIN url_status s ON s.url = l.url_normalized AND l.nullified_reason IS NULL
        LEFT JOIN checks c ON c.id = s.check_id
        LEFT JOIN url_marks m ON m.url = l.url_normalized AND l.nullified_reason IS NULL
        LEFT JOIN repairs r ON r.link_id = l.id
        WHERE p.deleted_at IS NULL AND l.role = 'original' {where}
        ORDER BY p.published, l.id""", params))
    for row in rows:
        row["redirect_chain"] = json.loads(row["redirect_chain"]) if row["redirect_chain"] else []
        row["repair_evidence"] = json.loads(row["repair_evidence"]) if row["repair_evidence"] else {}
    return rows


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


def _changed_since_clause(since: str) -> tuple[str, list]:
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
