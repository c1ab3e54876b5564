//! The command line end to end: the real binary on the example project, the real corpus and
//! temporary copies, checking output, exit codes and the bytes written.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const TODAY: &str = "2026-11-23";

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn patchwright(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_patchwright"))
        .args(args)
        .current_dir(dir)
        .env_remove("PATCHWRIGHT_CONFIG")
        .env_remove("PATCHWRIGHT_CATALOG")
        .output()
        .expect("the binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn copy_dir(from: &Path, to: &Path) {
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

/// A temporary copy of examples/demo plus the org config pointing at the crate's fixtures.
fn demo_copy() -> (tempfile::TempDir, PathBuf, String) {
    let tmp = tempfile::tempdir().unwrap();
    let demo = tmp.path().join("demo");
    copy_dir(&crate_dir().join("examples/demo"), &demo);
    let config = tmp.path().join("org.toml");
    let fixtures = crate_dir().join("fixtures");
    std::fs::write(
        &config,
        format!(
            "catalog = \"{}\"\nadvisories = \"{}\"\n",
            fixtures.join("catalog.example.toml").display(),
            fixtures.join("advisories").display()
        ),
    )
    .unwrap();
    (tmp, demo, config.display().to_string())
}

fn demo_args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["--config", "examples/patchwright.toml", "--today", TODAY];
    args.extend_from_slice(extra);
    args
}

#[test]
fn scan_text_on_the_example_blocks_and_explains() {
    let mut args = vec!["scan", "examples/demo"];
    args.extend(demo_args(&[]));
    let out = patchwright(&args, &crate_dir());
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.starts_with(
            "patchwright: 5 files, 11 dependencies · 6 blocker(s) · 3 warning(s) · 3 info · 1 excepted · 8 fixable"
        ),
        "{text}"
    );
    assert!(
        text.contains("BLOCKER  vulnerable-dependency  api/requirements.txt:4  urllib3@1.26.5"),
        "{text}"
    );
    // The smallest version that clears both urllib3 advisories, not the first fix of one.
    assert!(text.contains("fix: 1.26.5 → 1.26.18 (patch)"), "{text}");
    // One problem, one finding: the catalog's ban rides on the advisory finding it shares a
    // fix with, instead of a second block with the same fix.
    assert!(
        text.contains("\n  also dependency-banned (blocker): urllib3 1.26.5 is banned"),
        "{text}"
    );
    assert_eq!(text.matches("fix: 1.26.5 → 1.26.18").count(), 1, "{text}");
    assert!(!text.contains("BLOCKER  dependency-banned"), "{text}");
    assert!(
        text.contains("fix: node:16.20.2-alpine → node:22-alpine (major)"),
        "{text}"
    );
    assert!(
        text.contains(
            "the tag comes from `ARG NODE_VERSION`: its default (line 3) is what changes"
        ),
        "{text}"
    );
    assert!(
        text.contains("EXCEPTED unpinned-os-packages  api/Dockerfile:4"),
        "{text}"
    );
    assert!(
        !text.contains("evil"),
        "a heredoc body is not an instruction: {text}"
    );
}

#[test]
fn scan_json_keeps_the_contract() {
    let mut args = vec!["scan", "examples/demo", "--format", "json"];
    args.extend(demo_args(&[]));
    let out = patchwright(&args, &crate_dir());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    let inventory = json["inventory"].as_array().unwrap();
    let node = inventory
        .iter()
        .find(|d| d["name"] == "node")
        .expect("node image");
    assert_eq!(node["file"], "web/Dockerfile");
    assert_eq!(node["line"], 5);
    assert_eq!(node["ecosystem"], "docker");
    assert_eq!(node["version"], "16.20.2-alpine");
    assert_eq!(node["digest"], serde_json::Value::Null);
    for item in inventory {
        for key in ["file", "line", "ecosystem", "name", "version", "digest"] {
            assert!(
                item.get(key).is_some(),
                "inventory item lacks {key}: {item}"
            );
        }
    }
    let urllib3 = inventory.iter().find(|d| d["name"] == "urllib3").unwrap();
    assert_eq!(
        (urllib3["ecosystem"].as_str(), urllib3["version"].as_str()),
        (Some("PyPI"), Some("1.26.5"))
    );

    let findings = json["findings"].as_array().unwrap();
    for f in findings {
        for key in [
            "rule",
            "level",
            "file",
            "line",
            "subject",
            "message",
            "advisories",
            "fix",
        ] {
            assert!(f.get(key).is_some(), "finding lacks {key}: {f}");
        }
    }
    let lodash = findings
        .iter()
        .find(|f| f["rule"] == "vulnerable-dependency" && f["subject"] == "lodash@4.17.19")
        .unwrap();
    assert_eq!(lodash["level"], "blocker");
    assert_eq!(lodash["line"], 15);
    assert_eq!(
        lodash["advisories"],
        serde_json::json!(["GHSA-35jh-r3h4-6jhm", "GHSA-p6mc-m468-83gw"])
    );
    assert_eq!(lodash["fix"]["to"], "4.17.21");
    assert_eq!(lodash["fix"]["relock"], "npm install lodash@4.17.21");
    // The catalog's minimum for lodash is the same problem with the same fix: folded in.
    assert_eq!(lodash["also"][0]["rule"], "dependency-below-minimum");
    assert_eq!(lodash["also"][0]["level"], "warning");
    assert!(
        !findings
            .iter()
            .any(|f| f["rule"] == "dependency-below-minimum" && f["subject"] == "lodash@4.17.19"),
        "{findings:?}"
    );
    let root = findings
        .iter()
        .find(|f| f["rule"] == "runs-as-root")
        .unwrap();
    assert_eq!(
        (root["file"].as_str(), root["fix"].is_null()),
        (Some("api/Dockerfile"), true)
    );
    assert_eq!(json["errors"], serde_json::json!([]));

    // Additions: every exception with its state, and the ignored updates (none from the CLI).
    // The excepted finding's exception keeps its `location` key.
    let curl = findings
        .iter()
        .find(|f| f["rule"] == "unpinned-os-packages")
        .unwrap();
    assert_eq!(
        curl["exception"]["location"]["file"],
        ".github/patchwright.toml"
    );
    assert_eq!(
        json["exceptions"],
        serde_json::json!([{
            "id": "unpinned-os-packages",
            "reason": "curl comes from the base image's pinned Alpine release; tracked in OPS-142",
            "owner": "@acme/platform",
            "expires": "2027-03-31",
            "location": {
                "file": ".github/patchwright.toml", "line": 5, "column": 1,
                "span": {"start": 111, "end": 124}
            },
            "origin_text": ".github/patchwright.toml:5",
            "state": "active",
            "covers": 1
        }])
    );
    assert_eq!(json["ignored_updates"], serde_json::json!([]));
}

/// Checks `sarif` against OASIS's SARIF 2.1.0 schema (errata 01, from oasis-tcs/sarif-spec
/// `sarif-2.1/schema/sarif-schema-2.1.0.json`), listing every violation.
fn assert_valid_sarif(sarif: &serde_json::Value) {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(crate_dir().join("fixtures/sarif-schema-2.1.0.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::draft4::new(&schema).expect("the OASIS schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(sarif)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "not valid SARIF 2.1.0:\n{}",
        errors.join("\n")
    );
}

#[test]
fn the_schema_check_catches_invalid_sarif() {
    let mut args = vec!["scan", "examples/demo", "--format", "sarif"];
    args.extend(demo_args(&[]));
    let out = patchwright(&args, &crate_dir());
    let mut json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    json["runs"][0]["results"][0]["level"] = serde_json::json!("blocker");
    let caught = std::panic::catch_unwind(|| assert_valid_sarif(&json));
    assert!(
        caught.is_err(),
        "a level SARIF does not know must fail the check"
    );
}

#[test]
fn scan_sarif_is_valid_sarif_with_every_rule() {
    let mut args = vec!["scan", "examples/demo", "--format", "sarif"];
    args.extend(demo_args(&[]));
    let out = patchwright(&args, &crate_dir());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_valid_sarif(&json);
    assert_eq!(json["version"], "2.1.0");
    // The rule list is a contract with code scanning: pinned here, not read from the code.
    let rules: Vec<&str> = json["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        rules,
        [
            "vulnerable-dependency",
            "vulnerable-image",
            "eol-base-image",
            "unapproved-base-image",
            "image-tag-not-pinned",
            "image-digest-not-pinned",
            "image-digest-refresh",
            "runs-as-root",
            "unpinned-os-packages",
            "dependency-below-minimum",
            "dependency-banned",
            "exception-expired",
            "exception-unused",
        ]
    );
    let results = json["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 13);
    let urllib3 = results
        .iter()
        .find(|r| {
            r["ruleId"] == "vulnerable-dependency"
                && r["message"]["text"]
                    .as_str()
                    .unwrap()
                    .starts_with("urllib3")
        })
        .unwrap();
    assert_eq!(urllib3["level"], "error");
    assert_eq!(
        urllib3["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "api/requirements.txt"
    );
    assert_eq!(
        urllib3["locations"][0]["physicalLocation"]["region"]["startLine"],
        4
    );
}

#[test]
fn exit_codes_zero_one_two() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("requirements.txt"), "flask==3.0.3\n").unwrap();
    let clean = patchwright(
        &[
            "scan",
            ".",
            "--advisories",
            &crate_dir()
                .join("fixtures/advisories")
                .display()
                .to_string(),
        ],
        tmp.path(),
    );
    assert_eq!(
        clean.status.code(),
        Some(0),
        "{}{}",
        stdout(&clean),
        stderr(&clean)
    );

    let missing_config = patchwright(&["scan", ".", "--config", "nope.toml"], tmp.path());
    assert_eq!(missing_config.status.code(), Some(2));
    assert!(
        stderr(&missing_config).contains("nope.toml"),
        "{}",
        stderr(&missing_config)
    );

    let bad_flag = patchwright(&["scan", "--format", "yaml"], tmp.path());
    assert_eq!(bad_flag.status.code(), Some(2));

    std::fs::write(
        tmp.path().join("bad.toml"),
        "[policy]\ndefault-tier = \"nope\"\n",
    )
    .unwrap();
    let bad_policy = patchwright(&["scan", ".", "--config", "bad.toml"], tmp.path());
    assert_eq!(bad_policy.status.code(), Some(2));
    assert!(
        stderr(&bad_policy).contains("policy.default-tier"),
        "{}",
        stderr(&bad_policy)
    );
}

#[test]
fn bad_files_become_errors_and_the_rest_is_still_scanned() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("package-lock.json"),
        "{ \"lockfileVersion\": 3, \"packages\": {\n",
    )
    .unwrap();
    std::fs::write(tmp.path().join("Dockerfile"), "FROM node:16\nFORM x\n").unwrap();
    std::fs::write(
        tmp.path().join("requirements.txt"),
        b"urllib3==1.26.5\n\xff\n",
    )
    .unwrap();
    std::fs::create_dir(tmp.path().join("ok")).unwrap();
    std::fs::write(tmp.path().join("ok/requirements.txt"), "urllib3==1.26.5\n").unwrap();
    let out = patchwright(
        &[
            "scan",
            ".",
            "--format",
            "json",
            "--advisories",
            &crate_dir()
                .join("fixtures/advisories")
                .display()
                .to_string(),
        ],
        tmp.path(),
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let errors = json["errors"].as_array().unwrap();
    let files: Vec<&str> = errors.iter().map(|e| e["file"].as_str().unwrap()).collect();
    assert!(files.contains(&"package-lock.json"), "{errors:?}");
    assert!(files.contains(&"requirements.txt"), "{errors:?}");
    let dockerfile = errors
        .iter()
        .find(|e| e["file"] == "Dockerfile")
        .expect("unknown instruction reported");
    assert_eq!(dockerfile["line"], 2);
    let utf8 = errors
        .iter()
        .find(|e| e["file"] == "requirements.txt")
        .unwrap();
    assert_eq!(utf8["line"], 2, "{utf8}");
    assert!(utf8["message"].as_str().unwrap().contains("UTF-8"));
    // The good file and the good line of the Dockerfile still count.
    let findings = json["findings"].as_array().unwrap();
    assert!(
        findings
            .iter()
            .any(|f| f["file"] == "ok/requirements.txt" && f["rule"] == "vulnerable-dependency")
    );
    assert!(
        json["inventory"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["name"] == "node" && d["version"] == "16")
    );
}

#[test]
fn exclude_and_gitignore_are_honoured() {
    let tmp = tempfile::tempdir().unwrap();
    for dir in ["app", "vendor", "build"] {
        std::fs::create_dir(tmp.path().join(dir)).unwrap();
        std::fs::write(
            tmp.path().join(dir).join("Dockerfile"),
            "FROM alpine:3.24.1\n",
        )
        .unwrap();
    }
    std::fs::write(tmp.path().join(".gitignore"), "build/\n").unwrap();
    let out = patchwright(
        &["scan", ".", "--format", "json", "--exclude", "vendor/**"],
        tmp.path(),
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let files: Vec<&str> = json["inventory"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["file"].as_str().unwrap())
        .collect();
    assert_eq!(files, ["app/Dockerfile"]);
}

#[test]
fn fix_in_place_changes_only_version_bytes_and_verifies() {
    let (_tmp, demo, config) = demo_copy();
    let before_req = std::fs::read_to_string(demo.join("api/requirements.txt")).unwrap();
    let out = patchwright(&["fix", ".", "--config", &config, "--today", TODAY], &demo);
    let text = stdout(&out);
    assert!(
        text.contains("changed 4 file(s); blockers 6 → 2"),
        "{text}{}",
        stderr(&out)
    );
    let after_req = std::fs::read_to_string(demo.join("api/requirements.txt")).unwrap();
    assert_eq!(
        after_req,
        before_req
            .replace("Django==4.2.1", "Django==4.2.3")
            .replace("requests==2.30.0", "requests==2.31.0")
            .replace("urllib3==1.26.5", "urllib3==1.26.18")
    );
    let dockerfile = std::fs::read_to_string(demo.join("web/Dockerfile")).unwrap();
    assert!(dockerfile.contains("ARG NODE_VERSION=22\n"));
    assert!(dockerfile.contains("FROM node:${NODE_VERSION}-alpine AS build"));
    assert_eq!(
        std::fs::read_to_string(demo.join("api/Dockerfile"))
            .unwrap()
            .lines()
            .next(),
        Some("FROM python:3.14-alpine")
    );
    assert!(
        std::fs::read_to_string(demo.join("worker/go.mod"))
            .unwrap()
            .contains("\tgolang.org/x/text v0.3.8\n")
    );
    // Lockfiles needing a re-lock are left alone and said so.
    assert!(
        text.contains("re-lock  lodash@4.17.19 (web/package-lock.json)"),
        "{text}"
    );
    assert_eq!(
        std::fs::read_to_string(demo.join("web/package-lock.json")).unwrap(),
        std::fs::read_to_string(crate_dir().join("examples/demo/web/package-lock.json")).unwrap()
    );
    // A second run finds nothing more to edit.
    let again = patchwright(&["fix", ".", "--config", &config, "--today", TODAY], &demo);
    assert!(
        stdout(&again).contains("changed 0 file(s)"),
        "{}",
        stdout(&again)
    );
}

#[test]
fn fix_dry_run_prints_a_diff_and_writes_nothing() {
    let (_tmp, demo, config) = demo_copy();
    let out = patchwright(
        &[
            "fix",
            ".",
            "--dry-run",
            "--config",
            &config,
            "--today",
            TODAY,
        ],
        &demo,
    );
    let text = stdout(&out);
    assert!(
        text.contains("--- a/api/requirements.txt\n+++ b/api/requirements.txt\n"),
        "{text}"
    );
    assert!(
        text.contains("\n-urllib3==1.26.5\n") && text.contains("\n+urllib3==1.26.18\n"),
        "{text}"
    );
    assert!(text.contains("would change 4 file(s)"), "{text}");
    assert_eq!(
        std::fs::read_to_string(demo.join("api/requirements.txt")).unwrap(),
        std::fs::read_to_string(crate_dir().join("examples/demo/api/requirements.txt")).unwrap()
    );
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.com",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
#[cfg(feature = "git")]
fn fix_branch_commits_with_gix_and_leaves_the_work_tree_alone() {
    let (_tmp, demo, config) = demo_copy();
    git(&demo, &["init", "-q"]);
    git(&demo, &["add", "-A"]);
    git(&demo, &["commit", "-qm", "initial"]);
    let out = patchwright(
        &[
            "fix",
            ".",
            "--branch",
            "patchwright/security",
            "--config",
            &config,
            "--today",
            TODAY,
        ],
        &demo,
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "blockers that need a re-lock remain: {}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(
        stdout(&out).contains("on branch `patchwright/security`"),
        "{}",
        stdout(&out)
    );
    assert_eq!(
        git(&demo, &["status", "--porcelain"]),
        "",
        "work tree untouched"
    );
    assert_eq!(
        git(&demo, &["rev-parse", "--abbrev-ref", "HEAD"]).trim(),
        "main"
    );
    let fixed = git(
        &demo,
        &["show", "patchwright/security:api/requirements.txt"],
    );
    assert!(fixed.contains("urllib3==1.26.18"), "{fixed}");
    let message = git(&demo, &["log", "-1", "--format=%B", "patchwright/security"]);
    assert!(
        message.starts_with("patchwright: fix 8 finding(s)"),
        "{message}"
    );
    assert!(message.contains("## What this fixes"), "{message}");
    assert!(message.contains("## What stays open"), "{message}");
    git(&demo, &["fsck", "--no-progress"]);
    let again = patchwright(
        &[
            "fix",
            ".",
            "--branch",
            "patchwright/security",
            "--config",
            &config,
            "--today",
            TODAY,
        ],
        &demo,
    );
    assert_eq!(again.status.code(), Some(2));
    assert!(
        stderr(&again).contains("already exists"),
        "{}",
        stderr(&again)
    );
}

#[test]
fn catalog_check_reports_file_line_column() {
    let good = patchwright(
        &["catalog", "check", "fixtures/catalog.example.toml"],
        &crate_dir(),
    );
    assert_eq!(good.status.code(), Some(0), "{}", stderr(&good));
    assert!(
        stdout(&good).contains("revision 2026-11-01"),
        "{}",
        stdout(&good)
    );
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("catalog.toml");
    std::fs::write(
        &bad,
        "revision = \"x\"\n[[image]]\nname = \"node\"\napproved = [\"20*\"]\ntags = [\"18.0.0\"]\n",
    )
    .unwrap();
    let out = patchwright(&["catalog", "check", bad.to_str().unwrap()], &crate_dir());
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("catalog.toml:5:"), "{err}");
}

#[test]
fn every_corpus_file_scans_without_errors() {
    let corpus = crate_dir().join("../shared/corpus");
    let advisories = crate_dir().join("../shared/advisories");
    let out = patchwright(
        &[
            "scan",
            ".",
            "--format",
            "json",
            "--advisories",
            advisories.to_str().unwrap(),
            "--catalog",
            crate_dir()
                .join("fixtures/catalog.example.toml")
                .to_str()
                .unwrap(),
            "--today",
            TODAY,
        ],
        &corpus,
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // The only entries are notes on the Helm chart's templated images (12 template lines and
    // the values file's tag left to appVersion): nothing is guessed, nothing fails to read.
    let errors = json["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 13, "{errors:#?}");
    assert!(
        errors.iter().all(|e| e["severity"] == "note"
            && e["code"] == "image-not-resolvable"
            && e["file"]
                .as_str()
                .unwrap()
                .starts_with("microservices-demo/helm-chart/")),
        "{errors:#?}"
    );
    // 85 Dockerfiles and lockfiles of the first formats, 5 lockfiles of the newer ones, 76 YAML
    // files that may name images.
    assert_eq!(json["summary"]["files"], 166);
    let dockerfiles = json["inventory"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["ecosystem"] == "docker")
        .map(|d| d["file"].as_str().unwrap())
        .filter(|f| !(f.ends_with(".yaml") || f.ends_with(".yml")))
        .collect::<std::collections::BTreeSet<_>>();
    assert_eq!(
        dockerfiles.len(),
        48,
        "every Dockerfile names at least one image"
    );
}

#[test]
#[cfg(feature = "git")]
fn fix_branch_is_head_plus_the_fix_and_nothing_from_the_work_tree() {
    let (_tmp, demo, config) = demo_copy();
    git(&demo, &["init", "-q"]);
    git(&demo, &["add", "-A"]);
    git(&demo, &["commit", "-qm", "initial"]);
    let committed = git(&demo, &["show", "HEAD:api/requirements.txt"]);
    // An uncommitted edit of a file the fix changes, and an untracked Dockerfile with a blocker.
    std::fs::write(
        demo.join("api/requirements.txt"),
        format!("{committed}flask==0.12\n"),
    )
    .unwrap();
    std::fs::create_dir(demo.join("extra")).unwrap();
    std::fs::write(demo.join("extra/Dockerfile"), "FROM node:16.20.2-alpine\n").unwrap();

    let out = patchwright(
        &[
            "fix", ".", "--branch", "fixes", "--config", &config, "--today", TODAY,
        ],
        &demo,
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(
        stdout(&out).contains("uncommitted changes and untracked files are not in it"),
        "{}",
        stdout(&out)
    );
    let fixed = git(&demo, &["show", "fixes:api/requirements.txt"]);
    assert_eq!(
        fixed,
        committed
            .replace("Django==4.2.1", "Django==4.2.3")
            .replace("requests==2.30.0", "requests==2.31.0")
            .replace("urllib3==1.26.5", "urllib3==1.26.18"),
        "the commit holds HEAD's file plus the fix, not the work tree's edit"
    );
    let tree = git(&demo, &["ls-tree", "-r", "--name-only", "fixes"]);
    assert!(!tree.contains("extra/Dockerfile"), "{tree}");
    let changed = git(&demo, &["diff", "--name-only", "HEAD", "fixes"]);
    assert_eq!(
        changed.lines().collect::<Vec<_>>(),
        [
            "api/Dockerfile",
            "api/requirements.txt",
            "web/Dockerfile",
            "worker/go.mod"
        ]
    );
    // The work tree keeps its edit and its untracked file.
    assert!(
        std::fs::read_to_string(demo.join("api/requirements.txt"))
            .unwrap()
            .contains("flask==0.12")
    );
    assert!(demo.join("extra/Dockerfile").exists());
}

fn catalog_args() -> Vec<String> {
    vec![
        "--catalog".to_string(),
        crate_dir()
            .join("fixtures/catalog.example.toml")
            .display()
            .to_string(),
        "--advisories".to_string(),
        crate_dir()
            .join("fixtures/advisories")
            .display()
            .to_string(),
        "--today".to_string(),
        TODAY.to_string(),
    ]
}

fn run_in(dir: &Path, args: &[&str]) -> Output {
    let extra = catalog_args();
    let mut all: Vec<&str> = args.to_vec();
    all.extend(extra.iter().map(String::as_str));
    patchwright(&all, dir)
}

#[test]
fn a_latin1_byte_is_reported_at_its_line_and_the_file_is_still_scanned() {
    let tmp = tempfile::tempdir().unwrap();
    let dockerfile = b"# caf\xe9 au lait\nFROM node:16.20.2-alpine\nUSER node\n".to_vec();
    std::fs::write(tmp.path().join("Dockerfile"), &dockerfile).unwrap();
    std::fs::write(
        tmp.path().join("requirements.txt"),
        b"# d\xe9pendances\nurllib3==1.26.5\n",
    )
    .unwrap();
    let out = run_in(tmp.path(), &["scan", ".", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["summary"]["files"], 2);
    let findings = json["findings"].as_array().unwrap();
    assert!(
        findings
            .iter()
            .any(|f| f["rule"] == "eol-base-image" && f["subject"] == "node:16.20.2-alpine"),
        "{findings:?}"
    );
    assert!(
        findings
            .iter()
            .any(|f| f["rule"] == "vulnerable-dependency" && f["subject"] == "urllib3@1.26.5"),
        "{findings:?}"
    );
    let errors = json["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 2, "{errors:?}");
    for e in errors {
        assert_eq!(e["line"], 1, "{e}");
        assert!(e["message"].as_str().unwrap().contains("0xE9"), "{e}");
    }

    // `fix` leaves a file it could only decode lossily as it is, and says why.
    let fix = run_in(tmp.path(), &["fix", "."]);
    assert_eq!(
        std::fs::read(tmp.path().join("Dockerfile")).unwrap(),
        dockerfile
    );
    assert!(
        stdout(&fix).contains("Dockerfile is not valid UTF-8, so patchwright does not rewrite it"),
        "{}",
        stdout(&fix)
    );
}

#[test]
fn fail_on_errors_turns_an_unreadable_file_into_exit_1() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("Dockerfile"),
        "FROM alpine:3.20\nFORM x\nUSER app\n",
    )
    .unwrap();
    let plain = run_in(tmp.path(), &["scan", "."]);
    assert_eq!(plain.status.code(), Some(0), "{}", stdout(&plain));
    let strict = run_in(tmp.path(), &["scan", ".", "--fail-on-errors"]);
    assert_eq!(strict.status.code(), Some(1), "{}", stdout(&strict));
}

#[test]
fn sarif_fingerprints_are_unique_on_the_corpus_and_exceptions_are_suppressions() {
    let corpus = crate_dir().join("../shared/corpus");
    let out = patchwright(
        &[
            "scan",
            ".",
            "--format",
            "sarif",
            "--advisories",
            crate_dir().join("../shared/advisories").to_str().unwrap(),
            "--catalog",
            crate_dir()
                .join("fixtures/catalog.example.toml")
                .to_str()
                .unwrap(),
            "--today",
            TODAY,
        ],
        &corpus,
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_valid_sarif(&json);
    let results = json["runs"][0]["results"].as_array().unwrap();
    assert!(results.len() > 200, "{}", results.len());
    let fingerprints: std::collections::BTreeSet<&str> = results
        .iter()
        .map(|r| r["partialFingerprints"]["patchwright/v1"].as_str().unwrap())
        .collect();
    assert_eq!(
        fingerprints.len(),
        results.len(),
        "one fingerprint per result"
    );
    // Several versions of one package in one lockfile are told apart by version.
    let semver: Vec<&&str> = fingerprints
        .iter()
        .filter(|f| f.starts_with("vulnerable-dependency:") && f.contains(":semver@"))
        .collect();
    assert!(semver.len() >= 2, "{semver:?}");

    // The demo's excepted finding is suppressed, with the exception's reason.
    let mut args = vec!["scan", "examples/demo", "--format", "sarif"];
    args.extend(demo_args(&[]));
    let out = patchwright(&args, &crate_dir());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let results = json["runs"][0]["results"].as_array().unwrap();
    let suppressed: Vec<&serde_json::Value> = results
        .iter()
        .filter(|r| r.get("suppressions").is_some())
        .collect();
    assert_eq!(suppressed.len(), 1, "{suppressed:?}");
    assert_eq!(suppressed[0]["ruleId"], "unpinned-os-packages");
    let s = &suppressed[0]["suppressions"][0];
    assert_eq!(s["kind"], "external");
    assert_eq!(
        s["justification"],
        "curl comes from the base image's pinned Alpine release; tracked in OPS-142"
    );
}

#[test]
fn the_summary_counts_unreadable_files_not_errors() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("Dockerfile"),
        "FROM alpine:3.20\nFORM x\nFROB y\nUSER app\n",
    )
    .unwrap();
    let out = run_in(tmp.path(), &["scan", "."]);
    let text = stdout(&out);
    assert!(
        text.contains("\n1 file(s) could not be read in full (2 error(s)):\n"),
        "{text}"
    );
}

#[cfg(unix)]
#[test]
fn symlinks_inside_the_project_are_followed_and_others_reported() {
    use std::os::unix::fs::symlink;
    let tmp = tempfile::tempdir().unwrap();
    let project = tmp.path().join("project");
    std::fs::create_dir_all(project.join("docker")).unwrap();
    std::fs::write(
        project.join("docker/prod.txt"),
        "FROM node:16.20.2-alpine\nUSER node\n",
    )
    .unwrap();
    symlink("docker/prod.txt", project.join("Dockerfile")).unwrap();
    // A link out of the project, and a directory loop.
    std::fs::create_dir(tmp.path().join("outside")).unwrap();
    std::fs::write(tmp.path().join("outside/Dockerfile"), "FROM alpine:3.20\n").unwrap();
    std::fs::create_dir(project.join("other")).unwrap();
    symlink(
        tmp.path().join("outside/Dockerfile"),
        project.join("other/Dockerfile"),
    )
    .unwrap();
    symlink("..", project.join("other/loop")).unwrap();

    let out = run_in(&project, &["scan", ".", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let inventory: Vec<(&str, &str)> = json["inventory"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["file"].as_str().unwrap(), d["name"].as_str().unwrap()))
        .collect();
    assert_eq!(inventory, [("Dockerfile", "node")], "{json}");
    let errors = json["errors"].as_array().unwrap();
    assert!(
        errors.iter().any(|e| e["file"] == "other/Dockerfile"
            && e["message"]
                .as_str()
                .unwrap()
                .contains("outside the scanned project")),
        "{errors:?}"
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "the linked Dockerfile's blocker counts"
    );
}

#[test]
fn an_unknown_tier_is_refused_naming_the_known_ones() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("requirements.txt"), "flask==3.0.3\n").unwrap();
    let out = patchwright(&["scan", ".", "--tier", "nope"], tmp.path());
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("--tier `nope`") && err.contains("internal-tool, internet-facing"),
        "{err}"
    );
    let ok = patchwright(&["scan", ".", "--tier", "internal-tool"], tmp.path());
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
}

#[test]
fn a_subfolder_is_reported_from_the_repository_root_with_its_config() {
    let (_tmp, demo, config) = demo_copy();
    git(&demo, &["init", "-q"]);
    // The root's config names an exception for runs-as-root in api/ only.
    std::fs::write(
        demo.join(".github/patchwright.toml"),
        "[[exception]]\nid = \"runs-as-root\"\npath = \"api/**\"\nreason = \"r\"\nowner = \"@o\"\nexpires = 2027-01-31\n\n[[exception]]\nid = \"CVE-2021-44906\"\nreason = \"r\"\nowner = \"@o\"\nexpires = 2027-01-31\n",
    )
    .unwrap();
    for format in ["json", "sarif"] {
        let out = patchwright(
            &[
                "scan", "api", "--format", format, "--config", &config, "--today", TODAY,
            ],
            &demo,
        );
        assert!(
            stderr(&out).contains("scanning api of the project"),
            "{}",
            stderr(&out)
        );
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        if format == "json" {
            let findings = json["findings"].as_array().unwrap();
            let root = findings
                .iter()
                .find(|f| f["rule"] == "runs-as-root")
                .unwrap();
            assert_eq!(root["file"], "api/Dockerfile");
            assert!(root["exception"].is_object(), "{root}");
            // The minimist exception matches nothing in api/, which says nothing about web/.
            assert!(
                !findings.iter().any(|f| f["rule"] == "exception-unused"),
                "{findings:?}"
            );
            assert!(
                findings
                    .iter()
                    .all(|f| f["file"].as_str().unwrap().starts_with("api/")),
                "{findings:?}"
            );
        } else {
            let uris: Vec<&str> = json["runs"][0]["results"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| {
                    r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                        .as_str()
                        .unwrap()
                })
                .collect();
            assert!(uris.contains(&"api/requirements.txt"), "{uris:?}");
            assert!(uris.iter().all(|u| u.starts_with("api/")), "{uris:?}");
        }
    }
}

#[test]
fn catalog_check_says_what_is_wrong_without_made_up_positions() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = patchwright(&["catalog", "check", "nope.toml"], tmp.path());
    assert_eq!(missing.status.code(), Some(2));
    let err = stderr(&missing);
    assert!(err.starts_with("cannot read nope.toml: "), "{err}");
    assert!(!err.contains(":0:0:"), "{err}");

    // Not TOML at all: the first syntax error, not one per line.
    let prose: String = (0..200)
        .map(|i| format!("line {i} of prose, not TOML\n"))
        .collect();
    std::fs::write(tmp.path().join("README.toml"), prose).unwrap();
    let out = patchwright(&["catalog", "check", "README.toml"], tmp.path());
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    let positions = err
        .lines()
        .filter(|l| l.starts_with("README.toml:1:"))
        .count();
    assert_eq!(positions, 1, "{err}");
    assert!(err.contains("invalid TOML"), "{err}");

    // `*` alone is a valid `banned` constraint; the message for an invalid one does not say
    // otherwise.
    std::fs::write(
        tmp.path().join("catalog.toml"),
        "revision = \"x\"\n[[package]]\necosystem = \"npm\"\nname = \"a\"\nbanned = [\"*\"]\n[[package]]\necosystem = \"npm\"\nname = \"b\"\nbanned = [\"1.*\"]\n",
    )
    .unwrap();
    let out = patchwright(&["catalog", "check", "catalog.toml"], tmp.path());
    let err = stderr(&out);
    assert!(err.contains("catalog.toml:9:"), "{err}");
    assert!(!err.contains("catalog.toml:5:"), "{err}");
    assert!(!err.contains("`*` are not supported"), "{err}");
    assert!(err.contains("a lone `*` means every version"), "{err}");
}

#[test]
fn rules_prints_each_level_as_the_readme_states_it() {
    let out = patchwright(&["rules"], &crate_dir());
    let rules = stdout(&out);
    let readme = std::fs::read_to_string(crate_dir().join("README.md")).unwrap();
    let rows: Vec<(&str, &str)> = readme
        .lines()
        .filter_map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            let id = cells.get(1)?.strip_prefix('`')?.strip_suffix('`')?;
            Some((id, *cells.get(2)?))
        })
        .filter(|(id, _)| patchwright::model::RuleId::parse(id).is_some())
        .collect();
    assert_eq!(rows.len(), 13, "{rows:?}");
    for (id, level) in rows {
        let line = rules
            .lines()
            .find(|l| l.split_whitespace().next() == Some(id))
            .unwrap_or_else(|| panic!("{id} missing from `rules`:\n{rules}"));
        assert!(
            line[id.len()..].trim_start().starts_with(level),
            "README says {id} is `{level}`; `rules` says: {line}"
        );
    }
}

/// Every finding carries a fix or says why there is none.
fn assert_fix_or_reason(json: &serde_json::Value, what: &str) {
    let findings = json["findings"].as_array().unwrap();
    assert!(!findings.is_empty(), "{what}");
    for f in findings {
        let has_fix = f["fix"].is_object();
        let reason = f["no_fix_reason"].as_str().unwrap_or_default();
        assert!(
            has_fix || !reason.trim().is_empty(),
            "{what}: finding without a fix or a reason: {f}"
        );
    }
}

#[test]
fn every_finding_has_a_fix_or_a_reason_on_the_demo_and_the_corpus() {
    let mut args = vec!["scan", "examples/demo", "--format", "json"];
    args.extend(demo_args(&[]));
    let demo = patchwright(&args, &crate_dir());
    let json: serde_json::Value = serde_json::from_slice(&demo.stdout).unwrap();
    assert_fix_or_reason(&json, "demo");
    let text = patchwright(
        &[
            "scan",
            "examples/demo",
            "--config",
            "examples/patchwright.toml",
            "--today",
            TODAY,
        ],
        &crate_dir(),
    );
    assert!(
        stdout(&text)
            .contains("apk installs curl without a version, so rebuilds can change it silently"),
        "{}",
        stdout(&text)
    );

    let corpus = patchwright(
        &[
            "scan",
            ".",
            "--format",
            "json",
            "--advisories",
            crate_dir().join("../shared/advisories").to_str().unwrap(),
            "--catalog",
            crate_dir()
                .join("fixtures/catalog.example.toml")
                .to_str()
                .unwrap(),
            "--today",
            TODAY,
        ],
        &crate_dir().join("../shared/corpus"),
    );
    let json: serde_json::Value = serde_json::from_slice(&corpus.stdout).unwrap();
    assert_fix_or_reason(&json, "corpus");
}

fn yaml(file: &str) -> yaml_rust2::Yaml {
    let text = std::fs::read_to_string(crate_dir().join(file)).unwrap();
    let mut docs = yaml_rust2::YamlLoader::load_from_str(&text)
        .unwrap_or_else(|e| panic!("{file} is not valid YAML: {e}"));
    assert_eq!(docs.len(), 1, "{file}");
    docs.remove(0)
}

/// The composite action's scan step, run as GitHub would run it (bash, its env, RUNNER_TEMP
/// holding the installed binary), must write valid SARIF where the upload step reads it.
#[cfg(unix)]
#[test]
fn the_github_action_scans_to_sarif_and_uploads_it() {
    let action = yaml("action.yml");
    assert_eq!(action["runs"]["using"].as_str(), Some("composite"));
    let steps = action["runs"]["steps"].as_vec().unwrap();
    let scan = steps
        .iter()
        .find(|s| s["id"].as_str() == Some("scan"))
        .expect("a step with id scan");
    let upload = steps
        .iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("github/codeql-action/upload-sarif@"))
        })
        .expect("an upload-sarif step");
    assert_eq!(
        upload["with"]["sarif_file"].as_str(),
        Some("${{ steps.scan.outputs.sarif }}")
    );
    // Every input the steps read is declared.
    let inputs = action["inputs"].as_hash().unwrap();
    let text = std::fs::read_to_string(crate_dir().join("action.yml")).unwrap();
    for used in text.split("inputs.").skip(1) {
        let name: String = used
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect();
        assert!(
            inputs.contains_key(&yaml_rust2::Yaml::String(name.clone())),
            "input `{name}` is used but not declared"
        );
    }

    // Run the scan step's script on the demo with the inputs a user would give.
    let tmp = tempfile::tempdir().unwrap();
    let bin = tmp.path().join("patchwright/bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_patchwright"), bin.join("patchwright")).unwrap();
    let output_file = tmp.path().join("github_output");
    let script = scan["run"].as_str().unwrap();
    let out = Command::new("bash")
        .args(["-e", "-c", script])
        .current_dir(crate_dir())
        .env("RUNNER_TEMP", tmp.path())
        .env("GITHUB_OUTPUT", &output_file)
        .env("PW_PATH", "examples/demo")
        .env("PW_CONFIG", "examples/patchwright.toml")
        .env("PW_CATALOG", "")
        .env("PW_ADVISORIES", crate_dir().join("fixtures/advisories"))
        .env("PW_TIER", "internet-facing")
        .env_remove("PATCHWRIGHT_CONFIG")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let outputs = std::fs::read_to_string(&output_file).unwrap();
    assert!(outputs.contains("status=1\n"), "the demo blocks: {outputs}");
    let sarif_path = outputs
        .lines()
        .find_map(|l| l.strip_prefix("sarif="))
        .expect("the sarif output");
    let sarif: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(sarif_path).unwrap()).unwrap();
    assert_valid_sarif(&sarif);
    assert!(!sarif["runs"][0]["results"].as_array().unwrap().is_empty());
    let fail = steps
        .iter()
        .find(|s| s["name"].as_str() == Some("Fail on blockers"))
        .unwrap();
    assert!(
        fail["if"]
            .as_str()
            .unwrap()
            .contains("steps.scan.outputs.status != '0'")
    );
}

#[test]
fn the_pre_commit_hook_runs_the_cli_on_manifests() {
    let hooks = yaml(".pre-commit-hooks.yaml");
    let hook = hooks
        .as_vec()
        .unwrap()
        .iter()
        .find(|h| h["id"].as_str() == Some("patchwright"))
        .expect("the patchwright hook");
    assert_eq!(hook["language"].as_str(), Some("rust"));
    assert_eq!(hook["pass_filenames"].as_bool(), Some(false));
    let entry: Vec<&str> = hook["entry"].as_str().unwrap().split_whitespace().collect();
    assert_eq!(entry[0], "patchwright", "the binary cargo install builds");

    let files = regex::Regex::new(hook["files"].as_str().unwrap()).unwrap();
    for path in [
        "Dockerfile",
        "web/Dockerfile",
        "build/app.Dockerfile",
        "Dockerfile.prod",
        "Containerfile",
        "Cargo.lock",
        "web/package-lock.json",
        "yarn.lock",
        "api/requirements.txt",
        "requirements-dev.txt",
        "poetry.lock",
        "worker/go.mod",
        ".github/patchwright.toml",
    ] {
        assert!(files.is_match(path), "{path} should trigger the hook");
    }
    for path in ["README.md", "src/main.rs", "docs/Dockerfile.md/x"] {
        assert!(!files.is_match(path), "{path} should not trigger the hook");
    }

    // pre-commit runs the entry in the repository with no file names: a clean project passes,
    // a blocker fails the commit.
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("requirements.txt"), "flask==3.0.3\n").unwrap();
    let mut args: Vec<String> = entry[1..].iter().map(ToString::to_string).collect();
    args.extend(catalog_args());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let clean = patchwright(&args, tmp.path());
    assert_eq!(clean.status.code(), Some(0), "{}", stderr(&clean));
    std::fs::write(tmp.path().join("requirements.txt"), "urllib3==1.26.5\n").unwrap();
    let blocked = patchwright(&args, tmp.path());
    assert_eq!(blocked.status.code(), Some(1), "{}", stdout(&blocked));
}

#[test]
fn fixing_a_subfolder_writes_the_files_named_from_the_root() {
    let (_tmp, demo, config) = demo_copy();
    git(&demo, &["init", "-q"]);
    let dry = patchwright(
        &[
            "fix",
            "api",
            "--dry-run",
            "--config",
            &config,
            "--today",
            TODAY,
        ],
        &demo,
    );
    assert!(
        stdout(&dry).contains("--- a/api/requirements.txt\n"),
        "{}",
        stdout(&dry)
    );
    let out = patchwright(
        &["fix", "api", "--config", &config, "--today", TODAY],
        &demo,
    );
    assert!(
        stdout(&out).contains("changed 2 file(s)"),
        "{}",
        stdout(&out)
    );
    assert!(
        std::fs::read_to_string(demo.join("api/requirements.txt"))
            .unwrap()
            .contains("urllib3==1.26.18")
    );
    assert!(!demo.join("api/api").exists());
    assert!(
        std::fs::read_to_string(demo.join("web/Dockerfile"))
            .unwrap()
            .contains("ARG NODE_VERSION=16.20.2"),
        "outside the scanned folder nothing changes"
    );
}
