//! Keeping the repository's one tracking issue in step with the blockers no fix PR will clear:
//! opened when the first appears, rewritten when the list changes, closed when it is empty.

use super::{Ctx, job_error, short};
use crate::forge::hosted::{ForgeError, IssueUpdate};
use crate::owners::{self, CodeOwners};
use crate::pipeline::Knowledge;
use crate::report::Report;
use crate::service::jobs::JobError;
use crate::snapshot::RepoSnapshot;
use crate::store::findings::finding_key;
use crate::store::tracking::{self as stored, TrackingState};
use crate::tracking::{self, TrackingIssue};
use chrono::{DateTime, Utc};
use std::collections::HashMap;

/// What the sync did, for the job's summary line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrackingAction {
    None,
    Opened(u64),
    Updated(u64),
    Unchanged(u64),
    Closed(u64),
}

impl std::fmt::Display for TrackingAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TrackingAction::None => write!(f, "none"),
            TrackingAction::Opened(n) => write!(f, "opened #{n}"),
            TrackingAction::Updated(n) => write!(f, "updated #{n}"),
            TrackingAction::Unchanged(n) => write!(f, "#{n} unchanged"),
            TrackingAction::Closed(n) => write!(f, "closed #{n}"),
        }
    }
}

/// The repository's CODEOWNERS as GitHub would read it, if there is one. Lines GitHub would
/// reject are skipped, as GitHub skips them.
pub fn codeowners(snapshot: &RepoSnapshot) -> Option<CodeOwners> {
    let (path, text) = owners::locate(&snapshot.files)?;
    if text.len() >= owners::MAX_SIZE {
        return None;
    }
    Some(owners::parse(path, text).0)
}

/// `first_seen` is what recording this scan returned (`ScanDelta::first_seen`), by finding key.
pub async fn sync(
    ctx: &Ctx<'_>,
    report: &Report,
    snapshot: &RepoSnapshot,
    knowledge: &Knowledge,
    first_seen: &HashMap<String, DateTime<Utc>>,
) -> Result<TrackingAction, JobError> {
    let codeowners = codeowners(snapshot);
    let wanted = tracking::tracking_issue(
        report,
        &|f| first_seen.get(&finding_key(f)).map(DateTime::date_naive),
        &knowledge.policy,
        codeowners.as_ref(),
        &knowledge.policy.fallback_owners,
        ctx.today,
        ctx.app_slug,
    );
    let known = stored::get(ctx.store.pool(), ctx.repository_id).await?;
    match (known, wanted) {
        (None, None) => Ok(TrackingAction::None),
        (None, Some(issue)) => open(ctx, &issue).await,
        (Some(row), Some(issue)) => {
            let number = row.number as u64;
            match ctx.forge.issue(ctx.repo, number).await {
                // Deleted by someone: start a new one rather than fail every scan.
                Err(ForgeError::NotFound(_)) => open(ctx, &issue).await,
                Err(e) => Err(job_error(e)),
                Ok(current) => {
                    let mut update = IssueUpdate::default();
                    if current.state != "open" {
                        update.open = Some(true);
                    }
                    if current.body != issue.body {
                        update.body = Some(issue.body.clone());
                    }
                    if current.title != issue.title {
                        update.title = Some(issue.title.clone());
                    }
                    // People may assign others by hand: owners are added, never removed.
                    let missing: Vec<String> = issue
                        .assignment
                        .users
                        .iter()
                        .filter(|u| !current.assignees.iter().any(|a| a.eq_ignore_ascii_case(u)))
                        .cloned()
                        .collect();
                    if !missing.is_empty() {
                        let mut all = current.assignees.clone();
                        all.extend(missing);
                        all.truncate(tracking::MAX_ASSIGNEES);
                        update.assignees = Some(all);
                    }
                    if update == IssueUpdate::default() {
                        return Ok(TrackingAction::Unchanged(number));
                    }
                    ctx.forge
                        .update_issue(ctx.repo, number, &update)
                        .await
                        .map_err(job_error)?;
                    stored::set(
                        ctx.store.pool(),
                        ctx.repository_id,
                        number as i64,
                        TrackingState::Open,
                        ctx.now,
                    )
                    .await?;
                    ctx.audit(
                        "tracking-issue-updated",
                        format!("#{number}: {}", first_line(&issue.body)),
                    )
                    .await?;
                    Ok(TrackingAction::Updated(number))
                }
            }
        }
        (Some(row), None) => {
            let number = row.number as u64;
            if row.state == TrackingState::Closed {
                return Ok(TrackingAction::None);
            }
            let body = format!(
                "{}\nNothing is left to track: every blocker without an automatic fix is fixed, suppressed by an exception, or no longer a blocker (checked at {}). patchwright reopens this issue if one appears again.\n",
                tracking::MARKER,
                short(ctx.head)
            );
            let update = IssueUpdate {
                body: Some(body),
                open: Some(false),
                ..IssueUpdate::default()
            };
            match ctx.forge.update_issue(ctx.repo, number, &update).await {
                Ok(()) | Err(ForgeError::NotFound(_)) => {}
                Err(e) => return Err(job_error(e)),
            }
            stored::set(
                ctx.store.pool(),
                ctx.repository_id,
                number as i64,
                TrackingState::Closed,
                ctx.now,
            )
            .await?;
            ctx.audit(
                "tracking-issue-closed",
                format!("#{number}: nothing left to track"),
            )
            .await?;
            Ok(TrackingAction::Closed(number))
        }
    }
}

async fn open(ctx: &Ctx<'_>, issue: &TrackingIssue) -> Result<TrackingAction, JobError> {
    let created = ctx
        .forge
        .create_issue(
            ctx.repo,
            &issue.title,
            &issue.body,
            &["security".to_string()],
            &issue.assignment.users,
        )
        .await
        .map_err(job_error)?;
    stored::set(
        ctx.store.pool(),
        ctx.repository_id,
        created.number as i64,
        TrackingState::Open,
        ctx.now,
    )
    .await?;
    ctx.audit(
        "tracking-issue-opened",
        format!("#{}: {}", created.number, first_line(&issue.body)),
    )
    .await?;
    Ok(TrackingAction::Opened(created.number))
}

/// The body's first line of prose (after the hidden marker), for the audit trail.
fn first_line(body: &str) -> &str {
    body.lines()
        .find(|l| !l.trim().is_empty() && !l.starts_with("<!--"))
        .unwrap_or("")
}
