"""How a command ends: its exit code, the one line a mistake gets, and SIGTERM made to stop a command the way
Ctrl-C does.

Exit codes (docs/commands.md): 0 done; 1 a link newly broke (news for cron, not an error); 2 a mistake in the
command, a setting, a path or the input, which the user can fix; 3 the run failed (the network, the archive,
the disk, or a bug); 130 and 143 stopped by SIGINT (Ctrl-C) or SIGTERM, 128 + the signal's number, as a
shell reports a process a signal ended. A stopped command keeps every unit of work it finished.
"""

from __future__ import annotations

import errno
import signal
import threading
from typing import Any

EXIT_OK, EXIT_BREAKAGE, EXIT_USAGE, EXIT_FAILED = 0, 1, 2, 3
EXIT_FOR_SIGNAL = {"SIGINT": 128 + signal.SIGINT, "SIGTERM": 128 + signal.SIGTERM}
EXIT_SIGINT, EXIT_SIGTERM = EXIT_FOR_SIGNAL["SIGINT"], EXIT_FOR_SIGNAL["SIGTERM"]
REPORT_BUGS_AT = "https://github.com/linkkeeper/linkkeeper/issues"

# Errors about a path the user gave (a missing folder, no permission, a folder where a file goes): exit 2.
# Any other OSError (a full disk, an I/O error) is the run failing: exit 3.
PATH_MISTAKES = frozenset({errno.ENOENT, errno.EACCES, errno.EPERM, errno.EISDIR, errno.ENOTDIR, errno.EEXIST,
                           errno.EROFS, errno.ENAMETOOLONG, errno.ELOOP})


def os_error_line(exc: OSError) -> tuple[int, str]:
    """(exit code, message) for an OSError that reached the top: the path and what is wrong with it."""
    path = exc.filename2 if exc.filename2 is not None else exc.filename
    reason = (exc.strerror or str(exc)).lower()
    if exc.errno in PATH_MISTAKES and path is not None:
        return EXIT_USAGE, f"{path}: {reason}"
    where = f" ({path})" if path is not None else ""
    return EXIT_FAILED, f"the run failed: {reason}{where}"


class SignalNote:
    """Which signal stopped the command. While installed, SIGTERM does what Ctrl-C does: it calls the SIGINT
    handler in place (asyncio's runner then cancels the work in flight and raises KeyboardInterrupt; outside an
    event loop, KeyboardInterrupt is raised at once), so both signals leave only whole units of work behind
    and reach the same clean-up. `name` is "SIGTERM" once one arrived, else "SIGINT"."""

    def __init__(self) -> None:
        self.terminated = False
        self._previous: Any = None
        self._installed = False

    @property
    def name(self) -> str:
        return "SIGTERM" if self.terminated else "SIGINT"

    @property
    def exit_code(self) -> int:
        return EXIT_FOR_SIGNAL[self.name]

    def _on_sigterm(self, _signum: int, frame: Any) -> None:
        self.terminated = True
        handler = signal.getsignal(signal.SIGINT)
        if callable(handler):
            handler(signal.SIGINT, frame)
            return
        raise KeyboardInterrupt  # SIGINT ignored (a background job): stop all the same

    def __enter__(self) -> "SignalNote":
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGTERM, self._on_sigterm)
            self._installed = True
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._installed:
            signal.signal(signal.SIGTERM, self._previous)
            self._installed = False
