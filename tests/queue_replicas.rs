//! Two replicas on one PostgreSQL database: each with its own connection pool and runner, as
//! two processes would be, draining one queue at once. No repository is ever worked on by
//! both at the same time, every job runs exactly once, both replicas take part, and the
//! attempts' own start and end times (table `job_attempts`) show it after the fact.

mod support;

use chrono::{DateTime, Utc};
use patchwright::infra::clock::{Clock, SystemClock};
use patchwright::infra::metrics::Metrics;
use patchwright::service::jobs::{
    Job, JobError, JobHandler, JobKind, JobOutcome, JobRunner, RepoRef, RunnerConfig, ScanJob,
    ScanReason, Settled,
};
use patchwright::store::{Store, jobs};
use sqlx::Row;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::{RunUntilIdle, TestDb};

/// An attempt's recorded start and end.
type Span = (DateTime<Utc>, DateTime<Utc>);

/// Jobs in flight per repository, across both replicas.
#[derive(Default)]
struct Overlaps {
    in_flight: Mutex<HashMap<i64, usize>>,
    /// The most jobs of one repository seen running at once.
    worst: AtomicUsize,
}

struct Replica {
    overlaps: Arc<Overlaps>,
    ran: AtomicUsize,
}

#[async_trait::async_trait]
impl JobHandler for Replica {
    async fn run(&self, job: &Job) -> Result<JobOutcome, JobError> {
        let repo = job.kind.repository().id;
        {
            let mut in_flight = self.overlaps.in_flight.lock().unwrap();
            let n = in_flight.entry(repo).or_default();
            *n += 1;
            self.overlaps.worst.fetch_max(*n, Ordering::SeqCst);
        }
        // Long enough for the other replica to try the same repository meanwhile.
        tokio::time::sleep(Duration::from_millis(15)).await;
        *self
            .overlaps
            .in_flight
            .lock()
            .unwrap()
            .entry(repo)
            .or_default() -= 1;
        self.ran.fetch_add(1, Ordering::SeqCst);
        Ok(JobOutcome::new(format!("scanned repository {repo}")))
    }
}

fn scan(repo: i64, n: usize) -> JobKind {
    JobKind::Scan(ScanJob {
        installation_id: 1,
        repository: RepoRef {
            id: repo,
            full_name: format!("acme/repo-{repo}"),
        },
        head_sha: Some(format!("{n:040x}")),
        reason: ScanReason::Push {
            git_ref: "refs/heads/main".into(),
        },
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_replicas_never_work_on_one_repository_at_once() {
    let Some(db) = TestDb::postgres().await else {
        // tests/store.rs fails in CI when PostgreSQL is missing; locally, say so and stop.
        eprintln!("skipped: no PostgreSQL (set DATABASE_URL)");
        return;
    };
    // More repositories than one replica has workers: one replica alone cannot hold every
    // repository busy, so the other always finds work (with 4 and 4 workers, the faster one
    // could take all four and leave the other nothing to claim).
    const REPOSITORIES: i64 = 8;
    const PER_REPOSITORY: usize = 6;
    let now = SystemClock.now();
    let mut ids = Vec::new();
    for repo in 1..=REPOSITORIES {
        for n in 0..PER_REPOSITORY {
            ids.push(
                jobs::insert(db.store.pool(), &scan(repo, n).to_new_job(None, now), now)
                    .await
                    .unwrap(),
            );
        }
    }

    let overlaps = Arc::new(Overlaps::default());
    let mut runners = Vec::new();
    let mut replicas = Vec::new();
    for _ in 0..2 {
        // A pool of its own per replica, as two processes would have.
        let store = Store::connect(&db.url).await.unwrap();
        let replica = Arc::new(Replica {
            overlaps: Arc::clone(&overlaps),
            ran: AtomicUsize::new(0),
        });
        replicas.push(Arc::clone(&replica));
        runners.push(Arc::new(JobRunner::new(
            store,
            replica,
            Arc::new(SystemClock),
            RunnerConfig {
                workers: 4,
                ..RunnerConfig::default()
            },
            Arc::new(Metrics::new()),
        )));
    }
    // Each drains until nothing is due; a replica that finds only repositories the other is
    // working on stops, so run both until the queue is empty.
    let mut settled = Vec::new();
    for _ in 0..100 {
        let (a, b) = tokio::join!(runners[0].run_until_idle(), runners[1].run_until_idle());
        settled.extend(a.unwrap());
        settled.extend(b.unwrap());
        if settled.len() >= ids.len() {
            break;
        }
    }
    assert_eq!(settled.len(), ids.len(), "every job settled once");
    assert!(settled.iter().all(|(_, s)| *s == Settled::Succeeded));
    assert_eq!(
        overlaps.worst.load(Ordering::SeqCst),
        1,
        "a repository was worked on by two workers at once"
    );
    let ran: Vec<usize> = replicas
        .iter()
        .map(|r| r.ran.load(Ordering::SeqCst))
        .collect();
    eprintln!("jobs run per replica: {ran:?}");
    assert!(
        ran.iter().all(|n| *n > 0),
        "both replicas took part: {ran:?}"
    );

    // After the fact, from the attempts alone: one per job, each with its start and end, and
    // the attempts of one repository one after the other. A start is read from the clock once
    // the claim has its job (after any wait on the previous job's release) and an end before
    // the job's row lets the next one go, so a later attempt never starts before an earlier
    // one of its repository ended.
    let rows = sqlx::query(
        "SELECT j.repository_id, a.started_at, a.finished_at
         FROM job_attempts a JOIN jobs j ON j.id = a.job_id
         ORDER BY j.repository_id, a.started_at",
    )
    .fetch_all(db.store.pool())
    .await
    .unwrap();
    assert_eq!(rows.len(), ids.len(), "one attempt per job");
    let mut by_repository: BTreeMap<i64, Vec<Span>> = BTreeMap::new();
    for row in &rows {
        let ms = |i: usize| DateTime::from_timestamp_millis(row.get::<i64, _>(i)).unwrap();
        let (started, finished) = (ms(1), ms(2));
        assert!(started <= finished, "{started} > {finished}");
        by_repository
            .entry(row.get(0))
            .or_default()
            .push((started, finished));
    }
    for (repository, attempts) in &by_repository {
        for pair in attempts.windows(2) {
            let ((_, ended), (started, _)) = (pair[0], pair[1]);
            assert!(
                started >= ended,
                "repository {repository}: an attempt started at {started}, before the previous one ended at {ended} ({} ms overlap)",
                (ended - started).num_milliseconds()
            );
        }
    }
    db.cleanup().await;
}
