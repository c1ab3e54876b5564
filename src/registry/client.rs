//! The OCI distribution API calls, on the crate's hyper stack: tag lists (paginated), manifest
//! digests (`HEAD`), manifests (an index resolved to one platform) and blobs (streamed, their
//! sha256 checked). Each call tries the registry's mirrors in order, then the origin; answers
//! a 401 challenge once (basic credentials, or a bearer token from the challenge's realm); and
//! waits out a 429 as `Retry-After` asks, a bounded number of times.

use super::auth::{Challenge, CredentialStore, parse_challenge};
use super::config::RegistryConfig;
use super::reference::Repository;
use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::header::{
    ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, LINK, LOCATION, RETRY_AFTER, WWW_AUTHENTICATE,
};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde::Deserialize;
use sha2::{Digest as _, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

// The OCI document model (media types, descriptors, platforms) is the image reader's: a
// registry serves the same documents an OCI layout holds.
pub use crate::image::manifest::{Descriptor, OCI_INDEX, OCI_MANIFEST, Platform};

/// Index types first: the digest a `HEAD` returns is then the multi-platform index's, the one
/// `docker pull image@digest` resolves on every platform.
const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json";

/// Manifests and tag lists are small; anything past this is not one.
const MAX_DOCUMENT: usize = 16 << 20;
/// A runaway `Link` chain stops here.
const MAX_PAGES: usize = 1000;

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("{url}: {message}")]
    Network { url: String, message: String },
    #[error("{url}: no answer within {timeout:?}")]
    Timeout { url: String, timeout: Duration },
    #[error("{url}: the registry has no {what} (404)")]
    NotFound { url: String, what: String },
    #[error("{url}: the registry answered {status}")]
    Status { url: String, status: StatusCode },
    #[error("{url}: access refused ({status}): {hint}")]
    Unauthorized {
        url: String,
        status: StatusCode,
        hint: String,
    },
    #[error("{url}: still rate limited (429) after {retries} retries: {why}")]
    RateLimited {
        url: String,
        retries: u32,
        why: String,
    },
    #[error("{url}: not a registry answer: {message}")]
    Garbage { url: String, message: String },
    #[error("{url}: the content's digest is {actual}, not the {expected} asked for: discarded")]
    DigestMismatch {
        url: String,
        expected: String,
        actual: String,
    },
    #[error("{repository}: every source failed: {}", attempts.join("; "))]
    AllSourcesFailed {
        repository: String,
        attempts: Vec<String>,
    },
}

/// One platform's image manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// The image manifest's own digest.
    pub digest: String,
    /// The index's digest when the reference named a multi-platform index.
    pub index_digest: Option<String>,
    pub media_type: String,
    pub config: Descriptor,
    /// Base layer first, as the manifest lists them.
    pub layers: Vec<Descriptor>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ManifestDocument {
    #[serde(default)]
    media_type: Option<String>,
    #[serde(default)]
    manifests: Option<Vec<Descriptor>>,
    #[serde(default)]
    config: Option<Descriptor>,
    #[serde(default)]
    layers: Option<Vec<Descriptor>>,
}

#[derive(Deserialize)]
struct TagList {
    #[serde(default)]
    tags: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct TokenAnswer {
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    access_token: Option<String>,
}

type Http = Client<hyper_rustls::HttpsConnector<HttpConnector>, Empty<Bytes>>;

pub struct RegistryClient {
    http: Http,
    mirrors: std::collections::BTreeMap<String, Vec<String>>,
    insecure: Vec<String>,
    credentials: CredentialStore,
    timeout: Duration,
    max_retries: u32,
    max_retry_wait: Duration,
    /// Tags asked for per page (`?n=`).
    pub page_size: usize,
    /// `Authorization` values that worked, per (source, repository): one token per scope.
    authorizations: Mutex<HashMap<(String, String), String>>,
    calls: AtomicU64,
}

impl RegistryClient {
    pub fn new(
        config: &RegistryConfig,
        credentials: CredentialStore,
    ) -> Result<Self, RegistryError> {
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_native_roots()
            .map_err(|e| RegistryError::Network {
                url: String::new(),
                message: format!("cannot load the system's root certificates: {e}"),
            })?
            .https_or_http()
            .enable_http1()
            .build();
        Ok(RegistryClient {
            http: Client::builder(TokioExecutor::new()).build(connector),
            mirrors: config.mirrors.clone(),
            insecure: config.insecure.clone(),
            credentials,
            timeout: config.timeout,
            max_retries: config.max_retries,
            max_retry_wait: config.max_retry_wait,
            page_size: 1000,
            authorizations: Mutex::new(HashMap::new()),
            calls: AtomicU64::new(0),
        })
    }

    /// HTTP requests sent so far (token requests and retries included): the figure the
    /// cold/warm cache benchmark counts.
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    /// Every tag of the repository, following `Link: <…>; rel="next"` pages.
    pub async fn tags(&self, repo: &Repository) -> Result<Vec<String>, RegistryError> {
        self.try_sources(repo, |base| self.tags_from(base, repo))
            .await
    }

    /// The digest `reference` (a tag) points to, from a `HEAD` of its manifest: for a
    /// multi-platform image, the index's digest.
    pub async fn digest(
        &self,
        repo: &Repository,
        reference: &str,
    ) -> Result<String, RegistryError> {
        self.try_sources(repo, |base| self.digest_from(base, repo, reference))
            .await
    }

    /// The image manifest `reference` (a tag or a digest) names, an index resolved to
    /// `platform`. A digest reference is checked against what was read.
    pub async fn manifest(
        &self,
        repo: &Repository,
        reference: &str,
        platform: &Platform,
    ) -> Result<Manifest, RegistryError> {
        self.try_sources(repo, |base| {
            self.manifest_from(base, repo, reference, platform)
        })
        .await
    }

    /// Opens a blob (a layer or a config) for streaming; read it with [`Blob::next_chunk`],
    /// which fails at the end if the content's sha256 is not `digest`. Callers must discard
    /// what they read when it fails.
    pub async fn blob(&self, repo: &Repository, digest: &str) -> Result<Blob, RegistryError> {
        self.try_sources(repo, |base| self.blob_from(base, repo, digest))
            .await
    }

    /// Mirrors in their order, then the origin.
    fn sources(&self, repo: &Repository) -> Vec<String> {
        let mut sources = self.mirrors.get(&repo.host).cloned().unwrap_or_default();
        sources.push(repo.origin(&self.insecure));
        sources
    }

    async fn try_sources<'a, T, F, Fut>(
        &'a self,
        repo: &Repository,
        op: F,
    ) -> Result<T, RegistryError>
    where
        F: Fn(String) -> Fut,
        Fut: std::future::Future<Output = Result<T, RegistryError>> + 'a,
    {
        let mut failures = Vec::new();
        for base in self.sources(repo) {
            match op(base).await {
                Ok(value) => return Ok(value),
                Err(e) => failures.push(e),
            }
        }
        if failures.len() == 1 {
            return Err(failures.remove(0));
        }
        Err(RegistryError::AllSourcesFailed {
            repository: repo.to_string(),
            attempts: failures.iter().map(ToString::to_string).collect(),
        })
    }

    async fn tags_from(
        &self,
        base: String,
        repo: &Repository,
    ) -> Result<Vec<String>, RegistryError> {
        let mut base = base;
        let mut next = Some(format!("/v2/{}/tags/list?n={}", repo.path, self.page_size));
        let mut tags = Vec::new();
        let mut pages = 0;
        while let Some(path) = next.take() {
            pages += 1;
            let url = format!("{base}{path}");
            if pages > MAX_PAGES {
                return Err(RegistryError::Garbage {
                    url,
                    message: format!("more than {MAX_PAGES} pages of tags"),
                });
            }
            let response = self.send(Method::GET, &base, &path, repo, None).await?;
            let response = expect_success(response, &url, "repository")?;
            let following = response
                .headers()
                .get(LINK)
                .and_then(|v| v.to_str().ok())
                .and_then(next_link)
                .map(|link| split_link(&base, &link));
            let body = self.read_document(response, &url).await?;
            let list: TagList =
                serde_json::from_slice(&body).map_err(|e| RegistryError::Garbage {
                    url: url.clone(),
                    message: format!("the tag list is not JSON of the API's shape ({e})"),
                })?;
            tags.extend(list.tags.unwrap_or_default());
            if let Some((next_base, next_path)) = following {
                base = next_base;
                next = Some(next_path);
            }
        }
        Ok(tags)
    }

    async fn digest_from(
        &self,
        base: String,
        repo: &Repository,
        reference: &str,
    ) -> Result<String, RegistryError> {
        let path = format!("/v2/{}/manifests/{reference}", repo.path);
        let url = format!("{base}{path}");
        let what = format!("tag `{reference}`");
        let response = self
            .send(Method::HEAD, &base, &path, repo, Some(MANIFEST_ACCEPT))
            .await?;
        let response = expect_success(response, &url, &what)?;
        if let Some(digest) = header(response.headers(), "docker-content-digest") {
            return valid_digest(&digest)
                .then_some(digest.clone())
                .ok_or(RegistryError::Garbage {
                    url,
                    message: format!("`Docker-Content-Digest: {digest}` is not a sha256 digest"),
                });
        }
        // Some registries leave the header off a HEAD: the digest is the body's sha256.
        let response = self
            .send(Method::GET, &base, &path, repo, Some(MANIFEST_ACCEPT))
            .await?;
        let response = expect_success(response, &url, &what)?;
        let body = self.read_document(response, &url).await?;
        Ok(sha256_digest(&body))
    }

    async fn manifest_from(
        &self,
        base: String,
        repo: &Repository,
        reference: &str,
        platform: &Platform,
    ) -> Result<Manifest, RegistryError> {
        let (digest, document) = self.document(&base, repo, reference).await?;
        let Some(entries) = document.manifests else {
            return image_manifest(&base, repo, digest, None, document);
        };
        let url = format!("{base}/v2/{}/manifests/{reference}", repo.path);
        let chosen = entries
            .iter()
            .find(|d| d.platform.as_ref().is_some_and(|p| platform.matches(p)))
            .ok_or_else(|| RegistryError::NotFound {
                url: url.clone(),
                what: format!(
                    "image for {}/{} in the index",
                    platform.os, platform.architecture
                ),
            })?;
        let (child_digest, child) = self.document(&base, repo, &chosen.digest).await?;
        if child.manifests.is_some() {
            return Err(RegistryError::Garbage {
                url,
                message: "an index whose entry is another index".to_string(),
            });
        }
        image_manifest(&base, repo, child_digest, Some(digest), child)
    }

    /// GETs a manifest and parses it; checks a digest reference against the content.
    async fn document(
        &self,
        base: &str,
        repo: &Repository,
        reference: &str,
    ) -> Result<(String, ManifestDocument), RegistryError> {
        let path = format!("/v2/{}/manifests/{reference}", repo.path);
        let url = format!("{base}{path}");
        let response = self
            .send(Method::GET, base, &path, repo, Some(MANIFEST_ACCEPT))
            .await?;
        let response = expect_success(response, &url, &format!("manifest `{reference}`"))?;
        let content_type = header(response.headers(), CONTENT_TYPE.as_str());
        let body = self.read_document(response, &url).await?;
        let actual = sha256_digest(&body);
        if reference.starts_with("sha256:") && actual != reference {
            return Err(RegistryError::DigestMismatch {
                url,
                expected: reference.to_string(),
                actual,
            });
        }
        let mut document: ManifestDocument =
            serde_json::from_slice(&body).map_err(|e| RegistryError::Garbage {
                url: url.clone(),
                message: format!("the manifest is not JSON of the API's shape ({e})"),
            })?;
        if document.media_type.is_none() {
            document.media_type = content_type;
        }
        Ok((actual, document))
    }

    async fn blob_from(
        &self,
        base: String,
        repo: &Repository,
        digest: &str,
    ) -> Result<Blob, RegistryError> {
        let path = format!("/v2/{}/blobs/{digest}", repo.path);
        let url = format!("{base}{path}");
        let mut response = self.send(Method::GET, &base, &path, repo, None).await?;
        // Registries backed by object storage redirect blob reads to a signed URL, which takes
        // no registry credentials.
        if response.status().is_redirection()
            && let Some(location) = header(response.headers(), LOCATION.as_str())
        {
            let target = url::Url::parse(&url)
                .and_then(|u| u.join(&location))
                .map_err(|e| RegistryError::Garbage {
                    url: url.clone(),
                    message: format!("a redirect to `{location}` that is not a URL ({e})"),
                })?;
            response = self.once(Method::GET, target.as_str(), None, None).await?;
        }
        let response = expect_success(response, &url, &format!("blob `{digest}`"))?;
        Ok(Blob {
            body: response.into_body(),
            hasher: Sha256::new(),
            expected: digest.to_string(),
            url,
            read: 0,
        })
    }

    /// One request with the authorization known for the source, answering a 401 challenge
    /// once and waiting out 429s.
    async fn send(
        &self,
        method: Method,
        base: &str,
        path: &str,
        repo: &Repository,
        accept: Option<&str>,
    ) -> Result<Response<Incoming>, RegistryError> {
        let url = format!("{base}{path}");
        let key = (base.to_string(), repo.path.clone());
        let mut challenged = false;
        let mut retries = 0;
        loop {
            let authorization = self
                .authorizations
                .lock()
                .ok()
                .and_then(|a| a.get(&key).cloned());
            let response = self
                .once(method.clone(), &url, accept, authorization.as_deref())
                .await?;
            match response.status() {
                StatusCode::TOO_MANY_REQUESTS => {
                    let wait = retry_after(response.headers());
                    if retries >= self.max_retries {
                        return Err(RegistryError::RateLimited {
                            url,
                            retries,
                            why: "giving up".to_string(),
                        });
                    }
                    if wait > self.max_retry_wait {
                        return Err(RegistryError::RateLimited {
                            url,
                            retries,
                            why: format!(
                                "it asks to wait {wait:?}, longer than the {:?} allowed",
                                self.max_retry_wait
                            ),
                        });
                    }
                    retries += 1;
                    tokio::time::sleep(wait).await;
                }
                StatusCode::UNAUTHORIZED if !challenged => {
                    challenged = true;
                    let value = self
                        .answer_challenge(base, repo, response.headers(), &url)
                        .await?;
                    if let Ok(mut known) = self.authorizations.lock() {
                        known.insert(key.clone(), value);
                    }
                }
                StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                    let host = self.credential_host(base, repo);
                    let hint = if self.credentials.for_host(&host).is_some() {
                        format!("the credentials for `{host}` were refused: check them")
                    } else {
                        format!(
                            "no credentials for `{host}`: add them to the credentials file (`auths.\"{host}\".auth`) or PATCHWRIGHT_REGISTRY_HOST/USERNAME/PASSWORD"
                        )
                    };
                    return Err(RegistryError::Unauthorized {
                        url,
                        status: response.status(),
                        hint,
                    });
                }
                _ => return Ok(response),
            }
        }
    }

    /// The `Authorization` value that answers a 401's challenge.
    async fn answer_challenge(
        &self,
        base: &str,
        repo: &Repository,
        headers: &HeaderMap,
        url: &str,
    ) -> Result<String, RegistryError> {
        let host = self.credential_host(base, repo);
        let credentials = self.credentials.for_host(&host);
        let refused = |hint: String| RegistryError::Unauthorized {
            url: url.to_string(),
            status: StatusCode::UNAUTHORIZED,
            hint,
        };
        let challenge = header(headers, WWW_AUTHENTICATE.as_str())
            .and_then(|h| parse_challenge(&h))
            .ok_or_else(|| refused("the 401 names no Basic or Bearer challenge".to_string()))?;
        match challenge {
            Challenge::Basic => credentials.map(|c| c.basic_header()).ok_or_else(|| {
                refused(format!(
                    "the registry wants a user name and password and there are none for `{host}`: add them to the credentials file (`auths.\"{host}\".auth`) or PATCHWRIGHT_REGISTRY_HOST/USERNAME/PASSWORD"
                ))
            }),
            Challenge::Bearer {
                realm,
                service,
                scope,
            } => {
                let mut token_url = url::Url::parse(&realm).map_err(|e| {
                    refused(format!("the token realm `{realm}` is not a URL ({e})"))
                })?;
                {
                    let mut query = token_url.query_pairs_mut();
                    if let Some(service) = &service {
                        query.append_pair("service", service);
                    }
                    let scope =
                        scope.unwrap_or_else(|| format!("repository:{}:pull", repo.path));
                    query.append_pair("scope", &scope);
                }
                let basic = credentials.map(|c| c.basic_header());
                let response = self
                    .once(Method::GET, token_url.as_str(), None, basic.as_deref())
                    .await?;
                let status = response.status();
                if !status.is_success() {
                    let service = token_url.origin().ascii_serialization();
                    // A 401/403 from the token service is about who we are: say which
                    // credentials it refused, or that there were none, and where they live.
                    let hint = match (status, credentials) {
                        (StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN, Some(c)) => format!(
                            "the token service {service} refused the credentials for `{host}` (user `{}`, {status}): check the password in the credentials file (`auths.\"{host}\"`) or PATCHWRIGHT_REGISTRY_PASSWORD",
                            c.username
                        ),
                        (StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN, None) => format!(
                            "the token service {service} wants a user name and password ({status}) and there are none for `{host}`: add them to the credentials file (`auths.\"{host}\".auth`) or PATCHWRIGHT_REGISTRY_HOST/USERNAME/PASSWORD"
                        ),
                        _ => format!("the token service {service} answered {status}"),
                    };
                    return Err(refused(hint));
                }
                let body = self.read_document(response, token_url.as_str()).await?;
                let answer: TokenAnswer =
                    serde_json::from_slice(&body).map_err(|e| RegistryError::Garbage {
                        url: token_url.origin().ascii_serialization(),
                        message: format!("the token answer is not JSON with a `token` ({e})"),
                    })?;
                answer
                    .token
                    .or(answer.access_token)
                    .filter(|t| !t.is_empty())
                    .map(|t| format!("Bearer {t}"))
                    .ok_or_else(|| refused("the token service gave no token".to_string()))
            }
        }
    }

    /// Credentials are looked up by the origin's host, or by a mirror's own host:port.
    fn credential_host(&self, base: &str, repo: &Repository) -> String {
        if base == repo.origin(&self.insecure) {
            return repo.host.clone();
        }
        url::Url::parse(base)
            .ok()
            .and_then(|u| {
                let host = u.host_str()?.to_string();
                Some(match u.port() {
                    Some(p) => format!("{host}:{p}"),
                    None => host,
                })
            })
            .unwrap_or_default()
    }

    async fn once(
        &self,
        method: Method,
        url: &str,
        accept: Option<&str>,
        authorization: Option<&str>,
    ) -> Result<Response<Incoming>, RegistryError> {
        let network = |message: String| RegistryError::Network {
            url: url.to_string(),
            message,
        };
        let mut request = Request::builder()
            .method(method)
            .uri(url)
            .header("user-agent", "patchwright");
        if let Some(accept) = accept {
            request = request.header(ACCEPT, accept);
        }
        if let Some(authorization) = authorization {
            request = request.header(AUTHORIZATION, authorization);
        }
        let request = request
            .body(Empty::new())
            .map_err(|e| network(format!("not a valid request: {e}")))?;
        self.calls.fetch_add(1, Ordering::Relaxed);
        match tokio::time::timeout(self.timeout, self.http.request(request)).await {
            Err(_) => Err(RegistryError::Timeout {
                url: url.to_string(),
                timeout: self.timeout,
            }),
            Ok(Err(e)) => Err(network(format!("{e:#}"))),
            Ok(Ok(response)) => Ok(response),
        }
    }

    async fn read_document(
        &self,
        response: Response<Incoming>,
        url: &str,
    ) -> Result<Bytes, RegistryError> {
        let read = Limited::new(response.into_body(), MAX_DOCUMENT).collect();
        match tokio::time::timeout(self.timeout, read).await {
            Err(_) => Err(RegistryError::Timeout {
                url: url.to_string(),
                timeout: self.timeout,
            }),
            Ok(Err(e)) => Err(RegistryError::Network {
                url: url.to_string(),
                message: format!("the body broke off or is too large: {e}"),
            }),
            Ok(Ok(body)) => Ok(body.to_bytes()),
        }
    }
}

/// A blob being read. Each chunk is hashed; the end of the body checks the digest.
pub struct Blob {
    body: Incoming,
    hasher: Sha256,
    expected: String,
    url: String,
    read: u64,
}

impl Blob {
    /// The next piece of the blob, `None` at its end, or an error when the body breaks off or
    /// its sha256 is not the digest asked for.
    pub async fn next_chunk(&mut self) -> Result<Option<Bytes>, RegistryError> {
        loop {
            let Some(frame) = self.body.frame().await else {
                let actual = format!("sha256:{}", hex::encode(self.hasher.clone().finalize()));
                if actual != self.expected {
                    return Err(RegistryError::DigestMismatch {
                        url: self.url.clone(),
                        expected: self.expected.clone(),
                        actual,
                    });
                }
                return Ok(None);
            };
            let frame = frame.map_err(|e| RegistryError::Network {
                url: self.url.clone(),
                message: format!("the blob broke off after {} bytes: {e}", self.read),
            })?;
            if let Ok(data) = frame.into_data() {
                self.hasher.update(&data);
                self.read += data.len() as u64;
                return Ok(Some(data));
            }
        }
    }

    /// Reads the whole blob, refusing one longer than `limit` bytes.
    pub async fn read_to_end(mut self, limit: u64) -> Result<Vec<u8>, RegistryError> {
        let mut out = Vec::new();
        while let Some(chunk) = self.next_chunk().await? {
            if out.len() as u64 + chunk.len() as u64 > limit {
                return Err(RegistryError::Garbage {
                    url: self.url.clone(),
                    message: format!("the blob is longer than {limit} bytes"),
                });
            }
            out.extend_from_slice(&chunk);
        }
        Ok(out)
    }

    /// Bytes read so far.
    pub fn bytes_read(&self) -> u64 {
        self.read
    }
}

fn image_manifest(
    base: &str,
    repo: &Repository,
    digest: String,
    index_digest: Option<String>,
    document: ManifestDocument,
) -> Result<Manifest, RegistryError> {
    let url = format!("{base}/v2/{}/manifests/{digest}", repo.path);
    let config = document.config.ok_or_else(|| RegistryError::Garbage {
        url: url.clone(),
        message: "an image manifest without `config`".to_string(),
    })?;
    Ok(Manifest {
        digest,
        index_digest,
        media_type: document.media_type.unwrap_or_default(),
        config,
        layers: document.layers.unwrap_or_default(),
    })
}

fn expect_success(
    response: Response<Incoming>,
    url: &str,
    what: &str,
) -> Result<Response<Incoming>, RegistryError> {
    match response.status() {
        s if s.is_success() => Ok(response),
        StatusCode::NOT_FOUND => Err(RegistryError::NotFound {
            url: url.to_string(),
            what: what.to_string(),
        }),
        status => Err(RegistryError::Status {
            url: url.to_string(),
            status,
        }),
    }
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// `Retry-After` in seconds (the form registries send); an HTTP date or nothing waits 1 s.
fn retry_after(headers: &HeaderMap) -> Duration {
    let value = header(headers, RETRY_AFTER.as_str());
    let seconds = value.as_deref().and_then(|v| v.trim().parse::<u64>().ok());
    let from_date = || {
        let date = chrono::DateTime::parse_from_rfc2822(value.as_deref()?).ok()?;
        (date.with_timezone(&chrono::Utc) - chrono::Utc::now())
            .to_std()
            .ok()
    };
    seconds
        .map(Duration::from_secs)
        .or_else(from_date)
        .unwrap_or(Duration::from_secs(1))
}

/// The target of `rel="next"` in a `Link` header.
pub fn next_link(header: &str) -> Option<String> {
    header.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        params
            .split(';')
            .any(|p| {
                let p = p.trim().replace(' ', "");
                p == "rel=\"next\"" || p == "rel=next"
            })
            .then(|| target.to_string())
    })
}

/// A link (relative, as distribution sends it, or absolute) as base + path-and-query.
fn split_link(base: &str, link: &str) -> (String, String) {
    match url::Url::parse(link) {
        Ok(u) => {
            let path = match u.query() {
                Some(q) => format!("{}?{q}", u.path()),
                None => u.path().to_string(),
            };
            (u.origin().ascii_serialization(), path)
        }
        Err(_) => (base.to_string(), link.to_string()),
    }
}

pub fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// `sha256:` and 64 lowercase hex digits: the only digests we pin.
pub fn valid_digest(digest: &str) -> bool {
    digest.strip_prefix("sha256:").is_some_and(|h| {
        h.len() == 64
            && h.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_next_link_relative_or_absolute() {
        assert_eq!(
            next_link(r#"</v2/library/node/tags/list?last=20&n=2>; rel="next""#).as_deref(),
            Some("/v2/library/node/tags/list?last=20&n=2")
        );
        assert_eq!(next_link(r#"<https://x/a>; rel="prev""#), None);
        assert_eq!(
            split_link("http://a:1", "https://b:2/v2/x/tags/list?n=1"),
            ("https://b:2".to_string(), "/v2/x/tags/list?n=1".to_string())
        );
        assert_eq!(
            split_link("http://a:1", "/v2/x/tags/list?n=1").0,
            "http://a:1"
        );
    }

    #[test]
    fn retry_after_reads_seconds_and_defaults_to_one() {
        let mut headers = HeaderMap::new();
        assert_eq!(retry_after(&headers), Duration::from_secs(1));
        headers.insert(RETRY_AFTER, "7".parse().unwrap());
        assert_eq!(retry_after(&headers), Duration::from_secs(7));
    }

    #[test]
    fn digests_are_sha256_hex() {
        assert!(valid_digest(&sha256_digest(b"x")));
        assert!(!valid_digest("sha256:ABC"));
        assert!(!valid_digest("md5:00"));
    }
}
