//! Issues in the fake, numbered from the same sequence as pull requests (on GitHub a pull
//! request is an issue, so the issue routes also answer for a pull request's number; labels
//! and assignees are kept by number for both), and reactions on conversation comments.

use super::{
    BOT_LOGIN, CommentState, FakeGitHub, Reply, Repo, error, label_json, reply, str_field,
    user_json,
};
use serde_json::{Value, json};

/// An issue as a test reads it back.
#[derive(Debug, Clone, PartialEq)]
pub struct IssueState {
    pub number: u64,
    pub title: String,
    pub body: String,
    /// `open` or `closed`.
    pub state: String,
    /// `completed`, `not_planned`, `duplicate`, `reopened`, or `None` while never closed.
    pub state_reason: Option<String>,
    pub assignees: Vec<String>,
    pub labels: Vec<String>,
    pub user: String,
}

/// What the repository keeps per issue (labels and assignees sit in maps by number).
#[derive(Debug, Clone)]
pub(super) struct IssueRecord {
    title: String,
    body: String,
    state: String,
    state_reason: Option<String>,
    user: String,
}

#[derive(Debug, Clone)]
pub(super) struct ReactionState {
    id: u64,
    comment_id: u64,
    content: String,
    user: String,
}

/// GitHub's reaction `content` values.
const CONTENTS: [&str; 8] = [
    "+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes",
];
const STATE_REASONS: [&str; 4] = ["completed", "not_planned", "duplicate", "reopened"];

impl Repo {
    /// Whether `n` names an issue or a pull request (one number sequence for both).
    pub(super) fn has_number(&self, n: u64) -> bool {
        self.pulls.contains_key(&n) || self.issues.contains_key(&n)
    }

    /// Issue `n`, or pull request `n` seen as an issue; `bool` says which it is.
    fn issue_view(&self, n: u64) -> Option<(IssueState, bool)> {
        let (title, body, state, state_reason, user, pull) = match self.issues.get(&n) {
            Some(i) => (
                i.title.clone(),
                i.body.clone(),
                i.state.clone(),
                i.state_reason.clone(),
                i.user.clone(),
                false,
            ),
            None => {
                let p = self.pulls.get(&n)?;
                let (title, body, state) = (p.title.clone(), p.body.clone(), p.state.clone());
                (title, body, state, None, p.user.clone(), true)
            }
        };
        let issue = IssueState {
            number: n,
            title,
            body,
            state,
            state_reason,
            assignees: self.assignees.get(&n).cloned().unwrap_or_default(),
            labels: self.labels.get(&n).cloned().unwrap_or_default(),
            user,
        };
        Some((issue, pull))
    }
}

/// A title: GitHub takes a string or a number.
fn title_field(body: &Value) -> Option<String> {
    match body.get("title")? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Label names, given as names or as `{ "name": … }` objects.
fn label_names(body: &Value) -> Result<Option<Vec<String>>, Reply> {
    match body.get("labels") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(a)) => a
            .iter()
            .map(|l| {
                l.as_str()
                    .or_else(|| str_field(l, "name"))
                    .map(str::to_string)
            })
            .collect::<Option<Vec<_>>>()
            .map(Some)
            .ok_or_else(|| error(422, "Invalid request: labels must be names")),
        Some(_) => Err(error(422, "Invalid request: labels must be an array")),
    }
}

fn logins(body: &Value) -> Result<Option<Vec<String>>, Reply> {
    match body.get("assignees") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| v.as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>()
            .map(Some)
            .ok_or_else(|| error(422, "Invalid request: assignees must be logins")),
        Some(_) => Err(error(422, "Invalid request: assignees must be an array")),
    }
}

/// `POST /repos/{owner}/{repo}/issues`.
pub(super) fn create(repo: &mut Repo, base: &str, full: &str, body: &Value) -> Reply {
    let Some(title) = title_field(body) else {
        return error(422, "Invalid request: title is required");
    };
    let (labels, mut assignees) = match (label_names(body), logins(body)) {
        (Ok(l), Ok(a)) => (l.unwrap_or_default(), a.unwrap_or_default()),
        (Err(r), _) | (_, Err(r)) => return r,
    };
    if let Some(one) = str_field(body, "assignee") {
        if !assignees.iter().any(|a| a == one) {
            assignees.push(one.to_string());
        }
    }
    let number = repo.next_number;
    repo.next_number += 1;
    repo.issues.insert(
        number,
        IssueRecord {
            title,
            body: str_field(body, "body").unwrap_or("").to_string(),
            state: "open".into(),
            state_reason: None,
            user: BOT_LOGIN.into(),
        },
    );
    repo.labels.insert(number, labels);
    repo.assignees.insert(number, assignees);
    reply(201, issue_json(base, full, repo, number))
}

/// `GET /repos/{owner}/{repo}/issues/{issue_number}`.
pub(super) fn get(repo: &Repo, base: &str, full: &str, n: &str) -> Reply {
    match n.parse::<u64>().ok().filter(|n| repo.has_number(*n)) {
        Some(n) => reply(200, issue_json(base, full, repo, n)),
        None => error(404, "Not Found"),
    }
}

/// `PATCH /repos/{owner}/{repo}/issues/{issue_number}`: only the fields sent change;
/// `assignees` and `labels` replace the whole set.
pub(super) fn update(repo: &mut Repo, base: &str, full: &str, n: &str, body: &Value) -> Reply {
    let Some(n) = n.parse::<u64>().ok().filter(|n| repo.has_number(*n)) else {
        return error(404, "Not Found");
    };
    let (labels, assignees) = match (label_names(body), logins(body)) {
        (Ok(l), Ok(a)) => (l, a),
        (Err(r), _) | (_, Err(r)) => return r,
    };
    let state = str_field(body, "state");
    if state.is_some_and(|s| s != "open" && s != "closed") {
        return error(422, "Invalid request: state must be open or closed");
    }
    let reason = str_field(body, "state_reason");
    if reason.is_some_and(|r| !STATE_REASONS.contains(&r)) {
        return error(
            422,
            "Invalid request: state_reason must be completed, not_planned, duplicate or reopened",
        );
    }
    let title = title_field(body);
    let text = match body.get("body") {
        Some(Value::Null) => Some(String::new()),
        Some(v) => v.as_str().map(str::to_string),
        None => None,
    };
    if let Some(i) = repo.issues.get_mut(&n) {
        if let Some(t) = title {
            i.title = t;
        }
        if let Some(b) = text {
            i.body = b;
        }
        // The reason only changes with the state, as GitHub documents.
        match state {
            Some("closed") if i.state != "closed" => {
                i.state = "closed".into();
                i.state_reason = Some(reason.unwrap_or("completed").to_string());
            }
            Some("open") if i.state != "open" => {
                i.state = "open".into();
                i.state_reason = Some("reopened".into());
            }
            _ => {}
        }
    } else if let Some(p) = repo.pulls.get_mut(&n) {
        if let Some(t) = title {
            p.title = t;
        }
        if let Some(b) = text {
            p.body = b;
        }
        if let Some(s) = state {
            p.state = s.to_string();
        }
    }
    if let Some(l) = labels {
        repo.labels.insert(n, l);
    }
    if let Some(a) = assignees {
        repo.assignees.insert(n, a);
    }
    reply(200, issue_json(base, full, repo, n))
}

/// `POST /repos/{owner}/{repo}/issues/comments/{comment_id}/reactions`: 201 for a new
/// reaction, 200 with the existing one when the bot already reacted so.
pub(super) fn react(repo: &mut Repo, next_id: &mut u64, id: &str, body: &Value) -> Reply {
    let Some(comment_id) = id
        .parse::<u64>()
        .ok()
        .filter(|id| repo.comments.iter().any(|c| c.id == *id))
    else {
        return error(404, "Not Found");
    };
    let Some(content) = str_field(body, "content").filter(|c| CONTENTS.contains(c)) else {
        return reply(
            422,
            json!({ "message": "Validation Failed", "documentation_url": "https://docs.github.com/rest/reactions/reactions#create-reaction-for-an-issue-comment",
                    "errors": [{ "resource": "Reaction", "code": "invalid", "field": "content" }] }),
        );
    };
    if let Some(r) = repo
        .reactions
        .iter()
        .find(|r| r.comment_id == comment_id && r.content == content && r.user == BOT_LOGIN)
    {
        return reply(200, reaction_json(r));
    }
    *next_id += 1;
    let r = ReactionState {
        id: *next_id,
        comment_id,
        content: content.to_string(),
        user: BOT_LOGIN.into(),
    };
    repo.reactions.push(r.clone());
    reply(201, reaction_json(&r))
}

fn reaction_json(r: &ReactionState) -> Value {
    json!({ "id": r.id, "node_id": "REA_fake", "user": user_json(&r.user), "content": r.content, "created_at": "2026-01-01T00:00:00Z" })
}

/// An `issue`; for a pull request's number, with the `pull_request` links GitHub adds.
fn issue_json(base: &str, full: &str, repo: &Repo, n: u64) -> Value {
    let Some((i, pull)) = repo.issue_view(n) else {
        return Value::Null;
    };
    let url = format!("{base}/issues/{n}");
    let html = format!(
        "https://github.com/{full}/{}/{n}",
        if pull { "pull" } else { "issues" }
    );
    let mut v = json!({
        "id": 1_000_000 + n, "node_id": "I_fake", "url": url, "repository_url": base,
        "labels_url": format!("{url}/labels{{/name}}"), "comments_url": format!("{url}/comments"),
        "events_url": format!("{url}/events"), "html_url": html, "number": n, "state": i.state,
        "state_reason": i.state_reason, "title": i.title, "body": i.body, "user": user_json(&i.user),
        "labels": i.labels.iter().map(|l| label_json(base, l)).collect::<Vec<_>>(),
        "assignee": i.assignees.first().map(|a| user_json(a)),
        "assignees": i.assignees.iter().map(|a| user_json(a)).collect::<Vec<_>>(),
        "milestone": null, "locked": false,
        "comments": repo.comments.iter().filter(|c| c.issue == n).count(),
        "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
        "closed_at": (i.state == "closed").then_some("2026-01-01T00:00:00Z"),
        "author_association": "NONE",
    });
    if pull {
        v["pull_request"] = json!({
            "url": format!("{base}/pulls/{n}"), "html_url": html,
            "diff_url": format!("{html}.diff"), "patch_url": format!("{html}.patch"), "merged_at": null,
        });
    }
    v
}

impl FakeGitHub {
    /// Every issue (pull requests not included), by number.
    pub fn issues(&self, repo: &str) -> Vec<IssueState> {
        let m = self.lock();
        let Some(r) = m.repos.get(repo) else {
            return Vec::new();
        };
        r.issues
            .keys()
            .filter_map(|n| r.issue_view(*n).map(|(i, _)| i))
            .collect()
    }

    /// A person opens an issue; returns its number.
    pub fn open_issue_by(&self, repo: &str, title: &str, author: &str) -> u64 {
        let mut m = self.lock();
        let r = m
            .repos
            .get_mut(repo)
            .unwrap_or_else(|| panic!("no repository {repo} in the fake"));
        let number = r.next_number;
        r.next_number += 1;
        r.issues.insert(
            number,
            IssueRecord {
                title: title.to_string(),
                body: String::new(),
                state: "open".into(),
                state_reason: None,
                user: author.to_string(),
            },
        );
        r.labels.insert(number, Vec::new());
        r.assignees.insert(number, Vec::new());
        number
    }

    /// A person writes a conversation comment on an issue or pull request; returns its id
    /// (for the `issue_comment` webhook a test then sends).
    pub fn comment_by(&self, repo: &str, number: u64, author: &str, body: &str) -> u64 {
        let mut m = self.lock();
        m.next_id += 1;
        let id = m.next_id;
        let r = m
            .repos
            .get_mut(repo)
            .unwrap_or_else(|| panic!("no repository {repo} in the fake"));
        assert!(
            r.has_number(number),
            "no issue or pull request {repo}#{number} in the fake"
        );
        r.comments.push(CommentState {
            id,
            issue: number,
            body: body.to_string(),
            user: author.to_string(),
        });
        id
    }

    /// The reactions on a conversation comment (`content` values), oldest first.
    pub fn reactions(&self, repo: &str, comment_id: u64) -> Vec<String> {
        self.lock()
            .repos
            .get(repo)
            .map(|r| {
                r.reactions
                    .iter()
                    .filter(|x| x.comment_id == comment_id)
                    .map(|x| x.content.clone())
                    .collect()
            })
            .unwrap_or_default()
    }
}
