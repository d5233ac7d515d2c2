"""The curator's decisions on repairs. Every change a curator makes to a repair - approve, reject, edit,
"not dead" - is a row in `decisions`, written in the same transaction as the change together with what it
replaced, so undo can put it back exactly. Decisions made together (a bulk approve, an import, "edit and
approve") share a batch, and undo reverts the latest batch not yet undone.

A link that needs a person but has no repair (a nullified link nobody found a URL for, a drifted link) is
decided by its link id: an edit makes its repair in the same transaction (undo removes it again), and "not
dead" marks its URL without one."""

from __future__ import annotations

import json
from typing import Any, Iterable, Iterator

from linkkeeper.store.repairs import repair_row
from linkkeeper.store.sql import first_row, transaction
from linkkeeper.text.dates import now_iso

DECISION_ACTIONS = ("approve", "reject", "edit", "not-dead")
_ACTION_STATE = {"approve": "approved", "reject": "rejected", "not-dead": "rejected"}
# What a decision may change of a repair, kept in the decision so undo restores it. An edit changes the
# replacement and what was verified of it (the article's URL for a nullified link, the confidence, evidence).
_REPAIR_FIELDS = ("state", "replacement", "capture_timestamp", "decided_at", "note", "url", "capture_url",
                  "confidence", "evidence", "distance_days", "target_date")
_EDIT_FIELDS = ("url", "capture_url", "confidence", "evidence", "distance_days", "target_date")


class UndoConflict(ValueError):
    """The repair changed since the decision being undone, so undoing would overwrite someone's work."""


def decide_repairs(db, ids: Iterable[int], state: str, note: str | None = None, *, origin: str = "cli") -> int:
    """Approve or reject repairs, all or none, recorded as one batch of decisions."""
    actions = {"approved": "approve", "rejected": "reject"}
    if state not in actions:
        raise ValueError(f"a repair can be approved or rejected, not set to {state!r}")
    ids = list(ids)
    record_decisions(db, [{"repair_id": i, "action": actions[state]} for i in ids], origin=origin, note=note)
    return len(ids)


def link_row(db, link_id: str) -> dict | None:
    """A link as a decision on it needs it: its post, URL, nullified reason, and its repair's id if any."""
    return first_row(db, """
        SELECT l.id AS link_id, l.post_id, l.url, l.url_normalized, l.nullified_reason, l.known_url, l.role,
               r.id AS repair_id
        FROM links l LEFT JOIN repairs r ON r.link_id = l.id WHERE l.id = ?""", [link_id])


def record_decisions(db, decisions: Iterable[dict[str, Any]], *, origin: str, note: str | None = None) -> list[dict]:
    """Apply decisions - each {"repair_id" (or "link_id" for a link without a repair), "action",
    "replacement"?, "capture_timestamp"?, "note"?, for "not-dead" "signature", and for "edit" optionally
    what was verified: "url", "capture_url", "confidence", "evidence", "distance_days", "target_date"} - all
    or none, as one batch. Returns the decision rows written.

    Raises KeyError for an unknown repair or link and ValueError for a decision that cannot apply.
    Replacements are validated and verified by the caller (desk/decisions.py, desk/verify.py); this only
    refuses to approve nothing.
    """
    items = list(decisions)
    now = now_iso()
    written: list[dict] = []
    with transaction(db):
        batch = db.execute("SELECT COALESCE(max(batch), 0) + 1 FROM decisions").fetchone()[0]
        for item in items:
            if item["action"] not in DECISION_ACTIONS:
                raise ValueError(f"unknown action {item['action']!r}")
            written.append(_apply(db, item, batch, now, origin, note))
    return written


def _apply(db, item: dict[str, Any], batch: int, now: str, origin: str, note: str | None) -> dict:
    action, repair_id = item["action"], item.get("repair_id")
    previous: dict[str, Any] = {}
    if repair_id is None:
        link = link_row(db, item.get("link_id") or "")
        if link is None:
            raise KeyError(f"no link with id {item.get('link_id')!r}")
        if link["repair_id"] is not None:
            repair_id = link["repair_id"]
        elif action == "not-dead":
            return _mark_link(db, link, item, batch, now, origin, note)
        elif action == "edit":
            repair_id = _new_repair(db, link, item, now)
            previous["created"] = True
        else:
            raise ValueError(f"link {link['link_id']} has no repair to {action}")
    repair = repair_row(db, repair_id)
    if repair is None:
        raise KeyError(f"no repair with id {repair_id}")
    previous["repair"] = {k: repair[k] for k in _REPAIR_FIELDS}
    change: dict[str, Any] = {"decided_at": now, "note": item.get("note", note)}
    if action == "edit":
        change.update(replacement=item["replacement"], capture_timestamp=item.get("capture_timestamp"))
        change.update({k: item[k] for k in _EDIT_FIELDS if k in item})
        if isinstance(change.get("evidence"), dict):
            change["evidence"] = json.dumps(change["evidence"], ensure_ascii=False)
        # A replacement found by hand makes a repair the archive could not make reviewable again.
        change["state"] = "proposed" if repair["state"] == "unavailable" else repair["state"]
    else:
        change["state"] = _ACTION_STATE[action]
    if change["state"] == "approved" and not change.get("replacement", repair["replacement"]):
        raise ValueError(f"repair {repair_id} has no replacement to approve")
    if action == "not-dead":
        url = repair["url_normalized"]
        if not url or repair["nullified_reason"]:
            raise ValueError(f"repair {repair_id}: a nullified link has no URL that could be alive")
        previous["url_mark"] = _set_mark(db, url, item["signature"], change["note"], now)
    db["repairs"].update(repair_id, change)
    row = {"batch": batch, "decided_at": now, "repair_id": repair_id, "link_id": repair["link_id"],
           "url": repair["url"], "action": action, "previous_state": None if previous.get("created") else repair["state"],
           "new_state": change["state"], "previous_replacement": repair["replacement"],
           "new_replacement": change.get("replacement", repair["replacement"]), "note": change["note"],
           "origin": origin, "previous": json.dumps(previous, ensure_ascii=False), "undone_at": None}
    row["id"] = db["decisions"].insert(row).last_pk
    return row


def _new_repair(db, link: dict, item: dict[str, Any], now: str) -> int:
    """The repair of a link that had none, made for a curator's edit: nothing found (the edit then proposes
    the curator's replacement)."""
    reason = f"nullified ({link['nullified_reason']})" if link["nullified_reason"] else "found by the curator"
    return db["repairs"].insert({
        "link_id": link["link_id"], "post_id": link["post_id"], "url": link["known_url"] or link["url"],
        "reason": reason, "state": "unavailable", "confidence": 0.0, "evidence": "{}", "created_at": now}).last_pk


def _set_mark(db, url: str, signature: str, note: str | None, now: str) -> dict | None:
    before = first_row(db, "SELECT url, mark, signature, note, created_at FROM url_marks WHERE url = ?", [url])
    db["url_marks"].upsert({"url": url, "mark": "not-dead", "signature": signature, "note": note,
                            "created_at": now}, pk="url")
    return before


def _mark_link(db, link: dict, item: dict[str, Any], batch: int, now: str, origin: str, note: str | None) -> dict:
    """ "Not dead" on a link without a repair (a drifted link): its URL is marked, no repair is made."""
    url = link["url_normalized"]
    if not url or link["nullified_reason"]:
        raise ValueError(f"link {link['link_id']}: a nullified link has no URL that could be alive")
    note = item.get("note", note)
    previous = {"url_mark": _set_mark(db, url, item["signature"], note, now)}
    row = {"batch": batch, "decided_at": now, "repair_id": None, "link_id": link["link_id"], "url": link["url"],
           "action": "not-dead", "previous_state": None, "new_state": None, "previous_replacement": None,
           "new_replacement": None, "note": note, "origin": origin,
           "previous": json.dumps(previous, ensure_ascii=False), "undone_at": None}
    row["id"] = db["decisions"].insert(row).last_pk
    return row


def undo_last_batch(db) -> list[dict]:
    """Revert the latest batch of decisions not yet undone; returns its decisions ([] when none is left).
    Raises UndoConflict, changing nothing, when a repair has changed since (re-ingest, another decision)."""
    now = now_iso()
    with transaction(db):
        batch = db.execute("SELECT max(batch) FROM decisions WHERE undone_at IS NULL").fetchone()[0]
        if batch is None:
            return []
        rows = list(db.query("SELECT * FROM decisions WHERE batch = ? AND undone_at IS NULL ORDER BY id DESC",
                             [batch]))
        for row in rows:
            previous = json.loads(row["previous"])
            if row["repair_id"] is None:
                link = link_row(db, row["link_id"])
                if link is None:
                    raise UndoConflict(f"link {row['link_id']} no longer exists (its post changed since)")
                _restore_mark(db, link["url_normalized"], previous)
            else:
                _undo_repair(db, row, previous)
            db.execute("UPDATE decisions SET undone_at = ? WHERE id = ?", [now, row["id"]])
            row["undone_at"] = now
    return rows


def _undo_repair(db, row: dict, previous: dict) -> None:
    repair = repair_row(db, row["repair_id"])
    if repair is None:
        raise UndoConflict(f"repair {row['repair_id']} no longer exists (its post changed since)")
    if repair["state"] != row["new_state"] or repair["replacement"] != row["new_replacement"]:
        raise UndoConflict(f"repair {row['repair_id']} changed since decision {row['id']}; not undone")
    if previous.get("created"):
        db.execute("DELETE FROM repairs WHERE id = ?", [row["repair_id"]])
    else:
        db["repairs"].update(row["repair_id"], previous["repair"])
    _restore_mark(db, repair["url_normalized"], previous)


def _restore_mark(db, url: str | None, previous: dict) -> None:
    if "url_mark" not in previous:
        return
    db.execute("DELETE FROM url_marks WHERE url = ?", [url])
    if previous["url_mark"]:
        db["url_marks"].insert(previous["url_mark"])


def decision_rows(db, *, limit: int | None = None, newest_first: bool = False) -> Iterator[dict]:
    order = "DESC" if newest_first else "ASC"
    sql = f"SELECT * FROM decisions ORDER BY id {order}" + (" LIMIT ?" if limit else "")
    yield from db.query(sql, [limit] if limit else [])


def recent_decisions(db, limit: int) -> list[dict]:
    """The latest decisions, newest first, with the title of the post each was about."""
    return list(db.query("""
        SELECT d.*, p.title AS post_title FROM decisions d
        LEFT JOIN links l ON l.id = d.link_id LEFT JOIN posts p ON p.id = l.post_id
        ORDER BY d.id DESC LIMIT ?""", [limit]))
