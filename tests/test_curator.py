"""The curator's decisions: recording, undo, "not dead" marks, the impact ranking, replacement validation,
the decisions CSV, and the command line that reaches them."""

from __future__ import annotations

import csv
import json
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner

from linkkeeper import store
from linkkeeper.desk import decisions as curator
from linkkeeper.cli import main
from linkkeeper.demo import run_demo
from linkkeeper.check.verdict import signature
from linkkeeper.desk.queue import build_queue
from linkkeeper.desk.verify import Line, Verified
from worlds.dbcopy import copy_db


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    """The demo with every proposal left for review (auto-approve above 1)."""
    out = tmp_path_factory.mktemp("curator-demo")
    summary = run_demo(out, echo=None, auto_approve_confidence=1.01, recover=False)
    return out / "demo.db", summary


@pytest.fixture
def db_path(demo_db, tmp_path):
    return copy_db(demo_db[0], tmp_path / "curator.db")


@pytest.fixture
def db(db_path):
    return store.open_db(db_path)


def repair(db, repair_id):
    return store.repair_row(db, repair_id)


def proposed(db):
    return [r[0] for r in db.execute("SELECT id FROM repairs WHERE state = 'proposed' ORDER BY id")]


def high_and_low(db):
    ids = proposed(db)
    high = [i for i in ids if repair(db, i)["replacement"] and
            db.execute("SELECT confidence FROM repairs WHERE id = ?", [i]).fetchone()[0] >= 0.9]
    low = [i for i in ids if i not in high]
    return high, low


def unavailable_id(db):
    return db.execute("SELECT id FROM repairs WHERE state = 'unavailable'").fetchone()[0]


def test_the_demo_leaves_a_review_session(db, demo_db):
    _, summary = demo_db
    high, low = high_and_low(db)
    assert summary["repairs_approved"] == 0 and len(high) >= 5 and len(low) >= 1


def test_approve_is_recorded_with_what_it_replaced_and_undo_restores_it(db):
    target = proposed(db)[0]
    before = repair(db, target)
    assert store.decide_repairs(db, [target], "approved", "looks right") == 1
    after = repair(db, target)
    assert after["state"] == "approved" and after["note"] == "looks right"
    (row,) = store.decision_rows(db)
    assert (row["action"], row["previous_state"], row["new_state"], row["origin"]) == ("approve", "proposed", "approved", "cli")
    assert row["repair_id"] == target and row["link_id"] == before["link_id"] and row["undone_at"] is None
    undone = curator.undo(db)
    assert [d["id"] for d in undone] == [row["id"]]
    restored = repair(db, target)
    assert {k: restored[k] for k in ("state", "replacement", "decided_at", "note")} == \
        {k: before[k] for k in ("state", "replacement", "decided_at", "note")}
    assert next(store.decision_rows(db))["undone_at"] is not None
    assert curator.undo(db) == []


def test_undo_goes_back_one_batch_at_a_time(db):
    first, second = proposed(db)[:2]
    curator.decide(db, [first], "approve")
    curator.decide(db, [second], "reject")
    curator.undo(db)
    assert repair(db, second)["state"] == "proposed" and repair(db, first)["state"] == "approved"
    curator.undo(db)
    assert repair(db, first)["state"] == "proposed"


def test_a_refused_decision_changes_nothing(db):
    good = proposed(db)[0]
    with pytest.raises(ValueError, match="no replacement to approve"):
        curator.decide(db, [good, unavailable_id(db)], "approve")
    assert repair(db, good)["state"] == "proposed"
    assert list(store.decision_rows(db)) == []
    with pytest.raises(KeyError):
        curator.decide(db, [99999], "reject")


def test_bulk_approve_takes_only_the_confident_and_one_undo_reverts_it(db):
    high, low = high_and_low(db)
    done = curator.bulk_approve(db, 0.9)
    assert sorted(d["repair_id"] for d in done) == high
    assert len({d["batch"] for d in done}) == 1
    assert all(repair(db, i)["state"] == "approved" for i in high)
    assert all(repair(db, i)["state"] == "proposed" for i in low)
    curator.undo(db)
    assert proposed(db) == sorted(high + low)
    with pytest.raises(ValueError):
        curator.bulk_approve(db, 1.5)


def checked(value: str, ok: bool = True, **fields) -> Verified:
    """What desk/verify.py would have found (the checks themselves are tested in test_review_app.py)."""
    replacement = curator.validate_replacement(value)
    return Verified(value, [Line(ok, "checked" if ok else "a capture of another page")], replacement.url,
                    replacement.capture_timestamp, fields=fields)


def test_edit_and_approve_is_one_batch(db):
    target = proposed(db)[0]
    before = repair(db, target)
    link = curator.link_for(db, target)
    curator.save_edit(db, link, checked("http://web.archive.org/web/20111005000000id_/http://www.example.com/story.html",
                                        confidence=0.97), approve=True, note="a later capture reads better")
    after = repair(db, target)
    assert after["replacement"] == "https://web.archive.org/web/20111005000000/http://www.example.com/story.html"
    assert after["capture_timestamp"] == "20111005000000" and after["state"] == "approved" and after["confidence"] == 0.97
    curator.undo(db)
    restored = repair(db, target)
    assert (restored["replacement"], restored["capture_timestamp"], restored["state"], restored["confidence"]) == \
        (before["replacement"], before["capture_timestamp"], "proposed", before["confidence"])


def test_a_hand_found_replacement_reopens_an_unavailable_repair(db):
    target = unavailable_id(db)
    curator.save_edit(db, curator.link_for(db, target), checked("https://www.theglobeandmail.com/news/moved-here/article1/"))
    after = repair(db, target)
    assert after["state"] == "proposed" and after["capture_timestamp"] is None


def test_a_replacement_that_failed_a_check_needs_anyway_and_a_note(db):
    target = proposed(db)[0]
    link = curator.link_for(db, target)
    bad = checked("https://web.archive.org/web/20120615000000/http://example.com/x", ok=False)
    with pytest.raises(curator.EditRefused, match="a capture of another page"):
        curator.save_edit(db, link, bad)
    with pytest.raises(curator.EditRefused, match="needs a note"):
        curator.save_edit(db, link, bad, anyway=True)
    assert list(store.decision_rows(db)) == []
    curator.save_edit(db, link, bad, anyway=True, note="the outlet's page moved there")
    (decision,) = store.decision_rows(db)
    assert decision["note"] == "the outlet's page moved there"
    evidence = json.loads(repair(db, target)["evidence"])["curator_edit"]
    assert evidence["ok"] is False and evidence["reason"] == "a capture of another page"
    assert evidence["note"] == "the outlet's page moved there"


def test_an_edit_of_a_link_without_a_repair_makes_one_and_undo_removes_it(db):
    link_id = db.execute("SELECT id FROM links WHERE nullified_reason IS NOT NULL ORDER BY id").fetchone()[0]
    assert store.repair_for_link(db, link_id) is None
    article = "http://www.cbc.ca/news/politics/story/2012/09/14/pol-omnibus-budget-bill-two-tabled.html"
    done = curator.save_edit(db, curator.link_for(db, f"l{link_id}"),
                             checked(f"https://web.archive.org/web/20120914121000/{article}", url=article), approve=True)
    repair_id = store.repair_for_link(db, link_id)
    assert [d["action"] for d in done] == ["edit", "approve"] and {d["repair_id"] for d in done} == {repair_id}
    row = repair(db, repair_id)
    assert (row["state"], row["url"]) == ("approved", article)
    assert done[0]["previous_state"] is None
    curator.undo(db)
    assert store.repair_for_link(db, link_id) is None and repair(db, repair_id) is None


def test_a_drifted_link_waits_in_the_queue_until_kept(db):
    link_id, url = db.execute("""SELECT l.id, l.url_normalized FROM links l JOIN url_status s ON s.url = l.url_normalized
                                 WHERE s.verdict = 'alive' AND l.role = 'original' ORDER BY l.id""").fetchone()
    db.execute("UPDATE url_status SET verdict = 'drifted', evidence_class = 'drifted', reason = ? WHERE url = ?",
               ["the page holds 3% of the text the post reproduces (threshold 35%)", url])
    (item,) = [i for i in build_queue(db) if i["link_id"] == link_id]
    assert item["kind"] == "drifted" and item["key"] == f"l{link_id}" and "holds 3%" in item["waits"]
    assert [i["kind"] for i in build_queue(db)][-1] == "drifted"  # after what has nothing found
    curator.mark_not_dead(db, [f"l{link_id}"], note="the outlet updated it; still the story")
    assert store.url_mark(db, url)["mark"] == "not-dead" and store.repair_for_link(db, link_id) is None
    assert link_id not in {i["link_id"] for i in build_queue(db)}
    curator.undo(db)
    assert store.url_mark(db, url) is None and link_id in {i["link_id"] for i in build_queue(db)}


def test_the_queue_holds_every_link_that_needs_a_person(db):
    items = build_queue(db)
    kinds = [i["kind"] for i in items]
    assert kinds == ["proposed"] * len(proposed(db)) + ["no-url"] * 6 + ["unavailable"]
    assert all(i["waits"] for i in items)
    later = [items[0]["key"], items[3]["key"]]
    assert [i["key"] for i in build_queue(db, later=later)][-2:] == later


@pytest.mark.parametrize("confidence, threshold, words", [
    (0.7, 0.9, "confidence 0.70 is below the 0.90 an automatic approval needs"),
    (1.0, 0.9, "confidence 1.00 reaches today's 0.90, but automatic approval was stricter when it was proposed"),
    (1.0, 1.01, "automatic approval is off"),
])
def test_why_a_proposal_waits_never_contradicts_its_numbers(confidence, threshold, words):
    from linkkeeper.desk.queue import waits

    assert waits({"confidence": confidence, "repair_evidence": {}}, "proposed", threshold).startswith(words)


def test_a_clear_winner_held_back_by_a_rule_waits_for_that_rule_not_its_confidence():
    from linkkeeper.desk.queue import waits

    decision = ("clear winner: the capture holds the post's text under its headline, and no other page of the "
                "outlet does; but the outlet files one article under several sections (5 article ids under two "
                "paths in its listings), and the section the blogger linked may never have been captured: a "
                "person decides")
    said = waits({"confidence": 0.99, "repair_evidence": {"decision": decision}}, "proposed", 0.9)
    assert said.startswith("recovered from the archive's index, but the outlet files one article under several")
    assert "confidence" not in said and said.endswith("a person decides")


@pytest.mark.parametrize("value, ref", [
    (12, {"repair_id": 12}), ("12", {"repair_id": 12}), ("r12", {"repair_id": 12}),
    ("7d7159be88a572aa", {"link_id": "7d7159be88a572aa"}), ("l7d7159be88a572aa", {"link_id": "7d7159be88a572aa"}),
])
def test_items_are_named_by_repair_or_link(value, ref):
    assert curator.parse_key(value) == ref


def test_a_link_id_of_digits_only_names_the_link(db):
    """The report prints `linkkeeper edit LINK_ID URL`; a link id can be 16 decimal digits."""
    link_id = db.execute("SELECT l.id FROM links l LEFT JOIN repairs r ON r.link_id = l.id WHERE r.id IS NULL "
                         "AND l.nullified_reason IS NOT NULL LIMIT 1").fetchone()[0]
    db.execute("PRAGMA foreign_keys = OFF")
    db.execute("UPDATE links SET id = '1234567890123456' WHERE id = ?", [link_id])
    assert curator.link_for(db, "1234567890123456")["link_id"] == "1234567890123456"
    assert curator.link_for(db, 1)["repair_id"] == 1  # a repair id stays one


@pytest.mark.parametrize("value", [0, -3, 10 ** 23, "10" * 12, "r", "²", True, None, 1.5, "lzz"])
def test_what_is_no_repair_id_is_refused(value):
    with pytest.raises(ValueError, match="repair id"):
        curator.parse_key(value)


@pytest.mark.parametrize("value, message", [
    ("javascript:alert(1)", "http:// or https://"),
    ("ftp://example.com/a", "http:// or https://"),
    ("https:///nohost", "no host"),
    ("https://exa mple.com/", "spaces"),
    ('https://example.com/"onmouseover=x', "quotes"),
    ("https://user:pw@example.com/", "user name"),
    ("https://web.archive.org/web/2011/http://example.com/", "14-digit"),
    ("https://web.archive.org/web/20111341000000/http://example.com/", "not a date"),
    ("https://web.archive.org/web/29990101000000/http://example.com/", "outside"),
    ("", "empty"),
])
def test_replacements_are_validated(value, message):
    with pytest.raises(curator.ReplacementError, match=message):
        curator.validate_replacement(value)


def test_the_dead_url_itself_is_no_replacement():
    with pytest.raises(curator.ReplacementError, match="own"):
        curator.validate_replacement("HTTP://WWW.CBC.CA/news/a.html", "http://www.cbc.ca/news/a.html")
    assert curator.validate_replacement("https://www.cbc.ca/news/a.html", None).capture_timestamp is None


def test_not_dead_marks_the_url_with_its_failure_and_undo_removes_the_mark(db):
    target = proposed(db)[0]
    row = repair(db, target)
    state = store.url_state(db, row["url_normalized"])
    curator.mark_not_dead(db, [target], note="opens in a browser")
    mark = store.url_mark(db, row["url_normalized"])
    assert mark["mark"] == "not-dead" and mark["note"] == "opens in a browser"
    assert mark["signature"] == signature(state["evidence_class"], state["status"], state["error_class"])
    assert repair(db, target)["state"] == "rejected"
    curator.undo(db)
    assert store.url_mark(db, row["url_normalized"]) is None and repair(db, target)["state"] == "proposed"


def test_undo_refuses_when_the_repair_changed_since(db):
    target = proposed(db)[0]
    curator.decide(db, [target], "approve")
    db.execute("UPDATE repairs SET replacement = 'https://example.org/other' WHERE id = ?", [target])
    with pytest.raises(store.UndoConflict):
        curator.undo(db)
    assert repair(db, target)["state"] == "approved"


def test_impact_weighs_confidence_by_how_long_the_link_has_failed():
    assert curator.impact(1.0, 0) == 1.0
    assert curator.impact(0.8, 365) == pytest.approx(1.6)
    assert curator.impact(0.8, 5000) == pytest.approx(1.6)  # capped at a year
    assert curator.impact(None, 100) == 0.0


def test_the_queue_puts_the_highest_impact_first(db):
    high, low = high_and_low(db)
    now = datetime.now(timezone.utc)
    old = (now - timedelta(days=400)).strftime("%Y-%m-%dT%H:%M:%SZ")
    # A fairly sure match for a link broken for over a year outranks sure matches broken since today.
    favourite = high[-1]
    db.execute("UPDATE repairs SET confidence = 0.8 WHERE id = ?", [favourite])
    url = repair(db, favourite)["url_normalized"]
    db.execute("UPDATE url_status SET first_failure_at = ? WHERE url = ?", [old, url])
    queue = curator.review_queue(db, now=now)
    assert queue[0]["id"] == favourite and queue[0]["impact"] == pytest.approx(1.6)
    assert [r["id"] for r in queue[-len(low):]] == low
    impacts = [r["impact"] for r in queue]
    assert impacts == sorted(impacts, reverse=True)


def test_match_excerpt_marks_the_shared_words_and_escapes_the_rest():
    post = "The committee met on Tuesday and voted to close the <script>lab</script> for good."
    capture = "Menu Home. The committee met on Tuesday and voted to close the <script>lab</script> for good. Share"
    result = curator.match_excerpt(post, capture)
    assert "<mark>The committee met on Tuesday" in result["capture_html"]
    assert "<script>" not in result["capture_html"] + result["post_html"]
    assert "&lt;script&gt;" in result["capture_html"]
    assert result["shared_share"] == 1.0
    assert "<mark>" not in curator.match_excerpt(post, "nothing alike at all here")["capture_html"]


# --- the decisions CSV --------------------------------------------------------------------------------------

def test_decisions_export_then_import_into_another_database(db, demo_db, tmp_path):
    high, low = high_and_low(db)
    curator.decide(db, high[:2], "approve", note="=HYPERLINK(\"http://evil\")")
    curator.decide(db, [low[0]], "reject")
    curator.decide(db, [high[2]], "reject")
    curator.undo(db)  # the last reject is undone: the import must not replay it
    path = tmp_path / "decisions.csv"
    assert curator.export_decisions(db, path) == 4
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    assert rows[0]["note"].startswith("'=")  # a spreadsheet must not run it
    assert rows[-1]["undone_at"]

    other = store.open_db(copy_db(demo_db[0], tmp_path / "other.db"))
    result = curator.import_decisions(other, path)
    assert (result.applied, result.skipped_undone) == (3, 1)
    assert [repair(other, i)["state"] for i in (*high[:2], low[0], high[2])] == ["approved", "approved", "rejected", "proposed"]
    assert repair(other, high[0])["note"] == "=HYPERLINK(\"http://evil\")"
    assert {d["origin"] for d in store.decision_rows(other)} == {"import"}
    again = curator.import_decisions(other, path)
    assert (again.applied, again.unchanged) == (0, 3)


def test_a_bad_import_names_every_bad_line_and_applies_nothing(db, tmp_path):
    first = proposed(db)[0]
    link = repair(db, first)["link_id"]
    path = tmp_path / "bad.csv"
    path.write_text(
        "link_id,repair_id,action,new_replacement,note\n"
        f"{link},,approve,,fine\n"
        f"{link},,promote,,\n"
        "nope,,approve,,\n"
        f",{unavailable_id(db)},approve,,\n"
        f"{link},,edit,javascript:alert(1),\n"
        ",abc,reject,,\n"
        ",,reject,,\n", encoding="utf-8")
    with pytest.raises(curator.DecisionImportError) as caught:
        curator.import_decisions(db, path)
    lines = [line for line, _ in caught.value.errors]
    assert lines == [3, 4, 5, 6, 7, 8]
    assert "promote" in caught.value.errors[0][1] and "no replacement" in caught.value.errors[2][1]
    assert repair(db, first)["state"] == "proposed" and list(store.decision_rows(db)) == []


def test_an_import_with_an_id_too_large_for_the_database_names_its_line(db, tmp_path):
    path = tmp_path / "huge.csv"
    path.write_text(f"repair_id,action\n{proposed(db)[0]},approve\n{10 ** 30},approve\n²,reject\n", encoding="utf-8")
    with pytest.raises(curator.DecisionImportError) as caught:
        curator.import_decisions(db, path)
    assert [line for line, _ in caught.value.errors] == [3, 4]
    assert "is not a repair id" in caught.value.errors[0][1]
    assert list(store.decision_rows(db)) == []


def test_an_import_without_the_needed_columns_is_refused(db, tmp_path):
    path = tmp_path / "cols.csv"
    path.write_text("note,state\nx,approved\n", encoding="utf-8")
    with pytest.raises(curator.DecisionImportError, match="1: missing column"):
        curator.import_decisions(db, path)


# --- the command line ---------------------------------------------------------------------------------------

@pytest.fixture
def run(db_path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(main, ["--db", str(db_path), *args], catch_exceptions=False)

    return invoke


def test_cli_approve_and_reject_are_recorded_decisions(run, db_path):
    db = store.open_db(db_path)
    high, low = high_and_low(db)
    assert run("approve", str(high[0]), str(high[1]), "--note", "checked").exit_code == 0
    assert run("reject", str(low[0])).exit_code == 0
    rows = list(store.decision_rows(db))
    assert [(r["repair_id"], r["action"], r["origin"]) for r in rows] == \
        [(high[0], "approve", "cli"), (high[1], "approve", "cli"), (low[0], "reject", "cli")]
    assert rows[0]["batch"] == rows[1]["batch"] != rows[2]["batch"]
    result = run("decisions", "undo")
    assert result.exit_code == 0 and f"reject of repair {low[0]}" in result.output
    assert repair(db, low[0])["state"] == "proposed"


def test_cli_decisions_export_and_a_bad_import(run, db_path, tmp_path):
    db = store.open_db(db_path)
    run("approve", str(proposed(db)[0]))
    out = tmp_path / "d.csv"
    result = run("decisions", "export", str(out))
    assert result.exit_code == 0 and "1 decisions" in result.output
    bad = tmp_path / "bad.csv"
    bad.write_text("link_id,action\nxyz,approve\n", encoding="utf-8")
    result = run("decisions", "import", str(bad))
    assert result.exit_code == 2
    assert f"{bad}:2: no repair for link 'xyz'" in result.output and "nothing was imported" in result.output


def test_cli_a_decisions_file_with_a_huge_id_is_a_clear_error(run, tmp_path):
    bad = tmp_path / "huge.csv"
    bad.write_text(f"repair_id,action\n{10 ** 30},approve\n", encoding="utf-8")
    result = run("decisions", "import", str(bad))
    assert result.exit_code == 2 and f"{bad}:2: repair_id '{10 ** 30}' is not a repair id" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("content, line, message", [
    ("repair_id,action\n1,approve\n2,reject caf\xe9\n".encode("latin-1"), 3, "not UTF-8 text"),
    ("repair_id,act\xe9on\n1,approve\n".encode("latin-1"), 1, "not UTF-8 text"),
    (b'"' + b"a" * 200_000 + b'",repair_id,action\n1,approve\n', 1, "not valid CSV: field larger"),
    (b'repair_id,action,note\n1,approve,"' + b"a" * 200_000 + b'"\n', 2, "not valid CSV: field larger"),
    (b"repair_id,action,repair_id\n1,approve,2\n", 1, "column(s) given twice: 'repair_id'"),
    (b"link_id,action\n" + b"9" * 5000 + b",approve\n", 2, "no repair for link '" + "9" * 40 + "\u2026'"),
])
def test_cli_a_decisions_file_that_cannot_be_read_names_its_line(run, tmp_path, content, line, message):
    """Not UTF-8, a cell beyond the CSV reader's limit (in the header too), a column given twice, a 5,000-digit
    id: a clear error naming the line, exit 2, nothing applied, and no value echoed whole."""
    bad = tmp_path / "bad.csv"
    bad.write_bytes(content)
    result = run("decisions", "import", str(bad))
    assert result.exit_code == 2 and f"{bad}:{line}: {message}" in result.output, result.output
    assert "Traceback" not in result.output and len(result.output) < 500


@pytest.fixture
def run_in_world(db_path, tmp_path, monkeypatch, demo_world):
    """The command line, with the demo's simulated web and Wayback Machine standing in for the real ones."""
    from linkkeeper.sim.archive import settings_for
    from linkkeeper.sim.servers import closed_port

    monkeypatch.chdir(tmp_path)
    rules = [f"{h}:*:127.0.0.1:{closed_port()}" for h in sorted(demo_world["refused"])]
    rules.append(f"*:*:127.0.0.1:{demo_world['web'].rsplit(':', 1)[1]}")
    env = {f"LINKKEEPER_{k.upper()}": str(v) for k, v in settings_for(demo_world["archive"]).items()}
    env.update(LINKKEEPER_CONNECT_TO=",".join(rules), LINKKEEPER_RETRIES="0", LINKKEEPER_TOTAL_TIMEOUT="5")
    runner = CliRunner()
    return lambda *args: runner.invoke(main, ["--db", str(db_path), *args], env=env, catch_exceptions=False)


def test_cli_edit_checks_before_it_saves(run_in_world, db_path):
    from conftest import LATE_CAPTURE

    db = store.open_db(db_path)
    target = unavailable_id(db)
    dead = repair(db, target)["url"]
    other = ("https://web.archive.org/web/20111004140200/"
             "http://www.cbc.ca/news/politics/story/2011/10/03/crime-bill-second-reading.html")
    result = run_in_world("edit", str(target), other)
    assert result.exit_code == 2, result.output
    assert "✗ this is a capture of http://www.cbc.ca/" in result.output and "--anyway --note" in result.output
    assert repair(db, target)["replacement"] is None
    result = run_in_world("edit", str(target), f"https://web.archive.org/web/{LATE_CAPTURE}/{dead}", "--approve")
    assert result.exit_code == 0, result.output
    assert "✓ a capture of the dead link's URL" in result.output and "saved and approved" in result.output
    assert repair(db, target)["state"] == "approved"
    result = run_in_world("edit", str(target), other, "--anyway", "--note", "the story moved there")
    assert result.exit_code == 0 and "although a check failed" in result.output
    assert next(store.decision_rows(db, newest_first=True))["note"] == "the story moved there"


def test_cli_edit_a_nullified_link_by_its_link_id(run_in_world, db_path):
    db = store.open_db(db_path)
    link = db.execute("SELECT l.id FROM links l JOIN posts p ON p.id = l.post_id WHERE p.title LIKE 'Ethics%' "
                      "AND l.role = 'original'").fetchone()[0]
    article = "http://www.thestar.com/news/canada/article/1251777--ethics-commissioner-opens-probe-into-minister"
    result = run_in_world("edit", link, article)
    assert result.exit_code == 0, result.output
    assert f"link {link}: saved, waiting for approval: {article}" in result.output
    assert run_in_world("edit", "999999", article).exit_code == 2
    assert run_in_world("edit", str(10 ** 30), article).exit_code == 2


def age(db, hours: int = 1) -> None:
    """Move the demo's history back, so nothing of it shares a second with what the test does next."""
    shift = f"'-{hours} hours'"
    for table, column in (("checks", "checked_at"), ("url_status", "last_checked"), ("repairs", "created_at")):
        db.execute(f"UPDATE {table} SET {column} = strftime('%Y-%m-%dT%H:%M:%SZ', {column}, {shift})")


def test_cli_report_since(run, db_path, tmp_path):
    db = store.open_db(db_path)
    age(db)
    result = run("report", "--out", str(tmp_path / "r0"), "--since", "yesterday")
    assert result.exit_code == 2 and "not 'last'" in result.output
    assert run("report", "--out", str(tmp_path / "r1")).exit_code == 0
    target = proposed(db)[0]
    run("approve", str(target))
    result = run("report", "--out", str(tmp_path / "r2"), "--since", "last")
    assert result.exit_code == 0, result.output
    listed = json.loads((tmp_path / "r2" / "report.json").read_text())["links"]
    assert [l["repair"]["id"] for l in listed] == [target]
    assert (tmp_path / "r2" / "report.md").exists()


def test_the_other_pages_of_a_recovery_are_those_a_curator_would_choose_among():
    from linkkeeper.desk.explain import other_pages

    found = "http://www.paper.example/news/national/slug/article4616000/"
    evidence = {"recovered_url": found, "candidates": [
        {"url": found, "text_similarity": 1.0, "verified": True, "archive_url": "https://web.archive.org/web/1/x"},
        {"url": found.replace("national", "politics"), "verified": False,
         "rival": "the article's address in a section the outlet also files articles under"},
        {"url": "http://www.paper.example/blogs/writer/slug/", "text_similarity": 0.97, "verified": True,
         "read": "the live page", "archive_url": "https://web.archive.org/web/2/y"},
        {"url": "http://www.paper.example/news/national/other/article4616001/", "text_similarity": 0.12,
         "verified": True}]}
    pages = other_pages(evidence)
    assert [p["url"] for p in pages] == [found.replace("national", "politics"), "http://www.paper.example/blogs/writer/slug/"]
    assert pages[0]["said"] == "never captured, and no page there today" and pages[0]["use"] == pages[0]["url"]
    # read live: the page itself is what to link, not a capture
    assert pages[1]["said"] == "97% of the post's text, in the page today" and pages[1]["use"] == pages[1]["url"]
    assert other_pages({}) == [] and other_pages(None) == []
