//! Which lines of a comment are prose a command may start on.
//!
//! GitHub renders comments as Markdown; a command that shows up inside a code block, an inline
//! code span or a quote is being shown or quoted, not issued (people paste the help text, or
//! quote an earlier command when replying), so those lines are skipped. So are HTML comments:
//! they do not render, and a command nobody can see should not run. What is code, quote or HTML
//! is CommonMark's call, made by `pulldown-cmark`'s offset iterator (as triagebot's command
//! parser does), not by a scanner of our own.

use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag};
use std::ops::Range;

/// A line of the comment, without its line ending, and the byte offset where it starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Line<'a> {
    pub text: &'a str,
    pub offset: usize,
}

/// The non-blank lines whose first character lies outside code blocks, code spans, quotes
/// (lazy continuation lines included) and HTML.
pub(crate) fn prose_lines(body: &str) -> Vec<Line<'_>> {
    let hidden = hidden_ranges(body);
    lines(body)
        .filter(|line| {
            let indent = line.text.len() - line.text.trim_start().len();
            let at = line.offset + indent;
            indent < line.text.len() && !hidden.iter().any(|r| r.contains(&at))
        })
        .collect()
}

/// The byte ranges of everything that is shown or hidden rather than said. Indented code
/// blocks are not among them: a command typed after a tab or four spaces (phones, pasted
/// text) is still meant, while nobody fences a command they mean to run.
fn hidden_ranges(body: &str) -> Vec<Range<usize>> {
    Parser::new_ext(body, Options::empty())
        .into_offset_iter()
        .filter(|(event, _)| {
            matches!(
                event,
                Event::Start(
                    Tag::CodeBlock(CodeBlockKind::Fenced(_)) | Tag::BlockQuote(_) | Tag::HtmlBlock
                ) | Event::Code(_)
                    | Event::InlineHtml(_)
                    | Event::Html(_)
            )
        })
        .map(|(_, range)| range)
        .collect()
}

/// Splits on `\n`, dropping a `\r` before it, keeping each line's byte offset.
fn lines(body: &str) -> impl Iterator<Item = Line<'_>> {
    let mut offset = 0;
    body.split_inclusive('\n').map(move |raw| {
        let start = offset;
        offset += raw.len();
        let text = raw.strip_suffix('\n').unwrap_or(raw);
        let text = text.strip_suffix('\r').unwrap_or(text);
        Line {
            text,
            offset: start,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(body: &str) -> Vec<&str> {
        prose_lines(body).into_iter().map(|l| l.text).collect()
    }

    #[test]
    fn fences_need_a_matching_closer() {
        let body = "a\n````\n```\nb\n```\nc\n````\nd\n~~~ sh\ne\n~~~\nf";
        assert_eq!(texts(body), ["a", "d", "f"]);
    }

    #[test]
    fn html_comments_are_skipped() {
        let body = "a\n<!-- hidden\nb\n-->\nc\n<!-- one line -->\nd";
        assert_eq!(texts(body), ["a", "c", "d"]);
    }

    #[test]
    fn an_html_comment_opened_mid_line_hides_the_lines_it_spans() {
        // Nothing of it renders, so a command inside was never seen by anyone.
        let body = "text <!-- draft\n@bot rescan\n--> more\nprose";
        assert_eq!(texts(body), ["text <!-- draft", "prose"]);
    }

    #[test]
    fn a_fence_inside_a_list_item_is_still_code() {
        let body = "- steps:\n  ```\n  @bot rescan\n  ```\n\n@bot help";
        assert_eq!(texts(body), ["- steps:", "@bot help"]);
    }

    #[test]
    fn unclosed_fence_runs_to_the_end() {
        assert_eq!(texts("a\n```\nb\nc"), ["a"]);
    }

    #[test]
    fn quotes_and_their_lazy_continuations_are_skipped() {
        let body = "> quoted\nlazy\n\nafter\n  > indented quote";
        assert_eq!(texts(body), ["after"]);
    }

    #[test]
    fn lines_inside_a_multi_line_code_span_are_skipped() {
        let body = "see `code\nstill code` done\nprose\n\nan ` unmatched\nprose again";
        assert_eq!(
            texts(body),
            ["see `code", "prose", "an ` unmatched", "prose again"]
        );
    }

    #[test]
    fn offsets_point_at_line_starts_with_crlf() {
        let body = "ab\r\ncd\r\n";
        let lines = prose_lines(body);
        assert_eq!(lines[1].offset, 4);
        assert_eq!(lines[1].text, "cd");
    }
}
