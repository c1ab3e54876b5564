//! An image's OS packages matched to the distribution's OSV records: by release, by source
//! package (Debian's `Source:`, Alpine's origin) and the source version in the distribution's
//! ordering. Pure.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::contents::{Distribution, OsContents};
use crate::catalog::{AdvisoryDb, parse_version};
use crate::model::Severity;

/// One advisory that affects one source package of the image.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImageAdvisory {
    pub id: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    pub severity: Severity,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cvss_score: Option<f64>,
    pub summary: String,
    /// The source package (origin for Alpine) and its installed version.
    pub package: String,
    pub installed: String,
    /// The binary packages built from it that are installed.
    pub binaries: Vec<String>,
    /// The lowest fixed version above the installed one in this release; `None` when the
    /// distribution has released no fix.
    pub fixed: Option<String>,
}

/// The image's OS advisories.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct OsAdvisories {
    /// Sorted worst first (severity, then score), then by id and package.
    pub advisories: Vec<ImageAdvisory>,
    /// Package versions that do not parse in the distribution's ordering.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl OsAdvisories {
    /// The distinct advisory ids.
    pub fn ids(&self) -> BTreeSet<&str> {
        self.advisories.iter().map(|a| a.id.as_str()).collect()
    }

    /// The worst severity of each distinct advisory, by id.
    pub fn severities(&self) -> BTreeMap<&str, Severity> {
        let mut by_id: BTreeMap<&str, Severity> = BTreeMap::new();
        for a in &self.advisories {
            let slot = by_id.entry(a.id.as_str()).or_insert(a.severity);
            *slot = (*slot).max(a.severity);
        }
        by_id
    }

    /// Distinct advisories counted by severity, worst first, zero counts left out.
    pub fn counts(&self) -> Vec<(Severity, usize)> {
        let mut counts: BTreeMap<Severity, usize> = BTreeMap::new();
        for severity in self.severities().values() {
            *counts.entry(*severity).or_default() += 1;
        }
        counts.into_iter().rev().collect()
    }

    /// Ids of advisories no package of which has a fix released.
    pub fn unfixable_ids(&self) -> BTreeSet<&str> {
        let fixable: BTreeSet<&str> = self
            .advisories
            .iter()
            .filter(|a| a.fixed.is_some())
            .map(|a| a.id.as_str())
            .collect();
        self.ids().difference(&fixable).copied().collect()
    }

    /// The worst `n` distinct advisories.
    pub fn worst(&self, n: usize) -> Vec<&ImageAdvisory> {
        let mut seen = BTreeSet::new();
        self.advisories
            .iter()
            .filter(|a| seen.insert(a.id.as_str()))
            .take(n)
            .collect()
    }
}

/// Matches the packages of an image whose distribution is known; an unknown distribution
/// matches nothing (the caller reports it as unknown, not clean).
pub fn match_advisories(os: &OsContents, db: &AdvisoryDb) -> OsAdvisories {
    let Distribution::Known { ecosystem, release } = &os.distribution else {
        return OsAdvisories::default();
    };
    let mut by_source: BTreeMap<(&str, &str), Vec<&str>> = BTreeMap::new();
    for p in &os.packages {
        by_source
            .entry((p.source.as_str(), p.source_version.as_str()))
            .or_default()
            .push(p.name.as_str());
    }
    let mut out = OsAdvisories::default();
    for ((source, version_text), binaries) in by_source {
        let version = match parse_version(*ecosystem, version_text) {
            Ok(v) => v,
            Err(e) => {
                out.notes.push(format!("{source}: {e}; not matched"));
                continue;
            }
        };
        for advisory in db.affecting_in_release(*ecosystem, Some(release), source, &version) {
            let fixed = advisory
                .fixed_versions_in_release(*ecosystem, Some(release), source)
                .into_iter()
                .find(|f| *f > version)
                .map(|f| f.to_string());
            let mut binaries: Vec<String> = binaries.iter().map(|b| b.to_string()).collect();
            binaries.sort();
            binaries.dedup();
            out.advisories.push(ImageAdvisory {
                id: advisory.id.clone(),
                aliases: advisory.aliases.clone(),
                severity: advisory.severity,
                cvss_score: advisory.cvss_score,
                summary: advisory.summary.clone(),
                package: source.to_string(),
                installed: version_text.to_string(),
                binaries,
                fixed,
            });
        }
    }
    out.advisories.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(
                b.cvss_score
                    .unwrap_or(0.0)
                    .total_cmp(&a.cvss_score.unwrap_or(0.0)),
            )
            .then(a.id.cmp(&b.id))
            .then(a.package.cmp(&b.package))
    });
    out
}
