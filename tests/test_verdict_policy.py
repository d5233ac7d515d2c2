"""The dead decision over time, with an injected clock: 3 failing checks spanning 72 hours make a URL dead;
any good check resets it; blocked and transient evidence never make it dead; marks and overrides."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from linkkeeper import store
from linkkeeper.check.runner import check_urls
from linkkeeper.sim.web import Page, article_html
from linkkeeper.check.verdict import Policy, apply_overrides, decide, looks_not_found, redirect_soft_404, signature

T0 = datetime(2026, 11, 1, 3, 0, tzinfo=timezone.utc)
POLICY = Policy(dead_after_checks=3, dead_after_hours=72)


def run(classes_and_days, policy=POLICY):
    state = None
    for cls, day in classes_and_days:
        state = decide(cls, None, state, T0 + timedelta(days=day), policy)
    return state


def test_three_failures_over_three_days_make_dead():
    assert run([("dead", 0)])["verdict"] == "suspect"
    assert run([("dead", 0), ("dead", 1)])["verdict"] == "suspect"
    assert run([("dead", 0), ("dead", 1), ("dead", 2)])["verdict"] == "suspect"  # only 48 h
    assert run([("dead", 0), ("dead", 1), ("dead", 3)])["verdict"] == "dead"


def test_many_failures_in_one_day_are_not_enough():
    assert run([("dead", 0), ("dead", 0.1), ("dead", 0.2), ("dead", 0.3)])["verdict"] == "suspect"


def test_a_good_check_resets():
    state = run([("dead", 0), ("dead", 2), ("alive", 3), ("dead", 4), ("dead", 5)])
    assert state["verdict"] == "suspect" and state["consecutive_failures"] == 2


@pytest.mark.parametrize("cls", ["blocked", "transient", "refused"])
def test_blocked_and_transient_never_make_dead(cls):
    state = run([(cls, d) for d in range(10)])
    assert state["verdict"] != "dead" and state["consecutive_failures"] == 0


def test_transient_neither_resets_nor_advances():
    state = run([("dead", 0), ("transient", 1), ("dead", 2), ("dead", 4)])
    assert state["verdict"] == "dead" and state["consecutive_failures"] == 3


def test_soft_404_is_decided_like_dead():
    assert run([("soft-404", 0), ("soft-404", 2), ("soft-404", 4)])["verdict"] == "soft-404"


def test_confirm_now_decides_at_once_and_flags_single_day():
    state = decide("dead", "HTTP 404", None, T0, POLICY, confirmed_now=True)
    assert state["verdict"] == "dead" and state["single_day"] == 1


def test_not_dead_mark_holds_until_the_failure_changes():
    mark = {"mark": "not-dead", "signature": signature("dead", 404, "http_404")}
    same = decide("dead", "HTTP 404", None, T0, POLICY, mark=mark, sig=signature("dead", 404, "http_404"),
                  confirmed_now=True)
    assert same["verdict"] == "alive" and "curator" in same["reason"]
    changed = decide("dead", "DNS", None, T0, POLICY, mark=mark, sig=signature("dead", None, "dns"), confirmed_now=True)
    assert changed["verdict"] == "dead"


def test_overrides():
    policy = Policy(paywall_domains=("nytimes.com",), always_alive=("bbc.co.uk",), always_dead=("geocities.com",))
    assert apply_overrides("https://www.nytimes.com/a", "blocked", 403, None, policy)[0] == "alive"
    assert apply_overrides("https://www.nytimes.com/a", "dead", 404, None, policy)[0] == "dead"
    assert apply_overrides("http://news.bbc.co.uk/x", "dead", 404, None, policy)[0] == "alive"
    assert apply_overrides("http://www.geocities.com/x", "alive", 200, None, policy)[0] == "dead"


@pytest.mark.parametrize("title, text, expected", [
    ("404 Not Found", "", True),
    ("Page introuvable", "", True),
    ("Página no encontrada", "", True),
    ("Story", "Sorry, the page you requested could not be found.", True),
    ("Error 404 is the name of this band", "word " * 1000, False),
    ("Budget 2012", "The budget was tabled today. " * 100, False),
])
def test_not_found_patterns(title, text, expected):
    assert bool(looks_not_found(title, text)) is expected


@pytest.mark.parametrize("wording", [
    "The page you requested was not found", "404 not found", "This story could not be found",
    "This content is no longer available", "The article you are looking for does not exist",
    "Sorry, we can't seem to find the page", "We could not find what you asked for",
    "Nothing was found at this location", "This video is currently unavailable", "This link has expired",
    "The link you followed may be broken", "Page introuvable", "Cette page n'existe plus",
    "Cet article n'est plus disponible", "Vidéo indisponible", "Nous n'avons pas pu trouver cette page",
    "Seite wurde nicht gefunden", "Der Artikel ist nicht mehr verfügbar", "Die Seite existiert nicht",
    "Beitrag ist leider nicht verfügbar", "Página no encontrada", "No se encuentra la página",
    "Pagina non trovata", "Página não encontrada", "Pagina niet gevonden",
])
def test_every_wording_of_not_found_is_found_in_a_short_pages_opening(wording):
    """One wording per branch of the expression: the words that let it run (verdict._NOT_FOUND_WORDS) must
    cover every one."""
    assert looks_not_found("Story", wording) is not None
    assert looks_not_found(wording, "") is not None


@pytest.mark.parametrize("wording", [
    "This domain is for sale", "Buy this domain today", "This domain is parked free, courtesy of GoDaddy",
    "sedoparking.com", "Visit HugeDomains.com", "This domain has expired", "This domain has been registered",
    "afternic.com", "dan.com/buy-domain", "bodis.com",
])
def test_every_wording_of_a_parked_domain_is_found(wording):
    from linkkeeper.check.verdict import looks_parked
    assert looks_parked(wording, "") is not None and looks_parked("Home", wording) is not None


@pytest.mark.parametrize("wording", [
    "Just a moment...", "Attention Required! | Cloudflare", "cf-browser-verification", "cf_chl_opt",
    "Checking your browser before accessing", "Please enable JS and disable any ad blocker", "_Incapsula_Resource",
    "px-captcha", "geo.captcha-delivery.com", "Are you a robot?", "Verify you are human",
    "Access to this page has been denied",
])
def test_every_wording_of_an_anti_bot_challenge_is_found(wording):
    from linkkeeper.check.verdict import looks_challenge
    assert looks_challenge(wording, "", "") is not None and looks_challenge("Home", "", f"<p>{wording}</p>") is not None


@pytest.mark.parametrize("url, final, expected", [
    ("http://x.com/2012/10/story.html", "http://x.com/", True),
    ("http://x.com/2012/10/story.html", "http://x.com/errors/404.html", True),
    ("http://x.com/2012/10/story.html", "http://x.com/notfound?u=1", True),
    ("http://x.com/2012/10/story.html", "http://x.com/2012/10/story-2.html", False),
    ("http://x.com/", "http://www.x.com/", False),
])
def test_redirect_soft_404(url, final, expected):
    assert bool(redirect_soft_404(url, final)) is expected


async def test_dead_decision_over_simulated_days_through_the_checker(simweb, tmp_path):
    url = "http://news.example.com/2012/story.html"
    page = simweb.add(url, Page(status=404))
    db = store.open_db(tmp_path / "days.db")
    s = simweb.settings()
    seen = []
    for day in (0, 1, 2, 3.5):
        summary = await check_urls(db, [url], s, now=lambda d=day: T0 + timedelta(days=d))
        seen.append(next(iter(summary.verdicts)))
    assert seen == ["suspect", "suspect", "suspect", "dead"]
    # The page comes back: one good check resets it.
    page.status, page.body = 200, article_html("Back", ["It is back."])
    await check_urls(db, [url], s, now=lambda: T0 + timedelta(days=5))
    assert store.url_state(db, url)["verdict"] == "alive" and store.url_state(db, url)["consecutive_failures"] == 0


@pytest.mark.parametrize("title, text", [
    ("Story number 404", "Story number 404 Paragraph one of story 404 with its own words."),
    ("Route 404 reopens after floods", "The highway known as Route 404 reopened today."),
])
def test_a_number_404_is_not_a_soft_404(title, text):
    assert looks_not_found(title, text) is None


@pytest.mark.parametrize("title", ["404", "404 - Oops", "Error 404 | News", "HTTP 404", "404: page gone"])
def test_error_shaped_404_titles_are_soft_404(title):
    assert looks_not_found(title, "short") is not None
