//! Strict JSON as a lean tree with byte ranges, read by a byte-level reader fast enough for
//! multi-megabyte lockfiles.
//!
//! `jsonc_parser`'s AST costs most of a package-lock.json scan: a char-based scanner, a range
//! stack and comment bookkeeping for features strict JSON never uses. [`parse_fast`] reads plain
//! RFC 8259 JSON only and gives up (`None`) on anything else: an error, a byte-order mark,
//! nesting deeper than [`MAX_DEPTH`], a lone surrogate escape. The caller then parses with
//! `jsonc_parser`, whose error messages are the ones users see, and converts its AST with
//! [`from_jsonc`]; so on any input the tree is what `jsonc_parser` would give, only sooner.

use std::borrow::Cow;

use jsonc_parser::ast;

/// Containers nested deeper than this are left to `jsonc_parser` (which stops at 512 ranges);
/// the reader recurses, and no real lockfile comes near it.
const MAX_DEPTH: u32 = 200;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value<'a> {
    String(Str<'a>),
    /// Numbers are only ever checked for being numbers.
    Number,
    Bool(bool),
    Null,
    Object(Object<'a>),
    Array(Vec<Value<'a>>),
}

/// A string literal: its value (escapes decoded) and the byte range of the literal, quotes
/// included, as `jsonc_parser` gives it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Str<'a> {
    pub value: Cow<'a, str>,
    pub start: usize,
    pub end: usize,
}

/// An object's property; it starts where its name's opening quote is.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Prop<'a> {
    pub name: Str<'a>,
    pub value: Value<'a>,
}

impl Prop<'_> {
    pub fn start(&self) -> usize {
        self.name.start
    }

    pub fn name(&self) -> &str {
        &self.name.value
    }
}

/// The span inside a string literal's quotes, whatever it holds: for locations, not edits.
pub(crate) fn inner_span(lit: &Str<'_>) -> crate::model::Span {
    let start = lit.start.saturating_add(1).min(lit.end);
    crate::model::Span::new(start, lit.end.saturating_sub(1).max(start))
}

/// Properties in file order, duplicates kept (lookups find the first, as `jsonc_parser`'s).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Object<'a> {
    pub properties: Vec<Prop<'a>>,
}

impl<'a> Object<'a> {
    pub fn get(&self, name: &str) -> Option<&Prop<'a>> {
        self.properties.iter().find(|p| p.name() == name)
    }

    pub fn get_string(&self, name: &str) -> Option<&Str<'a>> {
        self.get(name)?.value.as_string()
    }

    pub fn get_bool(&self, name: &str) -> Option<bool> {
        match self.get(name)?.value {
            Value::Bool(b) => Some(b),
            _ => None,
        }
    }

    pub fn get_object(&self, name: &str) -> Option<&Object<'a>> {
        self.get(name)?.value.as_object()
    }
}

impl<'a> Value<'a> {
    pub fn as_object(&self) -> Option<&Object<'a>> {
        match self {
            Value::Object(o) => Some(o),
            _ => None,
        }
    }

    pub fn as_string(&self) -> Option<&Str<'a>> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }
}

/// `jsonc_parser`'s tree in this module's shape.
pub(crate) fn from_jsonc(value: ast::Value<'_>) -> Value<'_> {
    match value {
        ast::Value::StringLit(lit) => Value::String(from_lit(lit)),
        ast::Value::NumberLit(_) => Value::Number,
        ast::Value::BooleanLit(b) => Value::Bool(b.value),
        ast::Value::NullKeyword(_) => Value::Null,
        ast::Value::Array(array) => {
            Value::Array(array.elements.into_iter().map(from_jsonc).collect())
        }
        ast::Value::Object(object) => Value::Object(Object {
            properties: object
                .properties
                .into_iter()
                .map(|prop| Prop {
                    name: match prop.name {
                        ast::ObjectPropName::String(lit) => from_lit(lit),
                        // Only with loose property names, which strict parsing refuses.
                        ast::ObjectPropName::Word(word) => Str {
                            value: Cow::Borrowed(word.value),
                            start: word.range.start,
                            end: word.range.end,
                        },
                    },
                    value: from_jsonc(prop.value),
                })
                .collect(),
        }),
    }
}

fn from_lit(lit: ast::StringLit<'_>) -> Str<'_> {
    Str {
        value: lit.value,
        start: lit.range.start,
        end: lit.range.end,
    }
}

/// The document's value when `source` is plain strict JSON with one value (whitespace around
/// it allowed); `None` for anything else, including an empty document.
pub(crate) fn parse_fast(source: &str) -> Option<Value<'_>> {
    let mut reader = Reader {
        source,
        bytes: source.as_bytes(),
        pos: 0,
        depth: 0,
    };
    reader.skip_ws();
    let value = reader.value()?;
    reader.skip_ws();
    (reader.pos == reader.bytes.len()).then_some(value)
}

struct Reader<'a> {
    source: &'a str,
    bytes: &'a [u8],
    pos: usize,
    depth: u32,
}

impl<'a> Reader<'a> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    fn value(&mut self) -> Option<Value<'a>> {
        match self.peek()? {
            b'{' => self.object(),
            b'[' => self.array(),
            b'"' => self.string().map(Value::String),
            b't' => self.word(b"true", Value::Bool(true)),
            b'f' => self.word(b"false", Value::Bool(false)),
            b'n' => self.word(b"null", Value::Null),
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    fn word(&mut self, word: &[u8], value: Value<'a>) -> Option<Value<'a>> {
        let end = self.pos + word.len();
        if self.bytes.get(self.pos..end)? != word {
            return None;
        }
        self.pos = end;
        // `truex` is not `true` followed by something: the caller's delimiter check refuses it.
        Some(value)
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
    fn number(&mut self) -> Option<Value<'a>> {
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek()? {
            b'0' => self.pos += 1,
            b'1'..=b'9' => self.digits(),
            _ => return None,
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            self.require_digits()?;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            self.require_digits()?;
        }
        Some(Value::Number)
    }

    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
    }

    fn require_digits(&mut self) -> Option<()> {
        let from = self.pos;
        self.digits();
        (self.pos > from).then_some(())
    }

    fn enter(&mut self) -> Option<()> {
        self.depth += 1;
        (self.depth <= MAX_DEPTH).then_some(())
    }

    fn object(&mut self) -> Option<Value<'a>> {
        self.enter()?;
        self.pos += 1; // `{`
        let mut properties = Vec::new();
        self.skip_ws();
        if self.peek()? == b'}' {
            self.pos += 1;
        } else {
            loop {
                if self.peek()? != b'"' {
                    return None;
                }
                let name = self.string()?;
                self.skip_ws();
                if self.peek()? != b':' {
                    return None;
                }
                self.pos += 1;
                self.skip_ws();
                let value = self.value()?;
                properties.push(Prop { name, value });
                self.skip_ws();
                match self.peek()? {
                    b',' => {
                        self.pos += 1;
                        self.skip_ws();
                    }
                    b'}' => {
                        self.pos += 1;
                        break;
                    }
                    _ => return None,
                }
            }
        }
        self.depth -= 1;
        Some(Value::Object(Object { properties }))
    }

    fn array(&mut self) -> Option<Value<'a>> {
        self.enter()?;
        self.pos += 1; // `[`
        let mut elements = Vec::new();
        self.skip_ws();
        if self.peek()? == b']' {
            self.pos += 1;
        } else {
            loop {
                elements.push(self.value()?);
                self.skip_ws();
                match self.peek()? {
                    b',' => {
                        self.pos += 1;
                        self.skip_ws();
                    }
                    b']' => {
                        self.pos += 1;
                        break;
                    }
                    _ => return None,
                }
            }
        }
        self.depth -= 1;
        Some(Value::Array(elements))
    }

    /// At an opening quote. Borrowed when the literal has no escapes; control characters,
    /// unknown escapes and lone surrogates give up.
    fn string(&mut self) -> Option<Str<'a>> {
        let start = self.pos;
        self.pos += 1;
        let from = self.pos;
        loop {
            match self.peek()? {
                b'"' => {
                    self.pos += 1;
                    return Some(Str {
                        value: Cow::Borrowed(&self.source[from..self.pos - 1]),
                        start,
                        end: self.pos,
                    });
                }
                b'\\' => break,
                0x00..=0x1F => return None,
                _ => self.pos += 1,
            }
        }
        let mut value = String::from(&self.source[from..self.pos]);
        loop {
            match self.peek()? {
                b'"' => {
                    self.pos += 1;
                    return Some(Str {
                        value: Cow::Owned(value),
                        start,
                        end: self.pos,
                    });
                }
                b'\\' => {
                    self.pos += 1;
                    let escaped = self.peek()?;
                    self.pos += 1;
                    value.push(match escaped {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => self.unicode_escape()?,
                        _ => return None,
                    });
                }
                0x00..=0x1F => return None,
                _ => {
                    // Copy the run up to the next quote or backslash in one go (always at a
                    // char boundary: both are ASCII).
                    let run = self.pos;
                    while let Some(b) = self.peek() {
                        if b == b'"' || b == b'\\' || b < 0x20 {
                            break;
                        }
                        self.pos += 1;
                    }
                    value.push_str(&self.source[run..self.pos]);
                }
            }
        }
    }

    /// After `\u`: one code point, or a surrogate pair written as two escapes.
    fn unicode_escape(&mut self) -> Option<char> {
        let first = self.hex4()?;
        match first {
            0xD800..=0xDBFF => {
                if self.bytes.get(self.pos..self.pos + 2)? != b"\\u" {
                    return None;
                }
                self.pos += 2;
                let second = self.hex4()?;
                if !(0xDC00..=0xDFFF).contains(&second) {
                    return None;
                }
                char::from_u32(0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00))
            }
            0xDC00..=0xDFFF => None,
            _ => char::from_u32(first),
        }
    }

    fn hex4(&mut self) -> Option<u32> {
        let digits = self.bytes.get(self.pos..self.pos + 4)?;
        let mut n = 0;
        for &d in digits {
            n = n * 16 + char::from(d).to_digit(16)?;
        }
        self.pos += 4;
        Some(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonc_parser::{CollectOptions, parse_to_ast};
    use proptest::prelude::*;

    /// What `jsonc_parser` gives, in this module's shape; `Err` when it refuses the text.
    fn general(source: &str) -> Result<Option<Value<'_>>, String> {
        parse_to_ast(
            source,
            &CollectOptions::default(),
            &crate::manifest::json_doc::strict_options(),
        )
        .map(|ast| ast.value.map(from_jsonc))
        .map_err(|e| e.to_string())
    }

    /// The fast reader never accepts what `jsonc_parser` refuses, and gives the same tree.
    fn agrees(source: &str) -> Result<(), TestCaseError> {
        if let Some(fast) = parse_fast(source) {
            prop_assert_eq!(general(source), Ok(Some(fast)), "{:?}", source);
        }
        Ok(())
    }

    #[test]
    fn reads_what_jsonc_parser_reads() {
        for source in [
            r#"{"a": "b", "c": [1, -2.5e+3, true, false, null, {}], "d": {"e": []}}"#,
            " \r\n\t{ \"\" : \"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00x\" } \n",
            r#"{"é": "ü€", "a": "a", "a": 0}"#,
            "[]",
            "\"s\"",
            "0",
        ] {
            assert!(parse_fast(source).is_some(), "{source}");
            agrees(source).unwrap();
        }
    }

    #[test]
    fn gives_up_on_what_is_not_plain_json() {
        for source in [
            "",
            " ",
            "{",
            r#"{"a": 1,}"#,
            r#"{"a" 1}"#,
            r#"{a: 1}"#,
            "[1 2]",
            "01",
            "1.",
            "-",
            "1e",
            "truex",
            "nul",
            "{} {}",
            "\u{feff}{}",
            "\"\\ud800\"",
            "\"\\udc00x\"",
            "\"\\x41\"",
            "\"a\tb\"",
            "\"abc",
            "// c\n{}",
            "'a'",
        ] {
            assert_eq!(parse_fast(source), None, "{source:?}");
        }
        let deep = format!("{}{}", "[".repeat(300), "]".repeat(300));
        assert_eq!(parse_fast(&deep), None);
        let fine = format!("{}{}", "[".repeat(150), "]".repeat(150));
        assert!(parse_fast(&fine).is_some());
        agrees(&fine).unwrap();
    }

    #[test]
    fn every_corpus_json_lockfile_reads_the_same() {
        let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
        let mut read = 0;
        for entry in ignore::WalkBuilder::new(&corpus).hidden(false).build() {
            let entry = entry.unwrap();
            let name = entry.file_name().to_string_lossy();
            if !(name.ends_with(".json") || name.ends_with(".lock")) {
                continue;
            }
            let Ok(text) = std::fs::read_to_string(entry.path()) else {
                continue;
            };
            if let Some(fast) = parse_fast(&text) {
                assert_eq!(general(&text), Ok(Some(fast)), "{}", entry.path().display());
                read += 1;
            }
        }
        if corpus.exists() {
            assert!(read >= 11, "only {read} corpus files read");
        }
    }

    /// Small JSON-ish texts over the characters that matter, valid or not.
    fn jsonish() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![
                Just("{".to_string()),
                Just("}".to_string()),
                Just("[".to_string()),
                Just("]".to_string()),
                Just(",".to_string()),
                Just(":".to_string()),
                Just(" ".to_string()),
                Just("\n".to_string()),
                Just("\"a\"".to_string()),
                Just("\"é\\n\"".to_string()),
                Just("\"\\u00".to_string()),
                Just("\\".to_string()),
                Just("\"".to_string()),
                Just("1".to_string()),
                Just("-0.5e3".to_string()),
                Just("0".to_string()),
                Just(".".to_string()),
                Just("e".to_string()),
                Just("true".to_string()),
                Just("null".to_string()),
                Just("/".to_string()),
                "[a-z0-9\"\\\\:,{}\\[\\] ]{0,4}",
            ],
            0..24,
        )
        .prop_map(|parts| parts.concat())
    }

    /// A valid document from generated values, to mutate.
    fn document() -> impl Strategy<Value = String> {
        let leaf = prop_oneof![
            any::<bool>().prop_map(|b| b.to_string()),
            any::<i32>().prop_map(|n| n.to_string()),
            any::<f32>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(|f| format!("{f:e}")),
            Just("null".to_string()),
            any::<String>().prop_map(|s| serde_json::to_string(&s).unwrap()),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6)
                    .prop_map(|v| format!("[{}]", v.join(", "))),
                proptest::collection::vec((any::<String>(), inner), 0..6).prop_map(|v| {
                    let props: Vec<String> = v
                        .into_iter()
                        .map(|(k, v)| format!("{}:{v}", serde_json::to_string(&k).unwrap()))
                        .collect();
                    format!("{{\n  {}\n}}", props.join(",\n  "))
                }),
            ]
        })
    }

    proptest! {
        #[test]
        fn never_accepts_more_than_jsonc_parser(source in jsonish()) {
            agrees(&source)?;
        }

        #[test]
        fn valid_documents_read_the_same(source in document()) {
            prop_assert!(parse_fast(&source).is_some(), "{:?}", source);
            agrees(&source)?;
        }

        #[test]
        fn mutated_documents_read_the_same_or_fall_back(
            source in document(),
            at in any::<prop::sample::Index>(),
            with in "[\\x00-\\x7f]|é",
            delete in any::<bool>(),
        ) {
            let mut source = source;
            let mut at = at.index(source.len() + 1);
            while !source.is_char_boundary(at) {
                at -= 1;
            }
            if delete && at < source.len() {
                source.remove(at);
            } else {
                source.insert_str(at, &with);
            }
            agrees(&source)?;
        }
    }
}
