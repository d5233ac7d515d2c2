"""Test doubles for linkkeeper: local servers that stand in for the outside world.

Sections:
- GENERIC SERVER HELPERS: `serve(app)` (async context manager → base URL on 127.0.0.1, ephemeral port) and
  `BackgroundServer(app)` (own event loop in a thread, for CLI demos). Used by every simulator below.
- ARCHIVE: `SimulatedArchive`, a Wayback Machine (CDX, replay, availability, Save Page Now) shaped after the
  real responses recorded in ../shared/real/wayback; point a client at it with `settings_for(base_url)`.
  `SimulatedTimeTravel`: another archive behind a Memento aggregator (TimeTravel JSON API, a TimeGate).
- WEB: `SimulatedWeb`, every outlet on one server dispatching on the Host header, so realistic URLs
  (http://www.guardian.co.uk/...) reach it through connect_to rules; a `Page` per URL holds its fate.
- FEED: `SimulatedBlogFeed`, a blog's public feed (Atom and alt=json, paged, updated-min) for the nightly run.
"""

from __future__ import annotations

import asyncio
import base64
import email.utils
import hashlib
import json
import re
import socket
import threading
import time
from collections import Counter, deque
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import cached_property
from datetime import datetime, timezone
from typing import AsyncIterator, Callable
from urllib.parse import quote, urljoin, urlsplit

from aiohttp import web

from linkkeeper.wayback.client import surt_key as _surt_key


# ════════════════════════════════════════════ GENERIC SERVER HELPERS ═════════════════════════════════════════


@asynccontextmanager
async def serve(app: web.Application, host: str = "127.0.0.1", port: int = 0) -> AsyncIterator[str]:
    """Run `app` on host (127.0.0.1) and an ephemeral port for the duration of the block.

    `async with serve(app) as base_url:` → base_url like "http://127.0.0.1:54321" (no trailing slash).
    """
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound_port = runner.addresses[0][1]
        yield f"http://{host}:{bound_port}"
    finally:
        await runner.cleanup()


class BackgroundServer:
    """Serve `app` from its own event loop in a daemon thread (for a CLI demo or synchronous tests).

    `base_url = server.start()` … `server.stop()`; also usable as a `with` block.
    """

    def __init__(self, app: web.Application, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        self.host = host
        self.port = port
        self.base_url: str | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def start(self, timeout: float = 10.0) -> str:
        if self._thread is not None:
            raise RuntimeError("BackgroundServer already started")
        ready = threading.Event()
        failure: list[BaseException] = []
        loop = asyncio.new_event_loop()
        self._loop = loop

        def run() -> None:
            asyncio.set_event_loop(loop)
            runner = web.AppRunner(self.app, access_log=None)
            try:
                loop.run_until_complete(runner.setup())
                loop.run_until_complete(web.TCPSite(runner, self.host, self.port).start())
                self.base_url = f"http://{self.host}:{runner.addresses[0][1]}"
            except BaseException as exc:  # report start-up failures to the starting thread
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(runner.cleanup())
                loop.close()

        self._thread = threading.Thread(target=run, name="linkkeeper-background-server", daemon=True)
        self._thread.start()
        if not ready.wait(timeout):
            raise RuntimeError("BackgroundServer did not start in time")
        if failure:
            raise failure[0]
        assert self.base_url is not None
        return self.base_url

    def stop(self, timeout: float = 10.0) -> None:
        if self._loop is not None and self._thread is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout)
        self._thread = None
        self._loop = None

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


# ════════════════════════════════════ ARCHIVE: simulated Wayback Machine ═════════════════════════════════════
# Owned by the archive client's author (linkkeeper/archive.py). Names here are used by tests and the lead.

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


# The simulator keys captures exactly as the client matches CDX rows (one definition, in archive.py).
surt_key = _surt_key


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
            return web.Response(status=400, text="url param is required\n", content_type="text/plain")
        match_type = query.get("matchType") or "exact"
        if url.startswith("*."):
            url, match_type = url[2:], "domain"
        if url.endswith("*"):
            url, match_type = url.rstrip("*"), "prefix"
        if match_type not in ("exact", "prefix", "host", "domain"):
            return web.Response(status=400, text=f"bad matchType {match_type}\n", content_type="text/plain")
        if self.is_excluded(url):
            return web.Response(status=403, text=_BLOCKED_RUNTIME_ERROR + "\n", content_type="text/plain",
                                charset="UTF-8", headers={"X-Archive-Wayback-Runtime-Error": _BLOCKED_RUNTIME_ERROR})
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
        rows = [c.cdx_row() for c in captures]
        if (start := query.get("from")):
            rows = [r for r in rows if r["timestamp"][:len(start)] >= start]
        if (end := query.get("to")):
            rows = [r for r in rows if r["timestamp"][:len(end)] <= end]
        for spec in query.getall("filter", []):
            negate = spec.startswith("!")
            name, _, pattern = spec.lstrip("!").partition(":")
            if name not in _CDX_FIELDS:
                return web.Response(status=400, text=f"bad filter field {name}\n", content_type="text/plain")
            try:
                regex = re.compile(pattern)
            except re.error:
                return web.Response(status=400, text=f"bad filter regex {pattern}\n", content_type="text/plain")
            # The whole field must match (`statuscode:2` matches nothing), as on the real server.
            rows = [r for r in rows if bool(regex.fullmatch(r[name])) != negate]
        if (closest := query.get("closest")) and query.get("sort") == "closest":
            target = _ts_datetime(closest)
            rows.sort(key=lambda r: (abs((_ts_datetime(r["timestamp"]) - target).total_seconds()), r["timestamp"]))
        for spec in query.getall("collapse", []):
            name, _, size = spec.partition(":")
            if name not in _CDX_FIELDS:
                return web.Response(status=400, text=f"bad collapse field {name}\n", content_type="text/plain")
            width = int(size) if size.isdigit() else None
            collapsed, previous = [], None
            for row in rows:  # adjacent duplicates only
                value = row[name][:width] if width else row[name]
                if value != previous:
                    collapsed.append(row)
                previous = value
            rows = collapsed
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
        fields = [f for f in query.get("fl", "").split(",") if f] or list(_CDX_FIELDS)
        if any(f not in _CDX_FIELDS for f in fields):
            return web.Response(status=400, text="bad fl\n", content_type="text/plain")
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
    # quoted in ../shared/real/wayback/observed_in_issues.json

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


class FakeClock:
    """Fake monotonic time: `clock()` reads it, `await clock.sleep(s)` advances it at once.

    Give the same instance to `WaybackClient(clock=..., sleep=...)` and `SimulatedArchive(clock=...)` so rate
    limits and 60-second pauses are exercised without waiting. Caveat: a sleeping task moves time on at once,
    even while another task's request is still in flight, so a server stamping arrivals with the same clock
    may see requests bunched closer than they were sent. Assert spacing on send times (wrap the limiter's
    `acquire`), and leave a simulator limit some slack when many tasks run concurrently.
    """

    def __init__(self, start: float = 1_000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        if seconds > 0:
            self.now += seconds
        await asyncio.sleep(0)  # still let other tasks (and the servers) run


def settings_for(base_url: str) -> dict[str, str]:
    """Settings overrides pointing the Wayback client at a simulator served at `base_url`."""
    base = base_url.rstrip("/")
    return {
        "wayback_cdx_url": f"{base}/cdx/search/cdx",
        "wayback_availability_url": f"{base}/wayback/available",
        "wayback_replay_url": f"{base}/web/",
        "wayback_save_url": f"{base}/save",
    }


async def start_archive(archive: SimulatedArchive, host: str = "127.0.0.1",
                        port: int = 0) -> tuple[str, web.AppRunner]:
    """Start `archive` without a `with` block; the caller ends it with `await runner.cleanup()`."""
    runner = web.AppRunner(archive.app(), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return f"http://{host}:{runner.addresses[0][1]}", runner


class SimulatedTimeTravel:
    """Another archive and a Memento aggregator in front of it, on one server: TimeTravel's JSON API
    (`/api/json/<ts>/<url>`: closest, prev, next, first, last; 404 when no archive holds the URL), a plain
    RFC 7089 TimeGate (`/timegate/<url>` with Accept-Datetime: 302 to the memento), and the mementos
    themselves (`/memento/<ts>/<url>`, with Memento-Datetime). `also_wayback` makes the aggregator list a
    web.archive.org memento too, as the real one does."""

    def __init__(self, also_wayback: bool = False) -> None:
        self.captures: list[Capture] = []
        self.requests: Counter[str] = Counter()
        self.also_wayback = also_wayback

    def add(self, url: str, timestamp: str, **fields: object) -> Capture:
        capture = Capture(url, timestamp, **fields)  # type: ignore[arg-type]
        self.captures.append(capture)
        return capture

    def _of(self, url: str) -> list[Capture]:
        key = surt_key(url)
        return sorted((c for c in self.captures if c.key == key), key=lambda c: c.timestamp)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/api/json/{tail:.*}", self._json)
        app.router.add_get("/timegate/{tail:.*}", self._timegate)
        app.router.add_get("/memento/{tail:.*}", self._memento)
        return app

    @staticmethod
    def _iso(timestamp: str) -> str:
        return _ts_datetime(timestamp).strftime("%Y-%m-%dT%H:%M:%SZ")

    def _nearest(self, captures: list[Capture], timestamp: str) -> int:
        when = _ts_datetime(_pad_timestamp(timestamp))
        return min(range(len(captures)), key=lambda i: (abs((_ts_datetime(captures[i].timestamp) - when)
                                                             .total_seconds()), captures[i].timestamp))

    async def _json(self, request: web.Request) -> web.Response:
        self.requests["json"] += 1
        base = f"{request.scheme}://{request.host}"
        match = re.match(r"(\d{1,14})/(.*)$", request.raw_path.split("/api/json/", 1)[1], re.DOTALL)
        if not match:
            return web.Response(status=400, text="bad request")
        timestamp, url = match.group(1), re.sub(r"^(https?):/(?!/)", r"\1://", match.group(2))
        captures = self._of(url)
        if not captures:
            return web.Response(status=404, text="")
        i = self._nearest(captures, timestamp)

        def entry(c: Capture) -> dict:
            return {"datetime": self._iso(c.timestamp), "uri": [f"{base}/memento/{c.timestamp}/{c.url}"]}

        mementos = {"closest": entry(captures[i]), "first": entry(captures[0]), "last": entry(captures[-1])}
        if i > 0:
            mementos["prev"] = entry(captures[i - 1])
        if i < len(captures) - 1:
            mementos["next"] = entry(captures[i + 1])
        if self.also_wayback:
            mementos["first"]["uri"].insert(0, f"http://web.archive.org/web/{captures[0].timestamp}/{url}")
        return web.json_response({"original_uri": url, "mementos": mementos,
                                  "timegate_uri": f"{base}/timegate/{url}",
                                  "timemap_uri": {"json_format": f"{base}/timemap/json/{url}",
                                                  "link_format": f"{base}/timemap/link/{url}"}})

    async def _timegate(self, request: web.Request) -> web.Response:
        self.requests["timegate"] += 1
        base = f"{request.scheme}://{request.host}"
        url = re.sub(r"^(https?):/(?!/)", r"\1://", request.raw_path.split("/timegate/", 1)[1])
        captures = self._of(url)
        if not captures:
            return web.Response(status=404, text="no memento")
        accept = email.utils.parsedate_to_datetime(request.headers.get("Accept-Datetime", "")) \
            if request.headers.get("Accept-Datetime") else datetime.now(timezone.utc)
        i = self._nearest(captures, accept.astimezone(timezone.utc).strftime("%Y%m%d%H%M%S"))

        def link(c: Capture, rel: str) -> str:
            return f'<{base}/memento/{c.timestamp}/{c.url}>; rel="{rel}"; datetime="{_http_date(c.timestamp)}"'

        links = [f'<{url}>; rel="original"', link(captures[0], "first memento"), link(captures[i], "memento"),
                 link(captures[-1], "last memento")]
        if i > 0:
            links.append(link(captures[i - 1], "prev memento"))
        if i < len(captures) - 1:
            links.append(link(captures[i + 1], "next memento"))
        return web.Response(status=302, headers={
            "Location": f"{base}/memento/{captures[i].timestamp}/{captures[i].url}", "Vary": "accept-datetime",
            "Link": ", ".join(links)})

    async def _memento(self, request: web.Request) -> web.Response:
        self.requests["memento"] += 1
        match = re.match(r"(\d{14})/(.*)$", request.raw_path.split("/memento/", 1)[1], re.DOTALL)
        if not match:
            return web.Response(status=404, text="not found")
        timestamp, url = match.group(1), re.sub(r"^(https?):/(?!/)", r"\1://", match.group(2))
        capture = next((c for c in self._of(url) if c.timestamp == timestamp), None)
        if capture is None:
            return web.Response(status=404, text="not found")
        return web.Response(status=capture.status, body=capture.body, headers={
            "Memento-Datetime": _http_date(capture.timestamp), "Link": f'<{capture.url}>; rel="original"',
            "Content-Type": capture.mimetype})


# ═══════════════════════════════════════════════ END ARCHIVE ═════════════════════════════════════════════════


# ════════════════════════════════════════════════════ WEB ═══════════════════════════════════════════════════


@dataclass
class Page:
    status: int = 200
    body: str | bytes = ""
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    location: str | None = None       # for 3xx answers
    head_status: int | None = None    # HEAD answered differently (405, 403, ...)
    delay: float = 0.0                # seconds before answering
    fail_times: int = 0               # answer `fail_status` this many times first (a flaky server)
    fail_status: int = 503
    bot_status: int | None = None     # answered instead when the User-Agent names linkkeeper (a bot wall)
    gzip: bool = False                # send the body gzip-compressed
    cut_body: bool = False            # promise more bytes than sent, then drop the connection
    endless: bool = False             # stream the body forever (bounded by the client's byte cap)

    def __post_init__(self) -> None:
        self.served = 0


def article_html(title: str, paragraphs: list[str], extra: str = "") -> str:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title></head>"
            f"<body><article><h1>{title}</h1>{body}</article>{extra}</body></html>")


class SimulatedWeb:
    """Pages by URL (host + path + query; scheme ignored: the server speaks plain HTTP). A host's
    `fallback` page answers every path of that host without a page of its own (a soft-404 site);
    elsewhere unknown paths get a real 404."""

    def __init__(self) -> None:
        self.pages: dict[tuple[str, str], Page] = {}
        self.fallback: dict[str, Page] = {}
        self.hits: dict[tuple[str, str], int] = {}

    @staticmethod
    def _key(url: str) -> tuple[str, str]:
        parts = urlsplit(url)
        path = parts.path or "/"
        return (parts.hostname or "").lower(), path + (f"?{parts.query}" if parts.query else "")

    def add(self, url: str, page: Page | None = None, **kwargs) -> Page:
        page = page or Page(**kwargs)
        self.pages[self._key(url)] = page
        return page

    @property
    def hosts(self) -> set[str]:
        return {host for host, _ in self.pages} | set(self.fallback)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        host = request.host.split(":")[0].lower()
        key = (host, request.path_qs)
        self.hits[key] = self.hits.get(key, 0) + 1
        page = self.pages.get(key) or self.fallback.get(host)
        if page is None:
            return web.Response(status=404, text="<html><title>404 Not Found</title>Not Found</html>",
                                content_type="text/html")
        if page.delay:
            await asyncio.sleep(page.delay)
        page.served += 1
        if page.served <= page.fail_times:
            return web.Response(status=page.fail_status, headers=page.headers, text="try later")
        status = page.head_status if (request.method == "HEAD" and page.head_status) else page.status
        if page.bot_status and "linkkeeper" in request.headers.get("User-Agent", "").lower():
            return web.Response(status=page.bot_status, text="<html><title>Forbidden</title>bots not welcome</html>",
                                content_type="text/html")
        headers = dict(page.headers)
        if page.location and 300 <= status < 400:
            headers["Location"] = page.location
        body = page.body.encode() if isinstance(page.body, str) else page.body
        headers.setdefault("Content-Type", page.content_type)
        if page.cut_body or page.endless:
            response = web.StreamResponse(status=status, headers=headers)
            if page.cut_body:
                response.content_length = len(body) * 4 + 1000
            await response.prepare(request)
            await response.write(body)
            if page.cut_body:
                request.transport.close()  # the connection drops mid-body
                return response
            chunk = b"<p>" + b"x" * 65536 + b"</p>"
            for _ in range(100_000):  # bounded: the client must stop long before this
                await response.write(chunk)
            return response
        response = web.Response(status=status, body=body, headers=headers)
        if page.gzip:
            response.enable_compression(web.ContentCoding.gzip)
        return response

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        return app


def closed_port() -> int:
    """A loopback port with nothing listening (connection refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ═══════════════════════════════════════════ FEED: a blog's public feed ═══════════════════════════════════════════
# Owned by the nightly run's author (linkkeeper/pipeline.py, linkkeeper/sources/feed.py).


class SimulatedBlogFeed:
    """A Blogger blog's public feed, `/feeds/posts/default`, in Atom or (`alt=json`) JSON, shaped after the
    real responses described in ../shared/real/blogger/README.md: paged by start-index (1-based) and
    max-results (Blogger's default 25, at most 500), ordered newest first by `orderby` (published or updated),
    and - like Blogger - `updated-min` is ignored unless orderby=updated. Edit, add and delete posts between
    runs; `requests` keeps the query of every request for assertions; `fail_next(status, ...)` answers the
    next requests with those statuses."""

    def __init__(self, posts, *, blog_url: str = "https://democracyastray.blogspot.com/",
                 blog_id: str = "6412345678901234567", title: str = "Democracy Gone Astray") -> None:
        self.posts = {p.id: p for p in posts}
        self.blog_url = blog_url
        self.blog_id = blog_id
        self.title = title
        self.requests: list[dict[str, str]] = []
        self._failures: deque[int] = deque()

    # ---- content

    def add(self, post) -> None:
        self.posts[post.id] = post

    def delete(self, post_id: str) -> None:
        del self.posts[post_id]

    def edit(self, post_id: str, *, updated: str, **changes) -> None:
        """Change a post as its author would: every edit moves `updated`."""
        import dataclasses

        self.posts[post_id] = dataclasses.replace(self.posts[post_id], updated=updated, **changes)

    def fail_next(self, *statuses: int) -> None:
        self._failures.extend(statuses)

    # ---- server

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/feeds/posts/default", self._feed)
        return app

    def _listing(self, query) -> tuple[list, int, int]:
        order = query.get("orderby", "published")
        key = "updated" if order == "updated" else "published"
        posts = sorted(self.posts.values(), key=lambda p: (_feed_time(getattr(p, key)), p.id), reverse=True)
        if order == "updated" and query.get("updated-min"):
            floor = _feed_time(query["updated-min"])
            posts = [p for p in posts if _feed_time(p.updated) >= floor]
        start = max(1, int(query.get("start-index", "1")))
        size = max(1, min(500, int(query.get("max-results", "25"))))
        return posts, start, size

    async def _feed(self, request: web.Request) -> web.Response:
        self.requests.append(dict(request.query))
        if self._failures:
            status = self._failures.popleft()
            return web.Response(status=status, text=f"simulated HTTP {status}\n", content_type="text/plain")
        posts, start, size = self._listing(request.query)
        page = posts[start - 1:start - 1 + size]
        base = f"{request.scheme}://{request.host}/feeds/posts/default"
        following = None
        if start - 1 + size < len(posts):
            query = dict(request.query, **{"start-index": str(start + size), "max-results": str(size)})
            following = base + "?" + "&".join(f"{k}={quote(v, safe='')}" for k, v in query.items())
        if request.query.get("alt") == "json":
            return web.json_response(self._json(page, len(posts), start, size, following),
                                     content_type="application/json")
        return web.Response(text=self._atom(page, len(posts), start, size, following),
                            content_type="application/atom+xml", charset="UTF-8")

    def _json(self, page, total: int, start: int, size: int, following: str | None) -> dict:
        links = [{"rel": "alternate", "type": "text/html", "href": self.blog_url}]
        if following:
            links.append({"rel": "next", "type": "application/atom+xml", "href": following})
        entries = []
        for p in page:
            entries.append({
                "id": {"$t": p.id}, "published": {"$t": p.published}, "updated": {"$t": p.updated},
                "category": [{"scheme": "http://www.blogger.com/atom/ns#", "term": label} for label in p.labels],
                "title": {"type": "text", "$t": p.title or ""}, "content": {"type": "html", "$t": p.html},
                "link": [{"rel": "replies", "type": "text/html", "href": f"{p.url}#comment-form"},
                         {"rel": "alternate", "type": "text/html", "href": p.url, "title": p.title or ""}],
                "author": [{"name": {"$t": self.title}}], "thr$total": {"$t": "0"},
            })
        feed = {"xmlns": "http://www.w3.org/2005/Atom", "id": {"$t": f"tag:blogger.com,1999:blog-{self.blog_id}"},
                "updated": {"$t": max((p.updated for p in self.posts.values()), default="")},
                "title": {"type": "text", "$t": self.title}, "link": links,
                "openSearch$totalResults": {"$t": str(total)}, "openSearch$startIndex": {"$t": str(start)},
                "openSearch$itemsPerPage": {"$t": str(size)}}
        if entries:
            feed["entry"] = entries  # Blogger leaves the key out of an empty page
        return {"version": "1.0", "encoding": "UTF-8", "feed": feed}

    def _atom(self, page, total: int, start: int, size: int, following: str | None) -> str:
        from html import escape

        out = ["<?xml version='1.0' encoding='UTF-8'?>",
               "<feed xmlns='http://www.w3.org/2005/Atom' xmlns:openSearch='http://a9.com/-/spec/opensearchrss/1.0/' "
               "xmlns:blogger='http://schemas.google.com/blogger/2008' xmlns:thr='http://purl.org/syndication/thread/1.0'>",
               f"<id>tag:blogger.com,1999:blog-{self.blog_id}</id>",
               f"<updated>{escape(max((p.updated for p in self.posts.values()), default=''))}</updated>",
               f"<title type='text'>{escape(self.title)}</title>",
               f"<link rel='alternate' type='text/html' href='{escape(self.blog_url)}'/>"]
        if following:
            out.append(f"<link rel='next' type='application/atom+xml' href='{escape(following)}'/>")
        out.append(f"<openSearch:totalResults>{total}</openSearch:totalResults>"
                   f"<openSearch:startIndex>{start}</openSearch:startIndex>"
                   f"<openSearch:itemsPerPage>{size}</openSearch:itemsPerPage>")
        for p in page:
            labels = "".join(f"<category scheme='http://www.blogger.com/atom/ns#' term='{escape(label)}'/>"
                             for label in p.labels)
            out.append(f"<entry><id>{escape(p.id)}</id><published>{escape(p.published)}</published>"
                       f"<updated>{escape(p.updated)}</updated>{labels}"
                       f"<title type='text'>{escape(p.title or '', quote=False)}</title>"
                       f"<content type='html'>{escape(p.html, quote=False)}</content>"
                       f"<link rel='alternate' type='text/html' href='{escape(p.url or '')}' title='{escape(p.title or '')}'/>"
                       f"<author><name>{escape(self.title)}</name></author><thr:total>0</thr:total></entry>")
        out.append("</feed>")
        return "\n".join(out)


def _feed_time(value: str | None) -> datetime:
    if not value:
        return datetime(1970, 1, 1, tzinfo=timezone.utc)
    when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)

# ═══════════════════════════════════════════════ END FEED ═══════════════════════════════════════════════
