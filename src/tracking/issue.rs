//! The tracking issue's title, body and assignees, from a report. Pure: the first-seen dates and
//! today come in, text comes out; creating, updating and closing the issue is the caller's job.

use super::assign::{Assignment, OwnerSource, assignment, owners_for_file};
use super::{FixGap, fix_gap, untracked_blockers};
use crate::model::{Finding, Severity};
use crate::owners::CodeOwners;
use crate::policy::{OrgPolicy, sla_due};
use crate::render::markers;
use crate::render::templates::render;
use crate::render::text::{change_label, code_span, list_line};
use crate::report::Report;
use chrono::NaiveDate;
use serde::Serialize;
use std::cmp::Reverse;

/// The same title whatever the count, so people can search for it and the caller can find its
/// own issue again; the counts are in the body.
pub const TITLE: &str = "Security blockers without an automatic fix";

/// First line of the body: how the caller recognises the issue it opened, whoever edited the
/// title.
pub const MARKER: &str = markers::TRACKING_ISSUE;

/// What the tracking issue should say and whom it should be assigned to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackingIssue {
    pub title: String,
    pub body: String,
    /// `users` are the assignees; `mentions` are already written in the body.
    pub assignment: Assignment,
}

/// The tracking issue for `report`'s blockers that no fix PR will clear, or `None` when there are
/// none (the caller then closes the issue). `first_seen` gives the day a finding was first seen
/// (the store's record); unknown means today, so a new finding's clock starts now. `fallback`
/// owns files nobody in CODEOWNERS owns. `slug` is the app's slug, for the commands the body
/// offers; the bot (`<slug>[bot]`) is never assigned. The body depends only on the arguments, so
/// an unchanged body means nothing to update.
pub fn tracking_issue(
    report: &Report,
    first_seen: &dyn Fn(&Finding) -> Option<NaiveDate>,
    org: &OrgPolicy,
    codeowners: Option<&CodeOwners>,
    fallback: &[String],
    today: NaiveDate,
    slug: &str,
) -> Option<TrackingIssue> {
    let findings = untracked_blockers(report);
    if findings.is_empty() {
        return None;
    }
    let slug = slug.trim().trim_start_matches('@');
    let mut items: Vec<Item> = findings
        .into_iter()
        .map(|f| {
            let seen = first_seen(f).unwrap_or(today);
            item(f, seen, org, codeowners, fallback, slug)
        })
        .collect();
    // Soonest due first (so overdue first), the most severe first on the same day; then place,
    // so the order never depends on the report's.
    items.sort_by(|a, b| {
        let rank = |i: &Item| (i.due.is_none(), i.due, Reverse(i.severity));
        rank(a).cmp(&rank(b)).then_with(|| place(a).cmp(&place(b)))
    });

    let owners: Vec<String> = items
        .iter()
        .flat_map(|i| i.view.owners.iter().cloned())
        .collect();
    let assignment = assignment(&owners, &format!("{slug}[bot]"));

    let views: Vec<ItemView> = items
        .into_iter()
        .map(|mut i| {
            if let Some(due) = i.due {
                i.view.due = Some(due.to_string());
                let late = (today - due).num_days();
                i.view.overdue_days = (late > 0).then_some(late);
                i.view.due_today = late == 0;
            }
            i.view
        })
        .collect();
    let view = IssueView {
        marker: MARKER,
        count: views.len(),
        overdue: views.iter().filter(|v| v.overdue_days.is_some()).count(),
        items: views,
        max_exception_days: org.max_exception_days,
    };
    let body = render("tracking_issue.md", &view).unwrap_or_else(|e| {
        format!(
            "{MARKER}\n{} blocker(s) have no automatic fix (the list could not be rendered: {e})\n",
            view.count
        )
    });
    Some(TrackingIssue {
        title: TITLE.to_string(),
        body,
        assignment,
    })
}

fn place(i: &Item) -> (&str, u32, &str, &str, &str) {
    let v = &i.view;
    (&v.file, v.line, &v.rule, &v.subject, &v.accept)
}

/// One listed finding before the due date is turned into words.
struct Item {
    due: Option<NaiveDate>,
    severity: Option<Severity>,
    view: ItemView,
}

#[derive(Serialize)]
struct IssueView {
    marker: &'static str,
    count: usize,
    overdue: usize,
    items: Vec<ItemView>,
    max_exception_days: u32,
}

#[derive(Serialize)]
struct ItemView {
    level: String,
    rule: String,
    subject: String,
    file: String,
    line: u32,
    advisories: Vec<AdvisoryView>,
    first_seen: String,
    /// The severity the SLA is counted for, and its days, so the date can be checked by hand.
    severity: String,
    sla_days: u32,
    due: Option<String>,
    overdue_days: Option<i64>,
    due_today: bool,
    owners: Vec<String>,
    /// Where the owners come from, in words.
    owned_by: String,
    /// Why no fix PR clears it.
    why: String,
    /// `none`, `major` or `relock`: which way out the body suggests.
    gap: &'static str,
    /// The version or reference a major upgrade or a re-lock would move to.
    target: Option<String>,
    relock: Option<String>,
    /// The `accept-risk` command for it, naming the preferred advisory id, else the rule id.
    accept: String,
}

#[derive(Serialize)]
struct AdvisoryView {
    id: String,
    severity: Option<String>,
    /// OSV's page, when the id is safe to put in a URL as it is.
    url: Option<String>,
}

fn item(
    f: &Finding,
    first_seen: NaiveDate,
    org: &OrgPolicy,
    codeowners: Option<&CodeOwners>,
    fallback: &[String],
    slug: &str,
) -> Item {
    let owners = owners_for_file(codeowners, &f.file, fallback);
    // As `policy::sla_due` counts it: an unrated finding gets the unknown-severity days.
    let severity = f.severity.unwrap_or(Severity::Unknown);
    let owned_by = match &owners.source {
        OwnerSource::CodeOwners { line, pattern } => {
            format!("CODEOWNERS line {line}, {}", code_span(pattern))
        }
        OwnerSource::Fallback { unowned_by: None } => "fallback".to_string(),
        OwnerSource::Fallback {
            unowned_by: Some(line),
        } => format!("fallback: CODEOWNERS line {line} leaves this file without owners"),
    };
    let gap = fix_gap(f);
    let (gap_name, target, relock) = match gap {
        Some(FixGap::Major(fix)) if !fix.edits.is_empty() => {
            ("major-proposed", Some(fix.to.clone()), None)
        }
        Some(FixGap::Major(fix)) => ("major", Some(fix.to.clone()), fix.relock.clone()),
        Some(FixGap::Relock(fix)) => ("relock", Some(fix.to.clone()), fix.relock.clone()),
        _ => ("none", None, None),
    };
    let advisories = f
        .advisories
        .iter()
        .map(|id| AdvisoryView {
            id: id.clone(),
            severity: f
                .advisory_details
                .iter()
                .find(|a| &a.id == id)
                .map(|a| a.severity.to_string()),
            url: url_safe(id).then(|| format!("https://osv.dev/vulnerability/{id}")),
        })
        .collect();
    Item {
        due: sla_due(org, f, first_seen),
        severity: f.severity,
        view: ItemView {
            level: f.level.to_string(),
            rule: f.rule.to_string(),
            subject: f.subject.clone(),
            file: f.file.clone(),
            line: f.line,
            advisories,
            first_seen: first_seen.to_string(),
            severity: severity.to_string(),
            sla_days: org.sla_days.for_severity(severity),
            due: None,
            overdue_days: None,
            due_today: false,
            owners: owners.owners,
            owned_by,
            why: list_line(&why(f, gap)),
            gap: gap_name,
            target,
            relock,
            accept: format!(
                "@{slug} accept-risk {} --until YYYY-MM-DD --reason \"…\"",
                f.advisories.first().map_or(f.rule.as_str(), String::as_str)
            ),
        },
    }
}

/// Why no fix PR will clear `f`, in words the owner can act on.
fn why(f: &Finding, gap: Option<FixGap<'_>>) -> String {
    match gap {
        // A major fix that is file edits still gets a fix PR (remedy::groups opens it); it is
        // tracked because it waits for a person, and the SLA runs meanwhile.
        Some(FixGap::Major(fix)) if !fix.edits.is_empty() => format!(
            "needs a major upgrade to {} (from {}); a fix PR proposes it, but a major release may break the build or behaviour, so it waits for a person to test and merge it",
            code_span(&fix.to),
            code_span(&fix.from)
        ),
        Some(FixGap::Major(fix)) => format!(
            "needs a major upgrade to {} (from {}), not done automatically: a major release may break the build or behaviour",
            code_span(&fix.to),
            code_span(&fix.from)
        ),
        Some(FixGap::Relock(fix)) => {
            let how = match &fix.relock {
                Some(cmd) => format!(
                    "the package manager must rewrite the lockfile: {}",
                    code_span(cmd)
                ),
                None => "the change cannot be written as an edit of the file".to_string(),
            };
            format!(
                "{} → {} ({}) is not done automatically: {how}",
                code_span(&fix.from),
                code_span(&fix.to),
                change_label(fix.change)
            )
        }
        _ => match &f.no_fix_reason {
            Some(reason) => reason.clone(),
            None => format!(
                "patchwright has no automatic fix for {}: {}",
                code_span(f.rule.as_str()),
                f.message
            ),
        },
    }
}

/// OSV ids are letters, digits, `-`, `.` and `_`; anything else is shown unlinked rather than
/// escaped into a link that might point elsewhere.
fn url_safe(id: &str) -> bool {
    !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_ids_are_linked() {
        assert!(url_safe("GHSA-p8p7-x288-28g6"));
        assert!(url_safe("PYSEC-2023-192"));
        for bad in ["", "x/../y", "a b", "id?q=1", "é"] {
            assert!(!url_safe(bad), "{bad}");
        }
    }
}
