"""`linkkeeper review`: a local web page where the curator works through everything that needs a person
(desk/queue.py: proposed repairs by impact, then repairs the archive could not make and nullified links no
URL was found for, then drifted links). For each: the post's text beside the capture's, approve, reject,
"not dead", "later"; for a link with nothing proposed, a field to paste the article's URL or a capture,
verified on the spot (desk/verify.py) and shown before it is saved. Filters, grouping, a selection decided
at once, a bulk approval that says how many it will decide, and undo. Every decision goes through
desk/decisions.py (and so into the `decisions` table). The page is templates/review.html, autoescaped
(desk/pages.py).

Safety: the server binds to loopback unless told otherwise; every request must name this server in its Host
header (an IP address or localhost, with this server's port: a DNS-rebinding page cannot); every POST, and
every GET that spends archive requests (/compare), must carry the per-server token from the page
(X-CSRF-Token) and, when the browser sends them, an Origin of this server and a same-origin Sec-Fetch-Site;
a POST must send JSON. Pages are served with a nonce-based Content Security Policy, so even a value that
escaped escaping could not run. Bodies are bounded (64 KB) and their JSON in depth; ids outside SQLite's
integers are refused with a 400.
"""

from __future__ import annotations

import ipaddress
import json
import secrets
from collections import OrderedDict
from pathlib import Path
from typing import Any, Awaitable, Callable

import aiohttp
from aiohttp import web
from markupsafe import Markup, escape

from linkkeeper import store
from linkkeeper.desk import decisions
from linkkeeper.desk.pages import template
from linkkeeper.desk.queue import build_queue
from linkkeeper.desk.verify import Verified, Verifier, post_text
from linkkeeper.net.session import make_session
from linkkeeper.settings import Settings
from linkkeeper.text.similarity import page_text
from linkkeeper.wayback import ArchiveError

DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 8765
TOKEN_HEADER = "X-CSRF-Token"
CAPTURE_CACHE = 128
VERIFIED_CACHE = 64
RECENT_DECISIONS = 8
MAX_BODY = 64 * 1024

DB = web.AppKey("db", Any)
SETTINGS = web.AppKey("settings", Settings)
TOKEN = web.AppKey("token", str)
BIND_HOST = web.AppKey("bind_host", str)
CACHE = web.AppKey("capture_cache", OrderedDict)
VERIFIED = web.AppKey("verified", OrderedDict)
LATER = web.AppKey("later", OrderedDict)
CLIENT = web.AppKey("archive_client", dict)
NONCE = web.RequestKey("nonce", str) if hasattr(web, "RequestKey") else "nonce"  # RequestKey: aiohttp 3.12+


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class Refused(web.HTTPForbidden):
    def __init__(self, reason: str) -> None:
        super().__init__(text=json.dumps({"error": reason}), content_type="application/json")


class BadRequest(web.HTTPBadRequest):
    def __init__(self, reason: str) -> None:
        super().__init__(text=json.dumps({"error": reason}), content_type="application/json")


def _server_port(request: web.Request) -> int | None:
    sockname = request.transport.get_extra_info("sockname") if request.transport else None
    return sockname[1] if sockname else None


def check_host(request: web.Request) -> None:
    """The Host header must name this server by address, or as localhost or the name it was bound to: a
    page on another name that resolves here (DNS rebinding) is refused before it can read anything."""
    raw = request.headers.get("Host", "")
    if not raw:
        raise Refused("missing Host header")
    host, _, port = raw.rpartition(":") if not raw.endswith("]") else (raw, "", "")
    if not host:
        host, port = raw, ""
    expected = _server_port(request)
    if expected is not None and (port or "80") != str(expected):  # browsers leave out the default port
        raise Refused(f"unexpected Host {raw!r}")
    name = host.strip("[]").lower()
    try:
        ipaddress.ip_address(name)
        return
    except ValueError:
        pass
    if name not in ("localhost", request.app[BIND_HOST].lower()):
        raise Refused(f"unexpected Host {raw!r}")


def check_origin(request: web.Request) -> None:
    """Only this server's own page may ask: an Origin (when sent) of this server, a same-origin fetch, and the
    page's token, which another site cannot read."""
    origin = request.headers.get("Origin")
    if origin is not None and origin != f"http://{request.headers.get('Host', '')}":
        raise Refused("cross-origin request refused")
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None and site not in ("same-origin", "none"):
        raise Refused("cross-site request refused")
    token = request.headers.get(TOKEN_HEADER, "")
    if not token or not secrets.compare_digest(token.encode(), request.app[TOKEN].encode()):
        raise Refused("missing or wrong CSRF token: reload the review page")


# The only GETs another web page may trigger: the page (it hands out the token) and the queue, which read the
# database and spend nothing (and the browser keeps another site from reading them). Every other GET, such as
# /compare/ID, which spends archive requests, is guarded like a POST: an allowlist, so that a path spelt
# otherwise ("//compare/1", "/compare/1/") or a route added later is guarded too.
OPEN_GETS = ("/", "/queue")


@web.middleware
async def guard(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]):
    check_host(request)
    if request.method not in ("GET", "HEAD"):
        check_origin(request)
        if request.content_type != "application/json":
            raise Refused("a decision must be sent as JSON")
    elif request.path not in OPEN_GETS:
        check_origin(request)
    nonce = secrets.token_urlsafe(16)
    request[NONCE] = nonce
    response = await handler(request)
    response.headers["Content-Security-Policy"] = (
        f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; connect-src 'self'; "
        "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


# --- rendering: the page is templates/review.html, its lists _review_lists.html -------------------------

_LISTS = template("_review_lists.html").module


def _queue(app: web.Application) -> list[dict]:
    return build_queue(app[DB], later=list(app[LATER]), auto_approve=app[SETTINGS].auto_approve_confidence)


def render_queue(items: list[dict]) -> str:
    return _LISTS.queue(items)


def render_recent(db) -> str:
    return _LISTS.recent(store.recent_decisions(db, RECENT_DECISIONS))


def render_page(request: web.Request) -> str:
    app = request.app
    items = _queue(app)
    return template("review.html").render(
        token=app[TOKEN], nonce=request[NONCE], items=items, decisions=store.recent_decisions(app[DB], RECENT_DECISIONS),
        bulk_threshold=f"{min(app[SETTINGS].auto_approve_confidence, 0.8):g}")


# --- handlers ---------------------------------------------------------------------------------------------

async def page(request: web.Request) -> web.Response:
    return web.Response(text=render_page(request), content_type="text/html")


async def queue(request: web.Request) -> web.Response:
    items = _queue(request.app)
    return web.json_response({"html": render_queue(items), "recent": render_recent(request.app[DB]),
                              "pending": len(items)})


def _json_error(status: int, message: str, **extra: Any) -> web.Response:
    return web.json_response({"error": message, **extra}, status=status)


async def _body(request: web.Request) -> dict:
    try:
        body = await request.json()
    except RecursionError:
        raise BadRequest("the body is nested too deeply") from None
    except ValueError:
        raise BadRequest("the body is not JSON") from None
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object")
    return body


def _note(body: dict) -> str | None:
    note = body.get("note")
    if note is None or note == "":
        return None
    if not isinstance(note, str):
        raise ValueError("the note must be text")
    return note.strip()[:500] or None


def _keys(body: dict) -> list[Any]:
    """The items a request names: repair ids (12 or "r12") or link ids ("l" + 16 hex digits)."""
    ids = body.get("ids")
    if not isinstance(ids, list) or not ids or len(ids) > 10_000:
        raise ValueError("ids must be a list of repair or link ids")
    for key in ids:
        decisions.parse_key(key)  # a ValueError names the bad one
    return ids


def _named(db, key: Any) -> str:
    ref = decisions.parse_key(key)
    if "repair_id" in ref:
        return f"repair #{ref['repair_id']}"
    rows = store.attention_rows(db, link_id=ref["link_id"])
    return f"“{rows[0]['post_title'] or '(untitled)'}”" if rows else f"link {ref['link_id']}"


async def decide(request: web.Request) -> web.Response:
    db = request.app[DB]
    body = await _body(request)
    action = body.get("action")
    try:
        ids, note = _keys(body), _note(body)
        if action in ("approve", "reject"):
            refs = [decisions.parse_key(k) for k in ids]
            if any("link_id" in r for r in refs):
                return _json_error(400, f"nothing to {action}: a link without a repair has no replacement yet")
            done = decisions.decide(db, [r["repair_id"] for r in refs], action, note=note, origin="review")
            message = f"{'Approved' if action == 'approve' else 'Rejected'} repair " + ", ".join(
                f"#{r['repair_id']}" for r in refs)
        elif action == "not-dead":
            done = decisions.mark_not_dead(db, ids, note=note, origin="review")
            message = ("Marked not dead: " + ", ".join(_named(db, k).replace("repair ", "") for k in ids)
                       + " (the mark holds while the failure stays the same)")
        elif action == "edit":
            return await _edit(request, ids, body, note)
        else:
            return _json_error(400, f"unknown action {action!r}")
    except KeyError as exc:
        return _json_error(404, str(exc.args[0]))
    except ValueError as exc:
        return _json_error(400, str(exc))
    return web.json_response({"ok": True, "message": message, "decisions": [d["id"] for d in done]})


async def _verified(request: web.Request, link: dict, value: str) -> Verified:
    """The checks of a replacement, kept a while: saving right after checking asks nothing again."""
    cache = request.app[VERIFIED]
    key = (link["link_id"], value.strip())
    if key not in cache:
        cache[key] = await _verifier(request.app).verify(link, value)
        while len(cache) > VERIFIED_CACHE:
            cache.popitem(last=False)
    cache.move_to_end(key)
    return cache[key]


async def verify(request: web.Request) -> web.Response:
    body = await _body(request)
    value = body.get("replacement")
    try:
        if not isinstance(value, str):
            raise ValueError("give the replacement URL to check")
        link = decisions.link_for(request.app[DB], body.get("key"))
    except KeyError as exc:
        return _json_error(404, str(exc.args[0]))
    except ValueError as exc:
        return _json_error(400, str(exc))
    # Check always asks again (an archive that failed a moment ago may answer now); Save then uses what was shown.
    request.app[VERIFIED].pop((link["link_id"], value.strip()), None)
    checked = await _verified(request, link, value)
    answer = dict(checked.as_json(), key=body.get("key"))
    if checked.page:
        match = decisions.match_excerpt(post_text(link), checked.page)
        answer["compare"] = {"post_html": match["post_html"], "capture_html": match["capture_html"]}
    return web.json_response(answer)


async def _edit(request: web.Request, ids: list, body: dict, note: str | None) -> web.Response:
    db = request.app[DB]
    if len(ids) != 1 or not isinstance(body.get("replacement"), str):
        return _json_error(400, "edit takes one repair or link id and a replacement URL")
    link = decisions.link_for(db, ids[0])
    checked = await _verified(request, link, body["replacement"])
    approve = bool(body.get("approve"))
    try:
        done = decisions.save_edit(db, link, checked, approve=approve, note=note, anyway=bool(body.get("anyway")),
                                   origin="review")
    except decisions.EditRefused as exc:
        return _json_error(422, str(exc), check=checked.as_json())
    request.app[VERIFIED].pop((link["link_id"], body["replacement"].strip()), None)
    request.app[LATER].pop(f"l{link['link_id']}", None)
    what = f"repair #{link['repair_id']}" if link["repair_id"] is not None else f"“{link['post_title'] or '(untitled)'}”"
    saved = "Saved and approved" if approve else "Saved"
    anyway = " (although a check failed: your note is kept with it)" if not checked.ok else ""
    return web.json_response({"ok": True, "message": f"{saved} the replacement of {what}: {checked.replacement}{anyway}",
                              "decisions": [d["id"] for d in done]})


async def bulk_approve(request: web.Request) -> web.Response:
    body = await _body(request)
    value, expect, among = body.get("min_confidence"), body.get("expect"), body.get("ids")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return _json_error(400, "min_confidence must be a number between 0 and 1")
    if expect is not None and (isinstance(expect, bool) or not isinstance(expect, int)):
        return _json_error(400, "expect must be the number of repairs confirmed")
    try:
        if among is not None:
            among = [decisions.parse_key(k).get("repair_id") for k in _keys(body)]
            among = [i for i in among if i is not None]
        done = decisions.bulk_approve(request.app[DB], float(value), note=_note(body), origin="review",
                                      among=among, expect=expect)
    except decisions.CountChanged as exc:
        return _json_error(409, str(exc))
    except ValueError as exc:
        return _json_error(400, str(exc))
    if not done:
        return web.json_response({"ok": True, "message": f"No waiting repair has confidence ≥ {value:g}", "decisions": []})
    return web.json_response({"ok": True, "message": f"Approved {len(done)} repairs with confidence ≥ {value:g} "
                              "(one undo reverts them all)", "decisions": [d["id"] for d in done]})


async def later(request: web.Request) -> web.Response:
    """Put an item off: it goes to the end of the queue (for as long as this server runs)."""
    body = await _body(request)
    key = body.get("key")
    try:
        ref = decisions.parse_key(key)
    except ValueError as exc:
        return _json_error(400, str(exc))
    key = f"r{ref['repair_id']}" if "repair_id" in ref else f"l{ref['link_id']}"
    put_off = request.app[LATER]
    put_off.pop(key, None)
    put_off[key] = True
    return web.json_response({"ok": True, "message": f"Put off {_named(request.app[DB], key)}: it is now at the end "
                                                     "of the queue", "decisions": []})


async def undo(request: web.Request) -> web.Response:
    await _body(request)
    try:
        undone = decisions.undo(request.app[DB])
    except store.UndoConflict as exc:
        return _json_error(409, str(exc))
    if not undone:
        return web.json_response({"ok": True, "message": "Nothing to undo", "decisions": []})
    kinds = ", ".join(f"{d['action']} #{d['repair_id']}" if d["repair_id"] is not None else f"{d['action']} of link {d['link_id']}"
                      for d in reversed(undone))
    return web.json_response({"ok": True, "message": f"Undone: {kinds}", "decisions": [d["id"] for d in undone]})


async def compare(request: web.Request) -> web.Response:
    """The post's reproduced text beside the capture's, with their shared runs of words marked. The capture
    is read through the archive client (rate-limited, cached here), only for Wayback Machine replacements."""
    db = request.app[DB]
    try:
        repair_id = decisions.repair_id_of(request.match_info["id"])
    except ValueError:
        return _json_error(404, "no such repair")
    row = db.execute("""SELECT r.replacement, p.content, p.lead_text FROM repairs r JOIN posts p ON p.id = r.post_id
                        WHERE r.id = ?""", [repair_id]).fetchone()
    if row is None:
        return _json_error(404, f"no repair with id {repair_id}")
    replacement, content, lead = row
    text = post_text({"lead_text": lead, "content": content})
    try:
        target = decisions.validate_replacement(replacement or "")
    except decisions.ReplacementError:
        target = None
    if target is None or target.capture_timestamp is None:
        return web.json_response({"post_html": escape(text[:2400]),
                                  "capture_html": _muted("The replacement is not a Wayback Machine capture: open it "
                                                         "to compare.")})
    cache = request.app[CACHE]
    key = target.url
    if key not in cache:
        cache[key] = await _capture_text(request.app, target)
        while len(cache) > CAPTURE_CACHE:
            cache.popitem(last=False)
    cache.move_to_end(key)
    capture, error = cache[key]
    if error:
        return web.json_response({"post_html": escape(text[:2400]),
                                  "capture_html": _muted(f"Could not read the capture: {error}")})
    match = decisions.match_excerpt(text, capture)
    return web.json_response({"post_html": match["post_html"], "capture_html": match["capture_html"] or
                              _muted("The capture has no text."), "shared": match["shared_share"]})


def _muted(text: str) -> str:
    return Markup("<span class='muted'>{}</span>").format(text)


def _verifier(app: web.Application) -> Verifier:
    """The archive client and the probing session, made on first use in the server's own event loop."""
    holder = app[CLIENT]
    if "verifier" not in holder:
        holder["session"] = make_session(app[SETTINGS])
        # A link in a post, or a URL a curator types, is probed as `check` does: no archive allowance.
        holder["probe_session"] = make_session(app[SETTINGS], trust_archive=False)
        holder["verifier"] = Verifier(app[DB], app[SETTINGS], archive_session=holder["session"],
                                      probe_session=holder["probe_session"])
    return holder["verifier"]


async def _capture_text(app: web.Application, target: decisions.Replacement) -> tuple[str, str | None]:
    original = target.url.split("/", 5)[5]
    try:
        memento = await _verifier(app).client.get_memento(original, target.capture_timestamp, raw=True)
    except (ArchiveError, aiohttp.ClientError, OSError, TimeoutError) as exc:
        # The curator can still open the capture; the page must not fail because the archive did.
        return "", f"{type(exc).__name__}: {exc}"
    return page_text(memento.body or b""), None


# --- the app ----------------------------------------------------------------------------------------------

def create_app(db_path: str | Path, settings: Settings, *, bind_host: str = DEFAULT_HOST,
               token: str | None = None) -> web.Application:
    app = web.Application(middlewares=[guard], client_max_size=MAX_BODY)
    app[SETTINGS] = settings
    app[TOKEN] = token or secrets.token_urlsafe(32)
    app[BIND_HOST] = bind_host
    app[CACHE] = OrderedDict()
    app[VERIFIED] = OrderedDict()
    app[LATER] = OrderedDict()
    app[CLIENT] = {}

    async def open_db(app: web.Application) -> None:
        # Opened in the server's own thread: a sqlite connection stays in the thread that made it.
        app[DB] = store.open_db(db_path)

    async def close(app: web.Application) -> None:
        for name in ("session", "probe_session"):
            session = app[CLIENT].get(name)
            if session is not None:
                await session.close()
        app[DB].conn.close()

    app.on_startup.append(open_db)
    app.on_cleanup.append(close)
    app.router.add_get("/", page)
    app.router.add_get("/queue", queue)
    app.router.add_get("/compare/{id}", compare)
    app.router.add_post("/verify", verify)
    app.router.add_post("/decide", decide)
    app.router.add_post("/bulk-approve", bulk_approve)
    app.router.add_post("/later", later)
    app.router.add_post("/undo", undo)
    return app


def serve(db_path: str | Path, settings: Settings, *, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT,
          print_fn: Callable[[str], None] = print) -> None:
    app = create_app(db_path, settings, bind_host=host)
    shown = f"[{host}]" if ":" in host else host
    print_fn(f"review: http://{shown}:{port}/ (Ctrl+C to stop)")
    web.run_app(app, host=host, port=port, access_log=None, print=None)
