//! One running patchwright against the stateful fake GitHub, for the end-to-end tests: signed
//! webhooks through the real router, jobs through the real runner, the real handler and the
//! real GitHub client talking HTTP to the fake. Nothing in between is mocked.
#![allow(dead_code)] // Each test crate uses a different part of this module.

use crate::fake_github::{self, FakeGitHub};
use crate::support::{self, ManualClock, RunUntilIdle, TestDb, signed_request};
use patchwright::catalog::{AdvisoryDb, load_catalog, read_json_records};
use patchwright::forge::github::GitHubApp;
use patchwright::infra::clock::Clock;
use patchwright::infra::metrics::Metrics;
use patchwright::infra::secret::Secret;
use patchwright::pipeline::Knowledge;
use patchwright::policy::OrgPolicy;
use patchwright::service::AppState;
use patchwright::service::handler::ScanHandler;
use patchwright::service::handler::read::ParseCache;
use patchwright::service::jobs::Settled;
use patchwright::service::jobs::{JobHandler, JobRunner, RunnerConfig};
use patchwright::service::router;
use serde_json::json;
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
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
    leftovers: Leftovers,
}

/// What a test must have dealt with by its end (bors checks the same on drop): every job a
/// delivery queued has run and none is left waiting, every comment the bot posted was looked
/// at by the test, and no write was refused (a 4xx or 5xx the fake chose, as GitHub would)
/// unless the test said it expected it.
#[derive(Default)]
struct Leftovers {
    /// A delivery was queued after the last run of the jobs.
    undrained: AtomicBool,
    /// Jobs queued or running when the last run ended (a retry waiting for its time).
    queued: AtomicUsize,
    /// Bot comments the test has read (through [`World::reply_to`] or [`World::bot_comments`]).
    seen: Mutex<BTreeSet<u64>>,
    /// How many of the fake's refused writes the test said it expected.
    refusals_expected: AtomicUsize,
}

impl Drop for World {
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        let l = &self.leftovers;
        assert!(
            !l.undrained.load(Ordering::SeqCst),
            "leftover: a delivery queued a job after the last run of the jobs"
        );
        let queued = l.queued.load(Ordering::SeqCst);
        assert_eq!(
            queued, 0,
            "leftover: {queued} job(s) still queued when the test ended"
        );
        let refused = self.github.refused_writes();
        let unexpected_writes = &refused[l
            .refusals_expected
            .load(Ordering::SeqCst)
            .min(refused.len())..];
        assert!(
            unexpected_writes.is_empty(),
            "leftover: write(s) GitHub would have refused, which the test did not expect: {unexpected_writes:#?}"
        );
        let seen = l.seen.lock().unwrap_or_else(|p| p.into_inner());
        let unexpected: Vec<String> = self
            .github
            .comments(REPO)
            .into_iter()
            .filter(|c| c.user == fake_github::BOT_LOGIN && !seen.contains(&c.id))
            .map(|c| format!("#{}: {}", c.issue, c.body))
            .collect();
        assert!(
            unexpected.is_empty(),
            "leftover: comment(s) the bot posted that the test never looked at: {unexpected:#?}"
        );
    }
}

pub async fn world(max_open: usize) -> World {
    world_with(max_open, demo_files(), knowledge(), None).await
}

/// A world whose repository holds `files`, judged with `knowledge`, with the fix PRs
/// re-locked by `relocker` (when given).
pub async fn world_with(
    max_open: usize,
    files: Vec<(String, String)>,
    knowledge: Knowledge,
    relocker: Option<patchwright::relock::Relocker>,
) -> World {
    world_with_registry(max_open, files, knowledge, relocker, None).await
}

/// [`world_with`], with container registry lookups (the `[registry]` table) when given.
pub async fn world_with_registry(
    max_open: usize,
    files: Vec<(String, String)>,
    knowledge: Knowledge,
    relocker: Option<patchwright::relock::Relocker>,
    registry: Option<Arc<patchwright::registry::Lookup>>,
) -> World {
    let clock = ManualClock::at("2026-11-23T09:00:00Z");
    let dyn_clock: Arc<dyn Clock> = clock.clone();
    // One clock for both sides: GitHub mints and checks tokens and JWTs by the time the App
    // judges them by, so moving it exercises token renewal end to end.
    let github = FakeGitHub::start_with_clock(Arc::clone(&dyn_clock)).await;
    github.add_installation(INSTALLATION, "acme");
    let borrowed: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, c)| (p.as_str(), c.as_str()))
        .collect();
    github.seed_repo(REPO, "main", &borrowed);
    let db = TestDb::sqlite().await;
    let metrics = Arc::new(Metrics::new());
    let app = GitHubApp::new(
        APP_ID,
        &Secret::new(github.private_key_pem()),
        &github.url,
        Arc::clone(&dyn_clock),
        Some(Arc::clone(&metrics)),
    )
    .unwrap();
    let cache = Arc::new(ParseCache::new(1000));
    let handler: Arc<dyn JobHandler> = Arc::new(ScanHandler {
        forges: Arc::new(app.clone()),
        store: db.store.clone(),
        knowledge: knowledge.into(),
        clock: Arc::clone(&dyn_clock),
        cache: Arc::clone(&cache),
        bot_login: fake_github::BOT_LOGIN.to_string(),
        app_slug: "patchwright".to_string(),
        max_open_fix_prs: max_open,
        relocker: relocker.map(Arc::new),
        registry,
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
        leftovers: Leftovers::default(),
    }
}

/// The repository as webhook payloads carry it.
fn repository_json() -> serde_json::Value {
    json!({
        "id": REPO_ID,
        "full_name": REPO,
        "owner": { "login": "acme" },
        "private": true,
        "default_branch": "main"
    })
}

pub fn push_payload(after: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "ref": "refs/heads/main",
        "before": "0000000000000000000000000000000000000001",
        "after": after,
        "deleted": false,
        "repository": repository_json(),
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
        "repository": repository_json(),
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
        let status = response.status().as_u16();
        if status == 202 {
            self.leftovers.undrained.store(true, Ordering::SeqCst);
        }
        status
    }

    /// Runs every job due now and returns how each settled; remembers how many are left
    /// queued (retries waiting for their time), which must be none when the test ends.
    pub async fn run_jobs(&self) -> Vec<(i64, Settled)> {
        self.leftovers.undrained.store(false, Ordering::SeqCst);
        let settled = self.runner.run_until_idle().await.unwrap();
        let waiting: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE state IN ('queued', 'running')")
                .fetch_one(self.db.store.pool())
                .await
                .unwrap();
        self.leftovers.queued.store(
            usize::try_from(waiting).unwrap_or(usize::MAX),
            Ordering::SeqCst,
        );
        settled
    }

    /// Runs every job due now; each must succeed.
    pub async fn work(&self) {
        for (id, s) in self.run_jobs().await {
            assert_eq!(s, Settled::Succeeded, "job {id}");
        }
    }

    /// The writes GitHub refused since the last call, as `METHOD path → status`: expected from
    /// here on, so the end of the test does not fail on them.
    pub fn expect_refused_writes(&self) -> Vec<String> {
        let refused = self.github.refused_writes();
        let from = self
            .leftovers
            .refusals_expected
            .swap(refused.len(), Ordering::SeqCst)
            .min(refused.len());
        refused[from..].to_vec()
    }

    /// The bot's comments on issue or PR `number`, oldest first, marked as seen.
    pub fn bot_comments(&self, number: u64) -> Vec<fake_github::CommentState> {
        let comments: Vec<_> = self
            .github
            .comments(REPO)
            .into_iter()
            .filter(|c| c.issue == number && c.user == fake_github::BOT_LOGIN)
            .collect();
        let mut seen = self
            .leftovers
            .seen
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        seen.extend(comments.iter().map(|c| c.id));
        comments
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

/// A `pull_request` delivery as GitHub sends it for `action` (`opened`, `synchronize`, …).
pub fn pull_payload(action: &str, pull: &fake_github::Pull) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "action": action,
        "number": pull.number,
        "pull_request": {
            "number": pull.number,
            "state": pull.state,
            "merged": false,
            "title": pull.title,
            "user": { "login": pull.user, "type": if pull.user.ends_with("[bot]") { "Bot" } else { "User" } },
            "head": { "ref": pull.head, "sha": pull.head_sha },
            "base": { "ref": pull.base, "sha": "0000000000000000000000000000000000000003" }
        },
        "repository": repository_json(),
        "sender": { "login": pull.user },
        "installation": { "id": INSTALLATION }
    }))
    .unwrap()
}

/// An `issue_comment` delivery for a comment the fake holds.
pub fn comment_payload(
    number: u64,
    is_pull: bool,
    comment_id: u64,
    author: &str,
    body: &str,
) -> Vec<u8> {
    let mut issue = json!({ "number": number, "title": "t", "state": "open" });
    if is_pull {
        issue["pull_request"] =
            json!({ "url": format!("https://api.github.com/repos/{REPO}/pulls/{number}") });
    }
    serde_json::to_vec(&json!({
        "action": "created",
        "issue": issue,
        "comment": {
            "id": comment_id,
            "body": body,
            "user": { "login": author, "type": "User" }
        },
        "repository": repository_json(),
        "sender": { "login": author },
        "installation": { "id": INSTALLATION }
    }))
    .unwrap()
}

impl World {
    /// The fake's view of pull request `number`.
    pub fn pull(&self, number: u64) -> fake_github::Pull {
        self.github
            .pulls(REPO)
            .into_iter()
            .find(|p| p.number == number)
            .unwrap_or_else(|| panic!("no pull request #{number}"))
    }

    /// `author` writes `body` on issue or PR `number`; the webhook is delivered and the jobs
    /// run. Returns the comment id.
    pub async fn say(&self, number: u64, author: &str, body: &str) -> u64 {
        let is_pull = self.github.pulls(REPO).iter().any(|p| p.number == number);
        let id = self.github.comment_by(REPO, number, author, body);
        let status = self
            .deliver(
                "issue_comment",
                &format!("c-{id}"),
                comment_payload(number, is_pull, id, author, body),
            )
            .await;
        assert_eq!(status, 202, "a comment with a command is queued");
        self.work().await;
        id
    }

    /// The bot's reply to comment `comment_id`: the first bot comment on `number` after it
    /// (marked as seen).
    pub fn reply_to(&self, number: u64, comment_id: u64) -> String {
        let reply = self
            .github
            .comments(REPO)
            .into_iter()
            .find(|c| c.issue == number && c.id > comment_id && c.user == fake_github::BOT_LOGIN)
            .unwrap_or_else(|| panic!("no reply to comment {comment_id} on #{number}"));
        self.leftovers
            .seen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(reply.id);
        reply.body
    }

    /// Delivers a push of main's head and runs the scan.
    pub async fn scan_main(&self, delivery: &str) {
        let main = self.github.branch(REPO, "main").unwrap();
        assert_eq!(
            self.deliver("push", delivery, push_payload(&main)).await,
            202
        );
        self.work().await;
    }
}

/// The files a commit changes against its first parent, read through the real client.
pub async fn changed_files(
    forge: &patchwright::forge::github::GitHubForge,
    commit: &str,
) -> std::collections::BTreeMap<String, String> {
    use patchwright::forge::hosted::Forge;
    let info = forge.commit(REPO, commit).await.unwrap();
    let old: std::collections::BTreeMap<String, String> = forge
        .tree(REPO, &info.parents[0])
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.path, e.sha))
        .collect();
    let mut out = std::collections::BTreeMap::new();
    for entry in forge.tree(REPO, commit).await.unwrap() {
        if old.get(&entry.path) != Some(&entry.sha) {
            let bytes = forge.blob(REPO, &entry.sha).await.unwrap();
            out.insert(entry.path, String::from_utf8(bytes).unwrap());
        }
    }
    out
}
