//! Re-locking composer.lock with the real Composer (Debian's, from scripts/relock-deps.sh)
//! against a static Composer repository (`packages.json` and dist zips) the test serves on
//! loopback, with Packagist turned off: nothing here reaches the internet. The re-lock is
//! compared byte for byte with what Composer writes itself when the target is the newest release.

mod relock_support;

use patchwright::manifest;
use patchwright::relock::{DirSource, Manager, Registries, Relocker, Request};
use relock_support::{ComposerRepo, assert_fixed, assert_scan_clean, copy_dir, write_advisory};
use std::path::Path;
use std::process::Command;

fn composer_bin() -> std::path::PathBuf {
    let bin = patchwright_find("composer");
    assert!(
        bin.is_some(),
        "composer is not on PATH: run scripts/relock-deps.sh"
    );
    bin.unwrap()
}

fn patchwright_find(tool: &str) -> Option<std::path::PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|d| d.join(tool))
        .find(|p| p.is_file())
}

/// Composer as a person runs it in the project, with a home and cache of its own.
fn composer(dir: &Path, home: &Path, args: &[&str]) {
    let out = Command::new(composer_bin())
        .args(args)
        .args([
            "--no-interaction",
            "--no-install",
            "--no-scripts",
            "--no-plugins",
        ])
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("COMPOSER_HOME", home.join("composer"))
        .env("COMPOSER_CACHE_DIR", home.join("cache"))
        .env("COMPOSER_NO_AUDIT", "1")
        .env("COMPOSER_ALLOW_SUPERUSER", "1")
        .output()
        .expect("composer runs");
    assert!(
        out.status.success(),
        "composer {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn locked(lock: &str, name: &str) -> Vec<String> {
    let mut v: Vec<String> = manifest::composer_lock::parse("composer.lock", lock)
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
        manager: Manager::Composer,
        lockfile: "site/composer.lock".into(),
        package: package.into(),
        from: from.into(),
        to: to.into(),
        direct,
    }
}

/// site → acme/mid ^1.0 → acme/leaf ^1.0, and acme/tip ~1.0.0, locked by Composer when only the
/// 1.0.0 releases exist.
fn project(repo: &ComposerRepo, root: &Path, home: &Path) -> String {
    repo.publish("acme/leaf", "1.0.0", &[]);
    repo.publish("acme/mid", "1.0.0", &[("acme/leaf", "^1.0")]);
    repo.publish("acme/tip", "1.0.0", &[]);
    let site = root.join("site");
    std::fs::create_dir_all(&site).unwrap();
    let manifest = format!(
        "{{\n    \"name\": \"acme/site\",\n    \"require\": {{\n        \"acme/mid\": \"^1.0\",\n        \"acme/tip\": \"~1.0.0\"\n    }},\n    \"repositories\": [\n        {{\"type\": \"composer\", \"url\": \"{}\"}},\n        {{\"packagist.org\": false}}\n    ],\n    \"config\": {{\"secure-http\": false}}\n}}\n",
        repo.server.url.trim_end_matches('/')
    );
    std::fs::write(site.join("composer.json"), &manifest).unwrap();
    composer(&site, home, &["update"]);
    manifest
}

fn read(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file)).unwrap()
}

#[test]
fn composer_relocks_an_exact_version_as_composer_resolves_it() {
    let registry = ComposerRepo::start();
    let home = tempfile::tempdir().unwrap();
    let repo = tempfile::tempdir().unwrap();
    let manifest = project(&registry, repo.path(), home.path());
    let original = read(repo.path(), "site/composer.lock");
    assert_eq!(locked(&original, "acme/leaf"), ["1.0.0"]);

    registry.publish("acme/leaf", "1.0.1", &[]);
    registry.publish("acme/tip", "1.0.1", &[]);
    let mut own = Vec::new();
    for name in ["acme/leaf", "acme/tip"] {
        let copy = tempfile::tempdir().unwrap();
        copy_dir(repo.path(), copy.path());
        let fresh = tempfile::tempdir().unwrap();
        composer(&copy.path().join("site"), fresh.path(), &["update", name]);
        own.push(read(copy.path(), "site/composer.lock"));
    }
    registry.publish("acme/leaf", "1.0.2", &[]);
    registry.publish("acme/tip", "1.0.2", &[]);

    let mut relocker = Relocker::from_env(Registries::default());
    relocker.path = std::env::var_os("PATH").unwrap_or_default();
    let files = DirSource::new(repo.path());
    for (i, (name, direct)) in [("acme/leaf", false), ("acme/tip", true)]
        .into_iter()
        .enumerate()
    {
        let done = relocker
            .relock(&request(name, "1.0.0", "1.0.1", direct), &files)
            .expect("composer re-lock");
        assert_eq!(done.files["site/composer.lock"], own[i], "{name}");
        assert_eq!(done.files.len(), 1, "composer.json stays as it was");
        let listed: Vec<String> = done.changes.iter().map(ToString::to_string).collect();
        assert_eq!(listed, [format!("{name} 1.0.0 → 1.0.1")]);
        assert!(
            done.command.contains(&format!("--with {name}:1.0.1")),
            "{}",
            done.command
        );
    }
    assert_eq!(read(repo.path(), "site/composer.lock"), original);
    assert_eq!(read(repo.path(), "site/composer.json"), manifest);
}

#[test]
fn fix_relocks_composer_lock_and_the_rescan_is_clean() {
    let registry = ComposerRepo::start();
    let home = tempfile::tempdir().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    project(&registry, &repo, home.path());
    registry.publish("acme/leaf", "1.0.1", &[]);
    registry.publish("acme/tip", "1.0.1", &[]);
    let advisories = tmp.path().join("advisories");
    write_advisory(
        &advisories,
        "GHSA-leaf-0001",
        "Packagist",
        "acme/leaf",
        "1.0.1",
    );
    write_advisory(
        &advisories,
        "GHSA-tip-0001",
        "Packagist",
        "acme/tip",
        "1.0.1",
    );
    let adv = advisories.to_str().unwrap();
    let run = |args: &[&str]| relock_support::patchwright(&repo, args, &[]);
    let out = run(&["fix", ".", "--advisories", adv]);
    assert_fixed(
        &out,
        &[
            "composer.lock (composer)",
            "re-locked acme/leaf 1.0.0 → 1.0.1",
            "re-locked acme/tip 1.0.0 → 1.0.1",
        ],
        "changed 1 file(s); blockers 2 → 0",
    );
    let lock = read(&repo, "site/composer.lock");
    assert_eq!(locked(&lock, "acme/leaf"), ["1.0.1"]);
    assert_eq!(locked(&lock, "acme/tip"), ["1.0.1"]);
    assert_scan_clean(&run(&["scan", ".", "--advisories", adv]));
}
