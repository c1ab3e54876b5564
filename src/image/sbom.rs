//! The image as a CycloneDX 1.5 JSON bill of materials: the operating system, each OS package
//! with its package URL, and the advisories that affect them. Pure: the time and the serial
//! number are given. Written by hand (the format's JSON is small and stable) and validated
//! against the official schema in tests/image_cli.rs.

use serde_json::{Value, json};

use super::advisories::OsAdvisories;
use super::analyse::AnalysedImage;
use super::contents::Distribution;
use super::packages::OsPackage;
use crate::model::{Ecosystem, Severity};

/// The BOM of `image`. `serial` is a UUID (`urn:uuid:` is added), `timestamp` RFC 3339.
pub fn cyclonedx(
    image: &AnalysedImage,
    advisories: &OsAdvisories,
    serial: &str,
    timestamp: &str,
) -> Value {
    let os = &image.os;
    let (purl_type, namespace, distro) = match &os.distribution {
        Distribution::Known { ecosystem, release } => {
            let (t, ns) = match ecosystem {
                Ecosystem::Alpine => ("apk", "alpine"),
                Ecosystem::Ubuntu => ("deb", "ubuntu"),
                _ => ("deb", "debian"),
            };
            (t, ns, format!("{ns}-{}", release.trim_start_matches('v')))
        }
        Distribution::Unknown { .. } => match os.package_db.as_str() {
            "apk" => ("apk", "alpine", String::new()),
            _ => ("deb", "debian", String::new()),
        },
    };
    let purl = |p: &OsPackage| {
        let mut qualifiers = Vec::new();
        if !p.arch.is_empty() {
            qualifiers.push(format!("arch={}", encode(&p.arch)));
        }
        if !distro.is_empty() {
            qualifiers.push(format!("distro={}", encode(&distro)));
        }
        let mut purl = format!(
            "pkg:{purl_type}/{namespace}/{}@{}",
            encode(&p.name),
            encode(&p.version)
        );
        if !qualifiers.is_empty() {
            purl.push('?');
            purl.push_str(&qualifiers.join("&"));
        }
        purl
    };
    let mut components = Vec::new();
    if let Some(release) = &os.os_release {
        components.push(json!({
            "type": "operating-system",
            "bom-ref": "os",
            "name": release.id,
            "version": os.label.split_once(' ').map_or("", |(_, v)| v),
            "description": release.pretty_name,
        }));
    }
    for p in &os.packages {
        let mut component = json!({
            "type": "library",
            "bom-ref": purl(p),
            "name": p.name,
            "version": p.version,
            "purl": purl(p),
        });
        if p.source != p.name || p.source_version != p.version {
            component["properties"] = json!([
                {"name": "patchwright:source-package", "value": p.source},
                {"name": "patchwright:source-version", "value": p.source_version},
            ]);
        }
        components.push(component);
    }
    let vulnerabilities: Vec<Value> = advisories
        .advisories
        .iter()
        .map(|a| {
            let affects: Vec<Value> = os
                .packages
                .iter()
                .filter(|p| p.source == a.package && a.binaries.contains(&p.name))
                .map(|p| json!({"ref": purl(p)}))
                .collect();
            let mut v = json!({
                "bom-ref": format!("{}/{}", a.id, a.package),
                "id": a.id,
                "ratings": [{"severity": severity(a.severity)}],
                "description": a.summary,
                "affects": affects,
            });
            if let Some(score) = a.cvss_score {
                v["ratings"][0]["score"] = json!(score);
            }
            if let Some(fixed) = &a.fixed {
                v["recommendation"] = json!(format!("upgrade {} to {fixed}", a.package));
            }
            v
        })
        .collect();
    json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "serialNumber": format!("urn:uuid:{serial}"),
        "version": 1,
        "metadata": {
            "timestamp": timestamp,
            "tools": {"components": [{
                "type": "application",
                "name": "patchwright",
                "version": env!("CARGO_PKG_VERSION"),
            }]},
            "component": {
                "type": "container",
                "bom-ref": "image",
                "name": image.source,
                "version": image.image_id,
            },
        },
        "components": components,
        "vulnerabilities": vulnerabilities,
    })
}

fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "critical",
        Severity::High => "high",
        Severity::Medium => "medium",
        Severity::Low => "low",
        Severity::Unknown => "unknown",
    }
}

/// Percent-encodes what a package URL component may not hold as is (`:` of an epoch, `+`,
/// `~` is left: purl allows it).
fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
