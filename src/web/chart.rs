//! Charts as inline SVG, drawn in Rust: no JavaScript, colours from the page's theme.

use crate::remediation::figures::SEVERITIES;
use crate::remediation::snapshots::DayPoint;
use std::fmt::Write;

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 180.0;
const LEFT: f64 = 40.0;
const BOTTOM: f64 = 20.0;

/// A severity's colour (the same in both themes: mid-tones readable on light and dark).
fn colour(severity: &str) -> &'static str {
    match severity {
        "critical" => "#d1242f",
        "high" => "#e16f24",
        "medium" => "#bf8700",
        "low" => "#2f81f7",
        _ => "#8c959f",
    }
}

/// One line per severity over the days of `points`, with the axis maximum and the first and
/// last day labelled. `title` is read by screen readers.
pub fn open_by_severity(points: &[DayPoint], title: &str) -> String {
    let mut svg = String::new();
    let max = points
        .iter()
        .flat_map(|p| p.by_severity.values())
        .copied()
        .max()
        .unwrap_or(0)
        .max(1);
    let _ = write!(
        svg,
        r#"<svg role="img" aria-label="{title}" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" style="max-width:{WIDTH}px"><title>{title}</title>"#
    );
    let plot_w = WIDTH - LEFT - 10.0;
    let plot_h = HEIGHT - BOTTOM - 10.0;
    let _ = write!(
        svg,
        r#"<line x1="{LEFT}" y1="10" x2="{LEFT}" y2="{y0}" stroke="currentColor" stroke-opacity=".3"/><line x1="{LEFT}" y1="{y0}" x2="{x1}" y2="{y0}" stroke="currentColor" stroke-opacity=".3"/><text x="{tx}" y="18" text-anchor="end">{max}</text><text x="{tx}" y="{y0}" text-anchor="end">0</text>"#,
        y0 = 10.0 + plot_h,
        x1 = LEFT + plot_w,
        tx = LEFT - 4.0,
    );
    let n = points.len();
    let x = |i: usize| {
        if n <= 1 {
            LEFT
        } else {
            LEFT + plot_w * i as f64 / (n - 1) as f64
        }
    };
    let y = |v: i64| 10.0 + plot_h - plot_h * v as f64 / max as f64;
    for severity in SEVERITIES {
        if !points.iter().any(|p| p.by_severity.contains_key(severity)) {
            continue;
        }
        let path: Vec<String> = points
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let v = p.by_severity.get(severity).copied().unwrap_or(0);
                format!("{:.1},{:.1}", x(i), y(v))
            })
            .collect();
        let _ = write!(
            svg,
            r#"<polyline data-severity="{severity}" fill="none" stroke="{}" stroke-width="1.8" points="{}"/>"#,
            colour(severity),
            path.join(" ")
        );
    }
    if let (Some(first), Some(last)) = (points.first(), points.last()) {
        let _ = write!(
            svg,
            r#"<text x="{LEFT}" y="{h}">{}</text><text x="{x1}" y="{h}" text-anchor="end">{}</text>"#,
            first.day,
            last.day,
            h = HEIGHT - 4.0,
            x1 = LEFT + plot_w,
        );
    }
    // The legend: which colour is which severity.
    let mut lx = LEFT + 10.0;
    for severity in SEVERITIES {
        let _ = write!(
            svg,
            r#"<rect x="{lx}" y="12" width="10" height="10" fill="{}"/><text x="{}" y="21">{severity}</text>"#,
            colour(severity),
            lx + 14.0
        );
        lx += 80.0;
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use std::collections::BTreeMap;

    #[test]
    fn draws_one_line_per_severity_present_scaled_to_the_maximum() {
        let day = |d| NaiveDate::from_ymd_opt(2026, 1, d).unwrap();
        let points = vec![
            DayPoint {
                day: day(1),
                by_severity: BTreeMap::from([("high".to_string(), 4)]),
                total: 4,
            },
            DayPoint {
                day: day(2),
                by_severity: BTreeMap::from([("high".to_string(), 2)]),
                total: 2,
            },
        ];
        let svg = open_by_severity(&points, "Open blockers");
        assert_eq!(svg.matches("<polyline").count(), 1);
        assert!(svg.contains(r#"data-severity="high""#));
        // The first point is at the top (the maximum), the second half-way down.
        assert!(svg.contains("40.0,10.0 710.0,85.0"), "{svg}");
        assert!(svg.contains(">2026-01-01<") && svg.contains(">2026-01-02<"));
    }
}
