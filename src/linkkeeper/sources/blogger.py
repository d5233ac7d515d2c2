"""Blogger "Back up content" exports: reading the Atom file into post records, and writing it back with only
chosen hrefs changed (every other byte copied verbatim).

Two layouts exist: the legacy export (entries typed by a `kind#...` category, drafts marked with
`<app:draft>yes</app:draft>`) and the newer Google Takeout `feed.atom` (`blogger:type`, `blogger:status`,
`blogger:filename`). Both are read with the shared expat scanner (sources/xmlpatch.py), which resolves
namespace prefixes itself: real exports use the `app:` prefix without declaring it.
"""

from __future__ import annotations

import html as htmlmod
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

from linkkeeper.text.html import html_to_text
from linkkeeper.sources import xmlpatch
from linkkeeper.sources.common import ExportError, Post
from linkkeeper.sources.xmlpatch import Found, StopScan, XmlScanner, is_ as _is, text_of as _text

__all__ = ["ExportError", "Post", "feed_info", "read_export", "write_patched"]

ATOM_NS = "http://www.w3.org/2005/Atom"
APP_NS = "http://purl.org/atom/app#"
APP_NS_2007 = "http://www.w3.org/2007/app"
BLOGGER_NS = "http://schemas.google.com/blogger/2018"
KIND_SCHEME = "http://schemas.google.com/g/2005#kind"
LABEL_SCHEME = "http://www.blogger.com/atom/ns#"

_BLOG_ID = re.compile(r"blog-(\d+)")
_HTML_VOID = frozenset("area base br col embed hr img input link meta param source track wbr".split())


# --- the scanner shared by reading and patching --------------------------------------------------------


@dataclass
class _Entry:
    """What has been gathered of the entry being read. Text fields are lists of chunks (expat splits text)."""

    line: int
    depth: int
    id: list[str] = field(default_factory=list)
    title: list[str] = field(default_factory=list)
    title_type: str = "text"
    published: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    content: list[str] = field(default_factory=list)
    content_type: str | None = None
    content_start: int | None = None  # byte offset of the content start tag's '<'
    content_end: int | None = None  # byte offset of the content end tag's '<'
    kind: str | None = None
    labels: list[str] = field(default_factory=list)
    other_terms: list[str] = field(default_factory=list)  # terms of non-kind categories, for Takeout labels
    alternate: str | None = None
    btype: list[str] | None = None
    status: list[str] | None = None
    filename: list[str] = field(default_factory=list)
    trashed: list[str] = field(default_factory=list)
    draft: list[str] = field(default_factory=list)


class AtomScanner(XmlScanner):
    """Collects the published posts of a Blogger Atom export (and, through sources/feed.py's subclass, of a page
    of the blog's public Atom feed)."""

    KNOWN_PREFIXES = {"app": (APP_NS, "the Atom Publishing Protocol namespace")}

    def __init__(self, path, warn: Callable[[str], None] | None, stop_at_entry: bool = False):
        super().__init__(path, warn)
        self.stop_at_entry = stop_at_entry
        self.format = "blogger-legacy"
        self.feed_title: list[str] = []
        self.feed_id: list[str] = []
        self.blog_url: str | None = None
        self.entry: _Entry | None = None
        # type='xhtml' content is markup, rebuilt from events; the wrapper <div> Atom requires is dropped.
        self.xhtml_depth: int | None = None
        self.xhtml_children = 0
        self.xhtml_div: list[int] = []

    # element events

    def start_element(self, depth, ns, local, name, attrs, mapping, inherited):
        capture = inherited
        entry = self.entry

        if self.xhtml_depth is not None:
            self._xhtml_start(depth, local, attrs)
        elif depth == 0:
            if not _is(ns, local, ATOM_NS, "feed"):
                raise self.error(f"not an Atom feed: the root element is <{name}>")
            if BLOGGER_NS in mapping.values():
                self.format = "blogger-takeout"
        elif entry is None and depth == 1:
            if _is(ns, local, ATOM_NS, "entry"):
                if self.stop_at_entry:
                    raise StopScan
                self.entry = _Entry(self.parser.CurrentLineNumber, depth)
            elif _is(ns, local, ATOM_NS, "title"):
                capture = self.feed_title
            elif _is(ns, local, ATOM_NS, "id"):
                capture = self.feed_id
            elif _is(ns, local, ATOM_NS, "link") and _is_alternate(attrs) and self.blog_url is None:
                self.blog_url = attrs.get("href", "").strip() or None
        elif entry is not None and depth == entry.depth + 1:
            capture = self._entry_child(entry, ns, local, attrs, capture)
        elif (entry is not None and depth == entry.depth + 2 and _is(ns, local, (APP_NS, APP_NS_2007), "draft")
              and _is(*self.names[-2], (APP_NS, APP_NS_2007), "control")):
            capture = entry.draft
        return capture

    def _entry_child(self, entry: _Entry, ns, local, attrs, capture):
        if ns in (ATOM_NS, None):
            if local == "id":
                return entry.id
            if local == "title":
                entry.title_type = attrs.get("type", "text")
                return entry.title
            if local == "published":
                return entry.published
            if local == "updated":
                return entry.updated
            if local == "content":
                entry.content_type = attrs.get("type", "text")
                entry.content_start = self.parser.CurrentByteIndex
                if entry.content_type == "xhtml":
                    self.xhtml_depth = len(self.names) - 1
                    self.xhtml_children = 0
                    self.xhtml_div = []
                return entry.content
            if local == "category":
                scheme, term = attrs.get("scheme"), attrs.get("term")
                if scheme == KIND_SCHEME:
                    entry.kind = term
                elif term:
                    entry.other_terms.append(term)
                    if scheme == LABEL_SCHEME:
                        entry.labels.append(term)
                return capture
            if local == "link":
                if entry.alternate is None and _is_alternate(attrs):
                    entry.alternate = attrs.get("href", "").strip() or None
                return capture
        if ns in (BLOGGER_NS, None):
            if local == "type":
                entry.btype = []
                return entry.btype
            if local == "status":
                entry.status = []
                return entry.status
            if local == "filename":
                return entry.filename
            if local == "trashed":
                return entry.trashed
        return capture

    def end_element(self, depth, ns, local) -> None:
        entry = self.entry
        if self.xhtml_depth is not None and depth > self.xhtml_depth:
            self._xhtml_end(depth, local)
        elif entry is None:
            return
        elif depth == entry.depth:
            self.entry = None
            found = self._finish(entry)
            if found:
                self.done.append(found)
        elif depth == entry.depth + 1 and _is(ns, local, ATOM_NS, "content"):
            entry.content_end = self.parser.CurrentByteIndex
            if self.xhtml_depth is not None:
                self._xhtml_close(entry)

    def _chars(self, data: str) -> None:
        target = self.captures[-1] if self.captures else None
        if target is not None:
            target.append(htmlmod.escape(data, quote=False) if self.xhtml_depth is not None else data)

    # xhtml content

    def _xhtml_start(self, depth: int, local: str, attrs: dict[str, str]) -> None:
        parts = self.entry.content
        if depth == self.xhtml_depth + 1:
            self.xhtml_children += 1
            if local == "div" and self.xhtml_children == 1 and not "".join(parts).strip():
                self.xhtml_div = [len(parts)]
        rendered = "".join(f' {k}="{htmlmod.escape(v)}"' for k, v in attrs.items()
                           if k != "xmlns" and not k.startswith("xmlns:"))
        parts.append(f"<{local}{rendered}{' /' if local in _HTML_VOID else ''}>")

    def _xhtml_end(self, depth: int, local: str) -> None:
        parts = self.entry.content
        if depth == self.xhtml_depth + 1 and len(self.xhtml_div) == 1 and self.xhtml_children == 1:
            self.xhtml_div.append(len(parts))
        if local not in _HTML_VOID:
            parts.append(f"</{local}>")

    def _xhtml_close(self, entry: _Entry) -> None:
        parts = entry.content
        if len(self.xhtml_div) == 2 and self.xhtml_children == 1:
            opened, closed = self.xhtml_div
            if not "".join(parts[closed + 1:]).strip():
                entry.content[:] = parts[opened + 1:closed]
        self.xhtml_depth = None

    # deciding what an entry is

    def is_post(self, entry: _Entry, post_id: str, btype: str | None) -> bool:
        """Whether an entry is a published post (not a comment, page, setting, template, draft or trashed)."""
        status = _text(entry.status)
        if entry.kind is not None:
            is_post = entry.kind.endswith("kind#post")
        elif btype is not None:
            is_post = btype.upper() == "POST"
        else:
            is_post = ".post-" in post_id
        # Takeout marks drafts and deleted posts by status and trashed; an absent status is taken as live.
        if status is not None and status.upper() != "LIVE":
            is_post = False
        if _text(entry.trashed) or (_text(entry.draft) or "").lower() == "yes":
            is_post = False
        return is_post

    def _finish(self, entry: _Entry) -> Found | None:
        post_id = "".join("".join(entry.id).split())
        btype = _text(entry.btype)
        if not self.is_post(entry, post_id, btype):
            return None
        takeout = btype is not None or self.format == "blogger-takeout"
        url = entry.alternate
        filename = _text(entry.filename)
        if url is None and filename:
            url = self.blog_url.rstrip("/") + "/" + filename.lstrip("/") if self.blog_url else filename
        title = _text(entry.title)
        if title and entry.title_type in ("html", "xhtml"):
            title = html_to_text(title) or None
        post = Post(
            id=self.unique(post_id, entry.line),
            url=url,
            title=title,
            published=_text(entry.published),
            updated=_text(entry.updated),
            labels=entry.other_terms if takeout else entry.labels,
            html="".join(entry.content),
            line=entry.line,
        )
        return Found(post, entry.content_type or "text", entry.content_start, entry.content_end)


def _is_alternate(attrs: dict[str, str]) -> bool:
    return attrs.get("rel", "alternate") == "alternate" and attrs.get("type", "text/html") == "text/html"


# --- public reading API --------------------------------------------------------------------------------


def read_export(path, warn: Callable[[str], None] | None = None) -> Iterator[Post]:
    """Every published post of the export, in file order, read in 1 MiB chunks (memory stays flat).

    Bad XML raises ExportError when the reading reaches it, possibly after some posts were yielded."""
    for found in xmlpatch.scan_file(AtomScanner(path, warn), path):
        yield found.post


def feed_info(path) -> dict:
    """The feed's title, blog URL, blog id and layout, from the part of the file before the first entry."""
    scanner = AtomScanner(path, lambda message: None, stop_at_entry=True)
    xmlpatch.scan_header(scanner, path)
    feed_id = "".join(scanner.feed_id)
    m = _BLOG_ID.search(feed_id)
    return {
        "title": _text(scanner.feed_title),
        "blog_url": scanner.blog_url,
        "blog_id": m.group(1) if m else None,
        "format": scanner.format,
    }


# --- patching ------------------------------------------------------------------------------------------


def write_patched(src_path, dst_path, replacements: Mapping[str, Mapping[int, str]]) -> int:
    """Copy the export to dst_path with the given hrefs replaced, every other byte unchanged.

    `replacements` maps a post id to {anchor index: new href}, the index being `Anchor.index` from
    `links.scan_anchors(post.html)`. Returns the number of hrefs changed. Nothing is written when a post id or
    an anchor index is not found.
    """
    return xmlpatch.write_patched(src_path, dst_path, replacements, lambda path: AtomScanner(path, lambda m: None))
