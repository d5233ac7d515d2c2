"""Grading: what a user got from the product (report.json, the repairs and their states, the patched export's
hrefs) against the world's truth.

Owned here: the truth per link (`truth`), the metrics (`grade`) and their printout (`render`). Definitions:

- dead recall: links truly dead (404/410, soft 404s of every kind, drifted, unreachable, parked) whose verdict
  is one the product repairs (`dead`, `soft-404`, and `drifted`, which it repairs from a capture before the
  change) over all truly dead checked links.
- false dead: live links (alive, slow, flaky, rate-limited, moved, paywalled, bot-walled) given one of those
  verdicts (a live link called `drifted` would be replaced too, so it counts as wrongly dead).
- replacement accuracy: dead Original Article links the archive can repair (a capture holding the text the
  post copied exists) whose proposed or approved capture is the expected one: the good capture nearest the
  post's date or nearest the article's date.
- nullified precision / recall: a recovery is right when its URL is the one the blogger linked (scheme- and
  www-insensitive, or where that URL lives today); when the outlet published the article under two URLs the
  right answer is a proposal for a person (never an automatic approval) listing the linked URL among its
  candidates. Recall is over the recoverable links (captured, not excluded).
- wrong automatic approvals: hrefs the patched export changed (no person approved anything) that do not lead
  to the article the post reproduces, or lead to a sibling URL the blogger did not use, or that were
  approved for an article published under two URLs at all (the right answer there is "a person decides",
  so an automatic approval is wrong even when it picked the blogger's URL by chance; counted apart too).
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field

from . import outlets as O
from .surt import surt
from .timeutil import parse_ts, to_utc
from .world import World

ATOM = "{http://www.w3.org/2005/Atom}"
# The verdicts the product repairs (its README: `repair` looks for a copy of dead, soft-404 and drifted links).
DEAD_VERDICTS = {"dead", "soft-404", "drifted"}
ARCHIVE_URL = re.compile(r"^https?://[^/]+/web/(\d{14})(?:[a-z]{2}_)?/(.+)$")
UNDATED_SHAPES = {"globe_article", "star_article", "bbc_news", "bbc_stm", "cbc_new", "ctvnews", "google_cp",
                  "themark", "macleans_new", "huff_blog", "macleans_author", "ipolitics_column"}
QUERY_SHAPES = {"citizen_query", "vansun_query", "gazette_query", "canadacom_query", "np_query"}


@dataclass
class LinkTruth:
    post_id: str
    role: str  # original | outbound
    url: str  # the URL the blogger linked
    fate: str
    dead: bool
    post_date: str
    article_date: str
    outlet: str
    shape: str
    nullified: str = ""
    alt_urls: list[str] = field(default_factory=list)
    today_url: str = ""  # where the article lives today (moved)
    good: list[str] = field(default_factory=list)  # captures replaying the version the post copied
    other_version: list[str] = field(default_factory=list)
    expected: list[str] = field(default_factory=list)  # nearest good capture to the post / to the article
    recoverable: bool = False
    excluded: bool = False
    late_days: float = 0.0


def page_key(url_or_key: str) -> str:
    """The SURT key without a feed's tracking arguments (`?cmp=rss`, `cmpid=`, `utm_*`): the same page."""
    key = url_or_key if ")" in url_or_key.split("/")[0] else surt(url_or_key)
    base, sep, query = key.partition("?")
    if not sep:
        return key
    kept = [a for a in query.split("&") if not re.match(r"(cmp|cmpid|utm_[a-z]+)=", a)]
    return base + ("?" + "&".join(kept) if kept else "")


def truth(world: World) -> dict[tuple[str, str, str], LinkTruth]:
    """(post id, role, url-as-linked) -> truth; nullified originals are keyed with url ''."""
    by_page: dict[str, list] = defaultdict(list)
    for c in world.captures:
        # A capture the archive lists but cannot replay (it sends to a neighbouring capture) repairs nothing:
        # a link to it opens another capture, so it is neither a good capture nor a wrong version.
        if c.kind in ("article", "revisit") and not c.unplayable:
            by_page[page_key(c.key)].append(c)
    out: dict[tuple[str, str, str], LinkTruth] = {}
    for p in world.posts:
        a = world.articles[p.aid]
        outlet = O.BY_KEY[a.outlet]
        good, other = [], []
        today = a.target if a.fate in ("moved", "moved_chain") and a.target else ""
        pages_of = by_page.get(page_key(p.linked_url), []) + (by_page.get(page_key(today), []) if today else [])
        for c in pages_of:
            if c.content.startswith(f"article:{a.aid}:"):
                (good if c.content.endswith(f":{p.version}") else other).append(c.ts)
        good = sorted(set(good))
        expected = []
        if good:
            post_utc, art_utc = to_utc(p.local), a.utc
            expected = sorted({min(good, key=lambda t: abs((parse_ts(t) - post_utc).total_seconds())),
                               min(good, key=lambda t: abs((parse_ts(t) - art_utc).total_seconds()))})
        t = LinkTruth(p.pid, "original", p.linked_url, a.fate, a.fate in O.DEAD_FATES, p.local.isoformat(),
                      a.local.isoformat(), a.outlet, a.shape, p.nullified,
                      [u for u in (a.url,) + a.alt_urls if u != p.linked_url], today, good, sorted(set(other)),
                      expected, bool(good) and not outlet.excluded, outlet.excluded,
                      (p.local - a.local).total_seconds() / 86400)
        out[(p.pid, "original", "" if p.nullified else p.linked_url)] = t
        for ob in p.outbound:
            shape = world.articles[ob.aid].shape if ob.aid >= 0 else ob.kind
            out[(p.pid, "outbound", ob.url)] = LinkTruth(p.pid, "outbound", ob.url, ob.fate, ob.fate in O.DEAD_FATES,
                                                         p.local.isoformat(), "", ob.kind, shape)
    return out


# --- reading what the user got ------------------------------------------------------------------------------

def export_hrefs(path: str) -> dict[str, list[str | None]]:
    """post id -> the href of each <a> in its content, in order (None: the anchor has no href)."""
    out: dict[str, list[str | None]] = {}
    for _, el in ET.iterparse(path):
        if el.tag != ATOM + "entry":
            continue
        kinds = [c.get("term", "") for c in el.findall(ATOM + "category")]
        if not any(k.endswith("kind#post") for k in kinds):
            el.clear()
            continue
        pid = el.findtext(ATOM + "id") or ""
        content = el.findtext(ATOM + "content") or ""
        hrefs: list[str | None] = []
        for tag in re.findall(r"<a\b[^>]*>", content):
            m = re.search(r'href\s*=\s*"([^"]*)"', tag) or re.search(r"href\s*=\s*'([^']*)'", tag)
            hrefs.append(_unescape(m.group(1)) if m else None)
        out[pid] = hrefs
        el.clear()
    return out


def _unescape(value: str) -> str:
    return value.replace("&quot;", '"').replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _same_page(a: str, b: str) -> bool:
    try:
        return page_key(a) == page_key(b)
    except ValueError:
        return False


def _judge_href(href: str, t: LinkTruth) -> tuple[bool, str]:
    """Does `href` lead to the article the post reproduces, at the URL the blogger used?"""
    m = ARCHIVE_URL.match(href)
    if m:
        ts, original = m.group(1), m.group(2)
        if not (_same_page(original, t.url) or (t.today_url and _same_page(original, t.today_url))):
            if any(_same_page(original, u) for u in t.alt_urls):
                return False, "sibling URL"
            return False, "another page"
        if ts in t.good:
            return True, "exact capture" if ts in t.expected else "good capture"
        if ts in t.other_version:
            return True, "other version"
        return False, "bad capture"
    if _same_page(href, t.url) or (t.today_url and _same_page(href, t.today_url)):
        return (not t.dead), "live URL" if not t.dead else "live URL that is dead"
    if any(_same_page(href, u) for u in t.alt_urls):
        return False, "sibling URL"
    return False, "another page"


@dataclass
class Result:
    metrics: dict
    breakdown: dict
    nullified: dict
    replacements: dict
    approvals: dict
    archive: dict
    lists: dict


def grade(world: World, report_path: str, export_in: str, export_out: str, archive_stats: dict) -> Result:
    truths = truth(world)
    report = json.load(open(report_path, encoding="utf-8"))
    got: dict[tuple[str, str, str], dict] = {}
    for entry in report["links"]:
        role = entry["link"]["role"]
        pid = entry["post"]["id"]
        url = entry["link"]["url"] or ""
        key = (pid, role, url)
        if role == "original" and entry["verdict"] == "nullified":
            key = (pid, role, "")
        got[key] = entry

    # checking -----------------------------------------------------------------------------------------
    fate_rows: dict[tuple[str, str], Counter] = defaultdict(Counter)
    dead_n = dead_hit = live_n = false_dead = missing = 0
    false_dead_list = []
    for key, t in truths.items():
        if t.nullified:
            continue
        entry = got.get(key)
        verdict = entry["verdict"] if entry else "missing from report"
        if entry is None:
            missing += 1
        fate_rows[(t.role, t.fate)][verdict] += 1
        if t.dead:
            dead_n += 1
            dead_hit += verdict in DEAD_VERDICTS
        else:
            live_n += 1
            if verdict in DEAD_VERDICTS:
                false_dead += 1
                false_dead_list.append({"url": t.url, "fate": t.fate, "verdict": verdict,
                                        "reason": (entry or {}).get("evidence", {}).get("reason")})

    # replacements for dead Original Article links -----------------------------------------------------
    repl = Counter()
    repl_by_fate: dict[str, Counter] = defaultdict(Counter)
    for key, t in truths.items():
        if t.nullified or t.role != "original" or not t.dead:
            continue
        repairable = bool(t.good) and not t.excluded
        entry = got.get(key) or {}
        rep = entry.get("repair") or {}
        replacement = rep.get("replacement") if rep.get("state") in ("approved", "proposed") else None
        if not repairable:
            why = ("excluded site" if t.excluded else "only another version captured" if t.other_version
                   else "no capture of the article")
            outcome = f"not repairable ({why})"
            if replacement:
                outcome += f", proposed anyway: {rep.get('state')} {_judge_href(replacement, t)[1]}"
        elif entry.get("verdict") not in DEAD_VERDICTS:
            outcome = f"not repaired: verdict {entry.get('verdict')}"
        elif not replacement:
            outcome = f"no replacement ({rep.get('state') or 'no repair'})"
        else:
            ok, why = _judge_href(replacement, t)
            outcome = why
        repl[outcome] += 1
        repl_by_fate[t.fate][outcome] += 1
    repairable_n = sum(v for k, v in repl.items() if not k.startswith("not repairable"))

    # nullified recovery -------------------------------------------------------------------------------
    null = Counter()
    null_rows: dict[str, Counter] = defaultdict(Counter)
    made = right = recoverable = 0
    for key, t in truths.items():
        if not t.nullified:
            continue
        entry = got.get(key) or {}
        rep = entry.get("repair") or {}
        state = rep.get("state")
        replacement = rep.get("replacement") if state in ("approved", "proposed") else None
        ambiguous = bool(t.alt_urls)
        cands = _candidate_urls(rep)
        if t.recoverable:
            recoverable += 1
        if replacement:
            made += 1
            ok, why = _judge_href(replacement, t)
            if ambiguous:
                listed = any(_same_page(u, t.url) for u in cands) or (ok and why != "sibling URL")
                ok = state == "proposed" and listed
                why = "proposed, linked URL listed" if ok else (
                    "approved automatically" if state == "approved" else "proposed, linked URL not listed")
            right += ok
            outcome = f"{state}: {'right' if ok else 'wrong'} ({why})"
        else:
            outcome = f"{state or 'no repair'}" + (" (recoverable)" if t.recoverable else " (not recoverable)")
        null[outcome] += 1
        null_rows[_null_category(t)][("right" if replacement and outcome.split(": ")[1].startswith("right") else
                                      "wrong" if replacement else "missed" if t.recoverable else "none, correctly")] += 1

    # the patched export -------------------------------------------------------------------------------
    before = export_hrefs(export_in)
    after = export_hrefs(export_out)
    by_post: dict[str, list[LinkTruth]] = defaultdict(list)
    for t in truths.values():
        by_post[t.post_id].append(t)
    changed = wrong = ambiguous_auto = needless = 0
    wrong_list = []
    for pid, hrefs in after.items():
        old = before.get(pid, [])
        for i, (h0, h1) in enumerate(zip(old, hrefs)):
            if h0 == h1:
                continue
            changed += 1
            t = _which_link(by_post[pid], h0, i, old)
            if t is None:
                wrong += 1
                wrong_list.append({"post": pid, "old": h0, "new": h1, "why": "not a link of the truth"})
                continue
            ok, why = _judge_href(h1 or "", t)
            if t.alt_urls and t.nullified:
                # two URLs of one article: only a person can tell which the blogger used
                ambiguous_auto += 1
                if ok:
                    ok, why = False, "approved without a person (two URLs; the right one, by chance)"
            if not t.dead and not t.nullified:
                needless += 1
            if not ok:
                wrong += 1
                wrong_list.append({"post": pid, "old": h0, "new": h1, "linked": t.url, "fate": t.fate,
                                   "why": why, "nullified": t.nullified})

    requests = archive_stats.get("requests", {})
    total_requests = sum(v for k, v in requests.items())
    metrics = {
        "dead_recall": _ratio(dead_hit, dead_n), "dead_links": dead_n, "dead_found": dead_hit,
        "false_dead": false_dead, "live_links": live_n, "false_dead_rate": _ratio(false_dead, live_n),
        "replacement_accuracy": _ratio(repl.get("exact capture", 0), repairable_n),
        "replacements_exact": repl.get("exact capture", 0), "repairable_dead_originals": repairable_n,
        "nullified_precision": _ratio(right, made), "nullified_recall": _ratio(right, recoverable),
        "nullified_right": right, "nullified_made": made, "nullified_recoverable": recoverable,
        "hrefs_changed": changed, "wrong_automatic_approvals": wrong,
        "automatic_approvals_where_a_person_should_decide": ambiguous_auto,
        "live_links_replaced": needless,
        "archive_requests": total_requests,
        "archive_requests_per_applied_repair": round(total_requests / changed, 2) if changed else None,
        "archive_429s": sum(archive_stats.get("sent_429", {}).values()),
        "links_missing_from_report": missing,
    }
    return Result(metrics, {f"{r}/{f}": dict(c) for (r, f), c in sorted(fate_rows.items())},
                  {"outcomes": dict(null), "by_category": {k: dict(v) for k, v in sorted(null_rows.items())}},
                  {"outcomes": dict(repl), "by_fate": {k: dict(v) for k, v in sorted(repl_by_fate.items())}},
                  {"changed": changed, "wrong": wrong_list}, archive_stats,
                  {"false_dead": false_dead_list})


def _candidate_urls(rep: dict) -> list[str]:
    urls = []
    ev = rep.get("evidence") or {}
    for c in ev.get("candidates") or []:
        for k in ("url", "original"):
            if isinstance(c, dict) and c.get(k):
                urls.append(c[k])
    if rep.get("replacement"):
        m = ARCHIVE_URL.match(rep["replacement"])
        urls.append(m.group(2) if m else rep["replacement"])
    return urls


def _which_link(links: list[LinkTruth], old_href: str | None, index: int, old_hrefs: list) -> LinkTruth | None:
    for t in links:
        if t.role == "outbound" and old_href == t.url:
            return t
    originals = [t for t in links if t.role == "original"]
    if originals and (old_href is None or old_href == originals[0].url or originals[0].nullified):
        # the Original Article anchor is the last one the generator writes
        if index == len(old_hrefs) - 1:
            return originals[0]
    return None


def _null_category(t: LinkTruth) -> str:
    if t.excluded:
        return "excluded site"
    if t.alt_urls:
        return "two URLs (a person decides)" + ("" if t.recoverable else ", linked one never archived")
    if not t.recoverable:
        return "never archived"
    if t.late_days > 300:
        return "posted years late"
    if t.late_days > 7:
        return "posted 8-60 days late"
    if t.shape in QUERY_SHAPES:
        return "query-string id"
    if t.shape in UNDATED_SHAPES:
        return "undated path (id)"
    return "dated path, on time"


def _ratio(a: int, b: int) -> float | None:
    return round(a / b, 4) if b else None


def render(r: Result) -> str:
    m = r.metrics
    pct = lambda v: "n/a" if v is None else f"{100 * v:.1f}%"  # noqa: E731
    lines = [
        "== linkkeeper on an independent world ==",
        f"dead recall               {pct(m['dead_recall'])}  ({m['dead_found']} of {m['dead_links']} truly dead links called dead, soft-404 or drifted)",
        f"false dead                {m['false_dead']} of {m['live_links']} live links ({pct(m['false_dead_rate'])})",
        f"replacement accuracy      {pct(m['replacement_accuracy'])}  ({m['replacements_exact']} of {m['repairable_dead_originals']} repairable dead Original Article links got the expected capture)",
        f"nullified precision       {pct(m['nullified_precision'])}  ({m['nullified_right']} right of {m['nullified_made']} recoveries proposed or approved)",
        f"nullified recall          {pct(m['nullified_recall'])}  ({m['nullified_right']} of {m['nullified_recoverable']} recoverable)",
        f"wrong automatic approvals {m['wrong_automatic_approvals']}  (of {m['hrefs_changed']} hrefs changed in the export; "
        f"{m['automatic_approvals_where_a_person_should_decide']} of them approved where a person should decide; "
        f"{m['live_links_replaced']} live links replaced)",
        f"archive requests          {m['archive_requests']} ({_fmt_counts(r.archive.get('requests', {}))}); "
        f"per applied repair {m['archive_requests_per_applied_repair']}",
        f"archive 429s              {m['archive_429s']} sent ({_fmt_counts(r.archive.get('sent_429', {}))}); "
        f"ignored {sum(r.archive.get('ignored_429', {}).values())}; firewalled requests {r.archive.get('firewalled_requests', 0)}",
        "",
        "-- verdicts per true fate (role/fate: verdict counts); * = has misses --",
    ]
    for row, counts in r.breakdown.items():
        role, fate = row.split("/", 1)
        dead = fate in O.DEAD_FATES
        miss = sum(v for k, v in counts.items() if (k not in DEAD_VERDICTS) == dead)
        flag = "*" if miss else " "
        lines.append(f"{flag} {role:9s} {fate:22s} {'dead' if dead else 'live'}  n={sum(counts.values()):4d}  "
                     + ", ".join(f"{k} {v}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1])))
    lines += ["", "-- dead Original Article links: replacement outcomes by fate --"]
    for fate, counts in r.replacements["by_fate"].items():
        lines.append(f"  {fate:22s} " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1])))
    lines += ["", "-- nullified links: outcomes --"]
    for k, v in sorted(r.nullified["outcomes"].items(), key=lambda kv: -kv[1]):
        lines.append(f"  {v:4d}  {k}")
    lines += ["", "-- nullified links by kind: right / wrong / missed / none, correctly --"]
    for k, v in r.nullified["by_category"].items():
        lines.append(f"  {k:30s} " + ", ".join(f"{a} {b}" for a, b in sorted(v.items())))
    if r.approvals["wrong"]:
        lines += ["", "-- wrong hrefs in the patched export --"]
        for w in r.approvals["wrong"][:40]:
            lines.append(f"  {w.get('why')}: {w.get('linked') or w.get('old')} -> {w.get('new')} ({w.get('fate', '')})")
    if r.lists["false_dead"]:
        lines += ["", "-- live links called dead --"]
        for f in r.lists["false_dead"][:40]:
            lines.append(f"  {f['fate']}: {f['url']} -> {f['verdict']} ({f['reason']})")
    return "\n".join(lines)


def _fmt_counts(counts: dict) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "none"


def as_json(r: Result) -> dict:
    return asdict(r)
