//! Daily open counts from exposures: what the `daily_snapshots` table holds, rebuildable.

use super::Exposure;
use crate::store::history::SnapshotRow;
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use std::collections::BTreeMap;

/// The end of `day` (UTC): counts are as of the day's last instant.
pub fn end_of_day(day: NaiveDate) -> DateTime<Utc> {
    (day + TimeDelta::days(1))
        .and_hms_opt(0, 0, 0)
        .expect("midnight exists")
        .and_utc()
        - TimeDelta::milliseconds(1)
}

/// Open exposures at the end of each day `from..=to`, per repository, level and severity.
/// Zero counts are left out.
pub fn daily_counts(exposures: &[Exposure], from: NaiveDate, to: NaiveDate) -> Vec<SnapshotRow> {
    let mut counts: BTreeMap<(NaiveDate, i64, &str, &str), i64> = BTreeMap::new();
    for e in exposures {
        // Only the days the exposure spans: a year of a thousand repositories stays cheap.
        let first = e.opened_at.date_naive().max(from);
        let last = match e.closed {
            Some((at, _)) => at.date_naive().min(to),
            None => to,
        };
        let mut day = first;
        while day <= last {
            if e.open_at(end_of_day(day)) {
                *counts
                    .entry((day, e.repository_id, &e.level, &e.severity))
                    .or_default() += 1;
            }
            day += TimeDelta::days(1);
        }
    }
    counts
        .into_iter()
        .map(
            |((day, repository_id, level, severity), open)| SnapshotRow {
                day,
                repository_id,
                level: level.to_string(),
                severity: severity.to_string(),
                open,
            },
        )
        .collect()
}

/// One point of a chart: the open findings of one level on one day, by severity.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DayPoint {
    pub day: NaiveDate,
    /// Counts by severity (critical, high, medium, low, unknown).
    pub by_severity: BTreeMap<String, i64>,
    pub total: i64,
}

/// The daily series of one level over `from..=to` (days without rows count zero).
pub fn series(rows: &[SnapshotRow], level: &str, from: NaiveDate, to: NaiveDate) -> Vec<DayPoint> {
    let mut by_day: BTreeMap<NaiveDate, BTreeMap<String, i64>> = BTreeMap::new();
    for r in rows.iter().filter(|r| r.level == level) {
        if r.day < from || r.day > to {
            continue;
        }
        *by_day
            .entry(r.day)
            .or_default()
            .entry(r.severity.clone())
            .or_default() += r.open;
    }
    let mut out = Vec::new();
    let mut day = from;
    while day <= to {
        let by_severity = by_day.remove(&day).unwrap_or_default();
        let total = by_severity.values().sum();
        out.push(DayPoint {
            day,
            by_severity,
            total,
        });
        day += TimeDelta::days(1);
    }
    out
}
