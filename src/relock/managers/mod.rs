//! One module per package manager: which files its working copy needs, which command moves one
//! entry, and how its own tooling checks the result.

pub(crate) mod berry;
pub(crate) mod bundler;
pub(crate) mod cargo;
pub(crate) mod composer;
pub(crate) mod go;
pub(crate) mod npm;
pub(crate) mod pip;
pub(crate) mod pipenv;
pub(crate) mod pnpm;
pub(crate) mod poetry;
pub(crate) mod uv;
pub(crate) mod yarn;

use super::{FileSource, RelockError, Request};
use serde_json::Value;

/// A repository file the working copy cannot do without, as text.
pub(crate) fn required(files: &dyn FileSource, path: &str) -> Result<String, RelockError> {
    let bytes = files
        .read(path)
        .ok_or_else(|| RelockError::MissingFile(path.to_string()))?;
    String::from_utf8(bytes).map_err(|_| RelockError::Io(format!("{path} is not UTF-8")))
}

/// The `package.json` beside the lockfile: its path, its text and its JSON.
pub(crate) fn package_json(
    files: &dyn FileSource,
    request: &Request,
) -> Result<(String, String, Value), RelockError> {
    let path = request.beside("package.json");
    let text = required(files, &path)?;
    let json: Value = serde_json::from_str(&text)
        .map_err(|e| RelockError::Unsupported(format!("{path} is not valid JSON: {e}")))?;
    Ok((path, text, json))
}

/// A workspace root's members' package.json files (repository path, text), which npm and yarn
/// read to resolve the workspace: the folders the root's `workspaces` patterns name (a literal
/// folder or a glob per segment, `packages/*`), and, for npm, the folders package-lock.json
/// records (`packages` keys outside node_modules). Empty when the root declares no workspaces.
pub(crate) fn workspace_manifests(
    files: &dyn FileSource,
    request: &Request,
    root: &Value,
    lock: Option<&Value>,
) -> Result<Vec<(String, String)>, RelockError> {
    let patterns: Vec<&str> = match root.get("workspaces") {
        None => return Ok(Vec::new()),
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).collect(),
        Some(Value::Object(o)) => o
            .get("packages")
            .and_then(Value::as_array)
            .map(|l| l.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default(),
        Some(_) => {
            return Err(RelockError::Unsupported(format!(
                "`workspaces` in {} is neither a list nor {{\"packages\": [...]}}",
                request.beside("package.json")
            )));
        }
    };
    let base = request.dir();
    let mut folders = std::collections::BTreeSet::new();
    for pattern in patterns {
        if pattern.starts_with('!') {
            continue;
        }
        for folder in expand_workspace(files, base, pattern)? {
            folders.insert(folder);
        }
    }
    let recorded = lock
        .and_then(|l| l.get("packages"))
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|p| p.keys())
        .filter(|k| {
            !k.is_empty() && !k.starts_with("node_modules/") && !k.contains("/node_modules/")
        });
    for folder in recorded {
        if folder
            .split('/')
            .any(|s| s == ".." || s == "." || s.is_empty())
        {
            return Err(RelockError::Unsupported(format!(
                "{} names a workspace `{folder}` outside the repository",
                request.lockfile
            )));
        }
        folders.insert(join(base, folder));
    }
    let mut out = Vec::new();
    for folder in folders {
        let path = join(&folder, "package.json");
        out.push((path.clone(), required(files, &path)?));
    }
    Ok(out)
}

fn join(dir: &str, rel: &str) -> String {
    match (dir, rel) {
        ("", rel) => rel.to_string(),
        (dir, "") => dir.to_string(),
        (dir, rel) => format!("{dir}/{rel}"),
    }
}

/// The folders one workspace pattern names, relative to the repository: each segment is a
/// literal folder or a glob matched against the folders there; only folders holding a
/// package.json count for a glob (as npm and yarn skip the others).
fn expand_workspace(
    files: &dyn FileSource,
    base: &str,
    pattern: &str,
) -> Result<Vec<String>, RelockError> {
    let refuse = |why: &str| {
        RelockError::Unsupported(format!(
            "the workspace pattern `{pattern}` {why}: re-lock in the checkout"
        ))
    };
    let pattern = pattern.trim_start_matches("./").trim_end_matches('/');
    let mut current = vec![base.to_string()];
    let mut globbed = false;
    for segment in pattern.split('/') {
        match segment {
            "" | "." => continue,
            ".." => return Err(refuse("leaves the repository")),
            "**" => return Err(refuse("uses `**`, which is not expanded")),
            _ if segment.contains(['*', '?', '[', '{']) => {
                globbed = true;
                let glob = globset::Glob::new(segment)
                    .map_err(|e| refuse(&format!("is not a glob ({e})")))?
                    .compile_matcher();
                current = current
                    .iter()
                    .flat_map(|dir| {
                        files
                            .subdirs(dir)
                            .into_iter()
                            .filter(|name| glob.is_match(name))
                            .map(|name| join(dir, &name))
                            .collect::<Vec<_>>()
                    })
                    .collect();
            }
            _ => current = current.iter().map(|dir| join(dir, segment)).collect(),
        }
    }
    if globbed {
        current.retain(|dir| files.read(&join(dir, "package.json")).is_some());
    }
    Ok(current)
}
