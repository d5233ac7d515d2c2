"""The demo as a newcomer meets it (issue 13): `linkkeeper demo` run as a process, its whole output - a line
per stage, the nullified links it recovered, the next command to try - and `--leave-for-review`, which keeps
the simulated web and archive up under the review page until Ctrl-C."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import urllib.request

import pytest

from linkkeeper.demo import SAMPLE_POSTS


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("LINKKEEPER_")}


@pytest.fixture(scope="module")
def newcomer(tmp_path_factory):
    """`linkkeeper --db my-demo.db demo`, once, in an empty folder: (folder, the finished process)."""
    folder = tmp_path_factory.mktemp("newcomer")
    proc = subprocess.run([sys.executable, "-m", "linkkeeper", "--db", "my-demo.db", "demo"], cwd=folder,
                          capture_output=True, text=True, env=_env(), timeout=120)
    return folder, proc


def test_the_demo_prints_each_stage_the_recovered_links_and_what_to_try_next(newcomer):
    _folder, proc = newcomer
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "ingested 30 posts from sample-blog.xml: 30 Original Article links, 6 nullified"
    assert lines[1] == "checked 24 links: alive 8, blocked 1, dead 12, moved 2, unknown 1"
    assert re.fullmatch(r"repairs: 10 approved automatically, 1 for review, 1 with no usable capture "
                        r"\(\d+ archive requests\)", lines[2])
    # The HuffPost article waits for review: that outlet also files articles under writers' names, and the
    # writer's copy may be the one the blogger linked (see docs/rules.md, recovery).
    assert re.fullmatch(r"nullified links: 6 in the window, 5 recovered \(3 approved automatically, 2 for review\), "
                        r"1 not found \(\d+ archive requests\)", lines[3])
    # Each nullified post, with the article found for it.
    lost = [p for p in SAMPLE_POSTS if p.fate == "nullified"]
    for post, line in zip(lost, lines[4:10]):
        if post.archived and not post.also_at and post.outlet == "huffingtonpost":
            assert line == f"  {post.title}: {post.article} (for review)"
        elif post.archived and not post.also_at:
            assert line == f"  {post.title}: {post.article} (approved automatically)"
        elif post.also_at:
            assert line in (f"  {post.title}: {url} (for review)" for url in (post.article, post.also_at))
        else:
            assert line == f"  {post.title}: no capture holds the article (not found)"
    assert lines[10] == "patched export: reports/patched-export.xml (13 hrefs replaced; nothing else changed)"
    assert lines[11] == ("reports: reports/report.html (and reports/report.json, reports/report.csv, "
                         "reports/report.md)")
    assert lines[12] == "database: my-demo.db (open it with Datasette, or `linkkeeper --db my-demo.db status`)"
    assert lines[13:] == ["next: open reports/report.html in a browser, then try `linkkeeper demo "
                          "--leave-for-review` to decide the repairs yourself"]


def test_the_demo_keeps_its_database_where_the_global_db_says(newcomer):
    folder, _proc = newcomer
    assert (folder / "my-demo.db").stat().st_size > 0 and not (folder / "reports" / "demo.db").exists()
    with sqlite3.connect(folder / "my-demo.db") as db:
        recovered = db.execute("SELECT count(*) FROM repairs WHERE reason LIKE 'nullified%' AND state = 'approved'")
        assert recovered.fetchone()[0] == 3


def test_leave_for_review_serves_the_review_page_on_the_demo_world_until_ctrl_c(tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "linkkeeper", "demo", "--leave-for-review"], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env())
    try:
        lines = []
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            if line.startswith("next:"):
                break
        assert re.search(r"5 recovered \(0 approved automatically, 5 for review\)", "\n".join(lines))
        url = re.fullmatch(r"review: (http://127\.0\.0\.1:\d+/) \(Ctrl\+C to stop\)", lines[-2])[1]
        assert lines[-1] == ("next: decide the repairs in your browser, press Ctrl+C, then run "
                             "`linkkeeper --db reports/demo.db export -o reports/patched-export.xml`")
        with sqlite3.connect(tmp_path / "reports" / "demo.db") as db:
            (repair_id,) = db.execute("SELECT id FROM repairs WHERE reason LIKE 'nullified%' AND url LIKE "
                                      "'%cbc.ca%'").fetchone()
        # The comparison pane reads the capture from the demo's archive, still running (asked as the page
        # asks: with its token, which another site cannot read).
        page = urllib.request.urlopen(url, timeout=10).read().decode()
        token = re.search(r"<meta name='csrf-token' content='([^']+)'>", page)[1]
        ask = urllib.request.Request(f"{url}compare/{repair_id}", headers={"X-CSRF-Token": token})
        compared = json.loads(urllib.request.urlopen(ask, timeout=10).read())
        assert "Omnibus budget bill two tabled in the Commons" in compared["capture_html"]
        assert "ArchiveUnavailableError" not in json.dumps(compared)
    finally:
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=20)
    assert proc.returncode == 130
    assert err.strip() == ("linkkeeper: stopped by SIGINT: review ended; every decision is saved. Next: "
                           "`linkkeeper --db reports/demo.db export -o reports/patched-export.xml`")
