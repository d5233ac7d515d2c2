"""Plain-case verdicts from real HTTP against a simulated web on loopback."""

from __future__ import annotations

import pytest

from linkkeeper import store
from linkkeeper.check import check_urls, interleave_by_host, probe
from linkkeeper.http import make_session
from linkkeeper.settings import ConnectTo
from linkkeeper.testing import Page, closed_port

ARTICLE = "<html><title>Story</title><p>Text</p></html>"


async def run_probe(simweb, url, **settings):
    s = simweb.settings(**settings)
    async with make_session(s) as session:
        return await probe(session, url, s, sleep=_no_sleep)


async def _no_sleep(_seconds):
    return None


@pytest.mark.parametrize(
    "page, verdict, error_class",
    [
        (Page(body=ARTICLE), "alive", None),
        (Page(status=404), "dead", "http_404"),
        (Page(status=410), "dead", "http_410"),
        (Page(status=401), "blocked", "http_401"),
        (Page(status=403), "blocked", "http_403"),
        (Page(status=451), "blocked", "http_451"),
        (Page(status=500), "unknown", "http_500"),
        (Page(status=503), "unknown", "http_503"),
        (Page(status=429), "unknown", "http_429"),
        (Page(body=ARTICLE, head_status=405), "alive", None),
        (Page(body=ARTICLE, head_status=403), "alive", None),
        (Page(body=ARTICLE, head_status=404), "alive", None),
        (Page(body=ARTICLE, fail_times=1), "alive", None),
    ],
)
async def test_status_verdicts(simweb, page, verdict, error_class):
    simweb.add("http://news.example.com/story", page)
    ev = await run_probe(simweb, "http://news.example.com/story")
    assert (ev.verdict, ev.error_class) == (verdict, error_class)


async def test_head_refused_falls_back_to_get(simweb):
    simweb.add("http://news.example.com/a", Page(body=ARTICLE, head_status=405))
    ev = await run_probe(simweb, "http://news.example.com/a")
    assert ev.method == "GET" and ev.status == 200 and ev.verdict == "alive"


async def test_redirect_is_followed_and_recorded(simweb):
    simweb.add("http://old.example.com/story", Page(status=301, location="http://new.example.com/story"))
    simweb.add("http://new.example.com/story", Page(body=ARTICLE))
    ev = await run_probe(simweb, "http://old.example.com/story")
    assert ev.verdict == "redirected"
    assert ev.final_url == "http://new.example.com/story"
    assert ev.redirect_chain == [{"url": "http://old.example.com/story", "status": 301,
                                  "location": "http://new.example.com/story"}]


async def test_redirect_to_dead_page_is_dead(simweb):
    simweb.add("http://old.example.com/x", Page(status=302, location="/gone"))
    simweb.add("http://old.example.com/gone", Page(status=410))
    ev = await run_probe(simweb, "http://old.example.com/x")
    assert ev.verdict == "dead" and ev.final_url == "http://old.example.com/gone"


async def test_redirect_loop_is_not_dead(simweb):
    simweb.add("http://loop.example.com/a", Page(status=302, location="/b"))
    simweb.add("http://loop.example.com/b", Page(status=302, location="/a"))
    ev = await run_probe(simweb, "http://loop.example.com/a")
    assert ev.verdict == "unknown" and ev.error_class == "redirect_loop"


async def test_dns_failure_is_dead(simweb):
    simweb.add("http://news.example.com/", Page())
    ev = await run_probe(simweb, "http://no-such-outlet.invalid/story")
    assert (ev.verdict, ev.error_class) == ("dead", "dns")


async def test_connection_refused_is_dead(simweb):
    simweb.add("http://news.example.com/", Page())
    port = closed_port()
    ev = await run_probe(simweb, "http://defunct.example.org/story",
                         connect_to=[ConnectTo("defunct.example.org", "*", "127.0.0.1", port)])
    assert (ev.verdict, ev.error_class) == ("dead", "connection_refused")


async def test_timeout_is_unknown_never_dead(simweb):
    simweb.add("http://slow.example.com/story", Page(body=ARTICLE, delay=3))
    ev = await run_probe(simweb, "http://slow.example.com/story", total_timeout=0.5, read_timeout=0.5, retries=0)
    assert (ev.verdict, ev.error_class) == ("unknown", "timeout")


async def test_transient_failure_is_retried(simweb):
    page = simweb.add("http://flaky.example.com/story", Page(body=ARTICLE, fail_times=2, fail_status=503))
    ev = await run_probe(simweb, "http://flaky.example.com/story", retries=2)
    # attempt 1: HEAD 503, GET 503 (both fail); attempt 2: HEAD 200.
    assert ev.verdict == "alive" and ev.attempts == 2 and page.served == 3


async def test_retry_after_is_honoured(simweb):
    waits = []

    async def record_sleep(seconds):
        waits.append(seconds)

    simweb.add("http://busy.example.com/story",
               Page(body=ARTICLE, fail_times=2, fail_status=429, headers={"Retry-After": "7"}))
    s = simweb.settings(retries=1, retry_wait_max=10)
    async with make_session(s) as session:
        ev = await probe(session, "http://busy.example.com/story", s, sleep=record_sleep)
    assert ev.verdict == "alive" and waits and waits[0] >= 7


async def test_loopback_literal_is_refused_by_default(simweb):
    simweb.add("http://news.example.com/", Page())
    ev = await run_probe(simweb, f"http://127.0.0.1:{simweb.server.port}/x")
    assert ev.verdict == "refused"


def test_interleave_by_host_round_robins():
    urls = [f"http://a.example/{i}" for i in range(3)] + ["http://b.example/0", "http://c.example/0"]
    out = interleave_by_host(urls)
    assert sorted(out) == sorted(urls)
    assert {u.split("/")[2] for u in out[:3]} == {"a.example", "b.example", "c.example"}


async def test_check_urls_stores_each_check(simweb, tmp_path):
    simweb.add("http://news.example.com/ok", Page(body=ARTICLE))
    simweb.add("http://news.example.com/gone", Page(status=404))
    db = store.open_db(tmp_path / "t.db")
    summary = await check_urls(db, ["http://news.example.com/ok", "http://news.example.com/gone"], simweb.settings())
    assert summary.checked == 2 and summary.verdicts == {"alive": 1, "dead": 1}
    status = {r["url"]: r["verdict"] for r in db["url_status"].rows}
    assert status == {"http://news.example.com/ok": "alive", "http://news.example.com/gone": "dead"}
    assert db["checks"].count == 2
    row = next(db["checks"].rows_where("url = ?", ["http://news.example.com/gone"]))
    assert row["status"] == 404 and row["elapsed_ms"] >= 0 and row["checked_at"]


async def test_every_attempt_is_recorded(simweb, tmp_path):
    simweb.add("http://flaky.example.com/s", Page(body=ARTICLE, fail_times=2, fail_status=502))
    db = store.open_db(tmp_path / "t.db")
    await check_urls(db, ["http://flaky.example.com/s"], simweb.settings(retries=2))
    rows = list(db.query("SELECT status, verdict, attempts FROM checks ORDER BY id"))
    assert rows == [{"status": 502, "verdict": "unknown", "attempts": 1},
                    {"status": 200, "verdict": "alive", "attempts": 2}]
    assert next(db["url_status"].rows)["verdict"] == "alive"
