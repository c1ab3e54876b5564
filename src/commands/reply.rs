//! What became of each command of a comment, as data: the reply that says it (one for the
//! whole comment, fewer notifications than one per command, nothing left silent) is rendered by
//! `render::messages::command_reply`.

use super::{CommandError, CommandName};

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
