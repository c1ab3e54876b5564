//! The bot's side of conversations on GitHub: comments on fix pull requests and replies to
//! commands, rendered from templates/ (through the one environment in `templates`) out of
//! typed data. The hidden tags they carry come from `markers`.

use super::templates::render;
use crate::model::{AppliedException, ExceptionOrigin};
use crate::policy::IgnoreStatus;
use serde::Serialize;

/// Why a command could not be finished, in the terms its author is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureCause {
    /// GitHub (or the store) refused, and trying again would not change that.
    Refused,
    /// Failures that could have passed, until the retries ran out.
    Unavailable { attempts: u32 },
}

#[derive(Serialize)]
struct CommandFailedView<'a> {
    author: &'a str,
    cause: &'static str,
    attempts: u32,
    job_id: i64,
}

/// The reply to a command that failed on the bot's side: no internal detail, only where the
/// maintainers find it (the job id).
pub fn command_failed(author: &str, cause: FailureCause, job_id: i64) -> String {
    let (cause, attempts) = match cause {
        FailureCause::Refused => ("refused", 0),
        FailureCause::Unavailable { attempts } => ("unavailable", attempts),
    };
    let view = CommandFailedView {
        author,
        cause,
        attempts,
        job_id,
    };
    let mut text = render("command_failed.md", &view).unwrap_or_else(|_| {
        format!(
            "@{author} I could not finish your command; the maintainers have the details in the logs (job {job_id})."
        )
    });
    text.push('\n');
    text
}

/// Why a fix PR is closed, as its closing comment says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closing<'a> {
    /// An ignore withholds the fix.
    Ignored(&'a IgnoreStatus),
    /// Its findings are under an accepted risk.
    Accepted(&'a AppliedException),
    /// Its findings are gone.
    Gone,
}

#[derive(Serialize, Default)]
struct ClosingView {
    /// `ignored`, `accepted` or `gone`.
    kind: &'static str,
    name: String,
    scope: String,
    by: String,
    since: String,
    source: String,
    expires: String,
    origin: String,
    why: String,
}

#[derive(Serialize)]
struct FixPrClosedView<'a> {
    reason: ClosingView,
    branch: &'a str,
    head: &'a str,
}

/// The comment on a fix PR the bot closes: why, and where it checked (`branch` at `head`).
pub fn fix_pr_closed(reason: Closing<'_>, branch: &str, head: &str) -> String {
    let reason = match reason {
        Closing::Ignored(i) => ClosingView {
            kind: "ignored",
            name: i.name.clone(),
            scope: i.scope.to_string(),
            by: i.created_by.trim_start_matches('@').to_string(),
            since: i.created_at.to_string(),
            source: i.source.clone(),
            ..ClosingView::default()
        },
        Closing::Accepted(e) => ClosingView {
            kind: "accepted",
            expires: e.expires.to_string(),
            origin: describe(&e.origin),
            why: e.reason.clone(),
            ..ClosingView::default()
        },
        Closing::Gone => ClosingView {
            kind: "gone",
            ..ClosingView::default()
        },
    };
    let view = FixPrClosedView {
        reason,
        branch,
        head: head.get(..7).unwrap_or(head),
    };
    render("fix_pr_closed.md", &view).unwrap_or_else(|e| {
        format!("Closing: no longer needed (the reason could not be rendered: {e}).")
    })
}

fn describe(origin: &ExceptionOrigin) -> String {
    origin.describe()
}

#[derive(Serialize)]
struct NotUpdatedView<'a> {
    fix_key: &'a str,
    slug: &'a str,
    default_branch: &'a str,
}

/// The comment on a fix PR whose fix changed while a person's commits sit on its branch.
pub fn fix_pr_not_updated(fix_key: &str, slug: &str, default_branch: &str) -> String {
    let view = NotUpdatedView {
        fix_key,
        slug,
        default_branch,
    };
    render("fix_pr_not_updated.md", &view).unwrap_or_else(|e| {
        format!("The fix for this PR changed (now `{fix_key}`); comment `@{slug} recreate` to rebuild it ({e}).")
    })
}

/// The commit message of a fix PR's commit.
pub fn fix_commit_message(title: &str) -> String {
    #[derive(Serialize)]
    struct View<'a> {
        title: &'a str,
    }
    render("fix_commit.txt", &View { title }).unwrap_or_else(|_| title.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_command_names_the_job_and_nothing_internal() {
        let text = command_failed("alice", FailureCause::Unavailable { attempts: 8 }, 42);
        assert_eq!(
            text,
            "@alice I could not finish your command: GitHub or my storage kept failing (8 attempts). This is on my side, not yours; the maintainers have the details in the logs (job 42).\n"
        );
        let text = command_failed("bob", FailureCause::Refused, 7);
        assert!(
            text.starts_with(
                "@bob I could not finish your command: GitHub refused a request I made for it. "
            ),
            "{text}"
        );
    }

    #[test]
    fn a_closing_comment_says_why_and_where() {
        assert_eq!(
            fix_pr_closed(Closing::Gone, "main", "0123456789abcdef"),
            "Closing: the findings this PR fixed are gone from the default branch, so it is no longer needed. Checked on `main` at 0123456."
        );
        let ignore = IgnoreStatus {
            name: "django".into(),
            scope: crate::policy::IgnoreScope::Major,
            created_by: "bob".into(),
            created_at: chrono::NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
            source: "acme/shop#4 comment 10".into(),
            withheld: 1,
        };
        assert_eq!(
            fix_pr_closed(Closing::Ignored(&ignore), "main", "0123456"),
            "Closing: updates to django (major) are ignored by @bob since 2026-11-01 (acme/shop#4 comment 10). Checked on `main` at 0123456."
        );
    }
}
