//! Scheduled sweeps: every repository an active installation grants is queued for a scan, once,
//! on both store backends.

mod support;

use chrono::{DateTime, Utc};
use patchwright::service::jobs::{JobKind, RepoRef, ScanJob, ScanReason};
use patchwright::service::sweep::{SweepSummary, enqueue_sweep};
use patchwright::store::installations::{self, RepositoryUpsert};
use support::each_backend;
use support::jobs;

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

#[tokio::test]
async fn a_sweep_queues_one_scan_per_active_repository_and_skips_what_waits() {
    each_backend(|db| async move {
        let pool = db.store.pool();
        let now = at("2026-11-23T03:00:00Z");
        installations::upsert_installation(pool, 1, "acme", now)
            .await
            .unwrap();
        installations::upsert_installation(pool, 2, "paused", now)
            .await
            .unwrap();
        installations::set_suspended(pool, 2, true, now)
            .await
            .unwrap();
        for (id, installation, name) in [
            (10, 1, "acme/api"),
            (11, 1, "acme/web"),
            (12, 1, "acme/old"),
            (20, 2, "paused/app"),
        ] {
            installations::upsert_repository(
                pool,
                &RepositoryUpsert {
                    id,
                    installation_id: installation,
                    full_name: name,
                    default_branch: Some("main"),
                    private: Some(true),
                },
                now,
            )
            .await
            .unwrap();
        }
        installations::remove_repository(pool, 12, now)
            .await
            .unwrap();
        // acme/web has a push scan waiting: the sweep leaves it to that one.
        let waiting = JobKind::Scan(ScanJob {
            installation_id: 1,
            repository: RepoRef {
                id: 11,
                full_name: "acme/web".into(),
            },
            head_sha: None,
            reason: ScanReason::Installed,
        });
        jobs::insert(pool, &waiting.to_new_job(None, now), now)
            .await
            .unwrap();

        let summary = enqueue_sweep(&db.store, now).await.unwrap();
        assert_eq!(
            summary,
            SweepSummary {
                queued: 1,
                already_waiting: 1
            }
        );
        let swept: Vec<ScanJob> = jobs::all(pool)
            .await
            .unwrap()
            .iter()
            .filter_map(|row| match JobKind::from_stored(&row.kind, &row.payload) {
                Ok(JobKind::Scan(scan)) if scan.reason == ScanReason::Sweep => Some(scan),
                _ => None,
            })
            .collect();
        assert_eq!(swept.len(), 1);
        assert_eq!(swept[0].repository.full_name, "acme/api");
        assert_eq!(swept[0].installation_id, 1);

        // A second sweep before the first ran adds nothing.
        let again = enqueue_sweep(&db.store, now).await.unwrap();
        assert_eq!(again.queued, 0);
        assert_eq!(again.already_waiting, 2);
    })
    .await;
}
