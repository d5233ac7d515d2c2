"""The public Blogger feed of a blog (`/feeds/posts/default`), read page by page into the same Post records
sources/blogger.py reads from an export file, so ingest stores both alike (the post ids are the same too:
`tag:blogger.com,1999:blog-<BLOGID>.post-<POSTID>`).

Two representations: Atom (the default) and JSON (`alt=json`: every text value under "$t", counts as
strings). Pages are asked for with `start-index` (1-based) and `max-results`.

Blogger ignores `updated-min` unless `orderby=updated` (Blogger Data API reference, query parameters), so an
incremental read asks for `orderby=updated`. A full read asks for `orderby=published`: an edit made while the
feed is being read moves the post to the front of an updated-ordered listing and can push another post across
a page boundary unseen, and a full read is the one that decides which posts were deleted.

The feed shows what readers see: drafts, scheduled and deleted posts are absent, and a blog whose feed is set
to "short" publishes summaries only, which is refused here (the trailer with the Original Article link is
gone from a summary, so every post would look as if it had lost its link).
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from typing import AsyncIterator, Callable
from urllib.parse import urlencode, urlsplit

import aiohttp
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_exponential_jitter

from linkkeeper.net.guard import AddressRefused
from linkkeeper.net.session import make_session
from linkkeeper.settings import Settings
from linkkeeper.sources import xmlpatch
from linkkeeper.sources.blogger import ATOM_NS, LABEL_SCHEME, AtomScanner
from linkkeeper.sources.common import ExportError, Post
from linkkeeper.sources.xmlpatch import is_ as _is, text_of
from linkkeeper.text import jsonbounds
from linkkeeper.text.html import html_to_text

FEED_PATH = "/feeds/posts/default"
FORMAT = "blogger-feed"
# Blogger's own default page size, and the most it hands out per request.
DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 500
# A page of 500 full posts is a few megabytes; anything far beyond that is not a Blogger feed.
MAX_PAGE_BYTES = 64 * 1024 * 1024
# With no count announced, a read stops here (a blog of a million posts would be a hundred times this one).
MAX_FEED_POSTS = 1_000_000

OPENSEARCH_NS = "http://a9.com/-/spec/opensearchrss/1.0/"
_BLOG_ID = re.compile(r"blog-(\d+)")
RETRY_STATUSES = {408, 425, 429, 500, 502, 503, 504}


class FeedError(Exception):
    """The feed could not be read. `transient` errors (network, 5xx, 429) may pass by the next run; the
    others (no Blogger feed there, a private blog, summaries only, an answer that is not a feed) need a person."""

    def __init__(self, message: str, *, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient


@dataclass
class FeedPage:
    """One answer of the feed: its posts, and what the feed says about the blog."""

    url: str
    start_index: int
    posts: list[Post] = field(default_factory=list)
    total_results: int | None = None
    title: str | None = None
    blog_url: str | None = None
    blog_id: str | None = None
    has_next: bool = False


def is_address(source: str) -> bool:
    return source.lower().startswith(("http://", "https://"))


def feed_base(address: str) -> str:
    """scheme://host[:port] of a blog address; the feed always lives at the root of the blog's host."""
    parts = urlsplit(address.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise FeedError(f"{address!r} is not a blog address (http:// or https://)")
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def feed_id(address: str) -> str:
    """The feed's identity in `sources.path`: one row per blog, whatever page of it was named."""
    return feed_base(address) + FEED_PATH


def page_url(address: str, *, start_index: int = 1, max_results: int = DEFAULT_PAGE_SIZE, fmt: str = "atom",
             updated_min: str | None = None) -> str:
    query: dict[str, str | int] = {}
    if fmt == "json":
        query["alt"] = "json"
    if updated_min:
        query.update({"orderby": "updated", "updated-min": updated_min})
    else:
        query["orderby"] = "published"
    query.update({"start-index": start_index, "max-results": max_results})
    return feed_id(address) + "?" + urlencode(query)


# --- parsing -----------------------------------------------------------------------------------------------

def _t(node) -> str | None:
    """A JSON feed value: {"$t": "..."} (or a bare string or number); None when absent or of another shape."""
    if isinstance(node, dict):
        node = node.get("$t")
    if not isinstance(node, (str, int, float)) or isinstance(node, bool):
        return None
    value = str(node).strip()
    return value or None


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _summaries_only(url: str) -> FeedError:
    return FeedError(f"{url}: the blog's feed publishes summaries only; set Settings > Site feed > "
                     f"Allow blog feed to Full (the Original Article links are not in a summary)")


def _title(text: str | None, kind: str | None) -> str | None:
    if text and kind in ("html", "xhtml"):
        return html_to_text(text) or None
    return text


def _objects(value, url: str, what: str) -> list[dict]:
    """A JSON feed's list of objects (a lone object counts as a list of one); anything else is no feed."""
    if value is None:
        return []
    items = [value] if isinstance(value, dict) else value
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise FeedError(f"{url}: not a Blogger JSON feed ({what} is not a list of objects)")
    return items


def _string(value) -> str | None:
    return value if isinstance(value, str) else None


def parse_json(data: bytes, url: str, start_index: int = 1) -> FeedPage:
    try:
        doc = jsonbounds.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:  # json.JSONDecodeError is a ValueError
        raise FeedError(f"{url}: not a Blogger JSON feed ({type(exc).__name__}: {exc})") from None
    feed = doc.get("feed") if isinstance(doc, dict) else None
    if not isinstance(feed, dict):
        raise FeedError(f'{url}: not a Blogger JSON feed (no "feed" object)')
    title = feed.get("title")
    page = FeedPage(url, start_index, title=_title(_t(title), title.get("type") if isinstance(title, dict) else None),
                    total_results=_int(_t(feed.get("openSearch$totalResults"))))
    page.blog_id = _blog_id(_t(feed.get("id")))
    for link in _objects(feed.get("link"), url, '"link"'):
        if link.get("rel") == "alternate" and link.get("type", "text/html") == "text/html":
            page.blog_url = _string(link.get("href"))
        if link.get("rel") == "next":
            page.has_next = True
    for entry in _objects(feed.get("entry"), url, '"entry"'):
        content = entry.get("content")
        if content is None:
            if entry.get("summary") is not None:
                raise _summaries_only(url)
            content = {"$t": ""}
        alternate = next((_string(link.get("href")) for link in _objects(entry.get("link"), url, 'an entry\'s "link"')
                          if link.get("rel") == "alternate" and link.get("type", "text/html") == "text/html"), None)
        title = entry.get("title")
        page.posts.append(Post(
            id="".join((_t(entry.get("id")) or "").split()),
            url=alternate,
            title=_title(_t(title), title.get("type") if isinstance(title, dict) else None),
            published=_t(entry.get("published")),
            updated=_t(entry.get("updated")),
            labels=[c["term"] for c in _objects(entry.get("category"), url, 'an entry\'s "category"')
                    if c.get("scheme", LABEL_SCHEME) == LABEL_SCHEME and isinstance(c.get("term"), str) and c["term"]],
            html=_string(content.get("$t") if isinstance(content, dict) else content) or "",
            line=0,  # no file: the feed has no lines to point at
        ))
    _check_ids(page)
    return page


class _AtomPageScanner(AtomScanner):
    """A page of the public Atom feed, read by the export's scanner (sources/xmlpatch.py: entity declarations
    and external DTDs refused wherever they stand and in any encoding, depth bounded, linear time) with what
    only the feed has: the total count, the rel="next" link, summaries. Every entry of the feed is a post."""

    def __init__(self, url: str) -> None:
        super().__init__(url, lambda message: None)
        self.unique = lambda post_id, line: post_id  # a feed's ids are the blog's; repeats are not renamed
        self.total: list[str] = []
        self.title_type: str | None = None
        self.has_next = False
        self.summary = False

    def start_element(self, depth, ns, local, name, attrs, mapping, inherited):
        if self.xhtml_depth is None:
            if depth == 1:
                if _is(ns, local, ATOM_NS, "entry"):
                    self.summary = False
                elif _is(ns, local, OPENSEARCH_NS, "totalResults"):
                    return self.total
                elif _is(ns, local, ATOM_NS, "title"):
                    self.title_type = attrs.get("type")
                elif _is(ns, local, ATOM_NS, "link") and attrs.get("rel") == "next":
                    self.has_next = True
            elif self.entry is not None and depth == self.entry.depth + 1 and _is(ns, local, ATOM_NS, "summary"):
                self.summary = True
        return super().start_element(depth, ns, local, name, attrs, mapping, inherited)

    def is_post(self, entry, post_id: str, btype: str | None) -> bool:
        if entry.content_type is None and self.summary:
            raise _summaries_only(self.path)
        return True


def parse_atom(data: bytes, url: str, start_index: int = 1) -> FeedPage:
    scanner = _AtomPageScanner(url)
    try:
        posts = [found.post for found in xmlpatch.scan_bytes(scanner, data)]
    except ExportError as exc:  # str(exc) is "URL:LINE:COLUMN: message"
        raise FeedError(f"{exc} (not a Blogger Atom feed, or one refused)") from None
    for post in posts:
        post.line = 0  # no file: the feed has no lines to point at
    page = FeedPage(url, start_index, posts=posts, title=_title(text_of(scanner.feed_title), scanner.title_type),
                    total_results=_int(text_of(scanner.total)), blog_url=scanner.blog_url,
                    blog_id=_blog_id(text_of(scanner.feed_id)), has_next=scanner.has_next)
    _check_ids(page)
    return page


def _blog_id(feed_id_text: str | None) -> str | None:
    m = _BLOG_ID.search(feed_id_text or "")
    return m.group(1) if m else None


def _check_ids(page: FeedPage) -> None:
    for post in page.posts:
        if not post.id:
            raise FeedError(f"{page.url}: an entry has no id")


# --- reading -----------------------------------------------------------------------------------------------

# A redirect to something else than an http(s) URL, an unreadable one, or too many of them.
UNFOLLOWABLE = (aiohttp.InvalidURL, aiohttp.NonHttpUrlClientError, aiohttp.TooManyRedirects)


def feed_session(settings: Settings) -> aiohttp.ClientSession:
    """The session a feed is read with: the address guard on every hop, and nothing trusted beyond it. The
    archive endpoints the settings name are let through for the archive client only; a feed, or a redirect it
    answers with, never reaches them (a local Wayback stand-in, a pywb on the LAN)."""
    return make_session(settings, trust_archive=False)


def _refusal(exc: BaseException) -> AddressRefused | None:
    """The address guard's refusal behind a connection error, if that is what it was."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        item = todo.pop()
        if item is None or id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, AddressRefused):
            return item
        todo += [item.__cause__, item.__context__, getattr(item, "os_error", None)]
    return None


class _Retry(Exception):
    def __init__(self, error: FeedError) -> None:
        super().__init__(str(error))
        self.error = error


async def fetch_page(session: aiohttp.ClientSession, url: str, *, fmt: str = "atom", start_index: int = 1,
                     max_redirects: int = 10) -> FeedPage:
    """One page of the feed. Raises FeedError (transient for network trouble, 5xx and 429)."""
    accept = "application/json" if fmt == "json" else "application/atom+xml, application/xml;q=0.9"
    try:
        async with session.get(url, headers={"Accept": accept}, max_redirects=max_redirects) as resp:
            if resp.status != 200:
                transient = resp.status in RETRY_STATUSES or resp.status >= 500
                hint = {404: " (no Blogger feed at this address, or the blog's feed is turned off)",
                        401: " (a private blog)", 403: " (a private blog, or the feed is turned off)"}.get(resp.status, "")
                raise FeedError(f"{url}: HTTP {resp.status}{hint}", transient=transient)
            chunks, size = [], 0
            async for chunk in resp.content.iter_chunked(1 << 16):
                size += len(chunk)
                if size > MAX_PAGE_BYTES:
                    raise FeedError(f"{url}: a feed page larger than {MAX_PAGE_BYTES} bytes; refused")
                chunks.append(chunk)
    except FeedError:
        raise
    except UNFOLLOWABLE as exc:
        # Where the feed sends us is the feed's doing, and will not pass by itself: a person must look.
        raise FeedError(f"{url}: {type(exc).__name__}: {exc} (a redirect that is not followed)") from None
    except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
        refused = _refusal(exc)
        if refused is not None:
            raise FeedError(f"{url}: refused: {refused} (the feed, or a redirect it answered with, leads to an "
                            "address that is not a public site)") from None
        raise FeedError(f"{url}: {type(exc).__name__}: {exc}", transient=True) from None
    data = b"".join(chunks)
    return parse_json(data, url, start_index) if fmt == "json" else parse_atom(data, url, start_index)


async def read_pages(session: aiohttp.ClientSession, address: str, *, fmt: str = "atom",
                     page_size: int = DEFAULT_PAGE_SIZE, updated_min: str | None = None, retries: int = 2,
                     retry_wait_max: float = 30.0, max_redirects: int = 10,
                     sleep: Callable[[float], object] = asyncio.sleep) -> AsyncIterator[FeedPage]:
    """Every page of the blog's feed (every post updated at or after `updated_min`, when given), in order.

    The next start-index counts the entries actually received, so a server that hands out fewer than asked
    skips nothing; the read ends at the first empty page, or at a short page with no rel="next" link.
    Transient failures are retried with exponential backoff and jitter.

    A feed that does not move on is refused (FeedError, not transient) rather than read forever: a page whose
    every post was listed already (a server or proxy ignoring start-index answers the same full page again and
    again), or more posts than the first page announced (openSearch totalResults) by a wide margin.
    """
    if fmt not in ("atom", "json"):
        raise ValueError(f"unknown feed format {fmt!r}")
    size = max(1, min(MAX_PAGE_SIZE, page_size))
    start = 1
    seen: set[str] = set()
    limit = MAX_FEED_POSTS
    while True:
        url = page_url(address, start_index=start, max_results=size, fmt=fmt, updated_min=updated_min)
        page = await _fetch_retrying(session, url, fmt=fmt, start_index=start, retries=retries,
                                     retry_wait_max=retry_wait_max, max_redirects=max_redirects, sleep=sleep)
        if not page.posts:
            return
        ids = {post.id for post in page.posts}
        if ids <= seen:
            raise FeedError(f"{url}: the feed answers posts it listed already (start-index {start} brings nothing "
                            f"new); stopped reading rather than ask again and again")
        if start == 1 and page.total_results is not None:
            # Posts published while the feed is read may add a few; a feed far beyond its own count is broken.
            limit = min(limit, 2 * page.total_results + 2 * size)
        seen |= ids
        if len(seen) > limit:
            raise FeedError(f"{url}: the feed lists more than {limit} posts (its first page announced "
                            f"{page.total_results if page.total_results is not None else 'no count'}); stopped reading")
        yield page
        start += len(page.posts)
        if len(page.posts) < size and not page.has_next:
            return


async def _fetch_retrying(session: aiohttp.ClientSession, url: str, *, fmt: str, start_index: int, retries: int,
                          retry_wait_max: float, max_redirects: int, sleep: Callable[[float], object]) -> FeedPage:
    """fetch_page, transient failures retried with exponential backoff and jitter."""
    try:
        async for attempt in AsyncRetrying(stop=stop_after_attempt(retries + 1), reraise=True, sleep=sleep,
                                           wait=wait_exponential_jitter(initial=1, max=retry_wait_max, jitter=1),
                                           retry=retry_if_exception(lambda e: isinstance(e, _Retry))):
            with attempt:
                try:
                    return await fetch_page(session, url, fmt=fmt, start_index=start_index,
                                            max_redirects=max_redirects)
                except FeedError as exc:
                    if exc.transient:
                        raise _Retry(exc) from None
                    raise
    except _Retry as exc:
        raise exc.error from None
    raise AssertionError("unreachable: the last attempt returns or raises")
