//! Cargo.lock, format versions 1 to 4.
//!
//! Which `[[package]]` tables are dependencies:
//! - a `registry+…` or `sparse+…` source: a crate from a registry, reported as `crates.io`
//!   (Cargo.lock records crates.io itself as `registry+https://github.com/rust-lang/crates.io-index`;
//!   an alternative registry cannot be told apart by name alone, and matching is by crate name).
//!   Direct when a workspace member lists it in its `dependencies`, otherwise Transitive.
//! - no `source`: the workspace's own crates (members and path dependencies). They are not
//!   dependencies; their `dependencies` lists tell which crates are Direct.
//! - a `git+…` (or any other) source: reported as Transitive with the version Cargo.toml of that
//!   commit declares, because advisories are filed by crate name and a git checkout of a
//!   vulnerable crate is just as vulnerable. Its fix is a new revision in Cargo.toml, not a
//!   version edit here.
//!
//! Every entry NeedsRelock: Cargo.lock carries a checksum per registry crate, and only Cargo can
//! recompute the resolution.

mod lines;
mod toml_packages;

pub(crate) use lines::{LineIndex, exact_span};
pub(crate) use toml_packages::{LockFormat, package_tables, parse_document, string_value};

use std::collections::HashSet;
use std::sync::Arc;

use toml::de::DeValue;

use crate::model::{Dependency, DependencyKind, Ecosystem, ParsedManifest};

const FORMAT: LockFormat = LockFormat {
    name: "Cargo.lock",
    regenerate: "regenerate Cargo.lock with `cargo generate-lockfile`",
};

pub fn parse(file: &str, source: &str) -> ParsedManifest {
    let mut out = ParsedManifest {
        file: file.to_string(),
        ..Default::default()
    };
    let mut lines = LineIndex::new(source);
    let doc = parse_document(file, source, &lines, FORMAT, &mut out.errors);
    let packages = package_tables(file, source, doc.get_ref(), &lines, FORMAT, &mut out.errors);

    let mut direct = DirectSet::default();
    // Cargo before 0.38 wrote the workspace root as a `[root]` table instead of a package.
    if let Some(DeValue::Table(root)) = doc.get_ref().get("root").map(|v| v.get_ref()) {
        direct.add_list(root.get("dependencies").map(|v| v.get_ref()));
    }
    for package in packages.iter().filter(|p| p.table.get("source").is_none()) {
        direct.add_list(package.table.get("dependencies").map(|v| v.get_ref()));
    }

    // One text for every registry crate of the file: see `EditMode::NeedsRelock`.
    let registry_reason: Arc<str> = Arc::from(
        "Cargo.lock records a checksum for each crate: run `cargo update -p <package>@<version> --precise <fixed version>`",
    );
    for package in &packages {
        let Some(source_id) = package
            .table
            .get("source")
            .and_then(|v| v.get_ref().as_str())
        else {
            continue;
        };
        let (name, version) = (package.name, package.version);
        let from_registry = source_id.starts_with("registry+") || source_id.starts_with("sparse+");
        let (kind, reason) = if from_registry {
            let kind = if direct.contains(name, version) {
                DependencyKind::Direct
            } else {
                DependencyKind::Transitive
            };
            (kind, registry_reason.clone())
        } else {
            let repository = source_id.split('#').next().unwrap_or(source_id);
            let reason = format!(
                "`{name}` is built from `{repository}`, not from a registry: point that dependency in Cargo.toml at a fixed revision or a crates.io release, then run `cargo update -p {name}`"
            );
            (DependencyKind::Transitive, reason.into())
        };
        out.dependencies.push(Dependency::locked(
            Ecosystem::CratesIo,
            (name, version),
            kind,
            lines.location(file, package.name_span),
            package.version_span.into_iter().collect(),
            reason,
        ));
    }
    out
}

/// The crates the workspace's own packages depend on, as their `dependencies` lists write them:
/// `name`, or `name version` when several versions are locked, or `name version (source)`.
#[derive(Default)]
struct DirectSet {
    any_version: HashSet<String>,
    exact: HashSet<(String, String)>,
}

impl DirectSet {
    fn add_list(&mut self, list: Option<&DeValue<'_>>) {
        let Some(DeValue::Array(items)) = list else {
            return;
        };
        for item in items.iter() {
            let Some(entry) = item.get_ref().as_str() else {
                continue;
            };
            let mut words = entry.split_whitespace();
            match (words.next(), words.next()) {
                (Some(name), Some(version)) if !version.starts_with('(') => {
                    self.exact.insert((name.to_string(), version.to_string()));
                }
                (Some(name), _) => {
                    self.any_version.insert(name.to_string());
                }
                (None, _) => {}
            }
        }
    }

    fn contains(&self, name: &str, version: &str) -> bool {
        self.any_version.contains(name)
            || self
                .exact
                .contains(&(name.to_string(), version.to_string()))
    }
}
