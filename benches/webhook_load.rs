//! A load generator against the running webhook endpoint on loopback: a real listener, real
//! signed payloads from `@octokit/webhooks-examples`, SQLite as the store. Prints the
//! acknowledgement latency (p50, p90, p99, max) and throughput. Bounded: a fixed number of
//! requests from a fixed number of concurrent clients, then it stops.
//!
//! `cargo bench --bench webhook_load` (`PATCHWRIGHT_LOAD_REQUESTS`, `PATCHWRIGHT_LOAD_CLIENTS`).

use patchwright::service::clock::SystemClock;
use patchwright::service::router;
use patchwright::service::webhook::signature;
use patchwright::store::Store;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[path = "../tests/support/mod.rs"]
mod test_support;
use test_support::{SECRET, app_state, example, http};

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing useful: run either way.
    let requests = env_number("PATCHWRIGHT_LOAD_REQUESTS", 2000);
    let clients = env_number("PATCHWRIGHT_LOAD_CLIENTS", 8).max(1);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("load.db").display());
        let store = Store::connect(&url).await.expect("store");
        let app = router(app_state(store, Arc::new(SystemClock)));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("address");
        tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });

        let body = serde_json::to_vec(&example("push", |e| {
            e["ref"] == "refs/heads/master" && e["installation"].is_object()
        }))
        .expect("payload");
        let sig = signature::sign(SECRET.as_bytes(), &body);
        let body = Arc::new(body);
        let started = Instant::now();
        let mut tasks = Vec::new();
        for client in 0..clients {
            let (body, sig) = (Arc::clone(&body), sig.clone());
            let share = requests / clients + usize::from(client < requests % clients);
            tasks.push(tokio::spawn(async move {
                let mut latencies = Vec::with_capacity(share);
                for i in 0..share {
                    let headers = [
                        ("content-type", "application/json".to_string()),
                        ("x-github-event", "push".to_string()),
                        ("x-github-delivery", format!("load-{client}-{i}")),
                        ("x-hub-signature-256", sig.clone()),
                    ];
                    let t = Instant::now();
                    let (status, _) = http(addr, "POST", "/webhook", &headers, &body).await;
                    latencies.push(t.elapsed());
                    assert_eq!(status, 202, "every delivery is new, so each is stored and acknowledged");
                }
                latencies
            }));
        }
        let mut all = Vec::with_capacity(requests);
        for t in tasks {
            all.extend(t.await.expect("client"));
        }
        let elapsed = started.elapsed();
        all.sort();
        println!(
            "webhook_load: {} signed push deliveries from {clients} clients over loopback in {:.2} s: {:.0} req/s; latency p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            all.len(),
            elapsed.as_secs_f64(),
            all.len() as f64 / elapsed.as_secs_f64(),
            percentile(&all, 0.50).as_secs_f64() * 1e3,
            percentile(&all, 0.90).as_secs_f64() * 1e3,
            percentile(&all, 0.99).as_secs_f64() * 1e3,
            all.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
        );
    });
}
