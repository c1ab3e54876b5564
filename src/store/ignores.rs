//! Updates a repository asked not to be offered (`ignore <package-or-image> [scope]`), with who
//! asked, when and where.
//!
//! Rows are never deleted: removing one stamps who and when. A unique index keeps one live row
//! per (repository, name as typed, scope); asking again for the same one keeps the first, whose
//! who/when/where is the one that counts.

use super::{StoreError, from_ms, from_ms_opt, to_ms};
use crate::policy::{IgnoreRule, IgnoreScope};
use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;
use sqlx::{Any, Executor, Row};

/// An ignore as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateIgnore {
    pub id: i64,
    pub repository_id: i64,
    /// The package or image name as typed.
    pub name: String,
    pub scope: IgnoreScope,
    /// A login, without `@`.
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    /// Where it was asked: `acme/shop#12 comment 345`, or a URL.
    pub source: String,
    pub removed_at: Option<DateTime<Utc>>,
    pub removed_by: Option<String>,
}

impl UpdateIgnore {
    /// The rule the policy applies for it.
    pub fn to_rule(&self) -> IgnoreRule {
        IgnoreRule {
            name: self.name.clone(),
            scope: self.scope.clone(),
            created_by: self.created_by.clone(),
            created_at: self.created_at.date_naive(),
            source: self.source.clone(),
        }
    }
}

/// An ignore to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewIgnore<'a> {
    pub repository_id: i64,
    pub name: &'a str,
    pub scope: &'a IgnoreScope,
    /// A login; a leading `@` is dropped.
    pub created_by: &'a str,
    pub source: &'a str,
}

const COLUMNS: &str =
    "id, repository_id, name, scope, created_by, created_at, source, removed_at, removed_by";

const T: &str = "update_ignores";

/// An `update_ignores` row read back, for any query selecting its columns.
pub fn from_row(r: &AnyRow) -> Result<UpdateIgnore, StoreError> {
    let scope: String = r.try_get("scope")?;
    Ok(UpdateIgnore {
        id: r.try_get("id")?,
        repository_id: r.try_get("repository_id")?,
        name: r.try_get("name")?,
        scope: IgnoreScope::from_stored(&scope).ok_or_else(|| StoreError::Corrupt {
            table: T,
            message: format!("unknown ignore scope `{scope}`"),
        })?,
        created_by: r.try_get("created_by")?,
        created_at: from_ms(r.try_get("created_at")?, T)?,
        source: r.try_get("source")?,
        removed_at: from_ms_opt(r.try_get("removed_at")?, T)?,
        removed_by: r.try_get("removed_by")?,
    })
}

fn login(who: &str) -> &str {
    who.trim().trim_start_matches('@')
}

/// Records an ignore at `now`. Returns its id, or `None` when the same name and scope are
/// already ignored (the earlier row stays as it was).
pub async fn add<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    ignore: &NewIgnore<'_>,
    now: DateTime<Utc>,
) -> Result<Option<i64>, StoreError> {
    let id = sqlx::query_scalar(
        "INSERT INTO update_ignores (repository_id, name, scope, created_by, created_at, source)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (repository_id, name, scope) WHERE removed_at IS NULL DO NOTHING
         RETURNING id",
    )
    .bind(ignore.repository_id)
    .bind(ignore.name)
    .bind(ignore.scope.as_stored())
    .bind(login(ignore.created_by))
    .bind(to_ms(now))
    .bind(ignore.source)
    .fetch_optional(ex)
    .await?;
    Ok(id)
}

/// Removes the live ignores of `name` (exactly as typed), of every scope or only `scope`.
/// Returns what it removed; empty when nothing matched.
pub async fn remove<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    repository_id: i64,
    name: &str,
    scope: Option<&IgnoreScope>,
    removed_by: &str,
    now: DateTime<Utc>,
) -> Result<Vec<UpdateIgnore>, StoreError> {
    // An empty `$5` means every scope (no scope is spelt empty); one query serves both backends.
    let sql = format!(
        "UPDATE update_ignores SET removed_at = $1, removed_by = $2
         WHERE repository_id = $3 AND name = $4 AND removed_at IS NULL
           AND ($5 = '' OR scope = $5)
         RETURNING {COLUMNS}"
    );
    let rows = sqlx::query(&sql)
        .bind(to_ms(now))
        .bind(login(removed_by))
        .bind(repository_id)
        .bind(name)
        .bind(scope.map(IgnoreScope::as_stored).unwrap_or_default())
        .fetch_all(ex)
        .await?;
    let mut removed = rows.iter().map(from_row).collect::<Result<Vec<_>, _>>()?;
    // RETURNING gives no order; the reply lists them oldest first.
    removed.sort_by_key(|i| i.id);
    Ok(removed)
}

/// The ignores of a repository in force, oldest first: what the policy applies.
pub async fn live<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    repository_id: i64,
) -> Result<Vec<UpdateIgnore>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM update_ignores
         WHERE repository_id = $1 AND removed_at IS NULL ORDER BY created_at, id"
    );
    let rows = sqlx::query(&sql).bind(repository_id).fetch_all(ex).await?;
    rows.iter().map(from_row).collect()
}
