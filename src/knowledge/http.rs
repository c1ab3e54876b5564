//! The network edge: plain GETs, optionally conditional, with a time limit and a size limit.

use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Bytes;
use hyper::header::{ETAG, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED};
use hyper::{Request, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("{url}: {message}")]
    Network { url: String, message: String },
    #[error("{url}: the mirror answered {status}")]
    Status { url: String, status: StatusCode },
    #[error("{url}: no answer within {timeout:?}")]
    Timeout { url: String, timeout: Duration },
}

/// What a GET brought back. `NotModified` answers a conditional request whose validators still
/// hold; `NotFound` is its own case because a record can vanish between the list and the fetch.
#[derive(Debug)]
pub enum Fetched {
    Body {
        body: Bytes,
        etag: Option<String>,
        last_modified: Option<String>,
    },
    NotModified,
    NotFound,
}

#[derive(Clone)]
pub struct MirrorClient {
    client: Client<hyper_rustls::HttpsConnector<HttpConnector>, Empty<Bytes>>,
    /// For a whole request, body included: a stalled mirror must not hold the sync forever.
    pub timeout: Duration,
    /// npm's export is a few hundred MiB; anything far past that is not an export.
    pub max_body: usize,
}

impl MirrorClient {
    pub fn new() -> Result<MirrorClient, FetchError> {
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_native_roots()
            .map_err(|e| FetchError::Network {
                url: String::new(),
                message: format!("cannot load the system's root certificates: {e}"),
            })?
            .https_or_http()
            .enable_http1()
            .build();
        Ok(MirrorClient {
            client: Client::builder(TokioExecutor::new()).build(connector),
            timeout: Duration::from_secs(600),
            max_body: 2 << 30,
        })
    }

    /// GETs `url`; with validators, conditionally (`If-None-Match` / `If-Modified-Since`).
    pub async fn get(
        &self,
        url: &str,
        etag: Option<&str>,
        last_modified: Option<&str>,
    ) -> Result<Fetched, FetchError> {
        tokio::time::timeout(self.timeout, self.get_inner(url, etag, last_modified))
            .await
            .unwrap_or_else(|_| {
                Err(FetchError::Timeout {
                    url: url.to_string(),
                    timeout: self.timeout,
                })
            })
    }

    async fn get_inner(
        &self,
        url: &str,
        etag: Option<&str>,
        last_modified: Option<&str>,
    ) -> Result<Fetched, FetchError> {
        let network = |message: String| FetchError::Network {
            url: url.to_string(),
            message,
        };
        let mut request = Request::get(url).header("user-agent", "patchwright");
        if let Some(etag) = etag {
            request = request.header(IF_NONE_MATCH, etag);
        }
        if let Some(last_modified) = last_modified {
            request = request.header(IF_MODIFIED_SINCE, last_modified);
        }
        let request = request
            .body(Empty::new())
            .map_err(|e| network(format!("not a valid request: {e}")))?;
        let response = self
            .client
            .request(request)
            .await
            .map_err(|e| network(format!("{e:#}")))?;
        let status = response.status();
        match status {
            StatusCode::NOT_MODIFIED => return Ok(Fetched::NotModified),
            StatusCode::NOT_FOUND => return Ok(Fetched::NotFound),
            s if !s.is_success() => {
                return Err(FetchError::Status {
                    url: url.to_string(),
                    status,
                });
            }
            _ => {}
        }
        let header = |name| {
            response
                .headers()
                .get(name)
                .and_then(|v: &hyper::header::HeaderValue| v.to_str().ok())
                .map(str::to_string)
        };
        let etag = header(ETAG);
        let last_modified = header(LAST_MODIFIED);
        let body = Limited::new(response.into_body(), self.max_body)
            .collect()
            .await
            .map_err(|e| network(format!("the body broke off or is too large: {e}")))?
            .to_bytes();
        Ok(Fetched::Body {
            body,
            etag,
            last_modified,
        })
    }
}
