"""JSON written by strangers, read within bounds: the one check every JSON reader runs before parsing (the
export formats, the blog's JSON feed, the archives' answers).

Python's parsers recurse once per level of nesting (an array 200,000 deep ends in RecursionError), refuse an
integer of more than 4,300 digits with a bare ValueError, and hand a lone surrogate escape (`"\\ud800"`) back
as a string that no UTF-8 encoder, SQLite included, will take. `check` refuses all three up front, in one
linear pass, with json.JSONDecodeError (a ValueError carrying line and column), the error every caller
already turns into a message naming the file or the URL.
"""

from __future__ import annotations

import json
import re
from typing import Any

# No document linkkeeper reads nests deeper than about 6 (a feed's entry's link's attributes); browsers stop
# building a DOM at 512 levels. 100 is far above the first and keeps Python's recursion far below its limit.
MAX_DEPTH = 100
# Counts, ids and timestamps are at most a few dozen digits; Python refuses integers of more than 4,300.
MAX_DIGITS = 100

# A string (to its closing quote, or to the end when unterminated: each character is scanned once), an opening
# or closing bracket, or a run of too many digits outside strings (matched from the run's first digit only).
_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?|[\[{]|[\]}]|(?<![0-9])[0-9]{%d,}' % (MAX_DIGITS + 1), re.DOTALL)
# A \uD800-\uDFFF escape: preceded by an even number of backslashes (an odd one would escape the backslash).
_SURROGATE_ESCAPE = re.compile(r"(?<!\\)(?:\\\\)*\\u([dD][89a-fA-F][0-9a-fA-F]{2})")
_SURROGATE = re.compile("[\ud800-\udfff]")
LONE_SURROGATE = "a lone surrogate escape (half of a character, no text)"


def check(text: str, start: int = 0, *, max_depth: int = MAX_DEPTH) -> None:
    """Raise json.JSONDecodeError when `text[start:]` nests deeper than `max_depth` or holds a number of more
    than MAX_DIGITS digits. Linear in the text. (Lone surrogates are found in what the parser returns:
    `loads`, or the string hook of sources/jsontext.py.)"""
    depth = 0
    for m in _TOKEN.finditer(text, start):
        char = text[m.start()]
        if char in "[{":
            depth += 1
            if depth > max_depth:
                raise json.JSONDecodeError(f"nested deeper than {max_depth} levels", text, m.start())
        elif char in "]}":
            depth -= 1
        elif char != '"':
            raise json.JSONDecodeError(f"a number of more than {MAX_DIGITS} digits", text, m.start())


def has_surrogate(value: str) -> bool:
    """Whether a parsed string holds half of a character (a lone surrogate escape)."""
    return _SURROGATE.search(value) is not None


def surrogate_error(text: str, start: int = 0) -> json.JSONDecodeError:
    """The error for a lone surrogate escape in `text`, at the first one (the position found by reading every
    \\u escape: only done once the parsed value is known to hold one)."""
    pending = None  # (where a high half's escape starts, where it ends)
    for m in _SURROGATE_ESCAPE.finditer(text, start):
        escape = m.end() - 6
        high = int(m.group(1), 16) < 0xDC00
        if pending is not None:
            if not high and escape == pending[1]:
                pending = None  # the low half right after its high half: one character
                continue
            return json.JSONDecodeError(LONE_SURROGATE, text, pending[0])
        if not high:
            return json.JSONDecodeError(LONE_SURROGATE, text, escape)
        pending = (escape, m.end())
    return json.JSONDecodeError(LONE_SURROGATE, text, pending[0] if pending is not None else start)


def loads(text: str) -> Any:
    """json.loads after `check`, refusing lone surrogates too. Raises json.JSONDecodeError (a ValueError)."""
    check(text)
    value = json.loads(text)
    stack = [value]
    while stack:  # depth is bounded by now, but a loop needs no stack of frames at all
        item = stack.pop()
        if isinstance(item, str):
            if has_surrogate(item):
                raise surrogate_error(text)
        elif isinstance(item, dict):
            stack += item.keys()
            stack += item.values()
        elif isinstance(item, list):
            stack += item
    return value
