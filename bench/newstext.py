"""Prose for the simulated news web (bench/newsweb.py): headlines, paragraphs, names, places and sections,
deterministic from a random.Random the caller seeds.

Owns the vocabulary. Words are drawn with Zipf's law over a large vocabulary: English function words at the
head, common news words next, then a long tail of made-up words built from syllables (no word list is
downloaded). What matters for a link checker is the statistics of the text - how many distinct four-word
shingles a page has, how little two articles share - and these match prose: two articles share a handful
of shingles ("one of the", "said in a"), an article and itself all of them.
"""

from __future__ import annotations

import random

FUNCTION_WORDS = """the of and to a in that is was for on it with as he be at by his this had not are but
from or have an they which one you were her all she there would their we him been has when who will more no
if out so said what up its about into than them can only other new some could time these two may then do
first any my now such like our over man me even most made after also did many before must through back years
where much your way well down should because each just those people how too little state good very make world
still own see men work long get here between both life being under never day same another know while last
might us great old year off come since against go came right used take three""".split()

NEWS_WORDS = """government minister federal province provincial city council mayor police court judge
report budget election vote voters party leader opposition premier prime official officials department
agency public health hospital patients doctors school schools students teachers university research study
company companies business market markets bank banks economy economic jobs workers union strike contract
price prices oil gas pipeline energy climate environment water river land forest fire residents community
communities family families children parents women men police officers investigation charges charged trial
lawyer lawyers evidence case cases decision decisions law laws bill legislation committee hearing senator
senate house parliament spokesperson statement interview press conference week month months weeks days
morning afternoon evening night monday tuesday wednesday thursday friday saturday sunday january february
march april may june july august september october november december spring summer autumn winter country
countries nation national international foreign military soldiers troops war peace talks deal agreement
plan plans program programs funding money million billion dollars cents percent per cent rate rates tax taxes
cuts spending deficit debt growth sales profit loss losses revenue shares investors industry industries
technology internet online data system systems service services network phone phones software security
privacy rights freedom protest protesters demonstrators crowd street streets road roads traffic transit
bus buses train trains airport flight flights passengers travel border immigration refugees citizens
campaign candidate candidates poll polls support critics critic concerns concern questions question issue
issues problem problems change changes reform reforms policy policies response responsibility power
authority authorities director chief executive president chair board members member group groups
organization organizations association society foundation charity volunteers housing rent homes home
building buildings construction project projects development developers neighbourhood downtown region
regional area areas north south east west northern southern eastern western coast island islands lake
mountain valley town towns village villages farm farmers food crops prices drought flood floods storm
storms weather temperatures science scientists study studies findings evidence species wildlife fish
mining mine mines gold coal nuclear power plant plants factory factories workers wages pension pensions
benefits insurance care seniors youth young older age history historic museum art artists music film
festival book books author writer story stories newspaper media television radio broadcast broadcaster
journalists reporter editor coverage social video images photos website users account accounts
facebook twitter message messages email letter letters documents records request requests access
information release released announced announcement expected according including despite although
however while during after before among across around toward towards within without against between
behind beyond despite following former current recent early late major minor key top senior junior
local small large big high low long short full open closed free public private independent political
legal criminal civil medical financial social cultural environmental economic military foreign domestic
important possible likely unlikely certain clear difficult hard easy simple serious significant strong
weak better worse best worst higher lower larger smaller newer older earlier later next previous final
official unofficial annual daily weekly monthly general special similar different various several
announce announced approve approved argue argued ask asked believe believed call called claim claimed
confirm confirmed consider considered continue continued decide decided deny denied describe described
expect expected explain explained face faced fail failed find found follow followed give given grow grew
hold held include included increase increased introduce introduced keep kept lead led leave left lose
lost meet met move moved need needed offer offered open opened pass passed pay paid plan planned promise
promised propose proposed provide provided raise raised reach reached receive received reduce reduced
refuse refused remain remained report reported require required respond responded return returned reveal
revealed review reviewed rise rose rule ruled run ran seek sought sell sold send sent set show showed
sign signed speak spoke spend spent start started suggest suggested support supported take took tell
told test tested think thought try tried turn turned vote voted want wanted warn warned win won write
wrote""".split()

FIRST_NAMES = """James Mary John Patricia Robert Jennifer Michael Linda William Elizabeth David Barbara
Richard Susan Joseph Jessica Thomas Sarah Charles Karen Daniel Nancy Matthew Lisa Anthony Margaret Mark
Sandra Donald Ashley Steven Kimberly Paul Emily Andrew Donna Joshua Michelle Kenneth Dorothy Kevin Carol
Brian Amanda George Melissa Edward Deborah Ronald Stephanie Timothy Rebecca Jason Sharon Jeffrey Laura Ryan
Cynthia Jacob Kathleen Gary Amy Nicholas Shirley Eric Angela Jonathan Helen Stephen Anna Larry Brenda Justin
Pamela Scott Nicole Brandon Emma Samuel Samantha Frank Katherine Gregory Christine Raymond Debra Alexander
Rachel Patrick Catherine Jack Carolyn Dennis Janet Jerry Ruth Tyler Maria Aaron Heather Jose Diane Henry
Virginia Adam Julie Douglas Joyce Nathan Victoria Peter Olivia Zachary Kelly Kyle Christina Walter Lauren
Harold Joan Jeremy Evelyn Ethan Judith Carl Megan Keith Cheryl Roger Andrea Gerald Hannah Christian Martha
Terry Jacqueline Sean Frances Arthur Gloria Austin Ann Noah Teresa Lawrence Kathryn Jesse Sara Joe Janice
Bryan Jean Billy Alice Jordan Madison Albert Doris Dylan Abigail Bruce Julia Willie Judy Gabriel Grace
Alan Denise Juan Amber Logan Marilyn Wayne Beverly Ralph Danielle Roy Theresa Eugene Sophia Randy Marie
Vincent Diana Russell Brittany Louis Natalie Philip Isabella Bobby Charlotte Johnny Rose Bradley Alexis
Pierre Marc Luc Andre Jean-Francois Sylvie Nathalie Isabelle Chantal Genevieve Mathieu Francois""".split()

CITIES = """OTTAWA TORONTO MONTREAL VANCOUVER CALGARY EDMONTON WINNIPEG REGINA HALIFAX QUEBEC VICTORIA
FREDERICTON CHARLOTTETOWN WHITEHORSE YELLOWKNIFE IQALUIT WASHINGTON LONDON PARIS BERLIN BRUSSELS GENEVA
BEIJING TOKYO DELHI SYDNEY CAIRO NAIROBI JOHANNESBURG MEXICO BOGOTA LIMA HAVANA MOSCOW KYIV WARSAW ROME
MADRID LISBON DUBLIN ATHENS ISTANBUL TEHRAN KABUL ISLAMABAD DHAKA JAKARTA MANILA SEOUL HANOI BANGKOK""".split()

SECTIONS = """world canada politics business health science technology arts sports opinion environment
local education investigations national us europe asia middle-east africa justice economy energy
entertainment books music film television life travel food real-estate autos obituaries weather
new-brunswick nova-scotia british-columbia alberta saskatchewan manitoba ontario quebec north
report-on-business personal-finance markets editorials letters columnists""".split()

_ONSETS = "b c d f g h k l m n p r s t v w b c d l m n p r s t br cl cr dr fl gr pl pr sh st th tr".split()
_NUCLEI = "a e i o u a e i o u ai ea ee oo ou".split()
_CODAS = ["", "", "", "", "n", "r", "l", "s", "t", "m", "nd", "nt", "st", "ck", "ng"]
_SUFFIXES = ["", "", "", "", "", "", "s", "ing", "ed", "er", "ion", "al", "ment", "ly"]


def made_up_word(rng: random.Random) -> str:
    syllables = rng.choice((1, 2, 2, 2, 3))
    word = "".join(rng.choice(_ONSETS) + rng.choice(_NUCLEI) + rng.choice(_CODAS) for _ in range(syllables))
    return word + rng.choice(_SUFFIXES)


def _population(vocabulary_size: int, seed: int) -> list[str]:
    """The vocabulary repeated by Zipf's law (rank r appears about 12000 / r times), so that a plain
    rng.choice over it draws words with Zipf's frequencies: one index per word, no weights to bisect."""
    rng = random.Random(f"vocabulary:{seed}")
    ranked = list(FUNCTION_WORDS)
    seen = set(ranked)
    for word in NEWS_WORDS:
        if word not in seen:
            ranked.append(word)
            seen.add(word)
    while len(ranked) < vocabulary_size:
        word = made_up_word(rng)
        if word not in seen:
            ranked.append(word)
            seen.add(word)
    population: list[str] = []
    for rank, word in enumerate(ranked, start=1):
        population += [word] * max(1, round(12000 / rank))
    return population


VOCABULARY_SIZE = 30000
POPULATION = _population(VOCABULARY_SIZE, 1)
HEADLINE_POPULATION = POPULATION[len(POPULATION) // 3:]  # fewer function words: headlines are terse
SURNAMES = [w.capitalize() for w in (made_up_word(random.Random(f"surname:{i}")) for i in range(3000)) if len(w) > 3]
PLACES = [w.capitalize() for w in (made_up_word(random.Random(f"place:{i}")) for i in range(1500)) if len(w) > 3]


def person(rng: random.Random) -> str:
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)}"


def sentence(rng: random.Random, low: int = 8, high: int = 30) -> str:
    """One sentence: Zipf-drawn words, now and then a name, a place, a number or a comma."""
    words = rng.choices(POPULATION, k=rng.randint(low, high))
    for _ in range(rng.randint(0, 2)):
        pick = rng.random()
        token = (person(rng) if pick < 0.35 else rng.choice(PLACES) if pick < 0.6
                 else f"{rng.randint(2, 999)}" if pick < 0.8 else f"${rng.randint(1, 99)}.{rng.randint(1, 9)} million")
        words.insert(rng.randrange(len(words)), token)
    if len(words) > 10 and rng.random() < 0.5:
        cut = rng.randrange(4, len(words) - 3)
        words[cut] += ","
    text = " ".join(words)
    return text[0].upper() + text[1:] + "."


# Paragraphs are drawn from a bank of sentences made once per process: making each page's prose word by word
# cost the server milliseconds a page, which a checker as fast as lychee would have waited for. Two articles of
# s sentences each share about s * s / BANK_SIZE sentences (0.05 for two of 50), so their shingle sets stay
# apart as two articles' do.
BANK_SIZE = 50000
_bank_rng = random.Random("bank")
BANK = [sentence(_bank_rng) for _ in range(BANK_SIZE)]


def paragraph(rng: random.Random) -> str:
    """One to four sentences of the bank; about one paragraph in five opens with a quotation."""
    sentences = rng.choices(BANK, k=rng.randint(1, 4))
    if rng.random() < 0.2:
        said = rng.choice(("said {}", "said {}", "says {}", "{} told reporters", "said {} in a statement"))
        sentences[0] = f"\u201c{sentences[0][:-1]},\u201d {said.format(person(rng))}."
    return " ".join(sentences)


def headline(rng: random.Random) -> str:
    words = rng.choices(HEADLINE_POPULATION, k=rng.randint(5, 11))
    if rng.random() < 0.5:
        words.insert(rng.randrange(len(words)), rng.choice(PLACES))
    text = " ".join(words)
    return text[0].upper() + text[1:]
