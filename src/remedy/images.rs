//! Images: the nearest approved tag of the same variant, or the catalog's replacement when the
//! tag is past its end of life; the digest stays pinned when the catalog knows the new one.

use super::Planned;
use super::edits::reference_edit;
use crate::catalog::tag::{TagParts, parse_tag, variant_family};
use crate::catalog::{Catalog, EolStatus};
use crate::model::{ChangeKind, Dependency, Finding, Fix, ImageRef, RuleId, SegmentSource};
use crate::registry::RegistryFacts;
use chrono::NaiveDate;

/// What the registry said, and whether fixes may pin digests.
#[derive(Clone, Copy, Default)]
pub(crate) struct RegistryView<'a> {
    pub facts: Option<&'a RegistryFacts>,
    pub pin_digests: bool,
}

pub(super) fn plan(
    dependency: &Dependency,
    group: &[&Finding],
    catalog: &Catalog,
    source: Option<&str>,
    today: NaiveDate,
    registry: RegistryView<'_>,
) -> Planned {
    let site = dependency.image.as_ref().ok_or("not an image")?;
    let image = &site.reference;
    let current = parse_tag(image.tag.as_deref().unwrap_or("latest"));
    let registry_tags = registry.facts.and_then(|f| f.tags(&image.canonical_name()));
    // Only a digest to add or refresh: the tag stays.
    let moves = group.iter().any(|f| {
        !matches!(
            f.rule,
            RuleId::ImageDigestNotPinned | RuleId::ImageDigestRefresh
        )
    });
    let wants_pin = registry.pin_digests
        && registry_tags.is_some()
        && group.iter().any(|f| f.rule == RuleId::ImageDigestNotPinned);
    let mut notes = Vec::new();
    let (target_name, target_tag) = if moves {
        move_target(image, &current, catalog, registry_tags, today, &mut notes)?
    } else {
        let tag = image
            .tag
            .clone()
            .ok_or_else(|| format!("`{}` has no tag to pin a digest for", image.name()))?;
        (image.name(), tag)
    };
    let target = ImageRef::parse(&format!("{target_name}:{target_tag}")).ok_or_else(|| {
        format!("the catalog's target `{target_name}:{target_tag}` is not a valid image reference")
    })?;
    let target_canonical = target.canonical_name();
    let registry_digest = registry
        .facts
        .and_then(|f| f.digest(&target_canonical, &target_tag));
    // The target's own catalog entry, else (as before the registry) the image's entry.
    let catalog_digest = catalog
        .image(&target_canonical)
        .and_then(|r| r.digest_for(&target_tag))
        .or_else(|| {
            catalog
                .image(&image.canonical_name())
                .and_then(|r| r.digest_for(&target_tag))
        });

    let digest = if image.digest.is_some() {
        match registry_digest.or(catalog_digest) {
            Some(d) => {
                if image.digest.as_deref() == Some(d) {
                    notes.push(format!("the digest stays pinned: {d}"));
                } else if moves {
                    notes.push(format!("the digest stays pinned, to `{target_tag}`'s: {d}"));
                } else {
                    notes.push(format!(
                        "`{target_tag}` was rebuilt: the registry's digest for it is now {d} (a refresh: same tag, new image)"
                    ));
                }
                Some(d.to_string())
            }
            None => {
                return Err(format!(
                    "`{}` is pinned by digest, and neither the registry nor the catalog gives the digest of `{target_name}:{target_tag}`: add it under `digests` in the catalog, or turn registry lookups on, so the pin can be kept",
                    image.name()
                ));
            }
        }
    } else if wants_pin {
        match registry_digest {
            Some(d) => {
                notes.push(format!(
                    "pinned to the registry's digest of `{target_tag}` ({d}); the tag stays for readers"
                ));
                Some(d.to_string())
            }
            None if moves => {
                notes.push(format!(
                    "the registry gave no digest for `{target_tag}`, so the tag is not pinned"
                ));
                None
            }
            None => {
                return Err(format!(
                    "the registry gave no digest for `{}:{target_tag}`{}",
                    image.name(),
                    registry
                        .facts
                        .and_then(|f| f.repository(&image.canonical_name())?.error.clone())
                        .map(|e| format!(": {e}"))
                        .unwrap_or_default()
                ));
            }
        }
    } else {
        None
    };
    let new_reference = match &digest {
        Some(d) => format!("{target_name}:{target_tag}@{d}"),
        None => format!("{target_name}:{target_tag}"),
    };
    let edit = reference_edit(&dependency.location.file, &site.segments, &new_reference)?;
    if let (Some(source), Some(arg)) = (source, arg_edited(&site.segments, &edit)) {
        let line = crate::model::line_column(source, edit.span.start).0;
        notes.push(format!(
            "the tag comes from `ARG {arg}`: its default (line {line}) is what changes"
        ));
    }

    let target_parts = parse_tag(&target_tag);
    let same_tag = image.tag.as_deref() == Some(target_tag.as_str())
        && target_canonical == image.canonical_name();
    let change = if !moves || same_tag {
        ChangeKind::Digest
    } else if target_canonical != image.canonical_name() {
        ChangeKind::Replacement
    } else if target_parts.variant != current.variant && current.version.is_some() {
        notes.push(format!(
            "the variant changes from `{}` to `{}`: check OS packages and libc",
            display_variant(&current.variant),
            display_variant(&target_parts.variant)
        ));
        ChangeKind::Variant
    } else {
        numbers_change(current.version.as_deref(), target_parts.version.as_deref())
    };
    let clears = super::clears(group);
    Ok(Fix {
        from: image.to_string(),
        to: new_reference,
        change,
        edits: vec![edit],
        relock: None,
        clears,
        notes,
    })
}

/// The image and tag a tag change moves to: the catalog's replacement for an end-of-life tag,
/// else the nearest approved tag. With the registry's tags, only a tag it has.
fn move_target(
    image: &ImageRef,
    current: &TagParts,
    catalog: &Catalog,
    registry_tags: Option<&[String]>,
    today: NaiveDate,
    notes: &mut Vec<String>,
) -> Result<(String, String), String> {
    let rule = catalog.image(&image.canonical_name()).ok_or_else(|| {
        format!(
            "the catalog lists no approved tags for `{}`: ask the platform team to add it, or move to an approved image",
            image.name()
        )
    })?;
    let current_tag = image.tag.clone().unwrap_or_else(|| "latest".to_string());
    let eol_replacement = rule
        .eol_for(&current_tag)
        .filter(|e| e.status_on(today) != EolStatus::Supported)
        .and_then(|e| e.replacement.clone());
    if let Some(replacement) = eol_replacement {
        let (name, tag) = replacement_target(image, &replacement, current, rule);
        let same_image =
            ImageRef::parse(&name).is_some_and(|r| r.canonical_name() == image.canonical_name());
        if same_image
            && let Some(tags) = registry_tags
            && !tags.contains(&tag)
        {
            // The catalog's line is right, its spelling may not exist: take the nearest tag
            // the registry has instead of naming one it does not.
            let candidates = registry_candidates(rule, tags, today);
            let replacement_parts = parse_tag(&tag);
            if let Some(found) = nearest_tag(&replacement_parts, rule, &candidates) {
                notes.push(format!(
                    "the catalog names `{replacement}`; the registry has no `{tag}`, so the nearest tag it has is used"
                ));
                return Ok((name, found));
            }
            return Err(format!(
                "the catalog's replacement `{replacement}` is not a tag the registry has, and no approved tag near it is: update the catalog's replacement"
            ));
        }
        if !replacement.ends_with(&tag) {
            let kept = if current.variant.is_empty() {
                "the plain tag in use (no variant) is kept".to_string()
            } else {
                format!("the `{}` variant in use is kept", current.variant)
            };
            notes.push(format!(
                "the catalog names `{replacement}`; {kept}, as the catalog approves `{tag}`"
            ));
        }
        return Ok((name, tag));
    }
    let candidates = match registry_tags {
        Some(tags) => registry_candidates(rule, tags, today),
        None => rule.candidates(today),
    };
    let tag = nearest_tag(current, rule, &candidates)
        .ok_or_else(|| no_candidate_reason(image, current, rule, registry_tags.is_some()))?;
    if registry_tags.is_some() {
        notes.push(format!("`{tag}` is a tag the registry has"));
    }
    Ok((image.name(), tag))
}

/// The registry's tags a fix may move to: approved by the catalog, not past end of life on
/// `today`, not known vulnerable.
fn registry_candidates<'a>(
    rule: &crate::catalog::ImageRule,
    tags: &'a [String],
    today: NaiveDate,
) -> Vec<&'a str> {
    tags.iter()
        .map(String::as_str)
        .filter(|t| rule.matches_approved(t))
        .filter(|t| {
            rule.eol_for(t)
                .is_none_or(|r| r.status_on(today) == EolStatus::Supported)
        })
        .filter(|t| rule.vulnerable_for(t).is_none())
        .collect()
}

fn display_variant(v: &str) -> &str {
    if v.is_empty() { "(none)" } else { v }
}

/// Where the catalog points an end-of-life tag: a tag of the same image (kept in the current
/// variant when the catalog has that tag), or a whole other reference.
fn replacement_target(
    image: &ImageRef,
    replacement: &str,
    current: &TagParts,
    rule: &crate::catalog::ImageRule,
) -> (String, String) {
    let (name, tag) = match ImageRef::parse(replacement) {
        Some(r) if replacement.contains(':') || replacement.contains('/') => {
            (r.name(), r.tag.unwrap_or_else(|| "latest".to_string()))
        }
        _ => (image.name(), replacement.to_string()),
    };
    let same_image =
        ImageRef::parse(&name).is_some_and(|r| r.canonical_name() == image.canonical_name());
    let parts = parse_tag(&tag);
    // The catalog names a version line; the variant is the user's choice. Keep it when the same
    // line is approved in the current variant (`3.9-alpine` → `3.14-alpine`, not `3.14-slim`).
    if same_image
        && current.version.is_some()
        && parts.variant != current.variant
        && let Some(numbers) = &parts.version
    {
        let version: Vec<String> = numbers.iter().map(u64::to_string).collect();
        let suffix = if current.variant.is_empty() {
            String::new()
        } else {
            format!("-{}", current.variant)
        };
        let with_variant = format!(
            "{}{}{}{suffix}",
            parts.prefix,
            version.join("."),
            parts.qualifier
        );
        if rule.matches_approved(&with_variant) && rule.eol_for(&with_variant).is_none() {
            return (name, with_variant);
        }
    }
    (name, tag)
}

/// The approved, supported, not-vulnerable tag nearest to `current`: same variant (else same
/// variant family), same major line when it has one (else the next), newest within that line,
/// and the same number of version parts when the catalog has such a tag (`18-alpine` stays a
/// floating major tag, `18.17.0-alpine` stays exact).
fn nearest_tag(
    current: &TagParts,
    rule: &crate::catalog::ImageRule,
    candidates: &[&str],
) -> Option<String> {
    let usable: Vec<(String, TagParts)> = candidates
        .iter()
        .map(|t| (t.to_string(), parse_tag(t)))
        .filter(|(_, p)| p.version.is_some())
        .collect();

    let wanted_family = match &current.version {
        Some(_) => variant_family(&current.variant),
        // An unversioned tag (`latest`, `lts-buster`, `alpine`): keep any OS codename or variant
        // after the channel word, else take the catalog's preferred variant.
        None => {
            let after_channel = current
                .variant
                .split_once('-')
                .map(|(_, rest)| rest)
                .unwrap_or("");
            if !after_channel.is_empty() {
                variant_family(after_channel)
            } else if matches!(
                current.variant.as_str(),
                "latest" | "lts" | "stable" | "current" | ""
            ) {
                rule.preferred_variant
                    .as_deref()
                    .map(variant_family)
                    .unwrap_or_default()
            } else {
                variant_family(&current.variant)
            }
        }
    };
    let exact: Vec<&(String, TagParts)> = usable
        .iter()
        .filter(|(_, p)| current.version.is_some() && p.variant == current.variant)
        .collect();
    let pool: Vec<&(String, TagParts)> = if !exact.is_empty() {
        exact
    } else {
        usable
            .iter()
            .filter(|(_, p)| variant_family(&p.variant) == wanted_family)
            .collect()
    };
    let newer: Vec<&(String, TagParts)> = match &current.version {
        Some(cur) => pool
            .into_iter()
            .filter(|(_, p)| p.version.as_ref().is_some_and(|v| v >= cur))
            .collect(),
        None => pool,
    };
    // A version is one or more numbers, but `Vec` does not say so: take the major by pattern,
    // and treat an empty one as no version rather than index into it.
    let current_major = match current.version.as_deref() {
        Some([major, ..]) => Some(*major),
        _ => None,
    };
    let major = match current_major {
        Some(cur) => newer
            .iter()
            .filter_map(|(_, p)| p.version.as_ref()?.first().copied())
            .filter(|m| *m >= cur)
            .min()?,
        None => newer
            .iter()
            .filter_map(|(_, p)| p.version.as_ref()?.first().copied())
            .max()?,
    };
    let line: Vec<&&(String, TagParts)> = newer
        .iter()
        .filter(|(_, p)| p.version.as_ref().and_then(|v| v.first()) == Some(&major))
        .collect();
    let precision = current.version.as_ref().map(Vec::len);
    let same_precision: Vec<&&&(String, TagParts)> = line
        .iter()
        .filter(|(_, p)| {
            precision.is_some_and(|n| p.version.as_ref().is_some_and(|v| v.len() == n))
        })
        .collect();
    let best = |items: Vec<&(String, TagParts)>| {
        items
            .into_iter()
            .max_by(|a, b| {
                a.1.version
                    .cmp(&b.1.version)
                    .then_with(|| b.0.len().cmp(&a.0.len()))
            })
            .map(|(t, _)| t.clone())
    };
    if !same_precision.is_empty() {
        best(same_precision.into_iter().map(|x| **x).collect())
    } else {
        best(line.into_iter().copied().collect())
    }
}

fn no_candidate_reason(
    image: &ImageRef,
    current: &TagParts,
    rule: &crate::catalog::ImageRule,
    registry_checked: bool,
) -> String {
    if registry_checked {
        return format!(
            "the registry has no tag of `{}` that the catalog approves (supported, not known vulnerable) in the `{}` variant at or above the current version; changing variant is a decision for a person",
            image.name(),
            display_variant(&current.variant)
        );
    }
    let variants: std::collections::BTreeSet<String> = rule
        .tags
        .iter()
        .filter(|t| rule.matches_approved(t))
        .map(|t| display_variant(&parse_tag(t).variant).to_string())
        .collect();
    format!(
        "the catalog has no approved, supported tag of `{}` in the `{}` variant at or above the current version (approved variants: {}); changing variant is a decision for a person",
        image.name(),
        display_variant(&current.variant),
        variants.into_iter().collect::<Vec<_>>().join(", ")
    )
}

fn numbers_change(from: Option<&[u64]>, to: Option<&[u64]>) -> ChangeKind {
    let (Some(a), Some(b)) = (from, to) else {
        return ChangeKind::Unknown;
    };
    let part = |v: &[u64], i: usize| v.get(i).copied().unwrap_or(0);
    if part(a, 0) != part(b, 0) {
        ChangeKind::Major
    } else if part(a, 1) != part(b, 1) {
        ChangeKind::Minor
    } else {
        ChangeKind::Patch
    }
}

/// The ARG whose default `edit` changes, if it changes one.
fn arg_edited(segments: &[crate::model::Segment], edit: &crate::model::Edit) -> Option<String> {
    segments.iter().find_map(|s| match &s.source {
        SegmentSource::Arg {
            name,
            default_span: Some(span),
        } if *span == edit.span => Some(name.clone()),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_version_is_no_version_not_a_panic() {
        let rule = crate::catalog::ImageRule {
            name: "node".into(),
            approved: Vec::new(),
            tags: vec!["20.11.1-alpine".into(), "22.2.0-alpine".into()],
            preferred_variant: None,
            default_user: None,
            digests: Default::default(),
            end_of_life: Vec::new(),
            vulnerable: Vec::new(),
            location: Default::default(),
        };
        let today = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let empty = TagParts {
            version: Some(Vec::new()),
            ..parse_tag("20-alpine")
        };
        // Indexing `cur[0]` panicked here; an empty version now picks as no version does.
        let unversioned = TagParts {
            version: None,
            ..parse_tag("20-alpine")
        };
        let candidates = rule.candidates(today);
        assert_eq!(
            nearest_tag(&empty, &rule, &candidates),
            nearest_tag(&unversioned, &rule, &candidates)
        );
        assert_eq!(
            nearest_tag(&parse_tag("20-alpine"), &rule, &candidates).as_deref(),
            Some("20.11.1-alpine")
        );
    }
}
