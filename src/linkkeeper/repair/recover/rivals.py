"""The rival check before an automatic approval: is the same article anywhere else on the outlet's domain?

Outlets publish one article under two URLs (the same story in two sections, a news page and the author's
blog page, a dated news URL and a column URL). The blogger linked one of them, and nothing in the post says
which: when two pages of the outlet hold the post's text, only a person can choose. So before a recovered
link is approved, the whole domain (`matchType=domain`, every subdomain) is searched for other URLs carrying
the article's slug (its last words, which survive a section or region prefix), or, for a URL without a slug
(`story.html?id=7303160`), two of the post's headline words in one path segment; the hits are fetched raw and
compared with the post.

The search keeps redirect captures too: an outlet that moved its articles to new URLs (the Star in 2013)
leaves its 2012 URLs in the index only as redirects to the new page, and when two such earlier URLs carry
the article (two sections), the blogger linked one of them, so a person decides (`earlier_urls`). One such
URL is enough when it is the found page's own address in another section (`other_section`): an outlet that
moved to a new domain leaves both of an article's 2012 URLs as redirects, and the one still captured whole
from 2012 may not be the one linked.

Where the archive shows no rival, the live web is asked about addresses built from the outlet's shapes (no
archive request: the search would have listed any capture of them): the found page's address in the
outlet's other sections (`section_twins`), the writer's page of a news page and the dated news page of a
writer's page (`writer_page_candidate`, `news_page_candidate`), each read once; and for an outlet with no
known writer's-page shape, the article under its writer's name in the shapes outlets commonly use
(`common_writer_page`): one holding the post's text is a rival. An address that only redirects to the found
page counts where the outlet's router is not seen sending every address there (`_same_page_by_routing`).

The search has no date window: a sibling page is often captured months after the article (it must still be
found), and the filter keeps the answer small. One query answers the approvals of a whole domain in a run
(their patterns joined in one filter), so the check costs at most one CDX query per approval and usually far
less. Where the archive cannot scan the domain without dates (a very big site), the listing of the article's
month (the outlet-month query of queries.py, usually asked already) is searched instead.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Callable, Iterator
from urllib.parse import urlsplit

from linkkeeper.repair.capture.ranking import page_key
from linkkeeper.repair.recover.idclock import IdClock, article_id
from linkkeeper.repair.recover.outlets import (MAX_SECTIONS, DomainProfile, common_writer_page_urls, id_section,
                                               registrable_domain)
from linkkeeper.repair.recover.queries import CdxQuery, QueryCache, month_query
from linkkeeper.repair.recover.scoring import (HOLDS_TEXT, CaptureCache, PostContext, RecoveryCandidate,
                                               make_candidate, verify_candidate)
from linkkeeper.text.urls import host_key, parse_dated_path, slug_words
from linkkeeper.text.words import content_words
from linkkeeper.wayback import CdxRecord

# Pages fetched per check: the best-matching hits only (a sibling URL carries the same slug).
RIVAL_FETCH = 3
# Slug words a sibling URL must end with: enough to name one story, few enough to survive a prefix.
TAIL_WORDS = 3
# Share of the post's headline words a page's own title must show to be taken for the same article (all of
# them: a related story or a live blog borrows most of a headline), and the share of the post's text it must
# hold even so.
SAME_HEADLINE = 1.0
SAME_HEADLINE_TEXT = 0.2
# For an article whose URL has no slug: pages dated this many days from it are looked at.
NEAR_DAYS = 2
# Candidates of the post's own listings (the outlet-months read already) left unfetched because an earlier one
# convinced: those whose prescore comes this close to the approved page's are fetched too (an updated version
# under a new headline, captured hours later, names the story as well as the original does).
CLOSE_PRESCORE = 0.75
CLOSE_FETCH = 2
# Patterns joined in one query's filter.
PATTERNS_PER_QUERY = 12
_SEP = r"[^a-z0-9]+"
_PRINT = re.compile(r"[?&](?:service|output|view|format|template)=print|[?&]print\b", re.IGNORECASE)
# The rival search's status filter: pages (200) and the redirects an outlet's move to new URLs left (3xx).
RIVAL_STATUSES = "statuscode:[23].."
# Earlier URLs of one article (captured only as redirects) from which it counts as published under two URLs.
EARLIER_URLS = 2
# Article ids seen under two paths in a post's listings from which an outlet counts as filing articles in
# several sections (one could be a CMS's slip).
MULTI_SECTION_IDS = 2
# A find is held too where another host of its domain has this many pages in the listings dated within this
# many days of the post: the outlet was publishing on two hosts at once (a paper's `blogs.` copies).
OTHER_HOST_PAGES = 2
OTHER_HOST_DAYS = 30


def slug_tail(url: str) -> list[str]:
    """The last words of a URL's slug (the path segment that reads most like a headline), as written."""
    best: list[str] = []
    for segment in (urlsplit(url).path or "").split("/"):
        words = re.findall(r"[a-z]+", re.sub(r"\.[a-z0-9]{2,5}$", "", segment.lower()))
        words = [w for w in words if len(w) >= 2 and w not in ("html", "htm", "php", "article", "story")]
        if len(words) > len(best):
            best = words
    return best[-TAIL_WORDS:] if len(best) >= 2 else []


def rival_pattern(best: RecoveryCandidate, post: PostContext) -> str | None:
    """A regular expression (no anchors, case ignored) that a URL of the same article would match."""
    tail = slug_tail(best.url)
    if tail:
        return _SEP.join(re.escape(word) for word in tail)
    words = post.search_words[:8]
    if len(words) < 2:
        return None
    either = "(?:" + "|".join(re.escape(w) for w in words) + ")"
    return f"{either}[^/?]*{either}"


@dataclass
class RivalCheck:
    """One approval waiting for its rival check, and what the check found."""

    post: PostContext
    best: RecoveryCandidate
    found: dict[str, RecoveryCandidate]
    profiles: dict[str, DomainProfile]
    clock: IdClock | None
    pattern: str | None = None
    rivals: list[RecoveryCandidate] = field(default_factory=list)
    note: str = ""
    fetched: int = 0
    router_ignores_sections: bool | None = None  # asked once per check (`_same_page_by_routing`)


def ids_under_two_paths(records: list[CdxRecord]) -> int:
    """How many article ids the listings show under two different paths (`/news/gta/article/1268035--x` and
    `/news/ontario/article/1268035--x`): an outlet whose CMS files one article in several sections. Print
    copies and tracking arguments are the same page, not a second path."""
    paths: dict[tuple[str, int], set[str]] = {}
    for ident, record in _with_ids(records):
        paths.setdefault(ident, set()).add(page_key(record.original))
    return sum(1 for pages in paths.values() if len(pages) >= 2)


def _with_ids(records: list[CdxRecord]) -> Iterator[tuple[tuple[str, int], CdxRecord]]:
    """The rows of article pages with an id, each with it; print copies left out."""
    for record in records:
        ident = article_id(record.original)
        if ident is not None and not _PRINT.search(record.original):
            yield ident, record


def other_listed_host(records: list[CdxRecord], url: str, when: date) -> str | None:
    """Another host of the found page's domain with pages in its listings dated (by their paths) within
    OTHER_HOST_DAYS of the post, OTHER_HOST_PAGES of them at least (`blogs.ottawacitizen.com/2012/09/27/slug/`
    beside `www.ottawacitizen.com/news/story.html?id=7283017`): the outlet was publishing on both then."""
    found = host_key(urlsplit(url).hostname or "")
    dated: Counter = Counter()
    for record in records:
        parts = urlsplit(record.original)
        host = host_key(parts.hostname or "")
        if host == found or registrable_domain(host) != registrable_domain(found):
            continue
        day = parse_dated_path(parts.path or "/")
        if day is not None and day.day_known and abs((day.date - when).days) <= OTHER_HOST_DAYS:
            dated[parts.hostname or host] += 1
    busiest = _most_first(dated)
    return busiest[0] if busiest and dated[busiest[0]] >= OTHER_HOST_PAGES else None


def paired_sections(records: list[CdxRecord], url: str) -> list[str]:
    """The found article's address (`url`) in every section its outlet's listings show filing one article
    under beside another (the ids of `ids_under_two_paths`), eight at most as for the outlet's other section
    addresses (`MAX_SECTIONS`): those paired with the found page's own section first, then the rest, each
    most often first (then by name). Empty where the URL has no section and routing id."""
    found = id_section(urlsplit(url).path or "/")
    if found is None:
        return []
    sections: dict[tuple[str, int], set[str]] = {}
    for ident, record in _with_ids(records):
        other = id_section(urlsplit(record.original).path or "/")
        if other is not None and other[2] == found[2]:
            sections.setdefault(ident, set()).add(other[0])
    paired, seen = Counter(), Counter()
    for filed in sections.values():
        if len(filed) >= 2:
            (paired if found[0] in filed else seen).update(filed - {found[0]})
    order = _most_first(paired) + [s for s in _most_first(seen) if s not in paired]
    parts = urlsplit(url)
    return [f"{parts.scheme}://{parts.netloc}{section}{found[1]}" for section in order[:MAX_SECTIONS]]


def _most_first(counts: Counter) -> list[str]:
    return [key for key, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


async def list_paired_sections(check: RivalCheck, records: list[CdxRecord], captures: CaptureCache) -> None:
    """An approval held because the outlet files one article under several sections: the found article's
    addresses in the sections its listings pair (`paired_sections`), read on the live web and listed as the
    pages the blogger may have linked (never captured). One that holds the post's text only by the outlet's
    router sending it to the found page is not listed; the search has judged any the archive listed."""
    profile = check.profiles.get(host_key(urlsplit(check.best.url).hostname or ""))
    if profile is None:
        return
    for url in paired_sections(records, check.best.url):
        if page_key(url) in check.found:
            continue
        cand = await _read_live(check, captures, url, profile, check.best.article_date, "unknown")
        if (cand.text_similarity or 0.0) >= HOLDS_TEXT and await _same_page_by_routing(check, captures, cand,
                                                                                     profile):
            continue
        cand.rival = "the article's address in a section the outlet also files articles under"
        cand.evidence["note"] = "the found article's address in a section its outlet pairs with another (never captured)"
        check.found[cand.page] = cand


def rival_query(domain: str, patterns: list[str]) -> CdxQuery:
    joined = "(?:" + "|".join(sorted(patterns)) + ")"
    return CdxQuery(domain, filters=(RIVAL_STATUSES, f"original:(?i).*{joined}.*"),
                    purpose=f"{domain} (all its hosts), any date, URLs carrying the article's slug (rival check)")


def rival_score(record: CdxRecord, best: RecoveryCandidate, post: PostContext) -> float:
    """How likely a listed page is the best page's article under another URL (higher first)."""
    words = set(content_words(re.sub(r"[^A-Za-z0-9]+", " ", urlsplit(record.original).path or "")))
    key = set(best.slug) if best.slug else set(post.text_words)
    if not key:
        return 0.0
    slug = set(slug_words(urlsplit(record.original).path or ""))
    shared = len(key & (words if best.slug else slug))
    return shared / max(1, len(key if best.slug else slug))


def same_article(cand: RecoveryCandidate, best: RecoveryCandidate) -> str | None:
    """Why a page the post's text was not (fully) read on is still the article, or None: it carries the
    article's id (a CMS numbers each article once, whatever section shows it), or it shows the article's
    headline over part of its text (a paywall or a cut-down capture)."""
    ident = article_id(cand.url)
    if ident is not None and ident == article_id(best.url):
        return "the same article id"
    if (cand.headline_match or 0.0) >= SAME_HEADLINE and (cand.text_similarity or 0.0) >= SAME_HEADLINE_TEXT:
        return "the same headline over part of the post's text"
    return None


async def check_rivals(domain: str, checks: list[RivalCheck], queries: QueryCache, captures: CaptureCache) -> None:
    """Run the rival check of every approval of one domain (see the module notes)."""
    for check in checks:
        check.pattern = rival_pattern(check.best, check.post)
        if check.pattern is None:
            check.note = "no slug or headline words to search the domain by"
    searchable = [c for c in checks if c.pattern]
    for start in range(0, len(searchable), PATTERNS_PER_QUERY):
        chunk = searchable[start:start + PATTERNS_PER_QUERY]
        query = rival_query(domain, list(dict.fromkeys(c.pattern for c in chunk)))
        records = await queries.records(query)
        scanned = query.purpose
        if not queries.answered(query):
            # The archive could not scan the whole domain without dates: each article's month instead.
            records, scanned = [], "the article's month (the domain is too big to scan without dates)"
            for check in chunk:
                month = (check.best.article_date or check.post.when).replace(day=1)
                records += await queries.records(month_query(domain, month))
        for check in chunk:
            nearby: list[CdxRecord] = []
            if not slug_tail(check.best.url):
                # The article's URL names nothing, and its sibling's slug may come from an earlier headline:
                # the pages of the domain dated within days of it whose slug shares a word with the post.
                month = (check.best.article_date or check.post.when).replace(day=1)
                nearby = [r for r in await queries.records(month_query(domain, month)) if _near(r, check)]
            await _check_one(check, records, nearby, captures, scanned)
            if not check.rivals:
                await section_twins(check, captures)


async def section_twins(check: RivalCheck, captures: CaptureCache) -> None:
    """The found page's address in the outlet's other sections (outlets.py `section_addresses`: the dated
    and the id-routed shapes of the blog's links and of the outlets file), read on the live web (no archive
    request: the search above would have listed any capture of it). An outlet that filed the article in two
    sections may serve it at both today, or send both to its new home, while the archive captured one: an
    address in another section that answers with the post's text is a rival. One that does not answer so
    says nothing (most outlets answer 404 there), and is not listed."""
    parts = urlsplit(check.best.url)
    profile = check.profiles.get(host_key(parts.hostname or ""))
    if profile is None:
        return
    for url in profile.section_addresses(check.best.url):
        if page_key(url) in check.found:
            continue  # listed by the archive: the search above has judged it
        cand = await _read_live(check, captures, url, profile, check.best.article_date,
                                "path" if parse_dated_path(urlsplit(url).path or "/") else "unknown")
        if (cand.text_similarity or 0.0) >= HOLDS_TEXT and not await _same_page_by_routing(check, captures, cand,
                                                                                         profile):
            cand.rival = "the article's address in another section answers today with the post's text"
            cand.evidence["note"] = "the found page's address in another section of the outlet (never captured)"
            check.found[cand.page] = cand
            check.rivals.append(cand)
            check.note += f"; its address in another section answers with the post's text ({url})"


def _near(record: CdxRecord, check: RivalCheck) -> bool:
    cand = make_candidate(record, check.post, check.profiles, check.clock, None)
    if cand is None or not cand.slug or cand.article_date is None or check.best.article_date is None:
        return False
    close = abs((cand.article_date - check.best.article_date).days) <= NEAR_DAYS
    return close and bool(set(cand.slug) & check.post.text_words)


async def _check_one(check: RivalCheck, records: list[CdxRecord], nearby: list[CdxRecord], captures: CaptureCache,
                     scanned: str) -> None:
    pattern = re.compile(check.pattern or "(?!)", re.IGNORECASE)
    scored: dict[str, tuple[float, CdxRecord]] = {}
    matched = [r for r in records if pattern.search(urlsplit(r.original).path or "")]
    earlier = earlier_urls(matched, check.best)
    # One earlier URL is the article's old address, unless it is the found page's own address in another
    # section (the two then redirect to a third, the outlet's later home for both).
    if len(earlier) < EARLIER_URLS:
        earlier = [r for r in earlier if other_section(r.original, check.best.url)]
    if earlier:
        for record in earlier:
            cand = moved_candidate(record, check)
            check.found.setdefault(cand.page, cand)
            check.rivals.append(check.found[cand.page])
    for record in matched + nearby:
        cand = make_candidate(record, check.post, check.profiles, check.clock, None)
        if cand is None or cand.page == check.best.page:
            continue
        known = check.found.get(cand.page)
        if known is not None and known.verified:
            # Already compared with the post: the decision counts it if it holds the text, or is the article.
            known.rival = known.rival or same_article(known, check.best)
            if known.rival and known not in check.rivals:
                check.rivals.append(known)
            continue
        score = rival_score(record, check.best, check.post)
        if cand.page not in scored or score > scored[cand.page][0]:
            scored[cand.page] = (score, record)
    hits = sorted(scored.items(), key=lambda item: (-item[1][0], item[0]))[:RIVAL_FETCH]
    chosen: list[tuple[RecoveryCandidate, str]] = []
    for page, (_score, record) in hits:
        cand = make_candidate(record, check.post, check.profiles, check.clock, None)
        if cand is not None:
            check.found[page] = cand
            chosen.append((cand, "another page of the outlet carrying the article's slug (rival check)"))
    close = sorted((c for c in check.found.values() if not c.verified and c.page != check.best.page
                    and c.prescore >= CLOSE_PRESCORE * check.best.prescore and all(c is not x for x, _ in chosen)),
                   key=lambda c: (-c.prescore, c.url))[:CLOSE_FETCH]
    chosen += [(c, "a page of the outlet's listing nearly as likely as the approved one (rival check)")
               for c in close]
    for cand, note in chosen:
        check.fetched += await verify_candidate(cand, check.post, captures)
        cand.evidence["note"] = note
        cand.rival = same_article(cand, check.best)
        if cand.rival or (cand.text_similarity or 0.0) >= HOLDS_TEXT:
            check.rivals.append(cand)
    check.note = f"{scanned}: {len(scored)} other page(s) matched; {len(chosen)} fetched (with {len(close)} " \
                 f"close candidates of the post's own listings), " \
                 f"{len(check.rivals)} hold the post's text" + \
                 (f" or redirect to it ({len(earlier)} earlier URLs)" if len(earlier) >= EARLIER_URLS else
                  " or are its address in another section, captured only as a redirect" if earlier else "")


async def writer_page_candidate(check: RivalCheck, captures: CaptureCache) -> RecoveryCandidate | None:
    """The approved article's copy on its writer's page, where the outlet files articles so too (outlets.py
    `writer_page_url`): read on the live web if it answers (no archive request: the rival search would have
    listed any capture of it, as it carries the article's slug). Returned compared with the post where the
    page answered, else unverified, for the person who decides to see where the blogger may have linked."""
    when = check.best.article_date
    return await _twin_candidate(
        check, captures, lambda profile: profile.writer_page_url(check.best.url, check.post.author, when), when,
        "where the outlet files the article under its writer's name (never captured)")


async def news_page_candidate(check: RivalCheck, captures: CaptureCache) -> RecoveryCandidate | None:
    """The other way round: the approved page is a writer's page (its path names the post's author), and
    the article's dated news URL (outlets.py `news_page_url`) is read on the live web, as above. Its day is
    the page's own date where its URL or id gives one, else the post's (or the page's first capture, if
    earlier): a clipping is posted on the day of its article or after."""
    best = check.best
    when = best.article_date
    if best.date_source not in ("path", "id"):
        when = min(d for d in (best.article_date, check.post.when) if d is not None)
    return await _twin_candidate(
        check, captures, lambda profile: profile.news_page_url(best.url, check.post.author, when), when,
        "where the outlet's dated news pages would have the article (never captured)")


async def common_writer_page(check: RivalCheck, captures: CaptureCache) -> RecoveryCandidate | None:
    """The found article (approved, or held by another rule) under its writer's name in the shapes outlets
    commonly use (outlets.py `common_writer_page_urls`), read on the live web (no archive request: the rival
    search would have listed any capture carrying the article's slug): the first that holds the post's text,
    a rival; None if none does. An address that does not answer says nothing (most outlets have no such
    page), and is not listed."""
    profile = check.profiles.get(host_key(urlsplit(check.best.url).hostname or ""))
    if profile is None:
        return None
    for url in common_writer_page_urls(check.best.url, check.post.author):
        if page_key(url) in check.found:
            continue  # listed by the archive: the search above has judged it
        cand = await _read_live(check, captures, url, profile, check.best.article_date, "unknown")
        if (cand.text_similarity or 0.0) >= HOLDS_TEXT and not await _same_page_by_routing(check, captures, cand,
                                                                                         profile):
            cand.evidence["note"] = "the article under its writer's name in a common column shape (never captured)"
            check.found[cand.page] = cand
            return cand
    return None


def shown_today(cand: RecoveryCandidate) -> str:
    """What a page built from a shape (never captured) showed on the live web, for a decision's reason."""
    if cand.evidence.get("routed"):
        return "no page of its own today: the outlet sends it to the page found"
    return "no page today" if cand.text_similarity is None else f"{cand.text_similarity:.0%} of the post's text today"


async def _twin_candidate(check: RivalCheck, captures: CaptureCache,
                          url_of: Callable[[DomainProfile], str | None], when: date | None,
                          note: str) -> RecoveryCandidate | None:
    """The page `url_of` builds (the found page's host first), read live; None where no shape builds one.
    Where it holds the text only by the outlet's router sending it to the found page (the control above),
    unread, as one that does not answer."""
    host = host_key(urlsplit(check.best.url).hostname or "")
    profiles = sorted(check.profiles.values(), key=lambda p: (p.host_key != host, p.host_key))
    for profile in profiles:
        url = url_of(profile)
        if url is None:
            continue
        if page_key(url) in check.found:
            return check.found[page_key(url)]
        cand = await _read_live(check, captures, url, profile, when, "unknown")
        if (cand.text_similarity or 0.0) >= HOLDS_TEXT and await _same_page_by_routing(check, captures, cand,
                                                                                     profile):
            # The router's way to the found page says nothing of a page of its own at that address: as
            # unknown as one that does not answer.
            cand = _built_unread(url, profile, when)
            cand.evidence["routed"] = True
        cand.evidence["note"] = note
        check.found[cand.page] = cand
        return cand
    return None


async def _read_live(check: RivalCheck, captures: CaptureCache, url: str, profile: DomainProfile,
                     when: date | None, date_source: str) -> RecoveryCandidate:
    """A page the archive never listed, its address built from a shape, compared with the post on the live
    web only (unverified where it does not answer)."""
    cand = _built_unread(url, profile, when, date_source)
    await verify_candidate(cand, check.post, captures, archive=False)
    return cand


def _built_unread(url: str, profile: DomainProfile, when: date | None, date_source: str = "unknown"
                  ) -> RecoveryCandidate:
    """A candidate for an address built from a shape, not yet read (no capture: the archive never listed it)."""
    record = CdxRecord("", "", url, "text/html", "-", "-", "-")
    return RecoveryCandidate(url, "", record, profile, when, date_source, date_source == "path",
                             slug_words(urlsplit(url).path or "/"))


async def _same_page_by_routing(check: RivalCheck, captures: CaptureCache, cand: RecoveryCandidate,
                                profile: DomainProfile) -> bool:
    """Whether a built address that answered with the post's text did so only because the outlet's router
    sends any address of the article to its one URL. Outlets that route by id (the Globe and Mail's
    `/<any section>/<slug>/article123/`) or guess from the slug (WordPress) answer every section's address
    by redirecting to the found page; so the address counts as a second page only where it answered at an
    address of its own, or where a made-up section (the control: `/linkkeeper-no-such-section/...`) does not
    reach the found page too. One control per check, on the live web."""
    at = cand.evidence.get("answered_at")
    if not at or not (page_key(at) == check.best.page or page_key(at) in check.found):
        return False
    if check.router_ignores_sections is None:
        parts = urlsplit(check.best.url)
        folders = (parts.path or "/").split("/")
        check.router_ignores_sections = False
        if len(folders) > 2:
            folders[1] = "linkkeeper-no-such-section"
            control = await _read_live(check, captures, parts._replace(path="/".join(folders)).geturl(), profile,
                                       check.best.article_date, "unknown")
            landed = control.evidence.get("answered_at")
            check.router_ignores_sections = bool(landed) and page_key(landed) == check.best.page
    return check.router_ignores_sections


def earlier_urls(records: list[CdxRecord], best: RecoveryCandidate) -> list[CdxRecord]:
    """The article's earlier URLs among rival hits: other pages captured only as redirects (no 200 of them
    among the hits) whose URL carries every word of the best page's slug, one row per page. An outlet that
    moved its articles leaves them so; a URL carrying the whole slug is the article, not a related story."""
    if len(best.slug) < 2:
        return []
    slug = set(best.slug)
    pages: dict[str, CdxRecord] = {}
    served = {page_key(r.original) for r in records if r.statuscode == "200"}
    for record in records:
        page = page_key(record.original)
        if not record.statuscode.startswith("3") or page == best.page or page in served or _PRINT.search(record.original):
            continue
        if slug <= set(slug_words(urlsplit(record.original).path or "")):
            pages.setdefault(page, record)
    return [pages[page] for page in sorted(pages)]


def other_section(url: str, best_url: str) -> bool:
    """Whether `url` is `best_url` with one folder of its path changed (`/world/2012/jul/24/slug` and
    `/environment/2012/jul/24/slug`): the same article filed in another section, not an old address of
    another shape."""
    a = [s for s in (urlsplit(url).path or "").split("/") if s]
    b = [s for s in (urlsplit(best_url).path or "").split("/") if s]
    if len(a) != len(b) or len(a) < 3 or a[-1] != b[-1]:
        return False
    return sum(x != y for x, y in zip(a[:-1], b[:-1])) == 1


def moved_candidate(record: CdxRecord, check: RivalCheck) -> RecoveryCandidate:
    """An earlier URL of the approved article, listed for the person who decides (its capture is a redirect:
    there is no text of its own to read)."""
    path = urlsplit(record.original).path or "/"
    cand = RecoveryCandidate(record.original, record.timestamp, record,
                             check.profiles.get(host_key(urlsplit(record.original).hostname or "")),
                             None, "unknown", False, slug_words(path), verified=True, confidence=0.0)
    cand.rival = f"an earlier URL of the article: captured only as a redirect ({record.statuscode})"
    cand.evidence["note"] = "an earlier URL carrying the approved page's slug (rival check)"
    return cand

