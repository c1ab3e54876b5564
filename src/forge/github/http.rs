//! One GitHub request: sent through the [`Transport`], counted in the metrics, and a failure
//! turned into a [`ForgeError`]. Every answer's status and rate-limit headers are seen here,
//! successes included.

use super::transport::{RawAnswer, Transport, TransportError};
use crate::forge::hosted::ForgeError;
use crate::infra::clock::Clock;
use crate::infra::metrics::Metrics;
use crate::infra::secret::Secret;
use chrono::{DateTime, TimeDelta, Utc};
use hyper::header::HeaderMap;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::sync::Arc;

pub(crate) use super::transport::Method;

/// What every request needs: the connection pool, where to record it and what time it is
/// (for `retry-after`).
#[derive(Clone)]
pub(crate) struct Recorder {
    pub transport: Transport,
    pub metrics: Option<Arc<Metrics>>,
    pub clock: Arc<dyn Clock>,
}

/// An answer with a 2xx status.
pub(crate) struct Answer {
    pub body: String,
}

impl Answer {
    pub fn json<R: DeserializeOwned>(&self, route: &str) -> Result<R, ForgeError> {
        serde_json::from_str(&self.body).map_err(|e| {
            ForgeError::Permanent(format!(
                "{route}: GitHub's answer is not what the API documents: {e}"
            ))
        })
    }
}

/// What a conditional GET found.
pub(crate) enum Conditional {
    /// 304: the resource still matches the validator sent; GitHub does not count this answer
    /// against the primary rate limit.
    NotModified,
    /// 2xx: a new answer, with the validator (`etag`) to send next time, when GitHub gave one.
    Fresh { body: String, etag: Option<String> },
}

impl Recorder {
    /// Sends `method path` (a path relative to the API base, with its query) as the bearer
    /// of `credential` (the App's JWT or an installation token), naming it `route` (the route
    /// template, e.g. `GET /repos/{owner}/{repo}/pulls`) in metrics and errors.
    pub async fn send<B: Serialize + ?Sized>(
        &self,
        credential: &Secret,
        method: Method,
        route: &'static str,
        path: String,
        body: Option<&B>,
    ) -> Result<Answer, ForgeError> {
        let metric_route = format!("{} {route}", method.as_str());
        let body = body
            .map(serde_json::to_vec)
            .transpose()
            .map_err(|e| ForgeError::Permanent(format!("{metric_route}: request body: {e}")))?;
        let raw = self
            .exchange(credential, method, &metric_route, &path, &[], body)
            .await?;
        if (200..300).contains(&raw.status) {
            Ok(Answer { body: raw.body })
        } else {
            Err(self.failure(&metric_route, &raw))
        }
    }

    /// A GET with `If-None-Match: validator` and `Accept: accept`: 304 is an answer here,
    /// not a failure.
    pub async fn get_if_none_match(
        &self,
        credential: &Secret,
        route: &'static str,
        path: String,
        accept: &str,
        validator: &str,
    ) -> Result<Conditional, ForgeError> {
        let metric_route = format!("GET {route}");
        let headers = [("accept", accept), ("if-none-match", validator)];
        let raw = self
            .exchange(
                credential,
                Method::Get,
                &metric_route,
                &path,
                &headers,
                None,
            )
            .await?;
        match raw.status {
            304 => Ok(Conditional::NotModified),
            200..300 => Ok(Conditional::Fresh {
                etag: header(&raw.headers, "etag").map(str::to_string),
                body: raw.body,
            }),
            _ => Err(self.failure(&metric_route, &raw)),
        }
    }

    /// One request and its answer, whatever the status, counted in the metrics (by status
    /// class, so 304s show apart) with the rate limit GitHub reported.
    async fn exchange(
        &self,
        credential: &Secret,
        method: Method,
        metric_route: &str,
        path: &str,
        extra: &[(&'static str, &str)],
        body: Option<Vec<u8>>,
    ) -> Result<RawAnswer, ForgeError> {
        let authorization = format!("Bearer {}", credential.expose());
        let sent = self
            .transport
            .send(method, path, &authorization, extra, body)
            .await;
        let raw = match sent {
            Ok(answer) => answer,
            Err(e) => {
                // No answer at all (connection refused, reset, timeout): status 0 in metrics.
                if let Some(m) = &self.metrics {
                    m.github_api_call(metric_route, 0);
                }
                return Err(no_answer(metric_route, &e));
            }
        };
        if let Some(m) = &self.metrics {
            m.github_api_call(metric_route, raw.status);
            if let Some(remaining) =
                header(&raw.headers, "x-ratelimit-remaining").and_then(|v| v.parse::<i64>().ok())
            {
                let resource = header(&raw.headers, "x-ratelimit-resource").unwrap_or("core");
                m.github_rate_limit_remaining(resource, remaining);
            }
        }
        Ok(raw)
    }

    fn failure(&self, metric_route: &str, raw: &RawAnswer) -> ForgeError {
        classify(
            metric_route,
            raw.status,
            &raw.headers,
            &raw.body,
            self.clock.now(),
        )
    }
}

/// A request that got no answer is worth another try: GitHub may be back by then.
fn no_answer(route: &str, e: &TransportError) -> ForgeError {
    ForgeError::Retryable(format!("{route}: {e}"))
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("").trim()
}

/// GitHub's error text: the JSON `message` (and the first validation error, which says which
/// field was wrong), else the first line of whatever came back.
fn github_message(body: &str) -> String {
    #[derive(serde::Deserialize)]
    struct ErrorBody {
        message: Option<String>,
        #[serde(default)]
        errors: Vec<serde_json::Value>,
    }
    match serde_json::from_str::<ErrorBody>(body) {
        Ok(e) => {
            let mut msg = e.message.unwrap_or_default();
            if let Some(first) = e.errors.first() {
                // Objects (`{"message": …}`) on most routes; plain strings on the review
                // routes (`"pull_request_review_thread.line must be part of the diff"`).
                let detail = first
                    .get("message")
                    .and_then(|m| m.as_str())
                    .or_else(|| first.as_str())
                    .map(str::to_string)
                    .unwrap_or_else(|| first.to_string());
                msg = format!("{msg} ({detail})");
            }
            msg
        }
        Err(_) => first_line(body).to_string(),
    }
}

/// How long GitHub asks a client to back off from a secondary rate limit that names no time.
const SECONDARY_LIMIT_DEFAULT_WAIT: TimeDelta = TimeDelta::seconds(60);

/// Turns a non-2xx answer into a [`ForgeError`]: rate limits wait ([`rate_limit`]); 5xx and
/// 408 are worth a retry; 404 is `NotFound`; 409 and 422 are `Conflict`, which the handler may
/// act on; every other 4xx is `Permanent`. None but the first two is ever retried
/// ([`ForgeError::retry`]).
pub fn classify(
    route: &str,
    status: u16,
    headers: &HeaderMap,
    body: &str,
    now: DateTime<Utc>,
) -> ForgeError {
    let message = github_message(body);
    if let Some((until, reason)) = rate_limit(status, headers, &message, now) {
        return ForgeError::RateLimited {
            until,
            reason: format!("{route}: {reason}"),
        };
    }
    let text = format!("{route}: GitHub answered {status}: {message}");
    match status {
        500.. | 408 => ForgeError::Retryable(text),
        404 => ForgeError::NotFound(text),
        409 | 422 => ForgeError::Conflict(text),
        _ => ForgeError::Permanent(text),
    }
}

/// GitHub's rate-limit rules, for an answer with `status` and GitHub's `message`: a primary
/// limit (`x-ratelimit-remaining: 0`) lasts until `x-ratelimit-reset` (epoch seconds); a
/// secondary limit lasts `retry-after` seconds, or a minute when GitHub names no time. `None`
/// when the answer is not a rate limit.
pub fn rate_limit(
    status: u16,
    headers: &HeaderMap,
    message: &str,
    now: DateTime<Utc>,
) -> Option<(DateTime<Utc>, String)> {
    if status != 403 && status != 429 {
        return None;
    }
    if header(headers, "x-ratelimit-remaining") == Some("0") {
        if let Some(reset) = header(headers, "x-ratelimit-reset")
            .and_then(|s| s.parse::<i64>().ok())
            .and_then(|secs| DateTime::from_timestamp(secs, 0))
        {
            return Some((
                reset,
                "primary rate limit exhausted (x-ratelimit-reset)".to_string(),
            ));
        }
    }
    if let Some(secs) = header(headers, "retry-after").and_then(|s| s.parse::<i64>().ok()) {
        return Some((
            now + TimeDelta::seconds(secs.max(0)),
            format!("secondary rate limit (retry-after: {secs})"),
        ));
    }
    if status == 429 || message.to_ascii_lowercase().contains("rate limit") {
        return Some((
            now + SECONDARY_LIMIT_DEFAULT_WAIT,
            "secondary rate limit without retry-after: waiting one minute".to_string(),
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn now() -> DateTime<Utc> {
        "2026-03-01T12:00:00Z".parse().unwrap()
    }

    #[test]
    fn statuses_map_to_what_the_handler_acts_on() {
        let none = HeaderMap::new();
        let r = "GET /repos/{owner}/{repo}";
        assert_eq!(
            classify(r, 404, &none, r#"{"message":"Not Found"}"#, now()),
            ForgeError::NotFound(
                "GET /repos/{owner}/{repo}: GitHub answered 404: Not Found".into()
            )
        );
        assert!(matches!(
            classify(r, 422, &none, r#"{"message":"Validation Failed","errors":[{"message":"A pull request already exists for o:b."}]}"#, now()),
            ForgeError::Conflict(m) if m.ends_with("Validation Failed (A pull request already exists for o:b.)")
        ));
        assert_eq!(
            classify(
                r,
                422,
                &none,
                r#"{"message":"Unprocessable Entity","errors":["Review cannot be requested from pull request author."]}"#,
                now()
            ),
            ForgeError::Conflict(
                "GET /repos/{owner}/{repo}: GitHub answered 422: Unprocessable Entity \
                 (Review cannot be requested from pull request author.)"
                    .into()
            )
        );
        assert!(matches!(
            classify(r, 409, &none, "", now()),
            ForgeError::Conflict(_)
        ));
        assert!(matches!(
            classify(r, 502, &none, "<html>Bad Gateway", now()),
            ForgeError::Retryable(m) if m.ends_with("502: <html>Bad Gateway")
        ));
        assert!(matches!(
            classify(
                r,
                403,
                &none,
                r#"{"message":"Resource not accessible by integration"}"#,
                now()
            ),
            ForgeError::Permanent(_)
        ));
        assert!(matches!(
            classify(r, 401, &none, "", now()),
            ForgeError::Permanent(_)
        ));
    }

    #[test]
    fn only_answers_that_may_change_are_retried() {
        use crate::forge::hosted::Retry;
        let none = HeaderMap::new();
        let r = "POST /repos/{owner}/{repo}/pulls";
        for status in [400, 401, 403, 404, 405, 409, 410, 415, 422, 451] {
            assert_eq!(
                classify(
                    r,
                    status,
                    &none,
                    r#"{"message":"Validation Failed"}"#,
                    now()
                )
                .retry(),
                Retry::Never,
                "{status}"
            );
        }
        for status in [408, 500, 502, 503, 504] {
            assert_eq!(
                classify(r, status, &none, "", now()).retry(),
                Retry::Later,
                "{status}"
            );
        }
        assert!(matches!(
            classify(r, 429, &none, "", now()).retry(),
            Retry::At(_)
        ));
    }

    #[test]
    fn rate_limits_say_until_when() {
        let r = "GET /repos/{owner}/{repo}";
        let primary = headers(&[
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", "1772370000"),
        ]);
        match classify(
            r,
            403,
            &primary,
            r#"{"message":"API rate limit exceeded"}"#,
            now(),
        ) {
            ForgeError::RateLimited { until, .. } => {
                assert_eq!(until, DateTime::from_timestamp(1_772_370_000, 0).unwrap())
            }
            other => panic!("{other:?}"),
        }
        match classify(r, 429, &headers(&[("retry-after", "30")]), "", now()) {
            ForgeError::RateLimited { until, .. } => {
                assert_eq!(
                    until,
                    "2026-03-01T12:00:30Z".parse::<DateTime<Utc>>().unwrap()
                )
            }
            other => panic!("{other:?}"),
        }
    }
}
