//! Alpine package versions ordered as apk-tools orders them (Gentoo-style:
//! `digits{.digits}[letter]{_suffix[digits]}[-r#]`): numbers numerically, a component after a
//! dot with leading zeros below every plain number, `_alpha` < `_beta` < `_pre` < `_rc` below the
//! bare release, `_cvs` < `_svn` < `_git` < `_hg` < `_p` above it, then a `~commit` hash, and
//! `-r` revisions last.
//! Written from apk-tools' documented behaviour and pinned by its own test vectors
//! (`test/unit/version.data`, copied to fixtures/versions/apk-version.data).

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

/// The kind of a token. The order matters: tokens only go forward through it, and when two
/// versions agree up to where one has more, the one whose next token ranks lower is the
/// greater version (a revision beats the end), except for pre-release suffixes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    InitialDigit,
    Digit,
    Letter,
    Suffix,
    SuffixNumber,
    /// `~` and a commit hash (apk-tools 3).
    CommitHash,
    RevisionNumber,
    End,
    Invalid,
}

/// Suffix ranks: pre-releases below the bare release (`NO_SUFFIX`), post-releases above.
const SUFFIXES: [(&str, u8); 9] = [
    ("alpha", 0),
    ("beta", 1),
    ("pre", 2),
    ("rc", 3),
    ("cvs", 5),
    ("svn", 6),
    ("git", 7),
    ("hg", 8),
    ("p", 9),
];
const NO_SUFFIX: u8 = 4;

/// One token: its kind, its text, and its number or suffix rank.
struct Token<'a> {
    kind: Kind,
    text: &'a str,
    number: u128,
    suffix: u8,
}

/// Reads the tokens of a version one by one.
struct Tokens<'a> {
    rest: &'a str,
}

impl<'a> Tokens<'a> {
    fn take_while(&mut self, keep: impl Fn(char) -> bool) -> &'a str {
        let end = self
            .rest
            .find(|c: char| !keep(c))
            .unwrap_or(self.rest.len());
        let (taken, rest) = self.rest.split_at(end);
        self.rest = rest;
        taken
    }

    fn digits(&mut self, kind: Kind) -> Token<'a> {
        let text = self.take_while(|c| c.is_ascii_digit());
        let number = text.bytes().fold(0u128, |n, c| {
            n.saturating_mul(10).saturating_add(u128::from(c - b'0'))
        });
        Token {
            kind: if text.is_empty() { Kind::Invalid } else { kind },
            text,
            number,
            suffix: 0,
        }
    }

    fn first(&mut self) -> Token<'a> {
        self.digits(Kind::InitialDigit)
    }

    /// The token after `previous`; `Invalid` where the grammar does not allow one.
    fn next(&mut self, previous: Kind) -> Token<'a> {
        let invalid = Token {
            kind: Kind::Invalid,
            text: "",
            number: 0,
            suffix: 0,
        };
        let Some(c) = self.rest.chars().next() else {
            return Token {
                kind: Kind::End,
                ..invalid
            };
        };
        match c {
            'a'..='z' if previous <= Kind::Digit => {
                let text = &self.rest[..1];
                self.rest = &self.rest[1..];
                Token {
                    kind: Kind::Letter,
                    text,
                    number: 0,
                    suffix: 0,
                }
            }
            '.' if previous <= Kind::Digit => {
                self.rest = &self.rest[1..];
                self.digits(Kind::Digit)
            }
            '0'..='9' => match previous {
                Kind::InitialDigit | Kind::Digit => self.digits(Kind::Digit),
                Kind::Suffix => self.digits(Kind::SuffixNumber),
                _ => invalid,
            },
            '_' if previous <= Kind::SuffixNumber => {
                self.rest = &self.rest[1..];
                let text = self.take_while(|c| c.is_ascii_lowercase());
                match SUFFIXES.iter().find(|(name, _)| *name == text) {
                    Some((_, rank)) => Token {
                        kind: Kind::Suffix,
                        text,
                        number: 0,
                        suffix: *rank,
                    },
                    None => invalid,
                }
            }
            '~' if previous < Kind::CommitHash => {
                self.rest = &self.rest[1..];
                let text = self.take_while(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase());
                Token {
                    kind: Kind::CommitHash,
                    text,
                    number: 0,
                    suffix: 0,
                }
            }
            '-' if previous < Kind::RevisionNumber && self.rest.starts_with("-r") => {
                self.rest = &self.rest[2..];
                self.digits(Kind::RevisionNumber)
            }
            _ => invalid,
        }
    }
}

/// Two tokens of the same kind.
fn compare_tokens(a: &Token<'_>, b: &Token<'_>) -> Ordering {
    match a.kind {
        // A component after a dot with a leading zero compares as text (Gentoo's rule):
        // `1.02` < `1.1`, `1.0.1` < `1.06`.
        Kind::Digit if a.text.starts_with('0') || b.text.starts_with('0') => a.text.cmp(b.text),
        Kind::InitialDigit | Kind::Digit | Kind::SuffixNumber | Kind::RevisionNumber => {
            a.number.cmp(&b.number)
        }
        Kind::Letter => a.text.cmp(b.text),
        Kind::Suffix => a.suffix.cmp(&b.suffix),
        Kind::CommitHash | Kind::End | Kind::Invalid => a.text.cmp(b.text),
    }
}

fn compare(a: &str, b: &str) -> Ordering {
    let (mut ra, mut rb) = (Tokens { rest: a }, Tokens { rest: b });
    let (mut ta, mut tb) = (ra.first(), rb.first());
    while ta.kind == tb.kind && ta.kind < Kind::End {
        match compare_tokens(&ta, &tb) {
            Ordering::Equal => {}
            other => return other,
        }
        ta = ra.next(ta.kind);
        tb = rb.next(tb.kind);
    }
    if ta.kind == tb.kind {
        return Ordering::Equal;
    }
    // One goes on where the other stopped: more is greater, unless it is a pre-release suffix.
    if ta.kind == Kind::Suffix && ta.suffix < NO_SUFFIX {
        return Ordering::Less;
    }
    if tb.kind == Kind::Suffix && tb.suffix < NO_SUFFIX {
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
