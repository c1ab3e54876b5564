//! Hashed requirements files re-locked from the package index (pypiserver on loopback, wheels
//! and source archives the test writes), compared with what pip-tools' own `pip-compile
//! --generate-hashes` and `pip hash` give for the same version: nothing reaches the internet.

mod relock_support;

use patchwright::relock::{DirSource, Manager, Registries, RelockError, Request};
use relock_support::{PyPiServer, test_deps, venv_bin};
use std::path::Path;
use std::process::Command;

fn pip_tools() -> std::path::PathBuf {
    let bin = test_deps().join("piptools/bin");
    assert!(
        bin.join("pip-compile").exists(),
        "{} is missing: run scripts/relock-deps.sh",
        bin.display()
    );
    bin
}

/// `pip-compile --generate-hashes requirements.in` in `dir` against the local index.
fn pip_compile(index: &PyPiServer, dir: &Path, cache: &str) -> String {
    let out = Command::new(pip_tools().join("pip-compile"))
        .args(["--generate-hashes", "--no-emit-index-url", "--quiet"])
        .args(["--index-url", &index.simple])
        .arg("--cache-dir")
        .arg(index.dir.path().join(cache))
        .args(["--output-file", "requirements.txt", "requirements.in"])
        .current_dir(dir)
        .env("PIP_FIND_LINKS", "")
        .env("PIP_CONFIG_FILE", "/dev/null")
        .env("PIP_NO_CACHE_DIR", "1")
        .env("HOME", index.dir.path())
        .output()
        .expect("pip-compile runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read_to_string(dir.join("requirements.txt")).unwrap()
}

/// A source archive beside the wheels, so a version has more than one file to hash.
fn publish_sdist(index: &PyPiServer, name: &str, version: &str) {
    let script = "import sys, tarfile, io\nout, name, version = sys.argv[1:4]\nwith tarfile.open(f'{out}/{name}-{version}.tar.gz', 'w:gz') as t:\n    data = f'Metadata-Version: 2.1\\nName: {name}\\nVersion: {version}\\n'.encode()\n    info = tarfile.TarInfo(f'{name}-{version}/PKG-INFO')\n    info.size = len(data)\n    t.addfile(info, io.BytesIO(data))\n";
    let out = Command::new(venv_bin().join("python"))
        .args(["-c", script])
        .arg(&index.packages)
        .args([name, version])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `pip hash` of every file of `name-version` in the index folder, sorted as pip-compile sorts.
fn pip_hash(index: &PyPiServer, name: &str, version: &str) -> Vec<String> {
    let mut hashes = Vec::new();
    for entry in std::fs::read_dir(&index.packages).unwrap() {
        let path = entry.unwrap().path();
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        if !file.starts_with(&format!("{name}-{version}-"))
            && file != format!("{name}-{version}.tar.gz")
        {
            continue;
        }
        let out = Command::new(venv_bin().join("pip"))
            .args(["hash", "--algorithm", "sha256"])
            .arg(&path)
            .env("PIP_CONFIG_FILE", "/dev/null")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let hash = text
            .lines()
            .find_map(|l| l.trim().strip_prefix("--hash=sha256:"))
            .expect("pip hash prints the hash")
            .to_string();
        hashes.push(hash);
    }
    hashes.sort();
    hashes
}

fn request(to: &str) -> Request {
    Request {
        manager: Manager::Pip,
        lockfile: "requirements.txt".into(),
        package: "leaf".into(),
        from: "1.0.0".into(),
        to: to.into(),
        direct: true,
    }
}

#[test]
fn hashed_requirements_get_exactly_the_hashes_pip_compile_writes() {
    let index = PyPiServer::start();
    index.publish("other", "2.0", &[]);
    index.publish("leaf", "1.0.0", &["other>=2"]);
    let repo = tempfile::tempdir().unwrap();
    std::fs::write(repo.path().join("requirements.in"), "leaf==1.0.0\nother\n").unwrap();
    let original = pip_compile(&index, repo.path(), "cache-1");
    assert!(
        original.contains("leaf==1.0.0 \\\n    --hash=sha256:"),
        "{original}"
    );

    // pip-compile's own file once the pin is 1.0.1 (a wheel and a source archive).
    index.publish("leaf", "1.0.1", &["other>=2"]);
    publish_sdist(&index, "leaf", "1.0.1");
    index.publish("leaf", "1.0.2", &["other>=2", "twig>=1"]);
    let reference = tempfile::tempdir().unwrap();
    std::fs::write(
        reference.path().join("requirements.in"),
        "leaf==1.0.1\nother\n",
    )
    .unwrap();
    std::fs::copy(
        repo.path().join("requirements.txt"),
        reference.path().join("requirements.txt"),
    )
    .unwrap();
    let compiled = pip_compile(&index, reference.path(), "cache-2");

    let relocker = relock_support::relocker(Registries {
        pypi: Some(index.simple.clone()),
        ..Default::default()
    });
    let files = DirSource::new(repo.path());
    let done = relocker
        .relock(&request("1.0.1"), &files)
        .expect("hash lookup");
    // Byte for byte pip-compile's output: same hashes, same order, same layout and comments.
    assert_eq!(done.files["requirements.txt"], compiled);
    let listed: Vec<String> = done.changes.iter().map(ToString::to_string).collect();
    assert_eq!(listed, ["leaf 1.0.0 → 1.0.1"]);
    let hashes = pip_hash(&index, "leaf", "1.0.1");
    assert_eq!(hashes.len(), 2, "the wheel and the source archive");
    for h in &hashes {
        assert!(compiled.contains(&format!("--hash=sha256:{h}")), "{h}");
    }
    assert!(
        done.command.contains("2 distribution file(s)"),
        "{}",
        done.command
    );

    // 1.0.2 needs a package the file does not pin: hashes alone would not install.
    let err = relocker.relock(&request("1.0.2"), &files).unwrap_err();
    assert!(matches!(err, RelockError::Unsupported(_)), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("`twig>=1` (not in the file)"), "{text}");
    assert!(text.contains("pip-compile --generate-hashes"), "{text}");

    // A version the index does not have is said so.
    let err = relocker.relock(&request("9.9.9"), &files).unwrap_err();
    assert!(
        err.to_string().contains("lists no file of leaf 9.9.9"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(repo.path().join("requirements.txt")).unwrap(),
        original
    );
}

fn patchwright(args: &[&str], dir: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_patchwright"))
        .args(args)
        .current_dir(dir)
        .env_remove("PATCHWRIGHT_CONFIG")
        .env_remove("PATCHWRIGHT_CATALOG")
        .output()
        .expect("the binary runs")
}

/// End to end through `patchwright fix`: the planner sends the hashed requirement to the hash
/// lookup, the file ends as pip-compile would write it, and scanning it again finds nothing.
#[test]
fn fix_moves_a_hashed_pin_and_the_rescan_is_clean() {
    let index = PyPiServer::start();
    index.publish("leaf", "1.0.0", &[]);
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    std::fs::write(repo.join("requirements.in"), "leaf==1.0.0\n").unwrap();
    pip_compile(&index, &repo, "cache-1");
    index.publish("leaf", "1.0.1", &[]);
    let reference = tmp.path().join("reference");
    std::fs::create_dir_all(&reference).unwrap();
    std::fs::write(reference.join("requirements.in"), "leaf==1.0.1\n").unwrap();
    let compiled = pip_compile(&index, &reference, "cache-2");
    let advisories = tmp.path().join("advisories");
    relock_support::write_advisory(&advisories, "PYSEC-0000-1", "PyPI", "leaf", "1.0.1");
    let adv = advisories.to_str().unwrap();

    let out = patchwright(
        &[
            "fix",
            ".",
            "--advisories",
            adv,
            "--pypi-index",
            &index.simple,
        ],
        &repo,
    );
    let (text, err) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(
        text.contains("blockers 1 → 0") || text.contains("warnings 1 → 0"),
        "{text}{err}"
    );
    assert!(err.contains("re-locked leaf 1.0.0 → 1.0.1"), "{err}");
    assert_eq!(
        std::fs::read_to_string(repo.join("requirements.txt")).unwrap(),
        compiled
    );
    let scan = patchwright(&["scan", ".", "--advisories", adv], &repo);
    assert_eq!(
        scan.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&scan.stdout)
    );
    assert!(
        String::from_utf8_lossy(&scan.stdout).contains("0 blocker(s) · 0 warning(s)"),
        "{}",
        String::from_utf8_lossy(&scan.stdout)
    );
}
