//! Who we are to a registry: credentials per host (a docker `config.json`-style file, or the
//! environment) and the challenge a registry answers a 401 with (`WWW-Authenticate`).

use base64::Engine;
use std::collections::BTreeMap;
use std::fmt;

/// A user name and password (or token) for one registry. `Debug` never shows the password.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Credentials({}, <redacted>)", self.username)
    }
}

impl Credentials {
    /// The value of an `Authorization: Basic …` header.
    pub fn basic_header(&self) -> String {
        let pair = format!("{}:{}", self.username, self.password);
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(pair)
        )
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CredentialsError {
    #[error("{file}: not JSON ({message}); expected a docker config.json with an `auths` object")]
    NotJson { file: String, message: String },
    #[error(
        "{file}: `auths.{host}.auth` is not base64 of `user:password`; write it as `echo -n user:password | base64`"
    )]
    BadAuth { file: String, host: String },
}

/// Credentials by registry host (`docker.io`, `ghcr.io`, `127.0.0.1:5000`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CredentialStore {
    by_host: BTreeMap<String, Credentials>,
}

impl CredentialStore {
    /// Reads a docker `config.json`: `{"auths": {"<host>": {"auth": "<base64 user:password>"}}}`
    /// (or `username` and `password` fields). Hosts may be written as URLs
    /// (`https://index.docker.io/v1/`): only the host is kept. `file` names it in errors.
    pub fn from_docker_config(file: &str, text: &str) -> Result<Self, CredentialsError> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| CredentialsError::NotJson {
                file: file.to_string(),
                message: e.to_string(),
            })?;
        let mut store = CredentialStore::default();
        let Some(auths) = value.get("auths").and_then(|a| a.as_object()) else {
            return Ok(store);
        };
        for (key, entry) in auths {
            let host = normalise_host(key);
            let field = |name: &str| entry.get(name).and_then(|v| v.as_str());
            let credentials = if let Some(auth) = field("auth") {
                decode_auth(auth).ok_or_else(|| CredentialsError::BadAuth {
                    file: file.to_string(),
                    host: key.clone(),
                })?
            } else if let (Some(username), Some(password)) = (field("username"), field("password"))
            {
                Credentials {
                    username: username.to_string(),
                    password: password.to_string(),
                }
            } else {
                continue;
            };
            store.by_host.insert(host, credentials);
        }
        Ok(store)
    }

    /// Adds the registry named by `PATCHWRIGHT_REGISTRY_HOST` with `PATCHWRIGHT_REGISTRY_USERNAME`
    /// and `PATCHWRIGHT_REGISTRY_PASSWORD` (the usual CI secrets); they win over the file.
    /// `var` reads the environment, so tests pass their own.
    pub fn with_env(mut self, var: impl Fn(&str) -> Option<String>) -> Self {
        if let (Some(host), Some(username), Some(password)) = (
            var("PATCHWRIGHT_REGISTRY_HOST"),
            var("PATCHWRIGHT_REGISTRY_USERNAME"),
            var("PATCHWRIGHT_REGISTRY_PASSWORD"),
        ) && !host.is_empty()
        {
            self.by_host
                .insert(normalise_host(&host), Credentials { username, password });
        }
        self
    }

    pub fn insert(&mut self, host: &str, credentials: Credentials) {
        self.by_host.insert(normalise_host(host), credentials);
    }

    pub fn for_host(&self, host: &str) -> Option<&Credentials> {
        self.by_host.get(host)
    }
}

/// `https://index.docker.io/v1/` → `docker.io`; `ghcr.io` stays.
fn normalise_host(key: &str) -> String {
    let without_scheme = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    let host = without_scheme.split('/').next().unwrap_or(without_scheme);
    match host {
        "index.docker.io" | "registry-1.docker.io" => super::reference::DOCKER_HUB.to_string(),
        other => other.to_string(),
    }
}

fn decode_auth(auth: &str) -> Option<Credentials> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(auth.trim())
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (username, password) = text.split_once(':')?;
    Some(Credentials {
        username: username.to_string(),
        password: password.to_string(),
    })
}

/// What a registry asks for in `WWW-Authenticate`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Challenge {
    Basic,
    /// The token flow Docker Hub and GHCR use: get a token from `realm` for `service` and
    /// `scope`, then send it as `Authorization: Bearer`.
    Bearer {
        realm: String,
        service: Option<String>,
        scope: Option<String>,
    },
}

/// Parses `Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="…"`
/// or `Basic realm="…"`. `None` for any other scheme.
pub fn parse_challenge(header: &str) -> Option<Challenge> {
    let header = header.trim();
    let (scheme, rest) = header.split_once(' ').unwrap_or((header, ""));
    if scheme.eq_ignore_ascii_case("basic") {
        return Some(Challenge::Basic);
    }
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let params = parse_params(rest);
    Some(Challenge::Bearer {
        realm: params.get("realm")?.clone(),
        service: params.get("service").cloned(),
        scope: params.get("scope").cloned(),
    })
}

/// `a="x,y",b=z` → {a: "x,y", b: "z"}: commas inside quotes belong to the value (scopes list
/// actions as `pull,push`).
fn parse_params(text: &str) -> BTreeMap<String, String> {
    let mut params = BTreeMap::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        let Some((key, after)) = rest.split_once('=') else {
            break;
        };
        let key = key
            .trim()
            .trim_start_matches(',')
            .trim()
            .to_ascii_lowercase();
        let (value, remaining) = if let Some(quoted) = after.strip_prefix('"') {
            match quoted.find('"') {
                Some(end) => (&quoted[..end], &quoted[end + 1..]),
                None => (quoted, ""),
            }
        } else {
            match after.find(',') {
                Some(end) => (&after[..end], &after[end..]),
                None => (after, ""),
            }
        };
        params.insert(key, value.to_string());
        rest = remaining.trim_start_matches([',', ' ']);
    }
    params
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_docker_hub_and_basic_challenges() {
        let hub = r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/node:pull,push""#;
        assert_eq!(
            parse_challenge(hub),
            Some(Challenge::Bearer {
                realm: "https://auth.docker.io/token".into(),
                service: Some("registry.docker.io".into()),
                scope: Some("repository:library/node:pull,push".into()),
            })
        );
        assert_eq!(
            parse_challenge(r#"Basic realm="Registry Realm""#),
            Some(Challenge::Basic)
        );
        assert_eq!(parse_challenge("Negotiate abc"), None);
        assert_eq!(parse_challenge("Bearer service=x"), None, "no realm");
    }

    #[test]
    fn reads_docker_config_auths_and_env() {
        let text = r#"{"auths": {
            "https://index.docker.io/v1/": {"auth": "dXNlcjpwYXNz"},
            "ghcr.io": {"username": "bot", "password": "tok"},
            "quay.io": {}
        }}"#;
        let store = CredentialStore::from_docker_config("config.json", text).unwrap();
        assert_eq!(store.for_host("docker.io").unwrap().username, "user");
        assert_eq!(store.for_host("docker.io").unwrap().password, "pass");
        assert_eq!(store.for_host("ghcr.io").unwrap().password, "tok");
        assert!(store.for_host("quay.io").is_none());
        let env = |k: &str| match k {
            "PATCHWRIGHT_REGISTRY_HOST" => Some("ghcr.io".to_string()),
            "PATCHWRIGHT_REGISTRY_USERNAME" => Some("ci".to_string()),
            "PATCHWRIGHT_REGISTRY_PASSWORD" => Some("secret".to_string()),
            _ => None,
        };
        let store = store.with_env(env);
        assert_eq!(store.for_host("ghcr.io").unwrap().username, "ci");
        assert!(!format!("{store:?}").contains("secret"));
    }

    #[test]
    fn bad_files_name_the_file_and_the_fix() {
        let err = CredentialStore::from_docker_config("c.json", "{").unwrap_err();
        assert!(err.to_string().starts_with("c.json: not JSON"), "{err}");
        let err = CredentialStore::from_docker_config(
            "c.json",
            r#"{"auths": {"ghcr.io": {"auth": "not base64!"}}}"#,
        )
        .unwrap_err();
        assert!(err.to_string().contains("auths.ghcr.io.auth"), "{err}");
    }
}
