"""URLs as linkkeeper compares them: the normalised spelling checks are de-duplicated by, the host key
(`www` dropped, as the archive's SURT keys and outlets do), the blog's identity behind Blogger's country-code
aliases, and the dates, ids and slug words an article URL carries. Pure functions; no I/O."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlsplit, urlunsplit

from linkkeeper.text.words import content_words


# No URL holds control characters (a line break in an href is an attack or a mistake, never a link; most of them
# make an XML file unreadable).
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def link_refusal(url) -> str | None:
    """Why `url`, come from outside (a replacement about to be written into a post, a memento an archive named),
    may not be used as a link, or None: it must be an http(s) URL with a readable host and port, no user name
    or password, no control characters."""
    if not isinstance(url, str) or not url:
        return "no URL"
    if _CONTROL.search(url):
        return "control characters"
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        return "not an http:// or https:// URL"
    try:
        host, _port = parts.hostname, parts.port
    except ValueError:
        return "an unreadable host or port"
    if not host:
        return "no host"
    if parts.username is not None or parts.password is not None:
        return "a user name or password"
    return None


def blog_key(host: str) -> str:
    """The blog's identity behind Blogger's country-code aliases: democracyastray.blogspot.ca -> democracyastray.blogspot."""
    host = host_key(host)
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
    # An empty query dropped from the end can uncover whitespace the next reading would strip, and that
    # reading can then read a path that was only whitespace as empty ("a: ?" -> "a:" -> "a:/"): normalise the
    # stripped form once more so that normalising twice gives what normalising once gave.
    stripped = out.strip(_C0_AND_SPACE)
    return normalize_url(stripped) if stripped != out and stripped != url else stripped


_PLAIN_NETLOC = re.compile(r"(https?)://([A-Za-z0-9.-]+)(?::(\d{1,5}))?(?=[/?#]|$)", re.ASCII | re.IGNORECASE)


def plain_origin(url: str) -> tuple[str, str, int | None, str] | None:
    """(scheme, host, port or None, origin `scheme://netloc`) of a plain `http(s)://name[:port]/...` URL, all
    lower-case, read with one regular expression; None for anything else (user info, IPv6 literals, other
    schemes, odd spellings), which urlsplit must read. The checker asks this of every URL and every redirect
    hop, and urlsplit costs eight times more."""
    plain = _PLAIN_NETLOC.match(url)
    if plain is None:
        return None
    scheme, host, port = plain.group(1).lower(), plain.group(2).lower(), plain.group(3)
    if port is not None and int(port) > 65535:
        return None  # urlsplit's port raises: let it
    return scheme, host, int(port) if port else None, f"{scheme}://{plain.group(0)[len(scheme) + 3:].lower()}"


def host_of(url: str) -> str:
    """The URL's host name, lower-case (urlsplit's `hostname`)."""
    plain = plain_origin(url)
    if plain is not None:
        return plain[1]
    return (urlsplit(url).hostname or "").lower()


def host_key(host: str | None) -> str:
    """A host as a key: lower-case, no trailing dot, no leading `www.`/`www2.` (the archive's SURT keys and
    outlets both ignore it: www.cbc.ca and cbc.ca are one site)."""
    return re.sub(r"^www\d*\.", "", (host or "").lower().rstrip("."))


# --- what an article URL says: its date and slug (ids: repair/recover/idclock.py) ---------------------------

MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_YEAR = re.compile(r"(?:19|20)\d\d")
_EXT = re.compile(r"\.(?:s?html?|php\d?|aspx?|stm|cms|jsp)$", re.IGNORECASE)
_NOT_SLUG_WORD = re.compile(r"(?:article|story|index|default|id|html?|print|amp|n)\d*")
NOT_ARTICLE = re.compile(
    r"\.(?:jpe?g|png|gif|svg|css|js|xml|rss|pdf|json|ico|mp[34]|swf|txt)$"
    r"|/(?:print|rss|feed|comments?|all-comments|tags?|email|share)(?:/|$)", re.IGNORECASE)


@dataclass(frozen=True)
class DatedPath:
    """A path with a date in it: `/world/2012/oct/16/slug` -> prefix `/world/`, format `yyyy/mon/dd`."""

    prefix: str
    fmt: str  # yyyy/mm/dd, yyyy/mon/dd, yyyy/mm or yyyy/mon
    date: date
    day_known: bool
    rest: str  # what follows the date


def parse_dated_path(path: str) -> DatedPath | None:
    segments = (path or "/").split("/")
    for i in range(1, len(segments) - 1):
        if not _YEAR.fullmatch(segments[i]):
            continue
        month_text = segments[i + 1].lower()
        if month_text in MONTH_NAMES:
            month, month_fmt = MONTH_NAMES.index(month_text) + 1, "mon"
        elif re.fullmatch(r"\d\d", month_text) and 1 <= int(month_text) <= 12:
            month, month_fmt = int(month_text), "mm"
        else:
            continue
        day, end = None, i + 2
        if i + 2 < len(segments) and re.fullmatch(r"\d\d", segments[i + 2]):
            day, end = int(segments[i + 2]), i + 3
        try:
            when = date(int(segments[i]), month, day or 1)
        except ValueError:
            continue
        fmt = f"yyyy/{month_fmt}" + ("/dd" if day else "")
        return DatedPath("/".join(segments[:i]) + "/", fmt, when, day is not None, "/".join(segments[end:]))
    return None


def slug_words(rest: str) -> list[str]:
    """The content words of the path segment that reads most like a headline (empty when none does)."""
    best: list[str] = []
    for segment in (rest or "").split("/"):
        segment = _EXT.sub("", segment)
        parts = [p for p in re.split(r"[-_+.~,]+", segment.lower()) if p]
        text = [p for p in parts if re.fullmatch(r"[a-z][a-z0-9]*", p) and not _NOT_SLUG_WORD.fullmatch(p)]
        if len(text) > len(best):
            best = text
    # One word is a section name ("politics"), not a slug.
    return content_words(" ".join(best)) if len(best) >= 2 else []



_DASHED_DATE = re.compile(r"(?<!\d)((?:19|20)\d{2})-(\d{2})-(\d{2})(?!\d)")
_COMPACT_DATE = re.compile(r"(?<!\d)((?:19|20)\d{2})(\d{2})(\d{2})(?!\d)")


def url_date(url: str) -> date | None:
    """The article's publication day when its URL carries one: `/2012/10/16/`, `/2012/oct/16/` (as the
    recovery stage reads paths), `2012-10-16` or `20121016`. Month-only paths give no day, so no date."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    dated = parse_dated_path(parts.path)
    if dated is not None and dated.day_known:
        return dated.date
    text = parts.path + ("?" + parts.query if parts.query else "")
    for pattern in (_DASHED_DATE, _COMPACT_DATE):
        for match in pattern.finditer(text):
            try:
                return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
            except ValueError:
                continue  # 20000012, an id that only looks like a date
    return _day_in_id(dated) if dated is not None else None


def _day_in_id(dated: DatedPath) -> date | None:
    """The day in the article id of a month-only path, where the id is the publication time unpadded
    (Al Jazeera's `/news/middleeast/2012/12/201212191395430251.html`: 2012, 12, 19, 1:39:54, then more digits):
    the day is read only where one reading of day, hour, minute and second fits (`2012911183011...` is the
    1st at 1:18:30 or the 11th at 18:30:11: no day)."""
    head = f"{dated.date.year}{dated.date.month}"
    for run in re.findall(r"\d{12,}", dated.rest):
        if not run.startswith(head):
            continue
        tail, days = run[len(head):], set()
        for day_width in (1, 2):
            for hour_width in (1, 2):
                day, hour = tail[:day_width], tail[day_width:day_width + hour_width]
                rest = tail[day_width + hour_width:day_width + hour_width + 4]
                if len(rest) < 4 or day[0] == "0" or (hour_width == 2 and hour[0] == "0"):
                    continue  # unpadded: a two-digit day or hour does not start with 0
                if 1 <= int(day) <= 31 and int(hour) < 24 and int(rest[:2]) < 60 and int(rest[2:]) < 60:
                    days.add(int(day))
        if len(days) == 1:
            try:
                return date(dated.date.year, dated.date.month, days.pop())
            except ValueError:
                return None
    return None
