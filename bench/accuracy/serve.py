"""Serve the evaluation world: today's web and the simulated Wayback Machine on loopback, in a process of
their own (so the product under test never shares their event loop).

    python -m accuracy.serve --seed 1 --posts 800 [--decoy-scale 1.0] [--speedup 25] [--slow-seconds 2.5]

builds the world from its seed (the same world the bench grades against), starts the servers and prints one
JSON line with their ports: {"web": P, "archive": P, "refused": P, "hang": P, "reset": P, "drop": P}. It runs
until SIGTERM or SIGINT. The archive's request counts are at http://127.0.0.1:<archive>/__bench/stats.

Owned here: process wiring only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys

from aiohttp import web

from .wayback import Wayback
from .webserver import Web, refusing_port, start_tcp
from .world import build


async def serve(seed: int, posts: int, decoy_scale: float, speedup: float, slow_seconds: float) -> None:
    world = build(seed, posts, decoy_scale)
    runners = []
    ports: dict[str, int] = {}
    for name, app in (("web", Web(world, slow_seconds).app()), ("archive", Wayback(world, speedup).app())):
        runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
        await site.start()
        runners.append(runner)
        ports[name] = runner.addresses[0][1]
    refusing, ports["refused"] = refusing_port()
    servers = []
    for kind in ("hang", "reset", "drop"):
        server, ports[kind], held = await start_tcp(kind)
        servers.append((server, held))
    print(json.dumps(ports), flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    for server, held in servers:
        server.close()
        for writer in held:
            writer.close()
    for runner in runners:
        await runner.cleanup()
    refusing.close()


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--posts", type=int, default=800)
    p.add_argument("--decoy-scale", type=float, default=1.0)
    p.add_argument("--speedup", type=float, default=25.0)
    p.add_argument("--slow-seconds", type=float, default=2.5, help="How long the world's slow pages take.")
    args = p.parse_args(argv)
    try:
        asyncio.run(serve(args.seed, args.posts, args.decoy_scale, args.speedup, args.slow_seconds))
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
