//! Token auth as Distribution does it itself: Debian's `docker-registry` started with
//! `auth: token: {realm, service, issuer, rootcertbundle}`, and a small token server on
//! loopback that checks basic credentials and issues ES256 JWTs.
//!
//! How Distribution 2.8 trusts a token (registry/auth/token/token.go): `iss` must be the
//! configured issuer, `aud` the service, `exp`/`nbf` current, and the signing key must come
//! from the header's `x5c` chain, verified against the `rootcertbundle` (or a `kid` naming a
//! root's libtrust key id). Here the bundle holds a root CA made in the test (rcgen) and the
//! tokens carry `x5c` = [the signing certificate the root issued], as deployments such as
//! docker_auth do. The client reads the credentials from a docker `config.json`-style file.

mod registry_support;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::IntoResponse;
use base64::Engine;
use patchwright::registry::client::RegistryError;
use patchwright::registry::{Lookup, RegistryConfig, Repository};
use registry_support::{Pusher, start_registry_with};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

const SERVICE: &str = "patchwright-test-registry";
const ISSUER: &str = "patchwright-test-token-issuer";
const USER: &str = "robot";
const PASSWORD: &str = "right-horse-battery";

/// The token server's signing identity: a root CA (what the registry trusts) and a signing
/// certificate it issued, with that certificate's key.
struct Signer {
    root_pem: String,
    leaf_der_b64: String,
    key: jsonwebtoken::EncodingKey,
}

fn signer() -> Signer {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    };
    let root_key = KeyPair::generate().unwrap();
    let mut root = CertificateParams::new(Vec::<String>::new()).unwrap();
    root.distinguished_name
        .push(DnType::CommonName, "patchwright test token root");
    root.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    root.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let root_cert = root.self_signed(&root_key).unwrap();
    let issuer = Issuer::new(root, root_key);

    let leaf_key = KeyPair::generate().unwrap();
    let mut leaf = CertificateParams::new(Vec::<String>::new()).unwrap();
    leaf.distinguished_name
        .push(DnType::CommonName, "patchwright test token signer");
    leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    let leaf_cert = leaf.signed_by(&leaf_key, &issuer).unwrap();
    Signer {
        root_pem: root_cert.pem(),
        leaf_der_b64: base64::engine::general_purpose::STANDARD.encode(leaf_cert.der()),
        key: jsonwebtoken::EncodingKey::from_ec_pem(leaf_key.serialize_pem().as_bytes()).unwrap(),
    }
}

impl Signer {
    /// A token granting `actions` on `repository`, as Distribution's token spec shapes it.
    fn token(&self, repository: &str, actions: &[&str]) -> String {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
        header.typ = Some("JWT".into());
        header.x5c = Some(vec![self.leaf_der_b64.clone()]);
        let now = chrono::Utc::now().timestamp();
        let claims = serde_json::json!({
            "iss": ISSUER,
            "sub": USER,
            "aud": SERVICE,
            "exp": now + 300,
            "nbf": now - 10,
            "iat": now,
            "jti": format!("{repository}-{now}-{}", actions.join("")),
            "access": [{"type": "repository", "name": repository, "actions": actions}],
        });
        jsonwebtoken::encode(&header, &claims, &self.key).unwrap()
    }
}

struct TokenServer {
    signer: Signer,
    /// Each request's `scope` and whether its credentials were accepted.
    requests: Mutex<Vec<(String, bool)>>,
}

/// `GET /token?service=…&scope=repository:NAME:ACTIONS` with basic credentials: 401 unless
/// they are right, else a token for the scope's repository (pull only, whatever was asked).
async fn token(
    State(server): State<Arc<TokenServer>>,
    uri: Uri,
    headers: HeaderMap,
) -> axum::response::Response {
    let query: HashMap<String, String> =
        url::form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"))
    );
    let sent = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let scope = query.get("scope").cloned().unwrap_or_default();
    let accepted = sent == expected && query.get("service").map(String::as_str) == Some(SERVICE);
    server
        .requests
        .lock()
        .unwrap()
        .push((scope.clone(), accepted));
    if !accepted {
        return (
            StatusCode::UNAUTHORIZED,
            [("www-authenticate", "Basic realm=\"token\"")],
            r#"{"details":"incorrect username or password"}"#,
        )
            .into_response();
    }
    let repository = scope.split(':').nth(1).unwrap_or_default();
    let token = server.signer.token(repository, &["pull"]);
    let body = serde_json::json!({"token": token, "expires_in": 300}).to_string();
    (StatusCode::OK, [("content-type", "application/json")], body).into_response()
}

/// The token server on a loopback port, and the registry trusting it.
async fn start() -> (registry_support::Registry, Arc<TokenServer>) {
    let server = Arc::new(TokenServer {
        signer: signer(),
        requests: Mutex::new(Vec::new()),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let realm = format!("http://{}/token", listener.local_addr().unwrap());
    let app = axum::Router::new()
        .route("/token", axum::routing::get(token))
        .with_state(Arc::clone(&server));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("token-root.pem");
    std::fs::write(&bundle, &server.signer.root_pem).unwrap();
    let auth = format!(
        "auth:\n  token:\n    realm: {realm}\n    service: {SERVICE}\n    issuer: {ISSUER}\n    rootcertbundle: {}\n",
        bundle.display()
    );
    (start_registry_with(dir, &auth).await, server)
}

/// A lookup whose credentials come from a docker `config.json`-style file for `host`.
fn lookup(dir: &std::path::Path, host: &str, password: &str) -> Lookup {
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{password}"));
    let file = dir.join("config.json");
    std::fs::write(
        &file,
        serde_json::json!({"auths": {host: {"auth": auth}}}).to_string(),
    )
    .unwrap();
    let config = RegistryConfig {
        enabled: true,
        credentials_file: Some(file),
        max_retries: 0,
        ..RegistryConfig::default()
    };
    Lookup::new(&config).unwrap()
}

#[tokio::test]
async fn pulls_tags_and_digests_through_distributions_token_auth() {
    let (registry, server) = start().await;
    // The test pushes with a token it signs itself (push and pull on the repository).
    let push = Pusher::with_authorization(
        &registry.base(),
        format!(
            "Bearer {}",
            server.signer.token("team/app", &["pull", "push"])
        ),
    );
    let old = push.image("team/app", "amd64", "token 1.0").await;
    push.tag("team/app", "1.0-alpine3.19", &old).await;
    let new = push.image("team/app", "amd64", "token 1.1").await;
    push.tag("team/app", "1.1-alpine3.19", &new).await;
    let (index, _) = push
        .index("team/app", "1.1-bookworm-slim", "token index")
        .await;

    let dir = tempfile::tempdir().unwrap();
    let lookup = lookup(dir.path(), &registry.host(), PASSWORD);
    let client = lookup.client();
    let repo = Repository {
        host: registry.host(),
        path: "team/app".to_string(),
    };

    // Without a token the registry answers 401 with the challenge; the client fetches one.
    let mut tags = client.tags(&repo).await.unwrap();
    tags.sort();
    assert_eq!(
        tags,
        ["1.0-alpine3.19", "1.1-alpine3.19", "1.1-bookworm-slim"]
    );
    assert_eq!(
        client.digest(&repo, "1.0-alpine3.19").await.unwrap(),
        old.digest
    );
    assert_eq!(
        client.digest(&repo, "1.1-bookworm-slim").await.unwrap(),
        index,
        "a multi-platform tag pins the index's digest"
    );
    let manifest = client
        .manifest(
            &repo,
            &new.digest,
            &patchwright::registry::Platform::linux_amd64(),
        )
        .await
        .unwrap();
    assert_eq!(manifest.layers[0].digest, new.layer_digest);

    let requests = server.requests.lock().unwrap().clone();
    assert_eq!(
        requests,
        [("repository:team/app:pull".to_string(), true)],
        "one token for the repository, reused for every call"
    );

    // The registry does check the chain: the same token signed by a root it does not trust
    // is refused.
    let stranger = signer();
    let refused = Pusher::with_authorization(
        &registry.base(),
        format!("Bearer {}", stranger.token("team/app", &["pull"])),
    )
    .send(
        hyper::Method::GET,
        &format!("{}/v2/team/app/tags/list", registry.base()),
        None,
        Vec::new(),
    )
    .await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_wrong_password_is_a_clear_error_naming_the_registry() {
    let (registry, server) = start().await;
    let dir = tempfile::tempdir().unwrap();
    let lookup = lookup(dir.path(), &registry.host(), "wrong-password");
    let repo = Repository {
        host: registry.host(),
        path: "team/app".to_string(),
    };
    let error = lookup.client().tags(&repo).await.unwrap_err();
    assert!(
        matches!(error, RegistryError::Unauthorized { .. }),
        "{error:?}"
    );
    let text = error.to_string();
    let host = registry.host();
    assert!(
        text.contains(&format!(
            "refused the credentials for `{host}` (user `{USER}`, 401 Unauthorized): check the password in the credentials file (`auths.\"{host}\"`)"
        )),
        "{text}"
    );
    assert!(
        !text.contains("wrong-password"),
        "no secret in errors: {text}"
    );
    assert_eq!(server.requests.lock().unwrap().len(), 1);
}
