//! `POST /webhook`: verify, deduplicate, parse, store, answer — in that order, and fast.
//!
//! The signature is checked on the raw bytes before anything else is read; a bad or missing
//! one is answered 401 with no side effect. The delivery record, the bookkeeping and the jobs
//! are one transaction; the answer (202 when jobs were stored) goes out once it commits, never
//! after the work: the workers pick the jobs up from the store.

pub mod event;
pub mod intake;
pub mod signature;

use crate::service::AppState;
use crate::store::deliveries::{self, Delivery};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use event::Event;
use intake::Outcome;

/// GitHub caps webhook payloads at 25 MB; anything larger is not GitHub.
pub const MAX_BODY_BYTES: usize = 25 * 1024 * 1024;

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn answer(status: StatusCode, text: impl Into<String>) -> Response {
    (status, text.into()).into_response()
}

pub async fn receive(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let signature = headers.get("x-hub-signature-256").map(|v| v.as_bytes());
    if let Err(e) = signature::verify(state.webhook_secret.expose().as_bytes(), &body, signature) {
        // The event header is unauthenticated: it must not become a metric label.
        state.metrics.webhook("unverified", "unauthorized");
        tracing::warn!(error = %e, "webhook rejected");
        return answer(StatusCode::UNAUTHORIZED, e.to_string());
    }
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
    let event = match event::parse(event_name, &body) {
        Ok(event) => event,
        Err(e) => {
            state.metrics.webhook(event_name, "bad_request");
            tracing::error!(delivery = delivery_id, error = %e, "signed webhook does not parse");
            return answer(StatusCode::BAD_REQUEST, e.to_string());
        }
    };
    match store(&state, event_name, delivery_id, &event).await {
        Ok(Stored::Duplicate) => {
            state.metrics.webhook(event_name, "duplicate");
            tracing::info!(
                delivery = delivery_id,
                event = event_name,
                "duplicate delivery"
            );
            answer(StatusCode::OK, "duplicate")
        }
        Ok(Stored::Done { outcome, job_ids }) => {
            state.metrics.webhook(event_name, outcome.label());
            tracing::info!(
                delivery = delivery_id,
                event = event_name,
                outcome = %outcome.describe(),
                jobs = ?job_ids,
                "webhook handled"
            );
            if job_ids.is_empty() {
                answer(StatusCode::OK, outcome.describe())
            } else {
                state.wake.notify_one();
                let ids: Vec<String> = job_ids.iter().map(i64::to_string).collect();
                answer(
                    StatusCode::ACCEPTED,
                    format!("queued job {}", ids.join(", ")),
                )
            }
        }
        Err(e) => {
            state.metrics.webhook(event_name, "error");
            tracing::error!(delivery = delivery_id, error = %e, "cannot store webhook");
            // GitHub shows the failure and the delivery can be redelivered once we recover.
            answer(
                StatusCode::INTERNAL_SERVER_ERROR,
                "cannot store the delivery",
            )
        }
    }
}

enum Stored {
    Duplicate,
    Done { outcome: Outcome, job_ids: Vec<i64> },
}

async fn store(
    state: &AppState,
    event_name: &str,
    delivery_id: &str,
    event: &Event,
) -> Result<Stored, crate::store::StoreError> {
    let plan = intake::plan(event, &state.bot_login);
    let now = state.clock.now();
    let mut tx = state.store.begin().await?;
    // The delivery row goes first: it is the write that takes SQLite's lock, and the
    // conflict that tells a redelivery.
    let delivery = Delivery {
        id: delivery_id.to_string(),
        event: event_name.to_string(),
        action: event.action(),
        installation_id: event.installation_id(),
        repository_id: event.repository_id(),
        received_at: now,
        outcome: plan.outcome.describe(),
    };
    if !deliveries::insert(&mut *tx, &delivery).await? {
        tx.rollback().await?;
        return Ok(Stored::Duplicate);
    }
    let applied = intake::apply(&mut tx, &plan, delivery_id, now).await?;
    if applied.outcome != plan.outcome {
        deliveries::set_outcome(&mut *tx, delivery_id, &applied.outcome.describe()).await?;
    }
    tx.commit().await?;
    Ok(Stored::Done {
        outcome: applied.outcome,
        job_ids: applied.job_ids,
    })
}
