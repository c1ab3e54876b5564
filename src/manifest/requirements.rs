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

use std::ops::Range;
use std::str::FromStr;
use std::sync::Arc;

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
    // One text for every hashed requirement of the file: see `EditMode::NeedsRelock`.
    let hashed_reason: Arc<str> = Arc::from(
        "the requirement pins `--hash` values, which must match the new version's files: regenerate with `pip-compile --generate-hashes`",
    );
    for logical in logical_lines(source) {
        let note = |code: ErrorCode, message: String| {
            FileError::new(file, logical.line, message).with_code(code)
        };
        match read_line(&logical.text) {
            Ok(Line::Nothing) => {}
            Ok(Line::Requirement(found)) => {
                out.dependencies
                    .push(found.into_dependency(file, source, &logical, &hashed_reason))
            }
            Ok(Line::Skipped(skipped)) => out.errors.push(note(
                ErrorCode::RequirementsSkippedLine,
                skipped.to_string(),
            )),
            Ok(Line::Include(include)) => {
                if let Some(message) = include.not_scanned(file) {
                    out.errors
                        .push(note(ErrorCode::RequirementsInclude, message));
                }
            }
            Err(problem) => out.errors.push(
                FileError::new(file, logical.line, problem.to_string())
                    .with_code(ErrorCode::RequirementsUnparsedLine),
            ),
        }
    }
    out
}

/// Includes (`-r`, `-c`) of the requirements files among `files` whose target would be
/// scanned by its name but is not there: pip would fail on them, and their pins are unchecked.
/// `files` are a snapshot's, by repository path.
pub fn missing_includes<'f>(
    files: impl IntoIterator<Item = (&'f str, &'f str)> + Clone,
) -> Vec<FileError> {
    let present: std::collections::HashSet<&str> =
        files.clone().into_iter().map(|(path, _)| path).collect();
    let mut errors = Vec::new();
    for (file, source) in files {
        if super::detect(file) != Some(super::ManifestKind::Requirements) {
            continue;
        }
        for logical in logical_lines(source) {
            let Ok(Line::Include(include)) = read_line(&logical.text) else {
                continue;
            };
            let Some(path) = include.path(file) else {
                continue;
            };
            if include.not_scanned(file).is_none() && !present.contains(path.as_str()) {
                let message = format!(
                    "`{} {}` names `{path}`, which is not in the repository: pip would fail, and the requirements it should hold are not checked",
                    include.option, include.target
                );
                errors.push(
                    FileError::new(file, logical.line, message)
                        .with_code(ErrorCode::RequirementsInclude),
                );
            }
        }
    }
    errors
}

/// The bytes of the logical line (continuations joined) holding byte `offset` of `source`: from
/// the start of its first physical line to the end of its last one, line break excluded. A
/// re-lock rewrites a hashed requirement's `--hash` options, which continue over several lines.
pub fn logical_line_around(source: &str, offset: usize) -> Option<Range<usize>> {
    logical_lines(source).into_iter().find_map(|logical| {
        let start = logical.line_starts.first()?.0;
        let &(_, last_from, last_len) = logical.pieces.last()?;
        let end = last_from + last_len;
        (start <= offset && offset < end).then_some(start..end)
    })
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
    fn into_dependency(
        self,
        file: &str,
        source: &str,
        logical: &LogicalLine,
        hashed_reason: &Arc<str>,
    ) -> Dependency {
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
                reason: hashed_reason.clone(),
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
    #[error(
        "`{line}` is not a requirement: pip reads `name @ url` as a direct reference, and `{after}` is not a URL; to pin a version write `{name}=={after}`"
    )]
    AtWithoutUrl {
        line: String,
        name: String,
        after: String,
    },
    #[error(
        "`{option}` is not an option pip accepts in a requirements file (e.g. `-r other.txt`, `-c constraints.txt`, `--index-url URL`): pip would stop here"
    )]
    UnknownOption { option: String },
    #[error("`{option}` needs a value, e.g. `{option} other.txt`")]
    OptionWithoutValue { option: String },
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

/// What one logical line holds.
enum Line {
    /// Blank, a comment, or an option that changes nothing patchwright reads.
    Nothing,
    Requirement(Found),
    /// A requirement that is not a name and a version from an index.
    Skipped(Skipped),
    Include(Include),
}

/// A requirement left out, and why: said as a note, so nothing is dropped without a word.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
enum Skipped {
    #[error(
        "`{0}` is installed from a URL, a version control system or a local path, not from a package index: patchwright does not check it"
    )]
    NotFromIndex(String),
    #[error(
        "`{0}` uses an environment variable, whose value is not in the file: patchwright does not check it"
    )]
    Variable(String),
}

/// `-r file` / `-c file`: another file this one pulls in.
struct Include {
    option: &'static str,
    target: String,
}

impl Include {
    /// The repository path of the target, relative to the including `file`; `None` for a URL
    /// or a path that leaves the repository.
    fn path(&self, file: &str) -> Option<String> {
        if self.target.contains("://") {
            return None;
        }
        let dir = file.rsplit_once('/').map_or("", |(dir, _)| dir);
        let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
        for part in self.target.split('/') {
            match part {
                "" | "." => {}
                ".." => {
                    parts.pop()?;
                }
                other => parts.push(other),
            }
        }
        Some(parts.join("/"))
    }

    /// Why the target's requirements go unchecked when patchwright does not read that file by
    /// its name; `None` when it does (it is then scanned on its own).
    fn not_scanned(&self, file: &str) -> Option<String> {
        let Some(path) = self.path(file) else {
            return Some(format!(
                "`{} {}` is not read: patchwright reads files in the repository only, so the requirements it holds are not checked",
                self.option, self.target
            ));
        };
        let scanned = super::detect(&path) == Some(super::ManifestKind::Requirements);
        (!scanned).then(|| {
            format!(
                "`{} {}` is not scanned: patchwright reads files named requirements*.txt, so the requirements in `{path}` are not checked; name it requirements-<something>.txt to have it scanned",
                self.option, self.target
            )
        })
    }
}

/// pip's options in a requirements file: (short, long, takes a value).
const OPTIONS: [(&str, &str, bool); 17] = [
    ("-r", "--requirement", true),
    ("-c", "--constraint", true),
    ("-e", "--editable", true),
    ("-i", "--index-url", true),
    ("", "--extra-index-url", true),
    ("", "--no-index", false),
    ("-f", "--find-links", true),
    ("", "--pre", false),
    ("", "--prefer-binary", false),
    ("", "--require-hashes", false),
    ("", "--only-binary", true),
    ("", "--no-binary", true),
    ("", "--trusted-host", true),
    ("", "--use-feature", true),
    ("", "--config-settings", true),
    ("", "--global-option", true),
    ("", "--hash", true),
];

/// `Line::Nothing` for lines that hold no requirement to report (blank, comment, option).
fn read_line(line: &str) -> Result<Line, Problem> {
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
    if spec.trim().is_empty() {
        return option_line(options);
    }
    let trimmed = spec.trim();
    if spec.contains("${") {
        return Ok(Line::Skipped(Skipped::Variable(trimmed.to_string())));
    }
    if is_reference(trimmed)? {
        return Ok(Line::Skipped(Skipped::NotFromIndex(trimmed.to_string())));
    }
    let hashed = options
        .split_whitespace()
        .any(|option| option == "--hash" || option.starts_with("--hash="));
    requirement(line, spec, hashed).map(Line::Requirement)
}

/// A line of options only: an include, or an option pip knows (anything else is a mistake pip
/// would stop on).
fn option_line(options: &str) -> Result<Line, Problem> {
    let mut words = options.split_whitespace();
    let Some(first) = words.next() else {
        return Ok(Line::Nothing);
    };
    let (flag, inline) = match first.split_once('=') {
        Some((flag, value)) if flag.starts_with("--") => (flag, Some(value)),
        _ if !first.starts_with("--") && first.len() > 2 && first.is_char_boundary(2) => {
            (&first[..2], Some(&first[2..]))
        }
        _ => (first, None),
    };
    let Some(&(short, long, takes_value)) = OPTIONS
        .iter()
        .find(|(short, long, _)| flag == *long || (!short.is_empty() && flag == *short))
    else {
        return Err(Problem::UnknownOption {
            option: flag.to_string(),
        });
    };
    let value = inline.or_else(|| words.next()).filter(|_| takes_value);
    match (long, value) {
        ("--requirement" | "--constraint", Some(target)) => Ok(Line::Include(Include {
            option: if long == "--requirement" { "-r" } else { "-c" },
            target: target.to_string(),
        })),
        ("--editable", Some(target))
            if is_reference(target).unwrap_or(true) && !is_local(target) =>
        {
            Ok(Line::Skipped(Skipped::NotFromIndex(format!(
                "{short} {target}"
            ))))
        }
        (_, None) if takes_value => Err(Problem::OptionWithoutValue {
            option: flag.to_string(),
        }),
        _ => Ok(Line::Nothing),
    }
}

/// The requirement `spec` (a prefix of `line`) as a name, extras and version clauses.
fn requirement(line: &str, spec: &str, hashed: bool) -> Result<Found, Problem> {
    let spec = spec.split(';').next().unwrap_or(spec);
    let mut cursor = Cursor::new(spec);
    cursor.skip_spaces();
    let name_range = cursor.take_while(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    let name = &spec[name_range.clone()];
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
    cursor.skip_spaces();
    if cursor.eat(b'[') {
        let Some(extras) = cursor.take_until(b']') else {
            return Err(Problem::UnclosedExtras { name: name.into() });
        };
        let extras_ok = spec[extras].split(',').all(|extra| {
            let extra = extra.trim();
            !extra.is_empty()
                && extra
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        });
        if !extras_ok {
            return Err(Problem::BadExtras { name: name.into() });
        }
        cursor.skip_spaces();
    }
    // Old-style `name (>=1.0)`.
    let mut body = cursor.at..spec.trim_end().len().max(cursor.at);
    if cursor.peek() == Some(b'(') {
        if !spec[body.clone()].ends_with(')') {
            return Err(Problem::UnclosedParenthesis { name: name.into() });
        }
        body = body.start + 1..body.end - 1;
    }
    let mut clauses = Vec::new();
    let mut start = body.start;
    let all_empty = spec[body.clone()].trim().is_empty();
    for piece in spec[body].split(',') {
        let range = start..start + piece.len();
        start = range.end + 1;
        if piece.trim().is_empty() {
            if all_empty {
                break;
            }
            return Err(Problem::EmptyClause { name: name.into() });
        }
        clauses.push(clause(name, spec, range.start, range.end)?);
    }
    let pinned = match clauses.as_slice() {
        [(operator, version)] if (*operator == "==" || *operator == "===") => {
            let text = &spec[version.0..version.1];
            (!text.contains('*')).then_some(*version)
        }
        _ => None,
    };
    Ok(Found {
        name: (name_range.start, name_range.end),
        pinned,
        hashed,
        text: line.to_string(),
    })
}

/// A position in one requirement, moving forward only.
struct Cursor<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Cursor<'a> {
    fn new(text: &'a str) -> Cursor<'a> {
        Cursor { text, at: 0 }
    }

    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.at).copied()
    }

    fn eat(&mut self, byte: u8) -> bool {
        let found = self.peek() == Some(byte);
        if found {
            self.at += 1;
        }
        found
    }

    fn skip_spaces(&mut self) {
        self.take_while(|b| b.is_ascii_whitespace());
    }

    /// The bytes from here while `keep` holds.
    fn take_while(&mut self, keep: impl Fn(u8) -> bool) -> Range<usize> {
        let start = self.at;
        while self.peek().is_some_and(&keep) {
            self.at += 1;
        }
        start..self.at
    }

    /// The bytes up to `end`, which is consumed; `None` (and nothing consumed) without one.
    fn take_until(&mut self, end: u8) -> Option<Range<usize>> {
        let length = self
            .text
            .as_bytes()
            .get(self.at..)?
            .iter()
            .position(|&b| b == end)?;
        let range = self.at..self.at + length;
        self.at = range.end + 1;
        Some(range)
    }
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

/// URLs, VCS references, local paths and archives: not a name and a version. A `name@…`
/// that is not `name @ url` is neither: pip rejects it, and so does this.
fn is_reference(spec: &str) -> Result<bool, Problem> {
    const PREFIXES: [&str; 8] = ["git+", "hg+", "svn+", "bzr+", "file:", ".", "/", "~"];
    const ARCHIVES: [&str; 6] = [".whl", ".zip", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz"];
    let lower = spec.to_ascii_lowercase();
    if let Some((name, after)) = spec.split_once('@')
        && !lower.contains("://")
        && !after.trim_start().to_ascii_lowercase().starts_with("file:")
    {
        return Err(Problem::AtWithoutUrl {
            line: spec.to_string(),
            name: name.trim().to_string(),
            after: after.trim().to_string(),
        });
    }
    Ok(PREFIXES.iter().any(|p| lower.starts_with(p))
        || ARCHIVES.iter().any(|a| lower.ends_with(a))
        || lower.contains("://")
        || spec.contains('@')
        || spec.contains('\\')
        || spec.as_bytes().get(1) == Some(&b':'))
}

/// A local directory or archive (`-e .`, `-e ./lib`): the project's own code.
fn is_local(target: &str) -> bool {
    target.starts_with(['.', '/', '~']) || target.starts_with("file:")
}
