"""The recovery of nullified Original Article links: the links to recover, what the blog's working links
teach about each outlet, every CDX query made (recovery_queries, so a resumed run repeats none) and the
archived pages considered for each link (recovery_candidates)."""

from __future__ import annotations

import json
from typing import Any, Iterator

from linkkeeper.store.sql import date_clause, transaction
from linkkeeper.text.dates import now_iso


def nullified_links_to_recover(db, *, date_from: str | None = None, date_to: str | None = None) -> Iterator[dict]:
    """Nullified Original Article links with no known URL and no repair yet (decided links are skipped, so a
    run resumes where the last one stopped), with what their post says about the article."""
    params: list = []
    where = ["l.role = 'original'", "l.nullified_reason IS NOT NULL", "l.known_url IS NULL", "r.id IS NULL"]
    where += date_clause(date_from, date_to, params)
    sql = f"""
        SELECT l.id AS link_id, l.post_id, l.anchor_index, l.url, l.nullified_reason, p.published, p.title,
               p.content, p.outlet, p.author
        FROM links l JOIN posts p ON p.id = l.post_id LEFT JOIN repairs r ON r.link_id = l.id
        WHERE {' AND '.join(where)}
        ORDER BY p.published, l.id"""
    yield from db.query(sql, params)


def count_nullified_links(db, *, date_from: str | None = None, date_to: str | None = None) -> tuple[int, int]:
    """(nullified Original Article links in the range, how many of them already have a repair)."""
    params: list = []
    where = ["l.role = 'original'", "l.nullified_reason IS NOT NULL"] + date_clause(date_from, date_to, params)
    row = db.execute(f"""SELECT count(*), count(r.id) FROM links l JOIN posts p ON p.id = l.post_id
                         LEFT JOIN repairs r ON r.link_id = l.id WHERE {' AND '.join(where)}""", params).fetchone()
    return row[0], row[1]


def published_twice_marks(db) -> Iterator[tuple[str, str]]:
    """(domain, article date) of each article an earlier recovery run found its outlet publishing under two
    URLs (the repairs' evidence, `published_twice`): a resumed run keeps the rule those findings set."""
    yield from db.execute("""SELECT json_extract(evidence, '$.published_twice.domain'),
                                    json_extract(evidence, '$.published_twice.article_date')
                             FROM repairs WHERE reason LIKE 'nullified%'
                             AND json_extract(evidence, '$.published_twice.domain') IS NOT NULL""")


def original_links_for_learning(db, *, exclude_from: str | None = None,
                                exclude_to: str | None = None) -> Iterator[dict]:
    """Working Original Article links with their post's outlet, date, title, lead and author line, outside [exclude_from,
    exclude_to]: what the blog itself says about each outlet's domains and URL shapes."""
    params: list = []
    where = ["l.role = 'original'", "l.nullified_reason IS NULL", "l.url_normalized IS NOT NULL"]
    if exclude_from and exclude_to:
        where.append("NOT (substr(p.published, 1, 10) BETWEEN ? AND ?)")
        params += [exclude_from, exclude_to]
    sql = f"""SELECT l.url_normalized AS url, p.outlet, p.published, p.title, p.lead_text, p.author FROM links l
              JOIN posts p ON p.id = l.post_id WHERE {' AND '.join(where)} ORDER BY p.published"""
    yield from db.query(sql, params)


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
            "rows": json.dumps(rows), "row_count": len(rows), "fetched_at": now_iso(), "error": error,
        }, pk="key")


def save_recovery_candidates(db, link_id: str, post_id: str, candidates: list[dict[str, Any]]) -> None:
    """Replace the candidates kept for one link (a link is only looked at again when it has no repair)."""
    now = now_iso()
    rows = [dict(c, link_id=link_id, post_id=post_id, evidence=json.dumps(c.get("evidence") or {}, ensure_ascii=False),
                 created_at=now) for c in candidates]
    with transaction(db):
        db.execute("DELETE FROM recovery_candidates WHERE link_id = ?", [link_id])
        if rows:
            db["recovery_candidates"].insert_all(rows)


def recovery_candidates(db, link_id: str) -> list[dict]:
    out = list(db.query("SELECT * FROM recovery_candidates WHERE link_id = ? ORDER BY rank", [link_id]))
    for item in out:
        item["evidence"] = json.loads(item["evidence"]) if item["evidence"] else {}
    return out


def set_recovered_url(db, link_id: str, url: str) -> None:
    """Keep the recovered original URL of a nullified link (links.known_url), beside its repair."""
    with transaction(db):
        db["links"].update(link_id, {"known_url": url})
