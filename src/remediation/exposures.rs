//! Finding events → exposures: the stretches of time a finding was open and unexcepted.

use crate::store::history::{EventKind, FindingEvent};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::HashMap;

/// How an exposure ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Closure {
    /// Gone from the default branch: remediated.
    Fixed,
    /// An exception started to cover it: not remediated, the clock stops.
    Excepted,
}

/// One stretch of time a finding was open in a repository and not covered by an exception.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Exposure {
    pub repository_id: i64,
    pub key: String,
    pub level: String,
    pub severity: String,
    pub package: String,
    pub advisory: String,
    pub owners: Vec<String>,
    /// When this stretch began.
    pub opened_at: DateTime<Utc>,
    /// When the remediation (and SLA) clock started: the first opening since the last fix. An
    /// exposure that follows a lapsed exception keeps the clock of the one before it, as the
    /// policy's first-seen date does.
    pub clock_start: DateTime<Utc>,
    pub closed: Option<(DateTime<Utc>, Closure)>,
    /// It reopens an advisory (or, without one, a finding) this repository had fixed before.
    pub recurrence: bool,
}

impl Exposure {
    pub fn is_open(&self) -> bool {
        self.closed.is_none()
    }

    /// Open at instant `t` (opened at or before, not yet closed).
    pub fn open_at(&self, t: DateTime<Utc>) -> bool {
        self.opened_at <= t && self.closed.is_none_or(|(at, _)| at > t)
    }

    pub fn fixed_at(&self) -> Option<DateTime<Utc>> {
        match self.closed {
            Some((at, Closure::Fixed)) => Some(at),
            _ => None,
        }
    }

    /// What recurrence is counted by: the advisory, or the finding itself for catalog rules.
    pub fn recurrence_key(&self) -> &str {
        if self.advisory.is_empty() {
            &self.key
        } else {
            &self.advisory
        }
    }
}

/// The exposures `events` (oldest first) describe, in the order they opened.
pub fn exposures(events: &[FindingEvent]) -> Vec<Exposure> {
    let mut out: Vec<Exposure> = Vec::new();
    // Per finding: the index of its open exposure, and the clock start carried over an exception.
    let mut open: HashMap<(i64, &str), usize> = HashMap::new();
    let mut carried_clock: HashMap<(i64, &str), DateTime<Utc>> = HashMap::new();
    let mut fixed_before: std::collections::HashSet<(i64, String)> = Default::default();
    for e in events {
        let id = (e.repository_id, e.key.as_str());
        match e.kind {
            EventKind::Opened => {
                if open.contains_key(&id) {
                    continue;
                }
                let recurrence_key = if e.advisory.is_empty() {
                    e.key.clone()
                } else {
                    e.advisory.clone()
                };
                let clock_start = carried_clock.get(&id).copied().unwrap_or(e.at);
                let recurrence = clock_start == e.at
                    && fixed_before.contains(&(e.repository_id, recurrence_key));
                open.insert(id, out.len());
                out.push(Exposure {
                    repository_id: e.repository_id,
                    key: e.key.clone(),
                    level: e.level.clone(),
                    severity: e.severity.clone(),
                    package: e.package.clone(),
                    advisory: e.advisory.clone(),
                    owners: e.owners.clone(),
                    opened_at: e.at,
                    clock_start,
                    closed: None,
                    recurrence,
                });
            }
            EventKind::Excepted => {
                if let Some(i) = open.remove(&id) {
                    out[i].closed = Some((e.at, Closure::Excepted));
                    carried_clock.insert(id, out[i].clock_start);
                }
            }
            EventKind::Fixed => {
                carried_clock.remove(&id);
                if let Some(i) = open.remove(&id) {
                    out[i].closed = Some((e.at, Closure::Fixed));
                }
                let recurrence_key = if e.advisory.is_empty() {
                    e.key.clone()
                } else {
                    e.advisory.clone()
                };
                fixed_before.insert((e.repository_id, recurrence_key));
            }
        }
    }
    out
}
