"""A bulk repair of 500 dead links over 20 hosts against a simulated Wayback Machine enforcing the Internet
Archive's limits (on fake time): no limit broken, a 429 answered by a pause, at most 1.5 archive requests per
repaired link, every link given the capture it should get, and a second run that asks the archive nothing."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass

import aiohttp
import pytest

from linkkeeper import store
from linkkeeper.wayback import WaybackClient
from worlds.bulk_repair import build_bulk_world, seed_store
from linkkeeper.text.urls import normalize_url
from linkkeeper.repair.proposals import propose_repairs
from linkkeeper.settings import Settings
from linkkeeper.sim.archive import settings_for
from linkkeeper.sim.servers import serve
from worlds.clock import FakeClock


@dataclass
class BulkRun:
    world: object
    db: object
    summary: object
    client_requests: int
    sleeps: list
    again: object  # the nightly run: `repair --retry`
    requests_after_first: dict
    requests_after_again: dict
    chosen: dict
    fresh: object  # every link from scratch, on the same cache
    chosen_fresh: dict
    requests_after_fresh: dict


@pytest.fixture(scope="module")
def bulk(tmp_path_factory) -> BulkRun:
    """One bulk repair, then a nightly run and a run from scratch, shared by the tests of this module."""
    path = tmp_path_factory.mktemp("bulk") / "bulk.db"

    async def scenario() -> BulkRun:
        clock = FakeClock()
        world = build_bulk_world(500, 20, clock=clock)
        # Another client on the same IP spent the CDX minute just before we start: the archive answers 429 once.
        world.archive.fail_next("cdx", 429)
        db = store.open_db(path)
        seed_store(db, world)
        async with serve(world.archive.app()) as base, aiohttp.ClientSession() as session:
            settings = Settings(db=str(path)).replace(**settings_for(base))
            assert (settings.cdx_rate, settings.replay_rate) == (0.4, 8.0)  # the Internet Archive's own pace

            def client() -> WaybackClient:
                return WaybackClient(session, settings, clock=clock, sleep=clock.sleep)

            first = client()
            summary = await propose_repairs(db, settings, client=first)
            after_first = dict(world.archive.requests)
            again = await propose_repairs(db, settings, client=client(), retry=True)
            after_again = dict(world.archive.requests)
            chosen = {r["url"]: r["capture_timestamp"] for r in db["repairs"].rows}
            db.execute("DELETE FROM repairs")
            fresh = await propose_repairs(db, settings, client=client())
            return BulkRun(world, db, summary, sum(first.requests.values()), list(clock.sleeps), again,
                           after_first, after_again, chosen, fresh,
                           {r["url"]: r["capture_timestamp"] for r in db["repairs"].rows},
                           dict(world.archive.requests))

    return asyncio.run(scenario())


def test_bulk_repair_stays_within_the_limits(bulk):
    world, summary = bulk.world, bulk.summary
    assert summary.considered == 500
    assert summary.proposed == world.repairable and summary.unavailable == 500 - world.repairable
    requests = sum(bulk.requests_after_first.values())
    assert requests == summary.requests == bulk.client_requests
    assert requests / summary.proposed <= 1.5, (requests, summary.proposed)
    assert world.archive.limit_violations == 0
    # The one 429 paused CDX for everyone (a minute of fake time) instead of being ignored.
    assert summary.pauses == {"cdx": 1} and any(s >= 59 for s in bulk.sleeps)
    # One CDX query answered many links: far fewer CDX requests than links.
    assert summary.bulk_queries >= 20 and summary.archive_requests["cdx"] < 100


def test_bulk_repair_chooses_the_nearest_good_capture(bulk):
    world = bulk.world
    assert bulk.chosen_fresh == bulk.chosen
    repairs = {r["url"]: r for r in bulk.db["repairs"].rows}
    wrong = []
    for link in world.links:
        repair = repairs[link.url]
        if link.expected is None:
            assert repair["state"] == "unavailable" and repair["replacement"] is None, link.fate
            continue
        if repair["capture_timestamp"] != link.expected:
            wrong.append((link.fate, link.url, repair["capture_timestamp"], link.expected))
            continue
        assert repair["replacement"] == f"https://web.archive.org/web/{link.expected}/{link.url}"
        assert repair["state"] == "approved" and repair["confidence"] >= 0.9
    assert not wrong, wrong[:5]
    # The evidence keeps each rejected candidate and why.
    soft = next(r for r in repairs.values() if "soft-404" in {x["kind"] for x in json.loads(r["evidence"])["rejected"]})
    assert soft["state"] == "approved"
    late = next(link for link in world.links if link.fate == "late")
    assert json.loads(repairs[late.url]["evidence"])["target"]["source"] == "url"


def test_a_second_run_asks_the_archive_nothing(bulk):
    world = bulk.world
    # The nightly run: links whose lookup found nothing are looked at again, from the cache.
    assert bulk.again.considered == 500 - world.repairable
    assert bulk.again.requests == 0 and bulk.requests_after_again == bulk.requests_after_first
    # Even every link from scratch: the same choices (checked above), no request.
    assert bulk.fresh.considered == 500 and bulk.fresh.requests == 0 and bulk.fresh.cache_hits >= 500
    assert bulk.requests_after_fresh == bulk.requests_after_first
    assert normalize_url(world.links[0].url) in {r["url"] for r in bulk.db["url_status"].rows}
