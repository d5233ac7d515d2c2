"""Ingest: read an export with its source module, find each post's links, and store posts and links.

One export is ingested in one transaction, so a file that turns out to be malformed half-way leaves the
database as it was.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from linkkeeper import links as linkmod
from linkkeeper import store
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


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def ingest(db, path: str | Path, *, blog_hosts: tuple[str, ...] = (),
           progress: Callable[[int], None] | None = None) -> IngestResult:
    path = Path(path)
    info = blogger.feed_info(path)
    hosts = set(blog_hosts)
    if info.get("blog_url"):
        hosts.add(linkmod.host_of(info["blog_url"]))
    result = IngestResult(str(path), info.get("format", "blogger"))
    frozen_hosts = frozenset(h for h in hosts if h)
    with store.transaction(db):
        source_id = store.upsert_source(
            db, path=str(path.resolve()), format=result.format, sha256=file_sha256(path),
            size=path.stat().st_size, blog_url=info.get("blog_url"), title=info.get("title"))
        for post in blogger.read_export(path, warn=result.warnings.append):
            post_host = linkmod.host_of(post.url or "")
            if post_host and post_host not in frozen_hosts:
                frozen_hosts = frozen_hosts | {post_host}
            rows, trailer = linkmod.post_links(post.html, frozen_hosts)
            original = next((r for r in rows if r["role"] == "original"), None)
            record = {
                "id": post.id, "source_id": source_id, "url": post.url, "title": post.title,
                "published": post.published, "updated": post.updated, "labels": post.labels,
                "content": post.html, "outlet": trailer.outlet, "author": trailer.author,
                "original_url": original["url"] if original else None,
                "original_state": ("missing" if original is None else
                                   "nullified" if original["nullified_reason"] else "present"),
                "line": post.line,
            }
            result.changed += store.upsert_post(db, record, rows)
            result.posts += 1
            result.original_links += original is not None
            result.nullified += bool(original and original["nullified_reason"])
            result.without_original += original is None
            result.outbound_links += sum(r["role"] == "outbound" for r in rows)
            if progress:
                progress(result.posts)
        store.set_source_post_count(db, source_id, result.posts)
    return result
