"""A simulated Wayback Machine on loopback, following the real APIs as recorded and documented (see
README.md): the CDX server, replay (view and `id_` modes, Memento headers, nearest-capture redirects),
timemaps, the availability API, excluded sites and the Internet Archive's rate limits.

Owned here: the HTTP behaviour and the request accounting. Every request is counted by kind; requests past a
limit get a 429 (no Retry-After, as the real service), counted, and requests that keep coming during the
minute after a 429 are counted as ignored; too many of those and the client's address is "firewalled" for an
hour (connections closed without an answer), as the IA does. Limits are the real ones (CDX and timemaps 30 a
minute, replay 600, availability heavily limited) divided into a shorter window by `speedup`, so a bench can
run at `speedup` times the real pace while keeping the real ratio between the client's pace and the limit.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import random
import re
import time
from collections import Counter, deque
from datetime import datetime
from urllib.parse import quote_plus, unquote_plus

from aiohttp import web

from . import pages
from .surt import in_domain, scope, surt
from .timeutil import pad_ts, parse_ts
from .world import Capture, World, digest

FIELDS = ["urlkey", "timestamp", "original", "mimetype", "statuscode", "digest", "length"]
LIMITS_PER_MINUTE = {"cdx": 30, "replay": 600, "availability": 20}
BLOCKED = ("org.archive.util.io.RuntimeIOException: org.archive.wayback.exception."
           "AdministrativeAccessControlException: Blocked Site Error")


def _http_date(ts: str) -> str:
    return parse_ts(ts).strftime("%a, %d %b %Y %H:%M:%S GMT")


class Wayback:
    def __init__(self, world: World, speedup: float = 1.0, enforce: bool = True) -> None:
        self.world = world
        self.captures = world.captures  # sorted by (key, ts)
        self.keys = [c.key for c in self.captures]
        self.by_content: dict[str, Capture] = {}
        for c in self.captures:
            if c.kind in ("article", "soft404", "home", "section", "parked", "paywall") and c.content not in self.by_content:
                self.by_content[c.content] = c
        self.window = 60.0 / speedup
        self.enforce = enforce
        self.requests: Counter[str] = Counter()
        self.status: Counter[str] = Counter()  # "kind:status"
        self.sent_429: Counter[str] = Counter()
        self.ignored_429: Counter[str] = Counter()
        self.firewalled = 0
        self._recent: dict[str, deque[float]] = {k: deque() for k in LIMITS_PER_MINUTE}
        self._last_429: dict[str, float] = {}
        self._ignored_in_penalty: dict[str, int] = Counter()
        self._firewall_until = 0.0
        self._availability_rng = random.Random(f"availability:{world.seed}")
        self.cdx_log: list[dict] = []  # every CDX query with its answer's size, for reading the misses

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/__bench/stats", self.stats)
        app.router.add_get("/cdx/search/cdx", self.cdx)
        app.router.add_get("/wayback/available", self.available)
        app.router.add_get("/web/timemap/{tail:.*}", self.timemap)
        app.router.add_get("/web/{tail:.*}", self.replay)
        app.router.add_route("*", "/save{tail:.*}", self.save)
        return app

    # --- accounting and limits -----------------------------------------------------------------------------
    def _admit(self, kind: str, request: web.Request) -> web.StreamResponse | None:
        """None when the request may proceed; otherwise the response that refuses it."""
        self.requests[kind] += 1
        if not self.enforce:
            return None
        now = time.monotonic()
        if now < self._firewall_until:
            self.firewalled += 1
            if request.transport is not None:
                request.transport.close()  # the firewall: the connection ends without an answer
            return web.Response(status=503)
        last = self._last_429.get(kind)
        if last is not None and now - last < self.window:
            self.ignored_429[kind] += 1
            self._ignored_in_penalty[kind] += 1
            if self._ignored_in_penalty[kind] > 10:
                self._firewall_until = now + 60 * self.window  # an hour, at this pace
            return self._too_many(kind)
        self._ignored_in_penalty[kind] = 0
        recent = self._recent[kind]
        while recent and now - recent[0] > self.window:
            recent.popleft()
        if len(recent) >= LIMITS_PER_MINUTE[kind]:
            self._last_429[kind] = now
            return self._too_many(kind)
        recent.append(now)
        return None

    def _too_many(self, kind: str) -> web.Response:
        self.sent_429[kind] += 1
        return web.Response(status=429, text="<html><body><h1>Too Many Requests</h1><p>You have sent too many "
                                              "requests in a given amount of time.</p></body></html>",
                            content_type="text/html")

    async def stats(self, request: web.Request) -> web.Response:
        return web.json_response({"requests": dict(self.requests), "status": dict(self.status),
                                  "sent_429": dict(self.sent_429), "ignored_429": dict(self.ignored_429),
                                  "firewalled_requests": self.firewalled, "cdx_log": self.cdx_log})

    def _excluded(self, key: str) -> bool:
        return any(in_domain(key, d) or key.startswith(d + ")") for d in self.world.excluded)

    def _range(self, key: str, prefix: bool) -> tuple[int, int]:
        lo = bisect.bisect_left(self.keys, key)
        if prefix:
            hi = bisect.bisect_left(self.keys, key + "\U0010ffff")
        else:
            hi = bisect.bisect_right(self.keys, key)
        return lo, hi

    # --- CDX --------------------------------------------------------------------------------------------------
    async def cdx(self, request: web.Request) -> web.StreamResponse:
        refused = self._admit("cdx", request)
        if refused:
            return refused
        q = request.query
        url = q.get("url", "")
        if not url:
            return self._status("cdx", web.Response(status=400, text="Missing required param: url\n"), request)
        match_type = q.get("matchType", "exact")
        if url.endswith("/*"):
            url, match_type = url[:-1], "prefix"
        elif url.endswith("*"):
            url, match_type = url[:-1], "prefix"
        if url.startswith("*."):
            url, match_type = url[2:], "domain"
        if match_type not in ("exact", "prefix", "host", "domain"):
            return self._status("cdx", web.Response(status=400, text=f"Invalid matchType: {match_type}\n"), request)
        key, is_prefix = scope(url, match_type)
        if self._excluded(key if match_type in ("exact", "prefix") else key + ")"):
            return self._status("cdx", web.Response(status=403, text=BLOCKED + "\n",
                                                    headers={"X-Archive-Wayback-Runtime-Error": BLOCKED}), request)
        lo, hi = self._range(key, is_prefix)
        if match_type == "domain":
            # "uk,co,guardian" must not match "uk,co,guardianx"
            rows = [c for c in self.captures[lo:hi] if in_domain(c.key, key)]
        else:
            rows = self.captures[lo:hi]
        frm = pad_ts(q["from"], False) if q.get("from") else None
        to = pad_ts(q["to"], True) if q.get("to") else None
        filters = q.getall("filter", [])
        if filters and len(rows) > 20000 and (not frm or not to or int(to[:8]) - int(frm[:8]) > 10000):
            # the real server times out on sparse filtered scans of big hosts; narrowing the dates helps
            return self._status("cdx", web.Response(status=504, text="<html><body><h1>504 Gateway Time-out</h1></body></html>",
                                                    content_type="text/html"), request)
        if frm or to:
            rows = [c for c in rows if (not frm or c.ts >= frm) and (not to or c.ts <= to)]
        try:
            checks = [_compile_filter(f) for f in filters]
        except ValueError as exc:
            return self._status("cdx", web.Response(status=400, text=f"{exc}\n"), request)
        table = [_row(c) for c in rows]
        for field_index, negate, regex in checks:
            table = [r for r in table if bool(regex.fullmatch(r[field_index])) != negate]
        if q.get("closest") and q.get("sort") == "closest":
            target = parse_ts(q["closest"])
            table.sort(key=lambda r: abs((parse_ts(r[1]) - target).total_seconds()))
        for spec in q.getall("collapse", []):
            name, _, n = spec.partition(":")
            if name not in FIELDS:
                return self._status("cdx", web.Response(status=400, text=f"Invalid collapse field: {name}\n"), request)
            idx, width = FIELDS.index(name), int(n) if n else None
            out, prev = [], object()
            for r in table:
                v = r[idx][:width] if width else r[idx]
                if v != prev:
                    out.append(r)
                prev = v
            table = out
        resume = q.get("resumeKey")
        if resume:
            rk, _, rts = unquote_plus(resume).rstrip("!").partition(" ")
            table = [r for r in table if (r[0], r[1]) > (rk, rts)]
        offset = int(q.get("offset", "0") or 0)
        table = table[offset:]
        limit = q.get("limit")
        more = False
        if limit:
            n = int(limit)
            if n >= 0:
                more = len(table) > n
                table = table[:n]
            else:
                table = table[n:]
        fl = [f for f in q.get("fl", "").split(",") if f] or FIELDS
        if any(f not in FIELDS for f in fl):
            return self._status("cdx", web.Response(status=400, text="Invalid field list\n"), request)
        idxs = [FIELDS.index(f) for f in fl]
        key_out = quote_plus(f"{table[-1][0]} {table[-1][1]}!") if (more and table and q.get("showResumeKey") == "true") else None
        if q.get("output") == "json":
            if not table:
                body = "[]"
            else:
                lines = [json.dumps(fl)] + [json.dumps([r[i] for i in idxs]) for r in table]
                if key_out:
                    lines += ["[]", json.dumps([key_out])]
                body = "[" + ",\n".join(lines) + "]\n"
            return self._status("cdx", web.Response(text=body, content_type="application/json"), request, len(table))
        text = "".join(" ".join(r[i] for i in idxs) + "\n" for r in table)
        if key_out:
            text += "\n" + key_out + "\n"
        return self._status("cdx", web.Response(text=text, content_type="text/plain"), request, len(table))

    def _status(self, kind: str, response: web.StreamResponse, request: web.Request | None = None,
                rows: int | None = None) -> web.StreamResponse:
        self.status[f"{kind}:{response.status}"] += 1
        if request is not None:
            self.cdx_log.append({"query": request.query_string, "status": response.status, "rows": rows})
        return response

    # --- replay -----------------------------------------------------------------------------------------------
    async def replay(self, request: web.Request) -> web.StreamResponse:
        refused = self._admit("replay", request)
        if refused:
            return refused
        tail = request.raw_path.split("/web/", 1)[1]
        m = re.match(r"(\d{1,14})([a-z]{2}_)?/(.*)$", tail, re.DOTALL)
        base = f"{request.scheme}://{request.host}"
        if not m:  # /web/<url>: the latest capture
            url = _fix_url(unquote_plus(tail) if tail.startswith("http%3A") else tail)
            caps = self._of(url)
            if not caps:
                return self._status("replay", _html(pages.not_archived_page(url), 404))
            c = caps[-1]
            return self._status("replay", web.Response(status=302, headers={"Location": f"{base}/web/{c.ts}/{c.original}"}))
        ts, flag, url = m.group(1), m.group(2) or "", _fix_url(m.group(3))
        key = surt(url)
        if self._excluded(key):
            return self._status("replay", _html(pages.excluded_page()))
        caps = self._of(url)
        if not caps:
            return self._status("replay", _html(pages.not_archived_page(url), 404, {
                "X-Archive-Wayback-Runtime-Error": f"ResourceNotInArchiveException: {url} was not found"}))
        want = pad_ts(ts, False) if len(ts) < 14 else ts
        exact = [c for c in caps if c.ts == want and not c.unplayable]
        if not exact:
            target = parse_ts(want)
            playable = [c for c in caps if not c.unplayable] or caps
            c = min(playable, key=lambda c: (abs((parse_ts(c.ts) - target).total_seconds()), c.ts))
            location = f"/web/{c.ts}{flag}/{c.original}"
            # Most redirects are absolute; some (as recorded in 2016) are relative.
            if int(hashlib.md5(url.encode()).hexdigest()[:2], 16) >= 13:
                location = base + location
            return self._status("replay", web.Response(status=302, text="", headers={
                "Location": location, "X-Archive-Redirect-Reason": f"found capture at {c.ts}"}))
        c = exact[0]
        headers = self._memento_headers(base, caps, c)
        raw = flag in ("id_", "if_", "im_", "js_", "cs_")
        if c.kind == "redirect":
            target_replay = f"{base}/web/{c.ts}{flag}/{c.location}"
            if raw:
                headers["Location"] = target_replay
                return self._status("replay", web.Response(status=int(c.status), headers=headers))
            return self._status("replay", _html(pages.redirect_view_page(c.status, c.location, target_replay),
                                                200, headers))
        body, status = self._content(c)
        if not raw:
            body = pages.toolbar(body, c.ts)
        return self._status("replay", _html(body, status, headers))

    def _of(self, url: str) -> list[Capture]:
        lo, hi = self._range(surt(url), False)
        return self.captures[lo:hi]

    def _content(self, c: Capture) -> tuple[str, int]:
        when = parse_ts(c.ts)
        host = c.original.split("/")[2].split(":")[0].lower()
        if c.kind == "revisit":
            original = self.by_content.get(c.content)
            if original is None:
                return pages.not_archived_page(c.original), 404
            c = original
        w = self.world
        if c.kind in ("article", "print"):
            ref = int(c.content.split(":")[1]) if c.content.startswith("article:") else c.ref
            version = int(c.content.split(":")[2]) if c.content.startswith("article:") else c.version
            a = w.articles[ref]
            return pages.article_page(host, w.article_text(ref), version, when.year, when.month,
                                      f"{a.local:%B %d, %Y}"), 200
        if c.kind == "paywall":
            return pages.paywall_page(host, w.article_text(c.ref), c.version, when.year, when.month), 200
        if c.kind == "soft404":
            return pages.not_found_page(host, when.year, when.month,
                                        expired="soft404_expired" in c.content), 200
        if c.kind == "notfound":
            return pages.not_found_page(host, when.year, when.month), int(c.status)
        if c.kind == "home":
            return pages.listing_page(host, when.year, when.month, "home"), 200
        if c.kind == "section":
            return pages.listing_page(host, when.year, when.month, "/news/"), 200
        if c.kind == "parked":
            return pages.parked_page(host), 200
        return pages.not_archived_page(c.original), 404

    def _memento_headers(self, base: str, caps: list[Capture], c: Capture) -> dict[str, str]:
        i = caps.index(c)
        original = c.original

        def link(cap: Capture, rel: str) -> str:
            return f'<{base}/web/{cap.ts}/{cap.original}>; rel="{rel}"; datetime="{_http_date(cap.ts)}"'

        parts = [f'<{original}>; rel="original"',
                 f'<{base}/web/timemap/link/{original}>; rel="timemap"; type="application/link-format"',
                 f'<{base}/web/{original}>; rel="timegate"', link(caps[0], "first memento")]
        if i > 0:
            parts.append(link(caps[i - 1], "prev memento"))
        parts.append(link(c, "memento"))
        if i + 1 < len(caps):
            parts.append(link(caps[i + 1], "next memento"))
        parts.append(link(caps[-1], "last memento"))
        return {"Link": ", ".join(parts), "Memento-Datetime": _http_date(c.ts),
                "X-Archive-Src": f"sim-crawl-{c.ts[:8]}/IA-{c.ts}-00000.warc.gz"}

    # --- timemaps, availability, save --------------------------------------------------------------------------
    async def timemap(self, request: web.Request) -> web.StreamResponse:
        refused = self._admit("cdx", request)
        if refused:
            return refused
        tail = request.raw_path.split("/web/timemap/", 1)[1]
        fmt, _, url = tail.partition("/")
        base = f"{request.scheme}://{request.host}"
        url = _fix_url(url)
        if self._excluded(surt(url)):
            return self._status("cdx", web.Response(status=403, text=BLOCKED + "\n"))
        caps = self._of(url)
        if not caps:
            return self._status("cdx", web.Response(status=404, text=""))
        lines = [f'<{url}>; rel="original"',
                 f'<{base}/web/timemap/link/{url}>; rel="self"; type="application/link-format"; '
                 f'from="{_http_date(caps[0].ts)}"; until="{_http_date(caps[-1].ts)}"',
                 f'<{base}/web/{url}>; rel="timegate"']
        for i, c in enumerate(caps):
            rel = "first memento" if i == 0 else "last memento" if i == len(caps) - 1 else "memento"
            lines.append(f'<{base}/web/{c.ts}/{c.original}>; rel="{rel}"; datetime="{_http_date(c.ts)}"')
        return self._status("cdx", web.Response(text=",\n".join(lines) + "\n", content_type="application/link-format"))

    async def available(self, request: web.Request) -> web.StreamResponse:
        refused = self._admit("availability", request)
        if refused:
            return refused
        url = request.query.get("url", "")
        ts = request.query.get("timestamp")
        caps = [c for c in self._of(url) if c.status == "200"] if url else []
        # Real gaps: https:// forms often come back empty, and archived pages are missed intermittently.
        https_gap = url.startswith("https://") and int(hashlib.md5(url.encode()).hexdigest()[:2], 16) < 150
        if not caps or https_gap or self._availability_rng.random() < 0.15 or self._excluded(surt(url)):
            body: dict = {"url": url, "archived_snapshots": {}}
        else:
            target = parse_ts(ts) if ts else datetime(2100, 1, 1)
            c = min(caps, key=lambda c: abs((parse_ts(c.ts) - target).total_seconds()))
            body = {"url": url, "archived_snapshots": {"closest": {
                "status": "200", "available": True, "url": f"http://web.archive.org/web/{c.ts}/{c.original}",
                "timestamp": c.ts}}}
        if ts:
            body["timestamp"] = ts
        return self._status("availability", web.json_response(body))

    async def save(self, request: web.Request) -> web.StreamResponse:
        self.requests["save"] += 1
        return web.Response(status=401, text="You need to be logged in to use Save Page Now.")


def _row(c: Capture) -> list[str]:
    return [c.key, c.ts, c.original, c.mime, c.status, digest(c.content), c.length]


def _compile_filter(spec: str):
    negate = spec.startswith("!")
    body = spec[1:] if negate else spec
    name, sep, regex = body.partition(":")
    if not sep or name not in FIELDS:
        raise ValueError(f"Invalid filter: {spec}")
    try:
        return FIELDS.index(name), negate, re.compile(regex)
    except re.error as exc:
        raise ValueError(f"Invalid filter regex: {spec}: {exc}") from None


def _fix_url(url: str) -> str:
    # Proxies collapse "//" in paths: "http:/www.x.ca/" reaches the server as such.
    if url[:7].lower() in ("http%3a", "https%3"):
        url = unquote_plus(url)
    url = re.sub(r"^(https?):/+", r"\1://", url)
    if "://" not in url:
        url = "http://" + url
    return url


def _html(text: str, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(text=text, status=status, content_type="text/html", charset="utf-8", headers=headers)
