//! Where the working copy's files come from: a local checkout, or (in the service) the blobs of
//! a repository at one commit.

use std::path::{Path, PathBuf};

/// Read access to a repository's files by repository-relative path (`/`-separated).
pub trait FileSource {
    /// The file's bytes, or `None` when it does not exist or cannot be read.
    fn read(&self, path: &str) -> Option<Vec<u8>>;
    /// The names of the folders directly inside `dir` (`""` is the root); used to expand
    /// workspace member globs such as `crates/*`.
    fn subdirs(&self, dir: &str) -> Vec<String>;
}

/// A checkout on disk.
#[derive(Debug, Clone)]
pub struct DirSource {
    pub root: PathBuf,
}

impl DirSource {
    pub fn new(root: impl Into<PathBuf>) -> DirSource {
        DirSource { root: root.into() }
    }

    fn path(&self, rel: &str) -> Option<PathBuf> {
        // Only plain relative paths: a manifest naming `../x` must not read outside the checkout.
        let rel = Path::new(rel);
        if rel.is_absolute()
            || rel
                .components()
                .any(|c| !matches!(c, std::path::Component::Normal(_)))
        {
            return None;
        }
        Some(self.root.join(rel))
    }
}

impl FileSource for DirSource {
    fn read(&self, path: &str) -> Option<Vec<u8>> {
        std::fs::read(self.path(path)?).ok()
    }

    fn subdirs(&self, dir: &str) -> Vec<String> {
        let base = if dir.is_empty() {
            self.root.clone()
        } else {
            match self.path(dir) {
                Some(p) => p,
                None => return Vec::new(),
            }
        };
        let mut names: Vec<String> = std::fs::read_dir(base)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        names.sort();
        names
    }
}
