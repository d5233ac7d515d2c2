"""Owns pacing: an async token bucket per endpoint, which every task using that endpoint shares."""

from __future__ import annotations

import asyncio
import time
from typing import Any, Awaitable, Callable


class RateLimiter:
    """Async token bucket shared by every task using one endpoint.

    `rate` tokens a second, at most `burst` saved up (1 = evenly spaced requests, which is what IA asks for).
    The lock makes waiters queue in order, so concurrency never turns into a burst. `pause(s)` stops the
    endpoint for everyone, which is what a 429 calls for (IA sends no Retry-After; ~60 s is the advice).
    """

    def __init__(self, rate: float, *, burst: float = 1.0,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep) -> None:
        self.rate = float(rate)
        self.capacity = max(1.0, float(burst))
        self._clock = clock
        self._sleep = sleep
        self._tokens = self.capacity
        self._updated = clock()
        self._paused_until = float("-inf")
        self._lock = asyncio.Lock()

    def pause(self, seconds: float) -> None:
        now = self._clock()
        self._paused_until = max(self._paused_until, now + seconds)
        # Nothing saved up may be spent the moment the pause ends.
        self._tokens = min(self._tokens, 0.0)
        self._updated = max(self._updated, now)

    @property
    def paused_until(self) -> float:
        return self._paused_until

    async def acquire(self) -> None:
        async with self._lock:
            while True:
                now = self._clock()
                if now < self._paused_until:
                    await self._sleep(self._paused_until - now)
                    continue
                if self.rate <= 0:  # unlimited (pauses still apply)
                    return
                if now > self._updated:
                    self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.rate)
                    self._updated = now
                # The tolerance keeps float dust (0.99999999999909 tokens) from asking for a sleep too
                # short to move a clock at all, which would spin forever.
                if self._tokens >= 1.0 - 1e-9:
                    self._tokens = max(0.0, self._tokens - 1.0)
                    return
                await self._sleep(max((1.0 - self._tokens) / self.rate, 1e-6))
