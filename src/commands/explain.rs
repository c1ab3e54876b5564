//! The answer to `explain <id>`: what an advisory or rule is, where it matches in this
//! repository, why it has its level, and how to fix it. Pure: the caller passes the advisory (if
//! the id names one) and the findings of a fresh scan.

use crate::catalog::osv::{Advisory, RangeEvent};
use crate::model::{Finding, RuleId};
use crate::render::text::fix_line;
use std::fmt::Write;

/// At most this many places are listed; the rest are counted.
const MAX_PLACES: usize = 10;

/// `explain` for an advisory id or alias. `findings` are every finding of the scan; those
/// naming the advisory are picked out here.
pub fn explain_advisory(advisory: &Advisory, findings: &[Finding], scanned: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "### {}: {}", advisory.id, one_line(&advisory.summary));
    if !advisory.aliases.is_empty() {
        let _ = writeln!(out, "Also known as {}.", advisory.aliases.join(", "));
    }
    let score = advisory
        .cvss_score
        .map(|s| format!(" (CVSS {s:.1})"))
        .unwrap_or_default();
    let _ = writeln!(out, "Severity: **{}**{score}.", advisory.severity);
    if let Some(kind) = &advisory.informational {
        let _ = writeln!(out, "Informational ({kind}): not a vulnerability as such.");
    }
    if let Some(withdrawn) = advisory.withdrawn {
        let _ = writeln!(
            out,
            "Withdrawn on {}: it no longer matches anything.",
            withdrawn.date_naive()
        );
    }
    let _ = writeln!(out, "\n**Affected and fixed versions**");
    // Records merged under one id (PYSEC + GHSA) often repeat the same ranges.
    let mut shown: Vec<String> = Vec::new();
    for affected in &advisory.affected {
        let ranges: Vec<String> = affected
            .ranges
            .iter()
            .map(|r| range_text(r.events()))
            .collect();
        let mut line = format!("- {} `{}`: ", affected.ecosystem, affected.name);
        if ranges.is_empty() && affected.versions.is_empty() {
            line.push_str("no versions listed");
        }
        line.push_str(&ranges.join("; "));
        if !affected.versions.is_empty() {
            if !ranges.is_empty() {
                line.push_str("; ");
            }
            let listed: Vec<String> = affected.versions.iter().map(|v| v.to_string()).collect();
            let _ = write!(line, "exactly {}", shorten(&listed, 8));
        }
        if !shown.contains(&line) {
            let _ = writeln!(out, "{line}");
            shown.push(line);
        }
    }
    let matching: Vec<&Finding> = findings
        .iter()
        .filter(|f| {
            f.advisories
                .iter()
                .any(|a| *a == advisory.id || advisory.aliases.contains(a))
        })
        .collect();
    places(&mut out, &matching, scanned);
    if let Some(url) = &advisory.url {
        let _ = writeln!(out, "\nMore: {url}");
    }
    let _ = writeln!(
        out,
        "OSV record: https://osv.dev/vulnerability/{}",
        advisory.id
    );
    out
}

/// `explain` for a rule id.
pub fn explain_rule(rule: RuleId, findings: &[Finding], scanned: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "### Rule `{rule}`");
    let _ = writeln!(out, "{}", rule.description());
    let _ = writeln!(
        out,
        "Default level: **{}** (the org policy's tier may raise or lower it; a repository can only set it aside with an exception).",
        rule.default_level()
    );
    let matching: Vec<&Finding> = findings.iter().filter(|f| f.rule == rule).collect();
    places(&mut out, &matching, scanned);
    out
}

/// The findings an id matches: where, at what level and why, and the fix or why there is none.
fn places(out: &mut String, matching: &[&Finding], scanned: &str) {
    if matching.is_empty() {
        let _ = writeln!(out, "\nIt matches nothing in {scanned}.");
        return;
    }
    let _ = writeln!(out, "\n**Where it matches in {scanned}**");
    for f in matching.iter().take(MAX_PLACES) {
        let subject = match (&f.package, &f.version) {
            (Some(p), Some(v)) => format!("{p} {v}"),
            _ => f.subject.clone(),
        };
        let _ = writeln!(
            out,
            "- `{}:{}` {subject}: **{}** because {}.",
            f.file, f.line, f.level, f.level_reason
        );
        match (&f.fix, &f.no_fix_reason) {
            (Some(fix), _) => {
                let _ = writeln!(out, "  Fix: {}.", fix_line(fix));
            }
            (None, Some(why)) => {
                let _ = writeln!(out, "  No automatic fix: {why}.");
            }
            (None, None) => {}
        }
        if let Some(e) = &f.exception {
            let _ = writeln!(
                out,
                "  Suppressed until {} by an exception (owner {}): {}.",
                e.expires, e.owner, e.reason
            );
        }
    }
    if matching.len() > MAX_PLACES {
        let _ = writeln!(out, "- …and {} more.", matching.len() - MAX_PLACES);
    }
}

fn range_text(events: &[RangeEvent]) -> String {
    let parts: Vec<String> = events
        .iter()
        .map(|e| match e {
            RangeEvent::Introduced(None) => "introduced at the first version".to_string(),
            RangeEvent::Introduced(Some(v)) => format!("introduced in {v}"),
            RangeEvent::Fixed(v) => format!("fixed in **{v}**"),
            RangeEvent::LastAffected(v) => format!("last affected {v} (no fixed version)"),
            RangeEvent::Limit(v) => format!("below {v}"),
        })
        .collect();
    if !events.iter().any(|e| {
        matches!(
            e,
            RangeEvent::Fixed(_) | RangeEvent::LastAffected(_) | RangeEvent::Limit(_)
        )
    }) {
        return format!("{}, no fixed version yet", parts.join(", "));
    }
    parts.join(", ")
}

fn shorten(items: &[String], max: usize) -> String {
    if items.len() <= max {
        items.join(", ")
    } else {
        format!("{} and {} more", items[..max].join(", "), items.len() - max)
    }
}

/// Summaries are sometimes several lines; a heading holds one.
fn one_line(s: &str) -> String {
    let line = s.lines().next().unwrap_or("").trim();
    if line.is_empty() {
        "(no summary)".to_string()
    } else {
        line.to_string()
    }
}
