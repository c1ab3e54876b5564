//! The job queue and worker pool on real databases. Time is a `ManualClock`: a test moves it
//! instead of sleeping; waits for other tasks are bounded by a timeout only as a safety net.

mod support;

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use patchwright::service::clock::Clock;
use patchwright::service::jobs::{
    Job, JobError, JobHandler, JobKind, JobOutcome, JobRunner, RepoRef, RetryPolicy, RunnerConfig,
    ScanJob, ScanReason, Settled, classify_http_failure,
};
use patchwright::service::metrics::Metrics;
use patchwright::store::Store;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use support::jobs::{self, JobState, NewJob};
use support::{ManualClock, RecordingHandler, each_backend};
use support::{RunUntilIdle, audit};
use tokio::sync::{Notify, Semaphore, watch};

const T0: &str = "2026-02-01T10:00:00Z";

fn t0() -> DateTime<Utc> {
    T0.parse().unwrap()
}

fn scan(repo: i64) -> JobKind {
    JobKind::Scan(ScanJob {
        installation_id: 1,
        repository: RepoRef {
            id: repo,
            full_name: format!("acme/repo-{repo}"),
        },
        head_sha: Some("6113728f27ae82c7b1a177c8d03f9e96e0adf246".into()),
        reason: ScanReason::Push {
            git_ref: "refs/heads/main".into(),
        },
    })
}

async fn enqueue(store: &Store, kind: &JobKind, at: DateTime<Utc>) -> i64 {
    jobs::insert(store.pool(), &kind.to_new_job(None, at), at)
        .await
        .unwrap()
}

fn config(workers: usize, max_attempts: u32) -> RunnerConfig {
    RunnerConfig {
        workers,
        lease: Duration::from_secs(60),
        retry: RetryPolicy {
            base: Duration::from_secs(30),
            max_delay: Duration::from_secs(3600),
            max_attempts,
            // Exact times below; the jitter has its own tests.
            jitter_percent: 0,
        },
        idle_poll: Duration::from_secs(3600),
        shutdown_grace: Duration::from_secs(30),
    }
}

fn runner(
    store: &Store,
    handler: Arc<dyn JobHandler>,
    clock: Arc<ManualClock>,
    config: RunnerConfig,
) -> Arc<JobRunner> {
    Arc::new(JobRunner::new(
        store.clone(),
        handler,
        clock,
        config,
        Arc::new(Metrics::new()),
    ))
}

/// Waits (bounded) until `done` holds, re-checking whenever the handler starts a job.
async fn until(handler: &RecordingHandler, done: impl Fn(&RecordingHandler) -> bool) {
    tokio::time::timeout(Duration::from_secs(20), async {
        while !done(handler) {
            handler.started.notified().await;
        }
    })
    .await
    .expect("the handler never got there");
}

async fn within<T>(f: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(20), f)
        .await
        .expect("timed out")
}

async fn row(store: &Store, id: i64) -> jobs::JobRow {
    jobs::get(store.pool(), id).await.unwrap().unwrap()
}

#[tokio::test]
async fn a_stored_job_reaches_the_handler_typed_and_ends_succeeded() {
    each_backend(|db| async move {
        let clock = ManualClock::at(T0);
        let handler = RecordingHandler::new();
        let id = enqueue(&db.store, &scan(42), t0()).await;
        let r = runner(&db.store, handler.clone(), clock, config(2, 8));
        assert_eq!(
            r.run_until_idle().await.unwrap(),
            vec![(id, Settled::Succeeded)]
        );
        let calls = handler.calls.lock().unwrap().clone();
        assert_eq!(calls.len(), 1);
        assert_eq!(calls[0].id, id);
        assert_eq!(calls[0].kind, scan(42));
        assert_eq!(calls[0].attempts, 1);
        let stored = row(&db.store, id).await;
        assert_eq!(stored.state, JobState::Succeeded);
        assert_eq!(stored.outcome, Some(format!("handled job {id}")));
        assert_eq!(stored.finished_at, Some(t0()));
        // Nothing left behind.
        assert_eq!(r.run_until_idle().await.unwrap(), vec![]);
    })
    .await;
}

#[tokio::test]
async fn a_job_left_running_by_a_dead_worker_is_taken_over_after_its_lease() {
    each_backend(|db| async move {
        let clock = ManualClock::at(T0);
        let id = enqueue(&db.store, &scan(42), t0()).await;

        // Worker A starts the job, then its process "dies" mid-job.
        let stuck = RecordingHandler::gated(Arc::new(Semaphore::new(0)));
        let a = runner(&db.store, stuck.clone(), clock.clone(), config(1, 8));
        let dying = tokio::spawn(async move { a.run_until_idle().await });
        until(&stuck, |h| h.calls.lock().unwrap().len() == 1).await;
        dying.abort();
        let held = row(&db.store, id).await;
        assert_eq!(held.state, JobState::Running);
        let dead_token = held.lock_token.clone().unwrap();

        // Another worker finds nothing while the lease holds...
        let survivor = RecordingHandler::new();
        let b = runner(&db.store, survivor.clone(), clock.clone(), config(1, 8));
        assert_eq!(b.run_until_idle().await.unwrap(), vec![]);
        clock.advance(TimeDelta::seconds(59));
        assert_eq!(b.run_until_idle().await.unwrap(), vec![]);

        // ...and takes the job over once it has run out.
        clock.advance(TimeDelta::seconds(1));
        assert_eq!(
            b.run_until_idle().await.unwrap(),
            vec![(id, Settled::Succeeded)]
        );
        assert_eq!(survivor.call_ids(), vec![id]);
        assert_eq!(survivor.calls.lock().unwrap()[0].attempts, 2);
        // The dead worker's token can no longer touch the row.
        assert!(
            !jobs::succeed(db.store.pool(), id, &dead_token, "late", clock.now())
                .await
                .unwrap()
        );
        assert_eq!(row(&db.store, id).await.state, JobState::Succeeded);
    })
    .await;
}

#[tokio::test]
async fn one_job_per_repository_runs_at_a_time_within_the_worker_bound() {
    each_backend(|db| async move {
        let clock = ManualClock::at(T0);
        let r1a = enqueue(&db.store, &scan(1), t0()).await;
        let r2 = enqueue(&db.store, &scan(2), t0()).await;
        let r1b = enqueue(&db.store, &scan(1), t0()).await;
        let r1c = enqueue(&db.store, &scan(1), t0()).await;

        let gate = Arc::new(Semaphore::new(0));
        let handler = RecordingHandler::gated(gate.clone());
        let r = runner(&db.store, handler.clone(), clock, config(4, 8));
        let pool = tokio::spawn(async move { r.run_until_idle().await });

        // Four slots, but only one job of repository 1 may start.
        until(&handler, |h| h.calls.lock().unwrap().len() == 2).await;
        let mut started = handler.call_ids();
        started.sort();
        assert_eq!(started, vec![r1a, r2]);
        let states: Vec<JobState> = jobs::all(db.store.pool())
            .await
            .unwrap()
            .iter()
            .map(|j| j.state)
            .collect();
        assert_eq!(
            states,
            vec![
                JobState::Running,
                JobState::Running,
                JobState::Queued,
                JobState::Queued
            ]
        );

        gate.add_permits(4);
        let settled = within(pool).await.unwrap().unwrap();
        assert_eq!(settled.len(), 4);
        assert_eq!(*handler.max_same_repo.lock().unwrap(), 1);
        // Repository 1's jobs ran in the order they were stored.
        let order: Vec<i64> = handler
            .call_ids()
            .into_iter()
            .filter(|id| *id != r2)
            .collect();
        assert_eq!(order, vec![r1a, r1b, r1c]);
    })
    .await;
}

#[tokio::test]
async fn the_pool_never_runs_more_jobs_than_it_has_workers() {
    each_backend(|db| async move {
        let clock = ManualClock::at(T0);
        for repo in 1..=5 {
            enqueue(&db.store, &scan(repo), t0()).await;
        }
        let gate = Arc::new(Semaphore::new(0));
        let handler = RecordingHandler::gated(gate.clone());
        let r = runner(&db.store, handler.clone(), clock, config(2, 8));
        let pool = tokio::spawn(async move { r.run_until_idle().await });
        until(&handler, |h| h.calls.lock().unwrap().len() == 2).await;
        let running = jobs::all(db.store.pool())
            .await
            .unwrap()
            .iter()
            .filter(|j| j.state == JobState::Running)
            .count();
        assert_eq!(running, 2);
        gate.add_permits(5);
        assert_eq!(within(pool).await.unwrap().unwrap().len(), 5);
        assert_eq!(*handler.max_running.lock().unwrap(), 2);
    })
    .await;
}

#[tokio::test]
async fn retryable_failures_back_off_exponentially_on_the_clock_then_fail_for_good() {
    each_backend(|db| async move {
        let clock = ManualClock::at(T0);
        let handler = RecordingHandler::new();
        handler.script(vec![
            Err(JobError::Retryable(
                "GitHub answered 502: Bad Gateway".into(),
            )),
            Err(JobError::Retryable(
                "GitHub answered 503: Service Unavailable".into(),
            )),
            Err(JobError::Retryable(
                "GitHub answered 500: Internal Server Error".into(),
            )),
        ]);
        let id = enqueue(&db.store, &scan(42), t0()).await;
        let r = runner(&db.store, handler.clone(), clock.clone(), config(1, 3));

        let first_retry = t0() + TimeDelta::seconds(30);
        assert_eq!(
            r.run_until_idle().await.unwrap(),
            vec![(id, Settled::Retrying { at: first_retry })]
        );
        let stored = row(&db.store, id).await;
        assert_eq!(
            (stored.state, stored.attempts, stored.run_at),
            (JobState::Queued, 1, first_retry)
        );
        assert_eq!(
            stored.last_error.as_deref(),
            Some("GitHub answered 502: Bad Gateway")
        );

        // Not before its time.
        clock.advance(TimeDelta::seconds(29));
        assert_eq!(r.run_until_idle().await.unwrap(), vec![]);
        clock.advance(TimeDelta::seconds(1));
        let second_retry = clock.now() + TimeDelta::seconds(60);
        assert_eq!(
            r.run_until_idle().await.unwrap(),
            vec![(id, Settled::Retrying { at: second_retry })]
        );

        clock.advance(TimeDelta::seconds(60));
        let reason =
            "gave up after 3 attempts; last error: GitHub answered 500: Internal Server Error";
        assert_eq!(
            r.run_until_idle().await.unwrap(),
            vec![(
                id,
                Settled::Failed {
                    reason: reason.into()
                }
            )]
        );
        let stored = row(&db.store, id).await;
        assert_eq!(
            (stored.state, stored.last_error.as_deref()),
            (JobState::Failed, Some(reason))
        );
        assert_eq!(
            handler
                .calls
                .lock()
                .unwrap()
                .iter()
                .map(|j| j.attempts)
                .collect::<Vec<_>>(),
            vec![1, 2, 3]
        );
        let trail = audit::all(db.store.pool()).await.unwrap();
        assert_eq!(trail.len(), 1);
        assert_eq!(trail[0].action, "job.failed");
        assert_eq!(trail[0].job_id, Some(id));
        assert_eq!(trail[0].reason, format!("scan job: {reason}"));

        // Failed is final.
        clock.advance(TimeDelta::days(1));
        assert_eq!(r.run_until_idle().await.unwrap(), vec![]);
    })
    .await;
}

#[tokio::test]
async fn a_rate_limited_job_waits_for_the_reset_without_spending_an_attempt() {
    each_backend(|db| async move {
        let clock = ManualClock::at(T0);
        // What GitHub says when the primary limit is spent: reset in 15 minutes.
        let reset = t0() + TimeDelta::minutes(15);
        let mut headers = axum::http::HeaderMap::new();
        headers.insert("x-ratelimit-remaining", "0".parse().unwrap());
        headers.insert(
            "x-ratelimit-reset",
            reset.timestamp().to_string().parse().unwrap(),
        );
        let limited = classify_http_failure(403, &headers, "API rate limit exceeded", t0());

        let handler = RecordingHandler::new();
        handler.script(vec![Err(limited)]);
        let id = enqueue(&db.store, &scan(42), t0()).await;
        let r = runner(&db.store, handler.clone(), clock.clone(), config(1, 1));
        assert_eq!(
            r.run_until_idle().await.unwrap(),
            vec![(id, Settled::Waiting { at: reset })]
        );
        let stored = row(&db.store, id).await;
        assert_eq!(
            (stored.state, stored.attempts, stored.run_at),
            (JobState::Queued, 0, reset)
        );

        clock.advance(TimeDelta::minutes(14));
        assert_eq!(r.run_until_idle().await.unwrap(), vec![]);
        clock.advance(TimeDelta::minutes(1));
        // max_attempts is 1, and the wait did not use it up.
        assert_eq!(
            r.run_until_idle().await.unwrap(),
            vec![(id, Settled::Succeeded)]
        );
    })
    .await;
}

#[tokio::test]
async fn permanent_failures_are_recorded_with_their_reason_and_never_retried() {
    each_backend(|db| async move {
        let clock = ManualClock::at(T0);
        let handler = RecordingHandler::new();
        handler.script(vec![Err(JobError::Permanent(
            "GitHub answered 404: Not Found (the repository was deleted)".into(),
        ))]);
        let id = enqueue(&db.store, &scan(42), t0()).await;
        // A payload nobody can read fails for good too, naming why.
        let bad = jobs::insert(
            db.store.pool(),
            &NewJob {
                kind: "rebase".into(),
                payload: "{}".into(),
                installation_id: Some(1),
                repository_id: Some(43),
                concurrency_key: Some("repo:43".into()),
                delivery_id: None,
                run_at: t0(),
            },
            t0(),
        )
        .await
        .unwrap();
        let r = runner(&db.store, handler.clone(), clock.clone(), config(1, 8));
        let mut settled = r.run_until_idle().await.unwrap();
        settled.sort_by_key(|(id, _)| *id);
        assert_eq!(
            settled,
            vec![
                (
                    id,
                    Settled::Failed {
                        reason: "GitHub answered 404: Not Found (the repository was deleted)"
                            .into()
                    }
                ),
                (
                    bad,
                    Settled::Failed {
                        reason: "unknown job kind `rebase`".into()
                    }
                ),
            ]
        );
        assert_eq!(
            handler.call_ids(),
            vec![id],
            "the unreadable job never reaches the handler"
        );
        clock.advance(TimeDelta::days(1));
        assert_eq!(r.run_until_idle().await.unwrap(), vec![]);
        assert_eq!(audit::all(db.store.pool()).await.unwrap().len(), 2);
    })
    .await;
}

#[tokio::test]
async fn a_job_whose_workers_keep_dying_is_given_up_after_max_attempts() {
    each_backend(|db| async move {
        let clock = ManualClock::at(T0);
        let id = enqueue(&db.store, &scan(42), t0()).await;
        let pool = db.store.pool();
        // Two workers claim it and die without a word.
        for token in ["dead-1", "dead-2"] {
            let now = clock.now();
            let claimed = jobs::claim(pool, now, token, now + TimeDelta::seconds(60))
                .await
                .unwrap();
            assert_eq!(claimed.into_job().map(|j| j.id), Some(id));
            clock.advance(TimeDelta::seconds(61));
        }
        let handler = RecordingHandler::new();
        let r = runner(&db.store, handler.clone(), clock, config(1, 2));
        let settled = r.run_until_idle().await.unwrap();
        assert_eq!(settled.len(), 1);
        let Settled::Failed { reason } = &settled[0].1 else {
            panic!("{settled:?}")
        };
        assert!(
            reason.starts_with("gave up after 2 starts without finishing"),
            "{reason}"
        );
        assert!(handler.call_ids().is_empty());
    })
    .await;
}

struct Panics;

#[async_trait]
impl JobHandler for Panics {
    async fn run(&self, _job: &Job) -> Result<JobOutcome, JobError> {
        panic!("bug in a handler")
    }
}

#[tokio::test]
async fn a_panicking_handler_is_a_retryable_failure_not_a_lost_job() {
    each_backend(|db| async move {
        let clock = ManualClock::at(T0);
        let id = enqueue(&db.store, &scan(42), t0()).await;
        let r = runner(&db.store, Arc::new(Panics), clock, config(1, 8));
        assert_eq!(
            r.run_until_idle().await.unwrap(),
            vec![(
                id,
                Settled::Retrying {
                    at: t0() + TimeDelta::seconds(30)
                }
            )]
        );
        let stored = row(&db.store, id).await;
        assert!(
            stored
                .last_error
                .unwrap()
                .starts_with("the job handler panicked")
        );
    })
    .await;
}

#[tokio::test]
async fn the_pool_starts_on_a_wake_and_shutdown_releases_what_does_not_finish_in_time() {
    each_backend(|db| async move {
        let clock = ManualClock::at(T0);
        let gate = Arc::new(Semaphore::new(0));
        let handler = RecordingHandler::gated(gate.clone());
        let mut cfg = config(2, 8);
        cfg.shutdown_grace = Duration::ZERO;
        let r = runner(&db.store, handler.clone(), clock.clone(), cfg);
        let wake = Arc::new(Notify::new());
        let (stop, stopped) = watch::channel(false);
        let pool = tokio::spawn(r.run(wake.clone(), stopped));

        // The poll interval is an hour: only the wake can start this job.
        let id = enqueue(&db.store, &scan(42), t0()).await;
        wake.notify_one();
        until(&handler, |h| h.calls.lock().unwrap().len() == 1).await;
        assert_eq!(row(&db.store, id).await.state, JobState::Running);

        stop.send(true).unwrap();
        within(pool).await.unwrap();
        let released = row(&db.store, id).await;
        assert_eq!(released.state, JobState::Queued);
        assert_eq!(
            released.attempts, 0,
            "a shutdown does not count against the job"
        );
        assert_eq!(released.lock_token, None);
        assert_eq!(released.run_at, t0());

        // The next process picks it up at once.
        let next = runner(&db.store, RecordingHandler::new(), clock, config(1, 8));
        assert_eq!(
            next.run_until_idle().await.unwrap(),
            vec![(id, Settled::Succeeded)]
        );
    })
    .await;
}

#[tokio::test]
async fn shutdown_lets_a_running_job_finish_within_the_grace_period() {
    each_backend(|db| async move {
        let clock = ManualClock::at(T0);
        let gate = Arc::new(Semaphore::new(0));
        let handler = RecordingHandler::gated(gate.clone());
        let r = runner(&db.store, handler.clone(), clock, config(1, 8));
        let id = enqueue(&db.store, &scan(42), t0()).await;
        let waiting = enqueue(&db.store, &scan(43), t0() + TimeDelta::hours(1)).await;
        let (stop, stopped) = watch::channel(false);
        let pool = tokio::spawn(r.run(Arc::new(Notify::new()), stopped));
        until(&handler, |h| h.calls.lock().unwrap().len() == 1).await;

        stop.send(true).unwrap();
        gate.add_permits(1);
        within(pool).await.unwrap();
        assert_eq!(row(&db.store, id).await.state, JobState::Succeeded);
        assert_eq!(row(&db.store, waiting).await.state, JobState::Queued);
    })
    .await;
}

#[tokio::test]
async fn jobs_that_fail_together_are_retried_at_spread_out_times() {
    let db = support::TestDb::sqlite().await;
    let handler = RecordingHandler::new();
    handler.script(
        (0..20)
            .map(|_| Err(JobError::Retryable("GitHub answered 502".into())))
            .collect(),
    );
    for repo in 1..=20 {
        enqueue(&db.store, &scan(repo), t0()).await;
    }
    let mut cfg = config(4, 8);
    cfg.retry.jitter_percent = 25;
    let r = runner(&db.store, handler, ManualClock::at(T0), cfg);
    let mut times: Vec<DateTime<Utc>> = r
        .run_until_idle()
        .await
        .unwrap()
        .into_iter()
        .map(|(_, settled)| match settled {
            Settled::Retrying { at } => at,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(times.len(), 20);
    let earliest = t0() + TimeDelta::milliseconds(22_500);
    let latest = t0() + TimeDelta::seconds(30);
    assert!(
        times.iter().all(|t| (earliest..=latest).contains(t)),
        "{times:?}"
    );
    times.sort();
    times.dedup();
    assert!(
        times.len() >= 18,
        "20 retries at only {} instants",
        times.len()
    );
    db.cleanup().await;
}

#[tokio::test]
async fn every_start_keeps_its_own_start_and_end_so_takeovers_can_be_checked_later() {
    each_backend(|db| async move {
        let clock = ManualClock::at(T0);
        let id = enqueue(&db.store, &scan(42), t0()).await;
        let pool = db.store.pool();
        // A replica claims the job and dies: its lease of a minute runs out.
        let claimed = jobs::claim(pool, t0(), "dead-replica", t0() + TimeDelta::seconds(60))
            .await
            .unwrap();
        assert_eq!(claimed.into_job().map(|j| j.id), Some(id));
        clock.advance(TimeDelta::seconds(61));
        let handler = RecordingHandler::new();
        handler.script(vec![Err(JobError::Retryable("GitHub answered 502".into()))]);
        let r = runner(&db.store, handler, clock.clone(), config(1, 8));
        let taken_over = clock.now();
        assert!(matches!(
            r.run_until_idle().await.unwrap()[..],
            [(_, Settled::Retrying { .. })]
        ));
        clock.advance(TimeDelta::minutes(5));
        let retried = clock.now();
        assert_eq!(
            r.run_until_idle().await.unwrap(),
            vec![(id, Settled::Succeeded)]
        );

        let got = support::attempts(pool, id).await;
        let summary: Vec<(i64, Option<&str>)> = got
            .iter()
            .map(|a| (a.attempt, a.outcome.as_deref()))
            .collect();
        assert_eq!(
            summary,
            vec![
                (1, Some("abandoned")),
                (2, Some("retrying")),
                (3, Some("succeeded"))
            ]
        );
        assert_eq!(got[0].lock_token, "dead-replica");
        assert_eq!(
            (got[0].started_at, got[0].finished_at),
            (t0(), Some(taken_over))
        );
        assert_eq!(
            (got[1].started_at, got[1].finished_at),
            (taken_over, Some(taken_over))
        );
        assert_eq!(got[2].started_at, retried);
        // Checked after the fact: the takeover came within a second of the lease's end, and
        // no two starts of the job overlapped.
        assert!(got[1].started_at - got[0].started_at <= TimeDelta::seconds(61));
        for pair in got.windows(2) {
            assert!(
                pair[0].finished_at.unwrap() <= pair[1].started_at,
                "{pair:?}"
            );
        }
    })
    .await;
}
