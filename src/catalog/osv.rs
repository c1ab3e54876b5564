//! OSV records (https://ossf.github.io/osv-schema/) read once into trusted types: every version
//! in a range is parsed in its ecosystem here, so matching never re-checks or fails.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

use crate::catalog::name::normalize_name;
use crate::catalog::severity::{SeverityInfo, severity_of};
use crate::catalog::version::{Version, parse_version};
use crate::model::{Ecosystem, ErrorCode, FileError, Severity};

/// One advisory: a single OSV record, or several records that name the same issue merged (see
/// [`AdvisoryDb`](super::advisory_db::AdvisoryDb)).
#[derive(Debug, Clone, PartialEq)]
pub struct Advisory {
    /// The preferred id (`RUSTSEC-…` for crates.io, `GO-…`, `PYSEC-…`, `GHSA-…` for npm; else
    /// GHSA, else CVE).
    pub id: String,
    /// Every other id that names this issue, sorted.
    pub aliases: Vec<String>,
    pub summary: String,
    /// The first line of the record's `details` that is not blank, trimmed, at most 120
    /// characters: all that is ever shown of it (as the summary of a record without one). The
    /// rest is not kept: details run to kilobytes, and a service holds every advisory.
    pub details_head: String,
    pub published: Option<DateTime<Utc>>,
    pub modified: Option<DateTime<Utc>>,
    /// Set when the database retracted the advisory; withdrawn advisories never match.
    pub withdrawn: Option<DateTime<Utc>>,
    /// The advisory's page: the first `ADVISORY` reference, else `database_specific.url`, else
    /// the first `WEB` reference.
    pub url: Option<String>,
    pub severity: Severity,
    pub cvss_score: Option<f64>,
    pub cvss_vector: Option<String>,
    /// RustSec's `informational` kind (`unmaintained`, `unsound`, `notice`): not a vulnerability
    /// as such.
    pub informational: Option<String>,
    pub affected: Vec<Affected>,
    /// The files the record(s) came from.
    pub sources: Vec<String>,
}

/// One `affected[]` entry of an ecosystem we handle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Affected {
    pub ecosystem: Ecosystem,
    /// For a distribution, the release OSV names after the colon, as [`osv_release`] spells
    /// it (`12`, `22.04`, `v3.19`); `None` when the record names none (any release).
    pub release: Option<String>,
    /// As the advisory writes it.
    pub name: String,
    /// As [`normalize_name`] gives it, for comparing.
    pub normalized_name: String,
    pub ranges: Vec<AffectedRange>,
    /// The `versions[]` list, each parsed.
    pub versions: Vec<Version>,
}

/// A `SEMVER` or `ECOSYSTEM` range; `GIT` ranges are dropped at load time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AffectedRange {
    events: Vec<RangeEvent>,
}

/// One event of a range. `Introduced(None)` is `introduced: "0"`, the beginning of time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RangeEvent {
    Introduced(Option<Version>),
    Fixed(Version),
    LastAffected(Version),
    Limit(Version),
}

impl RangeEvent {
    pub fn version(&self) -> Option<&Version> {
        match self {
            RangeEvent::Introduced(v) => v.as_ref(),
            RangeEvent::Fixed(v) | RangeEvent::LastAffected(v) | RangeEvent::Limit(v) => Some(v),
        }
    }

    /// At equal versions `introduced` goes first, so `introduced: X, fixed: X` is empty (as the
    /// schema's evaluation gives it) and `introduced: X, last_affected: X` is `X` alone.
    fn tie_rank(&self) -> u8 {
        match self {
            RangeEvent::Introduced(_) => 0,
            RangeEvent::Fixed(_) | RangeEvent::LastAffected(_) => 1,
            RangeEvent::Limit(_) => 2,
        }
    }
}

impl AffectedRange {
    /// Builds a range, sorting its events by version as the OSV schema requires.
    pub fn new(mut events: Vec<RangeEvent>) -> AffectedRange {
        events.sort_by(|a, b| match (a.version(), b.version()) {
            (None, None) => a.tie_rank().cmp(&b.tie_rank()),
            (None, Some(_)) => std::cmp::Ordering::Less,
            (Some(_), None) => std::cmp::Ordering::Greater,
            (Some(x), Some(y)) => x.cmp(y).then(a.tie_rank().cmp(&b.tie_rank())),
        });
        AffectedRange { events }
    }

    /// The events, sorted by version.
    pub fn events(&self) -> &[RangeEvent] {
        &self.events
    }

    /// The OSV schema's evaluation: walking the sorted events, `introduced ≤ v` opens, `fixed ≤ v`
    /// closes (fixed is exclusive), `last_affected < v` closes (inclusive); with `limit` events,
    /// only versions below some limit can be affected.
    pub fn contains(&self, version: &Version) -> bool {
        let mut affected = false;
        let mut limits = self
            .events
            .iter()
            .filter_map(|e| match e {
                RangeEvent::Limit(l) => Some(l),
                _ => None,
            })
            .peekable();
        if limits.peek().is_some() && !limits.any(|l| version < l) {
            return false;
        }
        for event in &self.events {
            match event {
                RangeEvent::Introduced(None) => affected = true,
                RangeEvent::Introduced(Some(v)) if version >= v => affected = true,
                RangeEvent::Fixed(v) if version >= v => affected = false,
                RangeEvent::LastAffected(v) if version > v => affected = false,
                _ => {}
            }
        }
        affected
    }

    pub fn fixed(&self) -> impl Iterator<Item = &Version> {
        self.events.iter().filter_map(|e| match e {
            RangeEvent::Fixed(v) => Some(v),
            _ => None,
        })
    }
}

/// Splits an OSV ecosystem name into the ecosystem and, for a distribution, its release:
/// `Debian:12` → (Debian, `12`), `Ubuntu:Pro:22.04:LTS` → (Ubuntu, `22.04`), `Alpine:v3.19` →
/// (Alpine, `v3.19`). `None` for an ecosystem we do not handle.
pub fn split_ecosystem(text: &str) -> Option<(Ecosystem, Option<String>)> {
    if let Some(eco) = Ecosystem::parse(text) {
        return Some((eco, None));
    }
    let (head, rest) = text.split_once(':')?;
    let eco = Ecosystem::parse(head).filter(|e| e.is_distribution())?;
    let release = match eco {
        Ecosystem::Ubuntu => rest
            .split(':')
            .find(|part| part.starts_with(|c: char| c.is_ascii_digit()))?
            .to_string(),
        _ => rest.trim().to_string(),
    };
    (!release.is_empty()).then_some((eco, Some(release)))
}

/// The release as OSV names it, from an image's `/etc/os-release` `VERSION_ID`: Debian's major
/// number (`12.4` → `12`), Ubuntu's `22.04`, Alpine's `v` and first two numbers (`3.19.1` →
/// `v3.19`).
pub fn osv_release(eco: Ecosystem, version_id: &str) -> String {
    let version_id = version_id.trim();
    match eco {
        Ecosystem::Debian => version_id.split('.').next().unwrap_or("").to_string(),
        Ecosystem::Alpine => {
            let bare = version_id.strip_prefix('v').unwrap_or(version_id);
            let two: Vec<&str> = bare.split('.').take(2).collect();
            format!("v{}", two.join("."))
        }
        _ => version_id.to_string(),
    }
}

impl Affected {
    /// Whether this entry names `name` (compared in normalised form) in `eco`.
    pub fn is_package(&self, eco: Ecosystem, name: &str) -> bool {
        self.is_normalized_package(eco, &normalize_name(eco, name))
    }

    /// [`is_package`](Self::is_package) for a name already normalised: matching 100,000
    /// dependencies against popular packages' many advisories normalised the same name once per
    /// `affected` entry, an allocation each.
    pub fn is_normalized_package(&self, eco: Ecosystem, normalized: &str) -> bool {
        self.ecosystem == eco && self.normalized_name == normalized
    }

    /// Whether this entry covers `release` (an entry without a release covers every one).
    pub fn is_release(&self, release: Option<&str>) -> bool {
        match (&self.release, release) {
            (Some(own), Some(wanted)) => own == wanted,
            _ => true,
        }
    }

    /// Whether `version` is in a range or in the `versions[]` list.
    pub fn contains(&self, version: &Version) -> bool {
        version.is_of(self.ecosystem)
            && (self.ranges.iter().any(|r| r.contains(version))
                || self.versions.iter().any(|v| v == version))
    }
}

impl Advisory {
    /// Whether the advisory applies to `name` at `version` in `eco`. A withdrawn advisory never
    /// applies.
    pub fn affects(&self, eco: Ecosystem, name: &str, version: &Version) -> bool {
        self.affects_normalized(eco, &normalize_name(eco, name), version)
    }

    /// [`affects`](Self::affects) for a name already normalised.
    pub fn affects_normalized(&self, eco: Ecosystem, normalized: &str, version: &Version) -> bool {
        self.withdrawn.is_none()
            && self
                .affected
                .iter()
                .any(|a| a.is_normalized_package(eco, normalized) && a.contains(version))
    }

    /// Whether the advisory applies to the distribution package `name` (a source package for
    /// Debian and Ubuntu, an origin for Alpine) at `version` in `release`.
    pub fn affects_in_release(
        &self,
        eco: Ecosystem,
        release: Option<&str>,
        name: &str,
        version: &Version,
    ) -> bool {
        self.withdrawn.is_none()
            && self
                .affected
                .iter()
                .any(|a| a.is_package(eco, name) && a.is_release(release) && a.contains(version))
    }

    /// The `fixed` versions for the package in `release`, sorted ascending, without duplicates.
    pub fn fixed_versions_in_release(
        &self,
        eco: Ecosystem,
        release: Option<&str>,
        name: &str,
    ) -> Vec<Version> {
        let mut fixed: Vec<Version> = self
            .affected
            .iter()
            .filter(|a| a.is_package(eco, name) && a.is_release(release))
            .flat_map(|a| a.ranges.iter().flat_map(|r| r.fixed().cloned()))
            .collect();
        fixed.sort();
        fixed.dedup();
        fixed
    }

    /// Every `fixed` version for the package, sorted ascending, without duplicates.
    pub fn fixed_versions(&self, eco: Ecosystem, name: &str) -> Vec<Version> {
        let normalized = normalize_name(eco, name);
        let mut fixed: Vec<Version> = self
            .affected
            .iter()
            .filter(|a| a.is_normalized_package(eco, &normalized))
            .flat_map(|a| a.ranges.iter().flat_map(|r| r.fixed().cloned()))
            .collect();
        fixed.sort();
        fixed.dedup();
        fixed
    }

    /// The id, then the aliases.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.id.as_str()).chain(self.aliases.iter().map(String::as_str))
    }

    /// Whether `id` is this advisory's id or one of its aliases (case-insensitively: ids are
    /// upper-case by convention but people type them otherwise).
    pub fn is_named(&self, id: &str) -> bool {
        self.ids().any(|own| own.eq_ignore_ascii_case(id.trim()))
    }

    pub fn severity_info(&self) -> SeverityInfo {
        SeverityInfo {
            severity: self.severity,
            score: self.cvss_score,
            vector: self.cvss_vector.clone(),
        }
    }
}

// ---- the wire format -------------------------------------------------------------------------

#[derive(Deserialize)]
struct RawRecord {
    id: String,
    #[serde(default)]
    aliases: Option<Vec<String>>,
    #[serde(default)]
    summary: Option<String>,
    #[serde(default)]
    details: Option<String>,
    #[serde(default)]
    published: Option<String>,
    #[serde(default)]
    modified: Option<String>,
    #[serde(default)]
    withdrawn: Option<String>,
    #[serde(default)]
    references: Option<Vec<RawReference>>,
    #[serde(default)]
    severity: Option<Vec<RawSeverity>>,
    #[serde(default)]
    affected: Option<Vec<RawAffected>>,
    #[serde(default)]
    database_specific: Option<Value>,
}

#[derive(Deserialize)]
struct RawReference {
    #[serde(rename = "type")]
    kind: String,
    url: String,
}

#[derive(Deserialize)]
struct RawSeverity {
    #[serde(rename = "type")]
    kind: String,
    score: String,
}

#[derive(Deserialize)]
struct RawAffected {
    #[serde(default)]
    package: Option<RawPackage>,
    #[serde(default)]
    ranges: Option<Vec<RawRange>>,
    #[serde(default)]
    versions: Option<Vec<String>>,
    #[serde(default)]
    severity: Option<Vec<RawSeverity>>,
    #[serde(default)]
    database_specific: Option<Value>,
    #[serde(default)]
    ecosystem_specific: Option<Value>,
}

#[derive(Deserialize)]
struct RawPackage {
    ecosystem: String,
    name: String,
}

#[derive(Deserialize)]
struct RawRange {
    #[serde(rename = "type")]
    kind: String,
    events: Vec<RawEvent>,
}

#[derive(Deserialize)]
struct RawEvent {
    #[serde(default)]
    introduced: Option<String>,
    #[serde(default)]
    fixed: Option<String>,
    #[serde(default)]
    last_affected: Option<String>,
    #[serde(default)]
    limit: Option<String>,
}

/// One OSV record as read: its advisory (`None` when none of its `affected` entries is in an
/// ecosystem we handle, a Maven or Rocky Linux record: those are skipped without a word), and the
/// entries of it that were skipped, as notes.
#[derive(Debug, Clone, Default)]
pub struct Record {
    pub advisory: Option<Advisory>,
    pub skipped: Vec<FileError>,
}

/// Reads one OSV record.
///
/// Errors carry the line: serde_json's for malformed JSON, the line of the offending value for
/// a version that does not parse in its ecosystem. One unreadable `versions[]` item does not
/// lose the record (that would be a false negative for every other version it lists): it is
/// skipped and reported in [`Record::skipped`].
pub fn parse_record(file: &str, json: &str) -> Result<Record, FileError> {
    let raw: RawRecord = serde_json::from_str(json).map_err(|e| {
        let line = u32::try_from(e.line()).unwrap_or(u32::MAX);
        FileError::new(file, line, format!("not a valid OSV record: {e}"))
            .with_code(ErrorCode::AdvisoryInvalid)
    })?;
    let reader = Reader {
        file,
        json,
        id: &raw.id,
    };
    if raw.id.trim().is_empty() {
        return Err(reader.fail("", "the record has an empty `id`".to_string()));
    }
    let mut read = ReadAffected::default();
    for raw_affected in raw.affected.iter().flatten() {
        reader.affected(raw_affected, &mut read)?;
    }
    if read.affected.is_empty() {
        return Ok(Record::default());
    }
    let published = reader.timestamp("published", &raw.published)?;
    let modified = reader.timestamp("modified", &raw.modified)?;
    let withdrawn = reader.timestamp("withdrawn", &raw.withdrawn)?;

    if let Some(label) = string_field(&raw.database_specific, "severity") {
        read.labels.push(label);
    }
    for s in raw.severity.iter().flatten() {
        read.scores.push((s.kind.clone(), s.score.clone()));
    }
    let severity = severity_of(
        read.scores.iter().map(|(k, s)| (k.as_str(), s.as_str())),
        read.labels.iter().map(String::as_str),
    );
    let id = raw.id.trim().to_string();
    let advisory = Advisory {
        aliases: aliases(&raw, &id),
        url: advisory_url(&raw),
        id,
        summary: raw.summary.clone().unwrap_or_default().trim().to_string(),
        details_head: raw.details.as_deref().map(first_line).unwrap_or_default(),
        published,
        modified,
        withdrawn,
        severity: severity.severity,
        cvss_score: severity.score,
        cvss_vector: severity.vector,
        informational: read.informational,
        affected: read.affected,
        sources: vec![file.to_string()],
    };
    Ok(Record {
        advisory: Some(advisory),
        skipped: read.skipped,
    })
}

/// What the `affected` entries of one record give.
#[derive(Default)]
struct ReadAffected {
    affected: Vec<Affected>,
    /// Severity labels from `database_specific` / `ecosystem_specific`.
    labels: Vec<String>,
    /// `(type, score)` of each `severity` entry.
    scores: Vec<(String, String)>,
    informational: Option<String>,
    skipped: Vec<FileError>,
}

/// Reads the parts of one record, and words its errors with the record's id and line.
struct Reader<'a> {
    file: &'a str,
    json: &'a str,
    id: &'a str,
}

impl Reader<'_> {
    /// An error that rejects the record, at the line of the value `needle`.
    fn fail(&self, needle: &str, message: String) -> FileError {
        let line = line_of_value(self.json, needle);
        FileError::new(self.file, line, format!("{}: {message}", self.id))
            .with_code(ErrorCode::AdvisoryInvalid)
    }

    /// A note for one entry skipped, at the line of the value `needle`.
    fn skip(&self, needle: &str, message: String) -> FileError {
        let line = line_of_value(self.json, needle);
        FileError::new(self.file, line, format!("{}: {message}", self.id))
            .with_code(ErrorCode::AdvisoryEntrySkipped)
    }

    /// One `affected[]` entry, added to `read` when its ecosystem is one we handle.
    fn affected(&self, raw: &RawAffected, read: &mut ReadAffected) -> Result<(), FileError> {
        let Some(package) = &raw.package else {
            return Ok(());
        };
        let Some((eco, release)) =
            split_ecosystem(&package.ecosystem).filter(|(e, _)| *e != Ecosystem::Docker)
        else {
            return Ok(());
        };
        if package.name.trim().is_empty() {
            return Err(self.fail(
                &package.ecosystem,
                "an `affected[].package` has an empty `name`".to_string(),
            ));
        }
        let mut ranges = Vec::new();
        for raw_range in raw.ranges.iter().flatten() {
            ranges.extend(self.range(eco, &package.name, raw_range)?);
        }
        let mut versions = Vec::new();
        for text in raw.versions.iter().flatten() {
            match parse_version(eco, text) {
                Ok(version) => versions.push(version),
                Err(e) => read.skipped.push(self.skip(
                    text,
                    format!(
                        "{eco} {}: `versions` lists {e}; that entry is skipped, the rest of the record is used",
                        package.name
                    ),
                )),
            }
        }
        for extra in [&raw.database_specific, &raw.ecosystem_specific] {
            read.labels.extend(string_field(extra, "severity"));
        }
        if read.informational.is_none() {
            read.informational = string_field(&raw.database_specific, "informational");
        }
        for s in raw.severity.iter().flatten() {
            read.scores.push((s.kind.clone(), s.score.clone()));
        }
        read.affected.push(Affected {
            ecosystem: eco,
            release,
            name: package.name.trim().to_string(),
            normalized_name: normalize_name(eco, &package.name),
            ranges,
            versions,
        });
        Ok(())
    }

    /// One `ranges[]` entry; `None` for a `GIT` range (commits, not versions).
    fn range(
        &self,
        eco: Ecosystem,
        name: &str,
        raw: &RawRange,
    ) -> Result<Option<AffectedRange>, FileError> {
        match raw.kind.as_str() {
            "SEMVER" | "ECOSYSTEM" => {}
            "GIT" => return Ok(None),
            other => {
                return Err(self.fail(
                    other,
                    format!(
                        "unknown range type `{other}` for {name} (expected SEMVER, ECOSYSTEM or GIT)"
                    ),
                ));
            }
        }
        let events = raw
            .events
            .iter()
            .map(|event| {
                read_event(eco, event).map_err(|(needle, message)| {
                    self.fail(&needle, format!("{eco} {name}: {message}"))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some(AffectedRange::new(events)))
    }

    fn timestamp(
        &self,
        field: &str,
        value: &Option<String>,
    ) -> Result<Option<DateTime<Utc>>, FileError> {
        let Some(text) = value else {
            return Ok(None);
        };
        DateTime::parse_from_rfc3339(text.trim())
            .map(|t| Some(t.with_timezone(&Utc)))
            .map_err(|e| {
                self.fail(
                    text,
                    format!("`{field}` is `{text}`, not an RFC 3339 timestamp ({e})"),
                )
            })
    }
}

/// The record's aliases, trimmed, without its own id, sorted and unique.
fn aliases(raw: &RawRecord, id: &str) -> Vec<String> {
    let mut aliases: Vec<String> = raw
        .aliases
        .iter()
        .flatten()
        .map(|a| a.trim().to_string())
        .filter(|a| !a.is_empty() && *a != id)
        .collect();
    aliases.sort();
    aliases.dedup();
    aliases
}

/// The page to cite: the `ADVISORY` reference, the database's own URL, or a `WEB` reference.
fn advisory_url(raw: &RawRecord) -> Option<String> {
    let references = raw.references.as_deref().unwrap_or_default();
    references
        .iter()
        .find(|r| r.kind == "ADVISORY")
        .map(|r| r.url.clone())
        .or_else(|| string_field(&raw.database_specific, "url"))
        .or_else(|| {
            references
                .iter()
                .find(|r| r.kind == "WEB")
                .map(|r| r.url.clone())
        })
}

/// One event; the error is `(the offending text, the message)`.
fn read_event(eco: Ecosystem, raw: &RawEvent) -> Result<RangeEvent, (String, String)> {
    let given: Vec<(&str, &String)> = [
        ("introduced", &raw.introduced),
        ("fixed", &raw.fixed),
        ("last_affected", &raw.last_affected),
        ("limit", &raw.limit),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.as_ref().map(|v| (k, v)))
    .collect();
    let [(kind, text)] = given.as_slice() else {
        let needle = given
            .first()
            .map(|(_, t)| t.to_string())
            .unwrap_or_default();
        return Err((
            needle,
            "each range event must have exactly one of `introduced`, `fixed`, `last_affected`, `limit`"
                .to_string(),
        ));
    };
    if *kind == "introduced" && text.trim() == "0" {
        return Ok(RangeEvent::Introduced(None));
    }
    let version =
        parse_version(eco, text).map_err(|e| (text.to_string(), format!("`{kind}`: {e}")))?;
    Ok(match *kind {
        "introduced" => RangeEvent::Introduced(Some(version)),
        "fixed" => RangeEvent::Fixed(version),
        "last_affected" => RangeEvent::LastAffected(version),
        _ => RangeEvent::Limit(version),
    })
}

fn string_field(value: &Option<Value>, key: &str) -> Option<String> {
    value
        .as_ref()?
        .get(key)?
        .as_str()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// The 1-based line of the first JSON string whose content is exactly `needle`, after the
/// `"affected"` key when there is one (so a version quoted in `details` is not mistaken for the
/// event). serde_json keeps no spans for values that parsed; this finds the value again. Line 1
/// when it cannot be found.
fn line_of_value(json: &str, needle: &str) -> u32 {
    let quoted = serde_json::to_string(needle).unwrap_or_default();
    let start = json.find("\"affected\"").unwrap_or(0);
    let at = json
        .get(start..)
        .and_then(|rest| rest.find(&quoted))
        .map(|i| i + start)
        .or_else(|| json.find(&quoted));
    match at {
        Some(offset) => crate::model::line_column(json, offset).0,
        None => 1,
    }
}

/// The first line of `text` that is not blank, trimmed, at most 120 characters.
fn first_line(text: &str) -> String {
    text.lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim()
        .chars()
        .take(120)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(events: &str) -> String {
        format!(
            r#"{{
  "id": "TEST-1",
  "modified": "2024-01-01T00:00:00Z",
  "affected": [
    {{
      "package": {{"ecosystem": "npm", "name": "left-pad"}},
      "ranges": [{{"type": "ECOSYSTEM", "events": {events}}}]
    }}
  ]
}}"#
        )
    }

    fn v(s: &str) -> Version {
        parse_version(Ecosystem::Npm, s).unwrap()
    }

    /// Only the line a report can show is kept of `details`.
    #[test]
    fn details_keep_their_first_line_that_is_not_blank() {
        let long = "x".repeat(200);
        for (details, head) in [
            (
                "\n  \n  A crafted header crashes the parser.  \nMore text.\n",
                "A crafted header crashes the parser.",
            ),
            (long.as_str(), &long[..120]),
            ("", ""),
        ] {
            let json = record(r#"[{"introduced": "0"}, {"fixed": "1.0.0"}]"#).replacen(
                "\"id\": \"TEST-1\",",
                &format!(
                    "\"id\": \"TEST-1\", \"details\": {},",
                    serde_json::to_string(details).unwrap()
                ),
                1,
            );
            let advisory = parse_record("t.json", &json).unwrap().advisory.unwrap();
            assert_eq!(advisory.details_head, head, "{details:?}");
        }
    }

    #[test]
    fn bad_versions_point_at_their_line() {
        let json = record(
            r#"[
        {"introduced": "0"},
        {"fixed": "1.2.x"}
      ]"#,
        );
        let err = parse_record("a.json", &json).unwrap_err();
        assert_eq!(err.line, 9);
        assert!(
            err.message
                .starts_with("TEST-1: npm left-pad: `fixed`: `1.2.x` is not a valid npm version"),
            "{}",
            err.message
        );
    }

    #[test]
    fn malformed_json_keeps_serde_line() {
        let err =
            parse_record("a.json", "{\n  \"id\": \"X\",\n  \"affected\": [,]\n}").unwrap_err();
        assert_eq!(err.line, 3);
        assert!(err.message.starts_with("not a valid OSV record"));
    }

    #[test]
    fn events_need_exactly_one_kind() {
        let json = record(r#"[{"introduced": "0", "fixed": "1.0.0"}]"#);
        let err = parse_record("a.json", &json).unwrap_err();
        assert!(err.message.contains("exactly one of"), "{}", err.message);
    }

    #[test]
    fn equal_introduced_and_fixed_is_empty() {
        let range = AffectedRange::new(vec![
            RangeEvent::Fixed(v("0.23.0")),
            RangeEvent::Introduced(Some(v("0.23.0"))),
        ]);
        assert!(!range.contains(&v("0.23.0")));
        assert!(!range.contains(&v("0.23.1")));
    }

    #[test]
    fn limits_cap_the_range() {
        let range = AffectedRange::new(vec![
            RangeEvent::Introduced(None),
            RangeEvent::Limit(v("2.0.0")),
        ]);
        assert!(range.contains(&v("1.9.9")));
        assert!(!range.contains(&v("2.0.0")));
    }

    #[test]
    fn other_ecosystems_are_skipped_silently() {
        let json = r#"{"id": "RLSA-1", "affected": [{"package": {"ecosystem": "Rocky Linux:9", "name": "openssl"}, "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "3.0.7-1"}]}]}]}"#;
        let record = parse_record("r.json", json).unwrap();
        assert!(record.advisory.is_none());
        assert!(record.skipped.is_empty());
    }

    #[test]
    fn distribution_records_keep_their_release() {
        let json = r#"{"id": "DSA-1", "affected": [{"package": {"ecosystem": "Debian:11", "name": "openssl"}, "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.1.1n-0+deb11u1"}]}]}]}"#;
        let advisory = parse_record("d.json", json).unwrap().advisory.unwrap();
        let installed = parse_version(Ecosystem::Debian, "1.1.1k-1+deb11u2").unwrap();
        assert!(advisory.affects_in_release(Ecosystem::Debian, Some("11"), "openssl", &installed));
        assert!(!advisory.affects_in_release(Ecosystem::Debian, Some("12"), "openssl", &installed));
        let fixed = parse_version(Ecosystem::Debian, "1.1.1n-0+deb11u1").unwrap();
        assert!(!advisory.affects_in_release(Ecosystem::Debian, Some("11"), "openssl", &fixed));
        assert_eq!(
            split_ecosystem("Ubuntu:Pro:22.04:LTS"),
            Some((Ecosystem::Ubuntu, Some("22.04".to_string())))
        );
        assert_eq!(
            split_ecosystem("Alpine:v3.19").unwrap().1.as_deref(),
            Some("v3.19")
        );
        assert_eq!(split_ecosystem("Debian:"), None);
        assert_eq!(osv_release(Ecosystem::Alpine, "3.19.1"), "v3.19");
        assert_eq!(osv_release(Ecosystem::Debian, "12"), "12");
    }

    #[test]
    fn one_bad_versions_entry_is_skipped_and_the_record_kept() {
        let json = include_str!("../../fixtures/osv/one-bad-versions-entry.json");
        let record = parse_record("one-bad-versions-entry.json", json).unwrap();
        let advisory = record.advisory.expect("the record is kept");
        let affected = &advisory.affected[0];
        // The listed versions that parse still match, and so does the range.
        assert_eq!(affected.versions, vec![v("1.0.0"), v("1.3.0")]);
        assert_eq!(affected.ranges.len(), 1);
        let [skipped] = record.skipped.as_slice() else {
            panic!("one skipped entry expected: {:?}", record.skipped);
        };
        assert_eq!(skipped.line, 13);
        assert_eq!(skipped.code, Some(ErrorCode::AdvisoryEntrySkipped));
        assert!(skipped.is_note());
        assert!(
            skipped
                .message
                .starts_with("TEST-2024-0001: npm left-pad: `versions` lists `1.1.x`"),
            "{}",
            skipped.message
        );
    }
}
