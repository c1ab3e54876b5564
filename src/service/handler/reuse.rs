//! When a sweep may end a scan after asking GitHub whether the default branch moved.
//!
//! A scan's result is a pure function of the commit, the knowledge (catalog, advisories, org
//! policy), the repository's stored decisions (accepted risks, ignores), the handler's settings
//! and the day. The commit is checked with GitHub (a conditional request); the rest is folded
//! into a key here, except the day, which matters only at known dates: an end-of-life date, an
//! exception's expiry, a blocker's SLA due date. [`next_change`] finds the first of those after
//! the scan, and the mark is reusable until then. Everything here is pure; the knowledge's own
//! digests are [`crate::knowledge::digest`]'s.

use crate::catalog::Catalog;
use crate::knowledge::digest::HashWriter;
use crate::model::Finding;
use crate::pipeline::RunOptions;
use crate::policy::{Exception, OrgPolicy, sla_due};
use crate::store::scan_marks::ScanMark;
use chrono::{DateTime, NaiveDate, Utc};
use std::fmt::Write as _;

/// The key a mark is valid under: the digests of the catalog and policy
/// ([`crate::knowledge::digest::knowledge_digest`]) and of the advisories naming a package
/// the repository holds, the handler's settings that shape what a scan does (`settings`, any
/// stable text), and the repository's stored decisions.
pub fn scan_key(
    knowledge_digest: &str,
    advisories_digest: &str,
    settings: &str,
    options: &RunOptions,
) -> String {
    let mut w = HashWriter::default();
    let _ = write!(
        w,
        "{knowledge_digest}\n{advisories_digest}\n{settings}\n{options:?}"
    );
    w.finish()
}

/// The first day after `today` on which the same commit, knowledge and decisions may be judged
/// differently, or `None` when no date is known to matter:
/// - an end-of-life rule's date and its `blocks_after` (status changes on that day);
/// - an exception's expiry (it stops suppressing the day after `expires`);
/// - a blocker's SLA due date (the tracking issue says "due today" on it, "overdue" after, and
///   counts the overdue days, so a blocker already due changes tomorrow).
pub fn next_change(
    catalog: &Catalog,
    exceptions: &[&Exception],
    blockers: &[(&Finding, NaiveDate)],
    policy: &OrgPolicy,
    today: NaiveDate,
) -> Option<NaiveDate> {
    let tomorrow = today.succ_opt()?;
    let eol = catalog
        .images
        .iter()
        .flat_map(|image| &image.end_of_life)
        .flat_map(|rule| std::iter::once(rule.date).chain(rule.blocks_after));
    let expiries = exceptions.iter().filter_map(|e| e.expires.succ_opt());
    let due = blockers.iter().filter_map(|(finding, first_seen)| {
        sla_due(policy, finding, *first_seen).map(|d| d.max(tomorrow))
    });
    eol.chain(expiries).chain(due).filter(|d| *d > today).min()
}

/// Whether `mark` stands for a scan whose result still holds at `now` under `key`, provided
/// the branch has not moved (which only GitHub can say).
pub fn still_valid(mark: &ScanMark, key: &str, now: DateTime<Utc>) -> bool {
    mark.knowledge_key == key && mark.reusable_until.is_none_or(|until| now < until)
}

/// The start (UTC midnight) of `day`, as a mark stores it.
pub fn start_of(day: NaiveDate) -> DateTime<Utc> {
    day.and_time(chrono::NaiveTime::MIN).and_utc()
}

/// `until`, brought forward to `days` after `today` at the latest: what the repository does not
/// hold (a registry's tags and digests) is looked at again at that pace.
pub fn at_most_days(until: Option<NaiveDate>, today: NaiveDate, days: u32) -> Option<NaiveDate> {
    let recheck = today.checked_add_days(chrono::Days::new(u64::from(days)));
    match (until, recheck) {
        (Some(until), Some(recheck)) => Some(until.min(recheck)),
        (until, recheck) => until.or(recheck),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recheck_window_brings_the_next_change_forward_never_back() {
        let day = |d| NaiveDate::from_ymd_opt(2026, 12, d).unwrap();
        assert_eq!(at_most_days(None, day(1), 7), Some(day(8)));
        assert_eq!(at_most_days(Some(day(20)), day(1), 7), Some(day(8)));
        assert_eq!(at_most_days(Some(day(3)), day(1), 7), Some(day(3)));
    }

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn catalog(toml: &str) -> Catalog {
        crate::catalog::parse_catalog("catalog.toml", toml).expect("a valid catalog")
    }

    #[test]
    fn the_key_changes_with_settings_and_decisions() {
        let plain = RunOptions::default();
        let tiered = RunOptions {
            tier: Some("internal-tool".into()),
            ..RunOptions::default()
        };
        let k = scan_key("d", "a", "max-open=4", &plain);
        assert_eq!(k, scan_key("d", "a", "max-open=4", &plain));
        assert_ne!(k, scan_key("e", "a", "max-open=4", &plain));
        assert_ne!(k, scan_key("d", "b", "max-open=4", &plain));
        assert_ne!(k, scan_key("d", "a", "max-open=5", &plain));
        assert_ne!(k, scan_key("d", "a", "max-open=4", &tiered));
    }

    #[test]
    fn the_next_change_is_the_first_date_that_matters_after_today() {
        let c = catalog(
            r#"
revision = "r1"
[[image]]
name = "node"
[[image.end-of-life]]
tags = ["18*"]
date = 2026-12-10
blocks-after = 2027-01-05
"#,
        );
        let policy = OrgPolicy::default();
        let today = day("2026-12-03");
        assert_eq!(
            next_change(&c, &[], &[], &policy, today),
            Some(day("2026-12-10"))
        );
        // Past the first date, the second one is next; past both, nothing in the catalog.
        assert_eq!(
            next_change(&c, &[], &[], &policy, day("2026-12-10")),
            Some(day("2027-01-05"))
        );
        assert_eq!(next_change(&c, &[], &[], &policy, day("2027-01-05")), None);
        // An exception that lasts through the 5th stops suppressing on the 6th.
        let exception = Exception {
            id: "CVE-1".into(),
            package: None,
            path: None,
            reason: "r".into(),
            owner: "o".into(),
            expires: day("2026-12-05"),
            origin: crate::model::ExceptionOrigin::Config {
                location: crate::model::Location::new(".patchwright.toml", 1, 1),
            },
        };
        assert_eq!(
            next_change(&c, &[&exception], &[], &policy, today),
            Some(day("2026-12-06"))
        );
    }

    #[test]
    fn a_blocker_past_its_due_date_changes_the_tracking_issue_every_day() {
        let policy = OrgPolicy::default();
        let mut blocker = Finding::new(
            crate::model::RuleId::VulnerableDependency,
            crate::model::Location::new("package-lock.json", 1, 1),
            "left-pad@1.0.0",
            "left-pad 1.0.0 is affected by GHSA-aaaa-bbbb-cccc",
        );
        blocker.level = crate::model::Level::Blocker;
        blocker.severity = Some(crate::model::Severity::Critical);
        let today = day("2026-12-03");
        let days = policy
            .sla_days
            .for_severity(crate::model::Severity::Critical);
        let seen_long_ago = day("2025-01-01");
        assert_eq!(
            next_change(
                &Catalog::empty(),
                &[],
                &[(&blocker, seen_long_ago)],
                &policy,
                today
            ),
            Some(day("2026-12-04"))
        );
        let due = today + chrono::Days::new(days.into());
        assert_eq!(
            next_change(&Catalog::empty(), &[], &[(&blocker, today)], &policy, today),
            Some(due)
        );
    }

    #[test]
    fn a_mark_holds_under_its_key_until_its_date() {
        let mark = ScanMark {
            repository_id: 1,
            default_branch: "main".into(),
            head_sha: "abc".into(),
            etag: None,
            knowledge_key: "k".into(),
            reusable_until: Some(start_of(day("2026-12-10"))),
            scanned_at: start_of(day("2026-12-01")),
        };
        let before = start_of(day("2026-12-09")) + chrono::TimeDelta::hours(23);
        assert!(still_valid(&mark, "k", before));
        assert!(!still_valid(&mark, "other", before));
        assert!(!still_valid(&mark, "k", start_of(day("2026-12-10"))));
        let open = ScanMark {
            reusable_until: None,
            ..mark
        };
        assert!(still_valid(&open, "k", start_of(day("2030-01-01"))));
    }
}
