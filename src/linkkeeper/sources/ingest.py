"""Ingest: read an export with its source module, find each post's links, and store posts and links.

The format (Blogger Atom, WordPress WXR, Blogger API JSON, JSON Lines) is judged from the file's content by
`sources.detect_format`. One export is ingested in one transaction, so a file that turns out to be malformed
half-way leaves the database as it was.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from linkkeeper.text.trailer import post_links
from linkkeeper.text.urls import host_of
from linkkeeper import sources, store
from linkkeeper.text.similarity import joined_probes, post_lead_text
from linkkeeper.sources import blogger


@dataclass
class IngestResult:
    path: str
    format: str
    posts: int = 0
    changed: int = 0
    original_links: int = 0
    nullified: int = 0
    without_original: int = 0
    outbound_links: int = 0
    warnings: list[str] = field(default_factory=list)
    source_id: int | None = None


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def ingest(db, path: str | Path, *, blog_hosts: tuple[str, ...] = (),
           progress: Callable[[int], None] | None = None) -> IngestResult:
    path = Path(path)
    fmt = sources.detect_format(path)
    info = sources.source_info(path, format=fmt)
    hosts = set(blog_hosts)
    if info.get("blog_url"):
        hosts.add(host_of(info["blog_url"]))
    result = IngestResult(str(path), fmt)
    frozen_hosts = frozenset(h for h in hosts if h)
    with store.transaction(db):
        source_id = store.upsert_source(
            db, path=str(path.resolve()), format=result.format, sha256=file_sha256(path),
            size=path.stat().st_size, blog_url=info.get("blog_url"), title=info.get("title"))
        for post in sources.read_posts(path, warn=result.warnings.append, format=fmt):
            frozen_hosts = _store_post(db, post, source_id, frozen_hosts, result)
            if progress:
                progress(result.posts)
        store.set_source_post_count(db, source_id, result.posts)
    return result


def _store_post(db, post: blogger.Post, source_id: int, hosts: frozenset[str], result: IngestResult) -> frozenset[str]:
    """Store one post and its links, counting into `result`; returns the blog hosts, grown by the post's own."""
    post_host = host_of(post.url or "")
    if post_host and post_host not in hosts:
        hosts = hosts | {post_host}
    rows, trailer = post_links(post.html, hosts)
    original = next((r for r in rows if r["role"] == "original"), None)
    lead = post_lead_text(post.html, trailer)
    record = {
        "id": post.id, "source_id": source_id, "url": post.url, "title": post.title,
        "published": post.published, "updated": post.updated, "labels": post.labels,
        "content": post.html, "outlet": trailer.outlet, "author": trailer.author,
        "original_url": original["url"] if original else None,
        "original_state": ("missing" if original is None else
                           "nullified" if original["nullified_reason"] else "present"),
        "lead_text": lead,
        "lead_probes": joined_probes(lead),
        "line": post.line,
        "deleted_at": None,  # a post read from a source is live, even if a full feed read once missed it
    }
    result.changed += store.upsert_post(db, record, rows)
    result.posts += 1
    result.original_links += original is not None
    result.nullified += bool(original and original["nullified_reason"])
    result.without_original += original is None
    result.outbound_links += sum(r["role"] == "outbound" for r in rows)
    return hosts


def ingest_posts(db, posts: Iterable[blogger.Post], source_info: dict, *, blog_hosts: tuple[str, ...] = ()) -> IngestResult:
    """Store posts read from somewhere other than an export file (the blog's public feed, sources/feed.py),
    in one transaction: a caller reading page by page commits page by page, and a page is stored whole or
    not at all. `source_info` names the source: path (its address), format, blog_url, title; a source with
    no file has no sha256 or size, so `export` cannot patch it. The source's post count is its live posts."""
    hosts = set(blog_hosts)
    if source_info.get("blog_url"):
        hosts.add(host_of(source_info["blog_url"]))
    result = IngestResult(source_info["path"], source_info.get("format", "blogger-feed"))
    frozen_hosts = frozenset(h for h in hosts if h)
    with store.transaction(db):
        source_id = store.upsert_source(
            db, path=source_info["path"], format=result.format, sha256=source_info.get("sha256"),
            size=source_info.get("size"), blog_url=source_info.get("blog_url"), title=source_info.get("title"))
        for post in posts:
            frozen_hosts = _store_post(db, post, source_id, frozen_hosts, result)
        store.set_source_post_count(db, source_id, store.live_post_count(db, source_id))
    result.source_id = source_id
    return result
