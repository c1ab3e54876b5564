//! The repository's recorded decisions: risks accepted and updates ignored by command. Loaded
//! into every scan's options, written by the commands that make them.

use crate::commands::{Command, IgnoreScope, Target};
use crate::pipeline::{Knowledge, RunOptions};
use crate::service::jobs::JobError;
use crate::store::accepted_risks::{self, NewAcceptedRisk};
use crate::store::ignores::{self, NewIgnore};
use crate::store::{Store, StoreError};
use chrono::{DateTime, Utc};

/// The scan options that carry the repository's accepted risks and ignores.
pub async fn run_options(store: &Store, repository_id: i64) -> Result<RunOptions, JobError> {
    let accepted = accepted_risks::live(store.pool(), repository_id).await?;
    let ignored = ignores::live(store.pool(), repository_id).await?;
    Ok(RunOptions {
        accepted_risks: accepted.iter().map(|a| a.to_exception()).collect(),
        ignores: ignored.iter().map(|i| i.to_rule()).collect(),
        ..RunOptions::default()
    })
}

/// What recording a decision did.
pub enum Recorded {
    /// Written; the audit action and a sentence for the reply and the audit trail.
    Done {
        audit_action: &'static str,
        text: String,
    },
    /// Nothing to write, and why (revoking what was never granted, an unknown id).
    Declined(String),
}

/// Writes the decision `command` stands for. Only `accept-risk`, `revoke`, `ignore` and
/// `unignore` are decisions; anything else is declined.
pub async fn record(
    store: &Store,
    knowledge: &Knowledge,
    repository_id: i64,
    command: &Command,
    author: &str,
    source: &str,
    now: DateTime<Utc>,
) -> Result<Recorded, JobError> {
    Ok(match command {
        Command::AcceptRisk {
            target,
            until,
            reason,
        } => {
            if let Target::Advisory(id) = target
                && knowledge.advisories.get(id).is_none()
            {
                return Ok(Recorded::Declined(format!(
                    "`{id}` is not an advisory I know, so the exception would match nothing; check the id (`explain {id}` says what I know)."
                )));
            }
            let mut conn = store.pool().begin().await.map_err(StoreError::from)?;
            let granted = accepted_risks::grant(
                &mut conn,
                &NewAcceptedRisk {
                    repository_id,
                    target,
                    reason,
                    until: *until,
                    granted_by: author,
                    source,
                },
                now,
            )
            .await?;
            conn.commit().await.map_err(StoreError::from)?;
            let replaced = granted
                .replaced
                .map(|r| {
                    format!(
                        " It replaces the one @{} granted until {}.",
                        r.granted_by, r.until
                    )
                })
                .unwrap_or_default();
            Recorded::Done {
                audit_action: "risk-accepted",
                text: format!(
                    "accepted the risk of `{}` until **{until}**, granted by @{author}: {reason}. Every report shows it until then; from {} the findings count again.{replaced}",
                    target.as_str(),
                    until.succ_opt().unwrap_or(*until)
                ),
            }
        }
        Command::Revoke { target } => {
            match accepted_risks::revoke(store.pool(), repository_id, target, author, now).await? {
                Some(revoked) => Recorded::Done {
                    audit_action: "risk-revoked",
                    text: format!(
                        "revoked the accepted risk of `{}` (granted by @{} until {}); its findings count again.",
                        target.as_str(),
                        revoked.granted_by,
                        revoked.until
                    ),
                },
                None => Recorded::Declined(format!(
                    "no risk of `{}` was accepted by command here. An exception in `.github/patchwright.toml` ends when it is removed from that file.",
                    target.as_str()
                )),
            }
        }
        Command::Ignore { name, scope } => {
            let added = ignores::add(
                store.pool(),
                &NewIgnore {
                    repository_id,
                    name,
                    scope,
                    created_by: author,
                    source,
                },
                now,
            )
            .await?;
            let what = ignored_what(name, scope);
            match added {
                Some(_) => Recorded::Done {
                    audit_action: "update-ignored",
                    text: format!(
                        "I will stop proposing {what} (ignored by @{author}). The findings stay in every report; `unignore {name}` undoes this."
                    ),
                },
                None => Recorded::Declined(format!("{what} is already ignored.")),
            }
        }
        Command::Unignore { name } => {
            let removed =
                ignores::remove(store.pool(), repository_id, name, None, author, now).await?;
            if removed.is_empty() {
                Recorded::Declined(format!(
                    "nothing about `{name}` is ignored here (the name must be written as it was given to `ignore`)."
                ))
            } else {
                let scopes: Vec<String> = removed
                    .iter()
                    .map(|r| {
                        format!(
                            "{} (by @{} since {})",
                            ignored_what(&r.name, &r.scope),
                            r.created_by,
                            r.created_at.date_naive()
                        )
                    })
                    .collect();
                Recorded::Done {
                    audit_action: "update-unignored",
                    text: format!(
                        "I will propose updates again: removed the ignore of {}.",
                        scopes.join(", ")
                    ),
                }
            }
        }
        other => Recorded::Declined(format!("`{}` records no decision.", other.name().as_str())),
    })
}

fn ignored_what(name: &str, scope: &IgnoreScope) -> String {
    match scope {
        IgnoreScope::All => format!("updates of `{name}`"),
        IgnoreScope::Version(v) => format!("the update of `{name}` to {v}"),
        IgnoreScope::Major => format!("major updates of `{name}`"),
        IgnoreScope::Minor => format!("major and minor updates of `{name}`"),
    }
}
