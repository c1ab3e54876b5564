//! SARIF 2.1.0, so GitHub code scanning (and any other SARIF reader) can ingest a scan.
//!
//! Built with `serde-sarif`, whose types are generated from the official SARIF schema, so a
//! misspelt property cannot compile. The document is written as it is serialised, one result
//! at a time: on a large monorepo the results built whole, then their text, took more memory
//! than the scan itself.

use crate::model::{Finding, Level, RuleId};
use crate::report::Report;
use serde::{Serialize, Serializer};
use serde_sarif::sarif::{
    ArtifactLocation, Location, Message, MultiformatMessageString, PhysicalLocation, PropertyBag,
    Region, ReportingDescriptor, Result as SarifResult, ResultLevel, Suppression, Tool,
    ToolComponent,
};
use std::collections::{BTreeMap, HashMap};
use std::io::Write;

pub const SARIF_SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// The SARIF document of `report` as one string (small reports; [`write_report`] for the CLI).
pub fn report(report: &Report) -> String {
    let mut out = Vec::new();
    // Writing to memory cannot fail, and serde_json writes UTF-8.
    let _ = write_report(report, &mut out);
    String::from_utf8(out).unwrap_or_default()
}

/// Writes the SARIF document of `report` to `out`, each result serialised as it is built.
pub fn write_report(report: &Report, out: &mut impl Write) -> std::io::Result<()> {
    let rules: Vec<ReportingDescriptor> = RuleId::ALL.iter().map(|r| descriptor(*r)).collect();
    let driver = ToolComponent::builder()
        .name("patchwright")
        .version(report.provenance.tool_version.clone())
        .information_uri("https://github.com/patchwright/patchwright")
        .rules(rules)
        .build();
    let document = Document {
        schema: SARIF_SCHEMA,
        runs: [StreamedRun {
            results: Results {
                findings: &report.findings,
                fingerprints: fingerprints(&report.findings),
            },
            tool: Tool::builder().driver(driver).build(),
        }],
        version: "2.1.0",
    };
    serde_json::to_writer_pretty(&mut *out, &document)?;
    out.write_all(b"\n")?;
    out.flush()
}

/// serde-sarif's `Sarif` with the properties this report sets, in the order its derived
/// `Serialize` writes them (its fields are declared alphabetically), so the bytes are those
/// of the document built whole (`tests/render_snapshots.rs` pins them).
#[derive(Serialize)]
struct Document<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    runs: [StreamedRun<'a>; 1],
    version: &'static str,
}

/// serde-sarif's `Run`, likewise: `results`, then `tool`.
#[derive(Serialize)]
struct StreamedRun<'a> {
    results: Results<'a>,
    tool: Tool,
}

/// The results, built one at a time while the array is written.
struct Results<'a> {
    findings: &'a [Finding],
    fingerprints: Vec<String>,
}

impl Serialize for Results<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(
            self.findings
                .iter()
                .zip(&self.fingerprints)
                .map(|(f, fingerprint)| result(f, fingerprint)),
        )
    }
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

fn result(finding: &Finding, fingerprint: &str) -> SarifResult {
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
            fingerprint.to_string(),
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
