"""Readers and writers for the blog export formats linkkeeper understands, chosen by the file's content
(never its name):

| format         | what                                                             | module          |
|----------------|------------------------------------------------------------------|-----------------|
| `blogger-atom` | Blogger "Back up content" export, legacy or Google Takeout Atom  | blogger.py      |
| `wxr`          | WordPress eXtended RSS 1.0 / 1.1 / 1.2 (WordPress.com too)        | wxr.py          |
| `blogger-json` | Blogger API v3 `posts.list` response, or its bare `items` array   | bloggerjson.py  |
| `jsonl`        | JSON Lines, one post per line                                    | jsonl.py        |

Every reader yields `Post`s and raises `ExportError` ('FILE:LINE:COLUMN: message') on bad input; every
writer copies the file with only the chosen hrefs changed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping

from linkkeeper.sources import blogger, bloggerjson, jsonl, wxr, xmlpatch
from linkkeeper.sources.common import ExportError, Post
from linkkeeper.text import jsonbounds

__all__ = ["FORMATS", "ExportError", "Post", "detect_format", "export_format_of", "read_posts", "source_info",
           "write_patched"]

FORMATS = ("blogger-atom", "wxr", "blogger-json", "jsonl")
# Names earlier versions stored in sources.format for what is now blogger-atom.
_ALIASES = {"blogger-legacy": "blogger-atom", "blogger-takeout": "blogger-atom", "blogger": "blogger-atom"}
SNIFF_BYTES = 64 * 1024

_READERS = {"blogger-atom": blogger.read_export, "wxr": wxr.read_export,
            "blogger-json": bloggerjson.read_export, "jsonl": jsonl.read_export}
_WRITERS = {"blogger-atom": blogger.write_patched, "wxr": wxr.write_patched,
            "blogger-json": bloggerjson.write_patched, "jsonl": jsonl.write_patched}
_POST_LIST = re.compile(rb'"kind"\s*:\s*"blogger#postList"|"items"\s*:\s*\[')


def export_format_of(stored: str | None) -> str:
    """The format name (one of FORMATS) for a sources.format value."""
    name = _ALIASES.get(stored or "blogger-atom", stored or "blogger-atom")
    if name not in FORMATS:
        raise ValueError(f"unknown source format {stored!r}")
    return name


def detect_format(path) -> str:
    """Which of FORMATS the file holds, judged by its content. XML is judged by its root element (after a
    prolog of any length: WordPress writes a kilobyte of comments before <rss>); JSON by its first value."""
    with open(path, "rb") as fh:
        head = fh.read(SNIFF_BYTES)
    body = head[3:] if head.startswith(b"\xef\xbb\xbf") else head
    body = body.lstrip(b" \t\r\n")
    if not body:
        raise ExportError(path, 1, 1, "the file is empty")
    first = body[:1]
    if first == b"<":
        name, attrs, line, column = xmlpatch.root_element(path)
        local = name.rpartition(":")[2]
        if local == "feed":
            return "blogger-atom"
        if local == "rss":
            decls = {k: v for k, v in attrs.items() if k == "xmlns" or k.startswith("xmlns:")}
            if wxr.wp_version_of(decls):
                return "wxr"
            raise ExportError(path, line, column, "an RSS feed without the WordPress export namespace "
                              "(http://wordpress.org/export/1.x/): not a WXR export")
        raise ExportError(path, line, column, f"the root element <{name}> is neither a Blogger Atom export "
                          "(<feed>) nor a WordPress export (<rss>)")
    if first == b"[":
        return "blogger-json"
    if first == b"{":
        return _json_object_kind(body, complete=len(head) < SNIFF_BYTES)
    raise ExportError(path, 1, 1, "not a format linkkeeper reads: expected a Blogger Atom export, a WordPress "
                      "WXR export, a Blogger API JSON response or JSON Lines")


def _json_object_kind(body: bytes, complete: bool) -> str:
    """A file starting with '{' is one JSON object (a Blogger API response) or JSON Lines."""
    first, newline, rest = body.partition(b"\n")
    if not newline and not complete:
        # One very long first line: a minified API response names its kind or items near the start.
        return "blogger-json" if _POST_LIST.search(body) else "jsonl"
    obj = _json_line(first)
    if isinstance(obj, dict):
        if rest.strip():
            return "jsonl"  # a second value after a complete object: lines, not one document
        return "blogger-json" if obj.get("kind") in ("blogger#postList", "blogger#post") or "items" in obj else "jsonl"
    # The first line is not a whole object: a pretty-printed document, or JSON Lines whose first line is bad
    # (then the second line is a whole object, and the JSON Lines reader names the bad line).
    second = next((line for line in rest.split(b"\n") if line.strip()), b"")
    return "jsonl" if isinstance(_json_line(second), dict) else "blogger-json"


def _json_line(line: bytes):
    try:
        return jsonbounds.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):  # the reader names what is wrong, at its line
        return None


def _format(path, format: str | None) -> str:
    return detect_format(path) if format is None else export_format_of(format)


def read_posts(path, warn: Callable[[str], None] | None = None, format: str | None = None) -> Iterator[Post]:
    """Every published post of the file, in file order. Bad input raises ExportError, possibly after some
    posts were yielded (the streaming readers find it when they reach it)."""
    return _READERS[_format(path, format)](path, warn)


def source_info(path, format: str | None = None) -> dict:
    """What the file says about the blog: title, blog_url and format (one of FORMATS), and for some formats
    more (blog_id; layout legacy/takeout for Blogger Atom; version for WXR)."""
    fmt = _format(path, format)
    if fmt == "blogger-atom":
        info = blogger.feed_info(path)
        layout = info.pop("format")
        return {**info, "format": fmt, "layout": layout.removeprefix("blogger-")}
    if fmt == "wxr":
        return wxr.channel_info(path)
    if fmt == "blogger-json":
        return bloggerjson.info(path)
    return jsonl.info(path)


def write_patched(path, dst, replacements: Mapping[str, Mapping[int, str]], format: str | None = None) -> int:
    """Copy the file to dst with the given hrefs replaced ({post id: {anchor index: href}}), every other byte
    unchanged; written atomically, and not at all when a post id or anchor index is not found. Returns the
    number of hrefs changed."""
    return _WRITERS[_format(path, format)](path, dst, replacements)
