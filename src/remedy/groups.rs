//! Fix groups: the unit a fix pull request carries. One group per package or image in one
//! ecosystem (`patchwright/pypi/urllib3`), holding every finding that one target version clears,
//! in every file that names it. Pure.

use super::{apply, collect_edits};
use crate::model::{Ecosystem, Finding, Level, RuleId, Severity};
use crate::report::Report;
use crate::snapshot::RepoSnapshot;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, PartialEq)]
pub struct FixGroup {
    /// The branch, and the group's identity across scans: `patchwright/<ecosystem>/<subject>`.
    pub branch: String,
    /// What the fix is: the same key means the same change (`pypi/urllib3@1.26.18`). A person
    /// who closes a fix PR declines this key; a different target is a new fix.
    pub fix_key: String,
    pub ecosystem: Ecosystem,
    /// The package or image name.
    pub subject: String,
    pub title: String,
    /// The most severe level among the group's findings, and the highest severity.
    pub level: Level,
    pub severity: Option<Severity>,
    /// The findings the group fixes (copies from the report).
    pub findings: Vec<Finding>,
    /// The files after the fix: (path, new content).
    pub files: Vec<(String, String)>,
}

/// Every group whose fix can be written as file edits, most urgent first: blockers before
/// warnings, then by severity, so a security fix never waits behind a routine one.
pub fn plan_groups(report: &Report, snapshot: &RepoSnapshot) -> Vec<FixGroup> {
    plan_groups_carrying(report, snapshot, &BTreeSet::new())
}

/// [`plan_groups`], where the groups on the `carried` branches exist even though their fixes
/// have no edits: an open fix PR already carries them (a re-lock that was not run again), so
/// the group keeps that PR open and unchanged. Their `files` hold only edits they do have.
pub fn plan_groups_carrying(
    report: &Report,
    snapshot: &RepoSnapshot,
    carried: &BTreeSet<String>,
) -> Vec<FixGroup> {
    let mut by_subject = fixable(report);
    by_subject.retain(|(eco, subject), findings| {
        carried.contains(&branch_for(*eco, subject))
            || findings
                .iter()
                .any(|f| f.fix.as_ref().is_some_and(|x| !x.edits.is_empty()))
    });
    for findings in by_subject.values_mut() {
        let carried_here = findings
            .first()
            .and_then(|f| Some(branch_for(f.ecosystem?, f.package.as_deref()?)))
            .is_some_and(|b| carried.contains(&b));
        if !carried_here {
            findings.retain(|f| f.fix.as_ref().is_some_and(|x| !x.edits.is_empty()));
        }
    }
    let mut groups: Vec<FixGroup> = by_subject
        .into_iter()
        .filter_map(|((eco, subject), findings)| group(eco, subject, &findings, snapshot))
        .collect();
    groups.sort_by(|a, b| {
        (b.level, b.severity)
            .cmp(&(a.level, a.severity))
            .then_with(|| a.branch.cmp(&b.branch))
    });
    groups
}

/// The active findings at warning or above that have a fix, by (ecosystem, package): what
/// groups are made of, whether or not the fix has its edits yet.
fn fixable(report: &Report) -> BTreeMap<(Ecosystem, String), Vec<&Finding>> {
    let mut by_subject: BTreeMap<(Ecosystem, String), Vec<&Finding>> = BTreeMap::new();
    for f in &report.findings {
        let (Some(eco), Some(package), Some(_)) = (f.ecosystem, &f.package, &f.fix) else {
            continue;
        };
        // Refreshes are routine: they go in their own batched PR (see [`refresh_group`]),
        // never in a security fix's.
        if f.is_active() && f.level >= Level::Warning && f.rule != RuleId::ImageDigestRefresh {
            by_subject
                .entry((eco, package.clone()))
                .or_default()
                .push(f);
        }
    }
    by_subject
}

/// The fix key each group will have once every fix has its edits (before a re-lock has run),
/// by branch: how the service tells that an open fix PR already carries a re-lock.
pub fn pending_fix_keys(report: &Report) -> BTreeMap<String, String> {
    fixable(report)
        .into_iter()
        .map(|((eco, subject), findings)| {
            let targets = findings
                .iter()
                .filter_map(|f| f.fix.as_ref())
                .map(|x| x.to.as_str());
            (branch_for(eco, &subject), fix_key(eco, &subject, targets))
        })
        .collect()
}

/// The branch that batches digest refreshes: one per repository, apart from security fixes.
pub const DIGEST_REFRESH_BRANCH: &str = "patchwright/docker/digest-refresh";

/// Every active `image-digest-refresh` fix of the report as one group (branch
/// [`DIGEST_REFRESH_BRANCH`], level info), or `None` when there is none to make. The caller
/// opens it only when [`refresh_due`] says the window allows.
pub fn refresh_group(report: &Report, snapshot: &RepoSnapshot) -> Option<FixGroup> {
    let owned: Vec<Finding> = report
        .findings
        .iter()
        .filter(|f| f.is_active() && f.rule == RuleId::ImageDigestRefresh)
        .filter(|f| f.fix.as_ref().is_some_and(|x| !x.edits.is_empty()))
        .cloned()
        .collect();
    if owned.is_empty() {
        return None;
    }
    let edits = collect_edits(&owned);
    let after = apply(snapshot, &edits).ok()?;
    let files: Vec<(String, String)> = edits
        .keys()
        .filter_map(|path| Some((path.clone(), after.files.get(path)?.clone())))
        .collect();
    let mut images: Vec<&str> = owned.iter().filter_map(|f| f.package.as_deref()).collect();
    images.sort();
    images.dedup();
    let fix_key = fix_key(
        Ecosystem::Docker,
        "digest-refresh",
        owned
            .iter()
            .filter_map(|f| f.fix.as_ref())
            .map(|x| x.to.as_str()),
    );
    Some(FixGroup {
        branch: DIGEST_REFRESH_BRANCH.to_string(),
        fix_key,
        ecosystem: Ecosystem::Docker,
        subject: "digest-refresh".to_string(),
        title: format!("Refresh image digests ({})", images.join(", ")),
        level: Level::Info,
        severity: None,
        findings: owned,
        files,
    })
}

/// Whether a digest-refresh PR may be opened on `today`: none was opened in the last
/// `every_days` days (`last_opened` is the day the latest one was opened, if any).
pub fn refresh_due(
    last_opened: Option<chrono::NaiveDate>,
    today: chrono::NaiveDate,
    every_days: u32,
) -> bool {
    last_opened.is_none_or(|last| (today - last).num_days() >= i64::from(every_days))
}

/// `pypi/urllib3@1.26.18`; several targets are joined with `+`.
fn fix_key<'a>(eco: Ecosystem, subject: &str, targets: impl Iterator<Item = &'a str>) -> String {
    let mut targets: Vec<&str> = targets.collect();
    targets.sort();
    targets.dedup();
    format!("{}/{}@{}", eco.slug(), subject, targets.join("+"))
}

fn group(
    eco: Ecosystem,
    subject: String,
    findings: &[&Finding],
    snapshot: &RepoSnapshot,
) -> Option<FixGroup> {
    let owned: Vec<Finding> = findings.iter().map(|f| (*f).clone()).collect();
    let edits = collect_edits(&owned);
    let after = apply(snapshot, &edits).ok()?;
    let files: Vec<(String, String)> = edits
        .keys()
        .filter_map(|path| Some((path.clone(), after.files.get(path)?.clone())))
        .collect();
    let fix_key = fix_key(
        eco,
        &subject,
        owned
            .iter()
            .filter_map(|f| f.fix.as_ref())
            .map(|x| x.to.as_str()),
    );
    let level = owned.iter().map(|f| f.level).max()?;
    let severity = owned.iter().filter_map(|f| f.severity).max();
    let title = title(eco, &subject, &owned);
    Some(FixGroup {
        branch: branch_for(eco, &subject),
        fix_key,
        ecosystem: eco,
        subject,
        title,
        level,
        severity,
        findings: owned,
        files,
    })
}

/// `Update urllib3 1.26.5 → 1.26.18 (fixes PYSEC-2023-192, PYSEC-2023-212)`.
fn title(eco: Ecosystem, subject: &str, findings: &[Finding]) -> String {
    let Some(fix) = findings.iter().find_map(|f| f.fix.as_ref()) else {
        return format!("Update {subject}");
    };
    let what = if eco == Ecosystem::Docker {
        format!(
            "Update {} base image to {}",
            subject,
            fix.to.rsplit_once(':').map_or(fix.to.as_str(), |(_, t)| t)
        )
    } else {
        format!("Update {subject} {} → {}", fix.from, fix.to)
    };
    let mut ids: Vec<&str> = findings
        .iter()
        .flat_map(|f| f.advisories.iter().map(String::as_str))
        .collect();
    ids.sort();
    ids.dedup();
    let why = if !ids.is_empty() {
        let shown: Vec<&str> = ids.iter().take(3).copied().collect();
        let more = if ids.len() > 3 {
            format!(" and {} more", ids.len() - 3)
        } else {
            String::new()
        };
        format!(" (fixes {}{more})", shown.join(", "))
    } else {
        let mut rules: Vec<&str> = findings.iter().map(|f| f.rule.as_str()).collect();
        rules.dedup();
        format!(" ({})", rules.join(", "))
    };
    format!("{what}{why}")
}

/// A branch-name-safe form of a package or image name.
/// The branch of the fix PR for a package or image: `patchwright/<ecosystem>/<slug>`, the
/// group's identity across scans.
pub fn branch_for(eco: Ecosystem, subject: &str) -> String {
    format!("patchwright/{}/{}", eco.slug(), slug(subject))
}

fn slug(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches(['-', '.']).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_branch_safe() {
        assert_eq!(slug("golang.org/x/text"), "golang.org-x-text");
        assert_eq!(slug("@babel/core"), "babel-core");
        assert_eq!(
            slug("registry.example.com:5000/team/app"),
            "registry.example.com-5000-team-app"
        );
    }

    #[test]
    fn a_refresh_waits_out_its_window() {
        let day = |d: u32| chrono::NaiveDate::from_ymd_opt(2026, 12, d).unwrap();
        assert!(refresh_due(None, day(1), 7));
        assert!(!refresh_due(Some(day(1)), day(7), 7));
        assert!(refresh_due(Some(day(1)), day(8), 7));
        assert!(refresh_due(Some(day(1)), day(2), 1));
    }
}
