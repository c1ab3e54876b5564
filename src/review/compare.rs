//! What a change brings: the head scan against the base scan. Findings are matched by what they
//! are about (rule, file, package or subject), never by line, so an edit above a finding does not
//! make it look new.

use crate::model::{Finding, Level, RuleId};
use crate::pipeline::urgency;
use std::collections::BTreeMap;

/// The difference between two scans, as a pull request review reports it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChangeSet {
    /// Head findings the base did not have, or had in a milder form; most urgent first.
    pub introduced: Vec<Change>,
    /// Base findings that are gone from the head; most urgent first.
    pub fixed: Vec<Finding>,
    /// Head findings the base already had, no worse.
    pub unchanged: usize,
    /// Base findings that the head still has, but under an exception the change added.
    pub accepted: usize,
}

/// One finding the change introduces or worsens.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// The finding as the head scan reports it.
    pub finding: Finding,
    /// Stable across scans and line moves, and safe inside an HTML comment: the marker that lets
    /// a later run recognise the comment it left for this finding.
    pub identity: String,
    /// `None` when the base had nothing like it.
    pub worsened: Option<Worsened>,
}

/// How the base had the finding, when the change made it worse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Worsened {
    pub was_level: Level,
    /// The subject on the base (`lodash@4.17.20` before a change to `4.17.19`).
    pub was_subject: String,
    /// Advisory ids the head is affected by that the base was not.
    pub new_advisories: Vec<String>,
}

impl ChangeSet {
    /// How many introduced or worsened findings have `level`.
    pub fn count(&self, level: Level) -> usize {
        self.introduced
            .iter()
            .filter(|c| c.finding.level == level)
            .count()
    }
}

/// Compares two scans of the same repository. Only active findings count: an excepted finding on
/// the base is as good as absent, so a change that drops an exception introduces its finding.
pub fn compare(base: &[Finding], head: &[Finding]) -> ChangeSet {
    let mut groups: BTreeMap<Key<'_>, Group<'_>> = BTreeMap::new();
    for f in base.iter().filter(|f| f.is_active()) {
        groups.entry(key(f)).or_default().base.push(f);
    }
    // Excepted head findings take part in the matching, so that a base finding the change
    // accepts is not reported as fixed.
    for f in head {
        groups.entry(key(f)).or_default().head.push(f);
    }

    let mut set = ChangeSet::default();
    for (key, group) in &groups {
        let pairs = pair(group);
        for (i, h) in group.head.iter().enumerate() {
            let partner = pairs[i].map(|j| group.base[j]);
            match (h.is_active(), partner) {
                (true, None) => set.introduced.push(Change {
                    finding: (*h).clone(),
                    identity: identity(key, i),
                    worsened: None,
                }),
                (true, Some(b)) => match worsening(b, h) {
                    Some(worse) => set.introduced.push(Change {
                        finding: (*h).clone(),
                        identity: identity(key, i),
                        worsened: Some(worse),
                    }),
                    None => set.unchanged += 1,
                },
                (false, Some(_)) => set.accepted += 1,
                (false, None) => {}
            }
        }
        for (j, b) in group.base.iter().enumerate() {
            if !pairs.contains(&Some(j)) {
                set.fixed.push((*b).clone());
            }
        }
    }
    set.introduced
        .sort_by(|a, b| urgency(&a.finding, &b.finding));
    set.fixed.sort_by(urgency);
    set
}

/// Rule, file, and the package when there is one (its version may change: the finding is still
/// about the same package), else the subject.
type Key<'a> = (RuleId, &'a str, &'a str);

fn key(f: &Finding) -> Key<'_> {
    let name = f.package.as_deref().unwrap_or(&f.subject);
    (f.rule, &f.file, name)
}

#[derive(Default)]
struct Group<'a> {
    base: Vec<&'a Finding>,
    head: Vec<&'a Finding>,
}

/// For each head finding of a group, the base finding it continues. One file can hold the same
/// package several times (two stages on `node`), so the same subject is matched first, then the
/// rest in order of appearance.
fn pair(group: &Group<'_>) -> Vec<Option<usize>> {
    let mut pairs: Vec<Option<usize>> = vec![None; group.head.len()];
    let mut taken = vec![false; group.base.len()];
    for (i, h) in group.head.iter().enumerate() {
        if let Some(j) =
            (0..group.base.len()).find(|&j| !taken[j] && group.base[j].subject == h.subject)
        {
            taken[j] = true;
            pairs[i] = Some(j);
        }
    }
    for pair in pairs.iter_mut().filter(|p| p.is_none()) {
        if let Some(j) = (0..group.base.len()).find(|&j| !taken[j]) {
            taken[j] = true;
            *pair = Some(j);
        }
    }
    pairs
}

/// Worse means a higher level, or an advisory the base version was not affected by.
fn worsening(base: &Finding, head: &Finding) -> Option<Worsened> {
    let new_advisories: Vec<String> = head
        .advisories
        .iter()
        .filter(|a| !base.ids().any(|id| id == a.as_str()))
        .cloned()
        .collect();
    (head.level > base.level || !new_advisories.is_empty()).then(|| Worsened {
        was_level: base.level,
        was_subject: base.subject.clone(),
        new_advisories,
    })
}

/// `eol-base-image|web/Dockerfile|node`, with `#2`, `#3` for further findings of the same key.
/// Anything outside a small safe set is percent-encoded, so the identity never contains `-->`
/// or whitespace and can sit inside an HTML comment.
fn identity(key: &Key<'_>, occurrence: usize) -> String {
    let (rule, file, name) = key;
    let mut out = format!("{}|{}|{}", rule.as_str(), encode(file), encode(name));
    if occurrence > 0 {
        out.push_str(&format!("#{}", occurrence + 1));
    }
    out
}

fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b".-_/@:+=~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AppliedException, Location, Severity};

    fn finding(rule: RuleId, file: &str, line: u32, package: &str, version: &str) -> Finding {
        let mut f = Finding::new(
            rule,
            Location::new(file, line, 1),
            format!("{package}@{version}"),
            format!("{package} {version} is a problem"),
        );
        f.package = Some(package.to_string());
        f.version = Some(version.to_string());
        f
    }

    fn vulnerable(line: u32, package: &str, version: &str, advisories: &[&str]) -> Finding {
        let mut f = finding(
            RuleId::VulnerableDependency,
            "package-lock.json",
            line,
            package,
            version,
        );
        f.advisories = advisories.iter().map(|a| a.to_string()).collect();
        f.severity = Some(Severity::High);
        f
    }

    fn excepted(mut f: Finding) -> Finding {
        f.exception = Some(AppliedException {
            id: f.rule.as_str().to_string(),
            reason: "accepted".to_string(),
            owner: "alice".to_string(),
            expires: chrono::NaiveDate::from_ymd_opt(2030, 1, 1).unwrap(),
            origin: crate::model::ExceptionOrigin::Config {
                location: Location::new(".patchwright.toml", 3, 1),
            },
        });
        f
    }

    #[test]
    fn a_finding_that_only_moved_lines_is_unchanged() {
        let base = [vulnerable(10, "lodash", "4.17.20", &["GHSA-1"])];
        let head = [vulnerable(42, "lodash", "4.17.20", &["GHSA-1"])];
        let set = compare(&base, &head);
        assert!(set.introduced.is_empty(), "{:?}", set.introduced);
        assert!(set.fixed.is_empty());
        assert_eq!(set.unchanged, 1);
    }

    #[test]
    fn a_new_finding_is_introduced_and_a_gone_one_fixed() {
        let base = [vulnerable(10, "lodash", "4.17.20", &["GHSA-1"])];
        let head = [vulnerable(10, "minimist", "1.2.5", &["GHSA-2"])];
        let set = compare(&base, &head);
        assert_eq!(set.introduced.len(), 1);
        assert_eq!(set.introduced[0].finding.subject, "minimist@1.2.5");
        assert_eq!(set.introduced[0].worsened, None);
        assert_eq!(set.fixed.len(), 1);
        assert_eq!(set.fixed[0].subject, "lodash@4.17.20");
        assert_eq!(set.unchanged, 0);
    }

    #[test]
    fn a_version_vulnerable_to_more_is_worsened() {
        let base = [vulnerable(10, "lodash", "4.17.20", &["GHSA-1"])];
        let head = [vulnerable(10, "lodash", "4.17.11", &["GHSA-1", "GHSA-3"])];
        let set = compare(&base, &head);
        assert_eq!(set.introduced.len(), 1);
        assert_eq!(
            set.introduced[0].worsened,
            Some(Worsened {
                was_level: Level::Blocker,
                was_subject: "lodash@4.17.20".to_string(),
                new_advisories: vec!["GHSA-3".to_string()],
            })
        );
        assert!(set.fixed.is_empty());
    }

    #[test]
    fn a_version_vulnerable_to_less_is_not_worsened() {
        let base = [vulnerable(10, "lodash", "4.17.11", &["GHSA-1", "GHSA-3"])];
        let head = [vulnerable(10, "lodash", "4.17.20", &["GHSA-1"])];
        let set = compare(&base, &head);
        assert!(set.introduced.is_empty());
        assert_eq!(set.unchanged, 1);
    }

    #[test]
    fn an_advisory_known_by_its_alias_on_the_base_is_not_new() {
        let mut base = vulnerable(10, "lodash", "4.17.20", &["GHSA-1"]);
        base.advisory_details.push(crate::model::AdvisoryRef {
            id: "GHSA-1".to_string(),
            aliases: vec!["CVE-2020-1".to_string()],
            summary: String::new(),
            severity: Severity::High,
            cvss_score: None,
            cvss_vector: None,
            fixed: Vec::new(),
            url: None,
        });
        let head = vulnerable(10, "lodash", "4.17.20", &["CVE-2020-1"]);
        let set = compare(&[base], &[head]);
        assert!(set.introduced.is_empty());
    }

    #[test]
    fn a_higher_level_is_worsened() {
        let mut base = finding(RuleId::EolBaseImage, "Dockerfile", 1, "node", "20");
        base.level = Level::Warning;
        let head = finding(RuleId::EolBaseImage, "Dockerfile", 1, "node", "16");
        let set = compare(&[base], &[head]);
        assert_eq!(set.introduced.len(), 1);
        let worse = set.introduced[0].worsened.as_ref().unwrap();
        assert_eq!(worse.was_level, Level::Warning);
        assert_eq!(worse.was_subject, "node@20");
        assert!(worse.new_advisories.is_empty());
    }

    #[test]
    fn a_lower_level_is_unchanged() {
        let base = finding(RuleId::EolBaseImage, "Dockerfile", 1, "node", "16");
        let mut head = base.clone();
        head.level = Level::Warning;
        let set = compare(&[base], &[head]);
        assert!(set.introduced.is_empty());
        assert_eq!(set.unchanged, 1);
    }

    #[test]
    fn the_same_package_in_another_file_is_another_finding() {
        let base = [finding(
            RuleId::EolBaseImage,
            "a/Dockerfile",
            1,
            "node",
            "16",
        )];
        let head = [
            finding(RuleId::EolBaseImage, "a/Dockerfile", 1, "node", "16"),
            finding(RuleId::EolBaseImage, "b/Dockerfile", 1, "node", "16"),
        ];
        let set = compare(&base, &head);
        assert_eq!(set.introduced.len(), 1);
        assert_eq!(set.introduced[0].finding.file, "b/Dockerfile");
        assert_eq!(set.unchanged, 1);
    }

    #[test]
    fn a_second_stage_on_the_same_image_is_matched_by_subject_first() {
        // Base: one stage on node:16. Head: a new stage on node:16 above it, so the old one
        // moved down; and the old one changed to node:14. Whatever moved, one is new.
        let base = [finding(RuleId::EolBaseImage, "Dockerfile", 1, "node", "16")];
        let head = [
            finding(RuleId::EolBaseImage, "Dockerfile", 1, "node", "14"),
            finding(RuleId::EolBaseImage, "Dockerfile", 5, "node", "16"),
        ];
        let set = compare(&base, &head);
        assert_eq!(set.introduced.len(), 1);
        assert_eq!(set.introduced[0].finding.subject, "node@14");
        assert_eq!(set.unchanged, 1);
        // The identity of the second finding of a key gets a suffix, so both are unique.
        let both = compare(&[], &head);
        let ids: Vec<&str> = both
            .introduced
            .iter()
            .map(|c| c.identity.as_str())
            .collect();
        assert_eq!(
            ids,
            [
                "eol-base-image|Dockerfile|node",
                "eol-base-image|Dockerfile|node#2"
            ]
        );
    }

    #[test]
    fn exceptions_count_on_both_sides() {
        let f = vulnerable(10, "lodash", "4.17.20", &["GHSA-1"]);
        // The change removes an exception: the finding is new to this change.
        let set = compare(&[excepted(f.clone())], std::slice::from_ref(&f));
        assert_eq!(set.introduced.len(), 1);
        // The change adds an exception: neither fixed nor introduced, but accepted.
        let set = compare(std::slice::from_ref(&f), &[excepted(f.clone())]);
        assert!(set.introduced.is_empty());
        assert!(set.fixed.is_empty());
        assert_eq!(set.accepted, 1);
        // Excepted on both sides: nothing at all.
        let set = compare(&[excepted(f.clone())], &[excepted(f)]);
        assert_eq!(set, ChangeSet::default());
    }

    #[test]
    fn introduced_findings_are_most_urgent_first() {
        let mut info = finding(
            RuleId::ImageDigestNotPinned,
            "a/Dockerfile",
            1,
            "node",
            "22",
        );
        info.level = Level::Info;
        let mut warning = finding(RuleId::UnapprovedBaseImage, "a/Dockerfile", 1, "node", "22");
        warning.level = Level::Warning;
        let mut medium = vulnerable(5, "minimist", "1.2.5", &["GHSA-2"]);
        medium.severity = Some(Severity::Medium);
        let critical = {
            let mut f = vulnerable(9, "lodash", "4.17.20", &["GHSA-1"]);
            f.severity = Some(Severity::Critical);
            f
        };
        let head = [info, warning, medium, critical];
        let set = compare(&[], &head);
        let order: Vec<&str> = set
            .introduced
            .iter()
            .map(|c| c.finding.subject.as_str())
            .collect();
        assert_eq!(
            order,
            ["lodash@4.17.20", "minimist@1.2.5", "node@22", "node@22"]
        );
        assert_eq!(set.introduced[2].finding.rule, RuleId::UnapprovedBaseImage);
        // The same order as the pipeline's.
        let mut sorted = head.to_vec();
        crate::pipeline::sort_findings(&mut sorted);
        let expected: Vec<&Finding> = sorted.iter().collect();
        let got: Vec<&Finding> = set.introduced.iter().map(|c| &c.finding).collect();
        assert_eq!(got, expected);
        assert_eq!(set.count(Level::Blocker), 2);
        assert_eq!(set.count(Level::Warning), 1);
        assert_eq!(set.count(Level::Info), 1);
    }

    #[test]
    fn identities_are_safe_inside_an_html_comment() {
        let f = finding(
            RuleId::RunsAsRoot,
            "odd dir/--> x/Dockerfile",
            1,
            "final stage user",
            "",
        );
        let set = compare(&[], &[f]);
        let id = &set.introduced[0].identity;
        assert_eq!(
            id,
            "runs-as-root|odd%20dir/--%3E%20x/Dockerfile|final%20stage%20user"
        );
        assert!(!id.contains("-->") && !id.contains(char::is_whitespace));
    }
}
