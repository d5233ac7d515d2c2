"""`linkkeeper review`: a local web page where the curator works through the proposed repairs, highest impact
first (decisions.impact), sees what the post reproduces beside what the capture says, and approves, rejects,
edits, marks "not dead", bulk-approves and undoes. Every decision goes through desk/decisions.py (and so into
the `decisions` table). The page is templates/review.html, autoescaped (desk/pages.py).

Safety: the server binds to loopback unless told otherwise; every request must name this server in its Host
header (an IP address or localhost, with this server's port: a DNS-rebinding page cannot); every POST must
carry the per-server token from the page (X-CSRF-Token), a JSON body, and, when the browser sends them, an
Origin of this server and a same-origin Sec-Fetch-Site. Pages are served with a nonce-based Content Security
Policy, so even a value that escaped escaping could not run.
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
from linkkeeper.desk.report import capture_label
from linkkeeper.net.session import make_session
from linkkeeper.settings import Settings
from linkkeeper.text.similarity import page_text, post_lead_text
from linkkeeper.wayback import ArchiveError, WaybackClient

DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 8765
TOKEN_HEADER = "X-CSRF-Token"
CAPTURE_CACHE = 128
RECENT_DECISIONS = 8

DB = web.AppKey("db", Any)
SETTINGS = web.AppKey("settings", Settings)
TOKEN = web.AppKey("token", str)
BIND_HOST = web.AppKey("bind_host", str)
CACHE = web.AppKey("capture_cache", OrderedDict)
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


def check_post(request: web.Request) -> None:
    origin = request.headers.get("Origin")
    if origin is not None and origin != f"http://{request.headers.get('Host', '')}":
        raise Refused("cross-origin request refused")
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None and site not in ("same-origin", "none"):
        raise Refused("cross-site request refused")
    token = request.headers.get(TOKEN_HEADER, "")
    if not token or not secrets.compare_digest(token.encode(), request.app[TOKEN].encode()):
        raise Refused("missing or wrong CSRF token: reload the review page")
    if request.content_type != "application/json":
        raise Refused("a decision must be sent as JSON")


@web.middleware
async def guard(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]):
    check_host(request)
    if request.method not in ("GET", "HEAD"):
        check_post(request)
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


# --- rendering: the page is templates/review.html, its lists _review_lists.html; here, what they show ------

_LISTS = template("_review_lists.html").module


def _why(row: dict) -> str:
    evidence = row["evidence"] or {}
    bits = []
    if evidence.get("text_similarity") is not None:
        bits.append(f"{evidence['text_similarity']:.0%} of the post's text found in the capture")
    if evidence.get("note"):
        bits.append(evidence["note"])
    if row["distance_days"] is not None:
        days = row["distance_days"]
        bits.append(f"{days:g} day{'' if days == 1 else 's'} from the post's date")
    if evidence.get("memento_error"):
        bits.append(f"capture not read: {evidence['memento_error']}")
    return "; ".join(bits)


def queue_item(row: dict) -> dict:
    """A repair of the review queue (decisions.review_queue), with what _review_lists.html shows of it."""
    days = int(row["days_failing"])
    return dict(row, title=row["post_title"] or "(untitled)", date=(row["published"] or "")[:10],
                lead=post_lead_text(row["content"] or "")[:2400], why=_why(row),
                capture=capture_label(row["capture_timestamp"]),
                failing=f"failing for {days} day{'' if days == 1 else 's'}" if days >= 1 else "failing since today")


def render_queue(rows: list[dict]) -> str:
    return _LISTS.queue([queue_item(r) for r in rows])


def render_recent(db) -> str:
    return _LISTS.recent(_recent_decisions(db))


def _recent_decisions(db) -> list[dict]:
    return list(store.decision_rows(db, limit=RECENT_DECISIONS, newest_first=True))


def render_page(request: web.Request) -> str:
    app = request.app
    rows = decisions.review_queue(app[DB])
    return template("review.html").render(
        token=app[TOKEN], nonce=request[NONCE], items=[queue_item(r) for r in rows],
        decisions=_recent_decisions(app[DB]), bulk_threshold=f"{min(app[SETTINGS].auto_approve_confidence, 0.8):g}")


# --- handlers ---------------------------------------------------------------------------------------------

async def page(request: web.Request) -> web.Response:
    return web.Response(text=render_page(request), content_type="text/html")


async def queue(request: web.Request) -> web.Response:
    db = request.app[DB]
    rows = decisions.review_queue(db)
    return web.json_response({"html": render_queue(rows), "recent": render_recent(db), "pending": len(rows)})


def _json_error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


async def _body(request: web.Request) -> dict:
    try:
        body = await request.json()
    except ValueError:
        raise web.HTTPBadRequest(text=json.dumps({"error": "the body is not JSON"}), content_type="application/json")
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text=json.dumps({"error": "the body must be a JSON object"}),
                                 content_type="application/json")
    return body


def _note(body: dict) -> str | None:
    note = body.get("note")
    if note is None or note == "":
        return None
    if not isinstance(note, str):
        raise ValueError("the note must be text")
    return note.strip()[:500] or None


async def decide(request: web.Request) -> web.Response:
    db = request.app[DB]
    body = await _body(request)
    ids, action = body.get("ids"), body.get("action")
    if not isinstance(ids, list) or not ids or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        return _json_error(400, "ids must be a list of repair ids")
    try:
        note = _note(body)
        if action in ("approve", "reject"):
            done = decisions.decide(db, ids, action, note=note, origin="review")
            message = f"{'Approved' if action == 'approve' else 'Rejected'} repair " + ", ".join(f"#{i}" for i in ids)
        elif action == "not-dead":
            done = decisions.mark_not_dead(db, ids, note=note, origin="review")
            message = "Marked not dead: " + ", ".join(f"#{i}" for i in ids) + " (the mark holds while the failure stays the same)"
        elif action == "edit":
            if len(ids) != 1 or not isinstance(body.get("replacement"), str):
                return _json_error(400, "edit takes one repair id and a replacement URL")
            approve = bool(body.get("approve"))
            done = decisions.edit(db, ids[0], body["replacement"], approve=approve, note=note, origin="review")
            message = f"{'Saved and approved' if approve else 'Saved'} the replacement of repair #{ids[0]}: {done[0]['new_replacement']}"
        else:
            return _json_error(400, f"unknown action {action!r}")
    except KeyError as exc:
        return _json_error(404, str(exc.args[0]))
    except ValueError as exc:
        return _json_error(400, str(exc))
    return web.json_response({"ok": True, "message": message, "decisions": [d["id"] for d in done]})


async def bulk_approve(request: web.Request) -> web.Response:
    body = await _body(request)
    value = body.get("min_confidence")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return _json_error(400, "min_confidence must be a number between 0 and 1")
    try:
        done = decisions.bulk_approve(request.app[DB], float(value), note=_note(body), origin="review")
    except ValueError as exc:
        return _json_error(400, str(exc))
    if not done:
        return web.json_response({"ok": True, "message": f"No waiting repair has confidence ≥ {value:g}", "decisions": []})
    return web.json_response({"ok": True, "message": f"Approved {len(done)} repairs with confidence ≥ {value:g} "
                              "(one undo reverts them all)", "decisions": [d["id"] for d in done]})


async def undo(request: web.Request) -> web.Response:
    await _body(request)
    try:
        undone = decisions.undo(request.app[DB])
    except store.UndoConflict as exc:
        return _json_error(409, str(exc))
    if not undone:
        return web.json_response({"ok": True, "message": "Nothing to undo", "decisions": []})
    kinds = ", ".join(f"{d['action']} #{d['repair_id']}" for d in reversed(undone))
    return web.json_response({"ok": True, "message": f"Undone: {kinds}", "decisions": [d["id"] for d in undone]})


async def compare(request: web.Request) -> web.Response:
    """The post's reproduced text beside the capture's, with their shared runs of words marked. The capture
    is read through the archive client (rate-limited, cached here), only for Wayback Machine replacements."""
    db = request.app[DB]
    try:
        repair_id = int(request.match_info["id"])
    except ValueError:
        return _json_error(404, "no such repair")
    row = db.execute("""SELECT r.replacement, p.content FROM repairs r JOIN posts p ON p.id = r.post_id
                        WHERE r.id = ?""", [repair_id]).fetchone()
    if row is None:
        return _json_error(404, f"no repair with id {repair_id}")
    replacement, content = row
    post_text = post_lead_text(content or "")
    try:
        target = decisions.validate_replacement(replacement or "")
    except decisions.ReplacementError:
        target = None
    if target is None or target.capture_timestamp is None:
        return web.json_response({"post_html": escape(post_text[:2400]),
                                  "capture_html": _muted("The replacement is not a Wayback Machine capture: open it "
                                                         "to compare.")})
    cache = request.app[CACHE]
    key = target.url
    if key not in cache:
        cache[key] = await _capture_text(request.app, target)
        while len(cache) > CAPTURE_CACHE:
            cache.popitem(last=False)
    cache.move_to_end(key)
    text, error = cache[key]
    if error:
        return web.json_response({"post_html": escape(post_text[:2400]),
                                  "capture_html": _muted(f"Could not read the capture: {error}")})
    match = decisions.match_excerpt(post_text, text)
    return web.json_response({"post_html": match["post_html"], "capture_html": match["capture_html"] or
                              _muted("The capture has no text."), "shared": match["shared_share"]})


def _muted(text: str) -> str:
    return Markup("<span class='muted'>{}</span>").format(text)


async def _capture_text(app: web.Application, target: decisions.Replacement) -> tuple[str, str | None]:
    holder = app[CLIENT]
    if "client" not in holder:
        holder["session"] = make_session(app[SETTINGS])
        # A curator is waiting on this: fewer, shorter retries than a batch run (selecting again retries).
        holder["client"] = WaybackClient(holder["session"], app[SETTINGS], max_attempts=2, backoff_initial=0.5)
    original = target.url.split("/", 5)[5]
    try:
        memento = await holder["client"].get_memento(original, target.capture_timestamp, raw=True)
    except (ArchiveError, aiohttp.ClientError, OSError, TimeoutError) as exc:
        # The curator can still open the capture; the page must not fail because the archive did.
        return "", f"{type(exc).__name__}: {exc}"
    return page_text(memento.body or b""), None


# --- the app ----------------------------------------------------------------------------------------------

def create_app(db_path: str | Path, settings: Settings, *, bind_host: str = DEFAULT_HOST,
               token: str | None = None) -> web.Application:
    app = web.Application(middlewares=[guard], client_max_size=64 * 1024)
    app[SETTINGS] = settings
    app[TOKEN] = token or secrets.token_urlsafe(32)
    app[BIND_HOST] = bind_host
    app[CACHE] = OrderedDict()
    app[CLIENT] = {}

    async def open_db(app: web.Application) -> None:
        # Opened in the server's own thread: a sqlite connection stays in the thread that made it.
        app[DB] = store.open_db(db_path)

    async def close(app: web.Application) -> None:
        session = app[CLIENT].get("session")
        if session is not None:
            await session.close()
        app[DB].conn.close()

    app.on_startup.append(open_db)
    app.on_cleanup.append(close)
    app.router.add_get("/", page)
    app.router.add_get("/queue", queue)
    app.router.add_get("/compare/{id}", compare)
    app.router.add_post("/decide", decide)
    app.router.add_post("/bulk-approve", bulk_approve)
    app.router.add_post("/undo", undo)
    return app


def serve(db_path: str | Path, settings: Settings, *, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT,
          print_fn: Callable[[str], None] = print) -> None:
    app = create_app(db_path, settings, bind_host=host)
    shown = f"[{host}]" if ":" in host else host
    print_fn(f"review: http://{shown}:{port}/ (Ctrl+C to stop)")
    web.run_app(app, host=host, port=port, access_log=None, print=None)
