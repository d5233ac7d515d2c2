"""Repairs: for each dead Original Article link (and each nullified one whose URL is known), choose the
Wayback Machine capture closest to the post's date, verify it against the text the post reproduces, and
store a proposal with its evidence and confidence. Proposals at or above `auto_approve_confidence` are
approved; the rest wait for the curator (`linkkeeper approve` / `reject`).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable

from linkkeeper import store
from linkkeeper.archive import ArchiveError, BlockedSiteError, NoMementoError, WaybackClient
from linkkeeper.http import make_session
from linkkeeper.settings import Settings
from linkkeeper.similarity import containment, page_text, post_lead_text

# Below this many words a post reproduces too little of the article to compare texts.
MIN_WORDS_TO_COMPARE = 20
# Confidence when the capture is a 200 page but there is no text to compare it with.
UNVERIFIED_CONFIDENCE = 0.6


@dataclass
class RepairSummary:
    considered: int = 0
    proposed: int = 0
    approved: int = 0
    unavailable: int = 0
    archive_requests: dict[str, int] = field(default_factory=dict)


def target_date(published: str | None) -> datetime:
    """The date a replacement should be closest to: the post's publication time (UTC)."""
    if published:
        try:
            when = datetime.fromisoformat(published.replace("Z", "+00:00"))
            return when.astimezone(timezone.utc) if when.tzinfo else when.replace(tzinfo=timezone.utc)
        except ValueError:
            pass
    return datetime.now(timezone.utc)


def score(post_text: str, capture_text: str, distance_days: float) -> tuple[float, dict]:
    """Confidence in 0..1 that a capture is the article the post reproduces, with the evidence for it."""
    evidence: dict = {"distance_days": round(distance_days, 2)}
    if len(post_text.split()) >= MIN_WORDS_TO_COMPARE:
        similarity = containment(post_text, capture_text)
        evidence["text_similarity"] = round(similarity, 3)
        confidence = similarity
    else:
        evidence["text_similarity"] = None
        evidence["note"] = "the post reproduces too little text to compare"
        confidence = UNVERIFIED_CONFIDENCE
    if distance_days > 365:
        # Far from the post's date the page may have changed (or be another article at the same URL).
        confidence *= 0.8
    return round(confidence, 3), evidence


async def repair_one(client: WaybackClient, row: dict, settings: Settings) -> dict:
    url = row["url"]
    when = target_date(row["published"])
    reason = f"nullified ({row['nullified_reason']})" if row["nullified_reason"] else \
        f"dead ({row['error_class'] or row['status']})"
    base = {"link_id": row["link_id"], "post_id": row["post_id"], "url": url, "reason": reason,
            "target_date": when.strftime("%Y-%m-%dT%H:%M:%SZ")}
    try:
        record = await client.closest_good_capture(url, when)
    except BlockedSiteError as exc:
        return dict(base, state="unavailable", confidence=0.0, evidence={"error": f"excluded from the archive: {exc}"})
    except ArchiveError as exc:
        return dict(base, state="unavailable", confidence=0.0, evidence={"error": f"{type(exc).__name__}: {exc}"})
    if record is None:
        return dict(base, state="unavailable", confidence=0.0, evidence={"error": "no 200 capture in the Wayback Machine"})
    distance = abs((record.datetime - when).total_seconds()) / 86400 if record.datetime else 0.0
    evidence = {"capture": {"timestamp": record.timestamp, "original": record.original,
                            "statuscode": record.statuscode, "mimetype": record.mimetype,
                            "digest": record.digest}}
    try:
        memento = await client.get_memento(record.original, record.timestamp, raw=True)
        capture_text = page_text(memento.body or b"")
        evidence["memento_status"] = memento.status
    except (NoMementoError, ArchiveError) as exc:
        capture_text = ""
        evidence["memento_error"] = f"{type(exc).__name__}: {exc}"
    confidence, scored = score(post_lead_text(row["content"] or ""), capture_text, distance)
    evidence.update(scored)
    state = "approved" if confidence >= settings.auto_approve_confidence else "proposed"
    return dict(base, replacement=record.archive_url, capture_timestamp=record.timestamp,
                capture_url=record.archive_url, distance_days=round(distance, 2), confidence=confidence,
                evidence=evidence, state=state)


async def propose_repairs(db, settings: Settings, *, date_from: str | None = None, date_to: str | None = None,
                          on_result: Callable[[dict], None] | None = None,
                          session=None) -> RepairSummary:
    """Look up every link needing repair (the archive client's rate limits pace the run) and store each
    proposal as soon as it is made, so an interrupted run resumes with the links still to do."""
    summary = RepairSummary()
    rows = list(store.links_needing_repair(db, date_from=date_from, date_to=date_to))
    summary.considered = len(rows)

    async def run(session) -> None:
        client = WaybackClient(session, settings)
        queue = iter(rows)

        async def worker() -> None:
            for row in queue:
                repair = await repair_one(client, row, settings)
                store.save_repair(db, repair)
                if repair["state"] == "unavailable":
                    summary.unavailable += 1
                else:
                    summary.proposed += 1
                    summary.approved += repair["state"] == "approved"
                if on_result:
                    on_result(repair)

        await asyncio.gather(*(worker() for _ in range(min(8, max(1, len(rows))))))
        summary.archive_requests = dict(client.requests)

    if session is not None:
        await run(session)
    else:
        async with make_session(settings) as own:
            await run(own)
    return summary
