"""Verdicts: what one probe's evidence means (its evidence class), and the policy over time that turns a
URL's history into a verdict people can trust. No I/O here.

Evidence classes of one probe: alive, redirected, moved (a permanent redirect to another article URL),
drifted (alive, but another article than the one the post reproduces), dead (hard: 404, 410, a parked or
for-sale domain), soft-404, unreachable (the host does not answer: DNS failure, refused, reset, dropped or
timed out, and its root neither), blocked (401/402/403/451/999, bot challenges), transient (timeouts, 5xx,
429, resets, TLS failures) and refused (the address guard).

The policy (after InternetArchiveBot): a URL becomes `dead` (or `soft-404`) only after `dead_after_checks`
failing checks spanning at least `dead_after_hours`; until then it is `suspect`. An unreachable host's links
become `dead` the same way ("host unreachable since DATE"); a server error (5xx) on an article whose host
answers counts as failing but decides nothing before `server_error_dead_after_days`. Any good check resets
the count; a drifted one neither resets nor advances it. Blocked and other transient evidence never make a
URL dead.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from linkkeeper.text.dates import parse_iso_or_none, to_iso
from linkkeeper.text.normalize import normalize_text

FAILING_CLASSES = ("dead", "soft-404", "unreachable")
GOOD_CLASSES = ("alive", "redirected", "moved", "drifted")
# Errors of a host that did not answer at all (no HTTP answer came back).
SILENT_HOST_ERRORS = ("dns", "connection_refused", "timeout", "connect", "connection_reset")
# Statuses a paywalled site answers for a page that is there (InternetArchiveBot's paywall list).
PAYWALL_STATUSES = {401, 402, 403, 412, 428, 440, 449}
BLOCKED_STATUSES = {401, 402, 403, 451, 999}
HARD_DEAD_STATUSES = {404, 410}

# "Not found" as real sites word it in titles, headings and the opening of short pages (English, French and
# German, as the blog's outlets and their neighbours write; a few Spanish, Italian, Portuguese and Dutch ones),
# matched on normalised text (normalize_text: case folded, typographic apostrophes made plain). A subject is
# named where the words alone could open a news story ("the body was not found" is news; "the page you
# requested could not be found" is not).
_SUBJECT = r"(?:page|article|story|content|video|post|file|document|link|url)s?"
_NOT_FOUND = re.compile(
    rf"\b{_SUBJECT}\s+(?:was\s+|could\s+)?not\s+(?:be\s+)?found\b|\bnot\s+found\b"
    r"|\b(?:could\s+not|cannot|can't|couldn't)\s+be\s+found\b"
    r"|\bno\s+longer\s+(?:available|exists?|online)\b"
    rf"|\b{_SUBJECT}\b[^.!?]{{0,60}}?\b(?:does\s+not|doesn't|did\s+not|no\s+longer)\s+exists?\b"
    r"|\bcan(?:no|')?t\s+(?:seem\s+to\s+)?f(?:i|ou)nd\s+(?:the|that|this|what)\b"
    r"|\b(?:we|i)\s+(?:could\s*not|couldn't|can\s*not|can't|were\s+unable\s+to|are\s+unable\s+to)\s+"
    r"(?:seem\s+to\s+)?(?:find|locate)\b"
    r"|\bnothing\s+(?:was\s+)?found\s+(?:at|here)\b"  # WordPress's "nothing was found at this location"
    rf"|\b{_SUBJECT}\s+(?:is\s+|has\s+)?(?:currently\s+)?(?:unavailable|not\s+available|isn't\s+available"
    r"|expired|been\s+removed|been\s+deleted)\b"
    r"|\bthe\s+link\s+you\s+followed\s+may\s+(?:be\s+broken|have\s+expired)\b"
    r"|page\s+introuvable|page\s+non\s+trouv[ée]e|n'existe\s+(?:pas|plus)|n'est\s+plus\s+disponible"
    r"|\b(?:page|article|contenu|vid[ée]o)\s+(?:est\s+)?(?:indisponible|introuvable|non\s+disponible)\b"
    r"|nous\s+(?:n'avons\s+pas\s+(?:pu\s+)?trouv|ne\s+trouvons\s+pas)"
    r"|seite\s+(?:wurde\s+)?nicht\s+gefunden|nicht\s+gefunden|nicht\s+mehr\s+verf[üu]gbar|existiert\s+nicht"
    r"|\b(?:seite|artikel|inhalt|video|beitrag)\s+(?:ist\s+)?(?:leider\s+)?nicht\s+verf[üu]gbar"
    r"|p[áa]gina\s+no\s+encontrada|no\s+se\s+(?:encontr[óo]|encuentra)"
    r"|pagina\s+non\s+trovata|p[áa]gina\s+n[ãa]o\s+encontrada|pagina\s+niet\s+gevonden",
)
# Words one of which every wording above holds (see _search_where).
_NOT_FOUND_WORDS = ("found", "find", "locate", "longer", "exist", "availab", "expired", "removed", "deleted",
                    "followed", "trouv", "disponible", "gefunden", "verf", "encontr", "encuentra", "trovata",
                    "gevonden")
# "404" says "not found" only on a short page, and only shaped like an error ("404" opening a title, "404 -
# Oops", "Error 404", "HTTP 404", "Erreur 404", "Fehler 404"): "Story number 404" or a path /404/ says nothing.
_ERROR_404 = r"\b(?:error|erreur|fehler|http|status)\s*(?:code\s*)?404\b|\b404\s+error\b"
_BARE_404 = re.compile(r"^\W*404\s*(?:$|[-–—:|!.])|" + _ERROR_404)
_TEXT_404 = re.compile(_ERROR_404)
SHORT_PAGE_WORDS = 400
# How much of a short page's text is read for "not found": its opening, where such pages say it.
NOT_FOUND_HEAD = 1000

_PARKED = re.compile(
    r"this\s+domain\s+(?:name\s+)?(?:is|may\s+be)\s+for\s+sale|buy\s+this\s+domain|domain\s+is\s+parked"
    r"|parked\s+(?:free|domain)|sedoparking|hugedomains\.com|domain\s+has\s+expired|this\s+domain\s+has\s+been\s+registered"
    r"|afternic\.com|dan\.com/buy-domain|bodis\.com",
)
_CHALLENGE = re.compile(
    r"just\s+a\s+moment\.\.\.|attention\s+required!\s*\|\s*cloudflare|cf-browser-verification|cf_chl_|"
    r"checking\s+your\s+browser|please\s+enable\s+(?:js|javascript)\s+and\s+disable\s+any\s+ad\s+blocker|"
    r"_incapsula_resource|px-captcha|captcha-delivery\.com|are\s+you\s+a\s+robot|verify\s+you\s+are\s+(?:a\s+)?human|"
    r"access\s+to\s+this\s+page\s+has\s+been\s+denied",
)
# Words one of which every match of _PARKED, and of _CHALLENGE, holds (see _search_where).
_PARKED_WORDS = ("domain", "parked", "sedoparking", "afternic", "bodis")
_CHALLENGE_WORDS = ("moment", "cloudflare", "cf-browser", "cf_chl_", "checking", "blocker", "_incapsula_",
                    "captcha", "robot", "human", "denied")
_NOT_FOUND_URL = re.compile(r"(?:/404(?:[/.]|$)|404\.html?|notfound|not-found|page-not-found|error404)", re.IGNORECASE)
# A site's front page under another name than "/".
_INDEX_PATH = re.compile(r"^/?(?:index|default|home|start|main)(?:\.[a-z]{2,5})?/?$", re.IGNORECASE)
# A section front's path: one or two plain words (no digits, at most two hyphens: not a slug or an id).
_FRONT_SEGMENT = re.compile(r"^[a-z]+(?:[-_][a-z]+){0,2}$", re.IGNORECASE)


def _search_where(pattern: re.Pattern, words: tuple[str, ...], text: str) -> re.Match | None:
    """pattern.search(text), run only where one of `words` (one of which every match holds) is in the text: an
    alternation of many branches tries each of them at every position (250 us for the not-found expression on
    a page's 1,000-character opening), looking for a few words costs next to nothing."""
    return pattern.search(text) if any(word in text for word in words) else None


def looks_not_found(title: str | None, text: str | None, heading: str | None = None) -> str | None:
    """Why a page served with 200 reads as a "not found" page, or None: its title (or first heading) says
    so, or the page is short and its opening says so. Only a short page's opening counts: a long article
    can mention "not found" or "404" in passing."""
    text = text or ""
    short = len(text.split(None, SHORT_PAGE_WORDS)) <= SHORT_PAGE_WORDS
    for label, said in (("title", title), ("heading", heading)):
        if said:
            folded = normalize_text(said[:300])
            if _search_where(_NOT_FOUND, _NOT_FOUND_WORDS, folded) or (short and _BARE_404.search(folded)):
                return f"{label} says not found: {said[:80]!r}"
    if text and short:
        head = normalize_text(text[:NOT_FOUND_HEAD])
        m = _search_where(_NOT_FOUND, _NOT_FOUND_WORDS, head) or _TEXT_404.search(head)
        if m:
            return f"page says not found: {m.group(0)!r}"
    return None


def looks_parked(title: str | None, text: str | None) -> str | None:
    m = _search_where(_PARKED, _PARKED_WORDS, f"{title or ''} {(text or '')[:3000]}".lower())
    return f"parked or for-sale domain page ({m.group(0)!r})" if m else None


def looks_challenge(title: str | None, text: str | None, raw: str | None = None) -> str | None:
    # Lower-cased once and matched case-sensitively: an IGNORECASE alternation over kilobytes is slow.
    m = _search_where(_CHALLENGE, _CHALLENGE_WORDS, f"{title or ''} {(text or '')[:3000]} {(raw or '')[:5000]}".lower())
    return f"anti-bot challenge page ({m.group(0)!r})" if m else None


def _segments(path: str) -> list[str]:
    return [s for s in path.split("/") if s]


def is_deep(url: str) -> bool:
    """Whether a URL names more than a site's front page (a path other than / or an index file, or a query)."""
    parts = urlsplit(url)
    return bool(parts.query) or (parts.path.strip("/") != "" and not _INDEX_PATH.match(parts.path))


def redirect_soft_404(url: str, final_url: str | None) -> str | None:
    """A deep link redirected, on its host or another (a rebranded outlet), to a site's front page (its root
    or an index file), up to one of its own parent paths (a section front: /news/politics/slug -> /news/), or
    to a /404 or notfound URL."""
    if not final_url or final_url == url:
        return None
    start, end = urlsplit(url), urlsplit(final_url)
    if not is_deep(url):
        return None
    if not end.query and (end.path.strip("/") == "" or _INDEX_PATH.match(end.path)):
        return f"deep link redirected to the site root {final_url}"
    up, down = _segments(end.path), _segments(start.path)
    if not end.query and up and len(up) < len(down) and down[:len(up)] == up:
        return f"deep link redirected up to the section front {final_url}"
    if _NOT_FOUND_URL.search(end.path + "?" + end.query) and not _NOT_FOUND_URL.search(start.path):
        return f"redirected to a not-found page {final_url}"
    return None


def front_like(url: str) -> bool:
    """Whether a URL's path reads as a section front (/news/, /politics, /news/canada/): one or two plain
    words, no query. Only a hint: such a page is called a front when it also lists many articles."""
    parts = urlsplit(url)
    segments = _segments(parts.path)
    return not parts.query and 1 <= len(segments) <= 2 and all(_FRONT_SEGMENT.match(s) for s in segments)


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
    server_error_dead_after_days: float = 30.0

    @classmethod
    def from_settings(cls, settings) -> "Policy":
        return cls(settings.dead_after_checks, settings.dead_after_hours, tuple(settings.paywall_domains),
                   tuple(settings.always_alive), tuple(settings.always_dead), settings.server_error_dead_after_days)


@functools.lru_cache(maxsize=4096)
def _domain_listed(host: str, domains: tuple[str, ...]) -> bool:
    # Cached: asked for every link, of few hosts and one policy.
    host = host.lower().rstrip(".")
    return any(host == d or host.endswith("." + d) for d in (x.lower().lstrip(".") for x in domains))


def signature(evidence_class: str, status: int | None, error_class: str | None) -> str:
    """What a failure looks like, for the curator's "not dead" mark: the mark holds while this stays."""
    return f"{evidence_class}:{status or ''}:{error_class or ''}"


def apply_overrides(url: str, evidence_class: str, status: int | None, reason: str | None,
                    policy: Policy, *, host: str | None = None) -> tuple[str, str | None]:
    """The evidence class the curator's domain lists impose, if any. `host`: the URL's, when already known."""
    host = host if host is not None else urlsplit(url).hostname or ""
    if _domain_listed(host, policy.always_alive):
        return "alive", "domain listed in always_alive"
    if _domain_listed(host, policy.always_dead):
        return "dead", "domain listed in always_dead"
    if status in PAYWALL_STATUSES and evidence_class == "blocked" and _domain_listed(host, policy.paywall_domains):
        return "alive", f"HTTP {status} from a paywalled domain"
    return evidence_class, reason


def decide(evidence_class: str, reason: str | None, previous: dict | None, now: datetime, policy: Policy, *,
           mark: dict | None = None, sig: str | None = None, confirmed_now: bool = False,
           moved_to: str | None = None, server_error: bool = False) -> dict:
    """The URL's new state (a url_status row without the check columns) after one more check.

    `previous` is the URL's current url_status row (or None); `confirmed_now` says that this check already
    re-probed the failure several times within the run (`check --confirm-now`), which lets a one-off bulk
    repair decide "dead" at once, flagged as resting on a single day's evidence. `server_error` says that
    this transient evidence is a 5xx on an article whose host's root answers: it counts as failing, and can
    make the URL dead once the failures span `server_error_dead_after_days`.
    """
    previous = previous or {}
    if mark and mark.get("mark") == "not-dead" and evidence_class in FAILING_CLASSES and mark.get("signature") == sig:
        return {"verdict": "alive", "evidence_class": evidence_class, "reason": "marked not dead by the curator",
                "consecutive_failures": 0, "first_failure_at": None, "single_day": 0, "moved_to": None}
    kept = {"consecutive_failures": previous.get("consecutive_failures") or 0,
            "first_failure_at": previous.get("first_failure_at"), "single_day": 0, "moved_to": None}
    if evidence_class == "drifted":
        # Live, but another article: not the good check that would clear a failure being confirmed.
        return {"verdict": "drifted", "evidence_class": evidence_class, "reason": reason, **kept}
    if evidence_class in GOOD_CLASSES:
        return {"verdict": evidence_class, "evidence_class": evidence_class, "reason": reason,
                "consecutive_failures": 0, "first_failure_at": None, "single_day": 0, "moved_to": moved_to}
    if evidence_class in FAILING_CLASSES or server_error:
        failures = (previous.get("consecutive_failures") or 0) + 1
        first = parse_iso_or_none(previous.get("first_failure_at")) or now
        span_ok = now - first >= timedelta(hours=policy.dead_after_hours)
        decided = confirmed_now or (failures >= policy.dead_after_checks and span_ok)
        since = to_iso(first)[:10]
        if server_error:
            due = now - first >= timedelta(days=policy.server_error_dead_after_days)
            verdict = "dead" if due and decided else "unknown"
            reason = (f"{reason}: server errors since {since}" if verdict == "dead" else
                      f"{reason} (failing since {since}; dead after {policy.server_error_dead_after_days:g} days)")
        else:
            verdict = ("dead" if evidence_class == "unreachable" else evidence_class) if decided else "suspect"
            if evidence_class == "unreachable":
                reason = f"host unreachable since {since}"
        return {"verdict": verdict, "evidence_class": evidence_class, "reason": reason,
                "consecutive_failures": failures, "first_failure_at": to_iso(first),
                "single_day": int(verdict in ("dead", "soft-404") and not span_ok), "moved_to": None}
    # blocked, transient, refused: say so, but neither reset nor advance the count towards dead.
    verdict = {"transient": "unknown"}.get(evidence_class, evidence_class)
    return {"verdict": verdict, "evidence_class": evidence_class, "reason": reason, **kept}
