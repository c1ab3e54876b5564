//! Remediation over time, as figures: pure functions of the stored history and `now`.
//!
//! Every metric is defined once here and used by every view (`patchwright report`, the web
//! pages, their JSON and CSV). The definitions, in words, are in README ("Remediation
//! figures"); the tests in `tests.rs` and `tests/remediation_history.rs` pin them.
//!
//! The unit of remediation is an [`Exposure`]: one stretch of time during which a finding was
//! open in a repository's default branch and not covered by an exception.

pub mod exposures;
pub mod figures;
pub mod lineage;
pub mod snapshots;
pub mod text;

#[cfg(test)]
mod tests;

pub use exposures::{Closure, Exposure, exposures};
pub use figures::{Figures, Window, figures};

use crate::store::accepted_risks::AcceptedRisk;
use crate::store::fix_prs::FixPr;
use crate::store::history::{FindingEvent, RepositoryRow, SnapshotRow};
use crate::store::ignores::UpdateIgnore;

/// Everything the figures are computed from, for the repositories a person may see.
#[derive(Debug, Clone, Default)]
pub struct Dataset {
    pub repositories: Vec<RepositoryRow>,
    /// Oldest first.
    pub events: Vec<FindingEvent>,
    pub fix_prs: Vec<FixPr>,
    pub accepted_risks: Vec<AcceptedRisk>,
    pub ignores: Vec<UpdateIgnore>,
    /// Daily open counts, for the charts (see [`snapshots::daily_counts`]).
    pub snapshots: Vec<SnapshotRow>,
}

impl Dataset {
    /// The part of the dataset about the findings `owner` (a CODEOWNERS entry such as
    /// `@acme/web`) owns, with its daily counts over `from..=to` computed from those findings
    /// (the stored snapshots are per repository, not per owner).
    pub fn for_owner(
        &self,
        owner: &str,
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
    ) -> Dataset {
        let events: Vec<FindingEvent> = self
            .events
            .iter()
            .filter(|e| e.owners.iter().any(|o| o.eq_ignore_ascii_case(owner)))
            .cloned()
            .collect();
        let ids: std::collections::HashSet<i64> = events.iter().map(|e| e.repository_id).collect();
        let mut data = self.restricted(|r| ids.contains(&r.id));
        data.snapshots = snapshots::daily_counts(&exposures(&events), from, to);
        data.events = events;
        data
    }

    /// The CODEOWNERS entries owning at least one finding, sorted.
    pub fn owners(&self) -> Vec<String> {
        let set: std::collections::BTreeSet<&str> = self
            .events
            .iter()
            .flat_map(|e| e.owners.iter().map(String::as_str))
            .collect();
        set.into_iter().map(str::to_string).collect()
    }

    /// The tiers the repositories were last scanned under, sorted.
    pub fn tiers(&self) -> Vec<String> {
        let set: std::collections::BTreeSet<&str> = self
            .repositories
            .iter()
            .filter_map(|r| r.tier.as_deref())
            .collect();
        set.into_iter().map(str::to_string).collect()
    }

    /// The part of the dataset about the repositories `keep` accepts.
    pub fn restricted(&self, keep: impl Fn(&RepositoryRow) -> bool) -> Dataset {
        let ids: std::collections::HashSet<i64> = self
            .repositories
            .iter()
            .filter(|r| keep(r))
            .map(|r| r.id)
            .collect();
        Dataset {
            repositories: self
                .repositories
                .iter()
                .filter(|r| ids.contains(&r.id))
                .cloned()
                .collect(),
            events: self
                .events
                .iter()
                .filter(|e| ids.contains(&e.repository_id))
                .cloned()
                .collect(),
            fix_prs: self
                .fix_prs
                .iter()
                .filter(|p| ids.contains(&p.repository_id))
                .cloned()
                .collect(),
            accepted_risks: self
                .accepted_risks
                .iter()
                .filter(|a| ids.contains(&a.repository_id))
                .cloned()
                .collect(),
            ignores: self
                .ignores
                .iter()
                .filter(|i| ids.contains(&i.repository_id))
                .cloned()
                .collect(),
            snapshots: self
                .snapshots
                .iter()
                .filter(|s| ids.contains(&s.repository_id))
                .cloned()
                .collect(),
        }
    }
}
