//! The tracking issue: one issue per repository listing the blockers no fix PR will clear, with
//! their SLA due dates and owners, and the owners to request on fix PRs. Pure (see DESIGN.md):
//! the caller opens, updates and closes the issue and requests the reviewers.
//!
//! A fix PR is opened for a fix that [`is_automatic`]; every other active blocker is tracked, so
//! each blocker is either on its way to being fixed by a PR or listed here with a date.

mod assign;
mod issue;

pub use assign::{
    Assignment, MAX_ASSIGNEES, OwnerSource, Owners, assignment, owners_for_file,
    reviewers_for_files,
};
pub use issue::{MARKER, TITLE, TrackingIssue, tracking_issue};

use crate::model::{ChangeKind, Finding, Fix, Level};
use crate::report::Report;

/// Whether patchwright makes this fix itself, in a fix PR: it must be file edits (a fix that
/// needs the package manager to re-lock has none, and `remedy::groups` skips it), and not a
/// major upgrade, which may break the build: its fix PR (if it is edits) waits for a person, so
/// it is tracked too.
pub fn is_automatic(fix: &Fix) -> bool {
    !fix.edits.is_empty() && fix.change != ChangeKind::Major
}

/// Why a finding's fix is not automatic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FixGap<'a> {
    /// No fix at all (`Finding::no_fix_reason` says why when remedy knows).
    NoFix,
    /// The only fix is a major upgrade.
    Major(&'a Fix),
    /// The fix needs a re-lock (or otherwise cannot be written as edits).
    Relock(&'a Fix),
}

/// What stands between `f` and an automatic fix; `None` when a fix PR will carry it.
pub fn fix_gap(f: &Finding) -> Option<FixGap<'_>> {
    match &f.fix {
        None => Some(FixGap::NoFix),
        Some(fix) if is_automatic(fix) => None,
        Some(fix) if fix.change == ChangeKind::Major => Some(FixGap::Major(fix)),
        Some(fix) => Some(FixGap::Relock(fix)),
    }
}

/// Active blockers that no fix PR will clear, in the report's order.
pub fn untracked_blockers(report: &Report) -> Vec<&Finding> {
    report
        .findings
        .iter()
        .filter(|f| f.is_active() && f.level == Level::Blocker && fix_gap(f).is_some())
        .collect()
}

#[cfg(test)]
mod tests;
