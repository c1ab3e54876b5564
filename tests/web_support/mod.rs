//! Shared by the dashboard tests: a store with two repositories' history, the fake GitHub's
//! sign-in, and the dashboard router.

#![allow(dead_code)]

use crate::fake_github::FakeGitHub;
use axum::Router;
use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode, header};
use chrono::{DateTime, TimeDelta, Utc};
use http_body_util::BodyExt;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use patchwright::infra::clock::Clock;
use patchwright::store::Store;
use patchwright::store::audit::{self, AuditEntry};
use patchwright::store::findings::{self, SeenFinding};
use patchwright::store::fix_prs::{self, OpenedFixPr};
use patchwright::store::history;
use patchwright::store::installations::{self, RepositoryUpsert};
use patchwright::web::{WebConfig, WebState};
use std::sync::Arc;
use tower::ServiceExt;

pub const PUBLIC_REPO: (i64, &str) = (101, "acme/storefront");
/// Everything about this one carries "hush" so a leak is easy to find in any answer.
pub const SECRET_REPO: (i64, &str) = (202, "acme/hush-payroll");
pub const SECRET_MARKERS: [&str; 1] = ["hush"];

pub fn seen(key: &str, level: &str, severity: &str, owners: &[&str]) -> SeenFinding {
    SeenFinding {
        key: format!("vulnerable-package|package-lock.json|{key}|GHSA-{key}"),
        rule: "vulnerable-package".into(),
        subject: format!("{key}@1.0.0"),
        file: "package-lock.json".into(),
        line: 3,
        level: level.into(),
        advisories: vec![format!("GHSA-{key}")],
        severity: severity.into(),
        package: key.to_string(),
        owners: owners.iter().map(|o| o.to_string()).collect(),
        excepted: false,
    }
}

/// Two repositories with findings, fixes, a fix PR and an audit trail each, scanned through
/// `record_scan` over 40 days up to `now`.
pub async fn seed(store: &Store, now: DateTime<Utc>) {
    let pool = store.pool();
    let t0 = now - TimeDelta::days(40);
    installations::upsert_installation(pool, 1, "acme", t0)
        .await
        .unwrap();
    for (id, name) in [PUBLIC_REPO, SECRET_REPO] {
        installations::upsert_repository(
            pool,
            &RepositoryUpsert {
                id,
                installation_id: 1,
                full_name: name,
                default_branch: Some("main"),
                private: Some(true),
            },
            t0,
        )
        .await
        .unwrap();
        history::set_tier(pool, id, "internet-facing", t0)
            .await
            .unwrap();
    }
    let scan = |repo: i64, seen: Vec<SeenFinding>, at: DateTime<Utc>| async move {
        let mut tx = store.begin().await.unwrap();
        findings::record_scan(&mut tx, repo, &seen, at)
            .await
            .unwrap();
        tx.commit().await.unwrap();
    };
    let web = ["@acme/web"];
    let hush = ["@acme/hush-team"];
    scan(
        101,
        vec![
            seen("lodash", "blocker", "high", &web),
            seen("qs", "warning", "medium", &web),
        ],
        t0,
    )
    .await;
    scan(202, vec![seen("hushlib", "blocker", "critical", &hush)], t0).await;
    // Ten days later lodash is fixed by a merged fix PR; hushlib stays.
    fix_prs::insert(
        pool,
        &OpenedFixPr {
            repository_id: 101,
            number: 5,
            branch: "patchwright/npm/lodash",
            fix_key: "npm:lodash",
            head_sha: "a",
        },
        t0 + TimeDelta::days(2),
    )
    .await
    .unwrap();
    fix_prs::insert(
        pool,
        &OpenedFixPr {
            repository_id: 202,
            number: 9,
            branch: "patchwright/npm/hushlib",
            fix_key: "npm:hushlib",
            head_sha: "b",
        },
        t0 + TimeDelta::days(2),
    )
    .await
    .unwrap();
    fix_prs::record_closed(pool, 101, 5, true, false, t0 + TimeDelta::days(10))
        .await
        .unwrap();
    scan(
        101,
        vec![seen("qs", "warning", "medium", &web)],
        t0 + TimeDelta::days(10),
    )
    .await;
    scan(
        202,
        vec![seen("hushlib", "blocker", "critical", &hush)],
        t0 + TimeDelta::days(10),
    )
    .await;
    // Base images: the storefront moved from node 18 to 20; the hidden one's carry "hush".
    for (repo, at, image, tag) in [
        (101, t0, "node", "18"),
        (101, t0 + TimeDelta::days(10), "node", "20"),
        (202, t0, "registry.example/hush/base", "1"),
    ] {
        let mut conn = store.pool().acquire().await.unwrap();
        let seen = patchwright::remediation::lineage::BaseImageSeen {
            file: "Dockerfile".into(),
            stage: "runtime".into(),
            image: image.into(),
            tag: tag.into(),
            digest: None,
        };
        patchwright::store::lineage::record(&mut conn, repo, &format!("commit-{tag}"), &[seen], at)
            .await
            .unwrap();
    }
    for (repo, what) in [
        (101, "#5 for npm:lodash (blocker)"),
        (202, "#9 for npm:hushlib (hush)"),
    ] {
        let mut entry = AuditEntry::new(t0 + TimeDelta::days(2), "fix-pr-opened", what);
        entry.installation_id = Some(1);
        entry.repository_id = Some(repo);
        audit::record(pool, &entry).await.unwrap();
    }
    history::rebuild_snapshots(
        store,
        (now - TimeDelta::days(90)).date_naive(),
        now.date_naive(),
    )
    .await
    .unwrap();
}

pub const SESSION_KEY: &str = "0123456789abcdef0123456789abcdef-test-only";

pub fn web_config(github: &str, public_url: &str) -> WebConfig {
    let table: toml::Value = toml::from_str(&format!(
        r#"client-id = "Iv1.testclient"
client-secret = "test-client-secret"
session-key = "{SESSION_KEY}"
public-url = "{public_url}"
github-url = "{github}"
admins = ["@Root-Admin"]
"#
    ))
    .unwrap();
    WebConfig::from_toml(table, |_| None).unwrap()
}

pub fn web_state(
    store: Store,
    fake: &FakeGitHub,
    public_url: &str,
    clock: Arc<dyn Clock>,
) -> WebState {
    WebState::new(
        store,
        web_config(&fake.url, public_url),
        &fake.url,
        clock,
        patchwright::policy::SlaDays::default(),
    )
    .unwrap()
}

/// The people of the tests: alice sees the storefront only; root-admin is an admin; mallory
/// is signed in to GitHub but sees no repository of the App.
pub fn people(fake: &FakeGitHub) {
    fake.add_installation(1, "acme");
    fake.add_oauth_user("alice", 1, &[PUBLIC_REPO]);
    fake.add_oauth_user("root-admin", 1, &[PUBLIC_REPO]);
    fake.add_oauth_user("mallory", 1, &[]);
}

// ---- Requests to the dashboard and sign-in through the fake GitHub ------------------------

pub struct Answer {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: String,
}

pub async fn call(
    app: &Router,
    method: &str,
    uri: &str,
    cookie: Option<&str>,
    body: &str,
) -> Answer {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, c);
    }
    if method == "POST" {
        req = req.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    }
    let response = app
        .clone()
        .oneshot(req.body(Body::from(body.to_string())).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = to_bytes(response.into_body(), 64 << 20).await.unwrap();
    Answer {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

pub fn set_cookie<'a>(a: &'a Answer, name: &str) -> Option<&'a str> {
    a.headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
}

pub fn cookie_pair(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap().to_string()
}

/// What a browser does on GitHub's authorize page: follows it to the redirect.
pub async fn authorize(url: &str) -> String {
    let client: Client<_, http_body_util::Empty<axum::body::Bytes>> =
        Client::builder(TokioExecutor::new()).build_http();
    let response = client
        .request(
            Request::get(url)
                .header(header::USER_AGENT, "test-browser")
                .body(http_body_util::Empty::new())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::FOUND,
        "the authorize page redirects"
    );
    let location = response.headers()[header::LOCATION]
        .to_str()
        .unwrap()
        .to_string();
    let _ = response.into_body().collect().await;
    location
}

/// Signs `login` in through `/login`, GitHub's authorize page and `/oauth/callback`; returns
/// the session cookie (`name=value`).
pub async fn sign_in(app: &Router, fake: &FakeGitHub, login: &str) -> String {
    fake.browser_signed_in_as(login);
    let start = call(app, "GET", "/login", None, "").await;
    assert_eq!(start.status, StatusCode::SEE_OTHER);
    let to_github = start.headers[header::LOCATION].to_str().unwrap();
    assert!(
        to_github.starts_with(&format!("{}/login/oauth/authorize?", fake.url)),
        "{to_github}"
    );
    assert!(to_github.contains("client_id=Iv1.testclient"));
    let state_cookie = cookie_pair(set_cookie(&start, "pw_oauth_state").expect("a state cookie"));
    let back = authorize(to_github).await;
    let path = back
        .strip_prefix("http://dashboard.test")
        .expect("back to the public URL");
    assert!(path.starts_with("/oauth/callback?code="), "{path}");
    let done = call(app, "GET", path, Some(&state_cookie), "").await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.headers[header::LOCATION], "/dashboard");
    let session = set_cookie(&done, "pw_session").expect("a session cookie");
    for part in ["HttpOnly", "Secure", "SameSite=Lax", "Max-Age=28800"] {
        assert!(session.contains(part), "{session}");
    }
    cookie_pair(session)
}
