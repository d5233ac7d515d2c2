"""The SQLite store: the schema and every SQL statement, through sqlite-utils. Knows nothing of HTTP or
formats. Import from here (`from linkkeeper import store; store.record_check(...)`): the modules inside are
the store's own business.

    schema     the tables, their numbered migrations, open_db
    posts      sources, posts, links, known URLs (what ingest writes, export reads)
    checks     what to check and when, checks, url_status, url_marks
    repairs    links needing a repair, repairs, those pending review, approved replacements
    decisions  the curator's decisions on repairs, and undo
    recovery   nullified links to recover, recovery_queries, recovery_candidates
    archive    archive_lookups, preservations
    reports    report rows, counts, report snapshots
    runs       runs (and the lock), feed reads, deleted posts, changes since a run
    sql        what they share: the transaction, cached statements, the date filter

The tables are described in docs/schema.md.
"""

from linkkeeper.store.archive import (  # noqa: F401
    archive_lookup,
    forget_archive_lookup,
    links_to_preserve,
    preservations_since,
    save_archive_lookup,
    save_preservation,
)
from linkkeeper.store.checks import (  # noqa: F401
    BROKEN_VERDICTS,
    archive_links_to_check,
    check_history,
    due_urls,
    lead_probes_of,
    links_to_check,
    post_leads_of,
    record_check,
    record_checks,
    url_mark,
    url_marks,
    url_state,
    url_states,
)
from linkkeeper.store.decisions import (  # noqa: F401
    DECISION_ACTIONS,
    UndoConflict,
    decide_repairs,
    decision_rows,
    link_row,
    recent_decisions,
    record_decisions,
    undo_last_batch,
)
from linkkeeper.store.posts import (  # noqa: F401
    link_id,
    live_post_count,
    set_known_url,
    set_source_post_count,
    source_by_path,
    source_posts,
    upsert_post,
    upsert_source,
)
from linkkeeper.store.recovery import (  # noqa: F401
    published_twice_marks,
    count_nullified_links,
    nullified_links_to_recover,
    original_links_for_learning,
    recovery_candidates,
    recovery_query,
    save_recovery_candidates,
    save_recovery_query,
    set_recovered_url,
)
from linkkeeper.store.repairs import (  # noqa: F401
    REPAIR_STATES,
    approved_replacements,
    approved_versions,
    links_needing_repair,
    pending_repairs,
    repair_for_link,
    repair_row,
    save_repair,
)
from linkkeeper.store.reports import (  # noqa: F401
    HEALTH_CATEGORIES,
    add_link_states,
    attention_rows,
    begin_link_states,
    counts,
    last_report_time,
    previous_report_summary,
    report_rows,
    save_report_snapshot,
)
from linkkeeper.store.runs import (  # noqa: F401
    RunRefused,
    begin_run,
    change_baseline_run,
    changes_since,
    feed_checkpoints,
    finish_feed_read,
    finish_run,
    last_completed_run,
    run_row,
)
from linkkeeper.store.schema import open_db  # noqa: F401
from linkkeeper.store.sql import transaction  # noqa: F401
# The name callers know the store's timestamps by (text.dates.now_iso: UTC, to the second, with a Z).
from linkkeeper.text.dates import now_iso as utcnow  # noqa: F401
