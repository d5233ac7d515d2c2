"""The tests that read a live page beside others or beside the post: the soft-404 random-sibling probe
(Bar-Yossef et al.; JingyZhu/fable's sic_transit: a URL shaped like this one that cannot exist; if it gets the
same page, this one is a soft 404), a deep link redirected onto a front page that lists articles, and drift
(does the page still hold the text the posts citing it reproduce, and if not, is it another article). Pages
are compared by their main text (text/html.py main_text), so a template two pages share never makes them
look alike. No I/O here."""

from __future__ import annotations

import random
import re
import string
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from linkkeeper.check import verdict
from linkkeeper.check.evidence import Evidence
from linkkeeper.text.html import headline_links
from linkkeeper.text.normalize import normalize_text
from linkkeeper.text.similarity import containment, resemblance, sketch

# Below this many words a page (or a post) has too little text to judge drift or similarity.
MIN_WORDS = 20
# Two pages whose main texts' sketches resemble each other this much are the same page.
SAME_PAGE = 0.9
# A page is another article (drifted) only when it holds less than this share of drift_threshold of the
# post's text, and has this many words of paragraphs of its own; in between, it stays alive with a note.
DRIFT_MARGIN = 0.5
ARTICLE_WORDS = 100
# A front page lists at least this many headline-like links.
FRONT_LINKS = 15

_DIGITS = re.compile(r"\d{3,}")
_DIGIT_RUN = re.compile(r"[0-9]+")
_WORD_RUN = re.compile(r"[A-Za-z]+")
_SLUG_RUN = re.compile(r"a(?:[-_+]a)+")
_YEAR = re.compile(r"(?:19|20)\d\d")


def url_shape(url: str) -> str:
    """The shape of a URL's path: digits and letters generalised, and a slug of any number of words one
    token, so siblings share one probe per run (a CMS answers `/news/a-b-c-12` as it answers `/news/a-b-12`:
    counting the words made a probe per slug length: 157 more requests per 20,000 links of the all-200
    bench)."""
    parts = urlsplit(url)
    shape = _DIGIT_RUN.sub("9", parts.path)
    shape = _WORD_RUN.sub("a", shape)
    shape = _SLUG_RUN.sub("s", shape)
    return f"{(parts.hostname or '').lower()}{shape}{'?' if parts.query else ''}"


def sibling_url(url: str) -> str | None:
    """A URL on the same host shaped like this one that cannot exist: the last path segment's letters and
    digits replaced at random, same lengths and punctuation, and every other run of three digits or more
    (an article id: /news/4612345/slug, ?id=7303160) too, but a year: a site that names articles by an id and
    ignores the slug serves the article itself at any slug, and only an unknown id tells. None for a home
    page."""
    parts = urlsplit(url)
    segments = parts.path.split("/")
    index = max((i for i, s in enumerate(segments) if s), default=None)
    if index is None:
        return None
    rng = random.Random(url)

    def scramble(ch: str) -> str:
        if ch.isdigit():
            return rng.choice(string.digits)
        if ch.isalpha():
            return rng.choice(string.ascii_lowercase)
        return ch

    def new_id(m: re.Match) -> str:
        run = m.group(0)
        return run if _YEAR.fullmatch(run) else "".join(scramble(c) for c in run)

    stem, dot, ext = segments[index].rpartition(".") if "." in segments[index] else (segments[index], "", "")
    if not dot:
        stem, ext = segments[index], ""
    segments = [_DIGITS.sub(new_id, s) for s in segments[:index]] + segments[index:]
    segments[index] = "".join(scramble(c) for c in stem) + (f".{ext}" if dot else "")
    return urlunsplit((parts.scheme, parts.netloc, "/".join(segments), _DIGITS.sub(new_id, parts.query), ""))


@dataclass(frozen=True)
class PagePrint:
    """What the sibling test keeps of a sibling's page: its answer and a bounded sketch of its main text."""

    status: int | None
    evidence_class: str
    url: str
    final_url: str | None
    canonical: str | None
    sketch: frozenset[int]
    words: int


def page_print(ev: Evidence) -> PagePrint:
    page = 200 <= (ev.status or 0) < 300 and ev.evidence_class not in ("dead", "soft-404") and bool(ev.markup)
    main = ev.main if page else None
    return PagePrint(ev.status, ev.evidence_class, ev.url, ev.final_url, ev.canonical if page else None,
                     sketch(main.text) if main else frozenset(), main.words if main else 0)


def _same_url(a: str | None, b: str | None) -> bool:
    return bool(a and b) and a.rstrip("/") == b.rstrip("/")


def sibling_verdict(real: Evidence, sibling: PagePrint) -> str | None:
    """Why the real page is a soft 404 given what a surely-missing sibling got, or None."""
    if sibling.evidence_class in ("dead", "soft-404", "unreachable") or not (200 <= (sibling.status or 0) < 300):
        return None  # the server tells missing pages apart: the real page's 200 means something
    final = real.final_url or real.url
    if real.canonical and _same_url(real.canonical, final):
        return None
    if _same_url(sibling.final_url, real.url) or _same_url(sibling.canonical, real.url) or _same_url(sibling.canonical, final):
        return None  # the host sent the sibling to this very page: it names its pages by what it kept
    if sibling.final_url and real.final_url and sibling.final_url == real.final_url and real.final_url != real.url:
        return f"a URL that cannot exist lands on the same page ({real.final_url})"
    if not real.markup or real.main.words < MIN_WORDS or sibling.words < MIN_WORDS:
        return None  # too little text of its own to tell two pages apart
    if resemblance(sketch(real.main.text), sibling.sketch) >= SAME_PAGE:
        return "a URL that cannot exist gets the same page text"
    return None


def front_page_reason(ev: Evidence) -> str | None:
    """A deep link redirected onto what reads as a section front: a path of one or two plain words
    (/news/canada/) on a page listing many articles."""
    final = ev.final_url or ev.url
    if not ev.redirect_chain or not ev.markup or not verdict.is_deep(ev.url) or not verdict.front_like(final):
        return None
    if headline_links(ev.markup) >= FRONT_LINKS:
        return f"deep link redirected to a section front listing articles ({final})"
    return None


def _best_containment(leads: list[str], page_text: str, normalized: bool = False) -> float | None:
    best = None
    for lead in leads:
        if len(lead.split(None, MIN_WORDS)) < MIN_WORDS:
            continue
        score = containment(lead, page_text, normalized=normalized)
        best = score if best is None else max(best, score)
    return best


# Words a post's title needs for the page's headline carrying it to say "the same article" (not "Update").
HEADLINE_WORDS = 4


def keeps_headline(ev: Evidence, titles: list[str]) -> bool:
    """Whether the page's title or first heading carries one of the posts' titles whole."""
    page = " | ".join(normalize_text(t) for t in (ev.title, ev.heading) if t)
    return any(len(title.split()) >= HEADLINE_WORDS and title in page
               for title in (normalize_text(t) for t in titles if t))


def drift_reason(page_text: str, lead_texts: list[str], threshold: float) -> str | None:
    """Whether a live page no longer holds the text the posts citing it reproduce (their lead texts): strictly
    below `threshold`, whatever else the page holds (recovery's test of a live page it would link)."""
    if len(page_text.split()) < MIN_WORDS:
        return None  # a script-rendered or tiny page: nothing to judge by
    best = _best_containment(lead_texts, page_text)
    if best is not None and best < threshold:
        return f"the page holds {best:.0%} of the text the post reproduces (threshold {threshold:.0%})"
    return None


def drift_judgement(ev: Evidence, posts: list[tuple[str, str]], threshold: float) -> tuple[bool, str | None]:
    """(drifted, reason) for a live page that did not plainly hold its lead, given the citing posts' titles and
    texts. Drifted only on clear evidence: the page holds well below `threshold` of the post's text
    (DRIFT_MARGIN of it), has an article's worth of paragraphs of its own (ARTICLE_WORDS) and does not carry
    the post's headline (an update rewrites an article's opening under the same headline); a page in between
    stays live, with a note for the curator."""
    lead_texts = [text for _title, text in posts]
    if not any(len(lead.split(None, MIN_WORDS)) >= MIN_WORDS for lead in lead_texts):
        return False, None  # no post text long enough to judge by (_best_containment): the page is not read
    if len(ev.text.split(None, MIN_WORDS)) < MIN_WORDS:
        return False, None  # a script-rendered or tiny page: nothing to judge by
    best = _best_containment(lead_texts, ev.folded, normalized=True)
    if best is None or best >= threshold:
        return False, None
    held = f"the page holds {best:.0%} of the text the post reproduces (threshold {threshold:.0%})"
    if best < threshold * DRIFT_MARGIN and ev.main.paragraph_words >= ARTICLE_WORDS:
        if keeps_headline(ev, [title for title, _text in posts]):
            return False, f"{held}, under the post's own headline: an updated version of the article, left alive"
        return True, f"{held}: another article"
    return False, f"{held}, but it is not clearly another article: left alive for the curator to look at"
