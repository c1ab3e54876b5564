//! Terminal output: one block per finding, most severe first, with the fix and the reason for
//! the level, so a reader never has to ask "why" or "what now".

use crate::model::{ChangeKind, ExceptionOrigin, Finding, Level};
use crate::report::{ExceptionState, ExceptionStatus, Report};
use std::fmt::Write;

pub fn report(report: &Report) -> String {
    let mut out = String::new();
    let s = &report.summary;
    let _ = writeln!(
        out,
        "patchwright: {} files, {} dependencies · {} blocker(s) · {} warning(s) · {} info · {} excepted · {} fixable",
        s.files, s.dependencies, s.blockers, s.warnings, s.info, s.excepted, s.fixable
    );
    for finding in &report.findings {
        out.push('\n');
        finding_block(&mut out, finding);
    }
    exceptions(&mut out, report);
    ignored_updates(&mut out, report);
    if !report.errors.is_empty() {
        let files: std::collections::BTreeSet<&str> =
            report.errors.iter().map(|e| e.file.as_str()).collect();
        let _ = writeln!(
            out,
            "\n{} file(s) could not be read in full ({} error(s)):",
            files.len(),
            report.errors.len()
        );
        for e in &report.errors {
            let _ = writeln!(out, "  error: {e}");
        }
    }
    out
}

/// Every exception, whatever its state, so none suppresses anything unseen.
fn exceptions(out: &mut String, report: &Report) {
    if report.exceptions.is_empty() {
        return;
    }
    let _ = writeln!(out, "\nexceptions ({}):", report.exceptions.len());
    for e in &report.exceptions {
        let _ = writeln!(
            out,
            "  {:<8} {}  until {}  {}",
            e.state.as_str().to_uppercase(),
            e.id,
            e.expires,
            exception_coverage(e)
        );
        let _ = writeln!(out, "    {}", exception_owner(e));
        let _ = writeln!(out, "    reason: {}", one_line(&e.reason));
    }
}

/// What an exception covers, in words: `covers 2 finding(s)`, `matches nothing`.
pub fn exception_coverage(e: &ExceptionStatus) -> String {
    let scope = match (&e.package, &e.path) {
        (Some(p), Some(g)) => format!(" (only {p} in {g})"),
        (Some(p), None) => format!(" (only {p})"),
        (None, Some(g)) => format!(" (only in {g})"),
        (None, None) => String::new(),
    };
    match (e.state, e.covers) {
        (_, 0) => format!("matches nothing{scope}"),
        (ExceptionState::Expired, n) => format!("no longer suppresses {n} finding(s){scope}"),
        (_, n) => format!("covers {n} finding(s){scope}"),
    }
}

/// Who answers for an exception and where it is written or was granted.
pub fn exception_owner(e: &ExceptionStatus) -> String {
    match &e.origin {
        ExceptionOrigin::Config { location } => format!("owner {}, written at {location}", e.owner),
        ExceptionOrigin::Command { .. } => e.origin_text.clone(),
    }
}

fn ignored_updates(out: &mut String, report: &Report) {
    if report.ignored_updates.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\nignored updates ({}): their fixes are not proposed, the findings stay:",
        report.ignored_updates.len()
    );
    for i in &report.ignored_updates {
        let _ = writeln!(
            out,
            "  {} ({})  ignored by @{} since {} in {}; withheld {} fix(es)",
            i.name, i.scope, i.created_by, i.created_at, i.source, i.withheld
        );
    }
}

/// Reasons come from people and config files: keep each on one line of output.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn level_label(finding: &Finding) -> &'static str {
    if !finding.is_active() {
        return "EXCEPTED";
    }
    match finding.level {
        Level::Blocker => "BLOCKER",
        Level::Warning => "WARNING",
        Level::Info => "INFO",
    }
}

fn finding_block(out: &mut String, f: &Finding) {
    let _ = writeln!(
        out,
        "{:<8} {}  {}:{}  {}",
        level_label(f),
        f.rule,
        f.file,
        f.line,
        f.subject
    );
    let _ = writeln!(out, "  {}", f.message);
    for a in &f.advisory_details {
        let score = a.cvss_score.map(|s| format!(" {s:.1}")).unwrap_or_default();
        let aliases = if a.aliases.is_empty() {
            String::new()
        } else {
            format!(" ({})", a.aliases.join(", "))
        };
        let _ = writeln!(
            out,
            "  - {}{aliases}: {}{score} — {}",
            a.id, a.severity, a.summary
        );
    }
    for line in also_lines(f) {
        let _ = writeln!(out, "  {line}");
    }
    if let Some(fix) = &f.fix {
        let _ = writeln!(out, "  fix: {}", fix_line(fix));
        for note in &fix.notes {
            let _ = writeln!(out, "    note: {note}");
        }
    } else if let Some(why) = &f.no_fix_reason {
        let _ = writeln!(out, "  no automatic fix: {why}");
    }
    if !f.level_reason.is_empty() {
        let _ = writeln!(out, "  why {}: {}", f.level, f.level_reason);
    }
}

/// The other rules folded into a finding, one line each:
/// `also dependency-banned (blocker): urllib3 1.26.5 is banned by the catalog …`.
pub fn also_lines(f: &Finding) -> Vec<String> {
    f.also
        .iter()
        .map(|r| {
            let state = match &r.exception {
                None => r.level.to_string(),
                Some(e) => format!(
                    "{}, excepted until {} ({}): {}",
                    r.level,
                    e.expires,
                    e.origin.describe(),
                    one_line(&e.reason)
                ),
            };
            format!("also {} ({state}): {}", r.rule, r.message)
        })
        .collect()
}

/// `4.17.20 → 4.17.21 (patch)`, with the re-lock command when the file can't be edited.
pub fn fix_line(fix: &crate::model::Fix) -> String {
    let kind = change_label(fix.change);
    match &fix.relock {
        Some(cmd) => format!("{} → {} ({kind}); needs a re-lock: {cmd}", fix.from, fix.to),
        None => format!("{} → {} ({kind})", fix.from, fix.to),
    }
}

pub fn change_label(kind: ChangeKind) -> &'static str {
    match kind {
        ChangeKind::Patch => "patch",
        ChangeKind::Minor => "minor",
        ChangeKind::Major => "major",
        ChangeKind::Variant => "variant change",
        ChangeKind::Replacement => "replacement",
        ChangeKind::Digest => "digest only",
        ChangeKind::Unknown => "version change",
    }
}

/// `patchwright rules`: every rule id, its default level and what it means.
pub fn rules() -> String {
    let mut out = String::new();
    for rule in crate::model::RuleId::ALL {
        let _ = writeln!(
            out,
            "{:<26} {:<45} {}",
            rule.as_str(),
            default_level_text(rule),
            rule.description()
        );
    }
    out
}

/// The level a rule's findings get unless a tier sets it, in the README's words: fixed for
/// most rules, but advisories follow their severity and the tier, and end of life follows the
/// catalog's dates.
pub fn default_level_text(rule: crate::model::RuleId) -> String {
    use crate::model::RuleId;
    match rule {
        RuleId::VulnerableDependency | RuleId::VulnerableImage => {
            "by severity and tier".to_string()
        }
        RuleId::EolBaseImage => "warning, blocker after the catalog's grace date".to_string(),
        other => other.default_level().as_str().to_string(),
    }
}

/// What `patchwright fix` says after applying: what it fixed, what is left and why.
pub fn fix_summary(
    before: &Report,
    after: &Report,
    verification: &crate::remedy::Verification,
    files_changed: usize,
    dry_run: bool,
) -> String {
    let mut out = String::new();
    let verb = if dry_run { "would change" } else { "changed" };
    let _ = writeln!(
        out,
        "\npatchwright fix: {verb} {files_changed} file(s); blockers {} → {}, warnings {} → {}; {} finding(s) fixed",
        before.summary.blockers,
        after.summary.blockers,
        before.summary.warnings,
        after.summary.warnings,
        verification.fixed.len()
    );
    for k in &verification.fixed {
        let _ = writeln!(out, "  fixed    {} {} ({})", k.rule, k.subject, k.file);
    }
    // Several findings can share one fix (a package both vulnerable and below the minimum):
    // say each re-lock once.
    let mut relocks: Vec<(&str, &str, String)> = before
        .findings
        .iter()
        .filter(|f| f.is_active())
        .filter_map(|f| {
            let fix = f.fix.as_ref().filter(|x| x.relock.is_some())?;
            Some((f.file.as_str(), f.subject.as_str(), fix_line(fix)))
        })
        .collect();
    relocks.sort();
    relocks.dedup();
    for (file, subject, line) in &relocks {
        let _ = writeln!(out, "  re-lock  {subject} ({file}): {line}");
    }
    for f in after
        .findings
        .iter()
        .filter(|f| f.is_active() && f.level >= Level::Warning)
    {
        let why = f
            .no_fix_reason
            .clone()
            .or_else(|| {
                f.fix
                    .as_ref()
                    .map(|x| format!("fix available: {}", fix_line(x)))
            })
            .unwrap_or_else(|| "no automatic fix for this rule".to_string());
        let _ = writeln!(
            out,
            "  open     {} {} {} ({}:{}): {why}",
            f.level, f.rule, f.subject, f.file, f.line
        );
    }
    for k in &verification.introduced {
        let _ = writeln!(
            out,
            "  NEW      {} {} ({}): introduced by the fix",
            k.rule, k.subject, k.file
        );
    }
    out
}

/// Text from files (package names, paths) as a Markdown code span: nothing inside it can become
/// a mention, a link or a heading. The fence is one backtick longer than any run inside.
pub fn code_span(text: &str) -> String {
    let text = list_line(text);
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    // CommonMark strips one space on each side when both are present, so a span that starts or
    // ends with a backtick can be padded without showing the padding.
    if text.starts_with('`') || text.ends_with('`') {
        format!("{fence} {text} {fence}")
    } else {
        format!("{fence}{text}{fence}")
    }
}

/// A Markdown list item must stay on one line to stay one item.
pub fn list_line(text: &str) -> String {
    text.split(['\n', '\r'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_spans_survive_backticks_and_newlines() {
        assert_eq!(code_span("lodash@4.17.20"), "`lodash@4.17.20`");
        assert_eq!(code_span("a`b"), "``a`b``");
        assert_eq!(code_span("`x``"), "``` `x`` ```");
        assert_eq!(code_span("a\nb\r\n c"), "`a b c`");
    }
}
