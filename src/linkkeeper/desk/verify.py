"""Verifying a replacement the curator gives (the review page's paste field, `linkkeeper edit`), before it
is saved, with the repair stage's own tools: no second verifier.

- A Wayback Machine link must be a capture of the dead link's URL, or of a URL that URL redirects to (as the
  checker followed it, or as the archive captured the redirect); for a nullified link, of whatever URL the
  curator gives. The capture must exist (asked through the archive client and its cache, so a capture
  looked at once costs nothing more), is fetched raw and judged by repair/capture's verify_capture against
  the post's text, exactly as a capture the repair stage found.
- A live URL is probed as `check` probes (check/probe.py) and must still hold the post's text (the drift
  test); a permanent redirect is followed to its target, which is what would be saved.
- For a nullified link, a pasted live URL is the article's URL: it is probed, and its capture nearest the
  post is looked up and verified (repair/capture's SnapshotFinder); the live page is saved where it still
  holds the post's text, else the capture (the recovery's rule).

The result lists every check in plain words with its outcome; `ok` only when none failed. A failing edit
can still be saved with a note (desk/decisions.save_edit); a value that is no usable URL at all cannot.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from linkkeeper.check.pagetests import MIN_WORDS, drift_reason
from linkkeeper.check.probe import probe
from linkkeeper.desk.decisions import Replacement, ReplacementError, validate_replacement
from linkkeeper.desk.explain import capture_label, distance_words
from linkkeeper.repair.capture import LookupCache, SnapshotFinder, Want, target_date, verify_capture
from linkkeeper.repair.capture.verification import TEXT_CAP
from linkkeeper.repair.proposals import score
from linkkeeper.settings import Settings
from linkkeeper.text.dates import now_iso, to_iso
from linkkeeper.text.similarity import containment, post_lead_text
from linkkeeper.wayback import (ArchiveError, WaybackClient, is_wayback_url, parse_archive_location, public_archive_url,
                                surt_key, timestamp_to_datetime)

# Captured redirects followed from the dead link's URL when a capture is of another URL.
REDIRECT_HOPS = 3


@dataclass
class Line:
    """One thing checked: passed (True), failed (False), or only said (None)."""

    ok: bool | None
    text: str


@dataclass
class Verified:
    """What the checks of one replacement found, and what saving it would store."""

    value: str
    lines: list[Line] = field(default_factory=list)
    replacement: str | None = None
    capture_timestamp: str | None = None
    saveable: bool = True  # False: not a usable URL at all; no note can save it
    fields: dict[str, Any] = field(default_factory=dict)  # what the repair keeps beside the replacement
    page: str = ""  # the text of the capture or page checked, for the curator to compare (never stored)

    @property
    def ok(self) -> bool:
        return self.saveable and self.replacement is not None and not any(line.ok is False for line in self.lines)

    @property
    def reason(self) -> str | None:
        """The first failed check, in words."""
        return next((line.text for line in self.lines if line.ok is False), None)

    def fail(self, text: str) -> "Verified":
        self.lines.append(Line(False, text))
        return self

    def as_json(self) -> dict:
        return {"ok": self.ok, "saveable": self.saveable, "replacement": self.replacement,
                "label": capture_label(self.capture_timestamp) if self.replacement else "",
                "reason": self.reason, "lines": [{"ok": line.ok, "text": line.text} for line in self.lines]}

    def evidence(self, note: str | None) -> dict:
        """The repair's evidence for this replacement: what it was checked against, and the checks."""
        return dict(self.fields.get("evidence") or {}, curator_edit={
            "value": self.value, "checked_at": now_iso(), "ok": self.ok, "reason": self.reason, "note": note,
            "checks": [{"ok": line.ok, "text": line.text} for line in self.lines]})


def post_text(link: dict) -> str:
    return link.get("lead_text") or post_lead_text(link.get("content") or "")


def dead_url(link: dict) -> str | None:
    """The URL of the page the link pointed at (None for a nullified link: the curator gives it); for a link to
    a capture that no longer plays, the page it captured."""
    if link.get("nullified_reason"):
        return None
    url = link.get("repair_url") or link.get("url")
    located = parse_archive_location(url) if url and is_wayback_url(url) else None
    return located[2] if located else url


class Verifier:
    """Checks replacements for links (store.attention_rows rows) through one archive client and one probing
    session; every archive answer goes through the repair stage's cache (`archive_lookups`)."""

    def __init__(self, db, settings: Settings, *, archive_session: aiohttp.ClientSession,
                 probe_session: aiohttp.ClientSession, client: WaybackClient | None = None) -> None:
        self.settings = settings
        # A curator is waiting: fewer, shorter retries than a batch run (checking again retries).
        self.client = client or WaybackClient(archive_session, settings, max_attempts=2, backoff_initial=0.5)
        self.finder = SnapshotFinder(self.client, settings, LookupCache(db, settings.archive_negative_ttl_days))
        self.probe_session = probe_session

    async def verify(self, link: dict, value: str) -> Verified:
        result = Verified(value=(value or "").strip())
        try:
            replacement = validate_replacement(result.value, dead_url(link))
        except ReplacementError as exc:
            result.saveable = False
            return result.fail(str(exc))
        if replacement.capture_timestamp is not None:
            await self._capture(link, replacement, result)
        elif link.get("nullified_reason"):
            await self._article(link, replacement.url, result)
        else:
            await self._live(link, replacement.url, result)
        return result

    # --- a Wayback Machine link ---------------------------------------------------------------------

    async def _capture(self, link: dict, replacement: Replacement, result: Verified) -> None:
        original = replacement.url.split("/", 5)[5]
        result.replacement, result.capture_timestamp = replacement.url, replacement.capture_timestamp
        try:
            view = await self.finder.lookups.memento(original, replacement.capture_timestamp)
        except (ArchiveError, aiohttp.ClientError, OSError, TimeoutError) as exc:
            result.lines.append(self._whose_known(link, original) or self._not_its_page(link, original))
            result.fail(f"could not ask the Wayback Machine ({type(exc).__name__}: {exc}); try again later")
            return
        if view.get("error"):
            missing = {"no-memento": f"the Wayback Machine has no capture of {original}",
                       "excluded": "the Wayback Machine does not show this page (excluded from the archive)"}
            result.lines.append(self._whose_known(link, original) or self._not_its_page(link, original))
            result.fail(missing.get(view["error"], view.get("message") or view["error"]))
            return
        served, captured_url = view.get("timestamp") or replacement.capture_timestamp, view.get("original") or original
        if served != replacement.capture_timestamp:
            result.lines.append(Line(None, f"no capture at exactly {capture_label(replacement.capture_timestamp)[11:]}; "
                                           f"the nearest is the {capture_label(served)}, which is what would be saved"))
        result.replacement, result.capture_timestamp = public_archive_url(served, captured_url), served
        result.lines.append(await self._whose(link, captured_url, served))
        result.page = view.get("text") or ""
        self._judge(link, view, captured_url, served, result)

    @staticmethod
    def _whose_known(link: dict, captured_url: str) -> Line | None:
        """Whether a capture is of the link's page, from what is known without the archive: the link's URL,
        or one the checker was redirected to from it. None when only the archive can tell."""
        dead = dead_url(link)
        if dead is None:
            return Line(True, f"a capture of {captured_url}, the article's URL you give for this nullified link")
        key = surt_key(captured_url)
        if key == surt_key(dead):
            return Line(True, "a capture of the dead link's URL")
        followed = [link.get("final_url"), link.get("moved_to")]
        followed += [hop.get("location") for hop in link.get("redirect_chain") or [] if isinstance(hop, dict)]
        if any(u and surt_key(u) == key for u in followed):
            return Line(True, f"a capture of {captured_url}, where the dead link's URL redirects")
        return None

    async def _whose(self, link: dict, captured_url: str, timestamp: str) -> Line:
        """Whether a capture is of the link's page: its URL, or one its URL redirects to (as the checker saw
        it, or as the archive captured the redirect)."""
        known = self._whose_known(link, captured_url)
        if known is not None:
            return known
        key = surt_key(captured_url)
        current = dead_url(link)
        for _hop in range(REDIRECT_HOPS):
            try:
                view = await self.finder.lookups.memento(current, timestamp)
            except (ArchiveError, aiohttp.ClientError, OSError, TimeoutError):
                break
            location = view.get("redirect_location")
            if not location or not 300 <= (view.get("status") or 0) < 400:
                break
            if surt_key(location) == key:
                return Line(True, f"a capture of {captured_url}: in the archive, the dead link's URL redirects there")
            current = location
        return self._not_its_page(link, captured_url)

    @staticmethod
    def _not_its_page(link: dict, captured_url: str) -> Line:
        return Line(False, f"this is a capture of {captured_url}, not of the dead link's URL {dead_url(link)} "
                           "(nor of a page it redirects to)")

    def _judge(self, link: dict, view: dict, captured_url: str, timestamp: str, result: Verified) -> None:
        """The capture against the post's text (repair/capture's verify_capture), and where it stands in time."""
        text = post_text(link)
        check = verify_capture(view, text, self.settings.min_text_similarity)
        if check.ok and check.text_similarity is not None:
            result.lines.append(Line(True, f"{check.text_similarity:.0%} of the post's text found in the capture"))
        elif check.ok:
            result.lines.append(Line(None, "the post reproduces too little text to compare; the capture is a page "
                                           "that answered 200"))
        else:
            result.fail(f"the capture {check.reason}" if check.kind == "text" else check.reason or "not the article")
        target = target_date(captured_url, link.get("published"))
        captured = timestamp_to_datetime(timestamp)
        distance = abs((captured - target.when).total_seconds()) / 86400 if captured else 0.0
        if words := distance_words(captured, target.when, target.source):
            result.lines.append(Line(None, words))
        confidence, scored = score(check.text_similarity, distance)
        result.fields.update(
            capture_url=result.replacement, confidence=confidence, distance_days=round(distance, 2),
            target_date=to_iso(target.when),
            evidence=dict(scored, target={"date": to_iso(target.when), "source": target.source},
                          capture={"timestamp": timestamp, "original": captured_url, "archive": "web.archive.org",
                                   "source": "curator"}))
        if link.get("nullified_reason"):
            result.fields["url"] = captured_url

    # --- a live URL ---------------------------------------------------------------------------------

    async def _live(self, link: dict, url: str, result: Verified) -> str | None:
        """Probe a live replacement as `check` does; returns the URL to save when it holds the post's text."""
        ev = await probe(self.probe_session, url, self.settings, want_body=True)
        saved = url
        if ev.evidence_class == "moved" and ev.final_url:
            saved = ev.final_url
            result.lines.append(Line(None, f"it moved permanently to {ev.final_url}: that is what would be saved"))
        elif ev.evidence_class not in ("alive", "redirected"):
            why = ev.reason or ev.error_class or (f"HTTP {ev.status}" if ev.status else ev.evidence_class)
            result.replacement = result.replacement or saved
            result.fail(f"the page does not work now: {ev.evidence_class} ({why})")
            return None
        result.replacement, result.page = saved, ev.text[:TEXT_CAP]
        text = post_text(link)
        drift = drift_reason(ev.text, [text], self.settings.drift_threshold)
        similarity = containment(text, ev.text) if min(len(text.split()), len(ev.text.split())) >= MIN_WORDS else None
        if drift:
            result.fail(drift)
            return None
        result.lines.append(Line(True, f"the page answers (HTTP {ev.status})"))
        if similarity is None:
            result.lines.append(Line(None, "too little text on the page or in the post to compare"))
        else:
            result.lines.append(Line(True, f"{similarity:.0%} of the post's text found on the page"))
        confidence, scored = score(similarity, 0.0)
        result.fields.update(confidence=confidence, evidence=dict(scored, replacement_kind="live",
                                                                  live_check={"status": ev.status, "final_url": ev.final_url,
                                                                              "evidence_class": ev.evidence_class}))
        return saved

    async def _article(self, link: dict, url: str, result: Verified) -> None:
        """A nullified link's article URL: the live page if it still holds the post's text, else its capture
        nearest the post that verifies."""
        text = post_text(link)
        want = Want(url, target_date(url, link.get("published")), text)
        live, found = await asyncio.gather(self._live_quietly(link, url), self.finder.find(want))
        choice = found.choice if found.choice is not None and found.choice.verified else None
        result.fields["url"] = url
        if live is not None and live.ok:
            result.lines += live.lines
            result.replacement, result.fields, result.page = live.replacement, dict(live.fields, url=url), live.page
            if choice is not None:
                result.fields["capture_url"] = choice.archive_url  # kept for Robust Links (export)
                result.lines.append(Line(None, f"a {capture_label(choice.timestamp)} holds it too"))
            return
        result.lines += [Line(None, f"live: {line.text}") for line in (live.lines if live else []) if line.ok is False]
        if choice is None:
            why = found.error or "no capture holds the post's text"
            result.replacement = result.replacement or (live.replacement if live else None) or url
            result.fail(f"the live page does not hold the post's text, and the Wayback Machine has nothing "
                        f"better: {why}")
            return
        result.lines.append(Line(None, f"the Wayback Machine's {capture_label(choice.timestamp)} stands in for it"))
        view = await self.finder.lookups.memento(choice.original, choice.timestamp)
        result.replacement, result.capture_timestamp = choice.archive_url, choice.timestamp
        result.page = view.get("text") or ""
        result.lines.append(Line(True, f"a capture of {choice.original}, the article's URL you give"))
        self._judge(link, view, choice.original, choice.timestamp, result)
        result.fields["url"] = url

    async def _live_quietly(self, link: dict, url: str) -> Verified | None:
        probe_result = Verified(value=url)
        try:
            await self._live(link, url, probe_result)
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            return probe_result.fail(f"could not reach the page ({type(exc).__name__})")
        return probe_result


async def check_one(db, settings: Settings, link: dict, value: str) -> Verified:
    """Verify one replacement with sessions of its own (`linkkeeper edit`)."""
    from linkkeeper.net.session import make_session

    async with make_session(settings) as archive, make_session(settings, trust_archive=False) as probing:
        return await Verifier(db, settings, archive_session=archive, probe_session=probing).verify(link, value)


SYMBOLS = {True: "✓", False: "✗", None: "·"}


def check_lines(verified: Verified) -> list[str]:
    """The checks as lines for a terminal."""
    return [f"  {SYMBOLS[line.ok]} {line.text}" for line in verified.lines]
