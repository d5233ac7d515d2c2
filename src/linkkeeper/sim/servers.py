"""Serving a stand-in on loopback: `serve(app)` (an async context manager yielding the base URL on
127.0.0.1 and an ephemeral port), `BackgroundServer(app)` (its own event loop in a thread, for the demo and
the CLI's review page, which the main thread then waits on, free to take Ctrl-C), and `closed_port()` (a
port nothing listens on)."""

from __future__ import annotations

import asyncio
import socket
import threading
from contextlib import asynccontextmanager
from typing import AsyncIterator

from aiohttp import web



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
                shown = f"[{self.host}]" if ":" in self.host else self.host  # an IPv6 address
                self.base_url = f"http://{shown}:{runner.addresses[0][1]}"
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




def closed_port() -> int:
    """A loopback port with nothing listening (connection refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
