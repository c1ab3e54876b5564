-- Remediation history, SQLite flavour. Keep in step with ../postgres/0005_finding_history.sql
-- (tests/store.rs compares the shapes).
-- `findings` keeps only each finding's latest state: a finding fixed and back restarts its
-- first-seen clock and forgets the earlier exposure. `finding_events` keeps every change, so
-- time to remediate, recurrence and rework can be computed for any past window, and
-- `daily_snapshots` holds the open counts per day, rebuilt from the events at any time.

-- What the figures group and time by, recorded by every scan beside `findings` (a table of
-- its own rather than new columns: SQLite cannot add a column only if it is missing, and every
-- migration here must survive a second application).
CREATE TABLE IF NOT EXISTS finding_facts (
    repository_id   INTEGER NOT NULL REFERENCES repositories (id),
    finding_key     TEXT    NOT NULL,
    severity        TEXT    NOT NULL,     -- the advisory's, `unknown` when unrated
    package         TEXT    NOT NULL,     -- package or image name, without version or tag
    owners          TEXT    NOT NULL,     -- CODEOWNERS of the file, space-separated
    excepted_at     INTEGER,               -- since when an exception covers it
    PRIMARY KEY (repository_id, finding_key)
);

CREATE TABLE IF NOT EXISTS finding_events (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    repository_id   INTEGER NOT NULL REFERENCES repositories (id),
    finding_key     TEXT    NOT NULL,
    event           TEXT    NOT NULL CHECK (event IN ('opened', 'fixed', 'excepted')),
    level           TEXT    NOT NULL,
    severity        TEXT    NOT NULL,
    package         TEXT    NOT NULL,
    advisory        TEXT    NOT NULL,     -- the preferred advisory id, '' for catalog rules
    at              INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS finding_events_repository ON finding_events (repository_id, at);
CREATE INDEX IF NOT EXISTS finding_events_at ON finding_events (at);

-- The tier a repository's last scan used, for the per-tier and per-team views.
CREATE TABLE IF NOT EXISTS repository_profiles (
    repository_id   INTEGER PRIMARY KEY REFERENCES repositories (id),
    tier            TEXT    NOT NULL,
    updated_at      INTEGER NOT NULL
);

-- Open findings per day (UTC), repository, level and severity, as of the day's end.
CREATE TABLE IF NOT EXISTS daily_snapshots (
    day             TEXT    NOT NULL,     -- YYYY-MM-DD
    repository_id   INTEGER NOT NULL,
    level           TEXT    NOT NULL,
    severity        TEXT    NOT NULL,
    open_count      INTEGER NOT NULL,
    PRIMARY KEY (day, repository_id, level, severity)
);

-- Findings stored before this migration: their current exposure, as events.
INSERT INTO finding_events (repository_id, finding_key, event, level, severity, package, advisory, at)
SELECT repository_id, finding_key, 'opened', level, 'unknown', '',
       CASE WHEN instr(advisories, ' ') > 0 THEN substr(advisories, 1, instr(advisories, ' ') - 1) ELSE advisories END,
       first_seen_at
FROM findings f0
WHERE NOT EXISTS (SELECT 1 FROM finding_events e WHERE e.repository_id = f0.repository_id AND e.finding_key = f0.finding_key);
INSERT INTO finding_events (repository_id, finding_key, event, level, severity, package, advisory, at)
SELECT repository_id, finding_key, 'fixed', level, 'unknown', '',
       CASE WHEN instr(advisories, ' ') > 0 THEN substr(advisories, 1, instr(advisories, ' ') - 1) ELSE advisories END,
       fixed_at
FROM findings f0
WHERE f0.fixed_at IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM finding_events e WHERE e.repository_id = f0.repository_id AND e.finding_key = f0.finding_key AND e.event = 'fixed');
