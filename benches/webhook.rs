//! Webhook intake on GitHub's real example payloads (`scripts/test-deps.sh` installs them):
//! signature verification, parsing, and the whole `POST /webhook` through the router down to
//! a committed SQLite transaction (delivery row + job row).

use axum::http::StatusCode;
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use patchwright::service::clock::SystemClock;
use patchwright::service::router;
use patchwright::service::webhook::{event, signature};
use patchwright::store::Store;
use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tower::ServiceExt;

#[path = "../tests/support/mod.rs"]
mod test_support;
use test_support::{SECRET, app_state, example, signed_request};

fn payload(name: &str, pick: impl Fn(&serde_json::Value) -> bool) -> Vec<u8> {
    serde_json::to_vec(&example(name, pick)).expect("serialise")
}

fn bench(c: &mut Criterion) {
    let secret = SECRET.as_bytes();
    let push = payload("push", |e| {
        e["ref"] == "refs/heads/master" && e["installation"].is_object()
    });
    let pull_request = payload("pull_request", |e| e["action"] == "closed");
    let push_sig = signature::sign(secret, &push);

    let mut g = c.benchmark_group("webhook");
    g.throughput(Throughput::Bytes(push.len() as u64));
    g.bench_function("verify_signature/push", |b| {
        b.iter(|| signature::verify(secret, black_box(&push), Some(push_sig.as_bytes())))
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
    let app = router(app_state(store, Arc::new(SystemClock)));
    let n = AtomicU64::new(0);
    let push_value = example("push", |e| {
        e["ref"] == "refs/heads/master" && e["installation"].is_object()
    });
    g.throughput(Throughput::Elements(1));
    g.bench_function("post_webhook_to_202/sqlite/push", |b| {
        // Each push to a repository of its own, made outside the timing: a second push to one
        // repository joins its waiting scan and is answered 200 with no job stored.
        b.iter_batched(
            || {
                let i = n.fetch_add(1, Ordering::Relaxed);
                let mut push = push_value.clone();
                push["repository"]["id"] = serde_json::json!(800_000_000 + i);
                let body = serde_json::to_vec(&push).expect("serialise");
                signed_request("push", &format!("bench-{i}"), body)
            },
            |req| {
                let res = rt.block_on(app.clone().oneshot(req)).expect("response");
                assert_eq!(res.status(), StatusCode::ACCEPTED);
            },
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
