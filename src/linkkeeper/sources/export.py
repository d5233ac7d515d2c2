"""Export: write an ingested export back with the approved replacements in its hrefs and nothing else
changed. The source module does the byte-exact patching; this module picks the source, the format, and checks
that the file on disk is still the one that was ingested.

Each source is written back in its own format (Blogger Atom, WXR, Blogger API JSON, JSON Lines). Any source can
also be written as JSON Lines from the store (for people who post-process), with the replacements applied to
each post's HTML.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from linkkeeper import sources, store
from linkkeeper.sources.ingest import file_sha256
from linkkeeper.sources import jsonl, patching
from linkkeeper.wayback import is_wayback_url, parse_archive_location


class ExportSourceError(Exception):
    """The export cannot be written from what was ingested (which source, which format, or the file changed)."""


@dataclass
class ExportResult:
    source: str
    posts: int
    changed: int
    format: str = "blogger-atom"


def pick_source(db, source_path: str | None) -> dict:
    sources_ = list(db["sources"].rows)
    if source_path:
        # A file is named by any spelling of its path; a source read from elsewhere (a feed) by its address.
        wanted = {source_path, str(Path(source_path).resolve())}
        sources_ = [s for s in sources_ if s["path"] in wanted]
        if not sources_:
            raise ExportSourceError(f"{source_path} was never ingested into this database")
    if not sources_:
        raise ExportSourceError("nothing has been ingested yet: run `linkkeeper ingest FILE` first")
    if len(sources_) > 1:
        names = ", ".join(s["path"] for s in sources_)
        raise ExportSourceError(f"several exports were ingested ({names}): choose one with --source")
    return sources_[0]


def export_patched(db, output: str | Path, *, source_path: str | None = None,
                   format: str | None = None, robust_links: bool = False) -> ExportResult:
    """Write the source with its approved replacements to `output`, in `format` (default: the source's own;
    'jsonl' is possible from any source). With `robust_links`, each repaired anchor also gets the Robust Links
    attributes (robust_hrefs)."""
    source = pick_source(db, source_path)
    own = source["format"]
    try:
        own_format = sources.export_format_of(own)
    except ValueError:
        own_format = None  # not read from a file (a feed): only the store can be exported
    fmt = format or own_format
    if fmt is None:
        raise ExportSourceError(f"{source['path']} was read as {own}, not from an export file: it can only be "
                                "exported with --format jsonl")
    if fmt not in sources.FORMATS:
        raise ExportSourceError(f"unknown export format {fmt!r} (one of {', '.join(sources.FORMATS)})")
    if fmt != own_format and fmt != "jsonl":
        raise ExportSourceError(f"{source['path']} was ingested as {own_format or own}: it can be exported as "
                                f"{own_format + ' (its own format) or ' if own_format else ''}jsonl, not {fmt}")
    replacements = robust_hrefs(db, source["id"]) if robust_links else store.approved_replacements(db, source["id"])
    if fmt != own_format:
        return _export_rows(db, source, output, replacements)

    path = Path(source["path"])
    if not path.exists():
        raise ExportSourceError(f"{path}: the ingested export is no longer there")
    if file_sha256(path) != source["sha256"]:
        raise ExportSourceError(f"{path}: the file changed since it was ingested; ingest it again first")
    if Path(output).resolve() == path.resolve():
        raise ExportSourceError(f"{output}: refusing to overwrite the ingested export; write to another file")
    changed = sources.write_patched(path, output, replacements, format=fmt)
    return ExportResult(str(path), len(replacements), changed, fmt)


def _export_rows(db, source: dict, output, replacements: dict[str, dict[int, str]]) -> ExportResult:
    """JSON Lines from the store: the posts as ingested, the approved hrefs replaced in their HTML."""
    if Path(output).resolve() == Path(source["path"]).resolve():
        raise ExportSourceError(f"{output}: refusing to overwrite the ingested export; write to another file")
    rows = list(store.source_posts(db, source["id"]))
    changed = 0
    for row in rows:
        if replacements.get(row["id"]):
            row["html"], n = patching.patch_html(row["html"], replacements[row["id"]], post_id=row["id"])
            changed += n
    jsonl.write_rows(output, rows)
    return ExportResult(source["path"], len(replacements), changed, "jsonl")


def robust_hrefs(db, source_id: int) -> dict[str, dict[int, str]]:
    """The approved replacements, each carrying the Robust Links attributes (robustlinks.mementoweb.org):
    `data-originalurl` (the page the link pointed at), `data-versionurl` (its capture) and `data-versiondate`
    (the capture's date, YYYY-MM-DD). A replacement with no capture behind it (a live page found by hand)
    gets its href only."""
    out: dict[str, dict[int, str]] = {}
    for post_id, anchors in store.approved_versions(db, source_id).items():
        for index, found in anchors.items():
            original, version = found["original"], found["capture_url"]
            if version is None and found["capture_timestamp"] and is_wayback_url(found["replacement"] or ""):
                version = found["replacement"]
            located = parse_archive_location(original) if original and is_wayback_url(original) else None
            original = located[2] if located else original
            stamp = found["capture_timestamp"] or ""
            attributes: tuple[tuple[str, str], ...] = ()
            if version and original and len(stamp) >= 8 and stamp[:8].isdigit():
                attributes = (("data-originalurl", original), ("data-versionurl", version),
                              ("data-versiondate", f"{stamp[:4]}-{stamp[4:6]}-{stamp[6:8]}"))
            out.setdefault(post_id, {})[index] = patching.Href(found["replacement"], attributes)
    return out
