//! Lockfile parsers on fixtures written for the cases the corpus lacks (Cargo.lock v1/v3/v4,
//! poetry.lock, requirements with hashes/markers/extras/continuations, go.mod with replace and
//! toolchain, yarn.lock v1 and Berry, npm workspaces and aliases), malformed inputs with the lines
//! their errors name, edits at the reported spans, and 5,000-package inputs.

use patchwright::manifest::{self, ManifestKind};
use patchwright::model::{
    Dependency, DependencyKind, Ecosystem, EditMode, ErrorCode, ParsedManifest, Span,
};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/lockfiles");

fn fixture(relative: &str) -> (String, ParsedManifest) {
    let source = std::fs::read_to_string(format!("{FIXTURES}/{relative}"))
        .unwrap_or_else(|e| panic!("{relative}: {e}"));
    let kind = manifest::detect(relative).expect("a lockfile name");
    let parsed = manifest::parse(kind, relative, &source);
    for dep in &parsed.dependencies {
        for span in &dep.version_spans {
            assert_eq!(
                span.slice(&source),
                dep.version.as_deref(),
                "{relative}: {}",
                dep.name
            );
        }
    }
    (source, parsed)
}

/// `(name, version, Direct?)` of every dependency, in order.
fn summary(parsed: &ParsedManifest) -> Vec<(&str, Option<&str>, bool)> {
    parsed
        .dependencies
        .iter()
        .map(|d| {
            (
                d.name.as_str(),
                d.version.as_deref(),
                d.kind == DependencyKind::Direct,
            )
        })
        .collect()
}

fn find<'a>(parsed: &'a ParsedManifest, name: &str) -> &'a Dependency {
    parsed
        .dependencies
        .iter()
        .find(|d| d.name == name)
        .unwrap_or_else(|| panic!("{}: no {name}", parsed.file))
}

fn reason(dep: &Dependency) -> &str {
    match &dep.edit_mode {
        EditMode::NeedsRelock { reason } => reason,
        EditMode::InPlace => panic!("{} is InPlace", dep.name),
    }
}

fn error_lines(parsed: &ParsedManifest) -> Vec<u32> {
    parsed.errors.iter().map(|e| e.line).collect()
}

/// The source with every version span of `dep` replaced by `version`.
fn edit(source: &str, dep: &Dependency, version: &str) -> String {
    let mut spans: Vec<Span> = dep.version_spans.clone();
    spans.sort();
    let mut out = source.to_string();
    for span in spans.iter().rev() {
        out.replace_range(span.start..span.end, version);
    }
    out
}

#[test]
fn cargo_lock_v3_direct_from_workspace_members_and_git_sources() {
    let (source, parsed) = fixture("cargo-v3/Cargo.lock");
    assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
    assert_eq!(
        summary(&parsed),
        [
            ("autocfg", Some("1.4.0"), false),
            ("chrono", Some("0.4.19"), true),
            ("num-integer", Some("0.1.46"), false),
            ("num-traits", Some("0.2.19"), false),
            // `helpers` (a workspace member) names `smallvec 0.6.13`, `app` names 1.13.2.
            ("smallvec", Some("0.6.13"), true),
            ("smallvec", Some("1.13.2"), true),
            ("time", Some("0.1.45"), false),
            // Named by `app`, but a git checkout is reported as Transitive.
            ("tokio-util", Some("0.7.13"), false),
        ]
    );
    let time = find(&parsed, "time");
    assert_eq!(time.ecosystem, Ecosystem::CratesIo);
    assert_eq!(time.location.line, 70);
    assert_eq!(
        reason(time),
        "Cargo.lock records a checksum for each crate: run `cargo update -p <package>@<version> --precise <fixed version>`"
    );
    let git = reason(find(&parsed, "tokio-util"));
    assert!(
        git.contains("git+https://github.com/tokio-rs/tokio?rev=8f2f4d5`")
            && git.contains("Cargo.toml"),
        "{git}"
    );
    // Editing the span gives a lockfile that reads back with the new version.
    let edited = edit(&source, time, "0.1.46");
    let reparsed = manifest::parse(ManifestKind::CargoLock, "Cargo.lock", &edited);
    assert_eq!(find(&reparsed, "time").version.as_deref(), Some("0.1.46"));
    assert!(reparsed.errors.is_empty());
}

#[test]
fn cargo_lock_v4_sparse_registry_and_v1_root_table() {
    let (_, v4) = fixture("cargo-v4/Cargo.lock");
    assert!(v4.errors.is_empty());
    assert_eq!(
        summary(&v4),
        [
            ("hyper", Some("0.14.9"), true),
            ("httparse", Some("1.5.1"), false)
        ]
    );
    let (_, v1) = fixture("cargo-v1/Cargo.lock");
    assert!(v1.errors.is_empty());
    // `[root]` names `libc 0.2.20 (registry+…)`: that version only is Direct.
    assert_eq!(
        summary(&v1),
        [
            ("libc", Some("0.2.20"), true),
            ("libc", Some("0.1.12"), false)
        ]
    );
}

#[test]
fn poetry_lock_skips_directory_sources() {
    let (_, parsed) = fixture("poetry/poetry.lock");
    assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
    assert_eq!(
        summary(&parsed),
        [
            ("django", Some("3.2.13"), false),
            ("PyYAML", Some("5.3.1"), false),
            ("sqlparse", Some("0.4.1"), false),
        ]
    );
    let django = find(&parsed, "django");
    assert_eq!(django.ecosystem, Ecosystem::PyPI);
    assert_eq!(django.location.line, 4);
    assert_eq!(
        reason(django),
        "poetry.lock records file hashes for each package: run `poetry update <package>`"
    );
}

#[test]
fn requirements_hashes_markers_extras_continuations_and_skipped_lines() {
    let (source, parsed) = fixture("requirements/requirements.txt");
    // Nothing is left out without a word: each skipped line is a note at its line.
    let notes: Vec<(u32, Option<ErrorCode>)> = parsed
        .errors
        .iter()
        .map(|e| {
            assert!(e.is_note(), "{e}");
            (e.line, e.code)
        })
        .collect();
    let include = Some(ErrorCode::RequirementsInclude);
    let skipped = Some(ErrorCode::RequirementsSkippedLine);
    assert_eq!(
        notes,
        [
            (3, include),
            (4, include),
            (16, skipped),
            (17, skipped),
            (18, skipped),
            (19, skipped)
        ]
    );
    assert!(
        parsed.errors[0]
            .message
            .contains("`-r base.txt` is not scanned")
    );
    assert_eq!(
        summary(&parsed),
        [
            ("urllib3", Some("1.26.4"), true),
            ("requests", Some("2.25.1"), true),
            ("Jinja2", Some("2.10.1"), true),
            ("cryptography", None, true),
            ("flask", None, true),
            ("pyyaml", None, true),
            ("numpy", None, true),
            ("Pillow", Some("8.1.0"), true),
            ("lxml", Some("4.6.2"), true),
        ]
    );
    let urllib3 = find(&parsed, "urllib3");
    assert!(reason(urllib3).contains("pip-compile --generate-hashes"));
    assert_eq!((urllib3.location.line, urllib3.location.column), (6, 1));
    for name in ["requests", "Jinja2", "Pillow", "lxml", "cryptography"] {
        assert_eq!(find(&parsed, name).edit_mode, EditMode::InPlace, "{name}");
    }
    assert!(find(&parsed, "numpy").version_spans.is_empty());
    // The continued line keeps the span on its first physical line.
    let lxml = find(&parsed, "lxml");
    assert_eq!(lxml.location.line, 21);
    let edited = edit(&source, lxml, "4.9.1");
    let reparsed = manifest::parse(ManifestKind::Requirements, "requirements.txt", &edited);
    assert_eq!(find(&reparsed, "lxml").version.as_deref(), Some("4.9.1"));
    assert!(edited.contains("lxml==4.9.1 \\\n  ; sys_platform"));
}

#[test]
fn go_mod_replace_toolchain_and_indirect() {
    let (source, parsed) = fixture("go-replace/go.mod");
    assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
    assert_eq!(
        summary(&parsed),
        [
            ("stdlib", Some("1.22.4"), true),
            ("github.com/gin-gonic/gin", Some("v1.9.0"), true),
            // Only v0.16.0 is replaced.
            ("golang.org/x/net", Some("v0.17.0"), true),
            ("golang.org/x/text", Some("v0.3.7"), false),
            // gorilla/websocket (indirect) is built from the fork.
            ("github.com/example/websocket", Some("v1.5.1"), false),
            // example.com/shop/internal is replaced by ../internal: the project's own code.
            ("gopkg.in/yaml.v2", Some("v2.4.0"), true),
            (
                "github.com/docker/docker",
                Some("v20.10.7+incompatible"),
                true
            ),
            ("github.com/quoted/module", Some("v1.0.0"), true),
        ]
    );
    let fork = find(&parsed, "github.com/example/websocket");
    assert_eq!(fork.location.line, 26);
    let line = source.lines().nth(25).expect("line 26");
    assert!(line.starts_with("replace github.com/gorilla/websocket =>"));
    assert!(
        parsed
            .dependencies
            .iter()
            .all(|d| d.edit_mode == EditMode::InPlace)
    );
    assert!(
        parsed
            .dependencies
            .iter()
            .all(|d| d.ecosystem == Ecosystem::Go)
    );
    assert!(
        parsed
            .dependencies
            .iter()
            .all(|d| d.name != "example.com/other" && d.name != "example.com/shop/internal")
    );

    let stdlib = find(&parsed, "stdlib");
    assert_eq!((stdlib.location.line, stdlib.location.column), (6, 13));
    let edited = edit(&source, stdlib, "1.22.5");
    assert!(edited.contains("\ntoolchain go1.22.5\n"));
    let reparsed = manifest::parse(ManifestKind::GoMod, "go.mod", &edited);
    assert_eq!(find(&reparsed, "stdlib").version.as_deref(), Some("1.22.5"));
}

#[test]
fn yarn_v1_scoped_aliases_and_git_entries() {
    let (_, parsed) = fixture("yarn-v1/yarn.lock");
    assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
    // The git entry is skipped; the alias is reported under the real name.
    assert_eq!(
        summary(&parsed),
        [
            ("@babel/core", Some("7.1.2"), true),
            ("@babel/types", Some("7.1.3"), false),
            ("debug", Some("3.1.0"), false),
            ("lodash", Some("4.17.20"), true),
        ]
    );
    let core = find(&parsed, "@babel/core");
    assert_eq!((core.location.line, core.location.column), (5, 2));
    assert!(reason(core).contains("`yarn upgrade <package>@<fixed version>`"));
    assert!(reason(find(&parsed, "lodash")).contains("yarn upgrade my-lodash@npm:lodash@"));
    assert!(reason(find(&parsed, "debug")).contains("\"resolutions\""));
}

#[test]
fn yarn_v1_workspace_and_alias_entries_resolve_to_the_registry_package() {
    let (source, parsed) = fixture("yarn-v1-workspace/yarn.lock");
    assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
    // `@excalidraw/excalidraw@workspace:^` was fetched from the registry as 0.17.2: it is that
    // package. The workspace entry with no tarball is the project's own code, the URL entry is
    // not from the registry: both left out.
    assert_eq!(
        summary(&parsed),
        [
            ("@excalidraw/excalidraw", Some("0.17.2"), true),
            ("react", Some("18.2.0"), true),
            ("next", Some("14.0.4"), true),
        ]
    );
    let excalidraw = find(&parsed, "@excalidraw/excalidraw");
    assert_eq!(excalidraw.location.line, 7);
    assert_eq!(excalidraw.version_spans[0].slice(&source), Some("0.17.2"));
    assert!(reason(find(&parsed, "react")).contains("yarn upgrade my-react@npm:react@"));
}

#[test]
fn yarn_berry_workspaces_decide_direct() {
    let (_, parsed) = fixture("yarn-berry/yarn.lock");
    assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
    // The workspace and the `patch:` entry are not reported.
    assert_eq!(
        summary(&parsed),
        [
            ("@types/node", Some("18.11.9"), true),
            ("minimist", Some("1.2.5"), true),
        ]
    );
    assert!(reason(find(&parsed, "minimist")).contains("`yarn up <package>@<fixed version>`"));
}

#[test]
fn package_lock_workspaces_aliases_and_links() {
    let (source, parsed) = fixture("npm-workspaces/package-lock.json");
    assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
    assert_eq!(
        summary(&parsed),
        [
            ("lodash", Some("4.17.20"), true),
            ("minimist", Some("1.2.5"), true),
            // Declared by the `packages/web` workspace and hoisted to the root.
            ("axios", Some("0.21.1"), true),
            ("follow-redirects", Some("1.14.7"), false),
            ("lodash", Some("4.17.15"), true),
        ]
    );
    // Every package is also in the v1 mirror, the workspace's nested lodash under `web`.
    for dep in &parsed.dependencies {
        assert_eq!(dep.version_spans.len(), 2, "{} {:?}", dep.name, dep.version);
    }
    let minimist = find(&parsed, "minimist");
    assert!(reason(minimist).contains("`npm install my-minimist@npm:minimist@<fixed version>`"));
    let edited = edit(&source, minimist, "1.2.6");
    assert!(edited.contains("\"version\": \"npm:minimist@1.2.6\""));
    let reparsed = manifest::parse(ManifestKind::PackageLock, "package-lock.json", &edited);
    assert!(reparsed.errors.is_empty());
    assert_eq!(
        find(&reparsed, "minimist").version.as_deref(),
        Some("1.2.6")
    );
    assert_eq!(find(&reparsed, "minimist").version_spans.len(), 2);
}

#[test]
fn shrinkwrap_v1_nested_aliases_and_git_versions() {
    let (_, parsed) = fixture("npm-v1-alias/npm-shrinkwrap.json");
    assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
    assert_eq!(
        summary(&parsed),
        [
            ("@scope/parser", Some("3.0.0"), true),
            ("kind-of", Some("6.0.2"), false),
            // Required (by name) by @scope/parser, so not known to be Direct.
            ("kind-of", Some("3.2.2"), false),
            ("minimist", Some("0.0.8"), true),
        ]
    );
    assert!(reason(find(&parsed, "@scope/parser")).starts_with("npm-shrinkwrap.json records"));
}

#[test]
fn malformed_cargo_lock_keeps_the_packages_that_parsed() {
    let (_, parsed) = fixture("malformed/cargo/Cargo.lock");
    assert_eq!(error_lines(&parsed), [9, 13]);
    assert!(parsed.errors[0].message.contains("not valid TOML"));
    assert!(
        parsed.errors[1]
            .message
            .contains("`no-version` has no `version`")
    );
    let names: Vec<&str> = parsed
        .dependencies
        .iter()
        .map(|d| d.name.as_str())
        .collect();
    assert!(
        names.contains(&"good-before") && names.contains(&"good-after"),
        "{names:?}"
    );
    assert!(!names.contains(&"no-version"));
}

#[test]
fn malformed_package_lock_names_the_line() {
    let (_, parsed) = fixture("malformed/npm/package-lock.json");
    assert_eq!(error_lines(&parsed), [11]);
    assert!(
        parsed.errors[0]
            .message
            .contains("Trailing commas are not allowed"),
        "{}",
        parsed.errors[0].message
    );
}

#[test]
fn malformed_yarn_lock_skips_the_bad_entries_only() {
    let (_, parsed) = fixture("malformed/yarn/yarn.lock");
    assert_eq!(error_lines(&parsed), [7, 8, 11]);
    assert!(parsed.errors[1].message.contains("no-version@^1.0.0"));
    assert_eq!(
        summary(&parsed),
        [
            ("left-pad", Some("1.3.0"), true),
            ("is-odd", Some("3.0.1"), true)
        ]
    );
}

#[test]
fn requirements_say_what_they_skip_and_why() {
    let source = "requests==2.25.1\nlodash@4.17.19\n--garbage\n-r requirements-base.txt\n-r ../shared.txt\n-e .\n-e git+https://example.com/x.git#egg=x\npkg==${VERSION}\n-r\n";
    let parsed = manifest::parse(ManifestKind::Requirements, "api/requirements.txt", source);
    let found: Vec<(u32, ErrorCode)> = parsed
        .errors
        .iter()
        .map(|e| (e.line, e.code.expect("a code")))
        .collect();
    assert_eq!(
        found,
        [
            (2, ErrorCode::RequirementsUnparsedLine),
            (3, ErrorCode::RequirementsUnparsedLine),
            // requirements-base.txt is scanned on its own; shared.txt is not.
            (5, ErrorCode::RequirementsInclude),
            (7, ErrorCode::RequirementsSkippedLine),
            (8, ErrorCode::RequirementsSkippedLine),
            (9, ErrorCode::RequirementsUnparsedLine),
        ]
    );
    assert!(parsed.errors[0].message.contains("write `lodash==4.17.19`"));
    assert!(
        parsed.errors[1]
            .message
            .contains("`--garbage` is not an option")
    );
    assert!(
        parsed.errors[2]
            .message
            .contains("`shared.txt` are not checked")
    );
    assert_eq!(summary(&parsed), [("requests", Some("2.25.1"), true)]);

    // A missing include is found against the other files of the repository.
    let files = [
        ("api/requirements.txt", source),
        (
            "requirements-dev.txt",
            "-r requirements-base.txt\n-r api/requirements.txt\n",
        ),
    ];
    let missing: Vec<(String, u32)> = manifest::requirements::missing_includes(files)
        .into_iter()
        .map(|e| (e.file, e.line))
        .collect();
    assert_eq!(
        missing,
        [
            ("api/requirements.txt".to_string(), 4),
            ("requirements-dev.txt".to_string(), 1)
        ]
    );
}

#[test]
fn malformed_requirements_report_each_bad_line() {
    let (_, parsed) = fixture("malformed/requirements/requirements.txt");
    assert_eq!(error_lines(&parsed), [2, 3, 4, 5, 6, 7]);
    assert!(parsed.errors[5].message.contains("`urllib3>=1.2.3`"));
    assert!(parsed.errors[4].message.contains("Django"));
    assert_eq!(
        summary(&parsed),
        [
            ("requests", Some("2.25.1"), true),
            ("six", Some("1.16.0"), true)
        ]
    );
}

#[test]
fn malformed_go_mod_and_go_sum() {
    let (_, go_mod) = fixture("malformed/go-mod/go.mod");
    assert_eq!(error_lines(&go_mod), [5, 7, 9, 11]);
    assert!(
        go_mod.errors[1]
            .message
            .contains("unknown directive `frobnicate`")
    );
    assert!(go_mod.errors[2].message.contains("never closed"));
    assert_eq!(
        summary(&go_mod),
        [("github.com/ok/module", Some("v1.0.0"), true)]
    );

    let (_, go_sum) = fixture("malformed/go-sum/go.sum");
    assert_eq!(error_lines(&go_sum), [3, 4]);
    assert!(go_sum.dependencies.is_empty());
}

#[test]
fn malformed_poetry_lock() {
    let (_, parsed) = fixture("malformed/poetry/poetry.lock");
    assert_eq!(error_lines(&parsed), [5, 9]);
    assert!(parsed.errors[0].message.contains("is an integer"));
    assert_eq!(summary(&parsed), [("requests", Some("2.25.1"), false)]);
}

#[test]
fn empty_and_blank_files_are_not_errors() {
    for kind in ManifestKind::ALL {
        if kind == ManifestKind::Dockerfile {
            continue;
        }
        let parsed = manifest::parse(kind, "f", "");
        assert!(parsed.dependencies.is_empty(), "{kind:?}");
        if kind != ManifestKind::PackageLock {
            assert!(parsed.errors.is_empty(), "{kind:?}: {:?}", parsed.errors);
            let blank = manifest::parse(kind, "f", "\n\n  \n");
            assert!(blank.errors.is_empty(), "{kind:?}: {:?}", blank.errors);
        }
    }
    // An empty package-lock.json is not JSON: npm would refuse it too.
    assert_eq!(
        error_lines(&manifest::parse(
            ManifestKind::PackageLock,
            "package-lock.json",
            ""
        )),
        [0]
    );
}

/// Synthetic 5,000-package lockfiles parse whole, every entry at its exact span, including a
/// package-lock.json minified onto one line. How fast is a benchmark's question, not a test's
/// (a wall-clock bound flakes on a loaded machine): `monorepo/parse` and
/// `lockfile/package-lock-v2-minified` in benches/scan.rs.
#[test]
fn five_thousand_packages_parse_whole() {
    const N: usize = 5_000;
    let mut cargo = String::from("version = 4\n");
    let mut poetry = String::new();
    let mut yarn = String::from("# yarn lockfile v1\n\n");
    let mut requirements = String::new();
    let mut go_mod = String::from("module example.com/big\n\ngo 1.22\n\nrequire (\n");
    let mut npm_packages = Vec::new();
    let mut npm_mirror = Vec::new();
    for i in 0..N {
        cargo.push_str(&format!(
            "\n[[package]]\nname = \"crate{i}\"\nversion = \"1.0.{i}\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\nchecksum = \"{:064x}\"\n",
            i
        ));
        poetry.push_str(&format!(
            "\n[[package]]\nname = \"pkg{i}\"\nversion = \"2.0.{i}\"\n"
        ));
        yarn.push_str(&format!("pkg{i}@^3.0.0:\n  version \"3.0.{i}\"\n  resolved \"https://registry.yarnpkg.com/pkg{i}/-/pkg{i}-3.0.{i}.tgz\"\n\n"));
        requirements.push_str(&format!("pkg{i}==4.0.{i}\n"));
        go_mod.push_str(&format!("\texample.com/mod{i} v5.0.{i}\n"));
        npm_packages.push(format!(
            "\"node_modules/pkg{i}\":{{\"version\":\"6.0.{i}\",\"resolved\":\"https://registry.npmjs.org/pkg{i}/-/pkg{i}-6.0.{i}.tgz\"}}"
        ));
        npm_mirror.push(format!("\"pkg{i}\":{{\"version\":\"6.0.{i}\"}}"));
    }
    go_mod.push_str(")\n");
    let npm = format!(
        "{{\"lockfileVersion\":2,\"packages\":{{\"\":{{}},{}}},\"dependencies\":{{{}}}}}",
        npm_packages.join(","),
        npm_mirror.join(",")
    );
    let cases = [
        (ManifestKind::CargoLock, cargo),
        (ManifestKind::PoetryLock, poetry),
        (ManifestKind::YarnLock, yarn),
        (ManifestKind::Requirements, requirements),
        (ManifestKind::GoMod, go_mod),
        (ManifestKind::PackageLock, npm),
    ];
    for (kind, source) in cases {
        let parsed = manifest::parse(kind, "big", &source);
        assert!(
            parsed.errors.is_empty(),
            "{kind:?}: {:?}",
            parsed.errors.first()
        );
        assert_eq!(parsed.dependencies.len(), N, "{kind:?}");
        let last = parsed.dependencies.last().expect("dependencies");
        assert!(
            last.version
                .as_deref()
                .is_some_and(|v| v.ends_with(".4999")),
            "{kind:?}"
        );
        for span in &last.version_spans {
            assert_eq!(span.slice(&source), last.version.as_deref());
        }
    }
}

/// A lockfile cut off inside a version (a partial download, a truncated commit) must never
/// yield that version's first characters as the version: `requests@2.30` from
/// `version = "2.30`. Every lockfile fixture is cut at every char boundary inside each of its
/// versions; the entry at that line either has its full version or is not reported.
#[test]
fn a_version_cut_off_by_the_end_of_the_file_is_never_reported() {
    let lockfiles = [
        "cargo-v1/Cargo.lock",
        "cargo-v3/Cargo.lock",
        "cargo-v4/Cargo.lock",
        "poetry/poetry.lock",
        "yarn-v1/yarn.lock",
        "yarn-v1-workspace/yarn.lock",
        "yarn-berry/yarn.lock",
        "npm-v1-alias/npm-shrinkwrap.json",
        "npm-workspaces/package-lock.json",
        "go-replace/go.mod",
    ];
    let mut cuts = 0;
    for relative in lockfiles {
        let (source, parsed) = fixture(relative);
        let kind = manifest::detect(relative).expect("a lockfile name");
        for dependency in &parsed.dependencies {
            let Some(version) = dependency.version.as_deref() else {
                continue;
            };
            for span in &dependency.version_spans {
                for cut in span.start..span.end {
                    if !source.is_char_boundary(cut) {
                        continue;
                    }
                    cuts += 1;
                    let truncated = manifest::parse(kind, relative, &source[..cut]);
                    for found in &truncated.dependencies {
                        let same_entry = found.name == dependency.name
                            && found.location.line == dependency.location.line;
                        if let (true, Some(got)) = (same_entry, found.version.as_deref()) {
                            assert!(
                                got == version || !version.starts_with(got),
                                "{relative} cut at byte {cut}: {}@{got} instead of {version}",
                                found.name
                            );
                        }
                    }
                }
            }
        }
    }
    assert!(
        cuts > 100,
        "only {cuts} cuts: the fixtures lost their versions"
    );
}

#[test]
fn a_truncated_poetry_lock_says_so_and_reports_no_cut_version() {
    let source = "[[package]]\nname = \"idna\"\nversion = \"3.7\"\n\n[[package]]\nname = \"requests\"\nversion = \"2.30";
    let parsed = manifest::parse(ManifestKind::PoetryLock, "poetry.lock", source);
    assert_eq!(summary(&parsed), [("idna", Some("3.7"), false)]);
    let codes: Vec<_> = parsed.errors.iter().map(|e| (e.line, e.code)).collect();
    assert!(
        codes.contains(&(5, Some(ErrorCode::LockfileTruncated))),
        "{:?}",
        parsed.errors
    );
}
