"""Screenshots of report.html and of the review page, from the offline demo, in a real headless Chromium.

    python bench/screenshots.py --out reports/

Needs Playwright for Python (`pip install -e '.[test]'`) and a Chromium at /usr/bin/chromium (Debian's
`chromium` package; `--chromium PATH` for another). It never downloads a browser. It builds the demo with
every proposal left for review, serves the review page (and the simulated Wayback Machine its capture texts
come from) on 127.0.0.1, then makes some decisions and writes the report again, so the report shows what
changed since the previous one. Writes review.png, report.png, report-full.png and the demo's files to --out.
"""

from __future__ import annotations

import argparse
from pathlib import Path

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="reports", type=Path, help="where the screenshots go (default: reports/)")
    parser.add_argument("--chromium", default="/usr/bin/chromium", help="the Chromium to drive")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    from linkkeeper import store
    from linkkeeper.desk import decisions as curator
    from linkkeeper.demo import build_world, run_demo
    from linkkeeper.desk.report import write_reports
    from linkkeeper.desk.review import create_app
    from linkkeeper.settings import Settings
    from linkkeeper.sim.archive import settings_for
    from linkkeeper.sim.servers import BackgroundServer

    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    summary = run_demo(out, echo=None, auto_approve_confidence=1.01)
    db_path = Path(summary["database"])
    _web, archive, _refused = build_world()
    with BackgroundServer(archive.app()) as archive_base:
        settings = Settings(db=str(db_path)).replace(**settings_for(archive_base))
        with BackgroundServer(create_app(db_path, settings)) as review_base, sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1360, "height": 1000})
            page.goto(review_base + "/")
            page.wait_for_selector("li.item.selected .capture-text mark")
            page.screenshot(path=str(out / "review.png"))
            print(f"review: {out / 'review.png'}")

            db = store.open_db(db_path)
            curator.bulk_approve(db, 0.9, note="checked the captures", origin="cli")
            low = [r["id"] for r in curator.review_queue(db)]
            curator.decide(db, low, "reject", note="the capture is another version of the page")
            write_reports(db, out)
            page.set_viewport_size({"width": 1360, "height": 1100})
            page.goto((out / "report.html").resolve().as_uri())
            page.screenshot(path=str(out / "report.png"))
            page.screenshot(path=str(out / "report-full.png"), full_page=True)
            print(f"report: {out / 'report.png'}, {out / 'report-full.png'}")
            browser.close()


if __name__ == "__main__":
    main()
