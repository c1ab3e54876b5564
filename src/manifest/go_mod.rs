//! go.mod and go.sum.
//!
//! go.mod is the source of truth for the build list: `require` (single lines and blocks; a
//! `// indirect` comment makes the requirement Transitive, otherwise it is Direct), rewritten by
//! `replace` (`replace old [v] => new vX` means the build uses `new@vX`, so that module and
//! version are reported instead, at the replace line; a replacement by a local path drops the
//! dependency, since that code is the project's own). `module`, `go`, `godebug`, `exclude`,
//! `retract`, `tool` and `ignore` are parsed and ignored. A `toolchain goX.Y.Z` directive yields a
//! Direct dependency named `stdlib` at `X.Y.Z`, because the Go vulnerability database files
//! standard library advisories under the module `stdlib`; its span is the version after `go`.
//! Versions are kept as written (`v1.2.3`, pseudo-versions, `+incompatible`).
//!
//! Every dependency is InPlace: go.mod holds no checksums (go.sum then needs `go mod tidy`).

mod lexer;
mod problem;
mod sum;

pub use sum::parse_go_sum;

use std::collections::HashMap;

use lexer::{Token, lex_line};
use problem::Problem;

use super::cargo_lock::LineIndex;
use crate::model::{
    Dependency, DependencyKind, Ecosystem, EditMode, ErrorCode, FileError, ParsedManifest, Span,
};

pub fn parse_go_mod(file: &str, source: &str) -> ParsedManifest {
    let mut out = ParsedManifest {
        file: file.to_string(),
        ..Default::default()
    };
    let mut requires: Vec<Require> = Vec::new();
    let mut replaces: Vec<Replace> = Vec::new();
    let mut block: Option<(String, u32)> = None;
    let mut offset = 0;
    for (index, raw) in source.split('\n').enumerate() {
        let line = Line {
            start: offset,
            number: u32::try_from(index + 1).unwrap_or(u32::MAX),
            text: raw.strip_suffix('\r').unwrap_or(raw),
        };
        offset += raw.len() + 1;
        let mut error = |problem: Problem| {
            out.errors.push(
                FileError::new(file, line.number, problem.to_string())
                    .with_code(ErrorCode::LockfileSyntax),
            );
        };
        let (tokens, comment) = match lex_line(line.text, line.start) {
            Ok(lexed) => lexed,
            Err(problem) => {
                error(problem);
                continue;
            }
        };
        let Some(first) = tokens.first() else {
            continue;
        };
        // The last line has no line end, and go always writes one: a version on it may be cut
        // short (`go 1` of `go 1.22.4`), and is not trusted.
        if offset > source.len() && !(tokens.len() == 1 && first.text == ")") {
            out.errors.push(
                FileError::new(file, line.number, Problem::CutOff.to_string())
                    .with_code(ErrorCode::LockfileTruncated),
            );
            continue;
        }
        let (verb, args) = match &block {
            Some(_) if first.text == ")" && tokens.len() == 1 => {
                block = None;
                continue;
            }
            Some((verb, _)) => (verb.clone(), &tokens[..]),
            None => (first.text.clone(), &tokens[1..]),
        };
        if block.is_none() && args.first().is_some_and(|t| t.text == "(") {
            if !matches!(
                verb.as_str(),
                "require" | "replace" | "exclude" | "retract" | "godebug" | "tool" | "ignore"
            ) {
                error(Problem::NotABlock { verb });
                continue;
            }
            match args {
                [_] => block = Some((verb, line.number)),
                [_, close] if close.text == ")" => {}
                _ => error(Problem::BlockOpening { verb }),
            }
            continue;
        }
        let directive = Directive {
            verb: &verb,
            args,
            comment,
        };
        let result = match verb.as_str() {
            "require" => directive.require().map(|r| requires.push(r)),
            "replace" => directive.replace().map(|r| replaces.extend(r)),
            "toolchain" => directive.toolchain().map(|d| requires.extend(d)),
            "go" => directive.go(),
            "module" | "tool" | "ignore" => directive.count(1, "a module path"),
            "exclude" => directive
                .count(2, "a module path and a version")
                .and_then(|()| directive.version(1).map(drop)),
            "godebug" | "retract" => directive.at_least_one(),
            ")" => Err(Problem::StrayClose),
            other => Err(Problem::UnknownDirective {
                verb: other.to_string(),
            }),
        };
        if let Err(problem) = result {
            error(problem);
        }
    }
    if let Some((verb, line)) = block {
        out.errors.push(
            FileError::new(file, line, Problem::UnclosedBlock { verb }.to_string())
                .with_code(ErrorCode::LockfileSyntax),
        );
    }
    out.errors.sort_by_key(|e| e.line);
    out.dependencies = build_list(file, source, requires, &replaces);
    out
}

struct Line<'a> {
    start: usize,
    number: u32,
    text: &'a str,
}

/// One `require` (or the toolchain), before `replace` directives apply.
struct Require {
    path: String,
    version: Token,
    kind: DependencyKind,
    at: Span,
    line: &'static str,
}

struct Replace {
    old_path: String,
    old_version: Option<String>,
    /// `None` for a local directory.
    new: Option<(String, Token)>,
    at: Span,
}

struct Directive<'d> {
    verb: &'d str,
    args: &'d [Token],
    comment: Option<&'d str>,
}

impl Directive<'_> {
    fn count(&self, wanted: usize, what: &'static str) -> Result<(), Problem> {
        if self.args.len() == wanted {
            Ok(())
        } else {
            Err(Problem::Arguments {
                verb: self.verb.to_string(),
                what,
                example: example(self.verb),
            })
        }
    }

    fn at_least_one(&self) -> Result<(), Problem> {
        if self.args.is_empty() {
            Err(Problem::NoArgument {
                verb: self.verb.to_string(),
                example: example(self.verb),
            })
        } else {
            Ok(())
        }
    }

    /// The argument at `index`, checked to be a module version (`v1.2.3`, a pseudo-version).
    fn version(&self, index: usize) -> Result<&Token, Problem> {
        let token = self.args.get(index).ok_or_else(|| Problem::NoVersion {
            verb: self.verb.to_string(),
            example: example(self.verb),
        })?;
        let valid = token.text.starts_with('v')
            && token.text[1..].starts_with(|c: char| c.is_ascii_digit())
            && !token.text.contains(char::is_whitespace);
        if valid {
            Ok(token)
        } else {
            Err(Problem::NotAVersion {
                text: token.text.clone(),
            })
        }
    }

    fn require(&self) -> Result<Require, Problem> {
        self.count(2, "a module path and a version")?;
        let version = self.version(1)?.clone();
        let indirect = self.comment.is_some_and(|c| {
            let c = c.trim();
            c == "indirect" || c.starts_with("indirect;")
        });
        Ok(Require {
            path: self.args[0].text.clone(),
            version,
            kind: if indirect {
                DependencyKind::Transitive
            } else {
                DependencyKind::Direct
            },
            at: self.args[0].raw,
            line: "require",
        })
    }

    fn replace(&self) -> Result<Option<Replace>, Problem> {
        let arrow = self
            .args
            .iter()
            .position(|t| t.text == "=>")
            .ok_or(Problem::ReplaceShape)?;
        let (old, new) = (&self.args[..arrow], &self.args[arrow + 1..]);
        let old_version = match old {
            [_] => None,
            [_, _] => Some(self.version(1)?.text.clone()),
            _ => return Err(Problem::ReplaceShape),
        };
        let new = match new {
            [path] if is_local_path(&path.text) => None,
            [path] => {
                return Err(Problem::ReplacementWithoutVersion {
                    path: path.text.clone(),
                });
            }
            [path, _] => Some((path.text.clone(), self.version(arrow + 2)?.clone())),
            _ => return Err(Problem::ReplaceShape),
        };
        Ok(old.first().map(|old_path| Replace {
            old_path: old_path.text.clone(),
            old_version,
            new,
            at: old_path.raw,
        }))
    }

    fn go(&self) -> Result<(), Problem> {
        self.count(1, "a Go version")?;
        let version = &self.args[0].text;
        if is_go_version(version) {
            Ok(())
        } else {
            Err(Problem::NotAGoVersion {
                version: version.clone(),
            })
        }
    }

    fn toolchain(&self) -> Result<Option<Require>, Problem> {
        self.count(1, "a toolchain name")?;
        let token = &self.args[0];
        if token.text == "default" {
            return Ok(None);
        }
        let version = token
            .text
            .strip_prefix("go")
            .filter(|v| is_go_version(v.split(['+', '-']).next().unwrap_or(v)))
            .ok_or_else(|| Problem::NotAToolchain {
                name: token.text.clone(),
            })?;
        let span = token.span.map(|s| Span::new(s.start + 2, s.end));
        Ok(Some(Require {
            path: "stdlib".to_string(),
            version: Token {
                text: version.to_string(),
                span,
                raw: token.raw,
            },
            kind: DependencyKind::Direct,
            at: span.unwrap_or(token.raw),
            line: "toolchain",
        }))
    }
}

fn example(verb: &str) -> &'static str {
    match verb {
        "module" => "`module example.com/project`",
        "exclude" => "`exclude example.com/a v1.2.3`",
        "retract" => "`retract v1.0.1`",
        "godebug" => "`godebug default=go1.21`",
        "tool" => "`tool golang.org/x/tools/cmd/stringer`",
        "ignore" => "`ignore ./node_modules`",
        "toolchain" => "`toolchain go1.22.3`",
        "go" => "`go 1.22`",
        _ => "`require example.com/a v1.2.3`",
    }
}

/// `1.22`, `1.22.3`, `1.21rc1`, `1.23beta1`.
fn is_go_version(text: &str) -> bool {
    let release = text
        .find(|c: char| c.is_ascii_alphabetic())
        .map_or(text, |at| &text[..at]);
    let prerelease = &text[release.len()..];
    let numbers_ok = !release.is_empty()
        && release
            .split('.')
            .all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
    let prerelease_ok = prerelease.is_empty()
        || ["rc", "beta", "alpha"].iter().any(|p| {
            prerelease
                .strip_prefix(p)
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        });
    numbers_ok && prerelease_ok
}

/// Go treats a replacement path as a directory when it is written like a file path.
fn is_local_path(path: &str) -> bool {
    path.starts_with("./")
        || path.starts_with("../")
        || path.starts_with('/')
        || path == "."
        || path == ".."
        || path.starts_with(".\\")
        || path.starts_with("..\\")
        || path.as_bytes().get(1) == Some(&b':')
}

/// The build list after `replace`: a version-specific replacement wins over one for all
/// versions, as in Go.
fn build_list(
    file: &str,
    source: &str,
    requires: Vec<Require>,
    replaces: &[Replace],
) -> Vec<Dependency> {
    let mut exact: HashMap<(&str, &str), &Replace> = HashMap::new();
    let mut any: HashMap<&str, &Replace> = HashMap::new();
    for replace in replaces {
        match &replace.old_version {
            Some(version) => exact.insert((&replace.old_path, version), replace),
            None => any.insert(&replace.old_path, replace),
        };
    }
    let mut lines = LineIndex::new(source);
    let mut dependencies = Vec::with_capacity(requires.len());
    for require in requires {
        let replace = exact
            .get(&(require.path.as_str(), require.version.text.as_str()))
            .or_else(|| any.get(require.path.as_str()))
            .filter(|_| require.line == "require");
        let (path, version, at) = match replace {
            None => (require.path, require.version, require.at),
            Some(Replace { new: None, .. }) => continue,
            Some(Replace {
                new: Some((path, version)),
                at,
                ..
            }) => (path.clone(), version.clone(), *at),
        };
        dependencies.push(Dependency {
            ecosystem: Ecosystem::Go,
            name: path,
            version: Some(version.text),
            digest: None,
            kind: require.kind,
            location: lines.location(file, at),
            version_spans: version.span.into_iter().collect(),
            image: None,
            edit_mode: EditMode::InPlace,
        });
    }
    dependencies
}
