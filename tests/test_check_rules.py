"""The checker's rules over time and across hosts, each over real HTTP on loopback: a drifted check is neither
good nor failing; a host that does not answer becomes dead in time ("host unreachable since DATE"), a
persistent server error on an article whose host answers only after server_error_dead_after_days, and a flaky,
slow or rate-limiting host never; a deep link redirected onto a front page is a soft 404; outbound links
(`--all-links`) get the opening of their page read; drift only on clear evidence.

Checks run as `check` runs them without --confirm-now, one run per simulated day (`now`), so the dead rule's
span is tested as a user meets it.
"""

from __future__ import annotations

import asyncio
import socket
import sqlite3
import struct
from datetime import datetime, timedelta, timezone

import pytest

from linkkeeper import store
from linkkeeper.check.runner import BATCH_SHARE, MAX_BATCH, PEEK, check_urls, reading_for
from linkkeeper.settings import ConnectTo
from linkkeeper.sim.servers import closed_port
from linkkeeper.sim.web import Page, article_html
from worlds.posts import add_quoting_post

LEAD = ("Officials confirmed on Tuesday that the pipeline review would be delayed until spring, a decision "
        "that drew sharp criticism from environmental groups and opposition members within hours. The "
        "minister said the panel needed more time to hear from communities along the proposed route.")
ARTICLE = article_html("Pipeline review delayed", [LEAD, "More of the story follows here with other details."])
URL = "http://news.example.com/2012/10/16/pipeline-review-delayed.html"
HOME = article_html("News Example - Home", ["Top stories of the day. " * 30])
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
# Three checks spanning more than dead_after_hours (72): the default dead rule's days.
DAYS = (T0, T0 + timedelta(hours=37), T0 + timedelta(hours=74))


async def _no_sleep(_seconds):
    return None


def _db(tmp_path, url=URL, post_text=None, title=None):
    db = store.open_db(tmp_path / "r.db")
    if post_text is not None:
        add_quoting_post(db, url, post_text, title)
    return db


async def run_checks(db, settings, urls, days, *, want_body=lambda _u: True, confirm_now=False):
    """One check run per day in `days`; the last run's (evidence, state) per URL, and every run's verdicts."""
    history = []
    last = {}
    for day in days:
        results = {}
        await check_urls(db, urls, settings, want_body=want_body, sleep=_no_sleep, now=lambda day=day: day,
                         confirm_now=confirm_now, on_result=lambda ev, st: results.__setitem__(ev.url, (ev, st)))
        history.append({u: results[u][1]["verdict"] for u in urls})
        last = results
    return last, history


# ═══════════════════════════════════ hosts that do not answer ═══════════════════════════════════

class RawHost:
    """A TCP server on loopback that answers every connection the same wrong way: `reset` (reads the request, then RST),
    `drop` (reads the request, closes without a word) or `silent` (reads and never answers). Keeps
    each request line, so a test can see what a host was asked."""

    def __init__(self, kind: str) -> None:
        self.kind, self.requests, self.server = kind, [], None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = await reader.read(1024)
        self.requests.append(request.split(b"\r\n")[0].decode())
        if self.kind == "reset":
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.close()
            return
        if self.kind == "silent":
            await reader.read()  # until the client gives up
        writer.close()

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return self.server.sockets[0].getsockname()[1]

    def close(self) -> None:
        self.server.close()


@pytest.fixture
async def raw_hosts():
    made = []

    async def make(kind: str) -> tuple[RawHost, int]:
        host = RawHost(kind)
        made.append(host)
        return host, await host.start()

    yield make
    for host in made:
        host.close()


UNREACHABLE = ["dns", "refused", "reset", "drop", "silent"]


async def _unreachable_settings(simweb, raw_hosts, kind, host):
    """Settings sending `host` to a server that fails the `kind` way (dns: no rule, the name is .invalid)."""
    rules = []
    if kind == "refused":
        rules = [ConnectTo(host, "*", "127.0.0.1", closed_port())]
    elif kind in ("reset", "drop", "silent"):
        _server, port = await raw_hosts(kind)
        rules = [ConnectTo(host, "*", "127.0.0.1", port)]
    return simweb.settings(connect_to=rules, retries=0, total_timeout=0.6, read_timeout=0.6, connect_timeout=0.6)


@pytest.mark.parametrize("kind", UNREACHABLE)
async def test_an_unreachable_host_becomes_dead_over_three_checks_spanning_the_hours(simweb, raw_hosts, tmp_path, kind):
    host = "gone-outlet.invalid" if kind == "dns" else "gone.example.org"
    url = f"http://{host}/2012/10/16/story-of-the-day.html"
    settings = await _unreachable_settings(simweb, raw_hosts, kind, host)
    last, history = await run_checks(_db(tmp_path), settings, [url], DAYS)
    assert [h[url] for h in history] == ["suspect", "suspect", "dead"]
    ev, state = last[url]
    assert state["reason"] == f"host unreachable since {T0.date().isoformat()}", state["reason"]
    assert state["evidence_class"] == "unreachable" and state["consecutive_failures"] == 3


@pytest.mark.parametrize("kind", UNREACHABLE)
async def test_an_unreachable_host_is_not_dead_before_the_hours(simweb, raw_hosts, tmp_path, kind):
    host = "gone-outlet.invalid" if kind == "dns" else "gone.example.org"
    url = f"http://{host}/2012/10/16/story-of-the-day.html"
    settings = await _unreachable_settings(simweb, raw_hosts, kind, host)
    within = (T0, T0 + timedelta(hours=1), T0 + timedelta(hours=2), T0 + timedelta(hours=3))
    _last, history = await run_checks(_db(tmp_path), settings, [url], within)
    assert [h[url] for h in history] == ["suspect"] * 4


async def test_the_root_of_an_unreachable_host_is_probed_once_per_run_for_all_its_links(simweb, raw_hosts, tmp_path):
    server, port = await raw_hosts("reset")
    settings = simweb.settings(connect_to=[ConnectTo("gone.example.org", "*", "127.0.0.1", port)], retries=0)
    urls = [f"http://gone.example.org/2012/10/{d}/story-{d}.html" for d in (10, 11, 12)]
    _last, history = await run_checks(_db(tmp_path), settings, urls, DAYS[:1])
    # aiohttp sends an idempotent request once more when the connection dies before an answer: each probe
    # shows as one or two requests. The root is probed once, for the three links.
    asked = [line.split()[1] for line in server.requests]
    assert asked.count("/") == asked.count("/2012/10/10/story-10.html") in (1, 2), server.requests
    assert set(asked) == {"/", *(u.removeprefix("http://gone.example.org") for u in urls)}
    assert set(history[0].values()) == {"suspect"}


async def test_once_its_root_is_silent_a_host_s_other_links_get_one_attempt(simweb, raw_hosts, tmp_path):
    server, port = await raw_hosts("drop")
    settings = simweb.settings(connect_to=[ConnectTo("gone.example.org", "*", "127.0.0.1", port)], retries=2,
                               per_host=1)
    urls = [f"http://gone.example.org/2012/10/{d}/story-{d}.html" for d in (10, 11, 12)]
    _last, history = await run_checks(_db(tmp_path), settings, urls, DAYS[:1])
    asked = [line.split()[1] for line in server.requests]
    per_link = sorted(asked.count(u.removeprefix("http://gone.example.org")) for u in urls)
    # The first link: its three attempts; the root: one; the others: one attempt each (aiohttp may send
    # each request twice when the connection drops before an answer).
    assert per_link[-1] >= 3 and per_link[0] * 3 <= per_link[-1], server.requests
    assert set(history[0].values()) == {"suspect"}


async def test_confirm_now_applies_to_an_unreachable_host(simweb, raw_hosts, tmp_path):
    settings = (await _unreachable_settings(simweb, raw_hosts, "reset", "gone.example.org")).replace(confirm_spacing=0)
    url = "http://gone.example.org/2012/10/16/story-of-the-day.html"
    last, _ = await run_checks(_db(tmp_path), settings, [url], DAYS[:1], confirm_now=True)
    state = last[url][1]
    assert state["verdict"] == "dead" and state["single_day"] == 1
    assert state["reason"].startswith("host unreachable since")


async def test_an_article_that_does_not_answer_on_a_host_that_does_is_never_dead(simweb, tmp_path):
    simweb.add(URL, Page(body=ARTICLE, delay=3))
    simweb.add("http://news.example.com/", Page(body=HOME))
    settings = simweb.settings(retries=0, total_timeout=0.5, read_timeout=0.5)
    last, history = await run_checks(_db(tmp_path), settings, [URL], DAYS)
    assert [h[URL] for h in history] == ["unknown"] * 3
    assert last[URL][0].error_class == "timeout"


# ═══════════════════════════════════ server errors ═══════════════════════════════════

async def test_a_persistent_server_error_on_an_answering_host_is_dead_after_the_days(simweb, tmp_path):
    simweb.add(URL, Page(status=503))
    simweb.add("http://news.example.com/", Page(body=HOME))
    settings = simweb.settings(retries=0)
    days = (*DAYS, T0 + timedelta(days=20), T0 + timedelta(days=30, hours=1))
    last, history = await run_checks(_db(tmp_path), settings, [URL], days)
    assert [h[URL] for h in history] == ["unknown"] * 4 + ["dead"]
    assert "server errors since" in last[URL][1]["reason"]


async def test_server_error_dead_after_days_is_a_setting(simweb, tmp_path):
    simweb.add(URL, Page(status=500))
    simweb.add("http://news.example.com/", Page(body=HOME))
    _last, history = await run_checks(_db(tmp_path), simweb.settings(retries=0, server_error_dead_after_days=3),
                                      [URL], DAYS)
    assert [h[URL] for h in history] == ["unknown", "unknown", "dead"]


async def test_a_server_error_on_a_host_whose_root_fails_too_is_never_dead(simweb, tmp_path):
    # The whole site answers 503 (down for maintenance): nothing says this article is gone.
    simweb.fallback["news.example.com"] = Page(status=503)
    days = (*DAYS, T0 + timedelta(days=45))
    _last, history = await run_checks(_db(tmp_path), simweb.settings(retries=0), [URL], days)
    assert [h[URL] for h in history] == ["unknown"] * 4


async def test_a_flaky_host_stays_alive(simweb, tmp_path):
    # 503 on two checks, then fine: the good check resets everything.
    simweb.add(URL, Page(body=ARTICLE, fail_times=2, fail_status=503))
    simweb.add("http://news.example.com/", Page(body=HOME))
    last, history = await run_checks(_db(tmp_path), simweb.settings(retries=0), [URL], DAYS)
    assert [h[URL] for h in history] == ["unknown", "unknown", "alive"]
    assert last[URL][1]["consecutive_failures"] == 0 and last[URL][1]["first_failure_at"] is None


async def test_a_slow_host_stays_alive(simweb, tmp_path):
    simweb.add(URL, Page(body=ARTICLE, delay=2.5))
    _last, history = await run_checks(_db(tmp_path), simweb.settings(total_timeout=5, read_timeout=5), [URL],
                                      DAYS[:1])
    assert history == [{URL: "alive"}]


async def test_a_rate_limiting_host_is_never_dead(simweb, tmp_path):
    simweb.add(URL, Page(status=429))
    simweb.add("http://news.example.com/", Page(body=HOME))
    days = (*DAYS, T0 + timedelta(days=40))
    _last, history = await run_checks(_db(tmp_path), simweb.settings(retries=0), [URL], days)
    assert [h[URL] for h in history] == ["unknown"] * 4


# ═══════════════════════════════════ a drifted check ═══════════════════════════════════

async def test_a_drifted_check_neither_resets_the_dead_count_nor_counts_as_alive(simweb, tmp_path):
    other = article_html("Another story", ["Completely different coverage of other events in the city. " * 20])
    page = simweb.add(URL, Page(status=404))
    db = _db(tmp_path, post_text=LEAD)
    _last, history = await run_checks(db, simweb.settings(), [URL], DAYS[:2])
    assert [h[URL] for h in history] == ["suspect", "suspect"]
    page.status, page.body = 200, other
    last, history = await run_checks(db, simweb.settings(), [URL], DAYS[2:])
    state = last[URL][1]
    assert history == [{URL: "drifted"}]
    assert state["consecutive_failures"] == 2 and state["first_failure_at"] is not None
    # The verdict stays `drifted` in url_status: the repair stage can select it.
    assert store.url_state(db, URL)["verdict"] == "drifted"


# ═══════════════════════════════════ redirected home ═══════════════════════════════════

def _section_front(n: int = 25) -> str:
    items = "".join(f"<li><a href='/news/story-{i}/'>Council votes on the budget item number {i}</a></li>"
                    for i in range(n))
    return f"<html><head><title>News</title></head><body><h1>News</h1><ul>{items}</ul></body></html>"


async def test_a_rebranded_outlet_sending_old_urls_to_its_new_home_is_soft_404(simweb, tmp_path):
    simweb.add(URL, Page(status=301, location="http://www.newbrand.example.net/"))
    simweb.add("http://www.newbrand.example.net/", Page(body=HOME))
    last, _ = await run_checks(_db(tmp_path, post_text=LEAD), simweb.settings(), [URL], DAYS[:1])
    ev, state = last[URL]
    assert state["verdict"] == "suspect" and state["evidence_class"] == "soft-404", ev.reason


@pytest.mark.parametrize("target", ["/index.html", "/news/", "/2012/10/"])
async def test_a_deep_link_redirected_to_a_front_page_is_soft_404(simweb, tmp_path, target):
    simweb.add(URL, Page(status=301, location=target))
    simweb.add(f"http://news.example.com{target}", Page(body=_section_front()))
    last, _ = await run_checks(_db(tmp_path, post_text=LEAD), simweb.settings(), [URL], DAYS[:1])
    assert last[URL][1]["evidence_class"] == "soft-404", last[URL][0].reason


async def test_a_section_front_is_told_by_the_articles_it_lists(simweb, tmp_path):
    # /news/ listing articles is a front page; /news/ holding a single article of its own is not.
    simweb.add(URL, Page(status=301, location="/news/"))
    other = article_html("Another story", ["Completely different coverage of other events in the city. " * 20])
    simweb.add("http://news.example.com/news/", Page(body=other))
    last, _ = await run_checks(_db(tmp_path, post_text=LEAD), simweb.settings(), [URL], DAYS[:1])
    assert last[URL][1]["evidence_class"] == "drifted", last[URL][0].reason


async def test_a_deep_link_landing_where_its_random_sibling_lands_is_soft_404(simweb, tmp_path):
    url = "http://news.example.com/story/4612345/pipeline-review-delayed"
    simweb.fallback["news.example.com"] = Page(status=302, location="/latest/today-in-brief")
    simweb.add("http://news.example.com/latest/today-in-brief", Page(body=HOME))
    last, _ = await run_checks(_db(tmp_path, url, post_text=LEAD), simweb.settings(), [url], DAYS[:1])
    assert last[url][1]["evidence_class"] == "soft-404", last[url][0].reason


async def test_a_redirect_to_another_deep_article_url_across_hosts_stays_moved(simweb, tmp_path):
    new = "http://www.newbrand.example.net/politics/2012/10/16/pipeline-review-delayed-1.1234567"
    simweb.add(URL, Page(status=301, location=new))
    simweb.add(new, Page(body=ARTICLE))
    last, _ = await run_checks(_db(tmp_path, post_text=LEAD), simweb.settings(), [URL], DAYS[:1])
    assert last[URL][1]["verdict"] == "moved" and last[URL][1]["moved_to"] == new


# ═══════════════════════════════════ outbound links get a body ═══════════════════════════════════

VIDEO = "http://www.youtube.com/watch?v=dQw4w9WgXcQ"
UNAVAILABLE = ("<html><head><title>YouTube</title></head><body><div id='player'><h1>Video unavailable</h1>"
               "<p>This video is no longer available.</p></div></body></html>")


async def test_an_outbound_video_unavailable_page_is_soft_404(simweb, tmp_path):
    simweb.add(VIDEO, Page(body=UNAVAILABLE))
    last, _ = await run_checks(_db(tmp_path), simweb.settings(), [VIDEO], DAYS[:1], want_body=lambda _u: PEEK)
    ev, state = last[VIDEO]
    assert state["evidence_class"] == "soft-404" and ev.method == "GET", ev.reason


async def test_a_live_outbound_page_is_alive_and_read_only_in_its_opening(simweb, tmp_path):
    big = article_html("A long report", ["A paragraph of the report with plenty of words in it. " * 40] * 60)
    url = "http://www.example.org/reports/annual-report-2012"
    simweb.add(url, Page(body=big))
    last, _ = await run_checks(_db(tmp_path), simweb.settings(), [url], DAYS[:1], want_body=lambda _u: PEEK)
    ev, state = last[url]
    assert state["verdict"] == "alive" and len(big) > 65_536
    assert ev.markup == "" or len(ev.markup) <= 65_536


async def test_an_outbound_pdf_is_alive_and_its_body_not_read(simweb, tmp_path):
    url = "http://www.example.org/reports/annual-report-2012.pdf"
    simweb.add(url, Page(body=b"%PDF-1.4 <html> binary " * 10_000, content_type="application/pdf"))
    last, _ = await run_checks(_db(tmp_path), simweb.settings(), [url], DAYS[:1], want_body=lambda _u: PEEK)
    ev, state = last[url]
    assert state["verdict"] == "alive" and ev.markup == "" and ev.cut is None


async def test_a_slow_outbound_page_is_asked_once(simweb, tmp_path):
    # HEAD then GET would spend a slow site's time twice, past the URL's total_timeout.
    url = "http://www.example.org/reports/slow-report"
    simweb.add(url, Page(body=article_html("A report", ["Words of the report. " * 30]), delay=1.2))
    last, _ = await run_checks(_db(tmp_path), simweb.settings(total_timeout=2, read_timeout=2), [url], DAYS[:1],
                               want_body=lambda _u: PEEK)
    assert last[url][1]["verdict"] == "alive", last[url][0].reason
    assert simweb.hits.get(("www.example.org", "/reports/slow-report")) == 1


def test_all_links_reads_original_articles_whole_and_peeks_at_the_others():
    assert reading_for(None)("http://x.example/a") is True
    read = reading_for({"http://x.example/a"})
    assert read("http://x.example/a") is True and read("http://y.example/b") == PEEK


# ═══════════════════════════════════ drift only on clear evidence ═══════════════════════════════════

def _partly(share_of_lead: float) -> str:
    words = LEAD.split()
    kept = " ".join(words[:int(len(words) * share_of_lead)])
    return article_html("Pipeline review", [kept, "Completely different coverage of other events in the city. " * 20])


async def test_a_page_in_between_stays_alive_with_a_note(simweb, tmp_path):
    simweb.add(URL, Page(body=_partly(0.3)))
    last, _ = await run_checks(_db(tmp_path, post_text=LEAD), simweb.settings(), [URL], DAYS[:1])
    ev, state = last[URL]
    assert state["verdict"] == "alive"
    assert "not clearly another article" in (state["reason"] or ""), state["reason"]


async def test_a_page_without_an_article_of_its_own_is_not_drifted(simweb, tmp_path):
    # Little text of its own (a script-rendered page, a gallery): nothing to call it another article by.
    thin = article_html("Gallery", ["Photo one of the day.", "Photo two of the day.", "Share this."] * 3)
    simweb.add(URL, Page(body=thin))
    last, _ = await run_checks(_db(tmp_path, post_text=LEAD), simweb.settings(), [URL], DAYS[:1])
    assert last[URL][1]["verdict"] == "alive", last[URL][0].reason


async def test_another_article_is_drifted(simweb, tmp_path):
    other = article_html("Another story", ["Completely different coverage of other events in the city. " * 20])
    simweb.add(URL, Page(body=other))
    last, _ = await run_checks(_db(tmp_path, post_text=LEAD), simweb.settings(), [URL], DAYS[:1])
    assert last[URL][1]["verdict"] == "drifted" and "another article" in last[URL][1]["reason"]


async def test_an_update_under_the_posts_own_headline_is_not_drifted(simweb, tmp_path):
    # A wire story's update: a new opening, the post's paragraph reworded, the headline kept. Still the article.
    update = article_html("Pipeline review delayed until spring",
                          ["Completely different coverage of other events in the city. " * 20])
    simweb.add(URL, Page(body=update))
    db = _db(tmp_path, post_text=LEAD, title="Pipeline review delayed until spring")
    last, _ = await run_checks(db, simweb.settings(), [URL], DAYS[:1])
    assert last[URL][1]["verdict"] == "alive", last[URL][0].reason
    assert "under the post's own headline: an updated version of the article" in last[URL][1]["reason"]
    # The same page under another headline is another article.
    simweb.add(URL, Page(body=update.replace("Pipeline review delayed until spring", "Council votes on budget")))
    (tmp_path / "b").mkdir()
    last, _ = await run_checks(_db(tmp_path / "b", post_text=LEAD, title="Pipeline review delayed until spring"),
                               simweb.settings(), [URL], DAYS[:1])
    assert last[URL][1]["verdict"] == "drifted"


# ═══════════════════════════════════ storing a big run in batches ═══════════════════════════════════

async def test_a_big_run_stores_in_batches_what_it_reports_and_a_stopped_run_is_resumed(simweb, tmp_path):
    """A run of many links stores its checks a batch per transaction (MAX_BATCH, BATCH_SHARE): what it
    reports as checked is stored, at most one batch of finished checks waits unstored (all a kill -9 can lose),
    a stopped run stores every check it finished, and the next run's due links are exactly the others."""
    urls = [f"http://news.example.com/2012/10/16/story-number-{i:03d}.html" for i in range(300)]
    for url in urls:
        simweb.add(url, Page(body=ARTICLE))
    db = store.open_db(tmp_path / "b.db")
    db["sources"].insert({"id": 1, "path": "x"})
    for i, url in enumerate(urls):
        store.upsert_post(db, {"id": f"p{i}", "source_id": 1, "content": f"<p>{LEAD}</p>", "published": "2012-10-16",
                               "lead_text": LEAD},
                          [{"anchor_index": 0, "role": "original", "url": url, "url_normalized": url,
                            "anchor_text": "Original Article", "nullified_reason": None}])
    batch = min(MAX_BATCH, len(urls) // BATCH_SHARE)
    assert batch == 3
    watcher = sqlite3.connect(tmp_path / "b.db")  # sees only what is committed
    reported, stored_before = [], []
    task = None

    def on_result(ev, _state):
        stored = watcher.execute("SELECT count(*) FROM url_status").fetchone()[0]
        stored_before.append(stored)
        reported.append(ev.url)
        assert stored >= len(reported)  # reported means stored
        assert stored - len(reported) < batch  # stored in a batch: the batch's own, not more
        if len(reported) == 100:
            task.cancel()  # SIGINT and SIGTERM stop a run this way (nightly.py, asyncio.run)

    task = asyncio.ensure_future(check_urls(db, urls, simweb.settings(per_host=4), sleep=_no_sleep,
                                            on_result=on_result))
    with pytest.raises(asyncio.CancelledError):
        await task
    stored = {row[0] for row in watcher.execute("SELECT url FROM url_status")}
    assert 100 <= len(reported) < len(urls) and stored == set(reported)  # everything finished was kept
    # Batches: the count of stored checks grew by more than one at a time.
    assert any(b - a > 1 for a, b in zip(stored_before, stored_before[1:]))
    due = store.due_urls(db, now=store.utcnow(), alive_after_seconds=86400, soon_after_seconds=3600)
    assert set(due) == set(urls) - stored
    results = {}
    await check_urls(db, due, simweb.settings(per_host=4), sleep=_no_sleep,
                     on_result=lambda ev, st: results.__setitem__(ev.url, st["verdict"]))
    assert set(results) == set(due) and set(results.values()) == {"alive"}
    assert watcher.execute("SELECT count(DISTINCT url), count(*) FROM checks").fetchone() == (300, 300)
    watcher.close()


def test_a_burst_of_429s_to_requests_sent_together_slows_a_host_once():
    """The requests in flight when a host starts refusing come back 429 together: one doubling, not one
    each (a pause of a minute); a 429 to a request sent at the new pace slows it again, and good answers let
    the interval decay."""
    from linkkeeper.net.session import HostLimiter

    now = [100.0]
    limiter = HostLimiter(8, 0.0, 60.0, clock=lambda: now[0])
    for _ in range(8):  # eight requests sent at 99.5, answered 429 at 100
        limiter.feedback("busy.example", 429, sent_at=99.5)
    assert limiter.intervals["busy.example"] == 1.0
    now[0] = 101.5
    limiter.feedback("busy.example", 429, sent_at=101.0)  # sent after the host was slowed: it still refuses
    assert limiter.intervals["busy.example"] == 2.0
    limiter.feedback("busy.example", 429, sent_at=100.5)  # sent before that second slowing
    assert limiter.intervals["busy.example"] == 2.0
    limiter.feedback("busy.example", 200, sent_at=101.2)
    assert limiter.intervals["busy.example"] < 2.0 and limiter.intervals["calm.example"] == 0.0
