//! The bot's side of conversations on GitHub: comments on fix pull requests and replies to
//! commands, rendered from templates/ (through the one environment in `templates`) out of
//! typed data. The hidden tags they carry come from `markers`.

use super::templates::render;
use crate::commands::{Answer, usage};
use crate::model::{AppliedException, ExceptionOrigin};
use crate::policy::IgnoreStatus;
use serde::Serialize;

#[derive(Serialize, Default)]
struct AnswerView {
    /// `done`, `refused`, `invalid` or `declined`.
    kind: &'static str,
    command: &'static str,
    /// What it did, why it was declined, or what was wrong (trimmed).
    text: String,
    permission: String,
    /// The usage line to show with an invalid command (the nearest command's for a typo).
    usage: Option<&'static str>,
}

#[derive(Serialize)]
struct ReplyView<'a> {
    author: &'a str,
    slug: &'a str,
    repo: &'a str,
    answers: Vec<AnswerView>,
}

/// The reply comment to `author` for `answers`, in the order the commands were written.
pub fn command_reply(author: &str, slug: &str, repo: &str, answers: &[Answer]) -> String {
    let answers = answers
        .iter()
        .map(|answer| match answer {
            Answer::Done { command, text } => AnswerView {
                kind: "done",
                command: command.as_str(),
                text: text.trim_end().to_string(),
                ..AnswerView::default()
            },
            Answer::Refused {
                command,
                permission,
            } => AnswerView {
                kind: "refused",
                command: command.as_str(),
                permission: permission.clone(),
                ..AnswerView::default()
            },
            Answer::Invalid(error) => AnswerView {
                kind: "invalid",
                text: error.to_string(),
                usage: error.usage.or(error.suggestion.map(usage)),
                ..AnswerView::default()
            },
            Answer::Declined { command, why } => AnswerView {
                kind: "declined",
                command: command.as_str(),
                text: why.trim_end().to_string(),
                ..AnswerView::default()
            },
        })
        .collect();
    let view = ReplyView {
        author,
        slug,
        repo,
        answers,
    };
    let mut text = render("command_reply.md", &view).unwrap_or_else(|e| {
        format!("@{author} your commands ran, but the reply could not be rendered: {e}")
    });
    let kept = text.trim_end().len();
    text.truncate(kept);
    text.push('\n');
    text
}

/// What a command's answer says once the comment's scan has run, or why it was declined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome<'a> {
    /// `rescan` on an issue or a fix PR: the default branch's pass, in one line.
    Rescanned { summary: &'a str },
    /// `rescan` on a person's PR: its review again, and the default branch's pass.
    Reviewed { review: &'a str, summary: &'a str },
    /// `recreate`: what the pass did to the PR, at which commit of which branch.
    Rebuilt {
        number: u64,
        action: &'a str,
        head: &'a str,
        branch: &'a str,
    },
    /// `recreate` of a PR the pass no longer wants (or holds back).
    NotRebuilt { number: u64, summary: &'a str },
    /// After an accept-risk, revoke, ignore or unignore: what the pass made of it.
    DecisionScanned { summary: &'a str },
    /// `recreate` on a pull request that is not an open fix PR of the bot's.
    RecreateElsewhere { slug: &'a str },
    /// `recreate` on an issue.
    RecreateOnIssue,
    /// `explain` of an advisory id the database does not have.
    UnknownAdvisory {
        id: &'a str,
        count: usize,
        revision: &'a str,
    },
}

#[derive(Serialize, Default)]
struct OutcomeView<'a> {
    kind: &'static str,
    summary: &'a str,
    review: &'a str,
    number: u64,
    action: &'a str,
    head: &'a str,
    branch: &'a str,
    slug: &'a str,
    id: &'a str,
    count: usize,
    revision: &'a str,
}

/// The words for `outcome` (see templates/command_outcome.md.j2).
pub fn command_outcome(outcome: Outcome<'_>) -> String {
    let view = match outcome {
        Outcome::Rescanned { summary } => OutcomeView {
            kind: "rescanned",
            summary,
            ..OutcomeView::default()
        },
        Outcome::Reviewed { review, summary } => OutcomeView {
            kind: "reviewed",
            review,
            summary,
            ..OutcomeView::default()
        },
        Outcome::Rebuilt {
            number,
            action,
            head,
            branch,
        } => OutcomeView {
            kind: "rebuilt",
            number,
            action,
            head: head.get(..7).unwrap_or(head),
            branch,
            ..OutcomeView::default()
        },
        Outcome::NotRebuilt { number, summary } => OutcomeView {
            kind: "not_rebuilt",
            number,
            summary,
            ..OutcomeView::default()
        },
        Outcome::DecisionScanned { summary } => OutcomeView {
            kind: "decision_scanned",
            summary,
            ..OutcomeView::default()
        },
        Outcome::RecreateElsewhere { slug } => OutcomeView {
            kind: "recreate_elsewhere",
            slug,
            ..OutcomeView::default()
        },
        Outcome::RecreateOnIssue => OutcomeView {
            kind: "recreate_on_issue",
            ..OutcomeView::default()
        },
        Outcome::UnknownAdvisory {
            id,
            count,
            revision,
        } => OutcomeView {
            kind: "unknown_advisory",
            id,
            count,
            revision,
            ..OutcomeView::default()
        },
    };
    render("command_outcome.md", &view)
        .unwrap_or_else(|e| format!("(the answer could not be rendered: {e})"))
}

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
    fn command_outcomes_read_as_before() {
        assert_eq!(
            command_outcome(Outcome::DecisionScanned {
                summary: "a/b@0123456: 1 blocker(s)"
            }),
            "\n\nScanned again: a/b@0123456: 1 blocker(s)."
        );
        assert_eq!(
            command_outcome(Outcome::Rebuilt {
                number: 4,
                action: "rebuilt from the default branch",
                head: "0123456789",
                branch: "main"
            }),
            "#4: rebuilt from the default branch at 0123456 (main)."
        );
        assert_eq!(
            command_outcome(Outcome::RecreateOnIssue),
            "it works in a comment on one of my fix pull requests, not on an issue."
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

#[cfg(test)]
mod reply_tests {
    use crate::commands::{Answer, CommandName, parse_comment};
    use crate::render::messages::command_reply as reply;

    #[test]
    fn a_refusal_names_the_command_the_access_needed_and_what_anyone_may_do() {
        let text = reply(
            "mallory",
            "patchwright",
            "acme/shop",
            &[Answer::Refused {
                command: CommandName::Ignore,
                permission: "read".into(),
            }],
        );
        assert!(text.starts_with("@mallory sorry, `ignore`"), "{text}");
        assert!(text.contains("your access is `read`"), "{text}");
        assert!(text.contains("`@patchwright explain <id>`"), "{text}");
    }

    #[test]
    fn a_malformed_command_gets_the_error_and_its_usage_line() {
        let error = parse_comment(
            "@patchwright accept-risk CVE-2024-1234 --until 2026-12-01",
            "patchwright",
        )
        .remove(0)
        .unwrap_err();
        let text = reply(
            "alice",
            "patchwright",
            "acme/shop",
            &[Answer::Invalid(error)],
        );
        assert!(text.contains("needs --reason"), "{text}");
        assert!(
            text.contains(
                "Usage: `@patchwright accept-risk <advisory-or-rule-id> --until YYYY-MM-DD"
            ),
            "{text}"
        );
    }

    #[test]
    fn an_unknown_word_gets_the_nearest_commands_usage() {
        let error = parse_comment("@patchwright rescna", "patchwright")
            .remove(0)
            .unwrap_err();
        let text = reply(
            "alice",
            "patchwright",
            "acme/shop",
            &[Answer::Invalid(error)],
        );
        assert!(text.contains("did you mean `rescan`?"), "{text}");
        assert!(text.contains("Usage: `@patchwright rescan`"), "{text}");
    }

    #[test]
    fn several_commands_are_numbered_in_one_reply() {
        let text = reply(
            "alice",
            "patchwright",
            "acme/shop",
            &[
                Answer::Done {
                    command: CommandName::Rescan,
                    text: "scanned.".into(),
                },
                Answer::Declined {
                    command: CommandName::Recreate,
                    why: "this is not one of my fix pull requests.".into(),
                },
            ],
        );
        assert!(text.contains("**1.** scanned."), "{text}");
        assert!(
            text.contains(
                "**2.** `recreate` was not run: this is not one of my fix pull requests."
            ),
            "{text}"
        );
        assert!(text.ends_with(".\n"), "{text:?}");
    }
}
