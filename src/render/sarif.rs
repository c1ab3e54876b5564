//! SARIF 2.1.0, so GitHub code scanning (and any other SARIF reader) can ingest a scan.
//!
//! Built with `serde-sarif`, whose types are generated from the official SARIF schema, so a
//! misspelt property cannot compile.

use crate::model::{Finding, Level, RuleId};
use crate::report::Report;
use serde_sarif::sarif::{
    ArtifactLocation, Location, Message, MultiformatMessageString, PhysicalLocation, PropertyBag,
    Region, ReportingDescriptor, Result as SarifResult, ResultLevel, Run, Sarif, Tool,
    ToolComponent,
};
use std::collections::BTreeMap;

pub const SARIF_SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

pub fn report(report: &Report) -> String {
    let rules: Vec<ReportingDescriptor> = RuleId::ALL.iter().map(|r| descriptor(*r)).collect();
    let driver = ToolComponent::builder()
        .name("patchwright")
        .version(report.provenance.tool_version.clone())
        .information_uri("https://github.com/patchwright/patchwright")
        .rules(rules)
        .build();
    let results: Vec<SarifResult> = report.findings.iter().map(result).collect();
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

fn sarif_level(finding: &Finding) -> ResultLevel {
    if !finding.is_active() {
        return ResultLevel::None;
    }
    match finding.level {
        Level::Blocker => ResultLevel::Error,
        Level::Warning => ResultLevel::Warning,
        Level::Info => ResultLevel::Note,
    }
}

fn result(finding: &Finding) -> SarifResult {
    let mut text = format!("{}: {}", finding.subject, finding.message);
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
    // A fingerprint that survives line moves lets code scanning track the same alert over time.
    let fingerprint = format!(
        "{}:{}:{}",
        finding.rule,
        finding.file,
        finding.package.as_deref().unwrap_or(&finding.subject)
    );
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
    if let Some(severity) = finding.severity {
        properties.insert("severity".to_string(), serde_json::json!(severity.as_str()));
    }
    SarifResult::builder()
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
        .build()
}
