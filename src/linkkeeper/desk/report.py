"""Reports: report.json, report.csv, report.md and a single-file report.html (no external assets, every
value escaped), one row per link: the post, the link, its verdict with evidence, and the proposed
replacement. The HTML adds figures, inline SVG charts (link health by post year and by outlet, and what
changed since the previous report) and a sortable, filterable table; its markup, CSS and script are
templates/report.html and what it includes (autoescaped, desk/pages.py), and this module shapes what they show.

Everything is streamed: one pass over the links counts the charts' figures, a second writes the four files
row by row, so a blog with 100,000 links never sits in memory whole.
"""

from __future__ import annotations

import csv
import html
import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from linkkeeper import __version__, store
from linkkeeper.desk.explain import capture_label, csv_safe, mark_active, note_words, repair_why  # noqa: F401 (report.csv_safe)
from linkkeeper.desk.pages import template
from linkkeeper.desk.queue import NOTHING_FOUND, build_queue
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
               "since": since_ts, "all_links": all_links, "needs": needs_groups(db)}

    with AtomicFiles(paths.values()) as files:
        fj, fc, fm, fh = (files[paths[k]] for k in ("json", "csv", "md", "html"))
        head = {"schema": REPORT_SCHEMA_VERSION, "generator": f"linkkeeper {__version__}",
                "generated_at": generated_at, "since": since_ts, "summary": summary, "health": surveyed.as_json()}
        fj.write(json.dumps(head, ensure_ascii=False, indent=1)[:-2] + ',\n "links": [')
        writer = csv.writer(fc)
        writer.writerow(CSV_COLUMNS)
        fm.write(markdown_head(context))
        fh.write(html_head(context))
        listed = attention = 0
        for row in store.report_rows(db, all_links=all_links, since=since_ts):
            fj.write(("\n  " if listed == 0 else ",\n  ") + json.dumps(link_record(row), ensure_ascii=False))
            writer.writerow(csv_row(row))
            if needs_attention(row):
                fm.write(markdown_row(row))
                attention += 1
            fh.write(html_row(row, store.check_history(db, row["url_normalized"], HISTORY_SHOWN)))
            listed += 1
        fj.write("\n ]\n}\n")
        fm.write(markdown_tail(listed, attention))
        fh.write(html_tail(listed))
    snapshot_summary = dict(summary, categories=surveyed.as_json()["categories"],
                            pending_review=surveyed.pending_review)
    store.save_report_snapshot(db, generated_at, snapshot_summary, all_links=all_links)
    return paths


NEEDS_SHOWN = 100  # items per group of "Needs you"; the review page lists them all
NEEDS_GROUPS = (("proposed", ("proposed",), "Repairs waiting for your decision"),
                ("nothing-found", NOTHING_FOUND, "Links with nothing found"),
                ("drifted", ("drifted",), "Pages that changed"))


def needs_groups(db) -> list[dict]:
    """What needs the curator (desk/queue.py), in the queue's order and words, grouped for the report's top,
    each item with the command that decides it."""
    items = build_queue(db)
    for item in items:
        ref = item["repair_id"] if item["repair_id"] is not None else item["link_id"]
        item["command"] = f"linkkeeper approve {ref}" if item["can_approve"] else f"linkkeeper edit {ref} URL"
    return [{"id": gid, "title": title, "items": [i for i in items if i["kind"] in kinds]}
            for gid, kinds, title in NEEDS_GROUPS]


def needs_sentence(needs: list[dict]) -> str:
    counts = {g["id"]: len(g["items"]) for g in needs}
    def said(n: int, one: str, many: str) -> str:
        return f"{n} {one if n == 1 else many}" if n else ""

    parts = [said(counts["proposed"], "repair waits for your decision", "repairs wait for your decision"),
             said(counts["nothing-found"], "link has nothing found", "links have nothing found"),
             said(counts["drifted"], "page changed", "pages changed")]
    parts = [p for p in parts if p]
    return (", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else parts[0]) + "."


def needs_attention(row: dict) -> bool:
    return category(row) in ("broken", "uncertain") or row["repair_state"] == "proposed"


# --- Markdown ---------------------------------------------------------------------------------------------

# Inside a table cell only these can start markup; "<" and "&" are escaped as HTML entities.
_MD_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_[]|~"})


def _md(value: Any) -> str:
    """Text for a Markdown table cell: no markup, no raw HTML, no line breaks."""
    text = " ".join(("" if value is None else str(value)).split())
    return html.escape(text, quote=False).translate(_MD_SPECIAL)


# What a link's target may not hold as it is: line breaks and other control characters and spaces (they end
# the cell, or the line, and what follows would be read as Markdown: headings, images, links), the angle
# brackets that enclose it, the pipe that ends a table cell, and the backslash that escapes.
_MD_TARGET_UNSAFE = re.compile(r"[\x00-\x20\x7f-\x9f<>|\\\u2028\u2029]")


def _md_link(url: str | None, text: str) -> str:
    if not url or not url.lower().startswith(("http://", "https://")):
        return _md(text)
    target = _MD_TARGET_UNSAFE.sub(lambda m: "".join(f"%{b:02X}" for b in m.group(0).encode("utf-8")), url)
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
    lines += markdown_needs(ctx["needs"])
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
              "Broken or uncertain links, and repairs waiting for review, by date.", "",
              "| published | post | outlet | verdict | evidence | repair | replacement | confidence |",
              "|---|---|---|---|---|---|---|---:|"]
    return "\n".join(lines) + "\n"


def markdown_needs(needs: list[dict]) -> list[str]:
    """The "Needs you" section: repairs waiting for a decision, then links with nothing found, then pages
    that changed, each with why it waits and the command that decides it."""
    waiting = [item for group in needs for item in group["items"]]
    lines = ["## Needs you", ""]
    if not waiting:
        return lines + ["Nothing: every link is working, repaired or decided.", ""]
    lines += [needs_sentence(needs) + " Decide them in the review page, `linkkeeper review`, or with the "
              "commands below.", ""]
    for group in needs:
        if not group["items"]:
            continue
        lines += [f"### {group['title']} ({len(group['items'])})", "",
                  "| post | outlet | link | proposed | why it waits | command |", "|---|---|---|---|---|---|"]
        for item in group["items"][:NEEDS_SHOWN]:
            proposed = (_md_link(item["replacement"], item["capture"]) + (f" ({_md(item['why'])})" if item["why"] else "")
                        if item["replacement"] else "")
            lines.append("| " + " | ".join([
                _md_link(item["post_url"], item["title"]) + f" {_md(item['date'])}", _md(item["outlet"]),
                _md_link(item["url"], item["url"]) if item["url"] else "no URL", proposed, _md(item["waits"]),
                f"`{item['command']}`"]) + " |")
        if len(group["items"]) > NEEDS_SHOWN:
            lines.append(f"\nAnd {len(group['items']) - NEEDS_SHOWN} more: `linkkeeper review` lists them all.")
        lines.append("")
    return lines


def markdown_row(row: dict) -> str:
    confidence = "" if row["confidence"] is None else f"{row['confidence']:.2f}"
    repair = "" if row["repair_id"] is None else f"#{row['repair_id']} {row['repair_state']}"
    why = repair_why(row)
    cells = [_md((row["post_published"] or "")[:10]), _md_link(row["post_url"], row["post_title"] or "(untitled)"),
             _md(row["outlet"]), _md(row["verdict"] or "unchecked"), _md(evidence_text(row)), _md(repair),
             (_md_link(row["replacement"], capture_label(row["capture_timestamp"])) + (f" ({_md(why)})" if why else ""))
             if row["replacement"] else "", confidence]
    return "| " + " | ".join(cells) + " |\n"


def markdown_tail(listed: int, attention: int) -> str:
    return (f"\n{attention} of the {listed} links listed need attention (the table above); report.html, "
            f"report.csv and report.json list all {listed}.\n")


# --- HTML: the page, its CSS, script and charts are templates/report.html and the files it includes; here,
# what they show. Its head, each row and its tail are macros, so the page streams row by row.

_PAGE = template("report.html").module


def html_head(ctx: dict) -> str:
    survey_: Survey = ctx["survey"]
    needs = ctx["needs"]
    return _PAGE.head(
        needs=needs, needs_sentence=needs_sentence(needs) if any(g["items"] for g in needs) else "",
        needs_shown=NEEDS_SHOWN,
        generated_at=ctx["generated_at"], posts=ctx["summary"]["posts"], since=ctx["since"],
        scope="every outbound link" if ctx["all_links"] else "Original Article links",
        figures=figures(survey_, ctx["previous"]),
        legend=[(CATEGORY_LABELS[c], CATEGORY_COLORS[c]) for c in CATEGORIES],
        years=column_chart(sorted(survey_.by_year.items())), outlets=bar_chart(survey_.outlets()),
        changes=change_chart(survey_), changes_note=(
            "Nothing changed since the previous report." if survey_.had_previous
            else "This is the first report from this database: nothing to compare with yet."),
        categories=CATEGORIES, repair_states=store.REPAIR_STATES)


def html_row(row: dict, history: list[dict]) -> str:
    cat = category(row)
    previous = row.get("previous_category")
    return _PAGE.row(
        row=row, category=cat, verdict=row["verdict"] or "unchecked", title=row["post_title"] or "(untitled)",
        marked=mark_active(row), was=previous if previous and previous != cat else None,
        evidence=evidence_items(row), capture=capture_label(row["capture_timestamp"]), why=repair_why(row),
        note=note_words(row.get("repair_note")),
        confidence="" if row["confidence"] is None else f"{row['confidence']:.2f}",
        history=[_history_line(h) for h in history], history_more=len(history) >= HISTORY_SHOWN)


def html_tail(listed: int) -> str:
    return _PAGE.tail(listed=listed)


def figures(survey_: Survey, previous: dict | None) -> list[dict]:
    """The figures above the charts: links, each category (with its share), pending review; each with its
    change since the previous report when there was one."""
    before = (previous or {}).get("categories") or {}
    out = [_figure("Links", survey_.links, None if previous is None else sum(before.values()))]
    for cat in CATEGORIES:
        n = survey_.totals.get(cat, 0)
        share = f"{100 * n / survey_.links:.0f}%" if survey_.links else ""
        out.append(_figure(cat, n, before.get(cat, 0) if previous is not None else None, share=share,
                           color=CATEGORY_COLORS[cat]))
    out.append(_figure("Pending review", survey_.pending_review,
                       None if previous is None else previous.get("pending_review"), link="#needs-you"))
    return out


def _figure(label: str, n: int, before: int | None, *, share: str = "", color: str | None = None,
            link: str | None = None) -> dict:
    delta = "" if before is None else ("no change" if n == before else f"{n - before:+d} since last report")
    return {"label": label, "n": n, "color": color, "detail": " · ".join(x for x in (share, delta) if x),
            "link": link}


def _title(name: str, counts: Counter) -> str:
    return f"{name}: " + ", ".join(f"{c} {counts.get(c, 0)}" for c in CATEGORIES if counts.get(c))


def column_chart(groups: list[tuple[str, Counter]]) -> dict | None:
    """Stacked columns, one per group (post years), each split by category: where _report_charts.html draws
    what, in a 440 x 220 viewBox."""
    if not groups:
        return None
    width, height, left, bottom, top = 440, 220, 30, 20, 14
    plot_w, plot_h = width - left - 6, height - bottom - top
    peak = max(sum(c.values()) for _n, c in groups) or 1
    step = plot_w / len(groups)
    bar = max(4.0, min(46.0, step * 0.7))
    columns = []
    for i, (name, counts) in enumerate(groups):
        x, y, segments = left + step * i + (step - bar) / 2, float(top + plot_h), []
        for cat in CATEGORIES:
            if counts.get(cat):
                h = plot_h * counts[cat] / peak
                y -= h
                segments.append((y, h, CATEGORY_COLORS[cat]))
        columns.append({"name": name, "title": _title(name, counts), "x": x, "middle": x + bar / 2, "top": y,
                        "total": sum(counts.values()), "segments": segments})
    return {"width": width, "height": height, "left": left, "bar": bar, "columns": columns,
            "ticks": [(top + plot_h * (1 - tick), round(peak * tick)) for tick in (0, 0.5, 1)]}


def bar_chart(groups: list[tuple[str, Counter]]) -> dict | None:
    """Stacked horizontal bars, one per group (outlets), each split by category."""
    if not groups:
        return None
    bars = [(name if len(name) <= 18 else name[:17] + "…", _title(name, counts),
             [(counts.get(c, 0), CATEGORY_COLORS[c]) for c in CATEGORIES], sum(counts.values()))
            for name, counts in groups]
    return _bars(bars, left=120)


def change_chart(survey_: Survey) -> dict | None:
    """One bar per kind of change (previous category → category), coloured by where the links went; None on
    a first report or when nothing changed."""
    if not survey_.had_previous or not survey_.transitions:
        return None
    bars = [(f"{was} → {now}", f"{was} → {now}: {n} links", [(n, CATEGORY_COLORS.get(now, "#777"))], n)
            for (was, now), n in survey_.transitions.most_common(12)]
    return _bars(bars, left=170, min_width=2.0)


def _bars(bars: list[tuple[str, str, list[tuple[int, str]], int]], *, left: int, min_width: float = 0.0) -> dict:
    """(name, title, [(count, colour)], total) per bar, in a 440-wide viewBox, a row of 20 per bar."""
    width, row_height, right = 440, 20, 30
    peak = max(total for *_rest, total in bars) or 1
    plot_w = width - left - right
    shaped = []
    for i, (name, title, counts, total) in enumerate(bars):
        x, segments = float(left), []
        for n, color in counts:
            if n:
                w = max(min_width, plot_w * n / peak)
                segments.append((x, w, color))
                x += w
        shaped.append({"name": name, "title": title, "y": 4 + i * row_height, "segments": segments, "end": x,
                       "total": total})
    return {"width": width, "height": row_height * len(bars) + 8, "left": left, "row_height": row_height,
            "bars": shaped}


def _history_line(check: dict) -> str:
    when = (check["checked_at"] or "")[:16].replace("T", " ")
    outcome = " ".join(str(x) for x in (check["status"], check["error_class"]) if x)
    return f"{when} {check['method'] or ''} {outcome} → {check['verdict']}"


def evidence_items(row: dict) -> list[str]:
    """Status, error, nullified reason and the verdict's reason, each once (the reason often repeats one)."""
    items = [f"HTTP {row['status']}" if row["status"] else None, row["error_class"], row.get("error"),
             row["nullified_reason"] and f"nullified: {row['nullified_reason']}", row.get("verdict_reason")]
    return list(dict.fromkeys(x for x in items if x))


def evidence_text(row: dict) -> str:
    chain = " → ".join(f"{h.get('status')} {h.get('location')}" for h in row["redirect_chain"] or [])
    return "; ".join(evidence_items(row) + ([f"redirects: {chain}"] if chain else []))
