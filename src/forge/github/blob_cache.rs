//! Blob contents by git object id. An id is the hash of the content, so an entry can never go
//! stale: the cache only needs a bound, not invalidation. Shared by every installation of the
//! App, because the same base-image Dockerfile or lockfile shows up in many repositories.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

/// Hit and miss counts since the cache was made.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    pub hits: u64,
    pub misses: u64,
    pub entries: usize,
    pub bytes: usize,
}

/// A least-recently-used map from blob sha to content, bounded by total bytes.
#[derive(Debug)]
pub struct BlobCache {
    inner: Mutex<Inner>,
    max_bytes: usize,
}

#[derive(Debug, Default)]
struct Inner {
    entries: HashMap<String, Entry>,
    /// Use stamp → sha, oldest first: the next eviction is the first key.
    order: BTreeMap<u64, String>,
    clock: u64,
    bytes: usize,
    hits: u64,
    misses: u64,
}

#[derive(Debug)]
struct Entry {
    content: Arc<[u8]>,
    stamp: u64,
}

/// 64 MiB: thousands of manifests, a small share of a service's memory.
pub const DEFAULT_BLOB_CACHE_BYTES: usize = 64 * 1024 * 1024;

impl Default for BlobCache {
    fn default() -> Self {
        BlobCache::new(DEFAULT_BLOB_CACHE_BYTES)
    }
}

impl BlobCache {
    pub fn new(max_bytes: usize) -> BlobCache {
        BlobCache {
            inner: Mutex::new(Inner::default()),
            max_bytes,
        }
    }

    /// The content of `sha`, counting a hit or a miss.
    pub fn get(&self, sha: &str) -> Option<Arc<[u8]>> {
        let mut inner = self.lock();
        inner.clock += 1;
        let stamp = inner.clock;
        let Some(entry) = inner.entries.get_mut(sha) else {
            inner.misses += 1;
            return None;
        };
        let old = std::mem::replace(&mut entry.stamp, stamp);
        let content = entry.content.clone();
        inner.order.remove(&old);
        inner.order.insert(stamp, sha.to_string());
        inner.hits += 1;
        Some(content)
    }

    /// Keeps `content` under `sha`, evicting the least recently used entries beyond the bound.
    /// A blob larger than the whole bound is not kept.
    pub fn insert(&self, sha: &str, content: Arc<[u8]>) {
        if content.len() > self.max_bytes {
            return;
        }
        let mut inner = self.lock();
        inner.clock += 1;
        let stamp = inner.clock;
        if let Some(old) = inner.entries.remove(sha) {
            inner.order.remove(&old.stamp);
            inner.bytes -= old.content.len();
        }
        inner.bytes += content.len();
        inner
            .entries
            .insert(sha.to_string(), Entry { content, stamp });
        inner.order.insert(stamp, sha.to_string());
        while inner.bytes > self.max_bytes {
            let Some((_, victim)) = inner.order.pop_first() else {
                break;
            };
            if let Some(gone) = inner.entries.remove(&victim) {
                inner.bytes -= gone.content.len();
            }
        }
    }

    pub fn stats(&self) -> CacheStats {
        let inner = self.lock();
        CacheStats {
            hits: inner.hits,
            misses: inner.misses,
            entries: inner.entries.len(),
            bytes: inner.bytes,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // The map stays consistent at every await-free step, so a panic elsewhere while the
        // lock was held leaves nothing half-done: keep using it.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blob(s: &str) -> Arc<[u8]> {
        Arc::from(s.as_bytes())
    }

    #[test]
    fn a_second_read_is_a_hit() {
        let c = BlobCache::new(100);
        assert!(c.get("a").is_none());
        c.insert("a", blob("FROM node:20"));
        assert_eq!(c.get("a").as_deref(), Some(&b"FROM node:20"[..]));
        let s = c.stats();
        assert_eq!((s.hits, s.misses, s.entries, s.bytes), (1, 1, 1, 12));
    }

    #[test]
    fn the_least_recently_used_entry_goes_first() {
        let c = BlobCache::new(10);
        c.insert("a", blob("aaaa"));
        c.insert("b", blob("bbbb"));
        assert!(c.get("a").is_some()); // b is now the oldest
        c.insert("c", blob("cccc"));
        assert!(c.get("b").is_none());
        assert!(c.get("a").is_some());
        assert!(c.get("c").is_some());
        assert_eq!(c.stats().bytes, 8);
    }

    #[test]
    fn a_blob_larger_than_the_bound_is_not_kept_and_evicts_nothing() {
        let c = BlobCache::new(4);
        c.insert("a", blob("aaaa"));
        c.insert("big", blob("0123456789"));
        assert!(c.get("big").is_none());
        assert!(c.get("a").is_some());
    }

    #[test]
    fn inserting_the_same_sha_twice_counts_its_bytes_once() {
        let c = BlobCache::new(100);
        c.insert("a", blob("aaaa"));
        c.insert("a", blob("aaaa"));
        assert_eq!(c.stats().bytes, 4);
        assert_eq!(c.stats().entries, 1);
    }
}
