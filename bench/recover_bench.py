"""Benchmark: recovering the nullified Original Article links of the 2012-09-11 .. 2012-12-11 window.

    python bench/recover_bench.py --posts 180 --seed 7

1. builds linkkeeper.recovery_world's window: N nullified posts (the real blog shows one to three a day, so
   180 is about two a day over the 92 days) from eight outlets, posts outside the window that teach the
   outlets' domains and URL shapes, and a simulated Wayback Machine holding the lost articles among many
   decoys, limited like the Internet Archive (30 CDX and 600 replay requests a minute; 429 past them);
2. runs the recovery with the client at the Internet Archive's pace (cdx_rate 0.4, replay_rate 8) on fake
   time, so the minutes of pacing take no real time;
3. prints CDX queries per post and per recovered post, limit violations (target: 0), right and wrong
   automatic approvals (target: no wrong one), the share of recoverable posts recovered (target: 80%), the
   fake time the run takes and what the CDX queries alone take at 0.4 per second (the binding limit), and
   what a resumed run over the same window costs (target: no request).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

from linkkeeper import store
from linkkeeper.wayback import WaybackClient
from linkkeeper.net.session import make_session
from linkkeeper.sources.ingest import ingest
from linkkeeper.repair.recover import recover_nullified
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the test worlds live beside the tests
from worlds.recovery import RecoveryWorld
from linkkeeper.settings import ConnectTo, Settings
from linkkeeper.sim.archive import SimulatedArchive, settings_for
from linkkeeper.sim.servers import serve
from worlds.clock import FakeClock

CDX_RATE = 0.4  # requests per second: the Internet Archive's CDX limit (~30 a minute, 80% of it)


async def bench(posts: int, seed: int, workdir: Path) -> int:
    clock = FakeClock()
    archive = SimulatedArchive(cdx_per_minute=30, replay_per_minute=600, clock=clock)
    world = RecoveryWorld(window_posts=posts, seed=seed, archive=archive)
    export = workdir / "blog.xml"
    export.write_text(world.export_text(), encoding="utf-8")
    db = store.open_db(workdir / "recover.db")
    ingest(db, export)
    started, fake_start = time.perf_counter(), clock()
    async with serve(archive.app()) as archive_base, serve(world.web.app()) as web_base:
        web_port = int(web_base.rsplit(":", 1)[1])
        settings = Settings(db=str(workdir / "recover.db"), cdx_rate=CDX_RATE, replay_rate=8.0, retries=0,
                            connect_to=(ConnectTo("*", "*", "127.0.0.1", web_port),)).replace(**settings_for(archive_base))
        async with make_session(settings) as session:
            client = WaybackClient(session, settings, clock=clock, sleep=clock.sleep)
            summary = await recover_nullified(db, settings, session=session, client=client)
            wall, fake = time.perf_counter() - started, clock() - fake_start
            # A resumed run (say after an interruption): every link is decided, nothing is asked again.
            requests_before = sum(archive.requests.values())
            again = await recover_nullified(db, settings, session=session,
                                            client=WaybackClient(session, settings, clock=clock, sleep=clock.sleep))
            repeated = sum(archive.requests.values()) - requests_before
    repairs = {r["post_id"]: r for r in db.query("SELECT post_id, state, url FROM repairs")}
    window = world.window
    answers = {p.id: {p.expected, *p.equivalents} - {None} for p in window}
    approved = [p for p in window if repairs[p.id]["state"] == "approved"]
    wrong = [p for p in approved if repairs[p.id]["url"] not in answers[p.id]]
    recoverable = [p for p in window if p.recoverable]
    found = [p for p in recoverable if repairs[p.id]["state"] in ("approved", "proposed")
             and repairs[p.id]["url"] in answers[p.id]]
    cdx = summary.archive_requests.get("cdx", 0)
    replay = summary.archive_requests.get("replay", 0)
    share = len(found) / len(recoverable) if recoverable else 0.0
    print(f"posts in the window:       {len(window)} ({len(recoverable)} recoverable: the article was captured "
          f"and its outlet is known)")
    print(f"captures in the archive:   {len(archive.captures)}")
    print(f"decided:                   {summary.approved} approved automatically, {summary.proposed} for review, "
          f"{summary.unavailable} unrecoverable, {summary.errors} failed")
    print(f"automatic approvals:       {len(approved) - len(wrong)} right, {len(wrong)} wrong (target: 0 wrong)")
    print(f"recoverable recovered:     {len(found)}/{len(recoverable)} = {share:.0%} (target: 80%)")
    print(f"CDX queries:               {cdx} ({summary.queries_shared} more answered by a query another post "
          f"had already made)")
    print(f"CDX queries per post:      {cdx / len(window):.2f}; per recovered post: "
          f"{cdx / max(1, summary.recovered):.2f}")
    print(f"replay requests:           {replay} ({replay / len(window):.1f} per post); live checks: "
          f"{summary.live_checks}")
    print(f"limit violations (429s):   {archive.limit_violations} (target: 0)")
    print(f"time at the archive's pace: {fake / 60:.1f} min (fake clock); the CDX queries alone at "
          f"{CDX_RATE}/s: {cdx / CDX_RATE / 60:.1f} min")
    print(f"resumed run:               {again.considered} links left, {repeated} archive requests (target: 0)")
    print(f"wall time:                 {wall:.1f} s on the simulator")
    ok = not wrong and share >= 0.8 and archive.limit_violations == 0 and repeated == 0
    return 0 if ok else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=180, help="nullified posts in the window (default 180)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        sys.exit(asyncio.run(bench(args.posts, args.seed, Path(tmp))))


if __name__ == "__main__":
    main()
