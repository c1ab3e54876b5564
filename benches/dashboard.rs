//! Dashboard server time on a generated year of 1,000 repositories (tests/history_gen/),
//! on PostgreSQL when DATABASE_URL names one (SQLite otherwise): the organisation, tier and
//! team pages, one repository's page and its lineage, the organisation JSON, the snapshot
//! rebuild over 90 days, and the daily snapshot job's two days.

use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode, header};
use chrono::{TimeDelta, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use patchwright::store::history;
use patchwright::store::web_sessions::{self, WebSession};
use std::time::Duration;
use tower::ServiceExt;

// The fake's own unit tests are compiled in bench builds too; their imports are unused there.
#[allow(unused_imports)]
#[path = "../tests/fake_github/mod.rs"]
mod fake_github;
#[path = "../tests/history_gen/mod.rs"]
mod history_gen;
#[path = "../tests/support/mod.rs"]
mod support;
#[path = "../tests/web_support/mod.rs"]
mod web_support;

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let now = Utc::now();
    let (db, fake) = rt.block_on(async {
        let db = match support::TestDb::postgres().await {
            Some(db) => db,
            None => {
                eprintln!("DATABASE_URL names no PostgreSQL: measuring on SQLite");
                support::TestDb::sqlite().await
            }
        };
        let plan = history_gen::plan(1000, now);
        history_gen::write(&db.store, &plan).await;
        // Owners for every finding (the generator records none), so the team page has a team
        // of about half the repositories to show.
        sqlx::query(
            "INSERT INTO finding_facts (repository_id, finding_key, severity, package, owners)
             SELECT DISTINCT repository_id, finding_key, severity, package,
                    CASE WHEN repository_id % 2 = 0 THEN '@acme/web' ELSE '@acme/api' END
             FROM finding_events",
        )
        .execute(db.store.pool())
        .await
        .unwrap();
        history::rebuild_snapshots(
            &db.store,
            (now - TimeDelta::days(90)).date_naive(),
            now.date_naive(),
        )
        .await
        .unwrap();
        (db, fake_github::FakeGitHub::start().await)
    });
    let state = web_support::web_state(
        db.store.clone(),
        &fake,
        "http://dashboard.test",
        std::sync::Arc::new(patchwright::infra::clock::SystemClock),
    );
    // An admin session written directly: the sign-in itself is not what is measured.
    let token = "b".repeat(64);
    let cookie = format!("pw_session={}", state.config.session_key.sign(&token));
    rt.block_on(async {
        web_sessions::insert(
            db.store.pool(),
            &patchwright::web::session::token_hash(&token),
            &WebSession {
                login: "root-admin".into(),
                admin: true,
                repository_ids: Vec::new(),
                csrf: "c".into(),
                expires_at: now + TimeDelta::days(1),
            },
            now,
        )
        .await
        .unwrap();
    });
    let app = patchwright::web::router(state);
    let get = |path: &'static str| {
        let app = app.clone();
        let cookie = cookie.clone();
        async move {
            let response = app
                .oneshot(
                    Request::get(path)
                        .header(header::COOKIE, cookie)
                        .body(Body::empty())
                        .unwrap(),
                )
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::OK, "{path}");
            to_bytes(response.into_body(), 64 << 20)
                .await
                .unwrap()
                .len()
        }
    };
    let mut g = c.benchmark_group("dashboard");
    g.sample_size(10).measurement_time(Duration::from_secs(10));
    for path in [
        "/dashboard",
        "/dashboard/tiers/internet-facing",
        "/dashboard/team?owner=@acme/web",
        "/dashboard/repos/500",
        "/dashboard/repos/500/lineage",
        "/api/v1/figures",
    ] {
        g.bench_function(path, |b| b.iter(|| rt.block_on(get(path))));
    }
    g.bench_function("snapshot_rebuild_90d", |b| {
        b.iter(|| {
            rt.block_on(history::rebuild_snapshots(
                &db.store,
                (now - TimeDelta::days(90)).date_naive(),
                now.date_naive(),
            ))
            .unwrap()
        })
    });
    // What the daily job does for an installation of all 1,000 repositories: yesterday again
    // and today (`service::daily_snapshots`).
    let ids: Vec<i64> = (1..=1000).collect();
    g.bench_function("snapshot_daily_2d", |b| {
        b.iter(|| {
            rt.block_on(history::rebuild_snapshots_of(
                &db.store,
                (now - TimeDelta::days(1)).date_naive(),
                now.date_naive(),
                Some(&ids),
            ))
            .unwrap()
        })
    });
    g.finish();
    rt.block_on(db.cleanup());
}

criterion_group!(benches, bench);
criterion_main!(benches);
