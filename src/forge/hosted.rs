//! The operations the service needs from a hosting platform, as one trait, so the job handler
//! is written once and the GitHub implementation is the only place that knows
//! GitHub's routes. Repositories are named `owner/name`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Why a forge call failed, in the terms the job runner acts on. `Display` is the detailed
/// text for logs and job rows (routes, statuses, GitHub's message); [`ForgeError::summary`]
/// is what a person may read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ForgeError {
    /// 5xx, timeouts, connection resets: worth another try after a backoff.
    #[error("{0}")]
    Retryable(String),
    /// Primary (`x-ratelimit-remaining: 0`, wait for `x-ratelimit-reset`) or secondary
    /// (`retry-after`) rate limit: try again at `until`, not before.
    #[error("rate limited until {until}: {reason}")]
    RateLimited {
        until: DateTime<Utc>,
        reason: String,
    },
    /// 404: the repository, ref, PR or object is gone (or the App lost access).
    #[error("not found: {0}")]
    NotFound(String),
    /// 409/422: the request conflicts with the current state or fails GitHub's validation (a
    /// ref already exists, a PR for that head already exists, a reviewer who cannot be
    /// asked). The same request will be refused again: the caller may act on it, but never
    /// retries it as is.
    #[error("conflict: {0}")]
    Conflict(String),
    /// Anything else (400, 401, 403 without a rate limit, other 4xx, malformed answers): no
    /// retry will help.
    #[error("{0}")]
    Permanent(String),
}

/// Whether a failed call is worth making again, and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// After a backoff: GitHub may answer by then (5xx, 408, timeouts, no answer).
    Later,
    /// At this time and not before (a rate limit).
    At(DateTime<Utc>),
    /// Never: the same request would be refused again.
    Never,
}

impl ForgeError {
    /// The forge's one classification of its failures; callers follow it rather than
    /// matching variants, so a validation error can never be retried for hours.
    pub fn retry(&self) -> Retry {
        match self {
            ForgeError::Retryable(_) => Retry::Later,
            ForgeError::RateLimited { until, .. } => Retry::At(*until),
            ForgeError::NotFound(_) | ForgeError::Conflict(_) | ForgeError::Permanent(_) => {
                Retry::Never
            }
        }
    }

    /// One sentence a person may read (in a reply to a command, say): what went wrong on the
    /// hosting side, without route names, statuses, ids or the server's own message, which
    /// stay in `Display` for the log.
    pub fn summary(&self) -> String {
        match self {
            ForgeError::Retryable(_) => {
                "GitHub did not answer, or answered with an error on its side".to_string()
            }
            ForgeError::RateLimited { until, .. } => format!(
                "GitHub's API rate limit for this installation is spent until {} UTC",
                until.format("%Y-%m-%d %H:%M")
            ),
            ForgeError::NotFound(_) => {
                "something I needed is no longer on GitHub, or I lost access to it".to_string()
            }
            ForgeError::Conflict(_) => {
                "GitHub refused the change: it conflicts with the repository's current state"
                    .to_string()
            }
            ForgeError::Permanent(_) => {
                "GitHub refused my request, or sent an answer I could not read".to_string()
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TreeEntry {
    pub path: String,
    /// The blob id (git object id).
    pub sha: String,
    /// Git file mode, e.g. `100644`, `100755`.
    pub mode: String,
    pub size: Option<u64>,
}

/// One new file content in a commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileChange {
    pub path: String,
    pub content: String,
    /// Git file mode to keep (`100644` unless the file was executable).
    pub mode: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullRequest {
    pub number: u64,
    pub head_ref: String,
    pub head_sha: String,
    pub base_ref: String,
    pub title: String,
    pub body: String,
    pub state: String,
    pub merged: bool,
    pub user_login: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitInfo {
    pub sha: String,
    pub tree_sha: String,
    pub parents: Vec<String>,
    pub author_login: Option<String>,
    pub author_name: String,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckConclusion {
    Success,
    Neutral,
    Failure,
}

impl CheckConclusion {
    /// GitHub's value, as serialized.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckConclusion::Success => "success",
            CheckConclusion::Neutral => "neutral",
            CheckConclusion::Failure => "failure",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnnotationLevel {
    Notice,
    Warning,
    Failure,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Annotation {
    pub path: String,
    pub start_line: u32,
    pub end_line: u32,
    pub level: AnnotationLevel,
    pub title: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckRun {
    pub name: String,
    pub head_sha: String,
    pub conclusion: CheckConclusion,
    pub title: String,
    pub summary: String,
    /// Any number: the implementation sends them 50 per request, as the API requires.
    pub annotations: Vec<Annotation>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Comment {
    pub id: u64,
    pub body: String,
    pub user_login: String,
}

/// A comment on a line of a pull request's diff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewComment {
    pub id: u64,
    pub path: String,
    /// The line in the head version; `None` when GitHub marks the comment outdated.
    pub line: Option<u32>,
    pub body: String,
    pub user_login: String,
    /// Set on replies (a person answering the bot's comment).
    pub in_reply_to: Option<u64>,
}

/// A submitted review, as far as the bot needs to know whether it already said something.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Review {
    pub id: u64,
    pub body: String,
    pub user_login: String,
}

/// A comment to place in a new review, on the head (RIGHT) side of the diff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewReviewComment {
    pub path: String,
    /// Last line of the range (1-based, head version).
    pub line: u32,
    /// First line when the comment spans several lines (a multi-line suggestion).
    pub start_line: Option<u32>,
    pub body: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Issue {
    pub number: u64,
    pub title: String,
    pub body: String,
    /// `open` or `closed`.
    pub state: String,
    pub assignees: Vec<String>,
    pub labels: Vec<String>,
    pub user_login: String,
}

/// What to change on an issue; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IssueUpdate {
    pub title: Option<String>,
    pub body: Option<String>,
    /// `Some(true)` opens (reopens), `Some(false)` closes (as completed).
    pub open: Option<bool>,
    pub assignees: Option<Vec<String>>,
}

/// A reaction on a comment (GitHub's `content` values `eyes`, `+1`, `-1`, `confused`, `rocket`).
/// Serialized as those values, so the same text reads back from GitHub's payloads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Reaction {
    #[serde(rename = "eyes")]
    Eyes,
    #[serde(rename = "+1")]
    PlusOne,
    #[serde(rename = "-1")]
    MinusOne,
    #[serde(rename = "confused")]
    Confused,
    #[serde(rename = "rocket")]
    Rocket,
}

impl Reaction {
    /// GitHub's `content` value.
    pub fn content(self) -> &'static str {
        match self {
            Reaction::Eyes => "eyes",
            Reaction::PlusOne => "+1",
            Reaction::MinusOne => "-1",
            Reaction::Confused => "confused",
            Reaction::Rocket => "rocket",
        }
    }
}

/// What a conditional look at a branch's head found ([`Forge::head_since`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeadCheck {
    /// The branch still points at the commit asked about. On GitHub this is a 304, which does
    /// not count against the rate limit.
    Unchanged,
    /// The branch points at `head` now; `etag` is the validator to ask with next time.
    Moved { head: String, etag: Option<String> },
    /// The branch is gone (renamed or deleted): ask for the default branch again.
    Missing,
}

/// The hosting side, for one installation. Every method is one logical operation; the
/// implementation maps it to the API and classifies failures as [`ForgeError`].
#[async_trait::async_trait]
pub trait Forge: Send + Sync {
    /// The repository's default branch and the commit it points at.
    async fn default_branch(&self, repo: &str) -> Result<(String, String), ForgeError>;
    /// The full recursive tree of a commit (blobs only).
    async fn tree(&self, repo: &str, commit_sha: &str) -> Result<Vec<TreeEntry>, ForgeError>;
    async fn blob(&self, repo: &str, blob_sha: &str) -> Result<Vec<u8>, ForgeError>;
    async fn commit(&self, repo: &str, sha: &str) -> Result<CommitInfo, ForgeError>;
    /// The best common ancestor of `base` and `head` (branch names or commit shas), as GitHub's
    /// compare API reports it (`merge_base_commit.sha`).
    async fn merge_base(&self, repo: &str, base: &str, head: &str) -> Result<String, ForgeError>;
    /// The commit a branch points at, or `None` when the branch does not exist.
    async fn branch_head(&self, repo: &str, branch: &str) -> Result<Option<String>, ForgeError>;
    /// Whether `branch` still points at `known_head`, asked so that "unchanged" is as cheap as
    /// the forge allows. `etag` is the validator an earlier answer gave for `known_head`, if
    /// any. This default asks plainly; GitHub's client asks conditionally.
    async fn head_since(
        &self,
        repo: &str,
        branch: &str,
        known_head: &str,
        _etag: Option<&str>,
    ) -> Result<HeadCheck, ForgeError> {
        Ok(match self.branch_head(repo, branch).await? {
            Some(head) if head == known_head => HeadCheck::Unchanged,
            Some(head) => HeadCheck::Moved { head, etag: None },
            None => HeadCheck::Missing,
        })
    }
    /// Writes blobs, a tree on top of `base_commit`'s tree, and a commit with `base_commit` as
    /// its parent; returns the new commit's sha. No ref moves.
    async fn create_commit(
        &self,
        repo: &str,
        base_commit: &str,
        changes: &[FileChange],
        message: &str,
    ) -> Result<String, ForgeError>;
    async fn create_branch(&self, repo: &str, branch: &str, sha: &str) -> Result<(), ForgeError>;
    /// Moves a branch; `force` allows a non-fast-forward (only ever over the bot's own commits).
    async fn update_branch(
        &self,
        repo: &str,
        branch: &str,
        sha: &str,
        force: bool,
    ) -> Result<(), ForgeError>;
    async fn delete_branch(&self, repo: &str, branch: &str) -> Result<(), ForgeError>;
    async fn open_pulls(&self, repo: &str) -> Result<Vec<PullRequest>, ForgeError>;
    async fn pull(&self, repo: &str, number: u64) -> Result<PullRequest, ForgeError>;
    async fn create_pull(
        &self,
        repo: &str,
        head: &str,
        base: &str,
        title: &str,
        body: &str,
    ) -> Result<PullRequest, ForgeError>;
    async fn update_pull(
        &self,
        repo: &str,
        number: u64,
        title: &str,
        body: &str,
    ) -> Result<(), ForgeError>;
    async fn close_pull(&self, repo: &str, number: u64) -> Result<(), ForgeError>;
    async fn add_labels(
        &self,
        repo: &str,
        number: u64,
        labels: &[String],
    ) -> Result<(), ForgeError>;
    async fn comments(&self, repo: &str, number: u64) -> Result<Vec<Comment>, ForgeError>;
    async fn create_comment(
        &self,
        repo: &str,
        number: u64,
        body: &str,
    ) -> Result<Comment, ForgeError>;
    async fn update_comment(
        &self,
        repo: &str,
        comment_id: u64,
        body: &str,
    ) -> Result<(), ForgeError>;
    async fn create_check_run(&self, repo: &str, check: &CheckRun) -> Result<u64, ForgeError>;
    /// `admin`, `write`, `read` or `none`.
    async fn permission(&self, repo: &str, user: &str) -> Result<String, ForgeError>;
    /// Submits a review (event `COMMENT`) on `commit_sha` with line comments; returns the review id.
    /// An empty `body` is omitted from the request.
    async fn create_review(
        &self,
        repo: &str,
        number: u64,
        commit_sha: &str,
        body: &str,
        comments: &[NewReviewComment],
    ) -> Result<u64, ForgeError>;
    /// Every review submitted on the pull request, oldest first (all pages).
    async fn reviews(&self, repo: &str, number: u64) -> Result<Vec<Review>, ForgeError>;
    /// Every review comment on the pull request (all pages).
    async fn review_comments(
        &self,
        repo: &str,
        number: u64,
    ) -> Result<Vec<ReviewComment>, ForgeError>;
    async fn delete_review_comment(&self, repo: &str, comment_id: u64) -> Result<(), ForgeError>;
    /// Reacts to an issue or pull-request conversation comment.
    async fn react(
        &self,
        repo: &str,
        comment_id: u64,
        reaction: Reaction,
    ) -> Result<(), ForgeError>;
    async fn create_issue(
        &self,
        repo: &str,
        title: &str,
        body: &str,
        labels: &[String],
        assignees: &[String],
    ) -> Result<Issue, ForgeError>;
    async fn issue(&self, repo: &str, number: u64) -> Result<Issue, ForgeError>;
    async fn update_issue(
        &self,
        repo: &str,
        number: u64,
        update: &IssueUpdate,
    ) -> Result<(), ForgeError>;
    /// Requests reviews from users (logins) and teams (team slugs, without the org).
    async fn request_reviewers(
        &self,
        repo: &str,
        number: u64,
        users: &[String],
        teams: &[String],
    ) -> Result<(), ForgeError>;
}

/// Hands out a [`Forge`] per installation (each acts with its own installation token).
#[async_trait::async_trait]
pub trait Forges: Send + Sync {
    async fn installation(
        &self,
        installation_id: i64,
    ) -> Result<std::sync::Arc<dyn Forge>, ForgeError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_summary_keeps_routes_statuses_and_messages_out() {
        let detail = "POST /repos/{owner}/{repo}/pulls: GitHub answered 422: secret-ish detail";
        for e in [
            ForgeError::Retryable(detail.into()),
            ForgeError::RateLimited {
                until: "2026-03-01T12:00:30Z".parse().unwrap(),
                reason: detail.into(),
            },
            ForgeError::NotFound(detail.into()),
            ForgeError::Conflict(detail.into()),
            ForgeError::Permanent(detail.into()),
        ] {
            let said = e.summary();
            assert!(
                !said.contains("/repos/") && !said.contains("422") && !said.contains("detail"),
                "{said}"
            );
            assert!(e.to_string().contains(detail), "the log keeps the detail");
        }
    }
}
