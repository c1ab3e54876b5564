//! The bot's answer to a comment with commands: one reply for the whole comment (fewer
//! notifications than one per command), every command's result in it, nothing left silent.

use super::{CommandError, CommandName, usage};
use std::fmt::Write;

/// What became of one command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// It ran; markdown saying what it did.
    Done { command: CommandName, text: String },
    /// The author may not run it: state-changing commands need write access.
    Refused {
        command: CommandName,
        /// The author's permission as GitHub reports it (`read`, `none`, …).
        permission: String,
    },
    /// It was malformed or its arguments are not acceptable.
    Invalid(CommandError),
    /// It was understood but cannot be carried out here, and why (e.g. `recreate` on an issue).
    Declined { command: CommandName, why: String },
}

impl Answer {
    pub fn succeeded(&self) -> bool {
        matches!(self, Answer::Done { .. })
    }
}

/// The reply comment to `author` for `answers`, in the order the commands were written.
pub fn reply(author: &str, slug: &str, repo: &str, answers: &[Answer]) -> String {
    let mut out = format!("@{author} ");
    if answers.len() > 1 {
        out.push_str("here is what became of your commands:\n\n");
    }
    for (i, answer) in answers.iter().enumerate() {
        if answers.len() > 1 {
            let _ = write!(out, "**{}.** ", i + 1);
        }
        match answer {
            Answer::Done { text, .. } => out.push_str(text.trim_end()),
            Answer::Refused {
                command,
                permission,
            } => {
                let _ = write!(
                    out,
                    "sorry, `{}` changes what I do in {repo}, so it needs write access to the repository; GitHub says your access is `{permission}`. Ask someone with write access to run it, or use `@{slug} explain <id>` and `@{slug} help`, which anyone may.",
                    command.as_str()
                );
            }
            Answer::Invalid(error) => {
                let _ = write!(out, "I could not run that: {error}.");
                if let Some(usage) = error.usage {
                    let _ = write!(out, "\nUsage: `@{slug} {usage}`");
                } else if let Some(near) = error.suggestion {
                    let _ = write!(out, "\nUsage: `@{slug} {}`", usage(near));
                } else {
                    let _ = write!(out, "\n`@{slug} help` lists every command.");
                }
            }
            Answer::Declined { command, why } => {
                let _ = write!(out, "`{}` was not run: {why}", command.as_str());
            }
        }
        out.push_str("\n\n");
    }
    let trimmed = out.trim_end().len();
    out.truncate(trimmed);
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::parse_comment;

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
