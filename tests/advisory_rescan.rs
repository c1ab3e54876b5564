//! Advisory-driven rescans end to end: a loopback mirror in osv.dev's layout (built from
//! ../shared/advisories), the service's sync keeper, the package index in a real SQLite store,
//! the real job runner and scan handler, and the stateful fake GitHub over HTTP.
//!
//! A repository holding lodash 4.17.20 and Jinja2 3.1.2 is clean; the mirror publishes an
//! advisory for each; the next sync rescans that repository (and no other) at once: both are
//! found and the Jinja2 one gets its fix PR. (lodash's fix needs a re-lock of package-lock.json,
//! which the service does not run yet: its finding is checked, not a PR.)

#[path = "fake_github/mod.rs"]
mod fake_github;
mod support;

use axum::body::Body;
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use patchwright::catalog::{AdvisoryDb, Catalog};
use patchwright::forge::github::GitHubApp;
use patchwright::infra::clock::Clock;
use patchwright::infra::metrics::Metrics;
use patchwright::infra::secret::Secret;
use patchwright::knowledge::handle::{KnowledgeHandle, Pinned};
use patchwright::knowledge::http::MirrorClient;
use patchwright::knowledge::serve_sync::AdvisorySyncConfig;
use patchwright::knowledge::status::KnowledgeStatus;
use patchwright::pipeline::Knowledge;
use patchwright::policy::OrgPolicy;
use patchwright::service::handler::ScanHandler;
use patchwright::service::handler::read::ParseCache;
use patchwright::service::jobs::{
    JobHandler, JobKind, JobRunner, RepoRef, RunnerConfig, ScanJob, ScanReason, Settled,
};
use patchwright::service::refresh::{Keeper, Sources};
use patchwright::store::installations::{self, RepositoryUpsert};
use patchwright::store::jobs;
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use support::{ManualClock, RunUntilIdle, TestDb};
use tokio::sync::Notify;
use tower::ServiceExt;

const SHARED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/advisories");
/// What the mirror publishes later: command injection in lodash (fixed in 4.17.21) and an
/// xmlattr injection in Jinja2 (fixed in 3.1.3).
const LATE_NPM: &str = "GHSA-35jh-r3h4-6jhm";
const LATE_PYPI: &str = "GHSA-h5c8-rqwp-cp95";
const ECOSYSTEMS: [&str; 2] = ["npm", "PyPI"];
const INSTALLATION: u64 = 77;
const AFFECTED: (&str, i64) = ("acme/app", 501);
const UNAFFECTED: (&str, i64) = ("acme/other", 502);

type Files = Arc<Mutex<HashMap<String, (StatusCode, Vec<u8>)>>>;

/// A mirror serving whatever `files` holds at each path, 404 elsewhere.
async fn start_mirror() -> (String, Files) {
    let files: Files = Arc::default();
    let state = Arc::clone(&files);
    let app = axum::Router::new().fallback(move |uri: Uri| {
        let state = Arc::clone(&state);
        async move {
            let found = state.lock().unwrap().get(uri.path()).cloned();
            match found {
                Some((status, body)) => Response::builder()
                    .status(status)
                    .body(Body::from(body))
                    .unwrap(),
                None => Response::builder().status(404).body(Body::empty()).unwrap(),
            }
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), files)
}

fn shared_records(ecosystem: &str) -> BTreeMap<String, serde_json::Value> {
    let mut records = BTreeMap::new();
    for entry in std::fs::read_dir(format!("{SHARED}/{ecosystem}")).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        records.insert(value["id"].as_str().unwrap().to_string(), value);
    }
    records
}

/// Publishes `records` as osv.dev does: all.zip, modified_id.csv newest first, one file each.
fn publish(files: &Files, ecosystem: &str, records: &BTreeMap<String, serde_json::Value>) {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    for (id, value) in records {
        zip.start_file(format!("{id}.json"), options).unwrap();
        zip.write_all(value.to_string().as_bytes()).unwrap();
    }
    let zip = zip.finish().unwrap().into_inner();
    let mut lines: Vec<String> = records
        .values()
        .map(|v| {
            format!(
                "{},{}",
                v["modified"].as_str().unwrap(),
                v["id"].as_str().unwrap()
            )
        })
        .collect();
    lines.sort_by(|a, b| b.cmp(a));
    let mut f = files.lock().unwrap();
    f.insert(format!("/{ecosystem}/all.zip"), (StatusCode::OK, zip));
    f.insert(
        format!("/{ecosystem}/modified_id.csv"),
        (StatusCode::OK, (lines.join("\n") + "\n").into_bytes()),
    );
    for (id, value) in records {
        f.insert(
            format!("/{ecosystem}/{id}.json"),
            (StatusCode::OK, value.to_string().into_bytes()),
        );
    }
}

fn lockfile(name: &str, version: &str) -> String {
    serde_json::json!({
        "name": "app", "version": "1.0.0", "lockfileVersion": 3, "requires": true,
        "packages": {
            "": { "name": "app", "version": "1.0.0", "dependencies": { name: format!("^{version}") } },
            format!("node_modules/{name}"): {
                "version": version,
                "resolved": format!("https://registry.npmjs.org/{name}/-/{name}-{version}.tgz"),
            }
        }
    })
    .to_string()
}

struct Setup {
    github: fake_github::FakeGitHub,
    db: TestDb,
    runner: Arc<JobRunner>,
    keeper: Keeper,
    _synced: tempfile::TempDir,
}

async fn setup(mirror: &str) -> Setup {
    let clock = ManualClock::at("2026-12-02T09:00:00Z");
    let dyn_clock: Arc<dyn Clock> = clock.clone();
    let github = fake_github::FakeGitHub::start_with_clock(Arc::clone(&dyn_clock)).await;
    github.add_installation(INSTALLATION, "acme");
    let app_lock = lockfile("lodash", "4.17.20");
    github.seed_repo(
        AFFECTED.0,
        "main",
        &[
            ("package-lock.json", &app_lock),
            ("requirements.txt", "Jinja2==3.1.2\n"),
        ],
    );
    let other_lock = lockfile("left-pad", "1.3.0");
    github.seed_repo(UNAFFECTED.0, "main", &[("package-lock.json", &other_lock)]);

    let db = TestDb::sqlite().await;
    let pool = db.store.pool();
    let now = dyn_clock.now();
    installations::upsert_installation(pool, INSTALLATION as i64, "acme", now)
        .await
        .unwrap();
    for (name, id) in [AFFECTED, UNAFFECTED] {
        let repo = RepositoryUpsert {
            id,
            installation_id: INSTALLATION as i64,
            full_name: name,
            default_branch: Some("main"),
            private: Some(true),
        };
        installations::upsert_repository(pool, &repo, now)
            .await
            .unwrap();
    }

    // The service started before any sync, with catalog checks only.
    let handle = Arc::new(KnowledgeHandle::new(Knowledge {
        catalog: Catalog::empty(),
        advisories: AdvisoryDb::empty(),
        policy: OrgPolicy::default(),
    }));
    let metrics = Arc::new(Metrics::new());
    let app = GitHubApp::new(
        4242,
        &Secret::new(github.private_key_pem()),
        &github.url,
        Arc::clone(&dyn_clock),
        Some(Arc::clone(&metrics)),
    )
    .unwrap();
    let handler: Arc<dyn JobHandler> = Arc::new(ScanHandler {
        forges: Arc::new(app),
        store: db.store.clone(),
        knowledge: Pinned::new(Arc::clone(&handle)),
        clock: Arc::clone(&dyn_clock),
        cache: Arc::new(ParseCache::new(100)),
        bot_login: fake_github::BOT_LOGIN.to_string(),
        app_slug: "patchwright".to_string(),
        max_open_fix_prs: 5,
        relocker: None,
        registry: None,
    });
    let runner = Arc::new(JobRunner::new(
        db.store.clone(),
        handler,
        Arc::clone(&dyn_clock),
        RunnerConfig::default(),
        Arc::clone(&metrics),
    ));
    let synced = tempfile::tempdir().unwrap();
    let keeper = Keeper {
        sources: Sources {
            handle,
            status: Arc::new(KnowledgeStatus::default()),
            sync: Some(AdvisorySyncConfig {
                mirror: mirror.to_string(),
                ecosystems: ECOSYSTEMS.map(String::from).to_vec(),
                dir: synced.path().to_path_buf(),
                interval_minutes: 60,
            }),
            local_advisories: Vec::new(),
            config_path: None,
            catalog_path: "unused.toml".into(),
        },
        store: db.store.clone(),
        metrics,
        clock: dyn_clock,
        wake: Arc::new(Notify::new()),
    };
    Setup {
        github,
        db,
        runner,
        keeper,
        _synced: synced,
    }
}

async fn scan_jobs_of(db: &TestDb, repository_id: i64) -> Vec<ScanReason> {
    support::jobs::all(db.store.pool())
        .await
        .unwrap()
        .iter()
        .filter(|row| row.repository_id == Some(repository_id))
        .filter_map(|row| match JobKind::from_stored(&row.kind, &row.payload) {
            Ok(JobKind::Scan(scan)) => Some(scan.reason),
            _ => None,
        })
        .collect()
}

async fn run_all(runner: &Arc<JobRunner>) {
    for (id, settled) in runner.run_until_idle().await.unwrap() {
        assert_eq!(settled, Settled::Succeeded, "job {id}");
    }
}

fn client() -> MirrorClient {
    let mut client = MirrorClient::new().unwrap();
    client.timeout = std::time::Duration::from_secs(5);
    client
}

#[tokio::test]
async fn a_new_advisory_rescans_only_the_repositories_holding_its_package_and_opens_the_fix() {
    let (mirror, files) = start_mirror().await;
    let mut records: Vec<BTreeMap<String, serde_json::Value>> =
        ECOSYSTEMS.iter().map(|eco| shared_records(eco)).collect();
    let mut late = Vec::new();
    for (i, id) in [LATE_NPM, LATE_PYPI].into_iter().enumerate() {
        late.push(records[i].remove(id).expect("the shared records hold it"));
        publish(&files, ECOSYSTEMS[i], &records[i]);
    }
    let total: usize = records.iter().map(BTreeMap::len).sum();
    let s = setup(&mirror).await;
    let client = client();

    // The first sync takes the whole export; nothing is indexed yet, so nothing is rescanned.
    let first = s.keeper.sync_once(&client).await;
    // (One shared record is already withdrawn: it counts as such, not as new.)
    assert!(
        first.swapped && first.new + first.withdrawn == total,
        "{first:?}"
    );
    assert_eq!(first.rescans.queued, 0);

    // Both repositories are scanned (installed): clean, so no PR, and their packages indexed.
    for (name, id) in [AFFECTED, UNAFFECTED] {
        let job = JobKind::Scan(ScanJob {
            installation_id: INSTALLATION as i64,
            repository: RepoRef {
                id,
                full_name: name.into(),
            },
            head_sha: None,
            reason: ScanReason::Installed,
        });
        let now = s.keeper.clock.now();
        jobs::insert(s.db.store.pool(), &job.to_new_job(None, now), now)
            .await
            .unwrap();
    }
    run_all(&s.runner).await;
    assert!(s.github.pulls(AFFECTED.0).is_empty(), "clean before");
    assert!(s.github.pulls(UNAFFECTED.0).is_empty());

    // The mirror publishes the two advisories (modified after everything else).
    for (i, mut record) in late.into_iter().enumerate() {
        record["modified"] = "2030-01-01T00:00:00Z".into();
        let id = record["id"].as_str().unwrap().to_string();
        records[i].insert(id, record);
        publish(&files, ECOSYSTEMS[i], &records[i]);
    }

    let started = Instant::now();
    let second = s.keeper.sync_once(&client).await;
    assert_eq!(
        (second.new, second.modified, second.failed),
        (2, 0, 0),
        "{second:?}"
    );
    assert_eq!(second.rescans.queued, 1, "{second:?}");
    assert!(
        s.keeper
            .sources
            .handle
            .load()
            .advisories
            .get(LATE_NPM)
            .is_some(),
        "the new advisories are in force"
    );
    assert_eq!(
        scan_jobs_of(&s.db, AFFECTED.1).await.last(),
        Some(&ScanReason::Advisory {
            advisories: vec![LATE_NPM.to_string(), LATE_PYPI.to_string()]
        }),
        "one rescan for both"
    );
    assert_eq!(
        scan_jobs_of(&s.db, UNAFFECTED.1).await,
        [ScanReason::Installed],
        "the repository without lodash got no job"
    );
    run_all(&s.runner).await;
    let took = started.elapsed();

    let pulls = s.github.pulls(AFFECTED.0);
    let jinja = pulls
        .iter()
        .find(|p| p.head == "patchwright/pypi/jinja2")
        .unwrap_or_else(|| panic!("no Jinja2 fix PR: {pulls:#?}"));
    assert!(jinja.title.contains("3.1.3"), "{}", jinja.title);
    assert!(jinja.body.contains(LATE_PYPI), "{}", jinja.body);
    let open = patchwright::store::findings::for_repository(s.db.store.pool(), AFFECTED.1)
        .await
        .unwrap();
    assert!(
        open.iter()
            .any(|f| f.advisories.contains(&LATE_NPM.to_string())),
        "lodash is found vulnerable: {open:#?}"
    );
    assert!(s.github.pulls(UNAFFECTED.0).is_empty());
    println!("time from sync start to the fix PR: {took:?}");

    // The mirror breaks: the sync fails, the last good data stays and /healthz says so.
    let before = s.keeper.sources.handle.load().advisories.len();
    for (_, (status, _)) in files.lock().unwrap().iter_mut() {
        *status = StatusCode::INTERNAL_SERVER_ERROR;
    }
    let failed = s.keeper.sync_once(&client).await;
    assert_eq!((failed.failed, failed.swapped), (2, false), "{failed:?}");
    assert_eq!(s.keeper.sources.handle.load().advisories.len(), before);
    let mut state = support::app_state(s.db.store.clone(), Arc::clone(&s.keeper.clock));
    state.knowledge = Arc::clone(&s.keeper.sources.status);
    let response = patchwright::service::router(state)
        .oneshot(
            axum::http::Request::get("/healthz")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "a failed sync is not unreadiness"
    );
    let body = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    let body = String::from_utf8(body.to_vec()).unwrap();
    assert!(body.starts_with("ok\n"), "{body}");
    assert!(
        body.contains("advisory sync npm: FAILED at ")
            && body.contains("the mirror answered 500")
            && body.contains("stays in use"),
        "{body}"
    );
    // The mirror comes back: the next round recovers by itself.
    for (_, (status, _)) in files.lock().unwrap().iter_mut() {
        *status = StatusCode::OK;
    }
    let recovered = s.keeper.sync_once(&client).await;
    assert_eq!(recovered.failed, 0, "{recovered:?}");
    let detail = s.keeper.sources.status.detail();
    assert!(
        detail.contains("advisory sync npm: ok at") && !detail.contains("FAILED"),
        "{detail}"
    );
    let metrics = s.keeper.metrics.render();
    for line in [
        "patchwright_advisory_syncs_total{ecosystem=\"npm\",outcome=\"failed\"} 1",
        "patchwright_advisory_syncs_total{ecosystem=\"PyPI\",outcome=\"incremental\"} 2",
        "patchwright_advisory_changes_total{ecosystem=\"npm\",change=\"new\"} ",
        "patchwright_advisory_rescans_total 1",
    ] {
        assert!(metrics.contains(line), "missing {line:?} in\n{metrics}");
    }
}

#[tokio::test]
async fn serve_syncs_at_start_swaps_the_data_in_and_reports_it() {
    let (mirror, files) = start_mirror().await;
    let records = shared_records("npm");
    publish(&files, "npm", &records);
    let dir = tempfile::tempdir().unwrap();
    let config = support::serve_config(dir.path());
    let handle = Arc::new(KnowledgeHandle::new(Knowledge {
        catalog: Catalog::empty(),
        advisories: AdvisoryDb::empty(),
        policy: OrgPolicy::default(),
    }));
    let sources = Sources {
        handle: Arc::clone(&handle),
        status: Arc::new(KnowledgeStatus::default()),
        sync: Some(AdvisorySyncConfig {
            mirror,
            ecosystems: vec!["npm".into()],
            dir: dir.path().join("osv"),
            interval_minutes: 60,
        }),
        local_advisories: Vec::new(),
        config_path: None,
        catalog_path: "unused.toml".into(),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let handler: Arc<dyn JobHandler> = support::RecordingHandler::new();
    let server = tokio::spawn(patchwright::service::serve_built(
        listener,
        config,
        Box::new(move |_, _| Ok(handler)),
        Some(sources),
        async move {
            let _ = stopped.await;
        },
    ));

    // The first round runs at once; /healthz says so when it is done.
    let deadline = Instant::now() + std::time::Duration::from_secs(30);
    let body = loop {
        let (status, body) = support::http(addr, "GET", "/healthz", &[], b"").await;
        assert_eq!(status, 200, "{body}");
        // The sync is reported first, the swap after it.
        if body.contains("advisory sync npm: ok") && body.contains("advisories: ") {
            break body;
        }
        assert!(Instant::now() < deadline, "no sync reported: {body}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    let loaded = handle.load().advisories.len();
    assert!(loaded > 0);
    assert!(body.starts_with("ok\n"), "{body}");
    assert!(
        body.contains(&format!("advisories: {loaded} loaded")),
        "{body}"
    );
    let (_, metrics) = support::http(addr, "GET", "/metrics", &[], b"").await;
    assert!(
        metrics.contains(&format!("patchwright_advisories_loaded {loaded}")),
        "{metrics}"
    );
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}
