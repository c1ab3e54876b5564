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
pub mod history;
pub mod ignores;
pub mod installations;
pub mod jobs;
pub mod lineage;
pub mod notifications;
pub mod packages;
pub mod push_intake;
pub mod scan_marks;
pub mod snapshot_runs;
pub mod tracking;
pub mod web_sessions;

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

impl StoreError {
    /// Whether the error says the connection itself is gone (the server closed it, was
    /// restarted, or the socket broke) rather than anything about the statement: what a
    /// test-before-acquire ping would have caught before the statement was sent. Nothing
    /// the statement did survives such an error unless it was a `COMMIT` that reached the
    /// server, so a caller whose work is idempotent may run it again on another connection.
    pub fn is_connection_lost(&self) -> bool {
        match self {
            StoreError::Sql(sqlx::Error::Io(_)) => true,
            // Class 08 is "connection exception"; 57P01-57P03 are the server shutting down
            // or restarting (what a terminated backend reports before it hangs up).
            StoreError::Sql(sqlx::Error::Database(e)) => e.code().is_some_and(|code| {
                code.starts_with("08") || matches!(&*code, "57P01" | "57P02" | "57P03")
            }),
            _ => false,
        }
    }
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

    /// A second pool on the same database, of at most `max_connections`, that hands out its
    /// idle connections without sqlx's test-before-acquire ping: for webhook intake, where
    /// the ping is a round trip to PostgreSQL on every delivery's critical path. A
    /// connection the server dropped meanwhile then fails its first statement instead, with
    /// an error [`StoreError::is_connection_lost`] tells, and intake retries the delivery on
    /// the tested pool (see `service::webhook::receive`). sqlx still pings a connection when
    /// it is released, off the request's path, and drops it if that fails.
    ///
    /// The pool keeps all its connections: [`Store::open_connections`] opens them, and sqlx
    /// replaces one it closes (past its lifetime, or failing the ping on release) in the
    /// background. Otherwise each delivery that finds no idle connection, as every one does
    /// after a start, opens one on its own path (a backend forked and authenticated).
    ///
    /// On SQLite this is the store itself: its ping is no network round trip, and a second
    /// pool would only add writers contending for the one write lock.
    pub fn untested_twin(&self, max_connections: u32) -> Store {
        if self.backend == Backend::Sqlite {
            return self.clone();
        }
        let max_connections = max_connections.max(1);
        let pool = self
            .pool
            .options()
            .clone()
            .test_before_acquire(false)
            .max_connections(max_connections)
            .min_connections(max_connections)
            .connect_lazy_with((*self.pool.connect_options()).clone());
        Store {
            pool,
            backend: self.backend,
        }
    }

    /// Opens now the connections the pool keeps (its minimum), so that requests served
    /// afterwards find them open: sqlx only keeps a minimum once it has been reached.
    pub async fn open_connections(&self) -> Result<(), StoreError> {
        let keep = self.pool.options().get_min_connections() as usize;
        // Each held, so the next acquire opens another; dropped together, all go back idle.
        let mut held = Vec::with_capacity(keep);
        while held.len() < keep {
            held.push(self.pool.acquire().await?);
        }
        Ok(())
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

    /// Answers when the database does.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Succeeds when the database takes a write now, for readiness: a write transaction on
    /// the table webhook intake writes first, touching no row, rolled back. A lost server, a
    /// read-only database or session, and a write lock held elsewhere all fail it (the last
    /// by not answering: callers bound the wait).
    pub async fn check_writable(&self) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE deliveries SET outcome = outcome WHERE id = $1")
            .bind("readiness probe: matches no delivery")
            .execute(&mut *tx)
            .await?;
        tx.rollback().await?;
        Ok(())
    }
}

/// Query parameters that carry a password in a database URL (libpq's `password`,
/// `sslpassword`; any name with "password" in it, to be safe).
fn is_secret_param(name: &str) -> bool {
    name.to_ascii_lowercase().contains("password")
}

/// `url` with any password (in the user info or the query string) replaced, fit for logs and
/// error messages. A URL that does not parse is cut to its scheme, since where its secrets
/// are cannot be told.
pub fn redact_url(url: &str) -> String {
    const MARK: &str = "[redacted]";
    let Ok(mut parsed) = url::Url::parse(url) else {
        return match url.split_once("://") {
            Some((scheme, _)) => format!("{scheme}://{MARK}"),
            None => MARK.to_string(),
        };
    };
    // Written as a placeholder `Url` accepts, then spelled the usual way.
    const PLACEHOLDER: &str = "REDACTEDPASSWORD";
    if parsed.password().is_some() && parsed.set_password(Some(PLACEHOLDER)).is_err() {
        return format!("{}://{MARK}", parsed.scheme());
    }
    if parsed.query_pairs().any(|(k, _)| is_secret_param(&k)) {
        let pairs: Vec<(String, String)> = parsed
            .query_pairs()
            .map(|(k, v)| {
                let v = if is_secret_param(&k) {
                    PLACEHOLDER.to_string()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        parsed.query_pairs_mut().clear().extend_pairs(pairs);
    }
    parsed.to_string().replace(PLACEHOLDER, MARK)
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

    #[test]
    fn a_password_in_the_query_string_is_redacted_too() {
        let redacted = redact_url(
            "postgres://db.internal/pw?user=bot&password=s3cret&sslmode=require&sslpassword=k3y",
        );
        assert_eq!(
            redacted,
            "postgres://db.internal/pw?user=bot&password=[redacted]&sslmode=require&sslpassword=[redacted]"
        );
        let both = redact_url("postgresql://bot:one@h/db?PASSWORD=two");
        assert!(!both.contains("one") && !both.contains("two"), "{both}");
        // What cannot be parsed cannot be trusted to be clean.
        assert_eq!(
            redact_url("postgres://bot:s3cret@[::1/db"),
            "postgres://[redacted]"
        );
    }
}
