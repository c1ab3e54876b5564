//! `POST /webhook`: verify, deduplicate, parse, store, answer — in that order, and fast.
//!
//! The signature is checked on the raw bytes before anything else is read; a bad or missing
//! one is answered 401 with no side effect. The body is hashed as it streams in and kept
//! only within a byte budget shared by every request ([`body`]): past it, 503 with
//! `Retry-After`. The delivery record, the bookkeeping and the jobs
//! are one transaction (a push on PostgreSQL: one statement, [`intake::store`]); the answer (202 when jobs were stored) goes out once it commits, never
//! after the work: the workers pick the jobs up from the store.

pub mod body;
pub mod event;
pub mod intake;
pub mod signature;

use crate::service::AppState;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Request, StatusCode, header as http_header};
use axum::response::{IntoResponse, Response};
use body::BodyError;
use event::Event;
use intake::Stored;
use tracing::Instrument;

/// GitHub caps webhook payloads at 25 MB; anything larger is not GitHub.
pub const MAX_BODY_BYTES: usize = 25 * 1024 * 1024;

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn answer(status: StatusCode, text: impl Into<String>) -> Response {
    (status, text.into()).into_response()
}

/// How long a sender refused for want of memory is asked to wait.
const BUSY_RETRY_AFTER_SECONDS: &str = "5";

/// The answer to a body that was not read to a verified end. The event header is
/// unauthenticated here: it must not become a metric label.
fn refuse(state: &AppState, error: &BodyError) -> Response {
    let text = error.to_string();
    match error {
        BodyError::Signature(_) => {
            state.metrics.webhook("unverified", "unauthorized");
            tracing::warn!(error = text, "webhook rejected");
            answer(StatusCode::UNAUTHORIZED, text)
        }
        BodyError::TooLarge { declared } => {
            state.metrics.webhook("unverified", "too_large");
            tracing::warn!(
                declared,
                limit = MAX_BODY_BYTES,
                "webhook rejected: body too large"
            );
            answer(StatusCode::PAYLOAD_TOO_LARGE, text)
        }
        BodyError::Busy => {
            state.metrics.webhook("unverified", "busy");
            tracing::warn!(
                in_flight = state.body_limits.budget.in_flight(),
                budget = state.body_limits.budget.capacity(),
                "webhook refused: the body budget is spent"
            );
            (
                StatusCode::SERVICE_UNAVAILABLE,
                [(http_header::RETRY_AFTER, BUSY_RETRY_AFTER_SECONDS)],
                text,
            )
                .into_response()
        }
        BodyError::Timeout(_) => {
            state.metrics.webhook("unverified", "timeout");
            tracing::warn!(error = text, "webhook rejected: body too slow");
            answer(StatusCode::REQUEST_TIMEOUT, text)
        }
        BodyError::Read(_) => {
            state.metrics.webhook("unverified", "bad_request");
            tracing::warn!(error = text, "webhook rejected: body unreadable");
            answer(StatusCode::BAD_REQUEST, text)
        }
    }
}

pub async fn receive(State(state): State<AppState>, request: Request<Body>) -> Response {
    let (parts, body) = request.into_parts();
    let headers = parts.headers;
    let declared = header(&headers, "content-length").and_then(|v| v.trim().parse::<u64>().ok());
    let verified = body::read_verified(
        body,
        state.webhook_secret.expose().as_bytes(),
        headers.get("x-hub-signature-256").map(|v| v.as_bytes()),
        declared,
        &state.body_limits,
    )
    .await;
    let verified = match verified {
        Ok(verified) => verified,
        Err(e) => return refuse(&state, &e),
    };
    let body = &verified.bytes;
    let label = header(&headers, "x-github-event").map_or("unknown", event::metric_label);
    let (Some(event_name), Some(delivery_id)) = (
        header(&headers, "x-github-event"),
        header(&headers, "x-github-delivery"),
    ) else {
        state.metrics.webhook("unknown", "bad_request");
        return answer(
            StatusCode::BAD_REQUEST,
            "X-GitHub-Event and X-GitHub-Delivery headers are required",
        );
    };
    let event = match event::parse(event_name, body) {
        Ok(event) => event,
        Err(e) => {
            state.metrics.webhook(label, "bad_request");
            tracing::error!(delivery = delivery_id, error = %e, "signed webhook does not parse");
            return answer(StatusCode::BAD_REQUEST, e.to_string());
        }
    };
    // A span of its own (a pool acquire and the statements) tells, in a trace, time spent
    // waiting for the database from time spent before it.
    let mut stored = store(&state, &state.intake, event_name, delivery_id, &event)
        .instrument(tracing::debug_span!("intake"))
        .await;
    if let Err(e) = &stored
        && e.is_connection_lost()
    {
        // The intake pool does not ping a connection before use, so one the server dropped
        // fails here instead; nothing of the delivery was kept unless its commit got through,
        // and then the retry finds it and answers "duplicate". The tested pool discards dead
        // connections before handing one out.
        tracing::warn!(delivery = delivery_id, error = %e, "intake connection lost; retrying the delivery once");
        stored = store(&state, &state.store, event_name, delivery_id, &event).await;
    }
    match stored {
        Ok(Stored::Duplicate) => {
            state.metrics.webhook(label, "duplicate");
            tracing::info!(
                delivery = delivery_id,
                event = event_name,
                "duplicate delivery"
            );
            answer(StatusCode::OK, "duplicate")
        }
        Ok(Stored::Done { outcome, job_ids }) => {
            state.metrics.webhook(label, outcome.label());
            let ids: Vec<String> = job_ids.iter().map(i64::to_string).collect();
            let ids = ids.join(", ");
            // Numbers and plain strings, so a JSON log line keeps its types.
            tracing::info!(
                delivery = delivery_id,
                event = event_name,
                outcome = %outcome.describe(),
                jobs = job_ids.len(),
                job_ids = ids,
                "webhook handled"
            );
            if job_ids.is_empty() {
                answer(StatusCode::OK, outcome.describe())
            } else {
                state.wake.notify_one();
                answer(StatusCode::ACCEPTED, format!("queued job {ids}"))
            }
        }
        Err(e) => {
            state.metrics.webhook(label, "error");
            tracing::error!(delivery = delivery_id, error = %e, "cannot store webhook");
            // GitHub shows the failure and the delivery can be redelivered once we recover.
            answer(
                StatusCode::INTERNAL_SERVER_ERROR,
                "cannot store the delivery",
            )
        }
    }
}

async fn store(
    state: &AppState,
    db: &crate::store::Store,
    event_name: &str,
    delivery_id: &str,
    event: &Event,
) -> Result<Stored, crate::store::StoreError> {
    let delivery = intake::Received {
        event_name,
        delivery_id,
        event,
        bot_login: &state.bot_login,
        now: state.clock.now(),
    };
    intake::store(db, &delivery).await
}
