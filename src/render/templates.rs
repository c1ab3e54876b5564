//! Templated text (minijinja): the risk statement that a fix commit and a fix PR carry. The
//! wording lives in templates/ so it can be reviewed and changed without touching code; this
//! module only shapes the data the template reads.

use crate::model::{AdvisoryRef, ChangeKind, ExceptionOrigin, Finding, Level, RuleId};
use crate::remedy::Verification;
use crate::report::{ExceptionState, ExceptionStatus, Provenance, Report};
use crate::review::comments::{Placement, Placements, PlannedComment, Proposal, ReviewPlan};
use crate::review::compare::{Change, ChangeSet};
use crate::review::lines::suggestion_fence;
use minijinja::Environment;
use minijinja::value::{Serde, Value};
use serde::Serialize;
use std::sync::OnceLock;

const FIX_BODY: &str = include_str!("../../templates/fix_body.md.j2");
const CHECK_SUMMARY: &str = include_str!("../../templates/check_summary.md.j2");
const REVIEW_COMMENT: &str = include_str!("../../templates/review_comment.md.j2");
const REVIEW_BODY: &str = include_str!("../../templates/review_body.md.j2");
const PR_CHECK_SUMMARY: &str = include_str!("../../templates/pr_check_summary.md.j2");
const COMMAND_FAILED: &str = include_str!("../../templates/command_failed.md.j2");
const COMMAND_REPLY: &str = include_str!("../../templates/command_reply.md.j2");
const COMMAND_OUTCOME: &str = include_str!("../../templates/command_outcome.md.j2");
const FIX_PR_CLOSED: &str = include_str!("../../templates/fix_pr_closed.md.j2");
const FIX_PR_NOT_UPDATED: &str = include_str!("../../templates/fix_pr_not_updated.md.j2");
const FIX_COMMIT: &str = include_str!("../../templates/fix_commit.txt.j2");
const TRACKING_ISSUE: &str = include_str!("../../templates/tracking_issue.md.j2");

/// Renders template `name` with `view`. A failure is a bug in a template, so callers answer
/// with a placeholder rather than fail a scan over wording.
pub(crate) fn render<T: Serialize>(name: &str, view: &T) -> Result<String, minijinja::Error> {
    environment()
        .get_template(name)
        .and_then(|t| t.render(Value::from(Serde(view))))
}

/// The one template environment: every template in templates/, and the filters they share.
fn environment() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        env.add_filter("code", |text: String| super::text::code_span(&text));
        // The templates are compiled into the binary; a broken one is caught by the snapshot
        // tests.
        for (name, source) in [
            ("fix_body.md", FIX_BODY),
            ("check_summary.md", CHECK_SUMMARY),
            ("review_comment.md", REVIEW_COMMENT),
            ("review_body.md", REVIEW_BODY),
            ("pr_check_summary.md", PR_CHECK_SUMMARY),
            ("command_failed.md", COMMAND_FAILED),
            ("command_reply.md", COMMAND_REPLY),
            ("command_outcome.md", COMMAND_OUTCOME),
            ("fix_pr_closed.md", FIX_PR_CLOSED),
            ("fix_pr_not_updated.md", FIX_PR_NOT_UPDATED),
            ("fix_commit.txt", FIX_COMMIT),
            ("tracking_issue.md", TRACKING_ISSUE),
        ] {
            env.add_template(name, source)
                .unwrap_or_else(|e| panic!("templates/{name}.j2 is invalid: {e}"));
        }
        env
    })
}

#[cfg(test)]
mod environment_tests {
    #[test]
    fn every_template_compiles() {
        // Forces the environment, which panics on a template that does not parse.
        assert!(super::environment().templates().count() >= 10);
    }
}

#[derive(Serialize)]
struct FixBodyView<'a> {
    title: &'a str,
    fixes: Vec<FixView>,
    residual: Vec<ResidualView>,
    verification: VerificationView,
    provenance: &'a Provenance,
    commands: &'a [String],
}

/// One reason a fix carries (the finding's own or a folded one): its advisories once each, or
/// its rule when it names no advisory.
fn add_reason(
    view: &mut FixView,
    rule: &RuleId,
    level: &Level,
    message: &str,
    advisories: &[AdvisoryRef],
) {
    for a in advisories {
        if !view.advisories.iter().any(|x| x.id == a.id) {
            view.advisories.push(AdvisoryView {
                id: a.id.clone(),
                aliases: a.aliases.clone(),
                severity: a.severity.to_string(),
                score: a.cvss_score.map(|s| format!("{s:.1}")),
                summary: a.summary.clone(),
            });
        }
    }
    if advisories.is_empty() {
        view.rules.push(RuleView {
            id: rule.to_string(),
            level: level.to_string(),
            message: message.to_string(),
        });
    }
}

#[derive(Serialize)]
struct FixView {
    subject: String,
    file: String,
    line: u32,
    from: String,
    to: String,
    change: &'static str,
    risk: String,
    notes: Vec<String>,
    relock: Option<String>,
    advisories: Vec<AdvisoryView>,
    rules: Vec<RuleView>,
}

#[derive(Serialize)]
struct AdvisoryView {
    id: String,
    aliases: Vec<String>,
    severity: String,
    score: Option<String>,
    summary: String,
}

#[derive(Serialize)]
struct RuleView {
    id: String,
    level: String,
    message: String,
}

#[derive(Serialize)]
struct ResidualView {
    level: String,
    rule: String,
    subject: String,
    file: String,
    line: u32,
    why: String,
}

#[derive(Serialize)]
struct VerificationView {
    blockers_before: usize,
    blockers_after: usize,
    warnings_before: usize,
    warnings_after: usize,
    fixed: usize,
    introduced: usize,
    new_errors: usize,
}

/// What a fix risks, in one plain sentence. An image tag names a language runtime or an OS
/// release, whose minor versions make no compatibility promise (Python 3.9 → 3.14 removes
/// deprecated modules and changes behaviour), so image changes are judged on their own terms.
pub fn fix_risk(f: &Finding, kind: ChangeKind) -> &'static str {
    let image = f.ecosystem == Some(crate::model::Ecosystem::Docker)
        || f.dependency.as_deref().is_some_and(|d| d.image.is_some());
    if image {
        image_change_risk(kind)
    } else {
        change_risk(kind)
    }
}

/// What a new image tag risks: the runtime or OS release inside it changes.
pub fn image_change_risk(kind: ChangeKind) -> &'static str {
    match kind {
        ChangeKind::Patch => {
            "a patch release of the image's runtime or OS: bug and security fixes, low risk; rebuild and run the tests"
        }
        ChangeKind::Minor => {
            "a newer minor version of the image's runtime or OS: these do not promise compatibility (deprecated features are removed, defaults and behaviour change); read its release notes for every version skipped, rebuild and run the tests"
        }
        other => change_risk(other),
    }
}

/// What a change kind risks for a package whose versions follow semantic versioning.
pub fn change_risk(kind: ChangeKind) -> &'static str {
    match kind {
        ChangeKind::Patch => "a patch release: bug and security fixes only, low risk",
        ChangeKind::Minor => {
            "a minor release: new features, backwards compatible by promise; run the tests"
        }
        ChangeKind::Major => {
            "a major release: may break the build or behaviour; read the upgrade notes"
        }
        ChangeKind::Variant => "the image variant changes: OS packages and libc may differ",
        ChangeKind::Replacement => "a different image or package: review it as new code",
        ChangeKind::Digest => "the digest changes under the same tag: content updates only",
        ChangeKind::Unknown => {
            "the versions can't be compared (a floating tag): treat it as a major change"
        }
    }
}

/// The risk statement for the fixes in `fixed` (the findings whose fixes are applied), judged
/// against the re-scan in `after`.
pub fn fix_body(
    title: &str,
    fixed: &[&Finding],
    before: &Report,
    after: &Report,
    verification: &Verification,
    commands: &[String],
) -> String {
    let mut fixes: Vec<FixView> = Vec::new();
    for f in fixed {
        let Some(fix) = &f.fix else { continue };
        let view = match fixes
            .iter_mut()
            .find(|v| v.file == f.file && v.line == f.line && v.to == fix.to)
        {
            Some(v) => v,
            None => {
                fixes.push(FixView {
                    subject: f.package.clone().unwrap_or_else(|| f.subject.clone()),
                    file: f.file.clone(),
                    line: f.line,
                    from: fix.from.clone(),
                    to: fix.to.clone(),
                    change: super::text::change_label(fix.change),
                    risk: fix_risk(f, fix.change).to_string(),
                    notes: fix.notes.clone(),
                    relock: fix.relock.clone(),
                    advisories: Vec::new(),
                    rules: Vec::new(),
                });
                fixes.last_mut().expect("just pushed")
            }
        };
        add_reason(view, &f.rule, &f.level, &f.message, &f.advisory_details);
        for r in &f.also {
            add_reason(view, &r.rule, &r.level, &r.message, &r.advisory_details);
        }
    }
    let residual: Vec<ResidualView> = after
        .findings
        .iter()
        .filter(|f| f.level >= Level::Warning || !f.is_active())
        .map(|f| ResidualView {
            level: if f.is_active() {
                f.level.to_string()
            } else {
                "excepted".to_string()
            },
            rule: f.rule.to_string(),
            subject: f.subject.clone(),
            file: f.file.clone(),
            line: f.line,
            why: residual_reason(f),
        })
        .collect();
    let context = FixBodyView {
        title,
        fixes,
        residual,
        verification: VerificationView {
            blockers_before: before.summary.blockers,
            blockers_after: after.summary.blockers,
            warnings_before: before.summary.warnings,
            warnings_after: after.summary.warnings,
            fixed: verification.fixed.len(),
            introduced: verification.introduced.len(),
            new_errors: verification.new_errors.len(),
        },
        provenance: &before.provenance,
        commands,
    };
    render("fix_body.md", &context)
        .unwrap_or_else(|e| format!("{title}\n\n(the risk statement could not be rendered: {e})\n"))
}

/// Why a finding is still open after the fix, in words a reviewer can act on.
pub fn residual_reason(f: &Finding) -> String {
    if let Some(e) = &f.exception {
        return match &e.origin {
            ExceptionOrigin::Command { source, .. } => format!(
                "accepted until {} by {} in {source}: {}",
                e.expires, e.owner, e.reason
            ),
            ExceptionOrigin::Config { .. } => {
                format!("accepted until {} by {}: {}", e.expires, e.owner, e.reason)
            }
        };
    }
    if let Some(why) = &f.no_fix_reason {
        return why.clone();
    }
    if let Some(fix) = &f.fix {
        return match &fix.relock {
            Some(cmd) => format!("needs a re-lock: {cmd}"),
            None => format!(
                "a fix exists ({} → {}) but is not part of this change",
                fix.from, fix.to
            ),
        };
    }
    format!("`{}` has no automatic fix: {}", f.rule, f.message)
}

/// The commit message of `patchwright fix --branch`: a subject line, then the risk statement.
pub fn commit_message(before: &Report, after: &Report, verification: &Verification) -> String {
    let fixed: Vec<&Finding> = before
        .findings
        .iter()
        .filter(|f| f.is_active() && f.fix.as_ref().is_some_and(|x| !x.edits.is_empty()))
        .collect();
    let title = format!("patchwright: fix {} finding(s)", verification.fixed.len());
    fix_body(&title, &fixed, before, after, verification, &[])
}

#[derive(Serialize)]
struct CheckRow {
    level: String,
    rule: String,
    /// The rules folded into this finding (the same problem found by several rules).
    also: Vec<String>,
    file: String,
    line: u32,
    subject: String,
    fix: String,
}

#[derive(Serialize)]
struct CheckSummaryView<'a, P: Serialize> {
    blockers: usize,
    warnings: usize,
    info: usize,
    excepted: usize,
    files: usize,
    dependencies: usize,
    top: Vec<CheckRow>,
    more: usize,
    pulls: &'a [P],
    held_back: &'a [String],
    errors: Vec<String>,
    provenance: &'a Provenance,
    in_force: Vec<ExceptionRow>,
    expired: Vec<ExceptionRow>,
    ignored: Vec<IgnoreRow>,
}

#[derive(Serialize)]
struct ExceptionRow {
    id: String,
    expires: String,
    /// Who answers for it and where it is written or was granted.
    owner: String,
    coverage: String,
    reason: String,
}

#[derive(Serialize)]
struct IgnoreRow {
    name: String,
    scope: String,
    by: String,
    since: String,
    source: String,
    withheld: usize,
    /// The comment that undoes it, when the app's name is known.
    undo: Option<String>,
}

/// How many findings the check summary lists; the rest are counted (annotations carry them all).
pub const CHECK_SUMMARY_TOP: usize = 5;

/// The summary of a check run: counts, the top findings by level and severity, the fix PRs,
/// the exceptions and the ignored updates.
pub fn check_summary<P: Serialize>(report: &Report, pulls: &[P], held_back: &[String]) -> String {
    check_summary_for(report, pulls, held_back, None)
}

/// [`check_summary`], spelling the comment that undoes an ignore for the app `app_slug`.
pub fn check_summary_for<P: Serialize>(
    report: &Report,
    pulls: &[P],
    held_back: &[String],
    app_slug: Option<&str>,
) -> String {
    let exception_row = |e: &ExceptionStatus| ExceptionRow {
        id: e.id.clone(),
        expires: e.expires.to_string(),
        owner: super::text::exception_owner(e),
        coverage: super::text::exception_coverage(e),
        reason: e.reason.split_whitespace().collect::<Vec<_>>().join(" "),
    };
    let (expired, in_force): (Vec<&ExceptionStatus>, Vec<&ExceptionStatus>) = report
        .exceptions
        .iter()
        .partition(|e| e.state == ExceptionState::Expired);
    let ignored = report
        .ignored_updates
        .iter()
        .map(|i| IgnoreRow {
            name: i.name.clone(),
            scope: i.scope.to_string(),
            by: i.created_by.clone(),
            since: i.created_at.to_string(),
            source: i.source.clone(),
            withheld: i.withheld,
            undo: app_slug
                .map(|slug| format!("@{} unignore {}", slug.trim_start_matches('@'), i.name)),
        })
        .collect();
    let active: Vec<&Finding> = report.findings.iter().filter(|f| f.is_active()).collect();
    let top = active
        .iter()
        .take(CHECK_SUMMARY_TOP)
        .map(|f| CheckRow {
            level: f.level.to_string(),
            rule: f.rule.to_string(),
            also: f.also.iter().map(|r| r.rule.to_string()).collect(),
            file: f.file.clone(),
            line: f.line,
            subject: f.subject.clone(),
            fix: match (&f.fix, &f.no_fix_reason) {
                (Some(fix), _) => super::text::fix_line(fix),
                (None, Some(_)) => "no automatic fix (see annotation)".to_string(),
                (None, None) => "—".to_string(),
            },
        })
        .collect();
    let view = CheckSummaryView {
        blockers: report.summary.blockers,
        warnings: report.summary.warnings,
        info: report.summary.info,
        excepted: report.summary.excepted,
        files: report.summary.files,
        dependencies: report.summary.dependencies,
        top,
        more: active.len().saturating_sub(CHECK_SUMMARY_TOP),
        pulls,
        held_back,
        errors: report.errors.iter().map(ToString::to_string).collect(),
        provenance: &report.provenance,
        in_force: in_force.into_iter().map(exception_row).collect(),
        expired: expired.into_iter().map(exception_row).collect(),
        ignored,
    };
    render("check_summary.md", &view)
        .unwrap_or_else(|e| format!("(the summary could not be rendered: {e})"))
}

#[derive(Serialize)]
struct ReviewFindingView {
    marker: String,
    level: String,
    rule: String,
    subject: String,
    file: String,
    line: u32,
    message: String,
    /// The other rules folded into this finding, as `also <rule> (<level>): <message>`.
    also: Vec<String>,
    level_reason: String,
    worsened: Option<WorsenedView>,
    advisories: Vec<AdvisoryLinkView>,
    fix: Option<CommentFixView>,
    proposal: ProposalView,
    /// The id `accept-risk` takes: the first advisory, else the rule.
    accept_id: String,
}

#[derive(Serialize)]
struct WorsenedView {
    was_level: String,
    level_rose: bool,
    was_subject: String,
    new_advisories: Vec<String>,
}

#[derive(Serialize)]
struct AdvisoryLinkView {
    id: String,
    url: Option<String>,
    aliases: Vec<String>,
    severity: Option<String>,
    score: Option<String>,
    summary: String,
}

#[derive(Serialize)]
struct CommentFixView {
    from: String,
    to: String,
    change: &'static str,
    risk: &'static str,
    notes: Vec<String>,
    clears: Vec<String>,
    stays_open: Vec<String>,
}

#[derive(Serialize, Default)]
struct ProposalView {
    /// `suggestion`, `edit`, `relock` or `nothing`.
    kind: &'static str,
    fence: String,
    lines: String,
    places: Vec<String>,
    why: String,
    command: String,
    no_fix_reason: Option<String>,
}

/// The OSV page of an advisory id; `None` for an id that is not plain enough to be one (catalog
/// entries are written by hand).
fn osv_url(id: &str) -> Option<String> {
    let plain = !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'));
    plain.then(|| format!("https://osv.dev/vulnerability/{id}"))
}

fn review_finding_view(change: &Change, proposal: &Proposal) -> ReviewFindingView {
    let f = &change.finding;
    let advisories = f
        .advisories
        .iter()
        .map(|id| {
            let detail = f.advisory_details.iter().find(|a| &a.id == id);
            AdvisoryLinkView {
                id: id.clone(),
                url: osv_url(id),
                aliases: detail.map(|a| a.aliases.clone()).unwrap_or_default(),
                severity: detail.map(|a| a.severity.to_string()),
                score: detail.and_then(|a| a.cvss_score).map(|s| format!("{s:.1}")),
                summary: detail.map(|a| a.summary.clone()).unwrap_or_default(),
            }
        })
        .collect();
    let fix = f.fix.as_ref().map(|fix| CommentFixView {
        from: fix.from.clone(),
        to: fix.to.clone(),
        change: super::text::change_label(fix.change),
        risk: fix_risk(f, fix.change),
        notes: fix.notes.clone(),
        clears: fix.clears.clone(),
        // An advisory finding is gone when its advisories are; a rule finding when its rule is.
        stays_open: if f.advisories.is_empty() {
            vec![f.rule.to_string()]
        } else {
            f.advisories.clone()
        }
        .into_iter()
        .filter(|id| !fix.clears.contains(id))
        .collect(),
    });
    let proposal = match proposal {
        Proposal::Suggestion(s) => {
            // The comment is markdown: its lines end in `\n` whatever the file uses.
            let lines = s.lines.replace("\r\n", "\n");
            ProposalView {
                kind: "suggestion",
                fence: suggestion_fence(&lines),
                lines,
                ..ProposalView::default()
            }
        }
        Proposal::Edit { places, why } => ProposalView {
            kind: "edit",
            places: places.clone(),
            why: why.clone(),
            ..ProposalView::default()
        },
        Proposal::Relock(command) => ProposalView {
            kind: "relock",
            fence: suggestion_fence(command),
            command: command.clone(),
            ..ProposalView::default()
        },
        Proposal::Nothing => ProposalView {
            kind: "nothing",
            no_fix_reason: f.no_fix_reason.clone(),
            ..ProposalView::default()
        },
    };
    ReviewFindingView {
        marker: super::markers::finding(&change.identity),
        level: f.level.to_string(),
        rule: f.rule.to_string(),
        also: super::text::also_lines(f),
        subject: f.subject.clone(),
        file: f.file.clone(),
        line: f.line,
        message: f.message.clone(),
        level_reason: f.level_reason.clone(),
        worsened: change.worsened.as_ref().map(|w| WorsenedView {
            was_level: w.was_level.to_string(),
            level_rose: f.level > w.was_level,
            was_subject: w.was_subject.clone(),
            new_advisories: w.new_advisories.clone(),
        }),
        advisories,
        fix,
        proposal,
        accept_id: f
            .advisories
            .first()
            .cloned()
            .unwrap_or_else(|| f.rule.to_string()),
    }
}

#[derive(Serialize)]
struct AlsoView {
    level: String,
    rule: String,
    /// The first line of the finding's message.
    message: String,
}

#[derive(Serialize)]
struct ReviewCommentView {
    f: ReviewFindingView,
    also: Vec<AlsoView>,
    slug: String,
}

/// A review comment on one finding a pull request introduces or worsens: the hidden marker,
/// what and why, the advisories, the fix (as a suggestion when `proposal` is one), the other
/// findings the same suggestion clears, and how to accept the risk instead
/// (`@slug accept-risk`).
pub fn review_comment(
    change: &Change,
    proposal: &Proposal,
    also: &[&Change],
    slug: &str,
) -> String {
    let view = ReviewCommentView {
        f: review_finding_view(change, proposal),
        also: also
            .iter()
            .map(|c| AlsoView {
                level: c.finding.level.to_string(),
                rule: c.finding.rule.to_string(),
                message: c.finding.message.lines().next().unwrap_or("").to_string(),
            })
            .collect(),
        slug: slug.to_string(),
    };
    render("review_comment.md", &view).unwrap_or_else(|e| {
        format!(
            "{}\n{} `{}`: {}\n\n(the comment could not be rendered: {e})\n",
            view.f.marker, view.f.level, view.f.rule, view.f.message
        )
    })
}

#[derive(Serialize)]
struct ReviewBodyView {
    marker: &'static str,
    findings: Vec<ReviewFindingView>,
    more: usize,
    slug: String,
}

/// The review's own text: the new findings that no line of the diff could carry, and how many
/// placed ones were left out. Empty when there is nothing to say.
pub fn review_body(unplaced: &[(&Change, Proposal)], more: usize, slug: &str) -> String {
    if unplaced.is_empty() && more == 0 {
        return String::new();
    }
    let view = ReviewBodyView {
        marker: super::markers::REVIEW,
        findings: unplaced
            .iter()
            .map(|(change, proposal)| review_finding_view(change, proposal))
            .collect(),
        more,
        slug: slug.to_string(),
    };
    render("review_body.md", &view).unwrap_or_else(|e| {
        format!(
            "{}\n(the review could not be rendered: {e})",
            super::markers::REVIEW
        )
    })
}

/// The review as it is posted: one rendered comment per placement, and the body.
pub fn review(plan: &Placements<'_>, slug: &str) -> ReviewPlan {
    let comment = |p: &Placement<'_>| PlannedComment {
        path: p.path.clone(),
        line: p.line,
        start_line: p.start_line,
        body: review_comment(p.change, &p.proposal, &p.also, slug),
    };
    ReviewPlan {
        comments: plan.placed.iter().map(comment).collect(),
        body: review_body(&plan.unplaced, plan.more, slug),
    }
}

#[derive(Serialize)]
struct PrRow {
    level: String,
    rule: String,
    also: Vec<String>,
    file: String,
    line: u32,
    subject: String,
    fix: String,
    worsened: bool,
}

#[derive(Serialize)]
struct PrCheckView {
    blockers: usize,
    warnings: usize,
    info: usize,
    top: Vec<PrRow>,
    more: usize,
    fixed: usize,
    fixed_top: Vec<PrRow>,
    fixed_more: usize,
    unchanged: usize,
    accepted: usize,
    slug: String,
}

fn pr_row(f: &Finding, worsened: bool) -> PrRow {
    PrRow {
        level: f.level.to_string(),
        rule: f.rule.to_string(),
        also: f.also.iter().map(|r| r.rule.to_string()).collect(),
        file: f.file.clone(),
        line: f.line,
        subject: f.subject.clone(),
        fix: match (&f.fix, &f.no_fix_reason) {
            (Some(fix), _) => super::text::fix_line(fix),
            (None, Some(_)) => "no automatic fix (see annotation)".to_string(),
            (None, None) => "—".to_string(),
        },
        worsened,
    }
}

/// The summary of a pull request's check run: the top new findings, what the change fixes,
/// and how many findings the base branch already had.
pub fn pr_check_summary(changes: &ChangeSet, slug: &str) -> String {
    let view = PrCheckView {
        blockers: changes.count(Level::Blocker),
        warnings: changes.count(Level::Warning),
        info: changes.count(Level::Info),
        top: changes
            .introduced
            .iter()
            .take(CHECK_SUMMARY_TOP)
            .map(|c| pr_row(&c.finding, c.worsened.is_some()))
            .collect(),
        more: changes.introduced.len().saturating_sub(CHECK_SUMMARY_TOP),
        fixed: changes.fixed.len(),
        fixed_top: changes
            .fixed
            .iter()
            .take(CHECK_SUMMARY_TOP)
            .map(|f| pr_row(f, false))
            .collect(),
        fixed_more: changes.fixed.len().saturating_sub(CHECK_SUMMARY_TOP),
        unchanged: changes.unchanged,
        accepted: changes.accepted,
        slug: slug.to_string(),
    };
    render("pr_check_summary.md", &view)
        .unwrap_or_else(|e| format!("(the summary could not be rendered: {e})"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AppliedException, Location, RuleId};

    #[test]
    fn a_residual_finding_under_a_grant_says_who_accepted_it_and_where() {
        let mut f = Finding::new(
            RuleId::RunsAsRoot,
            Location::new("Dockerfile", 1, 1),
            "final stage",
            "runs as root",
        );
        let expires = chrono::NaiveDate::from_ymd_opt(2026, 12, 31).unwrap();
        f.exception = Some(AppliedException {
            id: "runs-as-root".into(),
            reason: "the entrypoint drops privileges".into(),
            owner: "@alice".into(),
            expires,
            origin: ExceptionOrigin::Command {
                granted_by: "alice".into(),
                granted_at: expires,
                source: "acme/shop#12 comment 345".into(),
            },
        });
        assert_eq!(
            residual_reason(&f),
            "accepted until 2026-12-31 by @alice in acme/shop#12 comment 345: the entrypoint drops privileges"
        );
    }
}
