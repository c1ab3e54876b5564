//! Packages: advisories that affect the exact version, and the catalog's minimum and bans.

use crate::catalog::osv::Advisory;
use crate::catalog::{AdvisoryDb, Catalog, Version, parse_version};
use crate::model::{AdvisoryRef, Dependency, Finding, RuleId, Severity};

pub(super) fn check(
    dependency: &Dependency,
    catalog: &Catalog,
    advisories: &AdvisoryDb,
    findings: &mut Vec<Finding>,
) {
    let Some(text) = dependency.version.as_deref() else {
        return;
    };
    // Most installed packages have no advisory and no catalog rule: those need no version
    // parsed and no subject written (on the corpus, 9 of 10 dependencies).
    let named = advisories.for_package(dependency.ecosystem, &dependency.name);
    let rule = catalog.package(dependency.ecosystem, &dependency.name);
    if named.is_empty() && rule.is_none() {
        return;
    }
    // A version the ecosystem can't parse (a git ref, a local path) cannot be matched; the parser
    // has already said what it could about it.
    let Ok(version) = parse_version(dependency.ecosystem, text) else {
        return;
    };
    let subject = format!("{}@{}", dependency.name, text);

    // What `AdvisoryDb::affecting` gives, from the list already looked up.
    let matched: Vec<&Advisory> = named
        .into_iter()
        .filter(|a| a.affects(dependency.ecosystem, &dependency.name, &version))
        .collect();
    if !matched.is_empty() {
        let refs: Vec<AdvisoryRef> = matched
            .iter()
            .map(|a| advisory_ref(a, dependency, &version))
            .collect();
        let ids: Vec<String> = refs.iter().map(|a| a.id.clone()).collect();
        let mut f = package_finding(
            RuleId::VulnerableDependency,
            dependency,
            &subject,
            format!(
                "{} {} is affected by {}",
                dependency.name,
                text,
                describe_advisories(&refs)
            ),
        );
        f.severity = refs.iter().map(|a| a.severity).max();
        f.advisories = ids;
        f.advisory_details = refs;
        findings.push(f);
    }

    if let Some(rule) = rule {
        if let Some(minimum) = &rule.minimum
            && version < *minimum
        {
            let mut message = format!(
                "{} {} is below the catalog's minimum safe version {}",
                dependency.name, text, minimum
            );
            if let Some(reason) = &rule.reason {
                message.push_str(&format!(" ({reason})"));
            }
            findings.push(package_finding(
                RuleId::DependencyBelowMinimum,
                dependency,
                &subject,
                message,
            ));
        }
        if let Some(banned) = rule.banned.iter().find(|c| c.matches(&version)) {
            let mut message = format!(
                "{} {} is banned by the catalog (`{}`)",
                dependency.name,
                text,
                banned.as_str()
            );
            if let Some(reason) = &rule.reason {
                message.push_str(&format!(": {reason}"));
            }
            if let Some(replacement) = &rule.replacement {
                message.push_str(&format!("; the approved replacement is `{replacement}`"));
            }
            findings.push(package_finding(
                RuleId::DependencyBanned,
                dependency,
                &subject,
                message,
            ));
        }
    }
}

fn package_finding(rule: RuleId, d: &Dependency, subject: &str, message: String) -> Finding {
    let mut f = Finding::new(rule, d.location.clone(), subject, message);
    f.ecosystem = Some(d.ecosystem);
    f.package = Some(d.name.clone());
    f.version = d.version.clone();
    f.dependency = Some(Box::new(d.clone()));
    f
}

pub(crate) fn advisory_ref(a: &Advisory, d: &Dependency, _version: &Version) -> AdvisoryRef {
    AdvisoryRef {
        id: a.id.clone(),
        aliases: a.aliases.clone(),
        summary: if a.summary.is_empty() {
            a.details_head.clone()
        } else {
            a.summary.clone()
        },
        severity: a.severity,
        cvss_score: a.cvss_score,
        cvss_vector: a.cvss_vector.clone(),
        fixed: a
            .fixed_versions(d.ecosystem, &d.name)
            .iter()
            .map(ToString::to_string)
            .collect(),
        url: a.url.clone(),
    }
}

/// `GHSA-… (high)` or `3 advisories: GHSA-… (high), …`.
fn describe_advisories(refs: &[AdvisoryRef]) -> String {
    let list: Vec<String> = refs
        .iter()
        .map(|a| {
            if a.severity == Severity::Unknown {
                a.id.clone()
            } else {
                format!("{} ({})", a.id, a.severity)
            }
        })
        .collect();
    if refs.len() == 1 {
        list.join("")
    } else {
        format!("{} advisories: {}", refs.len(), list.join(", "))
    }
}
