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
    pub kind: InventoryKind,
}

/// How a dependency got into the file, as the inventory names it: [`DependencyKind`] without
/// its details. An enum, not a string: a monorepo's inventory has a row per dependency, and a
/// heap string per row saying one of four words added up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum InventoryKind {
    Direct,
    Transitive,
    BaseImage,
    CopySource,
}

impl InventoryKind {
    /// The name the JSON report gives it.
    pub fn as_str(self) -> &'static str {
        match self {
            InventoryKind::Direct => "direct",
            InventoryKind::Transitive => "transitive",
            InventoryKind::BaseImage => "base-image",
            InventoryKind::CopySource => "copy-source",
        }
    }
}

impl From<&DependencyKind> for InventoryKind {
    fn from(kind: &DependencyKind) -> InventoryKind {
        match kind {
            DependencyKind::Direct => InventoryKind::Direct,
            DependencyKind::Transitive => InventoryKind::Transitive,
            DependencyKind::BaseImage { .. } => InventoryKind::BaseImage,
            DependencyKind::CopySource { .. } => InventoryKind::CopySource,
        }
    }
}

impl From<&Dependency> for InventoryItem {
    fn from(d: &Dependency) -> InventoryItem {
        InventoryItem {
            file: d.location.file.clone(),
            line: d.location.line,
            ecosystem: d.ecosystem,
            name: d.name.clone(),
            version: d.version.clone(),
            digest: d.digest.clone(),
            kind: InventoryKind::from(&d.kind),
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The JSON contract names the kinds with these words; the enum must serialise to them.
    #[test]
    fn inventory_kinds_serialise_as_the_words_the_contract_names() {
        for (kind, word) in [
            (InventoryKind::Direct, "direct"),
            (InventoryKind::Transitive, "transitive"),
            (InventoryKind::BaseImage, "base-image"),
            (InventoryKind::CopySource, "copy-source"),
        ] {
            assert_eq!(serde_json::to_value(kind).unwrap(), word);
            assert_eq!(kind.as_str(), word);
            let back: InventoryKind = serde_json::from_value(word.into()).unwrap();
            assert_eq!(back, kind);
        }
    }
}
