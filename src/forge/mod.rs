//! The hosting side: a local checkout (walk, write, commit a branch with gix) and, for the
//! service, GitHub.

pub mod git_branch;
pub mod github;
pub mod hosted;
pub mod local;
