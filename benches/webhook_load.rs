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
//! connection before each use, to measure what skipping it saves; `PATCHWRIGHT_LOAD_LAZY=1`
//! leaves the intake pool's connections to be opened by the first deliveries, as `serve` did
//! before it opened them first, to measure what that saves.
//!
//! Besides the whole run's percentiles it prints them per second of planned sends and the
//! slowest deliveries with their send time, to tell a stall at the start (connections being
//! opened, caches filling) from ones spread over the run. `PATCHWRIGHT_LOAD_SERVER_TIMES=1`
//! has each replica process time, from its own tracing, the request (`tower_http`'s span),
//! the intake (the `intake` span: pool acquire and statement) and each statement (sqlx's
//! statement log), and print them when it stops, with the slowest at the same time scale:
//! whether a stall is in the database, in getting a connection, or before the request.
//! `PATCHWRIGHT_LOAD_REPLICA_THREADS` sets a replica's worker threads (one per core by
//! default, as `serve`), `PATCHWRIGHT_LOAD_INTAKE_CONNECTIONS` its intake pool's size (12 by
//! default, as `serve` with 8 workers).

use patchwright::service::clock::SystemClock;
use patchwright::service::router;
use patchwright::service::server::{ServerLimits, serve};
use patchwright::service::webhook::signature;
use patchwright::store::Store;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

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

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Microseconds since the Unix epoch: the one clock the generator and the replicas share.
fn unix_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

/// `n, p50, p99, max` of `took` (sorted here), in milliseconds.
fn summary(took: &mut [Duration]) -> String {
    took.sort();
    format!(
        "n {:>5}  p50 {:>7.2}  p99 {:>7.2}  max {:>7.2}",
        took.len(),
        ms(percentile(took, 0.50)),
        ms(percentile(took, 0.99)),
        ms(took.last().copied().unwrap_or_default()),
    )
}

/// Server-side timings in a replica process, from the service's own tracing.
mod server_times {
    use std::collections::BTreeMap;
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};
    use tracing::field::{Field, Visit};
    use tracing::span::{Attributes, Id};
    use tracing::subscriber::Interest;
    use tracing::{Event, Metadata, Subscriber};
    use tracing_subscriber::layer::{Context, Layer};
    use tracing_subscriber::registry::LookupSpan;

    /// What took how long, and when it began (µs since the Unix epoch).
    struct Sample {
        what: String,
        began_us: u64,
        took: Duration,
    }

    #[derive(Clone, Default)]
    pub struct Samples(Arc<Mutex<Vec<Sample>>>);

    struct Began(Instant, u64);

    /// Only these reach the layer: every other callsite stays disabled, as it is without a
    /// subscriber, so the timing costs a few spans and one event per request.
    fn wanted(meta: &Metadata<'_>) -> bool {
        if meta.is_span() {
            (meta.name() == "request" && meta.target().starts_with("tower_http"))
                || meta.name() == "intake"
        } else {
            meta.target() == "sqlx::query"
        }
    }

    #[derive(Default)]
    struct Statement {
        summary: String,
        elapsed_secs: Option<f64>,
    }

    impl Visit for Statement {
        fn record_str(&mut self, field: &Field, value: &str) {
            if field.name() == "summary" {
                self.summary = value.to_string();
            }
        }
        fn record_f64(&mut self, field: &Field, value: f64) {
            if field.name() == "elapsed_secs" {
                self.elapsed_secs = Some(value);
            }
        }
        fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
            if field.name() == "summary" {
                self.summary = format!("{value:?}");
            }
        }
    }

    impl Samples {
        fn push(&self, what: String, began_us: u64, took: Duration) {
            self.0.lock().expect("samples").push(Sample {
                what,
                began_us,
                took,
            });
        }

        /// Per kind: the percentiles, and the slowest with their start in seconds after
        /// `began_us` (the generator's first planned send).
        pub fn report(&self, who: &str, began_us: Option<u64>) -> String {
            let samples = self.0.lock().expect("samples");
            let origin = began_us
                .or_else(|| samples.iter().map(|s| s.began_us).min())
                .unwrap_or(0);
            let mut kinds: BTreeMap<&str, Vec<&Sample>> = BTreeMap::new();
            // What ran before the load (the migrations) is left out.
            for s in samples.iter().filter(|s| s.began_us >= origin) {
                kinds.entry(&s.what).or_default().push(s);
            }
            let mut out = String::new();
            for (what, mut of_kind) in kinds {
                let mut took: Vec<Duration> = of_kind.iter().map(|s| s.took).collect();
                out.push_str(&format!(
                    "  {who} {what:<28} {} ms\n",
                    super::summary(&mut took)
                ));
                of_kind.sort_by_key(|s| std::cmp::Reverse(s.took));
                let slowest: Vec<String> = of_kind
                    .iter()
                    .take(5)
                    .map(|s| {
                        let at = s.began_us.saturating_sub(origin) as f64 / 1e6;
                        format!("{:.1} ms at {at:.3} s", super::ms(s.took))
                    })
                    .collect();
                out.push_str(&format!("      slowest: {}\n", slowest.join(", ")));
            }
            out
        }
    }

    impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Samples {
        fn register_callsite(&self, meta: &'static Metadata<'static>) -> Interest {
            if wanted(meta) {
                Interest::always()
            } else {
                Interest::never()
            }
        }

        fn enabled(&self, meta: &Metadata<'_>, _: Context<'_, S>) -> bool {
            wanted(meta)
        }

        fn on_new_span(&self, _: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
            if let Some(span) = ctx.span(id) {
                span.extensions_mut()
                    .insert(Began(Instant::now(), super::unix_us()));
            }
        }

        fn on_close(&self, id: Id, ctx: Context<'_, S>) {
            if let Some(span) = ctx.span(&id)
                && let Some(Began(at, began_us)) = span.extensions().get::<Began>()
            {
                self.push(span.name().to_string(), *began_us, at.elapsed());
            }
        }

        fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
            let mut statement = Statement::default();
            event.record(&mut statement);
            if let Some(secs) = statement.elapsed_secs {
                let took = Duration::from_secs_f64(secs);
                let began_us = super::unix_us()
                    .saturating_sub(u64::try_from(took.as_micros()).unwrap_or(u64::MAX));
                let words: Vec<&str> = statement.summary.split_whitespace().take(3).collect();
                self.push(format!("statement {}", words.join(" ")), began_us, took);
            }
        }
    }
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

/// One replica on `url`: listens on a free loopback port and returns its address and its
/// intake pool.
async fn start_replica(
    url: &str,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> (std::net::SocketAddr, Store) {
    // A pool of its own per replica, sized as `serve` sizes it for 8 workers.
    let store = Store::connect_with(url, 12).await.expect("store");
    let mut state = app_state(store, Arc::new(SystemClock));
    if std::env::var("PATCHWRIGHT_LOAD_PING").is_ok_and(|v| v == "1") {
        // Intake on the pool that pings each connection before use, as before.
        state.intake = state.store.clone();
    } else if let Ok(n) = std::env::var("PATCHWRIGHT_LOAD_INTAKE_CONNECTIONS") {
        state.intake = state.store.untested_twin(
            n.parse()
                .expect("PATCHWRIGHT_LOAD_INTAKE_CONNECTIONS: a number"),
        );
    }
    // As `serve` does before it listens, unless asked to leave them to the first requests.
    if !std::env::var("PATCHWRIGHT_LOAD_LAZY").is_ok_and(|v| v == "1") {
        state
            .intake
            .open_connections()
            .await
            .expect("open the intake pool");
    }
    let intake = state.intake.clone();
    let app = router(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(serve(listener, app, limits(), stop));
    (address, intake)
}

/// The replica child's whole life: serve until the generator closes our stdin (or dies),
/// then print what it saw to stderr. The generator writes `began <µs since the epoch>` (its
/// first planned send) before closing, so the slowest are placed on its time scale.
fn replica_main(url: &str) {
    let samples = std::env::var("PATCHWRIGHT_LOAD_SERVER_TIMES")
        .is_ok_and(|v| v == "1")
        .then(|| {
            use tracing_subscriber::layer::SubscriberExt;
            let samples = server_times::Samples::default();
            tracing::subscriber::set_global_default(
                tracing_subscriber::registry().with(samples.clone()),
            )
            .expect("the replica's subscriber");
            samples
        });
    // As `serve`'s `#[tokio::main]`: a worker thread per core, unless told otherwise.
    let rt = match env_number("PATCHWRIGHT_LOAD_REPLICA_THREADS", 0) {
        0 => tokio::runtime::Runtime::new(),
        threads => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .enable_all()
            .build(),
    }
    .expect("runtime");
    rt.block_on(async {
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<Option<u64>>();
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = std::io::Read::read_to_string(&mut std::io::stdin(), &mut text);
            let began = text
                .lines()
                .find_map(|l| l.strip_prefix("began ")?.parse().ok());
            let _ = stop_tx.send(began);
        });
        let (done_tx, done_rx) = tokio::sync::oneshot::channel::<Option<u64>>();
        let (address, intake) = start_replica(url, async move {
            let _ = done_tx.send(stop_rx.await.ok().flatten());
        })
        .await;
        println!("listening {address}");
        let began = done_rx.await.ok().flatten();
        let mut report = format!(
            "  replica {address}: intake pool of {} connections ({} idle) at the end\n",
            intake.pool().size(),
            intake.pool().num_idle()
        );
        if let Some(samples) = &samples {
            report.push_str(&samples.report("replica", began));
        }
        eprint!("{report}");
    });
}

/// A replica process; killed when dropped, so a failed run leaves nothing behind.
struct Replica {
    child: std::process::Child,
    stdin: Option<std::process::ChildStdin>,
}

impl Replica {
    /// Tells the replica when the load began and to stop, and waits (a while) for it to
    /// print its report.
    fn finish(mut self, began_us: u64) {
        if let Some(mut stdin) = self.stdin.take() {
            let _ = std::io::Write::write_all(&mut stdin, format!("began {began_us}\n").as_bytes());
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
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
    let stdin = child.stdin.take();
    let replica = Replica { child, stdin };
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
                addresses.push(start_replica(&db.url, std::future::pending()).await.0);
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
        let started_us = unix_us();
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
        // Per second of planned sends; and (latency, planned send in s, request) for the slowest.
        let mut per_second: Vec<Vec<Duration>> = Vec::new();
        let mut each = Vec::with_capacity(requests);
        let mut refused = 0;
        for (n, t) in tasks.into_iter().enumerate() {
            // A connection reset or refused panics the exchange: a delivery not acknowledged.
            match t.await {
                Ok((status, latency)) => {
                    refused += usize::from(!(200..300).contains(&status));
                    all.push(latency);
                    let second = n / rate;
                    if per_second.len() <= second {
                        per_second.resize_with(second + 1, Vec::new);
                    }
                    per_second[second].push(latency);
                    each.push((latency, n as f64 / rate as f64, n));
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
        // The first second is the start (backends running their first statement, the
        // installation's first row, the tables' first pages): what a replica that has been
        // serving for a while answers is the rest.
        let mut after_start: Vec<Duration> = per_second.iter().skip(1).flatten().copied().collect();
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
        if !after_start.is_empty() {
            println!("  after the first second: {} ms", summary(&mut after_start));
        }
        println!(
            "  per second of planned sends (latency in ms; the first at {:.3} s since the epoch):",
            started_us as f64 / 1e6
        );
        for (second, latencies) in per_second.iter_mut().enumerate() {
            println!("  {second:>4} s  {}", summary(latencies));
        }
        each.sort_by_key(|e| std::cmp::Reverse(e.0));
        let slowest: Vec<String> = each
            .iter()
            .take(10)
            .map(|(latency, at, n)| format!("{:.1} ms (#{n} at {at:.3} s)", ms(*latency)))
            .collect();
        println!("  slowest: {}", slowest.join(", "));
        tokio::task::spawn_blocking(move || {
            for child in children {
                child.finish(started_us);
            }
        })
        .await
        .expect("replicas stopped");
        db.cleanup().await;
        assert_eq!(refused + lost, 0, "deliveries were lost");
    });
}
