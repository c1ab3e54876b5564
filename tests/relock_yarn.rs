//! Re-locking yarn.lock v1 with the real yarn classic (from scripts/relock-deps.sh) against
//! Verdaccio on loopback: nothing here reaches the internet.

mod relock_support;

use patchwright::manifest;
use patchwright::relock::{DirSource, Manager, Registries, RelockError, Request};
use relock_support::{Verdaccio, copy_dir, path_with_test_deps, test_deps};
use std::path::Path;
use std::process::Command;

fn locked(lock: &str, name: &str) -> Vec<String> {
    let mut v: Vec<String> = manifest::yarn_lock::parse("yarn.lock", lock)
        .dependencies
        .into_iter()
        .filter(|d| d.name == name)
        .filter_map(|d| d.version)
        .collect();
    v.sort();
    v
}

#[test]
fn yarn_relocks_transitive_and_direct_entries_exactly_as_yarn_does() {
    let registry = Verdaccio::start();
    registry.publish("leaf", "1.0.0", &[]);
    registry.publish("mid", "1.0.0", &[("leaf", "^1.0.0")]);
    registry.publish("other", "1.0.0", &[("leaf", "~1.0.0")]);
    registry.publish("dlib", "1.0.0", &[]);
    let repo = tempfile::tempdir().unwrap();
    std::fs::write(
        repo.path().join("package.json"),
        "{\n  \"name\": \"app\",\n  \"version\": \"0.0.0\",\n  \"license\": \"MIT\",\n  \"dependencies\": {\n    \"dlib\": \"^1.0.0\",\n    \"mid\": \"^1.0.0\",\n    \"other\": \"^1.0.0\"\n  }\n}\n",
    )
    .unwrap();
    registry.yarn(repo.path(), &["install"]);
    let original = std::fs::read_to_string(repo.path().join("yarn.lock")).unwrap();
    assert_eq!(locked(&original, "leaf"), ["1.0.0"]);

    // yarn's own result when 1.0.1 is the newest leaf: delete the entry, install again.
    registry.publish("leaf", "1.0.1", &[]);
    registry.publish("dlib", "1.0.1", &[]);
    let reference = tempfile::tempdir().unwrap();
    copy_dir(repo.path(), reference.path());
    let without: String = original
        .split("\n\n")
        .filter(|block| !block.starts_with("leaf@"))
        .collect::<Vec<_>>()
        .join("\n\n");
    std::fs::write(reference.path().join("yarn.lock"), without).unwrap();
    registry.yarn(reference.path(), &["install"]);
    let yarn_own = std::fs::read_to_string(reference.path().join("yarn.lock")).unwrap();
    assert_eq!(locked(&yarn_own, "leaf"), ["1.0.1"]);

    // yarn's own result for the direct dlib once package.json asks for ^1.0.1.
    let direct_reference = tempfile::tempdir().unwrap();
    copy_dir(repo.path(), direct_reference.path());
    let raised = std::fs::read_to_string(repo.path().join("package.json"))
        .unwrap()
        .replace("\"dlib\": \"^1.0.0\"", "\"dlib\": \"^1.0.1\"");
    std::fs::write(direct_reference.path().join("package.json"), &raised).unwrap();
    registry.yarn(direct_reference.path(), &["install"]);
    let yarn_direct = std::fs::read_to_string(direct_reference.path().join("yarn.lock")).unwrap();
    assert_eq!(locked(&yarn_direct, "dlib"), ["1.0.1"]);

    registry.publish("leaf", "1.0.2", &[]);
    registry.publish("dlib", "1.0.2", &[]);
    registry.publish("dlib", "1.2.0", &[]);
    let relocker = relock_support::relocker(Registries {
        npm: Some(registry.url.clone()),
        ..Default::default()
    });
    let request = |package: &str, to: &str, direct: bool| Request {
        manager: Manager::Yarn,
        lockfile: "yarn.lock".into(),
        package: package.into(),
        from: "1.0.0".into(),
        to: to.into(),
        direct,
    };
    let files = DirSource::new(repo.path());
    let done = relocker
        .relock(&request("leaf", "1.0.1", false), &files)
        .expect("transitive yarn re-lock");
    assert_eq!(done.files["yarn.lock"], yarn_own);
    let listed: Vec<String> = done.changes.iter().map(ToString::to_string).collect();
    assert_eq!(listed, ["leaf 1.0.0 → 1.0.1"]);
    assert_eq!(done.files.len(), 1, "package.json is left as it was");

    // A direct dependency: its range raised with its own operator, the lock exactly what yarn
    // writes for that range, though newer releases in range exist.
    let done = relocker
        .relock(&request("dlib", "1.0.1", true), &files)
        .expect("direct yarn re-lock");
    assert_eq!(done.files["package.json"], raised);
    assert_eq!(done.files["yarn.lock"], yarn_direct);
    let listed: Vec<String> = done.changes.iter().map(ToString::to_string).collect();
    assert_eq!(listed, ["dlib 1.0.0 → 1.0.1"]);
    let err = relocker
        .relock(&request("nothere", "1.0.1", true), &files)
        .unwrap_err();
    assert!(matches!(err, RelockError::Unsupported(_)), "{err:?}");
    assert_eq!(
        std::fs::read_to_string(repo.path().join("yarn.lock")).unwrap(),
        original
    );
}

/// Yarn Berry with its environment: the test registry over plain HTTP, no age gate.
fn berry(registry: &Verdaccio, dir: &Path, args: &[&str]) {
    let home = registry.dir.path().join("berry-home");
    std::fs::create_dir_all(&home).unwrap();
    let out = Command::new(test_deps().join("berry/node_modules/.bin/yarn"))
        .args(args)
        .current_dir(dir)
        .env("HOME", &home)
        .env(
            "YARN_NPM_REGISTRY_SERVER",
            registry.url.trim_end_matches('/'),
        )
        .env("YARN_UNSAFE_HTTP_WHITELIST", "127.0.0.1")
        .env("YARN_ENABLE_SCRIPTS", "false")
        .env("YARN_ENABLE_TELEMETRY", "0")
        .env("YARN_ENABLE_GLOBAL_CACHE", "false")
        .env("YARN_CACHE_FOLDER", home.join("cache"))
        .env("YARN_ENABLE_IMMUTABLE_INSTALLS", "false")
        .output()
        .expect("yarn berry runs");
    relock_support::ok(out);
}

#[test]
fn yarn_berry_relocks_with_set_resolution_exactly_as_berry_resolves() {
    let registry = Verdaccio::start();
    registry.publish("leaf", "1.0.0", &[]);
    registry.publish("mid", "1.0.0", &[("leaf", "^1.0.0")]);
    registry.publish("other", "1.0.0", &[("leaf", "~1.0.0")]);
    registry.publish("dlib", "1.0.0", &[]);
    let repo = tempfile::tempdir().unwrap();
    std::fs::write(
        repo.path().join("package.json"),
        "{\n  \"name\": \"app\",\n  \"dependencies\": {\n    \"dlib\": \"^1.0.0\",\n    \"mid\": \"^1.0.0\",\n    \"other\": \"^1.0.0\"\n  }\n}\n",
    )
    .unwrap();
    // Fixtures are seconds old: Yarn 4's age gate would hold them back.
    std::fs::write(repo.path().join(".yarnrc.yml"), "npmMinimalAgeGate: 0\n").unwrap();
    std::fs::write(repo.path().join("yarn.lock"), "").unwrap();
    berry(
        &registry,
        repo.path(),
        &["install", "--mode=update-lockfile"],
    );
    let original = std::fs::read_to_string(repo.path().join("yarn.lock")).unwrap();
    assert!(original.contains("__metadata:"), "{original}");
    assert_eq!(locked(&original, "leaf"), ["1.0.0"]);

    // Berry's own results when 1.0.1 is the newest leaf and dlib.
    registry.publish("leaf", "1.0.1", &[]);
    registry.publish("dlib", "1.0.1", &[]);
    let reference = tempfile::tempdir().unwrap();
    copy_dir(repo.path(), reference.path());
    berry(
        &registry,
        reference.path(),
        &["up", "-R", "leaf", "--mode=update-lockfile"],
    );
    let berry_transitive = std::fs::read_to_string(reference.path().join("yarn.lock")).unwrap();
    assert_eq!(locked(&berry_transitive, "leaf"), ["1.0.1"]);
    let direct_reference = tempfile::tempdir().unwrap();
    copy_dir(repo.path(), direct_reference.path());
    let raised = std::fs::read_to_string(repo.path().join("package.json"))
        .unwrap()
        .replace("\"dlib\": \"^1.0.0\"", "\"dlib\": \"^1.0.1\"");
    std::fs::write(direct_reference.path().join("package.json"), &raised).unwrap();
    berry(
        &registry,
        direct_reference.path(),
        &["install", "--mode=update-lockfile"],
    );
    let berry_direct = std::fs::read_to_string(direct_reference.path().join("yarn.lock")).unwrap();
    assert_eq!(locked(&berry_direct, "dlib"), ["1.0.1"]);

    registry.publish("leaf", "1.0.2", &[]);
    registry.publish("dlib", "1.2.0", &[]);
    let mut relocker = relock_support::relocker(Registries {
        npm: Some(registry.url.clone()),
        ..Default::default()
    });
    let mut dirs = vec![test_deps().join("berry/node_modules/.bin")];
    dirs.extend(std::env::split_paths(&relocker.path));
    relocker.path = std::env::join_paths(dirs).unwrap();
    let request = |package: &str, to: &str, direct: bool| Request {
        manager: Manager::Yarn,
        lockfile: "yarn.lock".into(),
        package: package.into(),
        from: "1.0.0".into(),
        to: to.into(),
        direct,
    };
    let files = DirSource::new(repo.path());
    let done = relocker
        .relock(&request("leaf", "1.0.1", false), &files)
        .expect("transitive berry re-lock");
    assert_eq!(done.files["yarn.lock"], berry_transitive);
    assert_eq!(done.files.len(), 1);
    assert!(
        done.command.contains("yarn set resolution"),
        "{}",
        done.command
    );

    let done = relocker
        .relock(&request("dlib", "1.0.1", true), &files)
        .expect("direct berry re-lock");
    assert_eq!(done.files["package.json"], raised);
    assert_eq!(done.files["yarn.lock"], berry_direct);
    let listed: Vec<String> = done.changes.iter().map(ToString::to_string).collect();
    assert_eq!(listed, ["dlib 1.0.0 → 1.0.1"]);

    // A target outside a descriptor's range is refused, naming it.
    let err = relocker
        .relock(&request("leaf", "1.1.0", false), &files)
        .unwrap_err();
    assert!(err.to_string().contains("`leaf@npm:~1.0.0`"), "{err}");

    // yarn 1 on PATH cannot do it, and says which yarn is needed.
    let mut classic = relocker.clone();
    classic.path = path_with_test_deps();
    let err = classic
        .relock(&request("leaf", "1.0.1", false), &files)
        .unwrap_err();
    assert!(matches!(err, RelockError::ToolMissing { .. }), "{err:?}");
    assert!(err.to_string().contains("yarn 2 or newer"), "{err}");
}

/// leaf locked twice (0.9.0 for `new`, 1.0.0 for `mid` and `other`): moving the 1.0.0 entry
/// to exactly 1.0.1 while 1.0.2 exists, with resolutions scoped to its two parents. `other` is
/// no dependency of the project itself but of `top`, as most parents in real locks are (the
/// corpus's semver entries): a resolution key must reach it at any depth.
#[test]
fn yarn_moves_one_of_several_entries_exactly() {
    let registry = Verdaccio::start();
    registry.publish("leaf", "0.9.0", &[]);
    registry.publish("leaf", "1.0.0", &[]);
    registry.publish("mid", "1.0.0", &[("leaf", "^1.0.0")]);
    registry.publish("other", "1.0.0", &[("leaf", "~1.0.0")]);
    registry.publish("new", "1.0.0", &[("leaf", "^0.9.0")]);
    registry.publish("top", "1.0.0", &[("other", "^1.0.0")]);
    let repo = tempfile::tempdir().unwrap();
    std::fs::write(
        repo.path().join("package.json"),
        "{\n  \"name\": \"app\",\n  \"version\": \"0.0.0\",\n  \"license\": \"MIT\",\n  \"dependencies\": {\n    \"mid\": \"^1.0.0\",\n    \"new\": \"^1.0.0\",\n    \"top\": \"^1.0.0\"\n  }\n}\n",
    )
    .unwrap();
    registry.yarn(repo.path(), &["install"]);
    let original = std::fs::read_to_string(repo.path().join("yarn.lock")).unwrap();
    assert_eq!(locked(&original, "leaf"), ["0.9.0", "1.0.0"]);

    registry.publish("leaf", "1.0.1", &[]);
    let reference = tempfile::tempdir().unwrap();
    copy_dir(repo.path(), reference.path());
    let without: String = original
        .split("\n\n")
        .filter(|block| !block.starts_with("leaf@^1.0.0"))
        .collect::<Vec<_>>()
        .join("\n\n");
    std::fs::write(reference.path().join("yarn.lock"), without).unwrap();
    registry.yarn(reference.path(), &["install"]);
    let yarn_own = std::fs::read_to_string(reference.path().join("yarn.lock")).unwrap();
    assert_eq!(locked(&yarn_own, "leaf"), ["0.9.0", "1.0.1"]);

    registry.publish("leaf", "1.0.2", &[]);
    let relocker = relock_support::relocker(Registries {
        npm: Some(registry.url.clone()),
        ..Default::default()
    });
    let request = Request {
        manager: Manager::Yarn,
        lockfile: "yarn.lock".into(),
        package: "leaf".into(),
        from: "1.0.0".into(),
        to: "1.0.1".into(),
        direct: false,
    };
    let done = relocker
        .relock(&request, &DirSource::new(repo.path()))
        .expect("one of two entries");
    assert_eq!(done.files["yarn.lock"], yarn_own);
    assert_eq!(done.files.len(), 1, "package.json is left as it was");
    assert!(
        done.command.contains("\"**/mid/leaf\": \"1.0.1\"")
            && done.command.contains("\"**/other/leaf\": \"1.0.1\""),
        "{}",
        done.command
    );
}
