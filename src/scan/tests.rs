use super::*;
use crate::catalog::{AdvisoryDb, parse_catalog, read_json_records};
use crate::manifest;
use crate::model::{Level, RuleId};

const CATALOG: &str = r#"
revision = "test"
allow-unlisted-images = false

[[image]]
name = "node"
approved = ["20*", "22*"]
tags = ["20.18.0-alpine", "22.11.0-alpine"]
default-user = "root"

[[image.end-of-life]]
tags = ["16*"]
date = 2023-09-11
blocks-after = 2024-03-11

[[image.end-of-life]]
tags = ["20*"]
date = 2026-04-30

[[image.vulnerable]]
tags = ["22.1.*"]
advisories = ["CVE-2024-0001"]
severity = "critical"
reason = "test"

[[image]]
name = "distroless/app"
default-user = "nonroot"
"#;

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn advisories() -> AdvisoryDb {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/advisories");
    let (records, errors) = read_json_records(std::path::Path::new(dir));
    assert!(errors.is_empty(), "{errors:?}");
    AdvisoryDb::from_json_records(&records).0
}

fn scan_files(files: &[(&str, &str)], today: &str) -> Vec<Finding> {
    let catalog = parse_catalog("catalog.toml", CATALOG).unwrap();
    let manifests: Vec<ParsedManifest> = files
        .iter()
        .map(|(path, text)| manifest::parse(manifest::detect(path).unwrap(), path, text))
        .collect();
    for m in &manifests {
        assert!(m.errors.is_empty(), "{:?}", m.errors);
    }
    scan(&manifests, &catalog, &advisories(), date(today))
}

fn rules(findings: &[Finding]) -> Vec<(RuleId, String)> {
    findings
        .iter()
        .map(|f| (f.rule, f.subject.clone()))
        .collect()
}

#[test]
fn every_advisory_of_a_package_is_one_finding_with_aliases_merged() {
    let findings = scan_files(&[("requirements.txt", "urllib3==1.26.5\n")], "2026-11-23");
    assert_eq!(
        rules(&findings),
        [(RuleId::VulnerableDependency, "urllib3@1.26.5".to_string())]
    );
    let f = &findings[0];
    // PYSEC-2023-192 and GHSA-v845-jxx5-vc9f name the same issue: one advisory, not two.
    assert_eq!(f.advisories, ["PYSEC-2023-192", "PYSEC-2023-212"]);
    assert!(
        f.advisory_details[0]
            .aliases
            .contains(&"GHSA-v845-jxx5-vc9f".to_string())
    );
    assert_eq!(f.severity, Some(crate::model::Severity::High));
    assert_eq!((f.file.as_str(), f.line), ("requirements.txt", 1));
}

#[test]
fn versions_outside_every_range_are_clean() {
    let findings = scan_files(
        &[("requirements.txt", "urllib3==1.26.18\nrequests==2.31.0\n")],
        "2026-11-23",
    );
    assert_eq!(findings, []);
}

#[test]
fn copies_of_one_package_in_a_lockfile_are_one_finding() {
    let lock = r#"{
  "name": "x", "lockfileVersion": 3, "requires": true,
  "packages": {
    "": { "name": "x", "dependencies": { "a": "1", "b": "1" } },
    "node_modules/a/node_modules/minimist": { "version": "1.2.5" },
    "node_modules/b/node_modules/minimist": { "version": "1.2.5" },
    "node_modules/minimist": { "version": "1.2.6" }
  }
}"#;
    let findings = scan_files(&[("package-lock.json", lock)], "2026-11-23");
    assert_eq!(
        rules(&findings),
        [(RuleId::VulnerableDependency, "minimist@1.2.5".to_string())]
    );
    assert!(
        findings[0]
            .message
            .ends_with("(the lockfile holds 1 more copy at line 6)"),
        "{}",
        findings[0].message
    );
}

#[test]
fn image_tag_digest_and_catalog_rules() {
    let dockerfile = "FROM node\nFROM node:latest\nFROM node:16.20.2-alpine\nFROM node:21-alpine\nFROM node:22.1.0-alpine\nFROM node:22.11.0-alpine@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\nFROM python:3.12\nUSER 1000\n";
    let findings = scan_files(&[("Dockerfile", dockerfile)], "2024-01-01");
    let got = rules(&findings);
    let want = [
        (RuleId::ImageTagNotPinned, "node"),
        (RuleId::ImageDigestNotPinned, "node"),
        (RuleId::ImageTagNotPinned, "node:latest"),
        (RuleId::ImageDigestNotPinned, "node:latest"),
        (RuleId::UnapprovedBaseImage, "node:latest"),
        (RuleId::ImageDigestNotPinned, "node:16.20.2-alpine"),
        (RuleId::EolBaseImage, "node:16.20.2-alpine"),
        (RuleId::ImageDigestNotPinned, "node:21-alpine"),
        (RuleId::UnapprovedBaseImage, "node:21-alpine"),
        (RuleId::ImageDigestNotPinned, "node:22.1.0-alpine"),
        (RuleId::VulnerableImage, "node:22.1.0-alpine"),
        (RuleId::ImageDigestNotPinned, "python:3.12"),
        (RuleId::UnapprovedBaseImage, "python:3.12"),
    ];
    let want: Vec<(RuleId, String)> = want.iter().map(|(r, s)| (*r, s.to_string())).collect();
    assert_eq!(got, want);
    let eol = findings
        .iter()
        .find(|f| f.rule == RuleId::EolBaseImage)
        .unwrap();
    assert_eq!(eol.blocks_after, Some(date("2024-03-11")));
    let vulnerable = findings
        .iter()
        .find(|f| f.rule == RuleId::VulnerableImage)
        .unwrap();
    assert_eq!(vulnerable.advisories, ["CVE-2024-0001"]);
    assert_eq!(eol.line, 3);
}

#[test]
fn end_of_life_counts_from_its_date() {
    let before = scan_files(
        &[("Dockerfile", "FROM node:20.18.0-alpine\nUSER app\n")],
        "2026-04-29",
    );
    assert!(!before.iter().any(|f| f.rule == RuleId::EolBaseImage));
    let after = scan_files(
        &[("Dockerfile", "FROM node:20.18.0-alpine\nUSER app\n")],
        "2026-04-30",
    );
    let eol = after
        .iter()
        .find(|f| f.rule == RuleId::EolBaseImage)
        .expect("past end of life");
    // No grace date: it blocks from the end-of-life date itself.
    assert_eq!(eol.blocks_after, Some(date("2026-04-30")));
}

#[test]
fn final_stage_user() {
    let cases = [
        ("FROM node:22.11.0-alpine\n", true),
        ("FROM node:22.11.0-alpine\nUSER 0:0\n", true),
        ("FROM node:22.11.0-alpine\nUSER root\n", true),
        ("FROM node:22.11.0-alpine\nUSER node\n", false),
        ("FROM node:22.11.0-alpine AS b\nUSER node\nFROM b\n", false),
        (
            "FROM node:22.11.0-alpine AS b\nUSER node\nFROM distroless/app:1\n",
            false,
        ),
        ("FROM node:22.11.0-alpine\nUSER node\nFROM scratch\n", true),
        // The shipped image is at the root of the `FROM <stage>` chain: its default user counts.
        (
            "FROM distroless/app:1 AS base\nRUN true\nFROM base\n",
            false,
        ),
        ("FROM node:22.11.0-alpine AS base\nFROM base\n", true),
    ];
    for (dockerfile, root) in cases {
        let findings = scan_files(&[("Dockerfile", dockerfile)], "2025-01-01");
        let got = findings.iter().any(|f| f.rule == RuleId::RunsAsRoot);
        assert_eq!(got, root, "{dockerfile}");
    }
}

#[test]
fn unpinned_os_packages_are_info() {
    let findings = scan_files(
        &[(
            "Dockerfile",
            "FROM node:22.11.0-alpine\nRUN apk add --no-cache git curl=8.0.1-r0\nUSER node\n",
        )],
        "2025-01-01",
    );
    let f = findings
        .iter()
        .find(|f| f.rule == RuleId::UnpinnedOsPackages)
        .unwrap();
    assert_eq!(
        (f.line, f.level, f.subject.as_str()),
        (2, Level::Info, "apk: git")
    );
}

#[test]
fn catalog_minimum_and_bans() {
    let catalog = parse_catalog(
        "c.toml",
        "revision = \"t\"\n[[package]]\necosystem = \"PyPI\"\nname = \"flask\"\nminimum = \"2.2.5\"\nbanned = [\">=2.0.0, <2.0.3\"]\nreason = \"session cookie\"\n",
    )
    .unwrap();
    let m = manifest::parse(
        manifest::ManifestKind::Requirements,
        "requirements.txt",
        "Flask==2.0.1\nflask-cors==3.0.0\n",
    );
    let findings = scan(&[m], &catalog, &AdvisoryDb::empty(), date("2025-01-01"));
    assert_eq!(
        rules(&findings),
        [
            (RuleId::DependencyBelowMinimum, "Flask@2.0.1".to_string()),
            (RuleId::DependencyBanned, "Flask@2.0.1".to_string()),
        ]
    );
    assert!(
        findings[1].message.contains("`>=2.0.0, <2.0.3`"),
        "{}",
        findings[1].message
    );
}

/// Checking manifests on several threads finds what one thread finds, in the same order: on the
/// corpus with its advisories and the example catalog when they are there, else on a few files.
#[test]
fn several_threads_find_what_one_finds() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let corpus = root.join("../shared/corpus");
    let shared_advisories = root.join("../shared/advisories");
    let (manifests, advisories) = if corpus.is_dir() && shared_advisories.is_dir() {
        let snapshot = crate::forge::local::read_snapshot(&corpus, &[]).unwrap();
        let manifests: Vec<ParsedManifest> = snapshot
            .files
            .iter()
            .filter_map(|(p, t)| manifest::detect(p).map(|k| manifest::parse(k, p, t)))
            .collect();
        (manifests, AdvisoryDb::load_dir(&shared_advisories).0)
    } else {
        let files = [
            ("web/Dockerfile", "FROM node:16.20.2-alpine\n"),
            ("api/requirements.txt", "urllib3==1.26.5\nDjango==3.2.0\n"),
            ("tools/Dockerfile", "FROM node:22.1.0-alpine\n"),
        ];
        let manifests = files
            .iter()
            .map(|(p, t)| manifest::parse(manifest::detect(p).unwrap(), p, t))
            .collect();
        (manifests, advisories())
    };
    let catalog =
        crate::catalog::load_catalog(&root.join("fixtures/catalog.example.toml")).unwrap();
    let today = date("2026-11-23");
    let one = scan_on(1, &manifests, &catalog, &advisories, today);
    assert!(one.len() > 2, "{}", one.len());
    let position: HashMap<&str, usize> = manifests
        .iter()
        .enumerate()
        .map(|(i, m)| (m.file.as_str(), i))
        .collect();
    assert!(
        one.windows(2)
            .all(|w| position[w[0].file.as_str()] <= position[w[1].file.as_str()]),
        "findings are in manifest order"
    );
    for threads in [2, 3, 8] {
        let several = scan_on(threads, &manifests, &catalog, &advisories, today);
        assert!(several == one, "{threads} threads");
    }
}
