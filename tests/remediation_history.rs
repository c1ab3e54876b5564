//! Remediation history in the store and the figures over it, on SQLite and (with
//! DATABASE_URL) PostgreSQL: scans append events; a generated year of 1,000 repositories gives
//! the figures a straightforward recomputation from the generator's own plan gives.

mod history_gen;
mod support;

use chrono::{DateTime, TimeDelta, Utc};
use history_gen::{History, Planned};
use patchwright::policy::SlaDays;
use patchwright::remediation::{Window, figures};
use patchwright::store::findings::{self, SeenFinding};
use patchwright::store::history::{self, EventKind};
use patchwright::store::installations::{self, RepositoryUpsert};
use std::collections::{HashMap, HashSet};
use support::each_backend;

fn t(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn seen(key: &str, severity: &str, excepted: bool) -> SeenFinding {
    SeenFinding {
        key: key.to_string(),
        rule: "vulnerable-package".into(),
        subject: format!("{key}@1.0.0"),
        file: "package-lock.json".into(),
        line: 3,
        level: "blocker".into(),
        advisories: vec![format!("GHSA-{key}")],
        severity: severity.into(),
        package: key.to_string(),
        owners: vec!["@acme/web".into()],
        excepted,
    }
}

#[tokio::test]
async fn scans_append_opened_excepted_reopened_and_fixed_events() {
    each_backend(|db| async move {
        let pool = db.store.pool();
        let t0 = t("2026-03-01T09:00:00Z");
        installations::upsert_installation(pool, 1, "acme", t0)
            .await
            .unwrap();
        installations::upsert_repository(
            pool,
            &RepositoryUpsert {
                id: 7,
                installation_id: 1,
                full_name: "acme/web",
                default_branch: Some("main"),
                private: Some(false),
            },
            t0,
        )
        .await
        .unwrap();
        let scan = |seen: Vec<SeenFinding>, at: DateTime<Utc>| {
            let store = db.store.clone();
            async move {
                let mut tx = store.begin().await.unwrap();
                findings::record_scan(&mut tx, 7, &seen, at).await.unwrap();
                tx.commit().await.unwrap();
            }
        };
        let day = |n: i64| t0 + TimeDelta::days(n);
        scan(
            vec![seen("lodash", "high", false), seen("qs", "low", false)],
            day(0),
        )
        .await;
        // Seen again, unchanged: nothing to record.
        scan(
            vec![seen("lodash", "high", false), seen("qs", "low", false)],
            day(1),
        )
        .await;
        // An exception now covers qs; lodash is gone.
        scan(vec![seen("qs", "low", true)], day(2)).await;
        // The exception lapsed: qs is exposed again; lodash is back.
        scan(
            vec![seen("qs", "low", false), seen("lodash", "high", false)],
            day(3),
        )
        .await;

        let events = history::events(pool, Some(&[7])).await.unwrap();
        let got: Vec<(&str, EventKind, i64)> = events
            .iter()
            .map(|e| (e.package.as_str(), e.kind, (e.at - t0).num_days()))
            .collect();
        use EventKind::*;
        assert_eq!(
            got,
            vec![
                ("lodash", Opened, 0),
                ("qs", Opened, 0),
                ("qs", Excepted, 2),
                ("lodash", Fixed, 2),
                ("qs", Opened, 3),
                ("lodash", Opened, 3),
            ]
        );
        assert!(
            events
                .iter()
                .all(|e| e.owners == vec!["@acme/web".to_string()])
        );
        assert_eq!(events[0].severity, "high");
        assert_eq!(events[0].advisory, "GHSA-lodash");

        // The exposures: qs keeps its clock over the exception; lodash came back.
        let exposures = patchwright::remediation::exposures(&events);
        let qs: Vec<_> = exposures.iter().filter(|e| e.package == "qs").collect();
        assert_eq!(qs.len(), 2);
        assert_eq!(qs[1].clock_start, day(0));
        let lodash: Vec<_> = exposures.iter().filter(|e| e.package == "lodash").collect();
        assert!(lodash[1].recurrence);
    })
    .await;
}

/// Mean days from open to fix of the plan's fixed blockers and warnings of `severity` fixed in
/// `(from, to]`: the figure recomputed the plain way.
fn plain_mttr(h: &History, severity: &str, from: DateTime<Utc>, to: DateTime<Utc>) -> Option<f64> {
    let d: Vec<f64> = h
        .exposures
        .iter()
        .filter(|e| e.severity == severity && e.level != "info")
        .filter_map(|e| match e.close {
            Some((at, false)) if at > from && at <= to => {
                Some((at - e.open).num_milliseconds() as f64 / 86_400_000.0)
            }
            _ => None,
        })
        .collect();
    (!d.is_empty()).then(|| d.iter().sum::<f64>() / d.len() as f64)
}

fn close_enough(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => (a - b).abs() < 1e-6,
        (None, None) => true,
        _ => false,
    }
}

#[tokio::test]
async fn figures_over_a_generated_year_match_a_plain_recomputation() {
    each_backend(|db| async move {
        let now = t("2026-12-01T12:00:00Z");
        let h = history_gen::plan(1000, now);
        history_gen::write(&db.store, &h).await;
        let window = Window { days: 90 };
        let start = now - TimeDelta::days(90);
        let rows = history::rebuild_snapshots(&db.store, start.date_naive(), now.date_naive())
            .await
            .unwrap();
        assert!(rows > 0);
        let data = history::dataset(&db.store, None, start.date_naive())
            .await
            .unwrap();
        let sla = SlaDays::default();
        let f = figures(&data, &sla, now, window);

        // The pages chart the counts summed by the database: the same series as summing the
        // rows of every repository, for all repositories and for a subset.
        let series = patchwright::remediation::snapshots::series;
        let (from, to) = (start.date_naive(), now.date_naive());
        let some: Vec<i64> = (1..=1000).filter(|id| id % 3 == 0).collect();
        for ids in [None, Some(some.as_slice())] {
            let rows = history::snapshots(db.store.pool(), from, ids)
                .await
                .unwrap();
            let totals = history::snapshot_totals(db.store.pool(), from, ids)
                .await
                .unwrap();
            assert!(totals.len() < rows.len(), "summed over repositories");
            for level in ["blocker", "warning", "info"] {
                assert_eq!(
                    series(&totals, level, from, to),
                    series(&rows, level, from, to),
                    "{level} over {ids:?}"
                );
            }
        }

        assert_eq!(f.repositories, 1000);
        for row in &f.mttr {
            let want30 = plain_mttr(&h, &row.severity, now - TimeDelta::days(30), now);
            let want90 = plain_mttr(&h, &row.severity, now - TimeDelta::days(90), now);
            assert!(
                close_enough(row.last_30.mean_days, want30),
                "{row:?} vs {want30:?}"
            );
            assert!(
                close_enough(row.last_90.mean_days, want90),
                "{row:?} vs {want90:?}"
            );
        }

        // SLA of open blockers.
        let open: Vec<&Planned> = h.exposures.iter().filter(|e| e.close.is_none()).collect();
        let (mut breached, mut soon, mut fine) = (0, 0, 0);
        for e in open.iter().filter(|e| e.level == "blocker") {
            let days = match e.severity {
                "critical" => 7,
                "high" => 30,
                "medium" => 90,
                _ => 180,
            };
            let due = e.open + TimeDelta::days(days);
            if now > due {
                breached += 1;
            } else if due - now <= TimeDelta::days(7) {
                soon += 1;
            } else {
                fine += 1;
            }
        }
        assert_eq!(
            (f.sla.breached, f.sla.due_soon, f.sla.on_track),
            (breached, soon, fine)
        );
        assert!(
            breached > 0 && fine > 0,
            "the generated year exercises the SLA states"
        );

        // Repositories with no open blocker.
        let blocked: HashSet<i64> = open
            .iter()
            .filter(|e| e.level == "blocker")
            .map(|e| e.repo)
            .collect();
        assert_eq!(
            (f.passing_policy.count, f.passing_policy.of),
            (1000 - blocked.len(), 1000)
        );

        // Closed in the window, and by an exception.
        let closed: Vec<bool> = h
            .exposures
            .iter()
            .filter_map(|e| e.close)
            .filter(|(at, _)| *at > start && *at <= now)
            .map(|(_, excepted)| excepted)
            .collect();
        assert_eq!(
            (f.closed_by_exception.count, f.closed_by_exception.of),
            (closed.iter().filter(|x| **x).count(), closed.len())
        );

        // Recurrence: opened in the window, and a reopening.
        let opened: Vec<&Planned> = h
            .exposures
            .iter()
            .filter(|e| e.open > start && e.open <= now)
            .collect();
        assert_eq!(
            (f.recurrence.count, f.recurrence.of),
            (opened.iter().filter(|e| e.reopened).count(), opened.len())
        );
        assert!(f.recurrence.count > 0);

        // Rework: a fix of a package fixed in the same repository within the 30 days before.
        let mut fixes: Vec<(i64, &str, DateTime<Utc>)> = h
            .exposures
            .iter()
            .filter_map(|e| match e.close {
                Some((at, false)) => Some((e.repo, e.package.as_str(), at)),
                _ => None,
            })
            .collect();
        fixes.sort();
        fixes.dedup();
        let in_window: Vec<_> = fixes.iter().filter(|f| f.2 > start && f.2 <= now).collect();
        let rework = in_window
            .iter()
            .filter(|(repo, package, at)| {
                fixes.iter().any(|(r, p, other)| {
                    r == repo && p == package && other < at && *at - *other <= TimeDelta::days(30)
                })
            })
            .count();
        assert_eq!((f.rework.count, f.rework.of), (rework, in_window.len()));

        // Fix PR outcomes of PRs opened in the window.
        let prs: Vec<_> = h
            .prs
            .iter()
            .filter(|p| p.opened > start && p.opened <= now)
            .collect();
        let count = |o: &str| prs.iter().filter(|p| p.outcome == o).count();
        assert_eq!(f.fix_prs.opened, prs.len());
        assert_eq!(f.fix_prs.merged, count("merged"));
        assert_eq!(f.fix_prs.closed_by_person, count("closed-by-person"));
        assert_eq!(f.fix_prs.superseded, count("superseded"));
        assert_eq!(f.fix_prs.still_open, count("open"));

        // The daily snapshot: open blockers at the end of each day, per severity.
        let mut by_day: HashMap<chrono::NaiveDate, i64> = HashMap::new();
        for point in &f.open_blockers {
            by_day.insert(point.day, point.total);
        }
        for back in [0, 1, 30, 89] {
            let day = (now - TimeDelta::days(back)).date_naive();
            let end = patchwright::remediation::snapshots::end_of_day(day);
            let want = h
                .exposures
                .iter()
                .filter(|e| e.level == "blocker" && e.open <= end)
                .filter(|e| e.close.is_none_or(|(at, _)| at > end))
                .count() as i64;
            assert_eq!(
                by_day.get(&day).copied().unwrap_or(0),
                want,
                "open blockers on {day}"
            );
        }
    })
    .await;
}

#[tokio::test]
async fn patchwright_report_prints_the_figures_of_a_store() {
    let db = support::TestDb::sqlite().await;
    let now = Utc::now();
    let h = history_gen::plan(40, now);
    history_gen::write(&db.store, &h).await;
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_patchwright"))
            .arg("report")
            .arg("--database")
            .arg(&db.url)
            .args(args)
            .env_remove("PATCHWRIGHT_CONFIG")
            .output()
            .unwrap()
    };
    let out = run(&["--format", "json", "--since", "30d", "--rebuild-snapshots"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let start = now - TimeDelta::days(30);
    let opened = h.prs.iter().filter(|p| p.opened > start).count();
    assert_eq!(json["window"]["days"], 30);
    assert_eq!(json["repositories"], 40);
    assert_eq!(json["fix_prs"]["opened"], opened);
    assert_eq!(
        json["open_blockers"].as_array().unwrap().len(),
        31,
        "a point per day"
    );

    let text = run(&[]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("over the last 90 days (40 repositories)"),
        "{text}"
    );
    assert!(text.contains("SLA (open blockers):"), "{text}");

    let bad = run(&["--since", "3 weeks"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("90d"));
}
