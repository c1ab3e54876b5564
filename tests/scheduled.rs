//! What the service does on its own schedule, beside the job pool: chat notifications (a real
//! HTTP server on loopback receives the webhook's JSON; the scans come through the real
//! handler and the fake GitHub) and the daily snapshot of the figures, with `now` moved over
//! several days, on SQLite and (with DATABASE_URL) PostgreSQL.

#[path = "fake_github/mod.rs"]
mod fake_github;
mod support;
mod world;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use patchwright::infra::clock::Clock;
use patchwright::infra::secret::Secret;
use patchwright::model::Target;
use patchwright::notify::deliver::Webhook;
use patchwright::notify::run::Notifier;
use patchwright::notify::{Horizon, NotifyConfig};
use patchwright::policy::SlaDays;
use patchwright::remediation::snapshots::series;
use patchwright::remediation::{Window, exposures, figures};
use patchwright::service::daily_snapshots;
use patchwright::store::accepted_risks::{self, NewAcceptedRisk};
use patchwright::store::findings::{self, SeenFinding};
use patchwright::store::history::{self, EventKind};
use patchwright::store::installations::{self, RepositoryUpsert};
use patchwright::store::{Store, snapshot_runs};
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use world::{INSTALLATION, world};

// ---------------------------------------------------------------- a chat webhook on loopback

/// A Slack-like incoming webhook: keeps every JSON body it is sent, and answers with the
/// status the test sets.
#[derive(Clone)]
struct Chat {
    received: Arc<Mutex<Vec<serde_json::Value>>>,
    status: Arc<AtomicU16>,
    url: String,
}

impl Chat {
    async fn start() -> Chat {
        let chat = Chat {
            received: Arc::default(),
            status: Arc::new(AtomicU16::new(200)),
            url: String::new(),
        };
        async fn hook(State(chat): State<Chat>, body: Bytes) -> StatusCode {
            let value: serde_json::Value =
                serde_json::from_slice(&body).expect("the notifier sends JSON");
            chat.received.lock().unwrap().push(value);
            StatusCode::from_u16(chat.status.load(Ordering::SeqCst)).unwrap()
        }
        let app = Router::new()
            .route("/services/T000/B000/{token}", post(hook))
            .with_state(chat.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!(
            "http://{}/services/T000/B000/not-a-real-token",
            listener.local_addr().unwrap()
        );
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Chat { url, ..chat }
    }

    fn texts(&self) -> Vec<String> {
        self.received
            .lock()
            .unwrap()
            .iter()
            .map(|v| v["text"].as_str().expect("a `text` field").to_string())
            .collect()
    }
}

fn notifier(store: &Store, url: &str, interval_minutes: i64) -> Notifier {
    let config = NotifyConfig {
        webhook_url: Secret::new(url),
        interval: TimeDelta::minutes(interval_minutes),
        horizon: Horizon {
            sla_due_days: 7,
            exception_days: 14,
        },
    };
    Notifier {
        store: store.clone(),
        webhook: Webhook::new(config.webhook_url.clone()).unwrap(),
        config,
        sla: SlaDays::default(),
    }
}

fn bullet_lines(text: &str) -> usize {
    text.lines().filter(|l| l.starts_with("• ")).count()
}

// ---------------------------------------------------------------- notifications

#[tokio::test]
async fn a_scan_finding_new_blockers_sends_one_batched_message_and_never_the_same_again() {
    let w = world(4).await;
    let chat = Chat::start().await;
    let store = w.db.store.clone();
    // The installation event came first: the notifier watches it from then on.
    installations::upsert_installation(store.pool(), INSTALLATION as i64, "acme", w.clock.now())
        .await
        .unwrap();
    let n = notifier(&store, &chat.url, 60);
    assert_eq!(n.tick(w.clock.now()).await.unwrap().messages, 0);

    w.clock.advance(TimeDelta::minutes(1));
    w.scan_main("d-1").await;
    let summary = n.tick(w.clock.now()).await.unwrap();
    assert_eq!(summary.messages, 1);
    let texts = chat.texts();
    assert_eq!(texts.len(), 1, "one message for the whole scan: {texts:#?}");
    let text = &texts[0];
    // Every blocker the scan opened, recounted from the store's history.
    let events = history::events(store.pool(), None).await.unwrap();
    let blockers = exposures(&events)
        .into_iter()
        .filter(|e| e.is_open() && e.level == "blocker")
        .count();
    assert!(blockers > 0, "the demo repository has blockers");
    let new_section = text
        .split("\n\n")
        .find(|s| s.starts_with("*New blockers on default branches*"))
        .unwrap_or_else(|| panic!("no new-blocker section: {text}"));
    assert_eq!(bullet_lines(new_section), blockers, "{text}");
    assert!(new_section.contains("• acme/shop: "), "{text}");
    assert!(new_section.contains(": urllib3 "), "{text}");
    assert_eq!(summary.items, bullet_lines(text));

    // Within the hour: nothing, even with something new to tell (an exception granted for
    // five days, so about to expire).
    w.clock.advance(TimeDelta::minutes(10));
    let mut tx = store.begin().await.unwrap();
    accepted_risks::grant(
        &mut tx,
        &NewAcceptedRisk {
            repository_id: world::REPO_ID,
            target: &Target::Advisory("PYSEC-2023-100".into()),
            reason: "not reachable: EmailValidator unused",
            until: (w.clock.now() + TimeDelta::days(5)).date_naive(),
            granted_by: "octocat",
            source: "acme/shop#1 comment 1",
        },
        w.clock.now(),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(n.tick(w.clock.now()).await.unwrap().messages, 0);
    assert_eq!(chat.texts().len(), 1);

    // After the interval, only what is new; a restarted notifier remembers what was sent.
    w.clock.advance(TimeDelta::minutes(55));
    let restarted = notifier(&store, &chat.url, 60);
    assert_eq!(restarted.tick(w.clock.now()).await.unwrap().messages, 1);
    let texts = chat.texts();
    assert_eq!(texts.len(), 2);
    assert_eq!(
        texts[1],
        format!(
            "*patchwright* — acme\n\n*Exceptions about to expire*\n• acme/shop: PYSEC-2023-100 (granted by @octocat) covers until {}\n",
            (w.clock.now() + TimeDelta::days(5) - TimeDelta::minutes(55)).date_naive()
        )
    );
    w.clock.advance(TimeDelta::hours(2));
    assert_eq!(restarted.tick(w.clock.now()).await.unwrap().messages, 0);
    assert_eq!(chat.texts().len(), 2);

    // Three weeks on, the high blockers' 30-day SLAs come within seven days: told once each,
    // and nothing told before is repeated.
    w.clock.advance(TimeDelta::days(23));
    assert_eq!(restarted.tick(w.clock.now()).await.unwrap().messages, 1);
    let texts = chat.texts();
    assert!(texts[2].contains("*Blocker SLAs due soon*"), "{}", texts[2]);
    for line in texts[2].lines().filter(|l| l.starts_with("• ")) {
        assert!(!texts[0].contains(line), "sent twice: {line}");
    }
    w.clock.advance(TimeDelta::hours(2));
    assert_eq!(restarted.tick(w.clock.now()).await.unwrap().messages, 0);
}

#[tokio::test]
async fn a_failed_delivery_is_retried_after_a_backoff_and_sent_once() {
    let w = world(4).await;
    let chat = Chat::start().await;
    let store = w.db.store.clone();
    installations::upsert_installation(store.pool(), INSTALLATION as i64, "acme", w.clock.now())
        .await
        .unwrap();
    let n = notifier(&store, &chat.url, 60);
    n.tick(w.clock.now()).await.unwrap();
    w.clock.advance(TimeDelta::minutes(1));
    w.scan_main("d-1").await;

    chat.status.store(500, Ordering::SeqCst);
    let failed = n.tick(w.clock.now()).await.unwrap();
    assert_eq!((failed.messages, failed.failures), (0, 1));
    assert_eq!(chat.texts().len(), 1, "one attempt");
    // The backoff (a minute after the first failure) holds the next attempt.
    w.clock.advance(TimeDelta::seconds(30));
    n.tick(w.clock.now()).await.unwrap();
    assert_eq!(chat.texts().len(), 1, "no attempt within the backoff");
    // Second failure: two minutes.
    w.clock.advance(TimeDelta::seconds(31));
    assert_eq!(n.tick(w.clock.now()).await.unwrap().failures, 1);
    assert_eq!(chat.texts().len(), 2);
    w.clock.advance(TimeDelta::seconds(90));
    n.tick(w.clock.now()).await.unwrap();
    assert_eq!(
        chat.texts().len(),
        2,
        "no attempt within the doubled backoff"
    );

    chat.status.store(200, Ordering::SeqCst);
    w.clock.advance(TimeDelta::seconds(31));
    assert_eq!(n.tick(w.clock.now()).await.unwrap().messages, 1);
    let texts = chat.texts();
    assert_eq!(texts.len(), 3);
    assert_eq!(texts[2], texts[0], "the same batch, delivered at last");
    w.clock.advance(TimeDelta::hours(3));
    assert_eq!(n.tick(w.clock.now()).await.unwrap().messages, 0);
    assert_eq!(chat.texts().len(), 3);
}

#[tokio::test]
async fn a_webhook_that_never_answers_costs_one_timeout_and_the_jobs_still_run() {
    let w = world(4).await;
    // Accepts connections and never answers.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", silent.local_addr().unwrap());
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        loop {
            let (socket, _) = silent.accept().await.unwrap();
            open.push(socket);
        }
    });
    let store = w.db.store.clone();
    installations::upsert_installation(store.pool(), INSTALLATION as i64, "acme", w.clock.now())
        .await
        .unwrap();
    let mut n = notifier(&store, &url, 60);
    n.webhook.timeout = Duration::from_millis(300);
    let n = Arc::new(n);
    n.tick(w.clock.now()).await.unwrap();
    w.clock.advance(TimeDelta::minutes(1));
    w.scan_main("d-1").await;
    // The notifier hangs on the webhook in its own task while a push is scanned.
    let started = std::time::Instant::now();
    let ticking = {
        let n = Arc::clone(&n);
        let now = w.clock.now();
        tokio::spawn(async move { n.tick(now).await.unwrap() })
    };
    w.edit_requirements_on_main("urllib3==1.26.5", "urllib3==1.26.18");
    w.scan_main("d-2").await;
    let summary = ticking.await.unwrap();
    assert_eq!((summary.messages, summary.failures), (0, 1));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "bounded by the timeout: {:?}",
        started.elapsed()
    );
    // The second scan fixed urllib3: its fix PR was closed as no longer needed.
    let closing: Vec<String> = w.bot_comments(2).into_iter().map(|c| c.body).collect();
    assert!(
        closing.iter().any(|b| b.starts_with("Closing:")),
        "{closing:#?}"
    );
    held.abort();
}

// ---------------------------------------------------------------- daily snapshots

fn seen(key: &str) -> SeenFinding {
    SeenFinding {
        key: key.to_string(),
        rule: "vulnerable-package".into(),
        subject: format!("{key}@1.0.0"),
        file: "package-lock.json".into(),
        line: 3,
        level: "blocker".into(),
        advisories: vec![format!("GHSA-{key}")],
        severity: "high".into(),
        package: key.to_string(),
        owners: vec!["@acme/web".into()],
        excepted: false,
    }
}

async fn scan(store: &Store, repository: i64, keys: &[&str], at: DateTime<Utc>) {
    let seen: Vec<SeenFinding> = keys.iter().map(|k| seen(k)).collect();
    let mut tx = store.begin().await.unwrap();
    findings::record_scan(&mut tx, repository, &seen, at)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn the_daily_snapshot_is_taken_once_a_day_per_installation_and_feeds_the_charts() {
    support::each_backend(|db| async move {
        let store = db.store.clone();
        let pool = store.pool();
        let t = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        let day = |s: &str| s.parse::<NaiveDate>().unwrap();
        let t0 = t("2026-06-01T10:00:00Z");
        for (installation, login) in [(1, "acme"), (2, "other")] {
            installations::upsert_installation(pool, installation, login, t0)
                .await
                .unwrap();
        }
        for (id, installation, name) in [(7, 1, "acme/web"), (8, 1, "acme/api"), (9, 2, "other/x")]
        {
            installations::upsert_repository(
                pool,
                &RepositoryUpsert {
                    id,
                    installation_id: installation,
                    full_name: name,
                    default_branch: Some("main"),
                    private: Some(false),
                },
                t0,
            )
            .await
            .unwrap();
        }

        // Day 0, 10:00: two blockers in acme/web; the first run of both installations.
        scan(&store, 7, &["a", "b"], t0).await;
        let first = daily_snapshots::tick(&store, t0).await.unwrap();
        assert_eq!(first.installations, 2);
        // 18:00: another blocker (acme/api); the day's snapshot is not taken again.
        scan(&store, 8, &["d"], t("2026-06-01T18:00:00Z")).await;
        let again = daily_snapshots::tick(&store, t("2026-06-01T18:00:00Z"))
            .await
            .unwrap();
        assert_eq!(again.installations, 0, "once a day");
        // Day 1: a and d fixed.
        let t1 = t("2026-06-02T12:00:00Z");
        scan(&store, 7, &["b"], t1).await;
        scan(&store, 8, &[], t1).await;
        assert_eq!(
            daily_snapshots::tick(&store, t1)
                .await
                .unwrap()
                .installations,
            2
        );
        // Day 2: the service is down. Day 3: a blocker in the other installation.
        let t3 = t("2026-06-04T09:00:00Z");
        scan(&store, 9, &["c"], t3).await;
        assert_eq!(
            daily_snapshots::tick(&store, t3)
                .await
                .unwrap()
                .installations,
            2
        );

        for installation in [1, 2] {
            assert_eq!(
                snapshot_runs::days(pool, installation).await.unwrap(),
                [day("2026-06-01"), day("2026-06-02"), day("2026-06-04")],
                "installation {installation}"
            );
        }
        // Day 0 as of its end (d included: retaken on day 1), the gap filled, day 3 so far.
        let rows = history::snapshots(pool, day("2026-06-01"), None)
            .await
            .unwrap();
        let totals: Vec<i64> = series(&rows, "blocker", day("2026-06-01"), day("2026-06-04"))
            .iter()
            .map(|p| p.total)
            .collect();
        assert_eq!(totals, [3, 1, 1, 2]);
        // A straightforward recount from the events, day by day, gives the same.
        let events = history::events(pool, None).await.unwrap();
        let recount: Vec<i64> = ["2026-06-01", "2026-06-02", "2026-06-03", "2026-06-04"]
            .iter()
            .map(|d| {
                let end = day(d).and_hms_opt(23, 59, 59).unwrap().and_utc();
                let mut open = std::collections::HashMap::new();
                for e in events.iter().filter(|e| e.at <= end) {
                    open.insert(
                        (e.repository_id, e.key.clone()),
                        e.kind == EventKind::Opened,
                    );
                }
                open.values().filter(|o| **o).count() as i64
            })
            .collect();
        assert_eq!(totals, recount);
        // The pages and the report draw the same series from the stored rows.
        let data = history::dataset(&store, None, day("2026-06-01"))
            .await
            .unwrap();
        let f = figures(&data, &SlaDays::default(), t3, Window { days: 3 });
        let drawn: Vec<i64> = f.open_blockers.iter().map(|p| p.total).collect();
        assert_eq!(drawn, [3, 1, 1, 2]);
        // Installation 2's run does not touch installation 1's rows: both have day 3.
        assert!(
            rows.iter()
                .any(|r| r.repository_id == 7 && r.day == day("2026-06-04"))
        );
        assert!(
            rows.iter()
                .any(|r| r.repository_id == 9 && r.day == day("2026-06-04"))
        );
    })
    .await;
}

// ---------------------------------------------------------------- wired into serve

#[tokio::test]
async fn serve_takes_the_daily_snapshot_at_start_and_stops_its_background_tasks() {
    let dir = tempfile::tempdir().unwrap();
    let chat = Chat::start().await;
    let mut config = support::serve_config(dir.path());
    config.notifications = Some(NotifyConfig {
        webhook_url: Secret::new(&chat.url),
        interval: TimeDelta::minutes(60),
        horizon: Horizon {
            sla_due_days: 7,
            exception_days: 14,
        },
    });
    let store = Store::connect_with(config.database_url.expose(), 2)
        .await
        .unwrap();
    let now = Utc::now();
    installations::upsert_installation(store.pool(), 5, "acme", now)
        .await
        .unwrap();
    installations::upsert_repository(
        store.pool(),
        &RepositoryUpsert {
            id: 50,
            installation_id: 5,
            full_name: "acme/web",
            default_branch: Some("main"),
            private: Some(false),
        },
        now,
    )
    .await
    .unwrap();
    let served = support::serve(config).await;
    let mut days = Vec::new();
    for _ in 0..100 {
        days = snapshot_runs::days(store.pool(), 5).await.unwrap();
        if !days.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(days, [Utc::now().date_naive()], "taken at start");
    // The notifier took its first turn too: the installation is watched from now on.
    let mut watched = false;
    for _ in 0..100 {
        let began = patchwright::store::notifications::began(store.pool())
            .await
            .unwrap();
        if began.is_some() {
            watched = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(watched, "the notifier ran");
    served.stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(20), served.server)
        .await
        .expect("serve stops with its background tasks")
        .unwrap()
        .unwrap();
    assert!(chat.texts().is_empty(), "nothing to tell");
    store.close().await;
}
