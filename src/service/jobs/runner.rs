//! The worker pool: claims due jobs up to a bound, runs them, settles their rows.

use super::retry::{RetryPolicy, Settlement, settle};
use super::{Job, JobError, JobHandler};
use crate::service::clock::Clock;
use crate::service::metrics::Metrics;
use crate::store::audit::{self, AuditEntry};
use crate::store::jobs::{self, Claim, JobRow};
use crate::store::{Store, StoreError};
use chrono::{DateTime, TimeDelta, Utc};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;

/// Claim races lost in a row before a worker waits for the next wake or poll.
const MAX_CLAIM_RACES: usize = 16;

#[derive(Debug, Clone)]
pub struct RunnerConfig {
    /// Jobs running at once in this process.
    pub workers: usize,
    /// How long a claim holds a job; renewed every third of it while the job runs.
    pub lease: Duration,
    pub retry: RetryPolicy,
    /// How often an idle pool looks for jobs that became due (a retry's backoff ending)
    /// when no webhook woke it.
    pub idle_poll: Duration,
    /// On shutdown, how long running jobs may take before they are released.
    pub shutdown_grace: Duration,
}

impl Default for RunnerConfig {
    fn default() -> RunnerConfig {
        RunnerConfig {
            workers: 2,
            lease: Duration::from_secs(300),
            retry: RetryPolicy::default(),
            idle_poll: Duration::from_secs(1),
            shutdown_grace: Duration::from_secs(30),
        }
    }
}

/// How a run of one job ended, as far as its row is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settled {
    Succeeded,
    /// Queued again after a retryable failure.
    Retrying {
        at: DateTime<Utc>,
    },
    /// Queued again until a rate limit resets.
    Waiting {
        at: DateTime<Utc>,
    },
    Failed {
        reason: String,
    },
    /// Another worker took the job over (this one's lease ran out); nothing was written.
    LeaseLost,
    /// Shutdown came first: the job went back to the queue, this start not counted.
    Released,
}

impl Settled {
    /// The metric label.
    pub fn label(&self) -> &'static str {
        match self {
            Settled::Succeeded => "succeeded",
            Settled::Retrying { .. } => "retrying",
            Settled::Waiting { .. } => "rate_limited",
            Settled::Failed { .. } => "failed",
            Settled::LeaseLost => "lease_lost",
            Settled::Released => "released",
        }
    }
}

pub struct JobRunner {
    store: Store,
    handler: Arc<dyn JobHandler>,
    clock: Arc<dyn Clock>,
    config: RunnerConfig,
    metrics: Arc<Metrics>,
}

impl JobRunner {
    pub fn new(
        store: Store,
        handler: Arc<dyn JobHandler>,
        clock: Arc<dyn Clock>,
        config: RunnerConfig,
        metrics: Arc<Metrics>,
    ) -> JobRunner {
        JobRunner {
            store,
            handler,
            clock,
            config,
            metrics,
        }
    }

    pub fn config(&self) -> &RunnerConfig {
        &self.config
    }

    fn lease_until(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now + TimeDelta::from_std(self.config.lease).unwrap_or(TimeDelta::MAX)
    }

    /// Claims the next due job under a fresh lock token, or `None` when none is due. A lost
    /// race (another replica took the job first) is asked again at once, a bounded number of
    /// times: other jobs may be due, and waiting for the next poll would leave them idle.
    pub async fn claim(&self) -> Result<Option<JobRow>, StoreError> {
        for _ in 0..MAX_CLAIM_RACES {
            let now = self.clock.now();
            let token = uuid::Uuid::new_v4().to_string();
            let claimed = jobs::claim_stamped(
                self.store.pool(),
                now,
                &token,
                self.lease_until(now),
                || self.clock.now(),
            );
            match claimed.await? {
                Claim::Claimed(row) => {
                    let waited = (now - row.run_at).to_std().unwrap_or_default();
                    self.metrics.observe_job_wait(waited);
                    return Ok(Some(*row));
                }
                Claim::NothingDue => return Ok(None),
                Claim::LostRace => tracing::debug!("lost a claim race; claiming again"),
            }
        }
        // Heavy contention: the next wake or poll tries again.
        Ok(None)
    }

    /// Runs a claimed job to its settlement. `cancel` turning true releases the job back to
    /// the queue (shutdown). A panicking handler counts as a retryable failure. The attempt's
    /// end and how it settled are recorded beside its start (`job_attempts`).
    pub async fn execute(
        &self,
        row: JobRow,
        cancel: watch::Receiver<bool>,
    ) -> Result<Settled, StoreError> {
        let Some(token) = row.lock_token.clone() else {
            return Ok(Settled::LeaseLost);
        };
        let Ended { settled, at } = self.run_claimed(row, token.clone(), cancel).await?;
        // The job's own row is settled already; a lost record of the attempt's end must not
        // undo that, only be told.
        if let Err(e) = jobs::finish_attempt(self.store.pool(), &token, settled.label(), at).await {
            tracing::warn!(error = %e, outcome = settled.label(), "cannot record the end of a job attempt");
        }
        Ok(settled)
    }

    async fn run_claimed(
        &self,
        row: JobRow,
        token: String,
        mut cancel: watch::Receiver<bool>,
    ) -> Result<Ended, StoreError> {
        let started = Instant::now();
        let mut job = match Job::from_row(&row) {
            Ok(job) => job,
            Err(reason) => return self.fail(&row, &token, reason, "unknown", started).await,
        };
        let kind = job.kind.name();
        if job.attempts > self.config.retry.max_attempts {
            // Only leases that ran out get a job here: each took a start without settling.
            let reason = format!(
                "gave up after {} starts without finishing; the worker running it died or stalled each time",
                job.attempts - 1
            );
            return self.fail(&row, &token, reason, kind, started).await;
        }

        job.last_attempt = job.attempts >= self.config.retry.max_attempts;

        let handler = Arc::clone(&self.handler);
        let job_for_task = job.clone();
        let mut work = tokio::spawn(async move { handler.run(&job_for_task).await });
        let mut heartbeat =
            tokio::time::interval((self.config.lease / 3).max(Duration::from_millis(10)));
        heartbeat.tick().await;
        let cancelled = async move {
            if cancel.wait_for(|c| *c).await.is_err() {
                // Nobody can cancel any more: never.
                std::future::pending::<()>().await;
            }
        };
        tokio::pin!(cancelled);
        let result = loop {
            tokio::select! {
                joined = &mut work => {
                    break match joined {
                        Ok(result) => result,
                        Err(e) if e.is_panic() => Err(JobError::Retryable(format!("the job handler panicked: {e}"))),
                        Err(e) => Err(JobError::Retryable(format!("the job task ended abnormally: {e}"))),
                    };
                }
                _ = heartbeat.tick() => {
                    let until = self.lease_until(self.clock.now());
                    if !jobs::extend_lease(self.store.pool(), row.id, &token, until).await? {
                        work.abort();
                        tracing::warn!(job = row.id, kind, "lease lost while running; another worker has the job");
                        return Ok(self.finish(kind, Settled::LeaseLost, started, self.clock.now()));
                    }
                }
                () = &mut cancelled => {
                    work.abort();
                    let now = self.clock.now();
                    let settled = if jobs::requeue(self.store.pool(), row.id, &token, now, None, true).await? {
                        tracing::info!(job = row.id, kind, "released at shutdown");
                        Settled::Released
                    } else {
                        Settled::LeaseLost
                    };
                    return Ok(self.finish(kind, settled, started, now));
                }
            }
        };

        let now = self.clock.now();
        let settled = match settle(&self.config.retry, &result, row.id, job.attempts, now) {
            Settlement::Succeeded { summary } => {
                if jobs::succeed(self.store.pool(), row.id, &token, &summary, now).await? {
                    tracing::info!(job = row.id, kind, summary, "job succeeded");
                    Settled::Succeeded
                } else {
                    Settled::LeaseLost
                }
            }
            Settlement::RetryAt { at, error } => {
                if jobs::requeue(self.store.pool(), row.id, &token, at, Some(&error), false).await?
                {
                    tracing::warn!(job = row.id, kind, attempts = job.attempts, %at, error, "job failed; will retry");
                    Settled::Retrying { at }
                } else {
                    Settled::LeaseLost
                }
            }
            Settlement::WaitUntil { at, reason } => {
                if jobs::requeue(self.store.pool(), row.id, &token, at, Some(&reason), true).await?
                {
                    tracing::info!(job = row.id, kind, %at, reason, "job waits for a rate limit");
                    Settled::Waiting { at }
                } else {
                    Settled::LeaseLost
                }
            }
            Settlement::Failed { reason } => {
                return self.fail(&row, &token, reason, kind, started).await;
            }
        };
        Ok(self.finish(kind, settled, started, now))
    }

    /// Records a permanent failure on the job row and in the audit trail, in one transaction.
    async fn fail(
        &self,
        row: &JobRow,
        token: &str,
        reason: String,
        kind: &'static str,
        started: Instant,
    ) -> Result<Ended, StoreError> {
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        if !jobs::fail(&mut *tx, row.id, token, &reason, now).await? {
            return Ok(self.finish(kind, Settled::LeaseLost, started, now));
        }
        let mut entry = AuditEntry::new(now, "job.failed", format!("{} job: {reason}", row.kind));
        entry.installation_id = row.installation_id;
        entry.repository_id = row.repository_id;
        entry.job_id = Some(row.id);
        entry.delivery_id = row.delivery_id.clone();
        audit::record(&mut *tx, &entry).await?;
        tx.commit().await?;
        tracing::error!(job = row.id, kind, reason, "job failed permanently");
        Ok(self.finish(kind, Settled::Failed { reason }, started, now))
    }

    fn finish(
        &self,
        kind: &'static str,
        settled: Settled,
        started: Instant,
        at: DateTime<Utc>,
    ) -> Ended {
        self.metrics
            .observe_job(kind, settled.label(), started.elapsed());
        Ended { settled, at }
    }

    /// Claims jobs into free slots until none is due or every slot is taken.
    async fn fill(
        self: &Arc<Self>,
        tasks: &mut JoinSet<(i64, Result<Settled, StoreError>)>,
        cancel: &watch::Receiver<bool>,
    ) -> Result<(), StoreError> {
        while tasks.len() < self.config.workers.max(1) {
            let Some(row) = self.claim().await? else {
                break;
            };
            let runner = Arc::clone(self);
            let cancel = cancel.clone();
            tasks.spawn(async move {
                let id = row.id;
                (id, runner.execute(row, cancel).await)
            });
        }
        Ok(())
    }

    /// The pool's main loop: runs until `shutdown` turns true, then lets running jobs finish
    /// for the grace period and releases the rest back to the queue. `wake` is notified by
    /// webhook intake when it stores a job, so new work starts without waiting for a poll.
    pub async fn run(self: Arc<Self>, wake: Arc<Notify>, mut shutdown: watch::Receiver<bool>) {
        let (cancel_tx, cancel) = watch::channel(false);
        let mut tasks = JoinSet::new();
        loop {
            // A dropped sender can never say stop: take it as the stop.
            if *shutdown.borrow() || shutdown.has_changed().is_err() {
                break;
            }
            if let Err(e) = self.fill(&mut tasks, &cancel).await {
                tracing::error!(error = %e, "cannot claim jobs");
            }
            let stop = shutdown.wait_for(|s| *s);
            tokio::select! {
                Some(joined) = tasks.join_next(), if !tasks.is_empty() => log_joined(joined),
                _ = wake.notified() => {}
                _ = tokio::time::sleep(self.config.idle_poll) => {}
                _ = stop => {}
            }
        }
        tracing::info!(running = tasks.len(), "shutting down the job pool");
        let drain = async {
            while let Some(joined) = tasks.join_next().await {
                log_joined(joined);
            }
        };
        if tokio::time::timeout(self.config.shutdown_grace, drain)
            .await
            .is_err()
        {
            let _ = cancel_tx.send(true);
            while let Some(joined) = tasks.join_next().await {
                log_joined(joined);
            }
        }
        tracing::info!("job pool stopped");
    }
}

/// How an attempt settled, and when it ended: a time read before the job's row was settled,
/// so before the next job of its key could be claimed (whose start is read after its claim).
/// A time read after the settle could follow that start.
struct Ended {
    settled: Settled,
    at: DateTime<Utc>,
}

fn log_joined(joined: Result<(i64, Result<Settled, StoreError>), tokio::task::JoinError>) {
    match joined {
        Ok((_, Ok(_))) => {}
        Ok((id, Err(e))) => tracing::error!(job = id, error = %e, "cannot settle job"),
        Err(e) => tracing::error!(error = %e, "worker task ended abnormally"),
    }
}
