"""The repair stage around the snapshot choice: links to Wayback captures that no longer play, other archives
when the Wayback Machine has nothing, and the evidence stored with each proposal."""

from __future__ import annotations

import json
from contextlib import asynccontextmanager
from datetime import datetime, timezone
from typing import AsyncIterator

import aiohttp

from linkkeeper import store
from linkkeeper.wayback import WaybackClient
from worlds.bulk_repair import store_posts
from linkkeeper.repair.proposals import propose_repairs
from linkkeeper.settings import Settings
from linkkeeper.repair.capture import LookupCache, SnapshotFinder, Target, Want
from linkkeeper.sim.archive import Capture, SimulatedArchive, settings_for
from linkkeeper.sim.servers import serve
from linkkeeper.sim.web import article_html
from worlds.clock import FakeClock
from worlds.timetravel import SimulatedTimeTravel

LEAD = ["{n} story. Officials warned on Sunday that the {n} plan would reshape how the government answers to "
        "voters, a claim that drew sharp replies within hours.",
        "Critics said the {n} documents had been kept from parliament for months, and that this story shows a "
        "pattern of decisions made far from public view."]


def page(n: str) -> str:
    return article_html(f"{n} story", [p.format(n=n) for p in LEAD])


def post(n: str, href: str, published: str = "2012-03-01T10:00:00+00:00") -> tuple[str, str, str, str]:
    lead = "".join(f"<p>{p.format(n=n)}</p>" for p in LEAD)
    return (f"post-{n}", published, f"{n} story",
            f'{lead}<a href="{href}">Original Article</a><br />\nSource: news<br />\nAuthor: --')


SOFT_404 = article_html("Page not found", ["Sorry, the page you are looking for could not be found."])


@asynccontextmanager
async def repair_env(archive: SimulatedArchive, clock: FakeClock, **changes) -> AsyncIterator[tuple]:
    async with serve(archive.app()) as base, aiohttp.ClientSession() as session:
        settings = Settings().replace(**settings_for(base), **changes)
        yield settings, WaybackClient(session, settings, clock=clock, sleep=clock.sleep)


async def test_archive_links_are_replayed_and_repaired_when_they_no_longer_play(tmp_path):
    clock = FakeClock()
    archive = SimulatedArchive(clock=clock)
    site = "http://www.news.example"
    archive.add(Capture(f"{site}/a", "20120301000000", body=page("a")))
    archive.add(Capture(f"{site}/b", "20120305000000", status=404, body="gone"))
    archive.add(Capture(f"{site}/b", "20120306000000", body=page("b")))
    archive.add(Capture(f"{site}/d", "20120310000000", body=SOFT_404))
    archive.add(Capture(f"{site}/d", "20120101000000", body=page("d")))  # 69 days before
    archive.add(Capture(f"{site}/d", "20120401000000", body=page("d")))  # 22 days after: 44 weighted, nearer
    wayback = "https://web.archive.org/web"
    db = store.open_db(tmp_path / "a.db")
    store_posts(db, [post("a", f"{wayback}/20120301000000/{site}/a"), post("b", f"{wayback}/20120305000000/{site}/b"),
                     post("c", f"{wayback}/2012/{site}/c"), post("d", f"{wayback}/20120310000000/{site}/d"),
                     post("e", f"{site}/e")])
    # `check` probes only the live link; the captures are replayed by the repair stage, through the client.
    assert list(store.links_to_check(db)) == [f"{site}/e"]
    async with repair_env(archive, clock) as (settings, client):
        summary = await propose_repairs(db, settings, client=client)
    assert (summary.archive_links_checked, summary.archive_links_dead) == (4, 3)
    assert set(client.requests) == {"replay", "cdx"} and archive.requests["replay"] == client.requests["replay"]
    status = {r["url"]: r for r in db["url_status"].rows}
    assert status[f"{wayback}/20120301000000/{site}/a"]["verdict"] == "alive"
    assert status[f"{wayback}/20120305000000/{site}/b"]["error_class"] == "archive_status"
    assert status[f"{wayback}/2012/{site}/c"]["error_class"] == "archive_no_memento"
    assert status[f"{wayback}/20120310000000/{site}/d"]["verdict"] == "soft-404"
    repairs = {r["post_id"]: r for r in db["repairs"].rows}
    assert "post-a" not in repairs and "post-e" not in repairs
    # Another capture of the same page, never the one that stopped playing.
    assert repairs["post-b"]["replacement"] == f"{wayback}/20120306000000/{site}/b"
    assert repairs["post-b"]["reason"].startswith("archive link no longer plays")
    assert repairs["post-d"]["replacement"] == f"{wayback}/20120401000000/{site}/d"
    evidence = json.loads(repairs["post-d"]["evidence"])
    assert evidence["target"] == {"date": "2012-03-10T00:00:00Z", "source": "archive-link"}
    assert repairs["post-c"]["state"] == "unavailable"


async def test_other_archives_are_asked_when_the_wayback_machine_has_nothing():
    clock = FakeClock()
    archive = SimulatedArchive(clock=clock)
    url = "http://www.gone.example/story/1"
    aggregator = SimulatedTimeTravel(also_wayback=True)
    aggregator.add(url, "20120301120000", body=SOFT_404)  # closest, but a soft 404
    aggregator.add(url, "20120225120000", body=page("gone"))
    want = Want(url, Target(datetime(2012, 3, 1, 10, tzinfo=timezone.utc), "post"),
                " ".join(p.format(n="gone") for p in LEAD))
    async with serve(aggregator.app()) as other:
        for endpoint in (f"{other}/api/json/", f"{other}/timegate/"):
            async with repair_env(archive, clock, memento_timegates=[endpoint]) as (settings, client):
                finder = SnapshotFinder(client, settings, LookupCache(None))
                finding = await finder.find(want)
            chosen = finding.choice
            assert chosen is not None and chosen.verified, (endpoint, finding)
            assert chosen.archive_url.startswith(other) and chosen.archive == "127.0.0.1"
            assert chosen.source == f"memento:{endpoint}"
            if "api/json" in endpoint:
                # The JSON API lists both: the soft 404 was judged and rejected, the Wayback entry never fetched.
                assert chosen.archive_url.endswith(f"/memento/20120225120000/{url}")
                assert [r["kind"] for r in finding.rejected] == ["soft-404"]
            assert "web.archive.org" not in chosen.archive_url
    assert archive.requests["cdx"] >= 1  # the Wayback Machine was asked first (its index lists nothing)
    assert aggregator.requests["json"] == 1 and aggregator.requests["timegate"] == 1


async def test_repair_stores_rejected_candidates_in_the_evidence(tmp_path):
    clock = FakeClock()
    archive = SimulatedArchive(clock=clock)
    url = "http://www.news.example/politics/42"
    archive.add(Capture(url, "20120301110000", body=SOFT_404))
    archive.add(Capture(url, "20120301100500", status=302, redirect_to="/login"))
    archive.add(Capture(url, "20120302100000", body=page("x")))
    db = store.open_db(tmp_path / "e.db")
    store_posts(db, [post("x", url)], dead=[url])
    async with repair_env(archive, clock) as (settings, client):
        summary = await propose_repairs(db, settings, client=client)
    assert summary.approved == 1
    [repair] = list(db["repairs"].rows)
    evidence = json.loads(repair["evidence"])
    assert repair["capture_timestamp"] == "20120302100000" and repair["confidence"] == 1.0
    assert evidence["text_similarity"] == 1.0 and evidence["capture"]["statuscode"] == "200"
    # The captured redirect is never fetched: the CDX list shows its status.
    assert [(r["timestamp"], r["kind"]) for r in evidence["rejected"]] == [("20120301110000", "soft-404")]
    assert evidence["lookup"] == ["cdx"]



async def test_a_capture_listed_with_its_default_port_is_linked_without_it(tmp_path):
    # The archive's older rows keep the port the crawler saw (`http://www.news.example:80/...`); the Wayback
    # Machine plays the capture under the URL without it, the one the blogger wrote.
    clock = FakeClock()
    archive = SimulatedArchive(clock=clock)
    url = "http://www.news.example/politics/43"
    archive.add(Capture("http://www.news.example:80/politics/43", "20120302100000", body=page("x")))
    db = store.open_db(tmp_path / "p.db")
    store_posts(db, [post("x", url)], dead=[url])
    async with repair_env(archive, clock) as (settings, client):
        summary = await propose_repairs(db, settings, client=client)
    [repair] = list(db["repairs"].rows)
    assert summary.approved == 1 and repair["replacement"] == f"https://web.archive.org/web/20120302100000/{url}"

def _check(db, url: str, when: str, evidence_class: str, verdict: str) -> None:
    from linkkeeper.text.urls import normalize_url
    url = normalize_url(url)
    store.record_check(db, [{"url": url, "checked_at": when, "method": "GET", "status": 200, "final_url": url,
                             "redirect_chain": [], "error_class": None, "error": None, "elapsed_ms": 1,
                             "verdict": verdict, "evidence_class": evidence_class, "reason": None, "title": None,
                             "attempts": 1}], {"verdict": verdict})


async def test_a_drifted_link_is_repaired_from_the_last_capture_before_the_drift(tmp_path):
    clock = FakeClock()
    archive = SimulatedArchive(clock=clock)
    url = "http://www.news.example/politics/77"
    archive.add(Capture(url, "20120301120000", body=page("x")))  # the article, a year before the post
    # Nearer the post, but after the page was seen to hold another article: never fetched.
    archive.add(Capture(url, "20130620120000", body=page("other")))
    db = store.open_db(tmp_path / "d.db")
    store_posts(db, [post("x", url, published="2013-06-21T10:00:00+00:00")])
    _check(db, url, "2013-05-01T00:00:00Z", "alive", "alive")
    _check(db, url, "2013-06-10T00:00:00Z", "drifted", "drifted")
    _check(db, url, "2013-06-30T00:00:00Z", "drifted", "drifted")
    [row] = list(store.links_needing_repair(db))
    assert row["verdict"] == "drifted" and row["drifted_since"] == "2013-06-10T00:00:00Z"
    async with repair_env(archive, clock) as (settings, client):
        summary = await propose_repairs(db, settings, client=client)
    [repair] = list(db["repairs"].rows)
    evidence = json.loads(repair["evidence"])
    # Verified against the post's text and approved on the rule of a dead link.
    assert summary.approved == 1 and repair["state"] == "approved" and repair["confidence"] == 1.0
    assert repair["reason"].startswith("drifted") and repair["capture_timestamp"] == "20120301120000"
    assert evidence["rejected"] == [] and archive.requests["replay"] == 1


def test_a_dead_link_repair_from_another_url_is_never_approved():
    from linkkeeper.repair.capture.finder import Choice, Finding
    from linkkeeper.repair.proposals import build_repair
    url = "http://www.news.example/politics/77"
    want = Want(url, Target(datetime(2012, 3, 1, 10, tzinfo=timezone.utc), "post"), "text")
    row = {"link_id": "l", "post_id": "p", "url": url, "verdict": "dead", "status": 404}

    def repair(original: str) -> dict:
        choice = Choice(f"https://web.archive.org/web/20120301120000/{original}", "20120301120000", original,
                        "web.archive.org", "cdx", 1.0, True)
        return build_repair(row, want, Finding(choice), Settings())

    assert repair(url + "?cmp=rss")["state"] == "approved"  # the same page under a feed's argument
    other = repair("http://www.news.example/blogs/author/77-same-story")
    assert other["state"] == "proposed" and "not of the linked URL" in other["evidence"]["note"]
