//! The package index: which packages each repository's default branch holds, so that an
//! advisory sync can rescan exactly the repositories a changed advisory can reach.
//!
//! Keys are `(ecosystem, normalised name)` as [`crate::knowledge::rescan`] builds them on both
//! sides.

use super::StoreError;
use sqlx::{Any, AnyConnection, Executor, Row};
use std::collections::BTreeSet;

/// One package as stored: OSV ecosystem name and normalised package name.
pub type PackageKey = (String, String);

/// How many names one lookup binds: well under SQLite's and PostgreSQL's parameter limits.
const CHUNK: usize = 500;
/// Rows one insert writes (two parameters each).
const INSERT_ROWS: usize = 250;

/// What recording an inventory changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IndexDelta {
    pub added: usize,
    pub removed: usize,
}

/// Makes the index of `repository_id` exactly `packages`. Writes only the difference from what
/// is stored: a scan that changed nothing costs one read.
pub async fn record_inventory(
    conn: &mut AnyConnection,
    repository_id: i64,
    packages: &BTreeSet<PackageKey>,
) -> Result<IndexDelta, StoreError> {
    let rows =
        sqlx::query("SELECT ecosystem, name FROM repository_packages WHERE repository_id = $1")
            .bind(repository_id)
            .fetch_all(&mut *conn)
            .await?;
    let mut stored = BTreeSet::new();
    for row in &rows {
        stored.insert((row.try_get::<String, _>(0)?, row.try_get::<String, _>(1)?));
    }
    let mut delta = IndexDelta::default();
    for (ecosystem, name) in stored.difference(packages) {
        sqlx::query(
            "DELETE FROM repository_packages WHERE repository_id = $1 AND ecosystem = $2 AND name = $3",
        )
        .bind(repository_id)
        .bind(ecosystem)
        .bind(name)
        .execute(&mut *conn)
        .await?;
        delta.removed += 1;
    }
    // Many rows a statement: a first scan of a large lockfile adds thousands.
    let added: Vec<&PackageKey> = packages.difference(&stored).collect();
    for chunk in added.chunks(INSERT_ROWS) {
        let rows: Vec<String> = (0..chunk.len())
            .map(|i| format!("($1, ${}, ${})", 2 * i + 2, 2 * i + 3))
            .collect();
        let sql = format!(
            "INSERT INTO repository_packages (repository_id, ecosystem, name) VALUES {}
             ON CONFLICT (repository_id, ecosystem, name) DO NOTHING",
            rows.join(", ")
        );
        let mut query = sqlx::query(&sql).bind(repository_id);
        for (ecosystem, name) in chunk {
            query = query.bind(ecosystem).bind(name);
        }
        query.execute(&mut *conn).await?;
        delta.added += chunk.len();
    }
    Ok(delta)
}

/// The packages the index holds for `repository_id`: what its last default-branch scan read.
pub async fn of_repository<'e>(
    ex: impl Executor<'e, Database = Any>,
    repository_id: i64,
) -> Result<BTreeSet<PackageKey>, StoreError> {
    let rows =
        sqlx::query("SELECT ecosystem, name FROM repository_packages WHERE repository_id = $1")
            .bind(repository_id)
            .fetch_all(ex)
            .await?;
    rows.iter()
        .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
        .collect()
}

/// A repository that holds a package asked for.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Holder {
    pub repository_id: i64,
    pub installation_id: i64,
    pub full_name: String,
    pub package: PackageKey,
}

/// Every active repository (not removed, installation neither suspended nor deleted) whose
/// index holds one of `packages`, one row per (repository, package), sorted.
pub async fn holders<'e, E>(
    ex: E,
    packages: &BTreeSet<PackageKey>,
) -> Result<Vec<Holder>, StoreError>
where
    E: Executor<'e, Database = Any> + Copy,
{
    let mut by_ecosystem: std::collections::BTreeMap<&str, Vec<&str>> = Default::default();
    for (ecosystem, name) in packages {
        by_ecosystem.entry(ecosystem).or_default().push(name);
    }
    let mut found = Vec::new();
    for (ecosystem, names) in by_ecosystem {
        for chunk in names.chunks(CHUNK) {
            let placeholders: Vec<String> =
                (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
            let sql = format!(
                "SELECT p.repository_id, r.installation_id, r.full_name, p.name
                 FROM repository_packages p
                 JOIN repositories r ON r.id = p.repository_id
                 JOIN installations i ON i.id = r.installation_id
                 WHERE r.removed_at IS NULL AND i.suspended_at IS NULL AND i.deleted_at IS NULL
                   AND p.ecosystem = $1 AND p.name IN ({})",
                placeholders.join(", ")
            );
            let mut query = sqlx::query(&sql).bind(ecosystem);
            for name in chunk {
                query = query.bind(*name);
            }
            for row in query.fetch_all(ex).await? {
                found.push(Holder {
                    repository_id: row.try_get(0)?,
                    installation_id: row.try_get(1)?,
                    full_name: row.try_get(2)?,
                    package: (ecosystem.to_string(), row.try_get(3)?),
                });
            }
        }
    }
    found.sort();
    Ok(found)
}
