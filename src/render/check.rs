//! The check runs patchwright leaves on a commit, as data for the forge: on the default branch,
//! failure when a blocker stands, neutral for warnings only, success otherwise; on a pull
//! request, the same judged only on what the change introduces, so a pull request is not
//! blocked by problems it did not cause. Summaries from templates/, annotations at file:line.

use super::templates;
use crate::forge::hosted::{Annotation, AnnotationLevel, CheckConclusion, CheckRun};
use crate::model::Level;
use crate::report::Report;
use crate::review::compare::ChangeSet;

pub const CHECK_NAME: &str = "patchwright";

/// A pull request the scan opened or updated, for the summary.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PullNote {
    pub number: u64,
    pub title: String,
    pub action: PullAction,
}

/// What a scan did to one fix pull request. Serialized (for the check summary's template) as
/// the words [`PullAction::as_str`] gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(into = "&'static str")]
pub enum PullAction {
    Unchanged,
    Opened,
    Updated,
    /// Rebuilt from the default branch on `recreate`.
    Rebuilt,
    /// Its fix changed but a person pushed to its branch: `recreate` would rebuild it.
    NeedsRecreate,
    Closed,
}

impl PullAction {
    pub fn as_str(self) -> &'static str {
        match self {
            PullAction::Unchanged => "unchanged",
            PullAction::Opened => "opened",
            PullAction::Updated => "updated",
            PullAction::Rebuilt => "rebuilt from the default branch",
            PullAction::NeedsRecreate => "needs recreate",
            PullAction::Closed => "closed: no longer needed",
        }
    }
}

impl From<PullAction> for &'static str {
    fn from(action: PullAction) -> &'static str {
        action.as_str()
    }
}

impl std::fmt::Display for PullAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
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
fn annotation(f: &crate::model::Finding, title: String) -> Annotation {
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
        message.push_str(&format!("\nFix: {}", super::text::fix_line(fix)));
    } else if let Some(why) = &f.no_fix_reason {
        message.push_str(&format!("\nNo automatic fix: {why}"));
    }
    message.push_str(&format!("\nLevel: {}", f.level_reason));
    message
}

/// Failure on a new (or worsened) blocker, neutral on new warnings, success otherwise. The name
/// is the default-branch check's, so one required status check covers both.
pub fn pr_check_run(changes: &ChangeSet, head_sha: &str, slug: &str) -> CheckRun {
    let conclusion = if changes.count(Level::Blocker) > 0 {
        CheckConclusion::Failure
    } else if changes.count(Level::Warning) > 0 {
        CheckConclusion::Neutral
    } else {
        CheckConclusion::Success
    };
    let annotations = changes
        .introduced
        .iter()
        .map(|c| &c.finding)
        .filter(|f| f.line > 0)
        .map(|f| annotation(f, format!("new {} {}: {}", f.level, f.rule, f.subject)))
        .collect();
    CheckRun {
        name: CHECK_NAME.to_string(),
        head_sha: head_sha.to_string(),
        conclusion,
        title: title(changes),
        summary: templates::pr_check_summary(changes, slug),
        annotations,
    }
}

/// `2 new blockers, 1 new warning; fixes 3`, or `no new findings`.
fn title(changes: &ChangeSet) -> String {
    let counted = [
        (changes.count(Level::Blocker), "blocker", "blockers"),
        (changes.count(Level::Warning), "warning", "warnings"),
        (changes.count(Level::Info), "info finding", "info findings"),
    ];
    let parts: Vec<String> = counted
        .iter()
        .filter(|(n, _, _)| *n > 0)
        .map(|&(n, one, many)| format!("{n} new {}", if n == 1 { one } else { many }))
        .collect();
    let mut title = if parts.is_empty() {
        "no new findings".to_string()
    } else {
        parts.join(", ")
    };
    if !changes.fixed.is_empty() {
        title.push_str(&format!("; fixes {}", changes.fixed.len()));
    }
    title
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forge::hosted::AnnotationLevel;
    use crate::model::{Finding, Location, RuleId};
    use crate::review::compare::compare;

    fn at(rule: RuleId, level: Level, line: u32, subject: &str) -> Finding {
        let mut f = Finding::new(rule, Location::new("Dockerfile", line, 1), subject, "why");
        f.level = level;
        f.package = Some(subject.to_string());
        f
    }

    #[test]
    fn the_conclusion_follows_the_most_severe_new_finding() {
        let blocker = at(RuleId::EolBaseImage, Level::Blocker, 1, "node");
        let warning = at(RuleId::RunsAsRoot, Level::Warning, 4, "user");
        let warning2 = at(RuleId::UnapprovedBaseImage, Level::Warning, 1, "python");
        let info = at(RuleId::ImageDigestNotPinned, Level::Info, 1, "node");

        let run = pr_check_run(
            &compare(&[], &[blocker.clone(), warning.clone(), warning2.clone()]),
            "abc",
            "pw",
        );
        assert_eq!(run.conclusion, CheckConclusion::Failure);
        assert_eq!(run.title, "1 new blocker, 2 new warnings");
        assert_eq!(
            (run.name.as_str(), run.head_sha.as_str()),
            ("patchwright", "abc")
        );
        assert_eq!(run.annotations.len(), 3);
        assert_eq!(run.annotations[0].level, AnnotationLevel::Failure);
        assert_eq!(run.annotations[0].title, "new blocker eol-base-image: node");

        let run = pr_check_run(&compare(&[], &[warning.clone(), info.clone()]), "abc", "pw");
        assert_eq!(run.conclusion, CheckConclusion::Neutral);
        assert_eq!(run.title, "1 new warning, 1 new info finding");

        let run = pr_check_run(&compare(&[], std::slice::from_ref(&info)), "abc", "pw");
        assert_eq!(run.conclusion, CheckConclusion::Success);
        assert_eq!(run.annotations[0].level, AnnotationLevel::Notice);
    }

    #[test]
    fn old_findings_do_not_count_and_fixed_ones_are_told() {
        let blocker = at(RuleId::EolBaseImage, Level::Blocker, 1, "node");
        let other = at(RuleId::EolBaseImage, Level::Blocker, 8, "python");
        let run = pr_check_run(&compare(&[blocker.clone(), other], &[blocker]), "abc", "pw");
        assert_eq!(run.conclusion, CheckConclusion::Success);
        assert_eq!(run.title, "no new findings; fixes 1");
        assert!(run.annotations.is_empty());
        let run = pr_check_run(&ChangeSet::default(), "abc", "pw");
        assert_eq!(run.title, "no new findings");
    }
}
