"""Checks and what they decide: which links are checked and when (due_urls), every attempt of a check
(checks), each URL's current verdict (url_status) and a curator's "not dead" mark on it (url_marks)."""

from __future__ import annotations

import json
from typing import Any, Iterator

from linkkeeper.store.sql import date_clause, first_row, transaction, write_rows
from linkkeeper.text.similarity import joined_probes, split_probes

# Verdicts on which a repair is looked for: the link no longer leads to the article.
BROKEN_VERDICTS = ("dead", "soft-404")
GOOD_VERDICTS = ("alive", "redirected", "moved", "drifted")
# Verdicts of a page that is there to be captured (a drifted page no longer holds the article).
LIVE_VERDICTS = ("alive", "redirected", "moved")
# Verdicts of a failure still being confirmed (or of a probe that could not tell): re-checked on the
# confirmation schedule rather than after days.
RECHECK_SOON_VERDICTS = ("suspect", "unknown")

# Links that are themselves Wayback captures are replayed through the archive client (its rate limit), not
# probed.
WAYBACK_URL_PATTERNS = ("http://web.archive.org/web/%", "https://web.archive.org/web/%",
                        "http://wayback.archive.org/web/%", "https://wayback.archive.org/web/%")
NOT_WAYBACK = "NOT (" + " OR ".join(["l.url_normalized LIKE ?"] * len(WAYBACK_URL_PATTERNS)) + ")"
_IS_WAYBACK = "(" + " OR ".join(["l.url_normalized LIKE ?"] * len(WAYBACK_URL_PATTERNS)) + ")"


def links_to_check(db, *, date_from: str | None = None, date_to: str | None = None,
                   all_links: bool = False) -> Iterator[str]:
    """Distinct normalised URLs of original-article links (every outbound link with all_links) in posts
    published within [date_from, date_to] (inclusive dates). Links to Wayback captures are left out: they
    are replayed through the archive client (its rate limit), not probed (archive_links_to_check)."""
    return _link_urls(db, date_from, date_to, all_links, wayback=False)


def archive_links_to_check(db, *, date_from: str | None = None, date_to: str | None = None,
                           all_links: bool = False) -> Iterator[str]:
    """Distinct links (Original Article ones unless all_links) that are themselves Wayback captures."""
    return _link_urls(db, date_from, date_to, all_links, wayback=True)


def _link_urls(db, date_from: str | None, date_to: str | None, all_links: bool, *, wayback: bool) -> Iterator[str]:
    where, params = ["l.url_normalized IS NOT NULL", "l.nullified_reason IS NULL", "p.deleted_at IS NULL"], []
    if not all_links:
        where.append("l.role = 'original'")
    where += date_clause(date_from, date_to, params)
    where.append(_IS_WAYBACK if wayback else NOT_WAYBACK)
    params += WAYBACK_URL_PATTERNS
    sql = (f"SELECT DISTINCT l.url_normalized FROM links l JOIN posts p ON p.id = l.post_id "
           f"WHERE {' AND '.join(where)} ORDER BY l.url_normalized")
    for (url,) in db.execute(sql, params):
        yield url


def due_urls(db, *, now: str, alive_after_seconds: float, soon_after_seconds: float, limit: int | None = None,
             all_links: bool = False) -> list[str]:
    """The URLs a run should check now, oldest due first: never-checked URLs at once (first of all), then
    suspect and unknown ones `soon_after_seconds` after their last check (the confirmation schedule), and
    every other verdict `alive_after_seconds` after it. `now` is the cut-off (utcnow()'s form; the caller
    adds any slack). Only links of posts not deleted; original-article links unless `all_links`."""
    where = ["l.url_normalized IS NOT NULL", "l.nullified_reason IS NULL", "p.deleted_at IS NULL", NOT_WAYBACK]
    params: list = list(WAYBACK_URL_PATTERNS)
    if not all_links:
        where.append("l.role = 'original'")
    soon = ",".join("?" * len(RECHECK_SOON_VERDICTS))
    sql = f"""
        WITH wanted AS (SELECT DISTINCT l.url_normalized AS url FROM links l JOIN posts p ON p.id = l.post_id
                        WHERE {' AND '.join(where)}),
        scheduled AS (
            SELECT w.url, CASE
                WHEN s.url IS NULL OR s.last_checked IS NULL THEN NULL
                WHEN s.verdict IN ({soon}) THEN strftime('%Y-%m-%dT%H:%M:%SZ', s.last_checked, ?)
                ELSE strftime('%Y-%m-%dT%H:%M:%SZ', s.last_checked, ?) END AS due_at
            FROM wanted w LEFT JOIN url_status s ON s.url = w.url)
        SELECT url FROM scheduled WHERE due_at IS NULL OR due_at <= ?
        ORDER BY due_at IS NOT NULL, due_at, url LIMIT ?"""
    params += [*RECHECK_SOON_VERDICTS, f"+{int(soon_after_seconds)} seconds", f"+{int(alive_after_seconds)} seconds",
               now, -1 if limit is None else max(0, limit)]
    return [row[0] for row in db.execute(sql, params)]


def url_state(db, url: str) -> dict | None:
    """The URL's current verdict row (url_status), or None before its first check."""
    return first_row(db, "SELECT * FROM url_status WHERE url = ?", [url])


def url_mark(db, url: str) -> dict | None:
    return first_row(db, "SELECT * FROM url_marks WHERE url = ?", [url])


# Keys per IN (...) lookup: well under SQLite's bound on a statement's parameters.
_KEYS_PER_QUERY = 500


def _rows_by_url(db, table: str, urls: list[str]) -> dict[str, dict]:
    found: dict[str, dict] = {}
    for start in range(0, len(urls), _KEYS_PER_QUERY):
        chunk = urls[start:start + _KEYS_PER_QUERY]
        cursor = db.execute(f'SELECT * FROM "{table}" WHERE url IN ({",".join("?" * len(chunk))})', chunk)
        names = [d[0] for d in cursor.description]
        found.update((row["url"], row) for row in (dict(zip(names, r)) for r in cursor.fetchall()))
    return found


def url_states(db, urls: list[str]) -> dict[str, dict]:
    """url_state of many URLs at once: {url: its url_status row} for those checked before."""
    return _rows_by_url(db, "url_status", urls)


def url_marks(db, urls: list[str]) -> dict[str, dict]:
    """url_mark of many URLs at once: {url: its mark} for those marked."""
    return _rows_by_url(db, "url_marks", urls)


def record_check(db, attempts: list[dict[str, Any]], state: dict[str, Any]) -> int:
    """Store one check - every attempt of it, the last one deciding - and the URL's new state (decided by
    verdict.decide), together. Returns the deciding attempt's id."""
    return record_checks(db, [(attempts, state)])[0]


def record_checks(db, checks: list[tuple[list[dict[str, Any]], dict[str, Any]]]) -> list[int]:
    """record_check of many checks (each its attempts and the URL's new state) in one transaction: a run's
    checks are stored in batches, as a transaction per check cost more than the check's own parsing.
    Returns each check's deciding attempt's id."""
    with transaction(db):
        # The ids are given, not left to SQLite (which would give the same: one more than the largest), so
        # that each URL's state can name its check while every row goes in by executemany.
        next_id = db.execute("SELECT coalesce(max(id), 0) + 1 FROM checks").fetchone()[0]
        rows, states, ids = [], [], []
        for attempts, state in checks:
            for attempt in attempts:
                rows.append(dict(attempt, id=next_id, redirect_chain=json.dumps(attempt.get("redirect_chain") or [])))
                next_id += 1
            check = rows[-1]
            ids.append(check["id"])
            states.append(dict(state, url=check["url"], last_checked=check["checked_at"], check_id=check["id"],
                               status=check.get("status"), final_url=check.get("final_url"),
                               error_class=check.get("error_class")))
        write_rows(db, "checks", rows)
        write_rows(db, "url_status", states, pk="url")
    return ids


# At most this many citing posts' texts per URL: enough to recognise the article.
LEADS_PER_URL = 5


def _citing_posts(db, urls: list[str], columns: str) -> Iterator[tuple]:
    """(url, *columns) for the posts whose Original Article link is each of these URLs and that reproduce some
    text, at most LEADS_PER_URL a URL, in one lookup per 500 URLs (a lookup per URL cost as much as the
    check's parsing)."""
    for start in range(0, len(urls), _KEYS_PER_QUERY):
        chunk, seen = urls[start:start + _KEYS_PER_QUERY], {}
        for row in db.execute(
                f"SELECT l.url_normalized, {columns} FROM links l JOIN posts p ON p.id = l.post_id "
                f"WHERE l.url_normalized IN ({','.join('?' * len(chunk))}) AND l.role = 'original' "
                "AND p.lead_text IS NOT NULL ORDER BY l.url_normalized, l.rowid", chunk):
            seen[row[0]] = seen.get(row[0], 0) + 1
            if seen[row[0]] <= LEADS_PER_URL:
                yield row


def post_leads_of(db, urls: list[str]) -> dict[str, list[tuple[str, str]]]:
    """The titles and reproduced article texts of those posts (the drift test): {url: [(title, text)]}."""
    found: dict[str, list[tuple[str, str]]] = {url: [] for url in urls}
    for url, title, text in _citing_posts(db, urls, "p.title, p.lead_text"):
        found[url].append((title or "", text))
    return found


def lead_probes_of(db, urls: list[str]) -> dict[str, list[tuple[str, ...]]]:
    """The probes of the same posts' texts (posts.lead_probes, worked out at ingest): {url: a tuple of probes
    per citing post}. A post stored without them gets them from its text."""
    found: dict[str, list[tuple[str, ...]]] = {url: [] for url in urls}
    for url, stored, text in _citing_posts(db, urls,
                                           "p.lead_probes, CASE WHEN p.lead_probes IS NULL THEN p.lead_text END"):
        found[url].append(split_probes(stored if stored is not None else joined_probes(text)))
    return found


def check_history(db, url: str | None, limit: int = 8) -> list[dict]:
    """The URL's latest checks (every attempt), newest first."""
    if not url:
        return []
    return list(db.query("""SELECT checked_at, method, status, error_class, verdict, attempts FROM checks
                            WHERE url = ? ORDER BY checked_at DESC, id DESC LIMIT ?""", [url, limit]))
