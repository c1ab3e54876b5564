//! `vulnerable-image` from what the base image holds: its OS packages, read at the edge into
//! the registry facts, matched here to the distribution's advisories. The catalog's hand list
//! of vulnerable tags stays an override: a tag it lists keeps the catalog's finding only.

use super::images::image_subject;
use crate::catalog::{AdvisoryDb, Catalog};
use crate::image::{image_finding, match_advisories};
use crate::model::{Dependency, Finding};
use crate::registry::facts::{ImageContents, RegistryFacts};

pub(super) fn check(
    dependency: &Dependency,
    facts: &RegistryFacts,
    catalog: &Catalog,
    advisories: &AdvisoryDb,
    findings: &mut Vec<Finding>,
) {
    let Some(site) = &dependency.image else {
        return;
    };
    let image = &site.reference;
    let listed = image.tag.as_deref().is_some_and(|tag| {
        catalog
            .image(&image.canonical_name())
            .is_some_and(|rule| rule.vulnerable_for(tag).is_some())
    });
    if listed {
        return;
    }
    let Some(ImageContents::Read(read)) = facts.contents(image) else {
        return;
    };
    let found = match_advisories(&read.os, advisories);
    let subject = image_subject(image);
    let Some(mut f) = image_finding(&subject, dependency.location.clone(), &found, None) else {
        return;
    };
    // The way out is planned by remedy (an approved tag) and judged against its contents
    // (`remedy::contents`); until then there is no reason to give for its absence.
    f.no_fix_reason = None;
    f.ecosystem = Some(dependency.ecosystem);
    f.package = Some(dependency.name.clone());
    f.version = dependency.version.clone();
    f.dependency = Some(Box::new(dependency.clone()));
    findings.push(f);
}
