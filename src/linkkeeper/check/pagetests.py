"""The tests that read a live page beside others: the soft-404 random-sibling probe (Bar-Yossef et al.; JingyZhu/
fable's sic_transit: a URL shaped like this one that cannot exist; if it gets the same page, this one is a soft
404) and the drift test (does the page still hold the text the posts citing it reproduce). No I/O here."""

from __future__ import annotations

import random
import re
import string
from urllib.parse import urlsplit, urlunsplit

from linkkeeper.check.evidence import Evidence
from linkkeeper.text.similarity import containment, shingles

# Below this many words a page (or a post) has too little text to judge drift or similarity.
MIN_WORDS = 20


def url_shape(url: str) -> str:
    """The shape of a URL's path: digits and letters generalised, so siblings share one probe per run."""
    parts = urlsplit(url)
    shape = re.sub(r"[0-9]+", "9", parts.path)
    shape = re.sub(r"[A-Za-z]+", "a", shape)
    return f"{(parts.hostname or '').lower()}{shape}{'?' if parts.query else ''}"


def sibling_url(url: str) -> str | None:
    """A URL on the same host shaped like this one that cannot exist: the last path segment's letters and
    digits replaced at random, same lengths and punctuation. None for a home page."""
    parts = urlsplit(url)
    segments = parts.path.split("/")
    index = max((i for i, s in enumerate(segments) if s), default=None)
    if index is None:
        return None
    rng = random.Random(url)
    stem, dot, ext = segments[index].rpartition(".") if "." in segments[index] else (segments[index], "", "")
    if not dot:
        stem, ext = segments[index], ""

    def scramble(ch: str) -> str:
        if ch.isdigit():
            return rng.choice(string.digits)
        if ch.isalpha():
            return rng.choice(string.ascii_lowercase)
        return ch

    segments[index] = "".join(scramble(c) for c in stem) + (f".{ext}" if dot else "")
    return urlunsplit((parts.scheme, parts.netloc, "/".join(segments), parts.query, ""))


def text_resemblance(a: str, b: str) -> float:
    """Jaccard similarity of two texts' shingle sets."""
    sa, sb = shingles(a), shingles(b)
    if not sa or not sb:
        return 1.0 if sa == sb else 0.0
    return len(sa & sb) / len(sa | sb)


def sibling_verdict(real: Evidence, sibling: Evidence) -> str | None:
    """Why the real page is a soft 404 given what a surely-missing sibling got, or None."""
    if sibling.evidence_class in ("dead", "soft-404") or not (200 <= (sibling.status or 0) < 300):
        return None  # the server tells missing pages apart: the real page's 200 means something
    if real.canonical and real.canonical.rstrip("/") == (real.final_url or real.url).rstrip("/"):
        return None
    if sibling.final_url and real.final_url and sibling.final_url == real.final_url and real.final_url != real.url:
        return f"a URL that cannot exist lands on the same page ({real.final_url})"
    if real.text and sibling.text and text_resemblance(real.text, sibling.text) >= 0.95:
        return "a URL that cannot exist gets the same page text"
    return None


def drift_reason(page_text: str, lead_texts: list[str], threshold: float) -> str | None:
    """Whether a live page no longer holds the text the posts citing it reproduce (their lead texts)."""
    if len(page_text.split()) < MIN_WORDS:
        return None  # a script-rendered or tiny page: nothing to judge by
    best = None
    for lead in lead_texts:
        if len(lead.split()) < MIN_WORDS:
            continue
        score = containment(lead, page_text)
        best = score if best is None else max(best, score)
    if best is not None and best < threshold:
        return f"the page holds {best:.0%} of the text the post reproduces (threshold {threshold:.0%})"
    return None
