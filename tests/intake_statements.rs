//! How many statements one webhook delivery sends to the database: on PostgreSQL each is a
//! round trip on the acknowledgement's critical path, so a new one must be a decision, not an
//! accident. Counted from sqlx's own statement log (`sqlx::query` events), with a subscriber
//! that is global because SQLite runs statements on a thread of its own: this file holds one
//! test so that nothing else runs statements meanwhile.

mod support;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use patchwright::service::router;
use patchwright::store::Backend;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::{ManualClock, each_backend, example, signed_request};
use tower::ServiceExt;
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, SubscriberExt};

/// The summary (first words) of every statement sqlx logged.
#[derive(Clone, Default)]
struct Statements(Arc<Mutex<Vec<String>>>);

struct Summary(String);

impl Visit for Summary {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "summary" {
            self.0 = value.to_string();
        }
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "summary" {
            self.0 = format!("{value:?}");
        }
    }
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Statements {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        if event.metadata().target() != "sqlx::query" {
            return;
        }
        let mut summary = Summary(String::new());
        event.record(&mut summary);
        self.0.lock().unwrap().push(summary.0);
    }
}

impl Statements {
    /// What was logged since the last call, leaving out SQLite's per-connection set-up.
    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap())
            .into_iter()
            .filter(|s| !s.starts_with("PRAGMA"))
            .collect()
    }
}

async fn send(app: &Router, req: Request<Body>) -> StatusCode {
    app.clone().oneshot(req).await.unwrap().status()
}

fn push_to(push: &Value, repo: i64, after: &str) -> Vec<u8> {
    let mut push = push.clone();
    push["repository"]["id"] = json!(repo);
    push["repository"]["name"] = json!(format!("r{repo}"));
    push["repository"]["full_name"] = json!(format!("o/r{repo}"));
    push["after"] = json!(after);
    serde_json::to_vec(&push).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_costs_one_statement_per_write_and_no_separate_queued_scan_check() {
    let statements = Statements::default();
    tracing::subscriber::set_global_default(
        tracing_subscriber::registry().with(statements.clone()),
    )
    .expect("the only subscriber of this test binary");
    each_backend(move |db| {
        let statements = statements.clone();
        async move {
            let app = router(support::app_state(
                db.store.clone(),
                ManualClock::at("2026-02-01T10:00:00Z"),
            ));
            let push = example("push", |e| {
                e["ref"] == "refs/heads/master" && e["installation"].is_object()
            });
            // Warm the pools (connections, installation row) so that only intake is counted.
            let first = push_to(&push, 1, &"a".repeat(40));
            assert_eq!(
                send(&app, signed_request("push", "warm", first)).await,
                StatusCode::ACCEPTED
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
            statements.take();

            let new_scan = push_to(&push, 2, &"b".repeat(40));
            assert_eq!(
                send(&app, signed_request("push", "p1", new_scan)).await,
                StatusCode::ACCEPTED
            );
            let queued = statements.take();
            tokio::time::sleep(Duration::from_millis(200)).await;
            statements.take();
            let joins = push_to(&push, 2, &"c".repeat(40));
            assert_eq!(
                send(&app, signed_request("push", "p2", joins)).await,
                StatusCode::OK
            );
            let joined = statements.take();

            for list in [&queued, &joined] {
                assert!(
                    !list.iter().any(|s| s.starts_with("SELECT id FROM jobs")),
                    "the queued-scan check is a statement of its own again: {list:#?}"
                );
            }
            // SQLite: the delivery, the installation, the repository, the job (sqlx logs
            // neither `BEGIN` nor `COMMIT` there). PostgreSQL: all four in one autocommit
            // statement of data-modifying CTEs, so one round trip.
            let expected = match db.backend {
                Backend::Postgres => 1,
                Backend::Sqlite => 4,
            };
            assert_eq!(queued.len(), expected, "{:?}: {queued:#?}", db.backend);
            assert_eq!(joined.len(), expected, "{:?}: {joined:#?}", db.backend);
        }
    })
    .await;
}
