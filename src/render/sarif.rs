//! SARIF 2.1.0, so GitHub code scanning (and any other SARIF reader) can ingest a scan.
//!
//! Built with `serde-sarif`, whose types are generated from the official SARIF schema, so a
//! misspelt property cannot compile.

use crate::model::{Finding, Level, RuleId};
use crate::report::Report;
use serde_sarif::sarif::{
    ArtifactLocation, Location, Message, MultiformatMessageString, PhysicalLocation, PropertyBag,
    Region, ReportingDescriptor, Result as SarifResult, ResultLevel, Run, Sarif, Suppression, Tool,
    ToolComponent,
};
use std::collections::{BTreeMap, HashMap};

pub const SARIF_SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

pub fn report(report: &Report) -> String {
    let rules: Vec<ReportingDescriptor> = RuleId::ALL.iter().map(|r| descriptor(*r)).collect();
    let driver = ToolComponent::builder()
        .name("patchwright")
        .version(report.provenance.tool_version.clone())
        .information_uri("https://github.com/patchwright/patchwright")
        .rules(rules)
        .build();
    let fingerprints = fingerprints(&report.findings);
    let results: Vec<SarifResult> = report
        .findings
        .iter()
        .zip(fingerprints)
        .map(|(f, fingerprint)| result(f, fingerprint))
        .collect();
    let run = Run::builder()
        .tool(Tool::builder().driver(driver).build())
        .results(results)
        .build();
    let sarif = Sarif::builder()
        .schema(SARIF_SCHEMA)
        .version(serde_json::json!("2.1.0"))
        .runs(vec![run])
        .build();
    let mut out = serde_json::to_string_pretty(&sarif).unwrap_or_default();
    out.push('\n');
    out
}

fn descriptor(rule: RuleId) -> ReportingDescriptor {
    ReportingDescriptor::builder()
        .id(rule.as_str())
        .short_description(
            MultiformatMessageString::builder()
                .text(rule.description())
                .build(),
        )
        .help_uri(format!(
            "https://github.com/patchwright/patchwright#{}",
            rule.as_str()
        ))
        .build()
}

/// The result's level is the finding's, excepted or not: an accepted risk keeps its weight, and
/// its `suppressions` entry is what tells code scanning it was accepted.
fn sarif_level(finding: &Finding) -> ResultLevel {
    match finding.level {
        Level::Blocker => ResultLevel::Error,
        Level::Warning => ResultLevel::Warning,
        Level::Info => ResultLevel::Note,
    }
}

/// One partial fingerprint per finding, unique within the run and stable across runs: rule,
/// file and subject (which names the version or tag, so two versions of a package in one
/// lockfile differ), without the line (so an alert survives lines moving above it). Findings
/// that still share all three (one package at one version nested twice in a lockfile) are told
/// apart by their order in the file.
pub fn fingerprints(findings: &[Finding]) -> Vec<String> {
    let base = |f: &Finding| format!("{}:{}:{}", f.rule, f.file, f.subject);
    let mut order: Vec<usize> = (0..findings.len()).collect();
    order.sort_by_key(|&i| {
        (
            base(&findings[i]),
            findings[i].line,
            findings[i].location.column,
        )
    });
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut out = vec![String::new(); findings.len()];
    for i in order {
        let key = base(&findings[i]);
        let n = seen.entry(key.clone()).or_default();
        *n += 1;
        out[i] = if *n == 1 { key } else { format!("{key}#{n}") };
    }
    out
}

/// An excepted finding is reported as suppressed, with the exception's reason.
fn suppressions(finding: &Finding) -> Option<Vec<Suppression>> {
    let e = finding.exception.as_ref()?;
    Some(vec![
        Suppression::builder()
            .kind(serde_json::json!("external"))
            .status(serde_json::json!("accepted"))
            .justification(e.reason.clone())
            .properties(
                PropertyBag::builder()
                    .additional_properties(BTreeMap::from([
                        ("owner".to_string(), serde_json::json!(e.owner)),
                        ("expires".to_string(), serde_json::json!(e.expires)),
                        ("origin".to_string(), serde_json::json!(e.origin.describe())),
                    ]))
                    .build(),
            )
            .build(),
    ])
}

fn result(finding: &Finding, fingerprint: String) -> SarifResult {
    let mut text = format!("{}: {}", finding.subject, finding.message);
    for line in super::text::also_lines(finding) {
        text.push_str(&format!(" ({line}.)"));
    }
    if let Some(fix) = &finding.fix {
        text.push_str(&format!(" Fix: {}.", super::text::fix_line(fix)));
    } else if let Some(why) = &finding.no_fix_reason {
        text.push_str(&format!(" No automatic fix: {why}."));
    }
    let mut region = Region::builder()
        .start_line(i64::from(finding.line.max(1)))
        .build();
    if finding.location.column > 0 {
        region.start_column = Some(i64::from(finding.location.column));
    }
    let location = Location::builder()
        .physical_location(
            PhysicalLocation::builder()
                .artifact_location(
                    ArtifactLocation::builder()
                        .uri(finding.file.clone())
                        .build(),
                )
                .region(region)
                .build(),
        )
        .build();
    let mut properties = BTreeMap::new();
    properties.insert(
        "level".to_string(),
        serde_json::json!(finding.level.as_str()),
    );
    if !finding.advisories.is_empty() {
        properties.insert(
            "advisories".to_string(),
            serde_json::json!(finding.advisories),
        );
    }
    if !finding.also.is_empty() {
        let also: Vec<&str> = finding.also.iter().map(|r| r.rule.as_str()).collect();
        properties.insert("also".to_string(), serde_json::json!(also));
    }
    if let Some(severity) = finding.severity {
        properties.insert("severity".to_string(), serde_json::json!(severity.as_str()));
    }
    let mut result = SarifResult::builder()
        .rule_id(finding.rule.as_str())
        .level(sarif_level(finding))
        .message(Message::builder().text(text).build())
        .locations(vec![location])
        .partial_fingerprints(BTreeMap::from([(
            "patchwright/v1".to_string(),
            fingerprint,
        )]))
        .properties(
            PropertyBag::builder()
                .additional_properties(properties)
                .build(),
        )
        .build();
    result.suppressions = suppressions(finding);
    result
}
