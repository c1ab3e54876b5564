//! Sweeps against GitHub's budget, counted by the stateful fake GitHub: the scans of a sweep are
//! spread so that no hour of one installation holds more counted calls than the budget, and a
//! repository that did not change costs one conditional request, answered 304 (not counted by
//! GitHub). What did change (a push, an advisory naming a package the repository holds) is
//! scanned in full.

#[path = "fake_github/mod.rs"]
mod fake_github;
mod support;

use chrono::{DateTime, TimeDelta, Utc};
use fake_github::{FakeGitHub, Recorded};
use patchwright::catalog::{AdvisoryDb, Catalog, parse_catalog, read_json_records};
use patchwright::forge::github::GitHubApp;
use patchwright::infra::clock::Clock;
use patchwright::infra::metrics::Metrics;
use patchwright::infra::secret::Secret;
use patchwright::knowledge::handle::{KnowledgeHandle, Pinned};
use patchwright::pipeline::Knowledge;
use patchwright::policy::OrgPolicy;
use patchwright::service::handler::ScanHandler;
use patchwright::service::handler::read::ParseCache;
use patchwright::service::jobs::{JobHandler, JobRunner, RunnerConfig, Settled};
use patchwright::service::sweep::{Pacing, enqueue_sweep};
use patchwright::store::installations::{self, RepositoryUpsert};
use patchwright::store::scan_marks;
use std::path::Path;
use std::sync::Arc;
use support::{ManualClock, RunUntilIdle, TestDb};

const APP_ID: u64 = 4242;
const INSTALLATION: i64 = 77;

/// Images are judged by the catalog: this one lists none and lets any through, so the clean
/// repositories stay clean and the test counts the sweep's calls, not fix PRs'.
fn catalog() -> Catalog {
    parse_catalog(
        "catalog.toml",
        "revision = \"sweep-test\"\nallow-unlisted-images = true\n",
    )
    .expect("a valid catalog")
}

fn advisory_records() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    read_json_records(&root.join("fixtures/advisories")).0
}

fn knowledge(records: &[(String, String)]) -> Knowledge {
    Knowledge {
        catalog: catalog(),
        advisories: AdvisoryDb::from_json_records(records).0,
        policy: OrgPolicy::default(),
    }
}

struct Sweeper {
    github: FakeGitHub,
    db: TestDb,
    clock: Arc<ManualClock>,
    runner: Arc<JobRunner>,
    knowledge: Arc<KnowledgeHandle>,
    /// (store id, full name) of each repository.
    repos: Vec<(i64, String)>,
}

/// One installation with one repository per entry of `repos` (name, files), known to the
/// store and to the fake GitHub.
async fn sweeper(repos: &[(String, Vec<(&str, &str)>)]) -> Sweeper {
    let clock = ManualClock::at("2026-12-01T00:00:00Z");
    let dyn_clock: Arc<dyn Clock> = clock.clone();
    let github = FakeGitHub::start_with_clock(Arc::clone(&dyn_clock)).await;
    github.add_installation(INSTALLATION as u64, "acme");
    let db = TestDb::sqlite().await;
    let pool = db.store.pool();
    installations::upsert_installation(pool, INSTALLATION, "acme", clock.now())
        .await
        .unwrap();
    let mut known = Vec::new();
    for (i, (name, files)) in repos.iter().enumerate() {
        github.seed_repo(name, "main", files);
        let id = 1_000 + i as i64;
        installations::upsert_repository(
            pool,
            &RepositoryUpsert {
                id,
                installation_id: INSTALLATION,
                full_name: name,
                default_branch: Some("main"),
                private: Some(true),
            },
            clock.now(),
        )
        .await
        .unwrap();
        known.push((id, name.clone()));
    }
    let metrics = Arc::new(Metrics::new());
    let app = GitHubApp::new(
        APP_ID,
        &Secret::new(github.private_key_pem()),
        &github.url,
        Arc::clone(&dyn_clock),
        Some(Arc::clone(&metrics)),
    )
    .unwrap();
    let handle = Arc::new(KnowledgeHandle::new(knowledge(&advisory_records())));
    let handler: Arc<dyn JobHandler> = Arc::new(ScanHandler {
        forges: Arc::new(app),
        store: db.store.clone(),
        knowledge: Pinned::new(Arc::clone(&handle)),
        clock: Arc::clone(&dyn_clock),
        cache: Arc::new(ParseCache::new(1000)),
        bot_login: fake_github::BOT_LOGIN.to_string(),
        app_slug: "patchwright".to_string(),
        max_open_fix_prs: 5,
        relocker: None,
        registry: None,
    });
    let runner = Arc::new(JobRunner::new(
        db.store.clone(),
        handler,
        Arc::clone(&dyn_clock),
        RunnerConfig::default(),
        metrics,
    ));
    Sweeper {
        github,
        db,
        clock,
        runner,
        knowledge: handle,
        repos: known,
    }
}

impl Sweeper {
    async fn queued(&self) -> i64 {
        sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE state IN ('queued', 'running')")
            .fetch_one(self.db.store.pool())
            .await
            .unwrap()
    }

    /// Runs the jobs as their times come, the clock moving `step` at a time, until none is
    /// left; every job must succeed.
    async fn drain(&self, step: TimeDelta) {
        for _ in 0..10_000 {
            for (id, settled) in self.runner.run_until_idle().await.unwrap() {
                assert_eq!(settled, Settled::Succeeded, "job {id}");
            }
            if self.queued().await == 0 {
                return;
            }
            self.clock.advance(step);
        }
        panic!("the sweep's jobs never all ran");
    }

    async fn sweep(&self, pacing: Pacing) -> patchwright::service::sweep::SweepSummary {
        enqueue_sweep(&self.db.store, self.clock.now(), pacing)
            .await
            .unwrap()
    }
}

/// Minting an installation token is a call on the App's own budget (made with its JWT), not
/// on the installation's.
fn on_installation_budget(r: &Recorded) -> bool {
    r.counted() && !r.path.starts_with("/app/")
}

/// The most requests in any hour-long window.
fn busiest_hour(requests: &[Recorded]) -> usize {
    let mut at: Vec<DateTime<Utc>> = requests.iter().map(|r| r.at).collect();
    at.sort();
    let mut busiest = 0;
    let mut start = 0;
    for end in 0..at.len() {
        while at[end] - at[start] >= TimeDelta::hours(1) {
            start += 1;
        }
        busiest = busiest.max(end - start + 1);
    }
    busiest
}

#[tokio::test]
async fn two_hundred_repositories_are_swept_inside_the_budget_and_unchanged_ones_cost_a_304() {
    const REPOS: usize = 200;
    // Scaled down from 5,000 an hour for 10,000 repositories: 200 full scans (about 5 calls
    // each) need about 3.4 hours at 300 calls an hour, more than the 2-hour interval.
    const BUDGET: u32 = 300;
    let files = vec![
        ("Dockerfile", "FROM node:22.12.0-alpine\nUSER node\n"),
        ("README.md", "A service.\n"),
    ];
    let repos: Vec<(String, Vec<(&str, &str)>)> = (0..REPOS)
        .map(|i| (format!("acme/service-{i:03}"), files.clone()))
        .collect();
    let s = sweeper(&repos).await;
    let pacing = Pacing {
        interval: TimeDelta::hours(2),
        calls_per_hour: BUDGET,
    };

    // First sweep: nothing is known, every repository is a full scan, planned at 6 calls.
    let start = s.clock.now();
    let first = s.sweep(pacing).await;
    assert_eq!(first.queued, REPOS);
    let last_due = first.last_due.unwrap();
    assert!(
        last_due > start + TimeDelta::hours(3),
        "stretched past the interval to stay in budget: {last_due}"
    );
    s.drain(TimeDelta::minutes(5)).await;
    let requests = s.github.requests();
    let installation: Vec<Recorded> = requests
        .iter()
        .filter(|r| on_installation_budget(r))
        .cloned()
        .collect();
    let busiest = busiest_hour(&installation);
    eprintln!(
        "first sweep: {} requests on the installation's budget ({:.1} per repository), busiest hour {busiest}, last due {}",
        installation.len(),
        installation.len() as f64 / REPOS as f64,
        last_due - start
    );
    assert!(busiest <= BUDGET as usize, "{busiest} calls in one hour");
    assert!(
        installation.len() >= 4 * REPOS,
        "every repository was scanned"
    );
    for (id, name) in &s.repos {
        assert_eq!(s.github.check_runs(name).len(), 1, "{name}");
        let mark = scan_marks::get(s.db.store.pool(), *id).await.unwrap();
        assert_eq!(
            mark.map(|m| m.head_sha),
            s.github.branch(name, "main"),
            "{name}"
        );
    }

    // A day later, three repositories got a push the webhooks did not reach (the service was
    // down, say); the rest did not change.
    s.clock.advance(TimeDelta::hours(20));
    let pushed = ["acme/service-007", "acme/service-100", "acme/service-199"];
    for name in pushed {
        s.github.push(
            name,
            "main",
            &[(
                "Dockerfile",
                Some("FROM node:22.12.0-bookworm-slim\nUSER node\n"),
            )],
            "octocat",
        );
    }
    s.github.clear_requests();
    let start = s.clock.now();
    let second = s.sweep(pacing).await;
    assert_eq!(second.queued, REPOS);
    // Cheap scans are planned at one call: spread over the interval, not stretched.
    assert!(second.last_due.unwrap() < start + pacing.interval);
    s.drain(TimeDelta::minutes(5)).await;
    let requests = s.github.requests();
    let probes: Vec<&Recorded> = requests
        .iter()
        .filter(|r| r.method == "GET" && r.path.contains("/commits/main"))
        .collect();
    assert_eq!(
        probes.len(),
        REPOS,
        "one conditional request per repository"
    );
    assert_eq!(s.github.not_modified(), REPOS - pushed.len());
    let counted: Vec<&Recorded> = requests
        .iter()
        .filter(|r| on_installation_budget(r))
        .collect();
    let by_unchanged: Vec<&&Recorded> = counted
        .iter()
        .filter(|r| {
            !pushed.iter().any(|p| {
                let repo = format!("/repos/{p}");
                r.path == repo || r.path.starts_with(&format!("{repo}/"))
            })
        })
        .collect();
    let tokens = requests
        .iter()
        .filter(|r| r.path.starts_with("/app/"))
        .count();
    eprintln!(
        "second sweep: {} requests, {} answered 304, {} counted on the installation's budget ({} by the {} pushed repositories), {tokens} token(s) minted",
        requests.len(),
        s.github.not_modified(),
        counted.len(),
        counted.len() - by_unchanged.len(),
        pushed.len()
    );
    assert!(
        by_unchanged.is_empty(),
        "unchanged repositories cost no counted call: {by_unchanged:#?}"
    );
    // The token is minted once an hour, whatever the number of repositories.
    assert!(tokens <= 3, "{tokens} tokens for a 2-hour sweep");
    assert!(
        (counted.len() + tokens) as f64 / REPOS as f64 <= 1.0,
        "at most one counted call per repository on average"
    );
    for (id, name) in &s.repos {
        // A pushed repository's mark keeps the validator GitHub gave with its new head.
        let mark = scan_marks::get(s.db.store.pool(), *id)
            .await
            .unwrap()
            .unwrap();
        let etag = pushed
            .contains(&name.as_str())
            .then(|| format!("\"{}\"", mark.head_sha));
        assert_eq!(mark.etag, etag, "{name}");
        let runs = s.github.check_runs(name).len();
        let expected = if pushed.contains(&name.as_str()) {
            2
        } else {
            1
        };
        assert_eq!(
            runs, expected,
            "{name}: a check run only where something moved"
        );
    }
}

#[tokio::test]
async fn an_advisory_change_rescans_the_repositories_holding_its_package_and_no_others() {
    let repos = vec![
        (
            "acme/api".to_string(),
            vec![("requirements.txt", "urllib3==2.2.2\n")],
        ),
        (
            "acme/site".to_string(),
            vec![("Dockerfile", "FROM nginx:1.27-alpine\nUSER nginx\n")],
        ),
    ];
    let s = sweeper(&repos).await;
    let pacing = Pacing {
        interval: TimeDelta::hours(1),
        calls_per_hour: 5_000,
    };
    s.sweep(pacing).await;
    s.drain(TimeDelta::minutes(5)).await;

    // Nothing changed: both end at their 304.
    s.github.clear_requests();
    s.sweep(pacing).await;
    s.drain(TimeDelta::minutes(5)).await;
    assert_eq!(s.github.not_modified(), 2);
    assert_eq!(s.github.count("GET", "/repos/acme/api/git/trees"), 0);

    // An advisory naming urllib3 changes (its text only, `modified` untouched): the
    // repository holding urllib3 is scanned again; the other one is not.
    let edited: Vec<(String, String)> = advisory_records()
        .into_iter()
        .map(|(file, json)| {
            if file.ends_with("PYSEC-2023-192.json") {
                let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
                v["details"] = serde_json::json!("Rewritten by the database.");
                (file, v.to_string())
            } else {
                (file, json)
            }
        })
        .collect();
    s.knowledge.update(|_| knowledge(&edited));
    s.github.clear_requests();
    s.sweep(pacing).await;
    s.drain(TimeDelta::minutes(5)).await;
    assert_eq!(s.github.count("GET", "/repos/acme/api/git/trees"), 1);
    assert_eq!(s.github.count("GET", "/repos/acme/site/git/trees"), 0);
    assert_eq!(s.github.not_modified(), 1, "{:#?}", s.github.requests());

    // A catalog change reaches every repository.
    s.knowledge.update(|k| Knowledge {
        catalog: parse_catalog(
            "catalog.toml",
            "revision = \"sweep-test-2\"\nallow-unlisted-images = true\n",
        )
        .unwrap(),
        advisories: k.advisories.clone(),
        policy: k.policy.clone(),
    });
    s.github.clear_requests();
    s.sweep(pacing).await;
    s.drain(TimeDelta::minutes(5)).await;
    assert_eq!(s.github.not_modified(), 0);
    assert_eq!(s.github.count("GET", "/repos/acme/site/git/trees"), 1);
}
