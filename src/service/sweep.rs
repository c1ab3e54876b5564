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

/// How many advisory ids a rescan job names; the rest are counted in the log, not the payload.
const RESCAN_IDS: usize = 10;

/// Queues a scan, due now, of each repository in `holders` (grouped by repository, with the
/// advisory ids that touched each package) that has none waiting. What a sync calls with the
/// repositories whose inventory holds a package a changed advisory names.
pub async fn enqueue_rescans(
    store: &Store,
    holders: &[crate::store::packages::Holder],
    ids_of: impl Fn(&crate::store::packages::PackageKey) -> Vec<String>,
    now: DateTime<Utc>,
) -> Result<SweepSummary, StoreError> {
    let mut by_repository: std::collections::BTreeMap<i64, (i64, &str, Vec<String>)> =
        Default::default();
    for h in holders {
        let entry = by_repository
            .entry(h.repository_id)
            .or_insert_with(|| (h.installation_id, h.full_name.as_str(), Vec::new()));
        entry.2.extend(ids_of(&h.package));
    }
    let mut summary = SweepSummary::default();
    for (id, (installation_id, full_name, mut advisories)) in by_repository {
        if jobs::queued_of_repository(store.pool(), "scan", id).await? {
            summary.already_waiting += 1;
            continue;
        }
        advisories.sort();
        advisories.dedup();
        advisories.truncate(RESCAN_IDS);
        let job = JobKind::Scan(ScanJob {
            installation_id,
            repository: RepoRef {
                id,
                full_name: full_name.to_string(),
            },
            head_sha: None,
            reason: ScanReason::Advisory { advisories },
        });
        jobs::insert(store.pool(), &job.to_new_job(None, now), now).await?;
        summary.queued += 1;
    }
    Ok(summary)
}
