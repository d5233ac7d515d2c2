"""Fault injection for the tests of the nightly run, read from one environment variable, so the product's
command line carries no test hooks. `LINKKEEPER_FAULT` (unset in normal use):

    after=N,signal=KILL|TERM|INT   send the process this signal once N units of work are committed
    inside_page=N                  SIGKILL the process half-way through storing feed page N (its transaction open)

tests/test_run.py kills `linkkeeper run` this way at every point and checks that the next run ends where an
uninterrupted one does."""

from __future__ import annotations

import os
import signal
from dataclasses import dataclass
from typing import Iterable, Iterator, Mapping

ENV_NAME = "LINKKEEPER_FAULT"
SIGNALS = {"INT": signal.SIGINT, "TERM": signal.SIGTERM, "KILL": signal.SIGKILL}


@dataclass(frozen=True)
class Fault:
    after: int | None = None
    signal: int = signal.SIGKILL
    inside_page: int | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> "Fault":
        spec = env.get(ENV_NAME, "").strip()
        if not spec:
            return cls()
        fields = dict(part.split("=", 1) for part in spec.split(",") if "=" in part)
        return cls(after=int(fields["after"]) if "after" in fields else None,
                   signal=SIGNALS[fields.get("signal", "KILL").upper().removeprefix("SIG")],
                   inside_page=int(fields["inside_page"]) if "inside_page" in fields else None)


class WorkCounter:
    """Counts committed units of work (feed pages, checks, repairs); fires the configured fault."""

    def __init__(self, fault: Fault | None = None) -> None:
        self.units = 0
        self.fault = fault or Fault.from_env()

    def committed(self) -> None:
        self.units += 1
        if self.fault.after is not None and self.units == self.fault.after:
            os.kill(os.getpid(), self.fault.signal)

    def posts_of_page(self, page_number: int, posts: list) -> Iterable:
        """The page's posts, killed half-way through when the fault names this page."""
        return _killed_midway(posts) if self.fault.inside_page == page_number else posts


def _killed_midway(posts: list) -> Iterator:
    for i, post in enumerate(posts):
        if i == len(posts) // 2:
            os.kill(os.getpid(), signal.SIGKILL)
        yield post
