//! Image provenance of one repository: the page, its JSON and its CSV, from one computation
//! ([`crate::remediation::lineage::lineage`] over the recorded periods, the fix PRs and the
//! finding history).

use super::WebState;
use super::access::{self, Viewer};
use crate::remediation::lineage::{StageLineage, lineage};
use crate::store::history::{self, RepositoryRow};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use minijinja::{Value, context};

/// The repository and its lineage, if `viewer` may see it; otherwise the same not-found as a
/// repository that does not exist.
async fn load(
    state: &WebState,
    viewer: &Viewer,
    id: i64,
) -> Result<(RepositoryRow, Vec<StageLineage>), Response> {
    if !viewer.may_see(id) {
        return Err(access::not_found());
    }
    let pool = state.store.pool();
    let Some(repo) = history::repositories(pool, Some(&[id]))
        .await
        .map_err(access::internal)?
        .into_iter()
        .next()
    else {
        return Err(access::not_found());
    };
    let periods = crate::store::lineage::periods(pool, id)
        .await
        .map_err(access::internal)?;
    let prs = history::fix_prs(pool, Some(&[id]))
        .await
        .map_err(access::internal)?;
    let events = history::events(pool, Some(&[id]))
        .await
        .map_err(access::internal)?;
    Ok((repo, lineage(&periods, &prs, &events)))
}

fn either(result: Result<Response, Response>) -> Response {
    result.unwrap_or_else(|response| response)
}

/// `GET /dashboard/repos/{id}/lineage`.
pub async fn page(
    State(state): State<WebState>,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> Response {
    either(
        async {
            let viewer = super::pages::page_viewer(&state, &headers).await?;
            let (repo, stages) = load(&state, &viewer, id).await?;
            let pulls = format!("{}/{}/pull/", state.config.github_url, repo.full_name);
            let stages: Vec<Value> = stages
                .iter()
                .map(|s| {
                    let steps: Vec<Value> = s
                        .steps
                        .iter()
                        .map(|step| {
                            context! {
                                reference => step.reference(),
                                first_seen => step.first_seen.format("%Y-%m-%d %H:%M").to_string(),
                                last_seen => step.last_seen.format("%Y-%m-%d %H:%M").to_string(),
                                commit => step.commit.get(..12).unwrap_or(&step.commit).to_string(),
                                current => step.current,
                                fix_pr => step.fix_pr,
                                cleared => step.cleared.clone(),
                            }
                        })
                        .collect();
                    context! { file => s.file.clone(), stage => s.stage.clone(), steps }
                })
                .collect();
            Ok(super::pages::render(
                &state,
                "lineage.html",
                context! {
                    title => format!("{} · image lineage", repo.full_name),
                    heading => repo.full_name.clone(),
                    login => viewer.login,
                    admin => viewer.admin,
                    csrf => viewer.csrf,
                    repository => format!("/dashboard/repos/{id}"),
                    api => format!("/api/v1/repositories/{id}/lineage"),
                    csv => format!("/export/repositories/{id}/lineage.csv"),
                    pulls, stages,
                },
            ))
        }
        .await,
    )
}

async fn api_viewer(state: &WebState, headers: &HeaderMap) -> Result<Viewer, Response> {
    match access::viewer(state, headers).await? {
        Some(v) => Ok(v),
        None => Err(access::unauthorized()),
    }
}

/// `GET /api/v1/repositories/{id}/lineage`: the stages, each with its steps.
pub async fn json(
    State(state): State<WebState>,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> Response {
    either(
        async {
            let viewer = api_viewer(&state, &headers).await?;
            let (_, stages) = load(&state, &viewer, id).await?;
            let body = serde_json::to_string(&stages).map_err(access::internal)?;
            Ok((
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/json")],
                body,
            )
                .into_response())
        }
        .await,
    )
}

/// One CSV line per step of every stage.
pub fn write_csv(w: &mut csv::Writer<Vec<u8>>, stages: &[StageLineage]) -> csv::Result<()> {
    w.write_record([
        "file",
        "stage",
        "image",
        "tag",
        "digest",
        "first_seen",
        "last_seen",
        "commit",
        "current",
        "fix_pr",
        "cleared",
    ])?;
    for s in stages {
        for step in &s.steps {
            w.write_record([
                s.file.as_str(),
                &s.stage,
                &step.image,
                &step.tag,
                step.digest.as_deref().unwrap_or(""),
                &step.first_seen.to_rfc3339(),
                &step.last_seen.to_rfc3339(),
                &step.commit,
                if step.current { "yes" } else { "no" },
                &step.fix_pr.map(|n| n.to_string()).unwrap_or_default(),
                &step.cleared.join(" "),
            ])?;
        }
    }
    Ok(())
}

/// `GET /export/repositories/{id}/lineage.csv`.
pub async fn csv(
    State(state): State<WebState>,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> Response {
    either(
        async {
            let viewer = api_viewer(&state, &headers).await?;
            let (_, stages) = load(&state, &viewer, id).await?;
            let mut writer = csv::Writer::from_writer(Vec::new());
            write_csv(&mut writer, &stages).map_err(access::internal)?;
            let bytes = writer
                .into_inner()
                .map_err(|e| access::internal(e.into_error()))?;
            Ok((
                StatusCode::OK,
                [
                    (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                    (
                        header::CONTENT_DISPOSITION,
                        "attachment; filename=\"lineage.csv\"",
                    ),
                ],
                bytes,
            )
                .into_response())
        }
        .await,
    )
}
