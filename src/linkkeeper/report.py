"""Reports: report.json, report.csv and a single-file report.html (no external assets, everything escaped),
one row per link: the post, the link, its verdict with evidence, and the proposed replacement."""

from __future__ import annotations

import csv
import html
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Iterable

from linkkeeper import __version__, store

REPORT_SCHEMA_VERSION = 1

CSV_COLUMNS = ["post_id", "post_url", "post_title", "post_published", "outlet", "author", "role", "url",
               "verdict", "status", "final_url", "error_class", "last_checked", "nullified_reason",
               "repair_id", "repair_state", "replacement", "capture_timestamp", "confidence"]


def link_record(row: dict) -> dict:
    """One link as report.json writes it (the schema in the README)."""
    return {
        "post": {"id": row["post_id"], "url": row["post_url"], "title": row["post_title"],
                 "published": row["post_published"], "outlet": row["outlet"], "author": row["author"]},
        "link": {"id": row["link_id"], "role": row["role"], "url": row["url"], "anchor_text": row["anchor_text"]},
        "verdict": row["verdict"] or "unchecked",
        "evidence": {"status": row["status"], "final_url": row["final_url"], "error_class": row["error_class"],
                     "error": row["error"], "method": row["method"], "redirect_chain": row["redirect_chain"],
                     "elapsed_ms": row["elapsed_ms"], "checked_at": row["last_checked"],
                     "nullified_reason": row["nullified_reason"]},
        "repair": None if row["repair_id"] is None else {
            "id": row["repair_id"], "state": row["repair_state"], "reason": row["repair_reason"],
            "replacement": row["replacement"], "capture_timestamp": row["capture_timestamp"],
            "confidence": row["confidence"], "evidence": row["repair_evidence"]},
    }


def csv_safe(value: Any) -> Any:
    """Keep a spreadsheet from running a cell as a formula (CSV injection): prefix a quote."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _atomic_write(path: Path, write) -> None:
    """Write through a temporary file in the same folder, so a report is never seen half-written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            write(fh)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def write_reports(db, out_dir: str | Path, *, all_links: bool = False, generated_at: str | None = None) -> dict[str, Path]:
    out = Path(out_dir)
    generated_at = generated_at or store.utcnow()
    summary = store.counts(db)
    paths = {"json": out / "report.json", "csv": out / "report.csv", "html": out / "report.html"}

    def write_json(fh) -> None:
        # Streamed row by row: the report of a big blog never sits in memory whole.
        head = {"schema": REPORT_SCHEMA_VERSION, "generator": f"linkkeeper {__version__}",
                "generated_at": generated_at, "summary": summary}
        fh.write(json.dumps(head, ensure_ascii=False, indent=1)[:-2] + ',\n "links": [')
        for i, row in enumerate(store.report_rows(db, all_links=all_links)):
            fh.write(("\n  " if i == 0 else ",\n  ") + json.dumps(link_record(row), ensure_ascii=False))
        fh.write("\n ]\n}\n")

    def write_csv(fh) -> None:
        writer = csv.writer(fh)
        writer.writerow(CSV_COLUMNS)
        for row in store.report_rows(db, all_links=all_links):
            writer.writerow([csv_safe(row.get(c)) for c in CSV_COLUMNS])

    def write_html(fh) -> None:
        fh.write(render_html(store.report_rows(db, all_links=all_links), summary, generated_at))

    _atomic_write(paths["json"], write_json)
    _atomic_write(paths["csv"], write_csv)
    _atomic_write(paths["html"], write_html)
    return paths


# --- HTML -------------------------------------------------------------------------------------------------

_STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
h1{font-size:1.4em}table{border-collapse:collapse;width:100%}
th,td{border-bottom:1px solid #ddd;padding:4px 6px;text-align:left;vertical-align:top}
th{background:#f4f4f4;cursor:pointer;position:sticky;top:0}
.v-alive,.v-redirected{color:#176b1b}.v-dead{color:#b00020;font-weight:600}.v-nullified{color:#8a4b00;font-weight:600}
.v-blocked,.v-unknown,.v-refused{color:#6b5900}.summary span{display:inline-block;margin-right:1.2em}
.small{font-size:12px;color:#555}input{margin:.5em 0;padding:4px;width:20em}
"""

_SCRIPT = """
document.getElementById('filter').addEventListener('input',function(e){var q=e.target.value.toLowerCase();
document.querySelectorAll('#links tbody tr').forEach(function(r){r.style.display=r.textContent.toLowerCase().indexOf(q)<0?'none':''})});
document.querySelectorAll('#links th').forEach(function(th,i){th.addEventListener('click',function(){
var tb=th.closest('table').tBodies[0],rows=Array.from(tb.rows),asc=th.dataset.asc!=='1';th.dataset.asc=asc?'1':'0';
rows.sort(function(a,b){var x=a.cells[i].textContent,y=b.cells[i].textContent;return asc?x.localeCompare(y):y.localeCompare(x)});
rows.forEach(function(r){tb.appendChild(r)})})});
"""


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _link(url: str | None, text: str | None = None) -> str:
    if not url:
        return ""
    # Only web links become clickable: a javascript: or data: URL from an export stays inert text.
    if not url.lower().startswith(("http://", "https://")):
        return _e(text or url)
    return f'<a href="{_e(url)}" rel="noopener noreferrer">{_e(text or url)}</a>'


def render_html(rows: Iterable[dict], summary: dict, generated_at: str) -> str:
    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>linkkeeper report</title>"
             f"<style>{_STYLE}</style></head><body><h1>linkkeeper report</h1>"
             f"<p class='small'>Generated {_e(generated_at)}</p><p class='summary'>"]
    parts.append(f"<span>Posts: <b>{_e(summary['posts'])}</b></span>"
                 f"<span>Original links: <b>{_e(summary['original_links'])}</b></span>")
    for verdict, n in sorted(summary["verdicts"].items()):
        parts.append(f"<span class='v-{_e(verdict)}'>{_e(verdict)}: <b>{_e(n)}</b></span>")
    for state, n in sorted(summary["repairs"].items()):
        parts.append(f"<span>repairs {_e(state)}: <b>{_e(n)}</b></span>")
    parts.append("</p><input id='filter' placeholder='Filter rows' aria-label='Filter rows'>"
                 "<table id='links'><thead><tr><th>Published</th><th>Post</th><th>Outlet</th><th>Link</th>"
                 "<th>Verdict</th><th>Evidence</th><th>Replacement</th><th>Confidence</th><th>Repair</th>"
                 "</tr></thead><tbody>")
    for row in rows:
        verdict = row["verdict"] or "unchecked"
        chain = " → ".join(f"{h['status']} {h['location']}" for h in row["redirect_chain"])
        evidence = "; ".join(filter(None, [
            f"HTTP {row['status']}" if row["status"] else None, row["error_class"], row["nullified_reason"],
            f"redirects: {chain}" if chain else None]))
        confidence = "" if row["confidence"] is None else f"{row['confidence']:.2f}"
        parts.append(
            f"<tr><td>{_e((row['post_published'] or '')[:10])}</td>"
            f"<td>{_link(row['post_url'], row['post_title'] or '(untitled)') or _e(row['post_title'] or '(untitled)')}</td>"
            f"<td>{_e(row['outlet'])}</td><td>{_link(row['url']) or _e(row['url'])}</td>"
            f"<td class='v-{_e(verdict)}'>{_e(verdict)}</td><td class='small'>{_e(evidence)}</td>"
            f"<td>{_link(row['replacement'], row['capture_timestamp'])}</td><td>{_e(confidence)}</td>"
            f"<td>{_e(row['repair_state'])}</td></tr>")
    parts.append(f"</tbody></table><script>{_SCRIPT}</script></body></html>\n")
    return "".join(parts)
