//! Packagist (Composer) versions, ordered as Composer orders them: normalized by
//! `VersionParser::normalize` (composer/semver, src/VersionParser.php), then compared with PHP's
//! `version_compare` (what `Constraint::versionCompare` calls):
//!
//! - normalizing: a leading `v` and `+build` metadata go, the release is padded to four numbers
//!   (`1.2` → `1.2.0.0`), stability suffixes are spelled out (`b2` → `-beta2`, `pl3`/`p3` →
//!   `-patch3`, `rc1` → `-RC1`), `-dev` is kept; date versions (`2010-01-02`) become dotted numbers;
//! - `version_compare`: `-`, `_`, `+` and any other non-alphanumeric become `.`, a `.` goes between
//!   digits and letters, and part by part numbers compare as numbers while words rank
//!   `dev` < `alpha`/`a` < `beta`/`b` < `RC`/`rc` < a number < `pl`/`p` (any other word ranks below
//!   `dev`). Past the end of the shorter version, a number left makes a version larger, a word
//!   is ranked against a number.
//!
//! Branches (`dev-main`, `1.x-dev`) are not releases and do not parse.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::LazyLock;

use regex::Regex;

const MODIFIER: &str =
    r"[._-]?(?:(stable|beta|b|RC|alpha|a|patch|pl|p)((?:[.-]?\d+)*)?)?([.-]?dev)?";

static CLASSICAL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?i)^v?(\d{{1,5}})(\.\d+)?(\.\d+)?(\.\d+)?{MODIFIER}$"
    ))
    .expect("a valid pattern")
});
static DATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?i)^v?(\d{{4}}(?:[.:-]?\d{{2}}){{1,6}}(?:[.:-]?\d{{1,3}}){{0,2}}){MODIFIER}$"
    ))
    .expect("a valid pattern")
});

#[derive(Debug, Clone)]
pub struct ComposerVersion {
    text: String,
    normalized: String,
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Part {
    /// Digits without leading zeros.
    Number(String),
    Word(String),
}

impl ComposerVersion {
    pub fn parse(text: &str) -> Result<ComposerVersion, String> {
        let normalized = normalize(text)?;
        Ok(ComposerVersion {
            text: text.trim().to_string(),
            parts: canonical_parts(&normalized),
            normalized,
        })
    }

    /// As `VersionParser::normalize` writes it: `1.2.0.0-beta2`.
    pub fn normalized(&self) -> &str {
        &self.normalized
    }

    /// Alpha, beta, RC or dev (patch releases are stable).
    pub fn is_prerelease(&self) -> bool {
        self.parts
            .iter()
            .any(|p| matches!(p, Part::Word(w) if rank(w) < NUMBER_RANK))
    }

    pub fn release(&self) -> Vec<u64> {
        self.parts
            .iter()
            .map_while(|p| match p {
                Part::Number(n) => Some(n.parse().unwrap_or(u64::MAX)),
                Part::Word(_) => None,
            })
            .collect()
    }
}

fn normalize(text: &str) -> Result<String, String> {
    let mut version = text.trim();
    if let Some((source, _alias)) = version.split_once(" as ") {
        version = source.trim();
    }
    for flag in ["@stable", "@RC", "@beta", "@alpha", "@dev"] {
        if version.len() > flag.len()
            && version.is_char_boundary(version.len() - flag.len())
            && version[version.len() - flag.len()..].eq_ignore_ascii_case(flag)
        {
            version = &version[..version.len() - flag.len()];
        }
    }
    let lower = version.to_ascii_lowercase();
    if lower.starts_with("dev-") || matches!(version, "master" | "trunk" | "default") {
        return Err(
            "a branch (`dev-…`) is not a release: it has no place in the order".to_string(),
        );
    }
    if let Some((release, build)) = version.split_once('+')
        && !release.is_empty()
        && !build.is_empty()
        && !release.contains([',', ' '])
        && !build.contains(char::is_whitespace)
    {
        version = release;
    }
    let (mut out, captures, index) = if let Some(c) = CLASSICAL.captures(version) {
        let mut out = c[1].to_string();
        for i in 2..=4 {
            out.push_str(c.get(i).map_or(".0", |m| m.as_str()));
        }
        (out, c, 5)
    } else if let Some(c) = DATE.captures(version) {
        let out = c[1].replace(|ch: char| !ch.is_ascii_digit(), ".");
        (out, c, 2)
    } else {
        return Err(if lower.ends_with("dev") {
            "a branch (`….x-dev`) is not a release: it has no place in the order".to_string()
        } else {
            "a Composer version is like 1.2.3, v1.2.3, 1.2.3-beta2 or 1.2.3-RC1".to_string()
        });
    };
    if let Some(stability) = captures.get(index) {
        let stability = stability.as_str().to_ascii_lowercase();
        if stability == "stable" {
            return Ok(out);
        }
        let expanded = match stability.as_str() {
            "a" | "alpha" => "alpha",
            "b" | "beta" => "beta",
            "p" | "pl" | "patch" => "patch",
            _ => "RC",
        };
        out.push('-');
        out.push_str(expanded);
        if let Some(number) = captures.get(index + 1) {
            out.push_str(number.as_str().trim_start_matches(['.', '-']));
        }
    }
    if captures
        .get(index + 2)
        .is_some_and(|m| !m.as_str().is_empty())
    {
        out.push_str("-dev");
    }
    Ok(out)
}

/// PHP's `php_canonicalize_version`, then split on dots (empty parts dropped, as `strtok` does).
fn canonical_parts(version: &str) -> Vec<Part> {
    let mut canonical = String::with_capacity(version.len() * 2);
    let mut previous: Option<char> = None;
    let not_digit = |c: char| !c.is_ascii_digit() && c != '.';
    for c in version.chars() {
        match previous {
            None => canonical.push(c),
            Some(lp) => {
                if matches!(c, '-' | '_' | '+') || !c.is_ascii_alphanumeric() {
                    if !canonical.ends_with('.') {
                        canonical.push('.');
                    }
                } else if (not_digit(lp) && c.is_ascii_digit())
                    || (lp.is_ascii_digit() && not_digit(c))
                {
                    if !canonical.ends_with('.') {
                        canonical.push('.');
                    }
                    canonical.push(c);
                } else {
                    canonical.push(c);
                }
            }
        }
        previous = Some(c);
    }
    canonical
        .split('.')
        .filter(|p| !p.is_empty())
        .map(|p| {
            if p.starts_with(|c: char| c.is_ascii_digit()) {
                let digits: String = p.chars().take_while(char::is_ascii_digit).collect();
                let trimmed = digits.trim_start_matches('0');
                Part::Number(if trimmed.is_empty() { "0" } else { trimmed }.to_string())
            } else {
                Part::Word(p.to_string())
            }
        })
        .collect()
}

const NUMBER_RANK: i8 = 4;

/// `compare_special_version_forms`: the first form the word starts with.
fn rank(word: &str) -> i8 {
    const FORMS: [(&str, i8); 10] = [
        ("dev", 0),
        ("alpha", 1),
        ("a", 1),
        ("beta", 2),
        ("b", 2),
        ("RC", 3),
        ("rc", 3),
        ("#", NUMBER_RANK),
        ("pl", 5),
        ("p", 5),
    ];
    FORMS
        .iter()
        .find(|(form, _)| word.starts_with(form))
        .map_or(-1, |&(_, order)| order)
}

fn part_rank(part: &Part) -> i8 {
    match part {
        Part::Number(_) => NUMBER_RANK,
        Part::Word(w) => rank(w),
    }
}

impl Ord for ComposerVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        let (left, right) = (&self.parts, &other.parts);
        for (l, r) in left.iter().zip(right) {
            let order = match (l, r) {
                (Part::Number(a), Part::Number(b)) => a.len().cmp(&b.len()).then_with(|| a.cmp(b)),
                _ => part_rank(l).cmp(&part_rank(r)),
            };
            if order != Ordering::Equal {
                return order;
            }
        }
        let common = left.len().min(right.len());
        // What is left of the longer version against "#" (a number): a number is larger, a word
        // ranks against it; a tie goes on to the next part, as PHP recurses.
        let tail = |rest: &[Part]| -> Ordering {
            for part in rest {
                let order = match part {
                    Part::Number(_) => Ordering::Greater,
                    Part::Word(w) => rank(w).cmp(&NUMBER_RANK),
                };
                if order != Ordering::Equal {
                    return order;
                }
            }
            Ordering::Equal
        };
        if left.len() > common {
            tail(&left[common..])
        } else {
            tail(&right[common..]).reverse()
        }
    }
}

impl PartialOrd for ComposerVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for ComposerVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for ComposerVersion {}

impl Hash for ComposerVersion {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // Equal versions can differ in words of the same rank (`b` and `beta`) or a `#`-ranked
        // word: hash the ranks and numbers only.
        for part in &self.parts {
            match part {
                Part::Number(n) => n.hash(state),
                Part::Word(w) => rank(w).hash(state),
            }
        }
    }
}

impl fmt::Display for ComposerVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}
