"""The one queue of everything that needs a person (store.attention_rows): repairs waiting for a decision,
repairs the archive could not make, nullified links no URL was found for, and live links whose page no
longer holds the post's text; each with what is known of it and why it waits, in the same words in the
review page and the report (desk/explain.py).

Order: proposed repairs first, highest impact first (decisions.impact); then links with nothing found,
longest failing first; then drifted links; links the curator put off ("later") go to the end, in the order
they were put off.
"""

from __future__ import annotations

from datetime import datetime
from typing import Iterable

from linkkeeper import store
from linkkeeper.desk.decisions import days_failing, impact
from linkkeeper.desk.explain import capture_label, mark_active, other_pages, repair_why
from linkkeeper.text.similarity import post_lead_text
from linkkeeper.text.urls import host_key

# The kinds of item, in queue order, with how the curator reads them (also the state filter's choices).
KINDS = {"proposed": "replacement proposed", "unavailable": "no capture found",
         "no-url": "nullified, no URL found", "drifted": "the page changed"}
NOTHING_FOUND = ("unavailable", "no-url")
LEAD_CHARS = 2400


def kind_of(row: dict) -> str:
    if row["state"] == "proposed":
        return "proposed"
    if row["nullified_reason"] and not (row["repair_url"] or "").lower().startswith(("http://", "https://")):
        return "no-url"  # nullified, and no URL known for it (recovery found none, or never looked)
    if row["state"] == "unavailable":
        return "unavailable"
    return "drifted"


def item_key(row: dict) -> str:
    """How the page and the API name an item: its repair ("r12"), or its link when it has no repair."""
    return f"r{row['repair_id']}" if row.get("repair_id") is not None else f"l{row['link_id']}"


def waits(row: dict, kind: str, auto_approve: float | None = None) -> str:
    """Why the item waits for a person, in plain words (`auto_approve`: the setting, when known)."""
    evidence = row.get("repair_evidence") or {}
    if kind == "proposed":
        decision = evidence.get("decision") or ""
        if decision and not decision.startswith("clear winner"):
            return f"recovered from the archive's index, but {decision}"
        if "; but " in decision:
            # A clear winner held back by a rule (a second URL the blogger may have linked; recover/scoring.py
            # `held`): the rule is why it waits, not its confidence.
            return f"recovered from the archive's index, but {decision.split('; but ', 1)[1]}"
        if evidence.get("curator_edit"):
            return "a replacement you gave, waiting for your approval"
        if evidence.get("note"):
            return "no capture holds the post's text: this is the nearest page with the most of it"
        confidence = row["confidence"] or 0.0
        if auto_approve is None:
            return f"waiting for your decision (confidence {confidence:.2f})"
        if auto_approve > 1:
            return "automatic approval is off: every replacement waits for your decision"
        if confidence >= auto_approve:
            # Proposed while the setting was stricter (or by a run with approval off): never "1.00 is below 0.90".
            return (f"confidence {confidence:.2f} reaches today's {auto_approve:.2f}, but automatic approval was "
                    "stricter when it was proposed")
        return f"confidence {confidence:.2f} is below the {auto_approve:.2f} an automatic approval needs"
    if kind == "unavailable":
        why = evidence.get("error") or evidence.get("decision") or "no capture verifies"
        rejected = evidence.get("rejected") or []
        if rejected:
            shown = "; ".join(f"{(r.get('timestamp') or '')[:8]}: {r.get('reason') or r.get('kind')}" for r in rejected[:3])
            why += f" ({len(rejected)} capture{'' if len(rejected) == 1 else 's'} turned down: {shown})"
        if evidence.get("retry"):
            why += "; the archive failed, so the next `linkkeeper repair` asks again"
        return why
    if kind == "no-url":
        reason = f"the blogging software emptied this link ({row['nullified_reason']})"
        if row["repair_id"] is None:
            return reason + "; `linkkeeper repair` has not looked for its article yet"
        return reason + f"; recovery found no URL: {evidence.get('decision') or 'nothing matched'}"
    return f"the link works, but {row['verdict_reason'] or 'its page no longer holds the post text'}"


def _reason(row: dict, kind: str) -> str:
    """The verdict's reason as a filter value: http_404, connection_refused, empty href, drifted..."""
    if row["nullified_reason"]:
        return row["nullified_reason"]
    if kind == "drifted":
        return "drifted"
    return row["error_class"] or (f"http_{row['status']}" if row["status"] else row["verdict"] or "unknown")


def queue_item(row: dict, now: datetime | None = None, auto_approve: float | None = None) -> dict:
    """One attention row as the review page and the report show it."""
    kind = kind_of(row)
    days = days_failing(row["failing_since"], now)
    url = row["repair_url"] if kind != "no-url" and row["repair_url"] else (None if row["nullified_reason"] else row["url"])
    confidence = row["confidence"] if kind == "proposed" else None
    whole = int(days)
    return {
        "key": item_key(row), "repair_id": row["repair_id"], "link_id": row["link_id"], "kind": kind,
        "kind_label": KINDS[kind], "title": row["post_title"] or "(untitled)", "post_url": row["post_url"],
        "date": (row["published"] or "")[:10], "outlet": row["outlet"] or "(no outlet)",
        "host": host_key(_host(url)) or "(no URL)", "verdict": "nullified" if row["nullified_reason"] else (row["verdict"] or "unchecked"),
        "reason": _reason(row, kind), "url": url, "replacement": row["replacement"] if kind == "proposed" else None,
        "capture": capture_label(row["capture_timestamp"]) if row["replacement"] else "",
        "why": repair_why({**row, "evidence": row.get("repair_evidence")}) if kind == "proposed" else "",
        "others": other_pages(row.get("repair_evidence")) if kind == "proposed" else [],
        "waits": waits(row, kind, auto_approve), "confidence": confidence, "days_failing": days,
        "impact": impact(confidence, days) if kind == "proposed" else 0.0,
        "failing": (f"failing for {whole} day{'' if whole == 1 else 's'}" if whole >= 1 else "failing since today")
                   if kind != "drifted" else "changed",
        "lead": (row["lead_text"] or post_lead_text(row["content"] or ""))[:LEAD_CHARS],
        "can_approve": kind == "proposed" and bool(row["replacement"]),
        "can_mark": bool(url) and not row["nullified_reason"],
    }


def _host(url: str | None) -> str:
    from urllib.parse import urlsplit

    try:
        return urlsplit(url or "").hostname or ""
    except ValueError:
        return ""


def _needs_person(row: dict) -> bool:
    # A drifted link the curator said is fine stays out while its page looks as it did then.
    return not (row["repair_id"] is None and row["verdict"] == "drifted" and mark_active(row))


def build_queue(db, *, later: Iterable[str] = (), now: datetime | None = None,
                auto_approve: float | None = None) -> list[dict]:
    """Every item needing a person, in queue order (see the module notes); `later` are the keys the curator
    put off, oldest first."""
    items = [queue_item(r, now, auto_approve) for r in store.attention_rows(db) if _needs_person(r)]
    rank = {kind: i for i, kind in enumerate(KINDS)}
    # Ties as decisions.review_queue breaks them (higher confidence, then the older repair); links with
    # nothing found, longest failing first.
    items.sort(key=lambda it: (rank["unavailable"] if it["kind"] in NOTHING_FOUND else rank[it["kind"]],
                               -it["impact"], -(it["confidence"] or 0.0),
                               0.0 if it["kind"] == "proposed" else -it["days_failing"],
                               it["repair_id"] or 0, it["link_id"]))
    put_off = {key: i for i, key in enumerate(later)}
    if put_off:
        items.sort(key=lambda it: put_off.get(it["key"], -1))  # stable: the others keep their order
    return items
