//! A load generator against the running webhook endpoint on loopback: real listeners (the
//! service's own server loop), real signed payloads from `@octokit/webhooks-examples`, at a
//! fixed rate. Prints the acknowledgement latency (p50, p90, p99, max), the throughput, and how
//! many deliveries were lost (answered other than 2xx, or not in the `deliveries` table after
//! the run). Bounded: a fixed number of requests, then it stops.
//!
//! With `DATABASE_URL` naming a PostgreSQL server, a fresh database on it is shared by
//! `PATCHWRIGHT_LOAD_REPLICAS` replicas (2 by default); requests go to the replicas in turn.
//! Without it, one replica on SQLite. Each replica is a process of its own (this binary run
//! again with `PATCHWRIGHT_LOAD_REPLICA_DB` set: the service's router, state and server loop
//! on its own runtime and pool, without the job workers, so the figure is intake alone), and
//! the generator's process only sends and times. `PATCHWRIGHT_LOAD_IN_PROCESS=1` runs the
//! replicas on the generator's runtime instead, as this bench first did, for comparison.
//!
//! The load is open: request `i` is sent at `i / rate` seconds whatever the earlier ones are
//! doing (each on a connection of its own, as GitHub's deliveries are), and its latency is
//! counted from that planned instant, so a stalled server is not hidden by a generator that
//! waits for it (coordinated omission).
//!
//! Each delivery is the example push (to the default branch, through an installation) with
//! the repository id, name and head commit made its own, so the deliveries are as many pushes
//! to `PATCHWRIGHT_LOAD_REPOSITORIES` repositories (1,000 by default) and re-signed.
//!
//! `cargo bench --bench webhook_load` (`PATCHWRIGHT_LOAD_REQUESTS`, `PATCHWRIGHT_LOAD_RATE`,
//! `PATCHWRIGHT_LOAD_REPLICAS`, `PATCHWRIGHT_LOAD_REPOSITORIES`, `PATCHWRIGHT_LOAD_IN_PROCESS`,
//! `DATABASE_URL`). `PATCHWRIGHT_LOAD_PING=1` puts intake back on the pool that pings a
//! connection before each use, to measure what skipping it saves.

use patchwright::service::clock::SystemClock;
use patchwright::service::router;
use patchwright::service::server::{ServerLimits, serve};
use patchwright::service::webhook::signature;
use patchwright::store::Store;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[path = "../tests/support/mod.rs"]
mod test_support;
use test_support::{SECRET, TestDb, app_state, example, http};

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

/// The example push, made a push of its own to repository `repo` (of `owner`), and signed.
fn delivery(push: &serde_json::Value, owner: &str, repo: usize, n: usize) -> (Vec<u8>, String) {
    let mut push = push.clone();
    let name = format!("load-{repo}");
    push["repository"]["id"] = serde_json::json!(900_000_000 + repo);
    push["repository"]["name"] = serde_json::json!(name);
    push["repository"]["full_name"] = serde_json::json!(format!("{owner}/{name}"));
    push["after"] = serde_json::json!(format!("{n:040x}"));
    let body = serde_json::to_vec(&push).expect("payload");
    let sig = signature::sign(SECRET.as_bytes(), &body);
    (body, sig)
}

/// Set in a replica child: the database it serves from.
const REPLICA_DB: &str = "PATCHWRIGHT_LOAD_REPLICA_DB";

fn limits() -> ServerLimits {
    ServerLimits {
        max_connections: 1024,
        header_read_timeout: Duration::from_secs(10),
        shutdown_grace: Duration::from_secs(1),
    }
}

/// One replica on `url`: listens on a free loopback port and returns its address.
async fn start_replica(
    url: &str,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::net::SocketAddr {
    // A pool of its own per replica, sized as `serve` sizes it for 8 workers.
    let store = Store::connect_with(url, 12).await.expect("store");
    let mut state = app_state(store, Arc::new(SystemClock));
    if std::env::var("PATCHWRIGHT_LOAD_PING").is_ok_and(|v| v == "1") {
        // Intake on the pool that pings each connection before use, as before.
        state.intake = state.store.clone();
    }
    let app = router(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(serve(listener, app, limits(), stop));
    address
}

/// The replica child's whole life: serve until the generator closes our stdin (or dies).
fn replica_main(url: &str) {
    // As `serve`'s `#[tokio::main]`: a worker thread per core.
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        std::thread::spawn(move || {
            let mut sink = Vec::new();
            let _ = std::io::Read::read_to_end(&mut std::io::stdin(), &mut sink);
            let _ = stop_tx.send(());
        });
        let stopped = async {
            let _ = stop_rx.await;
        };
        let (done_tx, done_rx) = tokio::sync::oneshot::channel::<()>();
        let address = start_replica(url, async move {
            stopped.await;
            let _ = done_tx.send(());
        })
        .await;
        println!("listening {address}");
        let _ = done_rx.await;
    });
}

/// A replica process; killed when dropped, so a failed run leaves nothing behind.
struct Replica(std::process::Child);

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts this binary again as a replica on `url` and waits for its address.
fn spawn_replica(url: &str) -> (Replica, std::net::SocketAddr) {
    use std::io::BufRead;
    let mut child = std::process::Command::new(std::env::current_exe().expect("own path"))
        .env(REPLICA_DB, url)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("start a replica");
    let stdout = child.stdout.take().expect("replica stdout");
    let replica = Replica(child);
    let mut line = String::new();
    std::io::BufReader::new(stdout)
        .read_line(&mut line)
        .expect("read the replica's address");
    let address = line
        .trim()
        .strip_prefix("listening ")
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("replica did not start: {line:?}"));
    (replica, address)
}

fn main() {
    if let Ok(url) = std::env::var(REPLICA_DB) {
        replica_main(&url);
        return;
    }
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing useful: run either way.
    let in_process = std::env::var("PATCHWRIGHT_LOAD_IN_PROCESS").is_ok_and(|v| v == "1");
    let requests = env_number("PATCHWRIGHT_LOAD_REQUESTS", 5000).max(1);
    let rate = env_number("PATCHWRIGHT_LOAD_RATE", 500).max(1);
    let repositories = env_number("PATCHWRIGHT_LOAD_REPOSITORIES", 1000).max(1);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        let (db, replicas) = match TestDb::postgres().await {
            Some(db) => (db, env_number("PATCHWRIGHT_LOAD_REPLICAS", 2).max(1)),
            None => (TestDb::sqlite().await, 1),
        };
        let backend = format!("{:?}", db.backend);
        let mut addresses = Vec::new();
        let mut children = Vec::new();
        for _ in 0..replicas {
            if in_process {
                addresses.push(start_replica(&db.url, std::future::pending()).await);
            } else {
                let url = db.url.clone();
                let (child, address) = tokio::task::spawn_blocking(move || spawn_replica(&url))
                    .await
                    .expect("replica start");
                children.push(child);
                addresses.push(address);
            }
        }
        let mode = if in_process { "in the generator's process" } else { "each a process of its own" };

        let push = example("push", |e| {
            e["ref"] == "refs/heads/master" && e["installation"].is_object()
        });
        let owner = push["repository"]["owner"]["login"]
            .as_str()
            .expect("owner login")
            .to_string();
        let deliveries: Vec<(Vec<u8>, String)> = (0..requests)
            .map(|n| delivery(&push, &owner, n % repositories, n))
            .collect();

        let started = Instant::now();
        let mut tasks = Vec::with_capacity(requests);
        for (n, (body, sig)) in deliveries.into_iter().enumerate() {
            let planned = started + Duration::from_secs_f64(n as f64 / rate as f64);
            tokio::time::sleep_until(planned.into()).await;
            let addr = addresses[n % addresses.len()];
            tasks.push(tokio::spawn(async move {
                let headers = [
                    ("content-type", "application/json".to_string()),
                    ("x-github-event", "push".to_string()),
                    ("x-github-delivery", format!("load-{n}")),
                    ("x-hub-signature-256", sig),
                ];
                let (status, _) = http(addr, "POST", "/webhook", &headers, &body).await;
                (status, planned.elapsed())
            }));
        }
        let mut all = Vec::with_capacity(requests);
        let mut refused = 0;
        for t in tasks {
            // A connection reset or refused panics the exchange: a delivery not acknowledged.
            match t.await {
                Ok((status, latency)) => {
                    refused += usize::from(!(200..300).contains(&status));
                    all.push(latency);
                }
                Err(_) => refused += 1,
            }
        }
        let elapsed = started.elapsed();
        let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM deliveries")
            .fetch_one(db.store.pool())
            .await
            .expect("count deliveries");
        let jobs: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM jobs")
            .fetch_one(db.store.pool())
            .await
            .expect("count jobs");
        let lost = requests.saturating_sub(usize::try_from(stored).unwrap_or(0));
        all.sort();
        println!(
            "webhook_load: {requests} signed pushes to {repositories} repositories, {replicas} replica(s) ({mode}) on {backend}, planned at {rate} req/s: {:.0} req/s over {:.2} s; latency from the planned send p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms; {refused} answered other than 2xx, {lost} not stored ({stored} deliveries, {jobs} jobs)",
            all.len() as f64 / elapsed.as_secs_f64(),
            elapsed.as_secs_f64(),
            percentile(&all, 0.50).as_secs_f64() * 1e3,
            percentile(&all, 0.90).as_secs_f64() * 1e3,
            percentile(&all, 0.99).as_secs_f64() * 1e3,
            all.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
        );
        drop(children);
        db.cleanup().await;
        assert_eq!(refused + lost, 0, "deliveries were lost");
    });
}
