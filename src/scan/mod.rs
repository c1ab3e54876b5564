//! Dependencies × catalog × advisories → findings. Pure: the same inputs give the same findings,
//! in the same order.

mod contents;
mod images;
mod packages;
mod runtime;

use crate::catalog::{AdvisoryDb, Catalog};
use crate::infra::parallel;
use crate::model::{Finding, ParsedManifest, RuleId};
use chrono::NaiveDate;
use std::collections::HashMap;

/// Every finding the manifests give, before policy assigns levels and remedy plans fixes. Each
/// finding carries its rule's default level until `policy::evaluate` runs. `today` decides
/// whether an end-of-life date has passed.
pub fn scan(
    manifests: &[ParsedManifest],
    catalog: &Catalog,
    advisories: &AdvisoryDb,
    today: NaiveDate,
) -> Vec<Finding> {
    let dependencies = manifests.iter().map(|m| m.dependencies.len()).sum();
    scan_on(
        parallel::threads_for(dependencies),
        manifests,
        catalog,
        advisories,
        today,
    )
}

/// [`scan`] on `threads` threads. Manifests are checked independently, heaviest first, and each
/// one's findings kept in manifest order, so the result is what one loop gives.
fn scan_on(
    threads: usize,
    manifests: &[ParsedManifest],
    catalog: &Catalog,
    advisories: &AdvisoryDb,
    today: NaiveDate,
) -> Vec<Finding> {
    let per_manifest = parallel::map_weighted(
        manifests,
        threads,
        |m| m.dependencies.len(),
        |manifest| {
            let mut findings = Vec::new();
            for dependency in &manifest.dependencies {
                if dependency.image.is_some() {
                    images::check(dependency, catalog, today, &mut findings);
                } else {
                    packages::check(dependency, catalog, advisories, &mut findings);
                }
            }
            runtime::check(manifest, catalog, &mut findings);
            findings
        },
    );
    merge_copies(per_manifest.into_iter().flatten().collect())
}

/// What the registries' facts add to a scan: `image-digest-refresh` for each pinned tag whose
/// digest moved, and `vulnerable-image` from the OS packages of each image read (unless the
/// catalog lists its tag). Separate from [`scan`] so a scan without facts is untouched.
pub fn registry_findings(
    manifests: &[ParsedManifest],
    facts: &crate::registry::RegistryFacts,
    catalog: &Catalog,
    advisories: &AdvisoryDb,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    for manifest in manifests {
        for dependency in &manifest.dependencies {
            images::digest_refresh(dependency, facts, &mut findings);
            contents::check(dependency, facts, catalog, advisories, &mut findings);
        }
    }
    findings
}

/// A lockfile often holds one package at one version several times (npm nests copies under
/// different parents). Those are one problem with one fix: report it once, at its first place,
/// and say where else it is.
fn merge_copies(findings: Vec<Finding>) -> Vec<Finding> {
    let mut merged: Vec<Finding> = Vec::with_capacity(findings.len());
    let mut index: HashMap<(RuleId, String, String), usize> = HashMap::new();
    let mut extra_lines: HashMap<usize, Vec<u32>> = HashMap::new();
    for f in findings {
        let key = match (&f.package, &f.dependency) {
            (Some(_), Some(d)) if d.image.is_none() => (f.rule, f.file.clone(), f.subject.clone()),
            _ => {
                merged.push(f);
                continue;
            }
        };
        match index.get(&key) {
            Some(&i) => extra_lines.entry(i).or_default().push(f.line),
            None => {
                index.insert(key, merged.len());
                merged.push(f);
            }
        }
    }
    for (i, lines) in extra_lines {
        let list: Vec<String> = lines.iter().map(u32::to_string).collect();
        merged[i].message.push_str(&format!(
            " (the lockfile holds {} more cop{} at line{} {})",
            lines.len(),
            if lines.len() == 1 { "y" } else { "ies" },
            if lines.len() == 1 { "" } else { "s" },
            list.join(", ")
        ));
    }
    merged
}

#[cfg(test)]
mod tests;
