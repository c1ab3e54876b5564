//! How the registry lookups run: mirrors per registry, where credentials come from, how long
//! answers are cached, and whether fixes pin digests. Read from the CLI's `--registry-config`
//! file or the service config's `[registry]` table (the same keys).

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, Clone, PartialEq)]
pub struct RegistryConfig {
    /// Whether scans ask registries at all (the service's `enabled`; the CLI's `--registry`).
    pub enabled: bool,
    /// Base URLs tried in order before the origin, per registry host (`docker.io`).
    pub mirrors: BTreeMap<String, Vec<String>>,
    /// Hosts spoken to over plain HTTP (loopback hosts always are).
    pub insecure: Vec<String>,
    /// A docker `config.json`-style credentials file.
    pub credentials_file: Option<PathBuf>,
    /// How long tag lists and digests are reused.
    pub cache_ttl: Duration,
    /// One request's time limit, body included.
    pub timeout: Duration,
    /// Retries after a 429, and the longest `Retry-After` honoured (longer waits give up).
    pub max_retries: u32,
    pub max_retry_wait: Duration,
    /// `false` leaves `image-digest-not-pinned` without a fix (an org that pins by tag only).
    pub pin_digests: bool,
    /// Digest refreshes are batched into at most one PR per repository per this many days.
    pub refresh_every_days: u32,
    /// Whether the base images' layers are read for their OS packages (`vulnerable-image` from
    /// contents); `false` leaves image findings to the catalog's list.
    pub read_images: bool,
    /// Where results per layer digest are kept across runs; `None`: the user's cache folder.
    pub layer_cache: Option<PathBuf>,
    /// The platform read from multi-platform images.
    pub platform: crate::image::Platform,
    /// Layers larger than this (compressed) are not read, and the result says so.
    pub max_layer_bytes: u64,
}

impl Default for RegistryConfig {
    fn default() -> Self {
        RegistryConfig {
            enabled: false,
            mirrors: BTreeMap::new(),
            insecure: Vec::new(),
            credentials_file: None,
            cache_ttl: Duration::from_secs(3600),
            timeout: Duration::from_secs(30),
            max_retries: 3,
            max_retry_wait: Duration::from_secs(60),
            pin_digests: true,
            refresh_every_days: 7,
            read_images: true,
            layer_cache: None,
            platform: crate::image::Platform::linux_amd64(),
            max_layer_bytes: crate::image::analyse::DEFAULT_MAX_LAYER_BYTES,
        }
    }
}

/// The keys as written (kebab-case), every one optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RegistryTable {
    pub enabled: Option<bool>,
    pub mirrors: Option<BTreeMap<String, Vec<String>>>,
    pub insecure: Option<Vec<String>>,
    pub credentials_file: Option<PathBuf>,
    pub cache_ttl_secs: Option<u64>,
    pub timeout_secs: Option<u64>,
    pub max_retries: Option<u32>,
    pub max_retry_wait_secs: Option<u64>,
    pub pin_digests: Option<bool>,
    pub refresh_every_days: Option<u32>,
    pub read_images: Option<bool>,
    pub layer_cache: Option<PathBuf>,
    pub platform: Option<String>,
    pub max_layer_mb: Option<u64>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{file}: cannot read the registry config: {source}")]
    Read {
        file: String,
        source: std::io::Error,
    },
    #[error("{file}: {message}")]
    Invalid { file: String, message: String },
}

impl RegistryTable {
    /// Validates into a config; `file` names the source in errors, and a relative credentials
    /// path is taken from `base` (the config file's folder).
    pub fn into_config(self, file: &str, base: &Path) -> Result<RegistryConfig, ConfigError> {
        let invalid = |message: String| ConfigError::Invalid {
            file: file.to_string(),
            message,
        };
        let d = RegistryConfig::default();
        let mirrors = self.mirrors.unwrap_or_default();
        for (host, urls) in &mirrors {
            for url in urls {
                if url::Url::parse(url)
                    .ok()
                    .is_none_or(|u| !matches!(u.scheme(), "http" | "https"))
                {
                    return Err(invalid(format!(
                        "mirrors.\"{host}\": `{url}` is not an http(s) URL; write it like \"https://mirror.example.com\""
                    )));
                }
            }
        }
        let refresh_every_days = self.refresh_every_days.unwrap_or(d.refresh_every_days);
        if refresh_every_days == 0 {
            return Err(invalid(
                "refresh-every-days must be at least 1 (7 is a week)".to_string(),
            ));
        }
        let platform = match &self.platform {
            Some(text) => crate::image::Platform::parse(text)
                .map_err(|m| invalid(format!("platform: {m}")))?,
            None => d.platform.clone(),
        };
        Ok(RegistryConfig {
            enabled: self.enabled.unwrap_or(true),
            mirrors: mirrors
                .into_iter()
                .map(|(h, urls)| {
                    let urls = urls
                        .into_iter()
                        .map(|u| u.trim_end_matches('/').to_string())
                        .collect();
                    (h, urls)
                })
                .collect(),
            insecure: self.insecure.unwrap_or_default(),
            credentials_file: self.credentials_file.map(|p| base.join(p)),
            cache_ttl: self.cache_ttl_secs.map_or(d.cache_ttl, Duration::from_secs),
            timeout: self
                .timeout_secs
                .map_or(d.timeout, |s| Duration::from_secs(s.max(1))),
            max_retries: self.max_retries.unwrap_or(d.max_retries),
            max_retry_wait: self
                .max_retry_wait_secs
                .map_or(d.max_retry_wait, Duration::from_secs),
            pin_digests: self.pin_digests.unwrap_or(d.pin_digests),
            refresh_every_days,
            read_images: self.read_images.unwrap_or(d.read_images),
            layer_cache: self.layer_cache.map(|p| base.join(p)),
            platform,
            max_layer_bytes: self
                .max_layer_mb
                .map_or(d.max_layer_bytes, |mb| mb.saturating_mul(1 << 20)),
        })
    }
}

impl RegistryConfig {
    /// Reads a TOML file of the `[registry]` keys (at top level, or under `[registry]`).
    pub fn load(path: &Path) -> Result<RegistryConfig, ConfigError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            file: file.clone(),
            source,
        })?;
        Self::parse(&file, &text, path.parent().unwrap_or(Path::new(".")))
    }

    pub fn parse(file: &str, text: &str, base: &Path) -> Result<RegistryConfig, ConfigError> {
        let invalid = |message: String| ConfigError::Invalid {
            file: file.to_string(),
            message,
        };
        let mut value: toml::Table = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
        let table = match value.remove("registry") {
            Some(toml::Value::Table(t)) if value.is_empty() => t,
            Some(_) => {
                return Err(invalid(
                    "`registry` must be the only table when the file has one".to_string(),
                ));
            }
            None => value,
        };
        let table: RegistryTable = toml::Value::Table(table)
            .try_into()
            .map_err(|e: toml::de::Error| invalid(e.to_string()))?;
        table.into_config(file, base)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_keys_with_defaults_and_a_registry_table() {
        let text = r#"
[registry]
mirrors = { "docker.io" = ["http://127.0.0.1:5000/"] }
credentials-file = "docker.json"
cache-ttl-secs = 60
pin-digests = false
"#;
        let c = RegistryConfig::parse("r.toml", text, Path::new("/etc/pw")).unwrap();
        assert!(c.enabled);
        assert_eq!(c.mirrors["docker.io"], ["http://127.0.0.1:5000"]);
        assert_eq!(
            c.credentials_file.as_deref(),
            Some(Path::new("/etc/pw/docker.json"))
        );
        assert_eq!(c.cache_ttl, Duration::from_secs(60));
        assert!(!c.pin_digests);
        assert_eq!(c.refresh_every_days, 7);
    }

    #[test]
    fn errors_name_the_file_and_the_key() {
        let err = RegistryConfig::parse(
            "r.toml",
            "mirrors = { hub = [\"ftp://x\"] }",
            Path::new("."),
        )
        .unwrap_err()
        .to_string();
        assert!(err.starts_with("r.toml: mirrors.\"hub\""), "{err}");
        let err = RegistryConfig::parse("r.toml", "cache-ttl = 5", Path::new("."))
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown field `cache-ttl`"), "{err}");
        let err = RegistryConfig::parse("r.toml", "platform = \"amd64\"", Path::new("."))
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("r.toml: platform: `amd64` is not a platform"),
            "{err}"
        );
    }

    #[test]
    fn image_reading_keys() {
        let text = "read-images = false\nlayer-cache = \"layers\"\nplatform = \"linux/arm64/v8\"\nmax-layer-mb = 2\n";
        let c = RegistryConfig::parse("r.toml", text, Path::new("/etc/pw")).unwrap();
        assert!(!c.read_images);
        assert_eq!(c.layer_cache.as_deref(), Some(Path::new("/etc/pw/layers")));
        assert_eq!(c.platform.to_string(), "linux/arm64/v8");
        assert_eq!(c.max_layer_bytes, 2 << 20);
        let d = RegistryConfig::parse("r.toml", "", Path::new(".")).unwrap();
        assert!(d.read_images);
        assert_eq!(d.platform.to_string(), "linux/amd64");
    }
}
