//! Installations of the app and the repositories each one grants.

use super::{StoreError, from_ms, from_ms_opt, to_ms};
use chrono::{DateTime, Utc};
use sqlx::{Any, Executor, Row};

/// One installation as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Installation {
    pub id: i64,
    pub account_login: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub suspended_at: Option<DateTime<Utc>>,
    pub deleted_at: Option<DateTime<Utc>>,
}

/// One repository as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repository {
    pub id: i64,
    pub installation_id: i64,
    pub full_name: String,
    pub default_branch: Option<String>,
    pub private: bool,
    pub added_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub removed_at: Option<DateTime<Utc>>,
}

/// What the app learns about a repository from an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepositoryUpsert<'a> {
    pub id: i64,
    pub installation_id: i64,
    pub full_name: &'a str,
    /// `None` keeps what is stored: installation events do not carry it.
    pub default_branch: Option<&'a str>,
    /// `None` keeps what is stored (false for a new row).
    pub private: Option<bool>,
}

/// Records an installation (again): a re-install clears `deleted_at` and `suspended_at`.
pub async fn upsert_installation<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    id: i64,
    account_login: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO installations (id, account_login, created_at, updated_at)
         VALUES ($1, $2, $3, $3)
         ON CONFLICT (id) DO UPDATE SET account_login = $2, updated_at = $3,
             suspended_at = NULL, deleted_at = NULL",
    )
    .bind(id)
    .bind(account_login)
    .bind(to_ms(now))
    .execute(ex)
    .await?;
    Ok(())
}

/// Makes sure a row exists for an installation first met through another event (a push
/// from an installation made before this database existed), without touching a known one.
pub async fn ensure_installation<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    id: i64,
    account_login: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO installations (id, account_login, created_at, updated_at)
         VALUES ($1, $2, $3, $3) ON CONFLICT (id) DO NOTHING",
    )
    .bind(id)
    .bind(account_login)
    .bind(to_ms(now))
    .execute(ex)
    .await?;
    Ok(())
}

/// Marks an installation deleted and all its repositories removed.
pub async fn delete_installation(
    conn: &mut sqlx::AnyConnection,
    id: i64,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let now = to_ms(now);
    sqlx::query("UPDATE installations SET deleted_at = $1, updated_at = $1 WHERE id = $2")
        .bind(now)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "UPDATE repositories SET removed_at = $1, updated_at = $1
         WHERE installation_id = $2 AND removed_at IS NULL",
    )
    .bind(now)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Sets or clears `suspended_at`.
pub async fn set_suspended<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    id: i64,
    suspended: bool,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let now = to_ms(now);
    sqlx::query("UPDATE installations SET suspended_at = $1, updated_at = $2 WHERE id = $3")
        .bind(suspended.then_some(now))
        .bind(now)
        .bind(id)
        .execute(ex)
        .await?;
    Ok(())
}

pub async fn installation<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    id: i64,
) -> Result<Option<Installation>, StoreError> {
    let row = sqlx::query(
        "SELECT id, account_login, created_at, updated_at, suspended_at, deleted_at
         FROM installations WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(ex)
    .await?;
    row.map(|r| {
        const T: &str = "installations";
        Ok(Installation {
            id: r.try_get("id")?,
            account_login: r.try_get("account_login")?,
            created_at: from_ms(r.try_get("created_at")?, T)?,
            updated_at: from_ms(r.try_get("updated_at")?, T)?,
            suspended_at: from_ms_opt(r.try_get("suspended_at")?, T)?,
            deleted_at: from_ms_opt(r.try_get("deleted_at")?, T)?,
        })
    })
    .transpose()
}

/// Records a repository (again): re-adding clears `removed_at`; a rename updates the name.
///
/// A repository already recorded as `repo` says is left alone, `updated_at` included: nearly
/// every push names its repository as it is, and an update (even to the same values) would
/// lock the row until the delivery commits, so on PostgreSQL deliveries for one busy
/// repository would queue behind each other's commit. The `NOT EXISTS` keeps that to one
/// statement; a row that differs conflicts and is updated as before.
pub async fn upsert_repository<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    repo: &RepositoryUpsert<'_>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO repositories
             (id, installation_id, full_name, default_branch, private, added_at, updated_at)
         SELECT $1, $2, $3, $4, COALESCE($5, 0), $6, $6
         WHERE NOT EXISTS (
             SELECT 1 FROM repositories r
             WHERE r.id = $1 AND r.installation_id = $2 AND r.full_name = $3
               AND r.removed_at IS NULL
               AND ($4 IS NULL OR r.default_branch = $4)
               AND ($5 IS NULL OR r.private = $5))
         ON CONFLICT (id) DO UPDATE SET installation_id = $2, full_name = $3,
             default_branch = COALESCE($4, repositories.default_branch),
             private = COALESCE($5, repositories.private),
             updated_at = $6, removed_at = NULL",
    )
    .bind(repo.id)
    .bind(repo.installation_id)
    .bind(repo.full_name)
    .bind(repo.default_branch)
    .bind(repo.private.map(i64::from))
    .bind(to_ms(now))
    .execute(ex)
    .await?;
    Ok(())
}

/// Marks a repository removed from its installation; its history stays.
pub async fn remove_repository<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    id: i64,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE repositories SET removed_at = $1, updated_at = $1
         WHERE id = $2 AND removed_at IS NULL",
    )
    .bind(to_ms(now))
    .bind(id)
    .execute(ex)
    .await?;
    Ok(())
}

const REPOSITORY_COLUMNS: &str =
    "id, installation_id, full_name, default_branch, private, added_at, updated_at, removed_at";

fn repository_from_row(r: &sqlx::any::AnyRow) -> Result<Repository, StoreError> {
    const T: &str = "repositories";
    Ok(Repository {
        id: r.try_get("id")?,
        installation_id: r.try_get("installation_id")?,
        full_name: r.try_get("full_name")?,
        default_branch: r.try_get("default_branch")?,
        private: r.try_get::<i64, _>("private")? != 0,
        added_at: from_ms(r.try_get("added_at")?, T)?,
        updated_at: from_ms(r.try_get("updated_at")?, T)?,
        removed_at: from_ms_opt(r.try_get("removed_at")?, T)?,
    })
}

pub async fn repository<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    id: i64,
) -> Result<Option<Repository>, StoreError> {
    let sql = format!("SELECT {REPOSITORY_COLUMNS} FROM repositories WHERE id = $1");
    let row = sqlx::query(&sql).bind(id).fetch_optional(ex).await?;
    row.as_ref().map(repository_from_row).transpose()
}

/// The repositories an installation currently grants, by name.
pub async fn active_repositories<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    installation_id: i64,
) -> Result<Vec<Repository>, StoreError> {
    let sql = format!(
        "SELECT {REPOSITORY_COLUMNS} FROM repositories
         WHERE installation_id = $1 AND removed_at IS NULL ORDER BY full_name"
    );
    let rows = sqlx::query(&sql)
        .bind(installation_id)
        .fetch_all(ex)
        .await?;
    rows.iter().map(repository_from_row).collect()
}

/// Every repository a scheduled sweep scans: granted to an installation that is neither
/// suspended nor deleted, and not removed from it.
pub async fn sweepable_repositories<'e, E: Executor<'e, Database = Any>>(
    ex: E,
) -> Result<Vec<Repository>, StoreError> {
    let columns: Vec<String> = REPOSITORY_COLUMNS
        .split(", ")
        .map(|c| format!("r.{c}"))
        .collect();
    let sql = format!(
        "SELECT {} FROM repositories r JOIN installations i ON i.id = r.installation_id
         WHERE r.removed_at IS NULL AND i.suspended_at IS NULL AND i.deleted_at IS NULL
         ORDER BY r.full_name",
        columns.join(", ")
    );
    let rows = sqlx::query(&sql).fetch_all(ex).await?;
    rows.iter().map(repository_from_row).collect()
}
