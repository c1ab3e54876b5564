//! `--registry` for `scan` and `fix`: the edge where registry facts are fetched before the
//! pure pipeline runs, and where the one note about unchecked tags is printed.

use super::CommonArgs;
use crate::pipeline::{self, Knowledge, Outcome, RunOptions};
use crate::registry::{Lookup, RegistryConfig, RegistryFacts};
use crate::snapshot::RepoSnapshot;
use anyhow::Context;
use chrono::NaiveDate;
use std::sync::Arc;

pub struct Session {
    pub config: RegistryConfig,
    lookup: Lookup,
    runtime: tokio::runtime::Runtime,
}

impl Session {
    /// `None` when lookups are off (no `--registry`, or a config that says `enabled = false`).
    pub fn start(common: &CommonArgs) -> anyhow::Result<Option<Session>> {
        let config = match &common.registry_config {
            Some(path) => RegistryConfig::load(path)?,
            None => RegistryConfig {
                enabled: common.registry,
                ..RegistryConfig::default()
            },
        };
        if !(config.enabled || common.registry) {
            return Ok(None);
        }
        let lookup = Lookup::new(&config).context("cannot set up registry lookups")?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("cannot start the async runtime for registry lookups")?;
        Ok(Some(Session {
            config,
            lookup,
            runtime,
        }))
    }
}

/// Says, after an offline run, that images were not checked when there are any.
pub fn note_offline(outcome: &Outcome) {
    if outcome
        .report
        .inventory
        .iter()
        .any(|i| i.ecosystem == crate::model::Ecosystem::Docker)
    {
        eprintln!(
            "note: image tags and digests were not checked against the registries, and base images' OS packages were not read (offline): no image is known clean; run with --registry to check them and pin digests"
        );
    }
}

/// Runs the pipeline. With a session: facts for every image first, then, when fixes move to
/// tags whose digests were not asked for yet, those digests and one more run so the fixes pin
/// them. `options.registry` keeps the facts for later runs (the re-scan after a fix).
pub fn run(
    session: Option<&Session>,
    snapshot: &RepoSnapshot,
    knowledge: &Knowledge,
    today: NaiveDate,
    options: &mut RunOptions,
) -> Outcome {
    let Some(session) = session else {
        let outcome = pipeline::run(snapshot, knowledge, today, options);
        note_offline(&outcome);
        return outcome;
    };
    let now = chrono::Utc::now();
    let mut facts: RegistryFacts = session
        .runtime
        .block_on(session.lookup.gather(snapshot, now));
    options.registry = Some(Arc::new(facts.clone()));
    let mut outcome = pipeline::run(snapshot, knowledge, today, options);
    let missing = facts.missing_digests(&outcome.report);
    if !missing.is_empty()
        && session
            .runtime
            .block_on(session.lookup.complete(&mut facts, &missing, now))
    {
        options.registry = Some(Arc::new(facts.clone()));
        outcome = pipeline::run(snapshot, knowledge, today, options);
    }
    for problem in facts.problems() {
        eprintln!(
            "note: registry not checked for {problem}; fixes for it come from the catalog alone"
        );
    }
    for problem in facts.content_problems() {
        eprintln!("note: OS packages not checked for {problem}; not known to be clean");
    }
    outcome
}
