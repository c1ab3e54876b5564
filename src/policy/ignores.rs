//! Updates a repository asked not to be offered (`ignore <package-or-image> [<version>|major|minor]`).
//!
//! Ignoring an update withdraws the fix, never the finding: a vulnerable package stays reported
//! at its level, and the finding says which ignore withholds its fix, who asked and where, so an
//! ignore can always be seen, traced and undone.

use crate::catalog::{Version, normalize_name, parse_version};
use crate::model::{ChangeKind, Ecosystem, Finding, Fix, ImageRef};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Which updates `ignore` stops proposing for a package or image.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum IgnoreScope {
    /// Every update.
    All,
    /// Updates to this exact version (as written; the ecosystem's version syntax is checked when
    /// the rule is applied, where the ecosystem is known).
    Version(String),
    /// Updates that change the major version.
    Major,
    /// Updates that change the minor version (major updates included: they change it too).
    Minor,
}

impl IgnoreScope {
    /// The stored and JSON spelling: `all`, `major`, `minor` or `version:<v>`.
    pub fn as_stored(&self) -> String {
        match self {
            IgnoreScope::All => "all".to_string(),
            IgnoreScope::Major => "major".to_string(),
            IgnoreScope::Minor => "minor".to_string(),
            IgnoreScope::Version(v) => format!("version:{v}"),
        }
    }

    /// Reads [`IgnoreScope::as_stored`] back; `None` for anything else.
    pub fn from_stored(text: &str) -> Option<IgnoreScope> {
        match text {
            "all" => Some(IgnoreScope::All),
            "major" => Some(IgnoreScope::Major),
            "minor" => Some(IgnoreScope::Minor),
            other => other
                .strip_prefix("version:")
                .filter(|v| !v.is_empty())
                .map(|v| IgnoreScope::Version(v.to_string())),
        }
    }
}

/// For people: `all`, `major`, `minor`, `version 4.17.21`.
impl fmt::Display for IgnoreScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IgnoreScope::Version(v) => write!(f, "version {v}"),
            other => f.write_str(&other.as_stored()),
        }
    }
}

impl From<IgnoreScope> for String {
    fn from(scope: IgnoreScope) -> String {
        scope.as_stored()
    }
}

impl TryFrom<String> for IgnoreScope {
    type Error = String;

    fn try_from(text: String) -> Result<IgnoreScope, String> {
        IgnoreScope::from_stored(&text).ok_or_else(|| {
            format!("`{text}` is not an ignore scope: use all, major, minor or version:<v>")
        })
    }
}

/// One ignore, as the policy applies it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IgnoreRule {
    /// The package or image name as typed; compared the way the catalog compares names.
    pub name: String,
    pub scope: IgnoreScope,
    /// The login of who asked, without `@`.
    pub created_by: String,
    pub created_at: NaiveDate,
    /// Where it was asked: `acme/shop#12 comment 345`, or a URL.
    pub source: String,
}

impl IgnoreRule {
    /// Why a finding has no fix while this rule applies. Plain: how to undo it depends on the
    /// app's name, which the service adds where it answers.
    pub fn reason(&self) -> String {
        format!(
            "updates to {} ({}) are ignored by @{} since {} ({})",
            self.name,
            self.scope,
            self.created_by.trim_start_matches('@'),
            self.created_at,
            self.source
        )
    }
}

/// An ignore as a report lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IgnoreStatus {
    pub name: String,
    pub scope: IgnoreScope,
    pub created_by: String,
    pub created_at: NaiveDate,
    pub source: String,
    /// How many findings lost their fix to it in this scan.
    pub withheld: usize,
}

impl IgnoreStatus {
    /// Whether this ignore is about the package or image `name` of `eco`, compared as the
    /// ignore itself compares names when it applies.
    pub fn names(&self, eco: Ecosystem, name: &str) -> bool {
        same_name(eco, &self.name, name)
    }
}

/// Withdraws the fix of every finding whose package or image one of `rules` names and whose
/// fix falls in that rule's scope; the first matching rule is the one the finding cites.
/// Returns one status per rule, in order, counting the fixes it withheld.
pub fn apply_ignores(findings: &mut [Finding], rules: &[IgnoreRule]) -> Vec<IgnoreStatus> {
    let mut withheld = vec![0; rules.len()];
    for finding in findings.iter_mut() {
        let (Some(eco), Some(name), Some(fix)) = (
            finding.ecosystem,
            finding.package.as_deref(),
            finding.fix.as_ref(),
        ) else {
            continue;
        };
        let hit = rules
            .iter()
            .position(|r| same_name(eco, &r.name, name) && scope_covers(&r.scope, eco, fix));
        if let Some(i) = hit {
            finding.fix = None;
            finding.no_fix_reason = Some(rules[i].reason());
            withheld[i] += 1;
        }
    }
    rules
        .iter()
        .zip(withheld)
        .map(|(r, withheld)| IgnoreStatus {
            name: r.name.clone(),
            scope: r.scope.clone(),
            created_by: r.created_by.trim_start_matches('@').to_string(),
            created_at: r.created_at,
            source: r.source.clone(),
            withheld,
        })
        .collect()
}

/// Whether `typed` names `name`: images by canonical name (`docker.io/library/node` is
/// `node`, and a tag typed along is not part of the name), packages as the ecosystem compares
/// them (PyPI per PEP 503).
fn same_name(eco: Ecosystem, typed: &str, name: &str) -> bool {
    match eco {
        Ecosystem::Docker => match (ImageRef::parse(typed), ImageRef::parse(name)) {
            (Some(a), Some(b)) => a.canonical_name() == b.canonical_name(),
            _ => false,
        },
        _ => normalize_name(eco, typed) == normalize_name(eco, name),
    }
}

/// The version before and after a fix, as the ecosystem orders them, and whether the fix moves
/// to another image or package altogether. For images, the versions are the tags.
struct Change {
    from: Option<Version>,
    to: Option<Version>,
    /// The target's version text (an image's tag), for comparing with a typed version that the
    /// ecosystem cannot parse (`latest`).
    to_text: String,
    other_name: bool,
}

fn change(eco: Ecosystem, fix: &Fix) -> Change {
    if eco == Ecosystem::Docker {
        let (from, to) = (ImageRef::parse(&fix.from), ImageRef::parse(&fix.to));
        let tag = |r: &Option<ImageRef>| {
            r.as_ref()
                .map(|r| r.tag.clone().unwrap_or_else(|| "latest".to_string()))
        };
        let (from_tag, to_tag) = (tag(&from), tag(&to));
        let other_name = match (&from, &to) {
            (Some(a), Some(b)) => a.canonical_name() != b.canonical_name(),
            _ => fix.change == ChangeKind::Replacement,
        };
        return Change {
            from: from_tag.and_then(|t| parse_version(eco, &t).ok()),
            to: to_tag.as_deref().and_then(|t| parse_version(eco, t).ok()),
            to_text: to_tag.unwrap_or_else(|| fix.to.clone()),
            other_name,
        };
    }
    Change {
        from: parse_version(eco, &fix.from).ok(),
        to: parse_version(eco, &fix.to).ok(),
        to_text: fix.to.trim().to_string(),
        other_name: fix.change == ChangeKind::Replacement,
    }
}

fn scope_covers(scope: &IgnoreScope, eco: Ecosystem, fix: &Fix) -> bool {
    let change = change(eco, fix);
    // How many leading release numbers must stay put for the fix to fall outside the scope.
    let depth = match scope {
        IgnoreScope::All => return true,
        IgnoreScope::Version(v) => {
            let v = v.trim();
            return match (&change.to, parse_version(eco, v)) {
                (Some(to), Ok(wanted)) => *to == wanted,
                _ => change.to_text == v || fix.to == v,
            };
        }
        IgnoreScope::Major => 1,
        IgnoreScope::Minor => 2,
    };
    if change.other_name {
        // Another image or package altogether is at least as big a step as a major release.
        return true;
    }
    match (&change.from, &change.to) {
        (Some(from), Some(to)) => {
            let (a, b) = (from.release(), to.release());
            let part = |v: &[u64], i: usize| v.get(i).copied().unwrap_or(0);
            (0..depth).any(|i| part(&a, i) != part(&b, i))
        }
        // Versions that don't compare (a floating tag): the project treats such a change as a
        // major one everywhere else, so it does here too.
        _ => match fix.change {
            ChangeKind::Major | ChangeKind::Unknown | ChangeKind::Replacement => true,
            ChangeKind::Minor => depth >= 2,
            ChangeKind::Patch | ChangeKind::Variant | ChangeKind::Digest => false,
        },
    }
}

#[cfg(test)]
mod tests;
