//! `patchwright serve`: the configuration, the knowledge (catalog, advisories, policy), the
//! GitHub App client and the scan handler, assembled and handed to the service.

use super::clock::{Clock, SystemClock};
use super::config::ServiceConfig;
use super::handler::ScanHandler;
use super::handler::read::ParseCache;
use super::refresh::Sources;
use super::secret::Secret;
use crate::catalog::{Catalog, load_catalog};
use crate::forge::github::GitHubApp;
use crate::knowledge::handle::{KnowledgeHandle, Pinned};
use crate::knowledge::http::MirrorClient;
use crate::knowledge::serve_sync::{advisory_dirs, read_advisories, sync_round};
use crate::knowledge::status::KnowledgeStatus;
use crate::pipeline::Knowledge;
use crate::relock::{self, Limits, Relocker};
use anyhow::Context;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// How many parsed manifests the service keeps (by path and blob id).
const PARSE_CACHE_ENTRIES: usize = 50_000;

/// Reads the catalog at `path`; every error is named.
pub fn read_catalog(path: &Path) -> anyhow::Result<Catalog> {
    load_catalog(path).map_err(|errors| {
        let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
        anyhow::anyhow!(
            "catalog-path: the catalog has {} error(s):\n{}",
            errors.len(),
            lines.join("\n")
        )
    })
}

/// Loads the catalog, the advisories (the synced folder and the local one together) and the
/// policy the configuration names. A broken catalog stops start-up, and so does having no
/// advisory at all (the service would call every repository clean: a local folder missing or
/// empty, a sync that never succeeded) unless `allow-no-advisories` says to go on; a single
/// unreadable advisory is logged and skipped.
pub fn load_knowledge(config: &ServiceConfig) -> anyhow::Result<Knowledge> {
    let catalog = read_catalog(&config.catalog_path)?;
    let local = config.advisories_path.as_slice();
    let sync = config.advisory_sync.as_ref();
    let dirs = advisory_dirs(sync, local);
    let (advisories, errors) = read_advisories(&dirs);
    for e in &errors {
        tracing::warn!(error = %e, "advisory skipped");
    }
    // A missing folder beside others that give data is worth a warning, not a refusal.
    for path in local.iter().filter(|p| !p.is_dir()) {
        tracing::warn!(folder = %path.display(), "advisories-path: not a directory; skipped");
    }
    if advisories.is_empty() {
        let local_why = (!local.is_empty()).then(|| {
            let reasons: Vec<String> = local.iter().map(|path| why_no_advisories(path)).collect();
            reasons.join("; ")
        });
        let why = match (sync, local_why) {
            (None, Some(why)) => format!("advisories-path: {why}"),
            (Some(sync), local_why) => format!(
                "advisory-sync: no sync into {} has succeeded yet (see the errors above){}",
                sync.dir.display(),
                local_why
                    .map(|w| format!(", and advisories-path: {w}"))
                    .unwrap_or_else(|| ", and no advisories-path gives local records".into())
            ),
            (None, None) => "no advisory source is configured".to_string(),
        };
        if !config.allow_no_advisories {
            anyhow::bail!(
                "{why}. Without advisory data every repository would be reported clean. \
                 Point advisories-path at a directory of OSV records (fixtures/advisories/ holds a \
                 sample) or let [advisory-sync] reach its mirror, or set allow-no-advisories = true \
                 to start with catalog checks only"
            );
        }
        tracing::warn!(
            reason = why,
            "starting without advisory data (allow-no-advisories = true): no vulnerability will be reported"
        );
    } else {
        tracing::info!(
            advisories = advisories.len(),
            folders = ?dirs,
            "advisories loaded"
        );
    }
    Ok(Knowledge {
        catalog,
        advisories,
        policy: config.policy.clone(),
    })
}

/// Why a local folder gave no advisory (only asked once the database came out empty).
fn why_no_advisories(path: &Path) -> String {
    if !path.is_dir() {
        return format!("{} is not a directory", path.display());
    }
    let (records, _) = crate::catalog::read_json_records(path);
    if records.is_empty() {
        format!("{} holds no OSV *.json record", path.display())
    } else {
        format!(
            "none of the {} records in {} could be read as an advisory",
            records.len(),
            path.display()
        )
    }
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

/// Before the first start with an `[advisory-sync]` that never succeeded: one round now, so
/// the service starts with data rather than refusing (or calling everything clean).
async fn first_sync(config: &ServiceConfig) {
    let Some(sync) = &config.advisory_sync else {
        return;
    };
    if sync.ever_synced() {
        return;
    }
    tracing::info!(mirror = %sync.mirror, dir = %sync.dir.display(), "first advisory sync before start");
    let client = match MirrorClient::new() {
        Ok(client) => client,
        Err(e) => return tracing::error!(error = %e, "advisory sync: cannot build its HTTP client"),
    };
    for (ecosystem, result) in sync_round(&client, sync).await.results {
        match result {
            Ok(outcome) => tracing::info!(
                ecosystem,
                records = outcome.fetched,
                "first advisory sync done"
            ),
            Err(e) => tracing::error!(ecosystem, error = %e, "first advisory sync failed"),
        }
    }
}

/// Runs the service until SIGTERM or Ctrl-C. `config_path` is the file a `SIGHUP` reads the
/// catalog path and policy from again.
pub async fn run(config: ServiceConfig, config_path: Option<PathBuf>) -> anyhow::Result<()> {
    super::telemetry::init(config.log_format);
    first_sync(&config).await;
    let handle = Arc::new(KnowledgeHandle::new(load_knowledge(&config)?));
    let status = Arc::new(KnowledgeStatus::default());
    status.set_advisories(handle.load().advisories.len());
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
    let registry = match &config.registry {
        Some(registry) => Some(Arc::new(
            crate::registry::Lookup::new(registry).context("[registry]")?,
        )),
        None => None,
    };
    let sources = Sources {
        handle: Arc::clone(&handle),
        status,
        sync: config.advisory_sync.clone(),
        local_advisories: config.advisories_path.clone(),
        config_path,
        catalog_path: config.catalog_path.clone(),
    };
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
                knowledge: Pinned::new(handle),
                clock,
                cache: Arc::new(ParseCache::new(PARSE_CACHE_ENTRIES)),
                bot_login: handler_config.bot_login(),
                app_slug: handler_config.app_slug.clone(),
                max_open_fix_prs: handler_config.max_open_fix_prs as usize,
                relocker: relocker.clone(),
                registry: registry.clone(),
            });
            Ok(handler)
        },
    );
    super::serve_built(
        listener,
        config,
        make,
        Some(sources),
        super::shutdown_signal(),
    )
    .await
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

        // A sync that never succeeded, and no local folder: refused, naming both.
        let synced = dir.path().join("osv");
        let sync = format!(
            "[advisory-sync]\necosystems = [\"npm\"]\ndir = {:?}\n",
            synced.display().to_string()
        );
        let text = format!(
            "app-id = 1\napp-slug = \"p\"\nprivate-key-path = \"k\"\nwebhook-secret = \"s\"\n\
             catalog-path = \"{}/fixtures/catalog.example.toml\"\n{sync}",
            env!("CARGO_MANIFEST_DIR")
        );
        let synced_only =
            ServiceConfig::from_sources("config.toml", Some(&text), |_| None).unwrap();
        let error = refusal(&synced_only);
        assert!(
            error.starts_with(&format!(
                "advisory-sync: no sync into {} has succeeded yet (see the errors above), and no advisories-path gives local records.",
                synced.display()
            )),
            "{error}"
        );
        // Once the synced folder holds a record, that is enough.
        std::fs::create_dir_all(synced.join("npm")).unwrap();
        std::fs::copy(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("fixtures/advisories/npm/GHSA-p6mc-m468-83gw.json"),
            synced.join("npm/GHSA-p6mc-m468-83gw.json"),
        )
        .unwrap();
        assert_eq!(load_knowledge(&synced_only).unwrap().advisories.len(), 1);

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

    /// `advisories-path` as a list: every folder is read, together with the synced one; a
    /// missing folder beside others is skipped, and when none gives data each one is named.
    #[test]
    fn several_advisory_folders_are_read_together_with_the_synced_one() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let sample = root.join("fixtures/advisories");
        let count = |dirs: &[&std::path::Path], extra: &str| {
            let list: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
            let text = format!(
                "app-id = 1\napp-slug = \"p\"\nprivate-key-path = \"k\"\nwebhook-secret = \"s\"\n\
                 catalog-path = \"{}/fixtures/catalog.example.toml\"\nadvisories-path = {list:?}\n{extra}",
                root.display()
            );
            let config = ServiceConfig::from_sources("config.toml", Some(&text), |_| None).unwrap();
            load_knowledge(&config).map(|k| k.advisories.len())
        };
        let dir = tempfile::tempdir().unwrap();
        let extra = dir.path().join("extra");
        std::fs::create_dir(&extra).unwrap();
        std::fs::write(
            extra.join("GHSA-list-0001.json"),
            r#"{"id":"GHSA-list-0001","modified":"2026-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"npm","name":"left-pad"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.3.0"}]}]}]}"#,
        )
        .unwrap();
        let alone = count(&[&sample], "").unwrap();
        assert!(alone > 0);
        let missing = dir.path().join("missing");
        assert_eq!(count(&[&sample, &extra, &missing], "").unwrap(), alone + 1);

        // With a sync: its folder and the local ones together.
        let synced = dir.path().join("osv");
        std::fs::create_dir_all(synced.join("PyPI")).unwrap();
        std::fs::copy(
            extra.join("GHSA-list-0001.json"),
            synced.join("PyPI/GHSA-list-0002.json"),
        )
        .unwrap();
        let text = std::fs::read_to_string(synced.join("PyPI/GHSA-list-0002.json")).unwrap();
        std::fs::write(
            synced.join("PyPI/GHSA-list-0002.json"),
            text.replace("GHSA-list-0001", "GHSA-list-0002"),
        )
        .unwrap();
        let sync = format!(
            "[advisory-sync]\necosystems = [\"PyPI\"]\ndir = {:?}\n",
            synced.display().to_string()
        );
        assert_eq!(count(&[&sample, &extra], &sync).unwrap(), alone + 2);

        let empty = dir.path().join("empty");
        std::fs::create_dir(&empty).unwrap();
        let error = count(&[&missing, &empty], "").unwrap_err().to_string();
        assert!(
            error.starts_with(&format!(
                "advisories-path: {} is not a directory; {} holds no OSV *.json record.",
                missing.display(),
                empty.display()
            )),
            "{error}"
        );
    }
}
