//! Persistence (sqlx): SQLite by default, PostgreSQL when several replicas share the work.
