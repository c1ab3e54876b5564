//! Re-locking uv.lock with the real uv (from scripts/relock-deps.sh) against pypiserver on
//! loopback, with wheels the test writes: nothing here reaches the internet. The re-lock is
//! compared byte for byte with what uv writes itself when the target is the newest release.

mod relock_support;

use patchwright::manifest;
use patchwright::relock::{DirSource, Manager, Registries, Relocker, Request};
use relock_support::{
    PyPiServer, assert_fixed, assert_scan_clean, copy_dir, test_deps, write_advisory,
};
use std::path::Path;
use std::process::Command;

fn uv_path() -> std::ffi::OsString {
    let mut dirs = vec![test_deps().join("uv/bin")];
    dirs.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    std::env::join_paths(dirs).unwrap()
}

/// uv as a person runs it in the project, with a cache of its own (`cache` names a fresh one,
/// so an index page seen before a publish is not reused).
fn uv(index: &PyPiServer, dir: &Path, cache: &str, args: &[&str]) {
    let bin = test_deps().join("uv/bin/uv");
    assert!(
        bin.exists(),
        "{} is missing: run scripts/relock-deps.sh",
        bin.display()
    );
    let home = index.dir.path().join("uv-home");
    let out = Command::new(bin)
        .args(args)
        .args(["--default-index", &index.simple])
        .current_dir(dir)
        .env_clear()
        .env("PATH", uv_path())
        .env("HOME", &home)
        .env("UV_CACHE_DIR", home.join(cache))
        .env("UV_PYTHON_DOWNLOADS", "never")
        .output()
        .expect("uv runs");
    assert!(
        out.status.success(),
        "uv {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn locked(lock: &str, name: &str) -> Vec<String> {
    let mut v: Vec<String> = manifest::uv_lock::parse("uv.lock", lock)
        .dependencies
        .into_iter()
        .filter(|d| d.name == name)
        .filter_map(|d| d.version)
        .collect();
    v.sort();
    v
}

fn request(package: &str, from: &str, to: &str, direct: bool) -> Request {
    Request {
        manager: Manager::Uv,
        lockfile: "svc/uv.lock".into(),
        package: package.into(),
        from: from.into(),
        to: to.into(),
        direct,
    }
}

const PYPROJECT: &str = "[project]\nname = \"app\"\nversion = \"0.1.0\"\nrequires-python = \">=3.9\"\ndependencies = [\"mid>=1.0\", \"tip>=1.0,<2\"]\n";

/// app → mid → leaf, and tip direct, locked by uv when only the 1.0.0 releases exist.
fn project(index: &PyPiServer, root: &Path) {
    index.publish("leaf", "1.0.0", &[]);
    index.publish("mid", "1.0.0", &["leaf>=1.0,<2"]);
    index.publish("tip", "1.0.0", &[]);
    let svc = root.join("svc");
    std::fs::create_dir_all(&svc).unwrap();
    std::fs::write(svc.join("pyproject.toml"), PYPROJECT).unwrap();
    uv(index, &svc, "cache-0", &["lock"]);
}

fn read(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file)).unwrap()
}

#[test]
fn uv_relocks_an_exact_version_as_uv_resolves_it() {
    let index = PyPiServer::start();
    let repo = tempfile::tempdir().unwrap();
    project(&index, repo.path());
    let original = read(repo.path(), "svc/uv.lock");
    assert_eq!(locked(&original, "leaf"), ["1.0.0"]);

    index.publish("leaf", "1.0.1", &[]);
    index.publish("tip", "1.0.1", &[]);
    let mut own = Vec::new();
    for (i, name) in ["leaf", "tip"].iter().enumerate() {
        let copy = tempfile::tempdir().unwrap();
        copy_dir(repo.path(), copy.path());
        let cache = format!("cache-own-{i}");
        uv(
            &index,
            &copy.path().join("svc"),
            &cache,
            &["lock", "--upgrade-package", name],
        );
        own.push(read(copy.path(), "svc/uv.lock"));
    }
    index.publish("leaf", "1.0.2", &[]);
    index.publish("tip", "1.0.2", &[]);

    let mut relocker = Relocker::from_env(Registries {
        pypi: Some(index.simple.clone()),
        ..Default::default()
    });
    relocker.path = uv_path();
    let files = DirSource::new(repo.path());
    for (i, (name, direct)) in [("leaf", false), ("tip", true)].into_iter().enumerate() {
        let done = relocker
            .relock(&request(name, "1.0.0", "1.0.1", direct), &files)
            .expect("uv re-lock");
        assert_eq!(done.files["svc/uv.lock"], own[i], "{name}");
        assert_eq!(done.files.len(), 1, "pyproject.toml stays as it was");
        let listed: Vec<String> = done.changes.iter().map(ToString::to_string).collect();
        assert_eq!(listed, [format!("{name} 1.0.0 → 1.0.1")]);
        assert!(
            done.command
                .contains(&format!("--upgrade-package {name}==1.0.1")),
            "{}",
            done.command
        );
    }
    assert_eq!(read(repo.path(), "svc/uv.lock"), original);
}

#[test]
fn a_target_the_project_excludes_is_a_failure_with_uvs_words() {
    let index = PyPiServer::start();
    let repo = tempfile::tempdir().unwrap();
    project(&index, repo.path());
    index.publish("tip", "2.0.0", &[]);
    let mut relocker = Relocker::from_env(Registries {
        pypi: Some(index.simple.clone()),
        ..Default::default()
    });
    relocker.path = uv_path();
    let err = relocker
        .relock(
            &request("tip", "1.0.0", "2.0.0", true),
            &DirSource::new(repo.path()),
        )
        .unwrap_err()
        .to_string();
    // pyproject.toml says `tip<2`: uv keeps 1.0.0, and the note says so.
    assert!(
        err.contains("left tip at 1.0.0 instead of 2.0.0") || err.contains("uv lock"),
        "{err}"
    );
}

#[test]
fn fix_relocks_uv_lock_and_the_rescan_is_clean() {
    let index = PyPiServer::start();
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    project(&index, &repo);
    index.publish("leaf", "1.0.1", &[]);
    index.publish("tip", "1.0.1", &[]);
    let advisories = tmp.path().join("advisories");
    write_advisory(&advisories, "PYSEC-leaf-1", "PyPI", "leaf", "1.0.1");
    write_advisory(&advisories, "PYSEC-tip-1", "PyPI", "tip", "1.0.1");
    let adv = advisories.to_str().unwrap();
    let path = uv_path();
    let pypi_index = index.simple.clone();
    let run = |args: &[&str]| {
        relock_support::patchwright(
            &repo,
            args,
            &[
                ("PATH", path.as_ref()),
                ("PATCHWRIGHT_PYPI_INDEX", pypi_index.as_ref()),
            ],
        )
    };
    let out = run(&["fix", ".", "--advisories", adv]);
    assert_fixed(
        &out,
        &[
            "uv.lock (uv)",
            "re-locked leaf 1.0.0 → 1.0.1",
            "re-locked tip 1.0.0 → 1.0.1",
        ],
        "changed 1 file(s); blockers 2 → 0",
    );
    let lock = read(&repo, "svc/uv.lock");
    assert_eq!(locked(&lock, "leaf"), ["1.0.1"]);
    assert_eq!(locked(&lock, "tip"), ["1.0.1"]);
    // Both re-locks applied together: uv agrees the lockfile is up to date.
    uv(
        &index,
        &repo.join("svc"),
        "cache-check",
        &["lock", "--locked"],
    );
    assert_scan_clean(&run(&["scan", ".", "--advisories", adv]));
}
