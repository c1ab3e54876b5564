//! The whole scan as one pure function: snapshot → manifests → findings → fixes → levels →
//! report. The CLI and the service both call [`run`], so they can never disagree.

use crate::catalog::{AdvisoryDb, Catalog};
use crate::manifest;
use crate::model::{FileError, Finding, Level, ParsedManifest};
use crate::policy::{self, Exception, IgnoreRule, OrgPolicy, REPO_CONFIG_PATH, RepoConfig};
use crate::remedy;
use crate::report::{InventoryItem, Provenance, Report, Summary};
use crate::scan;
use crate::snapshot::RepoSnapshot;
use chrono::NaiveDate;

/// The data a scan judges against, loaded once and shared by every scan.
pub struct Knowledge {
    pub catalog: Catalog,
    pub advisories: AdvisoryDb,
    pub policy: OrgPolicy,
}

/// Per-run choices.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Overrides the repository config's tier (the CLI's `--tier`).
    pub tier: Option<String>,
    /// Exceptions granted with `accept-risk` (see [`Exception::granted`]), judged together
    /// with the repository config's own. Revoked ones left out, expired ones kept: an expired
    /// exception is reported as such.
    pub accepted_risks: Vec<Exception>,
    /// Updates the repository asked not to be offered: their fixes are withheld.
    pub ignores: Vec<IgnoreRule>,
}

/// A scan's result, with the parsed manifests kept for fixing and verifying.
pub struct Outcome {
    pub report: Report,
    pub manifests: Vec<ParsedManifest>,
    pub repo_config: RepoConfig,
}

pub fn run(
    snapshot: &RepoSnapshot,
    knowledge: &Knowledge,
    now: NaiveDate,
    options: &RunOptions,
) -> Outcome {
    let manifests: Vec<ParsedManifest> = snapshot
        .files
        .iter()
        .filter_map(|(path, content)| {
            manifest::detect(path).map(|kind| manifest::parse(kind, path, content))
        })
        .collect();
    run_parsed(snapshot, manifests, knowledge, now, options)
}

/// [`run`] with the manifests already parsed (the service caches them by blob id). `manifests`
/// must be what parsing `snapshot`'s files gives.
pub fn run_parsed(
    snapshot: &RepoSnapshot,
    manifests: Vec<ParsedManifest>,
    knowledge: &Knowledge,
    now: NaiveDate,
    options: &RunOptions,
) -> Outcome {
    let mut errors: Vec<FileError> = snapshot.unreadable.clone();
    for m in &manifests {
        errors.extend(m.errors.iter().cloned());
    }

    let tiers = knowledge.policy.tier_names();
    let mut repo_config = match snapshot.files.get(REPO_CONFIG_PATH) {
        Some(text) => match policy::parse_repo_config(REPO_CONFIG_PATH, text, &tiers) {
            Ok(config) => config,
            Err(config_errors) => {
                errors.extend(config_errors);
                RepoConfig::default()
            }
        },
        None => RepoConfig::default(),
    };
    if options.tier.is_some() {
        repo_config.tier = options.tier.clone();
    }

    let mut findings = scan::scan(&manifests, &knowledge.catalog, &knowledge.advisories, now);
    remedy::plan(
        &mut findings,
        snapshot,
        &knowledge.catalog,
        &knowledge.advisories,
        now,
    );
    let ignored_updates = policy::apply_ignores(&mut findings, &options.ignores);
    // The config's exceptions first: when both cover a finding, the one written in the
    // repository is the one it cites.
    let judged = RepoConfig {
        exceptions: repo_config
            .exceptions
            .iter()
            .chain(&options.accepted_risks)
            .cloned()
            .collect(),
        ..repo_config.clone()
    };
    let is_known = |id: &str| knowledge.advisories.get(id).is_some();
    let mut findings = policy::evaluate(findings, &knowledge.policy, &judged, now, &is_known);
    sort_findings(&mut findings);
    let exceptions = policy::exception_statuses(&judged.exceptions, &findings, now);

    let inventory: Vec<InventoryItem> = manifests
        .iter()
        .flat_map(|m| m.dependencies.iter().map(InventoryItem::from))
        .collect();
    errors.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
    let summary = Summary::of(manifests.len(), inventory.len(), &findings, errors.len());
    let report = Report {
        inventory,
        findings,
        errors,
        summary,
        exceptions,
        ignored_updates,
        provenance: Provenance {
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            catalog_revision: knowledge.catalog.revision.clone(),
            advisories_revision: knowledge.advisories.revision(),
            evaluated_on: now.to_string(),
            base_commit: snapshot.commit.clone(),
        },
    };
    Outcome {
        report,
        manifests,
        repo_config,
    }
}

/// Most severe first, then by place, so the top of any list is what matters most.
pub fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        let rank = |f: &Finding| (f.is_active(), f.level, f.severity);
        rank(b)
            .cmp(&rank(a))
            .then_with(|| a.file.cmp(&b.file))
            .then_with(|| a.line.cmp(&b.line))
            .then_with(|| a.rule.cmp(&b.rule))
            .then_with(|| a.subject.cmp(&b.subject))
    });
}

/// Whether a report would fail a check: an active blocker.
pub fn blocks(findings: &[Finding]) -> bool {
    findings
        .iter()
        .any(|f| f.is_active() && f.level == Level::Blocker)
}
