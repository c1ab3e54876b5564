//! What is inside an image, end to end on images the tests build from real parts: this
//! machine's own Debian 12 dpkg status and os-release, an Alpine `installed` fixture, gzip
//! (flate2) and zstd (Debian's `zstd`) layers, whiteouts, a multi-platform index, a legacy
//! `docker save` tarball; real distribution advisories restated under
//! fixtures/distro-advisories; the version orderings against dpkg's and apk-tools' own test
//! vectors; the CLI with its SBOM validated against the official CycloneDX 1.5 schema.

mod image_support;

use std::path::{Path, PathBuf};
use std::process::Command;

use image_support::*;
use patchwright::catalog::{AdvisoryDb, parse_version, read_json_records};
use patchwright::image::{
    AnalyseOptions, AnalysedImage, Candidate, Distribution, LayerCache, LayerOrigin, LocalImage,
    Platform, analyse, match_advisories, recommend,
};
use patchwright::model::Ecosystem;

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn distro_advisories() -> AdvisoryDb {
    let (records, errors) = read_json_records(&crate_dir().join("fixtures/distro-advisories"));
    assert!(errors.is_empty(), "{errors:?}");
    let (db, errors) = AdvisoryDb::from_json_records(&records);
    assert!(errors.is_empty(), "{errors:?}");
    db
}

fn read(path: &Path, platform: &str, cache: Option<&LayerCache>) -> AnalysedImage {
    let source = LocalImage::open(path).unwrap();
    let options = AnalyseOptions {
        platform: Platform::parse(platform).unwrap(),
        ..AnalyseOptions::default()
    };
    analyse(&source, &options, cache).unwrap()
}

/// A single-platform OCI layout of this machine's Debian, with `status` in place of the real
/// dpkg status (so a test can make an older point release from it).
fn debian_image(dir: &Path, status: &[u8], debian_version: &[u8], top: Compression) {
    let (_, os_release, _) = real_debian();
    let layout = Layout::new(dir);
    let base = debian_layer(status, &os_release, debian_version, Compression::Gzip);
    // A later layer that adds an unrelated file, as an application layer does.
    let app = Layer::new(
        &[Entry::Dir("app"), Entry::File("app/run", b"#!/bin/sh\n")],
        top,
    );
    let manifest = layout.image("amd64", &[base, app]);
    layout.single(manifest);
}

#[test]
fn debian_packages_come_from_the_real_status() {
    let (status, _, debian_version) = real_debian();
    let text = String::from_utf8_lossy(&status).into_owned();
    let tmp = tempfile::tempdir().unwrap();
    debian_image(tmp.path(), &status, &debian_version, Compression::Zstd);
    let image = read(tmp.path(), "linux/amd64", None);

    assert_eq!(image.os.packages.len(), installed_count(&text));
    assert_eq!(image.os.package_db, "dpkg");
    assert_eq!(
        image.os.distribution,
        Distribution::Known {
            ecosystem: Ecosystem::Debian,
            release: "12".to_string()
        }
    );
    let point = String::from_utf8_lossy(&debian_version).trim().to_string();
    assert_eq!(image.os.label, format!("debian {point}"));
    let libc = image
        .os
        .packages
        .iter()
        .find(|p| p.name == "libc6")
        .unwrap();
    assert_eq!(libc.source, "glibc");
    assert_eq!(libc.version, version_of(&text, "libc6"));
    assert!(image.layers.iter().all(|l| l.origin == LayerOrigin::Read));

    // Looney Tunables was fixed in bookworm long before this machine's glibc; tar's
    // CVE-2005-2541 is open in every Debian release, with no fix.
    let found = match_advisories(&image.os, &distro_advisories());
    let ids: Vec<&str> = found.ids().into_iter().collect();
    assert_eq!(ids, ["DEBIAN-CVE-2005-2541"]);
    assert_eq!(found.advisories[0].package, "tar");
    assert_eq!(found.advisories[0].fixed, None);
}

/// The same machine made into an older point release: glibc's binaries at `2.36-9+deb12u1`.
fn older_status(status: &str) -> String {
    let current = version_of(status, "libc6");
    status.replace(
        &format!("Version: {current}\n"),
        "Version: 2.36-9+deb12u1\n",
    )
}

#[test]
fn the_newer_point_release_clears_looney_tunables() {
    let (status, _, debian_version) = real_debian();
    let text = String::from_utf8_lossy(&status).into_owned();
    let (old_dir, new_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    debian_image(
        old_dir.path(),
        older_status(&text).as_bytes(),
        b"12.1\n",
        Compression::Gzip,
    );
    debian_image(new_dir.path(), &status, &debian_version, Compression::Gzip);
    let db = distro_advisories();
    let old = read(old_dir.path(), "linux/amd64", None);
    let new = read(new_dir.path(), "linux/amd64", None);
    let (old_found, new_found) = (
        match_advisories(&old.os, &db),
        match_advisories(&new.os, &db),
    );

    let glibc = old_found
        .advisories
        .iter()
        .find(|a| a.id == "DSA-5514-1")
        .expect("glibc 2.36-9+deb12u1 is affected");
    assert_eq!(glibc.fixed.as_deref(), Some("2.36-9+deb12u3"));
    assert!(glibc.binaries.contains(&"libc6".to_string()));
    assert_eq!(old_found.ids().len(), 2);

    let point = String::from_utf8_lossy(&debian_version).trim().to_string();
    let choice = recommend(
        &old.os.label,
        &old_found,
        &[Candidate {
            label: new.os.label.clone(),
            advisories: &new_found,
            change: 0,
        }],
    );
    assert_eq!(choice.to.as_deref(), Some(new.os.label.as_str()));
    assert_eq!(
        choice.sentence,
        format!(
            "debian 12.1 → {point}: clears 1 of 2 OS advisories (1 high); 1 stays open, no fixed package released"
        )
    );

    // Nothing to gain: the recommendation says so instead of proposing churn.
    let stay = recommend(
        &new.os.label,
        &new_found,
        &[Candidate {
            label: old.os.label.clone(),
            advisories: &old_found,
            change: 0,
        }],
    );
    assert_eq!(stay.to, None);
    assert_eq!(
        stay.sentence,
        format!(
            "no candidate clears any of the 1 OS advisories of debian {point}; staying on it, none has a fixed package released"
        )
    );
}

#[test]
fn a_whiteout_in_a_later_layer_deletes_a_distroless_package_entry() {
    let (status, os_release, _) = real_debian();
    let text = String::from_utf8_lossy(&status).into_owned();
    let tar_entry = format!("{}\n", paragraph(&text, "tar"));
    let base_files = format!("{}\n", paragraph(&text, "base-files"));
    let tmp = tempfile::tempdir().unwrap();
    let layout = Layout::new(tmp.path());
    // distroless: one file per package under status.d, no Status field.
    let strip_status = |p: &str| -> String {
        p.lines()
            .filter(|l| !l.starts_with("Status:"))
            .map(|l| format!("{l}\n"))
            .collect()
    };
    let (tar_entry, base_files) = (strip_status(&tar_entry), strip_status(&base_files));
    let lower = Layer::new(
        &[
            Entry::File("etc/os-release", &os_release),
            Entry::Dir("var/lib/dpkg/status.d"),
            Entry::File("var/lib/dpkg/status.d/base-files", base_files.as_bytes()),
            Entry::File("var/lib/dpkg/status.d/base-files.md5sums", b"0  x\n"),
            Entry::File("var/lib/dpkg/status.d/tar", tar_entry.as_bytes()),
        ],
        Compression::None,
    );
    let upper = Layer::new(
        &[Entry::File("var/lib/dpkg/status.d/.wh.tar", b"")],
        Compression::Zstd,
    );
    let manifest = layout.image("amd64", &[lower, upper]);
    layout.single(manifest);

    let image = read(tmp.path(), "linux/amd64", None);
    let names: Vec<&str> = image.os.packages.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["base-files"]);
    let found = match_advisories(&image.os, &distro_advisories());
    assert!(found.advisories.is_empty(), "tar was deleted: {found:?}");
}

#[test]
fn an_image_whose_package_database_was_deleted_is_unknown_not_clean() {
    let (status, os_release, debian_version) = real_debian();
    let tmp = tempfile::tempdir().unwrap();
    let layout = Layout::new(tmp.path());
    let base = debian_layer(&status, &os_release, &debian_version, Compression::Gzip);
    let purge = Layer::new(&[Entry::File("var/lib/.wh.dpkg", b"")], Compression::Gzip);
    let manifest = layout.image("amd64", &[base, purge]);
    layout.single(manifest);
    let image = read(tmp.path(), "linux/amd64", None);
    assert!(image.os.packages.is_empty());
    match &image.os.distribution {
        Distribution::Unknown { reason } => {
            assert!(reason.contains("dpkg package database"), "{reason}")
        }
        known => panic!("expected unknown, got {known:?}"),
    }

    let out = patchwright(&["image", tmp.path().to_str().unwrap(), "--no-cache"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("os: unknown: debian without its dpkg package database"),
        "{text}"
    );
    assert!(
        text.contains("not checked (an unknown distribution is not a clean one)"),
        "{text}"
    );
}

fn alpine_installed(openssl: &str) -> Vec<u8> {
    let fixture =
        std::fs::read_to_string(crate_dir().join("fixtures/images/alpine-3.18.4-installed"))
            .unwrap();
    fixture
        .replace("V:3.1.3-r0", &format!("V:{openssl}"))
        .into_bytes()
}

fn alpine_layer(installed: &[u8], how: Compression) -> Layer {
    Layer::new(
        &[
            Entry::File(
                "etc/os-release",
                b"NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.18.4\nPRETTY_NAME=\"Alpine Linux v3.18\"\n",
            ),
            Entry::File("lib/apk/db/installed", installed),
        ],
        how,
    )
}

#[test]
fn a_multi_platform_index_gives_each_platform_its_own_packages() {
    let tmp = tempfile::tempdir().unwrap();
    let layout = Layout::new(tmp.path());
    let amd64 = layout.image(
        "amd64",
        &[alpine_layer(
            &alpine_installed("3.1.3-r0"),
            Compression::Gzip,
        )],
    );
    let arm64 = layout.image(
        "arm64",
        &[alpine_layer(
            &alpine_installed("3.1.4-r0"),
            Compression::Zstd,
        )],
    );
    layout.multi(vec![amd64, arm64]);
    let db = distro_advisories();

    let x86 = read(tmp.path(), "linux/amd64", None);
    assert_eq!(
        x86.os.distribution,
        Distribution::Known {
            ecosystem: Ecosystem::Alpine,
            release: "v3.18".to_string()
        }
    );
    assert_eq!(x86.os.packages.len(), 8);
    let ssl = x86
        .os
        .packages
        .iter()
        .find(|p| p.name == "libssl3")
        .unwrap();
    assert_eq!(
        (ssl.source.as_str(), ssl.version.as_str()),
        ("openssl", "3.1.3-r0")
    );
    let found = match_advisories(&x86.os, &db);
    assert_eq!(
        found.ids().into_iter().collect::<Vec<_>>(),
        ["ALPINE-CVE-2023-5363"]
    );
    assert_eq!(found.advisories[0].binaries, ["libcrypto3", "libssl3"]);

    let arm = read(tmp.path(), "linux/arm64", None);
    assert!(match_advisories(&arm.os, &db).advisories.is_empty());
    let choice = recommend(
        &x86.os.label,
        &found,
        &[Candidate {
            label: "alpine 3.18.5".to_string(),
            advisories: &match_advisories(&arm.os, &db),
            change: 0,
        }],
    );
    assert_eq!(
        choice.sentence,
        "alpine 3.18.4 → 3.18.5: clears 1 of 1 OS advisories (1 high); none stay open"
    );

    let source = LocalImage::open(tmp.path()).unwrap();
    let err = analyse(
        &source,
        &AnalyseOptions {
            platform: Platform::parse("linux/s390x").unwrap(),
            ..AnalyseOptions::default()
        },
        None,
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("no image for linux/s390x; it has: linux/amd64, linux/arm64"),
        "{err}"
    );
}

#[test]
fn each_layer_is_read_once_then_comes_from_the_cache() {
    let (status, os_release, debian_version) = real_debian();
    let cache_dir = tempfile::tempdir().unwrap();
    let cache = LayerCache::new(cache_dir.path());
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    for (dir, app) in [(a.path(), "one"), (b.path(), "two")] {
        let layout = Layout::new(dir);
        let base = debian_layer(&status, &os_release, &debian_version, Compression::Gzip);
        let top = Layer::new(
            &[Entry::File("app/name", app.as_bytes())],
            Compression::Gzip,
        );
        let manifest = layout.image("amd64", &[base, top]);
        layout.single(manifest);
    }
    let origins = |image: &AnalysedImage| image.layers.iter().map(|l| l.origin).collect::<Vec<_>>();
    let first = read(a.path(), "linux/amd64", Some(&cache));
    assert_eq!(origins(&first), [LayerOrigin::Read, LayerOrigin::Read]);
    // Another image on the same base: the base comes from the cache.
    let second = read(b.path(), "linux/amd64", Some(&cache));
    assert_eq!(origins(&second), [LayerOrigin::Cache, LayerOrigin::Read]);
    assert_eq!(second.os.packages, first.os.packages);
    // A new cache over the same directory, as after a restart.
    let restarted = LayerCache::new(cache_dir.path());
    let third = read(a.path(), "linux/amd64", Some(&restarted));
    assert_eq!(origins(&third), [LayerOrigin::Cache, LayerOrigin::Cache]);
    assert_eq!(third.os.packages, first.os.packages);

    // A corrupt entry is a miss, read again and rewritten.
    let base_digest = &first.layers[0].digest;
    let file = cache_dir
        .path()
        .join(format!("{}.json", base_digest.replace(':', "-")));
    std::fs::write(&file, b"{ not json").unwrap();
    let fourth = read(a.path(), "linux/amd64", Some(&cache));
    assert_eq!(origins(&fourth), [LayerOrigin::Read, LayerOrigin::Cache]);
    assert_eq!(fourth.os.packages, first.os.packages);
}

#[test]
fn a_legacy_docker_save_tarball_reads_like_a_layout() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("alpine.tar");
    let upper = Layer::new(&[Entry::File("etc/motd", b"hello\n")], Compression::None);
    docker_save(
        &path,
        &[
            alpine_layer(&alpine_installed("3.1.3-r0"), Compression::None),
            upper,
        ],
    );
    let image = read(&path, "linux/amd64", None);
    assert_eq!(image.os.label, "alpine 3.18.4");
    assert_eq!(image.os.packages.len(), 8);
    assert_eq!(image.layers.len(), 2);
}

#[test]
fn a_tampered_blob_fails_its_digest_and_a_large_layer_is_skipped_with_a_note() {
    let tmp = tempfile::tempdir().unwrap();
    let layout = Layout::new(tmp.path());
    let manifest = layout.image(
        "amd64",
        &[alpine_layer(
            &alpine_installed("3.1.3-r0"),
            Compression::None,
        )],
    );
    layout.single(manifest);

    let skipped = analyse(
        &LocalImage::open(tmp.path()).unwrap(),
        &AnalyseOptions {
            max_layer_bytes: 100,
            ..AnalyseOptions::default()
        },
        None,
    )
    .unwrap();
    assert_eq!(skipped.layers[0].origin, LayerOrigin::SkippedTooLarge);
    assert!(
        skipped.notes[0].contains("over the 0 MiB limit and was not read"),
        "{:?}",
        skipped.notes
    );
    assert!(matches!(
        skipped.os.distribution,
        Distribution::Unknown { .. }
    ));

    let layer = &read(tmp.path(), "linux/amd64", None).layers[0].digest;
    let blob = tmp
        .path()
        .join("blobs/sha256")
        .join(layer.trim_start_matches("sha256:"));
    let mut bytes = std::fs::read(&blob).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&blob, bytes).unwrap();
    let err = analyse(
        &LocalImage::open(tmp.path()).unwrap(),
        &AnalyseOptions::default(),
        None,
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("not sha256:"), "{err}");
}

fn patchwright(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_patchwright"))
        .args(args)
        .current_dir(crate_dir())
        .env_remove("PATCHWRIGHT_LAYER_CACHE")
        .output()
        .unwrap()
}

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn the_cli_reports_packages_advisories_and_a_recommendation_and_writes_a_valid_sbom() {
    let (status, _, debian_version) = real_debian();
    let text = String::from_utf8_lossy(&status).into_owned();
    let (old_dir, new_dir, work) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    debian_image(
        old_dir.path(),
        older_status(&text).as_bytes(),
        b"12.1\n",
        Compression::Zstd,
    );
    debian_image(new_dir.path(), &status, &debian_version, Compression::Gzip);
    let sbom = work.path().join("sbom.json");
    let cache = work.path().join("cache");
    let out = patchwright(&[
        "image",
        old_dir.path().to_str().unwrap(),
        "--advisories",
        "fixtures/distro-advisories",
        "--candidate",
        new_dir.path().to_str().unwrap(),
        "--sbom",
        sbom.to_str().unwrap(),
        "--cache-dir",
        cache.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report = stdout(&out);
    let point = String::from_utf8_lossy(&debian_version).trim().to_string();
    assert!(
        report.contains("os: debian 12.1 (advisories of Debian:12)"),
        "{report}"
    );
    assert!(
        report.contains("advisories: 2 (1 high, 1 unknown)"),
        "{report}"
    );
    assert!(
        report.contains("  DSA-5514-1 high glibc 2.36-9+deb12u1: fixed in 2.36-9+deb12u3;"),
        "{report}"
    );
    assert!(
        report.contains(&format!(
            "recommendation: debian 12.1 → {point}: clears 1 of 2"
        )),
        "{report}"
    );
    assert!(
        report.contains("  libc6 2.36-9+deb12u1 (source glibc)"),
        "{report}"
    );

    let bom: serde_json::Value = serde_json::from_slice(&std::fs::read(&sbom).unwrap()).unwrap();
    validate_cyclonedx(&bom);
    let components = bom["components"].as_array().unwrap();
    assert_eq!(components.len(), installed_count(&text) + 1);
    assert!(
        components
            .iter()
            .any(|c| c["purl"].as_str().is_some_and(|p| p
                .starts_with("pkg:deb/debian/libc6@2.36-9%2Bdeb12u1?arch=")
                && p.ends_with("&distro=debian-12")))
    );
    let ids: Vec<&str> = bom["vulnerabilities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["DSA-5514-1", "DEBIAN-CVE-2005-2541"]);

    // JSON output; the second run finds every layer in the cache.
    let out = patchwright(&[
        "image",
        old_dir.path().to_str().unwrap(),
        "--advisories",
        "fixtures/distro-advisories",
        "--format",
        "json",
        "--cache-dir",
        cache.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["counts"]["high"], 1);
    assert!(
        json["image"]["layers"]
            .as_array()
            .unwrap()
            .iter()
            .all(|l| l["origin"] == "cache")
    );
    assert_eq!(json["recommendation"]["to"], serde_json::Value::Null);

    let out = patchwright(&["image", work.path().join("nothing").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("nothing"), "{}", stderr(&out));
}

/// Validates a BOM against the official CycloneDX 1.5 JSON schema (fixtures/cyclonedx), its
/// two referenced schemas registered so that nothing is fetched.
fn validate_cyclonedx(bom: &serde_json::Value) {
    let dir = crate_dir().join("fixtures/cyclonedx");
    let load = |name: &str| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(dir.join(name)).unwrap()).unwrap()
    };
    let mut registry = jsonschema::Registry::new();
    for name in ["spdx.schema.json", "jsf-0.82.schema.json"] {
        registry = registry
            .add(format!("http://cyclonedx.org/schema/{name}"), load(name))
            .unwrap();
    }
    let registry = registry.prepare().unwrap();
    let validator = jsonschema::options()
        .with_registry(&registry)
        .build(&load("bom-1.5.schema.json"))
        .expect("the CycloneDX schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(bom)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

#[test]
fn dpkg_orders_versions_as_dpkgs_own_test_vectors_say() {
    let data =
        std::fs::read_to_string(crate_dir().join("fixtures/versions/dpkg-version.data")).unwrap();
    let mut checked = 0;
    for line in data.lines().filter(|l| !l.trim().is_empty()) {
        let parts: Vec<&str> = line.split_whitespace().collect();
        let [a, b, expected] = parts.as_slice() else {
            panic!("{line}")
        };
        let (va, vb) = (
            parse_version(Ecosystem::Debian, a).unwrap(),
            parse_version(Ecosystem::Debian, b).unwrap(),
        );
        let expected = match *expected {
            "-1" => std::cmp::Ordering::Less,
            "0" => std::cmp::Ordering::Equal,
            _ => std::cmp::Ordering::Greater,
        };
        assert_eq!(va.cmp(&vb), expected, "{line}");
        assert_eq!(vb.cmp(&va), expected.reverse(), "{line}");
        checked += 1;
    }
    assert_eq!(checked, 44);
}

#[test]
fn apk_orders_versions_as_apk_tools_own_test_vectors_say() {
    let data =
        std::fs::read_to_string(crate_dir().join("fixtures/versions/apk-version.data")).unwrap();
    let mut checked = 0;
    for line in data.lines() {
        let line = line.split('#').next().unwrap().trim();
        let parts: Vec<&str> = line.split_whitespace().collect();
        let [a, op, b] = parts.as_slice() else {
            continue;
        };
        let expected = match *op {
            "<" => std::cmp::Ordering::Less,
            "=" => std::cmp::Ordering::Equal,
            ">" => std::cmp::Ordering::Greater,
            _ => continue,
        };
        let (va, vb) = (
            parse_version(Ecosystem::Alpine, a).unwrap(),
            parse_version(Ecosystem::Alpine, b).unwrap(),
        );
        assert_eq!(va.cmp(&vb), expected, "{line}");
        assert_eq!(vb.cmp(&va), expected.reverse(), "{line}");
        checked += 1;
    }
    assert!(checked > 700, "{checked}");
}

mod never_panic {
    //! The image readers on arbitrary and mutated input return instead of panicking, and notes
    //! point at lines of the input (what fuzz/fuzz_targets/image_layer.rs checks, on stable).

    use super::*;
    use patchwright::image::{layer, manifest, os_release, packages};
    use proptest::prelude::*;

    fn real_status_prefix() -> Vec<u8> {
        let (status, _, _) = real_debian();
        status[..status.len().min(20_000)].to_vec()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn package_databases(bytes in proptest::collection::vec(any::<u8>(), 0..2000)) {
            let lines = bytes.split(|&b| b == b'\n').count() as u32;
            let db = packages::parse_dpkg_status(&bytes);
            prop_assert!(db.notes.iter().all(|n| n.line >= 1 && n.line <= lines));
            let db = packages::parse_apk_installed(&bytes);
            prop_assert!(db.notes.iter().all(|n| n.line >= 1 && n.line <= lines));
            os_release::parse_os_release(&String::from_utf8_lossy(&bytes));
            let _ = manifest::parse_document(&bytes);
            let _ = layer::read_layer(&bytes[..], "sha256:00");
        }

        #[test]
        fn mutated_real_status(cut in 0usize..20_000, flip in 0usize..20_000, byte in any::<u8>()) {
            let mut bytes = real_status_prefix();
            if !bytes.is_empty() {
                let at = flip % bytes.len();
                bytes[at] = byte;
                bytes.truncate(cut.min(bytes.len()));
            }
            let db = packages::parse_dpkg_status(&bytes);
            prop_assert!(db.packages.iter().all(|p| !p.name.is_empty() && !p.version.is_empty()));
        }

        #[test]
        fn truncated_layers(cut in 0usize..4000, how in 0u8..3) {
            let how = [Compression::None, Compression::Gzip, Compression::Zstd][usize::from(how)];
            let layer = alpine_layer(&alpine_installed("3.1.3-r0"), how);
            let blob = compress(&layer.tar, how);
            let cut = cut.min(blob.len());
            let _ = layer::read_layer(&blob[..cut], "sha256:00");
        }
    }
}
