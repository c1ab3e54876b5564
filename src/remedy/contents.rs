//! Judges a planned image move by what the images hold: the fix of a `vulnerable-image`
//! finding read from contents says, in `recommend`'s sentence, how many of the image's OS
//! advisories its target clears; a target that clears none is churn, so the finding keeps no
//! fix and says why instead. Pure.

use crate::catalog::{AdvisoryDb, Catalog};
use crate::image::{Candidate, Distribution, match_advisories, recommend};
use crate::model::{Finding, ImageRef, RuleId};
use crate::registry::facts::{ImageContents, RegistryFacts};

/// Adds the recommendation to content findings' fixes, or takes the fix away when its target
/// clears nothing. Returns the indices of the other findings that shared the fix taken away
/// and only asked for a digest: they are to be planned again without the tag move.
pub fn judge(
    findings: &mut [Finding],
    facts: &RegistryFacts,
    catalog: &Catalog,
    advisories: &AdvisoryDb,
) -> Vec<usize> {
    let mut replan = Vec::new();
    for i in 0..findings.len() {
        let f = &findings[i];
        if f.rule != RuleId::VulnerableImage {
            continue;
        }
        let (Some(dependency), Some(fix)) = (f.dependency.as_deref(), f.fix.as_ref()) else {
            continue;
        };
        let Some(site) = &dependency.image else {
            continue;
        };
        let Some(ImageContents::Read(current)) = facts.contents(&site.reference) else {
            continue;
        };
        let listed = site.reference.tag.as_deref().is_some_and(|tag| {
            catalog
                .image(&site.reference.canonical_name())
                .is_some_and(|rule| rule.vulnerable_for(tag).is_some())
        });
        let target_contents = ImageRef::parse(&fix.to).and_then(|t| facts.contents(&t).cloned());
        let Some(ImageContents::Read(target)) = target_contents else {
            let note = format!(
                "the contents of `{}` were not read, so which OS advisories it clears is not known",
                fix.to
            );
            if let Some(fix) = findings[i].fix.as_mut() {
                fix.notes.push(note);
            }
            continue;
        };
        let current_advisories = match_advisories(&current.os, advisories);
        let target_advisories = match_advisories(&target.os, advisories);
        let recommendation = recommend(
            &current.os.label,
            &current_advisories,
            &[Candidate {
                label: target.os.label.clone(),
                advisories: &target_advisories,
                change: change_size(&current.os.distribution, &target.os.distribution),
            }],
        );
        if recommendation.to.is_some() || listed {
            if let Some(fix) = findings[i].fix.as_mut() {
                fix.notes.push(recommendation.sentence);
            }
            continue;
        }
        let dropped = findings[i].fix.take();
        findings[i].no_fix_reason = Some(recommendation.sentence);
        replan.extend(shared_digest_only(findings, i, dropped.as_ref()));
    }
    replan
}

/// Findings of the same dependency with the same fix whose own rules do not move the tag: the
/// move was for the content finding only.
fn shared_digest_only(
    findings: &mut [Finding],
    owner: usize,
    dropped: Option<&crate::model::Fix>,
) -> Vec<usize> {
    let Some(dropped) = dropped else {
        return Vec::new();
    };
    let same = |f: &Finding| f.fix.as_ref() == Some(dropped);
    let others: Vec<usize> = (0..findings.len())
        .filter(|&j| j != owner && same(&findings[j]))
        .collect();
    let moving = others.iter().any(|&j| {
        !matches!(
            findings[j].rule,
            RuleId::ImageDigestNotPinned | RuleId::ImageDigestRefresh
        )
    });
    if moving {
        return Vec::new();
    }
    for &j in &others {
        findings[j].fix = None;
    }
    others
}

/// 0: same distribution and release; 1: another release; 2: another distribution.
pub fn change_size(from: &Distribution, to: &Distribution) -> u8 {
    match (from, to) {
        (
            Distribution::Known {
                ecosystem: a,
                release: ra,
            },
            Distribution::Known {
                ecosystem: b,
                release: rb,
            },
        ) if a == b => u8::from(ra != rb),
        _ => 2,
    }
}
