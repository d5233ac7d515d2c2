"""Export: write an ingested export back with the approved replacements in its hrefs and nothing else
changed. The source module does the byte-exact patching; this module picks the source and checks that the
file on disk is still the one that was ingested."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from linkkeeper import store
from linkkeeper.ingest import file_sha256
from linkkeeper.sources import blogger


class ExportSourceError(Exception):
    """The export cannot be written from what was ingested (which source, or the file changed)."""


@dataclass
class ExportResult:
    source: str
    posts: int
    changed: int


def pick_source(db, source_path: str | None) -> dict:
    sources = list(db["sources"].rows)
    if source_path:
        wanted = str(Path(source_path).resolve())
        sources = [s for s in sources if s["path"] == wanted]
        if not sources:
            raise ExportSourceError(f"{source_path} was never ingested into this database")
    if not sources:
        raise ExportSourceError("nothing has been ingested yet: run `linkkeeper ingest FILE` first")
    if len(sources) > 1:
        names = ", ".join(s["path"] for s in sources)
        raise ExportSourceError(f"several exports were ingested ({names}): choose one with --source")
    return sources[0]


def export_patched(db, output: str | Path, *, source_path: str | None = None) -> ExportResult:
    source = pick_source(db, source_path)
    path = Path(source["path"])
    if not path.exists():
        raise ExportSourceError(f"{path}: the ingested export is no longer there")
    if file_sha256(path) != source["sha256"]:
        raise ExportSourceError(f"{path}: the file changed since it was ingested; ingest it again first")
    if Path(output).resolve() == path.resolve():
        raise ExportSourceError(f"{output}: refusing to overwrite the ingested export; write to another file")
    replacements = store.approved_replacements(db, source["id"])
    changed = blogger.write_patched(path, output, replacements)
    return ExportResult(str(path), len(replacements), changed)
