//! The figures, each defined once. README's "Remediation figures" says the same in words.

use super::snapshots::{DayPoint, series};
use super::{Closure, Dataset, Exposure, exposures};
use crate::model::Severity;
use crate::policy::SlaDays;
use crate::store::fix_prs::FixPrState;
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use serde::Serialize;
use std::collections::{BTreeMap, HashSet};

/// Severities from most to least urgent, as figures list them.
pub const SEVERITIES: [&str; 5] = ["critical", "high", "medium", "low", "unknown"];
/// How far ahead "due soon" looks.
pub const DUE_SOON_DAYS: i64 = 7;
/// A second fix of the same package within this many days is rework.
pub const REWORK_DAYS: i64 = 30;
/// Exceptions expiring within this many days are listed as expiring.
pub const EXPIRING_DAYS: i64 = 14;

/// The period the outcome figures (fix PRs, recurrence, rework, exceptions) look back over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Window {
    pub days: i64,
}

impl Window {
    /// Parses `90d` (or `90`): a number of days, at least 1.
    pub fn parse(text: &str) -> Result<Window, String> {
        let digits = text.trim().strip_suffix('d').unwrap_or(text.trim());
        match digits.parse::<i64>() {
            Ok(days) if (1..=3650).contains(&days) => Ok(Window { days }),
            _ => Err(format!(
                "`{text}` is not a period: write a number of days such as `90d` (1 to 3650)"
            )),
        }
    }

    pub fn start(self, now: DateTime<Utc>) -> DateTime<Utc> {
        now - TimeDelta::days(self.days)
    }
}

/// Mean time to remediate one severity over one period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Mttr {
    /// Exposures fixed in the period.
    pub fixed: usize,
    /// Mean days from clock start to fix; `None` when nothing was fixed.
    pub mean_days: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MttrRow {
    pub severity: String,
    pub last_30: Mttr,
    pub last_90: Mttr,
    /// Last 30 days' mean minus the 30 days before's: negative is faster.
    pub trend_30_days: Option<f64>,
}

/// Where an open blocker stands against its SLA.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SlaState {
    Breached,
    DueSoon,
    OnTrack,
}

impl SlaState {
    pub fn as_str(self) -> &'static str {
        match self {
            SlaState::Breached => "breached",
            SlaState::DueSoon => "due-soon",
            SlaState::OnTrack => "on-track",
        }
    }
}

/// One open finding, as the per-repository pages list it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OpenFinding {
    pub repository_id: i64,
    pub repository: String,
    pub key: String,
    pub level: String,
    pub severity: String,
    pub package: String,
    pub advisory: String,
    pub owners: Vec<String>,
    pub since: DateTime<Utc>,
    /// Blockers only: when its SLA runs out, and where it stands.
    pub due: Option<NaiveDate>,
    pub sla: Option<SlaState>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct SlaCounts {
    pub breached: usize,
    pub due_soon: usize,
    pub on_track: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Share {
    pub count: usize,
    pub of: usize,
    /// `count / of`, `None` when `of` is zero.
    pub share: Option<f64>,
}

impl Share {
    pub fn new(count: usize, of: usize) -> Share {
        Share {
            count,
            of,
            share: (of > 0).then(|| count as f64 / of as f64),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FixPrOutcomes {
    /// Fix PRs opened in the window, and what became of them.
    pub opened: usize,
    pub merged: usize,
    pub closed_by_person: usize,
    pub superseded: usize,
    pub still_open: usize,
    /// Merged among those decided (merged, closed by a person, superseded).
    pub merge_rate: Option<f64>,
    /// Median hours from opening to merge, of those merged.
    pub median_hours_to_merge: Option<f64>,
}

/// An accepted risk as the pages list it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExceptionInForce {
    pub repository: String,
    pub target: String,
    pub reason: String,
    pub until: NaiveDate,
    pub granted_by: String,
    pub expiring: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IgnoredUpdate {
    pub repository: String,
    pub name: String,
    pub scope: String,
    pub created_by: String,
}

/// Every figure for one scope (organisation, tier, team or repository).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figures {
    pub now: DateTime<Utc>,
    pub window: Window,
    pub repositories: usize,
    pub mttr: Vec<MttrRow>,
    pub sla: SlaCounts,
    /// Scanned repositories with no open blocker.
    pub passing_policy: Share,
    pub fix_prs: FixPrOutcomes,
    /// Exposures opened in the window that reopen something fixed before.
    pub recurrence: Share,
    /// Fixes in the window that fix a package fixed within the 30 days before.
    pub rework: Share,
    /// Exposures closed in the window that an exception closed.
    pub closed_by_exception: Share,
    pub open: Vec<OpenFinding>,
    pub exceptions: Vec<ExceptionInForce>,
    pub ignored_updates: Vec<IgnoredUpdate>,
    /// Daily open blockers and warnings over the window, by severity.
    pub open_blockers: Vec<DayPoint>,
    pub open_warnings: Vec<DayPoint>,
}

/// The SLA days of a stored severity name.
fn sla_days(sla: &SlaDays, severity: &str) -> i64 {
    i64::from(sla.for_severity(Severity::parse(severity).unwrap_or(Severity::Unknown)))
}

/// Whether an exposure counts toward time to remediate: blockers and warnings (info is only
/// listed; nothing is asked of anyone).
fn remediable(e: &Exposure) -> bool {
    e.level == "blocker" || e.level == "warning"
}

fn days_between(from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    (to - from).num_milliseconds() as f64 / 86_400_000.0
}

/// Mean time to remediate exposures of `severity` fixed in `(start, end]`.
pub fn mttr(
    exposures: &[Exposure],
    severity: &str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Mttr {
    let durations: Vec<f64> = exposures
        .iter()
        .filter(|e| remediable(e) && e.severity == severity)
        .filter_map(|e| {
            let at = e.fixed_at()?;
            (at > start && at <= end).then(|| days_between(e.clock_start, at))
        })
        .collect();
    Mttr {
        fixed: durations.len(),
        mean_days: (!durations.is_empty())
            .then(|| durations.iter().sum::<f64>() / durations.len() as f64),
    }
}

/// When an open blocker's SLA runs out, and where it stands at `now`.
pub fn sla_state(e: &Exposure, sla: &SlaDays, now: DateTime<Utc>) -> Option<(NaiveDate, SlaState)> {
    if e.level != "blocker" || !e.is_open() {
        return None;
    }
    let due = e.clock_start + TimeDelta::days(sla_days(sla, &e.severity));
    let state = if now > due {
        SlaState::Breached
    } else if due - now <= TimeDelta::days(DUE_SOON_DAYS) {
        SlaState::DueSoon
    } else {
        SlaState::OnTrack
    };
    Some((due.date_naive(), state))
}

/// Fixes (one per repository, package and moment: a fix PR clearing several advisories of
/// one package is one fix) with, for each, whether the same package was fixed in the 30 days
/// before.
pub fn fixes_with_rework(exposures: &[Exposure]) -> Vec<(i64, String, DateTime<Utc>, bool)> {
    let mut fixes: Vec<(i64, &str, DateTime<Utc>)> = exposures
        .iter()
        .filter(|e| !e.package.is_empty())
        .filter_map(|e| Some((e.repository_id, e.package.as_str(), e.fixed_at()?)))
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    fixes.sort_by(|a, b| (a.0, a.1, a.2).cmp(&(b.0, b.1, b.2)));
    let mut out = Vec::with_capacity(fixes.len());
    for (i, &(repo, package, at)) in fixes.iter().enumerate() {
        let rework = i > 0 && {
            let (prev_repo, prev_package, prev_at) = fixes[i - 1];
            prev_repo == repo
                && prev_package == package
                && at - prev_at <= TimeDelta::days(REWORK_DAYS)
        };
        out.push((repo, package.to_string(), at, rework));
    }
    out
}

/// All figures of `data` at `now`.
pub fn figures(data: &Dataset, sla: &SlaDays, now: DateTime<Utc>, window: Window) -> Figures {
    let all = exposures(&data.events);
    let start = window.start(now);
    let names: BTreeMap<i64, &str> = data
        .repositories
        .iter()
        .map(|r| (r.id, r.full_name.as_str()))
        .collect();
    let name = |id: i64| names.get(&id).copied().unwrap_or("").to_string();

    let mttr = SEVERITIES
        .iter()
        .map(|&severity| {
            let last_30 = mttr(&all, severity, now - TimeDelta::days(30), now);
            let before_30 = mttr(
                &all,
                severity,
                now - TimeDelta::days(60),
                now - TimeDelta::days(30),
            );
            let trend_30_days = match (last_30.mean_days, before_30.mean_days) {
                (Some(now_mean), Some(before_mean)) => Some(now_mean - before_mean),
                _ => None,
            };
            MttrRow {
                severity: severity.to_string(),
                last_30,
                last_90: mttr(&all, severity, now - TimeDelta::days(90), now),
                trend_30_days,
            }
        })
        .collect();

    let mut open: Vec<OpenFinding> = all
        .iter()
        .filter(|e| e.is_open())
        .map(|e| {
            let sla_at = sla_state(e, sla, now);
            OpenFinding {
                repository_id: e.repository_id,
                repository: name(e.repository_id),
                key: e.key.clone(),
                level: e.level.clone(),
                severity: e.severity.clone(),
                package: e.package.clone(),
                advisory: e.advisory.clone(),
                owners: e.owners.clone(),
                since: e.clock_start,
                due: sla_at.map(|(due, _)| due),
                sla: sla_at.map(|(_, state)| state),
            }
        })
        .collect();
    open.sort_by(|a, b| {
        (a.due.is_none(), a.due, &a.repository, &a.key).cmp(&(
            b.due.is_none(),
            b.due,
            &b.repository,
            &b.key,
        ))
    });
    let mut sla_counts = SlaCounts::default();
    for state in open.iter().filter_map(|f| f.sla) {
        match state {
            SlaState::Breached => sla_counts.breached += 1,
            SlaState::DueSoon => sla_counts.due_soon += 1,
            SlaState::OnTrack => sla_counts.on_track += 1,
        }
    }

    let blocked: HashSet<i64> = open
        .iter()
        .filter(|f| f.level == "blocker")
        .map(|f| f.repository_id)
        .collect();
    let scanned: Vec<i64> = data
        .repositories
        .iter()
        .filter(|r| r.tier.is_some())
        .map(|r| r.id)
        .collect();
    let passing = scanned.iter().filter(|id| !blocked.contains(id)).count();

    let opened_in_window: Vec<&Exposure> = all
        .iter()
        .filter(|e| e.opened_at > start && e.opened_at <= now && e.opened_at == e.clock_start)
        .collect();
    let recurrences = opened_in_window.iter().filter(|e| e.recurrence).count();

    let fixes: Vec<_> = fixes_with_rework(&all)
        .into_iter()
        .filter(|(_, _, at, _)| *at > start && *at <= now)
        .collect();
    let rework = fixes.iter().filter(|f| f.3).count();

    let closed: Vec<Closure> = all
        .iter()
        .filter_map(|e| e.closed)
        .filter(|(at, _)| *at > start && *at <= now)
        .map(|(_, how)| how)
        .collect();
    let by_exception = closed.iter().filter(|c| **c == Closure::Excepted).count();

    let today = now.date_naive();
    let exceptions = data
        .accepted_risks
        .iter()
        .filter(|a| a.in_force(today))
        .map(|a| ExceptionInForce {
            repository: name(a.repository_id),
            target: a.target.clone(),
            reason: a.reason.clone(),
            until: a.until,
            granted_by: a.granted_by.clone(),
            expiring: a.until - today <= TimeDelta::days(EXPIRING_DAYS),
        })
        .collect();
    let ignored_updates = data
        .ignores
        .iter()
        .filter(|i| i.removed_at.is_none())
        .map(|i| IgnoredUpdate {
            repository: name(i.repository_id),
            name: i.name.clone(),
            scope: i.scope.to_string(),
            created_by: i.created_by.clone(),
        })
        .collect();

    let from_day = start.date_naive();
    Figures {
        now,
        window,
        repositories: data.repositories.len(),
        mttr,
        sla: sla_counts,
        passing_policy: Share::new(passing, scanned.len()),
        fix_prs: fix_pr_outcomes(data, start, now),
        recurrence: Share::new(recurrences, opened_in_window.len()),
        rework: Share::new(rework, fixes.len()),
        closed_by_exception: Share::new(by_exception, closed.len()),
        open,
        exceptions,
        ignored_updates,
        open_blockers: series(&data.snapshots, "blocker", from_day, today),
        open_warnings: series(&data.snapshots, "warning", from_day, today),
    }
}

/// What became of the fix PRs opened in `(start, now]`.
pub fn fix_pr_outcomes(data: &Dataset, start: DateTime<Utc>, now: DateTime<Utc>) -> FixPrOutcomes {
    let prs: Vec<_> = data
        .fix_prs
        .iter()
        .filter(|p| p.opened_at > start && p.opened_at <= now)
        .collect();
    let merged: Vec<_> = prs
        .iter()
        .filter(|p| p.state == FixPrState::Merged)
        .collect();
    let closed_by_person = prs
        .iter()
        .filter(|p| p.state == FixPrState::Closed && p.closed_by_human)
        .count();
    let superseded = prs
        .iter()
        .filter(|p| p.state == FixPrState::Closed && !p.closed_by_human)
        .count();
    let decided = merged.len() + closed_by_person + superseded;
    let mut hours: Vec<f64> = merged
        .iter()
        .filter_map(|p| Some((p.closed_at? - p.opened_at).num_milliseconds() as f64 / 3_600_000.0))
        .collect();
    hours.sort_by(f64::total_cmp);
    FixPrOutcomes {
        opened: prs.len(),
        merged: merged.len(),
        closed_by_person,
        superseded,
        still_open: prs.len() - decided,
        merge_rate: (decided > 0).then(|| merged.len() as f64 / decided as f64),
        median_hours_to_merge: median(&hours),
    }
}

/// The median of sorted values.
fn median(sorted: &[f64]) -> Option<f64> {
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(sorted[n / 2]),
        _ => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2.0),
    }
}
