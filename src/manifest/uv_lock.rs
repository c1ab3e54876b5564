//! uv.lock (uv's universal lockfile, TOML, `version = 1`).
//!
//! - Every `[[package]]` from a `registry`, `git` or `url` source is a dependency under its PyPI
//!   name (what advisories are filed under). Packages whose source is `editable`, `virtual`,
//!   `directory` or `path` are the project's own code (workspace members, path dependencies):
//!   they are not dependencies, and a member's lists tell which packages are Direct.
//! - Direct: named by a member's `dependencies`, `optional-dependencies` or `dev-dependencies`
//!   (an entry with its own `version` only matches that version, as uv writes it when one name
//!   resolves to several versions).
//!
//! Every entry NeedsRelock: uv.lock records hashes and sizes of each package's files.
//!
//! `regular` reads the shape `uv lock` writes, much faster than building the `toml` crate's
//! document; anything else (hand edits, syntax errors) is read by the `toml` crate, and both
//! readings give the same result.

mod regular;

use std::collections::HashSet;
use std::sync::Arc;

use toml::de::{DeTable, DeValue};

use super::cargo_lock::{LineIndex, LockFormat, parse_document, string_value};
use crate::catalog::name::normalize_name;
use crate::model::{
    Dependency, DependencyKind, Ecosystem, ErrorCode, FileError, ParsedManifest, Span,
};

const FORMAT: LockFormat = LockFormat {
    name: "uv.lock",
    regenerate: "regenerate uv.lock with `uv lock`",
};

/// Sources that are the project's own code.
const LOCAL_SOURCES: [&str; 4] = ["editable", "virtual", "directory", "path"];

pub fn parse(file: &str, source: &str) -> ParsedManifest {
    regular::read(source)
        .and_then(|lock| from_regular(file, source, &lock))
        .unwrap_or_else(|| parse_full(file, source))
}

/// The dependencies of a lock `regular` read, or `None` when a package lacks its name or
/// version (the full reading says which, with its line).
fn from_regular(file: &str, source: &str, lock: &regular::Lock<'_>) -> Option<ParsedManifest> {
    let mut out = ParsedManifest {
        file: file.to_string(),
        ..Default::default()
    };
    let mut lines = LineIndex::new(source);
    let index_reason = index_reason();
    let is_local = |p: &regular::Package<'_>| p.source.is_some_and(|k| LOCAL_SOURCES.contains(&k));
    let mut direct = Direct::default();
    for package in lock.packages.iter().filter(|p| is_local(p)) {
        for (name, version) in &package.declared {
            direct.add(name, *version);
        }
    }
    for package in lock.packages.iter().filter(|p| !is_local(p)) {
        let ((name, name_span), (version, version_span)) = (package.name?, package.version?);
        let is_direct = direct.contains(name, version);
        out.dependencies.push(dependency(
            &mut lines,
            file,
            &index_reason,
            (name, name_span),
            (version, Some(version_span)),
            package.source,
            is_direct,
        ));
    }
    Some(out)
}

/// `parse` through the `toml` crate's document: any TOML.
fn parse_full(file: &str, source: &str) -> ParsedManifest {
    let mut out = ParsedManifest {
        file: file.to_string(),
        ..Default::default()
    };
    let mut lines = LineIndex::new(source);
    let doc = parse_document(file, source, &lines, FORMAT, &mut out.errors);
    let packages: Vec<_> = match doc.get_ref().get("package").map(|p| p.get_ref()) {
        Some(DeValue::Array(items)) => items.iter().collect(),
        Some(_) => {
            out.errors.push(
                FileError::new(
                    file,
                    0,
                    "`package` must be a list of `[[package]]` tables; regenerate uv.lock with `uv lock`",
                )
                .with_code(ErrorCode::LockfileEntry),
            );
            Vec::new()
        }
        None => Vec::new(),
    };

    let source_kind = |table: &DeTable<'_>| -> Option<String> {
        match table.get("source").map(|s| s.get_ref()) {
            Some(DeValue::Table(source)) => source.keys().next().map(|k| k.get_ref().to_string()),
            _ => None,
        }
    };
    let mut direct = Direct::default();
    for item in &packages {
        if let DeValue::Table(table) = item.get_ref()
            && source_kind(table).is_some_and(|k| LOCAL_SOURCES.contains(&k.as_str()))
        {
            direct.add_member(table);
        }
    }

    let index_reason = index_reason();
    for item in &packages {
        let line = lines.line(item.span().start);
        let DeValue::Table(table) = item.get_ref() else {
            out.errors.push(
                FileError::new(
                    file,
                    line,
                    "`package` entries must be tables; regenerate uv.lock with `uv lock`",
                )
                .with_code(ErrorCode::LockfileEntry),
            );
            continue;
        };
        let kind = source_kind(table);
        if kind.as_deref().is_some_and(|k| LOCAL_SOURCES.contains(&k)) {
            continue;
        }
        let name = table.get("name").and_then(|v| string_value(source, v));
        let version = table.get("version").and_then(|v| string_value(source, v));
        let (Some((name, name_span)), Some((version, version_span))) = (name, version) else {
            out.errors.push(
                FileError::new(
                    file,
                    line,
                    "`[[package]]` needs a string `name` and `version`; regenerate uv.lock with `uv lock`",
                )
                .with_code(ErrorCode::LockfileEntry),
            );
            continue;
        };
        let name_span = name_span.unwrap_or_else(|| {
            let raw = table.get("name").map(|v| v.span()).unwrap_or_default();
            Span::new(raw.start, raw.end)
        });
        let is_direct = direct.contains(name, version);
        out.dependencies.push(dependency(
            &mut lines,
            file,
            &index_reason,
            (name, name_span),
            (version, version_span),
            kind.as_deref(),
            is_direct,
        ));
    }
    out
}

/// The re-lock reason every index package of one file shares: see `EditMode::NeedsRelock`.
fn index_reason() -> Arc<str> {
    Arc::from(
        "uv.lock records file hashes for each package: run `uv lock --upgrade-package <package>==<fixed version>`",
    )
}

/// One registry, git or url package as a dependency.
fn dependency(
    lines: &mut LineIndex<'_>,
    file: &str,
    index_reason: &Arc<str>,
    (name, name_span): (&str, Span),
    (version, version_span): (&str, Option<Span>),
    kind: Option<&str>,
    is_direct: bool,
) -> Dependency {
    let reason = match kind {
        Some(kind @ ("git" | "url")) => format!(
            "`{name}` comes from a {kind} source, not an index: point pyproject.toml at a fixed release, then run `uv lock --upgrade-package {name}`"
        )
        .into(),
        _ => index_reason.clone(),
    };
    Dependency::locked(
        Ecosystem::PyPI,
        (name, version),
        DependencyKind::package(is_direct),
        lines.location(file, name_span),
        version_span.into_iter().collect(),
        reason,
    )
}

/// What the workspace's own packages ask for, by normalized name.
#[derive(Default)]
struct Direct {
    any_version: HashSet<String>,
    exact: HashSet<(String, String)>,
}

impl Direct {
    fn add_member(&mut self, member: &DeTable<'_>) {
        self.add_list(member.get("dependencies").map(|v| v.get_ref()));
        for groups in ["optional-dependencies", "dev-dependencies"] {
            if let Some(DeValue::Table(groups)) = member.get(groups).map(|v| v.get_ref()) {
                for list in groups.values() {
                    self.add_list(Some(list.get_ref()));
                }
            }
        }
    }

    fn add_list(&mut self, list: Option<&DeValue<'_>>) {
        let Some(DeValue::Array(items)) = list else {
            return;
        };
        for item in items.iter() {
            let DeValue::Table(entry) = item.get_ref() else {
                continue;
            };
            let Some(name) = entry.get("name").and_then(|n| n.get_ref().as_str()) else {
                continue;
            };
            let version = entry.get("version").and_then(|v| v.get_ref().as_str());
            self.add(name, version);
        }
    }

    /// A requirement of `name`, at exactly `version` when it has one.
    fn add(&mut self, name: &str, version: Option<&str>) {
        let name = normalize_name(Ecosystem::PyPI, name);
        match version {
            Some(version) => {
                self.exact.insert((name, version.to_string()));
            }
            None => {
                self.any_version.insert(name);
            }
        }
    }

    fn contains(&self, name: &str, version: &str) -> bool {
        let name = normalize_name(Ecosystem::PyPI, name);
        self.any_version.contains(&name) || self.exact.contains(&(name, version.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::EditMode;

    #[test]
    fn members_name_the_direct_packages_and_are_not_reported() {
        let source = r#"version = 1
requires-python = ">=3.10"

[[package]]
name = "anyio"
version = "4.4.0"
source = { registry = "https://pypi.org/simple" }
dependencies = [{ name = "idna" }]

[[package]]
name = "app"
version = "0.1.0"
source = { editable = "." }
dependencies = [{ name = "AnyIO" }]

[package.dev-dependencies]
dev = [{ name = "pytest", version = "8.0.0", source = { registry = "https://pypi.org/simple" } }]

[[package]]
name = "idna"
version = "3.7"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "pytest"
version = "8.0.0"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "pytest"
version = "7.4.0"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "tool"
version = "1.0.0"
source = { git = "https://github.com/x/tool?rev=abc#abc" }
"#;
        let parsed = parse("uv.lock", source);
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        let got = super::super::names_versions_direct(&parsed, source);
        assert_eq!(
            got,
            vec![
                ("anyio", "4.4.0", true),
                ("idna", "3.7", false),
                ("pytest", "8.0.0", true),
                ("pytest", "7.4.0", false),
                ("tool", "1.0.0", false),
            ]
        );
        let EditMode::NeedsRelock { reason } = &parsed.dependencies[0].edit_mode else {
            panic!()
        };
        assert!(
            reason.contains("uv lock --upgrade-package <package>=="),
            "{reason}"
        );
    }

    #[test]
    fn a_package_without_version_is_an_error_with_its_line() {
        let source = "version = 1\n\n[[package]]\nname = \"x\"\nsource = { registry = \"https://pypi.org/simple\" }\n";
        let parsed = parse("uv.lock", source);
        assert_eq!(parsed.errors.len(), 1);
        assert_eq!(parsed.errors[0].line, 3);
        assert!(parsed.dependencies.is_empty());
    }
}
