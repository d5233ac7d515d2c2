"""A newcomer's mistakes (issue 13): each gets one line on stderr, `linkkeeper: error: ...`, and the exit code
that says whose move it is - 2 a mistake to fix (a path, a setting, the order of the commands), 3 the run
failed (the network or the archive cannot be reached), 130 / 143 stopped by Ctrl-C / SIGTERM with the work
done kept. A traceback is for bugs only (tests/test_cli.py). The signals are sent to real processes."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from linkkeeper.cli import COMMAND_ORDER, main
from linkkeeper.demo import sample_export_path
from linkkeeper.progress import Console
from linkkeeper.settings import RANGES, Settings, SettingsError, load
from linkkeeper.sim.servers import BackgroundServer, closed_port

SAMPLE = str(sample_export_path())


def clean_env(**settings: str) -> dict[str, str | None]:
    """No LINKKEEPER_ variable of the machine running the tests, and the given ones."""
    env: dict[str, str | None] = {k: None for k in os.environ if k.startswith("LINKKEEPER_")}
    env.update({f"LINKKEEPER_{k.upper()}": v for k, v in settings.items()})
    return env


@pytest.fixture
def lk(tmp_path, monkeypatch):
    """`linkkeeper ARGS` in a fresh folder holding blog.db (the sample blog ingested), a file and a folder."""
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()

    def invoke(*args: str, **settings: str):
        return runner.invoke(main, list(args), env=clean_env(**settings), catch_exceptions=False)

    assert invoke("--db", "blog.db", "ingest", SAMPLE).exit_code == 0
    (tmp_path / "afile").write_text("not a folder\n")
    (tmp_path / "adir").mkdir()
    (tmp_path / "notsqlite.db").write_text("hello, I am not a database\n")
    return invoke


def one_line(result) -> str:
    """The mistake's one line: stderr holds it alone, and no traceback."""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("linkkeeper: error: ") and "Traceback" not in result.output
    return lines[0]


# ---------------------------------------------------------------------------- paths: exit 2, one line

@pytest.mark.parametrize("args, message", [
    (["--db", "nosuchdir/x.db", "status"], "cannot open the database nosuchdir/x.db: there is no folder nosuchdir"),
    (["--db", "notsqlite.db", "status"], "notsqlite.db is not a linkkeeper database: not an SQLite file"),
    (["--db", "adir", "status"], "cannot open the database adir: unable to open database file"),
    (["--db", "blog.db", "report", "--out", "afile"], "Invalid value for '--out': Directory 'afile' is a file."),
    (["--db", "blog.db", "export", "-o", "nodir/out.xml"], "cannot write nodir/out.xml: there is no folder nodir"),
    (["--db", "blog.db", "export", "-o", "afile/out.xml"], "cannot write afile/out.xml: afile is a file, not a folder"),
    (["--db", "blog.db", "export", "-o", "adir"], "Invalid value for '-o' / '--output': File 'adir' is a directory."),
    (["--db", "blog.db", "decisions", "export", "nodir/d.csv"], "cannot write nodir/d.csv: there is no folder nodir"),
    (["--db", "blog.db", "ingest", "nosuchfile.xml"], "Invalid value for 'FILE': File 'nosuchfile.xml' does not exist."),
])
def test_a_path_that_cannot_be_used_is_one_line_and_exit_2(lk, args, message):
    result = lk(*args)
    assert result.exit_code == 2
    assert message in one_line(result)


def test_a_reports_setting_naming_a_file_is_refused(lk):
    result = lk("--db", "blog.db", "report", reports_dir="afile")
    assert result.exit_code == 2
    assert one_line(result) == "linkkeeper: error: cannot write the reports into afile: it is a file, not a folder"


def test_a_database_file_is_not_made_by_a_command_that_needs_one(lk, tmp_path):
    result = lk("--db", "typo.db", "check")
    assert result.exit_code == 2 and not (tmp_path / "typo.db").exists()


@pytest.mark.parametrize("command", [["check"], ["repair"], ["report"], ["export", "-o", "out.xml"], ["review"],
                                     ["preserve"]])
def test_nothing_ingested_yet_says_what_to_run_first(lk, command):
    missing = lk("--db", "new.db", *command)
    assert missing.exit_code == 2
    assert one_line(missing) == ("linkkeeper: error: nothing ingested yet (there is no database new.db): run "
                                 "`linkkeeper ingest FILE` first")
    assert lk("--db", "empty.db", "status").exit_code == 0  # an empty database
    empty = lk("--db", "empty.db", *command)
    assert empty.exit_code == 2
    assert one_line(empty) == "linkkeeper: error: nothing ingested yet in empty.db: run `linkkeeper ingest FILE` first"


def test_usage_mistakes_name_the_help_to_read(lk):
    result = lk("--db", "blog.db", "check", "--bogus")
    assert result.exit_code == 2
    assert one_line(result) == "linkkeeper: error: No such option '--bogus'. (see `linkkeeper check --help`)"
    unknown = lk("frobnicate")
    assert unknown.exit_code == 2 and one_line(unknown).endswith("(see `linkkeeper --help`)")


def test_the_demo_will_not_start_afresh_a_database_holding_another_blog(lk, tmp_path):
    other = tmp_path / "other.xml"
    other.write_text(sample_export_path().read_text(encoding="utf-8"), encoding="utf-8")
    assert lk("--db", "mine.db", "ingest", str(other)).exit_code == 0
    result = lk("--db", "mine.db", "demo")
    assert result.exit_code == 2
    assert "mine.db holds more than the demo's blog" in one_line(result)
    assert json.loads(lk("--db", "mine.db", "status").stdout)["posts"] == 30  # untouched
    assert lk("--db", "notsqlite.db", "demo").exit_code == 2


def test_a_review_port_in_use_is_one_line(lk):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = lk("--db", "blog.db", "review", "--port", str(port))
    assert result.exit_code == 2
    assert f"cannot listen on 127.0.0.1:{port}: address already in use" in one_line(result)


# ---------------------------------------------------------------------------- settings: ranges, exit 2

@pytest.mark.parametrize("env, flags, message", [
    ({"concurrency": "-5"}, [], "environment variable LINKKEEPER_CONCURRENCY: setting 'concurrency' = -5 must be at "
                                "least 1"),
    ({"per_host": "0"}, [], "setting 'per_host' = 0 must be at least 1"),
    ({}, ["--timeout", "-1"], "Invalid value for '--timeout': -1.0 is not in the range x>0."),
    ({}, ["--concurrency", "0"], "Invalid value for '--concurrency': 0 is not in the range x>=1."),
    ({"total_timeout": "0"}, [], "setting 'total_timeout' = 0.0 must be more than 0"),
    ({"drift_threshold": "1.5"}, [], "setting 'drift_threshold' = 1.5 must be between 0 and 1"),
    ({"cdx_rate": "nan"}, [], "setting 'cdx_rate' = nan must be a finite number"),
    ({"wayback_cdx_url": "ftp://example.org/cdx"}, [], "setting 'wayback_cdx_url' = 'ftp://example.org/cdx' is not "
                                                       "an http(s) URL"),
    ({"nullified_from": "2012-13-01"}, [], "setting 'nullified_from' = '2012-13-01' must be a date, YYYY-MM-DD"),
    ({"nullified_from": "2013-01-01"}, [], "nullified_from (2013-01-01) is after nullified_to (2012-12-11)"),
    ({"allow_addresses": "10.0.0.0/8,nonsense"}, [], "holds 'nonsense', not an address or network"),
])
def test_a_setting_out_of_its_range_is_refused_before_any_work(lk, env, flags, message):
    result = lk("--db", "blog.db", "check", *flags, **env)
    assert result.exit_code == 2
    assert message in one_line(result)


@pytest.mark.parametrize("name", sorted(RANGES))
def test_every_numeric_setting_has_its_range_checked(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no settings file
    low, high, open_low = RANGES[name]
    kind = type(getattr(Settings(), name))
    bad = (low if open_low else low - 1) if low is not None else None
    with pytest.raises(SettingsError, match=name):
        load(None, env={f"LINKKEEPER_{name.upper()}": str(kind(bad))})
    if high is not None:
        with pytest.raises(SettingsError, match=name):
            load(None, env={f"LINKKEEPER_{name.upper()}": str(kind(high + 1))})
    # The default is in range, and so is the least value allowed.
    assert getattr(load(None, env={}), name) == getattr(Settings(), name)
    least = low + (0.5 if open_low else 0)
    assert getattr(load(None, env={f"LINKKEEPER_{name.upper()}": str(kind(least))}),
                   name) == kind(least)


def test_a_rate_of_0_means_no_limit_and_a_threshold_above_1_approves_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    env = {"LINKKEEPER_CDX_RATE": "0", "LINKKEEPER_AUTO_APPROVE_CONFIDENCE": "1.01"}
    settings = load(None, env=env)
    assert (settings.cdx_rate, settings.auto_approve_confidence) == (0.0, 1.01)


# ---------------------------------------------------------------------------- the world: exit 3, within seconds

def test_an_unreachable_archive_ends_repair_at_once(lk):
    dead = f"http://127.0.0.1:{closed_port()}"
    started = time.monotonic()
    result = lk("--db", "blog.db", "repair", wayback_cdx_url=f"{dead}/cdx/search/cdx", wayback_replay_url=f"{dead}/web/")
    assert result.exit_code == 3 and time.monotonic() - started < 10
    assert one_line(result) == (f"linkkeeper: error: cannot reach the archive: 127.0.0.1:{dead.rsplit(':', 1)[1]}: "
                                f"connection refused; nothing was looked up")


def test_an_archive_whose_name_does_not_resolve_ends_repair_at_once(lk):
    result = lk("--db", "blog.db", "repair", wayback_cdx_url="http://archive.invalid/cdx/search/cdx",
                wayback_replay_url="http://archive.invalid/web/")
    assert result.exit_code == 3
    assert one_line(result).startswith("linkkeeper: error: cannot reach the archive: archive.invalid: the name does "
                                       "not resolve")


def test_no_network_ends_check_at_once_with_nothing_stored(lk, tmp_path):
    started = time.monotonic()
    result = lk("--db", "blog.db", "check", "--confirm-now", connect_to=f"*:*:127.0.0.1:{closed_port()}")
    assert result.exit_code == 3 and time.monotonic() - started < 10
    assert re.fullmatch(r"linkkeeper: error: cannot reach the network: none of the 6 most linked sites answers "
                        r"\(www\.\S+: connection refused; .*\); nothing was checked", one_line(result))
    with sqlite3.connect(tmp_path / "blog.db") as db:
        assert db.execute("SELECT count(*) FROM checks").fetchone()[0] == 0


def test_no_network_ends_the_nightly_run_with_exit_3(lk):
    result = lk("--db", "blog.db", "run", SAMPLE, "--no-report", connect_to=f"*:*:127.0.0.1:{closed_port()}")
    assert result.exit_code == 3
    assert "linkkeeper: error: cannot reach the network: none of the 6 most linked sites answers" in result.stderr


# ---------------------------------------------------------------------------- the command line's manners

def test_help_lists_the_commands_in_the_order_of_the_work():
    text = CliRunner().invoke(main, ["--help"]).output
    listed = re.findall(r"^  ([a-z-]+)  ", text.split("Commands:")[1], re.MULTILINE)
    assert listed == list(COMMAND_ORDER)
    assert listed[:4] == ["demo", "ingest", "check", "repair"] and listed.index("review") < listed.index("export")


def test_check_shows_its_progress_in_plain_lines_without_a_terminal(lk, tmp_path):
    web = BackgroundServer(_slow_app(0.0))
    base = web.start()
    try:
        result = lk("--db", "blog.db", "check", connect_to=f"*:*:127.0.0.1:{base.rsplit(':', 1)[1]}")
    finally:
        web.stop()
    assert result.exit_code in (0, 1), result.output
    assert re.search(r"^\S+Z linkkeeper check: checked: 24/24$", result.stderr, re.MULTILINE)
    assert "\r" not in result.stderr


def test_the_console_logs_every_few_seconds_or_draws_a_bar():
    import io

    now = [0.0]
    plain = io.StringIO()
    console = Console(plain, tty=False, name="check", every=5.0, clock=lambda: now[0])
    for done in range(1, 101):
        now[0] += 0.3  # 30 seconds in all: a line every 5 seconds, and the last
        console.progress("checked", done, 100)
    counts = [int(m) for m in re.findall(r"linkkeeper check: checked: (\d+)/100", plain.getvalue())]
    assert counts[-1] == 100 and 5 <= len(counts) <= 7
    tty = io.StringIO()
    Console(tty, tty=True).progress("checked", 3, 10)
    assert tty.getvalue().startswith("\rchecked  [#########") and tty.getvalue().endswith("3/10")


def test_review_on_port_0_prints_the_port_it_got(tmp_path):
    db = tmp_path / "blog.db"
    _ingest(db)
    proc = _start(tmp_path, "--db", str(db), "review", "--port", "0")
    try:
        line = proc.stdout.readline()
        port = int(re.fullmatch(r"review: http://127\.0\.0\.1:(\d+)/ \(Ctrl\+C to stop\)\n", line)[1])
        assert port != 0
        import urllib.request
        assert urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5).status == 200
    finally:
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=15)
    assert proc.returncode == 130
    assert err.strip() == "linkkeeper: stopped by SIGINT: review ended; every decision is saved"


# ---------------------------------------------------------------------------- Ctrl-C and SIGTERM, on real processes

def _slow_app(delay: float):
    import asyncio

    from aiohttp import web

    async def page(request):
        await asyncio.sleep(delay)
        return web.Response(text="<html><head><title>A page</title></head><body><p>Some text.</p></body></html>",
                            content_type="text/html")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", page)
    return app


def _ingest(db: Path) -> None:
    result = CliRunner().invoke(main, ["--db", str(db), "ingest", SAMPLE], env=clean_env(), catch_exceptions=False)
    assert result.exit_code == 0, result.output


def _start(cwd: Path, *args: str, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "linkkeeper", *args], cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=_process_env(env))


def _process_env(settings: dict | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LINKKEEPER_")}
    env.update({f"LINKKEEPER_{k.upper()}": v for k, v in (settings or {}).items()})
    return env


def _checks(db: Path) -> int:
    """Links with a check stored."""
    with sqlite3.connect(db) as conn:
        try:
            return conn.execute("SELECT count(*) FROM url_status").fetchone()[0]
        except sqlite3.OperationalError:
            return 0  # the run has not made its tables yet


@pytest.fixture(scope="module")
def slow_web():
    """A web where every page takes a quarter of a second: a check of the sample blog lasts several seconds."""
    with BackgroundServer(_slow_app(0.25)) as base:
        yield base.rsplit(":", 1)[1]


@pytest.mark.parametrize("command, sig, code, line", [
    (["check"], signal.SIGINT, 130, r"stopped by SIGINT: (\d+) of 24 checks saved; `linkkeeper check` checks every "
                                    r"link anew, `linkkeeper run` only those due"),
    (["check"], signal.SIGTERM, 143, r"stopped by SIGTERM: (\d+) of 24 checks saved; "),
    (["run", SAMPLE, "--no-report"], signal.SIGINT, 130, r"interrupted by SIGINT: 30 posts read, (\d+) of 24 due "
                                                          r"checks saved; the next run carries on from there"),
    (["run", SAMPLE, "--no-report"], signal.SIGTERM, 143, r"interrupted by SIGTERM: 30 posts read, (\d+) of 24 due "
                                                            r"checks saved; "),
])
def test_a_stopped_command_keeps_its_work_says_so_and_exits_128_plus_the_signal(tmp_path, slow_web, command, sig,
                                                                              code, line):
    db = tmp_path / "blog.db"
    if command[0] == "check":
        _ingest(db)
    env = {"connect_to": f"*:*:127.0.0.1:{slow_web}", "per_host": "1", "concurrency": "2"}
    proc = _start(tmp_path, "--db", str(db), *command, env=env)
    deadline = time.monotonic() + 60
    while not (db.exists() and _checks(db) >= 2):
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.05)
    proc.send_signal(sig)
    _out, err = proc.communicate(timeout=30)
    assert proc.returncode == code, err
    last = err.strip().splitlines()[-1]
    saved = re.fullmatch(r"linkkeeper: " + line + ".*", last)
    assert saved, last
    assert 2 <= int(saved[1]) < 24 and _checks(db) == int(saved[1])  # what it says it kept is what is kept
    assert "Traceback" not in err
