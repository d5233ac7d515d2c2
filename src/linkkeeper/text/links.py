"""Links in post HTML: the anchor scanner (with positions, so an export can rewrite one href in place), the
post trailer (Original Article link, `Source:` outlet, `Author:` line), nullified-link shapes and URL
normalisation. Knows nothing of the network."""

from __future__ import annotations

import html
import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

ORIGINAL_ANCHOR_TEXT = "original article"

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
_SPACE = re.compile(r"\s+")
_FIELD_LINE = re.compile(r"^\s*(source|author)\s*[:：]\s*(.*?)\s*$", re.IGNORECASE)


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
    """Visible text of an HTML fragment on one line, whitespace collapsed."""
    return _SPACE.sub(" ", html.unescape(_sub_tags(_TAG, " ", _drop_script_style(markup)))).strip()


def html_to_lines(markup: str) -> list[str]:
    """Visible text split where the HTML breaks lines (br, p, div, ...); empty lines dropped."""
    broken = _sub_tags(_BLOCK_BREAK, "\n", _drop_script_style(markup))
    lines = (html_to_text(part) for part in broken.split("\n"))
    return [line for line in lines if line]


def is_original_anchor(anchor: Anchor) -> bool:
    return _SPACE.sub(" ", anchor.text).strip(" :.-").lower() == ORIGINAL_ANCHOR_TEXT


@dataclass(frozen=True)
class Trailer:
    """What the end of a post says about the article it reproduces."""

    original: Anchor | None
    outlet: str | None
    author: str | None


def parse_trailer(markup: str, anchors: list[Anchor] | None = None) -> Trailer:
    anchors = scan_anchors(markup) if anchors is None else anchors
    # The trailer is at the end: take the last "Original Article" anchor and read Source/Author after it.
    original = next((a for a in reversed(anchors) if is_original_anchor(a)), None)
    tail = markup[original.tag_span[0]:] if original else markup
    outlet = author = None
    for line in html_to_lines(tail):
        m = _FIELD_LINE.match(line)
        if not m:
            continue
        value = m.group(2).strip() or None
        if m.group(1).lower() == "source":
            outlet = value
        else:
            author = None if value in (None, "--", "-", "—") else value
    return Trailer(original, outlet, author)


def post_links(html: str, blog_hosts: frozenset[str]) -> tuple[list[dict], Trailer]:
    """The link rows of one post and its trailer: the Original Article link (role 'original') and every
    other anchor with an http(s) target (role 'outbound'). Nullified originals keep their raw href and a
    reason."""
    anchors = scan_anchors(html)
    trailer = parse_trailer(html, anchors)
    rows = []
    for anchor in anchors:
        is_original = trailer.original is not None and anchor.index == trailer.original.index
        reason = nullified_reason(anchor.href, blog_hosts)
        if not is_original and reason is not None:
            continue  # in-page anchors, mailto:, links to the blog itself: nothing to check or repair
        rows.append({
            "anchor_index": anchor.index,
            "role": "original" if is_original else "outbound",
            "url": anchor.href,
            "url_normalized": None if reason else normalize_url(anchor.href),
            "anchor_text": anchor.text[:500],
            "nullified_reason": reason,
        })
    return rows, trailer


# --- nullified links -----------------------------------------------------------------------------------

_NULL_HREFS = {"", "#", "http://", "https://", "http:", "https:", "about:blank", "/", "http:///", "https:///"}


def nullified_reason(href: str | None, blog_hosts: set[str] | frozenset[str] = frozenset()) -> str | None:
    """Why this href is a nullified link (no request needed), or None when it is a real target."""
    if href is None:
        return "no href"
    value = href.strip()
    if value.lower() in _NULL_HREFS:
        return f"empty href {value!r}" if value else "empty href"
    lowered = value.lower()
    if lowered.startswith("javascript:"):
        return "javascript: href"
    if lowered.startswith("#"):
        return "fragment-only href"
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises for a port that is no number, or out of range
    except ValueError as exc:
        return f"malformed href ({exc})"
    if parts.scheme and parts.scheme.lower() not in ("http", "https"):
        return f"{parts.scheme}: href"
    if not parts.scheme and not value.startswith("//"):
        return "relative href (points into the blog)"
    host = (parts.hostname or "").lower()
    if not host:
        return "href without host"
    if blog_hosts and same_blog(host, blog_hosts):
        return "href points back to the blog"
    return None


def blog_key(host: str) -> str:
    """The blog's identity behind Blogger's country-code aliases: democracyastray.blogspot.ca -> democracyastray.blogspot."""
    host = host.lower().rstrip(".")
    if host.startswith("www."):
        host = host[4:]
    m = re.match(r"^(.*\.blogspot)\.[a-z]{2,3}(?:\.[a-z]{2})?$", host)
    return m.group(1) if m else host


def same_blog(host: str, blog_hosts: set[str] | frozenset[str]) -> bool:
    key = blog_key(host)
    return any(blog_key(h) == key for h in blog_hosts)


# --- URLs ---------------------------------------------------------------------------------------------

_DEFAULT_PORTS = {"http": 80, "https": 443}
_TAB_NEWLINE = re.compile(r"[\t\r\n]")
_C0_AND_SPACE = "".join(map(chr, range(0x21))) + " \x85\xa0\u1680\u180e\u2000\u2001\u2002\u2003\u2004\u2005" \
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\x1c\x1d\x1e\x1f\x0b\x0c"


def normalize_url(url: str) -> str:
    """A canonical spelling for de-duplicating checks: lower-case scheme and host, IDN to punycode, default
    port dropped, empty path as "/", fragment removed. Path and query are kept as written (servers differ).

    Never raises: a URL urlsplit cannot read (bad brackets, a port that is no number) only loses its
    fragment. Idempotent: normalising twice gives what normalising once gave."""
    # What urlsplit would drop anyway (tabs and newlines anywhere, the fragment), and whitespace at the ends
    # that dropping it uncovers, goes first: parsing the result again must read the same parts.
    url = _TAB_NEWLINE.sub("", url).split("#", 1)[0].strip(_C0_AND_SPACE)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    host = parts.hostname or ""
    try:
        host = (host.encode("idna").decode("ascii") if host and not host.isascii() else host).lower()
    except UnicodeError:
        host = host.lower()
    if ":" in host:
        host = f"[{host}]"
    netloc = host
    if port and _DEFAULT_PORTS.get(scheme) != port:
        netloc = f"{host}:{port}"
    if parts.username:
        auth = parts.username + (f":{parts.password}" if parts.password else "")
        netloc = f"{auth}@{netloc}"
    path = parts.path or "/"
    if not netloc and path.startswith("//"):
        # urlunsplit would write "scheme://path", which reads back with the path's first segment as the host.
        out = f"{scheme + ':' if scheme else ''}//{path}{'?' + parts.query if parts.query else ''}"
    else:
        out = urlunsplit((scheme, netloc, path, parts.query, ""))
    # An empty query dropped from the end can uncover whitespace the next reading would strip.
    return out.strip(_C0_AND_SPACE)


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()
