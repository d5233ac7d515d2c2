"""Repairs: for each dead Original Article link (and each nullified one whose URL is known, and each link to a
Wayback capture that no longer plays), find the capture nearest the article's date that verifies against the
text the post reproduces (repair.capture), and store a proposal with its evidence and confidence. Proposals at or
above `auto_approve_confidence` are approved; the rest wait for the curator (`linkkeeper approve` / `reject`).

Confidence is the share of the post's text the capture holds (similarity.containment), times 0.8 when the
capture is more than a year from the target date and holds less than 90% of that text; a capture of a post
too short to compare gets UNVERIFIED_CONFIDENCE and never approves itself.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable

from linkkeeper import store
from linkkeeper.check import verdict
from linkkeeper.wayback import (ArchiveError, ArchiveQueryError, WaybackClient, format_timestamp, is_wayback_url,
                                parse_archive_location, public_archive_url)
from linkkeeper.net.session import session_for
from linkkeeper.settings import Settings
from linkkeeper.text.similarity import post_lead_text
from linkkeeper.repair.capture.ranking import page_key
from linkkeeper.repair.capture import Finding, LookupCache, SnapshotFinder, Want, target_date, verify_capture
from linkkeeper.text.dates import parse_iso_or_none, to_iso

# Confidence when the capture is a 200 page but there is no text to compare it with.
UNVERIFIED_CONFIDENCE = 0.6
# How far a capture may be from the target date before the page may have changed (or be another article).
FAR_DAYS = 365
FAR_FACTOR = 0.8
# A capture holding this much of the post's text is the article whatever its date.
SAME_TEXT = 0.9
WORKERS = 8


@dataclass
class RepairSummary:
    considered: int = 0
    proposed: int = 0
    approved: int = 0
    unavailable: int = 0
    archive_requests: dict[str, int] = field(default_factory=dict)
    archive_links_checked: int = 0
    archive_links_dead: int = 0
    bulk_queries: int = 0  # CDX prefix queries planned (each answering several links)
    cache_hits: int = 0  # archive answers taken from archive_lookups instead of asked again
    pauses: dict[str, int] = field(default_factory=dict)  # 429s that paused an endpoint

    @property
    def requests(self) -> int:
        return sum(self.archive_requests.values())


def score(similarity: float | None, distance_days: float) -> tuple[float, dict]:
    """Confidence in 0..1 that a capture is the article the post reproduces, with the evidence for it."""
    evidence: dict = {"distance_days": round(distance_days, 2), "text_similarity": similarity}
    if similarity is None:
        evidence["note"] = "the post reproduces too little text to compare"
        confidence = UNVERIFIED_CONFIDENCE
    else:
        confidence = similarity
    if distance_days > FAR_DAYS and (similarity is None or similarity < SAME_TEXT):
        # Far from the article's date the page may have changed, unless it still holds the post's text.
        confidence *= FAR_FACTOR
    return round(confidence, 3), evidence


def want_for(row: dict) -> Want:
    """What to look for, for one row of store.links_needing_repair."""
    url = row["url"]
    # Stored at ingest; posts from a database made before lead_text existed fall back to parsing.
    post_text = row.get("lead_text") or post_lead_text(row.get("content") or "")
    located = parse_archive_location(url) if is_wayback_url(url) else None
    if located:
        # A capture the post links that no longer plays: another capture of the same page, nearest that one.
        timestamp, _mode, original = located
        padded = timestamp + "00000101000000"[len(timestamp):]
        return Want(original, target_date(original, row.get("published"), archive_timestamp=timestamp), post_text,
                    frozenset({padded, timestamp}))
    # A drifted page holds another article since its first drifted check (at the latest): only earlier captures.
    return Want(url, target_date(url, row.get("published")), post_text,
                before=parse_iso_or_none(row.get("drifted_since")))


def _reason(row: dict) -> str:
    if row.get("nullified_reason"):
        return f"nullified ({row['nullified_reason']})"
    if is_wayback_url(row["url"]):
        return f"archive link no longer plays ({row.get('error_class') or row.get('status')})"
    if row.get("verdict") == "drifted":
        return "drifted (the page no longer holds the article the post cites)"
    return f"{row.get('verdict') or 'dead'} ({row.get('error_class') or row.get('status')})"


def build_repair(row: dict, want: Want, finding: Finding, settings: Settings) -> dict:
    """The repairs row for one link, from what the finder found."""
    base = {"link_id": row["link_id"], "post_id": row["post_id"], "url": row["url"], "reason": _reason(row),
            "target_date": to_iso(want.target.when)}
    evidence: dict = {"target": {"date": base["target_date"], "source": want.target.source},
                      "lookup": finding.path, "rejected": finding.rejected}
    choice = finding.choice
    if choice is None:
        evidence["error"] = finding.error
        if finding.transient:
            evidence["retry"] = "the archive failed: nothing was cached, so the next lookup of this link asks again"
        return dict(base, state="unavailable", confidence=0.0, evidence=evidence)
    captured = choice.datetime or want.target.when
    distance = abs((captured - want.target.when).total_seconds()) / 86400
    confidence, scored = score(choice.text_similarity, distance)
    evidence.update(scored)
    evidence["capture"] = {"timestamp": choice.timestamp, "original": choice.original, "archive": choice.archive,
                           "statuscode": "200", "mimetype": choice.mimetype, "digest": choice.digest,
                           "source": choice.source, "revisited": choice.revisited}
    if not choice.verified:
        evidence["note"] = "no capture holds the post's text; the nearest 200 page with the most of it, for review"
    state = "approved" if choice.verified and confidence >= settings.auto_approve_confidence else "proposed"
    if state == "approved" and page_key(choice.original) != page_key(want.url):
        # A capture of another URL than the dead one (an other archive's memento, a revisit filed elsewhere):
        # the outlet may carry the text under both, and nothing says which the post cites. A person decides.
        state = "proposed"
        evidence["note"] = f"the capture is of {choice.original}, not of the linked URL: proposed, never approved"
    return dict(base, replacement=choice.archive_url, capture_timestamp=choice.timestamp,
                capture_url=choice.archive_url, distance_days=round(distance, 2), confidence=confidence,
                evidence=evidence, state=state)


async def check_archive_links(db, finder: SnapshotFinder, settings: Settings, *, date_from: str | None = None,
                              date_to: str | None = None) -> tuple[int, int]:
    """Replay every Original Article link that is itself a Wayback capture (through the archive client, so
    within its rate limit; `check` leaves them alone) and store its verdict: a capture that no longer plays -
    never archived, excluded, a captured error or redirect, a soft 404 - is dead, and repaired like a dead
    link. Returns (checked, dead)."""
    policy = verdict.Policy.from_settings(settings)
    checked = dead = 0
    for url in list(store.archive_links_to_check(db, date_from=date_from, date_to=date_to)):
        timestamp, _mode, original = parse_archive_location(url)  # type: ignore[misc]
        try:
            view = await finder.lookups.memento(original, timestamp)
        except ArchiveQueryError:
            raise  # a request of ours the archive would refuse: a bug to surface, not a dead capture
        except ArchiveError as exc:  # the archive is down or rate limited: that says nothing about the capture
            view = {"error": "transient", "message": f"{type(exc).__name__}: {exc}"}
        judged = verify_capture(view, "", settings.min_text_similarity)
        served = view.get("timestamp")
        if judged.ok:
            same = bool(served) and served.startswith(format_timestamp(timestamp)[:len(timestamp)])
            evidence_class, error_class = ("alive" if same else "redirected"), None
        elif judged.kind == "transient":
            evidence_class, error_class = "transient", "archive_unavailable"
        else:
            evidence_class = "soft-404" if judged.kind in ("soft-404", "paywall") else "dead"
            error_class = f"archive_{(judged.kind or 'error').replace('-', '_')}"
        now = datetime.now(timezone.utc)
        state = verdict.decide(evidence_class, judged.reason, store.url_state(db, url), now, policy,
                               confirmed_now=True)  # the archive's answer does not flicker like a live site's
        attempt = {"url": url, "checked_at": to_iso(now), "method": "GET",
                   "status": view.get("status"), "redirect_chain": [], "error_class": error_class,
                   "final_url": public_archive_url(served, view.get("original") or original) if served else None,
                   "error": judged.reason, "elapsed_ms": 0, "verdict": state["verdict"],
                   "evidence_class": evidence_class, "reason": judged.reason, "title": view.get("title"),
                   "attempts": 1}
        store.record_check(db, [attempt], state)
        checked += 1
        dead += state["verdict"] in store.BROKEN_VERDICTS
    return checked, dead


async def propose_repairs(db, settings: Settings, *, date_from: str | None = None, date_to: str | None = None,
                          on_result: Callable[[dict], None] | None = None, session=None,
                          client: WaybackClient | None = None, retry: bool = False) -> RepairSummary:
    """Replay the archive links in posts, then look up every link needing repair (with `retry`, also those
    whose earlier lookup found nothing) and store each proposal as soon as it is made, so an interrupted run
    resumes with the links still to do. The archive client's rate limits pace the run; every answer is kept in
    archive_lookups, so a second run over the same links asks the archive nothing."""
    summary = RepairSummary()

    async def run(session) -> None:
        wayback = client or WaybackClient(session, settings)
        before, paused = dict(wayback.requests), dict(wayback.pauses)
        cache = LookupCache(db, settings.archive_negative_ttl_days)
        finder = SnapshotFinder(wayback, settings, cache)
        summary.archive_links_checked, summary.archive_links_dead = await check_archive_links(
            db, finder, settings, date_from=date_from, date_to=date_to)
        rows = list(store.links_needing_repair(db, date_from=date_from, date_to=date_to, retry=retry))
        summary.considered = len(rows)
        prepared = [(row, want_for(row)) for row in rows]
        summary.bulk_queries = finder.plan(want for _row, want in prepared)
        queue = iter(prepared)

        async def worker() -> None:
            for row, want in queue:
                repair = build_repair(row, want, await finder.find(want), settings)
                store.save_repair(db, repair)
                if repair["state"] == "unavailable":
                    summary.unavailable += 1
                else:
                    summary.proposed += 1
                    summary.approved += repair["state"] == "approved"
                if on_result:
                    on_result(repair)

        await asyncio.gather(*(worker() for _ in range(min(WORKERS, max(1, len(prepared))))))
        summary.archive_requests = {k: v - before.get(k, 0) for k, v in wayback.requests.items()
                                    if v - before.get(k, 0)}
        summary.pauses = {k: v - paused.get(k, 0) for k, v in wayback.pauses.items() if v - paused.get(k, 0)}
        summary.cache_hits = cache.hits

    async with session_for(settings, client.session if client is not None else session) as shared:
        await run(shared)
    return summary
