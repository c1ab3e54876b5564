//! The daily snapshot job: once a day per installation, the open counts of the days since its
//! last run (that day again, now complete, through today so far) are rebuilt from the history
//! into `daily_snapshots`, and the run is recorded in `snapshot_runs`. Pages and `patchwright
//! report` draw their time series from those rows instead of replaying the history.

use crate::infra::clock::Clock;
use crate::store::{Store, StoreError, history, installations, snapshot_runs};
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// How far back the first run of an installation fills in.
pub const BACKFILL_DAYS: i64 = 90;
/// How often the job looks whether a day has turned.
pub const CHECK_EVERY: Duration = Duration::from_secs(15 * 60);

/// The days a run on `today` records, given the last day recorded: `None` when today is
/// already recorded. The last recorded day is taken again because it was recorded before it
/// ended; a gap (the service was down) is filled; a first run fills [`BACKFILL_DAYS`].
pub fn days_to_record(last: Option<NaiveDate>, today: NaiveDate) -> Option<(NaiveDate, NaiveDate)> {
    match last {
        Some(last) if last >= today => None,
        Some(last) => Some((last.max(today - TimeDelta::days(BACKFILL_DAYS)), today)),
        None => Some((today - TimeDelta::days(BACKFILL_DAYS), today)),
    }
}

/// What one pass recorded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SnapshotSummary {
    /// Installations whose snapshot was taken.
    pub installations: usize,
    /// `daily_snapshots` rows written.
    pub rows: usize,
}

/// One pass: every installation without today's snapshot gets it.
pub async fn tick(store: &Store, now: DateTime<Utc>) -> Result<SnapshotSummary, StoreError> {
    let today = now.date_naive();
    let mut by_installation: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for r in installations::sweepable_repositories(store.pool()).await? {
        by_installation
            .entry(r.installation_id)
            .or_default()
            .push(r.id);
    }
    let mut summary = SnapshotSummary::default();
    for (installation_id, repositories) in by_installation {
        let last = snapshot_runs::last_day(store.pool(), installation_id).await?;
        let Some((from, to)) = days_to_record(last, today) else {
            continue;
        };
        let rows = history::rebuild_snapshots_of(store, from, to, Some(&repositories)).await?;
        snapshot_runs::record(store.pool(), installation_id, today, now, rows).await?;
        summary.installations += 1;
        summary.rows += rows;
    }
    Ok(summary)
}

/// Runs [`tick`] at start and every [`CHECK_EVERY`] until `stop` turns true; a failed pass is
/// logged and tried again at the next.
pub async fn run(store: Store, clock: Arc<dyn Clock>, mut stop: watch::Receiver<bool>) {
    loop {
        match tick(&store, clock.now()).await {
            Ok(s) if s.installations > 0 => {
                tracing::info!(
                    installations = s.installations,
                    rows = s.rows,
                    "daily snapshots taken"
                )
            }
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "daily snapshots: cannot take them"),
        }
        tokio::select! {
            _ = tokio::time::sleep(CHECK_EVERY) => {}
            changed = stop.changed() => {
                if changed.is_err() || *stop.borrow() {
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn a_day_is_recorded_once_and_the_last_one_again_when_it_has_ended() {
        let today = d("2026-06-10");
        assert_eq!(days_to_record(Some(today), today), None);
        assert_eq!(
            days_to_record(Some(d("2026-06-09")), today),
            Some((d("2026-06-09"), today))
        );
        // Down for three days: the gap is filled.
        assert_eq!(
            days_to_record(Some(d("2026-06-06")), today),
            Some((d("2026-06-06"), today))
        );
        assert_eq!(days_to_record(None, today), Some((d("2026-03-12"), today)));
        // A gap longer than the backfill is filled only that far.
        assert_eq!(
            days_to_record(Some(d("2025-01-01")), today),
            Some((d("2026-03-12"), today))
        );
    }
}
