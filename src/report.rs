//! The result of one scan, as every output format and the service read it.
//!
//! The JSON keys `inventory`, `findings`, `errors` and their fields are a contract other tools
//! read: add keys, never rename or remove them.

use crate::model::{Dependency, DependencyKind, Ecosystem, FileError, Finding, Level};
pub use crate::policy::{ExceptionState, ExceptionStatus, IgnoreStatus};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub inventory: Vec<InventoryItem>,
    pub findings: Vec<Finding>,
    pub errors: Vec<FileError>,
    pub summary: Summary,
    pub provenance: Provenance,
    /// Every exception, from the repository config and granted in comments, with its state.
    #[serde(default)]
    pub exceptions: Vec<ExceptionStatus>,
    /// Every ignored update, with how many fixes it withheld.
    #[serde(default)]
    pub ignored_updates: Vec<IgnoreStatus>,
}

/// One dependency as the inventory lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InventoryItem {
    pub file: String,
    pub line: u32,
    pub ecosystem: Ecosystem,
    pub name: String,
    pub version: Option<String>,
    pub digest: Option<String>,
    /// `direct`, `transitive`, `base-image` or `copy-source`.
    pub kind: String,
}

impl From<&Dependency> for InventoryItem {
    fn from(d: &Dependency) -> InventoryItem {
        let kind = match d.kind {
            DependencyKind::Direct => "direct",
            DependencyKind::Transitive => "transitive",
            DependencyKind::BaseImage { .. } => "base-image",
            DependencyKind::CopySource { .. } => "copy-source",
        };
        InventoryItem {
            file: d.location.file.clone(),
            line: d.location.line,
            ecosystem: d.ecosystem,
            name: d.name.clone(),
            version: d.version.clone(),
            digest: d.digest.clone(),
            kind: kind.to_string(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub files: usize,
    pub dependencies: usize,
    pub blockers: usize,
    pub warnings: usize,
    pub info: usize,
    /// Findings an exception suppresses.
    pub excepted: usize,
    /// Findings with a fix planned.
    pub fixable: usize,
    pub errors: usize,
}

/// What the result was computed from, for the PR body and for reproducing a run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    pub tool_version: String,
    pub catalog_revision: String,
    pub advisories_revision: String,
    /// The day the policy was evaluated on (exceptions and end-of-life dates depend on it).
    pub evaluated_on: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_commit: Option<String>,
}

impl Summary {
    pub fn of(files: usize, dependencies: usize, findings: &[Finding], errors: usize) -> Summary {
        let active = |level| {
            findings
                .iter()
                .filter(|f| f.is_active() && f.level == level)
                .count()
        };
        Summary {
            files,
            dependencies,
            blockers: active(Level::Blocker),
            warnings: active(Level::Warning),
            info: active(Level::Info),
            excepted: findings.iter().filter(|f| !f.is_active()).count(),
            fixable: findings.iter().filter(|f| f.fix.is_some()).count(),
            errors,
        }
    }
}

impl Report {
    /// Whether anything blocks: the CLI exits 1 and the check run fails.
    pub fn has_blockers(&self) -> bool {
        self.summary.blockers > 0
    }
}
