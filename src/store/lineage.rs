//! Base-image periods (`base_image_periods`): what each scan saw each Dockerfile stage built
//! from. The decisions are pure (`remediation::lineage::recording`); this module reads and
//! writes the rows.

use super::{StoreError, from_ms, to_ms};
use crate::remediation::lineage::{BaseImagePeriod, BaseImageSeen, Recording, recording};
use chrono::{DateTime, Utc};
use sqlx::{Any, AnyConnection, Executor, Row};

const TABLE: &str = "base_image_periods";

/// Every period of a repository, oldest first.
pub async fn periods<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    repository_id: i64,
) -> Result<Vec<BaseImagePeriod>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, repository_id, file, stage, image, tag, digest, first_commit,
                first_seen_at, last_seen_at
         FROM base_image_periods WHERE repository_id = $1
         ORDER BY first_seen_at, id",
    )
    .bind(repository_id)
    .fetch_all(ex)
    .await?;
    rows.iter()
        .map(|r| {
            let digest: String = r.try_get("digest")?;
            Ok(BaseImagePeriod {
                id: r.try_get("id")?,
                repository_id: r.try_get("repository_id")?,
                file: r.try_get("file")?,
                stage: r.try_get("stage")?,
                image: r.try_get("image")?,
                tag: r.try_get("tag")?,
                digest: (!digest.is_empty()).then_some(digest),
                first_commit: r.try_get("first_commit")?,
                first_seen_at: from_ms(r.try_get("first_seen_at")?, TABLE)?,
                last_seen_at: from_ms(r.try_get("last_seen_at")?, TABLE)?,
            })
        })
        .collect()
}

/// Records the base images a default-branch scan of `commit` saw at `now`: each stage's
/// latest period goes on, or a new one starts. Run it in the scan's transaction.
pub async fn record(
    conn: &mut AnyConnection,
    repository_id: i64,
    commit: &str,
    seen: &[BaseImageSeen],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let all = periods(&mut *conn, repository_id).await?;
    // Oldest first, so the last one of a stage wins.
    let mut latest = std::collections::HashMap::new();
    for p in all {
        latest.insert((p.file.clone(), p.stage.clone()), p);
    }
    let latest: Vec<BaseImagePeriod> = latest.into_values().collect();
    for write in recording(&latest, seen) {
        match write {
            Recording::Extend { id, digest } => {
                sqlx::query(
                    "UPDATE base_image_periods
                     SET last_seen_at = $1, digest = CASE WHEN $2 = '' THEN digest ELSE $2 END
                     WHERE id = $3",
                )
                .bind(to_ms(now))
                .bind(digest.unwrap_or_default())
                .bind(id)
                .execute(&mut *conn)
                .await?;
            }
            Recording::Start(s) => {
                sqlx::query(
                    "INSERT INTO base_image_periods (repository_id, file, stage, image, tag,
                         digest, first_commit, first_seen_at, last_seen_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
                )
                .bind(repository_id)
                .bind(&s.file)
                .bind(&s.stage)
                .bind(&s.image)
                .bind(&s.tag)
                .bind(s.digest.as_deref().unwrap_or(""))
                .bind(commit)
                .bind(to_ms(now))
                .execute(&mut *conn)
                .await?;
            }
        }
    }
    Ok(())
}
