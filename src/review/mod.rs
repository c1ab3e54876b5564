//! Feedback on a pull request, as pure functions of two scans and two sets of files: what the
//! change introduces, worsens and fixes (`compare`), the head lines a review comment may sit on
//! and a fix as a one-click suggestion (`lines`), the review comments and how they replace the
//! bot's earlier ones (`comments`), and the pull request's check run (`check`).
//!
//! Nothing here does I/O or reads a clock: the service fetches, scans and posts.

pub mod comments;
pub mod compare;
pub mod lines;

pub use comments::{
    ExistingComment, Placement, Placements, PlannedComment, Proposal, Reconciled, ReviewPlan,
    plan_review, reconcile,
};
pub use compare::{Change, ChangeSet, Worsened, compare};
pub use lines::{Suggestion, apply_suggestion, commentable_lines, suggestion};
