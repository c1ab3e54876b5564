//! `explain <id>`: an advisory or rule in detail against a real scan of the example project.

use patchwright::catalog::{AdvisoryDb, load_catalog, read_json_records};
use patchwright::commands::explain::{explain_advisory, explain_rule};
use patchwright::model::{Finding, RuleId};
use patchwright::pipeline::{self, Knowledge, RunOptions};
use patchwright::policy::OrgPolicy;
use std::path::Path;

fn knowledge() -> Knowledge {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (records, _) = read_json_records(&root.join("fixtures/advisories"));
    Knowledge {
        catalog: load_catalog(&root.join("fixtures/catalog.example.toml")).unwrap(),
        advisories: AdvisoryDb::from_json_records(&records).0,
        policy: OrgPolicy::default(),
    }
}

fn demo_findings(k: &Knowledge) -> Vec<Finding> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/demo");
    let snapshot = patchwright::forge::local::read_snapshot(&root, &[]).unwrap();
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    pipeline::run(&snapshot, k, today, &RunOptions::default())
        .report
        .findings
}

#[test]
fn an_advisory_with_merged_records_lists_each_interval_once_and_where_it_matches() {
    let k = knowledge();
    let findings = demo_findings(&k);
    // Asked for by an alias: the merged record answers.
    let advisory = k.advisories.get("CVE-2023-43804").expect("in the fixtures");
    let text = explain_advisory(advisory, &findings, "`main` at 0123456");
    assert_eq!(text.matches("fixed in **1.26.17**").count(), 1, "{text}");
    assert!(
        text.contains("`api/requirements.txt:4` urllib3 1.26.5"),
        "{text}"
    );
    insta::assert_snapshot!("explain_urllib3", text);
}

#[test]
fn a_rule_says_its_default_level_and_its_places() {
    let k = knowledge();
    let findings = demo_findings(&k);
    let text = explain_rule(RuleId::RunsAsRoot, &findings, "`main` at 0123456");
    assert!(text.contains("Default level: **warning**"), "{text}");
    assert!(text.contains("`api/Dockerfile:1`"), "{text}");
    let none = explain_rule(RuleId::DependencyBanned, &[], "`main` at 0123456");
    assert!(
        none.contains("It matches nothing in `main` at 0123456."),
        "{none}"
    );
}
