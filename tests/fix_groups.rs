//! Fix groups on the example project: one group per package or image, most urgent first, each
//! with the files as they will be committed.

use patchwright::catalog::{AdvisoryDb, load_catalog, read_json_records};
use patchwright::forge::local::read_snapshot;
use patchwright::model::Level;
use patchwright::pipeline::{Knowledge, RunOptions, run};
use patchwright::policy::OrgPolicy;
use patchwright::remedy::groups::plan_groups;
use std::path::Path;

#[test]
fn example_project_groups() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let catalog = load_catalog(&root.join("fixtures/catalog.example.toml")).unwrap();
    let (records, _) = read_json_records(&root.join("fixtures/advisories"));
    let knowledge = Knowledge {
        catalog,
        advisories: AdvisoryDb::from_json_records(&records).0,
        policy: OrgPolicy::default(),
    };
    let snapshot = read_snapshot(&root.join("examples/demo"), &[]).unwrap();
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    let report = run(&snapshot, &knowledge, today, &RunOptions::default()).report;
    let groups = plan_groups(&report, &snapshot);
    let summary: Vec<(&str, &str, Level)> = groups
        .iter()
        .map(|g| (g.branch.as_str(), g.fix_key.as_str(), g.level))
        .collect();
    assert_eq!(
        summary,
        [
            (
                "patchwright/go/golang.org-x-text",
                "go/golang.org/x/text@v0.3.8",
                Level::Blocker
            ),
            (
                "patchwright/pypi/urllib3",
                "pypi/urllib3@1.26.18",
                Level::Blocker
            ),
            (
                "patchwright/docker/node",
                "docker/node@node:22-alpine",
                Level::Blocker
            ),
            (
                "patchwright/docker/python",
                "docker/python@python:3.14-alpine",
                Level::Blocker
            ),
            (
                "patchwright/pypi/django",
                "pypi/Django@4.2.3",
                Level::Warning
            ),
            (
                "patchwright/pypi/requests",
                "pypi/requests@2.31.0",
                Level::Warning
            ),
        ]
    );
    let urllib3 = &groups[1];
    assert_eq!(
        urllib3.title,
        "Update urllib3 1.26.5 → 1.26.18 (fixes PYSEC-2023-192, PYSEC-2023-212)"
    );
    assert_eq!(urllib3.files.len(), 1);
    let (path, content) = &urllib3.files[0];
    assert_eq!(path, "api/requirements.txt");
    // Only this group's change: the other pins in the same file stay for their own PRs.
    assert!(
        content.contains("urllib3==1.26.18") && content.contains("Django==4.2.1"),
        "{content}"
    );
    let node = &groups[2];
    assert_eq!(
        node.title,
        "Update node base image to 22-alpine (eol-base-image)"
    );
    assert_eq!(node.files[0].0, "web/Dockerfile");
    assert!(node.files[0].1.starts_with("# syntax=docker/dockerfile:1.7\n# The web front end: built with Node, served by nginx.\nARG NODE_VERSION=22\n"));
}

/// A re-lock an open fix PR already carries keeps its group (same branch, same fix key) even
/// though its fix has no edits this time; nothing else changes.
#[test]
fn carried_relocks_keep_their_group_and_key() {
    use patchwright::remedy::groups::{pending_fix_keys, plan_groups_carrying};
    use std::collections::BTreeSet;
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (records, _) = read_json_records(&root.join("fixtures/advisories"));
    let knowledge = Knowledge {
        catalog: load_catalog(&root.join("fixtures/catalog.example.toml")).unwrap(),
        advisories: AdvisoryDb::from_json_records(&records).0,
        policy: OrgPolicy::default(),
    };
    let snapshot = read_snapshot(&root.join("examples/demo"), &[]).unwrap();
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    let report = run(&snapshot, &knowledge, today, &RunOptions::default()).report;
    let plain = plan_groups(&report, &snapshot);
    assert!(!plain.iter().any(|g| g.branch == "patchwright/npm/lodash"));

    let pending = pending_fix_keys(&report);
    for group in &plain {
        assert_eq!(pending.get(&group.branch), Some(&group.fix_key));
    }
    let lodash_key = pending
        .get("patchwright/npm/lodash")
        .expect("lodash needs a re-lock")
        .clone();

    let carried = BTreeSet::from(["patchwright/npm/lodash".to_string()]);
    let groups = plan_groups_carrying(&report, &snapshot, &carried);
    let lodash = groups
        .iter()
        .find(|g| g.branch == "patchwright/npm/lodash")
        .expect("the carried group is planned");
    assert_eq!(lodash.fix_key, lodash_key);
    assert!(lodash.files.is_empty());
    let others: Vec<_> = groups
        .iter()
        .filter(|g| g.branch != "patchwright/npm/lodash")
        .cloned()
        .collect();
    assert_eq!(others, plain);
}
