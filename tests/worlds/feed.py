"""A blog's public feed (Atom and alt=json, paged, updated-min), for the tests of the nightly run."""

from __future__ import annotations

from collections import deque
from datetime import datetime, timezone
from urllib.parse import quote

from aiohttp import web



class SimulatedBlogFeed:
    """A Blogger blog's public feed, `/feeds/posts/default`, in Atom or (`alt=json`) JSON, shaped after the
    real responses described in tests/data/real/blogger/README.md: paged by start-index (1-based) and
    max-results (Blogger's default 25, at most 500), ordered newest first by `orderby` (published or updated),
    and - like Blogger - `updated-min` is ignored unless orderby=updated. Edit, add and delete posts between
    runs; `requests` keeps the query of every request for assertions; `fail_next(status, ...)` answers the
    next requests with those statuses."""

    def __init__(self, posts, *, blog_url: str = "https://democracyastray.blogspot.com/",
                 blog_id: str = "6412345678901234567", title: str = "Democracy Gone Astray") -> None:
        self.posts = {p.id: p for p in posts}
        self.blog_url = blog_url
        self.blog_id = blog_id
        self.title = title
        self.requests: list[dict[str, str]] = []
        self._failures: deque[int] = deque()

    # ---- content

    def add(self, post) -> None:
        self.posts[post.id] = post

    def delete(self, post_id: str) -> None:
        del self.posts[post_id]

    def edit(self, post_id: str, *, updated: str, **changes) -> None:
        """Change a post as its author would: every edit moves `updated`."""
        import dataclasses

        self.posts[post_id] = dataclasses.replace(self.posts[post_id], updated=updated, **changes)

    def fail_next(self, *statuses: int) -> None:
        self._failures.extend(statuses)

    # ---- server

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/feeds/posts/default", self._feed)
        return app

    def _listing(self, query) -> tuple[list, int, int]:
        order = query.get("orderby", "published")
        key = "updated" if order == "updated" else "published"
        posts = sorted(self.posts.values(), key=lambda p: (_feed_time(getattr(p, key)), p.id), reverse=True)
        if order == "updated" and query.get("updated-min"):
            floor = _feed_time(query["updated-min"])
            posts = [p for p in posts if _feed_time(p.updated) >= floor]
        start = max(1, int(query.get("start-index", "1")))
        size = max(1, min(500, int(query.get("max-results", "25"))))
        return posts, start, size

    async def _feed(self, request: web.Request) -> web.Response:
        self.requests.append(dict(request.query))
        if self._failures:
            status = self._failures.popleft()
            return web.Response(status=status, text=f"simulated HTTP {status}\n", content_type="text/plain")
        posts, start, size = self._listing(request.query)
        page = posts[start - 1:start - 1 + size]
        base = f"{request.scheme}://{request.host}/feeds/posts/default"
        following = None
        if start - 1 + size < len(posts):
            query = dict(request.query, **{"start-index": str(start + size), "max-results": str(size)})
            following = base + "?" + "&".join(f"{k}={quote(v, safe='')}" for k, v in query.items())
        if request.query.get("alt") == "json":
            return web.json_response(self._json(page, len(posts), start, size, following),
                                     content_type="application/json")
        return web.Response(text=self._atom(page, len(posts), start, size, following),
                            content_type="application/atom+xml", charset="UTF-8")

    def _json(self, page, total: int, start: int, size: int, following: str | None) -> dict:
        links = [{"rel": "alternate", "type": "text/html", "href": self.blog_url}]
        if following:
            links.append({"rel": "next", "type": "application/atom+xml", "href": following})
        entries = []
        for p in page:
            entries.append({
                "id": {"$t": p.id}, "published": {"$t": p.published}, "updated": {"$t": p.updated},
                "category": [{"scheme": "http://www.blogger.com/atom/ns#", "term": label} for label in p.labels],
                "title": {"type": "text", "$t": p.title or ""}, "content": {"type": "html", "$t": p.html},
                "link": [{"rel": "replies", "type": "text/html", "href": f"{p.url}#comment-form"},
                         {"rel": "alternate", "type": "text/html", "href": p.url, "title": p.title or ""}],
                "author": [{"name": {"$t": self.title}}], "thr$total": {"$t": "0"},
            })
        feed = {"xmlns": "http://www.w3.org/2005/Atom", "id": {"$t": f"tag:blogger.com,1999:blog-{self.blog_id}"},
                "updated": {"$t": max((p.updated for p in self.posts.values()), default="")},
                "title": {"type": "text", "$t": self.title}, "link": links,
                "openSearch$totalResults": {"$t": str(total)}, "openSearch$startIndex": {"$t": str(start)},
                "openSearch$itemsPerPage": {"$t": str(size)}}
        if entries:
            feed["entry"] = entries  # Blogger leaves the key out of an empty page
        return {"version": "1.0", "encoding": "UTF-8", "feed": feed}

    def _atom(self, page, total: int, start: int, size: int, following: str | None) -> str:
        from html import escape

        out = ["<?xml version='1.0' encoding='UTF-8'?>",
               "<feed xmlns='http://www.w3.org/2005/Atom' xmlns:openSearch='http://a9.com/-/spec/opensearchrss/1.0/' "
               "xmlns:blogger='http://schemas.google.com/blogger/2008' xmlns:thr='http://purl.org/syndication/thread/1.0'>",
               f"<id>tag:blogger.com,1999:blog-{self.blog_id}</id>",
               f"<updated>{escape(max((p.updated for p in self.posts.values()), default=''))}</updated>",
               f"<title type='text'>{escape(self.title)}</title>",
               f"<link rel='alternate' type='text/html' href='{escape(self.blog_url)}'/>"]
        if following:
            out.append(f"<link rel='next' type='application/atom+xml' href='{escape(following)}'/>")
        out.append(f"<openSearch:totalResults>{total}</openSearch:totalResults>"
                   f"<openSearch:startIndex>{start}</openSearch:startIndex>"
                   f"<openSearch:itemsPerPage>{size}</openSearch:itemsPerPage>")
        for p in page:
            labels = "".join(f"<category scheme='http://www.blogger.com/atom/ns#' term='{escape(label)}'/>"
                             for label in p.labels)
            out.append(f"<entry><id>{escape(p.id)}</id><published>{escape(p.published)}</published>"
                       f"<updated>{escape(p.updated)}</updated>{labels}"
                       f"<title type='text'>{escape(p.title or '', quote=False)}</title>"
                       f"<content type='html'>{escape(p.html, quote=False)}</content>"
                       f"<link rel='alternate' type='text/html' href='{escape(p.url or '')}' title='{escape(p.title or '')}'/>"
                       f"<author><name>{escape(self.title)}</name></author><thr:total>0</thr:total></entry>")
        out.append("</feed>")
        return "\n".join(out)


def _feed_time(value: str | None) -> datetime:
    if not value:
        return datetime(1970, 1, 1, tzinfo=timezone.utc)
    when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)
