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

mod fold;
mod parse;

pub use parse::{in_path_order, parse_releasing};

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
    /// Only part of the repository was scanned (a subfolder): an exception that matches nothing
    /// may match in the rest, so `exception-unused` is not reported.
    pub partial: bool,
    /// What the registries said about the scanned images (tags, digests), fetched at the edge;
    /// `None` when lookups are off: image fixes then come from the catalog alone, as before.
    pub registry: Option<std::sync::Arc<crate::registry::RegistryFacts>>,
    /// The org turned digest pinning off (`[registry] pin-digests = false`); the repository
    /// config's `pin-digests` wins over it.
    pub no_digest_pins: bool,
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
    let manifests = parse::parse_all(snapshot);
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
    errors.extend(manifest::requirements::missing_includes(
        snapshot.files.iter().map(|(p, c)| (p.as_str(), c.as_str())),
    ));

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
    let facts = options.registry.as_deref();
    if let Some(facts) = facts {
        findings.extend(scan::registry_findings(
            &manifests,
            facts,
            &knowledge.catalog,
            &knowledge.advisories,
        ));
    }
    let pin_digests = repo_config.pin_digests.unwrap_or(!options.no_digest_pins);
    remedy::plan_with_registry(
        &mut findings,
        snapshot,
        &knowledge.catalog,
        &knowledge.advisories,
        now,
        facts,
        pin_digests,
    );
    if let Some(facts) = facts {
        let replan = remedy::contents::judge(
            &mut findings,
            facts,
            &knowledge.catalog,
            &knowledge.advisories,
        );
        // Findings that shared a tag move no longer wanted are planned again on their own
        // (a digest pin of the tag in use).
        let mut again: Vec<Finding> = replan.iter().map(|&i| findings[i].clone()).collect();
        remedy::plan_with_registry(
            &mut again,
            snapshot,
            &knowledge.catalog,
            &knowledge.advisories,
            now,
            Some(facts),
            pin_digests,
        );
        for (i, f) in replan.into_iter().zip(again) {
            findings[i] = f;
        }
    }
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
    if options.partial {
        findings.retain(|f| f.rule != crate::model::RuleId::ExceptionUnused);
    }
    remedy::explain_missing_fixes(&mut findings);
    sort_findings(&mut findings);
    let exceptions = policy::exception_statuses(&judged.exceptions, &findings, now);
    let findings = fold::fold(findings);

    // Sized up front: grown by doubling, the list of a 100,000-dependency monorepo held a
    // half-empty buffer, and a copy of it while growing, at the scan's memory peak.
    let mut inventory: Vec<InventoryItem> =
        Vec::with_capacity(manifests.iter().map(|m| m.dependencies.len()).sum());
    inventory.extend(
        manifests
            .iter()
            .flat_map(|m| m.dependencies.iter().map(InventoryItem::from)),
    );
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
    findings.sort_by(urgency);
}

/// The order of [`sort_findings`]: active before suppressed, then level, severity and place.
pub fn urgency(a: &Finding, b: &Finding) -> std::cmp::Ordering {
    let rank = |f: &Finding| (f.is_active(), f.level, f.severity);
    rank(b)
        .cmp(&rank(a))
        .then_with(|| a.file.cmp(&b.file))
        .then_with(|| a.line.cmp(&b.line))
        .then_with(|| a.rule.cmp(&b.rule))
        .then_with(|| a.subject.cmp(&b.subject))
}

/// Whether a report would fail a check: an active blocker.
pub fn blocks(findings: &[Finding]) -> bool {
    findings
        .iter()
        .any(|f| f.is_active() && f.level == Level::Blocker)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{load_catalog, read_json_records};
    use crate::model::{ExceptionOrigin, RuleId};
    use crate::policy::{ExceptionState, IgnoreScope};
    use std::path::Path;

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn demo() -> (RepoSnapshot, Knowledge) {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let snapshot =
            crate::forge::local::read_snapshot(&root.join("examples/demo"), &[]).unwrap();
        let (records, errors) = read_json_records(&root.join("fixtures/advisories"));
        assert!(errors.is_empty(), "{errors:?}");
        let (advisories, errors) = AdvisoryDb::from_json_records(&records);
        assert!(errors.is_empty(), "{errors:?}");
        let knowledge = Knowledge {
            catalog: load_catalog(&root.join("fixtures/catalog.example.toml")).unwrap(),
            advisories,
            policy: OrgPolicy::default(),
        };
        (snapshot, knowledge)
    }

    fn grant(id: &str, until: &str) -> Exception {
        Exception::granted(
            id,
            "only reachable from the admin network",
            date(until),
            "alice",
            date("2026-11-02"),
            "acme/shop#12 comment 345",
        )
    }

    fn ignore(name: &str, scope: IgnoreScope) -> IgnoreRule {
        IgnoreRule {
            name: name.to_string(),
            scope,
            created_by: "bob".to_string(),
            created_at: date("2026-11-03"),
            source: "https://github.com/acme/shop/pull/12#issuecomment-346".to_string(),
        }
    }

    fn find<'a>(report: &'a Report, rule: RuleId, subject: &str) -> &'a Finding {
        report
            .findings
            .iter()
            .find(|f| f.rule == rule && f.subject == subject)
            .unwrap_or_else(|| panic!("no {rule} finding about {subject}"))
    }

    /// `scan` parses each file as it is read and drops the text of lockfiles once parsed; the
    /// report must not change, and what a fix edits or the scan reads again (Dockerfiles,
    /// go.mod, requirements even when every entry is hashed, the config) must stay.
    #[test]
    fn parsing_while_reading_changes_no_report() {
        let (snapshot, knowledge) = demo();
        let dir = tempfile::tempdir().unwrap();
        let mut files = snapshot.files.clone();
        files.insert(
            "tools/requirements.txt".to_string(),
            format!(
                "-r missing.txt\nurllib3==1.26.5 --hash=sha256:{}\n",
                "a".repeat(64)
            ),
        );
        for (path, text) in &files {
            let file = dir.path().join(path);
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            std::fs::write(file, text).unwrap();
        }
        let today = date("2026-11-23");
        let options = RunOptions::default();
        let read = crate::forge::local::read_checkout(dir.path(), &[]).unwrap();
        assert_eq!(read.snapshot.files, files);
        let whole = run(&read.snapshot, &knowledge, today, &options).report;

        let (checkout, manifests) =
            crate::forge::local::read_checkout_with(dir.path(), &[], parse_releasing).unwrap();
        let manifests = in_path_order(manifests);
        let paths: Vec<&str> = manifests.iter().map(|m| m.file.as_str()).collect();
        let parsed_paths: Vec<&str> = files
            .keys()
            .map(String::as_str)
            .filter(|p| manifest::detect(p).is_some())
            .collect();
        assert_eq!(paths, parsed_paths);
        let released = &checkout.snapshot;
        let report = run_parsed(released, manifests, &knowledge, today, &options).report;
        assert_eq!(report, whole);
        assert!(
            whole
                .errors
                .iter()
                .any(|e| e.file == "tools/requirements.txt" && e.message.contains("missing.txt")),
            "{:#?}",
            whole.errors
        );
        assert!(
            whole
                .findings
                .iter()
                .any(|f| f.file == "web/package-lock.json")
        );
        assert_eq!(released.files["web/package-lock.json"], "");
        for kept in [
            "web/Dockerfile",
            "api/Dockerfile",
            "api/requirements.txt",
            "tools/requirements.txt",
            "worker/go.mod",
            ".github/patchwright.toml",
        ] {
            assert_eq!(released.files[kept], files[kept], "{kept}");
        }
    }

    #[test]
    fn grants_and_ignores_reach_the_report() {
        let (snapshot, knowledge) = demo();
        let today = date("2026-11-23");
        let plain = run(&snapshot, &knowledge, today, &RunOptions::default()).report;
        let options = RunOptions {
            accepted_risks: vec![
                grant("CVE-2021-44906", "2026-12-31"), // minimist, by an alias
                grant("PYSEC-2023-74", "2026-11-22"),  // requests, expired yesterday
            ],
            ignores: vec![
                ignore("node", IgnoreScope::Major),
                ignore("urllib3", IgnoreScope::Minor),
                ignore("Django", IgnoreScope::All),
            ],
            ..RunOptions::default()
        };
        let report = run(&snapshot, &knowledge, today, &options).report;

        // The active grant suppresses the minimist advisory and says who granted it; the
        // finding stays active for the catalog's minimum, which the grant does not cover.
        let minimist = find(&report, RuleId::DependencyBelowMinimum, "minimist@1.2.5");
        assert!(minimist.is_active());
        let advisory = minimist
            .also
            .iter()
            .find(|r| r.rule == RuleId::VulnerableDependency)
            .expect("the advisory is folded into the finding");
        let applied = advisory
            .exception
            .as_ref()
            .expect("suppressed by the grant");
        assert!(
            matches!(&applied.origin, ExceptionOrigin::Command { granted_by, .. } if granted_by == "alice"),
            "{applied:?}"
        );
        // The expired one suppresses nothing and is reported where requests is.
        let requests = find(&report, RuleId::VulnerableDependency, "requests@2.30.0");
        assert!(requests.is_active());
        let expired = find(&report, RuleId::ExceptionExpired, "PYSEC-2023-74");
        assert_eq!(
            (expired.file.as_str(), expired.line),
            (requests.file.as_str(), requests.line)
        );
        assert!(
            expired.message.contains("granted by @alice"),
            "{}",
            expired.message
        );

        // node 16 → 22 is a major update: withheld. Django's fix too; urllib3's is a patch.
        let node = find(&report, RuleId::EolBaseImage, "node:16.20.2-alpine");
        assert_eq!(node.fix, None);
        assert!(
            node.no_fix_reason
                .as_deref()
                .is_some_and(|r| r.starts_with("updates to node (major) are ignored by @bob")),
            "{:?}",
            node.no_fix_reason
        );
        assert!(
            node.is_active(),
            "an ignored update never hides the finding"
        );
        assert!(
            find(&report, RuleId::VulnerableDependency, "Django@4.2.1")
                .fix
                .is_none()
        );
        assert!(
            find(&report, RuleId::VulnerableDependency, "urllib3@1.26.5")
                .fix
                .is_some()
        );

        // Counts follow: the expired-exception finding, two fewer fixable; nothing more is
        // excepted in full (minimist still counts for its minimum).
        assert_eq!(report.findings.len(), plain.findings.len() + 1);
        assert_eq!(report.summary.excepted, plain.summary.excepted);
        assert_eq!(report.summary.fixable, plain.summary.fixable - 2);

        let states: Vec<(&str, ExceptionState, usize)> = report
            .exceptions
            .iter()
            .map(|e| (e.id.as_str(), e.state, e.covers))
            .collect();
        assert_eq!(
            states,
            [
                ("unpinned-os-packages", ExceptionState::Active, 1),
                ("CVE-2021-44906", ExceptionState::Active, 1),
                ("PYSEC-2023-74", ExceptionState::Expired, 1),
            ]
        );
        let withheld: Vec<(&str, usize)> = report
            .ignored_updates
            .iter()
            .map(|i| (i.name.as_str(), i.withheld))
            .collect();
        assert_eq!(withheld, [("node", 1), ("urllib3", 0), ("Django", 1)]);

        // Without options the report lists only the config's exception.
        assert_eq!(plain.exceptions.len(), 1);
        assert!(plain.ignored_updates.is_empty());
    }

    /// Registry facts as the edge would give them: node's tags and two digests.
    fn registry_world() -> (Knowledge, crate::registry::RegistryFacts) {
        let catalog = crate::catalog::parse_catalog(
            "catalog.toml",
            "revision = \"t\"\n[[image]]\nname = \"node\"\napproved = [\"20*\", \"22*\", \"24*\"]\ntags = [\"24.0.0-alpine\"]\npreferred-variant = \"alpine\"\n",
        )
        .unwrap();
        let knowledge = Knowledge {
            catalog,
            advisories: AdvisoryDb::default(),
            policy: OrgPolicy::default(),
        };
        let mut facts = crate::registry::RegistryFacts::default();
        let node = facts.repository_mut("node");
        node.tags = Some(
            [
                "20.18.0-alpine",
                "22.11.0-alpine",
                "22.12.0-alpine",
                "22.12.0-bookworm-slim",
                "23.1.0-alpine",
                "latest",
            ]
            .map(String::from)
            .to_vec(),
        );
        node.digests.insert(
            "22.12.0-alpine".into(),
            format!("sha256:{}", "a".repeat(64)),
        );
        (knowledge, facts)
    }

    /// Each finding's rules (its own and those folded into it) with its fix target.
    fn fixes(report: &Report) -> Vec<(Vec<RuleId>, String)> {
        report
            .findings
            .iter()
            .map(|f| {
                let mut rules = vec![f.rule];
                rules.extend(f.also.iter().map(|r| r.rule));
                (
                    rules,
                    f.fix.as_ref().map(|x| x.to.clone()).unwrap_or_default(),
                )
            })
            .collect()
    }

    fn fixed_to(report: &Report, rule: RuleId) -> Option<String> {
        fixes(report)
            .into_iter()
            .find(|(rules, to)| rules.contains(&rule) && !to.is_empty())
            .map(|(_, to)| to)
    }

    #[test]
    fn latest_moves_to_the_newest_approved_registry_tag_and_pins_it() {
        let (knowledge, facts) = registry_world();
        let snapshot = RepoSnapshot::from_files([("Dockerfile", "FROM node:latest\nUSER node\n")]);
        let today = date("2026-12-01");
        // Offline: the catalog's hand list (a tag the registry does not have), no pin.
        let offline = run(&snapshot, &knowledge, today, &RunOptions::default()).report;
        assert_eq!(
            fixed_to(&offline, RuleId::ImageTagNotPinned).as_deref(),
            Some("node:24.0.0-alpine"),
            "{:?}",
            fixes(&offline)
        );
        assert_eq!(fixed_to(&offline, RuleId::ImageDigestNotPinned), None);
        // With facts: the newest approved tag of the preferred variant that exists (23 is not
        // approved, 24 is not in the registry), pinned to its digest, one fix for all three.
        let options = RunOptions {
            registry: Some(std::sync::Arc::new(facts.clone())),
            ..RunOptions::default()
        };
        let report = run(&snapshot, &knowledge, today, &options).report;
        let pinned = format!("node:22.12.0-alpine@sha256:{}", "a".repeat(64));
        let all = fixes(&report);
        assert!(
            all.iter().any(|(rules, to)| *to == pinned
                && rules.contains(&RuleId::ImageTagNotPinned)
                && rules.contains(&RuleId::ImageDigestNotPinned)),
            "{all:?}"
        );
        // The org turns pinning off: the same tag, no digest.
        let options = RunOptions {
            no_digest_pins: true,
            ..options
        };
        let report = run(&snapshot, &knowledge, today, &options).report;
        assert_eq!(
            fixed_to(&report, RuleId::ImageTagNotPinned).as_deref(),
            Some("node:22.12.0-alpine"),
            "{:?}",
            fixes(&report)
        );
        assert_eq!(fixed_to(&report, RuleId::ImageDigestNotPinned), None);
    }
}
