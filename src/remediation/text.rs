//! The figures as plain text, for `patchwright report` and audits.

use super::Figures;
use std::fmt::Write;

/// A share as a percentage with one decimal, or `n/a`.
pub fn percent(share: Option<f64>) -> String {
    share.map_or_else(|| "n/a".to_string(), |s| format!("{:.1}%", s * 100.0))
}

/// Days with one decimal, or `n/a`.
pub fn days(value: Option<f64>) -> String {
    value.map_or_else(|| "n/a".to_string(), |d| format!("{d:.1} d"))
}

/// A change in days with its sign, or `n/a`.
pub fn trend(value: Option<f64>) -> String {
    value.map_or_else(|| "n/a".to_string(), |d| format!("{d:+.1} d"))
}

pub fn render(f: &Figures) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Remediation report at {} over the last {} days ({} repositories)",
        f.now.format("%Y-%m-%d %H:%M UTC"),
        f.window.days,
        f.repositories
    );
    let _ = writeln!(out, "\nTime to remediate (blockers and warnings)");
    let _ = writeln!(
        out,
        "  {:<9} {:>12} {:>12} {:>14}",
        "severity", "30 days", "90 days", "trend (30 d)"
    );
    for row in &f.mttr {
        let _ = writeln!(
            out,
            "  {:<9} {:>12} {:>12} {:>14}",
            row.severity,
            format!("{} ({})", days(row.last_30.mean_days), row.last_30.fixed),
            format!("{} ({})", days(row.last_90.mean_days), row.last_90.fixed),
            trend(row.trend_30_days)
        );
    }
    let _ = writeln!(
        out,
        "\nSLA (open blockers): {} breached, {} due within 7 days, {} on track",
        f.sla.breached, f.sla.due_soon, f.sla.on_track
    );
    let _ = writeln!(
        out,
        "Repositories passing the policy: {} of {} ({})",
        f.passing_policy.count,
        f.passing_policy.of,
        percent(f.passing_policy.share)
    );
    let p = &f.fix_prs;
    let _ = writeln!(
        out,
        "Fix PRs opened: {} (merged {}, closed by a person {}, superseded {}, open {}); merge rate {}; median time to merge {}",
        p.opened,
        p.merged,
        p.closed_by_person,
        p.superseded,
        p.still_open,
        percent(p.merge_rate),
        p.median_hours_to_merge
            .map_or_else(|| "n/a".to_string(), |h| format!("{h:.1} h"))
    );
    let _ = writeln!(
        out,
        "Recurrence: {} of {} opened ({})",
        f.recurrence.count,
        f.recurrence.of,
        percent(f.recurrence.share)
    );
    let _ = writeln!(
        out,
        "Rework: {} of {} fixes ({})",
        f.rework.count,
        f.rework.of,
        percent(f.rework.share)
    );
    let _ = writeln!(
        out,
        "Closed by an exception: {} of {} closed ({})",
        f.closed_by_exception.count,
        f.closed_by_exception.of,
        percent(f.closed_by_exception.share)
    );
    let expiring: Vec<_> = f.exceptions.iter().filter(|e| e.expiring).collect();
    let _ = writeln!(
        out,
        "Exceptions in force: {} ({} expiring within 14 days)",
        f.exceptions.len(),
        expiring.len()
    );
    for e in expiring {
        let _ = writeln!(out, "  {} {} until {}", e.repository, e.target, e.until);
    }
    let late: Vec<_> = f
        .open
        .iter()
        .filter(|o| o.sla == Some(super::figures::SlaState::Breached))
        .collect();
    if !late.is_empty() {
        let _ = writeln!(out, "\nBreached SLAs");
        for o in late {
            let _ = writeln!(
                out,
                "  {} {} {} {} due {} owners {}",
                o.repository,
                o.severity,
                o.package,
                o.advisory,
                o.due.map(|d| d.to_string()).unwrap_or_default(),
                if o.owners.is_empty() {
                    "-".to_string()
                } else {
                    o.owners.join(" ")
                }
            );
        }
    }
    out
}
