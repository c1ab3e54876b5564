//! From comment text to commands: find the mentions, then one parse function per command.

use chrono::NaiveDate;

use super::help::{edit_distance, is_typo};
use super::markdown::{Line, prose_lines};
use super::{Command, CommandError, CommandName, ErrorKind, IgnoreScope, Position, Target};
use crate::model::RuleId;

/// Every `@slug …` mention at the start of a prose line yields one result, in comment order.
/// Other text, and mentions of anyone else, yield nothing.
pub fn parse_comment(body: &str, slug: &str) -> Vec<Result<Command, CommandError>> {
    // Callers may pass the slug as it is written in a mention.
    let slug = slug.strip_prefix('@').unwrap_or(slug);
    if slug.is_empty() {
        return Vec::new();
    }
    prose_lines(body)
        .into_iter()
        .filter_map(|line| mention(line, slug))
        .map(|mut cursor| {
            parse_command(&mut cursor).map_err(|mut err| {
                // Errors carry only an offset until here; the whole body is needed to turn it
                // into a line and a column.
                let offset = err.at.map_or(cursor.end(), |at| at.offset);
                err.at = Some(Position::locate(body, offset));
                err
            })
        })
        .collect()
}

/// A cursor after `@slug` if the line starts (after whitespace) with a mention of the app.
/// `@slug[bot]` counts too: that is how GitHub shows the app's login.
fn mention<'a>(line: Line<'a>, slug: &str) -> Option<Cursor<'a>> {
    let indent = line.text.len() - line.text.trim_start().len();
    let rest = line.text[indent..].strip_prefix('@')?;
    let name = rest.get(..slug.len())?;
    if !name.eq_ignore_ascii_case(slug) {
        return None;
    }
    let mut pos = indent + 1 + slug.len();
    if line.text[pos..].starts_with("[bot]") {
        pos += "[bot]".len();
    }
    // `@slug-dev` or `@slugger` is someone else.
    if !line.text[pos..]
        .chars()
        .next()
        .is_none_or(char::is_whitespace)
    {
        return None;
    }
    Some(Cursor {
        text: line.text,
        base: line.offset,
        pos,
    })
}

/// Reads one line's arguments. Offsets in errors are absolute (into the comment).
struct Cursor<'a> {
    text: &'a str,
    base: usize,
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn skip_ws(&mut self) {
        let rest = &self.text[self.pos..];
        self.pos += rest.len() - rest.trim_start().len();
    }

    /// The next whitespace-separated word and its absolute offset.
    fn word(&mut self) -> Option<(usize, &'a str)> {
        self.skip_ws();
        let rest = &self.text[self.pos..];
        if rest.is_empty() {
            return None;
        }
        let len = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let at = self.base + self.pos;
        self.pos += len;
        Some((at, &rest[..len]))
    }

    /// The rest of the line, trimmed, and its absolute offset.
    fn rest(&mut self) -> (usize, &'a str) {
        self.skip_ws();
        let rest = self.text[self.pos..].trim_end();
        let at = self.base + self.pos;
        self.pos = self.text.len();
        (at, rest)
    }

    /// A double-quoted string starting at the cursor, `\"` and `\\` unescaped. Typographic
    /// quotes count too: phones and word processors turn `"` into `“…”`.
    fn quoted(&mut self) -> Result<(usize, String), CommandError> {
        let at = self.base + self.pos;
        let mut out = String::new();
        let mut chars = self.text[self.pos..].char_indices().skip(1);
        while let Some((i, c)) = chars.next() {
            match c {
                '"' | '”' => {
                    self.pos += i + c.len_utf8();
                    return Ok((at, out));
                }
                '\\' => match chars.next() {
                    Some((_, e @ ('"' | '”' | '\\'))) => out.push(e),
                    // Other backslashes are literal: Windows paths in a reason should survive.
                    Some((_, other)) => {
                        out.push('\\');
                        out.push(other);
                    }
                    None => out.push('\\'),
                },
                c => out.push(c),
            }
        }
        Err(error_at(
            ErrorKind::UnterminatedQuote,
            at,
            "the quoted --reason has no closing `\"`",
        ))
    }

    fn end(&self) -> usize {
        self.base + self.text.len()
    }
}

fn error_at(kind: ErrorKind, offset: usize, message: impl Into<String>) -> CommandError {
    let mut err = CommandError::new(kind, message);
    err.at = Some(Position {
        offset,
        line: 0,
        column: 0,
    });
    err
}

fn parse_command(cursor: &mut Cursor<'_>) -> Result<Command, CommandError> {
    let Some((at, word)) = cursor.word() else {
        return Err(error_at(
            ErrorKind::MissingCommand,
            cursor.end(),
            format!(
                "no command after the mention; try `{}`",
                CommandName::Help.as_str()
            ),
        )
        .for_command(CommandName::Help));
    };
    let Some(name) = CommandName::parse(word) else {
        let mut err = error_at(
            ErrorKind::UnknownCommand,
            at,
            format!("unknown command `{word}`"),
        );
        if let Some(near) = CommandName::nearest(word) {
            err.message
                .push_str(&format!("; did you mean `{}`?", near.as_str()));
            err.suggestion = Some(near);
        }
        return Err(err);
    };
    let command = match name {
        CommandName::Help => no_arguments(cursor, Command::Help),
        CommandName::Rescan => no_arguments(cursor, Command::Rescan),
        CommandName::Recreate => no_arguments(cursor, Command::Recreate),
        CommandName::Explain => parse_explain(cursor),
        CommandName::AcceptRisk => parse_accept_risk(cursor),
        CommandName::Revoke => parse_revoke(cursor),
        CommandName::Ignore => parse_ignore(cursor),
        CommandName::Unignore => parse_unignore(cursor),
    };
    command.map_err(|err| err.for_command(name))
}

fn no_arguments(cursor: &mut Cursor<'_>, command: Command) -> Result<Command, CommandError> {
    match cursor.word() {
        None => Ok(command),
        Some((at, word)) => Err(error_at(
            ErrorKind::UnexpectedArgument,
            at,
            format!(
                "`{}` takes no arguments, found `{word}`",
                command.name().as_str()
            ),
        )),
    }
}

fn nothing_more(cursor: &mut Cursor<'_>, name: CommandName) -> Result<(), CommandError> {
    match cursor.word() {
        None => Ok(()),
        Some((at, word)) => Err(error_at(
            ErrorKind::UnexpectedArgument,
            at,
            format!(
                "unexpected `{word}` after the arguments of `{}`",
                name.as_str()
            ),
        )),
    }
}

fn parse_explain(cursor: &mut Cursor<'_>) -> Result<Command, CommandError> {
    let Some((at, word)) = cursor.word() else {
        return Err(error_at(
            ErrorKind::MissingArgument,
            cursor.end(),
            "`explain` needs an advisory id or a rule id",
        ));
    };
    let target = parse_target(at, word)?;
    nothing_more(cursor, CommandName::Explain)?;
    Ok(Command::Explain { target })
}

fn parse_revoke(cursor: &mut Cursor<'_>) -> Result<Command, CommandError> {
    let Some((at, word)) = cursor.word() else {
        return Err(error_at(
            ErrorKind::MissingArgument,
            cursor.end(),
            "`revoke` needs the advisory id or rule id of the accepted risk",
        ));
    };
    let target = parse_target(at, word)?;
    nothing_more(cursor, CommandName::Revoke)?;
    Ok(Command::Revoke { target })
}

fn parse_accept_risk(cursor: &mut Cursor<'_>) -> Result<Command, CommandError> {
    let mut target = None;
    let mut until: Option<NaiveDate> = None;
    let mut reason: Option<String> = None;
    // Where the reason ended up swallowing a flag, to say so if that flag is then missing.
    let mut reason_has_until = false;

    while let Some((at, word)) = cursor.word() {
        let Some(flag) = flag_name(word) else {
            if target.is_some() {
                return Err(error_at(
                    ErrorKind::UnexpectedArgument,
                    at,
                    format!("unexpected `{word}`; give the reason as --reason \"…\""),
                ));
            }
            target = Some(parse_target(at, word)?);
            continue;
        };
        let (flag, inline) = match flag.split_once('=') {
            Some((flag, value)) => (flag, Some(value)),
            None => (flag, None),
        };
        if flag.eq_ignore_ascii_case("until") {
            if until.is_some() {
                return Err(duplicate(at, "--until"));
            }
            let (value_at, value) = match inline {
                Some(value) => (at + word.len() - value.len(), value),
                None => cursor.word().ok_or_else(|| {
                    error_at(
                        ErrorKind::MissingDate,
                        cursor.end(),
                        "--until needs a date, as YYYY-MM-DD",
                    )
                })?,
            };
            until = Some(parse_date(value_at, value)?);
        } else if flag.eq_ignore_ascii_case("reason") {
            if reason.is_some() {
                return Err(duplicate(at, "--reason"));
            }
            match inline {
                // `--reason=value`: the value starts right after the `=`.
                Some(value) if !value.is_empty() => cursor.pos -= value.len(),
                _ => cursor.skip_ws(),
            }
            let (value_at, value) = if cursor.text[cursor.pos..].starts_with(['"', '“']) {
                cursor.quoted()?
            } else {
                let (value_at, value) = cursor.rest();
                reason_has_until = value
                    .split_whitespace()
                    .filter_map(flag_name)
                    .any(|f| f.get(..5).is_some_and(|p| p.eq_ignore_ascii_case("until")));
                (value_at, value.to_string())
            };
            if value.trim().is_empty() {
                return Err(error_at(
                    ErrorKind::MissingReason,
                    value_at,
                    "--reason is empty; say why the risk is acceptable",
                ));
            }
            reason = Some(value.trim().to_string());
        } else {
            return Err(error_at(
                ErrorKind::UnknownFlag,
                at,
                format!("unknown flag `--{flag}`; `accept-risk` takes --until and --reason"),
            ));
        }
    }

    let end = cursor.end();
    let Some(target) = target else {
        return Err(error_at(
            ErrorKind::MissingArgument,
            end,
            "`accept-risk` needs the advisory id or rule id to accept",
        ));
    };
    let Some(until) = until else {
        let mut message = String::from("`accept-risk` needs --until YYYY-MM-DD");
        if reason.is_none() {
            message.push_str(" and --reason \"…\"");
        }
        if reason_has_until {
            message.push_str(
                "; an unquoted --reason takes the rest of the line, so put --until before it or quote the reason",
            );
        }
        return Err(error_at(ErrorKind::MissingDate, end, message));
    };
    let Some(reason) = reason else {
        return Err(error_at(
            ErrorKind::MissingReason,
            end,
            "`accept-risk` needs --reason \"…\": say why the risk is acceptable",
        ));
    };
    Ok(Command::AcceptRisk {
        target,
        until,
        reason,
    })
}

/// The name of a flag without its dashes. An em or en dash counts as `--`: phones replace the
/// two hyphens as they are typed, and refusing `—until` would puzzle people.
fn flag_name(word: &str) -> Option<&str> {
    ["--", "—", "–"]
        .into_iter()
        .find_map(|dashes| word.strip_prefix(dashes))
}

fn duplicate(at: usize, flag: &str) -> CommandError {
    error_at(
        ErrorKind::DuplicateFlag,
        at,
        format!("{flag} is given twice"),
    )
}

/// Exactly `YYYY-MM-DD`: chrono alone also takes `2026-1-5`, and one spelling keeps exceptions
/// greppable.
fn parse_date(at: usize, value: &str) -> Result<NaiveDate, CommandError> {
    let shaped = value.len() == 10
        && value.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            _ => b.is_ascii_digit(),
        });
    let date = shaped
        .then(|| NaiveDate::parse_from_str(value, "%Y-%m-%d").ok())
        .flatten();
    date.ok_or_else(|| {
        error_at(
            ErrorKind::InvalidDate,
            at,
            format!("`{value}` is not a date; write it as YYYY-MM-DD, e.g. 2026-03-31"),
        )
    })
}

fn parse_ignore(cursor: &mut Cursor<'_>) -> Result<Command, CommandError> {
    let Some((at, name)) = cursor.word() else {
        return Err(error_at(
            ErrorKind::MissingArgument,
            cursor.end(),
            "`ignore` needs a package or image name",
        ));
    };
    if name.starts_with(['-', '—', '–']) {
        return Err(error_at(
            ErrorKind::UnknownFlag,
            at,
            format!("`ignore` takes no flags, found `{name}`"),
        ));
    }
    let scope = match cursor.word() {
        None => IgnoreScope::All,
        Some((_, w)) if w.eq_ignore_ascii_case("major") => IgnoreScope::Major,
        Some((_, w)) if w.eq_ignore_ascii_case("minor") => IgnoreScope::Minor,
        Some((at, w)) if w.starts_with(['-', '—', '–']) => {
            return Err(error_at(
                ErrorKind::UnknownFlag,
                at,
                format!("`ignore` takes no flags, found `{w}`"),
            ));
        }
        Some((_, version)) => IgnoreScope::Version(version.to_string()),
    };
    nothing_more(cursor, CommandName::Ignore)?;
    Ok(Command::Ignore {
        name: name.to_string(),
        scope,
    })
}

fn parse_unignore(cursor: &mut Cursor<'_>) -> Result<Command, CommandError> {
    let Some((at, name)) = cursor.word() else {
        return Err(error_at(
            ErrorKind::MissingArgument,
            cursor.end(),
            "`unignore` needs the package or image name given to `ignore`",
        ));
    };
    if name.starts_with(['-', '—', '–']) {
        return Err(error_at(
            ErrorKind::UnknownFlag,
            at,
            format!("`unignore` takes no flags, found `{name}`"),
        ));
    }
    nothing_more(cursor, CommandName::Unignore)?;
    Ok(Command::Unignore {
        name: name.to_string(),
    })
}

/// An advisory id (by its prefix and shape) or a rule id.
fn parse_target(at: usize, word: &str) -> Result<Target, CommandError> {
    if let Some(rule) = RuleId::ALL
        .into_iter()
        .find(|r| r.as_str().eq_ignore_ascii_case(word))
    {
        return Ok(Target::Rule(rule));
    }
    if let Some(id) = advisory_id(word) {
        return Ok(Target::Advisory(id));
    }
    let mut message = format!(
        "`{word}` is not an advisory id (CVE-…, GHSA-…, RUSTSEC-…, PYSEC-…, GO-…) or a rule id"
    );
    let lower = word.to_ascii_lowercase();
    if let Some(rule) = RuleId::ALL
        .into_iter()
        .map(|r| (edit_distance(&lower, r.as_str()), r))
        .filter(|&(d, r)| is_typo(d, r.as_str()))
        .min_by_key(|&(d, _)| d)
        .map(|(_, r)| r)
    {
        message.push_str(&format!("; did you mean `{}`?", rule.as_str()));
    }
    Err(error_at(ErrorKind::InvalidId, at, message))
}

/// The normalised id if `word` has the shape of an id from one of the databases we read.
fn advisory_id(word: &str) -> Option<String> {
    let (prefix, body) = word.split_once('-')?;
    let prefix = prefix.to_ascii_uppercase();
    let parts: Vec<&str> = body.split('-').collect();
    let digits = |s: &str, min: usize| s.len() >= min && s.bytes().all(|b| b.is_ascii_digit());
    let year = |s: &str| s.len() == 4 && digits(s, 4);
    let ok = match (prefix.as_str(), parts.as_slice()) {
        ("CVE", [y, n]) => year(y) && digits(n, 4),
        ("RUSTSEC", [y, n]) => year(y) && n.len() == 4 && digits(n, 4),
        ("PYSEC", [y, n]) => year(y) && digits(n, 1),
        ("GO", [y, n]) => year(y) && digits(n, 4),
        ("GHSA", [a, b, c]) => [a, b, c]
            .iter()
            .all(|p| p.len() == 4 && p.bytes().all(|b| b.is_ascii_alphanumeric())),
        _ => false,
    };
    if !ok {
        return None;
    }
    let body = if prefix == "GHSA" {
        body.to_ascii_lowercase()
    } else {
        body.to_string()
    };
    Some(format!("{prefix}-{body}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advisory_ids_are_normalised() {
        assert_eq!(
            advisory_id("cve-2024-12345").as_deref(),
            Some("CVE-2024-12345")
        );
        assert_eq!(
            advisory_id("ghsa-ABCD-efgh-2345").as_deref(),
            Some("GHSA-abcd-efgh-2345")
        );
        assert_eq!(
            advisory_id("RustSec-2023-0001").as_deref(),
            Some("RUSTSEC-2023-0001")
        );
        assert_eq!(advisory_id("PYSEC-2021-9").as_deref(), Some("PYSEC-2021-9"));
        assert_eq!(advisory_id("GO-2022-0969").as_deref(), Some("GO-2022-0969"));
        for bad in [
            "CVE-24-1234",
            "CVE-2024-12",
            "GHSA-abc-defg-hijk",
            "FOO-2024-1234",
            "CVE",
            "GO-2022-1",
        ] {
            assert_eq!(advisory_id(bad), None, "{bad}");
        }
    }

    #[test]
    fn dates_have_one_spelling() {
        assert!(parse_date(0, "2026-02-28").is_ok());
        for bad in [
            "2026-2-28",
            "2026-02-30",
            "28-02-2026",
            "2026/02/28",
            "tomorrow",
            "2026-02-28x",
        ] {
            assert_eq!(
                parse_date(0, bad).unwrap_err().kind,
                ErrorKind::InvalidDate,
                "{bad}"
            );
        }
    }
}
