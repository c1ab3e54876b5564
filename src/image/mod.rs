//! What is inside a base image: its OS packages, read from the layers, matched to the
//! distribution's advisories, and the candidate image that clears the most.
//!
//! - [`source`]: the [`ImageSource`] trait (manifest for a platform, config, digest-verified
//!   blob streams) and [`LocalImage`] (an OCI layout directory or a `docker save` tarball).
//! - [`manifest`]: OCI/Docker index, manifest and config JSON; platform choice.
//! - [`layer`]: one layer read as a stream (gzip/zstd/plain tar), its whiteouts, and
//!   [`merge_layers`] applying them in order.
//! - [`os_release`], [`packages`]: the parsers (pure, over bytes) of `os-release`, dpkg's
//!   `status` / `status.d/*` and apk's `installed`.
//! - [`cache`]: results per layer digest on disk.
//! - [`contents`]: merged files → distribution, release and packages (unknown is never clean).
//! - [`remote`]: [`RegistryImage`], the same trait over the registry client (async → sync).
//! - [`analyse`]: the I/O edge that puts these together.
//! - [`advisories`]: packages × OSV distribution records → the image's advisories (pure).
//! - [`finding`]: the `vulnerable-image` finding of an image (pure).
//! - [`recommend`]: which candidate image clears the most, in one sentence (pure).
//! - [`sbom`]: CycloneDX 1.5 JSON (pure).

pub mod advisories;
pub mod analyse;
pub mod cache;
pub mod contents;
pub mod finding;
pub mod layer;
pub mod manifest;
pub mod os_release;
pub mod packages;
pub mod recommend;
pub mod remote;
pub mod sbom;
pub mod source;

pub use advisories::{ImageAdvisory, OsAdvisories, match_advisories};
pub use analyse::{AnalyseOptions, AnalysedImage, LayerOrigin, analyse};
pub use cache::LayerCache;
pub use contents::{Distribution, OsContents};
pub use finding::image_finding;
pub use layer::{FileFacts, LayerFacts, merge_layers, read_layer};
pub use manifest::Platform;
pub use recommend::{Candidate, Recommendation, recommend};
pub use remote::RegistryImage;
pub use source::{ImageError, ImageSource, LocalImage};
