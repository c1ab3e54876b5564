//! The fix pull requests the bot opened, and what became of them.
//!
//! `closed_by_human` is the bot's memory of "no": a fix PR a person closed without merging is
//! never reopened for the same fix key (see [`declined`]).

use super::{StoreError, from_ms, from_ms_opt, to_ms};
use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;
use sqlx::{Any, Executor, Row};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FixPrState {
    Open,
    Closed,
    Merged,
}

impl FixPrState {
    pub fn as_str(self) -> &'static str {
        match self {
            FixPrState::Open => "open",
            FixPrState::Closed => "closed",
            FixPrState::Merged => "merged",
        }
    }

    pub fn parse(s: &str) -> Option<FixPrState> {
        [FixPrState::Open, FixPrState::Closed, FixPrState::Merged]
            .into_iter()
            .find(|state| state.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixPr {
    pub repository_id: i64,
    pub number: i64,
    pub branch: String,
    /// What the PR fixes, stable across updates: the same key means the same fix.
    pub fix_key: String,
    pub state: FixPrState,
    pub head_sha: String,
    pub closed_by_human: bool,
    pub opened_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
}

/// A PR the bot has just opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenedFixPr<'a> {
    pub repository_id: i64,
    pub number: i64,
    pub branch: &'a str,
    pub fix_key: &'a str,
    pub head_sha: &'a str,
}

pub(crate) const COLUMNS: &str = "repository_id, number, branch, fix_key, state, head_sha, closed_by_human, \
    opened_at, updated_at, closed_at";

pub(crate) fn from_row(r: &AnyRow) -> Result<FixPr, StoreError> {
    const T: &str = "fix_prs";
    let state: String = r.try_get("state")?;
    Ok(FixPr {
        repository_id: r.try_get("repository_id")?,
        number: r.try_get("number")?,
        branch: r.try_get("branch")?,
        fix_key: r.try_get("fix_key")?,
        state: FixPrState::parse(&state).ok_or_else(|| StoreError::Corrupt {
            table: T,
            message: format!("unknown fix PR state `{state}`"),
        })?,
        head_sha: r.try_get("head_sha")?,
        closed_by_human: r.try_get::<i64, _>("closed_by_human")? != 0,
        opened_at: from_ms(r.try_get("opened_at")?, T)?,
        updated_at: from_ms(r.try_get("updated_at")?, T)?,
        closed_at: from_ms_opt(r.try_get("closed_at")?, T)?,
    })
}

pub async fn insert<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    pr: &OpenedFixPr<'_>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO fix_prs (repository_id, number, branch, fix_key, state, head_sha,
                              closed_by_human, opened_at, updated_at)
         VALUES ($1, $2, $3, $4, 'open', $5, 0, $6, $6)",
    )
    .bind(pr.repository_id)
    .bind(pr.number)
    .bind(pr.branch)
    .bind(pr.fix_key)
    .bind(pr.head_sha)
    .bind(to_ms(now))
    .execute(ex)
    .await?;
    Ok(())
}

/// Records a new head commit pushed to an open fix PR.
pub async fn set_head<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    repository_id: i64,
    number: i64,
    head_sha: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE fix_prs SET head_sha = $1, updated_at = $2
         WHERE repository_id = $3 AND number = $4 AND state = 'open'",
    )
    .bind(head_sha)
    .bind(to_ms(now))
    .bind(repository_id)
    .bind(number)
    .execute(ex)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Records that an open fix PR now carries another fix (or the same one rebuilt): its fix key
/// and its new head. `false` when no open row matched.
pub async fn set_fix<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    repository_id: i64,
    number: i64,
    fix_key: &str,
    head_sha: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE fix_prs SET fix_key = $1, head_sha = $2, updated_at = $3
         WHERE repository_id = $4 AND number = $5 AND state = 'open'",
    )
    .bind(fix_key)
    .bind(head_sha)
    .bind(to_ms(now))
    .bind(repository_id)
    .bind(number)
    .execute(ex)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Records that a fix PR was closed: merged, or closed without merging (by a person when
/// `by_human`, or by the bot itself when it superseded the PR). `false` when the PR is not
/// one of the bot's.
pub async fn record_closed<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    repository_id: i64,
    number: i64,
    merged: bool,
    by_human: bool,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let state = if merged {
        FixPrState::Merged
    } else {
        FixPrState::Closed
    };
    let done = sqlx::query(
        "UPDATE fix_prs SET state = $1, closed_by_human = $2, closed_at = $3, updated_at = $3
         WHERE repository_id = $4 AND number = $5",
    )
    .bind(state.as_str())
    .bind(i64::from(!merged && by_human))
    .bind(to_ms(now))
    .bind(repository_id)
    .bind(number)
    .execute(ex)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn get<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    repository_id: i64,
    number: i64,
) -> Result<Option<FixPr>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM fix_prs WHERE repository_id = $1 AND number = $2");
    let row = sqlx::query(&sql)
        .bind(repository_id)
        .bind(number)
        .fetch_optional(ex)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// The open fix PR for a fix key, if any: update it rather than open another.
pub async fn open_for_fix<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    repository_id: i64,
    fix_key: &str,
) -> Result<Option<FixPr>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM fix_prs
         WHERE repository_id = $1 AND fix_key = $2 AND state = 'open'
         ORDER BY number DESC LIMIT 1"
    );
    let row = sqlx::query(&sql)
        .bind(repository_id)
        .bind(fix_key)
        .fetch_optional(ex)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// Whether a person already said no to this fix by closing its PR unmerged.
pub async fn declined<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    repository_id: i64,
    fix_key: &str,
) -> Result<bool, StoreError> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM fix_prs
         WHERE repository_id = $1 AND fix_key = $2 AND closed_by_human = 1",
    )
    .bind(repository_id)
    .bind(fix_key)
    .fetch_one(ex)
    .await?;
    Ok(n > 0)
}

/// How many fix PRs are open in a repository, against `max_open_fix_prs`.
pub async fn count_open<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    repository_id: i64,
) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM fix_prs WHERE repository_id = $1 AND state = 'open'",
    )
    .bind(repository_id)
    .fetch_one(ex)
    .await?)
}

/// When the latest fix PR on `branch` was opened, whatever its state: how the digest-refresh
/// window (at most one PR per repository per window) is kept without a table of its own.
pub async fn last_opened_on_branch<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    repository_id: i64,
    branch: &str,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    let ms: Option<i64> = sqlx::query_scalar(
        "SELECT MAX(opened_at) FROM fix_prs WHERE repository_id = $1 AND branch = $2",
    )
    .bind(repository_id)
    .bind(branch)
    .fetch_one(ex)
    .await?;
    ms.map(|ms| from_ms(ms, "fix_prs")).transpose()
}
