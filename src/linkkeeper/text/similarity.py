"""Text similarity between what a post reproduces and a page or capture: word shingles and containment, the
lead's probes (a dozen distinctive word runs of a post's lead, looked for in a page as it came) and bounded
sketches of a page's opening words (to tell two pages apart without hashing whole pages).

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
    return _shingles_of(tokens(text), k)


def _shingles_of(tokens_: list[str], k: int = SHINGLE_WORDS) -> set[int]:
    if len(tokens_) < k:
        return {zlib.crc32(" ".join(tokens_).encode())} if tokens_ else set()
    return {zlib.crc32(" ".join(tokens_[i:i + k]).encode()) for i in range(len(tokens_) - k + 1)}


def containment(needle: str, haystack: str, *, normalized: bool = False) -> float:
    """Share of the needle's shingles found in the haystack, 0..1 (0 when the needle has no words);
    `normalized`: the haystack was already through normalize_text.

    The haystack (a whole page) is not hashed shingle by shingle: only the places where one of the needle's
    shingles could start (a word that starts one of them) are looked at."""
    needle_tokens = tokens(needle)
    a = _shingles_of(needle_tokens)
    if not a:
        return 0.0
    hay = _WORD.findall(haystack) if normalized else tokens(haystack)
    k = SHINGLE_WORDS
    if len(needle_tokens) < k or len(hay) < k:
        return len(a & _shingles_of(hay)) / len(a)
    starts = {needle_tokens[i] for i in range(len(needle_tokens) - k + 1)}
    found = set()
    for i, word in enumerate(hay[:len(hay) - k + 1]):
        if word in starts:
            h = zlib.crc32(" ".join(hay[i:i + k]).encode())
            if h in a:
                found.add(h)
    return len(found) / len(a)


# --- the lead's probes ----------------------------------------------------------------------------------------

PROBES = 12
# Three plain words (ASCII letters and digits only) standing alone between spaces.
_PROBE_RUN = re.compile(r"(?<!\S)[A-Za-z0-9]+ [A-Za-z0-9]+ [A-Za-z0-9]+(?!\S)")
_PROBE_MIN_CHARS = 14


def lead_probes(lead: str, count: int = PROBES) -> tuple[str, ...]:
    """Up to `count` distinctive runs of three words of a post's lead, spread over the whole lead, spelt as
    the lead spells them (case kept): runs of plain ASCII letters and digits only, so that a page's raw HTML
    holds them as they are whatever its entities, and at least 12 letters long, so that a template's
    boilerplate does not. A teaser of the article (its first sentence on a listing) holds only the first few."""
    candidates = [run for run in _PROBE_RUN.findall(" ".join(lead.split())) if len(run) >= _PROBE_MIN_CHARS]
    if len(candidates) <= count:
        return tuple(candidates)
    step = len(candidates) / count
    return tuple(candidates[int(k * step)] for k in range(count))


def joined_probes(lead: str) -> str:
    """A lead's probes as stored (posts.lead_probes): one per line (a probe is letters, digits and spaces)."""
    return "\n".join(lead_probes(lead))


def split_probes(stored: str) -> tuple[str, ...]:
    return tuple(stored.split("\n")) if stored else ()


def probes_needed(probes: tuple[str, ...]) -> int:
    """How many of a lead's probes a page must hold to plainly hold the lead: two thirds of them. A lead with
    fewer than 4 probes (short, or not in a Latin script) cannot be recognised this way (0: never)."""
    return 0 if len(probes) < 4 else -(-2 * len(probes) // 3)


def count_probes(haystack: str, probes: tuple[str, ...], *, casefold: bool = False) -> int:
    """How many of the probes the haystack holds, counted only as far as it matters: it stops once
    probes_needed are found (and says so) or too few are left to reach it, and looks for each next probe
    first just after the last one found (the lead's paragraphs follow each other in a page)."""
    needed = probes_needed(probes)
    if not needed:
        return 0
    found, last = 0, -1
    for k, probe in enumerate(probes):
        if casefold:
            probe = probe.casefold()
        at = haystack.find(probe, last, last + 20_000) if last >= 0 else -1
        if at < 0:
            at = haystack.find(probe)
        if at >= 0:
            found, last = found + 1, at
            if found >= needed:
                break
        if found + len(probes) - k - 1 < needed:
            break
    return found


def holds_probes(haystack: str, probes: tuple[str, ...], *, casefold: bool = False) -> bool:
    """Whether the haystack holds enough of the probes (probes_needed) to plainly hold the lead."""
    needed = probes_needed(probes)
    return bool(needed) and count_probes(haystack, probes, casefold=casefold) >= needed


# --- bounded sketches ----------------------------------------------------------------------------------------

SKETCH_WORDS = 300


def sketch(text: str, words: int = SKETCH_WORDS) -> frozenset[int]:
    """The shingles of a text's first `words` words: enough to tell two pages' texts apart, bounded whatever
    the page's length."""
    return frozenset(_shingles_of(_WORD.findall(normalize_text(text[:words * 12]))[:words]))


def resemblance(a: frozenset[int], b: frozenset[int]) -> float:
    """Jaccard similarity of two sketches (0 when either is empty)."""
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


# --- a post's text -------------------------------------------------------------------------------------------

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
