"""Text similarity between what a post reproduces and a page or capture: word shingles and containment.

The blog reproduces an article's opening paragraphs, so the question is not "are these pages alike" but
"how much of the post's text does this page still contain" - containment of the post's shingles.
"""

from __future__ import annotations

import re
import zlib

from linkkeeper.text.html import html_to_text
from linkkeeper.text.normalize import normalize_text
from linkkeeper.text.trailer import Trailer, parse_trailer

_WORD = re.compile(r"\w+", re.UNICODE)
SHINGLE_WORDS = 4

def tokens(text: str) -> list[str]:
    """The words of a text as comparisons count them (normalize_text, then runs of letters and digits)."""
    return _WORD.findall(normalize_text(text))


def shingles(text: str, k: int = SHINGLE_WORDS) -> set[int]:
    tokens_ = tokens(text)
    if len(tokens_) < k:
        return {zlib.crc32(" ".join(tokens_).encode())} if tokens_ else set()
    return {zlib.crc32(" ".join(tokens_[i:i + k]).encode()) for i in range(len(tokens_) - k + 1)}


def containment(needle: str, haystack: str) -> float:
    """Share of the needle's shingles found in the haystack, 0..1 (0 when the needle has no words)."""
    a = shingles(needle)
    if not a:
        return 0.0
    return len(a & shingles(haystack)) / len(a)


def post_lead_text(content_html: str, trailer: Trailer | None = None) -> str:
    """The reproduced article text of a post: everything before its Original Article trailer (pass the
    trailer when it was already parsed)."""
    trailer = trailer or parse_trailer(content_html)
    body = content_html[:trailer.original.tag_span[0]] if trailer.original else content_html
    return html_to_text(body)


def page_text(markup: bytes | str, charset: str | None = None) -> str:
    if isinstance(markup, bytes):
        markup = markup.decode(charset or "utf-8", errors="replace")
    return html_to_text(markup)
