"""What every source format shares: the post record, the bad-input error, and per-file id uniqueness."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable

log = logging.getLogger("linkkeeper.sources")

Warn = Callable[[str], None]


@dataclass
class Post:
    """One published post. `html` is the content as HTML; `line` is where the post starts in the file."""

    id: str
    url: str | None
    title: str | None
    published: str | None
    updated: str | None
    labels: list[str]
    html: str
    line: int


class ExportError(Exception):
    """Bad input: str(e) is 'FILE:LINE:COLUMN: message', or 'FILE:LINE: message' when no column applies."""

    def __init__(self, path, line: int, column: int | None, message: str):
        self.path = str(path)
        self.line = line
        self.column = column
        self.message = message
        where = f"{self.path}:{line}" if column is None else f"{self.path}:{line}:{column}"
        super().__init__(f"{where}: {message}")


class UniqueIds:
    """Post ids must be unique within a file, or a replacement could land in the wrong post: a repeated id
    becomes `ID#2`, `ID#3`... (with a warning). Reading and patching both go through this, in file order, so
    they agree on which post is which."""

    def __init__(self, path, warn: Warn):
        self.path = str(path)
        self.warn = warn
        self.first_line: dict[str, int] = {}
        self.count: dict[str, int] = {}

    def __call__(self, post_id: str, line: int) -> str:
        n = self.count.get(post_id, 0) + 1
        self.count[post_id] = n
        if n == 1:
            self.first_line[post_id] = line
            return post_id
        unique = f"{post_id}#{n}"
        self.warn(f"{self.path}:{line}: post id {post_id!r} repeats (first at line {self.first_line[post_id]}); "
                  f"this one is read as {unique!r}")
        return unique
