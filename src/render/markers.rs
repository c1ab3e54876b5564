//! The hidden tags the bot writes into what it posts, so that a later run can find its own
//! comments and edit or replace them instead of posting again (bors keeps them with its
//! comments in one place). Every `<!-- patchwright:… -->` the bot writes is made here.

/// Every comment on a finding starts with this, then the finding's identity and ` -->`.
const FINDING_PREFIX: &str = "<!-- patchwright:finding=";

/// The hidden first line of a comment about the finding with `identity` (percent-encoded by
/// `review::compare`, so it never holds `-->`).
pub fn finding(identity: &str) -> String {
    format!("{FINDING_PREFIX}{identity} -->")
}

/// Whether `body` is one of the bot's comments on a finding.
pub fn is_finding_comment(body: &str) -> bool {
    body.starts_with(FINDING_PREFIX)
}

/// The hidden first line of the bot's review bodies.
pub const REVIEW: &str = "<!-- patchwright:review -->";

/// Whether `body` is one of the bot's review bodies.
pub fn is_review_body(body: &str) -> bool {
    body.starts_with(REVIEW)
}

/// The hidden tag of the repository's tracking issue.
pub const TRACKING_ISSUE: &str = "<!-- patchwright:tracking-issue -->";

/// The hidden tag a reply carries, naming the comment it answers.
pub fn reply_to(comment_id: u64) -> String {
    format!("<!-- patchwright:reply-to={comment_id} -->")
}
