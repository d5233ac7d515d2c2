"""HTML as the rest of linkkeeper reads it: the anchor scanner (with positions, so an export can rewrite one
href in place), visible text and lines, a page's title, first heading and canonical link. Pure functions in
linear time over text written by strangers; no I/O."""

from __future__ import annotations

import html
import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from urllib.parse import urljoin

# A start tag `<a ...>`, attributes possibly quoted with either quote and containing `>`. The definition of
# an anchor's start tag; _a_start_tags finds exactly its matches without its worst case (the tests compare).
_A_START = re.compile(r"""<a(?=[\s>/])(?:[^>"']|"[^"]*"|'[^']*')*>""", re.IGNORECASE)
_A_END = re.compile(r"</a\s*>", re.IGNORECASE)
_HREF = re.compile(r"""(?<![\w-])href\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""", re.IGNORECASE)
_TAG = re.compile(r"<[^>]*>")
_BLOCK_BREAK = re.compile(r"<\s*(?:br|/?p|/?div|/?li|/?h[1-6]|/?blockquote|/?tr)(?:\s[^>]*)?/?\s*>", re.IGNORECASE)
_SCRIPT_STYLE_OPEN = re.compile(r"<(script|style)\b", re.IGNORECASE)
_SCRIPT_STYLE_CLOSE = {"script": re.compile(r"</script\s*>", re.IGNORECASE),
                       "style": re.compile(r"</style\s*>", re.IGNORECASE)}
_SCRIPT_OPEN = re.compile(r"<(script)\b", re.IGNORECASE)
_STYLE_OPEN = re.compile(r"<(style)\b", re.IGNORECASE)
_A_OPEN = re.compile(r"<a(?=[\s>/])", re.IGNORECASE)
_TAG_SPECIAL = re.compile(r"[>\"']")


@dataclass(frozen=True)
class Anchor:
    """One `<a>` element of a post's HTML. Offsets index the HTML string the anchor was found in.

    `href_span` is the span of the attribute value (inside its quotes); None when the tag has no href.
    `tag_span` is the span of the start tag, so an href can be inserted where there is none.
    """

    index: int
    href: str | None
    text: str
    tag_span: tuple[int, int]
    href_span: tuple[int, int] | None
    quote: str


def _a_start_tags(markup: str) -> list[tuple[int, int]]:
    """The spans `_A_START.finditer(markup)` yields, found in O(n log n).

    The regex itself retries from every `<a ` and, when no `>` closes the tag, scans to the end each time: a
    post of 300 000 unclosed `<a ` tags would take hours. Its match is deterministic, though: from a position
    outside quotes, the next `>`, `"` or `'` decides (a `>` ends the tag, a quote jumps past its partner, and
    an unpartnered quote or the end of the text fails it), so each such position's outcome is computed once.
    """
    specials = [m.start() for m in _TAG_SPECIAL.finditer(markup)]
    partners = {q: [p for p in specials if markup[p] == q] for q in "\"'"}
    outcome: dict[int, int] = {}  # position of a special character -> the '>' ending the tag, or -1

    def tag_end(pos: int) -> int:
        path, result = [], -1
        while True:
            i = bisect_left(specials, pos)
            if i == len(specials):
                break
            t = specials[i]
            if t in outcome:
                result = outcome[t]
                break
            path.append(t)
            if markup[t] == ">":
                result = t
                break
            same = partners[markup[t]]
            j = bisect_right(same, t)
            if j == len(same):
                break
            pos = same[j] + 1
        for t in path:
            outcome[t] = result
        return result

    spans: list[tuple[int, int]] = []
    pos = 0
    for m in _A_OPEN.finditer(markup):
        if m.start() < pos:
            continue
        end = tag_end(m.end())
        if end >= 0:
            spans.append((m.start(), end + 1))
            pos = end + 1
    return spans


def scan_anchors(markup: str) -> list[Anchor]:
    """Every `<a>` start tag in document order, with its href (entity-decoded) and visible text.

    Linear-ish in the size of the markup whatever it holds (see _a_start_tags)."""
    anchors = []
    starts = _a_start_tags(markup)
    closes = [m.start() for m in _A_END.finditer(markup)]
    for index, (tag_start, tag_end) in enumerate(starts):
        tag = markup[tag_start:tag_end]
        href = href_span = None
        quote = '"'
        m = _HREF.search(tag)
        if m:
            group = next(g for g in (1, 2, 3) if m.group(g) is not None)
            href = html.unescape(m.group(group))
            href_span = (tag_start + m.start(group), tag_start + m.end(group))
            quote = {1: '"', 2: "'", 3: ""}[group]
        i = bisect_left(closes, tag_end)
        stop = closes[i] if i < len(closes) else len(markup)
        if index + 1 < len(starts) and starts[index + 1][0] < stop:
            stop = starts[index + 1][0]
        anchors.append(Anchor(index, href, html_to_text(markup[tag_end:stop]), (tag_start, tag_end), href_span, quote))
    return anchors


def _drop_script_style(markup: str, replacement: str = " ") -> str:
    """`<script>...</script>` and `<style>...</style>` replaced, as `<(script|style)\\b.*?</\\1\\s*>` would,
    in linear time: once a kind has no closing tag left, its later openings are not looked at again."""
    out: list[str] = []
    pos = search_from = 0
    opening = _SCRIPT_STYLE_OPEN
    while True:
        m = opening.search(markup, search_from)
        if not m:
            break
        kind = m.group(1).lower()
        close = _SCRIPT_STYLE_CLOSE[kind].search(markup, m.end())
        if close is None:
            if opening is not _SCRIPT_STYLE_OPEN:
                break
            opening = _STYLE_OPEN if kind == "script" else _SCRIPT_OPEN
            search_from = m.start() + 1
            continue
        out += [markup[pos:m.start()], replacement]
        pos = search_from = close.end()
    out.append(markup[pos:])
    return "".join(out)


def _sub_tags(pattern: re.Pattern, replacement: str, markup: str) -> str:
    """pattern.sub for a tag pattern that ends at a '>' and has no other '>' in it. A '<' with no '>' after it
    makes such a regex scan to the end from every later '<' (quadratic); past the last '>' there is no match
    to find, so that tail is left out of the search."""
    last = markup.rfind(">")
    return pattern.sub(replacement, markup[:last + 1]) + markup[last + 1:]


def html_to_text(markup: str) -> str:
    """Visible text of an HTML fragment on one line, whitespace collapsed (by split and join: the same
    Unicode whitespace as `\\s+`, a third of its time on a page)."""
    return " ".join(html.unescape(_sub_tags(_TAG, " ", _drop_script_style(markup))).split())


def html_to_lines(markup: str) -> list[str]:
    """Visible text split where the HTML breaks lines (br, p, div, ...); empty lines dropped."""
    broken = _sub_tags(_BLOCK_BREAK, "\n", _drop_script_style(markup))
    lines = (html_to_text(part) for part in broken.split("\n"))
    return [line for line in lines if line]


_TITLE_OPEN = re.compile(r"<title[^>]*>", re.IGNORECASE)
_TITLE_CLOSE = re.compile(r"</title\s*>", re.IGNORECASE)
_H1_OPEN = re.compile(r"<h1(?=[\s>])[^>]*>", re.IGNORECASE)
_H1_CLOSE = re.compile(r"</h1\s*>", re.IGNORECASE)
_LINK_OPEN = re.compile(r"<link\b", re.IGNORECASE)
_REL_CANONICAL = re.compile(r"""\brel\s*=\s*["']?canonical["']?""", re.IGNORECASE)
_HREF_ATTR = re.compile(r"""\bhref\s*=\s*["']([^"']+)["']""", re.IGNORECASE)
_INPUT_OPEN = re.compile(r"<input\b", re.IGNORECASE)
_TYPE_PASSWORD = re.compile(r"""\btype\s*=\s*["']?password""", re.IGNORECASE)


def _element_text(markup: str, opening: re.Pattern, closing: re.Pattern) -> str | None:
    """The raw content of the first element `opening`...`closing`, as `<x[^>]*>(.*?)</x\\s*>` would find
    it, without that pattern's quadratic worst case (a page of unclosed tags rescanned to the end from each
    one): the opening is searched only up to the page's last `>`, and the closing once after it."""
    first = opening.search(markup, 0, markup.rfind(">") + 1)
    if not first:
        return None
    last = closing.search(markup, first.end())
    return markup[first.end():last.start()] if last else None


def page_title(markup: str) -> str | None:
    """The raw text of a page's first <title>, or None."""
    return _element_text(markup, _TITLE_OPEN, _TITLE_CLOSE)


def first_heading(markup: str) -> str | None:
    """The raw content of a page's first <h1>, or None."""
    return _element_text(markup, _H1_OPEN, _H1_CLOSE)


def has_password_input(markup: str) -> bool:
    """Whether the page has an `<input type=password>` (a login form), each <input> tag looked at once: the
    single pattern `<input\b[^>]*\btype=...password` rescans to the end of the page from every unclosed
    `<input` (100 KB of them took 26 s)."""
    pos = 0
    while m := _INPUT_OPEN.search(markup, pos):
        end = markup.find(">", m.end())
        if end < 0:
            end = len(markup)
        if _TYPE_PASSWORD.search(markup, m.end(), end):
            return True
        if end == len(markup):
            return False
        pos = end + 1
    return False


def canonical_url(markup: str, base: str) -> str | None:
    """The href of the first <link rel=canonical>, resolved against `base`; each <link> tag looked at once."""
    pos = 0
    while m := _LINK_OPEN.search(markup, pos):
        end = markup.find(">", m.end())
        if end < 0:
            return None
        tag = markup[m.start():end + 1]
        if _REL_CANONICAL.search(tag):
            href = _HREF_ATTR.search(tag)
            return urljoin(base, href.group(1)) if href else None
        pos = end + 1
    return None


# --- a page's main text -------------------------------------------------------------------------------------

# Elements whose text is never the page's own: navigation, mastheads, footers, and what only shows without
# scripts. Dropped with what they hold (nesting counted). Not <aside>: some sites put the article in one.
_CHROME_TAG = re.compile(r"<(/?)(nav|header|footer|noscript|template)(?=[\s>/])[^>]*>", re.IGNORECASE)
_A_TAG = re.compile(r"<a(?=[\s>/])[^>]*>|</a\s*>", re.IGNORECASE)
_BLOCK_TAG = re.compile(r"<\s*/?\s*(?:p|div|li|ul|ol|h[1-6]|blockquote|tr|td|th|table|section|article|main|"
                        r"figure|figcaption|dd|dt|dl|pre|form|br|hr|button|label|option)(?=[\s>/])[^>]*>",
                        re.IGNORECASE)
# A line of this many words or more reads as a paragraph (not a label, a button or a heading).
PARAGRAPH_WORDS = 12


@dataclass(frozen=True)
class MainText:
    """What a page says apart from its template: its lines of text outside navigation, header and footer,
    without the text of links (menus, related and most-read headlines); the words in all of
    them, and in the paragraph-like ones (PARAGRAPH_WORDS or more: an article's body, not a label)."""

    lines: tuple[str, ...]
    words: int
    paragraph_words: int

    @property
    def text(self) -> str:
        return " ".join(self.lines)


def _drop_spans(markup: str, pattern: re.Pattern, *, nested: bool) -> str:
    """The markup without each element `pattern` opens and closes (a tag starting `</`), in one pass over its
    tags; `nested` counts nesting (an <a> cannot nest). An element never closed is kept: a missing end tag
    must not take the rest of the page with it. (The pattern ends at a '>': searched only up to the last
    one, as _sub_tags does, a page of unclosed tags is not rescanned to its end from each.)"""
    out: list[str] = []
    pos = depth = 0
    start = -1
    for m in pattern.finditer(markup, 0, markup.rfind(">") + 1):
        if m.group(0)[1] != "/":
            if depth == 0:
                start = m.start()
            depth = depth + 1 if nested else 1
        elif depth:
            depth -= 1
            if depth == 0:
                out.append(markup[pos:start])
                out.append(" ")
                pos = m.end()
    out.append(markup[pos:])
    return "".join(out)


def main_text(markup: str) -> MainText:
    """The page's main text (MainText), in a few passes over the markup, linear whatever it holds. Meant for
    telling pages apart and reading what a page says of itself ("not found", an article of its own), never as
    the only evidence that an article is gone: extraction can miss an article written in odd markup."""
    cleaned = _drop_spans(_drop_spans(_drop_script_style(markup), _CHROME_TAG, nested=True), _A_TAG, nested=False)
    broken = _sub_tags(_BLOCK_TAG, "\n", cleaned)
    text = html.unescape(_sub_tags(_TAG, " ", broken))
    lines, words, paragraph = [], 0, 0
    for raw in text.split("\n"):
        parts = raw.split()
        if parts:
            lines.append(" ".join(parts))
            words += len(parts)
            if len(parts) >= PARAGRAPH_WORDS:
                paragraph += len(parts)
    return MainText(tuple(lines), words, paragraph)


def headline_links(markup: str, min_words: int = 4) -> int:
    """How many links of the page read like a headline (`min_words` words or more): a home page or a section
    front lists dozens. Each link looked at once; a link's text is read up to 2,000 characters."""
    count, start = 0, -1
    for m in _A_TAG.finditer(markup, 0, markup.rfind(">") + 1):
        if m.group(0)[1] != "/":
            start = m.end()
        elif start >= 0:
            inner = markup[start:min(m.start(), start + 2000)]
            if len(_sub_tags(_TAG, " ", inner).split(None, min_words)) >= min_words:
                count += 1
            start = -1
    return count
