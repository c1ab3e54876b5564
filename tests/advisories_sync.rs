//! `advisories sync` against a real HTTP mirror on 127.0.0.1 serving osv.dev's layout, built
//! from ../shared/advisories: full sync, 304, incremental, and failures that keep the last good
//! data.

use axum::body::Body;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use patchwright::catalog::{AdvisoryDb, read_json_records};
use patchwright::knowledge::http::{FetchError, MirrorClient};
use patchwright::knowledge::{SyncError, SyncKind, SyncRequest, sync_ecosystem};
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

const SHARED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/advisories");
const ECO: &str = "crates.io";
const ADDED: &str = "RUSTSEC-2099-0001";
const MODIFIED: &str = "RUSTSEC-2020-0071";
const WITHDRAWN: &str = "RUSTSEC-2021-0124";

#[derive(Default)]
struct Mirror {
    /// Path → (status, body, etag).
    files: HashMap<String, (StatusCode, Vec<u8>, String)>,
    /// Each request: path and its If-None-Match.
    requests: Vec<(String, Option<String>)>,
    /// How long to wait before answering, for a stalled mirror.
    delay: std::time::Duration,
}

type Shared = Arc<Mutex<Mirror>>;

async fn serve(mirror: Shared, uri: Uri, headers: HeaderMap) -> Response {
    let path = uri.path().to_string();
    let if_none_match = headers
        .get("if-none-match")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let delay = mirror.lock().unwrap().delay;
    tokio::time::sleep(delay).await;
    let mut m = mirror.lock().unwrap();
    m.requests.push((path.clone(), if_none_match.clone()));
    let Some((status, body, etag)) = m.files.get(&path).cloned() else {
        return Response::builder().status(404).body(Body::empty()).unwrap();
    };
    if status == StatusCode::OK && if_none_match.as_deref() == Some(etag.as_str()) {
        return Response::builder().status(304).body(Body::empty()).unwrap();
    }
    Response::builder()
        .status(status)
        .header("etag", etag)
        .header("last-modified", "Wed, 02 Dec 2026 20:00:00 GMT")
        .body(Body::from(body))
        .unwrap()
}

async fn start() -> (String, Shared) {
    let mirror: Shared = Arc::default();
    let state = mirror.clone();
    let app = axum::Router::new().fallback(move |uri: Uri, headers: HeaderMap| {
        let state = state.clone();
        async move { serve(state, uri, headers).await }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), mirror)
}

/// The shared records of the ecosystem, by id.
fn state1() -> BTreeMap<String, serde_json::Value> {
    let mut records = BTreeMap::new();
    for entry in std::fs::read_dir(Path::new(SHARED).join(ECO)).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        records.insert(value["id"].as_str().unwrap().to_string(), value);
    }
    records
}

/// State 1 with one record added, one modified and one withdrawn, all after everything else.
fn state2() -> BTreeMap<String, serde_json::Value> {
    let mut records = state1();
    let mut added = records[MODIFIED].clone();
    added["id"] = ADDED.into();
    added["aliases"] = serde_json::json!([]);
    added["modified"] = "2030-01-01T00:00:00Z".into();
    records.insert(ADDED.to_string(), added);
    let modified = records.get_mut(MODIFIED).unwrap();
    modified["summary"] = "Changed upstream".into();
    modified["modified"] = "2030-01-02T00:00:00Z".into();
    let withdrawn = records.get_mut(WITHDRAWN).unwrap();
    withdrawn["withdrawn"] = "2030-01-03T00:00:00Z".into();
    withdrawn["modified"] = "2030-01-03T00:00:00Z".into();
    records
}

fn zip_of(records: &BTreeMap<String, serde_json::Value>) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (id, value) in records {
        zip.start_file(format!("{id}.json"), options).unwrap();
        zip.write_all(serde_json::to_string_pretty(value).unwrap().as_bytes())
            .unwrap();
    }
    zip.finish().unwrap().into_inner()
}

/// Publishes a state: all.zip (with `etag`), modified_id.csv newest first, one file per record.
fn publish(mirror: &Shared, records: &BTreeMap<String, serde_json::Value>, etag: &str) {
    let mut m = mirror.lock().unwrap();
    let ok = StatusCode::OK;
    m.files.insert(
        format!("/{ECO}/all.zip"),
        (ok, zip_of(records), format!("\"{etag}\"")),
    );
    let mut lines: Vec<(String, String)> = records
        .values()
        .map(|v| {
            let id = v["id"].as_str().unwrap().to_string();
            (v["modified"].as_str().unwrap().to_string(), id)
        })
        .collect();
    lines.sort_by(|a, b| b.cmp(a));
    let csv: String = lines.iter().map(|(t, id)| format!("{t},{id}\n")).collect();
    m.files.insert(
        format!("/{ECO}/modified_id.csv"),
        (ok, csv.into_bytes(), format!("\"csv-{etag}\"")),
    );
    for (id, value) in records {
        m.files.insert(
            format!("/{ECO}/{id}.json"),
            (ok, serde_json::to_vec(value).unwrap(), format!("\"{id}\"")),
        );
    }
}

fn set_export(mirror: &Shared, status: StatusCode, body: Vec<u8>, etag: &str) {
    mirror.lock().unwrap().files.insert(
        format!("/{ECO}/all.zip"),
        (status, body, format!("\"{etag}\"")),
    );
}

async fn sync(
    base: &str,
    dir: &Path,
    full: bool,
) -> Result<patchwright::knowledge::Outcome, SyncError> {
    let mut client = MirrorClient::new().unwrap();
    client.timeout = std::time::Duration::from_secs(2);
    sync_ecosystem(
        &client,
        &SyncRequest {
            mirror: base,
            ecosystem: ECO,
            dir,
            full,
        },
    )
    .await
}

/// Every file below `dir` with its bytes, to prove a failed sync touched nothing.
fn contents(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.insert(path.clone(), std::fs::read(&path).unwrap());
            }
        }
    }
    files
}

fn load(dir: &Path) -> AdvisoryDb {
    let (records, errors) = read_json_records(dir);
    assert!(errors.is_empty(), "{errors:?}");
    let (db, errors) = AdvisoryDb::from_json_records(&records);
    assert!(errors.is_empty(), "{errors:?}");
    db
}

#[tokio::test]
async fn a_full_sync_writes_every_record_where_the_scan_reads_them() {
    let (base, mirror) = start().await;
    publish(&mirror, &state1(), "v1");
    let dir = tempfile::tempdir().unwrap();

    let outcome = sync(&base, dir.path(), false).await.unwrap();

    assert_eq!(outcome.kind, SyncKind::Full);
    assert_eq!(outcome.fetched, state1().len());
    let withdrawn = state1()
        .values()
        .filter(|v| v.get("withdrawn").is_some())
        .count();
    assert!(withdrawn > 0, "the shared records hold withdrawn ones");
    assert_eq!(outcome.changes.new.len(), state1().len() - withdrawn);
    assert_eq!(outcome.changes.withdrawn.len(), withdrawn);
    assert!(outcome.unreadable.is_empty(), "{:?}", outcome.unreadable);
    // `--advisories DIR` reads the synced folder (and not the state file) as it reads the source.
    let (expected, _) = AdvisoryDb::load_dir(&Path::new(SHARED).join(ECO));
    assert_eq!(load(dir.path()).revision(), expected.revision());
    let state = patchwright::knowledge::store::read_state(dir.path()).unwrap();
    let eco = &state.ecosystems[ECO];
    assert_eq!(eco.etag.as_deref(), Some("\"v1\""));
    assert_eq!(
        eco.last_modified.as_deref(),
        Some("Wed, 02 Dec 2026 20:00:00 GMT")
    );
    let newest = state1()
        .values()
        .map(|v| v["modified"].as_str().unwrap().parse().unwrap())
        .max();
    assert_eq!(eco.cursor, newest);
}

#[tokio::test]
async fn an_unchanged_export_is_answered_304_and_nothing_is_rewritten() {
    let (base, mirror) = start().await;
    publish(&mirror, &state1(), "v1");
    let dir = tempfile::tempdir().unwrap();
    sync(&base, dir.path(), false).await.unwrap();
    let before = contents(dir.path());

    let outcome = sync(&base, dir.path(), true).await.unwrap();

    assert_eq!(outcome.kind, SyncKind::Unchanged);
    assert!(outcome.changes.is_empty());
    let requests = mirror.lock().unwrap().requests.clone();
    assert_eq!(
        requests.last().unwrap(),
        &(format!("/{ECO}/all.zip"), Some("\"v1\"".to_string()))
    );
    assert_eq!(contents(dir.path()), before);

    // A sync killed between its two renames left the old folder retired: it is found again.
    let folder = dir.path().join(ECO);
    std::fs::rename(&folder, dir.path().join(format!(".old-{ECO}-4242"))).unwrap();
    let outcome = sync(&base, dir.path(), true).await.unwrap();
    assert_eq!(outcome.kind, SyncKind::Unchanged);
    assert_eq!(contents(dir.path()), before);

    // Validators are not sent for data that is gone: the export is taken again.
    std::fs::remove_dir_all(&folder).unwrap();
    let outcome = sync(&base, dir.path(), true).await.unwrap();
    assert_eq!(outcome.kind, SyncKind::Full);
    assert_eq!(contents(dir.path()), before);
}

#[tokio::test]
async fn an_incremental_sync_fetches_only_the_records_modified_since() {
    let (base, mirror) = start().await;
    publish(&mirror, &state1(), "v1");
    let dir = tempfile::tempdir().unwrap();
    sync(&base, dir.path(), false).await.unwrap();
    publish(&mirror, &state2(), "v2");
    mirror.lock().unwrap().requests.clear();

    let outcome = sync(&base, dir.path(), false).await.unwrap();

    assert_eq!(outcome.kind, SyncKind::Incremental);
    assert_eq!(outcome.changes.new, [ADDED]);
    assert_eq!(outcome.changes.modified, [MODIFIED]);
    assert_eq!(outcome.changes.withdrawn, [WITHDRAWN]);
    assert!(outcome.changes.removed.is_empty());
    let mut paths: Vec<String> = mirror
        .lock()
        .unwrap()
        .requests
        .iter()
        .map(|(p, _)| p.clone())
        .collect();
    paths.sort();
    let mut expected = [
        format!("/{ECO}/{ADDED}.json"),
        format!("/{ECO}/{MODIFIED}.json"),
        format!("/{ECO}/{WITHDRAWN}.json"),
        format!("/{ECO}/modified_id.csv"),
    ];
    expected.sort();
    assert_eq!(paths, expected);
    let db = load(dir.path());
    assert!(db.get(ADDED).is_some());
    assert_eq!(db.get(MODIFIED).unwrap().summary, "Changed upstream");
    assert!(db.withdrawn().any(|a| a.id == WITHDRAWN));
    let state = patchwright::knowledge::store::read_state(dir.path()).unwrap();
    assert_eq!(
        state.ecosystems[ECO].cursor,
        Some("2030-01-03T00:00:00Z".parse().unwrap())
    );

    // Nothing newer: nothing fetched but the list.
    mirror.lock().unwrap().requests.clear();
    let again = sync(&base, dir.path(), false).await.unwrap();
    assert!(again.changes.is_empty());
    assert_eq!(mirror.lock().unwrap().requests.len(), 1);
}

#[tokio::test]
async fn a_broken_export_or_list_keeps_the_last_good_data() {
    let (base, mirror) = start().await;
    publish(&mirror, &state1(), "v1");
    let dir = tempfile::tempdir().unwrap();
    sync(&base, dir.path(), false).await.unwrap();
    let before = contents(dir.path());

    let good = zip_of(&state2());
    let mut not_osv = state2();
    not_osv.insert("README".into(), serde_json::json!({"hello": "world"}));
    let mut traversal = state2();
    traversal.insert(
        "evil".into(),
        serde_json::json!({"id": "../../evil", "modified": "2030-01-01T00:00:00Z"}),
    );
    // One byte of the first entry's compressed data flipped: the zip's CRC (or inflate) catches it.
    let mut flipped = good.clone();
    let name_len = usize::from(u16::from_le_bytes([good[26], good[27]]));
    let extra_len = usize::from(u16::from_le_bytes([good[28], good[29]]));
    flipped[30 + name_len + extra_len + 5] ^= 0x55;
    let bad: Vec<(&str, StatusCode, Vec<u8>)> = vec![
        ("bit flip", StatusCode::OK, flipped),
        (
            "garbage",
            StatusCode::OK,
            b"<html>503 Service Unavailable</html>".to_vec(),
        ),
        ("truncated", StatusCode::OK, good[..good.len() / 2].to_vec()),
        (
            "no central directory",
            StatusCode::OK,
            good[..good.len() - 30].to_vec(),
        ),
        ("empty", StatusCode::OK, zip_of(&BTreeMap::new())),
        ("not OSV", StatusCode::OK, zip_of(&not_osv)),
        ("unsafe id", StatusCode::OK, zip_of(&traversal)),
        (
            "server error",
            StatusCode::INTERNAL_SERVER_ERROR,
            good.clone(),
        ),
    ];
    for (what, status, body) in bad {
        set_export(&mirror, status, body, what);
        let result = sync(&base, dir.path(), true).await;
        assert!(result.is_err(), "{what}: {result:?}");
        assert_eq!(contents(dir.path()), before, "{what}");
    }

    // A mirror that does not answer in time.
    publish(&mirror, &state2(), "v2");
    mirror.lock().unwrap().delay = std::time::Duration::from_secs(5);
    let result = sync(&base, dir.path(), true).await;
    assert!(
        matches!(result, Err(SyncError::Fetch(FetchError::Timeout { .. }))),
        "{result:?}"
    );
    assert_eq!(contents(dir.path()), before);
    mirror.lock().unwrap().delay = std::time::Duration::ZERO;

    // The same for the incremental path: a garbled list, then a garbled record.
    mirror.lock().unwrap().files.insert(
        format!("/{ECO}/modified_id.csv"),
        (
            StatusCode::OK,
            b"<html>oops</html>".to_vec(),
            "\"x\"".into(),
        ),
    );
    let result = sync(&base, dir.path(), false).await;
    assert!(matches!(result, Err(SyncError::Csv { .. })), "{result:?}");
    assert_eq!(contents(dir.path()), before);

    publish(&mirror, &state2(), "v2");
    mirror.lock().unwrap().files.insert(
        format!("/{ECO}/{WITHDRAWN}.json"),
        (StatusCode::OK, b"{\"id\": ".to_vec(), "\"x\"".into()),
    );
    let result = sync(&base, dir.path(), false).await;
    assert!(
        matches!(result, Err(SyncError::Record { .. })),
        "{result:?}"
    );
    assert_eq!(
        contents(dir.path()),
        before,
        "nothing of the half-fetched increment is written"
    );

    // Once the mirror is healthy again, the next sync recovers by itself.
    publish(&mirror, &state2(), "v2");
    let outcome = sync(&base, dir.path(), false).await.unwrap();
    assert_eq!(outcome.changes.new, [ADDED]);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_command_says_the_sync_failed_and_what_it_kept() {
    let (base, mirror) = start().await;
    publish(&mirror, &state1(), "v1");
    let dir = tempfile::tempdir().unwrap();
    let run = |full: bool| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_patchwright"));
        command.args([
            "advisories",
            "sync",
            "--mirror",
            &base,
            "--ecosystem",
            ECO,
            "--dir",
        ]);
        command.arg(dir.path());
        if full {
            command.arg("--full");
        }
        command
    };
    let mut first = run(false);
    let withdrawn = state1()
        .values()
        .filter(|v| v.get("withdrawn").is_some())
        .count();
    let output = tokio::task::spawn_blocking(move || first.output().unwrap())
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{output:?}");
    assert!(
        stdout.contains(&format!(
            "{ECO}: full sync, {} records: {} new, 0 modified, {withdrawn} withdrawn",
            state1().len(),
            state1().len() - withdrawn
        )),
        "{stdout}"
    );

    set_export(&mirror, StatusCode::BAD_GATEWAY, Vec::new(), "down");
    let mut second = run(true);
    let output = tokio::task::spawn_blocking(move || second.output().unwrap())
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("sync failed"), "{stderr}");
    assert!(stderr.contains("502"), "{stderr}");
    assert!(stderr.contains("kept the last good data"), "{stderr}");
}

// ---------------------------------------------------------------------------------------------
// `serve` at start-up: the first sync, /healthz, and the refusal without data
// ---------------------------------------------------------------------------------------------

/// A `serve` process; killed when dropped, so a failed assertion leaves nothing running.
struct Served(std::process::Child);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A service configuration syncing `ECO` from `mirror` into `dir/osv`, with no local folder,
/// no sweeps and no GitHub reachable (start-up must not need it).
fn serve_config(dir: &Path, port: u16, mirror: &str, extra: &str) -> PathBuf {
    use rsa::pkcs1::EncodeRsaPrivateKey;
    // One App key per test binary: RSA key generation is slow in a debug build.
    static KEY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let key = KEY.get_or_init(|| {
        let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).unwrap();
        key.to_pkcs1_pem(rsa::pkcs8::LineEnding::LF)
            .unwrap()
            .to_string()
    });
    let key_path = dir.join("app-key.pem");
    std::fs::write(&key_path, key).unwrap();
    let text = format!(
        "listen = \"127.0.0.1:{port}\"\napp-id = 1\napp-slug = \"patchwright\"\n\
         private-key-path = {key:?}\nwebhook-secret = \"s\"\n\
         github-api-url = \"http://127.0.0.1:{closed}\"\n\
         database-url = \"sqlite://{db}?mode=rwc\"\n\
         catalog-path = \"{root}/fixtures/catalog.example.toml\"\n\
         sweep-interval-hours = 0\nrelock = false\n{extra}\n\
         [advisory-sync]\nmirror = {mirror:?}\necosystems = [\"{ECO}\"]\ndir = {osv:?}\n",
        key = key_path.display().to_string(),
        closed = free_port(),
        db = dir.join("patchwright.db").display(),
        root = env!("CARGO_MANIFEST_DIR"),
        osv = dir.join("osv").display().to_string(),
    );
    let path = dir.join("config.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn serve_with(config: &Path) -> Served {
    Served(
        std::process::Command::new(env!("CARGO_BIN_EXE_patchwright"))
            .args(["serve", "--config"])
            .arg(config)
            .env("RUST_LOG", "info")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap(),
    )
}

/// `GET /healthz` over a plain socket: the status line's code and the body, or `None` while
/// nothing listens yet.
async fn healthz(port: u16) -> Option<(u16, String)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .ok()?;
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n")
        .await
        .ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.ok()?;
    let code = answer.split(' ').nth(1)?.parse().ok()?;
    let (_, body) = answer.split_once("\r\n\r\n")?;
    Some((code, body.to_string()))
}

/// Polls `/healthz` until `done` holds for its body; panics with the last body and the
/// process's output after 60 s or when the process exits.
async fn wait_for_healthz(served: &mut Served, port: u16, done: impl Fn(&str) -> bool) -> String {
    let mut last = String::new();
    for _ in 0..600 {
        if let Some((code, body)) = healthz(port).await {
            if code == 200 && done(&body) {
                return body;
            }
            last = body;
        }
        if let Some(status) = served.0.try_wait().unwrap() {
            let mut err = String::new();
            use std::io::Read;
            served
                .0
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut err)
                .unwrap();
            panic!("serve exited ({status}) before /healthz said so:\n{err}");
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("/healthz never said so; last body:\n{last}");
}

/// Waits for the process to exit (at most 60 s) and returns its status and both outputs.
fn exit_of(served: &mut Served) -> (std::process::ExitStatus, String) {
    use std::io::Read;
    for _ in 0..600 {
        if let Some(status) = served.0.try_wait().unwrap() {
            let mut out = String::new();
            served
                .0
                .stdout
                .take()
                .unwrap()
                .read_to_string(&mut out)
                .unwrap();
            served
                .0
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut out)
                .unwrap();
            return (status, out);
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("serve did not exit");
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_syncs_from_the_mirror_before_it_starts_and_reports_it_in_healthz() {
    let (base, mirror) = start().await;
    publish(&mirror, &state1(), "v1");
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = serve_config(dir.path(), port, &base, "");
    let mut served = serve_with(&config);

    // No local folder: every advisory it reports loaded came from the mirror.
    let expected = load(&Path::new(SHARED).join(ECO)).len();
    assert!(expected > 0);
    let body = wait_for_healthz(&mut served, port, |b| {
        b.contains(&format!("advisory sync {ECO}: ok at"))
    })
    .await;
    assert!(body.starts_with("ok\n"), "{body}");
    assert!(
        body.contains(&format!("advisories: {expected} loaded")),
        "{body}"
    );
    assert_eq!(
        load(&dir.path().join("osv")).len(),
        expected,
        "kept on disk"
    );
    let requests = mirror.lock().unwrap().requests.clone();
    assert!(
        requests
            .iter()
            .any(|(path, _)| *path == format!("/{ECO}/all.zip")),
        "{requests:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_first_sync_without_local_data_refuses_to_start_unless_allowed() {
    // The mirror answers, but has nothing for the ecosystem (404): no data at all.
    let (base, _mirror) = start().await;
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = serve_config(dir.path(), port, &base, "");
    let mut served = serve_with(&config);
    let (status, output) = exit_of(&mut served);
    assert!(!status.success(), "{output}");
    let osv = dir.path().join("osv");
    assert!(
        output.contains(&format!(
            "advisory-sync: no sync into {} has succeeded yet (see the errors above), and no advisories-path gives local records.",
            osv.display()
        )),
        "{output}"
    );
    assert!(output.contains("allow-no-advisories = true"), "{output}");
    assert!(healthz(port).await.is_none(), "nothing listens");

    // The operator allows it: the service starts, and /healthz says what failed.
    let config = serve_config(dir.path(), port, &base, "allow-no-advisories = true");
    let mut served = serve_with(&config);
    let body = wait_for_healthz(&mut served, port, |b| b.contains("FAILED")).await;
    assert!(body.contains("advisories: 0 loaded"), "{body}");
    assert!(
        body.contains(&format!("advisory sync {ECO}: FAILED at")),
        "{body}"
    );
    assert!(body.contains("no sync of it has succeeded yet"), "{body}");
}
