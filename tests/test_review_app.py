"""The review server over HTTP: the page, its guard (Host, Origin, CSRF token, JSON), every decision and the
capture comparison. The same page in a real browser is tested in test_review_browser.py."""

from __future__ import annotations

import re

import pytest

from conftest import HOSTILE_TITLE
from linkkeeper import store
from linkkeeper.desk import decisions as curator
from linkkeeper.desk.review import TOKEN_HEADER, create_app, is_loopback

TOKEN = "test-token-0123456789"


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


async def test_the_page_lists_the_queue_by_impact_with_everything_escaped(client, db):
    response = await client.get("/")
    assert response.status == 200
    text = await response.text()
    csp = response.headers["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", csp).group(1)
    scripts = re.findall(r"<script([^>]*)>", text)
    assert scripts == [f" nonce='{nonce}'"]  # the page's own script only
    assert "&lt;script&gt;window.__pwned" in text and HOSTILE_TITLE not in text
    assert f"<meta name='csrf-token' content='{TOKEN}'>" in text
    ids = [int(i) for i in re.findall(r"<li class='item' data-id='(\d+)'", text)]
    assert ids == [r["id"] for r in curator.review_queue(db)] and len(ids) == 11
    assert response.headers["X-Frame-Options"] == "DENY"


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

    response = await post("/decide", {"ids": [queue[1]], "action": "edit", "replacement": "javascript:alert(1)"})
    assert response.status == 400 and "http://" in (await response.json())["error"]
    new = "https://web.archive.org/web/20120101000000/http://www.example.com/a.html"
    response = await post("/decide", {"ids": [queue[1]], "action": "edit", "replacement": new, "approve": True})
    assert response.status == 200
    assert store.repair_row(db, queue[1])["replacement"] == new and state(db, queue[1]) == "approved"

    response = await post("/decide", {"ids": [queue[2]], "action": "not-dead"})
    assert response.status == 200 and state(db, queue[2]) == "rejected"
    assert store.url_mark(db, store.repair_row(db, queue[2])["url_normalized"])["mark"] == "not-dead"

    assert (await post("/undo", {})).status == 200 and state(db, queue[2]) == "proposed"
    assert (await post("/undo", {})).status == 200 and state(db, queue[1]) == "proposed"
    assert (await post("/decide", {"ids": [999999], "action": "reject"})).status == 404
    assert (await post("/decide", {"ids": "1", "action": "reject"})).status == 400
    assert (await post("/decide", {"ids": [queue[3]], "action": "delete"})).status == 400

    expected = {r["id"] for r in store.pending_repairs(db, min_confidence=0.8)}
    response = await post("/bulk-approve", {"min_confidence": 0.8})
    body = await response.json()
    approved = {d["repair_id"] for d in store.decision_rows(db) if d["id"] in body["decisions"]}
    assert approved == expected and len(expected) >= 5
    assert all(state(db, i) == "approved" for i in approved)
    leftover = [r["confidence"] for r in store.pending_repairs(db)]
    assert leftover and max(leftover) < 0.8
    assert (await post("/bulk-approve", {"min_confidence": "high"})).status == 400


async def test_the_queue_fragment_follows_the_database(client, db):
    first = (await (await client.get("/queue")).json())
    target = curator.review_queue(db)[0]["id"]
    curator.decide(db, [target], "reject", origin="cli")
    second = await (await client.get("/queue")).json()
    assert second["pending"] == first["pending"] - 1
    assert f"data-id='{target}'" in first["html"] and f"data-id='{target}'" not in second["html"]
    assert f"reject #{target}" in second["recent"]


async def test_compare_marks_the_post_text_in_the_capture(client, db):
    target = curator.review_queue(db)[0]["id"]
    body = await (await client.get(f"/compare/{target}")).json()
    assert "<mark>" in body["capture_html"] and "<mark>" in body["post_html"] and body["shared"] > 0.9
    assert (await client.get("/compare/999999")).status == 404


async def test_compare_survives_an_unreachable_archive(aiohttp_client, review_db, review_settings, db):
    from linkkeeper.sim.servers import closed_port

    down = f"http://127.0.0.1:{closed_port()}"
    settings = review_settings.replace(wayback_replay_url=f"{down}/web/", wayback_cdx_url=f"{down}/cdx",
                                       wayback_availability_url=f"{down}/available")
    client = await aiohttp_client(create_app(review_db, settings, token=TOKEN))
    target = curator.review_queue(db)[0]["id"]
    body = await (await client.get(f"/compare/{target}")).json()
    assert "Could not read the capture" in body["capture_html"]


def test_loopback_names():
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.4")
