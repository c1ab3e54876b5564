//! A cache whose entries expire after a TTL. Pure: the caller passes `now`, so expiry is
//! tested without sleeping and the clock stays at the edge.

use chrono::{DateTime, Duration, Utc};
use std::collections::HashMap;
use std::hash::Hash;

#[derive(Debug, Clone)]
pub struct TtlCache<K, V> {
    ttl: Duration,
    entries: HashMap<K, (V, DateTime<Utc>)>,
}

impl<K: Eq + Hash, V> TtlCache<K, V> {
    pub fn new(ttl: Duration) -> Self {
        TtlCache {
            ttl,
            entries: HashMap::new(),
        }
    }

    /// The value stored less than the TTL before `now`.
    pub fn get(&self, key: &K, now: DateTime<Utc>) -> Option<&V> {
        self.entries
            .get(key)
            .filter(|(_, at)| now - *at < self.ttl)
            .map(|(v, _)| v)
    }

    pub fn insert(&mut self, key: K, value: V, now: DateTime<Utc>) {
        self.entries.insert(key, (value, now));
    }

    /// Drops what has expired by `now`, so a long-running service does not grow without bound.
    pub fn purge(&mut self, now: DateTime<Utc>) {
        let ttl = self.ttl;
        self.entries.retain(|_, (_, at)| now - *at < ttl);
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_after_the_ttl() {
        let t0 = DateTime::parse_from_rfc3339("2026-12-03T06:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let mut cache = TtlCache::new(Duration::minutes(10));
        cache.insert("node", vec!["20"], t0);
        assert_eq!(
            cache.get(&"node", t0 + Duration::minutes(9)),
            Some(&vec!["20"])
        );
        assert_eq!(cache.get(&"node", t0 + Duration::minutes(10)), None);
        cache.purge(t0 + Duration::minutes(11));
        assert!(cache.is_empty());
    }
}
