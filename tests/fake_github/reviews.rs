//! Pull-request reviews in the fake: a review's line comments are checked against the pull
//! request's diff as GitHub checks them (422 for a line no hunk shows), review comments list
//! with their current line (`null` once the line changed: GitHub's "outdated"), comments can
//! be deleted, and reviews can be requested (never from the pull request's author).

use super::diff::{self, Hunk};
use super::git::Odb;
use super::{
    BOT_LOGIN, FakeGitHub, Pull, Reply, Repo, error, merge_base, page, pull_head, pull_json,
    read_file, reply, str_field, user_json,
};
use serde_json::{Value, json};
use std::collections::HashMap;

#[derive(Debug, Clone)]
pub struct ReviewState {
    pub id: u64,
    pub number: u64,
    pub body: String,
    pub commit_id: String,
    pub user: String,
    /// `COMMENTED`, `APPROVED`, `CHANGES_REQUESTED`, or `PENDING` when no event was sent.
    pub state: String,
    /// The comments the review was submitted with (deleted ones included).
    pub comment_ids: Vec<u64>,
}

#[derive(Debug, Clone)]
pub struct ReviewCommentState {
    pub id: u64,
    pub number: u64,
    /// `None` for a reply written outside a review.
    pub review_id: Option<u64>,
    /// The commit the comment was written on; `line` and `start_line` count in it.
    pub commit_id: String,
    pub path: String,
    pub line: u32,
    pub start_line: Option<u32>,
    pub body: String,
    pub user: String,
    pub in_reply_to: Option<u64>,
    pub diff_hunk: String,
}

const REVIEW_DOCS: &str =
    "https://docs.github.com/rest/pulls/reviews#create-a-review-for-a-pull-request";

/// A 422 in the shape the review routes use (`validation-error-simple`: errors as strings).
fn unprocessable(errors: &[&str]) -> Reply {
    reply(
        422,
        json!({ "message": "Unprocessable Entity", "errors": errors, "documentation_url": REVIEW_DOCS, "status": "422" }),
    )
}

/// The hunks of `path` in the pull request's diff as of `commit`: from where `commit`'s
/// history meets the base branch (GitHub's three-dot diff) to `commit`.
fn pull_hunks(odb: &Odb, repo: &Repo, pull: &Pull, commit: &str, path: &str) -> Vec<Hunk> {
    let base_head = repo.refs.get(&pull.base).cloned().unwrap_or_default();
    let base = merge_base(odb, &base_head, commit).unwrap_or(base_head);
    let old = read_file(odb, &base, path).unwrap_or_default();
    let new = read_file(odb, commit, path).unwrap_or_default();
    diff::hunks(&old, &new)
}

/// Where a comment sits on the pull request's current head as `(start_line, line)`: its
/// lines, when the head still has every one of them unchanged, in order, inside one hunk of
/// the diff; `None` when GitHub would show it as outdated.
fn current_lines(
    odb: &Odb,
    repo: &Repo,
    pull: &Pull,
    c: &ReviewCommentState,
) -> Option<(Option<u32>, u32)> {
    let head = pull_head(repo, pull);
    let first = c.start_line.unwrap_or(c.line);
    let (start, line) = if c.commit_id == head {
        (c.start_line, c.line)
    } else {
        let old = read_file(odb, &c.commit_id, &c.path)?;
        let new = read_file(odb, &head, &c.path)?;
        let moved = (first..=c.line)
            .map(|l| diff::map_line(&old, &new, l))
            .collect::<Option<Vec<u32>>>()?;
        if moved.windows(2).any(|w| w[1] != w[0] + 1) {
            return None;
        }
        let line = *moved.last()?;
        (c.start_line.map(|_| moved[0]), line)
    };
    diff::hunk_for(
        &pull_hunks(odb, repo, pull, &head, &c.path),
        start.unwrap_or(line),
        line,
    )?;
    Some((start, line))
}

/// A comment of a new review, checked: `(path, start_line, line, body, diff_hunk)`.
type Placed = (String, Option<u32>, u32, String, String);

fn place(odb: &Odb, repo: &Repo, pull: &Pull, commit: &str, spec: &Value) -> Result<Placed, Reply> {
    let (Some(path), Some(body)) = (str_field(spec, "path"), str_field(spec, "body")) else {
        return Err(error(
            422,
            "Invalid request: each review comment needs a path and a body",
        ));
    };
    if spec.get("position").is_some() {
        return Err(error(
            422,
            "fake GitHub: comments placed by `position` are not modelled; send line and side",
        ));
    }
    let line_of = |key: &str| -> Result<Option<u32>, Reply> {
        match spec.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v
                .as_u64()
                .and_then(|l| u32::try_from(l).ok())
                .filter(|l| *l >= 1)
                .map(Some)
                .ok_or_else(|| {
                    error(
                        422,
                        &format!("Invalid request: {key} must be a line number"),
                    )
                }),
        }
    };
    let Some(line) = line_of("line")? else {
        return Err(unprocessable(&[
            "pull_request_review_thread.line is required",
        ]));
    };
    let start = line_of("start_line")?;
    for (key, wanted) in [("side", true), ("start_side", start.is_some())] {
        match str_field(spec, key) {
            None | Some("RIGHT") => {}
            Some("LEFT") if wanted => {
                return Err(error(
                    422,
                    "fake GitHub: LEFT-side (base version) comments are not modelled",
                ));
            }
            Some(other) => {
                return Err(error(
                    422,
                    &format!("Invalid request: {key} `{other}` is not LEFT or RIGHT"),
                ));
            }
        }
    }
    if start.is_some_and(|s| s >= line) {
        return Err(unprocessable(&[
            "pull_request_review_thread.start_line must precede the end line.",
        ]));
    }
    let hunks = pull_hunks(odb, repo, pull, commit, path);
    if hunks.is_empty() {
        return Err(unprocessable(&["Path could not be resolved"]));
    }
    let Some(hunk) = diff::hunk_for(&hunks, line, line) else {
        return Err(unprocessable(&[
            "pull_request_review_thread.line must be part of the diff",
        ]));
    };
    if let Some(s) = start {
        if diff::hunk_for(&hunks, s, line).is_none() {
            return Err(unprocessable(&[
                "pull_request_review_thread.start_line must be part of the same hunk as the line.",
            ]));
        }
    }
    Ok((
        path.to_string(),
        start,
        line,
        body.to_string(),
        hunk.text.clone(),
    ))
}

/// `POST /repos/{owner}/{repo}/pulls/{pull_number}/reviews`. Every comment is checked before
/// anything is stored: GitHub creates the whole review or nothing.
pub(super) fn create(
    odb: &Odb,
    repo: &mut Repo,
    next_id: &mut u64,
    full: &str,
    n: &str,
    body: &Value,
) -> Reply {
    let Some(pull) = n
        .parse::<u64>()
        .ok()
        .and_then(|n| repo.pulls.get(&n))
        .cloned()
    else {
        return error(404, "Not Found");
    };
    let commit = match body.get("commit_id") {
        None | Some(Value::Null) => pull_head(repo, &pull),
        Some(Value::String(c)) if odb.commit(c).is_some() => c.clone(),
        Some(_) => return unprocessable(&["Commit could not be resolved"]),
    };
    let state = match str_field(body, "event") {
        None => "PENDING",
        Some("COMMENT") => "COMMENTED",
        Some("APPROVE") => "APPROVED",
        Some("REQUEST_CHANGES") => "CHANGES_REQUESTED",
        Some(other) => {
            return error(
                422,
                &format!(
                    "Invalid request: event `{other}` is not APPROVE, REQUEST_CHANGES or COMMENT"
                ),
            );
        }
    };
    let text = str_field(body, "body").unwrap_or("");
    let specs = match body.get("comments") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a.clone(),
        Some(_) => return error(422, "Invalid request: comments must be an array"),
    };
    let mut placed = Vec::with_capacity(specs.len());
    for spec in &specs {
        match place(odb, repo, &pull, &commit, spec) {
            Ok(p) => placed.push(p),
            Err(r) => return r,
        }
    }
    let needs_body = matches!(state, "COMMENTED" | "CHANGES_REQUESTED");
    if needs_body && text.is_empty() && (state == "CHANGES_REQUESTED" || placed.is_empty()) {
        return unprocessable(&["Review body can't be blank"]);
    }
    *next_id += 1;
    let review_id = *next_id;
    let mut comment_ids = Vec::with_capacity(placed.len());
    for (path, start_line, line, body, diff_hunk) in placed {
        *next_id += 1;
        comment_ids.push(*next_id);
        repo.review_comments.push(ReviewCommentState {
            id: *next_id,
            number: pull.number,
            review_id: Some(review_id),
            commit_id: commit.clone(),
            path,
            line,
            start_line,
            body,
            user: BOT_LOGIN.into(),
            in_reply_to: None,
            diff_hunk,
        });
    }
    let review = ReviewState {
        id: review_id,
        number: pull.number,
        body: text.to_string(),
        commit_id: commit,
        user: BOT_LOGIN.into(),
        state: state.into(),
        comment_ids,
    };
    repo.reviews.push(review.clone());
    reply(200, review_json(full, &review))
}

/// `GET /repos/{owner}/{repo}/pulls/{pull_number}/comments`, oldest first.
pub(super) fn list_comments(
    odb: &Odb,
    repo: &Repo,
    full: &str,
    n: &str,
    q: &HashMap<String, String>,
) -> Reply {
    let Some(pull) = n.parse::<u64>().ok().and_then(|n| repo.pulls.get(&n)) else {
        return error(404, "Not Found");
    };
    let head = pull_head(repo, pull);
    let all: Vec<Value> = repo
        .review_comments
        .iter()
        .filter(|c| c.number == pull.number)
        .map(|c| review_comment_json(full, &head, c, current_lines(odb, repo, pull, c)))
        .collect();
    reply(200, Value::Array(page(&all, q)))
}

/// `GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews`, oldest first.
pub(super) fn list(repo: &Repo, full: &str, n: &str, q: &HashMap<String, String>) -> Reply {
    let Some(pull) = n.parse::<u64>().ok().and_then(|n| repo.pulls.get(&n)) else {
        return error(404, "Not Found");
    };
    let all: Vec<Value> = repo
        .reviews
        .iter()
        .filter(|r| r.number == pull.number)
        .map(|r| review_json(full, r))
        .collect();
    reply(200, Value::Array(page(&all, q)))
}

/// `DELETE /repos/{owner}/{repo}/pulls/comments/{comment_id}`. Replies stay, as on GitHub.
pub(super) fn delete_comment(repo: &mut Repo, id: &str) -> Reply {
    let Some(at) = id
        .parse::<u64>()
        .ok()
        .and_then(|id| repo.review_comments.iter().position(|c| c.id == id))
    else {
        return error(404, "Not Found");
    };
    repo.review_comments.remove(at);
    reply(204, Value::Null)
}

fn strings(body: &Value, key: &str) -> Result<Vec<String>, Reply> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| v.as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| error(422, &format!("Invalid request: {key} must be strings"))),
        Some(_) => Err(error(
            422,
            &format!("Invalid request: {key} must be an array"),
        )),
    }
}

/// `POST /repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers`.
pub(super) fn request_reviewers(
    repo: &mut Repo,
    base: &str,
    full: &str,
    n: &str,
    body: &Value,
) -> Reply {
    let Some(pull) = n
        .parse::<u64>()
        .ok()
        .and_then(|n| repo.pulls.get(&n))
        .cloned()
    else {
        return error(404, "Not Found");
    };
    let (users, teams) = match (strings(body, "reviewers"), strings(body, "team_reviewers")) {
        (Ok(u), Ok(t)) => (u, t),
        (Err(r), _) | (_, Err(r)) => return r,
    };
    if users.is_empty() && teams.is_empty() {
        return error(
            422,
            "Invalid request: reviewers or team_reviewers is required",
        );
    }
    if users.iter().any(|u| u.eq_ignore_ascii_case(&pull.user)) {
        return reply(
            422,
            json!({
                "message": "Review cannot be requested from pull request author.",
                "documentation_url": "https://docs.github.com/rest/pulls/review-requests#request-reviewers-for-a-pull-request",
                "status": "422",
            }),
        );
    }
    let (u, t) = repo.requested.entry(pull.number).or_default();
    for (list, new) in [(u, users), (t, teams)] {
        for x in new {
            if !list.contains(&x) {
                list.push(x);
            }
        }
    }
    reply(201, pull_json(base, full, repo, &pull))
}

fn review_json(full: &str, r: &ReviewState) -> Value {
    let html = format!(
        "https://github.com/{full}/pull/{}#pullrequestreview-{}",
        r.number, r.id
    );
    let pr = format!("https://api.github.com/repos/{full}/pulls/{}", r.number);
    let mut v = json!({
        "id": r.id, "node_id": "PRR_fake", "user": user_json(&r.user), "body": r.body, "state": r.state,
        "commit_id": r.commit_id, "html_url": html, "pull_request_url": pr, "author_association": "NONE",
        "_links": { "html": { "href": html }, "pull_request": { "href": pr } },
    });
    if r.state != "PENDING" {
        v["submitted_at"] = json!("2026-01-01T00:00:00Z");
    }
    v
}

/// A `pull-request-review-comment`. GitHub sends `line` and `start_line` as `null` for an
/// outdated comment (its description says integer; the API does this anyway).
fn review_comment_json(
    full: &str,
    head: &str,
    c: &ReviewCommentState,
    current: Option<(Option<u32>, u32)>,
) -> Value {
    let api = format!("https://api.github.com/repos/{full}");
    let html = format!(
        "https://github.com/{full}/pull/{}#discussion_r{}",
        c.number, c.id
    );
    let pr = format!("{api}/pulls/{}", c.number);
    let url = format!("{api}/pulls/comments/{}", c.id);
    let link = |href: &str| json!({ "href": href });
    let mut v = json!({
        "url": url, "id": c.id, "node_id": "PRRC_fake", "pull_request_review_id": c.review_id,
        "diff_hunk": c.diff_hunk, "path": c.path,
        "commit_id": if current.is_some() { head } else { c.commit_id.as_str() },
        "original_commit_id": c.commit_id, "user": user_json(&c.user), "body": c.body,
        "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
        "html_url": html, "pull_request_url": pr, "author_association": "NONE",
        "_links": { "self": link(&url), "html": link(&html), "pull_request": link(&pr) },
        "line": current.map(|(_, line)| line), "start_line": current.and_then(|(start, _)| start),
        "original_line": c.line, "original_start_line": c.start_line,
        "side": "RIGHT", "start_side": c.start_line.map(|_| "RIGHT"), "subject_type": "line",
    });
    if let Some(parent) = c.in_reply_to {
        v["in_reply_to_id"] = json!(parent);
    }
    v
}

impl FakeGitHub {
    /// The reviews submitted on a pull request, oldest first.
    pub fn reviews(&self, repo: &str, number: u64) -> Vec<ReviewState> {
        self.lock()
            .repos
            .get(repo)
            .map(|r| {
                r.reviews
                    .iter()
                    .filter(|v| v.number == number)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The review comments on a pull request (deleted ones gone), oldest first, with their
    /// lines as written (on `commit_id`).
    pub fn review_comments(&self, repo: &str, number: u64) -> Vec<ReviewCommentState> {
        self.lock()
            .repos
            .get(repo)
            .map(|r| {
                r.review_comments
                    .iter()
                    .filter(|c| c.number == number)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    /// A person answers a review comment; returns the reply's id. A reply to a reply joins
    /// the thread's first comment, as on GitHub.
    pub fn reply_to_review_comment(
        &self,
        repo: &str,
        number: u64,
        comment_id: u64,
        author: &str,
        body: &str,
    ) -> u64 {
        let mut m = self.lock();
        m.next_id += 1;
        let id = m.next_id;
        let r = m
            .repos
            .get_mut(repo)
            .unwrap_or_else(|| panic!("no repository {repo} in the fake"));
        let parent = r
            .review_comments
            .iter()
            .find(|c| c.id == comment_id && c.number == number)
            .cloned()
            .unwrap_or_else(|| panic!("no review comment {comment_id} on {repo}#{number}"));
        r.review_comments.push(ReviewCommentState {
            id,
            review_id: None,
            body: body.to_string(),
            user: author.to_string(),
            in_reply_to: Some(parent.in_reply_to.unwrap_or(parent.id)),
            ..parent
        });
        id
    }

    /// Users and teams asked to review a pull request.
    pub fn requested_reviewers(&self, repo: &str, number: u64) -> (Vec<String>, Vec<String>) {
        self.lock()
            .repos
            .get(repo)
            .and_then(|r| r.requested.get(&number).cloned())
            .unwrap_or_default()
    }

    /// The head-side lines of `path` a review comment may sit on now (every line of every
    /// hunk of the pull request's diff).
    pub fn pull_diff_lines(&self, repo: &str, number: u64, path: &str) -> Vec<u32> {
        let m = self.lock();
        let Some(r) = m.repos.get(repo) else {
            return Vec::new();
        };
        let Some(pull) = r.pulls.get(&number) else {
            return Vec::new();
        };
        let head = pull_head(r, pull);
        pull_hunks(&m.odb, r, pull, &head, path)
            .iter()
            .flat_map(|h| h.first..=h.last)
            .collect()
    }
}
