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
mod sum;

pub use sum::parse_go_sum;

use std::collections::HashMap;

use lexer::{Token, lex_line};

use super::cargo_lock::LineIndex;
use crate::model::{
    Dependency, DependencyKind, Ecosystem, EditMode, FileError, ParsedManifest, Span,
};

const DIRECTIVES: &str =
    "module, go, toolchain, godebug, require, replace, exclude, retract, tool, ignore";

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
        let mut error = |message: String| {
            out.errors.push(FileError {
                file: file.to_string(),
                line: line.number,
                message,
            });
        };
        let (tokens, comment) = match lex_line(line.text, line.start) {
            Ok(lexed) => lexed,
            Err(message) => {
                error(message);
                continue;
            }
        };
        let Some(first) = tokens.first() else {
            continue;
        };
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
                error(format!("`{verb}` cannot open a block with `(`"));
                continue;
            }
            match args {
                [_] => block = Some((verb, line.number)),
                [_, close] if close.text == ")" => {}
                _ => error(format!(
                    "`{verb} (` must end its line; put each entry on its own line and close the block with `)` on a line of its own"
                )),
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
            ")" => Err("`)` closes no block".to_string()),
            other => Err(format!(
                "unknown directive `{other}`; go.mod understands {DIRECTIVES}"
            )),
        };
        if let Err(message) = result {
            error(message);
        }
    }
    if let Some((verb, line)) = block {
        out.errors.push(FileError {
            file: file.to_string(),
            line,
            message: format!("the `{verb} (` block is never closed: add a line with `)`"),
        });
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
    fn count(&self, wanted: usize, what: &str) -> Result<(), String> {
        if self.args.len() == wanted {
            Ok(())
        } else {
            Err(format!(
                "`{}` takes {what}, e.g. {}",
                self.verb,
                example(self.verb)
            ))
        }
    }

    fn at_least_one(&self) -> Result<(), String> {
        if self.args.is_empty() {
            Err(format!(
                "`{}` needs an argument, e.g. {}",
                self.verb,
                example(self.verb)
            ))
        } else {
            Ok(())
        }
    }

    /// The argument at `index`, checked to be a module version (`v1.2.3`, a pseudo-version).
    fn version(&self, index: usize) -> Result<&Token, String> {
        let token = self.args.get(index).ok_or_else(|| {
            format!(
                "`{}` needs a version, e.g. {}",
                self.verb,
                example(self.verb)
            )
        })?;
        let valid = token.text.starts_with('v')
            && token.text[1..].starts_with(|c: char| c.is_ascii_digit())
            && !token.text.contains(char::is_whitespace);
        if valid {
            Ok(token)
        } else {
            Err(format!(
                "`{}` is not a module version: versions start with `v`, e.g. `v1.2.3`",
                token.text
            ))
        }
    }

    fn require(&self) -> Result<Require, String> {
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

    fn replace(&self) -> Result<Option<Replace>, String> {
        let usage = "`replace` takes `old [version] => new [version]`, e.g. `replace example.com/a v1.0.0 => example.com/b v1.0.1` or `replace example.com/a => ../a`";
        let arrow = self
            .args
            .iter()
            .position(|t| t.text == "=>")
            .ok_or_else(|| usage.to_string())?;
        let (old, new) = (&self.args[..arrow], &self.args[arrow + 1..]);
        let old_version = match old {
            [_] => None,
            [_, _] => Some(self.version(1)?.text.clone()),
            _ => return Err(usage.to_string()),
        };
        let new = match new {
            [path] if is_local_path(&path.text) => None,
            [path] => {
                return Err(format!(
                    "the replacement `{}` needs a version, or must be a local directory starting with `./` or `../`",
                    path.text
                ));
            }
            [path, _] => Some((path.text.clone(), self.version(arrow + 2)?.clone())),
            _ => return Err(usage.to_string()),
        };
        Ok(old.first().map(|old_path| Replace {
            old_path: old_path.text.clone(),
            old_version,
            new,
            at: old_path.raw,
        }))
    }

    fn go(&self) -> Result<(), String> {
        self.count(1, "a Go version")?;
        let version = &self.args[0].text;
        if is_go_version(version) {
            Ok(())
        } else {
            Err(format!(
                "`{version}` is not a Go version: write e.g. `go 1.22` or `go 1.22.3`"
            ))
        }
    }

    fn toolchain(&self) -> Result<Option<Require>, String> {
        self.count(1, "a toolchain name")?;
        let token = &self.args[0];
        if token.text == "default" {
            return Ok(None);
        }
        let version = token
            .text
            .strip_prefix("go")
            .filter(|v| is_go_version(v.split(['+', '-']).next().unwrap_or(v)))
            .ok_or_else(|| {
                format!(
                    "`{}` is not a toolchain name: write `go` and a version, e.g. `toolchain go1.22.3`",
                    token.text
                )
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
