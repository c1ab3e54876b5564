//! Re-locking Pipfile.lock with the real pipenv (from scripts/relock-deps.sh) against pypiserver
//! on loopback, with wheels the test writes: nothing here reaches the internet. pipenv has no
//! command that moves one package and leaves the Pipfile alone, so each re-lock is compared
//! byte for byte with what `pipenv lock` writes itself at a moment when the target is the only
//! package with a newer release; by the time patchwright re-locks, every package has newer
//! releases, so anything but the target (and what its new version needs) moving shows.

mod relock_support;

use patchwright::manifest;
use patchwright::relock::{DirSource, Manager, Registries, Relocker, Request};
use relock_support::{
    PyPiServer, assert_fixed, assert_scan_clean, copy_dir, test_deps, write_advisory,
};
use std::path::Path;
use std::process::Command;

fn pipenv_path() -> std::ffi::OsString {
    let mut dirs = vec![test_deps().join("pipenv/bin")];
    dirs.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    std::env::join_paths(dirs).unwrap()
}

/// pipenv as a person runs it in the project, with a HOME, virtualenvs and a cache of the
/// test's own (`cache` names a fresh cache, so an index page seen before a publish is not
/// reused). Returns whether it succeeded, and what it printed.
fn pipenv_status(index: &PyPiServer, dir: &Path, cache: &str, args: &[&str]) -> (bool, String) {
    let bin = test_deps().join("pipenv/bin/pipenv");
    assert!(
        bin.exists(),
        "{} is missing: run scripts/relock-deps.sh",
        bin.display()
    );
    let home = index.dir.path().join("pipenv-home");
    let mut command = Command::new(bin);
    if args == ["lock"] {
        // As patchwright runs it: resolving needs no pip or setuptools in the virtualenv.
        command
            .env("VIRTUALENV_NO_PIP", "1")
            .env("VIRTUALENV_NO_SETUPTOOLS", "1");
    }
    let out = command
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", pipenv_path())
        .env("HOME", &home)
        .env("WORKON_HOME", home.join("venvs"))
        .env("PIPENV_CACHE_DIR", home.join(cache))
        .env("PIPENV_YES", "1")
        .env("PIPENV_NOSPIN", "1")
        .env("PIPENV_IGNORE_VIRTUALENVS", "1")
        .env("PIP_CONFIG_FILE", "/dev/null")
        .output()
        .expect("pipenv runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn pipenv(index: &PyPiServer, dir: &Path, cache: &str, args: &[&str]) {
    let (ok, text) = pipenv_status(index, dir, cache, args);
    assert!(ok, "pipenv {args:?}: {text}");
}

fn locked(lock: &str, name: &str) -> Vec<String> {
    let mut v: Vec<String> = manifest::pipfile_lock::parse("Pipfile.lock", lock)
        .dependencies
        .into_iter()
        .filter(|d| d.name == name)
        .filter_map(|d| d.version)
        .collect();
    v.sort();
    v
}

fn request(package: &str, from: &str, to: &str) -> Request {
    Request {
        manager: Manager::Pipenv,
        lockfile: "svc/Pipfile.lock".into(),
        package: package.into(),
        from: from.into(),
        to: to.into(),
        direct: false,
    }
}

/// The project's Pipfile: mid (→ leaf) and tip declared, other a development package.
fn pipfile(index: &PyPiServer) -> String {
    format!(
        "[[source]]\nurl = \"{}\"\nverify_ssl = false\nname = \"local\"\n\n[packages]\nmid = \">=1.0\"\ntip = \"<2,>=1.0\"\n\n[dev-packages]\nother = \"*\"\n",
        index.simple
    )
}

/// app → mid → leaf, tip direct and other for development, locked by pipenv when only the
/// 1.0.0 releases exist.
fn project(index: &PyPiServer, root: &Path) {
    index.publish("leaf", "1.0.0", &[]);
    index.publish("mid", "1.0.0", &["leaf>=1.0,<2"]);
    index.publish("tip", "1.0.0", &[]);
    index.publish("other", "1.0.0", &[]);
    let svc = root.join("svc");
    std::fs::create_dir_all(&svc).unwrap();
    std::fs::write(svc.join("Pipfile"), pipfile(index)).unwrap();
    pipenv(index, &svc, "cache-0", &["lock"]);
}

/// pipenv's own `pipenv lock` of a copy of `repo` as the index is now.
fn own_lock(index: &PyPiServer, repo: &Path, cache: &str) -> String {
    let copy = tempfile::tempdir().unwrap();
    copy_dir(repo, copy.path());
    pipenv(index, &copy.path().join("svc"), cache, &["lock"]);
    read(copy.path(), "svc/Pipfile.lock")
}

fn read(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file)).unwrap()
}

/// A relocker that finds pipenv; the index is the one the Pipfile names.
fn relocker() -> Relocker {
    let mut relocker = Relocker::from_env(Registries::default());
    relocker.path = pipenv_path();
    relocker
}

#[test]
fn pipenv_relocks_one_package_as_pipenv_resolves_it_and_keeps_the_pipfile() {
    let index = PyPiServer::start();
    let repo = tempfile::tempdir().unwrap();
    project(&index, repo.path());
    let original = read(repo.path(), "svc/Pipfile.lock");
    let pipfile_before = read(repo.path(), "svc/Pipfile");
    assert_eq!(locked(&original, "leaf"), ["1.0.0"]);

    // leaf 1.0.1 needs a package the lock does not have yet: it comes in with it.
    index.publish("extra", "1.0.0", &[]);
    index.publish("leaf", "1.0.1", &["extra>=1.0"]);
    let own_leaf = own_lock(&index, repo.path(), "cache-own-leaf");
    index.publish("tip", "1.0.1", &[]);
    let own_both = own_lock(&index, repo.path(), "cache-own-both");
    // Now every package has a newer release than the one each fix asks for.
    for name in ["leaf", "tip", "mid", "other"] {
        index.publish(name, "1.0.2", &[]);
    }

    let relocker = relocker();
    // Transitive: leaf is no Pipfile entry.
    let done = relocker
        .relock(
            &request("leaf", "1.0.0", "1.0.1"),
            &DirSource::new(repo.path()),
        )
        .expect("pipenv re-lock of a transitive package");
    assert_eq!(done.files["svc/Pipfile.lock"], own_leaf);
    assert_eq!(done.files.len(), 1, "the Pipfile stays as it was");
    let listed: Vec<String> = done.changes.iter().map(ToString::to_string).collect();
    assert_eq!(listed, ["extra 1.0.0 (added)", "leaf 1.0.0 → 1.0.1"]);
    assert!(done.command.contains("leaf==1.0.1"), "{}", done.command);
    assert_eq!(read(repo.path(), "svc/Pipfile.lock"), original);

    // Direct: tip is declared in the Pipfile (`<2,>=1.0`), from the lock the first fix left.
    let after_leaf = tempfile::tempdir().unwrap();
    copy_dir(repo.path(), after_leaf.path());
    std::fs::write(after_leaf.path().join("svc/Pipfile.lock"), &own_leaf).unwrap();
    let done = relocker
        .relock(
            &request("tip", "1.0.0", "1.0.1"),
            &DirSource::new(after_leaf.path()),
        )
        .expect("pipenv re-lock of a declared package");
    assert_eq!(done.files["svc/Pipfile.lock"], own_both);
    let listed: Vec<String> = done.changes.iter().map(ToString::to_string).collect();
    assert_eq!(listed, ["tip 1.0.0 → 1.0.1"]);
    assert_eq!(read(after_leaf.path(), "svc/Pipfile"), pipfile_before);

    // pipenv accepts the result with the user's Pipfile.
    std::fs::write(
        after_leaf.path().join("svc/Pipfile.lock"),
        &done.files["svc/Pipfile.lock"],
    )
    .unwrap();
    pipenv(
        &index,
        &after_leaf.path().join("svc"),
        "cache-verify",
        &["verify"],
    );
}

#[test]
fn a_lockfile_already_out_of_date_is_refused_with_the_command_to_run() {
    let index = PyPiServer::start();
    let repo = tempfile::tempdir().unwrap();
    project(&index, repo.path());
    index.publish("leaf", "1.0.1", &[]);
    // Someone added a package to the Pipfile without locking.
    let svc = repo.path().join("svc");
    let edited = read(&svc, "Pipfile").replace("other = \"*\"", "other = \"*\"\nleaf = \"*\"");
    std::fs::write(svc.join("Pipfile"), edited).unwrap();
    let err = relocker()
        .relock(
            &request("leaf", "1.0.0", "1.0.1"),
            &DirSource::new(repo.path()),
        )
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("svc/Pipfile.lock was already out of date with svc/Pipfile")
            && err.contains("run `pipenv lock`"),
        "{err}"
    );
}

#[test]
fn fix_relocks_pipfile_lock_and_the_rescan_is_clean() {
    let index = PyPiServer::start();
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    project(&index, &repo);
    index.publish("leaf", "1.0.1", &[]);
    index.publish("tip", "1.0.1", &[]);
    index.publish("other", "1.0.1", &[]);
    let advisories = tmp.path().join("advisories");
    write_advisory(&advisories, "PYSEC-leaf-1", "PyPI", "leaf", "1.0.1");
    write_advisory(&advisories, "PYSEC-tip-1", "PyPI", "tip", "1.0.1");
    let adv = advisories.to_str().unwrap();
    let path = pipenv_path();
    let run = |args: &[&str]| relock_support::patchwright(&repo, args, &[("PATH", path.as_ref())]);
    let pipfile_before = read(&repo, "svc/Pipfile");
    let out = run(&["fix", ".", "--advisories", adv]);
    assert_fixed(
        &out,
        &[
            "Pipfile.lock (pipenv)",
            "re-locked leaf 1.0.0 → 1.0.1",
            "re-locked tip 1.0.0 → 1.0.1",
        ],
        "changed 1 file(s); blockers 2 → 0",
    );
    let lock = read(&repo, "svc/Pipfile.lock");
    assert_eq!(locked(&lock, "leaf"), ["1.0.1"]);
    assert_eq!(locked(&lock, "tip"), ["1.0.1"]);
    // other has a newer release but no advisory: it stays.
    assert_eq!(locked(&lock, "other"), ["1.0.0"]);
    assert_eq!(read(&repo, "svc/Pipfile"), pipfile_before);
    // Both re-locks applied together: pipenv installs from the lockfile as CI would.
    pipenv(
        &index,
        &repo.join("svc"),
        "cache-deploy",
        &["install", "--deploy", "--dev"],
    );
    assert_scan_clean(&run(&["scan", ".", "--advisories", adv]));
}
