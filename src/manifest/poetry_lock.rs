//! poetry.lock.
//!
//! Every `[[package]]` is reported as Transitive: poetry.lock does not record which packages
//! pyproject.toml asks for. Packages whose `[package.source]` is a local `directory` are the
//! project's own code (path dependencies) and are skipped; packages from a git repository, a
//! URL, a file or a private index keep their PyPI name, which is what advisories are filed under.
//!
//! Every entry NeedsRelock: poetry.lock records file hashes per package and a content hash of
//! pyproject.toml, which only Poetry recomputes.

use std::sync::Arc;

use super::cargo_lock::{LineIndex, LockFormat, package_tables, parse_document};
use crate::model::{Dependency, DependencyKind, Ecosystem, ParsedManifest, Span};

const FORMAT: LockFormat = LockFormat {
    name: "poetry.lock",
    regenerate: "regenerate poetry.lock with `poetry lock`",
};

mod fast;

pub fn parse(file: &str, source: &str) -> ParsedManifest {
    match fast::read(source) {
        Some(packages) => from_fast(file, source, packages),
        None => parse_with_toml(file, source),
    }
}

/// The manifest from what the fast reader gave: the same dependencies the TOML path builds.
fn from_fast(file: &str, source: &str, packages: Vec<fast::FastPackage<'_>>) -> ParsedManifest {
    let mut out = ParsedManifest {
        file: file.to_string(),
        ..Default::default()
    };
    let mut lines = LineIndex::new(source);
    let reason = relock_reason();
    out.dependencies.reserve(packages.len());
    for package in packages.into_iter().filter(|p| !p.is_directory) {
        out.dependencies.push(dependency(
            file,
            &mut lines,
            &reason,
            package.name,
            package.name_span,
            package.version,
            Some(package.version_span),
        ));
    }
    out
}

/// Any poetry.lock, through the `toml` crate: the reference the fast reader must agree with,
/// and the path for every file it declines.
fn parse_with_toml(file: &str, source: &str) -> ParsedManifest {
    let mut out = ParsedManifest {
        file: file.to_string(),
        ..Default::default()
    };
    let mut lines = LineIndex::new(source);
    let doc = parse_document(file, source, &lines, FORMAT, &mut out.errors);
    let packages = package_tables(file, source, doc.get_ref(), &lines, FORMAT, &mut out.errors);
    let reason = relock_reason();
    for package in packages {
        let source_type = package
            .table
            .get("source")
            .and_then(|s| s.get_ref().get("type"))
            .and_then(|t| t.get_ref().as_str());
        if source_type == Some("directory") {
            continue;
        }
        out.dependencies.push(dependency(
            file,
            &mut lines,
            &reason,
            package.name,
            package.name_span,
            package.version,
            package.version_span,
        ));
    }
    out
}

/// The re-lock reason every package of one file shares: see `EditMode::NeedsRelock`.
fn relock_reason() -> Arc<str> {
    Arc::from("poetry.lock records file hashes for each package: run `poetry update <package>`")
}

fn dependency(
    file: &str,
    lines: &mut LineIndex<'_>,
    reason: &Arc<str>,
    name: &str,
    name_span: Span,
    version: &str,
    version_span: Option<Span>,
) -> Dependency {
    Dependency::locked(
        Ecosystem::PyPI,
        (name, version),
        DependencyKind::Transitive,
        lines.location(file, name_span),
        version_span.into_iter().collect(),
        reason.clone(),
    )
}

#[cfg(test)]
mod tests;
