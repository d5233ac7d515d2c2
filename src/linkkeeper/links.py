"""Links in post HTML: the anchor scanner (with positions, so an export can rewrite one href in place), the
post trailer (Original Article link, `Source:` outlet, `Author:` line), nullified-link shapes and URL
normalisation. Knows nothing of the network."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

ORIGINAL_ANCHOR_TEXT = "original article"

# A start tag `<a ...>`, attributes possibly quoted with either quote and containing `>`.
_A_START = re.compile(r"""<a(?=[\s>/])(?:[^>"']|"[^"]*"|'[^']*')*>""", re.IGNORECASE)
_A_END = re.compile(r"</a\s*>", re.IGNORECASE)
_HREF = re.compile(r"""(?<![\w-])href\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""", re.IGNORECASE)
_TAG = re.compile(r"<[^>]*>")
_BLOCK_BREAK = re.compile(r"<\s*(?:br|/?p|/?div|/?li|/?h[1-6]|/?blockquote|/?tr)(?:\s[^>]*)?/?\s*>", re.IGNORECASE)
_SCRIPT_STYLE = re.compile(r"<(script|style)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
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


def scan_anchors(markup: str) -> list[Anchor]:
    """Every `<a>` start tag in document order, with its href (entity-decoded) and visible text."""
    anchors = []
    for index, start in enumerate(_A_START.finditer(markup)):
        tag = start.group(0)
        href = href_span = None
        quote = '"'
        m = _HREF.search(tag)
        if m:
            group = next(g for g in (1, 2, 3) if m.group(g) is not None)
            href = html.unescape(m.group(group))
            href_span = (start.start() + m.start(group), start.start() + m.end(group))
            quote = {1: '"', 2: "'", 3: ""}[group]
        end = _A_END.search(markup, start.end())
        next_start = _A_START.search(markup, start.end())
        stop = end.start() if end else len(markup)
        if next_start and next_start.start() < stop:
            stop = next_start.start()
        anchors.append(Anchor(index, href, html_to_text(markup[start.end():stop]), (start.start(), start.end()), href_span, quote))
    return anchors


def html_to_text(markup: str) -> str:
    """Visible text of an HTML fragment on one line, whitespace collapsed."""
    return _SPACE.sub(" ", html.unescape(_TAG.sub(" ", _SCRIPT_STYLE.sub(" ", markup)))).strip()


def html_to_lines(markup: str) -> list[str]:
    """Visible text split where the HTML breaks lines (br, p, div, ...); empty lines dropped."""
    broken = _BLOCK_BREAK.sub("\n", _SCRIPT_STYLE.sub(" ", markup))
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
    parts = urlsplit(value)
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


def normalize_url(url: str) -> str:
    """A canonical spelling for de-duplicating checks: lower-case scheme and host, IDN to punycode, default
    port dropped, empty path as "/", fragment removed. Path and query are kept as written (servers differ)."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = parts.hostname or ""
    try:
        host = host.encode("idna").decode("ascii") if host and not host.isascii() else host.lower()
    except UnicodeError:
        host = host.lower()
    if ":" in host:
        host = f"[{host}]"
    netloc = host
    if parts.port and _DEFAULT_PORTS.get(scheme) != parts.port:
        netloc = f"{host}:{parts.port}"
    if parts.username:
        auth = parts.username + (f":{parts.password}" if parts.password else "")
        netloc = f"{auth}@{netloc}"
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()
