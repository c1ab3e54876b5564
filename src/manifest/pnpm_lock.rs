//! pnpm-lock.yaml, lockfile versions 5, 6 and 9.
//!
//! - Every package is a key of `packages`: `name@version` (v9), `/name@version(peer@1.0.0)` (v6,
//!   one key per set of peers), `/name/version_peer@1.0.0` (v5). The version's span is inside the
//!   key; a package listed once per peer set is reported once. Keys whose version is not a
//!   registry version (`file:`, `link:`, a tarball URL, a git host path) are skipped: they are not
//!   from the registry.
//! - Direct: the package at the version an importer (a workspace project, `.` for the root; or the
//!   top-level `dependencies` of a v5/v6 single-project lockfile) lists in `dependencies`,
//!   `devDependencies` or `optionalDependencies`. An alias (`version: string-width@4.2.3`) is the
//!   real package.
//!
//! Every entry NeedsRelock: the file records an integrity hash per package.

use std::collections::HashSet;
use std::sync::Arc;

use super::cargo_lock::LineIndex;
use super::yaml::{self, Keep, Node, Role, Shape};
use crate::model::{
    Dependency, DependencyKind, Ecosystem, EditMode, ErrorCode, FileError, ParsedManifest, Span,
};

const DECLARING_FIELDS: [&str; 3] = ["dependencies", "devDependencies", "optionalDependencies"];

/// Only `packages`' keys are read, and `snapshots` not at all: most of the file, and most of
/// the time a whole tree of it takes.
const SHAPE: Shape<'static> = Shape::new(&[
    // A document's root.
    Role {
        keys: &[("snapshots", Keep::Hollow), ("packages", Keep::In(1))],
        other: Keep::In(2),
        items: Keep::In(2),
    },
    // `packages`: its keys.
    Role {
        keys: &[],
        other: Keep::Hollow,
        items: Keep::In(2),
    },
    // Everything else, whole.
    Role {
        keys: &[],
        other: Keep::In(2),
        items: Keep::In(2),
    },
]);

pub fn parse(file: &str, source: &str) -> ParsedManifest {
    read(file, source, yaml::parse_shaped(source, SHAPE))
}

fn read<'a>(
    file: &str,
    source: &'a str,
    (docs, error): (Vec<Node<'a>>, Option<yaml::YamlError>),
) -> ParsedManifest {
    let mut out = ParsedManifest {
        file: file.to_string(),
        ..Default::default()
    };
    let mut lines = LineIndex::new(source);
    if let Some(error) = error {
        let code = if error.offset >= source.trim_end().len() {
            ErrorCode::LockfileTruncated
        } else {
            ErrorCode::LockfileSyntax
        };
        let message = format!(
            "pnpm-lock.yaml is not valid YAML here ({}); restore it from version control or regenerate it with `pnpm install`",
            error.message
        );
        out.errors
            .push(FileError::new(file, error.line, message).with_code(code));
    }
    let Some(root) = docs.first() else {
        return out;
    };
    let v5 = root
        .get("lockfileVersion")
        .and_then(Node::as_str)
        .is_some_and(|v| v.starts_with('5'));

    let mut direct = HashSet::new();
    add_declared(root, &mut direct, v5);
    for (_, importer) in root.get("importers").map_or(&[][..], Node::entries) {
        add_declared(importer, &mut direct, v5);
    }

    // Borrowed from the tree: no allocation per package to find duplicates and direct ones.
    let mut seen: HashSet<(&str, &str)> = HashSet::new();
    // One text per kind for the whole file: see `EditMode::NeedsRelock`.
    let direct_reason: Arc<str> = Arc::from(
        "pnpm-lock.yaml records an integrity hash for each package: run `pnpm update <package>@<fixed version>`",
    );
    let transitive_reason: Arc<str> = Arc::from(
        "pnpm-lock.yaml records an integrity hash for each package: run `pnpm update --depth Infinity <package>`; if the packages that require it exclude the fixed version, add `\"pnpm\": {\"overrides\": {\"<package>\": \"<fixed version>\"}}` to package.json and run `pnpm install`",
    );
    for (key, _) in root.get("packages").map_or(&[][..], Node::entries) {
        let Some(key) = key.as_scalar() else {
            continue;
        };
        let Some(parsed) = split_key(&key.value, v5) else {
            if !key.value.contains([':', '/']) || key.value.starts_with('@') {
                let line = lines.line(key.start);
                out.errors.push(
                    FileError::new(
                        file,
                        line,
                        format!(
                            "`{}` is not a `name@version` package key; regenerate pnpm-lock.yaml with `pnpm install`",
                            key.value
                        ),
                    )
                    .with_code(ErrorCode::LockfileEntry),
                );
            }
            continue;
        };
        if !is_registry_version(parsed.version) {
            continue;
        }
        if !seen.insert((parsed.name, parsed.version)) {
            continue;
        }
        let (name_span, version_span) = match key.span {
            Some(span) => (
                Span::new(
                    span.start + parsed.name_at,
                    span.start + parsed.name_at + parsed.name.len(),
                ),
                Some(Span::new(
                    span.start + parsed.version_at,
                    span.start + parsed.version_at + parsed.version.len(),
                )),
            ),
            None => (Span::new(key.start, key.start), None),
        };
        let is_direct = direct.contains(&(parsed.name, parsed.version));
        let name = parsed.name;
        let reason = if is_direct {
            direct_reason.clone()
        } else {
            transitive_reason.clone()
        };
        out.dependencies.push(Dependency {
            ecosystem: Ecosystem::Npm,
            name: name.to_string(),
            version: Some(parsed.version.to_string()),
            digest: None,
            kind: if is_direct {
                DependencyKind::Direct
            } else {
                DependencyKind::Transitive
            },
            location: lines.location(file, name_span),
            version_spans: version_span.into_iter().collect(),
            image: None,
            edit_mode: EditMode::NeedsRelock { reason },
        });
    }
    out
}

/// The `(name, version)` pairs a project's dependency lists resolve to.
fn add_declared<'t>(project: &'t Node<'_>, direct: &mut HashSet<(&'t str, &'t str)>, v5: bool) {
    for field in DECLARING_FIELDS {
        for (name, value) in project.get(field).map_or(&[][..], Node::entries) {
            let Some(name) = name.as_str() else {
                continue;
            };
            // v6 and v9 write `{specifier, version}`; v5 the version alone.
            let Some(version) = value
                .get("version")
                .and_then(Node::as_str)
                .or_else(|| value.as_str())
            else {
                continue;
            };
            let version = strip_peers(version, v5);
            // An alias resolves to another package: `string-width@4.2.3` (or v5's `/string-width/4.2.3`).
            let (real, version) = match split_key(version, v5) {
                Some(alias) if version.contains('@') || version.starts_with('/') => {
                    (alias.name, alias.version)
                }
                _ => (name, version),
            };
            direct.insert((real, version));
        }
    }
}

fn strip_peers(version: &str, v5: bool) -> &str {
    let end = version.find('(').unwrap_or(version.len());
    let version = &version[..end];
    if v5 {
        version.split('_').next().unwrap_or(version)
    } else {
        version
    }
}

struct Key<'k> {
    name: &'k str,
    name_at: usize,
    version: &'k str,
    version_at: usize,
}

/// `name@version(peers)` (v6, v9; a leading `/` in v6), or `/name/version_peers` (v5).
fn split_key(key: &str, v5: bool) -> Option<Key<'_>> {
    let lead = usize::from(key.starts_with('/'));
    let body = &key[lead..];
    let body = &body[..body.find('(').unwrap_or(body.len())];
    let (name, version) = if v5 {
        // v5 writes peers after `_`, with `+` for their `/`: the version ends at the `_`.
        let (name, rest) = body.rsplit_once('/')?;
        (name, rest.split('_').next().unwrap_or(rest))
    } else {
        let at = body.get(1..)?.rfind('@')? + 1;
        (&body[..at], &body[at + 1..])
    };
    if name.is_empty() || version.is_empty() {
        return None;
    }
    Some(Key {
        name,
        name_at: lead,
        version,
        version_at: lead + name.len() + 1,
    })
}

fn is_registry_version(version: &str) -> bool {
    version.starts_with(|c: char| c.is_ascii_digit()) && !version.contains([':', '/'])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(source: &str) -> Vec<(String, String, bool, String)> {
        let parsed = parse("pnpm-lock.yaml", source);
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        parsed
            .dependencies
            .iter()
            .map(|d| {
                let spans: Vec<&str> = d
                    .version_spans
                    .iter()
                    .map(|s| s.slice(source).unwrap())
                    .collect();
                (
                    d.name.clone(),
                    d.version.clone().unwrap(),
                    d.kind == DependencyKind::Direct,
                    spans.join(","),
                )
            })
            .collect()
    }

    #[test]
    fn v9_importers_and_peer_suffixed_snapshots() {
        let source = "lockfileVersion: '9.0'\n\nimporters:\n\n  .:\n    devDependencies:\n      '@rollup/plugin-json':\n        specifier: ^6.1.0\n        version: 6.1.0(rollup@4.62.4)\n  packages/app:\n    dependencies:\n      sw:\n        specifier: npm:string-width@4.2.3\n        version: string-width@4.2.3\n      local:\n        specifier: link:../local\n        version: link:../local\n\npackages:\n\n  '@rollup/plugin-json@6.1.0':\n    resolution: {integrity: sha512-x}\n\n  rollup@4.62.4:\n    resolution: {integrity: sha512-y}\n\n  string-width@4.2.3:\n    resolution: {integrity: sha512-z}\n\n  tar@https://codeload.github.com/x/tar/tar.gz/abc:\n    resolution: {tarball: https://codeload.github.com/x/tar/tar.gz/abc}\n\nsnapshots:\n\n  '@rollup/plugin-json@6.1.0(rollup@4.62.4)':\n    dependencies:\n      rollup: 4.62.4\n";
        assert_eq!(
            summary(source),
            vec![
                (
                    "@rollup/plugin-json".into(),
                    "6.1.0".into(),
                    true,
                    "6.1.0".into()
                ),
                ("rollup".into(), "4.62.4".into(), false, "4.62.4".into()),
                ("string-width".into(), "4.2.3".into(), true, "4.2.3".into()),
            ]
        );
    }

    #[test]
    fn v6_slash_keys_with_peers_are_reported_once() {
        let source = "lockfileVersion: '6.0'\n\ndependencies:\n  react-dom:\n    specifier: ^18.2.0\n    version: 18.2.0(react@18.2.0)\n\npackages:\n\n  /react-dom@18.2.0(react@18.2.0):\n    resolution: {integrity: sha512-a}\n    dev: false\n\n  /react-dom@18.2.0(react@18.3.0):\n    resolution: {integrity: sha512-a}\n\n  /@types/node@20.1.0:\n    resolution: {integrity: sha512-b}\n    dev: true\n";
        assert_eq!(
            summary(source),
            vec![
                ("react-dom".into(), "18.2.0".into(), true, "18.2.0".into()),
                (
                    "@types/node".into(),
                    "20.1.0".into(),
                    false,
                    "20.1.0".into()
                ),
            ]
        );
    }

    #[test]
    fn v5_slash_separated_keys() {
        let source = "lockfileVersion: 5.4\n\nspecifiers:\n  ms: ^2.1.0\n\ndependencies:\n  ms: 2.1.3\n\npackages:\n\n  /ms/2.1.3:\n    resolution: {integrity: sha512-a}\n\n  /@babel/core/7.20.0_supports-color@8.1.1:\n    resolution: {integrity: sha512-b}\n";
        assert_eq!(
            summary(source),
            vec![
                ("ms".into(), "2.1.3".into(), true, "2.1.3".into()),
                (
                    "@babel/core".into(),
                    "7.20.0".into(),
                    false,
                    "7.20.0".into()
                ),
            ]
        );
    }

    /// What the shaped tree gives is what the whole tree gives.
    fn same_as_whole_tree(source: &str) {
        let whole = read("pnpm-lock.yaml", source, yaml::parse(source));
        assert_eq!(parse("pnpm-lock.yaml", source), whole, "{source}");
    }

    fn corpus_lockfile() -> String {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../shared/corpus/vuejs_core/pnpm-lock.yaml");
        std::fs::read_to_string(path).unwrap()
    }

    #[test]
    fn pruning_changes_nothing_on_the_corpus_and_test_lockfiles() {
        let corpus = corpus_lockfile();
        assert!(!parse("pnpm-lock.yaml", &corpus).dependencies.is_empty());
        same_as_whole_tree(&corpus);
        // Sections in another order, `packages` as the last key, a flow `packages` mapping and
        // an importer named like a key the shape drops.
        for source in [
            "lockfileVersion: '9.0'\nsnapshots:\n  a@1.0.0: {}\npackages:\n  a@1.0.0:\n    resolution: {integrity: x}\nimporters:\n  .:\n    dependencies:\n      a:\n        specifier: ^1\n        version: 1.0.0\n",
            "lockfileVersion: '9.0'\npackages: {a@1.0.0: {resolution: {integrity: x}}, b@2.0.0: {}}\n",
            "lockfileVersion: '6.0'\ndependencies:\n  packages:\n    specifier: ^1\n    version: 1.0.0\npackages:\n  /packages@1.0.0:\n    dependencies:\n      snapshots: 1.0.0\n",
            "---\nlockfileVersion: '9.0'\npackages:\n  a@1.0.0:\n    resolution: {integrity: x}\n---\npackages:\n  b@1.0.0: {}\n",
        ] {
            same_as_whole_tree(source);
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]

        /// Cut anywhere and edited, the corpus lockfile still reads the same shaped or whole
        /// (whether the fast reader takes it or not).
        #[test]
        fn pruning_changes_nothing_on_edited_lockfiles(
            cut in 0.0..1.0f64,
            edits in proptest::collection::vec((0.0..1.0f64, "[ \n:#'\"\\[\\]{},a-z@/-]{0,3}"), 0..4),
        ) {
            let corpus = corpus_lockfile();
            let mut source = corpus[..floor(&corpus, cut)].to_string();
            for (at, text) in edits {
                let at = floor(&source, at);
                source.insert_str(at, &text);
            }
            same_as_whole_tree(&source);
        }
    }

    fn floor(text: &str, fraction: f64) -> usize {
        let mut at = (text.len() as f64 * fraction) as usize;
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        at
    }

    #[test]
    fn broken_yaml_names_its_line() {
        let parsed = parse(
            "pnpm-lock.yaml",
            "lockfileVersion: '9.0'\npackages:\n  a@1.0.0: [\n",
        );
        assert_eq!(parsed.errors.len(), 1, "{:?}", parsed.errors);
        assert!(parsed.errors[0].line >= 3);
    }
}
