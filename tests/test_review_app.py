"""The review server over HTTP: the page and its one queue, its guard (Host, Origin, CSRF token, JSON, bounded
bodies and ids), every decision, the checks an edit goes through, and the capture comparison. The same page
in a real browser is tested in test_review_browser.py."""

from __future__ import annotations

import re

import pytest

from conftest import HOSTILE_TITLE, LATE_CAPTURE, UNRELATED_PAGE
from linkkeeper import store
from linkkeeper.desk import decisions as curator
from linkkeeper.desk.queue import build_queue
from linkkeeper.desk.review import CACHE, TOKEN_HEADER, create_app, is_loopback

TOKEN = "test-token-0123456789"
GLOBE_ELA = "http://www.theglobeandmail.com/news/national/experimental-lakes-closure/article4501234/"
CBC_CRIME_CAPTURE = ("https://web.archive.org/web/20111004140200/"
                     "http://www.cbc.ca/news/politics/story/2011/10/03/crime-bill-second-reading.html")
OMNIBUS = "http://www.cbc.ca/news/politics/story/2012/09/14/pol-omnibus-budget-bill-two-tabled.html"
ETHICS = "http://www.thestar.com/news/canada/article/1251777--ethics-commissioner-opens-probe-into-minister"


@pytest.fixture
async def client(aiohttp_client, review_db, review_settings):
    return await aiohttp_client(create_app(review_db, review_settings, token=TOKEN))


@pytest.fixture
def db(review_db):
    return store.open_db(review_db)


def headers(client, **extra):
    base = {TOKEN_HEADER: TOKEN, "Origin": f"http://{client.server.host}:{client.server.port}"}
    base.update(extra)
    return {k: v for k, v in base.items() if v is not None}


def state(db, repair_id):
    return store.repair_row(db, repair_id)["state"]


def link_of(db, title: str) -> str:
    return db.execute("SELECT l.id FROM links l JOIN posts p ON p.id = l.post_id WHERE p.title = ? "
                      "AND l.role = 'original'", [title]).fetchone()[0]


def unavailable(db) -> int:
    return db.execute("SELECT id FROM repairs WHERE state = 'unavailable'").fetchone()[0]


async def test_the_page_lists_one_queue_with_everything_escaped(client, db):
    response = await client.get("/")
    assert response.status == 200
    text = await response.text()
    csp = response.headers["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", csp).group(1)
    scripts = re.findall(r"<script([^>]*)>", text)
    assert scripts == [f" nonce='{nonce}'"]  # the page's own script only
    assert "&lt;script&gt;window.__pwned" in text and HOSTILE_TITLE not in text
    assert f"<meta name='csrf-token' content='{TOKEN}'>" in text
    keys = re.findall(r"<li class='item kind-[a-z-]+' data-key='([rl][0-9a-f]+)'", text)
    assert keys == [item["key"] for item in build_queue(db)]
    kinds = re.findall(r"data-kind='([a-z-]+)'", text)
    # Every proposed repair (impact first), then what nothing was found for (longest failing first): the six
    # nullified links, broken since their posts, then the repair the archive could not make.
    assert kinds == ["proposed"] * 11 + ["no-url"] * 6 + ["unavailable"]
    assert [int(k[1:]) for k in keys[:11]] == [r["id"] for r in curator.review_queue(db)]
    assert "the Wayback Machine has not archived this URL" in text
    assert "the blogging software emptied this link" in text
    assert response.headers["X-Frame-Options"] == "DENY"


async def test_distances_are_measured_from_the_target_date_and_say_which(client, db):
    text = await (await client.get("/")).text()
    # Post 11 was posted nine days after the article's date in its URL: the capture was chosen near that date.
    assert "10 days after the article&#39;s date in its URL" in text
    assert "1 day after the post" in text and "from the post&#39;s date" not in text


@pytest.mark.parametrize("change, reason", [
    ({TOKEN_HEADER: None}, "CSRF token"),
    ({TOKEN_HEADER: "wrong"}, "CSRF token"),
    ({"Origin": "http://evil.example"}, "cross-origin"),
    ({"Sec-Fetch-Site": "cross-site"}, "cross-site"),
])
async def test_a_post_without_the_token_or_from_elsewhere_is_refused(client, db, change, reason):
    target = curator.review_queue(db)[0]["id"]
    response = await client.post("/decide", json={"ids": [target], "action": "approve"}, headers=headers(client, **change))
    assert response.status == 403 and reason in (await response.json())["error"]
    assert state(db, target) == "proposed" and list(store.decision_rows(db)) == []


async def test_a_form_post_is_refused_even_with_the_token(client, db):
    target = curator.review_queue(db)[0]["id"]
    response = await client.post("/decide", data=f'{{"ids": [{target}], "action": "approve"}}',
                                 headers=headers(client, **{"Content-Type": "text/plain"}))
    assert response.status == 403 and state(db, target) == "proposed"


async def test_another_host_name_is_refused_even_for_reading(client):
    # A page on a name that resolves to 127.0.0.1 (DNS rebinding) sends its own name as Host.
    response = await client.get("/", headers={"Host": f"rebind.example:{client.server.port}"})
    assert response.status == 403
    response = await client.get("/queue", headers={"Host": f"localhost:{client.server.port + 1}"})
    assert response.status == 403
    assert (await client.get("/", headers={"Host": f"localhost:{client.server.port}"})).status == 200


async def test_decisions_through_the_api(client, db):
    queue = [r["id"] for r in curator.review_queue(db)]
    post = lambda path, body: client.post(path, json=body, headers=headers(client))  # noqa: E731

    response = await post("/decide", {"ids": [queue[0]], "action": "approve", "note": "checked"})
    assert response.status == 200 and state(db, queue[0]) == "approved"
    assert next(store.decision_rows(db, newest_first=True))["origin"] == "review"
    response = await post("/decide", {"ids": [f"r{queue[1]}"], "action": "reject"})
    assert response.status == 200 and state(db, queue[1]) == "rejected"

    response = await post("/decide", {"ids": [queue[2]], "action": "not-dead"})
    assert response.status == 200 and state(db, queue[2]) == "rejected"
    assert store.url_mark(db, store.repair_row(db, queue[2])["url_normalized"])["mark"] == "not-dead"

    assert (await post("/undo", {})).status == 200 and state(db, queue[2]) == "proposed"
    assert (await post("/undo", {})).status == 200 and state(db, queue[1]) == "proposed"
    assert (await post("/decide", {"ids": [999999], "action": "reject"})).status == 404
    assert (await post("/decide", {"ids": "1", "action": "reject"})).status == 400
    assert (await post("/decide", {"ids": [queue[3]], "action": "delete"})).status == 400
    nullified = link_of(db, "Omnibus budget bill two tabled in the Commons")
    response = await post("/decide", {"ids": [f"l{nullified}"], "action": "approve"})
    assert response.status == 400 and "nothing to approve" in (await response.json())["error"]


async def test_bulk_approval_decides_the_shown_repairs_and_exactly_as_many_as_confirmed(client, db):
    post = lambda body: client.post("/bulk-approve", json=body, headers=headers(client))  # noqa: E731
    cbc = [i["repair_id"] for i in build_queue(db) if i["outlet"] == "cbc" and i["kind"] == "proposed"]
    sure = [i for i in cbc if store.repair_row(db, i)["confidence"] >= 0.8]
    assert 1 <= len(sure) < len(cbc) or len(sure) >= 2
    response = await post({"min_confidence": 0.8, "ids": [f"r{i}" for i in cbc], "expect": len(sure) + 1})
    assert response.status == 409 and "not the" in (await response.json())["error"]
    assert all(state(db, i) == "proposed" for i in cbc)
    response = await post({"min_confidence": 0.8, "ids": [f"r{i}" for i in cbc], "expect": len(sure)})
    body = await response.json()
    assert response.status == 200 and f"Approved {len(sure)} repairs" in body["message"]
    approved = {d["repair_id"] for d in store.decision_rows(db) if d["id"] in body["decisions"]}
    assert approved == set(sure)
    others = [r["id"] for r in store.pending_repairs(db) if r["id"] not in cbc]
    assert others and all(state(db, i) == "proposed" for i in others)  # outside the filter: untouched
    assert (await post({"min_confidence": "high"})).status == 400


async def test_the_queue_fragment_follows_the_database(client, db):
    first = (await (await client.get("/queue")).json())
    target = curator.review_queue(db)[0]["id"]
    curator.decide(db, [target], "reject", origin="cli")
    second = await (await client.get("/queue")).json()
    assert second["pending"] == first["pending"] - 1
    assert f"data-key='r{target}'" in first["html"] and f"data-key='r{target}'" not in second["html"]
    # Recent decisions name the post, with a machine-readable time the page shows in local time.
    assert "<b>reject</b>" in second["recent"] and f"#{target}" in second["recent"]
    assert re.search(r"<time datetime='\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ'>", second["recent"])
    assert "&lt;script&gt;window.__pwned = 1; alert(&#39;pwned&#39;)&lt;/script&gt; Budget" in second["recent"]


async def test_later_moves_a_link_to_the_end_of_the_queue(client, db):
    first = build_queue(db)[0]["key"]
    response = await client.post("/later", json={"key": first}, headers=headers(client))
    assert response.status == 200 and "end of the queue" in (await response.json())["message"]
    html = (await (await client.get("/queue")).json())["html"]
    keys = re.findall(r"data-key='([rl][0-9a-f]+)'", html)
    assert keys[-1] == first and len(keys) == 18


# --- every edit is verified -------------------------------------------------------------------------------

async def verify(client, key, value):
    response = await client.post("/verify", json={"key": key, "replacement": value}, headers=headers(client))
    return response.status, await response.json()


async def test_a_capture_of_another_page_is_refused_with_its_reason(client, db):
    target = curator.review_queue(db)[3]["id"]
    status, body = await verify(client, f"r{target}", CBC_CRIME_CAPTURE)
    assert status == 200 and not body["ok"] and body["saveable"]
    assert "not of the dead link's URL" in body["reason"]
    before = store.repair_row(db, target)
    response = await client.post("/decide", json={"ids": [target], "action": "edit", "replacement": CBC_CRIME_CAPTURE},
                                 headers=headers(client))
    assert response.status == 422 and "not of the dead link's URL" in (await response.json())["error"]
    response = await client.post("/decide", json={"ids": [target], "action": "edit", "replacement": CBC_CRIME_CAPTURE,
                                                  "anyway": True}, headers=headers(client))
    assert response.status == 422 and "needs a note" in (await response.json())["error"]
    assert store.repair_row(db, target)["replacement"] == before["replacement"]
    # Saved anyway, with the note kept in the decision and the failed checks in the repair's evidence.
    response = await client.post("/decide", json={"ids": [target], "action": "edit", "replacement": CBC_CRIME_CAPTURE,
                                                  "anyway": True, "note": "the outlet reused this page"},
                                 headers=headers(client))
    assert response.status == 200 and "although a check failed" in (await response.json())["message"]
    decision = next(store.decision_rows(db, newest_first=True))
    assert decision["note"] == "the outlet reused this page" and decision["action"] == "edit"
    evidence = db.execute("SELECT evidence FROM repairs WHERE id = ?", [target]).fetchone()[0]
    assert '"ok": false' in evidence and "not of the dead link" in evidence


async def test_an_unavailable_link_is_fixed_with_a_capture_found_by_hand(client, db):
    target = unavailable(db)
    status, body = await verify(client, f"r{target}", f"https://web.archive.org/web/{LATE_CAPTURE}/{GLOBE_ELA}")
    assert status == 200 and body["ok"], body
    texts = [line["text"] for line in body["lines"]]
    assert "a capture of the dead link's URL" in texts and "100% of the post's text found in the capture" in texts
    assert "<mark>" in body["compare"]["capture_html"]
    response = await client.post("/decide", json={"ids": [f"r{target}"], "action": "edit", "approve": True,
                                                  "replacement": f"https://web.archive.org/web/{LATE_CAPTURE}/{GLOBE_ELA}"},
                                 headers=headers(client))
    assert response.status == 200, await response.text()
    row = store.repair_row(db, target)
    assert (row["state"], row["capture_timestamp"], row["confidence"]) == ("approved", LATE_CAPTURE, 1.0)
    assert (await client.post("/undo", json={}, headers=headers(client))).status == 200
    assert state(db, target) == "unavailable" and store.repair_row(db, target)["replacement"] is None


async def test_check_asks_again_each_time_and_save_uses_what_was_shown(client, db):
    """Pressing Check again after the archive failed must ask again, not replay the failure; Save then stores
    what the curator saw checked, without asking once more."""
    from linkkeeper.desk.review import CLIENT

    target, capture = f"r{unavailable(db)}", f"https://web.archive.org/web/{LATE_CAPTURE}/{GLOBE_ELA}"
    assert (await verify(client, target, capture))[1]["ok"]
    verifier = client.server.app[CLIENT]["verifier"]
    asked = []
    real = verifier.verify

    async def counted(link, value):
        asked.append(value)
        return await real(link, value)

    verifier.verify = counted
    assert (await verify(client, target, capture))[1]["ok"] and (await verify(client, target, capture))[1]["ok"]
    assert len(asked) == 2
    response = await client.post("/decide", json={"ids": [target], "action": "edit", "replacement": capture},
                                 headers=headers(client))
    assert response.status == 200 and len(asked) == 2, await response.text()


async def test_an_inexact_timestamp_saves_the_capture_the_archive_has(client, db):
    target = unavailable(db)
    status, body = await verify(client, f"r{target}", f"https://web.archive.org/web/20120901000000/{GLOBE_ELA}")
    assert body["ok"] and body["replacement"] == f"https://web.archive.org/web/{LATE_CAPTURE}/{GLOBE_ELA}"
    assert any("the nearest is the capture of 2012-08-28 12:00" in line["text"] for line in body["lines"])


async def test_a_nullified_link_is_fixed_with_the_article_url(client, db):
    link = link_of(db, "Omnibus budget bill two tabled in the Commons")
    status, body = await verify(client, f"l{link}", OMNIBUS)
    # The article is gone from the web; its capture nearest the post holds the post's text.
    assert status == 200 and body["ok"], body
    assert body["replacement"].startswith("https://web.archive.org/web/20120914") and body["replacement"].endswith(OMNIBUS)
    response = await client.post("/decide", json={"ids": [f"l{link}"], "action": "edit", "replacement": OMNIBUS},
                                 headers=headers(client))
    assert response.status == 200
    repair = store.repair_row(db, store.repair_for_link(db, link))
    assert (repair["state"], repair["url"], repair["replacement"]) == ("proposed", OMNIBUS, body["replacement"])
    assert (await client.post("/undo", json={}, headers=headers(client))).status == 200
    assert store.repair_for_link(db, link) is None  # the repair the edit made is gone again


async def test_a_nullified_article_still_online_is_linked_live(client, db):
    link = link_of(db, "Ethics commissioner opens probe into minister")
    status, body = await verify(client, f"l{link}", ETHICS)
    assert body["ok"] and body["replacement"] == ETHICS and body["label"] == "live page"
    assert any("of the post's text found on the page" in line["text"] for line in body["lines"])


async def test_a_live_replacement_is_probed_like_check_does(client, db):
    target = unavailable(db)
    dead = "http://www.cbc.ca/news/politics/story/2013/03/27/pol-un-drought-convention.html"
    status, body = await verify(client, f"r{target}", dead)
    assert not body["ok"] and "does not work now: dead" in body["reason"]
    status, body = await verify(client, f"r{target}", UNRELATED_PAGE)  # alive, but about something else
    assert not body["ok"] and "of the text the post reproduces" in body["reason"]
    status, body = await verify(client, f"r{target}", "javascript:alert(1)")
    assert not body["ok"] and not body["saveable"] and "http://" in body["reason"]


# --- hostile requests: a clear 400, never a 500 -------------------------------------------------------------

async def test_deeply_nested_json_is_a_400(client, db):
    deep = "[" * 30_000 + "]" * 30_000  # 60 KB, under the body limit
    for path in ("/decide", "/bulk-approve", "/verify", "/later", "/undo"):
        response = await client.post(path, data=deep, headers=headers(client, **{"Content-Type": "application/json"}))
        assert response.status == 400 and "nested too deeply" in (await response.json())["error"], path


async def test_ids_beyond_sqlite_are_a_400(client, db):
    post = lambda path, body: client.post(path, json=body, headers=headers(client))  # noqa: E731
    for body in ({"ids": [10 ** 23], "action": "approve"}, {"ids": [10 ** 23], "action": "not-dead"},
                 {"ids": [-1], "action": "reject"}, {"ids": [f"r{10 ** 23}"], "action": "edit", "replacement": "x"}):
        response = await post("/decide", body)
        assert response.status == 400 and "not a repair id" in (await response.json())["error"], body
    response = await post("/bulk-approve", {"min_confidence": 0.5, "ids": [10 ** 23]})
    assert response.status == 400
    response = await post("/verify", {"key": 10 ** 23, "replacement": CBC_CRIME_CAPTURE})
    assert response.status == 400
    response = await client.get(f"/compare/{10 ** 23}", headers=headers(client))
    assert response.status == 404
    assert list(store.decision_rows(db)) == []


async def test_compare_needs_the_page_token(client, db):
    """Another web page cannot make the server spend archive requests (an <img> or a fetch sends no token)."""
    target = curator.review_queue(db)[0]["id"]
    assert (await client.get(f"/compare/{target}")).status == 403
    cross = headers(client, **{"Sec-Fetch-Site": "cross-site"})
    assert (await client.get(f"/compare/{target}", headers=cross)).status == 403
    assert (await client.get(f"/compare/{target}", headers=headers(client, Origin="http://evil.example"))).status == 403
    for spelt in (f"//compare/{target}", f"/compare/{target}/", f"/compare/%{ord(str(target)[0]):02X}{str(target)[1:]}"):
        raw = str(client.make_url("/")).rstrip("/") + spelt  # as sent, not rewritten by the test client
        assert (await client.session.get(raw)).status == 403, spelt
    assert (await client.head(f"/compare/{target}")).status == 403
    assert not client.server.app[CACHE]  # the archive was asked nothing


async def test_compare_marks_the_post_text_in_the_capture(client, db):
    target = curator.review_queue(db)[0]["id"]
    body = await (await client.get(f"/compare/{target}", headers=headers(client))).json()
    assert "<mark>" in body["capture_html"] and "<mark>" in body["post_html"] and body["shared"] > 0.9
    assert (await client.get("/compare/999999", headers=headers(client))).status == 404


async def test_compare_survives_an_unreachable_archive(aiohttp_client, review_db, review_settings, db):
    from linkkeeper.sim.servers import closed_port

    down = f"http://127.0.0.1:{closed_port()}"
    settings = review_settings.replace(wayback_replay_url=f"{down}/web/", wayback_cdx_url=f"{down}/cdx",
                                       wayback_availability_url=f"{down}/available")
    client = await aiohttp_client(create_app(review_db, settings, token=TOKEN))
    target = curator.review_queue(db)[0]["id"]
    body = await (await client.get(f"/compare/{target}", headers=headers(client))).json()
    assert "Could not read the capture" in body["capture_html"]
    status, body = await verify(client, f"r{unavailable(db)}", f"https://web.archive.org/web/{LATE_CAPTURE}/{GLOBE_ELA}")
    assert not body["ok"] and "could not ask the Wayback Machine" in body["reason"]


def test_loopback_names():
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.4")
