//! The service re-locks the newer lockfile formats through the same relocker as the CLI: a
//! repository with a pnpm-lock.yaml, a uv.lock and a Pipfile.lock, each with a vulnerable
//! transitive package, scanned through a signed webhook, the real job runner and the real GitHub
//! client against the stateful fake GitHub, with the real pnpm, uv and pipenv against Verdaccio
//! and pypiserver on loopback.
//! Each lockfile gets one fix PR whose files are exactly what the package manager writes when
//! the test runs it itself.

#[path = "fake_github/mod.rs"]
mod fake_github;
mod relock_support;
mod support;
mod world;

use patchwright::forge::github::GitHubForge;
use patchwright::pipeline::Knowledge;
use patchwright::relock::{Registries, Relocker};
use relock_support::{PyPiServer, Verdaccio, copy_dir, files_below, knowledge_with, test_deps};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use world::{INSTALLATION, REPO, changed_files, push_payload, world_with};

fn tools_path() -> std::ffi::OsString {
    let mut dirs = vec![
        test_deps().join("pnpm/node_modules/.bin"),
        test_deps().join("uv/bin"),
        test_deps().join("pipenv/bin"),
    ];
    dirs.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    std::env::join_paths(dirs).unwrap()
}

fn run(dir: &Path, tool: &str, args: &[&str], env: &[(&str, &Path)]) {
    let out = Command::new(tool)
        .args(args)
        .current_dir(dir)
        .env("PATH", tools_path())
        .envs(env.iter().map(|(k, v)| (*k, *v)))
        .output()
        .unwrap_or_else(|e| panic!("{tool} runs ({e}): run scripts/relock-deps.sh"));
    assert!(
        out.status.success(),
        "{tool} {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

struct Fixture {
    npm: Verdaccio,
    pypi: PyPiServer,
    repo: tempfile::TempDir,
    home: tempfile::TempDir,
}

impl Fixture {
    fn pnpm(&self, dir: &Path, args: &[&str]) {
        let mut all = args.to_vec();
        all.extend(["--registry", &self.npm.url, "--ignore-scripts"]);
        let home = self.home.path();
        run(
            dir,
            "pnpm",
            &all,
            &[
                ("HOME", home),
                ("npm_config_store_dir", &home.join("store")),
            ],
        );
    }

    fn uv(&self, dir: &Path, cache: &str, args: &[&str]) {
        let mut all = args.to_vec();
        all.extend(["--default-index", &self.pypi.simple]);
        let home = self.home.path();
        run(
            dir,
            "uv",
            &all,
            &[("HOME", home), ("UV_CACHE_DIR", &home.join(cache))],
        );
    }

    fn pipenv(&self, dir: &Path, cache: &str) {
        let home = self.home.path();
        run(
            dir,
            "pipenv",
            &["lock"],
            &[
                ("HOME", home),
                ("WORKON_HOME", &home.join("venvs")),
                ("PIPENV_CACHE_DIR", &home.join(cache)),
                ("PIPENV_YES", Path::new("1")),
                ("PIPENV_NOSPIN", Path::new("1")),
                ("PIP_CONFIG_FILE", Path::new("/dev/null")),
                ("PIP_FIND_LINKS", Path::new("")),
                ("VIRTUALENV_NO_PIP", Path::new("1")),
                ("VIRTUALENV_NO_SETUPTOOLS", Path::new("1")),
            ],
        );
    }
}

/// web (pnpm): mid ^1.0.0 → leaf ^1.0.0; py (uv): pmid → pleaf; pipenv: qmid → qleaf. Locked
/// while only the 1.0.0 releases exist, then the fixed 1.0.1 releases are published.
fn fixture() -> Fixture {
    let f = Fixture {
        npm: Verdaccio::start(),
        pypi: PyPiServer::start(),
        repo: tempfile::tempdir().unwrap(),
        home: tempfile::tempdir().unwrap(),
    };
    let root = f.repo.path();
    f.npm.publish("leaf", "1.0.0", &[]);
    f.npm.publish("mid", "1.0.0", &[("leaf", "^1.0.0")]);
    let web = root.join("web");
    std::fs::create_dir_all(&web).unwrap();
    std::fs::write(
        web.join("package.json"),
        "{\n  \"name\": \"web\",\n  \"version\": \"1.0.0\",\n  \"dependencies\": {\n    \"mid\": \"^1.0.0\"\n  }\n}\n",
    )
    .unwrap();
    f.pnpm(&web, &["install", "--lockfile-only"]);
    f.npm.publish("leaf", "1.0.1", &[]);

    f.pypi.publish("pleaf", "1.0.0", &[]);
    f.pypi.publish("pmid", "1.0.0", &["pleaf>=1.0,<2"]);
    let py = root.join("py");
    std::fs::create_dir_all(&py).unwrap();
    std::fs::write(
        py.join("pyproject.toml"),
        "[project]\nname = \"py\"\nversion = \"0.1.0\"\nrequires-python = \">=3.9\"\ndependencies = [\"pmid>=1.0\"]\n",
    )
    .unwrap();
    f.uv(&py, "cache-0", &["lock"]);
    f.pypi.publish("pleaf", "1.0.1", &[]);

    f.pypi.publish("qleaf", "1.0.0", &[]);
    f.pypi.publish("qmid", "1.0.0", &["qleaf>=1.0,<2"]);
    let pipenv = root.join("pipenv");
    std::fs::create_dir_all(&pipenv).unwrap();
    std::fs::write(
        pipenv.join("Pipfile"),
        format!(
            "[[source]]\nurl = \"{}\"\nverify_ssl = false\nname = \"local\"\n\n[packages]\nqmid = \">=1.0\"\n",
            f.pypi.simple
        ),
    )
    .unwrap();
    f.pipenv(&pipenv, "pipenv-cache-0");
    f.pypi.publish("qleaf", "1.0.1", &[]);
    f
}

fn knowledge(dir: &Path) -> Knowledge {
    knowledge_with(
        dir,
        &[
            ("GHSA-test-pnpm-leaf", "npm", "leaf", "1.0.1"),
            ("PYSEC-2099-0001", "PyPI", "pleaf", "1.0.1"),
            ("PYSEC-2099-0002", "PyPI", "qleaf", "1.0.1"),
        ],
    )
}

/// What pnpm, uv and pipenv make of each project by hand, in a copy: folder → (path → new
/// content). `pipenv lock` moves every package to its newest release, which is only qleaf here.
fn by_hand(f: &Fixture) -> BTreeMap<String, BTreeMap<String, String>> {
    let copy = tempfile::tempdir().unwrap();
    copy_dir(f.repo.path(), copy.path());
    let before: BTreeMap<String, String> = files_below(copy.path()).into_iter().collect();
    f.pnpm(
        &copy.path().join("web"),
        &["update", "leaf", "--lockfile-only"],
    );
    f.uv(
        &copy.path().join("py"),
        "cache-1",
        &["lock", "--upgrade-package", "pleaf"],
    );
    f.pipenv(&copy.path().join("pipenv"), "pipenv-cache-1");
    let mut changed: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for (path, content) in files_below(copy.path()) {
        if before.get(&path) != Some(&content) {
            let folder = path.split('/').next().unwrap().to_string();
            changed.entry(folder).or_default().insert(path, content);
        }
    }
    changed
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pnpm_uv_and_pipenv_lockfiles_get_fix_prs_with_exactly_the_package_managers_files() {
    let f = fixture();
    let advisories = tempfile::tempdir().unwrap();
    let expected = by_hand(&f);
    assert_eq!(
        expected.keys().collect::<Vec<_>>(),
        ["pipenv", "py", "web"],
        "{expected:#?}"
    );
    let mut relocker = Relocker::from_env(Registries {
        npm: Some(f.npm.url.clone()),
        pypi: Some(f.pypi.simple.clone()),
        ..Default::default()
    });
    relocker.path = tools_path();

    let w = world_with(
        10,
        files_below(f.repo.path()),
        knowledge(advisories.path()),
        Some(relocker),
    )
    .await;
    let main = w.github.branch(REPO, "main").unwrap();
    assert_eq!(w.deliver("push", "d-1", push_payload(&main)).await, 202);
    w.work().await;

    let pulls = w.open_pulls();
    assert_eq!(pulls.len(), 3, "{pulls:#?}");
    let forge = GitHubForge::new(w.app.clone(), INSTALLATION);
    for pull in &pulls {
        let head = w.github.branch(REPO, &pull.head).unwrap();
        let changed = changed_files(&forge, &head).await;
        let folder = changed
            .keys()
            .next()
            .and_then(|p| p.split('/').next())
            .unwrap_or_default()
            .to_string();
        assert_eq!(
            &changed, &expected[&folder],
            "{}: the PR's files are the package manager's own",
            pull.head
        );
        let entry = match folder.as_str() {
            "web" => "leaf 1.0.0 → 1.0.1",
            "py" => "pleaf 1.0.0 → 1.0.1",
            _ => "qleaf 1.0.0 → 1.0.1",
        };
        assert!(
            pull.body
                .contains(&format!("lock entries changed: {entry}")),
            "{}",
            pull.body
        );
        assert!(!pull.body.contains("re-lock failed"), "{}", pull.body);
    }
}
