//! Sign-in, sign-out, and who is asking: the session behind a request's cookie.

use super::WebState;
use super::session::{self, SESSION_COOKIE, STATE_COOKIE};
use crate::store::web_sessions::{self, WebSession};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use chrono::TimeDelta;
use std::collections::{HashMap, HashSet};

/// How long the OAuth `state` cookie lives: the time a person may take on GitHub's page.
const STATE_MINUTES: i64 = 10;

/// The signed-in person behind a request.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub login: String,
    pub admin: bool,
    pub repository_ids: HashSet<i64>,
    pub csrf: String,
    token_hash: String,
}

impl Viewer {
    /// The repositories to load: `None` for an admin (all of them).
    pub fn scope(&self) -> Option<Vec<i64>> {
        if self.admin {
            return None;
        }
        let mut ids: Vec<i64> = self.repository_ids.iter().copied().collect();
        ids.sort_unstable();
        Some(ids)
    }

    pub fn may_see(&self, repository_id: i64) -> bool {
        self.admin || self.repository_ids.contains(&repository_id)
    }
}

/// The query string or form body of a request, decoded.
pub fn params(text: &str) -> HashMap<String, String> {
    url::form_urlencoded::parse(text.as_bytes())
        .into_owned()
        .collect()
}

pub fn query(uri: &Uri) -> HashMap<String, String> {
    params(uri.query().unwrap_or(""))
}

/// The session of the request's cookie, if it is signed by our key, stored and not expired.
pub async fn viewer(state: &WebState, headers: &HeaderMap) -> Result<Option<Viewer>, Response> {
    let Some(signed) = session::cookie(headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    let Some(token) = state.config.session_key.verify(signed) else {
        return Ok(None);
    };
    let token_hash = session::token_hash(token);
    let found = web_sessions::get(state.store.pool(), &token_hash, state.clock.now())
        .await
        .map_err(internal)?;
    Ok(found.map(|s| Viewer {
        login: s.login,
        admin: s.admin,
        repository_ids: s.repository_ids.into_iter().collect(),
        csrf: s.csrf,
        token_hash,
    }))
}

/// A store failure, logged, answered without detail.
pub fn internal(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "dashboard: request failed");
    (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
}

/// Where a page sends a person without a session.
pub fn to_login() -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, "/login")]).into_response()
}

/// What an API or export route answers a person without a session.
pub fn unauthorized() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [(header::CONTENT_TYPE, "application/json")],
        r#"{"error":"sign in at /login first"}"#,
    )
        .into_response()
}

/// What any route answers for a repository the person may not see, or that does not exist:
/// the same answer, so nobody learns which repositories exist.
pub fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "not found").into_response()
}

/// `GET /login`: off to GitHub, with a fresh `state` held in a signed cookie.
pub async fn login(State(state): State<WebState>) -> Response {
    let nonce = session::new_token();
    let url = state
        .oauth
        .authorize_url(&state.config.redirect_uri(), &nonce);
    let cookie = session::set_cookie(
        STATE_COOKIE,
        &state.config.session_key.sign(&nonce),
        STATE_MINUTES * 60,
    );
    (
        StatusCode::SEE_OTHER,
        [(header::LOCATION, url), (header::SET_COOKIE, cookie)],
    )
        .into_response()
}

fn plain(status: StatusCode, message: &str) -> Response {
    (status, message.to_string()).into_response()
}

/// `GET /oauth/callback?code&state`: checks the state, exchanges the code, asks GitHub what
/// the person can see, and starts a session.
pub async fn callback(State(state): State<WebState>, uri: Uri, headers: HeaderMap) -> Response {
    let q = query(&uri);
    let (Some(code), Some(returned)) = (q.get("code"), q.get("state")) else {
        return plain(
            StatusCode::BAD_REQUEST,
            "the sign-in answer lacks its code or state; start again at /login",
        );
    };
    let expected = session::cookie(&headers, STATE_COOKIE)
        .and_then(|signed| state.config.session_key.verify(signed));
    if !expected.is_some_and(|e| session::same_token(e, returned)) {
        return plain(
            StatusCode::BAD_REQUEST,
            "the sign-in expired or did not start here; start again at /login",
        );
    }
    let token = match state
        .oauth
        .exchange(code, &state.config.redirect_uri())
        .await
    {
        Ok(token) => token,
        Err(e) => {
            tracing::warn!(error = %e, "dashboard: sign-in code refused");
            return plain(StatusCode::BAD_GATEWAY, &format!("sign-in failed: {e}"));
        }
    };
    let person = match state.oauth.signed_in(&token).await {
        Ok(person) => person,
        Err(e) => {
            tracing::warn!(error = %e, "dashboard: cannot learn what the person can see");
            return plain(StatusCode::BAD_GATEWAY, &format!("sign-in failed: {e}"));
        }
    };
    let now = state.clock.now();
    let hours = i64::from(state.config.session_hours);
    let stored = WebSession {
        admin: state.config.is_admin(&person.login),
        login: person.login,
        repository_ids: person.repository_ids,
        csrf: session::new_token(),
        expires_at: now + TimeDelta::hours(hours),
    };
    let token = session::new_token();
    if let Err(e) = web_sessions::insert(
        state.store.pool(),
        &session::token_hash(&token),
        &stored,
        now,
    )
    .await
    {
        return internal(e);
    }
    // Expired sessions go as new ones come: no job needed.
    if let Err(e) = web_sessions::purge_expired(state.store.pool(), now).await {
        tracing::warn!(error = %e, "dashboard: cannot remove expired sessions");
    }
    tracing::info!(login = %stored.login, admin = stored.admin, repositories = stored.repository_ids.len(), "dashboard: signed in");
    let mut response = (StatusCode::SEE_OTHER, [(header::LOCATION, "/dashboard")]).into_response();
    let headers = response.headers_mut();
    for cookie in [
        session::set_cookie(
            SESSION_COOKIE,
            &state.config.session_key.sign(&token),
            hours * 3600,
        ),
        session::clear_cookie(STATE_COOKIE),
    ] {
        if let Ok(value) = cookie.parse() {
            headers.append(header::SET_COOKIE, value);
        }
    }
    response
}

/// Whether a form's `csrf` field is the session's token.
pub fn csrf_ok(viewer: &Viewer, body: &Bytes) -> bool {
    let form = params(&String::from_utf8_lossy(body));
    form.get("csrf")
        .is_some_and(|token| session::same_token(token, &viewer.csrf))
}

/// `POST /logout` (a form with the session's CSRF token): ends the session.
pub async fn logout(State(state): State<WebState>, headers: HeaderMap, body: Bytes) -> Response {
    let viewer = match viewer(&state, &headers).await {
        Ok(Some(v)) => v,
        Ok(None) => return to_login(),
        Err(response) => return response,
    };
    if !csrf_ok(&viewer, &body) {
        return plain(StatusCode::FORBIDDEN, "the form's CSRF token is wrong");
    }
    if let Err(e) = web_sessions::delete(state.store.pool(), &viewer.token_hash).await {
        return internal(e);
    }
    (
        StatusCode::OK,
        [
            (header::SET_COOKIE, session::clear_cookie(SESSION_COOKIE)),
            (
                header::CONTENT_TYPE,
                "text/plain; charset=utf-8".to_string(),
            ),
        ],
        "signed out",
    )
        .into_response()
}
