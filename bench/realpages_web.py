"""The real-page corpus (tests/data/real-pages) served for check_bench.py --real-pages, in a process of its own.

    python bench/realpages_web.py --ca CA.pem     # prints "ready HTTP_PORT HTTPS_PORT" once serving

The pages and their server are the test's own (tests/test_real_pages.py, which imports no linkkeeper): each
page at its original host and path on 127.0.0.1, over TLS with a test CA (written to --ca) where the URL is
https. Two additions, made by rewriting the request before the test's handler sees it:
- a copy of a page: its URL with COPY_PARAM=N appended to the query answers the page itself, so a run can
  check each page many times under distinct URLs;
- lychee has no connect_to: http://127.0.0.1:HTTP_PORT/__as/SCHEME/HOST/PATH answers what SCHEME://HOST/PATH
  answers (same body, plain HTTP);
and /__reset (nothing to reset: the corpus has no counters) answers 200, as the bench asks of its webs.
"""

from __future__ import annotations

import argparse
import re
import signal
import ssl
import sys
from pathlib import Path

import trustme
from aiohttp import web
from yarl import URL

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from test_real_pages import PAGES, Servers, blogger_export, site_app  # noqa: E402, F401 (check_bench's)

COPY_PARAM = "lkbench-copy"
_COPY = re.compile(rf"[?&]{COPY_PARAM}=\d+$")


def copy_url(url: str, n: int) -> str:
    return f"{url}{'&' if '?' in url else '?'}{COPY_PARAM}={n}"


def as_url(port: int, url: str) -> str:
    """The URL lychee asks for url (see the module's docstring)."""
    scheme, rest = url.split("://", 1)
    return f"http://127.0.0.1:{port}/__as/{scheme}/{rest}"


@web.middleware
async def rewrite(request: web.Request, handler):
    if request.path == "/__reset":
        return web.Response(text="ok")
    raw, changes = request.raw_path, {}
    if raw.startswith("/__as/"):
        scheme, host, rest = (raw[len("/__as/"):].split("/", 2) + [""])[:3]
        raw, changes = "/" + rest, {"scheme": scheme, "host": host, "headers": {**request.headers, "Host": host}}
    raw = _COPY.sub("", raw)
    if raw == request.raw_path:
        return await handler(request)
    return await handler(request.clone(rel_url=URL(raw, encoded=True), **changes))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ca", required=True, help="where to write the test CA's certificate (PEM)")
    args = parser.parse_args()
    ca = trustme.CA()
    ca.cert_pem.write_to_path(args.ca)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*sorted({p["site"] for p in PAGES})).configure_cert(tls)
    app = site_app([])  # the test's request log; the bench does not read it
    app.middlewares.append(rewrite)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with Servers(app, tls) as servers:
        print(f"ready {servers.ports['http']} {servers.ports['https']}", flush=True)
        signal.pause()


if __name__ == "__main__":
    main()
