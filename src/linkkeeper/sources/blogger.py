"""Blogger "Back up content" exports: reading the Atom file into post records, and writing it back with only
chosen hrefs changed (every other byte copied verbatim).

Two layouts exist: the legacy export (entries typed by a `kind#...` category, drafts marked with
`<app:draft>yes</app:draft>`) and the newer Google Takeout `feed.atom` (`blogger:type`, `blogger:status`,
`blogger:filename`). Both are read with expat *without* its namespace processing: real exports use the `app:`
prefix without declaring it, which namespace-aware parsers reject outright, so prefixes are resolved here.
"""

from __future__ import annotations

import html as htmlmod
import logging
import mmap
import os
import re
import tempfile
from array import array
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from xml.parsers import expat

from linkkeeper.links import html_to_text, scan_anchors

ATOM_NS = "http://www.w3.org/2005/Atom"
APP_NS = "http://purl.org/atom/app#"
APP_NS_2007 = "http://www.w3.org/2007/app"
BLOGGER_NS = "http://schemas.google.com/blogger/2018"
XML_NS = "http://www.w3.org/XML/1998/namespace"
KIND_SCHEME = "http://schemas.google.com/g/2005#kind"
LABEL_SCHEME = "http://www.blogger.com/atom/ns#"

CHUNK_SIZE = 64 * 1024
_BLOG_ID = re.compile(r"blog-(\d+)")
_HTML_VOID = frozenset("area base br col embed hr img input link meta param source track wbr".split())

# expat errors that, on the last (empty) feed, mean the text stopped before the document did.
_EARLY_END = {expat.errors.codes[m] for m in (expat.errors.XML_ERROR_NO_ELEMENTS, expat.errors.XML_ERROR_UNCLOSED_TOKEN,
                                              expat.errors.XML_ERROR_UNCLOSED_CDATA_SECTION)}

log = logging.getLogger(__name__)


@dataclass
class Post:
    """One published post. `html` is the content as HTML; `line` is where its <entry> starts in the file."""

    id: str
    url: str | None
    title: str | None
    published: str | None
    updated: str | None
    labels: list[str]
    html: str
    line: int


class ExportError(Exception):
    """Bad input: str(e) is 'FILE:LINE:COLUMN: message'."""

    def __init__(self, path, line: int, column: int, message: str):
        self.path = str(path)
        self.line = line
        self.column = column
        self.message = message
        super().__init__(f"{self.path}:{line}:{column}: {message}")


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


@dataclass
class _Found:
    """A post as found by the scanner, with where its content sits in the file (for write_patched)."""

    post: Post
    content_type: str
    content_start: int | None
    content_end: int | None


class _StopScan(Exception):
    pass


def _text(parts: list[str] | None) -> str | None:
    if parts is None:
        return None
    value = "".join(parts).strip()
    return value or None


class _Scanner:
    """Feeds bytes to expat and collects posts; `take()` hands over the posts completed so far."""

    def __init__(self, path, warn: Callable[[str], None] | None, stop_at_entry: bool = False):
        self.path = str(path)
        self.warn = warn or log.warning
        self.stop_at_entry = stop_at_entry
        self.parser = p = expat.ParserCreate()
        p.buffer_text = True
        p.buffer_size = CHUNK_SIZE
        # Never read external DTDs or entities; refuse entity declarations (entity-expansion attacks).
        p.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        p.EntityDeclHandler = self._entity_decl
        p.ExternalEntityRefHandler = lambda *args: 0
        p.SkippedEntityHandler = self._skipped_entity
        p.XmlDeclHandler = self._xml_decl
        p.StartElementHandler = self._start
        p.EndElementHandler = self._end
        p.CharacterDataHandler = self._chars
        self.encoding = "utf-8"
        self.ns_stack: list[dict[str, str]] = [{"xml": XML_NS}]
        self.names: list[tuple[str | None, str]] = []
        self.captures: list[list[str] | None] = []
        self.warned: set[str] = set()
        self.format = "blogger-legacy"
        self.feed_title: list[str] = []
        self.feed_id: list[str] = []
        self.blog_url: str | None = None
        self.entry: _Entry | None = None
        self.done: list[_Found] = []
        # type='xhtml' content is markup, rebuilt from events; the wrapper <div> Atom requires is dropped.
        self.xhtml_depth: int | None = None
        self.xhtml_children = 0
        self.xhtml_div: list[int] = []

    # feeding

    def feed(self, data: bytes, final: bool = False) -> None:
        try:
            self.parser.Parse(data, final)
        except expat.ExpatError as e:
            message = expat.ErrorString(e.code)
            if final and e.code in _EARLY_END:
                message += " (the file ends early: truncated?)"
            raise ExportError(self.path, e.lineno, e.offset + 1, message) from None

    def take(self) -> list[_Found]:
        done, self.done = self.done, []
        return done

    def error(self, message: str) -> ExportError:
        p = self.parser
        return ExportError(self.path, p.CurrentLineNumber, p.CurrentColumnNumber + 1, message)

    # refusals

    def _entity_decl(self, *args) -> None:
        raise self.error("entity declarations are refused (possible entity-expansion attack)")

    def _skipped_entity(self, name: str, is_parameter_entity: bool) -> None:
        # Reached when a document names an external DTD that was (deliberately) not read.
        raise self.error(f"reference to undeclared entity '{name}' refused (external DTDs are not read)")

    def _xml_decl(self, version, encoding, standalone) -> None:
        if encoding:
            self.encoding = encoding

    # namespaces

    def _resolve(self, name: str) -> tuple[str | None, str]:
        prefix, _, local = name.rpartition(":")
        ns = self.ns_stack[-1].get(prefix) or None
        if prefix and ns is None:
            p = self.parser
            where = f"{self.path}:{p.CurrentLineNumber}:{p.CurrentColumnNumber + 1}"
            if prefix == "app":
                ns = APP_NS
                if prefix not in self.warned:
                    self.warn(f"{where}: undeclared namespace prefix 'app' "
                              "(read as the Atom Publishing Protocol namespace)")
            elif prefix not in self.warned:
                self.warn(f"{where}: undeclared namespace prefix '{prefix}' (element read by its local name)")
            self.warned.add(prefix)
        return ns, local

    # element events

    def _start(self, name: str, attrs: dict[str, str]) -> None:
        mapping = self.ns_stack[-1]
        decls = {(k[6:] if k != "xmlns" else ""): v for k, v in attrs.items()
                 if k == "xmlns" or k.startswith("xmlns:")}
        if decls:
            mapping = {**mapping, **decls}
        self.ns_stack.append(mapping)
        depth = len(self.names)
        ns, local = self._resolve(name)
        self.names.append((ns, local))
        capture = self.captures[-1] if self.captures else None
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
                    raise _StopScan
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
        self.captures.append(capture)

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

    def _end(self, name: str) -> None:
        self.ns_stack.pop()
        self.captures.pop()
        ns, local = self.names.pop()
        depth = len(self.names)
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

    def _finish(self, entry: _Entry) -> _Found | None:
        post_id = "".join("".join(entry.id).split())
        btype = _text(entry.btype)
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
        if not is_post:
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
            id=post_id,
            url=url,
            title=title,
            published=_text(entry.published),
            updated=_text(entry.updated),
            labels=entry.other_terms if takeout else entry.labels,
            html="".join(entry.content),
            line=entry.line,
        )
        return _Found(post, entry.content_type or "text", entry.content_start, entry.content_end)


def _is(ns: str | None, local: str, want_ns: str | tuple[str, ...], want_local: str) -> bool:
    # None means "no namespace known" (unbound prefix, or no default namespace): match by local name alone.
    if local != want_local:
        return False
    return ns is None or ns == want_ns or (isinstance(want_ns, tuple) and ns in want_ns)


def _is_alternate(attrs: dict[str, str]) -> bool:
    return attrs.get("rel", "alternate") == "alternate" and attrs.get("type", "text/html") == "text/html"


def _scan(scanner: _Scanner, path) -> Iterator[_Found]:
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK_SIZE):
            scanner.feed(chunk)
            yield from scanner.take()
    scanner.feed(b"", final=True)
    yield from scanner.take()


# --- public reading API --------------------------------------------------------------------------------


def read_export(path, warn: Callable[[str], None] | None = None) -> Iterator[Post]:
    """Every published post of the export, in file order, read in 64 KiB chunks (memory stays flat).

    Bad XML raises ExportError when the reading reaches it, possibly after some posts were yielded."""
    for found in _scan(_Scanner(path, warn), path):
        yield found.post


def feed_info(path) -> dict:
    """The feed's title, blog URL, blog id and layout, from the part of the file before the first entry."""
    scanner = _Scanner(path, lambda message: None, stop_at_entry=True)
    try:
        for _ in _scan(scanner, path):
            pass
    except _StopScan:
        pass
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
    wanted = {post_id: dict(changes) for post_id, changes in replacements.items() if changes}
    src_path, dst_path = Path(src_path), Path(dst_path)
    with open(src_path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        data = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) if size else b""
        try:
            edits = _plan_edits(src_path, data, wanted)
            _write_atomically(src_path, dst_path, data, edits)
        finally:
            if isinstance(data, mmap.mmap):
                data.close()
    return len(edits)


def _plan_edits(src_path: Path, data, wanted: dict[str, dict[int, str]]) -> list[tuple[int, int, bytes]]:
    scanner = _Scanner(src_path, lambda message: None)
    edits: list[tuple[int, int, bytes]] = []
    seen: set[str] = set()
    for start in range(0, len(data) + 1, CHUNK_SIZE):
        final = start + CHUNK_SIZE > len(data)
        scanner.feed(data[start:start + CHUNK_SIZE], final=final)
        for found in scanner.take():
            if found.post.id in wanted:
                seen.add(found.post.id)
                edits += _content_edits(data, found, wanted[found.post.id], scanner.encoding, src_path)
    missing = sorted(set(wanted) - seen)
    if missing:
        raise KeyError(f"{src_path}: no published post with id {', '.join(missing)}")
    return sorted(edits)


def _content_edits(data, found: _Found, changes: dict[int, str], encoding: str, src_path) -> list:
    post = found.post
    _check_patchable_encoding(encoding)
    if found.content_start is None:
        raise ValueError(f"{src_path}: post {post.id} has no content element")
    tag_end = _start_tag_end(data, found.content_start)
    if data[tag_end - 1:tag_end] == b"/" or found.content_end is None:
        raw_start = raw_end = tag_end + 1
    else:
        raw_start, raw_end = tag_end + 1, found.content_end
    raw = bytes(data[raw_start:raw_end]).decode(encoding)

    if found.content_type == "xhtml":
        # The raw span is markup itself; read_export rebuilt it from events, so it is scanned as written.
        decoded, starts, ends, cdata = raw, range(len(raw)), range(1, len(raw) + 1), bytes(len(raw))
        contexts = ("markup", "markup")
    else:
        decoded, starts, ends, cdata = _decode_raw(raw)
        if decoded != post.html:
            raise ValueError(f"{src_path}:{post.line}: the content of post {post.id} could not be mapped back "
                             "to the file's bytes; not patching it")
        contexts = ("text", "cdata")
    anchors = scan_anchors(decoded)
    # An inserted attribute quotes its value the way this post's other hrefs are quoted in the file.
    quote_spelling = '"'
    if contexts[0] == "text" and any(
            a.quote == '"' and raw[starts[a.href_span[0] - 1]:ends[a.href_span[0] - 1]] == "&quot;"
            for a in anchors if a.href_span):
        quote_spelling = "&quot;"
    raw_edits: list[tuple[int, int, str]] = []
    for index, url in sorted(changes.items()):
        if not isinstance(index, int) or not 0 <= index < len(anchors):
            raise ValueError(f"{src_path}:{post.line}: post {post.id} has no anchor {index!r} "
                             f"(it has {len(anchors)})")
        anchor = anchors[index]
        if anchor.href == url:
            continue
        if anchor.href_span is None:
            # Insert the attribute right after "<a".
            at = anchor.tag_span[0] + 1
            context = contexts[cdata[at]]
            q = quote_spelling if context == "text" else '"'
            raw_edits.append((ends[at], ends[at], f" href={q}{_escape_href(url, chr(34), context)}{q}"))
            continue
        s, e = anchor.href_span
        if s == e:  # empty value: insert before the closing quote
            context = contexts[cdata[s]]
            raw_edits.append((starts[s], starts[s], _escape_href(url, anchor.quote, context)))
            continue
        if cdata[s] != cdata[e - 1] or "<![CDATA[" in raw[starts[s]:ends[e - 1]]:
            raise ValueError(f"{src_path}:{post.line}: post {post.id} anchor {index}: the href straddles a "
                             "CDATA section boundary; not patching it")
        context = contexts[cdata[s]]
        value = _escape_href(url, anchor.quote, context)
        if anchor.quote == "" and (not url or re.search(r"[\s\"'=<>`]", url)):
            q = quote_spelling if context == "text" else '"'
            value = q + _escape_href(url, '"', context) + q
        raw_edits.append((starts[s], ends[e - 1], value))

    # Raw string offsets -> byte offsets, encoding only the stretches between edits.
    edits = []
    byte_pos, char_pos = raw_start, 0
    for i, j, text in sorted(raw_edits):
        bi = byte_pos + len(raw[char_pos:i].encode(encoding))
        bj = bi + len(raw[i:j].encode(encoding))
        edits.append((bi, bj, text.encode(encoding, "xmlcharrefreplace")))
        byte_pos, char_pos = bj, j
    return edits


def _check_patchable_encoding(encoding: str) -> None:
    # Byte offsets and the '>' scan assume markup characters are single ASCII bytes (true of UTF-8, Latin-1...).
    probe = "<>&;\"'/"
    try:
        ok = probe.encode(encoding) == probe.encode("ascii")
    except (LookupError, UnicodeError):
        ok = False
    if not ok:
        raise ValueError(f"cannot patch a file in encoding {encoding!r} (ASCII-compatible encodings only)")


def _start_tag_end(data, start: int) -> int:
    """Offset of the '>' closing the start tag at `start`, skipping '>' inside quoted attribute values."""
    quote = None
    i = start + 1
    n = len(data)
    while i < n:
        c = data[i]
        if quote is not None:
            if c == quote:
                quote = None
        elif c in (0x22, 0x27):
            quote = c
        elif c == 0x3E:
            return i
        i += 1
    raise ValueError(f"unterminated start tag at byte {start}")


_RAW_TOKEN = re.compile(
    r"<!\[CDATA\[(?P<cdata>.*?)\]\]>|<!--.*?-->|<\?.*?\?>|<(?:[^>\"']|\"[^\"]*\"|'[^']*')*>"
    r"|&(?P<ref>#[0-9]+|#x[0-9a-fA-F]+|[A-Za-z_][\w.-]*);|(?P<cr>\r\n?)",
    re.DOTALL,
)
_CR = re.compile(r"\r\n?")
_XML_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}


def _decode_raw(raw: str) -> tuple[str, array, array, bytearray]:
    """The character data an XML parser reports for `raw` (element content as written in the file), with,
    for each decoded character, the span of raw characters that spelled it and whether it sat in CDATA."""
    out: list[str] = []
    starts, ends, cdata = array("q"), array("q"), bytearray()

    def plain(a: int, b: int, in_cdata: int) -> None:
        # Line ends are normalised to "\n" by XML parsers, so "\r\n" is one decoded character.
        pos = a
        for m in _CR.finditer(raw, a, b):
            out.append(raw[pos:m.start()])
            starts.extend(range(pos, m.start()))
            ends.extend(range(pos + 1, m.start() + 1))
            out.append("\n")
            starts.append(m.start())
            ends.append(m.end())
            pos = m.end()
        out.append(raw[pos:b])
        starts.extend(range(pos, b))
        ends.extend(range(pos + 1, b + 1))
        cdata.extend(bytes([in_cdata]) * (len(starts) - len(cdata)))

    pos = 0
    for m in _RAW_TOKEN.finditer(raw):
        plain(pos, m.start(), 0)
        pos = m.end()
        if m.group("cdata") is not None:
            plain(m.start("cdata"), m.end("cdata"), 1)
        elif m.group("ref") is not None:
            ref = m.group("ref")
            if ref.startswith("#x"):
                char = chr(int(ref[2:], 16))
            elif ref.startswith("#"):
                char = chr(int(ref[1:]))
            elif ref in _XML_ENTITIES:
                char = _XML_ENTITIES[ref]
            else:
                raise ValueError(f"unexpected entity reference &{ref}; in content")
            out.append(char)
            starts.append(m.start())
            ends.append(m.end())
            cdata.append(0)
        elif m.group("cr") is not None:
            plain(m.start(), m.end(), 0)
        # comments, processing instructions and tags contribute no character data
    plain(pos, len(raw), 0)
    return "".join(out), starts, ends, cdata


def _escape_href(url: str, quote: str, context: str) -> str:
    """`url` as an HTML attribute value in `quote`, spelled for where it lands in the file: XML character data
    ('text'), a CDATA section ('cdata'), or real XML markup ('markup', for type='xhtml' content)."""
    value = url.replace("&", "&amp;")
    if quote == '"':
        value = value.replace('"', "&quot;")
    elif quote == "'":
        value = value.replace("'", "&#39;")
    if context == "text":
        return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if context == "cdata":
        return value.replace("]]>", "]]&gt;")
    return value.replace("<", "&lt;")


def _write_atomically(src_path: Path, dst_path: Path, data, edits: list[tuple[int, int, bytes]]) -> None:
    # Keep the mode of the file being replaced, or the source's (made owner-writable) for a new file.
    mode_of = dst_path if dst_path.exists() else src_path
    mode = (os.stat(mode_of).st_mode & 0o777) | (0 if mode_of is dst_path else 0o200)
    fd, tmp = tempfile.mkstemp(prefix=f".{dst_path.name}.", suffix=".tmp", dir=dst_path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            pos = 0
            for start, end, replacement in edits:
                _copy(out, data, pos, start)
                out.write(replacement)
                pos = end
            _copy(out, data, pos, len(data))
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, dst_path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _copy(out, data, start: int, end: int) -> None:
    step = 1 << 20
    for pos in range(start, end, step):
        out.write(data[pos:min(pos + step, end)])
