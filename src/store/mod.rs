//! Persistence (sqlx): SQLite by default, PostgreSQL when several replicas share the work.
//!
//! One query text serves both backends through sqlx's `Any` driver: placeholders are `$1`
//! (SQLite accepts them too), times are integer unix milliseconds, flags are 0/1 integers.
//! The schema has one migration set per backend (`migrations/sqlite`, `migrations/postgres`),
//! kept in step by `tests/store.rs`.
//!
//! SQL lives in plain functions over an executor, one module per table family, so a caller can
//! run several of them in one transaction; [`Store`] is the thin client that owns the pool.

pub mod accepted_risks;
pub mod audit;
pub mod deliveries;
pub mod findings;
pub mod fix_prs;
pub mod ignores;
pub mod installations;
pub mod jobs;
pub mod tracking;

use chrono::{DateTime, Utc};
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::migrate::Migrator;
use sqlx::{Any, AnyPool, Transaction};
use std::time::Duration;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

/// Which database a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The backend a database URL names, from its scheme.
    pub fn from_url(url: &str) -> Result<Backend, StoreError> {
        let scheme = url.split_once(':').map(|(s, _)| s).unwrap_or("");
        match scheme {
            "sqlite" => Ok(Backend::Sqlite),
            "postgres" | "postgresql" => Ok(Backend::Postgres),
            _ => Err(StoreError::UnsupportedUrl {
                url: redact_url(url),
            }),
        }
    }

    /// The migrations for this backend.
    pub fn migrator(self) -> &'static Migrator {
        match self {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "database URL `{url}` names no supported database; use `sqlite://path.db?mode=rwc` or `postgres://user@host/db`"
    )]
    UnsupportedUrl { url: String },
    #[error("cannot connect to `{url}`: {source}")]
    Connect {
        url: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("cannot migrate the database schema: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database error: {0}")]
    Sql(#[from] sqlx::Error),
    /// A stored value this code cannot read back (a time out of range, an unknown state).
    #[error("corrupt row in `{table}`: {message}")]
    Corrupt {
        table: &'static str,
        message: String,
    },
}

/// The store client: a connection pool on one backend.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

impl Store {
    /// Connects to `url` and brings the schema up to date.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        Store::connect_with(url, 8).await
    }

    /// Like [`Store::connect`], with a bound on open connections.
    pub async fn connect_with(url: &str, max_connections: u32) -> Result<Store, StoreError> {
        let backend = Backend::from_url(url)?;
        install_default_drivers();
        let mut options = AnyPoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(Duration::from_secs(10));
        if backend == Backend::Sqlite {
            // WAL lets readers run beside the one writer; NORMAL sync is safe under WAL and
            // keeps webhook intake in the millisecond range.
            options = options.after_connect(|conn, _meta| {
                Box::pin(async move {
                    sqlx::query("PRAGMA journal_mode = WAL")
                        .execute(&mut *conn)
                        .await?;
                    sqlx::query("PRAGMA synchronous = NORMAL")
                        .execute(&mut *conn)
                        .await?;
                    Ok(())
                })
            });
        }
        let pool = options
            .connect(url)
            .await
            .map_err(|source| StoreError::Connect {
                url: redact_url(url),
                source,
            })?;
        let store = Store { pool, backend };
        store.migrate().await?;
        Ok(store)
    }

    /// Applies the migrations not yet applied; a no-op on an up-to-date database.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        self.backend.migrator().run(&self.pool).await?;
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The pool, for the functions of the table modules.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Starts a transaction. Begin write transactions with a write: SQLite upgrades a read
    /// transaction to a write one without waiting for the lock.
    pub async fn begin(&self) -> Result<Transaction<'static, Any>, StoreError> {
        Ok(self.pool.begin().await?)
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Answers when the database does; for `/healthz`.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}

/// `url` with any password replaced, fit for logs and error messages.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _password)) => format!("{scheme}://{user}:[redacted]@{host}{tail}"),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

/// A time as stored: unix milliseconds.
pub(crate) fn to_ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

/// A stored time back; `table` names where it came from when it is out of range.
pub(crate) fn from_ms(ms: i64, table: &'static str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp_millis(ms).ok_or_else(|| StoreError::Corrupt {
        table,
        message: format!("time {ms} ms is out of range"),
    })
}

pub(crate) fn from_ms_opt(
    ms: Option<i64>,
    table: &'static str,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    ms.map(|ms| from_ms(ms, table)).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_follows_the_url_scheme() {
        assert_eq!(
            Backend::from_url("sqlite://x.db?mode=rwc").unwrap(),
            Backend::Sqlite
        );
        assert_eq!(
            Backend::from_url("postgres://postgres@127.0.0.1/test").unwrap(),
            Backend::Postgres
        );
        assert_eq!(
            Backend::from_url("postgresql://h/db").unwrap(),
            Backend::Postgres
        );
        let err = Backend::from_url("mysql://root:hunter2@h/db").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("mysql://root:[redacted]@h/db"), "{text}");
        assert!(!text.contains("hunter2"), "{text}");
    }

    #[test]
    fn redaction_keeps_user_and_host_and_drops_the_password() {
        assert_eq!(
            redact_url("postgres://bot:s3cret@db.internal:5432/pw?sslmode=require"),
            "postgres://bot:[redacted]@db.internal:5432/pw?sslmode=require"
        );
        assert_eq!(redact_url("postgres://bot@db/pw"), "postgres://bot@db/pw");
        assert_eq!(
            redact_url("sqlite://patchwright.db?mode=rwc"),
            "sqlite://patchwright.db?mode=rwc"
        );
        // An `@` after the authority is not a password separator.
        assert_eq!(redact_url("sqlite://a/b@c.db"), "sqlite://a/b@c.db");
    }
}
