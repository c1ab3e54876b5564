//! The sync state kept in `DIR/state.json`, so a restart does not download everything again.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncState {
    /// By ecosystem name as osv.dev spells it (`npm`, `PyPI`, `crates.io`, `Go`).
    #[serde(default)]
    pub ecosystems: BTreeMap<String, EcosystemState>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EcosystemState {
    /// The validators of the last `all.zip` taken, for a conditional request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
    /// Every record modified up to this time is on disk: the next incremental sync fetches what
    /// `modified_id.csv` lists as newer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<DateTime<Utc>>,
}

impl SyncState {
    /// The state after a full sync took a new export: its validators, and as cursor the newest
    /// `modified` among its records (the export's own clock, not ours).
    pub fn after_full(
        &self,
        ecosystem: &str,
        etag: Option<String>,
        last_modified: Option<String>,
        newest: Option<DateTime<Utc>>,
    ) -> SyncState {
        let mut next = self.clone();
        next.ecosystems.insert(
            ecosystem.to_string(),
            EcosystemState {
                etag,
                last_modified,
                cursor: newest,
            },
        );
        next
    }

    /// The state after an incremental sync brought everything up to `cursor`. The export's
    /// validators stay: they still describe the last `all.zip` taken.
    pub fn after_incremental(&self, ecosystem: &str, cursor: DateTime<Utc>) -> SyncState {
        let mut next = self.clone();
        next.ecosystems
            .entry(ecosystem.to_string())
            .or_default()
            .cursor = Some(cursor);
        next
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transitions_touch_only_their_ecosystem() {
        let t1: DateTime<Utc> = "2024-01-01T00:00:00Z".parse().unwrap();
        let t2: DateTime<Utc> = "2024-02-01T00:00:00Z".parse().unwrap();
        let s = SyncState::default()
            .after_full("npm", Some("\"e1\"".into()), None, Some(t1))
            .after_full("Go", None, Some("Mon".into()), None);
        let s2 = s.after_incremental("npm", t2);
        assert_eq!(s2.ecosystems["npm"].cursor, Some(t2));
        assert_eq!(s2.ecosystems["npm"].etag.as_deref(), Some("\"e1\""));
        assert_eq!(s2.ecosystems["Go"], s.ecosystems["Go"]);
        let json = serde_json::to_string(&s2).unwrap();
        assert_eq!(serde_json::from_str::<SyncState>(&json).unwrap(), s2);
    }
}
