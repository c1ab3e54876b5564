//! Strict JSON with byte ranges, for the JSON lockfiles (Pipfile.lock, composer.lock): the tools
//! that write them read them with a strict parser, so comments and trailing commas are errors.

use jsonc_parser::ast::{Object, ObjectPropName, StringLit, Value};
use jsonc_parser::{CollectOptions, ParseOptions, parse_to_ast};

use super::cargo_lock::{LineIndex, exact_span};
use crate::model::{ErrorCode, FileError, Span};

/// What `JSON.parse` (npm, Composer's and Pipenv's own readers) accepts: comments, trailing
/// commas and the like are errors there, so they are errors here.
pub(crate) fn strict_options() -> ParseOptions {
    ParseOptions {
        allow_comments: false,
        allow_loose_object_property_names: false,
        allow_trailing_commas: false,
        allow_missing_commas: false,
        allow_single_quoted_strings: false,
        allow_hexadecimal_numbers: false,
        allow_unary_plus_numbers: false,
        allow_bare_decimal_point_numbers: false,
        allow_non_finite_numbers: false,
        allow_extended_string_escapes: false,
    }
}

/// The document's top-level value, or `None` after pushing an error that names the line and
/// says how to get a valid file back (`regenerate`, e.g. "regenerate it with `pipenv lock`").
pub(crate) fn parse<'a>(
    file: &str,
    source: &'a str,
    name: &str,
    regenerate: &str,
    lines: &LineIndex<'_>,
    errors: &mut Vec<FileError>,
) -> Option<Value<'a>> {
    match parse_to_ast(source, &CollectOptions::default(), &strict_options()) {
        Ok(ast) => ast.value,
        Err(error) => {
            let message = format!(
                "{name} is not valid JSON here ({} at column {}); restore it from version control or {regenerate}",
                error.kind(),
                error.column_display()
            );
            let offset = error.range().start;
            // JSON that stops before its end is a file cut short, not one written wrong.
            let code = if offset >= source.trim_end().len() {
                ErrorCode::LockfileTruncated
            } else {
                ErrorCode::LockfileSyntax
            };
            let line = if source.is_empty() {
                0
            } else {
                lines.line(offset)
            };
            errors.push(FileError::new(file, line, message).with_code(code));
            None
        }
    }
}

/// The document's top-level object, or `None` after pushing an error: either the JSON error of
/// [`parse`] or, for any other top-level value, one at line 1 saying the file `must hold` an
/// object with what it should contain (`holds`, e.g. "`packages`").
pub(crate) fn parse_object<'a>(
    file: &str,
    source: &'a str,
    name: &str,
    holds: &str,
    regenerate: &str,
    lines: &LineIndex<'_>,
    errors: &mut Vec<FileError>,
) -> Option<Object<'a>> {
    match parse(file, source, name, regenerate, lines, errors)? {
        Value::Object(object) => Some(object),
        _ => {
            errors.push(
                FileError::new(
                    file,
                    1,
                    format!("{name} must hold a JSON object with {holds}; {regenerate}"),
                )
                .with_code(ErrorCode::LockfileSyntax),
            );
            None
        }
    }
}

pub(crate) fn prop_name<'o, 'a>(name: &'o ObjectPropName<'a>) -> Option<&'o StringLit<'a>> {
    match name {
        ObjectPropName::String(lit) => Some(lit),
        ObjectPropName::Word(_) => None,
    }
}

/// The span inside the quotes, whatever it holds: for locations.
pub(crate) fn inner_span(lit: &StringLit<'_>) -> Span {
    let start = lit.range.start.saturating_add(1).min(lit.range.end);
    Span::new(start, lit.range.end.saturating_sub(1).max(start))
}

/// The span of `text` at `skip` bytes into the string's value, when the file writes the value
/// without escapes (so the bytes there are exactly `text`).
pub(crate) fn value_span(
    source: &str,
    lit: &StringLit<'_>,
    skip: usize,
    text: &str,
) -> Option<Span> {
    let inner = exact_span(source, inner_span(lit), &lit.value)?;
    let start = inner.start + skip;
    exact_span(source, Span::new(start, start + text.len()), text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object_of(source: &str) -> (bool, Vec<FileError>) {
        let lines = LineIndex::new(source);
        let mut errors = Vec::new();
        let object = parse_object(
            "x/composer.lock",
            source,
            "composer.lock",
            "`packages`",
            "regenerate it with `composer update --lock`",
            &lines,
            &mut errors,
        );
        (object.is_some(), errors)
    }

    #[test]
    fn a_top_level_value_other_than_an_object_says_what_the_file_must_hold() {
        let (found, errors) = object_of("[\n  {\"name\": \"a/b\"}\n]\n");
        assert!(!found);
        let [error] = errors.as_slice() else {
            panic!("{errors:?}")
        };
        assert_eq!((error.file.as_str(), error.line), ("x/composer.lock", 1));
        assert_eq!(
            error.message,
            "composer.lock must hold a JSON object with `packages`; regenerate it with `composer update --lock`"
        );
    }

    #[test]
    fn an_object_is_returned_and_invalid_json_reports_one_error() {
        assert!(object_of("{\"packages\": []}").0);
        let (found, errors) = object_of("{\"packages\": [,]}");
        assert!(!found);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].message.contains("is not valid JSON"));
    }
}
