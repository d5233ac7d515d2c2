"""Screenshots of the review page and of report.html, from the offline demo, in a real headless Chromium, at a
laptop's width (1366 px) and a phone's (390 px).

    python bench/screenshots.py --out reports/

Needs Playwright for Python (`pip install -e '.[test]'`) and a Chromium at /usr/bin/chromium (Debian's
`chromium` package; `--chromium PATH` for another). It never downloads a browser. It builds the demo with
every proposal left for review and the nullified links not yet looked up, serves the review page (and the
simulated web and Wayback Machine its checks ask) on 127.0.0.1, pastes a capture for the link the archive
found nothing for and checks it, then makes some decisions and writes the report again, so the report shows
what changed since the previous one. Writes, to --out:

    review-1366.png, review-390.png                the review page (the top of the queue)
    review-check-1366.png, review-check-390.png    a pasted capture checked against the post, before saving
    review-390-full.png                            the whole review page on a phone
    report-1366.png, report-390.png                the report's first screen: what needs you, the figures
    report-1366-full.png, report-390-full.png      the whole report

and prints, for each page and width, the page's scroll width (at most the viewport's: no sideways scrolling).
"""

from __future__ import annotations

import argparse
from pathlib import Path

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
WIDTHS = (1366, 390)
HEIGHTS = {1366: 900, 390: 844}
# A capture of the article whose link found nothing (the demo's "nocapture" post), added to the simulated
# archive after the demo's repair ran (as the real archive gains captures): pasted into the review page, it is
# checked against the post's text.
UNAVAILABLE_CAPTURE = ("https://web.archive.org/web/20120828120000/"
                       "http://www.theglobeandmail.com/news/national/experimental-lakes-closure/article4501234/")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="reports", type=Path, help="where the screenshots go (default: reports/)")
    parser.add_argument("--chromium", default="/usr/bin/chromium", help="the Chromium to drive")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    from linkkeeper import store
    from linkkeeper.demo import SAMPLE_POSTS, build_world, run_demo
    from linkkeeper.desk import decisions as curator
    from linkkeeper.desk.report import write_reports
    from linkkeeper.desk.review import create_app
    from linkkeeper.settings import ConnectTo, Settings
    from linkkeeper.sim.archive import Capture, settings_for
    from linkkeeper.sim.servers import BackgroundServer, closed_port
    from linkkeeper.sim.web import article_html

    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    summary = run_demo(out, echo=None, auto_approve_confidence=1.01, recover=False)
    db_path = Path(summary["database"])
    web, archive, refused = build_world()
    lost = next(p for p in SAMPLE_POSTS if p.fate == "nocapture")
    archive.add(Capture(lost.url, UNAVAILABLE_CAPTURE.split("/")[4], body=article_html(lost.title, lost.paragraphs())))
    with BackgroundServer(web.app()) as web_base, BackgroundServer(archive.app()) as archive_base:
        dead = closed_port()
        rules = tuple(ConnectTo(h, "*", "127.0.0.1", dead) for h in sorted(refused))
        rules += (ConnectTo("*", "*", "127.0.0.1", int(web_base.rsplit(":", 1)[1])),)
        settings = Settings(db=str(db_path), connect_to=rules).replace(**settings_for(archive_base))
        with BackgroundServer(create_app(db_path, settings)) as review_base, sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
            for width in WIDTHS:
                page = browser.new_page(viewport={"width": width, "height": HEIGHTS[width]})
                page.goto(review_base + "/")
                page.wait_for_selector("li.item.selected .capture-text mark")
                shot(page, out / f"review-{width}.png", "review")
                if width == 390:
                    shot(page, out / "review-390-full.png", "review, whole page", full=True)
                item = page.locator("li.item[data-kind='unavailable']")
                item.locator("input[name=replacement]").fill(UNAVAILABLE_CAPTURE)
                item.get_by_role("button", name="Check").click()
                page.wait_for_selector("li.item[data-kind='unavailable'] ul.result li.pass")
                item.scroll_into_view_if_needed()
                page.evaluate("el => el.scrollIntoView({block: 'start'})", item.element_handle())
                shot(page, out / f"review-check-{width}.png", "a pasted capture, checked")
                page.close()

            db = store.open_db(db_path)
            curator.bulk_approve(db, 0.9, note="checked the captures", origin="cli")
            write_reports(db, out)
            for width in WIDTHS:
                page = browser.new_page(viewport={"width": width, "height": HEIGHTS[width]})
                page.goto((out / "report.html").resolve().as_uri())
                shot(page, out / f"report-{width}.png", "report")
                shot(page, out / f"report-{width}-full.png", "report, whole page", full=True)
                page.close()
            browser.close()


def shot(page, path: Path, what: str, *, full: bool = False) -> None:
    page.screenshot(path=str(path), full_page=full)
    width = page.evaluate("document.scrollingElement.scrollWidth")
    viewport = page.viewport_size["width"]
    print(f"{what} at {viewport} px: {path} (scroll width {width} px{'' if width <= viewport else ': TOO WIDE'})")


if __name__ == "__main__":
    main()
