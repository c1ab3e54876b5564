//! The parts of GitHub's JSON answers the client reads. Only the fields used are declared,
//! so an answer with more (GitHub adds fields freely) still parses.

use crate::forge::hosted::{Comment, Issue, PullRequest, ReviewComment};
use serde::Deserialize;

#[derive(Deserialize)]
pub(crate) struct Repository {
    pub default_branch: String,
}

#[derive(Deserialize)]
pub(crate) struct Sha {
    pub sha: String,
}

#[derive(Deserialize)]
pub(crate) struct GitRef {
    pub object: Sha,
}

#[derive(Deserialize)]
pub(crate) struct Tree {
    pub sha: String,
    pub tree: Vec<TreeItem>,
    #[serde(default)]
    pub truncated: bool,
}

#[derive(Deserialize)]
pub(crate) struct TreeItem {
    pub path: String,
    pub mode: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub sha: String,
    pub size: Option<u64>,
}

#[derive(Deserialize)]
pub(crate) struct Blob {
    pub content: String,
    pub encoding: String,
}

/// `GET /repos/{owner}/{repo}/git/commits/{sha}`.
#[derive(Deserialize)]
pub(crate) struct GitCommit {
    pub tree: Sha,
}

/// `GET /repos/{owner}/{repo}/commits/{ref}`: the one commit route that names the GitHub
/// account behind the author, not only the git author name.
#[derive(Deserialize)]
pub(crate) struct RestCommit {
    pub sha: String,
    pub commit: RestCommitDetail,
    pub author: Option<Account>,
    #[serde(default)]
    pub parents: Vec<Sha>,
}

#[derive(Deserialize)]
pub(crate) struct RestCommitDetail {
    pub message: String,
    pub tree: Sha,
    pub author: Option<GitPerson>,
}

#[derive(Deserialize)]
pub(crate) struct GitPerson {
    pub name: Option<String>,
}

/// `GET /repos/{owner}/{repo}/compare/{basehead}`: of the whole comparison (commits, files),
/// only the merge base is read.
#[derive(Deserialize)]
pub(crate) struct Comparison {
    pub merge_base_commit: Sha,
}

#[derive(Deserialize)]
pub(crate) struct Account {
    pub login: String,
}

#[derive(Deserialize)]
pub(crate) struct Pull {
    pub number: u64,
    pub head: PullEnd,
    pub base: PullEnd,
    pub title: String,
    pub body: Option<String>,
    pub state: String,
    /// Only in single-PR answers; lists carry `merged_at` alone.
    pub merged: Option<bool>,
    pub merged_at: Option<String>,
    pub user: Option<Account>,
}

#[derive(Deserialize)]
pub(crate) struct PullEnd {
    #[serde(rename = "ref")]
    pub name: String,
    pub sha: String,
}

impl From<Pull> for PullRequest {
    fn from(p: Pull) -> PullRequest {
        PullRequest {
            number: p.number,
            head_ref: p.head.name,
            head_sha: p.head.sha,
            base_ref: p.base.name,
            title: p.title,
            body: p.body.unwrap_or_default(),
            state: p.state,
            merged: p.merged.unwrap_or(p.merged_at.is_some()),
            user_login: p.user.map(|u| u.login).unwrap_or_default(),
        }
    }
}

#[derive(Deserialize)]
pub(crate) struct IssueComment {
    pub id: u64,
    pub body: Option<String>,
    pub user: Option<Account>,
}

impl From<IssueComment> for Comment {
    fn from(c: IssueComment) -> Comment {
        Comment {
            id: c.id,
            body: c.body.unwrap_or_default(),
            user_login: c.user.map(|u| u.login).unwrap_or_default(),
        }
    }
}

#[derive(Deserialize)]
pub(crate) struct Id {
    pub id: u64,
}

#[derive(Deserialize)]
pub(crate) struct Permission {
    pub permission: String,
}

/// `pull-request-review`.
#[derive(Deserialize)]
pub(crate) struct PullReview {
    pub id: u64,
    pub body: Option<String>,
    pub user: Option<Account>,
}

impl From<PullReview> for crate::forge::hosted::Review {
    fn from(r: PullReview) -> crate::forge::hosted::Review {
        crate::forge::hosted::Review {
            id: r.id,
            body: r.body.unwrap_or_default(),
            user_login: r.user.map(|u| u.login).unwrap_or_default(),
        }
    }
}

/// `pull-request-review-comment`.
#[derive(Deserialize)]
pub(crate) struct PullReviewComment {
    pub id: u64,
    pub path: String,
    /// `null` once the line changed under the comment (GitHub calls it outdated).
    pub line: Option<u32>,
    pub body: Option<String>,
    pub user: Option<Account>,
    pub in_reply_to_id: Option<u64>,
}

impl From<PullReviewComment> for ReviewComment {
    fn from(c: PullReviewComment) -> ReviewComment {
        ReviewComment {
            id: c.id,
            path: c.path,
            line: c.line,
            body: c.body.unwrap_or_default(),
            user_login: c.user.map(|u| u.login).unwrap_or_default(),
            in_reply_to: c.in_reply_to_id,
        }
    }
}

/// `issue` (also what the issue routes answer for a pull request's number).
#[derive(Deserialize)]
pub(crate) struct IssueBody {
    pub number: u64,
    pub title: String,
    pub body: Option<String>,
    pub state: String,
    pub assignees: Option<Vec<Account>>,
    pub labels: Option<Vec<Label>>,
    pub user: Option<Account>,
}

/// GitHub documents an issue's labels as names or label objects.
#[derive(Deserialize)]
#[serde(untagged)]
pub(crate) enum Label {
    Name(String),
    Object { name: Option<String> },
}

impl From<IssueBody> for Issue {
    fn from(i: IssueBody) -> Issue {
        Issue {
            number: i.number,
            title: i.title,
            body: i.body.unwrap_or_default(),
            state: i.state,
            assignees: i
                .assignees
                .unwrap_or_default()
                .into_iter()
                .map(|a| a.login)
                .collect(),
            labels: i
                .labels
                .unwrap_or_default()
                .into_iter()
                .filter_map(|l| match l {
                    Label::Name(n) => Some(n),
                    Label::Object { name } => name,
                })
                .collect(),
            user_login: i.user.map(|u| u.login).unwrap_or_default(),
        }
    }
}
