-- Dashboard sign-in sessions, SQLite flavour. Keep in step with ../postgres/0006_web_sessions.sql
-- (tests/store.rs compares the shapes).
-- The cookie carries a random token signed with the session key; the row is found by the
-- token's SHA-256, so a copy of this table cannot be replayed as cookies. What the person may
-- see is fixed at sign-in from GitHub's answers and ends with the session.

CREATE TABLE IF NOT EXISTS web_sessions (
    token_hash      TEXT    PRIMARY KEY,  -- hex SHA-256 of the cookie's token
    login           TEXT    NOT NULL,
    admin           INTEGER NOT NULL DEFAULT 0 CHECK (admin IN (0, 1)),
    repository_ids  TEXT    NOT NULL,     -- space-separated GitHub repository ids
    csrf            TEXT    NOT NULL,     -- the token every form of this session carries
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS web_sessions_expiry ON web_sessions (expires_at);
