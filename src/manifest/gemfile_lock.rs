//! Gemfile.lock (Bundler 1 and 2).
//!
//! A line at column 0 opens a section (`GEM`, `GIT`, `PATH`, `PLATFORMS`, `DEPENDENCIES`,
//! `CHECKSUMS`, `BUNDLED WITH`...). Under `specs:` of a source section, four spaces indent a
//! locked gem, `name (version)` or `name (version-platform)` as Bundler's own lockfile parser
//! splits it (the version stops at the first `-`); six spaces indent that gem's requirements.
//!
//! - `GEM` specs are RubyGems packages. One gem locked for several platforms is reported once,
//!   with every line's version span (they change together).
//! - `GIT` specs keep their gem name (advisories are filed by name) and are Transitive unless the
//!   Gemfile names them; their fix is a new `ref` in the Gemfile. `PATH` specs are the project's
//!   own gems: skipped.
//! - Direct: named in `DEPENDENCIES` (`name`, `name (>= 1.0)`, `name!` for a git or path source).
//!
//! Every entry NeedsRelock: Bundler 2.5+ records a checksum per gem, and only Bundler resolves.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use super::cargo_lock::LineIndex;
use crate::model::{
    Dependency, DependencyKind, Ecosystem, ErrorCode, FileError, ParsedManifest, Span,
};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Section {
    Gem,
    Git,
    Path,
    Dependencies,
    Other,
}

struct Spec<'a> {
    name: &'a str,
    version: &'a str,
    name_span: Span,
    version_spans: Vec<Span>,
    from_git: bool,
}

pub fn parse(file: &str, source: &str) -> ParsedManifest {
    let mut out = ParsedManifest {
        file: file.to_string(),
        ..Default::default()
    };
    let mut lines = LineIndex::new(source);
    let mut section = Section::Other;
    let mut in_specs = false;
    let mut specs: Vec<Spec<'_>> = Vec::new();
    let mut index: HashMap<(&str, &str), usize> = HashMap::new();
    let mut direct = HashSet::new();
    let mut offset = 0;
    for (number, raw) in source.split_inclusive('\n').enumerate() {
        let line_start = offset;
        offset += raw.len();
        let line = raw.trim_end_matches(['\n', '\r']);
        let number = u32::try_from(number + 1).unwrap_or(u32::MAX);
        if line.trim().is_empty() {
            continue;
        }
        if line.starts_with("<<<<<<<") || line.starts_with(">>>>>>>") || line.starts_with("=======")
        {
            out.errors.push(
                FileError::new(file, number, "Gemfile.lock has merge conflict markers: resolve the conflict, or run `bundle lock` to regenerate it")
                    .with_code(ErrorCode::LockfileSyntax),
            );
            continue;
        }
        let indent = line.len() - line.trim_start_matches(' ').len();
        if indent == 0 {
            section = match line {
                "GEM" => Section::Gem,
                "GIT" => Section::Git,
                "PATH" => Section::Path,
                "DEPENDENCIES" => Section::Dependencies,
                _ => Section::Other,
            };
            in_specs = false;
            continue;
        }
        match section {
            Section::Dependencies if indent == 2 => {
                let name = line[2..].split([' ', '!']).next().unwrap_or_default();
                direct.insert(name);
            }
            Section::Gem | Section::Git | Section::Path if indent == 2 => {
                in_specs = line[2..].starts_with("specs:");
            }
            Section::Gem | Section::Git if in_specs && indent == 4 => {
                let text = &line[4..];
                let Some((name, version, version_at)) = split_spec(text) else {
                    out.errors.push(
                        FileError::new(
                            file,
                            number,
                            format!("`{}` is not a `name (version)` gem entry; run `bundle lock` to regenerate Gemfile.lock", text.trim()),
                        )
                        .with_code(ErrorCode::LockfileEntry),
                    );
                    continue;
                };
                let base = line_start + 4;
                let version_span = Span::new(base + version_at, base + version_at + version.len());
                match index.get(&(name, version)) {
                    Some(&at) => specs[at].version_spans.push(version_span),
                    None => {
                        index.insert((name, version), specs.len());
                        specs.push(Spec {
                            name,
                            version,
                            name_span: Span::new(base, base + name.len()),
                            version_spans: vec![version_span],
                            from_git: section == Section::Git,
                        });
                    }
                }
            }
            _ => {}
        }
    }
    // One text for every gem from a gem server: see `EditMode::NeedsRelock`.
    let gem_reason: Arc<str> = Arc::from(
        "Gemfile.lock is resolved by Bundler (and records a checksum per gem): run `bundle update --conservative <package>`",
    );
    for spec in specs {
        let name = spec.name;
        let reason = if spec.from_git {
            format!(
                "`{name}` is checked out from git, not RubyGems: point its `ref`/`tag` in the Gemfile at a fixed release, then run `bundle update --conservative {name}`"
            )
            .into()
        } else {
            gem_reason.clone()
        };
        out.dependencies.push(Dependency::locked(
            Ecosystem::RubyGems,
            (name, spec.version),
            DependencyKind::package(direct.contains(name)),
            lines.location(file, spec.name_span),
            spec.version_spans,
            reason,
        ));
    }
    out
}

/// `name (version[-platform])` → name, version and the version's offset in `text`.
fn split_spec(text: &str) -> Option<(&str, &str, usize)> {
    let (name, rest) = text.split_once(" (")?;
    let inside = rest.strip_suffix(')')?;
    let version = inside.split('-').next()?;
    let valid = |s: &str| !s.is_empty() && !s.contains([' ', '(', ')']);
    if !valid(name) || !valid(version) || !version.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    Some((name, version, name.len() + 2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gem_specs_platforms_git_and_direct() {
        let source = "GIT\n  remote: https://github.com/x/sidekiq.git\n  revision: abc\n  specs:\n    sidekiq (7.0.0)\n      redis (>= 4)\n\nPATH\n  remote: .\n  specs:\n    myapp (0.1.0)\n\nGEM\n  remote: https://rubygems.org/\n  specs:\n    nokogiri (1.16.0-arm64-darwin)\n      racc (~> 1.4)\n    nokogiri (1.16.0-x86_64-linux)\n      racc (~> 1.4)\n    racc (1.7.3)\n    rails (7.1.0.rc1)\n\nPLATFORMS\n  arm64-darwin\n\nDEPENDENCIES\n  nokogiri (>= 1.15)\n  rails!\n  sidekiq!\n\nCHECKSUMS\n  racc (1.7.3) sha256=abc\n\nBUNDLED WITH\n   2.5.3\n";
        let parsed = parse("Gemfile.lock", source);
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        let got: Vec<(&str, &str, usize, bool, u32)> = parsed
            .dependencies
            .iter()
            .map(|d| {
                assert!(
                    d.version_spans
                        .iter()
                        .all(|s| s.slice(source) == d.version.as_deref())
                );
                (
                    d.name.as_str(),
                    d.version.as_deref().unwrap(),
                    d.version_spans.len(),
                    d.kind == DependencyKind::Direct,
                    d.location.line,
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("sidekiq", "7.0.0", 1, true, 5),
                ("nokogiri", "1.16.0", 2, true, 16),
                ("racc", "1.7.3", 1, false, 20),
                ("rails", "7.1.0.rc1", 1, true, 21),
            ]
        );
    }

    #[test]
    fn a_malformed_spec_and_conflict_markers_are_errors_with_lines() {
        let source = "GEM\n  specs:\n    rack 3.0.0\n<<<<<<< HEAD\n";
        let parsed = parse("Gemfile.lock", source);
        let lines: Vec<u32> = parsed.errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![3, 4]);
    }
}
