"""Changing chosen hrefs of a post in place, whatever the file format around it.

A post's HTML sits in a file spelled in some container syntax (XML character data, a CDATA section, XHTML
markup, a JSON string). Each format decodes the raw span to the HTML with, for every decoded character, the raw
span that spelled it (`starts`, `ends`) and the container context it sat in. `href_edits` then finds the anchors
in the decoded HTML and turns each replacement into an edit of the raw text, escaped for where it lands;
`byte_edits` turns those into byte edits and `copy_with_edits` copies the file with only those bytes changed.
"""

from __future__ import annotations

import json
import mmap
import os
import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from linkkeeper.files import write_atomically
from linkkeeper.text.html import scan_anchors
from linkkeeper.text.urls import link_refusal as refusal

# Container contexts: how text inside the post's HTML is spelled in the file.
TEXT = "text"  # XML character data: & < > are escaped once more
CDATA = "cdata"  # an XML CDATA section: only "]]>" cannot appear
MARKUP = "markup"  # type='xhtml' Atom content: the XML is the HTML
JSON = "json"  # the inside of a JSON string
HTML = "html"  # no container: the HTML itself (rows from the store)

RawEdit = tuple[int, int, str]  # (start, end, text) in raw-string offsets
ByteEdit = tuple[int, int, bytes]


class Href(str):
    """A new href that also sets attributes on its anchor (the Robust Links `data-originalurl`,
    `data-versionurl`, `data-versiondate`, export's `robust_links`): an attribute already there is given the
    new value, a missing one is added after `<a`."""

    attributes: tuple[tuple[str, str], ...]

    def __new__(cls, url: str, attributes: tuple[tuple[str, str], ...] = ()) -> "Href":
        href = super().__new__(cls, url)
        href.attributes = tuple(attributes)
        return href


# One attribute of a start tag: its name and, if it has one, its value (as HTML spells them).
_ATTRIBUTE = re.compile(r"""\s+([^\s"'>/=]+)(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>]*))?""")


def href_edits(decoded: str, starts: Sequence[int], ends: Sequence[int], context_at: Callable[[int], str],
               changes: dict[int, str], *, where: str, post_id: str, raw: str | None = None,
               quote_spelling: str = '"', ascii_only: bool = False) -> list[RawEdit]:
    """The raw edits that put `changes` ({anchor index: new href}) into the post whose decoded HTML is
    `decoded`. `quote_spelling` is how an added attribute quote is written in XML text ('"' or '&quot;',
    following the post's other hrefs); `ascii_only` keeps a JSON string ASCII (\\u escapes) when it was."""
    anchors = scan_anchors(decoded)
    edits: list[RawEdit] = []
    for index, url in sorted(changes.items()):
        if not isinstance(index, int) or not 0 <= index < len(anchors):
            raise ValueError(f"{where}: post {post_id} has no anchor {index!r} (it has {len(anchors)})")
        refused = refusal(url)
        if refused:
            raise ValueError(f"{where}: post {post_id} anchor {index}: the replacement {str(url)[:200]!r} is refused "
                             f"({refused}); nothing was written")
        anchor = anchors[index]
        at = anchor.tag_span[0] + 1  # the "a" of "<a": what is added goes right after it
        added = ""
        if getattr(url, "attributes", ()):
            replaced, added = _attribute_edits(decoded, anchor.tag_span, url.attributes, starts, ends, context_at,
                                               quote_spelling, ascii_only, f"{where}: post {post_id} anchor {index}")
            edits += replaced
        if anchor.href == url:
            if added:
                edits.append((ends[at], ends[at], added))
            continue
        if anchor.href_span is None:
            context = context_at(at)
            q = _quote(context, quote_spelling)
            edits.append((ends[at], ends[at], f" href={q}{escape_href(url, chr(34), context, ascii_only)}{q}{added}"))
            continue
        s, e = anchor.href_span
        if s == e:  # empty value: insert before the closing quote (and what is added, after it)
            value = escape_href(url, anchor.quote, context_at(s), ascii_only)
            closing = _spelt(decoded, s, starts, ends, raw, context_at(s)) if added else ""
            edits.append((starts[s], ends[s] if added else starts[s], value + closing + added))
            continue
        context = context_at(s)
        if (any(context_at(k) != context for k in range(s + 1, e))
                or (raw is not None and "<![CDATA[" in raw[starts[s]:ends[e - 1]])):
            raise ValueError(f"{where}: post {post_id} anchor {index}: the href straddles a CDATA section "
                             "boundary; not patching it")
        value = escape_href(url, anchor.quote, context, ascii_only)
        if anchor.quote == "" and (not url or re.search(r"[\s\"'=<>`]", url)):
            q = _quote(context, quote_spelling)
            value = q + escape_href(url, '"', context, ascii_only) + q
        if added and anchor.quote:
            # What is added goes after the closing quote, in the same edit: one edit per anchor changed.
            edits.append((starts[s], ends[e], value + _spelt(decoded, e, starts, ends, raw, context) + added))
        else:
            edits.append((starts[s], ends[e - 1], value + added))
    return sorted(edits)


def _spelt(decoded: str, i: int, starts: Sequence[int], ends: Sequence[int], raw: str | None, context: str) -> str:
    """Decoded character i as the file spells it."""
    if raw is not None:
        return raw[starts[i]:ends[i]]
    return json.dumps(decoded[i])[1:-1] if context == JSON else decoded[i]


def _attribute_edits(decoded: str, tag_span: tuple[int, int], attributes: tuple[tuple[str, str], ...],
                     starts: Sequence[int], ends: Sequence[int], context_at: Callable[[int], str],
                     quote_spelling: str, ascii_only: bool, where: str) -> tuple[list[RawEdit], str]:
    """Edits giving the tag's existing attributes of these names their new values, and the text adding the
    missing ones (spelt for the container where "<a" is)."""
    tag_start, tag_end = tag_span
    found: dict[str, tuple[int, int]] = {}
    pos = tag_start + 2
    while pos < tag_end - 1:
        match = _ATTRIBUTE.match(decoded, pos, tag_end - 1)
        if not match:
            pos += 1  # a "/" or a stray quote: not an attribute
            continue
        found.setdefault(match.group(1).lower(), (match.start(), match.end()))
        pos = match.end()

    def spelt(name: str, value: str, context: str) -> str:
        q = _quote(context, quote_spelling)
        return f" {name}={q}{escape_href(value, chr(34), context, ascii_only)}{q}"

    edits: list[RawEdit] = []
    added = []
    for name, value in attributes:
        span = found.get(name.lower())
        if span is None:
            added.append(spelt(name, value, context_at(tag_start + 1)))
            continue
        s, e = span
        context = context_at(s)
        if any(context_at(k) != context for k in range(s + 1, e)):
            raise ValueError(f"{where}: its {name} straddles a CDATA section boundary; not patching it")
        edits.append((starts[s], ends[e - 1], spelt(name, value, context)))
    return edits, "".join(added)


def _quote(context: str, spelling: str) -> str:
    if context == TEXT:
        return spelling
    return '\\"' if context == JSON else '"'


def escape_href(url: str, quote: str, context: str, ascii_only: bool = False) -> str:
    """`url` as an HTML attribute value in `quote`, spelled for the container it lands in."""
    value = url.replace("&", "&amp;")
    if quote == '"':
        value = value.replace('"', "&quot;")
    elif quote == "'":
        value = value.replace("'", "&#39;")
    if context == TEXT:
        return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if context == CDATA:
        return value.replace("]]>", "]]&gt;")
    if context == MARKUP:
        return value.replace("<", "&lt;")
    if context == JSON:
        return json.dumps(value, ensure_ascii=ascii_only)[1:-1]
    return value


def byte_edits(raw: str, raw_start: int, edits: Iterable[RawEdit], encoding: str) -> list[ByteEdit]:
    """Raw-string edits -> byte edits, `raw` having been decoded from the bytes at `raw_start`. Only the
    stretches between edits are encoded (the file is never re-encoded as a whole)."""
    out = []
    byte_pos, char_pos = raw_start, 0
    for i, j, text in sorted(edits):
        bi = byte_pos + len(raw[char_pos:i].encode(encoding))
        bj = bi + len(raw[i:j].encode(encoding))
        out.append((bi, bj, text.encode(encoding, "xmlcharrefreplace")))
        byte_pos, char_pos = bj, j
    return out


def identity_map(text: str) -> tuple[range, range]:
    return range(len(text)), range(1, len(text) + 1)


def patch_html(html: str, changes: dict[int, str], *, post_id: str = "?") -> tuple[str, int]:
    """`html` with the given anchors' hrefs replaced (HTML escaping only), for rows taken from the store, and
    how many hrefs changed."""
    starts, ends = identity_map(html)
    edits = href_edits(html, starts, ends, lambda i: HTML, changes, where="store", post_id=post_id)
    out, pos = [], 0
    for i, j, text in edits:
        out += [html[pos:i], text]
        pos = j
    out.append(html[pos:])
    return "".join(out), len(edits)


def copy_with_edits(out, data, edits: list[ByteEdit]) -> None:
    pos = 0
    for start, end, replacement in sorted(edits):
        _copy(out, data, pos, start)
        out.write(replacement)
        pos = end
    _copy(out, data, pos, len(data))


def _copy(out, data, start: int, end: int) -> None:
    step = 1 << 20
    for pos in range(start, end, step):
        out.write(data[pos:min(pos + step, end)])


def patch_file(src_path, dst_path, plan: Callable[[bytes], list[ByteEdit]]) -> int:
    """Copy src_path to dst_path with the byte edits `plan(data)` returns (data is the file, memory-mapped).
    Nothing is written when `plan` raises. Returns the number of edits."""
    src_path, dst_path = Path(src_path), Path(dst_path)
    with open(src_path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        data = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) if size else b""
        try:
            edits = plan(data)
            write_atomically(dst_path, lambda out: copy_with_edits(out, data, edits), binary=True)
        finally:
            if isinstance(data, mmap.mmap):
                data.close()
    return len(edits)
