"""The review page end to end in a real headless Chromium (Debian's /usr/bin/chromium driven by Playwright):
keyboard and buttons, every decision reaching the database, escaping, and CSRF. Playwright never downloads
a browser here; .ci/run installs Debian's chromium package."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from aiohttp import web
from playwright.sync_api import Page, expect, sync_playwright

from conftest import HOSTILE_TITLE
from linkkeeper import store
from linkkeeper.desk.review import create_app
from linkkeeper.sim.servers import BackgroundServer

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARCHIVE_URL = "https://web.archive.org/web/20111005120000/http://www.cbc.ca/news/politics/story/moved.html"


pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does)"
        # CI installs the browser and sets LINKKEEPER_REQUIRE_BROWSER=1, so a missing one fails there.
        if os.environ.get("LINKKEEPER_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def server(review_db, review_settings):
    with BackgroundServer(create_app(review_db, review_settings)) as base:
        yield base


@pytest.fixture
def db(review_db):
    return store.open_db(review_db)


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.dialogs, page.errors = [], []
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    page.on("console", lambda m: m.type == "error" and page.errors.append(m.text))
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.goto(server + "/")
    expect(page.locator("body")).to_have_attribute("data-ready", "1")
    yield page
    context.close()


def queue_ids(page: Page) -> list[int]:
    return page.locator("#queue li.item").evaluate_all("els => els.map(e => +e.dataset.id)")


def selected_id(page: Page) -> int:
    return int(page.locator("#queue li.item.selected").get_attribute("data-id"))


def state(db, repair_id: int) -> str:
    return store.repair_row(db, repair_id)["state"]


def test_the_page_loads_with_the_hostile_title_as_text(page, db):
    expect(page.locator("#queue li.item")).to_have_count(11)
    expect(page.locator("#pending")).to_have_text("11")
    titles = page.locator("#queue li.item .title").all_inner_texts()
    assert HOSTILE_TITLE in titles
    assert page.evaluate("window.__pwned") is None and page.dialogs == []
    # The selected repair shows the post's text beside the capture's, their shared words marked.
    expect(page.locator("li.item.selected .capture-text mark").first).to_be_visible()
    expect(page.locator("li.item.selected .post-text mark").first).to_be_visible()
    assert page.errors == []  # nothing blocked by the page's own Content Security Policy, no script errors


def test_keyboard_approve_reject_edit_and_undo(page, db):
    ids = queue_ids(page)
    flash = page.locator("#flash")

    page.keyboard.press("a")
    expect(flash).to_have_text(f"Approved repair #{ids[0]}")
    expect(page.locator("#queue li.item")).to_have_count(10)
    assert state(db, ids[0]) == "approved"

    page.keyboard.press("j")
    assert selected_id(page) == ids[2]
    page.keyboard.press("r")
    expect(flash).to_have_text(f"Rejected repair #{ids[2]}")
    assert state(db, ids[2]) == "rejected" and state(db, ids[1]) == "proposed"

    page.keyboard.press("k")
    assert selected_id(page) == ids[1]
    before = store.repair_row(db, ids[1])["replacement"]
    page.keyboard.press("e")
    field = page.locator("li.item.selected form.edit input")
    expect(field).to_be_focused()
    field.fill("javascript:alert(1)")
    field.press("Enter")
    expect(page.locator("li.item.selected form.edit .error")).to_contain_text("http:// or https://")
    assert store.repair_row(db, ids[1])["replacement"] == before and state(db, ids[1]) == "proposed"
    field.fill(ARCHIVE_URL)
    field.press("Enter")  # the form's first button: save and approve
    expect(flash).to_contain_text(f"Saved and approved the replacement of repair #{ids[1]}")
    assert store.repair_row(db, ids[1])["replacement"] == ARCHIVE_URL and state(db, ids[1]) == "approved"

    page.keyboard.press("u")  # the edit and its approval were one decision batch
    expect(flash).to_have_text(f"Undone: edit #{ids[1]}, approve #{ids[1]}")
    assert store.repair_row(db, ids[1])["replacement"] == before and state(db, ids[1]) == "proposed"
    page.keyboard.press("u")
    expect(flash).to_have_text(f"Undone: reject #{ids[2]}")
    page.keyboard.press("u")
    expect(flash).to_have_text(f"Undone: approve #{ids[0]}")
    expect(page.locator("#queue li.item")).to_have_count(11)
    assert [state(db, i) for i in ids[:3]] == ["proposed"] * 3
    assert all(d["undone_at"] and d["origin"] == "review" for d in store.decision_rows(db))
    assert [e for e in page.errors if "400 (Bad Request)" not in e] == []  # the refused edit answered 400


def test_buttons_edit_and_not_dead(page, db):
    ids = queue_ids(page)
    second = page.locator(f"#queue li.item[data-id='{ids[1]}']")
    second.get_by_role("button", name="Edit").click()
    second.locator("form.edit input").fill(ARCHIVE_URL)
    second.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#flash")).to_contain_text(f"Saved the replacement of repair #{ids[1]}")
    row = store.repair_row(db, ids[1])
    assert (row["replacement"], row["capture_timestamp"], row["state"]) == (ARCHIVE_URL, "20111005120000", "proposed")
    expect(page.locator(f"#queue li.item[data-id='{ids[1]}'] a.capture")).to_have_attribute("href", ARCHIVE_URL)

    page.locator(f"#queue li.item[data-id='{ids[3]}']").get_by_role("button", name="Not dead").click()
    expect(page.locator("#flash")).to_contain_text(f"Marked not dead: #{ids[3]}")
    row = store.repair_row(db, ids[3])
    assert row["state"] == "rejected" and store.url_mark(db, row["url_normalized"])["mark"] == "not-dead"
    expect(page.locator("#recent li").first).to_contain_text(f"not-dead #{ids[3]}")


def test_bulk_approve_above_a_confidence_then_undo(page, db):
    sure = {r["id"] for r in store.pending_repairs(db, min_confidence=0.8)}
    page.locator("#threshold").fill("0.8")
    page.get_by_role("button", name="Bulk approve").click()
    expect(page.locator("#flash")).to_contain_text(f"Approved {len(sure)} repairs")
    expect(page.locator("#queue li.item")).to_have_count(11 - len(sure))
    assert {r[0] for r in db.execute("SELECT id FROM repairs WHERE state = 'approved'")} == sure
    assert max(r["confidence"] for r in store.pending_repairs(db)) < 0.8
    page.get_by_role("button", name="Undo last").click()
    expect(page.locator("#queue li.item")).to_have_count(11)
    assert db.execute("SELECT count(*) FROM repairs WHERE state = 'approved'").fetchone()[0] == 0


def test_a_post_without_the_token_is_refused(page, db):
    target = queue_ids(page)[0]
    status = page.evaluate("""id => fetch('/decide', {method: 'POST', headers: {'Content-Type': 'application/json'},
                                  body: JSON.stringify({ids: [id], action: 'approve'})}).then(r => r.status)""", target)
    assert status == 403 and state(db, target) == "proposed"


def test_a_cross_site_form_cannot_decide(browser, server, db):
    """Another site (another origin on this machine) auto-submits a form at the review server."""
    target = min(r["id"] for r in store.pending_repairs(db))
    evil = web.Application()
    form = (f"<form id=f method=post enctype=text/plain action='{server}/decide'>"
            f"<input name='{{\"ids\":[{target}],\"action\":\"approve\",\"x\":\"' value='\"}}'></form>"
            "<script>document.getElementById('f').submit()</script>")
    async def attack(request):
        return web.Response(text=form, content_type="text/html")

    evil.router.add_get("/", attack)
    with BackgroundServer(evil, host="127.0.0.1") as evil_base:
        page = browser.new_page()
        try:
            with page.expect_response(lambda r: r.url.endswith("/decide")) as answer:
                page.goto(evil_base.replace("127.0.0.1", "localhost") + "/")
            assert answer.value.status == 403
        finally:
            page.close()
    assert state(db, target) == "proposed" and list(store.decision_rows(db)) == []
