"""A copy of a built database for one test, so a module-wide world can be changed freely."""

from __future__ import annotations

import sqlite3


def copy_db(source, target):
    """Copy `source` to `target` with SQLite's backup API (it carries what is still in the WAL; copying the
    file would not); returns `target`."""
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    src.backup(dst)
    src.close()
    dst.close()
    return target
