//! Reading an image from a source, layer by layer, through the layer cache. The I/O edge of
//! the image analysis: everything it calls on the data is pure.

use serde::Serialize;

use super::cache::LayerCache;
use super::contents::{OsContents, os_contents};
use super::layer::{merge_layers, read_layer};
use super::manifest::Platform;
use super::source::{ImageError, ImageSource};

/// How to read an image.
#[derive(Debug, Clone)]
pub struct AnalyseOptions {
    pub platform: Platform,
    /// Layers larger than this (compressed size, as the manifest gives it) are not read; the
    /// result says so.
    pub max_layer_bytes: u64,
}

impl Default for AnalyseOptions {
    fn default() -> AnalyseOptions {
        AnalyseOptions {
            platform: Platform::linux_amd64(),
            max_layer_bytes: DEFAULT_MAX_LAYER_BYTES,
        }
    }
}

/// 1 GiB: larger than any distribution base layer, small enough to skip a data layer.
pub const DEFAULT_MAX_LAYER_BYTES: u64 = 1 << 30;

/// How one layer was had.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LayerOrigin {
    Read,
    Cache,
    SkippedTooLarge,
}

#[derive(Debug, Clone, Serialize)]
pub struct LayerSummary {
    pub digest: String,
    pub size: u64,
    pub origin: LayerOrigin,
}

/// An analysed image.
#[derive(Debug, Clone, Serialize)]
pub struct AnalysedImage {
    pub source: String,
    pub platform: String,
    /// The config digest: the image id, the same for every copy of the image.
    pub image_id: String,
    pub layers: Vec<LayerSummary>,
    pub os: OsContents,
    /// Layers skipped and other limits of the reading, for the reader.
    pub notes: Vec<String>,
}

/// Reads an image's OS contents. Layers found in `cache` are not read; layers read are stored
/// in it (a cache that cannot be written costs speed only, and is said in the notes).
pub fn analyse(
    source: &dyn ImageSource,
    options: &AnalyseOptions,
    cache: Option<&LayerCache>,
) -> Result<AnalysedImage, ImageError> {
    let manifest = source.manifest(&options.platform)?;
    let mut layers = Vec::new();
    let mut summaries = Vec::new();
    let mut notes = Vec::new();
    for descriptor in &manifest.layers {
        let digest = &descriptor.digest;
        if let Some(facts) = cache.and_then(|c| c.get(digest)) {
            summaries.push(summary(descriptor.size, digest, LayerOrigin::Cache));
            layers.push(facts);
            continue;
        }
        if descriptor.size > options.max_layer_bytes {
            notes.push(format!(
                "layer {digest} ({} MiB) is over the {} MiB limit and was not read: packages it installs or removes are not known",
                descriptor.size >> 20,
                options.max_layer_bytes >> 20
            ));
            summaries.push(summary(
                descriptor.size,
                digest,
                LayerOrigin::SkippedTooLarge,
            ));
            continue;
        }
        let facts = read_layer(source.blob(digest)?, digest).map_err(|e| ImageError::Io {
            path: format!("{} layer {digest}", source.name()),
            source: e,
        })?;
        if let Some(cache) = cache {
            if let Err(e) = cache.put(&facts) {
                notes.push(format!(
                    "the layer cache {} could not be written ({e}); layers are read again next time",
                    cache.dir().display()
                ));
            }
        }
        summaries.push(summary(descriptor.size, digest, LayerOrigin::Read));
        layers.push(facts);
    }
    let image_id = manifest.config.digest.clone();
    let os = os_contents(&merge_layers(layers.iter()));
    Ok(AnalysedImage {
        source: source.name(),
        platform: options.platform.to_string(),
        image_id,
        layers: summaries,
        os,
        notes,
    })
}

fn summary(size: u64, digest: &str, origin: LayerOrigin) -> LayerSummary {
    LayerSummary {
        digest: digest.to_string(),
        size,
        origin,
    }
}
