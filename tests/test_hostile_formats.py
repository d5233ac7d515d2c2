"""Hostile input, second round: the JSON export formats and what `export` writes (issue 14, cases 6 and 9).

JSON Lines and Blogger API JSON are read through text/jsonbounds.py: a lone surrogate, a number of thousands of
digits or nesting 100,000 deep is refused with FILE:LINE:COLUMN and exit 2, before anything is stored. Every
replacement is checked where it is written into a file: an http(s) URL with a host and no user name or
password, whatever path brought it to the database."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from linkkeeper import store
from linkkeeper.cli import main
from linkkeeper.sources import ExportError, read_posts
from linkkeeper.sources.export import export_patched
from linkkeeper.sources.ingest import ingest
from linkkeeper.text import jsonbounds

DATA = Path(__file__).resolve().parents[1] / "src" / "linkkeeper" / "data"
POST = {"id": "p1", "url": "http://blog.example/p1.html", "title": "A post", "published": "2012-10-01T10:00:00Z",
        "html": '<p>Lead.</p><a href="http://news.example/a">Original Article</a>'}

# Each spliced into a post as the value of one key: (what it is, the JSON text, where the reader points).
HOSTILE_VALUES = {
    "a lone surrogate": ('"caf\\ud800"', "lone surrogate"),
    "a 5,000-digit number": ("9" * 5000, "more than 100 digits"),
    "nesting 100,000 deep": ("[" * 100_000 + "]" * 100_000, "nested deeper than 100 levels"),
}


def jsonl_with(value: str, key: str) -> str:
    good = json.dumps(dict(POST, id="p0"))
    bad = json.dumps(dict(POST, **{key: "@@"})).replace('"@@"', value)
    return good + "\n" + bad + "\n"


def blogger_json_with(value: str, key: str) -> str:
    item = {"kind": "blogger#post", "id": "7300", "blog": {"id": "64"}, "url": POST["url"], "title": "A post",
            "published": POST["published"], "content": POST["html"]}
    bad = json.dumps(dict(item, **{key: "@@"})).replace('"@@"', value)
    return '{"kind": "blogger#postList",\n "items": [' + json.dumps(item) + ",\n  " + bad + "]}\n"


@pytest.mark.parametrize("name", sorted(HOSTILE_VALUES))
@pytest.mark.parametrize("filename, build, key, line", [
    ("posts.jsonl", jsonl_with, "html", 2), ("posts.jsonl", jsonl_with, "extra", 2),
    ("posts.json", blogger_json_with, "content", 3), ("posts.json", blogger_json_with, "title", 3)])
def test_hostile_json_is_refused_at_its_line(name, filename, build, key, line, tmp_path):
    value, message = HOSTILE_VALUES[name]
    path = tmp_path / filename
    path.write_text(build(value, key), encoding="utf-8")
    db = store.open_db(tmp_path / "t.db")
    with pytest.raises(ExportError, match=re.escape(message)) as caught:
        ingest(db, path)
    assert caught.value.line == line and str(caught.value).startswith(f"{path}:{line}:")
    assert db["posts"].count == 0


@pytest.mark.parametrize("fmt", ["jsonl", "json"])
@pytest.mark.parametrize("name", sorted(HOSTILE_VALUES))
def test_cli_ingest_of_hostile_json_exits_2_with_one_line(fmt, name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    value, message = HOSTILE_VALUES[name]
    path = tmp_path / f"posts.{fmt}"
    path.write_text(jsonl_with(value, "html") if fmt == "jsonl" else blogger_json_with(value, "content"),
                    encoding="utf-8")
    result = CliRunner().invoke(main, ["--db", str(tmp_path / "c.db"), "ingest", str(path)], catch_exceptions=False)
    assert result.exit_code == 2, result.output
    assert re.search(rf"{re.escape(str(path))}:\d+:\d+: .*{re.escape(message)}", result.output), result.output
    assert "Traceback" not in result.output


def test_surrogate_pairs_and_escaped_backslashes_are_still_read(tmp_path):
    # A pair is one character; `\\ud800` is a backslash and five letters: neither is refused.
    path = tmp_path / "ok.jsonl"
    path.write_text(json.dumps(dict(POST, title="😀 \\ud800"), ensure_ascii=True) + "\n", encoding="utf-8")
    [post] = read_posts(path)
    assert post.title == "😀 \\ud800"


def test_the_bounds_are_checked_in_linear_time_on_an_unterminated_string():
    # Each character of an unterminated string is looked at once, not once per later quote.
    text = '"' + '\\"' * 200_000
    jsonbounds.check(text)  # nothing refused: the parser itself reports the unterminated string
    with pytest.raises(json.JSONDecodeError):
        jsonbounds.loads(text)


# --- XML: nesting and tokens bounded ----------------------------------------------------------------------

def blogger_export(content: str, kind: str = "xhtml", extra: str = "") -> str:
    return ("<?xml version='1.0' encoding='UTF-8'?><feed xmlns='http://www.w3.org/2005/Atom'>"
            "<id>tag:blogger.com,1999:blog-42.archive</id>" + extra +
            "<entry><id>tag:blogger.com,1999:blog-42.post-1</id><published>2012-10-01T10:00:00Z</published>"
            "<category scheme='http://schemas.google.com/g/2005#kind' "
            "term='http://schemas.google.com/blogger/2008/kind#post'/>"
            f"<title type='text'>t</title><content type='{kind}'>{content}</content></entry></feed>")


def test_an_export_nested_100000_deep_is_refused_at_its_line(tmp_path):
    path = tmp_path / "deep.xml"
    path.write_text(blogger_export("<div xmlns='http://www.w3.org/1999/xhtml'>" + "<b>" * 100_000 + "</b>" * 100_000
                                   + "</div>"), encoding="utf-8")
    with pytest.raises(ExportError, match=r"deep\.xml:1:\d+: elements nested deeper than 512 levels") as caught:
        ingest(store.open_db(tmp_path / "t.db"), path)
    assert caught.value.line == 1


def test_the_deepest_allowed_nesting_is_read(tmp_path):
    depth = 512 - 4  # feed, entry, content and the xhtml wrapper <div> come first
    path = tmp_path / "ok.xml"
    path.write_text(blogger_export("<div xmlns='http://www.w3.org/1999/xhtml'>" + "<b>" * (depth - 1) + "x"
                                   + "</b>" * (depth - 1) + "</div>"), encoding="utf-8")
    [post] = read_posts(path)
    assert post.html.count("<b>") == depth - 1


@pytest.mark.parametrize("token", ["attribute", "comment"])
def test_a_token_of_many_megabytes_is_refused_not_parsed_again_and_again(token, tmp_path):
    # expat 2.5 parses a token cut at the end of its input again from its start with every further megabyte:
    # 64 MB in one attribute cost seconds, a gigabyte twenty minutes. Tokens past 16 MB are refused.
    huge = "a" * (20 << 20)
    extra = f"<title type='text' x='{huge}'>t</title>" if token == "attribute" else f"<!--{huge}-->"
    path = tmp_path / "huge.xml"
    path.write_text(blogger_export("<p>x</p>", "html", extra), encoding="utf-8")
    with pytest.raises(ExportError, match="more than 16 MB without an element or text"):
        list(read_posts(path))


def test_long_text_is_not_a_long_token(tmp_path):
    # Text comes out in pieces as it is read: a long post is no reason to refuse.
    path = tmp_path / "long.xml"
    path.write_text(blogger_export("x" * (20 << 20), "html"), encoding="utf-8")
    [post] = read_posts(path)
    assert len(post.html) == 20 << 20


# --- 9. every replacement is checked where it is written -----------------------------------------------------

UNSAFE = {
    "javascript:alert(1)": "not an http:// or https:// URL",
    "data:text/html,<script>alert(1)</script>": "not an http:// or https:// URL",
    "//evil.example/x": "not an http:// or https:// URL",
    "http:///no-host": "no host",
    "http://user:secret@news.example/a": "a user name or password",
    "http://news.example:99999/a": "an unreadable host or port",
    "http://news.example/a\nSource: forged": "control characters",
}
SOURCES = {"blogger-atom": "sample-blog.xml", "wxr": "example-blog.wxr", "blogger-json": "example-blogger-api.json",
           "jsonl": "example-posts.jsonl"}


def poison(db, replacement: str) -> str:
    """An approved repair holding `replacement`, written straight into the database (no decision path checks
    it): what a tampered or older database may hold."""
    link = next(db.query("SELECT * FROM links WHERE role = 'original' ORDER BY id LIMIT 1"))
    repair_id = store.save_repair(db, {"link_id": link["id"], "post_id": link["post_id"], "url": link["url"],
                                       "reason": "dead (http_404)", "replacement": "https://web.archive.org/web/"
                                       "20120101000000/http://news.example/a", "state": "proposed",
                                       "confidence": 0.8})
    store.decide_repairs(db, [repair_id], "approved", "checked by hand")
    with store.transaction(db):
        db.execute("UPDATE repairs SET replacement = ? WHERE id = ?", [replacement, repair_id])
    return link["post_id"]


@pytest.mark.parametrize("fmt", sorted(SOURCES))
@pytest.mark.parametrize("replacement", sorted(UNSAFE))
def test_export_refuses_an_unsafe_replacement_and_writes_nothing(fmt, replacement, tmp_path):
    source = tmp_path / SOURCES[fmt]
    shutil.copy(DATA / SOURCES[fmt], source)
    db = store.open_db(tmp_path / "t.db")
    ingest(db, source)
    post_id = poison(db, replacement)
    for out_format in (None, "jsonl"):
        out = tmp_path / f"out-{out_format}"
        with pytest.raises(ValueError, match=re.escape(UNSAFE[replacement])) as caught:
            export_patched(db, out, format=out_format)
        assert f"post {post_id} anchor" in str(caught.value) and "nothing was written" in str(caught.value)
        assert not out.exists()


def test_cli_export_of_a_poisoned_database_exits_2(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    source = tmp_path / "sample-blog.xml"
    shutil.copy(DATA / "sample-blog.xml", source)
    db = store.open_db(tmp_path / "c.db")
    ingest(db, source)
    poison(db, "javascript:alert(1)")
    db.close()
    result = CliRunner().invoke(main, ["--db", str(tmp_path / "c.db"), "export", "-o", str(tmp_path / "out.xml")],
                                catch_exceptions=False)
    assert result.exit_code == 2, result.output
    assert "javascript:alert(1)" in result.output and "is refused" in result.output
    assert not (tmp_path / "out.xml").exists()
