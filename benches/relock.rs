//! Re-lock time per ecosystem: one transitive entry moved by its own package manager (npm, yarn
//! v1, cargo, Poetry, go, pnpm, uv, pipenv, Composer, Bundler) against the local registries the tests use, already started and
//! holding the versions (a warm registry; each re-lock still starts from an empty package
//! manager cache in a fresh working copy, as in production). Nearly all of the time is the
//! package manager's own run. An ecosystem whose tool is missing is skipped with a message
//! (scripts/relock-deps.sh installs them).
//!
//! `cargo bench --bench relock` (or `--profile dev`: the Rust side is a few milliseconds).

#[path = "../tests/relock_support/mod.rs"]
mod relock_support;

use criterion::{Criterion, criterion_group, criterion_main};
use patchwright::relock::{self, DirSource, Manager, Registries, Relocker, Request};
use relock_support::{
    ComposerRepo, CratesRegistry, GemSource, GoProxy, PyPiServer, Verdaccio, ok, relocker,
    test_deps,
};
use std::path::Path;
use std::time::Duration;

/// `leaf` from 1.0.0 to 1.0.1 (the newest), pulled in by `mid`.
fn leaf_request(manager: Manager, lockfile: &str, from: &str, to: &str) -> Request {
    let package = match manager {
        Manager::Go => "example.com/leaf",
        Manager::Composer => "acme/leaf",
        _ => "leaf",
    };
    Request {
        manager,
        lockfile: lockfile.into(),
        package: package.into(),
        from: from.into(),
        to: to.into(),
        direct: false,
    }
}

/// Whether every one of `needs` exists; says which is missing otherwise.
fn present(ecosystem: &str, relocker: &Relocker, tool: &str, needs: &[&Path]) -> bool {
    let missing: Vec<String> = needs
        .iter()
        .filter(|p| !p.exists())
        .map(|p| p.display().to_string())
        .chain(
            relock::availability(&relocker.path)
                .0
                .iter()
                .filter(|(m, found)| m.tool() == tool && found.is_none())
                .map(|_| format!("`{tool}` on PATH")),
        )
        .collect();
    if !missing.is_empty() {
        eprintln!(
            "relock/{ecosystem} skipped: {} missing (run scripts/relock-deps.sh)",
            missing.join(", ")
        );
    }
    missing.is_empty()
}

/// Times `request` against `repo` after checking once that it reaches its target.
fn time(c: &mut Criterion, ecosystem: &str, relocker: &Relocker, request: &Request, repo: &Path) {
    let files = DirSource::new(repo);
    let done = relocker
        .relock(request, &files)
        .unwrap_or_else(|e| panic!("{ecosystem} re-lock: {e}"));
    assert!(!done.changes.is_empty(), "{ecosystem}: nothing changed");
    let mut group = c.benchmark_group("relock");
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(10));
    group.bench_function(ecosystem, |b| {
        b.iter(|| relocker.relock(request, &files).expect("re-lock"))
    });
    group.finish();
}

fn npm_and_yarn(c: &mut Criterion) {
    let verdaccio = test_deps().join("node_modules/.bin/verdaccio");
    let probe = relocker(Registries::default());
    let npm = present("npm", &probe, "npm", &[&verdaccio]);
    let yarn = present("yarn", &probe, "yarn", &[&verdaccio]);
    if !npm && !yarn {
        return;
    }
    let registry = Verdaccio::start();
    registry.publish("leaf", "1.0.0", &[]);
    registry.publish("mid", "1.0.0", &[("leaf", "^1.0.0")]);
    let repo = tempfile::tempdir().unwrap();
    std::fs::write(
        repo.path().join("package.json"),
        "{\n  \"name\": \"app\",\n  \"version\": \"0.0.0\",\n  \"license\": \"MIT\",\n  \"dependencies\": {\n    \"mid\": \"^1.0.0\"\n  }\n}\n",
    )
    .unwrap();
    if npm {
        let args = ["install", "--package-lock-only", "--ignore-scripts"];
        ok(registry.npm(repo.path(), &args));
    }
    if yarn {
        registry.yarn(repo.path(), &["install"]);
    }
    registry.publish("leaf", "1.0.1", &[]);
    let relocker = relocker(Registries {
        npm: Some(registry.url.clone()),
        ..Default::default()
    });
    if npm {
        let request = leaf_request(Manager::Npm, "package-lock.json", "1.0.0", "1.0.1");
        time(c, "npm", &relocker, &request, repo.path());
    }
    if yarn {
        let request = leaf_request(Manager::Yarn, "yarn.lock", "1.0.0", "1.0.1");
        time(c, "yarn", &relocker, &request, repo.path());
    }
}

fn cargo(c: &mut Criterion) {
    if !present("cargo", &relocker(Registries::default()), "cargo", &[]) {
        return;
    }
    let registry = CratesRegistry::start();
    registry.publish("leaf", "1.0.0", &[]);
    registry.publish("mid", "1.0.0", &[("leaf", "^1.0")]);
    let repo = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(repo.path().join("src")).unwrap();
    std::fs::write(
        repo.path().join("Cargo.toml"),
        "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nmid = \"1\"\n",
    )
    .unwrap();
    std::fs::write(repo.path().join("src/main.rs"), "fn main() {}\n").unwrap();
    ok(registry.cargo(repo.path(), &["generate-lockfile"]));
    registry.publish("leaf", "1.0.1", &[]);
    let relocker = relocker(Registries {
        crates: Some(registry.index()),
        ..Default::default()
    });
    let request = leaf_request(Manager::Cargo, "Cargo.lock", "1.0.0", "1.0.1");
    time(c, "cargo", &relocker, &request, repo.path());
}

fn poetry(c: &mut Criterion) {
    let server = relock_support::venv_bin().join("pypi-server");
    if !present(
        "poetry",
        &relocker(Registries::default()),
        "poetry",
        &[&server],
    ) {
        return;
    }
    let index = PyPiServer::start();
    index.publish("leaf", "1.0.0", &[]);
    index.publish("mid", "1.0.0", &["leaf>=1.0,<2"]);
    let repo = tempfile::tempdir().unwrap();
    std::fs::write(
        repo.path().join("pyproject.toml"),
        format!(
            "[project]\nname = \"app\"\nversion = \"0.1.0\"\nrequires-python = \">=3.9\"\ndependencies = [\"mid>=1.0\"]\n\n[tool.poetry]\npackage-mode = false\n\n[[tool.poetry.source]]\nname = \"local\"\nurl = \"{}\"\npriority = \"primary\"\n",
            index.simple
        ),
    )
    .unwrap();
    ok(index.poetry(repo.path(), "cache", &["lock"]));
    index.publish("leaf", "1.0.1", &[]);
    let relocker = relocker(Registries::default());
    let request = leaf_request(Manager::Poetry, "poetry.lock", "1.0.0", "1.0.1");
    time(c, "poetry", &relocker, &request, repo.path());
}

fn go(c: &mut Criterion) {
    if !present("go", &relocker(Registries::default()), "go", &[]) {
        return;
    }
    let proxy = GoProxy::new();
    proxy.publish("example.com/leaf", "v1.0.0", &[]);
    proxy.publish("example.com/mid", "v1.0.0", &["example.com/leaf v1.0.0"]);
    let repo = tempfile::tempdir().unwrap();
    std::fs::write(
        repo.path().join("go.mod"),
        "module example.com/app\n\ngo 1.21\n\nrequire example.com/mid v1.0.0\n\nrequire example.com/leaf v1.0.0 // indirect\n",
    )
    .unwrap();
    ok(proxy.go(repo.path(), &["mod", "download", "all"]));
    proxy.publish("example.com/leaf", "v1.0.1", &[]);
    let relocker = relocker(Registries {
        goproxy: Some(proxy.url()),
        gosumdb: Some("off".into()),
        ..Default::default()
    });
    let request = leaf_request(Manager::Go, "go.mod", "v1.0.0", "v1.0.1");
    time(c, "go", &relocker, &request, repo.path());
}

/// Runs a test dependency's `program` in `dir` with `path` and `env` only; panics with its
/// output when it fails.
fn tool(dir: &Path, program: &Path, args: &[&str], path: &std::ffi::OsStr, env: &[(&str, &Path)]) {
    let out = std::process::Command::new(program)
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", path)
        .envs(env.iter().map(|(k, v)| (*k, *v)))
        .output()
        .unwrap_or_else(|e| panic!("{} runs: {e}", program.display()));
    ok(out);
}

/// `dirs` ahead of this process's PATH.
fn path_with(dirs: &[&str]) -> std::ffi::OsString {
    let mut all: Vec<std::path::PathBuf> = dirs.iter().map(|d| test_deps().join(d)).collect();
    all.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    std::env::join_paths(all).unwrap()
}

fn pnpm(c: &mut Criterion) {
    let verdaccio = test_deps().join("node_modules/.bin/verdaccio");
    let path = path_with(&["pnpm/node_modules/.bin", "node_modules/.bin"]);
    let mut probe = relocker(Registries::default());
    probe.path = path.clone();
    if !present("pnpm", &probe, "pnpm", &[&verdaccio]) {
        return;
    }
    let registry = Verdaccio::start();
    registry.publish("leaf", "1.0.0", &[]);
    registry.publish("mid", "1.0.0", &[("leaf", "^1.0.0")]);
    let repo = tempfile::tempdir().unwrap();
    std::fs::write(
        repo.path().join("package.json"),
        "{\n  \"name\": \"app\",\n  \"version\": \"0.0.0\",\n  \"dependencies\": {\n    \"mid\": \"^1.0.0\"\n  }\n}\n",
    )
    .unwrap();
    let home = registry.dir.path().join("pnpm-home");
    let pnpm = test_deps().join("pnpm/node_modules/.bin/pnpm");
    let args = [
        "install",
        "--lockfile-only",
        "--ignore-scripts",
        "--registry",
        &registry.url,
    ];
    let env = [
        ("HOME", home.as_path()),
        ("npm_config_store_dir", &home.join("store")),
    ];
    tool(repo.path(), &pnpm, &args, &path, &env);
    registry.publish("leaf", "1.0.1", &[]);
    let mut relocker = relocker(Registries {
        npm: Some(registry.url.clone()),
        ..Default::default()
    });
    relocker.path = path;
    let request = leaf_request(Manager::Pnpm, "pnpm-lock.yaml", "1.0.0", "1.0.1");
    time(c, "pnpm", &relocker, &request, repo.path());
}

/// The Python index and `mid` → `leaf` 1.0.0 for uv and pipenv, or `None` when pypiserver or
/// `tool` is missing.
fn python_index(ecosystem: &str, tool: &str, path: &std::ffi::OsStr) -> Option<PyPiServer> {
    let server = relock_support::venv_bin().join("pypi-server");
    let mut probe = relocker(Registries::default());
    probe.path = path.to_os_string();
    if !present(ecosystem, &probe, tool, &[&server]) {
        return None;
    }
    let index = PyPiServer::start();
    index.publish("leaf", "1.0.0", &[]);
    index.publish("mid", "1.0.0", &["leaf>=1.0,<2"]);
    Some(index)
}

fn uv(c: &mut Criterion) {
    let path = path_with(&["uv/bin"]);
    let Some(index) = python_index("uv", "uv", &path) else {
        return;
    };
    let repo = tempfile::tempdir().unwrap();
    std::fs::write(
        repo.path().join("pyproject.toml"),
        "[project]\nname = \"app\"\nversion = \"0.1.0\"\nrequires-python = \">=3.9\"\ndependencies = [\"mid>=1.0\"]\n",
    )
    .unwrap();
    let home = index.dir.path().join("uv-home");
    let args = ["lock", "--default-index", &index.simple];
    let env = [
        ("HOME", home.as_path()),
        ("UV_CACHE_DIR", &home.join("cache")),
        ("UV_PYTHON_DOWNLOADS", Path::new("never")),
    ];
    tool(
        repo.path(),
        &test_deps().join("uv/bin/uv"),
        &args,
        &path,
        &env,
    );
    index.publish("leaf", "1.0.1", &[]);
    let mut relocker = relocker(Registries {
        pypi: Some(index.simple.clone()),
        ..Default::default()
    });
    relocker.path = path;
    let request = leaf_request(Manager::Uv, "uv.lock", "1.0.0", "1.0.1");
    time(c, "uv", &relocker, &request, repo.path());
}

fn pipenv(c: &mut Criterion) {
    let path = path_with(&["pipenv/bin"]);
    let Some(index) = python_index("pipenv", "pipenv", &path) else {
        return;
    };
    let repo = tempfile::tempdir().unwrap();
    std::fs::write(
        repo.path().join("Pipfile"),
        format!(
            "[[source]]\nurl = \"{}\"\nverify_ssl = false\nname = \"local\"\n\n[packages]\nmid = \">=1.0\"\n",
            index.simple
        ),
    )
    .unwrap();
    let home = index.dir.path().join("pipenv-home");
    let env = [
        ("HOME", home.as_path()),
        ("WORKON_HOME", &home.join("venvs")),
        ("PIPENV_YES", Path::new("1")),
        ("PIP_CONFIG_FILE", Path::new("/dev/null")),
        ("VIRTUALENV_NO_PIP", Path::new("1")),
        ("VIRTUALENV_NO_SETUPTOOLS", Path::new("1")),
    ];
    let pipenv = test_deps().join("pipenv/bin/pipenv");
    tool(repo.path(), &pipenv, &["lock"], &path, &env);
    index.publish("leaf", "1.0.1", &[]);
    let mut relocker = relocker(Registries::default());
    relocker.path = path;
    let request = leaf_request(Manager::Pipenv, "Pipfile.lock", "1.0.0", "1.0.1");
    time(c, "pipenv", &relocker, &request, repo.path());
}

fn composer(c: &mut Criterion) {
    let relocker = relocker(Registries::default());
    if !present("composer", &relocker, "composer", &[]) {
        return;
    }
    let registry = ComposerRepo::start();
    registry.publish("acme/leaf", "1.0.0", &[]);
    registry.publish("acme/mid", "1.0.0", &[("acme/leaf", "^1.0")]);
    let repo = tempfile::tempdir().unwrap();
    std::fs::write(
        repo.path().join("composer.json"),
        format!(
            "{{\n    \"name\": \"acme/site\",\n    \"require\": {{\n        \"acme/mid\": \"^1.0\"\n    }},\n    \"repositories\": [\n        {{\"type\": \"composer\", \"url\": \"{}\"}},\n        {{\"packagist.org\": false}}\n    ],\n    \"config\": {{\"secure-http\": false}}\n}}\n",
            registry.server.url.trim_end_matches('/')
        ),
    )
    .unwrap();
    let home = tempfile::tempdir().unwrap();
    let args = [
        "update",
        "--no-interaction",
        "--no-install",
        "--no-scripts",
        "--no-plugins",
    ];
    let env = [
        ("HOME", home.path()),
        ("COMPOSER_HOME", &home.path().join("composer")),
        ("COMPOSER_CACHE_DIR", &home.path().join("cache")),
        ("COMPOSER_NO_AUDIT", Path::new("1")),
        ("COMPOSER_ALLOW_SUPERUSER", Path::new("1")),
    ];
    let program = relock::availability(&relocker.path)
        .0
        .into_iter()
        .find_map(|(m, found)| (m == Manager::Composer).then_some(found).flatten())
        .expect("composer on PATH");
    tool(repo.path(), &program, &args, &relocker.path, &env);
    registry.publish("acme/leaf", "1.0.1", &[]);
    let request = leaf_request(Manager::Composer, "composer.lock", "1.0.0", "1.0.1");
    time(c, "composer", &relocker, &request, repo.path());
}

fn bundler(c: &mut Criterion) {
    let relocker = relocker(Registries::default());
    if !present("bundler", &relocker, "bundle", &[]) {
        return;
    }
    let source = GemSource::start();
    source.publish("leaf", "1.0.0", &[]);
    source.publish("mid", "1.0.0", &[("leaf", "~> 1.0")]);
    let repo = tempfile::tempdir().unwrap();
    std::fs::write(
        repo.path().join("Gemfile"),
        format!(
            "source \"{}\"\n\ngem \"mid\", \"~> 1.0\"\n",
            source.server.url
        ),
    )
    .unwrap();
    let home = tempfile::tempdir().unwrap();
    let env = [
        ("HOME", home.path()),
        ("BUNDLE_USER_HOME", &home.path().join("bundle")),
        ("BUNDLE_APP_CONFIG", &home.path().join("config")),
    ];
    let program = relock::availability(&relocker.path)
        .0
        .into_iter()
        .find_map(|(m, found)| (m == Manager::Bundler).then_some(found).flatten())
        .expect("bundle on PATH");
    tool(repo.path(), &program, &["lock"], &relocker.path, &env);
    source.publish("leaf", "1.0.1", &[]);
    let request = leaf_request(Manager::Bundler, "Gemfile.lock", "1.0.0", "1.0.1");
    time(c, "bundler", &relocker, &request, repo.path());
}

criterion_group!(
    benches,
    npm_and_yarn,
    cargo,
    poetry,
    go,
    pnpm,
    uv,
    pipenv,
    composer,
    bundler
);
criterion_main!(benches);
