"""The verdict matrix: real HTTP against a simulated web on loopback, each behaviour to its verdict.

Every behaviour runs through `check_urls` with `confirm_now` (a one-off run's confirmation), so the
verdict asserted is the one a bulk repair would act on. No alive behaviour may end dead.
"""

from __future__ import annotations


import pytest

from linkkeeper import store
from linkkeeper.check.pagetests import sibling_url, url_shape
from linkkeeper.check.probe import probe
from linkkeeper.check.runner import check_urls
from linkkeeper.net.session import make_session
from linkkeeper.settings import ConnectTo
from linkkeeper.sim.servers import closed_port
from linkkeeper.sim.web import Page, article_html
from worlds.posts import add_quoting_post

LEAD = ("Officials confirmed on Tuesday that the pipeline review would be delayed until spring, a decision "
        "that drew sharp criticism from environmental groups and opposition members within hours.")
ARTICLE = article_html("Pipeline review delayed", [LEAD, "More of the story follows here with other details."])
URL = "http://news.example.com/2012/10/16/pipeline-review-delayed.html"
HOME = article_html("News Example - Home", ["Top stories of the day. " * 30])


async def _no_sleep(_seconds):
    return None


async def verdict_of(simweb, tmp_path, url=URL, *, want_body=True, post_text=None, **settings):
    db = store.open_db(tmp_path / "v.db")
    if post_text is not None:
        add_quoting_post(db, url, post_text)
    s = simweb.settings(confirm_spacing=0, **settings)
    results = []
    await check_urls(db, [url], s, confirm_now=True, want_body=lambda _u: want_body, sleep=_no_sleep,
                     on_result=lambda ev, state: results.append((ev, state)))
    ev, state = results[0]
    return state["verdict"], ev, state


ALIVE, DEAD = "alive", "dead"

MATRIX = [
    # (id, page or None for a setup, expected verdict)
    ("200 article", Page(body=ARTICLE), "alive"),
    ("404", Page(status=404), "dead"),
    ("410", Page(status=410), "dead"),
    ("401", Page(status=401), "blocked"),
    ("402", Page(status=402), "blocked"),
    ("403 for everyone", Page(status=403), "blocked"),
    ("451", Page(status=451), "blocked"),
    ("999 (LinkedIn-style)", Page(status=999), "blocked"),
    ("500 always", Page(status=500), "unknown"),
    ("502 always", Page(status=502), "unknown"),
    ("503 once then 200", Page(body=ARTICLE, fail_times=1, fail_status=503), "alive"),
    ("429 with Retry-After then 200", Page(body=ARTICLE, fail_times=1, fail_status=429, headers={"Retry-After": "1"}), "alive"),
    ("429 without Retry-After then 200", Page(body=ARTICLE, fail_times=1, fail_status=429), "alive"),
    ("429 always", Page(status=429), "unknown"),
    ("bot user agent refused, browser served", Page(body=ARTICLE, bot_status=403), "alive"),
    ("challenge page with 503", Page(status=503, body="<html><title>Just a moment...</title>cf_chl_opt</html>"), "blocked"),
    ("challenge page with 200", Page(body="<html><title>Attention Required! | Cloudflare</title></html>"), "blocked"),
    ("parked domain", Page(body="<html><title>example.com</title><h1>This domain is for sale!</h1>Buy this domain</html>"), "dead"),
    ("200 Page not found (English)", Page(body="<html><title>Page not found | News Example</title><p>Sorry.</p></html>"), "soft-404"),
    ("200 page introuvable (French)", Page(body="<html><title>Erreur</title><p>Désolé, la page introuvable.</p></html>"), "soft-404"),
    ("200 Seite nicht gefunden (German)", Page(body="<html><title>Seite nicht gefunden</title></html>"), "soft-404"),
    ("long article mentioning 404", Page(body=article_html("Error 404 is a number in this story", [LEAD] * 60)), "alive"),
    ("gzip body", Page(body=ARTICLE, gzip=True), "alive"),
    ("PDF", Page(body=b"%PDF-1.4 binary", content_type="application/pdf"), "alive"),
    ("empty 200", Page(body=""), "alive"),
    ("endless body", Page(body=ARTICLE, endless=True), "alive"),
    ("reset mid-body", Page(body=ARTICLE, cut_body=True), "unknown"),
]


@pytest.mark.parametrize("name, page, expected", MATRIX, ids=[m[0] for m in MATRIX])
async def test_matrix(simweb, tmp_path, name, page, expected):
    simweb.add(URL, page)
    verdict, ev, _ = await verdict_of(simweb, tmp_path, retries=2, max_bytes=200_000)
    assert verdict == expected, (ev.status, ev.reason, ev.error)


async def test_head_405_then_get(simweb, tmp_path):
    simweb.add(URL, Page(body=ARTICLE, head_status=405))
    verdict, ev, _ = await verdict_of(simweb, tmp_path, want_body=False)
    assert verdict == "alive" and ev.method == "GET"


async def test_head_403_then_get(simweb, tmp_path):
    simweb.add(URL, Page(body=ARTICLE, head_status=403))
    verdict, ev, _ = await verdict_of(simweb, tmp_path, want_body=False)
    assert verdict == "alive" and ev.method == "GET"


async def test_head_200_needs_no_get(simweb, tmp_path):
    simweb.add(URL, Page(body=ARTICLE))
    verdict, ev, _ = await verdict_of(simweb, tmp_path, want_body=False)
    assert verdict == "alive" and ev.method == "HEAD"


async def test_slow_server_is_alive(simweb, tmp_path):
    simweb.add(URL, Page(body=ARTICLE, delay=3))
    verdict, _, _ = await verdict_of(simweb, tmp_path, total_timeout=6, read_timeout=6)
    assert verdict == "alive"


async def test_hang_past_timeout_is_unknown(simweb, tmp_path):
    simweb.add(URL, Page(body=ARTICLE, delay=5))
    verdict, ev, _ = await verdict_of(simweb, tmp_path, total_timeout=0.5, read_timeout=0.5, retries=0)
    assert verdict == "unknown" and ev.error_class == "timeout"


async def test_redirect_loop(simweb, tmp_path):
    simweb.add("http://news.example.com/a", Page(status=302, location="/b"))
    simweb.add("http://news.example.com/b", Page(status=302, location="/a"))
    verdict, ev, _ = await verdict_of(simweb, tmp_path, "http://news.example.com/a")
    assert verdict == "unknown" and ev.error_class == "redirect_loop"


async def test_eleven_hop_chain(simweb, tmp_path):
    for i in range(11):
        simweb.add(f"http://news.example.com/hop{i}", Page(status=302, location=f"/hop{i + 1}"))
    simweb.add("http://news.example.com/hop11", Page(body=ARTICLE))
    verdict, ev, _ = await verdict_of(simweb, tmp_path, "http://news.example.com/hop0", max_redirects=10)
    assert verdict == "unknown" and ev.error_class == "too_many_redirects"
    assert len(ev.redirect_chain) == 11


async def test_redirect_to_root_is_soft_404(simweb, tmp_path):
    simweb.add(URL, Page(status=301, location="http://news.example.com/"))
    simweb.add("http://news.example.com/", Page(body=HOME))
    verdict, ev, _ = await verdict_of(simweb, tmp_path)
    assert verdict == "soft-404" and "site root" in ev.reason


async def test_redirect_to_404_page_is_soft_404(simweb, tmp_path):
    simweb.add(URL, Page(status=302, location="/404.html"))
    simweb.add("http://news.example.com/404.html", Page(body="<html><title>Oops</title>gone</html>"))
    verdict, ev, _ = await verdict_of(simweb, tmp_path)
    assert verdict == "soft-404" and "not-found page" in ev.reason


async def test_moved_article_keeps_the_new_url(simweb, tmp_path):
    new = "http://news.example.com/news/archive/2012/10/16/pipeline-review-delayed"
    simweb.add(URL, Page(status=301, location=new))
    simweb.add(new, Page(body=ARTICLE))
    verdict, ev, state = await verdict_of(simweb, tmp_path)
    assert verdict == "moved" and state["moved_to"] == new
    assert ev.redirect_chain[0]["status"] == 301


async def test_temporary_redirect_is_redirected(simweb, tmp_path):
    new = "http://news.example.com/story/123456/pipeline"
    simweb.add(URL, Page(status=302, location=new))
    simweb.add(new, Page(body=ARTICLE))
    verdict, _, _ = await verdict_of(simweb, tmp_path)
    assert verdict == "redirected"


async def test_random_sibling_catches_a_site_that_serves_everything(simweb, tmp_path):
    # Every path on this host answers 200 with the same home page: the real URL's 200 means nothing.
    simweb.fallback["news.example.com"] = Page(body=HOME)
    verdict, ev, _ = await verdict_of(simweb, tmp_path)
    assert verdict == "soft-404" and "cannot exist" in ev.reason


async def test_random_sibling_keeps_a_real_article_alive(simweb, tmp_path):
    simweb.add(URL, Page(body=HOME))  # looks like a home page, but the server 404s unknown siblings
    verdict, _, _ = await verdict_of(simweb, tmp_path)
    assert verdict == "alive"


async def test_content_drift(simweb, tmp_path):
    simweb.add(URL, Page(body=article_html("Live: today's news", ["Completely different coverage of other events. " * 20])))
    verdict, ev, _ = await verdict_of(simweb, tmp_path, post_text=LEAD)
    assert verdict == "drifted" and "of the text the post reproduces" in ev.reason


async def test_no_drift_when_the_page_still_holds_the_lead(simweb, tmp_path):
    simweb.add(URL, Page(body=ARTICLE))
    verdict, _, _ = await verdict_of(simweb, tmp_path, post_text=LEAD)
    assert verdict == "alive"


async def test_wrong_declared_charset(simweb, tmp_path):
    body = "<html><head><title>Québec étudiants</title></head><body>grève</body></html>".encode("cp1252")
    simweb.add(URL, Page(body=body, content_type="text/html; charset=utf-8"))
    verdict, ev, _ = await verdict_of(simweb, tmp_path)
    assert verdict == "alive" and ev.title == "Québec étudiants"


async def test_dns_failure_is_dead(simweb, tmp_path):
    simweb.add(URL, Page())
    verdict, ev, _ = await verdict_of(simweb, tmp_path, "http://no-such-outlet.invalid/story")
    assert verdict == "dead" and ev.error_class == "dns"


async def test_connection_refused_is_dead(simweb, tmp_path):
    simweb.add(URL, Page())
    port = closed_port()
    verdict, ev, _ = await verdict_of(simweb, tmp_path, "http://defunct.example.org/story",
                                      connect_to=[ConnectTo("defunct.example.org", "*", "127.0.0.1", port)])
    assert verdict == "dead" and ev.error_class == "connection_refused"


async def test_paywall_domain_403_is_alive(simweb, tmp_path):
    simweb.add(URL, Page(status=403))
    verdict, ev, _ = await verdict_of(simweb, tmp_path, paywall_domains=["example.com"])
    assert verdict == "alive" and "paywalled" in ev.reason


async def test_always_dead_domain(simweb, tmp_path):
    simweb.add(URL, Page(body=ARTICLE))
    verdict, _, _ = await verdict_of(simweb, tmp_path, always_dead=["news.example.com"])
    assert verdict == "dead"


async def test_loopback_literal_is_refused_by_default(simweb, tmp_path):
    simweb.add(URL, Page())
    verdict, _, _ = await verdict_of(simweb, tmp_path, f"http://127.0.0.1:{simweb.server.port}/x")
    assert verdict == "refused"


async def test_without_confirmation_a_failure_is_only_suspect(simweb, tmp_path):
    simweb.add(URL, Page(status=404))
    db = store.open_db(tmp_path / "s.db")
    summary = await check_urls(db, [URL], simweb.settings(), sleep=_no_sleep)
    assert summary.verdicts == {"suspect": 1} and summary.new_dead == 0


async def test_retry_after_is_honoured(simweb):
    waits = []

    async def record_sleep(seconds):
        waits.append(seconds)

    simweb.add(URL, Page(body=ARTICLE, fail_times=1, fail_status=429, headers={"Retry-After": "7"}))
    s = simweb.settings(retries=1, retry_wait_max=10)
    async with make_session(s) as session:
        ev = await probe(session, URL, s, sleep=record_sleep)
    assert ev.evidence_class == "alive" and waits and waits[0] >= 7


async def test_every_attempt_is_recorded(simweb, tmp_path):
    simweb.add(URL, Page(body=ARTICLE, fail_times=2, fail_status=502))
    db = store.open_db(tmp_path / "t.db")
    await check_urls(db, [URL], simweb.settings(retries=2), sleep=_no_sleep)
    rows = list(db.query("SELECT status, evidence_class, verdict, attempts FROM checks ORDER BY id"))
    assert [(r["status"], r["evidence_class"]) for r in rows] == [(502, "transient"), (502, "transient"), (200, "alive")]
    assert rows[-1]["verdict"] == "alive" and rows[-1]["attempts"] == 3


async def test_a_429_slows_only_that_host(simweb, tmp_path):
    from linkkeeper.net.session import HostLimiter
    limiter = HostLimiter(2, 0.0, 60.0)
    limiter.feedback("busy.example", 429)
    limiter.feedback("busy.example", 429)
    assert limiter.intervals["busy.example"] == 2.0 and limiter.intervals["calm.example"] == 0.0
    limiter.feedback("busy.example", 200)
    assert limiter.intervals["busy.example"] < 2.0


def test_sibling_url_keeps_the_shape():
    sib = sibling_url(URL)
    assert sib != URL and url_shape(sib) == url_shape(URL) and sib.endswith(".html")
    assert sibling_url("http://news.example.com/") is None


def test_slugs_of_any_length_share_one_sibling_probe():
    """A CMS answers a slug of three words as one of seven: one probe per host and path shape, not per
    slug length; a section with an id, a dated path or another host is another shape."""
    shape = url_shape("http://news.example.com/news/world/ferry-review-ordered-1.4612345")
    assert url_shape("http://news.example.com/news/canada/pipeline-permits-frozen-after-long-review-1.46") == shape
    assert url_shape("http://news.example.com/news/politics-4612345") != shape
    assert url_shape("http://news.example.com/news/2012/10/16/ferry-review-ordered/") != shape
    assert url_shape("http://other.example.com/news/world/ferry-review-ordered-1.4612345") != shape



async def test_confirm_now_lets_a_failure_that_recovers_stay_alive(simweb, tmp_path):
    # A 404 once (a deploy in progress), then the article: the confirmation round sees it back.
    simweb.add(URL, Page(body=ARTICLE, fail_times=1, fail_status=404))
    verdict, ev, state = await verdict_of(simweb, tmp_path)
    assert verdict == "alive" and [e.status for e in ev.earlier] == [404]
