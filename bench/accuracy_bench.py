"""Accuracy benchmark: linkkeeper, run as a user runs it, on a world built independently of its heuristics.

    python bench/accuracy_bench.py --posts 800 [--seed 1] [--keep DIR] [--json]
    python bench/accuracy_bench.py --posts 800 --regrade DIR     # grade a kept run again

1. builds the world (`bench/accuracy/world.py`, seeded): a Blogger export of N posts, today's web and the
   Wayback Machine's captures, with the truth about every link; nothing in bench/accuracy imports linkkeeper;
2. serves the web and the archive from a separate process on loopback (`accuracy.serve`);
3. writes a linkkeeper.toml that sends every host of the world to those servers (see `write_config`) and runs
   the real command line: `ingest`, `check --all-links` three times, `repair`, `report --all-links`, `export`;
4. grades what a user gets - report.json's verdicts and repairs, the patched export's hrefs - against the
   truth, and prints the figures, the archive's request counts and 429s, and the misses per true fate.

It exits 0 whatever the figures: it measures, the tests assert (tests/test_accuracy_world.py).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from accuracy import grade as G  # noqa: E402
from accuracy.export import write_export  # noqa: E402
from accuracy.world import BLOG_HOST, World, build  # noqa: E402

# The archive simulator enforces the Internet Archive's per-minute limits inside a window SPEEDUP times
# shorter; the product is told to pace itself at its default rates times SPEEDUP, which keeps the real ratio
# between its pace and the limit (its defaults are 80% of the IA's limits).
SPEEDUP = 25.0
DEFAULT_RATES = {"cdx_rate": 0.4, "replay_rate": 8.0, "availability_rate": 0.2}


def write_config(path: Path, world: World, ports: dict[str, int], db: Path, speedup: float,
                 overrides: dict | None = None) -> list[str]:
    """linkkeeper.toml for the bench; returns the connect_to rules.

    - connect_to: one rule per host of the world, to the web server's port (it serves every host by its Host
      header); hosts whose server refuses, hangs, resets or drops go to the matching port; hosts under
      .invalid get no rule so that their names fail to resolve, as a lapsed domain's do. There is no
      catch-all: a host without a rule would be a bench bug, and `check_hosts` refuses to run with one.
    - the archive endpoints point at the simulator (as linkkeeper.testing.settings_for does).
    - the dead rule: three failing checks spanning dead_after_hours; the bench runs `check` three times in a
      row, so the hours are set to 0 - the three runs stand for three days, and the rule still needs three
      failing checks in a row with no good one between them (a flaky host that recovers is not dead).
    - timeouts shortened (total 5 s, connect 3 s, read 5 s) so hosts that never answer cost seconds, not
      minutes; the slow pages of the world answer in 2.5 s, inside them.
    - archive pacing: the product's default rates times `speedup` (see SPEEDUP).
    Everything else is the product's default. `overrides` (the test's faster timeouts) win over all of it.
    """
    rules = []
    special = {"refused": ports["refused"], "hang": ports["hang"], "reset": ports["reset"], "drop": ports["drop"]}
    for host in sorted(world.hosts | {BLOG_HOST, BLOG_HOST.replace(".com", ".ca")}):
        if host.endswith(".invalid"):
            continue
        level = world.host_level.get(host)
        port = special.get(level, ports["web"])
        rules.append(f"{host}:*:127.0.0.1:{port}")
    base = f"http://127.0.0.1:{ports['archive']}"
    settings: dict[str, object] = {
        "db": str(db),
        "connect_to": rules,
        "wayback_cdx_url": f"{base}/cdx/search/cdx",
        "wayback_availability_url": f"{base}/wayback/available",
        "wayback_replay_url": f"{base}/web/",
        "wayback_save_url": f"{base}/save",
        "dead_after_hours": 0.0,
        "total_timeout": 5.0,
        "connect_timeout": 3.0,
        "read_timeout": 5.0,
        **{k: v * speedup for k, v in DEFAULT_RATES.items()},
        **(overrides or {}),
    }
    path.write_text("".join(f"{k} = {json.dumps(v)}\n" for k, v in settings.items()), encoding="utf-8")
    return rules


def check_hosts(world: World, rules: list[str]) -> None:
    """Every host a link or a redirect of the world can reach has a rule, or fails DNS by design."""
    covered = {r.split(":")[0] for r in rules}
    loose = sorted(h for h in world.hosts if h not in covered and not h.endswith(".invalid"))
    if loose:
        raise SystemExit(f"bench bug: hosts without a connect_to rule would reach the network: {loose}")


def stray_hosts(db: Path, rules: list[str]) -> list[str]:
    """Hosts the product's checks reached that no rule covers (the audit after the run: must be none)."""
    import sqlite3
    covered = {r.split(":")[0] for r in rules}
    con = sqlite3.connect(db)
    try:
        urls = [u for row in con.execute("SELECT url, final_url FROM checks") for u in row if u]
    finally:
        con.close()
    hosts = {u.split("/")[2].split(":")[0].lower() for u in urls if "://" in u}
    return sorted(h for h in hosts if h not in covered and not h.endswith(".invalid"))


def linkkeeper_cmd() -> str:
    exe = Path(sys.executable).parent / "linkkeeper"
    found = str(exe) if exe.exists() else shutil.which("linkkeeper")
    if not found:
        raise SystemExit("the linkkeeper command is not installed (pip install -e '.[test]')")
    return found


def run_cli(work: Path, config: Path, args: list[str], log: list[dict], echo: bool) -> subprocess.CompletedProcess:
    cmd = [linkkeeper_cmd(), "--config", str(config), *args]
    start = time.monotonic()
    proc = subprocess.run(cmd, cwd=work, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    took = time.monotonic() - start
    name = "_".join(a.lstrip("-") for a in args[:2]).replace("/", "_")
    (work / f"{len(log):02d}-{name}.out").write_text(proc.stdout + "\n--- stderr ---\n" + proc.stderr)
    tail = (proc.stdout.strip().splitlines() or [""])[-1]
    log.append({"command": "linkkeeper " + " ".join(args), "exit": proc.returncode, "seconds": round(took, 1),
                "last_line": tail})
    if echo:
        print(f"  linkkeeper {' '.join(args)}  [exit {proc.returncode}, {took:.1f} s]  {tail[:150]}", file=sys.stderr)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"linkkeeper {' '.join(args)} failed with exit {proc.returncode}:\n{proc.stderr[-3000:]}")
    return proc


def start_servers(seed: int, posts: int, decoy_scale: float, speedup: float, slow_seconds: float) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent))
    return subprocess.Popen([sys.executable, "-m", "accuracy.serve", "--seed", str(seed), "--posts", str(posts),
                             "--decoy-scale", str(decoy_scale), "--speedup", str(speedup),
                             "--slow-seconds", str(slow_seconds)], stdout=subprocess.PIPE, text=True, env=env)


def wait_ports(proc: subprocess.Popen) -> dict[str, int]:
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        raise SystemExit("the world's servers did not start")
    return json.loads(line)


def archive_stats(port: int) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/__bench/stats", timeout=10) as resp:
        return json.load(resp)


def run(posts: int, seed: int, work: Path, decoy_scale: float = 1.0, speedup: float = SPEEDUP,
        echo: bool = True, overrides: dict | None = None, slow_seconds: float = 2.5) -> tuple[G.Result, list[dict], dict]:
    """The whole bench in `work`; returns the grade, the command log and timings."""
    t0 = time.monotonic()
    server = start_servers(seed, posts, decoy_scale, speedup, slow_seconds)
    try:
        world = build(seed, posts, decoy_scale)  # the same world the server builds, in parallel
        export = work / "blog.xml"
        write_export(world, str(export))
        ports = wait_ports(server)
        t_world = time.monotonic() - t0
        config = work / "linkkeeper.toml"
        rules = write_config(config, world, ports, work / "blog.db", speedup, overrides)
        check_hosts(world, rules)
        if echo:
            print(f"world: {len(world.posts)} posts, {len(world.articles)} articles, {len(world.captures)} "
                  f"captures, {len(world.hosts)} hosts ({t_world:.1f} s); work folder {work}", file=sys.stderr)
        log: list[dict] = []
        t1 = time.monotonic()
        run_cli(work, config, ["ingest", str(export)], log, echo)
        for _ in range(3):
            run_cli(work, config, ["check", "--all-links"], log, echo)
        run_cli(work, config, ["repair"], log, echo)
        run_cli(work, config, ["report", "--all-links", "--out", str(work / "reports")], log, echo)
        run_cli(work, config, ["export", "-o", str(work / "patched.xml")], log, echo)
        t_cli = time.monotonic() - t1
        stats = archive_stats(ports["archive"])
        (work / "archive-stats.json").write_text(json.dumps(stats, indent=1))
        stray = stray_hosts(work / "blog.db", rules)
        if stray:
            raise SystemExit(f"bench bug: the product reached hosts without a connect_to rule: {stray}")
        result = G.grade(world, str(work / "reports" / "report.json"), str(export), str(work / "patched.xml"), stats)
        (work / "truth.json").write_text(json.dumps(
            {"|".join(k): vars(t) for k, t in G.truth(world).items()}, indent=1))
        return result, log, {"world_seconds": round(t_world, 1), "cli_seconds": round(t_cli, 1),
                             "total_seconds": round(time.monotonic() - t0, 1)}
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--posts", type=int, default=800)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--keep", metavar="DIR", help="Work in DIR and keep it (export, database, reports, logs, truth).")
    p.add_argument("--json", action="store_true", help="Print the results as JSON.")
    p.add_argument("--decoy-scale", type=float, default=1.0, help="Density of the archive's other articles.")
    p.add_argument("--speedup", type=float, default=SPEEDUP, help="Archive limits' window shortened this many times.")
    p.add_argument("--regrade", metavar="DIR", help="Grade a run kept with --keep again (same --posts, --seed and "
                   "--decoy-scale), without running linkkeeper: after a change to the grading.")
    args = p.parse_args(argv)
    if args.regrade:
        work = Path(args.regrade).resolve()
        world = build(args.seed, args.posts, args.decoy_scale)
        stats = json.loads((work / "archive-stats.json").read_text())
        print(G.render(G.grade(world, str(work / "reports" / "report.json"), str(work / "blog.xml"),
                               str(work / "patched.xml"), stats)))
        return
    if args.keep:
        work = Path(args.keep).resolve()
        work.mkdir(parents=True, exist_ok=True)
        result, log, times = run(args.posts, args.seed, work, args.decoy_scale, args.speedup)
    else:
        with tempfile.TemporaryDirectory(prefix="lk-accuracy-") as tmp:
            result, log, times = run(args.posts, args.seed, Path(tmp), args.decoy_scale, args.speedup)
    if args.json:
        print(json.dumps({"seed": args.seed, "posts": args.posts, "commands": log, "times": times,
                          **G.as_json(result)}, indent=1))
        return
    print(G.render(result))
    print()
    print("-- commands --")
    for entry in log:
        print(f"  {entry['command']}: exit {entry['exit']}, {entry['seconds']} s")
    print(f"world {times['world_seconds']} s, linkkeeper {times['cli_seconds']} s, total {times['total_seconds']} s")


if __name__ == "__main__":
    main()
