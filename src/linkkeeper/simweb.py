"""The simulated web: one aiohttp server on 127.0.0.1 standing in for every outlet, dispatching on the Host
header, so realistic URLs (http://www.guardian.co.uk/...) reach it through connect_to rules.

Each URL has a Page: its status, body, headers, redirect target, a different answer to HEAD, a delay. Used
by the tests, `linkkeeper demo` and the benchmark.
"""

from __future__ import annotations

import asyncio
import socket
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

    def __post_init__(self) -> None:
        self.served = 0


def article_html(title: str, paragraphs: list[str], extra: str = "") -> str:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title></head>"
            f"<body><article><h1>{title}</h1>{body}</article>{extra}</body></html>")


class SimulatedWeb:
    """Pages by URL (host + path + query; scheme ignored: the server speaks plain HTTP)."""

    def __init__(self) -> None:
        self.pages: dict[tuple[str, str], Page] = {}
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
        return {host for host, _ in self.pages}

    async def handle(self, request: web.Request) -> web.StreamResponse:
        host = request.host.split(":")[0].lower()
        key = (host, request.path_qs)
        self.hits[key] = self.hits.get(key, 0) + 1
        page = self.pages.get(key)
        if page is None:
            return web.Response(status=404, text="<html><title>404 Not Found</title>Not Found</html>",
                                content_type="text/html")
        if page.delay:
            await asyncio.sleep(page.delay)
        page.served += 1
        if page.served <= page.fail_times:
            return web.Response(status=page.fail_status, headers=page.headers, text="try later")
        status = page.head_status if (request.method == "HEAD" and page.head_status) else page.status
        headers = dict(page.headers)
        if page.location and 300 <= status < 400:
            headers["Location"] = page.location
        body = page.body.encode() if isinstance(page.body, str) else page.body
        headers.setdefault("Content-Type", page.content_type)
        return web.Response(status=status, body=body, headers=headers)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        return app


def closed_port() -> int:
    """A loopback port with nothing listening (connection refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
