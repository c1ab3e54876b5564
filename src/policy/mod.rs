//! Findings × org tiers × repository config × exceptions × now → blocker / warning / info.
//!
//! Pure: the date is passed in, and so is the question "is this id known?", so the same inputs
//! always give the same levels.

pub mod ignores;
pub mod org;
pub mod repo_config;
pub mod status;

pub use crate::model::ExceptionOrigin;
pub use ignores::{IgnoreRule, IgnoreScope, IgnoreStatus, apply_ignores};
pub use org::{OrgPolicy, SlaDays, Tier};
pub use repo_config::{Exception, REPO_CONFIG_PATH, RepoConfig, parse_repo_config};
pub use status::{ExceptionState, ExceptionStatus, exception_statuses};

use crate::model::{AppliedException, Finding, Level, RuleId, Severity};
use chrono::NaiveDate;

/// Gives every finding its level and applies the repository's exceptions, from its config and
/// granted in comments alike. Adds findings for exceptions that expired (they no longer
/// suppress) or, for config ones, matched nothing; [`exception_statuses`] lists every one.
/// `is_known_id` tells whether an id names a known advisory, so an exception with a typo says so.
pub fn evaluate(
    mut findings: Vec<Finding>,
    org: &OrgPolicy,
    repo: &RepoConfig,
    now: NaiveDate,
    is_known_id: &dyn Fn(&str) -> bool,
) -> Vec<Finding> {
    let (tier_name, tier) = match org.tier(repo.tier.as_deref()) {
        Some(t) => t,
        // An unknown tier was already reported when the config was parsed; the default applies.
        None => org.tier(None).unwrap_or(("built-in", &BUILT_IN_TIER)),
    };
    for finding in &mut findings {
        let (level, reason) = level_for(finding, tier_name, tier, now);
        finding.level = level;
        finding.level_reason = reason;
    }

    let mut extra = Vec::new();
    for exception in &repo.exceptions {
        let matching: Vec<usize> = findings
            .iter()
            .enumerate()
            .filter(|(_, f)| exception_covers(exception, f))
            .map(|(i, _)| i)
            .collect();
        if exception.expires < now {
            if let Some(f) = expired_finding(exception, &findings, &matching) {
                extra.push(f);
            }
            continue;
        }
        if matching.is_empty() {
            if let Some(f) = unused_finding(exception, is_known_id) {
                extra.push(f);
            }
            continue;
        }
        for i in matching {
            let f = &mut findings[i];
            if f.exception.is_none() {
                f.exception = Some(AppliedException {
                    id: exception.id.clone(),
                    reason: exception.reason.clone(),
                    owner: exception.owner.clone(),
                    expires: exception.expires,
                    origin: exception.origin.clone(),
                });
                f.level_reason = format!(
                    "{}; suppressed by an exception until {} ({}): {}",
                    f.level_reason,
                    exception.expires,
                    answerable(exception),
                    exception.reason
                );
            }
        }
    }
    for f in &mut extra {
        let (level, reason) = level_for(f, tier_name, tier, now);
        f.level = level;
        f.level_reason = reason;
    }
    findings.extend(extra);
    findings
}

/// Who answers for an exception: its owner, or who granted it and where.
fn answerable(exception: &Exception) -> String {
    match &exception.origin {
        ExceptionOrigin::Config { .. } => format!("owner {}", exception.owner),
        origin @ ExceptionOrigin::Command { .. } => origin.describe(),
    }
}

/// The finding that says an exception expired. A config exception is reported at its own line;
/// one granted in a comment has no line of its own, so it is reported at the first finding it
/// covered (in file and line order), which is where a reviewer looks. An expired grant that
/// covers nothing has nowhere to be reported and suppresses nothing: the report's list of
/// exceptions still shows it as expired.
fn expired_finding(
    exception: &Exception,
    findings: &[Finding],
    matching: &[usize],
) -> Option<Finding> {
    let (location, renew) = match &exception.origin {
        ExceptionOrigin::Config { location } => {
            (location.clone(), "renew it with a new date and reason")
        }
        ExceptionOrigin::Command { .. } => (
            matching
                .iter()
                .map(|&i| &findings[i])
                .min_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)))?
                .location
                .clone(),
            "grant it again with `accept-risk`, a new date and a reason",
        ),
    };
    Some(Finding::new(
        RuleId::ExceptionExpired,
        location,
        exception.id.clone(),
        format!(
            "the exception for `{}` ({}) expired on {}; it no longer suppresses {} finding(s). Fix them, or {renew}.",
            exception.id,
            answerable(exception),
            exception.expires,
            matching.len()
        ),
    ))
}

/// The finding that says a config exception matches nothing, at its line. One granted in a
/// comment has no line to point at; the report lists it as matching nothing instead.
fn unused_finding(exception: &Exception, is_known_id: &dyn Fn(&str) -> bool) -> Option<Finding> {
    let location = exception.location()?;
    let why = if RuleId::parse(&exception.id).is_some() || is_known_id(&exception.id) {
        "nothing in the repository matches it any more: remove it".to_string()
    } else {
        format!(
            "`{}` is neither a known advisory id nor a rule id: check the spelling",
            exception.id
        )
    };
    Some(Finding::new(
        RuleId::ExceptionUnused,
        location.clone(),
        exception.id.clone(),
        format!(
            "the exception for `{}` matched no finding; {why}",
            exception.id
        ),
    ))
}

/// Used only when the org policy has no usable tier at all.
static BUILT_IN_TIER: Tier = Tier {
    block_severity: Severity::High,
    warn_severity: Severity::Low,
    unknown_severity: Level::Warning,
    rules: std::collections::BTreeMap::new(),
};

fn level_for(finding: &Finding, tier_name: &str, tier: &Tier, now: NaiveDate) -> (Level, String) {
    if let Some(date) = finding.blocks_after
        && date <= now
    {
        return (
            Level::Blocker,
            format!("the catalog says this blocks from {date}, and today is {now}"),
        );
    }
    if let Some(level) = tier.rules.get(&finding.rule) {
        return (
            *level,
            format!("tier `{tier_name}` sets `{}` to {level}", finding.rule),
        );
    }
    match finding.rule {
        RuleId::VulnerableDependency | RuleId::VulnerableImage => {
            let severity = finding.severity.unwrap_or(Severity::Unknown);
            if severity == Severity::Unknown {
                return (
                    tier.unknown_severity,
                    format!(
                        "no severity is published; tier `{tier_name}` treats unrated advisories as {}",
                        tier.unknown_severity
                    ),
                );
            }
            let level = if severity >= tier.block_severity {
                Level::Blocker
            } else if severity >= tier.warn_severity {
                Level::Warning
            } else {
                Level::Info
            };
            let threshold = match level {
                Level::Blocker => format!("blocks at {} and above", tier.block_severity),
                Level::Warning => format!("warns at {} and above", tier.warn_severity),
                Level::Info => format!("warns only from {}", tier.warn_severity),
            };
            (
                level,
                format!("{severity} severity; tier `{tier_name}` {threshold}"),
            )
        }
        RuleId::EolBaseImage => match finding.blocks_after {
            Some(date) => (
                Level::Warning,
                format!(
                    "past end of life; the catalog's grace period ends on {date}, when it starts to block"
                ),
            ),
            None => (
                Level::Blocker,
                "past end of life, with no grace period in the catalog".to_string(),
            ),
        },
        rule => (
            rule.default_level(),
            format!("the default level of `{rule}`"),
        ),
    }
}

fn exception_covers(exception: &Exception, finding: &Finding) -> bool {
    if matches!(
        finding.rule,
        RuleId::ExceptionExpired | RuleId::ExceptionUnused
    ) {
        return false;
    }
    let id_matches = finding
        .ids()
        .any(|id| id.eq_ignore_ascii_case(&exception.id));
    let package_matches = exception
        .package
        .as_deref()
        .is_none_or(|p| finding.package.as_deref() == Some(p) || finding.subject == p);
    let path_matches = exception.path.as_deref().is_none_or(|glob| {
        globset::Glob::new(glob)
            .map(|g| g.compile_matcher().is_match(&finding.file))
            .unwrap_or(false)
    });
    id_matches && package_matches && path_matches
}

/// The day by which a blocker must be fixed, counted from the day it was first seen.
pub fn sla_due(org: &OrgPolicy, finding: &Finding, first_seen: NaiveDate) -> Option<NaiveDate> {
    if finding.level != Level::Blocker || !finding.is_active() {
        return None;
    }
    let days = org
        .sla_days
        .for_severity(finding.severity.unwrap_or(Severity::Unknown));
    first_seen.checked_add_days(chrono::Days::new(days.into()))
}

#[cfg(test)]
mod tests;
