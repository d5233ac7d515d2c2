"""The `linkkeeper` command line: parse, call one library function, print. No SQL and no HTTP here.

Every way a command can end is decided here, in `Commands.main` and `entry`: a mistake the user can fix gets
one line on stderr, `linkkeeper: error: ...`, and exit code 2; a run that fails for the world's reasons (the
network, the archive, the disk) one line and exit 3; Ctrl-C and SIGTERM one line saying what was kept, and
130 or 143; only a bug prints a traceback, with where to report it (exits.py has the codes).
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import threading
from pathlib import Path
from typing import Callable

import click

from linkkeeper import __version__, store
from linkkeeper.exits import (EXIT_BREAKAGE, EXIT_FAILED, EXIT_OK, EXIT_USAGE, REPORT_BUGS_AT, SignalNote,
                              os_error_line)
from linkkeeper.net.session import run as run_stage
from linkkeeper.settings import SettingsError, load

# `linkkeeper --help` lists the commands in the order of the work (docs/commands.md follows it).
COMMAND_ORDER = ("demo", "ingest", "check", "repair", "review", "approve", "reject", "edit", "known-url", "export", "report",
                 "run", "preserve", "decisions", "status")
NOTHING_INGESTED = "nothing ingested yet{where}: run `linkkeeper ingest FILE` first"
# sqlite3 errors that are the machine's state, not a bug: the run failed (exit 3), in one line.
SQLITE_TROUBLE = ("locked", "busy", "disk", "full", "readonly", "unable to open", "malformed")


class Mistake(click.ClickException):
    """Something the user can fix: a path, a setting, the input, the order of the commands. Exit code 2."""

    exit_code = EXIT_USAGE


class RunFailed(click.ClickException):
    """The world failed the run: the network or the archive cannot be reached, the disk is full. Exit code 3."""

    exit_code = EXIT_FAILED


def _one_line(exc: click.ClickException) -> str:
    message = " ".join(exc.format_message().split())
    if isinstance(exc, click.UsageError) and exc.ctx is not None:
        message += f" (see `{exc.ctx.command_path} --help`)"
    return message


class Context:
    """What every command shares: the global options, and what to say if the command is stopped."""

    def __init__(self) -> None:
        self.config: str | None = None
        self.db_flag: str | None = None
        # Set by a command once it has work under way: the line a stop prints ("812 of 2,000 checks saved").
        self.on_stop: Callable[[], str] | None = None

    def settings(self, **flags):
        try:
            return load(self.config, db=self.db_flag, **flags)
        except SettingsError as exc:
            raise Mistake(str(exc)) from None

    def open_db(self, settings, *, ingested: bool = False):
        """The database, made if need be; `ingested` refuses one with no posts (and makes none)."""
        path = settings.db
        memory = path == ":memory:"
        if ingested and not memory and not Path(path).exists():
            raise Mistake(NOTHING_INGESTED.format(where=f" (there is no database {path})"))
        folder = Path(path).parent
        if not memory and not folder.is_dir():
            raise Mistake(f"cannot open the database {path}: there is no folder {folder}")
        try:
            db = store.open_db(path)
        except sqlite3.DatabaseError as exc:
            if "not a database" in str(exc):
                raise Mistake(f"{path} is not a linkkeeper database: not an SQLite file") from None
            if isinstance(exc, sqlite3.OperationalError) and "unable to open" in str(exc):
                raise Mistake(f"cannot open the database {path}: {exc}") from None
            if isinstance(exc, sqlite3.OperationalError) and "readonly" in str(exc):
                raise Mistake(f"cannot write to the database {path}: the file or its folder is read-only") from None
            raise
        if ingested and not store.counts(db)["posts"]:
            raise Mistake(NOTHING_INGESTED.format(where=f" in {path}"))
        return db

    def stopped_line(self) -> str:
        return self.on_stop() if self.on_stop else "nothing is left half-done"


class Commands(click.Group):
    """The top-level group: its commands in the order of the work, and every ending but a bug's."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        known = super().list_commands(ctx)
        return [n for n in COMMAND_ORDER if n in known] + [n for n in known if n not in COMMAND_ORDER]

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        # click's standalone endings (its usage block, "Aborted!", exit 1 on Ctrl-C) are replaced by the ones
        # below; whoever calls (the console script, CliRunner) gets these and a SystemExit, as standalone.
        state = extra.pop("obj", None) or Context()
        with SignalNote() as note:
            try:
                code = super().main(args, prog_name or "linkkeeper", complete_var, standalone_mode=False,
                                    obj=state, **extra)
            except (click.Abort, KeyboardInterrupt):
                # click turns Ctrl-C into Abort; SIGTERM arrives as Ctrl-C (SignalNote).
                click.echo(f"linkkeeper: stopped by {note.name}: {state.stopped_line()}", err=True)
                sys.exit(note.exit_code)
            except click.ClickException as exc:
                click.echo(f"linkkeeper: error: {_one_line(exc)}", err=True)
                sys.exit(exc.exit_code)
            except OSError as exc:
                code, message = os_error_line(exc)
                click.echo(f"linkkeeper: error: {message}", err=True)
                sys.exit(code)
            except sqlite3.DatabaseError as exc:
                if not any(word in str(exc) for word in SQLITE_TROUBLE):
                    raise  # a statement the code got wrong: a bug
                click.echo(f"linkkeeper: error: the run failed: the database: {exc}", err=True)
                sys.exit(EXIT_FAILED)
        sys.exit(code if isinstance(code, int) else EXIT_OK)


def _date(value: str | None) -> str | None:
    if value is None:
        return None
    from datetime import date
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from None


date_options = [
    click.option("--from", "date_from", callback=lambda c, p, v: _date(v), help="First post date (YYYY-MM-DD)."),
    click.option("--to", "date_to", callback=lambda c, p, v: _date(v), help="Last post date (YYYY-MM-DD), inclusive."),
]


def with_dates(fn):
    for option in reversed(date_options):
        fn = option(fn)
    return fn


@click.group(cls=Commands, name="linkkeeper")
@click.version_option(__version__, prog_name="linkkeeper")
@click.option("--config", type=click.Path(dir_okay=False), help="Settings file (default: ./linkkeeper.toml).")
@click.option("--db", metavar="PATH", help="SQLite database (default: linkkeeper.db).")
@click.pass_obj
def main(obj: Context, config: str | None, db: str | None) -> None:
    """Check a blog's original-article links, repair dead ones from the Wayback Machine, write back a
    patched export.

    Exit codes: 0 done, 1 a link newly broke, 2 a mistake to fix, 3 the run failed, 130/143 stopped."""
    obj.config, obj.db_flag = config, db


def _output_file(path: str) -> Path:
    """A file the command is to write: its folder must exist (a typo should not make new folders)."""
    folder = Path(path).parent
    if not folder.exists():
        raise Mistake(f"cannot write {path}: there is no folder {folder}")
    if not folder.is_dir():
        raise Mistake(f"cannot write {path}: {folder} is a file, not a folder")
    return Path(path)


def _output_folder(path: str) -> str:
    if Path(path).exists() and not Path(path).is_dir():
        raise Mistake(f"cannot write the reports into {path}: it is a file, not a folder")
    return path


@main.command()
@click.option("--out", "out_dir", default="reports", show_default=True, type=click.Path(file_okay=False),
              help="Where the reports, the patched export and the database (demo.db) go.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option("--leave-for-review", is_flag=True,
              help="Approve nothing automatically, and serve the review page on the simulated web and archive "
                   "until Ctrl+C.")
@click.pass_obj
def demo(obj: Context, out_dir: str, as_json: bool, leave_for_review: bool) -> None:
    """The whole job offline: a bundled sample blog checked, repaired and its nullified links recovered,
    against a simulated web and Wayback Machine. The global --db names its database (recreated)."""
    from linkkeeper.demo import is_demo_database, run_demo

    db_path = Path(obj.db_flag) if obj.db_flag else None
    if db_path is not None and db_path.exists() and not is_demo_database(db_path):
        raise Mistake(f"{db_path} holds more than the demo's blog, and the demo starts its database afresh: "
                      f"give --db a new file, or leave it out ({Path(out_dir) / 'demo.db'})")
    obj.on_stop = lambda: "the demo stopped; run it again to start over"

    def serving(url: str, next_step: str, summary: dict) -> None:
        # The review page is up on the demo's world: say where, what to do after, what a stop keeps; then wait.
        if as_json:
            click.echo(json.dumps(summary | {"review": url}, indent=2))
        click.echo(f"review: {url} (Ctrl+C to stop)", err=as_json)
        click.echo(f"next: decide the repairs in your browser, press Ctrl+C, then run `{next_step}`", err=as_json)
        obj.on_stop = lambda: f"review ended; every decision is saved. Next: `{next_step}`"
        threading.Event().wait()

    summary = run_demo(Path(out_dir), db_path, echo=None if as_json else click.echo,
                       auto_approve_confidence=1.01 if leave_for_review else None,
                       review=serving if leave_for_review else None)
    if as_json:
        click.echo(json.dumps(summary, indent=2))


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.pass_obj
def ingest(obj: Context, file: str) -> None:
    """Read an export into the database: Blogger Atom (legacy or Takeout), WordPress WXR, Blogger API JSON or
    JSON Lines, judged by the file's content."""
    from linkkeeper.sources.ingest import ingest as run_ingest
    from linkkeeper.sources import ExportError

    settings = obj.settings()
    db = obj.open_db(settings)
    obj.on_stop = lambda: f"nothing of {file} was stored (a file goes in whole or not at all); run again"
    try:
        result = run_ingest(db, file, blog_hosts=settings.blog_hosts)
    except ExportError as exc:
        raise Mistake(f"{exc}; nothing was ingested from this file") from None
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    click.echo(f"{file} ({result.format}): {result.posts} posts ({result.changed} new or changed), "
               f"{result.original_links} Original Article links ({result.nullified} nullified), "
               f"{result.without_original} posts without one, {result.outbound_links} other outbound links "
               f"-> {settings.db}")


@main.command()
@with_dates
@click.option("--all-links", is_flag=True, help="Check every outbound link, not only Original Article links.")
@click.option("--confirm-now", is_flag=True,
              help="Re-probe failures in this run instead of over days (a one-off bulk repair); such verdicts "
                   "are flagged as resting on a single day's evidence.")
@click.option("--concurrency", type=click.IntRange(min=1), help="Requests in flight at once.")
@click.option("--per-host", type=click.IntRange(min=1), help="Requests in flight per host.")
@click.option("--timeout", "total_timeout", type=click.FloatRange(min=0, min_open=True),
              help="Total seconds per request.")
@click.pass_obj
def check(obj: Context, date_from, date_to, all_links, confirm_now, concurrency, per_host, total_timeout) -> None:
    """Check each post's Original Article link (every outbound link with --all-links). Exits 1 when a link
    became dead or soft-404 in this run."""
    from linkkeeper.check.runner import check_urls, reading_for
    from linkkeeper.net.reach import network_failure
    from linkkeeper.progress import Console

    settings = obj.settings(concurrency=concurrency, per_host=per_host, total_timeout=total_timeout)
    db = obj.open_db(settings, ingested=True)
    urls = list(store.links_to_check(db, date_from=date_from, date_to=date_to, all_links=all_links))
    problem = run_stage(network_failure(settings, urls))
    if problem:
        raise RunFailed(problem)
    # Original Article links are read in full (soft-404 and drift tests); other links get HEAD, then the
    # opening of an HTML page (not-found, parked, challenge and sibling tests).
    originals = set(store.links_to_check(db, date_from=date_from, date_to=date_to)) if all_links else None
    console, done = Console(name="check", every=5.0), 0

    def saved(_evidence, _state) -> None:
        nonlocal done
        done += 1
        console.progress("checked", done, len(urls))

    obj.on_stop = lambda: (f"{done:,} of {len(urls):,} checks saved; `linkkeeper check` checks every link anew, "
                           f"`linkkeeper run` only those due")
    summary = run_stage(check_urls(db, urls, settings, confirm_now=confirm_now, on_result=saved,
                                   want_body=reading_for(originals)))
    click.echo(f"checked {summary.checked} URLs: " + ", ".join(f"{k} {v}" for k, v in sorted(summary.verdicts.items()))
               + f"; newly broken {summary.new_dead}")
    sys.exit(EXIT_BREAKAGE if summary.new_dead else EXIT_OK)


@main.command()
@with_dates
@click.option("--no-recover", is_flag=True, help="Skip recovering nullified Original Article links from the "
                                                 "archive's index (recover.py).")
@click.pass_obj
def repair(obj: Context, date_from, date_to, no_recover) -> None:
    """Propose a Wayback Machine capture for each dead (or nullified, URL known) Original Article link, then
    recover the URLs of nullified ones. Resumable: links already decided are skipped."""
    from linkkeeper.net.reach import archive_failure
    from linkkeeper.repair.recover import RecoveryConfigError, run_repair_command

    settings = obj.settings()
    db = obj.open_db(settings, ingested=True)

    def to_do() -> int:
        dead = sum(1 for _ in store.links_needing_repair(db, date_from=date_from, date_to=date_to))
        lost = 0 if no_recover else sum(1 for _ in store.nullified_links_to_recover(db, date_from=date_from,
                                                                                    date_to=date_to))
        return dead + lost

    before = to_do()
    if before:
        problem = run_stage(archive_failure(settings))
        if problem:
            raise RunFailed(problem)
    obj.on_stop = lambda: f"{before - to_do():,} of {before:,} repairs saved; run again to continue"
    try:
        run_repair_command(db, settings, date_from=date_from, date_to=date_to, recover=not no_recover,
                           echo=click.echo)
    except RecoveryConfigError as exc:
        raise Mistake(str(exc)) from None


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Anything but loopback lets other machines read the queue.")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on; 0 takes a free one (the address printed names it).")
@click.pass_obj
def review(obj: Context, host: str, port: int) -> None:
    """A local web page to approve, reject, edit, mark "not dead", bulk-approve and undo repairs."""
    from linkkeeper.desk.review import create_app, is_loopback
    from linkkeeper.sim.servers import BackgroundServer

    settings = obj.settings()
    obj.open_db(settings, ingested=True).conn.close()  # creates the tables before the first request needs them
    if not is_loopback(host):
        click.echo(f"warning: review listens on {host}, not on loopback: anyone who can reach it can read the "
                   "queue (decisions still need the page's token)", err=True)
    server = BackgroundServer(create_app(settings.db, settings, bind_host=host), host=host, port=port)
    try:
        url = server.start()
    except OSError as exc:
        reason = os.strerror(exc.errno).lower() if exc.errno else str(exc)
        raise Mistake(f"cannot listen on {host}:{port}: {reason}"
                      + (" (is another review running? --port 0 takes a free port)" if port else "")) from None
    try:
        click.echo(f"review: {url}/ (Ctrl+C to stop)")
        obj.on_stop = lambda: "review ended; every decision is saved"
        threading.Event().wait()
    finally:
        server.stop()


def _decide(obj: Context, ids, state: str, note: str | None) -> None:
    settings = obj.settings()
    db = obj.open_db(settings)
    try:
        n = store.decide_repairs(db, ids, state, note, origin="cli")  # recorded in `decisions`, undoable
    except (KeyError, ValueError) as exc:
        raise Mistake(str(exc.args[0])) from None
    click.echo(f"{n} repairs {state}")


@main.command()
@click.argument("ids", nargs=-1, type=int, required=True)
@click.option("--note", help="Why (stored with the decision).")
@click.pass_obj
def approve(obj: Context, ids, note) -> None:
    """Approve repairs by id: their replacements go into the next export."""
    _decide(obj, ids, "approved", note)


@main.command()
@click.argument("ids", nargs=-1, type=int, required=True)
@click.option("--note", help="Why (stored with the decision).")
@click.pass_obj
def reject(obj: Context, ids, note) -> None:
    """Reject repairs by id: the link is left as it is."""
    _decide(obj, ids, "rejected", note)


@main.command()
@click.argument("item")
@click.argument("url")
@click.option("--approve", is_flag=True, help="Approve the new replacement too (one undo reverts both).")
@click.option("--note", help="Why (stored with the decision); needed to save a replacement that failed a check.")
@click.option("--anyway", is_flag=True, help="Save it although a check failed (needs --note).")
@click.pass_obj
def edit(obj: Context, item: str, url: str, approve: bool, note: str | None, anyway: bool) -> None:
    """Give a link another replacement, checked before it is saved. ITEM is a repair id (as the report and
    `review` show it), or the link id of a link with no repair (a nullified link nothing was found for). URL is
    a Wayback Machine capture of the link's URL, or a live URL (for a nullified link, the article's URL)."""
    from linkkeeper.desk import decisions as curator
    from linkkeeper.desk.verify import check_lines, check_one

    settings = obj.settings()
    db = obj.open_db(settings, ingested=True)
    try:
        link = curator.link_for(db, item)
    except (KeyError, ValueError) as exc:
        raise Mistake(str(exc.args[0])) from None
    checked = run_stage(check_one(db, settings, link, url))
    click.echo(f"{url}:")
    for line in check_lines(checked):
        click.echo(line)
    try:
        curator.save_edit(db, link, checked, approve=approve, note=note, anyway=anyway, origin="cli")
    except curator.EditRefused as exc:
        hint = "" if anyway else " (to save it anyway: --anyway --note 'why')"
        raise Mistake(f"{exc}{hint}") from None
    except curator.ReplacementError as exc:
        raise Mistake(f"not saved: {exc}") from None
    what = f"repair {link['repair_id']}" if link["repair_id"] is not None else f"link {link['link_id']}"
    click.echo(f"{what}: {'saved and approved' if approve else 'saved, waiting for approval'}: {checked.replacement}"
               + ("" if checked.ok else " (although a check failed; your note is kept with it)"))


@main.command("known-url")
@click.argument("post_id")
@click.argument("url")
@click.pass_obj
def known_url(obj: Context, post_id: str, url: str) -> None:
    """Tell linkkeeper the URL a nullified Original Article link should have had; `repair` then finds its capture."""
    if not url.lower().startswith(("http://", "https://")):
        raise click.BadParameter(f"{url!r} is not an http(s) URL")
    settings = obj.settings()
    db = obj.open_db(settings)
    try:
        link = store.set_known_url(db, post_id, url)
    except KeyError as exc:
        raise Mistake(str(exc.args[0])) from None
    click.echo(f"link {link} of post {post_id}: known URL {url}")


@main.command()
@click.option("--format", "fmt", type=click.Choice(["wxr", "jsonl", "blogger-atom", "blogger-json"]), default=None,
              help="The source's own format (the default), or jsonl from any source.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="Where to write the patched export.")
@click.option("--source", "source_path", type=click.Path(dir_okay=False),
              help="Which ingested export to patch (needed when several were ingested).")
@click.pass_obj
def export(obj: Context, fmt: str | None, output: str, source_path: str | None) -> None:
    """Write the ingested export back with approved replacements in the hrefs, and nothing else changed
    (or, with --format jsonl, the ingested posts as JSON Lines with the replacements in their HTML)."""
    from linkkeeper.sources.export import ExportSourceError, export_patched

    settings = obj.settings()
    db = obj.open_db(settings, ingested=True)
    _output_file(output)
    obj.on_stop = lambda: f"{output} was not written (it is written whole or not at all)"
    try:
        result = export_patched(db, output, source_path=source_path, format=fmt, robust_links=settings.robust_links)
    except ExportSourceError as exc:
        raise Mistake(str(exc)) from None
    except (KeyError, ValueError) as exc:
        # The file and the database disagree (a post or anchor the repair names is not in the file):
        # nothing was written, and the message says which.
        raise Mistake(f"cannot patch the export: {exc.args[0] if exc.args else exc}") from None
    click.echo(f"{output} ({result.format}): {result.changed} hrefs replaced in {result.posts} posts "
               f"(from {result.source})" + ("; Robust Links attributes on each" if settings.robust_links else ""))


@main.command()
@click.option("--out", "out_dir", type=click.Path(file_okay=False), help="Report folder (default: reports/).")
@click.option("--all-links", is_flag=True, help="Report every outbound link, not only Original Article links.")
@click.option("--since", metavar="LAST_RUN",
              help="List only links whose verdict or repair changed since: 'last' (the previous report), "
                   "'last-run' (the start of the last completed `linkkeeper run`) or a "
                   "date or UTC date-time (2026-11-27, 2026-11-27T08:00:00Z).")
@click.pass_obj
def report(obj: Context, out_dir: str | None, all_links: bool, since: str | None) -> None:
    """Write report.json, report.csv, report.md and report.html."""
    from linkkeeper.desk.report import write_reports

    settings = obj.settings()
    db = obj.open_db(settings, ingested=True)
    folder = _output_folder(out_dir or settings.reports_dir)
    if since and since.strip().lower() == "last-run":
        last_run = store.last_completed_run(db)
        if last_run is None:
            raise Mistake("--since last-run: no `linkkeeper run` has completed in this database yet")
        since = last_run["started_at"]
    obj.on_stop = lambda: "no report was written (they are written whole or not at all)"
    try:
        paths = write_reports(db, folder, all_links=all_links, since=since)
    except ValueError as exc:
        raise Mistake(str(exc)) from None
    for kind, path in paths.items():
        click.echo(f"{kind}: {path}")


@main.command()
@click.pass_obj
def status(obj: Context) -> None:
    """Counts of posts, links, verdicts and repairs in the database."""
    settings = obj.settings()
    db = obj.open_db(settings)
    click.echo(json.dumps(store.counts(db), indent=2))


# ═══════════════════════════════════ THE NIGHTLY RUN (nightly.py) ═══════════════════════════════════

@main.command("run")
@click.argument("source")
@click.option("--full", is_flag=True,
              help="Read the whole feed and note the posts no longer in it as deleted (otherwise only what "
                   "changed since the last run is read, and a full read happens every full_every_days).")
@click.option("--max-checks", type=click.IntRange(min=0), help="Check at most this many links (oldest due first).")
@click.option("--all-links", is_flag=True, help="Check every outbound link, not only Original Article links.")
@click.option("--no-repair", is_flag=True, help="Do not look up captures for newly dead links.")
@click.option("--preserve", is_flag=True, help="Send live links to Save Page Now (when this version can).")
@click.option("--no-report", is_flag=True, help="Do not write the reports.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), help="Report folder (default: reports/).")
@click.option("--feed-format", type=click.Choice(["atom", "json"]), default="atom", show_default=True,
              help="Which representation of the blog's feed to read.")
@click.option("--json", "as_json", is_flag=True, help="Print the run's summary as JSON.")
@click.option("--break-lock", is_flag=True,
              help="Take over the lock of a run that is known to be gone (one on another host, say).")
@click.pass_obj
def run_command(obj: Context, source: str, full: bool, max_checks: int | None, all_links: bool, no_repair: bool,
                preserve: bool, no_report: bool, out_dir: str | None, feed_format: str, as_json: bool,
                break_lock: bool) -> None:
    """The nightly integrity run: ingest SOURCE (an export file, or the blog's address to read its public
    feed), check the links that are due, repair newly dead ones, write the reports. Resumable and safe to
    schedule. Exits 0 when healthy, 1 when a link broke since the last run, 2 on bad usage, settings or
    input, 3 when the run failed or another run holds the lock, 130/143 when stopped by SIGINT/SIGTERM."""
    from linkkeeper import nightly as pipeline
    from linkkeeper.sources.feed import is_address

    settings = obj.settings(max_checks=max_checks)
    if not is_address(source) and not Path(source).is_file():
        raise Mistake(f"{source}: not an export file nor a blog address (http:// or https://)")
    if out_dir:
        _output_folder(out_dir)
    db = obj.open_db(settings)
    options = pipeline.RunOptions(source=source, full=full, all_links=all_links, repair=not no_repair,
                                  preserve=preserve, report=not no_report, reports_dir=out_dir,
                                  feed_format=feed_format, break_lock=break_lock)
    result = pipeline.run(db, settings, options, console=pipeline.Console())
    if as_json:
        click.echo(pipeline.result_json(result))
    else:
        click.echo(result.summary_line())
    if result.status == "interrupted":
        click.echo(f"linkkeeper: {result.message}", err=True)
    elif result.exit_code >= EXIT_USAGE:
        click.echo(f"linkkeeper: error: {result.message}", err=True)
    sys.exit(result.exit_code)

# ═════════════════════════════════ END THE NIGHTLY RUN ═════════════════════════════════


# ═══════════════════════════════════ PRESERVATION: Save Page Now (preserve.py) ═══════════════════════════════════

@main.command()
@with_dates
@click.option("--limit", type=click.IntRange(min=1), help="Ask for at most N captures in this run.")
@click.pass_obj
def preserve(obj: Context, date_from, date_to, limit: int | None) -> None:
    """Ask Save Page Now to capture live Original Article links the Wayback Machine has no capture of.

    Signed in (SPN2) when LINKKEEPER_SPN_ACCESS_KEY and LINKKEEPER_SPN_SECRET are set, anonymous otherwise."""
    from linkkeeper.net.reach import archive_failure
    from linkkeeper.repair.preserve import preserve_links

    settings = obj.settings()
    db = obj.open_db(settings, ingested=True)
    problem = run_stage(archive_failure(settings, ("cdx", "availability", "save")))
    if problem:
        raise RunFailed(problem)
    sent = 0

    def show(row: dict) -> None:
        nonlocal sent
        sent += 1
        detail = row.get("archive_url") or row.get("status_ext") or row.get("message") or ""
        click.echo(f"{row['status']}: {row['url']} {detail}".rstrip())

    obj.on_stop = lambda: f"{sent:,} links handled and saved; run again to continue"
    summary = run_stage(preserve_links(db, settings, date_from=date_from, date_to=date_to, limit=limit,
                                       on_result=show))
    requests = sum(summary.archive_requests.values())
    click.echo(f"{summary.considered} live links looked at ({summary.mode}): {summary.already_archived} already "
               f"archived, {summary.requested} sent to Save Page Now, {summary.captured} captured, "
               f"{summary.failed} failed ({summary.target_gone} unreachable for Save Page Now), "
               f"{summary.pending} still pending ({requests} archive requests)")
    if summary.stopped:
        click.echo(f"stopped: {summary.stopped}", err=True)
    sys.exit(EXIT_FAILED if summary.stopped and "refused" in summary.stopped else EXIT_OK)

# ═════════════════════════════════ END PRESERVATION ═════════════════════════════════


# ═══════════════════════════════════ THE CURATOR'S DESK: decisions ═══════════════════════════════════

@main.group()
def decisions() -> None:
    """The curator's decisions as CSV: export them, or import decisions made elsewhere."""


@decisions.command("export")
@click.argument("file", type=click.Path(dir_okay=False))
@click.pass_obj
def decisions_export(obj: Context, file: str) -> None:
    """Write every decision (undone ones too) to FILE.csv."""
    from linkkeeper.desk.decisions import export_decisions

    settings = obj.settings()
    _output_file(file)
    n = export_decisions(obj.open_db(settings), file)
    click.echo(f"{file}: {n} decisions")


@decisions.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--note", help="Stored with decisions whose row has no note.")
@click.pass_obj
def decisions_import(obj: Context, file: str, note: str | None) -> None:
    """Apply the decisions in FILE.csv (validated first: one bad row and nothing is applied)."""
    from linkkeeper.desk.decisions import DecisionImportError, import_decisions

    settings = obj.settings()
    try:
        result = import_decisions(obj.open_db(settings), file, note=note)
    except DecisionImportError as exc:
        for line, message in exc.errors:
            click.echo(f"{file}:{line}: {message}", err=True)
        raise Mistake(f"{len(exc.errors)} bad rows: nothing was imported") from None
    click.echo(f"{file}: {result.applied} decisions applied, {result.unchanged} already in effect, "
               f"{result.skipped_undone} undone ones skipped")


@decisions.command("undo")
@click.pass_obj
def decisions_undo(obj: Context) -> None:
    """Revert the latest batch of decisions (a bulk approve or an import is one batch)."""
    from linkkeeper.desk.decisions import undo

    settings = obj.settings()
    try:
        undone = undo(obj.open_db(settings))
    except store.UndoConflict as exc:
        raise Mistake(str(exc)) from None
    if not undone:
        click.echo("nothing to undo")
    for d in reversed(undone):
        click.echo(f"undone: {d['action']} of repair {d['repair_id']} ({d['previous_state']} -> {d['new_state']})")

# ═════════════════════════════════ END THE CURATOR'S DESK ═════════════════════════════════


def entry() -> None:
    """The console script. Every ending the user can act on is handled in Commands.main; what reaches here
    is a bug: its traceback, where to report it, and exit code 3 (the run failed), so that a scheduler can
    tell a crash from "new breakage found" (1)."""
    try:
        main()
    except Exception:  # noqa: BLE001 - printed in full: it is the report a maintainer needs
        import traceback
        traceback.print_exc()
        click.echo(f"linkkeeper: error: the run failed on a bug in linkkeeper {__version__}; please report this "
                   f"at {REPORT_BUGS_AT}, with the lines above", err=True)
        sys.exit(EXIT_FAILED)
