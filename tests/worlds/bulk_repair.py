"""A bulk repair to measure: dead Original Article links over many hosts, stored as the pipeline leaves them
after `check`, with their captures in a SimulatedArchive that enforces the Internet Archive's limits, and the
capture each repair must choose. Used by tests/test_bulk_repair.py and bench/archive_bench.py.

Each link gets one of these fates (by its index), so the run meets every case the choice must get right:
a plain article (a good capture a day later, a 404 a year on, a revisit); a soft 404, a paywall or a captured
redirect nearer than the good capture; a revisit nearer than the capture it repeats; a post made years after
the article (the URL's date wins); a URL never archived; and one host excluded from the Wayback Machine.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, timezone
from typing import Callable, Iterable

from linkkeeper.sim.archive import Capture, SimulatedArchive
from linkkeeper.sim.web import article_html

# The Internet Archive's limits per IP (FIELD-NOTES.md): CDX ~30 a minute, replay ~600 a minute.
IA_LIMITS = {"cdx_per_minute": 30, "replay_per_minute": 600, "availability_per_minute": 10}
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_SUBJECTS = ("Officials", "Critics", "Opposition members", "Advocates", "Residents", "Analysts", "Ministers")
_VERBS = ("warned", "said", "argued", "confirmed", "revealed", "insisted", "conceded")
_OBJECTS = ("the spending plan", "the new legislation", "the leaked documents", "the committee's findings",
            "the pipeline review", "the budget cuts", "the election rules", "the surveillance bill")
FATES = ("soft404", "paywall", "redirect", "never", "late", "revisit")  # by index % 20; the rest are plain


@dataclass
class DeadLink:
    index: int
    post_id: str
    url: str
    published: str  # the post's ISO date-time
    title: str
    paragraphs: list[str]
    fate: str
    expected: str | None  # the capture timestamp the repair must choose (None: nothing usable exists)

    @property
    def content(self) -> str:
        lead = "".join(f"<p>{p}</p>" for p in self.paragraphs)
        host = self.url.split("/")[2]
        return f'{lead}<a href="{self.url}">Original Article</a><br />\nSource: {host}<br />\nAuthor: --'


@dataclass
class BulkWorld:
    archive: SimulatedArchive
    links: list[DeadLink] = field(default_factory=list)

    @property
    def repairable(self) -> int:
        return sum(1 for link in self.links if link.expected is not None)

    def by_url(self) -> dict[str, DeadLink]:
        return {link.url: link for link in self.links}


def _ts(when: datetime) -> str:
    return when.astimezone(timezone.utc).strftime("%Y%m%d%H%M%S")


def _url(host: int, index: int, day: datetime) -> str:
    name = f"outlet{host:02d}.example"
    shape = host % 4
    if shape == 0:
        return f"http://www.{name}/news/{day.year}/{day.month:02d}/{day.day:02d}/story-{index}.html"
    if shape == 1:
        return f"http://www.{name}/world/{day.year}/{MONTHS[day.month - 1]}/{day.day:02d}/story-{index}"
    if shape == 2:
        return f"http://{name}/article/{day.year}{day.month:02d}{day.day:02d}-story-{index}"
    return f"http://www.{name}/story/{1_000_000 + index}"  # no date in the URL


def build_bulk_world(n_links: int = 500, n_hosts: int = 20, *, seed: int = 20121016,
                     clock: Callable[[], float] | None = None, limits: dict | None = None) -> BulkWorld:
    """`n_links` dead links spread over `n_hosts` hosts and two years of posts; the last host is excluded."""
    rng = random.Random(seed)
    kwargs = dict(IA_LIMITS if limits is None else limits)
    archive = SimulatedArchive(clock=clock, **kwargs) if clock else SimulatedArchive(**kwargs)
    world = BulkWorld(archive)
    excluded_host = n_hosts - 1
    archive.excluded(f"outlet{excluded_host:02d}.example")
    start = datetime(2012, 1, 1, tzinfo=timezone.utc)
    for i in range(n_links):
        host = i % n_hosts
        day = start + timedelta(days=rng.randrange(730))
        moment = datetime.combine(day.date(), time(rng.randrange(8, 20), rng.randrange(60)), timezone.utc)
        url = _url(host, i, moment)
        fate = FATES[i % 20] if i % 20 < len(FATES) else "plain"
        if fate == "late" and host % 4 == 3:
            fate = "plain"  # no date in the URL to recognise a late post by
        title = f"Story {i}: {rng.choice(_OBJECTS)} under fire"
        paragraphs = [f"{title}. {rng.choice(_SUBJECTS)} {rng.choice(_VERBS)} on {moment:%Y-%m-%d} that "
                      f"{rng.choice(_OBJECTS)} would reshape how the government answers to voters in case {i}.",
                      f"{rng.choice(_SUBJECTS)} {rng.choice(_VERBS)} that {rng.choice(_OBJECTS)} had been kept "
                      f"from parliament for months, story number {i} of a long series by outlet {host}."]
        page = article_html(title, paragraphs + ["More of the article follows here."])
        posted = moment
        if fate == "late":
            posted = moment + timedelta(days=rng.randrange(400, 900))
        expected: str | None = _ts(moment + timedelta(days=1))

        def add(offset: timedelta, **fields) -> Capture:
            return archive.add(Capture(url, _ts(moment + offset), **fields))

        if fate == "never":
            expected = None
        elif fate == "revisit":
            # A revisit 3 hours after the post repeats a capture from the evening before: it replays that
            # capture's bytes at its own date, nearest the post, so it is the capture to link (6 hours away,
            # weighted); it beats a later capture 14 hours away (28, weighted).
            add(-timedelta(hours=20), body=page)
            add(timedelta(hours=1), status=404, body="Not found")
            revisit = add(timedelta(hours=3), body=page, revisit=True)
            add(timedelta(hours=14), body=page + "<!-- edited -->")
            expected = revisit.timestamp
        else:
            add(timedelta(days=1), body=page)
            add(timedelta(days=400), status=404, body="Not found")
            add(timedelta(days=1, hours=6), body=page, revisit=True)
            if fate == "soft404":
                add(timedelta(hours=2), body=article_html("Page not found", ["Sorry, the page you are looking for "
                                                                             "could not be found."]))
            elif fate == "paywall":
                add(-timedelta(hours=3), body=article_html(title, ["Subscribe to continue reading. Already a "
                                                                   "subscriber? Log in."]))
            elif fate == "redirect":
                add(timedelta(hours=1), status=301, redirect_to="/")
            elif fate == "late":
                # The page as it read when the blog finally posted it: the same text, but two years on.
                archive.add(Capture(url, _ts(posted + timedelta(hours=2)), body=page))
        if host == excluded_host:
            expected = None
        world.links.append(DeadLink(i, f"tag:blogger.com,1999:blog-1.post-{100000 + i}", url,
                                    posted.isoformat(), title, paragraphs, fate, expected))
    return world


def seed_store(db, world: BulkWorld) -> None:
    """Store the world's posts and links, every Original Article link already found dead by `check`."""
    store_posts(db, [(link.post_id, link.published, link.title, link.content) for link in world.links],
                dead=[link.url for link in world.links])


def store_posts(db, posts: list[tuple[str, str, str, str]], dead: Iterable[str] = (),
                alive: Iterable[str] = ()) -> None:
    """Store posts (id, published, title, content HTML) with their links as ingest would, and mark the `dead`
    and `alive` URLs as `check --confirm-now` would."""
    from linkkeeper import store
    from linkkeeper.check import verdict
    from linkkeeper.text.trailer import post_links
    from linkkeeper.text.urls import normalize_url

    source_id = store.upsert_source(db, path="bulk-world.xml", format="blogger-atom", sha256="0", size=0,
                                    blog_url="http://bulk.blogspot.com/", title="Bulk world")
    now = datetime.now(timezone.utc)
    with store.transaction(db):
        for line, (post_id, published, title, content) in enumerate(posts):
            rows, trailer = post_links(content, frozenset({"bulk.blogspot.com"}))
            original = next((r["url"] for r in rows if r["role"] == "original"), None)
            post = {"id": post_id, "source_id": source_id, "url": f"http://bulk.blogspot.com/{line}.html",
                    "title": title, "published": published, "updated": published, "labels": [],
                    "content": content, "outlet": trailer.outlet, "author": trailer.author,
                    "original_url": original, "original_state": "present", "line": line}
            store.upsert_post(db, post, rows)
    for url, evidence_class in [*((u, "dead") for u in dead), *((u, "alive") for u in alive)]:
        url = normalize_url(url)
        status, reason = (404, "HTTP 404") if evidence_class == "dead" else (200, None)
        state = verdict.decide(evidence_class, reason, None, now, verdict.Policy(), confirmed_now=True)
        store.record_check(db, [{"url": url, "checked_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"), "method": "GET",
                                 "status": status, "final_url": url, "redirect_chain": [],
                                 "error_class": f"http_{status}" if status != 200 else None, "error": None,
                                 "elapsed_ms": 1, "verdict": state["verdict"], "evidence_class": evidence_class,
                                 "reason": reason, "title": None, "attempts": 1}], state)
