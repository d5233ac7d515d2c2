"""Shared fixtures: the real third-party material beside the repository, and a simulated web on loopback."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiohttp import web as aioweb

from linkkeeper.settings import ConnectTo, Settings
from linkkeeper.testing import SimulatedWeb

REAL = Path(__file__).resolve().parents[2] / "shared" / "real"


@pytest.fixture
def real() -> Path:
    if not REAL.exists():
        pytest.fail(f"real material not found at {REAL}: the repository must be cloned beside shared/")
    return REAL


@pytest.fixture
async def simweb(aiohttp_server):
    """A SimulatedWeb served on 127.0.0.1, and settings whose connect_to sends every host but *.invalid to it."""
    web = SimulatedWeb()
    server = await aiohttp_server(web.app())

    def settings(**changes) -> Settings:
        base = Settings(connect_timeout=2, read_timeout=2, total_timeout=4, retries=1, retry_wait_max=0.2,
                        db=":memory:")
        rules = tuple(ConnectTo(host, "*", "127.0.0.1", server.port) for host in sorted(web.hosts))
        return base.replace(connect_to=rules + tuple(changes.pop("connect_to", ())), **changes)

    web.settings = settings
    web.server = server
    return web
