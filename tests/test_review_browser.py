"""The review page end to end in a real headless Chromium (Debian's /usr/bin/chromium driven by Playwright):
keyboard and buttons, every decision reaching the database, edits checked before they are saved, filters and
decisions on many links at once, the page at a phone's width, escaping, and CSRF. Playwright never
downloads a browser here; .ci/run installs Debian's chromium package."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from aiohttp import web
from playwright.sync_api import Page, expect, sync_playwright

from conftest import HOSTILE_TITLE, LATE_CAPTURE
from linkkeeper import store
from linkkeeper.desk.review import create_app
from linkkeeper.sim.servers import BackgroundServer

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
GLOBE_ELA = "http://www.theglobeandmail.com/news/national/experimental-lakes-closure/article4501234/"
FOUND_CAPTURE = f"https://web.archive.org/web/{LATE_CAPTURE}/{GLOBE_ELA}"
OTHER_CAPTURE = ("https://web.archive.org/web/20111004140200/"
                 "http://www.cbc.ca/news/politics/story/2011/10/03/crime-bill-second-reading.html")
OMNIBUS = "http://www.cbc.ca/news/politics/story/2012/09/14/pol-omnibus-budget-bill-two-tabled.html"
PHONE = {"width": 390, "height": 844}


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


def open_page(browser, base: str, viewport: dict):
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    page.dialogs, page.errors = [], []
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    page.on("console", lambda m: m.type == "error" and page.errors.append(m.text))
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.goto(base + "/")
    expect(page.locator("body")).to_have_attribute("data-ready", "1")
    return context, page


@pytest.fixture
def page(browser, server):
    context, page = open_page(browser, server, {"width": 1280, "height": 900})
    yield page
    context.close()


def queue_ids(page: Page) -> list[int]:
    """The repair ids of the proposed repairs, in queue order."""
    return page.locator("#queue li.item[data-kind='proposed']").evaluate_all("els => els.map(e => +e.dataset.id)")


def selected_id(page: Page) -> int:
    return int(page.locator("#queue li.item.selected").get_attribute("data-id"))


def state(db, repair_id: int) -> str:
    return store.repair_row(db, repair_id)["state"]


def unavailable_id(db) -> int:
    return db.execute("SELECT id FROM repairs WHERE state = 'unavailable'").fetchone()[0]


def link_of(db, title: str) -> str:
    return db.execute("SELECT l.id FROM links l JOIN posts p ON p.id = l.post_id WHERE p.title = ? "
                      "AND l.role = 'original'", [title]).fetchone()[0]


def unexpected(errors: list[str]) -> list[str]:
    # A refused request is answered 4xx, which Chromium logs; everything else would be a fault of the page.
    return [e for e in errors if not any(f"status of {code}" in e for code in (400, 409, 422))]


def test_the_page_loads_with_the_hostile_title_as_text(page, db):
    expect(page.locator("#queue li.item")).to_have_count(18)
    expect(page.locator("#pending")).to_have_text("18")
    titles = page.locator("#queue li.item .title").all_inner_texts()
    assert HOSTILE_TITLE in titles
    assert page.evaluate("window.__pwned") is None and page.dialogs == []
    # The selected repair shows the post's text beside the capture's, their shared words marked.
    expect(page.locator("li.item.selected .capture-text mark").first).to_be_visible()
    expect(page.locator("li.item.selected .post-text mark").first).to_be_visible()
    assert page.errors == []  # nothing blocked by the page's own Content Security Policy, no script errors


def test_keyboard_approve_reject_later_and_undo(page, db):
    ids = queue_ids(page)
    flash = page.locator("#flash")

    page.keyboard.press("a")
    expect(flash).to_have_text(f"Approved repair #{ids[0]}")
    expect(page.locator("#queue li.item")).to_have_count(17)
    assert state(db, ids[0]) == "approved"

    page.keyboard.press("j")
    assert selected_id(page) == ids[2]
    page.keyboard.press("r")
    expect(flash).to_have_text(f"Rejected repair #{ids[2]}")
    assert state(db, ids[2]) == "rejected" and state(db, ids[1]) == "proposed"

    page.keyboard.press("k")
    assert selected_id(page) == ids[1]
    page.keyboard.press("l")  # later: to the end of the queue
    expect(flash).to_contain_text("end of the queue")
    assert page.locator("#queue li.item").last.get_attribute("data-id") == str(ids[1])
    assert state(db, ids[1]) == "proposed"

    page.keyboard.press("u")
    expect(flash).to_have_text(f"Undone: reject #{ids[2]}")
    page.keyboard.press("u")
    expect(flash).to_have_text(f"Undone: approve #{ids[0]}")
    expect(page.locator("#queue li.item")).to_have_count(18)
    assert [state(db, i) for i in ids[:3]] == ["proposed"] * 3
    assert all(d["undone_at"] and d["origin"] == "review" for d in store.decision_rows(db))
    assert unexpected(page.errors) == []


def test_an_unavailable_link_is_fixed_by_pasting_a_capture_then_undone(page, db):
    target = unavailable_id(db)
    item = page.locator(f"li.item[data-id='{target}']")
    expect(item.locator(".kind")).to_have_text("no capture found")
    field = item.locator("input[name=replacement]")
    expect(field).to_be_visible()  # nothing proposed: the paste field is open
    field.fill(FOUND_CAPTURE)
    field.press("Enter")  # Enter checks
    expect(item.locator("ul.result li.pass")).to_have_count(2)
    expect(item.locator("ul.result")).to_contain_text("a capture of the dead link's URL")
    expect(item.locator("ul.result")).to_contain_text("100% of the post's text found in the capture")
    expect(item.locator(".capture-text mark").first).to_be_visible()  # the capture beside the post, before saving
    assert state(db, target) == "unavailable"  # checking saves nothing
    save = item.get_by_role("button", name="Save and approve")
    expect(save).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#flash")).to_contain_text(f"Saved and approved the replacement of repair #{target}")
    row = store.repair_row(db, target)
    assert (row["state"], row["replacement"], row["capture_timestamp"]) == ("approved", FOUND_CAPTURE, LATE_CAPTURE)
    expect(page.locator(f"li.item[data-id='{target}']")).to_have_count(0)

    page.get_by_role("button", name="Undo last").click()
    expect(page.locator("#flash")).to_have_text(f"Undone: edit #{target}, approve #{target}")
    row = store.repair_row(db, target)
    assert (row["state"], row["replacement"]) == ("unavailable", None)
    expect(page.locator(f"li.item[data-id='{target}']")).to_have_count(1)
    assert unexpected(page.errors) == []


def test_a_nullified_link_is_fixed_by_pasting_the_article_url_then_undone(page, db):
    link = link_of(db, "Omnibus budget bill two tabled in the Commons")
    item = page.locator(f"li.item[data-link='{link}']")
    expect(item.locator(".kind")).to_have_text("nullified, no URL found")
    item.locator("input[name=replacement]").fill(OMNIBUS)
    item.get_by_role("button", name="Check").click()
    expect(item.locator("ul.result")).to_contain_text("a capture of " + OMNIBUS)
    expect(item.locator("ul.result")).to_contain_text("100% of the post's text found in the capture")
    item.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#flash")).to_contain_text("Saved the replacement of “Omnibus budget bill two tabled")
    repair_id = store.repair_for_link(db, link)
    row = store.repair_row(db, repair_id)
    assert row["state"] == "proposed" and row["url"] == OMNIBUS and row["replacement"].endswith("/" + OMNIBUS)
    # It is now a proposed repair like the others, waiting for approval.
    expect(page.locator(f"li.item[data-id='{repair_id}'] .kind")).to_have_text("replacement proposed")

    page.keyboard.press("u")
    expect(page.locator("#flash")).to_contain_text(f"Undone: edit #{repair_id}")
    assert store.repair_for_link(db, link) is None
    expect(page.locator(f"li.item[data-link='{link}'] .kind")).to_have_text("nullified, no URL found")
    assert unexpected(page.errors) == []


def test_an_edit_with_a_capture_of_another_url_is_refused_unless_a_note_says_why(page, db):
    ids = queue_ids(page)
    target = ids[3]
    before = store.repair_row(db, target)["replacement"]
    item = page.locator(f"li.item[data-id='{target}']")
    item.click()
    page.keyboard.press("e")
    field = item.locator("input[name=replacement]")
    expect(field).to_be_focused()
    field.fill("javascript:alert(1)")
    field.press("Enter")
    expect(item.locator("form.edit .error")).to_contain_text("http:// or https://")
    expect(item.locator("div.save")).to_be_hidden()  # not a URL: nothing can save it
    field.fill(OTHER_CAPTURE)
    field.press("Enter")
    expect(item.locator("ul.result li.fail").first).to_contain_text("not of the dead link's URL")
    expect(item.locator("form.edit .error")).to_contain_text("Not saved")
    item.get_by_role("button", name="Save anyway", exact=True).click()
    expect(item.locator("form.edit .error")).to_contain_text("Say why")
    assert store.repair_row(db, target)["replacement"] == before and list(store.decision_rows(db)) == []

    item.locator("input[name=why]").fill("the outlet moved the story there")
    item.get_by_role("button", name="Save anyway", exact=True).click()
    expect(page.locator("#flash")).to_contain_text("although a check failed")
    assert store.repair_row(db, target)["replacement"] == OTHER_CAPTURE
    assert next(store.decision_rows(db, newest_first=True))["note"] == "the outlet moved the story there"
    page.keyboard.press("u")
    expect(page.locator("#flash")).to_have_text(f"Undone: edit #{target}")
    assert store.repair_row(db, target)["replacement"] == before and state(db, target) == "proposed"
    assert unexpected(page.errors) == []


def test_a_filtered_bulk_approval_says_how_many_then_undo(page, db):
    page.locator("#f-outlet").select_option("cbc")
    shown = page.locator("#queue li.item:visible")
    cbc = shown.evaluate_all("els => els.map(e => [e.dataset.id, e.dataset.kind, +e.dataset.confidence])")
    assert cbc and {o for o in page.locator("#queue li.item:visible").evaluate_all("els => els.map(e => e.dataset.outlet)")} == {"cbc"}
    expect(page.locator("#shown")).to_have_text(str(len(cbc)))
    sure = sorted(int(i) for i, kind, c in cbc if kind == "proposed" and c >= 0.8)
    assert sure and len(sure) < len(store.pending_repairs(db, min_confidence=0.8))  # the filter narrows it
    page.locator("#threshold").fill("0.8")
    page.get_by_role("button", name="Bulk approve…").click()
    expect(page.locator("#confirm-text")).to_have_text(
        f"Approve {len(sure)} repair{'s' if len(sure) > 1 else ''} with confidence ≥ 0.8 among the {len(cbc)} shown?")
    assert [r[0] for r in db.execute("SELECT id FROM repairs WHERE state = 'approved'")] == []  # it asks first
    page.get_by_role("button", name=f"Approve {len(sure)}").click()
    expect(page.locator("#flash")).to_contain_text(f"Approved {len(sure)} repairs")
    assert sorted(r[0] for r in db.execute("SELECT id FROM repairs WHERE state = 'approved'")) == sure
    expect(page.locator("#f-outlet")).to_have_value("cbc")  # the filter holds across the refresh
    page.get_by_role("button", name="Undo last").click()
    expect(page.locator("#flash")).to_contain_text("Undone")
    assert db.execute("SELECT count(*) FROM repairs WHERE state = 'approved'").fetchone()[0] == 0
    assert page.dialogs == []


def test_select_many_then_reject_them_at_once(page, db):
    ids = queue_ids(page)
    for repair_id in ids[:3]:
        page.locator(f"li.item[data-id='{repair_id}'] input.pick").check()
    nullified = page.locator("li.item[data-kind='no-url'] input.pick").first
    nullified.check()  # nothing to decide on it: left out, and said so
    expect(page.locator("#picked")).to_have_text("4 selected")
    page.get_by_role("button", name="Reject 3 selected").click()
    expect(page.locator("#confirm-text")).to_contain_text("Reject 3 selected repairs?")
    expect(page.locator("#confirm-text")).to_contain_text("1 selected have no replacement")
    page.get_by_role("button", name="Reject 3", exact=True).click()
    expect(page.locator("#flash")).to_contain_text("Rejected repair")
    assert [state(db, i) for i in ids[:3]] == ["rejected"] * 3
    assert len({d["batch"] for d in store.decision_rows(db)}) == 1
    expect(page.locator("#picked")).to_have_text("1 selected")


def test_recent_decisions_name_the_post_in_local_time(page, db):
    ids = queue_ids(page)
    page.locator(f"li.item[data-id='{ids[1]}']").get_by_role("button", name="Not dead").click()
    expect(page.locator("#flash")).to_contain_text(f"Marked not dead: #{ids[1]}")
    row = store.repair_row(db, ids[1])
    assert row["state"] == "rejected" and store.url_mark(db, row["url_normalized"])["mark"] == "not-dead"
    title = db.execute("SELECT p.title FROM repairs r JOIN posts p ON p.id = r.post_id WHERE r.id = ?", [ids[1]]).fetchone()[0]
    recent = page.locator("#recent li").first
    expect(recent).to_contain_text(f"not-dead {title}")
    iso = recent.locator("time").get_attribute("datetime")
    assert recent.locator("time").inner_text() != iso and "T" not in recent.locator("time").inner_text()


@pytest.mark.parametrize("path", ["/", "report"])
def test_a_phone_never_scrolls_sideways(browser, server, review_db, tmp_path, path):
    if path == "report":
        from linkkeeper.desk.report import write_reports

        paths = write_reports(store.open_db(review_db), tmp_path / "r")
        context = browser.new_context(viewport=PHONE)
        page = context.new_page()
        page.goto(paths["html"].resolve().as_uri())
    else:
        context, page = open_page(browser, server, PHONE)
        page.locator("li.item[data-kind='unavailable'] input[name=replacement]").fill(FOUND_CAPTURE)
        page.locator("li.item[data-kind='unavailable']").get_by_role("button", name="Check").click()
        expect(page.locator("li.item[data-kind='unavailable'] ul.result li.pass").first).to_be_visible()
    try:
        assert page.evaluate("document.scrollingElement.scrollWidth") <= 390
        if path == "report":
            # The charts scale to the screen; the table scrolls inside itself.
            widths = page.locator("figure svg").evaluate_all("els => els.map(e => e.getBoundingClientRect().width)")
            assert widths and max(widths) <= 390
            wrap = page.locator(".table-wrap")
            assert wrap.evaluate("e => e.scrollWidth > e.clientWidth") and wrap.evaluate("e => e.clientWidth <= 390")
            # ... and its columns stay readable: a title keeps whole words, it is not cut a syllable a line.
            titles = page.locator("#links tbody td:nth-child(2)").evaluate_all(
                "els => els.map(e => e.getBoundingClientRect().width)")
            assert min(titles) >= 180
        else:
            main = page.locator("ol#queue").evaluate("e => e.getBoundingClientRect().width")
            assert main >= 330  # the queue takes the screen, not a sliver of it
    finally:
        context.close()


def test_the_report_sorts_repairs_as_numbers_from_the_keyboard(browser, review_db, tmp_path):
    from linkkeeper.desk.report import write_reports

    paths = write_reports(store.open_db(review_db), tmp_path / "r")
    page = browser.new_page()
    try:
        page.goto(paths["html"].resolve().as_uri())
        expect(page.locator("#shown")).to_have_text("30")
        expect(page.locator("#total")).to_have_text("30")
        heading = page.locator("th").filter(has_text="Repair").locator("button")
        heading.focus()
        page.keyboard.press("Enter")
        ids = [int(t.split()[0][1:]) for t in page.locator("#links tbody td:last-child").all_inner_texts() if t.strip()]
        assert ids == sorted(ids) and len(ids) == 12 and ids[:3] == [1, 2, 3]
        page.locator("#fcat").select_option("broken")
        shown = page.locator("#links tbody tr:visible").count()
        expect(page.locator("#shown")).to_have_text(str(shown))
    finally:
        page.close()


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


def test_another_site_cannot_make_the_server_fetch_captures(browser, review_db, review_settings, db):
    """GET /compare spends archive requests: a page elsewhere that points an image at it is refused, and the
    server asks the archive nothing (its capture cache stays empty)."""
    from linkkeeper.desk.review import CACHE

    target = min(r["id"] for r in store.pending_repairs(db))
    app = create_app(review_db, review_settings)
    evil = web.Application()

    async def attack(request):
        return web.Response(text=f"<img src='{server}/compare/{target}'>", content_type="text/html")

    evil.router.add_get("/", attack)
    with BackgroundServer(app) as server, BackgroundServer(evil, host="127.0.0.1") as evil_base:
        page = browser.new_page()
        statuses = []
        page.on("response", lambda r: "/compare/" in r.url and statuses.append(r.status))
        try:
            with page.expect_event("requestfailed", lambda r: "/compare/" in r.url):  # the browser's ORB drops the answer
                page.goto(evil_base.replace("127.0.0.1", "localhost") + "/")
        finally:
            page.close()
        assert statuses in ([], [403]) and not app[CACHE]
        # The review page itself may (the control): the same request with its token fills the cache.
        context, own = open_page(browser, server, {"width": 1280, "height": 900})
        expect(own.locator("li.item.selected .capture-text mark").first).to_be_visible()
        context.close()
        assert app[CACHE]


def test_another_page_a_recovery_lists_is_checked_and_saved_from_its_use_button(page, db):
    """A recovered link's proposal lists the pages the blogger may have linked instead (a second page with
    the post's text, the article's address in another section): each is shown with what it held, and its
    Use button puts its capture in the edit form and checks it against the post, as a pasted URL is."""
    repair_id = queue_ids(page)[1]
    row = store.repair_row(db, repair_id)
    other = row["url"].replace("://", "://other.", 1)
    evidence = dict(json.loads(row["evidence"] or "{}"),
                    recovered_url=row["url"],
                    candidates=[{"url": row["url"], "text_similarity": 1.0, "verified": True},
                                {"url": other, "archive_url": row["replacement"], "text_similarity": 1.0,
                                 "verified": True, "rival": "the article's address in another section"},
                                {"url": row["url"] + "x", "text_similarity": 0.1, "verified": True}])
    db["repairs"].update(repair_id, {"evidence": json.dumps(evidence)})
    page.reload()
    expect(page.locator("body")).to_have_attribute("data-ready", "1")
    item = page.locator(f"li.item[data-id='{repair_id}']")
    others = item.locator("ul.others li")
    expect(others).to_have_count(1)  # the page holding a tenth of the text is not one to choose
    expect(others.first).to_contain_text(other)
    expect(others.first).to_contain_text("100% of the post's text, in its capture · the article's address in another section")
    others.first.get_by_role("button", name="Use").click()
    expect(item.locator("input[name=replacement]")).to_have_value(row["replacement"])
    expect(item.locator("ul.result")).to_contain_text("of the post's text found in the capture")
    item.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#flash")).to_contain_text("Saved the replacement of")
    assert store.repair_row(db, repair_id)["replacement"] == row["replacement"]
    assert unexpected(page.errors) == []
