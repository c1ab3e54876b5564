//! Reading a repository through the forge: the tree at a commit, then only the blobs of the
//! files the scanner wants. Blob ids are content hashes, so a cache keyed by them never goes
//! stale: an unchanged file is fetched and parsed once, whatever the number of scans.

use crate::forge::hosted::{Forge, ForgeError, TreeEntry};
use crate::manifest;
use crate::model::ParsedManifest;
use crate::snapshot::{MAX_FILE_BYTES, RepoSnapshot, wants};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

/// Parsed manifests by (path, blob id), bounded by entry count (oldest evicted first). The path
/// is part of the key because findings name their file.
pub struct ParseCache {
    inner: Mutex<CacheInner>,
    capacity: usize,
}

struct CacheInner {
    entries: HashMap<(String, String), (Arc<String>, Arc<ParsedManifest>)>,
    order: VecDeque<(String, String)>,
    hits: u64,
    misses: u64,
}

impl ParseCache {
    pub fn new(capacity: usize) -> ParseCache {
        ParseCache {
            inner: Mutex::new(CacheInner {
                entries: HashMap::new(),
                order: VecDeque::new(),
                hits: 0,
                misses: 0,
            }),
            capacity: capacity.max(1),
        }
    }

    fn get(&self, key: &(String, String)) -> Option<(Arc<String>, Arc<ParsedManifest>)> {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let found = inner.entries.get(key).cloned();
        if found.is_some() {
            inner.hits += 1;
        } else {
            inner.misses += 1;
        }
        found
    }

    fn put(&self, key: (String, String), value: (Arc<String>, Arc<ParsedManifest>)) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if inner.entries.insert(key.clone(), value).is_none() {
            inner.order.push_back(key);
        }
        while inner.entries.len() > self.capacity {
            match inner.order.pop_front() {
                Some(old) => {
                    inner.entries.remove(&old);
                }
                None => break,
            }
        }
    }

    /// The text of a file no scan parses (a go.sum a re-lock read), by path and blob id.
    pub fn text(&self, path: &str, sha: &str) -> Option<Arc<String>> {
        if wants(path) {
            return None;
        }
        self.get(&(path.to_string(), sha.to_string()))
            .map(|(text, _)| text)
    }

    /// Keeps the text of a file no scan parses. Files the scan reads are cached with their
    /// parse by [`read_repository`], never here (an empty parse would hide their findings).
    pub fn keep_text(&self, path: &str, sha: &str, text: &str) {
        if wants(path) {
            return;
        }
        self.put(
            (path.to_string(), sha.to_string()),
            (
                Arc::new(text.to_string()),
                Arc::new(ParsedManifest::default()),
            ),
        );
    }

    /// (hits, misses) since start, for tests and metrics.
    pub fn stats(&self) -> (u64, u64) {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        (inner.hits, inner.misses)
    }
}

/// The snapshot at `commit`, its parsed manifests, and its tree (every file's blob id).
pub async fn read_repository(
    forge: &dyn Forge,
    repo: &str,
    commit: &str,
    cache: &ParseCache,
) -> Result<(RepoSnapshot, Vec<ParsedManifest>, Vec<TreeEntry>), ForgeError> {
    let tree = forge.tree(repo, commit).await?;
    let mut snapshot = RepoSnapshot {
        commit: Some(commit.to_string()),
        ..Default::default()
    };
    let mut manifests = Vec::new();
    for entry in tree.iter().filter(|e| wants(&e.path)) {
        if entry.size.is_some_and(|s| s > MAX_FILE_BYTES) {
            snapshot.unreadable.push(crate::model::FileError {
                file: entry.path.clone(),
                line: 0,
                message: format!("larger than the {MAX_FILE_BYTES}-byte limit; it was not scanned"),
                ..Default::default()
            });
            continue;
        }
        let key = (entry.path.clone(), entry.sha.clone());
        if let Some((content, parsed)) = cache.get(&key) {
            snapshot
                .files
                .insert(entry.path.clone(), content.as_ref().clone());
            // The repository config is cached with an empty manifest: it is read, not parsed.
            if !parsed.file.is_empty() {
                manifests.push(parsed.as_ref().clone());
            }
            continue;
        }
        let bytes = forge.blob(repo, &entry.sha).await?;
        snapshot.insert_bytes(entry.path.clone(), bytes);
        let Some(content) = snapshot.files.get(&entry.path).cloned() else {
            continue;
        };
        // A file decoded lossily (not UTF-8) is scanned but never cached: its error entry and
        // the mark that keeps fixes off it must come back on every scan.
        let lossy = snapshot.lossy.contains(&entry.path);
        // The repository config is read by the pipeline, not parsed as a manifest.
        if let Some(kind) = manifest::detect(&entry.path) {
            let parsed = manifest::parse(kind, &entry.path, &content);
            if !lossy {
                cache.put(key, (Arc::new(content), Arc::new(parsed.clone())));
            }
            manifests.push(parsed);
        } else if !lossy {
            cache.put(
                key,
                (Arc::new(content), Arc::new(ParsedManifest::default())),
            );
        }
    }
    Ok((snapshot, manifests, tree))
}
