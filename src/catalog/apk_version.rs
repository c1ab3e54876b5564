//! Alpine package versions ordered as apk-tools orders them (Gentoo-style:
//! `digits{.digits}[letter]{_suffix[digits]}[-r#]`): numbers numerically, a component after a
//! dot with leading zeros below every plain number, `_alpha` < `_beta` < `_pre` < `_rc` below the
//! bare release, `_cvs` < `_svn` < `_git` < `_hg` < `_p` above it, and `-r` revisions last.
//! Written from apk-tools' documented behaviour and pinned by its own test vectors
//! (`test/version.data`, restated in fixtures/versions/apk-version.data).

use std::cmp::Ordering;
use std::fmt;

/// A parsed Alpine version; apk compares the text itself, so the text is all it keeps.
#[derive(Debug, Clone)]
pub struct ApkVersion {
    text: String,
}

impl ApkVersion {
    /// Accepts any non-empty text that starts with a digit: apk compares versions it calls
    /// invalid too (`1.0bc`), so rejecting them here would lose matches.
    pub fn parse(text: &str) -> Result<ApkVersion, String> {
        let text = text.trim();
        if !text.starts_with(|c: char| c.is_ascii_digit()) {
            return Err("an apk version starts with a digit".to_string());
        }
        Ok(ApkVersion {
            text: text.to_string(),
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The leading dotted numbers (`3.1.4_p1-r2` → `[3, 1, 4]`).
    pub fn release(&self) -> Vec<u64> {
        self.text
            .split(|c: char| !c.is_ascii_digit() && c != '.')
            .next()
            .unwrap_or("")
            .split('.')
            .take_while(|p| !p.is_empty())
            .map(|p| p.parse().unwrap_or(u64::MAX))
            .collect()
    }

    /// `_alpha`, `_beta`, `_pre` and `_rc` versions come before their release.
    pub fn is_prerelease(&self) -> bool {
        ["_alpha", "_beta", "_pre", "_rc"]
            .iter()
            .any(|s| self.text.contains(s))
    }
}

/// What the next token of a version is. The order matters: when two versions agree up to
/// where one has more, the one whose next token ranks lower is the greater version (a
/// revision or a number beats the end), except for pre-release suffixes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Invalid,
    /// A number after a dot: leading zeros make it sort below every plain number.
    DigitOrZero,
    Digit,
    Letter,
    Suffix,
    SuffixNumber,
    RevisionNumber,
    End,
}

const PRE_SUFFIXES: [&str; 4] = ["alpha", "beta", "pre", "rc"];
const POST_SUFFIXES: [&str; 5] = ["cvs", "svn", "git", "hg", "p"];

#[derive(Clone)]
struct Tokens<'a> {
    rest: &'a [u8],
    kind: Kind,
}

impl<'a> Tokens<'a> {
    fn new(text: &'a str) -> Tokens<'a> {
        Tokens {
            rest: text.as_bytes(),
            kind: Kind::Digit,
        }
    }

    /// The value of the current token; moves on to the next one.
    fn value(&mut self) -> i128 {
        if self.rest.is_empty() {
            self.kind = Kind::End;
            return 0;
        }
        let mut fixed_next = None;
        let (value, used) = match self.kind {
            Kind::DigitOrZero if self.rest[0] == b'0' => {
                let zeros = self.rest.iter().take_while(|&&c| c == b'0').count();
                fixed_next = Some(Kind::Digit);
                (-(zeros as i128), zeros)
            }
            Kind::DigitOrZero | Kind::Digit | Kind::SuffixNumber | Kind::RevisionNumber => {
                let digits = self.rest.iter().take_while(|c| c.is_ascii_digit()).count();
                let value = self.rest[..digits].iter().fold(0i128, |n, &c| {
                    n.saturating_mul(10).saturating_add(i128::from(c - b'0'))
                });
                (value, digits)
            }
            Kind::Letter => (i128::from(self.rest[0]), 1),
            Kind::Suffix => {
                let starts = |s: &str| self.rest.starts_with(s.as_bytes());
                if let Some(i) = PRE_SUFFIXES.iter().position(|s| starts(s)) {
                    (
                        i as i128 - PRE_SUFFIXES.len() as i128,
                        PRE_SUFFIXES[i].len(),
                    )
                } else if let Some(i) = POST_SUFFIXES.iter().position(|s| starts(s)) {
                    (i as i128, POST_SUFFIXES[i].len())
                } else {
                    self.kind = Kind::Invalid;
                    return -1;
                }
            }
            Kind::Invalid | Kind::End => {
                self.kind = Kind::Invalid;
                return -1;
            }
        };
        self.rest = &self.rest[used..];
        if self.rest.is_empty() {
            self.kind = Kind::End;
        } else if let Some(kind) = fixed_next {
            self.kind = kind;
        } else {
            self.advance_kind();
        }
        value
    }

    /// Decides the kind of the token at `rest`, consuming its separator.
    fn advance_kind(&mut self) {
        let c = self.rest[0];
        let current = self.kind;
        let mut next =
            if matches!(current, Kind::Digit | Kind::DigitOrZero) && c.is_ascii_lowercase() {
                Kind::Letter
            } else if current == Kind::Letter && c.is_ascii_digit() {
                Kind::Digit
            } else if current == Kind::Suffix && c.is_ascii_digit() {
                Kind::SuffixNumber
            } else {
                let (kind, used) = match c {
                    b'.' => (Kind::DigitOrZero, 1),
                    b'_' => (Kind::Suffix, 1),
                    b'-' if self.rest.get(1) == Some(&b'r') => (Kind::RevisionNumber, 2),
                    _ => (Kind::Invalid, 1),
                };
                self.rest = &self.rest[used.min(self.rest.len())..];
                kind
            };
        // Tokens only go forward (numbers, letter, suffixes, revision), with the few steps
        // back that the grammar allows.
        let allowed_back = matches!(
            (next, current),
            (Kind::DigitOrZero, Kind::Digit)
                | (Kind::Suffix, Kind::SuffixNumber)
                | (Kind::Digit, Kind::Letter)
        );
        if next < current && !allowed_back {
            next = Kind::Invalid;
        }
        self.kind = next;
    }
}

fn compare(a: &str, b: &str) -> Ordering {
    let (mut ta, mut tb) = (Tokens::new(a), Tokens::new(b));
    let (mut va, mut vb) = (0, 0);
    while ta.kind == tb.kind && !matches!(ta.kind, Kind::End | Kind::Invalid) && va == vb {
        va = ta.value();
        vb = tb.value();
    }
    if va != vb {
        return va.cmp(&vb);
    }
    if ta.kind == tb.kind {
        return Ordering::Equal;
    }
    // One goes on where the other stopped: more is greater, unless it is a pre-release suffix.
    if ta.kind == Kind::Suffix && ta.clone().value() < 0 {
        return Ordering::Less;
    }
    if tb.kind == Kind::Suffix && tb.clone().value() < 0 {
        return Ordering::Greater;
    }
    tb.kind.cmp(&ta.kind)
}

impl Ord for ApkVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        compare(&self.text, &other.text)
    }
}

impl PartialOrd for ApkVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for ApkVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for ApkVersion {}

impl fmt::Display for ApkVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> ApkVersion {
        ApkVersion::parse(s).unwrap()
    }

    #[test]
    fn suffixes_and_revisions() {
        assert!(v("1.2.3_rc1") < v("1.2.3"));
        assert!(v("1.2.3") < v("1.2.3_p1"));
        assert!(v("1.2.3-r0") < v("1.2.3-r1"));
        assert!(v("3.0.13-r0") < v("3.0.15-r0"));
        assert!(v("1.36.1-r29") > v("1.36.1-r2"));
        assert_eq!(v("1.2.3-r1"), v("1.2.3-r1"));
    }

    #[test]
    fn rejects_text_without_a_leading_digit() {
        assert!(ApkVersion::parse("").is_err());
        assert!(ApkVersion::parse("abc").is_err());
    }
}
