use super::*;
use crate::model::{ExceptionOrigin, Location, RuleId, Severity};

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
        origin: ExceptionOrigin::Config {
            location: Location::new(REPO_CONFIG_PATH, 4, 1),
        },
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

fn granted(id: &str, expires: &str) -> Exception {
    Exception::granted(
        id,
        "the vulnerable function is never called",
        date(expires),
        "@alice",
        date("2026-11-02"),
        "acme/shop#12 comment 345",
    )
}

#[test]
fn a_granted_exception_covers_and_says_who_granted_it_and_where() {
    let org = OrgPolicy::default();
    let repo = RepoConfig {
        exceptions: vec![granted("GHSA-35JH-R3H4-6JHM", "2026-12-31")],
        ..Default::default()
    };
    let out = evaluate(
        vec![advisory_finding(Severity::High)],
        &org,
        &repo,
        date("2026-12-31"),
        &never_known,
    );
    assert_eq!(out.len(), 1, "{out:#?}");
    let applied = out[0].exception.as_ref().expect("suppressed");
    assert_eq!(applied.owner, "@alice");
    assert_eq!(
        applied.origin,
        ExceptionOrigin::Command {
            granted_by: "alice".into(),
            granted_at: date("2026-11-02"),
            source: "acme/shop#12 comment 345".into(),
        }
    );
    assert!(
        out[0].level_reason.ends_with(
            "suppressed by an exception until 2026-12-31 (granted by @alice on 2026-11-02 in acme/shop#12 comment 345): the vulnerable function is never called"
        ),
        "{}",
        out[0].level_reason
    );
    // The JSON of a finding carries who and where instead of a file location.
    let json = serde_json::to_value(&out[0]).unwrap();
    assert_eq!(json["exception"]["granted_by"], "alice");
    assert_eq!(json["exception"]["source"], "acme/shop#12 comment 345");
    assert!(json["exception"].get("location").is_none(), "{json}");
}

#[test]
fn a_config_exception_keeps_its_location_in_json() {
    let org = OrgPolicy::default();
    let repo = RepoConfig {
        exceptions: vec![exception("GHSA-35jh-r3h4-6jhm", "2026-12-31")],
        ..Default::default()
    };
    let out = evaluate(
        vec![advisory_finding(Severity::High)],
        &org,
        &repo,
        date("2026-11-01"),
        &never_known,
    );
    let json = serde_json::to_value(&out[0]).unwrap();
    assert_eq!(
        json["exception"]["location"],
        serde_json::json!({"file": REPO_CONFIG_PATH, "line": 4, "column": 1})
    );
    assert!(json["exception"].get("granted_by").is_none(), "{json}");
    let back: Finding = serde_json::from_value(json).unwrap();
    assert_eq!(back.exception, out[0].exception);
}

#[test]
fn an_expired_grant_stops_suppressing_and_is_reported_at_what_it_covered() {
    let org = OrgPolicy::default();
    let mut second = advisory_finding(Severity::High);
    second.file = "api/package-lock.json".into();
    second.line = 40;
    second.location = Location::new("api/package-lock.json", 40, 3);
    let repo = RepoConfig {
        exceptions: vec![granted("GHSA-35jh-r3h4-6jhm", "2026-12-31")],
        ..Default::default()
    };
    let out = evaluate(
        vec![advisory_finding(Severity::High), second],
        &org,
        &repo,
        date("2027-01-01"),
        &never_known,
    );
    assert_eq!(out.len(), 3, "{out:#?}");
    assert!(
        out[..2]
            .iter()
            .all(|f| f.is_active() && f.level == Level::Blocker)
    );
    let expired = &out[2];
    assert_eq!(expired.rule, RuleId::ExceptionExpired);
    // The first covered finding in file order: api/ before web/.
    assert_eq!(
        (expired.file.as_str(), expired.line),
        ("api/package-lock.json", 40)
    );
    assert_eq!(expired.level, Level::Warning);
    assert_eq!(
        expired.message,
        "the exception for `GHSA-35jh-r3h4-6jhm` (granted by @alice on 2026-11-02 in acme/shop#12 comment 345) expired on 2026-12-31; it no longer suppresses 2 finding(s). Fix them, or grant it again with `accept-risk`, a new date and a reason."
    );

    let statuses = exception_statuses(&repo.exceptions, &out, date("2027-01-01"));
    assert_eq!(statuses[0].state, ExceptionState::Expired);
    assert_eq!(statuses[0].covers, 2);
}

#[test]
fn a_grant_that_matches_nothing_is_listed_not_reported_as_a_finding() {
    let org = OrgPolicy::default();
    let repo = RepoConfig {
        exceptions: vec![
            granted("CVE-2099-0001", "2026-12-31"),
            granted("CVE-2099-0002", "2026-01-31"),
        ],
        ..Default::default()
    };
    let now = date("2026-11-01");
    let out = evaluate(
        vec![advisory_finding(Severity::High)],
        &org,
        &repo,
        now,
        &never_known,
    );
    // No line to point at: neither unused nor expired-and-unused becomes a finding.
    assert_eq!(out.len(), 1, "{out:#?}");
    assert!(out[0].is_active());
    let statuses = exception_statuses(&repo.exceptions, &out, now);
    let states: Vec<(ExceptionState, usize)> =
        statuses.iter().map(|s| (s.state, s.covers)).collect();
    assert_eq!(
        states,
        [(ExceptionState::Unused, 0), (ExceptionState::Expired, 0)]
    );
    assert_eq!(
        statuses[0].origin_text,
        "granted by @alice on 2026-11-02 in acme/shop#12 comment 345"
    );
}

#[test]
fn when_config_and_grant_both_cover_a_finding_the_config_one_is_cited() {
    let org = OrgPolicy::default();
    let repo = RepoConfig {
        exceptions: vec![
            exception("GHSA-35jh-r3h4-6jhm", "2026-12-31"),
            granted("GHSA-35jh-r3h4-6jhm", "2026-12-15"),
        ],
        ..Default::default()
    };
    let now = date("2026-11-01");
    let out = evaluate(
        vec![advisory_finding(Severity::High)],
        &org,
        &repo,
        now,
        &never_known,
    );
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].exception.as_ref().unwrap().owner, "@acme/web");
    let statuses = exception_statuses(&repo.exceptions, &out, now);
    assert!(
        statuses
            .iter()
            .all(|s| s.state == ExceptionState::Active && s.covers == 1),
        "{statuses:#?}"
    );
    assert_eq!(statuses[0].origin_text, ".github/patchwright.toml:4");
}

#[test]
fn fallback_owners_are_read_and_checked_by_shape() {
    let org: OrgPolicy = toml::from_str(
        "fallback-owners = [\"@acme/security\", \"@alice\", \"sec@acme.example\"]\n",
    )
    .unwrap();
    assert_eq!(
        org.fallback_owners,
        ["@acme/security", "@alice", "sec@acme.example"]
    );
    assert_eq!(org.validate(), Ok(()));
    assert!(OrgPolicy::default().fallback_owners.is_empty());

    let org = OrgPolicy {
        fallback_owners: vec!["@acme/security".into(), "alice".into()],
        ..OrgPolicy::default()
    };
    assert_eq!(
        org.validate(),
        Err(
            "policy.fallback-owners[1]: `alice` is not `@user`, `@org/team` or an email address"
                .to_string()
        )
    );
}
