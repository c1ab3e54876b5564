//! What the chat notifier remembers per installation: when it began to look, what it sent, and
//! when it may try next. Kept here so that a restart or a second replica never sends an item
//! twice (`notifications_sent`) nor two messages within one interval (`notification_state`).

use super::{StoreError, from_ms, from_ms_opt, to_ms};
use chrono::{DateTime, Utc};
use sqlx::{Any, AnyConnection, Executor, Row};
use std::collections::HashSet;

const TABLE: &str = "notification_state";

/// One installation's notifier state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotifyState {
    pub installation_id: i64,
    /// Blockers opened before this are not announced as new.
    pub since: DateTime<Utc>,
    pub last_sent: Option<DateTime<Utc>>,
    /// Failed attempts in a row (0 after a delivered message).
    pub failures: u32,
    pub next_attempt: DateTime<Utc>,
}

/// When notifications began for the first installation: the earliest `since` stored.
pub async fn began<'e, E: Executor<'e, Database = Any>>(
    ex: E,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    let ms: Option<i64> = sqlx::query("SELECT MIN(since_at) AS since_at FROM notification_state")
        .fetch_one(ex)
        .await?
        .try_get("since_at")?;
    from_ms_opt(ms, TABLE)
}

/// The installations neither suspended nor deleted, with when each was first recorded.
pub async fn active_installations<'e, E: Executor<'e, Database = Any>>(
    ex: E,
) -> Result<Vec<(i64, DateTime<Utc>)>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, created_at FROM installations
         WHERE suspended_at IS NULL AND deleted_at IS NULL ORDER BY id",
    )
    .fetch_all(ex)
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get("id")?,
                from_ms(r.try_get("created_at")?, "installations")?,
            ))
        })
        .collect()
}

/// The state of `installation_id`, created (looking from `since` on, and due at once) when it
/// has none.
pub async fn ensure_state(
    conn: &mut AnyConnection,
    installation_id: i64,
    since: DateTime<Utc>,
) -> Result<NotifyState, StoreError> {
    sqlx::query(
        "INSERT INTO notification_state (installation_id, since_at, last_sent_at, failures, next_attempt_at)
         VALUES ($1, $2, NULL, 0, $2) ON CONFLICT (installation_id) DO NOTHING",
    )
    .bind(installation_id)
    .bind(to_ms(since))
    .execute(&mut *conn)
    .await?;
    let row = sqlx::query(
        "SELECT since_at, last_sent_at, failures, next_attempt_at FROM notification_state
         WHERE installation_id = $1",
    )
    .bind(installation_id)
    .fetch_one(&mut *conn)
    .await?;
    let failures: i64 = row.try_get("failures")?;
    Ok(NotifyState {
        installation_id,
        since: from_ms(row.try_get("since_at")?, TABLE)?,
        last_sent: from_ms_opt(row.try_get("last_sent_at")?, TABLE)?,
        failures: u32::try_from(failures).unwrap_or(u32::MAX),
        next_attempt: from_ms(row.try_get("next_attempt_at")?, TABLE)?,
    })
}

/// Takes the installation's turn when its next attempt is due: true for the one caller (of
/// any replica) that got it; the turn lasts until `until` unless settled sooner.
pub async fn claim<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    installation_id: i64,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE notification_state SET next_attempt_at = $3
         WHERE installation_id = $1 AND next_attempt_at <= $2",
    )
    .bind(installation_id)
    .bind(to_ms(now))
    .bind(to_ms(until))
    .execute(ex)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The deduplication keys of every item already delivered for the installation.
pub async fn sent_keys<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    installation_id: i64,
) -> Result<HashSet<String>, StoreError> {
    let rows = sqlx::query("SELECT item_key FROM notifications_sent WHERE installation_id = $1")
        .bind(installation_id)
        .fetch_all(ex)
        .await?;
    rows.iter()
        .map(|r| Ok(r.try_get::<String, _>("item_key")?))
        .collect()
}

/// A message was delivered carrying `keys`: remember them, and wait until `next_attempt`.
pub async fn record_sent(
    conn: &mut AnyConnection,
    installation_id: i64,
    keys: &[String],
    now: DateTime<Utc>,
    next_attempt: DateTime<Utc>,
) -> Result<(), StoreError> {
    for key in keys {
        sqlx::query(
            "INSERT INTO notifications_sent (installation_id, item_key, sent_at) VALUES ($1, $2, $3)
             ON CONFLICT (installation_id, item_key) DO NOTHING",
        )
        .bind(installation_id)
        .bind(key)
        .bind(to_ms(now))
        .execute(&mut *conn)
        .await?;
    }
    sqlx::query(
        "UPDATE notification_state SET last_sent_at = $2, failures = 0, next_attempt_at = $3
         WHERE installation_id = $1",
    )
    .bind(installation_id)
    .bind(to_ms(now))
    .bind(to_ms(next_attempt))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Settles a turn without a delivery: `failures` in a row so far (0 when there was nothing to
/// send), and when to try next.
pub async fn settle<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    installation_id: i64,
    failures: u32,
    next_attempt: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE notification_state SET failures = $2, next_attempt_at = $3 WHERE installation_id = $1",
    )
    .bind(installation_id)
    .bind(i64::from(failures))
    .bind(to_ms(next_attempt))
    .execute(ex)
    .await?;
    Ok(())
}
