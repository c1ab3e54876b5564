//! Reading a spanned TOML tree (toml's `DeTable`) while collecting every error with its
//! `file:line:column`, cargo-deny's `cfg.rs` habit: nothing stops at the first problem.

use std::fmt;
use std::ops::Range;

use chrono::NaiveDate;
use toml::Spanned;
use toml::de::{DeArray, DeTable, DeValue};

use crate::model::line_column;

/// One problem in a TOML file. Displays as `file:line:column: message`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, thiserror::Error)]
pub struct CatalogError {
    pub file: String,
    /// 1-based; 0 when the error is about the whole file (it cannot be read), which then
    /// displays as its message alone.
    pub line: u32,
    /// 1-based, in characters.
    pub column: u32,
    pub message: String,
}

impl fmt::Display for CatalogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            return f.write_str(&self.message);
        }
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, self.line, self.column, self.message
        )
    }
}

pub(crate) type Value<'i> = Spanned<DeValue<'i>>;

/// The file being read and the errors found so far.
pub(crate) struct Reader<'a> {
    pub file: &'a str,
    pub text: &'a str,
    pub errors: Vec<CatalogError>,
}

impl<'a> Reader<'a> {
    pub fn new(file: &'a str, text: &'a str) -> Reader<'a> {
        Reader {
            file,
            text,
            errors: Vec::new(),
        }
    }

    pub fn error(&mut self, span: Range<usize>, message: impl Into<String>) {
        let (line, column) = line_column(self.text, span.start);
        self.errors.push(CatalogError {
            file: self.file.to_string(),
            line,
            column,
            message: message.into(),
        });
    }

    /// Line and column of a span's start.
    pub fn position(&self, span: &Range<usize>) -> (u32, u32) {
        line_column(self.text, span.start)
    }

    /// Reports every key of `table` that is not in `known`, suggesting the nearest known key.
    /// Returns how many there were.
    pub fn check_keys(&mut self, table: &DeTable<'_>, section: &str, known: &[&str]) -> usize {
        let mut unknown = 0;
        for (key, _) in table.iter() {
            let name: &str = key.get_ref();
            if known.contains(&name) {
                continue;
            }
            let mut message = format!("unknown key `{name}` in {section}");
            match suggest(name, known) {
                Some(near) => message.push_str(&format!("; did you mean `{near}`?")),
                None => message.push_str(&format!("; expected one of: {}", known.join(", "))),
            }
            self.error(key.span(), message);
            unknown += 1;
        }
        unknown
    }

    /// A required key: reports it missing at `at` (the table's header).
    pub fn require<'t, 'i>(
        &mut self,
        table: &'t DeTable<'i>,
        key: &str,
        section: &str,
        at: Range<usize>,
        example: &str,
    ) -> Option<&'t Value<'i>> {
        let value = table.get(key);
        if value.is_none() {
            self.error(
                at,
                format!("{section} needs `{key}`, e.g. `{key} = {example}`"),
            );
        }
        value
    }

    pub fn string<'v>(&mut self, value: &'v Value<'_>, key: &str) -> Option<&'v str> {
        match value.get_ref() {
            DeValue::String(s) if s.trim().is_empty() => {
                self.error(value.span(), format!("`{key}` must not be empty"));
                None
            }
            DeValue::String(s) => Some(s.as_ref()),
            other => {
                self.type_error(value.span(), key, "a string", other);
                None
            }
        }
    }

    pub fn boolean(&mut self, value: &Value<'_>, key: &str) -> Option<bool> {
        match value.get_ref() {
            DeValue::Boolean(b) => Some(*b),
            other => {
                self.type_error(value.span(), key, "`true` or `false`", other);
                None
            }
        }
    }

    /// An array of strings; each entry comes with its span. Non-string entries are reported.
    pub fn strings<'v>(&mut self, value: &'v Value<'_>, key: &str) -> Vec<(&'v str, Range<usize>)> {
        let Some(array) = self.array(value, key, "an array of strings") else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for item in array.iter() {
            match item.get_ref() {
                DeValue::String(s) if s.trim().is_empty() => {
                    self.error(item.span(), format!("`{key}` entries must not be empty"));
                }
                DeValue::String(s) => out.push((s.as_ref(), item.span())),
                other => {
                    let found = article(other.type_str());
                    self.error(
                        item.span(),
                        format!("`{key}` entries must be strings, found {found}"),
                    );
                }
            }
        }
        out
    }

    pub fn array<'v, 'i>(
        &mut self,
        value: &'v Value<'i>,
        key: &str,
        expected: &str,
    ) -> Option<&'v DeArray<'i>> {
        match value.get_ref() {
            DeValue::Array(a) => Some(a),
            other => {
                self.type_error(value.span(), key, expected, other);
                None
            }
        }
    }

    pub fn table<'v, 'i>(&mut self, value: &'v Value<'i>, key: &str) -> Option<&'v DeTable<'i>> {
        match value.get_ref() {
            DeValue::Table(t) => Some(t),
            other => {
                self.type_error(value.span(), key, "a table", other);
                None
            }
        }
    }

    /// A date: a TOML local date (`2024-03-11`) or a string holding one.
    pub fn date(&mut self, value: &Value<'_>, key: &str) -> Option<NaiveDate> {
        let bad = |shown: &str| format!("`{key}` must be a date like `2024-03-11`, not `{shown}`");
        match value.get_ref() {
            DeValue::Datetime(dt) => match (dt.date, dt.time, dt.offset) {
                (Some(d), None, None) => {
                    let date = NaiveDate::from_ymd_opt(
                        i32::from(d.year),
                        u32::from(d.month),
                        u32::from(d.day),
                    );
                    if date.is_none() {
                        self.error(value.span(), bad(&dt.to_string()));
                    }
                    date
                }
                _ => {
                    self.error(value.span(), bad(&dt.to_string()));
                    None
                }
            },
            DeValue::String(s) => match NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d") {
                Ok(d) => Some(d),
                Err(_) => {
                    self.error(value.span(), bad(s));
                    None
                }
            },
            other => {
                self.type_error(value.span(), key, "a date like `2024-03-11`", other);
                None
            }
        }
    }

    fn type_error(&mut self, span: Range<usize>, key: &str, expected: &str, found: &DeValue<'_>) {
        self.error(
            span,
            format!(
                "`{key}` must be {expected}, found {}",
                article(found.type_str())
            ),
        );
    }

    /// The errors, sorted by position.
    pub fn finish(mut self) -> Vec<CatalogError> {
        self.errors.sort();
        self.errors.dedup();
        self.errors
    }
}

fn article(type_name: &str) -> String {
    match type_name.chars().next() {
        Some('a' | 'e' | 'i' | 'o' | 'u') => format!("an {type_name}"),
        _ => format!("a {type_name}"),
    }
}

/// The known key nearest to `name`, when it is close enough to be a typo (see
/// [`crate::nearest`]).
pub fn suggest<'k>(name: &str, known: &[&'k str]) -> Option<&'k str> {
    crate::nearest::nearest_name(name, known)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_near_keys_only() {
        let known = ["approved", "tags", "preferred-variant", "end-of-life"];
        assert_eq!(suggest("aproved", &known), Some("approved"));
        assert_eq!(
            suggest("preferred_variant", &known),
            Some("preferred-variant")
        );
        assert_eq!(suggest("tag", &known), Some("tags"));
        assert_eq!(suggest("eol", &known), None);
        assert_eq!(suggest("colour", &known), None);
    }
}
