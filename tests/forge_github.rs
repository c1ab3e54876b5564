//! The GitHub client (`forge::github`) against a stateful fake GitHub over HTTP, and once
//! through Prism validating every request against GitHub's official OpenAPI description.

#[path = "fake_github/mod.rs"]
mod fake_github;

use chrono::{DateTime, TimeDelta, Utc};
use fake_github::{APP_ID, FakeGitHub};
use patchwright::forge::github::{ANNOTATIONS_PER_REQUEST, GitHubApp, GitHubForge, Timeouts};
use patchwright::forge::hosted::{
    Annotation, AnnotationLevel, CheckConclusion, CheckRun, FileChange, Forge, ForgeError,
    HeadCheck, Issue, IssueUpdate, NewReviewComment, Reaction, Retry, ReviewComment,
};
use patchwright::infra::clock::{Clock, SystemClock};
use patchwright::infra::metrics::Metrics;
use patchwright::infra::secret::Secret;
use patchwright::service::handler::job_error;
use patchwright::service::jobs::JobError;
use patchwright::web::oauth::GitHubOAuth;
use std::sync::{Arc, Mutex};

const REPO: &str = "octo-org/api";
const INSTALLATION: u64 = 77;
const DOCKERFILE: &str = "FROM node:18-alpine\nUSER node\nCMD [\"node\", \"server.js\"]\n";

/// A clock the test moves.
struct ManualClock(Mutex<DateTime<Utc>>);

impl ManualClock {
    fn new() -> Arc<ManualClock> {
        Arc::new(ManualClock(Mutex::new(Utc::now())))
    }
    fn advance(&self, by: TimeDelta) {
        *self.0.lock().unwrap() += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
}

/// The wall clock, for tests whose fake GitHub tells time by it.
fn wall() -> Arc<dyn Clock> {
    Arc::new(SystemClock)
}

struct Setup {
    fake: FakeGitHub,
    app: GitHubApp,
    forge: GitHubForge,
    clock: Arc<ManualClock>,
    metrics: Arc<Metrics>,
    base: String,
}

async fn setup_at(url: Option<&str>) -> Setup {
    let clock = ManualClock::new();
    let fake = FakeGitHub::start_with_clock(clock.clone()).await;
    fake.add_installation(INSTALLATION, "octo-org");
    let base = fake.seed_repo(
        REPO,
        "main",
        &[
            ("Dockerfile", DOCKERFILE),
            ("services/web/Dockerfile", "FROM python:3.9-slim\n"),
            ("services/web/requirements.txt", "flask==2.0.0\n"),
            ("README.md", "# api\n"),
        ],
    );
    let metrics = Arc::new(Metrics::new());
    let app = GitHubApp::new(
        APP_ID,
        &Secret::new(fake.private_key_pem()),
        url.unwrap_or(&fake.url),
        clock.clone(),
        Some(metrics.clone()),
    )
    .expect("the App client builds");
    let forge = GitHubForge::new(app.clone(), INSTALLATION);
    Setup {
        fake,
        app,
        forge,
        clock,
        metrics,
        base,
    }
}

async fn setup() -> Setup {
    setup_at(None).await
}

const TOKENS: &str = "/app/installations/77/access_tokens";

/// What a sweep asks of an unchanged repository: one conditional request, answered 304, which
/// GitHub does not count against the rate limit (the fake leaves `x-ratelimit-remaining` as it
/// was), shown in the metrics apart from the counted answers.
#[tokio::test]
async fn a_head_check_is_one_conditional_request_and_a_304_is_not_counted() {
    let s = setup().await;
    s.forge.default_branch(REPO).await.unwrap();
    s.fake.clear_requests();
    let check = s
        .forge
        .head_since(REPO, "main", &s.base, None)
        .await
        .unwrap();
    assert_eq!(check, HeadCheck::Unchanged);
    let requests = s.fake.requests();
    assert_eq!(requests.len(), 1, "{requests:#?}");
    assert_eq!(requests[0].path, format!("/repos/{REPO}/commits/main"));
    assert_eq!((requests[0].status, requests[0].counted()), (304, false));
    let metrics = s.metrics.render();
    assert!(
        metrics.contains(r#"route="GET /repos/{owner}/{repo}/commits/{ref}",status="3xx""#),
        "{metrics}"
    );

    // The branch moves: the new head, with its validator, on a counted 200.
    let moved = s.fake.push(
        REPO,
        "main",
        &[("README.md", Some("# api v2\n"))],
        "octocat",
    );
    let check = s
        .forge
        .head_since(REPO, "main", &s.base, None)
        .await
        .unwrap();
    assert_eq!(
        check,
        HeadCheck::Moved {
            head: moved.clone(),
            etag: Some(format!("\"{moved}\"")),
        }
    );
    // A validator GitHub gave is sent back as it was.
    let etag = format!("\"{moved}\"");
    let check = s
        .forge
        .head_since(REPO, "main", &moved, Some(&etag))
        .await
        .unwrap();
    assert_eq!(check, HeadCheck::Unchanged);
    assert_eq!(s.fake.not_modified(), 2);
    assert_eq!(
        s.forge
            .head_since(REPO, "renamed", &moved, None)
            .await
            .unwrap(),
        HeadCheck::Missing
    );
}

#[tokio::test]
async fn one_installation_token_serves_many_calls_until_it_nears_expiry() {
    let s = setup().await;
    for _ in 0..4 {
        s.forge.default_branch(REPO).await.unwrap();
    }
    s.forge.open_pulls(REPO).await.unwrap();
    assert_eq!(s.fake.count("POST", TOKENS), 1);
    assert_eq!(s.fake.count("GET", "/repos/octo-org/api"), 9);

    // 54 minutes into an hour-long token: still more than the 5-minute margin.
    s.clock.advance(TimeDelta::minutes(54));
    s.forge.default_branch(REPO).await.unwrap();
    assert_eq!(s.fake.count("POST", TOKENS), 1);
    // 56 minutes: renewed before GitHub would refuse it.
    s.clock.advance(TimeDelta::minutes(2));
    s.forge.default_branch(REPO).await.unwrap();
    assert_eq!(s.fake.count("POST", TOKENS), 2);
}

/// GitHub slow to mint installation A's token must not hold up installation B: tokens are
/// minted one installation at a time, not one App at a time.
#[tokio::test]
async fn a_slow_token_for_one_installation_does_not_hold_up_another() {
    let s = setup().await;
    s.fake.add_installation(88, "octo-org");
    let gate = s.fake.hold("POST", TOKENS);
    let a = GitHubForge::clone(&s.forge);
    let slow = tokio::spawn(async move { a.default_branch(REPO).await });
    s.fake.arrived("POST", TOKENS, 1).await;

    // A's mint is in GitHub's hands; B's job runs to the end meanwhile. The bound only turns
    // a deadlock into a failure: B needs no time from A.
    let b = GitHubForge::new(s.app.clone(), 88);
    let done = tokio::time::timeout(std::time::Duration::from_secs(30), b.default_branch(REPO))
        .await
        .expect("installation 88 waited for installation 77's token");
    assert_eq!(done.unwrap().0, "main");
    assert!(!slow.is_finished(), "A was still held while B finished");
    assert_eq!(
        s.fake.count("POST", "/app/installations/88/access_tokens"),
        1
    );

    // A second job of A waits for the mint in flight instead of minting again.
    let a2 = GitHubForge::clone(&s.forge);
    let second = tokio::spawn(async move { a2.default_branch(REPO).await });
    tokio::task::yield_now().await;
    gate.open();
    assert_eq!(slow.await.unwrap().unwrap().0, "main");
    assert_eq!(second.await.unwrap().unwrap().0, "main");
    assert_eq!(s.fake.count("POST", TOKENS), 1);
}

/// An `expires_at` in the past (GitHub's API example says 2016), unreadable or missing must
/// not make every call mint a token: one a minute at most.
#[tokio::test]
async fn a_token_whose_expiry_is_past_or_missing_is_minted_at_most_once_a_minute() {
    for told in [
        serde_json::json!("2016-07-11T22:14:10Z"),
        serde_json::json!("soon"),
        serde_json::Value::Null,
    ] {
        let s = setup().await;
        s.fake.tell_token_expiry(told.clone());
        for _ in 0..3 {
            s.forge.default_branch(REPO).await.unwrap();
        }
        assert_eq!(s.fake.count("POST", TOKENS), 1, "{told}");
        s.clock.advance(TimeDelta::seconds(59));
        s.forge.default_branch(REPO).await.unwrap();
        assert_eq!(s.fake.count("POST", TOKENS), 1, "{told}");
        s.clock.advance(TimeDelta::seconds(1));
        s.forge.default_branch(REPO).await.unwrap();
        assert_eq!(s.fake.count("POST", TOKENS), 2, "{told}");
    }
}

/// A GitHub that takes too long is reported as such, not as "client error (SendRequest)".
#[tokio::test]
async fn a_slow_answer_is_reported_as_a_timeout_worth_a_retry() {
    let s = setup().await;
    let app = s
        .app
        .clone()
        .with_timeouts(Timeouts {
            connect: std::time::Duration::from_secs(10),
            answer: std::time::Duration::from_secs(1),
        })
        .unwrap();
    let _gate = s.fake.hold("GET", "/repos/octo-org/api");
    let e = GitHubForge::new(app, INSTALLATION)
        .default_branch(REPO)
        .await
        .unwrap_err();
    assert_eq!(
        e,
        ForgeError::Retryable(
            "GET /repos/{owner}/{repo}: timed out after 1 s reading from GitHub".into()
        )
    );
}

#[tokio::test]
async fn a_jwt_signed_by_another_key_is_refused() {
    let fake = FakeGitHub::start().await;
    fake.add_installation(INSTALLATION, "octo-org");
    fake.seed_repo(REPO, "main", &[("README.md", "x\n")]);
    let mut rng = rsa::rand_core::OsRng;
    let other = rsa::RsaPrivateKey::new(&mut rng, 1024).unwrap();
    let pem = rsa::pkcs1::EncodeRsaPrivateKey::to_pkcs1_pem(&other, rsa::pkcs8::LineEnding::LF)
        .unwrap()
        .to_string();
    let app = GitHubApp::new(APP_ID, &Secret::new(pem), &fake.url, wall(), None).unwrap();
    let err = GitHubForge::new(app, INSTALLATION)
        .default_branch(REPO)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ForgeError::Permanent(m) if m.contains("401") && m.contains("access_tokens")),
        "{err:?}"
    );
    assert_eq!(fake.count("GET", "/repos/"), 0);
}

#[tokio::test]
async fn neither_debug_output_nor_errors_show_the_key_or_tokens() {
    let s = setup().await;
    s.forge.default_branch(REPO).await.unwrap();
    let token = s.app.installation_token(INSTALLATION).await.unwrap();
    let shown = format!("{:?} {:?}", s.app, s.forge);
    assert!(shown.contains("4242"), "{shown}");
    assert!(shown.contains("[redacted]"), "{shown}");
    assert!(!shown.contains(token.expose()), "{shown}");
    let key = s.fake.private_key_pem();
    let key_line = key.lines().nth(1).unwrap();
    assert!(!shown.contains(key_line), "{shown}");
}

#[tokio::test]
async fn tree_and_blob_reads_fetch_each_blob_once() {
    let s = setup().await;
    let (branch, head) = s.forge.default_branch(REPO).await.unwrap();
    assert_eq!((branch.as_str(), head.as_str()), ("main", s.base.as_str()));
    let tree = s.forge.tree(REPO, &head).await.unwrap();
    let paths: Vec<&str> = tree.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "Dockerfile",
            "README.md",
            "services/web/Dockerfile",
            "services/web/requirements.txt"
        ]
    );
    assert!(tree.iter().all(|e| e.mode == "100644"));
    assert_eq!(tree[0].size, Some(DOCKERFILE.len() as u64));

    let blob = s.forge.blob(REPO, &tree[0].sha).await.unwrap();
    assert_eq!(blob, DOCKERFILE.as_bytes());
    let again = s.forge.blob(REPO, &tree[0].sha).await.unwrap();
    assert_eq!(again, blob);
    assert_eq!(s.fake.count("GET", "/repos/octo-org/api/git/blobs/"), 1);
    let stats = s.app.blob_cache().stats();
    assert_eq!((stats.hits, stats.misses), (1, 1));

    // Another installation of the same App shares the cache: same id, same bytes.
    s.fake.add_installation(88, "octo-org");
    let other = GitHubForge::new(s.app.clone(), 88);
    assert_eq!(other.blob(REPO, &tree[0].sha).await.unwrap(), blob);
    assert_eq!(s.fake.count("GET", "/repos/octo-org/api/git/blobs/"), 1);

    let commit = s.forge.commit(REPO, &head).await.unwrap();
    assert_eq!(commit.sha, head);
    assert!(commit.parents.is_empty());
    assert_eq!(commit.author_login.as_deref(), Some("octocat"));
    assert_eq!(commit.message, "Initial commit");
}

#[tokio::test]
async fn a_truncated_tree_is_walked_one_directory_at_a_time() {
    let s = setup().await;
    let whole = s.forge.tree(REPO, &s.base).await.unwrap();
    s.fake.truncate_recursive_trees(true);
    s.fake.clear_requests();
    let walked = s.forge.tree(REPO, &s.base).await.unwrap();
    assert_eq!(walked, whole);
    // The truncated answer, then the root, `services`, `services/web`.
    assert_eq!(s.fake.count("GET", "/repos/octo-org/api/git/trees/"), 4);
}

fn dockerfile_fix() -> Vec<FileChange> {
    vec![FileChange {
        path: "Dockerfile".into(),
        content: DOCKERFILE.replace("node:18-alpine", "node:20-alpine"),
        mode: "100644".into(),
    }]
}

#[tokio::test]
async fn a_fix_becomes_a_commit_a_branch_and_one_pull_request() {
    let s = setup().await;
    let sha = s
        .forge
        .create_commit(REPO, &s.base, &dockerfile_fix(), "Bump node to 20")
        .await
        .unwrap();
    assert_eq!(s.fake.commit_parents(&sha), vec![s.base.clone()]);
    assert_eq!(
        s.fake.file_at(&sha, "Dockerfile").unwrap(),
        DOCKERFILE.replace("node:18-alpine", "node:20-alpine")
    );
    // Untouched files come from the base tree.
    assert_eq!(
        s.fake
            .file_at(&sha, "services/web/requirements.txt")
            .unwrap(),
        "flask==2.0.0\n"
    );
    let info = s.forge.commit(REPO, &sha).await.unwrap();
    assert_eq!(info.message, "Bump node to 20");
    assert_eq!(info.parents, vec![s.base.clone()]);

    assert_eq!(
        s.forge
            .branch_head(REPO, "patchwright/node-20")
            .await
            .unwrap(),
        None
    );
    s.forge
        .create_branch(REPO, "patchwright/node-20", &sha)
        .await
        .unwrap();
    assert_eq!(
        s.forge
            .branch_head(REPO, "patchwright/node-20")
            .await
            .unwrap(),
        Some(sha.clone())
    );
    let pr = s
        .forge
        .create_pull(
            REPO,
            "patchwright/node-20",
            "main",
            "Bump node to 20",
            "risk: low",
        )
        .await
        .unwrap();
    assert_eq!(
        (pr.number, pr.head_sha.as_str(), pr.base_ref.as_str()),
        (1, sha.as_str(), "main")
    );
    assert_eq!(pr.user_login, "patchwright[bot]");
    assert!(!pr.merged);

    let second = s
        .forge
        .create_pull(REPO, "patchwright/node-20", "main", "again", "")
        .await
        .unwrap_err();
    assert!(
        matches!(&second, ForgeError::Conflict(m) if m.contains("already exists")),
        "{second:?}"
    );
    assert_eq!(s.fake.pulls(REPO).len(), 1, "no second PR");
    let open = s.forge.open_pulls(REPO).await.unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].head_ref, "patchwright/node-20");

    s.forge
        .add_labels(REPO, 1, &["patchwright".into(), "security".into()])
        .await
        .unwrap();
    assert_eq!(s.fake.labels(REPO, 1), ["patchwright", "security"]);

    // The blob the fix wrote is cached: a re-scan of the new tree fetches nothing.
    let tree = s.forge.tree(REPO, &sha).await.unwrap();
    let dockerfile = tree.iter().find(|e| e.path == "Dockerfile").unwrap();
    s.forge.blob(REPO, &dockerfile.sha).await.unwrap();
    assert_eq!(s.fake.count("GET", "/repos/octo-org/api/git/blobs/"), 0);

    // Nothing was force-pushed, nothing was deleted.
    assert!(
        s.fake
            .requests()
            .iter()
            .all(|r| r.method != "DELETE" && r.body.get("force") != Some(&serde_json::json!(true)))
    );
    let metrics = s.metrics.render();
    assert!(
        metrics.contains(r#"patchwright_fix_prs_total{action="opened"} 1"#),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_pull_request_is_updated_commented_and_closed_in_place() {
    let s = setup().await;
    let sha = s
        .forge
        .create_commit(REPO, &s.base, &dockerfile_fix(), "Bump")
        .await
        .unwrap();
    s.forge
        .create_branch(REPO, "patchwright/node", &sha)
        .await
        .unwrap();
    let pr = s
        .forge
        .create_pull(REPO, "patchwright/node", "main", "Bump", "v1")
        .await
        .unwrap();

    s.forge
        .update_pull(REPO, pr.number, "Bump node to 20.11", "v2")
        .await
        .unwrap();
    let fresh = s.forge.pull(REPO, pr.number).await.unwrap();
    assert_eq!(
        (fresh.title.as_str(), fresh.body.as_str()),
        ("Bump node to 20.11", "v2")
    );

    let c = s
        .forge
        .create_comment(REPO, pr.number, "status: 1 fixed")
        .await
        .unwrap();
    s.forge
        .update_comment(REPO, c.id, "status: 2 fixed")
        .await
        .unwrap();
    let comments = s.forge.comments(REPO, pr.number).await.unwrap();
    assert_eq!(comments.len(), 1);
    assert_eq!(
        (comments[0].id, comments[0].body.as_str()),
        (c.id, "status: 2 fixed")
    );

    // A human pushes to the base; the bot rebuilds its commit and must force its own branch.
    let moved = s
        .fake
        .push(REPO, "main", &[("README.md", Some("# api v2\n"))], "alice");
    let rebuilt = s
        .forge
        .create_commit(REPO, &moved, &dockerfile_fix(), "Bump")
        .await
        .unwrap();
    let refused = s
        .forge
        .update_branch(REPO, "patchwright/node", &rebuilt, false)
        .await;
    assert!(
        matches!(refused, Err(ForgeError::Conflict(_))),
        "{refused:?}"
    );
    s.forge
        .update_branch(REPO, "patchwright/node", &rebuilt, true)
        .await
        .unwrap();
    assert_eq!(
        s.forge.pull(REPO, pr.number).await.unwrap().head_sha,
        rebuilt
    );

    s.forge.close_pull(REPO, pr.number).await.unwrap();
    assert!(s.forge.open_pulls(REPO).await.unwrap().is_empty());
    assert_eq!(s.fake.pulls(REPO)[0].state, "closed");
    s.forge
        .delete_branch(REPO, "patchwright/node")
        .await
        .unwrap();
    assert_eq!(s.fake.branch(REPO, "patchwright/node"), None);

    s.fake.set_permission(REPO, "alice", "write");
    assert_eq!(s.forge.permission(REPO, "alice").await.unwrap(), "write");
    assert_eq!(s.forge.permission(REPO, "mallory").await.unwrap(), "none");
}

fn annotations(n: usize) -> Vec<Annotation> {
    (0..n)
        .map(|i| Annotation {
            path: "Dockerfile".into(),
            start_line: 1,
            end_line: 1,
            level: AnnotationLevel::Warning,
            title: format!("finding {i}"),
            message: "node:18 is past its end of life".into(),
        })
        .collect()
}

#[tokio::test]
async fn a_check_run_with_120_annotations_takes_three_requests() {
    let s = setup().await;
    s.fake.clear_requests();
    let check = CheckRun {
        name: "patchwright".into(),
        head_sha: s.base.clone(),
        conclusion: CheckConclusion::Failure,
        title: "2 blockers".into(),
        summary: "see annotations".into(),
        annotations: annotations(120),
    };
    let id = s.forge.create_check_run(REPO, &check).await.unwrap();
    let calls: Vec<(String, usize)> = s
        .fake
        .requests()
        .into_iter()
        .filter(|r| r.path.contains("/check-runs"))
        .map(|r| {
            let n = r
                .body
                .pointer("/output/annotations")
                .and_then(|a| a.as_array())
                .map_or(0, Vec::len);
            (r.method, n)
        })
        .collect();
    assert_eq!(
        calls,
        [
            ("POST".to_string(), 50),
            ("PATCH".to_string(), 50),
            ("PATCH".to_string(), 20)
        ]
    );
    assert_eq!(ANNOTATIONS_PER_REQUEST, 50);
    let runs = s.fake.check_runs(REPO);
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].id, id);
    assert_eq!(runs[0].annotations.len(), 120);
    assert_eq!(runs[0].conclusion, "failure");
    assert_eq!(runs[0].annotations[119]["title"], "finding 119");
}

#[tokio::test]
async fn failures_are_classified_for_the_job_runner() {
    let s = setup().await;
    s.forge.default_branch(REPO).await.unwrap(); // mint the token first

    s.fake.fail_next(502, &[], "<html><h1>502 Bad Gateway</h1>");
    let e = s.forge.pull(REPO, 1).await.unwrap_err();
    assert!(
        matches!(&e, ForgeError::Retryable(m) if m.contains("502")),
        "{e:?}"
    );

    s.fake.fail_next(
        403,
        &[
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", "1772370000"),
        ],
        r#"{"message":"API rate limit exceeded for installation ID 77."}"#,
    );
    match s.forge.open_pulls(REPO).await.unwrap_err() {
        ForgeError::RateLimited { until, .. } => {
            assert_eq!(until, DateTime::from_timestamp(1_772_370_000, 0).unwrap())
        }
        other => panic!("{other:?}"),
    }

    s.fake.fail_next(
        429,
        &[("retry-after", "30")],
        r#"{"message":"You have exceeded a secondary rate limit."}"#,
    );
    match s.forge.tree(REPO, &s.base).await.unwrap_err() {
        ForgeError::RateLimited { until, .. } => {
            assert_eq!(until, s.clock.now() + TimeDelta::seconds(30))
        }
        other => panic!("{other:?}"),
    }

    // Real 404 and 422 answers of the fake, not injected ones.
    let e = s.forge.pull(REPO, 999).await.unwrap_err();
    assert!(matches!(&e, ForgeError::NotFound(_)), "{e:?}");
    let e = s
        .forge
        .create_branch(REPO, "main", &s.base)
        .await
        .unwrap_err();
    assert!(
        matches!(&e, ForgeError::Conflict(m) if m.contains("Reference already exists")),
        "{e:?}"
    );
    // A validation error is refused again whatever the wait: the job fails at once.
    assert_eq!(e.retry(), Retry::Never);
    assert!(
        matches!(job_error(e.clone()), JobError::Permanent(m) if m.contains("Reference already exists")),
        "{e:?}"
    );
    // What a person may read names neither the route nor the status.
    let said = e.summary();
    assert!(!said.contains("422") && !said.contains("/repos/"), "{said}");
    let e = s.forge.default_branch("octo-org/../x").await.unwrap_err();
    assert!(matches!(&e, ForgeError::Permanent(_)), "{e:?}");

    let m = s.metrics.render();
    for line in [
        r#"patchwright_github_api_calls_total{route="GET /repos/{owner}/{repo}/pulls/{pull_number}",status="5xx"} 1"#,
        r#"patchwright_github_api_calls_total{route="GET /repos/{owner}/{repo}/pulls/{pull_number}",status="4xx"} 1"#,
        r#"patchwright_github_api_calls_total{route="POST /app/installations/{installation_id}/access_tokens",status="2xx"} 1"#,
    ] {
        assert!(m.lines().any(|l| l == line), "missing {line} in\n{m}");
    }
    assert!(
        m.lines()
            .any(|l| l.starts_with(r#"patchwright_github_rate_limit_remaining{resource="core"} "#)),
        "{m}"
    );
}

#[tokio::test]
async fn a_server_that_does_not_answer_is_worth_a_retry() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let fake = FakeGitHub::start().await;
    let app = GitHubApp::new(
        APP_ID,
        &Secret::new(fake.private_key_pem()),
        &url,
        wall(),
        None,
    )
    .unwrap();
    let e = GitHubForge::new(app.clone(), 1)
        .default_branch(REPO)
        .await
        .unwrap_err();
    assert!(
        matches!(&e, ForgeError::Retryable(m) if m.contains("no answer")),
        "{e:?}"
    );
}

// ---- reviews, review comments, reactions, issues, reviewer requests ---------------------

/// A 20-line Dockerfile on main; alice's branch changes line 10, so the pull request's one
/// hunk shows lines 7 to 13 (3 lines of context each side).
fn long_dockerfile() -> String {
    let mut text = String::from("FROM node:18-alpine\n");
    for i in 2..=20 {
        text.push_str(&format!("RUN step {i}\n"));
    }
    text
}

/// alice's pull request `alice/fix` → main; returns its number and head commit.
fn alice_pull(s: &Setup) -> (u64, String) {
    s.fake.push(
        REPO,
        "main",
        &[("Dockerfile", Some(&long_dockerfile()))],
        "octocat",
    );
    let fixed = long_dockerfile().replace("RUN step 10\n", "RUN step 10 --fixed\n");
    let head = s
        .fake
        .push(REPO, "alice/fix", &[("Dockerfile", Some(&fixed))], "alice");
    let number = s
        .fake
        .open_pull_by(REPO, "alice/fix", "main", "Fix step 10", "alice");
    (number, head)
}

fn on(line: u32, start_line: Option<u32>, body: &str) -> NewReviewComment {
    NewReviewComment {
        path: "Dockerfile".into(),
        line,
        start_line,
        body: body.into(),
    }
}

#[tokio::test]
async fn a_person_can_branch_from_main_and_open_a_pull_request() {
    let s = setup().await;
    let (number, head) = alice_pull(&s);
    // The new branch starts at main's head: its parent is main's latest commit.
    let main = s.fake.branch(REPO, "main").unwrap();
    assert_eq!(s.fake.commit_parents(&head), vec![main]);
    let pr = s.forge.pull(REPO, number).await.unwrap();
    assert_eq!(
        (
            pr.user_login.as_str(),
            pr.head_ref.as_str(),
            pr.head_sha.as_str()
        ),
        ("alice", "alice/fix", head.as_str())
    );
    assert_eq!(
        s.fake.pull_diff_lines(REPO, number, "Dockerfile"),
        (7..=13).collect::<Vec<u32>>()
    );
    assert!(s.fake.pull_diff_lines(REPO, number, "README.md").is_empty());
}

#[tokio::test]
async fn a_review_with_two_comments_reads_back_and_one_is_deleted() {
    let s = setup().await;
    let (number, head) = alice_pull(&s);
    let review = s
        .forge
        .create_review(
            REPO,
            number,
            &head,
            "patchwright: 2 notes",
            &[
                on(10, None, "pin a digest"),
                on(12, Some(11), "```suggestion\nRUN steps 11 and 12\n```"),
            ],
        )
        .await
        .unwrap();
    let reviews = s.fake.reviews(REPO, number);
    assert_eq!(reviews.len(), 1);
    assert_eq!(
        (
            reviews[0].id,
            reviews[0].body.as_str(),
            reviews[0].commit_id.as_str(),
            reviews[0].user.as_str(),
            reviews[0].state.as_str()
        ),
        (
            review,
            "patchwright: 2 notes",
            head.as_str(),
            fake_github::BOT_LOGIN,
            "COMMENTED"
        )
    );
    let stored = s.fake.review_comments(REPO, number);
    assert_eq!(
        stored
            .iter()
            .map(|c| (c.start_line, c.line))
            .collect::<Vec<_>>(),
        [(None, 10), (Some(11), 12)]
    );
    assert_eq!(
        reviews[0].comment_ids,
        stored.iter().map(|c| c.id).collect::<Vec<_>>()
    );

    let read = s.forge.review_comments(REPO, number).await.unwrap();
    assert_eq!(
        read,
        vec![
            ReviewComment {
                id: stored[0].id,
                path: "Dockerfile".into(),
                line: Some(10),
                body: "pin a digest".into(),
                user_login: fake_github::BOT_LOGIN.into(),
                in_reply_to: None,
            },
            ReviewComment {
                id: stored[1].id,
                path: "Dockerfile".into(),
                line: Some(12),
                body: "```suggestion\nRUN steps 11 and 12\n```".into(),
                user_login: fake_github::BOT_LOGIN.into(),
                in_reply_to: None,
            },
        ]
    );

    // alice answers the first; then the bot deletes it. Her reply stays, as on GitHub.
    let reply = s
        .fake
        .reply_to_review_comment(REPO, number, stored[0].id, "alice", "done");
    s.forge
        .delete_review_comment(REPO, stored[0].id)
        .await
        .unwrap();
    let read = s.forge.review_comments(REPO, number).await.unwrap();
    assert_eq!(
        read.iter()
            .map(|c| (c.id, c.user_login.as_str(), c.in_reply_to))
            .collect::<Vec<_>>(),
        [
            (stored[1].id, fake_github::BOT_LOGIN, None),
            (reply, "alice", Some(stored[0].id))
        ]
    );
    let gone = s.forge.delete_review_comment(REPO, stored[0].id).await;
    assert!(matches!(gone, Err(ForgeError::NotFound(_))), "{gone:?}");
}

#[tokio::test]
async fn review_comments_off_the_diff_are_refused_and_nothing_is_stored() {
    let s = setup().await;
    let (number, head) = alice_pull(&s);
    let cases: [(NewReviewComment, &str); 4] = [
        (on(2, None, "x"), "must be part of the diff"),
        (on(14, None, "x"), "must be part of the diff"),
        (on(8, Some(5), "x"), "same hunk"),
        (
            NewReviewComment {
                path: "README.md".into(),
                ..on(1, None, "x")
            },
            "Path could not be resolved",
        ),
    ];
    for (bad, said) in cases {
        let what = format!("{}:{:?}..{}", bad.path, bad.start_line, bad.line);
        // A good comment first: the whole review is refused, not just the bad comment.
        let e = s
            .forge
            .create_review(REPO, number, &head, "", &[on(10, None, "ok"), bad])
            .await
            .unwrap_err();
        assert!(
            matches!(&e, ForgeError::Conflict(m) if m.contains("422") && m.contains(said)),
            "{what}: {e:?}"
        );
    }
    assert!(s.fake.reviews(REPO, number).is_empty());
    assert!(
        s.forge
            .review_comments(REPO, number)
            .await
            .unwrap()
            .is_empty()
    );
    // Refused before any request: a range that ends before it starts.
    s.fake.clear_requests();
    let e = s
        .forge
        .create_review(REPO, number, &head, "", &[on(9, Some(12), "x")])
        .await
        .unwrap_err();
    assert!(
        matches!(&e, ForgeError::Permanent(m) if m.contains("start_line 12")),
        "{e:?}"
    );
    assert_eq!(s.fake.count("POST", "/repos/"), 0);
}

#[tokio::test]
async fn comments_follow_their_line_until_it_changes_then_read_as_outdated() {
    let s = setup().await;
    let (number, first_head) = alice_pull(&s);
    s.forge
        .create_review(
            REPO,
            number,
            &first_head,
            "",
            &[on(10, None, "the fix"), on(12, Some(11), "context")],
        )
        .await
        .unwrap();
    let lines = |c: Vec<ReviewComment>| c.into_iter().map(|c| c.line).collect::<Vec<_>>();

    // alice adds a line at the top: both comments move down one line.
    let moved = format!(
        "# syntax=docker/dockerfile:1\n{}",
        long_dockerfile().replace("RUN step 10\n", "RUN step 10 --fixed\n")
    );
    let second_head = s
        .fake
        .push(REPO, "alice/fix", &[("Dockerfile", Some(&moved))], "alice");
    assert_eq!(
        lines(s.forge.review_comments(REPO, number).await.unwrap()),
        [Some(11), Some(13)]
    );

    // Then she rewrites the fixed line: that comment is outdated, the other still holds.
    let rewritten = moved.replace("RUN step 10 --fixed\n", "RUN step 10 --fixed --again\n");
    s.fake.push(
        REPO,
        "alice/fix",
        &[("Dockerfile", Some(&rewritten))],
        "alice",
    );
    assert_eq!(
        lines(s.forge.review_comments(REPO, number).await.unwrap()),
        [None, Some(13)]
    );

    // A review on a commit that is no longer the head is accepted, as on GitHub; its lines
    // count in that commit.
    s.forge
        .create_review(REPO, number, &second_head, "", &[on(11, None, "late")])
        .await
        .unwrap();
    assert_eq!(s.fake.reviews(REPO, number)[1].commit_id, second_head);
    assert_eq!(
        lines(s.forge.review_comments(REPO, number).await.unwrap()),
        [None, Some(13), None]
    );
}

#[tokio::test]
async fn reactions_on_a_persons_comment_are_kept_once_each() {
    let s = setup().await;
    let (number, _) = alice_pull(&s);
    let id = s
        .fake
        .comment_by(REPO, number, "alice", "@patchwright explain");
    let seen = s.forge.comments(REPO, number).await.unwrap();
    assert_eq!(
        seen.iter()
            .map(|c| (c.id, c.user_login.as_str()))
            .collect::<Vec<_>>(),
        [(id, "alice")]
    );
    s.forge.react(REPO, id, Reaction::Eyes).await.unwrap();
    // The same reaction again: GitHub answers 200 with the existing one; still success.
    s.forge.react(REPO, id, Reaction::Eyes).await.unwrap();
    s.forge.react(REPO, id, Reaction::PlusOne).await.unwrap();
    assert_eq!(s.fake.reactions(REPO, id), ["eyes", "+1"]);
    assert_eq!(
        s.fake.count(
            "POST",
            &format!("/repos/octo-org/api/issues/comments/{id}/reactions")
        ),
        3
    );
    let e = s
        .forge
        .react(REPO, 999_999, Reaction::Rocket)
        .await
        .unwrap_err();
    assert!(matches!(&e, ForgeError::NotFound(_)), "{e:?}");
}

#[tokio::test]
async fn an_issue_is_created_read_updated_closed_and_reopened() {
    let s = setup().await;
    let (pr, _) = alice_pull(&s);
    assert_eq!(pr, 1);
    let created = s
        .forge
        .create_issue(
            REPO,
            "patchwright: 2 open findings",
            "- node:18 is past its end of life",
            &["security".into(), "patchwright".into()],
            &["alice".into()],
        )
        .await
        .unwrap();
    // Issues and pull requests share one number sequence.
    let expected = Issue {
        number: 2,
        title: "patchwright: 2 open findings".into(),
        body: "- node:18 is past its end of life".into(),
        state: "open".into(),
        assignees: vec!["alice".into()],
        labels: vec!["security".into(), "patchwright".into()],
        user_login: fake_github::BOT_LOGIN.into(),
    };
    assert_eq!(created, expected);
    assert_eq!(s.forge.issue(REPO, 2).await.unwrap(), expected);
    let bot_pr = s
        .forge
        .create_pull(REPO, "alice/fix", "main", "t", "")
        .await
        .unwrap_err();
    assert!(
        matches!(bot_pr, ForgeError::Conflict(_)),
        "one open PR per head"
    );
    s.fake.push(
        REPO,
        "patchwright/x",
        &[("README.md", Some("x\n"))],
        "octocat",
    );
    let next = s
        .forge
        .create_pull(REPO, "patchwright/x", "main", "t", "")
        .await
        .unwrap();
    assert_eq!(next.number, 3);

    s.forge
        .update_issue(
            REPO,
            2,
            &IssueUpdate {
                title: Some("patchwright: 1 open finding".into()),
                assignees: Some(vec!["bob".into(), "carol".into()]),
                ..IssueUpdate::default()
            },
        )
        .await
        .unwrap();
    let read = s.forge.issue(REPO, 2).await.unwrap();
    assert_eq!(read.title, "patchwright: 1 open finding");
    assert_eq!(read.body, expected.body, "the body is left as it was");
    assert_eq!(read.assignees, ["bob", "carol"]);

    // Conversation comments and labels work on an issue's number as on a pull request's.
    s.forge.create_comment(REPO, 2, "progress").await.unwrap();
    assert_eq!(s.forge.comments(REPO, 2).await.unwrap()[0].body, "progress");
    s.forge.add_labels(REPO, 2, &["sla".into()]).await.unwrap();
    assert_eq!(
        s.forge.issue(REPO, 2).await.unwrap().labels,
        ["security", "patchwright", "sla"]
    );

    let close = IssueUpdate {
        open: Some(false),
        ..IssueUpdate::default()
    };
    s.forge.update_issue(REPO, 2, &close).await.unwrap();
    let state = &s.fake.issues(REPO)[0];
    assert_eq!(
        (state.state.as_str(), state.state_reason.as_deref()),
        ("closed", Some("completed"))
    );
    assert_eq!(s.forge.issue(REPO, 2).await.unwrap().state, "closed");
    let reopen = IssueUpdate {
        open: Some(true),
        ..IssueUpdate::default()
    };
    s.forge.update_issue(REPO, 2, &reopen).await.unwrap();
    let state = &s.fake.issues(REPO)[0];
    assert_eq!(
        (state.state.as_str(), state.state_reason.as_deref()),
        ("open", Some("reopened"))
    );

    // Nothing to change: no request at all.
    let before = s.fake.count("PATCH", "/repos/octo-org/api/issues/2");
    s.forge
        .update_issue(REPO, 2, &IssueUpdate::default())
        .await
        .unwrap();
    assert_eq!(
        s.fake.count("PATCH", "/repos/octo-org/api/issues/2"),
        before
    );

    // Only issues are listed as issues; a pull request's number still reads as one.
    assert_eq!(s.fake.issues(REPO).len(), 1);
    assert_eq!(s.forge.issue(REPO, 1).await.unwrap().title, "Fix step 10");
    let e = s.forge.issue(REPO, 99).await.unwrap_err();
    assert!(matches!(&e, ForgeError::NotFound(_)), "{e:?}");
}

#[tokio::test]
async fn reviews_are_requested_from_people_and_teams_but_never_the_author() {
    let s = setup().await;
    let (number, _) = alice_pull(&s);
    s.forge
        .request_reviewers(REPO, number, &["bob".into()], &["security".into()])
        .await
        .unwrap();
    s.forge
        .request_reviewers(REPO, number, &["bob".into(), "carol".into()], &[])
        .await
        .unwrap();
    assert_eq!(
        s.fake.requested_reviewers(REPO, number),
        (
            vec!["bob".to_string(), "carol".to_string()],
            vec!["security".to_string()]
        )
    );
    let e = s
        .forge
        .request_reviewers(REPO, number, &["alice".into(), "dave".into()], &[])
        .await
        .unwrap_err();
    assert!(
        matches!(&e, ForgeError::Conflict(m) if m.contains("Review cannot be requested from pull request author")),
        "{e:?}"
    );
    assert_eq!(
        s.fake.requested_reviewers(REPO, number).0,
        ["bob", "carol"],
        "all or nothing"
    );
    // No one to ask: no request.
    s.fake.clear_requests();
    s.forge
        .request_reviewers(REPO, number, &[], &[])
        .await
        .unwrap();
    assert_eq!(s.fake.requests().len(), 0);
}

// ---- merge bases: where a pull request's three-dot diff starts ---------------------------

/// main moves on after alice cut `alice/fix` from it: returns (fork point, main's head,
/// alice's head).
fn main_moved_on(s: &Setup) -> (String, String, String) {
    let fork = s.base.clone();
    let fixed = DOCKERFILE.replace("node:18-alpine", "node:20-alpine");
    let head = s
        .fake
        .push(REPO, "alice/fix", &[("Dockerfile", Some(&fixed))], "alice");
    let main = s.fake.push(
        REPO,
        "main",
        &[("README.md", Some("# api v2\n"))],
        "octocat",
    );
    (fork, main, head)
}

#[tokio::test]
async fn the_merge_base_of_a_branch_is_its_fork_point_not_mains_head() {
    let s = setup().await;
    let (fork, main, head) = main_moved_on(&s);
    assert_ne!(fork, main);
    assert_eq!(
        s.forge.merge_base(REPO, "main", "alice/fix").await.unwrap(),
        fork
    );
    // The branch with `/` travels as one encoded segment, and one commit per page is asked.
    assert_eq!(
        s.fake.requests().last().map(|r| r.path.as_str()),
        Some("/repos/octo-org/api/compare/main...alice%2Ffix?per_page=1")
    );
    // Shas, and a sha against a branch name, give the same answer; so does the other order.
    assert_eq!(s.forge.merge_base(REPO, &main, &head).await.unwrap(), fork);
    assert_eq!(s.forge.merge_base(REPO, "main", &head).await.unwrap(), fork);
    assert_eq!(
        s.forge.merge_base(REPO, "alice/fix", "main").await.unwrap(),
        fork
    );
}

#[tokio::test]
async fn a_branch_equal_to_main_or_ahead_of_it_has_mains_head_as_merge_base() {
    let s = setup().await;
    let main = s
        .fake
        .push(REPO, "main", &[("README.md", Some("# v2\n"))], "octocat");
    s.forge.create_branch(REPO, "same", &main).await.unwrap();
    assert_eq!(
        s.forge.merge_base(REPO, "main", "same").await.unwrap(),
        main
    );
    assert_eq!(s.forge.merge_base(REPO, &main, &main).await.unwrap(), main);
    // A branch cut from main's head and not yet overtaken.
    s.fake
        .push(REPO, "ahead", &[("README.md", Some("# v3\n"))], "alice");
    assert_eq!(
        s.forge.merge_base(REPO, "main", "ahead").await.unwrap(),
        main
    );
    // Behind: main is a descendant of the older commit.
    assert_eq!(
        s.forge.merge_base(REPO, "main", &s.base).await.unwrap(),
        s.base
    );
}

#[tokio::test]
async fn merges_move_the_merge_base_to_the_best_common_ancestor() {
    let s = setup().await;
    // bob's branch from the first commit; main moves on (m1); alice cuts her branch from m1
    // and commits three times; main moves on again (m2).
    s.fake
        .push(REPO, "bob/old", &[("NOTES", Some("bob\n"))], "bob");
    let m1 = s
        .fake
        .push(REPO, "main", &[("README.md", Some("1\n"))], "octocat");
    for i in 1..=3 {
        let text = format!("{i}\n");
        s.fake.push(
            REPO,
            "alice/fix",
            &[("a.txt", Some(text.as_str()))],
            "alice",
        );
    }
    let m2 = s
        .fake
        .push(REPO, "main", &[("README.md", Some("2\n"))], "octocat");
    // alice merges bob's branch: the first commit is now two steps from her head, m1 five, but
    // m1 is the better common ancestor (the first commit is one of its ancestors).
    s.fake.merge(REPO, "alice/fix", "bob/old", &[], "alice");
    assert_eq!(
        s.forge.merge_base(REPO, "main", "alice/fix").await.unwrap(),
        m1
    );
    // alice brings main in: her branch now contains main's head.
    s.fake.merge(REPO, "alice/fix", "main", &[], "alice");
    assert_eq!(
        s.forge.merge_base(REPO, "main", "alice/fix").await.unwrap(),
        m2
    );
}

#[tokio::test]
async fn the_compare_answer_is_kept_to_one_commit() {
    let s = setup().await;
    let (fork, main, head) = main_moved_on(&s);
    s.fake
        .push(REPO, "alice/fix", &[("b.txt", Some("b\n"))], "alice");
    let token = s.app.installation_token(INSTALLATION).await.unwrap();
    let compare = |query: &'static str| {
        let url = format!(
            "{}/repos/{REPO}/compare/main...alice%2Ffix{query}",
            s.fake.url
        );
        let token = token.clone();
        async move {
            let (status, text) = raw_request("GET", &url, token.expose(), None).await;
            assert_eq!(status, 200, "{text}");
            serde_json::from_str::<serde_json::Value>(&text).unwrap()
        }
    };
    let paged = compare("?per_page=1").await;
    assert_eq!(paged["merge_base_commit"]["sha"], fork.as_str());
    assert_eq!(paged["base_commit"]["sha"], main.as_str());
    assert_eq!(
        (
            &paged["status"],
            &paged["ahead_by"],
            &paged["behind_by"],
            &paged["total_commits"]
        ),
        (
            &serde_json::json!("diverged"),
            &serde_json::json!(2),
            &serde_json::json!(1),
            &serde_json::json!(2)
        )
    );
    // Oldest first, one per page.
    let listed = paged["commits"].as_array().unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["sha"], head.as_str());
    assert_eq!(compare("").await["commits"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn an_unknown_ref_or_sha_is_not_found_and_a_bad_one_is_refused() {
    let s = setup().await;
    for (base, head) in [
        ("main", "no-such-branch"),
        ("gone/branch", "main"),
        ("main", "0123456789abcdef0123456789abcdef01234567"),
    ] {
        let e = s.forge.merge_base(REPO, base, head).await.unwrap_err();
        assert!(
            matches!(&e, ForgeError::NotFound(m) if m.contains("/compare/{basehead}")),
            "{base}...{head}: {e:?}"
        );
    }
    let before = s.fake.requests().len();
    for (base, head) in [("main", ""), ("main..x", "main")] {
        let e = s.forge.merge_base(REPO, base, head).await.unwrap_err();
        assert!(matches!(&e, ForgeError::Permanent(_)), "{e:?}");
    }
    assert_eq!(s.fake.requests().len(), before, "nothing was sent");
}

// ---- Prism: every request checked against GitHub's official OpenAPI description --------

/// Where scripts/test-deps-github.sh installed Prism and `@octokit/openapi`.
fn test_deps() -> std::path::PathBuf {
    std::env::var_os("PATCHWRIGHT_TEST_DEPS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/.test-deps").into())
}

/// Rewrites every schema that says `nullable: true` without a `type` (GitHub's description
/// has ~130, e.g. a commit's `author`, an issue's `milestone`) as "null, or the schema
/// without `nullable`"; returns how many. Prism's validator refuses to compile such a schema
/// and then silently skips the check, so without this the responses of the compare, commit
/// and issue routes (and the issue requests) would pass unchecked.
fn nullable_without_type(v: &mut serde_json::Value) -> usize {
    use serde_json::{Value, json};
    let mut count = 0;
    match v {
        Value::Object(map) => {
            for child in map.values_mut() {
                count += nullable_without_type(child);
            }
            if map.get("nullable") == Some(&Value::Bool(true)) && !map.contains_key("type") {
                map.remove("nullable");
                let constrained = map.keys().any(|k| {
                    !matches!(
                        k.as_str(),
                        "description" | "title" | "example" | "examples" | "readOnly"
                    )
                });
                // With no constraint left the schema already admits null.
                if constrained {
                    let rest = std::mem::take(map);
                    map.insert(
                        "anyOf".into(),
                        json!([{ "type": "null" }, Value::Object(rest)]),
                    );
                }
                count += 1;
            }
        }
        Value::Array(items) => {
            for item in items {
                count += nullable_without_type(item);
            }
        }
        _ => {}
    }
    count
}

/// A running `prism proxy`, killed (by its own process id) when dropped.
struct Prism {
    child: std::process::Child,
    url: String,
    log: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Prism {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Prism {
    /// Starts Prism in front of `upstream` and waits until it listens (loading GitHub's
    /// description takes half a minute or more).
    fn start(upstream: &str) -> Prism {
        let deps = test_deps();
        let bin = deps.join("node_modules/.bin/prism");
        let spec = deps.join("node_modules/@octokit/openapi/generated/api.github.com.json");
        assert!(
            bin.exists() && spec.exists(),
            "Prism or GitHub's OpenAPI description is missing under {} (looked for {} and {}): \
             run scripts/test-deps-github.sh (or set PATCHWRIGHT_TEST_DEPS)",
            deps.display(),
            bin.display(),
            spec.display()
        );
        // GitHub's paths sit at the server root: a path prefix in `servers` would make Prism
        // and the client disagree on every route.
        let mut doc: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&spec).unwrap()).unwrap();
        assert_eq!(doc["servers"][0]["url"], "https://api.github.com");
        let dir = tempfile::tempdir().unwrap();
        let rewritten = nullable_without_type(&mut doc);
        assert!(
            rewritten > 0,
            "GitHub's description changed: nothing to rewrite"
        );
        // The commit route's own description tells clients to send the sha as the ETag to
        // learn whether a ref moved, and GitHub then answers 304, as on the 158 routes whose
        // responses list it; this one's list leaves it out. Only the answer side is added: the
        // request is checked as published.
        let commit_route = &mut doc["paths"]["/repos/{owner}/{repo}/commits/{ref}"]["get"];
        assert!(
            commit_route["description"]
                .as_str()
                .is_some_and(|d| d.contains("as the ETag")),
            "GitHub's description of GET commits/{{ref}} changed: recheck the 304"
        );
        commit_route["responses"]["304"] =
            serde_json::json!({ "$ref": "#/components/responses/not_modified" });
        let spec = dir.path().join("api.github.com.json");
        std::fs::write(&spec, serde_json::to_vec(&doc).unwrap()).unwrap();

        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let log = dir.path().join("prism.log");
        let out = std::fs::File::create(&log).unwrap();
        let child = std::process::Command::new(&bin)
            .arg("proxy")
            .arg(&spec)
            .arg(upstream)
            .args([
                "--errors",
                "--host",
                "127.0.0.1",
                "--port",
                &port.to_string(),
            ])
            .stdin(std::process::Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .expect("start prism");
        let mut prism = Prism {
            child,
            url: format!("http://127.0.0.1:{port}"),
            log,
            _dir: dir,
        };
        let started = std::time::Instant::now();
        loop {
            if std::fs::read_to_string(&prism.log)
                .unwrap_or_default()
                .contains("Prism is listening")
            {
                break;
            }
            if let Ok(Some(status)) = prism.child.try_wait() {
                panic!("prism exited with {status}:\n{}", prism.log_tail(40));
            }
            assert!(
                started.elapsed() < std::time::Duration::from_secs(300),
                "prism did not listen within 300 s:\n{}",
                prism.log_tail(40)
            );
            std::thread::sleep(std::time::Duration::from_millis(250));
        }
        eprintln!("prism listening after {:?}", started.elapsed());
        prism
    }

    fn log_tail(&self, n: usize) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }

    /// What Prism said after it started listening (its start-up lists every route).
    fn traffic(&self) -> Vec<String> {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        text.lines()
            .skip_while(|l| !l.contains("Prism is listening"))
            .map(str::to_string)
            .collect()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_forge_call_passes_githubs_openapi_description() {
    let fake = FakeGitHub::start().await;
    fake.add_installation(INSTALLATION, "octo-org");
    let base = fake.seed_repo(
        REPO,
        "main",
        &[
            ("Dockerfile", DOCKERFILE),
            ("services/web/Dockerfile", "FROM python:3.9-slim\n"),
        ],
    );
    fake.set_permission(REPO, "alice", "admin");
    let upstream = fake.url.clone();
    let started = std::time::Instant::now();
    let prism = tokio::task::spawn_blocking(move || Prism::start(&upstream))
        .await
        .unwrap();
    let load = started.elapsed();

    let app = GitHubApp::new(
        APP_ID,
        &Secret::new(fake.private_key_pem()),
        &prism.url,
        wall(),
        None,
    )
    .unwrap();
    let f = GitHubForge::new(app.clone(), INSTALLATION);
    let mut failures: Vec<String> = Vec::new();
    macro_rules! call {
        ($what:expr, $e:expr) => {
            match $e.await {
                Ok(v) => Some(v),
                Err(err) => {
                    failures.push(format!("{}: {err}", $what));
                    None
                }
            }
        };
    }
    call!("default_branch", f.default_branch(REPO));
    // The sweep's conditional request (sha media type, If-None-Match): a 304 when the branch
    // is where it was, the new sha when it moved, `Missing` when it is gone.
    let checks = [
        (
            "head_since (unchanged)",
            "main",
            base.clone(),
            HeadCheck::Unchanged,
        ),
        (
            "head_since (moved)",
            "main",
            "0".repeat(40),
            HeadCheck::Moved {
                head: base.clone(),
                etag: Some(format!("\"{base}\"")),
            },
        ),
        (
            "head_since (gone)",
            "gone",
            base.clone(),
            HeadCheck::Missing,
        ),
    ];
    for (what, branch, known, expected) in checks {
        let found = call!(what, f.head_since(REPO, branch, &known, None));
        if found.as_ref().is_some_and(|found| *found != expected) {
            failures.push(format!("{what}: {found:?}, expected {expected:?}"));
        }
    }
    let tree = call!("tree", f.tree(REPO, &base)).unwrap_or_default();
    if let Some(first) = tree.first() {
        call!("blob", f.blob(REPO, &first.sha));
    }
    call!("commit", f.commit(REPO, &base));
    call!(
        "branch_head (missing)",
        f.branch_head(REPO, "patchwright/node-20")
    );
    let sha = call!(
        "create_commit",
        f.create_commit(REPO, &base, &dockerfile_fix(), "Bump node")
    )
    .unwrap_or_default();
    call!(
        "create_branch",
        f.create_branch(REPO, "patchwright/node-20", &sha)
    );
    call!("branch_head", f.branch_head(REPO, "patchwright/node-20"));
    let next = call!(
        "create_commit (on top)",
        f.create_commit(REPO, &sha, &dockerfile_fix(), "Again")
    )
    .unwrap_or_default();
    call!(
        "update_branch",
        f.update_branch(REPO, "patchwright/node-20", &next, false)
    );
    // A branch with `/` two commits ahead of main: the merge base is main's head.
    let merge_base = call!(
        "merge_base",
        f.merge_base(REPO, "main", "patchwright/node-20")
    );
    if merge_base.as_deref() != Some(base.as_str()) {
        failures.push(format!("merge_base: {merge_base:?}, expected {base}"));
    }
    // GitHub's 404 for a ref it does not know must match its description too.
    let unknown = f.merge_base(REPO, "main", "no-such-branch").await;
    if !matches!(&unknown, Err(ForgeError::NotFound(_))) {
        failures.push(format!("merge_base of an unknown ref: {unknown:?}"));
    }
    let pr = call!(
        "create_pull",
        f.create_pull(REPO, "patchwright/node-20", "main", "Bump node", "body")
    );
    let number = pr.map_or(1, |p| p.number);
    call!("open_pulls", f.open_pulls(REPO));
    call!("pull", f.pull(REPO, number));
    call!(
        "update_pull",
        f.update_pull(REPO, number, "Bump node to 20", "body v2")
    );
    call!(
        "add_labels",
        f.add_labels(REPO, number, &["security".to_string()])
    );
    let comment = call!("create_comment", f.create_comment(REPO, number, "status"));
    if let Some(c) = comment {
        call!("update_comment", f.update_comment(REPO, c.id, "status v2"));
    }
    call!("comments", f.comments(REPO, number));
    let check = CheckRun {
        name: "patchwright".into(),
        head_sha: next.clone(),
        conclusion: CheckConclusion::Neutral,
        title: "1 warning".into(),
        summary: "summary".into(),
        annotations: annotations(60),
    };
    call!("create_check_run", f.create_check_run(REPO, &check));
    call!("permission", f.permission(REPO, "alice"));

    // Reviews: the fix changed line 1 of a 3-line Dockerfile, so lines 1 to 3 are in the diff.
    call!(
        "create_review",
        f.create_review(
            REPO,
            number,
            &next,
            "patchwright: 2 notes",
            &[
                NewReviewComment {
                    path: "Dockerfile".into(),
                    line: 1,
                    start_line: None,
                    body: "pin a digest".into(),
                },
                NewReviewComment {
                    path: "Dockerfile".into(),
                    line: 3,
                    start_line: Some(2),
                    body: "```suggestion\nUSER node\n```".into(),
                },
            ],
        )
    );
    call!(
        "create_review (no body)",
        f.create_review(
            REPO,
            number,
            &next,
            "",
            &[NewReviewComment {
                path: "Dockerfile".into(),
                line: 2,
                start_line: None,
                body: "note".into(),
            }],
        )
    );
    // GitHub's error answer for a line off the diff must match its description too.
    let off_diff = f
        .create_review(
            REPO,
            number,
            &next,
            "",
            &[NewReviewComment {
                path: "Dockerfile".into(),
                line: 9,
                start_line: None,
                body: "x".into(),
            }],
        )
        .await;
    if !matches!(&off_diff, Err(ForgeError::Conflict(m)) if m.contains("must be part of the diff"))
    {
        failures.push(format!("create_review off the diff: {off_diff:?}"));
    }
    let review_comments =
        call!("review_comments", f.review_comments(REPO, number)).unwrap_or_default();
    if review_comments.len() != 3 {
        failures.push(format!("review_comments: {review_comments:?}"));
    }
    if let Some(first) = review_comments.first() {
        call!(
            "delete_review_comment",
            f.delete_review_comment(REPO, first.id)
        );
    }
    call!(
        "request_reviewers",
        f.request_reviewers(REPO, number, &["alice".into()], &["security".into()])
    );
    let person = fake.comment_by(REPO, number, "alice", "@patchwright explain");
    call!("react (201)", f.react(REPO, person, Reaction::Eyes));
    call!("react (200)", f.react(REPO, person, Reaction::Eyes));
    call!("react (+1)", f.react(REPO, person, Reaction::PlusOne));

    // Issues.
    let issue = call!(
        "create_issue",
        f.create_issue(
            REPO,
            "patchwright: 1 open finding",
            "- node:18",
            &["security".into()],
            &["alice".into()],
        )
    );
    let issue_number = issue.map_or(2, |i| i.number);
    call!("issue", f.issue(REPO, issue_number));
    call!(
        "update_issue",
        f.update_issue(
            REPO,
            issue_number,
            &IssueUpdate {
                title: Some("patchwright: no open findings".into()),
                body: Some("all fixed".into()),
                assignees: Some(vec![]),
                ..IssueUpdate::default()
            }
        )
    );
    let closing = IssueUpdate {
        open: Some(false),
        ..IssueUpdate::default()
    };
    call!(
        "update_issue (close)",
        f.update_issue(REPO, issue_number, &closing)
    );
    let reopening = IssueUpdate {
        open: Some(true),
        assignees: Some(vec!["alice".into()]),
        ..IssueUpdate::default()
    };
    call!(
        "update_issue (reopen)",
        f.update_issue(REPO, issue_number, &reopening)
    );
    call!("issue (a pull request's number)", f.issue(REPO, number));

    call!("close_pull", f.close_pull(REPO, number));
    call!(
        "delete_branch",
        f.delete_branch(REPO, "patchwright/node-20")
    );

    // The dashboard's calls: sign-in's `/user` routes and `/setup`'s manifest conversion go
    // through Prism; the browser's pages on github.com (authorize, new App) are not REST API
    // routes, so the browser goes to the fake directly.
    let direct_before = fake.requests().len();
    fake.add_oauth_user("alice", INSTALLATION, &[(4711, REPO)]);
    fake.browser_signed_in_as("alice");
    let oauth = GitHubOAuth::new(&fake.url, &prism.url, "Iv1.prism", Secret::new("s")).unwrap();
    let back = browser_redirect(
        "GET",
        &oauth.authorize_url("https://pw.example.com/oauth/callback", "st"),
        None,
    )
    .await;
    let code = query_value(&back, "code");
    let user_token = oauth
        .exchange(&code, "https://pw.example.com/oauth/callback")
        .await
        .unwrap();
    let manifest = patchwright::web::setup::manifest("https://pw.example.com", "pw-prism");
    let form = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("manifest", &manifest.to_string())
        .finish();
    let back = browser_redirect(
        "POST",
        &format!("{}/settings/apps/new?state=st", fake.url),
        Some(form),
    )
    .await;
    let manifest_code = query_value(&back, "code");
    let direct = fake.requests().len() - direct_before;
    assert_eq!(direct, 3, "authorize, token, new App");
    match call!("signed_in (/user routes)", oauth.signed_in(&user_token)) {
        Some(person) if person.login == "alice" && person.repository_ids == [4711] => {}
        Some(person) => failures.push(format!("signed_in: {person:?}")),
        None => {}
    }
    if let Some(created) = call!("convert_manifest", oauth.convert_manifest(&manifest_code))
        && (created.id <= 0 || created.pem.expose() != fake.private_key_pem())
    {
        failures.push(format!("convert_manifest: app {}", created.id));
    }

    let traffic = prism.traffic();
    let violations: Vec<&String> = traffic
        .iter()
        .filter(|l| l.contains("Violation") || l.contains("✖"))
        .collect();
    let forwarded = traffic.iter().filter(|l| l.contains("Forwarding")).count();
    eprintln!("prism: loaded in {load:?}, {forwarded} requests forwarded");
    assert!(
        failures.is_empty() && violations.is_empty(),
        "through Prism:\nfailed calls: {failures:#?}\nviolations: {violations:#?}"
    );
    // Every API call went through Prism to the fake (token minting included).
    assert_eq!(forwarded, fake.requests().len() - direct);
    assert!(forwarded >= 40, "{forwarded}");
    assert_eq!(fake.check_runs(REPO)[0].annotations.len(), 60);
    // The calls did what they say, so Prism saw real answers, not errors.
    assert_eq!(fake.reviews(REPO, number).len(), 2);
    assert_eq!(fake.review_comments(REPO, number).len(), 2);
    assert_eq!(fake.reactions(REPO, person), ["eyes", "+1"]);
    assert_eq!(
        fake.issues(REPO)[0].state_reason.as_deref(),
        Some("reopened")
    );
    assert_eq!(
        fake.requested_reviewers(REPO, number),
        (vec!["alice".to_string()], vec!["security".to_string()])
    );

    // And Prism does check the new routes' requests: a review comment whose line is text
    // is refused before it reaches the fake.
    let token = app.installation_token(INSTALLATION).await.unwrap();
    let before = fake.requests().len();
    let (status, answer) = raw_request(
        "POST",
        &format!("{}/repos/{REPO}/pulls/{number}/reviews", prism.url),
        token.expose(),
        Some(serde_json::json!({
            "commit_id": next, "event": "COMMENT",
            "comments": [{ "path": "Dockerfile", "body": "x", "line": "1", "side": "RIGHT" }],
        })),
    )
    .await;
    let status = axum::http::StatusCode::from_u16(status).unwrap();
    assert!(status.is_client_error(), "{status}: {answer}");
    assert!(
        answer.contains("comments.0.line"),
        "Prism's answer names the field: {answer}"
    );
    assert_eq!(
        fake.requests().len(),
        before,
        "Prism forwarded a malformed review"
    );
    // Prism writes its log after answering: give it a moment.
    let reported = || {
        prism
            .traffic()
            .iter()
            .filter(|l| l.contains("Violation") || l.contains("✖"))
            .count()
    };
    let waited = std::time::Instant::now();
    while reported() == violations.len() && waited.elapsed() < std::time::Duration::from_secs(10) {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        reported() > violations.len(),
        "Prism did not report the malformed review:\n{}",
        prism.log_tail(10)
    );

    // And it checks answers on the routes whose schemas needed `nullable_without_type`: a
    // comparison holding nothing but the merge base is refused, not handed to the client.
    fake.fail_next(
        200,
        &[],
        &format!(r#"{{"merge_base_commit":{{"sha":"{base}"}}}}"#),
    );
    let thin = f.merge_base(REPO, "main", "patchwright/node-20").await;
    assert!(
        matches!(&thin, Err(ForgeError::Retryable(m)) if m.contains("500")),
        "Prism let an incomplete comparison through: {thin:?}"
    );
}

/// One request as any client could send it, past the App's client and its checks.
async fn raw_request(
    method: &str,
    url: &str,
    token: &str,
    body: Option<serde_json::Value>,
) -> (u16, String) {
    use http_body_util::{BodyExt, Full};
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http();
    let request = hyper::Request::builder()
        .method(method)
        .uri(url)
        .header("authorization", format!("Bearer {token}"))
        .header("user-agent", "forge-test")
        .header("content-type", "application/json")
        .body(Full::new(hyper::body::Bytes::from(
            body.map(|b| b.to_string()).unwrap_or_default(),
        )))
        .unwrap();
    let response = client.request(request).await.unwrap();
    let status = response.status().as_u16();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

/// What a browser does with a page of GitHub's that answers with a redirect: the place it is
/// sent to.
async fn browser_redirect(method: &str, url: &str, form: Option<String>) -> String {
    use http_body_util::{BodyExt, Full};
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http();
    let mut request = hyper::Request::builder()
        .method(method)
        .uri(url)
        .header("user-agent", "test-browser");
    if form.is_some() {
        request = request.header("content-type", "application/x-www-form-urlencoded");
    }
    let request = request
        .body(Full::new(hyper::body::Bytes::from(
            form.unwrap_or_default(),
        )))
        .unwrap();
    let response = client.request(request).await.unwrap();
    assert_eq!(response.status().as_u16(), 302, "{url} redirects");
    let location = response.headers()["location"].to_str().unwrap().to_string();
    let _ = response.into_body().collect().await;
    location
}

fn query_value(url: &str, name: &str) -> String {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| panic!("no {name} in {url}"))
}
