//! An advisory's severity: the CVSS base score computed from its vector when it has one (with
//! RustSec's `cvss` crate), else the database's own label, else unknown.

use std::str::FromStr;

use crate::model::Severity;

/// What the advisory says about how bad it is, after reading it once.
#[derive(Debug, Clone, PartialEq)]
pub struct SeverityInfo {
    pub severity: Severity,
    /// The CVSS base score, when a vector was given and parses.
    pub score: Option<f64>,
    /// The vector the score came from, as written.
    pub vector: Option<String>,
}

impl SeverityInfo {
    pub const UNKNOWN: SeverityInfo = SeverityInfo {
        severity: Severity::Unknown,
        score: None,
        vector: None,
    };
}

/// The base score of a CVSS v3.x or v4.0 vector; `None` for other versions (v2 scores mean
/// something else) and for vectors that do not parse.
pub fn cvss_base_score(vector: &str) -> Option<f64> {
    let vector = vector.trim();
    if vector.starts_with("CVSS:3.") {
        cvss::v3::Vector::from_str(vector)
            .ok()
            .map(|v| v.base_score().value())
    } else if vector.starts_with("CVSS:4.") {
        cvss::v4::Vector::from_str(vector)
            .ok()
            .map(|v| v.score().value())
    } else {
        None
    }
}

/// Picks the severity from OSV `severity[]` entries (`(type, score)` pairs) and the database's
/// labels (`database_specific.severity`: LOW / MODERATE / HIGH / CRITICAL).
///
/// CVSS v3 vectors come first because policy thresholds are written against v3 scores; v4 only
/// when no v3 vector parses. Among several vectors of one kind the highest score wins: an
/// advisory is as bad as its worst reading. Vectors that do not parse are passed over (the
/// label still gives a severity) rather than rejecting the whole advisory.
pub fn severity_of<'a>(
    entries: impl IntoIterator<Item = (&'a str, &'a str)>,
    labels: impl IntoIterator<Item = &'a str>,
) -> SeverityInfo {
    let mut v3: Option<(f64, &str)> = None;
    let mut v4: Option<(f64, &str)> = None;
    for (kind, vector) in entries {
        let slot = match kind {
            "CVSS_V3" => &mut v3,
            "CVSS_V4" => &mut v4,
            _ => continue,
        };
        if let Some(score) = cvss_base_score(vector) {
            if slot.is_none_or(|(best, _)| score > best) {
                *slot = Some((score, vector));
            }
        }
    }
    if let Some((score, vector)) = v3.or(v4) {
        return SeverityInfo {
            severity: Severity::from_score(score),
            score: Some(score),
            vector: Some(vector.trim().to_string()),
        };
    }
    let label = labels.into_iter().filter_map(Severity::parse).max();
    SeverityInfo {
        severity: label.unwrap_or(Severity::Unknown),
        score: None,
        vector: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v3_vectors_score_per_the_specification() {
        // FIRST's calculator gives 9.8 and 7.2 for these two.
        assert_eq!(
            cvss_base_score("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"),
            Some(9.8)
        );
        assert_eq!(
            cvss_base_score("CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H"),
            Some(7.2)
        );
        assert_eq!(cvss_base_score("AV:N/AC:L/Au:N/C:P/I:P/A:P"), None);
        assert_eq!(cvss_base_score("CVSS:3.1/AV:N/garbage"), None);
    }

    #[test]
    fn v4_vectors_score_too() {
        // FIRST's v4 calculator: 9.3 (Critical).
        assert_eq!(
            cvss_base_score("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"),
            Some(9.3)
        );
    }

    #[test]
    fn falls_back_from_vector_to_label_to_unknown() {
        let info = severity_of(
            [("CVSS_V3", "CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H")],
            ["CRITICAL"],
        );
        assert_eq!(info.severity, Severity::High);
        assert_eq!(info.score, Some(7.2));
        let info = severity_of([("CVSS_V3", "not a vector")], ["MODERATE"]);
        assert_eq!(info.severity, Severity::Medium);
        assert_eq!(info.score, None);
        assert_eq!(severity_of([], ["whatever"]), SeverityInfo::UNKNOWN);
    }
}
