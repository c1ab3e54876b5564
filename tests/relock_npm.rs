//! Re-locking package-lock.json with the real npm against Verdaccio on loopback (no uplinks):
//! the fixtures are published by the tests, so nothing here reaches the internet.

mod relock_support;

use patchwright::manifest;
use patchwright::relock::{DirSource, Limits, Manager, Registries, RelockError, Relocker, Request};
use relock_support::{Verdaccio, copy_dir, path_with_test_deps, write_advisory};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

fn relocker(registry: &Verdaccio) -> Relocker {
    relock_support::relocker(Registries {
        npm: Some(registry.url.clone()),
        ..Default::default()
    })
}

fn request(package: &str, from: &str, to: &str, direct: bool) -> Request {
    Request {
        manager: Manager::Npm,
        lockfile: "app/package-lock.json".to_string(),
        package: package.to_string(),
        from: from.to_string(),
        to: to.to_string(),
        direct,
    }
}

/// Versions of `name` in a package-lock, as the project's own parser reads them.
fn locked(lock: &str, name: &str) -> Vec<String> {
    let mut v: Vec<String> = manifest::npm_lock::parse("package-lock.json", lock)
        .dependencies
        .into_iter()
        .filter(|d| d.name == name)
        .filter_map(|d| d.version)
        .collect();
    v.sort();
    v
}

/// leaf@1.0.0 reached through two parents (`^1.0.0` and `~1.0.0`), dlib@1.0.0 direct, locked
/// before any newer release exists.
fn project(registry: &Verdaccio, root: &Path, lockfile_version: &str) {
    let app = root.join("app");
    std::fs::create_dir_all(&app).unwrap();
    std::fs::write(
        app.join("package.json"),
        "{\n  \"name\": \"app\",\n  \"version\": \"0.0.0\",\n  \"dependencies\": {\n    \"dlib\": \"^1.0.0\",\n    \"mid\": \"^1.0.0\",\n    \"other\": \"^1.0.0\"\n  }\n}\n",
    )
    .unwrap();
    let out = registry.npm(
        &app,
        &[
            "install",
            "--package-lock-only",
            "--ignore-scripts",
            &format!("--lockfile-version={lockfile_version}"),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn publish_base(registry: &Verdaccio) {
    registry.publish("leaf", "1.0.0", &[]);
    registry.publish("mid", "1.0.0", &[("leaf", "^1.0.0")]);
    registry.publish("other", "1.0.0", &[("leaf", "~1.0.0")]);
    registry.publish("dlib", "1.0.0", &[]);
}

fn npm_ls_clean(registry: &Verdaccio, dir: &Path) {
    let out = registry.npm(dir, &["ls", "--package-lock-only", "--all"]);
    assert!(
        out.status.success(),
        "npm ls: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn npm_relocks_exact_versions_direct_and_transitive() {
    let registry = Verdaccio::start();
    publish_base(&registry);
    let v3 = tempfile::tempdir().unwrap();
    project(&registry, v3.path(), "3");
    let v2 = tempfile::tempdir().unwrap();
    project(&registry, v2.path(), "2");
    let v1 = tempfile::tempdir().unwrap();
    project(&registry, v1.path(), "1");
    let original = std::fs::read_to_string(v3.path().join("app/package-lock.json")).unwrap();
    assert_eq!(locked(&original, "leaf"), ["1.0.0"]);

    // What npm itself writes when 1.0.1 is the newest leaf in range: the reference output.
    registry.publish("leaf", "1.0.1", &[]);
    let reference = tempfile::tempdir().unwrap();
    copy_dir(v3.path(), reference.path());
    let out = registry.npm(
        &reference.path().join("app"),
        &["update", "leaf", "--package-lock-only", "--ignore-scripts"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let npm_own = std::fs::read_to_string(reference.path().join("app/package-lock.json")).unwrap();
    assert_eq!(locked(&npm_own, "leaf"), ["1.0.1"]);

    // Newer releases exist now: the re-lock must still pick exactly the target.
    registry.publish("leaf", "1.0.2", &[]);
    registry.publish("leaf", "1.1.0", &[]);
    registry.publish("dlib", "1.0.1", &[]);
    registry.publish("dlib", "1.2.0", &[]);
    let relocker = relocker(&registry);
    let files = DirSource::new(v3.path());

    // Transitive, inside both parents' ranges: byte for byte what npm writes itself, and the
    // manifest untouched.
    let done = relocker
        .relock(&request("leaf", "1.0.0", "1.0.1", false), &files)
        .expect("transitive re-lock");
    assert_eq!(done.files.len(), 1, "{:?}", done.files.keys());
    assert_eq!(done.files["app/package-lock.json"], npm_own);
    let listed: Vec<String> = done.changes.iter().map(ToString::to_string).collect();
    assert_eq!(listed, ["leaf 1.0.0 → 1.0.1"]);
    assert!(
        done.command.contains("\"leaf@1.0.0\": \"1.0.1\""),
        "{}",
        done.command
    );
    // The working copy was thrown away; the checkout is untouched.
    assert_eq!(
        std::fs::read_to_string(v3.path().join("app/package-lock.json")).unwrap(),
        original
    );

    // Direct: npm raises the range in package.json with the lock.
    let done = relocker
        .relock(&request("dlib", "1.0.0", "1.0.1", true), &files)
        .expect("direct re-lock");
    let listed: Vec<String> = done.changes.iter().map(ToString::to_string).collect();
    assert_eq!(listed, ["dlib 1.0.0 → 1.0.1"]);
    assert!(
        done.files["app/package.json"].contains("\"dlib\": \"^1.0.1\""),
        "{}",
        done.files["app/package.json"]
    );
    let checked = tempfile::tempdir().unwrap();
    copy_dir(v3.path(), checked.path());
    for (path, content) in &done.files {
        std::fs::write(checked.path().join(path), content).unwrap();
    }
    npm_ls_clean(&registry, &checked.path().join("app"));

    // A v2 lockfile stays v2, with both copies of the version moved.
    let done = relocker
        .relock(
            &request("leaf", "1.0.0", "1.0.1", false),
            &DirSource::new(v2.path()),
        )
        .expect("v2 re-lock");
    let new = &done.files["app/package-lock.json"];
    assert!(new.contains("\"lockfileVersion\": 2"), "{new}");
    assert_eq!(locked(new, "leaf"), ["1.0.1"]);
    assert_eq!(new.matches("\"version\": \"1.0.1\"").count(), 2, "{new}");

    // A v1 lock: exactly the target too, the parents' `requires` ranges kept, and npm's own
    // check passes on it.
    let done = relocker
        .relock(
            &request("leaf", "1.0.0", "1.0.1", false),
            &DirSource::new(v1.path()),
        )
        .expect("v1 re-lock");
    let new = &done.files["app/package-lock.json"];
    assert!(new.contains("\"lockfileVersion\": 1"), "{new}");
    assert_eq!(locked(new, "leaf"), ["1.0.1"]);
    assert!(new.contains("\"leaf\": \"~1.0.0\""), "{new}");
    assert!(new.contains("\"leaf\": \"^1.0.0\""), "{new}");
    let listed: Vec<String> = done.changes.iter().map(ToString::to_string).collect();
    assert_eq!(listed, ["leaf 1.0.0 → 1.0.1"]);
    let checked = tempfile::tempdir().unwrap();
    copy_dir(v1.path(), checked.path());
    std::fs::write(checked.path().join("app/package-lock.json"), new).unwrap();
    npm_ls_clean(&registry, &checked.path().join("app"));

    // A version the registry does not have: a clear failure with npm's own words.
    let err = relocker
        .relock(&request("leaf", "1.0.0", "9.9.9", false), &files)
        .unwrap_err();
    match &err {
        RelockError::Failed { stderr_tail, .. } => {
            assert!(stderr_tail.contains("9.9.9"), "{stderr_tail}")
        }
        other => panic!("expected a failure, got {other:?}"),
    }

    // Too slow: stopped at the timeout.
    let mut hurried = relocker.clone();
    hurried.limits = Limits {
        timeout: Duration::from_millis(50),
        ..Limits::default()
    };
    let err = hurried
        .relock(&request("leaf", "1.0.0", "1.0.1", false), &files)
        .unwrap_err();
    assert!(matches!(err, RelockError::TimedOut { .. }), "{err:?}");

    // No npm on PATH: said so.
    let mut bare = relocker.clone();
    bare.path = "/nonexistent".into();
    let err = bare
        .relock(&request("leaf", "1.0.0", "1.0.1", false), &files)
        .unwrap_err();
    assert!(err.to_string().contains("`npm` is not installed"), "{err}");
}

fn patchwright(args: &[&str], dir: &Path, registry: &Verdaccio) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_patchwright"))
        .args(args)
        .current_dir(dir)
        .env_remove("PATCHWRIGHT_CONFIG")
        .env_remove("PATCHWRIGHT_CATALOG")
        .env("PATH", path_with_test_deps())
        .env("PATCHWRIGHT_NPM_REGISTRY", &registry.url)
        .output()
        .expect("the binary runs")
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn fix_relocks_package_lock_and_the_rescan_is_clean() {
    let registry = Verdaccio::start();
    publish_base(&registry);
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    project(&registry, &repo, "3");
    for v in ["1.0.1", "1.0.2"] {
        registry.publish("leaf", v, &[]);
    }
    registry.publish("dlib", "1.0.1", &[]);
    let advisories = tmp.path().join("advisories");
    write_advisory(&advisories, "GHSA-leaf-0001", "npm", "leaf", "1.0.1");
    write_advisory(&advisories, "GHSA-dlib-0001", "npm", "dlib", "1.0.1");
    let adv = advisories.to_str().unwrap();
    let lock_before = std::fs::read_to_string(repo.join("app/package-lock.json")).unwrap();

    // Offline: nothing runs, the commands are named.
    let out = patchwright(
        &["fix", ".", "--advisories", adv, "--no-relock"],
        &repo,
        &registry,
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("changed 0 file(s)"), "{text}");
    assert!(
        text.contains("needs a re-lock: npm install dlib@1.0.1"),
        "{text}"
    );

    git(&repo, &["init", "-q", "-b", "main"]);
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-qm", "base"]);
    let out = patchwright(
        &["fix", ".", "--advisories", adv, "--branch", "relocked"],
        &repo,
        &registry,
    );
    let (text, err) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(0), "{text}{err}");
    assert!(err.contains("re-lock: package-lock.json (npm)"), "{err}");
    assert!(err.contains("re-locked leaf 1.0.0 → 1.0.1"), "{err}");
    assert!(
        text.contains("changed 2 file(s); blockers 2 → 0"),
        "{text}{err}"
    );
    // The risk statement lists every lock entry that changed.
    let message = git(&repo, &["log", "-1", "--format=%B", "relocked"]);
    assert!(
        message.contains("lock entries changed: leaf 1.0.0 → 1.0.1"),
        "{message}"
    );
    assert!(
        message.contains("lock entries changed: dlib 1.0.0 → 1.0.1"),
        "{message}"
    );
    assert!(
        message.contains("re-locked with `npm install dlib@1.0.1"),
        "{message}"
    );

    // The branch holds npm's consistent output, and scanning it finds nothing.
    git(&repo, &["checkout", "-q", "relocked"]);
    let lock_after = std::fs::read_to_string(repo.join("app/package-lock.json")).unwrap();
    assert_ne!(lock_after, lock_before);
    assert_eq!(locked(&lock_after, "leaf"), ["1.0.1"]);
    assert_eq!(locked(&lock_after, "dlib"), ["1.0.1"]);
    npm_ls_clean(&registry, &repo.join("app"));
    let scan = patchwright(&["scan", ".", "--advisories", adv], &repo, &registry);
    assert_eq!(
        scan.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&scan.stdout)
    );
}

#[test]
fn a_target_outside_the_parents_range_is_explained_not_forced() {
    let registry = Verdaccio::start();
    publish_base(&registry);
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    project(&registry, &repo, "3");
    registry.publish("leaf", "1.1.0", &[]);
    // The relax strategy: `other` 1.0.1 still asks for ~1.0.0, 1.1.0 and 1.2.0 allow ^1.1.0.
    registry.publish("other", "1.0.1", &[("leaf", "~1.0.0")]);
    registry.publish("other", "1.1.0", &[("leaf", "^1.1.0")]);
    registry.publish("other", "1.2.0", &[("leaf", "^1.1.0")]);
    let advisories = tmp.path().join("advisories");
    // Only 1.1.0 fixes it, and `other` asks for ~1.0.0.
    write_advisory(&advisories, "GHSA-leaf-0002", "npm", "leaf", "1.1.0");
    let lock_before = std::fs::read_to_string(repo.join("app/package-lock.json")).unwrap();
    let out = patchwright(
        &["fix", ".", "--advisories", advisories.to_str().unwrap()],
        &repo,
        &registry,
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("other@1.0.0 requires leaf `~1.0.0`") && err.contains("upgrade other"),
        "{err}"
    );
    assert!(
        err.contains(
            "relax: upgrading other 1.0.0 → 1.1.0 brings leaf 1.1.0 within range (it requires leaf `^1.1.0`)"
        ),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(repo.join("app/package-lock.json")).unwrap(),
        lock_before
    );
}

/// A workspace root: the working copy carries every member's package.json, a transitive entry
/// moves as npm moves it, and a member's direct dependency is raised in that member's manifest.
#[test]
fn npm_workspaces_relock_with_every_member_manifest() {
    let registry = Verdaccio::start();
    publish_base(&registry);
    let repo = tempfile::tempdir().unwrap();
    let root = repo.path();
    std::fs::write(
        root.join("package.json"),
        "{\n  \"name\": \"mono\",\n  \"private\": true,\n  \"workspaces\": [\"packages/*\"]\n}\n",
    )
    .unwrap();
    for (name, deps) in [
        ("web", "\"dlib\": \"^1.0.0\", \"mid\": \"^1.0.0\""),
        ("api", "\"other\": \"^1.0.0\""),
    ] {
        let dir = root.join("packages").join(name);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("package.json"),
            format!("{{\n  \"name\": \"{name}\",\n  \"version\": \"1.0.0\",\n  \"dependencies\": {{{deps}}}\n}}\n"),
        )
        .unwrap();
    }
    let out = registry.npm(
        root,
        &["install", "--package-lock-only", "--ignore-scripts"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let original = std::fs::read_to_string(root.join("package-lock.json")).unwrap();
    assert_eq!(locked(&original, "leaf"), ["1.0.0"]);

    registry.publish("leaf", "1.0.1", &[]);
    let reference = tempfile::tempdir().unwrap();
    copy_dir(root, reference.path());
    let out = registry.npm(
        reference.path(),
        &["update", "leaf", "--package-lock-only", "--ignore-scripts"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let npm_own = std::fs::read_to_string(reference.path().join("package-lock.json")).unwrap();
    assert_eq!(locked(&npm_own, "leaf"), ["1.0.1"]);
    registry.publish("leaf", "1.0.2", &[]);
    registry.publish("dlib", "1.0.1", &[]);
    registry.publish("dlib", "1.2.0", &[]);

    let relocker = relocker(&registry);
    let files = DirSource::new(root);
    let at_root = |package: &str, to: &str, direct: bool| Request {
        lockfile: "package-lock.json".into(),
        ..request(package, "1.0.0", to, direct)
    };
    let done = relocker
        .relock(&at_root("leaf", "1.0.1", false), &files)
        .expect("transitive re-lock in a workspace");
    assert_eq!(done.files.len(), 1, "{:?}", done.files.keys());
    assert_eq!(done.files["package-lock.json"], npm_own);

    let done = relocker
        .relock(&at_root("dlib", "1.0.1", true), &files)
        .expect("a member's direct dependency");
    let keys: Vec<&str> = done.files.keys().map(String::as_str).collect();
    assert_eq!(keys, ["package-lock.json", "packages/web/package.json"]);
    assert!(
        done.files["packages/web/package.json"].contains("\"dlib\": \"^1.0.1\""),
        "{}",
        done.files["packages/web/package.json"]
    );
    assert_eq!(locked(&done.files["package-lock.json"], "dlib"), ["1.0.1"]);
    assert!(
        done.command.contains("--workspace=packages/web"),
        "{}",
        done.command
    );
}
