//! A real registry for tests: Debian's `docker-registry` (CNCF Distribution 2.8, installed by
//! scripts/registry-deps.sh) on a free loopback port, storage in a temporary folder, and a
//! pusher that uploads small OCI images and indexes through the HTTP API.
#![allow(dead_code)]

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use patchwright::registry::client::{OCI_INDEX, OCI_MANIFEST, sha256_digest};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

// ---------------------------------------------------------------------------------------------
// The real registry
// ---------------------------------------------------------------------------------------------

pub struct Registry {
    child: Child,
    pub port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Registry {
    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn tool(name: &str) -> PathBuf {
    let found = std::env::var_os("PATH")
        .and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|p| p.join(name))
                .find(|p| p.is_file())
        })
        .or_else(|| Some(Path::new("/usr/bin").join(name)).filter(|p| p.is_file()));
    found.unwrap_or_else(|| {
        panic!("`{name}` is not installed: run scripts/registry-deps.sh (Debian's docker-registry and apache2-utils)")
    })
}

/// Starts `docker-registry serve` with storage in a temporary folder; with `htpasswd`, basic
/// auth for that user and password.
pub async fn start_registry(htpasswd: Option<(&str, &str)>) -> Registry {
    let dir = tempfile::tempdir().unwrap();
    let auth = match htpasswd {
        Some((user, password)) => {
            let out = Command::new(tool("htpasswd"))
                .args(["-Bbn", user, password])
                .output()
                .unwrap();
            assert!(out.status.success(), "htpasswd: {out:?}");
            let file = dir.path().join("htpasswd");
            std::fs::write(&file, out.stdout).unwrap();
            format!(
                "auth:\n  htpasswd:\n    realm: patchwright-test\n    path: {}\n",
                file.display()
            )
        }
        None => String::new(),
    };
    start_registry_with(dir, &auth).await
}

/// Starts `docker-registry serve` with `auth` (the YAML of its `auth:` section, or nothing)
/// and storage in `dir`.
pub async fn start_registry_with(dir: tempfile::TempDir, auth: &str) -> Registry {
    let port = free_port();
    let config = format!(
        "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n{auth}",
        dir.path().join("data").display()
    );
    let config_path = dir.path().join("config.yml");
    std::fs::write(&config_path, config).unwrap();
    let child = Command::new(tool("docker-registry"))
        .arg("serve")
        .arg(&config_path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("docker-registry starts");
    let registry = Registry {
        child,
        port,
        _dir: dir,
    };
    let http = http();
    for _ in 0..200 {
        let request = Request::get(format!("{}/v2/", registry.base()))
            .body(Full::new(Bytes::new()))
            .unwrap();
        if let Ok(r) = http.request(request).await
            && matches!(r.status(), StatusCode::OK | StatusCode::UNAUTHORIZED)
        {
            return registry;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("docker-registry did not answer on port {port}");
}

pub type Http = Client<HttpConnector, Full<Bytes>>;

pub fn http() -> Http {
    Client::builder(TokioExecutor::new()).build_http()
}

/// What pushing needs: where, and the basic credentials if the registry wants them.
pub struct Pusher {
    base: String,
    auth: Option<String>,
    http: Http,
}

impl Pusher {
    /// A pusher that sends `authorization` as it is (a bearer token for a token-auth registry).
    pub fn with_authorization(base: &str, authorization: String) -> Pusher {
        Pusher {
            base: base.to_string(),
            auth: Some(authorization),
            http: http(),
        }
    }

    pub fn new(base: &str, auth: Option<(&str, &str)>) -> Pusher {
        use base64::Engine;
        Pusher {
            base: base.to_string(),
            auth: auth.map(|(u, p)| {
                format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"))
                )
            }),
            http: http(),
        }
    }

    pub async fn send(
        &self,
        method: Method,
        url: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> Response<Incoming> {
        let mut request = Request::builder().method(method).uri(url);
        if let Some(auth) = &self.auth {
            request = request.header("authorization", auth);
        }
        if let Some(ct) = content_type {
            request = request.header("content-type", ct);
        }
        self.http
            .request(request.body(Full::new(Bytes::from(body))).unwrap())
            .await
            .unwrap()
    }

    /// The blob upload flow: POST for an upload URL, then PUT the bytes with their digest.
    pub async fn blob(&self, repo: &str, bytes: &[u8]) -> String {
        let digest = sha256_digest(bytes);
        let started = self
            .send(
                Method::POST,
                &format!("{}/v2/{repo}/blobs/uploads/", self.base),
                None,
                Vec::new(),
            )
            .await;
        assert_eq!(started.status(), StatusCode::ACCEPTED);
        let location = started.headers()["location"].to_str().unwrap().to_string();
        let location = if location.starts_with("http") {
            location
        } else {
            format!("{}{location}", self.base)
        };
        let separator = if location.contains('?') { '&' } else { '?' };
        let put = self
            .send(
                Method::PUT,
                &format!("{location}{separator}digest={digest}"),
                Some("application/octet-stream"),
                bytes.to_vec(),
            )
            .await;
        assert_eq!(put.status(), StatusCode::CREATED, "blob PUT");
        digest
    }

    pub async fn manifest(
        &self,
        repo: &str,
        reference: &str,
        media_type: &str,
        body: &[u8],
    ) -> String {
        let response = self
            .send(
                Method::PUT,
                &format!("{}/v2/{repo}/manifests/{reference}", self.base),
                Some(media_type),
                body.to_vec(),
            )
            .await;
        let status = response.status();
        let text = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(
            status,
            StatusCode::CREATED,
            "manifest PUT: {}",
            String::from_utf8_lossy(&text)
        );
        sha256_digest(body)
    }

    /// A one-layer OCI image for `arch`; `marker` makes its content (and digest) unique.
    pub async fn image(&self, repo: &str, arch: &str, marker: &str) -> PushedImage {
        let layer = format!("layer of {repo} {arch} {marker}").into_bytes();
        let layer_digest = self.blob(repo, &layer).await;
        let config = serde_json::json!({
            "architecture": arch, "os": "linux",
            "rootfs": {"type": "layers", "diff_ids": [layer_digest]},
            "config": {"Labels": {"marker": marker}}
        })
        .to_string()
        .into_bytes();
        let config_digest = self.blob(repo, &config).await;
        let manifest = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config.len()},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer_digest, "size": layer.len()}]
        })
        .to_string()
        .into_bytes();
        let digest = self
            .manifest(repo, &sha256_digest(&manifest), OCI_MANIFEST, &manifest)
            .await;
        PushedImage {
            digest,
            manifest,
            layer,
            layer_digest,
        }
    }

    /// An OCI image of real layers for `arch`: each `(blob, media type, diff id)` as stored.
    pub async fn layered_image(
        &self,
        repo: &str,
        arch: &str,
        layers: &[(Vec<u8>, &str, String)],
    ) -> PushedImage {
        let mut descriptors = Vec::new();
        for (blob, media_type, _) in layers {
            let digest = self.blob(repo, blob).await;
            descriptors.push(
                serde_json::json!({"mediaType": media_type, "digest": digest, "size": blob.len()}),
            );
        }
        let diff_ids: Vec<&String> = layers.iter().map(|l| &l.2).collect();
        let config = serde_json::json!({
            "architecture": arch, "os": "linux",
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
        })
        .to_string()
        .into_bytes();
        let config_digest = self.blob(repo, &config).await;
        let manifest = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config.len()},
            "layers": descriptors,
        })
        .to_string()
        .into_bytes();
        let digest = self
            .manifest(repo, &sha256_digest(&manifest), OCI_MANIFEST, &manifest)
            .await;
        PushedImage {
            digest,
            manifest,
            layer: layers[0].0.clone(),
            layer_digest: descriptors[0]["digest"].as_str().unwrap().to_string(),
        }
    }

    /// An index of the given images and their architectures under `tag`; returns its digest.
    pub async fn index_of(&self, repo: &str, tag: &str, images: &[(&PushedImage, &str)]) -> String {
        let manifests: Vec<serde_json::Value> = images
            .iter()
            .map(|(image, arch)| {
                serde_json::json!({
                    "mediaType": OCI_MANIFEST, "digest": image.digest, "size": image.manifest.len(),
                    "platform": {"architecture": arch, "os": "linux"}
                })
            })
            .collect();
        let index = serde_json::json!({
            "schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": manifests
        })
        .to_string()
        .into_bytes();
        self.manifest(repo, tag, OCI_INDEX, &index).await
    }

    pub async fn tag(&self, repo: &str, tag: &str, image: &PushedImage) -> String {
        self.manifest(repo, tag, OCI_MANIFEST, &image.manifest)
            .await
    }

    /// An index of an amd64 and an arm64 image under `tag`; returns the index's digest and the
    /// arm64 image.
    pub async fn index(&self, repo: &str, tag: &str, marker: &str) -> (String, PushedImage) {
        let amd = self.image(repo, "amd64", marker).await;
        let arm = self.image(repo, "arm64", marker).await;
        let entry = |image: &PushedImage, arch: &str| {
            serde_json::json!({
                "mediaType": OCI_MANIFEST, "digest": image.digest, "size": image.manifest.len(),
                "platform": {"architecture": arch, "os": "linux"}
            })
        };
        let index = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [entry(&amd, "amd64"), entry(&arm, "arm64")]
        })
        .to_string()
        .into_bytes();
        (self.manifest(repo, tag, OCI_INDEX, &index).await, arm)
    }
}

pub struct PushedImage {
    pub digest: String,
    pub manifest: Vec<u8>,
    pub layer: Vec<u8>,
    pub layer_digest: String,
}

/// Knowledge of the catalog text `catalog` (written into `dir`, as the service reads a catalog
/// file) and no advisories: for tests whose findings come from the catalog and the registry.
pub fn catalog_knowledge(dir: &Path, catalog: &str) -> patchwright::pipeline::Knowledge {
    let catalog_path = dir.join("catalog.toml");
    std::fs::write(&catalog_path, catalog).unwrap();
    patchwright::pipeline::Knowledge {
        catalog: patchwright::catalog::load_catalog(&catalog_path).unwrap(),
        advisories: patchwright::catalog::AdvisoryDb::from_json_records(&[]).0,
        policy: patchwright::policy::OrgPolicy::default(),
    }
}

/// A lookup that reads `docker.io` images through `registry`, configured as its mirror.
pub fn mirrored_lookup(registry: &Registry) -> std::sync::Arc<patchwright::registry::Lookup> {
    let mut config = patchwright::registry::RegistryConfig {
        enabled: true,
        ..patchwright::registry::RegistryConfig::default()
    };
    config
        .mirrors
        .insert("docker.io".into(), vec![registry.base()]);
    std::sync::Arc::new(patchwright::registry::Lookup::new(&config).unwrap())
}
