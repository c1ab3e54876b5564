-- Accepted risks, ignored updates and tracking issues, SQLite flavour. Keep in step with
-- ../postgres/0002_accepted_risks_ignores_tracking.sql (tests/store.rs compares the shapes).
-- Rows are never deleted: revoking or removing stamps who and when, so the history of every
-- suppression stays readable.

CREATE TABLE IF NOT EXISTS accepted_risks (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    repository_id   INTEGER NOT NULL REFERENCES repositories (id),
    target          TEXT    NOT NULL,     -- advisory id or rule id, as commands::Target::as_str
    reason          TEXT    NOT NULL,
    until           TEXT    NOT NULL,     -- YYYY-MM-DD, the last day it covers
    granted_by      TEXT    NOT NULL,     -- GitHub login, without @
    granted_at      INTEGER NOT NULL,
    source          TEXT    NOT NULL,     -- where: "acme/shop#12 comment 345" or a URL
    revoked_at      INTEGER,              -- also set when a later grant replaces it
    revoked_by      TEXT
);
-- One live grant per target: granting again revokes the earlier one first.
CREATE UNIQUE INDEX IF NOT EXISTS accepted_risks_live ON accepted_risks (repository_id, target) WHERE revoked_at IS NULL;
CREATE INDEX IF NOT EXISTS accepted_risks_repository ON accepted_risks (repository_id, granted_at);

CREATE TABLE IF NOT EXISTS update_ignores (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    repository_id   INTEGER NOT NULL REFERENCES repositories (id),
    name            TEXT    NOT NULL,     -- package or image, as typed
    scope           TEXT    NOT NULL,     -- all, major, minor or version:<v>
    created_by      TEXT    NOT NULL,     -- GitHub login, without @
    created_at      INTEGER NOT NULL,
    source          TEXT    NOT NULL,
    removed_at      INTEGER,
    removed_by      TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS update_ignores_live ON update_ignores (repository_id, name, scope) WHERE removed_at IS NULL;
CREATE INDEX IF NOT EXISTS update_ignores_repository ON update_ignores (repository_id, created_at);

-- The one issue per repository where the service keeps the list of what is open.
CREATE TABLE IF NOT EXISTS tracking_issues (
    repository_id   INTEGER PRIMARY KEY REFERENCES repositories (id),
    number          INTEGER NOT NULL,
    state           TEXT    NOT NULL CHECK (state IN ('open', 'closed')),
    updated_at      INTEGER NOT NULL
);
