//! package-lock.json and npm-shrinkwrap.json (lockfile versions 1 to 3), with npm itself.
//!
//! - A direct dependency: `npm install NAME@V --package-lock-only --ignore-scripts`. npm also
//!   raises the range in package.json to `^V` (in the same dependency list, same indentation),
//!   which keeps the manifest and the lock in agreement; that package.json change is part of
//!   the fix.
//! - A transitive dependency: npm cannot update one entry to an exact version (`npm update`
//!   takes the newest in range; `npm install NAME@V --no-save` changes nothing). So the working
//!   copy's package.json gets an `overrides` entry scoped to the installed version
//!   (`"NAME@FROM": "V"`), npm re-locks, and the original package.json is put back. The planner
//!   has checked that every parent's range allows V, so the lock agrees with the unchanged
//!   package.json: `npm ls --package-lock-only --all` is run on it to prove so. In a v1 lock npm
//!   also writes the override's version into the parents' `requires` ranges: those lines are
//!   put back as they were. In a workspace root (package.json `workspaces`) every member's
//!   package.json goes into the working copy, the transitive move runs as `npm update NAME`
//!   with the same override (npm does not re-resolve members' dependencies on `install`), and
//!   a member's direct dependency is raised with `--workspace=FOLDER`.

use super::{package_json, required, workspace_manifests};
use crate::relock::sandbox::{Context, tail_of_both};
use crate::relock::{Done, FileSource, RelockError, Request};
use serde_json::Value;

const QUIET: [&str; 4] = [
    "--ignore-scripts",
    "--no-audit",
    "--no-fund",
    "--loglevel=error",
];

pub(crate) fn relock(
    request: &Request,
    files: &dyn FileSource,
    ctx: &Context,
) -> Result<Done, RelockError> {
    let lock_name = request
        .lockfile
        .rsplit('/')
        .next()
        .unwrap_or(&request.lockfile);
    let lock = required(files, &request.lockfile)?;
    let (manifest_path, manifest, manifest_json) = package_json(files, request)?;
    let lock_json: Option<Value> = serde_json::from_str(&lock).ok();
    let members = workspace_manifests(files, request, &manifest_json, lock_json.as_ref())?;
    ctx.write(&request.lockfile, lock.as_bytes())?;
    ctx.write(&manifest_path, manifest.as_bytes())?;
    for (path, text) in &members {
        ctx.write(path, text.as_bytes())?;
    }
    write_npmrc(ctx)?;

    let version_arg = lockfile_version(&lock).map(|v| format!("--lockfile-version={v}"));
    let env = [
        ("npm_config_ignore_scripts", "true"),
        ("npm_config_update_notifier", "false"),
    ];
    let dir = request.dir();
    let target = format!("{}@{}", request.package, request.to);
    let v1 = lockfile_version(&lock) == Some(1);
    // A direct dependency of a workspace member is raised in that member's package.json.
    let workspace = members
        .iter()
        .find(|(path, text)| declares(text, &request.package) && path != &manifest_path)
        .filter(|_| !declares(&manifest, &request.package))
        .map(|(path, _)| {
            let folder = path.trim_end_matches("package.json").trim_end_matches('/');
            let relative = folder
                .strip_prefix(dir)
                .unwrap_or(folder)
                .trim_start_matches('/');
            format!("--workspace={relative}")
        });
    let command = if request.direct {
        let mut args = vec!["install", target.as_str(), "--package-lock-only"];
        args.extend(workspace.as_deref());
        args.extend(QUIET);
        args.extend(version_arg.as_deref());
        ctx.run(dir, &args, &env)?;
        ctx.describe(&args)
    } else {
        let scoped = format!("{}@{}", request.package, request.from);
        let mut with_override = manifest_json.clone();
        let overrides = with_override
            .as_object_mut()
            .ok_or_else(|| RelockError::Unsupported(format!("{manifest_path} is not an object")))?
            .entry("overrides")
            .or_insert_with(|| Value::Object(Default::default()));
        let Some(overrides) = overrides.as_object_mut() else {
            return Err(RelockError::Unsupported(format!(
                "`overrides` in {manifest_path} is not an object"
            )));
        };
        overrides.insert(scoped.clone(), Value::String(request.to.clone()));
        let text = serde_json::to_string_pretty(&with_override)
            .map_err(|e| RelockError::Io(e.to_string()))?;
        ctx.write(&manifest_path, text.as_bytes())?;
        // In a workspace `npm install` keeps a locked entry even when an override no longer
        // allows it (members' dependencies are not re-resolved); `npm update NAME` re-resolves
        // that one package, and the override pins it to exactly V.
        let mut args = if members.is_empty() {
            vec!["install", "--package-lock-only"]
        } else {
            vec!["update", request.package.as_str(), "--package-lock-only"]
        };
        args.extend(QUIET);
        args.extend(version_arg.as_deref());
        let run = ctx.run(dir, &args, &env);
        // The override was only a way to name the exact version: the project's manifest stays.
        ctx.write(&manifest_path, manifest.as_bytes())?;
        run?;
        if v1 {
            // A v1 lock records each package's `requires` ranges, and npm writes the override's
            // version into them; the parents' own ranges go back (`npm ls` checks the result).
            let written = ctx.read(&request.lockfile)?;
            let repaired = restore_requires(&lock, &written, &request.package, &request.to);
            ctx.write(&request.lockfile, repaired.as_bytes())?;
        }
        format!(
            "{} (with a temporary override \"{scoped}\": \"{}\")",
            ctx.describe(&args),
            request.to
        )
    };

    let new_lock = ctx.read(&request.lockfile)?;
    let new_manifest = ctx.read(&manifest_path)?;
    verify(ctx, dir, &request.lockfile, &lock, lock_name)?;
    let mut changed = vec![
        (request.lockfile.clone(), lock, new_lock),
        (manifest_path, manifest, new_manifest),
    ];
    for (path, old) in members {
        let new = ctx.read(&path)?;
        changed.push((path, old, new));
    }
    Ok(Done {
        command,
        files: changed,
    })
}

/// Whether a package.json's text names `name` among its dependencies of any kind.
fn declares(manifest: &str, name: &str) -> bool {
    let Ok(json) = serde_json::from_str::<Value>(manifest) else {
        return false;
    };
    [
        "dependencies",
        "devDependencies",
        "optionalDependencies",
        "peerDependencies",
    ]
    .iter()
    .any(|k| json.get(k).and_then(|d| d.get(name)).is_some())
}

/// `npm ls --package-lock-only --all` must be clean, unless it was not clean before either (the
/// re-lock did not make it worse, and the note should not blame it).
fn verify(
    ctx: &Context,
    dir: &str,
    lockfile: &str,
    old_lock: &str,
    lock_name: &str,
) -> Result<(), RelockError> {
    let args = ["ls", "--package-lock-only", "--all"];
    let after = ctx.spawn(dir, &args, &[])?;
    if after.status.success() {
        return Ok(());
    }
    let new_lock = ctx.read(lockfile)?;
    ctx.write(lockfile, old_lock.as_bytes())?;
    let before = ctx.spawn(dir, &args, &[])?;
    ctx.write(lockfile, new_lock.as_bytes())?;
    if before.status.success() {
        Err(RelockError::Unverified {
            file: lock_name.to_string(),
            detail: format!(
                "`npm ls --package-lock-only --all`: {}",
                tail_of_both(&after)
            ),
        })
    } else {
        Ok(())
    }
}

/// `written` with every line that only replaced a `"name": "<range>"` of `old` by
/// `"name": "<to>"` (a v1 `requires` entry rewritten by the override) set back to `old`'s line.
fn restore_requires(old: &str, written: &str, name: &str, to: &str) -> String {
    use similar::{DiffTag, TextDiff};
    let key = format!("\"{name}\": \"");
    let overridden = format!("{key}{to}\"");
    let old_lines: Vec<&str> = old.split_inclusive('\n').collect();
    let new_lines: Vec<&str> = written.split_inclusive('\n').collect();
    let mut out = String::with_capacity(written.len());
    for op in TextDiff::from_lines(old, written).ops() {
        let (o, n) = (op.old_range(), op.new_range());
        if op.tag() == DiffTag::Replace && o.len() == n.len() {
            for (old_line, new_line) in old_lines[o].iter().zip(&new_lines[n]) {
                let (ot, nt) = (old_line.trim_start(), new_line.trim_start());
                let same_place = old_line.len() - ot.len() == new_line.len() - nt.len()
                    && ot.ends_with(',') == nt.ends_with(',');
                let is_override = nt.trim_end().trim_end_matches(',') == overridden;
                if same_place && is_override && ot.starts_with(&key) {
                    out.push_str(old_line);
                } else {
                    out.push_str(new_line);
                }
            }
        } else {
            for line in &new_lines[n] {
                out.push_str(line);
            }
        }
    }
    out
}

/// The lockfile's own version, so npm keeps writing it (npm would otherwise upgrade v1 and v2
/// files to v3, rewriting every line).
fn lockfile_version(lock: &str) -> Option<u64> {
    let json: Value = serde_json::from_str(lock).ok()?;
    json.get("lockfileVersion")?
        .as_u64()
        .filter(|v| (1..=3).contains(v))
}

/// The registry and its token go into the working copy's own user config (HOME is the working
/// copy's), never into the environment of anything else or a log.
pub(crate) fn write_npmrc(ctx: &Context) -> Result<(), RelockError> {
    let Some(registry) = &ctx.registries.npm else {
        return Ok(());
    };
    let registry = if registry.ends_with('/') {
        registry.clone()
    } else {
        format!("{registry}/")
    };
    let mut npmrc = format!("registry={registry}\n");
    if let Some(token) = &ctx.registries.npm_token {
        let host_path = registry
            .split_once("//")
            .map_or(registry.as_str(), |(_, rest)| rest);
        npmrc.push_str(&format!("//{host_path}:_authToken={token}\n"));
    }
    let path = ctx.home.join(".npmrc");
    std::fs::write(&path, npmrc)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::restore_requires;

    #[test]
    fn v1_requires_get_their_ranges_back() {
        let old = "  \"mid\": {\n    \"requires\": {\n      \"leaf\": \"^1.0.0\"\n    }\n  },\n  \"leaf\": {\n    \"version\": \"1.0.0\"\n  }\n";
        let written = old
            .replace("\"^1.0.0\"", "\"1.0.1\"")
            .replace("\"version\": \"1.0.0\"", "\"version\": \"1.0.1\"");
        let repaired = restore_requires(old, &written, "leaf", "1.0.1");
        assert_eq!(
            repaired,
            old.replace("\"version\": \"1.0.0\"", "\"version\": \"1.0.1\"")
        );
    }
}
