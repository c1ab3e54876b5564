//! Issues (the tracking issue: open, read, edit, close) and reactions on conversation
//! comments.

use super::GitHubForge;
use crate::forge::github::http::Method;
use crate::forge::github::route::repo_path;
use crate::forge::github::wire;
use crate::forge::hosted::{ForgeError, Issue, IssueUpdate, Reaction};
use serde_json::{Map, Value, json};

/// The body of `PATCH …/issues/{issue_number}` with only the fields to change, or `None` when
/// nothing changes. Closing says why (`completed`), so GitHub does not show it as "not planned".
pub(super) fn issue_patch(update: &IssueUpdate) -> Option<Value> {
    let mut patch = Map::new();
    if let Some(title) = &update.title {
        patch.insert("title".into(), json!(title));
    }
    if let Some(body) = &update.body {
        patch.insert("body".into(), json!(body));
    }
    match update.open {
        Some(true) => {
            patch.insert("state".into(), json!("open"));
        }
        Some(false) => {
            patch.insert("state".into(), json!("closed"));
            patch.insert("state_reason".into(), json!("completed"));
        }
        None => {}
    }
    if let Some(assignees) = &update.assignees {
        // The whole set: GitHub replaces the assignees with this list (`[]` clears them).
        patch.insert("assignees".into(), json!(assignees));
    }
    (!patch.is_empty()).then_some(Value::Object(patch))
}

pub(super) async fn create_issue(
    forge: &GitHubForge,
    repo: &str,
    title: &str,
    body: &str,
    labels: &[String],
    assignees: &[String],
) -> Result<Issue, ForgeError> {
    let r = repo_path(repo)?;
    let token = forge.token().await?;
    let issue: wire::IssueBody = forge
        .write(
            &token,
            Method::Post,
            "/repos/{owner}/{repo}/issues",
            format!("{r}/issues"),
            &json!({ "title": title, "body": body, "labels": labels, "assignees": assignees }),
        )
        .await?;
    Ok(issue.into())
}

pub(super) async fn issue(
    forge: &GitHubForge,
    repo: &str,
    number: u64,
) -> Result<Issue, ForgeError> {
    let r = repo_path(repo)?;
    let token = forge.token().await?;
    let issue: wire::IssueBody = forge
        .get(
            &token,
            "/repos/{owner}/{repo}/issues/{issue_number}",
            format!("{r}/issues/{number}"),
        )
        .await?;
    Ok(issue.into())
}

pub(super) async fn update_issue(
    forge: &GitHubForge,
    repo: &str,
    number: u64,
    update: &IssueUpdate,
) -> Result<(), ForgeError> {
    let r = repo_path(repo)?;
    let Some(patch) = issue_patch(update) else {
        return Ok(());
    };
    let token = forge.token().await?;
    forge
        .send(
            &token,
            Method::Patch,
            "/repos/{owner}/{repo}/issues/{issue_number}",
            format!("{r}/issues/{number}"),
            Some(&patch),
        )
        .await?;
    Ok(())
}

/// GitHub answers 201 for a new reaction and 200 when this one was already there; both are
/// success.
pub(super) async fn react(
    forge: &GitHubForge,
    repo: &str,
    comment_id: u64,
    reaction: Reaction,
) -> Result<(), ForgeError> {
    let r = repo_path(repo)?;
    let token = forge.token().await?;
    forge
        .send(
            &token,
            Method::Post,
            "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions",
            format!("{r}/issues/comments/{comment_id}/reactions"),
            Some(&json!({ "content": reaction.content() })),
        )
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_update_sends_only_what_changes() {
        assert_eq!(issue_patch(&IssueUpdate::default()), None);
        let retitle = IssueUpdate {
            title: Some("3 open findings".into()),
            ..IssueUpdate::default()
        };
        assert_eq!(
            issue_patch(&retitle),
            Some(json!({ "title": "3 open findings" }))
        );
        let close = IssueUpdate {
            body: Some("all fixed".into()),
            open: Some(false),
            assignees: Some(vec![]),
            ..IssueUpdate::default()
        };
        assert_eq!(
            issue_patch(&close),
            Some(json!({
                "body": "all fixed",
                "state": "closed",
                "state_reason": "completed",
                "assignees": [],
            }))
        );
        let reopen = IssueUpdate {
            open: Some(true),
            assignees: Some(vec!["alice".into()]),
            ..IssueUpdate::default()
        };
        assert_eq!(
            issue_patch(&reopen),
            Some(json!({ "state": "open", "assignees": ["alice"] }))
        );
    }

    #[test]
    fn an_issue_reads_labels_given_as_names_or_objects() {
        let answer = r#"{
            "number": 7, "title": "patchwright: 2 open findings", "body": null, "state": "open",
            "assignees": [{ "login": "alice" }], "user": { "login": "patchwright[bot]" },
            "labels": ["security", { "id": 1, "name": "patchwright", "color": "ededed" }, { "id": 2 }]
        }"#;
        let issue: Issue = serde_json::from_str::<wire::IssueBody>(answer)
            .unwrap()
            .into();
        assert_eq!(
            issue,
            Issue {
                number: 7,
                title: "patchwright: 2 open findings".into(),
                body: String::new(),
                state: "open".into(),
                assignees: vec!["alice".into()],
                labels: vec!["security".into(), "patchwright".into()],
                user_login: "patchwright[bot]".into(),
            }
        );
    }

    #[test]
    fn reactions_use_githubs_content_values() {
        let all = [
            (Reaction::Eyes, "eyes"),
            (Reaction::PlusOne, "+1"),
            (Reaction::MinusOne, "-1"),
            (Reaction::Confused, "confused"),
            (Reaction::Rocket, "rocket"),
        ];
        for (reaction, content) in all {
            assert_eq!(reaction.content(), content);
            // serde agrees with the request body, so a stored reaction reads back the same.
            assert_eq!(serde_json::to_value(reaction).unwrap(), json!(content));
            let back: Reaction = serde_json::from_value(json!(content)).unwrap();
            assert_eq!(back, reaction);
        }
    }
}
