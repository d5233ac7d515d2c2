"""The format dispatcher and the WordPress WXR, Blogger API JSON and JSON Lines sources, against the real samples
in tests/data/real/ (WordPress and Blogger) and small files written here."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from linkkeeper import sources
from linkkeeper.text.html import scan_anchors
from linkkeeper.sources import ExportError, detect_format, read_posts, source_info, write_patched
from linkkeeper.sources import jsontext, patching

REAL = Path(__file__).resolve().parent / "data" / "real"
WP = REAL / "wordpress"
IMPORTER = WP / "wordpress-importer"
THEME = IMPORTER / "theme-unit-test-data.xml"
SAMPLE2_WXR = WP / "google-blog-converters" / "wordpress-sample2.wxr"
PELICAN_WXR = WP / "pelican" / "wordpressexport.xml"
API_JSON = REAL / "blogger" / "tryghost-migrate" / "response.json"
DATA = Path(__file__).resolve().parents[1] / "src" / "linkkeeper" / "data"
EXAMPLE_JSONL = DATA / "example-posts.jsonl"

# Published posts + pages per file, counted by hand from each file's <wp:post_type> and <wp:status>:
WXR_COUNTS = {
    "wordpress-importer/valid-wxr-1.0.xml": 6,  # 3 posts + 3 pages, all publish
    "wordpress-importer/valid-wxr-1.1.xml": 2,  # 1 post + 1 page
    "wordpress-importer/small-export.xml": 9,  # 5 posts + 4 pages; a draft page and a private post skipped
    "wordpress-importer/missing-version-tag.xml": 0,  # categories, tags and terms only: no items at all
    "wordpress-importer/wxr-simple.xml": 1,
    "wordpress-importer/wxr-utf-8-challenges.xml": 1,
    # 186 items: 58 posts (56 publish, 1 draft, 1 future), 21 pages, 37 attachments, 70 nav menu items
    "wordpress-importer/theme-unit-test-data.xml": 77,
    # 20 items: 7 published posts, 4 drafts, 2 pages, 4 attachments, 3 of custom types custom1/custom2
    "pelican/wordpressexport.xml": 9,
    "google-blog-converters/wordpress-sample.wxr": 4,  # 3 posts + 1 page; 1 attachment
    "google-blog-converters/wordpress-sample2.wxr": 4,  # 4 posts; 6 items of type "draft", 1 attachment
}
WELL_FORMED_WXR = sorted(WXR_COUNTS)
BLOGGER_SAMPLES = ["blogger/google-blog-converters/blogger-sample2.xml", "blogger/google-blog-converters/blogger-sample.xml",
                   "blogger/sangupta-blog-parser/blogger-sample.xml", "blogger/pelican/bloggerexport.xml",
                   "blogger/blot/export.atom"]



def posts(path, warnings=None):
    return list(read_posts(path, warnings.append if warnings is not None else (lambda m: None)))


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


def wxr(*items: str, ns: str = "http://wordpress.org/export/1.2/", version: str | None = "1.2") -> str:
    version_tag = f"<wp:wxr_version>{version}</wp:wxr_version>" if version is not None else ""
    return ('<?xml version="1.0" encoding="UTF-8" ?>\n<!-- generated -->\n<rss version="2.0" '
            f'xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:wp="{ns}">\n<channel>\n'
            f"<title>T</title><link>http://b.example</link>{version_tag}\n" + "".join(items) + "</channel>\n</rss>\n")


def item(n: int, content: str, status: str = "publish", post_type: str = "post") -> str:
    return (f"<item><title>Post {n}</title><link>http://b.example/{n}/</link>"
            f"<content:encoded>{content}</content:encoded><wp:post_id>{n}</wp:post_id>"
            f"<wp:post_date>2012-01-0{n} 10:00:00</wp:post_date><wp:post_date_gmt>2012-01-0{n} 15:00:00</wp:post_date_gmt>"
            f"<wp:status>{status}</wp:status><wp:post_type>{post_type}</wp:post_type></item>\n")


# --- detection ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("relative, expected", [
    *((f"wordpress/{name}", "wxr") for name in WELL_FORMED_WXR),
    ("wordpress/wordpress-importer/malformed.xml", "wxr"),  # its root is fine; the break is near the end
    *((name, "blogger-atom") for name in BLOGGER_SAMPLES),
    ("blogger/tryghost-migrate/response.json", "blogger-json"),
])
def test_real_files_are_recognised(relative, expected):
    assert detect_format(REAL / relative) == expected


def test_detection_is_by_content_not_name(tmp_path):
    assert detect_format(shutil.copy(THEME, tmp_path / "posts.jsonl")) == "wxr"
    assert detect_format(shutil.copy(API_JSON, tmp_path / "feed.atom")) == "blogger-json"
    assert detect_format(shutil.copy(EXAMPLE_JSONL, tmp_path / "blog.xml")) == "jsonl"
    assert detect_format(shutil.copy(REAL / BLOGGER_SAMPLES[0], tmp_path / "export.wxr")) == "blogger-atom"


@pytest.mark.parametrize("text, expected", [
    ('{"kind": "blogger#postList", "items": []}', "blogger-json"),  # minified, one line
    ('{\n  "kind": "blogger#postList",\n  "items": []\n}\n', "blogger-json"),  # pretty-printed
    ('{"kind": "blogger#postList"}\n', "blogger-json"),  # the API leaves "items" out when there are none
    ('\ufeff[{"id": "1", "content": ""}]', "blogger-json"),
    ('{"id": "a", "url": null, "title": null, "published": null, "html": ""}\n', "jsonl"),
    ('{"id": "a", "items": [1]}\n{"id": "b"}\n', "jsonl"),  # a second value: lines, whatever the keys
    ('{"id": "a", "html": \n{"id": "b", "html": ""}\n', "jsonl"),  # a broken first line of JSON Lines
])
def test_json_shapes_are_told_apart(tmp_path, text, expected):
    assert detect_format(write(tmp_path, "f", text)) == expected


@pytest.mark.parametrize("text, message", [
    ("", r"f:1:1: the file is empty"),
    ("<rss version='2.0'><channel><title>x</title></channel></rss>", r"f:1:1: an RSS feed without the WordPress"),
    ("<?xml version='1.0'?>\n<html><body/></html>", r"f:2:1: the root element <html> is neither"),
    ("title,url\nx,y\n", r"f:1:1: not a format linkkeeper reads"),
    ("<feed><entry>", r"f:1:\d+: "),  # truncated before the root is complete: expat's own position
])
def test_unknown_content_is_refused_naming_file_line_and_column(tmp_path, text, message):
    path = write(tmp_path, "f", text)
    with pytest.raises(ExportError, match=message):
        list(sources.read_posts(path))


# --- WordPress WXR --------------------------------------------------------------------------------------


@pytest.mark.parametrize("relative", WELL_FORMED_WXR)
def test_real_wxr_files_yield_their_published_posts_and_pages(relative):
    assert len(posts(WP / relative)) == WXR_COUNTS[relative]


def test_wxr_post_fields():
    first = posts(IMPORTER / "valid-wxr-1.0.xml")[0]
    assert first.id == "http://localhost/?p=1"
    assert first.url == "http://localhost/?p=1"
    assert first.title == "Hello world!"
    assert first.published == "2010-10-20T14:08:20+00:00"
    assert first.labels == ["Uncategorized"]  # WXR 1.0 lists the category twice (with and without domain)
    assert first.line == 49
    # The https namespace of WordPress.com exports; local time with the offset WordPress's two dates imply.
    by_title = {p.title: p for p in posts(THEME)}
    quote = by_title["Post Format: Quote"]
    assert quote.id == "https://wpthemetestdata.wordpress.com/?p=575"
    assert quote.published == "2010-02-05T08:13:15-07:00"
    assert [a.href for a in scan_anchors(quote.html)] == ["http://www.brainyquote.com/quotes/quotes/m/marktwain163473.html"]
    assert "Level 1" in by_title  # pages are read
    # Drafts, scheduled posts, attachments and menu items are not.
    assert not {"Draft Post", "Scheduled", "Image Alignment 1200x4002", "Home"} & set(by_title)
    info = source_info(THEME)
    assert info == {"title": "Theme Unit Test Data", "blog_url": "https://wpthemetestdata.wordpress.com",
                    "format": "wxr", "version": "1.2"}


def test_wxr_post_body_is_the_cdata_html():
    (post,) = posts(IMPORTER / "wxr-utf-8-challenges.xml")
    assert post.html.startswith("<!-- wp:paragraph -->")
    assert "\u202e" in source_info(IMPORTER / "wxr-utf-8-challenges.xml")["title"]  # a numeric entity in the file
    (simple,) = posts(IMPORTER / "wxr-simple.xml")
    assert [a.href for a in scan_anchors(simple.html)] == [
        "https://playground.internal/path/one", "https://playground.internal/path-not-taken", "https://w.org"]
    assert simple.updated == "2024-06-10T12:28:55+00:00"


def test_undeclared_excerpt_prefix_is_read_with_a_warning_naming_file_and_line():
    warnings: list[str] = []
    found = posts(SAMPLE2_WXR, warnings)
    assert [p.title for p in found] == ["About Me", "A (somewhat) brief history", "Rolling in Hawaii",
                                        "This about sums up my life."]
    assert len(warnings) == 1
    assert warnings[0].startswith(f"{SAMPLE2_WXR}:62:1: undeclared namespace prefix 'excerpt'")


def test_missing_version_tag_is_read_with_a_warning():
    warnings: list[str] = []
    assert posts(IMPORTER / "missing-version-tag.xml", warnings) == []
    assert warnings == [f"{IMPORTER / 'missing-version-tag.xml'}:27: the channel has no <wp:wxr_version>; "
                        "read as WXR 1.1, the version its namespace names"]
    assert source_info(IMPORTER / "missing-version-tag.xml")["version"] == "1.1"


def test_unknown_version_is_read_with_a_warning(tmp_path):
    warnings: list[str] = []
    path = write(tmp_path, "v.xml", wxr(item(1, "x"), version="abc"))
    assert len(posts(path, warnings)) == 1
    assert warnings == [f"{path}:5: unknown WXR version 'abc'; read as WXR 1.2, the version its namespace names"]


def test_malformed_wxr_names_file_line_and_column():
    with pytest.raises(ExportError) as caught:
        posts(IMPORTER / "malformed.xml")
    assert str(caught.value) == f"{IMPORTER / 'malformed.xml'}:90:3: mismatched tag"


def test_repeated_post_ids_are_made_unique_with_a_warning():
    # The pelican sample was edited by hand: two published posts share post id 175, two pages 334.
    warnings: list[str] = []
    ids = [p.id for p in posts(PELICAN_WXR, warnings)]
    assert len(ids) == len(set(ids)) == 9
    assert "http://thisisa.test/?p=175#2" in ids and "http://thisisa.test/?p=334#2" in ids
    assert len(warnings) == 2 and all(w.startswith(f"{PELICAN_WXR}:") and "repeats" in w for w in warnings)


def test_wxr_statuses_types_and_dates(tmp_path):
    path = write(tmp_path, "w.xml", wxr(item(1, "a"), item(2, "b", status="draft"), item(3, "c", post_type="page"),
                                        item(4, "d", post_type="attachment"), item(5, "e", status="private"),
                                        ns="https://wordpress.org/export/1.1/"))
    found = posts(path)
    assert [(p.id, p.html) for p in found] == [("http://b.example/?p=1", "a"), ("http://b.example/?p=3", "c")]
    assert found[0].published == "2012-01-01T10:00:00-05:00"


def test_entity_declarations_are_refused_in_wxr_too(tmp_path):
    text = wxr(item(1, "&lol2;")).replace(
        "<!-- generated -->", '<!DOCTYPE rss [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>')
    path = write(tmp_path, "lol.xml", text)
    with pytest.raises(ExportError, match=r"lol\.xml:2:\d+: entity declarations are refused"):
        detect_format(path)
    with pytest.raises(ExportError, match="entity declarations are refused"):
        list(sources.wxr.read_export(path))


def test_rss_without_wordpress_namespace_is_refused_by_the_reader(tmp_path):
    path = write(tmp_path, "r.xml", "<rss version='2.0'>\n<channel><item/></channel></rss>")
    with pytest.raises(ExportError, match=r"r\.xml:1:1: an RSS feed without the WordPress export namespace"):
        list(sources.wxr.read_export(path))


# --- Blogger API v3 JSON ----------------------------------------------------------------------------------


def test_api_items_array():
    found = posts(API_JSON)
    assert [p.id for p in found] == [f"tag:blogger.com,1999:blog-12345678.post-{n}"
                                     for n in ("1234563682306064159", "2345676562043355500", "3456784740969377563")]
    first, _, third = found
    assert (first.url, first.title, first.published, first.updated) == (
        "http://example.blogspot.com/2017/06/lorem.html", "Lorem", "2017-06-20T00:32:00-04:00",
        "2017-06-20T00:32:57-04:00")
    assert first.labels == ["books", "This & That", "Good &amp; Bad"]  # as the API gave them
    assert first.line == 2 and third.line == 43
    assert [a.href for a in scan_anchors(third.html)][0].startswith("https://3.bp.blogspot.com/")
    assert source_info(API_JSON) == {"title": None, "blog_url": "http://example.blogspot.com/", "blog_id": "12345678",
                                     "format": "blogger-json"}


def test_api_post_list_skips_drafts_and_pages(tmp_path):
    doc = {"kind": "blogger#postList", "nextPageToken": "x", "items": [
        {"kind": "blogger#post", "id": "1", "content": "live", "status": "LIVE"},
        {"kind": "blogger#post", "id": "2", "content": "draft", "status": "DRAFT"},
        {"kind": "blogger#page", "id": "3", "content": "page"},
        {"kind": "blogger#post", "id": "4", "content": "no status"}]}
    path = write(tmp_path, "list.json", json.dumps(doc, indent=1))
    assert [(p.id, p.html) for p in posts(path)] == [("1", "live"), ("4", "no status")]
    assert posts(write(tmp_path, "empty.json", '{"kind": "blogger#postList", "etag": "x"}')) == []


@pytest.mark.parametrize("text, message", [
    ('[\n  {"id": "1", "content": "x"},\n]\n', r"bad\.json:3:1: Expecting value"),
    ('{"items": [{"id": "1"}]}', r'bad\.json:1:12: post 1 has no "content" string'),
    ('{\n  "posts": []\n}', r'bad\.json:1:1: a JSON object without "items"'),
    ('[{"content": "x"}]', r'bad\.json:1:2: a post without an "id"'),
    (b'[{"id": "1", "content": "\xff"}]', r"bad\.json:1:26: not UTF-8 text"),
])
def test_bad_api_json_names_file_line_and_column(tmp_path, text, message):
    with pytest.raises(ExportError, match=message):
        posts(write(tmp_path, "bad.json", text))


# --- JSON Lines -----------------------------------------------------------------------------------------


def test_example_jsonl():
    found = posts(EXAMPLE_JSONL)
    assert [p.id for p in found] == ["example-1", "example-2", "example-3"]
    assert found[0].labels == ["politics", "climate"] and found[0].updated == "2011-09-24T09:00:00-04:00"
    assert found[1].updated is None and found[2].line == 3
    assert [a.href for a in scan_anchors(found[2].html)] == [""]


@pytest.mark.parametrize("lines, message", [
    (['{"id": "a", "url": null, "title": null, "published": null, "html": ""}', '{"id": "b", "html": "x"}'],
     r'p\.jsonl:2: missing "url", "title", "published"'),
    (['{"id": "a", "url": null, "title": null, "published": null, "html": "x",}'], r"p\.jsonl:1:72: Expecting"),
    (['{"id": "a", "url": null, "title": null, "published": null, "html": ""}', "", '["not", "an", "object"]'],
     r"p\.jsonl:3: a line must be one JSON object"),
    (['{"id": 7, "url": null, "title": null, "published": null, "html": ""}'], r'p\.jsonl:1: "id" must be'),
    (['{"id": "a", "url": 3, "title": null, "published": null, "html": ""}'], r'p\.jsonl:1: "url" must be'),
    (['{"id": "a", "url": null, "title": null, "published": null, "html": "", "labels": "x"}'],
     r'p\.jsonl:1: "labels" must be'),
])
def test_bad_jsonl_names_file_and_line(tmp_path, lines, message):
    with pytest.raises(ExportError, match=message):
        posts(write(tmp_path, "p.jsonl", "\n".join(lines) + "\n"))


def test_jsonl_blank_lines_bom_and_crlf(tmp_path):
    line = '{"id": "%s", "url": null, "title": "T", "published": null, "html": "<b>x</b>"}'
    path = write(tmp_path, "p.jsonl", "\ufeff" + line % "a" + "\r\n\r\n   \n" + line % "b" + "\r\n")
    assert [(p.id, p.line, p.title) for p in posts(path)] == [("a", 1, "T"), ("b", 4, "T")]


# --- writing back: byte-identical without repairs, only the hrefs with ------------------------------------


@pytest.mark.parametrize("relative", [f"wordpress/{n}" for n in WELL_FORMED_WXR] + BLOGGER_SAMPLES
                         + ["blogger/tryghost-migrate/response.json"])
def test_write_patched_without_replacements_is_byte_identical(relative, tmp_path):
    out = tmp_path / "out"
    assert write_patched(REAL / relative, out, {}) == 0
    assert out.read_bytes() == (REAL / relative).read_bytes()


def replaced(before: bytes, old: bytes, new: bytes, after_offset: int = 0) -> bytes:
    """`before` with the first `old` at or after `after_offset` replaced by `new` (exactly one change)."""
    at = before.index(old, after_offset)
    return before[:at] + new + before[at + len(old):]


def test_wxr_href_inside_cdata_gets_html_escaping_only(tmp_path):
    path = write(tmp_path, "w.xml", wxr(
        item(1, '<![CDATA[<p>See <a href="http://old.example/a">a</a> and <a title="t" href="">b</a>'
                ' and <a>c</a></p>]]>'),
        item(2, "&lt;a href='http://text.example/'&gt;x&lt;/a&gt;")))
    out = tmp_path / "out.xml"
    changes = {"http://b.example/?p=1": {0: "http://n.example/?x=1&y=]]>", 1: "http://e.example/", 2: "http://c/"},
               "http://b.example/?p=2": {0: "http://t.example/?a&b"}}
    assert write_patched(path, out, changes) == 4
    data = out.read_bytes()
    assert b'<a href="http://n.example/?x=1&amp;y=]]&gt;">a</a>' in data
    assert b'<a title="t" href="http://e.example/">b</a>' in data and b'<a href="http://c/">c</a>' in data
    assert b"&lt;a href='http://t.example/?a&amp;amp;b'&gt;" in data
    first, second = posts(out)
    assert [a.href for a in scan_anchors(first.html)] == ["http://n.example/?x=1&y=]]>", "http://e.example/", "http://c/"]
    assert scan_anchors(second.html)[0].href == "http://t.example/?a&b"


def test_wxr_patch_of_a_real_post_changes_only_that_href(tmp_path):
    out = tmp_path / "out.xml"
    quote = "https://wpthemetestdata.wordpress.com/?p=575"
    new = "https://web.archive.org/web/20100205000000/http://www.brainyquote.com/quotes/quotes/m/marktwain163473.html"
    assert write_patched(THEME, out, {quote: {0: new}}) == 1
    before = THEME.read_bytes()
    old = b"http://www.brainyquote.com/quotes/quotes/m/marktwain163473.html"
    assert out.read_bytes() == replaced(before, old, new.encode())


def test_api_json_patch_changes_only_the_href_in_the_content_string(tmp_path):
    out = tmp_path / "out.json"
    dolor = "tag:blogger.com,1999:blog-12345678.post-3456784740969377563"
    new = 'https://web.archive.org/web/2017id_/https://3.bp.blogspot.com/photo.jpg?a=1&b="2"&c=\u00e9\U0001F600'
    assert write_patched(API_JSON, out, {dolor: {0: new}}) == 1
    before = API_JSON.read_bytes()
    old = b"https://3.bp.blogspot.com/-dQmeqRna7MA/V56ZIKQmPJI/AAAAAAAAJeU/1234_abcd3YT3BmCduGnz2tE4xrlp_c1gCLcB/s1600/photo.jpg"
    # HTML escaping (&amp; &quot;), then JSON escaping (\" and, the file being ASCII, \u escapes).
    spelled = (b"https://web.archive.org/web/2017id_/https://3.bp.blogspot.com/photo.jpg?a=1&amp;b=&quot;2&quot;"
               b"&amp;c=\\u00e9\\ud83d\\ude00")
    assert out.read_bytes() == replaced(before, old, spelled)
    assert scan_anchors({p.id: p for p in posts(out)}[dolor].html)[0].href == new
    assert json.loads(out.read_bytes())[0] == json.loads(before)[0]


def test_json_string_escapes_map_back_to_the_file(tmp_path):
    html = '<p>caf\u00e9 \U0001F600 "q" \\ /</p>\n<a href="http://old.example/">x</a><a href=http://bare.example/>y</a>'
    line = json.dumps({"id": "a", "url": None, "title": None, "published": None, "html": html, "extra": [1, 2]})
    other = json.dumps({"title": "second", "html": "<a href='http://keep/'>k</a>", "id": "b", "url": None,
                        "published": None}, ensure_ascii=False, indent=None, separators=(",", ":"))
    path = write(tmp_path, "p.jsonl", line.replace("/", "\\/") + "\n" + other + "\n")
    out = tmp_path / "out.jsonl"
    assert write_patched(path, out, {"a": {0: "http://new.example/?a=1&b=2", 1: "http://has space/"}}) == 2
    first_line, second_line = out.read_bytes().split(b"\n")[:2]
    assert second_line == other.encode()
    assert b'href=\\"http:\\/\\/old.example\\/\\"' not in first_line
    assert b'href=\\"http://new.example/?a=1&amp;b=2\\"' in first_line
    assert b'href=\\"http://has space/\\">y' in first_line  # an unquoted value that needs quotes gets them
    a, b = posts(out)
    assert [x.href for x in scan_anchors(a.html)] == ["http://new.example/?a=1&b=2", "http://has space/"]
    assert a.html.startswith('<p>caf\u00e9 \U0001F600 "q" \\ /</p>')
    assert json.loads(first_line)["extra"] == [1, 2]


def test_jsonl_empty_href_is_filled_in_place(tmp_path):
    out = tmp_path / "out.jsonl"
    assert write_patched(EXAMPLE_JSONL, out, {"example-3": {0: "https://web.archive.org/web/2012/http://cbc.ca/x"}}) == 1
    before = EXAMPLE_JSONL.read_bytes()
    at = before.index(b'<a href=\\"\\">Original Article')
    at += len(b'<a href=\\"')
    expected = before[:at] + b"https://web.archive.org/web/2012/http://cbc.ca/x" + before[at:]
    assert out.read_bytes() == expected


def test_unknown_post_or_anchor_writes_nothing(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(KeyError, match="no-such-post"):
        write_patched(API_JSON, out, {"no-such-post": {0: "http://x/"}})
    with pytest.raises(KeyError, match="no-such-post"):
        write_patched(EXAMPLE_JSONL, out, {"no-such-post": {0: "http://x/"}})
    with pytest.raises(ValueError, match="has no anchor 5"):
        write_patched(THEME, out, {"https://wpthemetestdata.wordpress.com/?p=575": {5: "http://x/"}})
    # A draft is not a post, even though the file holds it.
    with pytest.raises(KeyError):
        write_patched(IMPORTER / "small-export.xml", out, {"http://localhost/?p=88": {0: "http://x/"}})
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_patch_html_counts_only_real_changes():
    html = '<a href="http://a/">a</a> <a href="http://b/">b</a>'
    assert patching.patch_html(html, {0: "http://a/", 1: "http://c/?x&y"}) == (
        '<a href="http://a/">a</a> <a href="http://c/?x&amp;y">b</a>', 1)


def test_json_raw_decoding_keeps_offsets():
    raw = r'a\"\u00e9\ud83d\ude00\n\/b'
    decoded, starts, ends = jsontext.decode_raw(raw)
    assert decoded == 'a"\u00e9\U0001F600\n/b'
    assert [raw[s:e] for s, e in zip(starts, ends)] == ["a", r"\"", r"\u00e9", r"\ud83d\ude00", r"\n", r"\/", "b"]
