"""A simulated Wayback Machine for the demo and the tests: CDX search, replay (view and `id_`), the
availability API and Save Page Now, shaped after the real responses recorded in tests/data/real/wayback, with
the real rate limits; `settings_for(base_url)` points a client at it."""

from __future__ import annotations

import base64
import email.utils
import hashlib
import json
import re
import time
from collections import Counter, deque
from dataclasses import dataclass
from functools import cached_property
from datetime import datetime, timezone
from typing import Callable
from urllib.parse import quote, urljoin

from aiohttp import web

from linkkeeper.wayback import surt_key


_CDX_FIELDS = ("urlkey", "timestamp", "original", "mimetype", "statuscode", "digest", "length")
_BLOCKED_RUNTIME_ERROR = ("org.archive.util.io.RuntimeIOException: "
                          "org.archive.wayback.exception.AdministrativeAccessControlException: Blocked Site Error")
_WAYBACK_PAGE = ('<!DOCTYPE html>\n<html lang="en">\n  <head>\n    <title>Wayback Machine</title>\n  </head>\n'
                 '  <body>\n<div id="error">\n{message}\n</div>\n  </body>\n</html>\n')
EXCLUDED_PAGE = _WAYBACK_PAGE.format(message="<h2>Sorry.</h2>\n<p>This URL has been excluded from the Wayback "
                                             "Machine.</p>")
NOT_ARCHIVED_PAGE = _WAYBACK_PAGE.format(message="<h2>Hrm.</h2>\n<p>The Wayback Machine has not archived that "
                                                 "URL.</p>")
RATE_LIMIT_PAGE = _WAYBACK_PAGE.format(message="<h2>Too Many Requests</h2>")


def cdx_digest(body: bytes | str) -> str:
    """The CDX `digest`: base32 of the SHA-1 of the body (as in the real index and EDGI's cdx_hash)."""
    if isinstance(body, str):
        body = body.encode("utf-8")
    return base64.b32encode(hashlib.sha1(body).digest()).decode("ascii")




def _pad_timestamp(timestamp: str) -> str:
    # Replay and `closest` accept 1–14 digits; missing parts take their lowest value.
    return timestamp + "00000101000000"[len(timestamp):]


def _ts_datetime(timestamp: str) -> datetime:
    try:
        return datetime.strptime(_pad_timestamp(timestamp)[:14], "%Y%m%d%H%M%S").replace(tzinfo=timezone.utc)
    except ValueError:
        return datetime(1970, 1, 1, tzinfo=timezone.utc)


def _http_date(timestamp: str) -> str:
    return email.utils.format_datetime(_ts_datetime(timestamp), usegmt=True)


@dataclass
class Capture:
    """One capture in the simulated archive.

    `status` is what the site answered at crawl time; 3xx captures name their target in `redirect_to`
    (absolute or relative to `url`). `revisit=True` makes a `warc/revisit` row (statuscode "-") whose replay
    serves the earlier capture with the same digest — give it the same body, or the same `digest`.
    """

    url: str
    timestamp: str
    status: int = 200
    mimetype: str = "text/html"
    body: bytes | str = b""
    redirect_to: str | None = None
    digest: str | None = None
    revisit: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.body, str):
            self.body = self.body.encode("utf-8")
        if not re.fullmatch(r"\d{14}", self.timestamp or ""):
            raise ValueError(f"capture timestamp {self.timestamp!r} is not 14 digits")
        if self.digest is None:
            self.digest = cdx_digest(self.body)

    @cached_property
    def key(self) -> str:
        # Computed once: the simulator matches every request against every capture.
        return surt_key(self.url)

    @property
    def redirect_target(self) -> str | None:
        return urljoin(self.url, self.redirect_to) if self.redirect_to else None

    def cdx_row(self) -> dict[str, str]:
        return {
            "urlkey": self.key,
            "timestamp": self.timestamp,
            "original": self.url,
            "mimetype": "warc/revisit" if self.revisit else self.mimetype,
            "statuscode": "-" if self.revisit else str(self.status),
            "digest": self.digest or "",
            "length": str(len(self.body)),
        }


def _strip_scheme_www(url: str) -> str:
    text = re.sub(r"^[a-z][a-z0-9+.-]*://", "", url.strip().lower())
    return re.sub(r"^www\d*\.", "", text)


class SimulatedArchive:
    """A local Wayback Machine: CDX search, replay (`/web/<ts>[id_]/<url>`) and the availability API.

    Behaviour copied from real recorded responses (see linkkeeper/archive.py's module notes): JSON rows are
    all strings with a header row; revisits are `warc/revisit` / `-`; a replay without a capture at the
    timestamp is a 302 to the nearest capture with `X-Archive-Redirect-Reason`; a captured redirect replays
    as that redirect in `id_` mode (a "Got an HTTP 301 response at crawl time" page in view mode); excluded
    sites get a CDX 403 and a replay **200** "excluded" page; 429s carry no Retry-After.

    Optional per-minute limits (`cdx_per_minute`, …) answer 429 past the limit and count
    `limit_violations`; `clock` is injectable so a test can share fake time with the client.
    """

    def __init__(self, *, cdx_per_minute: int | None = None, replay_per_minute: int | None = None,
                 availability_per_minute: int | None = None, spn_per_minute: int | None = None,
                 spn_anonymous_per_minute: int | None = None, spn_keys: tuple[str, str] | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 wall_clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> None:
        self.captures: list[Capture] = []
        self.limits = {"cdx": cdx_per_minute, "replay": replay_per_minute, "availability": availability_per_minute,
                       "spn": spn_per_minute, "spn_anonymous": spn_anonymous_per_minute, "spn_status": None}
        self._init_spn(spn_keys, wall_clock)
        self.clock = clock
        self.requests: Counter[str] = Counter()
        self.limit_violations = 0
        self.violations: Counter[str] = Counter()
        self.request_log: list[tuple[str, float, str]] = []  # (endpoint, clock(), path and query)
        self._excluded: list[str] = []
        self._availability_blind: list[str] = []
        self._windows: dict[str, deque[float]] = {name: deque() for name in self.limits}
        self._failures: dict[str, deque[int]] = {name: deque() for name in self.limits}

    # ---- content

    def add(self, capture: Capture | str, timestamp: str | None = None, **fields: object) -> Capture:
        """Add a capture: `add(Capture(...))` or `add(url, timestamp, status=..., body=...)`."""
        if not isinstance(capture, Capture):
            capture = Capture(capture, str(timestamp), **fields)  # type: ignore[arg-type]
        self.captures.append(capture)
        return capture

    def excluded(self, url_prefix: str) -> None:
        """Exclude every URL starting with `url_prefix` (scheme and `www.` ignored), like a blocked site."""
        self._excluded.append(_strip_scheme_www(url_prefix))

    def is_excluded(self, url: str) -> bool:
        bare = _strip_scheme_www(url)
        return any(bare.startswith(prefix) for prefix in self._excluded)

    def availability_blind(self, url_prefix: str) -> None:
        """Make the availability API answer empty for archived URLs under this prefix (as the real one does)."""
        self._availability_blind.append(_strip_scheme_www(url_prefix))

    def fail_next(self, endpoint: str, *statuses: int) -> None:
        """The next requests to `endpoint` ("cdx", "replay", "availability") get these statuses, in order."""
        self._failures[endpoint].extend(statuses)

    def captures_of(self, url: str) -> list[Capture]:
        key = surt_key(url)
        return sorted((c for c in self.captures if c.key == key), key=lambda c: c.timestamp)

    # ---- server

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/cdx/search/cdx", self._cdx)
        app.router.add_get("/wayback/available", self._availability)
        app.router.add_get("/web/{tail:.*}", self._replay)
        self._add_spn_routes(app)
        return app

    def _gate(self, endpoint: str, request: web.Request) -> web.Response | None:
        now = self.clock()
        self.requests[endpoint] += 1
        self.request_log.append((endpoint, now, request.path_qs))
        if self._failures[endpoint]:
            status = self._failures[endpoint].popleft()
            return web.Response(status=status, text=f"simulated HTTP {status}\n", content_type="text/plain")
        limit = self.limits[endpoint]
        if limit:
            window = self._windows[endpoint]
            while window and window[0] <= now - 60.0:
                window.popleft()
            if len(window) >= limit:
                self.limit_violations += 1
                self.violations[endpoint] += 1
                # The real service sends no Retry-After.
                return web.Response(status=429, text=RATE_LIMIT_PAGE, content_type="text/html")
            window.append(now)
        return None

    # ---- CDX

    async def _cdx(self, request: web.Request) -> web.Response:
        if (refused := self._gate("cdx", request)) is not None:
            return refused
        query = request.query
        url = query.get("url", "")
        if not url:
            return _bad("url param is required")
        match_type = query.get("matchType") or "exact"
        if url.startswith("*."):
            url, match_type = url[2:], "domain"
        if url.endswith("*"):
            url, match_type = url.rstrip("*"), "prefix"
        if match_type not in ("exact", "prefix", "host", "domain"):
            return _bad(f"bad matchType {match_type}")
        if self.is_excluded(url):
            return web.Response(status=403, text=_BLOCKED_RUNTIME_ERROR + "\n", content_type="text/plain",
                                charset="UTF-8", headers={"X-Archive-Wayback-Runtime-Error": _BLOCKED_RUNTIME_ERROR})
        try:
            rows = _cdx_refine(self._cdx_rows(url, match_type), query)
            page, next_key = _cdx_page(rows, query)
            return _cdx_answer(page, next_key, query)
        except _BadQuery as exc:
            return _bad(str(exc))

    def _cdx_rows(self, url: str, match_type: str) -> list[dict]:
        wanted = surt_key(url)
        wanted_host = wanted.split(")", 1)[0]

        def matches(key: str) -> bool:
            if match_type == "exact":
                return key == wanted
            if match_type == "prefix":
                return key.startswith(wanted)
            host = key.split(")", 1)[0]
            if match_type == "host":
                return host == wanted_host
            return host == wanted_host or host.startswith(wanted_host + ",")  # SURT: subdomains extend the key

        captures = sorted((c for c in self.captures if matches(c.key)), key=lambda c: (c.key, c.timestamp))
        return [c.cdx_row() for c in captures]

    # ---- replay

    def _link_header(self, base: str, capture: Capture, captures: list[Capture]) -> str:
        def memento(c: Capture, rel: str) -> str:
            return f'<{base}/web/{c.timestamp}/{c.url}>; rel="{rel}"; datetime="{_http_date(c.timestamp)}"'

        index = captures.index(capture)
        parts = [f'<{capture.url}>; rel="original"',
                 f'<{base}/web/timemap/link/{capture.url}>; rel="timemap"; type="application/link-format"',
                 f'<{base}/web/{capture.url}>; rel="timegate"',
                 memento(captures[0], "first memento")]
        if index > 0:
            parts.append(memento(captures[index - 1], "prev memento"))
        parts.append(memento(capture, "memento"))
        if index < len(captures) - 1:
            parts.append(memento(captures[index + 1], "next memento"))
        parts.append(memento(captures[-1], "last memento"))
        return ", ".join(parts)

    def _resolve_revisit(self, capture: Capture) -> Capture | None:
        earlier = [c for c in self.captures if not c.revisit and c.digest == capture.digest
                   and c.timestamp <= capture.timestamp]
        same_url = [c for c in earlier if c.key == capture.key]
        pool = same_url or earlier
        return max(pool, key=lambda c: c.timestamp) if pool else None

    async def _replay(self, request: web.Request) -> web.Response:
        if (refused := self._gate("replay", request)) is not None:
            return refused
        base = f"{request.scheme}://{request.host}"
        # raw_path keeps the archived URL (with its own query string) exactly as sent.
        tail = request.raw_path.split("/web/", 1)[1] if "/web/" in request.raw_path else ""
        match = re.match(r"(\d{1,14})([a-z]{2}_)?/(.*)$", tail, re.DOTALL)
        if match:
            timestamp, mode, target = match.group(1), match.group(2) or "", match.group(3)
        elif tail and not tail.startswith("timemap/"):
            timestamp, mode, target = "99991231235959", "", tail  # TimeGate form /web/<url>: the latest
        else:
            return web.Response(status=404, text=NOT_ARCHIVED_PAGE, content_type="text/html")
        target = re.sub(r"^(https?):/(?!/)", r"\1://", target)
        if self.is_excluded(target):
            return web.Response(status=200, text=EXCLUDED_PAGE, content_type="text/html")
        captures = self.captures_of(target)
        if not captures:
            return web.Response(status=404, text=NOT_ARCHIVED_PAGE, content_type="text/html")
        wanted = _pad_timestamp(timestamp)
        exact = next((c for c in captures if c.timestamp == wanted), None)
        if exact is None:
            when = _ts_datetime(wanted)
            nearest = min(captures, key=lambda c: (abs((_ts_datetime(c.timestamp) - when).total_seconds()),
                                                    c.timestamp))
            return web.Response(status=302, body=b"", content_type="text/plain", charset="utf-8", headers={
                "Location": f"{base}/web/{nearest.timestamp}{mode}/{nearest.url}",
                "X-Archive-Redirect-Reason": f"found capture at {nearest.timestamp}",
            })
        served = exact
        if exact.revisit:
            served = self._resolve_revisit(exact)
            if served is None:
                return web.Response(status=404, text=NOT_ARCHIVED_PAGE, content_type="text/html")
        headers = {"Memento-Datetime": _http_date(exact.timestamp),
                   "Link": self._link_header(base, exact, captures),
                   "X-Archive-Src": "simulated-archive.warc.gz"}
        target_url = served.redirect_target
        if 300 <= served.status < 400 and target_url:
            if not mode:
                # View mode: the captured redirect becomes a 200 page without Memento-Datetime (as recorded).
                page = (f'<p class="code shift red">Got an HTTP {served.status} response at crawl time</p>\n'
                        f'<p class="impatient"><a href="/web/{exact.timestamp}/{target_url}">Impatient?</a></p>\n')
                return web.Response(status=200, text=page, content_type="text/html",
                                    headers={"X-Archive-Src": headers["X-Archive-Src"]})
            headers["Location"] = f"{base}/web/{exact.timestamp}{mode}/{target_url}"
        return web.Response(status=served.status, body=served.body, headers={
            **headers, "Content-Type": served.mimetype or "application/octet-stream"})

    # ---- Save Page Now (SPN2 and the anonymous form), shaped after IA's SPN2 document and the exchanges
    # quoted in tests/data/real/wayback/observed_in_issues.json

    SPN_SESSION_LIMIT = 4  # jobs in progress at once per account
    SPN_DAILY_LIMIT = 30_000
    SPN_ANONYMOUS_DAILY_LIMIT = 200
    SPN_PER_URL_DAILY_LIMIT = 5
    ANONYMOUS_LIMIT_TEXT = ('You have reached your daily not-logged-in captures limit of (200,) webpages, log in to '
                            'archive up to (40000,) webpages per day. Please email us at "info@archive.org" if you '
                            'would like to discuss this more.')

    def _init_spn(self, keys: tuple[str, str] | None, wall_clock: Callable[[], datetime]) -> None:
        self.spn_keys = keys  # the one access key pair SPN2 accepts (None: any `LOW a:b`)
        self.wall_clock = wall_clock
        self.spn_jobs: dict[str, dict] = {}
        self.spn_submissions: Counter[tuple[str, str]] = Counter()  # (account, day) -> captures asked
        self.spn_url_submissions: Counter[tuple[str, str]] = Counter()  # (url key, day)
        self.saved: list[Capture] = []
        self.anonymous_location = "content-location"  # or "link", or "none" (2025: no location at all)
        self._save_outcomes: dict[str, deque[str]] = {}

    def save_outcome(self, url: str, *outcomes: str) -> None:
        """Script what Save Page Now does with `url`, one outcome per request (then "success"):
        "success"; "pending:N" (N polls say pending, then success); "error:<status_ext>" (the job fails, e.g.
        "error:not-found"); "submit:<status_ext>" (the submission itself is refused, e.g.
        "submit:user-session-limit"). For the anonymous form an error is a 520 page naming it."""
        self._save_outcomes.setdefault(surt_key(url), deque()).extend(outcomes)

    def _next_outcome(self, url: str) -> str:
        queue = self._save_outcomes.get(surt_key(url))
        return queue.popleft() if queue else "success"

    def _add_spn_routes(self, app: web.Application) -> None:
        app.router.add_get("/save/status/user", self._spn_user)
        app.router.add_get("/save/status/{job_id}", self._spn_status)
        app.router.add_post("/save", self._spn_submit)
        app.router.add_get("/save/{tail:.*}", self._spn_anonymous)

    def _spn_account(self, request: web.Request) -> str | None:
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("LOW ") or ":" not in auth:
            return None
        if self.spn_keys is not None and auth != f"LOW {self.spn_keys[0]}:{self.spn_keys[1]}":
            return None
        return auth[4:].split(":", 1)[0]

    def _today(self) -> str:
        return self.wall_clock().strftime("%Y%m%d")

    def _capture_now(self, url: str, body: bytes | str = b"") -> Capture:
        stamp = self.wall_clock().strftime("%Y%m%d%H%M%S")
        while any(c.timestamp == stamp for c in self.captures_of(url)):  # two saves in one second
            stamp = str(int(stamp) + 1)
        capture = self.add(Capture(url, stamp, body=body or f"<html><title>{url}</title>saved</html>"))
        self.saved.append(capture)
        return capture

    @staticmethod
    def _spn_error(status_ext: str, message: str, **extra: object) -> web.Response:
        return web.json_response({"status": "error", "status_ext": f"error:{status_ext}", "message": message,
                                  **extra})

    async def _spn_submit(self, request: web.Request) -> web.Response:
        if (refused := self._gate("spn", request)) is not None:
            return refused
        account = self._spn_account(request)
        if account is None:
            return web.json_response({"message": "You need to be logged in to use Save Page Now."}, status=401)
        url = (await request.post()).get("url", "")
        day = self._today()
        if self.spn_submissions[(account, day)] >= self.SPN_DAILY_LIMIT:
            return web.json_response({"status": "error", "message": f"You have reached your daily captures limit "
                                      f"of ({self.SPN_DAILY_LIMIT},) webpages."})
        outcome = self._next_outcome(url)
        if outcome.startswith("submit:"):
            return self._spn_error(outcome[len("submit:"):], "Save Page Now refused the request.")
        active = [j for j in self.spn_jobs.values() if j["account"] == account and j["active"]]
        if len(active) >= self.SPN_SESSION_LIMIT:
            return self._spn_error("user-session-limit", "You have already reached the limit of active sessions. "
                                                         "Please try again later.")
        if self.spn_url_submissions[(surt_key(url), day)] >= self.SPN_PER_URL_DAILY_LIMIT:
            return self._spn_error("too-many-daily-captures",
                                   f"This URL has been already captured {self.SPN_PER_URL_DAILY_LIMIT} times today. "
                                   "Please try again tomorrow.")
        self.spn_submissions[(account, day)] += 1
        self.spn_url_submissions[(surt_key(url), day)] += 1
        job_id = "spn2-" + hashlib.sha1(f"{url}#{len(self.spn_jobs)}".encode()).hexdigest()
        pending = int(outcome.split(":", 1)[1]) if outcome.startswith("pending:") else 0
        self.spn_jobs[job_id] = {"url": url, "account": account, "outcome": outcome, "pending": pending,
                                 "active": True}
        return web.json_response({"url": url, "job_id": job_id})

    async def _spn_status(self, request: web.Request) -> web.Response:
        if (refused := self._gate("spn_status", request)) is not None:
            return refused
        job_id = request.match_info["job_id"]
        job = self.spn_jobs.get(job_id)
        if job is None:
            # Unknown or expired ids read as pending (observed_in_issues.json, spn2-status-expired-or-unknown-job).
            return web.json_response({"job_id": job_id, "resources": [], "status": "pending"})
        if job["pending"] > 0:
            job["pending"] -= 1
            return web.json_response({"job_id": job_id, "resources": [], "status": "pending"})
        job["active"] = False
        if job["outcome"].startswith("error:"):
            return self._spn_error(job["outcome"][len("error:"):], "The capture failed.", job_id=job_id)
        capture = job.get("capture") or self._capture_now(job["url"])
        job["capture"] = capture
        return web.json_response({"status": "success", "job_id": job_id, "original_url": job["url"],
                                  "timestamp": capture.timestamp, "duration_sec": 16.04, "http_status": 200,
                                  "counters": {"outlinks": 0, "embeds": 0}})

    async def _spn_user(self, request: web.Request) -> web.Response:
        if (refused := self._gate("spn_status", request)) is not None:
            return refused
        account = self._spn_account(request)
        if account is None:
            return web.json_response({"message": "You need to be logged in."}, status=401)
        active = sum(1 for j in self.spn_jobs.values() if j["account"] == account and j["active"])
        return web.json_response({"available": self.SPN_SESSION_LIMIT - active,
                                  "daily_captures": self.spn_submissions[(account, self._today())],
                                  "daily_captures_limit": self.SPN_DAILY_LIMIT, "processing": active})

    async def _spn_anonymous(self, request: web.Request) -> web.Response:
        if (refused := self._gate("spn_anonymous", request)) is not None:
            return refused
        url = request.raw_path.split("/save/", 1)[1]
        url = re.sub(r"^(https?):/(?!/)", r"\1://", url)
        day = self._today()
        if self.spn_submissions[("anonymous", day)] >= self.SPN_ANONYMOUS_DAILY_LIMIT:
            return web.Response(status=429, text=self.ANONYMOUS_LIMIT_TEXT, content_type="text/html")
        self.spn_submissions[("anonymous", day)] += 1
        outcome = self._next_outcome(url)
        if outcome.startswith(("error:", "submit:")):
            ext = outcome.split(":", 1)[1]
            return web.Response(status=520, content_type="text/html",
                                text=f"<html><h2>Sorry</h2><p>Job failed: error:{ext}</p></html>")
        capture = self._capture_now(url)
        headers = {}
        if self.anonymous_location == "content-location":
            headers["Content-Location"] = f"/web/{capture.timestamp}/{url}"  # relative, as recorded in 2020
        elif self.anonymous_location == "link":
            headers["Link"] = (f'<{url}>; rel="original", <https://web.archive.org/web/{capture.timestamp}/{url}>; '
                               f'rel="memento"; datetime="{_http_date(capture.timestamp)}"')
        return web.Response(status=200, body=capture.body, headers=headers, content_type="text/html")

    # ---- availability

    async def _availability(self, request: web.Request) -> web.Response:
        if (refused := self._gate("availability", request)) is not None:
            return refused
        url = request.query.get("url", "")
        timestamp = request.query.get("timestamp")
        answer: dict[str, object] = {"url": url, "archived_snapshots": {}}
        if timestamp:
            answer["timestamp"] = timestamp
        bare = _strip_scheme_www(url)
        blind = any(bare.startswith(p) for p in self._availability_blind)
        captures = [c for c in self.captures_of(url) if not c.revisit] if url else []
        if captures and not blind and not self.is_excluded(url):
            if timestamp:
                when = _ts_datetime(timestamp)
                chosen = min(captures, key=lambda c: (abs((_ts_datetime(c.timestamp) - when).total_seconds()),
                                                       c.timestamp))
            else:
                chosen = captures[-1]
            answer["archived_snapshots"] = {"closest": {
                "status": str(chosen.status),  # a string, as in the real API
                "available": True,
                "url": f"http://web.archive.org/web/{chosen.timestamp}/{chosen.url}",  # http, as the real API
                "timestamp": chosen.timestamp,
            }}
        return web.json_response(answer)




def settings_for(base_url: str) -> dict[str, str]:
    """Settings overrides pointing the Wayback client at a simulator served at `base_url`."""
    base = base_url.rstrip("/")
    return {
        "wayback_cdx_url": f"{base}/cdx/search/cdx",
        "wayback_availability_url": f"{base}/wayback/available",
        "wayback_replay_url": f"{base}/web/",
        "wayback_save_url": f"{base}/save",
    }


class _BadQuery(ValueError):
    """A CDX query the real server answers with 400."""


def _bad(message: str) -> web.Response:
    return web.Response(status=400, text=message + "\n", content_type="text/plain")


def _cdx_refine(rows: list[dict], query) -> list[dict]:
    """from/to, filter (the whole field must match: `statuscode:2` matches nothing, as on the real server),
    closest sorting and collapse (adjacent duplicates only), in the real server's order."""
    if (start := query.get("from")):
        rows = [r for r in rows if r["timestamp"][:len(start)] >= start]
    if (end := query.get("to")):
        rows = [r for r in rows if r["timestamp"][:len(end)] <= end]
    for spec in query.getall("filter", []):
        negate = spec.startswith("!")
        name, _, pattern = spec.lstrip("!").partition(":")
        if name not in _CDX_FIELDS:
            raise _BadQuery(f"bad filter field {name}")
        try:
            regex = re.compile(pattern)
        except re.error:
            raise _BadQuery(f"bad filter regex {pattern}") from None
        rows = [r for r in rows if bool(regex.fullmatch(r[name])) != negate]
    if (closest := query.get("closest")) and query.get("sort") == "closest":
        target = _ts_datetime(closest)
        rows.sort(key=lambda r: (abs((_ts_datetime(r["timestamp"]) - target).total_seconds()), r["timestamp"]))
    for spec in query.getall("collapse", []):
        name, _, size = spec.partition(":")
        if name not in _CDX_FIELDS:
            raise _BadQuery(f"bad collapse field {name}")
        width = int(size) if size.isdigit() else None
        collapsed, previous = [], None
        for row in rows:
            value = row[name][:width] if width else row[name]
            if value != previous:
                collapsed.append(row)
            previous = value
        rows = collapsed
    return rows


def _cdx_page(rows: list[dict], query) -> tuple[list[dict], str | None]:
    """The rows of this page (limit, resumeKey) and the key of the next one."""
    offset = 0
    if (resume_key := query.get("resumeKey")):
        _, _, position = resume_key.rpartition("!")
        offset = int(position) if position.isdigit() else len(rows)
    limit = int(query["limit"]) if query.get("limit", "").lstrip("-").isdigit() else None
    next_key = None
    if limit is not None and limit < 0:
        page = rows[limit:]
    elif limit is not None:
        page = rows[offset:offset + limit]
        if offset + limit < len(rows) and page:
            last = page[-1]
            # Opaque to clients, like the real keys (`com%2Ccnn%29%2F+2001041400593%3A`).
            next_key = f"{quote(last['urlkey'], safe='')}+{last['timestamp']}!{offset + limit}"
    else:
        page = rows[offset:]
    if query.get("showResumeKey", "").lower() != "true":
        next_key = None
    return page, next_key


def _cdx_answer(page: list[dict], next_key: str | None, query) -> web.Response:
    fields = [f for f in query.get("fl", "").split(",") if f] or list(_CDX_FIELDS)
    if any(f not in _CDX_FIELDS for f in fields):
        raise _BadQuery("bad fl")
    if query.get("output") == "json":
        if not page and not next_key:
            return web.json_response([])
        out: list[list[str]] = [fields] + [[r[f] for f in fields] for r in page]
        if next_key:
            out += [[], [next_key]]
        return web.Response(text=json.dumps(out), content_type="application/json")
    text = "".join(" ".join(r[f] for f in fields) + "\n" for r in page)
    if next_key:
        text += "\n" + next_key + "\n"
    return web.Response(text=text, content_type="text/plain", charset="UTF-8")
