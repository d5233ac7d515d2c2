"""The outlets of the evaluation world: their 2008-2014 URL shapes, how the blog spells them, and what their
hosts do with those URLs today.

Owned here: data about news sites and the URL builders. The shapes are the ones these sites really used in
that era (the Globe's undated `/news/politics/slug/article4612345/`, the Star's `/article/1265432--slug` that
became `/2012/12/05/under_score_slug.html` in December 2012, CBC's `/story/2012/10/03/pol-slug.html`,
Postmedia's query-string `story.html?id=7303160` with one id sequence shared by all its papers, HuffPost's
`_n_1934567.html`, the Guardian's `/2012/oct/03/` on guardian.co.uk, the BBC's slugless ids, ...). Ids
increase with time along each site's own clock. "Today" is a table of fates per URL shape, drawn from what
happened to these sites (CMS migrations that redirected old URLs to new ones or to the home page, rebrands,
closures, parked domains, wire stories that expire, bot walls); the proportions are this world's, chosen so
that 35-55% of 2008-2014 links are dead or drifted (Pew 2024: 38% of 2013 pages gone).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Callable

MONTHS = "jan feb mar apr may jun jul aug sep oct nov dec".split()


@dataclass(frozen=True)
class Meta:
    """What a URL builder may use: the article's local publication time and its identifiers."""

    when: datetime  # local (Eastern) time of publication
    slug: str  # hyphenated words from the (working) headline
    ident: int  # the site's numeric id, from its clock
    section: str
    author_slug: str
    code: str  # a site-specific random token (Reuters' id, the Post's uuid, Google's ALeqM5 key)


def _ymd(m: Meta) -> str:
    return f"{m.when:%Y/%m/%d}"


def _title_slug(slug: str) -> str:
    return "-".join(w.capitalize() for w in slug.split("-"))


SHAPES: dict[str, Callable[[Meta], str]] = {
    # The Globe and Mail: servlet URLs until spring 2010, then undated section/slug/article-id.
    "globe_servlet": lambda m: (f"http://www.theglobeandmail.com/servlet/story/RTGAM.{m.when:%Y%m%d}."
                                f"w{''.join(m.slug.split('-')[:2])}{m.when:%m%d}/BNStory/{m.section}/"),
    "globe_article": lambda m: f"http://www.theglobeandmail.com/{m.section}/{m.slug}/article{m.ident}/",
    # Toronto Star: id--slug until the end of November 2012, then dated with underscores.
    "star_article": lambda m: f"http://www.thestar.com/{m.section}/article/{m.ident}--{m.slug}",
    "star_dated": lambda m: f"http://www.thestar.com/{m.section}/{_ymd(m)}/{m.slug.replace('-', '_')}.html",
    # CBC: dated story URLs with a regional prefix until mid-2013, then slug-1.id.
    "cbc_story": lambda m: (f"http://www.cbc.ca/news/{m.section.split(':')[0]}/story/{_ymd(m)}/"
                            f"{m.section.split(':')[1] + '-' if ':' in m.section and m.section.split(':')[1] else ''}{m.slug}.html"),
    "cbc_new": lambda m: f"http://www.cbc.ca/news/{m.section}/{m.slug}-1.{m.ident}",
    # Postmedia papers: one id sequence, query-string article pages; author blogs on blogs.<paper>.
    "citizen_query": lambda m: f"http://www.ottawacitizen.com/{m.section}/story.html?id={m.ident}",
    "vansun_query": lambda m: f"http://www.vancouversun.com/{m.section}/story.html?id={m.ident}",
    "gazette_query": lambda m: f"http://www.montrealgazette.com/{m.section}/story.html?id={m.ident}",
    "canadacom_query": lambda m: f"http://www.canada.com/{m.section}/story.html?id={m.ident}",
    "citizen_blog": lambda m: f"http://blogs.ottawacitizen.com/{_ymd(m)}/{m.slug}/",
    "vansun_blog": lambda m: f"http://blogs.vancouversun.com/{_ymd(m)}/{m.slug}/",
    # National Post: Postmedia ids before 2011, then WordPress-style dated news and FullComment columns.
    "np_query": lambda m: f"http://www.nationalpost.com/{m.section}/story.html?id={m.ident}",
    "np_dated": lambda m: f"http://news.nationalpost.com/{_ymd(m)}/{m.slug}/",
    "np_column": lambda m: f"http://fullcomment.nationalpost.com/{_ymd(m)}/{m.author_slug}-{m.slug}/",
    # Maclean's: www2 dated until 2012, then undated sections; author pages.
    "macleans_dated": lambda m: f"http://www2.macleans.ca/{_ymd(m)}/{m.slug}/",
    "macleans_author": lambda m: f"http://www2.macleans.ca/authors/{m.author_slug}/{m.slug}/",
    "macleans_new": lambda m: f"http://www.macleans.ca/news/{m.section}/{m.slug}/",
    # HuffPost Canada (from May 2011): dated news with a global id; blog posts under the author.
    "huff_news": lambda m: f"http://www.huffingtonpost.ca/{_ymd(m)}/{m.slug[:60].rstrip('-')}_n_{m.ident}.html",
    "huff_blog": lambda m: f"http://www.huffingtonpost.ca/{m.author_slug}/{m.slug[:60].rstrip('-')}_b_{m.ident}.html",
    # The Guardian: guardian.co.uk until July 2013, theguardian.com after; month as a word.
    "guardian_uk": lambda m: (f"http://www.guardian.co.uk/{m.section}/{m.when:%Y}/{MONTHS[m.when.month - 1]}/"
                              f"{m.when:%d}/{m.slug}"),
    "guardian_com": lambda m: (f"http://www.theguardian.com/{m.section}/{m.when:%Y}/{MONTHS[m.when.month - 1]}/"
                               f"{m.when:%d}/{m.slug}"),
    # BBC: .stm ids on news.bbc.co.uk until mid-2010, then section-id with no slug and no date.
    "bbc_stm": lambda m: f"http://news.bbc.co.uk/2/hi/{m.section}/{m.ident}.stm",
    "bbc_news": lambda m: f"http://www.bbc.co.uk/news/{m.section}-{m.ident}",
    # The Tyee: dated, Title-Case slug.
    "tyee": lambda m: f"http://thetyee.ca/{m.section}/{_ymd(m)}/{_title_slug(m.slug)}/",
    # rabble.ca: news by year/month; blogs under the blogger's name.
    "rabble_news": lambda m: f"http://rabble.ca/news/{m.when:%Y/%m}/{m.slug}",
    "rabble_blog": lambda m: f"http://rabble.ca/blogs/bloggers/{m.author_slug}/{m.when:%Y/%m}/{m.slug}",
    # Sun News Network (2011-2015): date-time file names, no slug.
    "sunnews": lambda m: (f"http://www.sunnewsnetwork.ca/sunnews/{m.section}/archives/{m.when:%Y/%m}/"
                          f"{m.when:%Y%m%d-%H%M%S}.html"),
    # Embassy and the Hill Times: dated slug plus a short id.
    "embassy": lambda m: f"http://www.embassynews.ca/news/{_ymd(m)}/{m.slug}/{m.ident}",
    "hilltimes": lambda m: f"http://www.hilltimes.com/news/{m.section}/{_ymd(m)}/{m.slug}/{m.ident}",
    # OpenFile (2010-2012), closed; its domain no longer resolves (a .invalid name here, RFC 6761).
    "openfile": lambda m: f"http://openfile.invalid/{m.section}/story/{m.slug}",
    # The Mark (2009-2014), domain parked since.
    "themark": lambda m: f"http://www.themarknews.com/articles/{m.ident}-{m.slug}/",
    # Al Jazeera English: digit file names under region/year/month, the publication time unpadded (year,
    # month, day, hour, then minute and second) and more digits: `/2012/12/201212191395430251.html` is
    # 2012-12-19 1:39:54 (real URLs of 2012 read so; this world padded the hour and dropped the seconds
    # before 2026-12-03).
    "aljazeera": lambda m: (f"http://www.aljazeera.com/news/{m.section}/{m.when:%Y/%m}/"
                            f"{m.when:%Y}{m.when.month}{m.when.day}{m.when.hour}{m.when:%M%S}{m.code}.html"),
    "reuters": lambda m: (f"http://www.reuters.com/article/{_ymd(m)}/us-{'-'.join(m.slug.split('-')[:6])}"
                          f"-idUSBRE{m.code}{m.when:%Y%m%d}"),
    "nyt": lambda m: f"http://www.nytimes.com/{_ymd(m)}/{m.section}/{'-'.join(m.slug.split('-')[:8])}.html",
    "wapo": lambda m: (f"http://www.washingtonpost.com/{m.section}/{'-'.join(m.slug.split('-')[:9])}/{_ymd(m)}/"
                       f"{m.code}_story.html"),
    # CTV: ctv.ca/CTVNews until March 2012, then ctvnews.ca slug-1.id.
    "ctv_old": lambda m: f"http://www.ctv.ca/CTVNews/{m.section}/{m.when:%Y%m%d}/{m.slug}-{m.when:%y%m%d}/",
    "ctvnews": lambda m: f"http://www.ctvnews.ca/{m.section}/{m.slug}-1.{m.ident}",
    # Canadian Press stories as Google hosted them (2008-2013): an opaque key, nothing else.
    "google_cp": lambda m: f"http://www.google.com/hostednews/canadianpress/article/ALeqM5{m.code}",
    "ipolitics": lambda m: f"http://www.ipolitics.ca/{_ymd(m)}/{m.slug}/",
    "ipolitics_column": lambda m: f"http://www.ipolitics.ca/columns/{m.author_slug}/{m.slug}/",
}


@dataclass(frozen=True)
class Era:
    start: date
    end: date  # inclusive
    shape: str
    sections: tuple[str, ...]
    clock: str | None = None  # id clock name


@dataclass(frozen=True)
class Outlet:
    key: str
    display: str  # the name on its pages
    spellings: tuple[tuple[str, float], ...]  # how the blog writes it after "Source:"
    eras: tuple[Era, ...]
    weight: float  # share of the blog's Original Article links
    size: int  # articles a day the site publishes in this world (decoys in the archive)
    capture_rate: float  # chance an article of it was ever captured with its content
    excluded: bool = False  # the Wayback Machine excludes the whole site
    dup_kinds: tuple[str, ...] = ()  # ways it published one article under two URLs
    alt_shapes: dict[str, str] = field(default_factory=dict)  # dup kind -> shape of the second URL

    def era_at(self, day: date) -> Era | None:
        for era in self.eras:
            if era.start <= day <= era.end:
                return era
        return None

    @property
    def hosts(self) -> set[str]:
        return {host_of(SHAPES[e.shape](_SAMPLE)) for e in self.eras} | {
            host_of(SHAPES[s](_SAMPLE)) for s in self.alt_shapes.values()}


_SAMPLE = Meta(datetime(2012, 10, 3, 9, 5), "sample-story", 1, "news:pol", "author", "CODE")


def host_of(url: str) -> str:
    return url.split("/")[2].lower()


D = date


def _era(start: str, end: str, shape: str, sections: str, clock: str | None = None) -> Era:
    return Era(date.fromisoformat(start), date.fromisoformat(end), shape, tuple(sections.split()), clock)


OUTLETS: tuple[Outlet, ...] = (
    Outlet("globe", "The Globe and Mail",
           (("The Globe and Mail", .5), ("globeandmail", .2), ("Globe and Mail", .2), ("theglobeandmail.com", .1)),
           (_era("2008-01-01", "2010-03-31", "globe_servlet", "National Politics International Business"),
            _era("2010-04-01", "2024-12-31", "globe_article",
                 "news/politics news/national news/world report-on-business/economy commentary "
                 "news/politics/ottawa-notebook", "globe")),
           12, 30, .85, dup_kinds=("two_sections",)),
    Outlet("star", "Toronto Star", (("Toronto Star", .5), ("thestar", .3), ("The Star", .1), ("thestar.com", .1)),
           (_era("2008-01-01", "2012-11-30", "star_article",
                 "news/canada news/world news/gta news/ontario business opinion/editorialopinion news/columnists",
                 "star"),
            _era("2012-12-01", "2024-12-31", "star_dated", "news/canada news/world news/gta opinion/commentary")),
           12, 25, .8, dup_kinds=("two_sections",)),
    Outlet("cbc", "CBC News", (("CBC", .5), ("cbc", .2), ("CBC News", .3)),
           (_era("2008-01-01", "2013-06-30", "cbc_story",
                 "politics:pol canada: canada/ottawa:ottawa canada/british-columbia:bc world: business: "
                 "technology:tech canada/north:north"),
            _era("2013-07-01", "2024-12-31", "cbc_new", "politics canada world business", "cbc")),
           12, 30, .9, dup_kinds=("two_sections",)),
    Outlet("citizen", "Ottawa Citizen", (("Ottawa Citizen", .6), ("ottawacitizen", .3), ("The Ottawa Citizen", .1)),
           (_era("2008-01-01", "2014-12-31", "citizen_query", "news news/national business opinion", "postmedia"),),
           5, 12, .75, dup_kinds=("news_blog",), alt_shapes={"news_blog": "citizen_blog"}),
    Outlet("vansun", "Vancouver Sun", (("Vancouver Sun", .6), ("vancouversun", .4)),
           (_era("2008-01-01", "2014-12-31", "vansun_query", "news business opinion", "postmedia"),),
           3, 10, .7, dup_kinds=("news_blog",), alt_shapes={"news_blog": "vansun_blog"}),
    Outlet("gazette", "Montreal Gazette", (("Montreal Gazette", .6), ("The Gazette", .2), ("montrealgazette", .2)),
           (_era("2008-01-01", "2014-12-31", "gazette_query", "news business opinion", "postmedia"),),
           2, 10, .7),
    Outlet("canadacom", "canada.com", (("Postmedia News", .7), ("canada.com", .3)),
           (_era("2008-01-01", "2014-12-31", "canadacom_query", "news health business", "postmedia"),),
           2, 8, .6),
    Outlet("np", "National Post", (("National Post", .6), ("nationalpost", .3), ("NatPost", .1)),
           (_era("2008-01-01", "2010-12-31", "np_query", "news opinion", "postmedia"),
            _era("2011-01-01", "2014-12-31", "np_dated", "news")),
           5, 15, .85, excluded=True, dup_kinds=("news_column",), alt_shapes={"news_column": "np_column"}),
    Outlet("macleans", "Maclean's", (("Maclean's", .6), ("macleans", .3), ("Macleans.ca", .1)),
           (_era("2008-01-01", "2012-12-31", "macleans_dated", "news"),
            _era("2013-01-01", "2024-12-31", "macleans_new", "canada politics economy")),
           4, 6, .8, dup_kinds=("news_column",), alt_shapes={"news_column": "macleans_author"}),
    Outlet("huff", "HuffPost Canada", (("Huffington Post", .4), ("huffingtonpost", .3), ("HuffPost Canada", .3)),
           (_era("2011-05-26", "2020-12-31", "huff_news", "news", "huff"),),
           6, 20, .85, dup_kinds=("news_blog",), alt_shapes={"news_blog": "huff_blog"}),
    Outlet("guardian", "The Guardian", (("The Guardian", .4), ("guardian.co.uk", .3), ("theguardian", .3)),
           (_era("2008-01-01", "2013-07-28", "guardian_uk", "world politics environment business commentisfree"),
            _era("2013-07-29", "2024-12-31", "guardian_com", "world politics environment business commentisfree")),
           7, 30, .95, dup_kinds=("two_sections",)),
    Outlet("bbc", "BBC News", (("BBC", .6), ("BBC News", .4)),
           (_era("2008-01-01", "2010-06-30", "bbc_stm", "americas europe business science/nature", "bbc_stm"),
            _era("2010-07-01", "2024-12-31", "bbc_news",
                 "world-us-canada world-europe business science-environment world-middle-east", "bbc")),
           3, 25, .95),
    Outlet("tyee", "The Tyee", (("The Tyee", .7), ("thetyee", .3)),
           (_era("2008-01-01", "2024-12-31", "tyee", "News Opinion Mediacheck"),),
           4, 3, .8),
    Outlet("rabble", "rabble.ca", (("rabble.ca", .7), ("Rabble", .3)),
           (_era("2008-01-01", "2020-12-31", "rabble_news", "news"),),
           3, 4, .65, dup_kinds=("news_blog",), alt_shapes={"news_blog": "rabble_blog"}),
    Outlet("sunnews", "Sun News", (("Sun News", .6), ("Sun News Network", .4)),
           (_era("2011-04-18", "2015-02-13", "sunnews", "politics canada world"),),
           1.5, 6, .6),
    Outlet("embassy", "Embassy", (("Embassy", .6), ("Embassy Magazine", .4)),
           (_era("2008-01-01", "2016-06-30", "embassy", "news", "embassy"),),
           1, 2, .6),
    Outlet("hilltimes", "The Hill Times", (("The Hill Times", .6), ("hilltimes", .4)),
           (_era("2008-01-01", "2016-06-30", "hilltimes", "news politics legislation", "hilltimes"),),
           2, 3, .6),
    Outlet("openfile", "OpenFile", (("OpenFile", 1.0),),
           (_era("2010-05-01", "2012-09-30", "openfile", "toronto ottawa vancouver halifax"),),
           1, 2, .5),
    Outlet("themark", "The Mark", (("The Mark", .7), ("themarknews", .3)),
           (_era("2009-01-01", "2014-06-30", "themark", "news", "themark"),),
           .8, 2, .6),
    Outlet("aljazeera", "Al Jazeera", (("Al Jazeera", .6), ("aljazeera", .2), ("Al Jazeera English", .2)),
           (_era("2008-01-01", "2024-12-31", "aljazeera", "americas europe middleeast asia"),),
           2, 15, .85),
    Outlet("reuters", "Reuters", (("Reuters", 1.0),),
           (_era("2008-01-01", "2024-12-31", "reuters", "news"),),
           2, 30, .8),
    Outlet("nyt", "The New York Times", (("New York Times", .5), ("The New York Times", .3), ("nytimes", .2)),
           (_era("2008-01-01", "2024-12-31", "nyt", "world/americas business/global opinion science/earth"),),
           2, 30, .9),
    Outlet("wapo", "The Washington Post", (("Washington Post", .7), ("washingtonpost", .3)),
           (_era("2008-01-01", "2024-12-31", "wapo", "world business politics opinions"),),
           1, 25, .85),
    Outlet("ctv", "CTV News", (("CTV News", .6), ("ctv", .2), ("CTV", .2)),
           (_era("2008-01-01", "2012-02-29", "ctv_old", "Politics Canada World TopStories"),
            _era("2012-03-01", "2024-12-31", "ctvnews", "politics canada world business", "ctv")),
           3, 15, .75),
    Outlet("cp", "The Canadian Press", (("Canadian Press", .7), ("The Canadian Press", .3)),
           (_era("2008-01-01", "2013-05-31", "google_cp", "news"),),
           1.5, 20, .5),
    Outlet("ipolitics", "iPolitics", (("iPolitics", .8), ("ipolitics.ca", .2)),
           (_era("2010-06-01", "2024-12-31", "ipolitics", "news"),),
           2, 5, .75, dup_kinds=("news_column",), alt_shapes={"news_column": "ipolitics_column"}),
)

BY_KEY = {o.key: o for o in OUTLETS}

# Id clocks: (date, id) anchors, linear between them. The Globe's ids jumped when its new CMS arrived in
# August 2012 (article4xxxxxx); Postmedia's papers drew from one sequence.
CLOCKS: dict[str, list[tuple[date, int]]] = {
    "globe": [(D(2010, 4, 1), 1_540_000), (D(2012, 7, 31), 2_380_000), (D(2012, 8, 1), 4_190_000),
              (D(2012, 12, 31), 6_950_000), (D(2014, 12, 31), 22_100_000), (D(2024, 12, 31), 90_000_000)],
    "star": [(D(2008, 1, 1), 290_000), (D(2012, 11, 30), 1_298_000)],
    "cbc": [(D(2013, 7, 1), 1_300_000), (D(2014, 12, 31), 2_890_000), (D(2024, 12, 31), 7_400_000)],
    "postmedia": [(D(2008, 1, 1), 230_000), (D(2010, 1, 1), 2_410_000), (D(2012, 10, 1), 7_300_000),
                  (D(2014, 12, 31), 10_700_000)],
    "huff": [(D(2011, 5, 26), 860_000), (D(2012, 10, 1), 1_934_000), (D(2013, 12, 31), 4_520_000),
             (D(2020, 12, 31), 9_900_000)],
    "bbc_stm": [(D(2008, 1, 1), 7_170_000), (D(2010, 6, 30), 8_780_000)],
    "bbc": [(D(2010, 7, 1), 10_500_000), (D(2012, 10, 1), 19_800_000), (D(2014, 12, 31), 30_600_000),
            (D(2024, 12, 31), 68_000_000)],
    "embassy": [(D(2008, 1, 1), 20_100), (D(2016, 6, 30), 49_800)],
    "hilltimes": [(D(2008, 1, 1), 18_400), (D(2016, 6, 30), 47_900)],
    "themark": [(D(2009, 1, 1), 100), (D(2014, 6, 30), 9_800)],
    "ctv": [(D(2012, 3, 1), 770_000), (D(2012, 10, 1), 982_000), (D(2014, 12, 31), 2_150_000),
            (D(2024, 12, 31), 6_900_000)],
}


def clock_id(clock: str, when: datetime, jitter: int) -> int:
    """The id a site would have given an article published at `when` (plus a small jitter: ids are issued
    when a story is created, not when it is published)."""
    anchors = CLOCKS[clock]
    days = [a[0] for a in anchors]
    d = when.date()
    i = bisect.bisect_right(days, d)
    if i == 0:
        return anchors[0][1]
    if i >= len(anchors):
        return anchors[-1][1]
    (d0, v0), (d1, v1) = anchors[i - 1], anchors[i]
    span = max(1, (d1 - d0).days)
    frac = ((d - d0).days + when.hour / 24) / span
    return max(1, int(v0 + (v1 - v0) * frac) + jitter)


# --- today: what each URL shape's links do now -------------------------------------------------------------
# Fates (truth): alive*, moved*, paywall_ua and botwall are live; everything else is dead or drifted.
LIVE_FATES = {"alive", "alive_slow", "alive_flaky", "alive_flaky_run", "alive_429_retry_after", "alive_429",
              "alive_edited", "moved", "moved_chain", "paywall_ua", "botwall", "alive_pdf"}
DEAD_FATES = {"dead_404", "dead_410", "soft404_page", "soft404_expired", "soft404_home", "soft404_home_cross",
              "soft404_section", "soft404_host", "soft404_video", "drifted_inplace", "drifted_redirect",
              "parked", "dns", "refused", "reset", "hang", "drop"}

TODAY: dict[str, dict[str, float]] = {
    "globe_servlet": {"moved": .2, "dead_404": .35, "soft404_home": .35, "soft404_page": .1},
    "globe_article": {"alive": .52, "alive_slow": .03, "alive_flaky": .03, "alive_429": .03, "moved": .08,
                      "dead_404": .18, "soft404_page": .04, "drifted_redirect": .03, "alive_edited": .03,
                      "alive_429_retry_after": .03},
    "star_article": {"moved": .45, "soft404_home": .25, "dead_404": .2, "alive_flaky": .05, "drifted_redirect": .05},
    "star_dated": {"alive": .7, "dead_404": .15, "soft404_section": .1, "alive_429_retry_after": .05},
    "cbc_story": {"alive": .42, "moved": .2, "dead_404": .15, "soft404_page": .08, "alive_slow": .04,
                  "drifted_inplace": .04, "alive_edited": .04, "alive_flaky_run": .03},
    "cbc_new": {"alive": .8, "dead_404": .1, "moved": .1},
    "citizen_query": {"soft404_home": .5, "moved": .25, "dead_404": .1, "alive": .1, "soft404_expired": .05},
    "vansun_query": {"soft404_home": .5, "moved": .25, "dead_404": .1, "alive": .1, "soft404_expired": .05},
    "gazette_query": {"soft404_home": .55, "moved": .2, "dead_404": .15, "soft404_expired": .1},
    "canadacom_query": {"soft404_home": .6, "soft404_page": .2, "dead_404": .2},
    "citizen_blog": {"refused": 1.0},  # host-level
    "vansun_blog": {"soft404_home_cross": 1.0},  # host-level: to the paper's home page
    "np_query": {"soft404_home": .7, "dead_404": .3},
    "np_dated": {"moved": .55, "dead_404": .2, "soft404_home": .15, "alive": .1},
    "np_column": {"moved": .4, "dead_404": .3, "soft404_section": .3},
    "macleans_dated": {"moved": .55, "dead_404": .25, "drifted_redirect": .05, "soft404_home": .1, "alive_slow": .05},
    "macleans_author": {"dead_404": .6, "soft404_section": .4},
    "macleans_new": {"alive": .8, "dead_404": .1, "moved": .1},
    "huff_news": {"moved": .55, "dead_404": .2, "soft404_page": .1, "soft404_home": .1, "alive_429": .05},
    "huff_blog": {"moved": .5, "dead_404": .3, "soft404_home": .2},
    "guardian_uk": {"moved": .75, "moved_chain": .1, "dead_404": .05, "alive_edited": .05, "soft404_section": .05},
    "guardian_com": {"alive": .9, "dead_404": .05, "alive_429_retry_after": .05},
    "bbc_stm": {"alive": .8, "dead_404": .1, "alive_slow": .1},
    "bbc_news": {"alive": .55, "moved": .3, "dead_404": .1, "alive_flaky": .05},
    "tyee": {"alive": .82, "dead_404": .08, "alive_slow": .05, "alive_flaky_run": .05},
    "rabble_news": {"moved": .35, "dead_404": .3, "soft404_home": .2, "drifted_inplace": .05, "alive": .1},
    "rabble_blog": {"dead_404": .5, "soft404_home": .3, "moved": .2},
    "sunnews": {"hang": 1.0},  # host-level: the old server accepts and never answers
    "embassy": {"soft404_home_cross": 1.0},  # host-level: rebranded into the Hill Times
    "hilltimes": {"soft404_host": .8, "moved": .2},
    "openfile": {"dns": 1.0},
    "themark": {"parked": 1.0},
    "aljazeera": {"moved": .45, "alive": .3, "dead_404": .15, "soft404_page": .1},
    "reuters": {"soft404_home": .35, "moved": .35, "dead_404": .2, "alive_slow": .1},
    "nyt": {"paywall_ua": .85, "dead_404": .05, "moved": .1},
    "wapo": {"botwall": 1.0},  # host-level
    "ctv_old": {"soft404_home_cross": 1.0},  # host-level: to ctvnews.ca's home
    "ctvnews": {"alive": .6, "soft404_expired": .2, "dead_404": .1, "alive_429": .05, "alive_flaky": .05},
    "google_cp": {"soft404_home_cross": .6, "dead_404": .4},
    "ipolitics": {"alive": .6, "dead_404": .15, "drifted_inplace": .1, "alive_slow": .05, "moved": .1},
    "ipolitics_column": {"dead_404": .5, "soft404_home": .5},
}

# Where a "moved" URL of a shape goes now (the site's current address for the same article).
MOVED_TO: dict[str, Callable[[Meta], str]] = {
    "globe_servlet": lambda m: f"http://www.theglobeandmail.com/news/politics/{m.slug}/article{m.ident or 1}/",
    "globe_article": lambda m: f"http://www.theglobeandmail.com/news/politics/{m.slug}/article{m.ident}/",
    "star_article": lambda m: SHAPES["star_dated"](m),
    "cbc_story": lambda m: f"http://www.cbc.ca/news/{m.section.split(':')[0]}/{m.slug}-1.{1_000_000 + m.ident % 299_000}",
    "cbc_new": lambda m: f"http://www.cbc.ca/news/canada/{m.slug}-1.{m.ident}",
    "citizen_query": lambda m: f"http://ottawacitizen.com/news/local-news/{m.slug}",
    "vansun_query": lambda m: f"http://vancouversun.com/news/local-news/{m.slug}",
    "gazette_query": lambda m: f"http://montrealgazette.com/news/local-news/{m.slug}",
    "np_dated": lambda m: f"http://nationalpost.com/news/canada/{m.slug}",
    "np_column": lambda m: f"http://nationalpost.com/opinion/{m.author_slug}-{m.slug}",
    "macleans_dated": lambda m: f"http://www.macleans.ca/news/canada/{m.slug}/",
    "macleans_new": lambda m: f"http://www.macleans.ca/politics/{m.slug}/",
    "huff_news": lambda m: f"http://www.huffpost.com/archive/ca/entry/{m.slug[:60].rstrip('-')}_n_{m.ident}",
    "huff_blog": lambda m: f"http://www.huffpost.com/archive/ca/entry/{m.slug[:60].rstrip('-')}_b_{m.ident}",
    "guardian_uk": lambda m: SHAPES["guardian_com"](m),
    "bbc_news": lambda m: f"http://www.bbc.com/news/{m.section}-{m.ident}",
    "rabble_news": lambda m: f"http://rabble.ca/general/{m.slug}/",
    "rabble_blog": lambda m: f"http://rabble.ca/blogs/{m.slug}/",
    "hilltimes": lambda m: f"http://www.hilltimes.com/{m.when:%Y/%m/%d}/{m.slug}/{m.ident}",
    "aljazeera": lambda m: f"http://www.aljazeera.com/news/{m.when.year}/{m.when.month}/{m.when.day}/{m.slug}",
    "reuters": lambda m: f"http://www.reuters.com/article/us-{'-'.join(m.slug.split('-')[:6])}-idUSBRE{m.code}{m.when:%Y%m%d}",
    "nyt": lambda m: f"http://www.nytimes.com/{m.when:%Y/%m/%d}/world/{'-'.join(m.slug.split('-')[:8])}.html",
    "ipolitics": lambda m: f"http://ipolitics.ca/{m.when:%Y/%m/%d}/{m.slug}/",
}

# Rebranded or folded sites: every old URL goes to another site's home page.
CROSS_HOME: dict[str, str] = {
    "blogs.vancouversun.com": "http://vancouversun.com/",
    "www.embassynews.ca": "http://www.hilltimes.com/",
    "www.ctv.ca": "http://www.ctvnews.ca/",
    "www.google.com": "http://news.google.com/",
}

# What a host does with a path it does not know (the random-sibling probe lands here).
UNKNOWN_PATH: dict[str, str] = {
    "www.theglobeandmail.com": "404", "www.thestar.com": "404", "www.cbc.ca": "404",
    "www.ottawacitizen.com": "home", "www.vancouversun.com": "home", "www.montrealgazette.com": "home",
    "www.canada.com": "home", "www.nationalpost.com": "home", "news.nationalpost.com": "404",
    "fullcomment.nationalpost.com": "404", "www2.macleans.ca": "404", "www.macleans.ca": "404",
    "www.huffingtonpost.ca": "404", "www.guardian.co.uk": "404", "www.theguardian.com": "404",
    "news.bbc.co.uk": "404", "www.bbc.co.uk": "404", "thetyee.ca": "404", "rabble.ca": "404",
    "www.hilltimes.com": "soft200", "www.aljazeera.com": "404", "www.reuters.com": "404",
    "www.nytimes.com": "404", "www.ctvnews.ca": "404", "www.ipolitics.ca": "404",
}

# Sites whose home pages are "/" on a different host spelling (www dropped when they moved to a new CMS).
HOME_OF: dict[str, str] = {
    "www.ottawacitizen.com": "http://ottawacitizen.com/",
    "www.vancouversun.com": "http://vancouversun.com/",
    "www.montrealgazette.com": "http://montrealgazette.com/",
    "www.nationalpost.com": "http://nationalpost.com/",
    "news.nationalpost.com": "http://nationalpost.com/",
}

# Sites that resolve an article by its id and redirect any other slug to the canonical URL.
SLUG_IGNORING = {"www.theglobeandmail.com", "www.huffingtonpost.ca"}
