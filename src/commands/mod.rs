//! The grammar of commands in pull-request and issue comments: `@<app-slug> <command> …`.
//!
//! Pure: text in, typed commands or user-facing errors out. Who may run a command, and what it
//! does, belong to the service; [`Command::changes_state`] gives it what it needs to decide.
//!
//! A comment may hold several commands, one per line, each at the start of its line. Mentions in
//! code blocks, inline code and quotes are skipped (see `markdown`), and so is a mention
//! mid-sentence: "thanks @bot" is talk about the bot, not an order.

pub mod explain;
mod help;
mod markdown;
mod parser;
mod reply;

use chrono::NaiveDate;

pub use crate::policy::IgnoreScope;
pub use help::{CommandName, help, usage};
pub use parser::parse_comment;
pub use reply::Answer;

/// A command, with its arguments checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Help,
    Rescan,
    Recreate,
    Explain {
        target: Target,
    },
    /// Parsed dates are well-formed but not yet checked against today and the policy's maximum:
    /// that needs the clock and the config, see [`validate_accept_risk`].
    AcceptRisk {
        target: Target,
        until: NaiveDate,
        reason: String,
    },
    /// Ends a risk accepted by command before its date.
    Revoke {
        target: Target,
    },
    Ignore {
        name: String,
        scope: IgnoreScope,
    },
    /// Removes every ignore of a package or image.
    Unignore {
        name: String,
    },
}

impl Command {
    pub fn name(&self) -> CommandName {
        match self {
            Command::Help => CommandName::Help,
            Command::Rescan => CommandName::Rescan,
            Command::Recreate => CommandName::Recreate,
            Command::Explain { .. } => CommandName::Explain,
            Command::AcceptRisk { .. } => CommandName::AcceptRisk,
            Command::Revoke { .. } => CommandName::Revoke,
            Command::Ignore { .. } => CommandName::Ignore,
            Command::Unignore { .. } => CommandName::Unignore,
        }
    }

    /// Whether running it changes anything (a scan, a PR, the exceptions): only people with
    /// write access may run those. `help` and `explain` only answer.
    pub fn changes_state(&self) -> bool {
        match self {
            Command::Help | Command::Explain { .. } => false,
            Command::Rescan
            | Command::Recreate
            | Command::AcceptRisk { .. }
            | Command::Revoke { .. }
            | Command::Ignore { .. }
            | Command::Unignore { .. } => true,
        }
    }
}

/// Moved to `model` (the store keeps it too); re-exported here for this session's callers.
pub use crate::model::Target;

/// Where in the comment a problem is: byte offset, and 1-based line and column (in characters)
/// for people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Position {
    pub offset: usize,
    pub line: usize,
    pub column: usize,
}

impl Position {
    /// `offset` must lie on a character boundary of `body` (the parser only makes such offsets).
    pub(crate) fn locate(body: &str, offset: usize) -> Position {
        let before = body.get(..offset).unwrap_or(body);
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        Position {
            offset,
            line: before.matches('\n').count() + 1,
            column: before[line_start..].chars().count() + 1,
        }
    }
}

/// What went wrong, for the service to branch on without reading messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// `@slug` with nothing after it.
    MissingCommand,
    UnknownCommand,
    MissingArgument,
    UnexpectedArgument,
    InvalidId,
    UnknownFlag,
    DuplicateFlag,
    UnterminatedQuote,
    MissingReason,
    MissingDate,
    InvalidDate,
    DateInPast,
    DateBeyondMaximum,
}

/// A mistake in a command, answered to the user in a comment (internal failures are another
/// type, logged instead: the user can fix this one, not those).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.describe())]
pub struct CommandError {
    pub kind: ErrorKind,
    /// Where in the comment. `None` only for [`validate_accept_risk`], which sees the command and
    /// not the comment.
    pub at: Option<Position>,
    pub message: String,
    /// The command being parsed, when the command word was recognised.
    pub command: Option<CommandName>,
    /// `usage(command)`, so the reply can show the right form.
    pub usage: Option<&'static str>,
    /// For an unknown command word: the nearest known one.
    pub suggestion: Option<CommandName>,
}

impl CommandError {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> CommandError {
        CommandError {
            kind,
            at: None,
            message: message.into(),
            command: None,
            usage: None,
            suggestion: None,
        }
    }

    pub(crate) fn for_command(mut self, name: CommandName) -> CommandError {
        self.command = Some(name);
        self.usage = Some(usage(name));
        self
    }

    fn describe(&self) -> String {
        match self.at {
            Some(at) => format!("line {}, column {}: {}", at.line, at.column, self.message),
            None => self.message.clone(),
        }
    }
}

/// Checks an `accept-risk` date against today and the policy's maximum length of an exception.
/// Other commands pass. An exception may end today (it still covers today) but not before, and
/// not more than `max_days` after today.
pub fn validate_accept_risk(
    cmd: &Command,
    today: NaiveDate,
    max_days: u32,
) -> Result<(), CommandError> {
    let Command::AcceptRisk { until, .. } = cmd else {
        return Ok(());
    };
    if *until < today {
        return Err(CommandError::new(
            ErrorKind::DateInPast,
            format!("--until {until} is in the past (today is {today})"),
        )
        .for_command(CommandName::AcceptRisk));
    }
    let days = (*until - today).num_days();
    if days > i64::from(max_days) {
        let latest = today
            .checked_add_days(chrono::Days::new(u64::from(max_days)))
            .map_or_else(|| "—".to_string(), |d| d.to_string());
        return Err(CommandError::new(
            ErrorKind::DateBeyondMaximum,
            format!(
                "--until {until} is {days} days away; the policy allows at most {max_days} days (until {latest})"
            ),
        )
        .for_command(CommandName::AcceptRisk));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::RuleId;

    #[test]
    fn positions_count_characters_not_bytes() {
        let body = "é\nab→c";
        let at = Position::locate(body, body.find('c').unwrap());
        assert_eq!((at.line, at.column), (2, 4));
        assert_eq!(Position::locate(body, 0).column, 1);
    }

    #[test]
    fn only_help_and_explain_leave_state_alone() {
        let explain = Command::Explain {
            target: Target::Rule(RuleId::RunsAsRoot),
        };
        assert!(!Command::Help.changes_state());
        assert!(!explain.changes_state());
        assert!(Command::Rescan.changes_state());
        assert!(Command::Recreate.changes_state());
    }
}
