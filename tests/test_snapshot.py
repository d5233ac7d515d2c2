"""Choosing and verifying a capture (linkkeeper.snapshot): the target date, the order of candidates, the
verification of each, and a test set of decoys the chosen capture must never be."""

from __future__ import annotations

from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import AsyncIterator

import aiohttp
import pytest

from linkkeeper.wayback import ArchiveQueryError, CdxRecord, WaybackClient
from linkkeeper.settings import Settings
from linkkeeper.repair.capture import (LookupCache, SnapshotFinder, Target, Want, order_candidates, target_date,
                                       verify_capture)
from linkkeeper.text.urls import url_date
from linkkeeper.sim.archive import Capture, SimulatedArchive, settings_for
from linkkeeper.sim.servers import serve
from linkkeeper.sim.web import article_html
from worlds.clock import FakeClock

T = datetime(2013, 3, 10, 12, 0, tzinfo=timezone.utc)


def ts(when: datetime) -> str:
    return when.strftime("%Y%m%d%H%M%S")


# ------------------------------------------------------------------------------------------------- target date


@pytest.mark.parametrize("url, expected", [
    ("http://www.cbc.ca/news/politics/story/2012/10/16/budget.html", date(2012, 10, 16)),
    ("http://www.guardian.co.uk/world/2012/oct/16/canada-china", date(2012, 10, 16)),
    ("http://example.com/news/20121016-budget-bill", date(2012, 10, 16)),
    ("http://example.com/a?published=2012-10-16&x=1", date(2012, 10, 16)),
    ("http://www.thestar.com/news/canada/2013/02/18/harpers_majority.html", date(2013, 2, 18)),
    ("http://www.theglobeandmail.com/report-on-business/gateway/article19193901/", None),  # an id, not a date
    ("http://example.com/2012/10/monthly-only", None),
    ("http://example.com/story/20121345", None),
    # Al Jazeera's ids are the publication time unpadded (real URLs of 2012): the day where one reading fits.
    ("http://www.aljazeera.com/news/middleeast/2012/12/201212191395430251.html", date(2012, 12, 19)),  # 1:39:54
    ("https://www.aljazeera.com/news/middleeast/2012/02/20122616342323385.html", date(2012, 2, 6)),  # 16:34:23
    ("http://www.aljazeera.com/indepth/opinion/2012/09/201295614181450.html", date(2012, 9, 5)),  # 6:14:18
    ("http://www.aljazeera.com/news/middleeast/2012/09/2012911183011369379.html", None),  # 1st 1:18:30 or 11th
    ("http://www.sunnewsnetwork.ca/sunnews/world/archives/2012/11/20121111-091851.html", date(2012, 11, 11)),
])
def test_url_date(url, expected):
    assert url_date(url) == expected


def test_target_is_the_article_date_when_the_post_is_late():
    late = target_date("http://www.cbc.ca/news/story/2012/07/10/rally.html", "2012-07-19T13:30:00.000-04:00")
    assert (late.source, late.when) == ("url", datetime(2012, 7, 10, 23, 59, 59, tzinfo=timezone.utc))
    # Posted the same day or the day after: the post's own time is the more precise date.
    same = target_date("http://www.cbc.ca/news/story/2012/07/10/rally.html", "2012-07-11T08:00:00.000-04:00")
    assert (same.source, same.when) == ("post", datetime(2012, 7, 11, 12, 0, tzinfo=timezone.utc))
    # A "date" after the post is not the article's date.
    future = target_date("http://example.com/20150101-story", "2012-07-11T08:00:00Z")
    assert future.source == "post"
    linked = target_date("http://example.com/x", "2012-07-11T08:00:00Z", archive_timestamp="20100203")
    assert (linked.source, linked.timestamp) == ("archive-link", "20100203000000")


# --------------------------------------------------------------------------------------------- candidate order


def row(when: datetime, status: str = "200", digest: str = "A", url: str = "http://example.com/a") -> CdxRecord:
    revisit = status == "-"
    return CdxRecord("com,example)/a", ts(when), url, "warc/revisit" if revisit else "text/html", status, digest, "1")


def test_order_prefers_before_and_weighs_after_twice():
    records = [row(T - timedelta(hours=20), digest="B"), row(T + timedelta(hours=12), digest="C"),
               row(T + timedelta(hours=9), digest="D"), row(T - timedelta(hours=1), "301", "E"),
               row(T + timedelta(minutes=5), "404", "F")]
    order = [c.timestamp for c in order_candidates(records, T)]
    # -20h (20h) beats +12h (24h weighted) but loses to +9h (18h); the redirect and the 404 are no candidates.
    assert order == [ts(T + timedelta(hours=9)), ts(T - timedelta(hours=20)), ts(T + timedelta(hours=12))]


def test_order_resolves_revisits_to_the_capture_they_repeat():
    base = row(T - timedelta(days=10), digest="SAME")
    revisit = row(T + timedelta(hours=1), "-", "SAME")
    other = row(T + timedelta(days=2), digest="OTHER")
    bad = row(T - timedelta(days=5), "404", "GONE")
    bad_revisit = row(T + timedelta(minutes=10), "-", "GONE")  # a revisit of a 404 is a 404
    orphan = row(T, "-", "NOT-IN-ANSWER")
    order = order_candidates([base, revisit, other, bad, bad_revisit, orphan], T)
    # A revisit whose capture is not in the answer comes last, fetched as it is (its replay shows what it
    # repeats, which verification judges).
    assert [c.timestamp for c in order] == [base.timestamp, other.timestamp, orphan.timestamp]
    # The base stands for its revisit, which proves the page unchanged an hour after the target.
    assert order[0].revisited == revisit.timestamp and order[0].rank == 2 * 3600  # after: weighted twice


# ------------------------------------------------------------------------------------------------ verification

POST = ("Officials warned on Tuesday that the spending plan would reshape how the government answers to voters, "
        "a claim that drew sharp replies within hours from critics across the country and beyond.")


def view(text: str = "", status: int = 200, title: str | None = None, **extra) -> dict:
    return {"timestamp": "20130310120000", "original": "http://example.com/a", "status": status, "text": text,
            "title": title, "login_form": False, "error": None, **extra}


@pytest.mark.parametrize("page, kind", [
    (view(status=301, redirect_location="http://example.com/"), "redirect"),
    (view(status=404), "status"),
    (view("Sorry. This URL has been excluded from the Wayback Machine."), "excluded"),
    (view("Sorry, the page you requested could not be found.", title="Page not found | Example"), "soft-404"),
    (view("We can't find that page. Try the search box.", title="Example News"), "soft-404"),
    (view("Budget plan. Subscribe to continue reading. Already a subscriber? Log in.", title="Budget"), "paywall"),
    (view("Please sign in", login_form=True, title="Log in"), "paywall"),
    (view("An unrelated article about the weather " * 10, title="Weather"), "text"),
    ({"error": "no-memento", "message": "never archived"}, "no-memento"),
])
def test_verify_rejects(page, kind):
    verdict = verify_capture(page, POST, 0.5)
    assert not verdict.ok and verdict.kind == kind


def test_verify_accepts_the_article_whatever_banners_it_carries():
    page = view(f"Subscribe to continue reading. {POST} Page not found? Try search.", title="Spending plan")
    verdict = verify_capture(page, POST, 0.5)
    assert verdict.ok and verdict.text_similarity == 1.0
    # With no post text to compare, a plain 200 page passes but markers still count.
    assert verify_capture(view("A long article " * 50, title="Story"), "", 0.5).ok
    assert verify_capture(view("Sorry, the page could not be found.", title="Oops"), "", 0.5).kind == "soft-404"


# ----------------------------------------------------------------------------- the decoy test set, both paths

PARAGRAPHS = ["{name} story. Officials warned on Sunday that the {name} plan would reshape how the government "
              "answers to voters, a claim that drew sharp replies within hours.",
              "Critics said the {name} documents had been kept from parliament for months, and that this story "
              "shows a pattern of decisions made far from public view."]


def article(name: str) -> str:
    return article_html(f"{name} story", [p.format(name=name) for p in PARAGRAPHS] + ["More follows."])


def post_text(name: str) -> str:
    return " ".join(p.format(name=name) for p in PARAGRAPHS)


SOFT_404 = article_html("Page not found", ["Sorry, the page you are looking for could not be found."])
LOGIN = ("<html><head><title>Log in</title></head><body><form><input type='text' name='u'>"
         "<input type='password' name='p'></form></body></html>")


@dataclass
class Case:
    name: str
    captures: list[tuple[timedelta, dict]]  # offset from the target, Capture fields
    expected: timedelta | None  # offset of the capture that must be chosen; None: nothing usable
    verified: bool = True
    path: str = "/story/{name}"
    published: datetime = T


def paywall(name: str) -> str:
    return article_html(f"{name} story", ["Subscribe to continue reading. Already a subscriber? Log in."])


CASES = [
    Case("redirect", [(timedelta(hours=1), {"status": 301, "redirect_to": "/"}), (timedelta(days=1), {})],
         timedelta(days=1)),
    Case("errors", [(-timedelta(hours=1), {"status": 404, "body": "gone"}),
                    (timedelta(hours=2), {"status": 410, "body": "gone"}), (timedelta(days=3), {})],
         timedelta(days=3)),
    # The revisit an hour after the target replays the capture of ten days before: it is the one linked.
    Case("revisit", [(-timedelta(days=10), {}), (timedelta(hours=1), {"revisit": True}), (timedelta(days=2), {})],
         timedelta(hours=1)),
    Case("revisit404", [(-timedelta(days=5), {"status": 404, "body": "gone"}),
                        (timedelta(minutes=10), {"status": 404, "body": "gone", "revisit": True}),
                        (timedelta(days=1), {})], timedelta(days=1)),
    Case("soft404", [(timedelta(hours=2), {"body": SOFT_404}), (timedelta(days=1), {})], timedelta(days=1)),
    Case("paywall", [(-timedelta(hours=3), {"body": "PAYWALL"}), (timedelta(days=1), {})], timedelta(days=1)),
    Case("login", [(timedelta(hours=1), {"body": LOGIN}), (timedelta(days=2), {})], timedelta(days=2)),
    Case("before", [(-timedelta(hours=20), {}), (timedelta(hours=12), {})], -timedelta(hours=20)),
    Case("after", [(-timedelta(days=3), {}), (timedelta(hours=1), {})], timedelta(hours=1)),
    Case("changed", [(timedelta(hours=5), {"body": article_html("changed story", ["Entirely other words " * 30])})],
         timedelta(hours=5), verified=False),
    Case("never", [], None),
    Case("excluded", [(timedelta(days=1), {})], None, path="/private/{name}"),
    # Posted two years late: the URL's date wins, so the capture near the post's date loses.
    Case("late", [(timedelta(days=1), {}), (timedelta(days=731, hours=1), {})], timedelta(days=1),
         path="/2011/03/10/{name}", published=T + timedelta(days=730)),
]


def build(cases: list[Case], host: str) -> tuple[SimulatedArchive, FakeClock, dict[str, Case], dict[str, str]]:
    clock = FakeClock()
    archive = SimulatedArchive(clock=clock)
    archive.excluded(f"{host}/private/")
    urls: dict[str, Case] = {}
    for case in cases:
        url = f"http://{host}{case.path.format(name=case.name)}"
        urls[url] = case
        # The target: the article's date where the URL says it (the day's end), else the post's time.
        target = datetime(2011, 3, 10, 23, 59, 59, tzinfo=timezone.utc) if case.name == "late" else T
        for offset, fields in case.captures:
            fields = dict(fields)
            body = fields.pop("body", None)
            body = paywall(case.name) if body == "PAYWALL" else body
            archive.add(Capture(url, ts(target + offset), body=body if body is not None else article(case.name),
                                **fields))
    return archive, clock, urls, {}


@asynccontextmanager
async def finder_on(archive: SimulatedArchive, clock: FakeClock, **changes) -> AsyncIterator[SnapshotFinder]:
    async with serve(archive.app()) as base, aiohttp.ClientSession() as session:
        settings = Settings().replace(**settings_for(base), **changes)
        client = WaybackClient(session, settings, clock=clock, sleep=clock.sleep)
        yield SnapshotFinder(client, settings, LookupCache(None, settings.archive_negative_ttl_days))


def wants_for(urls: dict[str, Case]) -> dict[str, Want]:
    return {url: Want(url, target_date(url, case.published.isoformat()), post_text(case.name))
            for url, case in urls.items()}


def assert_chosen_well(archive: SimulatedArchive, url: str, case: Case, finding) -> None:
    target = datetime(2011, 3, 10, 23, 59, 59, tzinfo=timezone.utc) if case.name == "late" else T
    if case.expected is None:
        assert finding.choice is None, case.name
        assert finding.error
        return
    chosen = finding.choice
    assert chosen is not None, (case.name, finding)
    assert chosen.timestamp == ts(target + case.expected), case.name
    assert chosen.verified is case.verified, case.name
    capture = next(c for c in archive.captures_of(url) if c.timestamp == chosen.timestamp)
    # Never a redirect, an error, a soft 404, a paywall or login page; a revisit only as the capture it repeats.
    assert capture.status == 200 and (not capture.revisit or chosen.revisited is not None)
    assert b"not found" not in capture.body.lower() and b"password" not in capture.body
    assert b"Subscribe to continue" not in capture.body
    assert chosen.archive_url == f"https://web.archive.org/web/{chosen.timestamp}/{url}"


async def test_single_links_choose_the_nearest_good_capture():
    archive, clock, urls, _ = build(CASES, "www.example-news.com")
    wants = wants_for(urls)
    async with finder_on(archive, clock) as finder:
        findings = {url: await finder.find(want) for url, want in wants.items()}
    for url, case in urls.items():
        assert_chosen_well(archive, url, case, findings[url])
    kinds = {url: {r["kind"] for r in f.rejected} for url, f in findings.items()}
    by_name = {case.name: kinds[url] for url, case in urls.items()}
    # The captured redirect is never fetched: the CDX list shows its status.
    assert by_name["redirect"] == set() and "soft-404" in by_name["soft404"]
    assert "paywall" in by_name["paywall"] and "paywall" in by_name["login"] and "text" in by_name["changed"]
    excluded = next(f for u, f in findings.items() if urls[u].name == "excluded")
    assert "excluded" in excluded.error
    assert archive.limit_violations == 0


async def test_bulk_links_choose_the_same_captures_from_one_prefix_query():
    cases = [c for c in CASES if c.name not in ("excluded",)]
    archive, clock, urls, _ = build(cases, "www.example-news.com")
    wants = wants_for(urls)
    async with finder_on(archive, clock) as finder:
        assert finder.plan(wants.values()) >= 1
        findings = {url: await finder.find(want) for url, want in wants.items()}
        assert finder.stats["bulk_queries"] >= 1
    for url, case in urls.items():
        assert_chosen_well(archive, url, case, findings[url])
    # The shared query has a date range; a page's own list (its URL as the prefix) has none.
    prefix_queries = [p for e, _t, p in archive.request_log if e == "cdx" and "matchType=prefix" in p
                      and "from=" in p]
    assert prefix_queries and all("url=example-news.com/" in p for p in prefix_queries)
    assert all("statuscode:200%7C-" in p or "statuscode:200|-" in p for p in prefix_queries)
    assert "collapse" not in " ".join(prefix_queries)
    # Most links were settled by the shared answer: their own CDX query was not needed.
    own = [p for e, _t, p in archive.request_log if e == "cdx" and p not in prefix_queries]
    # Only the pages the shared answer could not settle ask their own: one whose captures all fail ("changed"),
    # one never archived, and one dated outside the shared range ("late").
    assert sorted(p.split("url=")[1].split("&")[0].rsplit("/", 1)[1] for p in own) == ["changed", "late", "never"]


async def test_an_excluded_host_is_asked_once_however_many_spans_its_links_cover():
    # Two spans of dead links on one host (three years apart): two shared prefix queries, one after the other,
    # and the archive refuses the first, so the second and the links' own lists are answered by the client.
    cases = [Case(name, [(timedelta(days=1), {})], None) for name in ("a", "b", "c")]
    cases += [Case(name, [(timedelta(days=1), {})], None, published=T + timedelta(days=1100)) for name in ("d", "e", "f")]
    archive, clock, urls, _ = build(cases, "www.banned.example")
    archive.excluded("banned.example")
    wants = wants_for(urls)
    async with finder_on(archive, clock) as finder:
        assert finder.plan(wants.values()) == 2
        findings = [await finder.find(want) for want in wants.values()]
    assert all(f.choice is None and "excluded" in f.error for f in findings)
    assert len([p for e, _t, p in archive.request_log if e == "cdx"]) == 1


class RefusingArchive:
    """A client every request of which the archive would refuse: a bug in the request, not an answer."""

    async def get_memento(self, url, timestamp, raw=True):
        raise ArchiveQueryError(f"{timestamp!r} is not a 1-14 digit Wayback timestamp")

    async def search(self, url, **params):
        raise ArchiveQueryError("search: a bad filter")


async def test_a_query_error_is_not_recorded_as_a_missing_capture():
    settings = Settings()
    finder = SnapshotFinder(RefusingArchive(), settings, LookupCache(None, settings.archive_negative_ttl_days))
    url = "http://www.example-news.com/2013/03/09/budget"
    with pytest.raises(ArchiveQueryError):
        await finder.find(Want(url, target_date(url, T.isoformat()), post_text("budget")))


async def test_a_single_capture_costs_one_cdx_query_and_one_replay():
    clock = FakeClock()
    archive = SimulatedArchive(clock=clock)
    url = "http://www.example-news.com/story/only"
    archive.add(Capture(url, ts(T + timedelta(days=1)), body=article("only")))
    async with finder_on(archive, clock) as finder:
        finding = await finder.find(Want(url, Target(T, "post"), post_text("only")))
    assert finding.choice and finding.choice.source == "cdx" and finding.choice.text_similarity == 1.0
    assert archive.requests["cdx"] == 1 and archive.requests["replay"] == 1  # the page's captures, then the one
    never = SimulatedArchive(clock=clock)
    async with finder_on(never, clock) as finder:
        finding = await finder.find(Want(url, Target(T, "post"), post_text("only")))
    assert finding.choice is None and finding.error
    assert never.requests["cdx"] == 1 and never.requests["replay"] == 0


async def test_verification_stops_at_the_budget():
    clock = FakeClock()
    archive = SimulatedArchive(clock=clock)
    url = "http://www.example-news.com/story/many"
    for hours in range(1, 8):  # seven soft 404s nearer than the article
        archive.add(Capture(url, ts(T + timedelta(hours=hours)), body=SOFT_404.replace("Sorry", f"Sorry {hours}")))
    archive.add(Capture(url, ts(T + timedelta(days=3)), body=article("many")))
    async with finder_on(archive, clock, verify_budget=3) as finder:
        finding = await finder.find(Want(url, Target(T, "post"), post_text("many")))
    assert finding.choice is None and len(finding.rejected) == 3
    assert all(r["kind"] == "soft-404" for r in finding.rejected)
    async with finder_on(archive, clock, verify_budget=8) as finder:
        finding = await finder.find(Want(url, Target(T, "post"), post_text("many")))
    assert finding.choice and finding.choice.timestamp == ts(T + timedelta(days=3))
