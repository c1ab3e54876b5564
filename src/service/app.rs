//! `patchwright serve`: the configuration, the knowledge (catalog, advisories, policy), the
//! GitHub App client and the scan handler, assembled and handed to the service.

use super::clock::{Clock, SystemClock};
use super::config::ServiceConfig;
use super::handler::ScanHandler;
use super::handler::read::ParseCache;
use super::secret::Secret;
use crate::catalog::{AdvisoryDb, load_catalog, read_json_records};
use crate::forge::github::GitHubApp;
use crate::pipeline::Knowledge;
use anyhow::Context;
use std::sync::Arc;

/// How many parsed manifests the service keeps (by path and blob id).
const PARSE_CACHE_ENTRIES: usize = 50_000;

/// Loads the catalog, the advisories and the policy the configuration names. A broken catalog
/// stops start-up; an unreadable advisory is logged and skipped.
pub fn load_knowledge(config: &ServiceConfig) -> anyhow::Result<Knowledge> {
    let catalog = load_catalog(&config.catalog_path).map_err(|errors| {
        let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
        anyhow::anyhow!(
            "catalog-path: the catalog has {} error(s):\n{}",
            errors.len(),
            lines.join("\n")
        )
    })?;
    let (records, read_errors) = read_json_records(&config.advisories_path);
    let (advisories, parse_errors) = AdvisoryDb::from_json_records(&records);
    for e in read_errors.iter().chain(&parse_errors) {
        tracing::warn!(error = %e, "advisory skipped");
    }
    Ok(Knowledge {
        catalog,
        advisories,
        policy: config.policy.clone(),
    })
}

/// Runs the service until SIGTERM or Ctrl-C.
pub async fn run(config: ServiceConfig) -> anyhow::Result<()> {
    super::telemetry::init(config.log_format);
    let knowledge = Arc::new(load_knowledge(&config)?);
    let key = std::fs::read_to_string(&config.private_key_path).with_context(|| {
        format!(
            "private-key-path: cannot read {}",
            config.private_key_path.display()
        )
    })?;
    let key = Secret::new(key);
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| anyhow::anyhow!("listen: cannot bind {}: {e}", config.listen))?;
    let handler_config = config.clone();
    let make = Box::new(
        move |store: &crate::store::Store, metrics: &Arc<super::metrics::Metrics>| {
            let clock: Arc<dyn Clock> = Arc::new(SystemClock);
            let app = GitHubApp::new(
                handler_config.app_id,
                &key,
                &handler_config.github_api_url,
                Arc::clone(&clock),
                Some(Arc::clone(metrics)),
            )
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            let handler: Arc<dyn super::jobs::JobHandler> = Arc::new(ScanHandler {
                forges: Arc::new(app),
                store: store.clone(),
                knowledge,
                clock,
                cache: Arc::new(ParseCache::new(PARSE_CACHE_ENTRIES)),
                bot_login: handler_config.bot_login(),
                app_slug: handler_config.app_slug.clone(),
                max_open_fix_prs: handler_config.max_open_fix_prs as usize,
            });
            Ok(handler)
        },
    );
    super::serve_built(listener, config, make, super::shutdown_signal()).await
}
