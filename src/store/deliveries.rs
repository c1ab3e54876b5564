//! Webhook deliveries, keyed by `X-GitHub-Delivery`: the record that makes a redelivery a no-op.

use super::{StoreError, from_ms, to_ms};
use chrono::{DateTime, Utc};
use sqlx::{Any, Executor, Row};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub id: String,
    pub event: String,
    pub action: Option<String>,
    pub installation_id: Option<i64>,
    pub repository_id: Option<i64>,
    pub received_at: DateTime<Utc>,
    /// What intake did with it: `queued`, `recorded`, `pong`, `ignored: <why>`.
    pub outcome: String,
}

/// Records a delivery; `false` when one with the same id is already stored (a redelivery).
pub async fn insert<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    delivery: &Delivery,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "INSERT INTO deliveries
             (id, event, action, installation_id, repository_id, received_at, outcome)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING",
    )
    .bind(&delivery.id)
    .bind(&delivery.event)
    .bind(delivery.action.as_deref())
    .bind(delivery.installation_id)
    .bind(delivery.repository_id)
    .bind(to_ms(delivery.received_at))
    .bind(&delivery.outcome)
    .execute(ex)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Replaces the outcome once intake knows more than it did when it inserted the row.
pub async fn set_outcome<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    id: &str,
    outcome: &str,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE deliveries SET outcome = $1 WHERE id = $2")
        .bind(outcome)
        .bind(id)
        .execute(ex)
        .await?;
    Ok(())
}

pub async fn get<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    id: &str,
) -> Result<Option<Delivery>, StoreError> {
    let row = sqlx::query(
        "SELECT id, event, action, installation_id, repository_id, received_at, outcome
         FROM deliveries WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(ex)
    .await?;
    row.map(|r| {
        Ok(Delivery {
            id: r.try_get("id")?,
            event: r.try_get("event")?,
            action: r.try_get("action")?,
            installation_id: r.try_get("installation_id")?,
            repository_id: r.try_get("repository_id")?,
            received_at: from_ms(r.try_get("received_at")?, "deliveries")?,
            outcome: r.try_get("outcome")?,
        })
    })
    .transpose()
}

pub async fn count<'e, E: Executor<'e, Database = Any>>(ex: E) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM deliveries")
        .fetch_one(ex)
        .await?)
}
