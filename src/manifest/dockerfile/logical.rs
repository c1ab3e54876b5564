//! Text as Docker reads it, tied back to the bytes of the file.
//!
//! Docker joins continued lines and drops comment lines before it looks at an instruction, so the
//! text it parses is not a slice of the file. Every edit patchwright proposes must land on exact
//! bytes, so each byte of that joined text remembers where it came from.

use std::ops::Range;

use crate::model::{Location, Span};

/// Joined text with the source offset of each of its bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Logical {
    text: String,
    offsets: Vec<usize>,
    /// Source offset just past the last pushed byte, so an empty tail still has a position.
    end: usize,
}

impl Logical {
    /// An empty text positioned at `offset` in the source.
    pub(crate) fn at(offset: usize) -> Logical {
        Logical {
            text: String::new(),
            offsets: Vec::new(),
            end: offset,
        }
    }

    /// Appends `piece`, which starts at `source_offset` in the file.
    pub(crate) fn push_str(&mut self, piece: &str, source_offset: usize) {
        self.offsets
            .extend((0..piece.len()).map(|i| source_offset + i));
        self.text.push_str(piece);
        self.end = source_offset + piece.len();
    }

    pub(crate) fn text(&self) -> &str {
        &self.text
    }

    /// Source offset of logical byte `index`; the end of the text maps to just past its last byte.
    pub(crate) fn offset(&self, index: usize) -> usize {
        self.offsets.get(index).copied().unwrap_or(self.end)
    }

    /// The source bytes from the first to the last byte of `range` (which may include a
    /// continuation that Docker removed, when the range crosses one).
    pub(crate) fn span(&self, range: Range<usize>) -> Span {
        let start = self.offset(range.start);
        if range.end <= range.start {
            return Span::new(start, start);
        }
        let last = self.offsets.get(range.end - 1).map_or(self.end, |&o| o + 1);
        Span::new(start, last.max(start))
    }

    /// The part of this text in `range`, keeping its offsets.
    pub(crate) fn slice(&self, range: Range<usize>) -> Logical {
        // Callers slice at ranges they found in this text: a miss is a bug to catch in tests
        // and fuzzing, and in release an empty text rather than a panic on someone's file.
        debug_assert!(
            self.text.get(range.clone()).is_some(),
            "slice {range:?} of a {}-byte logical text",
            self.text.len()
        );
        let text = self.text.get(range.clone()).unwrap_or_default().to_string();
        let offsets = self.offsets.get(range.clone()).unwrap_or_default().to_vec();
        let end = offsets
            .last()
            .map_or_else(|| self.offset(range.start), |&last| last + 1);
        Logical { text, offsets, end }
    }
}

/// Maps byte offsets to 1-based line numbers.
#[derive(Debug, Clone)]
pub(crate) struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub(crate) fn new(source: &str) -> LineIndex {
        let starts = std::iter::once(0)
            .chain(source.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        LineIndex { starts }
    }

    pub(crate) fn line(&self, offset: usize) -> u32 {
        let line = self.starts.partition_point(|&start| start <= offset);
        u32::try_from(line.max(1)).unwrap_or(u32::MAX)
    }

    /// The same as [`Location::from_span`], without rescanning the file for every location.
    pub(crate) fn location(&self, file: &str, source: &str, span: Span) -> Location {
        let offset = span.start.min(source.len());
        let line = self.line(offset);
        let line_start = self
            .starts
            .get((line as usize).saturating_sub(1))
            .copied()
            .unwrap_or(0);
        let before = source
            .as_bytes()
            .get(line_start..offset)
            .unwrap_or_default();
        let column = String::from_utf8_lossy(before).chars().count() + 1;
        Location {
            file: file.to_string(),
            line,
            column: u32::try_from(column).unwrap_or(u32::MAX),
            span: Some(span),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_point_back_into_the_source_across_joined_lines() {
        let source = "RUN a \\\n  b";
        let mut logical = Logical::at(0);
        logical.push_str("RUN a ", 0);
        logical.push_str("  b", 8);
        assert_eq!(logical.text(), "RUN a   b");
        let b = logical.text().find('b').unwrap();
        assert_eq!(logical.span(b..b + 1).slice(source), Some("b"));
        assert_eq!(logical.span(0..3).slice(source), Some("RUN"));
        let tail = logical.slice(6..9);
        assert_eq!(tail.text(), "  b");
        assert_eq!(tail.offset(3), source.len());
    }

    #[test]
    fn locations_match_the_model() {
        let source = "\u{feff}FROM a\r\nRUN é \\\n  b\n";
        let index = LineIndex::new(source);
        for (offset, _) in source.char_indices().chain([(source.len(), ' ')]) {
            let span = Span::new(offset, offset);
            assert_eq!(
                index.location("f", source, span),
                Location::from_span("f", source, span)
            );
        }
    }

    #[test]
    fn lines_are_one_based() {
        let index = LineIndex::new("a\nb\r\nc");
        assert_eq!(index.line(0), 1);
        assert_eq!(index.line(1), 1);
        assert_eq!(index.line(2), 2);
        assert_eq!(index.line(5), 3);
    }
}
