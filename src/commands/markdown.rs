//! Which lines of a comment are prose a command may start on.
//!
//! GitHub renders comments as Markdown; a command that shows up inside a code block, an inline
//! code span or a quote is being shown or quoted, not issued (people paste the help text, or
//! quote an earlier command when replying), so those lines are skipped. So are HTML comments:
//! they do not render, and a command nobody can see should not run.

/// A line of the comment, without its line ending, and the byte offset where it starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Line<'a> {
    pub text: &'a str,
    pub offset: usize,
}

/// The lines outside fenced code blocks, quotes, HTML comments and multi-line inline code spans.
pub(crate) fn prose_lines(body: &str) -> Vec<Line<'_>> {
    let mut out = Vec::new();
    let mut paragraph: Vec<Line<'_>> = Vec::new();
    // The open fence's character and length: it closes on a run of the same character at least
    // as long (CommonMark), so a ```` fence may contain ``` lines.
    let mut fence: Option<(char, usize)> = None;
    // A line right after a quote, without a blank line between, is a lazy continuation of the
    // quote and renders inside it.
    let mut in_quote = false;
    // Inside an HTML comment that started at the beginning of a line (an HTML block), which ends
    // on the line holding `-->`.
    let mut in_html_comment = false;

    for line in lines(body) {
        let trimmed = line.text.trim_start();
        if in_html_comment {
            in_html_comment = !line.text.contains("-->");
            continue;
        }
        if fence.is_none() && trimmed.starts_with("<!--") {
            flush(body, &mut paragraph, &mut out);
            in_html_comment = !trimmed[4..].contains("-->");
            in_quote = false;
            continue;
        }
        if let Some((ch, len)) = fence {
            if fence_run(trimmed)
                .is_some_and(|(c, n, rest)| c == ch && n >= len && rest.trim().is_empty())
            {
                fence = None;
            }
            continue;
        }
        if let Some((ch, len, _)) = fence_run(trimmed) {
            flush(body, &mut paragraph, &mut out);
            fence = Some((ch, len));
            in_quote = false;
            continue;
        }
        if trimmed.is_empty() {
            flush(body, &mut paragraph, &mut out);
            in_quote = false;
            continue;
        }
        if trimmed.starts_with('>') {
            flush(body, &mut paragraph, &mut out);
            in_quote = true;
            continue;
        }
        if in_quote {
            continue;
        }
        paragraph.push(line);
    }
    flush(body, &mut paragraph, &mut out);
    out
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

/// A fence opener or closer: three or more backticks or tildes. Returns the character, the run
/// length and what follows the run.
fn fence_run(trimmed: &str) -> Option<(char, usize, &str)> {
    let ch = trimmed.chars().next().filter(|c| *c == '`' || *c == '~')?;
    let len = trimmed.len() - trimmed.trim_start_matches(ch).len();
    (len >= 3).then(|| (ch, len, &trimmed[len..]))
}

/// Emits the paragraph's lines except those that begin inside an inline code span opened on an
/// earlier line (a span that opens on the line itself cannot hide a mention at its start).
fn flush<'a>(body: &'a str, paragraph: &mut Vec<Line<'a>>, out: &mut Vec<Line<'a>>) {
    let (Some(first), Some(last)) = (paragraph.first(), paragraph.last()) else {
        return;
    };
    let start = first.offset;
    let end = last.offset + last.text.len();
    let spans = code_spans(&body[start..end]);
    for line in paragraph.drain(..) {
        let indent = line.text.len() - line.text.trim_start().len();
        let at = line.offset + indent - start;
        if !spans.iter().any(|&(open, close)| open < at && at < close) {
            out.push(line);
        }
    }
}

/// Inline code spans as (opening run start, closing run start): a backtick run opens a span
/// only if a later run of the same length closes it; otherwise its backticks are literal.
fn code_spans(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut runs = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'`' {
            let start = i;
            while i < bytes.len() && bytes[i] == b'`' {
                i += 1;
            }
            runs.push((start, i - start));
        } else {
            i += 1;
        }
    }
    let mut spans = Vec::new();
    let mut k = 0;
    while k < runs.len() {
        let (open, len) = runs[k];
        match runs[k + 1..].iter().position(|&(_, l)| l == len) {
            Some(j) => {
                spans.push((open, runs[k + 1 + j].0));
                k += j + 2;
            }
            None => k += 1,
        }
    }
    spans
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
