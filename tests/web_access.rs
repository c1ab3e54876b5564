//! Access to the dashboard: sign-in through the fake GitHub's OAuth endpoints, sessions in
//! signed cookies, CSRF on forms, and, over every data route, that a person sees nothing of a
//! repository GitHub does not let them see.

mod fake_github;
mod support;
mod web_support;

use axum::Router;
use axum::http::{StatusCode, header};
use fake_github::FakeGitHub;
use patchwright::web::{self, DATA_ROUTES};
use support::{ManualClock, TestDb};
use web_support::{
    PUBLIC_REPO, SECRET_MARKERS, SECRET_REPO, authorize, call, cookie_pair, set_cookie, sign_in,
};

const NOW: &str = "2026-06-15T12:00:00Z";

async fn setup() -> (TestDb, FakeGitHub, Router) {
    let db = TestDb::sqlite().await;
    let clock = ManualClock::at(NOW);
    web_support::seed(&db.store, NOW.parse().unwrap()).await;
    let fake = FakeGitHub::start().await;
    web_support::people(&fake);
    let state = web_support::web_state(db.store.clone(), &fake, "http://dashboard.test", clock);
    let app = web::router(state);
    (db, fake, app)
}

fn fill(route: &str, repo: i64) -> String {
    route
        .replace("{id}", &repo.to_string())
        .replace("{tier}", "internet-facing")
        .replace("{owner}", "%40acme%2Fhush-team")
}

#[tokio::test]
async fn a_person_without_access_sees_nothing_of_a_repository_on_any_route() {
    let (_db, fake, app) = setup().await;
    let alice = sign_in(&app, &fake, "alice").await;
    let mallory = sign_in(&app, &fake, "mallory").await;
    for route in DATA_ROUTES {
        for cookie in [&alice, &mallory] {
            let uri = fill(route, SECRET_REPO.0);
            let a = call(&app, "GET", &uri, Some(cookie), "").await;
            for marker in SECRET_MARKERS {
                assert!(
                    !a.body.contains(marker),
                    "{uri} leaks `{marker}` to {cookie}: {}",
                    a.body
                );
            }
            if route.contains("{id}") || route.contains("{owner}") {
                assert_eq!(a.status, StatusCode::NOT_FOUND, "{uri}");
            } else {
                assert_eq!(a.status, StatusCode::OK, "{uri}: {}", a.body);
            }
        }
        // Alice sees her own repository on the same routes.
        let uri = fill(route, PUBLIC_REPO.0).replace("hush-team", "web");
        let a = call(&app, "GET", &uri, Some(&alice), "").await;
        assert_eq!(a.status, StatusCode::OK, "{uri}: {}", a.body);
    }
    // And what she sees is hers: the storefront's open finding and the merged fix PR.
    let page = call(&app, "GET", "/dashboard/repos/101", Some(&alice), "").await;
    assert!(
        page.body.contains("acme&#x2f;storefront") && page.body.contains("GHSA-qs"),
        "{}",
        page.body
    );
    // Her repository's image lineage: node 18, then 20, on the page, in JSON and CSV.
    let lineage = call(
        &app,
        "GET",
        "/dashboard/repos/101/lineage",
        Some(&alice),
        "",
    )
    .await;
    assert!(
        lineage.body.contains("node:18") && lineage.body.contains("node:20"),
        "{}",
        lineage.body
    );
    let stages: serde_json::Value = serde_json::from_str(
        &call(
            &app,
            "GET",
            "/api/v1/repositories/101/lineage",
            Some(&alice),
            "",
        )
        .await
        .body,
    )
    .unwrap();
    assert_eq!(stages[0]["stage"], "runtime");
    assert_eq!(stages[0]["steps"][1]["tag"], "20");
    assert_eq!(stages[0]["steps"][1]["commit"], "commit-20");
    let csv = call(
        &app,
        "GET",
        "/export/repositories/101/lineage.csv",
        Some(&alice),
        "",
    )
    .await;
    assert!(
        csv.body.starts_with(
            "file,stage,image,tag,digest,first_seen,last_seen,commit,current,fix_pr,cleared\n"
        ) && csv.body.contains("Dockerfile,runtime,node,20,,"),
        "{}",
        csv.body
    );
    let figures: serde_json::Value = serde_json::from_str(
        &call(&app, "GET", "/api/v1/figures", Some(&alice), "")
            .await
            .body,
    )
    .unwrap();
    assert_eq!(figures["repositories"], 1);
    assert_eq!(figures["fix_prs"]["merged"], 1);
    assert_eq!(
        figures["fix_prs"]["opened"], 1,
        "the hidden repository's PR is not counted"
    );
}

#[tokio::test]
async fn without_a_valid_session_every_data_route_refuses() {
    let (_db, fake, app) = setup().await;
    let alice = sign_in(&app, &fake, "alice").await;
    // A cookie signed with another key, and one whose token was changed.
    let forged = {
        let key = patchwright::web::session::SessionKey::new(
            patchwright::infra::secret::Secret::new("another-key-another-key-another-key"),
        )
        .unwrap();
        format!("pw_session={}", key.sign("0".repeat(64).as_str()))
    };
    let tampered = alice.replacen("pw_session=", "pw_session=f", 1);
    for route in DATA_ROUTES {
        let uri = fill(route, PUBLIC_REPO.0);
        for cookie in [None, Some(forged.as_str()), Some(tampered.as_str())] {
            let a = call(&app, "GET", &uri, cookie, "").await;
            assert!(
                !a.body.contains("storefront") && !a.body.contains("hush"),
                "{uri}: {}",
                a.body
            );
            if route.starts_with("/dashboard") {
                assert_eq!(a.status, StatusCode::SEE_OTHER, "{uri}");
                assert_eq!(a.headers[header::LOCATION], "/login");
            } else {
                assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{uri}");
            }
        }
    }
}

#[tokio::test]
async fn an_admin_sees_every_repository() {
    let (_db, fake, app) = setup().await;
    let admin = sign_in(&app, &fake, "root-admin").await;
    let a = call(&app, "GET", "/dashboard/repos/202", Some(&admin), "").await;
    assert_eq!(a.status, StatusCode::OK);
    // (HTML escapes `/`.)
    assert!(
        a.body.contains("hush-payroll") && a.body.contains("hush-team"),
        "{}",
        a.body
    );
    let csv = call(&app, "GET", "/export/open-findings.csv", Some(&admin), "").await;
    assert!(
        csv.body
            .starts_with("repository,level,severity,package,advisory,owners,since,due,sla\n"),
        "{}",
        csv.body
    );
    assert!(
        csv.body
            .contains("acme/hush-payroll,blocker,critical,hushlib,GHSA-hushlib,@acme/hush-team"),
        "{}",
        csv.body
    );
    // Critical: 7 days from the first scan 40 days ago: breached.
    assert!(
        csv.body
            .lines()
            .any(|l| l.contains("hushlib") && l.ends_with(",breached")),
        "{}",
        csv.body
    );
}

#[tokio::test]
async fn forms_need_the_session_csrf_token_and_sign_out_ends_the_session() {
    let (_db, fake, app) = setup().await;
    let admin = sign_in(&app, &fake, "root-admin").await;
    let page = call(&app, "GET", "/dashboard", Some(&admin), "").await;
    let csrf = page
        .body
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the page's forms carry a CSRF token")
        .to_string();
    let refused = call(
        &app,
        "POST",
        "/dashboard/snapshots",
        Some(&admin),
        "csrf=wrong",
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let rebuilt = call(
        &app,
        "POST",
        "/dashboard/snapshots",
        Some(&admin),
        &format!("csrf={csrf}"),
    )
    .await;
    assert_eq!(rebuilt.status, StatusCode::SEE_OTHER, "{}", rebuilt.body);
    assert_eq!(
        call(&app, "POST", "/logout", Some(&admin), "").await.status,
        StatusCode::FORBIDDEN
    );
    let out = call(
        &app,
        "POST",
        "/logout",
        Some(&admin),
        &format!("csrf={csrf}"),
    )
    .await;
    assert_eq!(out.status, StatusCode::OK);
    assert!(
        set_cookie(&out, "pw_session")
            .unwrap()
            .contains("Max-Age=0")
    );
    // The old cookie no longer opens anything.
    assert_eq!(
        call(&app, "GET", "/api/v1/figures", Some(&admin), "")
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    // A non-admin cannot rebuild even with her own token.
    let alice = sign_in(&app, &fake, "alice").await;
    let page = call(&app, "GET", "/dashboard", Some(&alice), "").await;
    assert!(!page.body.contains("/dashboard/snapshots"));
}

#[tokio::test]
async fn a_callback_without_the_matching_state_or_with_a_bad_code_starts_no_session() {
    let (_db, fake, app) = setup().await;
    fake.browser_signed_in_as("alice");
    let start = call(&app, "GET", "/login", None, "").await;
    let to_github = start.headers[header::LOCATION]
        .to_str()
        .unwrap()
        .to_string();
    let back = authorize(&to_github).await;
    let path = back.strip_prefix("http://dashboard.test").unwrap();
    // No state cookie: refused before any code exchange.
    let a = call(&app, "GET", path, None, "").await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(set_cookie(&a, "pw_session").is_none());
    // The right state, a code GitHub does not know.
    let state_cookie = cookie_pair(set_cookie(&start, "pw_oauth_state").unwrap());
    let state = to_github.split("state=").nth(1).unwrap();
    let a = call(
        &app,
        "GET",
        &format!("/oauth/callback?code=nope&state={state}"),
        Some(&state_cookie),
        "",
    )
    .await;
    assert_eq!(a.status, StatusCode::BAD_GATEWAY, "{}", a.body);
    assert!(a.body.contains("incorrect or expired"), "{}", a.body);
    assert!(!a.body.contains("test-client-secret"));
    assert!(set_cookie(&a, "pw_session").is_none());
}

#[test]
fn every_dashboard_route_is_walked_by_the_access_tests() {
    // The router's GET data routes, read from its source: one missing from DATA_ROUTES would
    // escape the tests above.
    let source = include_str!("../src/web/mod.rs");
    let mut walked = 0;
    for piece in source.split(".route(").skip(1) {
        let path = piece.split('"').nth(1).unwrap();
        walked += 1;
        if [
            "/login",
            "/oauth/callback",
            "/logout",
            "/dashboard/snapshots",
            "/setup",
            "/setup/callback",
        ]
        .contains(&path)
        {
            continue;
        }
        assert!(
            DATA_ROUTES
                .iter()
                .any(|r| r.split('?').next() == Some(path)),
            "{path} is not in DATA_ROUTES"
        );
    }
    assert_eq!(walked, DATA_ROUTES.len() + 6);
}
