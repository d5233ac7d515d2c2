"""Today's web of the evaluation world, served from one loopback port for every outlet host (by Host header),
plus the TCP misbehaviours a crawler meets: a port that refuses connections, one that accepts and never
answers, one that resets, one that closes without a word.

Owned here: how each fate answers a request (status, redirects, bodies, delays, per-URL state for flaky and
rate-limited pages, bot walls that judge the User-Agent, HEAD refused by some hosts). What a URL's fate is
comes from `world`; what a page looks like from `pages`.
"""

from __future__ import annotations

import asyncio
import re
import socket
import struct
from collections import Counter

from aiohttp import web

from . import outlets as O
from . import pages
from .world import World, route_key

LIVE_PAGE_FATES = {"alive", "alive_slow", "alive_flaky", "alive_flaky_run", "alive_429", "alive_429_retry_after",
                   "alive_edited", "paywall_ua"}


class Web:
    def __init__(self, world: World, slow_seconds: float = 2.5) -> None:
        self.world = world
        self.slow_seconds = slow_seconds  # how long a slow page takes to answer
        self.hits: Counter[str] = Counter()  # requests per route key (flaky and rate-limited state)
        self.by_id: dict[str, dict[int, int]] = {h: {} for h in O.SLUG_IGNORING}
        for a in world.articles:
            host = O.host_of(a.url)
            if host in self.by_id and a.meta.ident:
                self.by_id[host][a.meta.ident] = a.aid

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        return app

    async def handle(self, request: web.Request) -> web.StreamResponse:
        host = (request.host or "").split(":")[0].lower()
        key = host + request.raw_path
        level = self.world.host_level.get(host)
        if level == "parked":
            return _html(pages.parked_page(host))
        if level == "botwall":
            return _html(pages.botwall_page(), 403, {"Server": "cloudflare", "cf-mitigated": "challenge"})
        if level == "cross_home":
            return web.Response(status=301, headers={"Location": O.CROSS_HOME[host]})
        if level == "head405" and request.method == "HEAD":
            return web.Response(status=405, headers={"Allow": "GET"})
        route = self.world.routes.get(key)
        if route is None and not request.raw_path.endswith("/") and "?" not in request.raw_path:
            if self.world.routes.get(key + "/"):
                return web.Response(status=301, headers={"Location": f"http://{host}{request.raw_path}/"})
        if route is None:
            return await self.unknown(request, host, key)
        return await self.serve(request, host, key, route)

    async def serve(self, request: web.Request, host: str, key: str, route) -> web.StreamResponse:
        fate = route.fate
        self.hits[key] += 1
        n = self.hits[key]
        if fate in ("moved", "redirect"):
            return web.Response(status=301, headers={"Location": route.target})
        if fate == "alive_flaky" and n <= 2:
            return _html("<h1>503 Service Temporarily Unavailable</h1>", 503)
        if fate == "alive_flaky_run" and n <= 5:
            return _html("<h1>503 Service Unavailable</h1><p>Back soon: maintenance.</p>", 503)
        if fate == "alive_429_retry_after" and n <= 1:
            return _html("<h1>429 Too Many Requests</h1>", 429, {"Retry-After": "2"})
        if fate == "alive_429" and n <= 2:
            return _html("<h1>429 Too Many Requests</h1>", 429)
        if fate == "alive_slow":
            await asyncio.sleep(self.slow_seconds)
        if fate == "paywall_ua" and "Mozilla" not in request.headers.get("User-Agent", ""):
            return _html(pages.forbidden_page(), 403)
        if fate in LIVE_PAGE_FATES:
            if route.aid < 0:
                return _html(pages.generic_page(host, key))
            return _html(self.article(route.aid, host, request, edited=fate == "alive_edited",
                                      version=route.version))
        if fate == "alive_pdf":
            return web.Response(body=pages.pdf_bytes(key), content_type="application/pdf")
        if fate == "soft404_video":
            return _html(pages.video_page(host, key, available=False))
        if fate == "dead_404":
            return _html(pages.not_found_page(host, 2024, 6), 404)
        if fate == "dead_410":
            return _html(pages.not_found_page(host, 2024, 6), 410)
        if fate in ("soft404_page", "soft404_host"):
            return _html(pages.not_found_page(host, 2024, 6))
        if fate == "soft404_expired":
            return _html(pages.not_found_page(host, 2024, 6, expired=True))
        return _html(pages.not_found_page(host, 2024, 6), 404)

    def article(self, aid: int, host: str, request: web.Request, edited: bool, version: int) -> str:
        a = self.world.articles[aid]
        text = self.world.article_text(aid)
        canonical = f"http://{host}{request.raw_path}" if host in ("www.theguardian.com", "www.cbc.ca", "www.bbc.com") else ""
        return pages.article_page(host, text, version, 2024, 6, f"{a.local:%B %d, %Y}", canonical, edited)

    async def unknown(self, request: web.Request, host: str, key: str) -> web.StreamResponse:
        path = request.raw_path
        if path == "/" or path == "/eng":
            return _html(pages.listing_page(host, 2024, 6, "home"))
        if re.fullmatch(r"/[a-z-]+(/[a-z-]+)?/", path) and host not in ("en.wikipedia.org",):
            return _html(pages.listing_page(host, 2024, 6, path))
        if host in self.by_id:  # slug-ignoring sites resolve the id and send other slugs to the real URL
            m = re.search(r"article(\d+)/?$", path) or re.search(r"_n_(\d+)\.html$", path)
            aid = self.by_id[host].get(int(m.group(1))) if m else None
            if aid is not None:
                canonical = self.world.articles[aid].url
                target_route = self.world.routes.get(route_key(canonical))
                if target_route and target_route.fate in LIVE_PAGE_FATES:
                    return web.Response(status=301, headers={"Location": canonical})
        if host == "www.youtube.com":
            return _html(pages.video_page(host, key, available=False))
        policy = O.UNKNOWN_PATH.get(host, "404")
        if policy == "home":
            return web.Response(status=301, headers={"Location": O.HOME_OF.get(host, f"http://{host}/")})
        if policy == "soft200":
            return _html(pages.not_found_page(host, 2024, 6))
        return _html(pages.not_found_page(host, 2024, 6), 404)


def _html(text: str, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(text=text, status=status, content_type="text/html", charset="utf-8", headers=headers)


# --- TCP misbehaviour -----------------------------------------------------------------------------------------

def refusing_port() -> tuple[socket.socket, int]:
    """A bound socket that never listens: connecting to it is refused (the kernel answers RST)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    return s, s.getsockname()[1]


async def start_tcp(kind: str) -> tuple[asyncio.base_events.Server, int, list]:
    """hang: accept and never answer; reset: read the request, then RST; drop: read it, then close quietly."""
    held: list = []

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if kind == "hang":
            held.append(writer)  # keep the connection open, say nothing
            return
        try:
            await asyncio.wait_for(reader.read(4096), 5)
        except (asyncio.TimeoutError, ConnectionError):
            pass
        if kind == "reset":
            sock = writer.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.close()

    server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1], held

