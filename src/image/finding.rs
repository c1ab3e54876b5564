//! The `vulnerable-image` finding for a base image whose OS packages have advisories: the
//! count by severity and the worst advisories, with the recommendation as the way out. The
//! policy gives it its level from the worst severity, as it does for packages. Pure.

use super::advisories::OsAdvisories;
use super::recommend::Recommendation;
use crate::model::{AdvisoryRef, Finding, Location, RuleId, Severity};

/// How many advisories a finding names; the rest are counted.
pub const WORST_LISTED: usize = 5;

/// The finding for image `subject` (`debian:12.4` at its `FROM` line); `None` when its OS
/// packages have no advisories.
pub fn image_finding(
    subject: &str,
    location: Location,
    found: &OsAdvisories,
    recommendation: Option<&Recommendation>,
) -> Option<Finding> {
    let worst = found.worst(WORST_LISTED);
    let top = worst.first()?;
    let counts: Vec<String> = found
        .counts()
        .iter()
        .map(|(s, n)| format!("{n} {}", severity_word(*s)))
        .collect();
    let total = found.ids().len();
    let named: Vec<String> = worst
        .iter()
        .map(|a| format!("{} ({} {})", a.id, a.package, a.installed))
        .collect();
    let mut message = format!(
        "`{subject}` has {total} OS package advisories ({}); worst: {}",
        counts.join(", "),
        named.join(", ")
    );
    if total > worst.len() {
        message.push_str(&format!(" and {} more", total - worst.len()));
    }
    let mut finding = Finding::new(RuleId::VulnerableImage, location, subject, message);
    finding.severity = Some(top.severity);
    finding.advisories = worst.iter().map(|a| a.id.clone()).collect();
    finding.advisory_details = worst
        .iter()
        .map(|a| AdvisoryRef {
            id: a.id.clone(),
            aliases: a.aliases.clone(),
            summary: a.summary.clone(),
            severity: a.severity,
            cvss_score: a.cvss_score,
            cvss_vector: None,
            fixed: a.fixed.iter().cloned().collect(),
            url: None,
        })
        .collect();
    finding.no_fix_reason = match recommendation {
        Some(r) if r.to.is_some() => None,
        Some(r) => Some(r.sentence.clone()),
        None => Some("no candidate image was compared".to_string()),
    };
    Some(finding)
}

fn severity_word(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "critical",
        Severity::High => "high",
        Severity::Medium => "medium",
        Severity::Low => "low",
        Severity::Unknown => "unrated",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::advisories::ImageAdvisory;

    fn advisory(id: &str, severity: Severity, fixed: Option<&str>) -> ImageAdvisory {
        ImageAdvisory {
            id: id.to_string(),
            aliases: Vec::new(),
            severity,
            cvss_score: None,
            summary: String::new(),
            package: "openssl".to_string(),
            installed: "3.0.11-1~deb12u1".to_string(),
            binaries: vec!["libssl3".to_string()],
            fixed: fixed.map(str::to_string),
        }
    }

    #[test]
    fn counts_by_severity_and_names_the_worst() {
        let found = OsAdvisories {
            advisories: vec![
                advisory("DSA-2", Severity::Critical, Some("3.0.13-1~deb12u1")),
                advisory("DSA-1", Severity::High, None),
                advisory("DSA-3", Severity::Low, None),
            ],
            notes: Vec::new(),
        };
        let location = Location {
            file: "Dockerfile".to_string(),
            line: 1,
            ..Location::default()
        };
        let f = image_finding("debian:12.4", location, &found, None).unwrap();
        assert_eq!(f.rule, RuleId::VulnerableImage);
        assert_eq!(f.severity, Some(Severity::Critical));
        assert_eq!(
            f.message,
            "`debian:12.4` has 3 OS package advisories (1 critical, 1 high, 1 low); worst: DSA-2 (openssl 3.0.11-1~deb12u1), DSA-1 (openssl 3.0.11-1~deb12u1), DSA-3 (openssl 3.0.11-1~deb12u1)"
        );
        assert_eq!(f.advisories, ["DSA-2", "DSA-1", "DSA-3"]);
        assert!(image_finding("x", Location::default(), &OsAdvisories::default(), None).is_none());
    }
}
