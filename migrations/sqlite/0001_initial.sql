-- patchwright schema, SQLite flavour. Keep in step with ../postgres/0001_initial.sql:
-- tests/store.rs compares the tables, columns and indexes both produce.
-- Times are INTEGER unix milliseconds (UTC) on both backends, so one query text serves both.
-- Flags are INTEGER 0/1: sqlx's Any driver cannot carry SQLite booleans.

CREATE TABLE IF NOT EXISTS installations (
    id              INTEGER PRIMARY KEY,  -- GitHub's installation id
    account_login   TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    suspended_at    INTEGER,
    deleted_at      INTEGER
);

CREATE TABLE IF NOT EXISTS repositories (
    id              INTEGER PRIMARY KEY,  -- GitHub's repository id (stable across renames)
    installation_id INTEGER NOT NULL REFERENCES installations (id),
    full_name       TEXT    NOT NULL,
    default_branch  TEXT,                 -- unknown until a push or the API tells
    private         INTEGER NOT NULL DEFAULT 0 CHECK (private IN (0, 1)),
    added_at        INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    removed_at      INTEGER
);
CREATE INDEX IF NOT EXISTS repositories_installation ON repositories (installation_id);

CREATE TABLE IF NOT EXISTS deliveries (
    id              TEXT    PRIMARY KEY,  -- X-GitHub-Delivery
    event           TEXT    NOT NULL,
    action          TEXT,
    installation_id INTEGER,
    repository_id   INTEGER,
    received_at     INTEGER NOT NULL,
    outcome         TEXT    NOT NULL
);

CREATE TABLE IF NOT EXISTS jobs (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    kind            TEXT    NOT NULL,
    payload         TEXT    NOT NULL,     -- JSON of the job kind's data
    installation_id INTEGER,
    repository_id   INTEGER,
    concurrency_key TEXT,                 -- at most one running job per key ("repo:<id>")
    delivery_id     TEXT,
    state           TEXT    NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    run_at          INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    started_at      INTEGER,
    finished_at     INTEGER,
    lease_until     INTEGER,
    lock_token      TEXT,
    last_error      TEXT,
    outcome         TEXT
);
CREATE INDEX IF NOT EXISTS jobs_ready ON jobs (state, run_at);
-- The database, not the workers, guarantees one running job per repository.
CREATE UNIQUE INDEX IF NOT EXISTS jobs_one_running_per_key ON jobs (concurrency_key) WHERE state = 'running';

CREATE TABLE IF NOT EXISTS findings (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    repository_id   INTEGER NOT NULL REFERENCES repositories (id),
    finding_key     TEXT    NOT NULL,     -- stable identity across scans (no line numbers)
    rule            TEXT    NOT NULL,
    subject         TEXT    NOT NULL,
    file            TEXT    NOT NULL,
    line            INTEGER NOT NULL,
    level           TEXT    NOT NULL,
    advisories      TEXT    NOT NULL,     -- space-separated ids
    first_seen_at   INTEGER NOT NULL,
    last_seen_at    INTEGER NOT NULL,
    fixed_at        INTEGER
);
CREATE UNIQUE INDEX IF NOT EXISTS findings_identity ON findings (repository_id, finding_key);

CREATE TABLE IF NOT EXISTS fix_prs (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    repository_id   INTEGER NOT NULL REFERENCES repositories (id),
    number          INTEGER NOT NULL,
    branch          TEXT    NOT NULL,
    fix_key         TEXT    NOT NULL,
    state           TEXT    NOT NULL CHECK (state IN ('open', 'closed', 'merged')),
    head_sha        TEXT    NOT NULL,
    closed_by_human INTEGER NOT NULL DEFAULT 0 CHECK (closed_by_human IN (0, 1)),
    opened_at       INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    closed_at       INTEGER
);
CREATE UNIQUE INDEX IF NOT EXISTS fix_prs_number ON fix_prs (repository_id, number);
CREATE INDEX IF NOT EXISTS fix_prs_fix_key ON fix_prs (repository_id, fix_key);

CREATE TABLE IF NOT EXISTS audit (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    at              INTEGER NOT NULL,
    installation_id INTEGER,
    repository_id   INTEGER,
    job_id          INTEGER,
    delivery_id     TEXT,
    action          TEXT    NOT NULL,     -- dotted name: "fix_pr.closed_by_human", "job.failed"
    reason          TEXT    NOT NULL      -- why, in words a person can check
);
CREATE INDEX IF NOT EXISTS audit_repository ON audit (repository_id, at);
