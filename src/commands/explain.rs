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
    // Records merged under one id (PYSEC + GHSA) repeat the same ranges in other shapes: one
    // line per package, each interval once.
    let mut packages: Vec<(String, Vec<String>)> = Vec::new();
    for affected in &advisory.affected {
        let key = format!("{} `{}`", affected.ecosystem, affected.name);
        let at = match packages.iter().position(|(k, _)| *k == key) {
            Some(i) => i,
            None => {
                packages.push((key, Vec::new()));
                packages.len() - 1
            }
        };
        let parts = &mut packages[at].1;
        for range in &affected.ranges {
            for interval in intervals(range.events()) {
                if !parts.contains(&interval) {
                    parts.push(interval);
                }
            }
        }
        if !affected.versions.is_empty() {
            let listed: Vec<String> = affected.versions.iter().map(|v| v.to_string()).collect();
            let exact = format!("exactly {}", shorten(&listed, 8));
            if !parts.contains(&exact) {
                parts.push(exact);
            }
        }
    }
    for (package, parts) in &packages {
        if parts.is_empty() {
            let _ = writeln!(out, "- {package}: no versions listed");
        } else {
            let _ = writeln!(out, "- {package}: {}", parts.join("; "));
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

/// A range's affected intervals in words, each with its fix.
fn intervals(events: &[RangeEvent]) -> Vec<String> {
    let mut out = Vec::new();
    let mut open: Option<String> = None;
    let mut limit: Option<String> = None;
    for event in events {
        match event {
            RangeEvent::Introduced(v) => {
                open = Some(v.as_ref().map_or_else(
                    || "from the first version".to_string(),
                    |v| format!("from {v}"),
                ));
            }
            RangeEvent::Fixed(v) => {
                if let Some(from) = open.take() {
                    out.push(format!("{from}, fixed in **{v}**"));
                }
            }
            RangeEvent::LastAffected(v) => {
                if let Some(from) = open.take() {
                    out.push(format!("{from} to {v} (no fixed version)"));
                }
            }
            RangeEvent::Limit(v) => limit = Some(v.to_string()),
        }
    }
    if let Some(from) = open {
        out.push(match limit {
            Some(l) => format!("{from}, below {l}"),
            None => format!("{from}, no fixed version yet"),
        });
    }
    out
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
