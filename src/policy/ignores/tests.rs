use super::*;
use crate::model::{Location, RuleId};

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// A finding about `name` whose planned fix moves `from` → `to`.
fn finding(eco: Ecosystem, name: &str, from: &str, to: &str, change: ChangeKind) -> Finding {
    let rule = if eco == Ecosystem::Docker {
        RuleId::EolBaseImage
    } else {
        RuleId::VulnerableDependency
    };
    let mut f = Finding::new(
        rule,
        Location::new("manifest", 3, 1),
        format!("{name}@{from}"),
        "affected",
    );
    f.ecosystem = Some(eco);
    f.package = Some(name.to_string());
    f.fix = Some(Fix {
        from: from.to_string(),
        to: to.to_string(),
        change,
        edits: Vec::new(),
        relock: None,
        clears: Vec::new(),
        notes: Vec::new(),
    });
    f
}

fn rule(name: &str, scope: IgnoreScope) -> IgnoreRule {
    IgnoreRule {
        name: name.to_string(),
        scope,
        created_by: "alice".to_string(),
        created_at: date("2026-11-02"),
        source: "acme/shop#12 comment 345".to_string(),
    }
}

/// Whether `rule` withholds the fix of `finding`, and the finding survives either way.
fn withheld(mut finding: Finding, rule: IgnoreRule) -> bool {
    let before = finding.clone();
    let statuses = apply_ignores(std::slice::from_mut(&mut finding), &[rule]);
    assert_eq!(
        (finding.rule, &finding.subject, finding.level),
        (before.rule, &before.subject, before.level),
        "the finding itself must stay"
    );
    let hit = finding.fix.is_none();
    assert_eq!(statuses[0].withheld, usize::from(hit));
    assert_eq!(finding.no_fix_reason.is_some(), hit);
    hit
}

use ChangeKind::{Digest, Major, Minor, Patch, Replacement, Unknown, Variant};
use Ecosystem::{Docker, Npm, PyPI};
use IgnoreScope::{All, Major as MajorScope, Minor as MinorScope, Version as Exactly};

#[test]
fn npm_scopes_follow_semver() {
    let patch = || finding(Npm, "lodash", "4.17.19", "4.17.21", Patch);
    let minor = || finding(Npm, "lodash", "4.17.19", "4.18.0", Minor);
    let major = || finding(Npm, "lodash", "3.10.1", "4.17.21", Major);
    // The planner calls a 0.x minor bump major (it may break); the scope reads the numbers,
    // so `major` leaves it alone and `minor` covers it.
    let zero = || finding(Npm, "minimist", "0.2.1", "0.2.4", Major);
    let zero_minor = || finding(Npm, "minimist", "0.2.1", "0.3.0", Major);

    let cases = [
        (patch(), All, true),
        (patch(), MajorScope, false),
        (patch(), MinorScope, false),
        (minor(), MajorScope, false),
        (minor(), MinorScope, true),
        (major(), MajorScope, true),
        (major(), MinorScope, true),
        (zero(), MajorScope, false),
        (zero(), MinorScope, false),
        (zero_minor(), MajorScope, false),
        (zero_minor(), MinorScope, true),
        (patch(), Exactly("4.17.21".into()), true),
        // npm's loose spellings are the same version.
        (patch(), Exactly("v4.17.21".into()), true),
        (patch(), Exactly("=4.17.21".into()), true),
        (patch(), Exactly("4.17.20".into()), false),
        (minor(), Exactly("4.17.21".into()), false),
    ];
    for (f, scope, want) in cases {
        let what = format!("{} {scope}", f.subject);
        let name = f.package.clone().unwrap();
        assert_eq!(withheld(f, rule(&name, scope)), want, "{what}");
    }
    // npm names compare exactly.
    assert!(!withheld(patch(), rule("Lodash", All)));
    assert!(!withheld(patch(), rule("lodash-es", All)));
}

#[test]
fn pypi_scopes_follow_pep_440_and_names_pep_503() {
    let patch = || finding(PyPI, "urllib3", "1.26.5", "1.26.18", Patch);
    let minor = || finding(PyPI, "requests", "2.30.0", "2.31.0", Minor);
    let major = || finding(PyPI, "Django", "3.2.20", "4.2.3", Major);
    let cases = [
        (patch(), "urllib3", MinorScope, false),
        (patch(), "URLLIB3", All, true),
        (minor(), "requests", MinorScope, true),
        (minor(), "requests", MajorScope, false),
        (major(), "django", MajorScope, true),
        // PEP 440: trailing zeros don't make another version.
        (minor(), "requests", Exactly("2.31".into()), true),
        (minor(), "requests", Exactly("2.31.0.0".into()), true),
        (minor(), "requests", Exactly("2.31.0rc1".into()), false),
        (patch(), "urllib3", Exactly("1.26.17".into()), false),
    ];
    for (f, name, scope, want) in cases {
        let what = format!("{} {name} {scope}", f.subject);
        assert_eq!(withheld(f, rule(name, scope)), want, "{what}");
    }
    let zope = finding(PyPI, "zope_interface", "5.0", "5.4.0", Minor);
    assert!(withheld(zope, rule("Zope.Interface", MinorScope)));
}

#[test]
fn image_scopes_read_the_tags_and_names_are_canonical() {
    let node = || {
        finding(
            Docker,
            "docker.io/library/node",
            "docker.io/library/node:16.20.2-alpine",
            "docker.io/library/node:22-alpine",
            Major,
        )
    };
    let python = || {
        finding(
            Docker,
            "python",
            "python:3.9.2-alpine",
            "python:3.14-alpine",
            Minor,
        )
    };
    let digest = || {
        finding(
            Docker,
            "nginx",
            "nginx:1.25-alpine@sha256:aaaa",
            "nginx:1.25-alpine@sha256:bbbb",
            Digest,
        )
    };
    let variant = || {
        finding(
            Docker,
            "python",
            "python:3.12-alpine3.18",
            "python:3.12-alpine3.20",
            Variant,
        )
    };
    let floating = || finding(Docker, "node", "node:lts", "node:22-alpine", Unknown);
    let replaced = || {
        finding(
            Docker,
            "node",
            "node:16",
            "cgr.dev/chainguard/node:16",
            Replacement,
        )
    };
    let cases = [
        (node(), "node", MajorScope, true),
        (node(), "library/node", MinorScope, true),
        (node(), "docker.io/library/node", All, true),
        // A tag typed with the name is not part of the name.
        (node(), "node:16", All, true),
        (node(), "nodejs", All, false),
        (node(), "ghcr.io/acme/node", All, false),
        (node(), "node", Exactly("22-alpine".into()), true),
        (node(), "node", Exactly("22".into()), false),
        (
            node(),
            "node",
            Exactly("docker.io/library/node:22-alpine".into()),
            true,
        ),
        (python(), "python", MajorScope, false),
        (python(), "python", MinorScope, true),
        (digest(), "nginx", MinorScope, false),
        (digest(), "nginx", All, true),
        (digest(), "nginx", Exactly("1.25-alpine".into()), true),
        (variant(), "python", MinorScope, false),
        // Tags that don't compare are treated as the project treats them: a major change.
        (floating(), "node", MajorScope, true),
        (floating(), "node", Exactly("22-alpine".into()), true),
        (floating(), "node", Exactly("lts".into()), false),
        // Another image altogether is at least a major step, even on the same numbers.
        (replaced(), "node", MajorScope, true),
    ];
    for (f, name, scope, want) in cases {
        let what = format!("{} {name} {scope}", f.subject);
        assert_eq!(withheld(f, rule(name, scope)), want, "{what}");
    }
}

#[test]
fn the_finding_keeps_its_level_and_says_which_ignore_withholds_its_fix() {
    let mut findings = vec![
        finding(Npm, "lodash", "4.17.19", "4.17.21", Patch),
        finding(Npm, "lodash", "4.17.19", "4.17.21", Patch),
        finding(Npm, "minimist", "1.2.5", "1.2.6", Patch),
        {
            // No fix planned: nothing to withhold, and its reason stays its own.
            let mut f = finding(Npm, "lodash", "4.17.19", "4.17.21", Patch);
            f.fix = None;
            f.no_fix_reason = Some("no fixed release".into());
            f
        },
    ];
    let rules = [
        rule("lodash", All),
        rule("lodash", MinorScope),
        rule("express", All),
    ];
    let statuses = apply_ignores(&mut findings, &rules);
    assert_eq!(
        findings[0].no_fix_reason.as_deref(),
        Some(
            "updates to lodash (all) are ignored by @alice since 2026-11-02 (acme/shop#12 comment 345)"
        )
    );
    assert_eq!(findings[1].no_fix_reason, findings[0].no_fix_reason);
    assert!(findings[2].fix.is_some());
    assert_eq!(
        findings[3].no_fix_reason.as_deref(),
        Some("no fixed release")
    );
    // The first rule that matches is the one cited and counted.
    let counts: Vec<usize> = statuses.iter().map(|s| s.withheld).collect();
    assert_eq!(counts, [2, 0, 0]);
    assert_eq!(statuses[0].created_by, "alice");

    let mut at = vec![finding(Npm, "lodash", "4.17.19", "4.18.0", Minor)];
    let mut with_at = rule("lodash", Exactly("4.18.0".into()));
    with_at.created_by = "@bob".into();
    let statuses = apply_ignores(&mut at, &[with_at]);
    assert_eq!(
        at[0].no_fix_reason.as_deref(),
        Some(
            "updates to lodash (version 4.18.0) are ignored by @bob since 2026-11-02 (acme/shop#12 comment 345)"
        )
    );
    assert_eq!(statuses[0].created_by, "bob");
}

#[test]
fn scopes_are_stored_as_words_and_read_back() {
    for scope in [All, MajorScope, MinorScope, Exactly("3.12-slim".into())] {
        let stored = scope.as_stored();
        assert_eq!(IgnoreScope::from_stored(&stored), Some(scope.clone()));
        let json = serde_json::to_value(&scope).unwrap();
        assert_eq!(json, serde_json::Value::String(stored));
        assert_eq!(serde_json::from_value::<IgnoreScope>(json).unwrap(), scope);
    }
    assert_eq!(Exactly("1.2.3".into()).as_stored(), "version:1.2.3");
    for bad in ["", "patch", "version:", "Major"] {
        assert_eq!(IgnoreScope::from_stored(bad), None, "{bad:?}");
    }
    let err = serde_json::from_value::<IgnoreScope>(serde_json::json!("patch")).unwrap_err();
    assert!(err.to_string().contains("not an ignore scope"), "{err}");
}
