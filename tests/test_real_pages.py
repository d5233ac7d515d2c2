"""`linkkeeper check` against real web pages: every page of tests/data/real-pages is the Original Article of a
post reproducing its lead, and every one of them must come out `alive`.

The pages are real news sites and blogs in English, German and French (trafilatura's test cache, byte for
byte); the leads were taken from them by trafilatura, an extractor that owes nothing to linkkeeper
(tests/data/real-pages/build_manifest.py). They are served on 127.0.0.1 at their original host and path,
over TLS with a test CA where the original URL is https, with a 404 for every other path as real sites
answer. The command line runs as a user would run it: `ingest` a Blogger export, then `check`, each in a
subprocess with a `linkkeeper.toml` whose connect_to rules send every host to the test servers.

Pages linkkeeper judges wrongly today are listed in KNOWN_FALSE, each an xfail(strict=True): fixing the
product makes the test pass unexpectedly, which fails the run until the entry is removed.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import html
import json
import os
import socket
import sqlite3
import ssl
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import unquote, urlsplit
from xml.sax.saxutils import escape as xml_escape

import pytest
import trustme
from aiohttp import web

PAGES_DIR = Path(__file__).resolve().parent / "data" / "real-pages"
MANIFEST = json.loads((PAGES_DIR / "manifest.json").read_text(encoding="utf-8"))
PAGES = MANIFEST["pages"]
BLOG = "http://democracyastray.blogspot.com"
BLOG_ID = "6412345678901234567"

# Pages linkkeeper gets wrong today, by manifest id: the wrong verdict it gives, and why.
KNOWN_FALSE: dict[str, tuple[str, str]] = {
    # Fixed: wehranlage-horka.de.887 and soundofscience.fr.1927 were `drifted` while soft hyphens (U+00AD) split
    # their words; text/normalize.py removes them before any comparison.
}

NOT_FOUND_PAGE = (b"<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head>\n<body><h1>Not Found</h1>\n"
                  b"<p>The requested URL was not found on this server.</p></body></html>\n")


# ─── the corpus itself ──────────────────────────────────────────────────────────────────────────────────────

def test_the_corpus_is_what_its_readme_says():
    assert len(PAGES) >= 30
    assert len({p["site"] for p in PAGES}) >= 20
    assert Counter(p["language"] for p in PAGES).keys() >= {"en", "de", "fr"}
    assert set(KNOWN_FALSE) <= {p["id"] for p in PAGES}
    for page in PAGES:
        body = gzip.decompress((PAGES_DIR / page["file"]).read_bytes())
        assert hashlib.sha256(body).hexdigest() == page["sha256"], page["file"]
        assert len(body) == page["bytes"] and 10_000 <= len(body) <= 400_000, page["file"]
        assert 1 <= len(page["lead"]) <= 3 and 50 <= page["lead_words"] <= 250, page["id"]
        assert page["lead_words"] == sum(len(p.split()) for p in page["lead"]), page["id"]
        assert page["id"] in (PAGES_DIR / "README.md").read_text(encoding="utf-8"), page["id"]


# ─── the web: each page at its own host and path ────────────────────────────────────────────────────────────

def _key(scheme: str, host: str, path: str, query: str) -> tuple[str, str, str, str]:
    # Decoded path: a server answers /fr%C3%BChburgunder and /frühburgunder alike.
    return scheme, host.lower(), unquote(path) or "/", query


def site_app(requests: list[tuple[str, str, int]]) -> web.Application:
    pages = {}
    for page in PAGES:
        parts = urlsplit(page["url"])
        content_type = "text/html" + (f"; charset={page['charset']}" if page["charset"] else "")
        pages[_key(parts.scheme, parts.hostname, parts.path, parts.query)] = (page["file"], content_type)
    bodies = {page["file"]: (PAGES_DIR / page["file"]).read_bytes() for page in PAGES}

    async def handle(request: web.Request) -> web.Response:
        scheme = "https" if request.secure else "http"
        host = request.host.rsplit(":", 1)[0] if not request.host.endswith("]") else request.host
        found = pages.get(_key(scheme, host, request.path, request.query_string))
        requests.append((f"{scheme}://{host}{request.path_qs}", request.method, 200 if found else 404))
        if not found:
            return web.Response(status=404, body=NOT_FOUND_PAGE, content_type="text/html", charset="utf-8")
        name, content_type = found
        headers = {"Content-Type": content_type, "Vary": "Accept-Encoding"}
        if "gzip" in request.headers.get("Accept-Encoding", ""):
            return web.Response(body=bodies[name], headers={**headers, "Content-Encoding": "gzip"})
        return web.Response(body=gzip.decompress(bodies[name]), headers=headers)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    return app


class Servers:
    """The pages served from a thread of their own (the command line runs in a subprocess meanwhile): plain
    HTTP on one port, TLS on another."""

    def __init__(self, app: web.Application, tls: ssl.SSLContext) -> None:
        self.app, self.tls = app, tls
        self.loop = asyncio.new_event_loop()
        self.ports: dict[str, int] = {}
        self.thread = threading.Thread(target=self._run, name="real-pages-web", daemon=True)
        self.ready = threading.Event()
        self.failure: BaseException | None = None

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        runner = web.AppRunner(self.app, access_log=None)
        try:
            self.loop.run_until_complete(runner.setup())
            for name, context in (("http", None), ("https", self.tls)):
                sock = socket.socket()
                sock.bind(("127.0.0.1", 0))
                self.ports[name] = sock.getsockname()[1]
                self.loop.run_until_complete(web.SockSite(runner, sock, ssl_context=context).start())
        except BaseException as exc:  # noqa: BLE001 - reported to the starting thread
            self.failure = exc
            self.ready.set()
            return
        self.ready.set()
        try:
            self.loop.run_forever()
        finally:
            self.loop.run_until_complete(runner.cleanup())
            self.loop.close()

    def __enter__(self) -> "Servers":
        self.thread.start()
        if not self.ready.wait(10):
            raise RuntimeError("the page servers did not start")
        if self.failure:
            raise self.failure
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


# ─── the blog: one post per page ───────────────────────────────────────────────────────────────────────────

def post_html(page: dict) -> str:
    lead = "".join(f"<p>{html.escape(paragraph, quote=False)}</p>" for paragraph in page["lead"])
    outlet = page["site"].removeprefix("www.")
    return (f'{lead}<a href="{html.escape(page["url"])}">Original Article</a><br />Source: {html.escape(outlet)}'
            f'<br />Author: {html.escape(page["author"] or "--")}')


def blogger_export(pages: list[dict]) -> str:
    """A legacy Blogger "Back up content" export: the feed, then one kind#post entry per page."""
    entries = []
    for i, page in enumerate(pages):
        published = f"{page['date'] or '2020-01-01'}T09:{i % 60:02d}:00.000-05:00"
        slug = page["id"].replace(".", "-")[:40]
        post_url = f"{BLOG}/{published[:4]}/{published[5:7]}/{slug}.html"
        title = page["title"] or page["id"]
        entries.append(
            f"<entry><id>tag:blogger.com,1999:blog-{BLOG_ID}.post-{9000 + i}</id>"
            f"<published>{published}</published><updated>{published}</updated>"
            "<category scheme='http://schemas.google.com/g/2005#kind' "
            "term='http://schemas.google.com/blogger/2008/kind#post'/>"
            f"<title type='text'>{xml_escape(title)}</title>"
            f"<content type='html'>{xml_escape(post_html(page))}</content>"
            f"<link rel='alternate' type='text/html' href='{xml_escape(post_url)}' "
            f"title='{xml_escape(title, {chr(39): '&apos;'})}'/>"
            "<author><name>Democracy Gone Astray</name></author></entry>")
    return ("<?xml version='1.0' encoding='UTF-8'?>"
            "<feed xmlns='http://www.w3.org/2005/Atom' xmlns:openSearch='http://a9.com/-/spec/opensearchrss/1.0/' "
            "xmlns:gd='http://schemas.google.com/g/2005' xmlns:thr='http://purl.org/syndication/thread/1.0'>"
            f"<id>tag:blogger.com,1999:blog-{BLOG_ID}.archive</id><updated>2020-02-01T00:00:00.000-05:00</updated>"
            "<title type='text'>Democracy Gone Astray</title>"
            f"<link rel='alternate' type='text/html' href='{BLOG}/'/>"
            "<generator version='7.00' uri='http://www.blogger.com'>Blogger</generator>\n"
            + "\n".join(entries) + "\n</feed>\n")


# ─── one check run, shared by every page's test ──────────────────────────────────────────────────────────────

def linkkeeper(workdir: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "linkkeeper", "--db", "blog.db", *args], cwd=workdir, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def checked(tmp_path_factory):
    """Serve the pages, ingest the export and run `linkkeeper check` once; the verdict of each page's URL."""
    workdir = tmp_path_factory.mktemp("real-pages")
    ca = trustme.CA()
    ca.cert_pem.write_to_path(str(workdir / "test-ca.pem"))
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*sorted({p["site"] for p in PAGES})).configure_cert(tls)

    requests: list[tuple[str, str, int]] = []
    with Servers(site_app(requests), tls) as servers:
        (workdir / "export.xml").write_text(blogger_export(PAGES), encoding="utf-8")
        (workdir / "linkkeeper.toml").write_text(
            f'connect_to = ["*:80:127.0.0.1:{servers.ports["http"]}", "*:443:127.0.0.1:{servers.ports["https"]}"]\n',
            encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith("LINKKEEPER_")}
        env["SSL_CERT_FILE"] = str(workdir / "test-ca.pem")  # the client trusts the test CA, and only it
        env.pop("SSL_CERT_DIR", None)
        started = time.monotonic()
        ingest = linkkeeper(workdir, env, "ingest", "export.xml")
        assert ingest.returncode == 0, ingest.stdout + ingest.stderr
        check = linkkeeper(workdir, env, "check")
        assert check.returncode in (0, 1), check.stdout + check.stderr  # 1: a link became dead or soft-404
        elapsed = time.monotonic() - started

    db = sqlite3.connect(workdir / "blog.db")
    db.row_factory = sqlite3.Row
    rows = db.execute("""SELECT l.url, s.verdict, s.evidence_class, s.reason, s.status, s.final_url
                         FROM links l LEFT JOIN url_status s ON s.url = l.url_normalized
                         WHERE l.role = 'original'""").fetchall()
    db.close()
    return {"by_url": {row["url"]: dict(row) for row in rows}, "requests": requests, "elapsed": elapsed,
            "output": check.stdout + check.stderr}


def test_every_page_was_fetched_once_and_read_no_further(checked):
    fetched = {unquote(url) for url, _method, status in checked["requests"] if status == 200}
    for page in PAGES:
        assert unquote(page["url"]) in fetched, f"{page['url']} was never requested"
    # Every page plainly holds its post's lead, so it is the article: no random-sibling probe, no second look.
    others = [(url, method, status) for url, method, status in checked["requests"]
              if unquote(url) not in {unquote(p["url"]) for p in PAGES} or status != 200]
    assert others == [], others
    assert len(checked["requests"]) == len(PAGES)
    assert checked["elapsed"] < 25, f"ingest and check took {checked['elapsed']:.1f} s"


def _marks(page: dict) -> list:
    if page["id"] not in KNOWN_FALSE:
        return []
    wrong, why = KNOWN_FALSE[page["id"]]
    # Only the known wrong verdict is an expected failure (an AssertionError); `alive` passes and so fails the
    # strict xfail (remove the entry); any other verdict fails outright through pytest.fail.
    return [pytest.mark.xfail(strict=True, raises=AssertionError, reason=f"{wrong}: {why}")]


@pytest.mark.parametrize("page", [pytest.param(page, id=page["id"], marks=_marks(page)) for page in PAGES])
def test_a_real_article_page_is_alive(checked, page):
    row = checked["by_url"].get(page["url"])
    if row is None:
        pytest.fail(f"no Original Article link ingested for {page['url']}")
    said = f"{page['url']}: {row['verdict']} ({row['evidence_class']}, HTTP {row['status']}): {row['reason']}"
    if page["id"] in KNOWN_FALSE and row["verdict"] not in ("alive", KNOWN_FALSE[page["id"]][0]):
        pytest.fail(f"known to be judged {KNOWN_FALSE[page['id']][0]}, now {said}")
    assert row["verdict"] == "alive", said
