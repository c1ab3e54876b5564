//! Scheduled sweeps: every repository the app may read is scanned again on a schedule, so a new
//! advisory or a catalog change reaches repositories nobody pushed to.

use super::clock::Clock;
use super::jobs::{JobKind, RepoRef, ScanJob, ScanReason};
use crate::store::{Store, StoreError, installations, jobs};
use chrono::{DateTime, Utc};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, watch};

/// What one sweep queued.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SweepSummary {
    pub queued: usize,
    /// Repositories whose queued scan will do the sweep's work.
    pub already_waiting: usize,
}

/// Queues a scan of every sweepable repository that has none waiting.
pub async fn enqueue_sweep(store: &Store, now: DateTime<Utc>) -> Result<SweepSummary, StoreError> {
    let repositories = installations::sweepable_repositories(store.pool()).await?;
    let mut summary = SweepSummary::default();
    for repository in repositories {
        // The same test intake applies to a push: a waiting scan covers this one.
        if jobs::queued_of_repository(store.pool(), "scan", repository.id).await? {
            summary.already_waiting += 1;
            continue;
        }
        let job = JobKind::Scan(ScanJob {
            installation_id: repository.installation_id,
            repository: RepoRef {
                id: repository.id,
                full_name: repository.full_name,
            },
            head_sha: None,
            reason: ScanReason::Sweep,
        });
        jobs::insert(store.pool(), &job.to_new_job(None, now), now).await?;
        summary.queued += 1;
    }
    Ok(summary)
}

/// Sweeps every `every` until `stop` turns true. A failed sweep is logged and tried again at
/// the next one: the webhooks keep working meanwhile.
pub async fn run(
    store: Store,
    clock: Arc<dyn Clock>,
    every: Duration,
    wake: Arc<Notify>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            changed = stop.changed() => {
                if changed.is_err() || *stop.borrow() {
                    return;
                }
                continue;
            }
        }
        match enqueue_sweep(&store, clock.now()).await {
            Ok(summary) => {
                tracing::info!(
                    queued = summary.queued,
                    already_waiting = summary.already_waiting,
                    "sweep queued"
                );
                wake.notify_one();
            }
            Err(e) => tracing::warn!(error = %e, "sweep not queued; trying again at the next one"),
        }
    }
}
