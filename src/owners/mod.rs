//! CODEOWNERS: who owns the files a fix PR touches, by GitHub's rules (issue 4).
//!
//! Pure: the caller reads the repository's files and decides what to do when nobody owns a file
//! (fall back to config). Semantics follow GitHub's "About code owners" page: gitignore patterns
//! with its documented exceptions (no `!`, no `[ ]`, no escaped leading `#`), the last matching
//! line wins, and a line with no owners un-owns what it matches. Lines GitHub would reject are
//! reported with their line number and skipped, as GitHub itself skips them.

mod pattern;

use std::collections::BTreeMap;

use crate::model::FileError;
use pattern::Pattern;

/// Where GitHub looks, in the order it looks: the first one present is the only one used.
pub const LOCATIONS: [&str; 3] = [".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS"];

/// GitHub does not load a CODEOWNERS file of 3 MB or more; nobody is requested then.
pub const MAX_SIZE: usize = 3 * 1024 * 1024;

/// The CODEOWNERS file GitHub would use among `files` (path → contents), as (path, contents).
pub fn locate(files: &BTreeMap<String, String>) -> Option<(&str, &str)> {
    LOCATIONS.iter().find_map(|location| {
        files
            .get_key_value(*location)
            .map(|(path, text)| (path.as_str(), text.as_str()))
    })
}

/// One usable line of a CODEOWNERS file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// 1-based line in the file, so a review comment can say which line assigned whom.
    pub line: u32,
    /// The pattern as written, escapes included.
    pub pattern: String,
    /// `@user`, `@org/team` or an email address, as written. Empty: the line un-owns its paths.
    pub owners: Vec<String>,
    matcher: Pattern,
}

impl Rule {
    pub fn matches(&self, path: &str) -> bool {
        self.matcher.matches(normalise(path))
    }
}

/// A parsed CODEOWNERS file: its usable lines, in file order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CodeOwners {
    rules: Vec<Rule>,
}

impl CodeOwners {
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The line that decides `path`: the last one matching it, owners or not.
    pub fn rule_for(&self, path: &str) -> Option<&Rule> {
        let path = normalise(path);
        self.rules.iter().rev().find(|r| r.matcher.matches(path))
    }

    /// Who owns `path` (repository-relative). `None` when no line matches or the deciding line
    /// has no owners: both mean "no code owner", and the caller falls back to its config.
    pub fn owners_of(&self, path: &str) -> Option<&[String]> {
        self.rule_for(path)
            .map(|r| r.owners.as_slice())
            .filter(|owners| !owners.is_empty())
    }

    /// Everyone owning at least one of `paths`, each once, in order of first appearance. GitHub
    /// names are case-insensitive, so `@Octocat` and `@octocat` are one reviewer (first spelling
    /// kept).
    pub fn owners_for_files(&self, paths: &[&str]) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for owner in paths.iter().filter_map(|p| self.owners_of(p)).flatten() {
            if !out.iter().any(|o| o.eq_ignore_ascii_case(owner)) {
                out.push(owner.clone());
            }
        }
        out
    }
}

/// Paths may come with a leading `/` or `./`; patterns are matched against the bare relative path.
fn normalise(path: &str) -> &str {
    let path = path.strip_prefix("./").unwrap_or(path);
    path.trim_start_matches('/')
}

/// Parses a CODEOWNERS file. `file` names it in the errors. Never fails as a whole: bad lines are
/// reported and skipped, the rest still assign owners.
pub fn parse(file: &str, text: &str) -> (CodeOwners, Vec<FileError>) {
    let error = |line: u32, message: String| FileError {
        file: file.to_string(),
        line,
        message,
        ..Default::default()
    };
    if text.len() >= MAX_SIZE {
        let message = format!(
            "CODEOWNERS is {} bytes; GitHub ignores files of 3 MB or more",
            text.len()
        );
        return (CodeOwners::default(), vec![error(0, message)]);
    }

    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut rules = Vec::new();
    let mut errors = Vec::new();
    for (index, raw_line) in text.lines().enumerate() {
        let line = u32::try_from(index + 1).unwrap_or(u32::MAX);
        let mut tokens = tokens(raw_line).into_iter();
        // A `#` starting a token begins a comment, whether the whole line or after the owners
        // (GitHub's own example has `*.js @js-owner #This is an inline comment.`).
        let Some(pattern) = tokens.next().filter(|t| !t.starts_with('#')) else {
            continue;
        };
        let owners: Vec<String> = tokens
            .take_while(|t| !t.starts_with('#'))
            .map(str::to_string)
            .collect();

        let matcher = match Pattern::new(pattern) {
            Ok(m) => m,
            Err(e) => {
                errors.push(error(line, e.0));
                continue;
            }
        };
        if let Some(bad) = owners.iter().find(|o| !is_owner(o)) {
            // One bad owner spoils the line on GitHub, so it must here too: assigning only the
            // good ones would request reviews GitHub would not.
            errors.push(error(
                line,
                format!("`{bad}` is not an owner: expected @user, @org/team or an email address"),
            ));
            continue;
        }
        rules.push(Rule {
            line,
            pattern: pattern.to_string(),
            owners,
            matcher,
        });
    }
    (CodeOwners { rules }, errors)
}

/// Splits a line on unescaped spaces and tabs; `\ ` stays inside its token (paths with spaces).
fn tokens(line: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    let mut escaped = false;
    for (i, c) in line.char_indices() {
        let blank = !escaped && (c == ' ' || c == '\t');
        escaped = !escaped && c == '\\';
        match (blank, start) {
            (true, Some(s)) => {
                out.push(&line[s..i]);
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push(&line[s..]);
    }
    out
}

/// `@user`, `@org/team` or `user@example.com`. Checked by shape only: whether the account
/// exists and has write access is for GitHub to say, not a pure parser.
pub fn is_owner(owner: &str) -> bool {
    // Usernames: alphanumerics and single inner hyphens; team slugs also allow `_` and `.`.
    let name = |s: &str, extra: &[char]| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || extra.contains(&c))
    };
    if let Some(handle) = owner.strip_prefix('@') {
        return match handle.split_once('/') {
            Some((org, team)) => name(org, &[]) && name(team, &['_', '.']),
            None => name(handle, &[]),
        };
    }
    match owner.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_keep_escaped_blanks() {
        assert_eq!(tokens("a\\ b\t @x  @y "), vec!["a\\ b", "@x", "@y"]);
        assert_eq!(tokens("a\\\\ b"), vec!["a\\\\", "b"]);
        assert!(tokens("   ").is_empty());
    }

    #[test]
    fn owner_shapes() {
        for ok in [
            "@octocat",
            "@octo-org/octocats",
            "@o/team_name",
            "docs@example.com",
        ] {
            assert!(is_owner(ok), "{ok}");
        }
        for bad in [
            "octocat", "@", "@/team", "@org/", "a@b", "@a@b", "@user!", "x@.com",
        ] {
            assert!(!is_owner(bad), "{bad}");
        }
    }
}
