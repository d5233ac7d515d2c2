"""The `linkkeeper` command line: parse, call one library function, print. No SQL and no HTTP here."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import click

from linkkeeper import __version__, store
from linkkeeper.settings import SettingsError, load

EXIT_OK, EXIT_BREAKAGE, EXIT_USAGE, EXIT_FAILED = 0, 1, 2, 3


class Context:
    def __init__(self, config: str | None, db: str | None) -> None:
        self.config = config
        self.db_flag = db
        self._settings = None

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
    """Read a Blogger export (legacy or Takeout Atom) into the database."""
    from linkkeeper.ingest import ingest as run_ingest
    from linkkeeper.sources.blogger import ExportError

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
    click.echo(f"{file}: {result.posts} posts ({result.changed} new or changed), "
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
    from linkkeeper.check import check_urls

    settings = obj.settings(concurrency=concurrency, per_host=per_host, total_timeout=total_timeout)
    db = obj.open_db(settings)
    urls = list(store.links_to_check(db, date_from=date_from, date_to=date_to, all_links=all_links))
    # Original Article links are read in full (soft-404 and drift tests); other links get HEAD first.
    originals = set(store.links_to_check(db, date_from=date_from, date_to=date_to)) if all_links else None
    summary = asyncio.run(check_urls(db, urls, settings, confirm_now=confirm_now,
                                     want_body=(lambda u: u in originals) if originals is not None else (lambda u: True)))
    click.echo(f"checked {summary.checked} URLs: " + ", ".join(f"{k} {v}" for k, v in sorted(summary.verdicts.items()))
               + f"; newly broken {summary.new_dead}")
    sys.exit(EXIT_BREAKAGE if summary.new_dead else EXIT_OK)


@main.command()
@with_dates
@click.pass_obj
def repair(obj: Context, date_from, date_to) -> None:
    """Propose a Wayback Machine capture for each dead (or nullified, URL known) Original Article link."""
    from linkkeeper.repair import propose_repairs

    settings = obj.settings()
    db = obj.open_db(settings)
    summary = asyncio.run(propose_repairs(db, settings, date_from=date_from, date_to=date_to))
    requests = sum(summary.archive_requests.values())
    click.echo(f"{summary.considered} links needed repair: {summary.approved} approved automatically, "
               f"{summary.proposed - summary.approved} for review, {summary.unavailable} with no usable capture "
               f"({requests} archive requests)")


def _decide(obj: Context, ids, state: str, note: str | None) -> None:
    settings = obj.settings()
    db = obj.open_db(settings)
    try:
        n = store.decide_repairs(db, ids, state, note)
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
@click.option("--format", "fmt", type=click.Choice(["blogger-atom"]), default="blogger-atom", show_default=True)
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="Where to write the patched export.")
@click.option("--source", "source_path", type=click.Path(dir_okay=False),
              help="Which ingested export to patch (needed when several were ingested).")
@click.pass_obj
def export(obj: Context, fmt: str, output: str, source_path: str | None) -> None:
    """Write the ingested export back with approved replacements in the hrefs, and nothing else changed."""
    from linkkeeper.export import ExportSourceError, export_patched

    settings = obj.settings()
    db = obj.open_db(settings)
    try:
        result = export_patched(db, output, source_path=source_path)
    except ExportSourceError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    click.echo(f"{output}: {result.changed} hrefs replaced in {result.posts} posts (from {result.source})")


@main.command()
@click.option("--out", "out_dir", type=click.Path(file_okay=False), help="Report folder (default: reports/).")
@click.option("--all-links", is_flag=True, help="Report every outbound link, not only Original Article links.")
@click.pass_obj
def report(obj: Context, out_dir: str | None, all_links: bool) -> None:
    """Write report.json, report.csv and report.html."""
    from linkkeeper.report import write_reports

    settings = obj.settings()
    db = obj.open_db(settings)
    paths = write_reports(db, out_dir or settings.reports_dir, all_links=all_links)
    for kind, path in paths.items():
        click.echo(f"{kind}: {path}")


@main.command()
@click.option("--out", "out_dir", default="reports", show_default=True, type=click.Path(file_okay=False),
              help="Where the reports and the patched export go.")
@click.option("--db", "demo_db", default=None, help="Database for the demo (default: OUT/demo.db, recreated).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def demo(out_dir: str, demo_db: str | None, as_json: bool) -> None:
    """The whole job offline: a bundled sample blog checked against a simulated web and Wayback Machine."""
    from linkkeeper.demo import run_demo

    summary = run_demo(Path(out_dir), Path(demo_db) if demo_db else None, echo=None if as_json else click.echo)
    if as_json:
        click.echo(json.dumps(summary, indent=2))


@main.command()
@click.pass_obj
def status(obj: Context) -> None:
    """Counts of posts, links, verdicts and repairs in the database."""
    settings = obj.settings()
    db = obj.open_db(settings)
    click.echo(json.dumps(store.counts(db), indent=2))
