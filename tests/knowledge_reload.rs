//! Reloading the catalog and the policy without restart: an invalid catalog or configuration is
//! refused with its errors and the last good knowledge stays in force; a valid one is swapped
//! in, also on a real SIGHUP to this process. Its own test binary: the signal goes to the whole
//! process.

mod support;

use patchwright::catalog::{AdvisoryDb, load_catalog};
use patchwright::infra::clock::Clock;
use patchwright::infra::metrics::Metrics;
use patchwright::knowledge::handle::{KnowledgeHandle, Pinned};
use patchwright::knowledge::status::KnowledgeStatus;
use patchwright::pipeline::Knowledge;
use patchwright::policy::OrgPolicy;
use patchwright::service::refresh::{Keeper, Sources};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use support::{ManualClock, TestDb};
use tokio::sync::{Notify, watch};

fn write_config(dir: &Path, max_exception_days: u32) -> PathBuf {
    let path = dir.join("config.toml");
    let text = format!(
        "app-id = 1\napp-slug = \"patchwright\"\nprivate-key-path = \"key.pem\"\n\
         webhook-secret = \"s\"\ncatalog-path = {:?}\n\n[policy]\nmax-exception-days = {max_exception_days}\n",
        dir.join("catalog.toml").display().to_string()
    );
    std::fs::write(&path, text).unwrap();
    path
}

fn write_catalog(dir: &Path, text: &str) {
    std::fs::write(dir.join("catalog.toml"), text).unwrap();
}

async fn keeper(dir: &Path, db: &TestDb) -> Keeper {
    write_catalog(dir, "revision = \"r1\"\n");
    let config = write_config(dir, 30);
    let handle = Arc::new(KnowledgeHandle::new(Knowledge {
        catalog: load_catalog(&dir.join("catalog.toml")).unwrap(),
        advisories: AdvisoryDb::empty(),
        policy: OrgPolicy {
            max_exception_days: 30,
            ..OrgPolicy::default()
        },
    }));
    let clock: Arc<dyn Clock> = ManualClock::at("2026-12-03T00:00:00Z");
    Keeper {
        sources: Sources {
            handle,
            status: Arc::new(KnowledgeStatus::default()),
            sync: None,
            local_advisories: Vec::new(),
            config_path: Some(config),
            catalog_path: dir.join("catalog.toml"),
        },
        store: db.store.clone(),
        metrics: Arc::new(Metrics::new()),
        clock,
        wake: Arc::new(Notify::new()),
    }
}

#[tokio::test]
async fn an_invalid_catalog_or_config_is_refused_and_a_valid_one_swapped_in() {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::sqlite().await;
    let keeper = keeper(dir.path(), &db).await;
    let handle = &keeper.sources.handle;
    // A job that started before the reload keeps its snapshot.
    let running_job = Pinned::new(Arc::clone(handle));

    write_catalog(
        dir.path(),
        "revision = \"r2\"\nallow-unlisted-imagez = true\n",
    );
    let refused = keeper.reload().await.unwrap_err();
    assert!(
        refused.contains("the catalog has 1 error(s)") && refused.contains("catalog.toml:2:"),
        "{refused}"
    );
    assert_eq!(
        handle.load().catalog.revision,
        "r1",
        "the last good catalog stays"
    );
    let status = keeper.sources.status.detail();
    assert!(
        status.contains("reload: REFUSED at 2026-12-03T00:00:00Z: the catalog has"),
        "{status}"
    );

    // A configuration that does not validate is refused too, whatever the catalog.
    write_catalog(dir.path(), "revision = \"r2\"\n");
    std::fs::write(
        dir.path().join("config.toml"),
        std::fs::read_to_string(dir.path().join("config.toml"))
            .unwrap()
            .replace("max-exception-days = 30", "max-exception-days = \"soon\""),
    )
    .unwrap();
    let refused = keeper.reload().await.unwrap_err();
    assert!(refused.contains("policy"), "{refused}");
    assert_eq!(handle.load().catalog.revision, "r1");

    write_config(dir.path(), 45);
    keeper.reload().await.unwrap();
    let now = handle.load();
    assert_eq!(now.catalog.revision, "r2");
    assert_eq!(now.policy.max_exception_days, 45);
    assert_eq!(running_job.catalog.revision, "r1");
    assert_eq!(
        running_job.pin().catalog.revision,
        "r2",
        "the next job sees it"
    );
    let metrics = keeper.metrics.render();
    for line in [
        "patchwright_knowledge_reloads_total{outcome=\"refused\"} 2",
        "patchwright_knowledge_reloads_total{outcome=\"applied\"} 1",
    ] {
        assert!(metrics.contains(line), "missing {line:?} in\n{metrics}");
    }
    assert!(
        keeper
            .sources
            .status
            .detail()
            .contains("reload: applied at ")
    );
}

#[cfg(unix)]
#[tokio::test]
async fn sighup_reloads() {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::sqlite().await;
    let keeper = Arc::new(keeper(dir.path(), &db).await);
    let (stop, stopped) = watch::channel(false);
    let reloads = Arc::clone(&keeper).reload_on_sighup(stopped).unwrap();
    let task = tokio::spawn(reloads);

    write_catalog(dir.path(), "revision = \"after-hup\"\n");
    rustix::process::kill_process(rustix::process::getpid(), rustix::process::Signal::HUP).unwrap();
    let handle = &keeper.sources.handle;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while handle.load().catalog.revision != "after-hup" {
        assert!(
            tokio::time::Instant::now() < deadline,
            "SIGHUP did not reload"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.send(true).unwrap();
    task.await.unwrap();
}
