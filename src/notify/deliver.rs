//! The network edge: one JSON POST to the chat webhook, with a time limit. Errors name the
//! webhook's host only: the rest of a Slack webhook URL is its token.

use crate::infra::secret::Secret;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Request, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum DeliverError {
    #[error("chat webhook at {host}: {message}")]
    Network { host: String, message: String },
    #[error("chat webhook at {host} answered {status}: {body}")]
    Status {
        host: String,
        status: StatusCode,
        body: String,
    },
    #[error("chat webhook at {host}: no answer within {timeout:?}")]
    Timeout { host: String, timeout: Duration },
    #[error("cannot load the system's root certificates: {0}")]
    Roots(String),
}

/// Posts messages to one webhook.
#[derive(Clone)]
pub struct Webhook {
    client: Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>,
    url: Secret,
    host: String,
    /// For the whole request: a stalled chat service must not hold the notifier's turn.
    pub timeout: Duration,
}

impl Webhook {
    pub fn new(url: Secret) -> Result<Webhook, DeliverError> {
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_native_roots()
            .map_err(|e| DeliverError::Roots(e.to_string()))?
            .https_or_http()
            .enable_http1()
            .build();
        let host = url::Url::parse(url.expose())
            .ok()
            .and_then(|u| u.host_str().map(str::to_string))
            .unwrap_or_default();
        Ok(Webhook {
            client: Client::builder(TokioExecutor::new()).build(connector),
            url,
            host,
            timeout: Duration::from_secs(10),
        })
    }

    /// POSTs `body` as JSON; any 2xx is delivered.
    pub async fn post(&self, body: &serde_json::Value) -> Result<(), DeliverError> {
        tokio::time::timeout(self.timeout, self.post_inner(body))
            .await
            .unwrap_or_else(|_| {
                Err(DeliverError::Timeout {
                    host: self.host.clone(),
                    timeout: self.timeout,
                })
            })
    }

    async fn post_inner(&self, body: &serde_json::Value) -> Result<(), DeliverError> {
        let network = |message: String| DeliverError::Network {
            host: self.host.clone(),
            message,
        };
        let request = Request::post(self.url.expose())
            .header("content-type", "application/json")
            .header("user-agent", "patchwright")
            .body(Full::new(Bytes::from(body.to_string())))
            .map_err(|_| network("the webhook URL does not make a valid request".into()))?;
        let response = self.client.request(request).await.map_err(|e| {
            // hyper's connect errors can quote the URL; keep only what kind of failure it was.
            let kind = if e.is_connect() {
                "cannot connect"
            } else {
                "the connection failed"
            };
            network(kind.to_string())
        })?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        // Slack says why in a short plain-text body (`invalid_payload`, `no_text`).
        let text = http_body_util::Limited::new(response.into_body(), 1024)
            .collect()
            .await
            .map(|b| String::from_utf8_lossy(&b.to_bytes()).trim().to_string())
            .unwrap_or_default();
        Err(DeliverError::Status {
            host: self.host.clone(),
            status,
            body: text,
        })
    }
}
