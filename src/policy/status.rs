//! Every exception in force or not, as a report lists it: a suppression nobody can see is one
//! nobody reviews, so each one says who answers for it, until when, and what it covers.

use super::{Exception, exception_covers};
use crate::model::{ExceptionOrigin, Finding};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Where an exception stands on the day of the scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExceptionState {
    /// Not expired, and covers at least one finding.
    Active,
    /// Past its date: it suppresses nothing.
    Expired,
    /// Not expired, and matches no finding.
    Unused,
}

impl ExceptionState {
    pub fn as_str(self) -> &'static str {
        match self {
            ExceptionState::Active => "active",
            ExceptionState::Expired => "expired",
            ExceptionState::Unused => "unused",
        }
    }
}

impl fmt::Display for ExceptionState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One exception, from the repository config or granted with `accept-risk`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExceptionStatus {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    pub reason: String,
    /// The owner a config exception names, or `@login` of who granted it.
    pub owner: String,
    pub expires: NaiveDate,
    /// `location`, or `granted_by`, `granted_at` and `source`.
    #[serde(flatten)]
    pub origin: ExceptionOrigin,
    /// The origin in words, ready to print.
    pub origin_text: String,
    pub state: ExceptionState,
    /// How many findings it matches (for an expired one: would match).
    pub covers: usize,
}

/// The status of each of `exceptions` on `now`, against the findings `evaluate` returned.
pub fn exception_statuses(
    exceptions: &[Exception],
    findings: &[Finding],
    now: NaiveDate,
) -> Vec<ExceptionStatus> {
    exceptions
        .iter()
        .map(|e| {
            let covers = findings.iter().filter(|f| exception_covers(e, f)).count();
            let state = if e.expires < now {
                ExceptionState::Expired
            } else if covers == 0 {
                ExceptionState::Unused
            } else {
                ExceptionState::Active
            };
            ExceptionStatus {
                id: e.id.clone(),
                package: e.package.clone(),
                path: e.path.clone(),
                reason: e.reason.clone(),
                owner: e.owner.clone(),
                expires: e.expires,
                origin: e.origin.clone(),
                origin_text: e.origin.describe(),
                state,
                covers,
            }
        })
        .collect()
}
