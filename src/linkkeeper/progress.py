"""What a long command shows while it works, on stderr: a progress bar redrawn in place on a terminal;
elsewhere (cron mails, journald, a log file) plain timestamped lines, a few per stage, so a log says how far
a run got without filling up."""

from __future__ import annotations

import sys
import time
from typing import Callable, TextIO

from linkkeeper.text.dates import to_iso, utcnow


class Console:
    """Log lines and progress for the command `name` (`linkkeeper NAME: ...` in plain lines). Without a
    terminal a stage logs its progress about ten times (`every=None`) or at most once every `every`
    seconds, and always at its end."""

    def __init__(self, stream: TextIO | None = None, *, tty: bool | None = None, quiet: bool = False,
                 name: str = "run", every: float | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.quiet = quiet
        self.name = name
        self.every = every
        self.clock = clock
        self._bar = False
        self._last_logged: dict[str, tuple[int, float]] = {}

    def log(self, message: str) -> None:
        if self.quiet:
            return
        if self.tty:
            self._clear()
            self.stream.write(f"{message}\n")
        else:
            self.stream.write(f"{to_iso(utcnow())} linkkeeper {self.name}: {message}\n")
        self.stream.flush()

    def progress(self, stage: str, done: int, total: int) -> None:
        if self.quiet or total <= 0:
            return
        if self.tty:
            width = 30
            filled = int(width * done / total)
            self.stream.write(f"\r{stage:<8} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
            self.stream.flush()
            self._bar = True
            if done >= total:
                self._clear()
            return
        now = self.clock()
        # A stage's first line comes `every` seconds after its first unit, not at once.
        last_done, last_time = self._last_logged.setdefault(stage, (0, now))
        due = (now - last_time >= self.every) if self.every is not None else (done - last_done >= max(1, total // 10))
        if done >= total or due:
            self._last_logged[stage] = (done, now)
            self.log(f"{stage}: {done}/{total}")

    def _clear(self) -> None:
        if self._bar:
            self.stream.write("\r\033[K")
            self._bar = False
