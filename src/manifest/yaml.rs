//! A small YAML tree with byte spans, for the YAML files the scanner reads (pnpm-lock.yaml,
//! Compose files, Kubernetes manifests, Helm values, GitHub Actions workflows).
//!
//! Read with `yaml-rust2`'s event parser (YAML 1.2, pure Rust, maintained; `serde_yaml` is
//! archived and its successors give no positions). Its markers count characters, not bytes, so
//! offsets are mapped to bytes here (from their line and column: see `Offsets`). A scalar's `span` covers exactly its value's bytes (inside
//! the quotes for a quoted scalar), or is `None` when the text differs from the value (escapes,
//! block scalars, folded lines): an edit there would not change just the value.
//!
//! Most files are plain block YAML: `block` reads those much faster and builds the same tree;
//! whatever it does not know goes through `yaml-rust2`.

mod block;

pub(crate) use block::{Keep, Role, Shape};

use std::borrow::Cow;

use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use crate::model::Span;

/// Deeper nesting than this is not a real manifest; stopping keeps a hostile file from
/// exhausting the stack when the tree is dropped or walked.
const MAX_DEPTH: usize = 200;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Node<'a> {
    Scalar(Scalar<'a>),
    Seq(Vec<Node<'a>>),
    Map(Vec<(Node<'a>, Node<'a>)>),
    /// `*name` of a collection: not followed (what it repeats is read where its anchor is). An
    /// alias of a scalar is that scalar, with the anchor's span, so an edit changes the anchor.
    Alias,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Scalar<'a> {
    /// Borrowed from the source when the text is the value (plain and quoted scalars without
    /// escapes, which is nearly all of them): a lockfile of thousands of packages then costs no
    /// allocation per key or value.
    pub(crate) value: Cow<'a, str>,
    /// Byte offset where the scalar starts (its quote, for a quoted one).
    pub(crate) start: usize,
    /// The bytes that hold exactly `value`, when there are such bytes.
    pub(crate) span: Option<Span>,
}

/// A YAML syntax error: where (byte offset, 1-based line) and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct YamlError {
    pub(crate) offset: usize,
    pub(crate) line: u32,
    pub(crate) message: String,
}

/// Every document of `source`, up to the first syntax error (the documents before it are kept:
/// one bad document of a multi-document manifest does not hide the others).
pub(crate) fn parse(source: &str) -> (Vec<Node<'_>>, Option<YamlError>) {
    parse_shaped(source, Shape::WHOLE)
}

/// `parse`, keeping of each document only what `shape` keeps when the fast reader reads the
/// file (the full parser's tree is whole): for readers that never look at the rest.
pub(crate) fn parse_shaped<'a>(
    source: &'a str,
    shape: Shape<'_>,
) -> (Vec<Node<'a>>, Option<YamlError>) {
    match block::parse_shaped(source, shape) {
        Some(docs) => (docs, None),
        None => parse_full(source),
    }
}

/// `parse` through `yaml-rust2` alone: any YAML, and what the fast reader is checked against.
fn parse_full(source: &str) -> (Vec<Node<'_>>, Option<YamlError>) {
    let offsets = Offsets::new(source);
    let mut parser = Parser::new_from_str(source);
    let mut docs = Vec::new();
    // Open collections: a sequence, or a mapping with its pending key.
    let mut stack: Vec<(Node<'_>, Option<Node<'_>>)> = Vec::new();
    let mut anchored: std::collections::HashMap<usize, Scalar<'_>> =
        std::collections::HashMap::new();
    loop {
        let (event, mark) = match parser.next_token() {
            Ok(e) => e,
            Err(e) => {
                let offset = offsets.byte(*e.marker());
                let error = YamlError {
                    offset,
                    line: line_at(source, offset),
                    message: e.info().to_string(),
                };
                // What the document holds up to the error is kept: its open collections are
                // closed where the error is.
                let mut partial = None;
                while let Some((node, _)) = stack.pop() {
                    partial = Some(match stack.last_mut() {
                        None => node,
                        Some((Node::Seq(items), _)) => {
                            items.push(node);
                            continue;
                        }
                        Some((Node::Map(entries), pending)) => {
                            if let Some(key) = pending.take() {
                                entries.push((key, node));
                            }
                            continue;
                        }
                        Some(_) => continue,
                    });
                }
                docs.extend(partial);
                return (docs, Some(error));
            }
        };
        let node = match event {
            Event::StreamEnd => break,
            Event::Nothing | Event::StreamStart | Event::DocumentStart | Event::DocumentEnd => {
                continue;
            }
            Event::SequenceStart(..) | Event::MappingStart(..) => {
                if stack.len() >= MAX_DEPTH {
                    let offset = offsets.byte(mark);
                    let error = YamlError {
                        offset,
                        line: line_at(source, offset),
                        message: format!("nested more than {MAX_DEPTH} levels deep"),
                    };
                    return (docs, Some(error));
                }
                let open = if matches!(event, Event::SequenceStart(..)) {
                    Node::Seq(Vec::new())
                } else {
                    Node::Map(Vec::new())
                };
                stack.push((open, None));
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd => match stack.pop() {
                Some((node, _)) => node,
                None => continue,
            },
            Event::Alias(id) => anchored.get(&id).cloned().map_or(Node::Alias, Node::Scalar),
            Event::Scalar(value, style, anchor, _) => {
                let scalar = scalar(source, &offsets, value, style, mark);
                if anchor > 0 {
                    anchored.insert(anchor, scalar.clone());
                }
                Node::Scalar(scalar)
            }
        };
        match stack.last_mut() {
            None => docs.push(node),
            Some((Node::Seq(items), _)) => items.push(node),
            Some((Node::Map(entries), pending)) => match pending.take() {
                None => *pending = Some(node),
                Some(key) => entries.push((key, node)),
            },
            Some(_) => {}
        }
    }
    (docs, None)
}

/// The 1-based line of a byte offset, counting `\n` only (the scanner also breaks lines at a
/// lone `\r`, which editors and the rest of patchwright do not).
fn line_at(source: &str, offset: usize) -> u32 {
    let before = source.as_bytes().get(..offset).unwrap_or(source.as_bytes());
    u32::try_from(before.iter().filter(|&&b| b == b'\n').count() + 1).unwrap_or(u32::MAX)
}

fn scalar(
    source: &str,
    offsets: &Offsets,
    value: String,
    style: TScalarStyle,
    mark: Marker,
) -> Scalar<'static> {
    let start = offsets.byte(mark);
    let span = match style {
        TScalarStyle::Plain => value_span(source, start, &value, ""),
        TScalarStyle::SingleQuoted => value_span(source, start, &value, "'"),
        TScalarStyle::DoubleQuoted => value_span(source, start, &value, "\""),
        TScalarStyle::Literal | TScalarStyle::Folded => None,
    };
    Scalar {
        value: Cow::Owned(value),
        start,
        span,
    }
}

/// The bytes of `value` written as `quote value quote` at `start`, or later on the same line
/// (after an anchor or tag the marker may point before the scalar).
fn value_span(source: &str, start: usize, value: &str, quote: &str) -> Option<Span> {
    if value.is_empty() || value.contains('\n') {
        return None;
    }
    let rest = source.get(start..)?;
    let line = &rest[..rest.find('\n').unwrap_or(rest.len())];
    let mut from = 0;
    while let Some(at) = line.get(from..)?.find(value) {
        let begin = from + at;
        let end = begin + value.len();
        let before = &line[..begin];
        let after = &line[end..];
        if before.ends_with(quote) && after.starts_with(quote) {
            return Some(Span::new(start + begin, start + end));
        }
        from = begin + value.len().max(1);
    }
    None
}

/// A yaml-rust2 marker → byte offset. The marker's `index` cannot be used: it counts
/// characters, except in a block scalar's lines, where it counts bytes, so after non-ASCII text
/// it is off one way or the other. Its line (1-based, breaking at `\n`, `\r\n` and a lone `\r`
/// as the scanner does) and column (0-based, in characters from the line's start) are right, so
/// the byte offset is the line's start plus the bytes of that many characters.
struct Offsets<'s> {
    source: &'s str,
    /// Byte offset where each of the scanner's lines starts.
    lines: Vec<usize>,
    /// The last position converted: (line, column, byte offset), so columns are counted on from
    /// there and a long line (minified flow YAML) does not make the conversion quadratic.
    cursor: std::cell::Cell<(usize, usize, usize)>,
}

impl<'s> Offsets<'s> {
    fn new(source: &'s str) -> Offsets<'s> {
        let bytes = source.as_bytes();
        let mut lines = vec![0];
        for (i, &b) in bytes.iter().enumerate() {
            if b == b'\n' || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n')) {
                lines.push(i + 1);
            }
        }
        Offsets {
            source,
            lines,
            cursor: std::cell::Cell::new((1, 0, 0)),
        }
    }

    fn byte(&self, mark: Marker) -> usize {
        let (line, column) = (mark.line(), mark.col());
        let Some(&line_start) = line.checked_sub(1).and_then(|l| self.lines.get(l)) else {
            return self.source.len();
        };
        let (cursor_line, cursor_column, cursor_byte) = self.cursor.get();
        let (from, mut skip) = if cursor_line == line && cursor_column <= column {
            (cursor_byte, column - cursor_column)
        } else {
            (line_start, column)
        };
        let rest = self.source.get(from..).unwrap_or("");
        let mut byte = from;
        for c in rest.chars() {
            if skip == 0 {
                break;
            }
            skip -= 1;
            byte += c.len_utf8();
        }
        self.cursor.set((line, column, byte));
        byte
    }
}

impl<'a> Node<'a> {
    /// The value of `key` in a mapping.
    pub(crate) fn get(&self, key: &str) -> Option<&Node<'a>> {
        match self {
            Node::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.as_str() == Some(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Node::Scalar(s) => Some(&s.value),
            _ => None,
        }
    }

    pub(crate) fn as_scalar(&self) -> Option<&Scalar<'a>> {
        match self {
            Node::Scalar(s) => Some(s),
            _ => None,
        }
    }

    pub(crate) fn entries(&self) -> &[(Node<'a>, Node<'a>)] {
        match self {
            Node::Map(entries) => entries,
            _ => &[],
        }
    }

    pub(crate) fn items(&self) -> &[Node<'a>] {
        match self {
            Node::Seq(items) => items,
            _ => &[],
        }
    }
}

/// The corpus folder and its `.yaml` / `.yml` files, sorted, for tests that read every one.
#[cfg(test)]
pub(crate) fn corpus_yaml_files() -> (std::path::PathBuf, Vec<std::path::PathBuf>) {
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                out.push(path);
            }
        }
    }
    let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    let mut files = Vec::new();
    walk(&corpus, &mut files);
    files.sort();
    (corpus, files)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span_text<'a>(source: &'a str, node: &Node) -> Option<&'a str> {
        node.as_scalar()?.span?.slice(source)
    }

    #[test]
    fn spans_cover_the_value_only_whatever_the_quoting() {
        let source = "a: plain # c\nb: 'single'\nc: \"double\"\nd: &x anchored\ne: \"esc\\u0041\"\nf: |\n  block\né: 'ünï'\n";
        let (docs, error) = parse(source);
        assert_eq!(error, None);
        let doc = &docs[0];
        assert_eq!(span_text(source, doc.get("a").unwrap()), Some("plain"));
        assert_eq!(span_text(source, doc.get("b").unwrap()), Some("single"));
        assert_eq!(span_text(source, doc.get("c").unwrap()), Some("double"));
        assert_eq!(span_text(source, doc.get("d").unwrap()), Some("anchored"));
        assert_eq!(doc.get("e").unwrap().as_str(), Some("escA"));
        assert_eq!(span_text(source, doc.get("e").unwrap()), None);
        assert_eq!(span_text(source, doc.get("f").unwrap()), None);
        assert_eq!(span_text(source, doc.get("é").unwrap()), Some("ünï"));
    }

    #[test]
    fn an_alias_of_a_scalar_is_the_anchored_scalar() {
        let source = "x-img: &img nginx:1.25\nservices:\n  web:\n    image: *img\n";
        let (docs, error) = parse(source);
        assert_eq!(error, None);
        let image = docs[0]
            .get("services")
            .unwrap()
            .get("web")
            .unwrap()
            .get("image")
            .unwrap();
        assert_eq!(span_text(source, image), Some("nginx:1.25"));
        assert_eq!(image.as_scalar().unwrap().span.unwrap().start, 12);
    }

    #[test]
    fn documents_before_an_error_are_kept() {
        let source = "a: 1\n---\nb: 1\nc: [2\n";
        let (docs, error) = parse(source);
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[1].get("b").and_then(Node::as_str), Some("1"));
        let error = error.unwrap();
        assert!(error.line >= 3, "{error:?}");
    }

    #[test]
    fn spans_after_a_non_ascii_block_scalar_are_exact() {
        // yaml-rust2's marker index counts a block scalar's characters in bytes, so positions
        // after one holding non-ASCII text must not come from it (both readers are exact).
        let source = "data: |\n  grüße\n  ok\nimage: 'nginx:1.25'\n";
        let (docs, error) = parse(source);
        assert_eq!(error, None);
        assert_eq!(
            docs[0].get("data").and_then(Node::as_str),
            Some("grüße\nok\n")
        );
        assert_eq!(
            span_text(source, docs[0].get("image").unwrap()),
            Some("nginx:1.25")
        );
    }

    #[test]
    fn the_full_parser_gives_byte_spans_after_non_ascii_text() {
        // yaml-rust2's marker index counts a block scalar's bytes and every other character
        // once: both kinds of non-ASCII text come before the values checked here.
        let source = "data: |\n  grüße\n  ok\nname: 'ünï' # é\nimage: 'nginx:1.25'\nflow: [ä, \"b\\u00e9\", c]\nlast: plain\n";
        let (docs, error) = parse_full(source);
        assert_eq!(error, None);
        let doc = &docs[0];
        assert_eq!(doc.get("data").and_then(Node::as_str), Some("grüße\nok\n"));
        assert_eq!(span_text(source, doc.get("name").unwrap()), Some("ünï"));
        let image = doc.get("image").unwrap().as_scalar().unwrap();
        assert_eq!(image.span.and_then(|s| s.slice(source)), Some("nginx:1.25"));
        assert_eq!(&source[image.start..image.start + 1], "'");
        let flow = doc.get("flow").unwrap().items();
        assert_eq!(span_text(source, &flow[0]), Some("ä"));
        assert_eq!(span_text(source, &flow[1]), None);
        assert_eq!(span_text(source, &flow[2]), Some("c"));
        assert_eq!(span_text(source, doc.get("last").unwrap()), Some("plain"));
        // The keys' starts too (pnpm keys' versions are found from them).
        let last_key = doc.entries().last().unwrap().0.as_scalar().unwrap();
        assert_eq!(&source[last_key.start..last_key.start + 4], "last");
    }

    #[test]
    fn the_full_parser_errors_name_the_right_line_after_non_ascii_text() {
        let source = "a: |\n  ünïcödé\nb: 'ß'\nc: [1\n";
        let (_, error) = parse_full(source);
        let error = error.unwrap();
        assert_eq!(error.line, 5, "{error:?}");
        assert!(source.is_char_boundary(error.offset));
    }

    #[test]
    fn crlf_and_lone_cr_line_breaks_keep_spans_exact() {
        let source = "a: ü\r\nb: 'x'\rc: ß\r\nd: end\n";
        let (docs, error) = parse_full(source);
        assert_eq!(error, None);
        assert_eq!(span_text(source, docs[0].get("b").unwrap()), Some("x"));
        assert_eq!(span_text(source, docs[0].get("c").unwrap()), Some("ß"));
        assert_eq!(span_text(source, docs[0].get("d").unwrap()), Some("end"));
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let source = "[".repeat(10_000);
        let (_, error) = parse(&source);
        assert!(error.is_some());
    }
}
