//! Webhook payloads become a typed [`Event`] here, at the edge; nothing past this module sees
//! raw JSON. Only the fields the service uses are read, so GitHub adding fields changes nothing.

use crate::service::jobs::RepoRef;

/// Someone on GitHub: a person, a bot, an organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub login: String,
    pub is_bot: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstallationRef {
    pub id: i64,
    pub account_login: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InstallationAction {
    Created,
    Deleted,
    Suspend,
    Unsuspend,
    NewPermissionsAccepted,
    Other(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RepositoriesAction {
    Added,
    Removed,
    Other(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PullRequestAction {
    Opened,
    /// New commits were pushed to the head branch.
    Synchronize,
    Reopened,
    Closed,
    Other(String),
}

impl PullRequestAction {
    /// Whether the head may hold a change nobody has reviewed yet: the actions that start a
    /// change-set review.
    pub fn changes_head(&self) -> bool {
        matches!(
            self,
            PullRequestAction::Opened
                | PullRequestAction::Synchronize
                | PullRequestAction::Reopened
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommentAction {
    Created,
    Other(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushEvent {
    /// `None` for a repository webhook (not delivered through the app).
    pub installation_id: Option<i64>,
    pub repository: RepoRef,
    pub owner_login: String,
    pub private: bool,
    pub default_branch: String,
    /// `refs/heads/main`, `refs/tags/v1`.
    pub git_ref: String,
    pub before: String,
    pub after: String,
    /// The ref was deleted (`after` is all zeros).
    pub deleted: bool,
    pub pusher: String,
}

impl PushEvent {
    /// Whether this push moved the default branch forward (not a tag, another branch, or a
    /// deletion): the only pushes that become scans.
    pub fn is_to_default_branch(&self) -> bool {
        !self.deleted && self.git_ref == format!("refs/heads/{}", self.default_branch)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullRequestEvent {
    pub action: PullRequestAction,
    pub installation_id: Option<i64>,
    pub repository: RepoRef,
    pub number: i64,
    pub merged: bool,
    pub head_ref: String,
    pub head_sha: String,
    pub base_ref: String,
    pub base_sha: String,
    /// Who opened the pull request.
    pub author: Actor,
    /// Who did what this event reports (closed it, merged it).
    pub sender: Actor,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssueCommentEvent {
    pub action: CommentAction,
    pub installation_id: Option<i64>,
    pub repository: RepoRef,
    pub issue_number: i64,
    pub is_pull_request: bool,
    pub comment_id: i64,
    pub body: String,
    pub author: Actor,
}

/// A webhook delivery, typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Ping {
        zen: String,
        hook_id: Option<i64>,
    },
    Installation {
        action: InstallationAction,
        installation: InstallationRef,
        repositories: Vec<RepoRef>,
    },
    InstallationRepositories {
        action: RepositoriesAction,
        installation: InstallationRef,
        added: Vec<RepoRef>,
        removed: Vec<RepoRef>,
    },
    Push(PushEvent),
    PullRequest(PullRequestEvent),
    IssueComment(IssueCommentEvent),
    /// An event the service does not handle; answered 200 "ignored".
    Other {
        name: String,
    },
}

impl Event {
    /// The `action` field as sent, for the deliveries table.
    pub fn action(&self) -> Option<String> {
        let s = |s: &str| Some(s.to_string());
        match self {
            Event::Ping { .. } | Event::Push(_) | Event::Other { .. } => None,
            Event::Installation { action, .. } => match action {
                InstallationAction::Created => s("created"),
                InstallationAction::Deleted => s("deleted"),
                InstallationAction::Suspend => s("suspend"),
                InstallationAction::Unsuspend => s("unsuspend"),
                InstallationAction::NewPermissionsAccepted => s("new_permissions_accepted"),
                InstallationAction::Other(a) => s(a),
            },
            Event::InstallationRepositories { action, .. } => match action {
                RepositoriesAction::Added => s("added"),
                RepositoriesAction::Removed => s("removed"),
                RepositoriesAction::Other(a) => s(a),
            },
            Event::PullRequest(e) => match &e.action {
                PullRequestAction::Opened => s("opened"),
                PullRequestAction::Synchronize => s("synchronize"),
                PullRequestAction::Reopened => s("reopened"),
                PullRequestAction::Closed => s("closed"),
                PullRequestAction::Other(a) => s(a),
            },
            Event::IssueComment(e) => match &e.action {
                CommentAction::Created => s("created"),
                CommentAction::Other(a) => s(a),
            },
        }
    }

    pub fn installation_id(&self) -> Option<i64> {
        match self {
            Event::Ping { .. } | Event::Other { .. } => None,
            Event::Installation { installation, .. }
            | Event::InstallationRepositories { installation, .. } => Some(installation.id),
            Event::Push(e) => e.installation_id,
            Event::PullRequest(e) => e.installation_id,
            Event::IssueComment(e) => e.installation_id,
        }
    }

    pub fn repository_id(&self) -> Option<i64> {
        match self {
            Event::Push(e) => Some(e.repository.id),
            Event::PullRequest(e) => Some(e.repository.id),
            Event::IssueComment(e) => Some(e.repository.id),
            _ => None,
        }
    }
}

/// Why a signed delivery could not be read.
#[derive(Debug, thiserror::Error)]
#[error("`{event}` payload does not parse: {source}")]
pub struct ParseError {
    pub event: String,
    #[source]
    pub source: serde_json::Error,
}

/// Parses the body of a delivery whose `X-GitHub-Event` header is `event`.
/// The events [`parse`] reads; every other name is [`Event::Other`].
pub const HANDLED: [&str; 6] = [
    "ping",
    "installation",
    "installation_repositories",
    "push",
    "pull_request",
    "issue_comment",
];

/// The metric label of an `X-GitHub-Event` name: a handled event's own name, else `other`.
/// A signed request can still carry any name, and each distinct label value is a time series
/// kept forever, so names outside a fixed set must not become labels.
pub fn metric_label(event: &str) -> &'static str {
    HANDLED
        .into_iter()
        .find(|name| *name == event)
        .unwrap_or("other")
}

pub fn parse(event: &str, body: &[u8]) -> Result<Event, ParseError> {
    let err = |source| ParseError {
        event: event.to_string(),
        source,
    };
    Ok(match event {
        "ping" => {
            let p: raw::Ping = serde_json::from_slice(body).map_err(err)?;
            Event::Ping {
                zen: p.zen.unwrap_or_default(),
                hook_id: p.hook_id,
            }
        }
        "installation" => {
            let p: raw::InstallationEvent = serde_json::from_slice(body).map_err(err)?;
            Event::Installation {
                action: match p.action.as_str() {
                    "created" => InstallationAction::Created,
                    "deleted" => InstallationAction::Deleted,
                    "suspend" => InstallationAction::Suspend,
                    "unsuspend" => InstallationAction::Unsuspend,
                    "new_permissions_accepted" => InstallationAction::NewPermissionsAccepted,
                    _ => InstallationAction::Other(p.action),
                },
                installation: p.installation.into(),
                repositories: p
                    .repositories
                    .unwrap_or_default()
                    .into_iter()
                    .map(Into::into)
                    .collect(),
            }
        }
        "installation_repositories" => {
            let p: raw::InstallationRepositories = serde_json::from_slice(body).map_err(err)?;
            Event::InstallationRepositories {
                action: match p.action.as_str() {
                    "added" => RepositoriesAction::Added,
                    "removed" => RepositoriesAction::Removed,
                    _ => RepositoriesAction::Other(p.action),
                },
                installation: p.installation.into(),
                added: p.repositories_added.into_iter().map(Into::into).collect(),
                removed: p.repositories_removed.into_iter().map(Into::into).collect(),
            }
        }
        "push" => {
            let p: raw::Push = serde_json::from_slice(body).map_err(err)?;
            Event::Push(PushEvent {
                installation_id: p.installation.map(|i| i.id),
                owner_login: p.repository.owner.login.clone(),
                private: p.repository.private,
                default_branch: p.repository.default_branch.clone().unwrap_or_default(),
                repository: p.repository.into(),
                git_ref: p.git_ref,
                before: p.before,
                after: p.after,
                deleted: p.deleted,
                pusher: p.pusher.name,
            })
        }
        "pull_request" => {
            let p: raw::PullRequest = serde_json::from_slice(body).map_err(err)?;
            Event::PullRequest(PullRequestEvent {
                action: match p.action.as_str() {
                    "opened" => PullRequestAction::Opened,
                    "synchronize" => PullRequestAction::Synchronize,
                    "reopened" => PullRequestAction::Reopened,
                    "closed" => PullRequestAction::Closed,
                    _ => PullRequestAction::Other(p.action),
                },
                installation_id: p.installation.map(|i| i.id),
                repository: p.repository.into(),
                number: p.number,
                merged: p.pull_request.merged.unwrap_or(false)
                    || p.pull_request.merged_at.is_some(),
                head_ref: p.pull_request.head.git_ref,
                head_sha: p.pull_request.head.sha,
                base_ref: p.pull_request.base.git_ref,
                base_sha: p.pull_request.base.sha,
                author: p.pull_request.user.into(),
                sender: p.sender.into(),
            })
        }
        "issue_comment" => {
            let p: raw::IssueComment = serde_json::from_slice(body).map_err(err)?;
            Event::IssueComment(IssueCommentEvent {
                action: match p.action.as_str() {
                    "created" => CommentAction::Created,
                    _ => CommentAction::Other(p.action),
                },
                installation_id: p.installation.map(|i| i.id),
                repository: p.repository.into(),
                issue_number: p.issue.number,
                is_pull_request: p.issue.pull_request.is_some(),
                comment_id: p.comment.id,
                body: p.comment.body.unwrap_or_default(),
                author: p.comment.user.into(),
            })
        }
        other => Event::Other {
            name: other.to_string(),
        },
    })
}

/// The payload shapes, as GitHub sends them (only the fields read).
mod raw {
    use super::{Actor, InstallationRef, RepoRef};
    use serde::Deserialize;

    #[derive(Deserialize)]
    pub struct Ping {
        pub zen: Option<String>,
        pub hook_id: Option<i64>,
    }

    #[derive(Deserialize)]
    pub struct Account {
        pub login: String,
    }

    #[derive(Deserialize)]
    pub struct Installation {
        pub id: i64,
        pub account: Account,
    }

    impl From<Installation> for InstallationRef {
        fn from(i: Installation) -> InstallationRef {
            InstallationRef {
                id: i.id,
                account_login: i.account.login,
            }
        }
    }

    /// `{ "id": 1 }` as in every event an app receives.
    #[derive(Deserialize)]
    pub struct InstallationId {
        pub id: i64,
    }

    /// A repository as installation events list it.
    #[derive(Deserialize)]
    pub struct RepoSummary {
        pub id: i64,
        pub full_name: String,
    }

    impl From<RepoSummary> for RepoRef {
        fn from(r: RepoSummary) -> RepoRef {
            RepoRef {
                id: r.id,
                full_name: r.full_name,
            }
        }
    }

    #[derive(Deserialize)]
    pub struct Repository {
        pub id: i64,
        pub full_name: String,
        pub owner: Account,
        #[serde(default)]
        pub private: bool,
        pub default_branch: Option<String>,
    }

    impl From<Repository> for RepoRef {
        fn from(r: Repository) -> RepoRef {
            RepoRef {
                id: r.id,
                full_name: r.full_name,
            }
        }
    }

    #[derive(Deserialize)]
    pub struct User {
        pub login: String,
        #[serde(rename = "type", default)]
        pub kind: String,
    }

    impl From<User> for Actor {
        fn from(u: User) -> Actor {
            Actor {
                is_bot: u.kind == "Bot" || u.login.ends_with("[bot]"),
                login: u.login,
            }
        }
    }

    #[derive(Deserialize)]
    pub struct InstallationEvent {
        pub action: String,
        pub installation: Installation,
        pub repositories: Option<Vec<RepoSummary>>,
    }

    #[derive(Deserialize)]
    pub struct InstallationRepositories {
        pub action: String,
        pub installation: Installation,
        #[serde(default)]
        pub repositories_added: Vec<RepoSummary>,
        #[serde(default)]
        pub repositories_removed: Vec<RepoSummary>,
    }

    #[derive(Deserialize)]
    pub struct Pusher {
        pub name: String,
    }

    #[derive(Deserialize)]
    pub struct Push {
        #[serde(rename = "ref")]
        pub git_ref: String,
        pub before: String,
        pub after: String,
        #[serde(default)]
        pub deleted: bool,
        pub repository: Repository,
        pub pusher: Pusher,
        pub installation: Option<InstallationId>,
    }

    #[derive(Deserialize)]
    pub struct Head {
        #[serde(rename = "ref")]
        pub git_ref: String,
        pub sha: String,
    }

    #[derive(Deserialize)]
    pub struct PullRequestBody {
        pub merged: Option<bool>,
        pub merged_at: Option<String>,
        pub head: Head,
        pub base: Head,
        pub user: User,
    }

    #[derive(Deserialize)]
    pub struct PullRequest {
        pub action: String,
        pub number: i64,
        pub pull_request: PullRequestBody,
        pub repository: Repository,
        pub sender: User,
        pub installation: Option<InstallationId>,
    }

    #[derive(Deserialize)]
    pub struct Issue {
        pub number: i64,
        /// Present when the issue is a pull request.
        pub pull_request: Option<serde::de::IgnoredAny>,
    }

    #[derive(Deserialize)]
    pub struct Comment {
        pub id: i64,
        pub body: Option<String>,
        pub user: User,
    }

    #[derive(Deserialize)]
    pub struct IssueComment {
        pub action: String,
        pub issue: Issue,
        pub comment: Comment,
        pub repository: Repository,
        pub installation: Option<InstallationId>,
    }
}
