//! Scheduled sweeps: every repository an active installation grants is queued for a scan, once,
//! on both store backends.

mod support;

use chrono::{DateTime, Utc};
use patchwright::service::jobs::{JobKind, RepoRef, ScanJob, ScanReason};
use patchwright::service::sweep::{Pacing, SweepSummary, enqueue_sweep};
use patchwright::store::installations::{self, RepositoryUpsert};
use patchwright::store::scan_marks::{self, ScanMark};
use support::each_backend;
use support::jobs;

fn pacing() -> Pacing {
    Pacing {
        interval: chrono::TimeDelta::hours(24),
        calls_per_hour: 5_000,
    }
}

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

        let summary = enqueue_sweep(&db.store, now, pacing()).await.unwrap();
        assert_eq!(
            summary,
            SweepSummary {
                queued: 1,
                already_waiting: 1,
                last_due: Some(now),
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
        let again = enqueue_sweep(&db.store, now, pacing()).await.unwrap();
        assert_eq!(again.queued, 0);
        assert_eq!(again.already_waiting, 2);
    })
    .await;
}

#[tokio::test]
async fn scan_marks_are_replaced_and_say_which_repositories_are_cheap_to_sweep() {
    each_backend(|db| async move {
        let pool = db.store.pool();
        let now = at("2026-12-03T06:00:00Z");
        installations::upsert_installation(pool, 1, "acme", now)
            .await
            .unwrap();
        for (id, name) in [(10, "acme/api"), (11, "acme/web"), (12, "acme/new")] {
            installations::upsert_repository(
                pool,
                &RepositoryUpsert {
                    id,
                    installation_id: 1,
                    full_name: name,
                    default_branch: Some("main"),
                    private: Some(true),
                },
                now,
            )
            .await
            .unwrap();
        }
        let mark = |id: i64, until: Option<&str>| ScanMark {
            repository_id: id,
            default_branch: "main".into(),
            head_sha: format!("{id:040}"),
            etag: None,
            knowledge_key: "k1".into(),
            reusable_until: until.map(at),
            scanned_at: now,
        };
        assert_eq!(scan_marks::get(pool, 10).await.unwrap(), None);
        scan_marks::put(pool, &mark(10, None)).await.unwrap();
        scan_marks::put(pool, &mark(11, Some("2026-12-04T00:00:00Z")))
            .await
            .unwrap();
        // A later scan replaces the mark whole.
        let moved = ScanMark {
            head_sha: "f".repeat(40),
            etag: Some("\"abc\"".into()),
            knowledge_key: "k2".into(),
            ..mark(10, None)
        };
        scan_marks::put(pool, &moved).await.unwrap();
        assert_eq!(scan_marks::get(pool, 10).await.unwrap(), Some(moved));

        // A validator is kept only on a mark still about its head.
        scan_marks::set_etag(pool, 11, &"e".repeat(40), "\"stale\"")
            .await
            .unwrap();
        scan_marks::set_etag(pool, 11, &format!("{:040}", 11), "\"fresh\"")
            .await
            .unwrap();
        let web = scan_marks::get(pool, 11).await.unwrap().unwrap();
        assert_eq!(web.etag.as_deref(), Some("\"fresh\""));

        let mut cheap = scan_marks::reusable_at(pool, now).await.unwrap();
        cheap.sort();
        assert_eq!(cheap, [10, 11]);
        // Past acme/web's date only acme/api stays cheap; acme/new never was.
        let later = at("2026-12-04T00:00:00Z");
        assert_eq!(scan_marks::reusable_at(pool, later).await.unwrap(), [10]);
    })
    .await;
}
