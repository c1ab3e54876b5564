//! Findings per repository across scans: when each was first seen, last seen, and fixed.
//!
//! A finding's identity (`finding_key`) leaves out the line and the version, so an edit that
//! moves a line or a bump that does not fix the problem keeps its first-seen date (the SLA
//! clock the policy runs).

use super::{StoreError, from_ms, from_ms_opt, history, to_ms};
use crate::model::Finding;
use chrono::{DateTime, Utc};
use sqlx::{Any, AnyConnection, Executor, Row};
use std::collections::HashMap;

/// What one scan saw, as the store keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenFinding {
    pub key: String,
    pub rule: String,
    pub subject: String,
    pub file: String,
    pub line: u32,
    pub level: String,
    pub advisories: Vec<String>,
    /// The advisory's severity (`unknown` when none is rated), as `Severity::as_str`.
    pub severity: String,
    /// The package or image the finding is about, without a version: what rework is counted by.
    pub package: String,
    /// Who owns the file by CODEOWNERS (filled in by the caller that read them).
    pub owners: Vec<String>,
    /// Whether an exception covers it in this scan: the remediation clock stops.
    pub excepted: bool,
}

impl From<&Finding> for SeenFinding {
    fn from(f: &Finding) -> SeenFinding {
        SeenFinding {
            key: finding_key(f),
            rule: f.rule.as_str().to_string(),
            subject: f.subject.clone(),
            file: f.file.clone(),
            line: f.line,
            level: f.level.as_str().to_string(),
            advisories: f.advisories.clone(),
            severity: f
                .severity
                .unwrap_or(crate::model::Severity::Unknown)
                .as_str()
                .to_string(),
            package: package_name(f),
            owners: Vec::new(),
            excepted: f.exception.is_some(),
        }
    }
}

/// The package or image a finding is about, without version or tag.
fn package_name(f: &Finding) -> String {
    if let Some(package) = &f.package {
        return package.clone();
    }
    // An image reference: `node:16-alpine` or `node@sha256:…` is about `node`.
    let subject = f.subject.as_str();
    let without_digest = subject.split('@').next().unwrap_or(subject);
    let last_slash = without_digest.rfind('/').map(|i| i + 1).unwrap_or(0);
    match without_digest[last_slash..].find(':') {
        Some(colon) => without_digest[..last_slash + colon].to_string(),
        None => without_digest.to_string(),
    }
}

/// The identity of a finding across scans: rule, file, what it is about (the package name
/// without its version when there is one), and the preferred advisory id.
pub fn finding_key(f: &Finding) -> String {
    let about = f.package.as_deref().unwrap_or(&f.subject);
    let advisory = f.advisories.first().map(String::as_str).unwrap_or("");
    format!("{}|{}|{}|{}", f.rule.as_str(), f.file, about, advisory)
}

/// A stored finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFinding {
    pub repository_id: i64,
    pub key: String,
    pub rule: String,
    pub subject: String,
    pub file: String,
    pub line: i64,
    pub level: String,
    pub advisories: Vec<String>,
    pub first_seen_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub fixed_at: Option<DateTime<Utc>>,
}

/// What recording a scan changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScanDelta {
    /// Seen for the first time, or again after having been fixed.
    pub new: u64,
    /// Open before and seen again.
    pub still_open: u64,
    /// Open before and not seen by this scan.
    pub fixed: u64,
    /// When each seen finding (by key) was first seen: the start of its SLA clock, read back
    /// from the same write so nobody has to query the history again.
    pub first_seen: HashMap<String, DateTime<Utc>>,
}

/// Records a complete scan of a repository at `now`: seen findings are opened or refreshed,
/// open findings the scan did not see are marked fixed, and each change is appended to the
/// history (`finding_events`). Run it inside a transaction so a crash cannot leave half a scan.
pub async fn record_scan(
    conn: &mut AnyConnection,
    repository_id: i64,
    seen: &[SeenFinding],
    now: DateTime<Utc>,
) -> Result<ScanDelta, StoreError> {
    let now_ms = to_ms(now);
    let mut delta = ScanDelta::default();
    // SQLite cannot upgrade a read transaction to a write one while another connection
    // writes, so the transaction begins with a write (that changes nothing) before reading
    // what was there.
    sqlx::query("UPDATE findings SET line = line WHERE repository_id = $1 AND 1 = 0")
        .bind(repository_id)
        .execute(&mut *conn)
        .await?;
    let before = history::previous_states(&mut *conn, repository_id).await?;
    // A reappearance after a fix restarts the first-seen clock: it is a new exposure.
    for f in seen {
        let first_seen: i64 = sqlx::query_scalar(
            "INSERT INTO findings (repository_id, finding_key, rule, subject, file, line,
                                   level, advisories, first_seen_at, last_seen_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)
             ON CONFLICT (repository_id, finding_key) DO UPDATE SET
                 rule = excluded.rule, subject = excluded.subject, file = excluded.file,
                 line = excluded.line, level = excluded.level, advisories = excluded.advisories,
                 first_seen_at = CASE WHEN findings.fixed_at IS NULL
                                      THEN findings.first_seen_at
                                      ELSE excluded.first_seen_at END,
                 last_seen_at = excluded.last_seen_at,
                 fixed_at = NULL
             RETURNING first_seen_at",
        )
        .bind(repository_id)
        .bind(&f.key)
        .bind(&f.rule)
        .bind(&f.subject)
        .bind(&f.file)
        .bind(i64::from(f.line))
        .bind(&f.level)
        .bind(f.advisories.join(" "))
        .bind(now_ms)
        .fetch_one(&mut *conn)
        .await?;
        // An exception that already covered the open finding keeps its start.
        let excepted_since = match before.get(&f.key) {
            Some(p) if p.open && f.excepted => p.excepted_since.or(Some(now_ms)),
            _ => f.excepted.then_some(now_ms),
        };
        history::record_facts(&mut *conn, repository_id, f, excepted_since).await?;
        // New, or back after a fix: its clock starts now.
        if first_seen == now_ms {
            delta.new += 1;
        } else {
            delta.still_open += 1;
        }
        delta
            .first_seen
            .insert(f.key.clone(), from_ms(first_seen, "findings")?);
    }
    // Everything open that this scan did not touch is gone from the repository.
    let fixed = sqlx::query(
        "UPDATE findings SET fixed_at = $1
         WHERE repository_id = $2 AND fixed_at IS NULL AND last_seen_at < $1",
    )
    .bind(now_ms)
    .bind(repository_id)
    .execute(&mut *conn)
    .await?;
    delta.fixed = fixed.rows_affected();
    let events = history::scan_events(repository_id, &before, seen, now);
    history::record_events(&mut *conn, &events).await?;
    Ok(delta)
}

/// The findings of a repository, open ones first, each group by first-seen date.
pub async fn for_repository<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    repository_id: i64,
) -> Result<Vec<StoredFinding>, StoreError> {
    let rows = sqlx::query(
        "SELECT repository_id, finding_key, rule, subject, file, line, level, advisories,
                first_seen_at, last_seen_at, fixed_at
         FROM findings WHERE repository_id = $1
         ORDER BY CASE WHEN fixed_at IS NULL THEN 0 ELSE 1 END, first_seen_at, finding_key",
    )
    .bind(repository_id)
    .fetch_all(ex)
    .await?;
    rows.iter()
        .map(|r| {
            const T: &str = "findings";
            let advisories: String = r.try_get("advisories")?;
            Ok(StoredFinding {
                repository_id: r.try_get("repository_id")?,
                key: r.try_get("finding_key")?,
                rule: r.try_get("rule")?,
                subject: r.try_get("subject")?,
                file: r.try_get("file")?,
                line: r.try_get("line")?,
                level: r.try_get("level")?,
                advisories: advisories.split_whitespace().map(str::to_string).collect(),
                first_seen_at: from_ms(r.try_get("first_seen_at")?, T)?,
                last_seen_at: from_ms(r.try_get("last_seen_at")?, T)?,
                fixed_at: from_ms_opt(r.try_get("fixed_at")?, T)?,
            })
        })
        .collect()
}
