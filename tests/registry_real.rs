//! The registry client against a real registry: Debian's `docker-registry` (CNCF Distribution
//! 2.8, installed by scripts/registry-deps.sh) started on a free loopback port with a generated
//! config and its storage in a temporary folder. Images and an index are pushed through the
//! HTTP API; what Distribution 2.8 does not do (paginated tag lists, bearer tokens, 429s,
//! garbage) is added by a small loopback proxy in front of it that forwards everything else.

mod registry_support;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use patchwright::registry::auth::CredentialStore;
use patchwright::registry::{
    Lookup, Platform, RegistryClient, RegistryConfig, RegistryError, Repository,
};
use registry_support::{Pusher, free_port, http, start_registry};
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn client(config: &RegistryConfig, credentials: CredentialStore) -> RegistryClient {
    RegistryClient::new(config, credentials).unwrap()
}

fn quick() -> RegistryConfig {
    RegistryConfig {
        enabled: true,
        timeout: Duration::from_secs(10),
        max_retry_wait: Duration::from_secs(5),
        ..RegistryConfig::default()
    }
}

fn repo(host: &str, path: &str) -> Repository {
    Repository {
        host: host.to_string(),
        path: path.to_string(),
    }
}

// ---------------------------------------------------------------------------------------------
// The proxy: forwards to the registry, and adds what a test asks for
// ---------------------------------------------------------------------------------------------

#[derive(Default)]
struct ProxyState {
    /// Answer this many requests with 429 and this `Retry-After` first.
    too_many: u32,
    retry_after: String,
    /// Answer every request with a 200 of HTML.
    garbage: bool,
    /// Split tag lists into pages of this size, with `Link` headers.
    page: Option<usize>,
    /// Require `Authorization: Bearer <token>` and serve tokens at `/token`.
    bearer: Option<String>,
    /// Serve this body for blob requests instead of the registry's.
    tampered_blob: Option<Vec<u8>>,
}

struct Proxy {
    port: u16,
    state: Arc<Mutex<ProxyState>>,
    requests: Arc<AtomicU32>,
    token_requests: Arc<Mutex<Vec<String>>>,
}

impl Proxy {
    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
    fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

async fn start_proxy(upstream: String) -> Proxy {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let state = Arc::new(Mutex::new(ProxyState::default()));
    let requests = Arc::new(AtomicU32::new(0));
    let token_requests = Arc::new(Mutex::new(Vec::new()));
    let (s, r, t) = (state.clone(), requests.clone(), token_requests.clone());
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let (s, r, t, upstream) = (s.clone(), r.clone(), t.clone(), upstream.clone());
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req| {
                    proxy_one(req, s.clone(), r.clone(), t.clone(), upstream.clone(), port)
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Proxy {
        port,
        state,
        requests,
        token_requests,
    }
}

fn reply(
    status: StatusCode,
    headers: &[(&str, String)],
    body: impl Into<Bytes>,
) -> Response<Full<Bytes>> {
    let mut response = Response::builder().status(status);
    for (k, v) in headers {
        response = response.header(*k, v);
    }
    response.body(Full::new(body.into())).unwrap()
}

async fn proxy_one(
    req: Request<Incoming>,
    state: Arc<Mutex<ProxyState>>,
    requests: Arc<AtomicU32>,
    tokens: Arc<Mutex<Vec<String>>>,
    upstream: String,
    port: u16,
) -> Result<Response<Full<Bytes>>, std::convert::Infallible> {
    requests.fetch_add(1, Ordering::SeqCst);
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or("").to_string();
    let (too_many, retry_after, garbage, page, bearer, tampered) = {
        let mut s = state.lock().unwrap();
        let too_many = s.too_many > 0;
        if too_many {
            s.too_many -= 1;
        }
        (
            too_many,
            s.retry_after.clone(),
            s.garbage,
            s.page,
            s.bearer.clone(),
            s.tampered_blob.clone(),
        )
    };
    if path == "/token" {
        let auth = req
            .headers()
            .get("authorization")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        tokens.lock().unwrap().push(format!("{query} {auth}"));
        let token = bearer.unwrap_or_default();
        return Ok(reply(
            StatusCode::OK,
            &[],
            format!("{{\"token\":\"{token}\"}}"),
        ));
    }
    if too_many {
        return Ok(reply(
            StatusCode::TOO_MANY_REQUESTS,
            &[("retry-after", retry_after)],
            "slow down",
        ));
    }
    if garbage {
        return Ok(reply(
            StatusCode::OK,
            &[("content-type", "text/html".into())],
            "<html>maintenance</html>",
        ));
    }
    if let Some(token) = bearer {
        let sent = req
            .headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok());
        if sent != Some(format!("Bearer {token}").as_str()) {
            let challenge = format!(
                "Bearer realm=\"http://127.0.0.1:{port}/token\",service=\"test-registry\",scope=\"repository:team/app:pull\""
            );
            return Ok(reply(
                StatusCode::UNAUTHORIZED,
                &[("www-authenticate", challenge)],
                "{}",
            ));
        }
    }
    if let Some(body) = tampered
        && path.contains("/blobs/")
    {
        return Ok(reply(StatusCode::OK, &[], body));
    }
    // Forward, keeping method, Accept and the path and query.
    let paging = page.is_some() && path.ends_with("/tags/list");
    let target = if paging {
        path.clone()
    } else {
        req.uri()
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_default()
    };
    let mut forward = Request::builder()
        .method(req.method().clone())
        .uri(format!("{upstream}{target}"));
    if let Some(accept) = req.headers().get("accept") {
        forward = forward.header("accept", accept);
    }
    let answer = http()
        .request(forward.body(Full::new(Bytes::new())).unwrap())
        .await
        .unwrap();
    let status = answer.status();
    let mut headers: Vec<(&str, String)> = Vec::new();
    for name in ["content-type", "docker-content-digest"] {
        if let Some(v) = answer.headers().get(name) {
            headers.push((name, v.to_str().unwrap().to_string()));
        }
    }
    let body = answer.into_body().collect().await.unwrap().to_bytes();
    if let (Some(size), true) = (page, path.ends_with("/tags/list")) {
        // Distribution 2.8 lists all tags at once: page them as the spec describes.
        let list: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let mut tags: Vec<String> = list["tags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap().to_string())
            .collect();
        tags.sort();
        let last = query
            .split('&')
            .find_map(|kv| kv.strip_prefix("last="))
            .map(str::to_string);
        let start = last.map_or(0, |l| {
            tags.iter().position(|t| *t == l).map_or(0, |i| i + 1)
        });
        let chunk: Vec<String> = tags.iter().skip(start).take(size).cloned().collect();
        let mut headers = vec![("content-type", "application/json".to_string())];
        if start + size < tags.len() {
            headers.push((
                "link",
                format!(
                    "<{path}?n={size}&last={}>; rel=\"next\"",
                    chunk.last().unwrap()
                ),
            ));
        }
        let body = serde_json::json!({"name": list["name"], "tags": chunk}).to_string();
        return Ok(reply(status, &headers, body));
    }
    Ok(reply(status, &headers, body))
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn tags_digests_an_index_and_blobs_from_a_real_registry() {
    let registry = start_registry(None).await;
    let push = Pusher::new(&registry.base(), None);
    let alpine = push.image("library/node", "amd64", "alpine").await;
    push.tag("library/node", "1.2.3-alpine3.19", &alpine).await;
    let slim = push.image("library/node", "amd64", "slim").await;
    push.tag("library/node", "1.2.3-bookworm-slim", &slim).await;
    let (index_digest, arm) = push
        .index("library/node", "1.3.0-alpine3.19", "multi")
        .await;

    let client = client(&quick(), CredentialStore::default());
    let node = repo(&registry.host(), "library/node");
    let mut tags = client.tags(&node).await.unwrap();
    tags.sort();
    assert_eq!(
        tags,
        [
            "1.2.3-alpine3.19",
            "1.2.3-bookworm-slim",
            "1.3.0-alpine3.19"
        ]
    );

    // A HEAD gives the digest; for the multi-platform tag it is the index's, not an image's.
    assert_eq!(
        client.digest(&node, "1.2.3-alpine3.19").await.unwrap(),
        alpine.digest
    );
    assert_eq!(
        client.digest(&node, "1.3.0-alpine3.19").await.unwrap(),
        index_digest
    );
    assert_ne!(index_digest, arm.digest);
    let missing = client.digest(&node, "9.9.9").await.unwrap_err();
    assert!(
        matches!(missing, RegistryError::NotFound { .. }),
        "{missing}"
    );
    assert!(missing.to_string().contains("no tag `9.9.9`"), "{missing}");

    // The index resolves to the platform asked for.
    let arm64 = Platform {
        architecture: "arm64".into(),
        ..Platform::default()
    };
    let manifest = client
        .manifest(&node, "1.3.0-alpine3.19", &arm64)
        .await
        .unwrap();
    assert_eq!(manifest.digest, arm.digest);
    assert_eq!(
        manifest.index_digest.as_deref(),
        Some(index_digest.as_str())
    );
    assert_eq!(manifest.layers.len(), 1);
    let single = client
        .manifest(&node, "1.2.3-bookworm-slim", &Platform::default())
        .await
        .unwrap();
    assert_eq!(
        (single.digest.as_str(), single.index_digest),
        (slim.digest.as_str(), None)
    );

    // Blobs stream and check their digest.
    let blob = client
        .blob(&node, &manifest.layers[0].digest)
        .await
        .unwrap();
    assert_eq!(blob.read_to_end(1 << 20).await.unwrap(), arm.layer);
    assert_eq!(manifest.layers[0].digest, arm.layer_digest);
    let mut blob = client.blob(&node, &alpine.layer_digest).await.unwrap();
    let mut read = Vec::new();
    while let Some(chunk) = blob.next_chunk().await.unwrap() {
        read.extend_from_slice(&chunk);
    }
    assert_eq!(read, alpine.layer);
}

#[tokio::test]
async fn tag_lists_are_followed_across_pages() {
    let registry = start_registry(None).await;
    let push = Pusher::new(&registry.base(), None);
    let image = push.image("team/app", "amd64", "paged").await;
    let mut pushed = Vec::new();
    for i in 0..7 {
        let tag = format!("1.{i}.0-alpine3.19");
        push.tag("team/app", &tag, &image).await;
        pushed.push(tag);
    }
    let proxy = start_proxy(registry.base()).await;
    proxy.state.lock().unwrap().page = Some(3);
    let mut client = client(&quick(), CredentialStore::default());
    client.page_size = 3;
    let mut tags = client.tags(&repo(&proxy.host(), "team/app")).await.unwrap();
    tags.sort();
    assert_eq!(tags, pushed);
    // Three pages: 3 + 3 + 1.
    assert_eq!(proxy.requests.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn basic_auth_from_a_docker_config_file() {
    let registry = start_registry(Some(("ci", "s3cret"))).await;
    let push = Pusher::new(&registry.base(), Some(("ci", "s3cret")));
    let image = push.image("team/app", "amd64", "private").await;
    push.tag("team/app", "2.0.0-bookworm-slim", &image).await;
    let app = repo(&registry.host(), "team/app");

    let anonymous = client(&quick(), CredentialStore::default());
    let refused = anonymous.tags(&app).await.unwrap_err().to_string();
    assert!(
        refused.contains(&format!("there are none for `{}`", registry.host())),
        "{refused}"
    );

    let file = format!(
        r#"{{"auths": {{"{}": {{"auth": "Y2k6czNjcmV0"}}}}}}"#,
        registry.host()
    );
    let credentials = CredentialStore::from_docker_config("config.json", &file).unwrap();
    let signed_in = client(&quick(), credentials);
    assert_eq!(signed_in.tags(&app).await.unwrap(), ["2.0.0-bookworm-slim"]);
    assert_eq!(
        signed_in.digest(&app, "2.0.0-bookworm-slim").await.unwrap(),
        image.digest
    );

    let mut wrong = CredentialStore::default();
    wrong.insert(
        &registry.host(),
        patchwright::registry::auth::Credentials {
            username: "ci".into(),
            password: "nope".into(),
        },
    );
    let refused = client(&quick(), wrong)
        .tags(&app)
        .await
        .unwrap_err()
        .to_string();
    assert!(refused.contains("were refused: check them"), "{refused}");
}

#[tokio::test]
async fn bearer_tokens_are_fetched_from_the_challenge_realm_once() {
    let registry = start_registry(None).await;
    let push = Pusher::new(&registry.base(), None);
    let image = push.image("team/app", "amd64", "token").await;
    push.tag("team/app", "3.1.0", &image).await;
    let proxy = start_proxy(registry.base()).await;
    proxy.state.lock().unwrap().bearer = Some("tok-123".into());
    let mut credentials = CredentialStore::default();
    credentials.insert(
        &proxy.host(),
        patchwright::registry::auth::Credentials {
            username: "robot".into(),
            password: "pw".into(),
        },
    );
    let client = client(&quick(), credentials);
    let app = repo(&proxy.host(), "team/app");
    assert_eq!(client.tags(&app).await.unwrap(), ["3.1.0"]);
    assert_eq!(client.digest(&app, "3.1.0").await.unwrap(), image.digest);
    let tokens = proxy.token_requests.lock().unwrap().clone();
    assert_eq!(tokens.len(), 1, "the token is reused: {tokens:?}");
    assert!(tokens[0].contains("service=test-registry"), "{tokens:?}");
    assert!(
        tokens[0].contains("scope=repository%3Ateam%2Fapp%3Apull"),
        "{tokens:?}"
    );
    assert!(
        tokens[0].ends_with("Basic cm9ib3Q6cHc="),
        "credentials go to the realm: {tokens:?}"
    );
}

#[tokio::test]
async fn rate_limits_are_waited_out_within_bounds() {
    let registry = start_registry(None).await;
    let push = Pusher::new(&registry.base(), None);
    let image = push.image("team/app", "amd64", "limited").await;
    push.tag("team/app", "1.0.0", &image).await;
    let proxy = start_proxy(registry.base()).await;
    let app = repo(&proxy.host(), "team/app");
    {
        let mut s = proxy.state.lock().unwrap();
        s.too_many = 2;
        s.retry_after = "1".into();
    }
    let client = client(&quick(), CredentialStore::default());
    let started = std::time::Instant::now();
    assert_eq!(client.digest(&app, "1.0.0").await.unwrap(), image.digest);
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "Retry-After is honoured"
    );
    assert_eq!(proxy.requests.load(Ordering::SeqCst), 3);

    // A wait longer than allowed gives up at once, with the reason.
    {
        let mut s = proxy.state.lock().unwrap();
        s.too_many = 1;
        s.retry_after = "3600".into();
    }
    let err = client.tags(&app).await.unwrap_err();
    assert!(matches!(err, RegistryError::RateLimited { .. }), "{err}");
    assert!(err.to_string().contains("asks to wait 3600s"), "{err}");

    // More 429s than retries: bounded.
    {
        let mut s = proxy.state.lock().unwrap();
        s.too_many = 10;
        s.retry_after = "0".into();
    }
    let err = client.tags(&app).await.unwrap_err().to_string();
    assert!(err.contains("after 3 retries"), "{err}");
}

#[tokio::test]
async fn garbage_tampering_and_a_dead_registry_are_clear_errors() {
    let registry = start_registry(None).await;
    let push = Pusher::new(&registry.base(), None);
    let image = push.image("team/app", "amd64", "faults").await;
    push.tag("team/app", "1.0.0", &image).await;
    let proxy = start_proxy(registry.base()).await;
    let app = repo(&proxy.host(), "team/app");
    let client = client(&quick(), CredentialStore::default());

    proxy.state.lock().unwrap().garbage = true;
    let err = client.tags(&app).await.unwrap_err().to_string();
    assert!(
        err.contains("not a registry answer: the tag list is not JSON"),
        "{err}"
    );
    proxy.state.lock().unwrap().garbage = false;

    proxy.state.lock().unwrap().tampered_blob = Some(b"not the layer".to_vec());
    let blob = client.blob(&app, &image.layer_digest).await.unwrap();
    let err = blob.read_to_end(1 << 20).await.unwrap_err().to_string();
    assert!(
        err.contains(&format!("not the {} asked for", image.layer_digest)),
        "{err}"
    );

    let dead = repo(&format!("127.0.0.1:{}", free_port()), "team/app");
    let err = client.tags(&dead).await.unwrap_err();
    assert!(matches!(err, RegistryError::Network { .. }), "{err}");
}

#[tokio::test]
async fn mirrors_are_tried_in_order_then_the_origin() {
    let registry = start_registry(None).await;
    let push = Pusher::new(&registry.base(), None);
    let image = push.image("library/node", "amd64", "mirror").await;
    push.tag("library/node", "1.2.3-alpine3.19", &image).await;
    let origin_proxy = start_proxy(registry.base()).await;
    let mirror = start_proxy(registry.base()).await;
    let dead = format!("http://127.0.0.1:{}", free_port());

    // Docker Hub names go to the mirror (the origin would be registry-1.docker.io).
    let mut config = quick();
    config
        .mirrors
        .insert("docker.io".into(), vec![dead.clone(), mirror.base()]);
    let hub = client(&config, CredentialStore::default());
    let node =
        Repository::of(&patchwright::model::ImageRef::parse("node:1.2.3-alpine3.19").unwrap());
    assert_eq!(hub.tags(&node).await.unwrap(), ["1.2.3-alpine3.19"]);
    assert_eq!(mirror.requests.load(Ordering::SeqCst), 1);

    // Every mirror down: the origin answers.
    let mut config = quick();
    config
        .mirrors
        .insert(origin_proxy.host(), vec![dead.clone()]);
    let client = client(&config, CredentialStore::default());
    let app = repo(&origin_proxy.host(), "library/node");
    assert_eq!(
        client.digest(&app, "1.2.3-alpine3.19").await.unwrap(),
        image.digest
    );

    // Everything down: one error that lists each attempt.
    origin_proxy.state.lock().unwrap().garbage = true;
    let err = client.tags(&app).await.unwrap_err().to_string();
    assert!(err.contains("every source failed"), "{err}");
    assert!(err.contains(&dead), "{err}");
}

#[tokio::test]
async fn lookups_count_calls_cold_and_warm_and_record_failures() {
    let registry = start_registry(None).await;
    let push = Pusher::new(&registry.base(), None);
    let image = push.image("team/app", "amd64", "cache").await;
    push.tag("team/app", "1.0.0-alpine3.19", &image).await;
    let host = registry.host();
    let config = quick();
    let lookup = Lookup::with_client(client(&config, CredentialStore::default()), &config);
    let images: Vec<patchwright::model::ImageRef> = [
        format!("{host}/team/app:1.0.0-alpine3.19"),
        format!("127.0.0.1:{}/gone/app:1", free_port()),
    ]
    .iter()
    .map(|r| patchwright::model::ImageRef::parse(r).unwrap())
    .collect();
    let now = chrono::Utc::now();
    let facts = lookup.facts_for(&images, now).await;
    let cold = lookup.client().calls();
    let app = format!("{host}/team/app");
    assert_eq!(facts.tags(&app).unwrap(), ["1.0.0-alpine3.19"]);
    assert_eq!(
        facts.digest(&app, "1.0.0-alpine3.19"),
        Some(image.digest.as_str())
    );
    let problems = facts.problems();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].contains("gone/app"), "{problems:?}");
    // Tag list + HEAD for the live image, one failed connection for the dead one.
    assert_eq!(cold, 3);

    // Warm: only the dead registry is asked again (failures are not cached).
    let again = lookup
        .facts_for(&images, now + chrono::Duration::minutes(1))
        .await;
    assert_eq!(
        again.digest(&app, "1.0.0-alpine3.19"),
        facts.digest(&app, "1.0.0-alpine3.19")
    );
    assert_eq!(lookup.client().calls() - cold, 1);
    // Past the TTL: asked again.
    let _ = lookup
        .facts_for(&images, now + chrono::Duration::hours(2))
        .await;
    assert_eq!(lookup.client().calls() - cold, 1 + 3);
}

// ---------------------------------------------------------------------------------------------
// The command line against the real registry
// ---------------------------------------------------------------------------------------------

const CATALOG: &str = r#"revision = "registry-test"

[[image]]
name = "node"
approved = ["1.3*", "1.4*"]
# A hand-listed tag the registry does not have: offline fixes name it, registry-checked ones
# must not.
tags = ["1.4.0-alpine3.19"]
"#;

fn patchwright(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_patchwright"))
        .args(args)
        .current_dir(dir)
        .env_remove("PATCHWRIGHT_CONFIG")
        .env_remove("PATCHWRIGHT_CATALOG")
        .env_remove("PATCHWRIGHT_REGISTRY_CONFIG")
        .output()
        .expect("the binary runs")
}

#[tokio::test]
async fn fix_moves_to_tags_the_registry_has_and_pins_their_digests() {
    let registry = start_registry(None).await;
    let push = Pusher::new(&registry.base(), None);
    let old_alpine = push.image("library/node", "amd64", "1.2.3-alpine").await;
    push.tag("library/node", "1.2.3-alpine3.19", &old_alpine)
        .await;
    let (index_digest, _) = push
        .index("library/node", "1.3.0-alpine3.19", "1.3.0")
        .await;
    let first_build = push
        .image("library/node", "amd64", "1.3.1-slim build 1")
        .await;
    push.tag("library/node", "1.3.1-bookworm-slim", &first_build)
        .await;
    // The tag is rebuilt: same tag, new image (a refresh).
    let rebuilt = push
        .image("library/node", "amd64", "1.3.1-slim build 2")
        .await;
    push.tag("library/node", "1.3.1-bookworm-slim", &rebuilt)
        .await;

    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    std::fs::write(dir.join("catalog.toml"), CATALOG).unwrap();
    std::fs::create_dir(dir.join("advisories")).unwrap();
    let dead = free_port();
    std::fs::write(
        dir.join("registry.toml"),
        format!(
            "[registry]\nmirrors = {{ \"docker.io\" = [\"{}\"] }}\ntimeout-secs = 10\n",
            registry.base()
        ),
    )
    .unwrap();
    let project = dir.join("project");
    std::fs::create_dir(&project).unwrap();
    let dockerfile = format!(
        "ARG SLIM=1.3.1-bookworm-slim\nFROM node:1.2.3-alpine3.19 AS build\nRUN true\n\nFROM node:${{SLIM}} AS test\nRUN true\n\nFROM 127.0.0.1:{dead}/team/tool:1.0 AS tool\n\nFROM node:1.3.1-bookworm-slim@{}\nUSER node\n",
        first_build.digest
    );
    std::fs::write(project.join("Dockerfile"), &dockerfile).unwrap();
    let common = [
        "--catalog",
        "catalog.toml",
        "--advisories",
        "advisories",
        "--today",
        "2026-12-01",
    ];
    let run = |extra: &[&str]| {
        let mut args: Vec<&str> = extra.to_vec();
        args.extend(common);
        args.push("project");
        patchwright(dir, &args)
    };

    // Offline: the catalog's hand list, a tag that does not exist, and one note.
    let offline = run(&["fix", "--dry-run"]);
    let out = String::from_utf8_lossy(&offline.stdout);
    let err = String::from_utf8_lossy(&offline.stderr);
    assert!(
        out.contains("+FROM node:1.4.0-alpine3.19 AS build"),
        "{out}\n{err}"
    );
    assert_eq!(
        err.matches("were not checked against the registries")
            .count(),
        1,
        "{err}"
    );

    // With the registry: a tag it has, pinned to its index's digest; the ARG default pinned;
    // the rebuilt tag refreshed; the dead registry only a note.
    let online = run(&["fix", "--dry-run", "--registry-config", "registry.toml"]);
    let out = String::from_utf8_lossy(&online.stdout);
    let err = String::from_utf8_lossy(&online.stderr);
    assert!(
        out.contains(&format!(
            "+FROM node:1.3.0-alpine3.19@{index_digest} AS build"
        )),
        "{out}\n{err}"
    );
    assert!(!out.contains("1.4.0-alpine3.19"), "{out}");
    assert!(
        out.contains(&format!("+ARG SLIM=1.3.1-bookworm-slim@{}", rebuilt.digest)),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "+FROM node:1.3.1-bookworm-slim@{}",
            rebuilt.digest
        )),
        "{out}"
    );
    assert!(
        !err.contains("were not checked against the registries"),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "registry not checked for 127.0.0.1:{dead}/team/tool"
        )),
        "{err}"
    );
    assert!(online.status.code().is_some(), "{err}");

    let scan = run(&["scan", "--registry-config", "registry.toml"]);
    let out = String::from_utf8_lossy(&scan.stdout);
    assert!(out.contains("image-digest-refresh"), "{out}");
    assert!(out.contains(&rebuilt.digest), "{out}");

    // The repository turns digest pinning off: tags move, nothing is pinned.
    std::fs::create_dir_all(project.join(".github")).unwrap();
    std::fs::write(
        project.join(".github/patchwright.toml"),
        "pin-digests = false\n",
    )
    .unwrap();
    let unpinned = run(&["fix", "--dry-run", "--registry-config", "registry.toml"]);
    let out = String::from_utf8_lossy(&unpinned.stdout);
    assert!(
        out.contains("+FROM node:1.3.0-alpine3.19 AS build\n"),
        "{out}"
    );
    assert!(!out.contains("+ARG SLIM"), "{out}");

    // Applied for real, the files hold the pins and a second scan finds nothing to refresh.
    std::fs::remove_file(project.join(".github/patchwright.toml")).unwrap();
    let applied = run(&["fix", "--registry-config", "registry.toml"]);
    assert!(applied.status.code().is_some());
    let written = std::fs::read_to_string(project.join("Dockerfile")).unwrap();
    assert!(
        written.contains(&format!("ARG SLIM=1.3.1-bookworm-slim@{}", rebuilt.digest)),
        "{written}"
    );
    let rescan = run(&["scan", "--registry-config", "registry.toml"]);
    let out = String::from_utf8_lossy(&rescan.stdout);
    assert!(!out.contains("image-digest-refresh"), "{out}");
    assert!(
        !out.contains("image-digest-not-pinned") || out.contains("team/tool"),
        "{out}"
    );
}
