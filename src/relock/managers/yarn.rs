//! yarn.lock v1, with yarn classic. yarn v1 has no lockfile-only mode and cannot move one entry
//! to an exact version (`yarn upgrade NAME@V` makes NAME a direct dependency; `yarn upgrade
//! NAME` leaves a transitive entry alone). What works:
//!
//! - a transitive entry, when it is the package's only entry: a temporary `resolutions` entry
//!   (`"NAME": "V"`) in the working copy's package.json, `yarn install`, then the original
//!   package.json back and `yarn install` again, which drops the resolution's own pattern and
//!   leaves the entry at V with its new `resolved` and `integrity`;
//! - a transitive entry among several of the same package: the same, with one resolution per
//!   package that depends on that entry (`"**/mid/leaf": "V"`: yarn matches the key against
//!   the whole path from the root, so a bare `mid/leaf` would only reach a `mid` the project
//!   itself depends on), which leaves the other entries alone; where that cannot be said exactly (a parent depending on two entries through two of
//!   its versions, or a pattern only package.json asks for), its block is deleted and `yarn
//!   install` resolves its patterns again (the newest release in range), accepted only when
//!   that is exactly V.
//!
//! A direct dependency (of the root or of a workspace member) gets its range in the
//! package.json that declares it raised to allow V with the operator it had (`^1.0.0` becomes
//! `^1.0.1`, `~` stays `~`, an exact pin stays exact; anything else becomes `^V`), as `npm
//! install NAME@V` does. Resolutions do not apply to direct dependencies and the raised range
//! alone would take the newest release, so package.json first asks for exactly V (`yarn
//! install`), the lock entry's pattern is renamed to the raised range, and `yarn install` runs
//! again on the raised package.json. (`yarn upgrade NAME@V` would pin it exactly.)
//!
//! The result is checked with `yarn install --frozen-lockfile`, which fails when the lock does
//! not satisfy package.json. Install scripts are off throughout (`--ignore-scripts`); the
//! working copy's node_modules is thrown away with it. A workspace root's members' package.json
//! files go into the working copy too.

use super::{package_json, required, workspace_manifests};
use crate::manifest;
use crate::relock::sandbox::Context;
use crate::relock::yarn_blocks::{Block, blocks, is_berry, pattern_name};
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
    if is_berry(&lock) {
        return super::berry::relock(request, files, ctx, lock);
    }
    let version = version_of_program(ctx, "")?;
    if version.major != 1 {
        return Err(RelockError::ToolMissing {
            tool: format!("yarn 1 (the `yarn` on PATH is {version}, which would convert the file)"),
            manager: "a yarn v1 yarn.lock".to_string(),
        });
    }
    let (manifest_path, original_manifest, original_json) = package_json(files, request)?;
    let members = workspace_manifests(files, request, &original_json, None)?;
    // (path, original, as the re-lock leaves it): a direct dependency's range raised.
    let mut manifests: Vec<(String, String, String)> =
        std::iter::once((manifest_path.clone(), original_manifest))
            .chain(members)
            .map(|(path, text)| (path, text.clone(), text))
            .collect();
    ctx.write(&request.lockfile, lock.as_bytes())?;
    for (path, _, text) in &manifests {
        ctx.write(path, text.as_bytes())?;
    }
    write_config(ctx)?;
    let dir = request.dir();
    let cache = ctx.home.join("yarn-cache").to_string_lossy().into_owned();
    let env = [("YARN_CACHE_FOLDER", cache.as_str())];

    let command = if request.direct {
        direct(request, ctx, &mut manifests, dir, &env)?
    } else {
        transitive(
            request,
            ctx,
            &lock,
            &manifest_path,
            &manifests[0].2,
            dir,
            &env,
        )?
    };
    remove_node_modules(ctx, dir)?;
    let mut frozen: Vec<&str> = INSTALL.to_vec();
    frozen.push("--frozen-lockfile");
    ctx.verify(dir, &frozen, &env, "yarn.lock")?;
    let new_lock = ctx.read(&request.lockfile)?;
    let mut changed = vec![(request.lockfile.clone(), lock, new_lock)];
    for (path, old, _) in manifests {
        let new = ctx.read(&path)?;
        changed.push((path, old, new));
    }
    Ok(Done {
        command,
        files: changed,
    })
}

/// A direct dependency: yarn's `resolutions` do not apply to it, and a raised range alone
/// resolves to the newest release in it. So package.json first asks for exactly V (`yarn
/// install` locks `NAME@V`), that lock entry's pattern is renamed to the raised range, and
/// package.json gets the raised range: `yarn install` then finds the range locked at V.
fn direct(
    request: &Request,
    ctx: &Context,
    manifests: &mut [(String, String, String)],
    dir: &str,
    env: &[(&str, &str)],
) -> Result<String, RelockError> {
    let mut range = None;
    for (path, _, text) in manifests.iter_mut() {
        let unsupported = |e: String| RelockError::Unsupported(format!("{path}: {e}"));
        let Some(exact) =
            raise_range(text, &request.package, &request.to, true).map_err(unsupported)?
        else {
            continue;
        };
        let raised = raise_range(text, &request.package, &request.to, false)
            .map_err(unsupported)?
            .unwrap_or_default();
        ctx.write(path, exact.as_bytes())?;
        range = declared_range(&raised, &request.package);
        *text = raised;
    }
    let Some(range) = range else {
        return Err(RelockError::Unsupported(format!(
            "{} is marked direct but no package.json of the project declares it",
            request.package
        )));
    };
    ctx.run(dir, &INSTALL, env)?;
    let locked = ctx.read(&request.lockfile)?;
    let exact = format!("{}@{}", request.package, request.to);
    let renamed = rename_pattern(&locked, &exact, &format!("{}@{range}", request.package));
    ctx.write(&request.lockfile, renamed.as_bytes())?;
    for (path, _, text) in manifests.iter() {
        ctx.write(path, text.as_bytes())?;
    }
    remove_node_modules(ctx, dir)?;
    ctx.run(dir, &INSTALL, env)?;
    Ok(format!(
        "yarn install (with {} first asking for exactly {}, then for \"{range}\")",
        request.package, request.to
    ))
}

fn transitive(
    request: &Request,
    ctx: &Context,
    lock: &str,
    manifest_path: &str,
    manifest: &str,
    dir: &str,
    env: &[(&str, &str)],
) -> Result<String, RelockError> {
    let manifest_json: Value = serde_json::from_str(manifest)
        .map_err(|e| RelockError::Unsupported(format!("{manifest_path}: {e}")))?;
    let entries = manifest::yarn_lock::parse(&request.lockfile, lock)
        .dependencies
        .into_iter()
        .filter(|d| d.name == request.package)
        .collect::<Vec<_>>();
    // One entry: a resolution for the package. Several: one per parent of the entry being
    // moved (`"**/mid/leaf": "V"`, at any depth), which leaves the other entries alone.
    let keys = if entries.len() == 1 {
        Some(vec![request.package.clone()])
    } else {
        parent_scoped(lock, &request.package, &request.from)
    };
    if let Some(keys) = keys {
        let mut with_resolution = manifest_json;
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
        for key in &keys {
            if resolutions.contains_key(key) {
                return Err(RelockError::Unsupported(format!(
                    "{manifest_path} already has a resolution for {key}: change it there"
                )));
            }
            resolutions.insert(key.clone(), Value::String(request.to.clone()));
        }
        let text = serde_json::to_string_pretty(&with_resolution)
            .map_err(|e| RelockError::Io(e.to_string()))?;
        ctx.write(manifest_path, text.as_bytes())?;
        let run = ctx.run(dir, &INSTALL, env);
        ctx.write(manifest_path, manifest.as_bytes())?;
        run?;
        // With node_modules in place yarn trusts its integrity file and skips the lockfile, so
        // the resolution's own pattern would stay in it.
        remove_node_modules(ctx, dir)?;
        ctx.run(dir, &INSTALL, env)?;
        let listed: Vec<String> = keys
            .iter()
            .map(|k| format!("\"{k}\": \"{}\"", request.to))
            .collect();
        Ok(format!(
            "yarn install (with a temporary resolution {})",
            listed.join(", ")
        ))
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
        let without = delete_block(lock, entry.location.line as usize);
        ctx.write(&request.lockfile, without.as_bytes())?;
        ctx.run(dir, &INSTALL, env)?;
        Ok(format!(
            "yarn install (with the {}@{} entry removed from yarn.lock)",
            request.package, request.from
        ))
    }
}

/// `**/PARENT/NAME` resolution keys that move only the entry of `name` at `version`: one per
/// package that depends on it. `None` when that cannot be said exactly: a parent that also
/// depends on another entry of `name` (through another of its versions), or a pattern of the
/// entry no package in the lock asks for (the project's own package.json).
fn parent_scoped(lock: &str, name: &str, version: &str) -> Option<Vec<String>> {
    let all = blocks(lock);
    let entry = all.iter().find(|b| {
        b.version.as_deref() == Some(version)
            && b.patterns.first().is_some_and(|p| pattern_name(p) == name)
    })?;
    let asks = |b: &Block, pattern: &str| {
        b.dependencies
            .iter()
            .any(|(n, r)| n == name && format!("{n}@{r}") == pattern)
    };
    let mut parents: Vec<&str> = Vec::new();
    for pattern in &entry.patterns {
        let askers: Vec<&Block> = all.iter().filter(|b| asks(b, pattern)).collect();
        if askers.is_empty() {
            return None;
        }
        parents.extend(
            askers
                .iter()
                .filter_map(|b| b.patterns.first().map(|p| pattern_name(p))),
        );
    }
    parents.sort();
    parents.dedup();
    // Every instance of those parents must depend on this very entry.
    let clean = all
        .iter()
        .filter(|b| {
            b.patterns
                .first()
                .is_some_and(|p| parents.contains(&pattern_name(p)))
        })
        .flat_map(|b| b.dependencies.iter().filter(|(n, _)| n == name))
        .all(|(n, r)| entry.patterns.contains(&format!("{n}@{r}")));
    clean.then(|| parents.iter().map(|p| format!("**/{p}/{name}")).collect())
}

/// The version of the `yarn` program (`yarn --version`): v1 and Berry lockfiles each need theirs.
pub(crate) fn version_of_program(ctx: &Context, dir: &str) -> Result<semver::Version, RelockError> {
    let output = ctx.run(dir, &["--version"], &[])?;
    let text = output.stdout_tail.trim();
    semver::Version::parse(text.lines().last().unwrap_or(text)).map_err(|_| {
        RelockError::Unsupported(format!("`yarn --version` printed `{text}`, not a version"))
    })
}

/// The range `manifest` declares for `name` (the first dependency list naming it).
pub(crate) fn declared_range(manifest: &str, name: &str) -> Option<String> {
    let json: Value = serde_json::from_str(manifest).ok()?;
    ["dependencies", "devDependencies", "optionalDependencies"]
        .iter()
        .find_map(|k| json.get(k)?.get(name)?.as_str().map(str::to_string))
}

/// `lock` with the pattern `from` in its entry headers (`a@1.0.1, b@^2:`) renamed `to`, quoted
/// the way yarn v1 quotes a key.
fn rename_pattern(lock: &str, from: &str, to: &str) -> String {
    let mut out = String::with_capacity(lock.len());
    for line in lock.split_inclusive('\n') {
        let body = line.trim_end_matches(['\n', '\r']);
        let header = !line.starts_with([' ', '\t', '#']) && body.ends_with(':');
        if !header {
            out.push_str(line);
            continue;
        }
        let patterns: Vec<String> = body[..body.len() - 1]
            .split(", ")
            .map(|p| {
                let bare = p.trim_matches('"');
                if bare == from {
                    quote_key(to)
                } else {
                    p.to_string()
                }
            })
            .collect();
        out.push_str(&patterns.join(", "));
        out.push(':');
        out.push_str(&line[body.len()..]);
    }
    out
}

/// yarn v1's `maybeWrap` for lockfile keys.
fn quote_key(key: &str) -> String {
    let wrap = key.starts_with("true")
        || key.starts_with("false")
        || key.contains([':', ' ', '\t', '\n', '\\', '"', ',', '[', ']'])
        || !key.starts_with(|c: char| c.is_ascii_alphabetic());
    if wrap {
        serde_json::to_string(key).unwrap_or_else(|_| key.to_string())
    } else {
        key.to_string()
    }
}

/// `manifest` with `name`'s range in its dependencies, devDependencies or optionalDependencies
/// raised to allow `to` (keeping `^`, `~`, `>=` or an exact pin; `^to` otherwise; exactly `to`
/// when `exact`), every other byte unchanged; `None` when it does not declare `name`.
pub(crate) fn raise_range(
    manifest: &str,
    name: &str,
    to: &str,
    exact: bool,
) -> Result<Option<String>, String> {
    use jsonc_parser::ast::Value as Ast;
    use jsonc_parser::{CollectOptions, ParseOptions, parse_to_ast};
    let ast = parse_to_ast(
        manifest,
        &CollectOptions::default(),
        &ParseOptions::default(),
    )
    .map_err(|e| format!("not valid JSON ({})", e.kind()))?;
    let Some(Ast::Object(root)) = ast.value else {
        return Err("not a JSON object".to_string());
    };
    let mut edits = Vec::new();
    for section in ["dependencies", "devDependencies", "optionalDependencies"] {
        let Some(deps) = root.get(section).and_then(|p| p.value.as_object()) else {
            continue;
        };
        let Some(prop) = deps.get(name) else {
            continue;
        };
        let Ast::StringLit(lit) = &prop.value else {
            return Err(format!(
                "the range of {name} in `{section}` is not a string"
            ));
        };
        let (start, end) = (lit.range.start + 1, lit.range.end - 1);
        if manifest.get(start..end) != Some(lit.value.as_ref()) {
            return Err(format!("the range of {name} in `{section}` uses escapes"));
        }
        let range = if exact {
            to.to_string()
        } else {
            raised(&lit.value, to)
        };
        edits.push((start, end, range));
    }
    if edits.is_empty() {
        return Ok(None);
    }
    let mut out = manifest.to_string();
    for (start, end, range) in edits.into_iter().rev() {
        out.replace_range(start..end, &range);
    }
    Ok(Some(out))
}

fn raised(range: &str, to: &str) -> String {
    let range = range.trim();
    match range.chars().next() {
        _ if semver::Version::parse(range).is_ok() => to.to_string(),
        Some('^') if !range.contains(' ') => format!("^{to}"),
        Some('~') if !range.contains(' ') => format!("~{to}"),
        _ if range.starts_with(">=") && !range.contains(' ') => format!(">={to}"),
        _ => format!("^{to}"),
    }
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
    use super::{delete_block, parent_scoped, raise_range, rename_pattern};

    #[test]
    fn resolutions_are_scoped_to_the_parents_of_the_entry() {
        let lock = "# yarn lockfile v1\n\n\nleaf@^0.9.0:\n  version \"0.9.0\"\n\nleaf@^1.0.0, leaf@~1.0.0:\n  version \"1.0.0\"\n\nmid@^1.0.0:\n  version \"1.0.0\"\n  dependencies:\n    leaf \"^1.0.0\"\n\nnew@^1.0.0:\n  version \"1.0.0\"\n  dependencies:\n    leaf \"^0.9.0\"\n\n\"@s/other@^1.0.0\":\n  version \"1.0.0\"\n  dependencies:\n    leaf \"~1.0.0\"\n";
        assert_eq!(
            parent_scoped(lock, "leaf", "1.0.0"),
            Some(vec![
                "**/@s/other/leaf".to_string(),
                "**/mid/leaf".to_string()
            ])
        );
        assert_eq!(
            parent_scoped(lock, "leaf", "0.9.0"),
            Some(vec!["**/new/leaf".to_string()])
        );
        // `mid` at another version depends on the other entry: a `mid/leaf` key would move both.
        let shared = format!(
            "{lock}\nmid@^2.0.0:\n  version \"2.0.0\"\n  dependencies:\n    leaf \"^0.9.0\"\n"
        );
        assert_eq!(parent_scoped(&shared, "leaf", "1.0.0"), None);
        // A pattern only package.json asks for has no parent to scope to.
        let direct = lock.replace(
            "leaf@^1.0.0, leaf@~1.0.0:",
            "leaf@^1.0.0, leaf@~1.0.0, leaf@1.x:",
        );
        assert_eq!(parent_scoped(&direct, "leaf", "1.0.0"), None);
    }

    #[test]
    fn a_direct_range_is_raised_with_its_own_operator() {
        let manifest = "{\n  \"dependencies\": {\"a\": \"^1.0.0\", \"b\": \"~2.1.0\"},\n  \"devDependencies\": {\"c\": \"3.0.0\", \"d\": \"1.x\"}\n}\n";
        let raise = |name: &str, to: &str| raise_range(manifest, name, to, false).unwrap();
        assert_eq!(
            raise("a", "1.0.1"),
            Some(manifest.replace("^1.0.0", "^1.0.1"))
        );
        assert_eq!(
            raise("b", "2.1.3"),
            Some(manifest.replace("~2.1.0", "~2.1.3"))
        );
        assert_eq!(
            raise("c", "3.0.2"),
            Some(manifest.replace("\"3.0.0\"", "\"3.0.2\""))
        );
        assert_eq!(raise("d", "1.4.0"), Some(manifest.replace("1.x", "^1.4.0")));
        assert_eq!(raise("e", "1.0.0"), None);
        assert!(raise_range("[1]", "a", "1.0.0", false).is_err());
        assert_eq!(
            raise_range(manifest, "a", "1.0.1", true).unwrap(),
            Some(manifest.replace("^1.0.0", "1.0.1"))
        );
    }

    #[test]
    fn lock_patterns_are_renamed_and_quoted_as_yarn_does() {
        let lock = "# yarn lockfile v1\n\n\na@1.0.1, b@^2:\n  version \"1.0.1\"\n\n\"@s/x@1.0.0\":\n  version \"1.0.0\"\n";
        assert_eq!(
            rename_pattern(lock, "a@1.0.1", "a@^1.0.1"),
            lock.replace("a@1.0.1, b", "a@^1.0.1, b")
        );
        assert_eq!(
            rename_pattern(lock, "@s/x@1.0.0", "@s/x@~1.0.0"),
            lock.replace("\"@s/x@1.0.0\"", "\"@s/x@~1.0.0\"")
        );
    }

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
