"""Hostile input, second round: the archives' answers (issue 14, case 3).

A Memento aggregator, or a TimeGate, is outside data like any page: a memento URI it names that is no http(s)
URL (`javascript:alert(1)`) or that aiohttp cannot send (`http://host:99999/x`) is dropped where the answer is
read, a redirect to one is one memento's recorded failure, and an answer read back from the cache is checked
like a fresh one, so a poisoned entry is dropped and asked again. Every test runs over real HTTP on loopback."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timezone

import pytest
from aiohttp import web

from linkkeeper import store
from linkkeeper.repair.capture import LookupCache, SnapshotFinder, Target, Want
from linkkeeper.repair.proposals import propose_repairs
from linkkeeper.repair.recover import CdxQuery, QueryCache
from linkkeeper.sim.archive import Capture, SimulatedArchive, settings_for
from linkkeeper.sim.servers import serve
from linkkeeper.wayback import ArchiveError, OtherMemento, surt_key
from linkkeeper.wayback.records import parse_timetravel
from test_recover import WINDOW, _fresh_db
from test_recover import served, world  # noqa: F401 (the recovery world's fixtures)
from test_repair import LEAD, page, post, repair_env
from worlds.bulk_repair import store_posts
from worlds.clock import FakeClock
from worlds.timetravel import SimulatedTimeTravel
from test_hostile_feed import Counting
from linkkeeper.net.session import make_session
from linkkeeper.settings import Settings
from linkkeeper.wayback import WaybackClient

URL = "http://www.gone.example/story/1"
WHEN = datetime(2012, 3, 1, 10, tzinfo=timezone.utc)
BAD = ["javascript:alert(1)", "http://host:99999/x", "http://user:pw@example.org/x", "file:///etc/passwd",
       "http://exa\nmple.org/x"]


class HostileAggregator(SimulatedTimeTravel):
    """An aggregator whose answers name hostile mementos before the good one, and whose TimeGate, and one
    memento, redirect to `javascript:` (another to the Wayback endpoint in `wayback`)."""

    wayback = "http://127.0.0.1:9"

    async def _json(self, request: web.Request) -> web.Response:
        response = await super()._json(request)
        data = json.loads(response.body)
        data["mementos"]["closest"]["uri"] = BAD + data["mementos"]["closest"]["uri"]
        data["mementos"]["prev"] = {"datetime": "2012-03-01T09:00:00Z", "uri": f"{request.scheme}://{request.host}/js"}
        return web.json_response(data)

    async def _timegate(self, request: web.Request) -> web.Response:
        self.requests["timegate"] += 1
        return web.Response(status=302, headers={"Location": "javascript:alert(1)",
                                                 "Link": '<http://host:99999/x>; rel="memento"'})

    def app(self) -> web.Application:
        app = super().app()

        async def js(request: web.Request) -> web.Response:
            self.requests["js"] += 1
            return web.Response(status=302, headers={"Location": "javascript:alert(1)"})

        async def to_wayback(request: web.Request) -> web.Response:
            self.requests["js-to-wayback"] += 1
            return web.Response(status=302, headers={"Location": self.wayback + "/admin/secret"})

        app.router.add_get("/js", js)
        app.router.add_get("/js-to-wayback", to_wayback)
        return app


def want() -> Want:
    return Want(URL, Target(WHEN, "post"), " ".join(p.format(n="gone") for p in LEAD))


def test_timetravel_answers_naming_no_fetchable_memento_are_dropped():
    good = "http://archive.example/memento/20120301000000/http://x.example/"
    answer = json.dumps({"mementos": {"closest": {"datetime": "2012-03-01T00:00:00Z", "uri": BAD + [good]},
                                      "prev": {"datetime": "2012-02-01T00:00:00Z", "uri": "javascript:alert(1)"}}})
    assert [m.uri for m in parse_timetravel(answer)] == [good]


async def test_hostile_memento_uris_from_an_aggregator_leave_the_repair_standing(tmp_path):
    # An aggregator naming javascript:alert(1) or http://host:99999/x used to raise aiohttp's own errors out of
    # the finder and `gather`: the run died, and the answer, kept in the cache for good, killed every later run.
    clock = FakeClock()
    archive = SimulatedArchive(clock=clock)
    aggregator = HostileAggregator()
    aggregator.add(URL, "20120225120000", body=page("gone"))
    db = store.open_db(tmp_path / "r.db")
    store_posts(db, [post("gone", URL)], dead=[URL])
    async with serve(aggregator.app()) as other:
        endpoints = [f"{other}/timegate/", f"{other}/api/json/"]
        for _run in range(2):
            async with repair_env(archive, clock, memento_timegates=endpoints) as (settings, client):
                await propose_repairs(db, settings, client=client)
    repairs = {r["post_id"]: r for r in db["repairs"].rows}
    assert repairs["post-gone"]["replacement"] == f"{other}/memento/20120225120000/{URL}"
    kept = [json.loads(r["result"]) for r in db["archive_lookups"].rows if r["key"].startswith("other|")]
    assert kept and all(item["uri"].startswith(other) for answer in kept for item in answer)
    assert aggregator.requests["json"] == 1 and aggregator.requests["timegate"] == 1


async def test_a_memento_redirecting_to_javascript_is_one_recorded_failure():
    clock = FakeClock()
    aggregator = HostileAggregator()
    async with serve(aggregator.app()) as other:
        async with repair_env(SimulatedArchive(clock=clock), clock) as (_settings, client):
            with pytest.raises(ArchiveError, match="not fetched: not an http"):
                await client.fetch_other_memento(OtherMemento(f"{other}/js", WHEN))
            with pytest.raises(ArchiveError, match="not fetched: an unreadable host or port"):
                await client.fetch_other_memento(OtherMemento("http://host:99999/x", WHEN))
    assert aggregator.requests["js"] == 1


async def test_a_poisoned_cache_entry_is_dropped_and_asked_again(tmp_path):
    # What was kept before this check existed (or written by anyone into the database) is read like a fresh answer.
    clock = FakeClock()
    aggregator = SimulatedTimeTravel()
    aggregator.add(URL, "20120225120000", body=page("gone"))
    db = store.open_db(tmp_path / "c.db")
    async with serve(aggregator.app()) as other:
        endpoint = f"{other}/api/json/"
        key = f"other|{endpoint}|20120301100000|{surt_key(URL)}"
        store.save_archive_lookup(db, key, "memento", [{"uri": "javascript:alert(1)", "timestamp": "20120301000000",
                                                        "rel": "closest"}], ttl_seconds=None)
        async with repair_env(SimulatedArchive(clock=clock), clock, memento_timegates=[endpoint]) as (settings, client):
            finding = await SnapshotFinder(client, settings, LookupCache(db)).find(want())
    assert finding.choice is not None and finding.choice.archive_url.startswith(other)
    assert aggregator.requests["json"] == 1
    assert store.archive_lookup(db, key)[1][0]["uri"].startswith(other)


async def test_a_memento_on_the_configured_wayback_endpoint_is_never_fetched():
    # The archive session lets the configured Wayback endpoints through the address guard (a local stand-in, a
    # pywb on the LAN): an aggregator naming any path there, or a memento redirecting there, reached it.
    wayback = Counting()
    aggregator = HostileAggregator()
    async with serve(wayback.app()) as wayback_base, serve(aggregator.app()) as other:
        aggregator.wayback = wayback_base
        settings = Settings().replace(**settings_for(wayback_base), memento_timegates=[f"{other}/api/json/"])
        async with make_session(settings) as session:
            client = WaybackClient(session, settings)
            for uri in (f"{wayback_base}/admin/secret", f"{other}/js-to-wayback"):
                with pytest.raises(ArchiveError, match="configured Wayback endpoint"):
                    await client.fetch_other_memento(OtherMemento(uri, WHEN))
    assert sum(wayback.requests.values()) == 0 and aggregator.requests["js-to-wayback"] == 1


@pytest.mark.parametrize("poison", [[["only", "three", "cells"]], [None], "rows", [[1, 2, 3, 4, 5, 6, 7]]])
async def test_a_poisoned_recovery_query_is_asked_again(poison, tmp_path):
    # recovery_queries keeps every CDX query of the recovery; a row of another shape ended in a TypeError.
    clock = FakeClock()
    archive = SimulatedArchive(clock=clock)
    archive.add(Capture(URL, "20120301000000", body=page("gone")))
    db = store.open_db(tmp_path / "q.db")
    query = CdxQuery("www.gone.example/story/", from_="201202", to="201203")
    store.save_recovery_query(db, query.key, url=query.url, match_type=query.match_type,
                              params=json.loads(query.key), rows=poison)
    async with repair_env(archive, clock) as (_settings, client):
        cache = QueryCache(db, client)
        records = await cache.records(query)
    assert [r.original for r in records] == [URL] and cache.sent == 1 and cache.from_store == 0
    assert store.recovery_query(db, query.key)["rows"][0][2] == URL


def test_the_recoverys_live_check_never_reaches_the_archive_endpoint(world, served, tmp_path, monkeypatch):  # noqa: F811
    # The live check probes a page the archive's index named; through the archive's session it could reach the
    # configured archive endpoints (a local stand-in, a pywb on the LAN) on any path.
    from linkkeeper.check.probe import probe
    from linkkeeper.repair.recover import run as recover_run

    # The archive named by a name (an IP literal is refused by the probe before any session sees it), and no
    # connect_to rule: only the session's own allowance could let the probe through.
    settings, archive_base, _ = served
    archive_base = archive_base.replace("127.0.0.1", "localhost")
    settings = settings.replace(connect_to=(), **settings_for(archive_base))
    db, settings = _fresh_db(world, tmp_path, settings)
    seen: list[str] = []

    async def spying(session, url, settings_, **options):
        # Every live probe of the recovery (a candidate read on the live web, the recovered URL's live check)
        # goes through this session: the archive's own endpoint must be out of its reach.
        seen.append((await probe(session, f"{archive_base}/admin/secret", settings_)).evidence_class)
        return await probe(session, url, settings_, **options)

    monkeypatch.setattr(recover_run, "probe", spying)
    summary = asyncio.run(recover_run.recover_nullified(db, settings, date_from=WINDOW[0], date_to=WINDOW[1], limit=6))
    assert summary.considered == 6 and seen and set(seen) == {"refused"}, seen
