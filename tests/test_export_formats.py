"""Ingest and export through the store for every format: post counts of the real exports, byte-identical round
trips, a WXR file repaired through approved repairs, JSON Lines from any source, and the refusals."""

from __future__ import annotations

import json
import re
import shlex
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from linkkeeper import store
from linkkeeper.cli import main
from linkkeeper.sources.export import ExportSourceError, export_patched
from linkkeeper.sources.ingest import ingest
from linkkeeper.text.html import scan_anchors
from linkkeeper.sources import ExportError, read_posts

from test_sources import BLOGGER_SAMPLES, DATA, EXAMPLE_JSONL, IMPORTER, THEME, WELL_FORMED_WXR, WXR_COUNTS

FORMATS_DOC = Path(__file__).resolve().parents[1] / "docs" / "formats.md"
EXAMPLE_WXR = DATA / "example-blog.wxr"
ROUND_TRIP = ([f"wordpress/{n}" for n in WELL_FORMED_WXR] + BLOGGER_SAMPLES
              + ["blogger/tryghost-migrate/response.json"])


@pytest.fixture
def db(tmp_path):
    return store.open_db(tmp_path / "t.db")


@pytest.mark.parametrize("relative", sorted(WXR_COUNTS))
def test_real_wxr_exports_ingest_with_right_post_count(db, real, relative):
    result = ingest(db, real / "wordpress" / relative)
    assert result.format == "wxr"
    assert result.posts == WXR_COUNTS[relative] == db["posts"].count
    assert db["sources"].get(1)["format"] == "wxr" and db["sources"].get(1)["posts"] == result.posts


def test_malformed_wxr_ingests_nothing(db):
    with pytest.raises(ExportError) as caught:
        ingest(db, IMPORTER / "malformed.xml")
    assert str(caught.value) == f"{IMPORTER / 'malformed.xml'}:90:3: mismatched tag"
    assert db["posts"].count == 0 and db["sources"].count == 0


def test_bad_line_late_in_jsonl_ingests_nothing_and_keeps_what_was_there(db, tmp_path):
    path = tmp_path / "posts.jsonl"
    shutil.copy(EXAMPLE_JSONL, path)
    ingest(db, path)
    before = [dict(r) for r in db.query("SELECT id, content FROM posts ORDER BY id")]
    lines = path.read_text(encoding="utf-8").splitlines(True)
    changed = lines[0].replace("climate research", "CLIMATE RESEARCH")
    path.write_text(changed + lines[1] + '{"id": "late", "html": "x"}\n', encoding="utf-8")
    with pytest.raises(ExportError, match=r"posts\.jsonl:3: missing"):
        ingest(db, path)
    assert [dict(r) for r in db.query("SELECT id, content FROM posts ORDER BY id")] == before


@pytest.mark.parametrize("relative", ROUND_TRIP)
def test_ingest_then_export_without_repairs_is_byte_identical(db, real, tmp_path, relative):
    ingest(db, real / relative)
    out = tmp_path / "out"
    result = export_patched(db, out)
    assert result.changed == 0
    assert out.read_bytes() == (real / relative).read_bytes()


def approve(db, post_id: str, anchor_index: int, replacement: str) -> None:
    link = db["links"].get(store.link_id(post_id, anchor_index))
    repair_id = store.save_repair(db, {"link_id": link["id"], "post_id": post_id, "url": link["url"],
                                       "reason": "dead (http_404)", "replacement": replacement,
                                       "state": "proposed", "confidence": 0.8})
    store.decide_repairs(db, [repair_id], "approved", "checked by hand")


# Links of theme-unit-test-data.xml: (post id, anchor index, href in the file, replacement).
THEME_BLOG = "https://wpthemetestdata.wordpress.com/?p="
THEME_REPAIRS = [
    (THEME_BLOG + "1724", 4, "https://webaim.org/techniques/keyboard/",
     "https://web.archive.org/web/20160510000000/https://webaim.org/techniques/keyboard/"),
    (THEME_BLOG + "575", 0, "http://www.brainyquote.com/quotes/quotes/m/marktwain163473.html",
     "https://web.archive.org/web/20100205151315/http://www.brainyquote.com/quotes/quotes/m/marktwain163473.html"),
    # A query string with '&': inside the CDATA body it is spelled &amp; (HTML), nothing more.
    (THEME_BLOG + "1134", 6, "https://www.youtube.com/watch?v=O_HyZ5aW76c",
     "https://web.archive.org/web/20130110000000/https://www.youtube.com/watch?v=O_HyZ5aW76c&feature=youtu.be"),
    # A post in Greek: the byte offsets must survive multi-byte characters before the href.
    (THEME_BLOG + "1809", 6, "https://wordpressfoundation.org/",
     "https://web.archive.org/web/20190101000000/https://wordpressfoundation.org/"),
]


def test_repaired_wxr_differs_only_in_the_repaired_hrefs(db, tmp_path):
    ingest(db, THEME)
    for post_id, index, old, new in THEME_REPAIRS:
        assert db["links"].get(store.link_id(post_id, index))["url"] == old
        approve(db, post_id, index, new)
    out = tmp_path / "patched.wxr"
    result = export_patched(db, out)
    assert (result.format, result.posts, result.changed) == ("wxr", 4, 4)

    before, after = THEME.read_bytes(), out.read_bytes()
    expected = before
    for post_id, index, old, new in THEME_REPAIRS:
        # The post's item starts at the line the store recorded; its anchor's href is the first with that URL.
        line = db["posts"].get(post_id)["line"]
        item_at = sum(len(x) for x in before.splitlines(True)[:line - 1])
        at = expected.index(f'href="{old}"'.encode(), item_at) + len(b'href="')
        spelled = new.replace("&", "&amp;").encode()
        expected = expected[:at] + spelled + expected[at + len(old.encode()):]
    assert after == expected
    assert after.count(b"&amp;feature=youtu.be") == 1

    old_posts = {p.id: p for p in read_posts(THEME)}
    new_posts = {p.id: p for p in read_posts(out)}
    assert new_posts.keys() == old_posts.keys()
    for post_id, index, old, new in THEME_REPAIRS:
        assert scan_anchors(new_posts[post_id].html)[index].href == new
    untouched = old_posts.keys() - {r[0] for r in THEME_REPAIRS}
    assert all(new_posts[k] == old_posts[k] for k in untouched)


def test_jsonl_from_any_source_has_the_patched_html(db, tmp_path):
    ingest(db, THEME)
    post_id, index, old, new = THEME_REPAIRS[2]
    approve(db, post_id, index, new)
    out = tmp_path / "posts.jsonl"
    result = export_patched(db, out, format="jsonl")
    assert (result.format, result.changed) == ("jsonl", 1)
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 77
    assert list(rows[0]) == ["id", "url", "title", "published", "updated", "labels", "html"]
    by_id = {r["id"]: r for r in rows}
    assert scan_anchors(by_id[post_id]["html"])[index].href == new
    originals = {p.id: p for p in read_posts(THEME)}
    assert by_id[post_id]["html"] != originals[post_id].html
    other = originals[THEME_BLOG + "575"]
    assert by_id[other.id] == {"id": other.id, "url": other.url, "title": other.title, "published": other.published,
                               "updated": other.updated, "labels": other.labels, "html": other.html}
    # The JSON Lines file is itself a source: it ingests to the same posts.
    again = store.open_db(tmp_path / "again.db")
    assert ingest(again, out).posts == 77


def test_mismatched_format_is_refused(db, tmp_path):
    ingest(db, THEME)
    with pytest.raises(ExportSourceError, match=r"ingested as wxr: it can be exported as wxr \(its own format\) "
                                                 r"or jsonl, not blogger-atom"):
        export_patched(db, tmp_path / "x.xml", format="blogger-atom")
    assert not (tmp_path / "x.xml").exists()


def test_a_source_not_read_from_a_file_exports_only_as_jsonl(db, tmp_path):
    # The nightly run stores posts read from the blog's feed under a source with no file.
    source_id = store.upsert_source(db, path="https://example.blogspot.com/feeds/posts/default", format="blogger-feed",
                                    sha256=None, size=None, blog_url="https://example.blogspot.com/", title=None)
    store.upsert_post(db, {"id": "p1", "source_id": source_id, "url": "https://example.blogspot.com/1.html",
                           "content": '<a href="http://x.example/">Original Article</a>', "line": 1}, [])
    with pytest.raises(ExportSourceError, match="not from an export file: it can only be exported with --format jsonl"):
        export_patched(db, tmp_path / "x")
    export_patched(db, tmp_path / "x.jsonl", format="jsonl")
    assert json.loads((tmp_path / "x.jsonl").read_text())["html"] == '<a href="http://x.example/">Original Article</a>'


@pytest.fixture
def run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(main, list(args), catch_exceptions=False)

    return invoke


def test_cli_refuses_a_mismatched_format_with_exit_2(run, tmp_path):
    assert run("--db", "w.db", "ingest", str(EXAMPLE_WXR)).exit_code == 0
    result = run("--db", "w.db", "export", "--format", "blogger-json", "-o", "out.json")
    assert result.exit_code == 2
    assert "ingested as wxr" in result.output and "not blogger-json" in result.output


def test_cli_names_the_format_and_the_bad_line(run, tmp_path):
    result = run("--db", "w.db", "ingest", str(EXAMPLE_WXR))
    assert f"{EXAMPLE_WXR} (wxr): 3 posts" in result.output and "1 nullified" in result.output
    bad = tmp_path / "bad.jsonl"
    bad.write_text(EXAMPLE_JSONL.read_text(encoding="utf-8") + "{oops}\n", encoding="utf-8")
    result = run("--db", "w.db", "ingest", str(bad))
    assert result.exit_code == 2
    assert f"{bad}:4:2: Expecting property name" in result.output and "nothing was ingested" in result.output


def documented_format_commands() -> list[str]:
    text = FORMATS_DOC.read_text(encoding="utf-8")
    section = text[text.index("### Examples"):text.index("## Input: the blog's feed")]
    blocks = re.findall(r"```sh\n(.*?)```", section, re.DOTALL)
    return [line for block in blocks for line in block.splitlines() if line.startswith("linkkeeper ")]


def test_documented_format_examples_run(run, tmp_path):
    commands = documented_format_commands()
    assert len(commands) >= 8 and {"example-blog.wxr", "example-blogger-api.json", "example-posts.jsonl"} <= {
        Path(arg).name for c in commands for arg in shlex.split(c)}
    repo = FORMATS_DOC.parents[1]
    for command in commands:
        args = [str(repo / a) if a.startswith("src/") else a for a in shlex.split(command)[1:]]
        result = run(*args)
        assert result.exit_code == 0, (command, result.output)
    # Nothing was approved, so every written export is its source, byte for byte.
    assert (tmp_path / "patched-blog.wxr").read_bytes() == EXAMPLE_WXR.read_bytes()
    assert (tmp_path / "patched-api.json").read_bytes() == (DATA / "example-blogger-api.json").read_bytes()
    assert (tmp_path / "patched-posts.jsonl").read_bytes() == EXAMPLE_JSONL.read_bytes()
    # The three examples hold the same posts, whatever the format.
    shapes = {name: [(p.title, p.published, [a.href for a in scan_anchors(p.html)]) for p in read_posts(DATA / name)]
              for name in ("example-blog.wxr", "example-blogger-api.json", "example-posts.jsonl")}
    assert shapes["example-blog.wxr"] == shapes["example-blogger-api.json"] == shapes["example-posts.jsonl"]
    wp_rows = [json.loads(line) for line in (tmp_path / "wp-posts.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["title"] for r in wp_rows] == [p[0] for p in shapes["example-posts.jsonl"]]
