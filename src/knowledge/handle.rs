//! The knowledge a running service judges by, swapped whole while jobs run.
//!
//! `arc-swap` rather than a `tokio::sync::watch`: every job reads once at its start and the
//! writers (the advisory sync, a reload) are rare, which is the case arc-swap is built for:
//! a read is a lock-free pointer load that never waits for a writer building a new value, and
//! no receiver has to be kept or polled. Nothing here needs watch's change notification: the
//! writers themselves know what changed and act on it (rescans).

use super::digest::DigestCache;
use crate::pipeline::Knowledge;
use arc_swap::ArcSwap;
use std::ops::Deref;
use std::sync::{Arc, Mutex};

/// One atomically swapped [`Knowledge`]. A reader takes a snapshot ([`KnowledgeHandle::load`])
/// and keeps it for as long as it works: a swap meanwhile never shows it half of a new value.
pub struct KnowledgeHandle {
    current: ArcSwap<Knowledge>,
    /// Writers build the next value from the current one (a sync replaces the advisories, a
    /// reload the catalog and policy); one at a time, so neither loses the other's change.
    writer: Mutex<()>,
    /// The digest of the value in force, kept so that jobs do not hash every advisory again.
    digests: DigestCache,
}

impl KnowledgeHandle {
    pub fn new(knowledge: Knowledge) -> KnowledgeHandle {
        KnowledgeHandle {
            current: ArcSwap::from_pointee(knowledge),
            writer: Mutex::new(()),
            digests: DigestCache::default(),
        }
    }

    /// The knowledge in force now, for as long as the caller holds it.
    pub fn load(&self) -> Arc<Knowledge> {
        self.current.load_full()
    }

    /// Replaces the knowledge with what `next` builds from the current one, and returns the
    /// one replaced. `next` runs under the writer lock: keep slow work (reading disks) out of
    /// it and pass in what it produced.
    pub fn update(&self, next: impl FnOnce(&Knowledge) -> Knowledge) -> Arc<Knowledge> {
        let _writer = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let before = self.current.load_full();
        self.current.store(Arc::new(next(&before)));
        before
    }
}

/// What a job handler holds: the live handle, and the snapshot pinned by [`Pinned::pin`].
/// Dereferences to the pinned [`Knowledge`], so code inside one job reads one value
/// throughout, however many swaps happen meanwhile.
#[derive(Clone)]
pub struct Pinned {
    handle: Arc<KnowledgeHandle>,
    snapshot: Arc<Knowledge>,
}

impl Pinned {
    pub fn new(handle: Arc<KnowledgeHandle>) -> Pinned {
        let snapshot = handle.load();
        Pinned { handle, snapshot }
    }

    /// The same handle with the knowledge in force now: what a job takes at its start.
    pub fn pin(&self) -> Pinned {
        Pinned::new(Arc::clone(&self.handle))
    }

    pub fn handle(&self) -> &Arc<KnowledgeHandle> {
        &self.handle
    }

    /// The digest of the pinned knowledge ([`super::digest::knowledge_digest`]), computed once
    /// per knowledge value.
    pub fn digest(&self) -> Arc<str> {
        self.handle.digests.digest(&self.snapshot)
    }
}

/// A fixed knowledge (the CLI, tests): a handle nobody swaps.
impl From<Knowledge> for Pinned {
    fn from(knowledge: Knowledge) -> Pinned {
        Pinned::new(Arc::new(KnowledgeHandle::new(knowledge)))
    }
}

impl Deref for Pinned {
    type Target = Knowledge;

    fn deref(&self) -> &Knowledge {
        &self.snapshot
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{AdvisoryDb, Catalog};
    use crate::policy::OrgPolicy;

    fn knowledge(days: u32) -> Knowledge {
        let policy = OrgPolicy {
            max_exception_days: days,
            ..OrgPolicy::default()
        };
        Knowledge {
            catalog: Catalog::empty(),
            advisories: AdvisoryDb::empty(),
            policy,
        }
    }

    #[test]
    fn a_pinned_snapshot_outlives_a_swap_and_a_new_pin_sees_it() {
        let pinned = Pinned::from(knowledge(30));
        let before = pinned.update_days(45);
        assert_eq!(before, 30);
        assert_eq!(
            pinned.policy.max_exception_days, 30,
            "the job keeps its snapshot"
        );
        assert_eq!(pinned.pin().policy.max_exception_days, 45);
    }

    #[test]
    fn concurrent_writers_do_not_lose_each_others_change() {
        let handle = Arc::new(KnowledgeHandle::new(knowledge(0)));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let handle = Arc::clone(&handle);
                std::thread::spawn(move || {
                    for _ in 0..100 {
                        handle.update(|k| {
                            let mut next = knowledge(k.policy.max_exception_days + 1);
                            next.catalog = k.catalog.clone();
                            next
                        });
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(handle.load().policy.max_exception_days, 800);
    }

    impl Pinned {
        fn update_days(&self, days: u32) -> u32 {
            self.handle
                .update(|_| knowledge(days))
                .policy
                .max_exception_days
        }
    }
}
