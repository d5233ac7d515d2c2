"""The CDX queries that list a post's candidates, shared by every post of a period: a prefix query per
domain, section and month on date-shaped paths (`www.guardian.co.uk/world/2012/oct/`), one per domain and
week of capture dates where paths hold no date, and a heavier host-wide fallback per month - 200 HTML
captures collapsed by URL. Each query is made once: kept in memory for the run and in `recovery_queries` for
the next one."""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Iterable

from linkkeeper import store
from linkkeeper.repair.capture.lookups import are_rows, record_of, row_of
from linkkeeper.repair.recover.outlets import DomainProfile
from linkkeeper.text.urls import period_path
from linkkeeper.wayback import BlockedSiteError, CdxRecord, WaybackClient, format_timestamp

# Captures follow publication: a query over capture dates reaches this many days past the period.
CAPTURE_LAG_DAYS = 3
CDX_PAGE_ROWS = 20_000
CDX_MAX_PAGES = 20
BASE_FILTERS = ("statuscode:200", "mimetype:text/html")


@dataclass(frozen=True)
class CdxQuery:
    """One CDX search, shared by every post that needs it. `key` identifies it in the cache."""

    url: str
    match_type: str = "prefix"
    from_: str | None = None
    to: str | None = None
    filters: tuple[str, ...] = BASE_FILTERS
    collapse: str = "urlkey"
    purpose: str = field(default="", compare=False)

    @property
    def key(self) -> str:
        return json.dumps({"url": self.url.lower(), "matchType": self.match_type, "from": self.from_,
                           "to": self.to, "filter": list(self.filters), "collapse": self.collapse},
                          sort_keys=True)


def _months(lo: date, hi: date) -> list[date]:
    out, current = [], lo.replace(day=1)
    while current <= hi:
        out.append(current)
        current = (current + timedelta(days=32)).replace(day=1)
    return out


def _mondays(lo: date, hi: date) -> list[date]:
    out, current = [], lo - timedelta(days=lo.weekday())
    while current <= hi:
        out.append(current)
        current += timedelta(days=7)
    return out


def _last_second(day: date) -> datetime:
    return datetime.combine(day, time(23, 59, 59))


def search_window(when: date, lookback: int) -> tuple[date, date]:
    """The days a post's article may have appeared on: before the post (or, across time zones, a day
    after it)."""
    return when - timedelta(days=lookback), when + timedelta(days=1)


def plan_queries(profiles: Iterable[DomainProfile], when: date, lookback: int) -> list[CdxQuery]:
    """The first-round queries for a post: per date-shaped section a month prefix, per undated domain a
    week of captures. Neighbouring posts plan the same queries, so the cache answers them."""
    lo, hi = search_window(when, lookback)
    queries: list[CdxQuery] = []
    for profile in profiles:
        dated, undated = profile.shapes(when)
        for prefix, fmt in dated:
            for month in _months(lo, hi):
                url = f"{profile.host}{prefix}{period_path(fmt, month)}"
                queries.append(CdxQuery(url, purpose=f"{url}* (date in the path)"))
        if undated:
            base = f"{profile.host}{profile.undated_prefix()}"
            for monday in _mondays(lo, hi):
                sunday = monday + timedelta(days=6)
                queries.append(CdxQuery(base, from_=format_timestamp(monday),
                                        to=format_timestamp(_last_second(sunday + timedelta(days=CAPTURE_LAG_DAYS))),
                                        purpose=f"{base}* captured {monday}..{sunday} (+{CAPTURE_LAG_DAYS} days)"))
    return list(dict.fromkeys(queries))


def fallback_queries(profiles: Iterable[DomainProfile], when: date, lookback: int) -> list[CdxQuery]:
    """Second round, for posts the first found nothing convincing for: the whole host over a month of
    captures, keeping only paths dated in that month (the article may be in a section the blog never
    linked). Heavier for the server, so only asked when needed, and shared per domain and month."""
    lo, hi = search_window(when, lookback)
    queries: list[CdxQuery] = []
    for profile in profiles:
        dated, _ = profile.shapes(when)
        fmts = sorted({fmt for prefix, fmt in dated if prefix != "/"})
        if not fmts:
            continue  # already queried host-wide (date at the root) or by capture date
        for month in _months(lo, hi):
            month_end = (month + timedelta(days=32)).replace(day=1) - timedelta(days=1)
            periods = sorted({period_path(fmt, month).rstrip("/") for fmt in fmts})
            pattern = "original:.*/(" + "|".join(re.escape(p) for p in periods) + ")/.*"
            url = f"{profile.host}/"
            last = _last_second(month_end + timedelta(days=CAPTURE_LAG_DAYS))
            queries.append(CdxQuery(url, from_=format_timestamp(month), to=format_timestamp(last),
                                    filters=BASE_FILTERS + (pattern,),
                                    purpose=f"{url}* captured in {month:%Y-%m}, paths dated {'|'.join(periods)}"))
    return list(dict.fromkeys(queries))


class QueryCache:
    """Every CDX query once: in memory for the run (concurrent posts await the same request) and in the
    recovery_queries table for the next run. A blocked site is remembered; an archive failure is not (the
    next run asks again)."""

    def __init__(self, db, client: WaybackClient) -> None:
        self.db = db
        self.client = client
        self._tasks: dict[str, asyncio.Future] = {}
        self.sent = 0
        self.from_store = 0
        self.shared = 0

    async def records(self, query: CdxQuery) -> list[CdxRecord]:
        task = self._tasks.get(query.key)
        if task is None:
            task = self._tasks[query.key] = asyncio.ensure_future(self._load(query))
        else:
            self.shared += 1
        return await asyncio.shield(task)

    async def _load(self, query: CdxQuery) -> list[CdxRecord]:
        cached = store.recovery_query(self.db, query.key)
        # Read back like a fresh answer: rows of another shape (a poisoned or outdated entry) are asked again.
        if cached is not None and are_rows(cached["rows"]):
            self.from_store += 1
            return [record_of(row) for row in cached["rows"]]
        error = None
        self.sent += 1
        try:
            records = await self.client.search(query.url, match_type=query.match_type, from_=query.from_,
                                               to=query.to, filters=list(query.filters), collapse=query.collapse,
                                               limit=CDX_PAGE_ROWS, resume=True, max_pages=CDX_MAX_PAGES)
        except BlockedSiteError as exc:
            records, error = [], f"blocked: {exc}"
        rows = [row_of(r) for r in records]
        store.save_recovery_query(self.db, query.key, url=query.url, match_type=query.match_type,
                                  params=json.loads(query.key), rows=rows, error=error)
        return records

