//! The hosting side: a local checkout (walk, write, commit a branch with gix when built with
//! the `git` feature) and, for the service, GitHub.

pub mod git_branch;
pub mod github;
pub mod hosted;
pub mod local;
