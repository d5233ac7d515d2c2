"""WaybackClient against the SimulatedArchive (linkkeeper.sim), on fake time."""

from __future__ import annotations

import asyncio
import socket
from contextlib import asynccontextmanager
from datetime import datetime, timezone
from typing import AsyncIterator

import aiohttp
import pytest

from linkkeeper.wayback import (
    ArchiveError,
    ArchiveQueryError,
    ArchiveUnavailableError,
    BlockedSiteError,
    NoMementoError,
    RateLimitedError,
    RateLimiter,
    WaybackClient,
    parse_cdx,
)
from linkkeeper.settings import Settings
from linkkeeper.sim.archive import Capture, SimulatedArchive, settings_for
from linkkeeper.sim.servers import BackgroundServer, serve
from worlds.clock import FakeClock

URL = "http://example.com/article"


@asynccontextmanager
async def client_on(archive: SimulatedArchive, clock: FakeClock, **settings: object) -> AsyncIterator[WaybackClient]:
    async with serve(archive.app()) as base, aiohttp.ClientSession() as session:
        configured = Settings().replace(**settings_for(base), **settings)
        yield WaybackClient(session, configured, clock=clock, sleep=clock.sleep)


def cdx_queries(archive: SimulatedArchive) -> list[str]:
    return [path for endpoint, _when, path in archive.request_log if endpoint == "cdx"]


# ----------------------------------------------------------------------------------------- closest captures


async def test_closest_captures_is_one_closest_sorted_query_without_redirects_or_errors() -> None:
    # The server filters and sorts by closeness in one request; choosing among the rows is the repair's business.
    clock = FakeClock()
    archive = SimulatedArchive(clock=clock)
    archive.add(URL, "20100101000000", body="the article")
    archive.add(URL, "20120530000000", body="the article", revisit=True)  # same digest as 2010: a revisit
    archive.add(URL, "20120601000000", status=301, redirect_to="/login")  # exactly at `when`
    archive.add(URL, "20120602000000", status=404, body="gone")
    archive.add(URL, "20120605000000", status=302, redirect_to="http://example.com/")
    archive.add("https://www.example.com/article", "20130101000000", body="the article, later")
    archive.add("http://example.com/other", "20120601000000", body="another page")
    async with client_on(archive, clock) as client:
        records = await client.closest_captures("https://www.example.com/article",
                                                datetime(2012, 6, 1, tzinfo=timezone.utc))
    assert records and {r.statuscode for r in records} <= {"200", "-"}
    assert client.requests["cdx"] == 1
    [query] = cdx_queries(archive)
    for part in ("output=json", "filter=statuscode:200", "closest=20120601000000", "sort=closest", "limit=25"):
        assert part in query


# ---------------------------------------------------------------------------------------------- exclusion


async def test_excluded_site_is_blocked_everywhere() -> None:
    clock = FakeClock()
    archive = SimulatedArchive(clock=clock)
    archive.add("https://nationalpost.com/health/", "20170929002712", body="news")
    archive.excluded("nationalpost.com")
    async with client_on(archive, clock) as client:
        with pytest.raises(BlockedSiteError, match="AdministrativeAccessControlException"):
            await client.closest_captures("https://www.nationalpost.com/health/", datetime(2017, 9, 1))
        with pytest.raises(BlockedSiteError):
            await client.get_memento("https://nationalpost.com/health/", "20170929002712")
    assert client.requests["cdx"] == 1  # a 403 is not retried


async def test_a_site_refused_once_is_not_asked_again_in_the_run() -> None:
    # The archive excludes by urlkey prefix: whatever lies under a refused query would be refused too, so the
    # client answers for it; what lies beside or above it is still asked.
    clock = FakeClock()
    archive = SimulatedArchive(clock=clock)
    archive.add("http://blockedsite.example/2012/story/", "20120914000000", body="another site")
    archive.excluded("blocked.example/")  # the host's pages, not the domain query
    archive.excluded("refused.example")  # the domain query too
    async with client_on(archive, clock) as client:
        with pytest.raises(BlockedSiteError, match="AdministrativeAccessControlException"):
            await client.search("blocked.example/", match_type="prefix")
        for url, match_type in (("www.blocked.example/news/", "prefix"),  # www is the same site
                                ("blocked.example/news/story.html?id=1", None)):
            with pytest.raises(BlockedSiteError, match="earlier in this run"):
                await client.search(url, match_type=match_type)
        assert client.requests["cdx"] == 1
        # A domain query is wider than the refused host prefix: asked (and here answered).
        assert await client.search("blocked.example", match_type="domain") == []
        # A look-alike host is another site.
        assert await client.search("blockedsite.example/2012/", match_type="prefix")
        assert client.requests["cdx"] == 3
        # Refused as a domain: the same domain query (another month) and the host's pages are answered for.
        with pytest.raises(BlockedSiteError, match="AdministrativeAccessControlException"):
            await client.search("refused.example", match_type="domain", from_="20120901", to="20120930")
        with pytest.raises(BlockedSiteError, match="earlier in this run"):
            await client.search("refused.example", match_type="domain", from_="20121001", to="20121031")
        with pytest.raises(BlockedSiteError, match="earlier in this run"):
            await client.prefix_search("www.refused.example/2012/", from_="20120901", to="20121231")
    assert client.requests["cdx"] == len(cdx_queries(archive)) == 4


# ------------------------------------------------------------------------------------------------- replay


async def test_replay_mementos_redirects_and_errors() -> None:
    clock = FakeClock()
    archive = SimulatedArchive(clock=clock)
    archive.add(URL, "20100101000000", body="<p>one</p>")
    archive.add(URL, "20110101000000", body="<p>two</p>")
    archive.add(URL, "20120101000000", status=301, redirect_to="/moved")
    archive.add("http://example.com/moved", "20120101000500", body="<p>moved here</p>")
    archive.add(URL, "20130101000000", body="<p>two</p>", revisit=True)
    archive.add("http://example.com/gone", "20120101000000", status=404, body="not found page")
    async with client_on(archive, clock) as client:
        memento = await client.get_memento(URL, "20110101000000")
        assert (memento.status, memento.body, memento.timestamp) == (200, b"<p>two</p>", "20110101000000")
        assert memento.archive_url == "https://web.archive.org/web/20110101000000/http://example.com/article"
        assert set(memento.links) >= {"original", "timegate", "timemap", "first memento", "prev memento",
                                      "memento", "next memento", "last memento"}
        assert memento.links["prev memento"][1] == datetime(2010, 1, 1, tzinfo=timezone.utc)

        nearest = await client.get_memento(URL, "20100701")  # no capture then: the Wayback 302 is followed
        assert nearest.timestamp == "20100101000000" and nearest.requested_timestamp == "20100701"

        moved = await client.get_memento(URL, "20120101000000")
        assert moved.status == 301 and moved.redirect_location == "http://example.com/moved"
        target = await client.get_memento(moved.redirect_location, moved.timestamp)  # where the redirect led
        assert [m.status for m in (moved, target)] == [301, 200] and target.body == b"<p>moved here</p>"

        view = await client.get_memento(URL, "20120101000000", raw=False)
        assert view.status == 301 and view.redirect_location == "http://example.com/moved"

        revisit = await client.get_memento(URL, "20130101000000")
        assert revisit.body == b"<p>two</p>" and revisit.timestamp == "20130101000000"

        gone = await client.get_memento("http://example.com/gone", "20120101000000")
        assert gone.status == 404 and gone.body == b"not found page"
        with pytest.raises(NoMementoError):
            await client.get_memento("http://example.com/never", "20120101000000")


async def test_archived_server_error_is_content_not_an_outage() -> None:
    clock = FakeClock()
    archive = SimulatedArchive(clock=clock)
    archive.add(URL, "20120101000000", status=503, body="site overloaded")
    async with client_on(archive, clock) as client:
        memento = await client.get_memento(URL, "20120101000000")
    assert memento.status == 503 and client.requests["replay"] == 1


# -------------------------------------------------------------------------------------------- rate limits


async def test_rate_limiter_spaces_requests_on_fake_time() -> None:
    clock = FakeClock()
    limiter = RateLimiter(2.0, clock=clock, sleep=clock.sleep)
    times: list[float] = []

    async def worker() -> None:
        await limiter.acquire()
        times.append(clock())

    await asyncio.gather(*(worker() for _ in range(10)))
    assert times[0] == 1_000.0
    assert all(b - a >= 0.5 - 1e-9 for a, b in zip(times, times[1:]))
    assert times[-1] - times[0] == pytest.approx(4.5)
    limiter.pause(60)
    await limiter.acquire()
    assert clock() >= times[-1] + 60


async def test_client_keeps_under_the_cdx_rate() -> None:
    clock = FakeClock()
    archive = SimulatedArchive(clock=clock)
    archive.add(URL, "20120101000000", body="x")
    async with client_on(archive, clock, cdx_rate=0.4) as client:  # IA's CDX limit: 24 a minute
        # Note when each request is let out (send time): with instantly-advancing fake time, arrival times at
        # a server sharing the clock can bunch up (see FakeClock), send times cannot.
        limiter, sent = client.limiters["cdx"], []
        acquire = limiter.acquire

        async def recording_acquire() -> None:
            await acquire()
            sent.append(clock())

        limiter.acquire = recording_acquire  # type: ignore[method-assign]
        results = await asyncio.gather(*(client.closest_captures(URL, datetime(2012, 1, 1))
                                         for _ in range(30)))
    assert all(r for r in results)
    assert archive.requests["cdx"] == 30 == client.requests["cdx"] == len(sent)
    assert all(b - a >= 2.5 - 1e-9 for a, b in zip(sent, sent[1:]))
    assert max(sum(1 for t in sent if start <= t < start + 60) for start in sent) <= 24


async def test_429_pauses_the_endpoint_then_retries() -> None:
    clock = FakeClock()
    archive = SimulatedArchive(cdx_per_minute=2, clock=clock)
    archive.add(URL, "20120101000000", body="x")
    async with client_on(archive, clock, cdx_rate=100.0) as client:
        for _ in range(3):
            assert await client.closest_captures(URL, datetime(2012, 1, 1))
        started = clock()
    assert archive.limit_violations == 1 and archive.violations["cdx"] == 1
    assert client.requests["cdx"] == 4  # the refused one plus its retry
    assert 60 in client.clock.sleeps or any(s >= 59 for s in clock.sleeps)
    assert started - 1_000.0 >= 60


async def test_persistent_429_raises_rate_limited() -> None:
    clock = FakeClock()
    archive = SimulatedArchive(clock=clock)
    archive.fail_next("cdx", 429, 429, 429, 429)
    async with client_on(archive, clock) as client:
        client.rate_limit_pause = 5.0  # configurable; the tests run on fake time anyway
        with pytest.raises(RateLimitedError):
            await client.search(URL)
    assert client.requests["cdx"] == 4 and clock() - 1_000.0 >= 15


async def test_5xx_is_retried_then_succeeds() -> None:
    clock = FakeClock()
    archive = SimulatedArchive(clock=clock)
    archive.add(URL, "20120101000000", body="x")
    archive.fail_next("cdx", 503, 502)
    async with client_on(archive, clock) as client:
        records = await client.closest_captures(URL, datetime(2012, 1, 1))
    assert records and client.requests["cdx"] == 3
    assert len([s for s in clock.sleeps if s > 0]) >= 2  # backed off before each retry


async def test_5xx_outlasting_retries_and_4xx_not_retried() -> None:
    clock = FakeClock()
    archive = SimulatedArchive(clock=clock)
    archive.add(URL, "20120101000000", body="x")
    archive.fail_next("replay", 500, 500, 500, 500)
    archive.fail_next("cdx", 400)
    async with client_on(archive, clock) as client:
        with pytest.raises(ArchiveUnavailableError):
            await client.get_memento(URL, "20120101000000")
        assert client.requests["replay"] == 4
        with pytest.raises(ArchiveError) as caught:
            await client.search(URL)
        assert not isinstance(caught.value, ArchiveUnavailableError)
        assert client.requests["cdx"] == 1


async def test_connection_errors_are_retried() -> None:
    clock = FakeClock()
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = Settings().replace(**settings_for(f"http://127.0.0.1:{port}"))
    async with aiohttp.ClientSession() as session:
        client = WaybackClient(session, settings, clock=clock, sleep=clock.sleep)
        with pytest.raises(ArchiveUnavailableError):
            await client.search(URL)
    assert client.requests["cdx"] == client.max_attempts


# ------------------------------------------------------------------------------------------------- search


async def test_search_pages_collapses_and_match_types() -> None:
    clock = FakeClock()
    archive = SimulatedArchive(clock=clock)
    for day in range(1, 31):
        archive.add(URL, f"201201{day:02d}000000", body=f"v{day % 3}")
    archive.add("http://example.com/other", "20120101000000", body="o")
    archive.add("http://blog.example.com/", "20120101000000", body="b")
    async with client_on(archive, clock) as client:
        records = await client.search(URL, limit=10, resume=True)
        assert len(records) == 30 and client.requests["cdx"] == 3
        assert len(await client.search(URL, limit=10)) == 10
        assert len(await client.search(URL, collapse="timestamp:6")) == 1
        assert len(await client.search(URL, collapse="digest")) == 30  # adjacent duplicates only
        assert len(await client.search("example.com/", match_type="prefix")) == 31
        assert len(await client.search("example.com/*")) == 31
        assert len(await client.search("example.com", match_type="host")) == 31
        assert len(await client.search("example.com", match_type="domain")) == 32
        assert len(await client.search(URL, from_="20120110", to="201201191")) == 10
        assert len(await client.search(URL, filters=["!digest:" + records[0].digest])) == 20
        reordered = await client.search(URL, fields=["timestamp", "original", "statuscode"], limit=2)
        assert reordered[0].timestamp == "20120101000000" and reordered[0].urlkey == ""
        before = client.requests["cdx"]
        with pytest.raises(ArchiveQueryError):
            await client.search(URL, filters=["statuscode"])
        with pytest.raises(ArchiveQueryError):
            await client.search(URL, collapse="nothing")
        with pytest.raises(ArchiveQueryError):
            await client.search(URL, match_type="everything")
        assert client.requests["cdx"] == before  # rejected before sending


async def test_simulator_text_output_and_blocked_header() -> None:
    clock = FakeClock()
    archive = SimulatedArchive(clock=clock)
    archive.add(URL, "20120101000000", body="x")
    archive.add(URL, "20120102000000", body="x", revisit=True)
    archive.excluded("blocked.example")
    async with serve(archive.app()) as base, aiohttp.ClientSession() as session:
        async with session.get(f"{base}/cdx/search/cdx", params={"url": URL}) as response:
            page = parse_cdx(await response.text())
        assert [r.statuscode for r in page.records] == ["200", "-"]
        assert page.records[1].mimetype == "warc/revisit" and page.records[1].digest == page.records[0].digest
        async with session.get(f"{base}/cdx/search/cdx", params={"url": "blocked.example/x"}) as response:
            assert response.status == 403
            assert "AdministrativeAccessControlException" in response.headers["X-Archive-Wayback-Runtime-Error"]
        async with session.get(f"{base}/cdx/search/cdx", params={"url": "none.example", "output": "json"}) as r:
            assert await r.text() == "[]"
        async with session.get(f"{base}/web/20110101id_/{URL}", allow_redirects=False) as response:
            assert response.status == 302 and "X-Archive-Redirect-Reason" in response.headers
            assert response.headers["Location"].endswith("/web/20120101000000id_/http://example.com/article")


def test_capture_defaults() -> None:
    capture = Capture(URL, "20120101000000", body="hello")
    assert capture.body == b"hello" and len(capture.digest) == 32
    with pytest.raises(ValueError):
        Capture(URL, "2012")


async def test_background_server_runs_in_its_own_thread() -> None:
    archive = SimulatedArchive()
    archive.add(URL, "20120101000000", body="x")
    server = BackgroundServer(archive.app())
    base = server.start()
    try:
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{base}/wayback/available", params={"url": URL}) as response:
                data = await response.json()
        assert data["archived_snapshots"]["closest"]["timestamp"] == "20120101000000"
    finally:
        server.stop()
    assert set(settings_for(base)) <= set(Settings.__dataclass_fields__)
