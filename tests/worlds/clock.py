"""Fake monotonic time for the archive client and the simulated archive: rate limits without waiting."""

from __future__ import annotations

import asyncio




class FakeClock:
    """Fake monotonic time: `clock()` reads it, `await clock.sleep(s)` advances it at once.

    Give the same instance to `WaybackClient(clock=..., sleep=...)` and `SimulatedArchive(clock=...)` so rate
    limits and 60-second pauses are exercised without waiting. Caveat: a sleeping task moves time on at once,
    even while another task's request is still in flight, so a server stamping arrivals with the same clock
    may see requests bunched closer than they were sent. Assert spacing on send times (wrap the limiter's
    `acquire`), and leave a simulator limit some slack when many tasks run concurrently.
    """

    def __init__(self, start: float = 1_000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        if seconds > 0:
            self.now += seconds
        await asyncio.sleep(0)  # still let other tasks (and the servers) run
