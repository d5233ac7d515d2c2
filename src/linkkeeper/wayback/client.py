"""Owns the Wayback Machine client: CDX search (exact, closest, prefix), replay and its TimeGate hop, and the
way in to Save Page Now (spn.py) and to other archives' mementos (memento.py); every request through one
per-endpoint rate limiter, with retries; the archive's own error answers turned into specific exceptions
(errors.py). Records and parsers are in records.py. Knows nothing of posts.

Shaped after EDGI's `wayback` library (edgi-govdata-archiving/wayback): typed records, a client that owns the
rate limits and retries, specific exception classes. waybackpy checks CDX query syntax (docs/wayback-notes.md).
Behaviour is checked against real recorded responses (tests/data/real/wayback, tests/test_wayback_recordings.py).

Facts about the real service this module relies on (see FIELD-NOTES.md, "Wayback Machine APIs"):
- A replay request for a timestamp without a capture gets the Wayback Machine's own 302 to the nearest capture
  (either side), marked by `X-Archive-Redirect-Reason`; the Location may be relative.
- Any response carrying `Memento-Datetime` is an archived response: its status (301, 404, even 429) belongs to
  the archived site, so it must never be retried or read as the Wayback Machine's own error.
- Excluded sites: CDX answers 403 with `AdministrativeAccessControlException` (or `RobotAccessControlException`);
  replay answers **200** with a page saying "This URL has been excluded from the Wayback Machine."
- No Retry-After on 429; ignoring 429s gets the IP firewalled, so a 429 pauses the whole endpoint for ~60 s.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter
from datetime import date, datetime
from typing import Any, Awaitable, Callable, Mapping, Sequence
from urllib.parse import urljoin

import aiohttp
import tenacity
from multidict import CIMultiDict
from waybackpy import cdx_utils as waybackpy_cdx
from waybackpy.exceptions import WaybackError as WaybackpyError

from linkkeeper.net.session import endpoints_of, wayback_urls
from linkkeeper.settings import Settings
from linkkeeper.wayback import memento as other_archives
from linkkeeper.wayback import spn
from linkkeeper.wayback.errors import (ArchiveError, ArchiveQueryError, ArchiveUnavailableError, BlockedSiteError,
                                       MementoRedirectLoopError, NoMementoError, NotSentError, RateLimitedError)
from linkkeeper.wayback.ratelimit import RateLimiter
from linkkeeper.wayback.records import (DEFAULT_FIELDS, CdxPage, CdxRecord, Memento, OtherMemento, SaveJob,
                                        format_timestamp, http_date, memento_links, parse_archive_location,
                                        parse_cdx, surt_key, wayback_redirect_target)
from linkkeeper.wayback.transport import TRANSPORT_ERRORS, ArchiveResponse, read_capped

EXCLUDED_TEXT = "This URL has been excluded from the Wayback Machine"
_BLOCKED_MARKERS = ("AdministrativeAccessControlException", "RobotAccessControlException")
_NOT_ARCHIVED_MARKERS = ("has not archived that URL", "ResourceNotInArchiveException")
# In view mode (no `id_`) a captured redirect is served as a 200 page saying so (recorded in
# test_get_memento_with_redirect_in_view_mode.yaml); EDGI's client detects it the same way.
_VIEW_MODE_REDIRECT = re.compile(r"Got an? HTTP (3\d\d) response at crawl time", re.IGNORECASE)
# The whole `[!]field:regex` shape the CDX server needs (waybackpy checks with re.search, so a prefix passes).
_FILTER_SHAPE = re.compile(r"!?(urlkey|timestamp|original|mimetype|statuscode|digest|length):.*")


def _check_cdx_query(url: str, match_type: str | None, filters: Sequence[str], collapses: Sequence[str]) -> None:
    """Raise ArchiveQueryError for a query the CDX server would reject, before anything is sent.

    waybackpy's own validators decide the syntax (they raise waybackpy's WaybackError; ours is an
    ArchiveQueryError, so callers see one family); the whole-shape filter check is ours.
    """
    try:
        waybackpy_cdx.check_filters(list(filters))
        waybackpy_cdx.check_collapses(list(collapses))
        waybackpy_cdx.check_match_type(match_type, url)
    except WaybackpyError as exc:
        raise ArchiveQueryError(str(exc)) from None
    for item in filters:
        if not _FILTER_SHAPE.fullmatch(item):
            raise ArchiveQueryError(f"filter {item!r} is not [!]field:regex")


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


def _query_scope(url: str, match_type: str | None) -> str:
    """What a CDX query covers, as a urlkey prefix: a domain query its domain (`com,example`, no `)`), any
    other the keys starting with its URL's (`com,example)/news`)."""
    key = surt_key(url)
    return key.split(")", 1)[0] if match_type == "domain" else key


def _covers(refused: str, scope: str) -> bool:
    """Whether a refused scope covers a query's. The Wayback Machine excludes by urlkey prefix, so a rule that
    refused a query refuses every query under it: a URL prefix covers the keys that start with it; a domain
    covers the domain query again and its host's pages (`com,example` covers `com,example)/news`; its
    subdomains are left to ask, as the rule may name the host alone). Narrower never covers wider: a refused
    page says nothing of its site."""
    if ")" in refused:
        return ")" in scope and scope.startswith(refused)
    return scope == refused or scope.startswith(refused + ")")


class _RetryableStatus(Exception):
    def __init__(self, response: ArchiveResponse) -> None:
        super().__init__(f"HTTP {response.status} from {response.url}")
        self.response = response


class _RateLimited(_RetryableStatus):
    pass


class WaybackClient:
    """The Wayback Machine client: one limiter per endpoint, retries, typed answers.

    Endpoints come from `settings` so a local archive (linkkeeper.sim.archive.SimulatedArchive) can stand in; the
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
                 "spn": spn.submit_rate(self.settings), "spn_status": spn.SPN_STATUS_RATE,
                 "memento": other_archives.OTHER_ARCHIVE_RATE}
        self.limiters: dict[str, RateLimiter] = {
            name: (limiters or {}).get(name) or RateLimiter(rate, clock=clock, sleep=sleep)
            for name, rate in rates.items()
        }
        self.requests: Counter[str] = Counter()
        # What the CDX server refused this run as excluded (blocked site), as match scopes: asked again under
        # one of them, it would refuse again, so the client answers for it (`_query_scope`, `_covers`).
        self.refused: set[str] = set()
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
                   cap: int | None = None) -> ArchiveResponse:
        return await self._request(endpoint, "GET", url, params=params, cap=cap)

    async def _request(self, endpoint: str, method: str, url: str, *,
                       params: Sequence[tuple[str, str]] | None = None, data: Mapping[str, str] | None = None,
                       headers: Mapping[str, str] | None = None, cap: int | None = None,
                       timeout: aiohttp.ClientTimeout | None = None,
                       final: Callable[[ArchiveResponse], bool] | None = None,
                       proceed: Callable[[], bool] | None = None) -> ArchiveResponse:
        """One request through the endpoint's limiter, retried on 5xx and connection errors; a 429 pauses the
        endpoint for everyone and is retried. `final` names answers to return as they are although their
        status says otherwise (Save Page Now's quota message on a 429, its failure pages on a 5xx).
        `proceed` is asked when the limiter lets the request go: False withdraws it (NotSentError)."""
        limiter = self.limiters[endpoint]
        cap = cap or self.CDX_BODY_CAP
        sent_headers = {**self._headers, **(headers or {})}

        async def attempt() -> ArchiveResponse:
            await limiter.acquire()
            if proceed is not None and not proceed():
                raise NotSentError(f"{endpoint}: request withdrawn before it was sent ({url})")
            self.requests[endpoint] += 1
            async with self.session.request(method, url, params=params, data=data, headers=sent_headers,
                                            allow_redirects=False, timeout=timeout or self._timeout) as raw:
                body, truncated = await read_capped(raw, cap)
                response = ArchiveResponse(raw.status, CIMultiDict(raw.headers), body, truncated, str(raw.url))
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
            retry=tenacity.retry_if_exception_type((_RetryableStatus, *TRANSPORT_ERRORS)),
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
        except (aiohttp.InvalidURL, aiohttp.NonHttpUrlClientError) as exc:
            # A URL an answer handed us (a memento, a redirect) that aiohttp will not send: that URL's failure,
            # not the archive's state nor our query's mistake.
            raise ArchiveError(f"{endpoint}: {type(exc).__name__}: {str(exc)[:200]} ({url[:200]})") from None
        except TRANSPORT_ERRORS as exc:
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
        _check_cdx_query(url, match_type, filters, collapses)
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
        scope = _query_scope(url, dict(params).get("matchType"))
        if refused := next((r for r in sorted(self.refused) if _covers(r, scope)), None):
            raise BlockedSiteError(f"{url}: excluded from the Wayback Machine (refused for {refused} earlier "
                                   "in this run)")
        for _page in range(max_pages):
            query = params + ([("resumeKey", resume_key)] if resume_key else [])
            try:
                page = await self._cdx_page(url, query, fields or DEFAULT_FIELDS)
            except BlockedSiteError:
                self.refused.add(scope)
                raise
            fresh = [r for r in page.records if r not in seen]  # the page itself has no duplicates left
            seen.update(fresh)
            records += [r for r in fresh if not (skip_malformed and r.is_malformed)]
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
        _check_cdx_query(url, "prefix", filters, [])
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

    def _memento(self, response: ArchiveResponse, url: str, timestamp: str, requested_url: str,
                 requested_ts: str, raw: bool) -> Memento:
        headers = response.headers
        text = response.text
        if not response.is_memento:
            _check_replay_error(response.status, headers, text, requested_url)
        links = memento_links(headers.get("Link"))
        captured = http_date(headers.get("Memento-Datetime"))
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
            captured = http_date(response.headers.get("Memento-Datetime"))
            return format_timestamp(captured or when)
        try:
            _check_replay_error(response.status, response.headers, response.text, url)
        except NoMementoError:
            return None
        return format_timestamp(when)

    # ---- Save Page Now (spn.py)

    @property
    def spn_signed_in(self) -> bool:
        return spn.signed_in(self.settings)

    async def save_page(self, url: str, *, poll_interval: float = 5.0, poll_timeout: float = 300.0,
                        proceed: Callable[[], bool] | None = None) -> SaveJob:
        """Ask Save Page Now to capture `url`: SPN2 (submit, then poll the job) when keys are set, otherwise the
        anonymous GET /save/URL form. Raises SpnQuotaError and SpnAuthError; SPN's own errors come back as a
        SaveJob with status "error" (the caller decides what to retry). `proceed` is asked when the request's
        turn comes: False withdraws it (NotSentError)."""
        return await spn.save_page(self._request, self.settings, url, sleep=self.sleep, locate=self.timegate_hop,
                                   poll_interval=poll_interval, poll_timeout=poll_timeout, proceed=proceed)

    async def spn2_user_status(self) -> dict:
        """The account's SPN budget: {"available": sessions, "daily_captures": n, "daily_captures_limit": n, ...}."""
        return await spn.user_status(self._request, self.settings)

    # ---- other archives (memento.py)

    async def other_archive_mementos(self, endpoint: str, url: str, when: datetime) -> list[OtherMemento]:
        """Mementos of `url` near `when` in other archives, from a TimeTravel-style JSON API
        (`.../api/json/` + TS/URL) or a plain RFC 7089 TimeGate (endpoint + URL, Accept-Datetime)."""
        return await other_archives.other_archive_mementos(self._request, endpoint, url, when)

    async def fetch_other_memento(self, memento: OtherMemento, max_hops: int = 5) -> Memento:
        """GET a memento in another archive, following its redirects by hand (each through the limiter)."""
        # The Wayback Machine was asked already: a memento an aggregator places on its configured endpoints
        # (a local stand-in, a pywb on the LAN) is no other archive's, and whatever path it names is not fetched.
        off_limits = endpoints_of(wayback_urls(self.settings)) - endpoints_of(self.settings.memento_timegates)
        return await other_archives.fetch_other_memento(self._request, memento, cap=self.settings.max_bytes,
                                                        max_hops=max_hops, off_limits=off_limits)
