//! The real pnpm-lock.yaml, uv.lock, Pipfile.lock, Gemfile.lock and composer.lock of the corpus
//! give the packages a person reading them would list: counts and direct dependencies are checked
//! against an independent reading of the same file (serde_json, the `toml` crate, line matching).

use std::collections::BTreeSet;
use std::path::Path;

use patchwright::manifest;
use patchwright::model::{DependencyKind, Ecosystem, ParsedManifest};

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus");

fn parse(relative: &str) -> (String, ParsedManifest) {
    let source = std::fs::read_to_string(Path::new(CORPUS).join(relative)).expect("readable");
    let kind = manifest::detect(relative).expect("detected");
    let parsed = manifest::parse(kind, relative, &source);
    assert!(parsed.errors.is_empty(), "{relative}: {:?}", parsed.errors);
    (source, parsed)
}

fn direct(parsed: &ParsedManifest) -> BTreeSet<String> {
    parsed
        .dependencies
        .iter()
        .filter(|d| d.kind == DependencyKind::Direct)
        .map(|d| d.name.clone())
        .collect()
}

#[test]
fn pnpm_v9_lists_each_package_key_once_and_the_root_importers_dependencies_as_direct() {
    let (source, parsed) = parse("vuejs_core/pnpm-lock.yaml");
    // `packages:` keys are the two-space-indented lines between `packages:` and `snapshots:`.
    let section =
        &source[source.find("\npackages:\n").unwrap()..source.find("\nsnapshots:\n").unwrap()];
    let keys = section
        .lines()
        .filter(|l| l.starts_with("  ") && !l.starts_with("   ") && l.ends_with(':'))
        .count();
    assert_eq!(parsed.dependencies.len(), keys);
    assert!(
        parsed
            .dependencies
            .iter()
            .all(|d| d.ecosystem == Ecosystem::Npm)
    );
    let direct = direct(&parsed);
    for name in [
        "@babel/parser",
        "@rollup/plugin-json",
        "vite",
        "typescript",
        "estree-walker",
    ] {
        assert!(direct.contains(name), "{name}");
    }
    // Only a dependency of a dependency: never named by an importer.
    assert!(!direct.contains("@asamuzakjp/css-color"));
}

#[test]
fn uv_lock_skips_the_project_and_makes_its_lists_direct() {
    let (source, parsed) = parse("fastapi_fastapi/uv.lock");
    let doc: toml::Table = source.parse().expect("valid TOML");
    let packages = doc["package"].as_array().unwrap();
    let from_index = packages
        .iter()
        .filter(|p| p.get("source").and_then(|s| s.get("registry")).is_some())
        .count();
    assert_eq!(parsed.dependencies.len(), from_index);
    assert!(!parsed.dependencies.iter().any(|d| d.name == "fastapi"));
    let direct = direct(&parsed);
    for name in ["pydantic", "starlette", "email-validator", "a2wsgi"] {
        assert!(direct.contains(name), "{name}: {direct:?}");
    }
    assert!(!direct.contains("idna"));
}

#[test]
fn pipfile_lock_lists_default_and_develop() {
    let (source, parsed) = parse("pypa_pipenv/Pipfile.lock");
    let doc: serde_json::Value = serde_json::from_str(&source).unwrap();
    let pinned = ["default", "develop"]
        .iter()
        .flat_map(|s| doc[s].as_object().unwrap().values())
        .filter(|e| e.get("version").is_some())
        .count();
    assert_eq!(parsed.dependencies.len(), pinned);
    let pytest = parsed
        .dependencies
        .iter()
        .find(|d| d.name == "pytest")
        .expect("pytest");
    let want = doc["develop"]["pytest"]["version"]
        .as_str()
        .unwrap()
        .trim_start_matches("==");
    assert_eq!(pytest.version.as_deref(), Some(want));
}

#[test]
fn gemfile_lock_lists_gem_specs_once_per_version_and_dependencies_as_direct() {
    let (source, parsed) = parse("rails_rails/Gemfile.lock");
    let gem = &source[source.find("\nGEM\n").unwrap()..source.find("\nPLATFORMS\n").unwrap()];
    let specs: BTreeSet<(String, String)> = gem
        .lines()
        .filter(|l| l.starts_with("    ") && !l.starts_with("     "))
        .map(|l| {
            let (name, rest) = l.trim().split_once(" (").unwrap();
            let version = rest.trim_end_matches(')').split('-').next().unwrap();
            (name.to_string(), version.to_string())
        })
        .collect();
    let got: BTreeSet<(String, String)> = parsed
        .dependencies
        .iter()
        .map(|d| (d.name.clone(), d.version.clone().unwrap()))
        .collect();
    assert_eq!(got, specs);
    assert_eq!(parsed.dependencies.len(), specs.len());
    let nokogiri = parsed
        .dependencies
        .iter()
        .find(|d| d.name == "nokogiri")
        .unwrap();
    assert!(
        nokogiri.version_spans.len() > 1,
        "one span per platform line"
    );
    let direct = direct(&parsed);
    for name in ["bcrypt", "argon2", "bootsnap"] {
        assert!(direct.contains(name), "{name}");
    }
    // `actioncable` is a PATH gem: the project's own code.
    assert!(!parsed.dependencies.iter().any(|d| d.name == "actioncable"));
}

#[test]
fn composer_lock_lists_packages_and_dev_packages() {
    let (source, parsed) = parse("composer_composer/composer.lock");
    let doc: serde_json::Value = serde_json::from_str(&source).unwrap();
    let releases = ["packages", "packages-dev"]
        .iter()
        .flat_map(|s| doc[s].as_array().unwrap())
        .filter(|p| !p["version"].as_str().unwrap().starts_with("dev-"))
        .count();
    assert_eq!(parsed.dependencies.len(), releases);
    assert!(
        parsed
            .dependencies
            .iter()
            .all(|d| d.ecosystem == Ecosystem::Packagist)
    );
    // Required by composer.json and by no other locked package.
    assert!(direct(&parsed).contains("composer/ca-bundle"));
    // `psr/log` is required by other locked packages.
    assert!(!direct(&parsed).contains("psr/log"));
}
