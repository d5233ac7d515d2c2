"""The one normalisation of text before any comparison: what changes how a text is spelled, not what it says,
is made alike. Pure functions; no I/O."""

from __future__ import annotations

import re
import unicodedata

# Characters that change how a text is spelled, not what it says: soft hyphens (German and French sites write
# them inside words: `die&shy;sem`), zero-width spaces and joiners, word joiners, the byte-order mark, and the
# bidirectional marks and isolates.
_INVISIBLE_CHARS = ("\u00ad\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063\u2064\ufeff"
                    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u061c\u180e")
# Typographic quotes, apostrophes and dashes folded to one form each (NFKC leaves them as they are).
_TYPOGRAPHY_OF = {**dict.fromkeys("\u2018\u2019\u201a\u201b\u2032\u02bc\u00b4\u0060", "'"),
                  **dict.fromkeys("\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb", '"'),
                  **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212", "-")}
# Replaced by regular expressions rather than str.translate: translate looks every character of a non-ASCII
# text up in its table (50 us for a 1,000-character page opening, twice), a character class skips to the few
# that match.
_INVISIBLE = re.compile("[" + re.escape(_INVISIBLE_CHARS) + "]")
_TYPOGRAPHY = re.compile("[" + re.escape("".join(_TYPOGRAPHY_OF)) + "]")


def _typography(match: re.Match) -> str:
    return _TYPOGRAPHY_OF[match.group()]


def normalize_text(text: str) -> str:
    """The one spelling every comparison of texts uses (drift, capture verification, recovery scoring, the
    soft-404 resemblance): Unicode NFKC (ligatures, full-width forms, no-break spaces and decomposed accents
    made plain: `u` + U+0308 becomes `ü`), invisible characters removed, typographic quotes, apostrophes and
    dashes folded, whitespace collapsed, case folded. HTML entities are decoded before (html_to_text), once.
    An ASCII text has nothing for the first three to do but fold its backticks."""
    if not text.isascii():
        text = _TYPOGRAPHY.sub(_typography, unicodedata.normalize("NFKC", _INVISIBLE.sub("", text)))
    elif "`" in text:
        text = text.replace("`", "'")
    return " ".join(text.split()).casefold()
