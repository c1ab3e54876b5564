//! `/setup`, GitHub's App manifest flow, against the fake GitHub's new-App page and its
//! stateful `POST /app-manifests/{code}/conversions`: admins only inside the dashboard, anyone
//! before any configuration (`patchwright setup`), the `state` checked, the credentials
//! written once to a 0600 file and shown nowhere.

mod fake_github;
mod support;
mod web_support;

use axum::Router;
use axum::http::{Request, StatusCode, header};
use fake_github::FakeGitHub;
use http_body_util::BodyExt;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use patchwright::web::setup::{SetupSettings, Unconfigured};
use patchwright::web::{self, WebConfig, WebState};
use std::path::Path;
use support::{ManualClock, TestDb};
use web_support::{SESSION_KEY, call, cookie_pair, set_cookie, sign_in};

const NOW: &str = "2026-06-15T12:00:00Z";
const PUBLIC: &str = "http://dashboard.test";

/// What minijinja's HTML escaping did to an attribute's text, undone.
fn unescape(text: &str) -> String {
    text.replace("&#x2f;", "/")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The form's action and its hidden manifest.
fn form(html: &str) -> (String, String) {
    let attr = |after: &str| {
        let start = html
            .find(after)
            .unwrap_or_else(|| panic!("no {after} in {html}"))
            + after.len();
        unescape(&html[start..start + html[start..].find('"').unwrap()])
    };
    (attr("action=\""), attr("name=\"manifest\" value=\""))
}

/// What the browser does with the form: posts it to GitHub, which redirects it back.
async fn post_to_github(action: &str, manifest: &str) -> String {
    let client: Client<_, String> = Client::builder(TokioExecutor::new()).build_http();
    let body: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("manifest", manifest)
        .finish();
    let response = client
        .request(
            Request::post(action)
                .header(header::USER_AGENT, "test-browser")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(body)
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::FOUND,
        "GitHub redirects back"
    );
    let location = response.headers()[header::LOCATION]
        .to_str()
        .unwrap()
        .to_string();
    let _ = response.into_body().collect().await;
    location
}

fn conversions(fake: &FakeGitHub) -> usize {
    fake.requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path.starts_with("/app-manifests/"))
        .count()
}

fn dashboard(db: &TestDb, fake: &FakeGitHub, output: Option<&Path>) -> Router {
    let mut text = format!(
        "client-id = \"Iv1.testclient\"\nclient-secret = \"test-client-secret\"\n\
         session-key = \"{SESSION_KEY}\"\npublic-url = \"{PUBLIC}\"\ngithub-url = \"{}\"\n\
         admins = [\"@Root-Admin\"]\n",
        fake.url
    );
    if let Some(output) = output {
        text.push_str(&format!(
            "setup-output = \"{}\"\nsetup-organisation = \"acme\"\n",
            output.display()
        ));
    }
    let config = WebConfig::from_toml(toml::from_str(&text).unwrap(), |_| None).unwrap();
    let state = WebState::new(
        db.store.clone(),
        config,
        &fake.url,
        ManualClock::at(NOW),
        patchwright::policy::SlaDays::default(),
    )
    .unwrap();
    web::router(state)
}

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[tokio::test]
async fn an_admin_creates_the_app_and_its_credentials_land_in_a_0600_file_once() {
    let db = TestDb::sqlite().await;
    let fake = FakeGitHub::start().await;
    web_support::people(&fake);
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("github-app.toml");
    let app = dashboard(&db, &fake, Some(&output));

    // Nobody signed in: off to sign in. A person who is not an admin: refused, no form.
    let anonymous = call(&app, "GET", "/setup", None, "").await;
    assert_eq!(anonymous.status, StatusCode::SEE_OTHER);
    let alice = sign_in(&app, &fake, "alice").await;
    let refused = call(&app, "GET", "/setup", Some(&alice), "").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(!refused.body.contains("<form") && set_cookie(&refused, "pw_setup_state").is_none());
    let refused = call(
        &app,
        "GET",
        "/setup/callback?code=x&state=y",
        Some(&alice),
        "",
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);

    let admin = sign_in(&app, &fake, "root-admin").await;
    let start = call(&app, "GET", "/setup", Some(&admin), "").await;
    assert_eq!(start.status, StatusCode::OK, "{}", start.body);
    let state_cookie = cookie_pair(set_cookie(&start, "pw_setup_state").expect("a state cookie"));
    let (action, manifest) = form(&start.body);
    assert!(
        action.starts_with(&format!(
            "{}/organizations/acme/settings/apps/new?state=",
            fake.url
        )),
        "{action}"
    );
    let back = post_to_github(&action, &manifest).await;
    let path = back.strip_prefix(PUBLIC).expect("back to the public URL");
    assert!(path.starts_with("/setup/callback?code="), "{path}");
    let created = &fake.manifest_apps()[0];
    assert_eq!(created.owner, "acme");
    assert_eq!(
        created.manifest["hook_attributes"]["url"],
        "http://dashboard.test/webhook"
    );
    assert_eq!(
        created.manifest["default_permissions"]["pull_requests"],
        "write"
    );

    // GitHub's answer without the page's state cookie, or with another state: no conversion.
    let no_cookie = call(&app, "GET", path, Some(&admin), "").await;
    assert_eq!(no_cookie.status, StatusCode::BAD_REQUEST);
    let other_state = path.replace("state=", "state=0");
    let both = format!("{admin}; {state_cookie}");
    let forged = call(&app, "GET", &other_state, Some(&both), "").await;
    assert_eq!(forged.status, StatusCode::BAD_REQUEST);
    assert_eq!(conversions(&fake), 0);

    let done = call(&app, "GET", path, Some(&both), "").await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert!(done.body.contains("github-app.toml"), "{}", done.body);
    assert_eq!(mode(&output), 0o600);
    let written: toml::Value = toml::from_str(&std::fs::read_to_string(&output).unwrap()).unwrap();
    let created = &fake.manifest_apps()[0];
    assert!(created.converted);
    assert_eq!(written["app-id"].as_integer(), Some(created.id as i64));
    assert_eq!(written["app-slug"].as_str(), Some(created.slug.as_str()));
    assert_eq!(
        written["webhook-secret"].as_str(),
        Some(created.webhook_secret.as_str())
    );
    assert_eq!(
        written["client-secret"].as_str(),
        Some(created.client_secret.as_str())
    );
    assert_eq!(
        written["private-key"].as_str(),
        Some(fake.private_key_pem().as_str())
    );
    for secret in [&created.webhook_secret, &created.client_secret] {
        assert!(
            !done.body.contains(secret.as_str()),
            "the page shows a secret"
        );
    }
    assert!(!done.body.contains("PRIVATE KEY"));

    // The same answer again: the file is there, so the code is not spent and nothing changes.
    let before = std::fs::read_to_string(&output).unwrap();
    let again = call(&app, "GET", path, Some(&both), "").await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
    assert_eq!(conversions(&fake), 1);
    assert_eq!(std::fs::read_to_string(&output).unwrap(), before);
    // With the file gone, GitHub refuses the spent code and nothing is written.
    std::fs::remove_file(&output).unwrap();
    let spent = call(&app, "GET", path, Some(&both), "").await;
    assert_eq!(spent.status, StatusCode::BAD_GATEWAY, "{}", spent.body);
    assert!(!output.exists());
}

#[tokio::test]
async fn without_setup_output_the_dashboard_has_no_setup() {
    let db = TestDb::sqlite().await;
    let fake = FakeGitHub::start().await;
    web_support::people(&fake);
    let app = dashboard(&db, &fake, None);
    let admin = sign_in(&app, &fake, "root-admin").await;
    let a = call(&app, "GET", "/setup", Some(&admin), "").await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert!(a.body.contains("setup-output"), "{}", a.body);
}

#[tokio::test]
async fn before_any_configuration_patchwright_setup_serves_the_flow_and_says_when_done() {
    let fake = FakeGitHub::start().await;
    fake.browser_signed_in_as("octocat");
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("app.toml");
    let setup = Unconfigured::new(
        SetupSettings {
            github_url: fake.url.clone(),
            api_url: fake.url.clone(),
            public_url: "https://pw.example.com".into(),
            output: output.clone(),
            organisation: None,
            name: "patchwright-test".into(),
        },
        ManualClock::at(NOW),
    )
    .unwrap();
    let created = setup.created();
    let app = setup.router();
    let start = call(&app, "GET", "/setup", None, "").await;
    assert_eq!(start.status, StatusCode::OK, "{}", start.body);
    let state_cookie = cookie_pair(set_cookie(&start, "pw_setup_state").unwrap());
    let (action, manifest) = form(&start.body);
    assert!(
        action.starts_with(&format!("{}/settings/apps/new?state=", fake.url)),
        "{action}"
    );
    let back = post_to_github(&action, &manifest).await;
    let path = back.strip_prefix("https://pw.example.com").unwrap();
    assert_eq!(
        call(&app, "GET", path, None, "").await.status,
        StatusCode::BAD_REQUEST,
        "the state cookie is checked here too"
    );
    assert!(created.borrow().is_none());
    let done = call(&app, "GET", path, Some(&state_cookie), "").await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    let apps = fake.manifest_apps();
    assert_eq!(
        (apps[0].owner.as_str(), apps[0].slug.as_str()),
        ("octocat", "patchwright-test")
    );
    assert_eq!(*created.borrow(), Some(apps[0].id as i64));
    assert_eq!(mode(&output), 0o600);
}
