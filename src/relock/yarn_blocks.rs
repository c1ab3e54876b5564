//! yarn.lock v1 read as blocks (the patterns that resolve to one entry, its version, what it
//! depends on), for what the project's parser does not keep: which patterns, hence which
//! parents' ranges, an entry answers. Pure; shared by the planner and the yarn re-lock.

use super::npm_range;
use super::plan::Parent;

/// One yarn.lock v1 block: its patterns and its dependencies (name, range).
pub(crate) struct Block {
    pub(crate) patterns: Vec<String>,
    pub(crate) version: Option<String>,
    pub(crate) dependencies: Vec<(String, String)>,
}

pub(crate) fn blocks(lock: &str) -> Vec<Block> {
    let unquote = |s: &str| s.trim().trim_matches('"').to_string();
    let mut out: Vec<Block> = Vec::new();
    let mut in_deps = false;
    for line in lock.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        if !line.starts_with(' ') {
            let header = line.trim_end().trim_end_matches(':');
            out.push(Block {
                patterns: header.split(", ").map(unquote).collect(),
                version: None,
                dependencies: Vec::new(),
            });
            in_deps = false;
            continue;
        }
        let Some(block) = out.last_mut() else {
            continue;
        };
        if let Some(field) = line.strip_prefix("  ").filter(|l| !l.starts_with(' ')) {
            in_deps = matches!(field.trim_end(), "dependencies:" | "optionalDependencies:");
            if let Some(v) = field.strip_prefix("version ") {
                block.version = Some(unquote(v));
            }
        } else if in_deps && let Some(dep) = line.strip_prefix("    ") {
            // `name "range"`, the name quoted when it is scoped.
            let dep = dep.trim();
            let split = match dep.strip_prefix('"') {
                Some(quoted) => quoted.find('"').map(|i| i + 2),
                None => dep.find(' '),
            };
            if let Some(at) = split {
                block
                    .dependencies
                    .push((unquote(&dep[..at]), unquote(&dep[at..])));
            }
        }
    }
    out
}

/// The package a pattern (`leaf@^1.0.0`, `@s/x@~2`) names.
pub(crate) fn pattern_name(pattern: &str) -> &str {
    match pattern.get(1..).and_then(|rest| rest.rfind('@')) {
        Some(at) => &pattern[..at + 1],
        None => pattern,
    }
}

/// Whether `lock` is a Berry lockfile (`__metadata`), which this reader does not cover.
pub(crate) fn is_berry(lock: &str) -> bool {
    lock.lines()
        .any(|l| matches!(l.trim_end(), "__metadata:" | "\"__metadata\":"))
}

/// The packages whose range for the entry of `name` at `from` does not allow `to`. A yarn v1
/// entry answers exactly the patterns in its header, so each pattern whose range refuses `to`
/// is a parent (or several) that would have to change first. A range that cannot be read
/// (a URL, a tag) refuses nothing: yarn itself decides.
pub fn refusing_parents(lock: &str, name: &str, from: &str, to: &str) -> Vec<Parent> {
    let all = blocks(lock);
    let Some(entry) = all.iter().find(|b| {
        b.version.as_deref() == Some(from)
            && b.patterns.first().is_some_and(|p| pattern_name(p) == name)
    }) else {
        return Vec::new();
    };
    let mut refusing = Vec::new();
    for pattern in &entry.patterns {
        let range = &pattern[pattern_name(pattern).len()..].trim_start_matches('@');
        if npm_range::satisfies(range, to) != Some(false) {
            continue;
        }
        for asker in all.iter().filter(|b| {
            b.dependencies
                .iter()
                .any(|(n, r)| n == name && r.as_str() == *range)
        }) {
            refusing.push(Parent {
                name: asker
                    .patterns
                    .first()
                    .map(|p| pattern_name(p).to_string())
                    .unwrap_or_default(),
                version: asker.version.clone().unwrap_or_default(),
                range: range.to_string(),
            });
        }
    }
    refusing
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCK: &str = r#"# yarn lockfile v1


"@babel/compat@^7.0.0":
  version "7.1.0"
  dependencies:
    semver "7.0.0"

core-js-compat@^3.0.0:
  version "3.21.1"
  dependencies:
    semver "7.0.0"

eslint@^7.0.0:
  version "7.32.0"
  dependencies:
    semver "^7.2.1"

semver@7.0.0:
  version "7.0.0"

semver@^7.2.1:
  version "7.3.7"
"#;

    #[test]
    fn an_exact_pattern_names_every_parent_that_asks_for_it() {
        let refusing = refusing_parents(LOCK, "semver", "7.0.0", "7.5.2");
        let named: Vec<(&str, &str, &str)> = refusing
            .iter()
            .map(|p| (p.name.as_str(), p.version.as_str(), p.range.as_str()))
            .collect();
        assert_eq!(
            named,
            [
                ("@babel/compat", "7.1.0", "7.0.0"),
                ("core-js-compat", "3.21.1", "7.0.0")
            ]
        );
        // The other entry's range allows the target; an unknown entry refuses nothing.
        assert!(refusing_parents(LOCK, "semver", "7.3.7", "7.5.2").is_empty());
        assert!(refusing_parents(LOCK, "semver", "6.0.0", "7.5.2").is_empty());
    }

    #[test]
    fn scoped_names_and_odd_headers_are_read_without_panicking() {
        assert_eq!(pattern_name("@s/x@~2"), "@s/x");
        assert_eq!(pattern_name("leaf@^1.0.0"), "leaf");
        assert_eq!(pattern_name(""), "");
        assert!(refusing_parents(":\n  version \"1\"\n", "x", "1", "2").is_empty());
        assert!(is_berry("__metadata:\n  version: 6\n"));
        assert!(!is_berry(LOCK));
    }
}
