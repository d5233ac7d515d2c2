"""Working through 200 links on the review page, in a real headless Chromium: how long the page takes to load,
to filter, to bulk-approve the filtered links (with its count) and to undo, and whether it still fits a phone.

    python bench/review_200.py [--copies 12] [--chromium /usr/bin/chromium]

It builds the demo with every proposal left for review, then copies each post that needs a person (its post,
link and repair) until the queue holds about 200 links, serves the review page on 127.0.0.1 (no archive
behind it: the comparison pane is not what is measured) and prints the figures. Needs Playwright for Python
(`pip install -e '.[test]'`); it never downloads a browser.
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from pathlib import Path

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def grow(db_path: Path, copies: int) -> None:
    """Copy every post whose link needs a person `copies` times (new post, link and repair ids)."""
    db = sqlite3.connect(db_path)
    db.row_factory = sqlite3.Row
    rows = db.execute("SELECT r.id FROM repairs r WHERE r.state IN ('proposed', 'unavailable')").fetchall()
    nullified = db.execute("SELECT l.id FROM links l LEFT JOIN repairs r ON r.link_id = l.id WHERE r.id IS NULL "
                           "AND l.nullified_reason IS NOT NULL AND l.known_url IS NULL").fetchall()

    def copy(table: str, row: sqlite3.Row, **changes) -> int:
        values = dict(row) | changes
        cursor = db.execute(f"INSERT INTO {table} ({', '.join(values)}) VALUES ({', '.join('?' * len(values))})",
                            list(values.values()))
        return cursor.lastrowid

    for n in range(1, copies):
        for (repair_id,) in rows:
            repair = db.execute("SELECT * FROM repairs WHERE id = ?", [repair_id]).fetchone()
            link = db.execute("SELECT * FROM links WHERE id = ?", [repair["link_id"]]).fetchone()
            post = db.execute("SELECT * FROM posts WHERE id = ?", [repair["post_id"]]).fetchone()
            copy("posts", post, id=f"{post['id']}-{n}")
            copy("links", link, id=f"{link['id']}-{n}", post_id=f"{post['id']}-{n}")
            fields = {k: repair[k] for k in repair.keys() if k != "id"}
            fields |= {"link_id": f"{link['id']}-{n}", "post_id": f"{post['id']}-{n}"}
            db.execute(f"INSERT INTO repairs ({', '.join(fields)}) VALUES ({', '.join('?' * len(fields))})",
                       list(fields.values()))
        for (link_id,) in nullified:
            link = db.execute("SELECT * FROM links WHERE id = ?", [link_id]).fetchone()
            post = db.execute("SELECT * FROM posts WHERE id = ?", [link["post_id"]]).fetchone()
            copy("posts", post, id=f"{post['id']}-{n}")
            copy("links", link, id=f"{link['id']}-{n}", post_id=f"{post['id']}-{n}")
    db.commit()
    db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=12, help="copies of each waiting link (default 12: ~200)")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()

    from playwright.sync_api import expect, sync_playwright

    from linkkeeper import store
    from linkkeeper.demo import run_demo
    from linkkeeper.desk.review import create_app
    from linkkeeper.settings import Settings
    from linkkeeper.sim.archive import settings_for
    from linkkeeper.sim.servers import BackgroundServer, closed_port

    out = Path(tempfile.mkdtemp(prefix="review-200-"))
    summary = run_demo(out, echo=None, auto_approve_confidence=1.01, recover=False)
    db_path = Path(summary["database"])
    grow(db_path, args.copies)
    settings = Settings(db=str(db_path), total_timeout=2, retries=0).replace(
        **settings_for(f"http://127.0.0.1:{closed_port()}"))
    with BackgroundServer(create_app(db_path, settings)) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
        for width in (1366, 390):
            page = browser.new_page(viewport={"width": width, "height": 900})
            started = time.perf_counter()
            page.goto(base + "/")
            page.wait_for_selector("li.item.selected")
            loaded = time.perf_counter() - started
            total = page.locator("#queue li.item").count()
            scroll = page.evaluate("document.scrollingElement.scrollWidth")
            if not page.locator("#filters").evaluate("e => e.open"):
                page.locator("#filters summary").click()
            started = time.perf_counter()
            page.locator("#f-outlet").select_option("cbc")
            shown = int(page.locator("#shown").inner_text())
            filtered = time.perf_counter() - started
            page.locator("#threshold").fill("0.8")
            page.get_by_role("button", name="Bulk approve…").click()
            question = page.locator("#confirm-text").inner_text()
            started = time.perf_counter()
            page.locator("#confirm-yes").click()
            expect(page.locator("#flash")).to_contain_text("Approved", timeout=30000)
            approved = time.perf_counter() - started
            started = time.perf_counter()
            page.get_by_role("button", name="Undo last").click()
            expect(page.locator("#flash")).to_contain_text("Undone", timeout=30000)
            undone = time.perf_counter() - started
            waiting = store.open_db(db_path).execute("SELECT count(*) FROM repairs WHERE state = 'approved'").fetchone()[0]
            print(f"{width} px: {total} links; loaded in {loaded:.2f} s; page scroll width {scroll} px; "
                  f"outlet filter -> {shown} shown in {filtered * 1000:.0f} ms; asked \"{question}\"; "
                  f"approved in {approved:.2f} s; undone in {undone:.2f} s ({waiting} approved after undo)")
            page.close()
        browser.close()


if __name__ == "__main__":
    main()
