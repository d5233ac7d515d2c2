"""Choosing the right capture of a page and proving it is the page: the target date and the candidate captures
in order (ranking.py), the verification of each by fetching it raw (verification.py), the search that finds
them (finder.py), and the archive lookups behind it, each kept in SQLite (lookups.py).

How a capture is chosen (docs/rules.md says the same for curators):

1. **Target date**: the article's own date when its URL carries one (`/2012/10/16/`, `/2012/oct/16/`,
   `20121016`, `2012-10-16`) and the post came out later than the day after it - the blog sometimes posts an
   article weeks or years late - otherwise the post's publication time. A link that is itself a capture
   targets that capture's own date.
2. **Candidates**: 200 captures, nearest the target first, where a capture after the target counts
   AFTER_WEIGHT times as far as one before it (the page as the blogger saw it beats later edits, yet a
   capture the day after still beats one a month before). Redirects, errors and revisit records are never
   candidates; a revisit stands for the capture it repeats (same digest), which it proves unchanged at the
   revisit's date, so that capture ranks at the nearer of the two dates.
3. **Verification**: each candidate is fetched raw (`id_`) and rejected when it is a captured redirect, not
   a 200, the Wayback Machine's "excluded" page, a soft 404, a paywall or login page, or - where the post
   reproduces the article - when it holds less than `min_text_similarity` of the post's text. A rejected
   candidate yields to the next, at most `verify_budget` fetches per link; every rejection is kept as evidence.
   A capture rejected only for its text is kept as a best effort and proposed (never approved) when nothing
   better turns up.

Where candidates come from, in the order that spends fewest requests:

- **Bulk** (`plan`): where one host has BULK_MIN_LINKS or more links to repair in a span of dates, ONE CDX
  prefix query (`matchType=prefix` on the links' longest common URL prefix, `from`/`to` around their dates,
  `filter=statuscode:200|-`) answers all of them; a link then costs one replay request to verify. Not
  `collapse=urlkey` (it keeps each URL's first capture, not the nearest one) nor `collapse=timestamp:N`
  (rows are sorted by URL, so it would merge the captures of neighbouring URLs): what saves requests is the
  narrow prefix and date range, which keep the answer to one page.
- **TimeGate**: for a link on its own, GET `{replay}{target}id_/{url}`: the Wayback Machine's 302 leads to the
  nearest capture, which is fetched and verified at once (replay allows 8 requests a second, CDX 0.4). A URL
  never archived or excluded costs that one replay request and no CDX one. When the capture fails, or might
  be a revisit or not the nearest by our weighting (see `SnapshotFinder._settled`), one CDX query lists the rest.
- **Other archives**: the `memento_timegates` (a Memento aggregator or TimeGate) when the Wayback Machine has
  nothing that verifies.

Every answer goes through LookupCache (table `archive_lookups`): found captures are kept for good, "nothing
there" answers for `archive_negative_ttl_days`, so a second run over the same links asks the archive nothing.
"""

from linkkeeper.repair.capture.finder import Choice, Finding, SnapshotFinder, Want  # noqa: F401
from linkkeeper.repair.capture.lookups import LookupCache  # noqa: F401
from linkkeeper.repair.capture.ranking import (AFTER_WEIGHT, CaptureCandidate, Target, order_candidates,  # noqa: F401
                                               target_date, weighted_distance)
from linkkeeper.repair.capture.verification import CaptureCheck, verify_capture, view_of  # noqa: F401
