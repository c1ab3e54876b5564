//! Webhook intake on GitHub's real example payloads (`scripts/test-deps.sh` installs them):
//! signature verification, parsing, and the whole `POST /webhook` through the router down to
//! a committed SQLite transaction (delivery row + job row).

use axum::body::Body;
use axum::http::{Request, StatusCode};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use patchwright::service::clock::SystemClock;
use patchwright::service::metrics::Metrics;
use patchwright::service::secret::Secret;
use patchwright::service::webhook::{event, signature};
use patchwright::service::{AppState, router};
use patchwright::store::Store;
use std::hint::black_box;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::Notify;
use tower::ServiceExt;

const SECRET: &[u8] = b"It's a Secret to Everybody";

fn example(name: &str, pick: impl Fn(&serde_json::Value) -> bool) -> Vec<u8> {
    let dir = std::env::var_os("PATCHWRIGHT_TEST_DEPS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.test-deps")));
    let path = dir.join("node_modules/@octokit/webhooks-examples/api.github.com/index.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}; run scripts/test-deps.sh first", path.display()));
    let all: Vec<serde_json::Value> = serde_json::from_str(&text).expect("examples JSON");
    let chosen = all
        .iter()
        .find(|e| e["name"] == name)
        .and_then(|e| e["examples"].as_array())
        .and_then(|list| list.iter().find(|e| pick(e)))
        .unwrap_or_else(|| panic!("no matching `{name}` example"));
    serde_json::to_vec(chosen).expect("serialise")
}

fn bench(c: &mut Criterion) {
    let push = example("push", |e| {
        e["ref"] == "refs/heads/master" && e["installation"].is_object()
    });
    let pull_request = example("pull_request", |e| e["action"] == "closed");
    let push_sig = signature::sign(SECRET, &push);

    let mut g = c.benchmark_group("webhook");
    g.throughput(Throughput::Bytes(push.len() as u64));
    g.bench_function("verify_signature/push", |b| {
        b.iter(|| signature::verify(SECRET, black_box(&push), Some(push_sig.as_bytes())))
    });
    g.bench_function("parse/push", |b| {
        b.iter(|| event::parse("push", black_box(&push)).expect("parses"))
    });
    g.throughput(Throughput::Bytes(pull_request.len() as u64));
    g.bench_function("parse/pull_request", |b| {
        b.iter(|| event::parse("pull_request", black_box(&pull_request)).expect("parses"))
    });

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("bench.db").display()
    );
    let store = rt.block_on(Store::connect(&url)).expect("store");
    let app = router(AppState {
        store,
        webhook_secret: Secret::new(String::from_utf8_lossy(SECRET)),
        bot_login: "patchwright[bot]".into(),
        clock: Arc::new(SystemClock),
        metrics: Arc::new(Metrics::new()),
        wake: Arc::new(Notify::new()),
    });
    let n = AtomicU64::new(0);
    g.throughput(Throughput::Elements(1));
    g.bench_function("post_webhook_to_202/sqlite/push", |b| {
        b.iter(|| {
            let delivery = format!("bench-{}", n.fetch_add(1, Ordering::Relaxed));
            let req = Request::post("/webhook")
                .header("x-github-event", "push")
                .header("x-github-delivery", delivery)
                .header("x-hub-signature-256", push_sig.as_str())
                .body(Body::from(push.clone()))
                .expect("request");
            let res = rt.block_on(app.clone().oneshot(req)).expect("response");
            assert_eq!(res.status(), StatusCode::ACCEPTED);
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
