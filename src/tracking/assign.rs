//! Who answers for a file, and how to hand that to GitHub: CODEOWNERS first, the org config's
//! fallback list otherwise; then split into the shapes GitHub's APIs accept (issue assignees are
//! users only, review requests take users and team slugs, everything else can only be mentioned).

use crate::owners::CodeOwners;

/// GitHub's limit on assignees per issue; more are refused with a 422.
pub const MAX_ASSIGNEES: usize = 10;

/// The owners of one file and why they are the owners.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owners {
    /// `@user`, `@org/team` or an email address, as written where they came from. Empty when
    /// neither CODEOWNERS nor the fallback names anyone.
    pub owners: Vec<String>,
    pub source: OwnerSource,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OwnerSource {
    /// The CODEOWNERS line that decided the file (the last one matching it).
    CodeOwners { line: u32, pattern: String },
    /// Nobody in CODEOWNERS owns the file, so the configured fallback applies. `unowned_by` is the
    /// line that matched the file but names no owners, when that is the reason: a person reading
    /// "fallback" for a file they thought was owned needs to know which line took it away.
    Fallback { unowned_by: Option<u32> },
}

/// The owners of `file` (repository-relative): CODEOWNERS' deciding line when it names owners,
/// else `fallback`.
pub fn owners_for_file(codeowners: Option<&CodeOwners>, file: &str, fallback: &[String]) -> Owners {
    let rule = codeowners.and_then(|c| c.rule_for(file));
    match rule {
        Some(rule) if !rule.owners.is_empty() => Owners {
            owners: rule.owners.clone(),
            source: OwnerSource::CodeOwners {
                line: rule.line,
                pattern: rule.pattern.clone(),
            },
        },
        _ => Owners {
            owners: fallback.to_vec(),
            source: OwnerSource::Fallback {
                unowned_by: rule.map(|r| r.line),
            },
        },
    }
}

/// Owners split by what each GitHub API takes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Assignment {
    /// Logins without `@`, at most [`MAX_ASSIGNEES`]: issue assignees and requested reviewers.
    pub users: Vec<String>,
    /// Team slugs without the org, for `requested_reviewers`' `team_reviewers`.
    pub teams: Vec<String>,
    /// `@org/team`, email addresses, and any users past the assignee limit: written in the issue
    /// body, because issues cannot be assigned to teams or to emails.
    pub mentions: Vec<String>,
}

impl Assignment {
    pub fn is_empty(&self) -> bool {
        self.users.is_empty() && self.teams.is_empty() && self.mentions.is_empty()
    }
}

/// Splits `owners` (as CODEOWNERS writes them) into users, teams and mentions. `exclude_login` is
/// left out wherever it appears (with or without `@`, any case): the bot, and for review requests
/// the pull request's author, whom GitHub refuses to request. Duplicates are dropped
/// case-insensitively (GitHub names are), first spelling and first position kept.
pub fn assignment(owners: &[String], exclude_login: &str) -> Assignment {
    let excluded = exclude_login.trim().trim_start_matches('@');
    let mut out = Assignment::default();
    let mut seen: Vec<&str> = Vec::new();
    for owner in owners {
        let owner = owner.trim();
        if owner.is_empty() || seen.iter().any(|s| s.eq_ignore_ascii_case(owner)) {
            continue;
        }
        seen.push(owner);
        match owner.strip_prefix('@') {
            Some(handle) => match handle.split_once('/') {
                Some((org, team)) if !org.is_empty() && !team.is_empty() => {
                    out.teams.push(team.to_string());
                    out.mentions.push(owner.to_string());
                }
                Some(_) => {}
                None if !excluded.is_empty() && handle.eq_ignore_ascii_case(excluded) => {}
                None if out.users.len() < MAX_ASSIGNEES => out.users.push(handle.to_string()),
                // Past the limit the person is still told, in the body, rather than dropped.
                None => out.mentions.push(owner.to_string()),
            },
            None if owner.contains('@') => out.mentions.push(owner.to_string()),
            // Neither a handle nor an email (CODEOWNERS parsing rejects these; config may not).
            None => {}
        }
    }
    out
}

/// Whom to request as reviewers of a fix PR touching `files`: each file's CODEOWNERS owners, or
/// `fallback` for a file nobody owns, without the PR's `author`.
pub fn reviewers_for_files(
    codeowners: Option<&CodeOwners>,
    files: &[&str],
    fallback: &[String],
    author: &str,
) -> Assignment {
    let owners: Vec<String> = files
        .iter()
        .flat_map(|file| owners_for_file(codeowners, file, fallback).owners)
        .collect();
    assignment(&owners, author)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::owners;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    fn parse(text: &str) -> CodeOwners {
        let (co, errors) = owners::parse(".github/CODEOWNERS", text);
        assert!(errors.is_empty(), "{errors:?}");
        co
    }

    #[test]
    fn owners_split_into_users_teams_and_mentions() {
        let a = assignment(
            &strings(&["@alice", "@acme/security", "dev@example.com", "@bob"]),
            "",
        );
        assert_eq!(a.users, strings(&["alice", "bob"]));
        assert_eq!(a.teams, strings(&["security"]));
        assert_eq!(a.mentions, strings(&["@acme/security", "dev@example.com"]));
    }

    #[test]
    fn the_excluded_login_is_left_out_however_it_is_spelled() {
        for exclude in ["alice", "@alice", "ALICE", " alice "] {
            let a = assignment(&strings(&["@Alice", "@bob"]), exclude);
            assert_eq!(a.users, strings(&["bob"]), "{exclude:?}");
        }
        // A team whose slug equals the login is not the login.
        let a = assignment(&strings(&["@acme/alice"]), "alice");
        assert_eq!(a.teams, strings(&["alice"]));
    }

    #[test]
    fn duplicates_go_case_insensitively_keeping_the_first_spelling_and_order() {
        let a = assignment(
            &strings(&[
                "@Carol",
                "@alice",
                "@carol",
                "@acme/Ops",
                "@acme/ops",
                "X@example.com",
                "x@example.com",
            ]),
            "",
        );
        assert_eq!(a.users, strings(&["Carol", "alice"]));
        assert_eq!(a.teams, strings(&["Ops"]));
        assert_eq!(a.mentions, strings(&["@acme/Ops", "X@example.com"]));
    }

    #[test]
    fn users_are_capped_at_the_assignee_limit_and_the_rest_are_mentioned() {
        let owners: Vec<String> = (1..=12).map(|i| format!("@user{i}")).collect();
        let a = assignment(&owners, "user3");
        assert_eq!(a.users.len(), MAX_ASSIGNEES);
        assert_eq!(a.users.first().map(String::as_str), Some("user1"));
        assert_eq!(a.users.last().map(String::as_str), Some("user11"));
        assert!(!a.users.iter().any(|u| u == "user3"));
        assert_eq!(a.mentions, strings(&["@user12"]));
    }

    #[test]
    fn malformed_owners_from_config_are_skipped() {
        let a = assignment(&strings(&["", "  ", "alice", "@acme/", "@carol"]), "");
        assert_eq!(a.users, strings(&["carol"]));
        assert!(a.teams.is_empty() && a.mentions.is_empty());
    }

    #[test]
    fn the_last_matching_line_decides_and_is_named() {
        let co = parse("* @everyone-team\n/services/ @acme/backend\n/services/api/ @alice\n");
        let owners = owners_for_file(Some(&co), "services/api/package-lock.json", &[]);
        assert_eq!(owners.owners, strings(&["@alice"]));
        assert_eq!(
            owners.source,
            OwnerSource::CodeOwners {
                line: 3,
                pattern: "/services/api/".to_string()
            }
        );
        let owners = owners_for_file(Some(&co), "services/web/Dockerfile", &[]);
        assert_eq!(owners.owners, strings(&["@acme/backend"]));
    }

    #[test]
    fn fallback_when_no_line_matches_or_a_later_line_unowns_the_file() {
        let fallback = strings(&["@acme/security", "@alice"]);
        let co = parse("/services/ @acme/backend\n/services/legacy/\n");

        let nobody = owners_for_file(Some(&co), "tools/go.mod", &fallback);
        assert_eq!(nobody.owners, fallback);
        assert_eq!(nobody.source, OwnerSource::Fallback { unowned_by: None });

        let unowned = owners_for_file(Some(&co), "services/legacy/requirements.txt", &fallback);
        assert_eq!(unowned.owners, fallback);
        assert_eq!(
            unowned.source,
            OwnerSource::Fallback {
                unowned_by: Some(2)
            }
        );

        let no_file = owners_for_file(None, "services/api/go.mod", &fallback);
        assert_eq!(no_file.owners, fallback);
    }

    #[test]
    fn reviewers_cover_every_file_without_the_author() {
        let co = parse("*.lock @alice @acme/rust\n/web/ @bob\n/legacy/\n");
        let fallback = strings(&["@acme/security"]);
        let a = reviewers_for_files(
            Some(&co),
            &["Cargo.lock", "web/package-lock.json", "legacy/go.mod"],
            &fallback,
            "bob",
        );
        assert_eq!(a.users, strings(&["alice"]));
        assert_eq!(a.teams, strings(&["rust", "security"]));

        // The fallback is used once however many files fall back to it.
        let a = reviewers_for_files(None, &["a/go.mod", "b/go.mod"], &fallback, "bot");
        assert_eq!(a.teams, strings(&["security"]));
        assert!(a.users.is_empty());
    }
}
