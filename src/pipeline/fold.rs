//! One problem, one finding. A package that is vulnerable, banned and below the minimum is one
//! problem with one fix; reporting it three times made "12 fixable" mean 8 changes. Findings of
//! the same dependency that share their outcome (the same fix, or the same reason there is
//! none) are folded into the most urgent of them, which carries the others as [`Reason`]s.

use crate::model::{Finding, Reason};
use std::collections::HashMap;

/// Folds duplicates. `findings` must be in urgency order (see [`super::sort_findings`]), so
/// the finding that leads is the most urgent and an active reason is never hidden behind a
/// suppressed one; the order of the leads is kept.
pub fn fold(findings: Vec<Finding>) -> Vec<Finding> {
    let mut out: Vec<Finding> = Vec::with_capacity(findings.len());
    let mut leads: HashMap<(String, u32, u32, String), Vec<usize>> = HashMap::new();
    for finding in findings {
        let key = finding
            .dependency
            .as_deref()
            .filter(|_| {
                crate::remedy::fixable_rule(finding.rule)
                    // Digest pins and refreshes have fixes only with registry facts; then
                    // they ride along with the tag change of the same image.
                    || (matches!(
                        finding.rule,
                        crate::model::RuleId::ImageDigestNotPinned
                            | crate::model::RuleId::ImageDigestRefresh
                    ) && finding.fix.is_some())
            })
            .filter(|_| finding.fix.is_some() || finding.no_fix_reason.is_some())
            .map(|d| {
                (
                    d.location.file.clone(),
                    d.location.line,
                    d.location.column,
                    d.name.clone(),
                )
            });
        let Some(key) = key else {
            out.push(finding);
            continue;
        };
        let same = leads.get(&key).and_then(|indices| {
            indices.iter().copied().find(|&i| {
                out[i].fix == finding.fix && out[i].no_fix_reason == finding.no_fix_reason
            })
        });
        match same {
            Some(i) => out[i].also.push(Reason::from(finding)),
            None => {
                leads.entry(key).or_default().push(out.len());
                out.push(finding);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{
        ChangeKind, Dependency, DependencyKind, Ecosystem, EditMode, Fix, Level, Location, RuleId,
    };

    fn dep(line: u32) -> Dependency {
        Dependency {
            ecosystem: Ecosystem::PyPI,
            name: "urllib3".to_string(),
            version: Some("1.26.5".to_string()),
            digest: None,
            kind: DependencyKind::Direct,
            location: Location::new("requirements.txt", line, 1),
            version_spans: Vec::new(),
            image: None,
            edit_mode: EditMode::InPlace,
        }
    }

    fn finding(rule: RuleId, level: Level, line: u32, to: &str) -> Finding {
        let d = dep(line);
        let mut f = Finding::new(rule, d.location.clone(), "urllib3@1.26.5", rule.as_str());
        f.level = level;
        f.dependency = Some(Box::new(d));
        f.fix = Some(Fix {
            from: "1.26.5".to_string(),
            to: to.to_string(),
            change: ChangeKind::Patch,
            edits: Vec::new(),
            relock: None,
            clears: Vec::new(),
            notes: Vec::new(),
        });
        f
    }

    #[test]
    fn one_dependency_with_one_fix_is_one_finding_carrying_every_rule() {
        let folded = fold(vec![
            finding(RuleId::VulnerableDependency, Level::Blocker, 4, "1.26.18"),
            finding(RuleId::DependencyBanned, Level::Blocker, 4, "1.26.18"),
            // Another line, or another fix: another problem.
            finding(RuleId::DependencyBanned, Level::Blocker, 9, "1.26.18"),
            finding(RuleId::DependencyBelowMinimum, Level::Warning, 4, "2.0.0"),
            // A rule no fix addresses stays its own finding.
            finding(RuleId::RunsAsRoot, Level::Warning, 4, "1.26.18"),
        ]);
        let shape: Vec<(RuleId, u32, Vec<RuleId>)> = folded
            .iter()
            .map(|f| (f.rule, f.line, f.also.iter().map(|r| r.rule).collect()))
            .collect();
        assert_eq!(
            shape,
            [
                (
                    RuleId::VulnerableDependency,
                    4,
                    vec![RuleId::DependencyBanned]
                ),
                (RuleId::DependencyBanned, 9, vec![]),
                (RuleId::DependencyBelowMinimum, 4, vec![]),
                (RuleId::RunsAsRoot, 4, vec![]),
            ]
        );
        assert!(folded[0].ids().any(|id| id == "dependency-banned"));
    }
}
