//! Reviewing pull requests: a review with line comments, the review comments already on a
//! pull request, and reviewer requests.

use super::GitHubForge;
use crate::forge::github::http::Method;
use crate::forge::github::route::repo_path;
use crate::forge::github::wire;
use crate::forge::hosted::{ForgeError, NewReviewComment, Review, ReviewComment};
use serde_json::{Value, json};

/// The body of `POST …/pulls/{pull_number}/reviews`. Comments are placed by `line` and `side`
/// (the `position` field is closing down); a range whose first line is its last is sent as a
/// one-line comment, because GitHub refuses a `start_line` that does not precede `line`.
pub(super) fn review_request(
    commit_sha: &str,
    body: &str,
    comments: &[NewReviewComment],
) -> Result<Value, ForgeError> {
    let mut placed = Vec::with_capacity(comments.len());
    for (i, c) in comments.iter().enumerate() {
        let bad = |what: String| {
            ForgeError::Permanent(format!(
                "review comment {} on `{}`: {what}; lines count from 1 in the head version",
                i + 1,
                c.path
            ))
        };
        if c.line == 0 {
            return Err(bad("line 0".into()));
        }
        let mut v = json!({ "path": c.path, "body": c.body, "line": c.line, "side": "RIGHT" });
        match c.start_line {
            None => {}
            Some(start) if start == c.line => {}
            Some(start) if start == 0 || start > c.line => {
                return Err(bad(format!(
                    "start_line {start} does not precede line {}",
                    c.line
                )));
            }
            Some(start) => {
                v["start_line"] = json!(start);
                v["start_side"] = json!("RIGHT");
            }
        }
        placed.push(v);
    }
    let mut request = json!({ "commit_id": commit_sha, "event": "COMMENT", "comments": placed });
    if !body.is_empty() {
        request["body"] = json!(body);
    }
    Ok(request)
}

pub(super) async fn create_review(
    forge: &GitHubForge,
    repo: &str,
    number: u64,
    commit_sha: &str,
    body: &str,
    comments: &[NewReviewComment],
) -> Result<u64, ForgeError> {
    let r = repo_path(repo)?;
    let request = review_request(commit_sha, body, comments)?;
    let token = forge.token().await?;
    let review: wire::Id = forge
        .write(
            &token,
            Method::Post,
            "/repos/{owner}/{repo}/pulls/{pull_number}/reviews",
            format!("{r}/pulls/{number}/reviews"),
            &request,
        )
        .await?;
    Ok(review.id)
}

pub(super) async fn reviews(
    forge: &GitHubForge,
    repo: &str,
    number: u64,
) -> Result<Vec<Review>, ForgeError> {
    let r = repo_path(repo)?;
    let token = forge.token().await?;
    let reviews: Vec<wire::PullReview> = forge
        .list(
            &token,
            "/repos/{owner}/{repo}/pulls/{pull_number}/reviews",
            format!("{r}/pulls/{number}/reviews"),
            "",
        )
        .await?;
    Ok(reviews.into_iter().map(Review::from).collect())
}

pub(super) async fn review_comments(
    forge: &GitHubForge,
    repo: &str,
    number: u64,
) -> Result<Vec<ReviewComment>, ForgeError> {
    let r = repo_path(repo)?;
    let token = forge.token().await?;
    let comments: Vec<wire::PullReviewComment> = forge
        .list(
            &token,
            "/repos/{owner}/{repo}/pulls/{pull_number}/comments",
            format!("{r}/pulls/{number}/comments"),
            "",
        )
        .await?;
    Ok(comments.into_iter().map(ReviewComment::from).collect())
}

pub(super) async fn delete_review_comment(
    forge: &GitHubForge,
    repo: &str,
    comment_id: u64,
) -> Result<(), ForgeError> {
    let r = repo_path(repo)?;
    let token = forge.token().await?;
    forge
        .send(
            &token,
            Method::Delete,
            "/repos/{owner}/{repo}/pulls/comments/{comment_id}",
            format!("{r}/pulls/comments/{comment_id}"),
            None::<&()>,
        )
        .await?;
    Ok(())
}

/// The body of `POST …/pulls/{pull_number}/requested_reviewers`, or `None` when there is no
/// one to ask (GitHub refuses a request naming nobody).
pub(super) fn reviewers_request(
    users: &[String],
    teams: &[String],
) -> Result<Option<Value>, ForgeError> {
    if let Some(t) = teams.iter().find(|t| t.is_empty() || t.contains('/')) {
        return Err(ForgeError::Permanent(format!(
            "team `{t}`: reviewer requests take the team's slug without the organisation \
             (`security`, not `octo-org/security`)"
        )));
    }
    if users.is_empty() && teams.is_empty() {
        return Ok(None);
    }
    Ok(Some(json!({ "reviewers": users, "team_reviewers": teams })))
}

pub(super) async fn request_reviewers(
    forge: &GitHubForge,
    repo: &str,
    number: u64,
    users: &[String],
    teams: &[String],
) -> Result<(), ForgeError> {
    let r = repo_path(repo)?;
    let Some(request) = reviewers_request(users, teams)? else {
        return Ok(());
    };
    let token = forge.token().await?;
    forge
        .send(
            &token,
            Method::Post,
            "/repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers",
            format!("{r}/pulls/{number}/requested_reviewers"),
            Some(&request),
        )
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn comment(line: u32, start_line: Option<u32>) -> NewReviewComment {
        NewReviewComment {
            path: "Dockerfile".into(),
            line,
            start_line,
            body: "use node:20".into(),
        }
    }

    #[test]
    fn comments_go_on_the_head_side_by_line() {
        let req = review_request("abc", "", &[comment(3, None), comment(7, Some(5))]).unwrap();
        assert_eq!(
            req,
            json!({
                "commit_id": "abc",
                "event": "COMMENT",
                "comments": [
                    { "path": "Dockerfile", "body": "use node:20", "line": 3, "side": "RIGHT" },
                    { "path": "Dockerfile", "body": "use node:20", "line": 7, "side": "RIGHT",
                      "start_line": 5, "start_side": "RIGHT" },
                ],
            })
        );
        // An empty body is left out; a non-empty one is sent.
        assert!(req.get("body").is_none());
        let with_body = review_request("abc", "2 fixes", &[]).unwrap();
        assert_eq!(with_body["body"], "2 fixes");
    }

    #[test]
    fn a_range_of_one_line_is_a_one_line_comment() {
        let req = review_request("abc", "", &[comment(4, Some(4))]).unwrap();
        assert!(req["comments"][0].get("start_line").is_none(), "{req}");
        assert!(req["comments"][0].get("start_side").is_none(), "{req}");
    }

    #[test]
    fn impossible_lines_are_refused_naming_the_comment() {
        for bad in [comment(0, None), comment(3, Some(5)), comment(3, Some(0))] {
            let e = review_request("abc", "", &[comment(1, None), bad]).unwrap_err();
            assert!(
                matches!(&e, ForgeError::Permanent(m) if m.contains("review comment 2 on `Dockerfile`")),
                "{e:?}"
            );
        }
    }

    #[test]
    fn reviewer_requests_name_someone_and_teams_by_slug() {
        assert_eq!(reviewers_request(&[], &[]).unwrap(), None);
        assert_eq!(
            reviewers_request(&["alice".into()], &["security".into()]).unwrap(),
            Some(json!({ "reviewers": ["alice"], "team_reviewers": ["security"] }))
        );
        let e = reviewers_request(&[], &["octo-org/security".into()]).unwrap_err();
        assert!(
            matches!(&e, ForgeError::Permanent(m) if m.contains("octo-org/security")),
            "{e:?}"
        );
    }
}
