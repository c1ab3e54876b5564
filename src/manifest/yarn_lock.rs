//! yarn.lock: the classic v1 format and the Berry (Yarn 2+) format.
//!
//! Both are blocks of the same shape: an unindented header naming the specs the entry satisfies,
//! then indented fields. v1 writes `version "1.2.3"`, Berry (recognised by its `__metadata:`
//! entry) writes YAML, `version: 1.2.3`. One Dependency per entry, not per spec.
//!
//! Entries that do not come from the npm registry are skipped: v1 entries whose range is a URL,
//! a git or file reference; Berry entries whose `resolution` is not `npm:` (`workspace:` is the
//! project itself; `patch:` entries repeat a package that also has its own `npm:` entry). An
//! alias (`alias@npm:real-name@^1`) is reported under the real name. A v1 entry whose range
//! yarn 1 does not understand (`workspace:^`) but that it `resolved` to a registry tarball
//! (`…/@scope/name/-/name-1.2.3.tgz`) installs that package: it is reported under the name
//! the tarball's path gives.
//!
//! Direct or Transitive: Berry lists the project's package.json as `workspace:` entries, so an
//! entry is Direct when a workspace entry depends on it. v1 does not record what package.json
//! declares, so an entry is Direct when no entry lists its name under `dependencies` or
//! `optionalDependencies`. That never
//! calls a transitive package Direct, but misses a direct dependency that another package also
//! depends on, and calls an orphan entry (kept only by a `resolutions` override) Direct.
//!
//! Every entry NeedsRelock: the file records `resolved`/`integrity` (v1) or `checksum` (Berry).

use std::collections::HashSet;
use std::sync::Arc;

use crate::model::{
    Dependency, DependencyKind, Ecosystem, ErrorCode, FileError, Location, ParsedManifest, Span,
};

pub fn parse(file: &str, source: &str) -> ParsedManifest {
    let mut out = ParsedManifest {
        file: file.to_string(),
        ..Default::default()
    };
    let berry = source
        .lines()
        .any(|line| matches!(line.trim_end(), "__metadata:" | "\"__metadata\":"));
    let (entries, errors) = read_entries(file, source);
    out.errors = errors;

    // Berry records the project's own package.json as `workspace:` entries: what they list is
    // exactly what the project declares. v1 has no such entry, so the names nobody requires are
    // taken as declared.
    let is_workspace = |entry: &&Entry| {
        entry.resolution.as_deref().is_some_and(|r| {
            spec_name(r).is_some_and(|n| r[n.len() + 1..].starts_with("workspace:"))
        })
    };
    let required: HashSet<&str> = entries
        .iter()
        .filter(|entry| !(berry && is_workspace(entry)))
        .flat_map(|entry| entry.requires.iter().map(String::as_str))
        .collect();
    let declared: HashSet<&str> = entries
        .iter()
        .filter(|entry| berry && is_workspace(entry))
        .flat_map(|entry| entry.requires.iter().map(String::as_str))
        .collect();
    // One text per kind for the whole file: see `EditMode::NeedsRelock`.
    let direct_reason: Arc<str> = relock_reason(berry, true, "<package>").into();
    let transitive_reason: Arc<str> = relock_reason(berry, false, "<package>").into();
    for entry in &entries {
        let Some(package) = entry.package(berry) else {
            continue;
        };
        let Some(version) = &entry.version else {
            if entry.cut_off {
                continue;
            }
            let problem = Problem::NoVersion {
                spec: entry
                    .specs
                    .first()
                    .map_or_else(String::new, |s| s.text.clone()),
            };
            out.errors.push(
                FileError::new(file, entry.location.line, problem.to_string())
                    .with_code(problem.code()),
            );
            continue;
        };
        let name = package.as_str();
        let mut installed_as = entry.specs.iter().filter_map(|spec| spec_name(&spec.text));
        let direct = if berry {
            declared.contains(name) || installed_as.any(|n| declared.contains(n))
        } else {
            !required.contains(name) && !installed_as.any(|n| required.contains(n))
        };
        // An alias is upgraded under its alias: `yarn upgrade alias@npm:real@version`.
        let alias = entry
            .specs
            .first()
            .and_then(|spec| spec_name(&spec.text))
            .filter(|alias| *alias != name);
        let reason = match (alias, direct) {
            (Some(alias), true) => {
                relock_reason(berry, true, &format!("{alias}@npm:{name}")).into()
            }
            (_, true) => direct_reason.clone(),
            (_, false) => transitive_reason.clone(),
        };
        out.dependencies.push(Dependency::locked(
            Ecosystem::Npm,
            (&package, &version.text),
            DependencyKind::package(direct),
            entry.location.clone(),
            version.span.into_iter().collect(),
            reason,
        ));
    }
    out.errors.sort_by_key(|e| e.line);
    out
}

/// `target` is what a direct entry installs: `<package>`, or `alias@npm:name` for an alias. The
/// transitive advice updates the package under its own name, so it takes no target.
fn relock_reason(berry: bool, direct: bool, target: &str) -> String {
    match (berry, direct) {
        (false, true) => format!(
            "yarn.lock records `resolved` and `integrity` for each package: run `yarn upgrade {target}@<fixed version>`"
        ),
        (false, false) => "yarn.lock records `resolved` and `integrity` for each package: run `yarn upgrade <package>`; if the packages that depend on it exclude the fixed version, add `\"resolutions\": {\"<package>\": \"<fixed version>\"}` to package.json and run `yarn install`".to_string(),
        (true, true) => format!(
            "yarn.lock records a `checksum` for each package: run `yarn up {target}@<fixed version>`"
        ),
        (true, false) => "yarn.lock records a `checksum` for each package: run `yarn up -R <package>`; if the packages that depend on it exclude the fixed version, add `\"resolutions\": {\"<package>\": \"<fixed version>\"}` to package.json and run `yarn install`".to_string(),
    }
}

/// What can be wrong in a yarn.lock, worded so the author knows what to change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
enum Problem {
    #[error(
        "`{text}` is not an entry header: headers name the package specs and end with `:`, e.g. `\"lodash@^4.17.0\":`"
    )]
    NotAHeader { text: String },
    #[error("an entry header must name at least one spec, e.g. `\"lodash@^4.17.0\":`")]
    EmptyHeader,
    #[error(
        "this indented line belongs to no entry: the file must start with an unindented entry header such as `\"lodash@^4.17.0\":`"
    )]
    OutsideEntry,
    #[error("`{text}` opens a `\"` that is never closed; regenerate yarn.lock with `yarn install`")]
    UnclosedQuote { text: String },
    #[error("`{text}` has text after its quoted value; regenerate yarn.lock with `yarn install`")]
    TextAfterValue { text: String },
    #[error("the entry for `{spec}` has no `version`; regenerate yarn.lock with `yarn install`")]
    NoVersion { spec: String },
    #[error(
        "`{text}` ends the file without a line end: the file looks cut off, so this version is not trusted; regenerate yarn.lock with `yarn install`"
    )]
    CutOff { text: String },
}

impl Problem {
    fn code(&self) -> ErrorCode {
        match self {
            Problem::UnclosedQuote { .. } | Problem::CutOff { .. } => ErrorCode::LockfileTruncated,
            Problem::NoVersion { .. } => ErrorCode::LockfileEntry,
            _ => ErrorCode::LockfileSyntax,
        }
    }
}

/// A string as written: its value and, when the raw text equals it, its span.
#[derive(Debug, Clone)]
struct Text {
    text: String,
    span: Option<Span>,
}

struct Entry {
    specs: Vec<Text>,
    location: Location,
    version: Option<Text>,
    resolution: Option<String>,
    /// v1's `resolved`: where the package was fetched from.
    resolved: Option<String>,
    /// Its `version` line was cut off by the end of the file (already reported).
    cut_off: bool,
    requires: Vec<String>,
}

impl Entry {
    /// The registry package this entry installs, or `None` when it is not from the registry.
    fn package(&self, berry: bool) -> Option<String> {
        let first = self.specs.first()?;
        let name = spec_name(&first.text)?;
        if name == "__metadata" {
            return None;
        }
        let range = &first.text[name.len() + 1..];
        if berry {
            let resolution = self.resolution.as_deref().unwrap_or(&first.text);
            let resolved_name = spec_name(resolution)?;
            let protocol = &resolution[resolved_name.len() + 1..];
            return protocol
                .starts_with("npm:")
                .then(|| resolved_name.to_string());
        }
        if let Some(aliased) = range.strip_prefix("npm:") {
            // `npm:real-name@^1`, or `npm:^1` for the same name.
            return Some(spec_name(aliased).unwrap_or(name).to_string());
        }
        let registry_range = !(range.contains(':') || range.contains('/'));
        if registry_range {
            return Some(name.to_string());
        }
        let (resolved, version) = (self.resolved.as_deref()?, self.version.as_ref()?);
        registry_tarball_name(resolved, &version.text).map(str::to_string)
    }
}

/// The package a registry tarball URL holds, when the URL has the registry's
/// `<name>/-/<basename>-<version>.tgz` shape for `version` (npm's registry, yarn's mirror of
/// it, and the private registries that copy its layout).
fn registry_tarball_name<'u>(url: &'u str, version: &str) -> Option<&'u str> {
    let path = url.split(['#', '?']).next()?;
    let (before, file) = path.rsplit_once("/-/")?;
    let (host_and_path, last) = before.rsplit_once('/')?;
    let name_start = match host_and_path.rsplit_once('/') {
        Some((_, scope)) if scope.starts_with('@') => before.len() - last.len() - scope.len() - 1,
        _ => before.len() - last.len(),
    };
    let name = &before[name_start..];
    let tarball = format!("{last}-{version}.tgz");
    (!last.is_empty() && file == tarball && url.contains("://")).then_some(name)
}

/// The package name of a spec `name@range` (`@scope/name@range` for scoped packages).
fn spec_name(spec: &str) -> Option<&str> {
    let at = spec.get(1..)?.find('@')? + 1;
    Some(&spec[..at])
}

fn read_entries(file: &str, source: &str) -> (Vec<Entry>, Vec<FileError>) {
    let mut entries: Vec<Entry> = Vec::new();
    let mut errors = Vec::new();
    let mut field_indent: Option<usize> = None;
    // The entry the indented lines belong to; `Skipping` after a header that did not parse, so
    // its fields are not credited to the entry before it.
    let mut current = Current::Start;
    let mut block: Option<String> = None;
    let mut offset = 0;
    for (index, raw) in source.split('\n').enumerate() {
        let start = offset;
        offset += raw.len() + 1;
        let number = u32::try_from(index + 1).unwrap_or(u32::MAX);
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        let content = line.trim_start_matches([' ', '\t']);
        if content.trim().is_empty() || content.starts_with('#') {
            continue;
        }
        let indent = line.len() - content.len();
        let mut error = |problem: Problem| {
            errors
                .push(FileError::new(file, number, problem.to_string()).with_code(problem.code()));
        };
        if indent == 0 {
            field_indent = None;
            block = None;
            current = Current::Skipping;
            let Some(header) = content.trim_end().strip_suffix(':') else {
                error(Problem::NotAHeader {
                    text: content.trim_end().to_string(),
                });
                continue;
            };
            match split_specs(header, start) {
                Ok(specs) if !specs.is_empty() => {
                    let at = specs
                        .first()
                        .and_then(|s| s.span)
                        .unwrap_or(Span::new(start, start));
                    let column = source
                        .get(start..at.start)
                        .map_or(1, |s| s.chars().count() + 1);
                    current = Current::Entry(entries.len());
                    entries.push(Entry {
                        specs,
                        location: Location {
                            file: file.to_string(),
                            line: number,
                            column: u32::try_from(column).unwrap_or(u32::MAX),
                            span: Some(at),
                        },
                        version: None,
                        resolution: None,
                        resolved: None,
                        cut_off: false,
                        requires: Vec::new(),
                    });
                }
                Ok(_) => error(Problem::EmptyHeader),
                Err(problem) => error(problem),
            }
            continue;
        }
        let entry = match current {
            Current::Entry(index) => match entries.get_mut(index) {
                Some(entry) => entry,
                None => continue,
            },
            Current::Skipping => continue,
            Current::Start => {
                error(Problem::OutsideEntry);
                current = Current::Skipping;
                continue;
            }
        };
        let content_start = start + indent;
        let (key, value) = match field(content, content_start) {
            Ok(field) => field,
            Err(problem) => {
                error(problem);
                continue;
            }
        };
        let field_level = *field_indent.get_or_insert(indent);
        if indent > field_level {
            if matches!(
                block.as_deref(),
                Some("dependencies" | "optionalDependencies")
            ) {
                entry.requires.push(key.text);
            }
            continue;
        }
        block = None;
        // The file's last line has no line end: an unquoted value there may be cut short
        // (`version: 18.1` of `18.11.9`). yarn always ends its files with one.
        let last_line_cut = offset > source.len() && !content.trim_end().ends_with('"');
        if last_line_cut && key.text == "version" && value.is_some() {
            entry.cut_off = true;
            error(Problem::CutOff {
                text: content.trim_end().to_string(),
            });
            continue;
        }
        match (key.text.as_str(), value) {
            (name, None) => block = Some(name.to_string()),
            ("version", Some(version)) => entry.version = Some(version),
            ("resolution", Some(resolution)) => entry.resolution = Some(resolution.text),
            ("resolved", Some(resolved)) => entry.resolved = Some(resolved.text),
            _ => {}
        }
    }
    (entries, errors)
}

enum Current {
    Start,
    Entry(usize),
    Skipping,
}

/// Splits a header (`"a@^1", a@^1.2` or Berry's `"a@npm:^1, a@npm:^1.2"`) into its specs;
/// `base` is the header's byte offset in the file.
fn split_specs(header: &str, base: usize) -> Result<Vec<Text>, Problem> {
    let mut specs = Vec::new();
    let mut at = 0;
    while at < header.len() {
        let rest = &header[at..];
        let trimmed = rest.trim_start_matches([' ', ',']);
        at += rest.len() - trimmed.len();
        if trimmed.is_empty() {
            break;
        }
        let (item, consumed) = if trimmed.starts_with('"') {
            let (text, len) = quoted(trimmed, base + at)?;
            (text, len)
        } else {
            let len = trimmed.find(',').unwrap_or(trimmed.len());
            let text = trimmed[..len].trim_end();
            (
                Text {
                    text: text.to_string(),
                    span: Some(Span::new(base + at, base + at + text.len())),
                },
                len,
            )
        };
        at += consumed;
        // Berry quotes the whole list as one string: split it again.
        let mut offset = 0;
        for part in item.text.split(", ") {
            let text = part.trim();
            let start = offset + (part.len() - part.trim_start().len());
            offset += part.len() + 2;
            if text.is_empty() {
                continue;
            }
            let span = item
                .span
                .map(|s| Span::new(s.start + start, s.start + start + text.len()));
            specs.push(Text {
                text: text.to_string(),
                span,
            });
        }
    }
    Ok(specs)
}

/// A double-quoted string at the start of `text`: its value, and how many bytes it took.
fn quoted(text: &str, base: usize) -> Result<(Text, usize), Problem> {
    let mut value = String::new();
    let mut escaped = false;
    let mut chars = text.char_indices().skip(1);
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => {
                let raw = Span::new(base + 1, base + i);
                let exact = !escaped;
                return Ok((
                    Text {
                        text: value,
                        span: exact.then_some(raw),
                    },
                    i + 1,
                ));
            }
            '\\' => {
                escaped = true;
                match chars.next() {
                    Some((_, 'n')) => value.push('\n'),
                    Some((_, 't')) => value.push('\t'),
                    Some((_, other)) => value.push(other),
                    None => break,
                }
            }
            c => value.push(c),
        }
    }
    Err(Problem::UnclosedQuote {
        text: text.to_string(),
    })
}

/// A field line: `key value`, `key "value"` (v1), `key: value` (Berry), or `key:` opening a block.
fn field(content: &str, base: usize) -> Result<(Text, Option<Text>), Problem> {
    let content = content.trim_end();
    let (key, mut at) = if content.starts_with('"') {
        quoted(content, base)?
    } else {
        let end = content
            .char_indices()
            .find(|&(i, c)| {
                c.is_whitespace()
                    || (c == ':'
                        && content[i + 1..]
                            .chars()
                            .next()
                            .is_none_or(char::is_whitespace))
            })
            .map_or(content.len(), |(i, _)| i);
        let text = &content[..end];
        (
            Text {
                text: text.to_string(),
                span: Some(Span::new(base, base + end)),
            },
            end,
        )
    };
    if content[at..].starts_with(':') {
        at += 1;
    }
    let rest = &content[at..];
    let value = rest.trim_start();
    at += rest.len() - value.len();
    if value.is_empty() {
        return Ok((key, None));
    }
    if value.starts_with('"') {
        let (text, len) = quoted(value, base + at)?;
        if !value[len..].trim().is_empty() {
            return Err(Problem::TextAfterValue {
                text: content.to_string(),
            });
        }
        return Ok((key, Some(text)));
    }
    Ok((
        key,
        Some(Text {
            text: value.to_string(),
            span: Some(Span::new(base + at, base + at + value.len())),
        }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_tarballs_name_their_package() {
        let cases = [
            (
                "https://registry.yarnpkg.com/@excalidraw/excalidraw/-/excalidraw-0.17.2.tgz#9a63",
                "0.17.2",
                Some("@excalidraw/excalidraw"),
            ),
            (
                "https://registry.npmjs.org/react/-/react-18.2.0.tgz",
                "18.2.0",
                Some("react"),
            ),
            (
                "https://npm.example.com/api/npm/remote/lodash/-/lodash-4.17.21.tgz",
                "4.17.21",
                Some("lodash"),
            ),
            // Another version than the entry's, or not the registry's layout: not trusted.
            (
                "https://registry.npmjs.org/react/-/react-18.2.0.tgz",
                "18.3.0",
                None,
            ),
            ("https://example.com/left-pad-1.3.0.tgz", "1.3.0", None),
            ("git+https://github.com/a/b.git#abc", "1.0.0", None),
        ];
        for (url, version, want) in cases {
            assert_eq!(registry_tarball_name(url, version), want, "{url}");
        }
    }
}
