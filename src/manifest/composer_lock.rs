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

use super::cargo_lock::{LineIndex, exact_span};
use super::json_doc::{self, inner_span, value_span};
use super::json_tree;
use crate::model::{
    Dependency, DependencyKind, Ecosystem, ErrorCode, FileError, Location, ParsedManifest, Span,
};

const REGENERATE: &str = "regenerate it with `composer update --lock`";
const SECTIONS: [&str; 2] = ["packages", "packages-dev"];

/// One text for the whole file: see `EditMode::NeedsRelock`.
const REASON: &str = "composer.lock records a content hash of composer.json and each package's dist reference: run `composer update <package>:<fixed version>`";

pub fn parse(file: &str, source: &str) -> ParsedManifest {
    // Composer writes plain JSON in one regular shape, which the lean reader takes at a
    // fraction of jsonc_parser's time and memory (two 4 MB locks parsed side by side were
    // 40 MB of a monorepo scan's peak). Anything else, errors included, goes the general way,
    // so messages and their lines stay jsonc_parser's.
    if let Some(json_tree::Value::Object(root)) = json_tree::parse_fast(source)
        && let Some(out) = read_regular(file, source, &root)
    {
        return out;
    }
    parse_general(file, source)
}

/// The manifest of a file whose sections are arrays (or null) of objects with a string `name`
/// and `version` each; `None` for anything else, which [`parse_general`] reports.
fn read_regular(file: &str, source: &str, root: &json_tree::Object<'_>) -> Option<ParsedManifest> {
    let mut entries: Vec<&json_tree::Object<'_>> = Vec::new();
    for section in SECTIONS {
        match root.get(section).map(|p| &p.value) {
            None | Some(json_tree::Value::Null) => {}
            Some(json_tree::Value::Array(items)) => {
                for item in items {
                    entries.push(item.as_object()?);
                }
            }
            Some(_) => return None,
        }
    }
    let mut required = HashSet::new();
    for fields in &entries {
        for list in ["require", "require-dev"] {
            if let Some(list) = fields.get_object(list) {
                for requirement in &list.properties {
                    required.insert(requirement.name().to_ascii_lowercase());
                }
            }
        }
    }
    let mut out = ParsedManifest {
        file: file.to_string(),
        ..Default::default()
    };
    let mut lines = LineIndex::new(source);
    let reason: Arc<str> = Arc::from(REASON);
    for fields in entries {
        let (name, version) = (fields.get_string("name")?, fields.get_string("version")?);
        let (name_text, version_text) = (name.value.as_ref(), version.value.as_ref());
        if version_text.starts_with("dev-") || version_text.ends_with("-dev") {
            continue;
        }
        let is_direct = !required.contains(&name_text.to_ascii_lowercase());
        let version_span = exact_span(source, json_tree::inner_span(version), version_text);
        out.dependencies.push(package(
            (name_text, version_text, is_direct),
            lines.location(file, json_tree::inner_span(name)),
            version_span,
            &reason,
        ));
    }
    Some(out)
}

/// Any composer.lock, through jsonc_parser: what [`read_regular`] declines, with its errors.
fn parse_general(file: &str, source: &str) -> ParsedManifest {
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

    let reason: Arc<str> = Arc::from(REASON);
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
        out.dependencies.push(package(
            (name_text, version_text, is_direct),
            lines.location(file, inner_span(name)),
            value_span(source, version, 0, version_text),
            &reason,
        ));
    }
    out
}

/// One locked package, as both readers give it.
fn package(
    (name, version, is_direct): (&str, &str, bool),
    location: Location,
    version_span: Option<Span>,
    reason: &Arc<str>,
) -> Dependency {
    Dependency::locked(
        Ecosystem::Packagist,
        (name, version),
        DependencyKind::package(is_direct),
        location,
        version_span.into_iter().collect(),
        reason.clone(),
    )
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

    /// Both readers give the same manifest wherever the lean one answers, and it answers for
    /// the real lockfile.
    #[test]
    fn the_lean_reading_is_the_general_one() {
        let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../shared/corpus/composer_composer/composer.lock");
        let mut sources = vec![
            r#"{"packages": [{"name": "a/b", "version": "1.0.0", "require": {"C/D": "^2"}}, {"name": "c/d", "version": "v2.1.0"}], "packages-dev": null}"#.to_string(),
            r#"{"packages": [{"name": "a/b", "version": "dev-main"}, {"version": "1.0", "name": "x/\u0079", "name": "z/z"}]}"#.to_string(),
            "{}".to_string(),
        ];
        if let Ok(text) = std::fs::read_to_string(&corpus) {
            sources.push(text);
        }
        for source in &sources {
            let json_tree::Value::Object(root) = json_tree::parse_fast(source).unwrap() else {
                panic!("{source}")
            };
            let lean = read_regular("composer.lock", source, &root).expect(source);
            assert_eq!(lean, parse_general("composer.lock", source), "{source}");
        }
        for declined in [
            r#"{"packages": {"a": 1}}"#,
            r#"{"packages": [1]}"#,
            r#"{"packages": [{"name": "a/b"}]}"#,
            r#"{"packages-dev": [{"name": "a/b", "version": 1}]}"#,
        ] {
            let json_tree::Value::Object(root) = json_tree::parse_fast(declined).unwrap() else {
                panic!("{declined}")
            };
            assert!(
                read_regular("composer.lock", declined, &root).is_none(),
                "{declined}"
            );
            assert!(
                !parse("composer.lock", declined).errors.is_empty(),
                "{declined}"
            );
        }
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
