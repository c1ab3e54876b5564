//! The per-layer result cache: one JSON file of [`LayerFacts`] per layer digest, so a layer
//! shared by many images is read once, and not again after a restart.

use std::path::{Path, PathBuf};

use super::layer::{LAYER_FACTS_VERSION, LayerFacts};
use super::manifest::check_digest;

/// `$XDG_CACHE_HOME/patchwright/layers` (or `~/.cache/…`): where results are kept unless a
/// folder is configured.
pub fn default_dir() -> PathBuf {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("patchwright").join("layers")
}

/// A directory of cached layer results.
#[derive(Debug, Clone)]
pub struct LayerCache {
    dir: PathBuf,
}

impl LayerCache {
    pub fn new(dir: impl Into<PathBuf>) -> LayerCache {
        LayerCache { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `sha256:ab…` → `<dir>/sha256-ab….json`; `None` for a digest that is not safe as a
    /// file name.
    fn path(&self, digest: &str) -> Option<PathBuf> {
        let (algorithm, hex) = check_digest(digest).ok()?;
        Some(self.dir.join(format!("{algorithm}-{hex}.json")))
    }

    /// The cached result for `digest`. A missing, unreadable, corrupt or older-format entry is
    /// a miss: the layer is read again and the entry rewritten.
    pub fn get(&self, digest: &str) -> Option<LayerFacts> {
        let bytes = std::fs::read(self.path(digest)?).ok()?;
        let facts: LayerFacts = serde_json::from_slice(&bytes).ok()?;
        (facts.version == LAYER_FACTS_VERSION && facts.digest == digest).then_some(facts)
    }

    /// Stores a result: written to a temporary file and renamed, so a concurrent reader sees
    /// the old entry or the new one, never half of one.
    pub fn put(&self, facts: &LayerFacts) -> std::io::Result<()> {
        let Some(path) = self.path(&facts.digest) else {
            return Ok(());
        };
        std::fs::create_dir_all(&self.dir)?;
        let json = serde_json::to_vec(facts).map_err(std::io::Error::other)?;
        let mut temp = tempfile::NamedTempFile::new_in(&self.dir)?;
        std::io::Write::write_all(&mut temp, &json)?;
        temp.persist(&path).map_err(|e| e.error)?;
        Ok(())
    }
}
