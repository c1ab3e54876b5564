//! pnpm-lock.yaml with pnpm itself, `--lockfile-only` (nothing is downloaded but metadata, no
//! script runs).
//!
//! - A direct dependency: `pnpm add NAME@V --lockfile-only --ignore-scripts` in the folder of the
//!   project that declares it (the root or a workspace member). pnpm also rewrites the range in
//!   package.json, in the same dependency list; the range keeps the manifest's style (`^`, `~`
//!   or an exact version), so the manifest and the lock stay in agreement.
//! - A transitive dependency: `pnpm update NAME@V` ignores the version for a package nobody
//!   declares (it takes the newest in range), so the working copy's package.json gets a
//!   `pnpm.overrides` entry scoped to the installed version (`"NAME@FROM": "V"`), pnpm re-locks,
//!   the original package.json is put back and pnpm re-locks again: the second run drops the
//!   override from the lockfile's `overrides:` and keeps the locked V, as V is inside every
//!   parent's range (pnpm prefers what is locked). The result is what pnpm writes for the
//!   unchanged package.json, which `pnpm install --frozen-lockfile --lockfile-only` checks.
//!
//! The working copy holds the lockfile, package.json, pnpm-workspace.yaml, every workspace
//! member's package.json (the lockfile's `importers`), the patch files `patchedDependencies`
//! names, and the project's `.npmrc` settings that
//! shape the lockfile (`auto-install-peers`, …) without its credentials or registry: the
//! registry and token come from the registries settings, in the working copy's own HOME.

use super::{package_json, required};
use crate::manifest::yaml::{self, Node};
use crate::relock::sandbox::Context;
use crate::relock::{Done, FileSource, RelockError, Request};
use serde_json::Value;

const DECLARING: [&str; 3] = ["dependencies", "devDependencies", "optionalDependencies"];

pub(crate) fn relock(
    request: &Request,
    files: &dyn FileSource,
    ctx: &Context,
) -> Result<Done, RelockError> {
    let lock = required(files, &request.lockfile)?;
    let (manifest_path, manifest, manifest_json) = package_json(files, request)?;
    let members = member_manifests(files, request, &lock)?;
    ctx.write(&request.lockfile, lock.as_bytes())?;
    ctx.write(&manifest_path, manifest.as_bytes())?;
    for (path, text) in &members {
        ctx.write(path, text.as_bytes())?;
    }
    let workspace_path = request.beside("pnpm-workspace.yaml");
    if let Some(bytes) = files.read(&workspace_path) {
        ctx.write(&workspace_path, &bytes)?;
    }
    for path in patch_files(&lock) {
        let path = request.beside(&path);
        ctx.write(&path, required(files, &path)?.as_bytes())?;
    }
    let npmrc_path = request.beside(".npmrc");
    if let Some(bytes) = files.read(&npmrc_path) {
        let text = String::from_utf8_lossy(&bytes);
        ctx.write(&npmrc_path, lockfile_settings(&text).as_bytes())?;
    }
    super::npm::write_npmrc(ctx)?;

    let home = ctx.home.to_string_lossy().into_owned();
    let store = format!("{home}/pnpm-store");
    let env = [
        ("npm_config_ignore_scripts", "true"),
        ("npm_config_update_notifier", "false"),
        ("npm_config_store_dir", store.as_str()),
        // A `packageManager` field must not make pnpm fetch another pnpm from the registry, nor
        // refuse to run: the version here is the one that re-locks.
        ("npm_config_manage_package_manager_versions", "false"),
        ("npm_config_package_manager_strict", "false"),
        ("npm_config_package_manager_strict_version", "false"),
    ];
    let dir = request.dir();
    let target = format!("{}@{}", request.package, request.to);
    let declaring = std::iter::once((manifest_path.clone(), manifest.clone()))
        .chain(members.iter().cloned())
        .find_map(|(path, text)| declared_range(&text, &request.package).map(|r| (path, r)));
    let command = match declaring.filter(|_| request.direct) {
        Some((path, range)) => {
            let folder = path.trim_end_matches("package.json").trim_end_matches('/');
            let style = save_style(&range);
            let args = [
                "add",
                target.as_str(),
                "--lockfile-only",
                "--ignore-scripts",
                style.as_str(),
            ];
            ctx.run(folder, &args, &env)?;
            ctx.describe(&args)
        }
        None => {
            let scoped = format!("{}@{}", request.package, request.from);
            let with_override =
                with_override(&manifest_json, &scoped, &request.to).ok_or_else(|| {
                    RelockError::Unsupported(format!(
                        "{manifest_path} is not an object with an object `pnpm.overrides`"
                    ))
                })?;
            ctx.write(&manifest_path, with_override.as_bytes())?;
            let args = ["install", "--lockfile-only", "--ignore-scripts"];
            let run = ctx.run(dir, &args, &env);
            // The override only named the exact version: the project's manifest stays as it
            // was, and the second run takes the override back out of the lockfile.
            ctx.write(&manifest_path, manifest.as_bytes())?;
            run?;
            ctx.run(dir, &args, &env)?;
            format!(
                "{} (with a temporary \"pnpm\": {{\"overrides\": {{\"{scoped}\": \"{}\"}}}}, run again without it)",
                ctx.describe(&args),
                request.to
            )
        }
    };
    let new_lock = ctx.read(&request.lockfile)?;
    let (before, after) = (lockfile_version(&lock), lockfile_version(&new_lock));
    if before != after {
        return Err(RelockError::Unsupported(format!(
            "the pnpm here writes lockfile version {} where {} has {}: re-lock with the pnpm the project uses (`{}`)",
            after.as_deref().unwrap_or("?"),
            request.lockfile,
            before.as_deref().unwrap_or("?"),
            command
        )));
    }
    ctx.verify(
        dir,
        &[
            "install",
            "--frozen-lockfile",
            "--lockfile-only",
            "--ignore-scripts",
        ],
        &env,
        "pnpm-lock.yaml",
    )?;
    let mut changed = vec![(request.lockfile.clone(), lock, new_lock)];
    for (path, old) in std::iter::once((manifest_path, manifest)).chain(members) {
        let new = ctx.read(&path)?;
        changed.push((path, old, new));
    }
    Ok(Done {
        command,
        files: changed,
    })
}

/// The package.json files of the workspace members the lockfile records (`importers` other than
/// `.`), repository path and text.
fn member_manifests(
    files: &dyn FileSource,
    request: &Request,
    lock: &str,
) -> Result<Vec<(String, String)>, RelockError> {
    let (docs, _) = yaml::parse(lock);
    let mut out = Vec::new();
    let importers = docs
        .first()
        .and_then(|root| root.get("importers"))
        .map_or(&[][..], Node::entries);
    for (key, _) in importers {
        let Some(folder) = key.as_str() else { continue };
        let folder = folder.trim_start_matches("./").trim_end_matches('/');
        if folder.is_empty() || folder == "." {
            continue;
        }
        if folder
            .split('/')
            .any(|s| s == ".." || s == "." || s.is_empty())
            || folder.starts_with('/')
        {
            return Err(RelockError::Unsupported(format!(
                "{} names a workspace project `{folder}` outside the repository",
                request.lockfile
            )));
        }
        let path = request.beside(&format!("{folder}/package.json"));
        out.push((path.clone(), required(files, &path)?));
    }
    Ok(out)
}

/// The patch files `patchedDependencies` names (`path:`), relative to the lockfile's folder:
/// pnpm reads them to check their hashes. Paths leaving the folder are left out (pnpm then
/// fails with its own message, which becomes the note).
fn patch_files(lock: &str) -> Vec<String> {
    let (docs, _) = yaml::parse(lock);
    let patched = docs
        .first()
        .and_then(|root| root.get("patchedDependencies"))
        .map_or(&[][..], Node::entries);
    patched
        .iter()
        .filter_map(|(_, entry)| entry.get("path")?.as_str())
        .filter(|p| {
            !p.starts_with('/') && !p.split('/').any(|s| s == ".." || s == "." || s.is_empty())
        })
        .map(str::to_string)
        .collect()
}

/// The range a package.json's text declares for `name`, in any list pnpm saves to.
fn declared_range(manifest: &str, name: &str) -> Option<String> {
    let json: Value = serde_json::from_str(manifest).ok()?;
    DECLARING
        .iter()
        .find_map(|k| json.get(k)?.get(name)?.as_str().map(str::to_string))
}

/// The flag that makes `pnpm add` write the range as the manifest spells it now: `^V`, `~V` or
/// `V`. Any other range (`>=1.2`, `1.x`) becomes pnpm's default `^V`.
fn save_style(range: &str) -> String {
    let range = range.trim();
    if range.starts_with('~') {
        "--save-prefix=~".into()
    } else if range.starts_with(|c: char| c.is_ascii_digit()) && !range.contains([' ', 'x', '*']) {
        "--save-exact".into()
    } else {
        "--save-prefix=^".into()
    }
}

/// package.json with `pnpm.overrides[scoped] = to` added (pretty JSON); `None` when the manifest
/// or its `pnpm` / `overrides` is not an object.
fn with_override(manifest: &Value, scoped: &str, to: &str) -> Option<String> {
    let mut json = manifest.clone();
    let pnpm = json
        .as_object_mut()?
        .entry("pnpm")
        .or_insert_with(|| Value::Object(Default::default()));
    let overrides = pnpm
        .as_object_mut()?
        .entry("overrides")
        .or_insert_with(|| Value::Object(Default::default()));
    overrides
        .as_object_mut()?
        .insert(scoped.to_string(), Value::String(to.to_string()));
    serde_json::to_string_pretty(&json).ok()
}

/// The `lockfileVersion` a pnpm-lock.yaml declares.
fn lockfile_version(lock: &str) -> Option<String> {
    let (docs, _) = yaml::parse(lock);
    docs.first()?
        .get("lockfileVersion")?
        .as_str()
        .map(str::to_string)
}

/// The lines of a project `.npmrc` that shape how pnpm resolves and writes the lockfile,
/// without credentials (`//host/:_authToken`, `_auth`, `_password`, …), the registry (the
/// registries settings choose it) or values taken from the environment (scrubbed here).
fn lockfile_settings(npmrc: &str) -> String {
    let mut out = String::new();
    for line in npmrc.lines() {
        let key = line.split('=').next().unwrap_or("").trim();
        let secret = key.starts_with("//")
            || key.starts_with('_')
            || matches!(
                key,
                "registry" | "username" | "email" | "always-auth" | "cafile" | "cert" | "key"
            )
            || key.ends_with(":registry")
            || line.contains("${");
        if !secret {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_range_keeps_its_style() {
        assert_eq!(save_style("^1.0.0"), "--save-prefix=^");
        assert_eq!(save_style("~1.0.0"), "--save-prefix=~");
        assert_eq!(save_style("1.0.0"), "--save-exact");
        assert_eq!(save_style("1.x"), "--save-prefix=^");
        assert_eq!(save_style(">=1.0.0 <2"), "--save-prefix=^");
    }

    #[test]
    fn the_override_is_added_beside_the_projects_own() {
        let manifest: Value =
            serde_json::from_str(r#"{"name":"app","pnpm":{"overrides":{"other":"2.0.0"}}}"#)
                .unwrap();
        let text = with_override(&manifest, "leaf@1.0.0", "1.0.1").unwrap();
        let json: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(json["pnpm"]["overrides"]["leaf@1.0.0"], "1.0.1");
        assert_eq!(json["pnpm"]["overrides"]["other"], "2.0.0");
        let odd: Value = serde_json::from_str(r#"{"pnpm":{"overrides":[]}}"#).unwrap();
        assert_eq!(with_override(&odd, "leaf@1.0.0", "1.0.1"), None);
    }

    #[test]
    fn patch_files_come_from_the_lockfile() {
        let lock = "lockfileVersion: '9.0'\npatchedDependencies:\n  leaf@1.0.0:\n    hash: abc\n    path: patches/leaf@1.0.0.patch\n  evil:\n    hash: def\n    path: ../outside.patch\n";
        assert_eq!(patch_files(lock), ["patches/leaf@1.0.0.patch"]);
        assert!(patch_files("lockfileVersion: '9.0'\n").is_empty());
    }

    #[test]
    fn project_npmrc_keeps_settings_not_credentials() {
        let npmrc = "auto-install-peers=false\nregistry=https://npm.example.com/\n//npm.example.com/:_authToken=abc\n_auth=xyz\n@corp:registry=https://corp/\nnode-linker=hoisted\ntoken-from-env=${NPM_TOKEN}\n";
        assert_eq!(
            lockfile_settings(npmrc),
            "auto-install-peers=false\nnode-linker=hoisted\n"
        );
    }

    #[test]
    fn members_come_from_the_importers() {
        struct Files;
        impl FileSource for Files {
            fn read(&self, path: &str) -> Option<Vec<u8>> {
                (path == "web/packages/a/package.json").then(|| b"{}".to_vec())
            }
            fn subdirs(&self, _: &str) -> Vec<String> {
                Vec::new()
            }
        }
        let request = Request {
            manager: crate::relock::Manager::Pnpm,
            lockfile: "web/pnpm-lock.yaml".into(),
            package: "leaf".into(),
            from: "1.0.0".into(),
            to: "1.0.1".into(),
            direct: false,
        };
        let lock = "lockfileVersion: '9.0'\nimporters:\n  .: {}\n  packages/a: {}\n";
        let members = member_manifests(&Files, &request, lock).unwrap();
        assert_eq!(
            members,
            [("web/packages/a/package.json".to_string(), "{}".to_string())]
        );
        let outside = "lockfileVersion: '9.0'\nimporters:\n  ../b: {}\n";
        assert!(member_manifests(&Files, &request, outside).is_err());
    }
}
