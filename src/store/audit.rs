//! The audit trail: every action the bot took, and why, in words a person can check.

use super::{StoreError, from_ms, to_ms};
use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;
use sqlx::{Any, Executor, Row};

/// One entry. `action` is a dotted name (`installation.created`, `fix_pr.closed_by_human`,
/// `job.failed`); `reason` says why the bot did it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub at: DateTime<Utc>,
    pub installation_id: Option<i64>,
    pub repository_id: Option<i64>,
    pub job_id: Option<i64>,
    pub delivery_id: Option<String>,
    pub action: String,
    pub reason: String,
}

impl AuditEntry {
    /// An entry with no subject filled in yet.
    pub fn new(at: DateTime<Utc>, action: impl Into<String>, reason: impl Into<String>) -> Self {
        AuditEntry {
            at,
            installation_id: None,
            repository_id: None,
            job_id: None,
            delivery_id: None,
            action: action.into(),
            reason: reason.into(),
        }
    }
}

pub async fn record<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    entry: &AuditEntry,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO audit (at, installation_id, repository_id, job_id, delivery_id, action, reason)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(to_ms(entry.at))
    .bind(entry.installation_id)
    .bind(entry.repository_id)
    .bind(entry.job_id)
    .bind(entry.delivery_id.as_deref())
    .bind(&entry.action)
    .bind(&entry.reason)
    .execute(ex)
    .await?;
    Ok(())
}

/// An `audit` row read back, for any query selecting its columns.
pub fn from_row(r: &AnyRow) -> Result<AuditEntry, StoreError> {
    Ok(AuditEntry {
        at: from_ms(r.try_get("at")?, "audit")?,
        installation_id: r.try_get("installation_id")?,
        repository_id: r.try_get("repository_id")?,
        job_id: r.try_get("job_id")?,
        delivery_id: r.try_get("delivery_id")?,
        action: r.try_get("action")?,
        reason: r.try_get("reason")?,
    })
}
