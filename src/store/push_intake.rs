//! A push's whole intake as one PostgreSQL statement: the delivery, the installation, the
//! repository and the scan job, written by data-modifying CTEs in one autocommit round trip
//! instead of a transaction of five (the acknowledgement's p99 is mostly round trips).
//!
//! It writes exactly what the general path (`deliveries::insert`, then
//! `installations::ensure_installation`, `installations::upsert_repository`,
//! `jobs::insert_unless_queued` in one transaction) writes. All CTEs see the snapshot taken
//! when the statement starts and none can see another's rows, so none reads a table another
//! one writes: the delivery's insert reports through `RETURNING` whether it was new, and every
//! other write is gated on that (a redelivery writes nothing, as the rolled-back transaction
//! did). Foreign keys are checked at the end of the statement, so the job may name a
//! repository, and the repository an installation, inserted alongside. SQLite has no
//! data-modifying CTEs with `ON CONFLICT`, and keeps the general path.

use super::deliveries::Delivery;
use super::installations::RepositoryUpsert;
use super::jobs::NewJob;
use super::{StoreError, to_ms};
use chrono::{DateTime, Utc};
use sqlx::{Any, Executor, Row};

/// What the one statement did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushIntake {
    /// A delivery with this id was already stored; nothing was written.
    Duplicate,
    /// The delivery was stored, and the scan job if none was queued for the repository.
    Stored { job_id: Option<i64> },
}

/// Writes a push's delivery, installation (unless known), repository (only if it differs from
/// what is stored, so an unchanged one is not row-locked) and scan job (unless one is queued).
pub async fn record<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    delivery: &Delivery,
    installation_id: i64,
    account_login: &str,
    repo: &RepositoryUpsert<'_>,
    job: &NewJob,
    now: DateTime<Utc>,
) -> Result<PushIntake, StoreError> {
    let row = sqlx::query(
        "WITH d AS (
             INSERT INTO deliveries
                 (id, event, action, installation_id, repository_id, received_at, outcome)
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING
             RETURNING id
         ), i AS (
             INSERT INTO installations (id, account_login, created_at, updated_at)
             SELECT $8, $9, $10, $10 WHERE EXISTS (SELECT 1 FROM d)
             ON CONFLICT (id) DO NOTHING
         ), r AS (
             INSERT INTO repositories
                 (id, installation_id, full_name, default_branch, private, added_at, updated_at)
             SELECT $11, $12, $13, $14, COALESCE($15, 0), $10, $10
             WHERE EXISTS (SELECT 1 FROM d) AND NOT EXISTS (
                 SELECT 1 FROM repositories r
                 WHERE r.id = $11 AND r.installation_id = $12 AND r.full_name = $13
                   AND r.removed_at IS NULL
                   AND ($14 IS NULL OR r.default_branch = $14)
                   AND ($15 IS NULL OR r.private = $15))
             ON CONFLICT (id) DO UPDATE SET installation_id = $12, full_name = $13,
                 default_branch = COALESCE($14, repositories.default_branch),
                 private = COALESCE($15, repositories.private),
                 updated_at = $10, removed_at = NULL
         ), j AS (
             INSERT INTO jobs (kind, payload, installation_id, repository_id, concurrency_key,
                               delivery_id, state, attempts, run_at, created_at)
             SELECT $16, $17, $18, $19, $20, $21, 'queued', 0, $22, $10
             WHERE EXISTS (SELECT 1 FROM d) AND NOT EXISTS (
                 SELECT 1 FROM jobs WHERE kind = $16 AND state = 'queued' AND repository_id = $19
             )
             RETURNING id
         )
         SELECT (SELECT count(*) FROM d) AS stored, (SELECT id FROM j) AS job_id",
    )
    .bind(&delivery.id)
    .bind(&delivery.event)
    .bind(delivery.action.as_deref())
    .bind(delivery.installation_id)
    .bind(delivery.repository_id)
    .bind(to_ms(delivery.received_at))
    .bind(&delivery.outcome)
    .bind(installation_id)
    .bind(account_login)
    .bind(to_ms(now))
    .bind(repo.id)
    .bind(repo.installation_id)
    .bind(repo.full_name)
    .bind(repo.default_branch)
    .bind(repo.private.map(i64::from))
    .bind(&job.kind)
    .bind(&job.payload)
    .bind(job.installation_id)
    .bind(job.repository_id)
    .bind(job.concurrency_key.as_deref())
    .bind(job.delivery_id.as_deref())
    .bind(to_ms(job.run_at))
    .fetch_one(ex)
    .await?;
    let stored: i64 = row.try_get("stored")?;
    if stored == 0 {
        return Ok(PushIntake::Duplicate);
    }
    Ok(PushIntake::Stored {
        job_id: row.try_get("job_id")?,
    })
}
