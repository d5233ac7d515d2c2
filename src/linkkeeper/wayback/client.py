"""Owns the Wayback Machine client: CDX search (exact, closest, prefix), replay/TimeGate, Save
Page Now (SPN2 and the anonymous form), and other archives' Memento TimeGates; the per-endpoint rate limits
and retries; small typed records. Knows nothing of posts.

Shaped after EDGI's `wayback` library (edgi-govdata-archiving/wayback): typed records, a client that owns the
rate limits and retries, specific exception classes. Behaviour is checked against real recorded responses
(../shared/real/wayback, tests/test_wayback_recordings.py).

Facts about the real service this module relies on (see FIELD-NOTES.md, "Wayback Machine APIs"):
- CDX rows are all strings; revisits have mimetype `warc/revisit` and statuscode `-`; identical rows repeat.
- A resume key follows a blank line (text) or an empty row (JSON); keys are opaque, not always timestamps.
- A replay request for a timestamp without a capture gets the Wayback Machine's own 302 to the nearest capture
  (either side), marked by `X-Archive-Redirect-Reason`; the Location may be relative.
- Any response carrying `Memento-Datetime` is an archived response: its status (301, 404, even 429) belongs to
  the archived site, so it must never be retried or read as the Wayback Machine's own error.
- Excluded sites: CDX answers 403 with `AdministrativeAccessControlException` (or `RobotAccessControlException`);
  replay answers **200** with a page saying "This URL has been excluded from the Wayback Machine."
- No Retry-After on 429; ignoring 429s gets the IP firewalled, so a 429 pauses the whole endpoint for ~60 s.
- Save Page Now: 7 captures a minute signed in, 3 anonymous; SPN2 answers a job id, polled until success or
  error (`status_ext`); an unknown or expired job reads "pending" for ever; the daily quota is announced in
  prose; the anonymous form says where the capture is in Content-Location, Location, a Link, or not at all.
"""

from __future__ import annotations

import asyncio
import email.utils
import html
import json
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any, Awaitable, Callable, Iterable, Mapping, Sequence
from urllib.parse import urljoin, urlsplit

import aiohttp
import tenacity
from multidict import CIMultiDict
from waybackpy import cdx_utils as _waybackpy_cdx
from waybackpy.exceptions import WaybackError as _WaybackpyError

from linkkeeper.settings import Settings
from linkkeeper.text.urls import host_key

__all__ = [
    "DEFAULT_FIELDS",
    "PUBLIC_REPLAY_URL",
    "ArchiveError",
    "ArchiveQueryError",
    "ArchiveUnavailableError",
    "AvailabilityHint",
    "BlockedSiteError",
    "CdxPage",
    "CdxRecord",
    "Memento",
    "MementoRedirectLoopError",
    "NoMementoError",
    "NotSentError",
    "RateLimitedError",
    "RateLimiter",
    "SaveJob",
    "SpnAuthError",
    "SpnQuotaError",
    "OtherMemento",
    "WaybackClient",
    "format_timestamp",
    "is_wayback_url",
    "memento_links",
    "parse_archive_location",
    "parse_availability",
    "parse_cdx",
    "parse_cdx_json",
    "parse_cdx_text",
    "parse_link_header",
    "public_archive_url",
    "surt_key",
    "timestamp_to_datetime",
    "wayback_redirect_target",
]

DEFAULT_FIELDS: tuple[str, ...] = ("urlkey", "timestamp", "original", "mimetype", "statuscode", "digest", "length")
# Links we hand out always use the public form, whatever endpoint (a local simulator) served the data.
PUBLIC_REPLAY_URL = "https://web.archive.org/web/"

EXCLUDED_TEXT = "This URL has been excluded from the Wayback Machine"
NOT_ARCHIVED_TEXT = "has not archived that URL"
_BLOCKED_MARKERS = ("AdministrativeAccessControlException", "RobotAccessControlException")
_NOT_ARCHIVED_MARKERS = (NOT_ARCHIVED_TEXT, "ResourceNotInArchiveException")
# In view mode (no `id_`) a captured redirect is served as a 200 page saying so (recorded in
# test_get_memento_with_redirect_in_view_mode.yaml); EDGI's client detects it the same way.
_VIEW_MODE_REDIRECT = re.compile(r"Got an? HTTP (3\d\d) response at crawl time", re.IGNORECASE)
_ARCHIVE_PATH = re.compile(r"/web/(\d{1,14})([a-z]{2}_)?/(.*)$", re.DOTALL)
_REDIRECT_REASON = re.compile(r"found capture at (\d{14})")
# Some CDX rows are not captures of a real URL (EDGI keeps such real rows in malformed_cdx.txt): a data: URL
# glued to a page URL, e-mail addresses with http:// in front, or no scheme at all.
_DATA_URL = re.compile(r"data:\w+/[\w.+-]+;base64", re.IGNORECASE)
_EMAILISH_URL = re.compile(r"^https?://(<*)((mailto:)|([^/@:]*@))", re.IGNORECASE)
_URLISH = re.compile(r"^[a-z][a-z0-9+.-]*://([^/?#\s:]+|\[[0-9a-f:.]+\])(:\d+)?([/?#]|$)", re.IGNORECASE)

# Save Page Now (IA's SPN2 API document, FIELD-NOTES.md): captures a minute and a day, signed in or not. The
# client paces itself at SPN_SAFETY of the per-minute limits, as EDGI's client does for CDX ("80% of the hard
# limits"), because the limits are per IP and per account, not per process.
SPN_SIGNED_IN_PER_MINUTE = 7
SPN_ANONYMOUS_PER_MINUTE = 3
SPN_SIGNED_IN_PER_DAY = 30_000
SPN_ANONYMOUS_PER_DAY = 200
SPN_PER_URL_PER_DAY = 5
SPN_SAFETY = 0.8
SPN_STATUS_RATE = 1.0  # status polls a second, shared by every job being watched
# status_ext values (without the "error:" prefix) the SPN2 document says to retry later, and those that mean
# the target itself is gone. `too-many-daily-captures` is per URL ("this URL has been captured 10 times
# today"): the URL has fresh captures, so it is neither retried nor a reason to stop the run.
SPN_RETRYABLE = frozenset({"user-session-limit", "too-many-requests", "no-browsers-available",
                           "soft-time-limit-exceeded", "browsing-timeout", "proxy-error", "internal-server-error",
                           "service-unavailable"})
SPN_TARGET_GONE = frozenset({"not-found", "invalid-host-resolution", "no-access", "blocked-url"})
SPN_URL_DAILY_LIMIT = "too-many-daily-captures"
# The account-wide (or anonymous) daily quota is announced in prose, not as a status_ext (observed_in_issues).
_SPN_QUOTA_TEXT = re.compile(r"daily\s+(?:not-logged-in\s+)?captures?\s+limit|captures?\s+per\s+day", re.IGNORECASE)
_SPN_STATUS_EXT = re.compile(r"error:([a-z][a-z-]+)")
# Other archives (Memento aggregators and TimeGates) are asked gently: one request a second.
OTHER_ARCHIVE_RATE = 1.0


# --------------------------------------------------------------------------------------------- exceptions


class ArchiveError(Exception):
    """Anything the Wayback Machine client could not do."""


class ArchiveQueryError(ArchiveError, ValueError):
    """A search the CDX server would reject (bad filter, collapse or match type); nothing was sent."""


class ArchiveUnavailableError(ArchiveError):
    """5xx answers or connection failures outlasted the retries: the archive is down, not the URL missing."""


class BlockedSiteError(ArchiveError):
    """The site is excluded from the Wayback Machine (by its owner, by IA, or by robots.txt)."""


class NoMementoError(ArchiveError):
    """The Wayback Machine has no capture of the URL at all."""


class RateLimitedError(ArchiveError):
    """The Wayback Machine kept answering 429 after the endpoint was paused and the request retried."""


class MementoRedirectLoopError(ArchiveError):
    """Following the Wayback Machine's own redirects came back to a memento already seen."""


class SpnQuotaError(ArchiveError):
    """Save Page Now says the account's (or the anonymous) daily capture quota is spent: stop asking today."""


class SpnAuthError(ArchiveError):
    """Save Page Now refused the keys (or, anonymous, refused to capture without them)."""


class NotSentError(ArchiveError):
    """The caller withdrew a request while it waited for its turn (the run is stopping)."""


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


def _as_utc(when: datetime) -> datetime:
    # Naive datetimes are taken as UTC, like Wayback timestamps themselves.
    return when.replace(tzinfo=timezone.utc) if when.tzinfo is None else when.astimezone(timezone.utc)


def _http_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return _as_utc(parsed) if parsed else None


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


def _dedupe(records: Iterable[CdxRecord], page: CdxPage, seen: set[CdxRecord] | None = None) -> None:
    seen = set() if seen is None else seen
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
        rows = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ArchiveError(f"CDX answer is not JSON: {exc}") from None
    if not isinstance(rows, list) or not rows:
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
    page = CdxPage()
    records = []
    for index, line in enumerate(lines):
        if not line.strip():
            rest = [item.strip() for item in lines[index + 1:] if item.strip()]
            # A single token after the blank line is the key; anything else is more rows (be lenient).
            if len(rest) == 1 and " " not in rest[0]:
                page.resume_key = rest[0]
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
        when = _http_date(params.get("datetime"))
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


def _check_replay_error(status: int, headers: Mapping[str, str], text: str, url: str) -> None:
    """Raise for the Wayback Machine's own answers that mean 'no memento here' (not archived responses)."""
    headers = CIMultiDict(headers)
    runtime = headers.get("X-Archive-Wayback-Runtime-Error", "")
    if any(marker in runtime or marker in text[:4000] for marker in _BLOCKED_MARKERS):
        raise BlockedSiteError(f"{url}: {runtime or 'blocked'}")
    if status == 200 and EXCLUDED_TEXT in text:
        # A *soft* error: HTTP 200 (test_get_memento_raises_blocked_error.yaml).
        raise BlockedSiteError(f"{url}: excluded from the Wayback Machine")
    if status == 404 or any(marker in runtime for marker in _NOT_ARCHIVED_MARKERS):
        raise NoMementoError(f"{url}: the Wayback Machine has not archived that URL")
    if status == 403:
        raise BlockedSiteError(f"{url}: HTTP 403 from the Wayback Machine")
    if status != 200:
        # Not archived content (no Memento-Datetime) and not one of the known answers: do not guess.
        raise ArchiveError(f"{url}: unexpected HTTP {status} from the Wayback Machine: {runtime or text[:200]}")


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
        data = json.loads(text)
    except (TypeError, ValueError):
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


def _status_ext(value: Any) -> str | None:
    text = str(value or "").strip()
    if not text:
        return None
    return text[len("error:"):] if text.startswith("error:") else text


def _spn_answer(response: "_Response") -> bool:
    """Save Page Now answers that are not outages: the quota message, and failure pages naming their error
    (a failed capture is SPN's answer about the target; asking again at once would only fail again)."""
    if response.status == 429:
        return bool(_SPN_QUOTA_TEXT.search(response.text[:4000]))
    if response.status >= 500:
        return bool(_SPN_STATUS_EXT.search(response.text[:4000])
                    or "X-Archive-Wayback-Runtime-Error" in response.headers)
    return False


def _json_or_none(text: str) -> Any:
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return None


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
    data = _json_or_none(text.decode("utf-8", "replace") if isinstance(text, bytes) else text)
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
        when = None
        try:
            when = _as_utc(datetime.fromisoformat(str(entry.get("datetime", ""))))
        except ValueError:
            pass
        for uri in uris:
            if isinstance(uri, str) and uri and uri not in seen:
                seen.add(uri)
                out.append(OtherMemento(uri, when, rel))
    return out


# ------------------------------------------------------------------------------------------ rate limits


class RateLimiter:
    """Async token bucket shared by every task using one endpoint.

    `rate` tokens a second, at most `burst` saved up (1 = evenly spaced requests, which is what IA asks for).
    The lock makes waiters queue in order, so concurrency never turns into a burst. `pause(s)` stops the
    endpoint for everyone, which is what a 429 calls for (IA sends no Retry-After; ~60 s is the advice).
    """

    def __init__(self, rate: float, *, burst: float = 1.0,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep) -> None:
        self.rate = float(rate)
        self.capacity = max(1.0, float(burst))
        self._clock = clock
        self._sleep = sleep
        self._tokens = self.capacity
        self._updated = clock()
        self._paused_until = float("-inf")
        self._lock = asyncio.Lock()

    def pause(self, seconds: float) -> None:
        now = self._clock()
        self._paused_until = max(self._paused_until, now + seconds)
        # Nothing saved up may be spent the moment the pause ends.
        self._tokens = min(self._tokens, 0.0)
        self._updated = max(self._updated, now)

    @property
    def paused_until(self) -> float:
        return self._paused_until

    async def acquire(self) -> None:
        async with self._lock:
            while True:
                now = self._clock()
                if now < self._paused_until:
                    await self._sleep(self._paused_until - now)
                    continue
                if self.rate <= 0:  # unlimited (pauses still apply)
                    return
                if now > self._updated:
                    self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.rate)
                    self._updated = now
                # The tolerance keeps float dust (0.99999999999909 tokens) from asking for a sleep too
                # short to move a clock at all, which would spin forever.
                if self._tokens >= 1.0 - 1e-9:
                    self._tokens = max(0.0, self._tokens - 1.0)
                    return
                await self._sleep(max((1.0 - self._tokens) / self.rate, 1e-6))


# ---------------------------------------------------------------------------------------------- client


@dataclass
class _Response:
    status: int
    headers: CIMultiDict
    body: bytes
    truncated: bool
    url: str

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    @property
    def is_memento(self) -> bool:
        return "Memento-Datetime" in self.headers


class _RetryableStatus(Exception):
    def __init__(self, response: _Response) -> None:
        super().__init__(f"HTTP {response.status} from {response.url}")
        self.response = response


class _RateLimited(_RetryableStatus):
    pass


_TRANSPORT_ERRORS = (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError, asyncio.TimeoutError)


async def _read_capped(response: aiohttp.ClientResponse, cap: int) -> tuple[bytes, bool]:
    chunks: list[bytes] = []
    total = 0
    async for chunk in response.content.iter_chunked(64 * 1024):
        room = cap - total
        if len(chunk) >= room:
            chunks.append(chunk[:room])
            return b"".join(chunks), len(chunk) > room or not response.content.at_eof()
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks), False


class WaybackClient:
    """The Wayback Machine client: one limiter per endpoint, retries, typed answers.

    Endpoints come from `settings` so a local archive (linkkeeper.testing.SimulatedArchive) can stand in; the
    URLs handed back are always the public https://web.archive.org/web/ form. Retries: exponential backoff
    with jitter for 5xx and connection errors, never for 4xx, never for archived responses (Memento-Datetime:
    a captured 503 is content, not an outage). A 429 pauses that endpoint for `rate_limit_pause` seconds for
    every task, then the request is retried. `clock`/`sleep` are injectable so tests run on fake time.
    """

    CDX_BODY_CAP = 50_000_000  # CDX pages are text indexes: no small cap, but never unbounded

    def __init__(self, session: aiohttp.ClientSession, settings: Settings | None = None, *,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
                 limiters: Mapping[str, RateLimiter] | None = None,
                 max_attempts: int = 4, rate_limit_pause: float = 60.0,
                 backoff_initial: float = 1.0, max_redirects: int = 5) -> None:
        self.session = session
        self.settings = settings or Settings()
        self.clock = clock
        self.sleep = sleep
        rates = {"cdx": self.settings.cdx_rate, "replay": self.settings.replay_rate,
                 "spn": (SPN_SIGNED_IN_PER_MINUTE if self.spn_signed_in else SPN_ANONYMOUS_PER_MINUTE)
                 * SPN_SAFETY / 60.0,
                 "spn_status": SPN_STATUS_RATE, "memento": OTHER_ARCHIVE_RATE}
        self.limiters: dict[str, RateLimiter] = {
            name: (limiters or {}).get(name) or RateLimiter(rate, clock=clock, sleep=sleep)
            for name, rate in rates.items()
        }
        self.requests: Counter[str] = Counter()
        self.pauses: Counter[str] = Counter()  # 429s answered by pausing the endpoint
        self.max_attempts = max_attempts
        self.rate_limit_pause = rate_limit_pause
        self.backoff_initial = backoff_initial
        self.backoff_max = max(backoff_initial, self.settings.retry_wait_max)
        self.max_redirects = max_redirects
        self._headers = {"User-Agent": self.settings.full_user_agent}
        self._timeout = aiohttp.ClientTimeout(total=self.settings.total_timeout,
                                              sock_connect=self.settings.connect_timeout,
                                              sock_read=self.settings.read_timeout)

    # ---- transport

    def _wait(self, retry_state: tenacity.RetryCallState) -> float:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        if isinstance(exc, _RateLimited):
            return 0.0  # the endpoint pause (in the limiter) is the wait, shared by every task
        return tenacity.wait_exponential_jitter(multiplier=self.backoff_initial, max=self.backoff_max,
                                                jitter=self.backoff_initial)(retry_state)

    async def _get(self, endpoint: str, url: str, params: Sequence[tuple[str, str]] | None = None,
                   cap: int | None = None) -> _Response:
        return await self._request(endpoint, "GET", url, params=params, cap=cap)

    async def _request(self, endpoint: str, method: str, url: str, *,
                       params: Sequence[tuple[str, str]] | None = None, data: Mapping[str, str] | None = None,
                       headers: Mapping[str, str] | None = None, cap: int | None = None,
                       timeout: aiohttp.ClientTimeout | None = None,
                       final: Callable[[_Response], bool] | None = None,
                       proceed: Callable[[], bool] | None = None) -> _Response:
        """One request through the endpoint's limiter, retried on 5xx and connection errors; a 429 pauses the
        endpoint for everyone and is retried. `final` names answers to return as they are although their
        status says otherwise (Save Page Now's quota message on a 429, its failure pages on a 5xx).
        `proceed` is asked when the limiter lets the request go: False withdraws it (NotSentError)."""
        limiter = self.limiters[endpoint]
        cap = cap or self.CDX_BODY_CAP
        sent_headers = {**self._headers, **(headers or {})}

        async def attempt() -> _Response:
            await limiter.acquire()
            if proceed is not None and not proceed():
                raise NotSentError(f"{endpoint}: request withdrawn before it was sent ({url})")
            self.requests[endpoint] += 1
            async with self.session.request(method, url, params=params, data=data, headers=sent_headers,
                                            allow_redirects=False, timeout=timeout or self._timeout) as raw:
                body, truncated = await _read_capped(raw, cap)
                response = _Response(raw.status, CIMultiDict(raw.headers), body, truncated, str(raw.url))
            if response.is_memento:
                return response  # an archived response, whatever its status
            if final is not None and final(response):
                return response
            if response.status == 429:
                limiter.pause(self.rate_limit_pause)
                self.pauses[endpoint] += 1
                raise _RateLimited(response)
            if response.status >= 500:
                raise _RetryableStatus(response)
            return response

        retrying = tenacity.AsyncRetrying(
            stop=tenacity.stop_after_attempt(self.max_attempts),
            wait=self._wait,
            retry=tenacity.retry_if_exception_type((_RetryableStatus, *_TRANSPORT_ERRORS)),
            sleep=self.sleep,
            reraise=True,
        )
        try:
            return await retrying(attempt)
        except _RateLimited as exc:
            raise RateLimitedError(f"{endpoint}: still rate limited after {self.max_attempts} attempts "
                                   f"({exc.response.url})") from None
        except _RetryableStatus as exc:
            raise ArchiveUnavailableError(f"{endpoint}: HTTP {exc.response.status} after {self.max_attempts} "
                                          f"attempts ({exc.response.url})") from None
        except _TRANSPORT_ERRORS as exc:
            raise ArchiveUnavailableError(f"{endpoint}: {type(exc).__name__}: {exc} after {self.max_attempts} "
                                          f"attempts ({url})") from exc

    # ---- CDX

    async def search(self, url: str, *, match_type: str | None = None,
                     from_: datetime | date | str | None = None, to: datetime | date | str | None = None,
                     filters: Sequence[str] | str = (), collapse: Sequence[str] | str | None = None,
                     limit: int | None = None, closest: datetime | str | None = None,
                     fields: Sequence[str] | None = None, resume: bool = False,
                     skip_malformed: bool = True, max_pages: int = 100) -> list[CdxRecord]:
        """CDX search (output=json). Follows resume keys when `resume=True` (one request per page).

        Duplicate rows are dropped (across pages too); rows whose `original` is not a URL are dropped unless
        `skip_malformed=False`. Raises BlockedSiteError for excluded sites, ArchiveQueryError for a query
        the server would reject.
        """
        filters = [filters] if isinstance(filters, str) else list(filters)
        collapses = [] if collapse is None else [collapse] if isinstance(collapse, str) else list(collapse)
        # Validate with waybackpy's own CDX syntax checks rather than re-inventing them (they raise
        # waybackpy's WaybackError; ours is an ArchiveQueryError, so callers see one family).
        try:
            _waybackpy_cdx.check_filters(filters)
            _waybackpy_cdx.check_collapses(collapses)
            _waybackpy_cdx.check_match_type(match_type, url)
        except _WaybackpyError as exc:
            raise ArchiveQueryError(str(exc)) from None
        for item in filters:
            # waybackpy checks with re.search; the server needs the whole `[!]field:regex` shape.
            if not re.fullmatch(r"!?(urlkey|timestamp|original|mimetype|statuscode|digest|length):.*", item):
                raise ArchiveQueryError(f"filter {item!r} is not [!]field:regex")
        params: list[tuple[str, str]] = [("url", url), ("output", "json")]
        if match_type:
            params.append(("matchType", match_type))
        if from_ is not None:
            params.append(("from", format_timestamp(from_)))
        if to is not None:
            params.append(("to", format_timestamp(to)))
        params += [("filter", f) for f in filters]
        params += [("collapse", c) for c in collapses]
        if limit is not None:
            params.append(("limit", str(int(limit))))
        if closest is not None:
            params += [("closest", format_timestamp(closest)), ("sort", "closest")]
        if fields:
            params.append(("fl", ",".join(fields)))
        if resume:
            params.append(("showResumeKey", "true"))

        records, _truncated = await self._walk_pages(url, params, fields, resume, skip_malformed, max_pages)
        return records

    async def _walk_pages(self, url: str, params: list[tuple[str, str]], fields: Sequence[str] | None,
                          resume: bool, skip_malformed: bool, max_pages: int) -> tuple[list[CdxRecord], bool]:
        """Every page of one query; the flag says pages were left unread (max_pages reached)."""
        records: list[CdxRecord] = []
        seen: set[CdxRecord] = set()
        resume_key: str | None = None
        for _page in range(max_pages):
            query = params + ([("resumeKey", resume_key)] if resume_key else [])
            page = await self._cdx_page(url, query, fields or DEFAULT_FIELDS)
            merged = CdxPage()
            _dedupe(page.records, merged, seen)
            records += [r for r in merged.records if not (skip_malformed and r.is_malformed)]
            # The key is opaque (e.g. `com%2Ccnn%29%2F+2001041400593%3A`): sent back exactly as received.
            # A page may be empty yet carry a key (the server stops scanning at internal limits), so only a
            # missing or repeated key ends the walk.
            previous, resume_key = resume_key, (page.resume_key if resume else None)
            if not resume_key or resume_key == previous:
                return records, False
        return records, True

    async def prefix_search(self, url: str, *, from_: datetime | date | str, to: datetime | date | str,
                            filters: Sequence[str] = ("statuscode:200",), fields: Sequence[str] | None = None,
                            page_rows: int = 10_000, max_pages: int = 3) -> tuple[list[CdxRecord], bool]:
        """Every capture under a URL prefix within [from_, to]: one request per page of `page_rows` rows.

        Returns (records, truncated). Rows come sorted by urlkey, then timestamp, so when pages were left
        unread only the urlkeys before the last one returned are complete.
        """
        filters = list(filters)
        try:
            _waybackpy_cdx.check_filters(filters)
            _waybackpy_cdx.check_match_type("prefix", url)
        except _WaybackpyError as exc:
            raise ArchiveQueryError(str(exc)) from None
        params: list[tuple[str, str]] = [("url", url), ("output", "json"), ("matchType", "prefix"),
                                         ("from", format_timestamp(from_)), ("to", format_timestamp(to))]
        params += [("filter", f) for f in filters]
        if fields:
            params.append(("fl", ",".join(fields)))
        params += [("limit", str(int(page_rows))), ("showResumeKey", "true")]
        return await self._walk_pages(url, params, fields, True, True, max_pages)

    async def closest_captures(self, url: str, when: datetime, limit: int = 25) -> list[CdxRecord]:
        """The captures of one URL nearest to `when` (either side), 200s and revisits, from ONE CDX request.

        Revisits come along so a revisit near `when` can be resolved to the capture it repeats; redirects,
        errors and other statuses are filtered out by the server, so they cannot crowd the limit.
        """
        return await self.search(url, filters=["statuscode:200|-"], closest=when, limit=limit)

    async def _cdx_page(self, url: str, params: Sequence[tuple[str, str]], fields: Sequence[str]) -> CdxPage:
        response = await self._get("cdx", self.settings.wayback_cdx_url, params)
        text = response.text
        runtime = response.headers.get("X-Archive-Wayback-Runtime-Error", "")
        # Recorded: HTTP 403, the exception named in a header and as the whole body. Rows never start with
        # "org.archive", so a body that does is an error whatever the status.
        error_text = text[:4000] if response.status >= 400 or text.startswith("org.archive") else ""
        if response.status == 403 or any(m in error_text or m in runtime for m in _BLOCKED_MARKERS):
            raise BlockedSiteError(f"{url}: {runtime or text.strip()[:200] or 'HTTP 403'}")
        if response.status >= 400:
            raise ArchiveError(f"CDX search for {url}: HTTP {response.status}: {text.strip()[:200]}")
        return parse_cdx(text, fields)

    # ---- replay

    def _replay_url(self, timestamp: str, url: str, raw: bool) -> str:
        base = self.settings.wayback_replay_url.rstrip("/") + "/"
        return f"{base}{timestamp}{'id_' if raw else ''}/{url.split('#', 1)[0]}"

    async def get_memento(self, url: str, timestamp: datetime | str, raw: bool = True) -> Memento:
        """Fetch the memento of `url` at (or nearest to) `timestamp`.

        The Wayback Machine's own 302s to another capture are followed (at most `max_redirects`, relative
        Locations too), always through the configured replay endpoint. A captured redirect is returned as a
        Memento with its 3xx status and `redirect_location`, not followed: to see where it led, ask for
        `redirect_location` at the memento's timestamp, as a browser in the Wayback Machine would.
        Raises NoMementoError (never archived), BlockedSiteError (excluded), MementoRedirectLoopError.
        """
        requested_ts = format_timestamp(timestamp)
        current_url, current_ts = url, requested_ts
        seen: set[tuple[str, str]] = set()
        for _hop in range(self.max_redirects + 1):
            seen.add((current_ts, current_url))
            response = await self._get("replay", self._replay_url(current_ts, current_url, raw),
                                       cap=self.settings.max_bytes)
            target = wayback_redirect_target(response.status, response.headers)
            if target is not None:
                if target in seen:
                    raise MementoRedirectLoopError(f"{url}: Wayback redirects loop at {target[0]} {target[1]}")
                current_ts, current_url = target
                continue
            return self._memento(response, current_url, current_ts, url, requested_ts, raw)
        raise ArchiveError(f"{url}: more than {self.max_redirects} Wayback redirects")

    def _memento(self, response: _Response, url: str, timestamp: str, requested_url: str,
                 requested_ts: str, raw: bool) -> Memento:
        headers = response.headers
        text = response.text
        if not response.is_memento:
            _check_replay_error(response.status, headers, text, requested_url)
        links = memento_links(headers.get("Link"))
        captured = _http_date(headers.get("Memento-Datetime"))
        status = response.status
        redirect_location = None
        if 300 <= status < 400:
            location = headers.get("Location")
            located = parse_archive_location(location)
            redirect_location = located[2] if located else (urljoin(url, location) if location else None)
        elif not raw and status == 200 and not response.is_memento and (match := _VIEW_MODE_REDIRECT.search(text)):
            # View mode turns a captured redirect into a 200 page; report it as the redirect it was.
            status = int(match.group(1))
            href = re.search(r"""href=["']((?:https?://[^/"']+)?/web/%s[a-z_]*/[^"']+)["']""" % timestamp, text)
            located = parse_archive_location(href.group(1)) if href else None
            redirect_location = located[2] if located else None
        original = links.get("original", (url, None))[0] or url
        served_ts = format_timestamp(captured) if captured else timestamp
        return Memento(url=original, timestamp=served_ts, status=status, links=links, body=response.body,
                       redirect_location=redirect_location, requested_url=requested_url,
                       requested_timestamp=requested_ts, mimetype=headers.get("Content-Type", ""),
                       truncated=response.truncated, headers=dict(headers))

    async def timegate_hop(self, url: str, when: datetime | str) -> str | None:
        """The timestamp of the capture nearest to `when`, from ONE replay request (its first hop only), or None
        when the URL was never archived. Enough to know a capture exists without fetching it."""
        response = await self._get("replay", self._replay_url(format_timestamp(when), url, raw=True), cap=65536)
        target = wayback_redirect_target(response.status, response.headers)
        if target is not None:
            return target[0]
        if response.is_memento:
            captured = _http_date(response.headers.get("Memento-Datetime"))
            return format_timestamp(captured or when)
        try:
            _check_replay_error(response.status, response.headers, response.text, url)
        except NoMementoError:
            return None
        return format_timestamp(when)

    # ---- Save Page Now

    @property
    def spn_signed_in(self) -> bool:
        return bool(self.settings.spn_access_key and self.settings.spn_secret)

    def _spn_headers(self) -> dict[str, str]:
        return {"Accept": "application/json",
                "Authorization": f"LOW {self.settings.spn_access_key}:{self.settings.spn_secret}"}

    @property
    def _save_timeout(self) -> aiohttp.ClientTimeout:
        # A capture is made while we wait (17-50 s measured); the anonymous form answers only when it is done.
        return aiohttp.ClientTimeout(total=max(self.settings.total_timeout, 120.0),
                                     sock_connect=self.settings.connect_timeout)

    def _spn_refusals(self, response: _Response, who: str) -> None:
        if response.status in (401, 403):
            raise SpnAuthError(f"Save Page Now refused {who} (HTTP {response.status}): {response.text.strip()[:200]}")
        # Only an answer that is not a capture can be the quota message (a captured page may say anything).
        if response.status >= 400 and _SPN_QUOTA_TEXT.search(response.text[:4000]):
            raise SpnQuotaError(f"Save Page Now daily quota: {html.unescape(response.text.strip())[:200]}")

    async def save_page(self, url: str, *, poll_interval: float = 5.0, poll_timeout: float = 300.0,
                        proceed: Callable[[], bool] | None = None) -> SaveJob:
        """Ask Save Page Now to capture `url`: SPN2 (submit, then poll the job) when keys are set, otherwise the
        anonymous GET /save/URL form. Raises SpnQuotaError and SpnAuthError; SPN's own errors come back as a
        SaveJob with status "error" (the caller decides what to retry)."""
        if not self.spn_signed_in:
            return await self.save_anonymous(url, proceed=proceed)
        job = await self.spn2_submit(url, proceed=proceed)
        waited = 0.0
        while job.status == "pending" and job.job_id and waited < poll_timeout:
            await self.sleep(poll_interval)
            waited += poll_interval
            job = await self.spn2_status(job)
        return job

    async def spn2_submit(self, url: str, proceed: Callable[[], bool] | None = None) -> SaveJob:
        response = await self._request("spn", "POST", self.settings.wayback_save_url.rstrip("/"),
                                        data={"url": url}, headers=self._spn_headers(), cap=65536,
                                        timeout=self._save_timeout, final=_spn_answer, proceed=proceed)
        self._spn_refusals(response, "the access keys")
        data = _json_or_none(response.text)
        if isinstance(data, dict) and data.get("job_id"):
            return SaveJob(url, "spn2", "pending", job_id=str(data["job_id"]))
        if isinstance(data, dict):
            if _SPN_QUOTA_TEXT.search(str(data.get("message") or "")):
                raise SpnQuotaError(f"Save Page Now daily quota: {data.get('message')}")
            return SaveJob(url, "spn2", "error", status_ext=_status_ext(data.get("status_ext")) or
                           f"http-{response.status}", message=str(data.get("message") or "")[:500])
        match = _SPN_STATUS_EXT.search(response.text)
        return SaveJob(url, "spn2", "error", status_ext=match.group(1) if match else f"http-{response.status}",
                       message=response.text.strip()[:500])

    async def spn2_status(self, job: SaveJob) -> SaveJob:
        """One poll of a job. `pending` may also mean the job is unknown or expired (the status endpoint says
        pending for made-up ids, observed_in_issues.json), which is why polling has a time limit."""
        base = self.settings.wayback_save_url.rstrip("/")
        response = await self._get_with("spn_status", f"{base}/status/{job.job_id}", self._spn_headers())
        self._spn_refusals(response, "the access keys")
        data = _json_or_none(response.text)
        if not isinstance(data, dict):
            return SaveJob(**{**job.__dict__, "polls": job.polls + 1})
        status = str(data.get("status") or "pending")
        common = dict(url=job.url, mode=job.mode, job_id=job.job_id, polls=job.polls + 1)
        if status == "success":
            return SaveJob(status="success", timestamp=str(data.get("timestamp") or "") or None,
                           original_url=str(data.get("original_url") or "") or None, **common)
        if status == "error":
            return SaveJob(status="error", status_ext=_status_ext(data.get("status_ext")) or "unknown",
                           message=str(data.get("message") or "")[:500], **common)
        return SaveJob(status="pending", **common)

    async def spn2_user_status(self) -> dict:
        """The account's SPN budget: {"available": sessions, "daily_captures": n, "daily_captures_limit": n, ...}."""
        base = self.settings.wayback_save_url.rstrip("/")
        response = await self._get_with("spn_status", f"{base}/status/user", self._spn_headers())
        self._spn_refusals(response, "the access keys")
        data = _json_or_none(response.text)
        return data if isinstance(data, dict) else {}

    async def _get_with(self, endpoint: str, url: str, headers: Mapping[str, str]) -> _Response:
        return await self._request(endpoint, "GET", url, headers=headers, cap=65536)

    async def save_anonymous(self, url: str, proceed: Callable[[], bool] | None = None) -> SaveJob:
        """The anonymous form, GET /save/URL. Where the new capture is told differs by year: a relative
        Content-Location (2020), a Location, a Link rel=memento, or nothing at all (2025); in the last case one
        TimeGate hop finds the capture just made."""
        base = self.settings.wayback_save_url.rstrip("/")
        response = await self._request("spn", "GET", f"{base}/{url}", cap=65536, timeout=self._save_timeout,
                                        final=_spn_answer, proceed=proceed)
        self._spn_refusals(response, "an anonymous capture")
        if response.status >= 400:
            match = _SPN_STATUS_EXT.search(response.text)
            return SaveJob(url, "anonymous", "error",
                           status_ext=match.group(1) if match else f"http-{response.status}",
                           message=html.unescape(re.sub(r"<[^>]+>", " ", response.text)).strip()[:500])
        located = None
        for value in (response.headers.get("Content-Location"), response.headers.get("Location"),
                      (memento_links(response.headers.get("Link")).get("memento") or (None,))[0]):
            located = parse_archive_location(value)
            if located:
                break
        if located:
            timestamp, _mode, original = located
            return SaveJob(url, "anonymous", "success", timestamp=timestamp, original_url=original)
        timestamp = await self.timegate_hop(url, datetime.now(timezone.utc))
        if timestamp:
            return SaveJob(url, "anonymous", "success", timestamp=timestamp, original_url=url,
                           message="capture located by a TimeGate request (the save answer did not say where)")
        return SaveJob(url, "anonymous", "error", status_ext="no-capture-found",
                       message="Save Page Now answered, but no capture of the URL can be found")

    # ---- other archives (Memento)

    async def other_archive_mementos(self, endpoint: str, url: str, when: datetime) -> list[OtherMemento]:
        """Mementos of `url` near `when` in other archives, from a TimeTravel-style JSON API
        (`.../api/json/` + TS/URL) or a plain RFC 7089 TimeGate (endpoint + URL, Accept-Datetime)."""
        if "/api/json" in endpoint:
            ts = format_timestamp(_as_utc(when))
            response = await self._get("memento", f"{endpoint.rstrip('/')}/{ts}/{url}", cap=2_000_000)
            if response.status in (404, 410) or not response.body.strip():
                return []
            if response.status >= 400:
                raise ArchiveError(f"{endpoint}: HTTP {response.status} for {url}")
            return parse_timetravel(response.body)
        accept = email.utils.format_datetime(_as_utc(when), usegmt=True)
        response = await self._get_with("memento", f"{endpoint}{url}", {"Accept-Datetime": accept})
        if response.status in (404, 410):
            return []
        if response.status >= 400:
            raise ArchiveError(f"{endpoint}: HTTP {response.status} for {url}")
        out: list[OtherMemento] = []
        location = response.headers.get("Location")
        if 300 <= response.status < 400 and location:
            out.append(OtherMemento(urljoin(f"{endpoint}{url}", location), None, "closest"))
        for rel, (uri, when_) in memento_links(response.headers.get("Link")).items():
            if rel.endswith("memento"):
                if out and out[0].uri == uri and out[0].datetime is None:
                    out[0] = OtherMemento(uri, when_, "closest")
                elif all(m.uri != uri for m in out):
                    out.append(OtherMemento(uri, when_, rel.replace(" memento", "") or "memento"))
        return out

    async def fetch_other_memento(self, memento: OtherMemento, max_hops: int = 5) -> Memento:
        """GET a memento in another archive, following its redirects by hand (each through the limiter)."""
        current = memento.uri
        for _hop in range(max_hops + 1):
            response = await self._get("memento", current, cap=self.settings.max_bytes)
            location = response.headers.get("Location")
            if 300 <= response.status < 400 and location:
                current = urljoin(current, location)
                continue
            captured = _http_date(response.headers.get("Memento-Datetime")) or memento.datetime
            original = memento_links(response.headers.get("Link")).get("original", (None, None))[0]
            return Memento(url=original or memento.uri, timestamp=format_timestamp(captured) if captured
                           else memento.timestamp, status=response.status, body=response.body,
                           requested_url=current, requested_timestamp=memento.timestamp,
                           mimetype=response.headers.get("Content-Type", ""), truncated=response.truncated,
                           headers=dict(response.headers))
        raise ArchiveError(f"{memento.uri}: more than {max_hops} redirects")
