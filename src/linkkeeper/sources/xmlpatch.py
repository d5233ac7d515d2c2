"""The XML machinery the XML formats (Blogger Atom, WordPress WXR) share: a streaming expat scanner with its
own namespace-prefix resolution and refusals, and the byte-exact patching of an element's content.

expat runs *without* its namespace processing: real exports use prefixes they never declare (`app:` in
Blogger exports, `excerpt:` in old WordPress ones), which namespace-aware parsers reject outright, so prefixes
are resolved here and an undeclared one is read leniently with a warning naming file, line and column.

Every XML document linkkeeper reads from outside goes through this scanner, the blog's live Atom feed included
(sources/feed.py): entity declarations and external DTDs are refused wherever they stand and whatever the
encoding, elements nest at most MAX_DEPTH deep, and the time is linear in the size (see `feed_chunks`).
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from xml.parsers import expat

from linkkeeper.text.html import scan_anchors
from linkkeeper.sources import patching
from linkkeeper.sources.common import ExportError, Post, UniqueIds, Warn, log

XML_NS = "http://www.w3.org/XML/1998/namespace"
CHUNK_SIZE = 64 * 1024
# What is read and handed to expat at once: pyexpat hands expat at most 1 MiB per call whatever it is given.
READ_SIZE = 1 << 20
MAX_TOKEN = 16 << 20
# Browsers stop building a page's tree at 512 levels; no export or feed comes near (an entry's XHTML content
# is a post's markup, a few dozen levels at most).
MAX_DEPTH = 512

# expat errors that, on the last (empty) feed, mean the text stopped before the document did.
_EARLY_END = {expat.errors.codes[m] for m in (expat.errors.XML_ERROR_NO_ELEMENTS, expat.errors.XML_ERROR_UNCLOSED_TOKEN,
                                              expat.errors.XML_ERROR_UNCLOSED_CDATA_SECTION)}


class StopScan(Exception):
    """Raised by a scanner that has read all it wanted (the header before the first post)."""


@dataclass
class Found:
    """A post as found by a scanner, with where its content element sits in the file (for patching)."""

    post: Post
    content_type: str  # "html", "text" or "xhtml"
    content_start: int | None  # byte offset of the content start tag's '<'
    content_end: int | None  # byte offset of the content end tag's '<'


def text_of(parts: list[str] | None) -> str | None:
    if parts is None:
        return None
    value = "".join(parts).strip()
    return value or None


class XmlScanner:
    """Feeds bytes to expat, keeps the namespace scopes and the element path, and hands each element to
    `start_element` / `end_element` with its namespace resolved. Text goes to the innermost capture list
    (`start_element` returns the capture for the element; by default it inherits its parent's).
    `take()` hands over the posts completed so far."""

    # Undeclared prefixes this format knows: prefix -> (namespace, how the warning describes it).
    KNOWN_PREFIXES: Mapping[str, tuple[str, str]] = {}

    def __init__(self, path, warn: Warn | None):
        self.path = str(path)
        self.warn = warn or log.warning
        self.parser = p = expat.ParserCreate()
        p.buffer_text = True
        p.buffer_size = CHUNK_SIZE
        # Never read external DTDs or entities; refuse entity declarations (entity-expansion attacks).
        p.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        p.EntityDeclHandler = self._entity_decl
        p.ExternalEntityRefHandler = lambda *args: 0
        p.SkippedEntityHandler = self._skipped_entity
        p.StartDoctypeDeclHandler = self._doctype
        p.XmlDeclHandler = self._xml_decl
        p.StartElementHandler = self._start
        p.EndElementHandler = self._end
        p.CharacterDataHandler = self._on_chars
        self.encoding = "utf-8"
        self.ns_stack: list[dict[str, str]] = [{"xml": XML_NS}]
        self.names: list[tuple[str | None, str]] = []
        self.captures: list[list[str] | None] = []
        self.warned: set[str] = set()
        self.done: list[Found] = []
        self.unique = UniqueIds(path, self.warn)
        self.events = 0  # element and text events so far (see feed_chunks)

    # feeding

    def feed(self, data: bytes, final: bool = False) -> None:
        try:
            self.parser.Parse(data, final)
        except expat.ExpatError as e:
            message = expat.ErrorString(e.code)
            if final and e.code in _EARLY_END:
                message += " (the file ends early: truncated?)"
            raise ExportError(self.path, e.lineno, e.offset + 1, message) from None

    def take(self) -> list[Found]:
        done, self.done = self.done, []
        return done

    def error(self, message: str) -> ExportError:
        p = self.parser
        return ExportError(self.path, p.CurrentLineNumber, p.CurrentColumnNumber + 1, message)

    @property
    def line(self) -> int:
        return self.parser.CurrentLineNumber

    @property
    def byte_index(self) -> int:
        return self.parser.CurrentByteIndex

    # refusals

    def _entity_decl(self, *args) -> None:
        raise self.error("entity declarations are refused (possible entity-expansion attack; no export or feed "
                         "declares a DTD)")

    def _skipped_entity(self, name: str, is_parameter_entity: bool) -> None:
        # Reached when a document names an external DTD that was (deliberately) not read.
        raise self.error(f"reference to undeclared entity '{name}' refused (external DTDs are not read)")

    def _doctype(self, name, sysid, pubid, has_internal_subset) -> None:
        # expat silently drops an attribute's reference to an entity an unread external DTD might define,
        # so such a DTD is refused outright: no export has one.
        if sysid or pubid:
            raise self.error(external_dtd_message(sysid or pubid))

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
            known = self.KNOWN_PREFIXES.get(prefix)
            if known:
                ns = known[0]
                if prefix not in self.warned:
                    self.warn(f"{where}: undeclared namespace prefix '{prefix}' (read as {known[1]})")
            elif prefix not in self.warned:
                self.warn(f"{where}: undeclared namespace prefix '{prefix}' (element read by its local name)")
            self.warned.add(prefix)
        return ns, local

    # element events

    def _start(self, name: str, attrs: dict[str, str]) -> None:
        self.events += 1
        if len(self.names) >= MAX_DEPTH:
            raise self.error(f"elements nested deeper than {MAX_DEPTH} levels; refused")
        mapping = self.ns_stack[-1]
        decls = {(k[6:] if k != "xmlns" else ""): v for k, v in attrs.items()
                 if k == "xmlns" or k.startswith("xmlns:")}
        if decls:
            mapping = {**mapping, **decls}
        self.ns_stack.append(mapping)
        depth = len(self.names)
        ns, local = self._resolve(name)
        self.names.append((ns, local))
        inherited = self.captures[-1] if self.captures else None
        self.captures.append(self.start_element(depth, ns, local, name, attrs, mapping, inherited))

    def _end(self, name: str) -> None:
        self.events += 1
        self.ns_stack.pop()
        self.captures.pop()
        ns, local = self.names.pop()
        self.end_element(len(self.names), ns, local)

    def _on_chars(self, data: str) -> None:
        self.events += 1
        self._chars(data)

    def _chars(self, data: str) -> None:
        target = self.captures[-1] if self.captures else None
        if target is not None:
            target.append(data)

    def start_element(self, depth: int, ns: str | None, local: str, name: str, attrs: dict[str, str],
                      mapping: dict[str, str], inherited: list[str] | None) -> list[str] | None:
        return inherited

    def end_element(self, depth: int, ns: str | None, local: str) -> None:
        pass


def is_(ns: str | None, local: str, want_ns, want_local: str) -> bool:
    """Whether (ns, local) names want_local in want_ns (a namespace, a tuple of them, or a predicate).
    ns None means "no namespace known" (an unbound prefix, or no default namespace): matched by local name."""
    if local != want_local:
        return False
    if ns is None or ns == want_ns:
        return True
    if isinstance(want_ns, tuple):
        return ns in want_ns
    return callable(want_ns) and want_ns(ns)


def feed_chunks(scanner: XmlScanner, read: Callable[[int], bytes]) -> Iterator[Found]:
    """Every post of what `read(size)` hands over, chunk by chunk until it hands over nothing.

    expat before 2.6 parses a token cut by the end of its input again from its start with every further
    piece, and pyexpat hands it at most 1 MiB at a time however much it is given: a start tag, comment or
    processing instruction of n megabytes costs n squared (64 MB: five seconds; a gigabyte: twenty minutes).
    No export or feed has a token of more than a few kilobytes, so more than MAX_TOKEN bytes without an
    element or any text is refused, which keeps the time linear in the size."""
    quiet = 0  # bytes read since the last element or text event
    while chunk := read(READ_SIZE):
        before = scanner.events
        scanner.feed(chunk)
        yield from scanner.take()
        quiet = 0 if scanner.events != before else quiet + len(chunk)
        if quiet > MAX_TOKEN:
            raise scanner.error(f"more than {MAX_TOKEN >> 20} MB without an element or text (one tag, comment "
                                "or processing instruction that long); refused")
    scanner.feed(b"", final=True)
    yield from scanner.take()


def scan_file(scanner: XmlScanner, path) -> Iterator[Found]:
    """Every post of the file, read in 1 MiB chunks (memory stays flat)."""
    with open(path, "rb") as fh:
        yield from feed_chunks(scanner, fh.read)


def scan_bytes(scanner: XmlScanner, data) -> Iterator[Found]:
    """Every post of a document held in memory or mapped (a page of the blog's feed, an export to patch)."""
    pos = 0

    def read(size: int) -> bytes:
        nonlocal pos
        chunk = data[pos:pos + size]  # a copy, so no view of a memory-mapped file outlives this
        pos += len(chunk)
        return chunk

    yield from feed_chunks(scanner, read)


def scan_header(scanner: XmlScanner, path) -> None:
    """Read until the scanner raises StopScan (or the file ends)."""
    try:
        for _ in scan_file(scanner, path):
            pass
    except StopScan:
        pass


# --- patching ------------------------------------------------------------------------------------------


def write_patched(src_path, dst_path, replacements: Mapping[str, Mapping[int, str]],
                  make_scanner: Callable[[object], XmlScanner]) -> int:
    """Copy an XML export to dst_path with the given hrefs replaced, every other byte unchanged.

    `replacements` maps a post id to {anchor index: new href}, the index being `Anchor.index` from
    `links.scan_anchors(post.html)`. Returns the number of hrefs changed. Nothing is written when a post id or
    an anchor index is not found."""
    wanted = {post_id: dict(changes) for post_id, changes in replacements.items() if changes}
    return patching.patch_file(src_path, dst_path, lambda data: _plan_edits(src_path, data, wanted, make_scanner))


def _plan_edits(src_path, data, wanted: dict[str, dict[int, str]], make_scanner) -> list[patching.ByteEdit]:
    scanner = make_scanner(src_path)
    edits: list[patching.ByteEdit] = []
    seen: set[str] = set()
    for found in scan_bytes(scanner, data):
        if found.post.id in wanted:
            seen.add(found.post.id)
            edits += content_edits(data, found, wanted[found.post.id], scanner.encoding, src_path)
    missing = sorted(set(wanted) - seen)
    if missing:
        raise KeyError(f"{src_path}: no published post with id {', '.join(missing)}")
    return sorted(edits)


def content_edits(data, found: Found, changes: dict[int, str], encoding: str, src_path) -> list[patching.ByteEdit]:
    """Byte edits that put `changes` into the content element of one found post."""
    post = found.post
    check_patchable_encoding(encoding)
    if found.content_start is None:
        raise ValueError(f"{src_path}: post {post.id} has no content element")
    tag_end = start_tag_end(data, found.content_start)
    if data[tag_end - 1:tag_end] == b"/" or found.content_end is None:
        raw_start = raw_end = tag_end + 1
    else:
        raw_start, raw_end = tag_end + 1, found.content_end
    raw = bytes(data[raw_start:raw_end]).decode(encoding)
    where = f"{src_path}:{post.line}"

    if found.content_type == "xhtml":
        # The raw span is markup itself; the reader rebuilt it from events, so it is scanned as written.
        decoded = raw
        starts, ends = patching.identity_map(raw)
        edits = patching.href_edits(decoded, starts, ends, lambda i: patching.MARKUP, changes, where=where,
                                    post_id=post.id, raw=raw)
    else:
        decoded, starts, ends, cdata = decode_raw(raw)
        if decoded != post.html:
            raise ValueError(f"{where}: the content of post {post.id} could not be mapped back to the file's "
                             "bytes; not patching it")
        contexts = (patching.TEXT, patching.CDATA)
        # An inserted attribute quotes its value the way this post's other hrefs are quoted in the file.
        quote_spelling = '"'
        if any(a.quote == '"' and raw[starts[a.href_span[0] - 1]:ends[a.href_span[0] - 1]] == "&quot;"
               for a in scan_anchors(decoded) if a.href_span):
            quote_spelling = "&quot;"
        edits = patching.href_edits(decoded, starts, ends, lambda i: contexts[cdata[i]], changes, where=where,
                                    post_id=post.id, raw=raw, quote_spelling=quote_spelling)
    return patching.byte_edits(raw, raw_start, edits, encoding)


def check_patchable_encoding(encoding: str) -> None:
    # Byte offsets and the '>' scan assume markup characters are single ASCII bytes (true of UTF-8, Latin-1...).
    probe = "<>&;\"'/"
    try:
        ok = probe.encode(encoding) == probe.encode("ascii")
    except (LookupError, UnicodeError):
        ok = False
    if not ok:
        raise ValueError(f"cannot patch a file in encoding {encoding!r} (ASCII-compatible encodings only)")


def start_tag_end(data, start: int) -> int:
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


def decode_raw(raw: str) -> tuple[str, array, array, bytearray]:
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


# --- sniffing -----------------------------------------------------------------------------------------


def external_dtd_message(identifier: str) -> str:
    return f"external DTD {identifier[:200]!r} refused (DTDs are never fetched; no export has one)"


class _Root(Exception):
    def __init__(self, name: str, attrs: dict[str, str], line: int, column: int):
        self.name, self.attrs, self.line, self.column = name, attrs, line, column


def root_element(path) -> tuple[str, dict[str, str], int, int]:
    """The root element's name (as written, prefix and all), attributes and position. The prolog before it
    (XML declaration, comments, a doctype) can be any length: WordPress writes a kilobyte of comments."""
    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)

    def refuse(*args):
        raise ExportError(path, parser.CurrentLineNumber, parser.CurrentColumnNumber + 1,
                          "entity declarations are refused (possible entity-expansion attack)")

    def start(name, attrs):
        raise _Root(name, attrs, parser.CurrentLineNumber, parser.CurrentColumnNumber + 1)

    def doctype(name, sysid, pubid, has_internal_subset):
        if sysid or pubid:
            raise ExportError(path, parser.CurrentLineNumber, parser.CurrentColumnNumber + 1,
                              external_dtd_message(sysid or pubid))

    parser.EntityDeclHandler = refuse
    parser.StartDoctypeDeclHandler = doctype
    parser.StartElementHandler = start
    try:
        with open(path, "rb") as fh:
            read = 0
            while chunk := fh.read(READ_SIZE):
                parser.Parse(chunk, False)
                read += len(chunk)
                if read > MAX_TOKEN:  # a prolog that long is one huge token (see feed_chunks)
                    raise ExportError(path, parser.CurrentLineNumber, parser.CurrentColumnNumber + 1,
                                      f"no root element in the first {MAX_TOKEN >> 20} MB; refused")
            parser.Parse(b"", True)
    except _Root as root:
        return root.name, root.attrs, root.line, root.column
    except expat.ExpatError as e:
        raise ExportError(path, e.lineno, e.offset + 1, expat.ErrorString(e.code)) from None
    raise ExportError(path, parser.CurrentLineNumber, parser.CurrentColumnNumber + 1, "no root element")
