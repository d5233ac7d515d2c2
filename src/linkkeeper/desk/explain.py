"""The plain words the report and the review page use for the same things, so they say them alike: what a
replacement is ("capture of 2011-10-04 14:02"), why a repair was proposed ("100% of the post's text found in
the capture; 1 day after the post"), how far a capture is from the date it was meant to be near, and which
date that was (the post's, or the article's own date in its URL), and what a note left by linkkeeper means;
whether a curator's "not dead" mark still holds; and a CSV cell a spreadsheet cannot run. Pure, no I/O.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from linkkeeper.check.verdict import signature
from linkkeeper.text.dates import parse_iso_or_none
from linkkeeper.wayback import timestamp_to_datetime

# The date a capture was meant to be near (repair/capture/ranking.Target.source), as the curator reads it.
TARGET_NAMES = {"post": "the post", "url": "the article's date in its URL",
                "archive-link": "the capture the post linked", "now": "the day it was looked up"}
AUTO_NOTE = "approved automatically"  # how store.save_repair's note for an automatic approval begins


def capture_label(timestamp: str | None) -> str:
    """How a replacement is named to the curator: the capture's date, or a live page (no timestamp)."""
    if timestamp and len(timestamp) == 14 and timestamp.isdigit():
        return f"capture of {timestamp[:4]}-{timestamp[4:6]}-{timestamp[6:8]} {timestamp[8:10]}:{timestamp[10:12]}"
    return "live page"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def distance_words(captured: datetime | None, target: datetime | None, source: str | None) -> str | None:
    """How far a capture is from its target date, and which date that is: "1 day after the post", "2 days
    after the article's date in its URL", "3 hours before the post"."""
    if captured is None or target is None:
        return None
    seconds = (captured - target).total_seconds()
    side = "after" if seconds >= 0 else "before"
    hours = abs(seconds) / 3600
    if hours < 1:
        amount = "less than an hour"
    elif hours < 24:
        amount = _plural(round(hours), "hour")
    else:
        amount = _plural(round(hours / 24), "day")
    return f"{amount} {side} {TARGET_NAMES.get(source or 'post', 'the post')}"


def target_source(evidence: dict | None) -> str:
    target = (evidence or {}).get("target") or {}
    return target.get("source") or "post"


def repair_distance(row: dict) -> str | None:
    """The distance of a repair's capture from its target (a repairs row, or a report row with the repair's
    columns), or None when there is no capture or no target date."""
    captured = timestamp_to_datetime(row.get("capture_timestamp")) if row.get("capture_timestamp") else None
    target = parse_iso_or_none(row.get("target_date"))
    evidence = row.get("evidence") if "evidence" in row else row.get("repair_evidence")
    if captured is not None and target is not None:
        return distance_words(captured, target, target_source(evidence))
    if row.get("distance_days") is not None:  # a repair made before target dates were kept
        days = round(float(row["distance_days"]))
        return f"{_plural(days, 'day')} from {TARGET_NAMES.get(target_source(evidence), 'the post')}"
    return None


def repair_why(row: dict) -> str:
    """Why a repair proposes its replacement, in plain words (empty when there is none)."""
    evidence = (row.get("evidence") if "evidence" in row else row.get("repair_evidence")) or {}
    if not row.get("replacement"):
        return ""
    bits = []
    if evidence.get("replacement_kind") == "live":
        bits.append("the article is still online at this address")
    similarity = evidence.get("text_similarity")
    if similarity is not None:
        where = "the page" if evidence.get("replacement_kind") == "live" else "the capture"
        bits.append(f"{similarity:.0%} of the post's text found in {where}")
    if evidence.get("note"):
        bits.append(evidence["note"])
    if evidence.get("replacement_kind") != "live" and (distance := repair_distance(row)):
        bits.append(distance)
    if evidence.get("memento_error"):
        bits.append(f"capture not read: {evidence['memento_error']}")
    edit = evidence.get("curator_edit") or {}
    if edit and not edit.get("ok", True):
        bits.append(f"saved by the curator although {edit.get('reason') or 'a check failed'}")
    return "; ".join(bits)


def other_pages(evidence: dict | None) -> list[dict]:
    """The pages a recovered link's proposal lists beside the one proposed, as the curator chooses among them:
    a second page holding the post's text, or an address the blogger may have linked (another section, the
    writer's page; recover/rivals.py), each with what it showed and the URL to try in its place (the capture
    read, else the page). The other candidates, pages holding little of the text, are left out."""
    chosen = (evidence or {}).get("recovered_url")
    out = []
    for cand in (evidence or {}).get("candidates") or []:
        share = cand.get("text_similarity")
        if cand.get("url") == chosen or not (cand.get("rival") or (share or 0.0) >= 0.5):
            continue
        if share is None:
            said = "never captured, and no page there today" if cand.get("verified") is False else "not read"
        else:
            said = f"{share:.0%} of the post's text, in " + ("the page today" if cand.get("read") == "the live page"
                                                            else "its capture")
        use = cand.get("archive_url") if share is not None and cand.get("read") != "the live page" else cand["url"]
        out.append({"url": cand["url"], "use": use or cand["url"], "said": said, "why": cand.get("rival") or ""})
    return out


def note_words(note: str | None) -> str | None:
    """A repair's note as the curator reads it: linkkeeper's own note for an automatic approval names a
    setting, so it is said in words; a curator's note is shown as written."""
    if note and note.startswith(AUTO_NOTE):
        return "approved automatically: sure enough on its own"
    return note


def mark_active(row: dict) -> bool:
    """A "not dead" mark counts while the URL fails the way it did when the curator marked it."""
    if row.get("mark") != "not-dead" or not row.get("mark_signature"):
        return False
    return row["mark_signature"] == signature(row.get("evidence_class") or row.get("verdict") or "",
                                              row.get("status"), row.get("error_class"))


def csv_safe(value: Any) -> Any:
    """Keep a spreadsheet from running a cell as a formula (CSV injection): prefix a quote."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
