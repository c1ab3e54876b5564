//! What a Dockerfile says about the running container: its user and unpinned OS packages.

use crate::catalog::Catalog;
use crate::model::{DependencyKind, Fact, Finding, ParsedManifest, RuleId};

pub(super) fn check(manifest: &ParsedManifest, catalog: &Catalog, findings: &mut Vec<Finding>) {
    for fact in &manifest.facts {
        match fact {
            Fact::FinalStageUser {
                user,
                location,
                image_stage,
            } => {
                let verdict = match user {
                    Some(user) if is_root(user) => Some(format!("the final stage sets `USER {user}`, which is root")),
                    Some(_) => None,
                    None => match final_image_default_user(manifest, *image_stage, catalog) {
                        Some(default) if !is_root(&default) => None,
                        Some(default) => Some(format!("the final stage sets no `USER`, and its image runs as `{default}`")),
                        None => Some("the final stage sets no `USER`, so the container runs as the image's default user, root unless the image says otherwise".to_string()),
                    },
                };
                if let Some(message) = verdict {
                    findings.push(Finding::new(
                        RuleId::RunsAsRoot,
                        location.clone(),
                        "final stage user",
                        format!("{message}; add a non-root `USER` to the final stage"),
                    ));
                }
            }
            Fact::UnpinnedOsPackages {
                manager,
                packages,
                location,
            } => {
                findings.push(Finding::new(
                    RuleId::UnpinnedOsPackages,
                    location.clone(),
                    format!("{manager}: {}", packages.join(" ")),
                    format!(
                        "{manager} installs {} without a version, so rebuilds can change {} silently",
                        packages.join(", "),
                        if packages.len() == 1 { "it" } else { "them" }
                    ),
                ));
            }
        }
    }
}

/// `root`, `0`, `root:root`, `0:0`: the user part names uid 0.
pub fn is_root(user: &str) -> bool {
    let name = user.split(':').next().unwrap_or(user).trim();
    name == "root" || name == "0"
}

/// The catalog's `default-user` of the image the final stage is built from, when it knows it.
fn final_image_default_user(
    manifest: &ParsedManifest,
    image_stage: Option<usize>,
    catalog: &Catalog,
) -> Option<String> {
    let image = manifest.dependencies.iter().find_map(|d| match d.kind {
        DependencyKind::BaseImage { stage, .. } if Some(stage) == image_stage => d.image.as_ref(),
        DependencyKind::BaseImage {
            final_stage: true, ..
        } if image_stage.is_none() => d.image.as_ref(),
        _ => None,
    })?;
    catalog
        .image(&image.reference.canonical_name())
        .and_then(|rule| rule.default_user.clone())
}
