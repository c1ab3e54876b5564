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
        let word = word.to_ascii_lowercase();
        CommandName::ALL
            .into_iter()
            .map(|name| (edit_distance(&word, name.as_str()), name))
            .filter(|&(distance, name)| is_typo(distance, name.as_str()))
            .min_by_key(|&(distance, _)| distance)
            .map(|(_, name)| name)
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

/// A distance counts as a typo when it is small against the length of the word: two edits turn
/// `help` into any four-letter word, so short words get one.
pub(crate) fn is_typo(distance: usize, candidate: &str) -> bool {
    distance > 0 && distance <= (candidate.chars().count() / 3).clamp(1, 3)
}

/// Optimal string alignment distance: Levenshtein plus adjacent transpositions, so `rescna` is one
/// edit from `rescan` (the commonest typo is two swapped letters).
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // Long words are not typos of our short command names; bounding the work also keeps hostile
    // comments cheap.
    if a.len().abs_diff(b.len()) > 3 || a.len() > 64 {
        return usize::MAX;
    }
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

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
    fn distances() {
        assert_eq!(edit_distance("rescna", "rescan"), 1);
        assert_eq!(edit_distance("hel", "help"), 1);
        // Lengths this far apart are never typos; the distance is not worked out.
        assert_eq!(edit_distance("", "help"), usize::MAX);
        assert_eq!(edit_distance("recreate", "recreate"), 0);
        assert_eq!(edit_distance("acceptrisk", "accept-risk"), 1);
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
