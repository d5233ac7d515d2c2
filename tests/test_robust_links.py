"""Robust Links on export (`robust_links = true`): each repaired anchor also carries data-originalurl,
data-versionurl and data-versiondate; off by default; the patched export ingests again and exports again
unchanged; an anchor that has the attributes already gets them replaced, never doubled."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from linkkeeper import store
from linkkeeper.cli import main
from linkkeeper.demo import run_demo
from linkkeeper.settings import Settings
from linkkeeper.sources import read_posts
from linkkeeper.sources.export import export_patched
from linkkeeper.sources.ingest import ingest
from linkkeeper.sources.patching import Href, patch_html
from linkkeeper.text.html import scan_anchors
from worlds.dbcopy import copy_db

ROBUST = ("data-originalurl", "data-versionurl", "data-versiondate")


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    """The whole demo: dead links repaired with captures, nullified links recovered (one live, with its
    capture kept), all approved automatically but one."""
    out = tmp_path_factory.mktemp("robust-demo")
    run_demo(out, echo=None)
    return out / "demo.db"


@pytest.fixture
def db(demo_db, tmp_path):
    return store.open_db(copy_db(demo_db, tmp_path / "robust.db"))


def attributes(tag: str) -> dict[str, str | None]:
    found: dict[str, str | None] = {}

    class Parser(HTMLParser):
        def handle_starttag(self, name, attrs):
            if not found:
                found.update(attrs)
                found["__count__"] = str(len(attrs))

    Parser().feed(tag)
    return found


def anchor_tags(html: str) -> list[str]:
    return [html[a.tag_span[0]:a.tag_span[1]] for a in scan_anchors(html)]


def approved(db) -> list[dict]:
    return list(db.query("""SELECT r.post_id, l.anchor_index, r.replacement, r.url, r.capture_url, r.capture_timestamp
                            FROM repairs r JOIN links l ON l.id = r.link_id WHERE r.state = 'approved'"""))


def test_off_by_default(db, tmp_path):
    assert Settings().robust_links is False
    out = tmp_path / "plain.xml"
    export_patched(db, out)
    assert b"data-versionurl" not in out.read_bytes() and b"data-originalurl" not in out.read_bytes()


def test_each_repaired_anchor_carries_the_original_and_its_capture(db, tmp_path):
    out = tmp_path / "robust.xml"
    result = export_patched(db, out, robust_links=True)
    repairs = approved(db)
    # One edit per repaired anchor: the count stays the anchors' (the demo approves a dozen or so).
    assert result.changed == len(repairs) >= 10
    posts = {p.id: p for p in read_posts(out)}
    live = 0
    for repair in repairs:
        tag = anchor_tags(posts[repair["post_id"]].html)[repair["anchor_index"]]
        attrs = attributes(tag)
        stamp = repair["capture_timestamp"]
        assert attrs["href"] == repair["replacement"]
        assert attrs["data-originalurl"] == repair["url"] and repair["url"].startswith("http://www.")
        assert attrs["data-versionurl"] == (repair["capture_url"] or repair["replacement"])
        assert attrs["data-versionurl"].startswith("https://web.archive.org/web/" + stamp)
        assert attrs["data-versiondate"] == f"{stamp[:4]}-{stamp[4:6]}-{stamp[6:8]}"
        live += not repair["replacement"].startswith("https://web.archive.org/")
    # The recovered article still online: href is the live page, the capture stands beside it.
    assert live == 2
    # Nothing but the repaired anchors changed: without the attributes, the file is the plain export.
    plain = tmp_path / "plain.xml"
    export_patched(db, plain)
    stripped = re.sub(rb' data-(?:originalurl|versionurl|versiondate)=(?:&quot;|")[^"&]*(?:&quot;|")', b"",
                      out.read_bytes())
    assert stripped == plain.read_bytes()


def test_the_robust_export_round_trips_through_ingest(db, tmp_path):
    out = tmp_path / "robust.xml"
    export_patched(db, out, robust_links=True)
    again = store.open_db(tmp_path / "again.db")
    result = ingest(again, out)
    assert result.posts == store.counts(db)["posts"]
    for repair in approved(db):
        link = again["links"].get(store.link_id(repair["post_id"], repair["anchor_index"]))
        assert link["url"] == repair["replacement"] and link["nullified_reason"] is None
        content = again["posts"].get(repair["post_id"])["content"]
        tag = anchor_tags(content)[repair["anchor_index"]]
        assert all(name in attributes(tag) for name in ROBUST)
    # Exported again with nothing to repair: the same bytes, with or without the option.
    for robust in (False, True):
        copy = tmp_path / f"copy-{robust}.xml"
        assert export_patched(again, copy, robust_links=robust).changed == 0
        assert copy.read_bytes() == out.read_bytes()


def test_jsonl_from_the_store_carries_them_too(db, tmp_path):
    out = tmp_path / "posts.jsonl"
    export_patched(db, out, format="jsonl", robust_links=True)
    rows = {r["id"]: r for r in map(json.loads, out.read_text(encoding="utf-8").splitlines())}
    for repair in approved(db):
        attrs = attributes(anchor_tags(rows[repair["post_id"]]["html"])[repair["anchor_index"]])
        assert attrs["href"] == repair["replacement"] and attrs["data-versiondate"]


def test_attributes_already_there_are_replaced_not_doubled():
    html = ("<p>x</p><a data-versiondate='2001-01-01' href=\"http://old.example/a\" DATA-ORIGINALURL=stale "
            "title='keep me'>Original Article</a>")
    href = Href("https://web.archive.org/web/20120101000000/http://old.example/a",
                (("data-originalurl", "http://old.example/a"), ("data-versionurl", "https://web.archive.org/web/20120101000000/http://old.example/a"),
                 ("data-versiondate", "2012-01-01")))
    patched, n = patch_html(html, {0: href})
    assert n == 3  # the two attributes there are rewritten in place; the href and the new one are one edit
    tag = anchor_tags(patched)[0]
    attrs = attributes(tag)
    assert attrs["__count__"] == "5" and attrs["title"] == "keep me"
    assert (attrs["data-versiondate"], attrs["data-originalurl"]) == ("2012-01-01", "http://old.example/a")
    assert attrs["data-versionurl"] == href and attrs["href"] == href
    # An href already right still gets what is missing.
    patched, n = patch_html('<a href="%s">x</a>' % href, {0: href})
    assert n == 1 and all(name in attributes(anchor_tags(patched)[0]) for name in ROBUST)


def test_values_are_escaped_for_the_attribute(tmp_path):
    hostile = 'http://example.com/"><script>alert(1)</script>&x'
    patched, _ = patch_html('<a href="http://dead.example/">x</a>',
                            {0: Href("https://web.archive.org/web/20120101000000/http://dead.example/",
                                     (("data-originalurl", hostile),))})
    tags = []

    class Tags(HTMLParser):
        def handle_starttag(self, name, attrs):
            tags.append((name, dict(attrs)))

    Tags().feed(patched)
    assert [name for name, _ in tags] == ["a"] and tags[0][1]["data-originalurl"] == hostile


def test_the_setting_reaches_the_export_command(db, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    db_path = Path(db.conn.execute("PRAGMA database_list").fetchone()[2])
    runner = CliRunner()
    result = runner.invoke(main, ["--db", str(db_path), "export", "-o", str(tmp_path / "out.xml")],
                           env={"LINKKEEPER_ROBUST_LINKS": "true"}, catch_exceptions=False)
    assert result.exit_code == 0 and "Robust Links attributes" in result.output
    assert (tmp_path / "out.xml").read_bytes().count(b"data-versionurl=") == len(approved(db)) >= 10
