//! The HTML pages: organisation, tier, team (CODEOWNERS), repository.

use super::WebState;
use super::access::{self, Viewer};
use crate::remediation::{Dataset, Figures, Window, figures, text};
use crate::store::history;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Response};
use minijinja::{Environment, Value, context};
use serde::Serialize;
use std::collections::HashMap;

/// The templates, compiled in: the binary needs no files beside it.
pub fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    for (name, source) in [
        (
            "layout.html",
            include_str!("../../templates/web/layout.html"),
        ),
        (
            "figures.html",
            include_str!("../../templates/web/figures.html"),
        ),
        ("scope.html", include_str!("../../templates/web/scope.html")),
        (
            "repository.html",
            include_str!("../../templates/web/repository.html"),
        ),
        (
            "lineage.html",
            include_str!("../../templates/web/lineage.html"),
        ),
        ("setup.html", include_str!("../../templates/web/setup.html")),
        (
            "message.html",
            include_str!("../../templates/web/message.html"),
        ),
    ] {
        env.add_template(name, source)
            .expect("the dashboard templates parse (checked by the tests)");
    }
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::Html);
    // The same number formats as `patchwright report`.
    env.add_function("pct", |v: Option<f64>| text::percent(v));
    env.add_function("days", |v: Option<f64>| text::days(v));
    env.add_function("trend", |v: Option<f64>| text::trend(v));
    // Tier and team names go into paths and query strings.
    env.add_filter("urlencode", |v: String| encode(&v));
    env.add_function("hours", |v: Option<f64>| {
        v.map_or_else(|| "n/a".to_string(), |h| format!("{h:.1} h"))
    });
    env
}

/// What a route shows figures of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    Organisation,
    Tier(String),
    Team(String),
    Repository(i64),
}

/// The figures of a scope as the viewer may see them, and the data they came from.
pub struct Computed {
    pub figures: Figures,
    pub data: Dataset,
}

/// A `since` that is not a number of days.
#[derive(Debug)]
pub struct BadWindow(String);

impl From<BadWindow> for Response {
    fn from(e: BadWindow) -> Response {
        (StatusCode::BAD_REQUEST, e.0).into_response()
    }
}

/// The `since` query parameter (`90d` when absent).
pub fn window(uri: &Uri) -> Result<Window, BadWindow> {
    match access::query(uri).get("since") {
        None => Ok(Window { days: 90 }),
        Some(text) => Window::parse(text).map_err(BadWindow),
    }
}

/// Loads what `viewer` may see of `scope` and computes its figures. A repository the viewer
/// may not see is not found, exactly like one that does not exist.
pub async fn compute(
    state: &WebState,
    viewer: &Viewer,
    scope: &Scope,
    window: Window,
) -> Result<Computed, Response> {
    let now = state.clock.now();
    let from = window.start(now).date_naive();
    let ids = match scope {
        Scope::Repository(id) if !viewer.may_see(*id) => return Err(access::not_found()),
        Scope::Repository(id) => Some(vec![*id]),
        _ => viewer.scope(),
    };
    // The charts of many repositories read the daily counts summed by the database; a
    // team's are computed from its findings, a repository's are few.
    let pool = state.store.pool();
    let data = history::records(&state.store, ids.as_deref())
        .await
        .map_err(access::internal)?;
    let data = match scope {
        Scope::Organisation => Dataset {
            snapshots: history::snapshot_totals(pool, from, ids.as_deref())
                .await
                .map_err(access::internal)?,
            ..data
        },
        Scope::Tier(tier) => {
            let mut tier_data = data.restricted(|r| r.tier.as_deref() == Some(tier.as_str()));
            let tier_ids: Vec<i64> = tier_data.repositories.iter().map(|r| r.id).collect();
            tier_data.snapshots = history::snapshot_totals(pool, from, Some(&tier_ids))
                .await
                .map_err(access::internal)?;
            tier_data
        }
        // A team owning nothing the viewer can see is not found: the page would only echo
        // the name asked for.
        Scope::Team(owner) => {
            let team = data.for_owner(owner, from, now.date_naive());
            if team.events.is_empty() {
                return Err(access::not_found());
            }
            team
        }
        Scope::Repository(_) if data.repositories.is_empty() => return Err(access::not_found()),
        Scope::Repository(_) => Dataset {
            snapshots: history::snapshots(pool, from, ids.as_deref())
                .await
                .map_err(access::internal)?,
            ..data
        },
    };
    Ok(Computed {
        figures: figures(&data, &state.sla, now, window),
        data,
    })
}

/// The viewer of a page request, or the answer that sends them to sign in.
pub async fn page_viewer(state: &WebState, headers: &HeaderMap) -> Result<Viewer, Response> {
    match access::viewer(state, headers).await? {
        Some(v) => Ok(v),
        None => Err(access::to_login()),
    }
}

#[derive(Serialize)]
struct RepositoryLine {
    id: i64,
    name: String,
    tier: Option<String>,
    blockers: usize,
    warnings: usize,
}

fn repository_lines(c: &Computed) -> Vec<RepositoryLine> {
    let mut open: HashMap<i64, (usize, usize)> = HashMap::new();
    for o in &c.figures.open {
        let entry = open.entry(o.repository_id).or_default();
        match o.level.as_str() {
            "blocker" => entry.0 += 1,
            "warning" => entry.1 += 1,
            _ => {}
        }
    }
    c.data
        .repositories
        .iter()
        .map(|r| {
            let (blockers, warnings) = open.get(&r.id).copied().unwrap_or_default();
            RepositoryLine {
                id: r.id,
                name: r.full_name.clone(),
                tier: r.tier.clone(),
                blockers,
                warnings,
            }
        })
        .collect()
}

pub(super) fn render(state: &WebState, template: &str, ctx: Value) -> Response {
    match state
        .templates
        .get_template(template)
        .and_then(|t| t.render(ctx))
    {
        Ok(html) => Html(html).into_response(),
        Err(e) => access::internal(e),
    }
}

fn charts(f: &Figures) -> (String, String) {
    (
        super::chart::open_by_severity(&f.open_blockers, "Open blockers by severity per day"),
        super::chart::open_by_severity(&f.open_warnings, "Open warnings by severity per day"),
    )
}

async fn scope_page(
    state: WebState,
    headers: HeaderMap,
    uri: Uri,
    scope: Scope,
) -> Result<Response, Response> {
    let viewer = page_viewer(&state, &headers).await?;
    let window = window(&uri)?;
    let c = compute(&state, &viewer, &scope, window).await?;
    let since = format!("since={}d", window.days);
    let (heading, api, csv) = match &scope {
        Scope::Organisation => (
            "Organisation".to_string(),
            format!("/api/v1/figures?{since}"),
            "/export/open-findings.csv".to_string(),
        ),
        Scope::Tier(tier) => (
            format!("Tier {tier}"),
            format!("/api/v1/tiers/{}/figures?{since}", encode(tier)),
            "/export/open-findings.csv".to_string(),
        ),
        Scope::Team(owner) => (
            format!("Team {owner}"),
            format!("/api/v1/team/figures?owner={}&{since}", encode(owner)),
            "/export/open-findings.csv".to_string(),
        ),
        Scope::Repository(_) => unreachable!("repositories have their own page"),
    };
    let (blockers_chart, warnings_chart) = charts(&c.figures);
    let (tiers, teams) = match scope {
        Scope::Organisation => (c.data.tiers(), c.data.owners()),
        _ => (Vec::new(), Vec::new()),
    };
    Ok(render(
        &state,
        "scope.html",
        context! {
            title => heading.clone(),
            heading,
            login => viewer.login,
            admin => viewer.admin,
            csrf => viewer.csrf,
            f => Value::from(minijinja::value::Serde(&c.figures)),
            repositories => Value::from(minijinja::value::Serde(repository_lines(&c))),
            tiers, teams, api, csv, blockers_chart, warnings_chart,
        },
    ))
}

/// Percent-encodes everything but unreserved characters: safe in a path segment and a query.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn either(result: Result<Response, Response>) -> Response {
    result.unwrap_or_else(|response| response)
}

pub async fn organisation(State(state): State<WebState>, headers: HeaderMap, uri: Uri) -> Response {
    either(scope_page(state, headers, uri, Scope::Organisation).await)
}

pub async fn tier(
    State(state): State<WebState>,
    Path(tier): Path<String>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    either(scope_page(state, headers, uri, Scope::Tier(tier)).await)
}

pub async fn team(State(state): State<WebState>, headers: HeaderMap, uri: Uri) -> Response {
    let Some(owner) = access::query(&uri).get("owner").cloned() else {
        return (StatusCode::BAD_REQUEST, "name the team: ?owner=@org/team").into_response();
    };
    either(scope_page(state, headers, uri, Scope::Team(owner)).await)
}

pub async fn repository(
    State(state): State<WebState>,
    Path(id): Path<i64>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    either(
        async {
            let viewer = page_viewer(&state, &headers).await?;
            let window = window(&uri)?;
            let c = compute(&state, &viewer, &Scope::Repository(id), window).await?;
            let audit = history::audit_trail(state.store.pool(), id, 200)
                .await
                .map_err(access::internal)?;
            let repo = &c.data.repositories[0];
            let audit: Vec<_> = audit
                .iter()
                .map(|a| {
                    context! { at => a.at.format("%Y-%m-%d %H:%M").to_string(), action => a.action.clone(), reason => a.reason.clone() }
                })
                .collect();
            let (blockers_chart, warnings_chart) = charts(&c.figures);
            Ok(render(
                &state,
                "repository.html",
                context! {
                    title => repo.full_name.clone(),
                    heading => repo.full_name.clone(),
                    tier => repo.tier.clone(),
                    login => viewer.login,
                    admin => viewer.admin,
                    csrf => viewer.csrf,
                    f => Value::from(minijinja::value::Serde(&c.figures)),
                    api => format!("/api/v1/repositories/{id}/figures?since={}d", window.days),
                    csv => format!("/export/repositories/{id}/open-findings.csv"),
                    audit_csv => format!("/export/repositories/{id}/audit.csv"),
                    lineage => format!("/dashboard/repos/{id}/lineage"),
                    audit, blockers_chart, warnings_chart,
                },
            ))
        }
        .await,
    )
}

/// `POST /dashboard/snapshots` (admins, with the CSRF token): rebuilds the daily snapshots of
/// the window from the history.
pub async fn rebuild_snapshots(
    State(state): State<WebState>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    either(
        async {
            let viewer = page_viewer(&state, &headers).await?;
            if !access::csrf_ok(&viewer, &body) {
                return Err(
                    (StatusCode::FORBIDDEN, "the form's CSRF token is wrong").into_response()
                );
            }
            if !viewer.admin {
                return Err(
                    (StatusCode::FORBIDDEN, "only admins rebuild the history").into_response()
                );
            }
            let window = window(&uri)?;
            let now = state.clock.now();
            history::rebuild_snapshots(
                &state.store,
                window.start(now).date_naive(),
                now.date_naive(),
            )
            .await
            .map_err(access::internal)?;
            Ok((StatusCode::SEE_OTHER, [(header::LOCATION, "/dashboard")]).into_response())
        }
        .await,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::SlaDays;

    fn empty_figures() -> Figures {
        let now = "2026-06-15T12:00:00Z".parse().unwrap();
        figures(
            &Dataset::default(),
            &SlaDays::default(),
            now,
            Window { days: 7 },
        )
    }

    #[test]
    fn every_page_template_renders_and_escapes() {
        let env = environment();
        let f = empty_figures();
        let (b, w) = charts(&f);
        let scope = env
            .get_template("scope.html")
            .unwrap()
            .render(context! {
                title => "Organisation", heading => "<Organisation>", login => "octocat", admin => true,
                csrf => "tok", f => Value::from(minijinja::value::Serde(&f)),
                repositories => Vec::<String>::new(), tiers => vec!["internet-facing"], teams => vec!["@acme/web"],
                api => "/api", csv => "/csv", blockers_chart => b.clone(), warnings_chart => w.clone(),
            })
            .unwrap();
        assert!(scope.contains("&lt;Organisation&gt;"), "text is escaped");
        assert!(
            scope.contains("<svg role=\"img\""),
            "charts are not escaped"
        );
        assert!(scope.contains(r#"name="csrf" value="tok""#));
        let repo = env
            .get_template("repository.html")
            .unwrap()
            .render(context! {
                title => "acme/x", heading => "acme/x", tier => "internet-facing", login => "octocat", admin => false,
                csrf => "tok", f => Value::from(minijinja::value::Serde(&f)), api => "/api", csv => "/csv",
                audit_csv => "/a", audit => Vec::<String>::new(), blockers_chart => b, warnings_chart => w,
            })
            .unwrap();
        assert!(repo.contains("nothing open"));
    }
}
