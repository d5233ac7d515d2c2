"""The `linkkeeper` command line: parse, call one library function, print. No SQL and no HTTP here."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from linkkeeper import __version__, store
from linkkeeper.net.session import run as run_stage
from linkkeeper.settings import SettingsError, load

EXIT_OK, EXIT_BREAKAGE, EXIT_USAGE, EXIT_FAILED = 0, 1, 2, 3


class Context:
    def __init__(self, config: str | None, db: str | None) -> None:
        self.config = config
        self.db_flag = db

    def settings(self, **flags):
        try:
            return load(self.config, db=self.db_flag, **flags)
        except SettingsError as exc:
            raise click.UsageError(str(exc)) from None

    def open_db(self, settings):
        return store.open_db(settings.db)


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


@click.group()
@click.version_option(__version__, prog_name="linkkeeper")
@click.option("--config", type=click.Path(dir_okay=False), help="Settings file (default: ./linkkeeper.toml).")
@click.option("--db", help="SQLite database (default: linkkeeper.db).")
@click.pass_context
def main(ctx: click.Context, config: str | None, db: str | None) -> None:
    """Check a blog's original-article links, repair dead ones from the Wayback Machine, write back a
    patched export."""
    ctx.obj = Context(config, db)


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
    try:
        result = run_ingest(db, file, blog_hosts=settings.blog_hosts)
    except ExportError as exc:
        click.echo(f"error: {exc}", err=True)
        click.echo("nothing was ingested from this file", err=True)
        sys.exit(EXIT_USAGE)
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
@click.option("--concurrency", type=int, help="Requests in flight at once.")
@click.option("--per-host", type=int, help="Requests in flight per host.")
@click.option("--timeout", "total_timeout", type=float, help="Total seconds per request.")
@click.pass_obj
def check(obj: Context, date_from, date_to, all_links, confirm_now, concurrency, per_host, total_timeout) -> None:
    """Check each post's Original Article link (every outbound link with --all-links). Exits 1 when a link
    became dead or soft-404 in this run."""
    from linkkeeper.check.runner import check_urls

    settings = obj.settings(concurrency=concurrency, per_host=per_host, total_timeout=total_timeout)
    db = obj.open_db(settings)
    urls = list(store.links_to_check(db, date_from=date_from, date_to=date_to, all_links=all_links))
    # Original Article links are read in full (soft-404 and drift tests); other links get HEAD first.
    originals = set(store.links_to_check(db, date_from=date_from, date_to=date_to)) if all_links else None
    summary = run_stage(check_urls(db, urls, settings, confirm_now=confirm_now,
                                     want_body=(lambda u: u in originals) if originals is not None else (lambda u: True)))
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
    from linkkeeper.repair.recover import RecoveryConfigError, run_repair_command

    settings = obj.settings()
    db = obj.open_db(settings)
    try:
        run_repair_command(db, settings, date_from=date_from, date_to=date_to, recover=not no_recover,
                           echo=click.echo)
    except RecoveryConfigError as exc:
        raise click.UsageError(str(exc)) from None


def _decide(obj: Context, ids, state: str, note: str | None) -> None:
    settings = obj.settings()
    db = obj.open_db(settings)
    try:
        n = store.decide_repairs(db, ids, state, note, origin="cli")  # recorded in `decisions`, undoable
    except (KeyError, ValueError) as exc:
        raise click.UsageError(str(exc.args[0])) from None
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
        raise click.UsageError(str(exc.args[0])) from None
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
    db = obj.open_db(settings)
    try:
        result = export_patched(db, output, source_path=source_path, format=fmt)
    except ExportSourceError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    except (KeyError, ValueError) as exc:
        # The file and the database disagree (a post or anchor the repair names is not in the file):
        # nothing was written, and the message says which.
        click.echo(f"error: cannot patch the export: {exc.args[0] if exc.args else exc}", err=True)
        sys.exit(EXIT_USAGE)
    click.echo(f"{output} ({result.format}): {result.changed} hrefs replaced in {result.posts} posts "
               f"(from {result.source})")


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
    db = obj.open_db(settings)
    if since and since.strip().lower() == "last-run":
        last_run = store.last_completed_run(db)
        if last_run is None:
            raise click.UsageError("--since last-run: no `linkkeeper run` has completed in this database yet")
        since = last_run["started_at"]
    try:
        paths = write_reports(db, out_dir or settings.reports_dir, all_links=all_links, since=since)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    for kind, path in paths.items():
        click.echo(f"{kind}: {path}")


@main.command()
@click.option("--out", "out_dir", default="reports", show_default=True, type=click.Path(file_okay=False),
              help="Where the reports and the patched export go.")
@click.option("--db", "demo_db", default=None, help="Database for the demo (default: OUT/demo.db, recreated).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option("--leave-for-review", is_flag=True,
              help="Approve nothing automatically: every proposal waits for `linkkeeper review`.")
def demo(out_dir: str, demo_db: str | None, as_json: bool, leave_for_review: bool) -> None:
    """The whole job offline: a bundled sample blog checked against a simulated web and Wayback Machine."""
    from linkkeeper.demo import run_demo

    summary = run_demo(Path(out_dir), Path(demo_db) if demo_db else None, echo=None if as_json else click.echo,
                       auto_approve_confidence=1.01 if leave_for_review else None)
    if as_json:
        click.echo(json.dumps(summary, indent=2))


@main.command()
@click.pass_obj
def status(obj: Context) -> None:
    """Counts of posts, links, verdicts and repairs in the database."""
    settings = obj.settings()
    db = obj.open_db(settings)
    click.echo(json.dumps(store.counts(db), indent=2))


# ═══════════════════════════════════ THE NIGHTLY RUN (pipeline.py) ═══════════════════════════════════

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
    input, 3 when the run failed, was interrupted or another run holds the lock."""
    from linkkeeper import nightly as pipeline
    from linkkeeper.sources.feed import is_address

    settings = obj.settings(max_checks=max_checks)
    if not is_address(source) and not Path(source).is_file():
        raise click.UsageError(f"{source}: not an export file nor a blog address (http:// or https://)")
    db = obj.open_db(settings)
    options = pipeline.RunOptions(source=source, full=full, all_links=all_links, repair=not no_repair,
                                  preserve=preserve, report=not no_report, reports_dir=out_dir,
                                  feed_format=feed_format, break_lock=break_lock)
    result = pipeline.run(db, settings, options, console=pipeline.Console())
    if as_json:
        click.echo(pipeline.result_json(result))
    else:
        click.echo(result.summary_line())
    if result.exit_code >= pipeline.EXIT_USAGE:
        click.echo(f"error: {result.message}", err=True)
    sys.exit(result.exit_code)

# ═════════════════════════════════ END THE NIGHTLY RUN ═════════════════════════════════


# ═══════════════════════════════════ THE CURATOR'S DESK: review, decisions ═══════════════════════════════════

@main.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Anything but loopback lets other machines read the queue.")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65535))
@click.pass_obj
def review(obj: Context, host: str, port: int) -> None:
    """A local web page to approve, reject, edit, mark "not dead", bulk-approve and undo repairs."""
    from linkkeeper.desk.review import is_loopback, serve

    settings = obj.settings()
    obj.open_db(settings).conn.close()  # creates the tables before the first request needs them
    if not is_loopback(host):
        click.echo(f"warning: review listens on {host}, not on loopback: anyone who can reach it can read the "
                   "queue (decisions still need the page's token)", err=True)
    serve(settings.db, settings, host=host, port=port, print_fn=click.echo)


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
        click.echo(f"{len(exc.errors)} bad rows: nothing was imported", err=True)
        sys.exit(EXIT_USAGE)
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
        raise click.UsageError(str(exc)) from None
    if not undone:
        click.echo("nothing to undo")
    for d in reversed(undone):
        click.echo(f"undone: {d['action']} of repair {d['repair_id']} ({d['previous_state']} -> {d['new_state']})")

# ═════════════════════════════════ END THE CURATOR'S DESK ═════════════════════════════════


# ═══════════════════════════════════ PRESERVATION: Save Page Now (preserve.py) ═══════════════════════════════════

@main.command()
@with_dates
@click.option("--limit", type=click.IntRange(min=1), help="Ask for at most N captures in this run.")
@click.pass_obj
def preserve(obj: Context, date_from, date_to, limit: int | None) -> None:
    """Ask Save Page Now to capture live Original Article links the Wayback Machine has no capture of.

    Signed in (SPN2) when LINKKEEPER_SPN_ACCESS_KEY and LINKKEEPER_SPN_SECRET are set, anonymous otherwise."""
    from linkkeeper.repair.preserve import preserve_links

    settings = obj.settings()
    db = obj.open_db(settings)

    def show(row: dict) -> None:
        detail = row.get("archive_url") or row.get("status_ext") or row.get("message") or ""
        click.echo(f"{row['status']}: {row['url']} {detail}".rstrip())

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


def entry() -> None:
    """The console script: the click group, with any unexpected failure turned into exit code 3 (the run
    failed) so that schedulers can tell a crash from "new breakage found" (1)."""
    try:
        main(standalone_mode=True)
    except SystemExit:
        raise
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(EXIT_FAILED)
    except Exception:  # noqa: BLE001 - the traceback is printed; the exit code says what kind of end it was
        import traceback
        traceback.print_exc()
        click.echo("error: the run failed (see above)", err=True)
        sys.exit(EXIT_FAILED)
