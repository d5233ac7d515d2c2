"""`linkkeeper review`: a local web page where the curator works through the proposed repairs, highest impact
first (curator.impact), sees what the post reproduces beside what the capture says, and approves, rejects,
edits, marks "not dead", bulk-approves and undoes. Every decision goes through curator (and so into the
`decisions` table).

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

from aiohttp import web

from linkkeeper import __version__, store
from linkkeeper.desk import decisions as curator
from linkkeeper.desk.report import capture_label, escape, web_link
from linkkeeper.settings import Settings

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


# --- rendering --------------------------------------------------------------------------------------------


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


def render_item(row: dict) -> str:
    from linkkeeper.text.similarity import post_lead_text

    title = row["post_title"] or "(untitled)"
    lead = post_lead_text(row["content"] or "")
    days = int(row["days_failing"])
    failing = f"failing for {days} day{'' if days == 1 else 's'}" if days >= 1 else "failing since today"
    return (
        f"<li class='item' data-id='{escape(row['id'])}' data-replacement='{escape(row['replacement'] or '')}' "
        f"data-confidence='{escape(row['confidence'])}' aria-selected='false'>"
        f"<div class='top'><span class='impact' title='impact = confidence × (1 + min(days failing, 365)/365)'>"
        f"impact {row['impact']:.2f}</span><span class='conf'>confidence {row['confidence'] or 0:.2f}</span>"
        f"<span class='title'>{web_link(row['post_url'], title, 'post', new_tab=True) or escape(title)}</span>"
        f"<span class='meta'>{escape(row['outlet'] or '')} · {escape((row['published'] or '')[:10])} · repair #{escape(row['id'])}</span></div>"
        f"<div class='line'><span class='label'>Dead link</span> {web_link(row['url'], None, 'live', new_tab=True) or escape(row['url'])} "
        f"<span class='meta'>{escape(row['reason'])} · {escape(failing)}</span></div>"
        f"<div class='line'><span class='label'>Proposed</span> "
        f"<span class='replacement'>{web_link(row['replacement'], capture_label(row['capture_timestamp']), 'capture', new_tab=True)}</span> "
        f"<span class='meta'>{escape(_why(row))}</span></div>"
        "<div class='actions'>"
        "<button type='button' data-action='approve'>Approve <kbd>a</kbd></button>"
        "<button type='button' data-action='reject'>Reject <kbd>r</kbd></button>"
        "<button type='button' data-action='edit'>Edit <kbd>e</kbd></button>"
        "<button type='button' data-action='not-dead'>Not dead <kbd>n</kbd></button></div>"
        "<form class='edit' hidden novalidate><label>Replacement URL <input name='replacement' type='url' size='80' "
        f"value='{escape(row['replacement'] or '')}' autocomplete='off'></label>"
        "<button type='submit' name='approve' value='1'>Save and approve</button>"
        "<button type='submit' name='approve' value='0'>Save</button>"
        "<button type='button' data-action='cancel'>Cancel <kbd>Esc</kbd></button>"
        "<div class='error' role='alert'></div></form>"
        "<div class='compare'><section><h3>What the post reproduces</h3>"
        f"<div class='text post-text'>{escape(lead[:2400])}</div></section>"
        "<section><h3>What the capture says</h3><div class='text capture-text'>"
        "<span class='muted'>select to load the capture</span></div></section></div></li>")


def render_queue(rows: list[dict]) -> str:
    if not rows:
        return "<li class='empty'>Nothing waiting for review.</li>"
    return "".join(render_item(r) for r in rows)


def render_recent(db) -> str:
    rows = list(store.decision_rows(db, limit=RECENT_DECISIONS, newest_first=True))
    if not rows:
        return "<li class='muted'>No decisions yet.</li>"
    out = []
    for d in rows:
        undone = " <span class='muted'>(undone)</span>" if d["undone_at"] else ""
        note = f" — {escape(d['note'])}" if d["note"] else ""
        out.append(f"<li data-decision='{escape(d['id'])}'><span class='meta'>{escape(d['decided_at'])}</span> "
                   f"{escape(d['action'])} #{escape(d['repair_id'])} ({escape(d['previous_state'])} → {escape(d['new_state'])}, "
                   f"{escape(d['origin'])}){note}{undone}</li>")
    return "".join(out)


_STYLE = """
*{box-sizing:border-box}body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1d2329;background:#f6f8fa}
header{position:sticky;top:0;z-index:3;background:#fff;border-bottom:1px solid #dde2e6;padding:10px 22px}
h1{font-size:19px;margin:0 8px 0 0;display:inline}h3{font-size:13px;margin:0 0 4px;color:#5b6670}
.bar{display:flex;flex-wrap:wrap;gap:10px;align-items:center;margin-top:6px}
.bar input{padding:4px 6px;border:1px solid #bbc3ca;border-radius:5px;font:inherit}
button{font:inherit;padding:4px 10px;border:1px solid #9aa5ae;border-radius:5px;background:#fff;cursor:pointer}
button:hover{background:#eef2f5}kbd{font:11px ui-monospace,monospace;border:1px solid #c5ccd2;border-radius:3px;padding:0 3px;background:#f6f8fa}
#flash{min-height:1.5em;padding:2px 22px;font-weight:600}#flash.ok{color:#1b5e20}#flash.err{color:#b00020}
main{display:grid;grid-template-columns:minmax(0,1fr) 300px;gap:18px;padding:8px 22px 40px}
ol#queue{list-style:none;margin:0;padding:0}
li.item{background:#fff;border:1px solid #dde2e6;border-radius:8px;padding:10px 12px;margin-bottom:8px}
li.item.selected{border-color:#1565c0;box-shadow:0 0 0 2px #90caf9}
.top{display:flex;flex-wrap:wrap;gap:8px;align-items:baseline}.title{font-weight:600}
.impact{background:#1565c0;color:#fff;border-radius:10px;padding:0 8px;font-size:12px}
.conf{background:#e8eef3;border-radius:10px;padding:0 8px;font-size:12px}
.meta,.muted{color:#5b6670;font-size:12px}.label{display:inline-block;width:5.5em;color:#5b6670;font-size:12px}
.line{margin-top:3px;overflow-wrap:anywhere}.actions{margin-top:6px;display:flex;gap:6px;flex-wrap:wrap}
.compare{display:none;grid-template-columns:1fr 1fr;gap:12px;margin-top:10px}
li.item.selected .compare{display:grid}
.text{background:#fbfcfd;border:1px solid #e3e7ea;border-radius:6px;padding:8px;max-height:22em;overflow:auto;white-space:pre-wrap}
mark{background:#fff2a8}form.edit{margin-top:8px;display:flex;gap:6px;flex-wrap:wrap;align-items:center}
form.edit[hidden]{display:none}form.edit input{min-width:40em;padding:4px 6px;font:12px ui-monospace,monospace}
.error{color:#b00020;width:100%}aside section{background:#fff;border:1px solid #dde2e6;border-radius:8px;padding:10px 12px;margin-bottom:12px}
aside ul{margin:0;padding-left:1.1em}aside li{margin-bottom:4px;font-size:12px}
table.keys td{padding:1px 6px 1px 0;font-size:12px}li.empty{padding:30px;text-align:center;color:#5b6670}
a{color:#0b57a4}
"""

_SCRIPT = r"""
(function(){
var token=document.querySelector('meta[name="csrf-token"]').content;
var queue=document.getElementById('queue'),flashEl=document.getElementById('flash');
var sel=0,loaded={};
function items(){return Array.prototype.slice.call(queue.querySelectorAll('li.item'))}
function current(){return items()[sel]||null}
function flash(msg,err){flashEl.textContent=msg;flashEl.className=err?'err':'ok'}
function select(i){
  var list=items();if(!list.length){sel=0;return}
  sel=Math.max(0,Math.min(i,list.length-1));
  list.forEach(function(el,j){var on=j===sel;el.classList.toggle('selected',on);el.setAttribute('aria-selected',on?'true':'false')});
  var it=list[sel];it.scrollIntoView({block:'nearest'});loadCompare(it);
}
function loadCompare(it){
  var key=it.dataset.id+' '+it.dataset.replacement;if(loaded[key]===it)return;loaded[key]=it;
  var box=it.querySelector('.capture-text');box.innerHTML='<span class="muted">loading the capture…</span>';
  fetch('/compare/'+encodeURIComponent(it.dataset.id),{credentials:'same-origin'}).then(function(r){return r.json()}).then(function(d){
    if(d.post_html){it.querySelector('.post-text').innerHTML=d.post_html}
    box.innerHTML=d.capture_html||'';
  }).catch(function(){box.textContent='could not load the capture'});
}
function post(path,body){
  return fetch(path,{method:'POST',credentials:'same-origin',headers:{'Content-Type':'application/json','X-CSRF-Token':token},
    body:JSON.stringify(body)}).then(function(r){return r.json().catch(function(){return {error:r.statusText}}).then(function(d){
      if(!r.ok)throw new Error(d.error||r.statusText);return d})});
}
function note(){var n=document.getElementById('note');var v=n.value;return v||null}
function refresh(){
  return fetch('/queue',{credentials:'same-origin'}).then(function(r){return r.json()}).then(function(d){
    queue.innerHTML=d.html;document.getElementById('recent').innerHTML=d.recent;
    document.getElementById('pending').textContent=d.pending;loaded={};select(sel);
  });
}
// Requests run one after another, each seeing the queue the previous one left: no keystroke is lost or
// applied to a repair that has already gone. The message shows once the queue is up to date.
var chain=Promise.resolve();
function enqueue(fn){chain=chain.then(fn).catch(function(){});return chain}
function done(d){document.getElementById('note').value='';return refresh().then(function(){flash(d.message,false)})}
function run(path,body){return enqueue(function(){var b=body();if(!b)return;
  return post(path,b).then(done,function(e){flash(e.message,true)})})}
function act(action){run('/decide',function(){var it=current();return it&&{ids:[+it.dataset.id],action:action,note:note()}})}
function openEdit(){var it=current();if(!it)return;var f=it.querySelector('form.edit');f.hidden=false;var i=f.querySelector('input');i.focus();i.select()}
function closeEdit(f){f.hidden=true;f.querySelector('.error').textContent='';queue.focus()}
function undo(){run('/undo',function(){return {}})}
queue.addEventListener('click',function(ev){
  var it=ev.target.closest('li.item');if(!it)return;
  var list=items();var idx=list.indexOf(it);if(idx!==sel)select(idx);
  var b=ev.target.closest('button[data-action]');if(!b)return;
  var a=b.dataset.action;
  if(a==='edit')openEdit();else if(a==='cancel')closeEdit(b.closest('form'));else act(a);
});
queue.addEventListener('submit',function(ev){
  ev.preventDefault();var f=ev.target,it=f.closest('li.item');
  var approve=ev.submitter&&ev.submitter.value==='1';
  var body={ids:[+it.dataset.id],action:'edit',replacement:f.querySelector('input').value,approve:approve,note:note()};
  enqueue(function(){return post('/decide',body).then(function(d){
    if(document.activeElement)document.activeElement.blur();return done(d);
  },function(e){f.querySelector('.error').textContent=e.message;flash(e.message,true)})});
});
document.getElementById('undo').addEventListener('click',undo);
document.getElementById('bulk').addEventListener('submit',function(ev){
  ev.preventDefault();var v=parseFloat(document.getElementById('threshold').value);
  run('/bulk-approve',function(){return {min_confidence:v,note:note()}});
});
document.getElementById('help').addEventListener('click',function(){var k=document.getElementById('keys');k.hidden=!k.hidden});
document.addEventListener('keydown',function(ev){
  var t=ev.target;
  if(ev.key==='Escape'){var f=t.closest&&t.closest('form.edit');if(f){ev.preventDefault();closeEdit(f)}return}
  if(ev.ctrlKey||ev.metaKey||ev.altKey)return;
  if(t.matches&&t.matches('input,textarea,select'))return;
  var k=ev.key;
  if(k==='j'){select(sel+1)}else if(k==='k'){select(sel-1)}
  else if(k==='a'){act('approve')}else if(k==='r'){act('reject')}else if(k==='n'){act('not-dead')}
  else if(k==='e'){openEdit()}else if(k==='u'){undo()}
  else if(k==='?'){var h=document.getElementById('keys');h.hidden=!h.hidden}
  else return;
  ev.preventDefault();
});
select(0);
document.body.setAttribute('data-ready','1');
})();
"""


def render_page(request: web.Request) -> str:
    app = request.app
    db = app[DB]
    rows = curator.review_queue(db)
    nonce = request[NONCE]
    threshold = app[SETTINGS].auto_approve_confidence
    default_bulk = min(threshold, 0.8)
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width,initial-scale=1'>"
        f"<meta name='csrf-token' content='{escape(app[TOKEN])}'><title>linkkeeper review</title>"
        "<link rel='icon' href='data:,'>"
        f"<style nonce='{nonce}'>{_STYLE}</style></head><body>"
        "<header><h1>linkkeeper review</h1><span class='meta'><b id='pending'>"
        f"{len(rows)}</b> repairs waiting · highest impact first</span>"
        "<div class='bar'><button type='button' id='undo'>Undo last <kbd>u</kbd></button>"
        "<form id='bulk'><label>Approve every repair with confidence ≥ "
        f"<input id='threshold' type='number' min='0' max='1' step='0.05' value='{default_bulk:g}'></label> "
        "<button type='submit'>Bulk approve</button></form>"
        "<label>Note for the next decision <input id='note' type='text' size='28' maxlength='500'></label>"
        "<button type='button' id='help'>Shortcuts <kbd>?</kbd></button></div></header>"
        "<div id='flash' role='status' aria-live='polite'></div>"
        "<main><ol id='queue' tabindex='-1' aria-label='Repairs waiting for review'>"
        f"{render_queue(rows)}</ol><aside>"
        "<section id='keys'><h3>Keyboard</h3><table class='keys'>"
        "<tr><td><kbd>j</kbd> / <kbd>k</kbd></td><td>next / previous repair</td></tr>"
        "<tr><td><kbd>a</kbd></td><td>approve</td></tr><tr><td><kbd>r</kbd></td><td>reject</td></tr>"
        "<tr><td><kbd>e</kbd></td><td>edit the replacement</td></tr>"
        "<tr><td><kbd>n</kbd></td><td>the link is not dead</td></tr>"
        "<tr><td><kbd>u</kbd></td><td>undo the last decision</td></tr>"
        "<tr><td><kbd>?</kbd></td><td>show / hide this</td></tr></table></section>"
        "<section><h3>Impact</h3><p class='meta'>confidence × (1 + min(days the link has been failing, 365) / 365): "
        "sure matches for long-broken links first.</p></section>"
        f"<section><h3>Recent decisions</h3><ul id='recent'>{render_recent(db)}</ul></section>"
        f"<p class='meta'>linkkeeper {escape(__version__)}</p></aside></main>"
        f"<script nonce='{nonce}'>{_SCRIPT}</script></body></html>")


# --- handlers ---------------------------------------------------------------------------------------------

async def page(request: web.Request) -> web.Response:
    return web.Response(text=render_page(request), content_type="text/html")


async def queue(request: web.Request) -> web.Response:
    db = request.app[DB]
    rows = curator.review_queue(db)
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
            done = curator.decide(db, ids, action, note=note, origin="review")
            message = f"{'Approved' if action == 'approve' else 'Rejected'} repair " + ", ".join(f"#{i}" for i in ids)
        elif action == "not-dead":
            done = curator.mark_not_dead(db, ids, note=note, origin="review")
            message = "Marked not dead: " + ", ".join(f"#{i}" for i in ids) + " (the mark holds while the failure stays the same)"
        elif action == "edit":
            if len(ids) != 1 or not isinstance(body.get("replacement"), str):
                return _json_error(400, "edit takes one repair id and a replacement URL")
            approve = bool(body.get("approve"))
            done = curator.edit(db, ids[0], body["replacement"], approve=approve, note=note, origin="review")
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
        done = curator.bulk_approve(request.app[DB], float(value), note=_note(body), origin="review")
    except ValueError as exc:
        return _json_error(400, str(exc))
    if not done:
        return web.json_response({"ok": True, "message": f"No waiting repair has confidence ≥ {value:g}", "decisions": []})
    return web.json_response({"ok": True, "message": f"Approved {len(done)} repairs with confidence ≥ {value:g} "
                              "(one undo reverts them all)", "decisions": [d["id"] for d in done]})


async def undo(request: web.Request) -> web.Response:
    await _body(request)
    try:
        undone = curator.undo(request.app[DB])
    except store.UndoConflict as exc:
        return _json_error(409, str(exc))
    if not undone:
        return web.json_response({"ok": True, "message": "Nothing to undo", "decisions": []})
    kinds = ", ".join(f"{d['action']} #{d['repair_id']}" for d in reversed(undone))
    return web.json_response({"ok": True, "message": f"Undone: {kinds}", "decisions": [d["id"] for d in undone]})


async def compare(request: web.Request) -> web.Response:
    """The post's reproduced text beside the capture's, with their shared runs of words marked. The capture
    is read through the archive client (rate-limited, cached here), only for Wayback Machine replacements."""
    from linkkeeper.text.similarity import post_lead_text

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
        target = curator.validate_replacement(replacement or "")
    except curator.ReplacementError:
        target = None
    if target is None or target.capture_timestamp is None:
        return web.json_response({"post_html": escape(post_text[:2400]),
                                  "capture_html": "<span class='muted'>The replacement is not a Wayback Machine "
                                                  "capture: open it to compare.</span>"})
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
                                  "capture_html": f"<span class='muted'>Could not read the capture: {escape(error)}</span>"})
    match = curator.match_excerpt(post_text, text)
    return web.json_response({"post_html": match["post_html"], "capture_html": match["capture_html"] or
                              "<span class='muted'>The capture has no text.</span>", "shared": match["shared_share"]})


async def _capture_text(app: web.Application, target: curator.Replacement) -> tuple[str, str | None]:
    import aiohttp

    from linkkeeper.wayback import ArchiveError, WaybackClient
    from linkkeeper.net.session import make_session
    from linkkeeper.text.similarity import page_text

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
