//! Cargo.lock, with cargo: `cargo update -p NAME@FROM --precise TO` in a working copy holding
//! the workspace's manifests (the root, its members, its path dependencies) and empty stand-ins
//! for their targets, since cargo wants every target's file to exist but never reads them to
//! resolve. Only the index is fetched: nothing is downloaded or built. The result is checked with
//! `cargo update --workspace --locked`, which fails if cargo would still change the lock.
//!
//! A mirror replaces crates.io through `--config` (`source.crates-io.replace-with`), so real
//! lockfiles keep their crates.io `source` lines and no CARGO_HOME file is edited.

use super::required;
use crate::relock::sandbox::Context;
use crate::relock::{Done, FileSource, RelockError, Request};
use std::collections::{BTreeMap, VecDeque};
use toml::Table;

/// A workspace larger than this is not copied (and is certainly not a test fixture).
const MAX_MANIFESTS: usize = 2000;

pub(crate) fn relock(
    request: &Request,
    files: &dyn FileSource,
    ctx: &Context,
) -> Result<Done, RelockError> {
    let lock = required(files, &request.lockfile)?;
    let manifests = workspace_manifests(files, &request.beside("Cargo.toml"))?;
    for (path, (text, table)) in &manifests {
        ctx.write(path, text.as_bytes())?;
        let dir = path.rsplit_once('/').map_or("", |(d, _)| d);
        for target in target_files(table) {
            let rel = join(dir, &target).ok_or_else(|| {
                RelockError::Unsupported(format!("{path} names a target outside the repository"))
            })?;
            if !ctx.repo.join(&rel).exists() {
                ctx.write(&rel, b"")?;
            }
        }
    }
    ctx.write(&request.lockfile, lock.as_bytes())?;

    let cargo_home = ctx.home.join(".cargo");
    let cargo_home = cargo_home.to_string_lossy().into_owned();
    let env = [
        ("CARGO_HOME", cargo_home.as_str()),
        ("CARGO_TERM_COLOR", "never"),
        ("CARGO_NET_RETRY", "2"),
    ];
    let mut config: Vec<String> = Vec::new();
    if let Some(index) = &ctx.registries.crates {
        let index = if index.starts_with("sparse+") || index.starts_with("registry+") {
            index.clone()
        } else {
            format!("sparse+{index}")
        };
        config.push("source.crates-io.replace-with=\"patchwright-mirror\"".to_string());
        config.push(format!("source.patchwright-mirror.registry=\"{index}\""));
    }
    let spec = format!("{}@{}", request.package, request.from);
    let mut args: Vec<&str> = vec!["update", "-p", &spec, "--precise", &request.to];
    for c in &config {
        args.extend(["--config", c.as_str()]);
    }
    let dir = request.dir();
    ctx.run(dir, &args, &env)?;
    let command = format!("cargo update -p {spec} --precise {}", request.to);

    let mut check: Vec<&str> = vec!["update", "--workspace", "--locked"];
    for c in &config {
        check.extend(["--config", c.as_str()]);
    }
    ctx.verify(dir, &check, &env, "Cargo.lock")?;
    let new_lock = ctx.read(&request.lockfile)?;
    Ok(Done {
        command,
        files: vec![(request.lockfile.clone(), lock, new_lock)],
    })
}

/// Every manifest cargo reads to load the workspace rooted at `root`: the root, its members
/// (`crates/*` globs expanded), and path dependencies, transitively.
fn workspace_manifests(
    files: &dyn FileSource,
    root: &str,
) -> Result<BTreeMap<String, (String, Table)>, RelockError> {
    let mut found: BTreeMap<String, (String, Table)> = BTreeMap::new();
    let mut queue: VecDeque<(String, bool)> = VecDeque::from([(root.to_string(), true)]);
    while let Some((path, must_exist)) = queue.pop_front() {
        if found.contains_key(&path) {
            continue;
        }
        if found.len() >= MAX_MANIFESTS {
            return Err(RelockError::Unsupported(format!(
                "the workspace has more than {MAX_MANIFESTS} manifests"
            )));
        }
        let text = if must_exist {
            required(files, &path)?
        } else {
            match files.read(&path).map(String::from_utf8) {
                Some(Ok(text)) => text,
                _ => continue,
            }
        };
        let table: Table = text
            .parse()
            .map_err(|e| RelockError::Unsupported(format!("{path} is not valid TOML: {e}")))?;
        let dir = path.rsplit_once('/').map_or("", |(d, _)| d).to_string();
        let outside = |what: &str| {
            RelockError::Unsupported(format!("{path}: {what} is outside the repository"))
        };
        if let Some(members) = table
            .get("workspace")
            .and_then(|w| w.get("members"))
            .and_then(|m| m.as_array())
        {
            for member in members.iter().filter_map(|m| m.as_str()) {
                for folder in expand(files, &dir, member).ok_or_else(|| outside(member))? {
                    queue.push_back((manifest_in(&folder), true));
                }
            }
        }
        for dep_path in path_dependencies(&table) {
            let folder = join(&dir, &dep_path).ok_or_else(|| outside(&dep_path))?;
            queue.push_back((manifest_in(&folder), true));
        }
        found.insert(path, (text, table));
    }
    Ok(found)
}

fn manifest_in(folder: &str) -> String {
    if folder.is_empty() {
        "Cargo.toml".to_string()
    } else {
        format!("{folder}/Cargo.toml")
    }
}

/// A member pattern's folders: literal, or with `*` as the last segment (the usual `crates/*`).
/// Folders without a Cargo.toml are skipped, as cargo does for globs.
fn expand(files: &dyn FileSource, dir: &str, member: &str) -> Option<Vec<String>> {
    let member = member.trim_end_matches('/');
    match member.rsplit_once('/') {
        Some((parent, "*")) => {
            let parent = join(dir, parent)?;
            Some(
                files
                    .subdirs(&parent)
                    .into_iter()
                    .map(|name| join(&parent, &name).unwrap_or(name))
                    .filter(|folder| files.read(&manifest_in(folder)).is_some())
                    .collect(),
            )
        }
        _ if member == "*" => Some(
            files
                .subdirs(dir)
                .into_iter()
                .filter_map(|name| join(dir, &name))
                .filter(|folder| files.read(&manifest_in(folder)).is_some())
                .collect(),
        ),
        _ => Some(vec![join(dir, member)?]),
    }
}

/// `path = "…"` of every dependency table, including `[target.*]` and `[workspace]`'s.
fn path_dependencies(table: &Table) -> Vec<String> {
    let mut lists: Vec<&Table> = Vec::new();
    let kinds = ["dependencies", "dev-dependencies", "build-dependencies"];
    for kind in kinds {
        lists.extend(table.get(kind).and_then(|v| v.as_table()));
    }
    if let Some(targets) = table.get("target").and_then(|v| v.as_table()) {
        for target in targets.values().filter_map(|v| v.as_table()) {
            for kind in kinds {
                lists.extend(target.get(kind).and_then(|v| v.as_table()));
            }
        }
    }
    if let Some(ws) = table.get("workspace").and_then(|v| v.as_table()) {
        lists.extend(ws.get("dependencies").and_then(|v| v.as_table()));
    }
    lists
        .into_iter()
        .flat_map(|deps| deps.values())
        .filter_map(|dep| dep.get("path")?.as_str().map(str::to_string))
        .collect()
}

/// The files a package's targets live in, relative to its folder: cargo checks they exist.
fn target_files(table: &Table) -> Vec<String> {
    let Some(package) = table.get("package").and_then(|p| p.as_table()) else {
        return Vec::new();
    };
    let mut out = vec!["src/lib.rs".to_string()];
    match package.get("build") {
        Some(toml::Value::String(s)) => out.push(s.clone()),
        Some(toml::Value::Boolean(true)) => out.push("build.rs".to_string()),
        _ => {}
    }
    if let Some(lib) = table
        .get("lib")
        .and_then(|l| l.get("path"))
        .and_then(|p| p.as_str())
    {
        out.push(lib.to_string());
    }
    for (kind, folder) in [
        ("bin", "src/bin"),
        ("example", "examples"),
        ("test", "tests"),
        ("bench", "benches"),
    ] {
        for target in table
            .get(kind)
            .and_then(|t| t.as_array())
            .into_iter()
            .flatten()
        {
            match (
                target.get("path").and_then(|p| p.as_str()),
                target.get("name").and_then(|n| n.as_str()),
            ) {
                (Some(path), _) => out.push(path.to_string()),
                (None, Some(name)) if kind == "bin" => {
                    out.push(format!("{folder}/{name}.rs"));
                    out.push("src/main.rs".to_string());
                }
                (None, Some(name)) => out.push(format!("{folder}/{name}.rs")),
                (None, None) => {}
            }
        }
    }
    out
}

/// `dir/rel` with `.` and `..` resolved; `None` when it climbs out of the repository or is
/// absolute.
fn join(dir: &str, rel: &str) -> Option<String> {
    if rel.starts_with('/') || rel.contains('\\') {
        return None;
    }
    let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
    for piece in rel.split('/') {
        match piece {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    Some(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_stay_inside_the_repository() {
        assert_eq!(join("a/b", "../c").as_deref(), Some("a/c"));
        assert_eq!(join("", "crates/x").as_deref(), Some("crates/x"));
        assert_eq!(join("a", "../../x"), None);
        assert_eq!(join("a", "/etc"), None);
    }

    #[test]
    fn targets_get_stand_ins() {
        let table: Table = r#"
            [package]
            name = "p"
            build = "gen.rs"
            [lib]
            path = "lib/p.rs"
            [[bin]]
            name = "tool"
            [[example]]
            name = "demo"
            path = "ex/demo.rs"
        "#
        .parse()
        .unwrap();
        let files = target_files(&table);
        for want in [
            "src/lib.rs",
            "gen.rs",
            "lib/p.rs",
            "src/bin/tool.rs",
            "ex/demo.rs",
        ] {
            assert!(files.iter().any(|f| f == want), "{want} in {files:?}");
        }
    }
}
