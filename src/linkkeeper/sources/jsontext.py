"""JSON with positions: parsing that remembers where each string value and object sits in the text, and the
decoding of a raw JSON string with an offset map, so a post's HTML can be patched in place (every other byte
of the file kept) the way the XML formats are.

The standard library's pure-Python scanner does the parsing; only string values and objects are wrapped. What
it is handed is bounded first (text/jsonbounds.py: depth, number length), and a string value holding a lone
surrogate is refused where it stands.
"""

from __future__ import annotations

import json
import json.decoder
import json.scanner
import re
from array import array
from bisect import bisect_right

from linkkeeper.sources import patching
from linkkeeper.sources.common import ExportError
from linkkeeper.text import jsonbounds


class Str(str):
    """A string value with `span`: the raw text between its quotes is text[span[0]:span[1]]."""

    span: tuple[int, int]


class Obj(dict):
    """An object with `start`: the index of its '{'."""

    start: int


def _string(s: str, end: int, strict: bool) -> tuple[Str, int]:
    value, stop = json.decoder.scanstring(s, end, strict)
    if jsonbounds.has_surrogate(value):
        # Half a character: no UTF-8 encoder (SQLite's included) takes it, so it is refused here, not later.
        raise jsonbounds.surrogate_error(s, end)
    out = Str(value)
    out.span = (end, stop - 1)
    return out, stop


def _object(s_and_end, strict, scan_once, object_hook, object_pairs_hook, memo=None):
    s, end = s_and_end
    value, stop = json.decoder.JSONObject(s_and_end, strict, scan_once, object_hook, object_pairs_hook, memo)
    out = Obj(value)
    out.start = end - 1
    return out, stop


class _Decoder(json.JSONDecoder):
    def __init__(self) -> None:
        super().__init__()
        self.parse_string = _string
        self.parse_object = _object
        self.scan_once = json.scanner.py_make_scanner(self)


_WS = re.compile(r"[ \t\n\r]*")


def loads(text: str, start: int = 0):
    """json.loads of text[start:], with Str for string values and Obj for objects, their positions indexing
    `text`. Raises json.JSONDecodeError, also for what text/jsonbounds.py refuses."""
    jsonbounds.check(text, start)
    idx = _WS.match(text, start).end()
    value, end = _Decoder().raw_decode(text, idx)
    end = _WS.match(text, end).end()
    if end != len(text):
        raise json.JSONDecodeError("Extra data", text, end)
    return value


def string_edits(text: str, value: Str, changes: dict[int, str], *, where: str, post_id: str) -> list:
    """Raw edits (indexing `text`) that put `changes` into the HTML held by the JSON string `value`."""
    a, b = value.span
    raw = text[a:b]
    decoded, starts, ends = decode_raw(raw)
    if decoded != value:
        raise ValueError(f"{where}: the HTML of post {post_id} could not be mapped back to the file's text; "
                         "not patching it")
    # A file written with \u escapes for everything beyond ASCII stays that way.
    edits = patching.href_edits(decoded, starts, ends, lambda i: patching.JSON, changes, where=where,
                                post_id=post_id, ascii_only=raw.isascii())
    return [(i + a, j + a, t) for i, j, t in edits]


def decode_error(path, error: json.JSONDecodeError, *, line_offset: int = 0, column: bool = True) -> ExportError:
    return ExportError(path, error.lineno + line_offset, error.colno if column else None, error.msg)


def decode_text(path, data: bytes, *, line: int = 1) -> str:
    """Bytes -> text (JSON is UTF-8), or an ExportError at the first undecodable byte."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        before = data[:e.start]
        column = e.start - (before.rfind(b"\n") + 1) + 1
        raise ExportError(path, line + before.count(b"\n"), column, "not UTF-8 text") from None


class Lines:
    """Index -> (line, column) in a text, both from 1."""

    def __init__(self, text: str):
        self.starts = array("q", [0]) + array("q", (m.end() for m in re.finditer("\n", text)))

    def line(self, index: int) -> int:
        return bisect_right(self.starts, index)

    def column(self, index: int) -> int:
        return index - self.starts[self.line(index) - 1] + 1


_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
_BACKSLASH = re.compile(r"\\(?:u([0-9a-fA-F]{4})|(.))", re.DOTALL)


def decode_raw(raw: str) -> tuple[str, array, array]:
    """The value of the JSON string whose text between the quotes is `raw`, with for each decoded character
    the span of raw characters that spelled it."""
    out: list[str] = []
    starts, ends = array("q"), array("q")
    pos = 0
    pending_high = False  # the last character was a \uD800-\uDBFF escape, waiting for its low half
    for m in _BACKSLASH.finditer(raw):
        if m.start() > pos:
            out.append(raw[pos:m.start()])
            starts.extend(range(pos, m.start()))
            ends.extend(range(pos + 1, m.start() + 1))
            pending_high = False
        pos = m.end()
        if m.group(1) is not None:
            code = int(m.group(1), 16)
            if 0xDC00 <= code <= 0xDFFF and pending_high:
                # The low half of a surrogate pair: one character, spelled by both escapes.
                high = ord(out[-1])
                out[-1] = chr(0x10000 + ((high - 0xD800) << 10) + (code - 0xDC00))
                ends[-1] = m.end()
                pending_high = False
                continue
            char = chr(code)
            pending_high = 0xD800 <= code <= 0xDBFF
        else:
            char = _ESCAPES.get(m.group(2))
            if char is None:
                raise ValueError(f"invalid escape \\{m.group(2)} in a JSON string")
            pending_high = False
        out.append(char)
        starts.append(m.start())
        ends.append(m.end())
    if pos < len(raw):
        out.append(raw[pos:])
        starts.extend(range(pos, len(raw)))
        ends.extend(range(pos + 1, len(raw) + 1))
    return "".join(out), starts, ends
