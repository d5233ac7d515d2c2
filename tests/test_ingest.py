"""Ingest into SQLite: post counts from the real exports, idempotent re-ingest, all-or-nothing on bad input."""

from __future__ import annotations

import shutil

import pytest

from linkkeeper import store
from linkkeeper.demo import SAMPLE_POSTS, sample_export_path, sample_export_text
from linkkeeper.sources.ingest import ingest
from linkkeeper.sources.blogger import ExportError


@pytest.fixture
def db(tmp_path):
    return store.open_db(tmp_path / "t.db")


@pytest.mark.parametrize(
    "relative, posts",
    [
        ("blogger/google-blog-converters/blogger-sample2.xml", 4),
        ("blogger/google-blog-converters/blogger-sample.xml", 3),
        ("blogger/sangupta-blog-parser/blogger-sample.xml", 1),
        ("blogger/pelican/bloggerexport.xml", 1),
        ("blogger/blot/export.atom", 2),
    ],
)
def test_real_exports_ingest_with_right_post_count(db, real, relative, posts):
    result = ingest(db, real / relative)
    assert result.posts == posts
    assert db["posts"].count == posts
    assert db["sources"].count == 1


def test_pelican_export_is_read_with_a_warning_naming_file_and_line(db, real):
    result = ingest(db, real / "blogger/pelican/bloggerexport.xml")
    assert any("bloggerexport.xml:" in w and "undeclared namespace prefix 'app'" in w for w in result.warnings)


def test_sample_blog_fields(db):
    ingest(db, sample_export_path())
    assert db["posts"].count == len(SAMPLE_POSTS)
    post = db["posts"].get("tag:blogger.com,1999:blog-6412345678901234567.post-1002")
    assert post["title"] == "Omnibus crime bill passes second reading"
    assert post["outlet"] == "cbc" and post["author"] is None  # "Author: --"
    assert post["original_url"] == "http://www.cbc.ca/news/politics/story/2011/10/03/crime-bill-second-reading.html"
    assert post["original_state"] == "present"
    window = list(db.query("SELECT original_state, count(*) n FROM posts WHERE substr(published,1,10) "
                           "BETWEEN '2012-09-11' AND '2012-12-11' GROUP BY original_state"))
    assert window == [{"original_state": "nullified", "n": 6}]
    # The draft and the comment never become posts; neither do links in the template.
    assert not list(db.query("SELECT 1 FROM posts WHERE title LIKE 'Draft%' OR title = 'Thanks'"))


def test_reingest_updates_and_never_duplicates(db, tmp_path):
    path = tmp_path / "blog.xml"
    shutil.copy(sample_export_path(), path)
    ingest(db, path)
    link_count = db["links"].count
    again = ingest(db, path)
    assert again.changed == 0
    assert db["posts"].count == len(SAMPLE_POSTS) and db["links"].count == link_count
    # A newer export: one post's link edited.
    text = path.read_text().replace("crime-bill-second-reading.html", "crime-bill-second-reading-2.html")
    path.write_text(text)
    newer = ingest(db, path)
    assert newer.changed == 1 and db["posts"].count == len(SAMPLE_POSTS) and db["sources"].count == 1
    assert list(db.query("SELECT count(*) n FROM links WHERE url LIKE '%reading-2.html'")) == [{"n": 1}]


def test_malformed_export_ingests_nothing(db, tmp_path):
    text = sample_export_text()
    broken = tmp_path / "broken.xml"
    # Cut the file in the middle of the tenth post: everything before it is well-formed.
    cut = text.index("post-1010")
    broken.write_text(text[:cut] + "<oops></entry>", encoding="utf-8")
    with pytest.raises(ExportError) as err:
        ingest(db, broken)
    message = str(err.value)
    assert message.startswith(f"{broken}:") and err.value.line >= 1 and err.value.column >= 1
    assert db["posts"].count == 0 and db["sources"].count == 0 and db["links"].count == 0
