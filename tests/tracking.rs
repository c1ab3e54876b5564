//! The tracking issue over real scans (`pipeline::run` on snapshots made here, with the example
//! catalog and advisories): which blockers it lists, whom it assigns, and the body it renders.

use chrono::NaiveDate;
use patchwright::catalog::{AdvisoryDb, load_catalog, read_json_records};
use patchwright::model::{Finding, Level, Severity};
use patchwright::owners::{self, CodeOwners};
use patchwright::pipeline::{Knowledge, RunOptions, run};
use patchwright::policy::OrgPolicy;
use patchwright::report::Report;
use patchwright::snapshot::RepoSnapshot;
use patchwright::tracking::{self, TrackingIssue};
use std::path::Path;

const SLUG: &str = "patchwright";

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
}

/// The example knowledge plus this test's advisory with no fixed version, under a policy whose
/// default tier blocks from medium severity (that advisory is rated moderate).
fn knowledge() -> Knowledge {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut records = Vec::new();
    for dir in ["fixtures/advisories", "fixtures/tracking/advisories"] {
        let (mut found, errors) = read_json_records(&root.join(dir));
        assert!(errors.is_empty(), "{errors:?}");
        records.append(&mut found);
    }
    let (advisories, errors) = AdvisoryDb::from_json_records(&records);
    assert!(errors.is_empty(), "{errors:?}");
    let mut policy = OrgPolicy::default();
    policy
        .tiers
        .get_mut("internet-facing")
        .expect("the default policy has this tier")
        .block_severity = Severity::Medium;
    Knowledge {
        catalog: load_catalog(&root.join("fixtures/catalog.example.toml")).unwrap(),
        advisories,
        policy,
    }
}

/// A package-lock.json (v3) holding `packages`, each a direct dependency.
fn package_lock(packages: &[(&str, &str)]) -> String {
    let deps: Vec<String> = packages
        .iter()
        .map(|(name, version)| format!("        \"{name}\": \"{version}\""))
        .collect();
    let entries: Vec<String> = packages
        .iter()
        .map(|(name, version)| {
            format!(
                "    \"node_modules/{name}\": {{\n      \"version\": \"{version}\",\n      \"resolved\": \"https://registry.npmjs.org/{name}/-/{name}-{version}.tgz\"\n    }}"
            )
        })
        .collect();
    format!(
        "{{\n  \"name\": \"app\",\n  \"lockfileVersion\": 3,\n  \"requires\": true,\n  \"packages\": {{\n    \"\": {{\n      \"name\": \"app\",\n      \"dependencies\": {{\n{}\n      }}\n    }},\n{}\n  }}\n}}\n",
        deps.join(",\n"),
        entries.join(",\n")
    )
}

const CODEOWNERS: &str = "\
# Everything defaults to the platform team.
* @acme/platform
/services/api/ @alice @acme/api
/services/web/ @bob
# Nobody owns the legacy tree any more.
/legacy/
";

const REPO_CONFIG: &str = r#"
tier = "internet-facing"

[[exception]]
id = "GHSA-p8p7-x288-28g6"
path = "legacy/**"
reason = "the legacy importer only fetches from a fixed internal host"
owner = "@acme/platform"
expires = 2027-03-31
"#;

/// A repository with: urllib3 pinned below a patch release (fixable in place), Request with no
/// fixed release (twice: once under an exception), minimist whose only fix is a major upgrade,
/// and lodash whose patch release needs npm to rewrite the lockfile (no fix PR carries that).
fn snapshot() -> RepoSnapshot {
    RepoSnapshot::from_files([
        (".github/CODEOWNERS".to_string(), CODEOWNERS.to_string()),
        (
            ".github/patchwright.toml".to_string(),
            REPO_CONFIG.to_string(),
        ),
        (
            "services/api/requirements.txt".to_string(),
            "urllib3==1.26.5\n".to_string(),
        ),
        (
            "services/web/package-lock.json".to_string(),
            package_lock(&[("lodash", "4.17.20"), ("request", "2.88.2")]),
        ),
        (
            "legacy/package-lock.json".to_string(),
            package_lock(&[("minimist", "0.0.8"), ("request", "2.88.2")]),
        ),
    ])
}

fn scan(snapshot: &RepoSnapshot) -> Report {
    run(snapshot, &knowledge(), today(), &RunOptions::default()).report
}

fn codeowners(snapshot: &RepoSnapshot) -> CodeOwners {
    let (path, text) = owners::locate(&snapshot.files).expect("the snapshot has a CODEOWNERS");
    let (co, errors) = owners::parse(path, text);
    assert!(errors.is_empty(), "{errors:?}");
    co
}

fn fallback() -> Vec<String> {
    vec!["@acme/security".to_string(), "@carol".to_string()]
}

/// The Request finding in the web service was first seen in August; the rest are new today.
fn first_seen(f: &Finding) -> Option<NaiveDate> {
    (f.package.as_deref() == Some("request")).then(|| NaiveDate::from_ymd_opt(2026, 8, 1).unwrap())
}

fn issue(snapshot: &RepoSnapshot, report: &Report) -> Option<TrackingIssue> {
    let co = codeowners(snapshot);
    tracking::tracking_issue(
        report,
        &first_seen,
        &knowledge().policy,
        Some(&co),
        &fallback(),
        today(),
        SLUG,
    )
}

fn describe(f: &Finding) -> String {
    format!("{} {} {}", f.file, f.subject, f.level)
}

#[test]
fn only_blockers_no_fix_pr_will_clear_are_tracked() {
    let report = scan(&snapshot());
    assert!(report.errors.is_empty(), "{:?}", report.errors);

    // The scan does find what the tracking issue leaves out, so leaving it out is a decision.
    let urllib3 = report
        .findings
        .iter()
        .find(|f| f.package.as_deref() == Some("urllib3"))
        .expect("urllib3 is vulnerable");
    assert_eq!(urllib3.level, Level::Blocker);
    assert!(urllib3.fix.as_ref().is_some_and(tracking::is_automatic));
    let excepted = report
        .findings
        .iter()
        .find(|f| f.file == "legacy/package-lock.json" && f.package.as_deref() == Some("request"))
        .expect("Request is vulnerable in legacy too");
    assert_eq!(excepted.level, Level::Blocker);
    assert!(excepted.exception.is_some());

    let tracked: Vec<String> = tracking::untracked_blockers(&report)
        .into_iter()
        .map(describe)
        .collect();
    assert_eq!(
        tracked,
        [
            "legacy/package-lock.json minimist@0.0.8 blocker",
            "services/web/package-lock.json lodash@4.17.20 blocker",
            "services/web/package-lock.json request@2.88.2 blocker",
        ]
    );
}

#[test]
fn the_issue_lists_them_by_due_date_and_assigns_their_owners() {
    let snapshot = snapshot();
    let report = scan(&snapshot);
    let issue = issue(&snapshot, &report).expect("three blockers to track");
    assert_eq!(issue.title, "Security blockers without an automatic fix");
    // Request: medium, 90 days from 2026-08-01 = 2026-10-30, so 24 days late on 2026-11-23.
    assert!(
        issue.body.contains("**overdue by 24 days**"),
        "{}",
        issue.body
    );
    // Then by due date: minimist is critical (7 days), lodash high (30 days), both new today.
    let order: Vec<usize> = ["`request@2.88.2`", "`minimist@0.0.8`", "`lodash@4.17.20`"]
        .iter()
        .map(|s| issue.body.find(s).unwrap())
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{}", issue.body);

    // @bob from CODEOWNERS for the web service; the fallback for the un-owned legacy tree.
    assert_eq!(issue.assignment.users, ["bob", "carol"]);
    assert_eq!(issue.assignment.teams, ["security"]);
    assert_eq!(issue.assignment.mentions, ["@acme/security"]);
    insta::assert_snapshot!(issue.body);

    // Same input, same bytes: the caller skips the update.
    assert_eq!(Some(issue), self::issue(&snapshot, &report));
}

#[test]
fn no_issue_when_every_blocker_has_a_fix_pr() {
    let mut snapshot = snapshot();
    snapshot.files.remove("services/web/package-lock.json");
    snapshot.files.remove("legacy/package-lock.json");
    let report = scan(&snapshot);
    assert!(report.has_blockers(), "urllib3 still blocks");
    assert_eq!(issue(&snapshot, &report), None);
}

#[test]
fn fix_prs_request_the_files_owners_but_not_their_author() {
    let snapshot = snapshot();
    let co = codeowners(&snapshot);
    let a = tracking::reviewers_for_files(
        Some(&co),
        &["services/api/requirements.txt"],
        &fallback(),
        "alice",
    );
    assert!(a.users.is_empty(), "{a:?}");
    assert_eq!(a.teams, ["api"]);
    let a = tracking::reviewers_for_files(
        Some(&co),
        &[
            "services/api/requirements.txt",
            "legacy/requirements.txt",
            "README.md",
        ],
        &fallback(),
        "patchwright[bot]",
    );
    assert_eq!(a.users, ["alice", "carol"]);
    assert_eq!(a.teams, ["api", "security", "platform"]);
}
