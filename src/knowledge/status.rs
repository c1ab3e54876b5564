//! What the knowledge's keepers last did (each ecosystem's sync, the last reload), for the
//! detail lines of `/healthz`. Times are passed in; rendering is pure.

use chrono::{DateTime, SecondsFormat, Utc};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EcosystemStatus {
    pub last_attempt: Option<DateTime<Utc>>,
    pub last_success: Option<DateTime<Utc>>,
    /// The last attempt's error; `None` when it succeeded.
    pub last_error: Option<String>,
    /// What the last successful sync changed: new, modified, withdrawn.
    pub last_changes: (usize, usize, usize),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReloadStatus {
    pub at: DateTime<Utc>,
    /// `None` when the reload was applied; else why it was refused.
    pub refused: Option<String>,
}

#[derive(Debug, Default)]
struct Inner {
    advisories: Option<usize>,
    ecosystems: BTreeMap<String, EcosystemStatus>,
    reload: Option<ReloadStatus>,
}

/// Shared by the keepers (writers) and the HTTP state (reader).
#[derive(Debug, Default)]
pub struct KnowledgeStatus {
    inner: Mutex<Inner>,
}

fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

impl KnowledgeStatus {
    fn with<T>(&self, f: impl FnOnce(&mut Inner) -> T) -> T {
        f(&mut self.inner.lock().unwrap_or_else(|p| p.into_inner()))
    }

    pub fn set_advisories(&self, count: usize) {
        self.with(|i| i.advisories = Some(count));
    }

    pub fn sync_succeeded(
        &self,
        ecosystem: &str,
        at: DateTime<Utc>,
        changes: (usize, usize, usize),
    ) {
        self.with(|i| {
            let e = i.ecosystems.entry(ecosystem.to_string()).or_default();
            e.last_attempt = Some(at);
            e.last_success = Some(at);
            e.last_error = None;
            e.last_changes = changes;
        });
    }

    pub fn sync_failed(&self, ecosystem: &str, at: DateTime<Utc>, error: String) {
        self.with(|i| {
            let e = i.ecosystems.entry(ecosystem.to_string()).or_default();
            e.last_attempt = Some(at);
            e.last_error = Some(error);
        });
    }

    pub fn reloaded(&self, at: DateTime<Utc>, refused: Option<String>) {
        self.with(|i| i.reload = Some(ReloadStatus { at, refused }));
    }

    pub fn ecosystem(&self, ecosystem: &str) -> Option<EcosystemStatus> {
        self.with(|i| i.ecosystems.get(ecosystem).cloned())
    }

    pub fn reload(&self) -> Option<ReloadStatus> {
        self.with(|i| i.reload.clone())
    }

    /// One line per fact, empty when nothing was recorded (a service without sync or reload
    /// answers `/healthz` exactly as before).
    pub fn detail(&self) -> String {
        self.with(|i| {
            let mut out = String::new();
            if let Some(n) = i.advisories {
                let _ = writeln!(out, "advisories: {n} loaded");
            }
            for (eco, e) in &i.ecosystems {
                let _ = match (&e.last_error, e.last_attempt) {
                    (None, Some(at)) => {
                        let (new, modified, withdrawn) = e.last_changes;
                        writeln!(
                            out,
                            "advisory sync {eco}: ok at {}: {new} new, {modified} modified, {withdrawn} withdrawn",
                            stamp(at)
                        )
                    }
                    (Some(error), at) => {
                        let kept = match e.last_success {
                            Some(t) => format!("the data of the sync at {} stays in use", stamp(t)),
                            None => "no sync of it has succeeded yet".to_string(),
                        };
                        let at = at.map(stamp).unwrap_or_default();
                        writeln!(out, "advisory sync {eco}: FAILED at {at}: {error}; {kept}")
                    }
                    (None, None) => Ok(()),
                };
            }
            if let Some(r) = &i.reload {
                let _ = match &r.refused {
                    None => writeln!(out, "reload: applied at {}", stamp(r.at)),
                    Some(why) => writeln!(
                        out,
                        "reload: REFUSED at {}: {why}; the last good catalog and policy stay in force",
                        stamp(r.at)
                    ),
                };
            }
            out
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_detail_says_what_failed_and_what_data_stays() {
        let status = KnowledgeStatus::default();
        assert_eq!(status.detail(), "");
        let t1: DateTime<Utc> = "2026-12-02T10:00:00Z".parse().unwrap();
        let t2: DateTime<Utc> = "2026-12-02T11:00:00Z".parse().unwrap();
        status.set_advisories(79);
        status.sync_succeeded("npm", t1, (1, 2, 3));
        status.sync_failed("npm", t2, "mirror down".into());
        status.sync_failed("PyPI", t2, "404".into());
        status.reloaded(t2, Some("catalog.toml:3:1: bad".into()));
        assert_eq!(
            status.detail(),
            "advisories: 79 loaded\n\
             advisory sync PyPI: FAILED at 2026-12-02T11:00:00Z: 404; no sync of it has succeeded yet\n\
             advisory sync npm: FAILED at 2026-12-02T11:00:00Z: mirror down; the data of the sync at 2026-12-02T10:00:00Z stays in use\n\
             reload: REFUSED at 2026-12-02T11:00:00Z: catalog.toml:3:1: bad; the last good catalog and policy stay in force\n"
        );
        status.sync_succeeded("npm", t2, (0, 1, 0));
        assert!(status.detail().contains(
            "advisory sync npm: ok at 2026-12-02T11:00:00Z: 0 new, 1 modified, 0 withdrawn"
        ));
    }
}
