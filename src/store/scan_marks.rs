//! What the last default-branch scan of each repository saw: the branch, its head, GitHub's
//! validator for that head, and the knowledge it was judged by. A sweep reads it to ask GitHub
//! conditionally whether anything moved, and ends the scan there when nothing did.

use super::{StoreError, from_ms, from_ms_opt, to_ms};
use chrono::{DateTime, Utc};
use sqlx::{Any, Executor, Row};

const TABLE: &str = "repository_scan_marks";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanMark {
    pub repository_id: i64,
    pub default_branch: String,
    pub head_sha: String,
    /// The validator GitHub gave for `head_sha`, if any.
    pub etag: Option<String>,
    /// Digest of everything besides the commit that the scan's result depends on.
    pub knowledge_key: String,
    /// The first instant at which the same inputs may judge differently (an end-of-life date,
    /// an exception's expiry); `None` when no such date is known.
    pub reusable_until: Option<DateTime<Utc>>,
    pub scanned_at: DateTime<Utc>,
}

/// The mark of `repository_id`, if a scan left one.
pub async fn get<'e>(
    db: impl Executor<'e, Database = Any>,
    repository_id: i64,
) -> Result<Option<ScanMark>, StoreError> {
    let row = sqlx::query(
        "SELECT default_branch, head_sha, etag, knowledge_key, reusable_until, scanned_at
         FROM repository_scan_marks WHERE repository_id = $1",
    )
    .bind(repository_id)
    .fetch_optional(db)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    Ok(Some(ScanMark {
        repository_id,
        default_branch: row.try_get(0)?,
        head_sha: row.try_get(1)?,
        etag: row.try_get(2)?,
        knowledge_key: row.try_get(3)?,
        reusable_until: from_ms_opt(row.try_get(4)?, TABLE)?,
        scanned_at: from_ms(row.try_get(5)?, TABLE)?,
    }))
}

/// Records `mark`, replacing the repository's earlier one.
pub async fn put<'e>(
    db: impl Executor<'e, Database = Any>,
    mark: &ScanMark,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO repository_scan_marks
             (repository_id, default_branch, head_sha, etag, knowledge_key, reusable_until, scanned_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (repository_id) DO UPDATE SET
             default_branch = excluded.default_branch, head_sha = excluded.head_sha,
             etag = excluded.etag, knowledge_key = excluded.knowledge_key,
             reusable_until = excluded.reusable_until, scanned_at = excluded.scanned_at",
    )
    .bind(mark.repository_id)
    .bind(&mark.default_branch)
    .bind(&mark.head_sha)
    .bind(&mark.etag)
    .bind(&mark.knowledge_key)
    .bind(mark.reusable_until.map(to_ms))
    .bind(to_ms(mark.scanned_at))
    .execute(db)
    .await?;
    Ok(())
}

/// Keeps `etag`, GitHub's validator for `head_sha`, on the repository's mark, if the mark is
/// still about that head.
pub async fn set_etag<'e>(
    db: impl Executor<'e, Database = Any>,
    repository_id: i64,
    head_sha: &str,
    etag: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE repository_scan_marks SET etag = $1 WHERE repository_id = $2 AND head_sha = $3",
    )
    .bind(etag)
    .bind(repository_id)
    .bind(head_sha)
    .execute(db)
    .await?;
    Ok(())
}

/// Repository ids whose mark has no date passed at `now`: what a sweep plans as cheap (one
/// conditional request) unless the knowledge changed since.
pub async fn reusable_at<'e>(
    db: impl Executor<'e, Database = Any>,
    now: DateTime<Utc>,
) -> Result<Vec<i64>, StoreError> {
    let rows = sqlx::query(
        "SELECT repository_id FROM repository_scan_marks
         WHERE reusable_until IS NULL OR reusable_until > $1",
    )
    .bind(to_ms(now))
    .fetch_all(db)
    .await?;
    rows.iter()
        .map(|r| r.try_get::<i64, _>(0).map_err(StoreError::from))
        .collect()
}
