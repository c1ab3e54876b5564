//! Digests of what a scan judges by, for the scan marks: a sweep ends a scan early only when
//! the commit and these are what the last scan saw. The catalog and policy are one digest per
//! knowledge value ([`knowledge_digest`]); the advisories count per repository, only those
//! naming a package it holds ([`advisories_digest`]), so that an advisory sync about one
//! package does not make every repository's next sweep a full scan.

use super::rescan::PackageKey;
use crate::catalog::AdvisoryDb;
use crate::model::Ecosystem;
use crate::pipeline::Knowledge;
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

/// A SHA-256 that `Debug` output can be written into without building the whole text.
#[derive(Default)]
pub struct HashWriter(Sha256);

impl HashWriter {
    /// The digest, in hex.
    pub fn finish(self) -> String {
        hex::encode(self.0.finalize())
    }
}

impl std::fmt::Write for HashWriter {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.update(s.as_bytes());
        Ok(())
    }
}

/// A digest of the catalog and policy in `knowledge`, and of this build (a new release may
/// judge differently). `Debug` text is hashed: it holds every field, and these types keep
/// their collections in order (vectors and B-tree maps), so equal values give equal text.
pub fn knowledge_digest(knowledge: &Knowledge) -> String {
    let mut w = HashWriter::default();
    // Writing into the hasher cannot fail.
    let _ = writeln!(w, "patchwright {}", env!("CARGO_PKG_VERSION"));
    let _ = writeln!(w, "{:?}\n{:?}", knowledge.catalog, knowledge.policy);
    w.finish()
}

/// A digest of the live advisories that name any of `packages` (the index keys of a
/// repository's inventory), whole records, so that any edit shows, whether or not its
/// `modified` moved. A package of an ecosystem this build does not know has no advisories.
pub fn advisories_digest(advisories: &AdvisoryDb, packages: &BTreeSet<PackageKey>) -> String {
    let mut w = HashWriter::default();
    let mut seen = BTreeSet::new();
    for (ecosystem, name) in packages {
        let Some(ecosystem) = Ecosystem::parse(ecosystem) else {
            continue;
        };
        for advisory in advisories.for_package(ecosystem, name) {
            // An advisory naming two held packages counts once.
            if seen.insert(advisory.id.as_str()) {
                let _ = writeln!(w, "{advisory:?}");
            }
        }
    }
    w.finish()
}

/// [`knowledge_digest`] of the knowledge a job pinned, computed once per knowledge value: the
/// digest reads every advisory, and a knowledge value is shared by every job until a swap.
#[derive(Default)]
pub struct DigestCache {
    last: Mutex<Option<(Arc<Knowledge>, Arc<str>)>>,
}

impl DigestCache {
    pub fn digest(&self, knowledge: &Arc<Knowledge>) -> Arc<str> {
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((k, digest)) = last.as_ref() {
            if Arc::ptr_eq(k, knowledge) {
                return Arc::clone(digest);
            }
        }
        let digest: Arc<str> = knowledge_digest(knowledge).into();
        *last = Some((Arc::clone(knowledge), Arc::clone(&digest)));
        digest
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{AdvisoryDb, Catalog};
    use crate::policy::OrgPolicy;

    fn knowledge(catalog: Catalog, advisories: &[(&str, &str)]) -> Knowledge {
        let records: Vec<(String, String)> = advisories
            .iter()
            .map(|(f, j)| (f.to_string(), j.to_string()))
            .collect();
        Knowledge {
            catalog,
            advisories: AdvisoryDb::from_json_records(&records).0,
            policy: OrgPolicy::default(),
        }
    }

    const ADVISORY: &str = r#"{"id":"GHSA-aaaa-bbbb-cccc","modified":"2026-01-01T00:00:00Z",
        "summary":"x","affected":[{"package":{"ecosystem":"npm","name":"left-pad"},
        "ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.3.0"}]}]}]}"#;

    fn held(packages: &[(&str, &str)]) -> BTreeSet<PackageKey> {
        packages
            .iter()
            .map(|(e, n)| (e.to_string(), n.to_string()))
            .collect()
    }

    #[test]
    fn an_advisory_edit_changes_the_digest_of_its_holders_only() {
        let db = |json: &str| AdvisoryDb::from_json_records(&[("a.json".into(), json.into())]).0;
        let base = db(ADVISORY);
        // A fixed version moved without a new `modified`: still a different digest.
        let edited = db(&ADVISORY.replace("1.3.0", "1.3.1"));
        let holder = held(&[("npm", "left-pad"), ("npm", "lodash")]);
        let other = held(&[("npm", "lodash")]);
        assert_eq!(
            advisories_digest(&base, &holder),
            advisories_digest(&db(ADVISORY), &holder)
        );
        assert_ne!(
            advisories_digest(&base, &holder),
            advisories_digest(&edited, &holder)
        );
        assert_eq!(
            advisories_digest(&base, &other),
            advisories_digest(&edited, &other)
        );
        assert_ne!(
            advisories_digest(&base, &holder),
            advisories_digest(&AdvisoryDb::empty(), &holder)
        );
    }

    #[test]
    fn the_knowledge_digest_follows_the_catalog() {
        let a = knowledge(Catalog::empty(), &[]);
        let mut changed = Catalog::empty();
        changed.revision = "2026-12-01".into();
        let b = knowledge(changed, &[]);
        assert_eq!(
            knowledge_digest(&a),
            knowledge_digest(&knowledge(Catalog::empty(), &[]))
        );
        assert_ne!(knowledge_digest(&a), knowledge_digest(&b));
    }

    #[test]
    fn the_digest_is_computed_once_per_knowledge_value() {
        let cache = DigestCache::default();
        let a = Arc::new(knowledge(Catalog::empty(), &[("a.json", ADVISORY)]));
        let first = cache.digest(&a);
        assert!(Arc::ptr_eq(&first, &cache.digest(&a)), "cached");
        let mut changed = Catalog::empty();
        changed.revision = "2026-12-01".into();
        let b = Arc::new(knowledge(changed, &[]));
        assert_ne!(cache.digest(&b), first);
    }
}
