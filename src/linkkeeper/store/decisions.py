"""The curator's decisions on repairs. Every change a curator makes to a repair - approve, reject, edit,
"not dead" - is a row in `decisions`, written in the same transaction as the change together with what it
replaced, so undo can put it back exactly. Decisions made together (a bulk approve, an import, "edit and
approve") share a batch, and undo reverts the latest batch not yet undone."""

from __future__ import annotations

import json
from typing import Any, Iterable, Iterator

from linkkeeper.store.repairs import repair_row
from linkkeeper.store.sql import first_row, transaction
from linkkeeper.text.dates import now_iso

DECISION_ACTIONS = ("approve", "reject", "edit", "not-dead")
_ACTION_STATE = {"approve": "approved", "reject": "rejected", "not-dead": "rejected"}
_REPAIR_FIELDS = ("state", "replacement", "capture_timestamp", "decided_at", "note")


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


def record_decisions(db, decisions: Iterable[dict[str, Any]], *, origin: str, note: str | None = None) -> list[dict]:
    """Apply decisions - each {"repair_id", "action", "replacement"?, "capture_timestamp"?, "note"?, and for
    "not-dead" "signature"} - all or none, as one batch. Returns the decision rows written.

    Raises KeyError for an unknown repair and ValueError for a decision that cannot apply. Replacements are
    validated by the caller (curator.validate_replacement); this only refuses to approve nothing.
    """
    items = list(decisions)
    now = now_iso()
    written: list[dict] = []
    with transaction(db):
        batch = db.execute("SELECT COALESCE(max(batch), 0) + 1 FROM decisions").fetchone()[0]
        for item in items:
            action, repair_id = item["action"], item["repair_id"]
            if action not in DECISION_ACTIONS:
                raise ValueError(f"unknown action {action!r}")
            repair = repair_row(db, repair_id)
            if repair is None:
                raise KeyError(f"no repair with id {repair_id}")
            previous: dict[str, Any] = {"repair": {k: repair[k] for k in _REPAIR_FIELDS}}
            change: dict[str, Any] = {"decided_at": now, "note": item.get("note", note)}
            if action == "edit":
                change.update(replacement=item["replacement"], capture_timestamp=item.get("capture_timestamp"))
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
                previous["url_mark"] = first_row(
                    db, "SELECT url, mark, signature, note, created_at FROM url_marks WHERE url = ?", [url])
                db["url_marks"].upsert({"url": url, "mark": "not-dead", "signature": item["signature"],
                                        "note": change["note"], "created_at": now}, pk="url")
            db["repairs"].update(repair_id, change)
            row = {"batch": batch, "decided_at": now, "repair_id": repair_id, "link_id": repair["link_id"],
                   "url": repair["url"], "action": action, "previous_state": repair["state"],
                   "new_state": change["state"], "previous_replacement": repair["replacement"],
                   "new_replacement": change.get("replacement", repair["replacement"]), "note": change["note"],
                   "origin": origin, "previous": json.dumps(previous, ensure_ascii=False), "undone_at": None}
            row["id"] = db["decisions"].insert(row).last_pk
            written.append(row)
    return written


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
            repair = repair_row(db, row["repair_id"])
            if repair is None:
                raise UndoConflict(f"repair {row['repair_id']} no longer exists (its post changed since)")
            if repair["state"] != row["new_state"] or repair["replacement"] != row["new_replacement"]:
                raise UndoConflict(f"repair {row['repair_id']} changed since decision {row['id']}; not undone")
            previous = json.loads(row["previous"])
            db["repairs"].update(row["repair_id"], previous["repair"])
            if "url_mark" in previous:
                db.execute("DELETE FROM url_marks WHERE url = ?", [repair["url_normalized"]])
                if previous["url_mark"]:
                    db["url_marks"].insert(previous["url_mark"])
            db.execute("UPDATE decisions SET undone_at = ? WHERE id = ?", [now, row["id"]])
            row["undone_at"] = now
    return rows


def decision_rows(db, *, limit: int | None = None, newest_first: bool = False) -> Iterator[dict]:
    order = "DESC" if newest_first else "ASC"
    sql = f"SELECT * FROM decisions ORDER BY id {order}" + (" LIMIT ?" if limit else "")
    yield from db.query(sql, [limit] if limit else [])
