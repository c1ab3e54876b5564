use super::*;
use crate::model::{AdvisoryRef, AppliedException, Edit, Location, RuleId, Severity, Span};
use crate::owners;
use crate::policy::OrgPolicy;
use crate::report::{Provenance, Summary};
use chrono::NaiveDate;

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn blocker(file: &str, line: u32, package: &str, version: &str, advisory: &str) -> Finding {
    let mut f = Finding::new(
        RuleId::VulnerableDependency,
        Location::new(file, line, 1),
        format!("{package}@{version}"),
        format!("{package} {version} is affected by {advisory}"),
    );
    f.level = Level::Blocker;
    f.package = Some(package.to_string());
    f.version = Some(version.to_string());
    f.advisories = vec![advisory.to_string()];
    f.advisory_details = vec![AdvisoryRef {
        id: advisory.to_string(),
        aliases: Vec::new(),
        summary: String::new(),
        severity: Severity::High,
        cvss_score: None,
        cvss_vector: None,
        fixed: Vec::new(),
        url: None,
    }];
    f.severity = Some(Severity::High);
    f.no_fix_reason = Some(format!(
        "no version of {package} is known to fix {advisory}"
    ));
    f
}

fn fix(from: &str, to: &str, change: ChangeKind, edited: bool) -> Fix {
    Fix {
        from: from.to_string(),
        to: to.to_string(),
        change,
        edits: if edited {
            vec![Edit {
                file: "requirements.txt".to_string(),
                span: Span::new(0, from.len()),
                replacement: to.to_string(),
            }]
        } else {
            Vec::new()
        },
        relock: (!edited).then(|| format!("npm install pkg@{to}")),
        clears: Vec::new(),
        notes: Vec::new(),
    }
}

fn with_fix(mut f: Finding, fix: Fix) -> Finding {
    f.no_fix_reason = None;
    f.fix = Some(fix);
    f
}

fn report(findings: Vec<Finding>) -> Report {
    Report {
        inventory: Vec::new(),
        findings,
        errors: Vec::new(),
        summary: Summary::default(),
        provenance: Provenance::default(),
        exceptions: Vec::new(),
        ignored_updates: Vec::new(),
    }
}

fn subjects(findings: &[&Finding]) -> Vec<String> {
    findings.iter().map(|f| f.subject.clone()).collect()
}

#[test]
fn blockers_without_an_automatic_fix_are_tracked_and_the_rest_are_not() {
    let none = blocker("a/requirements.txt", 1, "nofix", "1.0", "GHSA-0001");
    let patch = with_fix(
        blocker("a/requirements.txt", 2, "patched", "1.0.0", "GHSA-0002"),
        fix("1.0.0", "1.0.1", ChangeKind::Patch, true),
    );
    let major = with_fix(
        blocker("a/requirements.txt", 3, "major", "1.0.0", "GHSA-0003"),
        fix("1.0.0", "2.0.0", ChangeKind::Major, true),
    );
    let relock = with_fix(
        blocker("a/package-lock.json", 4, "relocked", "1.0.0", "GHSA-0004"),
        fix("1.0.0", "1.0.1", ChangeKind::Patch, false),
    );
    let mut warning = blocker("a/requirements.txt", 5, "warned", "1.0", "GHSA-0005");
    warning.level = Level::Warning;
    let mut excepted = blocker("a/requirements.txt", 6, "excepted", "1.0", "GHSA-0006");
    excepted.exception = Some(AppliedException {
        id: "GHSA-0006".to_string(),
        reason: "not reachable".to_string(),
        owner: "@alice".to_string(),
        expires: day("2027-01-01"),
        origin: crate::model::ExceptionOrigin::Config {
            location: Location::new(".github/patchwright.toml", 3, 1),
        },
    });
    let r = report(vec![none, patch, major, relock, warning, excepted]);
    assert_eq!(
        subjects(&untracked_blockers(&r)),
        ["nofix@1.0", "major@1.0.0", "relocked@1.0.0"]
    );
    let gaps: Vec<&str> = untracked_blockers(&r)
        .into_iter()
        .map(|f| match fix_gap(f) {
            Some(FixGap::NoFix) => "none",
            Some(FixGap::Major(_)) => "major",
            Some(FixGap::Relock(_)) => "relock",
            None => "automatic",
        })
        .collect();
    assert_eq!(gaps, ["none", "major", "relock"]);
}

#[test]
fn nothing_to_track_means_no_issue() {
    let patch = with_fix(
        blocker("requirements.txt", 2, "patched", "1.0.0", "GHSA-0002"),
        fix("1.0.0", "1.0.1", ChangeKind::Patch, true),
    );
    let issue = tracking_issue(
        &report(vec![patch]),
        &|_| None,
        &OrgPolicy::default(),
        None,
        &[],
        day("2026-11-23"),
        "patchwright",
    );
    assert_eq!(issue, None);
}

fn issue_for(
    findings: Vec<Finding>,
    seen: &dyn Fn(&Finding) -> Option<NaiveDate>,
) -> TrackingIssue {
    let (co, errors) = owners::parse(
        ".github/CODEOWNERS",
        "* @acme/security\n/api/ @alice @acme/api patchwright[bot]@users.noreply.github.com\n/legacy/\n",
    );
    assert!(errors.is_empty(), "{errors:?}");
    tracking_issue(
        &report(findings),
        seen,
        &OrgPolicy::default(),
        Some(&co),
        &["@carol".to_string()],
        day("2026-11-23"),
        "@patchwright",
    )
    .expect("something to track")
}

#[test]
fn the_list_is_ordered_by_due_date_with_overdue_first() {
    // High severity: 30 days under the default policy.
    let late = blocker("api/requirements.txt", 9, "late", "1.0", "GHSA-late");
    let today = blocker("legacy/go.mod", 3, "today", "1.0", "GHSA-today");
    let mut critical_new = blocker("web/package-lock.json", 7, "critical", "1.0", "GHSA-crit");
    critical_new.severity = Some(Severity::Critical);
    let fresh = blocker("web/package-lock.json", 2, "fresh", "1.0", "GHSA-fresh");
    let seen = |f: &Finding| match f.package.as_deref() {
        Some("late") => Some(day("2026-10-01")),
        Some("today") => Some(day("2026-10-24")),
        _ => None,
    };
    let issue = issue_for(vec![fresh, critical_new, today, late], &seen);
    let body = &issue.body;
    assert!(body.starts_with(MARKER), "{body}");
    assert_eq!(issue.title, TITLE);

    let order: Vec<usize> = ["`late@1.0`", "`today@1.0`", "`critical@1.0`", "`fresh@1.0`"]
        .iter()
        .map(|s| {
            body.find(s)
                .unwrap_or_else(|| panic!("{s} missing:\n{body}"))
        })
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}\n{body}");
    assert!(
        body.contains("2026-10-31, **overdue by 23 days**"),
        "{body}"
    );
    assert!(body.contains("2026-11-23, **due today**"), "{body}");
    // Unknown first-seen dates start the clock today: critical is 7 days, high 30.
    assert!(
        body.contains("2026-11-30 (first seen 2026-11-23; critical severity: 7 days)"),
        "{body}"
    );
    assert!(
        body.contains("2026-12-23 (first seen 2026-11-23; high severity: 30 days)"),
        "{body}"
    );
    assert!(body.contains("**4 security blockers**"), "{body}");
    assert!(body.contains("**1 is past its SLA due date**"), "{body}");
}

#[test]
fn each_item_names_its_advisories_owners_reason_and_way_out() {
    let none = blocker(
        "api/requirements.txt",
        9,
        "nofix",
        "1.0",
        "GHSA-aaaa-bbbb-cccc",
    );
    let major = with_fix(
        blocker(
            "legacy/requirements.txt",
            3,
            "major",
            "1.0.0",
            "PYSEC-2023-1",
        ),
        fix("1.0.0", "2.0.0", ChangeKind::Major, true),
    );
    let relock = with_fix(
        blocker("web/package-lock.json", 4, "relocked", "1.0.0", "GHSA-dddd"),
        fix("1.0.0", "1.0.1", ChangeKind::Patch, false),
    );
    let issue = issue_for(vec![none, major, relock], &|_| None);
    let body = &issue.body;
    assert!(body.contains(
        "[GHSA-aaaa-bbbb-cccc](https://osv.dev/vulnerability/GHSA-aaaa-bbbb-cccc) (high)"
    ));
    assert!(body.contains("no version of nofix is known to fix GHSA-aaaa-bbbb-cccc"));
    // The major fix is edits, so a fix PR proposes it; the issue sends people there.
    assert!(body.contains(
        "needs a major upgrade to `2.0.0` (from `1.0.0`); a fix PR proposes it, but a major release"
    ));
    assert!(body.contains("test and merge the fix PR that upgrades to `2.0.0`"));
    assert!(body.contains("run `npm install pkg@1.0.1` and commit the result"));
    assert!(body.contains("`@patchwright accept-risk PYSEC-2023-1 --until YYYY-MM-DD --reason \"…\"` (at most 90 days ahead)"));
    assert!(body.contains(
        "**Owners:** @alice, @acme/api, patchwright[bot]@users.noreply.github.com (CODEOWNERS line 2, `/api/`)"
    ), "{body}");
    assert!(
        body.contains(
            "**Owners:** @carol (fallback: CODEOWNERS line 3 leaves this file without owners)"
        ),
        "{body}"
    );
    assert!(
        body.contains("**Owners:** @acme/security (CODEOWNERS line 1, `*`)"),
        "{body}"
    );

    assert_eq!(issue.assignment.users, ["alice", "carol"]);
    assert_eq!(issue.assignment.teams, ["api", "security"]);
    assert_eq!(
        issue.assignment.mentions,
        [
            "@acme/api",
            "patchwright[bot]@users.noreply.github.com",
            "@acme/security"
        ]
    );
}

#[test]
fn the_bot_is_never_assigned() {
    let f = blocker("api/requirements.txt", 1, "x", "1.0", "GHSA-x");
    let fallback = ["@patchwright[bot]".to_string(), "@dave".to_string()];
    let issue = tracking_issue(
        &report(vec![f]),
        &|_| None,
        &OrgPolicy::default(),
        None,
        &fallback,
        day("2026-11-23"),
        "patchwright",
    )
    .expect("something to track");
    assert_eq!(issue.assignment.users, ["dave"]);
}

#[test]
fn the_body_depends_only_on_the_findings_not_their_order() {
    let a = blocker("api/requirements.txt", 9, "a", "1.0", "GHSA-a");
    let b = blocker("api/requirements.txt", 9, "a", "1.0", "GHSA-b");
    let c = blocker("web/go.mod", 1, "c", "1.0", "GHSA-c");
    let one = issue_for(vec![a.clone(), b.clone(), c.clone()], &|_| None);
    let two = issue_for(vec![c, b, a], &|_| None);
    assert_eq!(one, two);
}

#[test]
fn file_text_cannot_break_out_of_its_code_span() {
    let f = blocker(
        "api/evil`name.txt",
        1,
        "@acme/everyone\n# heading",
        "1.0",
        "not an/id",
    );
    let issue = issue_for(vec![f], &|_| None);
    assert!(
        issue
            .body
            .contains("### 1. `@acme/everyone # heading@1.0` in ``api/evil`name.txt:1``"),
        "{}",
        issue.body
    );
    assert!(issue.body.contains("`not an/id` (high)"), "{}", issue.body);
    assert!(
        !issue.body.contains("osv.dev/vulnerability/not"),
        "{}",
        issue.body
    );
}

#[test]
fn a_file_nobody_owns_says_how_to_give_it_owners() {
    let f = blocker("tools/requirements.txt", 1, "orphan", "1.0", "GHSA-o");
    let issue = tracking_issue(
        &report(vec![f]),
        &|_| None,
        &OrgPolicy::default(),
        None,
        &[],
        day("2026-11-23"),
        "patchwright",
    )
    .expect("something to track");
    assert!(
        issue.body.contains(
            "**Owners:** nobody: add a CODEOWNERS line for `tools/requirements.txt`, or `fallback-owners` to the org config"
        ),
        "{}",
        issue.body
    );
    assert!(issue.assignment.is_empty());
}

#[test]
fn a_major_upgrade_that_needs_a_relock_names_the_command() {
    let mut major = fix("0.0.8", "1.2.6", ChangeKind::Major, false);
    major.relock = Some("npm install minimist@1.2.6".to_string());
    let f = with_fix(
        blocker("web/package-lock.json", 3, "minimist", "0.0.8", "GHSA-m"),
        major,
    );
    let issue = issue_for(vec![f], &|_| None);
    assert!(
        issue.body.contains(
            "upgrade to `1.2.6` by hand (`npm install minimist@1.2.6`) and run the tests"
        ),
        "{}",
        issue.body
    );
    assert!(
        issue
            .body
            .contains("(first seen 2026-11-23; high severity: 30 days)")
    );
}
