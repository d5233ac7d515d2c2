"""A post quoting an article, stored the way ingest stores it: the smallest blog the checker's tests need."""

from __future__ import annotations

from linkkeeper import store


def add_quoting_post(db, url: str, post_text: str, title: str | None = None) -> None:
    """Post "p1" (2012-10-16) reproducing `post_text`, with `url` as its Original Article link."""
    html = f"<p>{post_text}</p><a href=\"{url}\">Original Article</a><br>Source: example"
    db["sources"].insert({"id": 1, "path": "x"})
    store.upsert_post(db, {"id": "p1", "source_id": 1, "content": html, "published": "2012-10-16",
                           "lead_text": post_text, "title": title},
                      [{"anchor_index": 0, "role": "original", "url": url, "url_normalized": url,
                        "anchor_text": "Original Article", "nullified_reason": None}])
