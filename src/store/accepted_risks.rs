//! Risks accepted with `accept-risk`: exceptions granted in a comment, with who, when, where
//! and why.
//!
//! Rows are never deleted. Revoking one stamps who and when; granting the same target again
//! for the same repository revokes the earlier grant (in the name of the new granter) and
//! inserts the new one, so the history shows every grant and what replaced it. A unique index
//! keeps one live grant per target.

use super::{StoreError, from_ms, from_ms_opt, to_ms};
use crate::model::Target;
use crate::policy::Exception;
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::any::AnyRow;
use sqlx::{Any, AnyConnection, Executor, Row};

/// A grant as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcceptedRisk {
    pub id: i64,
    pub repository_id: i64,
    /// The advisory id or rule id, as [`Target::as_str`] spells it.
    pub target: String,
    pub reason: String,
    /// The last day it covers.
    pub until: NaiveDate,
    /// A login, without `@`.
    pub granted_by: String,
    pub granted_at: DateTime<Utc>,
    /// Where it was granted: `acme/shop#12 comment 345`, or a URL.
    pub source: String,
    /// Set when revoked, or replaced by a later grant of the same target.
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoked_by: Option<String>,
}

impl AcceptedRisk {
    /// The exception the policy applies for it.
    pub fn to_exception(&self) -> Exception {
        Exception::granted(
            &self.target,
            &self.reason,
            self.until,
            &self.granted_by,
            self.granted_at.date_naive(),
            &self.source,
        )
    }

    /// Not revoked and not past its date on `today`.
    pub fn in_force(&self, today: NaiveDate) -> bool {
        self.revoked_at.is_none() && self.until >= today
    }
}

/// A grant to store. The date is checked against the policy before this point
/// (`commands::validate_accept_risk`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAcceptedRisk<'a> {
    pub repository_id: i64,
    pub target: &'a Target,
    pub reason: &'a str,
    pub until: NaiveDate,
    /// A login; a leading `@` is dropped.
    pub granted_by: &'a str,
    pub source: &'a str,
}

/// What [`grant`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Granted {
    pub id: i64,
    /// The grant of the same target it replaced, now revoked in the new granter's name.
    pub replaced: Option<AcceptedRisk>,
}

const COLUMNS: &str = "id, repository_id, target, reason, until, granted_by, granted_at, source, revoked_at, revoked_by";

const T: &str = "accepted_risks";

/// An `accepted_risks` row read back, for any query selecting its columns.
pub fn from_row(r: &AnyRow) -> Result<AcceptedRisk, StoreError> {
    let until: String = r.try_get("until")?;
    Ok(AcceptedRisk {
        id: r.try_get("id")?,
        repository_id: r.try_get("repository_id")?,
        target: r.try_get("target")?,
        reason: r.try_get("reason")?,
        until: NaiveDate::parse_from_str(&until, "%Y-%m-%d").map_err(|e| StoreError::Corrupt {
            table: T,
            message: format!("`until` is `{until}`, not a YYYY-MM-DD date: {e}"),
        })?,
        granted_by: r.try_get("granted_by")?,
        granted_at: from_ms(r.try_get("granted_at")?, T)?,
        source: r.try_get("source")?,
        revoked_at: from_ms_opt(r.try_get("revoked_at")?, T)?,
        revoked_by: r.try_get("revoked_by")?,
    })
}

fn login(who: &str) -> &str {
    who.trim().trim_start_matches('@')
}

/// Records a grant at `now`, revoking a live grant of the same target first. Run it inside a
/// transaction so the two writes stand or fall together; it begins with a write, as SQLite
/// needs. Two grants racing for one target: the unique index refuses the second.
pub async fn grant(
    conn: &mut AnyConnection,
    risk: &NewAcceptedRisk<'_>,
    now: DateTime<Utc>,
) -> Result<Granted, StoreError> {
    let replaced = revoke(
        &mut *conn,
        risk.repository_id,
        risk.target,
        risk.granted_by,
        now,
    )
    .await?;
    let id = sqlx::query_scalar(
        "INSERT INTO accepted_risks (repository_id, target, reason, until, granted_by,
                                     granted_at, source)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(risk.repository_id)
    .bind(risk.target.as_str())
    .bind(risk.reason)
    .bind(risk.until.format("%Y-%m-%d").to_string())
    .bind(login(risk.granted_by))
    .bind(to_ms(now))
    .bind(risk.source)
    .fetch_one(&mut *conn)
    .await?;
    Ok(Granted { id, replaced })
}

/// Revokes the live grant of `target`; returns it as revoked, or `None` when there is none.
pub async fn revoke<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    repository_id: i64,
    target: &Target,
    revoked_by: &str,
    now: DateTime<Utc>,
) -> Result<Option<AcceptedRisk>, StoreError> {
    let sql = format!(
        "UPDATE accepted_risks SET revoked_at = $1, revoked_by = $2
         WHERE repository_id = $3 AND target = $4 AND revoked_at IS NULL
         RETURNING {COLUMNS}"
    );
    let row = sqlx::query(&sql)
        .bind(to_ms(now))
        .bind(login(revoked_by))
        .bind(repository_id)
        .bind(target.as_str())
        .fetch_optional(ex)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// The grants of a repository that are not revoked, oldest first: what the policy applies.
/// Expired ones are included: the policy reports them as expired until someone revokes or
/// renews them, as it does for an expired exception in the repository config.
pub async fn live<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    repository_id: i64,
) -> Result<Vec<AcceptedRisk>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM accepted_risks
         WHERE repository_id = $1 AND revoked_at IS NULL ORDER BY granted_at, id"
    );
    let rows = sqlx::query(&sql).bind(repository_id).fetch_all(ex).await?;
    rows.iter().map(from_row).collect()
}
