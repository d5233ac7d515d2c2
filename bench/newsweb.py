"""The simulated news web of bench/check_bench.py, and the blog that links to it.

Owns the world: N posts, post i linking to article i on host i % H (host h listens on 127.0.0.(2 + h), every
host on one port, so any client resolves it as it is written: an IP-literal URL); each article's fate, the
truth the checkers are scored against; the pages the hosts serve, generated per request from (seed, host,
article id) with a template cached per host, so the server's memory does not grow with N; the server; and
the Blogger export whose posts reproduce each article's opening paragraphs. Nothing here imports
linkkeeper: the benchmark talks to it only through its command line.

Pages are shaped like real news pages (`--page-size news`): 60-250 KB of HTML, most of it a template shared
by every page of a host (inline styles and scripts, JSON-LD, a big navigation menu, breadcrumbs, share
buttons, most-read and related headlines, a newsletter box, a large footer), around 300-3,000 words of
article. Not-found pages are served inside the same template. Hosts differ in markup, URL scheme, canonical
links and what an unknown path gets (404, a 200 "not found" page, or a redirect home); one host in five
serves an article by its id whatever the slug (`/news/<id>/<anything>`), as many news sites do.

    python bench/newsweb.py --posts 1000 --port 18080    # serve the web alone, to look at it with curl
"""

from __future__ import annotations

import argparse
import asyncio
import html
import json
import os
import random
import re
import signal
import sys
import zlib
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

from aiohttp import web

import newstext as nt

# The fate mix (weights per 20,000): 400 flaky and 600 soft 404s, as in the measurement. On a host
# that ignores slugs an alive article is "slugfree": its own fate, so its false deads show apart.
MIX = [("alive", 15950), ("dead404", 1200), ("gone410", 200), ("moved", 600), ("slow", 300), ("hang", 50),
       ("flaky", 400), ("rate429", 200), ("head405", 500), ("soft404", 400), ("soft404root", 200)]
ALIVE_TRUTH = {"alive", "slugfree", "moved", "slow", "flaky", "rate429", "head405"}
DEAD_TRUTH = {"dead404", "gone410", "soft404", "soft404root"}
FATES = [f for f, _ in MIX] + ["slugfree"]
SLOW_SECONDS = 2.0
HANG_SECONDS = 40.0  # four times the checkers' timeout
MAX_HOSTS = 250

_MIX_TOTAL = sum(w for _, w in MIX)
_MIX_CUMULATIVE = [sum(w for _, w in MIX[:k + 1]) for k in range(len(MIX))]


@dataclass(frozen=True)
class World:
    posts: int
    hosts: int
    port: int
    seed: int = 1
    mix: str = "real"  # "real": the fate mix above; "all200": every URL answers 200
    page_size: str = "news"  # "news": 60-250 KB pages; "small": about 5 KB
    gzip: bool = True  # answer gzip to clients that accept it, as news sites do


def address(h: int) -> str:
    return f"127.0.0.{2 + h}"


# --- hosts ---------------------------------------------------------------------------------------------------

# URL schemes, after real outlets'. Every one holds the article id, so a page can be made from its URL alone.
STRICT_SCHEMES = {  # the whole path must be the article's own
    "slug-dot-id": (r"^/news/[a-z-]+/[a-z0-9-]+-1\.(\d+)$", "/news/{section}/{slug}-1.{id}"),
    "dated-dir": (r"^/news/[a-z-]+/\d{4}/\d\d/\d\d/(\d+)/[a-z0-9_]+\.html$",
                  "/news/{section}/{y}/{m:02d}/{d:02d}/{id}/{slug_}.html"),
    "dated-slug": (r"^/[a-z-]+/\d{4}/[a-z]{3}/\d\d/[a-z0-9-]+-(\d+)$", "/{section}/{y}/{mon}/{d:02d}/{slug}-{id}"),
    "section-id": (r"^/news/[a-z-]+-(\d+)$", "/news/{section}-{id}"),
}
SLUGFREE_SCHEMES = {  # the id alone names the article: any last segment will do
    "id-slug": (r"^/news/(\d+)/[^/]*$", "/news/{id}/{slug}"),
    "section-id-slug": (r"^/[a-z-]+/(\d+)/[^/]*$", "/{section}/{id}/{slug}.html"),
}
SCHEMES = {**STRICT_SCHEMES, **SLUGFREE_SCHEMES}
_SCHEME_RE = {name: re.compile(pattern) for name, (pattern, _) in SCHEMES.items()}

# What a host answers for a page it does not have (title, heading, text); the last two titles say nothing.
NOT_FOUND = [
    ("Page not found | {site}", "Page not found",
     "Sorry, we couldn't find the page you were looking for. It may have been moved or deleted."),
    ("404 - Page Not Found | {site}", "Oops! We can't find that page.",
     "The link you followed may be broken, or the page may have been removed."),
    ("Error 404 | {site}", "Sorry, this page is not available",
     "The article you requested cannot be found. Please check the address or search our archive."),
    ("This article is no longer available | {site}", "This article is no longer available",
     "This content has been removed from our website. We apologize for any inconvenience."),
    ("{site} - Page not found", "We couldn't find that page",
     "The page may have moved, or the address may have been typed incorrectly."),
    ("Oops! | {site}", "Hmm. We can't seem to find what you're looking for.",
     "Try searching for it, or head back to our homepage for the latest news."),
    ("{site}", "The page you requested could not be found.",
     "It may have expired or been moved. Use the search box above to find stories."),
]
_PAPERS = ("Herald", "Times", "Star", "Post", "Chronicle", "Gazette", "Tribune", "Journal", "Observer",
           "Record", "Sun", "Examiner", "Daily News", "Free Press", "Citizen", "Telegraph", "Dispatch")


@dataclass(frozen=True)
class Site:
    index: int
    name: str
    scheme: str
    missing: str  # what an unknown path gets: "404", "200" (a soft-404 site) or "home" (a redirect to /)
    canonical: str  # "exact", "https" (the https twin of the http URL, as sites that moved say) or "none"
    style: int  # template structure: 0 <article>, 1 <div id="story-body">, 2 <main> with microdata, 3 older divs
    prefix: str  # class-name prefix
    not_found: int  # index into NOT_FOUND
    state_json: bool  # the article's text again in a JSON <script> (Next.js-style sites)
    dateline: bool  # the first paragraph opens with "OTTAWA -"


@lru_cache(maxsize=MAX_HOSTS)
def site(world: World, h: int) -> Site:
    rng = random.Random(f"site:{world.seed}:{h}")
    slugfree = h % 5 == 4
    scheme = rng.choice(sorted(SLUGFREE_SCHEMES if slugfree else STRICT_SCHEMES))
    place = rng.choice(nt.PLACES)
    name = f"The {place} {rng.choice(_PAPERS)}" if rng.random() < 0.8 else f"{place} News"
    missing = "404" if slugfree else rng.choices(("404", "200", "home"), weights=(7, 2, 1))[0]
    return Site(index=h, name=name, scheme=scheme, missing=missing,
                canonical=rng.choices(("exact", "https", "none"), weights=(5, 3, 2))[0],
                style=rng.randrange(4), prefix=nt.made_up_word(rng)[:6] or "site",
                not_found=rng.choices(range(len(NOT_FOUND)), weights=(4, 3, 2, 2, 2, 1, 1))[0],
                state_json=rng.random() < 0.4, dateline=rng.random() < 0.5)


# --- articles ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Article:
    id: int
    host: int
    headline: str
    section: str
    author: str | None
    day: date
    words: int  # length of the article text
    lead: int  # paragraphs the blog post reproduces
    path: str  # the article's own path on its host


def _slug(headline: str, words: int) -> str:
    return "-".join(re.sub(r"[^a-z0-9 ]", "", headline.lower()).split()[:words])


@lru_cache(maxsize=4096)
def article(world: World, i: int, h: int | None = None) -> Article:
    """Article i's metadata (its text comes from `paragraphs`). Host h is i % H unless given (a page made
    up for a URL that names no article of the world: the all200 mix)."""
    h = i % world.hosts if h is None else h
    s = site(world, h)
    rng = random.Random(f"article:{world.seed}:{i}")
    headline = nt.headline(rng)
    section = rng.choice(nt.SECTIONS)
    day = date(2010, 1, 1) + timedelta(days=rng.randrange(5 * 365))
    author = nt.person(rng) if rng.random() < 0.8 else None
    # Log-uniform between 300 and 3,000 words: most articles are short, some are long reads.
    words = int(300 * 10 ** rng.random()) if world.page_size == "news" else rng.randint(60, 140)
    slug = _slug(headline, rng.randint(3, 9))
    path = SCHEMES[s.scheme][1].format(section=section, slug=slug, slug_=slug.replace("-", "_"), id=i,
                                       y=day.year, m=day.month, d=day.day, mon=day.strftime("%b").lower())
    return Article(i, h, headline, section, author, day, words, rng.randint(1, 3), path)


def paragraphs(world: World, art: Article, limit: int | None = None) -> list[str]:
    """The article's text, paragraph by paragraph (the first `limit` only, for the blog post's lead)."""
    rng = random.Random(f"text:{world.seed}:{art.id}")
    out: list[str] = []
    count = 0
    while count < art.words and (limit is None or len(out) < limit):
        para = nt.paragraph(rng)
        if not out and site(world, art.host).dateline:
            para = f"{rng.choice(nt.CITIES)} \u2014 {para}"
        out.append(para)
        count += para.count(" ") + 1
    return out


def fate(world: World, i: int) -> str:
    if world.mix == "all200":
        name = "alive"
    else:
        draw = random.Random(f"fate:{world.seed}:{i}").randrange(_MIX_TOTAL)
        name = next(f for (f, _), top in zip(MIX, _MIX_CUMULATIVE) if draw < top)
    if name == "alive" and site(world, i % world.hosts).scheme in SLUGFREE_SCHEMES:
        return "slugfree"
    return name


def url(world: World, i: int) -> str:
    return f"http://{address(i % world.hosts)}:{world.port}{article(world, i).path}"


def truth(world: World):
    """(url, fate) of every post's Original Article link, in post order."""
    for i in range(world.posts):
        yield url(world, i), fate(world, i)


# --- the host template ---------------------------------------------------------------------------------------

def _esc(text: str) -> str:
    return html.escape(text, quote=False)


def _attr(text: str) -> str:
    return html.escape(text, quote=True)


def _label(section: str) -> str:
    return section.replace("-", " ").title()


def _svg(rng: random.Random) -> str:
    points = " ".join(f"{rng.randint(0, 24)}.{rng.randint(0, 99)} {rng.randint(0, 24)}.{rng.randint(0, 99)}"
                      for _ in range(rng.randint(6, 18)))
    return f'<svg aria-hidden="true" viewBox="0 0 24 24" width="20" height="20"><path d="M{points}Z"/></svg>'


def _css(rng: random.Random, prefix: str, size: int) -> str:
    parts = []
    props = ("display:flex", "display:block", "margin:0 auto", "padding:{}px {}px", "font-size:{}px",
             "line-height:1.{}", "color:#{:03x}", "background:#{:03x}", "border-bottom:1px solid #{:03x}",
             "max-width:{}px", "font-weight:{}00", "letter-spacing:.0{}em", "grid-template-columns:repeat({},1fr)")
    length = 0
    while length < size:
        selector = f".{prefix}-{nt.made_up_word(rng)}__{nt.made_up_word(rng)}"
        if rng.random() < 0.3:
            selector += f"--{nt.made_up_word(rng)}"
        body = ";".join(p.format(*(rng.randint(1, 999) for _ in range(p.count("{"))))
                        for p in rng.sample(props, rng.randint(2, 6)))
        rule = f"{selector}{{{body}}}"
        if rng.random() < 0.05:
            rule = f"@media (min-width:{rng.randint(3, 14)}00px){{{rule}}}"
        parts.append(rule)
        length += len(rule)
    return "".join(parts)


def _js(rng: random.Random, size: int) -> str:
    """Minified-looking script: a bundle of modules, then ad and analytics configuration as JSON."""
    parts = ["!function(e){var t={};function n(r){if(t[r])return t[r].exports;var o=t[r]={i:r,l:!1,exports:{}};"
             "return e[r].call(o.exports,o,o.exports,n),o.l=!0,o.exports}n.m=e,n.c=t}(["]
    length = len(parts[0])
    while length < size * 0.6:
        a, b, c = (nt.made_up_word(rng) for _ in range(3))
        module = (f'function(e,t,n){{"use strict";var {a[:2]}=n({rng.randint(0, 400)}),{b[:2]}=function(e){{return '
                  f'e&&e.__esModule?e:{{default:e}}}};t.{a}=function(e,t){{if(!e)return"{b}";var r=document.'
                  f'querySelector(".{c}");return r&&r.setAttribute("data-{a}",t),{rng.randint(0, 9999)}}}}},')
        parts.append(module)
        length += len(module)
    parts.append("]);window.__ADS__=")
    slots = []
    while length < size:
        slot = {"id": f"div-gpt-ad-{rng.randint(10 ** 12, 10 ** 13)}-{len(slots)}",
                "path": f"/{rng.randint(1000, 99999)}/{nt.made_up_word(rng)}/{rng.choice(nt.SECTIONS)}",
                "sizes": [[300, 250], [300, 600], [728, 90]][:rng.randint(1, 3)],
                "targeting": {"pos": rng.choice(("top", "mid", "bottom")),
                              "kw": [nt.made_up_word(rng) for _ in range(rng.randint(2, 8))]}}
        slots.append(slot)
        length += 160
    parts.append(json.dumps({"slots": slots}, separators=(",", ":")) + ";")
    return "".join(parts)


class Shared:
    """A piece of page that many pages share: its bytes, and their raw deflate made once, so that a gzip answer
    only compresses what is the page's own (see `encode`)."""

    __slots__ = ("raw", "deflated")

    def __init__(self, text: str) -> None:
        self.raw = text.encode()
        self.deflated = _deflate(self.raw)


# A page is a list of pieces: text of its own, and Shared pieces of its host's template.
Page = list


def _deflate(data: bytes) -> bytes:
    """Raw deflate ending on a full flush: byte-aligned and independent of what came before, so pieces
    deflated apart can be laid end to end in one stream."""
    compressor = zlib.compressobj(1, zlib.DEFLATED, -15)  # level 1: the server shares the machine
    return compressor.compress(data) + compressor.flush(zlib.Z_FULL_FLUSH)


_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
_DEFLATE_END = b"\x03\x00"  # an empty final block


def encode(page: Page, gzip: bool) -> bytes:
    """The page's bytes, or one gzip member of them: the pieces' deflate streams end to end, then the CRC
    and length of the whole."""
    if not gzip:
        return b"".join(p.raw if isinstance(p, Shared) else p.encode() for p in page)
    out, crc, size = [_GZIP_HEADER], 0, 0
    for piece in page:
        raw = piece.raw if isinstance(piece, Shared) else piece.encode()
        out.append(piece.deflated if isinstance(piece, Shared) else _deflate(raw))
        crc, size = zlib.crc32(raw, crc), size + len(raw)
    out += [_DEFLATE_END, crc.to_bytes(4, "little"), (size & 0xFFFFFFFF).to_bytes(4, "little")]
    return b"".join(out)


@dataclass(frozen=True)
class Template:
    """The parts of a host's pages that every page shares, rendered once per host."""

    assets: Shared  # inline <style> and <script> blocks of the <head>
    header: Shared  # cookie banner, masthead, navigation menu, the opening of the main column
    tail: Shared  # the rail (most read, newsletter), the end of the main column, the footer, closing scripts
    share: str  # share buttons, placed by each page
    stories: tuple[str, ...]  # links to other articles of the host, for "related" and "read more"


@lru_cache(maxsize=MAX_HOSTS)
def template(world: World, h: int) -> Template:
    s = site(world, h)
    rng = random.Random(f"template:{world.seed}:{h}")
    p = s.prefix
    small = world.page_size == "small"
    # A small page (the throughput mode) keeps the template's shape with little of its bulk: about 5 KB a page.
    css_size, js_size = (300, 0) if small else (rng.randint(8_000, 60_000), rng.randint(15_000, 90_000))
    styles = 1 if small else rng.randint(1, 4)
    scripts = 0 if small else rng.randint(1, 5)
    assets = "".join(f"<style>{_css(rng, p, css_size // styles)}</style>" for _ in range(styles))
    assets += ("<script>window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments)}"
               f"gtag('js',new Date());gtag('config','G-{rng.randint(10 ** 9, 10 ** 10)}');</script>")
    assets += "".join(f"<script>{_js(rng, js_size // scripts)}</script>" for _ in range(scripts))

    nav_sections = 6 if small else rng.randint(25, 60)
    sub_links = 0 if small else rng.randint(2, 5)
    items = []
    for section in rng.sample(nt.SECTIONS, min(nav_sections, len(nt.SECTIONS))):
        subs = "".join(f'<li class="{p}-nav__subitem"><a class="{p}-nav__sublink" href="/{section}/{w}" '
                       f'data-track="nav|{section}|{w}">{_esc(w.title())}</a></li>'
                       for w in (nt.made_up_word(rng) for _ in range(sub_links)))
        items.append(f'<li class="{p}-nav__item"><a class="{p}-nav__link" href="/{section}/" '
                     f'data-track="nav|{section}">{_label(section)}</a>'
                     + (f'<ul class="{p}-nav__sub">{subs}</ul>' if subs else "") + "</li>")
    logo = _svg(rng)
    cookie = "" if small else (
        f'<div class="{p}-cookie" role="dialog"><p>We use cookies and similar technologies to personalize '
        f'content and ads, to provide social media features and to analyze our traffic. By continuing to '
        f'use this site you agree to our use of cookies.</p><button class="{p}-cookie__ok">Accept</button>'
        f'<a href="/privacy">Privacy policy</a></div>')
    header = (f'{cookie}<header class="{p}-masthead"><a class="{p}-skip" href="#main">Skip to main content</a>'
              f'<a class="{p}-logo" href="/" aria-label="{_attr(s.name)}">{logo}<span>{_esc(s.name)}</span></a>'
              f'<form class="{p}-search" action="/search" role="search"><input name="q" placeholder="Search">'
              f'<button>Search</button></form><a class="{p}-subscribe" href="/subscribe">Subscribe</a>'
              f'<a class="{p}-login" href="/login">Log in</a></header>'
              f'<nav class="{p}-nav" aria-label="Main"><ul class="{p}-nav__list">{"".join(items)}</ul></nav>')

    per_host = max(1, world.posts // world.hosts)
    others = [article(world, rng.randrange(per_host) * world.hosts + h) for _ in range(40)]
    stories = tuple(f'<a href="{_attr(o.path)}">{_esc(o.headline)}</a>' for o in others)
    most_read = "".join(f'<li class="{p}-mostread__item"><span class="{p}-mostread__rank">{k + 1}</span>{link}</li>'
                        for k, link in enumerate(stories[:3 if small else 10]))
    most_read = f'<section class="{p}-mostread"><h2>Most read</h2><ol>{most_read}</ol></section>'
    share = "" if small else "".join(
        f'<a class="{p}-share__{n.lower()}" href="#" aria-label="Share on {n}">{_svg(rng)}<span>{n}</span></a>'
        for n in ("Facebook", "Twitter", "LinkedIn", "Email", "Print"))
    share = f'<div class="{p}-share">{share}</div>' if share else ""
    newsletter = "" if small else (f'<div class="{p}-newsletter"><h3>Get the morning briefing</h3><p>The day\'s top stories, '
                  f'handpicked by our editors and delivered to your inbox every weekday morning.</p><form action='
                  f'"/newsletters/subscribe"><input type="email" name="email" placeholder="Email address">'
                  f'<button>Sign up</button></form><p class="{p}-newsletter__legal">You can unsubscribe at any '
                  f'time. By signing up you agree to our terms of use and privacy policy.</p></div>')
    columns = []
    for _ in range(1 if small else rng.randint(4, 7)):
        links = "".join(f'<li><a href="/{w}">{_esc(w.title())}</a></li>'
                        for w in (nt.made_up_word(rng) for _ in range(3 if small else rng.randint(8, 20))))
        columns.append(f'<div class="{p}-footer__col"><h4>{_esc(nt.made_up_word(rng).title())}</h4><ul>{links}</ul></div>')
    social = "" if small else "".join(f'<a class="{p}-social" href="https://social.example/{nt.made_up_word(rng)}">'
                                      f'{_svg(rng)}</a>' for _ in range(6))
    footer = (f'<footer class="{p}-footer">{"".join(columns)}<div class="{p}-footer__social">{social}</div>'
              f'<p class="{p}-footer__legal">\u00a9 {rng.randint(1995, 2005)}-2024 {_esc(s.name)}. All rights '
              f'reserved. Republication or distribution of this content is expressly prohibited without the '
              f'prior written consent of {_esc(s.name)}.</p><address>{rng.randint(1, 999)} '
              f'{rng.choice(nt.PLACES)} Street, {rng.choice(nt.CITIES).title()}</address></footer>'
              + ("" if small else f"<script>{_js(rng, 3000)}</script>"))
    if s.style == 0:
        main_open, main_close = f'<main id="main" class="{p}-main">', "</main>"
    elif s.style == 1:
        main_open, main_close = f'<div id="content" class="{p}-content"><div class="{p}-wrap">', "</div></div>"
    elif s.style == 2:
        main_open, main_close = f'<main id="main"><div class="{p}-layout"><section class="{p}-primary">', "</section></div></main>"
    else:
        main_open, main_close = f'<div id="container"><div id="main" class="{p}-col-main">', "</div></div>"
    return Template(Shared(assets), Shared(header + main_open),
                    Shared(f'<aside class="{p}-rail">{most_read}{newsletter}</aside>{main_close}{footer}</body></html>'),
                    share, stories)


# --- pages ---------------------------------------------------------------------------------------------------

def _page(world: World, s: Site, title: str, head_extra: str, content: str, body_class: str) -> Page:
    t = template(world, s.index)
    return [f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{_esc(title)}</title>'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">{head_extra}', t.assets,
            f'</head><body class="{s.prefix}-{body_class}">', t.header, content, t.tail]


def _paragraph_html(s: Site, text: str) -> str:
    text = _esc(text)
    if s.style == 3:  # an older CMS writes typographic quotes as entities
        text = text.replace("\u201c", "&ldquo;").replace("\u201d", "&rdquo;").replace("\u2014", "&mdash;")
    return f"<p>{text}</p>"


def article_page(world: World, art: Article, page_url: str) -> Page:
    s = site(world, art.host)
    t = template(world, art.host)
    p = s.prefix
    rng = random.Random(f"page:{world.seed}:{art.id}")
    paras = paragraphs(world, art)
    when = art.day.isoformat()
    author = art.author or f"{s.name} staff"
    canonical = {"exact": page_url, "https": page_url.replace("http://", "https://", 1), "none": None}[s.canonical]
    description = paras[0][:200]
    ld = {"@context": "https://schema.org", "@type": "NewsArticle", "headline": art.headline,
          "datePublished": when, "author": {"@type": "Person", "name": author},
          "publisher": {"@type": "Organization", "name": s.name}, "description": description,
          "articleSection": art.section, "wordCount": art.words}
    head = (f'<meta name="description" content="{_attr(description)}">'
            + (f'<link rel="canonical" href="{_attr(canonical)}">' if canonical else "")
            + f'<meta property="og:title" content="{_attr(art.headline)}"><meta property="og:type" content="article">'
            f'<script type="application/ld+json">{json.dumps(ld)}</script>')
    if s.state_json and world.page_size == "news":
        state = {"props": {"pageProps": {"article": {"id": art.id, "headline": art.headline,
                                                     "body": [{"type": "p", "text": x} for x in paras]}}}}
        head += f'<script id="__NEXT_DATA__" type="application/json">{json.dumps(state)}</script>'

    body_parts = []
    for k, text in enumerate(paras):
        body_parts.append(_paragraph_html(s, text))
        if k == 1 or (k > 2 and k % 6 == 0):
            body_parts.append(f'<div class="{p}-ad" data-slot="mid-{k}"><span class="{p}-ad__label">'
                              f'Advertisement</span></div>')
        if k == 4 and world.page_size == "news":
            body_parts.append(f'<aside class="{p}-readmore"><strong>Read more:</strong> '
                              f'{rng.choice(t.stories)}</aside>')
    body = "".join(body_parts)
    byline = f'By <a rel="author" href="/author/{_slug(author, 4)}">{_esc(author)}</a>'
    figure = "" if world.page_size == "small" else (
        f'<figure class="{p}-lead-image"><img src="/images/{art.id}.jpg" alt="" width="1200" height="675">'
        f'<figcaption>{_esc(nt.sentence(rng, 10, 25))} (Photo: {_esc(nt.person(rng))})</figcaption></figure>')
    share = t.share
    crumbs = (f'<nav class="{p}-breadcrumbs" aria-label="Breadcrumb"><a href="/">Home</a> &rsaquo; '
              f'<a href="/news/">News</a> &rsaquo; <a href="/{art.section}/">{_label(art.section)}</a></nav>')
    related_count = 2 if world.page_size == "small" else rng.randint(5, 8)
    related = "".join(f"<li>{link}</li>" for link in rng.sample(t.stories, related_count))
    related = f'<section class="{p}-related"><h2>Related stories</h2><ul>{related}</ul></section>'
    tags = ", ".join(f'<a href="/topic/{w}">{_esc(w.title())}</a>' for w in rng.sample(nt.NEWS_WORDS, 4))
    tags = f'<p class="{p}-tags">Topics: {tags}</p>'
    stamp = f'<time datetime="{when}T{rng.randint(5, 22):02d}:{rng.randint(0, 59):02d}:00-05:00">{art.day:%B %-d, %Y}</time>'
    headline = _esc(art.headline)
    if s.style == 0:
        content = (f'{crumbs}<article class="{p}-article"><header><h1 class="{p}-headline">{headline}</h1>'
                   f'<div class="{p}-byline">{byline} {stamp}</div>{share}</header>{figure}'
                   f'<div class="{p}-article-body">{body}</div>{tags}</article>{related}')
    elif s.style == 1:
        content = (f'{crumbs}<div id="story-body" class="story-body"><h1 class="story-headline">{headline}</h1>'
                   f'<p class="byline">{byline}</p><p class="dateline">{stamp}</p>{share}{figure}'
                   f'<div class="story-body__inner">{body}</div>{tags}</div>{related}')
    elif s.style == 2:
        content = (f'{crumbs}<div itemscope itemtype="https://schema.org/NewsArticle"><h1 itemprop="headline">'
                   f'{headline}</h1><span itemprop="author">{byline}</span> {stamp}{figure}{share}'
                   f'<div itemprop="articleBody">{body}</div>{tags}{related}</div>')
    else:
        content = (f'{crumbs}<div class="entry"><h1 class="entry-title">{headline}</h1><div class="meta">'
                   f'{byline} | {stamp}</div>{figure}<div class="entry-content">{body}</div>{share}{tags}</div>'
                   f'{related}')
    return _page(world, s, f"{art.headline} | {s.name}", head, content, "article")


@lru_cache(maxsize=MAX_HOSTS)
def not_found_page(world: World, s: Site) -> Page:
    title, heading, text = NOT_FOUND[s.not_found]
    content = (f'<div class="{s.prefix}-error"><h1>{_esc(heading)}</h1><p>{_esc(text)}</p>'
               f'<form action="/search"><input name="q" placeholder="Search {_attr(s.name)}"><button>Search'
               f'</button></form><p><a href="/">Go to the homepage</a></p></div>')
    return _page(world, s, title.format(site=s.name), "", content, "error")


@lru_cache(maxsize=MAX_HOSTS)
def home_page(world: World, s: Site) -> Page:
    rng = random.Random(f"home:{world.seed}:{s.index}")
    per_host = max(1, world.posts // world.hosts)
    stories = []
    for _ in range(30 if world.page_size == "news" else 8):
        other = article(world, rng.randrange(per_host) * world.hosts + s.index)
        stories.append(f'<li><h3><a href="{_attr(other.path)}">{_esc(other.headline)}</a></h3>'
                       f'<p>{_esc(nt.sentence(rng, 12, 24))}</p></li>')
    content = f'<section class="{s.prefix}-front"><h1>Top stories</h1><ul>{"".join(stories)}</ul></section>'
    return _page(world, s, f"{s.name} | Breaking news, politics, business and more", "", content, "home")


# --- routing: what a host answers for a path -----------------------------------------------------------------

def find_article(world: World, h: int, path: str) -> Article | None:
    """The world's article this host serves at this path, or None (a page it does not have)."""
    s = site(world, h)
    m = _SCHEME_RE[s.scheme].match(path)
    if not m:
        return None
    i = int(m.group(1))
    if i >= world.posts or i % world.hosts != h:
        return None
    art = article(world, i)
    if s.scheme in STRICT_SCHEMES and path != art.path:
        return None
    return art


class Web:
    """The request handler: a page per request, and the few counters that flaky and rate-limited URLs need
    (per path; reset between the tools' runs, so each tool meets the same failures)."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.served: dict[str, int] = {}

    def reset(self) -> None:
        self.served.clear()

    def _respond(self, request: web.Request, status: int, page: Page | None = None,
                 headers: dict[str, str] | None = None) -> web.Response:
        headers = dict(headers or {})
        if page is None or request.method == "HEAD":
            return web.Response(status=status, headers=headers)
        headers["Content-Type"] = "text/html; charset=utf-8"
        gzip = self.world.gzip and "gzip" in request.headers.get("Accept-Encoding", "")
        if gzip:
            headers["Content-Encoding"] = "gzip"
        return web.Response(status=status, body=encode(page, gzip), headers=headers)

    async def handle(self, request: web.Request) -> web.Response:
        world = self.world
        host = request.host.rsplit(":", 1)[0]
        if host == "127.0.0.1" and request.path == "/__reset":
            self.reset()
            return web.Response(text="reset")
        try:
            h = int(host.rsplit(".", 1)[1]) - 2
        except (IndexError, ValueError):
            return web.Response(status=421)
        if not (host.startswith("127.0.0.") and 0 <= h < world.hosts):
            return web.Response(status=421)
        s = site(world, h)
        path = request.path
        root = f"http://{address(h)}:{world.port}/"
        if path == "/":
            return self._respond(request, 200, home_page(world, s))
        moved_target = path.startswith("/archive/")
        art = find_article(world, h, path[len("/archive"):] if moved_target else path)
        if world.mix == "all200":
            if art is None:  # any path answers: a page of its own, made up from the path
                art = article(world, world.posts + zlib.crc32(path.encode()) % 10 ** 6, h)
            return self._respond(request, 200, article_page(world, art, root[:-1] + path))
        if art is None or (moved_target and fate(world, art.id) != "moved"):
            if s.missing == "home":
                return self._respond(request, 302, None, {"Location": root})
            return self._respond(request, 404 if s.missing == "404" else 200, not_found_page(world, s))
        page_url = root[:-1] + path
        what = fate(world, art.id)
        if moved_target or what in ("alive", "slugfree"):
            return self._respond(request, 200, article_page(world, art, page_url))
        if what == "dead404":
            return self._respond(request, 404, not_found_page(world, s))
        if what == "gone410":
            return self._respond(request, 410, not_found_page(world, s))
        if what == "soft404":
            return self._respond(request, 200, not_found_page(world, s))
        if what == "soft404root":
            return self._respond(request, 302, None, {"Location": root})
        if what == "moved":
            return self._respond(request, 301, None, {"Location": root[:-1] + "/archive" + path})
        if what == "head405" and request.method == "HEAD":
            return self._respond(request, 405, None, {"Allow": "GET"})
        if what in ("flaky", "rate429"):
            seen = self.served[path] = self.served.get(path, 0) + 1
            if what == "flaky" and seen <= 2:
                return web.Response(status=503, text="Service temporarily unavailable")
            if what == "rate429" and seen <= 1:
                return web.Response(status=429, text="Too many requests", headers={"Retry-After": "1"})
        if what in ("slow", "hang"):
            await asyncio.sleep(SLOW_SECONDS if what == "slow" else HANG_SECONDS)
        return self._respond(request, 200, article_page(world, art, page_url))


async def serve(world: World) -> None:
    """Serve every host (and the control address 127.0.0.1) until SIGTERM; print "ready" once listening."""
    for h in range(world.hosts):  # every host's template, before the first request waits for one
        home_page(world, site(world, h))
        not_found_page(world, site(world, h))
    handler = Web(world)
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    for h in range(world.hosts):
        await web.TCPSite(runner, address(h), world.port, backlog=1024).start()
    await web.TCPSite(runner, "127.0.0.1", world.port).start()
    print("ready", flush=True)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    os._exit(0)  # hanging handlers would hold a graceful shutdown for their whole delay


# --- the blog ------------------------------------------------------------------------------------------------

BLOG = "tag:blogger.com,1999:blog-4242"
KIND = "http://schemas.google.com/g/2005#kind"


def _entry(entry_id: str, kind: str, published: str, title: str, content: str, extra: str = "") -> str:
    return (f"<entry><id>{entry_id}</id><published>{published}</published><updated>{published}</updated>"
            f"<category scheme='{KIND}' term='http://schemas.google.com/blogger/2008/kind#{kind}'/>"
            f"{extra}<title type='text'>{_esc(title)}</title>"
            f"<content type='html'>{_esc(content)}</content>"
            f"<author><name>Bench Blog</name><email>noreply@blogger.com</email></author></entry>\n")


def post_html(world: World, i: int) -> str:
    """A post as the blog writes it: the article's opening paragraphs, then the Original Article trailer."""
    art = article(world, i)
    lead = "".join(f"<p>{_esc(p)}</p>" for p in paragraphs(world, art, limit=art.lead))
    return (f'{lead}<a href="{_attr(url(world, i))}">Original Article</a><br />\n'
            f'Source: {_esc(site(world, art.host).name)}<br />\nAuthor: {_esc(art.author or "--")}')


def write_export(world: World, path: Path) -> None:
    """A legacy Blogger "Back up content" export (Atom) of one post per article, written as it is generated."""
    with open(path, "w", encoding="utf-8") as out:
        out.write("<?xml version='1.0' encoding='UTF-8'?>"
                  "<feed xmlns='http://www.w3.org/2005/Atom' xmlns:openSearch='http://a9.com/-/spec/opensearchrss/1.0/' "
                  "xmlns:gd='http://schemas.google.com/g/2005' xmlns:thr='http://purl.org/syndication/thread/1.0'>"
                  f"<id>{BLOG}.archive</id><updated>2015-01-01T00:00:00.000-05:00</updated>"
                  "<title type='text'>Bench Blog</title>"
                  "<link rel='alternate' type='text/html' href='http://benchblog.blogspot.com/'/>"
                  "<generator version='7.00' uri='http://www.blogger.com'>Blogger</generator>\n")
        out.write(_entry(f"{BLOG}.layout", "template", "2010-01-01T00:00:00.000-05:00", "Template: Bench Blog",
                         "<html><b:skin>body{}</b:skin></html>"))
        out.write(_entry(f"{BLOG}.settings.BLOG_NAME", "settings", "2010-01-01T00:00:00.000-05:00", "Blog name",
                         "Bench Blog"))
        for i in range(world.posts):
            art = article(world, i)
            posted = art.day + timedelta(days=i % 3)
            published = f"{posted.isoformat()}T{8 + i % 12:02d}:{i % 60:02d}:00.000-05:00"
            alternate = (f"<link rel='alternate' type='text/html' href='http://benchblog.blogspot.com/"
                         f"{posted:%Y/%m}/{_slug(art.headline, 5)}-{i}.html' title='{_attr(art.headline)}'/>")
            out.write(_entry(f"{BLOG}.post-{i}", "post", published, art.headline, post_html(world, i), alternate))
        out.write("</feed>\n")


# --- the server process --------------------------------------------------------------------------------------

def world_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--posts", type=int, default=20000)
    parser.add_argument("--hosts", type=int, default=50)
    parser.add_argument("--port", type=int, default=18080)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--mix", choices=("real", "all200"), default="real",
                        help="real: the fate mix (alive, dead, moved, slow, hanging, flaky, soft 404s...); "
                             "all200: every URL answers 200")
    parser.add_argument("--page-size", choices=("news", "small"), default="news",
                        help="news: 60-250 KB pages; small: about 5 KB")
    parser.add_argument("--no-gzip", action="store_true", help="never compress answers")


def world_from(args: argparse.Namespace) -> World:
    if not 1 <= args.hosts <= MAX_HOSTS:
        raise SystemExit(f"--hosts must be 1..{MAX_HOSTS} (one loopback address each)")
    return World(args.posts, args.hosts, args.port, args.seed, args.mix, args.page_size, not args.no_gzip)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    world_arguments(parser)
    world = world_from(parser.parse_args())
    try:
        import uvloop  # the server shares a 2-core machine with the tools: the cheaper its loop, the better
        run = uvloop.run
    except (ImportError, AttributeError):
        run = asyncio.run
    run(serve(world))


if __name__ == "__main__":
    sys.exit(main())
