//! Dashboard sessions: who signed in, what they may see, until when.

use super::{StoreError, from_ms, to_ms};
use chrono::{DateTime, Utc};
use sqlx::{Any, Executor, Row};

/// A signed-in person, as stored (found by the hash of the cookie's token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebSession {
    pub login: String,
    pub admin: bool,
    /// The repositories GitHub said the person can see, at sign-in.
    pub repository_ids: Vec<i64>,
    pub csrf: String,
    pub expires_at: DateTime<Utc>,
}

pub async fn insert<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    token_hash: &str,
    session: &WebSession,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let ids: Vec<String> = session.repository_ids.iter().map(i64::to_string).collect();
    sqlx::query(
        "INSERT INTO web_sessions (token_hash, login, admin, repository_ids, csrf, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(token_hash)
    .bind(&session.login)
    .bind(i64::from(session.admin))
    .bind(ids.join(" "))
    .bind(&session.csrf)
    .bind(to_ms(now))
    .bind(to_ms(session.expires_at))
    .execute(ex)
    .await?;
    Ok(())
}

/// The session of a token hash, if it exists and has not expired at `now`.
pub async fn get<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<WebSession>, StoreError> {
    let row = sqlx::query(
        "SELECT login, admin, repository_ids, csrf, expires_at FROM web_sessions
         WHERE token_hash = $1 AND expires_at > $2",
    )
    .bind(token_hash)
    .bind(to_ms(now))
    .fetch_optional(ex)
    .await?;
    let Some(r) = row else { return Ok(None) };
    let ids: String = r.try_get("repository_ids")?;
    let repository_ids = ids
        .split_whitespace()
        .map(|id| {
            id.parse().map_err(|_| StoreError::Corrupt {
                table: "web_sessions",
                message: format!("repository id `{id}` is not a number"),
            })
        })
        .collect::<Result<_, _>>()?;
    Ok(Some(WebSession {
        login: r.try_get("login")?,
        admin: r.try_get::<i64, _>("admin")? != 0,
        repository_ids,
        csrf: r.try_get("csrf")?,
        expires_at: from_ms(r.try_get("expires_at")?, "web_sessions")?,
    }))
}

/// Ends a session (sign-out).
pub async fn delete<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    token_hash: &str,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM web_sessions WHERE token_hash = $1")
        .bind(token_hash)
        .execute(ex)
        .await?;
    Ok(())
}

/// Removes sessions expired at `now`; returns how many.
pub async fn purge_expired<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let done = sqlx::query("DELETE FROM web_sessions WHERE expires_at <= $1")
        .bind(to_ms(now))
        .execute(ex)
        .await?;
    Ok(done.rows_affected())
}
