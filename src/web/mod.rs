//! The dashboard served by `patchwright serve`: pages, JSON under `/api/v1`, CSV exports, and
//! sign-in with GitHub. Nothing is public: every route but `/login` and `/oauth/callback`
//! needs a session, and shows only the repositories GitHub said the person can see (admins,
//! named in `[web] admins`, see all).
//!
//! Handlers load the person's part of the store ([`crate::store::history::dataset`]), compute
//! the figures with the pure [`crate::remediation`] functions, and render them; pages and
//! exports share one computation, so they cannot disagree.

pub mod access;
pub mod chart;
pub mod config;
pub mod export;
pub mod lineage;
pub mod oauth;
pub mod pages;
pub mod session;
pub mod setup;

pub use config::WebConfig;

use crate::infra::clock::Clock;
use crate::policy::SlaDays;
use crate::store::Store;
use axum::Router;
use axum::routing::{get, post};
use std::sync::Arc;

/// What the dashboard's handlers share.
#[derive(Clone)]
pub struct WebState {
    pub store: Store,
    pub config: Arc<WebConfig>,
    pub oauth: oauth::GitHubOAuth,
    pub clock: Arc<dyn Clock>,
    /// `[policy.sla-days]`: when blockers are due.
    pub sla: SlaDays,
    pub templates: Arc<minijinja::Environment<'static>>,
    /// The REST API root (`github-api-url`), for `/setup`'s manifest conversion.
    pub api_url: String,
}

impl WebState {
    /// `api_url` is the service's `github-api-url`.
    pub fn new(
        store: Store,
        config: WebConfig,
        api_url: &str,
        clock: Arc<dyn Clock>,
        sla: SlaDays,
    ) -> Result<WebState, String> {
        let oauth = oauth::GitHubOAuth::new(
            &config.github_url,
            api_url,
            &config.client_id,
            config.client_secret.clone(),
        )?;
        Ok(WebState {
            store,
            config: Arc::new(config),
            oauth,
            clock,
            sla,
            templates: Arc::new(pages::environment()),
            api_url: api_url.trim_end_matches('/').to_string(),
        })
    }
}

/// Every route of the dashboard, for [`crate::service::router`] to merge beside the webhook's.
pub fn router(state: WebState) -> Router {
    Router::new()
        .route("/login", get(access::login))
        .route("/oauth/callback", get(access::callback))
        .route("/logout", post(access::logout))
        .route("/setup", get(setup::page_for_admins))
        .route("/setup/callback", get(setup::callback_for_admins))
        .route("/dashboard", get(pages::organisation))
        .route("/dashboard/tiers/{tier}", get(pages::tier))
        .route("/dashboard/team", get(pages::team))
        .route("/dashboard/repos/{id}", get(pages::repository))
        .route("/dashboard/repos/{id}/lineage", get(lineage::page))
        .route("/dashboard/snapshots", post(pages::rebuild_snapshots))
        .route("/api/v1/figures", get(export::organisation_json))
        .route("/api/v1/tiers/{tier}/figures", get(export::tier_json))
        .route("/api/v1/team/figures", get(export::team_json))
        .route("/api/v1/repositories", get(export::repositories_json))
        .route(
            "/api/v1/repositories/{id}/figures",
            get(export::repository_json),
        )
        .route("/api/v1/repositories/{id}/audit", get(export::audit_json))
        .route("/api/v1/repositories/{id}/lineage", get(lineage::json))
        .route("/export/open-findings.csv", get(export::open_findings_csv))
        .route(
            "/export/repositories/{id}/open-findings.csv",
            get(export::repository_open_findings_csv),
        )
        .route(
            "/export/repositories/{id}/audit.csv",
            get(export::audit_csv),
        )
        .route("/export/repositories/{id}/lineage.csv", get(lineage::csv))
        .with_state(state)
}

/// Every GET route that shows data, with placeholders (`{id}`, `{tier}`), for the access
/// tests to walk: a route added above and not here fails `tests/web_access.rs`.
pub const DATA_ROUTES: &[&str] = &[
    "/dashboard",
    "/dashboard/tiers/{tier}",
    "/dashboard/team?owner={owner}",
    "/dashboard/repos/{id}",
    "/dashboard/repos/{id}/lineage",
    "/api/v1/figures",
    "/api/v1/tiers/{tier}/figures",
    "/api/v1/team/figures?owner={owner}",
    "/api/v1/repositories",
    "/api/v1/repositories/{id}/figures",
    "/api/v1/repositories/{id}/audit",
    "/export/open-findings.csv",
    "/export/repositories/{id}/open-findings.csv",
    "/export/repositories/{id}/audit.csv",
    "/export/repositories/{id}/lineage.csv",
    "/api/v1/repositories/{id}/lineage",
];
