//! Which packages an advisory sync touched, and which packages a repository holds: both in the
//! one normalised form (ecosystem, name) the package index in the store is keyed by, so that
//! what a sync asks for meets what a scan wrote. Pure.

use super::diff::Changes;
use crate::catalog::{Advisory, AdvisoryDb, normalize_name};
use crate::report::InventoryItem;
use std::collections::{BTreeMap, BTreeSet};

/// A package as the index keys it: the OSV ecosystem name and the normalised package name.
pub type PackageKey = (String, String);

/// The packages of a scan's inventory, each once.
pub fn inventory_packages(items: &[InventoryItem]) -> BTreeSet<PackageKey> {
    items
        .iter()
        .map(|i| {
            (
                i.ecosystem.as_str().to_string(),
                normalize_name(i.ecosystem, &i.name),
            )
        })
        .collect()
}

/// The packages the changed records name, each with the ids that name it. A new record counts
/// as it is now; a modified one both as it was and as it is (a package it no longer names may
/// hold a fix PR that is no longer needed); a withdrawn or removed one as it was. The ids are
/// the records' own (aliases merged by the database are looked up by any of them).
pub fn affected_packages(
    before: &AdvisoryDb,
    after: &AdvisoryDb,
    changes: &Changes,
) -> BTreeMap<PackageKey, BTreeSet<String>> {
    let mut touched: BTreeMap<PackageKey, BTreeSet<String>> = BTreeMap::new();
    let mut add = |id: &str, advisory: Option<&Advisory>| {
        for affected in advisory.map(|a| a.affected.as_slice()).unwrap_or_default() {
            touched
                .entry((
                    affected.ecosystem.as_str().to_string(),
                    affected.normalized_name.clone(),
                ))
                .or_default()
                .insert(id.to_string());
        }
    };
    for id in &changes.new {
        add(id, after.get(id));
    }
    for id in &changes.modified {
        add(id, before.get(id));
        add(id, after.get(id));
    }
    for id in changes.withdrawn.iter().chain(&changes.removed) {
        add(id, before.get(id));
    }
    touched
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Ecosystem;

    fn record(id: &str, eco: &str, name: &str, withdrawn: bool) -> (String, String) {
        let withdrawn = if withdrawn {
            r#","withdrawn":"2026-01-02T00:00:00Z""#
        } else {
            ""
        };
        let json = format!(
            r#"{{"id":"{id}","modified":"2026-01-01T00:00:00Z"{withdrawn},
                "affected":[{{"package":{{"ecosystem":"{eco}","name":"{name}"}},
                "ranges":[{{"type":"ECOSYSTEM","events":[{{"introduced":"0"}},{{"fixed":"2.0.0"}}]}}]}}]}}"#
        );
        (format!("{id}.json"), json)
    }

    fn db(records: &[(String, String)]) -> AdvisoryDb {
        let (db, errors) = AdvisoryDb::from_json_records(records);
        assert!(errors.is_empty(), "{errors:?}");
        db
    }

    fn key(eco: &str, name: &str) -> PackageKey {
        (eco.to_string(), name.to_string())
    }

    #[test]
    fn new_modified_and_withdrawn_records_touch_their_packages_old_and_new() {
        let before = db(&[
            record("A-1", "npm", "left-pad", false),
            record("A-2", "PyPI", "Jinja2", false),
        ]);
        let after = db(&[
            record("A-1", "npm", "right-pad", false),
            record("A-2", "PyPI", "Jinja2", true),
            record("A-3", "npm", "lodash", false),
        ]);
        let changes = Changes {
            new: vec!["A-3".into()],
            modified: vec!["A-1".into()],
            withdrawn: vec!["A-2".into()],
            removed: vec![],
        };
        let touched = affected_packages(&before, &after, &changes);
        let keys: Vec<&PackageKey> = touched.keys().collect();
        assert_eq!(
            keys,
            [
                &key("PyPI", "jinja2"),
                &key("npm", "left-pad"),
                &key("npm", "lodash"),
                &key("npm", "right-pad"),
            ]
        );
        assert_eq!(
            touched[&key("npm", "lodash")],
            BTreeSet::from(["A-3".to_string()])
        );
        // An unchanged database touches nothing.
        assert!(affected_packages(&after, &after, &Changes::default()).is_empty());
    }

    #[test]
    fn the_inventory_is_keyed_as_advisories_are() {
        let item = |eco, name: &str| InventoryItem {
            file: "requirements.txt".into(),
            line: 1,
            ecosystem: eco,
            name: name.into(),
            version: Some("1.0".into()),
            digest: None,
            kind: crate::report::InventoryKind::Direct,
        };
        let packages = inventory_packages(&[
            item(Ecosystem::PyPI, "Jinja2"),
            item(Ecosystem::PyPI, "jinja2"),
            item(Ecosystem::Npm, "lodash"),
        ]);
        assert_eq!(
            packages,
            BTreeSet::from([key("PyPI", "jinja2"), key("npm", "lodash")])
        );
    }
}
