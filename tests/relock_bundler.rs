//! Re-locking Gemfile.lock with the real Bundler (Debian's, from scripts/relock-deps.sh) against a
//! static gem source the test builds (`gem build`, `gem generate_index`) and serves on
//! loopback: nothing here reaches the internet. The re-lock is compared byte for byte with what
//! Bundler writes itself when the target is the newest release.

mod relock_support;

use patchwright::manifest;
use patchwright::relock::{DirSource, Manager, Registries, Relocker, Request};
use relock_support::{GemSource, assert_fixed, assert_scan_clean, copy_dir, write_advisory};
use std::path::Path;
use std::process::Command;

fn run(dir: &Path, tool: &str, args: &[&str], env: &[(&str, &Path)]) -> String {
    let out = Command::new(tool)
        .args(args)
        .current_dir(dir)
        .envs(env.iter().map(|(k, v)| (*k, *v)))
        .output()
        .unwrap_or_else(|e| panic!("{tool} runs ({e}): run scripts/relock-deps.sh"));
    assert!(
        out.status.success(),
        "{tool} {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Bundler as a person runs it in the project, with a home of its own.
fn bundle(dir: &Path, home: &Path, args: &[&str]) {
    run(
        dir,
        "bundle",
        args,
        &[
            ("HOME", home),
            ("BUNDLE_USER_HOME", &home.join("bundle")),
            ("BUNDLE_APP_CONFIG", &home.join("config")),
        ],
    );
}

fn locked(lock: &str, name: &str) -> Vec<String> {
    let mut v: Vec<String> = manifest::gemfile_lock::parse("Gemfile.lock", lock)
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
        manager: Manager::Bundler,
        lockfile: "web/Gemfile.lock".into(),
        package: package.into(),
        from: from.into(),
        to: to.into(),
        direct,
    }
}

/// web → mid ~> 1.0 → leaf ~> 1.0, and tip ~> 1.0.0, locked by Bundler when only the 1.0.0
/// releases exist.
fn project(source: &GemSource, root: &Path, home: &Path) -> String {
    source.publish("leaf", "1.0.0", &[]);
    source.publish("mid", "1.0.0", &[("leaf", "~> 1.0")]);
    source.publish("tip", "1.0.0", &[]);
    let web = root.join("web");
    std::fs::create_dir_all(&web).unwrap();
    let gemfile = format!(
        "source \"{}\"\n\n# what the site needs\ngem \"mid\", \"~> 1.0\"\ngem \"tip\", \"~> 1.0.0\"\n",
        source.server.url
    );
    std::fs::write(web.join("Gemfile"), &gemfile).unwrap();
    bundle(&web, home, &["lock"]);
    gemfile
}

fn read(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file)).unwrap()
}

#[test]
fn bundler_relocks_an_exact_version_as_bundler_resolves_it() {
    let source = GemSource::start();
    let home = tempfile::tempdir().unwrap();
    let repo = tempfile::tempdir().unwrap();
    let gemfile = project(&source, repo.path(), home.path());
    let original = read(repo.path(), "web/Gemfile.lock");
    assert_eq!(locked(&original, "leaf"), ["1.0.0"]);

    source.publish("leaf", "1.0.1", &[]);
    source.publish("tip", "1.0.1", &[]);
    let mut own = Vec::new();
    for name in ["leaf", "tip"] {
        let copy = tempfile::tempdir().unwrap();
        copy_dir(repo.path(), copy.path());
        let fresh = tempfile::tempdir().unwrap();
        bundle(
            &copy.path().join("web"),
            fresh.path(),
            &["lock", "--update", name, "--conservative"],
        );
        own.push(read(copy.path(), "web/Gemfile.lock"));
    }
    source.publish("leaf", "1.0.2", &[]);
    source.publish("tip", "1.0.2", &[]);

    let relocker = Relocker::from_env(Registries::default());
    let files = DirSource::new(repo.path());
    for (i, (name, direct)) in [("leaf", false), ("tip", true)].into_iter().enumerate() {
        let done = relocker
            .relock(&request(name, "1.0.0", "1.0.1", direct), &files)
            .expect("bundler re-lock");
        assert_eq!(done.files["web/Gemfile.lock"], own[i], "{name}");
        assert_eq!(done.files.len(), 1, "the Gemfile stays as it was");
        let listed: Vec<String> = done.changes.iter().map(ToString::to_string).collect();
        assert_eq!(listed, [format!("{name} 1.0.0 → 1.0.1")]);
    }
    assert_eq!(read(repo.path(), "web/Gemfile.lock"), original);
    assert_eq!(read(repo.path(), "web/Gemfile"), gemfile);
}

#[test]
fn fix_relocks_gemfile_lock_and_the_rescan_is_clean() {
    let source = GemSource::start();
    let home = tempfile::tempdir().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    project(&source, &repo, home.path());
    source.publish("leaf", "1.0.1", &[]);
    source.publish("tip", "1.0.1", &[]);
    source.publish("tip", "1.0.2", &[]);
    let advisories = tmp.path().join("advisories");
    write_advisory(&advisories, "GHSA-leaf-0001", "RubyGems", "leaf", "1.0.1");
    write_advisory(&advisories, "GHSA-tip-0001", "RubyGems", "tip", "1.0.1");
    let adv = advisories.to_str().unwrap();
    let patchwright = |args: &[&str]| relock_support::patchwright(&repo, args, &[]);
    let out = patchwright(&["fix", ".", "--advisories", adv]);
    assert_fixed(
        &out,
        &[
            "Gemfile.lock (bundle)",
            "re-locked leaf 1.0.0 → 1.0.1",
            "re-locked tip 1.0.0 → 1.0.1",
        ],
        "changed 1 file(s); blockers 2 → 0",
    );
    let lock = read(&repo, "web/Gemfile.lock");
    assert_eq!(locked(&lock, "leaf"), ["1.0.1"]);
    assert_eq!(locked(&lock, "tip"), ["1.0.1"]);
    assert_scan_clean(&patchwright(&["scan", ".", "--advisories", adv]));
}
