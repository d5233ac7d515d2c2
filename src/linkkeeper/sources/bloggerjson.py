"""Blogger API v3 JSON: a `posts.list` response (`{"kind": "blogger#postList", "items": [...]}`), its bare
`items` array, or one `blogger#post` (`posts.get`). Read into posts, and written back with only chosen hrefs
changed inside the `content` strings (every other byte of the file kept).

Only live posts are read: an item whose `status` is given and is not LIVE (DRAFT, SCHEDULED, SOFT_TRASHED) or
whose `kind` is not `blogger#post` (a page) is skipped. A post's id is spelled as in the Atom export,
`tag:blogger.com,1999:blog-<blog id>.post-<post id>`, when the item names its blog, so the same post read from
either file is the same row in the store.

The whole file is parsed at once (API responses are pages of posts, not whole archives).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from urllib.parse import urlsplit

from linkkeeper.sources import jsontext, patching
from linkkeeper.sources.common import ExportError, Post, UniqueIds, Warn, log

POST_KIND = "blogger#post"
LIST_KIND = "blogger#postList"


def _document(path, data: bytes) -> tuple[str, list, jsontext.Lines]:
    text = jsontext.decode_text(path, data)
    start = 1 if text.startswith("\ufeff") else 0
    try:
        doc = jsontext.loads(text, start)
    except json.JSONDecodeError as e:
        raise jsontext.decode_error(path, e) from None
    lines = jsontext.Lines(text)
    if isinstance(doc, list):
        return text, doc, lines
    if isinstance(doc, dict):
        if doc.get("kind") == POST_KIND:
            return text, [doc], lines
        if "items" in doc:
            items = doc["items"]
            if not isinstance(items, list):
                raise _error(path, lines, doc, '"items" is not an array')
            return text, items, lines
        if doc.get("kind") == LIST_KIND:
            return text, [], lines  # the API leaves "items" out when there are no posts
        raise _error(path, lines, doc, 'a JSON object without "items": not a Blogger API posts.list response')
    raise ExportError(path, 1, 1, "not a Blogger API response: expected an array of posts or an object with \"items\"")


def _error(path, lines: jsontext.Lines, obj, message: str) -> ExportError:
    start = getattr(obj, "start", 0)
    return ExportError(path, lines.line(start), lines.column(start), message)


def _posts(path, text: str, items: list, lines: jsontext.Lines, warn: Warn) -> Iterator[tuple[Post, jsontext.Str]]:
    unique = UniqueIds(path, warn)
    for n, item in enumerate(items):
        if not isinstance(item, dict):
            raise ExportError(path, 1, 1, f"item {n} of the posts is not an object")
        kind = item.get("kind")
        status = item.get("status")
        if (kind is not None and kind != POST_KIND) or (status is not None and str(status).upper() != "LIVE"):
            continue
        line = lines.line(item.start)
        number = item.get("id")
        if not isinstance(number, (str, int)) or isinstance(number, bool) or not str(number).strip():
            raise _error(path, lines, item, 'a post without an "id"')
        content = item.get("content")
        if not isinstance(content, str):
            raise _error(path, lines, item, f'post {number} has no "content" string (fetched with fetchBodies=false?)')
        blog = item.get("blog")
        blog_id = blog.get("id") if isinstance(blog, dict) else None
        post_id = str(number).strip()
        if blog_id and post_id.isdigit():
            post_id = f"tag:blogger.com,1999:blog-{blog_id}.post-{post_id}"
        labels = item.get("labels") or []
        if not isinstance(labels, list) or not all(isinstance(label, str) for label in labels):
            raise _error(path, lines, item, f'post {number}: "labels" is not an array of strings')
        post = Post(
            id=unique(post_id, line),
            url=_string(item.get("url")),
            title=_string(item.get("title")),
            published=_string(item.get("published")),
            updated=_string(item.get("updated")),
            labels=[str(label) for label in labels],
            html=str(content),
            line=line,
        )
        yield post, content


def _string(value) -> str | None:
    if not isinstance(value, str):
        return None
    return value.strip() or None


def read_export(path, warn: Callable[[str], None] | None = None) -> Iterator[Post]:
    """Every live post of the response, in file order."""
    data = Path(path).read_bytes()
    text, items, lines = _document(path, data)
    for post, _ in _posts(path, text, items, lines, warn or log.warning):
        yield post


def info(path) -> dict:
    data = Path(path).read_bytes()
    text, items, lines = _document(path, data)
    first = next((post for post, _ in _posts(path, text, items, lines, lambda m: None)), None)
    blog_id = next((item["blog"].get("id") for item in items
                    if isinstance(item, dict) and isinstance(item.get("blog"), dict)), None)
    blog_url = None
    if first and first.url:
        parts = urlsplit(first.url)
        blog_url = f"{parts.scheme}://{parts.netloc}/" if parts.scheme and parts.netloc else None
    return {"title": None, "blog_url": blog_url, "blog_id": blog_id, "format": "blogger-json"}


def write_patched(src_path, dst_path, replacements: Mapping[str, Mapping[int, str]]) -> int:
    """Copy the JSON file to dst_path with the given hrefs replaced inside the posts' `content` strings, every
    other byte unchanged (see blogger.write_patched for the arguments)."""
    wanted = {post_id: dict(changes) for post_id, changes in replacements.items() if changes}

    def plan(data) -> list[patching.ByteEdit]:
        text, items, lines = _document(src_path, bytes(data))
        edits, seen = [], set()
        for post, content in _posts(src_path, text, items, lines, lambda m: None):
            if post.id in wanted:
                seen.add(post.id)
                edits += jsontext.string_edits(text, content, wanted[post.id], where=f"{src_path}:{post.line}",
                                               post_id=post.id)
        missing = sorted(set(wanted) - seen)
        if missing:
            raise KeyError(f"{src_path}: no live post with id {', '.join(missing)}")
        return patching.byte_edits(text, 0, edits, "utf-8")

    return patching.patch_file(src_path, dst_path, plan)
