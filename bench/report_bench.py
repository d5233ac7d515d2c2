"""Benchmark: `write_reports` (report.json, .csv, .md and .html) on a blog of 100,000 links.

    python bench/report_bench.py --links 100000 --runs 3 --baseline-ref main

1. builds (once, kept under --work) a database shaped like the real thing through the store's public
   functions: one post per Original Article link, 40 outlets of uneven size, 2008-2020; most links alive,
   some redirected or moved (with their redirect chains), dead ones with repairs approved, proposed,
   rejected or unavailable, blocked, soft 404s, nullified links, unchecked ones, 1-3 checks of history per
   URL, a few "not dead" marks, and titles with quotes, ampersands and angle brackets to escape;
2. times `write_reports` on a fresh copy of that database (so every run is a first report) in a child
   Python whose `linkkeeper` is this tree's src/ - and, with --baseline-ref, the same in a `git worktree` of
   that ref, so the old code and the new run on the same database, one after the other;
3. prints per variant the median and best wall time, the median CPU time, links per second, the child's
   peak RSS (the report streams: it stays flat however many links) and the size of report.html, and the
   ratios of this tree to the baseline.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
BLOG = "tag:blogger.com,1999:blog-6412345678901234567.post-"
# (fate, weight per 100): what a 15-year-old news-clipping blog's Original Article links look like.
FATES = [("alive", 60), ("redirected", 6), ("moved", 3), ("dead", 14), ("soft-404", 2), ("blocked", 4),
         ("unknown", 2), ("suspect", 1), ("nullified", 3), ("unchecked", 5)]
REPAIR_STATES = [("approved", 60), ("proposed", 25), ("unavailable", 10), ("rejected", 5)]
GENERATED_AT = "2026-12-01T00:00:00Z"


def weighted(rng: random.Random, table: list[tuple[str, int]]) -> str:
    return rng.choices([name for name, _ in table], weights=[w for _, w in table])[0]


# --- the database -----------------------------------------------------------------------------------------

def build_database(path: Path, links: int, seed: int = 1) -> None:
    # linkkeeper is imported where it is used: a child run must import it from the tree it times.
    from linkkeeper import store
    from linkkeeper.check.verdict import signature

    rng = random.Random(seed)
    outlets = [f"outlet{n:02d}" for n in range(40)]
    outlet_weights = [1 / (n + 1) for n in range(40)]  # a few big outlets, a long tail
    db = store.open_db(path)
    for n in range(links):
        outlet = rng.choices(outlets, weights=outlet_weights)[0]
        year = 2008 + n * 13 // links
        published = f"{year}-{1 + n % 12:02d}-{1 + n % 28:02d}T08:{n % 60:02d}:00.000-04:00"
        title = f"Story {n} on the budget" + (' & the "leaked" <memo>' if n % 20 == 0 else "")
        url = f"http://www.{outlet}.example/news/{year}/{n % 12 + 1:02d}/story-{n}.html"
        fate = weighted(rng, FATES)
        lead = f"{title}. Officials said on {published[:10]} that the plan would reshape the budget. " * 3
        post = {"id": f"{BLOG}{n}", "source_id": None, "url": f"http://blog.example/{year}/story-{n}.html",
                "title": title, "published": published, "updated": published, "labels": ["politics"],
                "content": f"<p>{lead}</p><a href=\"{url}\">Original Article</a><br />Source: {outlet}",
                "outlet": outlet, "author": f"Reporter {n % 300}", "original_url": url,
                "original_state": "nullified" if fate == "nullified" else "present", "lead_text": lead}
        link = {"anchor_index": 0, "role": "original", "url": url if fate != "nullified" else "",
                "url_normalized": url if fate != "nullified" else None, "anchor_text": "Original Article",
                "nullified_reason": "href emptied by the platform" if fate == "nullified" else None}
        store.upsert_post(db, post, [link])
        if fate not in ("nullified", "unchecked"):
            _record_checks(db, store, rng, url, fate, outlet)
        if fate in ("dead", "soft-404", "nullified"):
            _save_repair(db, store, rng, post, url, fate)
        if fate == "blocked" and n % 10 == 0:
            store.set_url_mark(db, url, "not-dead", signature("blocked", 403, "http_403"), "opens in a browser")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.conn.close()


def _record_checks(db, store, rng: random.Random, url: str, fate: str, outlet: str) -> None:
    status, error_class, chain, final = {
        "alive": (200, None, [], url), "unknown": (None, "timeout", [], None), "suspect": (200, None, [], url),
        "dead": (404, "http_404", [], url), "soft-404": (200, None, [], url), "blocked": (403, "http_403", [], url),
        "redirected": (200, None, [{"status": 301, "location": url.replace("http:", "https:")}],
                       url.replace("http:", "https:")),
        "moved": (200, None, [{"status": 301, "location": f"https://www.{outlet}.example/a/"},
                              {"status": 302, "location": f"https://www.{outlet}.example/a/1"}],
                  f"https://www.{outlet}.example/a/1"),
    }[fate]
    # The real thing: the tool's own database keeps every attempt, so the check history has 1 to 3 of them.
    for day in range(rng.choice((1, 1, 2, 3))):
        checked = f"2026-11-{20 + day:02d}T03:{rng.randrange(60):02d}:00Z"
        attempt = {"url": url, "checked_at": checked, "method": "GET", "status": status, "final_url": final,
                   "redirect_chain": chain, "error_class": error_class,
                   "error": "read timed out after 20s" if error_class == "timeout" else None,
                   "elapsed_ms": rng.randrange(40, 900), "verdict": fate, "evidence_class": fate,
                   "reason": {"soft-404": "page says 'not found'", "suspect": "title no longer matches"}.get(fate),
                   "title": "A story", "attempts": 1}
        failing = fate in ("dead", "soft-404", "unknown", "blocked")
        state = {"verdict": fate, "evidence_class": fate, "reason": attempt["reason"],
                 "moved_to": final if fate == "moved" else None, "consecutive_failures": day + 1 if failing else 0,
                 "first_failure_at": "2026-11-20T03:00:00Z" if failing else None, "single_day": 0}
        store.record_check(db, [attempt], state)


def _save_repair(db, store, rng: random.Random, post: dict, url: str, fate: str) -> None:
    state = weighted(rng, REPAIR_STATES)
    timestamp = f"{post['published'][:4]}{post['published'][5:7]}{post['published'][8:10]}120000"
    found = state != "unavailable"
    replacement = f"https://web.archive.org/web/{timestamp}/{url or post['original_url']}" if found else None
    evidence = {"target": {"date": post["published"][:10], "source": "post"}, "lookup": ["timegate"],
                "rejected": [], "text_similarity": round(rng.uniform(0.5, 1.0), 3) if found else None,
                "distance_days": 1.0}
    store.save_repair(db, {"link_id": store.link_id(post["id"], 0), "post_id": post["id"], "url": url,
                           "reason": f"{fate} (http_404)" if fate != "nullified" else "nullified",
                           "replacement": replacement, "capture_timestamp": timestamp if found else None,
                           "capture_url": replacement, "target_date": post["published"][:10],
                           "distance_days": 1.0 if found else None,
                           "confidence": round(rng.uniform(0.4, 1.0), 2) if found else 0.0,
                           "evidence": evidence, "state": state,
                           "note": "checked by hand" if state == "rejected" else None})


# --- timing, in a child whose linkkeeper comes from the given tree ----------------------------------------

def child(db_path: Path, expect_src: Path) -> None:
    import resource
    import time

    import linkkeeper
    from linkkeeper import store
    from linkkeeper.desk.report import write_reports

    where = Path(linkkeeper.__file__).resolve()
    if expect_src.resolve() not in where.parents:
        sys.exit(f"imported {where}, not the code under {expect_src}")
    with tempfile.TemporaryDirectory(prefix="report-bench-") as tmp:
        copy = Path(tmp) / "bench.db"
        shutil.copyfile(db_path, copy)  # a fresh copy: every run is a first report
        db = store.open_db(copy)
        start, cpu_start = time.perf_counter(), time.process_time()
        paths = write_reports(db, Path(tmp) / "out", generated_at=GENERATED_AT)
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
        html_bytes = paths["html"].stat().st_size
        db.conn.close()
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": seconds, "cpu_seconds": cpu, "peak_rss_mib": peak_kib / 1024,
                      "html_bytes": html_bytes}))


def measure(src: Path, db_path: Path) -> dict:
    """One timed write_reports in a child Python whose linkkeeper is the one under src."""
    env = dict(os.environ, PYTHONPATH=str(src))
    done = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", str(db_path),
                           "--src", str(src)], env=env, capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"the timing run under {src} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def baseline_tree(ref: str, where: Path) -> Path:
    if where.exists():
        subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(where)], check=False)
    subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", str(where), ref], check=True,
                   capture_output=True)
    return where


def show(name: str, result: list[dict], links: int) -> str:
    seconds, cpu = _seconds(result), _seconds(result, "cpu_seconds")
    return (f"{name:<12} {statistics.median(seconds):7.2f} s {min(seconds):7.2f} s {statistics.median(cpu):7.2f} s "
            f"{links / statistics.median(seconds):9,.0f}/s {max(r['peak_rss_mib'] for r in result):7.1f} MiB "
            f"{result[0]['html_bytes'] / 1e6:6.1f} MB   (wall: {' '.join(f'{s:.2f}' for s in seconds)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--links", type=int, default=100_000, help="links in the report (default 100,000)")
    parser.add_argument("--runs", type=int, default=3, help="timed runs per variant (median and best shown)")
    parser.add_argument("--baseline-ref", help="a git ref whose code to time beside this tree's (e.g. main)")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "linkkeeper-report-bench",
                        help="where the database (kept between runs) and the baseline worktree go")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--src", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.src)
        return

    args.work.mkdir(parents=True, exist_ok=True)
    db_path = args.work / f"links-{args.links}.db"
    if not db_path.exists():
        print(f"building a database of {args.links:,} links in {db_path} ...", flush=True)
        partial = db_path.with_suffix(".partial")
        for leftover in args.work.glob(partial.name + "*"):
            leftover.unlink()
        build_database(partial, args.links)
        partial.rename(db_path)
    variants = [("this tree", REPO / "src")]
    if args.baseline_ref:
        variants.append((args.baseline_ref, baseline_tree(args.baseline_ref, args.work / "baseline") / "src"))
    try:
        # One run of each variant in turn: a machine busy with something else slows both alike.
        runs = [[measure(src, db_path) for name, src in variants] for _ in range(args.runs)]
    finally:
        if args.baseline_ref:
            subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(variants[1][1].parent)],
                           check=False)
    results = [(name, [r[i] for r in runs]) for i, (name, _src) in enumerate(variants)]
    print(f"write_reports, {args.links:,} links, {args.runs} runs each, alternating:")
    print(f"{'':<12} {'wall, median':>12} {'best':>7} {'CPU, median':>11} {'links':>11} {'peak RSS':>11} "
          f"{'report.html':>9}")
    for name, result in results:
        print(show(name, result, args.links))
    if len(results) == 2:
        (_, new), (_, old) = results
        ratios = [(f(_seconds(new, key)) / f(_seconds(old, key))) for key, f in
                  (("seconds", statistics.median), ("seconds", min), ("cpu_seconds", statistics.median))]
        print(f"this tree / {args.baseline_ref}: " + ", ".join(
            f"{r:.2f}x {what}" for r, what in zip(ratios, ("the wall time (median)", "(best)", "the CPU time"))))


def _seconds(result: list[dict], key: str = "seconds") -> list[float]:
    # On a shared machine the wall time swings with other work; the CPU time of the child swings less.
    return [r[key] for r in result]


if __name__ == "__main__":
    main()
