//! The advisory sync as `serve` runs it: the `[advisory-sync]` settings, one round over the
//! configured ecosystems, and reading the advisory database from the synced folder together
//! with the local ones.

use super::diff::Changes;
use super::http::MirrorClient;
use super::sync::{Outcome, SyncError, SyncRequest, sync_ecosystem};
use crate::catalog::AdvisoryDb;
use crate::model::FileError;
use serde::Deserialize;
use std::path::PathBuf;
use std::time::Duration;

/// The `[advisory-sync]` table of the service configuration.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct AdvisorySyncConfig {
    /// The base URL serving `<ECOSYSTEM>/all.zip` and `<ECOSYSTEM>/modified_id.csv`.
    #[serde(default = "default_mirror")]
    pub mirror: String,
    /// As osv.dev spells them: `npm`, `PyPI`, `crates.io`, `Go`.
    pub ecosystems: Vec<String>,
    /// Where the records and the sync state are kept across restarts.
    pub dir: PathBuf,
    #[serde(default = "default_interval_minutes")]
    pub interval_minutes: u64,
}

fn default_mirror() -> String {
    super::OSV_DEV_MIRROR.to_string()
}

fn default_interval_minutes() -> u64 {
    60
}

/// The longest interval: a week. A slower sync is no sync.
const MAX_INTERVAL_MINUTES: u64 = 7 * 24 * 60;

impl AdvisorySyncConfig {
    /// Reads and checks the table; the message names what to change.
    pub fn from_toml(value: toml::Value) -> Result<AdvisorySyncConfig, String> {
        let config: AdvisorySyncConfig = value
            .try_into()
            .map_err(|e: toml::de::Error| e.message().trim_end().to_string())?;
        config.validate()?;
        Ok(config)
    }

    pub fn validate(&self) -> Result<(), String> {
        if !(self.mirror.starts_with("https://") || self.mirror.starts_with("http://")) {
            return Err(format!(
                "mirror: {:?} is not an http(s) URL; osv.dev's is {}",
                self.mirror,
                super::OSV_DEV_MIRROR
            ));
        }
        if self.ecosystems.is_empty() {
            return Err("ecosystems: is empty; name at least one, e.g. [\"npm\", \"PyPI\"]".into());
        }
        for (i, eco) in self.ecosystems.iter().enumerate() {
            if !super::plan::is_safe_id(eco) {
                return Err(format!("ecosystems: {eco:?} is not an ecosystem name"));
            }
            if self.ecosystems[..i].contains(eco) {
                return Err(format!("ecosystems: {eco:?} is named twice"));
            }
        }
        if self.dir.as_os_str().is_empty() {
            return Err("dir: is empty; give the folder the synced records are kept in".into());
        }
        if !(1..=MAX_INTERVAL_MINUTES).contains(&self.interval_minutes) {
            return Err(format!(
                "interval-minutes: {} is out of range; use 1 to {MAX_INTERVAL_MINUTES}",
                self.interval_minutes
            ));
        }
        Ok(())
    }

    pub fn interval(&self) -> Duration {
        Duration::from_secs(self.interval_minutes * 60)
    }

    /// Whether a sync into `dir` ever succeeded (its state names an ecosystem).
    pub fn ever_synced(&self) -> bool {
        super::store::read_state(&self.dir).is_ok_and(|s| !s.ecosystems.is_empty())
    }
}

/// What one round did, ecosystem by ecosystem, in the configured order.
#[derive(Debug, Default)]
pub struct Round {
    pub results: Vec<(String, Result<Outcome, SyncError>)>,
}

impl Round {
    /// Everything the successful syncs changed, together.
    pub fn changes(&self) -> Changes {
        let mut all = Changes::default();
        for (_, result) in &self.results {
            if let Ok(outcome) = result {
                all.new.extend(outcome.changes.new.iter().cloned());
                all.modified
                    .extend(outcome.changes.modified.iter().cloned());
                all.withdrawn
                    .extend(outcome.changes.withdrawn.iter().cloned());
                all.removed.extend(outcome.changes.removed.iter().cloned());
            }
        }
        all
    }

    pub fn failed(&self) -> usize {
        self.results.iter().filter(|(_, r)| r.is_err()).count()
    }
}

/// Syncs every configured ecosystem, one after the other (each is a large download; together
/// they would only compete for the same link). A failure of one does not stop the others.
pub async fn sync_round(client: &MirrorClient, config: &AdvisorySyncConfig) -> Round {
    let mut round = Round::default();
    for ecosystem in &config.ecosystems {
        let request = SyncRequest {
            mirror: &config.mirror,
            ecosystem,
            dir: &config.dir,
            full: false,
        };
        let result = sync_ecosystem(client, &request).await;
        round.results.push((ecosystem.clone(), result));
    }
    round
}

/// The advisory database read from `dirs` together (the synced folder and local ones), with
/// the records it could not read or use. A synced folder that
/// does not exist yet holds nothing; it is not an error.
pub fn read_advisories(dirs: &[PathBuf]) -> (AdvisoryDb, Vec<FileError>) {
    AdvisoryDb::load_dirs(dirs).with_all_errors()
}

/// The folders the service reads advisories from: the synced one (when configured and
/// present) first, then the local ones in their order.
pub fn advisory_dirs(sync: Option<&AdvisorySyncConfig>, local: &[PathBuf]) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(sync) = sync
        && sync.dir.is_dir()
    {
        dirs.push(sync.dir.clone());
    }
    dirs.extend(local.iter().cloned());
    dirs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<AdvisorySyncConfig, String> {
        AdvisorySyncConfig::from_toml(toml::from_str::<toml::Value>(text).unwrap())
    }

    #[test]
    fn the_table_has_defaults_and_refuses_what_cannot_work() {
        let c = parse("ecosystems = [\"npm\", \"PyPI\"]\ndir = \"/var/lib/osv\"\n").unwrap();
        assert_eq!(c.mirror, super::super::OSV_DEV_MIRROR);
        assert_eq!(c.interval(), Duration::from_secs(3600));
        assert_eq!(c.ecosystems, ["npm", "PyPI"]);

        let err = |text: &str| parse(text).unwrap_err();
        assert!(err("ecosystems = []\ndir = \"d\"\n").starts_with("ecosystems: is empty"));
        assert!(err("ecosystems = [\"npm\", \"npm\"]\ndir = \"d\"\n").contains("named twice"));
        assert!(err("ecosystems = [\"../etc\"]\ndir = \"d\"\n").contains("not an ecosystem"));
        assert!(
            err("ecosystems = [\"npm\"]\ndir = \"d\"\nmirror = \"ftp://x\"\n")
                .starts_with("mirror:")
        );
        assert!(
            err("ecosystems = [\"npm\"]\ndir = \"d\"\ninterval-minutes = 0\n")
                .contains("out of range")
        );
        assert!(
            err("ecosystems = [\"npm\"]\ndir = \"d\"\ninterval = \"1h\"\n").contains("interval")
        );
        assert!(err("ecosystems = [\"npm\"]\n").contains("dir"));
    }

    #[test]
    fn advisories_are_read_from_the_synced_and_the_local_folder_together() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/advisories");
        let synced = tempfile::tempdir().unwrap();
        let config = AdvisorySyncConfig {
            mirror: "http://127.0.0.1:9".into(),
            ecosystems: vec!["npm".into()],
            dir: synced.path().join("not-yet"),
            interval_minutes: 60,
        };
        // Nothing synced yet: only the local folder.
        let dirs = advisory_dirs(Some(&config), std::slice::from_ref(&root));
        assert_eq!(dirs, std::slice::from_ref(&root));
        let (local, _) = read_advisories(&dirs);
        assert!(!local.is_empty());

        let dir = synced.path().join("npm");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("GHSA-test-0001.json"),
            r#"{"id":"GHSA-test-0001","modified":"2026-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"npm","name":"left-pad"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.3.0"}]}]}]}"#,
        )
        .unwrap();
        let config = AdvisorySyncConfig {
            dir: synced.path().to_path_buf(),
            ..config
        };
        let (both, errors) =
            read_advisories(&advisory_dirs(Some(&config), std::slice::from_ref(&root)));
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(both.len(), local.len() + 1);
        assert!(both.get("GHSA-test-0001").is_some());
    }
}
