//! [`RegistryImage`]: an [`ImageSource`] served by the async registry client.
//!
//! The layer reader is synchronous (tar and the decompressors read `std::io::Read`), the client
//! async. The bridge: the analysis runs on a blocking thread (`spawn_blocking`), and each read
//! of a blob waits there for the client's next chunk with `Handle::block_on`, the way
//! `tokio_util::io::SyncIoBridge` does. One chunk is held at a time, never a whole layer.

use std::io::{self, Read};
use std::sync::Arc;

use hyper::body::Bytes;
use tokio::runtime::Handle;

use super::manifest::{ImageManifest, Platform};
use super::source::{ImageError, ImageSource};
use crate::model::ImageRef;
use crate::registry::client::Blob;
use crate::registry::{RegistryClient, Repository};

/// An image in a registry, by tag or digest (a digest wins when both are written, since it is
/// what a build with that reference gets).
pub struct RegistryImage {
    client: Arc<RegistryClient>,
    repo: Repository,
    reference: String,
    shown: String,
    runtime: Handle,
}

impl RegistryImage {
    /// Must be read on a thread that may block (`spawn_blocking` or a plain thread), never on
    /// the runtime's own worker threads: `block_on` would panic there.
    pub fn new(client: Arc<RegistryClient>, image: &ImageRef, runtime: Handle) -> RegistryImage {
        let reference = image
            .digest
            .clone()
            .or_else(|| image.tag.clone())
            .unwrap_or_else(|| "latest".to_string());
        RegistryImage {
            client,
            repo: Repository::of(image),
            reference,
            shown: image.to_string(),
            runtime,
        }
    }
}

impl ImageSource for RegistryImage {
    fn name(&self) -> String {
        self.shown.clone()
    }

    fn manifest(&self, platform: &Platform) -> Result<ImageManifest, ImageError> {
        let manifest = self
            .runtime
            .block_on(self.client.manifest(&self.repo, &self.reference, platform))
            .map_err(|e| ImageError::Invalid {
                path: self.shown.clone(),
                message: e.to_string(),
            })?;
        Ok(ImageManifest {
            media_type: manifest.media_type,
            config: manifest.config,
            layers: manifest.layers,
        })
    }

    fn blob(&self, digest: &str) -> Result<Box<dyn Read + '_>, ImageError> {
        let blob = self
            .runtime
            .block_on(self.client.blob(&self.repo, digest))
            .map_err(|e| ImageError::Invalid {
                path: format!("{} {digest}", self.shown),
                message: e.to_string(),
            })?;
        Ok(Box::new(BlobReader {
            runtime: self.runtime.clone(),
            blob,
            pending: Bytes::new(),
        }))
    }
}

/// A blob read synchronously, one chunk at a time. The client checks the digest at the end of
/// the body; a mismatch is an `InvalidData` error, as [`super::source::Verified`] gives.
struct BlobReader {
    runtime: Handle,
    blob: Blob,
    pending: Bytes,
}

impl Read for BlobReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        while self.pending.is_empty() {
            match self.runtime.block_on(self.blob.next_chunk()) {
                Ok(Some(chunk)) => self.pending = chunk,
                Ok(None) => return Ok(0),
                Err(e @ crate::registry::RegistryError::DigestMismatch { .. }) => {
                    return Err(io::Error::new(io::ErrorKind::InvalidData, e.to_string()));
                }
                Err(e) => return Err(io::Error::other(e.to_string())),
            }
        }
        let n = buf.len().min(self.pending.len());
        buf[..n].copy_from_slice(&self.pending[..n]);
        self.pending = self.pending.slice(n..);
        Ok(n)
    }
}
