//! `ARG` substitution in a word (`$V`, `${V}`, `${V:-d}`, `${V-d}`, `${V:+a}`, `${V+a}`,
//! `${V:?}`), with quotes and escapes, keeping where each piece of the result comes from.
//!
//! The result is a list of segments: literal bytes of the file, or the value of an `ARG` whose
//! default (when written) is where an edit has to go. An `ARG` default that itself uses other
//! arguments, or that is quoted in pieces, is spliced in as its own segments, so every segment
//! still points at bytes that hold exactly its text.

use std::collections::HashMap;
use std::ops::Range;

use crate::model::{Segment, SegmentSource, Span};

use super::logical::Logical;

/// Nesting of `${…}` inside `${…}` allowed: real files use one or two levels; the bound keeps a
/// hostile file from exhausting the stack.
const MAX_DEPTH: usize = 16;

/// Pieces one word may expand to: ARG defaults that use other ARGs twice over could otherwise
/// double at every level.
const MAX_SEGMENTS: usize = 1_000;
/// Bytes one word may expand to, for the same reason.
const MAX_TEXT: usize = 64 * 1024;

/// The value of a declared `ARG` with a default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Value {
    segments: Vec<Segment>,
    missing: Vec<Missing>,
    /// Where an empty default sits (inside its quotes, when quoted), so it can still be edited.
    empty_at: Span,
}

impl Value {
    fn text(&self) -> String {
        self.segments.iter().map(|s| s.text.as_str()).collect()
    }

    /// This value used as `$name`.
    fn used_as(&self, name: &str) -> Expansion {
        let segments = match self.segments.as_slice() {
            [] => vec![arg_segment(name, String::new(), Some(self.empty_at))],
            [
                Segment {
                    text,
                    source: SegmentSource::Literal { span },
                },
            ] => vec![arg_segment(name, text.clone(), Some(*span))],
            _ => self.segments.clone(),
        };
        Expansion {
            segments,
            missing: self.missing.clone(),
        }
    }
}

fn arg_segment(name: &str, text: String, default_span: Option<Span>) -> Segment {
    Segment {
        text,
        source: SegmentSource::Arg {
            name: name.to_string(),
            default_span,
        },
    }
}

/// An argument whose value the file does not give.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Missing {
    pub name: String,
    /// Declared by an `ARG` without default (rather than not declared at all).
    pub declared: bool,
}

/// The arguments in scope: `None` for one declared without a default.
#[derive(Debug, Clone, Default)]
pub(crate) struct ArgScope {
    vars: HashMap<String, Option<Value>>,
}

impl ArgScope {
    pub(crate) fn declare(&mut self, name: &str, value: Option<Value>) {
        self.vars.insert(name.to_string(), value);
    }

    pub(crate) fn get(&self, name: &str) -> Option<&Option<Value>> {
        self.vars.get(name)
    }
}

/// A word after substitution.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Expansion {
    pub segments: Vec<Segment>,
    pub missing: Vec<Missing>,
}

impl Expansion {
    pub(crate) fn text(&self) -> String {
        self.segments.iter().map(|s| s.text.as_str()).collect()
    }

    /// Appends one literal character found at `offset` in the source, merging it into the
    /// previous literal segment when the bytes are adjacent in the file.
    fn literal(&mut self, c: char, offset: usize) {
        let end = offset + c.len_utf8();
        if let Some(Segment {
            text,
            source: SegmentSource::Literal { span },
        }) = self.segments.last_mut()
            && span.end == offset
        {
            text.push(c);
            span.end = end;
            return;
        }
        self.segments.push(Segment {
            text: c.to_string(),
            source: SegmentSource::Literal {
                span: Span::new(offset, end),
            },
        });
    }

    fn extend(&mut self, other: Expansion) -> Result<(), SubstError> {
        let text_len = |e: &Expansion| e.segments.iter().map(|s| s.text.len()).sum::<usize>();
        if self.segments.len() + other.segments.len() > MAX_SEGMENTS
            || text_len(self) + text_len(&other) > MAX_TEXT
        {
            return Err(SubstError::TooLarge);
        }
        self.segments.extend(other.segments);
        self.missing.extend(other.missing);
        Ok(())
    }
}

/// Why a word could not be substituted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum SubstError {
    #[error("a `{0}` is never closed")]
    Unclosed(char),
    #[error("`${{` must be followed by an argument name, e.g. `${{VERSION}}`")]
    BadName,
    #[error(
        "`{0}` is a substitution patchwright does not evaluate; use `${{NAME}}`, `${{NAME:-default}}` or `${{NAME:+alternative}}`"
    )]
    Unsupported(String),
    #[error("substitutions are nested more than {MAX_DEPTH} deep")]
    TooDeep,
    #[error(
        "the value grows past {MAX_SEGMENTS} pieces or {MAX_TEXT} bytes through ARGs that use other ARGs"
    )]
    TooLarge,
}

/// Substitutes the word at `range` of `logical` with the arguments of `scope`.
pub(crate) fn expand(
    logical: &Logical,
    range: Range<usize>,
    escape: char,
    scope: &ArgScope,
) -> Result<Expansion, SubstError> {
    let mut expander = Expander {
        logical,
        text: logical.text(),
        pos: range.start,
        end: range.end.min(logical.text().len()),
        escape,
        scope,
        depth: 0,
    };
    expander.word(None)
}

/// The default of an `ARG`, written at `range` of `logical` (the text after `=`).
pub(crate) fn default_value(
    logical: &Logical,
    range: Range<usize>,
    escape: char,
    scope: &ArgScope,
) -> Result<Value, SubstError> {
    let expansion = expand(logical, range.clone(), escape, scope)?;
    let raw = logical.text().get(range.clone()).unwrap_or_default();
    let inside_quotes = matches!(raw, "\"\"" | "''");
    let at = logical.offset(range.start) + usize::from(inside_quotes);
    Ok(Value {
        segments: expansion.segments,
        missing: expansion.missing,
        empty_at: Span::new(at, at),
    })
}

struct Expander<'a> {
    logical: &'a Logical,
    text: &'a str,
    pos: usize,
    end: usize,
    escape: char,
    scope: &'a ArgScope,
    depth: usize,
}

impl Expander<'_> {
    fn peek(&self) -> Option<char> {
        self.text.get(self.pos..self.end)?.chars().next()
    }

    fn bump(&mut self) -> Option<(usize, char)> {
        let c = self.peek()?;
        let at = self.pos;
        self.pos += c.len_utf8();
        Some((at, c))
    }

    fn offset(&self, at: usize) -> usize {
        self.logical.offset(at)
    }

    /// A word up to `stop` (not consumed) or the end.
    fn word(&mut self, stop: Option<char>) -> Result<Expansion, SubstError> {
        let mut out = Expansion::default();
        loop {
            let Some(c) = self.peek() else {
                return match stop {
                    Some(s) => Err(SubstError::Unclosed(if s == '}' { '{' } else { s })),
                    None => Ok(out),
                };
            };
            if Some(c) == stop {
                return Ok(out);
            }
            let Some((at, c)) = self.bump() else {
                return Ok(out);
            };
            match c {
                '\'' => self.single_quoted(&mut out)?,
                '"' => self.double_quoted(&mut out)?,
                '$' => self.dollar(at, &mut out)?,
                _ if c == self.escape => match self.bump() {
                    Some((next_at, next)) => out.literal(next, self.offset(next_at)),
                    None => out.literal(c, self.offset(at)),
                },
                _ => out.literal(c, self.offset(at)),
            }
        }
    }

    fn single_quoted(&mut self, out: &mut Expansion) -> Result<(), SubstError> {
        loop {
            match self.bump() {
                Some((_, '\'')) => return Ok(()),
                Some((at, c)) => out.literal(c, self.offset(at)),
                None => return Err(SubstError::Unclosed('\'')),
            }
        }
    }

    fn double_quoted(&mut self, out: &mut Expansion) -> Result<(), SubstError> {
        loop {
            match self.bump() {
                Some((_, '"')) => return Ok(()),
                Some((at, '$')) => self.dollar(at, out)?,
                Some((at, c)) if c == self.escape => match self.peek() {
                    Some(next) if next == '"' || next == '$' || next == self.escape => {
                        if let Some((next_at, next)) = self.bump() {
                            out.literal(next, self.offset(next_at));
                        }
                    }
                    _ => out.literal(c, self.offset(at)),
                },
                Some((at, c)) => out.literal(c, self.offset(at)),
                None => return Err(SubstError::Unclosed('"')),
            }
        }
    }

    fn name(&mut self) -> String {
        let mut name = String::new();
        while let Some(c) = self.peek() {
            let allowed =
                c == '_' || c.is_ascii_alphabetic() || (c.is_ascii_digit() && !name.is_empty());
            if !allowed {
                break;
            }
            name.push(c);
            self.bump();
        }
        name
    }

    /// After a `$` at `at`.
    fn dollar(&mut self, at: usize, out: &mut Expansion) -> Result<(), SubstError> {
        match self.peek() {
            Some('{') => {
                self.bump();
                self.braced(out)
            }
            Some(c) if c == '_' || c.is_ascii_alphabetic() => {
                let name = self.name();
                out.extend(self.value(&name))
            }
            // Docker keeps a `$` that starts no name as it is.
            _ => {
                out.literal('$', self.offset(at));
                Ok(())
            }
        }
    }

    /// After `${`.
    fn braced(&mut self, out: &mut Expansion) -> Result<(), SubstError> {
        let name = self.name();
        if name.is_empty() {
            return Err(SubstError::BadName);
        }
        let (colon, op) = match self.bump() {
            Some((_, '}')) => return out.extend(self.value(&name)),
            Some((_, ':')) => match self.bump() {
                Some((_, op @ ('-' | '+' | '?'))) => (true, op),
                Some((_, other)) => {
                    return Err(SubstError::Unsupported(format!("${{{name}:{other}…}}")));
                }
                None => return Err(SubstError::Unclosed('{')),
            },
            Some((_, op @ ('-' | '+' | '?'))) => (false, op),
            Some((_, other)) => {
                return Err(SubstError::Unsupported(format!("${{{name}{other}…}}")));
            }
            None => return Err(SubstError::Unclosed('{')),
        };
        if self.depth >= MAX_DEPTH {
            return Err(SubstError::TooDeep);
        }
        self.depth += 1;
        let alternative = self.word(Some('}'));
        self.depth -= 1;
        let alternative = alternative?;
        self.bump();
        let value = self.scope.get(&name);
        let is_set = matches!(value, Some(Some(_)));
        let non_empty = matches!(value, Some(Some(v)) if !v.text().is_empty());
        let condition = if colon { is_set && non_empty } else { is_set };
        let result = match (op, condition) {
            ('-', true) | ('?', true) => self.value(&name),
            ('-', false) | ('+', true) => alternative,
            ('+', false) => Expansion::default(),
            _ => self.unknown(&name),
        };
        out.extend(result)
    }

    fn value(&self, name: &str) -> Expansion {
        match self.scope.get(name) {
            Some(Some(value)) => value.used_as(name),
            _ => self.unknown(name),
        }
    }

    fn unknown(&self, name: &str) -> Expansion {
        Expansion {
            segments: vec![arg_segment(name, String::new(), None)],
            missing: vec![Missing {
                name: name.to_string(),
                declared: self.scope.get(name).is_some(),
            }],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn logical(source: &str) -> Logical {
        let mut l = Logical::at(0);
        l.push_str(source, 0);
        l
    }

    fn declare(scope: &mut ArgScope, source: &str, name: &str, range: Range<usize>) {
        let value = default_value(&logical(source), range, '\\', scope).unwrap();
        scope.declare(name, Some(value));
    }

    #[test]
    fn arg_default_becomes_an_arg_segment_pointing_at_the_default() {
        let source = "ARG V=\"20\"\nFROM node:${V:-18}-alpine";
        let mut scope = ArgScope::default();
        declare(&mut scope, source, "V", 6..10);
        let start = source.find("node").unwrap();
        let expansion = expand(&logical(source), start..source.len(), '\\', &scope).unwrap();
        assert_eq!(expansion.text(), "node:20-alpine");
        assert!(expansion.missing.is_empty());
        let texts: Vec<_> = expansion.segments.iter().map(|s| s.text.as_str()).collect();
        assert_eq!(texts, vec!["node:", "20", "-alpine"]);
        match &expansion.segments[1].source {
            SegmentSource::Arg {
                name,
                default_span: Some(span),
            } => {
                assert_eq!(name, "V");
                assert_eq!(span.slice(source), Some("20"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn fallbacks_apply_when_the_arg_has_no_default() {
        let mut scope = ArgScope::default();
        scope.declare("R", None);
        let source = "${R:-docker.io}/x${R:+y}${U-z}";
        let expansion = expand(&logical(source), 0..source.len(), '\\', &scope).unwrap();
        assert_eq!(expansion.text(), "docker.io/xz");
        assert!(expansion.missing.is_empty());
        let expansion = expand(&logical("$R/x"), 0..4, '\\', &scope).unwrap();
        assert_eq!(
            expansion.missing,
            vec![Missing {
                name: "R".into(),
                declared: true
            }]
        );
    }

    #[test]
    fn quotes_and_escapes_split_literals_at_the_bytes_removed() {
        let source = r#""a"'b'c\d$"#;
        let expansion = expand(
            &logical(source),
            0..source.len(),
            '\\',
            &ArgScope::default(),
        )
        .unwrap();
        assert_eq!(expansion.text(), "abcd$");
        for segment in &expansion.segments {
            let SegmentSource::Literal { span } = segment.source else {
                panic!("literal expected")
            };
            assert_eq!(span.slice(source), Some(segment.text.as_str()));
        }
    }

    #[test]
    fn hostile_nesting_and_growth_are_bounded() {
        let scope = ArgScope::default();
        let deep = format!("{}x{}", "${A:-".repeat(100), "}".repeat(100));
        assert_eq!(
            expand(&logical(&deep), 0..deep.len(), '\\', &scope),
            Err(SubstError::TooDeep)
        );
        let mut scope = ArgScope::default();
        let mut source = String::from("a\"b\"");
        let first = default_value(&logical(&source), 0..source.len(), '\\', &scope).unwrap();
        scope.declare("V0", Some(first));
        let mut result = Ok(());
        for level in 1..20 {
            source = format!("$V{0}$V{0}", level - 1);
            match default_value(&logical(&source), 0..source.len(), '\\', &scope) {
                Ok(value) => scope.declare(&format!("V{level}"), Some(value)),
                Err(error) => {
                    result = Err(error);
                    break;
                }
            }
        }
        assert_eq!(result, Err(SubstError::TooLarge));
    }

    #[test]
    fn unsupported_and_unclosed_are_errors() {
        let scope = ArgScope::default();
        assert!(matches!(
            expand(&logical("${V%x}"), 0..6, '\\', &scope),
            Err(SubstError::Unsupported(_))
        ));
        assert_eq!(
            expand(&logical("${V"), 0..3, '\\', &scope),
            Err(SubstError::Unclosed('{'))
        );
        assert_eq!(
            expand(&logical("'a"), 0..2, '\\', &scope),
            Err(SubstError::Unclosed('\''))
        );
    }
}
