//! The same data as the pages, as JSON (`/api/v1/...`) and CSV downloads.

use super::WebState;
use super::access::{self, Viewer};
use super::pages::{Scope, compute, window};
use crate::remediation::figures::OpenFinding;
use crate::store::history;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// The viewer of an API or export request, or 401.
async fn api_viewer(state: &WebState, headers: &HeaderMap) -> Result<Viewer, Response> {
    match access::viewer(state, headers).await? {
        Some(v) => Ok(v),
        None => Err(access::unauthorized()),
    }
}

fn json(value: &impl Serialize) -> Response {
    match serde_json::to_string(value) {
        Ok(body) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response(),
        Err(e) => access::internal(e),
    }
}

fn either(result: Result<Response, Response>) -> Response {
    result.unwrap_or_else(|response| response)
}

async fn figures_json(state: WebState, headers: HeaderMap, uri: Uri, scope: Scope) -> Response {
    either(
        async {
            let viewer = api_viewer(&state, &headers).await?;
            let c = compute(&state, &viewer, &scope, window(&uri)?).await?;
            Ok(json(&c.figures))
        }
        .await,
    )
}

pub async fn organisation_json(
    State(state): State<WebState>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    figures_json(state, headers, uri, Scope::Organisation).await
}

pub async fn tier_json(
    State(state): State<WebState>,
    Path(tier): Path<String>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    figures_json(state, headers, uri, Scope::Tier(tier)).await
}

pub async fn team_json(State(state): State<WebState>, headers: HeaderMap, uri: Uri) -> Response {
    let Some(owner) = access::query(&uri).get("owner").cloned() else {
        return (StatusCode::BAD_REQUEST, "name the team: ?owner=@org/team").into_response();
    };
    figures_json(state, headers, uri, Scope::Team(owner)).await
}

pub async fn repository_json(
    State(state): State<WebState>,
    Path(id): Path<i64>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    figures_json(state, headers, uri, Scope::Repository(id)).await
}

#[derive(Serialize)]
struct RepositoryItem {
    id: i64,
    full_name: String,
    tier: Option<String>,
}

pub async fn repositories_json(State(state): State<WebState>, headers: HeaderMap) -> Response {
    either(
        async {
            let viewer = api_viewer(&state, &headers).await?;
            let repos = history::repositories(state.store.pool(), viewer.scope().as_deref())
                .await
                .map_err(access::internal)?;
            let items: Vec<RepositoryItem> = repos
                .into_iter()
                .map(|r| RepositoryItem {
                    id: r.id,
                    full_name: r.full_name,
                    tier: r.tier,
                })
                .collect();
            Ok(json(&items))
        }
        .await,
    )
}

#[derive(Serialize)]
struct AuditItem {
    at: chrono::DateTime<chrono::Utc>,
    action: String,
    reason: String,
}

async fn audit_items(
    state: &WebState,
    headers: &HeaderMap,
    id: i64,
) -> Result<Vec<AuditItem>, Response> {
    let viewer = api_viewer(state, headers).await?;
    if !viewer.may_see(id) {
        return Err(access::not_found());
    }
    let repos = history::repositories(state.store.pool(), Some(&[id]))
        .await
        .map_err(access::internal)?;
    if repos.is_empty() {
        return Err(access::not_found());
    }
    let entries = history::audit_trail(state.store.pool(), id, 10_000)
        .await
        .map_err(access::internal)?;
    Ok(entries
        .into_iter()
        .map(|a| AuditItem {
            at: a.at,
            action: a.action,
            reason: a.reason,
        })
        .collect())
}

pub async fn audit_json(
    State(state): State<WebState>,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> Response {
    either(
        audit_items(&state, &headers, id)
            .await
            .map(|items| json(&items)),
    )
}

fn csv_response(
    name: &str,
    write: impl FnOnce(&mut csv::Writer<Vec<u8>>) -> csv::Result<()>,
) -> Response {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let written = write(&mut writer).and_then(|()| {
        writer
            .into_inner()
            .map_err(|e| csv::Error::from(e.into_error()))
    });
    match written {
        Ok(bytes) => (
            StatusCode::OK,
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{name}\""),
                ),
            ],
            bytes,
        )
            .into_response(),
        Err(e) => access::internal(e),
    }
}

/// Open findings as CSV rows: one header, one line per finding.
pub fn write_open_findings(w: &mut csv::Writer<Vec<u8>>, open: &[OpenFinding]) -> csv::Result<()> {
    w.write_record([
        "repository",
        "level",
        "severity",
        "package",
        "advisory",
        "owners",
        "since",
        "due",
        "sla",
    ])?;
    for o in open {
        w.write_record([
            o.repository.as_str(),
            &o.level,
            &o.severity,
            &o.package,
            &o.advisory,
            &o.owners.join(" "),
            &o.since.to_rfc3339(),
            &o.due.map(|d| d.to_string()).unwrap_or_default(),
            o.sla.map(|s| s.as_str()).unwrap_or(""),
        ])?;
    }
    Ok(())
}

async fn open_findings(state: WebState, headers: HeaderMap, uri: Uri, scope: Scope) -> Response {
    either(
        async {
            let viewer = api_viewer(&state, &headers).await?;
            let c = compute(&state, &viewer, &scope, window(&uri)?).await?;
            Ok(csv_response("open-findings.csv", |w| {
                write_open_findings(w, &c.figures.open)
            }))
        }
        .await,
    )
}

pub async fn open_findings_csv(
    State(state): State<WebState>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    open_findings(state, headers, uri, Scope::Organisation).await
}

pub async fn repository_open_findings_csv(
    State(state): State<WebState>,
    Path(id): Path<i64>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    open_findings(state, headers, uri, Scope::Repository(id)).await
}

pub async fn audit_csv(
    State(state): State<WebState>,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> Response {
    either(audit_items(&state, &headers, id).await.map(|items| {
        csv_response("audit.csv", |w| {
            w.write_record(["at", "action", "reason"])?;
            for a in &items {
                w.write_record([a.at.to_rfc3339().as_str(), &a.action, &a.reason])?;
            }
            Ok(())
        })
    }))
}
