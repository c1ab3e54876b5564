//! RubyGems versions, ordered as `Gem::Version#<=>` orders them (rubygems/rubygems,
//! lib/rubygems/version.rb):
//!
//! - a version is `[0-9]+(\.[0-9a-zA-Z]+)*(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?`; every `-` reads as
//!   `.pre.`; an empty version is `0`;
//! - segments are the runs of digits (numbers) and of letters (strings): `1.8.2.a10` is
//!   `[1, 8, 2, "a", 10]`; any letter makes the version a pre-release;
//! - trailing zeros are dropped (`1.0.0` = `1`), and so are zeros before the first letter of a
//!   pre-release (`0.0.beta.1` = `beta.1`);
//! - segment by segment, a string sorts before a number (`1.a` < `1.0` < `1.1`); past the end of
//!   the shorter version, a string left on the longer one makes it smaller, a non-zero number
//!   makes it larger.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::LazyLock;

use regex::Regex;

static PATTERN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[0-9]+(?:\.[0-9a-zA-Z]+)*(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$")
        .expect("a valid pattern")
});

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Segment {
    /// Digits without leading zeros (`"0"` for zero): compared by length, then text, so any
    /// size of number orders right.
    Number(String),
    Text(String),
}

#[derive(Debug, Clone)]
pub struct GemVersion {
    text: String,
    canonical: Vec<Segment>,
}

impl GemVersion {
    pub fn parse(text: &str) -> Result<GemVersion, String> {
        let trimmed = text.trim();
        let version = if trimmed.is_empty() { "0" } else { trimmed };
        if !PATTERN.is_match(version) {
            return Err(
                "a RubyGems version is numbers and letters separated by dots, like 1.2.3 or 2.0.0.rc1"
                    .to_string(),
            );
        }
        let version = version.replace('-', ".pre.");
        Ok(GemVersion {
            text: trimmed.to_string(),
            canonical: segments(&canonical_text(&version)),
        })
    }

    pub fn is_prerelease(&self) -> bool {
        self.text.chars().any(|c| c.is_ascii_alphabetic())
    }

    /// The numbers before the first letter.
    pub fn release(&self) -> Vec<u64> {
        segments(&self.text.replace('-', ".pre."))
            .into_iter()
            .map_while(|s| match s {
                Segment::Number(n) => Some(n.parse().unwrap_or(u64::MAX)),
                Segment::Text(_) => None,
            })
            .collect()
    }
}

/// `canonical_segments`' two substitutions, on the text.
fn canonical_text(version: &str) -> String {
    let bytes = version.as_bytes();
    // `sub(/(?<=[a-zA-Z.])[.0]+\z/, "")`: the trailing run of dots and zeros, from the first
    // place in it that follows a letter or a dot.
    let run_start = bytes.len()
        - bytes
            .iter()
            .rev()
            .take_while(|&&b| b == b'.' || b == b'0')
            .count();
    let cut = (run_start.max(1)..bytes.len())
        .find(|&p| bytes[p - 1].is_ascii_alphabetic() || bytes[p - 1] == b'.')
        .unwrap_or(bytes.len());
    let mut text = version[..cut].to_string();
    // For a pre-release, `sub!(/(?<=\.|\A)[0.]+(?=[a-zA-Z])/, "")`: the first run of zeros and
    // dots that starts a segment and runs into a letter.
    if text.bytes().any(|b| b.is_ascii_alphabetic()) {
        let bytes = text.as_bytes();
        let found = (0..bytes.len()).find_map(|p| {
            if p > 0 && bytes[p - 1] != b'.' {
                return None;
            }
            let end = p + bytes[p..]
                .iter()
                .take_while(|&&b| b == b'0' || b == b'.')
                .count();
            (end > p && bytes.get(end).is_some_and(u8::is_ascii_alphabetic)).then_some((p, end))
        });
        if let Some((start, end)) = found {
            text.replace_range(start..end, "");
        }
    }
    text
}

/// `scan(/\d+|[a-z]+/i)`.
fn segments(text: &str) -> Vec<Segment> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let digit = bytes[i].is_ascii_digit();
        if !digit && !bytes[i].is_ascii_alphabetic() {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len()
            && (if digit {
                bytes[i].is_ascii_digit()
            } else {
                bytes[i].is_ascii_alphabetic()
            })
        {
            i += 1;
        }
        let run = &text[start..i];
        out.push(if digit {
            let trimmed = run.trim_start_matches('0');
            Segment::Number(if trimmed.is_empty() { "0" } else { trimmed }.to_string())
        } else {
            Segment::Text(run.to_string())
        });
    }
    out
}

fn cmp_numbers(a: &str, b: &str) -> Ordering {
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

fn is_zero(segment: &Segment) -> bool {
    matches!(segment, Segment::Number(n) if n == "0")
}

impl Ord for GemVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        let (left, right) = (&self.canonical, &other.canonical);
        for (l, r) in left.iter().zip(right) {
            let order = match (l, r) {
                (Segment::Number(a), Segment::Number(b)) => cmp_numbers(a, b),
                (Segment::Text(a), Segment::Text(b)) => a.cmp(b),
                (Segment::Text(_), Segment::Number(_)) => Ordering::Less,
                (Segment::Number(_), Segment::Text(_)) => Ordering::Greater,
            };
            if order != Ordering::Equal {
                return order;
            }
        }
        let common = left.len().min(right.len());
        let tail = |rest: &[Segment]| -> Ordering {
            for segment in rest {
                match segment {
                    Segment::Text(_) => return Ordering::Less,
                    s if !is_zero(s) => return Ordering::Greater,
                    _ => {}
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

impl PartialOrd for GemVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for GemVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for GemVersion {}

impl Hash for GemVersion {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // Versions that compare equal differ at most by trailing zero numbers.
        let end = self.canonical.len()
            - self
                .canonical
                .iter()
                .rev()
                .take_while(|s| is_zero(s))
                .count();
        self.canonical[..end].hash(state);
    }
}

impl fmt::Display for GemVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}
