//! Packages: the smallest version that clears every advisory at once and satisfies the catalog.

use super::Planned;
use crate::catalog::{AdvisoryDb, Catalog, Version, parse_version};
use crate::model::{
    ChangeKind, Dependency, DependencyKind, Ecosystem, Edit, EditMode, Finding, Fix, RuleId,
};

pub(super) fn plan(
    dependency: &Dependency,
    group: &[&Finding],
    catalog: &Catalog,
    advisories: &AdvisoryDb,
) -> Planned {
    let eco = dependency.ecosystem;
    let name = &dependency.name;
    let current_text = dependency
        .version
        .as_deref()
        .ok_or_else(|| "no version is written, so there is nothing to raise".to_string())?;
    let current = parse_version(eco, current_text).map_err(|e| e.to_string())?;
    let all = advisories.for_package(eco, name);
    // An advisory that names no fixed version affects every release from where it starts: no
    // upgrade escapes it, so it must not veto the upgrade that clears the others. It stays open
    // and the fix says so.
    let (known, unfixable): (Vec<_>, Vec<_>) = all
        .into_iter()
        .partition(|a| !a.fixed_versions(eco, name).is_empty());
    let rule = catalog.package(eco, name);
    let catalog_finding = group.iter().any(|f| {
        matches!(
            f.rule,
            RuleId::DependencyBelowMinimum | RuleId::DependencyBanned
        )
    });
    let fixable_match = group
        .iter()
        .flat_map(|f| &f.advisories)
        .any(|id| known.iter().any(|a| a.is_named(id)));
    if !catalog_finding && !fixable_match {
        return Err(no_fix_reason(
            dependency,
            group,
            &[],
            rule.and_then(|r| r.replacement.as_deref()),
        ));
    }

    // Versions that are known to exist and to matter: every fixed version any advisory for the
    // package names, and the catalog's minimum. Without a registry these are the only versions
    // patchwright can vouch for.
    let mut candidates: Vec<Version> = known
        .iter()
        .flat_map(|a| a.fixed_versions(eco, name))
        .chain(rule.and_then(|r| r.minimum.clone()))
        .filter(|v| *v > current)
        .filter(|v| current.is_prerelease() || !v.is_prerelease())
        .collect();
    candidates.sort();
    candidates.dedup();

    let acceptable = |v: &Version| {
        !known.iter().any(|a| a.affects(eco, name, v))
            && rule.is_none_or(|r| {
                r.minimum.as_ref().is_none_or(|m| v >= m) && !r.banned.iter().any(|c| c.matches(v))
            })
    };
    let Some(target) = candidates.iter().find(|v| acceptable(v)) else {
        return Err(no_fix_reason(
            dependency,
            group,
            &candidates,
            rule.and_then(|r| r.replacement.as_deref()),
        ));
    };

    let to = spell_like(current_text, target);
    let mut notes = Vec::new();
    for a in unfixable.iter().filter(|a| a.affects(eco, name, target)) {
        notes.push(format!(
            "{} stays open: no fixed version of {name} is published for it",
            a.id
        ));
    }
    let (edits, relock) = match &dependency.edit_mode {
        EditMode::InPlace => {
            let edits = dependency
                .version_spans
                .iter()
                .map(|span| Edit {
                    file: dependency.location.file.clone(),
                    span: *span,
                    replacement: to.clone(),
                })
                .collect();
            (edits, None)
        }
        // The parser's reason says why the file can't be edited; the command below says what to
        // run for this exact version, which is what the reader needs.
        EditMode::NeedsRelock { .. } => (Vec::new(), Some(relock_command(dependency, &to))),
    };
    if dependency.location.file.ends_with("go.mod") {
        notes.push("go.sum must be refreshed: run `go mod tidy`".to_string());
    }
    if matches!(dependency.kind, DependencyKind::Transitive) && relock.is_some() {
        notes.push(format!(
            "{name} is a transitive dependency: the package that requires it must allow {to}"
        ));
    }
    let clears = super::clears(group);
    Ok(Fix {
        from: current_text.to_string(),
        to,
        change: change_kind(eco, &current, target),
        edits,
        relock,
        clears,
        notes,
    })
}

/// The version as the file spells it: Go modules keep their `v`.
fn spell_like(current: &str, target: &Version) -> String {
    let text = target.to_string();
    if current.starts_with('v') && !text.starts_with('v') {
        format!("v{text}")
    } else {
        text
    }
}

fn change_kind(eco: Ecosystem, from: &Version, to: &Version) -> ChangeKind {
    let (a, b) = (from.release(), to.release());
    let part = |v: &[u64], i: usize| v.get(i).copied().unwrap_or(0);
    // Under semver a 0.x minor bump is as breaking as a major one.
    let zero_major =
        matches!(eco, Ecosystem::CratesIo | Ecosystem::Npm | Ecosystem::Go) && part(&a, 0) == 0;
    if part(&a, 0) != part(&b, 0) || (zero_major && part(&a, 1) != part(&b, 1)) {
        ChangeKind::Major
    } else if part(&a, 1) != part(&b, 1) {
        ChangeKind::Minor
    } else {
        ChangeKind::Patch
    }
}

fn relock_command(d: &Dependency, to: &str) -> String {
    let name = &d.name;
    let file = &d.location.file;
    if file.ends_with("package-lock.json") || file.ends_with("npm-shrinkwrap.json") {
        match d.kind {
            DependencyKind::Direct => format!("npm install {name}@{to}"),
            _ => format!(
                "npm update {name} (or add \"overrides\": {{\"{name}\": \"{to}\"}} to package.json)"
            ),
        }
    } else if file.ends_with("yarn.lock") {
        format!("yarn upgrade {name}@{to}")
    } else if file.ends_with("Cargo.lock") {
        format!("cargo update -p {name} --precise {to}")
    } else if file.ends_with("poetry.lock") {
        format!("poetry update {name} (with a constraint that allows {to})")
    } else if file.ends_with("pnpm-lock.yaml") {
        format!("pnpm update {name}@{to}")
    } else if file.ends_with("uv.lock") {
        format!("uv lock --upgrade-package {name}=={to}")
    } else if file.ends_with("Pipfile.lock") {
        // What a person can type: patchwright's own re-lock (a temporary Pipfile holding the
        // other packages, README "Re-locking") is no single pipenv command, and this one pins
        // NAME in the Pipfile too, to review.
        format!("pipenv upgrade {name}=={to} (it also pins {name} in the Pipfile)")
    } else if file.ends_with("Gemfile.lock") || file.ends_with("gems.locked") {
        format!("bundle update --conservative {name} (with a Gemfile constraint that allows {to})")
    } else if file.ends_with("composer.lock") {
        format!("composer update {name}:{to}")
    } else if d.ecosystem == Ecosystem::PyPI {
        format!("pip-compile --generate-hashes --upgrade-package {name}=={to}")
    } else {
        format!("update {name} to {to} with the package manager")
    }
}

fn no_fix_reason(
    d: &Dependency,
    group: &[&Finding],
    candidates: &[Version],
    replacement: Option<&str>,
) -> String {
    let ids: Vec<&str> = group
        .iter()
        .flat_map(|f| f.advisories.iter().map(String::as_str))
        .collect();
    let mut reason = if candidates.is_empty() && !ids.is_empty() {
        format!(
            "no version of {} is known to fix {}: the advisory names no fixed release",
            d.name,
            ids.join(", ")
        )
    } else if candidates.is_empty() {
        format!("the catalog names no version of {} to move to", d.name)
    } else {
        let list: Vec<String> = candidates.iter().map(ToString::to_string).collect();
        format!(
            "every candidate version of {} ({}) is still affected by an advisory or excluded by the catalog",
            d.name,
            list.join(", ")
        )
    };
    if let Some(r) = replacement {
        reason.push_str(&format!("; the catalog's approved replacement is `{r}` (a code change patchwright leaves to you)"));
    }
    reason
}
