//! The App's identity: the JWT it signs with its private key, and the installation tokens it
//! trades that JWT for, each kept until shortly before it expires.

use super::blob_cache::BlobCache;
use super::http::{Method, Recorder};
use super::jwt::AppKey;
use super::transport::{Timeouts, Transport};
use crate::forge::hosted::ForgeError;
use crate::infra::clock::Clock;
use crate::infra::metrics::Metrics;
use crate::infra::secret::Secret;
use chrono::{DateTime, TimeDelta, Utc};
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

/// GitHub's public API; GitHub Enterprise Server uses `https://HOST/api/v3`.
pub const DEFAULT_API_BASE: &str = "https://api.github.com";

/// A token is renewed this long before GitHub's `expires_at`, so a job that starts with it
/// does not see it expire halfway (tokens live an hour).
pub const TOKEN_REFRESH_MARGIN: TimeDelta = TimeDelta::minutes(5);

/// A token is used at least this long whatever its `expires_at` says.
pub const MIN_TOKEN_REUSE: TimeDelta = TimeDelta::minutes(1);

/// The App, authenticated with its JWT. Cheap to clone; clones share the token and blob
/// caches.
#[derive(Clone)]
pub struct GitHubApp {
    app_id: u64,
    key: AppKey,
    recorder: Recorder,
    tokens: Arc<TokenCache>,
    blobs: Arc<BlobCache>,
}

impl fmt::Debug for GitHubApp {
    // The private key lives inside `key` and the tokens inside `tokens`; neither is printed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GitHubApp")
            .field("app_id", &self.app_id)
            .field("base_url", &self.recorder.transport.base())
            .field("tokens", &self.tokens)
            .field("blobs", &self.blobs.stats())
            .finish_non_exhaustive()
    }
}

impl GitHubApp {
    /// `private_key_pem` is the key GitHub generated for the App (PKCS#1 or PKCS#8 PEM);
    /// `base_url` the REST API root ([`DEFAULT_API_BASE`], a GHES `/api/v3` URL, or a test
    /// server); `clock` tells token expiry, JWT times and `retry-after` waits.
    pub fn new(
        app_id: u64,
        private_key_pem: &Secret,
        base_url: &str,
        clock: Arc<dyn Clock>,
        metrics: Option<Arc<Metrics>>,
    ) -> Result<GitHubApp, ForgeError> {
        let key = AppKey::from_pem(app_id, private_key_pem)?;
        Ok(GitHubApp {
            app_id,
            key,
            recorder: Recorder {
                transport: transport(base_url, Timeouts::default())?,
                metrics,
                clock,
            },
            tokens: Arc::new(TokenCache::default()),
            blobs: Arc::new(BlobCache::default()),
        })
    }

    /// How long to wait for GitHub (defaults: 10 s to connect, 60 s for a whole answer).
    pub fn with_timeouts(mut self, timeouts: Timeouts) -> Result<GitHubApp, ForgeError> {
        self.recorder.transport = transport(self.recorder.transport.base(), timeouts)?;
        Ok(self)
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

    /// An installation token for `id`: the cached one until its [`renew_at`] time (five
    /// minutes before it expires, at least a minute after it was minted), else a new one.
    pub async fn installation_token(&self, id: u64) -> Result<Secret, ForgeError> {
        let slot = self.tokens.slot(id);
        // Held across the request, but only this installation's: its jobs starting together
        // mint once (single flight), and no other installation ever waits for it.
        let mut cached = slot.lock().await;
        // Read after the wait: a job that queued behind a mint sees the token it brought.
        let now = self.recorder.clock.now();
        if let Some(t) = cached.as_ref().filter(|t| now < t.renew_at) {
            return Ok(t.token.clone());
        }
        #[derive(serde::Deserialize)]
        struct Minted {
            token: String,
            // Read leniently: a missing or unreadable expiry must not fail the job.
            #[serde(default)]
            expires_at: Option<serde_json::Value>,
        }
        let route = "/app/installations/{installation_id}/access_tokens";
        let jwt = self.key.jwt(now)?;
        let answer = self
            .recorder
            .send(
                &jwt,
                Method::Post,
                route,
                format!("/app/installations/{id}/access_tokens"),
                None::<&()>,
            )
            .await?;
        let minted: Minted = answer.json(route)?;
        let expires_at = minted
            .expires_at
            .as_ref()
            .and_then(|v| v.as_str())
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
            .map(|t| t.with_timezone(&Utc));
        let token = Secret::new(minted.token);
        *cached = Some(CachedToken {
            token: token.clone(),
            renew_at: renew_at(expires_at, now),
        });
        Ok(token)
    }

    pub(crate) fn recorder(&self) -> &Recorder {
        &self.recorder
    }
}

fn transport(base_url: &str, timeouts: Timeouts) -> Result<Transport, ForgeError> {
    Transport::new(base_url, timeouts).map_err(|e| {
        ForgeError::Permanent(format!(
            "GitHub API base URL `{base_url}` is not usable ({e}); expected e.g. {DEFAULT_API_BASE}"
        ))
    })
}

/// When a token minted at `now` that GitHub says expires at `expires_at` is to be replaced:
/// [`TOKEN_REFRESH_MARGIN`] before it expires, but never sooner than [`MIN_TOKEN_REUSE`]
/// from `now`, so an expiry that is missing, unreadable or already past (a skewed clock, an
/// API example's fixed date) costs one mint a minute, not one before every call.
pub fn renew_at(expires_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> DateTime<Utc> {
    let floor = now + MIN_TOKEN_REUSE;
    expires_at.map_or(floor, |e| (e - TOKEN_REFRESH_MARGIN).max(floor))
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
    renew_at: DateTime<Utc>,
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
                        list.entry(id, &format_args!("token [redacted] until {}", t.renew_at))
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

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn a_token_is_renewed_five_minutes_before_it_expires() {
        let now = at("2026-01-01T12:00:00Z");
        assert_eq!(
            renew_at(Some(at("2026-01-01T13:00:00Z")), now),
            at("2026-01-01T12:55:00Z")
        );
    }

    #[test]
    fn a_missing_or_past_expiry_is_renewed_at_most_once_a_minute() {
        let now = at("2026-01-01T12:00:00Z");
        let in_a_minute = at("2026-01-01T12:01:00Z");
        assert_eq!(renew_at(None, now), in_a_minute);
        // The example answer in GitHub's API description expires in 2016.
        assert_eq!(renew_at(Some(at("2016-07-11T22:14:10Z")), now), in_a_minute);
        // Inside the margin: still a minute's use.
        assert_eq!(renew_at(Some(at("2026-01-01T12:03:00Z")), now), in_a_minute);
    }

    #[test]
    fn a_key_that_is_not_pem_is_refused_without_echoing_it() {
        let key = Secret::new("not a key: hunter2");
        let clock = Arc::new(crate::infra::clock::SystemClock);
        let err = GitHubApp::new(1, &key, DEFAULT_API_BASE, clock, None).unwrap_err();
        assert!(
            matches!(&err, ForgeError::Permanent(m) if m.contains("PEM") && !m.contains("hunter2")),
            "{err:?}"
        );
    }
}
