"""The recovery run: each nullified link of a range decided and stored as soon as it is done (the outlet map,
the queries, the scoring and the decision come from the modules beside this one), the recovered URL made the
replacement where it is still alive, and `linkkeeper repair` around it with its progress and summary."""

from __future__ import annotations

import asyncio
import sys
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any, Callable, Iterator
from urllib.parse import urlsplit

import click

from linkkeeper import store
from linkkeeper.check.pagetests import drift_reason
from linkkeeper.check.probe import probe
from linkkeeper.net.session import make_session, session_for, run as run_stage
from linkkeeper.repair.proposals import propose_repairs
from linkkeeper.repair.recover import spend
from linkkeeper.repair.recover.idclock import IdClock, article_id
from linkkeeper.repair.recover.outlets import (MAX_DOMAINS, OutletMap, author_twin_possible, learn_outlet_map,
                                               names_author, other_article_host, registrable_domain)
from linkkeeper.repair.recover.queries import (CdxQuery, QueryCache, headlines_query, keeps, month_query,
                                               months_between, words_filter)
from linkkeeper.repair.recover.rivals import (MULTI_SECTION_IDS, RivalCheck, check_rivals, common_writer_page,
                                              ids_under_two_paths, list_paired_sections, news_page_candidate,
                                              other_listed_host, shown_today, writer_page_candidate)
from linkkeeper.repair.recover.scoring import (HOLDS_TEXT, CaptureCache, Fetched, PostContext, RecoveryCandidate,
                                               RecoveryDecision, add_candidates, convincing, decide, held, read_page,
                                               reading_order, shows_the_article, slugless_tie, verify_candidate,
                                               verify_in_order)
from linkkeeper.settings import Settings
from linkkeeper.text.dates import parse_iso_or_none, to_iso
from linkkeeper.text.urls import host_of, parse_dated_path
from linkkeeper.wayback import ArchiveUnavailableError, CdxRecord, RateLimitedError, WaybackClient

# The first round looks this many days before the post (most articles are posted within the week) ...
NEAR_DAYS = 7
# ... in the months of captures up to this many days after it (captures follow publication).
CAPTURE_SLACK_DAYS = 3
# The look-back round also reads the month after: articles first captured weeks after they appeared.
LATE_CAPTURE_DAYS = 31
# Captures fetched per round, at most, best prescores first, until one holds the text. Six in the first round:
# `story.html?id=` pages give a month one prescore (seed 5 of the evaluation lost the sixth read at five).
VERIFY_LIMIT = 6
VERIFY_LIMIT_LOOKBACK = 2
# ... four where its leaders are slugless and tied (scoring.py `slugless_tie`; seed 9 lost the fourth at two).
VERIFY_LIMIT_LOOKBACK_TIED = 4
VERIFY_LIMIT_HEADLINE = 3
# Candidates read on the live web per round first (no archive request): only those whose live page is gone,
# or kept the post's headline but not its text, need their capture.
LIVE_LIMIT = 12
LIVE_LIMIT_HEADLINE = 8
# Posts of one domain whose headline searches share one CDX query (their filters joined).
HEADLINES_PER_QUERY = 12
CANDIDATES_KEPT = 10
# A late post's article dated by the page holding its text: the pages listed within this many days of it,
# this many of them, are read too (its own URL may be one of them).
SAME_DAY_DAYS = 2
SAME_DAY_FETCH = 3
# An outlet found publishing an article of this blog's under two URLs is taken to have done so for this long
# either side of it (a newsroom's filing habits last, and change with its CMS).
TWICE_PUBLISHED_DAYS = 365


@dataclass
class RecoveryOutcome:
    link_id: str
    post_id: str
    title: str
    state: str  # approved | proposed | unavailable | error
    reason: str
    url: str | None = None
    replacement: str | None = None
    confidence: float | None = None


@dataclass
class RecoverySummary:
    in_range: int = 0
    already_decided: int = 0
    considered: int = 0
    approved: int = 0
    proposed: int = 0
    unavailable: int = 0
    errors: int = 0
    queries_sent: int = 0
    queries_from_store: int = 0
    queries_shared: int = 0
    captures_fetched: int = 0
    live_checks: int = 0
    archive_requests: dict[str, int] = field(default_factory=dict)
    archive_by_part: dict[str, int] = field(default_factory=dict)  # CDX and replay, by part (spend.py)
    outcomes: list[RecoveryOutcome] = field(default_factory=list)

    @property
    def recovered(self) -> int:
        return self.approved + self.proposed

    def as_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "outcomes"} | {"recovered": self.recovered}


async def live_replacement(session, url: str, settings: Settings, content: str) -> tuple[str | None, dict]:
    """The URL to link if the recovered page is alive now (permanent redirects followed, and the page still
    holding the post's text), with what the probe saw."""
    ev = await probe(session, url, settings, want_body=True)
    return live_decision(url, live_answer(url, ev), ev.text, settings, content)


def live_answer(url: str, ev) -> dict:
    """What a live probe of a recovered URL saw, as the repair's evidence keeps it."""
    return {"url": url, "evidence_class": ev.evidence_class, "status": ev.status, "final_url": ev.final_url,
            "reason": ev.reason, "checked_at": ev.checked_at}


def live_decision(url: str, info: dict, text: str, settings: Settings, content: str) -> tuple[str | None, dict]:
    """live_replacement's judgement of a probe's answer (`info`) and the page's text."""
    if info["evidence_class"] not in ("alive", "moved"):
        return None, info
    drift = drift_reason(text, [content], settings.drift_threshold)
    if drift:
        return None, dict(info, drift=drift)
    return (info["final_url"] or url), info


class _Recoverer:
    """One run's recovery: the caches its posts share, and each post's search, decision and record."""

    def __init__(self, db, settings: Settings, outlet_map: OutletMap, client: WaybackClient, session,
                 summary: RecoverySummary, live_check: bool) -> None:
        self.db, self.settings, self.map = db, settings, outlet_map
        self.client, self.session, self.summary = client, session, summary
        self.queries = QueryCache(db, client)
        self.captures = CaptureCache(client, self._live_page if live_check else None)
        self.lookback = max(0, settings.recover_lookback_days)
        self.live_check = live_check
        # Every outlet-month listing of the run, by domain: what the domain shows about its URLs as a whole.
        self.listings: dict[str, dict[str, list[CdxRecord]]] = {}
        # What the live probe of each candidate read on the live web saw (its page is in self.captures): the
        # recovered URL's live check reuses it rather than asking the outlet again.
        self.live_answers: dict[str, dict] = {}
        # The dates of the articles found under two URLs of a domain, by domain: by this run, and by the runs
        # before it (an interrupted run resumes with the same rule).
        self.published_twice: dict[str, list[date]] = {}
        for domain, day in store.published_twice_marks(db):
            if (when := parse_iso_or_none(day)) is not None:
                self.published_twice.setdefault(domain, []).append(when.date())

    def note_published_twice(self, best: RecoveryCandidate, post: PostContext, context: dict) -> None:
        """Remember that the best page's domain published its article twice, in the run and in the repair's
        evidence (`context`) for the runs after it."""
        domain, when = registrable_domain(host_of(best.url)), best.article_date or post.when
        self.published_twice.setdefault(domain, []).append(when)
        context["published_twice"] = {"domain": domain, "article_date": when.isoformat()}

    def twice_near(self, best: RecoveryCandidate, post: PostContext) -> int:
        """How many articles within TWICE_PUBLISHED_DAYS of this one its domain was found publishing under two
        URLs (by this run or an earlier one)."""
        when = best.article_date or post.when
        return sum(1 for other in self.published_twice.get(registrable_domain(host_of(best.url)), [])
                   if abs((other - when).days) <= TWICE_PUBLISHED_DAYS)

    async def _live_page(self, url: str) -> Fetched | None:
        """A candidate's page as it answers today, where it still holds a page of its own (not an error, a
        redirect home, a not-found or parked page): compared with the post without asking the archive."""
        self.summary.live_checks += 1
        ev = await probe(self.session, url, self.settings, want_body=True)
        self.live_answers[url] = live_answer(url, ev)
        if ev.evidence_class not in ("alive", "moved") or not ev.markup:
            return None
        return replace(read_page(ev.markup, ev.status), url=ev.final_url or url)

    async def search(self, row: dict) -> tuple[PostContext, _PostSearch | None, RecoveryDecision]:
        """A post's search and its decision, before any rival check."""
        post = PostContext.from_row(row)
        outlet = self.map.lookup(post.outlet)
        if not post.outlet:
            return post, None, RecoveryDecision("unavailable", "the post has no Source: line")
        profiles = self.map.domains_for(outlet, post.when) if outlet else []
        if not profiles:
            return post, None, RecoveryDecision(
                "unavailable", f"no domain known for outlet {post.outlet!r}: add it to the outlets file")
        search = _PostSearch(self, post, outlet, profiles)
        await search.run()
        return post, search, self.decide(search)

    def decide(self, search: _PostSearch) -> RecoveryDecision:
        decision = decide(search.found.values(), self.settings.auto_approve_confidence)
        if decision.twice and decision.best is not None:
            self.note_published_twice(decision.best, search.post, search.context)
        return decision

    async def headline_searches(self, waiting: list[_PostSearch]) -> None:
        """The headline round of every post its dated rounds left unsettled: one CDX query per domain for
        up to HEADLINES_PER_QUERY posts, their filters joined."""
        searching = [search for search in waiting if search.headline_filter is not None]
        by_domain: dict[str, list[_PostSearch]] = {}
        for search in searching:
            for domain in search.headline_domains:
                by_domain.setdefault(domain, []).append(search)
        answers: dict[_PostSearch, list[tuple[CdxQuery, list[CdxRecord]]]] = {search: [] for search in searching}

        async def one_domain(domain: str, searches: list[_PostSearch]) -> None:
            for start in range(0, len(searches), HEADLINES_PER_QUERY):
                chunk = searches[start:start + HEADLINES_PER_QUERY]
                query = headlines_query(domain, [s.headline_filter for s in chunk])
                records = await self.queries.records(query)
                for search in chunk:
                    answers[search].append((query, records))

        with spend.spending_for(spend.HEADLINE):
            await asyncio.gather(*(one_domain(d, group) for d, group in sorted(by_domain.items())))
            await asyncio.gather(*(search.headline_round(answers[search]) for search in searching))

    async def rival_checks(self, pending: list[tuple[PostContext, _PostSearch, RecoveryDecision]]
                           ) -> list[RecoveryDecision]:
        """No automatic approval while a rival may exist: each approval's article looked for elsewhere on its
        domain (rivals.py), the approvals of one domain sharing their queries. The decisions, redone."""
        checks = [RivalCheck(post, decision.best, search.found, search.by_key, search.clock)
                  for post, search, decision in pending]
        by_domain: dict[str, list[RivalCheck]] = {}
        for check in checks:
            by_domain.setdefault(registrable_domain(host_of(check.best.url)), []).append(check)
        with spend.spending_for(spend.RIVALS):
            await asyncio.gather(*(check_rivals(domain, group, self.queries, self.captures)
                                   for domain, group in sorted(by_domain.items())))
        twice_here = [any(map(shows_the_article, check.rivals)) for check in checks]
        for check, here, (_post, search, _decision) in zip(checks, twice_here, pending):
            if here:
                self.note_published_twice(check.best, check.post, search.context)
        decisions = []
        for check, here, (post, search, decision) in zip(checks, twice_here, pending):
            search.context["rival_check"] = check.note
            if check.rivals:
                search.context["rivals"] = [c.url for c in check.rivals]
                decision = decide(search.found.values(), self.settings.auto_approve_confidence)
            elif check.pattern is None:
                # Nothing to search the domain by: a rival cannot be ruled out, so a person decides.
                decision = RecoveryDecision("proposed", f"{decision.reason}; but no rival check was possible "
                                                        f"({check.note})", decision.best)
            listed = [r for domain in search.domains for rows in self.listings.get(domain, {}).values() for r in rows]
            if decision.state == "approved" and article_id(decision.best.url) is not None and \
                    (shared := ids_under_two_paths(listed)) >= MULTI_SECTION_IDS:
                await list_paired_sections(check, listed, self.captures)
                decision = held(decision, f"the outlet files one article under several sections ({shared} "
                                          "article ids under two paths in its listings), and the section the "
                                          "blogger linked may never have been captured")
            if decision.state == "approved" and (twice := self.twice_near(decision.best, post) - here):
                # The rival search sees captured pages only: an outlet seen filing articles twice may have
                # filed this one twice too, under a URL the archive never captured.
                decision = held(decision, f"the outlet was seen publishing {twice} other article(s) within "
                                          f"{TWICE_PUBLISHED_DAYS} days under two URLs, and this article's other "
                                          "URL (the one the blogger may have linked) may never have been captured")
            if decision.state == "approved" and (host := other_article_host(search.by_key.values(), decision.best.url,
                                                                             post.when)
                                                 or other_listed_host(listed, decision.best.url, post.when)):
                decision = held(decision, f"the outlet published articles on {host} too around the post's date "
                                          "(the blog's links or the archive's listings show it), and the "
                                          "article's copy there (which the blogger may have linked) was never "
                                          "captured")
            if decision.state != "unavailable" and decision.best is check.best and \
                    author_twin_possible(post.author, decision.best.url, search.by_key.values()):
                decision = await self.writer_page_rule(check, search, decision)
            elif decision.state != "unavailable" and decision.best is check.best and \
                    names_author(urlsplit(check.best.url).path or "/", post.author):
                decision = await self.news_page_rule(check, search, decision)
            elif decision.state != "unavailable" and decision.best is check.best:
                # No writer's page known for the outlet: its column, still online, may be the one linked (and
                # its other articles of the year may have columns too); listed on a held approval as well.
                if (column := await common_writer_page(check, self.captures)) is not None:
                    self.note_published_twice(check.best, check.post, search.context)
                    decision = self._weigh_twin(column, "writer's page", search, decision, "its column holds the text")
            decisions.append(decision)
        return decisions

    async def writer_page_rule(self, check: RivalCheck, search: _PostSearch, decision: RecoveryDecision
                               ) -> RecoveryDecision:
        """The outlet files articles under their writers' names too, and the found page is not such a page:
        the writer's page (rivals.py `writer_page_candidate`) may be the one the blogger linked. Holding the
        post's text today, the two are decided between as rivals; else the approval waits for a person, the
        writer's page named where its shape is known (on a proposal made by another rule too). Where no shape
        is known, the common column shapes are tried as for an outlet with no known writer's page."""
        twin = await writer_page_candidate(check, self.captures)
        if twin is None and (twin := await common_writer_page(check, self.captures)) is not None:
            self.note_published_twice(check.best, check.post, search.context)
        where = f" ({twin.url}: {shown_today(twin)})" if twin is not None else ""
        why = (f"the outlet also files articles under their writer's name, and the writer's page{where} (which the "
               "blogger may have linked) was never captured")
        if twin is None:
            return held(decision, why)
        return self._weigh_twin(twin, "writer's page", search, decision, why)

    async def news_page_rule(self, check: RivalCheck, search: _PostSearch, decision: RecoveryDecision
                             ) -> RecoveryDecision:
        """The found page is the writer's: the outlet's dated news page of the article (rivals.py
        `news_page_candidate`) may be the one the blogger linked. Holding the post's text today, the two are
        decided between as rivals; else it is listed beside the found page, and an approval waits for a
        person: the news page was never captured, so nothing tells which one was linked. Where no address can
        be built but the blog links the outlet's dated news pages, an approval waits for a person too."""
        news = await news_page_candidate(check, self.captures)
        if news is None:
            if decision.state != "approved" or not any(
                    profile.links_news_pages(check.best.article_date or check.post.when)
                    for profile in check.profiles.values()):
                return decision
            # No address can be built (the writer's page carries an id the news page need not share, or no
            # shape of the blog's links fits), but the blog links the outlet's dated news pages: the article
            # may have had one, never captured.
            return held(decision, "the page is the writer's, and the outlet also has dated news pages (the blog "
                                  "links them), where the article may have been under an address no capture "
                                  "shows and the blogger may have linked")
        return self._weigh_twin(news, "news page", search, decision,
                                f"the page is the writer's, and the outlet's dated news page of the article "
                                f"({news.url}: {shown_today(news)}), which the blogger may have linked, was never "
                                "captured")

    def _weigh_twin(self, twin: RecoveryCandidate, page: str, search: _PostSearch, decision: RecoveryDecision,
                    why: str) -> RecoveryDecision:
        """A page built from the outlet's shapes (never captured) and read on the live web: holding the post's
        text, a rival, and the decision is made again; else listed as the `page` the blogger may have linked,
        and an approval waits for a person (`why`)."""
        if (twin.text_similarity or 0.0) >= HOLDS_TEXT:
            twin.rival = f"the {page} holds the post's text"
            return decide(search.found.values(), self.settings.auto_approve_confidence)
        twin.rival = f"the {page} the blogger may have linked"
        return held(decision, why)

    async def finish(self, post: PostContext, search: _PostSearch | None, decision: RecoveryDecision
                     ) -> RecoveryOutcome:
        """The live check of the recovered URL, then the record."""
        if search is None:
            return self._save(post, decision, {}, {"outlet": post.outlet} if post.outlet else {})
        live = None
        if decision.state != "unavailable" and self.live_check:
            url = decision.best.url
            if url in self.live_answers:  # probed when compared with the post: its page is kept
                page = await self.captures.get_live(url)
                live = live_decision(url, self.live_answers[url], page.text if page else "", self.settings,
                                     post.content)
            else:
                self.summary.live_checks += 1
                live = await live_replacement(self.session, url, self.settings, post.content)
        return self._save(post, decision, search.found, search.context, live)

    def _save(self, post: PostContext, decision: RecoveryDecision, found: dict, context: dict,
              live: tuple[str | None, dict] | None = None) -> RecoveryOutcome:
        # The chosen page first, then the pages a person would choose between (rivals), then the rest; equals
        # in the order found (the other sections' addresses come in the order of the blog's use of them).
        ranked = sorted(found.values(), key=lambda c: (c is not decision.best, c.rival is None, not c.verified,
                                                       -(c.confidence or 0.0), -c.prescore))
        kept = ranked[:CANDIDATES_KEPT]
        best = decision.best if decision.state != "unavailable" else None
        store.save_recovery_candidates(self.db, post.link_id, post.post_id, [
            {"rank": i + 1, "url": c.url, "timestamp": c.timestamp, "archive_url": c.archive_url,
             "prescore": c.prescore, "confidence": c.confidence, "verified": int(c.verified),
             "chosen": int(best is not None and c is best), "evidence": c.summary()}
            for i, c in enumerate(kept)])
        target = parse_iso_or_none(post.published)
        evidence = dict(context, method="recovered from the Wayback Machine's index (nullified link)",
                        decision=decision.reason,
                        candidates=[c.summary() for c in kept[:5]])
        repair: dict[str, Any] = {
            "link_id": post.link_id, "post_id": post.post_id, "state": decision.state,
            "reason": f"nullified ({post.nullified_reason})",
            "target_date": to_iso(target) if target else None,
            "confidence": decision.best.confidence if decision.best else 0.0,
        }
        replacement = None
        if best is not None:
            live_url, live_info = live if live else (None, None)
            replacement = live_url or best.archive_url
            captured = best.record.datetime
            evidence.update(recovered_url=best.url, text_similarity=best.text_similarity,
                            title_match=best.title_match, author_match=best.author_match,
                            date_score=best.date_score, slug_score=best.slug_score,
                            capture={"timestamp": best.record.timestamp, "original": best.record.original,
                                     "statuscode": best.record.statuscode, "mimetype": best.record.mimetype,
                                     "digest": best.record.digest},
                            replacement_kind="live" if live_url else "archive")
            if live_info:
                evidence["live_check"] = live_info
            repair.update(url=best.url, replacement=replacement,
                          capture_timestamp=best.evidence.get("memento_timestamp") or best.timestamp,
                          capture_url=best.archive_url,
                          distance_days=round(abs((captured - target).total_seconds()) / 86400, 2)
                          if captured and target else None)
            # known_url before the repair: should the run stop between the two, the next `repair` finds a
            # nullified link with a known URL and no repair, and looks its capture up the usual way.
            store.set_recovered_url(self.db, post.link_id, best.url)
        else:
            repair["url"] = post.href
        repair["evidence"] = evidence
        store.save_repair(self.db, repair)
        return RecoveryOutcome(post.link_id, post.post_id, post.title, decision.state, decision.reason,
                               best.url if best else None, replacement, repair["confidence"])


class _PostSearch:
    """One post's search, in rounds that stop as soon as a capture holds nearly all of its text: the
    outlet-months around the post's date, then those of the whole look-back, then (for an article posted or
    captured long after it appeared) one search of the domain by headline words with no date window."""

    def __init__(self, recoverer: _Recoverer, post: PostContext, outlet, profiles: list) -> None:
        self.rec, self.post = recoverer, post
        self.by_key = {p.host_key: p for p in outlet.domains.values()}
        self.domains = list(dict.fromkeys(registrable_domain(p.host) for p in profiles))
        # The search without dates covers the outlet's other domains too (a later home: guardian.co.uk ->
        # theguardian.com): an article may have been captured only there, years after it appeared.
        others = [registrable_domain(p.host) for p in outlet.domains.values()]
        self.headline_domains = list(dict.fromkeys(self.domains + others))[:MAX_DOMAINS]
        self.anchors = [a for p in outlet.domains.values() for a in p.id_anchors()]
        self.found: dict[str, RecoveryCandidate] = {}
        self.seen: list[CdxRecord] = []
        self.asked: set[str] = set()
        self.clock = IdClock()
        self.fetched = 0
        self.context: dict[str, Any] = {"outlet": post.outlet, "domains": [p.host for p in profiles],
                                        "queries": []}

    async def run(self) -> None:
        when, lookback = self.post.when, self.rec.lookback
        rounds = [((when - timedelta(days=NEAR_DAYS), when + timedelta(days=1)),
                   months_between(when - timedelta(days=NEAR_DAYS), when + timedelta(days=CAPTURE_SLACK_DAYS))),
                  ((when - timedelta(days=lookback), when + timedelta(days=1)),
                   months_between(when - timedelta(days=lookback), when + timedelta(days=LATE_CAPTURE_DAYS)))]
        limits = ((VERIFY_LIMIT, None), (VERIFY_LIMIT_LOOKBACK, VERIFY_LIMIT_LOOKBACK_TIED))
        for (window, months), (limit, tied), part in zip(rounds, limits, (spend.NEAR, spend.LOOKBACK)):
            queries = [month_query(d, m) for d in self.domains for m in months]
            with spend.spending_for(part):
                await self._round(queries, window, limit, LIVE_LIMIT, tied)
            if self._settled():
                break
        with spend.spending_for(spend.SAME_DAY):
            await self._same_day_pages()
        self._close()

    async def _same_day_pages(self) -> None:
        """A post made days after its article: the page that holds its text dates the article, and that page
        may be a copy (the writer's blog, a section page) of an article whose own URL says nothing (a
        `story.html?id=` page ranks no better than its neighbours against the post's date). The listed pages
        of the domain dated within SAME_DAY_DAYS of it are read next, a few, best first by that date."""
        holders = [c for c in self.found.values() if convincing(c) and c.article_date is not None]
        if not holders:
            return
        holder = max(holders, key=lambda c: (c.confidence or 0.0, c.url))
        day = holder.article_date
        if abs((day - self.post.when).days) <= NEAR_DAYS:
            return
        anchored = replace(self.post, when=day)
        near: dict[str, RecoveryCandidate] = {}
        add_candidates(near, self.seen, anchored, self.by_key, self.clock,
                       (day - timedelta(days=SAME_DAY_DAYS), day + timedelta(days=SAME_DAY_DAYS)))
        fresh = [c for c in reading_order(near.values(), anchored)
                 if c.page != holder.page and not (c.page in self.found and self.found[c.page].verified)]
        for cand in fresh[:SAME_DAY_FETCH]:
            self.found[cand.page] = cand
            cand.evidence["note"] = f"a page dated within {SAME_DAY_DAYS} days of the page holding the post's text"
        self.fetched += sum(await asyncio.gather(*(verify_candidate(c, self.post, self.rec.captures)
                                                   for c in fresh[:SAME_DAY_FETCH])))

    @property
    def headline_filter(self) -> str | None:
        """The filter of this post's headline search, when its dated rounds found nothing convincing."""
        return None if self._settled() else words_filter(self.post.search_words)

    async def headline_round(self, answers: list[tuple[CdxQuery, list[CdxRecord]]]) -> None:
        """The search without a date window, on the rows of the shared headline queries of its domains (the
        post's first, then the outlet's other ones) that this post's own filter keeps, ranked with everything
        the dated rounds listed: an article whose URL names nothing (`story.html?id=`) is found only there."""
        mine = self.headline_filter
        if mine is None:
            return
        self.context["queries"] += [query.purpose for query, _ in answers]
        self.seen += [r for _, records in answers for r in records if keeps(mine, r)]
        await self._consider(None, VERIFY_LIMIT_HEADLINE, LIVE_LIMIT_HEADLINE)
        self._close()

    def _close(self) -> None:
        self.context["candidates_seen"] = len(self.found)
        self.context["captures_fetched"] = self.fetched

    async def _round(self, queries: list[CdxQuery], window, limit: int, live_limit: int, tied: int | None) -> None:
        fresh = [q for q in queries if q.key not in self.asked]
        if not fresh:
            return
        self.asked.update(q.key for q in fresh)
        self.context["queries"] += [q.purpose for q in fresh]
        for query, records in zip(fresh, await asyncio.gather(*(self.rec.queries.records(q) for q in fresh))):
            self.seen += records
            if query.from_ is not None:
                self.rec.listings.setdefault(query.url, {})[query.key] = records
        await self._consider(window, limit, live_limit, tied)

    async def _consider(self, window, limit: int, live_limit: int, tied_limit: int | None = None) -> None:
        self._learn_clock()
        add_candidates(self.found, self.seen, self.post, self.by_key, self.clock, window)
        if tied_limit is not None and slugless_tie(self.found.values(), self.post):
            limit = max(limit, tied_limit)
        fetched = await verify_in_order(self.found, self.post, self.rec.captures, limit, live_limit=live_limit)
        self.fetched += fetched

    def _learn_clock(self) -> None:
        clock = IdClock()
        for url, when in self.anchors:
            clock.observe(url, when)
        for record in self.seen:
            dated = parse_dated_path(urlsplit(record.original).path or "/")
            clock.observe(record.original, dated.date if dated and dated.day_known else
                          (record.datetime.date() if record.datetime else None))
        self.clock = clock

    def _settled(self) -> bool:
        return any(convincing(c) for c in self.found.values())


async def recover_nullified(db, settings: Settings, *, date_from: str | None = None, date_to: str | None = None,
                            session=None, client: WaybackClient | None = None, outlet_map: OutletMap | None = None,
                            on_result: Callable[[RecoveryOutcome], None] | None = None, concurrency: int = 4,
                            live_check: bool = True, limit: int | None = None,
                            live_session=None) -> RecoverySummary:
    """Recover the nullified Original Article links of posts in [date_from, date_to] that have no repair yet,
    each decided and stored as soon as it is done (an interrupted run resumes with the rest, and the CDX
    queries it made come from recovery_queries). `limit` stops after that many links. The live checks use
    `live_session`, else a session of their own that trusts no archive endpoint."""
    summary = RecoverySummary()
    summary.in_range, summary.already_decided = store.count_nullified_links(db, date_from=date_from, date_to=date_to)
    rows = list(store.nullified_links_to_recover(db, date_from=date_from, date_to=date_to))[:limit]
    summary.considered = len(rows)
    if not rows:
        return summary
    outlet_map = outlet_map or learn_outlet_map(db, settings)

    async def run(session, live) -> None:
        wayback = client or WaybackClient(session, settings)
        before = Counter(wayback.requests)
        recoverer = _Recoverer(db, settings, outlet_map, wayback, live, summary, live_check)
        queue = iter(rows)
        pending: list[tuple[PostContext, _PostSearch, RecoveryDecision]] = []

        def record(outcome: RecoveryOutcome) -> None:
            summary.outcomes.append(outcome)
            if outcome.state == "error":
                summary.errors += 1
            else:
                setattr(summary, outcome.state, getattr(summary, outcome.state) + 1)
            if on_result:
                on_result(outcome)

        waiting: list[tuple[dict, PostContext, _PostSearch]] = []

        async def settle(post: PostContext, search: _PostSearch | None, decision: RecoveryDecision) -> None:
            if decision.state == "approved":
                pending.append((post, search, decision))  # decided after the rival check
                return
            record(await recoverer.finish(post, search, decision))

        async def worker() -> None:
            for row in queue:
                try:
                    post, search, decision = await recoverer.search(row)
                    if search is not None and search.headline_filter is not None:
                        waiting.append((row, post, search))  # the headline round, shared by the domain's posts
                        continue
                    await settle(post, search, decision)
                except (ArchiveUnavailableError, RateLimitedError) as exc:
                    record(_failed(row, exc))

        async def headlines() -> None:
            try:
                await recoverer.headline_searches([search for _, _, search in waiting])
            except (ArchiveUnavailableError, RateLimitedError) as exc:
                for row, _, _ in waiting:
                    record(_failed(row, exc))
                return
            for row, post, search in waiting:
                try:
                    await settle(post, search, recoverer.decide(search))
                except (ArchiveUnavailableError, RateLimitedError) as exc:
                    record(_failed(row, exc))

        async def approvals() -> None:
            try:
                decisions = await recoverer.rival_checks(pending)
            except (ArchiveUnavailableError, RateLimitedError) as exc:
                for post, _search, _decision in pending:
                    record(_failed({"link_id": post.link_id, "post_id": post.post_id, "title": post.title}, exc))
                return
            for (post, search, _old), decision in zip(pending, decisions):
                record(await recoverer.finish(post, search, decision))

        try:
            await asyncio.gather(*(worker() for _ in range(max(1, min(concurrency, len(rows))))))
            await headlines()
            await approvals()
        finally:
            summary.queries_sent = recoverer.queries.sent
            summary.captures_fetched = recoverer.captures.archive_fetches
            summary.archive_by_part = spend.by_part(recoverer.queries.spent, recoverer.captures.spent)
            summary.queries_from_store = recoverer.queries.from_store
            summary.queries_shared = recoverer.queries.shared
            summary.archive_requests = {k: wayback.requests[k] - before[k] for k in wayback.requests
                                        if wayback.requests[k] - before[k]}

    async with session_for(settings, session) as shared:
        if live_session is not None or not live_check:
            await run(shared, live_session or shared)
            return summary
        # The live check probes a page the archive's index named: a link like any other, so its session lets no
        # archive endpoint through the address guard (the shared one does, for the archive client).
        async with make_session(settings, trust_archive=False) as live:
            await run(shared, live)
    return summary


def _failed(row: dict, exc: Exception) -> RecoveryOutcome:
    """The archive failed the post's search: nothing is stored, so the next run tries the link again."""
    return RecoveryOutcome(row["link_id"], row["post_id"], row.get("title") or "", "error",
                           f"{type(exc).__name__}: {exc}")


# ═══════════════════════════════════════ `linkkeeper repair`: the bulk run ═══════════════════════════════════════


@contextmanager
def _progress(total: int, label: str, echo: Callable[[str], None], interactive: bool) -> Iterator[Callable[[str], None]]:
    """A progress bar on a terminal; elsewhere (logs, CI) one plain line per link."""
    if interactive and total:
        with click.progressbar(length=total, label=label, show_pos=True) as bar:
            yield lambda _line: bar.update(1)
        return
    done = 0

    def tick(line: str) -> None:
        nonlocal done
        done += 1
        echo(f"{label} {done}/{total}: {line}")

    yield tick


def run_repair_command(db, settings: Settings, *, date_from: str | None = None, date_to: str | None = None,
                       recover: bool = True, echo: Callable[[str], None] = print,
                       interactive: bool | None = None) -> dict:
    """`linkkeeper repair`: dead links first (repair.propose_repairs), then the nullified links of the range
    recovered from the archive's index; a progress bar or plain lines, and a closing summary."""
    interactive = sys.stdout.isatty() if interactive is None else interactive
    outlet_map = learn_outlet_map(db, settings) if recover else None  # a bad outlets file stops the run early

    async def main():
        async with make_session(settings) as session:
            # One client for both stages: one CDX rate limit for the whole run.
            client = WaybackClient(session, settings)
            dead_total = sum(1 for _ in store.links_needing_repair(db, date_from=date_from, date_to=date_to))
            with _progress(dead_total, "dead links", echo, interactive) as tick:
                dead = await propose_repairs(db, settings, date_from=date_from, date_to=date_to, session=session,
                                             client=client, on_result=lambda r: tick(f"{r['state']} {r['url']}"))
            recovered = None
            if recover:
                todo = sum(1 for _ in store.nullified_links_to_recover(db, date_from=date_from, date_to=date_to))
                with _progress(todo, "nullified links", echo, interactive) as tick:
                    recovered = await recover_nullified(
                        db, settings, date_from=date_from, date_to=date_to, session=session, client=client,
                        outlet_map=outlet_map,
                        on_result=lambda o: tick(f"{o.state} {o.url or '-'} ({o.title[:60]})"))
            return dead, recovered

    dead, recovered = run_stage(main())
    requests = sum(dead.archive_requests.values())
    echo(f"{dead.considered} links needed repair: {dead.approved} approved automatically, "
         f"{dead.proposed - dead.approved} for review, {dead.unavailable} with no usable capture "
         f"({requests} archive requests)")
    result = {"dead": dead.__dict__, "recovery": None}
    if recovered is not None:
        r = recovered
        echo(f"nullified links in range: {r.in_range} ({r.already_decided} decided before this run); "
             f"recovered {r.recovered} ({r.approved} automatically, {r.proposed} for review), "
             f"{r.unavailable} unrecoverable" + (f", {r.errors} failed (retried next run)" if r.errors else ""))
        echo(f"archive requests used: {r.archive_requests.get('cdx', 0)} CDX ({r.queries_sent} queries, "
             f"{r.queries_from_store} answered from earlier runs), {r.archive_requests.get('replay', 0)} replay; "
             f"{r.live_checks} live checks")
        if r.archive_by_part:
            echo("archive requests by part of the search: "
                 + ", ".join(f"{part} {n}" for part, n in r.archive_by_part.items()))
        result["recovery"] = r.as_dict()
    return result
