"""Scoring a post's candidates: the words of each page's slug against the post's headline and text, and the
date it was published (from its path, else its id through the domain's id clock, else its capture) against
the post's, give each page found in the index a prescore; the best are fetched raw from the archive, in
order, and compared with the post's paragraphs, headline and author line, which gives the confidence in 0..1
and its evidence. Then the decision: a clear winner at or above `auto_approve_confidence` is approved; close
or weak cases, and any post whose text two pages of the outlet carry, wait for the curator; nothing
plausible is unavailable."""

from __future__ import annotations

import asyncio
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Awaitable, Callable, Iterable
from urllib.parse import urlsplit

from linkkeeper.repair.capture.ranking import page_key
from linkkeeper.repair.recover.idclock import IdClock, article_id
from linkkeeper.repair.recover.outlets import DomainProfile
from linkkeeper.repair.recover.spend import charge
from linkkeeper.text.dates import local_date
from linkkeeper.text.html import first_heading, html_to_text, page_title
from linkkeeper.text.similarity import containment, page_text, post_lead_text
from linkkeeper.text.urls import NOT_ARTICLE, host_key, normalize_url, parse_dated_path, slug_words, url_date
from linkkeeper.text.words import content_words, fold, slug_score
from linkkeeper.wayback import (ArchiveError, ArchiveQueryError, ArchiveUnavailableError, CdxRecord, RateLimitedError,
                                WaybackClient, public_archive_url)

# Captures follow publication: a page dated only by its capture may have appeared up to this long before.
CAPTURE_LAG_DAYS = 30
# The printable or paged copy of an article (`?service=print`, `&print=1`) is the article, not a rival page.
_PRINT_ARG = re.compile(r"(?:^|&)(?:(?:service|output|view|format|template)=print\w*|print(?:=[^&]*)?(?:&|$))",
                        re.IGNORECASE)
MIN_WORDS = 20
# The decision.
REVIEW_FLOOR = 0.45
AMBIGUITY_MARGIN = 0.15
MIN_TEXT_FOR_AUTO = 0.85
MIN_TITLE_FOR_AUTO = 0.6
UNVERIFIED_CAP = 0.6
OTHER_OUTLET_FACTOR = 0.6
# A page "holds the post's text" from this share of its shingles on (as a capture verifies: see
# repair.capture); two such pages of one outlet leave the choice to a person.
HOLDS_TEXT = 0.5
# ... and within this much of the page holding most of it: a follow-up that rewrote the lead's first
# paragraph still quotes the rest, but it is another article, not the same one under a second URL.
RIVAL_TEXT_GAP = 0.2
# A live page holding less than this share of the post's text, under another headline, is another article:
# no need to ask the archive for its capture (a page that kept the headline but lost the text - a paywall,
# an edit, a cut - is read from its capture).
LIVE_OTHER_TEXT = 0.2
# ... unless its address names the post's article (its slug carries this share of the headline's words): then
# the page drifted (the outlet put another article at the address, or sends it to another), and the capture
# of the address from its day is read.
SLUG_NAMES_THE_POST = 0.9


@dataclass
class PostContext:
    link_id: str
    post_id: str
    href: str | None
    nullified_reason: str | None
    published: str | None
    when: date
    title: str
    title_words: list[str]
    outlet: str | None
    author: str | None
    lead: str
    content: str
    text_words: frozenset[str] = frozenset()  # content words of the headline and the reproduced text

    @property
    def lead_words(self) -> int:
        return len(self.lead.split())

    @property
    def search_words(self) -> list[str]:
        """Words to look for in URLs: the headline's, then the capitalised words of the first sentence (who
        and where the story is about), which a slug cut from an earlier headline often names."""
        first = re.split(r"(?<=[.!?])\s", self.lead.strip(), maxsplit=1)[0]
        names = content_words(" ".join(re.findall(r"\b[A-Z][a-z]{2,}\b", first)))[:4]
        return list(dict.fromkeys(self.title_words + names))

    @classmethod
    def from_row(cls, row: dict) -> "PostContext":
        content = row.get("content") or ""
        title = row.get("title") or ""
        lead = post_lead_text(content)
        return cls(row["link_id"], row["post_id"], row.get("url"), row.get("nullified_reason"), row.get("published"),
                   local_date(row.get("published")) or date.today(), title, content_words(title), row.get("outlet"),
                   row.get("author"), lead, content, frozenset(content_words(title) + content_words(lead)))


@dataclass
class RecoveryCandidate:
    """A page the index lists for a post: its prescore from URL and dates, and once its capture is fetched,
    its confidence and evidence."""

    url: str
    timestamp: str
    record: CdxRecord
    profile: DomainProfile | None
    article_date: date | None
    date_source: str  # path | id | capture | unknown
    day_known: bool
    slug: list[str]
    slug_score: float = 0.0
    date_score: float = 0.0
    prescore: float = 0.0
    verified: bool = False
    confidence: float | None = None
    text_similarity: float | None = None
    title_match: float | None = None
    author_match: float | None = None
    headline_match: float | None = None  # the page's own title and h1 against the post's headline
    rival: str | None = None  # why the rival check holds this page to be the same article
    evidence: dict = field(default_factory=dict)

    @property
    def archive_url(self) -> str:
        # A page never captured (a writer's page the outlet would have had) gets the archive's list of captures.
        return public_archive_url(self.evidence.get("memento_timestamp") or self.timestamp or "*", self.url)

    @property
    def page(self) -> str:
        return page_key(self.url)

    @property
    def informative(self) -> bool:
        """Whether this page's slug was cut from its headline (not the BBC's section names)."""
        return bool(self.slug) and (self.profile.slug_informative() if self.profile else True)

    def summary(self) -> dict:
        return {"url": self.url, "timestamp": self.timestamp, "archive_url": self.archive_url,
                "prescore": self.prescore, "confidence": self.confidence, "verified": self.verified,
                "article_date": str(self.article_date) if self.article_date else None,
                "date_source": self.date_source, "slug_score": self.slug_score, "date_score": self.date_score,
                "text_similarity": self.text_similarity, "title_match": self.title_match,
                "author_match": self.author_match, "rival": self.rival,
                **{k: v for k, v in self.evidence.items() if k in ("memento_error", "memento_status", "note", "read")}}


def date_score(article: date | None, when: date, source: str, day_known: bool, spread: int = 0) -> float:
    """How well a page's date fits a post of `when`: an article comes out the day of the post or a little
    before; a date read from the page's capture or id is rougher than one in its path."""
    if article is None:
        return 0.2
    delta = (when - article).days  # > 0: the article came first, as it should
    if source == "path":
        if not day_known:
            return 0.6
        if delta < -1:
            return 0.0
        return 1.0 if delta <= 1 else round(math.exp(-(delta - 1) / 4), 3)
    if source == "id":
        # `article` is the latest the page can have appeared; it may be up to `spread` days earlier.
        late = max(0, -delta - 1)
        early = max(0, delta - 1 - min(spread, 10))
        return round(0.9 * math.exp(-(late + early) / 4), 3)
    # Only the capture date: pages are captured around the time they appear, but not always.
    return round(0.7 * math.exp(-abs(delta) / 4), 3)


def word_score(slug: list[str], post: PostContext) -> float:
    """How well a slug names the post's article: its words in the headline (slug_score), or, where the slug
    was cut from an earlier headline, in the post's text (a story's names and issue are in its lead)."""
    if not slug:
        return 0.0
    by_title = slug_score(slug, post.title_words)
    words = set(slug)
    shared = len(words & post.text_words)
    by_text = 0.8 * (shared / len(words)) * min(1.0, shared / 3) if shared >= 2 else 0.0
    return round(max(by_title, by_text), 3)


def _dated(url: str, path: str, clock: IdClock | None, captured: date | None) -> tuple[date | None, str, bool, int, str]:
    """(article date, its source, whether its day is known, its spread in days, the path after any date)."""
    dated = parse_dated_path(path)
    if dated is not None:
        day = None if dated.day_known else url_date(url)  # a month-only path's day, from its id (Al Jazeera)
        if day is not None and (day.year, day.month) == (dated.date.year, dated.date.month):
            return day, "path", True, 0, dated.rest
        return dated.date, "path", dated.day_known, 0, dated.rest
    day = url_date(url)
    if day is not None:
        return day, "path", True, 0, path
    estimate = clock.date_of(url) if clock else None
    if estimate is not None:
        return estimate[0], "id", False, estimate[1], path
    return captured, ("capture" if captured else "unknown"), False, 0, path


def make_candidate(record: CdxRecord, post: PostContext, profiles: dict[str, DomainProfile], clock: IdClock | None,
                   window: tuple[date, date] | None) -> RecoveryCandidate | None:
    """A candidate for the post from one CDX row, or None when the row is not an article page of the
    window (`window` None: any date)."""
    if record.statuscode != "200" or record.is_revisit or record.is_malformed:
        return None
    if not (record.mimetype.startswith("text/html") or record.mimetype == "application/xhtml+xml"):
        return None
    parts = urlsplit(record.original)
    path = parts.path or "/"
    if NOT_ARTICLE.search(path) or _PRINT_ARG.search(parts.query):
        return None
    captured = record.datetime.date() if record.datetime else None
    article, source, day_known, spread, rest = _dated(record.original, path, clock, captured)
    if source == "path" and not rest.strip("/"):
        return None  # the day's or month's index page, not an article
    # The slug follows the date (`/2012/oct/16/slug`) or precedes it (`/opinions/slug/2012/09/13/id_story.html`).
    slug = slug_words(rest) or slug_words(path)
    if not slug and source != "path" and article_id(record.original) is None:
        return None  # neither a headline nor an id: a section front or a tag page
    if window is not None and not _in_window(article, source, day_known, spread, window):
        return None
    # The archive keeps `http://host:80/...` as its crawler saw it; the URL a blog gets names no default port.
    cand = RecoveryCandidate(normalize_url(record.original), record.timestamp, record,
                             profiles.get(host_key(parts.hostname or "")),
                             article, source, day_known, slug)
    cand.slug_score = word_score(slug, post) if cand.informative else 0.0
    cand.date_score = date_score(article, post.when, source, day_known, spread)
    cand.prescore = round(0.6 * cand.slug_score + 0.4 * cand.date_score if cand.informative
                          else 0.9 * cand.date_score, 3)
    return cand


def _in_window(article: date | None, source: str, day_known: bool, spread: int, window: tuple[date, date]) -> bool:
    lo, hi = window
    if article is None:
        return False
    if source == "path":
        if day_known:
            return lo <= article <= hi
        return article <= hi and article + timedelta(days=31) >= lo
    if source == "id":
        return article >= lo and article - timedelta(days=spread) <= hi
    # Dated by its capture: published at most CAPTURE_LAG_DAYS before.
    return article >= lo and article - timedelta(days=CAPTURE_LAG_DAYS) <= hi


def add_candidates(found: dict[str, RecoveryCandidate], records: Iterable[CdxRecord], post: PostContext,
                   profiles: dict[str, DomainProfile], clock: IdClock | None,
                   window: tuple[date, date] | None) -> int:
    """Merge records into `found` (one candidate per page: tracking arguments ignored; the capture without
    them, else the earliest, kept). Returns how many new pages were added."""
    added = 0
    for record in records:
        cand = make_candidate(record, post, profiles, clock, window)
        if cand is None:
            continue
        old = found.get(cand.page)
        if old is None:
            found[cand.page] = cand
            added += 1
        elif not old.verified and (bool(urlsplit(old.url).query) and not urlsplit(cand.url).query
                                   or cand.prescore > old.prescore):
            found[cand.page] = cand
    return added


def author_score(author: str | None, page_words: set[str]) -> float | None:
    """Share of the Author line's people whose surname the page carries; None when the post names nobody."""
    if not author:
        return None
    total = found = 0
    for name in re.split(r"\s*(?:,|;|&|\band\b|\bwith\b)\s*", author):
        name = re.split(r"\s+(?:in|for|at)\s+", name.strip())[0]  # "Justin McCurry in Tokyo"
        parts = [p for p in re.findall(r"[a-z0-9]+", fold(name)) if len(p) > 1]
        if not parts:
            continue
        total += 1
        found += parts[-1] in page_words
    return round(found / total, 3) if total else None


def confidence(text_similarity: float | None, title_match: float, author_match: float | None,
               date_match: float) -> float:
    """0..1: mostly how much of the post's reproduced text the capture holds, then headline, byline, date.
    Without enough text to compare, a capture can be proposed but never reach automatic approval."""
    author = 0.5 if author_match is None else author_match
    if text_similarity is None:
        # Scaled, not capped: candidates must still rank against each other.
        return round(UNVERIFIED_CAP * (0.4 * title_match + 0.3 * author + 0.3 * date_match), 3)
    return round(0.65 * text_similarity + 0.2 * title_match + 0.1 * author + 0.05 * date_match, 3)


@dataclass
class Fetched:
    status: int | None = None
    timestamp: str | None = None
    text: str = ""
    headline: str = ""
    page_words: set = field(default_factory=set)
    error: str | None = None
    url: str | None = None  # a live page: the address it answered at, after redirects


def read_page(markup: str, status: int | None = 200, timestamp: str | None = None) -> Fetched:
    """What the comparison with a post reads of a page: its text, its title and first heading, its words."""
    heads = [html_to_text(raw) for raw in (page_title(markup), first_heading(markup)) if raw]
    text = page_text(markup)
    return Fetched(status=status, timestamp=timestamp, text=text, headline=" ".join(heads),
                   page_words=set(re.findall(r"[a-z0-9]+", fold(text))))


class CaptureCache:
    """Captures fetched raw (`id_`) once per run, whichever post asks; and, with `live` (an async function
    giving a URL's page as it answers today, or None where it holds no page), the live pages once per run:
    a candidate whose page still answers is compared with the post on the live web first, which costs the
    archive nothing (`archive_fetches` counts the requests to the archive)."""

    def __init__(self, client: WaybackClient, live: Callable[[str], Awaitable[Fetched | None]] | None = None) -> None:
        self.client = client
        self.live = live
        self._tasks: dict[tuple[str, str], asyncio.Future] = {}
        self._live_tasks: dict[str, asyncio.Future] = {}
        self.archive_fetches = 0
        self.spent: Counter[str] = Counter()  # the same, by the part of the search asking (spend.py)

    async def get(self, url: str, timestamp: str) -> Fetched:
        key = (url, timestamp)
        if key not in self._tasks:
            self.archive_fetches += 1
            charge(self.spent)
            self._tasks[key] = asyncio.ensure_future(self._fetch(url, timestamp))
        return await asyncio.shield(self._tasks[key])

    async def get_live(self, url: str) -> Fetched | None:
        if self.live is None:
            return None
        if url not in self._live_tasks:
            self._live_tasks[url] = asyncio.ensure_future(self.live(url))
        return await asyncio.shield(self._live_tasks[url])

    async def _fetch(self, url: str, timestamp: str) -> Fetched:
        try:
            memento = await self.client.get_memento(url, timestamp, raw=True)
        except (ArchiveUnavailableError, RateLimitedError):
            raise  # the archive, not the capture: the post is retried in the next run
        except ArchiveQueryError:
            raise  # a request of ours the archive would refuse: a bug to surface, not a capture missing
        except ArchiveError as exc:
            # The rest is about this capture: none (NoMementoError), excluded (BlockedSiteError), redirects that
            # loop, or an answer the client could not read (an unexpected status).
            return Fetched(error=f"{type(exc).__name__}: {exc}"[:300])
        return read_page(memento.body.decode("utf-8", "replace"), memento.status, memento.timestamp)


async def verify_candidate(cand: RecoveryCandidate, post: PostContext, captures: CaptureCache,
                           archive: bool = True) -> bool:
    """Compare the candidate's page with the post: its confidence and evidence. The page as it answers today
    first (no archive request), where it settles the question: it holds the post's text, or it is plainly
    another article (little of the text under another headline). Else, a page gone, cut or changed under
    the post's headline, its capture; with `archive` false the candidate then stays unverified. Returns
    whether the archive was asked."""
    if post.lead_words >= MIN_WORDS:
        live = await captures.get_live(cand.url)
        if live is not None:
            _compare(cand, post, live)
            if live.url and page_key(live.url) != cand.page:
                cand.evidence["answered_at"] = live.url
            text, headline = cand.text_similarity or 0.0, cand.headline_match or 0.0
            drifted = slug_score(cand.slug, post.title_words) >= SLUG_NAMES_THE_POST
            if text >= HOLDS_TEXT or (text < LIVE_OTHER_TEXT and headline < MIN_TITLE_FOR_AUTO and not drifted):
                cand.verified = True
                cand.evidence["read"] = "the live page"
                return False
    if not archive:
        return False
    fetched = await captures.get(cand.url, cand.timestamp)
    cand.verified = True
    if fetched.error or fetched.status != 200:
        cand.confidence = 0.0
        if fetched.error:
            cand.evidence["memento_error"] = fetched.error
        else:
            cand.evidence["memento_status"] = fetched.status
        return True
    cand.evidence["memento_timestamp"] = fetched.timestamp
    _compare(cand, post, fetched)
    return True


def _compare(cand: RecoveryCandidate, post: PostContext, fetched: Fetched) -> None:
    cand.text_similarity = round(containment(post.lead, fetched.text), 3) if post.lead_words >= MIN_WORDS else None
    title_words = set(post.title_words)
    headline = round(len(title_words & set(content_words(fetched.headline))) / len(title_words), 3) if title_words else 0.0
    cand.headline_match = headline
    cand.title_match = max(headline, slug_score(cand.slug, post.title_words) if cand.informative else 0.0)
    cand.author_match = author_score(post.author, fetched.page_words)
    cand.confidence = confidence(cand.text_similarity, cand.title_match, cand.author_match, cand.date_score)
    if cand.profile is None:
        cand.confidence = round(cand.confidence * OTHER_OUTLET_FACTOR, 3)
        cand.evidence["note"] = "not one of the outlet's domains"


def convincing(cand: RecoveryCandidate) -> bool:
    """A verified page holding nearly all of the post's text: no need to fetch further candidates."""
    return cand.verified and (cand.text_similarity or 0.0) >= MIN_TEXT_FOR_AUTO


def reading_order(found: Iterable[RecoveryCandidate], post: PostContext) -> list[RecoveryCandidate]:
    """The unverified candidates worth reading, best prescore first; among equal prescores (slugs that say
    nothing, ids dated only to within days: a whole listing of an outlet can tie) the page dated nearest the
    post first, not the first in alphabetical order."""
    def days_off(cand: RecoveryCandidate) -> int:
        return abs((post.when - cand.article_date).days) if cand.article_date else 10_000
    return sorted((c for c in found if not c.verified and c.prescore > 0),
                  key=lambda c: (-c.prescore, days_off(c), c.url))


# Leaders of a reading order that, slugless and of one prescore, say nothing by their order.
TIED_LEADERS = 3


def slugless_tie(found: Iterable[RecoveryCandidate], post: PostContext) -> bool:
    """Whether the first TIED_LEADERS candidates in reading order carry no slug and share one prescore
    (`story.html?id=` pages dated alike by their ids): the article can be any of them. Slugged leaders rank
    by their words (a trace found the look-back's finds among them all within the first two)."""
    leaders = reading_order(found, post)[:TIED_LEADERS]
    return len(leaders) == TIED_LEADERS and all(not c.slug and c.prescore == leaders[0].prescore for c in leaders)


async def verify_in_order(found: dict[str, RecoveryCandidate], post: PostContext, captures: CaptureCache,
                          limit: int, batch: int = 2, live_limit: int = 0) -> int:
    """Compare the unverified candidates with the post, best prescore first, a few at a time, until one is
    convincing: first the live pages of the best `live_limit` (no archive request), then the captures of
    those of the best `limit` the live web left open. Candidates far below the leader are not worth a
    request. Returns the archive fetches."""
    ranked = reading_order(found.values(), post)
    if not ranked:
        return 0
    floor = max(0.1, 0.4 * ranked[0].prescore)
    ranked = [ranked[0]] + [c for c in ranked[1:max(limit, live_limit)] if c.prescore >= floor]
    if captures.live is not None and live_limit > limit:
        await _in_batches(ranked, found, 2 * batch, lambda c: verify_candidate(c, post, captures, archive=False))
    left_open = [c for c in ranked[:limit] if not c.verified]
    won = next((i for i, c in enumerate(ranked) if convincing(c)), None)
    if won is not None:
        # The live web found the article; the candidates ranked above it that it left open are read all the
        # same, as they would have been without it (one may be the same text under an updated headline).
        above = [c for c in left_open if ranked.index(c) < won]
        return sum(await asyncio.gather(*(verify_candidate(c, post, captures) for c in above)))
    return await _in_batches(left_open, found, batch, lambda c: verify_candidate(c, post, captures))


async def _in_batches(pending: list[RecoveryCandidate], found: dict[str, RecoveryCandidate], batch: int,
                      verify: Callable[[RecoveryCandidate], Awaitable[bool]]) -> int:
    done = 0
    while pending and not any(convincing(c) for c in found.values()):
        chosen, pending = pending[:batch], pending[batch:]
        done += sum(await asyncio.gather(*(verify(c) for c in chosen if not c.verified)))
    return done


@dataclass
class RecoveryDecision:
    """What becomes of a nullified link, why, and the candidate it rests on."""

    state: str  # approved | proposed | unavailable
    reason: str
    best: RecoveryCandidate | None = None
    twice: bool = False  # two pages show the article itself (not a later version): it was published twice


def held(decision: RecoveryDecision, why: str) -> RecoveryDecision:
    """An approval made a proposal for the reason `why` (any other decision stands)."""
    if decision.state != "approved":
        return decision
    return RecoveryDecision("proposed", f"{decision.reason}; but {why}: a person decides", decision.best)


def shows_the_article(cand: RecoveryCandidate) -> bool:
    """Whether a page holding the post's text is the article itself, not a later version of it (which has a
    headline of its own): the rival check found it to be (the same id, an earlier URL), or it carries the
    post's whole headline. Two such pages are one article published twice."""
    return bool(cand.rival) or (cand.headline_match or 0.0) >= 1.0


def decide(found: Iterable[RecoveryCandidate], auto_approve: float) -> RecoveryDecision:
    ranked = sorted((c for c in found if c.verified), key=lambda c: (-(c.confidence or 0.0), c.url))
    if not ranked:
        return RecoveryDecision("unavailable", "no capture of the outlet's pages matched the post's date and shape")
    best, runner = ranked[0], (ranked[1] if len(ranked) > 1 else None)
    if (best.confidence or 0.0) < REVIEW_FLOOR:
        return RecoveryDecision("unavailable", f"no capture resembles the post (best confidence {best.confidence})",
                                best)
    most = max((c.text_similarity or 0.0) for c in ranked)
    holds = max(HOLDS_TEXT, most - RIVAL_TEXT_GAP)
    holders = {c.page for c in ranked if (c.text_similarity or 0.0) >= holds or c.rival}
    if len(holders) >= 2:
        same = {c.page for c in ranked if c.page in holders and shows_the_article(c)}
        return RecoveryDecision("proposed", f"{len(holders)} pages of the outlet hold the post's text (the same "
                                            "article under two URLs, or a later version): a person decides", best,
                                twice=len(same) >= 2)
    close = runner is not None and (runner.confidence or 0.0) > (best.confidence or 0.0) - AMBIGUITY_MARGIN
    if close:
        return RecoveryDecision("proposed", f"ambiguous: {runner.url} scores {runner.confidence} against "
                                            f"{best.confidence}", best)
    if best.text_similarity is None:
        return RecoveryDecision("proposed", "the post reproduces too little text to verify the capture", best)
    if (best.confidence or 0.0) >= auto_approve and best.text_similarity >= MIN_TEXT_FOR_AUTO \
            and (best.title_match or 0.0) >= MIN_TITLE_FOR_AUTO:
        return RecoveryDecision("approved", "clear winner: the capture holds the post's text under its headline, "
                                            "and no other page of the outlet does", best)
    return RecoveryDecision("proposed", f"best match below automatic approval (confidence {best.confidence}, "
                                        f"text {best.text_similarity}, title {best.title_match})", best)
