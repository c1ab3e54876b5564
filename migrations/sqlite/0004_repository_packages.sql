-- Which packages each repository's default branch holds, SQLite flavour. Keep in step with
-- ../postgres/0004_repository_packages.sql (tests/store.rs compares the shapes).
-- Written by every default-branch scan (the inventory it read), so that a new or changed
-- advisory rescans exactly the repositories holding a package it names, at once.

CREATE TABLE IF NOT EXISTS repository_packages (
    repository_id   INTEGER NOT NULL REFERENCES repositories (id),
    ecosystem       TEXT    NOT NULL,     -- as OSV spells it: npm, PyPI, crates.io, Go, docker
    name            TEXT    NOT NULL,     -- normalised as advisories are matched
    PRIMARY KEY (repository_id, ecosystem, name)
);
-- What a sync asks: who holds this package?
CREATE INDEX IF NOT EXISTS repository_packages_package ON repository_packages (ecosystem, name);
