//! Dockerfile text → instructions, read the way BuildKit reads it: parser directives at the top,
//! comment and blank lines, line continuations (with comment lines inside them skipped), and
//! heredoc bodies, which are consumed here so their text can never be taken for an instruction.

use crate::model::Span;

use super::error::{Located, Problem};
use super::logical::{LineIndex, Logical};
use super::words::{quoted_words, unquote};

/// One instruction: its keyword as written and its arguments as Docker sees them.
#[derive(Debug, Clone)]
pub(crate) struct Instruction {
    pub keyword: String,
    pub line: u32,
    /// Arguments after the keyword, continuations joined, outer whitespace trimmed.
    pub args: Logical,
    /// From the keyword's first byte to the arguments' last byte.
    pub span: Span,
    pub heredocs: Vec<Heredoc>,
}

impl Instruction {
    /// The keyword in upper case (`from`, `From` → `FROM`).
    pub(crate) fn name(&self) -> String {
        self.keyword.to_ascii_uppercase()
    }
}

/// A heredoc body (`<<EOF` … `EOF`) attached to a RUN, COPY or ADD.
#[derive(Debug, Clone)]
pub(crate) struct Heredoc {
    /// The body exactly as in the file (newlines included, terminator line excluded).
    pub body: Logical,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Lexed {
    pub instructions: Vec<Instruction>,
    pub problems: Vec<Located>,
    /// The escape character (`\`, or `` ` `` after `# escape=``).
    pub escape: char,
}

#[derive(Debug, Clone, Copy)]
struct PhysicalLine {
    start: usize,
    /// End of the content, before `\n` and any `\r`.
    end: usize,
    /// Start of the next line.
    next: usize,
}

/// Splits `source` from byte `from` into lines; `\r\n` endings leave no `\r` in the content.
fn physical_lines(source: &str, from: usize) -> Vec<PhysicalLine> {
    let mut lines = Vec::new();
    let mut start = from;
    while let Some(rest) = source.get(start..).filter(|r| !r.is_empty()) {
        let (raw_end, next) = match rest.find('\n') {
            Some(i) => (start + i, start + i + 1),
            None => (source.len(), source.len()),
        };
        let content = &source[start..raw_end];
        let end = start + content.trim_end_matches('\r').len();
        lines.push(PhysicalLine { start, end, next });
        start = next;
    }
    lines
}

/// `# name=value` at the top of the file, as BuildKit matches it.
fn parse_directive(line: &str) -> Option<(String, &str)> {
    let rest = line.trim_start().strip_prefix('#')?.trim_start();
    let name_len = rest
        .find(|c: char| !c.is_ascii_alphanumeric())
        .unwrap_or(rest.len());
    let name = &rest[..name_len];
    if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return None;
    }
    let value = rest[name_len..].trim_start().strip_prefix('=')?.trim();
    if value.is_empty() {
        return None;
    }
    Some((name.to_ascii_lowercase(), value))
}

/// Removes a trailing escape character (and spaces or tabs after it); true when one was there.
fn strip_continuation(line: &str, escape: char) -> (&str, bool) {
    let trimmed = line.trim_end_matches([' ', '\t']);
    match trimmed.strip_suffix(escape) {
        Some(rest) => (rest, true),
        None => (line, false),
    }
}

/// `<<EOF`, `<<-EOF`, `<<"EOF"`, `2<<EOF`: the delimiter and whether tabs are stripped.
fn heredoc_word(raw: &str) -> Option<(String, bool)> {
    let rest = raw
        .trim_start_matches(|c: char| c.is_ascii_digit())
        .strip_prefix("<<")?;
    let (rest, chomp) = match rest.strip_prefix('-') {
        Some(r) => (r, true),
        None => (rest, false),
    };
    if rest.is_empty() || rest.contains('<') {
        return None;
    }
    let name = unquote(rest);
    (!name.is_empty()).then_some((name, chomp))
}

fn is_comment(line: &str) -> bool {
    line.trim_start().starts_with('#')
}

struct Lexer<'a> {
    source: &'a str,
    lines: &'a LineIndex,
    physical: Vec<PhysicalLine>,
    next: usize,
    out: Lexed,
}

pub(crate) fn lex(source: &str, lines: &LineIndex) -> Lexed {
    let from = if source.starts_with('\u{feff}') {
        '\u{feff}'.len_utf8()
    } else {
        0
    };
    let mut lexer = Lexer {
        source,
        lines,
        physical: physical_lines(source, from),
        next: 0,
        out: Lexed {
            escape: '\\',
            ..Lexed::default()
        },
    };
    lexer.directives();
    while let Some(line) = lexer.take_line() {
        lexer.instruction(line);
    }
    lexer.out
}

impl<'a> Lexer<'a> {
    fn take_line(&mut self) -> Option<PhysicalLine> {
        let line = self.physical.get(self.next).copied()?;
        self.next += 1;
        Some(line)
    }

    fn content(&self, line: PhysicalLine) -> &'a str {
        self.source.get(line.start..line.end).unwrap_or_default()
    }

    fn problem(&mut self, offset: usize, problem: Problem) {
        let line = self.lines.line(offset);
        self.out.problems.push(Located::new(line, problem));
    }

    /// Parser directives end at the first line that is not one (a blank line included).
    fn directives(&mut self) {
        let mut seen: Vec<String> = Vec::new();
        while let Some(&line) = self.physical.get(self.next) {
            let Some((name, value)) = parse_directive(self.content(line)) else {
                return;
            };
            if !matches!(name.as_str(), "syntax" | "escape" | "check") {
                return;
            }
            self.next += 1;
            if seen.contains(&name) {
                self.problem(line.start, Problem::DuplicateDirective { name });
                continue;
            }
            if name == "escape" {
                match value {
                    "\\" => self.out.escape = '\\',
                    "`" => self.out.escape = '`',
                    _ => {
                        let value = value.to_string();
                        self.problem(line.start, Problem::InvalidEscape { value });
                    }
                }
            }
            seen.push(name);
        }
    }

    fn instruction(&mut self, first: PhysicalLine) {
        let escape = self.out.escape;
        let content = self.content(first);
        let trimmed = content.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            return;
        }
        let mut logical = Logical::at(first.start);
        let (piece, mut continued) = strip_continuation(trimmed, escape);
        logical.push_str(piece, first.end - trimmed.len());
        while continued {
            let Some(line) = self.take_line() else { break };
            let content = self.content(line);
            // BuildKit drops comment and blank lines inside a continued instruction.
            if is_comment(content) || content.trim().is_empty() {
                continue;
            }
            let (piece, more) = strip_continuation(content, escape);
            logical.push_str(piece, line.start);
            continued = more;
        }

        let text = logical.text();
        let start = text.len() - text.trim_start().len();
        let end = text.trim_end().len();
        if start >= end {
            return;
        }
        let keyword_end = text[start..end]
            .find(char::is_whitespace)
            .map_or(end, |i| start + i);
        let args_start = end - text[keyword_end..end].trim_start().len();
        let keyword = text[start..keyword_end].to_string();
        let span = logical.span(start..end);
        let args = logical.slice(args_start..end);
        let mut instruction = Instruction {
            line: self.lines.line(span.start),
            keyword,
            args,
            span,
            heredocs: Vec::new(),
        };
        if matches!(instruction.name().as_str(), "RUN" | "COPY" | "ADD")
            && instruction.args.text().contains("<<")
        {
            self.heredocs(&mut instruction);
        }
        self.out.instructions.push(instruction);
    }

    /// Consumes the bodies of the heredocs `instruction` opens, one after the other.
    fn heredocs(&mut self, instruction: &mut Instruction) {
        let args = instruction.args.clone();
        // BuildKit looks for heredocs with the default escape character, whatever the directive.
        for word in quoted_words(args.text(), '\\') {
            let Some((name, chomp)) = args.text().get(word.clone()).and_then(heredoc_word) else {
                continue;
            };
            let opened_at = args.offset(word.start);
            let mut body = Logical::at(
                self.physical
                    .get(self.next)
                    .map_or(self.source.len(), |line| line.start),
            );
            let mut closed = false;
            while let Some(line) = self.take_line() {
                let content = self.content(line);
                let candidate = if chomp {
                    content.trim_start_matches('\t')
                } else {
                    content
                };
                if candidate == name {
                    closed = true;
                    break;
                }
                body.push_str(&self.source[line.start..line.next], line.start);
            }
            if !closed {
                self.problem(
                    opened_at,
                    Problem::UnterminatedHeredoc { name: name.clone() },
                );
            }
            instruction.heredocs.push(Heredoc { body });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lex_str(source: &str) -> Lexed {
        lex(source, &LineIndex::new(source))
    }

    #[test]
    fn continuation_joins_lines_and_skips_comments_inside() {
        let source = "RUN apt-get update && \\\n# a comment\n\n    apt-get install curl\nUSER x\n";
        let lexed = lex_str(source);
        assert_eq!(lexed.instructions.len(), 2);
        assert_eq!(
            lexed.instructions[0].args.text(),
            "apt-get update &&     apt-get install curl"
        );
        assert_eq!(lexed.instructions[1].line, 5);
    }

    #[test]
    fn directives_stop_at_first_other_line() {
        let lexed = lex_str("# syntax=docker/dockerfile:1\n\n# escape=`\nFROM a \\\n");
        assert_eq!(lexed.escape, '\\');
        let lexed = lex_str("# escape=`\nFROM a `\n  AS b\n");
        assert_eq!(lexed.escape, '`');
        assert_eq!(lexed.instructions[0].args.text(), "a   AS b");
    }

    #[test]
    fn heredoc_bodies_are_consumed() {
        let source = "RUN <<A <<-B\nFROM evil\nA\n\t\tx\n\tB\nUSER y\n";
        let lexed = lex_str(source);
        let names: Vec<_> = lexed.instructions.iter().map(Instruction::name).collect();
        assert_eq!(names, vec!["RUN", "USER"]);
        let docs = &lexed.instructions[0].heredocs;
        assert_eq!(docs[0].body.text(), "FROM evil\n");
        assert_eq!(docs[1].body.text(), "\t\tx\n");
    }

    #[test]
    fn here_strings_are_not_heredocs() {
        let lexed = lex_str("RUN cat <<<EOF\nUSER x\n");
        assert_eq!(lexed.instructions.len(), 2);
        assert!(lexed.instructions[0].heredocs.is_empty());
    }
}
