//! Images: tag discipline, digest pins, and what the catalog says about the image and its tag.

use crate::catalog::{Catalog, EolStatus};
use crate::model::{Dependency, Finding, ImageRef, RuleId};
use chrono::NaiveDate;

pub(super) fn check(
    dependency: &Dependency,
    catalog: &Catalog,
    today: NaiveDate,
    findings: &mut Vec<Finding>,
) {
    let Some(site) = &dependency.image else {
        return;
    };
    let image = &site.reference;
    let subject = image_subject(image);
    let finding = |rule, message: String| image_finding(rule, dependency, &subject, message);

    let tag = image.tag.as_deref();
    match (tag, &image.digest) {
        (None, None) => findings.push(finding(
            RuleId::ImageTagNotPinned,
            format!("`{}` has no tag, so it means `latest`: each build may get a different image", image.name()),
        )),
        (Some("latest"), _) => findings.push(finding(
            RuleId::ImageTagNotPinned,
            format!("`{subject}` follows `latest`: each build may get a different image, across major versions"),
        )),
        _ => {}
    }
    if image.digest.is_none() {
        findings.push(finding(
            RuleId::ImageDigestNotPinned,
            format!("`{subject}` is not pinned by digest; a tag can be moved to a different image"),
        ));
    }

    let Some(rule) = catalog.image(&image.canonical_name()) else {
        if !catalog.allow_unlisted_images {
            findings.push(finding(
                RuleId::UnapprovedBaseImage,
                format!(
                    "`{}` is not in the catalog of approved images",
                    image.name()
                ),
            ));
        }
        return;
    };
    let Some(tag) = tag else {
        return;
    };
    let mut eol = false;
    if let Some(end) = rule
        .eol_for(tag)
        .filter(|e| e.status_on(today) != EolStatus::Supported)
    {
        eol = true;
        let mut message = format!("`{subject}` reached end of life on {}", end.date);
        if let Some(replacement) = &end.replacement {
            message.push_str(&format!("; the catalog's replacement is `{replacement}`"));
        }
        let mut f = finding(RuleId::EolBaseImage, message);
        f.blocks_after = Some(end.blocks_after.unwrap_or(end.date));
        findings.push(f);
    }
    if let Some(vulnerable) = rule.vulnerable_for(tag) {
        let mut message = format!("`{subject}` is listed as vulnerable in the catalog");
        if let Some(reason) = &vulnerable.reason {
            message.push_str(&format!(": {reason}"));
        }
        let mut f = finding(RuleId::VulnerableImage, message);
        f.advisories = vulnerable.advisories.clone();
        f.severity = Some(vulnerable.severity);
        findings.push(f);
    }
    // An end-of-life tag is also unapproved, but saying so twice is noise.
    if !eol && !rule.matches_approved(tag) {
        let approved: Vec<&str> = rule.approved.iter().map(|p| p.as_str()).collect();
        findings.push(finding(
            RuleId::UnapprovedBaseImage,
            format!(
                "tag `{tag}` of `{}` is not approved; approved tags match: {}",
                image.name(),
                approved.join(", ")
            ),
        ));
    }
}

/// A tag pinned by digest whose digest at the registry is no longer the pinned one: the image
/// was rebuilt under the same tag (base OS patches, usually). Info: a refresh is routine.
pub(super) fn digest_refresh(
    dependency: &Dependency,
    facts: &crate::registry::RegistryFacts,
    findings: &mut Vec<Finding>,
) {
    let Some(site) = &dependency.image else {
        return;
    };
    let image = &site.reference;
    let (Some(tag), Some(pinned)) = (&image.tag, &image.digest) else {
        return;
    };
    let Some(current) = facts.digest(&image.canonical_name(), tag) else {
        return;
    };
    if current != pinned {
        findings.push(image_finding(
            RuleId::ImageDigestRefresh,
            dependency,
            &image_subject(image),
            format!(
                "`{}:{tag}` now points to {current} at the registry; the pin is {pinned}, an older build of the same tag",
                image.name()
            ),
        ));
    }
}

/// `node:18-alpine`, `team/app@sha256:…` — how people name an image in conversation.
pub(crate) fn image_subject(image: &ImageRef) -> String {
    match (&image.tag, &image.digest) {
        (Some(tag), _) => format!("{}:{tag}", image.name()),
        (None, Some(digest)) => format!("{}@{digest}", image.name()),
        (None, None) => image.name(),
    }
}

fn image_finding(rule: RuleId, d: &Dependency, subject: &str, message: String) -> Finding {
    let mut f = Finding::new(rule, d.location.clone(), subject, message);
    f.ecosystem = Some(d.ecosystem);
    f.package = Some(d.name.clone());
    f.version = d.version.clone();
    f.dependency = Some(Box::new(d.clone()));
    f
}
