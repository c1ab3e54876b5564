//! Re-locking poetry.lock with the real Poetry (from scripts/relock-deps.sh) against pypiserver
//! on loopback, with wheels the test writes: nothing here reaches the internet.

mod relock_support;

use patchwright::manifest;
use patchwright::relock::{DirSource, Manager, Registries, Request};
use relock_support::{PyPiServer, copy_dir, ok};

fn locked(lock: &str, name: &str) -> Vec<String> {
    let mut v: Vec<String> = manifest::poetry_lock::parse("poetry.lock", lock)
        .dependencies
        .into_iter()
        .filter(|d| d.name == name)
        .filter_map(|d| d.version)
        .collect();
    v.sort();
    v
}

#[test]
fn poetry_relocks_an_exact_version_as_poetry_resolves_it() {
    let index = PyPiServer::start();
    index.publish("leaf", "1.0.0", &[]);
    index.publish("mid", "1.0.0", &["leaf>=1.0,<2"]);
    let repo = tempfile::tempdir().unwrap();
    let pyproject = format!(
        "[project]\nname = \"app\"\nversion = \"0.1.0\"\nrequires-python = \">=3.9\"\ndependencies = [\"mid>=1.0\"]\n\n[tool.poetry]\npackage-mode = false\n\n[[tool.poetry.source]]\nname = \"local\"\nurl = \"{}\"\npriority = \"primary\"\n",
        index.simple
    );
    std::fs::write(repo.path().join("pyproject.toml"), &pyproject).unwrap();
    ok(index.poetry(repo.path(), "cache-1", &["lock"]));
    let original = std::fs::read_to_string(repo.path().join("poetry.lock")).unwrap();
    assert_eq!(locked(&original, "leaf"), ["1.0.0"]);

    // Poetry's own result when 1.0.1 is the newest leaf.
    index.publish("leaf", "1.0.1", &[]);
    let reference = tempfile::tempdir().unwrap();
    copy_dir(repo.path(), reference.path());
    ok(index.poetry(reference.path(), "cache-2", &["update", "leaf", "--lock"]));
    let poetry_own = std::fs::read_to_string(reference.path().join("poetry.lock")).unwrap();
    assert_eq!(locked(&poetry_own, "leaf"), ["1.0.1"]);

    index.publish("leaf", "1.0.2", &[]);
    let relocker = relock_support::relocker(Registries::default());
    let request = Request {
        manager: Manager::Poetry,
        lockfile: "poetry.lock".into(),
        package: "leaf".into(),
        from: "1.0.0".into(),
        to: "1.0.1".into(),
        direct: false,
    };
    let done = relocker
        .relock(&request, &DirSource::new(repo.path()))
        .expect("poetry re-lock");
    assert_eq!(done.files["poetry.lock"], poetry_own);
    let listed: Vec<String> = done.changes.iter().map(ToString::to_string).collect();
    assert_eq!(listed, ["leaf 1.0.0 → 1.0.1"]);
    assert_eq!(done.files.len(), 1, "pyproject.toml is left as it was");
    assert_eq!(
        std::fs::read_to_string(repo.path().join("poetry.lock")).unwrap(),
        original
    );
}
