"""Files linkkeeper writes for people (reports, exports, decisions): written whole or not at all, through a
temporary file beside the target that is moved into place only when complete, so an interrupted run (Ctrl-C,
kill -9, a full disk) never leaves a half-written file. A new file gets the mode the user's umask gives any
new file (mkstemp's private 0600 would hide a report from the web server or the group that reads it); a
replaced file keeps its mode."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import IO, Any, Callable, Iterable


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _mode_for(path: Path) -> int:
    try:
        return os.stat(path).st_mode & 0o777
    except FileNotFoundError:
        return 0o666 & ~_umask()


def _open_temporary(path: Path, binary: bool) -> tuple[IO[Any], str]:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    handle = os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", encoding="utf-8", newline="")
    return handle, tmp


def _commit(handle: IO[Any], tmp: str, path: Path) -> None:
    handle.flush()
    os.fsync(handle.fileno())
    handle.close()
    os.chmod(tmp, _mode_for(path))
    os.replace(tmp, path)


def _discard(handle: IO[Any], tmp: str) -> None:
    handle.close()
    try:
        os.unlink(tmp)
    except OSError:
        pass


def write_atomically(path: str | os.PathLike, write: Callable[[IO[Any]], object], *, binary: bool = False) -> None:
    """Call write(file) on a temporary file beside `path`, then move it into place (text files: UTF-8)."""
    path = Path(path)
    handle, tmp = _open_temporary(path, binary)
    try:
        write(handle)
        _commit(handle, tmp, path)
    except BaseException:
        _discard(handle, tmp)
        raise


class AtomicFiles:
    """Several text files written together, all moved into place only if every one was written:
    `with AtomicFiles(paths) as handles: handles[path].write(...)`."""

    def __init__(self, paths: Iterable[str | os.PathLike]) -> None:
        self.paths = [Path(p) for p in paths]
        self.open: dict[Path, tuple[IO[Any], str]] = {}

    def __enter__(self) -> dict[Path, IO[Any]]:
        try:
            for path in self.paths:
                self.open[path] = _open_temporary(path, binary=False)
        except BaseException as exc:
            self.__exit__(type(exc), exc, None)
            raise
        return {path: handle for path, (handle, _tmp) in self.open.items()}

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            for path, (handle, tmp) in self.open.items():
                _commit(handle, tmp, path)
        else:
            for handle, tmp in self.open.values():
                _discard(handle, tmp)
