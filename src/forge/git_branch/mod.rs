//! Commits changed files onto a new branch of a local git repository with gix, without touching
//! the work tree, the index or the current branch. The one seam where this crate uses git, and
//! the only user of gix: built with the `git` feature (on by default), so a service build can
//! leave gix's ~90 crates out (`--no-default-features`).

#[cfg(feature = "git")]
mod with_gix;

#[cfg(feature = "git")]
pub use with_gix::{commit_on_new_branch, read_head};

#[derive(Debug, thiserror::Error)]
pub enum BranchError {
    #[error("{path} is not inside a git repository: {reason}")]
    NotARepository { path: String, reason: String },
    #[error("branch `{0}` already exists; choose another name or delete it first")]
    BranchExists(String),
    #[error("`{0}` is not a valid branch name")]
    BadBranchName(String),
    #[error("the repository has no commit to branch from (HEAD is unborn)")]
    UnbornHead,
    #[error("HEAD moved from {expected} to {found} while the fix was computed; run it again")]
    HeadMoved { expected: String, found: String },
    #[error("git: {0}")]
    Git(String),
    #[error(
        "this patchwright was built without git support (the `git` feature), so it cannot commit on a branch; use --dry-run, or fix in place and commit yourself"
    )]
    NoGitSupport,
}

/// Without the `git` feature there is no branch to commit on: says so instead.
#[cfg(not(feature = "git"))]
pub fn commit_on_new_branch(
    _root: &std::path::Path,
    _branch: &str,
    _base: &str,
    _files: &[(String, String)],
    _message: &str,
) -> Result<String, BranchError> {
    Err(BranchError::NoGitSupport)
}

/// Without the `git` feature the committed files cannot be read: says so instead.
#[cfg(not(feature = "git"))]
pub fn read_head(
    _root: &std::path::Path,
    _keep: impl Fn(&str) -> bool,
) -> Result<crate::snapshot::RepoSnapshot, BranchError> {
    Err(BranchError::NoGitSupport)
}

#[cfg(all(test, not(feature = "git")))]
mod tests {
    use super::*;

    #[test]
    fn without_git_the_branch_option_says_how_to_get_the_fix() {
        let e = commit_on_new_branch(std::path::Path::new("."), "b", "HEAD", &[], "m").unwrap_err();
        assert!(e.to_string().contains("--dry-run"), "{e}");
    }
}
