//! Pipfile.lock (Pipenv, `pipfile-spec` 6): JSON with `default` and `develop` sections, each
//! `name → {"version": "==1.2.3", "hashes": [...]}`.
//!
//! Entries without a `version` (`git`, `path`, `file` or `editable` sources) are not from an
//! index and are skipped. Every entry is Transitive: Pipfile.lock does not record which packages
//! the Pipfile asks for (the Pipfile does, but each parser reads one file). A package in both
//! sections is reported once per section, as the file writes it twice.
//!
//! Every entry NeedsRelock: the file records file hashes per package and a hash of the Pipfile.

use std::sync::Arc;

use jsonc_parser::ast::Value;

use super::cargo_lock::LineIndex;
use super::json_doc::{self, inner_span, prop_name, value_span};
use crate::model::{Dependency, DependencyKind, Ecosystem, ErrorCode, FileError, ParsedManifest};

const REGENERATE: &str = "regenerate it with `pipenv lock`";

pub fn parse(file: &str, source: &str) -> ParsedManifest {
    let mut out = ParsedManifest {
        file: file.to_string(),
        ..Default::default()
    };
    let mut lines = LineIndex::new(source);
    let Some(root) = json_doc::parse_object(
        file,
        source,
        "Pipfile.lock",
        "`default` and `develop`",
        REGENERATE,
        &lines,
        &mut out.errors,
    ) else {
        return out;
    };
    // One text for the whole file: see `EditMode::NeedsRelock`.
    let reason: Arc<str> = Arc::from(
        "Pipfile.lock records file hashes for each package: run `pipenv update <package>`",
    );
    for section in ["default", "develop"] {
        let Some(prop) = root.get(section) else {
            continue;
        };
        let Some(entries) = prop.value.as_object() else {
            let line = lines.line(prop.range.start);
            out.errors.push(
                FileError::new(
                    file,
                    line,
                    format!("`{section}` must be an object of packages; {REGENERATE}"),
                )
                .with_code(ErrorCode::LockfileEntry),
            );
            continue;
        };
        for entry in &entries.properties {
            let Some(name) = prop_name(&entry.name) else {
                continue;
            };
            let line = lines.line(entry.range.start);
            let Some(fields) = entry.value.as_object() else {
                out.errors.push(
                    FileError::new(
                        file,
                        line,
                        format!("`{}` must be an object; {REGENERATE}", name.value),
                    )
                    .with_code(ErrorCode::LockfileEntry),
                );
                continue;
            };
            let Some(version_prop) = fields.get("version") else {
                // A VCS, path or URL requirement: not from an index.
                continue;
            };
            let Value::StringLit(lit) = &version_prop.value else {
                out.errors.push(
                    FileError::new(file, line, format!("`{}` has a `version` that is not a string like \"==1.2.3\"; {REGENERATE}", name.value))
                        .with_code(ErrorCode::LockfileEntry),
                );
                continue;
            };
            let Some(version) = lit.value.strip_prefix("==") else {
                out.errors.push(
                    FileError::new(
                        file,
                        line,
                        format!(
                            "`{}` has version `{}`, not a pin like \"==1.2.3\"; {REGENERATE}",
                            name.value, lit.value
                        ),
                    )
                    .with_code(ErrorCode::LockfileEntry),
                );
                continue;
            };
            let version = version.trim_start_matches('=');
            let skip = lit.value.len() - version.len();
            let name_text = name.value.as_ref();
            out.dependencies.push(Dependency::locked(
                Ecosystem::PyPI,
                (name_text, version),
                DependencyKind::Transitive,
                lines.location(file, inner_span(name)),
                value_span(source, lit, skip, version).into_iter().collect(),
                reason.clone(),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_and_develop_pins_with_exact_spans() {
        let source = r#"{
    "_meta": {"hash": {"sha256": "x"}, "pipfile-spec": 6, "requires": {}, "sources": []},
    "default": {
        "requests": {"hashes": ["sha256:a"], "index": "pypi", "version": "==2.31.0"},
        "mylib": {"editable": true, "path": "."},
        "tool": {"git": "https://github.com/x/tool.git", "ref": "abc"}
    },
    "develop": {
        "pytest": {"hashes": [], "markers": "python_version >= '3.8'", "version": "==8.0.0"}
    }
}"#;
        let parsed = parse("Pipfile.lock", source);
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        let got: Vec<(&str, &str, u32)> = parsed
            .dependencies
            .iter()
            .map(|d| {
                (
                    d.name.as_str(),
                    d.version_spans[0].slice(source).unwrap(),
                    d.location.line,
                )
            })
            .collect();
        assert_eq!(got, vec![("requests", "2.31.0", 4), ("pytest", "8.0.0", 9)]);
    }

    #[test]
    fn a_range_instead_of_a_pin_is_an_error() {
        let source = r#"{"default": {"a": {"version": ">=1"}}}"#;
        let parsed = parse("Pipfile.lock", source);
        assert_eq!(parsed.errors.len(), 1);
        assert!(
            parsed.errors[0].message.contains("not a pin"),
            "{:?}",
            parsed.errors
        );
        let parsed = parse("Pipfile.lock", "{\"default\": {\"a\": ");
        assert_eq!(parsed.errors[0].code, Some(ErrorCode::LockfileTruncated));
    }
}
