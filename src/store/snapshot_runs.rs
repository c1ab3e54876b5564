//! The days whose snapshot the daily job recorded, per installation (`snapshot_runs`).

use super::{StoreError, to_ms};
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{Any, Executor, Row};

/// The latest day recorded for the installation, if any.
pub async fn last_day<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    installation_id: i64,
) -> Result<Option<NaiveDate>, StoreError> {
    let day: Option<String> =
        sqlx::query("SELECT MAX(day) AS day FROM snapshot_runs WHERE installation_id = $1")
            .bind(installation_id)
            .fetch_one(ex)
            .await?
            .try_get("day")?;
    day.map(|d| {
        d.parse().map_err(|_| StoreError::Corrupt {
            table: "snapshot_runs",
            message: format!("day `{d}` is not YYYY-MM-DD"),
        })
    })
    .transpose()
}

/// Records that the job took `day`'s snapshot of the installation (again: a later run of the
/// same day replaces the row).
pub async fn record<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    installation_id: i64,
    day: NaiveDate,
    taken_at: DateTime<Utc>,
    rows: usize,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO snapshot_runs (installation_id, day, taken_at, row_count) VALUES ($1, $2, $3, $4)
         ON CONFLICT (installation_id, day) DO UPDATE SET taken_at = excluded.taken_at,
             row_count = excluded.row_count",
    )
    .bind(installation_id)
    .bind(day.to_string())
    .bind(to_ms(taken_at))
    .bind(i64::try_from(rows).unwrap_or(i64::MAX))
    .execute(ex)
    .await?;
    Ok(())
}

/// Every recorded day of the installation, oldest first.
pub async fn days<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    installation_id: i64,
) -> Result<Vec<NaiveDate>, StoreError> {
    let rows = sqlx::query("SELECT day FROM snapshot_runs WHERE installation_id = $1 ORDER BY day")
        .bind(installation_id)
        .fetch_all(ex)
        .await?;
    rows.iter()
        .map(|r| {
            let d: String = r.try_get("day")?;
            d.parse().map_err(|_| StoreError::Corrupt {
                table: "snapshot_runs",
                message: format!("day `{d}` is not YYYY-MM-DD"),
            })
        })
        .collect()
}
