-- Every start of a job, with its own start and end, SQLite flavour. Keep in step with
-- ../postgres/0003_job_attempts.sql (tests/store.rs compares the shapes).
-- The jobs row keeps only the latest start; this keeps them all, so after the fact one can
-- check that no repository was scanned twice at once and that a job left by a dead replica
-- was taken over within its lease.

CREATE TABLE IF NOT EXISTS job_attempts (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id          INTEGER NOT NULL REFERENCES jobs (id),
    attempt         INTEGER NOT NULL,     -- the job's start count at this start
    lock_token      TEXT    NOT NULL,     -- the claim's token: which worker ran it
    started_at      INTEGER NOT NULL,
    finished_at     INTEGER,              -- NULL while it runs
    outcome         TEXT                  -- succeeded, retrying, rate_limited, failed, released,
                                          -- lease_lost, or abandoned (taken over after its lease)
);
CREATE INDEX IF NOT EXISTS job_attempts_job ON job_attempts (job_id, attempt);
CREATE UNIQUE INDEX IF NOT EXISTS job_attempts_token ON job_attempts (lock_token);
