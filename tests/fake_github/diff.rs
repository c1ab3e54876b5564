//! The diff GitHub shows for one file of a pull request (unified, 3 lines of context), which
//! head-side lines a review comment may sit on, and where a line moved to in a later version
//! (an unchanged line keeps its comment; a changed one makes it outdated).

use similar::{DiffOp, TextDiff};

/// Lines of context GitHub shows around each change.
pub const CONTEXT: usize = 3;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hunk {
    /// First and last head-side line the hunk shows (1-based, inclusive).
    pub first: u32,
    pub last: u32,
    /// The hunk as a review comment's `diff_hunk` carries it: header and lines.
    pub text: String,
}

/// The hunks of `old → new` that show at least one head-side line (a hunk that only deletes
/// has nothing to comment on from the RIGHT side).
pub fn hunks(old: &str, new: &str) -> Vec<Hunk> {
    let diff = TextDiff::from_lines(old, new);
    let mut unified = diff.unified_diff();
    unified.context_radius(CONTEXT);
    unified
        .iter_hunks()
        .filter_map(|h| {
            let start = h.ops().first()?.new_range().start;
            let end = h.ops().last()?.new_range().end;
            (end > start).then(|| Hunk {
                first: start as u32 + 1,
                last: end as u32,
                text: h.to_string(),
            })
        })
        .collect()
}

/// The hunk holding every line of `first..=last`, if one does.
pub fn hunk_for(hunks: &[Hunk], first: u32, last: u32) -> Option<&Hunk> {
    hunks.iter().find(|h| h.first <= first && last <= h.last)
}

/// Line `line` of `old`, numbered as in `new`, when the diff leaves it untouched.
pub fn map_line(old: &str, new: &str, line: u32) -> Option<u32> {
    let i = (line as usize).checked_sub(1)?;
    TextDiff::from_lines(old, new)
        .ops()
        .iter()
        .find_map(|op| match *op {
            DiffOp::Equal {
                old_index,
                new_index,
                len,
            } if (old_index..old_index + len).contains(&i) => {
                Some((new_index + i - old_index) as u32 + 1)
            }
            _ => None,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numbered(n: u32) -> String {
        (1..=n).map(|i| format!("line {i}\n")).collect()
    }

    #[test]
    fn hunks_show_three_lines_of_context_and_merge_when_they_touch() {
        let old = numbered(30);
        // Lines 5 and 25 change: far apart, two hunks.
        let new = old
            .replace("line 5\n", "five\n")
            .replace("line 25\n", "twenty-five\n");
        let h = hunks(&old, &new);
        assert_eq!(
            h.iter().map(|h| (h.first, h.last)).collect::<Vec<_>>(),
            [(2, 8), (22, 28)]
        );
        assert!(h[0].text.starts_with("@@ -2,7 +2,7 @@\n"), "{}", h[0].text);
        assert!(h[0].text.contains("-line 5\n+five\n"), "{}", h[0].text);
        // Lines 5 and 11 change: 5 unchanged lines between them, fewer than 2 × 3: one hunk.
        let near = old
            .replace("line 5\n", "five\n")
            .replace("line 11\n", "eleven\n");
        let h = hunks(&old, &near);
        assert_eq!(
            h.iter().map(|h| (h.first, h.last)).collect::<Vec<_>>(),
            [(2, 14)]
        );
    }

    #[test]
    fn a_new_file_is_one_hunk_a_deleted_one_has_no_head_side() {
        assert_eq!(
            hunks("", "a\nb\n")
                .iter()
                .map(|h| (h.first, h.last))
                .collect::<Vec<_>>(),
            [(1, 2)]
        );
        assert!(hunks("a\nb\n", "").is_empty());
        assert!(hunks("same\n", "same\n").is_empty());
    }

    #[test]
    fn insertions_shift_the_head_side_numbers() {
        let old = numbered(20);
        let new = old.replace("line 10\n", "line 10\nnew a\nnew b\n");
        let h = hunks(&old, &new);
        assert_eq!((h[0].first, h[0].last), (8, 15));
        assert!(hunk_for(&h, 8, 15).is_some());
        assert!(hunk_for(&h, 7, 9).is_none());
        assert!(hunk_for(&h, 15, 16).is_none());
    }

    #[test]
    fn lines_map_forward_only_when_unchanged() {
        let old = numbered(10);
        let new = old
            .replace("line 2\n", "line 2\ninserted\n")
            .replace("line 6\n", "six\n");
        assert_eq!(map_line(&old, &new, 1), Some(1));
        assert_eq!(map_line(&old, &new, 3), Some(4));
        assert_eq!(map_line(&old, &new, 6), None);
        assert_eq!(map_line(&old, &new, 10), Some(11));
        assert_eq!(map_line(&old, &new, 0), None);
        assert_eq!(map_line(&old, &new, 11), None);
    }
}
