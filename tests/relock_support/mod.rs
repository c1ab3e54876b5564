//! Local registries for the re-lock tests and benches/relock.rs, started on loopback by them and
//! stopped (by their own process id) when dropped: Verdaccio for npm and yarn (no uplinks, so
//! nothing leaves the machine), a static sparse crates index, pypiserver, a `GOPROXY=file://`
//! folder, a static Composer repository and a `gem generate_index` gem source. Fixtures are
//! published to them by the tests.
#![allow(dead_code)]

use patchwright::relock::{Registries, Relocker};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Where scripts/relock-deps.sh installed Verdaccio and yarn.
pub fn test_deps() -> PathBuf {
    std::env::var_os("PATCHWRIGHT_TEST_DEPS")
        .map(PathBuf::from)
        .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/.test-deps").into())
}

/// A PATH with the test dependencies' binaries (yarn) ahead of the system's.
pub fn path_with_test_deps() -> std::ffi::OsString {
    let mut dirs = vec![test_deps().join("node_modules/.bin")];
    dirs.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    std::env::join_paths(dirs).unwrap()
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A bare HTTP/1.1 request; returns status and body.
pub fn http(method: &str, url: &str, headers: &[(&str, &str)], body: &[u8]) -> (u16, Vec<u8>) {
    let rest = url.strip_prefix("http://").expect("http URL");
    let (host, path) = rest
        .split_once('/')
        .map_or((rest, "/".to_string()), |(h, p)| (h, format!("/{p}")));
    let mut stream = TcpStream::connect(host).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("an HTTP response");
    let head = String::from_utf8_lossy(&response[..split]).to_string();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let mut body = response[split + 4..].to_vec();
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        body = dechunk(&body);
    }
    (status, body)
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(eol) = data.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let size =
            usize::from_str_radix(String::from_utf8_lossy(&data[..eol]).trim(), 16).unwrap_or(0);
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&data[eol + 2..eol + 2 + size]);
        data = &data[eol + 2 + size + 2..];
    }
}

/// Verdaccio on 127.0.0.1 with no uplinks, storage in a temporary folder.
pub struct Verdaccio {
    child: Child,
    pub url: String,
    /// A user config with the publishing token (NPM_CONFIG_USERCONFIG for `npm publish`).
    pub npmrc: PathBuf,
    pub dir: tempfile::TempDir,
}

impl Drop for Verdaccio {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Verdaccio {
    pub fn start() -> Verdaccio {
        let bin = test_deps().join("node_modules/.bin/verdaccio");
        assert!(
            bin.exists(),
            "{} is missing: run scripts/relock-deps.sh (or set PATCHWRIGHT_TEST_DEPS)",
            bin.display()
        );
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config.yaml");
        std::fs::write(
            &config,
            "storage: ./storage\nauth:\n  htpasswd:\n    file: ./htpasswd\n    max_users: 100\nuplinks: {}\npackages:\n  '**':\n    access: $all\n    publish: $all\nlog: { type: stdout, format: pretty, level: error }\n",
        )
        .unwrap();
        let port = free_port();
        let url = format!("http://127.0.0.1:{port}/");
        let child = Command::new(&bin)
            .args(["--config", config.to_str().unwrap(), "--listen"])
            .arg(format!("127.0.0.1:{port}"))
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("verdaccio starts");
        let mut verdaccio = Verdaccio {
            child,
            url: url.clone(),
            npmrc: dir.path().join("npmrc"),
            dir,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if TcpStream::connect(("127.0.0.1", port)).is_ok()
                && http("GET", &format!("{url}-/ping"), &[], b"").0 == 200
            {
                break;
            }
            assert!(Instant::now() < deadline, "verdaccio did not start in 60 s");
            if let Ok(Some(status)) = verdaccio.child.try_wait() {
                panic!("verdaccio exited: {status}");
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        let (status, body) = http(
            "PUT",
            &format!("{url}-/user/org.couchdb.user:fixtures"),
            &[("Content-Type", "application/json")],
            br#"{"name":"fixtures","password":"fixtures-password"}"#,
        );
        assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
        let token = serde_json::from_slice::<serde_json::Value>(&body).unwrap()["token"]
            .as_str()
            .unwrap()
            .to_string();
        std::fs::write(
            &verdaccio.npmrc,
            format!("registry={url}\n//127.0.0.1:{port}/:_authToken={token}\n"),
        )
        .unwrap();
        verdaccio
    }

    /// Publishes `name@version` with these runtime dependencies (name → range).
    pub fn publish(&self, name: &str, version: &str, dependencies: &[(&str, &str)]) {
        let pkg = tempfile::tempdir().unwrap();
        let deps: serde_json::Map<String, serde_json::Value> = dependencies
            .iter()
            .map(|(n, r)| (n.to_string(), serde_json::Value::String(r.to_string())))
            .collect();
        let manifest = serde_json::json!({
            "name": name, "version": version, "dependencies": deps,
        });
        std::fs::write(pkg.path().join("package.json"), manifest.to_string()).unwrap();
        std::fs::write(
            pkg.path().join("index.js"),
            format!("module.exports = '{version}';\n"),
        )
        .unwrap();
        let out = self.npm(pkg.path(), &["publish", "--ignore-scripts"]);
        assert!(
            out.status.success(),
            "publish {name}@{version}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// yarn classic (from the test dependencies) against this registry, install scripts off;
    /// asserts it succeeds and drops the node_modules it made.
    pub fn yarn(&self, dir: &Path, args: &[&str]) {
        let home = self.dir.path().join("yarn-home");
        std::fs::create_dir_all(&home).unwrap();
        let out = Command::new(test_deps().join("node_modules/.bin/yarn"))
            .args(args)
            .args([
                "--registry",
                &self.url,
                "--ignore-scripts",
                "--non-interactive",
            ])
            .current_dir(dir)
            .env("HOME", &home)
            .env("PATH", path_with_test_deps())
            .output()
            .expect("yarn runs");
        ok(out);
        let _ = std::fs::remove_dir_all(dir.join("node_modules"));
    }

    /// npm run against this registry with the publishing user config; HOME in the temp folder.
    pub fn npm(&self, dir: &Path, args: &[&str]) -> std::process::Output {
        let home = self.dir.path().join("home");
        std::fs::create_dir_all(&home).unwrap();
        Command::new("npm")
            .args(args)
            .args([
                "--registry",
                &self.url,
                "--loglevel=error",
                "--no-audit",
                "--no-fund",
            ])
            .current_dir(dir)
            .env("NPM_CONFIG_USERCONFIG", &self.npmrc)
            .env("npm_config_cache", home.join(".npm"))
            .env("HOME", &home)
            .output()
            .expect("npm runs")
    }
}

/// Asserts that a program the test ran succeeded, showing its output otherwise.
pub fn ok(out: std::process::Output) {
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `patchwright ARGS` in `repo` without the caller's config or catalog, with `env` added.
pub fn patchwright(
    repo: &Path,
    args: &[&str],
    env: &[(&str, &std::ffi::OsStr)],
) -> std::process::Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_patchwright"));
    command
        .args(args)
        .current_dir(repo)
        .env_remove("PATCHWRIGHT_CONFIG")
        .env_remove("PATCHWRIGHT_CATALOG");
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().expect("the binary runs")
}

/// Asserts that `patchwright fix` succeeded, printed each of `on_stderr` (the lockfile and
/// its re-locks) and `summary` on stdout.
pub fn assert_fixed(out: &std::process::Output, on_stderr: &[&str], summary: &str) {
    let (text, err) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(0), "{text}{err}");
    for line in on_stderr {
        assert!(err.contains(line), "{line:?} not in {err}");
    }
    assert!(text.contains(summary), "{text}{err}");
}

/// Asserts that `patchwright scan` found nothing that blocks (exit status 0).
pub fn assert_scan_clean(out: &std::process::Output) {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// A relocker against `registries` that finds the package managers the test dependencies
/// bring (yarn, Poetry, Go) ahead of the system's (npm, cargo).
pub fn relocker(registries: Registries) -> Relocker {
    let mut relocker = Relocker::from_env(registries);
    let mut dirs = vec![test_deps().join("node_modules/.bin"), venv_bin()];
    dirs.extend(std::env::split_paths(&relocker.path));
    relocker.path = std::env::join_paths(dirs).unwrap();
    relocker
}

/// Every file below `root` (path relative to it, text), sorted: a fixture repository, where
/// nothing was built.
pub fn files_below(root: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                out.push((rel, std::fs::read_to_string(&path).unwrap()));
            }
        }
    }
    out.sort();
    out
}

/// The example catalog with the test's own advisories, each `(id, ecosystem, package, first
/// fixed version)`, written to `dir` and read back as OSV records.
pub fn knowledge_with(
    dir: &Path,
    advisories: &[(&str, &str, &str, &str)],
) -> patchwright::pipeline::Knowledge {
    for (id, ecosystem, name, fixed) in advisories {
        write_advisory(dir, id, ecosystem, name, fixed);
    }
    let (records, _) = patchwright::catalog::read_json_records(dir);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    patchwright::pipeline::Knowledge {
        catalog: patchwright::catalog::load_catalog(&root.join("fixtures/catalog.example.toml"))
            .unwrap(),
        advisories: patchwright::catalog::AdvisoryDb::from_json_records(&records).0,
        policy: patchwright::policy::OrgPolicy::default(),
    }
}

/// Recursively copies a folder.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// An OSV advisory for `name` (ecosystem as OSV spells it), affected from 0 up to `fixed`.
pub fn write_advisory(dir: &Path, id: &str, ecosystem: &str, name: &str, fixed: &str) {
    let eco_dir = dir.join(ecosystem);
    std::fs::create_dir_all(&eco_dir).unwrap();
    let osv = serde_json::json!({
        "schema_version": "1.6.0",
        "id": id,
        "modified": "2026-01-01T00:00:00Z",
        "published": "2026-01-01T00:00:00Z",
        "summary": format!("{name} is vulnerable before {fixed}"),
        "affected": [{
            "package": {"ecosystem": ecosystem, "name": name},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}]
        }],
        "database_specific": {"severity": "HIGH"}
    });
    std::fs::write(eco_dir.join(format!("{id}.json")), osv.to_string()).unwrap();
}

/// A static file server on 127.0.0.1 (one thread per connection, `Connection: close`), enough
/// for a sparse crates index and its `.crate` files. Stopped when dropped.
pub struct StaticServer {
    pub url: String,
    pub root: PathBuf,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    port: u16,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl StaticServer {
    pub fn start(root: &Path) -> StaticServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (served, flag) = (root.to_path_buf(), stop.clone());
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if flag.load(std::sync::atomic::Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let root = served.clone();
                std::thread::spawn(move || serve_one(stream, &root));
            }
        });
        StaticServer {
            url: format!("http://127.0.0.1:{port}/"),
            root: root.to_path_buf(),
            stop,
            port,
            thread: Some(thread),
        }
    }
}

impl Drop for StaticServer {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve_one(mut stream: TcpStream, root: &Path) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return,
        }
    }
    let head = String::from_utf8_lossy(&head);
    let path = head.split_whitespace().nth(1).unwrap_or("/");
    let path = path.split('?').next().unwrap_or("/");
    let file = (!path.contains(".."))
        .then(|| root.join(path.trim_start_matches('/')))
        .filter(|p| p.is_file());
    let response = match file.and_then(|p| std::fs::read(p).ok()) {
        Some(body) => {
            let mut r = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            )
            .into_bytes();
            r.extend(body);
            r
        }
        None => {
            b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec()
        }
    };
    let _ = stream.write_all(&response);
}

/// A sparse crates registry in a folder served by a [`StaticServer`]: `index/` and
/// `crates/NAME/VERSION/download`.
pub struct CratesRegistry {
    pub server: StaticServer,
    pub dir: tempfile::TempDir,
}

impl CratesRegistry {
    pub fn start() -> CratesRegistry {
        let dir = tempfile::tempdir().unwrap();
        let server = StaticServer::start(dir.path());
        std::fs::create_dir_all(dir.path().join("index")).unwrap();
        std::fs::write(
            dir.path().join("index/config.json"),
            format!(
                "{{\"dl\": \"{}crates/{{crate}}/{{version}}/download\"}}",
                server.url
            ),
        )
        .unwrap();
        CratesRegistry { server, dir }
    }

    /// The index URL as cargo wants it.
    pub fn index(&self) -> String {
        format!("sparse+{}index/", self.server.url)
    }

    /// `--config` arguments that replace crates.io with this registry.
    pub fn config_args(&self) -> Vec<String> {
        vec![
            "--config".into(),
            "source.crates-io.replace-with=\"local\"".into(),
            "--config".into(),
            format!("source.local.registry=\"{}\"", self.index()),
        ]
    }

    /// Publishes a tiny library crate with these dependencies (name → requirement): its
    /// `.crate` (a gzipped tar, made with `tar`) and its index line with the checksum.
    pub fn publish(&self, name: &str, version: &str, deps: &[(&str, &str)]) {
        use sha2::Digest;
        let work = tempfile::tempdir().unwrap();
        let folder = work.path().join(format!("{name}-{version}"));
        std::fs::create_dir_all(folder.join("src")).unwrap();
        let mut manifest = format!(
            "[package]\nname = \"{name}\"\nversion = \"{version}\"\nedition = \"2021\"\n\n[dependencies]\n"
        );
        for (dep, req) in deps {
            manifest.push_str(&format!("{dep} = \"{req}\"\n"));
        }
        std::fs::write(folder.join("Cargo.toml"), manifest).unwrap();
        std::fs::write(folder.join("src/lib.rs"), "").unwrap();
        let crate_file = work.path().join("out.crate");
        let status = Command::new("tar")
            .args(["-czf"])
            .arg(&crate_file)
            .arg("-C")
            .arg(work.path())
            .arg(format!("{name}-{version}"))
            .status()
            .unwrap();
        assert!(status.success());
        let bytes = std::fs::read(&crate_file).unwrap();
        let dl = self.dir.path().join(format!("crates/{name}/{version}"));
        std::fs::create_dir_all(&dl).unwrap();
        std::fs::write(dl.join("download"), &bytes).unwrap();
        let cksum = hex::encode(sha2::Sha256::digest(&bytes));
        let deps: Vec<serde_json::Value> = deps
            .iter()
            .map(|(dep, req)| {
                serde_json::json!({"name": dep, "req": req, "features": [], "optional": false,
                    "default_features": true, "target": null, "kind": "normal"})
            })
            .collect();
        let line = serde_json::json!({"name": name, "vers": version, "deps": deps,
            "cksum": cksum, "features": {}, "yanked": false});
        let lower = name.to_ascii_lowercase();
        let rel = match lower.len() {
            1 => format!("1/{lower}"),
            2 => format!("2/{lower}"),
            3 => format!("3/{}/{lower}", &lower[..1]),
            _ => format!("{}/{}/{lower}", &lower[..2], &lower[2..4]),
        };
        let path = self.dir.path().join("index").join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .unwrap();
        writeln!(file, "{line}").unwrap();
    }

    /// cargo with a private CARGO_HOME and this registry in place of crates.io.
    pub fn cargo(&self, dir: &Path, args: &[&str]) -> std::process::Output {
        let home = self.dir.path().join("cargo-home");
        Command::new("cargo")
            .args(args)
            .args(self.config_args())
            .current_dir(dir)
            .env("CARGO_HOME", home)
            .env("CARGO_TERM_COLOR", "never")
            .output()
            .expect("cargo runs")
    }
}

/// The virtualenv scripts/relock-deps.sh made with Poetry and pypiserver.
pub fn venv_bin() -> PathBuf {
    test_deps().join("venv/bin")
}

/// pypiserver on 127.0.0.1 serving a folder of wheels (new ones are picked up without a
/// restart), no fallback to the public index.
pub struct PyPiServer {
    child: Child,
    pub simple: String,
    pub packages: PathBuf,
    pub dir: tempfile::TempDir,
}

impl Drop for PyPiServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const MAKE_WHEEL: &str = r#"
import sys, zipfile, hashlib, base64
outdir, name, version, requires = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
dist = f"{name}-{version}.dist-info"
files = {
    f"{name}/__init__.py": f"__version__ = '{version}'\n",
    f"{dist}/METADATA": "Metadata-Version: 2.1\nName: %s\nVersion: %s\n%s"
        % (name, version, "".join(f"Requires-Dist: {r}\n" for r in requires)),
    f"{dist}/WHEEL": "Wheel-Version: 1.0\nGenerator: patchwright-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
}
record = []
with zipfile.ZipFile(f"{outdir}/{name}-{version}-py3-none-any.whl", "w") as z:
    for path, text in files.items():
        data = text.encode()
        z.writestr(path, data)
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    record.append(f"{dist}/RECORD,,")
    z.writestr(f"{dist}/RECORD", "\n".join(record) + "\n")
"#;

impl PyPiServer {
    pub fn start() -> PyPiServer {
        let bin = venv_bin().join("pypi-server");
        assert!(
            bin.exists(),
            "{} is missing: run scripts/relock-deps.sh (or set PATCHWRIGHT_TEST_DEPS)",
            bin.display()
        );
        let dir = tempfile::tempdir().unwrap();
        let packages = dir.path().join("packages");
        std::fs::create_dir_all(&packages).unwrap();
        std::fs::write(dir.path().join("make_wheel.py"), MAKE_WHEEL).unwrap();
        let port = free_port();
        let child = Command::new(&bin)
            .args(["run", "-p", &port.to_string(), "-i", "127.0.0.1"])
            .args(["--disable-fallback", "-a", ".", "-P", "."])
            .arg(&packages)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("pypi-server starts");
        let mut server = PyPiServer {
            child,
            simple: format!("http://127.0.0.1:{port}/simple/"),
            packages,
            dir,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "pypi-server did not start in 60 s"
            );
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!("pypi-server exited: {status}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        server
    }

    /// Writes a tiny pure-Python wheel with these requirements (`"leaf>=1.0,<2"`).
    pub fn publish(&self, name: &str, version: &str, requires: &[&str]) {
        let out = Command::new(venv_bin().join("python"))
            .arg(self.dir.path().join("make_wheel.py"))
            .arg(&self.packages)
            .args([name, version])
            .args(requires)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Poetry with its own HOME, cache and config; `cache` names a fresh cache so an index page
    /// seen before a publish is not reused.
    pub fn poetry(&self, dir: &Path, cache: &str, args: &[&str]) -> std::process::Output {
        let home = self.dir.path().join("home");
        Command::new(venv_bin().join("poetry"))
            .args(args)
            .current_dir(dir)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &home)
            .env("POETRY_CACHE_DIR", home.join(cache))
            .env("POETRY_CONFIG_DIR", home.join("config"))
            .env("POETRY_NO_INTERACTION", "1")
            .env("POETRY_VIRTUALENVS_CREATE", "false")
            .env("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
            .env("PIP_CONFIG_FILE", "/dev/null")
            .output()
            .expect("poetry runs")
    }
}

const MAKE_MODULE: &str = r#"
import sys, zipfile, os, json
proxy, module, version, requires = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
d = os.path.join(proxy, module, "@v")
os.makedirs(d, exist_ok=True)
gomod = f"module {module}\n\ngo 1.21\n" + "".join(f"\nrequire {r}\n" for r in requires)
open(os.path.join(d, f"{version}.mod"), "w").write(gomod)
open(os.path.join(d, f"{version}.info"), "w").write(json.dumps({"Version": version, "Time": "2026-01-01T00:00:00Z"}))
with zipfile.ZipFile(os.path.join(d, f"{version}.zip"), "w") as z:
    z.writestr(f"{module}@{version}/go.mod", gomod)
    z.writestr(f"{module}@{version}/lib.go", "package " + module.rsplit("/", 1)[-1] + "\n")
listing = os.path.join(d, "list")
versions = open(listing).read().split() if os.path.exists(listing) else []
open(listing, "w").write("\n".join(versions + [version]) + "\n")
"#;

/// A `GOPROXY=file://` module proxy in a temporary folder.
pub struct GoProxy {
    pub dir: tempfile::TempDir,
}

impl GoProxy {
    pub fn new() -> GoProxy {
        let go = venv_bin().join("go");
        assert!(
            go.exists(),
            "{} is missing: run scripts/relock-deps.sh (or set PATCHWRIGHT_TEST_DEPS)",
            go.display()
        );
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("proxy")).unwrap();
        std::fs::write(dir.path().join("make_module.py"), MAKE_MODULE).unwrap();
        GoProxy { dir }
    }

    pub fn url(&self) -> String {
        format!("file://{}", self.dir.path().join("proxy").display())
    }

    /// Adds `module@version` (its .info, .mod and .zip) with these `require` lines.
    pub fn publish(&self, module: &str, version: &str, requires: &[&str]) {
        let out = Command::new(venv_bin().join("python"))
            .arg(self.dir.path().join("make_module.py"))
            .arg(self.dir.path().join("proxy"))
            .args([module, version])
            .args(requires)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// The go command against this proxy, with its own GOPATH and caches.
    pub fn go(&self, dir: &Path, args: &[&str]) -> std::process::Output {
        let home = self.dir.path().join("home");
        Command::new(venv_bin().join("go"))
            .args(args)
            .current_dir(dir)
            .env("GOPROXY", self.url())
            .env("GOSUMDB", "off")
            .env("GOFLAGS", "-mod=mod")
            .env("GOTOOLCHAIN", "local")
            .env("GOTELEMETRY", "off")
            .env("GOPATH", home.join("go"))
            .env("GOMODCACHE", home.join("go/pkg/mod"))
            .env("GOCACHE", home.join("go-build"))
            .output()
            .expect("go runs")
    }
}

/// A Composer repository in a folder: every published version is in `packages.json`, its dist
/// zip under `dist/`.
pub struct ComposerRepo {
    pub server: StaticServer,
    _dir: tempfile::TempDir,
    packages: std::cell::RefCell<serde_json::Map<String, serde_json::Value>>,
}

impl ComposerRepo {
    pub fn start() -> ComposerRepo {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("dist")).unwrap();
        ComposerRepo {
            server: StaticServer::start(dir.path()),
            _dir: dir,
            packages: Default::default(),
        }
    }

    pub fn publish(&self, name: &str, version: &str, requires: &[(&str, &str)]) {
        let require: serde_json::Map<String, serde_json::Value> = requires
            .iter()
            .map(|(n, r)| (n.to_string(), serde_json::Value::String(r.to_string())))
            .collect();
        let file = format!("dist/{}-{version}.zip", name.replace('/', "-"));
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        zip.start_file("composer.json", zip::write::SimpleFileOptions::default())
            .unwrap();
        let manifest = serde_json::json!({"name": name, "require": require});
        std::io::Write::write_all(&mut zip, manifest.to_string().as_bytes()).unwrap();
        let bytes = zip.finish().unwrap().into_inner();
        std::fs::write(self.server.root.join(&file), &bytes).unwrap();
        let shasum = hex(&<sha1::Sha1 as sha1::Digest>::digest(&bytes));
        let entry = serde_json::json!({
            "name": name, "version": version, "type": "library", "require": require,
            "dist": {"type": "zip", "url": format!("{}{file}", self.server.url), "shasum": shasum},
        });
        let mut packages = self.packages.borrow_mut();
        packages
            .entry(name.to_string())
            .or_insert_with(|| serde_json::json!({}))
            .as_object_mut()
            .unwrap()
            .insert(version.to_string(), entry);
        let index = serde_json::json!({"packages": *packages});
        std::fs::write(self.server.root.join("packages.json"), index.to_string()).unwrap();
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A gem source in a folder: `gems/*.gem` and the index `gem generate_index` writes.
pub struct GemSource {
    pub server: StaticServer,
    _dir: tempfile::TempDir,
    build: tempfile::TempDir,
}

impl GemSource {
    pub fn start() -> GemSource {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("gems")).unwrap();
        GemSource {
            server: StaticServer::start(dir.path()),
            _dir: dir,
            build: tempfile::tempdir().unwrap(),
        }
    }

    /// Builds `name-version.gem` with these runtime dependencies and re-indexes the source.
    pub fn publish(&self, name: &str, version: &str, deps: &[(&str, &str)]) {
        let work = self.build.path().join(format!("{name}-{version}"));
        std::fs::create_dir_all(work.join("lib")).unwrap();
        std::fs::write(work.join(format!("lib/{name}.rb")), "module Fixture; end\n").unwrap();
        let deps: String = deps
            .iter()
            .map(|(n, r)| format!("  s.add_dependency \"{n}\", \"{r}\"\n"))
            .collect();
        std::fs::write(
            work.join(format!("{name}.gemspec")),
            format!(
                "Gem::Specification.new do |s|\n  s.name = \"{name}\"\n  s.version = \"{version}\"\n  s.summary = \"fixture\"\n  s.authors = [\"t\"]\n  s.license = \"MIT\"\n  s.files = [\"lib/{name}.rb\"]\n{deps}end\n"
            ),
        )
        .unwrap();
        gem(&work, &["build", "--silent", &format!("{name}.gemspec")]);
        std::fs::rename(
            work.join(format!("{name}-{version}.gem")),
            self.server.root.join(format!("gems/{name}-{version}.gem")),
        )
        .unwrap();
        let root = self.server.root.to_str().unwrap().to_string();
        gem(&work, &["generate_index", "--directory", &root]);
    }
}

/// `gem ARGS` in `dir`, for [`GemSource`].
fn gem(dir: &Path, args: &[&str]) {
    let out = Command::new("gem")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("gem runs ({e}): run scripts/relock-deps.sh"));
    ok(out);
}
