"""The nightly run (`linkkeeper run`): the blog's feed as a source, the re-check schedule, the lock, exit
codes, and resumption after the process is killed at any point."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from linkkeeper import store
from linkkeeper import nightly as pipeline
from linkkeeper.cli import main
from linkkeeper.demo import SAMPLE_POSTS, build_world, sample_export_path
from linkkeeper.net.session import make_session
from linkkeeper.text.dates import to_iso
from linkkeeper.settings import ConnectTo, Settings
from linkkeeper.sources import feed as feedmod
from linkkeeper.sources.blogger import read_export
from linkkeeper.sim.archive import settings_for
from linkkeeper.sim.servers import BackgroundServer, closed_port, serve
from linkkeeper.sim.web import Page, article_html
from worlds.feed import SimulatedBlogFeed

BLOG = "democracyastray.blogspot.com"
ADDRESS = f"http://{BLOG}/"  # the simulated feed speaks plain HTTP
# Posts 1-14 of the sample blog hold every fate but the flaky 503 (which would make runs depend on timing):
# alive, dead404, moved, alive, refused, gone410, head405, dead404, blocked, badcaptures, dead404, nocapture,
# and two nullified links.
NUMBERS = range(1, 15)


def sample_posts():
    return [p for p in read_export(sample_export_path()) if int(p.id.rsplit("-", 1)[1]) - 1000 in NUMBERS]


@dataclass
class World:
    feed: SimulatedBlogFeed
    web: object
    archive: object
    rules: tuple[ConnectTo, ...]
    archive_base: str

    def settings(self, **changes) -> Settings:
        base = Settings(db=":memory:", connect_timeout=2, read_timeout=2, total_timeout=5, retries=1,
                        retry_wait_max=0.1, cdx_rate=1000, replay_rate=1000, availability_rate=1000,
                        feed_page_size=5, connect_to=self.rules, **settings_for(self.archive_base))
        return base.replace(**changes)

    def env(self, tmp: Path, **extra: str) -> dict[str, str]:
        """The environment of a `linkkeeper run` subprocess pointed at this world."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("LINKKEEPER_")}
        values = {"connect_to": ",".join(str(r) for r in self.rules), "connect_timeout": "2", "read_timeout": "2",
                  "total_timeout": "5", "retries": "1", "retry_wait_max": "0.1", "cdx_rate": "1000",
                  "replay_rate": "1000", "availability_rate": "1000", "feed_page_size": "5",
                  "reports_dir": str(tmp / "reports"), **settings_for(self.archive_base), **extra}
        env.update({f"LINKKEEPER_{k.upper()}": str(v) for k, v in values.items()})
        return env


def make_world(web_port: int, feed_port: int, archive_base: str, dead_port: int, refused_hosts, web, archive,
               feed) -> World:
    rules = ((ConnectTo(BLOG, "*", "127.0.0.1", feed_port),)
             + tuple(ConnectTo(h, "*", "127.0.0.1", dead_port) for h in sorted(refused_hosts))
             + (ConnectTo("*", "*", "127.0.0.1", web_port),))
    return World(feed, web, archive, rules, archive_base)


def _port(base: str) -> int:
    return int(base.rsplit(":", 1)[1].strip("/"))


@pytest.fixture
async def world():
    web, archive, refused = build_world([p for p in SAMPLE_POSTS if p.number in NUMBERS])
    feed = SimulatedBlogFeed(sample_posts())
    async with serve(web.app()) as web_base, serve(archive.app()) as archive_base, serve(feed.app()) as feed_base:
        yield make_world(_port(web_base), _port(feed_base), archive_base, closed_port(), refused, web, archive, feed)


@pytest.fixture(scope="module")
def background_world():
    """The same world served from threads, for the command line (in-process and as a subprocess)."""
    web, archive, refused = build_world([p for p in SAMPLE_POSTS if p.number in NUMBERS])
    feed = SimulatedBlogFeed(sample_posts())
    servers = [BackgroundServer(web.app()), BackgroundServer(archive.app()), BackgroundServer(feed.app())]
    web_base, archive_base, feed_base = (s.start() for s in servers)
    try:
        yield make_world(_port(web_base), _port(feed_base), archive_base, closed_port(), refused, web, archive, feed)
    finally:
        for s in servers:
            s.stop()


def later(hours: float = 0, days: float = 0):
    when = datetime.now(timezone.utc) + timedelta(hours=hours, days=days)
    return lambda: when


async def execute(db, world: World, now=None, **options):
    settings = world.settings(**options.pop("settings", {}))
    opts = pipeline.RunOptions(source=options.pop("source", ADDRESS), report=options.pop("report", False), **options)
    return await pipeline.execute(db, settings, opts, now=now or (lambda: datetime.now(timezone.utc)))


# --- the feed reader -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["atom", "json"])
async def test_feed_pages_yield_the_posts_the_export_holds(world, fmt):
    exported = {p.id: p for p in sample_posts()}
    got = []
    async with make_session(world.settings()) as session:
        async for page in feedmod.read_pages(session, ADDRESS, fmt=fmt, page_size=4):
            assert page.total_results == 14 and page.blog_id == "6412345678901234567"
            got += page.posts
    assert sorted(p.id for p in got) == sorted(exported)
    for post in got:
        assert replace(post, line=exported[post.id].line) == exported[post.id]
    # Pages of 4 from 1: the fourth is short and has no rel="next", so no fifth request is made.
    assert [r["start-index"] for r in world.feed.requests] == ["1", "5", "9", "13"]
    assert all(r["orderby"] == "published" and "updated-min" not in r for r in world.feed.requests)
    assert all((r.get("alt") == "json") == (fmt == "json") for r in world.feed.requests)


async def test_feed_reader_refuses_summaries_and_non_feeds():
    summary = (b"<?xml version='1.0'?><feed xmlns='http://www.w3.org/2005/Atom'><id>tag:blogger.com,1999:blog-1</id>"
               b"<entry><id>tag:blogger.com,1999:blog-1.post-2</id><summary>short</summary></entry></feed>")
    with pytest.raises(feedmod.FeedError, match="summaries only"):
        feedmod.parse_atom(summary, "u")
    with pytest.raises(feedmod.FeedError, match="summaries only"):
        feedmod.parse_json(json.dumps({"feed": {"entry": [{"id": {"$t": "x"}, "summary": {"$t": "s"}}]}}).encode(), "u")
    with pytest.raises(feedmod.FeedError, match="DTD"):
        feedmod.parse_atom(b"<?xml version='1.0'?><!DOCTYPE feed [<!ENTITY a 'b'>]><feed/>", "u")
    with pytest.raises(feedmod.FeedError, match="not a Blogger Atom feed"):
        feedmod.parse_atom(b"<html><body>hello</body></html>", "u")
    with pytest.raises(feedmod.FeedError):
        feedmod.feed_base("ftp://example.org/")


async def test_feed_reader_retries_a_transient_failure(world):
    world.feed.fail_next(503)
    sleeps = []

    async def sleep(seconds):
        sleeps.append(seconds)

    async with make_session(world.settings()) as session:
        pages = [p async for p in feedmod.read_pages(session, ADDRESS, page_size=25, sleep=sleep)]
    assert sum(len(p.posts) for p in pages) == 14 and len(sleeps) == 1
    world.feed.fail_next(404)
    async with make_session(world.settings()) as session:
        with pytest.raises(feedmod.FeedError) as caught:
            [p async for p in feedmod.read_pages(session, ADDRESS, sleep=sleep)]
    assert not caught.value.transient and "HTTP 404" in str(caught.value)


# --- feed runs: incremental reads, edits, deletions ------------------------------------------------------------

def post_id(number: int) -> str:
    return f"tag:blogger.com,1999:blog-6412345678901234567.post-{1000 + number}"


@pytest.mark.parametrize("fmt", ["atom", "json"])
async def test_feed_runs_follow_edits_additions_and_deletions(world, tmp_path, fmt):
    db = store.open_db(tmp_path / "feed.db")
    first = await execute(db, world, feed_format=fmt, repair=False)
    assert first.exit_code == 0, first.message
    assert first.counts["ingest"] == {"source": f"http://{BLOG}/feeds/posts/default", "full": True, "since": None,
                                      "pages": 3, "posts": 14, "changed": 14, "deleted": 0}
    source = next(db["sources"].rows)
    assert source["format"] == "blogger-feed" and source["sha256"] is None and source["posts"] == 14
    assert first.counts["check"]["checked"] == 12

    # Between runs the author edits post 1 (its Original Article link now points elsewhere), deletes post 4
    # and publishes a new post.
    new_link = "http://www.guardian.co.uk/environment/2011/sep/24/harper-climate-research-funding-updated"
    # Edits are stamped by Blogger's clock; a minute from now is after the first read began.
    stamp = (datetime.now(timezone.utc) + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%S.000+00:00")
    world.web.add(new_link, Page(body=article_html("Updated", ["The article at its new address."])))
    edited = world.feed.posts[post_id(1)]
    world.feed.edit(post_id(1), updated=stamp,
                    html=edited.html.replace(edited.html.split('"')[1], new_link))
    world.feed.delete(post_id(4))
    newcomer = replace(world.feed.posts[post_id(2)], id=post_id(40), published="2024-05-02T09:00:00.000-04:00",
                       updated=stamp, url=f"http://{BLOG}/2024/05/new.html",
                       html='<p>New.</p><a href="http://www.bbc.co.uk/news/new-story">Original Article</a><br />\n'
                            "Source: bbc<br />\nAuthor: --")
    world.feed.add(newcomer)
    world.web.add("http://www.bbc.co.uk/news/new-story", Page(body=article_html("New", ["A new story."])))
    world.feed.requests.clear()

    second = await execute(db, world, now=later(hours=20), feed_format=fmt, repair=False)
    assert second.exit_code == 0, second.message
    ingest = second.counts["ingest"]
    assert ingest["full"] is False and ingest["posts"] == 2 and ingest["changed"] == 2 and ingest["deleted"] == 0
    # Blogger ignores updated-min without orderby=updated: the incremental read must ask for both.
    assert world.feed.requests and all(r["orderby"] == "updated" and r["updated-min"] for r in world.feed.requests)
    original = db.execute("SELECT url FROM links WHERE post_id = ? AND role = 'original'", [post_id(1)]).fetchone()[0]
    assert original == new_link
    # Only the new links are due: the edited post's new target and the new post's.
    assert second.counts["check"]["due"] == 2 and second.counts["check"]["checked"] == 2
    # An incremental read cannot see a deletion: post 4 is still there.
    assert db.execute("SELECT deleted_at FROM posts WHERE id = ?", [post_id(4)]).fetchone()[0] is None

    third = await execute(db, world, now=later(hours=21), feed_format=fmt, repair=False, full=True)
    assert third.counts["ingest"]["full"] is True and third.counts["ingest"]["deleted"] == 1
    assert db.execute("SELECT deleted_at FROM posts WHERE id = ?", [post_id(4)]).fetchone()[0] is not None
    assert [p["id"] for p in third.changes["deleted_posts"]] == [post_id(4)]
    gone_url = SAMPLE_POSTS[3].url
    assert gone_url not in set(store.links_to_check(db))
    assert store.counts(db)["posts"] == 14 and next(db["sources"].rows)["posts"] == 14
    assert all(r["post_id"] != post_id(4) for r in store.report_rows(db))

    # The post comes back (it had been unpublished, say): the next full read restores it.
    world.feed.add(sample_posts()[3])
    fourth = await execute(db, world, now=later(days=9), feed_format=fmt, repair=False)
    assert fourth.counts["ingest"]["full"] is True  # the last full read is more than full_every_days old
    assert db.execute("SELECT deleted_at FROM posts WHERE id = ?", [post_id(4)]).fetchone()[0] is None
    assert store.counts(db)["posts"] == 15


async def test_a_full_read_marks_deleted_posts_first_ingested_from_an_export(world, tmp_path):
    db = store.open_db(tmp_path / "both.db")
    done = await execute(db, world, source=str(sample_export_path()), repair=False)
    assert done.exit_code == 0 and store.counts(db)["posts"] == 30
    # The feed lists posts 1-14 only: the other 16 were deleted from the blog since the export was made.
    fed = await execute(db, world, repair=False)
    assert fed.counts["ingest"]["deleted"] == 16 and store.counts(db)["posts"] == 14


async def test_an_empty_feed_deletes_nothing(world, tmp_path):
    db = store.open_db(tmp_path / "empty.db")
    await execute(db, world, repair=False)
    world.feed.posts.clear()
    again = await execute(db, world, repair=False, full=True)
    assert again.counts["ingest"]["deleted"] == 0 and store.counts(db)["posts"] == 14


# --- the re-check schedule ----------------------------------------------------------------------------------------

def test_due_urls_new_first_then_oldest_due_capped():
    db = store.open_db(":memory:")
    now = datetime(2026, 11, 27, 2, 0, tzinfo=timezone.utc)
    at = lambda **delta: (now - timedelta(**delta)).strftime("%Y-%m-%dT%H:%M:%SZ")  # noqa: E731
    db["sources"].insert({"id": 1, "path": "x"})
    urls = {"a": ("alive", at(days=10)), "b": ("alive", at(days=8)), "c": ("suspect", at(days=2)),
            "d": None, "e": ("alive", at(days=1)), "f": ("dead", at(days=7, hours=1)), "g": ("unknown", at(hours=30))}
    for i, (name, state) in enumerate(sorted(urls.items())):
        url = f"http://example.org/{name}"
        db["posts"].insert({"id": f"p{i}", "source_id": 1, "published": "2012-01-01"})
        db["links"].insert({"id": f"l{i}", "post_id": f"p{i}", "anchor_index": 0, "role": "original", "url": url,
                            "url_normalized": url})
        if state:
            db["url_status"].insert({"url": url, "verdict": state[0], "last_checked": state[1]})
    due = lambda **kw: [u.rsplit("/", 1)[1] for u in store.due_urls(  # noqa: E731
        db, now=now.strftime("%Y-%m-%dT%H:%M:%SZ"), alive_after_seconds=7 * 86400, soon_after_seconds=36 * 3600, **kw)]
    # d was never checked; then a (due 3 days ago), b (1 day), f (1 hour: a dead link is re-checked weekly too),
    # c (due 12 hours ago); g (36 hours after 30) and e (in 6 days) are not due.
    assert due() == ["d", "a", "b", "c", "f"]
    assert due(limit=2) == ["d", "a"]
    db.execute("UPDATE posts SET deleted_at = '2026-11-01T00:00:00Z' WHERE id = 'p3'")  # d's post
    assert due(limit=2) == ["a", "b"]


async def test_a_run_checks_new_links_at_once_suspects_on_schedule_alive_weekly(world, tmp_path):
    db = store.open_db(tmp_path / "sched.db")
    first = await execute(db, world, repair=False)
    verdicts = first.counts["check"]["verdicts"]
    assert first.counts["check"] == {"due": 12, "checked": 12, "capped": False, "verdicts": verdicts}
    suspects = sum(n for v, n in verdicts.items() if v in ("suspect", "unknown"))
    settled = 12 - suspects
    assert suspects == 7  # 404s, 410, refused: failing once is not dead yet

    def due_at(hours: float) -> dict:
        return store_due(db, world, later(hours=hours))

    # Nothing is due an hour later; the suspects are due 36 hours after their check (72 h / (3 - 1)), the
    # settled links after 7 days.
    assert due_at(1) == 0
    assert due_at(30) == 0
    assert due_at(35) == suspects
    assert due_at(24 * 7 - 1) == 12
    second = await execute(db, world, now=later(hours=35), repair=False, max_checks=3)
    assert second.counts["check"] == {"due": suspects, "checked": 3, "capped": True, "verdicts": {"suspect": 3}}
    twice = db.execute("SELECT count(*) FROM (SELECT url FROM checks WHERE verdict = 'suspect' "
                       "GROUP BY url HAVING count(*) = 2)").fetchone()[0]
    assert twice == 3 and settled == 5


def store_due(db, world, now) -> int:
    settings = world.settings()
    soon = settings.dead_after_hours / (settings.dead_after_checks - 1)
    return len(store.due_urls(db, now=to_iso(now() + pipeline.DUE_SLACK),
                              alive_after_seconds=settings.recheck_alive_days * 86400,
                              soon_after_seconds=soon * 3600))


# --- the lock -------------------------------------------------------------------------------------------------------

def holder(db, **fields) -> int:
    row = {"started_at": store.utcnow(), "source": "elsewhere", "pid": os.getpid(), "hostname": socket.gethostname(),
           "process_started": pipeline.process_started(), **fields}
    return store.begin_run(db, row, lambda h: False)


@pytest.fixture
def cli(tmp_path, monkeypatch, background_world):
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()

    def invoke(*args, env=None):
        merged = {k: None for k in os.environ if k.startswith("LINKKEEPER_")}
        merged.update(background_world.env(tmp_path, **(env or {})))
        return runner.invoke(main, ["--db", str(tmp_path / "cli.db"), *args], env=merged, catch_exceptions=False)

    invoke.db = lambda: store.open_db(tmp_path / "cli.db")
    return invoke


def test_a_second_run_refuses_while_the_first_holds_the_lock(cli):
    db = cli.db()
    first = holder(db)  # this very process: alive
    result = cli("run", ADDRESS)
    assert result.exit_code == 3
    assert f"another run is in progress: run {first} is running (pid {os.getpid()}" in result.output
    assert db.execute("SELECT count(*) FROM posts").fetchone()[0] == 0
    assert [r["status"] for r in db["runs"].rows] == ["running"]
    # The lock is also a constraint: two rows cannot both be running, whoever writes them.
    with pytest.raises(sqlite3.IntegrityError):
        db["runs"].insert({"status": "running", "pid": 1})


def test_a_stale_lock_is_taken_over(cli):
    db = cli.db()
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = holder(db, pid=int(gone.stdout))
    result = cli("run", ADDRESS, "--no-repair")
    assert result.exit_code == 0, result.output
    rows = {r["id"]: r for r in db["runs"].rows}
    assert rows[dead]["status"] == "abandoned" and "was gone" in rows[dead]["message"]
    assert [r["status"] for r in rows.values() if r["id"] != dead] == ["ok"]


def test_a_reused_pid_is_a_stale_lock_and_another_hosts_lock_needs_break_lock(cli):
    db = cli.db()
    reused = holder(db, process_started="1")  # our pid, but not the process that took the lock
    assert cli("run", ADDRESS, "--no-repair").exit_code == 0
    assert store.run_row(db, reused)["status"] == "abandoned"
    other = holder(db, hostname="another-host.example")
    refused = cli("run", ADDRESS, "--no-repair")
    assert refused.exit_code == 3 and "another-host.example" in refused.output and "--break-lock" in refused.output
    assert cli("run", ADDRESS, "--no-repair", "--break-lock").exit_code == 0
    assert store.run_row(db, other)["status"] == "abandoned"


# --- exit codes -----------------------------------------------------------------------------------------------------

def test_exit_0_when_healthy_1_on_new_breakage_then_0_when_nothing_new(cli):
    healthy = cli("run", ADDRESS, "--no-repair", "--json")
    assert healthy.exit_code == 0, healthy.output
    assert json.loads(healthy.stdout)["status"] == "ok"  # failures are only suspect after one check

    quiet = cli("run", ADDRESS, "--json")
    # Nothing is due a second time the same night: the suspects wait 36 hours for their next check.
    assert quiet.exit_code == 0 and json.loads(quiet.stdout)["counts"]["check"]["checked"] == 0

    # Confirmed on the first failure, with no waiting between checks: the suspects are due and now dead.
    confirm_at_once = {"dead_after_checks": "1", "dead_after_hours": "0"}
    broken = cli("run", ADDRESS, "--json", env=confirm_at_once)
    assert broken.exit_code == 1, broken.output
    out = json.loads(broken.stdout)
    assert out["counts"]["check"]["checked"] == 7
    assert out["status"] == "breakage" and len(out["changes"]["newly_broken"]) == 7
    assert {r["verdict"] for r in out["changes"]["newly_broken"]} == {"dead"}
    assert out["counts"]["repair"]["considered"] == 7
    assert (Path("reports") / "report.html").exists()
    db = cli.db()
    runs = list(db["runs"].rows)
    assert [(r["status"], r["exit_code"]) for r in runs] == [("ok", 0), ("ok", 0), ("breakage", 1)]
    assert all(r["finished_at"] and r["pid"] == os.getpid() for r in runs)
    assert json.loads(runs[-1]["counts"])["new"]["broken"] == 7

    again = cli("run", ADDRESS, "--json", env=confirm_at_once)
    assert again.exit_code == 0 and json.loads(again.stdout)["changes"]["newly_broken"] == []


async def test_new_since_the_last_run_names_broken_recovered_and_repairs(world, tmp_path):
    db = store.open_db(tmp_path / "changes.db")
    at_once = {"dead_after_checks": 1, "dead_after_hours": 0}
    first = await execute(db, world, settings=at_once)
    assert first.exit_code == 1 and len(first.changes["newly_broken"]) == 7 and len(first.changes["repairs"]) == 7
    back = SAMPLE_POSTS[1].url  # a 404 comes back
    world.web.add(back, Page(body=article_html("Back", ["The page is back where it was."])))
    second = await execute(db, world, now=later(days=8), settings=at_once)
    assert second.exit_code == 0, second.message
    assert second.changes["newly_broken"] == [] and second.changes["repairs"] == []
    assert [r["url"] for r in second.changes["recovered"]] == [back]
    assert store.changes_since(db, first.run_id) == second.changes
    assert second.counts["new"] == {"broken": 0, "recovered": 1, "repairs": 0, "deleted_posts": 0}


async def test_preserve_is_a_stage_of_the_run_when_asked(world, tmp_path, monkeypatch):
    from linkkeeper.repair import preserve

    seen = []

    async def fake_preserve_links(db, settings, *, on_result=None, **_):
        # Called after the check stage: it sees the live links the run just checked.
        live = list(store.links_to_preserve(db))
        for row in live[:2]:
            seen.append(row["url"])
            on_result(row)
        return preserve.PreserveSummary(mode="anonymous", considered=len(live), requested=2, captured=2)

    monkeypatch.setattr(preserve, "preserve_links", fake_preserve_links)
    db = store.open_db(tmp_path / "preserve.db")
    done = await execute(db, world, repair=False, preserve=True)
    assert done.exit_code == 0, done.message
    # Four live links (two alive, one answering HEAD with 405, one moved); the blocked one is not known alive.
    assert done.counts["preserve"] == {"results": 2, "considered": 4, "requested": 2, "captured": 2, "failed": 0,
                                       "stopped": None}
    assert len(seen) == 2 and done.counts["units"] == 3 + 12 + 2
    skipped = await execute(db, world, repair=False)
    assert "preserve" not in skipped.counts


def test_report_since_last_run(cli, tmp_path):
    assert cli("report", "--since", "last-run", "--out", "r").exit_code == 2
    assert cli("run", ADDRESS, "--no-repair", "--no-report").exit_code == 0
    result = cli("report", "--since", "last-run", "--out", "r")
    assert result.exit_code == 0, result.output
    started = next(cli.db()["runs"].rows)["started_at"]
    assert json.loads((tmp_path / "r" / "report.json").read_text())["since"] == started


def test_exit_2_on_bad_usage_settings_or_input(cli, tmp_path):
    assert cli("run", str(tmp_path / "missing.xml")).exit_code == 2
    assert cli("run", ADDRESS, env={"concurrency": "many"}).exit_code == 2
    bad = tmp_path / "bad.xml"
    bad.write_text("<?xml version='1.0'?>\n<feed xmlns='http://www.w3.org/2005/Atom'>\n<entry><id>x</entry>\n</feed>\n")
    result = cli("run", str(bad))
    assert result.exit_code == 2 and f"{bad}:3:" in result.output
    # A host without a Blogger feed (the simulated web answers 404 there).
    result = cli("run", "http://www.cbc.ca/")
    assert result.exit_code == 2 and "HTTP 404" in result.output
    assert [r["status"] for r in cli.db()["runs"].rows] == ["failed", "failed"]


def test_exit_3_when_the_feed_cannot_be_reached(cli, background_world):
    nowhere = f"{BLOG}:*:127.0.0.1:{closed_port()}"
    result = cli("run", ADDRESS, env={"connect_to": nowhere})
    assert result.exit_code == 3 and "ClientConnectorError" in result.output
    run = next(cli.db()["runs"].rows)
    assert run["status"] == "failed" and run["exit_code"] == 3 and run["finished_at"]


def test_log_lines_without_a_terminal_and_a_progress_bar_on_one(cli, background_world, tmp_path):
    import io

    class Tty(io.StringIO):
        def isatty(self):
            return True

    plain, tty = io.StringIO(), Tty()
    for stream, name in ((plain, "a"), (tty, "b")):
        result = pipeline.run(store.open_db(tmp_path / f"{name}.db"), background_world.settings(),
                              pipeline.RunOptions(ADDRESS, repair=False, report=False),
                              console=pipeline.Console(stream))
        assert result.exit_code == 0
    lines = plain.getvalue().splitlines()
    assert lines and all(line[:20].endswith("Z") and " linkkeeper run: " in line for line in lines)
    assert "\r" not in plain.getvalue()
    assert "\rcheck    [" in tty.getvalue() and "12/12" in tty.getvalue()


# --- killed and resumed: the same database as an uninterrupted run -----------------------------------------------
#
# The comparison. Two runs of the same world must end with the same *content*; what legitimately differs is
# when things happened and in which order concurrent work was committed:
# - timestamps (every column ending in _at, plus checked_at, last_checked) and durations (elapsed_ms) are
#   replaced by a marker saying whether they are set, so "never failed" (NULL first_failure_at) still differs
#   from "failing since ...";
# - integer surrogate keys (checks.id, repairs.id, ...) and columns that point at them (url_status.check_id)
#   are replaced the same way: checks finish in a different order in each run, so the ids are assigned in a
#   different order, but every row must still exist exactly once;
# - rows are compared as sorted lists (multisets): a duplicated or lost check shows as a different list;
# - the runs table differs by design (the killed run's row, 'abandoned'), and is asserted on its own.
# Everything else - sources, posts, links, checks, url_status, repairs, the archive answers kept in
# archive_lookups, the report snapshot - is compared. (Should archive_lookups ever be keyed by how a run
# batched its questions, a resumed run could keep other answers than an uninterrupted one: that would be a
# reason to leave that cache out of the comparison, not a lost record.)

TIME_COLUMNS = {"checked_at", "last_checked", "elapsed_ms"}
EXCLUDED_TABLES = {"runs"}


def dump(path: Path) -> dict[str, list]:
    conn = sqlite3.connect(path)
    try:
        out = {}
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                             "AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        for table in tables:
            if table in EXCLUDED_TABLES:
                continue
            info = conn.execute(f"PRAGMA table_info([{table}])").fetchall()
            surrogate = {c[1] for c in info if c[5] and c[2].upper() == "INTEGER"}
            surrogate |= {c[1] for c in info if c[1] in ("check_id", "repair_id", "snapshot_id", "batch")}
            names = [c[1] for c in info]
            rows = []
            for row in conn.execute(f"SELECT * FROM [{table}]"):
                item = []
                for name, value in zip(names, row):
                    if name in surrogate:
                        value = None if value is None else "<id>"
                    elif name.endswith("_at") or name in TIME_COLUMNS:
                        value = None if value is None else "<time>"
                    item.append((name, value))
                rows.append(tuple(item))
            out[table] = sorted(rows, key=repr)
        return out
    finally:
        conn.close()


def integrity(path: Path) -> None:
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        conn.close()


def run_process(world: World, tmp: Path, db: Path, *extra: str, fault: str = "") -> subprocess.CompletedProcess:
    env = world.env(tmp, dead_after_checks="1", dead_after_hours="0")
    if fault:
        env["LINKKEEPER_FAULT"] = fault  # faults.py: the one fault-injection hook
    return subprocess.run([sys.executable, "-m", "linkkeeper", "--db", str(db), "run", ADDRESS, "--json", *extra],
                          cwd=tmp, env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def reference(background_world, tmp_path_factory):
    """An uninterrupted run of the world: its summary and its database, dumped."""
    tmp = tmp_path_factory.mktemp("reference")
    done = run_process(background_world, tmp, tmp / "reference.db")
    assert done.returncode == 1, done.stderr
    summary = json.loads(done.stdout)
    # 3 feed pages, 12 checks, 7 repairs: units of work in every stage to kill the run in.
    assert (summary["counts"]["ingest"]["pages"], summary["counts"]["check"]["checked"],
            summary["counts"]["repair"]["considered"], summary["counts"]["units"]) == (3, 12, 7, 22)
    expected = dump(tmp / "reference.db")
    assert len(expected["checks"]) >= 12 and len(expected["repairs"]) == 7 and len(expected["posts"]) == 14
    return summary, expected


def kill_and_resume(world: World, tmp: Path, n: int, sig: str) -> tuple[subprocess.CompletedProcess, ...]:
    """Run with the process signalled after n committed units of work (sig "INSIDE": SIGKILLed half-way
    through storing feed page n, its transaction open), check the database file, run again."""
    db = tmp / f"killed-{n}-{sig}.db"
    fault = f"inside_page={n}" if sig == "INSIDE" else f"after={n},signal={sig}"
    killed = run_process(world, tmp, db, fault=fault)
    integrity(db)
    after_kill = dump(db)
    resumed = run_process(world, tmp, db)
    integrity(db)
    statuses = [r[0] for r in sqlite3.connect(db).execute("SELECT status FROM runs ORDER BY id")]
    return killed, after_kill, resumed, dump(db), statuses


def resume_cases(world: World, tmp: Path, cases) -> list:
    # The cases are independent (a database each; the simulated world is stateless), so a few run side by
    # side: the time goes into starting Python, not into the work.
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        return list(pool.map(lambda case: (case, kill_and_resume(world, tmp, *case)), cases))


def assert_same_as_reference(expected: dict, got: dict, case) -> None:
    assert set(got) == set(expected), case
    for table in sorted(expected):
        assert got[table] == expected[table], f"{case}: table {table} differs from the uninterrupted run's"


def test_killed_at_any_point_the_next_run_ends_where_an_uninterrupted_run_does(background_world, tmp_path, reference):
    summary, expected = reference
    units = summary["counts"]["units"]
    points = sorted({round(1 + i * (units - 1) / 9) for i in range(10)})
    assert len(points) == 10 and points[0] == 1 and points[-1] == units
    for (n, sig), (killed, after_kill, resumed, got, statuses) in resume_cases(
            background_world, tmp_path, [(n, "KILL") for n in points]):
        assert killed.returncode == -signal.SIGKILL, (n, killed.stderr)
        # Killed after n units: exactly the checks and repairs stored by then are there, no more (the
        # feed pages come first, then checks, then repairs).
        assert len(after_kill["posts"]) == min(5 * n, 14)
        assert len(after_kill["repairs"]) == max(0, n - 15)
        assert len({dict(r)["url"] for r in after_kill["checks"]}) == min(max(0, n - 3), 12)
        assert resumed.returncode == summary["exit_code"], (n, resumed.stderr)
        assert json.loads(resumed.stdout)["changes"]["newly_broken"] == summary["changes"]["newly_broken"]
        assert_same_as_reference(expected, got, f"killed after {n} units")
        assert statuses == ["abandoned", "breakage"]


def test_sigterm_and_sigint_stop_cleanly_and_the_next_run_finishes(background_world, tmp_path, reference):
    summary, expected = reference
    for (n, sig), (stopped, after_stop, resumed, got, statuses) in resume_cases(
            background_world, tmp_path, [(6, "TERM"), (17, "INT")]):
        # 128 + the signal's number, as a shell reports it; 3 would say the run failed.
        assert stopped.returncode == {"TERM": 143, "INT": 130}[sig], (n, sig, stopped.stdout, stopped.stderr)
        out = json.loads(stopped.stdout)
        assert out["status"] == "interrupted" and f"interrupted by SIG{sig}" in out["message"]
        assert f"linkkeeper: interrupted by SIG{sig}: 14 posts read, " in stopped.stderr
        assert re.search(r"\d+ of 12 due checks saved(, \d+ repairs saved)?; the next run carries on from there",
                         stopped.stderr)
        # It stopped taking work: far from everything was done.
        assert len(after_stop["repairs"]) < 7
        assert resumed.returncode == summary["exit_code"], (n, sig, resumed.stderr)
        assert_same_as_reference(expected, got, f"SIG{sig} after {n} units")
        assert statuses == ["interrupted", "breakage"]


def test_killed_inside_a_transaction_nothing_of_it_is_kept(background_world, tmp_path, reference):
    summary, expected = reference
    [((n, _), (killed, after_kill, resumed, got, statuses))] = resume_cases(background_world, tmp_path, [(2, "INSIDE")])
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    # Page 1 (five posts) was committed; of page 2, two posts had been written when the process died.
    assert len(after_kill["posts"]) == 5 and after_kill["checks"] == []
    assert resumed.returncode == summary["exit_code"], resumed.stderr
    assert_same_as_reference(expected, got, "killed inside page 2")
    assert statuses == ["abandoned", "breakage"]
