//! Byte offset → line and column, for parsers that only learn byte offsets (TOML, JSON).
//!
//! `model::line_column` rescans the source from the start on every call, which makes a
//! 5,000-package lockfile quadratic; this index finds the line by binary search and counts the
//! column from a cursor, so visiting entries in file order stays linear even when the whole file
//! is one line (minified JSON).

use crate::model::{Location, Span};

pub(crate) struct LineIndex<'a> {
    source: &'a str,
    /// Byte offset where each line starts; `starts[0] == 0`.
    starts: Vec<usize>,
    /// The last position asked for: (line, byte offset, column), to count columns onward from.
    cursor: (u32, usize, u32),
}

impl<'a> LineIndex<'a> {
    pub(crate) fn new(source: &'a str) -> LineIndex<'a> {
        let mut starts = vec![0];
        starts.extend(memchr::memchr_iter(b'\n', source.as_bytes()).map(|i| i + 1));
        LineIndex {
            source,
            starts,
            cursor: (1, 0, 1),
        }
    }

    /// 1-based line of `offset` (offsets past the end clamp to the last line).
    pub(crate) fn line(&self, offset: usize) -> u32 {
        let offset = offset.min(self.source.len());
        let line = self.starts.partition_point(|&s| s <= offset);
        u32::try_from(line.max(1)).unwrap_or(u32::MAX)
    }

    /// 1-based line and column (in characters) of `offset`.
    pub(crate) fn line_column(&mut self, offset: usize) -> (u32, u32) {
        let offset = offset.min(self.source.len());
        let line = self.line(offset);
        let line_start = self
            .starts
            .get(line as usize - 1)
            .copied()
            .unwrap_or_default();
        let (cursor_line, cursor_offset, cursor_column) = self.cursor;
        let (from, column) = if cursor_line == line && cursor_offset <= offset {
            (cursor_offset, cursor_column)
        } else {
            (line_start, 1)
        };
        let counted = self.source.as_bytes().get(from..offset).map_or(0, |bytes| {
            bytes.iter().filter(|&&b| b & 0xC0 != 0x80).count()
        });
        let column = column.saturating_add(u32::try_from(counted).unwrap_or(u32::MAX));
        self.cursor = (line, offset, column);
        (line, column)
    }

    pub(crate) fn location(&mut self, file: &str, span: Span) -> Location {
        let (line, column) = self.line_column(span.start);
        Location {
            file: file.to_string(),
            line,
            column,
            span: Some(span),
        }
    }
}

/// `span` when it slices `source` to exactly `text`; `None` otherwise (escapes, multi-line
/// strings), because an edit at a span that does not hold the version would corrupt the file.
pub(crate) fn exact_span(source: &str, span: Span, text: &str) -> Option<Span> {
    (span.slice(source) == Some(text)).then_some(span)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::line_column;

    #[test]
    fn agrees_with_the_model_in_any_order() {
        let source = "ab\n\u{e9}t\u{e9}\n\nxyz";
        let mut index = LineIndex::new(source);
        let offsets: Vec<usize> = (0..=source.len())
            .filter(|&o| source.is_char_boundary(o))
            .collect();
        for &offset in offsets.iter().chain(offsets.iter().rev()) {
            assert_eq!(
                index.line_column(offset),
                line_column(source, offset),
                "{offset}"
            );
        }
    }

    #[test]
    fn exact_span_refuses_text_that_differs() {
        let source = r#"v = "1.0\u002e0""#;
        assert_eq!(exact_span(source, Span::new(5, 16), "1.0.0"), None);
        assert_eq!(
            exact_span("v = \"1.0\"", Span::new(5, 8), "1.0"),
            Some(Span::new(5, 8))
        );
    }
}
