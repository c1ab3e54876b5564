-- Base-image lineage, SQLite flavour. Keep in step with ../postgres/0009_base_image_lineage.sql
-- (tests/store.rs compares the shapes).
-- One row per period during which a stage of a Dockerfile was built FROM the same image, tag
-- and digest: a scan that sees what the stage's latest row says only moves its last_seen_at;
-- anything else starts a new row. Periods rather than one row per reference, so a revert
-- (A, then B, then A again) stays three steps of the lineage.
CREATE TABLE IF NOT EXISTS base_image_periods (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    repository_id   INTEGER NOT NULL REFERENCES repositories (id),
    file            TEXT    NOT NULL,     -- the Dockerfile's path in the repository
    stage           TEXT    NOT NULL,     -- the stage's `AS` name, or `#<index>` without one
    image           TEXT    NOT NULL,     -- the image name as written, without tag or digest
    tag             TEXT    NOT NULL,     -- '' when none is written
    digest          TEXT    NOT NULL,     -- pinned or looked up in the registry; '' when unknown
    first_commit    TEXT    NOT NULL,     -- the default branch's head at the first scan that saw it
    first_seen_at   INTEGER NOT NULL,
    last_seen_at    INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS base_image_periods_stage
    ON base_image_periods (repository_id, file, stage, first_seen_at);
