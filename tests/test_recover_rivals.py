"""Recovery rules over real HTTP on loopback (the simulated archive): no automatic approval while a rival page
of the outlet may exist, dates from article ids where URLs carry none, a look-back of weeks, and a post made
years after its article found by its headline without a date window."""

from __future__ import annotations

import json

import pytest

from linkkeeper import store
from linkkeeper.repair.recover import recover_nullified
from linkkeeper.settings import Settings
from linkkeeper.sim.archive import Capture, SimulatedArchive, settings_for
from linkkeeper.sim.servers import serve
from linkkeeper.sim.web import article_html
from worlds.bulk_repair import store_posts

BLOG = "http://bulk.blogspot.com/"
FILLER = ("ministry officials confirmed review would examine every contract signed since spring including disputed "
          "permits service agreements before report cabinet new year critics warned consultation lacking industry "
          "groups welcomed plan overdue minister asked explain who consulted").split()


def lead(topic: str) -> list[str]:
    """Two paragraphs of text of their own for each topic (each topic shuffles the words its own way)."""
    import random
    rng = random.Random(topic)
    words = FILLER[:]
    rng.shuffle(words)
    half = len(words) // 2
    return [f"The {topic} decision on Tuesday: " + " ".join(words[:half]) + ".",
            f"In {topic} news, " + " ".join(words[half:]) + "."]


def blog_post(pid: str, published: str, title: str, topic: str, href: str = BLOG, outlet: str = "News Example",
              author: str = "Jane Doe") -> tuple[str, str, str, str]:
    body = "".join(f"<p>{p}</p>" for p in lead(topic))
    return (pid, published, title,
            f'{body}<a href="{href}">Original Article</a><br />\nSource: {outlet}<br />\nAuthor: {author}')


def page(title: str, topic: str, author: str = "Jane Doe") -> str:
    return article_html(title, lead(topic) + [f"By {author}"])


async def _recover(tmp_path, archive: SimulatedArchive, posts: list) -> tuple[dict, dict]:
    db = store.open_db(tmp_path / "r.db")
    store_posts(db, posts)
    async with serve(archive.app()) as base:
        settings = Settings(cdx_rate=0, replay_rate=0, retries=0).replace(**settings_for(base))
        summary = await recover_nullified(db, settings, live_check=False)
    repairs = stored_repairs(db)
    cands = {}
    for row in db.query("SELECT r.post_id, c.url FROM recovery_candidates c JOIN repairs r ON r.link_id = c.link_id"):
        cands.setdefault(row["post_id"], []).append(row["url"])
    return repairs, {"summary": summary, "candidates": cands}


def stored_repairs(db) -> dict:
    return {r["post_id"]: dict(r, evidence=json.loads(r["evidence"])) for r in db["repairs"].rows}


ARTICLE = "http://www.news.example/news/2012/10/16/ferry-contracts-review-ordered/"
TWIN = "http://blogs.news.example/jane-doe/2012/10/ferry-contracts-review-ordered/"
CLEAR = "http://www.news.example/news/2012/10/18/pipeline-permits-frozen/"


def twin_and_clear(archive: SimulatedArchive) -> list:
    """Two posts of one outlet and month: "twin", whose article the outlet published twice (the news page and,
    captured months later, the writer's page), and "clear", another article found at one URL. Their captures
    go into `archive`; the posts (after learning_posts) are returned."""
    archive.add(Capture(ARTICLE, "20121016150000", body=page("Ferry contracts review ordered", "ferry")))
    archive.add(Capture(TWIN, "20130310150000", body=page("Ferry contracts review ordered", "ferry")))
    archive.add(Capture(CLEAR, "20121018150000", body=page("Pipeline permits frozen", "pipeline")))
    add_learning_captures(archive)
    return learning_posts() + [
        blog_post("twin", "2012-10-16T18:00:00+00:00", "Ferry contracts review ordered", "ferry"),
        blog_post("clear", "2012-10-18T18:00:00+00:00", "Pipeline permits frozen", "pipeline", author="Tom Roe")]


def learning_posts() -> list:
    """Posts outside the nullified window whose working links teach the outlet's domain."""
    return [blog_post(f"old-{i}", f"2011-0{i}-10T10:00:00+00:00", f"Old story {i}", f"old{i}",
                      href=f"http://www.news.example/news/2011/0{i}/10/old-story-{i}/")
            for i in range(1, 4)]


def add_learning_captures(archive: SimulatedArchive) -> None:
    """The captures of learning_posts' articles, each on its day."""
    for i in range(1, 4):
        old = f"http://www.news.example/news/2011/0{i}/10/old-story-{i}/"
        archive.add(Capture(old, f"20110{i}10150000", body=page(f"Old story {i}", f"old{i}")))


async def test_a_second_page_of_the_outlet_holding_the_text_sends_the_link_to_a_person(tmp_path):
    # The same text on the writer's page, captured months later: only the domain-wide rival search sees it.
    # The clear case on the same domain and month: its rival check shares the same query, and finds nothing;
    # but the outlet was just seen publishing an article twice, so its other URL may exist uncaptured.
    archive = SimulatedArchive()
    repairs, got = await _recover(tmp_path, archive, twin_and_clear(archive))
    twin_repair = repairs["twin"]
    assert twin_repair["state"] == "proposed", twin_repair["evidence"]["decision"]
    assert "2 pages of the outlet hold the post's text" in twin_repair["evidence"]["decision"]
    # Both pages are ranked candidates, each with its text share.
    assert {ARTICLE, TWIN} <= set(got["candidates"]["twin"])
    shares = {c["url"]: c["text_similarity"] for c in twin_repair["evidence"]["candidates"]}
    assert shares[ARTICLE] >= 0.9 and shares[TWIN] >= 0.9
    assert repairs["clear"]["state"] == "proposed" and repairs["clear"]["url"] == CLEAR
    assert "the outlet was seen publishing 1 other article(s) within 365 days under two URLs" in \
        repairs["clear"]["evidence"]["decision"]
    # One month listing, one headline search at most per post, one rival search for the domain's approvals.
    # Two CDX queries in all: the outlet-month both posts share, and ONE rival search of the whole domain
    # (every subdomain, any date) whose filter carries the slugs of both approvals.
    queries = [json.loads(r["key"]) for r in store_rows(tmp_path)]
    assert len(queries) == 2 and all(q["matchType"] == "domain" for q in queries)
    (rival,) = [q for q in queries if q["from"] is None]
    assert "contracts[^a-z0-9]+review[^a-z0-9]+ordered" in rival["filter"][-1]
    assert "pipeline[^a-z0-9]+permits[^a-z0-9]+frozen" in rival["filter"][-1]
    assert got["summary"].queries_sent == 2


def store_rows(tmp_path) -> list[dict]:
    return list(store.open_db(tmp_path / "r.db").query("SELECT key FROM recovery_queries"))


async def test_an_outlet_that_files_articles_under_writers_names_gets_no_automatic_recovery(tmp_path):
    archive = SimulatedArchive()
    article = "http://www.news.example/news/2012/10/16/ferry-contracts-review-ordered/"
    archive.add(Capture(article, "20121016150000", body=page("Ferry contracts review ordered", "ferry")))
    # The blog once linked this writer's own page on the outlet: her copy of the article may be the one
    # linked, and it was never captured.
    posts = learning_posts() + [
        blog_post("writer", "2011-05-10T10:00:00+00:00", "A column", "column",
                  href="http://www.news.example/jane-dolan/a-column/", author="Jane Dolan"),
        blog_post("lost", "2012-10-16T18:00:00+00:00", "Ferry contracts review ordered", "ferry",
                  author="Jane Dolan")]
    repairs, _ = await _recover(tmp_path, archive, posts)
    assert repairs["lost"]["state"] == "proposed" and repairs["lost"]["url"] == article
    assert "writer's name" in repairs["lost"]["evidence"]["decision"]


def paper_post(pid: str, published: str, title: str, topic: str, href: str = BLOG) -> tuple:
    return blog_post(pid, published, title, topic, href=href, outlet="The Paper", author="Sam Poe")


def paper(slug: str, ident: int) -> str:
    return f"http://www.paper.example/news/national/{slug}/article{ident}/"


def paper_learning_posts() -> list[tuple]:
    """Three posts of 2011 linking the Paper: they anchor its id clock, their slugs cut from the headlines."""
    heads = ["Budget cuts hit rural schools", "Harbour dredging plan delayed", "Census changes anger mayors"]
    return [paper_post(f"old-{i}", f"2011-0{i + 1}-10T10:00:00+00:00", head, f"old{i}",
                       href=paper(head.lower().replace(" ", "-"), 3_000_000 + i)) for i, head in enumerate(heads)]


async def test_undated_urls_are_dated_by_their_ids_and_late_posts_are_found(tmp_path):
    archive = SimulatedArchive()
    # The blog's own links anchor the id clock; the month's captures teach it the rest.
    posts = paper_learning_posts()
    # Ids grow with time; each page first captured on its day.
    for day in range(1, 31):
        ident = 4_600_000 + day * 1000
        archive.add(Capture(paper(f"other-story-{day}", ident), f"201209{day:02d}120000",
                            body=page(f"Other story {day}", f"other{day}")))
    # Published 10 September, captured on the 25th, posted on the 30th: twenty days late, inside the look-back.
    late = paper("ferry-contracts-review-ordered", 4_610_500)
    archive.add(Capture(late, "20120925120000", body=page("Ferry contracts review ordered", "ferry", "Sam Poe")))
    # An article of 2009 the blog posted in November 2012: only the headline search, without dates, finds it.
    old = paper("old-pipeline-saga-resurfaces", 1_200_000)
    archive.add(Capture(old, "20090601120000", body=page("Old pipeline saga resurfaces", "pipeline", "Sam Poe")))
    posts += [paper_post("late", "2012-09-30T18:00:00+00:00", "Ferry contracts review ordered", "ferry"),
              paper_post("years", "2012-11-20T18:00:00+00:00", "Old pipeline saga resurfaces", "pipeline")]
    repairs, got = await _recover(tmp_path, archive, posts)
    assert repairs["late"]["state"] == "approved" and repairs["late"]["url"] == late, json.dumps(repairs["late"]["evidence"])
    assert repairs["late"]["evidence"]["candidates"][0]["date_source"] == "id"
    assert repairs["years"]["state"] == "approved" and repairs["years"]["url"] == old
    headline = [q for q in repairs["years"]["evidence"]["queries"] if "any date" in q]
    assert len(headline) == 1  # one extra query for the post, no more


CITIZEN = "http://www.citizen.example/news/story.html?id="


def citizen_outlet(archive: SimulatedArchive, month: str, days: range) -> list:
    """The Citizen's `story.html?id=` pages: the posts of 2011 linking three of them (anchoring the id clock),
    returned, and in `archive` an article of each of `days` of `month` (yyyymm), its id growing with the day."""
    for day in days:
        archive.add(Capture(f"{CITIZEN}{7_300_000 + day * 100}", f"{month}{day:02d}120000",
                            body=page(f"Other story {day}", f"other{day}")))
    return [blog_post(f"old-{i}", f"2011-0{i}-10T10:00:00+00:00", f"Old story {i}", f"old{i}",
                      href=f"{CITIZEN}{7_000_000 + i}", outlet="The Citizen") for i in range(1, 4)]


async def test_a_query_string_article_is_found_by_its_text(tmp_path):
    archive = SimulatedArchive()
    site = CITIZEN
    # URLs that name nothing: the id dates each page, and the text tells the article from its neighbours.
    posts = citizen_outlet(archive, "201210", range(1, 31, 3))
    target = f"{site}7301650"
    archive.add(Capture(target, "20121016150000", body=page("Ferry contracts review ordered", "ferry")))
    posts.append(blog_post("lost", "2012-10-16T18:00:00+00:00", "Ferry contracts review ordered", "ferry",
                           outlet="The Citizen"))
    repairs, _ = await _recover(tmp_path, archive, posts)
    assert repairs["lost"]["url"] == target and repairs["lost"]["state"] == "approved", \
        json.dumps(repairs["lost"]["evidence"])


async def test_the_look_back_reads_four_of_tied_ids_and_finds_the_article_before_the_headline_search(tmp_path):
    # Ten `story.html?id=` pages first captured the day before the post: their ids date them alike, so they
    # tie on prescore and their order says nothing. The first round reads six; the look-back round reads
    # four more where its leaders tie (two otherwise), and the post's article is the third of them. Read at
    # two, it would be left to the headline search: one more CDX query of the whole domain.
    archive = SimulatedArchive()
    site = CITIZEN
    posts = citizen_outlet(archive, "201211", range(1, 17, 3))
    for k in range(1, 11):
        title, topic = ("Ferry contracts review ordered", "ferry") if k == 9 else (f"Tied story {k}", f"tied{k}")
        archive.add(Capture(f"{site}{7_301_900 + k}", "20121119120000", body=page(title, topic)))
    posts.append(blog_post("lost", "2012-11-20T18:00:00+00:00", "Ferry contracts review ordered", "ferry",
                           outlet="The Citizen"))
    repairs, got = await _recover(tmp_path, archive, posts)
    lost = repairs["lost"]
    assert lost["url"] == f"{site}7301909" and lost["state"] == "approved", json.dumps(lost["evidence"])
    assert not [q for q in lost["evidence"]["queries"] if "any date" in q], lost["evidence"]["queries"]
    # the post's month, the months before and after, and the rival search before the approval
    assert got["summary"].queries_sent == 4


async def test_a_late_posts_copy_dates_its_article_and_the_pages_of_that_day_are_read(tmp_path):
    """Posted 13 days after the article: the writer's blog copy, whose URL carries the date and the slug, is
    found and holds the text; the article's own `story.html?id=` page, dated by its id near that day, ranked
    no better than its neighbours against the post's date. The pages of the copy's day are read next: two
    pages hold the text, and a person chooses between them."""
    archive = SimulatedArchive()
    site = "http://www.citizen.example/news/story.html?id="
    posts = [blog_post(f"old-{i}", f"2011-0{i}-10T10:00:00+00:00", f"Old story {i}", f"old{i}",
                       href=f"{site}{7_000_000 + i}", outlet="The Citizen") for i in range(1, 4)]
    for day in range(1, 31):
        archive.add(Capture(f"{site}{7_300_000 + day * 100}", f"201210{day:02d}120000",
                            body=page(f"Other story {day}", f"other{day}")))
    own = f"{site}7300620"
    archive.add(Capture(own, "20121006230413", body=page("Ferry contracts review ordered", "ferry")))
    copy = "http://blogs.citizen.example/2012/10/06/ferry-contracts-review-ordered/"
    archive.add(Capture(copy, "20121008104534", body=page("Ferry contracts review ordered", "ferry")))
    posts.append(blog_post("late", "2012-10-19T18:00:00+00:00", "Ferry contracts review ordered", "ferry",
                           outlet="The Citizen"))
    repairs, got = await _recover(tmp_path, archive, posts)
    late = repairs["late"]
    assert late["state"] == "proposed", late["evidence"]["decision"]
    assert {own, copy} <= set(got["candidates"]["late"])
    shares = {c["url"]: c["text_similarity"] for c in late["evidence"]["candidates"]}
    assert shares[own] >= 0.9 and shares[copy] >= 0.9


def multi_section_paper(pairs: tuple[tuple[str, str], ...]) -> tuple[SimulatedArchive, list, str]:
    """The Paper whose October listing shows one article under each pair of sections (`pairs`), its ferry
    article found under `national`, and the post of it: (archive, posts, the found URL)."""
    archive = SimulatedArchive()
    posts = paper_learning_posts()
    for (day, ident), sections in zip(((3, 4_603_000), (5, 4_605_000)), pairs):
        for section in sections:
            url = f"http://www.paper.example/news/{section}/other-story-{day}/article{ident}/"
            archive.add(Capture(url, f"201210{day:02d}120000", body=page(f"Other story {day}", f"other{day}")))
    found = paper("ferry-contracts-review-ordered", 4_616_000)
    archive.add(Capture(found, "20121016150000", body=page("Ferry contracts review ordered", "ferry", "Sam Poe")))
    posts.append(paper_post("lost", "2012-10-16T18:00:00+00:00", "Ferry contracts review ordered", "ferry"))
    return archive, posts, found


async def test_an_outlet_filing_articles_under_several_sections_gets_no_automatic_recovery(tmp_path):
    # The month's listing shows two articles each under two sections: one article can sit in several.
    archive, posts, found = multi_section_paper((("national", "politics"), ("national", "politics")))
    repairs, _ = await _recover(tmp_path, archive, posts)
    assert repairs["lost"]["url"] == found and repairs["lost"]["state"] == "proposed"
    assert "several sections (2 article ids under two paths" in repairs["lost"]["evidence"]["decision"]


async def test_the_posts_of_a_domain_left_unsettled_share_one_headline_search(tmp_path):
    archive = SimulatedArchive()
    posts = paper_learning_posts()
    for day in range(1, 31):
        archive.add(Capture(paper(f"other-story-{day}", 4_600_000 + day * 1000), f"201211{day:02d}120000",
                            body=page(f"Other story {day}", f"other{day}")))
    # Three articles of 2009 and 2010 the blog posted in November 2012: the dated rounds find none of them.
    found = {}
    for pid, head, ident, ts in [("pipeline", "Old pipeline saga resurfaces", 1_200_000, "20090601120000"),
                                 ("ferry", "Ferry contracts scandal returns", 1_300_000, "20090901120000"),
                                 ("census", "Census fight revisited by mayors", 1_900_000, "20100301120000")]:
        found[pid] = paper(head.lower().replace(" ", "-"), ident)
        archive.add(Capture(found[pid], ts, body=page(head, pid, "Sam Poe")))
        posts.append(paper_post(pid, f"2012-11-{10 + len(found)}T18:00:00+00:00", head, pid))
    repairs, got = await _recover(tmp_path, archive, posts)
    for pid, url in found.items():
        assert repairs[pid]["state"] == "approved" and repairs[pid]["url"] == url, repairs[pid]["evidence"]["decision"]
    # One headline search for the three posts (their filters joined), each keeping the rows of its own.
    filters = [json.loads(r["key"])["filter"][-1] for r in store_rows(tmp_path)]
    headline = [f for f in filters if f.startswith("original:(?i)(?:.*(?:")]
    assert len(headline) == 1 and all(word in headline[0] for word in ("saga", "scandal", "revisited")), filters
    assert not [f for f in filters if f.startswith("original:(?i).*(?:") and "saga" in f and "[^a-z0-9]" not in f]
    assert all(any("any date" in q for q in repairs[pid]["evidence"]["queries"]) for pid in found)


async def test_two_earlier_urls_left_as_redirects_by_an_outlets_move_send_the_link_to_a_person(tmp_path):
    """The outlet moved its articles to new URLs in 2013: the 2012 article is captured only at its new home,
    and the index keeps its two earlier URLs (two sections) as redirects to it. The blogger, posting in 2012,
    linked one of those two: a person decides, with both listed. One earlier URL alone is not a rival (though
    the outlet, now seen filing an article in two sections, gets no automatic approval of the month either)."""
    archive = SimulatedArchive()
    home = "http://www.news.example/news/columnists/2012/10/16/ferry_contracts_review_ordered.html"
    archive.add(Capture(home, "20141225193857", body=page("Ferry contracts review ordered", "ferry")))
    earlier = ["http://www.news.example/news/world/article/1250598--ferry-contracts-review-ordered",
               "http://www.news.example/news/columnists/article/1250598--ferry-contracts-review-ordered"]
    archive.add(Capture(earlier[0], "20160727004841", status=301, redirect_to=home))
    archive.add(Capture(earlier[1], "20230119154637", status=301, redirect_to=home))
    # The same move for another article, which had one earlier URL only: still approved.
    single_home = "http://www.news.example/news/gta/2012/10/18/pipeline_permits_frozen.html"
    archive.add(Capture(single_home, "20141226120000", body=page("Pipeline permits frozen", "pipeline")))
    archive.add(Capture("http://www.news.example/news/gta/article/1250777--pipeline-permits-frozen",
                        "20160727004900", status=301, redirect_to=single_home))
    add_learning_captures(archive)
    posts = learning_posts() + [
        blog_post("moved", "2012-10-16T18:00:00+00:00", "Ferry contracts review ordered", "ferry"),
        blog_post("single", "2012-10-18T18:00:00+00:00", "Pipeline permits frozen", "pipeline", author="Tom Roe")]
    repairs, _ = await _recover(tmp_path, archive, posts)
    moved = repairs["moved"]
    assert moved["state"] == "proposed", moved["evidence"]["decision"]
    assert moved["url"] == home
    listed = [c["url"] for c in moved["evidence"]["candidates"]]
    assert listed[0] == home and set(earlier) <= set(listed[1:3])
    assert "2 earlier URLs" in moved["evidence"]["rival_check"]
    single = repairs["single"]
    assert single["state"] == "proposed" and single["url"] == single_home
    assert "other article(s) within 365 days under two URLs" in single["evidence"]["decision"]
    assert "earlier URLs" not in single["evidence"]["rival_check"]
    # The rival search asks for redirects as well as pages, in one query for the domain's two approvals.
    (rival,) = [q for r in store_rows(tmp_path) if "statuscode:[23].." in (q := json.loads(r["key"]))["filter"]]
    assert "contracts[^a-z0-9]+review[^a-z0-9]+ordered" in rival["filter"][-1]
    assert "pipeline[^a-z0-9]+permits[^a-z0-9]+frozen" in rival["filter"][-1]


async def test_the_found_pages_address_in_another_section_left_only_as_a_redirect_sends_the_link_to_a_person(tmp_path):
    """The Guardian's shape: the article was filed under /world/ and /environment/ in 2012; the outlet later
    moved to a new domain, and the index holds 2012 captures of the /world/ page but only the later redirects
    of the /environment/ one. That one earlier URL is the same path but for its section: a second address."""
    archive = SimulatedArchive()
    found = "http://www.news.example/world/2012/oct/16/ferry-contracts-review-ordered"
    other = "http://www.news.example/environment/2012/oct/16/ferry-contracts-review-ordered"
    home = "http://www.newsexample.com/environment/2012/oct/16/ferry-contracts-review-ordered"
    archive.add(Capture(found, "20121016150000", body=page("Ferry contracts review ordered", "ferry")))
    archive.add(Capture(found, "20160903054923", status=301, redirect_to=home))
    archive.add(Capture(other, "20210907222109", status=301, redirect_to=home))
    # An old address of another shape, alone, is still just the article's old address.
    single = "http://www.news.example/world/2012/oct/18/pipeline-permits-frozen"
    archive.add(Capture(single, "20121018150000", body=page("Pipeline permits frozen", "pipeline")))
    archive.add(Capture("http://www.news.example/world/article/1250777--pipeline-permits-frozen",
                        "20160727004900", status=301, redirect_to=single))
    archive.add(Capture("http://www.news.example/world/2011/jan/10/old-story-1",
                        "20110110150000", body=page("Old story 1", "old1")))
    posts = [blog_post("old", "2011-01-10T10:00:00+00:00", "Old story 1", "old1",
                       href="http://www.news.example/world/2011/jan/10/old-story-1"),
             blog_post("twice", "2012-10-16T18:00:00+00:00", "Ferry contracts review ordered", "ferry"),
             blog_post("single", "2012-10-18T18:00:00+00:00", "Pipeline permits frozen", "pipeline", author="Tom Roe")]
    repairs, _ = await _recover(tmp_path, archive, posts)
    twice = repairs["twice"]
    assert twice["state"] == "proposed" and twice["url"] == found, twice["evidence"]["decision"]
    assert other in [c["url"] for c in twice["evidence"]["candidates"]][1:3]
    assert "its address in another section, captured only as a redirect" in twice["evidence"]["rival_check"]
    assert "earlier URLs" not in repairs["single"]["evidence"]["rival_check"]


async def test_a_resumed_run_keeps_the_rule_an_outlet_seen_publishing_twice_set(tmp_path):
    """The run is stopped after the post whose article the outlet published twice; the next run, recovering
    the clear case of the same outlet and month, still sends it to a person."""
    archive = SimulatedArchive()
    db = store.open_db(tmp_path / "r.db")
    store_posts(db, twin_and_clear(archive))
    async with serve(archive.app()) as base:
        settings = Settings(cdx_rate=0, replay_rate=0, retries=0).replace(**settings_for(base))
        first = await recover_nullified(db, settings, live_check=False, limit=1)
        second = await recover_nullified(db, settings, live_check=False)
    assert [o.state for o in first.outcomes] == ["proposed"] and [o.state for o in second.outcomes] == ["proposed"]
    repair = stored_repairs(db)["clear"]
    assert repair["url"] == CLEAR
    assert "the outlet was seen publishing 1 other article(s)" in repair["evidence"]["decision"]


async def test_the_headline_search_covers_the_outlets_later_domain(tmp_path):
    """An outlet that moved to a new domain (the Guardian: guardian.co.uk until 2013, theguardian.com since) may
    have its 2012 article captured only at the new address, years later. The blog links only the old domain
    around the post, so the dated rounds search that; the headline search, having no dates, covers the
    outlet's other domain too (the outlets file names both) and finds it there."""
    archive = SimulatedArchive()
    posts = [blog_post(f"old-{i}", f"2012-{i + 6:02d}-10T10:00:00+00:00", f"Old story {i}", f"old{i}",
                       outlet="The Guardian", href=f"http://www.guardian.co.uk/world/2012/jul/0{i}/old-story-number-{i}")
             for i in range(1, 4)]
    for day in range(1, 29):
        archive.add(Capture(f"http://www.guardian.co.uk/world/2012/nov/{day:02d}/other-story-of-day-{day}",
                            f"201211{day:02d}120000", body=page(f"Other story {day}", f"other{day}")))
    moved = "http://www.theguardian.com/commentisfree/2012/nov/08/ferry-contracts-review-ordered"
    archive.add(Capture(moved, "20150227134021", body=page("Ferry contracts review ordered", "ferry")))
    posts.append(blog_post("ferry", "2012-11-10T18:00:00+00:00", "Ferry contracts review ordered", "ferry",
                           outlet="The Guardian"))
    repairs, _ = await _recover(tmp_path, archive, posts)
    ferry = repairs["ferry"]
    assert ferry["state"] in ("approved", "proposed") and ferry["url"] == moved, ferry["evidence"]["decision"]
    headline = [q for q in ferry["evidence"]["queries"] if "any date" in q]
    assert sorted(q.split(" ")[0] for q in headline) == ["guardian.co.uk", "theguardian.com"], headline


async def test_a_url_the_archive_keeps_with_its_default_port_is_recovered_without_it(tmp_path):
    # Older captures carry the port the crawler saw (`http://www.news.example:80/...`): the blog gets the URL as
    # its readers would write it, and the capture is still found under it.
    archive = SimulatedArchive()
    add_learning_captures(archive)
    archive.add(Capture("http://www.news.example:80/news/2012/10/16/ferry-contracts-review-ordered/", "20121016150000",
                        body=page("Ferry contracts review ordered", "ferry")))
    repairs, _ = await _recover(tmp_path, archive, learning_posts() + [
        blog_post("ferry", "2012-10-16T18:00:00+00:00", "Ferry contracts review ordered", "ferry")])
    ferry = repairs["ferry"]
    assert ferry["url"] == ARTICLE and ferry["state"] == "approved", json.dumps(ferry["evidence"])
    assert ferry["replacement"] == f"https://web.archive.org/web/20121016150000/{ARTICLE}"


async def test_a_held_multi_section_find_lists_the_articles_address_in_the_paired_sections(tmp_path):
    """The listings show the Paper filing one article under `national` and `politics`, and another under
    `business` and `opinion`: the article found under `national` is held for a person, and its address in
    `politics` (paired with its own section) is listed second, then `business` and `opinion`, never
    captured and unverified: the blogger may have linked any of them."""
    archive, posts, found = multi_section_paper((("national", "politics"), ("business", "opinion")))
    repairs, got = await _recover(tmp_path, archive, posts)
    lost = repairs["lost"]
    assert lost["url"] == found and lost["state"] == "proposed", lost["evidence"]["decision"]
    listed = lost["evidence"]["candidates"]
    built = [found.replace("/national/", f"/{s}/") for s in ("politics", "business", "opinion")]
    assert [c["url"] for c in listed[:4]] == [found] + built, [c["url"] for c in listed]
    assert not any(c["verified"] for c in listed[1:4])
    assert got["candidates"]["lost"].count(found) == 1


@pytest.mark.parametrize("shown_by", ["the blog in 2012", "the listings", "the blog in 2009 only"])
async def test_an_outlet_publishing_on_two_hosts_at_the_time_gets_no_automatic_recovery(tmp_path, shown_by):
    """The Citizen published articles on www. and on its blogs. host at once, and the blogger linked either:
    a find on one, its copy on the other never captured, may not be the page the blogger linked. The blog's
    links show the second host in use (other posts link it that year), or the archive's listings do (its
    pages dated within weeks of the post). Where the blog linked it only years before and the listings show
    none of it, the find is approved."""
    archive = SimulatedArchive()
    posts = learning_posts()
    add_learning_captures(archive)
    if shown_by.startswith("the blog"):
        year = shown_by[-9:-5] if "only" in shown_by else shown_by[-4:]
        posts.append(blog_post("blog-copy", f"{year}-08-20T10:00:00+00:00", "A blog copy", "blogcopy",
                               href=f"http://blogs.news.example/{year}/08/20/a-blog-copy/"))
    else:
        for day in (12, 14):
            archive.add(Capture(f"http://blogs.news.example/2012/10/{day}/a-column-of-the-{day}th/",
                                f"201210{day}150000", body=page(f"A column of the {day}th", f"column{day}")))
    found = "http://www.news.example/news/2012/10/16/ferry-contracts-review-ordered/"
    archive.add(Capture(found, "20121016150000", body=page("Ferry contracts review ordered", "ferry")))
    posts.append(blog_post("ferry", "2012-10-16T18:00:00+00:00", "Ferry contracts review ordered", "ferry"))
    repairs, _ = await _recover(tmp_path, archive, posts)
    ferry = repairs["ferry"]
    assert ferry["url"] == found
    if "only" in shown_by:
        assert ferry["state"] == "approved", ferry["evidence"]["decision"]
    else:
        assert ferry["state"] == "proposed", ferry["evidence"]["decision"]
        assert "published articles on blogs.news.example too" in ferry["evidence"]["decision"]
