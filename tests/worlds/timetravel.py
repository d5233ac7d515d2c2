"""Another archive behind a Memento aggregator (TimeTravel JSON API and a TimeGate), for the tests of
linkkeeper's fallback to other archives."""

from __future__ import annotations

import email.utils
import re
from collections import Counter
from datetime import datetime, timezone

from aiohttp import web

from linkkeeper.wayback import surt_key
from linkkeeper.sim.archive import Capture, _http_date, _pad_timestamp, _ts_datetime


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
