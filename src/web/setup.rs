//! `/setup`: GitHub's App manifest flow. A page posts the App's manifest (name, webhook URL,
//! permissions, events) to GitHub; the operator confirms there; GitHub sends the browser back
//! to `/setup/callback` with a one-time code, which is exchanged with
//! `POST /app-manifests/{code}/conversions` for the App's id, private key and secrets. Those
//! go to the file the operator named, created with mode 0600, and nowhere else: not in logs,
//! not in the answer.
//!
//! Two ways in: inside the dashboard, for admins only, when `[web] setup-output` names the
//! file; and `patchwright setup`, which serves nothing but these two routes while no App is
//! configured. Either way the `state` GitHub hands back must match a signed cookie set by the
//! page, so nobody can make the service convert a code of theirs.

use super::WebState;
use super::access;
use super::oauth::{CreatedApp, GitHubOAuth};
use super::session::{self, SessionKey};
use crate::infra::secret::Secret;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, Utc};
use minijinja::context;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The cookie that holds the flow's `state`, signed.
pub const SETUP_STATE_COOKIE: &str = "pw_setup_state";
/// How long a person may take on GitHub's page (GitHub's code itself lives an hour).
const STATE_MINUTES: i64 = 30;

#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error(
        "{0}: the file already exists (it may hold another App's key); move it away or name another file"
    )]
    Exists(PathBuf),
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// What the flow needs, from `[web]` or from `patchwright setup`'s flags.
#[derive(Debug, Clone)]
pub struct SetupSettings {
    /// Where the App is created: `https://github.com` or a GitHub Enterprise Server's root.
    pub github_url: String,
    /// The REST API root, for the conversion.
    pub api_url: String,
    /// Where GitHub reaches this service: the webhook is `<public-url>/webhook`.
    pub public_url: String,
    /// The file the App's id, key and secrets are written to (mode 0600, never overwritten).
    pub output: PathBuf,
    /// Create the App under this organisation instead of the person's own account.
    pub organisation: Option<String>,
    /// The App's name on GitHub (unique there).
    pub name: String,
}

/// The events the service handles that an App subscribes to (installation events come to
/// every App without asking).
pub const EVENTS: [&str; 3] = ["push", "pull_request", "issue_comment"];

/// The App's manifest: what the service needs and nothing more (see README, "The GitHub App
/// service").
pub fn manifest(public_url: &str, name: &str) -> serde_json::Value {
    let public_url = public_url.trim_end_matches('/');
    serde_json::json!({
        "name": name,
        "url": public_url,
        "description": "Keeps container images and dependencies inside the organisation's security policy.",
        "hook_attributes": { "url": format!("{public_url}/webhook"), "active": true },
        "redirect_url": format!("{public_url}/setup/callback"),
        "callback_urls": [format!("{public_url}/oauth/callback")],
        "public": false,
        "default_permissions": {
            "contents": "write",
            "pull_requests": "write",
            "issues": "write",
            "checks": "write",
            "metadata": "read",
        },
        "default_events": EVENTS,
    })
}

/// Where the page's form posts the manifest.
pub fn new_app_url(github_url: &str, organisation: Option<&str>, state: &str) -> String {
    let github_url = github_url.trim_end_matches('/');
    let path = match organisation {
        Some(org) => format!(
            "/organizations/{}/settings/apps/new",
            url::form_urlencoded::byte_serialize(org.as_bytes()).collect::<String>()
        ),
        None => "/settings/apps/new".to_string(),
    };
    let mut url = url::Url::parse(&format!("{github_url}{path}"))
        .expect("the GitHub URL was checked when configured");
    url.query_pairs_mut().append_pair("state", state);
    url.to_string()
}

#[derive(serde::Serialize)]
#[serde(rename_all = "kebab-case")]
struct CredentialsFile<'a> {
    app_id: i64,
    app_slug: &'a str,
    webhook_secret: Option<&'a str>,
    client_id: &'a str,
    client_secret: &'a str,
    private_key: &'a str,
}

/// The credentials file's text: TOML, with a note on where each value goes.
pub fn credentials_toml(app: &CreatedApp, now: DateTime<Utc>) -> String {
    let body = toml::to_string(&CredentialsFile {
        app_id: app.id,
        app_slug: &app.slug,
        webhook_secret: app.webhook_secret.as_ref().map(Secret::expose),
        client_id: &app.client_id,
        client_secret: app.client_secret.expose(),
        private_key: app.pem.expose(),
    })
    .expect("plain strings and integers serialise");
    format!(
        "# The GitHub App `{}` (id {}), created through patchwright's /setup at {}.\n\
         # Secret: keep it readable by its owner only. In the service's configuration: app-id and\n\
         # app-slug as they are; private-key into the file private-key-path names; webhook-secret\n\
         # (or PATCHWRIGHT_WEBHOOK_SECRET); client-id and client-secret into [web].\n{body}",
        app.slug,
        app.id,
        now.format("%Y-%m-%d %H:%M UTC"),
    )
}

/// Creates `path` readable and writable by its owner only (0600 from the start, not after)
/// and writes `text`; never replaces an existing file. A failed write leaves no file.
pub fn write_credentials(path: &Path, text: &str) -> Result<(), SetupError> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = match options.open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(SetupError::Exists(path.to_path_buf()));
        }
        Err(source) => {
            return Err(SetupError::Write {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    let written = file
        .write_all(text.as_bytes())
        .and_then(|()| file.sync_all());
    if let Err(source) = written {
        drop(file);
        let _ = std::fs::remove_file(path);
        return Err(SetupError::Write {
            path: path.to_path_buf(),
            source,
        });
    }
    Ok(())
}

fn page(
    templates: &minijinja::Environment<'static>,
    status: StatusCode,
    ctx: minijinja::Value,
) -> Response {
    match templates
        .get_template("setup.html")
        .and_then(|t| t.render(ctx))
    {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => access::internal(e),
    }
}

fn message(
    templates: &minijinja::Environment<'static>,
    status: StatusCode,
    text: &str,
) -> Response {
    page(templates, status, context! { message => text })
}

/// The page with the form, and the signed `state` cookie it needs back.
fn start(
    settings: &SetupSettings,
    key: &SessionKey,
    templates: &minijinja::Environment<'static>,
) -> Response {
    let state = session::new_token();
    let manifest = manifest(&settings.public_url, &settings.name);
    let mut response = page(
        templates,
        StatusCode::OK,
        context! {
            action => new_app_url(&settings.github_url, settings.organisation.as_deref(), &state),
            manifest => manifest.to_string(),
            name => settings.name.clone(),
            owner => settings.organisation.clone(),
            output => settings.output.display().to_string(),
            webhook => manifest["hook_attributes"]["url"].clone().as_str().unwrap_or_default().to_string(),
            events => EVENTS,
        },
    );
    let cookie = session::set_cookie(SETUP_STATE_COOKIE, &key.sign(&state), STATE_MINUTES * 60);
    if let Ok(value) = cookie.parse() {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// The callback: checks the state, converts the code, writes the file.
async fn finish(
    settings: &SetupSettings,
    key: &SessionKey,
    github: &GitHubOAuth,
    templates: &minijinja::Environment<'static>,
    uri: &Uri,
    headers: &HeaderMap,
    now: DateTime<Utc>,
) -> Result<CreatedApp, Response> {
    let q = access::query(uri);
    let (Some(code), Some(returned)) = (q.get("code"), q.get("state")) else {
        return Err(message(
            templates,
            StatusCode::BAD_REQUEST,
            "GitHub's answer lacks its code or state; start again at /setup",
        ));
    };
    let expected =
        session::cookie(headers, SETUP_STATE_COOKIE).and_then(|signed| key.verify(signed));
    if !expected.is_some_and(|e| session::same_token(e, returned)) {
        return Err(message(
            templates,
            StatusCode::BAD_REQUEST,
            "this App creation did not start here, or took too long; start again at /setup",
        ));
    }
    // Before spending the code: a conversion works once, and its secrets would be lost.
    if settings.output.exists() {
        let e = SetupError::Exists(settings.output.clone());
        return Err(message(templates, StatusCode::CONFLICT, &e.to_string()));
    }
    let app = match github.convert_manifest(code).await {
        Ok(app) => app,
        Err(e) => {
            tracing::warn!(error = %e, "setup: the App manifest conversion failed");
            return Err(message(
                templates,
                StatusCode::BAD_GATEWAY,
                &format!("{e}; start again at /setup"),
            ));
        }
    };
    if let Err(e) = write_credentials(&settings.output, &credentials_toml(&app, now)) {
        tracing::error!(error = %e, app_id = app.id, "setup: the App was created but its credentials could not be written");
        return Err(message(
            templates,
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!(
                "GitHub created the App {} (id {}), but {e}. Generate a new private key and webhook secret on its settings page ({}).",
                app.slug, app.id, app.html_url
            ),
        ));
    }
    tracing::info!(app_id = app.id, app_slug = %app.slug, file = %settings.output.display(), "setup: GitHub App created; credentials written");
    Ok(app)
}

fn done(
    templates: &minijinja::Environment<'static>,
    settings: &SetupSettings,
    app: &CreatedApp,
) -> Response {
    let mut response = page(
        templates,
        StatusCode::OK,
        context! {
            created => true,
            slug => app.slug.clone(),
            id => app.id,
            install => format!("{}/installations/new", app.html_url.trim_end_matches('/')),
            output => settings.output.display().to_string(),
        },
    );
    if let Ok(value) = session::clear_cookie(SETUP_STATE_COOKIE).parse() {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

// ---- Inside the dashboard: admins only ----------------------------------------------------

/// The settings from `[web]`; `None` when `setup-output` is not set (setup is off).
fn dashboard_settings(state: &WebState) -> Option<SetupSettings> {
    Some(SetupSettings {
        github_url: state.config.github_url.clone(),
        api_url: state.api_url.clone(),
        public_url: state.config.public_url.clone(),
        output: state.config.setup_output.clone()?,
        organisation: state.config.setup_organisation.clone(),
        name: "patchwright".to_string(),
    })
}

async fn admin(state: &WebState, headers: &HeaderMap) -> Result<SetupSettings, Response> {
    let viewer = super::pages::page_viewer(state, headers).await?;
    if !viewer.admin {
        return Err(message(
            &state.templates,
            StatusCode::FORBIDDEN,
            "only admins create GitHub Apps",
        ));
    }
    dashboard_settings(state).ok_or_else(|| {
        message(
            &state.templates,
            StatusCode::NOT_FOUND,
            "/setup is off: name the credentials file in [web] setup-output",
        )
    })
}

/// `GET /setup` in the dashboard.
pub async fn page_for_admins(State(state): State<WebState>, headers: HeaderMap) -> Response {
    match admin(&state, &headers).await {
        Ok(settings) => start(&settings, &state.config.session_key, &state.templates),
        Err(response) => response,
    }
}

/// `GET /setup/callback` in the dashboard.
pub async fn callback_for_admins(
    State(state): State<WebState>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let settings = match admin(&state, &headers).await {
        Ok(settings) => settings,
        Err(response) => return response,
    };
    match finish(
        &settings,
        &state.config.session_key,
        &state.oauth,
        &state.templates,
        &uri,
        &headers,
        state.clock.now(),
    )
    .await
    {
        Ok(app) => done(&state.templates, &settings, &app),
        Err(response) => response,
    }
}

// ---- Before any configuration: `patchwright setup` ----------------------------------------

/// What `patchwright setup` serves: the two routes, for whoever reaches them (there is no App,
/// so no one to sign in with yet; bind it to a trusted address).
#[derive(Clone)]
pub struct Unconfigured {
    settings: Arc<SetupSettings>,
    key: SessionKey,
    github: GitHubOAuth,
    templates: Arc<minijinja::Environment<'static>>,
    clock: Arc<dyn crate::infra::clock::Clock>,
    /// Told the App's id once its credentials are written, so the command can stop.
    created: Arc<tokio::sync::watch::Sender<Option<i64>>>,
}

impl Unconfigured {
    pub fn new(
        settings: SetupSettings,
        clock: Arc<dyn crate::infra::clock::Clock>,
    ) -> Result<Unconfigured, String> {
        // Nothing to sign in with yet: the client id and secret stay empty.
        let github =
            GitHubOAuth::new(&settings.github_url, &settings.api_url, "", Secret::new(""))?;
        let key = SessionKey::new(Secret::new(session::new_token()))?;
        Ok(Unconfigured {
            settings: Arc::new(settings),
            key,
            github,
            templates: Arc::new(super::pages::environment()),
            clock,
            created: Arc::new(tokio::sync::watch::channel(None).0),
        })
    }

    /// Changes to `Some(app id)` once an App's credentials are written.
    pub fn created(&self) -> tokio::sync::watch::Receiver<Option<i64>> {
        self.created.subscribe()
    }

    pub fn router(self) -> Router {
        Router::new()
            .route("/setup", get(unconfigured_page))
            .route("/setup/callback", get(unconfigured_callback))
            .with_state(self)
    }
}

async fn unconfigured_page(State(u): State<Unconfigured>) -> Response {
    start(&u.settings, &u.key, &u.templates)
}

async fn unconfigured_callback(
    State(u): State<Unconfigured>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    match finish(
        &u.settings,
        &u.key,
        &u.github,
        &u.templates,
        &uri,
        &headers,
        u.clock.now(),
    )
    .await
    {
        Ok(app) => {
            u.created.send_replace(Some(app.id));
            done(&u.templates, &u.settings, &app)
        }
        Err(response) => response,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_manifest_asks_for_what_the_service_handles_and_posts_to_the_right_owner() {
        let m = manifest("https://pw.example.com/", "patchwright-acme");
        assert_eq!(
            m["hook_attributes"]["url"],
            "https://pw.example.com/webhook"
        );
        assert_eq!(m["redirect_url"], "https://pw.example.com/setup/callback");
        assert_eq!(
            m["callback_urls"][0],
            "https://pw.example.com/oauth/callback"
        );
        assert_eq!(m["default_permissions"]["contents"], "write");
        assert_eq!(m["default_events"], serde_json::json!(EVENTS));
        assert_eq!(
            new_app_url("https://github.com/", Some("acme corp"), "s1"),
            "https://github.com/organizations/acme+corp/settings/apps/new?state=s1"
        );
        assert_eq!(
            new_app_url("https://github.com", None, "s1"),
            "https://github.com/settings/apps/new?state=s1"
        );
    }

    #[test]
    fn credentials_are_written_once_with_mode_0600_and_read_back_as_toml() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.toml");
        let app = CreatedApp {
            id: 42,
            slug: "pw".into(),
            html_url: "https://github.com/apps/pw".into(),
            client_id: "Iv1.x".into(),
            client_secret: Secret::new("cs"),
            webhook_secret: Some(Secret::new("wh\"s")),
            pem: Secret::new(
                "-----BEGIN RSA PRIVATE KEY-----\nabc\n-----END RSA PRIVATE KEY-----\n",
            ),
        };
        let text = credentials_toml(&app, "2026-06-15T12:00:00Z".parse().unwrap());
        write_credentials(&path, &text).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let back: toml::Value = toml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(back["app-id"].as_integer(), Some(42));
        assert_eq!(back["webhook-secret"].as_str(), Some("wh\"s"));
        assert_eq!(back["private-key"].as_str(), Some(app.pem.expose()));
        let again = write_credentials(&path, "other").unwrap_err();
        assert!(matches!(again, SetupError::Exists(_)), "{again}");
        assert!(
            std::fs::read_to_string(&path)
                .unwrap()
                .contains("app-id = 42")
        );
    }
}
