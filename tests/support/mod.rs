//! Helpers shared by the service and store tests: real databases (a temp SQLite file always,
//! a fresh PostgreSQL database when `DATABASE_URL` names one), a clock the test moves, a job
//! handler that records its calls, signed webhook requests, and GitHub's example payloads.
#![allow(dead_code)] // Each test crate uses a different part of this module.

use async_trait::async_trait;
use axum::body::Body;
use axum::http::Request;
use chrono::{DateTime, TimeDelta, Utc};
use patchwright::service::AppState;
use patchwright::service::clock::Clock;
use patchwright::service::jobs::{Job, JobError, JobHandler, JobOutcome, JobRunner, Settled};
use patchwright::service::metrics::Metrics;
use patchwright::service::secret::Secret;
use patchwright::service::webhook::body::BodyLimits;
use patchwright::service::webhook::signature;
use patchwright::store::{Backend, Store, StoreError};
use std::collections::VecDeque;
use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use tokio::sync::{Notify, Semaphore};

pub const SECRET: &str = "It's a Secret to Everybody";
pub const BOT: &str = "patchwright[bot]";

// ---------------------------------------------------------------- databases

/// A store on a real database, removed when the test is done.
pub struct TestDb {
    pub backend: Backend,
    pub store: Store,
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    pg: Option<(String, String)>, // (admin URL, database name)
}

impl TestDb {
    pub async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("patchwright.db").display()
        );
        let store = Store::connect(&url).await.expect("sqlite store");
        TestDb {
            backend: Backend::Sqlite,
            store,
            url,
            _dir: Some(dir),
            pg: None,
        }
    }

    /// A fresh database on the server `DATABASE_URL` names, or `None` when it names none.
    pub async fn postgres() -> Option<TestDb> {
        let admin = postgres_url()?;
        let name = format!("pw_test_{}", uuid::Uuid::new_v4().simple());
        sqlx::any::install_default_drivers();
        let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&admin)
            .await
            .expect("connect to DATABASE_URL");
        sqlx::query(&format!("CREATE DATABASE \"{name}\""))
            .execute(&mut conn)
            .await
            .expect("create a test database");
        let url = replace_database(&admin, &name);
        let store = Store::connect(&url).await.expect("postgres store");
        Some(TestDb {
            backend: Backend::Postgres,
            store,
            url,
            _dir: None,
            pg: Some((admin, name)),
        })
    }

    /// Closes the pool and drops a PostgreSQL test database.
    pub async fn cleanup(self) {
        self.store.close().await;
        if let Some((admin, name)) = self.pg {
            if let Ok(mut conn) = <sqlx::AnyConnection as sqlx::Connection>::connect(&admin).await {
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                    .execute(&mut conn)
                    .await;
            }
        }
    }
}

/// `DATABASE_URL` when it names a PostgreSQL server. In CI (`CI=true`) there must be one:
/// skipping the PostgreSQL half of the tests there would let its coverage vanish silently.
pub fn postgres_url() -> Option<String> {
    postgres_url_from(
        std::env::var("DATABASE_URL").ok(),
        std::env::var("CI").ok().as_deref(),
    )
}

/// [`postgres_url`] from the values of `DATABASE_URL` and `CI`.
pub fn postgres_url_from(database_url: Option<String>, ci: Option<&str>) -> Option<String> {
    let url =
        database_url.filter(|u| u.starts_with("postgres://") || u.starts_with("postgresql://"));
    let in_ci = matches!(ci.map(str::trim), Some("true" | "1" | "yes"));
    assert!(
        url.is_some() || !in_ci,
        "CI=true but DATABASE_URL names no PostgreSQL server: the PostgreSQL tests would be \
         skipped. Run scripts/services.sh (it starts PostgreSQL and prints the URL) and export \
         DATABASE_URL."
    );
    url
}

fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    format!("{base}/{name}{query}")
}

/// Runs `test` once per available backend, each on a fresh database, and cleans up even
/// when the test panics (the panic is then resumed, naming the backend).
pub async fn each_backend<F, Fut>(test: F)
where
    F: Fn(TestDbRef) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let mut dbs = vec![TestDb::sqlite().await];
    if let Some(pg) = TestDb::postgres().await {
        dbs.push(pg);
    }
    for db in dbs {
        let backend = db.backend;
        let handle = TestDbRef {
            backend,
            store: db.store.clone(),
            url: db.url.clone(),
        };
        let outcome = tokio::spawn(test(handle)).await;
        db.cleanup().await;
        if let Err(e) = outcome {
            if e.is_panic() {
                eprintln!("failed on {backend:?}");
                std::panic::resume_unwind(e.into_panic());
            }
            panic!("test task on {backend:?} ended abnormally: {e}");
        }
    }
}

/// What a test body gets from [`each_backend`].
#[derive(Clone)]
pub struct TestDbRef {
    pub backend: Backend,
    pub store: Store,
    pub url: String,
}

// ---------------------------------------------------------------- time

/// A clock that moves only when the test says so.
pub struct ManualClock(Mutex<DateTime<Utc>>);

impl ManualClock {
    pub fn at(rfc3339: &str) -> Arc<ManualClock> {
        Arc::new(ManualClock(Mutex::new(
            rfc3339.parse().expect("an RFC 3339 time"),
        )))
    }

    pub fn advance(&self, by: TimeDelta) {
        let mut now = self.0.lock().expect("clock lock");
        *now += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().expect("clock lock")
    }
}

// ---------------------------------------------------------------- job handler

/// A handler that records every job it is given and answers from a script (success when
/// the script is empty). With a gate, each run first waits for a permit the test hands out.
#[derive(Default)]
pub struct RecordingHandler {
    pub calls: Mutex<Vec<Job>>,
    script: Mutex<VecDeque<Result<JobOutcome, JobError>>>,
    gate: Option<Arc<Semaphore>>,
    /// Notified each time a run starts (before the gate).
    pub started: Arc<Notify>,
    running: Mutex<Vec<i64>>,
    /// The most jobs of one repository seen running at once.
    pub max_same_repo: Mutex<usize>,
    pub max_running: Mutex<usize>,
}

impl RecordingHandler {
    pub fn new() -> Arc<RecordingHandler> {
        Arc::new(RecordingHandler::default())
    }

    /// A handler whose runs block until the test adds permits to `gate`.
    pub fn gated(gate: Arc<Semaphore>) -> Arc<RecordingHandler> {
        Arc::new(RecordingHandler {
            gate: Some(gate),
            ..RecordingHandler::default()
        })
    }

    pub fn script(&self, results: Vec<Result<JobOutcome, JobError>>) {
        self.script.lock().expect("lock").extend(results);
    }

    pub fn call_ids(&self) -> Vec<i64> {
        self.calls
            .lock()
            .expect("lock")
            .iter()
            .map(|j| j.id)
            .collect()
    }
}

#[async_trait]
impl JobHandler for RecordingHandler {
    async fn run(&self, job: &Job) -> Result<JobOutcome, JobError> {
        let repo = job.kind.repository().id;
        {
            self.calls.lock().expect("lock").push(job.clone());
            let mut running = self.running.lock().expect("lock");
            running.push(repo);
            let same = running.iter().filter(|&&r| r == repo).count();
            let mut max_same = self.max_same_repo.lock().expect("lock");
            *max_same = (*max_same).max(same);
            let mut max_running = self.max_running.lock().expect("lock");
            *max_running = (*max_running).max(running.len());
        }
        self.started.notify_one();
        if let Some(gate) = &self.gate {
            gate.acquire().await.expect("gate open").forget();
        }
        {
            let mut running = self.running.lock().expect("lock");
            if let Some(i) = running.iter().position(|&r| r == repo) {
                running.remove(i);
            }
        }
        self.script
            .lock()
            .expect("lock")
            .pop_front()
            .unwrap_or_else(|| Ok(JobOutcome::new(format!("handled job {}", job.id))))
    }
}

// ---------------------------------------------------------------- webhooks

pub fn app_state(store: Store, clock: Arc<dyn Clock>) -> AppState {
    app_state_with_limits(
        store,
        clock,
        BodyLimits::new(128 * 1024 * 1024, std::time::Duration::from_secs(10)),
    )
}

/// [`app_state`] with its own webhook body budget and read timeout.
pub fn app_state_with_limits(store: Store, clock: Arc<dyn Clock>, limits: BodyLimits) -> AppState {
    AppState {
        // As `serve` builds it: intake on a pool without the ping before each use.
        intake: store.untested_twin(12),
        store,
        webhook_secret: Secret::new(SECRET),
        bot_login: BOT.into(),
        clock,
        metrics: Arc::new(Metrics::new()),
        wake: Arc::new(Notify::new()),
        body_limits: Arc::new(limits),
        knowledge: Arc::default(),
    }
}

/// A `POST /webhook` request as GitHub sends it, signed with [`SECRET`].
pub fn signed_request(event: &str, delivery: &str, body: Vec<u8>) -> Request<Body> {
    let sig = signature::sign(SECRET.as_bytes(), &body);
    Request::post("/webhook")
        .header("content-type", "application/json")
        .header("x-github-event", event)
        .header("x-github-delivery", delivery)
        .header("x-hub-signature-256", sig)
        .body(Body::from(body))
        .expect("request")
}

/// Where `scripts/test-deps.sh` installed the npm packages the tests read.
pub fn test_deps_dir() -> PathBuf {
    let dir = std::env::var_os("PATCHWRIGHT_TEST_DEPS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.test-deps")));
    let examples = dir.join("node_modules/@octokit/webhooks-examples/api.github.com/index.json");
    assert!(
        examples.is_file(),
        "{} is missing: run `scripts/test-deps.sh` (it runs `npm install --prefix .test-deps @octokit/webhooks-examples`), or point PATCHWRIGHT_TEST_DEPS at where it installed them",
        examples.display()
    );
    dir
}

/// GitHub's example payloads for `event`, from `@octokit/webhooks-examples`.
pub fn examples(event: &str) -> Vec<serde_json::Value> {
    let path =
        test_deps_dir().join("node_modules/@octokit/webhooks-examples/api.github.com/index.json");
    let text = std::fs::read_to_string(&path).expect("read webhooks-examples");
    let all: Vec<serde_json::Value> = serde_json::from_str(&text).expect("examples JSON");
    let found: Vec<serde_json::Value> = all
        .into_iter()
        .find(|e| e["name"] == event)
        .and_then(|e| e["examples"].as_array().cloned())
        .unwrap_or_default();
    assert!(
        !found.is_empty(),
        "no `{event}` examples in {}",
        path.display()
    );
    found
}

/// The first example of `event` whose fields satisfy `pick`.
pub fn example(event: &str, pick: impl Fn(&serde_json::Value) -> bool) -> serde_json::Value {
    examples(event)
        .into_iter()
        .find(|e| pick(e))
        .unwrap_or_else(|| panic!("no `{event}` example matches"))
}

/// One HTTP/1.1 exchange over a real socket: returns the status code and the body.
pub async fn http(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.expect("write head");
    stream.write_all(body).await.expect("write body");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.expect("read");
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP response: {text:?}"));
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

// ---------------------------------------------------------------- a server that vanishes

/// A TCP relay on loopback to `target` that a test can cut, as if the server behind it
/// vanished without a word: after [`Relay::cut`] nothing more is relayed either way and new
/// connections are accepted and left hanging (the slowest way to fail, and the one a bound
/// must catch).
pub struct Relay {
    pub addr: std::net::SocketAddr,
    cut: tokio::sync::watch::Sender<bool>,
}

impl Relay {
    pub async fn start(target: std::net::SocketAddr) -> Relay {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind relay");
        let addr = listener.local_addr().expect("relay address");
        let (cut, is_cut) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let mut is_cut = is_cut.clone();
                tokio::spawn(async move {
                    let already_cut = *is_cut.borrow();
                    if already_cut {
                        std::future::pending::<()>().await;
                    }
                    let Ok(mut server) = tokio::net::TcpStream::connect(target).await else {
                        return;
                    };
                    let cut_now = async move {
                        let _ = is_cut.wait_for(|c| *c).await;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        () = cut_now => {
                            // Hold both ends open, silent.
                            std::future::pending::<()>().await;
                        }
                    }
                });
            }
        });
        Relay { addr, cut }
    }

    pub fn cut(&self) {
        let _ = self.cut.send(true);
    }

    /// `url` with its host and port replaced by the relay's.
    pub fn url_through(&self, url: &str) -> String {
        let mut parsed = url::Url::parse(url).expect("a database URL");
        parsed
            .set_host(Some(&self.addr.ip().to_string()))
            .expect("set host");
        parsed.set_port(Some(self.addr.port())).expect("set port");
        parsed.to_string()
    }
}

/// The address a PostgreSQL URL names.
pub fn postgres_addr(url: &str) -> std::net::SocketAddr {
    let parsed = url::Url::parse(url).expect("a database URL");
    let host = parsed.host_str().expect("a host");
    let port = parsed.port().unwrap_or(5432);
    std::net::ToSocketAddrs::to_socket_addrs(&(host, port))
        .expect("resolve the database host")
        .next()
        .expect("an address")
}

// ---------------------------------------------------------------- whole tables and queues

// Reading a whole table back, and draining the queue in the test's own task, are what tests
// need and the service does not: they live here, not in the library. Each module below is the
// store's module plus its `all`, so a test imports `support::jobs` where it would import
// `patchwright::store::jobs`.

/// `patchwright::store::jobs`, and every job oldest first.
pub mod jobs {
    use patchwright::store::StoreError;
    pub use patchwright::store::jobs::*;

    pub async fn all(pool: &sqlx::AnyPool) -> Result<Vec<JobRow>, StoreError> {
        let rows = sqlx::query("SELECT * FROM jobs ORDER BY id")
            .fetch_all(pool)
            .await?;
        rows.iter().map(from_row).collect()
    }
}

/// `patchwright::store::audit`, and the whole trail in the order it was written.
pub mod audit {
    use patchwright::store::StoreError;
    pub use patchwright::store::audit::*;

    pub async fn all(pool: &sqlx::AnyPool) -> Result<Vec<AuditEntry>, StoreError> {
        let rows = sqlx::query("SELECT * FROM audit ORDER BY id")
            .fetch_all(pool)
            .await?;
        rows.iter().map(from_row).collect()
    }
}

/// `patchwright::store::accepted_risks`, and a repository's every grant, revoked ones
/// included, oldest first.
pub mod accepted_risks {
    use patchwright::store::StoreError;
    pub use patchwright::store::accepted_risks::*;

    pub async fn all(
        pool: &sqlx::AnyPool,
        repository_id: i64,
    ) -> Result<Vec<AcceptedRisk>, StoreError> {
        let rows = sqlx::query(
            "SELECT * FROM accepted_risks WHERE repository_id = $1 ORDER BY granted_at, id",
        )
        .bind(repository_id)
        .fetch_all(pool)
        .await?;
        rows.iter().map(from_row).collect()
    }
}

/// `patchwright::store::ignores`, and a repository's every ignore, removed ones included,
/// oldest first.
pub mod ignores {
    use patchwright::store::StoreError;
    pub use patchwright::store::ignores::*;

    pub async fn all(
        pool: &sqlx::AnyPool,
        repository_id: i64,
    ) -> Result<Vec<UpdateIgnore>, StoreError> {
        let rows = sqlx::query(
            "SELECT * FROM update_ignores WHERE repository_id = $1 ORDER BY created_at, id",
        )
        .bind(repository_id)
        .fetch_all(pool)
        .await?;
        rows.iter().map(from_row).collect()
    }
}

/// Drains the queue in the test's own task: runs every job due now (by the runner's clock),
/// with the pool's concurrency, until none is left; returns how each run settled, in
/// completion order. Import it (`use support::RunUntilIdle;`) and call
/// `runner.run_until_idle()`.
pub trait RunUntilIdle {
    fn run_until_idle(
        &self,
    ) -> impl Future<Output = Result<Vec<(i64, Settled)>, StoreError>> + Send;
}

impl RunUntilIdle for Arc<JobRunner> {
    fn run_until_idle(
        &self,
    ) -> impl Future<Output = Result<Vec<(i64, Settled)>, StoreError>> + Send {
        let runner = Arc::clone(self);
        async move {
            let (_cancel_tx, cancel) = tokio::sync::watch::channel(false);
            let mut tasks = tokio::task::JoinSet::new();
            let mut done = Vec::new();
            loop {
                while tasks.len() < runner.config().workers.max(1) {
                    let Some(row) = runner.claim().await? else {
                        break;
                    };
                    let (worker, cancel) = (Arc::clone(&runner), cancel.clone());
                    tasks.spawn(async move {
                        let id = row.id;
                        (id, worker.execute(row, cancel).await)
                    });
                }
                match tasks.join_next().await {
                    None => return Ok(done),
                    Some(Ok((id, settled))) => done.push((id, settled?)),
                    // Handler panics are caught inside `execute`; one escaping it is a bug
                    // and fails the test where it happened.
                    Some(Err(e)) => std::panic::resume_unwind(e.into_panic()),
                }
            }
        }
    }
}

/// One row of `job_attempts`, as tests check it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub attempt: i64,
    pub lock_token: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub outcome: Option<String>,
}

/// Every start of job `job_id`, first first.
pub async fn attempts(pool: &sqlx::AnyPool, job_id: i64) -> Vec<Attempt> {
    use sqlx::Row;
    let time = |ms: i64| DateTime::from_timestamp_millis(ms).expect("a stored time");
    sqlx::query("SELECT * FROM job_attempts WHERE job_id = $1 ORDER BY attempt, id")
        .bind(job_id)
        .fetch_all(pool)
        .await
        .expect("read job_attempts")
        .iter()
        .map(|r| Attempt {
            attempt: r.get("attempt"),
            lock_token: r.get("lock_token"),
            started_at: time(r.get("started_at")),
            finished_at: r.get::<Option<i64>, _>("finished_at").map(time),
            outcome: r.get("outcome"),
        })
        .collect()
}

// ---------------------------------------------------------------- a running `serve_on`

/// A configuration for `serve_on` with its SQLite file and key in `dir`.
pub fn serve_config(dir: &std::path::Path) -> patchwright::service::config::ServiceConfig {
    let key = dir.join("key.pem");
    std::fs::write(&key, "not a real key; serve only checks that it exists").unwrap();
    let db_url = format!("sqlite://{}?mode=rwc", dir.join("serve.db").display());
    let toml = format!(
        "app-id = 1\napp-slug = \"patchwright\"\nprivate-key-path = {key:?}\nworkers = 2\n"
    );
    let env = |var: &str| match var {
        "PATCHWRIGHT_WEBHOOK_SECRET" => Some(SECRET.to_string()),
        "DATABASE_URL" => Some(db_url.clone()),
        _ => None,
    };
    patchwright::service::config::ServiceConfig::from_sources("config.toml", Some(&toml), env)
        .unwrap()
}

/// A running `serve_on`: its address, the handler, the stop switch and the server task.
pub struct Served {
    pub addr: std::net::SocketAddr,
    pub handler: Arc<RecordingHandler>,
    pub stop: tokio::sync::oneshot::Sender<()>,
    pub server: tokio::task::JoinHandle<anyhow::Result<()>>,
}

pub async fn serve(config: patchwright::service::config::ServiceConfig) -> Served {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let handler = RecordingHandler::new();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(patchwright::service::serve_on(
        listener,
        config,
        handler.clone(),
        async move {
            let _ = stopped.await;
        },
    ));
    Served {
        addr,
        handler,
        stop,
        server,
    }
}
