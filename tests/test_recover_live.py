"""The recovery reads a candidate on the live web before it asks the archive for the candidate's capture, over
real HTTP on loopback (the simulated web and archive): a live page holding the post's text, or plainly another
article, costs the archive nothing; a page gone from the web, or one that kept the post's headline but not its
text, is read from its capture."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from linkkeeper import store
from linkkeeper.repair.recover import recover_nullified
from linkkeeper.settings import ConnectTo, Settings
from linkkeeper.sim.archive import Capture, SimulatedArchive, settings_for
from linkkeeper.sim.servers import serve
from linkkeeper.sim.web import Page, SimulatedWeb
from test_recover_rivals import add_learning_captures, blog_post, learning_posts, page, stored_repairs
from worlds.bulk_repair import store_posts

HOST = "www.news.example"
FERRY = f"http://{HOST}/news/2012/10/16/ferry-contracts-review-ordered/"        # alive today
PIPELINE = f"http://{HOST}/news/2012/10/18/pipeline-permits-frozen/"             # gone today (404)
HARBOUR = f"http://{HOST}/news/2012/10/17/harbour-dredging-delayed/"             # another article, alive
PAYWALL = f"http://{HOST}/news/2012/10/19/grain-terminal-sale-approved/"          # headline kept, text gone


def _world() -> tuple[SimulatedArchive, SimulatedWeb]:
    archive, web = SimulatedArchive(), SimulatedWeb()
    for url, ts, title, topic in [(FERRY, "20121016150000", "Ferry contracts review ordered", "ferry"),
                                  (PIPELINE, "20121018150000", "Pipeline permits frozen", "pipeline"),
                                  (HARBOUR, "20121017150000", "Harbour dredging delayed", "harbour"),
                                  (PAYWALL, "20121019150000", "Grain terminal sale approved", "grain")]:
        archive.add(Capture(url, ts, body=page(title, topic)))
    add_learning_captures(archive)
    web.add(FERRY, body=page("Ferry contracts review ordered", "ferry"))
    web.add(HARBOUR, body=page("Harbour dredging delayed", "harbour"))
    # A paywall: the headline over a teaser that holds none of the text; only the capture can tell.
    web.add(PAYWALL, body="<html><head><title>Grain terminal sale approved</title></head><body><h1>Grain terminal "
                          "sale approved</h1><p>Subscribe to read this story and many more like it today.</p>"
                          + "<p>Our journalism costs money.</p>" * 30 + "</body></html>")
    web.add(PIPELINE, _gone())
    return archive, web


def _gone() -> Page:
    return Page(status=404, body="<html><title>Not found</title>Page not found</html>")


async def _recover(db, archive: SimulatedArchive, web: SimulatedWeb, **more):
    """recover_nullified with the live checks on, the simulated web serving HOST, and `more` settings:
    (repairs by post, summary)."""
    async with serve(archive.app()) as archive_base, serve(web.app()) as web_base:
        port = int(web_base.rsplit(":", 1)[1])
        settings = Settings(cdx_rate=0, replay_rate=0, retries=0, connect_to=(ConnectTo(HOST, "*", "127.0.0.1", port),),
                            **more).replace(**settings_for(archive_base))
        summary = await recover_nullified(db, settings)
    return stored_repairs(db), summary


async def test_candidates_are_read_on_the_live_web_before_their_captures(tmp_path):
    archive, web = _world()
    db = store.open_db(tmp_path / "r.db")
    store_posts(db, learning_posts() + [
        blog_post("ferry", "2012-10-16T18:00:00+00:00", "Ferry contracts review ordered", "ferry"),
        blog_post("pipeline", "2012-10-18T18:00:00+00:00", "Pipeline permits frozen", "pipeline", author="Tom Roe"),
        blog_post("grain", "2012-10-19T18:00:00+00:00", "Grain terminal sale approved", "grain", author="Ann Lee")])
    repairs, summary = await _recover(db, archive, web)
    chosen = {pid: next(c for c in r["evidence"]["candidates"] if c["url"] == r["url"]) for pid, r in repairs.items()}
    # The article alive today: found and compared on the live web, linked live.
    assert repairs["ferry"]["url"] == FERRY and repairs["ferry"]["state"] in ("approved", "proposed")
    assert chosen["ferry"]["read"] == "the live page" and chosen["ferry"]["text_similarity"] >= 0.9
    assert repairs["ferry"]["replacement"] == FERRY
    # Asked once: the live check that makes it the replacement reuses the probe that compared it.
    assert web.hits[("www.news.example", "/news/2012/10/16/ferry-contracts-review-ordered/")] == 1
    assert repairs["ferry"]["evidence"]["live_check"]["evidence_class"] == "alive"
    # The article gone from the web: read from its capture, and the capture is the replacement.
    assert repairs["pipeline"]["url"] == PIPELINE and "read" not in chosen["pipeline"]
    assert repairs["pipeline"]["replacement"].endswith(PIPELINE) and "/web/" in repairs["pipeline"]["replacement"]
    # The paywalled page kept the headline and lost the text: its capture decides.
    assert repairs["grain"]["url"] == PAYWALL and "read" not in chosen["grain"]
    assert chosen["grain"]["text_similarity"] >= 0.9
    # The archive served only the captures the live web could not stand in for: the pipeline's and the grain
    # article's. Every other page (the ferry article, the harbour article alive under its own headline) was
    # read live, whichever post's candidate it was.
    replayed = sorted(path for endpoint, _, path in archive.request_log if endpoint == "replay")
    assert len(replayed) == 2 and any(PIPELINE in p for p in replayed) and any(PAYWALL in p for p in replayed), replayed
    assert summary.captures_fetched == 2


async def test_a_page_whose_address_names_the_article_but_now_shows_another_is_read_from_its_capture(tmp_path):
    """The outlet put another article at the address (or sends it to another one): the live page holds none of
    the post's text under another headline, which would pass for plainly another article; but the address's
    slug is the post's headline, so the page drifted, and its capture of the day is read."""
    archive, web = _world()
    wharf = f"http://{HOST}/news/2012/10/20/wharf-strike-ends-after-talks/"
    archive.add(Capture(wharf, "20121020150000", body=page("Wharf strike ends after talks", "wharf")))
    web.add(wharf, body=page("Council approves the transit budget", "council"))
    db = store.open_db(tmp_path / "r.db")
    store_posts(db, learning_posts() + [
        blog_post("wharf", "2012-10-20T18:00:00+00:00", "Wharf strike ends after talks", "wharf")])
    repairs, _ = await _recover(db, archive, web)
    wharf_repair = repairs["wharf"]
    chosen = next(c for c in wharf_repair["evidence"]["candidates"] if c["url"] == wharf)
    assert wharf_repair["url"] == wharf and chosen["text_similarity"] >= 0.9 and "read" not in chosen
    assert wharf_repair["replacement"] == f"https://web.archive.org/web/20121020150000/{wharf}"

def test_candidates_of_equal_prescore_are_read_nearest_the_post_first():
    # Postmedia's `story.html?id=` pages: no slug, the id dated to within days, so a whole listing ties on
    # prescore; the alphabetically first ids were read before, whatever their dates.
    from datetime import date

    from linkkeeper.repair.recover.scoring import PostContext, RecoveryCandidate, reading_order
    from linkkeeper.wayback import CdxRecord

    post = PostContext.from_row({"link_id": "l", "post_id": "p", "published": "2012-10-16T12:00:00-04:00",
                                 "title": "Ferry contracts review ordered", "content": "<p>Ferry.</p>"})

    def cand(article_id: int, day: int) -> RecoveryCandidate:
        url = f"http://www.ottawacitizen.com/news/story.html?id={article_id}"
        record = CdxRecord("", "20121020000000", url, "text/html", "200", "D", "9000")
        return RecoveryCandidate(url, record.timestamp, record, None, date(2012, 10, day), "id", False, [],
                                 prescore=0.81)

    found = [cand(7300001, 2), cand(7300002, 9), cand(7390000, 15), cand(7400000, 17)]
    found[1].verified = True  # read already: not read again
    order = [c.url.rsplit("=", 1)[1] for c in reading_order(found, post)]
    assert order == ["7390000", "7400000", "7300001"]


def test_the_look_back_reads_more_where_slugless_leaders_tie():
    # Tied `story.html?id=` pages say nothing by their order: the look-back round reads four of them; a
    # slugged leader, or leaders of different prescores, keep it at two.
    from datetime import date

    from linkkeeper.repair.recover.scoring import PostContext, RecoveryCandidate, slugless_tie
    from linkkeeper.wayback import CdxRecord

    post = PostContext.from_row({"link_id": "l", "post_id": "p", "published": "2012-10-16T12:00:00-04:00",
                                 "title": "Ferry contracts review ordered", "content": "<p>Ferry.</p>"})

    def cand(path: str, prescore: float, slug: list[str]) -> RecoveryCandidate:
        url = f"http://www.vancouversun.com{path}"
        record = CdxRecord("", "20121020000000", url, "text/html", "200", "D", "9000")
        return RecoveryCandidate(url, record.timestamp, record, None, date(2012, 10, 16), "id", False, slug,
                                 prescore=prescore)

    ids = [cand(f"/news/story.html?id={7300000 + i}", 0.81, []) for i in range(4)]
    assert slugless_tie(ids, post)
    assert not slugless_tie(ids[:2], post)  # too few to tie
    assert not slugless_tie([cand("/news/2012/10/16/ferry-contracts-review/", 0.81, ["ferry", "contracts"])]
                            + ids[:2], post)
    assert not slugless_tie([cand("/news/story.html?id=7299999", 0.9, [])] + ids[:2], post)


def _writer_posts(pipeline_author: str) -> list:
    """learning_posts, a post linking Jane Dolan's writer's page (the outlet files articles under writers'
    names too), and the ferry (by her) and pipeline posts of the nullified window."""
    return learning_posts() + [
        blog_post("column", "2011-05-10T10:00:00+00:00", "A column on ferries", "column", author="Jane Dolan",
                  href=f"http://{HOST}/blogs/jane-dolan/2011/05/a-column-on-ferries/"),
        blog_post("ferry", "2012-10-16T18:00:00+00:00", "Ferry contracts review ordered", "ferry",
                  author="Jane Dolan"),
        blog_post("pipeline", "2012-10-18T18:00:00+00:00", "Pipeline permits frozen", "pipeline",
                  author=pipeline_author)]


async def test_the_writers_page_the_blogger_may_have_linked_is_named_and_read_on_the_live_web(tmp_path):
    """An outlet that files articles under their writers' names too (the blog linked such a page once): the
    recovered news page is not approved, and the writer's page is built from that link's shape and read on
    the live web. Still there with the post's text: two pages hold it. Gone and never captured: named for
    the person who decides, unverified."""
    archive, web = _world()
    writer_ferry = f"http://{HOST}/blogs/jane-dolan/2012/10/ferry-contracts-review-ordered/"
    writer_pipeline = f"http://{HOST}/blogs/tom-rowland/2012/10/pipeline-permits-frozen/"
    web.add(writer_ferry, body=page("Ferry contracts review ordered", "ferry"))
    web.add(writer_pipeline, _gone())
    db = store.open_db(tmp_path / "r.db")
    store_posts(db, _writer_posts("Tom Rowland and Ann Lee"))
    repairs, _ = await _recover(db, archive, web)
    ferry, pipeline = repairs["ferry"], repairs["pipeline"]
    assert ferry["state"] == "proposed" and "2 pages of the outlet hold the post's text" in ferry["evidence"]["decision"]
    twin = {c["url"]: c for c in ferry["evidence"]["candidates"]}[writer_ferry]
    assert twin["text_similarity"] >= 0.9 and twin["read"] == "the live page"
    assert pipeline["state"] == "proposed" and pipeline["url"] == PIPELINE
    assert f"({writer_pipeline}: no page today)" in pipeline["evidence"]["decision"]
    listed = [c["url"] for c in pipeline["evidence"]["candidates"]]
    assert listed[:2] == [PIPELINE, writer_pipeline]
    assert not pipeline["evidence"]["candidates"][1]["verified"]


async def test_the_writers_page_is_named_where_another_rule_already_holds_the_approval(tmp_path):
    """The writer's page the blogger may have linked is listed whatever rule keeps the found page from being
    approved: here the outlet is seen, in the same run, publishing another article twice (the news page and,
    captured months later, its writer's page), which alone makes the pipeline article a proposal."""
    archive, web = SimulatedArchive(), SimulatedWeb()
    add_learning_captures(archive)
    writer = f"http://{HOST}/blogs/" + "{}/2012/10/{}/"
    archive.add(Capture(FERRY, "20121016150000", body=page("Ferry contracts review ordered", "ferry")))
    archive.add(Capture(writer.format("jane-dolan", "ferry-contracts-review-ordered"), "20130310150000",
                        body=page("Ferry contracts review ordered", "ferry")))
    archive.add(Capture(PIPELINE, "20121018150000", body=page("Pipeline permits frozen", "pipeline")))
    web.add(PIPELINE, _gone())
    db = store.open_db(tmp_path / "r.db")
    store_posts(db, _writer_posts("Tom Rowland"))
    repairs, _ = await _recover(db, archive, web)
    pipeline = repairs["pipeline"]
    assert pipeline["state"] == "proposed" and "publishing 1 other article(s)" in pipeline["evidence"]["decision"]
    listed = [c["url"] for c in pipeline["evidence"]["candidates"]]
    assert listed[:2] == [PIPELINE, writer.format("tom-rowland", "pipeline-permits-frozen")]


async def test_a_writers_page_found_names_the_outlets_dated_news_page_the_blogger_may_have_linked(tmp_path):
    """The other way round: the archive holds the article only on its writer's page (`/authors/jane-dolan/
    slug/`), and the blog's links show the outlet's dated news pages. The news page the article would have
    (the blog's shape, the post's day, the writer's slug) is read on the live web: still there with the
    post's text, two pages hold it; gone and never captured, it is named for the person who decides, and the
    writer's page is not approved on its own."""
    archive, web = SimulatedArchive(), SimulatedWeb()
    add_learning_captures(archive)
    writer = f"http://{HOST}/authors/jane-dolan/" + "{}/"
    news = f"http://{HOST}/news/2012/10/" + "{}/{}/"
    for day, slug, title, topic in [(16, "ferry-contracts-review-ordered", "Ferry contracts review ordered", "ferry"),
                                    (18, "pipeline-permits-frozen", "Pipeline permits frozen", "pipeline")]:
        archive.add(Capture(writer.format(slug), f"201210{day}150000", body=page(title, topic, "Jane Dolan")))
    web.add(news.format(16, "ferry-contracts-review-ordered"), body=page("Ferry contracts review ordered", "ferry"))
    web.add(news.format(18, "pipeline-permits-frozen"),
            _gone())
    db = store.open_db(tmp_path / "r.db")
    store_posts(db, learning_posts() + [
        blog_post("ferry", "2012-10-16T18:00:00+00:00", "Ferry contracts review ordered", "ferry", author="Jane Dolan"),
        blog_post("pipeline", "2012-10-18T18:00:00+00:00", "Pipeline permits frozen", "pipeline",
                  author="Jane Dolan")])
    repairs, _ = await _recover(db, archive, web)
    ferry, pipeline = repairs["ferry"], repairs["pipeline"]
    assert ferry["state"] == "proposed" and "2 pages of the outlet hold the post's text" in ferry["evidence"]["decision"]
    twin = {c["url"]: c for c in ferry["evidence"]["candidates"]}[news.format(16, "ferry-contracts-review-ordered")]
    assert twin["text_similarity"] >= 0.9 and twin["read"] == "the live page"
    gone = news.format(18, "pipeline-permits-frozen")
    assert pipeline["state"] == "proposed" and pipeline["url"] == writer.format("pipeline-permits-frozen")
    assert f"({gone}: no page today)" in pipeline["evidence"]["decision"]
    assert [c["url"] for c in pipeline["evidence"]["candidates"]][:2] == [pipeline["url"], gone]
    assert not pipeline["evidence"]["candidates"][1]["verified"]
    # No archive request for the news pages: the rival search would have listed any capture of them.
    assert not any("/news/2012/10/" in path for endpoint, _, path in archive.request_log if endpoint == "replay")


async def test_a_writers_page_found_names_the_news_page_of_an_outlet_dating_by_month(tmp_path):
    """rabble.ca dates its news pages by month (`/news/2012/11/slug`) and files writers' copies at
    `/blogs/bloggers/<writer>/2012/11/slug`: the writer's copy found, the news page (never captured, gone
    today) is named for the person who decides, and the writer's page is not approved on its own."""
    archive, web = SimulatedArchive(), SimulatedWeb()
    learning = []
    for i in range(1, 4):
        href = f"http://{HOST}/news/2011/0{i}/old-story-number-{i}"
        learning.append(blog_post(f"old-{i}", f"2011-0{i}-10T10:00:00+00:00", f"Old story {i}", f"old{i}", href=href))
        archive.add(Capture(href, f"20110{i}10150000", body=page(f"Old story {i}", f"old{i}")))
    writer = f"http://{HOST}/blogs/bloggers/jane-dolan/2012/10/ferry-contracts-review-ordered"
    news = f"http://{HOST}/news/2012/10/ferry-contracts-review-ordered"
    archive.add(Capture(writer, "20121016150000", body=page("Ferry contracts review ordered", "ferry", "Jane Dolan")))
    web.add(news, _gone())
    db = store.open_db(tmp_path / "r.db")
    store_posts(db, learning + [blog_post("ferry", "2012-10-16T18:00:00+00:00", "Ferry contracts review ordered",
                                          "ferry", author="Jane Dolan")])
    repairs, _ = await _recover(db, archive, web)
    ferry = repairs["ferry"]
    assert ferry["state"] == "proposed" and ferry["url"] == writer
    assert f"({news}: no page today)" in ferry["evidence"]["decision"]
    assert [c["url"] for c in ferry["evidence"]["candidates"]][:2] == [writer, news]


@pytest.mark.parametrize("links_news_pages", [True, False], ids=["blog-links-news-pages", "no-news-pages-linked"])
async def test_a_writers_page_with_an_id_is_not_approved_where_the_outlet_has_dated_news_pages(tmp_path,
                                                                                           links_news_pages):
    """A writer's page whose address carries an id (`/jane-dolan/slug_b_4418807.html`): no news address can be
    built from it (the news page's id need not be the same), yet where the blog links the outlet's dated news
    pages the article may have had one, never captured, and the blogger may have linked it: a person decides.
    Where the blog links no dated page of the outlet, nothing says a second page existed: the approval stands."""
    archive, web = SimulatedArchive(), SimulatedWeb()
    if links_news_pages:
        learning = learning_posts()
        add_learning_captures(archive)
    else:
        learning = [blog_post(f"old-{i}", f"2011-0{i}-10T10:00:00+00:00", f"Old story {i}", f"old{i}",
                              href=f"http://{HOST}/story/old-story-number-{i}-{4100000 + i}")
                    for i in range(1, 4)]
        for i in range(1, 4):
            archive.add(Capture(f"http://{HOST}/story/old-story-number-{i}-{4100000 + i}", f"20110{i}10150000",
                                body=page(f"Old story {i}", f"old{i}")))
    writer = f"http://{HOST}/jane-dolan/ferry-contracts-review-ordered_b_4418807.html"
    archive.add(Capture(writer, "20121016150000", body=page("Ferry contracts review ordered", "ferry", "Jane Dolan")))
    web.add(writer, _gone())
    db = store.open_db(tmp_path / "r.db")
    store_posts(db, learning + [blog_post("ferry", "2012-10-16T18:00:00+00:00", "Ferry contracts review ordered",
                                          "ferry", author="Jane Dolan")])
    repairs, _ = await _recover(db, archive, web)
    ferry = repairs["ferry"]
    assert ferry["url"] == writer
    if links_news_pages:
        assert ferry["state"] == "proposed"
        assert "the outlet also has dated news pages" in ferry["evidence"]["decision"]
    else:
        assert ferry["state"] == "approved", ferry["evidence"]["decision"]


async def test_the_found_pages_address_in_another_section_answering_with_the_text_sends_it_to_a_person(tmp_path):
    """An outlet whose dated URLs start with a section (the blog links its /world/ and /politics/ pages). The
    archive captured the article under /politics/ only; today its /world/ address answers too, sending to the
    same article: the blogger may have linked either, so a person decides, both listed. Where the other
    section's address answers 404 (most outlets), the approval stands, and nothing is listed for it."""
    archive, web = SimulatedArchive(), SimulatedWeb()
    section = f"http://{HOST}" + "/{}/{}/10/{}/{}/"
    learning = [blog_post(f"old-{i}", f"2012-0{i + 6}-10T10:00:00+00:00", f"Old story {i}", f"old{i}",
                          href=section.format(part, 2012, f"0{i}", f"old-story-number-{i}"))
                for i, part in enumerate(["world", "politics", "world"], start=1)]
    # The pipeline article two years on: the outlet seen publishing the ferry article twice does not weigh on it.
    for year, day, slug, title, topic in [
            (2012, 16, "ferry-contracts-review-ordered", "Ferry contracts review ordered", "ferry"),
            (2014, 18, "pipeline-permits-frozen", "Pipeline permits frozen", "pipeline")]:
        archive.add(Capture(section.format("politics", year, day, slug), f"{year}10{day}150000",
                            body=page(title, topic)))
    web.add(section.format("world", 2012, 16, "ferry-contracts-review-ordered"),
            Page(status=301, location=section.format("politics", 2012, 16, "ferry-contracts-review-ordered")))
    web.add(section.format("politics", 2012, 16, "ferry-contracts-review-ordered"),
            body=page("Ferry contracts review ordered", "ferry"))
    db = store.open_db(tmp_path / "r.db")
    store_posts(db, learning + [
        blog_post("ferry", "2012-10-16T18:00:00+00:00", "Ferry contracts review ordered", "ferry"),
        blog_post("pipeline", "2014-10-18T18:00:00+00:00", "Pipeline permits frozen", "pipeline")])
    repairs, _ = await _recover(db, archive, web)
    ferry, pipeline = repairs["ferry"], repairs["pipeline"]
    assert ferry["state"] == "proposed" and "2 pages of the outlet hold the post's text" in ferry["evidence"]["decision"]
    listed = [c["url"] for c in ferry["evidence"]["candidates"]]
    assert section.format("world", 2012, 16, "ferry-contracts-review-ordered") in listed[:2]
    assert pipeline["state"] == "approved", pipeline["evidence"]["decision"]
    assert pipeline["url"] == section.format("politics", 2014, 18, "pipeline-permits-frozen")
    assert web.hits[(HOST, "/world/2014/10/18/pipeline-permits-frozen/")] == 1  # asked, answered 404
    assert not any("/world/" in c["url"] for c in pipeline["evidence"]["candidates"])
    # Read on the live web only: no replay of an address the archive never listed.
    assert not any("/world/" in path for endpoint, _, path in archive.request_log if endpoint == "replay")


SECTION_SHAPES = {
    # CBC's sections put their word before the slug (`tech-`, `ottawa-`): the other section's address swaps it.
    "section-word": ("/news/canada/ottawa/story/2012/{m}/{d}/ottawa-{slug}.html",
                     "/news/technology/story/2012/{m}/{d}/tech-{slug}.html",
                     "/news/politics/story/2012/{m}/{d}/pol-{slug}.html"),
    # The Globe routes by the id at the end: the same slug and id under any section reach the article.
    "id-routed": ("/report-on-business/economy/{slug}/article{id}/", "/news/world/{slug}/article{id}/",
                  "/news/politics/{slug}/article{id}/"),
}


# The ferry article's place in SECTION_SHAPES' addresses.
FERRY_VALUES = {"m": "10", "d": "16", "slug": "ferry-contracts-review-ordered", "id": 5810048}


def _sectioned_outlet(shape: str, archive: SimulatedArchive) -> tuple[list, tuple[str, str, str]]:
    """The learning posts of an outlet of SECTION_SHAPES[shape] (the found section twice, the most linked three
    times, the least once) with their captures, the ferry article's capture in the found section, and the
    three address templates."""
    found, most, least = (f"http://{HOST}" + s for s in SECTION_SHAPES[shape])
    learning = []
    for i, shape_of in enumerate([found, found, most, most, most, least], start=1):
        href = shape_of.format(m=f"0{i + 3}", d="10", slug=f"old-story-number-{i}", id=4100000 + i)
        learning.append(blog_post(f"old-{i}", f"2012-0{i + 3}-10T10:00:00+00:00", f"Old story {i}", f"old{i}",
                                  href=href))
        archive.add(Capture(href, f"20120{i + 3}10150000", body=page(f"Old story {i}", f"old{i}")))
    archive.add(Capture(found.format(**FERRY_VALUES), "20121016150000",
                        body=page("Ferry contracts review ordered", "ferry")))
    return learning, (found, most, least)


@pytest.mark.parametrize("shape", SECTION_SHAPES)
async def test_the_found_pages_address_in_another_section_is_built_in_the_outlets_own_shape(tmp_path, shape):
    """The other sections' addresses are built as the outlet builds its own (read off the blog's links): with
    the section's word before the slug, or with the article id the outlet routes by. Answering today with the
    post's text, they are rivals: a person decides, all listed, the section the blog links most first."""
    archive, web = SimulatedArchive(), SimulatedWeb()
    learning, (found, most, least) = _sectioned_outlet(shape, archive)
    values = FERRY_VALUES
    for other in (most, least):
        web.add(other.format(**values), body=page("Ferry contracts review ordered", "ferry"))
    db = store.open_db(tmp_path / "r.db")
    store_posts(db, learning + [blog_post("ferry", "2012-10-16T18:00:00+00:00", "Ferry contracts review ordered",
                                          "ferry")])
    repairs, _ = await _recover(db, archive, web)
    ferry = repairs["ferry"]
    assert ferry["url"] == found.format(**values)
    assert ferry["state"] == "proposed" and "3 pages of the outlet hold the post's text" in ferry["evidence"]["decision"]
    listed = [c["url"] for c in ferry["evidence"]["candidates"]]
    assert listed[:3] == [found.format(**values), most.format(**values), least.format(**values)]


async def test_a_column_in_a_common_shape_holding_the_text_sends_the_link_to_a_person(tmp_path):
    """Nothing in the blog or the archive shows the outlet filing articles under writers' names, yet its column
    of the article (`/columns/jane-dolan/slug/`, never captured) is on the live web with the post's text: the
    blogger may have linked it, so the found news page is not approved, and the outlet counts as publishing
    articles twice (its next article waits for a person too). Alone, the pipeline post, whose column
    addresses do not answer, is approved, and the addresses tried are not listed."""
    archive, web = _world()
    column = f"http://{HOST}/columns/jane-dolan/ferry-contracts-review-ordered/"
    web.add(column, body=page("Ferry contracts review ordered", "ferry"))
    ferry_post = blog_post("ferry", "2012-10-16T18:00:00+00:00", "Ferry contracts review ordered", "ferry",
                           author="Jane Dolan")
    pipeline_post = blog_post("pipeline", "2012-10-18T18:00:00+00:00", "Pipeline permits frozen", "pipeline",
                              author="Tom Rowland")
    db = store.open_db(tmp_path / "r.db")
    store_posts(db, learning_posts() + [ferry_post, pipeline_post])
    repairs, _ = await _recover(db, archive, web)
    ferry, pipeline = repairs["ferry"], repairs["pipeline"]
    assert ferry["state"] == "proposed" and "2 pages of the outlet hold the post's text" in ferry["evidence"]["decision"]
    twin = {c["url"]: c for c in ferry["evidence"]["candidates"]}[column]
    assert twin["text_similarity"] >= 0.9 and twin["read"] == "the live page"
    assert pipeline["state"] == "proposed" and "publishing 1 other article(s)" in pipeline["evidence"]["decision"]
    # No archive request for the columns: the rival search would have listed any capture of them.
    assert not any("/columns/" in path for endpoint, _, path in archive.request_log if endpoint == "replay")

    alone = store.open_db(tmp_path / "alone.db")
    store_posts(alone, learning_posts() + [pipeline_post])
    repairs, _ = await _recover(alone, archive, web)
    pipeline = repairs["pipeline"]
    assert pipeline["state"] == "approved" and pipeline["url"] == PIPELINE, pipeline["evidence"]["decision"]
    assert not any("/columns/" in c["url"] or "/authors/" in c["url"] for c in pipeline["evidence"]["candidates"])
    # Tried on the live web all the same: the pipeline's column addresses, in each common shape.
    assert {(HOST, f"/{shape}/tom-rowland/pipeline-permits-frozen/") for shape in ("columns", "authors", "blogs")} \
        <= set(web.hits)



async def test_a_column_is_listed_on_an_approval_held_for_another_reason(tmp_path):
    """The pipeline post's approval is held (the outlet was just seen publishing the ferry article twice); its
    own column, on the live web with the post's text, is listed too, for the person who decides."""
    archive, web = _world()
    for slug, title, topic, writer in [("ferry-contracts-review-ordered", "Ferry contracts review ordered", "ferry",
                                        "jane-dolan"),
                                       ("pipeline-permits-frozen", "Pipeline permits frozen", "pipeline", "tom-roe")]:
        web.add(f"http://{HOST}/columns/{writer}/{slug}/", body=page(title, topic))
    db = store.open_db(tmp_path / "r.db")
    store_posts(db, learning_posts() + [
        blog_post("ferry", "2012-10-16T18:00:00+00:00", "Ferry contracts review ordered", "ferry", author="Jane Dolan"),
        blog_post("pipeline", "2012-10-18T18:00:00+00:00", "Pipeline permits frozen", "pipeline", author="Tom Roe")])
    repairs, _ = await _recover(db, archive, web)
    pipeline = repairs["pipeline"]
    assert pipeline["state"] == "proposed" and pipeline["url"] == PIPELINE
    listed = {c["url"]: c for c in pipeline["evidence"]["candidates"]}
    assert listed[f"http://{HOST}/columns/tom-roe/pipeline-permits-frozen/"]["text_similarity"] >= 0.9


async def test_an_outlet_said_to_file_under_writers_names_without_a_shape_gets_the_common_shapes_tried(tmp_path):
    """The outlets file says the outlet files articles under writers' names (`writer_pages = true`) but not
    where, and the blog never linked such a page: the common column shapes are tried, and the writer's
    copy found there, with the post's text, is listed for the person who decides."""
    archive, web = _world()
    column = f"http://{HOST}/authors/jane-dolan/ferry-contracts-review-ordered/"
    web.add(column, body=page("Ferry contracts review ordered", "ferry"))
    outlets = tmp_path / "outlets.toml"
    outlets.write_text('[outlets."News Example"]\ndomains = ["www.news.example"]\nwriter_pages = true\n',
                       encoding="utf-8")
    db = store.open_db(tmp_path / "r.db")
    store_posts(db, learning_posts() + [blog_post("ferry", "2012-10-16T18:00:00+00:00",
                                                  "Ferry contracts review ordered", "ferry", author="Jane Dolan")])
    repairs, _ = await _recover(db, archive, web, outlets_file=str(outlets))
    ferry = repairs["ferry"]
    assert ferry["state"] == "proposed" and ferry["url"] == FERRY
    listed = {c["url"]: c for c in ferry["evidence"]["candidates"]}
    assert listed[column]["text_similarity"] >= 0.9 and listed[column]["read"] == "the live page"

@pytest.mark.parametrize("control", ["routed", "404"])
async def test_an_outlet_routing_every_sections_address_to_the_article_shows_no_second_page(tmp_path, control):
    """The Globe and Mail routes by the id at the end of the path: any section's address of the article
    redirects to its one URL. Those redirects say nothing of a second page when a made-up section's address
    (the control) lands there too; the found page is approved. Where the made-up section is not found, the
    outlet does not route so, and the redirects are the article's addresses in two sections: a person decides."""
    archive, web = SimulatedArchive(), SimulatedWeb()
    learning, (found, most, least) = _sectioned_outlet("id-routed", archive)
    values = FERRY_VALUES
    article = found.format(**values)
    web.add(article, body=page("Ferry contracts review ordered", "ferry"))
    made_up = f"http://{HOST}/linkkeeper-no-such-section/economy/ferry-contracts-review-ordered/article5810048/"
    for other in [most.format(**values), least.format(**values)] + ([made_up] if control == "routed" else []):
        web.add(other, Page(status=301, location=article))
    db = store.open_db(tmp_path / "r.db")
    store_posts(db, learning + [blog_post("ferry", "2012-10-16T18:00:00+00:00", "Ferry contracts review ordered",
                                          "ferry")])
    repairs, _ = await _recover(db, archive, web)
    ferry = repairs["ferry"]
    assert ferry["url"] == article
    assert web.hits[(HOST, urlsplit(made_up).path)] == 1  # one control for the check
    listed = [c["url"] for c in ferry["evidence"]["candidates"]]
    if control == "routed":
        assert ferry["state"] == "approved", ferry["evidence"]["decision"]
        assert most.format(**values) not in listed and made_up not in listed
    else:
        assert ferry["state"] == "proposed" and "3 pages of the outlet hold the post's text" in \
            ferry["evidence"]["decision"]
        assert most.format(**values) in listed


@pytest.mark.parametrize("control", ["routed", "404"])
async def test_a_writers_page_that_only_redirects_to_the_found_page_through_the_router_is_no_second_page(
        tmp_path, control):
    """The writer's page built for the found article redirects to it. Where a made-up section's address of
    the article (the control) lands there too, the outlet routes any address carrying the article's slug to
    it (WordPress guesses a post from its slug), and the redirect says nothing of a writer's page: the
    approval waits for a person because the writer's page may have existed, not because two pages hold the
    text. Where the control is not found, the redirect is the writer's page's own: two pages hold the text."""
    archive, web = _world()
    writer_ferry = f"http://{HOST}/blogs/jane-dolan/2012/10/ferry-contracts-review-ordered/"
    web.add(writer_ferry, Page(status=301, location=FERRY))
    made_up = f"http://{HOST}/linkkeeper-no-such-section/2012/10/16/ferry-contracts-review-ordered/"
    if control == "routed":
        web.add(made_up, Page(status=301, location=FERRY))
    db = store.open_db(tmp_path / "r.db")
    store_posts(db, _writer_posts("Tom Rowland"))
    repairs, _ = await _recover(db, archive, web)
    ferry = repairs["ferry"]
    assert ferry["state"] == "proposed" and ferry["url"] == FERRY
    decision = ferry["evidence"]["decision"]
    if control == "routed":
        assert "2 pages of the outlet hold the post's text" not in decision
        assert "writer's page" in decision and "was never captured" in decision, decision
        assert f"({writer_ferry}: no page of its own today: the outlet sends it to the page found)" in decision
        assert web.hits[(HOST, urlsplit(made_up).path)] == 1
    else:
        assert "2 pages of the outlet hold the post's text" in decision, decision
