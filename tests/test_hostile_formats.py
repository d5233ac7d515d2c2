"""Hostile input, second round: the JSON export formats (issue 14, case 6).

JSON Lines and Blogger API JSON are read through text/jsonbounds.py: a lone surrogate, a number of thousands of
digits or nesting 100,000 deep is refused with FILE:LINE:COLUMN and exit 2, before anything is stored."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from linkkeeper import store
from linkkeeper.cli import main
from linkkeeper.sources import ExportError, read_posts
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
@pytest.mark.parametrize("key", ["html", "extra"])
def test_hostile_json_lines_are_refused_at_their_line(name, key, tmp_path):
    value, message = HOSTILE_VALUES[name]
    path = tmp_path / "posts.jsonl"
    path.write_text(jsonl_with(value, key), encoding="utf-8")
    db = store.open_db(tmp_path / "t.db")
    with pytest.raises(ExportError, match=re.escape(message)) as caught:
        ingest(db, path)
    assert caught.value.line == 2 and str(caught.value).startswith(f"{path}:2:")
    assert db["posts"].count == 0


@pytest.mark.parametrize("name", sorted(HOSTILE_VALUES))
@pytest.mark.parametrize("key", ["content", "title"])
def test_hostile_blogger_api_json_is_refused_at_its_line(name, key, tmp_path):
    value, message = HOSTILE_VALUES[name]
    path = tmp_path / "posts.json"
    path.write_text(blogger_json_with(value, key), encoding="utf-8")
    db = store.open_db(tmp_path / "t.db")
    with pytest.raises(ExportError, match=re.escape(message)) as caught:
        ingest(db, path)
    assert caught.value.line == 3 and str(caught.value).startswith(f"{path}:3:")
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
