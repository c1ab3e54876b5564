//! Where an image comes from: the [`ImageSource`] trait, and its implementation for the two
//! forms an image takes on disk, an OCI image layout directory and a `docker save` tarball.
//!
//! The registry client implements the same trait: the analysis (layer reading, the cache,
//! matching) does not know where bytes come from.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};

use super::manifest::{
    Descriptor, Document, ImageConfig, ImageManifest, OCI_LAYER_TAR, OCI_MANIFEST, Platform,
    check_digest, is_index_type, parse_document, select_platform,
};

/// Why an image could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: io::Error,
    },
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
    #[error(
        "{source_name} has no image for {platform}; it has: {available} (choose one with --platform)"
    )]
    NoPlatform {
        source_name: String,
        platform: String,
        available: String,
    },
    #[error("{source_name}: blob {digest} is not in the image")]
    MissingBlob { source_name: String, digest: String },
}

impl ImageError {
    fn io(path: impl Into<String>, source: io::Error) -> ImageError {
        ImageError::Io {
            path: path.into(),
            source,
        }
    }

    fn invalid(path: impl Into<String>, message: impl Into<String>) -> ImageError {
        ImageError::Invalid {
            path: path.into(),
            message: message.into(),
        }
    }
}

/// An image's manifests and blobs.
///
/// Synchronous on purpose: tar and the decompressors read `std::io::Read`; an async registry
/// client can serve this trait from `spawn_blocking` with `tokio_util::io::SyncIoBridge`.
pub trait ImageSource {
    /// A name for messages: the path, or the image reference.
    fn name(&self) -> String;

    /// The image manifest for `platform`, an index (or manifest list) resolved to its entry for
    /// that platform.
    fn manifest(&self, platform: &Platform) -> Result<ImageManifest, ImageError>;

    /// The blob `digest` as a stream. The stream checks the digest when read to its end and
    /// fails with `InvalidData` if the bytes do not match (see [`Verified`]).
    fn blob(&self, digest: &str) -> Result<Box<dyn Read + '_>, ImageError>;

    /// The image config of `manifest` (read whole: it is small).
    fn config(&self, manifest: &ImageManifest) -> Result<ImageConfig, ImageError> {
        let digest = &manifest.config.digest;
        let mut bytes = Vec::new();
        self.blob(digest)?
            .read_to_end(&mut bytes)
            .map_err(|e| ImageError::io(format!("{} {digest}", self.name()), e))?;
        serde_json::from_slice(&bytes).map_err(|e| {
            ImageError::invalid(
                format!("{} {digest}", self.name()),
                format!("not an image config: {e}"),
            )
        })
    }
}

/// A reader that hashes what passes through it and, at the end of the stream, fails unless
/// the bytes have the expected SHA-256 digest.
pub struct Verified<R> {
    inner: R,
    hasher: Sha256,
    expected: String,
    checked: bool,
}

impl<R: Read> Verified<R> {
    /// `digest` must be `sha256:<hex>`; other algorithms are refused by [`Verified::new`].
    pub fn new(inner: R, digest: &str) -> Result<Verified<R>, String> {
        let (algorithm, hex) = check_digest(digest)?;
        if algorithm != "sha256" {
            return Err(format!(
                "digest algorithm `{algorithm}` is not supported (sha256 only)"
            ));
        }
        Ok(Verified {
            inner,
            hasher: Sha256::new(),
            expected: hex.to_string(),
            checked: false,
        })
    }
}

impl<R: Read> Read for Verified<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n > 0 {
            self.hasher.update(&buf[..n]);
        } else if !self.checked && !buf.is_empty() {
            self.checked = true;
            let actual = hex::encode(self.hasher.clone().finalize());
            if actual != self.expected {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "the blob's content has digest sha256:{actual}, not sha256:{}",
                        self.expected
                    ),
                ));
            }
        }
        Ok(n)
    }
}

/// The files of a local image: a directory, or the entries of a tar file.
enum Store {
    Dir(PathBuf),
    /// Entry path → (offset of its data, size), read once when the tarball is opened.
    Tar {
        file: PathBuf,
        entries: HashMap<String, (u64, u64)>,
    },
}

impl Store {
    fn open(path: &Path) -> Result<Store, ImageError> {
        let shown = path.display().to_string();
        let meta = std::fs::metadata(path).map_err(|e| ImageError::io(&shown, e))?;
        if meta.is_dir() {
            return Ok(Store::Dir(path.to_path_buf()));
        }
        let file = File::open(path).map_err(|e| ImageError::io(&shown, e))?;
        let mut archive = tar::Archive::new(file);
        let mut entries = HashMap::new();
        let not_tar = |e: io::Error| {
            ImageError::invalid(
                &shown,
                format!("neither an OCI layout directory nor a docker-save tarball ({e})"),
            )
        };
        for entry in archive.entries_with_seek().map_err(not_tar)? {
            let entry = entry.map_err(not_tar)?;
            let name = normalize(&entry.path().map_err(not_tar)?.to_string_lossy());
            entries.insert(name, (entry.raw_file_position(), entry.size()));
        }
        Ok(Store::Tar {
            file: path.to_path_buf(),
            entries,
        })
    }

    fn has(&self, name: &str) -> bool {
        match self {
            Store::Dir(dir) => dir.join(name).is_file(),
            Store::Tar { entries, .. } => entries.contains_key(name),
        }
    }

    fn size(&self, name: &str) -> Option<u64> {
        match self {
            Store::Dir(dir) => std::fs::metadata(dir.join(name)).ok().map(|m| m.len()),
            Store::Tar { entries, .. } => entries.get(name).map(|e| e.1),
        }
    }

    fn read(&self, name: &str) -> io::Result<Box<dyn Read + '_>> {
        match self {
            Store::Dir(dir) => Ok(Box::new(File::open(dir.join(name))?)),
            Store::Tar { file, entries } => {
                let (offset, size) = *entries.get(name).ok_or_else(|| {
                    io::Error::new(io::ErrorKind::NotFound, format!("no entry {name}"))
                })?;
                let mut file = File::open(file)?;
                file.seek(SeekFrom::Start(offset))?;
                Ok(Box::new(file.take(size)))
            }
        }
    }

    fn read_all(&self, name: &str, shown: &str) -> Result<Vec<u8>, ImageError> {
        let mut bytes = Vec::new();
        self.read(name)
            .and_then(|mut r| r.read_to_end(&mut bytes))
            .map_err(|e| ImageError::io(format!("{shown}: {name}"), e))?;
        Ok(bytes)
    }
}

/// A path inside an archive without `./` or `/` in front or `/` behind.
pub(crate) fn normalize(path: &str) -> String {
    let mut p = path;
    loop {
        if let Some(rest) = p.strip_prefix("./") {
            p = rest;
        } else if let Some(rest) = p.strip_prefix('/') {
            p = rest;
        } else {
            break;
        }
    }
    p.trim_end_matches('/').to_string()
}

/// `docker save`'s legacy layout: `manifest.json` naming the config and layer files.
struct Legacy {
    manifest: ImageManifest,
    /// Digest → entry path, for the config and each layer.
    paths: HashMap<String, String>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct LegacyEntry {
    config: String,
    layers: Vec<String>,
}

/// An image on disk: an OCI image layout (a directory or a tarball of one, as `docker save`
/// writes since Docker 25), or a legacy `docker save` tarball.
pub struct LocalImage {
    shown: String,
    store: Store,
    legacy: Option<Legacy>,
}

impl LocalImage {
    pub fn open(path: &Path) -> Result<LocalImage, ImageError> {
        let shown = path.display().to_string();
        let store = Store::open(path)?;
        let legacy = if store.has("index.json") {
            None
        } else if store.has("manifest.json") {
            Some(read_legacy(&store, &shown)?)
        } else {
            return Err(ImageError::invalid(
                &shown,
                "has neither index.json (an OCI image layout) nor manifest.json (docker save); \
                 give a directory made by `skopeo copy … oci:DIR` or a file made by `docker save`",
            ));
        };
        Ok(LocalImage {
            shown,
            store,
            legacy,
        })
    }

    fn document(&self, digest: &str) -> Result<Document, ImageError> {
        let mut bytes = Vec::new();
        self.blob(digest)?
            .read_to_end(&mut bytes)
            .map_err(|e| ImageError::io(format!("{} {digest}", self.shown), e))?;
        parse_document(&bytes)
            .map_err(|m| ImageError::invalid(format!("{} {digest}", self.shown), m))
    }
}

fn read_legacy(store: &Store, shown: &str) -> Result<Legacy, ImageError> {
    let bytes = store.read_all("manifest.json", shown)?;
    let entries: Vec<LegacyEntry> = serde_json::from_slice(&bytes).map_err(|e| {
        ImageError::invalid(
            format!("{shown}: manifest.json"),
            format!("not docker save's manifest: {e}"),
        )
    })?;
    // A tarball of several images is read for its first: `docker save` of one reference is
    // what this command is given.
    let entry = entries
        .into_iter()
        .next()
        .ok_or_else(|| ImageError::invalid(format!("{shown}: manifest.json"), "names no image"))?;
    let config_path = normalize(&entry.config);
    let config_bytes = store.read_all(&config_path, shown)?;
    let config_digest = format!("sha256:{}", hex::encode(Sha256::digest(&config_bytes)));
    let config: ImageConfig = serde_json::from_slice(&config_bytes).map_err(|e| {
        ImageError::invalid(
            format!("{shown}: {config_path}"),
            format!("not an image config: {e}"),
        )
    })?;
    if config.rootfs.diff_ids.len() != entry.layers.len() {
        return Err(ImageError::invalid(
            format!("{shown}: {config_path}"),
            format!(
                "lists {} layer digests but manifest.json names {} layers",
                config.rootfs.diff_ids.len(),
                entry.layers.len()
            ),
        ));
    }
    let mut paths = HashMap::from([(config_digest.clone(), config_path)]);
    let mut layers = Vec::new();
    // Legacy layers are uncompressed tars: their digest is the config's diff id.
    for (diff_id, layer) in config.rootfs.diff_ids.iter().zip(&entry.layers) {
        let path = normalize(layer);
        layers.push(Descriptor {
            media_type: OCI_LAYER_TAR.to_string(),
            digest: diff_id.clone(),
            size: store.size(&path).unwrap_or(0),
            platform: None,
        });
        paths.insert(diff_id.clone(), path);
    }
    Ok(Legacy {
        manifest: ImageManifest {
            media_type: OCI_MANIFEST.to_string(),
            config: Descriptor {
                media_type: "application/vnd.oci.image.config.v1+json".to_string(),
                size: config_bytes.len() as u64,
                digest: config_digest,
                platform: None,
            },
            layers,
        },
        paths,
    })
}

impl ImageSource for LocalImage {
    fn name(&self) -> String {
        self.shown.clone()
    }

    fn manifest(&self, platform: &Platform) -> Result<ImageManifest, ImageError> {
        if let Some(legacy) = &self.legacy {
            return Ok(legacy.manifest.clone());
        }
        let bytes = self.store.read_all("index.json", &self.shown)?;
        let mut document = parse_document(&bytes)
            .map_err(|m| ImageError::invalid(format!("{}: index.json", self.shown), m))?;
        // Nested indexes (a layout's index.json pointing at a multi-platform index) are
        // followed a few levels deep; real images use one or two.
        for _ in 0..4 {
            match document {
                Document::Manifest(manifest) => return Ok(manifest),
                Document::Index(index) => {
                    let Some(chosen) = select_platform(&index, platform) else {
                        let available: Vec<String> = index
                            .manifests
                            .iter()
                            .filter_map(|d| d.platform.as_ref().map(ToString::to_string))
                            .collect();
                        return Err(ImageError::NoPlatform {
                            source_name: self.shown.clone(),
                            platform: platform.to_string(),
                            available: if available.is_empty() {
                                "no platform-tagged entries".to_string()
                            } else {
                                available.join(", ")
                            },
                        });
                    };
                    let nested = is_index_type(&chosen.media_type);
                    document = self.document(&chosen.digest)?;
                    if nested && matches!(document, Document::Manifest(_)) {
                        return Err(ImageError::invalid(
                            &self.shown,
                            format!("{} is typed as an index but is a manifest", chosen.digest),
                        ));
                    }
                }
            }
        }
        Err(ImageError::invalid(
            &self.shown,
            "indexes nested more than four deep",
        ))
    }

    fn blob(&self, digest: &str) -> Result<Box<dyn Read + '_>, ImageError> {
        let path = match &self.legacy {
            Some(legacy) => legacy.paths.get(digest).cloned(),
            None => check_digest(digest)
                .ok()
                .map(|(algorithm, hex)| format!("blobs/{algorithm}/{hex}")),
        };
        let missing = || ImageError::MissingBlob {
            source_name: self.shown.clone(),
            digest: digest.to_string(),
        };
        let path = path.filter(|p| self.store.has(p)).ok_or_else(missing)?;
        let reader = self
            .store
            .read(&path)
            .map_err(|e| ImageError::io(format!("{}: {path}", self.shown), e))?;
        let verified =
            Verified::new(reader, digest).map_err(|m| ImageError::invalid(&self.shown, m))?;
        Ok(Box::new(verified))
    }
}
