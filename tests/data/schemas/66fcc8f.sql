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
   "content_sha1" TEXT,
   "line" INTEGER,
   "ingested_at" TEXT
);
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
