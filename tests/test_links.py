"""The post trailer, nullified shapes and URL normalisation: plain functions, no network."""

from __future__ import annotations

import pytest

from linkkeeper.text.trailer import post_links
from linkkeeper.text.html import html_to_lines, scan_anchors
from linkkeeper.text.trailer import nullified_reason, parse_trailer
from linkkeeper.text.urls import blog_key, normalize_url

BLOG = frozenset({"democracyastray.blogspot.com"})


@pytest.mark.parametrize(
    "markup",
    [
        '<p>Lead.</p><a href="https://www.theguardian.com/world/x">Original Article</a><br />Source: theguardian<br />Author: Nicola Slawson',
        '<p>Lead.</p><b><a href="https://www.theguardian.com/world/x">Original Article</a></b><p>Source:  theguardian</p><p>Author:Nicola Slawson</p>',
        '<div>Lead.</div><div><a href=\'https://www.theguardian.com/world/x\'><span>Original  Article</span></a></div><div>SOURCE : theguardian</div><div>Author : Nicola Slawson</div>',
        '<p>Lead.</p><a target="_blank" href=https://www.theguardian.com/world/x>original article</a><br>Source: theguardian<br/>Author: Nicola Slawson',
    ],
)
def test_trailer_variants(markup):
    trailer = parse_trailer(markup)
    assert trailer.original is not None
    assert trailer.original.href == "https://www.theguardian.com/world/x"
    assert trailer.outlet == "theguardian"
    assert trailer.author == "Nicola Slawson"


def test_unknown_author_and_missing_trailer():
    assert parse_trailer('<a href="http://x.com/a">Original Article</a><br>Source: cbc<br>Author: --').author is None
    missing = parse_trailer("<p>Just text, no trailer.</p>")
    assert missing.original is None and missing.outlet is None


def test_last_original_anchor_wins_and_entities_decode():
    markup = ('<a href="http://a.com/quoted">Original Article</a> quoted in the lead'
              '<a href="http://b.com/story?x=1&amp;y=2">Original Article</a><br>Source: b')
    trailer = parse_trailer(markup)
    assert trailer.original.index == 1 and trailer.original.href == "http://b.com/story?x=1&y=2"


@pytest.mark.parametrize(
    "href, reason_part",
    [
        (None, "no href"),
        ("", "empty"),
        ("#", "empty"),
        ("http://", "empty"),
        ("https://", "empty"),
        ("javascript:void(0)", "javascript"),
        ("about:blank", "empty"),
        ("http://democracyastray.blogspot.com/2012/10/some-post.html", "back to the blog"),
        ("https://democracyastray.blogspot.ca/", "back to the blog"),
        ("http://www.democracyastray.blogspot.co.uk/x", "back to the blog"),
        ("/2012/10/some-post.html", "relative"),
    ],
)
def test_nullified_shapes(href, reason_part):
    reason = nullified_reason(href, BLOG)
    assert reason is not None and reason_part in reason


@pytest.mark.parametrize("href", ["http://www.cbc.ca/news/x", "https://www.theguardian.com/a", "//www.bbc.co.uk/n"])
def test_real_targets_are_not_nullified(href):
    assert nullified_reason(href, BLOG) is None


def test_nullified_anchor_without_href_is_found_in_post():
    markup = '<p>Lead.</p><a>Original Article</a><br />Source: cbc<br />Author: Jane Doe'
    rows, trailer = post_links(markup, BLOG)
    assert trailer.outlet == "cbc"
    assert rows == [{"anchor_index": 0, "role": "original", "url": None, "url_normalized": None,
                     "anchor_text": "Original Article", "nullified_reason": "no href"}]


def test_outbound_links_skip_inpage_and_blog_links():
    markup = ('<a href="#top">top</a><a href="mailto:x@y.z">mail</a><a href="http://democracyastray.blogspot.com/">home</a>'
              '<a href="http://elsewhere.org/p">ref</a><a href="http://cbc.ca/a">Original Article</a>')
    rows, _ = post_links(markup, BLOG)
    assert [(r["role"], r["url"]) for r in rows] == [("outbound", "http://elsewhere.org/p"), ("original", "http://cbc.ca/a")]


def test_scan_anchors_positions_point_at_href_value():
    markup = '<p>x</p><a class="q" href="http://a.com/1">one</a> <A HREF=\'http://b.com/2\'>two</A><a name="n">three</a>'
    anchors = scan_anchors(markup)
    assert [a.href for a in anchors] == ["http://a.com/1", "http://b.com/2", None]
    for a in anchors[:2]:
        assert markup[a.href_span[0]:a.href_span[1]] == a.href
    assert anchors[2].href_span is None and markup[slice(*anchors[2].tag_span)] == '<a name="n">'


def test_html_to_lines_splits_on_block_breaks():
    assert html_to_lines("a<br>b<p>c</p><div>d</div>") == ["a", "b", "c", "d"]


@pytest.mark.parametrize(
    "url, expected",
    [
        ("HTTP://WWW.CBC.CA:80/News/X#frag", "http://www.cbc.ca/News/X"),
        ("https://example.com", "https://example.com/"),
        ("https://example.com:8443/a?b=1", "https://example.com:8443/a?b=1"),
        ("http://bücher.example/x", "http://xn--bcher-kva.example/x"),
    ],
)
def test_normalize_url(url, expected):
    assert normalize_url(url) == expected


def test_blog_key_merges_country_aliases():
    assert blog_key("democracyastray.blogspot.ca") == blog_key("democracyastray.blogspot.com") == "democracyastray.blogspot"


@pytest.mark.parametrize("url", [
    "http://www.CBC.ca/news/x", "https://a.b:8080/x?y", "http://127.0.0.2:9000/a", "HTTP://X.com", "http://x.com?q=1",
    "http://x.com#f", "http://x.com", "https://x.com:/p", "http://x.com:99999/", "http://x.com:080/",
    "http://user@host/x", "http://host:80@evil.com/", "http://a.b\\@c.d/", "http://[::1]:80/x", "ftp://x.com/",
    "http://ex ample.com/", "http://xn--bcher-kva.example/", "http://x.com./a", "//x.com/a", "http:/x.com/a",
])
def test_the_checkers_quick_read_of_a_url_agrees_with_urlsplit(url):
    """host_of and the site root and port the checker reads with one regular expression (plain_origin) say
    what urlsplit says, or leave the URL to urlsplit."""
    from urllib.parse import urlsplit

    from linkkeeper.text.urls import host_of, plain_origin
    parts = urlsplit(url)
    assert host_of(url) == (parts.hostname or "").lower()
    plain = plain_origin(url)
    if plain is not None:
        scheme, host, port, origin = plain
        assert (scheme, host, port) == (parts.scheme.lower(), parts.hostname, parts.port)
        assert origin == f"{parts.scheme}://{parts.netloc}".lower()
