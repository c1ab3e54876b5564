//! Verification: re-scan after applying the fix and compare, so a fix PR states what it really
//! changed rather than what it hoped to.

use crate::model::{FileError, Finding, RuleId};
use crate::report::Report;
use serde::Serialize;

/// Before/after of one fix, by finding identity (rule, file, subject).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Verification {
    /// Findings present before and gone after.
    pub fixed: Vec<FindingKey>,
    /// Findings present before and still present after.
    pub remaining: Vec<FindingKey>,
    /// Findings the change introduced.
    pub introduced: Vec<FindingKey>,
    /// Parse errors the change introduced (a fix must never break a file).
    pub new_errors: Vec<FileError>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct FindingKey {
    pub rule: RuleId,
    pub file: String,
    pub subject: String,
    pub level: String,
}

impl Verification {
    /// A fix is good when it broke nothing and introduced nothing.
    pub fn is_clean(&self) -> bool {
        self.introduced.is_empty() && self.new_errors.is_empty()
    }
}

fn key(f: &Finding) -> FindingKey {
    FindingKey {
        rule: f.rule,
        file: f.file.clone(),
        // Subjects name the version (`lodash@4.17.20`), which is what a fix changes; the package
        // is the identity that survives it.
        subject: f.package.clone().unwrap_or_else(|| f.subject.clone()),
        level: f.level.as_str().to_string(),
    }
}

pub fn verify(before: &Report, after: &Report) -> Verification {
    let active = |r: &Report| -> Vec<FindingKey> {
        // A finding carries the rules folded into it: each is judged on its own, so a fix
        // that clears the lead rule but not another says so.
        let mut keys: Vec<FindingKey> = r
            .findings
            .iter()
            .flat_map(|f| {
                let lead = f.is_active().then(|| key(f));
                let also = f.also.iter().filter(|x| x.is_active()).map(|x| FindingKey {
                    rule: x.rule,
                    level: x.level.as_str().to_string(),
                    ..key(f)
                });
                lead.into_iter().chain(also)
            })
            .collect();
        keys.sort();
        keys.dedup();
        keys
    };
    let (b, a) = (active(before), active(after));
    let mut v = Verification::default();
    for k in &b {
        if a.contains(k) {
            v.remaining.push(k.clone());
        } else {
            v.fixed.push(k.clone());
        }
    }
    for k in &a {
        if !b.contains(k) {
            v.introduced.push(k.clone());
        }
    }
    v.new_errors = after
        .errors
        .iter()
        .filter(|e| {
            !before
                .errors
                .iter()
                .any(|b| b.file == e.file && b.message == e.message)
        })
        .cloned()
        .collect();
    v
}
