"""The command line: exit codes, messages that name the file and line, settings precedence."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from linkkeeper.cli import main
from linkkeeper.demo import sample_export_path
from linkkeeper.settings import ConnectTo, SettingsError, load


@pytest.fixture
def run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(main, ["--db", str(tmp_path / "cli.db"), *args], catch_exceptions=False)

    return invoke


def test_ingest_then_status(run):
    result = run("ingest", str(sample_export_path()))
    assert result.exit_code == 0, result.output
    assert "30 posts" in result.output and "6 nullified" in result.output
    status = json.loads(run("status").output)
    assert status["posts"] == 30 and status["verdicts"]["nullified"] == 6


def test_malformed_file_exits_2_naming_file_line_column(run, tmp_path):
    bad = tmp_path / "bad.xml"
    bad.write_text("<?xml version='1.0'?>\n<feed xmlns='http://www.w3.org/2005/Atom'>\n<entry><id>x</entry>\n</feed>\n")
    result = run("ingest", str(bad))
    assert result.exit_code == 2
    assert f"{bad}:3:" in result.output and "nothing was ingested" in result.output


def test_export_without_repairs_is_byte_identical(run, tmp_path):
    run("ingest", str(sample_export_path()))
    out = tmp_path / "out.xml"
    result = run("export", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == sample_export_path().read_bytes()


def test_export_refuses_a_changed_source(run, tmp_path):
    src = tmp_path / "blog.xml"
    src.write_bytes(sample_export_path().read_bytes())
    run("ingest", str(src))
    src.write_bytes(src.read_bytes().replace(b"Omnibus", b"Omnibuss"))
    result = run("export", "-o", str(tmp_path / "o.xml"))
    assert result.exit_code == 2 and "changed since it was ingested" in result.output


def test_approve_unknown_repair_is_a_usage_error(run):
    run("ingest", str(sample_export_path()))
    result = run("approve", "42")
    assert result.exit_code == 2 and "no repair with id 42" in result.output


def test_known_url_is_stored_for_a_nullified_link(run, tmp_path):
    run("ingest", str(sample_export_path()))
    post = "tag:blogger.com,1999:blog-6412345678901234567.post-1013"
    result = run("known-url", post, "http://www.cbc.ca/news/politics/story/2012/09/14/budget-bill.html")
    assert result.exit_code == 0, result.output
    bad = run("known-url", post, "javascript:alert(1)")
    assert bad.exit_code == 2


def test_bad_date_is_a_usage_error(run):
    result = run("check", "--from", "2012-13-01")
    assert result.exit_code == 2 and "not a date" in result.output


def test_settings_precedence_file_env_flags(tmp_path):
    config = tmp_path / "lk.toml"
    config.write_text('concurrency = 8\nper_host = 3\nconnect_to = ["www.cbc.ca:80:127.0.0.1:9000"]\n')
    settings = load(config, env={"LINKKEEPER_PER_HOST": "4", "LINKKEEPER_TOTAL_TIMEOUT": "12.5"}, concurrency=16)
    assert (settings.concurrency, settings.per_host, settings.total_timeout) == (16, 4, 12.5)
    assert settings.connect_to == (ConnectTo("www.cbc.ca", "80", "127.0.0.1", 9000),)


@pytest.mark.parametrize("text, message", [
    ("concurrency = 'many'", "not a valid int"),
    ("no_such_setting = 1", "unknown setting"),
    ("connect_to = ['nonsense']", "HOST:PORT:ADDRESS:PORT"),
    ("concurrency = ", "lk.toml"),
])
def test_bad_settings_name_the_file(tmp_path, text, message):
    config = tmp_path / "lk.toml"
    config.write_text(text)
    with pytest.raises(SettingsError) as err:
        load(config, env={})
    assert message in str(err.value) and "lk.toml" in str(err.value)


def test_bad_settings_exit_2(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "linkkeeper.toml").write_text("per_host = 'x'\n")
    result = CliRunner().invoke(main, ["status"])
    assert result.exit_code == 2 and "linkkeeper.toml" in result.output


def test_a_bug_exits_3_with_its_traceback_and_where_to_report_it(tmp_path, monkeypatch, capsys):
    # A bug, not a mistake: only here does a traceback reach the user. (A database in a missing folder, this
    # test's case before, is a mistake now: tests/test_mistakes.py.)
    import sys

    from linkkeeper import store
    from linkkeeper.cli import entry

    def broken(_db):
        raise RuntimeError("a statement the code got wrong")

    monkeypatch.setattr(store, "counts", broken)
    monkeypatch.setattr(sys, "argv", ["linkkeeper", "--db", str(tmp_path / "x.db"), "status"])
    with pytest.raises(SystemExit) as ended:
        entry()
    err = capsys.readouterr().err
    assert ended.value.code == 3
    assert "Traceback" in err and "RuntimeError: a statement the code got wrong" in err
    assert err.rstrip().endswith("please report this at https://github.com/linkkeeper/linkkeeper/issues, with the "
                                 "lines above")


@pytest.mark.parametrize("umask", [0o027, 0o002])
def test_reports_and_exports_get_the_mode_the_users_umask_gives(run, tmp_path, umask):
    # files.py writes through a private temporary file; what lands must be an ordinary new file of the user's.
    import os
    import stat

    assert run("ingest", str(sample_export_path())).exit_code == 0
    previous = os.umask(umask)
    try:
        assert run("report", "--out", str(tmp_path / "r")).exit_code == 0
        assert run("export", "-o", str(tmp_path / "out.xml")).exit_code == 0
    finally:
        os.umask(previous)
    written = [tmp_path / "out.xml", *(tmp_path / "r" / f"report.{kind}" for kind in ("json", "csv", "md", "html"))]
    for path in written:
        assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask, path
