//! GitHub's user authorization (OAuth web) flow, and what the signed-in person can see:
//! `login/oauth/authorize` → `login/oauth/access_token` → `GET /user`,
//! `GET /user/installations`, `GET /user/installations/{id}/repositories`.

use crate::infra::secret::Secret;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, USER_AGENT};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde::Deserialize;
use std::time::Duration;

/// The most pages of installations or repositories read at sign-in (100 per page).
const MAX_PAGES: u32 = 100;

#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    #[error("GitHub did not answer: {0}")]
    NoAnswer(String),
    #[error("GitHub answered {status} to {what}")]
    Status { what: String, status: u16 },
    #[error("GitHub refused the sign-in code: {0}")]
    Refused(String),
    #[error("GitHub's answer to {what} is not what was expected: {message}")]
    Shape { what: String, message: String },
}

/// The OAuth client of the App, against github.com (or a GitHub Enterprise Server).
#[derive(Clone)]
pub struct GitHubOAuth {
    /// Where people sign in: `https://github.com`.
    web_url: String,
    /// The REST API root: `https://api.github.com`.
    api_url: String,
    client_id: String,
    client_secret: Secret,
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

#[derive(Deserialize)]
struct User {
    login: String,
}

#[derive(Deserialize)]
struct Installations {
    installations: Vec<Installation>,
}

#[derive(Deserialize)]
struct Installation {
    id: i64,
}

#[derive(Deserialize)]
struct Repositories {
    repositories: Vec<Repository>,
}

#[derive(Deserialize)]
struct Repository {
    id: i64,
}

/// A GitHub App just created through the manifest flow, as `POST /app-manifests/{code}/conversions`
/// returns it. No `Debug`: it holds the App's secrets.
pub struct CreatedApp {
    pub id: i64,
    pub slug: String,
    pub html_url: String,
    pub client_id: String,
    pub client_secret: Secret,
    /// GitHub leaves it out when the manifest turned webhooks off.
    pub webhook_secret: Option<Secret>,
    /// The App's private key, PEM.
    pub pem: Secret,
}

#[derive(Deserialize)]
struct Conversion {
    id: i64,
    slug: Option<String>,
    html_url: String,
    client_id: String,
    client_secret: String,
    webhook_secret: Option<String>,
    pem: String,
}

/// Who signed in and the repositories GitHub lets them see through the App's installations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedIn {
    pub login: String,
    pub repository_ids: Vec<i64>,
}

impl GitHubOAuth {
    pub fn new(
        web_url: &str,
        api_url: &str,
        client_id: &str,
        client_secret: Secret,
    ) -> Result<GitHubOAuth, String> {
        let mut tcp = HttpConnector::new();
        tcp.enforce_http(false);
        tcp.set_connect_timeout(Some(Duration::from_secs(10)));
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_native_roots(rustls::crypto::ring::default_provider())
            .map_err(|e| format!("no TLS root certificates: {e}"))?
            .https_or_http()
            .enable_http1()
            .wrap_connector(tcp);
        Ok(GitHubOAuth {
            web_url: web_url.trim_end_matches('/').to_string(),
            api_url: api_url.trim_end_matches('/').to_string(),
            client_id: client_id.to_string(),
            client_secret,
            client: Client::builder(TokioExecutor::new()).build(https),
        })
    }

    /// Where `/login` sends the browser.
    pub fn authorize_url(&self, redirect_uri: &str, state: &str) -> String {
        let mut url = url::Url::parse(&format!("{}/login/oauth/authorize", self.web_url))
            .expect("the configured GitHub URL parses");
        url.query_pairs_mut()
            .append_pair("client_id", &self.client_id)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("state", state);
        url.to_string()
    }

    async fn send(
        &self,
        method: hyper::Method,
        url: String,
        token: Option<&str>,
        body: Option<String>,
        what: &str,
    ) -> Result<String, OAuthError> {
        let mut builder = hyper::Request::builder()
            .method(method)
            .uri(url)
            .header(
                USER_AGENT,
                concat!("patchwright/", env!("CARGO_PKG_VERSION")),
            )
            .header(ACCEPT, "application/json");
        if let Some(token) = token {
            let mut value = hyper::header::HeaderValue::from_str(&format!("Bearer {token}"))
                .map_err(|_| OAuthError::Refused("the token is not header text".into()))?;
            value.set_sensitive(true);
            builder = builder.header(AUTHORIZATION, value);
        }
        if body.is_some() {
            builder = builder.header(CONTENT_TYPE, "application/json");
        }
        let request = builder
            .body(Full::new(Bytes::from(body.unwrap_or_default())))
            .map_err(|e| OAuthError::NoAnswer(e.to_string()))?;
        let exchange = async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(|e| OAuthError::NoAnswer(e.to_string()))?;
            let status = response.status().as_u16();
            let bytes = response
                .into_body()
                .collect()
                .await
                .map_err(|e| OAuthError::NoAnswer(e.to_string()))?
                .to_bytes();
            if !(200..300).contains(&status) {
                return Err(OAuthError::Status {
                    what: what.to_string(),
                    status,
                });
            }
            Ok(String::from_utf8_lossy(&bytes).into_owned())
        };
        tokio::time::timeout(Duration::from_secs(30), exchange)
            .await
            .map_err(|_| OAuthError::NoAnswer(format!("{what} timed out")))?
    }

    fn parse<T: for<'de> Deserialize<'de>>(text: &str, what: &str) -> Result<T, OAuthError> {
        serde_json::from_str(text).map_err(|e| OAuthError::Shape {
            what: what.to_string(),
            message: e.to_string(),
        })
    }

    /// Exchanges the callback's code for a user token (never stored: used at once, dropped).
    pub async fn exchange(&self, code: &str, redirect_uri: &str) -> Result<Secret, OAuthError> {
        let body = serde_json::json!({
            "client_id": self.client_id,
            "client_secret": self.client_secret.expose(),
            "code": code,
            "redirect_uri": redirect_uri,
        });
        let what = "the sign-in code exchange";
        let text = self
            .send(
                hyper::Method::POST,
                format!("{}/login/oauth/access_token", self.web_url),
                None,
                Some(body.to_string()),
                what,
            )
            .await?;
        let answer: TokenAnswer = Self::parse(&text, what)?;
        match (answer.access_token, answer.error) {
            (Some(token), None) => Ok(Secret::new(token)),
            (_, error) => Err(OAuthError::Refused(
                answer
                    .error_description
                    .or(error)
                    .unwrap_or_else(|| "no token in the answer".into()),
            )),
        }
    }

    /// Exchanges the code of the App manifest flow for the new App's id and secrets (a code
    /// works once, within an hour). `code` must be GitHub's: letters, digits, `-` and `_`.
    pub async fn convert_manifest(&self, code: &str) -> Result<CreatedApp, OAuthError> {
        let what = "the App manifest conversion";
        if code.is_empty()
            || !code
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(OAuthError::Refused(format!(
                "{what}: the code is not one GitHub gives"
            )));
        }
        let text = self
            .send(
                hyper::Method::POST,
                format!("{}/app-manifests/{code}/conversions", self.api_url),
                None,
                None,
                what,
            )
            .await?;
        let c: Conversion = Self::parse(&text, what)?;
        Ok(CreatedApp {
            id: c.id,
            slug: c.slug.unwrap_or_default(),
            html_url: c.html_url,
            client_id: c.client_id,
            client_secret: Secret::new(c.client_secret),
            webhook_secret: c.webhook_secret.map(Secret::new),
            pem: Secret::new(c.pem),
        })
    }

    /// The person's login and every repository of the App's installations they can see.
    pub async fn signed_in(&self, token: &Secret) -> Result<SignedIn, OAuthError> {
        let token = Some(token.expose());
        let get = |path: String, what: &'static str| {
            self.send(
                hyper::Method::GET,
                format!("{}{path}", self.api_url),
                token,
                None,
                what,
            )
        };
        let user: User = Self::parse(&get("/user".into(), "GET /user").await?, "GET /user")?;
        let mut repository_ids = Vec::new();
        let mut installations = Vec::new();
        for page in 1..=MAX_PAGES {
            let what = "GET /user/installations";
            let text = get(
                format!("/user/installations?per_page=100&page={page}"),
                what,
            )
            .await?;
            let batch: Installations = Self::parse(&text, what)?;
            let done = batch.installations.len() < 100;
            installations.extend(batch.installations.into_iter().map(|i| i.id));
            if done {
                break;
            }
        }
        for installation in installations {
            for page in 1..=MAX_PAGES {
                let what = "GET /user/installations/{id}/repositories";
                let text = get(
                    format!(
                        "/user/installations/{installation}/repositories?per_page=100&page={page}"
                    ),
                    what,
                )
                .await?;
                let batch: Repositories = Self::parse(&text, what)?;
                let done = batch.repositories.len() < 100;
                repository_ids.extend(batch.repositories.into_iter().map(|r| r.id));
                if done {
                    break;
                }
            }
        }
        repository_ids.sort_unstable();
        repository_ids.dedup();
        Ok(SignedIn {
            login: user.login,
            repository_ids,
        })
    }
}
