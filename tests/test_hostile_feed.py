"""Hostile input, second round: the blog's live feed (issue 14, cases 1, 2, 5 and the feed's part of 6).

A feed is read by the export's expat scanner, its JSON through text/jsonbounds.py, page after page only while
it moves on, with a session that trusts nothing beyond the address guard; whatever a hostile feed does ends
in one clear line naming the URL and exit code 2, never a traceback, an endless read or an archive request.
Every test here runs over real HTTP on loopback."""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from contextlib import contextmanager

import pytest
from aiohttp import web
from click.testing import CliRunner

from linkkeeper import store
from linkkeeper.cli import main
from linkkeeper.settings import ConnectTo, Settings
from linkkeeper.sim.archive import settings_for
from linkkeeper.sim.servers import BackgroundServer, serve
from linkkeeper.sources import feed as feedmod

BLOG = "hostile.blogspot.com"
ADDRESS = f"http://{BLOG}/"
ATOM_HEAD = ("<feed xmlns='http://www.w3.org/2005/Atom' xmlns:openSearch='http://a9.com/-/spec/opensearchrss/1.0/'>"
             "<id>tag:blogger.com,1999:blog-77</id><title type='text'>Hostile</title>")
POST = "<p>A lead paragraph.</p><a href='http://news.example/a'>Original Article</a>"


def atom_entry(n: int, content: str = POST, kind: str = "html") -> str:
    from html import escape

    body = escape(content, quote=False) if kind == "html" else content
    return (f"<entry><id>tag:blogger.com,1999:blog-77.post-{n}</id><published>2012-10-01T10:00:00Z</published>"
            f"<updated>2012-10-01T10:00:00Z</updated><title type='text'>Post {n}</title>"
            f"<content type='{kind}'>{body}</content>"
            f"<link rel='alternate' type='text/html' href='http://{BLOG}/2012/10/p{n}.html'/></entry>")


def atom_page(entries: list[str], *, total: int | None = None, next_link: bool = False, prolog: str = "") -> str:
    extra = f"<openSearch:totalResults>{total}</openSearch:totalResults>" if total is not None else ""
    if next_link:
        extra += f"<link rel='next' type='application/atom+xml' href='http://{BLOG}/feeds/posts/default?n'/>"
    return f"<?xml version='1.0' encoding='UTF-8'?>{prolog}{ATOM_HEAD}{extra}{''.join(entries)}</feed>"


# A 600-byte entity nest that expanded to a 300,000-byte post when ElementTree read the feed.
NEST = ("<!DOCTYPE feed [<!ENTITY a0 '" + "x" * 30 + "'>"
        + "".join(f"<!ENTITY a{i} '&a{i - 1};&a{i - 1};&a{i - 1};&a{i - 1};'>" for i in range(1, 8)) + "]>")


def entity_feed() -> str:
    return atom_page([atom_entry(1, "<p>&a7;</p>")]).replace("&lt;p&gt;&amp;a7;", "&lt;p&gt;&a7;")


class HostileFeed:
    """A blog host answering whatever the test sets: `body(query)` for the feed, `redirect` to send it
    elsewhere. `requests` counts the feed's requests."""

    def __init__(self, body=None, *, content_type: str = "application/atom+xml", redirect: str | None = None):
        self.body = body or (lambda query: atom_page([]))
        self.content_type = content_type
        self.redirect = redirect
        self.requests = 0

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/feeds/posts/default", self._feed)
        return app

    async def _feed(self, request: web.Request) -> web.StreamResponse:
        self.requests += 1
        if self.redirect:
            return web.Response(status=302, headers={"Location": self.redirect})  # as written, unchecked
        body = self.body(dict(request.query))
        data = body if isinstance(body, bytes) else body.encode("utf-8")
        return web.Response(body=data, content_type=self.content_type)


class Counting:
    """A stand-in for the configured archive endpoint: it only counts who reached it."""

    def __init__(self) -> None:
        self.requests: Counter[str] = Counter()

    def app(self) -> web.Application:
        app = web.Application()

        async def any_path(request: web.Request) -> web.Response:
            self.requests[request.path] += 1
            return web.Response(text="the archive's secret")

        app.router.add_route("*", "/{tail:.*}", any_path)
        return app


def settings_for_feed(feed_base: str, **changes) -> Settings:
    port = int(feed_base.rsplit(":", 1)[1])
    return Settings(db=":memory:", connect_timeout=2, read_timeout=2, total_timeout=5, retries=0,
                    retry_wait_max=0.01, connect_to=(ConnectTo(BLOG, "*", "127.0.0.1", port),)).replace(**changes)


async def read_all(feed: HostileFeed, fmt: str = "atom", **changes) -> list:
    async with serve(feed.app()) as base:
        settings = settings_for_feed(base, **changes)
        async with feedmod.feed_session(settings) as session:
            return [page async for page in feedmod.read_pages(session, ADDRESS, fmt=fmt, page_size=2,
                                                              retries=0, sleep=_no_sleep)]


async def _no_sleep(_seconds):
    return None


@contextmanager
def served(app: web.Application):
    server = BackgroundServer(app)
    try:
        yield server.start()
    finally:
        server.stop()


def run_cli(tmp_path, feed_base: str, *args: str, **env: str):
    """`linkkeeper run ADDRESS` against the hostile feed, in-process; returns click's result."""
    port = int(feed_base.rsplit(":", 1)[1])
    merged = {k: None for k in os.environ if k.startswith("LINKKEEPER_")}
    values = {"connect_to": f"{BLOG}:*:127.0.0.1:{port}", "connect_timeout": "2", "read_timeout": "2",
              "total_timeout": "5", "retries": "0", "retry_wait_max": "0.01", "feed_page_size": "2",
              "reports_dir": str(tmp_path / "reports"), **env}
    merged.update({f"LINKKEEPER_{k.upper()}": v for k, v in values.items()})
    return CliRunner().invoke(main, ["--db", str(tmp_path / "feed.db"), "run", ADDRESS, "--no-repair", "--no-report",
                                     *args], env=merged, catch_exceptions=False)


# --- 1. entities: refused wherever they stand and in any encoding ---------------------------------------------

ENTITY_FEEDS = {
    # The old check looked at the first 4 KB only, as raw bytes.
    "DOCTYPE after 4 KB of comment": (entity_feed().replace("<?xml version='1.0' encoding='UTF-8'?>",
                                                            "<?xml version='1.0' encoding='UTF-8'?><!--"
                                                            + "c" * 5000 + "-->\n" + NEST)).encode("utf-8"),
    # ... and as UTF-8 bytes: `<!DOCTYPE` is not those bytes in UTF-16.
    "UTF-16 LE with a BOM": (entity_feed().replace("encoding='UTF-8'?>", "encoding='UTF-16'?>" + NEST)
                             ).encode("utf-16"),
    "UTF-16 BE with a BOM": b"\xfe\xff" + entity_feed().replace("encoding='UTF-8'?>", "encoding='UTF-16'?>" + NEST
                                                                 ).encode("utf-16-be"),
    "a parameter entity": (atom_page([atom_entry(1)]).replace("encoding='UTF-8'?>", "encoding='UTF-8'?>"
                           "<!DOCTYPE feed [<!ENTITY % p '<!ENTITY q \"x\">'> %p;]>")).encode(),
}


@pytest.mark.parametrize("name", sorted(ENTITY_FEEDS))
async def test_entity_declarations_in_a_feed_are_refused_wherever_they_stand(name):
    feed = HostileFeed(lambda query: ENTITY_FEEDS[name])
    with pytest.raises(feedmod.FeedError, match="entity declarations are refused") as caught:
        await read_all(feed)
    assert not caught.value.transient
    # The message names the page asked for, with the line and column of the declaration.
    assert re.match(rf"http://{BLOG}/feeds/posts/default\?\S+:\d+:\d+: entity declarations", str(caught.value))


def test_a_feed_with_an_entity_nest_ends_the_run_with_exit_2_and_stores_nothing(tmp_path):
    feed = HostileFeed(lambda query: ENTITY_FEEDS["UTF-16 LE with a BOM"])
    with served(feed.app()) as base:
        result = run_cli(tmp_path, base)
    assert result.exit_code == 2, result.output
    assert "entity declarations are refused" in result.output and "Traceback" not in result.output
    assert list(store.open_db(tmp_path / "feed.db")["posts"].rows) == []


async def test_xhtml_content_nested_100000_deep_is_refused_not_a_recursion_error():
    deep = "<div xmlns='http://www.w3.org/1999/xhtml'>" + "<b>" * 100_000 + "x" + "</b>" * 100_000 + "</div>"
    feed = HostileFeed(lambda query: atom_page([atom_entry(1, deep, "xhtml")]))
    with pytest.raises(feedmod.FeedError, match="nested deeper than 512 levels") as caught:
        await read_all(feed)
    assert not caught.value.transient


async def test_xhtml_content_is_read_as_the_export_reads_it():
    # The shared scanner drops the wrapper <div> Atom requires, as the export reader does.
    xhtml = "<div xmlns='http://www.w3.org/1999/xhtml'><p>Lead &amp; more</p><a href='http://news.example/a'>x</a></div>"
    [page] = await read_all(HostileFeed(lambda query: atom_page([atom_entry(1, xhtml, "xhtml")])))
    assert page.posts[0].html == '<p>Lead &amp; more</p><a href="http://news.example/a">x</a>'


# --- 6. JSON feeds: bounded, and of the right shape ------------------------------------------------------------

JSON_FEEDS = {
    "200,000 arrays deep": "[" * 200_000 + "]" * 200_000,
    "feed is a string": json.dumps({"feed": "hello"}),
    "an entry is a string": json.dumps({"feed": {"entry": ["hello"]}}),
    "an entry's link is a string": json.dumps({"feed": {"entry": [{"id": {"$t": "p"}, "link": "x"}]}}),
    "the links are a number": json.dumps({"feed": {"link": 7}}),
    "a 5,000-digit number": '{"feed": {"openSearch$totalResults": {"$t": ' + "9" * 5000 + "}}}",
    "a lone surrogate": json.dumps({"feed": {"entry": [{"id": {"$t": "p"}, "content": {"$t": "x"}}]}}).replace(
        '"x"', '"\\ud800"'),
    "not JSON at all": "<html>hello</html>",
}


@pytest.mark.parametrize("name", sorted(JSON_FEEDS))
async def test_hostile_json_feeds_are_a_clear_error(name):
    feed = HostileFeed(lambda query: JSON_FEEDS[name], content_type="application/json")
    with pytest.raises(feedmod.FeedError, match="not a Blogger JSON feed") as caught:
        await read_all(feed, fmt="json")
    assert not caught.value.transient and f"http://{BLOG}/feeds/posts/default?alt=json" in str(caught.value)


@pytest.mark.parametrize("name", ["200,000 arrays deep", "an entry is a string", "a lone surrogate"])
def test_hostile_json_feeds_end_the_run_with_exit_2(name, tmp_path):
    feed = HostileFeed(lambda query: JSON_FEEDS[name], content_type="application/json")
    with served(feed.app()) as base:
        result = run_cli(tmp_path, base, "--feed-format", "json")
    assert result.exit_code == 2, result.output
    assert "not a Blogger JSON feed" in result.output and "Traceback" not in result.output


# --- 2. a feed that does not move on ---------------------------------------------------------------------------

async def test_a_feed_repeating_a_full_page_is_read_twice_then_refused():
    # Whatever start-index asks for, the same full page with a rel="next" link: `run` used to ask forever.
    feed = HostileFeed(lambda query: atom_page([atom_entry(1), atom_entry(2)], total=40, next_link=True))
    with pytest.raises(feedmod.FeedError, match="listed already") as caught:
        await read_all(feed)
    assert not caught.value.transient and "start-index=3" in str(caught.value)
    assert feed.requests == 2


async def test_a_feed_that_never_ends_stops_well_past_the_count_it_announced():
    # Fresh posts on every page, forever, under a first page announcing three.
    def endless(query):
        start = int(query["start-index"])
        return atom_page([atom_entry(start), atom_entry(start + 1)], total=3, next_link=True)

    feed = HostileFeed(endless)
    with pytest.raises(feedmod.FeedError, match="more than 10 posts") as caught:
        await read_all(feed)
    assert not caught.value.transient and feed.requests == 6


def test_a_repeating_feed_ends_the_run_with_exit_2(tmp_path):
    feed = HostileFeed(lambda query: atom_page([atom_entry(1), atom_entry(2)], next_link=True))
    with served(feed.app()) as base:
        result = run_cli(tmp_path, base)
    assert result.exit_code == 2 and "listed already" in result.output and feed.requests == 2, result.output


# --- 5. the feed's session trusts no archive endpoint ----------------------------------------------------------

def test_a_feed_redirect_never_reaches_the_configured_archive(tmp_path):
    archive = Counting()
    with served(archive.app()) as archive_base:
        feed = HostileFeed(redirect=f"{archive_base}/admin/secret")
        with served(feed.app()) as base:
            result = run_cli(tmp_path, base, **settings_for(archive_base))
    assert result.exit_code == 2, result.output
    assert "refused" in result.output and "loopback" in result.output
    assert feed.requests == 1 and sum(archive.requests.values()) == 0


@pytest.mark.parametrize("target", ["javascript:alert(1)", "http://host:99999/x", "ftp://example.org/feed"])
async def test_a_feed_redirect_that_cannot_be_followed_is_a_clear_error(target):
    with pytest.raises(feedmod.FeedError, match="a redirect that is not followed") as caught:
        await read_all(HostileFeed(redirect=target))
    assert not caught.value.transient
