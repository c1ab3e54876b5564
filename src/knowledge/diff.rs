//! What a sync changed: a pure comparison of the records before and after.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use std::collections::BTreeMap;

/// The little of an OSV record a sync needs to compare versions of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordMeta {
    pub id: String,
    pub modified: DateTime<Utc>,
    pub withdrawn: bool,
}

#[derive(Deserialize)]
struct RawMeta {
    id: String,
    modified: DateTime<Utc>,
    #[serde(default)]
    withdrawn: Option<String>,
}

impl RecordMeta {
    /// Reads `id`, `modified` and `withdrawn`; an error means the text is not an OSV record.
    pub fn read(json: &str) -> Result<RecordMeta, serde_json::Error> {
        let raw: RawMeta = serde_json::from_str(json)?;
        Ok(RecordMeta {
            id: raw.id,
            modified: raw.modified,
            withdrawn: raw.withdrawn.is_some_and(|w| !w.trim().is_empty()),
        })
    }
}

/// The ids a sync added, changed, withdrew or (full sync only) no longer found, each sorted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    pub new: Vec<String>,
    pub modified: Vec<String>,
    pub withdrawn: Vec<String>,
    pub removed: Vec<String>,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        self.new.is_empty()
            && self.modified.is_empty()
            && self.withdrawn.is_empty()
            && self.removed.is_empty()
    }
}

/// Compares the records before and after a sync. A record that turns up already withdrawn, or
/// becomes withdrawn, counts as withdrawn only (not also as new or modified): what matters to a
/// reader is that it no longer matches. `removed` lists ids of `old` missing from `new`, which
/// only means something when `new` is a whole export; an incremental sync passes as `old` only
/// the records it fetched again.
pub fn diff(old: &BTreeMap<String, RecordMeta>, new: &BTreeMap<String, RecordMeta>) -> Changes {
    let mut changes = Changes::default();
    for (id, record) in new {
        let before = old.get(id);
        if record.withdrawn {
            if !before.is_some_and(|b| b.withdrawn) {
                changes.withdrawn.push(id.clone());
            }
            continue;
        }
        match before {
            None => changes.new.push(id.clone()),
            Some(b) if b.modified != record.modified || b.withdrawn => {
                changes.modified.push(id.clone())
            }
            Some(_) => {}
        }
    }
    changes.removed = old
        .keys()
        .filter(|id| !new.contains_key(*id))
        .cloned()
        .collect();
    changes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(id: &str, modified: &str, withdrawn: bool) -> (String, RecordMeta) {
        (
            id.to_string(),
            RecordMeta {
                id: id.to_string(),
                modified: modified.parse().unwrap(),
                withdrawn,
            },
        )
    }

    #[test]
    fn sorts_records_into_new_modified_withdrawn_and_removed() {
        let old = BTreeMap::from([
            meta("A", "2024-01-01T00:00:00Z", false),
            meta("B", "2024-01-01T00:00:00Z", false),
            meta("C", "2024-01-01T00:00:00Z", false),
            meta("D", "2024-01-01T00:00:00Z", false),
            meta("W", "2024-01-01T00:00:00Z", true),
        ]);
        let new = BTreeMap::from([
            meta("A", "2024-01-01T00:00:00Z", false),
            meta("B", "2024-02-01T00:00:00Z", false),
            meta("C", "2024-02-01T00:00:00Z", true),
            meta("E", "2024-02-01T00:00:00Z", false),
            meta("F", "2024-02-01T00:00:00Z", true),
            meta("W", "2024-02-01T00:00:00Z", true),
        ]);
        let changes = diff(&old, &new);
        assert_eq!(changes.new, ["E"]);
        assert_eq!(changes.modified, ["B"]);
        assert_eq!(changes.withdrawn, ["C", "F"]);
        assert_eq!(changes.removed, ["D"]);
    }

    #[test]
    fn a_record_brought_back_from_withdrawal_is_modified() {
        let old = BTreeMap::from([meta("A", "2024-01-01T00:00:00Z", true)]);
        let new = BTreeMap::from([meta("A", "2024-01-01T00:00:00Z", false)]);
        assert_eq!(diff(&old, &new).modified, ["A"]);
    }

    #[test]
    fn the_same_records_change_nothing() {
        let old = BTreeMap::from([meta("A", "2024-01-01T00:00:00Z", false)]);
        assert!(diff(&old, &old.clone()).is_empty());
    }

    #[test]
    fn reads_the_metadata_of_a_record() {
        let m = RecordMeta::read(
            r#"{"id":"X-1","modified":"2024-03-04T05:06:07Z","withdrawn":"2024-03-05T00:00:00Z"}"#,
        )
        .unwrap();
        assert_eq!(m.id, "X-1");
        assert!(m.withdrawn);
        assert!(RecordMeta::read(r#"{"id":"X-1"}"#).is_err());
        assert!(RecordMeta::read("garbage").is_err());
    }
}
