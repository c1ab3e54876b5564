//! go.mod's tokens, one line at a time, as `golang.org/x/mod/modfile` reads them: words split by
//! white space and the punctuation `( ) [ ] { } ,`, double-quoted and back-quoted strings, and
//! `//` comments to the end of the line.

use super::problem::Problem;
use crate::model::Span;

#[derive(Debug, Clone)]
pub(super) struct Token {
    /// The value, unquoted.
    pub(super) text: String,
    /// The bytes of the value in the file; `None` when they differ from it (escapes).
    pub(super) span: Option<Span>,
    /// The whole token as written, quotes included.
    pub(super) raw: Span,
}

/// The tokens of `line` (which starts at byte `base` of the file) and its comment, without `//`.
pub(super) fn lex_line(line: &str, base: usize) -> Result<(Vec<Token>, Option<&str>), Problem> {
    let mut tokens = Vec::new();
    let mut chars = line.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        if line[start..].starts_with("//") {
            return Ok((tokens, Some(&line[start + 2..])));
        }
        if "()[]{},".contains(c) {
            chars.next();
            tokens.push(word(line, base, start, start + 1));
            continue;
        }
        if c == '"' || c == '`' {
            chars.next();
            let mut text = String::new();
            let mut escaped = false;
            let mut end = None;
            while let Some((i, d)) = chars.next() {
                if d == c {
                    end = Some(i);
                    break;
                }
                if d == '\\' && c == '"' {
                    escaped = true;
                    match chars.next() {
                        Some((_, e)) => text.push(e),
                        None => break,
                    }
                    continue;
                }
                text.push(d);
            }
            let Some(end) = end else {
                return Err(Problem::UnclosedString {
                    start: line[start..].chars().take(30).collect(),
                    quote: c,
                });
            };
            let inner = Span::new(base + start + 1, base + end);
            tokens.push(Token {
                text,
                span: (!escaped).then_some(inner),
                raw: Span::new(base + start, base + end + 1),
            });
            continue;
        }
        let mut end = line.len();
        while let Some(&(i, d)) = chars.peek() {
            if d.is_whitespace() || "()[]{},\"`".contains(d) || line[i..].starts_with("//") {
                end = i;
                break;
            }
            chars.next();
        }
        tokens.push(word(line, base, start, end));
    }
    Ok((tokens, None))
}

fn word(line: &str, base: usize, start: usize, end: usize) -> Token {
    let span = Span::new(base + start, base + end);
    Token {
        text: line[start..end].to_string(),
        span: Some(span),
        raw: span,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_words_strings_punctuation_and_comments() {
        let (tokens, comment) =
            lex_line(r#"	"example.com/a" v1.0.0 // indirect"#, 10).expect("lexes");
        let texts: Vec<&str> = tokens.iter().map(|t| t.text.as_str()).collect();
        assert_eq!(texts, ["example.com/a", "v1.0.0"]);
        assert_eq!(tokens[0].span, Some(Span::new(12, 25)));
        assert_eq!(tokens[0].raw, Span::new(11, 26));
        assert_eq!(comment, Some(" indirect"));
        let (tokens, _) = lex_line("retract [v1.0.0,v1.1.0]", 0).expect("lexes");
        assert_eq!(tokens.len(), 6);
        assert!(lex_line(r#"module "unterminated"#, 0).is_err());
    }
}
