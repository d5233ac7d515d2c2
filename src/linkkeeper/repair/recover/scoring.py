"""Scoring a post's candidates: slug against headline, date proximity (from the path, an id, or the capture)
and outlet rank give each page found in the index a prescore; the best few are fetched raw from the archive
and compared with the post's paragraphs, headline and author line, which gives the confidence in 0..1 and its
evidence. Then the decision: a clear winner at or above `auto_approve_confidence` is approved; close or weak
cases wait for the curator; nothing plausible is unavailable."""

from __future__ import annotations

import asyncio
import math
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Iterable
from urllib.parse import urlsplit

from linkkeeper.repair.recover.outlets import DomainProfile
from linkkeeper.repair.recover.queries import CAPTURE_LAG_DAYS, search_window
from linkkeeper.text.dates import local_date
from linkkeeper.text.html import first_heading, html_to_text, page_title
from linkkeeper.text.similarity import containment, page_text, post_lead_text
from linkkeeper.text.urls import NOT_ARTICLE, host_key, parse_dated_path, slug_words, url_id
from linkkeeper.text.words import content_words, fold, slug_score
from linkkeeper.wayback import (ArchiveError, ArchiveQueryError, ArchiveUnavailableError, CdxRecord, RateLimitedError,
                                WaybackClient, public_archive_url)

# An id-based date estimate is rough (ids grow unevenly): only far outliers are ruled out by it.
ID_SLACK_DAYS = 45
# Candidates fetched from the archive per post: few where slugs name the article, more where only a date can.
VERIFY_TOP = 4
VERIFY_TOP_SLUGLESS = 12
MIN_WORDS = 20
# The decision.
REVIEW_FLOOR = 0.45
AMBIGUITY_MARGIN = 0.15
MIN_TEXT_FOR_AUTO = 0.85
MIN_TITLE_FOR_AUTO = 0.6
UNVERIFIED_CAP = 0.6
OTHER_OUTLET_FACTOR = 0.6


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

    @property
    def lead_words(self) -> int:
        return len(self.lead.split())

    @classmethod
    def from_row(cls, row: dict) -> "PostContext":
        content = row.get("content") or ""
        return cls(row["link_id"], row["post_id"], row.get("url"), row.get("nullified_reason"), row.get("published"),
                   local_date(row.get("published")) or date.today(), row.get("title") or "",
                   content_words(row.get("title") or ""), row.get("outlet"), row.get("author"), post_lead_text(content),
                   content)


@dataclass
class RecoveryCandidate:
    """A page the index lists for a post: its prescore from URL and dates, and once its capture is fetched,
    its confidence and evidence."""

    url: str
    timestamp: str
    record: CdxRecord
    profile: DomainProfile | None
    article_date: date | None
    date_source: str  # path | id | capture
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
    evidence: dict = field(default_factory=dict)

    @property
    def archive_url(self) -> str:
        return public_archive_url(self.evidence.get("memento_timestamp") or self.timestamp, self.url)

    def summary(self) -> dict:
        return {"url": self.url, "timestamp": self.timestamp, "archive_url": self.archive_url,
                "prescore": self.prescore, "confidence": self.confidence, "verified": self.verified,
                "article_date": str(self.article_date) if self.article_date else None,
                "date_source": self.date_source, "slug_score": self.slug_score, "date_score": self.date_score,
                "text_similarity": self.text_similarity, "title_match": self.title_match,
                "author_match": self.author_match, **{k: v for k, v in self.evidence.items()
                                                      if k in ("memento_error", "memento_status", "note")}}


def date_score(article: date, when: date, source: str, day_known: bool) -> float:
    delta = (when - article).days  # > 0: the article came first, as it should
    if source == "path":
        if not day_known:
            return 0.6
        if delta < -1:
            return 0.0
        return 1.0 if delta <= 1 else round(math.exp(-(delta - 1) / 4), 3)
    if source == "id":
        return round(0.9 * math.exp(-max(0, abs(delta) - 3) / 15), 3)
    # Only the capture date: pages are captured around the time they appear, but not always.
    return round(0.7 * math.exp(-abs(delta) / 4), 3)


def _candidate(record: CdxRecord, post: PostContext, profiles: dict[str, DomainProfile],
               lookback: int) -> RecoveryCandidate | None:
    if record.statuscode != "200" or record.is_revisit or record.is_malformed:
        return None
    if not (record.mimetype.startswith("text/html") or record.mimetype == "application/xhtml+xml"):
        return None
    parts = urlsplit(record.original)
    path = parts.path or "/"
    if NOT_ARTICLE.search(path):
        return None
    profile = profiles.get(host_key(parts.hostname or ""))
    lo, hi = search_window(post.when, lookback)
    dated = parse_dated_path(path)
    captured = record.datetime.date() if record.datetime else None
    if dated is not None:
        if not dated.rest.strip("/"):
            return None  # the day's or month's index page, not an article
        rest, article, source, day_known = dated.rest, dated.date, "path", dated.day_known
        if day_known and not lo <= article <= hi:
            return None
        if not day_known and not (article <= hi and article + timedelta(days=31) >= lo):
            return None
    else:
        rest, day_known = path, False
        model = profile.id_model() if profile else None
        ident = url_id(path)
        estimate = model.date_of(ident) if (model and ident is not None) else None
        if estimate is not None:
            article, source = estimate, "id"
            if not lo - timedelta(days=ID_SLACK_DAYS) <= article <= hi + timedelta(days=ID_SLACK_DAYS):
                return None  # an old article captured again that week
        elif captured is not None:
            article, source = captured, "capture"
            if not lo <= article <= hi + timedelta(days=CAPTURE_LAG_DAYS):
                return None
        else:
            return None
    slug = slug_words(rest)
    if not slug and url_id(rest) is None:
        return None  # neither a headline nor an id: a section front or a tag page
    cand = RecoveryCandidate(record.original, record.timestamp, record, profile, article, source, day_known, slug)
    cand.slug_score = slug_score(slug, post.title_words)
    cand.date_score = date_score(article, post.when, source, day_known)
    informative = profile.slug_informative() if profile else True
    cand.prescore = round(0.65 * cand.slug_score + 0.35 * cand.date_score if (informative and slug)
                          else cand.date_score, 3)
    if profile is None:
        cand.prescore = round(cand.prescore * OTHER_OUTLET_FACTOR, 3)
    return cand


def add_candidates(found: dict[tuple[str, str], RecoveryCandidate], records: Iterable[CdxRecord], post: PostContext,
                   profiles: dict[str, DomainProfile], lookback: int) -> int:
    """Merge records into `found` (one candidate per page: scheme, www, case, trailing slash and query
    ignored; the earliest capture kept). Returns how many new pages were added."""
    added = 0
    for record in records:
        cand = _candidate(record, post, profiles, lookback)
        if cand is None:
            continue
        parts = urlsplit(record.original)
        key = (host_key(parts.hostname or ""), (parts.path or "/").rstrip("/").lower())
        old = found.get(key)
        if old is None:
            found[key] = cand
            added += 1
        elif not old.verified and (bool(urlsplit(old.url).query), old.timestamp) > (bool(parts.query), record.timestamp):
            found[key] = cand
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


class CaptureCache:
    """Captures fetched raw (`id_`) once per run, whichever post asks."""

    def __init__(self, client: WaybackClient) -> None:
        self.client = client
        self._tasks: dict[tuple[str, str], asyncio.Future] = {}

    async def get(self, url: str, timestamp: str) -> Fetched:
        key = (url, timestamp)
        if key not in self._tasks:
            self._tasks[key] = asyncio.ensure_future(self._fetch(url, timestamp))
        return await asyncio.shield(self._tasks[key])

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
        markup = memento.body.decode("utf-8", "replace")
        heads = [html_to_text(raw) for raw in (page_title(markup), first_heading(markup)) if raw]
        text = page_text(markup)
        return Fetched(status=memento.status, timestamp=memento.timestamp, text=text, headline=" ".join(heads),
                       page_words=set(re.findall(r"[a-z0-9]+", fold(text))))


async def verify_candidate(cand: RecoveryCandidate, post: PostContext, captures: CaptureCache) -> None:
    """Fetch the candidate's capture and compare it with the post: its confidence and evidence."""
    fetched = await captures.get(cand.url, cand.timestamp)
    cand.verified = True
    if fetched.error or fetched.status != 200:
        cand.confidence = 0.0
        if fetched.error:
            cand.evidence["memento_error"] = fetched.error
        else:
            cand.evidence["memento_status"] = fetched.status
        return
    cand.evidence["memento_timestamp"] = fetched.timestamp
    cand.text_similarity = round(containment(post.lead, fetched.text), 3) if post.lead_words >= MIN_WORDS else None
    title_words = set(post.title_words)
    headline = round(len(title_words & set(content_words(fetched.headline))) / len(title_words), 3) if title_words else 0.0
    informative = cand.profile.slug_informative() if cand.profile else True
    cand.title_match = max(headline, cand.slug_score if informative else 0.0)
    cand.author_match = author_score(post.author, fetched.page_words)
    cand.confidence = confidence(cand.text_similarity, cand.title_match, cand.author_match, cand.date_score)
    if cand.profile is None:
        cand.confidence = round(cand.confidence * OTHER_OUTLET_FACTOR, 3)
        cand.evidence["note"] = "not one of the outlet's domains"


async def verify_best(found: dict, post: PostContext, captures: CaptureCache) -> int:
    """Verify the most promising unverified candidates; returns how many were fetched."""
    pending = sorted((c for c in found.values() if not c.verified and c.prescore > 0),
                     key=lambda c: (-c.prescore, c.url))
    if not pending:
        return 0
    slugless = not any(c.slug and (c.profile is None or c.profile.slug_informative()) for c in pending)
    limit = VERIFY_TOP_SLUGLESS if slugless else VERIFY_TOP
    top = pending[0].prescore
    # Far below the leader, a candidate is not worth a request (the leader always is).
    chosen = [pending[0]] + [c for c in pending[1:limit] if c.prescore >= max(0.15, 0.4 * top)]
    await asyncio.gather(*(verify_candidate(c, post, captures) for c in chosen))
    return len(chosen)


@dataclass
class RecoveryDecision:
    """What becomes of a nullified link, why, and the candidate it rests on."""

    state: str  # approved | proposed | unavailable
    reason: str
    best: RecoveryCandidate | None = None


def decide(found: Iterable[RecoveryCandidate], auto_approve: float) -> RecoveryDecision:
    ranked = sorted((c for c in found if c.verified), key=lambda c: (-(c.confidence or 0.0), c.url))
    if not ranked:
        return RecoveryDecision("unavailable", "no capture of the outlet's pages matched the post's date and shape")
    best, runner = ranked[0], (ranked[1] if len(ranked) > 1 else None)
    if (best.confidence or 0.0) < REVIEW_FLOOR:
        return RecoveryDecision("unavailable", f"no capture resembles the post (best confidence {best.confidence})",
                                best)
    close = runner is not None and (runner.confidence or 0.0) > (best.confidence or 0.0) - AMBIGUITY_MARGIN
    if close:
        return RecoveryDecision("proposed", f"ambiguous: {runner.url} scores {runner.confidence} against "
                                            f"{best.confidence}", best)
    if best.text_similarity is None:
        return RecoveryDecision("proposed", "the post reproduces too little text to verify the capture", best)
    if (best.confidence or 0.0) >= auto_approve and best.text_similarity >= MIN_TEXT_FOR_AUTO \
            and (best.title_match or 0.0) >= MIN_TITLE_FOR_AUTO:
        return RecoveryDecision("approved", "clear winner: the capture holds the post's text under its headline", best)
    return RecoveryDecision("proposed", f"best match below automatic approval (confidence {best.confidence}, "
                                        f"text {best.text_similarity}, title {best.title_match})", best)

