"""Reports: report.json, report.csv, report.md and a single-file report.html (no external assets, every
value escaped), one row per link: the post, the link, its verdict with evidence, and the proposed
replacement. The HTML adds figures, inline SVG charts (link health by post year and by outlet, and what
changed since the previous report) and a sortable, filterable table.

Everything is streamed: one pass over the links counts the charts' figures, a second writes the four files
row by row, so a blog with 100,000 links never sits in memory whole.
"""

from __future__ import annotations

import csv
import html
import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from linkkeeper import __version__, store
from linkkeeper.files import AtomicFiles
from linkkeeper.text.dates import parse_iso, to_iso

REPORT_SCHEMA_VERSION = 1

CSV_COLUMNS = ["post_id", "post_url", "post_title", "post_published", "outlet", "author", "role", "url",
               "verdict", "status", "final_url", "error_class", "last_checked", "nullified_reason",
               "repair_id", "repair_state", "replacement", "capture_timestamp", "confidence",
               "link_id", "category", "verdict_reason", "repair_note", "marked_not_dead"]

CATEGORIES = store.HEALTH_CATEGORIES
CATEGORY_LABELS = {"working": "working", "repaired": "repaired (approved replacement)", "broken": "broken",
                   "uncertain": "uncertain (blocked, suspect, unknown, ...)", "unchecked": "not checked yet"}
CATEGORY_COLORS = {"working": "#2e7d32", "repaired": "#1565c0", "broken": "#c62828", "uncertain": "#e0a100",
                   "unchecked": "#9e9e9e"}
_WORKING = ("alive", "redirected", "moved")
_BROKEN = ("dead", "soft-404", "nullified")
OUTLETS_SHOWN = 12
HISTORY_SHOWN = 8
_STATE_CHUNK = 2000


# --- what a row means -------------------------------------------------------------------------------------

def mark_active(row: dict) -> bool:
    """A "not dead" mark counts while the URL fails the way it did when the curator marked it."""
    if row.get("mark") != "not-dead" or not row.get("mark_signature"):
        return False
    from linkkeeper.check.verdict import signature

    return row["mark_signature"] == signature(row.get("evidence_class") or row.get("verdict") or "",
                                              row.get("status"), row.get("error_class"))


def category(row: dict) -> str:
    """working / repaired / broken / uncertain / unchecked: how a link counts in figures and charts. An
    approved replacement repairs a link whatever its verdict; a standing "not dead" mark makes it working."""
    verdict = row.get("verdict") or "unchecked"
    if row.get("repair_state") == "approved":
        return "repaired"
    if verdict in _WORKING or mark_active(row):
        return "working"
    if verdict in _BROKEN:
        return "broken"
    if verdict == "unchecked":
        return "unchecked"
    return "uncertain"


def link_record(row: dict) -> dict:
    """One link as report.json writes it (the schema in the README)."""
    return {
        "post": {"id": row["post_id"], "url": row["post_url"], "title": row["post_title"],
                 "published": row["post_published"], "outlet": row["outlet"], "author": row["author"]},
        "link": {"id": row["link_id"], "role": row["role"], "url": row["url"], "anchor_text": row["anchor_text"]},
        "verdict": row["verdict"] or "unchecked",
        "category": category(row),
        "marked_not_dead": mark_active(row),
        "evidence": {"status": row["status"], "final_url": row["final_url"], "error_class": row["error_class"],
                     "error": row["error"], "method": row["method"], "redirect_chain": row["redirect_chain"],
                     "elapsed_ms": row["elapsed_ms"], "checked_at": row["last_checked"],
                     "nullified_reason": row["nullified_reason"], "reason": row.get("verdict_reason")},
        "repair": None if row["repair_id"] is None else {
            "id": row["repair_id"], "state": row["repair_state"], "reason": row["repair_reason"],
            "replacement": row["replacement"], "capture_timestamp": row["capture_timestamp"],
            "confidence": row["confidence"], "evidence": row["repair_evidence"],
            "decided_at": row.get("repair_decided_at"), "note": row.get("repair_note")},
    }


def csv_safe(value: Any) -> Any:
    """Keep a spreadsheet from running a cell as a formula (CSV injection): prefix a quote."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def csv_row(row: dict) -> list:
    values = dict(row, category=category(row), marked_not_dead="yes" if mark_active(row) else "")
    return [csv_safe(values.get(c)) for c in CSV_COLUMNS]


# --- since ------------------------------------------------------------------------------------------------

def resolve_since(db, value: str) -> str:
    """`last` (the previous report's time) or an ISO date or date-time, as a UTC timestamp in the store's form."""
    if value.strip().lower() == "last":
        last = store.last_report_time(db)
        if last is None:
            raise ValueError("--since last: no report has been written from this database yet")
        return last
    try:
        when = parse_iso(value)
    except ValueError:
        raise ValueError(f"--since {value!r}: not 'last' nor a date or date-time (2026-11-27 or "
                         f"2026-11-27T08:00:00Z)") from None
    return to_iso(when)


# --- the survey: figures and chart data, one pass ---------------------------------------------------------

@dataclass
class Survey:
    links: int = 0
    totals: Counter = field(default_factory=Counter)
    by_year: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    by_outlet: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    transitions: Counter = field(default_factory=Counter)  # (previous category or "new", category)
    pending_review: int = 0
    had_previous: bool = False

    def outlets(self, shown: int = OUTLETS_SHOWN) -> list[tuple[str, Counter]]:
        ranked = sorted(self.by_outlet.items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))
        top = ranked[:shown]
        if len(ranked) > shown:
            rest: Counter = Counter()
            for _name, counts in ranked[shown:]:
                rest.update(counts)
            top.append((f"{len(ranked) - shown} other outlets", rest))
        return top

    def as_json(self) -> dict:
        return {"links": self.links, "categories": {c: self.totals.get(c, 0) for c in CATEGORIES},
                "by_year": {y: dict(c) for y, c in sorted(self.by_year.items())},
                "by_outlet": {o: dict(c) for o, c in sorted(self.by_outlet.items())},
                "changes": [{"from": a, "to": b, "links": n} for (a, b), n in self.transitions.most_common()],
                "pending_review": self.pending_review}


def survey(db, *, all_links: bool = False) -> Survey:
    """Count every link of the report's scope by category, post year and outlet, note what changed since the
    previous report, and stage each link's state for this report's snapshot (store.save_report_snapshot)."""
    result = Survey(had_previous=store.previous_report_summary(db) is not None)
    store.begin_link_states(db)
    chunk: list[tuple] = []
    for row in store.report_rows(db, all_links=all_links):
        cat = category(row)
        result.links += 1
        result.totals[cat] += 1
        result.by_year[(row["post_published"] or "????")[:4]][cat] += 1
        result.by_outlet[row["outlet"] or "(no outlet)"][cat] += 1
        result.pending_review += row["repair_state"] == "proposed"
        if result.had_previous and row["previous_category"] != cat:
            result.transitions[(row["previous_category"] or "new", cat)] += 1
        chunk.append((row["link_id"], cat, row["verdict"] or "unchecked", row["repair_state"]))
        if len(chunk) >= _STATE_CHUNK:
            store.add_link_states(db, chunk)
            chunk = []
    store.add_link_states(db, chunk)
    return result


# --- writing ----------------------------------------------------------------------------------------------

def write_reports(db, out_dir: str | Path, *, all_links: bool = False, generated_at: str | None = None,
                  since: str | None = None) -> dict[str, Path]:
    """Write report.json, report.csv, report.md and report.html into out_dir and keep this report's snapshot
    (the next report's "changed since"). `since` ("last" or a timestamp) limits the listed links to those
    whose verdict or repair changed since; the figures and charts always cover every link."""
    out = Path(out_dir)
    generated_at = generated_at or store.utcnow()
    since_ts = resolve_since(db, since) if since else None
    summary = store.counts(db)
    previous = store.previous_report_summary(db)
    surveyed = survey(db, all_links=all_links)
    paths = {"json": out / "report.json", "csv": out / "report.csv", "md": out / "report.md",
             "html": out / "report.html"}
    context = {"generated_at": generated_at, "summary": summary, "survey": surveyed, "previous": previous,
               "since": since_ts, "all_links": all_links}

    with AtomicFiles(paths.values()) as files:
        fj, fc, fm, fh = (files[paths[k]] for k in ("json", "csv", "md", "html"))
        head = {"schema": REPORT_SCHEMA_VERSION, "generator": f"linkkeeper {__version__}",
                "generated_at": generated_at, "since": since_ts, "summary": summary, "health": surveyed.as_json()}
        fj.write(json.dumps(head, ensure_ascii=False, indent=1)[:-2] + ',\n "links": [')
        writer = csv.writer(fc)
        writer.writerow(CSV_COLUMNS)
        fm.write(markdown_head(context))
        fh.write(html_head(context))
        listed = 0
        for row in store.report_rows(db, all_links=all_links, since=since_ts):
            fj.write(("\n  " if listed == 0 else ",\n  ") + json.dumps(link_record(row), ensure_ascii=False))
            writer.writerow(csv_row(row))
            if needs_attention(row):
                fm.write(markdown_row(row))
            fh.write(html_row(row, store.check_history(db, row["url_normalized"], HISTORY_SHOWN)))
            listed += 1
        fj.write("\n ]\n}\n")
        fm.write(markdown_tail(listed))
        fh.write(html_tail(listed))
    snapshot_summary = dict(summary, categories=surveyed.as_json()["categories"],
                            pending_review=surveyed.pending_review)
    store.save_report_snapshot(db, generated_at, snapshot_summary, all_links=all_links)
    return paths


def needs_attention(row: dict) -> bool:
    return category(row) in ("broken", "uncertain") or row["repair_state"] == "proposed"


# --- Markdown ---------------------------------------------------------------------------------------------

# Inside a table cell only these can start markup; "<" and "&" are escaped as HTML entities.
_MD_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_[]|~"})


def _md(value: Any) -> str:
    """Text for a Markdown table cell: no markup, no raw HTML, no line breaks."""
    text = " ".join(("" if value is None else str(value)).split())
    return html.escape(text, quote=False).translate(_MD_SPECIAL)


def _md_link(url: str | None, text: str) -> str:
    if not url or not url.lower().startswith(("http://", "https://")):
        return _md(text)
    target = url.replace(" ", "%20").replace("<", "%3C").replace(">", "%3E")
    return f"[{_md(text)}](<{target}>)"


def _delta(now: int, before: int | None) -> str:
    if before is None or now == before:
        return ""
    return f" ({now - before:+d})"


def markdown_head(ctx: dict) -> str:
    survey_: Survey = ctx["survey"]
    previous = ctx["previous"] or {}
    before = previous.get("categories") or {}
    lines = ["# linkkeeper report", "",
             f"Generated {_md(ctx['generated_at'])} by linkkeeper {__version__}; "
             f"{'every outbound link' if ctx['all_links'] else 'Original Article links'}; "
             f"{ctx['summary']['posts']} posts, {survey_.links} links.", ""]
    if ctx["since"]:
        lines += [f"Links listed: only those whose verdict or repair changed since {_md(ctx['since'])}.", ""]
    lines += ["## Link health", "", "| | links | share |", "|---|---:|---:|"]
    for cat in CATEGORIES:
        n = survey_.totals.get(cat, 0)
        share = f"{100 * n / survey_.links:.0f}%" if survey_.links else "-"
        lines.append(f"| {_md(CATEGORY_LABELS[cat])} | {n}{_delta(n, before.get(cat) if previous else None)} | {share} |")
    lines += ["", f"Repairs waiting for review: {survey_.pending_review}. Repairs by state: "
              + (", ".join(f"{_md(k)} {v}" for k, v in sorted(ctx["summary"]["repairs"].items())) or "none") + ".", ""]
    lines += ["## Changes since the previous report", ""]
    if not survey_.had_previous:
        lines += ["This is the first report from this database: nothing to compare with yet.", ""]
    elif not survey_.transitions:
        lines += ["Nothing changed.", ""]
    else:
        lines += ["| from | to | links |", "|---|---|---:|"]
        lines += [f"| {_md(a)} | {_md(b)} | {n} |" for (a, b), n in survey_.transitions.most_common()]
        lines.append("")
    for title, groups in (("By post year", sorted(survey_.by_year.items())), ("By outlet", survey_.outlets())):
        lines += [f"## {title}", "", "| | " + " | ".join(CATEGORIES) + " | total |",
                  "|---|" + "---:|" * (len(CATEGORIES) + 1)]
        for name, counts in groups:
            lines.append(f"| {_md(name)} | " + " | ".join(str(counts.get(c, 0)) for c in CATEGORIES)
                         + f" | {sum(counts.values())} |")
        lines.append("")
    lines += ["## Links needing attention", "",
              "Broken or uncertain links, and repairs waiting for review.", "",
              "| published | post | outlet | verdict | evidence | repair | replacement | confidence |",
              "|---|---|---|---|---|---|---|---:|"]
    return "\n".join(lines) + "\n"


def markdown_row(row: dict) -> str:
    confidence = "" if row["confidence"] is None else f"{row['confidence']:.2f}"
    repair = "" if row["repair_id"] is None else f"#{row['repair_id']} {row['repair_state']}"
    cells = [_md((row["post_published"] or "")[:10]), _md_link(row["post_url"], row["post_title"] or "(untitled)"),
             _md(row["outlet"]), _md(row["verdict"] or "unchecked"), _md(evidence_text(row)), _md(repair),
             _md_link(row["replacement"], row["capture_timestamp"] or row["replacement"] or ""), confidence]
    return "| " + " | ".join(cells) + " |\n"


def markdown_tail(listed: int) -> str:
    return f"\n{listed} links listed in report.html, report.csv and report.json.\n"


# --- HTML -------------------------------------------------------------------------------------------------

def escape(value: Any) -> str:
    """Any value as HTML text or attribute value (the one escaping the report and the review page use)."""
    return html.escape("" if value is None else str(value), quote=True)


def web_link(url: str | None, text: str | None = None, cls: str = "", new_tab: bool = False) -> str:
    if not url:
        return ""
    # Only web links become clickable: a javascript: or data: URL from an export stays inert text.
    if not url.lower().startswith(("http://", "https://")):
        return escape(text or url)
    klass = f' class="{cls}"' if cls else ""
    target = ' target="_blank"' if new_tab else ""
    return f'<a href="{escape(url)}"{klass}{target} rel="noopener noreferrer">{escape(text or url)}</a>'


def evidence_items(row: dict) -> list[str]:
    """Status, error, nullified reason and the verdict's reason, each once (the reason often repeats one)."""
    items = [f"HTTP {row['status']}" if row["status"] else None, row["error_class"], row.get("error"),
             row["nullified_reason"] and f"nullified: {row['nullified_reason']}", row.get("verdict_reason")]
    return list(dict.fromkeys(x for x in items if x))


def evidence_text(row: dict) -> str:
    chain = " → ".join(f"{h.get('status')} {h.get('location')}" for h in row["redirect_chain"] or [])
    return "; ".join(evidence_items(row) + ([f"redirects: {chain}"] if chain else []))


def capture_label(timestamp: str | None) -> str:
    """How a replacement is named to the curator: the capture's date, or a live page (no timestamp)."""
    if timestamp and len(timestamp) == 14 and timestamp.isdigit():
        return f"capture of {timestamp[:4]}-{timestamp[4:6]}-{timestamp[6:8]} {timestamp[8:10]}:{timestamp[10:12]}"
    return "live page"


_STYLE = """
:root{--fg:#1d2329;--muted:#5b6670;--line:#dde2e6;--bg:#f6f8fa}
*{box-sizing:border-box}body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:var(--fg)}
header{padding:18px 28px 8px}h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:0 0 8px}
main{padding:0 28px 40px}.muted,.small{color:var(--muted)}.small{font-size:12px}
.figures{display:flex;flex-wrap:wrap;gap:10px;margin:12px 0 18px}
.fig{border:1px solid var(--line);border-radius:8px;padding:10px 14px;min-width:130px;background:#fff}
.fig b{display:block;font-size:22px}.fig .d{font-size:12px;color:var(--muted)}
.fig .sw{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:6px}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:16px;margin-bottom:18px}
figure{margin:0;border:1px solid var(--line);border-radius:8px;padding:12px;background:#fff}
figcaption{font-weight:600;margin-bottom:6px}svg{display:block;max-width:100%;height:auto}
svg text{font:11px system-ui,sans-serif;fill:#333}.legend{display:flex;gap:14px;flex-wrap:wrap;margin:6px 0 14px}
.legend span{display:inline-flex;align-items:center;gap:5px;font-size:12px}.legend i{width:11px;height:11px;border-radius:2px;display:inline-block}
.controls{display:flex;flex-wrap:wrap;gap:8px;align-items:center;position:sticky;top:0;background:#fff;padding:8px 0;z-index:2}
.controls input,.controls select{padding:5px 7px;border:1px solid #bbc3ca;border-radius:5px;font:inherit}
.controls input{width:22em}
table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid var(--line);padding:6px 7px;text-align:left;vertical-align:top}
th{background:var(--bg);cursor:pointer;position:sticky;top:46px;white-space:nowrap;user-select:none}
th[aria-sort=ascending]::after{content:" ▲"}th[aria-sort=descending]::after{content:" ▼"}
td.url{min-width:15em;max-width:26em;overflow-wrap:anywhere;font-size:12.5px}td.ev{min-width:17em;max-width:28em;overflow-wrap:anywhere;font-size:12px}
.badge{display:inline-block;border-radius:10px;padding:1px 8px;font-size:12px;color:#fff;white-space:nowrap}
.c-working{background:#2e7d32}.c-repaired{background:#1565c0}.c-broken{background:#c62828}
.c-uncertain{background:#e0a100;color:#222}.c-unchecked{background:#9e9e9e}
.tag{display:inline-block;border:1px solid #bbc3ca;border-radius:10px;padding:0 6px;font-size:11px;color:var(--muted);margin-left:4px}
details summary{cursor:pointer;color:var(--muted)}ol.chain{margin:2px 0 2px 1.2em;padding:0}
ol.hist{font-size:11px;margin:3px 0 0;padding-left:1.3em;color:var(--muted)}
a{color:#0b57a4}
"""

_SCRIPT = """
(function(){
var table=document.getElementById('links'),tbody=table.tBodies[0],rows=Array.prototype.slice.call(tbody.rows);
var q=document.getElementById('q'),fc=document.getElementById('fcat'),fr=document.getElementById('frep'),shown=document.getElementById('shown');
var texts=null;
function apply(){
  if(!texts){texts=rows.map(function(r){return r.textContent.toLowerCase()})}
  var needle=q.value.toLowerCase(),cat=fc.value,rep=fr.value,n=0;
  for(var i=0;i<rows.length;i++){var r=rows[i];
    var ok=(!cat||r.getAttribute('data-category')===cat)&&(!rep||r.getAttribute('data-repair')===rep)&&(!needle||texts[i].indexOf(needle)>=0);
    r.hidden=!ok;if(ok)n++}
  shown.textContent=n;
}
q.addEventListener('input',apply);fc.addEventListener('change',apply);fr.addEventListener('change',apply);
var heads=table.tHead.rows[0].cells;
Array.prototype.forEach.call(heads,function(th,i){th.addEventListener('click',function(){
  var asc=th.getAttribute('aria-sort')!=='ascending';
  Array.prototype.forEach.call(heads,function(h){h.removeAttribute('aria-sort')});
  th.setAttribute('aria-sort',asc?'ascending':'descending');
  function key(r){var c=r.cells[i];var s=c.getAttribute('data-sort');return s!==null?s:c.textContent.trim().toLowerCase()}
  var numeric=th.getAttribute('data-type')==='number';
  var order=rows.map(function(r,j){return [key(r),j]});
  order.sort(function(a,b){var x=a[0],y=b[0],d;
    if(numeric){x=x===''?-1:+x;y=y===''?-1:+y;d=x-y}else{d=x<y?-1:x>y?1:0}
    return (asc?d:-d)||a[1]-b[1]});
  var frag=document.createDocumentFragment(),next=[],oldTexts=texts;
  order.forEach(function(p){frag.appendChild(rows[p[1]]);next.push(rows[p[1]])});
  if(oldTexts){texts=order.map(function(p){return oldTexts[p[1]]})}
  rows=next;tbody.appendChild(frag);
})});
})();
"""


def html_head(ctx: dict) -> str:
    survey_: Survey = ctx["survey"]
    summary = ctx["summary"]
    previous = ctx["previous"]
    before = (previous or {}).get("categories") or {}
    scope = "every outbound link" if ctx["all_links"] else "Original Article links"
    parts = ["<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
             "<meta name='viewport' content='width=device-width,initial-scale=1'>"
             f"<title>linkkeeper report {escape(ctx['generated_at'][:10])}</title><style>{_STYLE}</style></head><body>"
             f"<header><h1>linkkeeper report</h1><div class='muted'>Generated {escape(ctx['generated_at'])} by "
             f"linkkeeper {escape(__version__)} · {escape(scope)} · {escape(summary['posts'])} posts</div></header><main>"]
    parts.append("<section class='figures' aria-label='Summary figures'>")
    parts.append(_figure("Links", survey_.links, None if previous is None else sum(before.values())))
    for cat in CATEGORIES:
        n = survey_.totals.get(cat, 0)
        share = f"{100 * n / survey_.links:.0f}%" if survey_.links else ""
        parts.append(_figure(cat, n, before.get(cat, 0) if previous is not None else None, share=share, swatch=cat))
    parts.append(_figure("Pending review", survey_.pending_review,
                         None if previous is None else (previous.get("pending_review"))))
    parts.append("</section>")
    parts.append("<div class='legend'>" + "".join(
        f"<span><i style='background:{CATEGORY_COLORS[c]}'></i>{escape(CATEGORY_LABELS[c])}</span>" for c in CATEGORIES)
        + "</div>")
    parts.append("<section class='charts'>")
    parts.append("<figure><figcaption>Link health by post year</figcaption>"
                 + svg_columns(sorted(survey_.by_year.items()), "Link health by post year") + "</figure>")
    parts.append("<figure><figcaption>Link health by outlet</figcaption>"
                 + svg_bars(survey_.outlets(), "Link health by outlet") + "</figure>")
    parts.append("<figure><figcaption>Changes since the previous report</figcaption>"
                 + svg_changes(survey_, previous) + "</figure>")
    parts.append("</section>")
    listing = (f"Links whose verdict or repair changed since {escape(ctx['since'])}" if ctx["since"] else "All links")
    options_cat = "".join(f"<option value='{escape(c)}'>{escape(c)}</option>" for c in CATEGORIES)
    options_rep = "".join(f"<option value='{escape(s)}'>{escape(s)}</option>" for s in store.REPAIR_STATES)
    parts.append(f"<h2>{listing}</h2><div class='controls'>"
                 "<input id='q' type='search' placeholder='Filter: title, URL, outlet, error…' aria-label='Filter rows'>"
                 f"<select id='fcat' aria-label='Category'><option value=''>every category</option>{options_cat}</select>"
                 f"<select id='frep' aria-label='Repair state'><option value=''>any repair</option>{options_rep}</select>"
                 "<span class='small'>showing <b id='shown'>all</b> rows · click a heading to sort</span></div>"
                 "<table id='links'><thead><tr><th data-type='text'>Published</th><th>Post</th><th>Outlet</th>"
                 "<th>Link</th><th>Verdict</th><th>Evidence</th><th>Replacement</th>"
                 "<th data-type='number'>Confidence</th><th>Repair</th></tr></thead><tbody>")
    return "".join(parts)


def _figure(label: str, n: int, before: int | None, *, share: str = "", swatch: str | None = None) -> str:
    sw = f"<span class='sw' style='background:{CATEGORY_COLORS[swatch]}'></span>" if swatch else ""
    delta = "" if before is None else ("no change" if n == before else f"{n - before:+d} since last report")
    detail = " · ".join(x for x in (share, delta) if x)
    return (f"<div class='fig' data-figure='{escape(label)}'>{sw}{escape(label)}<b>{escape(n)}</b>"
            f"<span class='d'>{escape(detail)}</span></div>")


def _title(name: str, counts: Counter) -> str:
    return f"{name}: " + ", ".join(f"{c} {counts.get(c, 0)}" for c in CATEGORIES if counts.get(c))


def svg_columns(groups: list[tuple[str, Counter]], label: str) -> str:
    """Stacked columns, one per group (post years), each split by category."""
    if not groups:
        return "<p class='muted'>No links.</p>"
    width, height, left, bottom, top = 440, 220, 30, 20, 14
    plot_w, plot_h = width - left - 6, height - bottom - top
    peak = max(sum(c.values()) for _n, c in groups) or 1
    step = plot_w / len(groups)
    bar = max(4.0, min(46.0, step * 0.7))
    out = [f"<svg viewBox='0 0 {width} {height}' role='img' aria-label='{escape(label)}' xmlns='http://www.w3.org/2000/svg'>"]
    for tick in (0, 0.5, 1):
        y = top + plot_h * (1 - tick)
        out.append(f"<line x1='{left}' x2='{width - 4}' y1='{y:.1f}' y2='{y:.1f}' stroke='#e3e7ea'/>"
                   f"<text x='{left - 4}' y='{y + 4:.1f}' text-anchor='end'>{round(peak * tick)}</text>")
    for i, (name, counts) in enumerate(groups):
        x = left + step * i + (step - bar) / 2
        y = top + plot_h
        out.append(f"<g><title>{escape(_title(name, counts))}</title>")
        for cat in CATEGORIES:
            n = counts.get(cat, 0)
            if not n:
                continue
            h = plot_h * n / peak
            y -= h
            out.append(f"<rect x='{x:.1f}' y='{y:.1f}' width='{bar:.1f}' height='{h:.1f}' fill='{CATEGORY_COLORS[cat]}'/>")
        out.append(f"<text x='{x + bar / 2:.1f}' y='{y - 3:.1f}' text-anchor='middle'>{sum(counts.values())}</text>")
        out.append(f"<text x='{x + bar / 2:.1f}' y='{height - 6}' text-anchor='middle'>{escape(name)}</text></g>")
    out.append("</svg>")
    return "".join(out)


def svg_bars(groups: list[tuple[str, Counter]], label: str) -> str:
    """Stacked horizontal bars, one per group (outlets), each split by category."""
    if not groups:
        return "<p class='muted'>No links.</p>"
    width, row_h, left, right = 440, 20, 120, 30
    height = row_h * len(groups) + 8
    peak = max(sum(c.values()) for _n, c in groups) or 1
    plot_w = width - left - right
    out = [f"<svg viewBox='0 0 {width} {height}' role='img' aria-label='{escape(label)}' xmlns='http://www.w3.org/2000/svg'>"]
    for i, (name, counts) in enumerate(groups):
        y = 4 + i * row_h
        shown = name if len(name) <= 18 else name[:17] + "…"
        out.append(f"<g><title>{escape(_title(name, counts))}</title>"
                   f"<text x='{left - 6}' y='{y + 13}' text-anchor='end'>{escape(shown)}</text>")
        x = float(left)
        for cat in CATEGORIES:
            n = counts.get(cat, 0)
            if not n:
                continue
            w = plot_w * n / peak
            out.append(f"<rect x='{x:.1f}' y='{y + 3}' width='{w:.1f}' height='{row_h - 6}' fill='{CATEGORY_COLORS[cat]}'/>")
            x += w
        out.append(f"<text x='{x + 4:.1f}' y='{y + 13}'>{sum(counts.values())}</text></g>")
    out.append("</svg>")
    return "".join(out)


def svg_changes(survey_: Survey, previous: dict | None) -> str:
    """One bar per kind of change (previous category → category), coloured by where the links went."""
    if not survey_.had_previous:
        return "<p class='muted'>This is the first report from this database: nothing to compare with yet.</p>"
    if not survey_.transitions:
        return "<p class='muted'>Nothing changed since the previous report.</p>"
    groups = survey_.transitions.most_common(12)
    width, row_h, left, right = 440, 20, 170, 30
    height = row_h * len(groups) + 8
    peak = groups[0][1] or 1
    plot_w = width - left - right
    out = [f"<svg viewBox='0 0 {width} {height}' role='img' aria-label='Changes since the previous report' "
           f"xmlns='http://www.w3.org/2000/svg'>"]
    for i, ((was, now), n) in enumerate(groups):
        y = 4 + i * row_h
        w = max(2.0, plot_w * n / peak)
        label = f"{was} → {now}"
        out.append(f"<g><title>{escape(label)}: {n} links</title>"
                   f"<text x='{left - 6}' y='{y + 13}' text-anchor='end'>{escape(label)}</text>"
                   f"<rect x='{left}' y='{y + 3}' width='{w:.1f}' height='{row_h - 6}' fill='{CATEGORY_COLORS.get(now, '#777')}'/>"
                   f"<text x='{left + w + 4:.1f}' y='{y + 13}'>{n}</text></g>")
    out.append("</svg>")
    return "".join(out)


def _history_html(history: list[dict]) -> str:
    if not history:
        return ""
    items = "".join(
        f"<li>{escape((h['checked_at'] or '')[:16].replace('T', ' '))} {escape(h['method'] or '')} "
        f"{escape(' '.join(str(x) for x in (h['status'], h['error_class']) if x))} → {escape(h['verdict'])}</li>"
        for h in history)
    return (f"<details><summary>check history ({len(history)}{'+' if len(history) >= HISTORY_SHOWN else ''})</summary>"
            f"<ol class='hist'>{items}</ol></details>")


def html_row(row: dict, history: list[dict]) -> str:
    verdict = row["verdict"] or "unchecked"
    cat = category(row)
    confidence = "" if row["confidence"] is None else f"{row['confidence']:.2f}"
    tags = []
    if mark_active(row):
        tags.append("<span class='tag'>marked not dead</span>")
    if row.get("previous_category") and row["previous_category"] != cat:
        tags.append(f"<span class='tag'>was {escape(row['previous_category'])}</span>")
    chain = row["redirect_chain"] or []
    evidence = [escape(x) for x in evidence_items(row)]
    if row["last_checked"]:
        evidence.append(f"<span class='small'>checked {escape(row['last_checked'])}</span>")
    if chain:
        evidence.append("redirects:<ol class='chain'>" + "".join(
            f"<li>{escape(h.get('status'))} {web_link(h.get('location')) or escape(h.get('location'))}</li>" for h in chain)
            + "</ol>")
    capture = ""
    if row["replacement"]:
        capture = web_link(row["replacement"], capture_label(row["capture_timestamp"]), "capture")
        if row["repair_reason"]:
            capture += f"<div class='small'>{escape(row['repair_reason'])}</div>"
    repair = ""
    if row["repair_id"] is not None:
        repair = f"#{escape(row['repair_id'])} {escape(row['repair_state'])}"
        if row.get("repair_note"):
            repair += f"<div class='small'>{escape(row['repair_note'])}</div>"
    title = row["post_title"] or "(untitled)"
    return (
        f"<tr data-category='{escape(cat)}' data-repair='{escape(row['repair_state'] or '')}' data-link='{escape(row['link_id'])}'>"
        f"<td data-sort='{escape(row['post_published'] or '')}'>{escape((row['post_published'] or '')[:10])}</td>"
        f"<td>{web_link(row['post_url'], title, 'post') or escape(title)}</td>"
        f"<td>{escape(row['outlet'])}</td>"
        f"<td class='url'>{web_link(row['url'], None, 'live') or escape(row['url'])}</td>"
        f"<td data-sort='{escape(cat)} {escape(verdict)}'><span class='badge c-{escape(cat)}'>{escape(verdict)}</span>{''.join(tags)}</td>"
        f"<td class='ev'>{'<br>'.join(evidence)}{_history_html(history)}</td>"
        f"<td class='url'>{capture}</td>"
        f"<td data-sort='{escape(row['confidence'] if row['confidence'] is not None else '')}'>{escape(confidence)}</td>"
        f"<td>{repair}</td></tr>\n")


def html_tail(listed: int) -> str:
    empty = "" if listed else "<p class='muted'>No links to list.</p>"
    return (f"</tbody></table>{empty}<p class='small'>{listed} links listed.</p></main>"
            f"<script>{_SCRIPT}</script></body></html>\n")

