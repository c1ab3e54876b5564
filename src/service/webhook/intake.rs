//! What a verified, parsed event does: [`plan`] decides (pure), [`apply`] writes the plan in
//! the delivery's transaction, [`store`] records the delivery with it. A push on PostgreSQL
//! is written in one statement instead ([`crate::store::push_intake`]): its acknowledgement
//! waits on one round trip, not six; [`store_general`] is the path it must match.
//!
//! Bookkeeping that is only rows (installations, repositories, a fix PR's fate, the audit
//! trail) is written right here, atomically with the delivery record, so a redelivery can
//! never apply it twice. Anything that needs GitHub or the scanner becomes a job.

use super::event::Event as ParsedEvent;
use super::event::{
    CommentAction, Event, InstallationAction, InstallationRef, PullRequestAction,
    RepositoriesAction,
};
use crate::service::jobs::{CommentJob, JobKind, RepoRef, ReviewJob, ScanJob, ScanReason};
use crate::store::audit::{self, AuditEntry};
use crate::store::deliveries::{self, Delivery};
use crate::store::push_intake::{self, PushIntake};
use crate::store::{Backend, Store, StoreError, fix_prs, installations, jobs};
use chrono::{DateTime, Utc};
use sqlx::AnyConnection;

/// What intake answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Pong,
    /// Jobs were stored (202).
    Queued,
    /// Rows were updated; no job needed (200).
    Recorded,
    /// Nothing to do, and why (200).
    Ignored(String),
}

impl Outcome {
    /// The metric label and the stem of the stored outcome.
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Pong => "pong",
            Outcome::Queued => "queued",
            Outcome::Recorded => "recorded",
            Outcome::Ignored(_) => "ignored",
        }
    }

    /// The text stored in `deliveries.outcome`.
    pub fn describe(&self) -> String {
        match self {
            Outcome::Ignored(why) => format!("ignored: {why}"),
            other => other.label().to_string(),
        }
    }
}

/// One write the event calls for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    UpsertInstallation(InstallationRef),
    /// Creates the installation row only if missing (an event from an installation made
    /// before this database existed).
    EnsureInstallation(InstallationRef),
    DeleteInstallation {
        id: i64,
    },
    SetSuspended {
        id: i64,
        suspended: bool,
    },
    UpsertRepository {
        installation_id: i64,
        repository: RepoRef,
        default_branch: Option<String>,
        /// `None` when the event does not say.
        private: Option<bool>,
    },
    RemoveRepository {
        id: i64,
    },
    Enqueue(JobKind),
    /// A pull request by the app was closed; recorded if it is one of its fix PRs.
    FixPrClosed {
        repository: RepoRef,
        number: i64,
        merged: bool,
        by_human: bool,
        closed_by: String,
    },
    Audit {
        installation_id: Option<i64>,
        repository_id: Option<i64>,
        action: String,
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub outcome: Outcome,
    pub ops: Vec<Op>,
}

impl Plan {
    fn ignored(why: impl Into<String>) -> Plan {
        Plan {
            outcome: Outcome::Ignored(why.into()),
            ops: Vec::new(),
        }
    }
}

fn audit(installation_id: i64, action: &str, reason: String) -> Op {
    Op::Audit {
        installation_id: Some(installation_id),
        repository_id: None,
        action: action.to_string(),
        reason,
    }
}

fn names(repos: &[RepoRef]) -> String {
    let names: Vec<&str> = repos.iter().map(|r| r.full_name.as_str()).collect();
    if names.is_empty() {
        "no repositories".to_string()
    } else {
        names.join(", ")
    }
}

/// Scans for repositories newly granted to the app: the first look at what they hold.
fn onboard(installation: &InstallationRef, repos: &[RepoRef], ops: &mut Vec<Op>) {
    for repo in repos {
        ops.push(Op::UpsertRepository {
            installation_id: installation.id,
            repository: repo.clone(),
            default_branch: None,
            private: None,
        });
        ops.push(Op::Enqueue(JobKind::Scan(ScanJob {
            installation_id: installation.id,
            repository: repo.clone(),
            head_sha: None,
            reason: ScanReason::Installed,
        })));
    }
}

/// Decides what `event` does. `bot_login` is the app's own login (`<slug>[bot]`).
pub fn plan(event: &Event, bot_login: &str) -> Plan {
    match event {
        Event::Ping { .. } => Plan {
            outcome: Outcome::Pong,
            ops: Vec::new(),
        },
        Event::Installation {
            action,
            installation,
            repositories,
        } => {
            let id = installation.id;
            let account = &installation.account_login;
            let mut ops = Vec::new();
            match action {
                InstallationAction::Created => {
                    ops.push(Op::UpsertInstallation(installation.clone()));
                    onboard(installation, repositories, &mut ops);
                    ops.push(audit(
                        id,
                        "installation.created",
                        format!(
                            "the app was installed on {account}; scanning {}",
                            names(repositories)
                        ),
                    ));
                }
                InstallationAction::Deleted => {
                    ops.push(Op::DeleteInstallation { id });
                    ops.push(audit(
                        id,
                        "installation.deleted",
                        format!(
                            "the app was uninstalled from {account}; its queued jobs are cancelled"
                        ),
                    ));
                }
                InstallationAction::Suspend | InstallationAction::Unsuspend => {
                    let suspended = *action == InstallationAction::Suspend;
                    ops.push(Op::SetSuspended { id, suspended });
                    let what = if suspended {
                        "suspended"
                    } else {
                        "unsuspended"
                    };
                    ops.push(audit(
                        id,
                        &format!("installation.{what}"),
                        format!("the installation on {account} was {what}"),
                    ));
                }
                InstallationAction::NewPermissionsAccepted => {
                    return Plan::ignored("installation action `new_permissions_accepted`");
                }
                InstallationAction::Other(a) => {
                    return Plan::ignored(format!("installation action `{a}`"));
                }
            }
            let outcome = if ops.iter().any(|op| matches!(op, Op::Enqueue(_))) {
                Outcome::Queued
            } else {
                Outcome::Recorded
            };
            Plan { outcome, ops }
        }
        Event::InstallationRepositories {
            action,
            installation,
            added,
            removed,
        } => {
            let id = installation.id;
            let mut ops = vec![Op::EnsureInstallation(installation.clone())];
            match action {
                RepositoriesAction::Added | RepositoriesAction::Removed => {}
                RepositoriesAction::Other(a) => {
                    return Plan::ignored(format!("installation_repositories action `{a}`"));
                }
            }
            onboard(installation, added, &mut ops);
            for repo in removed {
                ops.push(Op::RemoveRepository { id: repo.id });
            }
            if !added.is_empty() {
                ops.push(audit(
                    id,
                    "repositories.added",
                    format!("granted to the app: {}; scanning them", names(added)),
                ));
            }
            if !removed.is_empty() {
                ops.push(audit(
                    id,
                    "repositories.removed",
                    format!("withdrawn from the app: {}", names(removed)),
                ));
            }
            let outcome = if added.is_empty() {
                Outcome::Recorded
            } else {
                Outcome::Queued
            };
            Plan { outcome, ops }
        }
        Event::Push(push) => {
            let Some(installation_id) = push.installation_id else {
                return Plan::ignored("push not delivered through an app installation");
            };
            if push.deleted {
                return Plan::ignored(format!("push deleted {}", push.git_ref));
            }
            if !push.is_to_default_branch() {
                return Plan::ignored(format!(
                    "push to {} is not to the default branch `{}`",
                    push.git_ref, push.default_branch
                ));
            }
            Plan {
                outcome: Outcome::Queued,
                ops: vec![
                    Op::EnsureInstallation(InstallationRef {
                        id: installation_id,
                        account_login: push.owner_login.clone(),
                    }),
                    Op::UpsertRepository {
                        installation_id,
                        repository: push.repository.clone(),
                        default_branch: Some(push.default_branch.clone()),
                        private: Some(push.private),
                    },
                    Op::Enqueue(JobKind::Scan(ScanJob {
                        installation_id,
                        repository: push.repository.clone(),
                        head_sha: Some(push.after.clone()),
                        reason: ScanReason::Push {
                            git_ref: push.git_ref.clone(),
                        },
                    })),
                ],
            }
        }
        Event::PullRequest(pr) if pr.action.changes_head() => {
            let Some(installation_id) = pr.installation_id else {
                return Plan::ignored("pull request not delivered through an app installation");
            };
            // The bot's own fix PRs are reviewed too: their check run is what a required
            // `patchwright` status waits for.
            Plan {
                outcome: Outcome::Queued,
                ops: vec![Op::Enqueue(JobKind::Review(ReviewJob {
                    installation_id,
                    repository: pr.repository.clone(),
                    number: pr.number,
                    head_sha: pr.head_sha.clone(),
                    base_ref: pr.base_ref.clone(),
                    author: pr.author.login.clone(),
                }))],
            }
        }
        Event::PullRequest(pr) => {
            if pr.action != PullRequestAction::Closed {
                return Plan::ignored(format!("pull_request action `{}`", event_action(event)));
            }
            if pr.author.login != bot_login {
                return Plan::ignored(format!(
                    "pull request #{} was opened by {}, not {bot_login}",
                    pr.number, pr.author.login
                ));
            }
            Plan {
                outcome: Outcome::Recorded,
                ops: vec![Op::FixPrClosed {
                    repository: pr.repository.clone(),
                    number: pr.number,
                    merged: pr.merged,
                    by_human: !pr.sender.is_bot,
                    closed_by: pr.sender.login.clone(),
                }],
            }
        }
        Event::IssueComment(c) => {
            let Some(installation_id) = c.installation_id else {
                return Plan::ignored("comment not delivered through an app installation");
            };
            if c.action != CommentAction::Created {
                return Plan::ignored(format!("issue_comment action `{}`", event_action(event)));
            }
            if c.author.is_bot {
                return Plan::ignored(format!("comment by the bot {}", c.author.login));
            }
            // The grammar is pure and cheap: most comments are talk between people, and they
            // are not worth a stored job (nor keeping their text).
            let slug = bot_login.strip_suffix("[bot]").unwrap_or(bot_login);
            if crate::commands::parse_comment(&c.body, slug).is_empty() {
                return Plan::ignored(format!("comment without a command for @{slug}"));
            }
            Plan {
                outcome: Outcome::Queued,
                ops: vec![Op::Enqueue(JobKind::Comment(CommentJob {
                    installation_id,
                    repository: c.repository.clone(),
                    issue_number: c.issue_number,
                    is_pull_request: c.is_pull_request,
                    comment_id: c.comment_id,
                    author: c.author.login.clone(),
                    body: c.body.clone(),
                }))],
            }
        }
        Event::Other { name } => Plan::ignored(format!("event `{name}` is not handled")),
    }
}

fn event_action(event: &Event) -> String {
    event.action().unwrap_or_default()
}

/// What applying a plan did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// The plan's outcome, unless the store showed there was nothing to do after all.
    pub outcome: Outcome,
    pub job_ids: Vec<i64>,
}

/// Writes `plan` on `conn` (the delivery's transaction).
pub async fn apply(
    conn: &mut AnyConnection,
    plan: &Plan,
    delivery_id: &str,
    now: DateTime<Utc>,
) -> Result<Applied, StoreError> {
    let mut applied = Applied {
        outcome: plan.outcome.clone(),
        job_ids: Vec::new(),
    };
    for op in &plan.ops {
        match op {
            Op::UpsertInstallation(i) => {
                installations::upsert_installation(&mut *conn, i.id, &i.account_login, now).await?;
            }
            Op::EnsureInstallation(i) => {
                installations::ensure_installation(&mut *conn, i.id, &i.account_login, now).await?;
            }
            Op::DeleteInstallation { id } => {
                installations::delete_installation(&mut *conn, *id, now).await?;
                jobs::cancel_queued_for_installation(
                    &mut *conn,
                    *id,
                    "the app was uninstalled",
                    now,
                )
                .await?;
            }
            Op::SetSuspended { id, suspended } => {
                installations::set_suspended(&mut *conn, *id, *suspended, now).await?;
            }
            Op::UpsertRepository {
                installation_id,
                repository,
                default_branch,
                private,
            } => {
                let upsert = installations::RepositoryUpsert {
                    id: repository.id,
                    installation_id: *installation_id,
                    full_name: &repository.full_name,
                    default_branch: default_branch.as_deref(),
                    private: *private,
                };
                installations::upsert_repository(&mut *conn, &upsert, now).await?;
            }
            Op::RemoveRepository { id } => {
                installations::remove_repository(&mut *conn, *id, now).await?;
            }
            // A scan reads the default branch as it is when it runs, so a second one queued
            // behind a waiting one would only repeat it.
            Op::Enqueue(kind @ JobKind::Scan(_)) => {
                let job = kind.to_new_job(Some(delivery_id), now);
                match jobs::insert_unless_queued(&mut *conn, &job, now).await? {
                    Some(id) => applied.job_ids.push(id),
                    None => {
                        tracing::debug!(repository = %kind.repository().full_name, "scan already queued");
                    }
                }
            }
            Op::Enqueue(kind) => {
                let job = kind.to_new_job(Some(delivery_id), now);
                applied
                    .job_ids
                    .push(jobs::insert(&mut *conn, &job, now).await?);
            }
            Op::FixPrClosed {
                repository,
                number,
                merged,
                by_human,
                closed_by,
            } => {
                let known = fix_prs::record_closed(
                    &mut *conn,
                    repository.id,
                    *number,
                    *merged,
                    *by_human,
                    now,
                )
                .await?;
                if !known {
                    applied.outcome = Outcome::Ignored(format!(
                        "pull request #{number} in {} is not a fix PR this app recorded",
                        repository.full_name
                    ));
                    continue;
                }
                let (action, reason) = match (merged, by_human) {
                    (true, _) => (
                        "fix_pr.merged",
                        format!(
                            "#{number} in {} was merged by {closed_by}: the remediation is recorded; the next scan of the default branch marks its findings fixed",
                            repository.full_name
                        ),
                    ),
                    (false, true) => (
                        "fix_pr.closed_by_human",
                        format!(
                            "#{number} in {} was closed unmerged by {closed_by}: this fix will not be proposed again",
                            repository.full_name
                        ),
                    ),
                    (false, false) => (
                        "fix_pr.closed",
                        format!(
                            "#{number} in {} was closed by {closed_by}",
                            repository.full_name
                        ),
                    ),
                };
                let mut entry = AuditEntry::new(now, action, reason);
                entry.repository_id = Some(repository.id);
                entry.delivery_id = Some(delivery_id.to_string());
                audit::record(&mut *conn, &entry).await?;
            }
            Op::Audit {
                installation_id,
                repository_id,
                action,
                reason,
            } => {
                let mut entry = AuditEntry::new(now, action.clone(), reason.clone());
                entry.installation_id = *installation_id;
                entry.repository_id = *repository_id;
                entry.delivery_id = Some(delivery_id.to_string());
                audit::record(&mut *conn, &entry).await?;
            }
        }
    }
    Ok(applied)
}

/// A verified, parsed delivery to store.
#[derive(Debug, Clone, Copy)]
pub struct Received<'a> {
    pub event_name: &'a str,
    pub delivery_id: &'a str,
    pub event: &'a ParsedEvent,
    /// The app's own login (`<slug>[bot]`).
    pub bot_login: &'a str,
    pub now: DateTime<Utc>,
}

/// What storing a delivery came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stored {
    /// A delivery with this id was already stored; nothing was written.
    Duplicate,
    Done {
        outcome: Outcome,
        job_ids: Vec<i64>,
    },
}

fn delivery_row(received: &Received<'_>, plan: &Plan) -> Delivery {
    Delivery {
        id: received.delivery_id.to_string(),
        event: received.event_name.to_string(),
        action: received.event.action(),
        installation_id: received.event.installation_id(),
        repository_id: received.event.repository_id(),
        received_at: received.now,
        outcome: plan.outcome.describe(),
    }
}

/// Stores a delivery and what it plans: a push on PostgreSQL in one statement
/// ([`push_intake`]), everything else with [`store_general`].
pub async fn store(db: &Store, received: &Received<'_>) -> Result<Stored, StoreError> {
    let plan = plan(received.event, received.bot_login);
    if db.backend() == Backend::Postgres
        && let Some(push) = PushPlan::of(&plan)
    {
        return store_push(db, received, &plan, &push).await;
    }
    store_planned(db, received, &plan).await
}

/// The reference path: the delivery record, then each op of the plan, in one transaction.
pub async fn store_general(db: &Store, received: &Received<'_>) -> Result<Stored, StoreError> {
    let plan = plan(received.event, received.bot_login);
    store_planned(db, received, &plan).await
}

async fn store_planned(
    db: &Store,
    received: &Received<'_>,
    plan: &Plan,
) -> Result<Stored, StoreError> {
    let mut tx = db.begin().await?;
    // The delivery row goes first: it is the write that takes SQLite's lock, and the
    // conflict that tells a redelivery.
    if !deliveries::insert(&mut *tx, &delivery_row(received, plan)).await? {
        tx.rollback().await?;
        return Ok(Stored::Duplicate);
    }
    let applied = apply(&mut tx, plan, received.delivery_id, received.now).await?;
    if applied.outcome != plan.outcome {
        deliveries::set_outcome(&mut *tx, received.delivery_id, &applied.outcome.describe())
            .await?;
    }
    tx.commit().await?;
    Ok(Stored::Done {
        outcome: applied.outcome,
        job_ids: applied.job_ids,
    })
}

/// The parts of a plan shaped like a push's: exactly these three ops, whose outcome
/// [`apply`] never revises, so one statement can write them all.
struct PushPlan<'p> {
    installation: &'p InstallationRef,
    installation_id: i64,
    repository: &'p RepoRef,
    default_branch: Option<&'p str>,
    private: Option<bool>,
    scan: &'p JobKind,
}

impl<'p> PushPlan<'p> {
    fn of(plan: &'p Plan) -> Option<PushPlan<'p>> {
        match plan.ops.as_slice() {
            [
                Op::EnsureInstallation(installation),
                Op::UpsertRepository {
                    installation_id,
                    repository,
                    default_branch,
                    private,
                },
                Op::Enqueue(scan @ JobKind::Scan(_)),
            ] => Some(PushPlan {
                installation,
                installation_id: *installation_id,
                repository,
                default_branch: default_branch.as_deref(),
                private: *private,
                scan,
            }),
            _ => None,
        }
    }
}

async fn store_push(
    db: &Store,
    received: &Received<'_>,
    plan: &Plan,
    push: &PushPlan<'_>,
) -> Result<Stored, StoreError> {
    let repo = installations::RepositoryUpsert {
        id: push.repository.id,
        installation_id: push.installation_id,
        full_name: &push.repository.full_name,
        default_branch: push.default_branch,
        private: push.private,
    };
    let job = push
        .scan
        .to_new_job(Some(received.delivery_id), received.now);
    let done = push_intake::record(
        db.pool(),
        &delivery_row(received, plan),
        push.installation.id,
        &push.installation.account_login,
        &repo,
        &job,
        received.now,
    )
    .await?;
    Ok(match done {
        PushIntake::Duplicate => Stored::Duplicate,
        PushIntake::Stored { job_id } => Stored::Done {
            outcome: plan.outcome.clone(),
            job_ids: job_id.into_iter().collect(),
        },
    })
}
