//! Findings → minimal edits, then apply and verify. Pure.
//!
//! One dependency gets one plan, whatever number of findings it has: the target must clear all
//! of them at once (an image that is both end-of-life and unapproved; a package with three
//! advisories), so a second PR never follows the first.

pub mod contents;
mod edits;
pub mod groups;
mod images;
mod packages;
pub mod relocked;
pub mod verify;

pub use edits::{ApplyError, apply_edits};
pub use verify::{Verification, verify};

use crate::catalog::{AdvisoryDb, Catalog};
use crate::model::{Edit, Finding, Fix, RuleId, Span};
use crate::snapshot::RepoSnapshot;
use chrono::NaiveDate;
use std::collections::BTreeMap;

/// The outcome of planning for one dependency.
pub(crate) type Planned = Result<Fix, String>;

/// Attaches a fix (or the reason there is none) to every finding a fix can address, from the
/// catalog alone (no registry facts).
pub fn plan(
    findings: &mut [Finding],
    snapshot: &RepoSnapshot,
    catalog: &Catalog,
    advisories: &AdvisoryDb,
    today: NaiveDate,
) {
    plan_with_registry(findings, snapshot, catalog, advisories, today, None, false);
}

/// [`plan`] with what the registries said: image fixes move only to tags the registry has,
/// and (when `pin_digests`) pin the registry's digest, so `image-digest-not-pinned` and
/// `image-digest-refresh` get fixes. Without facts this is exactly [`plan`].
pub fn plan_with_registry(
    findings: &mut [Finding],
    snapshot: &RepoSnapshot,
    catalog: &Catalog,
    advisories: &AdvisoryDb,
    today: NaiveDate,
    registry: Option<&crate::registry::RegistryFacts>,
    pin_digests: bool,
) {
    let view = images::RegistryView {
        facts: registry,
        pin_digests,
    };
    let plannable = |rule: RuleId| {
        fixable_rule(rule)
            || (registry.is_some() && rule == RuleId::ImageDigestRefresh)
            || (registry.is_some() && pin_digests && rule == RuleId::ImageDigestNotPinned)
    };
    // Group findings by the dependency they are about: (file, first byte of its declaration).
    let mut groups: BTreeMap<(String, u32, u32, String), Vec<usize>> = BTreeMap::new();
    for (i, f) in findings.iter().enumerate() {
        if let Some(d) = &f.dependency
            && plannable(f.rule)
        {
            groups
                .entry((
                    d.location.file.clone(),
                    d.location.line,
                    d.location.column,
                    d.name.clone(),
                ))
                .or_default()
                .push(i);
        }
    }
    for indices in groups.values() {
        let group: Vec<&Finding> = indices.iter().map(|&i| &findings[i]).collect();
        let Some(dependency) = group[0].dependency.as_deref() else {
            continue;
        };
        let source = snapshot
            .files
            .get(&dependency.location.file)
            .map(String::as_str);
        let planned = if dependency.image.is_some() {
            images::plan(dependency, &group, catalog, source, today, view)
        } else {
            packages::plan(dependency, &group, catalog, advisories)
        };
        let planned = planned.and_then(|fix| refuse_lossy(fix, snapshot));
        for &i in indices {
            match &planned {
                // A tag move the registry gave no digest for leaves the pin undone.
                Ok(fix)
                    if findings[i].rule == RuleId::ImageDigestNotPinned
                        && !fix.to.contains('@') =>
                {
                    findings[i].no_fix_reason = Some(format!(
                        "the registry gave no digest for `{}`, so it cannot be pinned",
                        fix.to
                    ));
                }
                Ok(fix) => findings[i].fix = Some(fix.clone()),
                Err(reason) => findings[i].no_fix_reason = Some(reason.clone()),
            }
        }
    }
}

/// Gives every finding without a fix the reason there is none, when planning gave no more
/// specific one (the README promises a reason for each). Run after policy, which adds the
/// exception findings.
pub fn explain_missing_fixes(findings: &mut [Finding]) {
    for f in findings.iter_mut() {
        if f.fix.is_none() && f.no_fix_reason.as_deref().is_none_or(str::is_empty) {
            f.no_fix_reason = Some(why_no_fix(f.rule).to_string());
        }
    }
}

/// Why a rule's finding has no automatic fix, when planning gave no more specific reason.
/// Exhaustive, so a new rule cannot ship without one.
fn why_no_fix(rule: RuleId) -> &'static str {
    match rule {
        RuleId::ImageDigestNotPinned => {
            "the digest a tag points to is only known to the registry, and registry lookups are off (or digest pinning is turned off): run with `--registry`, pin it by hand (`docker buildx imagetools inspect IMAGE:TAG` shows it) or leave it at info"
        }
        RuleId::ImageDigestRefresh => {
            "the registry's new digest could not be written into the reference: update the pin by hand"
        }
        RuleId::RunsAsRoot => {
            "which user the image should run as depends on its files, ports and permissions, so it is a decision for the image's owner: add a non-root `USER` to the final stage"
        }
        RuleId::UnpinnedOsPackages => {
            "the right versions depend on the distribution release of the base image, which patchwright does not read yet: pin each package (`apk add curl=8.5.0-r0`, `apt-get install curl=7.88.1-10+deb12u5`) or accept the risk with an exception"
        }
        RuleId::ExceptionExpired => {
            "an expired exception is a decision to renew (a new date and reason) or to end by fixing what it covered"
        }
        RuleId::ExceptionUnused => {
            "only its author knows whether the exception's id or scope is wrong or it is no longer needed: correct it or remove it"
        }
        RuleId::VulnerableDependency
        | RuleId::DependencyBelowMinimum
        | RuleId::DependencyBanned => {
            "no version that satisfies the advisories and the catalog could be planned"
        }
        RuleId::VulnerableImage
        | RuleId::EolBaseImage
        | RuleId::UnapprovedBaseImage
        | RuleId::ImageTagNotPinned => "the catalog names no approved tag of this image to move to",
    }
}

/// A file decoded lossily (not UTF-8) cannot be edited: writing its text back would replace
/// every invalid byte with U+FFFD. A re-lock fix edits nothing, so it stands.
fn refuse_lossy(fix: Fix, snapshot: &RepoSnapshot) -> Planned {
    match fix.edits.iter().find(|e| snapshot.lossy.contains(&e.file)) {
        Some(edit) => Err(format!(
            "{} is not valid UTF-8, so patchwright does not rewrite it; save it as UTF-8 and run again (the fix would be {} → {})",
            edit.file, fix.from, fix.to
        )),
        None => Ok(fix),
    }
}

/// What a fix for `group` clears: its advisory ids, then its rule ids, each once.
fn clears(group: &[&Finding]) -> Vec<String> {
    let ids = group
        .iter()
        .flat_map(|f| f.advisories.iter().map(String::as_str));
    let rules = group.iter().map(|f| f.rule.as_str());
    let mut out: Vec<String> = Vec::new();
    for id in ids.chain(rules) {
        if !out.iter().any(|seen| seen == id) {
            out.push(id.to_string());
        }
    }
    out
}

/// Rules a version or tag change can clear. Digest pinning is left to the registry-aware
/// remedy: without a registry the bot cannot know a digest, and guessing one would be worse than
/// none.
pub(crate) fn fixable_rule(rule: RuleId) -> bool {
    matches!(
        rule,
        RuleId::VulnerableDependency
            | RuleId::VulnerableImage
            | RuleId::EolBaseImage
            | RuleId::UnapprovedBaseImage
            | RuleId::ImageTagNotPinned
            | RuleId::DependencyBelowMinimum
            | RuleId::DependencyBanned
    )
}

/// Every distinct edit of the active findings' fixes, per file, in file order. Two findings of
/// one dependency share one fix, so identical edits are kept once; two different edits of the
/// same bytes are a conflict, and the later one is dropped (reported by `verify`).
pub fn collect_edits(findings: &[Finding]) -> BTreeMap<String, Vec<Edit>> {
    let mut per_file: BTreeMap<String, Vec<Edit>> = BTreeMap::new();
    for f in findings.iter().filter(|f| f.is_active()) {
        let Some(fix) = &f.fix else { continue };
        for edit in &fix.edits {
            let edits = per_file.entry(edit.file.clone()).or_default();
            if !edits.iter().any(|e| overlaps(e.span, edit.span)) {
                edits.push(edit.clone());
            }
        }
    }
    for edits in per_file.values_mut() {
        edits.sort_by_key(|e| e.span);
    }
    per_file
}

fn overlaps(a: Span, b: Span) -> bool {
    a == b || (a.start < b.end && b.start < a.end)
}

/// Applies `edits` to the snapshot, giving the snapshot after the fix.
pub fn apply(
    snapshot: &RepoSnapshot,
    edits: &BTreeMap<String, Vec<Edit>>,
) -> Result<RepoSnapshot, ApplyError> {
    let mut after = snapshot.clone();
    for (file, file_edits) in edits {
        let Some(source) = snapshot.files.get(file) else {
            return Err(ApplyError::MissingFile(file.clone()));
        };
        after
            .files
            .insert(file.clone(), apply_edits(source, file_edits)?);
    }
    Ok(after)
}

#[cfg(test)]
mod tests;
