//! Re-locking pnpm-lock.yaml with the real pnpm (from scripts/relock-deps.sh) against Verdaccio on
//! loopback with no uplinks: the fixtures are published and locked by the test, nothing here
//! reaches the internet. Each re-lock is compared byte for byte with what pnpm writes itself
//! when the target is the newest release (`pnpm update NAME`), then a newer release is published
//! so an exact version, not "the newest", is what the re-lock must reach.

mod relock_support;

use patchwright::manifest;
use patchwright::relock::{DirSource, Manager, Registries, Relocker, Request};
use relock_support::{
    Verdaccio, assert_fixed, assert_scan_clean, copy_dir, test_deps, write_advisory,
};
use std::path::Path;
use std::process::Command;

fn pnpm_path() -> std::ffi::OsString {
    let mut dirs = vec![
        test_deps().join("pnpm/node_modules/.bin"),
        test_deps().join("node_modules/.bin"),
    ];
    dirs.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    std::env::join_paths(dirs).unwrap()
}

/// pnpm as a person runs it in the project, against the registry, with a HOME of its own.
fn pnpm(registry: &Verdaccio, dir: &Path, args: &[&str]) {
    let bin = test_deps().join("pnpm/node_modules/.bin/pnpm");
    assert!(
        bin.exists(),
        "{} is missing: run scripts/relock-deps.sh",
        bin.display()
    );
    let home = registry.dir.path().join("pnpm-home");
    let out = Command::new(bin)
        .args(args)
        .args(["--registry", &registry.url, "--ignore-scripts"])
        .current_dir(dir)
        .env_clear()
        .env("PATH", pnpm_path())
        .env("HOME", &home)
        .env("npm_config_store_dir", home.join("store"))
        .output()
        .expect("pnpm runs");
    assert!(
        out.status.success(),
        "pnpm {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn relocker(registry: &Verdaccio) -> Relocker {
    let mut r = Relocker::from_env(Registries {
        npm: Some(registry.url.clone()),
        ..Default::default()
    });
    r.path = pnpm_path();
    r
}

fn request(package: &str, from: &str, to: &str, direct: bool) -> Request {
    Request {
        manager: Manager::Pnpm,
        lockfile: "app/pnpm-lock.yaml".into(),
        package: package.into(),
        from: from.into(),
        to: to.into(),
        direct,
    }
}

fn locked(lock: &str, name: &str) -> Vec<String> {
    let mut v: Vec<String> = manifest::pnpm_lock::parse("pnpm-lock.yaml", lock)
        .dependencies
        .into_iter()
        .filter(|d| d.name == name)
        .filter_map(|d| d.version)
        .collect();
    v.sort();
    v
}

const MANIFEST: &str = "{\n  \"name\": \"app\",\n  \"version\": \"1.0.0\",\n  \"dependencies\": {\n    \"mid\": \"^1.0.0\"\n  },\n  \"devDependencies\": {\n    \"tip\": \"~1.0.0\"\n  }\n}\n";

/// app → mid ^1.0.0 → leaf ^1.0.0, and tip ~1.0.0 as a dev dependency, locked by pnpm when only
/// the 1.0.0 releases exist.
fn project(registry: &Verdaccio, root: &Path) {
    registry.publish("leaf", "1.0.0", &[]);
    registry.publish("mid", "1.0.0", &[("leaf", "^1.0.0")]);
    registry.publish("tip", "1.0.0", &[]);
    let app = root.join("app");
    std::fs::create_dir_all(&app).unwrap();
    std::fs::write(app.join("package.json"), MANIFEST).unwrap();
    pnpm(registry, &app, &["install", "--lockfile-only"]);
}

fn read(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file)).unwrap()
}

#[test]
fn pnpm_relocks_transitive_and_direct_entries_exactly_as_pnpm_does() {
    let registry = Verdaccio::start();
    let repo = tempfile::tempdir().unwrap();
    project(&registry, repo.path());
    let original = read(repo.path(), "app/pnpm-lock.yaml");
    assert_eq!(locked(&original, "leaf"), ["1.0.0"]);

    // pnpm's own results when 1.0.1 is the newest release.
    registry.publish("leaf", "1.0.1", &[]);
    registry.publish("tip", "1.0.1", &[]);
    let own_leaf = tempfile::tempdir().unwrap();
    copy_dir(repo.path(), own_leaf.path());
    pnpm(
        &registry,
        &own_leaf.path().join("app"),
        &["update", "leaf", "--lockfile-only"],
    );
    let own_tip = tempfile::tempdir().unwrap();
    copy_dir(repo.path(), own_tip.path());
    pnpm(
        &registry,
        &own_tip.path().join("app"),
        &["update", "tip", "--lockfile-only"],
    );
    // Newer releases must not be what the re-lock reaches.
    registry.publish("leaf", "1.0.2", &[]);
    registry.publish("tip", "1.0.2", &[]);
    let relocker = relocker(&registry);
    let files = DirSource::new(repo.path());

    let done = relocker
        .relock(&request("leaf", "1.0.0", "1.0.1", false), &files)
        .expect("transitive re-lock");
    assert_eq!(
        done.files["app/pnpm-lock.yaml"],
        read(own_leaf.path(), "app/pnpm-lock.yaml")
    );
    assert_eq!(done.files.len(), 1, "package.json stays as it was");
    let listed: Vec<String> = done.changes.iter().map(ToString::to_string).collect();
    assert_eq!(listed, ["leaf 1.0.0 → 1.0.1"]);
    assert!(
        done.command.contains("\"leaf@1.0.0\": \"1.0.1\""),
        "{}",
        done.command
    );

    let done = relocker
        .relock(&request("tip", "1.0.0", "1.0.1", true), &files)
        .expect("direct re-lock");
    assert_eq!(
        done.files["app/pnpm-lock.yaml"],
        read(own_tip.path(), "app/pnpm-lock.yaml")
    );
    // The range keeps its `~` and its place among the dev dependencies.
    assert_eq!(
        done.files["app/package.json"],
        read(own_tip.path(), "app/package.json")
    );
    assert!(done.files["app/package.json"].contains("\"tip\": \"~1.0.1\""));
    let listed: Vec<String> = done.changes.iter().map(ToString::to_string).collect();
    assert_eq!(listed, ["tip 1.0.0 → 1.0.1"]);

    // The repository itself was never touched.
    assert_eq!(read(repo.path(), "app/pnpm-lock.yaml"), original);
    assert_eq!(read(repo.path(), "app/package.json"), MANIFEST);
}

#[test]
fn a_version_the_registry_lacks_is_a_failure_with_pnpms_words() {
    let registry = Verdaccio::start();
    let repo = tempfile::tempdir().unwrap();
    project(&registry, repo.path());
    let err = relocker(&registry)
        .relock(
            &request("leaf", "1.0.0", "1.0.9", false),
            &DirSource::new(repo.path()),
        )
        .unwrap_err()
        .to_string();
    assert!(err.contains("pnpm install --lockfile-only"), "{err}");
    assert!(err.contains("1.0.9"), "{err}");
}

fn patchwright(args: &[&str], dir: &Path, registry: &Verdaccio) -> std::process::Output {
    let path = pnpm_path();
    relock_support::patchwright(
        dir,
        args,
        &[
            ("PATH", path.as_ref()),
            ("PATCHWRIGHT_NPM_REGISTRY", registry.url.as_ref()),
        ],
    )
}

#[test]
fn fix_relocks_pnpm_lock_and_the_rescan_is_clean() {
    let registry = Verdaccio::start();
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    project(&registry, &repo);
    registry.publish("leaf", "1.0.1", &[]);
    registry.publish("tip", "1.0.1", &[]);
    let advisories = tmp.path().join("advisories");
    write_advisory(&advisories, "GHSA-leaf-0001", "npm", "leaf", "1.0.1");
    write_advisory(&advisories, "GHSA-tip-0001", "npm", "tip", "1.0.1");
    let adv = advisories.to_str().unwrap();

    let out = patchwright(&["fix", ".", "--advisories", adv], &repo, &registry);
    assert_fixed(
        &out,
        &[
            "pnpm-lock.yaml (pnpm)",
            "re-locked leaf 1.0.0 → 1.0.1",
            "re-locked tip 1.0.0 → 1.0.1",
        ],
        "changed 2 file(s); blockers 2 → 0",
    );
    let lock = read(&repo, "app/pnpm-lock.yaml");
    assert_eq!(locked(&lock, "leaf"), ["1.0.1"]);
    assert_eq!(locked(&lock, "tip"), ["1.0.1"]);
    // Both fixes applied together are still what pnpm accepts as up to date.
    pnpm(
        &registry,
        &repo.join("app"),
        &["install", "--frozen-lockfile", "--lockfile-only"],
    );
    assert_scan_clean(&patchwright(
        &["scan", ".", "--advisories", adv],
        &repo,
        &registry,
    ));
}

#[test]
fn a_workspace_member_is_relocked_in_its_own_folder() {
    let registry = Verdaccio::start();
    registry.publish("leaf", "1.0.0", &[]);
    registry.publish("mid", "1.0.0", &[("leaf", "^1.0.0")]);
    registry.publish("tip", "1.0.0", &[]);
    let repo = tempfile::tempdir().unwrap();
    let root = repo.path().join("app");
    std::fs::create_dir_all(root.join("packages/ui")).unwrap();
    std::fs::write(
        root.join("package.json"),
        "{\n  \"name\": \"root\",\n  \"private\": true\n}\n",
    )
    .unwrap();
    std::fs::write(
        root.join("pnpm-workspace.yaml"),
        "packages:\n  - 'packages/*'\n",
    )
    .unwrap();
    let member = "{\n  \"name\": \"ui\",\n  \"version\": \"1.0.0\",\n  \"dependencies\": {\n    \"mid\": \"^1.0.0\",\n    \"tip\": \"1.0.0\"\n  }\n}\n";
    std::fs::write(root.join("packages/ui/package.json"), member).unwrap();
    pnpm(&registry, &root, &["install", "--lockfile-only"]);

    registry.publish("leaf", "1.0.1", &[]);
    let own = tempfile::tempdir().unwrap();
    copy_dir(repo.path(), own.path());
    pnpm(
        &registry,
        &own.path().join("app"),
        &["update", "leaf", "--recursive", "--lockfile-only"],
    );
    registry.publish("leaf", "1.0.2", &[]);
    registry.publish("tip", "1.0.1", &[]);
    registry.publish("tip", "1.0.2", &[]);

    let relocker = relocker(&registry);
    let files = DirSource::new(repo.path());
    let done = relocker
        .relock(&request("leaf", "1.0.0", "1.0.1", false), &files)
        .expect("transitive re-lock in a workspace");
    assert_eq!(
        done.files["app/pnpm-lock.yaml"],
        read(own.path(), "app/pnpm-lock.yaml")
    );
    assert_eq!(done.files.len(), 1);

    // An exact pin in a member stays exact, in the member's package.json.
    let done = relocker
        .relock(&request("tip", "1.0.0", "1.0.1", true), &files)
        .expect("direct re-lock in a workspace member");
    assert!(done.command.contains("--save-exact"), "{}", done.command);
    assert_eq!(
        done.files["app/packages/ui/package.json"],
        member.replace("\"tip\": \"1.0.0\"", "\"tip\": \"1.0.1\"")
    );
    assert_eq!(locked(&done.files["app/pnpm-lock.yaml"], "tip"), ["1.0.1"]);
    let listed: Vec<String> = done.changes.iter().map(ToString::to_string).collect();
    assert_eq!(listed, ["tip 1.0.0 → 1.0.1"]);
}
