//! The `[[package]]` tables that Cargo.lock and poetry.lock share, read with byte spans.
//!
//! Both formats are TOML whose `package` key is an array of tables with a `name` and a `version`;
//! the format-specific fields (`source`, `dependencies`) are left in `table` for the caller.

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::lines::{LineIndex, exact_span};
use crate::model::{ErrorCode, FileError, Span};

/// More syntax errors than this from one file are noise: the first ones say what to fix.
const MAX_SYNTAX_ERRORS: usize = 20;

/// What the caller says in messages: the file kind and how a person regenerates it.
#[derive(Clone, Copy)]
pub(crate) struct LockFormat {
    /// e.g. "Cargo.lock".
    pub(crate) name: &'static str,
    /// e.g. "regenerate it with `cargo generate-lockfile`".
    pub(crate) regenerate: &'static str,
}

pub(crate) struct PackageTable<'t, 'i> {
    pub(crate) table: &'t DeTable<'i>,
    pub(crate) name: &'t str,
    pub(crate) name_span: Span,
    pub(crate) version: &'t str,
    /// `None` when the version's text in the file differs from its value (escapes).
    pub(crate) version_span: Option<Span>,
}

/// Parses the document, turning syntax errors into `FileError`s. TOML recovery keeps the tables
/// that parsed, so one bad line does not hide the rest of the file.
pub(crate) fn parse_document<'i>(
    file: &str,
    source: &'i str,
    lines: &LineIndex<'_>,
    format: LockFormat,
    errors: &mut Vec<FileError>,
) -> Spanned<DeTable<'i>> {
    let (doc, syntax_errors) = DeTable::parse_recoverable(source);
    let mut seen_lines = Vec::new();
    for error in syntax_errors {
        let line = error.span().map_or(0, |span| lines.line(span.start));
        if seen_lines.contains(&line) {
            continue;
        }
        if seen_lines.len() == MAX_SYNTAX_ERRORS {
            let message = format!(
                "more TOML syntax errors follow; fix the ones above first, or {}",
                format.regenerate
            );
            errors.push(FileError::new(file, 0, message).with_code(ErrorCode::LockfileSyntax));
            break;
        }
        seen_lines.push(line);
        let detail = error.message().trim().replace('\n', "; ");
        let message = format!(
            "{} is not valid TOML here ({detail}); restore it from version control or {}",
            format.name, format.regenerate
        );
        errors.push(FileError::new(file, line, message).with_code(ErrorCode::LockfileSyntax));
    }
    doc
}

/// Is the string value at `raw` closed by its quote? TOML error recovery still gives a value
/// for a string the end of the file cut off, and that value is only the start of the real one.
fn is_terminated(source: &str, raw: std::ops::Range<usize>) -> bool {
    let Some(text) = source.get(raw) else {
        return false;
    };
    let quote = match text.chars().next() {
        Some(q @ ('"' | '\'')) => q,
        _ => return true,
    };
    let triple: String = std::iter::repeat_n(quote, 3).collect();
    let delimiter = if text.len() >= 6 && text.starts_with(&triple) {
        triple.as_str()
    } else if text.len() >= 2 {
        &text[..1]
    } else {
        return false;
    };
    let Some(body) = text.strip_suffix(delimiter) else {
        return false;
    };
    // In a basic string, a quote after an odd run of backslashes is escaped, not closing.
    let backslashes = body.len() - body.trim_end_matches('\\').len();
    quote == '\'' || backslashes % 2 == 0
}

/// The text of a string value and, when its raw text equals it, the span inside the quotes.
pub(crate) fn string_value<'t>(
    source: &str,
    value: &'t Spanned<DeValue<'_>>,
) -> Option<(&'t str, Option<Span>)> {
    let DeValue::String(text) = value.get_ref() else {
        return None;
    };
    let raw = value.span();
    let quote = if source
        .get(raw.clone())
        .is_some_and(|r| r.len() >= 6 && (r.starts_with("\"\"\"") || r.starts_with("'''")))
    {
        3
    } else {
        1
    };
    // Recovery after a syntax error can leave a string whose span is shorter than its quotes.
    let (start, end) = (
        raw.start.saturating_add(quote),
        raw.end.saturating_sub(quote),
    );
    let inner = (start <= end)
        .then(|| exact_span(source, Span::new(start, end), text))
        .flatten();
    Some((text.as_ref(), inner))
}

/// Every well-formed `[[package]]` table; malformed ones become errors naming their line.
pub(crate) fn package_tables<'t, 'i>(
    file: &str,
    source: &str,
    doc: &'t DeTable<'i>,
    lines: &LineIndex<'_>,
    format: LockFormat,
    errors: &mut Vec<FileError>,
) -> Vec<PackageTable<'t, 'i>> {
    let Some(packages) = doc.get("package") else {
        return Vec::new();
    };
    let DeValue::Array(items) = packages.get_ref() else {
        let message = format!(
            "`package` must be a list of `[[package]]` tables, found {}; {}",
            a(packages.get_ref().type_str()),
            format.regenerate
        );
        let line = lines.line(packages.span().start);
        errors.push(FileError::new(file, line, message).with_code(ErrorCode::LockfileEntry));
        return Vec::new();
    };
    let mut tables = Vec::with_capacity(items.len());
    for item in items.iter() {
        let header_line = lines.line(item.span().start);
        let mut problem = |code: ErrorCode, message: String| {
            errors.push(FileError::new(file, header_line, message).with_code(code));
        };
        let DeValue::Table(table) = item.get_ref() else {
            problem(
                ErrorCode::LockfileEntry,
                format!(
                    "`package` entries must be tables, found {}; {}",
                    a(item.get_ref().type_str()),
                    format.regenerate
                ),
            );
            continue;
        };
        let field = |key: &str| table.get(key).map(|v| (v, string_value(source, v)));
        let (name, name_span) = match field("name") {
            Some((_, Some((name, Some(span))))) if !name.trim().is_empty() => (name, span),
            Some((_, Some((name, None)))) if !name.trim().is_empty() => {
                // An escaped name still names the package; point at the whole value.
                let span = table.get("name").map(|v| v.span()).unwrap_or_default();
                (name, Span::new(span.start, span.end))
            }
            Some((value, _)) if !value.get_ref().is_str() => {
                problem(
                    ErrorCode::LockfileEntry,
                    format!(
                        "`[[package]]` `name` must be a string, found {}; {}",
                        a(value.get_ref().type_str()),
                        format.regenerate
                    ),
                );
                continue;
            }
            _ => {
                problem(
                    ErrorCode::LockfileEntry,
                    format!("`[[package]]` has no `name`; {}", format.regenerate),
                );
                continue;
            }
        };
        // A string that is never closed: its value is only the start of the real one. The TOML
        // syntax error already names its line, unless the end of the file cut it off.
        let unclosed = ["name", "version"].iter().find_map(|key| {
            table
                .get(*key)
                .filter(|v| v.get_ref().is_str() && !is_terminated(source, v.span()))
        });
        if let Some(value) = unclosed {
            if value.span().end >= source.trim_end().len() {
                problem(
                    ErrorCode::LockfileTruncated,
                    format!(
                        "`[[package]]` ends inside a string that is never closed: the file looks cut off; {}",
                        format.regenerate
                    ),
                );
            }
            continue;
        }
        let (version, version_span) = match field("version") {
            Some((_, Some((version, span)))) if !version.trim().is_empty() => (version, span),
            Some((value, _)) if !value.get_ref().is_str() => {
                problem(
                    ErrorCode::LockfileEntry,
                    format!(
                        "`{name}` has a `version` that is {}, not a string like \"1.2.3\"; {}",
                        a(value.get_ref().type_str()),
                        format.regenerate
                    ),
                );
                continue;
            }
            _ => {
                problem(
                    ErrorCode::LockfileEntry,
                    format!("`{name}` has no `version`; {}", format.regenerate),
                );
                continue;
            }
        };
        tables.push(PackageTable {
            table,
            name,
            name_span,
            version,
            version_span,
        });
    }
    tables
}

/// "an integer", "a string": TOML type names with their article, for messages.
fn a(type_name: &str) -> String {
    let article = if type_name.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {type_name}")
}
