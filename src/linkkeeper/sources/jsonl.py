"""JSON Lines: one post per line, a JSON object with

    id         string, unique in the file (required)
    url        string or null: the post's public URL
    title      string or null
    published  string or null: ISO 8601 date-time
    html       string: the post's HTML (required)
    updated    string or null (optional)
    labels     array of strings (optional)

Other keys are allowed and kept. Blank lines are skipped. The file is read line by line (memory stays flat),
and written back with only chosen hrefs changed inside the `html` strings: every other byte, other keys and
their order and spacing included, is kept. `write_rows` writes posts from the store in this format.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from urllib.parse import urlsplit

from linkkeeper.files import write_atomically
from linkkeeper.sources import jsontext, patching
from linkkeeper.sources.common import ExportError, Post, UniqueIds, Warn, log

REQUIRED = ("id", "url", "title", "published", "html")
FIELDS = ("id", "url", "title", "published", "updated", "labels", "html")


def _records(path, lines: Iterable[bytes], warn: Warn) -> Iterator[tuple[int, int, str, Post, jsontext.Str]]:
    """(line number, byte offset, text, post, the html string) for every post line."""
    unique = UniqueIds(path, warn)
    offset = 0
    for number, data in enumerate(lines, 1):
        start = offset
        offset += len(data)
        text = jsontext.decode_text(path, data, line=number)
        skip = 1 if number == 1 and text.startswith("\ufeff") else 0
        if not text[skip:].strip():
            continue
        try:
            obj = jsontext.loads(text, skip)
        except json.JSONDecodeError as e:
            raise ExportError(path, number, e.colno, e.msg) from None
        if not isinstance(obj, dict):
            raise ExportError(path, number, None, "a line must be one JSON object (a post)")
        post, html = _post(path, number, obj)
        post.id = unique(post.id, number)
        yield number, start, text, post, html


def _post(path, number: int, obj: dict) -> tuple[Post, jsontext.Str]:
    missing = [key for key in REQUIRED if key not in obj]
    if missing:
        raise ExportError(path, number, None, "missing " + ", ".join(f'"{key}"' for key in missing)
                          + " (each line needs " + ", ".join(REQUIRED) + ")")
    post_id, html = obj["id"], obj["html"]
    if not isinstance(post_id, str) or not post_id.strip():
        raise ExportError(path, number, None, '"id" must be a non-empty string')
    if not isinstance(html, str):
        raise ExportError(path, number, None, '"html" must be a string')
    for key in ("url", "title", "published", "updated"):
        if obj.get(key) is not None and not isinstance(obj[key], str):
            raise ExportError(path, number, None, f'"{key}" must be a string or null')
    labels = obj.get("labels")
    if labels is None:
        labels = []
    if not isinstance(labels, list) or not all(isinstance(label, str) for label in labels):
        raise ExportError(path, number, None, '"labels" must be an array of strings')
    post = Post(id=str(post_id), url=_text(obj["url"]), title=_text(obj["title"]),
                published=_text(obj["published"]), updated=_text(obj.get("updated")),
                labels=[str(label) for label in labels], html=str(html), line=number)
    return post, html


def _text(value) -> str | None:
    if value is None:
        return None
    return str(value).strip() or None


def read_export(path, warn: Callable[[str], None] | None = None) -> Iterator[Post]:
    """Every post of the file, in file order."""
    with open(path, "rb") as fh:
        for _, _, _, post, _ in _records(path, fh, warn or log.warning):
            yield post


def info(path) -> dict:
    with open(path, "rb") as fh:
        first = next((post for _, _, _, post, _ in _records(path, fh, lambda m: None)), None)
    blog_url = None
    if first and first.url:
        parts = urlsplit(first.url)
        blog_url = f"{parts.scheme}://{parts.netloc}/" if parts.scheme and parts.netloc else None
    return {"title": None, "blog_url": blog_url, "format": "jsonl"}


def write_patched(src_path, dst_path, replacements: Mapping[str, Mapping[int, str]]) -> int:
    """Copy the file to dst_path with the given hrefs replaced inside the `html` strings, every other byte
    unchanged (see blogger.write_patched for the arguments)."""
    wanted = {post_id: dict(changes) for post_id, changes in replacements.items() if changes}

    def plan(data) -> list[patching.ByteEdit]:
        lines = iter(data.readline, b"") if hasattr(data, "readline") else iter(())
        edits, seen = [], set()
        for number, start, text, post, html in _records(src_path, lines, lambda m: None):
            if post.id in wanted:
                seen.add(post.id)
                raw_edits = jsontext.string_edits(text, html, wanted[post.id], where=f"{src_path}:{number}",
                                                  post_id=post.id)
                edits += patching.byte_edits(text, start, raw_edits, "utf-8")
        missing = sorted(set(wanted) - seen)
        if missing:
            raise KeyError(f"{src_path}: no post with id {', '.join(missing)}")
        return edits

    return patching.patch_file(src_path, dst_path, plan)


def dumps(post: Mapping) -> str:
    """One post as a JSON Lines line (without the newline), keys in the documented order."""
    row = {key: post.get(key) for key in FIELDS}
    row["labels"] = list(row["labels"] or [])
    return json.dumps(row, ensure_ascii=False)


def write_rows(dst_path, posts: Iterable[Mapping]) -> int:
    """Write posts (mappings with the FIELDS keys) as JSON Lines to dst_path, atomically. Returns the count."""
    count = 0

    def write(out) -> None:
        nonlocal count
        for post in posts:
            out.write(dumps(post).encode("utf-8") + b"\n")
            count += 1

    write_atomically(dst_path, write, binary=True)
    return count
