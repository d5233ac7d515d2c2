CREATE TABLE IF NOT EXISTS "sources" (
   "id" INTEGER PRIMARY KEY,
   "path" TEXT,
   "format" TEXT,
   "sha256" TEXT,
   "size" INTEGER,
   "blog_url" TEXT,
   "title" TEXT,
   "ingested_at" TEXT,
   "posts" INTEGER
);
CREATE UNIQUE INDEX "idx_sources_path"
    ON "sources" ("path");
CREATE TABLE IF NOT EXISTS "posts" (
   "id" TEXT PRIMARY KEY,
   "source_id" INTEGER REFERENCES "sources"("id"),
   "url" TEXT,
   "title" TEXT,
   "published" TEXT,
   "updated" TEXT,
   "labels" TEXT,
   "content" TEXT,
   "outlet" TEXT,
   "author" TEXT,
   "original_url" TEXT,
   "original_state" TEXT,
   "lead_text" TEXT,
   "content_sha1" TEXT,
   "line" INTEGER,
   "ingested_at" TEXT
, deleted_at TEXT);
CREATE INDEX "idx_posts_published"
    ON "posts" ("published");
CREATE INDEX "idx_posts_source_id"
    ON "posts" ("source_id");
CREATE TABLE IF NOT EXISTS "links" (
   "id" TEXT PRIMARY KEY,
   "post_id" TEXT REFERENCES "posts"("id"),
   "anchor_index" INTEGER,
   "role" TEXT,
   "url" TEXT,
   "url_normalized" TEXT,
   "anchor_text" TEXT,
   "nullified_reason" TEXT,
   "known_url" TEXT
);
CREATE INDEX "idx_links_post_id"
    ON "links" ("post_id");
CREATE INDEX "idx_links_url_normalized"
    ON "links" ("url_normalized");
CREATE TABLE IF NOT EXISTS "checks" (
   "id" INTEGER PRIMARY KEY,
   "url" TEXT,
   "checked_at" TEXT,
   "method" TEXT,
   "status" INTEGER,
   "final_url" TEXT,
   "redirect_chain" TEXT,
   "error_class" TEXT,
   "error" TEXT,
   "elapsed_ms" INTEGER,
   "verdict" TEXT,
   "evidence_class" TEXT,
   "reason" TEXT,
   "title" TEXT,
   "attempts" INTEGER
);
CREATE INDEX "idx_checks_url_checked_at"
    ON "checks" ("url", "checked_at");
CREATE TABLE IF NOT EXISTS "url_status" (
   "url" TEXT PRIMARY KEY,
   "verdict" TEXT,
   "evidence_class" TEXT,
   "reason" TEXT,
   "status" INTEGER,
   "final_url" TEXT,
   "moved_to" TEXT,
   "error_class" TEXT,
   "last_checked" TEXT,
   "check_id" INTEGER,
   "consecutive_failures" INTEGER,
   "first_failure_at" TEXT,
   "single_day" INTEGER
);
CREATE TABLE IF NOT EXISTS "url_marks" (
   "url" TEXT PRIMARY KEY,
   "mark" TEXT,
   "signature" TEXT,
   "note" TEXT,
   "created_at" TEXT
);
CREATE TABLE IF NOT EXISTS "repairs" (
   "id" INTEGER PRIMARY KEY,
   "link_id" TEXT REFERENCES "links"("id"),
   "post_id" TEXT REFERENCES "posts"("id"),
   "url" TEXT,
   "reason" TEXT,
   "replacement" TEXT,
   "capture_timestamp" TEXT,
   "capture_url" TEXT,
   "target_date" TEXT,
   "distance_days" REAL,
   "confidence" REAL,
   "evidence" TEXT,
   "state" TEXT,
   "created_at" TEXT,
   "decided_at" TEXT,
   "note" TEXT
);
CREATE UNIQUE INDEX "idx_repairs_link_id"
    ON "repairs" ("link_id");
CREATE INDEX "idx_repairs_state"
    ON "repairs" ("state");
CREATE TABLE IF NOT EXISTS "recovery_queries" (
   "key" TEXT PRIMARY KEY,
   "url" TEXT,
   "match_type" TEXT,
   "params" TEXT,
   "rows" TEXT,
   "row_count" INTEGER,
   "fetched_at" TEXT,
   "error" TEXT
);
CREATE TABLE IF NOT EXISTS "recovery_candidates" (
   "id" INTEGER PRIMARY KEY,
   "link_id" TEXT REFERENCES "links"("id"),
   "post_id" TEXT REFERENCES "posts"("id"),
   "rank" INTEGER,
   "url" TEXT,
   "timestamp" TEXT,
   "archive_url" TEXT,
   "prescore" REAL,
   "confidence" REAL,
   "verified" INTEGER,
   "chosen" INTEGER,
   "evidence" TEXT,
   "created_at" TEXT
);
CREATE INDEX "idx_recovery_candidates_link_id_rank"
    ON "recovery_candidates" ("link_id", "rank");
CREATE TABLE IF NOT EXISTS "decisions" (
   "id" INTEGER PRIMARY KEY,
   "batch" INTEGER,
   "decided_at" TEXT,
   "repair_id" INTEGER,
   "link_id" TEXT,
   "url" TEXT,
   "action" TEXT,
   "previous_state" TEXT,
   "new_state" TEXT,
   "previous_replacement" TEXT,
   "new_replacement" TEXT,
   "note" TEXT,
   "origin" TEXT,
   "previous" TEXT,
   "undone_at" TEXT
);
CREATE INDEX "idx_decisions_batch"
    ON "decisions" ("batch");
CREATE INDEX "idx_decisions_link_id"
    ON "decisions" ("link_id");
CREATE TABLE IF NOT EXISTS "report_snapshots" (
   "id" INTEGER PRIMARY KEY,
   "generated_at" TEXT,
   "all_links" INTEGER,
   "summary" TEXT,
   "links" INTEGER
);
CREATE TABLE IF NOT EXISTS "report_link_states" (
   "link_id" TEXT PRIMARY KEY,
   "category" TEXT,
   "verdict" TEXT,
   "repair_state" TEXT,
   "snapshot_id" INTEGER
);
CREATE TABLE IF NOT EXISTS "archive_lookups" (
   "key" TEXT PRIMARY KEY,
   "endpoint" TEXT,
   "result" TEXT,
   "fetched_at" TEXT,
   "expires_at" TEXT
);
CREATE INDEX "idx_archive_lookups_expires_at"
    ON "archive_lookups" ("expires_at");
CREATE TABLE IF NOT EXISTS "preservations" (
   "id" INTEGER PRIMARY KEY,
   "url" TEXT,
   "link_id" TEXT,
   "post_id" TEXT,
   "mode" TEXT,
   "job_id" TEXT,
   "status" TEXT,
   "status_ext" TEXT,
   "message" TEXT,
   "capture_timestamp" TEXT,
   "archive_url" TEXT,
   "attempts" INTEGER,
   "requested_at" TEXT,
   "finished_at" TEXT
);
CREATE INDEX "idx_preservations_url"
    ON "preservations" ("url");
CREATE INDEX "idx_preservations_requested_at"
    ON "preservations" ("requested_at");
CREATE TABLE runs (
        id INTEGER PRIMARY KEY, started_at TEXT, finished_at TEXT, source TEXT, status TEXT, counts TEXT,
        exit_code INTEGER, message TEXT, pid INTEGER, hostname TEXT, process_started TEXT, "full" INTEGER,
        feed_since TEXT, feed_checkpoint TEXT, check_id_start INTEGER, check_id_end INTEGER,
        repair_id_start INTEGER, repair_id_end INTEGER, deleted_posts TEXT);
CREATE UNIQUE INDEX runs_one_running ON runs(status) WHERE status = 'running';
