"""Which part of a recovery each archive request serves, so that `linkkeeper repair` can say where its
requests went. The archive is shared and rate limited: whoever runs the tool should see what a run cost it
and which round of the search spent it (and whoever tunes the search, where the next cut would come from).

The part is a context variable: each round sets it around its work, and the tasks it starts inherit it, so
the two caches that send requests (queries.QueryCache, scoring.CaptureCache) count each request under the
part that asked first."""

from __future__ import annotations

import contextvars
from collections import Counter
from contextlib import contextmanager
from typing import Iterator

# The parts, in the order a post's search meets them (the summary prints them in this order).
NEAR = "near the post's date"
LOOKBACK = "look-back"
HEADLINE = "headline search"
SAME_DAY = "same-day pages"
RIVALS = "rival checks"
OTHER = "other"
PARTS = (NEAR, LOOKBACK, HEADLINE, SAME_DAY, RIVALS, OTHER)

_PART: contextvars.ContextVar[str] = contextvars.ContextVar("recovery_part", default=OTHER)


@contextmanager
def spending_for(part: str) -> Iterator[None]:
    """Count the archive requests made inside the block (and by the tasks it starts) under `part`."""
    token = _PART.set(part)
    try:
        yield
    finally:
        _PART.reset(token)


def charge(counter: Counter[str]) -> None:
    """One archive request, counted under the part now spending."""
    counter[_PART.get()] += 1


def by_part(*counters: Counter[str]) -> dict[str, int]:
    """The requests of every counter added up per part, in PARTS order, parts that spent nothing left out."""
    total: Counter[str] = Counter()
    for counter in counters:
        total.update(counter)
    return {part: total[part] for part in PARTS if total[part]}
