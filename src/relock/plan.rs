//! The pure half of re-locking: which package manager changes which lockfile entry, and whether
//! it can without touching anything else.

use super::npm_range;
use crate::model::{DependencyKind, EditMode, Finding};
use crate::snapshot::RepoSnapshot;
use serde_json::Value;

/// The package managers patchwright drives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Manager {
    Npm,
    Yarn,
    Cargo,
    Poetry,
    Go,
    /// Hashed requirements files: no program runs, the hashes come from the package index.
    Pip,
    Pnpm,
    Uv,
    Composer,
    Bundler,
    Pipenv,
}

impl Manager {
    /// The managers that run as programs found on PATH (all but [`Manager::Pip`]).
    pub const ALL: [Manager; 10] = [
        Manager::Npm,
        Manager::Yarn,
        Manager::Cargo,
        Manager::Poetry,
        Manager::Go,
        Manager::Pnpm,
        Manager::Uv,
        Manager::Composer,
        Manager::Bundler,
        Manager::Pipenv,
    ];

    /// The binary looked up on PATH.
    pub fn tool(self) -> &'static str {
        match self {
            Manager::Npm => "npm",
            Manager::Yarn => "yarn",
            Manager::Cargo => "cargo",
            Manager::Poetry => "poetry",
            Manager::Go => "go",
            Manager::Pip => "pip",
            Manager::Pnpm => "pnpm",
            Manager::Uv => "uv",
            Manager::Composer => "composer",
            Manager::Bundler => "bundle",
            Manager::Pipenv => "pipenv",
        }
    }

    /// The lockfiles it writes, for messages.
    pub fn label(self) -> &'static str {
        match self {
            Manager::Npm => "package-lock.json",
            Manager::Yarn => "yarn.lock",
            Manager::Cargo => "Cargo.lock",
            Manager::Poetry => "poetry.lock",
            Manager::Go => "go.sum",
            Manager::Pip => "requirements.txt",
            Manager::Pnpm => "pnpm-lock.yaml",
            Manager::Uv => "uv.lock",
            Manager::Composer => "composer.lock",
            Manager::Bundler => "Gemfile.lock",
            Manager::Pipenv => "Pipfile.lock",
        }
    }

    /// The manager that owns the lockfile at `path`, judged by its file name.
    pub fn for_lockfile(path: &str) -> Option<Manager> {
        match path.rsplit('/').next().unwrap_or(path) {
            "package-lock.json" | "npm-shrinkwrap.json" => Some(Manager::Npm),
            "yarn.lock" => Some(Manager::Yarn),
            "Cargo.lock" => Some(Manager::Cargo),
            "poetry.lock" => Some(Manager::Poetry),
            "go.mod" => Some(Manager::Go),
            "pnpm-lock.yaml" => Some(Manager::Pnpm),
            "uv.lock" => Some(Manager::Uv),
            "composer.lock" => Some(Manager::Composer),
            "Gemfile.lock" | "gems.locked" => Some(Manager::Bundler),
            "Pipfile.lock" => Some(Manager::Pipenv),
            _ => None,
        }
    }
}

/// One lockfile entry to move: `package` from `from` to exactly `to`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Request {
    pub manager: Manager,
    /// Repository-relative path of the lockfile.
    pub lockfile: String,
    pub package: String,
    pub from: String,
    pub to: String,
    /// Declared by the project itself (its manifest names it) rather than pulled in.
    pub direct: bool,
}

impl Request {
    /// The folder holding the lockfile, repository-relative (`""` for the root).
    pub fn dir(&self) -> &str {
        self.lockfile.rsplit_once('/').map_or("", |(dir, _)| dir)
    }

    /// `dir/name`, or `name` at the root.
    pub fn beside(&self, name: &str) -> String {
        match self.dir() {
            "" => name.to_string(),
            dir => format!("{dir}/{name}"),
        }
    }
}

/// The re-lock a finding's fix needs: `None` when its fix is an in-place edit, there is no fix,
/// or no supported package manager owns the file; `Err` with the reason when the package
/// manager cannot reach the target without a wider change.
pub fn request(finding: &Finding, snapshot: &RepoSnapshot) -> Option<Result<Request, String>> {
    let fix = finding.fix.as_ref()?;
    let dependency = finding.dependency.as_deref()?;
    let lockfile = &dependency.location.file;
    let manager = Manager::for_lockfile(lockfile).or_else(|| {
        // Only a requirement with `--hash` options needs more than an in-place edit.
        (crate::manifest::detect(lockfile) == Some(crate::manifest::ManifestKind::Requirements))
            .then_some(Manager::Pip)
    })?;
    if manager == Manager::Go {
        // go.mod is edited in place, but go.sum must follow it; the toolchain (`stdlib`) is no
        // module to get.
        if fix.edits.is_empty() || dependency.name == "stdlib" || !dependency.name.contains('.') {
            return None;
        }
    } else if fix.relock.is_none() || !matches!(dependency.edit_mode, EditMode::NeedsRelock { .. })
    {
        return None;
    }
    let request = Request {
        manager,
        lockfile: lockfile.clone(),
        package: dependency.name.clone(),
        from: fix.from.clone(),
        to: fix.to.clone(),
        direct: matches!(dependency.kind, DependencyKind::Direct),
    };
    if !request.direct && matches!(manager, Manager::Npm | Manager::Yarn) {
        let source = snapshot.files.get(lockfile)?;
        if let Err(reason) = parents_allow(
            manager,
            source,
            &request.package,
            &request.from,
            &request.to,
        ) {
            return Some(Err(reason));
        }
    }
    Some(Ok(request))
}

/// [`npm_parents_allow`] for the lockfile `manager` writes: yarn v1 entries answer the patterns
/// in their header, so a pattern whose range refuses the target is refused here in an instant
/// rather than by yarn after a full install (a resolution would force it outside the range
/// and leave a lock claiming `leaf@1.0.0` resolves to another version).
fn parents_allow(
    manager: Manager,
    lock: &str,
    name: &str,
    from: &str,
    to: &str,
) -> Result<(), String> {
    match manager {
        Manager::Yarn if !super::yarn_blocks::is_berry(lock) => {
            let refusing = super::yarn_blocks::refusing_parents(lock, name, from, to);
            if refusing.is_empty() {
                Ok(())
            } else {
                Err(refusal(&refusing, name, to))
            }
        }
        Manager::Npm => npm_parents_allow(lock, name, from, to),
        _ => Ok(()),
    }
}

/// The parents that refuse `to` for the entry of `name` at `from`, in the lockfile `manager`
/// writes (package-lock.json or yarn.lock v1), for the relax strategy.
pub fn refusing_parents(
    manager: Manager,
    lock: &str,
    name: &str,
    from: &str,
    to: &str,
) -> Result<Vec<Parent>, String> {
    match manager {
        Manager::Npm => npm_refusing_parents(lock, name, from, to),
        Manager::Yarn if !super::yarn_blocks::is_berry(lock) => {
            Ok(super::yarn_blocks::refusing_parents(lock, name, from, to))
        }
        _ => Ok(Vec::new()),
    }
}

/// A package that depends on the entry being moved, and the range it asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parent {
    pub name: String,
    pub version: String,
    pub range: String,
}

/// Checks that every package whose dependency on `name` resolves to an installed `name@from`
/// allows `to`. Otherwise the package manager cannot move the entry without moving a parent
/// too, which is a different, wider fix: the reason names the parents to upgrade.
pub fn npm_parents_allow(lock: &str, name: &str, from: &str, to: &str) -> Result<(), String> {
    let refusing = npm_refusing_parents(lock, name, from, to)
        .map_err(|e| format!("package-lock.json cannot be read: {e}"))?;
    if refusing.is_empty() {
        return Ok(());
    }
    Err(refusal(&refusing, name, to))
}

/// The parents of an installed `name@from` whose range for it does not allow `to`.
pub fn npm_refusing_parents(
    lock: &str,
    name: &str,
    from: &str,
    to: &str,
) -> Result<Vec<Parent>, String> {
    Ok(npm_parents(lock, name, from)?
        .into_iter()
        .filter(|p| !npm_range::satisfies(&p.range, to).unwrap_or(false))
        .collect())
}

/// The relax strategy's answer for one parent, from `npm view PARENT@">VERSION" version
/// dependencies.NAME optionalDependencies.NAME peerDependencies.NAME --json` (one object, a
/// list of them, or nothing): the lowest stable release whose range for `name` allows `to`
/// (or that no longer depends on it), with that range.
pub fn relax_choice(view: &str, name: &str, to: &str) -> Option<(String, Option<String>)> {
    let rows: Vec<Value> = match serde_json::from_str::<Value>(view.trim()).ok()? {
        Value::Array(rows) => rows,
        row @ Value::Object(_) => vec![row],
        _ => return None,
    };
    let mut fitting: Vec<(semver::Version, String, Option<String>)> = rows
        .iter()
        .filter_map(|row| {
            let text = row.get("version")?.as_str()?;
            let version = semver::Version::parse(text).ok()?;
            if !version.pre.is_empty() {
                return None;
            }
            let ranges: Vec<&str> = ["dependencies", "optionalDependencies", "peerDependencies"]
                .iter()
                .filter_map(|k| row.get(format!("{k}.{name}"))?.as_str())
                .collect();
            let allows = ranges
                .iter()
                .all(|r| npm_range::satisfies(r, to).unwrap_or(false));
            allows.then(|| {
                (
                    version,
                    text.to_string(),
                    ranges.first().map(|r| r.to_string()),
                )
            })
        })
        .collect();
    fitting.sort();
    fitting.into_iter().next().map(|(_, v, r)| (v, r))
}

fn refusal(refusing: &[Parent], name: &str, to: &str) -> String {
    let listed: Vec<String> = refusing
        .iter()
        .map(|p| format!("{}@{} requires {name} `{}`", p.name, p.version, p.range))
        .collect();
    let mut names: Vec<&str> = refusing.iter().map(|p| p.name.as_str()).collect();
    names.sort();
    names.dedup();
    format!(
        "{name} {to} is outside what its parents allow ({}): no re-lock within their ranges reaches it; upgrade {} to a release that allows {name} {to}",
        listed.join(", "),
        names.join(", ")
    )
}

/// The packages that depend on an installed `name@version`, with the range each asks for.
pub fn npm_parents(lock: &str, name: &str, version: &str) -> Result<Vec<Parent>, String> {
    let root: Value = serde_json::from_str(lock).map_err(|e| e.to_string())?;
    let entries = install_paths(&root);
    let mut parents = Vec::new();
    for (path, entry) in &entries {
        for field in ["dependencies", "optionalDependencies", "peerDependencies"] {
            let Some(range) = entry.requires.get(field).and_then(|m| m.get(name)) else {
                continue;
            };
            let Some(target) = resolve(&entries, path, name) else {
                continue;
            };
            if target.version.as_deref() != Some(version) {
                continue;
            }
            parents.push(Parent {
                name: entry.name.clone(),
                version: entry.version.clone().unwrap_or_default(),
                range: range.clone(),
            });
        }
    }
    Ok(parents)
}

#[derive(Debug, Default)]
struct Entry {
    name: String,
    version: Option<String>,
    /// field → dependency name → range.
    requires: std::collections::BTreeMap<&'static str, std::collections::BTreeMap<String, String>>,
}

/// Every entry by install path (`""`, `node_modules/a`, `node_modules/a/node_modules/b`), from
/// v2/v3 `packages` or the v1 `dependencies` tree.
fn install_paths(root: &Value) -> std::collections::BTreeMap<String, Entry> {
    let mut out = std::collections::BTreeMap::new();
    let string_map = |v: Option<&Value>| -> std::collections::BTreeMap<String, String> {
        v.and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                    .collect()
            })
            .unwrap_or_default()
    };
    if let Some(packages) = root.get("packages").and_then(Value::as_object) {
        for (key, entry) in packages {
            let mut e = Entry {
                name: entry
                    .get("name")
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .unwrap_or_else(|| {
                        key.rsplit("node_modules/")
                            .next()
                            .unwrap_or(key)
                            .to_string()
                    }),
                version: entry
                    .get("version")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                ..Default::default()
            };
            for field in ["dependencies", "optionalDependencies", "peerDependencies"] {
                e.requires.insert(field, string_map(entry.get(field)));
            }
            out.insert(key.clone(), e);
        }
        return out;
    }
    // v1: nested `dependencies`, each entry's `requires` naming ranges.
    let mut stack: Vec<(String, &Value)> = Vec::new();
    if let Some(tree) = root.get("dependencies") {
        stack.push((String::new(), tree));
    }
    out.insert(String::new(), Entry::default());
    while let Some((prefix, tree)) = stack.pop() {
        let Some(map) = tree.as_object() else {
            continue;
        };
        for (name, entry) in map {
            let path = format!("{prefix}node_modules/{name}");
            let mut e = Entry {
                name: name.clone(),
                version: entry
                    .get("version")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                ..Default::default()
            };
            e.requires
                .insert("dependencies", string_map(entry.get("requires")));
            if let Some(nested) = entry.get("dependencies") {
                stack.push((format!("{path}/"), nested));
            }
            out.insert(path, e);
        }
    }
    out
}

/// Node's lookup: `name` under the requiring package's own `node_modules`, then under each
/// enclosing one, up to the root's.
fn resolve<'e>(
    entries: &'e std::collections::BTreeMap<String, Entry>,
    from: &str,
    name: &str,
) -> Option<&'e Entry> {
    let mut base = from.to_string();
    loop {
        let candidate = if base.is_empty() {
            format!("node_modules/{name}")
        } else {
            format!("{base}/node_modules/{name}")
        };
        if let Some(found) = entries.get(&candidate) {
            return Some(found);
        }
        if base.is_empty() {
            return None;
        }
        // Up one level: drop the last `node_modules/<pkg>` (scoped names have a slash).
        base = match base.rfind("node_modules/") {
            Some(0) => String::new(),
            Some(cut) => base[..cut].trim_end_matches('/').to_string(),
            // A workspace folder (`packages/web`): its lookups continue at the root.
            None => String::new(),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const V3: &str = r#"{
      "lockfileVersion": 3,
      "packages": {
        "": {"name": "app", "dependencies": {"mid": "^1.0.0", "other": "^1.0.0"}},
        "node_modules/leaf": {"version": "1.0.0"},
        "node_modules/mid": {"version": "1.0.0", "dependencies": {"leaf": "^1.0.0"}},
        "node_modules/other": {"version": "1.0.0", "dependencies": {"leaf": "~1.0.0"}},
        "node_modules/old": {"version": "2.0.0", "dependencies": {"leaf": "^0.9.0"}},
        "node_modules/old/node_modules/leaf": {"version": "0.9.0"}
      }
    }"#;

    #[test]
    fn parents_are_found_through_node_lookup() {
        let mut parents = npm_parents(V3, "leaf", "1.0.0").unwrap();
        parents.sort_by(|a, b| a.name.cmp(&b.name));
        let named: Vec<(&str, &str)> = parents
            .iter()
            .map(|p| (p.name.as_str(), p.range.as_str()))
            .collect();
        // `old` requires leaf too, but gets its own nested 0.9.0.
        assert_eq!(named, [("mid", "^1.0.0"), ("other", "~1.0.0")]);
        let nested = npm_parents(V3, "leaf", "0.9.0").unwrap();
        assert_eq!(nested.len(), 1);
        assert_eq!(nested[0].name, "old");
    }

    #[test]
    fn a_target_outside_a_parent_range_names_the_parent() {
        assert_eq!(npm_parents_allow(V3, "leaf", "1.0.0", "1.0.5"), Ok(()));
        let err = npm_parents_allow(V3, "leaf", "1.0.0", "1.1.0").unwrap_err();
        assert!(err.contains("other@1.0.0 requires leaf `~1.0.0`"), "{err}");
        assert!(err.contains("upgrade other to a release"), "{err}");
        assert!(!err.contains("mid@"), "{err}");
    }

    #[test]
    fn relax_picks_the_lowest_parent_release_that_allows_the_target() {
        let view = r#"[
          {"version": "1.3.0", "dependencies.leaf": "^1.1.0"},
          {"version": "1.0.1", "dependencies.leaf": "~1.0.0"},
          {"version": "1.2.0-beta.1", "dependencies.leaf": "^1.1.0"},
          {"version": "1.2.0", "dependencies.leaf": "^1.1.0", "peerDependencies.leaf": ">=1"}
        ]"#;
        assert_eq!(
            relax_choice(view, "leaf", "1.1.0"),
            Some(("1.2.0".to_string(), Some("^1.1.0".to_string())))
        );
        assert_eq!(relax_choice(view, "leaf", "2.0.0"), None);
        // One matching release is printed as an object; one that dropped the dependency fits.
        assert_eq!(
            relax_choice(r#"{"version": "2.0.0"}"#, "leaf", "9.0.0"),
            Some(("2.0.0".to_string(), None))
        );
        assert_eq!(relax_choice("", "leaf", "1.0.0"), None);
    }

    #[test]
    fn v1_trees_resolve_the_same_way() {
        let v1 = r#"{"lockfileVersion": 1, "dependencies": {
            "leaf": {"version": "1.0.0"},
            "other": {"version": "1.0.0", "requires": {"leaf": "~1.0.0"}}
        }}"#;
        let err = npm_parents_allow(v1, "leaf", "1.0.0", "2.0.0").unwrap_err();
        assert!(err.contains("other@1.0.0 requires leaf `~1.0.0`"), "{err}");
        assert_eq!(npm_parents_allow(v1, "leaf", "1.0.0", "1.0.9"), Ok(()));
    }

    #[test]
    fn every_manager_is_listed_once() {
        let mut tools: Vec<&str> = Manager::ALL.iter().map(|m| m.tool()).collect();
        tools.sort();
        tools.dedup();
        assert_eq!(
            tools,
            [
                "bundle", "cargo", "composer", "go", "npm", "pipenv", "pnpm", "poetry", "uv",
                "yarn"
            ]
        );
    }

    #[test]
    fn managers_are_chosen_by_file_name() {
        assert_eq!(
            Manager::for_lockfile("web/package-lock.json"),
            Some(Manager::Npm)
        );
        assert_eq!(
            Manager::for_lockfile("npm-shrinkwrap.json"),
            Some(Manager::Npm)
        );
        assert_eq!(Manager::for_lockfile("yarn.lock"), Some(Manager::Yarn));
        assert_eq!(
            Manager::for_lockfile("web/pnpm-lock.yaml"),
            Some(Manager::Pnpm)
        );
        assert_eq!(Manager::for_lockfile("uv.lock"), Some(Manager::Uv));
        assert_eq!(
            Manager::for_lockfile("composer.lock"),
            Some(Manager::Composer)
        );
        assert_eq!(
            Manager::for_lockfile("Gemfile.lock"),
            Some(Manager::Bundler)
        );
        assert_eq!(Manager::for_lockfile("gems.locked"), Some(Manager::Bundler));
        assert_eq!(
            Manager::for_lockfile("api/Pipfile.lock"),
            Some(Manager::Pipenv)
        );
        assert_eq!(
            Manager::for_lockfile("a/b/Cargo.lock"),
            Some(Manager::Cargo)
        );
        assert_eq!(Manager::for_lockfile("poetry.lock"), Some(Manager::Poetry));
        assert_eq!(Manager::for_lockfile("svc/go.mod"), Some(Manager::Go));
        assert_eq!(Manager::for_lockfile("requirements.txt"), None);
    }
}
