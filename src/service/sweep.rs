//! Scheduled sweeps: every repository the app may read is scanned again on a schedule, so a new
//! advisory or a catalog change reaches repositories nobody pushed to. The scans are spread
//! over the interval within each installation's GitHub budget ([`super::pacing`]); a scan of a
//! repository that did not change ends after one conditional request (the handler's
//! `unchanged_since_marked`).

use super::clock::Clock;
use super::jobs::{JobKind, RepoRef, ScanJob, ScanReason};
use super::pacing::{self, Candidate, FULL_SCAN_CALLS, MARKED_SCAN_CALLS};
use crate::store::{Store, StoreError, installations, jobs, scan_marks};
use chrono::{DateTime, TimeDelta, Utc};
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, watch};

/// What one sweep queued.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SweepSummary {
    pub queued: usize,
    /// Repositories whose queued scan will do the sweep's work.
    pub already_waiting: usize,
    /// When the last queued scan is due (`None` when nothing was queued).
    pub last_due: Option<DateTime<Utc>>,
}

/// How a sweep spreads its scans.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pacing {
    /// The sweep interval: scans are spread over it.
    pub interval: TimeDelta,
    /// Counted GitHub calls an hour one installation's sweep scans may plan for.
    pub calls_per_hour: u32,
}

/// GitHub's rate limit for an installation of a GitHub App (larger organisations get more).
pub const DEFAULT_CALLS_PER_HOUR: u32 = 5_000;

/// Queues a scan of every sweepable repository that has none waiting, each due at its slot of
/// the plan ([`pacing::plan`]).
pub async fn enqueue_sweep(
    store: &Store,
    now: DateTime<Utc>,
    pacing: Pacing,
) -> Result<SweepSummary, StoreError> {
    let repositories = installations::sweepable_repositories(store.pool()).await?;
    let cheap: BTreeSet<i64> = scan_marks::reusable_at(store.pool(), now)
        .await?
        .into_iter()
        .collect();
    let mut summary = SweepSummary::default();
    let mut to_queue = Vec::new();
    for repository in repositories {
        // The same test intake applies to a push: a waiting scan covers this one.
        if jobs::queued_of_repository(store.pool(), "scan", repository.id).await? {
            summary.already_waiting += 1;
            continue;
        }
        to_queue.push(repository);
    }
    let candidates: Vec<Candidate> = to_queue
        .iter()
        .map(|r| Candidate {
            repository_id: r.id,
            installation_id: r.installation_id,
            expected_calls: if cheap.contains(&r.id) {
                MARKED_SCAN_CALLS
            } else {
                FULL_SCAN_CALLS
            },
        })
        .collect();
    let due: HashMap<i64, DateTime<Utc>> =
        pacing::plan(now, &candidates, pacing.interval, pacing.calls_per_hour)
            .into_iter()
            .map(|slot| (slot.repository_id, slot.run_at))
            .collect();
    for repository in to_queue {
        let run_at = due.get(&repository.id).copied().unwrap_or(now);
        let job = JobKind::Scan(ScanJob {
            installation_id: repository.installation_id,
            repository: RepoRef {
                id: repository.id,
                full_name: repository.full_name,
            },
            head_sha: None,
            reason: ScanReason::Sweep,
        });
        jobs::insert(store.pool(), &job.to_new_job(None, run_at), now).await?;
        summary.queued += 1;
        summary.last_due = summary.last_due.max(Some(run_at));
    }
    Ok(summary)
}

/// Sweeps every `every` until `stop` turns true. A failed sweep is logged and tried again at
/// the next one: the webhooks keep working meanwhile.
pub async fn run(
    store: Store,
    clock: Arc<dyn Clock>,
    every: Duration,
    calls_per_hour: u32,
    wake: Arc<Notify>,
    mut stop: watch::Receiver<bool>,
) {
    let pacing = Pacing {
        interval: TimeDelta::from_std(every).unwrap_or(TimeDelta::days(1)),
        calls_per_hour,
    };
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
        match enqueue_sweep(&store, clock.now(), pacing).await {
            Ok(summary) => {
                tracing::info!(
                    queued = summary.queued,
                    already_waiting = summary.already_waiting,
                    last_due = ?summary.last_due,
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
