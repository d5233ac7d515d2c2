"""The demo: a sample news-clipping blog in the shape of "Democracy Gone Astray", its outlets' pages on a
simulated web and their captures in a simulated Wayback Machine, and `run_demo`, which does the whole job
offline (ingest, check, repair dead links, recover the nullified ones, report, export) and prints a line per
stage and the next command to try.

The bundled export (data/sample-blog.xml) is generated from SAMPLE_POSTS by `write_sample_export`; a test
keeps the two in step.
"""

from __future__ import annotations

import html
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Callable

from linkkeeper.wayback import format_timestamp

BLOG_HOST = "democracyastray.blogspot.com"
BLOG_ID = "6412345678901234567"
SAMPLE_EXPORT = "sample-blog.xml"


@dataclass
class SamplePost:
    """One post of the sample blog and the fate of the article it reproduces."""

    number: int
    published: str        # ISO date-time, the post's publication
    title: str
    outlet: str
    author: str
    url: str              # the article's URL as the blog linked it ("" for a nullified link)
    fate: str             # alive | moved | head405 | dead404 | gone410 | refused | blocked | error503 |
                          # nocapture | badcaptures | nullified
    href: str | None = None  # the href written into the post (default: url); nullified shapes differ
    labels: list[str] = field(default_factory=list)
    # A nullified post's lost article: its URL, the same article's second URL where the outlet ran it in two
    # sections, whether the archive captured it, and where it is today (gone | alive | moved to a new domain).
    article: str = ""
    also_at: str = ""
    archived: bool = True
    live: str = "gone"

    @property
    def slug(self) -> str:
        words = [w for w in "".join(c if c.isalnum() else " " for c in self.title.lower()).split()
                 if w not in ("the", "a", "an")]
        return "-".join(words)[:40].rstrip("-")

    @property
    def post_url(self) -> str:
        return f"http://{BLOG_HOST}/{self.published[:4]}/{self.published[5:7]}/{self.slug}.html"

    def paragraphs(self) -> list[str]:
        """The article's opening paragraphs: deterministic, distinct per article."""
        rng = random.Random(self.number * 7919)
        subjects = ["Officials", "Critics", "Opposition members", "Advocates", "Residents", "Analysts"]
        verbs = ["warned", "said", "argued", "confirmed", "revealed", "insisted"]
        objects = ["the spending plan", "the new legislation", "the leaked documents", "the committee's findings",
                   "the pipeline review", "the budget cuts", "the election rules", "the surveillance bill"]
        topic = self.title.rstrip(".")
        first = (f"{topic}. {rng.choice(subjects)} {rng.choice(verbs)} on {self.published[:10]} that "
                 f"{rng.choice(objects)} would reshape how the government answers to voters, "
                 f"a claim that drew sharp replies within hours.")
        second = (f"{rng.choice(subjects)} {rng.choice(verbs)} that {rng.choice(objects)} had been "
                  f"kept from parliament for months, and that the story number {self.number} in this series "
                  f"shows a pattern of decisions made far from public view.")
        return [first, second]


def _post(number, published, title, outlet, author, url, fate, href=None, labels=("politics",), **lost):
    return SamplePost(number, published, title, outlet, author, url, fate, href, list(labels), **lost)


G, CBC, STAR, GLOBE, BBC, HUFF, CIT = ("theguardian", "cbc", "thestar", "theglobeandmail", "bbc",
                                       "huffingtonpost", "ottawacitizen")

SAMPLE_POSTS: list[SamplePost] = [
    _post(1, "2011-09-24T08:15:00.000-04:00", "Harper government cuts climate research funding", G, "Suzanne Goldenberg",
          "http://www.guardian.co.uk/environment/2011/sep/24/harper-climate-research-funding", "alive"),
    _post(2, "2011-10-03T10:02:00.000-04:00", "Omnibus crime bill passes second reading", CBC, "--",
          "http://www.cbc.ca/news/politics/story/2011/10/03/crime-bill-second-reading.html", "dead404"),
    _post(3, "2011-11-14T19:40:00.000-05:00", "Occupy Toronto protesters face eviction notice", STAR, "Daniel Dale",
          "http://www.thestar.com/news/gta/article/1086143--occupy-toronto-eviction", "moved"),
    _post(4, "2011-12-12T09:30:00.000-05:00", "Canada formally withdraws from Kyoto Protocol", BBC, "--",
          "http://www.bbc.co.uk/news/world-us-canada-16151310", "alive"),
    _post(5, "2012-01-20T12:00:00.000-05:00", "Robocall complaints reach elections watchdog", CIT, "Glen McGregor",
          "http://www.ottawacitizen.com/news/robocall-complaints-watchdog/5987011/story.html", "refused"),
    _post(6, "2012-02-15T14:20:00.000-05:00", "Lawful access bill lets police see subscriber data", GLOBE, "Gloria Galloway",
          "http://www.theglobeandmail.com/news/politics/lawful-access-bill/article2339321/", "gone410"),
    _post(7, "2012-03-08T07:55:00.000-05:00", "F-35 cost estimates hidden from parliament", CBC, "Laura Payton",
          "http://www.cbc.ca/news/politics/story/2012/03/08/f35-costs-parliament.html", "head405"),
    _post(8, "2012-04-09T11:11:00.000-04:00", "Auditor general report slams fighter jet purchase", STAR, "Bruce Campion-Smith",
          "http://www.thestar.com/news/canada/article/1158393--auditor-general-f35", "dead404"),
    _post(9, "2012-05-02T16:45:00.000-04:00", "Student strike in Quebec enters its twelfth week", G, "Ethan Cox",
          "http://www.guardian.co.uk/world/2012/may/02/quebec-student-strike-twelfth-week", "blocked"),
    _post(10, "2012-06-11T09:05:00.000-04:00", "Budget bill guts environmental assessment law", HUFF, "Mike De Souza",
          "http://www.huffingtonpost.ca/2012/06/11/budget-bill-environmental-assessment_n_1586123.html", "badcaptures"),
    _post(11, "2012-07-19T13:30:00.000-04:00", "Scientists march on Parliament Hill over muzzling", CBC, "--",
          "http://www.cbc.ca/news/technology/story/2012/07/10/science-rally.html", "dead404"),
    _post(12, "2012-08-27T08:00:00.000-04:00", "Experimental Lakes Area closure draws protest", GLOBE, "Ivan Semeniuk",
          "http://www.theglobeandmail.com/news/national/experimental-lakes-closure/article4501234/", "nocapture"),
    # 2012-09-11 .. 2012-12-11: the blogging software nullified every Original Article link. The lost articles'
    # URLs have the shapes the outlets used then, as the blog's other links show them (the Star's and the
    # Globe's article ids grow with time as those links' ids do).
    _post(13, "2012-09-14T10:10:00.000-04:00", "Omnibus budget bill two tabled in the Commons", CBC, "Kady O'Malley",
          "", "nullified", href="",
          article="http://www.cbc.ca/news/politics/story/2012/09/14/pol-omnibus-budget-bill-two-tabled.html"),
    _post(14, "2012-10-01T18:22:00.000-04:00", "China investment treaty signed without debate", G, "--",
          "", "nullified", href="#", live="moved",
          article="http://www.guardian.co.uk/world/2012/oct/01/canada-china-investment-treaty-signed-without-debate"),
    _post(15, "2012-10-16T09:00:00.000-04:00", "Ethics commissioner opens probe into minister", STAR, "Tonda MacCharles",
          "", "nullified", href=None, live="alive",
          article="http://www.thestar.com/news/canada/article/1251777--ethics-commissioner-opens-probe-into-minister"),
    _post(16, "2012-11-05T12:40:00.000-05:00", "Idle No More rallies spread across the country", HUFF, "Ryan Maloney",
          "", "nullified", href=f"http://{BLOG_HOST}/2012/11/idle-no-more-rallies-spread-across.html",
          article="http://www.huffingtonpost.ca/2012/11/05/idle-no-more-rallies_n_2324818.html"),
    _post(17, "2012-11-28T15:15:00.000-05:00", "Navigable waters protection stripped from rivers", GLOBE, "--",
          "", "nullified", href="javascript:void(0)",
          article="http://www.theglobeandmail.com/news/politics/navigable-waters-protection-stripped-from-rivers/"
                  "article7640352/",
          also_at="http://www.theglobeandmail.com/news/national/navigable-waters-protection-stripped-from-rivers/"
                  "article7640419/"),
    _post(18, "2012-12-10T08:30:00.000-05:00", "Chief Theresa Spence begins hunger strike", BBC, "--",
          "", "nullified", href="http://democracyastray.blogspot.ca/", archived=False,
          article="http://www.bbc.co.uk/news/world-us-canada-20644095"),
    _post(19, "2012-12-14T11:00:00.000-05:00", "Senate expense claims come under audit", CIT, "Glen McGregor",
          "http://www.ottawacitizen.com/news/senate-expense-audit/7712345/story.html", "refused"),
    _post(20, "2013-01-22T09:45:00.000-05:00", "Muzzled scientists file complaint with watchdog", G, "Sheldon Whitehouse",
          "http://www.guardian.co.uk/world/2013/jan/22/canada-muzzled-scientists-complaint", "alive"),
    _post(21, "2013-02-18T17:00:00.000-05:00", "Stephen Harper's not so permanent majority", STAR, "Chantal Hebert",
          "http://www.thestar.com/news/canada/2013/02/18/harpers_not_so_permanent_majority.html", "error503"),
    _post(22, "2013-03-27T10:30:00.000-04:00", "Canada pulls out of UN drought convention", CBC, "--",
          "http://www.cbc.ca/news/politics/story/2013/03/27/pol-un-drought-convention.html", "dead404"),
    _post(23, "2013-05-16T14:00:00.000-04:00", "Senate scandal reaches the prime minister's office", GLOBE, "Daniel Leblanc",
          "http://www.theglobeandmail.com/news/politics/senate-scandal-pmo/article11956321/", "moved"),
    _post(24, "2013-06-04T08:50:00.000-04:00", "Fast-food workers strike for a living wage", HUFF, "--",
          "http://www.huffingtonpost.ca/2013/06/04/fast-food-strike-living-wage_n_3385123.html", "alive"),
    _post(25, "2013-08-03T12:00:00.000-04:00", "Lac-Megantic rail disaster inquiry demanded", BBC, "--",
          "http://www.bbc.co.uk/news/world-us-canada-23557001", "gone410"),
    _post(26, "2013-10-16T19:30:00.000-04:00", "Elsipogtog shale gas protest turns violent", CBC, "Jennifer Choi",
          "http://www.cbc.ca/news/canada/new-brunswick/elsipogtog-protest-1.2122003", "dead404"),
    _post(27, "2014-02-04T09:20:00.000-05:00", "Fair Elections Act limits the chief electoral officer", STAR, "Les Whittington",
          "http://www.thestar.com/news/canada/2014/02/04/fair_elections_act.html", "alive"),
    _post(28, "2014-03-10T15:05:00.000-04:00", "Veterans affairs offices close across Canada", G, "--",
          "http://www.theguardian.com/world/2014/mar/10/canada-veterans-offices-close", "alive"),
    _post(29, "2014-06-17T16:00:00.000-04:00", "Northern Gateway pipeline approved with conditions", GLOBE, "Shawn McCarthy",
          "http://www.theglobeandmail.com/report-on-business/northern-gateway-approved/article19193901/", "dead404"),
    _post(30, "2014-10-23T07:40:00.000-04:00", "Parliament Hill shooting leaves soldier dead", BBC, "--",
          "http://www.bbc.com/news/world-us-canada-29723007", "alive"),
]


# --- the export --------------------------------------------------------------------------------------

def post_html(post: SamplePost) -> str:
    lead = "".join(f"<p>{html.escape(p)}</p>" for p in post.paragraphs())
    if post.href is None and post.fate == "nullified":
        anchor = "<a>Original Article</a>"
    else:
        href = post.url if post.href is None else post.href
        anchor = f'<a href="{html.escape(href)}">Original Article</a>'
    author = post.author
    return f"{lead}{anchor}<br />\nSource: {html.escape(post.outlet)}<br />\nAuthor: {html.escape(author)}"


def _entry(id_: str, kind: str, published: str, title: str, content: str, extra: str = "") -> str:
    return (f"<entry><id>{id_}</id><published>{published}</published><updated>{published}</updated>"
            f"<category scheme='http://schemas.google.com/g/2005#kind' term='http://schemas.google.com/blogger/2008/kind#{kind}'/>"
            f"{extra}<title type='text'>{html.escape(title, quote=False)}</title>"
            f"<content type='html'>{html.escape(content, quote=False)}</content>"
            f"<author><name>Democracy Gone Astray</name><email>noreply@blogger.com</email></author></entry>\n")


def sample_export_text(posts: list[SamplePost] = SAMPLE_POSTS) -> str:
    """A legacy Blogger "Back up content" export of the sample blog, with the entries Blogger writes
    besides posts (template, settings, a comment, a draft), so the demo reads what a real export holds."""
    tag = f"tag:blogger.com,1999:blog-{BLOG_ID}"
    out = ["<?xml version='1.0' encoding='UTF-8'?>"
           "<?xml-stylesheet href=\"http://www.blogger.com/styles/atom.css\" type=\"text/css\"?>"
           "<feed xmlns='http://www.w3.org/2005/Atom' xmlns:openSearch='http://a9.com/-/spec/opensearchrss/1.0/' "
           "xmlns:gd='http://schemas.google.com/g/2005' xmlns:thr='http://purl.org/syndication/thread/1.0' "
           "xmlns:georss='http://www.georss.org/georss'>"
           f"<id>{tag}.archive</id><updated>2014-10-23T07:40:00.000-04:00</updated>"
           "<title type='text'>Democracy Gone Astray</title>"
           f"<link rel='alternate' type='text/html' href='http://{BLOG_HOST}/'/>"
           "<author><name>Democracy Gone Astray</name></author>"
           "<generator version='7.00' uri='http://www.blogger.com'>Blogger</generator>\n"]
    out.append(_entry(f"{tag}.layout", "template", "2011-09-01T00:00:00.000-04:00", "Template: Democracy Gone Astray",
                      "<html><a expr:href='data:blog.homepageUrl'>Home</a><a href='javascript:void(0)'>x</a></html>"))
    out.append(_entry(f"{tag}.settings.BLOG_NAME", "settings", "2011-09-01T00:00:00.000-04:00", "Blog name",
                      "Democracy Gone Astray"))
    for post in posts:
        extra = "".join(f"<category scheme='http://www.blogger.com/atom/ns#' term='{label}'/>" for label in post.labels)
        extra += f"<link rel='alternate' type='text/html' href='{post.post_url}' title='{html.escape(post.title)}'/>"
        out.append(_entry(f"{tag}.post-{1000 + post.number}", "post", post.published, post.title, post_html(post), extra))
    out.append(_entry(f"{tag}.post-9999", "post", "2014-11-01T00:00:00.000-04:00", "Draft: unfinished",
                      '<a href="http://www.cbc.ca/draft-link">Original Article</a>',
                      "<app:control xmlns:app='http://purl.org/atom/app#'><app:draft>yes</app:draft></app:control>"))
    out.append(_entry(f"{tag}.post-1001.comment-1", "comment", "2011-09-25T10:00:00.000-04:00", "Thanks",
                      '<a href="http://spam.example.com/">great post</a>',
                      f"<thr:in-reply-to href='{SAMPLE_POSTS[0].post_url}' ref='{tag}.post-1001' type='text/html'/>"))
    out.append("</feed>\n")
    return "".join(out)


def sample_export_path() -> Path:
    return Path(str(resources.files("linkkeeper") / "data" / SAMPLE_EXPORT))


def write_sample_export(path: Path) -> None:
    path.write_text(sample_export_text(), encoding="utf-8")


# --- the simulated world -----------------------------------------------------------------------------

# Other stories the outlets ran around the nullified posts' days, captured beside the lost articles: their
# paths have the same shape and date, and their slugs or headlines share words with the posts' titles, so the
# recovery has to read the captures to tell them from the article the post reproduces.
NEIGHBOURS: dict[int, list[tuple[str, str]]] = {
    13: [("http://www.cbc.ca/news/politics/story/2012/09/14/pol-budget-bill-committee-hearings.html",
          "Budget bill committee hearings cut short"),
         ("http://www.cbc.ca/news/politics/story/2012/09/13/pol-senate-expense-rules.html",
          "Senate tightens its expense rules")],
    14: [("http://www.guardian.co.uk/world/2012/oct/01/china-canada-trade-talks-resume",
          "China and Canada resume trade talks"),
         ("http://www.guardian.co.uk/world/2012/sep/30/treaty-protest-vancouver",
          "Treaty protest in Vancouver draws hundreds")],
    15: [("http://www.thestar.com/news/canada/article/1251802--commissioner-report-faults-lobbying-rules",
          "Commissioner report faults lobbying rules")],
    16: [("http://www.huffingtonpost.ca/2012/11/05/first-nations-chiefs-meet-ottawa_n_2324901.html",
          "First Nations chiefs meet in Ottawa"),
         ("http://www.huffingtonpost.ca/2012/11/04/rallies-planned-over-omnibus-bill_n_2320177.html",
          "Rallies planned across the country over the omnibus bill")],
    17: [("http://www.theglobeandmail.com/news/politics/waters-act-changes-draw-fire/article7598112/",
          "Waters act changes draw fire from the opposition")],
    18: [("http://www.bbc.co.uk/news/world-us-canada-20641873", "Canada's chiefs march on parliament"),
         ("http://www.bbc.co.uk/news/world-europe-20645511", "Hunger strike ends in a Greek prison")],
}


def other_story(title: str, seed: int) -> list[str]:
    """Two paragraphs of another story: its own words, so no run of four shares a post's text."""
    rng = random.Random(seed)
    who = ["A spokeswoman", "The deputy chair", "A former aide", "Two provincial leaders", "The clerk", "Organizers"]
    did = ["told reporters", "wrote in a memo", "said in an interview", "announced late on", "hinted during"]
    what = ["a broader review of committee schedules", "new limits on travel claims", "talks resuming next month",
            "marches planned in six cities", "a complaint filed with the tribunal", "an appeal against the ruling"]
    first = (f"{title}. {rng.choice(who)} {rng.choice(did)} Tuesday that {rng.choice(what)} "
             f"would follow, though no date was set.")
    second = (f"{rng.choice(who)} {rng.choice(did)} Wednesday that {rng.choice(what)} remained likely; "
              f"observers in the capital were less sure, pointing to {rng.choice(what)} instead.")
    return [first, second]


def _add_lost_article(web, archive, post: SamplePost) -> None:
    """A nullified post's article on the simulated web and in the archive, as `article`, `also_at`,
    `archived` and `live` say, beside its neighbours."""
    from linkkeeper.sim.archive import Capture
    from linkkeeper.sim.web import Page, article_html

    written = datetime.fromisoformat(post.published) - timedelta(hours=5)  # the article came first
    byline = [f"By {post.author}"] if post.author != "--" else []
    page = article_html(post.title, byline + post.paragraphs() + ["More of the article follows here."])
    for url in [u for u in (post.article, post.also_at) if u and post.archived]:
        archive.add(Capture(url, format_timestamp(written + timedelta(hours=3)), body=page))
        archive.add(Capture(url, format_timestamp(written + timedelta(days=40)), revisit=True, body=page))
        archive.add(Capture(url, format_timestamp(written + timedelta(days=700)), status=404, body="Not found"))
    for i, (url, title) in enumerate(NEIGHBOURS.get(post.number, [])):
        story = article_html(title, other_story(title, post.number * 31 + i))
        archive.add(Capture(url, format_timestamp(written + timedelta(hours=2 + 3 * i)), body=story))
    if post.live == "alive":
        web.add(post.article, Page(body=page))
    elif post.live == "moved":
        new_url = post.article.replace("www.guardian.co.uk", "www.theguardian.com")
        web.add(post.article, Page(status=301, location=new_url))
        web.add(new_url, Page(body=page))


def build_world(posts: list[SamplePost] = SAMPLE_POSTS):
    """(SimulatedWeb, SimulatedArchive, dead_hosts) holding every sample article's fate and captures."""
    from linkkeeper.sim.web import Page, SimulatedWeb, article_html
    from linkkeeper.sim.archive import Capture, SimulatedArchive

    web, archive = SimulatedWeb(), SimulatedArchive()
    refused_hosts: set[str] = set()
    for post in posts:
        if post.fate == "nullified":
            _add_lost_article(web, archive, post)
            continue
        page = article_html(post.title, post.paragraphs() + ["More of the article follows here."])
        when = datetime.fromisoformat(post.published)
        fate = post.fate
        if fate == "alive":
            web.add(post.url, Page(body=page))
        elif fate == "head405":
            web.add(post.url, Page(body=page, head_status=405))
        elif fate == "moved":
            new_url = post.url.replace("/news/", "/news/archive/", 1).replace("article", "story", 1)
            web.add(post.url, Page(status=301, location=new_url))
            web.add(new_url, Page(body=page))
        elif fate in ("dead404", "nocapture", "badcaptures"):
            web.add(post.url, Page(status=404, body="<html><title>Page not found</title></html>"))
        elif fate == "gone410":
            web.add(post.url, Page(status=410, body="gone"))
        elif fate == "blocked":
            web.add(post.url, Page(status=403, body="<html><title>Access denied</title></html>"))
        elif fate == "error503":
            web.add(post.url, Page(status=503, body="Service unavailable"))
        elif fate == "refused":
            refused_hosts.add(post.url.split("/")[2])
        # Captures: a good 200 a day after publication for the dead ones, and decoys that must not win.
        if fate in ("dead404", "gone410", "refused", "moved", "alive", "blocked"):
            archive.add(Capture(post.url, format_timestamp(when + timedelta(days=1)), body=page))
            archive.add(Capture(post.url, format_timestamp(when + timedelta(days=400)), status=404, body="Not found"))
            archive.add(Capture(post.url, format_timestamp(when + timedelta(days=1, hours=6)), revisit=True, body=page))
        if fate == "badcaptures":
            # Closest captures are a redirect and a 404; the good one is older.
            archive.add(Capture(post.url, format_timestamp(when + timedelta(hours=2)), status=301,
                                redirect_to=f"http://{post.url.split('/')[2]}/"))
            archive.add(Capture(post.url, format_timestamp(when + timedelta(hours=5)), status=404, body="Not found"))
            archive.add(Capture(post.url, format_timestamp(when - timedelta(days=3)),
                                body=article_html(post.title, ["An earlier version of the page with other text."])))
    return web, archive, refused_hosts


def is_demo_database(path: Path) -> bool:
    """Whether `path` holds nothing but what the demo makes (no tables, or only the sample blog ingested), so
    that the demo may start it afresh. Read only: a stranger's database is neither changed nor deleted."""
    import sqlite3

    import sqlite_utils

    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error:
        return False
    try:
        db = sqlite_utils.Database(conn)
        tables = db.table_names()
        if "sources" not in tables:
            return not tables
        return all(Path(row["path"]).name == SAMPLE_EXPORT for row in db["sources"].rows)
    except sqlite3.DatabaseError:
        return False
    finally:
        conn.close()


def _demo_settings(db_path: Path, out_dir: Path, web_base: str, archive_base: str, refused_hosts: set[str],
                   auto_approve_confidence: float | None):
    from linkkeeper.settings import ConnectTo, Settings
    from linkkeeper.sim.archive import settings_for
    from linkkeeper.sim.servers import closed_port

    web_port = int(web_base.rsplit(":", 1)[1].strip("/"))
    dead_port = closed_port()
    # Dead domains first (connection refused), then every other host to the simulated web.
    rules = tuple(ConnectTo(h, "*", "127.0.0.1", dead_port) for h in sorted(refused_hosts)) + \
        (ConnectTo("*", "*", "127.0.0.1", web_port),)
    # A one-off run: failures are confirmed by re-probing at once rather than over three days.
    settings = Settings(db=str(db_path), reports_dir=str(out_dir), connect_to=rules, retries=1,
                        retry_wait_max=0.5, total_timeout=5, cdx_rate=50, replay_rate=50,
                        availability_rate=50, confirm_spacing=0.0).replace(**settings_for(archive_base))
    if auto_approve_confidence is not None:
        settings = settings.replace(auto_approve_confidence=auto_approve_confidence)
    return settings


def run_demo(out_dir: Path, db_path: Path | None = None, echo: Callable[[str], None] | None = print, *,
             auto_approve_confidence: float | None = None, recover: bool = True,
             review: Callable[[str, str, dict], None] | None = None) -> dict:
    """Ingest the sample export, serve the simulated world on loopback, check, repair dead links, recover the
    nullified ones (what `linkkeeper repair` does), report, export; a line per stage, then the next command.
    `auto_approve_confidence` above 1 leaves every proposal for the curator; `recover=False` skips the
    nullified links (tests of the review desk are written on the dead links alone). `review(url, next_command,
    summary)`, when given, is called with the review page served on the demo's database, web and archive, and
    keeps them running until it returns (or raises: Ctrl-C)."""
    from linkkeeper.sim.servers import BackgroundServer

    say = echo or (lambda _line: None)
    out_dir.mkdir(parents=True, exist_ok=True)
    db_path = db_path or out_dir / "demo.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)

    web, archive, refused_hosts = build_world()
    servers = [BackgroundServer(web.app()), BackgroundServer(archive.app())]
    try:
        web_base, archive_base = (server.start() for server in servers)
        settings = _demo_settings(db_path, out_dir, web_base, archive_base, refused_hosts, auto_approve_confidence)
        summary = _stages(settings, db_path, out_dir, say, recover)
        if review is None:
            again = "linkkeeper demo" + (f" --out {out_dir}" if out_dir != Path("reports") else "")
            summary["next"] = f"{again} --leave-for-review"
            say(f"next: open {summary['reports']['html']} in a browser, then try `{summary['next']}` to decide the "
                f"repairs yourself")
            return summary
        from linkkeeper.desk.review import create_app

        servers.append(BackgroundServer(create_app(db_path, settings)))
        summary["next"] = f"linkkeeper --db {db_path} export -o {out_dir / 'patched-export.xml'}"
        review(servers[-1].start() + "/", summary["next"], summary)
        return summary
    finally:
        for server in servers:
            server.stop()


def _stages(settings, db_path: Path, out_dir: Path, say: Callable[[str], None], recover: bool) -> dict:
    from linkkeeper import store
    from linkkeeper.check.runner import check_urls
    from linkkeeper.desk.report import write_reports
    from linkkeeper.net.session import run as run_stage
    from linkkeeper.repair.proposals import propose_repairs
    from linkkeeper.repair.recover import recover_nullified
    from linkkeeper.sources.export import export_patched
    from linkkeeper.sources.ingest import ingest

    db = store.open_db(db_path)
    source = sample_export_path()
    ingested = ingest(db, source)
    say(f"ingested {ingested.posts} posts from {source.name}: {ingested.original_links} Original Article "
        f"links, {ingested.nullified} nullified")
    checked = run_stage(check_urls(db, list(store.links_to_check(db)), settings, confirm_now=True))
    say(f"checked {checked.checked} links: " + ", ".join(f"{k} {v}" for k, v in sorted(checked.verdicts.items())))
    repaired = run_stage(propose_repairs(db, settings))
    say(f"repairs: {repaired.approved} approved automatically, {repaired.proposed - repaired.approved} for "
        f"review, {repaired.unavailable} with no usable capture ({sum(repaired.archive_requests.values())} "
        f"archive requests)")
    found = run_stage(recover_nullified(db, settings, limit=None if recover else 0))
    outcomes = sorted(found.outcomes, key=lambda o: o.post_id)
    if recover:
        say(f"nullified links: {found.in_range} in the window, {found.recovered} recovered ({found.approved} "
            f"approved automatically, {found.proposed} for review), {found.unavailable + found.errors} not found "
            f"({sum(found.archive_requests.values())} archive requests)")
        for o in outcomes:
            state = {"approved": "approved automatically", "proposed": "for review"}.get(o.state, "not found")
            say(f"  {o.title}: {o.url or 'no capture holds the article'} ({state})")
    reports = write_reports(db, out_dir)
    patched = out_dir / "patched-export.xml"
    exported = export_patched(db, patched)
    say(f"patched export: {patched} ({exported.changed} hrefs replaced; nothing else changed)")
    say(f"reports: {reports['html']} (and {', '.join(str(reports[k]) for k in reports if k != 'html')})")
    say(f"database: {db_path} (open it with Datasette, or `linkkeeper --db {db_path} status`)")
    return {"posts": ingested.posts, "nullified": ingested.nullified, "checked": checked.checked,
            "verdicts": checked.verdicts, "repairs_approved": repaired.approved,
            "repairs_for_review": repaired.proposed - repaired.approved,
            "repairs_unavailable": repaired.unavailable,
            "nullified_recovered": found.recovered, "nullified_approved": found.approved,
            "nullified_for_review": found.proposed, "nullified_not_found": found.unavailable + found.errors,
            "recovered": [{"title": o.title, "url": o.url, "replacement": o.replacement, "state": o.state}
                          for o in outcomes],
            "hrefs_replaced": exported.changed,
            "reports": {k: str(v) for k, v in reports.items()}, "patched_export": str(patched),
            "database": str(db_path)}
