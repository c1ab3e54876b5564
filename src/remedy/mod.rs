//! Findings → minimal edits, then apply and verify. Pure.
//!
//! One dependency gets one plan, whatever number of findings it has: the target must clear all
//! of them at once (an image that is both end-of-life and unapproved; a package with three
//! advisories), so a second PR never follows the first.

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

/// Attaches a fix (or the reason there is none) to every finding a fix can address.
pub fn plan(
    findings: &mut [Finding],
    snapshot: &RepoSnapshot,
    catalog: &Catalog,
    advisories: &AdvisoryDb,
    today: NaiveDate,
) {
    // Group findings by the dependency they are about: (file, first byte of its declaration).
    let mut groups: BTreeMap<(String, u32, u32, String), Vec<usize>> = BTreeMap::new();
    for (i, f) in findings.iter().enumerate() {
        if let Some(d) = &f.dependency
            && fixable_rule(f.rule)
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
            images::plan(dependency, &group, catalog, source, today)
        } else {
            packages::plan(dependency, &group, catalog, advisories)
        };
        for &i in indices {
            match &planned {
                Ok(fix) => findings[i].fix = Some(fix.clone()),
                Err(reason) => findings[i].no_fix_reason = Some(reason.clone()),
            }
        }
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
fn fixable_rule(rule: RuleId) -> bool {
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
