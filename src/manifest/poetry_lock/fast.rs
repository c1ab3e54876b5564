//! A line reader for the poetry.lock that Poetry itself writes, about twenty times faster than
//! building the whole TOML document (a 5,000-package poetry.lock was 38 % of a monorepo's
//! parse time, nearly all of it in `toml` building tables nobody reads).
//!
//! It accepts only a strict subset of TOML, the one Poetry emits: `[[package]]`,
//! `[package.NAME]`, `[metadata]` and `[metadata.files]` headers written exactly so; `key = value`
//! lines with bare or plain double-quoted keys; values that are plain double-quoted strings (no
//! escapes), `true`/`false`, arrays and one-line inline tables of those. Keys are checked for
//! duplicates as TOML does. Anything else (escapes, literal strings, numbers, dates, dotted keys,
//! other tables, CR, control characters) gives `None`, and the caller reads the file with the
//! `toml` crate as before, so errors and odd files behave exactly as they always did. On
//! what it accepts it gives exactly the packages the TOML path gives.

use std::collections::HashSet;

use crate::model::Span;

/// One `[[package]]` as the TOML path would report it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct FastPackage<'a> {
    pub(super) name: &'a str,
    /// Inside the quotes.
    pub(super) name_span: Span,
    pub(super) version: &'a str,
    pub(super) version_span: Span,
    /// `[package.source]` has `type = "directory"`.
    pub(super) is_directory: bool,
}

/// The packages in file order, or `None` when the file is not in the subset (see the module).
pub(super) fn read(source: &str) -> Option<Vec<FastPackage<'_>>> {
    if source
        .bytes()
        .any(|b| (b < 0x20 && b != b'\n') || b == 0x7f)
        || source.starts_with('\u{feff}')
    {
        return None;
    }
    let mut reader = Reader {
        packages: Vec::new(),
        current: None,
        table: Table::Root,
        keys: HashSet::new(),
        sub_keys: HashSet::new(),
        metadata_keys: HashSet::new(),
        metadata: Metadata::None,
    };
    let mut offset = 0;
    let mut lines = source.split_inclusive('\n');
    while let Some(raw) = lines.next() {
        let start = offset;
        offset += raw.len();
        let line = raw.strip_suffix('\n').unwrap_or(raw);
        let trimmed = line.trim_start_matches(' ');
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        if trimmed.starts_with('[') {
            reader.header(trimmed)?;
            continue;
        }
        // `key = value`, the value possibly an array running over the following lines.
        let indent = line.len() - trimmed.len();
        let (key, after_key) = key(trimmed)?;
        let rest = after_key.trim_start_matches(' ').strip_prefix('=')?;
        let value_start = start + indent + (trimmed.len() - rest.len());
        let mut cursor = Cursor {
            text: source,
            at: value_start,
            end: start + line.len(),
        };
        cursor.spaces();
        let value = cursor.value(&mut lines, &mut offset)?;
        cursor.spaces();
        if !cursor.at_line_end() {
            return None;
        }
        reader.key_value(key, value)?;
    }
    reader.finish_package()?;
    Some(reader.packages)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Table {
    /// Before any header: Poetry writes no top-level keys.
    Root,
    Package,
    /// `[package.source]`.
    PackageSource,
    /// Any other `[package.NAME]`: its keys are checked, not read.
    PackageOther,
    Metadata,
    MetadataFiles,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Metadata {
    None,
    Seen,
    FilesSeen,
}

struct Package<'a> {
    name: Option<(&'a str, Span)>,
    version: Option<(&'a str, Span)>,
    source_type: Option<&'a str>,
}

struct Reader<'a> {
    packages: Vec<FastPackage<'a>>,
    current: Option<Package<'a>>,
    table: Table,
    /// Keys of the current `[[package]]` with its sub-tables' names (TOML's no-duplicates
    /// rule: `files = …` and `[package.files]` clash); the keys of `[metadata.files]` after
    /// the packages.
    keys: HashSet<&'a str>,
    /// The current `[package.NAME]` sub-table's keys.
    sub_keys: HashSet<&'a str>,
    metadata_keys: HashSet<&'a str>,
    metadata: Metadata,
}

/// A value as far as the reader cares.
enum Value<'a> {
    /// A plain string and the span of its text inside the quotes.
    Str(&'a str, Span),
    Other,
}

impl<'a> Reader<'a> {
    fn header(&mut self, line: &'a str) -> Option<()> {
        let line = line.trim_end_matches(' ');
        if line == "[[package]]" {
            if self.metadata != Metadata::None {
                // `[[package]]` after `[metadata]` is valid TOML but not Poetry's layout.
                return None;
            }
            self.finish_package()?;
            self.current = Some(Package {
                name: None,
                version: None,
                source_type: None,
            });
            self.keys.clear();
            self.table = Table::Package;
            return Some(());
        }
        if line == "[metadata]" {
            if self.metadata != Metadata::None {
                return None;
            }
            self.finish_package()?;
            self.metadata = Metadata::Seen;
            self.table = Table::Metadata;
            return Some(());
        }
        if line == "[metadata.files]" {
            if self.metadata != Metadata::Seen || !self.metadata_keys.insert("files") {
                return None;
            }
            self.metadata = Metadata::FilesSeen;
            self.keys.clear();
            self.table = Table::MetadataFiles;
            return Some(());
        }
        let name = line.strip_prefix("[package.")?.strip_suffix(']')?;
        if self.current.is_none() || !is_bare_key(name) || self.metadata != Metadata::None {
            return None;
        }
        // The sub-table's name is a key of the package: `files = …` and `[package.files]` clash.
        if !self.keys.insert(name) {
            return None;
        }
        self.sub_keys.clear();
        self.table = if name == "source" {
            Table::PackageSource
        } else {
            Table::PackageOther
        };
        Some(())
    }

    fn key_value(&mut self, key: &'a str, value: Value<'a>) -> Option<()> {
        match self.table {
            Table::Root => return None,
            Table::Package => {
                if !self.keys.insert(key) {
                    return None;
                }
                let package = self.current.as_mut()?;
                match key {
                    "name" => package.name = Some(string(value)?),
                    "version" => package.version = Some(string(value)?),
                    // An inline `source = {…}` table would need reading; Poetry writes a table.
                    "source" => return None,
                    _ => {}
                }
            }
            Table::PackageSource | Table::PackageOther => {
                if !self.sub_keys.insert(key) {
                    return None;
                }
                if self.table == Table::PackageSource && key == "type" {
                    // A non-string `type` is simply not "directory", as on the TOML path.
                    if let Value::Str(text, _) = value {
                        self.current.as_mut()?.source_type = Some(text);
                    }
                }
            }
            Table::Metadata => {
                if !self.metadata_keys.insert(key) {
                    return None;
                }
            }
            Table::MetadataFiles => {
                if !self.keys.insert(key) {
                    return None;
                }
            }
        }
        Some(())
    }

    /// Closes the package being read; one without a usable name or version is left to the
    /// TOML path, which words the error.
    fn finish_package(&mut self) -> Option<()> {
        let Some(package) = self.current.take() else {
            return Some(());
        };
        let (name, name_span) = package.name?;
        let (version, version_span) = package.version?;
        if name.trim().is_empty() || version.trim().is_empty() {
            return None;
        }
        self.packages.push(FastPackage {
            name,
            name_span,
            version,
            version_span,
            is_directory: package.source_type == Some("directory"),
        });
        Some(())
    }
}

fn string(value: Value<'_>) -> Option<(&str, Span)> {
    match value {
        Value::Str(text, span) => Some((text, span)),
        Value::Other => None,
    }
}

fn is_bare_key(key: &str) -> bool {
    !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A bare key or a plain double-quoted one, and the text after it. The key is returned as TOML
/// sees it (without quotes), so `"a"` and `a` are the same key.
fn key(line: &str) -> Option<(&str, &str)> {
    if let Some(quoted) = line.strip_prefix('"') {
        let end = quoted.find('"')?;
        let key = &quoted[..end];
        if key.contains('\\') {
            return None;
        }
        return Some((key, &quoted[end + 1..]));
    }
    let end = line
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        .unwrap_or(line.len());
    let key = &line[..end];
    is_bare_key(key).then_some((key, &line[end..]))
}

/// A position in the source, bounded by the end of the current line (arrays move it on).
struct Cursor<'a> {
    text: &'a str,
    at: usize,
    /// End of the current line (before its `\n`).
    end: usize,
}

impl<'a> Cursor<'a> {
    fn rest(&self) -> &'a str {
        &self.text[self.at..self.end]
    }

    fn spaces(&mut self) {
        let rest = self.rest();
        self.at += rest.len() - rest.trim_start_matches(' ').len();
    }

    /// Only spaces or a comment remain on the line.
    fn at_line_end(&self) -> bool {
        let rest = self.rest();
        rest.is_empty() || rest.starts_with('#')
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.text.as_bytes().get(self.at) == Some(&c) && self.at < self.end {
            self.at += 1;
            true
        } else {
            false
        }
    }

    /// Moves to the next line (inside an array).
    fn next_line<'l>(
        &mut self,
        lines: &mut impl Iterator<Item = &'l str>,
        offset: &mut usize,
    ) -> Option<()> {
        let raw = lines.next()?;
        let start = *offset;
        *offset += raw.len();
        self.at = start;
        self.end = start + raw.strip_suffix('\n').unwrap_or(raw).len();
        Some(())
    }

    fn value<'l>(
        &mut self,
        lines: &mut impl Iterator<Item = &'l str>,
        offset: &mut usize,
    ) -> Option<Value<'a>> {
        let rest = self.rest();
        if rest.starts_with('"') {
            return self.string();
        }
        for word in ["true", "false"] {
            if rest.starts_with(word) {
                self.at += word.len();
                return self.word_ends().then_some(Value::Other);
            }
        }
        if self.eat(b'[') {
            return self.array(lines, offset);
        }
        if self.eat(b'{') {
            return self.inline_table();
        }
        None
    }

    /// After `true`/`false`: the token must end there.
    fn word_ends(&self) -> bool {
        matches!(
            self.rest().bytes().next(),
            None | Some(b' ' | b',' | b']' | b'}' | b'#')
        )
    }

    fn string(&mut self) -> Option<Value<'a>> {
        let rest = self.rest();
        let body = rest.strip_prefix('"')?;
        // `""` followed by `"` would open a multi-line string.
        if body.starts_with("\"\"") {
            return None;
        }
        let close = body.find('"')?;
        let text = &body[..close];
        if text.contains('\\') {
            return None;
        }
        let start = self.at + 1;
        self.at = start + close + 1;
        Some(Value::Str(text, Span::new(start, start + close)))
    }

    /// After `[`: values separated by commas, a trailing comma allowed, over any number of
    /// lines, with comments and blank lines between.
    fn array<'l>(
        &mut self,
        lines: &mut impl Iterator<Item = &'l str>,
        offset: &mut usize,
    ) -> Option<Value<'a>> {
        loop {
            self.array_gap(lines, offset)?;
            if self.eat(b']') {
                return Some(Value::Other);
            }
            self.value(lines, offset)?;
            self.array_gap(lines, offset)?;
            if self.eat(b']') {
                return Some(Value::Other);
            }
            if !self.eat(b',') {
                return None;
            }
        }
    }

    /// Spaces, comments and line ends inside an array.
    fn array_gap<'l>(
        &mut self,
        lines: &mut impl Iterator<Item = &'l str>,
        offset: &mut usize,
    ) -> Option<()> {
        loop {
            self.spaces();
            if !self.at_line_end() {
                return Some(());
            }
            self.next_line(lines, offset)?;
        }
    }

    /// After `{`: `key = value` pairs on one line, no trailing comma (TOML 1.0), no duplicate
    /// keys.
    fn inline_table(&mut self) -> Option<Value<'a>> {
        let mut keys: Vec<&str> = Vec::new();
        self.spaces();
        if self.eat(b'}') {
            return Some(Value::Other);
        }
        loop {
            self.spaces();
            let (key, after) = key(self.rest())?;
            if keys.contains(&key) {
                return None;
            }
            keys.push(key);
            self.at = self.end - after.len();
            self.spaces();
            if !self.eat(b'=') {
                return None;
            }
            self.spaces();
            // Arrays inside inline tables would have to stay on the line; keep it simple.
            let rest = self.rest();
            if rest.starts_with('"') {
                self.string()?;
            } else if rest.starts_with("true") || rest.starts_with("false") {
                let word = if rest.starts_with("true") { 4 } else { 5 };
                self.at += word;
                if !self.word_ends() {
                    return None;
                }
            } else {
                return None;
            }
            self.spaces();
            if self.eat(b'}') {
                return Some(Value::Other);
            }
            if !self.eat(b',') {
                return None;
            }
        }
    }
}
