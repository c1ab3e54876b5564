//! Lines of a pull request: which head lines GitHub lets a review comment sit on, and a fix's
//! edits as a suggestion that replaces whole lines.

use crate::model::{Edit, Fix, Span};
use crate::remedy::apply_edits;
use similar::{Algorithm, DiffOp, capture_diff_slices, group_diff_ops};
use std::collections::BTreeSet;

/// The context lines GitHub shows around each change; only they and the added lines take
/// comments.
pub const DIFF_CONTEXT: usize = 3;

/// A suggestion longer than this is harder to review than to type, and more likely to cross an
/// unrelated change: the comment says what to change instead.
pub const MAX_SUGGESTION_LINES: u32 = 10;

/// 1-based head line numbers that lie inside the pull request's diff hunks: added lines and the
/// context around them. A file new in the head (`base_text` is `None`) is all added lines.
///
/// Lines are split at `\n` only, as git does (a lone `\r` is part of the line), and diffed with
/// Myers, git's default algorithm.
pub fn commentable_lines(base_text: Option<&str>, head_text: &str) -> BTreeSet<u32> {
    let head: Vec<&str> = head_text.split_inclusive('\n').collect();
    let Some(base_text) = base_text else {
        return (0..head.len()).map(line_number).collect();
    };
    let base: Vec<&str> = base_text.split_inclusive('\n').collect();
    let ops = capture_diff_slices(Algorithm::Myers, &base, &head);
    group_diff_ops(ops, DIFF_CONTEXT)
        .into_iter()
        .filter(|hunk| hunk.iter().any(|op| !matches!(op, DiffOp::Equal { .. })))
        .flatten()
        .flat_map(|op| op.new_range())
        .map(line_number)
        .collect()
}

fn line_number(index: usize) -> u32 {
    u32::try_from(index + 1).unwrap_or(u32::MAX)
}

/// A GitHub suggestion: head lines `start_line..=end_line` become `lines`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suggestion {
    pub start_line: u32,
    pub end_line: u32,
    /// The new text of those lines, without the last line's terminator (the file keeps its own);
    /// lines inside are separated as in the file (`\n` or `\r\n`).
    pub lines: String,
}

/// The fix's edits as one suggestion, when they all fall in `path` within one block of at most
/// [`MAX_SUGGESTION_LINES`] whole lines. Applying it with [`apply_suggestion`] gives exactly
/// what [`apply_edits`] gives.
pub fn suggestion(head_text: &str, fix: &Fix, path: &str) -> Option<Suggestion> {
    try_suggestion(head_text, fix, path).ok()
}

/// [`suggestion`], or why there is none, in words for the comment.
pub fn try_suggestion(head_text: &str, fix: &Fix, path: &str) -> Result<Suggestion, String> {
    if fix.relock.is_some() || fix.edits.is_empty() {
        return Err("the fix needs the package manager to re-lock".to_string());
    }
    if let Some(other) = fix.edits.iter().find(|e| e.file != path) {
        return Err(format!(
            "the fix also changes `{}`, which one suggestion can't cover",
            other.file
        ));
    }
    let index = LineIndex::new(head_text);
    let bad_edit = || "the fix's edits do not fit the file as it is on this branch".to_string();
    let mut first = u32::MAX;
    let mut last = 0;
    for edit in &fix.edits {
        let Span { start, end } = edit.span;
        if start > end || end > head_text.len() {
            return Err(bad_edit());
        }
        first = first.min(index.line_of(start));
        // The last byte an edit replaces; an insertion sits at its own position.
        last = last.max(index.line_of(end.saturating_sub(1).max(start)));
    }
    // An edit that replaces a line's terminator joins it with the next line: take that one too.
    let reach = fix.edits.iter().map(|e| e.span.end).max().unwrap_or(0);
    while last < index.count() && reach > index.content_end(last) {
        last += 1;
    }
    if last > index.count() || reach > index.content_end(last) {
        // An insertion after the final newline, or an edit of the file's last terminator: no
        // line to put a suggestion on.
        return Err(bad_edit());
    }
    if last - first + 1 > MAX_SUGGESTION_LINES {
        return Err(format!(
            "the fix spans {} lines, too many for one suggestion",
            last - first + 1
        ));
    }
    let block_start = index.start(first);
    let block_end = index.content_end(last);
    let local: Vec<Edit> = fix
        .edits
        .iter()
        .map(|e| Edit {
            file: e.file.clone(),
            span: Span::new(e.span.start - block_start, e.span.end - block_start),
            replacement: e.replacement.clone(),
        })
        .collect();
    let block = head_text.get(block_start..block_end).ok_or_else(bad_edit)?;
    let lines = apply_edits(block, &local).map_err(|_| bad_edit())?;
    if lines.is_empty() {
        // GitHub takes an empty suggestion as "delete these lines", not "empty them".
        return Err("the fix empties the line, which a suggestion can't express".to_string());
    }
    Ok(Suggestion {
        start_line: first,
        end_line: last,
        lines,
    })
}

/// What accepting the suggestion does to the file, counted in lines (as GitHub does): lines
/// `start_line..=end_line` are replaced by `lines`, and the last of them keeps its terminator.
/// `None` when the lines are not in the file.
pub fn apply_suggestion(head_text: &str, s: &Suggestion) -> Option<String> {
    let lines: Vec<&str> = head_text.split_inclusive('\n').collect();
    let start = usize::try_from(s.start_line).ok()?;
    let end = usize::try_from(s.end_line).ok()?;
    if start == 0 || start > end || end > lines.len() {
        return None;
    }
    let last = lines[end - 1];
    let terminator = if last.ends_with("\r\n") {
        "\r\n"
    } else if last.ends_with('\n') {
        "\n"
    } else {
        ""
    };
    let mut out = lines[..start - 1].concat();
    out.push_str(&s.lines);
    out.push_str(terminator);
    out.push_str(&lines[end..].concat());
    Some(out)
}

/// The 1-based lines of `head_text` that the fix's edits in `path` touch, in order, once each.
pub fn edit_lines(head_text: &str, fix: &Fix, path: &str) -> Vec<u32> {
    let index = LineIndex::new(head_text);
    let lines: BTreeSet<u32> = fix
        .edits
        .iter()
        .filter(|e| e.file == path && e.span.start <= head_text.len())
        .map(|e| index.line_of(e.span.start))
        .collect();
    lines.into_iter().collect()
}

/// The fence for a suggestion block: longer than any run of backticks in the content, so a
/// line of three backticks in the fixed text cannot close the block early.
pub fn suggestion_fence(lines: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in lines.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    "`".repeat((longest + 1).max(3))
}

/// Byte offsets of line starts, for turning spans into line numbers and back.
struct LineIndex<'a> {
    text: &'a str,
    /// Start of every line; a final newline does not start another line.
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    fn new(text: &'a str) -> LineIndex<'a> {
        let mut starts = vec![0];
        starts.extend(
            text.bytes()
                .enumerate()
                .filter(|&(i, b)| b == b'\n' && i + 1 < text.len())
                .map(|(i, _)| i + 1),
        );
        if text.is_empty() {
            starts.clear();
        }
        LineIndex { text, starts }
    }

    fn count(&self) -> u32 {
        line_number(self.starts.len()) - 1
    }

    /// The 1-based line `offset` is on; the end of a file that ends with a newline counts as
    /// the line after the last.
    fn line_of(&self, offset: usize) -> u32 {
        // Every line starting at or before `offset` precedes it or holds it.
        let line = u32::try_from(self.starts.partition_point(|&s| s <= offset)).unwrap_or(u32::MAX);
        if offset >= self.text.len() && self.text.ends_with('\n') {
            self.count() + 1
        } else {
            line.max(1)
        }
    }

    /// Byte offset where `line` starts (1-based, must exist).
    fn start(&self, line: u32) -> usize {
        self.starts
            .get(line as usize - 1)
            .copied()
            .unwrap_or(self.text.len())
    }

    /// Byte offset where `line`'s content ends: before its `\n` or `\r\n`.
    fn content_end(&self, line: u32) -> usize {
        let next = self
            .starts
            .get(line as usize)
            .copied()
            .unwrap_or(self.text.len());
        let content = &self.text[self.start(line).min(next)..next];
        // A `\r` ends the line only as part of `\r\n`; alone it is content.
        let content = match content.strip_suffix('\n') {
            Some(line) => line.strip_suffix('\r').unwrap_or(line),
            None => content,
        };
        self.start(line).min(next) + content.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ChangeKind;

    fn fix(edits: &[(usize, usize, &str)]) -> Fix {
        Fix {
            from: "16".to_string(),
            to: "22".to_string(),
            change: ChangeKind::Major,
            edits: edits
                .iter()
                .map(|&(start, end, r)| Edit {
                    file: "Dockerfile".to_string(),
                    span: Span::new(start, end),
                    replacement: r.to_string(),
                })
                .collect(),
            relock: None,
            clears: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// The edit that replaces the first `needle` in `text` by `replacement`.
    fn replace(text: &str, needle: &str, replacement: &str) -> (usize, usize, String) {
        let start = text.find(needle).expect("needle in text");
        (start, start + needle.len(), replacement.to_string())
    }

    /// The property that makes a suggestion safe to accept: it gives what applying the edits
    /// gives, byte for byte.
    fn assert_exact(text: &str, fix: &Fix) -> Suggestion {
        let s = suggestion(text, fix, "Dockerfile").expect("a suggestion");
        let via_lines = apply_suggestion(text, &s).expect("the lines exist");
        let via_edits = apply_edits(text, &fix.edits).unwrap();
        assert_eq!(via_lines, via_edits, "{s:?}");
        s
    }

    fn fix_of(text: &str, edits: &[(&str, &str)]) -> Fix {
        let owned: Vec<(usize, usize, String)> =
            edits.iter().map(|(n, r)| replace(text, n, r)).collect();
        let borrowed: Vec<(usize, usize, &str)> =
            owned.iter().map(|(s, e, r)| (*s, *e, r.as_str())).collect();
        fix(&borrowed)
    }

    #[test]
    fn a_single_line_edit_is_that_line() {
        let text = "# app\nFROM node:16-alpine\nRUN npm ci\n";
        let s = assert_exact(text, &fix_of(text, &[("16", "22")]));
        assert_eq!((s.start_line, s.end_line), (2, 2));
        assert_eq!(s.lines, "FROM node:22-alpine");
    }

    #[test]
    fn crlf_files_keep_their_line_endings() {
        let text = "# app\r\nFROM node:16\r\nRUN npm ci\r\n";
        let s = assert_exact(text, &fix_of(text, &[("16", "22-alpine")]));
        assert_eq!(s.lines, "FROM node:22-alpine");
        // Two lines in a CRLF file: the line break inside stays CRLF.
        let text = "FROM node:16 \\\r\n  AS build\r\nRUN x\r\n";
        let s = assert_exact(text, &fix_of(text, &[("16", "22"), ("build", "builder")]));
        assert_eq!((s.start_line, s.end_line), (1, 2));
        assert_eq!(s.lines, "FROM node:22 \\\r\n  AS builder");
    }

    #[test]
    fn a_file_without_a_trailing_newline_and_an_edit_on_its_last_line() {
        let text = "# app\nFROM node:16";
        let s = assert_exact(text, &fix_of(text, &[("16", "22")]));
        assert_eq!(
            (s.start_line, s.end_line, s.lines.as_str()),
            (2, 2, "FROM node:22")
        );
        // An edit at the very end of the file (an insertion after the last byte).
        let text = "FROM node:16";
        let s = assert_exact(text, &fix(&[(12, 12, "-alpine")]));
        assert_eq!((s.start_line, s.lines.as_str()), (1, "FROM node:16-alpine"));
        // The last line with a trailing newline.
        let text = "# app\nFROM node:16\n";
        let s = assert_exact(text, &fix_of(text, &[("16", "22")]));
        assert_eq!((s.start_line, s.end_line), (2, 2));
    }

    #[test]
    fn a_multi_line_from_with_a_continuation_suggests_the_line_with_the_tag() {
        let text = "FROM \\\n  node:16-alpine \\\n  AS build\nRUN npm ci\n";
        let s = assert_exact(text, &fix_of(text, &[("16", "22")]));
        assert_eq!((s.start_line, s.end_line), (2, 2));
        assert_eq!(s.lines, "  node:22-alpine \\");
    }

    #[test]
    fn an_arg_default_is_fixed_where_the_arg_is() {
        let text = "ARG NODE_VERSION=16\nFROM node:${NODE_VERSION}-alpine\n";
        let s = assert_exact(text, &fix_of(text, &[("16", "22")]));
        assert_eq!((s.start_line, s.lines.as_str()), (1, "ARG NODE_VERSION=22"));
    }

    #[test]
    fn edits_on_several_lines_make_one_block() {
        let text = "ARG V=16\nFROM node:${V}\nRUN a\nFROM python:3.8\n";
        let s = assert_exact(text, &fix_of(text, &[("16", "22"), ("3.8", "3.14")]));
        assert_eq!((s.start_line, s.end_line), (1, 4));
        assert_eq!(s.lines, "ARG V=22\nFROM node:${V}\nRUN a\nFROM python:3.14");
    }

    #[test]
    fn an_edit_that_joins_lines_takes_the_next_line_too() {
        let text = "FROM node:16 \\\n  AS build\nRUN x\n";
        let start = text.find(" \\\n").unwrap();
        let f = fix(&[(start, start + 5, " ")]);
        let s = assert_exact(text, &f);
        assert_eq!((s.start_line, s.end_line), (1, 2));
        assert_eq!(s.lines, "FROM node:16 AS build");
    }

    #[test]
    fn no_suggestion_when_it_would_not_be_exact_or_reviewable() {
        let text = "FROM node:16\n";
        // Edits in another file.
        let mut other = fix_of(text, &[("16", "22")]);
        other.edits[0].file = "other/Dockerfile".to_string();
        assert!(
            try_suggestion(text, &other, "Dockerfile")
                .unwrap_err()
                .contains("other/Dockerfile")
        );
        // A re-lock fix.
        let mut relock = fix(&[]);
        relock.relock = Some("npm install lodash@4.17.21".to_string());
        assert_eq!(suggestion(text, &relock, "Dockerfile"), None);
        // An insertion after the final newline, and an edit of the last newline.
        assert_eq!(
            suggestion(text, &fix(&[(13, 13, "USER app\n")]), "Dockerfile"),
            None
        );
        assert_eq!(suggestion(text, &fix(&[(12, 13, "")]), "Dockerfile"), None);
        // Out of bounds.
        assert_eq!(suggestion(text, &fix(&[(10, 99, "x")]), "Dockerfile"), None);
        // Too many lines apart.
        let long: String = (0..12).map(|i| format!("RUN step {i}\n")).collect();
        let far = fix_of(&long, &[("step 0", "a"), ("step 11", "b")]);
        assert!(
            try_suggestion(&long, &far, "Dockerfile")
                .unwrap_err()
                .contains("12 lines")
        );
        // Emptying the line.
        assert_eq!(suggestion(text, &fix(&[(0, 12, "")]), "Dockerfile"), None);
    }

    proptest::proptest! {
        /// Whatever the text, its line endings and the edits: a suggestion, when there is one,
        /// gives exactly what the edits give, and stays within the file's lines.
        #[test]
        fn suggestions_are_exact(
            text in "([a-z:.${}=\\\\ `-]{0,12}(\r?\n|\r)){0,8}[a-z:. -]{0,6}",
            raw in proptest::collection::vec((0usize..120, 0usize..6, "[a-z0-9\n]{0,4}"), 1..4),
        ) {
            // Non-overlapping spans on character boundaries (the text is ASCII), in order.
            let mut edits: Vec<(usize, usize, &str)> = Vec::new();
            let mut cursor = 0;
            for (gap, len, replacement) in &raw {
                let start = cursor + gap % (text.len() + 1 - cursor).max(1);
                let start = start.min(text.len());
                let end = (start + len).min(text.len());
                edits.push((start, end, replacement.as_str()));
                cursor = end + 1;
                if cursor > text.len() {
                    break;
                }
            }
            let f = fix(&edits);
            let via_edits = apply_edits(&text, &f.edits);
            if let Some(s) = suggestion(&text, &f, "Dockerfile") {
                let lines = text.split_inclusive('\n').count() as u32;
                proptest::prop_assert!(1 <= s.start_line && s.start_line <= s.end_line);
                proptest::prop_assert!(s.end_line <= lines);
                proptest::prop_assert!(s.end_line - s.start_line < MAX_SUGGESTION_LINES);
                proptest::prop_assert_eq!(apply_suggestion(&text, &s), via_edits.ok());
            }
        }
    }

    #[test]
    fn apply_suggestion_rejects_lines_outside_the_file() {
        let s = |start, end| Suggestion {
            start_line: start,
            end_line: end,
            lines: "x".to_string(),
        };
        assert_eq!(apply_suggestion("a\nb\n", &s(0, 1)), None);
        assert_eq!(apply_suggestion("a\nb\n", &s(2, 3)), None);
        assert_eq!(apply_suggestion("a\nb\n", &s(2, 1)), None);
        assert_eq!(
            apply_suggestion("a\nb\n", &s(2, 2)).as_deref(),
            Some("a\nx\n")
        );
    }

    #[test]
    fn edit_lines_names_each_touched_line_once() {
        let text = "ARG V=16\nFROM node:${V}\nFROM node:16\n";
        let f = fix_of(text, &[("16", "22"), ("node:16", "node:22")]);
        assert_eq!(edit_lines(text, &f, "Dockerfile"), [1, 3]);
        assert_eq!(edit_lines(text, &f, "other"), Vec::<u32>::new());
    }

    #[test]
    fn the_fence_is_longer_than_any_backtick_run() {
        assert_eq!(suggestion_fence("FROM node:22"), "```");
        assert_eq!(suggestion_fence("RUN echo ```"), "````");
        assert_eq!(suggestion_fence("```\n````x"), "`````");
    }

    #[test]
    fn a_new_file_is_commentable_everywhere() {
        assert_eq!(
            commentable_lines(None, "a\nb\nc"),
            BTreeSet::from([1, 2, 3])
        );
        assert_eq!(commentable_lines(None, ""), BTreeSet::new());
    }

    #[test]
    fn an_unchanged_file_has_no_commentable_lines() {
        let text = "a\nb\nc\n";
        assert_eq!(commentable_lines(Some(text), text), BTreeSet::new());
    }

    #[test]
    fn a_change_is_commentable_with_three_lines_of_context() {
        let base: String = (1..=20).map(|i| format!("line {i}\n")).collect();
        let head = base.replace("line 10\n", "line ten\n");
        let lines: Vec<u32> = commentable_lines(Some(&base), &head).into_iter().collect();
        assert_eq!(lines, (7..=13).collect::<Vec<u32>>());
        // An added line shifts the rest; lines are counted on the head side.
        let head = base.replace("line 10\n", "line 10\nnew\n");
        let lines: Vec<u32> = commentable_lines(Some(&base), &head).into_iter().collect();
        assert_eq!(lines, (8..=14).collect::<Vec<u32>>());
        // A deletion leaves its context commentable, nothing else.
        let head = base.replace("line 10\n", "");
        let lines: Vec<u32> = commentable_lines(Some(&base), &head).into_iter().collect();
        assert_eq!(lines, (7..=12).collect::<Vec<u32>>());
    }

    #[test]
    fn two_changes_far_apart_are_two_hunks() {
        let base: String = (1..=30).map(|i| format!("line {i}\n")).collect();
        let head = base
            .replace("line 2\n", "two\n")
            .replace("line 25\n", "twenty-five\n");
        let lines: Vec<u32> = commentable_lines(Some(&base), &head).into_iter().collect();
        let expected: Vec<u32> = (1..=5).chain(22..=28).collect();
        assert_eq!(lines, expected);
    }

    #[test]
    fn a_lone_carriage_return_does_not_split_a_line() {
        // git counts lines by `\n` only; so must the line numbers we comment on.
        let base = "a\rb\nc\n";
        let head = "a\rb\nc changed\n";
        assert_eq!(commentable_lines(Some(base), head), BTreeSet::from([1, 2]));
    }

    #[test]
    fn a_missing_final_newline_is_a_change_of_the_last_line() {
        let base = "a\nb\nc\nd\ne";
        let head = "a\nb\nc\nd\ne\n";
        assert_eq!(
            commentable_lines(Some(base), head),
            BTreeSet::from([2, 3, 4, 5])
        );
    }
}
