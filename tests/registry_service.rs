//! The service with registry lookups: a real registry (Docker Hub names through a mirror on
//! loopback), the fake GitHub, real SQLite. A rebuilt tag becomes one digest-refresh PR on its
//! own branch, apart from the security fix PR, updated in place on the next rebuild.

mod fake_github;
mod image_support;
mod registry_support;
mod support;
mod world;

use patchwright::catalog::{AdvisoryDb, load_catalog};
use patchwright::forge::github::GitHubForge;
use patchwright::forge::hosted::Forge;
use patchwright::infra::clock::Clock;
use patchwright::pipeline::Knowledge;
use patchwright::policy::OrgPolicy;
use patchwright::registry::{Lookup, RegistryConfig};
use patchwright::service::sweep::{Pacing, enqueue_sweep};
use registry_support::{Pusher, catalog_knowledge, mirrored_lookup, start_registry};
use std::sync::Arc;
use world::{INSTALLATION, REPO, pull_closed_payload, world_with_registry};

const CATALOG: &str = r#"revision = "registry-service-test"

[[image]]
name = "node"
approved = ["1.3*"]

[[image]]
name = "python"
approved = ["3.14*"]
"#;

#[tokio::test]
async fn a_rebuilt_tag_gets_one_refresh_pr_apart_from_security_fixes() {
    let registry = start_registry(None).await;
    let push = Pusher::new(&registry.base(), None);
    let first = push.image("library/node", "amd64", "node build 1").await;
    push.tag("library/node", "1.3.1-bookworm-slim", &first)
        .await;
    let python = push.image("library/python", "amd64", "python 3.14.1").await;
    push.tag("library/python", "3.14.1-slim", &python).await;
    let old_python = push.image("library/python", "amd64", "python 3.12").await;
    push.tag("library/python", "3.12.0-slim", &old_python).await;
    // The node tag is rebuilt after the repository pinned it.
    let second = push.image("library/node", "amd64", "node build 2").await;
    push.tag("library/node", "1.3.1-bookworm-slim", &second)
        .await;

    let dir = tempfile::tempdir().unwrap();
    let knowledge = catalog_knowledge(dir.path(), CATALOG);
    let lookup = mirrored_lookup(&registry);
    let files = vec![
        (
            "app/Dockerfile".to_string(),
            format!(
                "FROM node:1.3.1-bookworm-slim@{}\nUSER node\n",
                first.digest
            ),
        ),
        (
            "worker/Dockerfile".to_string(),
            "FROM python:3.12.0-slim\nUSER app\n".to_string(),
        ),
    ];
    let world = world_with_registry(5, files, knowledge, None, Some(lookup)).await;
    world.scan_main("d-1").await;

    let pulls = world.github.pulls(REPO);
    let heads: Vec<&str> = pulls.iter().map(|p| p.head.as_str()).collect();
    assert_eq!(pulls.len(), 2, "{heads:?}");
    let refresh = pulls
        .iter()
        .find(|p| p.head == "patchwright/docker/digest-refresh")
        .unwrap_or_else(|| panic!("no refresh PR: {heads:?}"));
    let security = pulls
        .iter()
        .find(|p| p.head == "patchwright/docker/python")
        .unwrap_or_else(|| panic!("no python PR: {heads:?}"));
    let at = |pull: &fake_github::Pull, path: &str| {
        let head = world.github.branch(REPO, &pull.head).unwrap();
        world.github.file_at(&head, path).unwrap()
    };
    assert_eq!(
        at(refresh, "app/Dockerfile"),
        format!(
            "FROM node:1.3.1-bookworm-slim@{}\nUSER node\n",
            second.digest
        )
    );
    assert_eq!(
        at(refresh, "worker/Dockerfile"),
        "FROM python:3.12.0-slim\nUSER app\n",
        "the refresh carries no security fix"
    );
    // The security fix moves to a tag the registry has, pinned; the refresh is not in it.
    assert_eq!(
        at(security, "worker/Dockerfile"),
        format!("FROM python:3.14.1-slim@{}\nUSER app\n", python.digest)
    );
    assert!(at(security, "app/Dockerfile").contains(&first.digest));

    // Rebuilt again: the same refresh PR is updated, no second one opened.
    let third = push.image("library/node", "amd64", "node build 3").await;
    push.tag("library/node", "1.3.1-bookworm-slim", &third)
        .await;
    world.clock.advance(chrono::TimeDelta::hours(2));
    world.scan_main("d-2").await;
    let refreshes: Vec<fake_github::Pull> = world
        .github
        .pulls(REPO)
        .into_iter()
        .filter(|p| p.head == "patchwright/docker/digest-refresh")
        .collect();
    assert_eq!(refreshes.len(), 1);
    assert!(at(&refreshes[0], "app/Dockerfile").contains(&third.digest));

    // A person merges it: main holds the refreshed pin, the PR is closed.
    let merged = refreshes[0].clone();
    let refreshed = at(&merged, "app/Dockerfile");
    world.github.push(
        REPO,
        "main",
        &[("app/Dockerfile", Some(refreshed.as_str()))],
        "octocat",
    );
    let forge = GitHubForge::new(world.app.clone(), INSTALLATION);
    forge.close_pull(REPO, merged.number).await.unwrap();
    world
        .deliver(
            "pull_request",
            "d-3",
            pull_closed_payload(merged.number, &merged.head, true, "octocat"),
        )
        .await;

    // Rebuilt again two days later: inside the 7-day window, no new refresh PR.
    let fourth = push.image("library/node", "amd64", "node build 4").await;
    push.tag("library/node", "1.3.1-bookworm-slim", &fourth)
        .await;
    world.clock.advance(chrono::TimeDelta::days(2));
    world.scan_main("d-4").await;
    let open_refreshes = |world: &world::World| {
        world
            .github
            .pulls(REPO)
            .into_iter()
            .filter(|p| p.head == "patchwright/docker/digest-refresh" && p.state == "open")
            .collect::<Vec<_>>()
    };
    assert!(
        open_refreshes(&world).is_empty(),
        "the window holds it back"
    );

    // A week after the last one: the next refresh PR opens.
    world.clock.advance(chrono::TimeDelta::days(6));
    world.scan_main("d-5").await;
    let reopened = open_refreshes(&world);
    assert_eq!(reopened.len(), 1);
    assert!(at(&reopened[0], "app/Dockerfile").contains(&fourth.digest));

    // Sweeps of the unchanged repository while the tag moves again: inside the refresh window
    // one conditional request and no scan (the registry's answers are not part of the mark's
    // key, which would never match at a sweep), so the open refresh PR keeps its digest; past
    // the window the sweep scans in full, asks the registry and the PR follows the tag.
    let fifth = push.image("library/node", "amd64", "node build 5").await;
    push.tag("library/node", "1.3.1-bookworm-slim", &fifth)
        .await;
    world.clock.advance(chrono::TimeDelta::hours(1));
    sweep(&world).await;
    let open = open_refreshes(&world);
    assert_eq!(open.len(), 1);
    assert!(
        at(&open[0], "app/Dockerfile").contains(&fourth.digest),
        "inside the window the sweep reused the last scan"
    );
    world.clock.advance(chrono::TimeDelta::days(8));
    sweep(&world).await;
    let open = open_refreshes(&world);
    assert_eq!(open.len(), 1);
    assert!(
        at(&open[0], "app/Dockerfile").contains(&fifth.digest),
        "past the window the sweep asked the registry again"
    );
}

/// A base image whose OS packages have advisories: the check run names them, and the fix PR
/// moving to the newer point release says what it clears in `recommend`'s words.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn image_contents_make_the_finding_and_the_pr_says_what_the_move_clears() {
    use image_support::{Compression, debian_layer, older_status, real_debian};
    let registry = start_registry(None).await;
    let push = Pusher::new(&registry.base(), None);
    let (status, os_release, debian_version) = real_debian();
    let old = older_status(&String::from_utf8_lossy(&status));
    let point = String::from_utf8_lossy(&debian_version).trim().to_string();
    let layer = debian_layer(old.as_bytes(), &os_release, b"12.1\n", Compression::Zstd);
    let older = push
        .layered_image("library/debian", "amd64", &[layer.stored()])
        .await;
    push.tag("library/debian", "12.1", &older).await;
    let layer = debian_layer(&status, &os_release, &debian_version, Compression::Gzip);
    let newer = push
        .layered_image("library/debian", "amd64", &[layer.stored()])
        .await;
    push.tag("library/debian", &point, &newer).await;

    let dir = tempfile::tempdir().unwrap();
    let catalog_path = dir.path().join("catalog.toml");
    std::fs::write(
        &catalog_path,
        "revision = \"contents\"\n\n[[image]]\nname = \"debian\"\napproved = [\"12.*\"]\n",
    )
    .unwrap();
    let (records, errors) = patchwright::catalog::read_json_records(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/distro-advisories"),
    );
    assert!(errors.is_empty(), "{errors:?}");
    let knowledge = Knowledge {
        catalog: load_catalog(&catalog_path).unwrap(),
        advisories: AdvisoryDb::from_json_records(&records).0,
        policy: OrgPolicy::default(),
    };
    let mut config = RegistryConfig {
        enabled: true,
        layer_cache: Some(dir.path().join("layers")),
        ..RegistryConfig::default()
    };
    config
        .mirrors
        .insert("docker.io".into(), vec![registry.base()]);
    let lookup = Arc::new(Lookup::new(&config).unwrap());
    let files = vec![(
        "Dockerfile".to_string(),
        "FROM debian:12.1\nUSER app\n".to_string(),
    )];
    let world = world_with_registry(5, files, knowledge, None, Some(lookup)).await;
    world.scan_main("d-1").await;

    let checks = world.github.check_runs(REPO);
    let check = checks.last().expect("a check run");
    let annotations = serde_json::to_string(&check.annotations).unwrap();
    assert!(
        annotations.contains("has 2 OS package advisories (1 high, 1 unrated)")
            && annotations.contains("DSA-5514-1"),
        "{annotations}\n{}",
        check.summary
    );
    let pulls = world.github.pulls(REPO);
    let pull = pulls
        .iter()
        .find(|p| p.body.contains("OS advisories"))
        .unwrap_or_else(|| panic!("no PR says what it clears: {pulls:#?}"));
    assert!(
        pull.body.contains(&format!(
            "debian 12.1 → {point}: clears 1 of 2 OS advisories (1 high); 1 stays open, no fixed package released"
        )),
        "{}",
        pull.body
    );
    let head = world.github.branch(REPO, &pull.head).unwrap();
    assert_eq!(
        world.github.file_at(&head, "Dockerfile").unwrap(),
        format!("FROM debian:{point}@{}\nUSER app\n", newer.digest)
    );
    // Each layer was read once and kept on disk for the next start.
    assert_eq!(
        std::fs::read_dir(dir.path().join("layers"))
            .unwrap()
            .count(),
        2
    );
}

/// `max-open-fix-prs = 1` and a refresh PR already open: a fix that comes later still opens,
/// because the refresh PR has a place of its own and does not take the one slot.
#[tokio::test]
async fn an_open_refresh_pr_does_not_take_a_security_fix_slot() {
    let registry = start_registry(None).await;
    let push = Pusher::new(&registry.base(), None);
    let first = push.image("library/node", "amd64", "slot build 1").await;
    push.tag("library/node", "1.3.1-bookworm-slim", &first)
        .await;
    let python = push.image("library/python", "amd64", "slot 3.14.1").await;
    push.tag("library/python", "3.14.1-slim", &python).await;
    let old_python = push.image("library/python", "amd64", "slot 3.12").await;
    push.tag("library/python", "3.12.0-slim", &old_python).await;
    let second = push.image("library/node", "amd64", "slot build 2").await;
    push.tag("library/node", "1.3.1-bookworm-slim", &second)
        .await;

    let dir = tempfile::tempdir().unwrap();
    let knowledge = catalog_knowledge(dir.path(), CATALOG);
    let lookup = mirrored_lookup(&registry);
    let files = vec![(
        "app/Dockerfile".to_string(),
        format!(
            "FROM node:1.3.1-bookworm-slim@{}\nUSER node\n",
            first.digest
        ),
    )];
    let world = world_with_registry(1, files, knowledge, None, Some(lookup)).await;
    world.scan_main("slot-1").await;
    let heads = |world: &world::World| {
        let mut heads: Vec<String> = world
            .github
            .pulls(REPO)
            .into_iter()
            .filter(|p| p.state == "open")
            .map(|p| p.head)
            .collect();
        heads.sort();
        heads
    };
    assert_eq!(heads(&world), ["patchwright/docker/digest-refresh"]);

    // A new Dockerfile on an image the catalog does not approve: its fix needs a slot.
    world.github.push(
        REPO,
        "main",
        &[(
            "worker/Dockerfile",
            Some("FROM python:3.12.0-slim\nUSER app\n"),
        )],
        "octocat",
    );
    world.clock.advance(chrono::TimeDelta::hours(1));
    world.scan_main("slot-2").await;
    assert_eq!(
        heads(&world),
        [
            "patchwright/docker/digest-refresh",
            "patchwright/docker/python"
        ],
        "the security fix opens beside the refresh PR"
    );
}

/// Queues a sweep of every repository and runs it (a one-second interval: due at once).
async fn sweep(world: &world::World) {
    let pacing = Pacing {
        interval: chrono::TimeDelta::seconds(1),
        calls_per_hour: 5_000,
    };
    let now = world.clock.now();
    enqueue_sweep(&world.db.store, now, pacing).await.unwrap();
    world.clock.advance(chrono::TimeDelta::seconds(2));
    world.work().await;
}
