//! Unified diffs for `fix --dry-run`, with `similar` (the diff library insta and many others use).

use similar::TextDiff;

pub fn unified(file: &str, old: &str, new: &str) -> String {
    TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{file}"), &format!("b/{file}"))
        .to_string()
}
