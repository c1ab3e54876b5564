//! The GitHub App service (axum): webhooks, durable jobs and their workers, health, metrics.
//!
//! `serve` wires it together: the store (migrated at start), the HTTP router, and the job
//! pool running the [`jobs::JobHandler`] it is given. The scan-and-fix handler plugs in there.

pub mod app;
pub mod config;
pub mod daily_snapshots;
pub mod handler;
pub mod jobs;
pub mod metrics;
pub mod pacing;
pub mod refresh;
pub mod server;
pub mod sweep;
pub mod telemetry;
pub mod webhook;

use crate::store::Store;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
// Moved to the leaf `infra`; re-exported at the old paths for this session's callers.
pub use crate::infra::{clock, secret};

use clock::{Clock, SystemClock};
use config::ServiceConfig;
use jobs::{JobHandler, JobRunner, RetryPolicy, RunnerConfig};
use metrics::Metrics;
use secret::Secret;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, watch};
use tower_http::trace::TraceLayer;
use webhook::body::BodyLimits;

/// What the HTTP handlers share.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    /// The pool webhook intake writes through first: the same database as `store`, without
    /// the ping before each use ([`Store::untested_twin`]), its connections open before the
    /// listener is served ([`Store::open_connections`]). A delivery whose connection
    /// turns out dead is retried once on `store`, whose acquire discards dead connections.
    pub intake: Store,
    pub webhook_secret: Secret,
    /// The app's own login, `<slug>[bot]`: tells its PRs and comments apart.
    pub bot_login: Arc<str>,
    pub clock: Arc<dyn Clock>,
    pub metrics: Arc<Metrics>,
    /// Notified when intake stores a job, so an idle pool starts it at once.
    pub wake: Arc<Notify>,
    /// The memory budget and read timeout of webhook bodies, shared by all requests.
    pub body_limits: Arc<BodyLimits>,
    /// What the advisory sync and reloads last did: `/healthz` adds it below its verdict.
    pub knowledge: Arc<crate::knowledge::status::KnowledgeStatus>,
}

/// The HTTP surface: `POST /webhook`, `GET /healthz` (readiness), `GET /livez` (liveness),
/// `GET /metrics`.
pub fn router(state: AppState) -> Router {
    // The webhook handler reads its body itself, bounded by `BodyLimits`.
    Router::new()
        .route("/webhook", post(webhook::receive))
        .route("/healthz", get(healthz))
        .route("/livez", get(livez))
        .route("/metrics", get(metrics))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// How long readiness may take to decide: a load balancer's probe gives up after a second or
/// two, and a database that takes longer to take a write cannot take webhooks either.
pub const READINESS_TIMEOUT: Duration = Duration::from_millis(1500);

/// Readiness: 200 only when the store takes a write (what webhook intake needs) within
/// [`READINESS_TIMEOUT`]. The body's first line is the verdict; the lines below it say what
/// the advisory sync and reloads last did (a failed sync does not make the service unready:
/// it goes on with the last good data).
async fn healthz(State(state): State<AppState>) -> Response {
    let detail = state.knowledge.detail();
    let body = |verdict: &'static str| {
        if detail.is_empty() {
            verdict.to_string()
        } else {
            format!("{verdict}\n{detail}")
        }
    };
    let unavailable =
        |why: &'static str| (StatusCode::SERVICE_UNAVAILABLE, body(why)).into_response();
    match tokio::time::timeout(READINESS_TIMEOUT, state.store.check_writable()).await {
        Ok(Ok(())) => (StatusCode::OK, body("ok")).into_response(),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "readiness: the database does not take writes");
            unavailable("the database does not take writes")
        }
        Err(_) => {
            tracing::error!(timeout = ?READINESS_TIMEOUT, "readiness: the database did not answer in time");
            unavailable("the database did not answer in time")
        }
    }
}

/// Liveness: the process answers HTTP. Never touches the database, so a database outage
/// makes the service unready, not restarted.
async fn livez() -> Response {
    (StatusCode::OK, "alive").into_response()
}

async fn metrics(State(state): State<AppState>) -> Response {
    // Queue depth is read from the store, so every replica reports the shared queue.
    match crate::store::jobs::count_by_state(state.store.pool()).await {
        Ok(counts) => state.metrics.set_job_counts(&counts),
        Err(e) => tracing::warn!(error = %e, "metrics: cannot count jobs"),
    }
    (
        [(header::CONTENT_TYPE, metrics::CONTENT_TYPE)],
        state.metrics.render(),
    )
        .into_response()
}

/// The runner settings a configuration asks for.
pub fn runner_config(config: &ServiceConfig) -> RunnerConfig {
    RunnerConfig {
        workers: config.workers,
        lease: config.job_lease,
        retry: RetryPolicy {
            max_attempts: config.job_max_attempts,
            ..RetryPolicy::default()
        },
        shutdown_grace: config.shutdown_grace,
        ..RunnerConfig::default()
    }
}

/// Runs the GitHub App until SIGTERM or Ctrl-C: migrates the store, serves HTTP, runs the
/// job pool with `handler`. On the signal it stops taking webhooks, lets running jobs and open
/// requests finish for `shutdown-grace-seconds`, releases the jobs left to the queue, closes
/// the connections left, and returns.
pub async fn serve(config: ServiceConfig, handler: Arc<dyn JobHandler>) -> anyhow::Result<()> {
    telemetry::init(config.log_format);
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| anyhow::anyhow!("listen: cannot bind {}: {e}", config.listen))?;
    serve_on(listener, config, handler, shutdown_signal()).await
}

/// [`serve`] on a listener already bound (so `config.listen` is not used), until `shutdown`
/// completes: what tests run on `127.0.0.1:0` with a channel for the signal.
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    config: ServiceConfig,
    handler: Arc<dyn JobHandler>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    serve_built(
        listener,
        config,
        Box::new(move |_, _| Ok(handler)),
        None,
        shutdown,
    )
    .await
}

/// Builds the job handler once the store and metrics exist (the scan handler needs both).
pub type MakeHandler =
    Box<dyn FnOnce(&Store, &Arc<Metrics>) -> anyhow::Result<Arc<dyn JobHandler>> + Send>;

/// [`serve_on`] with a handler built from the service's own store and metrics, and, given
/// `sources`, the keeper of the knowledge: the advisory sync on its interval and reloads on
/// `SIGHUP`.
pub async fn serve_built(
    listener: tokio::net::TcpListener,
    config: ServiceConfig,
    make_handler: MakeHandler,
    sources: Option<refresh::Sources>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    config.check_files()?;
    let address = listener.local_addr()?;
    tracing::info!(
        %address,
        database = %config.database_url,
        workers = config.workers,
        app_id = config.app_id,
        "starting patchwright serve"
    );
    let connections = u32::try_from(config.workers)
        .unwrap_or(64)
        .saturating_add(4);
    let store = Store::connect_with(config.database_url.expose(), connections).await?;
    let intake = store.untested_twin(connections);
    // Before the listener is served: opened on demand, the first deliveries after each start
    // (or a quiet spell past the idle timeout) would each wait for a new connection.
    intake.open_connections().await?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let metrics = Arc::new(Metrics::new());
    let wake = Arc::new(Notify::new());
    let (stop_tx, stop_rx) = watch::channel(false);

    let handler = make_handler(&store, &metrics)?;
    let runner = Arc::new(JobRunner::new(
        store.clone(),
        handler,
        Arc::clone(&clock),
        runner_config(&config),
        Arc::clone(&metrics),
    ));
    let sweeps = config.sweep_interval.map(|every| {
        tokio::spawn(sweep::run(
            store.clone(),
            Arc::clone(&clock),
            every,
            config.sweep_calls_per_hour,
            Arc::clone(&wake),
            stop_rx.clone(),
        ))
    });
    let status = sources
        .as_ref()
        .map(|s| Arc::clone(&s.status))
        .unwrap_or_default();
    let mut keepers = Vec::new();
    if let Some(sources) = sources {
        let keeper = Arc::new(refresh::Keeper {
            sources,
            store: store.clone(),
            metrics: Arc::clone(&metrics),
            clock: Arc::clone(&clock),
            wake: Arc::clone(&wake),
        });
        metrics
            .knowledge
            .set_advisories(keeper.sources.handle.load().advisories.len());
        keepers.push(tokio::spawn(Arc::clone(&keeper).run_sync(stop_rx.clone())));
        #[cfg(unix)]
        match Arc::clone(&keeper).reload_on_sighup(stop_rx.clone()) {
            Ok(reloads) => keepers.push(tokio::spawn(reloads)),
            Err(e) => tracing::error!(error = %e, "cannot listen for SIGHUP: reloads off"),
        }
    }
    // The daily snapshots and the notifications run beside the job pool, each in its own
    // task: neither ever holds a worker, and a stuck chat webhook delays only its messages.
    let mut background = vec![tokio::spawn(daily_snapshots::run(
        store.clone(),
        Arc::clone(&clock),
        stop_rx.clone(),
    ))];
    if let Some(notify) = &config.notifications {
        let webhook = crate::notify::deliver::Webhook::new(notify.webhook_url.clone())
            .map_err(|e| anyhow::anyhow!("[notifications]: {e}"))?;
        let notifier = Arc::new(crate::notify::run::Notifier {
            store: store.clone(),
            config: notify.clone(),
            sla: config.policy.sla_days.clone(),
            webhook,
        });
        background.push(tokio::spawn(notifier.run(
            Arc::clone(&clock),
            crate::notify::run::TICK,
            stop_rx.clone(),
        )));
        tracing::info!(interval = ?notify.interval, "chat notifications on");
    }
    let pool = tokio::spawn(runner.run(Arc::clone(&wake), stop_rx));

    let state = AppState {
        store: store.clone(),
        intake,
        webhook_secret: config.webhook_secret.clone(),
        bot_login: config.bot_login().into(),
        clock,
        metrics,
        wake,
        body_limits: Arc::new(BodyLimits::new(
            config.webhook_memory_bytes,
            config.read_timeout,
        )),
        knowledge: status,
    };
    let limits = server::ServerLimits {
        max_connections: config.max_connections,
        header_read_timeout: config.read_timeout,
        shutdown_grace: config.shutdown_grace,
    };
    // The HTTP side and the pool each get the grace period, at the same time, so the whole
    // stop takes at most that long (plus settling the jobs' rows).
    let mut app = router(state.clone());
    if let Some(web) = &config.web {
        let web = crate::web::WebState::new(
            store.clone(),
            web.clone(),
            &config.github_api_url,
            Arc::clone(&state.clock),
            config.policy.sla_days.clone(),
        )
        .map_err(|e| anyhow::anyhow!("[web]: {e}"))?;
        app = app.merge(crate::web::router(web));
        tracing::info!("dashboard served at /dashboard (sign-in at /login)");
    }
    let http = server::serve(listener, app, limits, async move {
        shutdown.await;
        tracing::info!("shutdown requested: no new webhooks; finishing running jobs");
        let _ = stop_tx.send(true);
    });
    http.await;
    pool.await?;
    if let Some(sweeps) = sweeps {
        sweeps.await?;
    }
    for keeper in keepers {
        keeper.await?;
    }
    for task in background {
        task.await?;
    }
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}

pub(crate) async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
