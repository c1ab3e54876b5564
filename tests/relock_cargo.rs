//! Re-locking Cargo.lock with the real cargo against a sparse index served on loopback by the
//! test (crates.io replaced through `--config`): nothing here reaches the internet.

mod relock_support;

use patchwright::manifest;
use patchwright::relock::{DirSource, Manager, Registries, Relocker, Request};
use relock_support::{CratesRegistry, write_advisory};
use std::path::Path;
use std::process::Command;

fn locked(lock: &str, name: &str) -> Vec<String> {
    let mut v: Vec<String> = manifest::cargo_lock::parse("Cargo.lock", lock)
        .dependencies
        .into_iter()
        .filter(|d| d.name == name)
        .filter_map(|d| d.version)
        .collect();
    v.sort();
    v
}

/// A workspace (`crates/*`) whose member `app` uses `mid` (which needs `leaf ^1.0`) and `dlib`,
/// locked while only the 1.0.0 releases exist.
fn workspace(registry: &CratesRegistry, root: &Path) {
    registry.publish("leaf", "1.0.0", &[]);
    registry.publish("mid", "1.0.0", &[("leaf", "^1.0")]);
    registry.publish("dlib", "1.0.0", &[]);
    std::fs::create_dir_all(root.join("crates/app/src")).unwrap();
    std::fs::create_dir_all(root.join("crates/util/src")).unwrap();
    std::fs::write(
        root.join("Cargo.toml"),
        "[workspace]\nmembers = [\"crates/*\"]\nresolver = \"2\"\n",
    )
    .unwrap();
    std::fs::write(
        root.join("crates/app/Cargo.toml"),
        "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[[bin]]\nname = \"app\"\npath = \"src/main.rs\"\n\n[dependencies]\nmid = \"1\"\ndlib = \"1.0\"\nutil = { path = \"../util\" }\n",
    )
    .unwrap();
    std::fs::write(root.join("crates/app/src/main.rs"), "fn main() {}\n").unwrap();
    std::fs::write(
        root.join("crates/util/Cargo.toml"),
        "[package]\nname = \"util\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    )
    .unwrap();
    std::fs::write(root.join("crates/util/src/lib.rs"), "").unwrap();
    let out = registry.cargo(root, &["generate-lockfile"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for v in ["1.0.1", "1.0.2", "1.1.0"] {
        registry.publish("leaf", v, &[]);
    }
    registry.publish("dlib", "1.0.1", &[]);
}

fn relocker(registry: &CratesRegistry) -> Relocker {
    relock_support::relocker(Registries {
        crates: Some(registry.index()),
        ..Default::default()
    })
}

#[test]
fn cargo_relocks_exact_versions_and_the_lock_verifies() {
    let registry = CratesRegistry::start();
    let repo = tempfile::tempdir().unwrap();
    workspace(&registry, repo.path());
    let original = std::fs::read_to_string(repo.path().join("Cargo.lock")).unwrap();
    assert_eq!(locked(&original, "leaf"), ["1.0.0"]);

    let request = |package: &str, to: &str, direct: bool| Request {
        manager: Manager::Cargo,
        lockfile: "Cargo.lock".into(),
        package: package.into(),
        from: "1.0.0".into(),
        to: to.into(),
        direct,
    };
    let relocker = relocker(&registry);
    let files = DirSource::new(repo.path());
    // Transitive: exactly 1.0.1 although 1.0.2 and 1.1.0 exist; nothing else moves.
    let done = relocker
        .relock(&request("leaf", "1.0.1", false), &files)
        .expect("transitive re-lock");
    let listed: Vec<String> = done.changes.iter().map(ToString::to_string).collect();
    assert_eq!(listed, ["leaf 1.0.0 → 1.0.1"]);
    assert_eq!(done.command, "cargo update -p leaf@1.0.0 --precise 1.0.1");
    let new = &done.files["Cargo.lock"];
    assert!(
        new.contains("source = \"registry+https://github.com/rust-lang/crates.io-index\""),
        "crates.io stays the recorded source:\n{new}"
    );
    // Only the version and checksum lines changed.
    let changed_lines = original
        .lines()
        .zip(new.lines())
        .filter(|(a, b)| a != b)
        .count();
    assert_eq!(changed_lines, 2, "{new}");
    assert_eq!(original.lines().count(), new.lines().count());

    // cargo's own check on the result: the lock is complete and consistent.
    let checked = tempfile::tempdir().unwrap();
    relock_support::copy_dir(repo.path(), checked.path());
    std::fs::write(checked.path().join("Cargo.lock"), new).unwrap();
    let out = registry.cargo(
        checked.path(),
        &["metadata", "--locked", "--format-version", "1"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Direct, and a failure: a version that was never published.
    let done = relocker
        .relock(&request("dlib", "1.0.1", true), &files)
        .expect("direct re-lock");
    assert_eq!(locked(&done.files["Cargo.lock"], "dlib"), ["1.0.1"]);
    let err = relocker
        .relock(&request("leaf", "7.0.0", false), &files)
        .unwrap_err()
        .to_string();
    assert!(err.contains("7.0.0"), "{err}");
    // The checkout was never touched.
    assert_eq!(
        std::fs::read_to_string(repo.path().join("Cargo.lock")).unwrap(),
        original
    );
}

#[test]
fn fix_relocks_cargo_lock_from_the_cli() {
    let registry = CratesRegistry::start();
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    workspace(&registry, &repo);
    let advisories = tmp.path().join("advisories");
    write_advisory(
        &advisories,
        "RUSTSEC-2099-0001",
        "crates.io",
        "leaf",
        "1.0.1",
    );
    let out = Command::new(env!("CARGO_BIN_EXE_patchwright"))
        .args(["fix", ".", "--advisories", advisories.to_str().unwrap()])
        .args(["--crates-registry", &registry.index()])
        .current_dir(&repo)
        .env_remove("PATCHWRIGHT_CONFIG")
        .env_remove("PATCHWRIGHT_CATALOG")
        .output()
        .unwrap();
    let (text, err) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(0), "{text}{err}");
    assert!(
        text.contains("changed 1 file(s); blockers 1 → 0"),
        "{text}{err}"
    );
    assert!(
        err.contains("re-locked leaf 1.0.0 → 1.0.1 (Cargo.lock, ")
            && err.contains(" s): leaf 1.0.0 → 1.0.1"),
        "{err}"
    );
    let lock = std::fs::read_to_string(repo.join("Cargo.lock")).unwrap();
    assert_eq!(locked(&lock, "leaf"), ["1.0.1"]);
    let out = registry.cargo(&repo, &["metadata", "--locked", "--format-version", "1"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
