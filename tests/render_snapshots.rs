//! Rendered output of the example project, reviewed by eye: the terminal report and the risk
//! statement a fix carries.

use patchwright::catalog::{AdvisoryDb, load_catalog, read_json_records};
use patchwright::forge::local::read_snapshot;
use patchwright::model::Finding;
use patchwright::pipeline::{Knowledge, RunOptions, run};
use patchwright::policy::OrgPolicy;
use patchwright::{remedy, render};
use std::path::Path;

fn knowledge() -> Knowledge {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let catalog = load_catalog(&root.join("fixtures/catalog.example.toml")).unwrap();
    let (records, errors) = read_json_records(&root.join("fixtures/advisories"));
    assert!(errors.is_empty());
    let (advisories, errors) = AdvisoryDb::from_json_records(&records);
    assert!(errors.is_empty());
    Knowledge {
        catalog,
        advisories,
        policy: OrgPolicy::default(),
    }
}

#[test]
fn example_text_report() {
    let snapshot = read_snapshot(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/demo"),
        &[],
    )
    .unwrap();
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    let outcome = run(&snapshot, &knowledge(), today, &RunOptions::default());
    insta::assert_snapshot!(render::text::report(&outcome.report));
}

#[test]
fn example_risk_statement() {
    let snapshot = read_snapshot(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/demo"),
        &[],
    )
    .unwrap();
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    let knowledge = knowledge();
    let before = run(&snapshot, &knowledge, today, &RunOptions::default());
    let edits = remedy::collect_edits(&before.report.findings);
    let after_snapshot = remedy::apply(&snapshot, &edits).unwrap();
    let after = run(&after_snapshot, &knowledge, today, &RunOptions::default());
    let verification = remedy::verify(&before.report, &after.report);
    assert!(verification.is_clean(), "{verification:?}");
    let fixed: Vec<&Finding> = before
        .report
        .findings
        .iter()
        .filter(|f| f.fix.as_ref().is_some_and(|x| !x.edits.is_empty()))
        .collect();
    let body = render::templates::fix_body(
        "Fix 8 findings in examples/demo",
        &fixed,
        &before.report,
        &after.report,
        &verification,
        &[
            "@patchwright rescan".to_string(),
            "@patchwright explain <id>".to_string(),
        ],
    );
    insta::assert_snapshot!(body);
}

#[test]
fn example_check_run() {
    use patchwright::forge::hosted::{AnnotationLevel, CheckConclusion};
    use patchwright::render::check::{PullAction, PullNote, check_run};
    let snapshot = read_snapshot(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/demo"),
        &[],
    )
    .unwrap();
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    let report = run(&snapshot, &knowledge(), today, &RunOptions::default()).report;
    let pulls = [PullNote {
        number: 7,
        title: "Update urllib3 1.26.5 → 1.26.18 (fixes PYSEC-2023-192, PYSEC-2023-212)".into(),
        action: PullAction::Opened,
    }];
    let check = check_run(
        &report,
        "0123456789abcdef0123456789abcdef01234567",
        &pulls,
        &["Update requests 2.30.0 → 2.31.0 (fixes PYSEC-2023-74)".to_string()],
        "patchwright",
    );
    assert_eq!(check.conclusion, CheckConclusion::Failure);
    assert_eq!(check.title, "6 blocker(s), 3 warning(s)");
    // Every active finding is annotated at its line; the excepted one is not.
    assert_eq!(check.annotations.len(), report.findings.len() - 1);
    let first = &check.annotations[0];
    assert_eq!(
        (first.level, first.path.as_str(), first.start_line),
        (AnnotationLevel::Failure, "web/package-lock.json", 20)
    );
    insta::assert_snapshot!(check.summary);
}

/// The example with exceptions granted in comments (one active, one expired, one matching
/// nothing) and ignored updates: every one is listed with who, when, where and its state.
#[test]
fn example_with_grants_and_ignores() {
    use patchwright::policy::{Exception, IgnoreRule, IgnoreScope};
    let snapshot = read_snapshot(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/demo"),
        &[],
    )
    .unwrap();
    let day = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    let grant = |id: &str, until: &str| {
        Exception::granted(
            id,
            "only reachable from the admin network",
            day(until),
            "alice",
            day("2026-11-02"),
            "acme/shop#12 comment 345",
        )
    };
    let options = RunOptions {
        accepted_risks: vec![
            grant("GHSA-xvch-5gv4-984h", "2026-12-31"),
            grant("PYSEC-2023-74", "2026-11-22"),
            grant("CVE-2099-0001", "2026-12-01"),
        ],
        ignores: vec![IgnoreRule {
            name: "node".into(),
            scope: IgnoreScope::Major,
            created_by: "bob".into(),
            created_at: day("2026-11-03"),
            source: "acme/shop#14 comment 401".into(),
        }],
        ..RunOptions::default()
    };
    let report = run(&snapshot, &knowledge(), day("2026-11-23"), &options).report;
    insta::assert_snapshot!("grants_and_ignores_text", render::text::report(&report));
    let no_pulls: [patchwright::render::check::PullNote; 0] = [];
    insta::assert_snapshot!(
        "grants_and_ignores_check_summary",
        render::templates::check_summary_for(&report, &no_pulls, &[], Some("patchwright"))
    );
}

/// The SARIF document of the example project, byte for byte: it is written as it is serialised
/// (not built whole first), and this pins that the bytes stay those serde-sarif's own types
/// gave (property order, indentation, suppressions, columns).
#[test]
fn example_sarif_report() {
    let snapshot = read_snapshot(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/demo"),
        &[],
    )
    .unwrap();
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    let outcome = run(&snapshot, &knowledge(), today, &RunOptions::default());
    let sarif = render::render(&outcome.report, render::Format::Sarif);
    let mut streamed = Vec::new();
    render::write(&outcome.report, render::Format::Sarif, &mut streamed).unwrap();
    assert_eq!(
        String::from_utf8(streamed).unwrap(),
        sarif,
        "streamed and built SARIF differ"
    );
    insta::assert_snapshot!(sarif);
}
