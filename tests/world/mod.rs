//! One running patchwright against the stateful fake GitHub, for the end-to-end tests: signed
//! webhooks through the real router, jobs through the real runner, the real handler and the
//! real octocrab client talking HTTP to the fake. Nothing in between is mocked.
#![allow(dead_code)] // Each test crate uses a different part of this module.

use crate::fake_github::{self, FakeGitHub};
use crate::support::{self, ManualClock, TestDb, signed_request};
use patchwright::catalog::{AdvisoryDb, load_catalog, read_json_records};
use patchwright::forge::github::GitHubApp;
use patchwright::pipeline::Knowledge;
use patchwright::policy::OrgPolicy;
use patchwright::service::AppState;
use patchwright::service::clock::Clock;
use patchwright::service::handler::ScanHandler;
use patchwright::service::handler::read::ParseCache;
use patchwright::service::jobs::{JobHandler, JobRunner, RunnerConfig};
use patchwright::service::metrics::Metrics;
use patchwright::service::router;
use patchwright::service::secret::Secret;
use serde_json::json;
use std::path::Path;
use std::sync::Arc;
use tower::ServiceExt;

pub const APP_ID: u64 = 4242;
pub const INSTALLATION: u64 = 77;
pub const REPO: &str = "acme/shop";
pub const REPO_ID: i64 = 9001;

pub fn knowledge() -> Knowledge {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (records, _) = read_json_records(&root.join("fixtures/advisories"));
    Knowledge {
        catalog: load_catalog(&root.join("fixtures/catalog.example.toml")).unwrap(),
        advisories: AdvisoryDb::from_json_records(&records).0,
        policy: OrgPolicy::default(),
    }
}

/// The example project's files, as the repository's first commit.
pub fn demo_files() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/demo");
    let snapshot = patchwright::forge::local::read_snapshot(&root, &[]).unwrap();
    snapshot.files.into_iter().collect()
}

pub struct World {
    pub github: FakeGitHub,
    pub db: TestDb,
    pub clock: Arc<ManualClock>,
    pub state: AppState,
    pub runner: Arc<JobRunner>,
    pub cache: Arc<ParseCache>,
    pub app: GitHubApp,
    pub metrics: Arc<Metrics>,
}

pub async fn world(max_open: usize) -> World {
    let github = FakeGitHub::start().await;
    github.add_installation(INSTALLATION, "acme");
    let files = demo_files();
    let borrowed: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, c)| (p.as_str(), c.as_str()))
        .collect();
    github.seed_repo(REPO, "main", &borrowed);
    let db = TestDb::sqlite().await;
    let clock = ManualClock::at("2026-11-23T09:00:00Z");
    let dyn_clock: Arc<dyn Clock> = clock.clone();
    let metrics = Arc::new(Metrics::new());
    let app = GitHubApp::new(
        APP_ID,
        &Secret::new(github.private_key_pem()),
        &github.url,
        Some(Arc::clone(&metrics)),
    )
    .unwrap()
    .with_clock(Arc::clone(&dyn_clock));
    let cache = Arc::new(ParseCache::new(1000));
    let handler: Arc<dyn JobHandler> = Arc::new(ScanHandler {
        forges: Arc::new(app.clone()),
        store: db.store.clone(),
        knowledge: Arc::new(knowledge()),
        clock: Arc::clone(&dyn_clock),
        cache: Arc::clone(&cache),
        bot_login: fake_github::BOT_LOGIN.to_string(),
        app_slug: "patchwright".to_string(),
        max_open_fix_prs: max_open,
    });
    let runner = Arc::new(JobRunner::new(
        db.store.clone(),
        handler,
        Arc::clone(&dyn_clock),
        RunnerConfig::default(),
        Arc::clone(&metrics),
    ));
    let state = support::app_state(db.store.clone(), dyn_clock);
    World {
        github,
        db,
        clock,
        state,
        runner,
        cache,
        app,
        metrics,
    }
}

pub fn push_payload(after: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "ref": "refs/heads/main",
        "before": "0000000000000000000000000000000000000001",
        "after": after,
        "deleted": false,
        "repository": {
            "id": REPO_ID,
            "full_name": REPO,
            "owner": { "login": "acme" },
            "private": true,
            "default_branch": "main"
        },
        "pusher": { "name": "octocat" },
        "installation": { "id": INSTALLATION }
    }))
    .unwrap()
}

pub fn pull_closed_payload(number: u64, branch: &str, merged: bool, sender: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "action": "closed",
        "number": number,
        "pull_request": {
            "number": number,
            "state": "closed",
            "merged": merged,
            "title": "fix",
            "user": { "login": fake_github::BOT_LOGIN },
            "head": { "ref": branch, "sha": "0000000000000000000000000000000000000002" },
            "base": { "ref": "main", "sha": "0000000000000000000000000000000000000003" }
        },
        "repository": {
            "id": REPO_ID,
            "full_name": REPO,
            "owner": { "login": "acme" },
            "private": true,
            "default_branch": "main"
        },
        "sender": { "login": sender },
        "installation": { "id": INSTALLATION }
    }))
    .unwrap()
}

impl World {
    pub async fn deliver(&self, event: &str, delivery: &str, body: Vec<u8>) -> u16 {
        let response = router(self.state.clone())
            .oneshot(signed_request(event, delivery, body))
            .await
            .unwrap();
        response.status().as_u16()
    }

    pub async fn work(&self) {
        let settled = self.runner.run_until_idle().await.unwrap();
        for (id, s) in &settled {
            assert_eq!(
                *s,
                patchwright::service::jobs::Settled::Succeeded,
                "job {id}"
            );
        }
    }

    /// A person changes one pin of the example's `api/requirements.txt` on main; returns the commit.
    pub fn edit_requirements_on_main(&self, from: &str, to: &str) -> String {
        let files = demo_files();
        let (_, text) = files
            .iter()
            .find(|(p, _)| p == "api/requirements.txt")
            .expect("the example has api/requirements.txt");
        assert!(text.contains(from), "{from} is not in the example");
        let edited = text.replace(from, to);
        self.github.push(
            REPO,
            "main",
            &[("api/requirements.txt", Some(&edited))],
            "octocat",
        )
    }

    pub fn open_pulls(&self) -> Vec<fake_github::Pull> {
        self.github
            .pulls(REPO)
            .into_iter()
            .filter(|p| p.state == "open")
            .collect()
    }
}
