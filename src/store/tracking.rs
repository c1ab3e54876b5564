//! The one tracking issue per repository that the service keeps up to date.

use super::{StoreError, from_ms, to_ms};
use chrono::{DateTime, Utc};
use sqlx::{Any, Executor, Row};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrackingState {
    Open,
    Closed,
}

impl TrackingState {
    pub fn as_str(self) -> &'static str {
        match self {
            TrackingState::Open => "open",
            TrackingState::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Option<TrackingState> {
        [TrackingState::Open, TrackingState::Closed]
            .into_iter()
            .find(|state| state.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackingIssue {
    pub repository_id: i64,
    pub number: i64,
    pub state: TrackingState,
    pub updated_at: DateTime<Utc>,
}

pub async fn get<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    repository_id: i64,
) -> Result<Option<TrackingIssue>, StoreError> {
    const T: &str = "tracking_issues";
    let row = sqlx::query(
        "SELECT repository_id, number, state, updated_at FROM tracking_issues
         WHERE repository_id = $1",
    )
    .bind(repository_id)
    .fetch_optional(ex)
    .await?;
    let Some(r) = row else { return Ok(None) };
    let state: String = r.try_get("state")?;
    Ok(Some(TrackingIssue {
        repository_id: r.try_get("repository_id")?,
        number: r.try_get("number")?,
        state: TrackingState::parse(&state).ok_or_else(|| StoreError::Corrupt {
            table: T,
            message: format!("unknown tracking issue state `{state}`"),
        })?,
        updated_at: from_ms(r.try_get("updated_at")?, T)?,
    }))
}

/// Records the repository's tracking issue and its state, replacing any earlier one (a
/// tracking issue someone deleted is followed by a new number).
pub async fn set<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    repository_id: i64,
    number: i64,
    state: TrackingState,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO tracking_issues (repository_id, number, state, updated_at)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (repository_id) DO UPDATE SET
             number = excluded.number, state = excluded.state, updated_at = excluded.updated_at",
    )
    .bind(repository_id)
    .bind(number)
    .bind(state.as_str())
    .bind(to_ms(now))
    .execute(ex)
    .await?;
    Ok(())
}
