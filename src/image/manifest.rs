//! OCI image index / manifest / config JSON (and Docker's v2 equivalents), and choosing the
//! manifest of a platform. Pure.

use std::fmt;

use serde::{Deserialize, Serialize};

pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// An uncompressed layer (what `docker save` writes in its legacy layout).
pub const OCI_LAYER_TAR: &str = "application/vnd.oci.image.layer.v1.tar";

/// `os/architecture[/variant]`, as `--platform` and registries write it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Platform {
    // Defaults: an index entry whose platform lacks a field is one no platform asked for
    // matches, not an unreadable index.
    #[serde(default)]
    pub os: String,
    #[serde(default)]
    pub architecture: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
}

impl Platform {
    pub fn linux_amd64() -> Platform {
        Platform {
            os: "linux".to_string(),
            architecture: "amd64".to_string(),
            variant: None,
        }
    }

    /// Parses `linux/amd64` or `linux/arm64/v8`.
    pub fn parse(text: &str) -> Result<Platform, String> {
        let parts: Vec<&str> = text.trim().split('/').collect();
        match parts.as_slice() {
            [os, arch] | [os, arch, _] if !os.is_empty() && !arch.is_empty() => Ok(Platform {
                os: os.to_string(),
                architecture: arch.to_string(),
                variant: parts
                    .get(2)
                    .map(|v| v.to_string())
                    .filter(|v| !v.is_empty()),
            }),
            _ => Err(format!(
                "`{text}` is not a platform like linux/amd64 or linux/arm64/v8"
            )),
        }
    }

    /// Whether an index entry for `other` serves this platform (a variant asked for must match;
    /// none asked for accepts any).
    pub fn matches(&self, other: &Platform) -> bool {
        self.os == other.os
            && self.architecture == other.architecture
            && (self.variant.is_none() || self.variant == other.variant)
    }
}

/// linux/amd64, the platform images are read for unless another is asked for.
impl Default for Platform {
    fn default() -> Self {
        Platform::linux_amd64()
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

/// A content descriptor: what a blob is, its digest and size.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    #[serde(default)]
    pub media_type: String,
    pub digest: String,
    #[serde(default)]
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
}

/// An image index (multi-platform) or manifest list.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageIndex {
    #[serde(default)]
    pub media_type: String,
    pub manifests: Vec<Descriptor>,
}

/// One platform's image manifest.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageManifest {
    #[serde(default)]
    pub media_type: String,
    pub config: Descriptor,
    pub layers: Vec<Descriptor>,
}

/// The parts of the image config read here.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ImageConfig {
    #[serde(default)]
    pub os: String,
    #[serde(default)]
    pub architecture: String,
    #[serde(default)]
    pub rootfs: RootFs,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct RootFs {
    #[serde(default)]
    pub diff_ids: Vec<String>,
}

/// What a manifest-or-index document is.
pub enum Document {
    Index(ImageIndex),
    Manifest(ImageManifest),
}

/// Reads a document that is an index or a manifest; the media type decides, else the shape
/// (`manifests` or `layers`), since the field is optional in OCI.
pub fn parse_document(bytes: &[u8]) -> Result<Document, String> {
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| format!("not JSON: {e}"))?;
    let media_type = value
        .get("mediaType")
        .and_then(|m| m.as_str())
        .unwrap_or("");
    let is_index = media_type == OCI_INDEX
        || media_type == DOCKER_LIST
        || (media_type.is_empty() && value.get("manifests").is_some());
    if is_index {
        serde_json::from_value(value)
            .map(Document::Index)
            .map_err(|e| format!("not an image index: {e}"))
    } else {
        serde_json::from_value(value)
            .map(Document::Manifest)
            .map_err(|e| format!("not an image manifest: {e}"))
    }
}

/// Whether a descriptor points at an index rather than a manifest.
pub fn is_index_type(media_type: &str) -> bool {
    media_type == OCI_INDEX || media_type == DOCKER_LIST
}

/// The entry of an index for `platform`. Entries without a platform (attestations carry
/// `unknown/unknown`) are skipped; an index of one entry without a platform is taken as is.
pub fn select_platform<'a>(index: &'a ImageIndex, platform: &Platform) -> Option<&'a Descriptor> {
    index
        .manifests
        .iter()
        .find(|d| d.platform.as_ref().is_some_and(|p| platform.matches(p)))
        .or_else(|| match index.manifests.as_slice() {
            [only] if only.platform.is_none() => Some(only),
            _ => None,
        })
}

/// Checks that a digest is `algorithm:hex` with characters safe in a file name.
pub fn check_digest(digest: &str) -> Result<(&str, &str), String> {
    let (algorithm, hex) = digest
        .split_once(':')
        .ok_or_else(|| format!("`{digest}` is not a digest like sha256:…"))?;
    let safe = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"+._-".contains(&b))
            && !s.starts_with('.')
    };
    if !safe(algorithm) || !safe(hex) {
        return Err(format!("`{digest}` is not a digest like sha256:…"));
    }
    Ok((algorithm, hex))
}
