"""What the table modules of the store share: the write transaction, cached INSERT statements for the hot
paths, the published-date filter, and reading one row as a dict. No table of its own."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

import sqlite_utils


@contextmanager
def transaction(db: sqlite_utils.Database) -> Iterator[None]:
    """One atomic unit of work: everything inside lands together or not at all."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    else:
        db.execute("COMMIT")


_STATEMENTS: dict[tuple, str] = {}


def _statement(table: str, columns: tuple[str, ...], pk: str | None) -> str:
    """INSERT of these columns (pk given: ON CONFLICT(pk) DO UPDATE of the others), its text cached."""
    key = (table, columns, pk)
    sql = _STATEMENTS.get(key)
    if sql is None:
        names = ", ".join(f'"{c}"' for c in columns)
        sql = f'INSERT INTO "{table}" ({names}) VALUES ({", ".join("?" * len(columns))})'
        if pk is not None:
            updates = ", ".join(f'"{c}" = excluded."{c}"' for c in columns if c != pk)
            sql += f' ON CONFLICT("{pk}") DO UPDATE SET {updates}'
        _STATEMENTS[key] = sql
    return sql


def upsert_row(db, table: str, row: dict[str, Any], pk: str = "id") -> None:
    """INSERT ... ON CONFLICT DO UPDATE of the given columns only. sqlite-utils' Table.upsert introspects
    the table on every call, which made ingest spend most of its time in PRAGMAs; the statement text is
    cached here per column set and run through Database.execute."""
    db.execute(_statement(table, tuple(row), pk), list(row.values()))


def write_rows(db, table: str, rows: list[dict[str, Any]], pk: str | None = None) -> None:
    """INSERT (with `pk`: upsert_row's INSERT ... ON CONFLICT) of many rows through the cached statements:
    one executemany per run of rows with the same columns, in order."""
    start = 0
    while start < len(rows):
        columns = tuple(rows[start])
        end = start + 1
        while end < len(rows) and tuple(rows[end]) == columns:
            end += 1
        db.conn.executemany(_statement(table, columns, pk), [list(r.values()) for r in rows[start:end]])
        start = end


def first_row(db, sql: str, params: list) -> dict | None:
    """The first row of a query as a dict, or None. Through a cursor rather than sqlite-utils' db.query (which
    every other read uses): db.query wraps each statement in a savepoint, which doubles the time of a lookup
    by key."""
    cursor = db.execute(sql, params)
    row = cursor.fetchone()
    return dict(zip([d[0] for d in cursor.description], row)) if row else None


def date_clause(date_from: str | None, date_to: str | None, params: list) -> list[str]:
    """WHERE terms keeping posts (alias p) published within [date_from, date_to] (inclusive dates); their
    parameters are appended to `params`."""
    clauses = []
    if date_from:
        clauses.append("substr(p.published, 1, 10) >= ?")
        params.append(date_from)
    if date_to:
        clauses.append("substr(p.published, 1, 10) <= ?")
        params.append(date_to)
    return clauses
