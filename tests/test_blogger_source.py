"""The Blogger export reader and patcher, against the real sample exports in tests/data/real/blogger/."""

from __future__ import annotations

import difflib
import time
import tracemalloc
from pathlib import Path

import pytest

from linkkeeper.text.html import scan_anchors
from linkkeeper.sources.blogger import ExportError, Post, feed_info, read_export, write_patched

REAL = Path(__file__).resolve().parent / "data" / "real"
BLOGGER = REAL / "blogger"
SAMPLE2 = BLOGGER / "google-blog-converters" / "blogger-sample2.xml"
CONVERTER = BLOGGER / "google-blog-converters" / "blogger-sample.xml"
SANGUPTA = BLOGGER / "sangupta-blog-parser" / "blogger-sample.xml"
PELICAN = BLOGGER / "pelican" / "bloggerexport.xml"
TAKEOUT = BLOGGER / "blot" / "export.atom"
ALL_SAMPLES = [SAMPLE2, CONVERTER, SANGUPTA, PELICAN, TAKEOUT]

SAMPLE2_BLOG = "tag:blogger.com,1999:blog-3113891067179933828"
HISTORY_ID = f"{SAMPLE2_BLOG}.post-720686382913388888"



def posts(path, warnings=None) -> list[Post]:
    return list(read_export(path, warn=(warnings.append if warnings is not None else lambda message: None)))


def by_id(items: list[Post]) -> dict[str, Post]:
    return {p.id: p for p in items}


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


def legacy_feed(*contents: str, post_ids: tuple[str, ...] | None = None) -> str:
    """A minimal legacy export whose posts have the given raw (already XML-escaped) content."""
    entries = []
    for n, content in enumerate(contents, 1):
        post_id = post_ids[n - 1] if post_ids else f"tag:blogger.com,1999:blog-9.post-{n}"
        entries.append(
            "<entry>"
            f"<id>{post_id}</id>"
            "<published>2010-01-01T00:00:00.000Z</published>"
            "<category scheme='http://schemas.google.com/g/2005#kind' "
            "term='http://schemas.google.com/blogger/2008/kind#post'/>"
            f"<title type='text'>Post {n}</title>"
            f"<content type='html'>{content}</content>"
            f"<link rel='alternate' type='text/html' href='http://b.blogspot.com/{n}.html'/>"
            "</entry>\n")
    return ("<?xml version='1.0' encoding='UTF-8'?>\n<feed xmlns='http://www.w3.org/2005/Atom'>\n"
            "<id>tag:blogger.com,1999:blog-9.archive</id>\n" + "".join(entries) + "</feed>\n")


# --- reading the real samples -------------------------------------------------------------------------


def test_genuine_legacy_export_yields_its_four_posts():
    # 55 entries: 1 template, 47 settings, 4 posts (none a draft), 3 comments.
    found = posts(SAMPLE2)
    assert len(found) == 4
    history = by_id(found)[HISTORY_ID]
    assert history.title == "A (somewhat) brief history"
    assert history.url == "http://www.blogger.com/blogspot/jjsfavoritethings/2008/04/somewhat-brief-history.html"
    assert history.published == "2008-04-15T09:28:00.000-07:00"
    assert history.updated == "2008-11-11T16:05:24.968-08:00"
    assert history.labels == ["individual", "Everything", "Previously Unpublished"]
    assert history.line == 1775
    # The content is XML-unescaped once: "&amp;amp;" in the file is "&amp;" in the HTML.
    assert '<a href="http://www.zwire.com/site/news.asp?brd=1142&amp;nav_sec=22821">' in history.html
    assert [a.href for a in scan_anchors(history.html)][:2] == [
        "http://www.zwire.com/site/news.asp?brd=1142&nav_sec=22821", "http://www.mit.edu/"]
    about = by_id(found)[f"{SAMPLE2_BLOG}.post-5588095959182965102"]
    assert (about.title, about.labels) == ("About Me", ["Already Published", "Everything"])


def test_feed_info_of_legacy_export():
    assert feed_info(SAMPLE2) == {
        "title": "JJ's Favorite Things",
        "blog_url": "http://www.blogger.com/blogspot/jjsfavoritethings/",
        "blog_id": "3113891067179933828",
        "format": "blogger-legacy",
    }


def test_converter_output_with_ns0_prefix_yields_posts_not_comments():
    found = posts(CONVERTER)
    assert [p.id for p in found] == ["post-17", "post-18", "post-20"]
    first = found[0]
    assert first.title == "A test of newlines and labels/categories"
    assert first.url == "http://jlueck.wordpress.com/2008/05/16/a-test-of-newlines-and-labelscategories/"
    assert first.labels == ["NewTag", "DataPortability", "wordpress2blogger"]
    assert first.published == "2008-05-16T19:40:23Z"
    assert first.updated is None
    assert found[1].labels == []
    info = feed_info(CONVERTER)
    # This converter writes the feed <title> after the entries, beyond what feed_info reads.
    assert info == {"title": None, "blog_url": "http://jlueck.wordpress.com", "blog_id": None,
                    "format": "blogger-legacy"}


def test_trimmed_export_skips_settings_page_draft_and_comment():
    found = posts(SANGUPTA)
    assert len(found) == 1
    post = found[0]
    # The id is broken over two lines in the file.
    assert post.id == "tag:blogger.com,1999:blog-2283285346334834437.post-4980612023114433366"
    assert post.url == "http://www.poetinside.com/2007/06/man-is-born.html"
    assert post.title == "A MAN IS BORN!"
    assert post.labels == ["My Poems"]
    assert post.published == "2007-06-25T09:55:00.001+05:30"
    assert post.html == "man is born poem!"
    assert feed_info(SANGUPTA)["blog_url"] == "http://www.poetinside.com/"


def test_undeclared_app_prefix_is_read_leniently_with_one_warning():
    warnings: list[str] = []
    found = posts(PELICAN, warnings)
    assert [p.id for p in found] == ["tag:blogger.com,1999:blog-6303278419262689239.post-1858599377741856733"]
    post = found[0]
    assert post.title == "The Steel Windpipe"
    assert post.url == "http://youngdoctornotes.blogspot.com/2010/11/the-steel-windpipe.html"
    assert post.labels == []
    assert post.published == "2010-11-27T07:12:00.000-08:00"
    # Two entries use app:control undeclared; the warning is given once, at the first.
    assert len(warnings) == 1
    assert warnings[0].startswith(f"{PELICAN}:973:")
    assert "undeclared namespace prefix 'app'" in warnings[0]
    info = feed_info(PELICAN)
    assert info["title"] == "Notes of a Young Doctor"
    assert info["blog_id"] == "6303278419262689239"  # the feed id has a newline before </id>


def test_takeout_export_yields_live_posts_only():
    found = posts(TAKEOUT)
    assert [p.id for p in found] == ["tag:blogger.com,1999:blog-1.post-1", "tag:blogger.com,1999:blog-1.post-2"]
    first, second = found
    assert first.title == "Kinship terms"
    assert first.url == "/2014/07/kinship-terms.html"  # the feed names no blog URL
    assert first.published == "2014-07-28T03:35:00Z"
    assert first.labels == []
    assert [a.href for a in scan_anchors(first.html)] == [
        "https://koalanguage.blogspot.com/2021/11/kion-fari.html", "https://seadilanguage.blogspot.com/other.html"]
    assert second.title is None
    assert feed_info(TAKEOUT) == {"title": "Example", "blog_url": None, "blog_id": "1", "format": "blogger-takeout"}


def test_takeout_labels_and_blog_url(tmp_path):
    path = write(tmp_path, "feed.atom", """<?xml version='1.0' encoding='UTF-8'?>
<feed xmlns='http://www.w3.org/2005/Atom' xmlns:blogger='http://schemas.google.com/blogger/2018'>
  <id>tag:blogger.com,1999:blog-77</id>
  <link rel='alternate' type='text/html' href='https://x.blogspot.com/'/>
  <entry>
    <id>tag:blogger.com,1999:blog-77.post-5</id>
    <blogger:type>POST</blogger:type>
    <blogger:status>LIVE</blogger:status>
    <author><name>A</name><blogger:type>BLOGGER</blogger:type></author>
    <content type='html'>x</content>
    <category scheme='tag:blogger.com,1999:blog-77' term='News'/>
    <blogger:filename>/2011/10/nach-suzhou.html</blogger:filename>
    <blogger:trashed></blogger:trashed>
  </entry>
  <entry>
    <id>tag:blogger.com,1999:blog-77.post-6</id>
    <blogger:type>POST</blogger:type>
    <blogger:status>SOFT_TRASHED</blogger:status>
    <content type='html'>y</content>
  </entry>
</feed>""")
    (post,) = posts(path)
    assert post.url == "https://x.blogspot.com/2011/10/nach-suzhou.html"
    assert post.labels == ["News"]


def test_app_namespace_of_2007_and_xhtml_content(tmp_path):
    path = write(tmp_path, "x.xml", """<feed xmlns='http://www.w3.org/2005/Atom'>
<entry><id>a.post-1</id><app:control xmlns:app='http://www.w3.org/2007/app'><app:draft>yes</app:draft></app:control>
<content type='html'>draft</content></entry>
<entry><id>a.post-2</id><title type='html'>Fish &amp;amp; &lt;b&gt;chips&lt;/b&gt;</title>
<content type='xhtml'><div xmlns='http://www.w3.org/1999/xhtml'>
<p>See <a href='http://x/?a=1&amp;b=2'>this</a><br/>now</p></div></content></entry>
</feed>""")
    (post,) = posts(path)
    assert post.id == "a.post-2"
    assert post.title == "Fish & chips"
    assert post.html == '\n<p>See <a href="http://x/?a=1&amp;b=2">this</a><br />now</p>'
    assert scan_anchors(post.html)[0].href == "http://x/?a=1&b=2"


# --- bad input ----------------------------------------------------------------------------------------


def test_malformed_export_names_file_line_and_column(tmp_path):
    path = write(tmp_path, "bad.xml",
                 "<feed xmlns='http://www.w3.org/2005/Atom'>\n<entry>\n  <id>x</idd>\n</entry></feed>")
    with pytest.raises(ExportError) as caught:
        posts(path)
    assert (caught.value.line, caught.value.column) == (3, 10)
    assert str(caught.value) == f"{path}:3:10: mismatched tag"


def test_truncated_export_raises_after_the_complete_posts(tmp_path):
    data = SAMPLE2.read_bytes()
    path = write(tmp_path, "cut.xml", data[:len(data) * 2 // 3])
    with pytest.raises(ExportError) as caught:
        posts(path)
    assert str(caught.value).startswith(f"{path}:{caught.value.line}:{caught.value.column}: ")
    assert "truncated" in caught.value.message
    path = write(tmp_path, "cut2.xml", data[:data.rindex(b"</entry>") + 9])
    seen = []
    with pytest.raises(ExportError, match=r"cut2\.xml:1911:1: no element found"):
        for post in read_export(path):
            seen.append(post)
    assert len(seen) == 4


def test_empty_file_and_non_atom_root_are_refused(tmp_path):
    with pytest.raises(ExportError, match=r"empty\.xml:1:1: "):
        posts(write(tmp_path, "empty.xml", b""))
    with pytest.raises(ExportError, match="not an Atom feed"):
        posts(write(tmp_path, "rss.xml", "<rss version='2.0'><channel/></rss>"))


def test_billion_laughs_is_refused_quickly(tmp_path):
    levels = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{n} "{("&lol%d;" % (n - 1)) * 10}">' for n in range(1, 10)]
    path = write(tmp_path, "lol.xml", '<?xml version="1.0"?>\n<!DOCTYPE feed [\n' + "\n".join(levels)
                 + "\n]>\n<feed xmlns='http://www.w3.org/2005/Atom'><title>&lol9;</title></feed>")
    started = time.monotonic()
    with pytest.raises(ExportError, match="entity declarations are refused") as caught:
        feed_info(path)
    assert caught.value.line == 3
    assert time.monotonic() - started < 5
    with pytest.raises(ExportError):
        posts(path)


def test_external_entities_are_refused(tmp_path):
    secret = write(tmp_path, "secret.txt", "SECRET")
    path = write(tmp_path, "xxe.xml", '<?xml version="1.0"?>\n'
                 f'<!DOCTYPE feed [<!ENTITY xxe SYSTEM "{secret.as_uri()}">]>\n'
                 "<feed xmlns='http://www.w3.org/2005/Atom'><entry><id>a.post-1</id>"
                 "<content type='html'>&xxe;</content></entry></feed>")
    with pytest.raises(ExportError, match="entity declarations are refused"):
        posts(path)
    # An external DTD is never fetched, and is refused rather than read past: expat would drop, without a
    # word, an attribute's reference to an entity it might define.
    path = write(tmp_path, "dtd.xml", f'<?xml version="1.0"?>\n<!DOCTYPE feed SYSTEM "{secret.as_uri()}">\n'
                 "<feed xmlns='http://www.w3.org/2005/Atom'><entry><id>a.post-1</id>"
                 "<content type='html'>&ext;</content></entry></feed>")
    with pytest.raises(ExportError, match=r"dtd\.xml:2:\d+: external DTD '.*secret\.txt' refused"):
        posts(path)


def test_other_undeclared_prefix_is_read_by_local_name(tmp_path):
    warnings: list[str] = []
    path = write(tmp_path, "u.xml", legacy_feed("a").replace("<title type='text'>Post 1</title>",
                                                            "<x:title>Post 1</x:title>"))
    (post,) = posts(path, warnings)
    assert post.title == "Post 1"
    assert len(warnings) == 1 and "undeclared namespace prefix 'x'" in warnings[0] and "u.xml:" in warnings[0]


# --- write_patched ------------------------------------------------------------------------------------


@pytest.mark.parametrize("sample", ALL_SAMPLES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_write_patched_without_replacements_is_byte_identical(sample, tmp_path):
    out = tmp_path / "out.xml"
    assert write_patched(sample, out, {}) == 0
    assert out.read_bytes() == sample.read_bytes()


def changed_middle(before: bytes, after: bytes) -> tuple[int, bytes, bytes]:
    """Where two byte strings first differ, and what stands between their common prefix and suffix."""
    start = next((i for i, (x, y) in enumerate(zip(before, after)) if x != y), min(len(before), len(after)))
    end = 0
    while end < min(len(before), len(after)) - start and before[-1 - end] == after[-1 - end]:
        end += 1
    return start, before[start:len(before) - end], after[start:len(after) - end]


def changed_lines(before: bytes, after: bytes) -> list[tuple[bytes, bytes]]:
    matcher = difflib.SequenceMatcher(None, before.splitlines(True), after.splitlines(True), autojunk=False)
    return [(b"".join(matcher.a[i1:i2]), b"".join(matcher.b[j1:j2]))
            for tag, i1, i2, j1, j2 in matcher.get_opcodes() if tag != "equal"]


def test_write_patched_changes_only_the_chosen_href(tmp_path):
    out = tmp_path / "patched.xml"
    new = "https://web.archive.org/web/2008/http://www.mit.edu/"
    assert write_patched(SAMPLE2, out, {HISTORY_ID: {1: new}}) == 1
    before, after = SAMPLE2.read_bytes(), out.read_bytes()
    old = b"http://www.mit.edu/"
    at = before.index(b'&lt;a href="' + old) + len(b'&lt;a href="')
    start, old_bytes, _ = changed_middle(before, after)
    assert at <= start and start + len(old_bytes) <= at + len(old)
    assert after == before[:at] + new.encode() + before[at + len(old):]
    old_posts, new_posts = by_id(posts(SAMPLE2)), by_id(posts(out))
    old_anchors = scan_anchors(old_posts[HISTORY_ID].html)
    new_anchors = scan_anchors(new_posts[HISTORY_ID].html)
    assert new_anchors[1].href == new
    assert len(new_anchors) == len(old_anchors)
    assert [a.href for a in new_anchors if a.index != 1] == [a.href for a in old_anchors if a.index != 1]
    for post_id, post in old_posts.items():
        if post_id != HISTORY_ID:
            assert new_posts[post_id] == post


def test_href_with_ampersand_and_quote_round_trips(tmp_path):
    out = tmp_path / "patched.xml"
    new = 'http://web.archive.org/web/2008id_/http://x.example/a?b=1&c=2&"q"'
    other = f"{SAMPLE2_BLOG}.post-7031156583478223661"
    assert write_patched(SAMPLE2, out, {HISTORY_ID: {0: new, 3: "http://truveo.example/"},
                                        other: {0: "http://t.example/?a&b"}}) == 3
    after = by_id(posts(out))
    assert [a.href for a in scan_anchors(after[HISTORY_ID].html)] == [
        new, "http://www.mit.edu/", "http://www-tech.mit.edu/V118/N64/butler.64a.html", "http://truveo.example/"]
    assert scan_anchors(after[other].html)[0].href == "http://t.example/?a&b"
    # Escaped twice, as the file spells HTML: once for the attribute, once for XML.
    assert b"a?b=1&amp;amp;c=2&amp;amp;&amp;quot;q&amp;quot;" in out.read_bytes()


def test_anchor_without_href_gets_one_inserted(tmp_path):
    src = write(tmp_path, "src.xml", legacy_feed(
        "Text.&lt;br /&gt;&lt;a&gt;Original Article&lt;/a&gt;&lt;br /&gt;Source: Paper",
        "&lt;a href=&quot;http://keep.example/&quot;&gt;k&lt;/a&gt; &lt;a&gt;Original Article&lt;/a&gt;"))
    out = tmp_path / "out.xml"
    changes = {"tag:blogger.com,1999:blog-9.post-1": {0: "http://new.example/?a=1&b=2"},
               "tag:blogger.com,1999:blog-9.post-2": {1: "http://two.example/"}}
    assert write_patched(src, out, changes) == 2
    data = out.read_bytes()
    assert b'&lt;a href="http://new.example/?a=1&amp;amp;b=2"&gt;Original Article' in data
    # The second post spells quotes as &quot;, so the inserted attribute does too.
    assert b"&lt;a href=&quot;http://two.example/&quot;&gt;Original Article" in data
    first, second = posts(out)
    assert scan_anchors(first.html)[0].href == "http://new.example/?a=1&b=2"
    assert [a.href for a in scan_anchors(second.html)] == ["http://keep.example/", "http://two.example/"]


def test_cdata_and_mixed_content_and_crlf(tmp_path):
    src = write(tmp_path, "src.xml", legacy_feed(
        '<![CDATA[<p>One <a href="http://old.example/?a=1&amp;b=2">x</a></p>\r\n]]>'
        "&lt;p&gt;Two &lt;a href='http://two.example/'&gt;y&lt;/a&gt;&#10;\r\n<![CDATA[<a>Original Article</a>]]>"
    ).replace("\n", "\r\n"))
    out = tmp_path / "out.xml"
    pid = "tag:blogger.com,1999:blog-9.post-1"
    before = posts(src)[0]
    assert [a.href for a in scan_anchors(before.html)] == ["http://old.example/?a=1&b=2", "http://two.example/", None]
    changes = {0: "http://a.example/?x=1&y=]]>", 1: "http://b.example/'s", 2: "http://c/"}
    assert write_patched(src, out, {pid: changes}) == 3
    after = posts(out)[0]
    assert [a.href for a in scan_anchors(after.html)] == [
        "http://a.example/?x=1&y=]]>", "http://b.example/'s", "http://c/"]
    old_bytes, new_bytes = src.read_bytes(), out.read_bytes()
    for old_lines, new_lines in changed_lines(old_bytes, new_bytes):
        assert old_lines.count(b"\r") == new_lines.count(b"\r")
    head, tail = old_bytes.index(b"<content"), old_bytes.index(b"</content>")
    assert new_bytes[:head] == old_bytes[:head]
    assert new_bytes[-(len(old_bytes) - tail):] == old_bytes[tail:]
    assert b'<a href="http://a.example/?x=1&amp;y=]]&gt;">' in new_bytes  # inside CDATA: HTML escaping only
    assert b"&lt;a href='http://b.example/&amp;#39;s'&gt;" in new_bytes
    assert b'<![CDATA[<a href="http://c/">Original Article</a>]]>' in new_bytes


def test_unchanged_href_is_not_counted_and_identical(tmp_path):
    out = tmp_path / "out.xml"
    assert write_patched(SAMPLE2, out, {HISTORY_ID: {1: "http://www.mit.edu/"}}) == 0
    assert out.read_bytes() == SAMPLE2.read_bytes()


def test_unknown_post_or_anchor_is_an_error_and_writes_nothing(tmp_path):
    out = tmp_path / "out.xml"
    with pytest.raises(KeyError, match="no-such-post"):
        write_patched(SAMPLE2, out, {"no-such-post": {0: "http://x/"}})
    with pytest.raises(ValueError, match="has no anchor 9"):
        write_patched(SAMPLE2, out, {HISTORY_ID: {9: "http://x/"}})
    # A comment is not a post, even though its id looks like one.
    with pytest.raises(KeyError):
        write_patched(SANGUPTA, out, {"tag:blogger.com,1999:blog-2283285346334834437.post-5668650518194610508":
                                      {0: "http://x/"}})
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_patching_in_place_and_other_samples(tmp_path):
    work = tmp_path / "export.atom"
    work.write_bytes(TAKEOUT.read_bytes())
    assert write_patched(work, work, {"tag:blogger.com,1999:blog-1.post-1": {1: "http://w.example/"}}) == 1
    assert [a.href for a in scan_anchors(posts(work)[0].html)][1] == "http://w.example/"
    out = tmp_path / "conv.xml"
    assert write_patched(CONVERTER, out, {"post-18": {0: "http://img.example/a.png"}}) == 1
    assert scan_anchors(by_id(posts(out))["post-18"].html)[0].href == "http://img.example/a.png"
    assert [p.html for p in posts(out) if p.id != "post-18"] == [p.html for p in posts(CONVERTER) if p.id != "post-18"]


def test_xhtml_content_is_patched_as_markup(tmp_path):
    src = write(tmp_path, "x.xml", """<feed xmlns='http://www.w3.org/2005/Atom'>
<entry><id>a.post-1</id><content type='xhtml'><div xmlns='http://www.w3.org/1999/xhtml'>
<p><a href='http://x/?a=1&amp;b=2'>this</a> <a>Original Article</a></p>
</div></content></entry>
</feed>""")
    out = tmp_path / "out.xml"
    assert write_patched(src, out, {"a.post-1": {0: "http://n/?c=3&d=4", 1: "http://o/"}}) == 2
    assert [a.href for a in scan_anchors(posts(out)[0].html)] == ["http://n/?c=3&d=4", "http://o/"]
    assert b"<a href='http://n/?c=3&amp;d=4'>" in out.read_bytes()


def test_latin1_export_is_patched_in_its_encoding(tmp_path):
    text = legacy_feed("Caf\u00e9 &lt;a href=\"http://old/\"&gt;x&lt;/a&gt; na\u00efve")
    text = text.replace("encoding='UTF-8'", "encoding='ISO-8859-1'")
    src = write(tmp_path, "l.xml", text.encode("latin-1"))
    out = tmp_path / "out.xml"
    assert write_patched(src, out, {"tag:blogger.com,1999:blog-9.post-1": {0: "http://new/\u00e9\u4e2d"}}) == 1
    assert out.read_bytes() == src.read_bytes().replace(b"http://old/", "http://new/\u00e9&#20013;".encode("latin-1"))
    post = posts(out)[0]
    assert post.html.startswith("Caf\u00e9 ")
    assert scan_anchors(post.html)[0].href == "http://new/\u00e9\u4e2d"


# --- streaming ----------------------------------------------------------------------------------------


def test_reading_20000_posts_keeps_memory_flat(tmp_path):
    path = tmp_path / "big.xml"
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("<?xml version='1.0' encoding='UTF-8'?>\n<feed xmlns='http://www.w3.org/2005/Atom'>\n")
        for n in range(20_000):
            fh.write(
                f"<entry><id>tag:blogger.com,1999:blog-9.post-{n}</id><published>2010-01-01T00:00:00Z</published>"
                "<category scheme='http://schemas.google.com/g/2005#kind' "
                "term='http://schemas.google.com/blogger/2008/kind#post'/>"
                f"<title type='text'>Post {n}</title><content type='html'>Body {n} &lt;a href=\"http://e.example/{n}\""
                "&gt;Original Article&lt;/a&gt;&lt;br /&gt;Source: Example Paper</content></entry>\n")
        fh.write("</feed>\n")
    assert path.stat().st_size > 5_000_000
    tracemalloc.start()
    try:
        count = 0
        for post in read_export(path):
            count += 1
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 20_000
    assert post.id.endswith(".post-19999")
    assert peak < 20 * 1024 * 1024
