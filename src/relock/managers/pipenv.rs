//! Pipfile.lock with pipenv itself. pipenv has no command that moves one package to an exact
//! version and leaves the Pipfile alone: `pipenv lock` re-resolves every package to the newest
//! release the Pipfile allows, `pipenv upgrade NAME==V` writes the pin into the Pipfile, and
//! `pipenv upgrade --lock-only NAME==V` drops the `==V` and takes the newest release.
//!
//! So the working copy's Pipfile is replaced, for one `pipenv lock`, by one that holds every
//! package at its locked version (see [`held_pipfile`]) and the target at exactly V; whatever
//! V newly needs is resolved as pipenv resolves it. The user's Pipfile is then put back. The
//! lockfile pipenv wrote is kept byte for byte except `_meta.hash`, which pipenv computed from
//! the temporary Pipfile: it becomes the original lockfile's hash again, which is the hash of
//! the unchanged Pipfile. `pipenv verify` on the result is the check `pipenv install --deploy`
//! makes; as the Pipfile is the user's own, it fails only when the original lockfile was already
//! out of date, and the note says so.
//!
//! Packages come from the Pipfile's own `[[source]]` entries; the registries' `pypi` URL, when
//! set, is given as `--pypi-mirror` (which replaces PyPI only, as pipenv documents).

use super::required;
use crate::relock::sandbox::Context;
use crate::relock::{Done, FileSource, RelockError, Request};
use serde_json::Value as Json;
use toml::{Table, Value};

pub(crate) fn relock(
    request: &Request,
    files: &dyn FileSource,
    ctx: &Context,
) -> Result<Done, RelockError> {
    let lock = required(files, &request.lockfile)?;
    let pipfile_path = request.beside("Pipfile");
    let pipfile = required(files, &pipfile_path)?;
    let held = held_pipfile(&pipfile, &lock, request).map_err(|e| {
        RelockError::Unsupported(format!("{pipfile_path} / {}: {e}", request.lockfile))
    })?;
    let original_hash = meta_hash(&lock).map_err(|e| {
        RelockError::Unsupported(format!(
            "{}: {e}: regenerate it with `pipenv lock`",
            request.lockfile
        ))
    })?;
    ctx.write(&request.lockfile, lock.as_bytes())?;
    ctx.write(&pipfile_path, pipfile.as_bytes())?;

    let home = ctx.home.to_string_lossy().into_owned();
    let (venvs, cache) = (format!("{home}/venvs"), format!("{home}/pipenv-cache"));
    let env = [
        ("WORKON_HOME", venvs.as_str()),
        ("PIPENV_CACHE_DIR", cache.as_str()),
        ("PIPENV_YES", "1"),
        ("PIPENV_NOSPIN", "1"),
        ("PIPENV_IGNORE_VIRTUALENVS", "1"),
        // A missing interpreter is an error to report, never a Python to download and build.
        ("PIPENV_DONT_USE_PYENV", "1"),
        ("PIPENV_DONT_USE_ASDF", "1"),
        // `pipenv lock` makes a virtualenv to resolve in; its resolver brings its own pip, so
        // seeding pip and setuptools into it (three quarters of a lock's time) is skipped.
        ("VIRTUALENV_NO_PIP", "1"),
        ("VIRTUALENV_NO_SETUPTOOLS", "1"),
        ("VIRTUALENV_NO_PERIODIC_UPDATE", "1"),
        ("PIP_CONFIG_FILE", "/dev/null"),
        ("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring"),
    ];
    let dir = request.dir();
    let mut args = vec!["lock"];
    if let Some(index) = &ctx.registries.pypi {
        args.extend(["--pypi-mirror", index.as_str()]);
    }
    ctx.write(&pipfile_path, held.as_bytes())?;
    let run = ctx.run(dir, &args, &env);
    // The held versions were for this run only: the project's Pipfile stays as it was.
    ctx.write(&pipfile_path, pipfile.as_bytes())?;
    run?;
    let written = ctx.read(&request.lockfile)?;
    let new_lock = with_hash(&written, &original_hash).map_err(|e| RelockError::Unverified {
        file: request.lockfile.clone(),
        detail: e,
    })?;
    ctx.write(&request.lockfile, new_lock.as_bytes())?;
    let check = ctx.spawn(dir, &["verify"], &env)?;
    if !check.status.success() {
        return Err(RelockError::Unsupported(format!(
            "{} was already out of date with {pipfile_path} (`pipenv verify` fails with the original hash), so it cannot be re-locked for one package: run `pipenv lock` in the repository first",
            request.lockfile
        )));
    }
    Ok(Done {
        command: format!(
            "pipenv lock (with a temporary Pipfile holding every locked package at its version and {}=={})",
            request.package, request.to
        ),
        files: vec![(request.lockfile.clone(), lock, new_lock)],
    })
}

/// PEP 503 normalised name: Pipfile keys and lockfile keys may spell one package differently.
fn canonical(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut separator = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            separator = true;
            continue;
        }
        if separator && !out.is_empty() {
            out.push('-');
        }
        separator = false;
        out.extend(c.to_lowercase());
    }
    out
}

/// The Pipfile section a lockfile section is resolved from.
fn pipfile_section(lock_section: &str) -> &str {
    match lock_section {
        "default" => "packages",
        "develop" => "dev-packages",
        other => other,
    }
}

/// The Pipfile for the one `pipenv lock`: in each category, every package the lockfile records
/// with a version is required at exactly that version (the target at `==to` where it is locked
/// at `from`). A package the Pipfile declares keeps its entry, with only its version changed,
/// so its `index` and `extras` stay; one it does not declare is added as a table
/// `{version, markers, extras}` from its lock entry: a table without `index` gives no `index`
/// key in the lock entry (a bare string would), and the markers are the ones pipenv had
/// computed for it, so the entry comes out as it was. VCS, path and file requirements are left
/// as written.
pub(crate) fn held_pipfile(pipfile: &str, lock: &str, request: &Request) -> Result<String, String> {
    let mut doc: Table = pipfile
        .parse()
        .map_err(|e| format!("the Pipfile is not valid TOML: {e}"))?;
    let lock: Json =
        serde_json::from_str(lock).map_err(|e| format!("the lockfile is not valid JSON: {e}"))?;
    let sections = lock
        .as_object()
        .ok_or("the lockfile is not a JSON object")?;
    let target = canonical(&request.package);
    let from = format!("=={}", request.from);
    for (lock_section, entries) in sections {
        if lock_section == "_meta" {
            continue;
        }
        let Some(entries) = entries.as_object() else {
            continue;
        };
        let section = doc
            .entry(pipfile_section(lock_section))
            .or_insert_with(|| Value::Table(Table::new()))
            .as_table_mut()
            .ok_or_else(|| format!("[{}] is not a table", pipfile_section(lock_section)))?;
        for (name, entry) in entries {
            let Some(locked) = entry.get("version").and_then(Json::as_str) else {
                continue;
            };
            let pin = if canonical(name) == target && locked == from {
                format!("=={}", request.to)
            } else {
                locked.to_string()
            };
            let declared = section
                .keys()
                .find(|k| canonical(k) == canonical(name))
                .cloned();
            match declared {
                Some(key) => match section.get_mut(&key) {
                    Some(Value::Table(t)) => {
                        let pinned_elsewhere = ["git", "path", "file", "editable"]
                            .iter()
                            .any(|k| t.contains_key(*k));
                        if !pinned_elsewhere {
                            t.insert("version".into(), Value::String(pin));
                        }
                    }
                    Some(value) => *value = Value::String(pin),
                    None => {}
                },
                None => {
                    let mut held = Table::new();
                    held.insert("version".into(), Value::String(pin));
                    if let Some(markers) = entry.get("markers").and_then(Json::as_str) {
                        held.insert("markers".into(), Value::String(markers.into()));
                    }
                    if let Some(extras) = entry.get("extras").and_then(Json::as_array) {
                        let extras = extras
                            .iter()
                            .filter_map(Json::as_str)
                            .map(|e| Value::String(e.into()))
                            .collect();
                        held.insert("extras".into(), Value::Array(extras));
                    }
                    section.insert(name.clone(), Value::Table(held));
                }
            }
        }
    }
    toml::to_string(&doc).map_err(|e| e.to_string())
}

/// `_meta.hash.sha256` of a lockfile.
fn meta_hash(lock: &str) -> Result<String, String> {
    let json: Json = serde_json::from_str(lock).map_err(|e| format!("not valid JSON: {e}"))?;
    json.pointer("/_meta/hash/sha256")
        .and_then(Json::as_str)
        .map(str::to_string)
        .ok_or_else(|| "no `_meta.hash.sha256`".to_string())
}

/// `lock` with its `_meta.hash.sha256` value replaced by `hash`, every other byte as pipenv
/// wrote it. Package hashes are `"sha256:…"` strings in lists, so the key `"sha256": ` occurs
/// once, in `_meta`.
pub(crate) fn with_hash(lock: &str, hash: &str) -> Result<String, String> {
    let written = meta_hash(lock)?;
    let old = format!("\"sha256\": \"{written}\"");
    if lock.matches(&old).count() != 1 {
        return Err(format!(
            "pipenv's `_meta.hash` is not written as `{old}` exactly once"
        ));
    }
    Ok(lock.replacen(&old, &format!("\"sha256\": \"{hash}\""), 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(package: &str) -> Request {
        Request {
            manager: crate::relock::Manager::Pipenv,
            lockfile: "Pipfile.lock".into(),
            package: package.into(),
            from: "1.0.0".into(),
            to: "1.0.1".into(),
            direct: false,
        }
    }

    const LOCK: &str = r#"{
    "_meta": {"hash": {"sha256": "aa"}, "pipfile-spec": 6, "requires": {}, "sources": []},
    "default": {
        "Leaf": {"hashes": ["sha256:11"], "markers": "python_version >= '3.8'", "version": "==1.0.0"},
        "mid_pkg": {"hashes": ["sha256:22"], "index": "local", "version": "==1.0.0"},
        "tool": {"editable": true, "path": "."}
    },
    "develop": {
        "other": {"hashes": ["sha256:33"], "index": "local", "version": "==2.0.0"}
    }
}"#;

    const PIPFILE: &str = "[[source]]\nurl = \"http://127.0.0.1/simple/\"\nverify_ssl = false\nname = \"local\"\n\n[packages]\nMid-Pkg = {version = \">=1.0\", extras = [\"x\"]}\ntool = {path = \".\", editable = true}\n\n[dev-packages]\nother = \"*\"\n\n[requires]\npython_version = \"3.11\"\n";

    #[test]
    fn every_locked_package_is_held_and_the_target_moves() {
        let held: Table = held_pipfile(PIPFILE, LOCK, &request("leaf"))
            .unwrap()
            .parse()
            .unwrap();
        let packages = held["packages"].as_table().unwrap();
        // Declared: only the version changes, the key's spelling and extras stay.
        assert_eq!(packages["Mid-Pkg"]["version"].as_str(), Some("==1.0.0"));
        assert_eq!(packages["Mid-Pkg"]["extras"][0].as_str(), Some("x"));
        assert!(!packages.contains_key("mid_pkg"));
        // Not declared: a table with its lock markers, at the target version.
        assert_eq!(packages["Leaf"]["version"].as_str(), Some("==1.0.1"));
        assert_eq!(
            packages["Leaf"]["markers"].as_str(),
            Some("python_version >= '3.8'")
        );
        // A path requirement is left as written.
        assert!(!packages["tool"].as_table().unwrap().contains_key("version"));
        assert_eq!(held["dev-packages"]["other"].as_str(), Some("==2.0.0"));
        assert_eq!(held["requires"]["python_version"].as_str(), Some("3.11"));
        assert_eq!(held["source"][0]["name"].as_str(), Some("local"));
    }

    #[test]
    fn a_declared_target_moves_in_place() {
        let held: Table = held_pipfile(PIPFILE, LOCK, &request("mid-pkg"))
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(
            held["packages"]["Mid-Pkg"]["version"].as_str(),
            Some("==1.0.1")
        );
        assert_eq!(
            held["packages"]["Leaf"]["version"].as_str(),
            Some("==1.0.0")
        );
    }

    #[test]
    fn bad_input_is_named() {
        let err = held_pipfile("[packages\n", LOCK, &request("leaf")).unwrap_err();
        assert!(err.contains("Pipfile is not valid TOML"), "{err}");
        let err = held_pipfile(PIPFILE, "{", &request("leaf")).unwrap_err();
        assert!(err.contains("lockfile is not valid JSON"), "{err}");
    }

    #[test]
    fn only_the_meta_hash_is_replaced() {
        let lock = "{\n    \"_meta\": {\n        \"hash\": {\n            \"sha256\": \"bb\"\n        }\n    },\n    \"default\": {\n        \"a\": {\n            \"hashes\": [\n                \"sha256:bb\"\n            ]\n        }\n    }\n}\n";
        let out = with_hash(lock, "cc").unwrap();
        assert_eq!(
            out,
            lock.replace("\"sha256\": \"bb\"", "\"sha256\": \"cc\"")
        );
        assert!(out.contains("\"sha256:bb\""));
        assert!(with_hash("{}", "cc").is_err());
    }

    #[test]
    fn names_are_compared_as_pep_503_says() {
        assert_eq!(canonical("Foo__Bar.baz"), "foo-bar-baz");
        assert_eq!(canonical("mid-pkg"), canonical("Mid_Pkg"));
    }
}
