"""News prose for the evaluation world: headlines, bylines, leads and the rest of an article.

Owned here: turning a seeded random generator and a `Story` (who, what, where) into text. Every sentence is
assembled from several independent slots drawn from `vocab`, so two articles share only short runs of
function words, while articles about the same story share its names and issue (as rival coverage does).
Nothing here knows about URLs, outlets or fates.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from . import vocab

VERB_BASE = """
approve delay reconsider expand reduce protect review abandon fund restore explain justify release
defend scrap revisit question accept reject challenge support block rewrite monitor investigate
""".split()


@dataclass(frozen=True)
class Person:
    first: str
    last: str
    role: str
    place: str

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}"


@dataclass(frozen=True)
class Story:
    """What an article is about: the same story can be covered by several articles (rivals, follow-ups)."""

    topic: str
    issue: str
    lead: Person
    second: Person
    institution: str
    place: str


def _place(rng: random.Random) -> str:
    return rng.choice(vocab.PLACES).replace("-", " ")


def person(rng: random.Random) -> Person:
    return Person(rng.choice(vocab.FIRST_NAMES), rng.choice(vocab.SURNAMES), rng.choice(vocab.ROLES), _place(rng))


def story(rng: random.Random, topic: str | None = None) -> Story:
    topic = topic or rng.choice(sorted(vocab.TOPICS))
    return Story(topic, rng.choice(vocab.TOPICS[topic]["issues"]), person(rng), person(rng),
                 rng.choice(vocab.INSTITUTIONS), _place(rng))


def _money(rng: random.Random) -> str:
    if rng.random() < 0.5:
        return f"${rng.randint(2, 98)}.{rng.randint(1, 9)} billion"
    return f"${rng.randint(11, 940)} million"


def _count(rng: random.Random) -> str:
    n = rng.choice([rng.randint(12, 99), rng.randint(100, 999), rng.randint(1000, 48000)])
    return f"{n:,}"


def _percent(rng: random.Random) -> str:
    return f"{rng.randint(2, 64)} per cent"


def _noun(rng: random.Random, s: Story) -> str:
    return rng.choice(vocab.TOPICS[s.topic]["nouns"] + vocab.GENERIC_NOUNS)


def _np(rng: random.Random, s: Story) -> str:
    """A noun phrase: determiner, optional adjective, noun."""
    adj = rng.choice(vocab.ADJECTIVES) + " " if rng.random() < 0.6 else ""
    det = rng.choice(["the", "a", "its", "their", "this"])
    if det == "a" and adj[:1] in "aeiou" and adj:
        det = "an"
    elif det == "a" and not adj and _noun(rng, s)[:1] in "aeiou":
        det = "the"
    return f"{det} {adj}{_noun(rng, s)}"


def _subject(rng: random.Random, s: Story, first_mention: set[str]) -> str:
    choice = rng.randrange(7)
    if choice == 0:
        return _mention(s.lead, first_mention)
    if choice == 1:
        return _mention(s.second, first_mention)
    if choice == 2:
        return s.institution[0].upper() + s.institution[1:]
    if choice == 3:
        return f"Officials in {rng.choice([s.place, _place(rng)])}"
    if choice == 4:
        adjective = _with_article(rng.choice(vocab.ADJECTIVES))
        return f"{adjective[0].upper()}{adjective[1:]} {rng.choice(vocab.GENERIC_NOUNS)} from {rng.choice(vocab.INSTITUTIONS)}"
    if choice == 5:
        return f"{rng.choice(['Critics', 'Opponents', 'Supporters', 'Residents', 'Analysts', 'Advocates'])} of the {s.issue}"
    return f"The {rng.choice(vocab.ADJECTIVES)} {_noun(rng, s)}"


def _mention(p: Person, first_mention: set[str]) -> str:
    if p.name in first_mention:
        return p.last
    first_mention.add(p.name)
    return f"{p.name}, {_article(p.role)} {p.role} in {p.place},"


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def _sentence(rng: random.Random, s: Story, seen: set[str]) -> str:
    form = rng.randrange(9)
    subj = _subject(rng, s, seen)
    if form == 0:
        text = (f"{subj} {rng.choice(vocab.ACTION_VERBS)} {_np(rng, s)} {rng.choice(vocab.TIME_PHRASES)}, "
                f"a move expected to cost {_money(rng)} over {rng.randint(2, 10)} years")
    elif form == 1:
        text = (f"{subj} {rng.choice(vocab.SAY_VERBS)} that the {s.issue} would {rng.choice(VERB_BASE)} "
                f"{_np(rng, s)} in {rng.choice([s.place, _place(rng)])}")
    elif form == 2:
        text = (f"\u201cThe {_noun(rng, s)} will {rng.choice(VERB_BASE)} {_np(rng, s)}, and "
                f"{rng.choice(['nobody', 'everyone', 'the minister', 'the province', 'our members', 'Ottawa'])} "
                f"{rng.choice(['knows', 'admits', 'understands', 'forgets', 'ignores'])} it,\u201d "
                f"{_mention(rng.choice([s.lead, s.second]), seen).rstrip(',')} {rng.choice(vocab.SAY_VERBS)}")
    elif form == 3:
        text = (f"{rng.choice(vocab.CONNECTIVES)} {rng.choice(vocab.ADVERBS)}, {_count(rng)} "
                f"{rng.choice(['jobs', 'families', 'students', 'claims', 'inmates', 'positions', 'pages', 'complaints', 'hectares', 'permits'])} "
                f"{rng.choice(['are affected', 'were cut', 'remain in limbo', 'could be lost', 'were reviewed', 'are at stake'])}")
    elif form == 4:
        text = (f"{subj} {rng.choice(vocab.ACTION_VERBS)} the {rng.choice(vocab.ADJECTIVES)} "
                f"{rng.choice(vocab.GENERIC_NOUNS)} after {_np(rng, s)} {rng.choice(vocab.ACTION_VERBS)} "
                f"{_np(rng, s)} {rng.choice(vocab.TIME_PHRASES)}")
    elif form == 5:
        text = (f"The {s.issue} has {rng.choice(['drawn', 'faced', 'prompted', 'sparked', 'fuelled'])} "
                f"{rng.choice(vocab.ADJECTIVES)} {rng.choice(['criticism', 'opposition', 'debate', 'praise', 'scrutiny', 'concern'])} "
                f"from {rng.choice(vocab.INSTITUTIONS)}, which {rng.choice(vocab.SAY_VERBS)} it "
                f"{rng.choice(['ignores', 'misreads', 'overstates', 'understates', 'sidesteps'])} {_np(rng, s)}")
    elif form == 6:
        text = (f"According to {_np(rng, s)} obtained by {rng.choice(['this newspaper', 'reporters', 'the opposition', 'a researcher'])}, "
                f"{_percent(rng)} of the {_noun(rng, s)} {rng.choice(['went unspent', 'was redirected', 'never arrived', 'was approved', 'was withheld'])} "
                f"in {rng.choice(vocab.PROVINCES).replace('-', ' ')}")
    elif form == 7:
        text = (f"{subj} {rng.choice(['plans to', 'refused to', 'hopes to', 'is expected to', 'declined to', 'promised to'])} "
                f"{rng.choice(VERB_BASE)} {_np(rng, s)} before {rng.choice(['the fall sitting', 'the next election', 'the summer break', 'Christmas', 'the deadline', 'the vote'])}")
    else:
        text = (f"{subj} {rng.choice(vocab.SAY_VERBS)} the {rng.choice(vocab.ADJECTIVES)} {_noun(rng, s)} "
                f"{rng.choice(['was', 'is', 'remains', 'had been'])} {rng.choice(vocab.ADJECTIVES)} and "
                f"{rng.choice(vocab.ADVERBS)} {rng.choice(vocab.ADJECTIVES)}")
    text = text.replace(",,", ",").replace(" ,", ",")
    return text[0].upper() + text[1:] + "."


def paragraph(rng: random.Random, s: Story, seen: set[str], sentences: int | None = None) -> str:
    return " ".join(_sentence(rng, s, seen) for _ in range(sentences or rng.randint(2, 3)))


def opening(rng: random.Random, s: Story, seen: set[str]) -> str:
    """A first paragraph that names the story's lead person and issue, as news leads do."""
    seen.add(s.lead.name)
    return (f"{s.lead.name}, {_article(s.lead.role)} {s.lead.role} in {s.lead.place}, "
            f"{rng.choice(vocab.ACTION_VERBS)} the {rng.choice(vocab.ADJECTIVES)} {s.issue} "
            f"{rng.choice(vocab.TIME_PHRASES)}, {rng.choice(['setting up', 'reopening', 'ending', 'deepening', 'escalating'])} "
            f"{_with_article(rng.choice(vocab.ADJECTIVES))} fight with {s.institution}. " + _sentence(rng, s, seen))


def _with_article(word: str) -> str:
    return f"{_article(word)} {word}"


def headline(rng: random.Random, s: Story) -> str:
    form = rng.randrange(5)
    if form == 0:
        text = f"{s.lead.last} {rng.choice(vocab.HEADLINE_VERBS)} {s.issue}"
    elif form == 1:
        inst = re.sub(r"^the ", "", s.institution)
        text = f"{inst[0].upper() + inst[1:]} {rng.choice(vocab.HEADLINE_VERBS)} {s.issue}"
    elif form == 2:
        text = f"{s.issue[0].upper() + s.issue[1:]} {rng.choice(['could cost', 'will hurt', 'leaves out', 'worries', 'divides'])} {rng.choice(['taxpayers', 'families', 'workers', 'towns', 'scientists', 'voters', 'critics'])} in {s.place}"
    elif form == 3:
        text = f"{s.lead.last}: {rng.choice(vocab.QUOTE_CLAUSES)}"
    else:
        text = f"{rng.choice(['Inside', 'Behind', 'The real cost of', 'What went wrong with', 'Why Ottawa wants'])} the {s.issue}"
    return text[0].upper() + text[1:]


def byline(rng: random.Random) -> list[str]:
    """One to three names; sometimes a wire service or nobody."""
    roll = rng.random()
    if roll < 0.06:
        return []
    if roll < 0.14:
        return [rng.choice(["The Canadian Press", "Postmedia News", "Reuters", "Associated Press", "QMI Agency"])]
    n = 1 if roll < 0.8 else (2 if roll < 0.96 else 3)
    return [f"{rng.choice(vocab.FIRST_NAMES)} {rng.choice(vocab.SURNAMES)}" for _ in range(n)]


@dataclass(frozen=True)
class ArticleHead:
    """What a URL and a listing need: cheap to make for tens of thousands of archive decoys."""

    headline: str
    slug_source: str  # the headline the URL's slug was made from (often an early working headline)
    authors: tuple[str, ...]
    lead_count: int  # how many opening paragraphs the blog reproduces


@dataclass(frozen=True)
class ArticleText:
    head: ArticleHead
    paragraphs: tuple[str, ...]  # the whole article; the blog reproduces the first `head.lead_count`
    updated_lead: tuple[str, ...] | None  # a later version's opening paragraphs (a rewrite), if any

    @property
    def headline(self) -> str:
        return self.head.headline

    def lead(self, version: int = 1) -> tuple[str, ...]:
        if version == 2 and self.updated_lead:
            return self.updated_lead
        return self.paragraphs[:self.head.lead_count]

    def body(self, version: int = 1) -> tuple[str, ...]:
        return self.lead(version) + self.paragraphs[self.head.lead_count:]


def article_head(s: Story, seed: str) -> ArticleHead:
    rng = random.Random(seed + ":head")
    head = headline(rng, s)
    slug_source = head if rng.random() < 0.7 else headline(rng, s)
    return ArticleHead(head, slug_source, tuple(byline(rng)), rng.choice([1, 2, 2, 3, 3]))


def article(s: Story, seed: str, updated: bool = False) -> ArticleText:
    """The whole article for `seed`; the same seed always gives the same text (servers regenerate it)."""
    head = article_head(s, seed)
    rng = random.Random(seed + ":body")
    seen: set[str] = set()
    paras = [opening(rng, s, seen)] + [paragraph(rng, s, seen) for _ in range(rng.randint(4, 8))]
    upd = None
    if updated:
        # An update, as wire stories get them: a new top paragraph with the latest development, and the old
        # opening with its first sentence reworded; the rest of the lead survives.
        lead = list(paras[:head.lead_count])
        rest = lead[0].split(". ", 1)
        lead[0] = _sentence(rng, s, set(seen)) + (" " + rest[1] if len(rest) > 1 else "")
        upd = tuple([paragraph(rng, s, set(seen), 2)] + lead)
    return ArticleText(head, tuple(paras), upd)


def story_for(seed: str, topic: str | None = None) -> Story:
    return story(random.Random(seed + ":story"), topic)


def slugify(text: str, max_words: int = 12) -> str:
    words = re.findall(r"[a-z0-9]+", text.lower().replace("'", ""))
    return "-".join(words[:max_words]) or "story"


