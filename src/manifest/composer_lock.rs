//! composer.lock (Composer 1 and 2): JSON with `packages` and `packages-dev` arrays, each entry
//! `{"name": "vendor/package", "version": "v1.2.3", "require": {...}}`.
//!
//! Branch checkouts (`dev-main`, `1.x-dev`) have no release to compare: skipped. Direct or
//! Transitive: composer.lock does not record what composer.json requires, so an entry is Direct
//! when no other locked package `require`s (or `require-dev`s) it. That never calls a transitive
//! package Direct, but misses a direct dependency that another package also requires.
//!
//! Every entry NeedsRelock: the file records a content hash of composer.json and each package's
//! source and dist references.

use std::collections::HashSet;
use std::sync::Arc;

use jsonc_parser::ast::{Array, Value};
use jsonc_parser::common::Ranged;

use super::cargo_lock::LineIndex;
use super::json_doc::{self, inner_span, value_span};
use crate::model::{
    Dependency, DependencyKind, Ecosystem, EditMode, ErrorCode, FileError, ParsedManifest,
};

const REGENERATE: &str = "regenerate it with `composer update --lock`";
const SECTIONS: [&str; 2] = ["packages", "packages-dev"];

pub fn parse(file: &str, source: &str) -> ParsedManifest {
    let mut out = ParsedManifest {
        file: file.to_string(),
        ..Default::default()
    };
    let mut lines = LineIndex::new(source);
    let Some(root) = json_doc::parse_object(
        file,
        source,
        "composer.lock",
        "`packages`",
        REGENERATE,
        &lines,
        &mut out.errors,
    ) else {
        return out;
    };
    let mut sections: Vec<&Array<'_>> = Vec::new();
    for section in SECTIONS {
        let Some(prop) = root.get(section) else {
            continue;
        };
        match prop.value.as_array() {
            Some(array) => sections.push(array),
            None if matches!(prop.value, Value::NullKeyword(_)) => {}
            None => {
                let line = lines.line(prop.range.start);
                out.errors.push(
                    FileError::new(
                        file,
                        line,
                        format!("`{section}` must be an array of packages; {REGENERATE}"),
                    )
                    .with_code(ErrorCode::LockfileEntry),
                );
            }
        }
    }

    let mut required = HashSet::new();
    for entry in sections.iter().flat_map(|s| s.elements.iter()) {
        let Some(fields) = entry.as_object() else {
            continue;
        };
        for list in ["require", "require-dev"] {
            if let Some(list) = fields.get(list).and_then(|p| p.value.as_object()) {
                for requirement in &list.properties {
                    required.insert(requirement.name.as_str().to_ascii_lowercase());
                }
            }
        }
    }

    // One text for the whole file: see `EditMode::NeedsRelock`.
    let reason: Arc<str> = Arc::from(
        "composer.lock records a content hash of composer.json and each package's dist reference: run `composer update <package>:<fixed version>`",
    );
    for entry in sections.iter().flat_map(|s| s.elements.iter()) {
        let line = lines.line(entry.range().start);
        let entry_error = |message: String| {
            FileError::new(file, line, format!("{message}; {REGENERATE}"))
                .with_code(ErrorCode::LockfileEntry)
        };
        let Some(fields) = entry.as_object() else {
            out.errors
                .push(entry_error("package entries must be objects".to_string()));
            continue;
        };
        let string = |key: &str| match fields.get(key).map(|p| &p.value) {
            Some(Value::StringLit(lit)) => Some(lit),
            _ => None,
        };
        let (Some(name), Some(version)) = (string("name"), string("version")) else {
            out.errors.push(entry_error(
                "a package needs a string `name` and `version`".to_string(),
            ));
            continue;
        };
        let name_text = name.value.as_ref();
        let version_text = version.value.as_ref();
        if version_text.starts_with("dev-") || version_text.ends_with("-dev") {
            continue;
        }
        let is_direct = !required.contains(&name_text.to_ascii_lowercase());
        out.dependencies.push(Dependency {
            ecosystem: Ecosystem::Packagist,
            name: name_text.to_string(),
            version: Some(version_text.to_string()),
            digest: None,
            kind: if is_direct {
                DependencyKind::Direct
            } else {
                DependencyKind::Transitive
            },
            location: lines.location(file, inner_span(name)),
            version_spans: value_span(source, version, 0, version_text)
                .into_iter()
                .collect(),
            image: None,
            edit_mode: EditMode::NeedsRelock {
                reason: reason.clone(),
            },
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packages_and_dev_packages_with_direct_by_requirers() {
        let source = r#"{
    "content-hash": "x",
    "packages": [
        {"name": "symfony/console", "version": "v6.4.1", "require": {"php": ">=8.1", "Symfony/String": "^6.4"}},
        {"name": "symfony/string", "version": "v6.4.0"},
        {"name": "acme/fork", "version": "dev-main"}
    ],
    "packages-dev": [
        {"name": "phpunit/phpunit", "version": "10.5.2"}
    ]
}"#;
        let parsed = parse("composer.lock", source);
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        let got = super::super::names_versions_direct(&parsed, source);
        assert_eq!(
            got,
            vec![
                ("symfony/console", "v6.4.1", true),
                ("symfony/string", "v6.4.0", false),
                ("phpunit/phpunit", "10.5.2", true),
            ]
        );
    }

    #[test]
    fn an_entry_without_version_names_its_line() {
        let parsed = parse(
            "composer.lock",
            "{\"packages\": [\n  {\"name\": \"a/b\"}\n]}",
        );
        assert_eq!(parsed.errors.len(), 1);
        assert_eq!(parsed.errors[0].line, 2);
    }
}
