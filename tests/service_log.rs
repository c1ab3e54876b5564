//! The JSON log format, end to end through `serve_on`: in its own test binary because it installs
//! a global log subscriber.

mod support;

use serde_json::{Value, json};
use std::sync::Arc;

fn body(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).unwrap()
}

/// GitHub's example of a push to the default branch through an app installation.
fn default_branch_push() -> Value {
    support::example("push", |e| {
        e["ref"] == "refs/heads/master" && e["installation"].is_object()
    })
}

/// Log lines written into memory.
#[derive(Clone, Default)]
struct Captured(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn json_log_lines_keep_their_types() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = patchwright::service::telemetry::json_subscriber(move || writer.clone());
    // Global, in a test binary of its own: a thread-local default missed lines once other tests
    // in the same process had registered the same callsites without it.
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let config = support::serve_config(dir.path());
    let database = config.database_url.expose().to_string();
    let s = support::serve(config).await;
    let payload = body(&default_branch_push());
    let headers = [
        ("X-GitHub-Event", "push".to_string()),
        ("X-GitHub-Delivery", "log-1".to_string()),
        (
            "X-Hub-Signature-256",
            patchwright::service::webhook::signature::sign(support::SECRET.as_bytes(), &payload),
        ),
    ];
    let (status, _) = support::http(s.addr, "POST", "/webhook", &headers, &payload).await;
    assert_eq!(status, 202);
    s.stop.send(()).unwrap();
    s.server.await.unwrap().unwrap();

    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let line = |message: &str| {
        lines
            .iter()
            .find(|l| l["message"] == message)
            .unwrap_or_else(|| panic!("no {message:?} line in\n{text}"))
    };
    assert_eq!(
        line("starting patchwright serve")["database"],
        json!(database)
    );
    let handled = line("webhook handled");
    assert_eq!(handled["jobs"], json!(1));
    assert!(handled["job_ids"].is_string(), "{handled}");
}
