//! The App's identity: the JWT it signs with its private key, and the installation tokens it
//! trades that JWT for, each kept until shortly before it expires.

use super::blob_cache::BlobCache;
use super::client::GitHubForge;
use super::http::{Method, Recorder};
use crate::forge::hosted::ForgeError;
use crate::service::clock::{Clock, SystemClock};
use crate::service::metrics::Metrics;
use crate::service::secret::Secret;
use chrono::{DateTime, TimeDelta, Utc};
use octocrab::Octocrab;
use octocrab::models::AppId;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// GitHub's public API; GitHub Enterprise Server uses `https://HOST/api/v3`.
pub const DEFAULT_API_BASE: &str = "https://api.github.com";

/// A token is renewed this long before GitHub's `expires_at`, so a job that starts with it
/// does not see it expire halfway (tokens live an hour).
pub const TOKEN_REFRESH_MARGIN: TimeDelta = TimeDelta::minutes(5);

/// The App, authenticated with its JWT. Cheap to clone; clones share the token and blob
/// caches.
#[derive(Clone)]
pub struct GitHubApp {
    app_id: u64,
    base_url: String,
    crab: Octocrab,
    recorder: Recorder,
    tokens: Arc<TokenCache>,
    blobs: Arc<BlobCache>,
}

impl fmt::Debug for GitHubApp {
    // The private key lives inside `crab` and the tokens inside `tokens`; neither is printed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GitHubApp")
            .field("app_id", &self.app_id)
            .field("base_url", &self.base_url)
            .field("tokens", &self.tokens)
            .field("blobs", &self.blobs.stats())
            .finish_non_exhaustive()
    }
}

impl GitHubApp {
    /// `private_key_pem` is the key GitHub generated for the App (PKCS#1 or PKCS#8 PEM);
    /// `base_url` the REST API root ([`DEFAULT_API_BASE`], a GHES `/api/v3` URL, or a test
    /// server).
    pub fn new(
        app_id: u64,
        private_key_pem: &Secret,
        base_url: &str,
        metrics: Option<Arc<Metrics>>,
    ) -> Result<GitHubApp, ForgeError> {
        let base = base_url.trim_end_matches('/');
        let crab = Octocrab::builder()
            .base_uri(base)
            .map_err(|e| {
                ForgeError::Permanent(format!(
                    "GitHub API base URL `{base_url}` is not a URL ({e}); expected e.g. {DEFAULT_API_BASE}"
                ))
            })?
            .app_from_rsa_pem(AppId(app_id), private_key_pem.expose().as_bytes())
            // jsonwebtoken's message names the PEM problem; never the key itself.
            .map_err(|e| {
                ForgeError::Permanent(format!(
                    "the GitHub App private key is not an RSA key in PEM form ({}): use the .pem file GitHub generated for the App",
                    e.to_string().lines().next().unwrap_or("")
                ))
            })?
            .add_header(
                axum::http::header::USER_AGENT,
                concat!("patchwright/", env!("CARGO_PKG_VERSION")).to_string(),
            )
            .set_connect_timeout(Some(Duration::from_secs(10)))
            .set_read_timeout(Some(Duration::from_secs(60)))
            .build()
            .map_err(|e| ForgeError::Permanent(format!("building the GitHub client: {e}")))?;
        Ok(GitHubApp {
            app_id,
            base_url: base.to_string(),
            crab,
            recorder: Recorder {
                metrics,
                clock: Arc::new(SystemClock),
            },
            tokens: Arc::new(TokenCache::default()),
            blobs: Arc::new(BlobCache::default()),
        })
    }

    /// Reads time from `clock` (token expiry, `retry-after`), so tests can move it.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> GitHubApp {
        self.recorder.clock = clock;
        self
    }

    /// Shares `blobs` instead of the App's own cache.
    pub fn with_blob_cache(mut self, blobs: Arc<BlobCache>) -> GitHubApp {
        self.blobs = blobs;
        self
    }

    pub fn blob_cache(&self) -> &Arc<BlobCache> {
        &self.blobs
    }

    pub fn app_id(&self) -> u64 {
        self.app_id
    }

    /// A client acting as installation `id`. No request is made until it is used.
    pub fn installation(&self, id: u64) -> GitHubForge {
        GitHubForge::new(self.clone(), id)
    }

    /// An installation token for `id`: the cached one while it has more than
    /// [`TOKEN_REFRESH_MARGIN`] left, else a new one from GitHub.
    pub async fn installation_token(&self, id: u64) -> Result<Secret, ForgeError> {
        let slot = self.tokens.slot(id);
        // Held across the request, but only this installation's: its jobs starting together
        // mint once (single flight), and no other installation ever waits for it.
        let mut cached = slot.lock().await;
        // Read after the wait: a job that queued behind a mint sees the token it brought.
        let now = self.recorder.clock.now();
        if let Some(t) = cached.as_ref() {
            if token_is_fresh(t.expires_at, now, TOKEN_REFRESH_MARGIN) {
                return Ok(t.token.clone());
            }
        }
        #[derive(serde::Deserialize)]
        struct Minted {
            token: String,
            expires_at: DateTime<Utc>,
        }
        let route = "/app/installations/{installation_id}/access_tokens";
        let answer = self
            .recorder
            .send(
                &self.crab,
                Method::Post,
                route,
                format!("/app/installations/{id}/access_tokens"),
                None::<&()>,
            )
            .await?;
        let minted: Minted = answer.json(route)?;
        let token = Secret::new(minted.token);
        *cached = Some(CachedToken {
            token: token.clone(),
            expires_at: minted.expires_at,
        });
        Ok(token)
    }

    /// The installation-authenticated octocrab for `id`, sharing this App's connection pool.
    pub(crate) async fn client_for(&self, id: u64) -> Result<Octocrab, ForgeError> {
        let token = self.installation_token(id).await?;
        self.crab
            .user_access_token(token.expose().to_string())
            .map_err(|e| ForgeError::Permanent(format!("installation {id} client: {e}")))
    }

    pub(crate) fn recorder(&self) -> &Recorder {
        &self.recorder
    }
}

/// Whether a token that expires at `expires_at` may still be handed out at `now`.
pub fn token_is_fresh(expires_at: DateTime<Utc>, now: DateTime<Utc>, margin: TimeDelta) -> bool {
    expires_at - now > margin
}

/// Installation tokens, one slot per installation. The map's lock is only held to find or
/// add a slot, never across a request; a slot's lock is held across its own mint.
#[derive(Default)]
struct TokenCache {
    by_installation: std::sync::Mutex<HashMap<u64, Slot>>,
}

type Slot = Arc<tokio::sync::Mutex<Option<CachedToken>>>;

impl TokenCache {
    fn slot(&self, id: u64) -> Slot {
        // A poisoned map still holds valid slots: nothing panics while it is held.
        let mut map = self
            .by_installation
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        Arc::clone(map.entry(id).or_default())
    }
}

struct CachedToken {
    token: Secret,
    expires_at: DateTime<Utc>,
}

impl fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let slots: Vec<(u64, Slot)> = match self.by_installation.try_lock() {
            Ok(map) => map.iter().map(|(id, s)| (*id, Arc::clone(s))).collect(),
            Err(_) => return f.write_str("{<in use>}"),
        };
        let mut list = f.debug_map();
        for (id, slot) in &slots {
            match slot.try_lock() {
                Ok(t) => match t.as_ref() {
                    Some(t) => {
                        list.entry(id, &format_args!("token [redacted] until {}", t.expires_at))
                    }
                    None => list.entry(id, &format_args!("no token")),
                },
                Err(_) => list.entry(id, &format_args!("<minting>")),
            };
        }
        list.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_renewed_five_minutes_before_it_expires() {
        let exp: DateTime<Utc> = "2026-01-01T13:00:00Z".parse().unwrap();
        let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        assert!(token_is_fresh(
            exp,
            at("2026-01-01T12:00:00Z"),
            TOKEN_REFRESH_MARGIN
        ));
        assert!(token_is_fresh(
            exp,
            at("2026-01-01T12:54:59Z"),
            TOKEN_REFRESH_MARGIN
        ));
        assert!(!token_is_fresh(
            exp,
            at("2026-01-01T12:55:00Z"),
            TOKEN_REFRESH_MARGIN
        ));
        assert!(!token_is_fresh(
            exp,
            at("2026-01-01T13:30:00Z"),
            TOKEN_REFRESH_MARGIN
        ));
    }

    #[test]
    fn a_key_that_is_not_pem_is_refused_without_echoing_it() {
        let key = Secret::new("not a key: hunter2");
        let err = GitHubApp::new(1, &key, DEFAULT_API_BASE, None).unwrap_err();
        assert!(
            matches!(&err, ForgeError::Permanent(m) if m.contains("PEM") && !m.contains("hunter2")),
            "{err:?}"
        );
    }
}
