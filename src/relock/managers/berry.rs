//! yarn.lock of Yarn Berry (2 and later, recognised by `__metadata`), with a `yarn` of 2 or
//! newer on PATH. Berry can move one lock entry to an exact version itself: `yarn set
//! resolution DESCRIPTOR npm:V` rewrites the entry every descriptor (`leaf@npm:^1.0.0`) of the
//! installed version resolves to, with its checksum, and leaves package.json alone.
//!
//! - Transitive: each descriptor that resolves to `NAME@npm:FROM` is set to V, after checking
//!   that each one's range allows V (else it is refused, naming the descriptor).
//! - Direct: the range in the package.json that declares it is raised with its own operator (as
//!   for yarn v1), `yarn install --mode=update-lockfile` locks the new descriptor, and the
//!   descriptor is then set to V.
//!
//! Nothing is linked or built (`--mode=update-lockfile`, scripts off). The check: one more
//! `yarn install --mode=update-lockfile` must leave the lockfile as it is. The working copy gets
//! the repository's `.yarnrc.yml` and the files it names (`yarnPath`, plugins); the registry and
//! its token come from the registries settings as `YARN_*` variables, which override the file.

use super::yarn::{raise_range, version_of_program};
use super::{package_json, workspace_manifests};
use crate::relock::npm_range;
use crate::relock::sandbox::Context;
use crate::relock::{Done, FileSource, RelockError, Request};

const UPDATE_LOCKFILE: [&str; 2] = ["install", "--mode=update-lockfile"];

pub(crate) fn relock(
    request: &Request,
    files: &dyn FileSource,
    ctx: &Context,
    lock: String,
) -> Result<Done, RelockError> {
    let (manifest_path, manifest, json) = package_json(files, request)?;
    let members = workspace_manifests(files, request, &json, None)?;
    let mut manifests: Vec<(String, String, String)> = std::iter::once((manifest_path, manifest))
        .chain(members)
        .map(|(path, text)| (path, text.clone(), text))
        .collect();
    ctx.write(&request.lockfile, lock.as_bytes())?;
    for (path, _, text) in &manifests {
        ctx.write(path, text.as_bytes())?;
    }
    let rc_path = request.beside(".yarnrc.yml");
    if let Some(rc) = files.read(&rc_path) {
        let text = String::from_utf8_lossy(&rc).into_owned();
        for named in rc_files(&text) {
            let path = request.beside(&named);
            ctx.write(
                &path,
                &files
                    .read(&path)
                    .ok_or(RelockError::MissingFile(path.clone()))?,
            )?;
        }
        ctx.write(&rc_path, &rc)?;
    }
    let home = ctx.home.to_string_lossy().into_owned();
    let cache = format!("{home}/yarn-berry-cache");
    let mut env: Vec<(&str, String)> = vec![
        ("YARN_ENABLE_SCRIPTS", "false".into()),
        ("YARN_ENABLE_TELEMETRY", "0".into()),
        ("YARN_ENABLE_GLOBAL_CACHE", "false".into()),
        ("YARN_CACHE_FOLDER", cache),
        ("YARN_ENABLE_IMMUTABLE_INSTALLS", "false".into()),
        ("YARN_ENABLE_PROGRESS_BARS", "false".into()),
    ];
    if let Some(registry) = &ctx.registries.npm {
        env.push((
            "YARN_NPM_REGISTRY_SERVER",
            registry.trim_end_matches('/').into(),
        ));
        if let Some(host) = registry
            .strip_prefix("http://")
            .and_then(|r| r.split(['/', ':']).next())
        {
            // Berry refuses plain-HTTP registries unless their host is listed.
            env.push(("YARN_UNSAFE_HTTP_WHITELIST", host.to_string()));
        }
        if let Some(token) = &ctx.registries.npm_token {
            env.push(("YARN_NPM_AUTH_TOKEN", token.clone()));
        }
    }
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let dir = request.dir();
    // Asked in the project's folder, where a `yarnPath` release takes over.
    let version = version_of_program(ctx, dir)?;
    if version.major < 2 {
        return Err(RelockError::ToolMissing {
            tool: format!("yarn 2 or newer (the `yarn` on PATH is {version})"),
            manager: "a Yarn Berry yarn.lock".to_string(),
        });
    }

    let descriptors = if request.direct {
        let mut range = None;
        for (path, _, text) in manifests.iter_mut() {
            if let Some(raised) = raise_range(text, &request.package, &request.to, false)
                .map_err(|e| RelockError::Unsupported(format!("{path}: {e}")))?
            {
                range = super::yarn::declared_range(&raised, &request.package);
                ctx.write(path, raised.as_bytes())?;
                *text = raised;
            }
        }
        let Some(range) = range else {
            return Err(RelockError::Unsupported(format!(
                "{} is marked direct but no package.json of the project declares it",
                request.package
            )));
        };
        ctx.run(dir, &UPDATE_LOCKFILE, &env)?;
        vec![format!("{}@npm:{range}", request.package)]
    } else {
        let found = descriptors_of(&lock, &request.package, &request.from);
        if found.is_empty() {
            return Err(RelockError::Unsupported(format!(
                "no entry of {} resolves to {}@npm:{}",
                request.lockfile, request.package, request.from
            )));
        }
        for d in &found {
            let range = d.rsplit_once("@npm:").map_or("", |(_, r)| r);
            if !npm_range::satisfies(range, &request.to).unwrap_or(false) {
                return Err(RelockError::Unsupported(format!(
                    "{} {} is outside the range `{d}` asks for: upgrade the package that asks for it",
                    request.package, request.to
                )));
            }
        }
        found
    };
    let resolution = format!("npm:{}", request.to);
    for d in &descriptors {
        ctx.run(dir, &["set", "resolution", d, &resolution], &env)?;
    }
    let written = ctx.read(&request.lockfile)?;
    ctx.verify(dir, &UPDATE_LOCKFILE, &env, "yarn.lock")?;
    if ctx.read(&request.lockfile)? != written {
        return Err(RelockError::Unverified {
            file: "yarn.lock".to_string(),
            detail: "another `yarn install --mode=update-lockfile` changed it again".to_string(),
        });
    }
    let mut changed = vec![(request.lockfile.clone(), lock, written)];
    for (path, old, _) in manifests {
        let new = ctx.read(&path)?;
        changed.push((path, old, new));
    }
    Ok(Done {
        command: format!(
            "yarn set resolution {} {resolution}",
            descriptors.join(" / ")
        ),
        files: changed,
    })
}

/// The descriptors (`leaf@npm:^1.0.0`) of the Berry lock entry that resolves to
/// `name@npm:version`.
fn descriptors_of(lock: &str, name: &str, version: &str) -> Vec<String> {
    let wanted = format!("resolution: \"{name}@npm:{version}\"");
    let mut header: Option<&str> = None;
    for line in lock.lines() {
        if !line.starts_with([' ', '#']) && line.ends_with(':') {
            header = Some(&line[..line.len() - 1]);
        } else if line.trim() == wanted
            && let Some(h) = header
        {
            return h
                .trim_matches('"')
                .split(", ")
                .map(|d| d.trim_matches('"').to_string())
                .filter(|d| d.starts_with(&format!("{name}@npm:")))
                .collect();
        }
    }
    Vec::new()
}

/// Files `.yarnrc.yml` points at (`yarnPath`, plugins' `path`), relative to its folder.
fn rc_files(rc: &str) -> Vec<String> {
    rc.lines()
        .filter_map(|line| {
            let line = line.trim().trim_start_matches("- ");
            let value = line
                .strip_prefix("yarnPath:")
                .or_else(|| line.strip_prefix("path:"))?;
            let value = value.trim().trim_matches(['"', '\'']);
            (!value.is_empty() && !value.starts_with('/') && !value.contains(".."))
                .then(|| value.to_string())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptors_come_from_the_entry_that_resolves_to_the_version() {
        let lock = "__metadata:\n  version: 8\n\n\"leaf@npm:^1.0.0, leaf@npm:~1.0.0\":\n  version: 1.0.0\n  resolution: \"leaf@npm:1.0.0\"\n\n\"leaf@npm:^2.0.0\":\n  version: 2.0.0\n  resolution: \"leaf@npm:2.0.0\"\n";
        assert_eq!(
            descriptors_of(lock, "leaf", "1.0.0"),
            ["leaf@npm:^1.0.0", "leaf@npm:~1.0.0"]
        );
        assert_eq!(descriptors_of(lock, "leaf", "2.0.0"), ["leaf@npm:^2.0.0"]);
        assert!(descriptors_of(lock, "leaf", "3.0.0").is_empty());
    }

    #[test]
    fn yarnrc_names_its_release_and_plugins() {
        let rc = "yarnPath: .yarn/releases/yarn-4.1.0.cjs\nplugins:\n  - path: .yarn/plugins/@yarnpkg/plugin-x.cjs\n    spec: x\nnpmRegistryServer: https://r\n";
        assert_eq!(
            rc_files(rc),
            [
                ".yarn/releases/yarn-4.1.0.cjs",
                ".yarn/plugins/@yarnpkg/plugin-x.cjs"
            ]
        );
        assert!(rc_files("yarnPath: ../../etc/x\n").is_empty());
    }
}
