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
use crate::relock::{self, Limits, Relocker};
use anyhow::Context;
use std::sync::Arc;

/// How many parsed manifests the service keeps (by path and blob id).
const PARSE_CACHE_ENTRIES: usize = 50_000;

/// Loads the catalog, the advisories and the policy the configuration names. A broken catalog
/// stops start-up, and so does an advisory directory that is missing or yields no advisory
/// (the service would call every repository clean) unless `allow-no-advisories` says to go
/// on; a single unreadable advisory is logged and skipped.
pub fn load_knowledge(config: &ServiceConfig) -> anyhow::Result<Knowledge> {
    let catalog = load_catalog(&config.catalog_path).map_err(|errors| {
        let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
        anyhow::anyhow!(
            "catalog-path: the catalog has {} error(s):\n{}",
            errors.len(),
            lines.join("\n")
        )
    })?;
    let path = &config.advisories_path;
    let (records, read_errors) = read_json_records(path);
    let (advisories, parse_errors) = AdvisoryDb::from_json_records(&records);
    for e in read_errors.iter().chain(&parse_errors) {
        tracing::warn!(error = %e, "advisory skipped");
    }
    if advisories.is_empty() {
        let why = if !path.is_dir() {
            format!("{} is not a directory", path.display())
        } else if records.is_empty() {
            format!("{} holds no OSV *.json record", path.display())
        } else {
            format!(
                "none of the {} records in {} could be read as an advisory",
                records.len(),
                path.display()
            )
        };
        if !config.allow_no_advisories {
            anyhow::bail!(
                "advisories-path: {why}. Without advisory data every repository would be reported clean. \
                 Point advisories-path at a directory of OSV records (fixtures/advisories/ holds a \
                 sample), or set allow-no-advisories = true to start with catalog checks only"
            );
        }
        tracing::warn!(
            advisories_path = %path.display(),
            reason = why,
            "starting without advisory data (allow-no-advisories = true): no vulnerability will be reported"
        );
    } else {
        tracing::info!(
            advisories = advisories.len(),
            advisories_path = %path.display(),
            "advisories loaded"
        );
    }
    Ok(Knowledge {
        catalog,
        advisories,
        policy: config.policy.clone(),
    })
}

/// The relocker the jobs use, or `None` when `relock = false`; says in the log which
/// ecosystems can re-lock on this machine (a package manager missing from PATH is also named
/// in the note of each finding it would have re-locked).
fn relocker(config: &ServiceConfig) -> Option<Arc<Relocker>> {
    if !config.relock {
        tracing::info!(
            "re-lock off (relock = false): lockfile fixes stay \"needs a re-lock\" notes"
        );
        return None;
    }
    let mut relocker = Relocker::from_env(config.registries.clone());
    relocker.limits = Limits {
        timeout: config.relock_timeout,
        ..Limits::default()
    };
    let available = relock::availability(&relocker.path);
    // Registries are named by URL only; the token is never printed (Registries' Debug redacts).
    tracing::info!(registries = ?relocker.registries, "{available}");
    Some(Arc::new(relocker))
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
    let relocker = relocker(&config);
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
                relocker: relocker.clone(),
            });
            Ok(handler)
        },
    );
    super::serve_built(listener, config, make, super::shutdown_signal()).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(advisories: &std::path::Path, extra: &str) -> ServiceConfig {
        let root = env!("CARGO_MANIFEST_DIR");
        let text = format!(
            "app-id = 1\napp-slug = \"patchwright\"\nprivate-key-path = \"key.pem\"\n\
             webhook-secret = \"s\"\ncatalog-path = \"{root}/fixtures/catalog.example.toml\"\n\
             advisories-path = {:?}\n{extra}",
            advisories.display().to_string()
        );
        ServiceConfig::from_sources("config.toml", Some(&text), |_| None).unwrap()
    }

    fn refusal(config: &ServiceConfig) -> String {
        match load_knowledge(config) {
            Ok(_) => panic!("started without advisory data"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn serve_refuses_to_start_without_advisory_data_unless_told() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("advisories");
        let error = refusal(&config(&missing, ""));
        assert!(
            error.starts_with(&format!(
                "advisories-path: {} is not a directory.",
                missing.display()
            )),
            "{error}"
        );
        assert!(error.contains("allow-no-advisories = true"), "{error}");

        std::fs::create_dir(&missing).unwrap();
        let error = refusal(&config(&missing, ""));
        assert!(error.contains("holds no OSV *.json record"), "{error}");

        std::fs::write(missing.join("broken.json"), "{ not json").unwrap();
        let error = refusal(&config(&missing, ""));
        assert!(error.contains("none of the 1 records"), "{error}");

        let allowed = load_knowledge(&config(&missing, "allow-no-advisories = true\n")).unwrap();
        assert!(allowed.advisories.is_empty());

        let sample = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/advisories");
        assert!(
            !load_knowledge(&config(&sample, ""))
                .unwrap()
                .advisories
                .is_empty()
        );
    }

    #[test]
    fn the_relocker_follows_the_configuration() {
        let dir = tempfile::tempdir().unwrap();
        assert!(relocker(&config(dir.path(), "relock = false\n")).is_none());
        let on = relocker(&config(
            dir.path(),
            "relock-timeout-seconds = 30\nnpm-registry = \"https://npm.example.com/\"\n",
        ))
        .expect("re-lock is on by default");
        assert_eq!(on.limits.timeout, std::time::Duration::from_secs(30));
        assert_eq!(
            on.registries.npm.as_deref(),
            Some("https://npm.example.com/")
        );
    }
}
