//! poetry.lock, with Poetry. Poetry cannot move one entry to an exact version (`poetry update
//! NAME --lock` takes the newest the constraints allow), so the working copy's pyproject.toml
//! gets a temporary exact requirement `NAME==V`, `poetry lock` runs (it keeps every other locked
//! version), the original pyproject.toml is put back and `poetry lock` runs again, which keeps V
//! (still allowed) and restores the content hash. `poetry check --lock` checks the result.
//! Package indexes come from pyproject.toml's own `[[tool.poetry.source]]` entries.

use super::required;
use crate::relock::sandbox::Context;
use crate::relock::{Done, FileSource, RelockError, Request};
use toml::{Table, Value};

pub(crate) fn relock(
    request: &Request,
    files: &dyn FileSource,
    ctx: &Context,
) -> Result<Done, RelockError> {
    let lock = required(files, &request.lockfile)?;
    let manifest_path = request.beside("pyproject.toml");
    let manifest = required(files, &manifest_path)?;
    let mut pinned: Table = manifest
        .parse()
        .map_err(|e| RelockError::Unsupported(format!("{manifest_path} is not valid TOML: {e}")))?;
    pin(&mut pinned, &request.package, &request.to).ok_or_else(|| {
        RelockError::Unsupported(format!(
            "{manifest_path} has neither [project] dependencies nor [tool.poetry.dependencies]"
        ))
    })?;
    ctx.write(&request.lockfile, lock.as_bytes())?;
    ctx.write(&manifest_path, manifest.as_bytes())?;
    let home = ctx.home.to_string_lossy().into_owned();
    let cache = format!("{home}/poetry-cache");
    let config = format!("{home}/poetry-config");
    let env = [
        ("POETRY_CACHE_DIR", cache.as_str()),
        ("POETRY_CONFIG_DIR", config.as_str()),
        ("POETRY_NO_INTERACTION", "1"),
        ("POETRY_VIRTUALENVS_CREATE", "false"),
        ("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring"),
        ("PIP_CONFIG_FILE", "/dev/null"),
    ];
    let dir = request.dir();
    let text = toml::to_string(&pinned).map_err(|e| RelockError::Io(e.to_string()))?;
    ctx.write(&manifest_path, text.as_bytes())?;
    let run = ctx.run(dir, &["lock"], &env);
    // The pin only named the exact version: the project's manifest stays as it was.
    ctx.write(&manifest_path, manifest.as_bytes())?;
    run?;
    ctx.run(dir, &["lock"], &env)?;
    ctx.verify(dir, &["check", "--lock"], &env, "poetry.lock")?;
    let new_lock = ctx.read(&request.lockfile)?;
    Ok(Done {
        command: format!(
            "poetry lock (with a temporary requirement {}=={})",
            request.package, request.to
        ),
        files: vec![(request.lockfile.clone(), lock, new_lock)],
    })
}

/// Adds `name==version` to the project's requirements: PEP 621 `[project] dependencies` (where
/// requirements intersect) or Poetry's own `[tool.poetry.dependencies]` table.
fn pin(pyproject: &mut Table, name: &str, version: &str) -> Option<()> {
    if let Some(Value::Array(deps)) = pyproject
        .get_mut("project")
        .and_then(|p| p.as_table_mut())
        .and_then(|p| p.get_mut("dependencies"))
    {
        deps.push(Value::String(format!("{name}=={version}")));
        return Some(());
    }
    let deps = pyproject
        .get_mut("tool")?
        .as_table_mut()?
        .get_mut("poetry")?
        .as_table_mut()?
        .get_mut("dependencies")?
        .as_table_mut()?;
    deps.insert(name.to_string(), Value::String(format!("=={version}")));
    Some(())
}

#[cfg(test)]
mod tests {
    use super::pin;

    #[test]
    fn pins_go_where_the_project_declares_requirements() {
        let mut pep621: toml::Table = "[project]\nname = \"a\"\ndependencies = [\"mid>=1\"]\n"
            .parse()
            .unwrap();
        pin(&mut pep621, "leaf", "1.0.1").unwrap();
        assert_eq!(
            pep621["project"]["dependencies"].as_array().unwrap()[1].as_str(),
            Some("leaf==1.0.1")
        );
        let mut poetry: toml::Table = "[tool.poetry.dependencies]\npython = \"^3.9\"\n"
            .parse()
            .unwrap();
        pin(&mut poetry, "leaf", "1.0.1").unwrap();
        assert_eq!(
            poetry["tool"]["poetry"]["dependencies"]["leaf"].as_str(),
            Some("==1.0.1")
        );
        let mut neither: toml::Table = "[tool.black]\nline-length = 100\n".parse().unwrap();
        assert_eq!(pin(&mut neither, "leaf", "1.0.1"), None);
    }
}
