"""WordPress eXtended RSS (WXR 1.0, 1.1, 1.2): reading the published posts and pages, and writing the file
back with only chosen hrefs changed.

The post HTML is `<content:encoded>`, usually one CDATA section. Only items whose `wp:post_type` is `post` or
`page` and whose `wp:status` is `publish` are posts here: drafts, private and scheduled posts, attachments,
navigation menu items and other types are skipped (their bytes are still copied on export).

The `wp` namespace differs by version (`http://wordpress.org/export/1.0/` ... `/1.2/`, and `https://` in
WordPress.com exports), so any of them is accepted. Old exporters used `excerpt:` without declaring it; that is
read leniently with a warning, as Blogger's undeclared `app:` is.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

from linkkeeper.sources import xmlpatch
from linkkeeper.sources.common import Post, Warn
from linkkeeper.sources.xmlpatch import Found, StopScan, XmlScanner, is_, text_of

WP_NS = re.compile(r"^https?://wordpress\.org/export/(1\.\d+)/$")
EXCERPT_NS = re.compile(r"^https?://wordpress\.org/export/1\.\d+/excerpt/$")
CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"
DC_NS = "http://purl.org/dc/elements/1.1/"
KNOWN_VERSIONS = ("1.0", "1.1", "1.2")
CONTENT_TYPES = ("post", "page")
LABEL_DOMAINS = (None, "category", "post_tag")
_NO_DATE = "0000-00-00 00:00:00"


def _is_wp(ns: str) -> bool:
    return bool(WP_NS.match(ns))


def wp_version_of(mapping: Mapping[str, str]) -> str | None:
    """The WXR version its namespace declarations name, or None when none is a WordPress export namespace."""
    for value in mapping.values():
        m = WP_NS.match(value)
        if m:
            return m.group(1)
    return None


@dataclass
class _Item:
    line: int
    depth: int
    title: list[str] = field(default_factory=list)
    link: list[str] = field(default_factory=list)
    guid: list[str] = field(default_factory=list)
    pub_date: list[str] = field(default_factory=list)
    content: list[str] = field(default_factory=list)
    content_start: int | None = None
    content_end: int | None = None
    post_id: list[str] = field(default_factory=list)
    post_date: list[str] = field(default_factory=list)
    post_date_gmt: list[str] = field(default_factory=list)
    modified: list[str] = field(default_factory=list)
    modified_gmt: list[str] = field(default_factory=list)
    status: list[str] = field(default_factory=list)
    post_type: list[str] = field(default_factory=list)
    labels: list[list[str]] = field(default_factory=list)


class _Scanner(XmlScanner):
    """Collects the published posts and pages of a WXR file."""

    KNOWN_PREFIXES = {"excerpt": ("http://wordpress.org/export/1.0/excerpt/", "WordPress's excerpt namespace")}

    def __init__(self, path, warn: Warn | None, stop_at_item: bool = False):
        super().__init__(path, warn)
        self.stop_at_item = stop_at_item
        self.ns_version: str | None = None
        self.channel_depth: int | None = None
        self.channel_line: int | None = None
        self.title: list[str] = []
        self.link: list[str] = []
        self.version: list[str] | None = None
        self.version_line: int | None = None
        self.base_site_url: list[str] = []
        self.base_blog_url: list[str] = []
        self.item: _Item | None = None
        self.checked_version = False

    def start_element(self, depth, ns, local, name, attrs, mapping, inherited):
        item = self.item
        if depth == 0:
            if local != "rss":
                raise self.error(f"not a WordPress export: the root element is <{name}>, not <rss>")
            self.ns_version = wp_version_of(mapping)
            if self.ns_version is None:
                raise self.error("an RSS feed without the WordPress export namespace "
                                 "(http://wordpress.org/export/1.x/): not a WXR export")
        elif depth == 1 and local == "channel" and self.channel_depth is None:
            self.channel_depth = depth
            self.channel_line = self.line
        elif item is None and depth == 2 and self.channel_depth is not None:
            if local == "item" and ns is None:
                self._check_version()
                if self.stop_at_item:
                    raise StopScan
                self.item = _Item(self.line, depth)
            elif local == "title" and ns is None:
                return self.title
            elif local == "link" and ns is None:
                return self.link
            elif is_(ns, local, _is_wp, "wxr_version"):
                self.version, self.version_line = [], self.line
                return self.version
            elif is_(ns, local, _is_wp, "base_site_url"):
                return self.base_site_url
            elif is_(ns, local, _is_wp, "base_blog_url"):
                return self.base_blog_url
        elif item is not None and depth == item.depth + 1:
            return self._item_child(item, ns, local, attrs)
        return inherited

    def _item_child(self, item: _Item, ns, local, attrs):
        if ns is None:
            if local == "title":
                return item.title
            if local == "link":
                return item.link
            if local == "guid":
                return item.guid
            if local == "pubDate":
                return item.pub_date
            if local == "category" and attrs.get("domain") in LABEL_DOMAINS:
                item.labels.append([])
                return item.labels[-1]
            return None
        if is_(ns, local, CONTENT_NS, "encoded"):
            item.content_start = self.byte_index
            return item.content
        if _is_wp(ns):
            return {"post_id": item.post_id, "post_date": item.post_date, "post_date_gmt": item.post_date_gmt,
                    "post_modified": item.modified, "post_modified_gmt": item.modified_gmt,
                    "status": item.status, "post_type": item.post_type}.get(local)
        return None

    def end_element(self, depth, ns, local) -> None:
        item = self.item
        if item is None:
            if depth == self.channel_depth and local == "channel":
                self._check_version()
            return
        if depth == item.depth:
            self.item = None
            found = self._finish(item)
            if found:
                self.done.append(found)
        elif depth == item.depth + 1 and is_(ns, local, CONTENT_NS, "encoded"):
            item.content_end = self.byte_index

    def _check_version(self) -> None:
        # WordPress's own importer refuses a file without <wp:wxr_version>; the namespace already says which
        # version it is, and only the post bodies are read here, so such a file is read with a warning.
        if self.checked_version:
            return
        self.checked_version = True
        version = text_of(self.version)
        if self.version is None:
            self.warn(f"{self.path}:{self.channel_line or 1}: the channel has no <wp:wxr_version>; "
                      f"read as WXR {self.ns_version}, the version its namespace names")
        elif version not in KNOWN_VERSIONS:
            self.warn(f"{self.path}:{self.version_line}: unknown WXR version {version!r}; "
                      f"read as WXR {self.ns_version}, the version its namespace names")

    def _finish(self, item: _Item) -> Found | None:
        post_type = (text_of(item.post_type) or "").lower()
        status = (text_of(item.status) or "").lower()
        if post_type not in CONTENT_TYPES or status != "publish":
            return None
        post_id = _item_id(item, self.blog_url())
        labels: list[str] = []
        for parts in item.labels:
            label = text_of(parts)
            if label and label not in labels:
                labels.append(label)
        post = Post(
            id=self.unique(post_id, item.line),
            url=text_of(item.link) or None,
            title=text_of(item.title),
            published=_date(item.post_date, item.post_date_gmt) or _rfc822(text_of(item.pub_date)),
            updated=_date(item.modified, item.modified_gmt),
            labels=labels,
            html="".join(item.content),
            line=item.line,
        )
        return Found(post, "html", item.content_start, item.content_end)

    def blog_url(self) -> str | None:
        return text_of(self.base_blog_url) or text_of(self.link) or text_of(self.base_site_url)


def _item_id(item: _Item, blog_url: str | None) -> str:
    """WordPress's shortlink, `<blog>/?p=<post id>`: the post id is the database key (unique in a real
    export, unlike the guid, which duplicated posts keep), and the blog URL makes it unique across blogs."""
    number = text_of(item.post_id)
    if number:
        return f"{(blog_url or '').rstrip('/')}/?p={number}"
    return text_of(item.guid) or text_of(item.link) or f"item-at-line-{item.line}"


def _date(local_parts: list[str], gmt_parts: list[str]) -> str | None:
    """ISO 8601 in the blog's local time with its offset (the local date is the one readers saw), from
    WordPress's local and GMT fields; GMT alone gives 'Z', local alone no offset."""
    local, gmt = _wp_time(text_of(local_parts)), _wp_time(text_of(gmt_parts))
    if local and gmt:
        offset = local - gmt
        if abs(offset) <= timedelta(hours=14) and offset % timedelta(minutes=15) == timedelta(0):
            minutes = int(offset.total_seconds() // 60)
            sign = "+" if minutes >= 0 else "-"
            return f"{local.isoformat()}{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    if gmt:
        return gmt.isoformat() + "Z"
    if local:
        return local.isoformat()
    return None


def _wp_time(value: str | None) -> datetime | None:
    if not value or value == _NO_DATE:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return None


def _rfc822(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return parsedate_to_datetime(value).isoformat()
    except (TypeError, ValueError):
        return None


# --- public API ----------------------------------------------------------------------------------------


def read_export(path, warn: Callable[[str], None] | None = None) -> Iterator[Post]:
    """Every published post and page of the WXR file, in file order, read in 1 MiB chunks."""
    for found in xmlpatch.scan_file(_Scanner(path, warn), path):
        yield found.post


def channel_info(path, warn: Callable[[str], None] | None = None) -> dict:
    """The channel's title, blog URL and WXR version, from the part of the file before the first item."""
    scanner = _Scanner(path, warn or (lambda message: None), stop_at_item=True)
    xmlpatch.scan_header(scanner, path)
    version = text_of(scanner.version)
    return {
        "title": text_of(scanner.title),
        "blog_url": scanner.blog_url(),
        "format": "wxr",
        "version": version if version in KNOWN_VERSIONS else scanner.ns_version,
    }


def write_patched(src_path, dst_path, replacements: Mapping[str, Mapping[int, str]]) -> int:
    """Copy the WXR file to dst_path with the given hrefs replaced, every other byte unchanged (see
    blogger.write_patched for the arguments)."""
    return xmlpatch.write_patched(src_path, dst_path, replacements, lambda path: _Scanner(path, lambda m: None))
