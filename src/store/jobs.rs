//! The durable job queue.
//!
//! A job is `queued` until a worker claims it, `running` while a worker holds its lease, and
//! ends `succeeded`, `failed` (with the reason) or `cancelled`. A claim writes a fresh lock
//! token and a lease expiry; every later write by that worker names the token, so a worker
//! whose lease ran out (and whose job another worker took over) can no longer touch the row.
//! A `running` job whose lease has expired is claimable again: that is how a job left behind
//! by a dead process gets retried. A unique index on `concurrency_key` among running jobs
//! makes "one job per repository at a time" a property of the database, not of one process.

use super::{StoreError, from_ms, from_ms_opt, to_ms};
use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;
use sqlx::error::ErrorKind;
use sqlx::{Any, AnyConnection, AnyPool, Connection, Executor, Row};

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobState {
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

impl JobState {
    pub const ALL: [JobState; 5] = [
        JobState::Queued,
        JobState::Running,
        JobState::Succeeded,
        JobState::Failed,
        JobState::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Succeeded => "succeeded",
            JobState::Failed => "failed",
            JobState::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<JobState> {
        JobState::ALL.into_iter().find(|state| state.as_str() == s)
    }
}

/// A job to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewJob {
    pub kind: String,
    /// JSON of the kind's data; the service layer owns its shape.
    pub payload: String,
    pub installation_id: Option<i64>,
    pub repository_id: Option<i64>,
    /// Jobs sharing a key never run at the same time (`repo:<id>`).
    pub concurrency_key: Option<String>,
    pub delivery_id: Option<String>,
    pub run_at: DateTime<Utc>,
}

/// A job as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRow {
    pub id: i64,
    pub kind: String,
    pub payload: String,
    pub installation_id: Option<i64>,
    pub repository_id: Option<i64>,
    pub concurrency_key: Option<String>,
    pub delivery_id: Option<String>,
    pub state: JobState,
    /// How many times a worker has started it.
    pub attempts: i64,
    pub run_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub lease_until: Option<DateTime<Utc>>,
    pub lock_token: Option<String>,
    pub last_error: Option<String>,
    pub outcome: Option<String>,
}

const COLUMNS: &str = "id, kind, payload, installation_id, repository_id, concurrency_key, \
    delivery_id, state, attempts, run_at, created_at, started_at, finished_at, lease_until, \
    lock_token, last_error, outcome";

/// A `jobs` row read back, for any query selecting its columns.
pub fn from_row(r: &AnyRow) -> Result<JobRow, StoreError> {
    const T: &str = "jobs";
    let state: String = r.try_get("state")?;
    Ok(JobRow {
        id: r.try_get("id")?,
        kind: r.try_get("kind")?,
        payload: r.try_get("payload")?,
        installation_id: r.try_get("installation_id")?,
        repository_id: r.try_get("repository_id")?,
        concurrency_key: r.try_get("concurrency_key")?,
        delivery_id: r.try_get("delivery_id")?,
        state: JobState::parse(&state).ok_or_else(|| StoreError::Corrupt {
            table: T,
            message: format!("unknown job state `{state}`"),
        })?,
        attempts: r.try_get("attempts")?,
        run_at: from_ms(r.try_get("run_at")?, T)?,
        created_at: from_ms(r.try_get("created_at")?, T)?,
        started_at: from_ms_opt(r.try_get("started_at")?, T)?,
        finished_at: from_ms_opt(r.try_get("finished_at")?, T)?,
        lease_until: from_ms_opt(r.try_get("lease_until")?, T)?,
        lock_token: r.try_get("lock_token")?,
        last_error: r.try_get("last_error")?,
        outcome: r.try_get("outcome")?,
    })
}

/// Whether `repository_id` has a job of `kind` waiting to start.
pub async fn queued_of_repository<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    kind: &str,
    repository_id: i64,
) -> Result<bool, StoreError> {
    let found: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM jobs WHERE kind = $1 AND state = 'queued' AND repository_id = $2 LIMIT 1",
    )
    .bind(kind)
    .bind(repository_id)
    .fetch_optional(ex)
    .await?;
    Ok(found.is_some())
}

/// Stores a queued job; returns its id.
pub async fn insert<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    job: &NewJob,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    let id = sqlx::query_scalar(
        "INSERT INTO jobs (kind, payload, installation_id, repository_id, concurrency_key,
                           delivery_id, state, attempts, run_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, 'queued', 0, $7, $8) RETURNING id",
    )
    .bind(&job.kind)
    .bind(&job.payload)
    .bind(job.installation_id)
    .bind(job.repository_id)
    .bind(job.concurrency_key.as_deref())
    .bind(job.delivery_id.as_deref())
    .bind(to_ms(job.run_at))
    .bind(to_ms(now))
    .fetch_one(ex)
    .await?;
    Ok(id)
}

/// Stores a queued job unless `job`'s repository already has a queued job of its kind;
/// returns the new job's id, or `None` when one was waiting.
///
/// One statement where [`queued_of_repository`] then [`insert`] are two: webhook intake
/// calls this for every push, and on PostgreSQL each statement is a round trip. The check
/// and the insert see the same snapshot, as the two statements did in one transaction; two
/// deliveries committing at once can both insert, as before (there is no unique index on
/// queued jobs to refuse the second, and a second scan is only repeated work).
pub async fn insert_unless_queued<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    job: &NewJob,
    now: DateTime<Utc>,
) -> Result<Option<i64>, StoreError> {
    let id = sqlx::query_scalar(
        "INSERT INTO jobs (kind, payload, installation_id, repository_id, concurrency_key,
                           delivery_id, state, attempts, run_at, created_at)
         SELECT $1, $2, $3, $4, $5, $6, 'queued', 0, $7, $8
         WHERE NOT EXISTS (
             SELECT 1 FROM jobs WHERE kind = $1 AND state = 'queued' AND repository_id = $4
         )
         RETURNING id",
    )
    .bind(&job.kind)
    .bind(&job.payload)
    .bind(job.installation_id)
    .bind(job.repository_id)
    .bind(job.concurrency_key.as_deref())
    .bind(job.delivery_id.as_deref())
    .bind(to_ms(job.run_at))
    .bind(to_ms(now))
    .fetch_optional(ex)
    .await?;
    Ok(id)
}

/// What a [`claim`] came back with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    Claimed(Box<JobRow>),
    /// No job can start now.
    NothingDue,
    /// A job was due, but another worker took it (or another job of its key) between this
    /// claim finding it and taking it. Others may still be due: ask again.
    LostRace,
}

impl Claim {
    /// The claimed job, if any.
    pub fn into_job(self) -> Option<JobRow> {
        match self {
            Claim::Claimed(row) => Some(*row),
            Claim::NothingDue | Claim::LostRace => None,
        }
    }
}

/// Claims the job that has waited longest among those a worker may start at `now`: queued
/// and due with no running job on its key, or running with an expired lease. The claimed job
/// comes back with `token` as its lock token and `lease_until` as its lease.
///
/// Finding and taking are two statements, so a claim can tell "nothing is due" from "what
/// was due was taken first": the take re-checks that the job is still claimable (another
/// worker may have taken it meanwhile), and the unique index on running jobs' keys refuses a
/// second job of a key; both come back as [`Claim::LostRace`]. On PostgreSQL both run in one
/// transaction and the find locks its row with `FOR UPDATE SKIP LOCKED`: replicas claiming at
/// once each get a different job instead of queueing on the same row. SQLite has one writer
/// at a time, so there is nothing to skip (and a read transaction there could not be upgraded
/// to a write once another writer committed). On both, the take and the record of the start
/// in `job_attempts` are one transaction.
///
/// The attempt starts at `now`; [`claim_stamped`] reads its start after the take instead.
pub async fn claim(
    pool: &AnyPool,
    now: DateTime<Utc>,
    token: &str,
    lease_until: DateTime<Utc>,
) -> Result<Claim, StoreError> {
    claim_stamped(pool, now, token, lease_until, || now).await
}

/// [`claim`], with the attempt's start read from `started` once the take has its row. The take
/// can wait (on PostgreSQL, on the unique index of running keys while the previous job of the
/// key settles), so a start read before it could precede the end of the attempt it waited for.
pub async fn claim_stamped(
    pool: &AnyPool,
    now: DateTime<Utc>,
    token: &str,
    lease_until: DateTime<Utc>,
    started: impl FnOnce() -> DateTime<Utc>,
) -> Result<Claim, StoreError> {
    let mut conn = pool.acquire().await?;
    let postgres = conn.backend_name() == "PostgreSQL";
    let found = if postgres {
        None
    } else {
        match find_claimable(&mut conn, now, "").await? {
            Some(id) => Some(id),
            None => return Ok(Claim::NothingDue),
        }
    };
    // On SQLite the transaction starts with the take, a write: no read to upgrade.
    let mut tx = conn.begin().await?;
    let id = match found {
        Some(id) => id,
        None => match find_claimable(&mut tx, now, " FOR UPDATE OF j SKIP LOCKED").await? {
            Some(id) => id,
            None => {
                tx.rollback().await?;
                return Ok(Claim::NothingDue);
            }
        },
    };
    let claim = take(&mut tx, id, now, token, lease_until).await?;
    if let Claim::Claimed(row) = &claim {
        start_attempt(&mut tx, row, started().max(now)).await?;
    }
    match claim {
        Claim::Claimed(_) => tx.commit().await?,
        Claim::NothingDue | Claim::LostRace => tx.rollback().await?,
    }
    Ok(claim)
}

/// Records the start `row` was just claimed for. An attempt of the job still open can only be
/// one whose worker stopped renewing its lease: it is closed as abandoned, now.
async fn start_attempt(
    conn: &mut AnyConnection,
    row: &JobRow,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE job_attempts SET finished_at = $1, outcome = 'abandoned'
         WHERE job_id = $2 AND finished_at IS NULL",
    )
    .bind(to_ms(now))
    .bind(row.id)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO job_attempts (job_id, attempt, lock_token, started_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(row.id)
    .bind(row.attempts)
    .bind(row.lock_token.as_deref())
    .bind(to_ms(now))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Closes the attempt that ran under `token` with `outcome` (a [`Settled`] label such as
/// `succeeded` or `lease_lost`); `false` when it was already closed (taken over meanwhile).
///
/// [`Settled`]: crate::service::jobs::Settled
pub async fn finish_attempt<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    token: &str,
    outcome: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE job_attempts SET finished_at = $1, outcome = $2
         WHERE lock_token = $3 AND finished_at IS NULL",
    )
    .bind(to_ms(now))
    .bind(outcome)
    .bind(token)
    .execute(ex)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The id of the job a claim at `now` should take; `lock` is appended to the query.
async fn find_claimable(
    conn: &mut AnyConnection,
    now: DateTime<Utc>,
    lock: &str,
) -> Result<Option<i64>, StoreError> {
    let sql = format!(
        "SELECT j.id FROM jobs j
         WHERE (j.state = 'queued' AND j.run_at <= $1
                AND (j.concurrency_key IS NULL OR NOT EXISTS (
                    SELECT 1 FROM jobs r
                    WHERE r.state = 'running' AND r.concurrency_key = j.concurrency_key)))
            OR (j.state = 'running' AND j.lease_until <= $1)
         ORDER BY j.run_at, j.id
         LIMIT 1{lock}"
    );
    Ok(sqlx::query_scalar(&sql)
        .bind(to_ms(now))
        .fetch_optional(conn)
        .await?)
}

/// Takes job `id` if it is still claimable at `now`.
async fn take(
    conn: &mut AnyConnection,
    id: i64,
    now: DateTime<Utc>,
    token: &str,
    lease_until: DateTime<Utc>,
) -> Result<Claim, StoreError> {
    let sql = format!(
        "UPDATE jobs SET state = 'running', lock_token = $1, lease_until = $2, started_at = $3,
                         attempts = attempts + 1
         WHERE id = $4
           AND ((state = 'queued' AND run_at <= $3) OR (state = 'running' AND lease_until <= $3))
         RETURNING {COLUMNS}"
    );
    let taken = sqlx::query(&sql)
        .bind(token)
        .bind(to_ms(lease_until))
        .bind(to_ms(now))
        .bind(id)
        .fetch_optional(conn)
        .await;
    match taken {
        Ok(Some(row)) => Ok(Claim::Claimed(Box::new(from_row(&row)?))),
        Ok(None) => Ok(Claim::LostRace),
        Err(sqlx::Error::Database(e)) if e.kind() == ErrorKind::UniqueViolation => {
            Ok(Claim::LostRace)
        }
        Err(e) => Err(e.into()),
    }
}

/// Pushes the lease of a job this worker holds; `false` when the lease was lost.
pub async fn extend_lease<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    id: i64,
    token: &str,
    lease_until: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE jobs SET lease_until = $1 WHERE id = $2 AND lock_token = $3 AND state = 'running'",
    )
    .bind(to_ms(lease_until))
    .bind(id)
    .bind(token)
    .execute(ex)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Marks a held job succeeded; `false` when the lease was lost (nothing is written).
pub async fn succeed<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    id: i64,
    token: &str,
    outcome: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE jobs SET state = 'succeeded', outcome = $1, finished_at = $2,
                         lease_until = NULL, lock_token = NULL
         WHERE id = $3 AND lock_token = $4 AND state = 'running'",
    )
    .bind(outcome)
    .bind(to_ms(now))
    .bind(id)
    .bind(token)
    .execute(ex)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Puts a held job back in the queue to run at `run_at`, remembering `error`.
/// `refund_attempt` un-counts this start: a rate limit or a shutdown is not the job's fault,
/// so it must not bring the job closer to giving up.
pub async fn requeue<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    id: i64,
    token: &str,
    run_at: DateTime<Utc>,
    error: Option<&str>,
    refund_attempt: bool,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE jobs SET state = 'queued', run_at = $1, last_error = COALESCE($2, last_error),
                         attempts = attempts - $3, lease_until = NULL, lock_token = NULL
         WHERE id = $4 AND lock_token = $5 AND state = 'running'",
    )
    .bind(to_ms(run_at))
    .bind(error)
    .bind(i64::from(refund_attempt))
    .bind(id)
    .bind(token)
    .execute(ex)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Marks a held job failed for good, with the reason a person will read.
pub async fn fail<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    id: i64,
    token: &str,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE jobs SET state = 'failed', last_error = $1, finished_at = $2,
                         lease_until = NULL, lock_token = NULL
         WHERE id = $3 AND lock_token = $4 AND state = 'running'",
    )
    .bind(reason)
    .bind(to_ms(now))
    .bind(id)
    .bind(token)
    .execute(ex)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Cancels the queued jobs of an installation (it was deleted); returns how many.
pub async fn cancel_queued_for_installation<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    installation_id: i64,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let done = sqlx::query(
        "UPDATE jobs SET state = 'cancelled', last_error = $1, finished_at = $2
         WHERE installation_id = $3 AND state = 'queued'",
    )
    .bind(reason)
    .bind(to_ms(now))
    .bind(installation_id)
    .execute(ex)
    .await?;
    Ok(done.rows_affected())
}

pub async fn get<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    id: i64,
) -> Result<Option<JobRow>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM jobs WHERE id = $1");
    let row = sqlx::query(&sql).bind(id).fetch_optional(ex).await?;
    row.as_ref().map(from_row).transpose()
}

/// How many jobs are in each state, for `/metrics`.
pub async fn count_by_state<'e, E: Executor<'e, Database = Any>>(
    ex: E,
) -> Result<Vec<(JobState, i64)>, StoreError> {
    let rows = sqlx::query("SELECT state, COUNT(*) AS n FROM jobs GROUP BY state")
        .fetch_all(ex)
        .await?;
    let mut counts: Vec<(JobState, i64)> = JobState::ALL.iter().map(|&s| (s, 0)).collect();
    for r in rows {
        let state: String = r.try_get("state")?;
        let n: i64 = r.try_get("n")?;
        if let Some(slot) = counts.iter_mut().find(|(s, _)| s.as_str() == state) {
            slot.1 = n;
        }
    }
    Ok(counts)
}
