//! Keeps a running service's knowledge current: the advisory sync on its interval (then the
//! database rebuilt from disk, swapped in, and the repositories it touches rescanned at once),
//! and the catalog and policy reloaded on `SIGHUP`. Either one that fails keeps the last good
//! data in force and says so in the log, `/metrics` and `/healthz`.

use super::clock::Clock;
use super::config::ServiceConfig;
use super::metrics::Metrics;
use super::sweep::{SweepSummary, enqueue_rescans};
use crate::catalog::{Catalog, load_catalog};
use crate::knowledge::handle::KnowledgeHandle;
use crate::knowledge::http::MirrorClient;
use crate::knowledge::rescan::affected_packages;
use crate::knowledge::serve_sync::{
    AdvisorySyncConfig, advisory_dirs, read_advisories, sync_round,
};
use crate::knowledge::status::KnowledgeStatus;
use crate::knowledge::{SyncKind, sync::SyncError};
use crate::pipeline::Knowledge;
use crate::policy::OrgPolicy;
use crate::store::{Store, packages};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::{Notify, watch};

/// Where the knowledge comes from, and the handle and status it is kept in.
pub struct Sources {
    pub handle: Arc<KnowledgeHandle>,
    pub status: Arc<KnowledgeStatus>,
    pub sync: Option<AdvisorySyncConfig>,
    /// The local folders of OSV records read together with the synced one.
    pub local_advisories: Vec<PathBuf>,
    /// The configuration file a reload reads `catalog-path` and `[policy]` from again; without
    /// one, a reload reads the catalog at `catalog_path` and keeps the policy.
    pub config_path: Option<PathBuf>,
    pub catalog_path: PathBuf,
}

/// The keeper: the sources, and what it needs of the service to act on a change.
pub struct Keeper {
    pub sources: Sources,
    pub store: Store,
    pub metrics: Arc<Metrics>,
    pub clock: Arc<dyn Clock>,
    /// Woken after rescans are queued, so an idle pool starts them at once.
    pub wake: Arc<Notify>,
}

/// What one sync round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyncSummary {
    pub new: usize,
    pub modified: usize,
    pub withdrawn: usize,
    pub failed: usize,
    /// Whether a new database was swapped in.
    pub swapped: bool,
    pub rescans: SweepSummary,
}

fn counts(changes: &crate::knowledge::Changes) -> (usize, usize, usize) {
    (
        changes.new.len(),
        changes.modified.len(),
        changes.withdrawn.len() + changes.removed.len(),
    )
}

impl Keeper {
    /// Syncs every configured ecosystem once; when anything changed, rebuilds the advisory
    /// database from disk, swaps it in and queues a scan of every repository holding a package
    /// a changed advisory names. A failed ecosystem keeps its last good data.
    pub async fn sync_once(&self, client: &MirrorClient) -> SyncSummary {
        let Some(config) = &self.sources.sync else {
            return SyncSummary::default();
        };
        let started = Instant::now();
        let round = sync_round(client, config).await;
        let now = self.clock.now();
        let knowledge_metrics = &self.metrics.knowledge;
        for (ecosystem, result) in &round.results {
            match result {
                Ok(outcome) => {
                    let changed = counts(&outcome.changes);
                    let kind = match outcome.kind {
                        SyncKind::Full => "full",
                        SyncKind::Incremental => "incremental",
                        SyncKind::Unchanged => "unchanged",
                    };
                    tracing::info!(
                        ecosystem,
                        kind,
                        new = changed.0,
                        modified = changed.1,
                        withdrawn = changed.2,
                        fetched = outcome.fetched,
                        unreadable = outcome.unreadable.len(),
                        "advisory sync done"
                    );
                    knowledge_metrics.sync(ecosystem, kind, changed);
                    knowledge_metrics.sync_succeeded_at(ecosystem, now.timestamp());
                    self.sources.status.sync_succeeded(ecosystem, now, changed);
                }
                Err(e) => {
                    tracing::warn!(
                        ecosystem,
                        error = %e,
                        "advisory sync failed; the last good data stays in use, trying again at the next interval"
                    );
                    knowledge_metrics.sync(ecosystem, "failed", (0, 0, 0));
                    self.sources.status.sync_failed(ecosystem, now, describe(e));
                }
            }
        }
        let changes = round.changes();
        let (new, modified, withdrawn) = counts(&changes);
        let mut summary = SyncSummary {
            new,
            modified,
            withdrawn,
            failed: round.failed(),
            ..SyncSummary::default()
        };
        if changes.is_empty() {
            return summary;
        }

        let dirs = advisory_dirs(Some(config), &self.sources.local_advisories);
        let handle = Arc::clone(&self.sources.handle);
        // Reading and parsing a whole ecosystem is seconds of CPU: off the async workers.
        let swapped = tokio::task::spawn_blocking(move || {
            let (advisories, errors) = read_advisories(&dirs);
            // Data that vanished from the disk under a sync that succeeded would make every
            // repository look clean: the last good database is worth more.
            if advisories.is_empty() && !handle.load().advisories.is_empty() {
                return Err(format!(
                    "the folders yield no advisory ({} unreadable)",
                    errors.len()
                ));
            }
            let before = handle.update(|k| Knowledge {
                catalog: k.catalog.clone(),
                advisories,
                policy: k.policy.clone(),
            });
            Ok((before, handle.load(), errors.len()))
        })
        .await
        .unwrap_or_else(|e| Err(e.to_string()));
        let (before, after, unreadable) = match swapped {
            Ok(swapped) => swapped,
            Err(e) => {
                tracing::error!(error = %e, "rebuilding the advisory database failed; the last one stays in use");
                return summary;
            }
        };
        summary.swapped = true;
        knowledge_metrics.set_advisories(after.advisories.len());
        self.sources.status.set_advisories(after.advisories.len());
        tracing::info!(
            advisories = after.advisories.len(),
            skipped = unreadable,
            "advisory database swapped in"
        );

        let touched = affected_packages(&before.advisories, &after.advisories, &changes);
        let keys: BTreeSet<packages::PackageKey> = touched.keys().cloned().collect();
        let queued = async {
            let holders = packages::holders(self.store.pool(), &keys).await?;
            let ids_of = |key: &packages::PackageKey| {
                touched
                    .get(key)
                    .map(|ids| ids.iter().cloned().collect())
                    .unwrap_or_default()
            };
            enqueue_rescans(&self.store, &holders, ids_of, self.clock.now()).await
        }
        .await;
        match queued {
            Ok(rescans) => {
                summary.rescans = rescans;
                knowledge_metrics.rescans(rescans.queued);
                if rescans.queued > 0 {
                    self.wake.notify_one();
                }
                tracing::info!(
                    packages = keys.len(),
                    queued = rescans.queued,
                    already_waiting = rescans.already_waiting,
                    took_ms = started.elapsed().as_millis() as u64,
                    "advisory rescans queued"
                );
            }
            Err(e) => tracing::warn!(
                error = %e,
                "advisory rescans not queued; the next sweep covers them"
            ),
        }
        summary
    }

    /// Syncs at once, then every interval, until `stop` turns true. A round in progress when
    /// the stop comes is abandoned: a sync touches the disk only after everything is fetched,
    /// and then without awaiting, so nothing is left half-written.
    pub async fn run_sync(self: Arc<Self>, mut stop: watch::Receiver<bool>) {
        let Some(config) = &self.sources.sync else {
            return;
        };
        let client = match MirrorClient::new() {
            Ok(client) => client,
            Err(e) => {
                tracing::error!(error = %e, "advisory sync off: cannot build its HTTP client");
                return;
            }
        };
        loop {
            tokio::select! {
                _ = self.sync_once(&client) => {}
                _ = stop.changed() => return,
            }
            tokio::select! {
                _ = tokio::time::sleep(config.interval()) => {}
                changed = stop.changed() => {
                    if changed.is_err() || *stop.borrow() {
                        return;
                    }
                }
            }
        }
    }

    /// Reads the catalog and policy again and swaps them in; an invalid one is refused with
    /// its errors and the last good one stays in force. Returns the refusal.
    pub async fn reload(&self) -> Result<(), String> {
        let config_path = self.sources.config_path.clone();
        let catalog_path = self.sources.catalog_path.clone();
        let handle = Arc::clone(&self.sources.handle);
        let result = tokio::task::spawn_blocking(move || {
            let current = handle.load().policy.clone();
            let (catalog, policy) = read_reloadable(config_path.as_ref(), &catalog_path, current)?;
            // Cloning the advisories is the price of keeping `Knowledge` plain data; reloads
            // are rare and this runs off the async workers.
            handle.update(|k| Knowledge {
                catalog,
                advisories: k.advisories.clone(),
                policy,
            });
            Ok(())
        })
        .await
        .unwrap_or_else(|e| Err(format!("the reload did not finish: {e}")));
        let now = self.clock.now();
        match &result {
            Ok(()) => {
                tracing::info!("catalog and policy reloaded");
                self.metrics.knowledge.reload("applied");
            }
            Err(why) => {
                tracing::error!(errors = %why, "reload refused; the last good catalog and policy stay in force");
                self.metrics.knowledge.reload("refused");
            }
        }
        self.sources.status.reloaded(now, result.clone().err());
        result
    }

    /// Listens for `SIGHUP` now (so a signal sent once this returns is never lost) and returns
    /// the loop that reloads on each, until `stop` turns true.
    #[cfg(unix)]
    pub fn reload_on_sighup(
        self: Arc<Self>,
        mut stop: watch::Receiver<bool>,
    ) -> std::io::Result<impl Future<Output = ()> + Send + 'static> {
        use tokio::signal::unix::{SignalKind, signal};
        let mut hangups = signal(SignalKind::hangup())?;
        Ok(async move {
            loop {
                tokio::select! {
                    received = hangups.recv() => {
                        if received.is_none() {
                            return;
                        }
                        tracing::info!("SIGHUP: reloading the catalog and policy");
                        let _ = self.reload().await;
                    }
                    changed = stop.changed() => {
                        if changed.is_err() || *stop.borrow() {
                            return;
                        }
                    }
                }
            }
        })
    }
}

/// The catalog and policy a reload would apply, or every reason it is refused.
fn read_reloadable(
    config_path: Option<&PathBuf>,
    catalog_path: &std::path::Path,
    current_policy: OrgPolicy,
) -> Result<(Catalog, OrgPolicy), String> {
    let (catalog_path, policy) = match config_path {
        Some(path) => {
            let config = ServiceConfig::load(Some(path)).map_err(|e| e.to_string())?;
            (config.catalog_path, config.policy)
        }
        None => (catalog_path.to_path_buf(), current_policy),
    };
    let catalog = load_catalog(&catalog_path).map_err(|errors| {
        let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
        format!(
            "the catalog has {} error(s):\n{}",
            errors.len(),
            lines.join("\n")
        )
    })?;
    Ok((catalog, policy))
}

/// One line for `/healthz`: the error without the record texts a parse error may quote.
fn describe(e: &SyncError) -> String {
    let text = e.to_string();
    match text.char_indices().nth(300) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}
