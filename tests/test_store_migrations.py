"""Numbered migrations (store/schema.py): a database made by the code before them opens with today's code
and ends with the schema of a new database and with all its rows. tests/data/schemas/ holds each earlier
shape as `sqlite3 DB .schema` printed it for a database that code made (its README says how)."""

from __future__ import annotations

import sqlite3
import threading
from contextlib import closing
from pathlib import Path

import pytest

from linkkeeper import store
from linkkeeper.store.schema import MIGRATIONS
from linkkeeper.text.similarity import lead_probes

SCHEMAS = Path(__file__).parent / "data" / "schemas"
# Commit -> the columns its databases lack (besides whole tables), newest first.
SHAPES = {
    "be1c5a6": {"posts.lead_probes"},
    "c95bcd3": {"posts.lead_probes", "posts.lead_text"},
    "66fcc8f": {"posts.lead_probes", "posts.lead_text", "posts.deleted_at"},
    "d9f425f": {"posts.lead_probes", "posts.lead_text", "posts.deleted_at", "checks.evidence_class",
                "checks.reason", "checks.title", "url_status.evidence_class", "url_status.reason",
                "url_status.moved_to", "url_status.first_failure_at", "url_status.single_day"},
}
MIGRATIONS_TABLE = MIGRATIONS.migrations_table
ALL_MIGRATIONS = ["001_tables", "002_posts_lead_text", "003_posts_deleted_at", "004_verdict_columns",
                  "005_posts_lead_probes"]


def master(path: Path) -> list[tuple]:
    """sqlite_master as SQL text, without the migrations' own table."""
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master WHERE tbl_name != ? "
                            "ORDER BY name", [MIGRATIONS_TABLE]).fetchall()


def structure(path: Path) -> dict[str, dict]:
    """Each table's columns, indexes and foreign keys, whatever the order of its columns (a column added to
    an older database comes last) and the quoting of its SQL."""
    conn = sqlite3.connect(path)
    try:
        out = {}
        for (table,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"):
            indexes = []
            for _, name, unique, origin, partial in conn.execute(f'PRAGMA index_list("{table}")'):
                columns = [r[2] for r in conn.execute(f'PRAGMA index_info("{name}")')]
                where = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", [name]).fetchone()
                indexes.append((name, unique, origin, partial, tuple(columns),
                                (where[0] or "").partition(" WHERE ")[2] if where else ""))
            out[table] = {
                "columns": sorted(r[1:6] for r in conn.execute(f'PRAGMA table_info("{table}")')),
                "indexes": sorted(indexes),
                "foreign_keys": sorted(r[2:5] for r in conn.execute(f'PRAGMA foreign_key_list("{table}")')),
            }
        return out
    finally:
        conn.close()


def value(conn: sqlite3.Connection, table: str, column: str):
    """The value a column gets in the one row of its table: a foreign key takes its parent's, so the rows
    hang together."""
    for fk in conn.execute(f'PRAGMA foreign_key_list("{table}")'):
        if fk[3] == column:
            return value(conn, fk[2], fk[4])
    info = {r[1]: r for r in conn.execute(f'PRAGMA table_info("{table}")')}
    kind, pk = info[column][2], info[column][5]
    if kind == "INTEGER":
        return 1 if pk else len(table) + len(column)
    if kind == "REAL":
        return 0.5
    return f"{table}.{column}"


def old_database(path: Path, shape: str) -> dict[str, dict]:
    """A database of that shape with one row in every table; returns the rows."""
    conn = sqlite3.connect(path)
    try:
        conn.executescript((SCHEMAS / f"{shape}.sql").read_text(encoding="utf-8"))
        rows = {}
        for (table,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall():
            row = {r[1]: value(conn, table, r[1]) for r in conn.execute(f'PRAGMA table_info("{table}")')}
            conn.execute(f'INSERT INTO "{table}" ({", ".join(row)}) VALUES ({", ".join("?" * len(row))})',
                         list(row.values()))
            rows[table] = row
        conn.commit()
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        return rows
    finally:
        conn.close()


@pytest.fixture
def new_database(tmp_path) -> Path:
    path = tmp_path / "new.db"
    store.open_db(path).conn.close()
    return path


def test_a_new_database_has_exactly_the_schema_the_code_before_migrations_made_and_the_later_columns(
        new_database, tmp_path):
    before = tmp_path / "before.db"
    old_database(before, "be1c5a6")
    with closing(sqlite3.connect(before)) as conn:
        conn.execute('ALTER TABLE "posts" ADD COLUMN "lead_probes" TEXT')  # migration 005
    assert master(new_database) == master(before)


@pytest.mark.parametrize("shape", list(SHAPES))
def test_a_database_made_before_opens_with_the_new_schema_and_its_rows(shape, new_database, tmp_path):
    path = tmp_path / f"{shape}.db"
    rows = old_database(path, shape)
    db = store.open_db(path)

    assert structure(path) == structure(new_database)
    if shape == "be1c5a6":
        assert master(path) == master(new_database)
    assert [m.name for m in MIGRATIONS.applied(db)] == ALL_MIGRATIONS
    for table, row in rows.items():
        got = list(db.query(f'SELECT * FROM "{table}"'))
        assert len(got) == 1, table
        added = {c.partition(".")[2] for c in SHAPES[shape] if c.startswith(table + ".")}
        expected = dict(row, **{c: None for c in added})
        if "lead_text" in added:
            # The next ingest rewrites every post, lead text included (migration 002).
            expected["content_sha1"] = None
        elif table == "posts":
            # Worked out from the lead text there is (migration 005): this one has no three-word run.
            expected["lead_probes"] = ""
        assert got[0] == expected, table
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []


@pytest.mark.parametrize("shape", list(SHAPES))
def test_the_store_works_on_an_upgraded_database(shape, tmp_path):
    path = tmp_path / f"{shape}.db"
    old_database(path, shape)
    db = store.open_db(path)
    post = {"id": "p2", "source_id": 1, "url": "https://blog.example/p2", "title": "Two", "published": "2026-11-01",
            "updated": "2026-11-01", "content": "<p>x</p>", "lead_text": "The article.", "line": 2}
    assert store.upsert_post(db, post, [{"anchor_index": 0, "role": "original", "url": "https://news.example/a",
                                         "url_normalized": "https://news.example/a"}])
    attempt = {"url": "https://news.example/a", "checked_at": "2026-11-02T00:00:00Z", "method": "GET", "status": 404,
               "verdict": "suspect", "evidence_class": "dead", "reason": "404", "title": None, "attempts": 1}
    state = {"verdict": "suspect", "evidence_class": "dead", "reason": "404", "moved_to": None,
             "consecutive_failures": 1, "first_failure_at": "2026-11-02T00:00:00Z", "single_day": 1}
    store.record_check(db, [attempt], state)
    assert store.url_state(db, "https://news.example/a")["first_failure_at"] == "2026-11-02T00:00:00Z"
    assert store.post_leads_of(db, ["https://news.example/a"]) == {"https://news.example/a": [("Two", "The article.")]}
    assert store.counts(db)["original_links"] == 1
    assert [r["link_id"] for r in store.report_rows(db)] == [store.link_id("p2", 0)]
    assert store.pending_repairs(db) == []


def test_opening_again_changes_nothing(new_database):
    before = master(new_database)
    db = store.open_db(new_database)
    assert MIGRATIONS.pending(db) == []
    assert [m.name for m in MIGRATIONS.applied(db)] == ALL_MIGRATIONS
    assert master(new_database) == before


def test_processes_opening_a_new_database_at_once_migrate_it_once(tmp_path):
    path = tmp_path / "shared.db"
    start = threading.Barrier(4)
    errors: list[BaseException] = []

    def open_it() -> None:
        start.wait()
        try:
            store.open_db(path).conn.close()  # a connection of its own, as another process has
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with closing(sqlite3.connect(path)) as conn:
        names = [r[0] for r in conn.execute(f'SELECT name FROM "{MIGRATIONS_TABLE}" ORDER BY id')]
    assert names == ALL_MIGRATIONS


def test_the_posts_stored_before_get_their_lead_probes_and_the_checker_reads_them(tmp_path):
    path = tmp_path / "be1c5a6.db"
    old_database(path, "be1c5a6")
    lead = ("The ferry contracts review was ordered on Tuesday by the minister, who said every contract signed "
            "since spring would be examined before the report goes to cabinet in the new year.")
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("UPDATE posts SET lead_text = ?", [lead])
        conn.execute("UPDATE links SET role = 'original', url_normalized = 'https://news.example/a'")
        conn.commit()
    db = store.open_db(path)
    stored = db.execute("SELECT lead_probes FROM posts").fetchone()[0]
    assert stored and stored.split("\n") == list(lead_probes(lead)) and len(stored.split("\n")) >= 4
    assert store.lead_probes_of(db, ["https://news.example/a"]) == {"https://news.example/a": [lead_probes(lead)]}
