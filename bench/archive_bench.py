"""Benchmark: a bulk repair against a simulated Wayback Machine that enforces the Internet Archive's limits.

    python bench/archive_bench.py --links 500 --hosts 20

1. builds the test world tests/worlds/bulk_repair.py: N dead Original Article links over H hosts and two years of posts,
   each with captures that test the choice (soft 404s, paywalls and captured redirects nearer than the good
   capture, revisits, late posts, URLs never archived, one excluded host), served by a SimulatedArchive
   limited to 30 CDX and 600 replay requests a minute, which answers 429 past them and counts violations;
2. injects one 429 on the first CDX request (another client on the same IP), as a shared CI runner would see;
3. runs the repair stage with the client at the Internet Archive's own pace (cdx_rate 0.4, replay_rate 8) on
   fake time, so minutes of pacing take no real time;
4. prints archive requests per repaired link (target: at most 1.5), limit violations (target: 0), the 429
   pauses, how many links chose exactly the capture they should, the fake time the run would take, and what
   a second run over the same links costs (target: no request).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

from linkkeeper import store
from linkkeeper.wayback import WaybackClient
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the test worlds live beside the tests
from worlds.bulk_repair import build_bulk_world, seed_store
from linkkeeper.repair.proposals import propose_repairs
from linkkeeper.settings import Settings
from linkkeeper.sim.archive import settings_for
from linkkeeper.sim.servers import serve
from worlds.clock import FakeClock

TARGET_REQUESTS_PER_REPAIR = 1.5


async def bench(links: int, hosts: int, inject_429: bool, db_path: Path) -> int:
    clock = FakeClock()
    world = build_bulk_world(links, hosts, clock=clock)
    if inject_429:
        world.archive.fail_next("cdx", 429)
    db = store.open_db(db_path)
    seed_store(db, world)
    started, fake_start = time.perf_counter(), clock()
    async with serve(world.archive.app()) as base, aiohttp.ClientSession() as session:
        settings = Settings(db=str(db_path)).replace(**settings_for(base))
        client = WaybackClient(session, settings, clock=clock, sleep=clock.sleep)
        summary = await propose_repairs(db, settings, client=client)
        wall, fake = time.perf_counter() - started, clock() - fake_start
        db.execute("DELETE FROM repairs")  # the same links again, from scratch: everything from the cache
        again = await propose_repairs(db, settings, client=WaybackClient(session, settings, clock=clock,
                                                                         sleep=clock.sleep))
    expected = {link.url: link.expected for link in world.links}
    chosen = {r["url"]: r["capture_timestamp"] for r in db["repairs"].rows}
    right = sum(1 for url, ts in expected.items() if chosen.get(url) == ts)
    requests = summary.requests
    per_repair = requests / summary.proposed if summary.proposed else float("inf")
    by_endpoint = ", ".join(f"{k} {v}" for k, v in sorted(summary.archive_requests.items()))
    print(f"links:                    {links} over {hosts} hosts ({world.repairable} have a usable capture)")
    print(f"repaired:                 {summary.proposed} ({summary.approved} approved automatically), "
          f"{summary.unavailable} unavailable")
    print(f"chosen as expected:       {right}/{links}")
    print(f"archive requests:         {requests} ({by_endpoint}); {summary.bulk_queries} CDX prefix queries planned")
    print(f"requests per repaired:    {per_repair:.3f} (target <= {TARGET_REQUESTS_PER_REPAIR})")
    print(f"limit violations:         {world.archive.limit_violations} (target 0)")
    print(f"429 pauses:               {sum(summary.pauses.values())} ({summary.pauses or 'none'})")
    print(f"time at the IA's pace:    {fake / 60:.1f} min (fake clock); {wall:.1f} s real")
    print(f"second run:               {again.requests} archive requests, {again.cache_hits} cache hits")
    ok = (per_repair <= TARGET_REQUESTS_PER_REPAIR and world.archive.limit_violations == 0
          and again.requests == 0 and right == links)
    return 0 if ok else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--links", type=int, default=500)
    parser.add_argument("--hosts", type=int, default=20)
    parser.add_argument("--no-429", action="store_true", help="Do not inject a 429 on the first CDX request.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        code = asyncio.run(bench(args.links, args.hosts, not args.no_429, Path(tmp) / "bench.db"))
    sys.exit(code)


if __name__ == "__main__":
    main()
