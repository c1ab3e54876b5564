//! uv.lock with uv itself: `uv lock --upgrade-package NAME==V`, which moves that one package to
//! exactly V (and whatever its new requirements need) and keeps every other locked version. The
//! index is the registries' `pypi` URL when one is set (`--default-index`), else the project's
//! own (`[[tool.uv.index]]`, PyPI); uv records it in each entry's `source`, so a mirror that
//! differs from what the lockfile names changes those lines too. `uv lock --locked` then checks
//! the lockfile agrees with pyproject.toml.
//!
//! The working copy holds uv.lock, pyproject.toml and uv.toml beside it, and the pyproject.toml
//! of every workspace member or path dependency the lockfile records (`source = { editable =
//! "…" }`, `virtual`, `directory`), which uv reads to resolve. No Python is downloaded
//! (`UV_PYTHON_DOWNLOADS=never`): uv locks with any interpreter on PATH.

use super::required;
use crate::relock::sandbox::Context;
use crate::relock::{Done, FileSource, RelockError, Request};

pub(crate) fn relock(
    request: &Request,
    files: &dyn FileSource,
    ctx: &Context,
) -> Result<Done, RelockError> {
    let lock = required(files, &request.lockfile)?;
    let manifest_path = request.beside("pyproject.toml");
    let manifest = required(files, &manifest_path)?;
    ctx.write(&request.lockfile, lock.as_bytes())?;
    ctx.write(&manifest_path, manifest.as_bytes())?;
    let settings_path = request.beside("uv.toml");
    if let Some(bytes) = files.read(&settings_path) {
        ctx.write(&settings_path, &bytes)?;
    }
    for folder in local_projects(request, &lock)? {
        let path = request.beside(&format!("{folder}/pyproject.toml"));
        ctx.write(&path, required(files, &path)?.as_bytes())?;
    }

    let home = ctx.home.to_string_lossy().into_owned();
    let cache = format!("{home}/uv-cache");
    let env = [
        ("UV_CACHE_DIR", cache.as_str()),
        ("UV_PYTHON_DOWNLOADS", "never"),
        ("UV_NO_PROGRESS", "1"),
        ("PIP_CONFIG_FILE", "/dev/null"),
    ];
    let pin = format!("{}=={}", request.package, request.to);
    let mut args = vec!["lock", "--upgrade-package", pin.as_str()];
    let mut check = vec!["lock", "--locked"];
    if let Some(index) = &ctx.registries.pypi {
        for list in [&mut args, &mut check] {
            list.extend(["--default-index", index.as_str()]);
        }
    }
    let dir = request.dir();
    ctx.run(dir, &args, &env)?;
    ctx.verify(dir, &check, &env, "uv.lock")?;
    let new_lock = ctx.read(&request.lockfile)?;
    Ok(Done {
        command: ctx.describe(&args),
        files: vec![(request.lockfile.clone(), lock, new_lock)],
    })
}

/// The folders (relative to the lockfile's) of the local projects uv.lock records besides the
/// root: workspace members and path dependencies.
fn local_projects(request: &Request, lock: &str) -> Result<Vec<String>, RelockError> {
    let table: toml::Table = lock.parse().map_err(|e| {
        RelockError::Unsupported(format!("{} is not valid TOML: {e}", request.lockfile))
    })?;
    let mut folders = std::collections::BTreeSet::new();
    let packages = table
        .get("package")
        .and_then(toml::Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    for package in packages {
        let Some(source) = package.get("source").and_then(toml::Value::as_table) else {
            continue;
        };
        for kind in ["editable", "virtual", "directory"] {
            let Some(folder) = source.get(kind).and_then(toml::Value::as_str) else {
                continue;
            };
            let folder = folder.trim_start_matches("./").trim_end_matches('/');
            if folder.is_empty() || folder == "." {
                continue;
            }
            if folder.starts_with('/')
                || folder
                    .split('/')
                    .any(|s| s == ".." || s == "." || s.is_empty())
            {
                return Err(RelockError::Unsupported(format!(
                    "{} names a local project `{folder}` outside the repository: re-lock in the checkout",
                    request.lockfile
                )));
            }
            folders.insert(folder.to_string());
        }
    }
    Ok(folders.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> Request {
        Request {
            manager: crate::relock::Manager::Uv,
            lockfile: "uv.lock".into(),
            package: "leaf".into(),
            from: "1.0.0".into(),
            to: "1.0.1".into(),
            direct: false,
        }
    }

    #[test]
    fn members_and_path_dependencies_are_found() {
        let lock = "version = 1\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\nsource = { virtual = \".\" }\n\n[[package]]\nname = \"lib\"\nversion = \"0.1.0\"\nsource = { editable = \"packages/lib\" }\n\n[[package]]\nname = \"leaf\"\nversion = \"1.0.0\"\nsource = { registry = \"https://pypi.org/simple\" }\n";
        assert_eq!(local_projects(&request(), lock).unwrap(), ["packages/lib"]);
        let outside = lock.replace("packages/lib", "../lib");
        assert!(local_projects(&request(), &outside).is_err());
    }
}
