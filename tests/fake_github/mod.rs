//! A stateful fake of the GitHub REST API routes patchwright uses, served over HTTP on
//! 127.0.0.1 from one in-memory model (bors' `src/tests/mock` habit), so tests run the real
//! GitHub client. Every request is recorded; a test can queue a failure for the next
//! request; leftovers (a queued failure never used, a route the fake does not know) fail the
//! test when the fake is dropped.

#![allow(dead_code)]

mod apps;
mod compare;
mod diff;
pub mod git;
mod issues;
pub mod keys;
mod reviews;

// Each test binary reads a different part of the fake.
#[allow(unused_imports)]
pub use apps::ManifestApp;
#[allow(unused_imports)]
pub use issues::IssueState;
#[allow(unused_imports)]
pub use reviews::{ReviewCommentState, ReviewState};

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, TimeDelta, Utc};
use compare::merge_base;
use git::{Commit, Object, Odb};
use patchwright::infra::clock::{Clock, SystemClock};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use tokio::sync::Semaphore;

pub const APP_ID: u64 = 4242;
pub const BOT_LOGIN: &str = "patchwright[bot]";

#[derive(Debug, Clone, PartialEq)]
pub struct Recorded {
    pub method: String,
    /// Path and query, as sent.
    pub path: String,
    pub body: Value,
    /// The status answered (0 while the request waits for its answer).
    pub status: u16,
    /// When it arrived, by the fake's clock.
    pub at: DateTime<Utc>,
}

impl Recorded {
    /// Whether GitHub counts this request against the installation's rate limit: a 304 to a
    /// conditional request is not counted.
    pub fn counted(&self) -> bool {
        self.status != 304
    }
}

#[derive(Debug, Clone)]
pub struct Pull {
    pub number: u64,
    pub head: String,
    pub base: String,
    pub title: String,
    pub body: String,
    pub state: String,
    pub user: String,
    /// The head commit when the branch is gone (a closed PR keeps its last head).
    pub head_sha: String,
}

#[derive(Debug, Clone)]
pub struct CheckRunState {
    pub id: u64,
    pub name: String,
    pub head_sha: String,
    pub conclusion: String,
    pub title: String,
    pub summary: String,
    pub annotations: Vec<Value>,
}

#[derive(Debug, Clone)]
pub struct CommentState {
    pub id: u64,
    pub issue: u64,
    pub body: String,
    pub user: String,
}

#[derive(Default)]
struct Repo {
    id: u64,
    default_branch: String,
    refs: BTreeMap<String, String>,
    pulls: BTreeMap<u64, Pull>,
    labels: BTreeMap<u64, Vec<String>>,
    comments: Vec<CommentState>,
    check_runs: Vec<CheckRunState>,
    permissions: HashMap<String, String>,
    /// Shared by pull requests and issues, as on GitHub.
    next_number: u64,
    issues: BTreeMap<u64, issues::IssueRecord>,
    /// By issue or pull-request number, like `labels`.
    assignees: BTreeMap<u64, Vec<String>>,
    reviews: Vec<ReviewState>,
    review_comments: Vec<ReviewCommentState>,
    reactions: Vec<issues::ReactionState>,
    /// Requested reviewers by pull-request number: (users, teams).
    requested: BTreeMap<u64, (Vec<String>, Vec<String>)>,
}

struct Failure {
    /// Requests still to answer normally before this failure.
    after: usize,
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

/// Requests held back until a test opens the gate: a slow GitHub, on chosen routes only.
struct Hold {
    method: String,
    prefix: String,
    gate: Arc<Semaphore>,
}

/// Opens on [`Gate::open`] or when dropped, so a failing test never leaves requests hanging.
pub struct Gate(Arc<Semaphore>);

impl Gate {
    pub fn open(&self) {
        // A closed semaphore answers every waiter at once.
        self.0.close();
    }
}

impl Drop for Gate {
    fn drop(&mut self) {
        self.open();
    }
}

struct Model {
    /// The time tokens are minted and checked by: the App's own clock in tests that move it.
    clock: Arc<dyn Clock>,
    holds: Vec<Hold>,
    public_pem: String,
    installations: HashMap<u64, String>,
    tokens: HashMap<String, (u64, DateTime<Utc>)>,
    token_ttl: TimeDelta,
    /// What the token answer says in `expires_at` instead of the truth (`Null`: no field).
    told_expiry: Option<Value>,
    odb: Odb,
    repos: BTreeMap<String, Repo>,
    requests: Vec<Recorded>,
    failures: VecDeque<Failure>,
    unknown_routes: Vec<String>,
    /// Writes the model itself refused (not queued failures): `METHOD path → status`.
    refused_writes: Vec<String>,
    truncate_trees: bool,
    next_id: u64,
    rate_remaining: i64,
    /// People who can sign in with the App's user authorization flow: login → installations
    /// and the repositories (id, full name) each lets them see.
    oauth_users: HashMap<String, Vec<OAuthGrant>>,
    /// Who the browser is signed in to GitHub as (the authorize page's user).
    oauth_browser: Option<String>,
    oauth_codes: HashMap<String, String>,
    user_tokens: HashMap<String, String>,
    /// Apps created through the manifest flow (`/settings/apps/new`).
    manifest_apps: Vec<apps::ManifestApp>,
}

/// An installation and the repositories (id, full name) it lets a person see.
type OAuthGrant = (u64, Vec<(i64, String)>);

type Shared = Arc<Mutex<Model>>;

pub struct FakeGitHub {
    pub url: String,
    model: Shared,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for FakeGitHub {
    fn drop(&mut self) {
        self.server.abort();
        if std::thread::panicking() {
            return;
        }
        let m = self.lock();
        assert!(
            m.failures.is_empty(),
            "leftover: {} queued failure(s) no request consumed",
            m.failures.len()
        );
        assert!(
            m.unknown_routes.is_empty(),
            "leftover: requests to routes the fake does not serve: {:?}",
            m.unknown_routes
        );
    }
}

impl FakeGitHub {
    /// A fake that tells time by the wall clock.
    pub async fn start() -> FakeGitHub {
        FakeGitHub::start_with_clock(Arc::new(SystemClock)).await
    }

    /// A fake that mints and checks tokens and JWTs by `clock`: give it the App's clock, so
    /// moving time moves both sides.
    pub async fn start_with_clock(clock: Arc<dyn Clock>) -> FakeGitHub {
        let model = Arc::new(Mutex::new(Model {
            clock,
            holds: Vec::new(),
            public_pem: keys::test_key().public_pem.clone(),
            installations: HashMap::new(),
            tokens: HashMap::new(),
            token_ttl: TimeDelta::hours(1),
            told_expiry: None,
            odb: Odb::default(),
            repos: BTreeMap::new(),
            requests: Vec::new(),
            failures: VecDeque::new(),
            unknown_routes: Vec::new(),
            refused_writes: Vec::new(),
            truncate_trees: false,
            next_id: 1000,
            rate_remaining: 5000,
            oauth_users: HashMap::new(),
            oauth_browser: None,
            oauth_codes: HashMap::new(),
            user_tokens: HashMap::new(),
            manifest_apps: Vec::new(),
        }));
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(model.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the fake GitHub");
        let addr = listener.local_addr().expect("local addr");
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeGitHub {
            url: format!("http://{addr}"),
            model,
            server,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Model> {
        self.model.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn private_key_pem(&self) -> String {
        keys::test_key().private_pem.clone()
    }

    /// A person who can sign in, seeing `repos` (id, full name) through installation `id`.
    pub fn add_oauth_user(&self, login: &str, installation: u64, repos: &[(i64, &str)]) {
        self.lock()
            .oauth_users
            .entry(login.to_string())
            .or_default()
            .push((
                installation,
                repos.iter().map(|(id, n)| (*id, n.to_string())).collect(),
            ));
    }

    /// The Apps created through the manifest flow, oldest first.
    pub fn manifest_apps(&self) -> Vec<ManifestApp> {
        self.lock().manifest_apps.clone()
    }

    /// The browser is signed in to GitHub as `login`: the authorize page approves for them.
    pub fn browser_signed_in_as(&self, login: &str) {
        self.lock().oauth_browser = Some(login.to_string());
    }

    pub fn add_installation(&self, id: u64, account: &str) {
        self.lock().installations.insert(id, account.to_string());
    }

    /// A repository whose default branch holds `files` in one commit; returns that commit.
    pub fn seed_repo(
        &self,
        full_name: &str,
        default_branch: &str,
        files: &[(&str, &str)],
    ) -> String {
        let mut m = self.lock();
        m.next_id += 1;
        let id = m.next_id;
        m.repos.insert(
            full_name.to_string(),
            Repo {
                id,
                default_branch: default_branch.to_string(),
                next_number: 1,
                ..Repo::default()
            },
        );
        let mut flat = BTreeMap::new();
        for (path, content) in files {
            let sha = m.odb.put_blob(content.as_bytes());
            flat.insert(path.to_string(), ("100644".to_string(), sha));
        }
        let tree = m.odb.build_tree(&flat);
        let commit = m.odb.put_commit(Commit {
            tree,
            parents: vec![],
            message: "Initial commit".into(),
            author_name: "Octo Cat".into(),
            author_login: Some("octocat".into()),
        });
        if let Some(repo) = m.repos.get_mut(full_name) {
            repo.refs.insert(default_branch.to_string(), commit.clone());
        }
        commit
    }

    /// A person pushes a commit onto `branch`: `Some(content)` writes a file, `None` deletes it.
    /// A branch that does not exist yet starts from the default branch's head.
    pub fn push(
        &self,
        repo: &str,
        branch: &str,
        files: &[(&str, Option<&str>)],
        login: &str,
    ) -> String {
        self.commit_onto(repo, branch, None, files, login)
    }

    /// A person merges branch `from` into `branch` (a merge commit whose second parent is
    /// `from`'s head). The merged files are `branch`'s with `files` applied as in
    /// [`FakeGitHub::push`]: the person writes the merge result, the fake does not merge.
    pub fn merge(
        &self,
        repo: &str,
        branch: &str,
        from: &str,
        files: &[(&str, Option<&str>)],
        login: &str,
    ) -> String {
        self.commit_onto(repo, branch, Some(from), files, login)
    }

    fn commit_onto(
        &self,
        repo: &str,
        branch: &str,
        merged: Option<&str>,
        files: &[(&str, Option<&str>)],
        login: &str,
    ) -> String {
        let mut m = self.lock();
        let r = m
            .repos
            .get(repo)
            .unwrap_or_else(|| panic!("no repository {repo} in the fake"));
        let head = r
            .refs
            .get(branch)
            .or_else(|| r.refs.get(&r.default_branch))
            .cloned()
            .unwrap_or_else(|| panic!("{repo} has no default branch to start `{branch}` from"));
        let mut parents = vec![head.clone()];
        if let Some(from) = merged {
            let other = r
                .refs
                .get(from)
                .cloned()
                .unwrap_or_else(|| panic!("{repo} has no branch `{from}` to merge"));
            parents.push(other);
        }
        let base_tree = m
            .odb
            .commit(&head)
            .map(|c| c.tree.clone())
            .unwrap_or_default();
        let mut flat = m.odb.flatten(&base_tree);
        for (path, content) in files {
            match content {
                Some(c) => {
                    let sha = m.odb.put_blob(c.as_bytes());
                    flat.insert(path.to_string(), ("100644".to_string(), sha));
                }
                None => {
                    flat.remove(*path);
                }
            }
        }
        let tree = m.odb.build_tree(&flat);
        let message = match merged {
            Some(from) => format!("Merge branch '{from}' into {branch}"),
            None => format!("Update by {login}"),
        };
        let commit = m.odb.put_commit(Commit {
            tree,
            parents,
            message,
            author_name: login.to_string(),
            author_login: Some(login.to_string()),
        });
        if let Some(r) = m.repos.get_mut(repo) {
            r.refs.insert(branch.to_string(), commit.clone());
        }
        commit
    }

    /// A person opens a pull request from a branch they pushed (see [`FakeGitHub::push`]);
    /// returns its number.
    pub fn open_pull_by(
        &self,
        repo: &str,
        head_branch: &str,
        base_branch: &str,
        title: &str,
        author: &str,
    ) -> u64 {
        let mut m = self.lock();
        let r = m
            .repos
            .get_mut(repo)
            .unwrap_or_else(|| panic!("no repository {repo} in the fake"));
        let head_sha = r
            .refs
            .get(head_branch)
            .cloned()
            .unwrap_or_else(|| panic!("push to `{head_branch}` before opening a pull request"));
        assert!(
            r.refs.contains_key(base_branch),
            "{repo} has no base branch `{base_branch}`"
        );
        let number = r.next_number;
        r.next_number += 1;
        r.pulls.insert(
            number,
            Pull {
                number,
                head: head_branch.to_string(),
                base: base_branch.to_string(),
                title: title.to_string(),
                body: String::new(),
                state: "open".into(),
                user: author.to_string(),
                head_sha,
            },
        );
        number
    }

    pub fn set_permission(&self, repo: &str, user: &str, permission: &str) {
        if let Some(r) = self.lock().repos.get_mut(repo) {
            r.permissions
                .insert(user.to_string(), permission.to_string());
        }
    }

    /// The next request (other than token minting) gets this answer instead.
    pub fn fail_next(&self, status: u16, headers: &[(&str, &str)], body: &str) {
        self.fail_after(0, status, headers, body);
    }

    /// `after` more requests (other than token minting) are answered normally, then the next
    /// one gets this answer: a failure in the middle of a job's work.
    pub fn fail_after(&self, after: usize, status: u16, headers: &[(&str, &str)], body: &str) {
        self.lock().failures.push_back(Failure {
            after,
            status,
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body: body.to_string(),
        });
    }

    /// Recursive tree answers say `truncated` and list only the top level.
    pub fn truncate_recursive_trees(&self, on: bool) {
        self.lock().truncate_trees = on;
    }

    /// Every token minted so far stops working, as after an hour.
    pub fn expire_tokens(&self) {
        let mut m = self.lock();
        let past = m.clock.now() - TimeDelta::minutes(1);
        for (_, exp) in m.tokens.values_mut() {
            *exp = past;
        }
    }

    /// Requests `method prefix…` are recorded on arrival and then wait, unanswered, until the
    /// returned gate opens: GitHub slow on those routes only.
    pub fn hold(&self, method: &str, prefix: &str) -> Gate {
        let gate = Arc::new(Semaphore::new(0));
        self.lock().holds.push(Hold {
            method: method.to_string(),
            prefix: prefix.to_string(),
            gate: Arc::clone(&gate),
        });
        Gate(gate)
    }

    /// Waits until `n` requests `method prefix…` have arrived (answered or held). Panics after
    /// a long bound, so a request that never comes fails the test instead of hanging it.
    pub async fn arrived(&self, method: &str, prefix: &str, n: usize) {
        for _ in 0..2000 {
            if self.count(method, prefix) >= n {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("{n} request(s) {method} {prefix}… never arrived");
    }

    /// Token answers say `expires_at: value` (`Value::Null`: leave the field out) while the
    /// tokens still live their real time: an API example's fixed date, a broken proxy.
    pub fn tell_token_expiry(&self, value: Value) {
        self.lock().told_expiry = Some(value);
    }

    /// Installation tokens that still work by the fake's clock.
    pub fn live_tokens(&self) -> usize {
        let m = self.lock();
        let now = m.clock.now();
        m.tokens.values().filter(|(_, exp)| *exp > now).count()
    }

    /// New tokens live this long.
    pub fn set_token_ttl(&self, ttl: TimeDelta) {
        self.lock().token_ttl = ttl;
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.lock().requests.clone()
    }

    /// Every write the fake refused as GitHub would (a 4xx or 5xx it chose, not a queued
    /// failure), oldest first.
    pub fn refused_writes(&self) -> Vec<String> {
        self.lock().refused_writes.clone()
    }

    /// Requests GitHub would count against the rate limit (all but 304s), token minting
    /// included.
    pub fn counted_requests(&self) -> Vec<Recorded> {
        self.lock()
            .requests
            .iter()
            .filter(|r| r.counted())
            .cloned()
            .collect()
    }

    /// Conditional requests answered 304 Not Modified.
    pub fn not_modified(&self) -> usize {
        self.lock()
            .requests
            .iter()
            .filter(|r| r.status == 304)
            .count()
    }

    pub fn clear_requests(&self) {
        self.lock().requests.clear();
    }

    /// Requests with this method whose path starts with `prefix`.
    pub fn count(&self, method: &str, prefix: &str) -> usize {
        self.lock()
            .requests
            .iter()
            .filter(|r| r.method == method && r.path.starts_with(prefix))
            .count()
    }

    pub fn branch(&self, repo: &str, name: &str) -> Option<String> {
        self.lock().repos.get(repo)?.refs.get(name).cloned()
    }

    pub fn pulls(&self, repo: &str) -> Vec<Pull> {
        self.lock()
            .repos
            .get(repo)
            .map(|r| r.pulls.values().cloned().collect())
            .unwrap_or_default()
    }

    pub fn labels(&self, repo: &str, number: u64) -> Vec<String> {
        self.lock()
            .repos
            .get(repo)
            .and_then(|r| r.labels.get(&number).cloned())
            .unwrap_or_default()
    }

    pub fn comments(&self, repo: &str) -> Vec<CommentState> {
        self.lock()
            .repos
            .get(repo)
            .map(|r| r.comments.clone())
            .unwrap_or_default()
    }

    pub fn check_runs(&self, repo: &str) -> Vec<CheckRunState> {
        self.lock()
            .repos
            .get(repo)
            .map(|r| r.check_runs.clone())
            .unwrap_or_default()
    }

    /// The content of `path` in `commit`, read from the model (not over HTTP).
    pub fn file_at(&self, commit: &str, path: &str) -> Option<String> {
        read_file(&self.lock().odb, commit, path)
    }

    pub fn commit_parents(&self, commit: &str) -> Vec<String> {
        self.lock()
            .odb
            .commit(commit)
            .map(|c| c.parents.clone())
            .unwrap_or_default()
    }
}

// ---- HTTP side ----------------------------------------------------------------------------

struct Reply {
    status: u16,
    body: Value,
    headers: Vec<(String, String)>,
}

fn reply(status: u16, body: Value) -> Reply {
    Reply {
        status,
        body,
        headers: vec![],
    }
}

fn error(status: u16, message: &str) -> Reply {
    reply(
        status,
        json!({ "message": message, "documentation_url": "https://docs.github.com/rest" }),
    )
}

async fn handle(State(model): State<Shared>, req: Request) -> Response {
    let method = req.method().clone();
    let path = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let headers = req.headers().clone();
    let bytes = to_bytes(req.into_body(), 64 * 1024 * 1024)
        .await
        .unwrap_or_default();
    let body: Value = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into_owned()))
    };
    let (held, slot) = {
        let mut m = model.lock().unwrap_or_else(|p| p.into_inner());
        let at = m.clock.now();
        m.requests.push(Recorded {
            method: method.to_string(),
            path: path.clone(),
            body: body.clone(),
            status: 0,
            at,
        });
        let slot = m.requests.len() - 1;
        let held = m
            .holds
            .iter()
            .find(|h| h.method == method.as_str() && path.starts_with(&h.prefix))
            .map(|h| Arc::clone(&h.gate));
        (held, slot)
    };
    if let Some(gate) = held {
        // Err once the gate is open (closed semaphore): that is the signal to go on.
        let _ = gate.acquire().await;
    }
    let mut m = model.lock().unwrap_or_else(|p| p.into_inner());
    let due = match m.failures.front_mut() {
        Some(f) if !path.starts_with("/app/") => {
            if f.after == 0 {
                true
            } else {
                f.after -= 1;
                false
            }
        }
        _ => false,
    };
    let failure = if due { m.failures.pop_front() } else { None };
    let agents = headers
        .get_all(axum::http::header::USER_AGENT)
        .iter()
        .count();
    let r = match failure {
        // GitHub refuses a request without a User-Agent; a strict proxy in front of it
        // refuses one with two (which one names the client?).
        _ if agents == 0 => error(
            403,
            "Request forbidden by administrative rules. Please make sure your request has a User-Agent header",
        ),
        _ if agents > 1 => error(400, "Bad Request: more than one User-Agent header"),
        Some(f) => Reply {
            status: f.status,
            body: serde_json::from_str(&f.body).unwrap_or(Value::String(f.body.clone())),
            headers: f.headers,
        },
        None => {
            let r = route(&mut m, &method, &path, &headers, body);
            if method != Method::GET && r.status >= 400 {
                m.refused_writes
                    .push(format!("{method} {path} → {}", r.status));
            }
            r
        }
    };
    let mut text = match &r.body {
        Value::Null => String::new(),
        Value::String(s) if r.status >= 400 => s.clone(),
        other => other.to_string(),
    };
    let mut content_type = "application/json; charset=utf-8";
    let mut status = r.status;
    let mut etag = None;
    if method == Method::GET && (200..300).contains(&status) {
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        if header("accept") == Some(SHA_MEDIA_TYPE) && is_commit_route(&path) {
            // The sha media type: the body is the sha, and so is the ETag (not token-bound).
            let sha = r.body["sha"].as_str().unwrap_or_default().to_string();
            etag = Some(format!("\"{sha}\""));
            text = sha;
            content_type = "application/vnd.github.sha; charset=utf-8";
        } else {
            // GitHub's ETags are bound to the token that asked (an answer's validator does
            // not match for another token), and weak.
            let token = header("authorization").unwrap_or("");
            etag = Some(format!("W/\"{}\"", digest_hex(&[token, &text])));
        }
        if let (Some(asked), Some(tag)) = (header("if-none-match"), &etag) {
            if etag_matches(asked, tag) {
                status = 304;
                text.clear();
            }
        }
    }
    // A 304 is not counted against the rate limit.
    if status != 304 {
        m.rate_remaining = (m.rate_remaining - 1).max(0);
    }
    if let Some(recorded) = m.requests.get_mut(slot).filter(|x| x.path == path) {
        recorded.status = status;
    }
    let mut resp = Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header("x-ratelimit-limit", "5000")
        .header("x-ratelimit-resource", "core");
    let has = |name: &str| r.headers.iter().any(|(k, _)| k.eq_ignore_ascii_case(name));
    if !has("x-ratelimit-remaining") {
        resp = resp.header("x-ratelimit-remaining", m.rate_remaining.to_string());
    }
    for (k, v) in &r.headers {
        resp = resp.header(k.as_str(), v.as_str());
    }
    if let Some(tag) = &etag {
        resp = resp.header("etag", tag.as_str());
    }
    if !text.is_empty() {
        resp = resp.header("content-type", content_type);
    }
    resp.body(Body::from(text)).expect("a valid response")
}

/// The media type that makes `GET …/commits/{ref}` answer the bare sha.
const SHA_MEDIA_TYPE: &str = "application/vnd.github.sha";

fn is_commit_route(path: &str) -> bool {
    let (p, _) = path.split_once('?').unwrap_or((path, ""));
    let parts: Vec<&str> = p.trim_start_matches('/').split('/').collect();
    matches!(parts.as_slice(), ["repos", _, _, "commits", r] if !r.is_empty())
}

fn digest_hex(parts: &[&str]) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    hex::encode(&h.finalize()[..16])
}

/// `If-None-Match` as HTTP (RFC 9110 §13.1.2) and GitHub read it: `*`, or a list of entity
/// tags compared weakly (`W/` ignored).
fn etag_matches(asked: &str, etag: &str) -> bool {
    let bare = |t: &str| t.trim().trim_start_matches("W/").to_string();
    asked.trim() == "*" || asked.split(',').any(|t| bare(t) == bare(etag))
}

fn query(path: &str) -> (String, HashMap<String, String>) {
    let (p, q) = path.split_once('?').unwrap_or((path, ""));
    let params = q
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), percent_decode(v)))
        .collect();
    (p.to_string(), params)
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = b
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (b[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(v)) => {
                out.push(v);
                i += 3;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn page<T: Clone>(items: &[T], q: &HashMap<String, String>) -> Vec<T> {
    let per: usize = q.get("per_page").and_then(|v| v.parse().ok()).unwrap_or(30);
    let page: usize = q
        .get("page")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
        .max(1);
    items
        .iter()
        .skip((page - 1) * per)
        .take(per)
        .cloned()
        .collect()
}

fn route(m: &mut Model, method: &Method, full: &str, headers: &HeaderMap, body: Value) -> Reply {
    let (path, q) = query(full);
    let seg: Vec<String> = path
        .trim_start_matches('/')
        .split('/')
        .map(percent_decode)
        .collect();
    let s: Vec<&str> = seg.iter().map(String::as_str).collect();
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok());
    match (method.as_str(), s.as_slice()) {
        ("POST", ["app", "installations", id, "access_tokens"]) => {
            if let Err(e) = keys::verify_app_jwt(auth, &m.public_pem, APP_ID, m.clock.now()) {
                return error(401, &e);
            }
            let Some(id) = id
                .parse::<u64>()
                .ok()
                .filter(|i| m.installations.contains_key(i))
            else {
                return error(404, "Not Found");
            };
            m.next_id += 1;
            let token = format!("ghs_fake{}", m.next_id);
            let expires_at = m.clock.now() + m.token_ttl;
            m.tokens.insert(token.clone(), (id, expires_at));
            let mut answer = json!({
                "token": token,
                "expires_at": expires_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                "permissions": { "contents": "write", "pull_requests": "write", "checks": "write", "issues": "write" },
                "repository_selection": "all"
            });
            match &m.told_expiry {
                Some(Value::Null) => {
                    answer.as_object_mut().map(|o| o.remove("expires_at"));
                }
                Some(told) => answer["expires_at"] = told.clone(),
                None => {}
            }
            reply(201, answer)
        }
        ("GET", ["login", "oauth", "authorize"]) => {
            let (Some(redirect), Some(state), Some(_client)) =
                (q.get("redirect_uri"), q.get("state"), q.get("client_id"))
            else {
                return error(400, "client_id, redirect_uri and state are required");
            };
            let Some(login) = m.oauth_browser.clone() else {
                return error(401, "nobody is signed in to GitHub in this browser");
            };
            m.next_id += 1;
            let code = format!("code{}", m.next_id);
            m.oauth_codes.insert(code.clone(), login);
            let sep = if redirect.contains('?') { '&' } else { '?' };
            Reply {
                status: 302,
                body: Value::Null,
                headers: vec![(
                    "location".into(),
                    format!(
                        "{redirect}{sep}code={code}&state={}",
                        encode_component(state)
                    ),
                )],
            }
        }
        ("POST", ["login", "oauth", "access_token"]) => {
            // GitHub answers 200 with an `error` field for a bad code.
            let code = str_field(&body, "code").unwrap_or("");
            match (
                str_field(&body, "client_secret"),
                m.oauth_codes.remove(code),
            ) {
                (Some(secret), Some(login)) if !secret.is_empty() => {
                    m.next_id += 1;
                    let token = format!("ghu_fake{}", m.next_id);
                    m.user_tokens.insert(token.clone(), login);
                    reply(
                        200,
                        json!({ "access_token": token, "token_type": "bearer", "scope": "" }),
                    )
                }
                _ => reply(
                    200,
                    json!({ "error": "bad_verification_code", "error_description": "The code passed is incorrect or expired." }),
                ),
            }
        }
        ("POST", ["settings", "apps", "new"]) => apps::new_app(m, None, &q, &body),
        ("POST", ["organizations", org, "settings", "apps", "new"]) => {
            apps::new_app(m, Some(org), &q, &body)
        }
        ("POST", ["app-manifests", code, "conversions"]) => apps::convert(m, code),
        ("GET", ["user", rest @ ..]) => {
            let token = auth.and_then(|h| h.strip_prefix("Bearer ")).unwrap_or("");
            let Some(login) = m.user_tokens.get(token).cloned() else {
                return error(401, "Bad credentials");
            };
            let grants = m.oauth_users.get(&login).cloned().unwrap_or_default();
            match rest {
                [] => reply(200, apps::private_user_json(&login)),
                ["installations"] => {
                    let all: Vec<Value> = grants
                        .iter()
                        .map(|(id, _)| {
                            apps::installation_json(
                                *id,
                                &m.installations.get(id).cloned().unwrap_or_default(),
                            )
                        })
                        .collect();
                    reply(
                        200,
                        json!({ "total_count": all.len(), "installations": page(&all, &q) }),
                    )
                }
                ["installations", id, "repositories"] => {
                    let Some((_, repos)) = grants.iter().find(|(i, _)| i.to_string() == *id) else {
                        return error(404, "Not Found");
                    };
                    let all: Vec<Value> = repos
                        .iter()
                        .map(|(id, name)| repo_json(name, *id as u64, "main"))
                        .collect();
                    reply(
                        200,
                        json!({ "total_count": all.len(), "repositories": page(&all, &q) }),
                    )
                }
                _ => {
                    m.unknown_routes.push(format!("{method} {full}"));
                    error(404, "Not Found")
                }
            }
        }
        (_, ["repos", owner, name, rest @ ..]) => {
            let full_name = format!("{owner}/{name}");
            let token = auth
                .and_then(|h| {
                    h.strip_prefix("Bearer ")
                        .or_else(|| h.strip_prefix("token "))
                })
                .unwrap_or("");
            let account = match m.tokens.get(token) {
                Some((inst, exp)) if *exp > m.clock.now() => m.installations.get(inst).cloned(),
                _ => return error(401, "Bad credentials"),
            };
            if account.as_deref() != Some(*owner) || !m.repos.contains_key(&full_name) {
                return error(404, "Not Found");
            }
            repo_route(m, method.as_str(), &full_name, rest, &q, body)
        }
        _ => {
            m.unknown_routes.push(format!("{method} {full}"));
            error(404, "Not Found")
        }
    }
}

fn str_field<'a>(body: &'a Value, key: &str) -> Option<&'a str> {
    body.get(key).and_then(Value::as_str)
}

fn repo_route(
    m: &mut Model,
    method: &str,
    full: &str,
    rest: &[&str],
    q: &HashMap<String, String>,
    body: Value,
) -> Reply {
    let Model {
        odb,
        repos,
        next_id,
        unknown_routes,
        truncate_trees,
        ..
    } = m;
    let repo = repos.get_mut(full).expect("checked by the caller");
    let base = format!("https://api.github.com/repos/{full}");
    match (method, rest) {
        ("GET", []) => reply(200, repo_json(full, repo.id, &repo.default_branch)),
        ("GET", ["git", "ref", rest @ ..]) => {
            let Some(name) = branch_name(rest) else {
                return error(404, "Not Found");
            };
            match repo.refs.get(&name) {
                Some(sha) => reply(200, ref_json(&base, &name, sha)),
                None => error(404, "Not Found"),
            }
        }
        ("POST", ["git", "refs"]) => {
            let (Some(r), Some(sha)) = (str_field(&body, "ref"), str_field(&body, "sha")) else {
                return error(422, "Invalid request: ref and sha are required");
            };
            let Some(name) = r.strip_prefix("refs/heads/") else {
                return error(422, "Reference name must start with refs/");
            };
            if odb.commit(sha).is_none() {
                return error(422, "Object does not exist");
            }
            if repo.refs.contains_key(name) {
                return error(422, "Reference already exists");
            }
            repo.refs.insert(name.to_string(), sha.to_string());
            reply(201, ref_json(&base, name, sha))
        }
        ("PATCH", ["git", "refs", rest @ ..]) => {
            let Some(name) = branch_name(rest) else {
                return error(422, "Reference does not exist");
            };
            let Some(sha) = str_field(&body, "sha") else {
                return error(422, "Invalid request: sha is required");
            };
            let force = body.get("force").and_then(Value::as_bool).unwrap_or(false);
            let Some(old) = repo.refs.get(&name).cloned() else {
                return error(422, "Reference does not exist");
            };
            if odb.commit(sha).is_none() {
                return error(422, "Object does not exist");
            }
            if !force && !descends(odb, sha, &old) {
                return error(422, "Update is not a fast forward");
            }
            repo.refs.insert(name.clone(), sha.to_string());
            reply(200, ref_json(&base, &name, sha))
        }
        ("DELETE", ["git", "refs", rest @ ..]) => {
            if branch_name(rest).is_some_and(|name| repo.refs.remove(&name).is_some()) {
                reply(204, Value::Null)
            } else {
                error(422, "Reference does not exist")
            }
        }
        ("GET", ["git", "trees", sha]) => {
            let Some(tree) = odb.resolve_tree(sha) else {
                return error(404, "Not Found");
            };
            let recursive = q.contains_key("recursive");
            let mut items = Vec::new();
            let mut truncated = false;
            if recursive && !*truncate_trees {
                list_recursive(odb, &tree, "", &mut items);
            } else {
                truncated = recursive;
                for e in odb.tree(&tree).cloned().unwrap_or_default() {
                    items.push(tree_item_json(odb, &e, &e.name));
                }
            }
            reply(
                200,
                json!({ "sha": tree, "url": format!("{base}/git/trees/{tree}"), "tree": items, "truncated": truncated }),
            )
        }
        ("GET", ["git", "blobs", sha]) => match odb.objects.get(*sha) {
            Some(Object::Blob(b)) => {
                let encoded = STANDARD.encode(b);
                let wrapped: Vec<String> = encoded
                    .as_bytes()
                    .chunks(60)
                    .map(|c| String::from_utf8_lossy(c).into_owned())
                    .collect();
                reply(
                    200,
                    json!({
                        "sha": sha, "node_id": "B_fake", "size": b.len(), "url": format!("{base}/git/blobs/{sha}"),
                        "content": wrapped.join("\n") + "\n", "encoding": "base64",
                    }),
                )
            }
            _ => error(404, "Not Found"),
        },
        ("POST", ["git", "blobs"]) => {
            let Some(content) = str_field(&body, "content") else {
                return error(422, "Invalid request: content is required");
            };
            let bytes = match str_field(&body, "encoding").unwrap_or("utf-8") {
                "base64" => match STANDARD.decode(content) {
                    Ok(b) => b,
                    Err(_) => return error(422, "Invalid base64 content"),
                },
                _ => content.as_bytes().to_vec(),
            };
            let sha = odb.put_blob(&bytes);
            reply(
                201,
                json!({ "sha": sha, "url": format!("{base}/git/blobs/{sha}") }),
            )
        }
        ("GET", ["git", "commits", sha]) => match odb.commit(sha).cloned() {
            Some(c) => reply(200, git_commit_json(&base, sha, &c)),
            None => error(404, "Not Found"),
        },
        ("POST", ["git", "trees"]) => {
            let mut flat = match str_field(&body, "base_tree") {
                Some(bt) => match odb.tree(bt) {
                    Some(_) => odb.flatten(bt),
                    None => return error(422, "base_tree is not a tree"),
                },
                None => BTreeMap::new(),
            };
            let Some(entries) = body.get("tree").and_then(Value::as_array) else {
                return error(422, "Invalid request: tree is required");
            };
            for e in entries {
                let (Some(path), Some(mode)) = (str_field(e, "path"), str_field(e, "mode")) else {
                    return error(422, "Invalid tree entry: path and mode are required");
                };
                match e.get("sha") {
                    Some(Value::Null) => {
                        flat.remove(path);
                    }
                    Some(Value::String(sha)) => {
                        if !matches!(odb.objects.get(sha), Some(Object::Blob(_))) {
                            return error(422, "Invalid tree entry: sha is not a blob");
                        }
                        flat.insert(path.to_string(), (mode.to_string(), sha.clone()));
                    }
                    _ => match str_field(e, "content") {
                        Some(c) => {
                            let sha = odb.put_blob(c.as_bytes());
                            flat.insert(path.to_string(), (mode.to_string(), sha));
                        }
                        None => {
                            return error(422, "Invalid tree entry: sha or content is required");
                        }
                    },
                }
            }
            let sha = odb.build_tree(&flat);
            reply(
                201,
                json!({ "sha": sha, "url": format!("{base}/git/trees/{sha}"), "tree": [], "truncated": false }),
            )
        }
        ("POST", ["git", "commits"]) => {
            let (Some(message), Some(tree)) =
                (str_field(&body, "message"), str_field(&body, "tree"))
            else {
                return error(422, "Invalid request: message and tree are required");
            };
            if odb.tree(tree).is_none() {
                return error(422, "Tree does not exist");
            }
            let parents: Vec<String> = body
                .get("parents")
                .and_then(Value::as_array)
                .map(|ps| {
                    ps.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default();
            if parents.iter().any(|p| odb.commit(p).is_none()) {
                return error(422, "Parent does not exist");
            }
            let c = Commit {
                tree: tree.to_string(),
                parents,
                message: message.to_string(),
                author_name: BOT_LOGIN.into(),
                // GitHub links a commit an installation token creates to the App's bot user.
                author_login: Some(BOT_LOGIN.into()),
            };
            let sha = odb.put_commit(c.clone());
            reply(201, git_commit_json(&base, &sha, &c))
        }
        ("GET", ["commits", sha]) => {
            let sha = repo
                .refs
                .get(*sha)
                .cloned()
                .unwrap_or_else(|| sha.to_string());
            match odb.commit(&sha).cloned() {
                Some(c) => reply(200, rest_commit_json(&base, full, &sha, &c)),
                None => error(404, "Not Found"),
            }
        }
        // The pair is one encoded segment (`main...alice%2Ffix`) or, unencoded, several.
        ("GET", ["compare", pair @ ..]) if !pair.is_empty() => {
            compare::compare(odb, repo, &base, full, &pair.join("/"), q)
        }
        ("GET", ["pulls"]) => {
            let state = q.get("state").map(String::as_str).unwrap_or("open");
            let head = q
                .get("head")
                .map(|h| h.rsplit(':').next().unwrap_or(h).to_string());
            let all: Vec<Value> = repo
                .pulls
                .values()
                .filter(|p| state == "all" || p.state == state)
                .filter(|p| head.as_ref().is_none_or(|h| *h == p.head))
                .map(|p| pull_json(&base, full, repo, p))
                .collect();
            reply(200, Value::Array(page(&all, q)))
        }
        ("GET", ["pulls", n]) => match n.parse::<u64>().ok().and_then(|n| repo.pulls.get(&n)) {
            Some(p) => reply(200, pull_json(&base, full, repo, p)),
            None => error(404, "Not Found"),
        },
        ("POST", ["pulls"]) => {
            let (Some(title), Some(head), Some(base_ref)) = (
                str_field(&body, "title"),
                str_field(&body, "head"),
                str_field(&body, "base"),
            ) else {
                return error(422, "Invalid request: title, head and base are required");
            };
            let head = head.rsplit(':').next().unwrap_or(head).to_string();
            let Some(head_sha) = repo.refs.get(&head).cloned() else {
                return error(422, "Validation Failed: head does not exist");
            };
            if !repo.refs.contains_key(base_ref) {
                return error(422, "Validation Failed: base does not exist");
            }
            if repo
                .pulls
                .values()
                .any(|p| p.state == "open" && p.head == head)
            {
                return reply(
                    422,
                    json!({ "message": "Validation Failed", "errors": [{ "resource": "PullRequest", "code": "custom", "message": format!("A pull request already exists for {}:{head}.", full.split('/').next().unwrap_or("")) }] }),
                );
            }
            let number = repo.next_number;
            repo.next_number += 1;
            let p = Pull {
                number,
                head,
                base: base_ref.to_string(),
                title: title.to_string(),
                body: str_field(&body, "body").unwrap_or("").to_string(),
                state: "open".into(),
                user: BOT_LOGIN.into(),
                head_sha,
            };
            repo.pulls.insert(number, p.clone());
            reply(201, pull_json(&base, full, repo, &p))
        }
        ("PATCH", ["pulls", n]) => {
            let Some(p) = n.parse::<u64>().ok().and_then(|n| repo.pulls.get_mut(&n)) else {
                return error(404, "Not Found");
            };
            if let Some(t) = str_field(&body, "title") {
                p.title = t.to_string();
            }
            if let Some(b) = str_field(&body, "body") {
                p.body = b.to_string();
            }
            if let Some(s) = str_field(&body, "state") {
                if s != "open" && s != "closed" {
                    return error(422, "state must be open or closed");
                }
                p.state = s.to_string();
            }
            let p = p.clone();
            reply(200, pull_json(&base, full, repo, &p))
        }
        ("POST", ["pulls", n, "reviews"]) => reviews::create(odb, repo, next_id, full, n, &body),
        ("GET", ["pulls", n, "comments"]) => reviews::list_comments(odb, repo, full, n, q),
        ("GET", ["pulls", n, "reviews"]) => reviews::list(repo, full, n, q),
        ("DELETE", ["pulls", "comments", id]) => reviews::delete_comment(repo, id),
        ("POST", ["pulls", n, "requested_reviewers"]) => {
            reviews::request_reviewers(repo, &base, full, n, &body)
        }
        ("POST", ["issues"]) => issues::create(repo, &base, full, &body),
        ("GET", ["issues", n]) => issues::get(repo, &base, full, n),
        ("PATCH", ["issues", n]) => issues::update(repo, &base, full, n, &body),
        ("POST", ["issues", "comments", id, "reactions"]) => {
            issues::react(repo, next_id, id, &body)
        }
        ("POST", ["issues", n, "labels"]) => {
            let Some(n) = n.parse::<u64>().ok().filter(|n| repo.has_number(*n)) else {
                return error(404, "Not Found");
            };
            let Some(new) = body.get("labels").and_then(Value::as_array) else {
                return error(422, "Invalid request: labels is required");
            };
            let list = repo.labels.entry(n).or_default();
            for l in new.iter().filter_map(Value::as_str) {
                if !list.iter().any(|x| x == l) {
                    list.push(l.to_string());
                }
            }
            let out: Vec<Value> = list.iter().map(|l| label_json(&base, l)).collect();
            reply(200, Value::Array(out))
        }
        ("GET", ["issues", n, "comments"]) => {
            let Some(n) = n.parse::<u64>().ok().filter(|n| repo.has_number(*n)) else {
                return error(404, "Not Found");
            };
            let all: Vec<Value> = repo
                .comments
                .iter()
                .filter(|c| c.issue == n)
                .map(|c| comment_json(&base, c))
                .collect();
            reply(200, Value::Array(page(&all, q)))
        }
        ("POST", ["issues", n, "comments"]) => {
            let Some(n) = n.parse::<u64>().ok().filter(|n| repo.has_number(*n)) else {
                return error(404, "Not Found");
            };
            let Some(text) = str_field(&body, "body") else {
                return error(422, "Invalid request: body is required");
            };
            *next_id += 1;
            let c = CommentState {
                id: *next_id,
                issue: n,
                body: text.to_string(),
                user: BOT_LOGIN.into(),
            };
            repo.comments.push(c.clone());
            reply(201, comment_json(&base, &c))
        }
        ("PATCH", ["issues", "comments", id]) => {
            let Some(c) = id
                .parse::<u64>()
                .ok()
                .and_then(|id| repo.comments.iter_mut().find(|c| c.id == id))
            else {
                return error(404, "Not Found");
            };
            let Some(text) = str_field(&body, "body") else {
                return error(422, "Invalid request: body is required");
            };
            c.body = text.to_string();
            let c = c.clone();
            reply(200, comment_json(&base, &c))
        }
        ("POST", ["check-runs"]) => {
            let (Some(name), Some(head_sha)) =
                (str_field(&body, "name"), str_field(&body, "head_sha"))
            else {
                return error(422, "Invalid request: name and head_sha are required");
            };
            let annotations = body
                .pointer("/output/annotations")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            if annotations.len() > 50 {
                return error(422, "Invalid request: at most 50 annotations per request");
            }
            *next_id += 1;
            let run = CheckRunState {
                id: *next_id,
                name: name.to_string(),
                head_sha: head_sha.to_string(),
                conclusion: str_field(&body, "conclusion").unwrap_or("").to_string(),
                title: body
                    .pointer("/output/title")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
                summary: body
                    .pointer("/output/summary")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
                annotations,
            };
            repo.check_runs.push(run.clone());
            reply(201, check_run_json(&base, &run))
        }
        ("PATCH", ["check-runs", id]) => {
            let Some(run) = id
                .parse::<u64>()
                .ok()
                .and_then(|id| repo.check_runs.iter_mut().find(|r| r.id == id))
            else {
                return error(404, "Not Found");
            };
            let annotations = body
                .pointer("/output/annotations")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            if annotations.len() > 50 {
                return error(422, "Invalid request: at most 50 annotations per request");
            }
            run.annotations.extend(annotations);
            let run = run.clone();
            reply(200, check_run_json(&base, &run))
        }
        ("GET", ["collaborators", user, "permission"]) => match repo.permissions.get(*user) {
            Some(p) => {
                let mut u = user_json(user);
                u["role_name"] = json!(p);
                reply(200, json!({ "permission": p, "role_name": p, "user": u }))
            }
            None => error(404, "Not Found"),
        },
        _ => {
            unknown_routes.push(format!("{method} /repos/{full}/{}", rest.join("/")));
            error(404, "Not Found")
        }
    }
}

/// `heads/<name>` from the `{ref}` part of a route, sent encoded (`heads%2Fmain`, as GitHub's
/// clients do) or not.
fn branch_name(rest: &[&str]) -> Option<String> {
    rest.join("/").strip_prefix("heads/").map(str::to_string)
}

/// The content of `path` in `commit`, if both exist.
fn read_file(odb: &Odb, commit: &str, path: &str) -> Option<String> {
    let tree = odb.commit(commit)?.tree.clone();
    let (_, sha) = odb.flatten(&tree).get(path)?.clone();
    match odb.objects.get(&sha)? {
        Object::Blob(b) => Some(String::from_utf8_lossy(b).into_owned()),
        _ => None,
    }
}

/// The commit a pull request shows: its branch's head while open, the last head once closed.
fn pull_head(repo: &Repo, p: &Pull) -> String {
    if p.state == "open" {
        repo.refs
            .get(&p.head)
            .cloned()
            .unwrap_or_else(|| p.head_sha.clone())
    } else {
        p.head_sha.clone()
    }
}

/// A `team-simple` for a team slug of the repository's owner.
fn team_json(org: &str, slug: &str) -> Value {
    let url = format!("https://api.github.com/orgs/{org}/teams/{slug}");
    json!({
        "id": 1, "node_id": "T_fake", "url": url, "members_url": format!("{url}/members{{/member}}"),
        "name": slug, "slug": slug, "description": null, "permission": "pull", "privacy": "closed",
        "notification_setting": "notifications_enabled", "html_url": format!("https://github.com/orgs/{org}/teams/{slug}"),
        "repositories_url": format!("{url}/repos"), "type": "organization", "parent": null,
    })
}

/// Whether `sha` has `ancestor` in its history (a fast-forward from `ancestor`).
fn descends(odb: &Odb, sha: &str, ancestor: &str) -> bool {
    let mut pending = vec![sha.to_string()];
    let mut seen = std::collections::HashSet::new();
    while let Some(c) = pending.pop() {
        if c == ancestor {
            return true;
        }
        if seen.insert(c.clone()) {
            if let Some(commit) = odb.commit(&c) {
                pending.extend(commit.parents.iter().cloned());
            }
        }
    }
    false
}

fn list_recursive(odb: &Odb, tree: &str, prefix: &str, out: &mut Vec<Value>) {
    for e in odb.tree(tree).cloned().unwrap_or_default() {
        let path = format!("{prefix}{}", e.name);
        out.push(tree_item_json(odb, &e, &path));
        if e.mode == "40000" {
            list_recursive(odb, &e.sha, &format!("{path}/"), out);
        }
    }
}

fn tree_item_json(odb: &Odb, e: &git::TreeEntry, path: &str) -> Value {
    match odb.objects.get(&e.sha) {
        Some(Object::Blob(b)) => {
            json!({ "path": path, "mode": e.mode, "type": "blob", "sha": e.sha, "size": b.len() })
        }
        _ => json!({ "path": path, "mode": "040000", "type": "tree", "sha": e.sha }),
    }
}

/// A `simple-user`, with every field GitHub's description requires.
fn user_json(login: &str) -> Value {
    let api = format!(
        "https://api.github.com/users/{}",
        login.replace('[', "%5B").replace(']', "%5D")
    );
    json!({
        "login": login, "id": 1, "node_id": "U_fake", "avatar_url": "https://avatars.githubusercontent.com/u/1",
        "gravatar_id": "", "url": api, "html_url": format!("https://github.com/{}", login.replace('[', "%5B").replace(']', "%5D")),
        "followers_url": format!("{api}/followers"), "following_url": format!("{api}/following{{/other_user}}"),
        "gists_url": format!("{api}/gists{{/gist_id}}"), "starred_url": format!("{api}/starred{{/owner}}{{/repo}}"),
        "subscriptions_url": format!("{api}/subscriptions"), "organizations_url": format!("{api}/orgs"),
        "repos_url": format!("{api}/repos"), "events_url": format!("{api}/events{{/privacy}}"),
        "received_events_url": format!("{api}/received_events"),
        "type": if login.ends_with("[bot]") { "Bot" } else { "User" }, "site_admin": false,
    })
}

/// A `full-repository` (also a valid `repository`).
fn repo_json(full: &str, id: u64, default_branch: &str) -> Value {
    let api = format!("https://api.github.com/repos/{full}");
    let (owner, name) = full.split_once('/').unwrap_or((full, full));
    let mut v = json!({
        "id": id, "node_id": "R_fake", "name": name, "full_name": full, "owner": user_json(owner),
        "private": false, "html_url": format!("https://github.com/{full}"), "description": null, "fork": false,
        "url": api, "git_url": format!("git://github.com/{full}.git"), "ssh_url": format!("git@github.com:{full}.git"),
        "clone_url": format!("https://github.com/{full}.git"), "svn_url": format!("https://github.com/{full}"),
        "mirror_url": null, "homepage": null, "language": null, "license": null, "default_branch": default_branch,
        "pushed_at": "2026-01-01T00:00:00Z", "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
    });
    for key in [
        "forks",
        "forks_count",
        "stargazers_count",
        "watchers_count",
        "watchers",
        "size",
        "open_issues",
        "open_issues_count",
        "network_count",
        "subscribers_count",
    ] {
        v[key] = json!(0);
    }
    for key in [
        "has_issues",
        "has_projects",
        "has_wiki",
        "has_pages",
        "has_downloads",
        "has_discussions",
        "archived",
        "disabled",
    ] {
        v[key] = json!(false);
    }
    for key in [
        "archive",
        "assignees",
        "blobs",
        "branches",
        "collaborators",
        "comments",
        "commits",
        "compare",
        "contents",
        "contributors",
        "deployments",
        "downloads",
        "events",
        "forks",
        "git_commits",
        "git_refs",
        "git_tags",
        "hooks",
        "issue_comment",
        "issue_events",
        "issues",
        "keys",
        "labels",
        "languages",
        "merges",
        "milestones",
        "notifications",
        "pulls",
        "releases",
        "stargazers",
        "statuses",
        "subscribers",
        "subscription",
        "tags",
        "teams",
        "trees",
    ] {
        v[format!("{key}_url")] = json!(format!("{api}/{key}"));
    }
    v
}

fn ref_json(base: &str, name: &str, sha: &str) -> Value {
    json!({
        "ref": format!("refs/heads/{name}"), "node_id": "REF_fake", "url": format!("{base}/git/refs/heads/{name}"),
        "object": { "type": "commit", "sha": sha, "url": format!("{base}/git/commits/{sha}") },
    })
}

fn git_commit_json(base: &str, sha: &str, c: &Commit) -> Value {
    let person = json!({ "name": c.author_name, "email": format!("{}@example.com", c.author_name), "date": "2026-01-01T00:00:00Z" });
    let html = base.replace("https://api.github.com/repos/", "https://github.com/");
    json!({
        "sha": sha, "node_id": "C_fake", "url": format!("{base}/git/commits/{sha}"), "html_url": format!("{html}/commit/{sha}"),
        "author": person, "committer": person, "message": c.message,
        "tree": { "sha": c.tree, "url": format!("{base}/git/trees/{}", c.tree) },
        "parents": c.parents.iter().map(|p| json!({ "sha": p, "url": format!("{base}/git/commits/{p}"), "html_url": format!("{html}/commit/{p}") })).collect::<Vec<_>>(),
        "verification": { "verified": false, "reason": "unsigned", "signature": null, "payload": null, "verified_at": null },
    })
}

/// A `commit` as the REST commit routes (and the compare route) answer it.
fn rest_commit_json(base: &str, full: &str, sha: &str, c: &Commit) -> Value {
    json!({
        "sha": sha, "node_id": "C_fake", "url": format!("{base}/commits/{sha}"),
        "html_url": format!("https://github.com/{full}/commit/{sha}"),
        "comments_url": format!("{base}/commits/{sha}/comments"),
        "commit": {
            "message": c.message, "url": format!("{base}/git/commits/{sha}"), "comment_count": 0,
            "tree": { "sha": c.tree, "url": format!("{base}/git/trees/{}", c.tree) },
            "author": { "name": c.author_name, "email": format!("{}@example.com", c.author_name), "date": "2026-01-01T00:00:00Z" },
            "committer": { "name": c.author_name, "email": format!("{}@example.com", c.author_name), "date": "2026-01-01T00:00:00Z" },
        },
        "author": c.author_login.as_deref().map(user_json),
        "committer": c.author_login.as_deref().map(user_json),
        "parents": c.parents.iter().map(|p| json!({ "sha": p, "url": format!("{base}/commits/{p}") })).collect::<Vec<_>>(),
    })
}

fn pull_json(base: &str, full: &str, repo: &Repo, p: &Pull) -> Value {
    let head_sha = pull_head(repo, p);
    let base_sha = repo.refs.get(&p.base).cloned().unwrap_or_default();
    let owner = full.split('/').next().unwrap_or("");
    let url = format!("{base}/pulls/{}", p.number);
    let html = format!("https://github.com/{full}/pull/{}", p.number);
    let issue = format!("{base}/issues/{}", p.number);
    let end = |name: &str, sha: &str| {
        json!({ "label": format!("{owner}:{name}"), "ref": name, "sha": sha, "user": user_json(owner),
                "repo": repo_json(full, repo.id, &repo.default_branch) })
    };
    let link = |href: &str| json!({ "href": href });
    let mut v = json!({
        "id": p.number * 10, "node_id": "PR_fake", "number": p.number, "state": p.state, "locked": false,
        "title": p.title, "body": p.body, "user": user_json(&p.user),
        "url": url, "html_url": html, "diff_url": format!("{html}.diff"), "patch_url": format!("{html}.patch"),
        "issue_url": issue, "commits_url": format!("{url}/commits"), "review_comments_url": format!("{url}/comments"),
        "review_comment_url": format!("{base}/pulls/comments{{/number}}"), "comments_url": format!("{issue}/comments"),
        "statuses_url": format!("{base}/statuses/{head_sha}"),
        "head": end(&p.head, &head_sha), "base": end(&p.base, &base_sha),
        "_links": {
            "self": link(&url), "html": link(&html), "issue": link(&issue), "comments": link(&format!("{issue}/comments")),
            "review_comments": link(&format!("{url}/comments")), "review_comment": link(&format!("{base}/pulls/comments{{/number}}")),
            "commits": link(&format!("{url}/commits")), "statuses": link(&format!("{base}/statuses/{head_sha}")),
        },
        "labels": repo.labels.get(&p.number).cloned().unwrap_or_default().iter().map(|l| label_json(base, l)).collect::<Vec<_>>(),
    });
    let (users, teams) = repo.requested.get(&p.number).cloned().unwrap_or_default();
    v["requested_reviewers"] = users.iter().map(|u| user_json(u)).collect();
    v["requested_teams"] = teams.iter().map(|t| team_json(owner, t)).collect();
    let assignees = repo.assignees.get(&p.number).cloned().unwrap_or_default();
    v["assignees"] = assignees.iter().map(|a| user_json(a)).collect();
    for (key, value) in [
        ("merged", json!(false)),
        ("mergeable_state", json!("unknown")),
        ("maintainer_can_modify", json!(false)),
        ("draft", json!(false)),
        ("author_association", json!("NONE")),
        ("comments", json!(0)),
        ("review_comments", json!(0)),
        ("commits", json!(1)),
        ("additions", json!(1)),
        ("deletions", json!(1)),
        ("changed_files", json!(1)),
        ("created_at", json!("2026-01-01T00:00:00Z")),
        ("updated_at", json!("2026-01-01T00:00:00Z")),
    ] {
        v[key] = value;
    }
    for key in [
        "merged_at",
        "closed_at",
        "merge_commit_sha",
        "merged_by",
        "mergeable",
        "milestone",
        "auto_merge",
    ] {
        v[key] = Value::Null;
    }
    v["assignee"] = assignees.first().map_or(Value::Null, |a| user_json(a));
    v
}

fn label_json(base: &str, name: &str) -> Value {
    let encoded: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b == b'-' {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    // An empty description, not `null`: `pull-request-simple` (the reviewer-request answer)
    // documents it as a string.
    json!({ "id": 1, "node_id": "L_fake", "url": format!("{base}/labels/{encoded}"), "name": name, "color": "ededed", "default": false, "description": "" })
}

fn comment_json(base: &str, c: &CommentState) -> Value {
    json!({
        "id": c.id, "node_id": "IC_fake", "url": format!("{base}/issues/comments/{}", c.id),
        "html_url": format!("{}#issuecomment-{}", base.replace("https://api.github.com/repos/", "https://github.com/"), c.id),
        "issue_url": format!("{base}/issues/{}", c.issue), "body": c.body, "user": user_json(&c.user),
        "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z", "author_association": "NONE",
    })
}

fn check_run_json(base: &str, r: &CheckRunState) -> Value {
    json!({
        "id": r.id, "node_id": "CR_fake", "head_sha": r.head_sha, "external_id": "", "name": r.name,
        "url": format!("{base}/check-runs/{}", r.id),
        "html_url": format!("{}/runs/{}", base.replace("https://api.github.com/repos/", "https://github.com/"), r.id),
        "details_url": null,
        "status": "completed", "conclusion": r.conclusion, "started_at": "2026-01-01T00:00:00Z", "completed_at": "2026-01-01T00:00:00Z",
        "output": { "title": r.title, "summary": r.summary, "text": null, "annotations_count": r.annotations.len(), "annotations_url": format!("{base}/check-runs/{}/annotations", r.id) },
        "check_suite": { "id": 1 }, "app": null, "pull_requests": [],
    })
}

/// Percent-encodes a query value (everything but unreserved characters).
fn encode_component(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
