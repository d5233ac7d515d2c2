"""`linkkeeper preserve`: Save Page Now against the simulated archive - SPN2 success, pending then success,
too-many-daily-captures, not-found, the session limit, retries, quotas, the anonymous form - within SPN's
per-minute limits, on fake time."""

from __future__ import annotations

import json
from contextlib import asynccontextmanager
from typing import AsyncIterator

import aiohttp
import pytest
from click.testing import CliRunner

from linkkeeper import store
from linkkeeper.wayback import SPN_RETRYABLE, NotSentError, WaybackClient
from worlds.bulk_repair import store_posts
from linkkeeper.cli import main
from linkkeeper.repair.preserve import SPN_ATTEMPTS, preserve_links
from linkkeeper.settings import Settings
from linkkeeper.sim.archive import Capture, SimulatedArchive, settings_for
from linkkeeper.sim.servers import BackgroundServer, serve
from worlds.clock import FakeClock

KEYS = ("acc3ss", "s3cret")
SITE = "http://www.live.example"


def live_posts(db, names: list[str]) -> list[str]:
    urls = [f"{SITE}/story/{n}" for n in names]
    store_posts(db, [(f"post-{n}", f"2014-01-{i + 1:02d}T10:00:00+00:00", n,
                      f'<p>{n}</p><a href="{u}">Original Article</a><br />\nSource: live<br />\nAuthor: --')
                     for i, (n, u) in enumerate(zip(names, urls))], alive=urls)
    return urls


@asynccontextmanager
async def spn(archive: SimulatedArchive, clock: FakeClock, keys: tuple[str, str] | None = KEYS,
              **changes) -> AsyncIterator[tuple[Settings, WaybackClient]]:
    async with serve(archive.app()) as base, aiohttp.ClientSession() as session:
        creds = {"spn_access_key": keys[0], "spn_secret": keys[1]} if keys else {}
        settings = Settings().replace(**settings_for(base), **creds, **changes)
        yield settings, WaybackClient(session, settings, clock=clock, sleep=clock.sleep)


def by_url(summary) -> dict[str, dict]:
    return {r["url"]: r for r in summary.results}


async def test_spn2_success_pending_daily_notfound_and_session_limit(tmp_path):
    clock = FakeClock()
    archive = SimulatedArchive(clock=clock, spn_keys=KEYS, spn_per_minute=7)
    db = store.open_db(tmp_path / "p.db")
    urls = live_posts(db, ["ok", "slow", "daily", "gone", "busy", "kept"])
    ok, slow, daily, gone, busy, kept = urls
    archive.add(Capture(kept, "20130101000000", body="already here"))
    archive.save_outcome(slow, "pending:3")
    archive.save_outcome(daily, "error:too-many-daily-captures")
    archive.save_outcome(gone, "error:not-found")
    archive.save_outcome(busy, "submit:user-session-limit")
    async with spn(archive, clock) as (settings, client):
        summary = await preserve_links(db, settings, client=client)
    results = by_url(summary)
    assert summary.mode == "spn2" and summary.stopped is None
    assert summary.already_archived == 1 and kept not in results  # a capture exists: SPN not asked
    assert (summary.requested, summary.captured, summary.failed) == (5, 3, 2)
    for url in (ok, slow, busy):
        saved = next(c for c in archive.saved if c.url == url)
        assert results[url]["status"] == "success" and results[url]["capture_timestamp"] == saved.timestamp
        assert results[url]["archive_url"] == f"https://web.archive.org/web/{saved.timestamp}/{url}"
    assert results[busy]["attempts"] == 2  # user-session-limit is retried, after a wait
    assert results[ok]["attempts"] == results[slow]["attempts"] == 1
    # Pending three times, then success: four polls of that job.
    slow_job = next(j for j in archive.spn_jobs.values() if j["url"] == slow)
    polls = [p for e, _t, p in archive.request_log if e == "spn_status" and slow_job is not None]
    assert sum(1 for p in polls if p.endswith(results[slow]["job_id"])) == 4
    # The URL was captured many times today: not retried, not a reason to stop the run.
    assert (results[daily]["status_ext"], results[daily]["attempts"]) == ("too-many-daily-captures", 1)
    assert (results[gone]["status_ext"], results[gone]["attempts"], summary.target_gone) == ("not-found", 1, 1)
    assert archive.limit_violations == 0
    # Every SPN2 request carried the keys the way the API wants them.
    rows = {r["url"]: r for r in db["preservations"].rows}
    assert rows[ok]["mode"] == "spn2" and rows[ok]["job_id"].startswith("spn2-")
    # A second run leaves what is preserved alone and asks only about what failed.
    async with spn(archive, clock) as (settings, client):
        again = await preserve_links(db, settings, client=client)
    assert {r["url"] for r in again.results} == {daily, gone}


async def test_only_the_documented_errors_are_retried(tmp_path):
    clock = FakeClock()
    archive = SimulatedArchive(clock=clock, spn_keys=KEYS)
    db = store.open_db(tmp_path / "r.db")
    flaky, blocked = live_posts(db, ["flaky", "blocked"])
    archive.save_outcome(flaky, *["error:proxy-error"] * 5)
    archive.save_outcome(blocked, "error:blocked-url")
    async with spn(archive, clock) as (settings, client):
        started = clock()
        summary = await preserve_links(db, settings, client=client, retry_wait=30)
    results = by_url(summary)
    assert "proxy-error" in SPN_RETRYABLE
    assert (results[flaky]["status"], results[flaky]["attempts"]) == ("error", SPN_ATTEMPTS)
    assert results[blocked]["attempts"] == 1 and summary.target_gone == 1
    assert clock() - started >= 30 + 60  # waited before each retry, longer each time


async def test_the_daily_quota_stops_the_run(tmp_path, monkeypatch):
    monkeypatch.setattr("linkkeeper.repair.preserve.WORKERS", 1)  # see test_anonymous_daily_limit_stops_the_run
    clock = FakeClock()
    archive = SimulatedArchive(clock=clock, spn_keys=KEYS)
    archive.SPN_DAILY_LIMIT = 2
    db = store.open_db(tmp_path / "q.db")
    live_posts(db, [f"n{i}" for i in range(5)])
    async with spn(archive, clock) as (settings, client):
        summary = await preserve_links(db, settings, client=client)
    # /save/status/user says 2 a day: the run plans two captures, no more.
    assert summary.captured == 2 and summary.requested == 2 and summary.stopped is None
    async with spn(archive, clock) as (settings, client):
        again = await preserve_links(db, settings, client=client)
        assert again.requested == 0 and again.stopped == "the day's Save Page Now quota is spent"
        # Without the account's figures, SPN's own quota message stops the run at the first refusal.
        async def no_figures() -> dict:
            return {}

        client.spn2_user_status = no_figures  # type: ignore[method-assign]
        blind = await preserve_links(db, settings, client=client)
    assert blind.requested == 1 and blind.captured == 0 and "daily captures limit" in blind.stopped
    assert len(archive.saved) == 2


async def test_limit_and_the_per_minute_pace(tmp_path):
    clock = FakeClock()
    archive = SimulatedArchive(clock=clock, spn_keys=KEYS, spn_per_minute=7)
    db = store.open_db(tmp_path / "m.db")
    live_posts(db, [f"m{i}" for i in range(14)])
    async with spn(archive, clock) as (settings, client):
        limited = await preserve_links(db, settings, client=client, limit=3)
        assert limited.requested == 3 and limited.captured == 3
        rest = await preserve_links(db, settings, client=client)
    assert rest.captured == 11 and archive.limit_violations == 0
    sent = [t for e, t, _p in archive.request_log if e == "spn"]
    assert max(sum(1 for t in sent if s <= t < s + 60) for s in sent) <= 7


async def test_wrong_keys_stop_the_run(tmp_path):
    clock = FakeClock()
    archive = SimulatedArchive(clock=clock, spn_keys=KEYS)
    db = store.open_db(tmp_path / "k.db")
    live_posts(db, ["x"])
    async with spn(archive, clock, keys=("acc3ss", "wrong")) as (settings, client):
        summary = await preserve_links(db, settings, client=client)
    assert summary.requested == 0 and "refused" in summary.stopped and not archive.saved


@pytest.mark.parametrize("location", ["content-location", "link", "none"])
async def test_anonymous_form(tmp_path, location):
    clock = FakeClock()
    archive = SimulatedArchive(clock=clock)
    archive.anonymous_location = location
    db = store.open_db(tmp_path / "anon.db")
    urls = live_posts(db, ["a1", "a2", "a3", "a4", "bad"])
    archive.save_outcome(urls[-1], "error:not-found")
    async with spn(archive, clock, keys=None) as (settings, client):
        # Send times, not arrival stamps: with fake time, another task's sleep can move the clock while a
        # request is in flight, bunching arrivals (see FakeClock).
        sent, acquire = [], client.limiters["spn"].acquire

        async def recording_acquire() -> None:
            await acquire()
            sent.append(clock())

        client.limiters["spn"].acquire = recording_acquire  # type: ignore[method-assign]
        summary = await preserve_links(db, settings, client=client)
    results = by_url(summary)
    assert summary.mode == "anonymous" and summary.captured == 4
    for url in urls[:4]:
        saved = next(c for c in archive.saved if c.url == url)
        assert results[url]["capture_timestamp"] == saved.timestamp
    assert results[urls[-1]]["status_ext"] == "not-found" and results[urls[-1]]["attempts"] == 1
    assert archive.requests["spn"] == 0 and archive.requests["spn_anonymous"] == 5 == len(sent)
    assert max(sum(1 for t in sent if s <= t < s + 60) for s in sent) <= 3  # 3 a minute, anonymous
    if location == "none":
        assert archive.requests["replay"] == 5 + 4  # one TimeGate hop finds each new capture


async def test_anonymous_daily_limit_stops_the_run(tmp_path, monkeypatch):
    # One worker: with fake time a queued worker's wait can end before the quota answer arrives (in real time
    # it waits 25 s); the withdrawal of such a queued request is tested below on its own.
    monkeypatch.setattr("linkkeeper.repair.preserve.WORKERS", 1)
    clock = FakeClock()
    archive = SimulatedArchive(clock=clock)
    archive.SPN_ANONYMOUS_DAILY_LIMIT = 1
    db = store.open_db(tmp_path / "anon2.db")
    live_posts(db, ["b1", "b2", "b3"])
    async with spn(archive, clock, keys=None) as (settings, client):
        summary = await preserve_links(db, settings, client=client)
    assert summary.captured == 1 and "daily" in summary.stopped
    assert archive.requests["spn_anonymous"] == 2  # the one refused with the quota message ends the run
    assert client.pauses["spn"] == 0  # that 429 is an answer, not a reason to pause and ask again
    assert [r["status_ext"] for r in db["preservations"].rows] == [None, "daily-quota"]


async def test_a_queued_request_is_withdrawn_when_the_run_stops():
    clock = FakeClock()
    archive = SimulatedArchive(clock=clock)
    async with spn(archive, clock, keys=None) as (settings, client):
        with pytest.raises(NotSentError):
            await client.save_page(f"{SITE}/story/late", proceed=lambda: False)
    assert archive.requests["spn_anonymous"] == 0 and client.requests["spn"] == 0


def test_preserve_command(tmp_path, monkeypatch):
    archive = SimulatedArchive()
    with BackgroundServer(archive.app()) as base:
        config = tmp_path / "linkkeeper.toml"
        config.write_text("".join(f'{k} = "{v}"\n' for k, v in settings_for(base).items()))
        db_path = tmp_path / "cli.db"
        live_posts(store.open_db(db_path), ["c1", "c2"])
        monkeypatch.delenv("LINKKEEPER_SPN_ACCESS_KEY", raising=False)
        result = CliRunner().invoke(main, ["--db", str(db_path), "--config", str(config), "preserve", "--limit", "1"],
                                    catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "1 captured" in result.output and "anonymous" in result.output
    assert len(archive.saved) == 1
    rows = list(store.open_db(db_path)["preservations"].rows)
    assert [r["status"] for r in rows] == ["success"] and json.dumps(rows)
