"""Hostile input, second round: every extractor over outside text runs in linear (or n log n) time (issue 14,
case 8 and the rule behind it).

Each extractor is fed pages built to make a backtracking pattern rescan to the end from every position
(unclosed tags, quotes, attribute names, comment openers, digits, entity starts), and its time is compared with
a plain input of the same size: a ratio, never an absolute time, so a slow or busy machine changes nothing. A
quadratic pattern at this size is thousands of times slower than the plain input; a linear one a few times.
"""

from __future__ import annotations

import re
import time

import pytest

from linkkeeper.check.verdict import looks_challenge, looks_not_found, looks_parked
from linkkeeper.repair.capture.verification import verify_capture, view_of
from linkkeeper.sim.web import article_html
from linkkeeper.text import html, jsonbounds
from linkkeeper.text.similarity import page_text
from linkkeeper.text.trailer import parse_trailer, post_links
from linkkeeper.text.urls import normalize_url, url_date
from linkkeeper.wayback.errors import ArchiveError
from linkkeeper.wayback.records import (Memento, memento_links, parse_availability, parse_cdx_json, parse_cdx_text,
                                        parse_link_header, parse_timetravel)

SIZE = 40_000
# A linear extractor stays within a few times the plain input's cost; 60 leaves room for a noisy machine, and a
# quadratic one at this size is thousands of times over (the login-form pattern took 26 s on 100 KB).
RATIO = 60

UNITS = ["<", "<a ", '<a "', "<a href=", "<input ", "<input type=", "<title", "<title>", "<h1 ", "<h1>", "</title ",
         "<link ", "<link rel=canonical ", "<br ", "< p ", "<script ", "<style>", "<!--", "<![CDATA[", "&#", "&a",
         '"', "'", "\\u", "[", "{\"a\":", "1", "12345", "2012-", "a=", ";", "; rel=", "<x>; ", " \t", "\n",
         "subscribe ", "sign in ", "page not ", "404 ", "Source: ", "Author: ", "-" * 3, "http://", "%", "/", "."]


def _plain(size: int) -> str:
    page = article_html("A plain story", ["Officials said on Sunday that the plan would go ahead. " * 20] * 4)
    return (page * (size // len(page) + 1))[:size]


def _memento(body: str) -> Memento:
    return Memento(url="http://news.example/a", timestamp="20120301000000", status=200, body=body.encode(),
                   mimetype="text/html")


EXTRACTORS = {
    "scan_anchors": html.scan_anchors,
    "html_to_text": html.html_to_text,
    "html_to_lines": html.html_to_lines,
    "page_title": html.page_title,
    "first_heading": html.first_heading,
    "canonical_url": lambda s: html.canonical_url(s, "http://news.example/"),
    "has_password_input": html.has_password_input,
    "page_text": page_text,
    "verdict": lambda s: (looks_not_found(s[:300], s), looks_parked(s[:300], s), looks_challenge(s[:300], s, s)),
    "capture view": lambda s: verify_capture(view_of(_memento(s), "20120301000000"), s[:2000], 0.5),
    "trailer": lambda s: (parse_trailer(s), post_links(s, frozenset({"blog.example"}))),
    "link header": lambda s: (parse_link_header(s), memento_links(s)),
    "cdx": lambda s: (_swallow(parse_cdx_json, s), _swallow(parse_cdx_text, s)),
    "archive json": lambda s: (parse_availability(s), parse_timetravel(s)),
    "json bounds": lambda s: _swallow(jsonbounds.check, s),
    "urls": lambda s: (normalize_url("http://x.example/" + s), url_date("http://x.example/" + s)),
}


def _swallow(fn, *args):
    """A refusal is a fine answer to hostile text; only the time it took counts here."""
    try:
        return fn(*args)
    except (ValueError, ArchiveError):
        return None


def _seconds(fn, text: str) -> float:
    best = float("inf")
    for _ in range(2):
        started = time.perf_counter()
        fn(text)
        best = min(best, time.perf_counter() - started)
    return best


@pytest.mark.parametrize("name", sorted(EXTRACTORS))
def test_no_extractor_backtracks_on_pathological_input(name):
    fn = EXTRACTORS[name]
    plain = _plain(SIZE)
    # The floor: one linear pass of a regular expression over the same plain text, so an extractor that does
    # next to nothing on a plain page is not held to a ratio of nothing.
    reference = max(_seconds(fn, plain), _seconds(lambda s: re.findall(r"\w+", s.lower()), plain))
    slow = {}
    for unit in UNITS:
        hostile = (unit * (SIZE // len(unit) + 1))[:SIZE]
        ratio = _seconds(fn, hostile) / reference
        if ratio > RATIO:
            slow[unit] = round(ratio)
    assert not slow, f"{name}: pathological inputs {slow} cost that many times a plain page of {SIZE} characters"
