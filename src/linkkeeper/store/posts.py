"""Sources, posts and their links: what ingest writes and export reads back. A link's id is derived from its
post's id and its position among the post's `<a>` tags, so the same link has the same id in any database
built from the same export."""

from __future__ import annotations

import hashlib
import json
from typing import Any, Iterable, Iterator

from linkkeeper.store.sql import transaction, upsert_row
from linkkeeper.text.dates import now_iso


def link_id(post_id: str, anchor_index: int) -> str:
    return hashlib.sha1(f"{post_id}#{anchor_index}".encode()).hexdigest()[:16]


def upsert_source(db, *, path: str, format: str, sha256: str, size: int, blog_url: str | None,
                  title: str | None) -> int:
    existing = source_by_path(db, path)
    row = {"path": path, "format": format, "sha256": sha256, "size": size, "blog_url": blog_url,
           "title": title, "ingested_at": now_iso()}
    if existing:
        db["sources"].update(existing["id"], row)
        return existing["id"]
    return db["sources"].insert(row).last_pk


def source_by_path(db, path: str) -> dict | None:
    rows = list(db["sources"].rows_where("path = ?", [path], limit=1))
    return rows[0] if rows else None


def set_source_post_count(db, source_id: int, count: int) -> None:
    db["sources"].update(source_id, {"posts": count})


def live_post_count(db, source_id: int) -> int:
    return db.execute("SELECT count(*) FROM posts WHERE source_id = ? AND deleted_at IS NULL", [source_id]).fetchone()[0]


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
    upsert_row(db, "posts", dict(post, labels=json.dumps(post.get("labels") or [], ensure_ascii=False),
                                 content_sha1=content_sha1, ingested_at=now_iso()))
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
        upsert_row(db, "links", row)
    return True


def set_known_url(db, post_id: str, url: str) -> str:
    """Record the URL a nullified Original Article link should have had; returns the link id."""
    row = db.execute("SELECT id FROM links WHERE post_id = ? AND role = 'original'", [post_id]).fetchone()
    if row is None:
        raise KeyError(f"post {post_id!r} has no Original Article link")
    with transaction(db):
        db["links"].update(row[0], {"known_url": url})
    return row[0]


def source_posts(db, source_id: int) -> Iterator[dict]:
    """The live posts of one source in file order: id, url, title, published, updated, labels (a list), html."""
    sql = """SELECT id, url, title, published, updated, labels, content AS html FROM posts
             WHERE source_id = ? AND deleted_at IS NULL ORDER BY line, id"""
    for item in db.query(sql, [source_id]):
        item["labels"] = json.loads(item["labels"]) if item["labels"] else []
        yield item
