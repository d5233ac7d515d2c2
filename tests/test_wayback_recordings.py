"""The Wayback client against real recorded Wayback Machine responses (tests/data/real/wayback, with provenance).

Where it fits, each cassette is replayed from a tiny aiohttp server on 127.0.0.1 that answers the recorded
status, headers and (still gzip-compressed) body for the recorded path and query, and the real WaybackClient
is pointed at it through the settings endpoints. Otherwise the parse functions are tested on the decoded
bodies. Time is fake (FakeClock), so the real rate limits apply without waiting.
"""

from __future__ import annotations

import gzip
import json
import re
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import AsyncIterator
from urllib.parse import parse_qsl, unquote, urlsplit

import aiohttp
import pytest
import yaml
from aiohttp import web
from multidict import CIMultiDict

from linkkeeper.wayback import (
    BlockedSiteError,
    CdxRecord,
    NoMementoError,
    WaybackClient,
    memento_links,
    parse_archive_location,
    parse_availability,
    parse_cdx,
    parse_cdx_json,
    parse_cdx_text,
    parse_link_header,
    wayback_redirect_target,
)
from linkkeeper.settings import Settings
from linkkeeper.sim.archive import settings_for
from linkkeeper.sim.servers import serve
from worlds.clock import FakeClock

REAL = Path(__file__).resolve().parent / "data" / "real" / "wayback"
CASSETTES = REAL / "edgi-wayback" / "cassettes"
TEST_FILES = REAL / "edgi-wayback" / "test_files"


# --------------------------------------------------------------------------------------- cassette replay


@dataclass
class Interaction:
    uri: str
    status: int
    reason: str
    headers: list[tuple[str, str]]
    raw_body: bytes  # as recorded: gzip bytes when content-encoding is gzip

    @property
    def header_map(self) -> CIMultiDict:
        return CIMultiDict(self.headers)

    @property
    def body(self) -> bytes:
        if self.raw_body and "gzip" in self.header_map.get("Content-Encoding", "").lower():
            return gzip.decompress(self.raw_body)
        return self.raw_body

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


def load_cassette(name: str) -> list[Interaction]:
    data = yaml.safe_load((CASSETTES / f"{name}.yaml").read_text(encoding="utf-8"))
    result = []
    for item in data["interactions"]:
        response = item["response"]
        body = response["body"]["string"]  # !!binary → bytes (safe_load decodes base64); plain → str
        if isinstance(body, str):
            body = body.encode("utf-8")
        headers = [(name, str(value)) for name, values in response["headers"].items() for value in values]
        result.append(Interaction(item["request"]["uri"], response["status"]["code"],
                                  response["status"]["message"], headers, body))
    return result


ALL_CASSETTES = sorted(p.stem for p in CASSETTES.glob("*.yaml"))
# Parameters our client adds or leaves out compared with EDGI's (which recorded these): they do not change
# which rows the server sends back, so the replay ignores them when matching.
IGNORED_CDX_PARAMS = {"output", "showResumeKey", "resolveRevisits", "fl", "gzip"}
HOP_BY_HOP = {"content-length", "transfer-encoding", "connection"}
UNMATCHED = web.AppKey("unmatched", list)


def request_key(path: str, pairs: list[tuple[str, str]]) -> tuple[str, tuple[tuple[str, str], ...]]:
    if path.startswith("/cdx/"):
        pairs = [p for p in pairs if p[0] not in IGNORED_CDX_PARAMS]
    return path, tuple(sorted(pairs))


def recorded_response(interaction: Interaction) -> web.Response:
    headers = CIMultiDict()
    for name, value in interaction.headers:
        if name.lower() in HOP_BY_HOP or (name.lower() == "content-encoding" and not interaction.raw_body):
            continue
        headers.add(name, value)
    return web.Response(status=interaction.status, reason=interaction.reason, headers=headers,
                        body=interaction.raw_body)


def replay_app(*cassettes: str, extra: dict | None = None) -> web.Application:
    """Serve the recorded responses; unknown requests get a 418 (a 4xx: never retried) and are noted."""
    table: dict = {}
    for name in cassettes:
        for interaction in load_cassette(name):
            parts = urlsplit(interaction.uri)
            key = request_key(unquote(parts.path), parse_qsl(parts.query, keep_blank_values=True))
            table.setdefault(key, []).append(interaction)
    app = web.Application()
    app[UNMATCHED] = []
    served: dict = {}

    async def handler(request: web.Request) -> web.Response:
        key = request_key(request.path, list(request.query.items()))
        if extra and request.path in extra:
            return extra[request.path](request)
        if key not in table:
            app[UNMATCHED].append(request.path_qs)
            return web.Response(status=418, text=f"no recording for {request.path_qs}")
        index = served.get(key, 0)
        served[key] = index + 1
        candidates = table[key]
        return recorded_response(candidates[min(index, len(candidates) - 1)])

    app.router.add_route("GET", "/{tail:.*}", handler)
    return app


@asynccontextmanager
async def client_for(*cassettes: str, extra: dict | None = None) -> AsyncIterator[tuple[WaybackClient, list]]:
    app = replay_app(*cassettes, extra=extra)
    clock = FakeClock()
    async with serve(app) as base, aiohttp.ClientSession() as session:
        settings = Settings().replace(**settings_for(base))
        yield WaybackClient(session, settings, clock=clock, sleep=clock.sleep), app[UNMATCHED]


def data_lines(text: str) -> list[str]:
    """The data rows of a text CDX body (everything before the blank line that precedes a resume key)."""
    lines = text.splitlines()
    if "" in lines:
        lines = lines[:lines.index("")]
    return [line for line in lines if line]


def resume_key_of(text: str) -> str | None:
    lines = text.splitlines()
    if "" in lines:
        rest = [line for line in lines[lines.index("") + 1:] if line]
        return rest[0] if rest else None
    return None


# -------------------------------------------------------------------------- every recorded response, parsed


def test_every_recording_is_in_the_repository():
    # A lost recording must fail the run, not quietly shrink the parametrised tests below.
    assert len(ALL_CASSETTES) == 21


@pytest.mark.parametrize("cassette", ALL_CASSETTES)
def test_every_recorded_response_is_understood(cassette: str) -> None:
    decoded = json.loads((REAL / "edgi-wayback" / "decoded" / f"{cassette}.json").read_text(encoding="utf-8"))
    interactions = load_cassette(cassette)
    assert len(interactions) == len(decoded["interactions"])
    for interaction, copy in zip(interactions, decoded["interactions"]):
        assert interaction.uri == copy["uri"] and interaction.status == copy["status"]
        # base64 + gunzip give the recorded body (the decoded copies count characters, not bytes).
        assert len(interaction.text) == copy["body_length"]
        headers = interaction.header_map
        if "/cdx/search/cdx" in interaction.uri:
            if interaction.status == 403:
                assert "AdministrativeAccessControlException" in headers["X-Archive-Wayback-Runtime-Error"]
                assert "AdministrativeAccessControlException" in interaction.text
                continue
            page = parse_cdx(interaction.text)
            lines = data_lines(interaction.text)
            assert page.skipped == 0
            assert len(page.records) == len(set(lines)) and len(page.records) + page.duplicates == len(lines)
            assert page.resume_key == resume_key_of(interaction.text)
            for record in page.records:
                assert re.fullmatch(r"\d{14}", record.timestamp) and record.datetime is not None
                assert (record.statuscode == "-") == record.is_revisit == (record.mimetype == "warc/revisit")
            continue
        # Replay responses: an archived response, the Wayback Machine's redirect, or one of its own pages.
        if "Memento-Datetime" in headers:
            links = memento_links(headers["Link"])
            assert {"original", "timegate", "timemap", "first memento", "memento", "last memento"} <= set(links)
            captured = datetime.strptime(headers["Memento-Datetime"], "%a, %d %b %Y %H:%M:%S GMT")
            assert links["memento"][1] == captured.replace(tzinfo=timezone.utc)
            assert wayback_redirect_target(interaction.status, headers) is None  # captured, not Wayback's
        elif 300 <= interaction.status < 400:
            target = wayback_redirect_target(interaction.status, headers)
            assert target is not None
            assert headers["X-Archive-Redirect-Reason"] == f"found capture at {target[0]}"
        else:
            assert interaction.status in (200, 404)
            assert ("excluded from the Wayback Machine" in interaction.text
                    or "has not archived that URL" in interaction.text
                    or "response at crawl time" in interaction.text)


# ---------------------------------------------------------------------------------------------- CDX search


async def test_search_deduplicates_repeated_rows() -> None:
    [interaction] = load_cassette("test_search")
    lines = data_lines(interaction.text)
    assert len(lines) > len(set(lines))  # the recording really repeats rows
    async with client_for("test_search") as (client, unmatched):
        records = await client.search("nasa.gov", limit=1000, from_="19961001000000", to="19970201000000")
    assert not unmatched and client.requests["cdx"] == 1
    assert len(records) == len(set(lines)) == len(set(records))
    assert all(r.urlkey == "gov,nasa)/" and r.statuscode == "200" and r.status == 200 for r in records)
    assert records[0].archive_url == "https://web.archive.org/web/19961231235847/http://www.nasa.gov:80/"
    assert records[0].raw_url == "https://web.archive.org/web/19961231235847id_/http://www.nasa.gov:80/"


async def test_search_recognises_revisit_rows() -> None:
    async with client_for("test_search_does_not_repeat_results") as (client, unmatched):
        records = await client.search("energystar.gov/", limit=1000, from_="20200612000000", to="20200613000000")
    assert not unmatched
    revisits = [r for r in records if r.is_revisit]
    assert revisits and all(r.statuscode == "-" and r.status is None and r.mimetype == "warc/revisit"
                            for r in revisits)
    assert {r.statuscode for r in records} == {"-", "200", "301"}
    assert len(set(records)) == len(records)


async def test_search_with_date_follows_resume_keys() -> None:
    interactions = load_cassette("test_search_with_date")
    expected = set()
    for interaction in interactions:
        expected |= set(data_lines(interaction.text))
    assert resume_key_of(interactions[-1].text) is None  # the last page has no key
    async with client_for("test_search_with_date") as (client, unmatched):
        records = await client.search("dw.com", limit=1000, from_="20191001000000", to="20200301000000",
                                      resume=True)
    assert not unmatched and client.requests["cdx"] == 3
    assert len(records) == len(expected)
    assert {("unk", "301"), ("text/html", "302"), ("warc/revisit", "-")} <= {(r.mimetype, r.statuscode)
                                                                             for r in records}
    assert [r.timestamp for r in records] == sorted(r.timestamp for r in records)


async def test_search_multipage_with_opaque_resume_keys_and_empty_last_page() -> None:
    interactions = load_cassette("test_search_multipage")
    keys = [resume_key_of(i.text) for i in interactions]
    assert keys[-1] is None and interactions[-1].body == b""
    assert any(not re.search(r"\+\d{14}$", key) for key in keys[:-1])  # e.g. com%2Ccnn%29%2F+2001041400593%3A
    expected = set()
    for interaction in interactions:
        expected |= set(data_lines(interaction.text))
    async with client_for("test_search_multipage") as (client, unmatched):
        records = await client.search("cnn.com", limit=25, from_="20010410000000", to="20010510000000",
                                      resume=True)
    assert not unmatched, unmatched
    assert client.requests["cdx"] == 15
    assert len(records) == len(set(records)) == len(expected)
    assert {r.statuscode for r in records} == {"200", "302"}
    # Fifteen requests at the real CDX rate (0.4/s) take fake time, not wall time.
    assert client.clock() - 1_000.0 >= 14 / Settings().cdx_rate - 1e-6


async def test_search_with_filter() -> None:
    async with client_for("test_search_with_filter") as (client, unmatched):
        everything = await client.search("nasa.gov/", match_type="prefix", limit=10,
                                         from_="20220101000000", to="20220201000000")
        missing = await client.search("nasa.gov/", match_type="prefix", limit=10,
                                      from_="20220101000000", to="20220201000000", filters=["statuscode:404"])
    assert not unmatched
    assert len(everything) == 10 and {r.statuscode for r in everything} == {"200", "301"}
    assert len(missing) == 10 and all(r.status == 404 for r in missing)
    # Paths with %20 and percent-encoded UTF-8 come through untouched.
    assert missing[0].original == "http://www.nasa.gov/%20mission_pages/mars/news/marsmethane.html"
    assert any("%E2%80%A2" in r.original for r in missing)


async def test_search_with_filter_list() -> None:
    async with client_for("test_search_with_filter_list") as (client, unmatched):
        records = await client.search("nasa.gov/", match_type="prefix", limit=10, from_="20220101000000",
                                      to="20220201000000", filters=["statuscode:404", "urlkey:.*feature.*"])
    assert not unmatched
    assert len(records) == 6 and all(r.status == 404 and "feature" in r.urlkey for r in records)


async def test_search_raises_for_blocked_site() -> None:
    async with client_for("test_search_raises_for_blocked_urls") as (client, unmatched):
        with pytest.raises(BlockedSiteError, match="AdministrativeAccessControlException"):
            await client.search("https://nationalpost.com/health", limit=1000, from_="20191001000000",
                                to="20191002000000")
    assert not unmatched and client.requests["cdx"] == 1  # a 403 is never retried


# --------------------------------------------------------------------------------------------------- replay


async def test_get_memento_parses_link_header() -> None:
    async with client_for("test_get_memento") as (client, unmatched):
        memento = await client.get_memento("https://www.fws.gov/birds/", "20171124151315")
    assert not unmatched
    assert memento.status == 200 and memento.timestamp == "20171124151315"
    assert memento.url == "https://www.fws.gov/birds/"
    assert len(memento.text) == 122751 and memento.body.startswith(b"<!DOCTYPE html>")
    links = memento.links
    assert links["first memento"] == ("https://web.archive.org/web/20050323155300/http://www.fws.gov:80/birds",
                                      datetime(2005, 3, 23, 15, 53, 0, tzinfo=timezone.utc))
    assert links["prev memento"][1] == datetime(2017, 9, 29, 0, 27, 12, tzinfo=timezone.utc)
    assert links["next memento"][0] == "https://web.archive.org/web/20171228222143/https://www.fws.gov/birds/"
    assert links["last memento"][1] == datetime(2023, 3, 19, 7, 2, 36, tzinfo=timezone.utc)
    assert links["timemap"] == ("https://web.archive.org/web/timemap/link/https://www.fws.gov/birds/", None)
    assert memento.archive_url == "https://web.archive.org/web/20171124151315/https://www.fws.gov/birds/"


def test_outside_target_window_302_points_to_nearest_capture() -> None:
    [interaction] = load_cassette("test_get_memento_raises_when_memento_is_outside_target_window")
    assert interaction.status == 302 and interaction.body == b""
    assert wayback_redirect_target(302, interaction.header_map) == ("20171124151315", "https://www.fws.gov/birds/")
    # The non-playbackable case: the nearest capture has another timestamp AND another scheme.
    [other] = load_cassette("test_get_memento_should_fail_for_non_playbackable_mementos")
    assert wayback_redirect_target(302, other.header_map) == ("20150503090125", "http://www.fws.gov/birds/")


async def test_get_memento_follows_wayback_redirect_to_nearest_capture() -> None:
    async with client_for("test_get_memento_target_window") as (client, unmatched):
        memento = await client.get_memento("https://www.fws.gov/birds/", "20171101000000")
    assert not unmatched and client.requests["replay"] == 2
    assert memento.status == 200 and memento.timestamp == "20171124151315"
    assert memento.requested_timestamp == "20171101000000"


async def test_captured_redirect_is_reported_not_followed() -> None:
    async with client_for("test_get_memento_follows_historical_redirects") as (client, unmatched):
        memento = await client.get_memento("http://epa.gov/climatechange", "20200201020357")
        assert client.requests["replay"] == 2  # the Wayback 302 was followed, the captured 301 was not
        assert memento.status == 301 and memento.is_redirect
        assert memento.url == "https://www.epa.gov/climatechange" and memento.timestamp == "20200201023757"
        assert memento.redirect_location == "https://www.epa.gov/sites/production/files/signpost/cc.html"
        target = await client.get_memento(memento.redirect_location, memento.timestamp)
    assert not unmatched
    assert [m.status for m in (memento, target)] == [301, 200]
    assert target.timestamp == "20200201024405"


async def test_captured_redirect_with_relative_location() -> None:
    async with client_for("test_get_memento_with_path_based_redirects") as (client, unmatched):
        first = await client.get_memento(
            "https://www.whitehouse.gov/administration/eop/ostp/about/student/faqs", "20201027215555")
        last = await client.get_memento(first.redirect_location, first.timestamp)
    assert not unmatched
    assert first.status == 301
    assert first.redirect_location == "https://www.whitehouse.gov/ostp/about/student/faqs"
    # The redirect ends in an archived 404: a Memento with status 404, not NoMementoError.
    assert last.status == 404 and last.timestamp == "20201027220743"


async def test_captured_redirect_in_view_mode() -> None:
    async with client_for("test_get_memento_with_redirect_in_view_mode") as (client, unmatched):
        first = await client.get_memento(
            "https://www.whitehouse.gov/administration/eop/ostp/about/student/faqs", "20201027215555", raw=False)
        last = await client.get_memento(first.redirect_location, first.timestamp, raw=False)
    assert not unmatched
    assert first.status == 301
    assert first.redirect_location == "https://www.whitehouse.gov/ostp/about/student/faqs"
    assert last.status == 404


async def test_captured_redirect_followed_to_the_end() -> None:
    async with client_for("test_get_memento_with_redirects") as (client, unmatched):
        first = await client.get_memento("https://www.epa.gov/ghgreporting/san5779-factsheet", "20180808094144")
        last = await client.get_memento(first.redirect_location, first.timestamp)
    assert not unmatched
    assert [m.status for m in (first, last)] == [301, 200]
    assert last.url.endswith("proposed-rule-fact-sheet-greenhouse-gas-reporting-program-addition-global-warming")


async def test_captured_redirects_that_loop_are_each_reported() -> None:
    async with client_for("test_get_memento_raises_for_mementos_that_redirect_in_a_loop") as (client, unmatched):
        first = await client.get_memento("https://link.springer.com/article/10.1007/s00382-012-1331-2",
                                         "20200925075402")
        assert first.status == 303 and first.redirect_location.startswith("https://idp.springer.com/authorize?")
        login = await client.get_memento(first.redirect_location, first.timestamp)
        # The recorded Link header HTML-escapes `&` (`&amp;`); the memento URL is the real one.
        assert login.url == first.redirect_location and "&amp;" not in login.url
        assert login.status == 302 and login.timestamp == "20200925075411"
        assert login.redirect_location == "https://link.springer.com/article/10.1007/s00382-012-1331-2"  # back
    assert not unmatched


async def test_memento_url_comes_from_link_original() -> None:
    async with client_for("test_get_memento_returns_memento_with_accurate_url") as (client, unmatched):
        memento = await client.get_memento("http://fws.gov/", "20171124143728")
    assert not unmatched
    assert memento.requested_url == "http://fws.gov/" and memento.url == "https://www.fws.gov/"


async def test_excluded_page_served_as_200_is_blocked() -> None:
    async with client_for("test_get_memento_raises_blocked_error") as (client, unmatched):
        with pytest.raises(BlockedSiteError):
            await client.get_memento("https://nationalpost.com/health/", "20170929002712")
    assert not unmatched


async def test_never_archived_404_is_no_memento() -> None:
    async with client_for("test_get_memento_raises_no_memento_error") as (client, unmatched):
        with pytest.raises(NoMementoError):
            await client.get_memento("https://this-is-not-real-url.whatever/", "20170929002712")
    assert not unmatched and client.requests["replay"] == 1


async def test_archived_429_is_a_memento_not_a_rate_limit() -> None:
    async with client_for("test_get_memento_works_on_archived_rate_limit_responses") as (client, unmatched):
        memento = await client.get_memento("http://www.reddit.com/r/PokemonGiveaway", "20150129034904")
    assert not unmatched
    assert memento.status == 429 and b"Too Many Requests" in memento.body
    assert client.requests["replay"] == 1  # not retried, no endpoint pause
    assert client.limiters["replay"].paused_until == float("-inf")


def test_link_header_single_quoted_form() -> None:
    value = ("<http://example.com/>; rel='original', "
             "<http://web.archive.org/web/20100101000000/http://example.com/>; rel='first memento'; "
             "datetime='Fri, 01 Jan 2010 00:00:00 GMT', "
             "<http://web.archive.org/web/20120101000000/http://example.com/>; rel='memento'; "
             "datetime='Sun, 01 Jan 2012 00:00:00 GMT'")
    assert parse_link_header(value)[0] == ("http://example.com/", {"rel": "original"})
    links = memento_links(value)
    assert links["first memento"][1] == datetime(2010, 1, 1, tzinfo=timezone.utc)
    assert links["memento"][0].endswith("20120101000000/http://example.com/")


# ------------------------------------------------------------------------------------------- text fixtures


def test_malformed_cdx_lines() -> None:
    text = (TEST_FILES / "malformed_cdx.txt").read_text(encoding="utf-8")
    page = parse_cdx_text(text)
    # Every line has 7 fields: the malformation is in `original` (mailto, data: URL, not a URL at all).
    assert len(page.records) == 5 and page.skipped == 0
    assert [r.is_malformed for r in page.records] == [False, False, True, True, True]
    # A line with the wrong number of fields is skipped and counted.
    broken = text.splitlines()
    broken[0] = broken[0].rsplit(" ", 1)[0]
    page = parse_cdx_text("\n".join(broken) + "\n")
    assert len(page.records) == 4 and page.skipped == 1


def test_bad_timestamp_cdx_lines() -> None:
    page = parse_cdx_text((TEST_FILES / "bad_timestamp_cdx.txt").read_text(encoding="utf-8"))
    assert len(page.records) == 5
    impossible = [r for r in page.records if r.datetime is None]
    assert {r.timestamp for r in impossible} == {"20000012170449", "20000800241623"}
    assert all(r.archive_url.startswith("https://web.archive.org/web/2000") for r in impossible)


def test_zero_length_cdx_lines() -> None:
    page = parse_cdx_text((TEST_FILES / "zero_length_cdx.txt").read_text(encoding="utf-8"))
    assert len(page.records) == 5 and page.skipped == 0
    assert page.records[-1].length == "-" and page.records[-1].status == 200


# -------------------------------------------------------------------------------- wayback-rs custom fields


async def test_wayback_rs_custom_field_order() -> None:
    text = (REAL / "wayback-rs" / "cdx-result.json").read_text(encoding="utf-8")
    rows = json.loads(text)
    assert rows[0] == ["original", "timestamp", "digest", "mimetype", "length", "statuscode"]
    page = parse_cdx_json(text)
    assert len(page.records) == len(rows) - 1 and page.resume_key is None
    first = page.records[0]
    assert first == CdxRecord(urlkey="", timestamp="20200524191958",
                              original="https://twitter.com/ScalaCoward/status/1264635402788487171",
                              mimetype="text/html", statuscode="200", digest="JJK5HCJRLNADLDWSVSCCJNMV3JWE4XFI",
                              length="4587")
    assert {r.statuscode for r in page.records} == {"200", "302"}
    # Through the client (asking for those fields), served by a stub CDX endpoint.
    fields = rows[0]

    def cdx(request: web.Request) -> web.Response:
        assert request.query["fl"] == ",".join(fields) and request.query["output"] == "json"
        return web.Response(text=text, content_type="application/json")

    async with client_for(extra={"/cdx/search/cdx": cdx}) as (client, unmatched):
        records = await client.search("twitter.com/ScalaCoward/status/", match_type="prefix", fields=fields)
    assert records == page.records


# ------------------------------------------------------------------------------------ apt-wayback-php (2016)


def php_dumps() -> dict[str, CIMultiDict]:
    text = (REAL / "apt-wayback-php" / "example-responses.md").read_text(encoding="utf-8-sig")
    dumps = {}
    for block in re.findall(r"```text\n(.*?)```", text, re.DOTALL):
        headers = CIMultiDict(re.findall(r"^\[([^\]]+)\] => ?(.*)$", block, re.MULTILINE))
        dumps[headers["HTTP-Status"].split()[0]] = headers
    return dumps


def test_relative_location_from_2016_replay() -> None:
    headers = php_dumps()["302"]
    assert headers["Location"].startswith("/web/")
    expected = ("20161112232202", "https://packages.gitlab.com/gitlab/gitlab-ce/ubuntu/dists/trusty/Release")
    assert wayback_redirect_target(302, headers) == expected
    assert parse_archive_location(headers["Location"]) == (expected[0], "", expected[1])


async def test_2016_headers_through_the_client() -> None:
    dumps = php_dumps()
    url = "https://packages.gitlab.com/gitlab/gitlab-ce/ubuntu/dists/trusty/Release"

    def respond(status: str):
        def handler(request: web.Request) -> web.Response:
            keep = {k: v for k, v in dumps[status].items() if k in ("Location", "Content-Type", "Link")
                    or k.startswith("X-Archive")}
            return web.Response(status=int(status), headers=keep, body=b"")
        return handler

    # The recorded relative-Location 302, then (for its target) the recorded 2016 "not in archive" 404
    # (recorded for the sibling Release.gz; headers unchanged), then the recorded robots 403.
    extra = {f"/web/20161113id_/{url}": respond("302"), f"/web/20161112232202id_/{url}": respond("404"),
             "/web/20161113id_/https://oss-binaries.phusionpassenger.com/apt/passenger/dists/trusty/Release":
                 respond("403")}
    async with client_for(extra=extra) as (client, unmatched):
        with pytest.raises(NoMementoError):
            await client.get_memento(url, "20161113")
        assert client.requests["replay"] == 2  # the relative Location was followed on our own endpoint
        with pytest.raises(BlockedSiteError, match="RobotAccessControlException"):
            await client.get_memento(
                "https://oss-binaries.phusionpassenger.com/apt/passenger/dists/trusty/Release", "20161113")
    assert not unmatched


# ------------------------------------------------------------------------ observed in issues (availability)


def observed() -> dict[str, dict]:
    data = json.loads((REAL / "observed_in_issues.json").read_text(encoding="utf-8"))
    return {entry["id"]: entry for entry in data["entries"]}


def test_availability_bodies_from_issues() -> None:
    entries = observed()
    hit = parse_availability(entries["availability-closest-hit"]["response_body"])
    assert hit.status == "200" and hit.timestamp == "20200119032503" and hit.available
    assert hit.snapshot_url.startswith("http://web.archive.org/")
    assert hit.original == "https://www.latimes.com/"
    assert hit.archive_url == "https://web.archive.org/web/20200119032503/https://www.latimes.com/"
    doc = parse_availability(entries["availability-doc-example-hit"]["response_body"])
    assert doc.original == "http://example.com/" and doc.status == "200"
    for empty in ("availability-empty-intermittent-with-timestamp-echo", "availability-empty-for-https-scheme",
                  "availability-doc-example-miss"):
        assert parse_availability(entries[empty]["response_body"]) is None


def test_cdx_json_resume_key_rows_from_docs() -> None:
    page = parse_cdx_json(observed()["cdx-json-doc-example-with-resume-key"]["response_body"])
    assert page.resume_key == "org%2Carchive%29%2F+19980109140106%21"
    assert len(page.records) == 4 and page.duplicates == 1
    assert page.records[-1].original == "http://archive.org:80/"
    assert parse_cdx_json("[]").records == [] and parse_cdx_json("").resume_key is None
