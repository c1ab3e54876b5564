//! yarn.lock v1, with yarn classic. yarn v1 has no lockfile-only mode and cannot move one entry
//! to an exact version (`yarn upgrade NAME@V` makes NAME a direct dependency; `yarn upgrade
//! NAME` leaves a transitive entry alone). What works:
//!
//! - a transitive entry, when it is the package's only entry: a temporary `resolutions` entry
//!   (`"NAME": "V"`) in the working copy's package.json, `yarn install`, then the original
//!   package.json back and `yarn install` again, which drops the resolution's own pattern and
//!   leaves the entry at V with its new `resolved` and `integrity`;
//! - a transitive entry among several of the same package: its block is deleted and `yarn
//!   install` resolves its patterns again (the newest release in range), accepted only when
//!   that is exactly V.
//!
//! The result is checked with `yarn install --frozen-lockfile`, which fails when the lock does
//! not satisfy package.json. Install scripts are off throughout (`--ignore-scripts`); the
//! working copy's node_modules is thrown away with it. A direct dependency is left to a person:
//! yarn v1 can only pin it exactly (rewriting package.json's order), which is not a minimal fix.

use super::{package_json, required};
use crate::manifest;
use crate::relock::sandbox::Context;
use crate::relock::{Done, FileSource, RelockError, Request};
use serde_json::Value;

const INSTALL: [&str; 7] = [
    "install",
    "--ignore-scripts",
    "--ignore-engines",
    "--ignore-platform",
    "--non-interactive",
    "--no-progress",
    "--silent",
];

pub(crate) fn relock(
    request: &Request,
    files: &dyn FileSource,
    ctx: &Context,
) -> Result<Done, RelockError> {
    let lock = required(files, &request.lockfile)?;
    if lock
        .lines()
        .any(|l| matches!(l.trim_end(), "__metadata:" | "\"__metadata\":"))
    {
        return Err(RelockError::Unsupported(
            "Yarn Berry lockfiles are not re-locked automatically yet: run `yarn up` in the checkout"
                .to_string(),
        ));
    }
    if request.direct {
        return Err(RelockError::Unsupported(format!(
            "{} is a direct dependency: raise its range in package.json to allow {} and run `yarn install`",
            request.package, request.to
        )));
    }
    let (manifest_path, manifest, manifest_json) = package_json(files, request, "yarn")?;
    ctx.write(&request.lockfile, lock.as_bytes())?;
    ctx.write(&manifest_path, manifest.as_bytes())?;
    write_config(ctx)?;
    let dir = request.dir();
    let cache = ctx.home.join("yarn-cache").to_string_lossy().into_owned();
    let env = [("YARN_CACHE_FOLDER", cache.as_str())];

    let entries = manifest::yarn_lock::parse(&request.lockfile, &lock)
        .dependencies
        .into_iter()
        .filter(|d| d.name == request.package)
        .collect::<Vec<_>>();
    let command = if entries.len() == 1 {
        let mut with_resolution = manifest_json.clone();
        let resolutions = with_resolution
            .as_object_mut()
            .ok_or_else(|| RelockError::Unsupported(format!("{manifest_path} is not an object")))?
            .entry("resolutions")
            .or_insert_with(|| Value::Object(Default::default()));
        let Some(resolutions) = resolutions.as_object_mut() else {
            return Err(RelockError::Unsupported(format!(
                "`resolutions` in {manifest_path} is not an object"
            )));
        };
        if resolutions.contains_key(&request.package) {
            return Err(RelockError::Unsupported(format!(
                "{manifest_path} already has a resolution for {}: change it there",
                request.package
            )));
        }
        resolutions.insert(request.package.clone(), Value::String(request.to.clone()));
        let text = serde_json::to_string_pretty(&with_resolution)
            .map_err(|e| RelockError::Io(e.to_string()))?;
        ctx.write(&manifest_path, text.as_bytes())?;
        let run = ctx.run(dir, &INSTALL, &env);
        ctx.write(&manifest_path, manifest.as_bytes())?;
        run?;
        // With node_modules in place yarn trusts its integrity file and skips the lockfile, so
        // the resolution's own pattern would stay in it.
        remove_node_modules(ctx, dir)?;
        ctx.run(dir, &INSTALL, &env)?;
        format!(
            "yarn install (with a temporary resolution \"{}\": \"{}\")",
            request.package, request.to
        )
    } else {
        let Some(entry) = entries
            .iter()
            .find(|d| d.version.as_deref() == Some(request.from.as_str()))
        else {
            return Err(RelockError::Unsupported(format!(
                "{}@{} is not in {}",
                request.package, request.from, request.lockfile
            )));
        };
        let without = delete_block(&lock, entry.location.line as usize);
        ctx.write(&request.lockfile, without.as_bytes())?;
        ctx.run(dir, &INSTALL, &env)?;
        format!(
            "yarn install (with the {}@{} entry removed from yarn.lock)",
            request.package, request.from
        )
    };
    remove_node_modules(ctx, dir)?;
    let mut frozen: Vec<&str> = INSTALL.to_vec();
    frozen.push("--frozen-lockfile");
    ctx.verify(dir, &frozen, &env, "yarn.lock")?;
    let new_lock = ctx.read(&request.lockfile)?;
    Ok(Done {
        command,
        files: vec![(request.lockfile.clone(), lock, new_lock)],
    })
}

fn remove_node_modules(ctx: &Context, dir: &str) -> Result<(), RelockError> {
    let path = ctx.repo.join(dir).join("node_modules");
    if path.exists() {
        std::fs::remove_dir_all(path)?;
    }
    Ok(())
}

/// `lock` without the block whose header is at 1-based `line` (the header, its indented fields
/// and the blank line after it).
fn delete_block(lock: &str, line: usize) -> String {
    let mut out = String::with_capacity(lock.len());
    let mut in_block = false;
    for (i, text) in lock.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            in_block = true;
            continue;
        }
        if in_block {
            let body = text.starts_with(' ') || text.starts_with('\t');
            if body {
                continue;
            }
            in_block = false;
            if text.trim().is_empty() {
                continue;
            }
        }
        out.push_str(text);
    }
    out
}

/// yarn v1 reads the registry from `~/.yarnrc` and tokens from `~/.npmrc`; HOME is the
/// working copy's.
fn write_config(ctx: &Context) -> Result<(), RelockError> {
    let Some(registry) = &ctx.registries.npm else {
        return Ok(());
    };
    let registry = if registry.ends_with('/') {
        registry.clone()
    } else {
        format!("{registry}/")
    };
    std::fs::write(
        ctx.home.join(".yarnrc"),
        format!("registry \"{registry}\"\n"),
    )?;
    super::npm::write_npmrc(ctx)
}

#[cfg(test)]
mod tests {
    use super::delete_block;

    #[test]
    fn a_block_goes_with_its_blank_line() {
        let lock = "# yarn lockfile v1\n\n\na@^1:\n  version \"1.0.0\"\n\nb@^2:\n  version \"2.0.0\"\n  dependencies:\n    a \"^1\"\n\nc@^3:\n  version \"3.0.0\"\n";
        assert_eq!(
            delete_block(lock, 7),
            "# yarn lockfile v1\n\n\na@^1:\n  version \"1.0.0\"\n\nc@^3:\n  version \"3.0.0\"\n"
        );
        assert_eq!(
            delete_block(lock, 12),
            "# yarn lockfile v1\n\n\na@^1:\n  version \"1.0.0\"\n\nb@^2:\n  version \"2.0.0\"\n  dependencies:\n    a \"^1\"\n\n"
        );
    }
}
