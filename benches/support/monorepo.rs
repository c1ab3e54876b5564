//! A generated monorepo for the scan benchmark: 1,000 Dockerfiles, 22 lockfiles of 5,000
//! packages each (two of each of eleven formats), 100 Compose files and 100 multi-document
//! Kubernetes manifests in the Dockerfiles' folders, and 20,000 OSV advisories over the same
//! package names (npm, PyPI, crates.io, Go, RubyGems, Packagist), all in memory and the same
//! bytes on every run (seeded).
//!
//! Advisories are drawn from the same skewed popularity as lockfile entries, with mostly narrow
//! version ranges, so a few percent of the installed packages match: the shape of a real
//! organisation's scan, not a worst case where every package is vulnerable.

use super::rng::Rng;
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;

pub const DOCKERFILES: usize = 1_000;
/// Two of each format `lockfile` writes.
pub const LOCKFILES: usize = 22;
pub const COMPOSE_FILES: usize = 100;
pub const KUBERNETES_MANIFESTS: usize = 100;
pub const PACKAGES_PER_LOCKFILE: usize = 5_000;
pub const ADVISORIES: usize = 20_000;
/// Distinct names per ecosystem: larger than one lockfile, so lockfiles of one ecosystem
/// overlap (popular packages) without being copies of each other.
const POOL: usize = 12_000;
const SEED: u64 = 0x5EED_2026;

pub struct Monorepo {
    /// Repository-relative path → content.
    pub files: Vec<(String, String)>,
    /// File name → OSV JSON, as `AdvisoryDb::from_json_records` takes them.
    pub advisories: Vec<(String, String)>,
}

impl Monorepo {
    pub fn generate() -> Monorepo {
        let mut rng = Rng::new(SEED);
        let mut files =
            Vec::with_capacity(DOCKERFILES + LOCKFILES + COMPOSE_FILES + KUBERNETES_MANIFESTS);
        for i in 0..DOCKERFILES {
            files.push(dockerfile(&mut rng, i));
        }
        for k in 0..LOCKFILES {
            files.push(lockfile(&mut rng, k));
        }
        // In every fifth service's folder, one or the other.
        for c in 0..COMPOSE_FILES {
            files.push(compose(&mut rng, c * 10));
        }
        for m in 0..KUBERNETES_MANIFESTS {
            files.push(kubernetes(&mut rng, m * 10 + 5));
        }
        let advisories = (0..ADVISORIES).map(|i| advisory(&mut rng, i)).collect();
        Monorepo { files, advisories }
    }

    pub fn manifest_bytes(&self) -> u64 {
        self.files.iter().map(|(_, c)| c.len() as u64).sum()
    }

    pub fn advisory_bytes(&self) -> u64 {
        self.advisories.iter().map(|(_, c)| c.len() as u64).sum()
    }

    /// Writes `dir/repo/…` and `dir/advisories/…`, for timing the release binary on the same
    /// input (`/usr/bin/time -v patchwright scan dir/repo --advisories dir/advisories`).
    pub fn write_to(&self, dir: &Path) -> std::io::Result<()> {
        for (rel, content) in &self.files {
            write(&dir.join("repo").join(rel), content)?;
        }
        for (name, json) in &self.advisories {
            write(&dir.join("advisories").join(name), json)?;
        }
        Ok(())
    }
}

fn write(path: &Path, content: &str) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(path, content)
}

// ---- package names and versions ---------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq)]
enum Eco {
    Npm,
    PyPI,
    Crates,
    Go,
    RubyGems,
    Packagist,
}

impl Eco {
    fn osv(self) -> &'static str {
        match self {
            Eco::Npm => "npm",
            Eco::PyPI => "PyPI",
            Eco::Crates => "crates.io",
            Eco::Go => "Go",
            Eco::RubyGems => "RubyGems",
            Eco::Packagist => "Packagist",
        }
    }
}

const SYLLABLES: [&str; 16] = [
    "ax", "bel", "cor", "dun", "el", "fa", "gri", "hex", "io", "jo", "ka", "lum", "mi", "nox",
    "or", "pa",
];

/// Names the example catalog has rules for come first, so the most popular generated packages
/// meet catalog minimums and bans as well as advisories.
fn package_name(eco: Eco, n: usize) -> String {
    let known: &[&str] = match eco {
        Eco::Npm => &["lodash", "minimist"],
        Eco::PyPI => &["urllib3", "Django", "pycrypto"],
        Eco::Crates => &["tokio"],
        Eco::Go => &["golang.org/x/text", "golang.org/x/crypto"],
        Eco::RubyGems => &["rack", "nokogiri"],
        Eco::Packagist => &["symfony/http-kernel", "guzzlehttp/guzzle"],
    };
    if let Some(name) = known.get(n) {
        return (*name).to_string();
    }
    let (a, b) = (SYLLABLES[n % 16], SYLLABLES[(n / 16) % 16]);
    match eco {
        Eco::Npm if n % 5 == 0 => format!("@{a}{b}/{b}{a}-{n}"),
        Eco::Npm => format!("{a}{b}-{n}"),
        Eco::PyPI => format!("py{a}-{b}-{n}"),
        Eco::Crates => format!("{a}{b}_{n}"),
        Eco::Go => format!("github.com/{a}{b}{}/{b}{a}-{n}", n % 97),
        Eco::RubyGems if n % 3 == 0 => format!("{a}_{b}-{n}"),
        Eco::RubyGems => format!("{a}{b}-{n}"),
        Eco::Packagist => format!("{a}{b}/{b}{a}-{n}"),
    }
}

/// How a lockfile spells a PyPI name: sometimes `Py_Name.x` where advisories say `py-name-x`,
/// so the PEP 503 normalisation is on the measured path.
fn pypi_spelling(name: &str, n: usize) -> String {
    if n % 10 == 3 {
        let mut s = name.replacen('-', "_", 1);
        s[..1].make_ascii_uppercase();
        s
    } else {
        name.to_string()
    }
}

#[derive(Clone, Copy)]
struct Ver(u32, u32, u32);

impl std::fmt::Display for Ver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.0, self.1, self.2)
    }
}

/// Go module paths at major ≥ 2 carry a `/vN` suffix; keeping Go at 0.x and 1.x keeps one
/// path per module.
fn version(rng: &mut Rng, eco: Eco) -> Ver {
    let majors = if eco == Eco::Go { 2 } else { 6 };
    Ver(
        rng.skewed(majors) as u32,
        rng.below(25) as u32,
        rng.below(30) as u32,
    )
}

/// `count` distinct pool indices, popular ones more likely, in name order as lockfiles are.
fn choose_packages(rng: &mut Rng, eco: Eco, count: usize) -> Vec<(usize, String)> {
    let mut chosen = BTreeSet::new();
    while chosen.len() < count {
        chosen.insert(rng.skewed(POOL));
    }
    let mut named: Vec<(usize, String)> = chosen
        .into_iter()
        .map(|n| (n, package_name(eco, n)))
        .collect();
    named.sort_by(|a, b| a.1.cmp(&b.1));
    named
}

// ---- lockfiles ----------------------------------------------------------------------------------

fn lockfile(rng: &mut Rng, k: usize) -> (String, String) {
    match k % 11 {
        0 => package_lock(rng, k),
        1 => yarn_lock(rng, k),
        2 => pnpm_lock(rng, k),
        3 => cargo_lock(rng, k),
        4 => poetry_lock(rng, k),
        5 => uv_lock(rng, k),
        6 => pipfile_lock(rng, k),
        7 => requirements(rng, k),
        8 => gemfile_lock(rng, k),
        9 => composer_lock(rng, k),
        _ => go_mod(rng, k),
    }
}

/// Whether a generated path is one of the lockfiles (not a Dockerfile, Compose file or
/// Kubernetes manifest).
pub fn is_lockfile(path: &str) -> bool {
    !(path.ends_with("Dockerfile")
        || path.ends_with("/compose.yaml")
        || path.ends_with("/kubernetes.yaml"))
}

fn npm_tarball(name: &str, v: Ver) -> String {
    let base = name.rsplit('/').next().unwrap_or(name);
    format!("https://registry.npmjs.org/{name}/-/{base}-{v}.tgz")
}

/// `lockfileVersion: 3`: only `packages`, keyed by install path. One package in twenty has a
/// second, nested copy at another version (npm does this when ranges conflict); the nested
/// copies count towards the 5,000.
fn package_lock(rng: &mut Rng, k: usize) -> (String, String) {
    let nested = PACKAGES_PER_LOCKFILE / 20;
    let names = choose_packages(rng, Eco::Npm, PACKAGES_PER_LOCKFILE - nested);
    let app = format!("app-{k}");
    let mut packages = Map::new();
    let mut root_deps = Map::new();
    for (_, name) in names.iter().take(40) {
        root_deps.insert(name.clone(), json!("*"));
    }
    packages.insert(
        String::new(),
        json!({ "name": app, "version": "1.0.0", "dependencies": root_deps }),
    );
    for (i, (_, name)) in names.iter().enumerate() {
        let v = version(rng, Eco::Npm);
        let mut entry = json!({
            "version": v.to_string(),
            "resolved": npm_tarball(name, v),
            "integrity": format!("sha512-{}==", rng.base64(86)),
        });
        if rng.chance(30) {
            let mut deps = Map::new();
            for _ in 0..1 + rng.below(4) {
                let (_, dep) = rng.pick(&names);
                deps.insert(dep.clone(), json!(format!("^{}.0.0", rng.below(5))));
            }
            entry["dependencies"] = Value::Object(deps);
        }
        if rng.chance(25) {
            entry["dev"] = json!(true);
        }
        packages.insert(format!("node_modules/{name}"), entry);
        if i % 19 == 7 {
            let (_, child) = rng.pick(&names);
            let v = version(rng, Eco::Npm);
            packages.insert(
                format!("node_modules/{name}/node_modules/{child}"),
                json!({
                    "version": v.to_string(),
                    "resolved": npm_tarball(child, v),
                    "integrity": format!("sha512-{}==", rng.base64(86)),
                }),
            );
        }
    }
    let doc = json!({
        "name": app,
        "version": "1.0.0",
        "lockfileVersion": 3,
        "requires": true,
        "packages": packages,
    });
    let mut text = serde_json::to_string_pretty(&doc).unwrap_or_default();
    text.push('\n');
    (format!("web/app-{k}/package-lock.json"), text)
}

fn yarn_key(name: &str, range: &str) -> String {
    if name.starts_with('@') {
        format!("\"{name}@{range}\"")
    } else {
        format!("{name}@{range}")
    }
}

/// Yarn classic (v1): one block per resolved version, keyed by every range that resolved to it.
fn yarn_lock(rng: &mut Rng, k: usize) -> (String, String) {
    let names = choose_packages(rng, Eco::Npm, PACKAGES_PER_LOCKFILE);
    let mut out = String::from(
        "# THIS IS AN AUTOGENERATED FILE. DO NOT EDIT THIS FILE DIRECTLY.\n# yarn lockfile v1\n\n",
    );
    for (_, name) in &names {
        let v = version(rng, Eco::Npm);
        let mut keys = vec![yarn_key(name, &format!("^{}.{}.0", v.0, v.1))];
        if rng.chance(30) {
            keys.push(yarn_key(name, &format!("~{v}")));
        }
        let _ = writeln!(out, "\n{}:", keys.join(", "));
        let _ = writeln!(out, "  version \"{v}\"");
        let base = name.rsplit('/').next().unwrap_or(name);
        let _ = writeln!(
            out,
            "  resolved \"https://registry.yarnpkg.com/{name}/-/{base}-{v}.tgz#{}\"",
            rng.hex(40)
        );
        let _ = writeln!(out, "  integrity sha512-{}==", rng.base64(86));
        if rng.chance(30) {
            out.push_str("  dependencies:\n");
            for _ in 0..1 + rng.below(3) {
                let (_, dep) = rng.pick(&names);
                let quoted = if dep.starts_with('@') {
                    format!("\"{dep}\"")
                } else {
                    dep.clone()
                };
                let _ = writeln!(out, "    {quoted} \"^{}.0.0\"", rng.below(5));
            }
        }
    }
    (format!("web/ui-{k}/yarn.lock"), out)
}

/// Cargo.lock, format version 3 or 4 alternately; the first entry is the workspace's own crate.
fn cargo_lock(rng: &mut Rng, k: usize) -> (String, String) {
    let names = choose_packages(rng, Eco::Crates, PACKAGES_PER_LOCKFILE - 1);
    let format = if k % 2 == 0 { 3 } else { 4 };
    let mut out = format!(
        "# This file is automatically @generated by Cargo.\n# It is not intended for manual editing.\nversion = {format}\n"
    );
    let _ = writeln!(
        out,
        "\n[[package]]\nname = \"crate-{k}\"\nversion = \"0.1.0\"\ndependencies = ["
    );
    for (_, name) in names.iter().take(30) {
        let _ = writeln!(out, " \"{name}\",");
    }
    out.push_str("]\n");
    for (_, name) in &names {
        let v = version(rng, Eco::Crates);
        let _ = writeln!(
            out,
            "\n[[package]]\nname = \"{name}\"\nversion = \"{v}\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\nchecksum = \"{}\"",
            rng.hex(64)
        );
        if rng.chance(30) {
            out.push_str("dependencies = [\n");
            for _ in 0..1 + rng.below(3) {
                let (_, dep) = rng.pick(&names);
                let _ = writeln!(out, " \"{dep}\",");
            }
            out.push_str("]\n");
        }
    }
    (format!("rust/crate-{k}/Cargo.lock"), out)
}

fn poetry_lock(rng: &mut Rng, k: usize) -> (String, String) {
    let names = choose_packages(rng, Eco::PyPI, PACKAGES_PER_LOCKFILE);
    let mut out = String::from(
        "# This file is automatically @generated by Poetry 1.8.3 and should not be changed by hand.\n",
    );
    for (n, name) in &names {
        let v = version(rng, Eco::PyPI);
        let spelled = pypi_spelling(name, *n);
        let _ = writeln!(
            out,
            "\n[[package]]\nname = \"{spelled}\"\nversion = \"{v}\"\ndescription = \"Generated package {n}\"\noptional = false\npython-versions = \">=3.8\"\nfiles = [\n    {{file = \"{}-{v}-py3-none-any.whl\", hash = \"sha256:{}\"}},\n    {{file = \"{}-{v}.tar.gz\", hash = \"sha256:{}\"}},\n]",
            spelled.replace('-', "_"),
            rng.hex(64),
            spelled,
            rng.hex(64)
        );
        if rng.chance(30) {
            out.push_str("\n[package.dependencies]\n");
            let (_, dep) = rng.pick(&names);
            let _ = writeln!(out, "{dep} = \">={}.0\"", rng.below(5));
        }
    }
    let _ = writeln!(
        out,
        "\n[metadata]\nlock-version = \"2.0\"\npython-versions = \"^3.11\"\ncontent-hash = \"{}\"",
        rng.hex(64)
    );
    (format!("py/svc-{k}/poetry.lock"), out)
}

/// pnpm-lock.yaml v9: importers (the root and two workspace packages), `packages` with
/// integrity hashes, `snapshots` with dependencies and some peer-suffixed keys.
fn pnpm_lock(rng: &mut Rng, k: usize) -> (String, String) {
    let names = choose_packages(rng, Eco::Npm, PACKAGES_PER_LOCKFILE);
    let versions: Vec<Ver> = names.iter().map(|_| version(rng, Eco::Npm)).collect();
    let quoted = |key: &str| {
        if key.starts_with('@') {
            format!("'{key}'")
        } else {
            key.to_string()
        }
    };
    let mut out = String::from(
        "lockfileVersion: '9.0'\n\nsettings:\n  autoInstallPeers: true\n  excludeLinksFromLockfile: false\n\nimporters:\n",
    );
    for (p, project) in [".", "packages/api", "packages/web"].iter().enumerate() {
        let _ = write!(out, "\n  {project}:\n");
        for (field, from) in [("dependencies", p * 30), ("devDependencies", 100 + p * 10)] {
            let _ = writeln!(out, "    {field}:");
            for i in from..from + 15 {
                let (name, v) = (&names[i].1, versions[i]);
                let _ = writeln!(
                    out,
                    "      {}:\n        specifier: ^{}.{}.0\n        version: {v}",
                    quoted(name),
                    v.0,
                    v.1
                );
            }
        }
    }
    out.push_str("\npackages:\n");
    for ((_, name), v) in names.iter().zip(&versions) {
        let _ = write!(
            out,
            "\n  {}:\n    resolution: {{integrity: sha512-{}==}}\n",
            quoted(&format!("{name}@{v}")),
            rng.base64(86)
        );
        if rng.chance(20) {
            let _ = writeln!(out, "    engines: {{node: '>={}'}}", 12 + rng.below(10));
        }
        if rng.chance(5) {
            out.push_str("    hasBin: true\n");
        }
    }
    out.push_str("\nsnapshots:\n");
    for (i, ((_, name), v)) in names.iter().zip(&versions).enumerate() {
        let key = if i % 40 == 3 {
            let (peer, peer_v) = (
                &names[(i * 7) % names.len()].1,
                versions[(i * 7) % names.len()],
            );
            format!("{name}@{v}({peer}@{peer_v})")
        } else {
            format!("{name}@{v}")
        };
        if rng.chance(30) {
            let _ = write!(out, "\n  {}:\n    dependencies:\n", quoted(&key));
            for _ in 0..1 + rng.below(3) {
                let d = rng.below(names.len());
                let _ = writeln!(out, "      {}: {}", quoted(&names[d].1), versions[d]);
            }
        } else {
            let _ = write!(out, "\n  {}: {{}}\n", quoted(&key));
        }
    }
    (format!("web/pnpm-{k}/pnpm-lock.yaml"), out)
}

/// uv.lock as `uv lock` writes it: the project (a virtual member) first, then every package
/// with its sdist and a wheel.
fn uv_lock(rng: &mut Rng, k: usize) -> (String, String) {
    let names = choose_packages(rng, Eco::PyPI, PACKAGES_PER_LOCKFILE);
    let mut out = String::from(
        "version = 1\nrevision = 3\nrequires-python = \">=3.10\"\n\n[[package]]\nname = \"svc\"\nversion = \"0.1.0\"\nsource = { virtual = \".\" }\ndependencies = [\n",
    );
    for (_, name) in names.iter().take(25) {
        let _ = writeln!(out, "    {{ name = \"{name}\" }},");
    }
    out.push_str("]\n");
    for (_, name) in &names {
        let v = version(rng, Eco::PyPI);
        let file = name.replace('-', "_");
        let _ = write!(
            out,
            "\n[[package]]\nname = \"{name}\"\nversion = \"{v}\"\nsource = {{ registry = \"https://pypi.org/simple\" }}\n"
        );
        if rng.chance(30) {
            out.push_str("dependencies = [\n");
            for _ in 0..1 + rng.below(3) {
                let (_, dep) = rng.pick(&names);
                let _ = writeln!(out, "    {{ name = \"{dep}\" }},");
            }
            out.push_str("]\n");
        }
        let _ = writeln!(
            out,
            "sdist = {{ url = \"https://files.pythonhosted.org/packages/{}/{file}-{v}.tar.gz\", hash = \"sha256:{}\", size = {}, upload-time = \"2025-06-18T09:00:10.843Z\" }}\nwheels = [\n    {{ url = \"https://files.pythonhosted.org/packages/{}/{file}-{v}-py3-none-any.whl\", hash = \"sha256:{}\", size = {}, upload-time = \"2025-06-18T09:00:09.676Z\" }},\n]",
            rng.hex(8),
            rng.hex(64),
            1000 + rng.below(90_000),
            rng.hex(8),
            rng.hex(64),
            1000 + rng.below(90_000)
        );
    }
    (format!("py/uv-{k}/uv.lock"), out)
}

/// Pipfile.lock (spec 6): most packages in `default`, a fifth in `develop`.
fn pipfile_lock(rng: &mut Rng, k: usize) -> (String, String) {
    let names = choose_packages(rng, Eco::PyPI, PACKAGES_PER_LOCKFILE);
    let mut default = Map::new();
    let mut develop = Map::new();
    for (i, (_, name)) in names.iter().enumerate() {
        let v = version(rng, Eco::PyPI);
        let mut entry = json!({
            "hashes": [format!("sha256:{}", rng.hex(64)), format!("sha256:{}", rng.hex(64))],
            "version": format!("=={v}"),
        });
        if rng.chance(40) {
            entry["markers"] = json!("python_version >= '3.8'");
        }
        if i % 5 == 4 {
            develop.insert(name.clone(), entry);
        } else {
            default.insert(name.clone(), entry);
        }
    }
    let doc = json!({
        "_meta": {
            "hash": { "sha256": rng.hex(64) },
            "pipfile-spec": 6,
            "requires": { "python_version": "3.12" },
            "sources": [{ "name": "pypi", "url": "https://pypi.org/simple", "verify_ssl": true }],
        },
        "default": default,
        "develop": develop,
    });
    let mut text = serde_json::to_string_pretty(&doc).unwrap_or_default();
    text.push('\n');
    (format!("py/pipenv-{k}/Pipfile.lock"), text)
}

/// Gemfile.lock (Bundler 2): `GEM` specs with requirements, one gem in thirty locked for a
/// second platform too, `DEPENDENCIES` naming forty of them.
fn gemfile_lock(rng: &mut Rng, k: usize) -> (String, String) {
    let names = choose_packages(rng, Eco::RubyGems, PACKAGES_PER_LOCKFILE);
    let mut out = String::from("GEM\n  remote: https://rubygems.org/\n  specs:\n");
    for (i, (_, name)) in names.iter().enumerate() {
        let v = version(rng, Eco::RubyGems);
        let _ = writeln!(out, "    {name} ({v})");
        if rng.chance(30) {
            for _ in 0..1 + rng.below(3) {
                let (_, dep) = rng.pick(&names);
                let _ = writeln!(out, "      {dep} (~> {}.{})", rng.below(5), rng.below(10));
            }
        }
        if i % 30 == 7 {
            let _ = writeln!(out, "    {name} ({v}-x86_64-linux)");
        }
    }
    out.push_str("\nPLATFORMS\n  ruby\n  x86_64-linux\n\nDEPENDENCIES\n");
    let mut direct: Vec<&String> = names.iter().take(40).map(|(_, n)| n).collect();
    direct.sort();
    for name in direct {
        let _ = writeln!(out, "  {name} (~> {}.0)", rng.below(5));
    }
    out.push_str("\nBUNDLED WITH\n   2.5.6\n");
    (format!("ruby/app-{k}/Gemfile.lock"), out)
}

/// composer.lock (Composer 2): `packages` and `packages-dev` with `require` maps, as Composer
/// writes them (four-space indentation, escaped slashes are not used).
fn composer_lock(rng: &mut Rng, k: usize) -> (String, String) {
    let names = choose_packages(rng, Eco::Packagist, PACKAGES_PER_LOCKFILE);
    let mut packages = Vec::new();
    let mut dev = Vec::new();
    for (i, (_, name)) in names.iter().enumerate() {
        let v = version(rng, Eco::Packagist);
        let version = if i % 3 == 0 {
            format!("v{v}")
        } else {
            v.to_string()
        };
        let reference = rng.hex(40);
        let mut require = Map::new();
        require.insert("php".into(), json!(">=8.1"));
        if rng.chance(40) {
            for _ in 0..1 + rng.below(3) {
                let (_, dep) = rng.pick(&names);
                require.insert(dep.clone(), json!(format!("^{}.0", rng.below(5))));
            }
        }
        let entry = json!({
            "name": name,
            "version": version,
            "source": { "type": "git", "url": format!("https://github.com/{name}.git"), "reference": reference },
            "dist": { "type": "zip", "url": format!("https://api.github.com/repos/{name}/zipball/{reference}"), "reference": reference, "shasum": "" },
            "require": require,
            "type": "library",
            "autoload": { "psr-4": { "Generated\\Pkg\\": "src/" } },
            "license": ["MIT"],
            "description": format!("Generated package {i}"),
            "time": "2025-09-12T12:18:52+00:00",
        });
        if i % 6 == 5 {
            dev.push(entry);
        } else {
            packages.push(entry);
        }
    }
    let doc = json!({
        "_readme": ["This file locks the dependencies of your project to a known state"],
        "content-hash": rng.hex(32),
        "packages": packages,
        "packages-dev": dev,
        "aliases": [],
        "minimum-stability": "stable",
        "stability-flags": {},
        "prefer-stable": false,
        "prefer-lowest": false,
        "platform": { "php": "^8.1" },
        "platform-dev": {},
        "plugin-api-version": "2.6.0",
    });
    let mut text = serde_json::to_string_pretty(&doc).unwrap_or_default();
    text.push('\n');
    (format!("php/app-{k}/composer.lock"), text)
}

/// pip-compile output: pinned, half of them with hashes, with `# via` comments.
fn requirements(rng: &mut Rng, k: usize) -> (String, String) {
    let names = choose_packages(rng, Eco::PyPI, PACKAGES_PER_LOCKFILE);
    let mut out = String::from(
        "#\n# This file is autogenerated by pip-compile with Python 3.12\n# by the following command:\n#\n#    pip-compile --generate-hashes requirements.in\n#\n--index-url https://pypi.org/simple\n\n",
    );
    for (n, name) in &names {
        let v = version(rng, Eco::PyPI);
        let spelled = pypi_spelling(name, *n);
        if rng.chance(50) {
            let _ = writeln!(
                out,
                "{spelled}=={v} \\\n    --hash=sha256:{} \\\n    --hash=sha256:{}",
                rng.hex(64),
                rng.hex(64)
            );
        } else {
            let _ = writeln!(out, "{spelled}=={v}");
        }
        let (_, via) = rng.pick(&names);
        let _ = writeln!(out, "    # via {via}");
    }
    (format!("py/job-{k}/requirements.txt"), out)
}

fn go_mod(rng: &mut Rng, k: usize) -> (String, String) {
    let names = choose_packages(rng, Eco::Go, PACKAGES_PER_LOCKFILE);
    let mut out = format!("module example.com/mono/mod-{k}\n\ngo 1.22.1\n\nrequire (\n");
    for (_, name) in &names {
        let v = version(rng, Eco::Go);
        let indirect = if rng.chance(60) { " // indirect" } else { "" };
        let _ = writeln!(out, "\t{name} v{v}{indirect}");
    }
    out.push_str(")\n");
    (format!("go/mod-{k}/go.mod"), out)
}

// ---- Dockerfiles --------------------------------------------------------------------------------

/// Images in the example catalog, with tags that are approved, end-of-life, known vulnerable
/// or unapproved there.
const CATALOG_IMAGES: &[(&str, &[&str])] = &[
    (
        "node",
        &[
            "14-alpine",
            "16.20.2-bullseye-slim",
            "18.17.1-alpine",
            "20.5.0-alpine",
            "20.11.1-alpine",
            "22.11.0-alpine",
            "22-bookworm-slim",
            "lts",
        ],
    ),
    (
        "python",
        &[
            "3.7-slim",
            "3.9.18-slim-bookworm",
            "3.11",
            "3.12-slim",
            "3.14.6-alpine",
        ],
    ),
    (
        "golang",
        &["1.18-alpine", "1.21.5", "1.25.1-alpine", "1.26.5-alpine"],
    ),
    ("alpine", &["3.14", "3.19.1", "3.24.1", "latest"]),
    (
        "eclipse-temurin",
        &[
            "11-jre-focal",
            "17-jdk",
            "21-jre-alpine",
            "25.0.3_9-jre-alpine",
        ],
    ),
    ("debian", &["buster-slim", "bookworm-slim", "12.5", "10"]),
    ("mcr.microsoft.com/dotnet/aspnet", &["5.0", "8.0-alpine"]),
    ("mcr.microsoft.com/dotnet/sdk", &["5.0-buster-slim", "8.0"]),
];

const OTHER_IMAGES: &[(&str, &[&str])] = &[
    ("nginx", &["1.25-alpine", "1.27.3", "stable"]),
    ("redis", &["7.2", "6-alpine"]),
    ("ghcr.io/acme/base", &["2024.01", "2025.06.1"]),
    (
        "registry.example.com:5000/platform/runtime",
        &["1.4.2", "2.0.0-rc1"],
    ),
    ("ubuntu", &["22.04", "jammy-20240111"]),
    ("gcr.io/distroless/static-debian12", &["nonroot", "latest"]),
];

fn image(rng: &mut Rng) -> (&'static str, &'static str) {
    let list = if rng.chance(70) {
        CATALOG_IMAGES
    } else {
        OTHER_IMAGES
    };
    let &(name, tags) = rng.pick(list);
    (name, *rng.pick(tags))
}

/// One to three build stages and a runtime stage, written the ways real Dockerfiles write
/// them: tags through ARGs (with defaults and `${VAR:-default}`), stage references, heredocs,
/// line continuations, digests, pinned OS packages.
fn dockerfile(rng: &mut Rng, i: usize) -> (String, String) {
    // ARGs used in FROM lines must come before the first FROM (Docker's global scope).
    let mut globals = String::from("# syntax=docker/dockerfile:1.7\n");
    let _ = writeln!(globals, "# svc-{i}: generated for the scan benchmark");
    let mut out = String::new();
    let builders = 1 + rng.below(3);
    let mut stages: Vec<String> = Vec::new();
    for s in 0..builders {
        let (name, tag) = image(rng);
        let stage = ["deps", "build", "test"][s];
        let from = match rng.below(4) {
            0 => {
                let var = format!("BASE_TAG_{s}");
                let _ = writeln!(globals, "ARG {var}={tag}");
                format!("{name}:${{{var}}}")
            }
            1 if !name.contains('/') && !name.contains('.') => {
                if !globals.contains("ARG REGISTRY=") {
                    globals.push_str("ARG REGISTRY=docker.io\n");
                }
                format!("${{REGISTRY}}/library/{name}:${{TAG_{s}:-{tag}}}")
            }
            2 if !stages.is_empty() => rng.pick(&stages).clone(),
            _ => format!("{name}:{tag}"),
        };
        let _ = writeln!(out, "FROM {from} AS {stage}");
        out.push_str("WORKDIR /src\nCOPY . .\n");
        let _ = writeln!(out, "ARG VERSION=1.{i}.{s}");
        if rng.chance(50) {
            out.push_str(
                "RUN <<EOF\nset -eux\napk add --no-cache git=2.43.0-r0 make\nmake build VERSION=${VERSION} OUT=/out\nEOF\n",
            );
        } else {
            out.push_str(
                "RUN apt-get update \\\n && apt-get install -y --no-install-recommends \\\n      build-essential \\\n      git=1:2.39.2-1.1 \\\n && make build OUT=/out \\\n && rm -rf /var/lib/apt/lists/*\n",
            );
        }
        stages.push(stage.to_string());
    }
    let (name, tag) = image(rng);
    let digest = if rng.chance(20) {
        format!("@sha256:{}", rng.hex(64))
    } else {
        String::new()
    };
    let _ = writeln!(out, "\nFROM {name}:{tag}{digest} AS runtime");
    out.push_str(
        "RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl=7.88.1-10+deb12u5 \\\n    && rm -rf /var/lib/apt/lists/*\n",
    );
    let _ = writeln!(
        out,
        "COPY --from={} /out/app /usr/local/bin/app",
        stages.last().map_or("build", String::as_str)
    );
    let _ = writeln!(
        out,
        "COPY <<EOF /etc/app/config.toml\nname = \"svc-{i}\"\nport = {}\nEOF",
        8000 + i % 1000
    );
    if rng.chance(70) {
        out.push_str("USER 10001\n");
    }
    out.push_str(
        "EXPOSE 8080\nHEALTHCHECK CMD [\"/usr/local/bin/app\", \"health\"]\nENTRYPOINT [\"/usr/local/bin/app\"]\n",
    );
    let path = if i % 10 == 9 {
        format!("services/svc-{i:04}/build.Dockerfile")
    } else {
        format!("services/svc-{i:04}/Dockerfile")
    };
    globals.push_str(&out);
    (path, globals)
}

// ---- Compose files and Kubernetes manifests ----------------------------------------------------

/// A reference as YAML writes it: plain mostly, quoted sometimes.
fn yaml_image(rng: &mut Rng) -> String {
    let (name, tag) = image(rng);
    match rng.below(4) {
        0 => format!("\"{name}:{tag}\""),
        1 => format!("'{name}:{tag}'"),
        _ => format!("{name}:{tag}"),
    }
}

/// A Compose file of two to five services next to a Dockerfile: images, a build, ports,
/// environment, volumes; one in ten shares an image through an anchor.
fn compose(rng: &mut Rng, i: usize) -> (String, String) {
    let mut out = String::from("# generated for the scan benchmark\nname: svc\n");
    let anchored = i % 100 == 50;
    if anchored {
        let _ = writeln!(out, "x-base: &base {}", yaml_image(rng));
    }
    out.push_str("services:\n");
    let _ = writeln!(
        out,
        "  app:\n    build:\n      context: .\n      dockerfile: Dockerfile\n    ports:\n      - \"{}:8080\"\n    environment:\n      LOG_LEVEL: info\n      PORT: \"8080\"\n    depends_on:\n      - db",
        8000 + i % 1000
    );
    let _ = writeln!(
        out,
        "  db:\n    image: {}\n    volumes:\n      - db-data:/var/lib/data\n    restart: unless-stopped",
        yaml_image(rng)
    );
    for s in 0..rng.below(4) {
        let image = if anchored && s == 0 {
            "*base".to_string()
        } else {
            yaml_image(rng)
        };
        let _ = writeln!(
            out,
            "  worker-{s}:\n    image: {image}  # pinned by the platform team\n    command: [\"run\", \"--queue\", \"q{s}\"]\n    deploy:\n      replicas: {}",
            1 + rng.below(3)
        );
    }
    out.push_str("volumes:\n  db-data: {}\n");
    (format!("services/svc-{i:04}/compose.yaml"), out)
}

/// A multi-document manifest: a ConfigMap, a Deployment (init container, one or two
/// containers), a Service, and in one of three a CronJob.
fn kubernetes(rng: &mut Rng, i: usize) -> (String, String) {
    let app = format!("svc-{i:04}");
    let mut out = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {app}-config\n  labels:\n    app: {app}\ndata:\n  LOG_LEVEL: info\n  FEATURES: \"a,b,c\"\n---\n"
    );
    let _ = writeln!(
        out,
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {app}\n  labels:\n    app: {app}\n    tier: backend\nspec:\n  replicas: {}\n  selector:\n    matchLabels:\n      app: {app}\n  template:\n    metadata:\n      labels:\n        app: {app}\n    spec:\n      serviceAccountName: {app}\n      initContainers:\n      - name: migrate\n        image: {}\n        command: [\"/bin/migrate\", \"--up\"]\n      containers:\n      - name: app\n        image: {}\n        ports:\n        - containerPort: 8080\n          name: http\n        env:\n        - name: PORT\n          value: \"8080\"\n        - name: CONFIG\n          valueFrom:\n            configMapKeyRef:\n              name: {app}-config\n              key: LOG_LEVEL\n        resources:\n          requests:\n            cpu: 100m\n            memory: 64Mi\n          limits:\n            cpu: 200m\n            memory: 128Mi\n        readinessProbe:\n          httpGet:\n            path: /healthz\n            port: 8080",
        1 + rng.below(3),
        yaml_image(rng),
        yaml_image(rng)
    );
    if rng.chance(50) {
        let _ = writeln!(
            out,
            "      - name: proxy\n        image: {}\n        args: [\"--upstream\", \"127.0.0.1:8080\"]",
            yaml_image(rng)
        );
    }
    let _ = writeln!(
        out,
        "---\napiVersion: v1\nkind: Service\nmetadata:\n  name: {app}\nspec:\n  type: ClusterIP\n  selector:\n    app: {app}\n  ports:\n  - name: http\n    port: 80\n    targetPort: 8080"
    );
    if i % 3 == 0 {
        let _ = writeln!(
            out,
            "---\napiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: {app}-nightly\nspec:\n  schedule: \"0 3 * * *\"\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          restartPolicy: OnFailure\n          containers:\n          - name: job\n            image: {}",
            yaml_image(rng)
        );
    }
    (format!("services/svc-{i:04}/deploy/kubernetes.yaml"), out)
}

// ---- advisories ---------------------------------------------------------------------------------

const VECTORS: &[&str] = &[
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
    "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:H/A:H",
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H",
    "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:L/I:N/A:N",
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N",
];

fn ghsa(rng: &mut Rng) -> String {
    const LETTERS: &[u8] = b"23456789cfghjmpqrvwx";
    let mut part = || -> String {
        (0..4)
            .map(|_| LETTERS[rng.below(LETTERS.len())] as char)
            .collect()
    };
    format!("GHSA-{}-{}-{}", part(), part(), part())
}

/// Events of one range: mostly a narrow window within one major line, some `introduced: 0`
/// (everything before a fix), some open-ended with `last_affected`.
fn events(rng: &mut Rng, eco: Eco) -> Vec<Value> {
    let start = version(rng, eco);
    match rng.below(10) {
        0 => vec![
            json!({ "introduced": "0" }),
            json!({ "fixed": format!("{}.{}.0", start.0, start.1) }),
        ],
        1 => vec![
            json!({ "introduced": format!("{}.0.0", start.0) }),
            json!({ "last_affected": start.to_string() }),
        ],
        _ => vec![
            json!({ "introduced": format!("{}.{}.0", start.0, start.1) }),
            json!({ "fixed": format!("{}.{}.0", start.0, start.1 + 1 + rng.below(3) as u32) }),
        ],
    }
}

fn advisory(rng: &mut Rng, i: usize) -> (String, String) {
    let eco = match rng.below(20) {
        0..=6 => Eco::Npm,
        7..=11 => Eco::PyPI,
        12..=13 => Eco::Crates,
        14..=15 => Eco::Go,
        16..=17 => Eco::RubyGems,
        _ => Eco::Packagist,
    };
    let year = 2018 + i % 8;
    let ghsa_id = ghsa(rng);
    let cve = format!("CVE-{year}-{}", 10_000 + i);
    let (id, mut aliases) = match eco {
        Eco::Npm => (ghsa_id.clone(), vec![cve.clone()]),
        Eco::PyPI => (
            format!("PYSEC-{year}-{i}"),
            vec![ghsa_id.clone(), cve.clone()],
        ),
        Eco::Crates => (format!("RUSTSEC-{year}-{i:05}"), vec![cve.clone()]),
        Eco::Go => (
            format!("GO-{year}-{i:05}"),
            vec![ghsa_id.clone(), cve.clone()],
        ),
        Eco::RubyGems | Eco::Packagist => (ghsa_id.clone(), vec![cve.clone()]),
    };
    // Every fiftieth record restates the previous one's CVE, as GHSA and a native database do:
    // the loader has to merge them.
    if i % 50 == 49 {
        aliases.push(format!("CVE-{}-{}", 2018 + (i - 1) % 8, 10_000 + i - 1));
    }

    let name_index = rng.skewed(POOL);
    let name = package_name(eco, name_index);
    let mut affected = vec![json!({
        "package": { "ecosystem": eco.osv(), "name": name },
        "ranges": [{ "type": if eco == Eco::Npm { "SEMVER" } else { "ECOSYSTEM" }, "events": events(rng, eco) }],
    })];
    if rng.chance(10) {
        let other = package_name(eco, rng.skewed(POOL));
        let exact: Vec<String> = (0..3).map(|_| version(rng, eco).to_string()).collect();
        affected.push(json!({
            "package": { "ecosystem": eco.osv(), "name": other },
            "ranges": [{ "type": "ECOSYSTEM", "events": events(rng, eco) }],
            "versions": exact,
        }));
    }

    let mut record = json!({
        "schema_version": "1.6.0",
        "id": id,
        "modified": format!("{}-0{}-1{}T12:00:00Z", year + 1, 1 + i % 9, i % 10),
        "published": format!("{year}-0{}-1{}T08:30:00Z", 1 + i % 9, i % 10),
        "aliases": aliases,
        "summary": format!("Generated issue {i} in {name}"),
        "details": format!(
            "A crafted input makes {name} misbehave: denial of service, or worse when the \
             value reaches a template. Upgrade to a fixed release, or validate the input before \
             it is handed to the library. This record was generated for the scan benchmark \
             (number {i})."
        ),
        "affected": affected,
        "references": [
            { "type": "ADVISORY", "url": format!("https://nvd.nist.gov/vuln/detail/{cve}") },
            { "type": "WEB", "url": format!("https://github.com/advisories/{ghsa_id}") },
            { "type": "PACKAGE", "url": format!("https://example.org/{}/{name}", eco.osv()) },
        ],
    });
    if rng.chance(70) {
        record["severity"] = json!([{ "type": "CVSS_V3", "score": rng.pick(VECTORS) }]);
    } else {
        let label = ["LOW", "MODERATE", "HIGH", "CRITICAL"][rng.below(4)];
        record["database_specific"] = json!({ "severity": label });
    }
    if i % 100 == 17 {
        record["withdrawn"] = json!(format!("{}-12-01T00:00:00Z", year + 1));
    }
    let text = serde_json::to_string_pretty(&record).unwrap_or_default();
    (format!("{}/{id}.json", eco.osv()), text)
}

/// Counts by format, for the benchmark's one-line description of its input.
pub fn describe(files: &[(String, String)]) -> String {
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    for (path, _) in files {
        let name = path.rsplit('/').next().unwrap_or(path);
        let kind = if name.ends_with("Dockerfile") {
            "Dockerfile"
        } else {
            name
        };
        *kinds.entry(kind.to_string()).or_default() += 1;
    }
    kinds
        .iter()
        .map(|(k, n)| format!("{n} {k}"))
        .collect::<Vec<_>>()
        .join(", ")
}
