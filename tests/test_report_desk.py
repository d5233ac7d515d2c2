"""report.html, report.md, report.csv and report.json: figures, charts, what changed since the previous report,
`--since`, and escaping of everything an export can smuggle in."""

from __future__ import annotations

import csv
import io
import json
import re
from html.parser import HTMLParser

import pytest

from linkkeeper import store
from linkkeeper.desk import decisions as curator
from linkkeeper.demo import run_demo
from linkkeeper.desk.report import resolve_since, write_reports
from worlds.dbcopy import copy_db

HOSTILE_TITLE = "<script>alert('title')</script> & =HYPERLINK(\"http://evil\") | **bold**"
HOSTILE_OUTLET = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    out = tmp_path_factory.mktemp("report-demo")
    run_demo(out, echo=None, recover=False)
    return out / "demo.db"


@pytest.fixture
def db(demo_db, tmp_path):
    db = store.open_db(copy_db(demo_db, tmp_path / "report.db"))
    post = db.execute("SELECT post_id FROM repairs WHERE state = 'proposed' ORDER BY id LIMIT 1").fetchone()[0]
    db.execute("UPDATE posts SET title = ?, outlet = ? WHERE id = ?", [HOSTILE_TITLE, HOSTILE_OUTLET, post])
    # The demo wrote a report; these tests start from none.
    db.execute("DELETE FROM report_snapshots")
    db.execute("DELETE FROM report_link_states")
    # Keep the demo's history out of the second the test's own reports are written in.
    for table, column in (("checks", "checked_at"), ("url_status", "last_checked"), ("repairs", "created_at"),
                          ("repairs", "decided_at")):
        db.execute(f"UPDATE {table} SET {column} = strftime('%Y-%m-%dT%H:%M:%SZ', {column}, '-1 hours')")
    return db


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def parse(text: str) -> Tags:
    parser = Tags()
    parser.feed(text)
    return parser


def test_html_is_one_file_with_figures_and_charts(db, tmp_path):
    paths = write_reports(db, tmp_path / "r")
    assert set(paths) == {"json", "csv", "md", "html"}
    page = parse(paths["html"].read_text(encoding="utf-8"))
    names = [t for t, _ in page.tags]
    assert names.count("script") == 1 and names.count("svg") == 2  # years and outlets; no previous report yet
    assert not [a for t, a in page.tags if t in ("link", "img", "iframe") or a.get("src")]
    figures = {a["data-figure"]: a for t, a in page.tags if "data-figure" in a}
    assert {"Links", "working", "repaired", "broken", "uncertain", "unchecked", "Pending review"} <= set(figures)
    text = "".join(page.text)
    assert "first report from this database" in text
    years = re.findall(r"aria-label='Link health by post year'.*?</svg>", paths["html"].read_text(), re.S)[0]
    assert ">2011<" in years and ">2014<" in years


def test_everything_shown_is_escaped(db, tmp_path):
    paths = write_reports(db, tmp_path / "r")
    html_text = paths["html"].read_text(encoding="utf-8")
    page = parse(html_text)
    assert sum(1 for t, _ in page.tags if t == "script") == 1
    assert not [a for t, a in page.tags if any(k.startswith("on") for k in a)]
    assert HOSTILE_TITLE in "".join(page.text)  # shown as text, whole
    assert "&lt;img src=x onerror=alert(1)&gt;" in html_text  # also in the outlet chart's labels
    md = paths["md"].read_text(encoding="utf-8")
    assert "<script>" not in md and "<img" not in md and "\\*\\*bold\\*\\*" in md and "\\|" in md
    rows = list(csv.DictReader(io.StringIO(paths["csv"].read_text(encoding="utf-8"))))
    hostile = [r for r in rows if "HYPERLINK" in r["post_title"]]
    assert hostile and hostile[0]["post_title"] == HOSTILE_TITLE  # starts with "<": no formula, kept as is
    assert all(not (v or "").startswith(("=", "+", "-", "@")) for r in rows for v in r.values())


def test_csv_cells_that_would_run_as_formulas_are_quoted(db, tmp_path):
    db.execute("UPDATE posts SET title = '=cmd|'' /C calc''!A0' WHERE id = (SELECT min(id) FROM posts)")
    rows = list(csv.reader(io.StringIO((write_reports(db, tmp_path / "r")["csv"]).read_text(encoding="utf-8"))))
    titles = [r[2] for r in rows[1:]]
    assert "'=cmd|' /C calc'!A0" in titles


def test_the_second_report_shows_what_changed(db, tmp_path):
    first = write_reports(db, tmp_path / "r1")
    before = json.loads(first["json"].read_text())["health"]["categories"]
    pending = [r[0] for r in db.execute("SELECT id FROM repairs WHERE state = 'proposed'")]
    approved = [r[0] for r in db.execute("SELECT id FROM repairs WHERE state = 'approved' ORDER BY id")]
    curator.decide(db, pending, "reject")
    curator.decide(db, approved[:2], "reject")
    second = write_reports(db, tmp_path / "r2")
    health = json.loads(second["json"].read_text())["health"]
    assert health["changes"] == [{"from": "repaired", "to": "broken", "links": 2}]
    assert health["categories"]["repaired"] == before["repaired"] - 2
    html_text = second["html"].read_text(encoding="utf-8")
    assert "aria-label='Changes since the previous report'" in html_text and "repaired → broken" in html_text
    assert html_text.count("was repaired") == 2
    assert "-2 since last report" in html_text
    assert "| repaired | broken | 2 |" in second["md"].read_text(encoding="utf-8")
    assert db.execute("SELECT count(*) FROM report_snapshots").fetchone()[0] == 2
    assert db.execute("SELECT count(*) FROM report_link_states").fetchone()[0] == health["links"]
    third = write_reports(db, tmp_path / "r3")
    assert "Nothing changed since the previous report" in third["html"].read_text(encoding="utf-8")


def test_since_lists_only_links_whose_verdict_or_repair_changed(db, tmp_path):
    write_reports(db, tmp_path / "r1")
    proposed = db.execute("SELECT id, link_id FROM repairs WHERE state = 'proposed'").fetchone()
    curator.decide(db, [proposed[0]], "approve")
    # Two URLs are checked again: one now answers (its verdict changes), one fails as before (it does not).
    dead = [r[0] for r in db.execute("""SELECT url FROM url_status WHERE verdict = 'dead' AND url NOT IN
                                         (SELECT url_normalized FROM links WHERE id = ?) ORDER BY url LIMIT 2""",
                                      [proposed[1]])]
    now = store.utcnow()
    for url, verdict in ((dead[0], "alive"), (dead[1], "dead")):
        attempt = {"url": url, "checked_at": now, "method": "GET", "status": 200 if verdict == "alive" else 404,
                   "verdict": verdict, "evidence_class": verdict, "attempts": 1}
        store.record_check(db, [attempt], {"verdict": verdict, "evidence_class": verdict})
    paths = write_reports(db, tmp_path / "r2", since="last")
    report = json.loads(paths["json"].read_text())
    listed = {l["link"]["url"] for l in report["links"]}
    assert report["since"] and len(report["links"]) == 2
    assert dead[0] in listed and dead[1] not in listed
    assert proposed[1] in {l["link"]["id"] for l in report["links"]}
    # The figures still cover every link.
    assert report["health"]["links"] == 30
    # Since long ago: every checked link; a nullified link nobody looked up has no verdict or repair to change.
    everything = json.loads(write_reports(db, tmp_path / "r3", since="2000-01-01")["json"].read_text())["links"]
    assert len(everything) == 24 and not [l for l in everything if l["verdict"] == "nullified" and not l["repair"]]


def test_resolve_since(db):
    with pytest.raises(ValueError, match="no report"):
        resolve_since(db, "last")
    assert resolve_since(db, "2026-11-27") == "2026-11-27T00:00:00Z"
    assert resolve_since(db, "2026-11-27T10:00:00+02:00") == "2026-11-27T08:00:00Z"
    with pytest.raises(ValueError):
        resolve_since(db, "tuesday")


def test_a_not_dead_mark_counts_as_working_while_the_failure_stays(db, tmp_path):
    proposed = db.execute("SELECT id FROM repairs WHERE state = 'proposed'").fetchone()[0]
    curator.mark_not_dead(db, [proposed])
    report = json.loads(write_reports(db, tmp_path / "r")["json"].read_text())
    (marked,) = [l for l in report["links"] if l["repair"] and l["repair"]["id"] == proposed]
    assert marked["marked_not_dead"] and marked["category"] == "working"
    url = store.repair_row(db, proposed)["url_normalized"]
    db.execute("UPDATE url_status SET error_class = 'dns_nxdomain', status = NULL WHERE url = ?", [url])
    report = json.loads(write_reports(db, tmp_path / "r2")["json"].read_text())
    (lapsed,) = [l for l in report["links"] if l["repair"] and l["repair"]["id"] == proposed]
    assert not lapsed["marked_not_dead"] and lapsed["category"] == "broken"


def test_a_report_that_fails_midway_leaves_the_previous_one_whole(db, tmp_path, monkeypatch):
    from linkkeeper.desk import report

    out = tmp_path / "r"
    first = write_reports(db, out)
    before = {name: path.read_bytes() for name, path in first.items()}

    def broken(row, history):
        raise RuntimeError("disk full")

    monkeypatch.setattr(report, "html_row", broken)
    with pytest.raises(RuntimeError):
        write_reports(db, out)
    assert {name: path.read_bytes() for name, path in first.items()} == before
    assert sorted(p.name for p in out.iterdir()) == ["report.csv", "report.html", "report.json", "report.md"]
    assert db.execute("SELECT count(*) FROM report_snapshots").fetchone()[0] == 1


# --- what needs the curator comes first, in the review page's words ----------------------------------------

def test_the_report_opens_with_what_needs_you(db, tmp_path):
    paths = write_reports(db, tmp_path / "r")
    text = paths["html"].read_text(encoding="utf-8")
    needs, charts, table = text.index("id='needs-you'"), text.index("class='charts'"), text.index("<table id='links'>")
    assert needs < charts < table
    section = text[needs:charts]
    # Pending repairs, then the links nothing was found for, each with why it waits and its command.
    assert section.index("Repairs waiting for your decision (1)") < section.index("Links with nothing found (7)")
    # The commands name the demo's own proposed repair and the dead link the archive holds nothing for.
    proposed = db.execute("SELECT id FROM repairs WHERE state = 'proposed'").fetchone()[0]
    unavailable = db.execute("SELECT id FROM repairs WHERE state = 'unavailable'").fetchone()[0]
    assert f"linkkeeper approve {proposed}" in section and f"linkkeeper edit {unavailable} URL" in section
    assert "the blogging software emptied this link" in section and "has not archived this URL" in section
    # The Pending card is a link to it, and says where to decide.
    card = re.search(r"<a class='fig link' href='#needs-you' data-figure='Pending review'>.*?</a>", text, re.S).group(0)
    assert "<b>1</b>" in card and "<code>linkkeeper review</code>" in card
    md = paths["md"].read_text(encoding="utf-8")
    assert md.index("## Needs you") < md.index("## Link health")
    assert "1 repair waits for your decision and 7 links have nothing found." in md
    assert f"`linkkeeper approve {proposed}`" in md


def test_replacements_are_explained_as_the_review_page_explains_them(db, tmp_path):
    paths = write_reports(db, tmp_path / "r")
    text = paths["html"].read_text(encoding="utf-8")
    cells = re.findall(r'class="capture" rel="noopener noreferrer">([^<]*)</a>(?:<div class=\'small\'>([^<]*)</div>)?', text)
    assert cells and all(label.startswith("capture of ") for label, _why in cells)
    whys = [why for _label, why in cells]
    # Never the dead link's reason beside its capture, as if the capture were dead.
    assert not [w for w in whys if "dead (" in w or "http_404" in w]
    assert "100% of the post&#39;s text found in the capture; 1 day after the post" in whys
    assert any("10 days after the article&#39;s date in its URL" in w for w in whys)
    # Automatic approvals in words, not a setting's name.
    assert "auto_approve_confidence" not in text and "approved automatically: sure enough on its own" in text
    md = paths["md"].read_text(encoding="utf-8")
    assert "auto_approve_confidence" not in md and "dead (http" not in md.split("## Links needing attention")[1].split("| dead |")[0]


def test_headings_sort_from_the_keyboard_and_the_counts_agree(db, tmp_path):
    paths = write_reports(db, tmp_path / "r")
    text = paths["html"].read_text(encoding="utf-8")
    heads = re.findall(r"<th data-type='(\w+)' scope='col'><button type='button' class='sort'>(\w+)</button></th>", text)
    assert [name for _t, name in heads] == ["Published", "Post", "Outlet", "Link", "Verdict", "Evidence",
                                            "Replacement", "Confidence", "Repair"]
    assert dict((n, t) for t, n in heads)["Repair"] == "number"
    repair_cells = re.findall(r"<td data-sort='(\d*)'>(?:#(\d+))?", text)
    assert all(sort == (number or "") for sort, number in repair_cells if number)
    assert "<p class='small'>30 links listed.</p>" in text
    md = paths["md"].read_text(encoding="utf-8")
    rows = [line for line in md.split("## Links needing attention")[1].splitlines() if line.startswith("| 20")]
    assert f"{len(rows)} of the 30 links listed need attention (the table above)" in md


def test_a_post_url_with_line_breaks_cannot_write_markdown(db, tmp_path):
    """A post URL holding newlines (JSONL, or &#10; in an Atom or feed href) must stay inside its table cell:
    no heading, image or link of its own in report.md."""
    post = db.execute("SELECT post_id FROM repairs WHERE state = 'proposed' ORDER BY id LIMIT 1").fetchone()[0]
    hostile = ("http://example.com/a\n# Injected heading\n![track](http://evil.example/t.png)\r\n"
               "[click](http://evil.example/x) | broken cell\u2028<b>x</b>\\")
    db.execute("UPDATE posts SET url = ? WHERE id = ?", [hostile, post])
    md = write_reports(db, tmp_path / "r")["md"].read_text(encoding="utf-8")
    lines = md.splitlines()
    assert not [line for line in lines if line.startswith(("#", "!", "[")) and "Injected" in line]
    assert not [line for line in lines if "evil.example" in line and not line.startswith("|")]
    for line in lines:
        if "example.com/a" in line:
            header = next(h for h in reversed(lines[:lines.index(line)]) if h.startswith("| ") and "---" not in h)
            cells = lambda row: len(re.findall(r"(?<!\\)\|", row))  # noqa: E731
            assert cells(line) == cells(header), line
            assert "%0A" in line and "%7C" in line and "<b>" not in line
