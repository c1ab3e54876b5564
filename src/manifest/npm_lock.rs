//! package-lock.json / npm-shrinkwrap.json, lockfileVersion 1, 2 and 3.
//!
//! - v2 and v3 list every installed package under `packages`, keyed by its install path
//!   (`node_modules/a/node_modules/@scope/b`). Keys outside any `node_modules/` are the project
//!   itself (`""`) and its workspaces: not dependencies. `link: true` entries (symlinks to
//!   workspaces) and entries without a `version` are skipped. The name is the entry's own `name`
//!   when written (npm aliases), otherwise the key after its last `node_modules/`.
//! - v2 also keeps the v1 `dependencies` tree as a mirror for old npm versions: the same package's
//!   version is written twice, so both spans go into `version_spans`.
//! - v1 has only the nested `dependencies` tree. Entries whose version is not a registry version
//!   (`git+…`, `file:…`, a URL) are skipped; an alias (`npm:real-name@1.2.3`) is reported under
//!   the real name, with the span of the version after the `@`.
//!
//! Direct or Transitive: in v2/v3, a package installed directly under a project folder
//! (`node_modules/<name>` for the root, `<workspace>/node_modules/<name>` for a workspace) is Direct
//! when that project's `dependencies`, `devDependencies`, `optionalDependencies` or
//! `peerDependencies` name it; a top-level package that only a workspace declares is Direct too,
//! since npm hoists workspace dependencies to the root. v1 does not record what package.json
//! declares, so a top-level entry is Direct when no entry in the lockfile `requires` it: that
//! never calls a transitive package Direct, but misses a direct dependency that another package
//! also requires (on the corpus: no false Direct, 14 of 89 declared dependencies missed). The
//! `dev` flag is no help: it marks the dev-only transitive packages as well.
//!
//! Every entry NeedsRelock: the file records `resolved` and `integrity` for each package.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use jsonc_parser::{CollectOptions, parse_to_ast};

use super::cargo_lock::{LineIndex, exact_span};
use super::json_tree::{self, Object, Prop, Str, Value};
use crate::model::{
    Dependency, DependencyKind, Ecosystem, ErrorCode, FileError, ParsedManifest, Span,
};

/// The lists of package.json that make a package Direct.
const DECLARING_FIELDS: [&str; 4] = [
    "dependencies",
    "devDependencies",
    "optionalDependencies",
    "peerDependencies",
];

pub fn parse(file: &str, source: &str) -> ParsedManifest {
    // Most lockfiles are plain JSON the fast reader takes; anything else goes through
    // jsonc_parser, which gives the same tree or the error message users see.
    match json_tree::parse_fast(source) {
        Some(tree) => read(file, source, Ok(Some(tree))),
        None => read(file, source, parse_general(source)),
    }
}

/// jsonc_parser's reading of `source`, strict as npm is.
fn parse_general(source: &str) -> Result<Option<Value<'_>>, jsonc_parser::errors::ParseError> {
    parse_to_ast(
        source,
        &CollectOptions::default(),
        &super::json_doc::strict_options(),
    )
    .map(|ast| ast.value.map(json_tree::from_jsonc))
}

/// The manifest from the document's tree, or from the error that stopped parsing.
fn read<'s>(
    file: &str,
    source: &'s str,
    tree: Result<Option<Value<'s>>, jsonc_parser::errors::ParseError>,
) -> ParsedManifest {
    let basename = file.rsplit(['/', '\\']).next().unwrap_or(file);
    let mut lock = Lock {
        file,
        basename,
        reasons: Reasons::new(basename),
        source,
        lines: LineIndex::new(source),
        out: ParsedManifest {
            file: file.to_string(),
            ..Default::default()
        },
    };
    let tree = match tree {
        Ok(tree) => tree,
        Err(error) => {
            let message = format!(
                "{} is not valid JSON here ({} at column {}); restore it from version control or regenerate it with `npm install`",
                lock.basename,
                error.kind(),
                error.column_display()
            );
            // JSON that stops before its end is a file cut short, not one written wrong.
            let code = if error.range().start >= source.trim_end().len() {
                ErrorCode::LockfileTruncated
            } else {
                ErrorCode::LockfileSyntax
            };
            lock.error_with(error.range().start, code, message);
            return lock.out;
        }
    };
    let Some(Value::Object(root)) = &tree else {
        let message = format!(
            "{} must hold a JSON object with `lockfileVersion` and `packages` or `dependencies`; regenerate it with `npm install`",
            lock.basename
        );
        lock.error_with(0, ErrorCode::LockfileSyntax, message);
        return lock.out;
    };
    if let Some(version) = root.get("lockfileVersion")
        && !matches!(version.value, Value::Number)
    {
        lock.error(
            version.start(),
            "`lockfileVersion` must be a number (1, 2 or 3); regenerate the file with `npm install`"
                .to_string(),
        );
    }
    match (
        field_object(root, "packages"),
        field_object(root, "dependencies"),
    ) {
        (Some(packages), mirror) => lock.read_packages(packages, mirror),
        (None, Some(tree)) => lock.read_v1(tree),
        (None, None) => {}
    }
    lock.out
}

struct Lock<'a> {
    file: &'a str,
    basename: &'a str,
    reasons: Reasons,
    source: &'a str,
    lines: LineIndex<'a>,
    out: ParsedManifest,
}

/// The re-lock reasons every entry of one file shares (see [`EditMode::NeedsRelock`]).
struct Reasons {
    direct: Arc<str>,
    transitive: Arc<str>,
}

impl Reasons {
    fn new(basename: &str) -> Reasons {
        Reasons {
            direct: format!(
                "{basename} records `resolved` and `integrity` for each package: run `npm install <package>@<fixed version>`"
            )
            .into(),
            transitive: format!(
                "{basename} records `resolved` and `integrity` for each package: run `npm update <package>`; if the packages that require it exclude the fixed version, add `\"overrides\": {{\"<package>\": \"<fixed version>\"}}` to package.json and run `npm install`"
            )
            .into(),
        }
    }
}

/// A version as the v1 tree writes it: the value, its span, and the name it installs under
/// when the entry is an alias.
struct Found<'f> {
    name: &'f str,
    /// The folder name under `node_modules`: differs from `name` for an alias.
    installed_as: &'f str,
    version: &'f str,
    direct: bool,
    at: Span,
    spans: Vec<Span>,
}

struct TreeVersion {
    name: String,
    version: String,
    span: Option<Span>,
}

impl<'a> Lock<'a> {
    fn error(&mut self, offset: usize, message: String) {
        self.error_with(offset, ErrorCode::LockfileEntry, message);
    }

    fn error_with(&mut self, offset: usize, code: ErrorCode, message: String) {
        let line = if self.source.is_empty() {
            0
        } else {
            self.lines.line(offset)
        };
        self.out
            .errors
            .push(FileError::new(self.file, line, message).with_code(code));
    }

    /// v2 and v3.
    fn read_packages(&mut self, packages: &Object<'_>, mirror: Option<&Object<'_>>) {
        let mirror = mirror
            .map(|tree| self.tree_versions(tree))
            .unwrap_or_default();

        // Workspace folders appear in the v1 mirror under the name they are linked as:
        // `packages/web/node_modules/x` is mirrored at `node_modules/web/node_modules/x`.
        let links: HashMap<&str, &str> = packages
            .properties
            .iter()
            .filter_map(|prop| {
                let entry = prop.value.as_object()?;
                entry.get_bool("link").filter(|&link| link)?;
                let target = entry.get_string("resolved")?;
                Some((target.value.as_ref(), prop.name()))
            })
            .collect();

        let mut declared: HashMap<&str, HashSet<&str>> = HashMap::new();
        let mut declared_anywhere: HashSet<&str> = HashSet::new();
        for prop in &packages.properties {
            let key = prop.name();
            let Some(entry) = prop.value.as_object() else {
                continue;
            };
            if key.contains("node_modules/") {
                continue;
            }
            let names = declared.entry(key).or_default();
            for field in DECLARING_FIELDS {
                if let Some(list) = entry.get_object(field) {
                    for dep in &list.properties {
                        names.insert(dep.name());
                        declared_anywhere.insert(dep.name());
                    }
                }
            }
        }

        for prop in &packages.properties {
            let key = prop.name();
            let Some(cut) = key.rfind("node_modules/") else {
                continue;
            };
            let Some(entry) = prop.value.as_object() else {
                self.error(
                    prop.start(),
                    format!(
                        "`packages` entry `{key}` must be an object with a `version`; regenerate {} with `npm install`",
                        self.basename
                    ),
                );
                continue;
            };
            if entry.get_bool("link") == Some(true) {
                continue;
            }
            let Some(version_prop) = entry.get("version") else {
                continue;
            };
            let Value::String(version) = &version_prop.value else {
                self.error(
                    version_prop.start(),
                    format!(
                        "`version` of `{key}` must be a string like \"1.2.3\"; regenerate {} with `npm install`",
                        self.basename
                    ),
                );
                continue;
            };
            let installed_as = &key[cut + "node_modules/".len()..];
            let name = entry
                .get_string("name")
                .map_or(installed_as, |n| n.value.as_ref());
            if name.is_empty() || version.value.is_empty() {
                self.error(
                    prop.start(),
                    format!(
                        "`packages` entry `{key}` has an empty name or version; regenerate {} with `npm install`",
                        self.basename
                    ),
                );
                continue;
            }
            let parent = key[..cut].trim_end_matches('/');
            let direct = !parent.contains("node_modules/")
                && (declared
                    .get(parent)
                    .is_some_and(|names| names.contains(installed_as))
                    || (parent.is_empty() && declared_anywhere.contains(installed_as)));
            let mut spans: Vec<Span> = string_span(self.source, version).into_iter().collect();
            if let Some(mirrored) = mirror.get(&mirror_path(key, &links))
                && mirrored.version == version.value
            {
                spans.extend(mirrored.span);
            }
            let key_span = json_tree::inner_span(&prop.name);
            self.push(Found {
                name,
                installed_as,
                version: &version.value,
                direct,
                at: key_span,
                spans,
            });
        }
    }

    /// Every entry of a v1 `dependencies` tree by the install path v2 would give it.
    fn tree_versions(&mut self, tree: &Object<'_>) -> HashMap<String, TreeVersion> {
        let mut found = HashMap::new();
        // An explicit stack: nesting can be as deep as the JSON parser allows.
        let mut stack = vec![(String::new(), tree)];
        while let Some((prefix, level)) = stack.pop() {
            for prop in &level.properties {
                let key = prop.name();
                let Some(entry) = prop.value.as_object() else {
                    self.error(
                        prop.start(),
                        format!(
                            "`dependencies` entry `{key}` must be an object with a `version`; regenerate {} with `npm install`",
                            self.basename
                        ),
                    );
                    continue;
                };
                let path = format!("{prefix}node_modules/{key}");
                if let Some(nested) = entry.get_object("dependencies") {
                    stack.push((format!("{path}/"), nested));
                }
                if let Some(version) = self.tree_version(key, entry) {
                    found.insert(path, version);
                }
            }
        }
        found
    }

    fn tree_version(&mut self, key: &str, entry: &Object<'_>) -> Option<TreeVersion> {
        let prop = entry.get("version")?;
        let Value::String(lit) = &prop.value else {
            self.error(
                prop.start(),
                format!(
                    "`version` of `{key}` must be a string like \"1.2.3\"; regenerate {} with `npm install`",
                    self.basename
                ),
            );
            return None;
        };
        let span = string_span(self.source, lit);
        let text = lit.value.as_ref();
        if let Some(alias) = text.strip_prefix("npm:") {
            // `npm:real-name@1.2.3`; a scoped real name starts with `@`, so split at the last one.
            let at = alias.rfind('@').filter(|&at| at > 0)?;
            let (name, version) = (&alias[..at], &alias[at + 1..]);
            let span = span.and_then(|s| {
                let start = s.end.saturating_sub(version.len());
                exact_span(self.source, Span::new(start, s.end), version)
            });
            return Some(TreeVersion {
                name: name.to_string(),
                version: version.to_string(),
                span,
            });
        }
        if text.is_empty() || text.contains(':') || text.contains('/') {
            return None;
        }
        Some(TreeVersion {
            name: key.to_string(),
            version: text.to_string(),
            span,
        })
    }

    /// v1.
    fn read_v1(&mut self, tree: &Object<'_>) {
        let mut required: HashSet<&str> = HashSet::new();
        let mut stack = vec![tree];
        while let Some(level) = stack.pop() {
            for prop in &level.properties {
                let Some(entry) = prop.value.as_object() else {
                    continue;
                };
                if let Some(requires) = entry.get_object("requires") {
                    required.extend(requires.properties.iter().map(|r| r.name()));
                }
                if let Some(nested) = entry.get_object("dependencies") {
                    stack.push(nested);
                }
            }
        }

        // Collected, then reported in file order, so the line index only moves forward.
        let mut stack = vec![(tree, true)];
        let mut pending: Vec<(Span, &str, TreeVersion, bool)> = Vec::new();
        while let Some((level, top)) = stack.pop() {
            for prop in &level.properties {
                let key = prop.name();
                let Some(entry) = prop.value.as_object() else {
                    self.error(
                        prop.start(),
                        format!(
                            "`dependencies` entry `{key}` must be an object with a `version`; regenerate {} with `npm install`",
                            self.basename
                        ),
                    );
                    continue;
                };
                if let Some(nested) = entry.get_object("dependencies") {
                    stack.push((nested, false));
                }
                let Some(found) = self.tree_version(key, entry) else {
                    continue;
                };
                let direct = top && !required.contains(key);
                let key_span = json_tree::inner_span(&prop.name);
                pending.push((key_span, key, found, direct));
            }
        }
        pending.sort_by_key(|p| p.0.start);
        for (at, key, found, direct) in pending {
            self.push(Found {
                name: &found.name,
                installed_as: key,
                version: &found.version,
                direct,
                at,
                spans: found.span.into_iter().collect(),
            });
        }
    }

    fn push(&mut self, found: Found<'_>) {
        let Found {
            name,
            installed_as,
            version,
            direct,
            at,
            spans,
        } = found;
        let reason = match (direct, installed_as == name) {
            (true, true) => self.reasons.direct.clone(),
            // An alias is reinstalled under its alias: `npm install alias@npm:real@version`.
            (true, false) => format!(
                "{} records `resolved` and `integrity` for each package: run `npm install {installed_as}@npm:{name}@<fixed version>`",
                self.basename
            )
            .into(),
            (false, _) => self.reasons.transitive.clone(),
        };
        self.out.dependencies.push(Dependency::locked(
            Ecosystem::Npm,
            (name, version),
            DependencyKind::package(direct),
            self.lines.location(self.file, at),
            spans,
            reason,
        ));
    }
}

/// The path the v1 mirror gives the package at `key`.
fn mirror_path(key: &str, links: &HashMap<&str, &str>) -> String {
    if !key.starts_with("node_modules/")
        && let Some(cut) = key.find("/node_modules/")
        && let Some(link) = links.get(&key[..cut])
    {
        return format!("{link}{}", &key[cut..]);
    }
    key.to_string()
}

fn field_object<'o, 'a>(object: &'o Object<'a>, name: &str) -> Option<&'o Object<'a>> {
    object
        .get(name)
        .and_then(|prop: &Prop<'a>| prop.value.as_object())
}

/// The span inside the quotes, when it holds exactly the value (no escapes).
fn string_span(source: &str, lit: &Str<'_>) -> Option<Span> {
    let inner = json_tree::inner_span(lit);
    exact_span(source, inner, &lit.value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::EditMode;
    use proptest::prelude::*;

    /// The manifest through jsonc_parser alone, as before the fast reader.
    fn general(file: &str, source: &str) -> ParsedManifest {
        read(file, source, parse_general(source))
    }

    fn corpus_lockfiles() -> Vec<(String, String)> {
        let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
        let mut found = Vec::new();
        for entry in ignore::WalkBuilder::new(&corpus).hidden(false).build() {
            let entry = entry.unwrap();
            let name = entry.file_name().to_string_lossy();
            if name == "package-lock.json" || name == "npm-shrinkwrap.json" {
                let text = std::fs::read_to_string(entry.path()).unwrap();
                found.push((entry.path().display().to_string(), text));
            }
        }
        found.sort();
        found
    }

    #[test]
    fn corpus_lockfiles_read_the_same_through_either_path() {
        let files = corpus_lockfiles();
        for (path, text) in &files {
            assert!(
                json_tree::parse_fast(text).is_some(),
                "{path}: the fast reader gave up"
            );
            let fast = parse(path, text);
            assert!(!fast.dependencies.is_empty(), "{path}");
            assert_eq!(fast, general(path, text), "{path}");
        }
        if std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../shared/corpus")
            .exists()
        {
            assert!(files.len() >= 11, "{} package-lock.json", files.len());
        }
    }

    /// The re-lock reason is one allocation per kind for the whole file (a copy per entry was
    /// megabytes on a large lockfile); only an alias gets its own text, naming the alias.
    #[test]
    fn entries_of_one_kind_share_one_reason() {
        let parsed = parse("package-lock.json", SAMPLE);
        let reason = |name: &str| {
            let d = parsed
                .dependencies
                .iter()
                .find(|d| d.name == name)
                .unwrap_or_else(|| panic!("no {name}: {:#?}", parsed.dependencies));
            match &d.edit_mode {
                EditMode::NeedsRelock { reason } => (d.kind.clone(), reason.clone()),
                other => panic!("{name}: {other:?}"),
            }
        };
        let (a_kind, a) = reason("a");
        let (c_kind, c) = reason("c");
        let (d_kind, d) = reason("d");
        let (g_kind, g) = reason("@s/g");
        assert_eq!(
            (a_kind, c_kind),
            (DependencyKind::Direct, DependencyKind::Direct)
        );
        assert_eq!(
            (d_kind, g_kind),
            (DependencyKind::Transitive, DependencyKind::Transitive)
        );
        assert!(Arc::ptr_eq(&a, &c), "{a} / {c}");
        assert!(Arc::ptr_eq(&d, &g), "{d} / {g}");
        assert!(a.contains("`npm install <package>@<fixed version>`"), "{a}");
        assert!(d.contains("`npm update <package>`"), "{d}");
        let (_, alias) = reason("b");
        assert!(
            alias.contains("`npm install al@npm:b@<fixed version>`"),
            "{alias}"
        );
    }

    /// A small v1, v2 or v3 lockfile with aliases, links, a workspace, nesting and escapes.
    const SAMPLE: &str = r#"{
  "name": "app",
  "lockfileVersion": 2,
  "requires": true,
  "packages": {
    "": {"name": "app", "dependencies": {"a": "^1.0.0", "al": "npm:b@^2"}, "workspaces": ["packages/web"]},
    "packages/web": {"name": "web", "devDependencies": {"c": "3"}},
    "node_modules/web": {"resolved": "packages/web", "link": true},
    "node_modules/a": {"version": "1.0.1", "resolved": "https://r/a", "integrity": "sha512-x"},
    "node_modules/al": {"name": "b", "version": "2.0.0"},
    "node_modules/a/node_modules/d": {"version": "0.1.\u0030", "dev": true},
    "packages/web/node_modules/c": {"version": "3.0.0", "engines": {"node": ">=8"}, "os": ["linux"]},
    "node_modules/e": {"version": 5},
    "node_modules/f": "x",
    "node_modules/@s/g": {"version": "1.2.3", "license": null}
  },
  "dependencies": {
    "a": {"version": "1.0.1", "requires": {"d": "0.1"}, "dependencies": {"d": {"version": "0.1.0"}}},
    "al": {"version": "npm:b@2.0.0"},
    "web": {"version": "file:packages/web", "dependencies": {"c": {"version": "3.0.0"}}},
    "h": {"version": "git+https://x/y.git"},
    "@s/g": {"version": "1.2.3"}
  }
}"#;

    proptest! {
        #[test]
        fn mutated_lockfiles_read_the_same_through_either_path(
            at in any::<prop::sample::Index>(),
            with in "[\\x00-\\x7f]{1,2}|é|\\\\u00",
            delete in 0usize..3,
            v1 in any::<bool>(),
        ) {
            let mut source = if v1 {
                SAMPLE.replace("\"packages\"", "\"packagez\"").replace("\"lockfileVersion\": 2", "\"lockfileVersion\": 1")
            } else {
                SAMPLE.to_string()
            };
            let mut at = at.index(source.len() + 1);
            while !source.is_char_boundary(at) {
                at -= 1;
            }
            for _ in 0..delete {
                if at < source.len() {
                    source.remove(at);
                }
            }
            if delete == 0 {
                source.insert_str(at, &with);
            }
            prop_assert_eq!(
                parse("package-lock.json", &source),
                general("package-lock.json", &source),
                "{:?}",
                source
            );
        }
    }
}
