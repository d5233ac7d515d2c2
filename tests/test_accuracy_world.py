"""The independent evaluation world (bench/accuracy) on a small scale.

- The world shares nothing with linkkeeper: no module of the generator, the servers or the bench imports it
  (checked on the source, so a lazy import inside a function counts too).
- The generator is deterministic: one seed, one world, byte for byte.
- The real command line on a small world (70 posts) keeps the two invariants that do not depend on how good
  the heuristics are: no live link is called dead, and nothing wrong is written into the export without a
  person. The other figures (recall, recovery) are the bench's to report, not this test's to pin.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"
sys.path.insert(0, str(BENCH))

import accuracy_bench  # noqa: E402
from accuracy import world as W  # noqa: E402
from accuracy.export import write_export  # noqa: E402

# Faster than the bench's settings, so three check runs fit the test's time: hosts that never answer cost
# 1 s per attempt; the world's slow pages answer in 0.4 s.
FAST = {"total_timeout": 1.0, "connect_timeout": 0.5, "read_timeout": 1.0, "retry_wait_max": 0.3}


def _sources() -> list[Path]:
    return sorted((BENCH / "accuracy").glob("*.py")) + [BENCH / "accuracy_bench.py"]


def test_the_world_imports_nothing_from_linkkeeper():
    offenders = []
    for path in _sources():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in (
                    "import_module", "__import__"):
                names = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
            offenders += [f"{path.name}:{node.lineno}: {n}" for n in names if n.split(".")[0] == "linkkeeper"]
    assert len(_sources()) >= 10
    assert offenders == []


def _fingerprint(world: W.World, tmp: Path, name: str) -> tuple:
    path = tmp / f"{name}.xml"
    write_export(world, str(path))
    captures = tuple((c.key, c.ts, c.original, c.status, c.content) for c in world.captures)
    routes = tuple(sorted((k, r.fate, r.aid, r.target) for k, r in world.routes.items()))
    return path.read_bytes(), captures, routes


def test_the_generator_is_deterministic(tmp_path):
    a = _fingerprint(W.build(7, 30, 0.03), tmp_path, "a")
    b = _fingerprint(W.build(7, 30, 0.03), tmp_path, "b")
    c = _fingerprint(W.build(8, 30, 0.03), tmp_path, "c")
    assert a == b
    assert a[0] != c[0] and a[1] != c[1]


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    work = tmp_path_factory.mktemp("accuracy")
    result, log, _times = accuracy_bench.run(70, seed=3, work=work, decoy_scale=0.1, echo=False,
                                             overrides=FAST, slow_seconds=0.4)
    return result, log


def test_the_real_cli_ran_every_stage(small_run):
    result, log = small_run
    assert [e["command"].split()[1] for e in log] == ["ingest", "check", "check", "check", "repair", "report", "export"]
    assert result.metrics["links_missing_from_report"] == 0
    assert result.metrics["dead_links"] > 10 and result.metrics["live_links"] > 10


def test_no_live_link_is_called_dead(small_run):
    result, _ = small_run
    assert result.metrics["false_dead"] == 0, result.lists["false_dead"]


def test_no_wrong_automatic_approval(small_run):
    result, _ = small_run
    assert result.metrics["wrong_automatic_approvals"] == 0, result.approvals["wrong"]


# --- the simulated archive answers in the real API's shapes (shared/real/wayback, FIELD-NOTES) -------------

@pytest.fixture(scope="module")
def tiny_world():
    return W.build(5, 40, 0.05)


@pytest.fixture
async def archive(aiohttp_client, tiny_world):
    from accuracy.wayback import Wayback
    return await aiohttp_client(Wayback(tiny_world, enforce=False).app())


def _article_capture(world):
    return next(c for c in world.captures if c.kind == "article" and not c.unplayable
                and c.original.startswith("http://") and "nationalpost" not in c.key and not c.ts.endswith("000000"))


async def test_cdx_json_header_strings_and_empty_answer(archive, tiny_world):
    c = _article_capture(tiny_world)
    resp = await archive.get("/cdx/search/cdx", params={"url": c.original, "output": "json"})
    rows = await resp.json(content_type=None)
    assert rows[0] == ["urlkey", "timestamp", "original", "mimetype", "statuscode", "digest", "length"]
    assert all(isinstance(v, str) for row in rows[1:] for v in row) and len(rows) >= 2
    resp = await archive.get("/cdx/search/cdx", params={"url": "http://never.example.org/x", "output": "json"})
    assert await resp.text() == "[]"


async def test_cdx_filters_match_the_whole_field_and_prefix_forms_agree(archive, tiny_world):
    c = _article_capture(tiny_world)
    host = c.original.split("/")[2].split(":")[0]
    star = await (await archive.get("/cdx/search/cdx", params={"url": f"{host}/*"})).text()
    prefix = await (await archive.get("/cdx/search/cdx", params={"url": f"{host}/", "matchType": "prefix"})).text()
    assert star == prefix and c.ts in star
    partial = await (await archive.get("/cdx/search/cdx", params={"url": c.original, "filter": "statuscode:2"})).text()
    whole = await (await archive.get("/cdx/search/cdx", params={"url": c.original, "filter": "statuscode:2.."})).text()
    assert partial == "" and c.ts in whole


async def test_cdx_resume_key_follows_an_empty_row(archive, tiny_world):
    host = _article_capture(tiny_world).original.split("/")[2].split(":")[0]
    params = {"url": f"{host}/*", "output": "json", "limit": "3", "showResumeKey": "true"}
    rows = await (await archive.get("/cdx/search/cdx", params=params)).json(content_type=None)
    assert rows[-2] == [] and len(rows[-1]) == 1 and len(rows) == 6
    more = await (await archive.get("/cdx/search/cdx", params={**params, "resumeKey": rows[-1][0]})).json(content_type=None)
    assert more[1] != rows[1] and more[1][:2] > rows[3][:2]


async def test_excluded_site_cdx_403_and_replay_200_page(archive):
    resp = await archive.get("/cdx/search/cdx", params={"url": "news.nationalpost.com/2012/10/03/x/"})
    assert resp.status == 403 and "AdministrativeAccessControlException" in resp.headers["X-Archive-Wayback-Runtime-Error"]
    resp = await archive.get("/web/2012id_/http://news.nationalpost.com/2012/10/03/x/", allow_redirects=False)
    assert resp.status == 200 and "has been excluded from the Wayback Machine" in await resp.text()


async def test_replay_nearest_redirect_memento_headers_and_never_archived(archive, tiny_world):
    c = _article_capture(tiny_world)
    resp = await archive.get(f"/web/{c.ts[:8]}id_/{c.original}", allow_redirects=False)
    assert resp.status == 302 and "found capture at" in resp.headers["X-Archive-Redirect-Reason"]
    resp = await archive.get(f"/web/{c.ts}id_/{c.original}", allow_redirects=False)
    assert resp.status == 200
    assert resp.headers["Memento-Datetime"].endswith("GMT") and 'rel="original"' in resp.headers["Link"]
    resp = await archive.get("/web/2012/http://never.example.org/x", allow_redirects=False)
    assert resp.status == 404 and "has not archived that URL" in await resp.text()


async def test_captured_redirects_replay_as_redirects_in_id_mode(archive, tiny_world):
    c = next(c for c in tiny_world.captures if c.kind == "redirect" and not c.unplayable and "nationalpost" not in c.key)
    raw = await archive.get(f"/web/{c.ts}id_/{c.original}", allow_redirects=False)
    assert raw.status == int(c.status) and f"/web/{c.ts}id_/" in raw.headers["Location"]
    view = await archive.get(f"/web/{c.ts}/{c.original}", allow_redirects=False)
    assert view.status == 200 and "response at crawl time" in await view.text()


async def test_availability_answers_in_the_real_shape(archive, tiny_world):
    c = _article_capture(tiny_world)
    body = await (await archive.get("/wayback/available", params={"url": "http://never.example.org/"})).json()
    assert body["archived_snapshots"] == {}
    shapes = [await (await archive.get("/wayback/available", params={"url": c.original, "timestamp": c.ts})).json()
              for _ in range(20)]
    hits = [s["archived_snapshots"]["closest"] for s in shapes if s["archived_snapshots"]]
    assert hits and all(h["status"] == "200" and h["available"] is True for h in hits)
    assert all(s["timestamp"] == c.ts for s in shapes)


def test_a_capture_the_archive_cannot_replay_is_no_good_capture_for_the_grader():
    """The archive sends a listed capture it cannot replay to a neighbouring one, so a link to it does not open
    the article: the grader must not expect it (nor count choosing another capture against the product)."""
    from dataclasses import replace

    from accuracy import grade

    world = W.build(5, 40, 0.05)
    key, truth = next((k, t) for k, t in grade.truth(world).items() if t.good)
    chosen = truth.good[0]
    unplayable = [replace(c, unplayable=True) if c.ts == chosen and c.content.startswith("article:") else c
                  for c in world.captures]
    again = grade.truth(replace(world, captures=unplayable))[key]
    assert chosen not in again.good and chosen not in again.expected
