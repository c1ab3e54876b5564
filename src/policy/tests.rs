use super::*;
use crate::model::{Location, RuleId, Severity};

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn advisory_finding(severity: Severity) -> Finding {
    let mut f = Finding::new(
        RuleId::VulnerableDependency,
        Location::new("web/package-lock.json", 12, 5),
        "lodash@4.17.20",
        "lodash 4.17.20 is affected by GHSA-35jh-r3h4-6jhm",
    );
    f.package = Some("lodash".into());
    f.severity = Some(severity);
    f.advisories = vec!["GHSA-35jh-r3h4-6jhm".into()];
    f
}

fn exception(id: &str, expires: &str) -> Exception {
    Exception {
        id: id.into(),
        package: None,
        path: None,
        reason: "not reachable".into(),
        owner: "@acme/web".into(),
        expires: date(expires),
        location: Location::new(REPO_CONFIG_PATH, 4, 1),
    }
}

fn never_known(_: &str) -> bool {
    false
}

#[test]
fn tiers_set_advisory_levels_by_severity() {
    let org = OrgPolicy::default();
    let now = date("2026-11-23");
    let cases = [
        (None, Severity::High, Level::Blocker),
        (None, Severity::Medium, Level::Warning),
        (Some("internal-tool"), Severity::High, Level::Warning),
        (Some("internal-tool"), Severity::Critical, Level::Blocker),
        (Some("internal-tool"), Severity::Low, Level::Info),
        (None, Severity::Unknown, Level::Warning),
    ];
    for (tier, severity, want) in cases {
        let repo = RepoConfig {
            tier: tier.map(str::to_string),
            ..Default::default()
        };
        let out = evaluate(
            vec![advisory_finding(severity)],
            &org,
            &repo,
            now,
            &never_known,
        );
        assert_eq!(
            out[0].level, want,
            "{tier:?} {severity}: {}",
            out[0].level_reason
        );
    }
}

#[test]
fn tier_rule_overrides_apply() {
    let org = OrgPolicy::default();
    let repo = RepoConfig {
        tier: Some("internal-tool".into()),
        ..Default::default()
    };
    let root = Finding::new(
        RuleId::RunsAsRoot,
        Location::new("Dockerfile", 1, 1),
        "final stage",
        "runs as root",
    );
    let out = evaluate(vec![root], &org, &repo, date("2026-01-01"), &never_known);
    assert_eq!(out[0].level, Level::Info);
    assert!(
        out[0].level_reason.contains("internal-tool"),
        "{}",
        out[0].level_reason
    );
}

#[test]
fn end_of_life_blocks_after_the_grace_date() {
    let org = OrgPolicy::default();
    let mut eol = Finding::new(
        RuleId::EolBaseImage,
        Location::new("Dockerfile", 1, 1),
        "node:16",
        "eol",
    );
    eol.blocks_after = Some(date("2024-03-11"));
    let before = evaluate(
        vec![eol.clone()],
        &org,
        &RepoConfig::default(),
        date("2024-03-10"),
        &never_known,
    );
    assert_eq!(before[0].level, Level::Warning);
    let after = evaluate(
        vec![eol],
        &org,
        &RepoConfig::default(),
        date("2024-03-11"),
        &never_known,
    );
    assert_eq!(after[0].level, Level::Blocker);
}

#[test]
fn exceptions_suppress_until_they_expire_and_then_say_so() {
    let org = OrgPolicy::default();
    let repo = RepoConfig {
        exceptions: vec![exception("ghsa-35jh-r3h4-6jhm", "2026-12-31")],
        ..Default::default()
    };
    let active = evaluate(
        vec![advisory_finding(Severity::High)],
        &org,
        &repo,
        date("2026-12-31"),
        &never_known,
    );
    assert_eq!(active.len(), 1);
    assert!(!active[0].is_active());
    assert_eq!(active[0].exception.as_ref().unwrap().owner, "@acme/web");

    let expired = evaluate(
        vec![advisory_finding(Severity::High)],
        &org,
        &repo,
        date("2027-01-01"),
        &never_known,
    );
    assert_eq!(expired.len(), 2);
    assert!(expired[0].is_active());
    assert_eq!(expired[0].level, Level::Blocker);
    assert_eq!(expired[1].rule, RuleId::ExceptionExpired);
    assert_eq!(expired[1].line, 4);
    assert!(
        expired[1].message.contains("expired on 2026-12-31"),
        "{}",
        expired[1].message
    );
}

#[test]
fn unused_exceptions_are_reported_with_a_hint() {
    let org = OrgPolicy::default();
    let repo = RepoConfig {
        exceptions: vec![
            exception("CVE-2099-0001", "2026-12-31"),
            exception("runs-as-root", "2026-12-31"),
        ],
        ..Default::default()
    };
    let out = evaluate(vec![], &org, &repo, date("2026-11-01"), &never_known);
    assert_eq!(out.len(), 2);
    assert!(out.iter().all(|f| f.rule == RuleId::ExceptionUnused));
    assert!(
        out[0]
            .message
            .contains("neither a known advisory id nor a rule id"),
        "{}",
        out[0].message
    );
    assert!(out[1].message.contains("remove it"), "{}", out[1].message);
}

#[test]
fn exception_narrowed_by_package_and_path() {
    let org = OrgPolicy::default();
    let mut e = exception("GHSA-35jh-r3h4-6jhm", "2026-12-31");
    e.path = Some("api/**".into());
    let repo = RepoConfig {
        exceptions: vec![e],
        ..Default::default()
    };
    let out = evaluate(
        vec![advisory_finding(Severity::High)],
        &org,
        &repo,
        date("2026-11-01"),
        &never_known,
    );
    assert!(out[0].is_active(), "path glob must not match web/");
    assert_eq!(out[1].rule, RuleId::ExceptionUnused);
}

#[test]
fn sla_due_counts_from_first_seen() {
    let org = OrgPolicy::default();
    let mut f = advisory_finding(Severity::Critical);
    f.level = Level::Blocker;
    assert_eq!(
        sla_due(&org, &f, date("2026-11-01")),
        Some(date("2026-11-08"))
    );
    f.level = Level::Warning;
    assert_eq!(sla_due(&org, &f, date("2026-11-01")), None);
}

#[test]
fn org_policy_validation_names_the_key() {
    let org = OrgPolicy {
        default_tier: "nope".into(),
        ..OrgPolicy::default()
    };
    let err = org.validate().unwrap_err();
    assert!(err.starts_with("policy.default-tier"), "{err}");
}
