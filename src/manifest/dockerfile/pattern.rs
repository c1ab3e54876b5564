//! Shell patterns as BuildKit matches them in `${VAR#pattern}`, `${VAR%pattern}` and
//! `${VAR/pattern/replacement}`: `*` (any run of characters), `?` (one character), and literal
//! characters. The same matcher tells whether a stage name fits a `FROM` whose name holds values
//! the file does not give (`binaries-$TARGETOS`), each such value being a `*`.

use std::ops::Range;

/// Longest text a pattern is matched against: matching tries every cut, and real values (image
/// names, platforms) are a few dozen bytes.
pub(crate) const MAX_SUBJECT: usize = 512;
/// Longest pattern, for the same reason.
pub(crate) const MAX_PATTERN: usize = 128;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Token {
    /// `*`: any run of characters, the empty one included.
    Any,
    /// `?`: exactly one character.
    One,
    Char(char),
}

/// A compiled pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pattern(Vec<Token>);

impl Pattern {
    /// `*` and `?` are wildcards; `[…]` classes are not supported (`None`).
    pub(crate) fn shell(text: &str) -> Option<Pattern> {
        if text.contains('[') {
            return None;
        }
        Some(Pattern(
            text.chars()
                .map(|c| match c {
                    '*' => Token::Any,
                    '?' => Token::One,
                    c => Token::Char(c),
                })
                .collect(),
        ))
    }

    pub(crate) fn from_tokens(tokens: Vec<Token>) -> Pattern {
        Pattern(tokens)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Does the pattern match all of `text`? Greedy with backtracking to the last `*`, which
    /// is linear in practice and quadratic at worst.
    pub(crate) fn matches(&self, text: &str) -> bool {
        let text: Vec<char> = text.chars().collect();
        let tokens = &self.0;
        let (mut t, mut p) = (0, 0);
        let mut star: Option<(usize, usize)> = None;
        while t < text.len() {
            match tokens.get(p) {
                Some(Token::Any) => {
                    star = Some((p, t));
                    p += 1;
                }
                Some(Token::One) => {
                    p += 1;
                    t += 1;
                }
                Some(Token::Char(c)) if *c == text[t] => {
                    p += 1;
                    t += 1;
                }
                _ => match star {
                    Some((star_p, star_t)) => {
                        p = star_p + 1;
                        t = star_t + 1;
                        star = Some((star_p, star_t + 1));
                    }
                    None => return false,
                },
            }
        }
        tokens[p.min(tokens.len())..]
            .iter()
            .all(|token| *token == Token::Any)
    }

    /// `${V#p}` (`longest`: `##`): the range of `text` left once the shortest (longest) prefix
    /// the pattern matches is removed; all of `text` when none matches.
    pub(crate) fn trim_prefix(&self, text: &str, longest: bool) -> Range<usize> {
        let mut cuts = boundaries(text);
        if longest {
            cuts.reverse();
        }
        cuts.into_iter()
            .find(|&cut| self.matches(&text[..cut]))
            .map_or(0..text.len(), |cut| cut..text.len())
    }

    /// `${V%p}` (`longest`: `%%`): the range left once the shortest (longest) suffix the
    /// pattern matches is removed.
    pub(crate) fn trim_suffix(&self, text: &str, longest: bool) -> Range<usize> {
        let mut cuts = boundaries(text);
        if !longest {
            cuts.reverse();
        }
        cuts.into_iter()
            .find(|&cut| self.matches(&text[cut..]))
            .map_or(0..text.len(), |cut| 0..cut)
    }

    /// The ranges `${V/p/r}` (`all`: `${V//p/r}`) replaces: leftmost matches, each as long as
    /// it can be, never empty.
    pub(crate) fn find(&self, text: &str, all: bool) -> Vec<Range<usize>> {
        let cuts = boundaries(text);
        let mut found = Vec::new();
        let mut from = 0;
        while let Some(start) = cuts.iter().position(|&c| c >= from) {
            let start = cuts[start];
            let end = cuts
                .iter()
                .rev()
                .copied()
                .take_while(|&end| end > start)
                .find(|&end| self.matches(&text[start..end]));
            match end {
                Some(end) => {
                    found.push(start..end);
                    if !all {
                        break;
                    }
                    from = end;
                }
                None if start == text.len() => break,
                None => from = start + 1,
            }
        }
        found
    }
}

/// Every char boundary of `text`, both ends included.
fn boundaries(text: &str) -> Vec<usize> {
    text.char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(text.len()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shell(text: &str) -> Pattern {
        Pattern::shell(text).unwrap()
    }

    #[test]
    fn wildcards_match_as_the_shell_does() {
        assert!(shell("linux/*").matches("linux/amd64"));
        assert!(shell("*").matches(""));
        assert!(shell("a?c").matches("abc"));
        assert!(!shell("a?c").matches("ac"));
        assert!(shell("*-*").matches("binaries-linux"));
        assert!(!shell("x*").matches("abc"));
        assert!(Pattern::shell("[ab]").is_none());
    }

    #[test]
    fn trims_shortest_and_longest() {
        let text = "linux/arm/v7";
        let cut = |range: Range<usize>| &text[range];
        assert_eq!(cut(shell("*/").trim_prefix(text, false)), "arm/v7");
        assert_eq!(cut(shell("*/").trim_prefix(text, true)), "v7");
        assert_eq!(cut(shell("/*").trim_suffix(text, false)), "linux/arm");
        assert_eq!(cut(shell("/*").trim_suffix(text, true)), "linux");
        assert_eq!(cut(shell("x").trim_prefix(text, false)), text);
        // BuildKit's own: `ARG BUILD_LOONG64=${TARGETPLATFORM#linux/amd64}`.
        assert_eq!(
            &"linux/amd64"[shell("linux/amd64").trim_prefix("linux/amd64", false)],
            ""
        );
    }

    #[test]
    fn finds_leftmost_longest_matches() {
        assert_eq!(shell("/").find("linux/arm/v7", false), vec![5..6]);
        assert_eq!(shell("/").find("linux/arm/v7", true), vec![5..6, 9..10]);
        assert_eq!(shell("a*m").find("linux/arm/v7", true), vec![6..9]);
        assert!(shell("z").find("abc", true).is_empty());
    }
}
