"""What an article id says about its date, learned per domain from the captures and the blog's own links.

Sites number their articles in order (`article4612345`, `story.html?id=7303160`, `_n_2081234`,
`world-us-canada-19961234`), so a larger id was published no earlier. An article is therefore published no
later than the earliest sign of any larger id: a capture of it (CDX rows give ids and capture times), a dated
path carrying it, or a post of the blog linking it. That upper envelope needs no straight line through the
points, so it holds across a jump in the sequence (a new CMS that starts its ids millions higher) and past a
post that linked an old article years late (a late post only raises the envelope where a nearer point
already bounds it). Ids are kept per sequence: the domain and the separator before the digits (`=` of
`?id=`, `_` of `_n_`, `-`, or none for `article4612345`), so two numberings on one domain do not mix.
Pure, no I/O.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urlsplit

from linkkeeper.text.urls import host_key

# An id: five digits or more, not part of a longer run (dates in paths are read before ids are looked for).
_ID = re.compile(r"(?<![0-9])[0-9]{5,12}(?![0-9])")
_SEPARATOR = re.compile(r"[^a-z0-9]{0,3}$")
_DATE_DIGITS = re.compile(r"(?:199[0-9]|20[0-3][0-9])(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])")


def article_id(url: str) -> tuple[str, int] | None:
    """(sequence, id) of an article URL: the last run of 5-12 digits in its path or query; None without one."""
    parts = urlsplit(url)
    text = (parts.path or "") + ("?" + parts.query if parts.query else "")
    # A date written as digits (`idUSBRE9491YW20121021`) is not an article number.
    found = [m for m in _ID.finditer(text.lower()) if not _DATE_DIGITS.fullmatch(m.group(0))]
    if not found:
        return None
    match = found[-1]
    separator = _SEPARATOR.search(text.lower()[:match.start()]).group(0)
    return f"{host_key(parts.hostname)}|{separator}", int(match.group(0))


@dataclass
class _Sequence:
    points: dict[int, date] = field(default_factory=dict)  # id -> earliest date it was seen by
    _ids: list[int] = field(default_factory=list)
    _bound: list[date] = field(default_factory=list)  # bound[i]: earliest date of any id >= _ids[i]
    _dirty: bool = False

    def add(self, ident: int, seen: date) -> None:
        if ident not in self.points or seen < self.points[ident]:
            self.points[ident] = seen
            self._dirty = True

    def _envelope(self) -> None:
        if not self._dirty:
            return
        self._ids = sorted(self.points)
        bound: list[date] = []
        for ident in reversed(self._ids):
            seen = self.points[ident]
            bound.append(min(seen, bound[-1]) if bound else seen)
        self._bound = bound[::-1]
        self._dirty = False

    def estimate(self, ident: int) -> tuple[date, int] | None:
        self._envelope()
        i = bisect.bisect_left(self._ids, ident)
        if i >= len(self._ids):
            return None  # no larger id seen: nothing bounds it
        latest = self._bound[i]
        # The id below bounds nothing (it may have been captured years late), but where it was seen early, the
        # gap between the two bounds says how precise this one is.
        below = self._bound[i - 1] if i > 0 and self._ids[i - 1] < ident else None
        spread = (latest - below).days if below is not None else 365
        return latest, max(0, spread)


class IdClock:
    """Article ids against dates, per id sequence (see the module notes)."""

    def __init__(self) -> None:
        self._sequences: dict[str, _Sequence] = {}

    def observe(self, url: str, seen: date | None) -> None:
        """`url` existed by `seen` (captured then, or carried that date in its path, or a post linked it)."""
        if seen is None:
            return
        found = article_id(url)
        if found is not None:
            self._sequences.setdefault(found[0], _Sequence()).add(found[1], seen)

    def date_of(self, url: str) -> tuple[date, int] | None:
        """(the latest the article can have been published, how many days earlier it may be), or None when
        the URL carries no id or no larger id was ever seen."""
        found = article_id(url)
        if found is None or found[0] not in self._sequences:
            return None
        return self._sequences[found[0]].estimate(found[1])
