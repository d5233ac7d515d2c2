"""Recovering nullified Original Article links from the Wayback Machine's index.

Between 2012-09-11 and 2012-12-11 the blogging software dropped the target of every post's Original Article
link. Each post still names its outlet (`Source:`), its date, the article's author (`Author:`), its headline
(the post title) and its opening paragraphs. From that:

1. **Outlet map** (outlets.py): the domains each outlet's working links point at, their eras and URL shapes.
2. **Candidates** (queries.py): CDX queries shared by every post of an outlet and month, each made once; a
   headline search of the domain with no date window for what they miss.
3. **Dates** (idclock.py): a page's date from its path, else from its id through the id clock each domain's
   captures and links teach, else from its capture.
4. **Scoring** (scoring.py): slug words and date rank the candidates; the best are fetched raw, in order, and
   compared with the post's paragraphs, headline and author line, which gives the confidence in 0..1.
5. **Decision** (scoring.py, rivals.py, run.py): a clear winner at or above `auto_approve_confidence`, with no
   other page of the outlet's domain holding the post's text, is approved; close or weak cases, and two pages
   holding the text, wait for the curator with their candidates (`recovery_candidates`, and the repair's
   evidence); nothing plausible is recorded as unavailable. The recovered URL becomes the replacement where
   it is still alive, else its capture; the original URL is kept in links.known_url.
"""

from linkkeeper.repair.recover.outlets import RecoveryConfigError, learn_outlet_map  # noqa: F401
from linkkeeper.repair.recover.queries import CdxQuery, QueryCache, headlines_query, month_query, words_filter  # noqa: F401
from linkkeeper.repair.recover.run import recover_nullified, run_repair_command  # noqa: F401
from linkkeeper.repair.recover.scoring import RecoveryCandidate, author_score, confidence, decide  # noqa: F401
