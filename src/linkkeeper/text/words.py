"""Words of headlines, slugs and outlet names as recovery compares them: folded (accents and apostrophes
gone), stopwords and numbers dropped, plural s trimmed. Pure functions; no I/O."""

from __future__ import annotations

import re
import unicodedata
from typing import Iterable

from linkkeeper.text.normalize import normalize_text

STOPWORDS = frozenset("""
a an the and or but nor of to in on at for from by with as is are was were be been being its it this that these
those into onto over under after before about than then not no his her their our your my he she they we you
him them us says said say will would can could should may might has have had do does did up out off new via so too
""".split()) - {"us"}


def fold(text: str) -> str:
    """normalize_text, then accents dropped (a slug writes `quebec` for Québec) and apostrophes removed
    ("Harper's" and the slug "harpers" must meet)."""
    text = unicodedata.normalize("NFKD", normalize_text(text or ""))
    return "".join(c for c in text if not unicodedata.combining(c)).replace("'", "")


def content_words(text: str) -> list[str]:
    """Content words of a headline or slug: folded, stopwords and numbers dropped, plural s trimmed."""
    out = []
    for word in re.findall(r"[a-z0-9]+", fold(text)):
        if len(word) < 2 or word in STOPWORDS or word.isdigit():
            continue
        if len(word) > 4 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        out.append(word)
    return out


def outlet_key(name: str | None) -> str:
    """An outlet name as a key: "The Guardian", "theguardian" and "the-guardian" are one outlet."""
    return re.sub(r"[^a-z0-9]", "", fold(name or ""))


def slug_score(slug: Iterable[str], title: Iterable[str]) -> float:
    """How well a slug names this headline: the share of its words in the title, discounted below three
    shared words (a one-word slug found in the title proves little)."""
    s, t = set(slug), set(title)
    if not s or not t:
        return 0.0
    shared = len(s & t)
    return round((shared / len(s)) * min(1.0, shared / min(3, len(t))), 3)
