"""Whether a fetched capture is the article (step 3 of the package notes): what is kept of a capture, and
the checks that reject captured redirects and errors, the "excluded" page, soft 404s, paywalls and login
pages, and pages that do not hold the post's text. Pure, no I/O."""

from __future__ import annotations

import re
from dataclasses import dataclass

from linkkeeper.check.verdict import SHORT_PAGE_WORDS, looks_challenge, looks_not_found, looks_parked
from linkkeeper.text.html import has_password_input, page_title
from linkkeeper.text.similarity import containment, page_text
from linkkeeper.wayback import EXCLUDED_TEXT, Memento, format_timestamp

# Below this many words a post reproduces too little of the article to compare texts.
MIN_WORDS_TO_COMPARE = 20
# Text kept per capture in the cache: the article's opening is what a post reproduces.
TEXT_CAP = 100_000

_PAYWALL = re.compile(
    r"subscribe\s+(?:now\s+)?to\s+(?:continue|keep)\s+reading"
    r"|to\s+continue\s+reading[,.:]?\s+(?:please\s+)?(?:subscribe|log\s*in|sign\s*in|register)"
    r"|(?:article|story|content)\s+is\s+(?:only\s+)?(?:available\s+)?(?:to|for)\s+(?:paying\s+|paid\s+)?subscribers"
    r"|subscribers?[\s-]+only\b"
    r"|(?:sign|log)\s*in\s+to\s+(?:continue|read|view|access)"
    r"|you(?:'ve|\s+have)\s+reached\s+(?:your|the)\s+(?:limit|maximum)\s+of\s+(?:free\s+)?(?:articles|stories)"
    r"|create\s+(?:a\s+free\s+|an\s+)?account\s+to\s+(?:continue|read|keep\s+reading)",
    re.IGNORECASE,
)


def view_of(memento: Memento, requested: str) -> dict:
    """What verification (and the cache) keeps of a fetched capture."""
    raw = memento.body.decode("utf-8", "replace") if memento.body else ""
    textual = not memento.mimetype or any(t in memento.mimetype.lower() for t in ("html", "text", "xml"))
    title = page_title(raw[:200_000]) if textual else None
    prev = memento.links.get("prev memento", (None, None))[1]
    first = memento.links.get("first memento", (None, None))[1]
    return {
        "requested": requested, "timestamp": memento.timestamp, "original": memento.url, "status": memento.status,
        "redirect_location": memento.redirect_location, "mimetype": memento.mimetype,
        "title": page_text(title)[:300] if title else None,
        "text": page_text(raw)[:TEXT_CAP] if textual else "",
        "login_form": bool(textual and has_password_input(raw[:200_000])),
        "prev": format_timestamp(prev) if prev else None,
        "first": format_timestamp(first) if first else None, "error": None,
    }


@dataclass
class CaptureCheck:
    """Whether a capture is the article, and if not, what kind of page it is and why."""

    ok: bool
    kind: str | None = None  # redirect, status, excluded, no-memento, error, soft-404, paywall, challenge, text
    reason: str | None = None
    text_similarity: float | None = None

    @property
    def text_only(self) -> bool:
        """Rejected for its text alone: a 200 page that may be the article as it read later."""
        return self.kind == "text"


def enough_text(post_text: str) -> bool:
    return len(post_text.split()) >= MIN_WORDS_TO_COMPARE


def verify_capture(view: dict, post_text: str, min_similarity: float) -> CaptureCheck:
    """Whether a fetched capture is the article (see the package notes, step 3)."""
    error = view.get("error")
    if error:
        return CaptureCheck(False, error, view.get("message") or error)
    status = view["status"]
    if 300 <= status < 400:
        return CaptureCheck(False, "redirect", f"captured HTTP {status} redirect to {view.get('redirect_location')}")
    if status != 200:
        return CaptureCheck(False, "status", f"captured HTTP {status}")
    text, title = view.get("text") or "", view.get("title")
    if EXCLUDED_TEXT in text[:4000]:
        return CaptureCheck(False, "excluded", "the Wayback Machine's 'excluded' page")
    similarity = round(containment(post_text, text), 3) if enough_text(post_text) else None
    # A capture holding the post's text is the article, whatever else its page says (a "subscribe" banner,
    # a "404" in a sidebar): the marker tests only judge pages that do not.
    if similarity is not None and similarity >= min_similarity:
        return CaptureCheck(True, text_similarity=similarity)
    short = len(text.split()) < SHORT_PAGE_WORDS
    soft = looks_not_found(title, text) or looks_parked(title, text) or looks_challenge(title, text)
    if soft:
        return CaptureCheck(False, "soft-404", soft, similarity)
    paywall = _PAYWALL.search(f"{title or ''} {text[:6000]}")
    if paywall and (similarity is not None or short):
        return CaptureCheck(False, "paywall", f"paywall or login page ({paywall.group(0)!r})", similarity)
    if view.get("login_form") and short:
        return CaptureCheck(False, "paywall", "login page (a password form and little else)", similarity)
    if similarity is not None:
        return CaptureCheck(False, "text", f"holds {similarity:.0%} of the post's text (below {min_similarity:.0%})",
                            similarity)
    return CaptureCheck(True, text_similarity=None)

