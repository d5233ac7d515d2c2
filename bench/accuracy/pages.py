"""HTML of the evaluation world's pages: articles with their site's chrome, not-found pages (real 404s and
200 "soft" ones), home pages and section fronts, parked domains, bot walls, paywalls, video pages, and the
Wayback Machine's own pages (not archived, excluded, a redirect seen at crawl time).

Owned here: markup only. Each site's chrome (navigation, "most popular" headlines, footer) is shared by its
pages of a month, as real templates are, so a not-found page and an article of one site share boilerplate.
"""

from __future__ import annotations

import html
import random

from . import outlets as O
from . import prose

_SITE_NAMES = {h: o.display for o in O.OUTLETS for h in o.hosts}
_SITE_NAMES.update({
    "www.huffpost.com": "HuffPost", "ottawacitizen.com": "Ottawa Citizen", "vancouversun.com": "Vancouver Sun",
    "montrealgazette.com": "Montreal Gazette", "nationalpost.com": "National Post", "www.bbc.com": "BBC News",
    "theguardian.com": "The Guardian", "news.google.com": "Google News", "www.torontosun.com": "Toronto Sun",
    "www.youtube.com": "YouTube", "en.wikipedia.org": "Wikipedia", "www.ourcommons.ca": "House of Commons of Canada",
    "pm.gc.ca": "Prime Minister of Canada", "www.pm.gc.ca": "Prime Minister of Canada",
    "www.parl.gc.ca": "Parliament of Canada", "www.pbo-dpb.gc.ca": "Parliamentary Budget Officer",
    "www.change.org": "Change.org", "www.documentcloud.org": "DocumentCloud", "www.macleans.ca": "Maclean's",
})

# How each site words a missing page; the second item says whether the <title> admits it.
_NOT_FOUND = [
    ("Sorry, the page you requested could not be found.", True),
    ("We're sorry, but the page you are looking for is no longer available.", False),
    ("Oops! That page can't be found.", True),
    ("The page you were looking for doesn't exist. It may have been moved or removed.", False),
    ("Error 404 - this page is not available.", True),
    ("We can't seem to find the page you're looking for. Try searching our archives below.", False),
]


def site_name(host: str) -> str:
    return _SITE_NAMES.get(host, host.replace("www.", ""))


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _headlines(seed: str, n: int) -> list[str]:
    rng = random.Random(seed)
    return [prose.headline(rng, prose.story(rng)) for _ in range(n)]


def chrome(host: str, year: int, month: int, title: str, main: str, canonical: str = "") -> str:
    """A full page: head, the site's navigation, `main`, the month's most-popular list and a footer."""
    name = site_name(host)
    sections = ["News", "Politics", "Canada", "World", "Business", "Opinion", "Life", "Sports"]
    nav = "".join(f'<li><a href="/{s.lower()}/">{s}</a></li>' for s in sections)
    popular = "".join(f'<li><a href="/news/{prose.slugify(h, 6)}/">{_esc(h)}</a></li>'
                      for h in _headlines(f"popular:{host}:{year}:{month}", 5))
    canon = f'<link rel="canonical" href="{_esc(canonical)}"/>' if canonical else ""
    return (f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{_esc(title)}</title>{canon}"
            f"<meta name=\"viewport\" content=\"width=device-width\"></head><body>"
            f"<header><a class=\"logo\" href=\"/\">{_esc(name)}</a><nav><ul>{nav}</ul></nav></header>"
            f"<main>{main}</main><aside><h3>Most popular</h3><ol>{popular}</ol></aside>"
            f"<footer><p>&copy; {year} {_esc(name)}. All rights reserved. "
            f"<a href=\"/privacy/\">Privacy</a> <a href=\"/terms/\">Terms of use</a></p></footer></body></html>")


def article_page(host: str, text: prose.ArticleText, version: int, year: int, month: int, published: str,
                 canonical: str = "", edited: bool = False) -> str:
    paras = list(text.body(version))
    if edited:
        # A correction: a note on top and the first paragraph's last sentence taken out.
        first = paras[0].rsplit(". ", 1)[0] + "."
        paras = ["Correction: an earlier version of this story misstated a figure. It has been corrected."] + [first] + paras[1:]
    by = ", ".join(text.head.authors) if text.head.authors else ""
    body = "".join(f"<p>{_esc(p)}</p>" for p in paras)
    main = (f"<article><h1>{_esc(text.headline)}</h1>"
            + (f"<p class=\"byline\">By {_esc(by)}</p>" if by else "")
            + f"<p class=\"dateline\">Published {published}</p>{body}</article>")
    return chrome(host, year, month, f"{text.headline} | {site_name(host)}", main, canonical)


def paywall_page(host: str, text: prose.ArticleText, version: int, year: int, month: int) -> str:
    first = text.body(version)[0].split(". ")[0] + "."
    main = (f"<article><h1>{_esc(text.headline)}</h1><p>{_esc(first)}</p>"
            f"<div class=\"paywall\"><h2>Subscribe to keep reading</h2><p>You have reached your limit of free "
            f"articles this month. Subscribe now for unlimited digital access.</p><a href=\"/subscribe/\">"
            f"Subscribe</a> <a href=\"/login/\">Log in</a></div></article>")
    return chrome(host, year, month, f"{text.headline} | {site_name(host)}", main)


def not_found_page(host: str, year: int, month: int, style: int | None = None, expired: bool = False) -> str:
    """The site's not-found page (served with 404, or with 200 as a soft 404)."""
    if expired:
        message, admits = ("This story has expired. The story you are looking for is no longer available; "
                           "wire stories are removed after 30 days.", False)
    else:
        message, admits = _NOT_FOUND[(style if style is not None else sum(map(ord, host))) % len(_NOT_FOUND)]
    title = f"Page not found | {site_name(host)}" if admits else site_name(host)
    links = "".join(f"<li><a href=\"/news/{prose.slugify(h, 6)}/\">{_esc(h)}</a></li>"
                    for h in _headlines(f"notfound:{host}:{year}", 12))
    main = (f"<div class=\"error\"><h1>{_esc(message)}</h1><form action=\"/search\"><input name=\"q\">"
            f"<button>Search</button></form><h2>Latest news</h2><ul>{links}</ul></div>")
    return chrome(host, year, month, title, main)


def listing_page(host: str, year: int, month: int, what: str) -> str:
    """A home page or a section front: dozens of headlines."""
    heads = _headlines(f"{what}:{host}:{year}:{month}", 40)
    items = "".join(f"<li><a href=\"/news/{prose.slugify(h, 8)}/\">{_esc(h)}</a><p>{_esc(h)}: the latest.</p></li>"
                    for h in heads)
    label = "Home" if what == "home" else what.strip("/").split("/")[-1].capitalize() or "News"
    title = (f"{site_name(host)}: Canadian and world news, politics, business" if what == "home"
             else f"{label} | {site_name(host)}")
    return chrome(host, year, month, title, f"<section><h1>{_esc(label)}</h1><ul>{items}</ul></section>",
                  canonical=f"http://{host}/" if what == "home" else "")


def parked_page(host: str) -> str:
    rng = random.Random(f"parked:{host}")
    topics = ["Canada News", "Political Magazine", "Online Degree", "Cheap Flights", "Car Insurance",
              "News Today", "Mortgage Rates", "Web Hosting"]
    rng.shuffle(topics)
    links = "".join(f"<li><a href=\"http://ww1.{host}/?kw={_esc(t)}\">{_esc(t)}</a></li>" for t in topics)
    return (f"<!DOCTYPE html><html><head><title>{_esc(host)}</title></head><body><div class=\"parked\">"
            f"<h1>{_esc(host)}</h1><p>This domain may be for sale!</p><h2>Related Searches</h2><ul>{links}</ul>"
            f"<p>Buy this domain. The domain owner has parked this page.</p></div></body></html>")


def botwall_page() -> str:
    return ("<!DOCTYPE html><html><head><title>Just a moment...</title></head><body><div id=\"challenge\">"
            "<h1>Checking if the site connection is secure</h1><p>Enable JavaScript and cookies to continue</p>"
            "<noscript>Please enable JavaScript</noscript></div></body></html>")


def forbidden_page() -> str:
    return ("<html><head><title>Access Denied</title></head><body><h1>Access Denied</h1>"
            "<p>You don't have permission to access this page on this server.</p></body></html>")


def video_page(host: str, key: str, available: bool) -> str:
    if host == "www.youtube.com":
        if not available:
            return ("<!DOCTYPE html><html><head><title>YouTube</title></head><body><div id=\"player\">"
                    "<div class=\"message\">Video unavailable</div><div class=\"submessage\">This video is "
                    "unavailable.</div></div><div id=\"footer\">About Press Copyright Creators</div></body></html>")
        heads = _headlines(f"video:{key}", 6)
        return (f"<!DOCTYPE html><html><head><title>{_esc(heads[0])} - YouTube</title></head><body>"
                f"<div id=\"player\"><h1>{_esc(heads[0])}</h1><p>{_esc(' '.join(heads[1:4]))}</p></div>"
                f"<ul>{''.join(f'<li>{_esc(h)}</li>' for h in heads[3:])}</ul></body></html>")
    if not available:
        return chrome(host, 2024, 1, "CBC Player", "<div class=\"player\"><h1>Sorry, this video is no longer "
                      "available.</h1><p>Browse our latest videos.</p></div>")
    heads = _headlines(f"video:{key}", 4)
    return chrome(host, 2024, 1, f"{heads[0]} | CBC Player", f"<div class=\"player\"><h1>{_esc(heads[0])}</h1>"
                  f"<p>{_esc(' '.join(heads[1:]))}</p></div>")


def generic_page(host: str, key: str) -> str:
    """Some live page of a non-news site (Wikipedia, a petition, a blog post, a document)."""
    rng = random.Random(f"generic:{host}:{key}")
    s = prose.story(rng)
    text = prose.article(s, f"generic:{host}:{key}")
    return chrome(host, 2024, 1, f"{text.headline} - {site_name(host)}",
                  f"<h1>{_esc(text.headline)}</h1>" + "".join(f"<p>{_esc(p)}</p>" for p in text.paragraphs[:5]))


def pdf_bytes(key: str) -> bytes:
    body = f"BT /F1 12 Tf 72 712 Td (Report {key}) Tj ET".encode()
    return (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
            b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]/Contents 4 0 R>>endobj\n"
            b"4 0 obj<</Length " + str(len(body)).encode() + b">>stream\n" + body + b"\nendstream endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")


# --- the Wayback Machine's own pages ---------------------------------------------------------------------------

def wayback_shell(title: str, message: str) -> str:
    return (f"<!DOCTYPE html><html lang=\"en\"><head><title>{_esc(title)}</title><script>/* @licstart The "
            f"following is the entire license notice for the JavaScript code in this page. Copyright (C) 2020 "
            f"Internet Archive */</script></head><body><div id=\"wm-ipp\"></div><div id=\"error\"><h2>"
            f"{_esc(message)}</h2></div></body></html>")


def not_archived_page(url: str) -> str:
    return wayback_shell("Wayback Machine", f"The Wayback Machine has not archived that URL. {url}")


def excluded_page() -> str:
    return wayback_shell("Wayback Machine", "This URL has been excluded from the Wayback Machine.")


def redirect_view_page(status: str, location: str, target_replay: str) -> str:
    return (f"<!DOCTYPE html><html><head><title></title></head><body><div id=\"wm-ipp\"></div>"
            f"<p class=\"impatient\">Got an HTTP {status} response at crawl time</p><p>Redirecting to...</p>"
            f"<p class=\"code\">{_esc(location)}</p><p><a href=\"{_esc(target_replay)}\">Impatient?</a></p>"
            f"<script>setTimeout(function(){{document.location.href='{_esc(target_replay)}';}}, 2000);</script>"
            f"</body></html>")


def toolbar(html_text: str, ts: str) -> str:
    """View mode: the Wayback toolbar inserted after <body>."""
    bar = (f"<!-- BEGIN WAYBACK TOOLBAR INSERT --><div id=\"wm-ipp-base\">{ts[:4]} captures "
           f"<a href=\"/web/\">Wayback Machine</a></div><!-- END WAYBACK TOOLBAR INSERT -->")
    return html_text.replace("<body>", "<body>" + bar, 1)
