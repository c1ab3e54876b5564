//! The check run a scan leaves on the commit: failure when a blocker stands, neutral for
//! warnings only, success otherwise; the summary from templates/, annotations at file:line.

use crate::forge::hosted::{Annotation, AnnotationLevel, CheckConclusion, CheckRun};
use crate::model::Level;
use crate::render::templates;
use crate::report::Report;

pub const CHECK_NAME: &str = "patchwright";

/// A pull request the scan opened or updated, for the summary.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PullNote {
    pub number: u64,
    pub title: String,
    pub action: String,
}

pub fn check_run(
    report: &Report,
    head_sha: &str,
    pulls: &[PullNote],
    held_back: &[String],
    app_slug: &str,
) -> CheckRun {
    let conclusion = if report.summary.blockers > 0 {
        CheckConclusion::Failure
    } else if report.summary.warnings > 0 {
        CheckConclusion::Neutral
    } else {
        CheckConclusion::Success
    };
    let title = match conclusion {
        CheckConclusion::Failure => format!(
            "{} blocker(s), {} warning(s)",
            report.summary.blockers, report.summary.warnings
        ),
        CheckConclusion::Neutral => {
            format!("{} warning(s), nothing blocks", report.summary.warnings)
        }
        CheckConclusion::Success => "nothing blocks or warns".to_string(),
    };
    let annotations = report
        .findings
        .iter()
        .filter(|f| f.is_active() && f.line > 0)
        .map(|f| annotation(f, format!("{} {}: {}", f.level, f.rule, f.subject)))
        .collect();
    CheckRun {
        name: CHECK_NAME.to_string(),
        head_sha: head_sha.to_string(),
        conclusion,
        title,
        summary: templates::check_summary_for(report, pulls, held_back, Some(app_slug)),
        annotations,
    }
}

/// The annotation of a finding at its line, under `title`.
pub(crate) fn annotation(f: &crate::model::Finding, title: String) -> Annotation {
    Annotation {
        path: f.file.clone(),
        start_line: f.line,
        end_line: f.line,
        level: match f.level {
            Level::Blocker => AnnotationLevel::Failure,
            Level::Warning => AnnotationLevel::Warning,
            Level::Info => AnnotationLevel::Notice,
        },
        title,
        message: annotation_message(f),
    }
}

fn annotation_message(f: &crate::model::Finding) -> String {
    let mut message = f.message.clone();
    for line in crate::render::text::also_lines(f) {
        message.push_str(&format!("\n{line}"));
    }
    if let Some(fix) = &f.fix {
        message.push_str(&format!("\nFix: {}", crate::render::text::fix_line(fix)));
    } else if let Some(why) = &f.no_fix_reason {
        message.push_str(&format!("\nNo automatic fix: {why}"));
    }
    message.push_str(&format!("\nLevel: {}", f.level_reason));
    message
}
