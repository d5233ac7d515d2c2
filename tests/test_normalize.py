"""The one text normalisation every comparison uses, on the awkward cases real pages have."""

from __future__ import annotations

import pytest

from linkkeeper.text.html import html_to_text
from linkkeeper.text.normalize import normalize_text
from linkkeeper.text.similarity import containment, tokens
from linkkeeper.text.words import content_words, fold

LEAD = ("Die Wehranlage an diesem Fluss wurde im vergangenen Jahr vollständig erneuert, und die Gemeinde will "
        "nun auch den Uferweg wieder für Besucher öffnen, sobald die Arbeiten abgeschlossen sind.")


@pytest.mark.parametrize("spelling, plain", [
    ("die\u00adsem", "diesem"),                      # a soft hyphen inside a word
    (html_to_text("die&shy;sem"), "diesem"),         # ... written as an entity
    ("zero\u200bwidth\u200djoin\u2060er", "zerowidthjoiner"),
    ("a\u00a0b&nbsp;", "a b&nbsp;"),                 # NBSP folded; an entity is decoded once, by html_to_text only
    (html_to_text("a&nbsp;b"), "a b"),
    ("\u2018quoted\u2019 \u201cdouble\u201d \u00abguillemets\u00bb", "'quoted' \"double\" \"guillemets\""),
    ("Harper\u2019s", "harper's"),
    ("2012\u20132013 \u2014 well\u2026", "2012-2013 - well..."),
    ("\ufb01nance \ufb02ow", "finance flow"),         # ligatures
    ("u\u0308berschreitet", "überschreitet"),        # a decomposed umlaut
    ("\u200fRTL\u200e mark\u202b", "rtl mark"),        # bidirectional marks
    ("  many \t\n spaces  ", "many spaces"),
    ("STRASSE Straße", "strasse strasse"),           # case folded, not only lowered
])
def test_awkward_spellings_are_made_alike(spelling, plain):
    assert normalize_text(spelling) == plain


def test_a_page_with_soft_hyphens_holds_the_lead_it_reproduces():
    hyphenated = LEAD.replace("Wehranlage", "Wehr\u00adan\u00adlage").replace("diesem", "die\u00adsem") \
        .replace("vollständig", "voll\u00adstän\u00addig").replace("Gemeinde", "Ge\u00admein\u00adde") \
        .replace("Besucher", "Be\u00adsu\u00adcher").replace("Arbeiten", "Ar\u00adbei\u00adten")
    assert containment(LEAD, hyphenated) == 1.0


def test_a_decomposed_page_holds_the_composed_lead():
    import unicodedata

    assert containment(LEAD, unicodedata.normalize("NFD", LEAD)) == 1.0


def test_tokens_and_headline_words_read_the_same_text_alike():
    assert tokens("Harper\u2019s bud\u00adget") == tokens("harper's budget") == ["harper", "s", "budget"]
    assert fold("Qu\u00e9bec\u2019s") == "quebecs"
    assert content_words("Stephen Harper\u2019s not-so-per\u00adma\u00adnent majority") == \
        content_words("Stephen Harper's not-so-permanent majority")


@pytest.mark.parametrize("hyphen", ["\u00ad", "&shy;", "&#173;", "&#xad;", "&#XAD;"])
def test_a_page_whose_every_lead_probe_is_cut_by_soft_hyphens_still_holds_the_lead(hyphen):
    """The raw HTML holds none of the lead's probes (each has a word cut by a soft hyphen, written or as an
    entity in any case): the page is read further (its text, normalised) and holds the lead."""
    from linkkeeper.check.evidence import Evidence
    from linkkeeper.text.similarity import lead_probes

    english = ("Officials confirmed on Tuesday that the pipeline review would be delayed until spring, a decision "
               "that drew sharp criticism from environmental groups and opposition members within hours.")
    probes = lead_probes(english)
    page = english
    for word in {w for probe in probes for w in probe.split() if len(w) > 3}:
        page = page.replace(word, f"{word[:2]}{hyphen}{word[2:]}")
    ev = Evidence(url="http://example.com/a", markup=f"<html><body><p>{page}</p></body></html>")
    assert not any(probe in ev.markup for probe in probes)
    assert ev.holds_lead([probes])
    plain = Evidence(url="http://example.com/b", markup=f"<html><body><p>{page.replace(hyphen, '-')}</p></body></html>")
    assert not plain.holds_lead([probes])


def test_the_fast_paths_spell_every_text_as_the_plain_definition_does():
    """normalize_text skips work an ASCII text does not need and replaces only the characters that match:
    on random texts of the awkward characters, the result is the definition's, step by step."""
    import random
    import re
    import unicodedata

    from linkkeeper.text import normalize

    invisible = dict.fromkeys(map(ord, normalize._INVISIBLE_CHARS))
    typography = str.maketrans(normalize._TYPOGRAPHY_OF)

    def plain(text: str) -> str:
        text = unicodedata.normalize("NFKC", text.translate(invisible)).translate(typography)
        return re.sub(r"\s+", " ", text).strip().casefold()

    pool = (list("abcXYZ \t\n\r\x0b\x0c\x1c\x1f\x85\xa0\u2028\u3000'\"-.,`\u00e9\ufb01\uff21\u2460\u00df\u0130")
            + list(normalize._INVISIBLE_CHARS) + list(normalize._TYPOGRAPHY_OF) + ["u\u0308", "\u0301", "\u2024"])
    rng = random.Random(7)
    for _ in range(20_000):
        text = "".join(rng.choice(pool) for _ in range(rng.randint(0, 16)))
        assert normalize_text(text) == plain(text), repr(text)


def test_html_to_text_collapses_the_same_whitespace_as_the_plain_definition():
    """html_to_text joins the split text rather than substituting `\\s+`: on random fragments of tags,
    entities and every kind of Unicode space, the result is the regular expression's."""
    import html
    import random
    import re

    from linkkeeper.text.html import _TAG, _drop_script_style, _sub_tags

    def plain(markup: str) -> str:
        return re.sub(r"\s+", " ", html.unescape(_sub_tags(_TAG, " ", _drop_script_style(markup)))).strip()

    pool = ["a", "Zz", " ", "\t", "\n", "\r", "\x0b", "\x0c", "\x1c", "\x1f", "\x85", "\xa0", "\u2028", "\u3000",
            "&nbsp;", "&#x2029;", "&amp;", "<p>", "</p>", "<br/>", "<b class='x'>", "<script>x</script>", "<", ">"]
    rng = random.Random(11)
    for _ in range(20_000):
        markup = "".join(rng.choice(pool) for _ in range(rng.randint(0, 14)))
        assert html_to_text(markup) == plain(markup), repr(markup)
