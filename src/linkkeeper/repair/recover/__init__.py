"""Recovering the nullified Original Article links (posts of 2012-09-11 .. 2012-12-11) from the Wayback
Machine's index: the outlets' domains and URL shapes, the CDX queries, the scoring of candidates, the run."""

from linkkeeper.repair.recover.run import (  # noqa: F401
    Candidate,
    CdxQuery,
    QueryCache,
    RecoveryConfigError,
    author_score,
    confidence,
    decide,
    fallback_queries,
    learn_outlet_map,
    plan_queries,
    recover_nullified,
    run_repair_command,
)
