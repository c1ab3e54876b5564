-- What the last default-branch scan of each repository saw, SQLite flavour. Keep in step
-- with ../postgres/0007_repository_scan_marks.sql (tests/store.rs compares the shapes).
-- A sweep asks GitHub whether the default branch still points at head_sha (a conditional
-- request: a 304 is not counted against the rate limit) and, when it does and the knowledge
-- key still matches, ends the scan there. In the store rather than in memory so that a restart
-- or another replica does not pay a full scan of every repository again.

CREATE TABLE IF NOT EXISTS repository_scan_marks (
    repository_id   INTEGER NOT NULL PRIMARY KEY REFERENCES repositories (id),
    default_branch  TEXT    NOT NULL,
    head_sha        TEXT    NOT NULL,
    etag            TEXT,                 -- the validator GitHub gave for head_sha, if any
    knowledge_key   TEXT    NOT NULL,     -- digest of catalog, advisories, policy, settings, decisions
    reusable_until  INTEGER,              -- unix ms of the first day the result may change; NULL: none known
    scanned_at      INTEGER NOT NULL      -- unix ms
);
