//! Image contents from a registry: images the tests build from real parts (this machine's own
//! Debian 12 dpkg status, the Alpine `installed` fixture, gzip, zstd and plain layers, a
//! whiteout, a multi-platform index) pushed into Debian's `docker-registry` on loopback, read
//! through `RegistryImage`, by `patchwright image REF`, and inside `patchwright scan
//! --registry` as `vulnerable-image` findings whose fixes say what they clear.

mod image_support;
mod registry_support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use image_support::*;
use patchwright::catalog::{AdvisoryDb, read_json_records};
use patchwright::image::{
    AnalyseOptions, AnalysedImage, Distribution, LayerCache, LayerOrigin, Platform, RegistryImage,
    analyse, match_advisories,
};
use patchwright::model::{Ecosystem, ImageRef};
use patchwright::registry::{Lookup, RegistryConfig};
use registry_support::{Pusher, start_registry};

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn distro_advisories() -> AdvisoryDb {
    let (records, errors) = read_json_records(&crate_dir().join("fixtures/distro-advisories"));
    assert!(errors.is_empty(), "{errors:?}");
    AdvisoryDb::from_json_records(&records).0
}

fn point_release() -> String {
    let (_, _, debian_version) = real_debian();
    String::from_utf8_lossy(&debian_version).trim().to_string()
}

/// Pushes `library/debian:12.1` (an index: amd64 is this machine's Debian made older, in a
/// gzip base layer, a zstd layer adding a distroless package entry and a plain layer whiting
/// it out; arm64 is Alpine 3.18) and `library/debian:<this machine's point release>` (this
/// machine's Debian as it is). Returns the index digest of 12.1.
async fn push_debians(push: &Pusher) -> String {
    let (status, os_release, debian_version) = real_debian();
    let text = String::from_utf8_lossy(&status).into_owned();
    let old = older_status(&text);
    let base = debian_layer(old.as_bytes(), &os_release, b"12.1\n", Compression::Gzip);
    let extra = Layer::new(
        &[
            Entry::Dir("var/lib/dpkg/status.d"),
            Entry::File(
                "var/lib/dpkg/status.d/zz-extra",
                b"Package: zz-extra\nVersion: 1.0-1\nArchitecture: amd64\n",
            ),
        ],
        Compression::Zstd,
    );
    let whiteout = Layer::new(
        &[Entry::File("var/lib/dpkg/status.d/.wh.zz-extra", b"")],
        Compression::None,
    );
    let amd64 = push
        .layered_image(
            "library/debian",
            "amd64",
            &[base.stored(), extra.stored(), whiteout.stored()],
        )
        .await;
    let installed =
        std::fs::read_to_string(crate_dir().join("fixtures/images/alpine-3.18.4-installed"))
            .unwrap();
    let alpine = Layer::new(
        &[
            Entry::File(
                "etc/os-release",
                b"NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.18.4\nPRETTY_NAME=\"Alpine Linux v3.18\"\n",
            ),
            Entry::File("lib/apk/db/installed", installed.as_bytes()),
        ],
        Compression::Gzip,
    );
    let arm64 = push
        .layered_image("library/debian", "arm64", &[alpine.stored()])
        .await;
    let index = push
        .index_of(
            "library/debian",
            "12.1",
            &[(&amd64, "amd64"), (&arm64, "arm64")],
        )
        .await;
    let current = debian_layer(&status, &os_release, &debian_version, Compression::Gzip);
    let now = push
        .layered_image("library/debian", "amd64", &[current.stored()])
        .await;
    push.tag("library/debian", &point_release(), &now).await;
    index
}

fn read_remote(
    lookup: &Lookup,
    reference: &str,
    platform: &str,
    cache: &LayerCache,
) -> AnalysedImage {
    let source = RegistryImage::new(
        Arc::clone(lookup.client()),
        &ImageRef::parse(reference).unwrap(),
        tokio::runtime::Handle::current(),
    );
    let options = AnalyseOptions {
        platform: Platform::parse(platform).unwrap(),
        ..AnalyseOptions::default()
    };
    analyse(&source, &options, Some(cache)).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registry_image_reads_layer_by_layer_per_platform_through_the_cache() {
    let registry = start_registry(None).await;
    let push = Pusher::new(&registry.base(), None);
    let index = push_debians(&push).await;
    let (status, _, _) = real_debian();
    let text = String::from_utf8_lossy(&status).into_owned();
    let lookup = Arc::new(Lookup::new(&RegistryConfig::default()).unwrap());
    let tmp = tempfile::tempdir().unwrap();
    let cache = LayerCache::new(tmp.path().join("layers"));
    let host = registry.host();

    let (l, c) = (Arc::clone(&lookup), cache.clone());
    let reference = format!("{host}/library/debian:12.1");
    let (amd, warm, arm, pinned) = tokio::task::spawn_blocking(move || {
        let amd = read_remote(&l, &reference, "linux/amd64", &c);
        let warm = read_remote(&l, &reference, "linux/amd64", &c);
        let arm = read_remote(&l, &reference, "linux/arm64", &c);
        let pinned = read_remote(
            &l,
            &format!("{host}/library/debian@{index}"),
            "linux/amd64",
            &c,
        );
        (amd, warm, arm, pinned)
    })
    .await
    .unwrap();

    // The whiteout deleted the distroless entry the zstd layer added.
    assert_eq!(amd.os.packages.len(), installed_count(&text));
    assert!(!amd.os.packages.iter().any(|p| p.name == "zz-extra"));
    assert_eq!(amd.os.label, "debian 12.1");
    assert_eq!(amd.layers.len(), 3);
    assert!(amd.layers.iter().all(|l| l.origin == LayerOrigin::Read));
    let found = match_advisories(&amd.os, &distro_advisories());
    let ids: Vec<&str> = found.ids().into_iter().collect();
    assert_eq!(ids, ["DEBIAN-CVE-2005-2541", "DSA-5514-1"]);

    // Read again: every layer from the cache, the same packages.
    assert!(warm.layers.iter().all(|l| l.origin == LayerOrigin::Cache));
    assert_eq!(warm.os.packages, amd.os.packages);
    assert_eq!(pinned.image_id, amd.image_id);

    assert_eq!(
        arm.os.distribution,
        Distribution::Known {
            ecosystem: Ecosystem::Alpine,
            release: "v3.18".to_string()
        }
    );
    assert_eq!(arm.os.package_db, "apk");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_digest_the_registry_does_not_have_is_an_error_not_an_empty_image() {
    let registry = start_registry(None).await;
    let push = Pusher::new(&registry.base(), None);
    let (status, os_release, debian_version) = real_debian();
    let layer = debian_layer(&status, &os_release, &debian_version, Compression::Gzip);
    let (blob, media_type, diff_id) = layer.stored();
    let image = push
        .layered_image("team/base", "amd64", &[(blob, media_type, diff_id)])
        .await;
    push.tag("team/base", "1", &image).await;
    // (Blob digests are checked by the client: tests/registry_real.rs tampers with one.)
    let lookup = Arc::new(Lookup::new(&RegistryConfig::default()).unwrap());
    let tmp = tempfile::tempdir().unwrap();
    let cache = LayerCache::new(tmp.path());
    let reference = format!("{}/team/base:1", registry.host());
    let missing = format!("{}/team/base@sha256:{}", registry.host(), "0".repeat(64));
    let (ok, err) = tokio::task::spawn_blocking(move || {
        let ok = read_remote(&lookup, &reference, "linux/amd64", &cache);
        let source = RegistryImage::new(
            Arc::clone(lookup.client()),
            &ImageRef::parse(&missing).unwrap(),
            tokio::runtime::Handle::current(),
        );
        let err = analyse(&source, &AnalyseOptions::default(), None).unwrap_err();
        (ok, err.to_string())
    })
    .await
    .unwrap();
    assert_eq!(
        ok.os.packages.len(),
        installed_count(&String::from_utf8_lossy(&status))
    );
    assert!(err.contains("404") || err.contains("no manifest"), "{err}");
}

fn patchwright(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_patchwright"))
        .args(args)
        .current_dir(dir)
        .env_remove("PATCHWRIGHT_CONFIG")
        .env_remove("PATCHWRIGHT_CATALOG")
        .env_remove("PATCHWRIGHT_REGISTRY_CONFIG")
        .env_remove("PATCHWRIGHT_LAYER_CACHE")
        .env("XDG_CACHE_HOME", dir.join("cache"))
        .output()
        .expect("the binary runs")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_image_command_reads_a_registry_reference_and_recommends_a_candidate() {
    let registry = start_registry(None).await;
    let push = Pusher::new(&registry.base(), None);
    push_debians(&push).await;
    let work = tempfile::tempdir().unwrap();
    let host = registry.host();
    let advisories = crate_dir().join("fixtures/distro-advisories");
    let out = patchwright(
        work.path(),
        &[
            "image",
            &format!("{host}/library/debian:12.1"),
            "--advisories",
            advisories.to_str().unwrap(),
            "--candidate",
            &format!("{host}/library/debian:{}", point_release()),
        ],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains(&format!("image: {host}/library/debian:12.1 (linux/amd64)")),
        "{text}"
    );
    assert!(
        text.contains("layers: 3 (0 from the layer cache)"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "recommendation: debian 12.1 → {}: clears 1 of 2 OS advisories (1 high); 1 stays open, no fixed package released",
            point_release()
        )),
        "{text}"
    );
    let out = patchwright(
        work.path(),
        &[
            "image",
            "not a reference",
            "--advisories",
            advisories.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("is neither a file nor an image reference"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scan_with_the_registry_reports_image_contents_and_judges_the_move() {
    let registry = start_registry(None).await;
    let push = Pusher::new(&registry.base(), None);
    push_debians(&push).await;
    let host = registry.host();
    let point = point_release();
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    std::fs::write(
        dir.join("catalog.toml"),
        format!(
            "revision = \"image-registry-test\"\n\n[[image]]\nname = \"{host}/library/debian\"\napproved = [\"12.*\"]\n"
        ),
    )
    .unwrap();
    let advisories = crate_dir().join("fixtures/distro-advisories");
    std::fs::create_dir_all(dir.join("old")).unwrap();
    std::fs::write(
        dir.join("old/Dockerfile"),
        format!("FROM {host}/library/debian:12.1\nUSER app\n"),
    )
    .unwrap();
    std::fs::create_dir_all(dir.join("new")).unwrap();
    std::fs::write(
        dir.join("new/Dockerfile"),
        format!("FROM {host}/library/debian:{point}\nUSER app\n"),
    )
    .unwrap();
    let scan = |project: &str, online: bool| {
        let mut args = vec![
            "scan",
            "--catalog",
            "catalog.toml",
            "--advisories",
            advisories.to_str().unwrap(),
            "--today",
            "2026-12-01",
            "--format",
            "json",
        ];
        if online {
            args.push("--registry");
        }
        args.push(project);
        let out = patchwright(dir, &args);
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "{e}: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
        });
        (json, String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let about_contents = |json: &serde_json::Value| -> Vec<serde_json::Value> {
        json["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| {
                f["rule"] == "vulnerable-image"
                    || f["also"]
                        .as_array()
                        .is_some_and(|a| a.iter().any(|r| r["rule"] == "vulnerable-image"))
            })
            .cloned()
            .collect()
    };

    // The older point release: Looney Tunables and tar, by severity; the fix moves to the
    // newer one and says what it clears.
    let (json, err) = scan("old", true);
    let found = about_contents(&json);
    assert_eq!(found.len(), 1, "{json:#}\n{err}");
    let text = found[0].to_string();
    assert!(
        text.contains("has 2 OS package advisories (1 high, 1 unrated)"),
        "{text}"
    );
    assert!(text.contains("DSA-5514-1"), "{text}");
    let fix = &found[0]["fix"];
    assert!(
        fix["to"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{host}/library/debian:{point}")),
        "{fix}"
    );
    assert!(
        fix["notes"].as_array().unwrap().iter().any(|n| n
            == &serde_json::json!(format!(
                "debian 12.1 → {point}: clears 1 of 2 OS advisories (1 high); 1 stays open, no fixed package released"
            ))),
        "{fix}"
    );

    // The newest point release: tar's advisory has no fix anywhere; no move is proposed and
    // the finding says why; the digest is still pinned to the tag in use.
    let (json, err) = scan("new", true);
    let found = about_contents(&json);
    assert_eq!(found.len(), 1, "{json:#}\n{err}");
    let text = json.to_string();
    assert!(
        text.contains(&format!(
            "no candidate clears any of the 1 OS advisories of debian {point}; staying on it"
        )),
        "{text}"
    );
    assert!(
        !text.contains("\"change\":\"patch\"") && !text.contains("\"change\":\"minor\""),
        "no tag move: {text}"
    );

    // Offline: no finding from contents, and a note that nothing is known clean.
    let (json, err) = scan("old", false);
    assert!(about_contents(&json).is_empty(), "{json:#}");
    assert_eq!(err.matches("OS packages were not read").count(), 1, "{err}");
}

/// A fleet sharing base images: the first scan reads each layer once, later scans of other
/// repositories within the TTL ask the registry nothing, and a restarted service (a new
/// lookup, the same layer cache folder) fetches manifests again but reads no layer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fleet_reads_each_layer_once_and_a_restart_reads_none() {
    use patchwright::registry::facts::ImageContents;
    use patchwright::snapshot::RepoSnapshot;
    let registry = start_registry(None).await;
    let push = Pusher::new(&registry.base(), None);
    push_debians(&push).await;
    let host = registry.host();
    let point = point_release();
    let tmp = tempfile::tempdir().unwrap();
    let config = RegistryConfig {
        enabled: true,
        layer_cache: Some(tmp.path().join("layers")),
        ..RegistryConfig::default()
    };
    let repositories: Vec<RepoSnapshot> = (0..20)
        .map(|i| {
            let tag = if i % 2 == 0 { "12.1" } else { point.as_str() };
            RepoSnapshot::from_files([(
                format!("svc{i}/Dockerfile"),
                format!("FROM {host}/library/debian:{tag}\nUSER app\n"),
            )])
        })
        .collect();
    let origins = |facts: &patchwright::registry::RegistryFacts, tag: &str| {
        let image = ImageRef::parse(&format!("{host}/library/debian:{tag}")).unwrap();
        match facts.contents(&image) {
            Some(ImageContents::Read(read)) => {
                read.layers.iter().map(|l| l.origin).collect::<Vec<_>>()
            }
            other => panic!("{tag} not read: {other:?}"),
        }
    };

    let lookup = Lookup::new(&config).unwrap();
    let now = chrono::Utc::now();
    let first = lookup.gather(&repositories[0], now).await;
    let second = lookup.gather(&repositories[1], now).await;
    assert!(
        origins(&first, "12.1")
            .iter()
            .all(|o| *o == LayerOrigin::Read)
    );
    assert!(
        origins(&second, &point)
            .iter()
            .all(|o| *o == LayerOrigin::Read)
    );
    let calls = lookup.client().calls();
    for snapshot in &repositories[2..] {
        let facts = lookup.gather(snapshot, now).await;
        assert_eq!(facts.content_problems(), Vec::<String>::new());
    }
    assert_eq!(
        lookup.client().calls(),
        calls,
        "18 more repositories, no request"
    );
    // Four layers in all (three of 12.1's amd64 image, one of the newer release).
    assert_eq!(
        std::fs::read_dir(tmp.path().join("layers"))
            .unwrap()
            .count(),
        4
    );

    let restarted = Lookup::new(&config).unwrap();
    let facts = restarted.gather(&repositories[0], now).await;
    assert!(
        origins(&facts, "12.1")
            .iter()
            .all(|o| *o == LayerOrigin::Cache)
    );
}
