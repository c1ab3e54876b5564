//! The HTTP client under every GitHub request: one connection pool (hyper over rustls), one
//! `User-Agent`, and a timeout that says what timed out.
//!
//! A plain client rather than octocrab: every request goes through [`super::http`], which
//! needs each answer's status and headers, so octocrab served only as transport and JWT
//! signer, and as transport it sent a second `User-Agent` of its own and reported a timeout
//! as "client error (SendRequest)".

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue, USER_AGENT};
use hyper::{Method as HttpMethod, Request};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use std::time::Duration;

/// The one `User-Agent` every request carries (GitHub asks for the App's name).
pub const USER_AGENT_VALUE: &str = concat!("patchwright/", env!("CARGO_PKG_VERSION"));

/// The REST API version the routes and answers follow.
const API_VERSION: &str = "2022-11-28";

/// How long to wait for a connection, and for a whole answer once connected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    pub connect: Duration,
    pub answer: Duration,
}

impl Default for Timeouts {
    fn default() -> Timeouts {
        Timeouts {
            connect: Duration::from_secs(10),
            answer: Duration::from_secs(60),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    Get,
    Post,
    Patch,
    Delete,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }

    fn http(self) -> HttpMethod {
        match self {
            Method::Get => HttpMethod::GET,
            Method::Post => HttpMethod::POST,
            Method::Patch => HttpMethod::PATCH,
            Method::Delete => HttpMethod::DELETE,
        }
    }
}

/// Any answer, whatever its status.
pub(crate) struct RawAnswer {
    pub status: u16,
    pub headers: HeaderMap,
    /// The body as text (lossy: GitHub's JSON is UTF-8; anything else only names an error).
    pub body: String,
}

/// No answer at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum TransportError {
    #[error("timed out after {0} s reading from GitHub")]
    TimedOut(u64),
    #[error("no answer from GitHub: {0}")]
    NoAnswer(String),
}

/// A connection pool to one API root. Cheap to clone (the pool is shared).
#[derive(Clone)]
pub(crate) struct Transport {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    /// The API root without a trailing `/` (GHES roots carry a path: `…/api/v3`).
    base: String,
    answer_timeout: Duration,
}

impl Transport {
    /// `base` must be an `http` or `https` URL; the caller says what it expected.
    pub fn new(base: &str, timeouts: Timeouts) -> Result<Transport, String> {
        let base = base.trim_end_matches('/');
        let uri: hyper::Uri = base.parse().map_err(|e| format!("{e}"))?;
        if !matches!(uri.scheme_str(), Some("http" | "https")) || uri.host().is_none() {
            return Err("not an http(s) URL".to_string());
        }
        let mut tcp = HttpConnector::new();
        tcp.enforce_http(false);
        tcp.set_connect_timeout(Some(timeouts.connect));
        // The provider is named, not taken from the process default, so a second crypto
        // backend compiled in by another crate cannot make the choice ambiguous.
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_native_roots(rustls::crypto::ring::default_provider())
            .map_err(|e| format!("no TLS root certificates: {e}"))?
            // Plain http only for loopback test servers and proxies the operator names.
            .https_or_http()
            .enable_http1()
            .wrap_connector(tcp);
        Ok(Transport {
            client: Client::builder(TokioExecutor::new()).build(https),
            base: base.to_string(),
            answer_timeout: timeouts.answer,
        })
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// Sends `method path` (`path` starts with `/` and carries its query) with `authorization`
    /// (`Bearer …`) and `extra` headers (an `accept` there replaces the JSON default), and
    /// reads the whole answer within the answer timeout.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        authorization: &str,
        extra: &[(&'static str, &str)],
        body: Option<Vec<u8>>,
    ) -> Result<RawAnswer, TransportError> {
        let request = self.request(method, path, authorization, extra, body)?;
        let exchange = async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(|e| TransportError::NoAnswer(chain(&e)))?;
            let status = response.status().as_u16();
            let (parts, body) = response.into_parts();
            let bytes = body
                .collect()
                .await
                .map_err(|e| TransportError::NoAnswer(chain(&e)))?
                .to_bytes();
            Ok(RawAnswer {
                status,
                headers: parts.headers,
                body: String::from_utf8_lossy(&bytes).into_owned(),
            })
        };
        match tokio::time::timeout(self.answer_timeout, exchange).await {
            Ok(answer) => answer,
            Err(_) => Err(TransportError::TimedOut(self.answer_timeout.as_secs())),
        }
    }

    fn request(
        &self,
        method: Method,
        path: &str,
        authorization: &str,
        extra: &[(&'static str, &str)],
        body: Option<Vec<u8>>,
    ) -> Result<Request<Full<Bytes>>, TransportError> {
        let mut auth = HeaderValue::from_str(authorization)
            .map_err(|_| TransportError::NoAnswer("a credential is not header text".into()))?;
        // Kept out of hyper's debug output and HPACK tables.
        auth.set_sensitive(true);
        let accept = extra
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case("accept"))
            .map_or("application/vnd.github+json", |(_, v)| *v);
        let mut builder = Request::builder()
            .method(method.http())
            .uri(format!("{}{path}", self.base))
            .header(USER_AGENT, USER_AGENT_VALUE)
            .header(ACCEPT, accept)
            .header("x-github-api-version", API_VERSION)
            .header(AUTHORIZATION, auth);
        for (name, value) in extra
            .iter()
            .filter(|(n, _)| !n.eq_ignore_ascii_case("accept"))
        {
            builder = builder.header(*name, *value);
        }
        if body.is_some() {
            builder = builder.header(CONTENT_TYPE, "application/json");
        }
        builder
            .body(Full::new(Bytes::from(body.unwrap_or_default())))
            .map_err(|e| TransportError::NoAnswer(format!("the request cannot be built: {e}")))
    }
}

/// An error and its causes on one line: hyper's own message ("client error (Connect)") says
/// little without the cause under it ("Connection refused").
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let next = s.to_string();
        if !text.contains(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        source = s.source();
    }
    text.lines().next().unwrap_or("").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_http_urls_are_api_roots() {
        assert!(Transport::new("https://ghe.example.com/api/v3/", Timeouts::default()).is_ok());
        assert!(Transport::new("http://127.0.0.1:8080", Timeouts::default()).is_ok());
        for bad in ["api.github.com", "ftp://x", "not a url", ""] {
            assert!(Transport::new(bad, Timeouts::default()).is_err(), "{bad}");
        }
    }
}
