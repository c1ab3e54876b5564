//! The store on real databases: SQLite always, PostgreSQL when `DATABASE_URL` names one.
//! Every test body runs once per backend (see `support::each_backend`).

mod support;

use chrono::{DateTime, TimeDelta, Utc};
use patchwright::commands::{IgnoreScope, Target};
use patchwright::model::ExceptionOrigin;
use patchwright::model::{Finding, Location, RuleId};
use patchwright::store::deliveries::{self, Delivery};
use patchwright::store::findings::{self, SeenFinding};
use patchwright::store::fix_prs::{self, FixPrState, OpenedFixPr};
use patchwright::store::installations::{self, RepositoryUpsert};
use patchwright::store::tracking::{self, TrackingState};
use patchwright::store::{Backend, Store, StoreError};
use sqlx::Row;
use std::collections::BTreeMap;
use support::accepted_risks::{self, NewAcceptedRisk};
use support::audit::{self, AuditEntry};
use support::ignores::{self, NewIgnore};
use support::jobs::{self, Claim, JobState, NewJob};
use support::{TestDb, each_backend, postgres_url};

fn t(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

const MIGRATIONS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations");

/// A table as the database describes it: columns (name, type family, not null) and indexes.
#[derive(Debug, PartialEq, Eq)]
struct TableShape {
    columns: Vec<(String, &'static str, bool)>,
    primary_key: Vec<String>,
    indexes: Vec<(String, bool)>,
}

/// Types differ by spelling between the backends (INTEGER vs BIGINT); compare families.
fn family(declared: &str) -> &'static str {
    let d = declared.to_ascii_lowercase();
    if d.contains("int") {
        "integer"
    } else if d.contains("text") || d.contains("char") {
        "text"
    } else {
        "other"
    }
}

async fn shape(store: &Store) -> BTreeMap<String, TableShape> {
    let pool = store.pool();
    let mut tables = BTreeMap::new();
    match store.backend() {
        Backend::Sqlite => {
            let names: Vec<String> = sqlx::query_scalar(
                "SELECT name FROM sqlite_master WHERE type = 'table'
                 AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations' ORDER BY name",
            )
            .fetch_all(pool)
            .await
            .unwrap();
            for name in names {
                let cols = sqlx::query(&format!(
                    "SELECT name, type, \"notnull\" AS nn, pk FROM pragma_table_info('{name}') ORDER BY cid"
                ))
                .fetch_all(pool)
                .await
                .unwrap();
                let mut columns = Vec::new();
                let mut primary_key = Vec::new();
                for c in cols {
                    let col: String = c.get("name");
                    let ty: String = c.get("type");
                    let pk: i64 = c.get("pk");
                    // SQLite lets a primary key column be NULL unless it is a rowid alias;
                    // INTEGER PRIMARY KEY is one, TEXT PRIMARY KEY is declared NOT NULL by
                    // being a key: report both as not null, as PostgreSQL does.
                    let nn: i64 = c.get("nn");
                    if pk > 0 {
                        primary_key.push(col.clone());
                    }
                    columns.push((col, family(&ty), nn != 0 || pk > 0));
                }
                let idx = sqlx::query(&format!(
                    "SELECT name, \"unique\" AS u, origin FROM pragma_index_list('{name}') ORDER BY name"
                ))
                .fetch_all(pool)
                .await
                .unwrap();
                let indexes = idx
                    .iter()
                    .filter(|r| r.get::<String, _>("origin") == "c")
                    .map(|r| (r.get::<String, _>("name"), r.get::<i64, _>("u") != 0))
                    .collect();
                tables.insert(
                    name,
                    TableShape {
                        columns,
                        primary_key,
                        indexes,
                    },
                );
            }
        }
        Backend::Postgres => {
            let names: Vec<String> = sqlx::query_scalar(
                "SELECT table_name::text FROM information_schema.tables
                 WHERE table_schema = 'public' AND table_name <> '_sqlx_migrations'
                 ORDER BY table_name",
            )
            .fetch_all(pool)
            .await
            .unwrap();
            for name in names {
                let cols = sqlx::query(
                    "SELECT column_name::text AS name, data_type::text AS ty,
                            is_nullable::text AS nullable
                     FROM information_schema.columns
                     WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position",
                )
                .bind(&name)
                .fetch_all(pool)
                .await
                .unwrap();
                let columns = cols
                    .iter()
                    .map(|c| {
                        (
                            c.get::<String, _>("name"),
                            family(&c.get::<String, _>("ty")),
                            c.get::<String, _>("nullable") == "NO",
                        )
                    })
                    .collect();
                let primary_key: Vec<String> = sqlx::query_scalar(
                    "SELECT a.attname::text FROM pg_index i
                     JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
                     WHERE i.indrelid = $1::regclass AND i.indisprimary",
                )
                .bind(&name)
                .fetch_all(pool)
                .await
                .unwrap();
                let indexes = sqlx::query(
                    "SELECT c.relname::text AS name, CASE WHEN i.indisunique THEN 1 ELSE 0 END AS u
                     FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
                     WHERE i.indrelid = $1::regclass AND NOT i.indisprimary
                     ORDER BY c.relname",
                )
                .bind(&name)
                .fetch_all(pool)
                .await
                .unwrap()
                .iter()
                .map(|r| (r.get::<String, _>("name"), r.get::<i32, _>("u") != 0))
                .collect();
                tables.insert(
                    name,
                    TableShape {
                        columns,
                        primary_key,
                        indexes,
                    },
                );
            }
        }
    }
    tables
}

#[tokio::test]
async fn every_table_has_a_primary_key_and_the_expected_columns() {
    each_backend(|db| async move {
        let tables = shape(&db.store).await;
        let names: Vec<&str> = tables.keys().map(String::as_str).collect();
        assert_eq!(
            names,
            vec![
                "accepted_risks",
                "audit",
                "base_image_periods",
                "daily_snapshots",
                "deliveries",
                "finding_events",
                "finding_facts",
                "findings",
                "fix_prs",
                "installations",
                "job_attempts",
                "jobs",
                "notification_state",
                "notifications_sent",
                "repositories",
                "repository_packages",
                "repository_profiles",
                "repository_scan_marks",
                "snapshot_runs",
                "tracking_issues",
                "update_ignores",
                "web_sessions",
            ]
        );
        for (name, table) in &tables {
            assert!(!table.primary_key.is_empty(), "{name} has no primary key");
            for (col, fam, _) in &table.columns {
                if col.ends_with("_at") || col == "at" || col == "run_at" || col == "lease_until" {
                    assert_eq!(*fam, "integer", "{name}.{col}: times are unix milliseconds");
                }
            }
        }
        let fix_prs: Vec<&str> = tables["fix_prs"]
            .columns
            .iter()
            .map(|c| c.0.as_str())
            .collect();
        for col in [
            "repository_id",
            "branch",
            "fix_key",
            "number",
            "state",
            "head_sha",
            "closed_by_human",
        ] {
            assert!(fix_prs.contains(&col), "fix_prs lacks {col}");
        }
        let findings: Vec<&str> = tables["findings"]
            .columns
            .iter()
            .map(|c| c.0.as_str())
            .collect();
        for col in ["first_seen_at", "last_seen_at", "fixed_at"] {
            assert!(findings.contains(&col), "findings lacks {col}");
        }
        assert!(
            tables["jobs"]
                .indexes
                .contains(&("jobs_one_running_per_key".to_string(), true)),
            "{:?}",
            tables["jobs"].indexes
        );
        assert!(
            tables["accepted_risks"]
                .indexes
                .contains(&("accepted_risks_live".to_string(), true)),
            "{:?}",
            tables["accepted_risks"].indexes
        );
        assert!(
            tables["update_ignores"]
                .indexes
                .contains(&("update_ignores_live".to_string(), true)),
            "{:?}",
            tables["update_ignores"].indexes
        );
        assert_eq!(tables["tracking_issues"].primary_key, ["repository_id"]);
    })
    .await;
}

#[tokio::test]
async fn both_backends_produce_the_same_schema() {
    // The migration files come in pairs with the same version and name.
    let list = |backend: &str| {
        let mut names: Vec<String> = std::fs::read_dir(format!("{MIGRATIONS}/{backend}"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    assert_eq!(list("sqlite"), list("postgres"));
    assert!(!list("sqlite").is_empty());

    let Some(_) = postgres_url() else {
        eprintln!("DATABASE_URL names no PostgreSQL server: comparing the migration files only");
        return;
    };
    let sqlite = TestDb::sqlite().await;
    let pg = TestDb::postgres().await.unwrap();
    let (a, b) = (shape(&sqlite.store).await, shape(&pg.store).await);
    sqlite.cleanup().await;
    pg.cleanup().await;
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (table, sqlite_shape) in &a {
        assert_eq!(
            sqlite_shape, &b[table],
            "table `{table}`: SQLite (left) vs PostgreSQL (right)"
        );
    }
}

#[tokio::test]
async fn migrations_apply_twice_and_their_sql_is_idempotent() {
    each_backend(|db| async move {
        // Connecting migrated once; the migrator run again is a no-op.
        db.store.migrate().await.unwrap();
        let applied: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations")
            .fetch_one(db.store.pool())
            .await
            .unwrap();
        let files = std::fs::read_dir(format!(
            "{MIGRATIONS}/{}",
            match db.backend {
                Backend::Sqlite => "sqlite",
                Backend::Postgres => "postgres",
            }
        ))
        .unwrap()
        .count();
        assert_eq!(applied, files as i64);

        // Each file's SQL itself survives a second application (IF NOT EXISTS throughout),
        // so a half-applied migration can be finished by hand.
        for m in db.backend.migrator().iter() {
            sqlx::raw_sql(&m.sql)
                .execute(db.store.pool())
                .await
                .unwrap_or_else(|e| {
                    panic!(
                        "migration {} is not idempotent on {:?}: {e}",
                        m.version, db.backend
                    )
                });
        }
        // And a second client on the same database finds nothing to do.
        let again = Store::connect(&db.url).await.unwrap();
        again.close().await;
    })
    .await;
}

#[tokio::test]
async fn installations_and_repositories_track_add_rename_remove_and_uninstall() {
    each_backend(|db| async move {
        let pool = db.store.pool();
        let now = t("2026-02-01T10:00:00Z");
        installations::upsert_installation(pool, 957387, "Codertocat", now)
            .await
            .unwrap();
        let repo = |name, branch| RepositoryUpsert {
            id: 186853002,
            installation_id: 957387,
            full_name: name,
            default_branch: branch,
            private: Some(false),
        };
        installations::upsert_repository(pool, &repo("Codertocat/Hello-World", None), now)
            .await
            .unwrap();
        let later = now + TimeDelta::hours(1);
        installations::upsert_repository(pool, &repo("Codertocat/Renamed", Some("main")), later)
            .await
            .unwrap();
        // An installation event (no branch) must not forget the branch a push taught us.
        installations::upsert_repository(pool, &repo("Codertocat/Renamed", None), later)
            .await
            .unwrap();
        let r = installations::repository(pool, 186853002)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(r.full_name, "Codertocat/Renamed");
        assert_eq!(r.default_branch.as_deref(), Some("main"));
        assert_eq!(r.added_at, now);
        assert_eq!(r.updated_at, later);
        assert!(!r.private);
        // A push says the repository is private; an installation event, which does not say,
        // keeps it so.
        let private = RepositoryUpsert {
            private: Some(true),
            ..repo("Codertocat/Renamed", None)
        };
        installations::upsert_repository(pool, &private, later)
            .await
            .unwrap();
        let unsaid = RepositoryUpsert {
            private: None,
            ..repo("Codertocat/Renamed", None)
        };
        installations::upsert_repository(pool, &unsaid, later)
            .await
            .unwrap();
        assert!(
            installations::repository(pool, 186853002)
                .await
                .unwrap()
                .unwrap()
                .private
        );

        installations::remove_repository(pool, 186853002, later)
            .await
            .unwrap();
        assert!(
            installations::active_repositories(pool, 957387)
                .await
                .unwrap()
                .is_empty()
        );
        installations::upsert_repository(pool, &repo("Codertocat/Renamed", None), later)
            .await
            .unwrap();
        assert_eq!(
            installations::active_repositories(pool, 957387)
                .await
                .unwrap()
                .len(),
            1
        );

        let mut conn = pool.acquire().await.unwrap();
        installations::delete_installation(&mut conn, 957387, later)
            .await
            .unwrap();
        drop(conn);
        let i = installations::installation(pool, 957387)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(i.deleted_at, Some(later));
        assert!(
            installations::active_repositories(pool, 957387)
                .await
                .unwrap()
                .is_empty()
        );
        // Reinstalling brings the installation back.
        installations::upsert_installation(pool, 957387, "Codertocat", later)
            .await
            .unwrap();
        let i = installations::installation(pool, 957387)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(i.deleted_at, None);
        assert_eq!(i.created_at, now);
        // ensure_installation leaves a known row alone.
        installations::ensure_installation(pool, 957387, "someone-else", later)
            .await
            .unwrap();
        let i = installations::installation(pool, 957387)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(i.account_login, "Codertocat");
    })
    .await;
}

#[tokio::test]
async fn a_delivery_id_is_stored_once() {
    each_backend(|db| async move {
        let pool = db.store.pool();
        let d = Delivery {
            id: "72d3162e-cc78-11e3-81ab-4c9367dc0958".into(),
            event: "push".into(),
            action: None,
            installation_id: Some(1),
            repository_id: Some(2),
            received_at: t("2026-02-01T10:00:00Z"),
            outcome: "queued".into(),
        };
        assert!(deliveries::insert(pool, &d).await.unwrap());
        let again = Delivery {
            outcome: "ignored: something else".into(),
            ..d.clone()
        };
        assert!(!deliveries::insert(pool, &again).await.unwrap());
        assert_eq!(deliveries::get(pool, &d.id).await.unwrap(), Some(d));
        assert_eq!(deliveries::count(pool).await.unwrap(), 1);
    })
    .await;
}

fn new_job(repo: i64, run_at: DateTime<Utc>) -> NewJob {
    NewJob {
        kind: "scan".into(),
        payload: "{}".into(),
        installation_id: Some(1),
        repository_id: Some(repo),
        concurrency_key: Some(format!("repo:{repo}")),
        delivery_id: None,
        run_at,
    }
}

#[tokio::test]
async fn claims_follow_due_time_lease_and_token() {
    each_backend(|db| async move {
        let pool = db.store.pool();
        let now = t("2026-02-01T10:00:00Z");
        let later = jobs::insert(pool, &new_job(1, now + TimeDelta::minutes(5)), now)
            .await
            .unwrap();
        let first = jobs::insert(pool, &new_job(2, now), now).await.unwrap();
        let lease = now + TimeDelta::minutes(1);

        let claimed = jobs::claim(pool, now, "token-a", lease)
            .await
            .unwrap()
            .into_job()
            .unwrap();
        assert_eq!(claimed.id, first);
        assert_eq!(claimed.state, JobState::Running);
        assert_eq!(claimed.attempts, 1);
        assert_eq!(claimed.lock_token.as_deref(), Some("token-a"));
        assert_eq!(claimed.lease_until, Some(lease));
        // The other job is not due yet.
        assert_eq!(
            jobs::claim(pool, now, "token-b", lease).await.unwrap(),
            Claim::NothingDue
        );

        // A wrong token writes nothing.
        assert!(
            !jobs::succeed(pool, first, "token-x", "done", now)
                .await
                .unwrap()
        );
        assert!(
            !jobs::extend_lease(pool, first, "token-x", lease)
                .await
                .unwrap()
        );

        // Past the lease, another worker takes the job over; the first token is dead.
        let after = lease + TimeDelta::seconds(1);
        let taken = jobs::claim(pool, after, "token-b", after + TimeDelta::minutes(1))
            .await
            .unwrap()
            .into_job()
            .unwrap();
        assert_eq!(taken.id, first);
        assert_eq!(taken.attempts, 2);
        assert!(
            !jobs::succeed(pool, first, "token-a", "late", after)
                .await
                .unwrap()
        );
        assert!(
            jobs::succeed(pool, first, "token-b", "scanned", after)
                .await
                .unwrap()
        );
        let row = jobs::get(pool, first).await.unwrap().unwrap();
        assert_eq!(row.state, JobState::Succeeded);
        assert_eq!(row.outcome.as_deref(), Some("scanned"));
        assert_eq!(row.lock_token, None);
        assert_eq!(row.finished_at, Some(after));

        // Requeue with a refund leaves attempts as they were before the start.
        let due = now + TimeDelta::minutes(5);
        let c = jobs::claim(pool, due, "token-c", due + TimeDelta::minutes(1))
            .await
            .unwrap()
            .into_job()
            .unwrap();
        assert_eq!(c.id, later);
        assert!(
            jobs::requeue(
                pool,
                later,
                "token-c",
                due + TimeDelta::hours(1),
                Some("rate limited"),
                true
            )
            .await
            .unwrap()
        );
        let row = jobs::get(pool, later).await.unwrap().unwrap();
        assert_eq!((row.state, row.attempts), (JobState::Queued, 0));
        assert_eq!(row.last_error.as_deref(), Some("rate limited"));
        assert_eq!(row.run_at, due + TimeDelta::hours(1));

        let counts = jobs::count_by_state(pool).await.unwrap();
        assert!(counts.contains(&(JobState::Queued, 1)), "{counts:?}");
        assert!(counts.contains(&(JobState::Succeeded, 1)), "{counts:?}");
    })
    .await;
}

#[tokio::test]
async fn the_database_allows_one_running_job_per_repository() {
    each_backend(|db| async move {
        let pool = db.store.pool();
        let now = t("2026-02-01T10:00:00Z");
        let a = jobs::insert(pool, &new_job(7, now), now).await.unwrap();
        let b = jobs::insert(pool, &new_job(7, now), now).await.unwrap();
        let c = jobs::insert(pool, &new_job(8, now), now).await.unwrap();
        let lease = now + TimeDelta::minutes(1);
        let first = jobs::claim(pool, now, "t1", lease)
            .await
            .unwrap()
            .into_job()
            .unwrap();
        let second = jobs::claim(pool, now, "t2", lease)
            .await
            .unwrap()
            .into_job()
            .unwrap();
        assert_eq!(
            (first.id, second.id),
            (a, c),
            "job {b} waits for job {a} of the same repository"
        );
        assert_eq!(
            jobs::claim(pool, now, "t3", lease).await.unwrap(),
            Claim::NothingDue
        );

        // Even a write that bypasses the claim query cannot start a second one.
        let forced = sqlx::query("UPDATE jobs SET state = 'running' WHERE id = $1")
            .bind(b)
            .execute(pool)
            .await;
        assert!(
            forced.is_err(),
            "the unique index must refuse a second running job"
        );

        assert!(
            jobs::fail(pool, a, "t1", "repository archived", now)
                .await
                .unwrap()
        );
        let next = jobs::claim(pool, now, "t4", lease)
            .await
            .unwrap()
            .into_job()
            .unwrap();
        assert_eq!(next.id, b);
        let failed = jobs::get(pool, a).await.unwrap().unwrap();
        assert_eq!(failed.state, JobState::Failed);
        assert_eq!(failed.last_error.as_deref(), Some("repository archived"));
    })
    .await;
}

#[tokio::test]
async fn a_claim_racing_another_replica_never_says_nothing_is_due() {
    each_backend(|db| async move {
        let pool = db.store.pool();
        let now = t("2026-02-01T10:00:00Z");
        let first = jobs::insert(pool, &new_job(1, now - TimeDelta::minutes(1)), now)
            .await
            .unwrap();
        let other = jobs::insert(pool, &new_job(2, now), now).await.unwrap();
        let lease = now + TimeDelta::minutes(1);

        // Another replica is taking the oldest job: its write is not committed yet.
        let mut replica = <sqlx::AnyConnection as sqlx::Connection>::connect(&db.url)
            .await
            .unwrap();
        sqlx::query("BEGIN").execute(&mut replica).await.unwrap();
        sqlx::query(
            "UPDATE jobs SET state = 'running', lock_token = 'replica', lease_until = $1 WHERE id = $2",
        )
        .bind(lease.timestamp_millis())
        .bind(first)
        .execute(&mut replica)
        .await
        .unwrap();
        let store = db.store.clone();
        let racing = tokio::spawn(async move {
            jobs::claim(store.pool(), now, "racer", lease).await.unwrap()
        });
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        sqlx::query("COMMIT").execute(&mut replica).await.unwrap();

        match db.backend {
            // One writer at a time: the claim found the job, waited for the lock, and lost it.
            Backend::Sqlite => {
                assert_eq!(racing.await.unwrap(), Claim::LostRace);
                let next = jobs::claim(pool, now, "racer", lease)
                    .await
                    .unwrap()
                    .into_job()
                    .unwrap();
                assert_eq!(next.id, other);
            }
            // SKIP LOCKED: the claim passed over the row being taken and got the next job.
            Backend::Postgres => {
                let got = racing.await.unwrap().into_job().unwrap();
                assert_eq!(got.id, other);
            }
        }
    })
    .await;
}

#[tokio::test]
async fn postgres_claims_skip_rows_another_claim_has_locked() {
    let Some(db) = TestDb::postgres().await else {
        eprintln!("DATABASE_URL names no PostgreSQL server: skipped");
        return;
    };
    let pool = db.store.pool();
    let now = t("2026-02-01T10:00:00Z");
    let mut ids = Vec::new();
    for repo in 1..=3 {
        ids.push(jobs::insert(pool, &new_job(repo, now), now).await.unwrap());
    }
    // A claim in flight elsewhere holds the oldest row; this one must not wait for it.
    let mut other = <sqlx::AnyConnection as sqlx::Connection>::connect(&db.url)
        .await
        .unwrap();
    sqlx::query("BEGIN").execute(&mut other).await.unwrap();
    sqlx::query("SELECT id FROM jobs WHERE id = $1 FOR UPDATE")
        .bind(ids[0])
        .execute(&mut other)
        .await
        .unwrap();
    let lease = now + TimeDelta::minutes(1);
    let got = tokio::time::timeout(
        std::time::Duration::from_secs(2),
        jobs::claim(pool, now, "t", lease),
    )
    .await
    .expect("the claim waited on a locked row")
    .unwrap()
    .into_job()
    .unwrap();
    assert_eq!(got.id, ids[1]);
    sqlx::query("ROLLBACK").execute(&mut other).await.unwrap();
    drop(other);
    db.cleanup().await;
}

#[tokio::test]
async fn queued_jobs_of_an_uninstalled_installation_are_cancelled() {
    each_backend(|db| async move {
        let pool = db.store.pool();
        let now = t("2026-02-01T10:00:00Z");
        let id = jobs::insert(pool, &new_job(3, now), now).await.unwrap();
        let n = jobs::cancel_queued_for_installation(pool, 1, "the app was uninstalled", now)
            .await
            .unwrap();
        assert_eq!(n, 1);
        let row = jobs::get(pool, id).await.unwrap().unwrap();
        assert_eq!(row.state, JobState::Cancelled);
        assert_eq!(
            jobs::claim(pool, now, "t", now).await.unwrap(),
            Claim::NothingDue
        );
    })
    .await;
}

/// A finding about a real advisory from `../shared/advisories`.
fn finding_from_advisory(file: &str, line: u32) -> Finding {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/advisories/npm/GHSA-27h2-hvpr-p74q.json"
    );
    let osv: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let id = osv["id"].as_str().unwrap().to_string();
    let package = osv["affected"][0]["package"]["name"]
        .as_str()
        .unwrap()
        .to_string();
    let mut f = Finding::new(
        RuleId::ALL[0],
        Location::new(file, line, 1),
        format!("{package}@8.5.1"),
        osv["summary"].as_str().unwrap(),
    );
    f.package = Some(package);
    f.version = Some("8.5.1".into());
    f.advisories = vec![id];
    f
}

#[tokio::test]
async fn findings_keep_first_seen_and_get_fixed_when_a_scan_no_longer_sees_them() {
    each_backend(|db| async move {
        let pool = db.store.pool();
        let t0 = t("2026-02-01T10:00:00Z");
        installations::upsert_installation(pool, 1, "acme", t0)
            .await
            .unwrap();
        installations::upsert_repository(
            pool,
            &RepositoryUpsert {
                id: 42,
                installation_id: 1,
                full_name: "acme/api",
                default_branch: Some("main"),
                private: Some(true),
            },
            t0,
        )
        .await
        .unwrap();
        let jwt = finding_from_advisory("package-lock.json", 120);
        assert_eq!(
            findings::finding_key(&jwt),
            format!(
                "{}|package-lock.json|jsonwebtoken|GHSA-27h2-hvpr-p74q",
                RuleId::ALL[0].as_str()
            )
        );
        let other = {
            let mut f = jwt.clone();
            f.package = Some("lodash".into());
            f.subject = "lodash@4.17.20".into();
            f.advisories = vec!["GHSA-35jh-r3h4-6jhm".into()];
            f
        };
        let record = |seen: Vec<SeenFinding>, at: DateTime<Utc>| {
            let store = db.store.clone();
            async move {
                let mut tx = store.begin().await.unwrap();
                let delta = findings::record_scan(&mut tx, 42, &seen, at).await.unwrap();
                tx.commit().await.unwrap();
                delta
            }
        };

        let d = record(vec![(&jwt).into(), (&other).into()], t0).await;
        assert_eq!((d.new, d.still_open, d.fixed), (2, 0, 0));

        // The line moved: the same finding, first seen unchanged.
        let t1 = t0 + TimeDelta::days(1);
        let moved = finding_from_advisory("package-lock.json", 131);
        let d = record(vec![(&moved).into()], t1).await;
        assert_eq!((d.new, d.still_open, d.fixed), (0, 1, 1));
        // The scan's own write says when each finding it saw was first seen.
        assert_eq!(
            d.first_seen.get(&findings::finding_key(&moved)),
            Some(&t0),
            "{:?}",
            d.first_seen
        );
        assert_eq!(d.first_seen.len(), 1);
        let stored = findings::for_repository(pool, 42).await.unwrap();
        assert_eq!(stored.len(), 2);
        assert_eq!(stored[0].key, findings::finding_key(&jwt));
        assert_eq!(
            (
                stored[0].first_seen_at,
                stored[0].last_seen_at,
                stored[0].line
            ),
            (t0, t1, 131)
        );
        assert_eq!(
            stored[0].advisories,
            vec!["GHSA-27h2-hvpr-p74q".to_string()]
        );
        assert_eq!(stored[0].fixed_at, None);
        assert_eq!(stored[1].subject, "lodash@4.17.20");
        assert_eq!(stored[1].fixed_at, Some(t1));

        // Back again after the fix: a new exposure, a new first-seen date.
        let t2 = t1 + TimeDelta::days(1);
        let d = record(vec![(&moved).into(), (&other).into()], t2).await;
        assert_eq!((d.new, d.still_open, d.fixed), (1, 1, 0));
        let stored = findings::for_repository(pool, 42).await.unwrap();
        let lodash = stored
            .iter()
            .find(|f| f.subject.starts_with("lodash"))
            .unwrap();
        assert_eq!((lodash.first_seen_at, lodash.fixed_at), (t2, None));
    })
    .await;
}

#[tokio::test]
async fn fix_prs_remember_a_human_no_and_a_merge() {
    each_backend(|db| async move {
        let pool = db.store.pool();
        let t0 = t("2026-02-01T10:00:00Z");
        installations::upsert_installation(pool, 1, "acme", t0)
            .await
            .unwrap();
        installations::upsert_repository(
            pool,
            &RepositoryUpsert {
                id: 42,
                installation_id: 1,
                full_name: "acme/api",
                default_branch: Some("main"),
                private: Some(false),
            },
            t0,
        )
        .await
        .unwrap();
        let open = |number, fix_key| OpenedFixPr {
            repository_id: 42,
            number,
            branch: "patchwright/npm-jsonwebtoken-9.0.0",
            fix_key,
            head_sha: "6113728f27ae82c7b1a177c8d03f9e96e0adf246",
        };
        fix_prs::insert(pool, &open(7, "npm:jsonwebtoken@9.0.0"), t0)
            .await
            .unwrap();
        fix_prs::insert(pool, &open(8, "docker:node:20-alpine"), t0)
            .await
            .unwrap();
        assert_eq!(fix_prs::count_open(pool, 42).await.unwrap(), 2);
        let t1 = t0 + TimeDelta::hours(2);
        assert!(
            fix_prs::set_head(pool, 42, 7, "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c", t1)
                .await
                .unwrap()
        );
        assert_eq!(
            fix_prs::open_for_fix(pool, 42, "npm:jsonwebtoken@9.0.0")
                .await
                .unwrap()
                .unwrap()
                .head_sha,
            "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c"
        );

        assert!(
            fix_prs::record_closed(pool, 42, 7, false, true, t1)
                .await
                .unwrap()
        );
        assert!(
            fix_prs::record_closed(pool, 42, 8, true, true, t1)
                .await
                .unwrap()
        );
        assert!(
            !fix_prs::record_closed(pool, 42, 99, false, true, t1)
                .await
                .unwrap()
        );

        let closed = fix_prs::get(pool, 42, 7).await.unwrap().unwrap();
        assert_eq!(
            (closed.state, closed.closed_by_human, closed.closed_at),
            (FixPrState::Closed, true, Some(t1))
        );
        let merged = fix_prs::get(pool, 42, 8).await.unwrap().unwrap();
        assert_eq!(
            (merged.state, merged.closed_by_human),
            (FixPrState::Merged, false)
        );
        assert!(
            fix_prs::declined(pool, 42, "npm:jsonwebtoken@9.0.0")
                .await
                .unwrap()
        );
        assert!(
            !fix_prs::declined(pool, 42, "docker:node:20-alpine")
                .await
                .unwrap()
        );
        assert_eq!(fix_prs::count_open(pool, 42).await.unwrap(), 0);
        assert_eq!(
            fix_prs::open_for_fix(pool, 42, "npm:jsonwebtoken@9.0.0")
                .await
                .unwrap(),
            None
        );
    })
    .await;
}

#[tokio::test]
async fn the_audit_trail_reads_back_in_order() {
    each_backend(|db| async move {
        let pool = db.store.pool();
        let t0 = t("2026-02-01T10:00:00Z");
        let mut first = AuditEntry::new(
            t0,
            "fix_pr.opened",
            "lodash 4.17.20 → 4.17.21 fixes GHSA-35jh-r3h4-6jhm",
        );
        first.repository_id = Some(42);
        first.job_id = Some(3);
        let second = AuditEntry::new(
            t0 + TimeDelta::seconds(1),
            "job.failed",
            "gave up after 8 attempts",
        );
        audit::record(pool, &first).await.unwrap();
        audit::record(pool, &second).await.unwrap();
        assert_eq!(audit::all(pool).await.unwrap(), vec![first, second]);
    })
    .await;
}

/// Installation 1 with repository 42, `acme/shop`.
async fn shop(store: &Store, at: DateTime<Utc>) {
    installations::upsert_installation(store.pool(), 1, "acme", at)
        .await
        .unwrap();
    installations::upsert_repository(
        store.pool(),
        &RepositoryUpsert {
            id: 42,
            installation_id: 1,
            full_name: "acme/shop",
            default_branch: Some("main"),
            private: Some(true),
        },
        at,
    )
    .await
    .unwrap();
}

fn day(s: &str) -> chrono::NaiveDate {
    s.parse().unwrap()
}

#[tokio::test]
async fn accepted_risks_are_granted_replaced_revoked_and_kept_in_history() {
    each_backend(|db| async move {
        let pool = db.store.pool();
        let t0 = t("2026-11-02T09:00:00Z");
        shop(&db.store, t0).await;
        let ghsa = Target::Advisory("GHSA-35jh-r3h4-6jhm".into());
        let root = Target::Rule(RuleId::RunsAsRoot);
        let grant = |target, until, by, at| {
            let store = db.store.clone();
            async move {
                let mut tx = store.begin().await.unwrap();
                let risk = NewAcceptedRisk {
                    repository_id: 42,
                    target,
                    reason: "template() is never called with user input",
                    until: day(until),
                    granted_by: by,
                    source: "acme/shop#12 comment 345",
                };
                let granted = accepted_risks::grant(&mut tx, &risk, at).await.unwrap();
                tx.commit().await.unwrap();
                granted
            }
        };

        let first = grant(&ghsa, "2026-12-31", "@alice", t0).await;
        assert_eq!(first.replaced, None);
        let t1 = t0 + TimeDelta::days(3);
        let second = grant(&ghsa, "2027-01-15", "bob", t1).await;
        let replaced = second.replaced.expect("the earlier grant is replaced");
        assert_eq!(replaced.id, first.id);
        assert_eq!(replaced.granted_by, "alice", "stored without the @");
        assert_eq!(
            (replaced.revoked_at, replaced.revoked_by.as_deref()),
            (Some(t1), Some("bob"))
        );
        grant(&root, "2026-11-30", "carol", t1).await;

        let live = accepted_risks::live(pool, 42).await.unwrap();
        let live_view: Vec<(&str, &str, chrono::NaiveDate)> = live
            .iter()
            .map(|r| (r.target.as_str(), r.granted_by.as_str(), r.until))
            .collect();
        assert_eq!(
            live_view,
            [
                ("GHSA-35jh-r3h4-6jhm", "bob", day("2027-01-15")),
                ("runs-as-root", "carol", day("2026-11-30")),
            ]
        );
        assert!(live[1].in_force(day("2026-11-30")));
        assert!(!live[1].in_force(day("2026-12-01")));

        // What the policy gets: the grant as an exception owned by who granted it.
        let exception = live[0].to_exception();
        assert_eq!(
            (
                exception.id.as_str(),
                exception.owner.as_str(),
                exception.expires
            ),
            ("GHSA-35jh-r3h4-6jhm", "@bob", day("2027-01-15"))
        );
        assert_eq!(
            exception.origin,
            ExceptionOrigin::Command {
                granted_by: "bob".into(),
                granted_at: day("2026-11-05"),
                source: "acme/shop#12 comment 345".into(),
            }
        );

        let t2 = t1 + TimeDelta::days(1);
        let revoked = accepted_risks::revoke(pool, 42, &root, "dave", t2)
            .await
            .unwrap()
            .expect("a live grant to revoke");
        assert_eq!(
            (revoked.revoked_at, revoked.revoked_by.as_deref()),
            (Some(t2), Some("dave"))
        );
        assert_eq!(
            accepted_risks::revoke(pool, 42, &root, "dave", t2)
                .await
                .unwrap(),
            None
        );
        assert_eq!(accepted_risks::live(pool, 42).await.unwrap().len(), 1);
        let history = accepted_risks::all(pool, 42).await.unwrap();
        assert_eq!(history.len(), 3);
        assert_eq!(history.iter().filter(|r| r.revoked_at.is_some()).count(), 2);
        assert!(accepted_risks::live(pool, 7).await.unwrap().is_empty());

        // The database, not only `grant`, keeps one live grant per target.
        let duplicate = sqlx::query(
            "INSERT INTO accepted_risks (repository_id, target, reason, until, granted_by,
                                         granted_at, source)
             VALUES (42, 'GHSA-35jh-r3h4-6jhm', 'r', '2026-12-01', 'eve', 0, 's')",
        )
        .execute(pool)
        .await;
        assert!(duplicate.is_err(), "a second live grant of one target");
    })
    .await;
}

#[tokio::test]
async fn a_stored_date_that_does_not_parse_is_reported_not_panicked_on() {
    each_backend(|db| async move {
        let pool = db.store.pool();
        shop(&db.store, t("2026-11-02T09:00:00Z")).await;
        sqlx::query(
            "INSERT INTO accepted_risks (repository_id, target, reason, until, granted_by,
                                         granted_at, source)
             VALUES (42, 'CVE-2021-23337', 'r', '31/12/2026', 'eve', 0, 's')",
        )
        .execute(pool)
        .await
        .unwrap();
        let err = accepted_risks::live(pool, 42).await.unwrap_err();
        assert!(
            matches!(
                err,
                StoreError::Corrupt {
                    table: "accepted_risks",
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("31/12/2026"), "{err}");
    })
    .await;
}

#[tokio::test]
async fn update_ignores_are_unique_while_live_and_removed_with_who_and_when() {
    each_backend(|db| async move {
        let pool = db.store.pool();
        let t0 = t("2026-11-03T12:00:00Z");
        shop(&db.store, t0).await;
        let add = |name: &'static str, scope: IgnoreScope, at| {
            let store = db.store.clone();
            async move {
                ignores::add(
                    store.pool(),
                    &NewIgnore {
                        repository_id: 42,
                        name,
                        scope: &scope,
                        created_by: "@bob",
                        source: "https://github.com/acme/shop/pull/14#issuecomment-401",
                    },
                    at,
                )
                .await
                .unwrap()
            }
        };
        let lodash_all = add("lodash", IgnoreScope::All, t0).await;
        assert!(lodash_all.is_some());
        let t1 = t0 + TimeDelta::hours(1);
        assert_eq!(
            add("lodash", IgnoreScope::All, t1).await,
            None,
            "already ignored"
        );
        assert!(add("lodash", IgnoreScope::Major, t1).await.is_some());
        assert!(
            add("node", IgnoreScope::Version("22-alpine".into()), t1)
                .await
                .is_some()
        );

        let live = ignores::live(pool, 42).await.unwrap();
        let view: Vec<(&str, String, DateTime<Utc>)> = live
            .iter()
            .map(|i| (i.name.as_str(), i.scope.as_stored(), i.created_at))
            .collect();
        assert_eq!(
            view,
            [
                ("lodash", "all".to_string(), t0),
                ("lodash", "major".to_string(), t1),
                ("node", "version:22-alpine".to_string(), t1),
            ]
        );
        let rule = live[2].to_rule();
        assert_eq!(
            (rule.created_by.as_str(), rule.created_at, &rule.scope),
            (
                "bob",
                day("2026-11-03"),
                &IgnoreScope::Version("22-alpine".into())
            )
        );

        let t2 = t1 + TimeDelta::days(1);
        let removed = ignores::remove(pool, 42, "lodash", Some(&IgnoreScope::Major), "carol", t2)
            .await
            .unwrap();
        assert_eq!(removed.len(), 1);
        assert_eq!(
            (
                &removed[0].scope,
                removed[0].removed_at,
                removed[0].removed_by.as_deref()
            ),
            (&IgnoreScope::Major, Some(t2), Some("carol"))
        );
        let removed = ignores::remove(pool, 42, "lodash", None, "carol", t2)
            .await
            .unwrap();
        assert_eq!(removed.len(), 1);
        assert_eq!(Some(removed[0].id), lodash_all);
        assert!(
            ignores::remove(pool, 42, "lodash", None, "carol", t2)
                .await
                .unwrap()
                .is_empty()
        );
        // Removed, it can be asked for again.
        assert!(add("lodash", IgnoreScope::All, t2).await.is_some());

        assert_eq!(ignores::live(pool, 42).await.unwrap().len(), 2);
        let history = ignores::all(pool, 42).await.unwrap();
        assert_eq!(history.len(), 4);
        assert_eq!(history.iter().filter(|i| i.removed_by.is_some()).count(), 2);
    })
    .await;
}

#[tokio::test]
async fn a_repository_has_one_tracking_issue() {
    each_backend(|db| async move {
        let pool = db.store.pool();
        let t0 = t("2026-11-03T12:00:00Z");
        shop(&db.store, t0).await;
        assert_eq!(tracking::get(pool, 42).await.unwrap(), None);
        tracking::set(pool, 42, 17, TrackingState::Open, t0)
            .await
            .unwrap();
        let t1 = t0 + TimeDelta::days(2);
        tracking::set(pool, 42, 17, TrackingState::Closed, t1)
            .await
            .unwrap();
        let issue = tracking::get(pool, 42).await.unwrap().unwrap();
        assert_eq!(
            (issue.number, issue.state, issue.updated_at),
            (17, TrackingState::Closed, t1)
        );
        // Deleted on GitHub and opened again: the new number replaces the old.
        tracking::set(pool, 42, 23, TrackingState::Open, t1)
            .await
            .unwrap();
        let issue = tracking::get(pool, 42).await.unwrap().unwrap();
        assert_eq!((issue.number, issue.state), (23, TrackingState::Open));
        let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tracking_issues")
            .fetch_one(pool)
            .await
            .unwrap();
        assert_eq!(rows, 1);
    })
    .await;
}

/// From the comment to the report: a grant and an ignore stored, read back, applied to the
/// example project the day before the grant expires and the day after.
#[tokio::test]
async fn a_stored_grant_suppresses_until_its_date_then_is_reported_expired() {
    use patchwright::catalog::{AdvisoryDb, load_catalog, read_json_records};
    use patchwright::pipeline::{Knowledge, RunOptions, run};
    use patchwright::policy::{ExceptionState, OrgPolicy};
    use std::path::Path;

    each_backend(|db| async move {
        let pool = db.store.pool();
        let t0 = t("2026-11-02T09:00:00Z");
        shop(&db.store, t0).await;
        let target = Target::Advisory("PYSEC-2023-74".into());
        let mut tx = db.store.begin().await.unwrap();
        accepted_risks::grant(
            &mut tx,
            &NewAcceptedRisk {
                repository_id: 42,
                target: &target,
                reason: "proxies are not used",
                until: day("2026-11-22"),
                granted_by: "alice",
                source: "acme/shop#12 comment 345",
            },
            t0,
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        ignores::add(
            pool,
            &NewIgnore {
                repository_id: 42,
                name: "node",
                scope: &IgnoreScope::Major,
                created_by: "bob",
                source: "acme/shop#14 comment 401",
            },
            t0,
        )
        .await
        .unwrap();

        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let snapshot =
            patchwright::forge::local::read_snapshot(&root.join("examples/demo"), &[]).unwrap();
        let (records, _) = read_json_records(&root.join("fixtures/advisories"));
        let (advisories, _) = AdvisoryDb::from_json_records(&records);
        let knowledge = Knowledge {
            catalog: load_catalog(&root.join("fixtures/catalog.example.toml")).unwrap(),
            advisories,
            policy: OrgPolicy::default(),
        };
        let options = RunOptions {
            accepted_risks: accepted_risks::live(pool, 42)
                .await
                .unwrap()
                .iter()
                .map(|r| r.to_exception())
                .collect(),
            ignores: ignores::live(pool, 42)
                .await
                .unwrap()
                .iter()
                .map(|i| i.to_rule())
                .collect(),
            ..RunOptions::default()
        };
        let requests = |report: &patchwright::report::Report| {
            report
                .findings
                .iter()
                .find(|f| f.subject == "requests@2.30.0")
                .cloned()
                .unwrap()
        };

        let last_day = run(&snapshot, &knowledge, day("2026-11-22"), &options).report;
        let covered = requests(&last_day);
        assert!(!covered.is_active());
        assert_eq!(covered.exception.unwrap().owner, "@alice");
        assert_eq!(last_day.exceptions[1].state, ExceptionState::Active);
        assert!(
            !last_day
                .findings
                .iter()
                .any(|f| f.rule == RuleId::ExceptionExpired)
        );

        let after = run(&snapshot, &knowledge, day("2026-11-23"), &options).report;
        let open = requests(&after);
        assert!(open.is_active(), "an expired grant suppresses nothing");
        let expired = after
            .findings
            .iter()
            .find(|f| f.rule == RuleId::ExceptionExpired)
            .expect("the expiry is reported");
        assert_eq!((&expired.file, expired.line), (&open.file, open.line));
        assert!(
            expired
                .message
                .contains("granted by @alice on 2026-11-02 in acme/shop#12 comment 345"),
            "{}",
            expired.message
        );
        assert_eq!(after.exceptions[1].state, ExceptionState::Expired);
        // The ignore withholds node's major update in both runs, and says who asked.
        let node = after
            .findings
            .iter()
            .find(|f| f.rule == RuleId::EolBaseImage && f.subject.starts_with("node:"))
            .unwrap();
        assert_eq!(node.fix, None);
        assert_eq!(
            node.no_fix_reason.as_deref(),
            Some(
                "updates to node (major) are ignored by @bob since 2026-11-02 (acme/shop#14 comment 401)"
            )
        );
        assert_eq!(after.ignored_updates[0].withheld, 1);
    })
    .await;
}

#[test]
fn in_ci_a_missing_postgresql_fails_instead_of_skipping() {
    assert_eq!(support::postgres_url_from(None, None), None);
    assert_eq!(
        support::postgres_url_from(Some("sqlite://x.db".into()), Some("false")),
        None
    );
    let pg = "postgres://postgres@127.0.0.1:5432/test".to_string();
    assert_eq!(
        support::postgres_url_from(Some(pg.clone()), Some("true")),
        Some(pg)
    );
    let missing = std::panic::catch_unwind(|| support::postgres_url_from(None, Some("true")));
    assert!(missing.is_err(), "CI without PostgreSQL must fail the run");
}
