//! Images named in Compose, Kubernetes, Helm values and workflow files go through the same image
//! rules and the same minimal edits as a `FROM`: the fix changes only the tag's bytes, and the
//! quotes, comments and anchors around it stay. Lockfiles of the new formats get findings from
//! OSV records, and their fix names the package manager's command (re-locks for these formats are
//! not run).

use std::path::Path;

use patchwright::catalog::{AdvisoryDb, load_catalog, read_json_records};
use patchwright::model::{Finding, RuleId};
use patchwright::pipeline::{Knowledge, RunOptions, run};
use patchwright::policy::OrgPolicy;
use patchwright::remedy::apply_edits;
use patchwright::snapshot::RepoSnapshot;

fn knowledge(advisories: &str) -> Knowledge {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (records, errors) = read_json_records(&root.join(advisories));
    assert!(errors.is_empty(), "{errors:?}");
    let (advisories, errors) = AdvisoryDb::from_json_records(&records);
    assert!(errors.is_empty(), "{errors:?}");
    Knowledge {
        catalog: load_catalog(&root.join("fixtures/catalog.example.toml")).expect("catalog"),
        advisories,
        policy: OrgPolicy::default(),
    }
}

fn today() -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2026, 11, 23).expect("a date")
}

const COMPOSE: &str = "x-node: &node \"node:16.20.2-alpine\" # the shared runtime\nservices:\n  web:\n    image: *node\n  worker:\n    image: node:16.20.2-alpine   # same, written out\n";
const VALUES: &str = "image:\n  repository: python\n  tag: \"3.9.18-slim\"   # CI bumps this\n  pullPolicy: IfNotPresent\n";
const DEPLOY: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  template:\n    spec:\n      containers:\n        - name: api\n          image: 'python:3.9.18-slim'\n";
const WORKFLOW: &str = "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    container: node:16.20.2-alpine\n    steps:\n      - run: npm test\n";

fn eol_findings<'r>(findings: &'r [Finding], file: &str) -> Vec<&'r Finding> {
    findings
        .iter()
        .filter(|f| f.file == file && f.rule == RuleId::EolBaseImage)
        .collect()
}

#[test]
fn deployed_images_are_checked_and_fixed_in_place() {
    let snapshot = RepoSnapshot::from_files([
        ("compose.yaml", COMPOSE),
        ("chart/values.yaml", VALUES),
        ("k8s/api.yaml", DEPLOY),
        (".github/workflows/ci.yml", WORKFLOW),
    ]);
    let knowledge = knowledge("fixtures/advisories");
    let report = run(&snapshot, &knowledge, today(), &RunOptions::default()).report;

    for (file, source, count) in [
        ("compose.yaml", COMPOSE, 2),
        ("chart/values.yaml", VALUES, 1),
        ("k8s/api.yaml", DEPLOY, 1),
        (".github/workflows/ci.yml", WORKFLOW, 1),
    ] {
        let found = eol_findings(&report.findings, file);
        assert_eq!(found.len(), count, "{file}: {:#?}", report.findings);
        for finding in found {
            let fix = finding
                .fix
                .as_ref()
                .unwrap_or_else(|| panic!("{file}: no fix: {:?}", finding.no_fix_reason));
            let edited = apply_edits(source, &fix.edits).expect("edits apply");
            // Only the tag's bytes changed: putting the old tag back gives the file again.
            let old_tag = fix.from.rsplit(':').next().expect("a tag");
            let new_tag = fix.to.rsplit(':').next().expect("a tag");
            assert_ne!(old_tag, new_tag);
            for edit in &fix.edits {
                assert!(
                    old_tag.contains(&source[edit.span.start..edit.span.end]),
                    "{file}: the edit touches `{}`",
                    &source[edit.span.start..edit.span.end]
                );
            }
            assert_eq!(edited.replacen(new_tag, old_tag, 1), source, "{file}");
        }
    }
    // The anchor, its quotes and the comments are kept; the alias still points at the anchor.
    let compose = eol_findings(&report.findings, "compose.yaml");
    let anchored = compose
        .iter()
        .find(|f| f.line == 1)
        .expect("the anchored reference is reported at the anchor");
    let fix = anchored.fix.as_ref().expect("a fix");
    let edited = apply_edits(COMPOSE, &fix.edits).expect("edits apply");
    assert!(edited.starts_with("x-node: &node \"node:"), "{edited}");
    assert!(edited.contains("\" # the shared runtime\n"), "{edited}");
    assert!(edited.contains("image: *node\n"), "{edited}");
    // The Helm block's tag changes inside its quotes; the repository key is untouched.
    let values = eol_findings(&report.findings, "chart/values.yaml");
    let edited = apply_edits(VALUES, &values[0].fix.as_ref().expect("a fix").edits).expect("apply");
    assert!(
        edited.starts_with("image:\n  repository: python\n  tag: \"3.14"),
        "{edited}"
    );
    assert!(edited.contains("-slim\"   # CI bumps this\n"), "{edited}");
}

#[test]
fn templated_images_are_notes_not_guesses() {
    let compose = "services:\n  app:\n    image: ghcr.io/acme/app:${TAG}\n";
    let snapshot = RepoSnapshot::from_files([("compose.yaml", compose)]);
    let outcome = run(
        &snapshot,
        &knowledge("fixtures/advisories"),
        today(),
        &RunOptions::default(),
    );
    assert!(
        outcome
            .report
            .findings
            .iter()
            .all(|f| f.file != "compose.yaml"),
        "{:#?}",
        outcome.report.findings
    );
    let notes: Vec<_> = outcome
        .manifests
        .iter()
        .flat_map(|m| &m.errors)
        .filter(|e| e.file == "compose.yaml")
        .collect();
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(notes[0].is_note());
    assert_eq!(notes[0].line, 3);
}

#[test]
fn a_vulnerable_gem_is_found_and_its_fix_names_bundler() {
    let lock = "GEM\n  remote: https://rubygems.org/\n  specs:\n    google-protobuf (4.27.4-x86_64-linux)\n      bigdecimal\n      rake (>= 13)\n    google-protobuf (4.27.4-arm64-darwin)\n\nPLATFORMS\n  x86_64-linux\n\nDEPENDENCIES\n  google-protobuf (~> 4.27)\n\nBUNDLED WITH\n   2.5.3\n";
    let snapshot = RepoSnapshot::from_files([("Gemfile.lock", lock)]);
    let report = run(
        &snapshot,
        &knowledge("fixtures/reach/advisories"),
        today(),
        &RunOptions::default(),
    )
    .report;
    let finding = report
        .findings
        .iter()
        .find(|f| {
            f.rule == RuleId::VulnerableDependency
                || f.also
                    .iter()
                    .any(|r| r.rule == RuleId::VulnerableDependency)
        })
        .unwrap_or_else(|| panic!("{:#?}", report.findings));
    assert_eq!(finding.package.as_deref(), Some("google-protobuf"));
    assert_eq!(finding.line, 4);
    let advisories: Vec<&String> = finding
        .advisories
        .iter()
        .chain(finding.also.iter().flat_map(|r| &r.advisories))
        .collect();
    assert!(
        advisories.iter().any(|a| *a == "GHSA-735f-pc8j-v9w8"),
        "{advisories:?}"
    );
    let text = format!("{:?} {:?}", finding.fix, finding.no_fix_reason);
    assert!(
        text.contains("bundle update --conservative google-protobuf"),
        "{text}"
    );
}
