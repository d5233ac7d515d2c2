"""The end of a post: its Original Article link, the `Source:` outlet and `Author:` lines, the link rows a
post yields, and the shapes of a nullified link (no request needed to see them). Pure functions; no I/O."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from linkkeeper.text.html import Anchor, html_to_lines, scan_anchors
from linkkeeper.text.urls import normalize_url, same_blog

ORIGINAL_ANCHOR_TEXT = "original article"
_SPACE = re.compile(r"\s+")
_FIELD_LINE = re.compile(r"^\s*(source|author)\s*[:：]\s*(.*?)\s*$", re.IGNORECASE)


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
