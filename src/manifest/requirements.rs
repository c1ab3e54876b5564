//! requirements*.txt (pip's requirements file format).
//!
//! Read the way pip reads it: `\` at the end of a line continues it (unless the line holds a
//! comment), `#` at the start or after whitespace starts a comment, option lines (`-r`, `-c`,
//! `-e`, `--index-url`, …) are skipped, and so are requirements that are URLs, VCS references,
//! local paths or archives, and lines using `${VARIABLES}` (their value is not in the file).
//!
//! Every requirement is Direct: the file is what the project asks for. A requirement pinned with
//! `==` or `===` (without a wildcard) has a version and its span; any other specifier (`>=`,
//! `~=`, `==1.*`, a range, a bare name) is unpinned: `version: None`, no span. Names are kept as
//! written; matching normalises them.
//!
//! InPlace, unless the requirement carries `--hash=` options: the hashes are of the pinned
//! version's files, so changing the version needs them regenerated.

use std::str::FromStr;

use pep440_rs::{Version, VersionSpecifier};

use crate::model::{
    Dependency, DependencyKind, Ecosystem, EditMode, ErrorCode, FileError, Location,
    ParsedManifest, Span,
};

pub fn parse(file: &str, source: &str) -> ParsedManifest {
    let mut out = ParsedManifest {
        file: file.to_string(),
        ..Default::default()
    };
    for logical in logical_lines(source) {
        match requirement(&logical.text) {
            Ok(None) => {}
            Ok(Some(found)) => out
                .dependencies
                .push(found.into_dependency(file, source, &logical)),
            Err(problem) => out.errors.push(
                FileError::new(file, logical.line, problem.to_string())
                    .with_code(ErrorCode::RequirementsUnparsedLine),
            ),
        }
    }
    out
}

/// One requirement line after joining continuations, with the way back to the source bytes.
struct LogicalLine {
    /// 1-based number of the first physical line.
    line: u32,
    text: String,
    /// `(offset in text, offset in source, length)` of each physical piece.
    pieces: Vec<(usize, usize, usize)>,
    /// Byte offset in the source where each physical line of this logical line starts, paired
    /// with its line number, to give columns.
    line_starts: Vec<(usize, u32)>,
}

impl LogicalLine {
    /// The source span of `text[start..end]`, when it lies within one physical line.
    fn source_span(&self, start: usize, end: usize) -> Option<Span> {
        self.pieces
            .iter()
            .find(|&&(at, _, len)| at <= start && end <= at + len)
            .map(|&(at, from, _)| Span::new(from + (start - at), from + (end - at)))
    }

    fn location(&self, file: &str, source_span: Span, source: &str) -> Location {
        let (line_start, line) = self
            .line_starts
            .iter()
            .rev()
            .find(|&&(start, _)| start <= source_span.start)
            .copied()
            .unwrap_or((0, self.line));
        let column = source
            .get(line_start..source_span.start)
            .map_or(0, |s| s.chars().count());
        Location {
            file: file.to_string(),
            line,
            column: u32::try_from(column + 1).unwrap_or(u32::MAX),
            span: Some(source_span),
        }
    }
}

/// pip's `join_lines`: a line ending in `\` continues on the next one, except a line with a
/// comment, which ends where it is.
fn logical_lines(source: &str) -> Vec<LogicalLine> {
    let mut lines = Vec::new();
    let mut current: Option<LogicalLine> = None;
    let mut offset = 0;
    for (index, raw) in source.split('\n').enumerate() {
        let start = offset;
        offset += raw.len() + 1;
        let number = u32::try_from(index + 1).unwrap_or(u32::MAX);
        let content = raw.strip_suffix('\r').unwrap_or(raw);
        let logical = current.get_or_insert_with(|| LogicalLine {
            line: number,
            text: String::new(),
            pieces: Vec::new(),
            line_starts: Vec::new(),
        });
        logical.line_starts.push((start, number));
        let continues = content.ends_with('\\') && comment_start(content).is_none();
        let piece = if continues {
            &content[..content.len() - 1]
        } else {
            content
        };
        logical
            .pieces
            .push((logical.text.len(), start, piece.len()));
        logical.text.push_str(piece);
        if !continues {
            lines.extend(current.take());
        }
    }
    lines.extend(current.take());
    lines
}

/// Where a comment starts: `#` at the start of the line or after whitespace.
fn comment_start(text: &str) -> Option<usize> {
    text.char_indices()
        .find(|&(i, c)| {
            c == '#'
                && (i == 0
                    || text[..i]
                        .chars()
                        .next_back()
                        .is_some_and(char::is_whitespace))
        })
        .map(|(i, _)| i)
}

struct Found {
    name: (usize, usize),
    /// The pinned version and where it is in the logical line.
    pinned: Option<(usize, usize)>,
    hashed: bool,
    text: String,
}

impl Found {
    fn into_dependency(self, file: &str, source: &str, logical: &LogicalLine) -> Dependency {
        let name = self.text[self.name.0..self.name.1].to_string();
        let version = self
            .pinned
            .map(|(start, end)| self.text[start..end].to_string());
        let version_span = self
            .pinned
            .and_then(|(start, end)| logical.source_span(start, end));
        let name_span = logical
            .source_span(self.name.0, self.name.1)
            .unwrap_or(Span::new(0, 0));
        let edit_mode = if self.hashed {
            EditMode::NeedsRelock {
                reason: format!(
                    "the requirement for `{name}` pins `--hash` values, which must match the new version's files: regenerate with `pip-compile --generate-hashes`"
                ),
            }
        } else {
            EditMode::InPlace
        };
        Dependency {
            ecosystem: Ecosystem::PyPI,
            location: logical.location(file, name_span, source),
            name,
            version,
            digest: None,
            kind: DependencyKind::Direct,
            version_spans: version_span.into_iter().collect(),
            image: None,
            edit_mode,
        }
    }
}

/// Why a line is not a requirement pip would accept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
enum Problem {
    #[error(
        "`{line}` is not a requirement: expected a package name, e.g. `requests==2.32.3`, an option such as `-r other.txt`, or a comment starting with `#`"
    )]
    NotARequirement { line: String },
    #[error("the extras of `{name}` are missing their closing `]`, e.g. `{name}[security]==1.0`")]
    UnclosedExtras { name: String },
    #[error(
        "the extras of `{name}` must be names separated by commas, e.g. `{name}[security,socks]`"
    )]
    BadExtras { name: String },
    #[error("the version of `{name}` opens `(` without closing it, e.g. `{name} (>=1.0)`")]
    UnclosedParenthesis { name: String },
    #[error(
        "the version of `{name}` has an empty clause between commas; write e.g. `{name}>=1.0,<2`"
    )]
    EmptyClause { name: String },
    #[error(
        "`{clause}` is not a version specifier for `{name}`: expected an operator and a version, e.g. `{name}==1.2.3` or `{name}>=1.2`"
    )]
    NoOperator { clause: String, name: String },
    #[error("`{clause}` needs a single version after `{operator}`, e.g. `{name}{operator}1.2.3`")]
    NoVersion {
        clause: String,
        operator: &'static str,
        name: String,
    },
    #[error(
        "`{clause}` is not a valid version specifier for `{name}` ({detail}); versions look like `1.2.3`, `2.0rc1`, `1.0.post1`"
    )]
    InvalidVersion {
        clause: String,
        name: String,
        detail: String,
    },
}

const OPERATORS: [&str; 8] = ["===", "==", "!=", "<=", ">=", "~=", "<", ">"];

/// `Ok(None)` for lines that hold no requirement to report (blank, comment, option, URL).
fn requirement(line: &str) -> Result<Option<Found>, Problem> {
    let text = match comment_start(line) {
        Some(at) => &line[..at],
        None => line,
    };
    // pip splits a line into the requirement and its options at the first word starting with
    // `-`; a line that starts with one is an option line (`-r other.txt`, `--index-url …`).
    let mut requirement_end = text.len();
    let mut options = "";
    let mut previous_was_space = true;
    for (i, c) in text.char_indices() {
        if c == '-' && previous_was_space {
            requirement_end = i;
            options = &text[i..];
            break;
        }
        previous_was_space = c.is_whitespace();
    }
    let spec = &text[..requirement_end];
    if spec.trim().is_empty() || is_reference(spec.trim()) || spec.contains("${") {
        return Ok(None);
    }
    let hashed = options
        .split_whitespace()
        .any(|option| option == "--hash" || option.starts_with("--hash="));

    let (spec, _marker) = match spec.find(';') {
        Some(at) => (&spec[..at], Some(&spec[at + 1..])),
        None => (spec, None),
    };
    let bytes = spec.as_bytes();
    let mut at = skip_spaces(spec, 0);
    let name_start = at;
    while at < bytes.len() && (bytes[at].is_ascii_alphanumeric() || b"._-".contains(&bytes[at])) {
        at += 1;
    }
    let name = &spec[name_start..at];
    let well_formed_name = name
        .bytes()
        .next()
        .zip(name.bytes().last())
        .is_some_and(|(first, last)| first.is_ascii_alphanumeric() && last.is_ascii_alphanumeric());
    if !well_formed_name {
        return Err(Problem::NotARequirement {
            line: line.trim().to_string(),
        });
    }
    at = skip_spaces(spec, at);
    if bytes.get(at) == Some(&b'[') {
        let Some(close) = spec[at..].find(']').map(|c| at + c) else {
            return Err(Problem::UnclosedExtras { name: name.into() });
        };
        let extras_ok = spec[at + 1..close].split(',').all(|extra| {
            let extra = extra.trim();
            !extra.is_empty()
                && extra
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        });
        if !extras_ok {
            return Err(Problem::BadExtras { name: name.into() });
        }
        at = skip_spaces(spec, close + 1);
    }
    // Old-style `name (>=1.0)`.
    let (mut clauses_start, mut clauses_end) = (at, spec.trim_end().len().max(at));
    if bytes.get(at) == Some(&b'(') {
        if !spec[..clauses_end].ends_with(')') {
            return Err(Problem::UnclosedParenthesis { name: name.into() });
        }
        clauses_start += 1;
        clauses_end -= 1;
    }

    let mut clauses = Vec::new();
    let mut clause_start = clauses_start;
    let body = &spec[..clauses_end];
    for piece in body[clauses_start..].split(',') {
        let start = clause_start;
        clause_start += piece.len() + 1;
        if piece.trim().is_empty() {
            if body[clauses_start..].trim().is_empty() {
                break;
            }
            return Err(Problem::EmptyClause { name: name.into() });
        }
        clauses.push(clause(name, spec, start, start + piece.len())?);
    }
    let pinned = match clauses.as_slice() {
        [(operator, version)] if (*operator == "==" || *operator == "===") => {
            let text = &spec[version.0..version.1];
            (!text.contains('*')).then_some(*version)
        }
        _ => None,
    };
    Ok(Some(Found {
        name: (name_start, name_start + name.len()),
        pinned,
        hashed,
        text: line.to_string(),
    }))
}

/// One `op version` clause of `spec[start..end]`: the operator and the version's range.
fn clause(
    name: &str,
    spec: &str,
    start: usize,
    end: usize,
) -> Result<(&'static str, (usize, usize)), Problem> {
    let piece = &spec[start..end];
    let leading = piece.len() - piece.trim_start().len();
    let trimmed = piece.trim();
    let Some(operator) = OPERATORS.iter().find(|op| trimmed.starts_with(**op)) else {
        return Err(Problem::NoOperator {
            clause: trimmed.into(),
            name: name.into(),
        });
    };
    let after_operator = &trimmed[operator.len()..];
    let version = after_operator.trim_start();
    let version_start = start + leading + operator.len() + (after_operator.len() - version.len());
    let version_range = (version_start, version_start + version.len());
    if version.is_empty() || version.chars().any(char::is_whitespace) {
        return Err(Problem::NoVersion {
            clause: trimmed.into(),
            operator,
            name: name.into(),
        });
    }
    let valid = match *operator {
        // Arbitrary equality compares strings: any text is allowed.
        "===" => Ok(()),
        "==" if !version.contains('*') => Version::from_str(version)
            .map(drop)
            .map_err(|e| e.to_string()),
        _ => VersionSpecifier::from_str(trimmed)
            .map(drop)
            .map_err(|e| e.to_string()),
    };
    valid.map_err(|detail| Problem::InvalidVersion {
        clause: trimmed.into(),
        name: name.into(),
        detail,
    })?;
    Ok((operator, version_range))
}

fn skip_spaces(text: &str, mut at: usize) -> usize {
    let bytes = text.as_bytes();
    while at < bytes.len() && bytes[at].is_ascii_whitespace() {
        at += 1;
    }
    at
}

/// URLs, VCS references, local paths and archives: not a name and a version.
fn is_reference(spec: &str) -> bool {
    const PREFIXES: [&str; 8] = ["git+", "hg+", "svn+", "bzr+", "file:", ".", "/", "~"];
    const ARCHIVES: [&str; 6] = [".whl", ".zip", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz"];
    let lower = spec.to_ascii_lowercase();
    PREFIXES.iter().any(|p| lower.starts_with(p))
        || ARCHIVES.iter().any(|a| lower.ends_with(a))
        || lower.contains("://")
        || spec.contains('@')
        || spec.contains('\\')
        || spec.as_bytes().get(1) == Some(&b':')
}
