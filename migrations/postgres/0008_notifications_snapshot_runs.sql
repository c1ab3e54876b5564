-- Chat notifications and the daily snapshot job, PostgreSQL flavour. Keep in step with
-- ../sqlite/0008_notifications_snapshot_runs.sql (tests/store.rs compares the shapes).
-- In the store rather than in memory so that a restart or a second replica neither sends the
-- same thing twice nor takes the same day's snapshot twice.

-- One row per installation: when notifications began to look (blockers opened before that are
-- not "new"), when the last message went out, and when the next attempt may start (a claim
-- for one replica, the end of the interval after a message, or the backoff after a failure).
CREATE TABLE IF NOT EXISTS notification_state (
    installation_id BIGINT NOT NULL PRIMARY KEY REFERENCES installations (id),
    since_at        BIGINT NOT NULL,     -- unix ms
    last_sent_at    BIGINT,              -- unix ms; NULL: nothing sent yet
    failures        BIGINT NOT NULL,     -- failed attempts in a row
    next_attempt_at BIGINT NOT NULL      -- unix ms
);

-- Every item a delivered message carried, by its deduplication key: never sent again.
CREATE TABLE IF NOT EXISTS notifications_sent (
    installation_id BIGINT NOT NULL REFERENCES installations (id),
    item_key        TEXT    NOT NULL,     -- e.g. `blocker:<repository id>:<finding key>:<opened ms>`
    sent_at         BIGINT NOT NULL,     -- unix ms
    PRIMARY KEY (installation_id, item_key)
);

-- The days whose snapshot the daily job recorded, per installation.
CREATE TABLE IF NOT EXISTS snapshot_runs (
    installation_id BIGINT NOT NULL REFERENCES installations (id),
    day             TEXT    NOT NULL,     -- YYYY-MM-DD (UTC)
    taken_at        BIGINT NOT NULL,     -- unix ms
    row_count       BIGINT NOT NULL,     -- daily_snapshots rows written for the run's days
    PRIMARY KEY (installation_id, day)
);
