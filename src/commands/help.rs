//! Command names, their usage lines and the help text.
//!
//! Every list here is an exhaustive `match` over [`CommandName`], so adding a command without its
//! usage line and help entry does not compile.

/// The command words the bot understands (the word right after `@<slug>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CommandName {
    Help,
    Rescan,
    Recreate,
    Explain,
    AcceptRisk,
    Revoke,
    Ignore,
    Unignore,
}

impl CommandName {
    /// In the order the help text lists them.
    pub const ALL: [CommandName; 8] = [
        CommandName::Help,
        CommandName::Rescan,
        CommandName::Recreate,
        CommandName::Explain,
        CommandName::AcceptRisk,
        CommandName::Revoke,
        CommandName::Ignore,
        CommandName::Unignore,
    ];

    /// The word users type, in lower case.
    pub fn as_str(self) -> &'static str {
        match self {
            CommandName::Help => "help",
            CommandName::Rescan => "rescan",
            CommandName::Recreate => "recreate",
            CommandName::Explain => "explain",
            CommandName::AcceptRisk => "accept-risk",
            CommandName::Revoke => "revoke",
            CommandName::Ignore => "ignore",
            CommandName::Unignore => "unignore",
        }
    }

    /// Case-insensitive, because people type `@bot Rescan` from phones.
    pub fn parse(word: &str) -> Option<CommandName> {
        CommandName::ALL
            .into_iter()
            .find(|name| name.as_str().eq_ignore_ascii_case(word))
    }

    /// One sentence for the help text.
    pub fn summary(self) -> &'static str {
        match self {
            CommandName::Help => "show this list of commands.",
            CommandName::Rescan => "scan the repository again now.",
            CommandName::Recreate => {
                "rebuild the fix pull request from the current default branch."
            }
            CommandName::Explain => {
                "explain an advisory (CVE-…, GHSA-…, RUSTSEC-…, PYSEC-…, GO-…) or a rule id."
            }
            CommandName::AcceptRisk => {
                "accept a finding until a date, with a reason; the date may not exceed the policy's maximum."
            }
            CommandName::Revoke => {
                "end a risk accepted with accept-risk before its date; the findings count again."
            }
            CommandName::Ignore => {
                "stop proposing updates for a package or image: all of them, one version, or major/minor updates."
            }
            CommandName::Unignore => {
                "propose updates for a package or image again (undoes every ignore of it)."
            }
        }
    }

    /// The known command nearest to `word` by edit distance, if it is close enough to be a typo
    /// rather than a different word.
    pub fn nearest(word: &str) -> Option<CommandName> {
        crate::nearest::nearest(word, CommandName::ALL.map(|name| (name, name.as_str())))
    }
}

/// The usage line of a command, without the `@<slug> ` prefix (the caller knows the slug).
pub fn usage(name: CommandName) -> &'static str {
    match name {
        CommandName::Help => "help",
        CommandName::Rescan => "rescan",
        CommandName::Recreate => "recreate",
        CommandName::Explain => "explain <advisory-or-rule-id>",
        CommandName::AcceptRisk => {
            "accept-risk <advisory-or-rule-id> --until YYYY-MM-DD --reason \"why this is acceptable\""
        }
        CommandName::Revoke => "revoke <advisory-or-rule-id>",
        CommandName::Ignore => "ignore <package-or-image> [<version>|major|minor]",
        CommandName::Unignore => "unignore <package-or-image>",
    }
}

/// The help comment: every command with its usage line and summary.
pub fn help(slug: &str) -> String {
    let mut out = format!(
        "Commands for @{slug} (one per line, at the start of the line; not in quotes or code blocks):\n\n"
    );
    for name in CommandName::ALL {
        out.push_str(&format!(
            "- `@{slug} {}` — {}\n",
            usage(name),
            name.summary()
        ));
    }
    out.push_str(
        "\nOnly people with write access may run commands other than `help` and `explain`.\n",
    );
    out
}

// The command parser judges rule-id typos the same way as command typos.
pub(crate) use crate::nearest::{distance as edit_distance, is_typo};

#[cfg(test)]
mod tests {
    use super::*;

    /// Fails to compile when a variant is added without a place in `ALL`'s order.
    fn position(name: CommandName) -> usize {
        match name {
            CommandName::Help => 0,
            CommandName::Rescan => 1,
            CommandName::Recreate => 2,
            CommandName::Explain => 3,
            CommandName::AcceptRisk => 4,
            CommandName::Revoke => 5,
            CommandName::Ignore => 6,
            CommandName::Unignore => 7,
        }
    }

    #[test]
    fn all_lists_every_name_once_in_order() {
        for (i, name) in CommandName::ALL.into_iter().enumerate() {
            assert_eq!(position(name), i);
            assert_eq!(CommandName::parse(name.as_str()), Some(name));
            assert!(usage(name).starts_with(name.as_str()));
        }
    }

    #[test]
    fn nearest_is_a_typo_or_nothing() {
        assert_eq!(CommandName::nearest("rescna"), Some(CommandName::Rescan));
        assert_eq!(CommandName::nearest("RESCAM"), Some(CommandName::Rescan));
        assert_eq!(
            CommandName::nearest("accept_risk"),
            Some(CommandName::AcceptRisk)
        );
        assert_eq!(CommandName::nearest("hlep"), Some(CommandName::Help));
        assert_eq!(CommandName::nearest("deploy"), None);
        assert_eq!(CommandName::nearest("merge"), None);
    }
}
