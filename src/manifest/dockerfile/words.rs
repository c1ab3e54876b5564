//! Splitting instruction arguments into words, the ways Docker does for each instruction.

use std::ops::Range;

/// Words separated by whitespace, quotes not special (how Docker splits `FROM` and `USER`).
pub(crate) fn whitespace_words(text: &str) -> Vec<Range<usize>> {
    let mut words = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        match (c.is_whitespace(), start) {
            (true, Some(s)) => {
                words.push(s..i);
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        words.push(s..text.len());
    }
    words
}

/// Words separated by whitespace outside quotes; quotes and escapes stay in the word (how Docker
/// splits `ARG`, flags, and the words it searches for heredocs).
pub(crate) fn quoted_words(text: &str, escape: char) -> Vec<Range<usize>> {
    let mut words = Vec::new();
    let mut start = None;
    let mut quote: Option<char> = None;
    let mut chars = text.char_indices();
    while let Some((i, c)) = chars.next() {
        if let Some(q) = quote {
            if c == escape && q == '"' {
                chars.next();
            } else if c == q {
                quote = None;
            }
            continue;
        }
        if c.is_whitespace() {
            if let Some(s) = start.take() {
                words.push(s..i);
            }
            continue;
        }
        if start.is_none() {
            start = Some(i);
        }
        if c == escape {
            chars.next();
        } else if c == '\'' || c == '"' {
            quote = Some(c);
        }
    }
    if let Some(s) = start {
        words.push(s..text.len());
    }
    words
}

/// A `--name[=value]` word before an instruction's arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Flag {
    pub name: String,
    /// The value's range in the instruction text, when written with `=`.
    pub value: Option<Range<usize>>,
}

/// The leading flags among `words` of `text`, and the index of the first word after them.
pub(crate) fn leading_flags(text: &str, words: &[Range<usize>]) -> (Vec<Flag>, usize) {
    let mut flags = Vec::new();
    for (index, word) in words.iter().enumerate() {
        let raw = text.get(word.clone()).unwrap_or_default();
        let Some(body) = raw.strip_prefix("--").filter(|b| !b.is_empty()) else {
            return (flags, index);
        };
        let flag = match body.find('=') {
            Some(eq) => Flag {
                name: body[..eq].to_ascii_lowercase(),
                value: Some(word.start + 2 + eq + 1..word.end),
            },
            None => Flag {
                name: body.to_ascii_lowercase(),
                value: None,
            },
        };
        flags.push(flag);
    }
    (flags, words.len())
}

/// The word with shell quoting removed (`"EOF"` → `EOF`, `a\ b` → `a b`).
pub(crate) fn unquote(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut quote: Option<char> = None;
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some('\''), '\'') | (Some('"'), '"') => quote = None,
            (Some('\''), _) => out.push(c),
            (_, '\\') => {
                if let Some(next) = chars.next() {
                    out.push(next);
                }
            }
            (None, '\'' | '"') => quote = Some(c),
            _ => out.push(c),
        }
    }
    out
}

/// The exec form (`["a", "b"]`) of an instruction, when its arguments are one.
pub(crate) fn exec_form(text: &str) -> Option<Vec<String>> {
    let trimmed = text.trim();
    if !trimmed.starts_with('[') {
        return None;
    }
    serde_json::from_str(trimmed).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts<'a>(text: &'a str, ranges: &[Range<usize>]) -> Vec<&'a str> {
        ranges.iter().map(|r| &text[r.clone()]).collect()
    }

    #[test]
    fn quoted_words_keep_quoted_spaces_together() {
        let text = r#"A="x y" B='1 2' C=a\ b D"#;
        let words = quoted_words(text, '\\');
        assert_eq!(
            texts(text, &words),
            vec![r#"A="x y""#, "B='1 2'", r"C=a\ b", "D"]
        );
    }

    #[test]
    fn flags_stop_at_the_first_plain_word() {
        let text = "--platform=$BUILDPLATFORM --link node:20 AS build";
        let words = whitespace_words(text);
        let (flags, rest) = leading_flags(text, &words);
        assert_eq!(flags.len(), 2);
        assert_eq!(flags[0].name, "platform");
        assert_eq!(&text[flags[0].value.clone().unwrap()], "$BUILDPLATFORM");
        assert_eq!(flags[1].value, None);
        assert_eq!(&text[words[rest].clone()], "node:20");
    }

    #[test]
    fn unquote_removes_shell_quoting() {
        assert_eq!(unquote(r#""EOF""#), "EOF");
        assert_eq!(unquote("'E\\OF'"), "E\\OF");
        assert_eq!(unquote(r"E\OF"), "EOF");
    }

    #[test]
    fn exec_form_only_for_json_arrays_of_strings() {
        assert_eq!(
            exec_form(r#" ["a b", "./"] "#),
            Some(vec!["a b".to_string(), "./".to_string()])
        );
        assert_eq!(exec_form("[ -f x ] && echo"), None);
        assert_eq!(exec_form("echo"), None);
    }
}
