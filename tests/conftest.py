"""Shared fixtures: the real third-party material in tests/data/real, and a simulated web on loopback."""

from __future__ import annotations

from pathlib import Path

import pytest

from linkkeeper.settings import ConnectTo, Settings
from linkkeeper.sim.web import SimulatedWeb

REAL = Path(__file__).resolve().parent / "data" / "real"


@pytest.fixture
def real() -> Path:
    return REAL


@pytest.fixture
async def simweb(aiohttp_server):
    """A SimulatedWeb served on 127.0.0.1, and settings whose connect_to sends every host but *.invalid to it."""
    web = SimulatedWeb()
    server = await aiohttp_server(web.app())

    def settings(**changes) -> Settings:
        base = Settings(connect_timeout=2, read_timeout=2, total_timeout=4, retries=1, retry_wait_max=0.2,
                        db=":memory:")
        rules = tuple(ConnectTo(host, "*", "127.0.0.1", server.port) for host in sorted(web.hosts))
        return base.replace(connect_to=rules + tuple(changes.pop("connect_to", ())), **changes)

    web.settings = settings
    web.server = server
    return web


# ═══════════════════════════════════ THE CURATOR'S DESK: a review session to test ═══════════════════════════════════

HOSTILE_TITLE = "<script>window.__pwned = 1; alert('pwned')</script> Budget \"bill\" & co"


@pytest.fixture(scope="session")
def review_demo(tmp_path_factory):
    """The demo with every proposal left for review (built once)."""
    from linkkeeper.demo import run_demo

    out = tmp_path_factory.mktemp("review-demo")
    run_demo(out, echo=None, auto_approve_confidence=1.01, recover=False)
    return out / "demo.db"


@pytest.fixture
def review_db(review_demo, tmp_path):
    """A copy of the review demo where the first repair's post has a hostile title and three proposals have
    middling confidences, so bulk approval has something to leave behind."""
    import sqlite3

    path = tmp_path / "review.db"
    src, dst = sqlite3.connect(review_demo), sqlite3.connect(path)
    src.backup(dst)  # carries what is still in the WAL
    src.close()
    ids = [r[0] for r in dst.execute("SELECT id FROM repairs WHERE state = 'proposed' AND confidence >= 0.9 ORDER BY id")]
    dst.execute("UPDATE posts SET title = ? WHERE id = (SELECT post_id FROM repairs WHERE id = ?)", [HOSTILE_TITLE, ids[0]])
    for repair_id, confidence in zip(ids[-3:], (0.85, 0.7, 0.55)):
        dst.execute("UPDATE repairs SET confidence = ? WHERE id = ?", [confidence, repair_id])
    dst.commit()
    dst.close()
    return path


LATE_CAPTURE = "20120828120000"
UNRELATED_PAGE = "http://www.cbc.ca/news/weather/forecast.html"


@pytest.fixture(scope="session")
def demo_world():
    """The demo's simulated web and Wayback Machine on 127.0.0.1 (capture texts for the review page, live
    pages for the edits it verifies), and the hosts whose connections are refused."""
    from linkkeeper.demo import SAMPLE_POSTS, build_world, other_story
    from linkkeeper.sim.archive import Capture
    from linkkeeper.sim.servers import BackgroundServer
    from linkkeeper.sim.web import Page, article_html

    web, archive, refused = build_world()
    # The archive has since captured the article the repair found nothing for (the demo's "nocapture" post):
    # a curator who finds the capture pastes it in the review page.
    lost = next(p for p in SAMPLE_POSTS if p.fate == "nocapture")
    archive.add(Capture(lost.url, LATE_CAPTURE, body=article_html(lost.title, lost.paragraphs())))
    # A live page about something else: no post's text is on it.
    web.add(UNRELATED_PAGE, Page(body=article_html("Weather", other_story("Weather", 7) * 3)))
    with BackgroundServer(web.app()) as web_base, BackgroundServer(archive.app()) as archive_base:
        yield {"web": web_base, "archive": archive_base, "refused": refused}


@pytest.fixture(scope="session")
def sim_archive(demo_world):
    return demo_world["archive"]


@pytest.fixture
def review_settings(review_db, demo_world):
    """Settings for the review server over the review demo: the simulated archive, and every other host on
    the simulated web (the refused ones on a closed port), as the demo itself runs."""
    from linkkeeper.settings import ConnectTo
    from linkkeeper.sim.archive import settings_for
    from linkkeeper.sim.servers import closed_port

    web_port = int(demo_world["web"].rsplit(":", 1)[1])
    dead = closed_port()
    rules = tuple(ConnectTo(h, "*", "127.0.0.1", dead) for h in sorted(demo_world["refused"]))
    rules += (ConnectTo("*", "*", "127.0.0.1", web_port),)
    return Settings(db=str(review_db), total_timeout=5, retries=0, connect_to=rules).replace(
        **settings_for(demo_world["archive"]))

# ═════════════════════════════════ END THE CURATOR'S DESK ═════════════════════════════════
