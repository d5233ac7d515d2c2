"""The database is a real SQLite file that Datasette serves: the curator can browse it there."""

from __future__ import annotations

import asyncio

from datasette.app import Datasette

from linkkeeper.demo import run_demo


def test_demo_database_opens_in_datasette(tmp_path):
    summary = run_demo(tmp_path, echo=None)  # runs its own event loops
    ds = Datasette([summary["database"]])

    async def fetch(path):
        response = await ds.client.get(path)
        assert response.status_code == 200, path
        return response.json()

    posts = asyncio.run(fetch("/demo/posts.json?_shape=array&_size=max"))
    assert len(posts) == summary["posts"] and {"id", "title", "outlet", "original_url"} <= set(posts[0])
    verdicts = asyncio.run(fetch("/demo.json?sql=select+verdict,count(*)+n+from+url_status+group+by+verdict&_shape=array"))
    assert {r["verdict"] for r in verdicts} >= {"alive", "dead"}
