"""Owns the archives' answers as small typed records, and the pure functions that read them: CDX rows and
pages, mementos and their Link headers, archive URLs, Wayback timestamps, SURT-like URL keys, availability
hints, Save Page Now jobs, other archives' mementos. No I/O: the client (client.py, spn.py, memento.py) does
the asking; everything here can be tried on a recorded body (tests/test_wayback_recordings.py).

Facts about the real service these parsers rely on (see FIELD-NOTES.md, "Wayback Machine APIs"):
- CDX rows are all strings; revisits have mimetype `warc/revisit` and statuscode `-`; identical rows repeat.
- A resume key follows a blank line (text) or an empty row (JSON); keys are opaque, not always timestamps.
- Some CDX rows are not captures of a real URL, and some timestamps are impossible; one bad row must not sink a
  whole search.
- The Wayback Machine's own redirects to the nearest capture carry no Memento-Datetime, point at /web/<ts>/...,
  and may be relative.
"""

from __future__ import annotations

import email.utils
import html
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any, Iterable, Mapping, Sequence
from urllib.parse import urlsplit

from multidict import CIMultiDict

from linkkeeper.text import jsonbounds
from linkkeeper.text.dates import parse_iso_or_none
from linkkeeper.text.urls import host_key, link_refusal
from linkkeeper.wayback.errors import ArchiveError, ArchiveQueryError

DEFAULT_FIELDS: tuple[str, ...] = ("urlkey", "timestamp", "original", "mimetype", "statuscode", "digest", "length")
# Links we hand out always use the public form, whatever endpoint (a local simulator) served the data.
PUBLIC_REPLAY_URL = "https://web.archive.org/web/"

_ARCHIVE_PATH = re.compile(r"/web/(\d{1,14})([a-z]{2}_)?/(.*)$", re.DOTALL)
_REDIRECT_REASON = re.compile(r"found capture at (\d{14})")
# Some CDX rows are not captures of a real URL (EDGI keeps such real rows in malformed_cdx.txt): a data: URL
# glued to a page URL, e-mail addresses with http:// in front, or no scheme at all.
_DATA_URL = re.compile(r"data:\w+/[\w.+-]+;base64", re.IGNORECASE)
_EMAILISH_URL = re.compile(r"^https?://(<*)((mailto:)|([^/@:]*@))", re.IGNORECASE)
_URLISH = re.compile(r"^[a-z][a-z0-9+.-]*://([^/?#\s:]+|\[[0-9a-f:.]+\])(:\d+)?([/?#]|$)", re.IGNORECASE)

# Save Page Now's status_ext values (without the "error:" prefix, IA's SPN2 API document) that say to retry
# later, and those that mean the target itself is gone. `too-many-daily-captures` is per URL ("this URL has
# been captured 10 times today"): the URL has fresh captures, so it is neither retried nor a reason to stop.
SPN_RETRYABLE = frozenset({"user-session-limit", "too-many-requests", "no-browsers-available",
                           "soft-time-limit-exceeded", "browsing-timeout", "proxy-error", "internal-server-error",
                           "service-unavailable"})
SPN_TARGET_GONE = frozenset({"not-found", "invalid-host-resolution", "no-access", "blocked-url"})
SPN_URL_DAILY_LIMIT = "too-many-daily-captures"


# ------------------------------------------------------------------------------------------------ URL keys


def surt_key(url: str) -> str:
    """A SURT-like match key, as the CDX server's urlkey: scheme-, `www`-, case- and default-port-insensitive.

    `https://www.Example.com:443/A/B/?y=2&x=1` → `com,example)/a/b?x=1&y=2`. Like the real urlkeys
    (e.g. `gov,nasa)/ames/feature/go` for `https://www.nasa.gov/ames/feature/go/`), a trailing slash is dropped.
    Used to match CDX rows of a prefix query back to the URLs asked about; a URL this spells differently from
    the server simply goes unmatched and is looked up on its own.
    """
    text = url.strip()
    if "://" not in text:
        text = "http://" + text
    parts = urlsplit(text)
    host = host_key(parts.hostname)
    try:
        port = parts.port
    except ValueError:
        port = None
    key = ",".join(reversed(host.split("."))) if host else ""
    if port and port not in (80, 443):
        key += f":{port}"
    path = (parts.path or "/").lower()
    if len(path) > 1:
        path = path.rstrip("/") or "/"
    key += ")" + path
    if parts.query:
        key += "?" + "&".join(sorted(parts.query.lower().split("&")))
    return key


_WAYBACK_HOSTS = ("web.archive.org", "wayback.archive.org", "archive.org")


def is_wayback_url(url: str | None) -> bool:
    """Whether a link is itself a Wayback Machine capture (`https://web.archive.org/web/TS/URL`)."""
    if not url:
        return False
    try:
        host = (urlsplit(url.strip()).hostname or "").lower()
    except ValueError:
        return False
    return host in _WAYBACK_HOSTS and parse_archive_location(url) is not None


# ------------------------------------------------------------------------------------------- timestamps


def format_timestamp(value: datetime | date | str | int) -> str:
    """14-digit UTC Wayback timestamp; 1–14 digit strings pass through (CDX and replay accept prefixes)."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc)
        return value.strftime("%Y%m%d%H%M%S")
    if isinstance(value, date):
        return value.strftime("%Y%m%d") + "000000"
    text = str(value).strip()
    if not re.fullmatch(r"\d{1,14}", text):
        raise ArchiveQueryError(f"{value!r} is not a 1-14 digit Wayback timestamp")
    return text


def timestamp_to_datetime(timestamp: str) -> datetime | None:
    """Aware UTC datetime for a 1–14 digit timestamp (missing parts take their lowest value).

    None for impossible timestamps: real CDX rows hold some (`20000012170449`, `20000800241623` in EDGI's
    bad_timestamp_cdx.txt), and one bad row must not sink a whole search.
    """
    if not re.fullmatch(r"\d{1,14}", timestamp or ""):
        return None
    padded = timestamp + "00000101000000"[len(timestamp):]
    try:
        return datetime.strptime(padded, "%Y%m%d%H%M%S").replace(tzinfo=timezone.utc)
    except ValueError:
        return None


def as_utc(when: datetime) -> datetime:
    """Naive datetimes are taken as UTC, like Wayback timestamps themselves."""
    return when.replace(tzinfo=timezone.utc) if when.tzinfo is None else when.astimezone(timezone.utc)


def http_date(value: str | None) -> datetime | None:
    """An HTTP date (Memento-Datetime, a Link's datetime) as aware UTC, or None when absent or unreadable."""
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except ValueError:  # Python 3.11 raises only this for an unreadable date (None is ruled out above)
        return None
    return as_utc(parsed)


def json_or_none(text: str) -> Any:
    """The JSON in a body, or None when it holds none (an HTML error page where JSON was asked for, or JSON
    beyond text/jsonbounds.py's bounds)."""
    try:
        return jsonbounds.loads(text)
    except json.JSONDecodeError:
        return None


def public_archive_url(timestamp: str, original: str, mode: str = "") -> str:
    """`https://web.archive.org/web/<ts><mode>/<original>`: the form written into exports and reports."""
    return f"{PUBLIC_REPLAY_URL}{timestamp}{mode}/{original}"


# ------------------------------------------------------------------------------------------------- CDX


@dataclass(frozen=True)
class CdxRecord:
    """One CDX row. Every field is the string the server sent (statuscode `-` for revisits, length `-` too)."""

    urlkey: str
    timestamp: str
    original: str
    mimetype: str
    statuscode: str
    digest: str
    length: str

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> "CdxRecord":
        # A custom `fl` leaves fields out (wayback-rs's recorded query has no urlkey): they read as "".
        return cls(**{name: "" if values.get(name) is None else str(values.get(name)) for name in DEFAULT_FIELDS})

    @property
    def is_revisit(self) -> bool:
        return self.mimetype == "warc/revisit" or self.statuscode == "-"

    @property
    def status(self) -> int | None:
        return int(self.statuscode) if self.statuscode.isdigit() else None

    @property
    def datetime(self) -> datetime | None:
        return timestamp_to_datetime(self.timestamp)

    @property
    def is_malformed(self) -> bool:
        """True when `original` is not a fetchable URL (data: URLs, e-mail addresses, no scheme)."""
        url = self.original
        return bool(_DATA_URL.search(url) or url.startswith("mailto:") or _EMAILISH_URL.match(url)
                    or not _URLISH.match(url))

    @property
    def archive_url(self) -> str:
        return public_archive_url(self.timestamp, self.original)

    @property
    def raw_url(self) -> str:
        return public_archive_url(self.timestamp, self.original, "id_")


@dataclass
class CdxPage:
    """One CDX answer: its records (duplicates removed), the resume key if more remain, and what was dropped."""

    records: list[CdxRecord] = field(default_factory=list)
    resume_key: str | None = None
    skipped: int = 0  # rows that could not be read (wrong field count)
    duplicates: int = 0  # identical rows dropped (the real server repeats rows, see test_search.yaml)


def _dedupe(records: Iterable[CdxRecord], page: CdxPage) -> None:
    seen: set[CdxRecord] = set()
    for record in records:
        if record in seen:
            page.duplicates += 1
            continue
        seen.add(record)
        page.records.append(record)


def parse_cdx_json(text: str | bytes) -> CdxPage:
    """Read `output=json`: a header row (any field order), data rows, then `[]` and `[key]` if more remain."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    if not text.strip():
        return CdxPage()
    try:
        rows = jsonbounds.loads(text)
    except json.JSONDecodeError as exc:
        raise ArchiveError(f"CDX answer is not JSON: {exc}") from None
    if not isinstance(rows, list) or not rows or not isinstance(rows[0], list):
        return CdxPage()
    header = [str(name) for name in rows[0]]
    page = CdxPage()
    records = []
    body = rows[1:]
    for index, row in enumerate(body):
        if not isinstance(row, list):
            page.skipped += 1
            continue
        if not row:
            # The empty row separates the resume key from the data (wayback-cdx-server README).
            rest = [r for r in body[index + 1:] if isinstance(r, list) and r]
            if rest and len(rest[0]) == 1:
                page.resume_key = str(rest[0][0])
            break
        if len(row) != len(header):
            page.skipped += 1
            continue
        records.append(CdxRecord.from_mapping(dict(zip(header, row))))
    _dedupe(records, page)
    return page


def parse_cdx_text(text: str | bytes, fields: Sequence[str] = DEFAULT_FIELDS) -> CdxPage:
    """Read the plain-text CDX answer: space-separated rows; a blank line, then the resume key."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    fields = tuple(fields) or DEFAULT_FIELDS
    lines = text.splitlines()
    # The next non-blank line after each one, found in one pass from the end: looking at the rest of the
    # answer again from every blank line took 55 s for 40,000 of them.
    following: list[int] = [len(lines)] * (len(lines) + 1)
    for index in range(len(lines) - 1, -1, -1):
        following[index] = index if lines[index].strip() else following[index + 1]
    page = CdxPage()
    records = []
    for index, line in enumerate(lines):
        if not line.strip():
            first = following[index + 1]
            # A single token after the blank line is the key; anything else is more rows (be lenient).
            if first < len(lines) and following[first + 1] == len(lines) and " " not in lines[first].strip():
                page.resume_key = lines[first].strip()
                break
            continue
        parts = line.split(" ")
        if len(parts) != len(fields):
            page.skipped += 1
            continue
        records.append(CdxRecord.from_mapping(dict(zip(fields, parts))))
    _dedupe(records, page)
    return page


def parse_cdx(text: str | bytes, fields: Sequence[str] = DEFAULT_FIELDS) -> CdxPage:
    """JSON or text, whichever the body is: we ask for JSON, but the recordings (and some errors) are text."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return parse_cdx_json(text) if text.lstrip().startswith("[") else parse_cdx_text(text, fields)


# --------------------------------------------------------------------------------------------- mementos


def parse_link_header(value: str) -> list[tuple[str, dict[str, str]]]:
    """RFC 8288 Link header → [(url, {param: value})]; commas inside <> or quotes do not split links.

    Both `rel="memento"` and the old single-quoted `rel='memento'` forms are read.
    """
    links: list[tuple[str, dict[str, str]]] = []
    param = re.compile(r"""\s*([^\s=;,]+)\s*(?:=\s*(?:"([^"]*)"|'([^']*)'|([^;,]*)))?""")
    i, n = 0, len(value or "")
    while i < n:
        start = value.find("<", i)
        if start < 0:
            break
        end = value.find(">", start)
        if end < 0:
            break
        url = value[start + 1:end].strip()
        params: dict[str, str] = {}
        i = end + 1
        while i < n:
            char = value[i]
            if char in " \t":
                i += 1
            elif char == ",":
                i += 1
                break
            elif char == ";":
                i += 1
                match = param.match(value, i)
                if not match or not match.group(1):
                    continue
                name = match.group(1).lower()
                raw = next((g for g in match.groups()[1:] if g is not None), "")
                params.setdefault(name, raw.strip())
                i = match.end()
            else:
                i += 1
        links.append((url, params))
    return links


def memento_links(value: str | None) -> dict[str, tuple[str, datetime | None]]:
    """Memento `Link` header → {'first memento': (url, dt), 'prev memento': ..., 'original': (url, None), ...}.

    A rel holding several relation types (`rel="first last memento"` for a single capture) is filed under
    each of them.
    """
    result: dict[str, tuple[str, datetime | None]] = {}
    for url, params in parse_link_header(value or ""):
        # The Wayback Machine HTML-escapes `&` inside Link URLs (recorded: `authorize?response_type=cookie&amp;
        # client_id=...` in test_get_memento_raises_for_mementos_that_redirect_in_a_loop.yaml).
        url = html.unescape(url)
        tokens = params.get("rel", "").lower().split()
        if not tokens:
            continue
        when = http_date(params.get("datetime"))
        if "memento" in tokens:
            kinds = [t for t in tokens if t != "memento"]
            names = [f"{k} memento" for k in kinds] or ["memento"]
        else:
            names = [" ".join(tokens)]
        for name in names:
            result.setdefault(name, (url, when))
    return result


def parse_archive_location(location: str | None) -> tuple[str, str, str] | None:
    """`(timestamp, mode, original)` from an archive URL, absolute or relative (`/web/2016.../https://...`)."""
    if not location:
        return None
    match = _ARCHIVE_PATH.search(location)
    if not match:
        return None
    timestamp, mode, original = match.group(1), match.group(2) or "", match.group(3)
    # Some proxies and old replays squash the `//` after the scheme inside the path.
    original = re.sub(r"^(https?):/(?!/)", r"\1://", original)
    return timestamp, mode, original


def wayback_redirect_target(status: int, headers: Mapping[str, str]) -> tuple[str, str] | None:
    """`(timestamp, original)` when a response is the Wayback Machine's own redirect to another capture.

    Its own redirects carry no Memento-Datetime (a captured redirect does) and point at /web/<ts>/...;
    recorded ones also say `X-Archive-Redirect-Reason: found capture at <ts>`.
    """
    headers = CIMultiDict(headers)
    if not 300 <= status < 400 or "Memento-Datetime" in headers:
        return None
    target = parse_archive_location(headers.get("Location"))
    if target is None:
        return None
    timestamp, _mode, original = target
    reason = _REDIRECT_REASON.search(headers.get("X-Archive-Redirect-Reason", ""))
    return (reason.group(1) if reason else timestamp), original


@dataclass
class Memento:
    """One archived response. `status` is the archived site's status, not the Wayback Machine's."""

    url: str  # the capture's original URL (Link rel=original when sent: it may differ in scheme or www)
    timestamp: str  # when the served capture was made (may differ from the one asked for)
    status: int
    links: dict[str, tuple[str, datetime | None]] = field(default_factory=dict)
    body: bytes = b""
    redirect_location: str | None = None  # for captured 3xx: the original (non-archive) target URL
    requested_url: str = ""
    requested_timestamp: str = ""
    mimetype: str = ""
    truncated: bool = False  # body cut at settings.max_bytes
    headers: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def datetime(self) -> datetime | None:
        return timestamp_to_datetime(self.timestamp)

    @property
    def is_redirect(self) -> bool:
        return 300 <= self.status < 400

    @property
    def archive_url(self) -> str:
        return public_archive_url(self.timestamp, self.url)

    @property
    def raw_url(self) -> str:
        return public_archive_url(self.timestamp, self.url, "id_")

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


# ----------------------------------------------------------------------------------------- availability


@dataclass(frozen=True)
class AvailabilityHint:
    """The availability API's `closest` snapshot. A hint only: that API misses archived pages intermittently."""

    original: str
    timestamp: str
    status: str  # a string in the API ("200")
    available: bool
    snapshot_url: str  # as sent (http://web.archive.org/web/...)

    @property
    def statuscode(self) -> str:
        return self.status

    @property
    def datetime(self) -> datetime | None:
        return timestamp_to_datetime(self.timestamp)

    @property
    def archive_url(self) -> str:
        return public_archive_url(self.timestamp, self.original)


def parse_availability(text: str | bytes, url: str = "") -> AvailabilityHint | None:
    """Availability JSON → hint, or None for `{"archived_snapshots": {}}` (and for anything unreadable)."""
    try:
        data = jsonbounds.loads(text.decode("utf-8") if isinstance(text, bytes) else text)
    except (json.JSONDecodeError, UnicodeDecodeError):  # bytes that are not UTF-8 fail before the JSON does
        return None
    closest = (data.get("archived_snapshots") or {}).get("closest") if isinstance(data, dict) else None
    if not isinstance(closest, dict) or not closest.get("available", True) or not closest.get("timestamp"):
        return None
    snapshot = str(closest.get("url") or "")
    located = parse_archive_location(snapshot)
    original = located[2] if located else (url or str(data.get("url") or ""))
    return AvailabilityHint(original=original, timestamp=str(closest["timestamp"]),
                            status=str(closest.get("status", "")), available=bool(closest.get("available", True)),
                            snapshot_url=snapshot)


# ------------------------------------------------------------------------------------------ Save Page Now


@dataclass
class SaveJob:
    """One Save Page Now request and how it ended. `status_ext` is SPN's error code without "error:"."""

    url: str
    mode: str  # "spn2" (signed in) or "anonymous"
    status: str  # "success", "error" or "pending" (still pending when we stopped polling)
    job_id: str | None = None
    timestamp: str | None = None
    original_url: str | None = None
    status_ext: str | None = None
    message: str = ""
    polls: int = 0

    @property
    def retryable(self) -> bool:
        return self.status == "error" and self.status_ext in SPN_RETRYABLE

    @property
    def target_gone(self) -> bool:
        return self.status == "error" and self.status_ext in SPN_TARGET_GONE

    @property
    def archive_url(self) -> str | None:
        if self.status != "success" or not self.timestamp:
            return None
        return public_archive_url(self.timestamp, self.original_url or self.url)


# ----------------------------------------------------------------------------------------- other archives


@dataclass(frozen=True)
class OtherMemento:
    """A memento another archive holds, as a Memento aggregator or TimeGate named it."""

    uri: str
    datetime: datetime | None
    rel: str = "memento"  # closest, prev, next, first, last (TimeTravel's names) or memento

    @property
    def archive(self) -> str:
        return (urlsplit(self.uri).hostname or "").lower()

    @property
    def timestamp(self) -> str:
        return format_timestamp(self.datetime) if self.datetime else ""


def parse_timetravel(text: str | bytes) -> list[OtherMemento]:
    """TimeTravel's JSON (`{"mementos": {"closest": {"datetime": ..., "uri": [...]}, "prev": ...}}`) → mementos,
    one per URI, closest first."""
    data = json_or_none(text.decode("utf-8", "replace") if isinstance(text, bytes) else text)
    mementos = data.get("mementos") if isinstance(data, dict) else None
    if not isinstance(mementos, dict):
        return []
    out: list[OtherMemento] = []
    seen: set[str] = set()
    for rel in ("closest", "prev", "next", "first", "last"):
        entry = mementos.get(rel)
        if not isinstance(entry, dict):
            continue
        uris = entry.get("uri") or []
        uris = [uris] if isinstance(uris, str) else uris
        when = parse_iso_or_none(str(entry.get("datetime") or ""))
        when = as_utc(when) if when else None
        for uri in uris:
            # A memento named by an answer from outside is a link like any other: javascript:, a port past
            # 65535 or a user name make it no memento (aiohttp would refuse it with an error of its own).
            if isinstance(uri, str) and uri and uri not in seen and link_refusal(uri) is None:
                seen.add(uri)
                out.append(OtherMemento(uri, when, rel))
    return out

