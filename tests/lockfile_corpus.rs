//! Every lockfile of the real-world corpus (../shared/corpus) parses without errors, every version
//! span holds exactly its version, and named packages in named files come out as they are written.
//! Counts are checked against an independent reading of the same file (serde_json, line matching).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use patchwright::manifest::{self, ManifestKind};
use patchwright::model::{
    Dependency, DependencyKind, Ecosystem, EditMode, ParsedManifest, line_column,
};
use serde_json::Value;

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus");

/// `(path relative to the corpus, kind)` of every lockfile, found by walking and `detect`.
fn lockfiles() -> Vec<(String, ManifestKind)> {
    let mut found = Vec::new();
    let mut stack = vec![PathBuf::from(CORPUS)];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("corpus folder is readable") {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let relative = path
                .strip_prefix(CORPUS)
                .expect("under the corpus")
                .to_string_lossy()
                .replace('\\', "/");
            match manifest::detect(&relative) {
                Some(kind) if !kind.names_images() => found.push((relative, kind)),
                _ => {}
            }
        }
    }
    found.sort_by(|a, b| a.0.cmp(&b.0));
    found
}

fn read(relative: &str) -> String {
    std::fs::read_to_string(Path::new(CORPUS).join(relative)).expect("corpus file is readable")
}

fn parse(relative: &str) -> (String, ParsedManifest) {
    let source = read(relative);
    let kind = manifest::detect(relative).expect("a lockfile name");
    let parsed = manifest::parse(kind, relative, &source);
    (source, parsed)
}

fn json(relative: &str) -> Value {
    serde_json::from_str(&read(relative)).expect("corpus JSON is valid")
}

fn find<'a>(parsed: &'a ParsedManifest, name: &str, version: &str) -> &'a Dependency {
    parsed
        .dependencies
        .iter()
        .find(|d| d.name == name && d.version.as_deref() == Some(version))
        .unwrap_or_else(|| panic!("{}: no {name} {version}", parsed.file))
}

fn names_of(parsed: &ParsedManifest, kind: &DependencyKind) -> BTreeSet<String> {
    parsed
        .dependencies
        .iter()
        .filter(|d| &d.kind == kind)
        .map(|d| d.name.clone())
        .collect()
}

/// The names package.json next to `lockfile` declares, in any of the four lists.
fn declared_in_package_json(lockfile: &str) -> BTreeSet<String> {
    let package_json = Path::new(lockfile)
        .with_file_name("package.json")
        .to_string_lossy()
        .into_owned();
    let value = json(&package_json);
    [
        "dependencies",
        "devDependencies",
        "optionalDependencies",
        "peerDependencies",
    ]
    .iter()
    .filter_map(|field| value.get(field).and_then(Value::as_object))
    .flat_map(|list| list.keys().cloned())
    .collect()
}

#[test]
fn the_corpus_holds_the_expected_lockfiles() {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for (_, kind) in lockfiles() {
        *counts.entry(format!("{kind:?}")).or_default() += 1;
    }
    let counts: Vec<(&str, usize)> = counts.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    assert_eq!(
        counts,
        [
            ("ComposerLock", 1),
            ("GemfileLock", 1),
            ("GoMod", 7),
            ("GoSum", 7),
            ("PackageLock", 11),
            ("PipfileLock", 1),
            ("PnpmLock", 1),
            ("Requirements", 11),
            ("UvLock", 1),
            ("YarnLock", 1),
        ]
    );
}

#[test]
fn every_lockfile_parses_without_errors_and_every_span_is_exact() {
    for (relative, kind) in lockfiles() {
        let (source, parsed) = parse(&relative);
        assert_eq!(parsed.file, relative);
        assert!(parsed.errors.is_empty(), "{relative}: {:?}", parsed.errors);
        if kind != ManifestKind::GoSum {
            assert!(
                !parsed.dependencies.is_empty(),
                "{relative}: no dependencies"
            );
        }
        for (index, dep) in parsed.dependencies.iter().enumerate() {
            for span in &dep.version_spans {
                assert_eq!(
                    span.slice(&source),
                    dep.version.as_deref(),
                    "{relative}: {} span {span:?}",
                    dep.name
                );
            }
            let at = dep.location.span.expect("locations carry their span");
            assert!(at.slice(&source).is_some(), "{relative}: {}", dep.name);
            // The parsers count lines incrementally; the model's function rescans the file each
            // time (too slow for every entry of a 12,000-line lockfile): they agree.
            if index % 20 != 0 && index + 1 != parsed.dependencies.len() {
                continue;
            }
            assert_eq!(
                (dep.location.line, dep.location.column),
                line_column(&source, at.start),
                "{relative}: {}",
                dep.name
            );
            assert_eq!(dep.location.file, relative);
        }
    }
}

#[test]
fn package_lock_v2_reports_each_package_once_with_both_version_spans() {
    let relative = "microservices-demo/src/paymentservice/package-lock.json";
    let (source, parsed) = parse(relative);
    let lock = json(relative);
    assert_eq!(lock["lockfileVersion"], 2);
    let packages = lock["packages"].as_object().expect("packages");
    let expected = packages
        .iter()
        .filter(|(key, entry)| {
            key.contains("node_modules/")
                && entry.get("version").is_some()
                && entry.get("link").is_none()
        })
        .count();
    assert_eq!(expected, 237);
    assert_eq!(parsed.dependencies.len(), expected);

    // The v1 mirror names every package a second time.
    for dep in &parsed.dependencies {
        assert_eq!(dep.version_spans.len(), 2, "{}", dep.name);
        assert!(dep.version_spans[0].start < dep.version_spans[1].start);
        assert_eq!(dep.ecosystem, Ecosystem::Npm);
    }
    let pino = find(&parsed, "pino", "10.3.1");
    assert_eq!(pino.kind, DependencyKind::Direct);
    // The second span is in the `dependencies` mirror, after all of `packages`.
    let mirror_start = source.find("\n  \"dependencies\": {").expect("mirror");
    assert!(pino.version_spans[1].start > mirror_start);
    match &pino.edit_mode {
        EditMode::NeedsRelock { reason } => {
            assert!(reason.contains("npm install <package>@"), "{reason}")
        }
        other => panic!("{other:?}"),
    }

    // Direct: exactly what the root package declares.
    let root: BTreeSet<String> = packages[""]["dependencies"]
        .as_object()
        .expect("root dependencies")
        .keys()
        .cloned()
        .collect();
    assert_eq!(names_of(&parsed, &DependencyKind::Direct), root);
}

#[test]
fn package_lock_v3_nested_packages_are_transitive_under_their_own_name() {
    let relative = "microservices-demo/src/currencyservice/package-lock.json";
    let (_, parsed) = parse(relative);
    let lock = json(relative);
    assert_eq!(lock["lockfileVersion"], 3);
    let packages = lock["packages"].as_object().expect("packages");
    let expected = packages
        .keys()
        .filter(|key| key.contains("node_modules/"))
        .count();
    assert_eq!(parsed.dependencies.len(), expected);
    // v3 has no mirror: one span each.
    assert!(
        parsed
            .dependencies
            .iter()
            .all(|d| d.version_spans.len() == 1)
    );

    let nested = "node_modules/@grpc/proto-loader/node_modules/long";
    let version = packages[nested]["version"].as_str().expect("version");
    let long = find(&parsed, "long", version);
    assert_eq!(long.kind, DependencyKind::Transitive);
    assert_eq!(find(&parsed, "pino", "10.3.1").kind, DependencyKind::Direct);
    assert_eq!(
        find(&parsed, "@grpc/grpc-js", "1.14.4").kind,
        DependencyKind::Direct
    );
    let root: BTreeSet<String> = packages[""]["dependencies"]
        .as_object()
        .expect("root dependencies")
        .keys()
        .cloned()
        .collect();
    assert_eq!(names_of(&parsed, &DependencyKind::Direct), root);
}

/// Every entry of a v1 `dependencies` tree, walked independently.
fn v1_entries(tree: &Value, out: &mut Vec<(String, String)>) {
    for (name, entry) in tree.as_object().into_iter().flatten() {
        if let Some(version) = entry["version"].as_str() {
            out.push((name.clone(), version.to_string()));
        }
        v1_entries(&entry["dependencies"], out);
    }
}

#[test]
fn package_lock_v1_walks_the_nested_tree() {
    let relative = "awesome-compose/nginx-nodejs-redis/web/package-lock.json";
    let (_, parsed) = parse(relative);
    let lock = json(relative);
    assert_eq!(lock["lockfileVersion"], 1);
    let mut expected = Vec::new();
    v1_entries(&lock["dependencies"], &mut expected);
    let mut got: Vec<(String, String)> = parsed
        .dependencies
        .iter()
        .map(|d| (d.name.clone(), d.version.clone().expect("versioned")))
        .collect();
    expected.sort();
    got.sort();
    assert_eq!(got, expected);
    assert_eq!(got.len(), 55);

    assert_eq!(
        find(&parsed, "express", "4.17.3").kind,
        DependencyKind::Direct
    );
    assert_eq!(find(&parsed, "redis", "3.1.2").kind, DependencyKind::Direct);
    assert_eq!(
        find(&parsed, "debug", "2.6.9").kind,
        DependencyKind::Transitive
    );
    // `send` carries its own nested copy of `ms`, besides the top-level one.
    let nested_ms = lock["dependencies"]["send"]["dependencies"]["ms"]["version"]
        .as_str()
        .expect("nested ms");
    assert_eq!(
        find(&parsed, "ms", nested_ms).kind,
        DependencyKind::Transitive
    );
}

#[test]
fn package_lock_v1_direct_is_never_wrong_about_package_json() {
    let mut found = 0;
    for (relative, kind) in lockfiles() {
        if kind != ManifestKind::PackageLock || json(&relative)["lockfileVersion"] != 1 {
            continue;
        }
        found += 1;
        let (_, parsed) = parse(&relative);
        let declared = declared_in_package_json(&relative);
        let direct = names_of(&parsed, &DependencyKind::Direct);
        assert!(!direct.is_empty(), "{relative}");
        assert!(
            direct.is_subset(&declared),
            "{relative}: Direct but not in package.json: {:?}",
            direct.difference(&declared).collect::<Vec<_>>()
        );
    }
    assert_eq!(found, 9);
}

#[test]
fn yarn_lock_reports_one_dependency_per_entry() {
    let relative = "awesome-compose/vuejs/vuejs/yarn.lock";
    let (source, parsed) = parse(relative);
    let versions = source
        .lines()
        .filter(|l| l.starts_with("  version \""))
        .count();
    let headers = source
        .lines()
        .filter(|l| !l.starts_with([' ', '#']) && l.ends_with(':'))
        .count();
    assert_eq!((versions, headers), (814, 814));
    assert_eq!(parsed.dependencies.len(), 814);

    // `"@babel/code-frame@^7.0.0", "@babel/code-frame@^7.16.7":` is one entry.
    let code_frame: Vec<&Dependency> = parsed
        .dependencies
        .iter()
        .filter(|d| d.name == "@babel/code-frame")
        .collect();
    let versions: Vec<&str> = code_frame
        .iter()
        .filter_map(|d| d.version.as_deref())
        .collect();
    assert!(
        versions.contains(&"7.12.11") && versions.contains(&"7.16.7"),
        "{versions:?}"
    );
    let entry = find(&parsed, "@babel/code-frame", "7.12.11");
    let header_line = source
        .lines()
        .position(|l| l == "\"@babel/code-frame@7.12.11\":")
        .expect("header")
        + 1;
    assert_eq!(entry.location.line as usize, header_line);
    assert_eq!(entry.kind, DependencyKind::Transitive);

    // `set-value` is kept only by package.json's `resolutions` (nothing depends on it any more):
    // an entry nobody depends on is what the heuristic calls Direct.
    let mut declared = declared_in_package_json(relative);
    declared.insert("set-value".to_string());
    let direct = names_of(&parsed, &DependencyKind::Direct);
    assert!(
        direct.is_subset(&declared),
        "{:?}",
        direct.difference(&declared)
    );
    assert!(direct.contains("vue") && direct.contains("@vue/cli-service"));
    assert!(parsed.dependencies.iter().all(|d| matches!(
        &d.edit_mode,
        EditMode::NeedsRelock { reason } if reason.contains("yarn")
    )));
}

#[test]
fn requirements_pins_extras_and_bare_names() {
    let relative = "microservices-demo/src/emailservice/requirements.txt";
    let (source, parsed) = parse(relative);
    let pinned = source
        .lines()
        .filter(|l| l.starts_with(|c: char| c.is_ascii_alphanumeric()) && l.contains("=="))
        .count();
    assert_eq!(parsed.dependencies.len(), pinned);
    assert!(pinned > 30);
    let core = find(&parsed, "google-api-core", "2.28.1");
    assert_eq!(core.kind, DependencyKind::Direct);
    assert_eq!(core.edit_mode, EditMode::InPlace);
    assert_eq!(core.ecosystem, Ecosystem::PyPI);
    let line = source
        .lines()
        .position(|l| l.starts_with("google-api-core[grpc]=="))
        .expect("line")
        + 1;
    assert_eq!(core.location.line as usize, line);

    let (_, fastapi) = parse("awesome-compose/fastapi/requirements.txt");
    let names: Vec<(&str, Option<&str>)> = fastapi
        .dependencies
        .iter()
        .map(|d| (d.name.as_str(), d.version.as_deref()))
        .collect();
    assert_eq!(names, [("fastapi", None), ("uvicorn", None)]);
    assert!(
        fastapi
            .dependencies
            .iter()
            .all(|d| d.version_spans.is_empty())
    );

    let (_, django) = parse("awesome-compose/django/app/requirements.txt");
    assert_eq!(find(&django, "Django", "3.2.13").version_spans.len(), 1);
}

#[test]
fn go_mod_requires_indirect_comments_and_toolchain() {
    let relative = "microservices-demo/src/shippingservice/go.mod";
    let (source, parsed) = parse(relative);
    let requires = source
        .lines()
        .filter(|l| l.starts_with('\t') && l.split_whitespace().count() >= 2)
        .count();
    let indirect = source
        .lines()
        .filter(|l| l.ends_with("// indirect"))
        .count();
    // One more: the toolchain's `stdlib`.
    assert_eq!(parsed.dependencies.len(), requires + 1);
    assert_eq!(
        names_of(&parsed, &DependencyKind::Transitive).len(),
        indirect
    );

    let stdlib = find(&parsed, "stdlib", "1.26.5");
    assert_eq!(stdlib.kind, DependencyKind::Direct);
    assert_eq!(stdlib.location.line, 5);
    assert_eq!(stdlib.edit_mode, EditMode::InPlace);
    let span = stdlib.version_spans[0];
    assert_eq!(&source[span.start - 2..span.end], "go1.26.5");

    assert_eq!(
        find(&parsed, "github.com/sirupsen/logrus", "v1.9.4").kind,
        DependencyKind::Direct
    );
    assert_eq!(
        find(&parsed, "cloud.google.com/go", "v0.123.0").kind,
        DependencyKind::Transitive
    );
    assert!(
        parsed
            .dependencies
            .iter()
            .all(|d| d.ecosystem == Ecosystem::Go)
    );

    // A single-line `require` outside a block.
    let (_, mysql) = parse("awesome-compose/nginx-golang-mysql/backend/go.mod");
    let snoop = find(&mysql, "github.com/felixge/httpsnoop", "v1.0.1");
    assert_eq!(
        (snoop.kind.clone(), snoop.location.line),
        (DependencyKind::Transitive, 11)
    );
}

#[test]
fn go_sum_is_validated_but_yields_no_dependencies() {
    for (relative, kind) in lockfiles() {
        if kind != ManifestKind::GoSum {
            continue;
        }
        let (source, parsed) = parse(&relative);
        assert!(parsed.dependencies.is_empty(), "{relative}");
        assert!(parsed.errors.is_empty(), "{relative}");
        // The same file with its third line cut short is reported at that line.
        if source.lines().count() > 3 {
            let damaged: Vec<String> = source
                .lines()
                .enumerate()
                .map(|(i, l)| {
                    if i == 2 {
                        l.split_whitespace().take(2).collect::<Vec<_>>().join(" ")
                    } else {
                        l.to_string()
                    }
                })
                .collect();
            let damaged = manifest::parse(kind, &relative, &damaged.join("\n"));
            let lines: Vec<u32> = damaged.errors.iter().map(|e| e.line).collect();
            assert_eq!(lines, [3], "{relative}");
        }
    }
}
