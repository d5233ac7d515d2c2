"""The curator's decisions on repairs: approve, reject, edit the replacement, mark a link "not dead", bulk
approve, undo; the impact ranking of the review queue; the post-versus-capture excerpt review shows; and the
decisions CSV (export and validated import). Every decision lands in the `decisions` table through
store.record_decisions, whichever door it came in by (command line, review page, import).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable
from urllib.parse import urlsplit

from markupsafe import escape

from linkkeeper import store
from linkkeeper.check.verdict import signature
from linkkeeper.desk.explain import csv_safe
from linkkeeper.files import write_atomically
from linkkeeper.text.urls import normalize_url
from linkkeeper.text.dates import parse_iso_or_none
from linkkeeper.wayback import timestamp_to_datetime

# --- impact -----------------------------------------------------------------------------------------------
# Impact orders the review queue: the decisions that put the most right for readers come first.
#     impact = confidence x (1 + min(days failing, 365) / 365)
# Confidence is how sure the match is (a sure proposal is a quick, safe approval). Days failing is how long
# readers have been meeting the broken link: since the URL's first failing check in its current run of
# failures, or for a nullified link since the post was published. The age bonus is capped at one year, so it
# at most doubles a proposal's weight and never lets an old doubtful match outrank a sure one by much.
IMPACT_AGE_CAP_DAYS = 365.0


def days_failing(failing_since: str | None, now: datetime | None = None) -> float:
    since = parse_iso_or_none(failing_since)
    if since is None:
        return 0.0
    now = now or datetime.now(timezone.utc)
    return max(0.0, (now - since).total_seconds() / 86400)


def impact(confidence: float | None, days: float) -> float:
    return round((confidence or 0.0) * (1 + min(max(days, 0.0), IMPACT_AGE_CAP_DAYS) / IMPACT_AGE_CAP_DAYS), 4)


def review_queue(db, now: datetime | None = None) -> list[dict]:
    """Proposed repairs, highest impact first (ties: higher confidence, then older repair id)."""
    rows = store.pending_repairs(db)
    for row in rows:
        row["days_failing"] = days_failing(row["failing_since"], now)
        row["impact"] = impact(row["confidence"], row["days_failing"])
    rows.sort(key=lambda r: (-r["impact"], -(r["confidence"] or 0.0), r["id"]))
    return rows


# --- replacements -----------------------------------------------------------------------------------------

_ARCHIVE_HOSTS = ("web.archive.org", "wayback.archive.org")
_ARCHIVE_PATH = re.compile(r"^/web/(\d{14})(?:[a-z]{2}_)?/(.+)$", re.DOTALL)
_UNSAFE = re.compile(r"[\s\x00-\x1f\x7f<>\"\\^`{|}]")
MAX_URL_LENGTH = 2048


class ReplacementError(ValueError):
    """A replacement URL the curator typed that cannot go into the blog."""


@dataclass(frozen=True)
class Replacement:
    url: str
    capture_timestamp: str | None  # for a Wayback Machine capture; None for a live URL


def validate_replacement(value: str, dead_url: str | None = None) -> Replacement:
    """An http(s) URL: either a Wayback Machine capture (`https://web.archive.org/web/<14 digits>/<url>`,
    normalised to that public form) or a live URL. Refuses the link's own dead URL."""
    url = (value or "").strip()
    if not url:
        raise ReplacementError("the replacement is empty")
    if len(url) > MAX_URL_LENGTH:
        raise ReplacementError(f"the replacement is longer than {MAX_URL_LENGTH} characters")
    if _UNSAFE.search(url):
        raise ReplacementError("the replacement contains spaces, quotes or control characters")
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        raise ReplacementError("the replacement must be an http:// or https:// URL")
    try:
        host, _port = parts.hostname, parts.port
    except ValueError:
        raise ReplacementError("the replacement has an invalid port") from None
    if not host or "." not in host.strip("[]") and host != "localhost":
        raise ReplacementError("the replacement has no host name")
    if parts.username or parts.password:
        raise ReplacementError("the replacement must not carry a user name or password")
    if host.lower() in _ARCHIVE_HOSTS:
        path = url[url.index(parts.netloc) + len(parts.netloc):]
        match = _ARCHIVE_PATH.match(path)
        if not match:
            raise ReplacementError("a Wayback Machine link must look like https://web.archive.org/web/<14-digit "
                                   "timestamp>/<original URL>")
        timestamp, original = match.groups()
        when = timestamp_to_datetime(timestamp)
        if when is None:
            raise ReplacementError(f"{timestamp} is not a date and time (YYYYMMDDhhmmss)") from None
        if when.year < 1996 or when > datetime.now(timezone.utc):
            raise ReplacementError(f"{timestamp} is outside the Wayback Machine's years")
        original = re.sub(r"^(https?):/(?!/)", r"\1://", original)
        if not original.lower().startswith(("http://", "https://")):
            original = "http://" + original
        return Replacement(f"https://web.archive.org/web/{timestamp}/{original}", timestamp)
    if dead_url and normalize_url(url) == normalize_url(dead_url):
        raise ReplacementError("the replacement is the link's own (dead) URL")
    return Replacement(url, None)


# --- which item: a repair, or a link without one -----------------------------------------------------------

MAX_ID = 2 ** 63 - 1  # SQLite's largest integer: a larger id names nothing (and would not fit a query)
_LINK_ID = re.compile(r"[0-9a-f]{16}")


def repair_id_of(value: Any) -> int:
    """A repair id from the command line, the API or a CSV cell: a whole number SQLite can hold."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError(f"{value!r} is not a repair id")
    text = value.strip() if isinstance(value, str) else str(value)
    if not re.fullmatch(r"[0-9]{1,19}", text) or not 1 <= int(text) <= MAX_ID:
        raise ValueError(f"{_shown(text)} is not a repair id (a whole number from 1 to {MAX_ID})")
    return int(text)


def _shown(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:40] + "…")


def parse_key(value: Any) -> dict[str, Any]:
    """An item as the review page, the API and `linkkeeper edit` name it: a repair by its id (12, "12",
    "r12"), or a link by its id (16 hex digits, or "l" and them) for a link that has no repair."""
    text = str(value).strip() if isinstance(value, (int, str)) and not isinstance(value, bool) else ""
    if text.startswith("l") and _LINK_ID.fullmatch(text[1:]):
        return {"link_id": text[1:]}
    if _LINK_ID.fullmatch(text) and not text.isdigit():
        return {"link_id": text}
    return {"repair_id": repair_id_of(text[1:] if text.startswith("r") else text)}


def link_for(db, key: Any) -> dict:
    """Everything known of the link an item names (store.attention_rows' row), or KeyError."""
    ref = parse_key(key)
    text = str(key).strip()
    if "repair_id" in ref and _LINK_ID.fullmatch(text) and store.repair_row(db, ref["repair_id"]) is None:
        # A link id that happens to be all digits (about one in 1,800), as the report prints it.
        ref = {"link_id": text}
    link_id = ref.get("link_id")
    if link_id is None:
        repair = store.repair_row(db, ref["repair_id"])
        if repair is None:
            raise KeyError(f"no repair with id {ref['repair_id']}")
        link_id = repair["link_id"]
    rows = store.attention_rows(db, link_id=link_id)
    if not rows:
        raise KeyError(f"no Original Article link with id {link_id}" if "link_id" in ref
                       else f"repair {ref['repair_id']} belongs to no current post")
    return rows[0]


def _ref(link: dict) -> dict[str, Any]:
    return {"repair_id": link["repair_id"]} if link["repair_id"] is not None else {"link_id": link["link_id"]}


# --- decisions --------------------------------------------------------------------------------------------

def decide(db, ids: Iterable[int], action: str, *, note: str | None = None, origin: str = "cli") -> list[dict]:
    """Approve or reject repairs by id, as one batch."""
    if action not in ("approve", "reject"):
        raise ValueError(f"unknown action {action!r}")
    return store.record_decisions(db, [{"repair_id": repair_id_of(i), "action": action} for i in ids],
                                  origin=origin, note=note)


class EditRefused(ValueError):
    """A replacement that failed a check, saved without a note saying why it should be saved anyway."""


def save_edit(db, link: dict, verified: Any, *, approve: bool = False, note: str | None = None,
              anyway: bool = False, origin: str = "review") -> list[dict]:
    """Give a link the replacement desk/verify.py checked (`verified`); with approve, approve it in the same
    batch, so one undo reverts both. A replacement that failed a check is saved only `anyway` and with a
    note saying why; the checks and the note are kept in the repair's evidence and the decision."""
    if not verified.saveable:
        raise ReplacementError(verified.reason)
    if not verified.ok:
        if not anyway:
            raise EditRefused(f"not saved: {verified.reason}")
        if not note:
            raise EditRefused(f"not saved: {verified.reason}. Saving it anyway needs a note saying why")
    item: dict[str, Any] = dict(_ref(link), action="edit", replacement=verified.replacement,
                                capture_timestamp=verified.capture_timestamp)
    item.update({k: v for k, v in verified.fields.items() if k != "evidence"})
    item["evidence"] = verified.evidence(note)
    items = [item]
    if approve:
        items.append(dict(_ref(link), action="approve"))
    return store.record_decisions(db, items, origin=origin, note=note)


def mark_not_dead(db, keys: Iterable[Any], *, note: str | None = None, origin: str = "review") -> list[dict]:
    """The curator says the link works: its repair (if any) is rejected and its URL marked, and the mark
    holds (the checker reports the URL alive) for as long as its failure looks the same (verdict.signature).
    `keys` are repair ids, or link ids for links without a repair (a drifted link)."""
    items = []
    for key in keys:
        link = link_for(db, key)
        state = store.url_state(db, link["url_normalized"]) if link["url_normalized"] and not link["nullified_reason"] else None
        if state is None:
            raise ValueError(f"{key}: its link was never checked, so there is no failure to mark")
        items.append(dict(_ref(link), action="not-dead",
                          signature=signature(state.get("evidence_class") or state["verdict"], state.get("status"),
                                              state.get("error_class"))))
    return store.record_decisions(db, items, origin=origin, note=note)


class CountChanged(ValueError):
    """The repairs a bulk approval would decide are not the number the curator was shown."""


def bulk_approve(db, min_confidence: float, *, note: str | None = None, origin: str = "review",
                 among: Iterable[Any] | None = None, expect: int | None = None) -> list[dict]:
    """Approve every proposed repair at or above a confidence (with `among`, only those of these repair
    ids: the ones a filter shows), as one batch (one undo reverts it). With `expect`, nothing is approved
    unless exactly that many repairs match (what the curator was asked to confirm)."""
    if not 0.0 <= min_confidence <= 1.0:
        raise ValueError("the confidence threshold must be between 0 and 1")
    ids = [r["id"] for r in store.pending_repairs(db, min_confidence=min_confidence)]
    if among is not None:
        wanted = {repair_id_of(i) for i in among}
        ids = [i for i in ids if i in wanted]
    if expect is not None and len(ids) != expect:
        raise CountChanged(f"{len(ids)} repairs match now, not the {expect} you confirmed: the queue changed; "
                           "look again")
    if not ids:
        return []
    note = note or f"bulk approve: confidence at or above {min_confidence:g}"
    return store.record_decisions(db, [{"repair_id": i, "action": "approve"} for i in ids], origin=origin, note=note)


def undo(db) -> list[dict]:
    return store.undo_last_batch(db)


# --- the match that earned the confidence -----------------------------------------------------------------

_WORD = re.compile(r"\w+", re.UNICODE)


def _matched_words(text: str, other: set[str], k: int) -> tuple[list[re.Match], list[bool]]:
    tokens = list(_WORD.finditer(text))
    lowered = [t.group(0).lower() for t in tokens]
    marked = [False] * len(tokens)
    for i in range(len(tokens) - k + 1):
        if " ".join(lowered[i:i + k]) in other:
            for j in range(i, i + k):
                marked[j] = True
    return tokens, marked


def _grams(text: str, k: int) -> set[str]:
    words = [w.lower() for w in _WORD.findall(text)]
    return {" ".join(words[i:i + k]) for i in range(len(words) - k + 1)}


def _render(text: str, tokens: list[re.Match], marked: list[bool], start: int, end: int) -> str:
    """Escaped text[start:end] with the shared runs of words in <mark>."""
    out, pos, open_, last_end = [], start, False, start
    for token, hit in zip(tokens, marked):
        if token.start() < start or token.end() > end:
            continue
        if hit and not open_:
            out += [escape(text[pos:token.start()]), "<mark>"]
            pos, open_ = token.start(), True
        elif not hit and open_:
            out += [escape(text[pos:last_end]), "</mark>"]
            pos, open_ = last_end, False
        last_end = token.end()
    if open_:
        out += [escape(text[pos:last_end]), "</mark>"]
        pos = last_end
    out.append(escape(text[pos:end]))
    return "".join(out)


def match_excerpt(post_text: str, capture_text: str, *, k: int = 4, context_words: int = 40,
                  max_chars: int = 2400) -> dict:
    """The post's reproduced text and the stretch of the capture that holds it, each escaped for HTML with
    the runs of words they share marked: the evidence behind a repair's confidence, for a human to judge."""
    post_grams, capture_grams = _grams(post_text, k), _grams(capture_text, k)
    shared = post_grams & capture_grams
    p_tokens, p_marked = _matched_words(post_text, shared, k)
    c_tokens, c_marked = _matched_words(capture_text, shared, k)
    hits = [i for i, m in enumerate(c_marked) if m]
    if hits:
        first = max(0, hits[0] - context_words)
        last = min(len(c_tokens) - 1, hits[-1] + context_words)
    else:
        first, last = 0, min(len(c_tokens), 2 * context_words) - 1
    start = c_tokens[first].start() if c_tokens else 0
    end = c_tokens[last].end() if c_tokens and last >= 0 else 0
    end = min(end, start + max_chars)
    post_end = min(len(post_text), max_chars)
    return {
        "post_html": _render(post_text, p_tokens, p_marked, 0, post_end) + ("…" if post_end < len(post_text) else ""),
        "capture_html": ("…" if start > 0 else "") + _render(capture_text, c_tokens, c_marked, start, end)
                        + ("…" if end < len(capture_text) else ""),
        "shared_share": round(len(shared) / len(post_grams), 3) if post_grams else 0.0,
    }


# --- decisions CSV ----------------------------------------------------------------------------------------

DECISION_COLUMNS = ["id", "batch", "decided_at", "repair_id", "link_id", "url", "action", "previous_state",
                    "new_state", "previous_replacement", "new_replacement", "note", "origin", "undone_at"]
# What an import needs: which repair (by link_id, stable across databases, or repair_id) and what to do.
IMPORT_REQUIRED = {"action"}


def _csv_plain(value: str) -> str:
    """Undo report.csv_safe's quote, so an exported note or URL imports as it was."""
    if len(value) > 1 and value[0] == "'" and value[1] in "=+-@\t\r":
        return value[1:]
    return value


def export_decisions(db, path: str | Path) -> int:
    """Every decision, oldest first, including undone ones (undone_at says when)."""

    count = 0

    def write(fh) -> None:
        nonlocal count
        writer = csv.writer(fh)
        writer.writerow(DECISION_COLUMNS)
        for row in store.decision_rows(db):
            writer.writerow([csv_safe(row.get(c)) for c in DECISION_COLUMNS])
            count += 1

    write_atomically(path, write)
    return count


class DecisionImportError(ValueError):
    def __init__(self, path: str, errors: list[tuple[int, str]]) -> None:
        self.path, self.errors = str(path), errors
        super().__init__("\n".join(f"{path}:{line}: {message}" for line, message in errors))


@dataclass
class ImportResult:
    applied: int = 0
    unchanged: int = 0
    skipped_undone: int = 0
    decisions: list[dict] = field(default_factory=list)


def import_decisions(db, path: str | Path, *, note: str | None = None) -> ImportResult:
    """Apply the decisions of a CSV (the export's columns; needed: action, and link_id or repair_id; edit
    needs new_replacement). Every row is validated first and nothing is applied unless all are good; errors
    name their line. Undone rows are skipped, rows that would change nothing are counted as unchanged, and
    the rest are applied in file order as one batch (one undo reverts the import)."""
    path = Path(path)
    errors: list[tuple[int, str]] = []
    items: list[dict[str, Any]] = []
    result = ImportResult()
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DecisionImportError(str(path), [(0, f"cannot read: {exc.strerror}")]) from None
    try:
        fh = io.StringIO(raw.decode("utf-8-sig"), newline="")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise DecisionImportError(str(path), [(line, "not UTF-8 text (save the file as UTF-8 CSV)")]) from None
    # Simulated state, so a file that approves and then rejects the same repair is judged in order.
    state: dict[int, tuple[str, str | None]] = {}
    with fh:
        reader = csv.DictReader(fh)
        try:
            header = reader.fieldnames or []
        except csv.Error as exc:
            raise DecisionImportError(str(path), [(1, f"not valid CSV: {exc}")]) from None
        doubled = sorted({name for name in header if header.count(name) > 1})
        if doubled:
            raise DecisionImportError(str(path), [(1, "column(s) given twice: " + ", ".join(map(_shown, doubled)))])
        missing = IMPORT_REQUIRED - set(header)
        if missing or not ({"link_id", "repair_id"} & set(header)):
            need = sorted(missing) + ([] if {"link_id", "repair_id"} & set(header) else ["link_id or repair_id"])
            raise DecisionImportError(str(path), [(1, "missing column(s): " + ", ".join(need))])
        try:
            for row in reader:
                line = reader.line_num
                if None in row:
                    errors.append((line, "more cells than the header has columns"))
                    continue
                cells = {k: _csv_plain((v or "").strip()) for k, v in row.items() if k}
                item, problem = _import_item(db, cells, state)
                if problem:
                    errors.append((line, problem))
                elif item is None:
                    if cells.get("undone_at"):
                        result.skipped_undone += 1
                    else:
                        result.unchanged += 1
                else:
                    items.append(item)
        except csv.Error as exc:
            errors.append((reader.line_num + 1, f"not valid CSV: {exc}"))  # the line being read
    if errors:
        raise DecisionImportError(str(path), errors)
    if items:
        result.decisions = store.record_decisions(db, items, origin="import", note=note)
        result.applied = len(result.decisions)
    return result


def _import_item(db, cells: dict[str, str], state: dict[Any, tuple[str, str | None]]) -> tuple[dict | None, str | None]:
    if cells.get("undone_at"):
        return None, None
    action = cells.get("action", "")
    if action not in store.DECISION_ACTIONS:
        return None, f"action {_shown(action)} is not one of {', '.join(store.DECISION_ACTIONS)}"
    # link_id names the same link in any database built from the export; repair_id only in this one.
    ref: dict[str, Any]
    if cells.get("link_id"):
        link = store.link_row(db, cells["link_id"])
        if link is None or (link["repair_id"] is None and action != "edit" and cells["link_id"] not in state):
            return None, f"no repair for link {_shown(cells['link_id'])}"
        ref = {"repair_id": link["repair_id"]} if link["repair_id"] is not None else {"link_id": link["link_id"]}
        repair = store.repair_row(db, link["repair_id"]) if link["repair_id"] is not None else \
            {"state": "unavailable", "replacement": None, "url": link["known_url"] or link["url"]}
    elif cells.get("repair_id"):
        try:
            ref = {"repair_id": repair_id_of(cells["repair_id"])}
        except ValueError as exc:
            return None, f"repair_id {exc}"
        repair = store.repair_row(db, ref["repair_id"])
        if repair is None:
            return None, f"no repair with id {ref['repair_id']}"
    else:
        return None, "neither link_id nor repair_id is given"
    key = ref.get("repair_id") or ref["link_id"]
    current_state, current_replacement = state.get(key, (repair["state"], repair["replacement"]))
    item: dict[str, Any] = dict(ref, action=action, note=cells.get("note") or None)
    if action == "edit":
        try:
            replacement = validate_replacement(cells.get("new_replacement", ""), repair["url"])
        except ReplacementError as exc:
            return None, str(exc)
        if replacement.url == current_replacement:
            return None, None
        item.update(replacement=replacement.url, capture_timestamp=replacement.capture_timestamp)
        state[key] = ("proposed" if current_state == "unavailable" else current_state, replacement.url)
        return item, None
    if action == "not-dead":
        return None, "not-dead cannot be imported: it rests on how the link fails here and now; mark it in review"
    new_state = "approved" if action == "approve" else "rejected"
    if new_state == "approved" and not current_replacement:
        return None, f"repair {key} has no replacement to approve"
    if new_state == current_state:
        return None, None
    state[key] = (new_state, current_replacement)
    return item, None
