//! Image provenance: what the scans record of each Dockerfile stage's base image, on SQLite
//! and (with DATABASE_URL) PostgreSQL, and end to end through the service with a real
//! registry on loopback: the bot's merged fix PR shows as the change that moved the image.

mod fake_github;
mod registry_support;
mod support;
mod world;

use chrono::{DateTime, TimeDelta, Utc};
use patchwright::forge::github::GitHubForge;
use patchwright::forge::hosted::Forge;
use patchwright::remediation::lineage::{BaseImageSeen, lineage};
use patchwright::store::findings::{self, SeenFinding};
use patchwright::store::fix_prs::{self, OpenedFixPr};
use patchwright::store::history;
use patchwright::store::installations::{self, RepositoryUpsert};
use registry_support::{Pusher, catalog_knowledge, mirrored_lookup, start_registry};
use support::each_backend;
use world::{INSTALLATION, REPO, REPO_ID, pull_closed_payload, world_with_registry};

fn t(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn base(stage: &str, image: &str, tag: &str, digest: Option<&str>) -> BaseImageSeen {
    BaseImageSeen {
        file: "Dockerfile".into(),
        stage: stage.into(),
        image: image.into(),
        tag: tag.into(),
        digest: digest.map(str::to_string),
    }
}

fn image_finding(advisory: &str) -> SeenFinding {
    SeenFinding {
        key: format!("vulnerable-image|Dockerfile|node|{advisory}"),
        rule: "vulnerable-image".into(),
        subject: "node:16".into(),
        file: "Dockerfile".into(),
        line: 1,
        level: "blocker".into(),
        advisories: vec![advisory.into()],
        severity: "high".into(),
        package: "node".into(),
        owners: Vec::new(),
        excepted: false,
    }
}

#[tokio::test]
async fn scans_record_periods_and_the_lineage_names_the_merged_fix_pr_and_what_it_cleared() {
    each_backend(|db| async move {
        let pool = db.store.pool();
        let t0 = t("2026-03-01T09:00:00Z");
        installations::upsert_installation(pool, 1, "acme", t0)
            .await
            .unwrap();
        installations::upsert_repository(
            pool,
            &RepositoryUpsert {
                id: 7,
                installation_id: 1,
                full_name: "acme/web",
                default_branch: Some("main"),
                private: Some(false),
            },
            t0,
        )
        .await
        .unwrap();
        let scan =
            |commit: &'static str, images: Vec<BaseImageSeen>, seen: Vec<SeenFinding>, at| {
                let store = db.store.clone();
                async move {
                    let mut tx = store.begin().await.unwrap();
                    findings::record_scan(&mut tx, 7, &seen, at).await.unwrap();
                    patchwright::store::lineage::record(&mut tx, 7, commit, &images, at)
                        .await
                        .unwrap();
                    tx.commit().await.unwrap();
                }
            };
        let day = |n: i64| t0 + TimeDelta::days(n);
        let build = || base("build", "node", "16", None);
        let runtime = |tag: &str, digest: Option<&str>| base("#1", "nginx", tag, digest);
        // Day 0: node 16 with an advisory; nginx without a known digest.
        scan(
            "c0",
            vec![build(), runtime("1.25", None)],
            vec![image_finding("CVE-2026-1")],
            day(0),
        )
        .await;
        // Day 1: the registry now tells nginx's digest: the same period, digest filled in.
        scan(
            "c1",
            vec![build(), runtime("1.25", Some("sha256:aa"))],
            vec![image_finding("CVE-2026-1")],
            day(1),
        )
        .await;
        // The bot's node fix PR is merged on day 2 (and an npm one the same day).
        for (number, branch, key) in [
            (4, "patchwright/docker/node", "docker/node@node:20"),
            (5, "patchwright/npm/qs", "npm/qs@6.0.0"),
        ] {
            fix_prs::insert(
                pool,
                &OpenedFixPr {
                    repository_id: 7,
                    number,
                    branch,
                    fix_key: key,
                    head_sha: "h",
                },
                day(1),
            )
            .await
            .unwrap();
            fix_prs::record_closed(pool, 7, number, true, false, day(2))
                .await
                .unwrap();
        }
        // Day 3: node 20, the advisory gone; nginx unchanged but the registry did not answer.
        scan(
            "c3",
            vec![base("build", "node", "20", None), runtime("1.25", None)],
            vec![],
            day(3),
        )
        .await;
        // Day 4: a person moves nginx's tag to another digest; day 5 they revert.
        scan(
            "c4",
            vec![
                base("build", "node", "20", None),
                runtime("1.25", Some("sha256:bb")),
            ],
            vec![],
            day(4),
        )
        .await;
        scan(
            "c5",
            vec![
                base("build", "node", "20", None),
                runtime("1.25", Some("sha256:aa")),
            ],
            vec![],
            day(5),
        )
        .await;

        let periods = patchwright::store::lineage::periods(pool, 7).await.unwrap();
        assert_eq!(periods.len(), 5, "{periods:#?}");
        let prs = history::fix_prs(pool, Some(&[7])).await.unwrap();
        let events = history::events(pool, Some(&[7])).await.unwrap();
        let stages = lineage(&periods, &prs, &events);
        let found: Vec<(String, Vec<String>)> = stages
            .iter()
            .map(|s| {
                (
                    format!("{}:{}", s.file, s.stage),
                    s.steps.iter().map(|x| x.reference()).collect(),
                )
            })
            .collect();
        assert_eq!(
            found,
            [
                (
                    "Dockerfile:#1".to_string(),
                    vec![
                        "nginx:1.25@sha256:aa".to_string(),
                        "nginx:1.25@sha256:bb".to_string(),
                        "nginx:1.25@sha256:aa".to_string()
                    ]
                ),
                (
                    "Dockerfile:build".to_string(),
                    vec!["node:16".to_string(), "node:20".to_string()]
                ),
            ]
        );
        let node = &stages[1].steps;
        assert_eq!(
            (
                node[0].first_seen,
                node[0].last_seen,
                node[0].commit.as_str()
            ),
            (day(0), day(1), "c0")
        );
        assert_eq!(node[1].fix_pr, Some(4), "the docker PR, not the npm one");
        assert_eq!(node[1].cleared, ["CVE-2026-1"]);
        assert_eq!((node[1].commit.as_str(), node[1].current), ("c3", true));
        let nginx = &stages[0].steps;
        assert_eq!(nginx[0].last_seen, day(3), "a missing digest continued it");
        assert_eq!(nginx[1].fix_pr, None, "a person's change");
        assert!(nginx[2].current && !nginx[1].current);
    })
    .await;
}

const CATALOG: &str = r#"revision = "image-lineage-test"

[[image]]
name = "python"
approved = ["3.14*"]
"#;

#[tokio::test]
async fn a_merged_image_fix_pr_shows_in_the_lineage_with_the_registrys_digests() {
    let registry = start_registry(None).await;
    let push = Pusher::new(&registry.base(), None);
    let new = push.image("library/python", "amd64", "python 3.14.1").await;
    push.tag("library/python", "3.14.1-slim", &new).await;
    let old = push.image("library/python", "amd64", "python 3.12").await;
    push.tag("library/python", "3.12.0-slim", &old).await;

    let dir = tempfile::tempdir().unwrap();
    let knowledge = catalog_knowledge(dir.path(), CATALOG);
    let lookup = mirrored_lookup(&registry);
    let files = vec![(
        "worker/Dockerfile".to_string(),
        "FROM python:3.12.0-slim AS app\nUSER app\n".to_string(),
    )];
    let world = world_with_registry(5, files, knowledge, None, Some(lookup)).await;
    let first = world.github.branch(REPO, "main").unwrap();
    world.scan_main("d-1").await;
    let pull = world
        .github
        .pulls(REPO)
        .into_iter()
        .find(|p| p.head == "patchwright/docker/python")
        .expect("a python fix PR");

    // A person merges the bot's PR.
    let head = world.github.branch(REPO, &pull.head).unwrap();
    let fixed = world.github.file_at(&head, "worker/Dockerfile").unwrap();
    world.clock.advance(TimeDelta::hours(1));
    let merged = world.github.merge(
        REPO,
        "main",
        &pull.head,
        &[("worker/Dockerfile", Some(fixed.as_str()))],
        "octocat",
    );
    let forge = GitHubForge::new(world.app.clone(), INSTALLATION);
    forge.close_pull(REPO, pull.number).await.unwrap();
    world
        .deliver(
            "pull_request",
            "d-2",
            pull_closed_payload(pull.number, &pull.head, true, "octocat"),
        )
        .await;
    world.clock.advance(TimeDelta::hours(1));
    world.scan_main("d-3").await;

    let pool = world.db.store.pool();
    let periods = patchwright::store::lineage::periods(pool, REPO_ID)
        .await
        .unwrap();
    let prs = history::fix_prs(pool, Some(&[REPO_ID])).await.unwrap();
    let events = history::events(pool, Some(&[REPO_ID])).await.unwrap();
    let stages = lineage(&periods, &prs, &events);
    assert_eq!(stages.len(), 1, "{stages:#?}");
    assert_eq!(
        (stages[0].file.as_str(), stages[0].stage.as_str()),
        ("worker/Dockerfile", "app")
    );
    let steps = &stages[0].steps;
    let refs: Vec<String> = steps.iter().map(|s| s.reference()).collect();
    assert_eq!(
        refs,
        [
            format!("python:3.12.0-slim@{}", old.digest),
            format!("python:3.14.1-slim@{}", new.digest)
        ],
        "the first digest came from the registry, the second from the pin the fix wrote"
    );
    assert_eq!(
        (steps[0].commit.as_str(), steps[1].commit.as_str()),
        (first.as_str(), merged.as_str())
    );
    assert_eq!(steps[1].fix_pr, Some(pull.number as i64));
    assert!(
        !steps[1].cleared.is_empty(),
        "the catalog finding about 3.12 was fixed: {steps:#?}"
    );
    assert!(steps[1].current);
}
