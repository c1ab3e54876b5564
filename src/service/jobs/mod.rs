//! Durable jobs: what a job is, the trait that does the work, and the worker pool.
//!
//! Webhook intake stores a [`JobKind`]; a [`JobRunner`] claims it (lease + lock token, see
//! `store::jobs`), hands it to the [`JobHandler`] and settles the row from the result: done,
//! retried later with backoff, parked until a rate limit resets, or failed for good.

mod retry;
mod runner;

pub use retry::{RetryPolicy, Settlement, classify_http_failure, settle};
pub use runner::{JobRunner, RunnerConfig, Settled};

use crate::store::StoreError;
use crate::store::jobs::{JobRow, NewJob};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A repository as jobs name it: GitHub's id (stable across renames) and the name it had.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepoRef {
    pub id: i64,
    pub full_name: String,
}

/// Why a scan was asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "trigger", rename_all = "snake_case")]
pub enum ScanReason {
    /// A push to the default branch.
    Push { git_ref: String },
    /// The app was installed on the repository, or the repository added to an installation.
    Installed,
    /// A scheduled sweep over every repository.
    Sweep,
    /// An advisory sync brought new, changed or withdrawn advisories naming a package the
    /// repository holds (the ids, at most a few, for the log).
    Advisory { advisories: Vec<String> },
}

/// Scan a repository, then open or update its fix pull requests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanJob {
    pub installation_id: i64,
    pub repository: RepoRef,
    /// The commit to scan; `None` means the default branch's head when the job runs.
    pub head_sha: Option<String>,
    pub reason: ScanReason,
}

/// A comment on an issue or pull request, for the command parser.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommentJob {
    pub installation_id: i64,
    pub repository: RepoRef,
    pub issue_number: i64,
    pub is_pull_request: bool,
    pub comment_id: i64,
    pub author: String,
    pub body: String,
}

/// Review what a pull request changes: scan its base and head, report only what is new.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewJob {
    pub installation_id: i64,
    pub repository: RepoRef,
    pub number: i64,
    /// The head the event saw. The job reviews the PR's head when it runs, which may be newer.
    pub head_sha: String,
    pub base_ref: String,
    pub author: String,
}

/// The work a job stands for. Stored as `kind` + JSON `payload`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobKind {
    Scan(ScanJob),
    Comment(CommentJob),
    Review(ReviewJob),
}

impl JobKind {
    /// The stored `kind` column.
    pub fn name(&self) -> &'static str {
        match self {
            JobKind::Scan(_) => "scan",
            JobKind::Comment(_) => "comment",
            JobKind::Review(_) => "review",
        }
    }

    pub fn installation_id(&self) -> i64 {
        match self {
            JobKind::Scan(j) => j.installation_id,
            JobKind::Comment(j) => j.installation_id,
            JobKind::Review(j) => j.installation_id,
        }
    }

    pub fn repository(&self) -> &RepoRef {
        match self {
            JobKind::Scan(j) => &j.repository,
            JobKind::Comment(j) => &j.repository,
            JobKind::Review(j) => &j.repository,
        }
    }

    /// The row to store, due at `run_at`. Every kind works on one repository, so every kind
    /// takes that repository's concurrency key.
    pub fn to_new_job(&self, delivery_id: Option<&str>, run_at: DateTime<Utc>) -> NewJob {
        let payload = match self {
            JobKind::Scan(j) => serde_json::to_string(j),
            JobKind::Comment(j) => serde_json::to_string(j),
            JobKind::Review(j) => serde_json::to_string(j),
        };
        let repository = self.repository();
        NewJob {
            kind: self.name().to_string(),
            // Serialising plain structs of strings and integers cannot fail.
            payload: payload.unwrap_or_default(),
            installation_id: Some(self.installation_id()),
            repository_id: Some(repository.id),
            concurrency_key: Some(format!("repo:{}", repository.id)),
            delivery_id: delivery_id.map(str::to_string),
            run_at,
        }
    }

    /// Reads a stored kind back.
    pub fn from_stored(kind: &str, payload: &str) -> Result<JobKind, String> {
        let parsed = match kind {
            "scan" => serde_json::from_str(payload).map(JobKind::Scan),
            "comment" => serde_json::from_str(payload).map(JobKind::Comment),
            "review" => serde_json::from_str(payload).map(JobKind::Review),
            other => return Err(format!("unknown job kind `{other}`")),
        };
        parsed.map_err(|e| format!("{kind} job payload does not parse: {e}"))
    }
}

/// A job a worker holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub id: i64,
    pub kind: JobKind,
    /// Starts so far, this one included.
    pub attempts: u32,
    pub created_at: DateTime<Utc>,
    pub delivery_id: Option<String>,
    /// The error of the previous attempt, if it failed.
    pub last_error: Option<String>,
    /// No start follows this one if it fails (a rate limit aside, which does not count): the
    /// handler's last chance to tell a person what became of their request. Set by the runner,
    /// which knows the retry policy.
    pub last_attempt: bool,
}

impl Job {
    /// The typed job of a claimed row; `Err` carries why the payload is unusable.
    pub fn from_row(row: &JobRow) -> Result<Job, String> {
        Ok(Job {
            id: row.id,
            kind: JobKind::from_stored(&row.kind, &row.payload)?,
            attempts: u32::try_from(row.attempts.max(0)).unwrap_or(u32::MAX),
            created_at: row.created_at,
            delivery_id: row.delivery_id.clone(),
            last_error: row.last_error.clone(),
            last_attempt: false,
        })
    }
}

/// What a job that succeeded did, in a line for the job row and the logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobOutcome {
    pub summary: String,
}

impl JobOutcome {
    pub fn new(summary: impl Into<String>) -> JobOutcome {
        JobOutcome {
            summary: summary.into(),
        }
    }
}

/// Why a job did not succeed, and so what happens next.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JobError {
    /// Worth another try after a backoff: GitHub 5xx, a network error, a timeout.
    #[error("{0}")]
    Retryable(String),
    /// Run again at `until` and not before: a primary (`x-ratelimit-reset`) or secondary
    /// (`retry-after`) rate limit.
    #[error("rate limited until {until}: {reason}")]
    RateLimited {
        until: DateTime<Utc>,
        reason: String,
    },
    /// Trying again will not help: recorded with this reason, never retried.
    #[error("{0}")]
    Permanent(String),
}

impl From<StoreError> for JobError {
    /// A database hiccup is worth a retry; a corrupt row is not.
    fn from(e: StoreError) -> JobError {
        match e {
            StoreError::Corrupt { .. } => JobError::Permanent(e.to_string()),
            _ => JobError::Retryable(e.to_string()),
        }
    }
}

/// The work behind the jobs: the lead's scan-and-fix handler in production, a recorder in
/// tests. It must be safe to run a job twice: a worker that loses its lease (a long stall)
/// may still be running when another worker takes the job over.
#[async_trait::async_trait]
pub trait JobHandler: Send + Sync + 'static {
    async fn run(&self, job: &Job) -> Result<JobOutcome, JobError>;
}
