//! npm's range syntax (node-semver): `^1.2.3`, `~1.2`, `1.x`, `>=1.0.0 <2`, `1.2 - 1.4`, `a || b`.
//! Enough of it to tell whether a parent's declared range allows a version, so a transitive
//! re-lock is only attempted where the package manager can do it. Pure.

use semver::{Prerelease, Version};

/// Whether `version` satisfies `range`. `None` when either does not parse as npm semver (a
/// dist-tag such as `latest`, a URL, `file:`, `workspace:`): the caller cannot decide.
pub fn satisfies(range: &str, version: &str) -> Option<bool> {
    let version = Version::parse(version.trim().trim_start_matches(['v', '='])).ok()?;
    let sets = parse(range)?;
    Some(sets.iter().any(|set| set_allows(set, &version)))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
}

type Comparator = (Op, Version);

/// A `||`-separated list of comparator sets; an empty set allows everything.
fn parse(range: &str) -> Option<Vec<Vec<Comparator>>> {
    range.split("||").map(parse_set).collect()
}

fn parse_set(text: &str) -> Option<Vec<Comparator>> {
    let text = text.trim();
    if let Some((low, high)) = text.split_once(" - ") {
        let (low, high) = (partial(low.trim())?, partial(high.trim())?);
        let mut out = vec![(Op::Ge, low.floor())];
        if let Some(upper) = high.ceiling_exclusive() {
            out.push((Op::Lt, upper));
        } else {
            out.push((Op::Le, high.floor()));
        }
        return Some(out);
    }
    // Operators may be followed by spaces (`>= 1.2.3`): glue them to their version first.
    let mut tokens: Vec<String> = Vec::new();
    for word in text.split_whitespace() {
        match tokens.last_mut() {
            Some(last) if matches!(last.as_str(), "<" | "<=" | ">" | ">=" | "=" | "~" | "^") => {
                last.push_str(word)
            }
            _ => tokens.push(word.to_string()),
        }
    }
    let mut out = Vec::new();
    for token in &tokens {
        out.extend(simple(token)?);
    }
    Some(out)
}

fn simple(token: &str) -> Option<Vec<Comparator>> {
    let (op, rest) = ["<=", ">=", "<", ">", "=", "~>", "~", "^"]
        .iter()
        .find_map(|op| token.strip_prefix(op).map(|rest| (*op, rest)))
        .unwrap_or(("", token));
    let p = partial(rest)?;
    let floor = p.floor();
    let ceiling = p.ceiling_exclusive();
    Some(match op {
        "" | "=" if p.parts == 0 => Vec::new(),
        "" | "=" => match ceiling {
            None => vec![(Op::Eq, floor)],
            Some(c) => vec![(Op::Ge, floor), (Op::Lt, c)],
        },
        ">=" => vec![(Op::Ge, floor)],
        "<" => vec![(Op::Lt, floor)],
        ">" => match ceiling {
            // `>1.2` means past every 1.2.x.
            Some(c) => vec![(Op::Ge, c)],
            None => vec![(Op::Gt, floor)],
        },
        "<=" => match ceiling {
            Some(c) => vec![(Op::Lt, c)],
            None => vec![(Op::Le, floor)],
        },
        "~" | "~>" => {
            let upper = match p.parts {
                0 => return Some(Vec::new()),
                1 => bump(p.major + 1, 0, 0),
                _ => bump(p.major, p.minor + 1, 0),
            };
            vec![(Op::Ge, floor), (Op::Lt, upper)]
        }
        "^" => {
            let upper = match (p.parts, p.major, p.minor) {
                (0, ..) => return Some(Vec::new()),
                (_, m, _) if m > 0 => bump(m + 1, 0, 0),
                (1, _, _) => bump(1, 0, 0),
                (2, _, minor) => bump(0, minor + 1, 0),
                (_, _, minor) if minor > 0 => bump(0, minor + 1, 0),
                _ => bump(0, 0, p.patch + 1),
            };
            vec![(Op::Ge, floor), (Op::Lt, upper)]
        }
        _ => return None,
    })
}

/// A version with possibly missing parts (`1`, `1.2`, `1.x`, `*`).
struct Partial {
    major: u64,
    minor: u64,
    patch: u64,
    pre: Prerelease,
    /// How many leading numeric parts are written (0 to 3).
    parts: u8,
}

fn partial(text: &str) -> Option<Partial> {
    let text = text.trim().trim_start_matches(['v', '=']);
    if text.is_empty() || text == "*" || text.eq_ignore_ascii_case("x") {
        return Some(Partial {
            major: 0,
            minor: 0,
            patch: 0,
            pre: Prerelease::EMPTY,
            parts: 0,
        });
    }
    let (core, pre) = match text.split_once('-') {
        Some((core, pre)) => (core, Prerelease::new(pre.split('+').next()?).ok()?),
        None => (text.split('+').next()?, Prerelease::EMPTY),
    };
    let mut numbers = [0u64; 3];
    let mut parts = 0u8;
    for (i, piece) in core.split('.').enumerate() {
        if i >= 3 {
            return None;
        }
        if matches!(piece, "x" | "X" | "*") {
            break;
        }
        numbers[i] = piece.parse().ok()?;
        parts += 1;
    }
    Some(Partial {
        major: numbers[0],
        minor: numbers[1],
        patch: numbers[2],
        pre,
        parts,
    })
}

impl Partial {
    fn floor(&self) -> Version {
        let mut v = Version::new(self.major, self.minor, self.patch);
        v.pre = self.pre.clone();
        v
    }

    /// The first version past a partial one (`1.2` → `1.3.0-0`); `None` for a full version.
    fn ceiling_exclusive(&self) -> Option<Version> {
        match self.parts {
            0 => Some(bump(u64::MAX, 0, 0)),
            1 => Some(bump(self.major + 1, 0, 0)),
            2 => Some(bump(self.major, self.minor + 1, 0)),
            _ => None,
        }
    }
}

/// `major.minor.patch-0`: the lowest version of that release, prereleases included.
fn bump(major: u64, minor: u64, patch: u64) -> Version {
    let mut v = Version::new(major, minor, patch);
    v.pre = Prerelease::new("0").unwrap_or(Prerelease::EMPTY);
    v
}

fn set_allows(set: &[Comparator], v: &Version) -> bool {
    let each = set.iter().all(|(op, bound)| match op {
        Op::Lt => v < bound,
        Op::Le => v <= bound,
        Op::Gt => v > bound,
        Op::Ge => v >= bound,
        Op::Eq => v == bound,
    });
    // npm only lets a prerelease through when the range names a prerelease of the same release.
    // Our `-0` ceilings are not written by the user, so they do not count.
    each && (v.pre.is_empty()
        || set.iter().any(|(op, bound)| {
            *op != Op::Lt
                && !bound.pre.is_empty()
                && (bound.major, bound.minor, bound.patch) == (v.major, v.minor, v.patch)
        }))
}

#[cfg(test)]
mod tests {
    use super::satisfies;

    #[test]
    fn ranges_as_npm_reads_them() {
        let yes = [
            ("^1.2.3", "1.9.0"),
            ("^0.2.3", "0.2.9"),
            ("^0.0.3", "0.0.3"),
            ("~1.2.3", "1.2.9"),
            ("~1.2", "1.2.0"),
            ("~1", "1.9.9"),
            ("1.x", "1.4.0"),
            ("1", "1.0.1"),
            ("*", "3.0.0"),
            ("", "3.0.0"),
            (">=1.0.0 <2", "1.5.0"),
            (">= 1.0.0", "1.0.0"),
            ("1.2 - 1.4", "1.4.7"),
            ("1.2.3 - 1.4.0", "1.4.0"),
            ("<1.0.0 || >=2.0.0", "2.1.0"),
            ("1.0.0", "1.0.0"),
            ("=1.0.0", "1.0.0"),
            (">1.2", "1.3.0"),
            ("<=1.2", "1.2.9"),
            ("^1.0.0-beta.1", "1.0.0-beta.2"),
        ];
        for (range, version) in yes {
            assert_eq!(satisfies(range, version), Some(true), "{range} ∋ {version}");
        }
        let no = [
            ("^1.2.3", "2.0.0"),
            ("^1.2.3", "1.2.2"),
            ("^0.2.3", "0.3.0"),
            ("^0.0.3", "0.0.4"),
            ("~1.2.3", "1.3.0"),
            ("1.x", "2.0.0"),
            (">=1.0.0 <2", "2.0.0-rc.1"),
            ("1.2 - 1.4", "1.5.0"),
            ("1.2.3 - 1.4.0", "1.4.1"),
            ("<1.0.0 || >=2.0.0", "1.5.0"),
            (">1.2", "1.2.9"),
            ("^1.2.3", "1.3.0-beta"),
        ];
        for (range, version) in no {
            assert_eq!(
                satisfies(range, version),
                Some(false),
                "{range} ∌ {version}"
            );
        }
        assert_eq!(satisfies("latest", "1.0.0"), None);
        assert_eq!(satisfies("file:../x", "1.0.0"), None);
    }
}
