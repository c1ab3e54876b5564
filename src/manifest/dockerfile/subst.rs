//! `ARG` substitution in a word (`$V`, `${V}`, `${V:-d}`, `${V-d}`, `${V:+a}`, `${V+a}`,
//! `${V:?}`, and BuildKit's `${V#p}`, `${V##p}`, `${V%p}`, `${V%%p}`, `${V/p/r}`, `${V//p/r}`),
//! with quotes and escapes, keeping where each piece of the result comes from.
//!
//! A value the file does not give (an `ARG` without default, a platform argument) becomes a
//! hole: an empty segment remembered as unknown, so a caller can still match the rest of the
//! word (`binaries-$TARGETOS` against the stage names) instead of giving up on it.
//!
//! The result is a list of segments: literal bytes of the file, or the value of an `ARG` whose
//! default (when written) is where an edit has to go. An `ARG` default that itself uses other
//! arguments, or that is quoted in pieces, is spliced in as its own segments, so every segment
//! still points at bytes that hold exactly its text.

use std::collections::HashMap;
use std::ops::Range;

use crate::model::{Segment, SegmentSource, Span};

use super::logical::Logical;
use super::pattern::{MAX_PATTERN, MAX_SUBJECT, Pattern, Token};

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
    /// Indices of `segments` whose value is unknown.
    holes: Vec<usize>,
    /// Where an empty default sits (inside its quotes, when quoted), so it can still be edited.
    empty_at: Span,
}

impl Value {
    fn text(&self) -> String {
        self.segments.iter().map(|s| s.text.as_str()).collect()
    }

    /// This value used as `$name`.
    fn used_as(&self, name: &str) -> Expansion {
        let (segments, holes) = match self.segments.as_slice() {
            [] => (
                vec![arg_segment(name, String::new(), Some(self.empty_at))],
                Vec::new(),
            ),
            [
                Segment {
                    text,
                    source: SegmentSource::Literal { span },
                },
            ] => (
                vec![arg_segment(name, text.clone(), Some(*span))],
                Vec::new(),
            ),
            _ => (self.segments.clone(), self.holes.clone()),
        };
        Expansion {
            segments,
            missing: self.missing.clone(),
            holes,
        }
    }

    /// A value that is not written in the file (a platform argument's, assumed for a build),
    /// so it points at no bytes.
    pub(crate) fn assumed(name: &str, text: &str) -> Value {
        Value {
            segments: vec![arg_segment(name, text.to_string(), None)],
            missing: Vec::new(),
            holes: Vec::new(),
            empty_at: Span::new(0, 0),
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
    /// Indices of `segments` whose value is unknown (empty text in the segment).
    holes: Vec<usize>,
}

impl Expansion {
    pub(crate) fn text(&self) -> String {
        self.segments.iter().map(|s| s.text.as_str()).collect()
    }

    /// The word as a pattern: its text, with `*` for each value the file does not give.
    /// Letters are lower-cased, as stage names are compared.
    pub(crate) fn pattern(&self) -> Pattern {
        let mut tokens = Vec::new();
        for (index, segment) in self.segments.iter().enumerate() {
            if self.holes.contains(&index) {
                tokens.push(Token::Any);
            } else {
                let lower = segment.text.to_ascii_lowercase();
                tokens.extend(lower.chars().map(Token::Char));
            }
        }
        Pattern::from_tokens(tokens)
    }

    /// A value unknown to the file, standing for `name`.
    fn hole(name: &str, missing: Vec<Missing>) -> Expansion {
        Expansion {
            segments: vec![arg_segment(name, String::new(), None)],
            missing,
            holes: vec![0],
        }
    }

    /// The part of this (hole-free) word at `range` of its text, each piece still pointing at
    /// the bytes that hold it.
    fn slice(&self, range: Range<usize>) -> Expansion {
        let mut out = Expansion::default();
        let mut at = 0;
        for segment in &self.segments {
            let (start, end) = (at, at + segment.text.len());
            at = end;
            let (from, to) = (range.start.max(start), range.end.min(end));
            if from >= to {
                continue;
            }
            let Some(text) = segment.text.get(from - start..to - start) else {
                debug_assert!(false, "a slice of an expansion cuts a character");
                continue;
            };
            let part =
                |span: Span| Span::new(span.start + (from - start), span.start + (to - start));
            let source = match &segment.source {
                SegmentSource::Literal { span } => {
                    // `literal` only ever merges adjacent bytes.
                    debug_assert_eq!(span.len(), segment.text.len());
                    SegmentSource::Literal { span: part(*span) }
                }
                SegmentSource::Arg { name, default_span } => SegmentSource::Arg {
                    name: name.clone(),
                    // An escaped or quoted default is not byte for byte its value.
                    default_span: default_span
                        .filter(|span| span.len() == segment.text.len())
                        .map(part),
                },
                SegmentSource::Implied => SegmentSource::Implied,
            };
            out.segments.push(Segment {
                text: text.to_string(),
                source,
            });
        }
        out
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
        let offset = self.segments.len();
        self.holes.extend(other.holes.iter().map(|h| h + offset));
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
        "`{0}` is a substitution patchwright does not evaluate; use `${{NAME}}`, `${{NAME:-default}}`, `${{NAME:+alternative}}`, `${{NAME#pattern}}`, `${{NAME%pattern}}` or `${{NAME/pattern/replacement}}`"
    )]
    Unsupported(String),
    #[error(
        "a pattern of more than {MAX_PATTERN} bytes, or applied to a value of more than {MAX_SUBJECT} bytes"
    )]
    PatternTooLong,
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
    // `range` is the value of an ARG word of this text, after its `=`.
    debug_assert!(
        logical.text().get(range.clone()).is_some(),
        "ARG default {range:?}"
    );
    let raw = logical.text().get(range.clone()).unwrap_or_default();
    let inside_quotes = matches!(raw, "\"\"" | "''");
    let at = logical.offset(range.start) + usize::from(inside_quotes);
    Ok(Value {
        segments: expansion.segments,
        missing: expansion.missing,
        holes: expansion.holes,
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
        let result = match self.bump() {
            Some((_, '}')) => self.value(&name),
            Some((_, ':')) => match self.bump() {
                Some((_, op @ ('-' | '+' | '?'))) => self.fallback(&name, true, op)?,
                Some((_, other)) => {
                    return Err(SubstError::Unsupported(format!("${{{name}:{other}…}}")));
                }
                None => return Err(SubstError::Unclosed('{')),
            },
            Some((_, op @ ('-' | '+' | '?'))) => self.fallback(&name, false, op)?,
            Some((_, op @ ('#' | '%'))) => {
                let longest = self.eat(op);
                let pattern = self.nested('}')?;
                self.bump();
                self.trim(&name, op, longest, &pattern)?
            }
            Some((_, '/')) => {
                let all = self.eat('/');
                let pattern = self.nested('/')?;
                self.bump();
                let replacement = self.nested('}')?;
                self.bump();
                self.replace(&name, all, &pattern, replacement)?
            }
            Some((_, other)) => {
                return Err(SubstError::Unsupported(format!("${{{name}{other}…}}")));
            }
            None => return Err(SubstError::Unclosed('{')),
        };
        out.extend(result)
    }

    fn eat(&mut self, c: char) -> bool {
        let next = self.peek() == Some(c);
        if next {
            self.bump();
        }
        next
    }

    /// A word inside `${…}`, up to `stop` (not consumed).
    fn nested(&mut self, stop: char) -> Result<Expansion, SubstError> {
        if self.depth >= MAX_DEPTH {
            return Err(SubstError::TooDeep);
        }
        self.depth += 1;
        let word = self.word(Some(stop));
        self.depth -= 1;
        word
    }

    /// `${name-word}`, `${name:+word}`, … after the operator.
    fn fallback(&mut self, name: &str, colon: bool, op: char) -> Result<Expansion, SubstError> {
        let alternative = self.nested('}')?;
        self.bump();
        let value = self.scope.get(name);
        let is_set = matches!(value, Some(Some(_)));
        let non_empty = matches!(value, Some(Some(v)) if !v.text().is_empty());
        let condition = if colon { is_set && non_empty } else { is_set };
        Ok(match (op, condition) {
            ('-', true) | ('?', true) => self.value(name),
            ('-', false) | ('+', true) => alternative,
            ('+', false) => Expansion::default(),
            _ => self.unknown(name),
        })
    }

    /// The value of `name` and the pattern, when both are known and small enough to match.
    fn pattern_subject(
        &self,
        name: &str,
        pattern: &Expansion,
    ) -> Result<Result<(Expansion, Pattern), Expansion>, SubstError> {
        let value = self.value(name);
        if !value.holes.is_empty() || !pattern.holes.is_empty() {
            let mut missing = value.missing;
            missing.extend(pattern.missing.iter().cloned());
            return Ok(Err(Expansion::hole(name, missing)));
        }
        let text = pattern.text();
        if text.len() > MAX_PATTERN || value.text().len() > MAX_SUBJECT {
            return Err(SubstError::PatternTooLong);
        }
        match Pattern::shell(&text) {
            Some(compiled) => Ok(Ok((value, compiled))),
            None => Err(SubstError::Unsupported(format!("${{{name}…{text}}}"))),
        }
    }

    /// `${name#p}`, `${name##p}`, `${name%p}`, `${name%%p}`.
    fn trim(
        &self,
        name: &str,
        op: char,
        longest: bool,
        pattern: &Expansion,
    ) -> Result<Expansion, SubstError> {
        let (value, compiled) = match self.pattern_subject(name, pattern)? {
            Ok(known) => known,
            Err(hole) => return Ok(hole),
        };
        let text = value.text();
        let kept = if op == '#' {
            compiled.trim_prefix(&text, longest)
        } else {
            compiled.trim_suffix(&text, longest)
        };
        Ok(value.slice(kept))
    }

    /// `${name/p/r}`, `${name//p/r}`.
    fn replace(
        &self,
        name: &str,
        all: bool,
        pattern: &Expansion,
        replacement: Expansion,
    ) -> Result<Expansion, SubstError> {
        let (value, compiled) = match self.pattern_subject(name, pattern)? {
            Ok(known) => known,
            Err(hole) => return Ok(hole),
        };
        if compiled.is_empty() {
            return Ok(value);
        }
        let text = value.text();
        let mut out = Expansion::default();
        let mut at = 0;
        for found in compiled.find(&text, all) {
            out.extend(value.slice(at..found.start))?;
            out.extend(replacement.clone())?;
            at = found.end;
        }
        out.extend(value.slice(at..text.len()))?;
        Ok(out)
    }

    fn value(&self, name: &str) -> Expansion {
        match self.scope.get(name) {
            Some(Some(value)) => value.used_as(name),
            _ => self.unknown(name),
        }
    }

    fn unknown(&self, name: &str) -> Expansion {
        let missing = Missing {
            name: name.to_string(),
            declared: self.scope.get(name).is_some(),
        };
        Expansion::hole(name, vec![missing])
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
    fn buildkit_patterns_trim_and_replace() {
        let mut scope = ArgScope::default();
        let source = "linux/arm/v7";
        declare(&mut scope, source, "P", 0..source.len());
        let cases = [
            ("${P#*/}", "arm/v7"),
            ("${P##*/}", "v7"),
            ("${P%/*}", "linux/arm"),
            ("${P%%/*}", "linux"),
            ("${P#linux/arm/v7}", ""),
            ("${P/\\//-}", "linux-arm/v7"),
            ("${P//\\//-}", "linux-arm-v7"),
            ("${P/arm/${P%%/*}}", "linux/linux/v7"),
            ("x${P#nomatch}", "xlinux/arm/v7"),
        ];
        for (word, want) in cases {
            let expansion = expand(&logical(word), 0..word.len(), '\\', &scope).unwrap();
            assert_eq!(expansion.text(), want, "{word}");
            assert!(expansion.missing.is_empty(), "{word}");
        }
        // What is left of the default still points at its bytes, for an edit.
        let expansion = expand(&logical("${P##*/}"), 0..8, '\\', &scope).unwrap();
        match &expansion.segments[..] {
            [
                Segment {
                    source:
                        SegmentSource::Arg {
                            default_span: Some(span),
                            ..
                        },
                    ..
                },
            ] => assert_eq!(span.slice(source), Some("v7")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn unknown_values_are_holes_in_the_pattern() {
        let mut scope = ArgScope::default();
        scope.declare("DEBUG", None);
        // `TARGETOS` is in no scope: BuildKit sets it, the file cannot say to what.
        let word = "binaries-$TARGETOS${DEBUG:+-debug}${TARGETPLATFORM#linux/}";
        let expansion = expand(&logical(word), 0..word.len(), '\\', &scope).unwrap();
        assert_eq!(expansion.text(), "binaries-");
        let names: Vec<_> = expansion.missing.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, vec!["TARGETOS", "TARGETPLATFORM"]);
        let pattern = expansion.pattern();
        assert!(pattern.matches("binaries-linux"));
        assert!(!pattern.matches("buildkit-linux"));
    }

    #[test]
    fn unsupported_and_unclosed_are_errors() {
        let scope = ArgScope::default();
        assert!(matches!(
            expand(&logical("${V^x}"), 0..6, '\\', &scope),
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
