"""The CDX queries that list a post's candidates, each shared by every post that needs it:

- **an outlet-month**: every HTML page of the outlet's domain (all its subdomains, `matchType=domain`)
  captured in one calendar month, 200s collapsed by URL. It answers every post of that outlet whose article
  may have been captured that month, whatever the shape of its URLs (dated, undated, query-string ids), and
  its rows teach the domain's id clock (idclock.py) and show any other page of the domain carrying the same
  story (the rival check, rivals.py);
- **a headline search**: the domain's pages whose URL holds two of the post's headline words, with no date
  window, for an article posted long after it appeared or captured long after (asked last, once the dated
  rounds of every post are done: the posts of a domain still searching share one query, their filters
  joined, and each keeps the rows of its own).

Each query is made once: kept in memory for the run and in `recovery_queries` for the next one."""

from __future__ import annotations

import asyncio
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Iterable

from linkkeeper import store
from linkkeeper.repair.capture.lookups import are_rows, record_of, row_of
from linkkeeper.repair.recover.spend import charge
from linkkeeper.wayback import (ArchiveError, ArchiveQueryError, BlockedSiteError, CdxRecord, RateLimitedError,
                                WaybackClient, format_timestamp)

CDX_PAGE_ROWS = 20_000
CDX_MAX_PAGES = 20
BASE_FILTERS = ("statuscode:200", "mimetype:text/html")
# Headline words in one search: enough to meet a slug cut from an earlier headline, few enough to stay a
# readable filter.
MAX_SEARCH_WORDS = 8


@dataclass(frozen=True)
class CdxQuery:
    """One CDX search, shared by every post that needs it. `key` identifies it in the cache."""

    url: str
    match_type: str = "domain"
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


def months_between(lo: date, hi: date) -> list[date]:
    """The first day of every calendar month overlapping [lo, hi]."""
    out, current = [], lo.replace(day=1)
    while current <= hi:
        out.append(current)
        current = (current + timedelta(days=32)).replace(day=1)
    return out


def month_query(domain: str, month: date) -> CdxQuery:
    """Every HTML page of `domain` captured in `month` (one row per URL: its first capture that month)."""
    last = (month + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    return CdxQuery(domain, from_=format_timestamp(month),
                    to=format_timestamp(datetime.combine(last, time(23, 59, 59))),
                    purpose=f"{domain} (all its hosts) captured in {month:%Y-%m}")


def words_filter(words: Iterable[str]) -> str | None:
    """A CDX filter keeping URLs that hold two of `words` (case ignored); None with fewer than two words."""
    chosen = list(dict.fromkeys(w for w in words if re.fullmatch(r"[a-z0-9]{3,}", w)))[:MAX_SEARCH_WORDS]
    if len(chosen) < 2:
        return None
    either = "(?:" + "|".join(chosen) + ")"
    return f"original:(?i).*{either}.*{either}.*"


def headlines_query(domain: str, filters: list[str]) -> CdxQuery:
    """One headline search for several posts of a domain: the URLs that any one of their `words_filter`s
    keeps (each post then keeps the rows its own filter matches: `keeps`)."""
    if len(filters) == 1:
        (only,) = filters
        return CdxQuery(domain, filters=BASE_FILTERS + (only,),
                        purpose=f"{domain} (all its hosts), any date, URLs holding two of: {only[14:]}")
    joined = "|".join(f[len("original:(?i)"):] for f in sorted(set(filters)))
    return CdxQuery(domain, filters=BASE_FILTERS + (f"original:(?i)(?:{joined})",),
                    purpose=f"{domain} (all its hosts), any date, URLs holding two headline words of one of "
                            f"{len(set(filters))} posts")


def keeps(words_filter_: str, record: CdxRecord) -> bool:
    """Whether a CDX `original:` filter (a whole-field match, as the CDX server applies it) keeps the row."""
    return re.fullmatch(words_filter_[len("original:"):], record.original) is not None


class QueryCache:
    """Every CDX query once: in memory for the run (concurrent posts await the same request) and in the
    recovery_queries table for the next run. A blocked site is remembered; so is a headline search the
    archive cannot answer (a domain too big to scan without dates), as empty. Other archive failures are
    not kept (the next run asks again)."""

    def __init__(self, db, client: WaybackClient) -> None:
        self.db = db
        self.client = client
        self._tasks: dict[str, asyncio.Future] = {}
        self.sent = 0
        self.from_store = 0
        self.shared = 0
        self.spent: Counter[str] = Counter()  # requests sent, by the part of the search asking (spend.py)

    async def records(self, query: CdxQuery) -> list[CdxRecord]:
        task = self._tasks.get(query.key)
        if task is None:
            task = self._tasks[query.key] = asyncio.ensure_future(self._load(query))
        else:
            self.shared += 1
        return await asyncio.shield(task)

    def peek(self, query: CdxQuery) -> bool:
        """Whether the query was answered already (this run or an earlier one): asking it costs nothing."""
        return query.key in self._tasks or store.recovery_query(self.db, query.key) is not None

    def answered(self, query: CdxQuery) -> bool:
        """Whether the archive answered the query (a blocked site answers; a scan it gave up on does not)."""
        row = store.recovery_query(self.db, query.key)
        return row is not None and not (row.get("error") or "").startswith("unanswered")

    async def _load(self, query: CdxQuery) -> list[CdxRecord]:
        cached = store.recovery_query(self.db, query.key)
        # Read back like a fresh answer: rows of another shape (a poisoned or outdated entry) are asked again.
        if cached is not None and are_rows(cached["rows"]):
            self.from_store += 1
            return [record_of(row) for row in cached["rows"]]
        error = None
        self.sent += 1
        charge(self.spent)
        try:
            records = await self.client.search(query.url, match_type=query.match_type, from_=query.from_,
                                               to=query.to, filters=list(query.filters), collapse=query.collapse,
                                               limit=CDX_PAGE_ROWS, resume=True, max_pages=CDX_MAX_PAGES)
        except BlockedSiteError as exc:
            records, error = [], f"blocked: {exc}"
        except (ArchiveQueryError, RateLimitedError):
            raise
        except ArchiveError as exc:
            if query.from_ is not None:
                raise  # a month's listing is needed: the post waits for the next run
            records, error = [], f"unanswered: {type(exc).__name__}: {exc}"[:300]
        rows = [row_of(r) for r in records]
        store.save_recovery_query(self.db, query.key, url=query.url, match_type=query.match_type,
                                  params=json.loads(query.key), rows=rows, error=error)
        return records
