"""A simulated web for the demo and the tests: every outlet on one server dispatching on the Host header, so
realistic URLs (http://www.guardian.co.uk/...) reach it through connect_to rules; a `Page` per URL holds its
fate."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from aiohttp import web



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
