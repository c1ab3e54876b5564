//! Remediation history: every opening, fix and exception of a finding (`finding_events`), the
//! tier each repository was scanned under, and daily snapshots of the open counts.
//!
//! The events are appended by [`super::findings::record_scan`]; the snapshots are derived from
//! the events (see `remediation::snapshots`) and can be rebuilt at any time with
//! [`replace_snapshots`]. Reading functions return plain rows for the pure figures in
//! `remediation`.

use super::fix_prs::{self, FixPr};
use super::{StoreError, from_ms, to_ms};
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{Any, AnyConnection, Executor, Row};
use std::collections::HashMap;

use super::findings::SeenFinding;

/// What happened to a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventKind {
    /// Seen for the first time, again after a fix, or again after its exception lapsed.
    Opened,
    /// Gone from the default branch.
    Fixed,
    /// Covered by an exception (accepted risk or the repository config's): its clock stops.
    Excepted,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Opened => "opened",
            EventKind::Fixed => "fixed",
            EventKind::Excepted => "excepted",
        }
    }

    pub fn parse(s: &str) -> Option<EventKind> {
        [EventKind::Opened, EventKind::Fixed, EventKind::Excepted]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// One change to one finding of one repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindingEvent {
    pub repository_id: i64,
    pub key: String,
    pub kind: EventKind,
    pub level: String,
    pub severity: String,
    pub package: String,
    /// The preferred advisory id; empty for catalog rules (end of life, unpinned image).
    pub advisory: String,
    pub at: DateTime<Utc>,
    /// The file's CODEOWNERS as last recorded for the finding (read back, never written here).
    pub owners: Vec<String>,
}

/// A finding as stored before a scan, to tell which changes the scan makes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreviousState {
    pub open: bool,
    pub excepted: bool,
    /// When the exception covering it started (unix ms), if one does.
    pub excepted_since: Option<i64>,
    pub level: String,
    pub severity: String,
    pub package: String,
    pub advisory: String,
}

/// The stored state of every finding of a repository, by key.
pub async fn previous_states(
    conn: &mut AnyConnection,
    repository_id: i64,
) -> Result<HashMap<String, PreviousState>, StoreError> {
    let rows = sqlx::query(
        "SELECT f.finding_key, f.fixed_at, x.excepted_at, f.level, x.severity, x.package,
                f.advisories
         FROM findings f
         LEFT JOIN finding_facts x
                ON x.repository_id = f.repository_id AND x.finding_key = f.finding_key
         WHERE f.repository_id = $1",
    )
    .bind(repository_id)
    .fetch_all(&mut *conn)
    .await?;
    let mut states = HashMap::with_capacity(rows.len());
    for r in &rows {
        let advisories: String = r.try_get("advisories")?;
        let excepted_since: Option<i64> = r.try_get("excepted_at")?;
        states.insert(
            r.try_get("finding_key")?,
            PreviousState {
                open: r.try_get::<Option<i64>, _>("fixed_at")?.is_none(),
                excepted: excepted_since.is_some(),
                excepted_since,
                level: r.try_get("level")?,
                // Rows from before the history existed have no facts yet.
                severity: r
                    .try_get::<Option<String>, _>("severity")?
                    .unwrap_or_else(|| "unknown".into()),
                package: r
                    .try_get::<Option<String>, _>("package")?
                    .unwrap_or_default(),
                advisory: advisories
                    .split_whitespace()
                    .next()
                    .unwrap_or("")
                    .to_string(),
            },
        );
    }
    Ok(states)
}

/// The events one complete scan at `now` makes, given what was stored before it.
pub fn scan_events(
    repository_id: i64,
    before: &HashMap<String, PreviousState>,
    seen: &[SeenFinding],
    now: DateTime<Utc>,
) -> Vec<FindingEvent> {
    let event = |key: &str, kind, level: &str, severity: &str, package: &str, advisory: &str| {
        FindingEvent {
            repository_id,
            key: key.to_string(),
            kind,
            level: level.to_string(),
            severity: severity.to_string(),
            package: package.to_string(),
            advisory: advisory.to_string(),
            at: now,
            owners: Vec::new(),
        }
    };
    let mut events = Vec::new();
    let mut seen_keys = std::collections::HashSet::new();
    for f in seen {
        seen_keys.insert(f.key.as_str());
        let advisory = f.advisories.first().map(String::as_str).unwrap_or("");
        let of = |kind| event(&f.key, kind, &f.level, &f.severity, &f.package, advisory);
        let (was_open, was_excepted) = match before.get(&f.key) {
            Some(p) if p.open => (true, p.excepted),
            _ => (false, false),
        };
        match (was_open, was_excepted, f.excepted) {
            // New or back after a fix: a new exposure, which an exception may close at once.
            (false, _, excepted) => {
                events.push(of(EventKind::Opened));
                if excepted {
                    events.push(of(EventKind::Excepted));
                }
            }
            (true, false, true) => events.push(of(EventKind::Excepted)),
            // The exception lapsed or was revoked: exposed again from now.
            (true, true, false) => events.push(of(EventKind::Opened)),
            (true, false, false) | (true, true, true) => {}
        }
    }
    let mut gone: Vec<(&String, &PreviousState)> = before
        .iter()
        .filter(|(key, p)| p.open && !seen_keys.contains(key.as_str()))
        .collect();
    gone.sort_by_key(|(key, _)| key.as_str());
    for (key, p) in gone {
        events.push(event(
            key,
            EventKind::Fixed,
            &p.level,
            &p.severity,
            &p.package,
            &p.advisory,
        ));
    }
    events
}

/// Records what the figures group a seen finding by (severity, package, owners) and since
/// when an exception covers it.
pub async fn record_facts(
    conn: &mut AnyConnection,
    repository_id: i64,
    f: &SeenFinding,
    excepted_since: Option<i64>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO finding_facts (repository_id, finding_key, severity, package, owners, excepted_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (repository_id, finding_key) DO UPDATE SET
             severity = excluded.severity, package = excluded.package,
             owners = excluded.owners, excepted_at = excluded.excepted_at",
    )
    .bind(repository_id)
    .bind(&f.key)
    .bind(&f.severity)
    .bind(&f.package)
    .bind(f.owners.join(" "))
    .bind(excepted_since)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn record_events(
    conn: &mut AnyConnection,
    events: &[FindingEvent],
) -> Result<(), StoreError> {
    for e in events {
        sqlx::query(
            "INSERT INTO finding_events (repository_id, finding_key, event, level, severity,
                                         package, advisory, at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(e.repository_id)
        .bind(&e.key)
        .bind(e.kind.as_str())
        .bind(&e.level)
        .bind(&e.severity)
        .bind(&e.package)
        .bind(&e.advisory)
        .bind(to_ms(e.at))
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Every event of the given repositories (all when `None`), oldest first, with the owners
/// last recorded for each finding.
pub async fn events<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    repositories: Option<&[i64]>,
) -> Result<Vec<FindingEvent>, StoreError> {
    let filter = id_filter("e.repository_id", repositories);
    let sql = format!(
        "SELECT e.repository_id, e.finding_key, e.event, e.level, e.severity, e.package,
                e.advisory, e.at, f.owners
         FROM finding_events e
         LEFT JOIN finding_facts f
                ON f.repository_id = e.repository_id AND f.finding_key = e.finding_key
         WHERE {filter}
         ORDER BY e.at, e.id"
    );
    let rows = sqlx::query(&sql).fetch_all(ex).await?;
    rows.iter()
        .map(|r| {
            const T: &str = "finding_events";
            let kind: String = r.try_get("event")?;
            let owners: Option<String> = r.try_get("owners")?;
            Ok(FindingEvent {
                repository_id: r.try_get("repository_id")?,
                key: r.try_get("finding_key")?,
                kind: EventKind::parse(&kind).ok_or_else(|| StoreError::Corrupt {
                    table: T,
                    message: format!("unknown event `{kind}`"),
                })?,
                level: r.try_get("level")?,
                severity: r.try_get("severity")?,
                package: r.try_get("package")?,
                advisory: r.try_get("advisory")?,
                at: from_ms(r.try_get("at")?, T)?,
                owners: owners
                    .unwrap_or_default()
                    .split_whitespace()
                    .map(str::to_string)
                    .collect(),
            })
        })
        .collect()
}

/// `column IN (…)` for a list of ids (integers, so spelled inline safely), or true for all.
fn id_filter(column: &str, ids: Option<&[i64]>) -> String {
    match ids {
        None => "1 = 1".to_string(),
        Some([]) => "1 = 0".to_string(),
        Some(ids) => {
            let list: Vec<String> = ids.iter().map(i64::to_string).collect();
            format!("{column} IN ({})", list.join(", "))
        }
    }
}

/// A repository as the dashboard lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepositoryRow {
    pub id: i64,
    pub installation_id: i64,
    pub full_name: String,
    /// The tier its last scan used; `None` before the first scan.
    pub tier: Option<String>,
}

/// The repositories not removed from their installation (all, or the given ids), by name.
pub async fn repositories<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    ids: Option<&[i64]>,
) -> Result<Vec<RepositoryRow>, StoreError> {
    let filter = id_filter("r.id", ids);
    let sql = format!(
        "SELECT r.id, r.installation_id, r.full_name, p.tier
         FROM repositories r LEFT JOIN repository_profiles p ON p.repository_id = r.id
         WHERE r.removed_at IS NULL AND {filter}
         ORDER BY r.full_name"
    );
    let rows = sqlx::query(&sql).fetch_all(ex).await?;
    rows.iter()
        .map(|r| {
            Ok(RepositoryRow {
                id: r.try_get("id")?,
                installation_id: r.try_get("installation_id")?,
                full_name: r.try_get("full_name")?,
                tier: r.try_get("tier")?,
            })
        })
        .collect()
}

/// Records the tier a repository was just scanned under.
pub async fn set_tier<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    repository_id: i64,
    tier: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO repository_profiles (repository_id, tier, updated_at) VALUES ($1, $2, $3)
         ON CONFLICT (repository_id) DO UPDATE SET tier = excluded.tier, updated_at = excluded.updated_at",
    )
    .bind(repository_id)
    .bind(tier)
    .bind(to_ms(now))
    .execute(ex)
    .await?;
    Ok(())
}

/// Every fix PR of the given repositories (all when `None`), oldest first.
pub async fn fix_prs<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    repositories: Option<&[i64]>,
) -> Result<Vec<FixPr>, StoreError> {
    let filter = id_filter("repository_id", repositories);
    let sql = format!(
        "SELECT {} FROM fix_prs WHERE {filter} ORDER BY opened_at, repository_id, number",
        fix_prs::COLUMNS
    );
    let rows = sqlx::query(&sql).fetch_all(ex).await?;
    rows.iter().map(fix_prs::from_row).collect()
}

/// The accepted risks of the given repositories (all when `None`), revoked ones included.
pub async fn accepted_risks<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    repositories: Option<&[i64]>,
) -> Result<Vec<super::accepted_risks::AcceptedRisk>, StoreError> {
    let filter = id_filter("repository_id", repositories);
    let sql = format!("SELECT * FROM accepted_risks WHERE {filter} ORDER BY granted_at, id");
    let rows = sqlx::query(&sql).fetch_all(ex).await?;
    rows.iter().map(super::accepted_risks::from_row).collect()
}

/// The update ignores in force for the given repositories (all when `None`).
pub async fn live_ignores<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    repositories: Option<&[i64]>,
) -> Result<Vec<super::ignores::UpdateIgnore>, StoreError> {
    let filter = id_filter("repository_id", repositories);
    let sql = format!(
        "SELECT * FROM update_ignores WHERE removed_at IS NULL AND {filter} ORDER BY created_at, id"
    );
    let rows = sqlx::query(&sql).fetch_all(ex).await?;
    rows.iter().map(super::ignores::from_row).collect()
}

/// A repository's audit trail, newest first, at most `limit` entries.
pub async fn audit_trail<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    repository_id: i64,
    limit: i64,
) -> Result<Vec<super::audit::AuditEntry>, StoreError> {
    let rows = sqlx::query(
        "SELECT at, installation_id, repository_id, job_id, delivery_id, action, reason
         FROM audit WHERE repository_id = $1 ORDER BY at DESC, id DESC LIMIT $2",
    )
    .bind(repository_id)
    .bind(limit)
    .fetch_all(ex)
    .await?;
    rows.iter().map(super::audit::from_row).collect()
}

/// One row of the daily snapshot: open findings of a repository at the end of `day`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct SnapshotRow {
    pub day: NaiveDate,
    pub repository_id: i64,
    pub level: String,
    pub severity: String,
    pub open: i64,
}

/// Replaces the snapshot rows of the days `from..=to` of the given repositories (all when
/// `None`) with `rows` (which must lie in those days and repositories), in one transaction:
/// the rebuild is all or nothing.
pub async fn replace_snapshots(
    conn: &mut AnyConnection,
    from: NaiveDate,
    to: NaiveDate,
    repositories: Option<&[i64]>,
    rows: &[SnapshotRow],
) -> Result<(), StoreError> {
    let filter = id_filter("repository_id", repositories);
    sqlx::query(&format!(
        "DELETE FROM daily_snapshots WHERE day >= $1 AND day <= $2 AND {filter}"
    ))
    .bind(from.to_string())
    .bind(to.to_string())
    .execute(&mut *conn)
    .await?;
    // Several rows per statement: a year of a thousand repositories is ~10⁵ rows.
    for chunk in rows.chunks(200) {
        let mut sql = String::from(
            "INSERT INTO daily_snapshots (day, repository_id, level, severity, open_count) VALUES ",
        );
        for (i, _) in chunk.iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            let b = i * 5;
            sql.push_str(&format!(
                "(${}, ${}, ${}, ${}, ${})",
                b + 1,
                b + 2,
                b + 3,
                b + 4,
                b + 5
            ));
        }
        let mut q = sqlx::query(&sql);
        for r in chunk {
            q = q
                .bind(r.day.to_string())
                .bind(r.repository_id)
                .bind(&r.level)
                .bind(&r.severity)
                .bind(r.open);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// The snapshot rows from `from` on, for the given repositories (all when `None`).
pub async fn snapshots<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    from: NaiveDate,
    repositories: Option<&[i64]>,
) -> Result<Vec<SnapshotRow>, StoreError> {
    let filter = id_filter("repository_id", repositories);
    let sql = format!(
        "SELECT day, repository_id, level, severity, open_count FROM daily_snapshots
         WHERE day >= $1 AND {filter} ORDER BY day, repository_id, level, severity"
    );
    let rows = sqlx::query(&sql)
        .bind(from.to_string())
        .fetch_all(ex)
        .await?;
    rows.iter()
        .map(|r| {
            Ok(SnapshotRow {
                day: parse_day(r.try_get("day")?)?,
                repository_id: r.try_get("repository_id")?,
                level: r.try_get("level")?,
                severity: r.try_get("severity")?,
                open: r.try_get("open_count")?,
            })
        })
        .collect()
}

/// The daily open counts from `from` on, summed over the given repositories (all when
/// `None`): one row per day, level and severity, with `repository_id` 0 (no one repository).
/// What a chart of many repositories draws; summing in the database spares reading a row per
/// repository and day (~10⁵ rows for a thousand repositories over 90 days).
pub async fn snapshot_totals<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    from: NaiveDate,
    repositories: Option<&[i64]>,
) -> Result<Vec<SnapshotRow>, StoreError> {
    let filter = id_filter("repository_id", repositories);
    // PostgreSQL sums BIGINT into NUMERIC: cast back so both backends return an integer.
    let sql = format!(
        "SELECT day, level, severity, CAST(SUM(open_count) AS BIGINT) AS open_count
         FROM daily_snapshots WHERE day >= $1 AND {filter}
         GROUP BY day, level, severity ORDER BY day, level, severity"
    );
    let rows = sqlx::query(&sql)
        .bind(from.to_string())
        .fetch_all(ex)
        .await?;
    rows.iter()
        .map(|r| {
            Ok(SnapshotRow {
                day: parse_day(r.try_get("day")?)?,
                repository_id: 0,
                level: r.try_get("level")?,
                severity: r.try_get("severity")?,
                open: r.try_get("open_count")?,
            })
        })
        .collect()
}

fn parse_day(day: String) -> Result<NaiveDate, StoreError> {
    day.parse().map_err(|_| StoreError::Corrupt {
        table: "daily_snapshots",
        message: format!("day `{day}` is not YYYY-MM-DD"),
    })
}

/// Everything the figures need about the given repositories (all when `None`), with the daily
/// snapshots from `snapshots_from` on.
pub async fn dataset(
    store: &super::Store,
    repositories: Option<&[i64]>,
    snapshots_from: NaiveDate,
) -> Result<crate::remediation::Dataset, StoreError> {
    let mut data = records(store, repositories).await?;
    data.snapshots = snapshots(store.pool(), snapshots_from, repositories).await?;
    Ok(data)
}

/// [`dataset`] without the daily snapshots, for callers that read them summed
/// ([`snapshot_totals`]) or compute them.
pub async fn records(
    store: &super::Store,
    repositories: Option<&[i64]>,
) -> Result<crate::remediation::Dataset, StoreError> {
    let pool = store.pool();
    Ok(crate::remediation::Dataset {
        repositories: self::repositories(pool, repositories).await?,
        events: events(pool, repositories).await?,
        fix_prs: fix_prs(pool, repositories).await?,
        accepted_risks: accepted_risks(pool, repositories).await?,
        ignores: live_ignores(pool, repositories).await?,
        snapshots: Vec::new(),
    })
}

/// Rebuilds the daily snapshots of `from..=to` from the events: what the daily job runs for
/// yesterday and today, and what an operator runs over the whole history after a change to
/// how they are counted. Returns the rows written.
pub async fn rebuild_snapshots(
    store: &super::Store,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<usize, StoreError> {
    rebuild_snapshots_of(store, from, to, None).await
}

/// [`rebuild_snapshots`] for the given repositories only (all when `None`): what the daily job
/// runs per installation.
pub async fn rebuild_snapshots_of(
    store: &super::Store,
    from: NaiveDate,
    to: NaiveDate,
    repositories: Option<&[i64]>,
) -> Result<usize, StoreError> {
    let events = events(store.pool(), repositories).await?;
    let exposures = crate::remediation::exposures(&events);
    let rows = crate::remediation::snapshots::daily_counts(&exposures, from, to);
    let mut tx = store.begin().await?;
    replace_snapshots(&mut tx, from, to, repositories, &rows).await?;
    tx.commit().await?;
    Ok(rows.len())
}
