//! Where an image lives: the registry host to ask and the repository path to ask for. Docker
//! Hub's shorthand is expanded the way `docker pull` does: `node` is `docker.io/library/node`,
//! served by `registry-1.docker.io`.

use crate::model::ImageRef;

/// Docker Hub's name in references and credentials files.
pub const DOCKER_HUB: &str = "docker.io";
/// The host Docker Hub's distribution API answers on.
const DOCKER_HUB_API: &str = "registry-1.docker.io";

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Repository {
    /// The registry as references name it (`docker.io`, `ghcr.io`, `127.0.0.1:5000`); the key
    /// for mirrors and credentials.
    pub host: String,
    /// The repository path the API takes (`library/node`, `org/app`).
    pub path: String,
}

impl Repository {
    pub fn of(image: &ImageRef) -> Repository {
        let host = match image.registry.as_deref() {
            None | Some("index.docker.io" | "registry-1.docker.io") => DOCKER_HUB.to_string(),
            Some(host) => host.to_string(),
        };
        let path = if host == DOCKER_HUB && !image.repository.contains('/') {
            format!("library/{}", image.repository)
        } else {
            image.repository.clone()
        };
        Repository { host, path }
    }

    /// The origin's base URL. Plain HTTP only for loopback hosts (as Docker treats them) and
    /// the hosts the configuration names as insecure.
    pub fn origin(&self, insecure: &[String]) -> String {
        let api = if self.host == DOCKER_HUB {
            DOCKER_HUB_API
        } else {
            &self.host
        };
        let plain = is_loopback(&self.host) || insecure.iter().any(|h| h == &self.host);
        let scheme = if plain { "http" } else { "https" };
        format!("{scheme}://{api}")
    }
}

impl std::fmt::Display for Repository {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.host, self.path)
    }
}

fn is_loopback(host: &str) -> bool {
    let name = match host.rsplit_once(':') {
        Some((name, port)) if port.chars().all(|c| c.is_ascii_digit()) => name,
        _ => host,
    };
    name == "localhost" || name.starts_with("127.") || name == "[::1]"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo(reference: &str) -> Repository {
        Repository::of(&ImageRef::parse(reference).unwrap())
    }

    #[test]
    fn docker_hub_short_names_get_library_and_the_api_host() {
        assert_eq!(repo("node:20").path, "library/node");
        assert_eq!(repo("docker.io/library/node").path, "library/node");
        assert_eq!(repo("bitnami/redis").path, "bitnami/redis");
        assert_eq!(repo("node").origin(&[]), "https://registry-1.docker.io");
        assert_eq!(repo("index.docker.io/node").host, "docker.io");
    }

    #[test]
    fn other_registries_keep_their_path_and_loopback_is_plain_http() {
        let r = repo("ghcr.io/org/app:1");
        assert_eq!((r.host.as_str(), r.path.as_str()), ("ghcr.io", "org/app"));
        assert_eq!(r.origin(&[]), "https://ghcr.io");
        assert_eq!(
            repo("127.0.0.1:5000/app").origin(&[]),
            "http://127.0.0.1:5000"
        );
        assert_eq!(repo("localhost:5000/app").path, "app");
        assert_eq!(
            repo("reg.internal:5000/app").origin(&["reg.internal:5000".into()]),
            "http://reg.internal:5000"
        );
    }
}
