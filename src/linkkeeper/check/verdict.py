"""Verdicts: what one probe's evidence means (its evidence class), and the policy over time that turns a
URL's history into a verdict people can trust. No I/O here.

Evidence classes of one probe: alive, redirected, moved (a permanent redirect to another article URL),
drifted (alive, but no longer the text the post reproduces), dead (hard: 404, 410, NXDOMAIN, connection
refused, a parked or for-sale domain), soft-404, blocked (401/402/403/451/999, bot challenges), transient
(timeouts, 5xx, 429, resets, TLS failures) and refused (the address guard).

The policy (after InternetArchiveBot): a URL becomes `dead` (or `soft-404`) only after `dead_after_checks`
failing checks spanning at least `dead_after_hours`; until then it is `suspect`. Any good check resets it.
Blocked and transient evidence never make a URL dead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from linkkeeper.text.dates import parse_iso_or_none, to_iso

FAILING_CLASSES = ("dead", "soft-404")
GOOD_CLASSES = ("alive", "redirected", "moved", "drifted")
# Statuses a paywalled site answers for a page that is there (InternetArchiveBot's paywall list).
PAYWALL_STATUSES = {401, 402, 403, 412, 428, 440, 449}
BLOCKED_STATUSES = {401, 402, 403, 451, 999}
HARD_DEAD_STATUSES = {404, 410}

# "Not found" in titles and short pages, in the languages the blog's outlets and their neighbours write.
_NOT_FOUND = re.compile(
    r"\b(?:page|article|story|content)s?\s+(?:was\s+|could\s+)?not\s+(?:be\s+)?found\b|\bnot\s+found\b"
    r"|\b(?:could\s+not|cannot|can't)\s+be\s+found\b|\bno\s+longer\s+(?:available|exists)\b|\b(?:page|article)\s+(?:does\s+not|doesn't)\s+exist\b"
    r"|\bcan(?:no|')t\s+(?:be\s+)?f(?:i|ou)nd\s+(?:the|that|this)\s+page\b|\bwe\s+couldn't\s+find\b"
    r"|page\s+introuvable|n'existe\s+(?:pas|plus)|n'est\s+plus\s+disponible|erreur\s+404"
    r"|seite\s+(?:wurde\s+)?nicht\s+gefunden|nicht\s+gefunden"
    r"|p[áa]gina\s+no\s+encontrada|no\s+se\s+(?:encontr[óo]|encuentra)"
    r"|pagina\s+non\s+trovata|p[áa]gina\s+n[ãa]o\s+encontrada|pagina\s+niet\s+gevonden",
    re.IGNORECASE,
)
# "404" says "not found" only in a title shaped like an error ("404", "404 - Oops", "Error 404", "HTTP 404"):
# "Story number 404" or a path segment /404/ says nothing.
_BARE_404 = re.compile(r"^\W*404\s*(?:$|[-–—:|!.])|\b(?:error|http|status)\s*(?:code\s*)?404\b", re.IGNORECASE)
SHORT_PAGE_WORDS = 400

_PARKED = re.compile(
    r"this\s+domain\s+(?:name\s+)?(?:is|may\s+be)\s+for\s+sale|buy\s+this\s+domain|domain\s+is\s+parked"
    r"|parked\s+(?:free|domain)|sedoparking|hugedomains\.com|domain\s+has\s+expired|this\s+domain\s+has\s+been\s+registered"
    r"|afternic\.com|dan\.com/buy-domain|bodis\.com",
    re.IGNORECASE,
)
_CHALLENGE = re.compile(
    r"just\s+a\s+moment\.\.\.|attention\s+required!\s*\|\s*cloudflare|cf-browser-verification|cf_chl_|"
    r"checking\s+your\s+browser|please\s+enable\s+(?:js|javascript)\s+and\s+disable\s+any\s+ad\s+blocker|"
    r"_incapsula_resource|px-captcha|captcha-delivery\.com|are\s+you\s+a\s+robot|verify\s+you\s+are\s+(?:a\s+)?human|"
    r"access\s+to\s+this\s+page\s+has\s+been\s+denied",
    re.IGNORECASE,
)
_NOT_FOUND_URL = re.compile(r"(?:/404(?:[/.]|$)|404\.html?|notfound|not-found|page-not-found|error404)", re.IGNORECASE)


def looks_not_found(title: str | None, text: str | None) -> str | None:
    """Why a page served with 200 reads as a "not found" page, or None."""
    short = len((text or "").split()) < SHORT_PAGE_WORDS
    if title and (_NOT_FOUND.search(title) or (short and _BARE_404.search(title))):
        return f"title says not found: {title[:80]!r}"
    if text and short:
        # Only a short page, and only its opening, counts: a long article can mention "404" in passing.
        m = _NOT_FOUND.search(text[:600])
        if m:
            return f"page says not found: {m.group(0)!r}"
    return None


def looks_parked(title: str | None, text: str | None) -> str | None:
    m = _PARKED.search(f"{title or ''} {(text or '')[:3000]}")
    return f"parked or for-sale domain page ({m.group(0)!r})" if m else None


def looks_challenge(title: str | None, text: str | None, raw: str | None = None) -> str | None:
    m = _CHALLENGE.search(f"{title or ''} {(text or '')[:3000]} {(raw or '')[:5000]}")
    return f"anti-bot challenge page ({m.group(0)!r})" if m else None


def redirect_soft_404(url: str, final_url: str | None) -> str | None:
    """A deep link redirected to the site's root, or to a /404 or notfound URL."""
    if not final_url or final_url == url:
        return None
    start, end = urlsplit(url), urlsplit(final_url)
    deep = start.path.strip("/") != "" or bool(start.query)
    if deep and end.path.strip("/") == "" and not end.query:
        return f"deep link redirected to the site root {final_url}"
    if _NOT_FOUND_URL.search(end.path + "?" + end.query) and not _NOT_FOUND_URL.search(start.path):
        return f"redirected to a not-found page {final_url}"
    return None


def same_article_path(a: str, b: str) -> bool:
    """Whether a redirect kept pointing at an article (not a section page): the last path segment of the
    target still looks like a slug or id, not a bare section."""
    seg_a = [s for s in urlsplit(a).path.split("/") if s]
    seg_b = [s for s in urlsplit(b).path.split("/") if s]
    return bool(seg_b) and (len(seg_b) >= max(1, len(seg_a) - 2))


# --- policy over time -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Policy:
    dead_after_checks: int = 3
    dead_after_hours: float = 72.0
    paywall_domains: tuple[str, ...] = ()
    always_alive: tuple[str, ...] = ()
    always_dead: tuple[str, ...] = ()

    @classmethod
    def from_settings(cls, settings) -> "Policy":
        return cls(settings.dead_after_checks, settings.dead_after_hours, settings.paywall_domains,
                   settings.always_alive, settings.always_dead)


def _domain_listed(host: str, domains: tuple[str, ...]) -> bool:
    host = host.lower().rstrip(".")
    return any(host == d or host.endswith("." + d) for d in (x.lower().lstrip(".") for x in domains))


def signature(evidence_class: str, status: int | None, error_class: str | None) -> str:
    """What a failure looks like, for the curator's "not dead" mark: the mark holds while this stays."""
    return f"{evidence_class}:{status or ''}:{error_class or ''}"


def apply_overrides(url: str, evidence_class: str, status: int | None, reason: str | None,
                    policy: Policy) -> tuple[str, str | None]:
    host = urlsplit(url).hostname or ""
    if _domain_listed(host, policy.always_alive):
        return "alive", "domain listed in always_alive"
    if _domain_listed(host, policy.always_dead):
        return "dead", "domain listed in always_dead"
    if status in PAYWALL_STATUSES and evidence_class == "blocked" and _domain_listed(host, policy.paywall_domains):
        return "alive", f"HTTP {status} from a paywalled domain"
    return evidence_class, reason


def decide(evidence_class: str, reason: str | None, previous: dict | None, now: datetime, policy: Policy, *,
           mark: dict | None = None, sig: str | None = None, confirmed_now: bool = False,
           moved_to: str | None = None) -> dict:
    """The URL's new state (a url_status row without the check columns) after one more check.

    `previous` is the URL's current url_status row (or None); `confirmed_now` says that this check already
    re-probed the failure several times within the run (`check --confirm-now`), which lets a one-off bulk
    repair decide "dead" at once, flagged as resting on a single day's evidence.
    """
    previous = previous or {}
    if mark and mark.get("mark") == "not-dead" and evidence_class in FAILING_CLASSES and mark.get("signature") == sig:
        return {"verdict": "alive", "evidence_class": evidence_class, "reason": "marked not dead by the curator",
                "consecutive_failures": 0, "first_failure_at": None, "single_day": 0, "moved_to": None}
    if evidence_class in GOOD_CLASSES:
        return {"verdict": evidence_class, "evidence_class": evidence_class, "reason": reason,
                "consecutive_failures": 0, "first_failure_at": None, "single_day": 0, "moved_to": moved_to}
    if evidence_class in FAILING_CLASSES:
        failures = (previous.get("consecutive_failures") or 0) + 1
        first = parse_iso_or_none(previous.get("first_failure_at")) or now
        span_ok = now - first >= timedelta(hours=policy.dead_after_hours)
        if confirmed_now:
            verdict, single_day = evidence_class, int(not span_ok)
        elif failures >= policy.dead_after_checks and span_ok:
            verdict, single_day = evidence_class, 0
        else:
            verdict, single_day = "suspect", 0
        return {"verdict": verdict, "evidence_class": evidence_class, "reason": reason,
                "consecutive_failures": failures, "first_failure_at": to_iso(first),
                "single_day": single_day, "moved_to": None}
    # blocked, transient, refused: say so, but neither reset nor advance the count towards dead.
    verdict = {"transient": "unknown"}.get(evidence_class, evidence_class)
    return {"verdict": verdict, "evidence_class": evidence_class, "reason": reason,
            "consecutive_failures": previous.get("consecutive_failures") or 0,
            "first_failure_at": previous.get("first_failure_at"), "single_day": 0, "moved_to": None}
