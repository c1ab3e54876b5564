//! The loaded advisories: records that name the same issue merged into one advisory, indexed
//! by package for matching.
//!
//! Matching order (cargo-deny's): withdrawn advisories are dropped, then the package name must
//! match (normalised per ecosystem), then the version must be affected.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use crate::catalog::name::normalize_name;
use crate::catalog::osv::{Advisory, Record, parse_record};
use crate::catalog::version::Version;
use crate::infra::parallel;
use crate::model::{Ecosystem, FileError};

/// Advisories, ready to match.
#[derive(Debug, Clone, Default)]
pub struct AdvisoryDb {
    /// Live advisories, sorted by id.
    advisories: Vec<Advisory>,
    /// Withdrawn ones, kept so that an exception naming one can be told so.
    withdrawn: Vec<Advisory>,
    by_package: HashMap<(Ecosystem, String), Vec<usize>>,
    /// Upper-cased id or alias → (withdrawn?, index).
    by_id: HashMap<String, (bool, usize)>,
}

impl AdvisoryDb {
    pub fn empty() -> AdvisoryDb {
        AdvisoryDb::default()
    }

    /// Loads every `*.json` below `path` (recursively; a single file works too). Unreadable or
    /// invalid files become errors and are skipped; the rest load.
    pub fn load_dir(path: &Path) -> (AdvisoryDb, Vec<FileError>) {
        AdvisoryDb::load_dirs(&[path]).with_all_errors()
    }

    /// Loads every `*.json` below each of `dirs`, in that order, as [`read_json_records`] and
    /// [`AdvisoryDb::from_json_records`] would, but each file is read and parsed by the same
    /// worker and its text dropped at once: with tens of thousands of records, holding every
    /// text until all are read was a quarter of a large scan's peak memory.
    pub fn load_dirs<P: AsRef<Path>>(dirs: &[P]) -> LoadedAdvisories {
        let mut files = Vec::new();
        let mut unreadable = Vec::new();
        for dir in dirs {
            unreadable.extend(json_files(dir.as_ref(), &mut files));
        }
        let results = parallel::map(&files, |file| {
            let name = file.display().to_string();
            match std::fs::read_to_string(file) {
                Ok(json) => Ok(parse_record(&name, &json)),
                Err(e) => Err(unreadable_record(name, &e)),
            }
        });
        let mut parsed = Vec::with_capacity(results.len());
        for result in results {
            match result {
                Ok(record) => parsed.push(record),
                Err(e) => unreadable.push(e),
            }
        }
        let (db, skipped) = AdvisoryDb::from_parsed_records(parsed);
        LoadedAdvisories {
            db,
            unreadable,
            skipped,
        }
    }

    /// Builds the database from `(file name, JSON text)` pairs. Pure.
    pub fn from_json_records(records: &[(String, String)]) -> (AdvisoryDb, Vec<FileError>) {
        // Records are independent: parse them on every core, then take the results in input
        // order so the database and the error list are exactly what a sequential loop gives.
        AdvisoryDb::from_parsed_records(parallel::map(records, |(file, json)| {
            parse_record(file, json)
        }))
    }

    /// Builds the database from what [`parse_record`] gave for each file, in file order, with
    /// the errors and skipped entries in that order.
    fn from_parsed_records(
        results: Vec<Result<Record, FileError>>,
    ) -> (AdvisoryDb, Vec<FileError>) {
        let mut parsed = Vec::new();
        let mut errors = Vec::new();
        for result in results {
            match result {
                Ok(record) => {
                    parsed.extend(record.advisory);
                    errors.extend(record.skipped);
                }
                Err(e) => errors.push(e),
            }
        }
        (AdvisoryDb::from_advisories(parsed), errors)
    }

    /// Builds the database from records already read: withdrawn and live records are merged
    /// separately (a retraction must not erase a live record's ranges, nor a live record revive
    /// a retracted one).
    pub fn from_advisories(records: Vec<Advisory>) -> AdvisoryDb {
        let (withdrawn, live): (Vec<_>, Vec<_>) =
            records.into_iter().partition(|a| a.withdrawn.is_some());
        let mut db = AdvisoryDb {
            advisories: merge_aliases(live),
            withdrawn: merge_aliases(withdrawn),
            ..AdvisoryDb::default()
        };
        for (i, advisory) in db.advisories.iter().enumerate() {
            for affected in &advisory.affected {
                let key = (affected.ecosystem, affected.normalized_name.clone());
                let slot = db.by_package.entry(key).or_default();
                if slot.last() != Some(&i) {
                    slot.push(i);
                }
            }
        }
        for (is_withdrawn, list) in [(true, &db.withdrawn), (false, &db.advisories)] {
            // Live entries are inserted last so they win over a withdrawn record's aliases.
            for (i, advisory) in list.iter().enumerate() {
                for id in advisory.ids() {
                    db.by_id.insert(id.to_ascii_uppercase(), (is_withdrawn, i));
                }
            }
        }
        db
    }

    /// Live advisories that affect `name` at `version` in `eco`, sorted by id.
    pub fn affecting(&self, eco: Ecosystem, name: &str, version: &Version) -> Vec<&Advisory> {
        // The name is normalised once here, not once per candidate's `affected` entry.
        let key = (eco, normalize_name(eco, name));
        let Some(ids) = self.by_package.get(&key) else {
            return Vec::new();
        };
        ids.iter()
            .filter_map(|&i| self.advisories.get(i))
            .filter(|a| a.affects_normalized(eco, &key.1, version))
            .collect()
    }

    /// Live advisories that affect the distribution package `name` (source package or origin)
    /// at `version` in `release` of `eco`, sorted by id.
    pub fn affecting_in_release(
        &self,
        eco: Ecosystem,
        release: Option<&str>,
        name: &str,
        version: &Version,
    ) -> Vec<&Advisory> {
        self.for_package(eco, name)
            .into_iter()
            .filter(|a| a.affects_in_release(eco, release, name, version))
            .collect()
    }

    /// Live advisories that name the package at any version, sorted by id.
    pub fn for_package(&self, eco: Ecosystem, name: &str) -> Vec<&Advisory> {
        self.by_package
            .get(&(eco, normalize_name(eco, name)))
            .map(|ids| ids.iter().filter_map(|&i| self.advisories.get(i)).collect())
            .unwrap_or_default()
    }

    /// The advisory with this id or alias (case-insensitive). A live advisory is preferred; a
    /// withdrawn one is returned when that is all there is (its `withdrawn` is set), so that
    /// callers can say "withdrawn" rather than "unknown".
    pub fn get(&self, id_or_alias: &str) -> Option<&Advisory> {
        let (withdrawn, i) = *self.by_id.get(&id_or_alias.trim().to_ascii_uppercase())?;
        if withdrawn {
            self.withdrawn.get(i)
        } else {
            self.advisories.get(i)
        }
    }

    /// Live advisories, sorted by id.
    pub fn iter(&self) -> impl Iterator<Item = &Advisory> {
        self.advisories.iter()
    }

    /// Withdrawn advisories, sorted by id.
    pub fn withdrawn(&self) -> impl Iterator<Item = &Advisory> {
        self.withdrawn.iter()
    }

    /// The number of live advisories (after merging aliases).
    pub fn len(&self) -> usize {
        self.advisories.len()
    }

    pub fn is_empty(&self) -> bool {
        self.advisories.is_empty()
    }

    /// A short provenance line for PR bodies: the number of advisories and the newest
    /// `modified` time among them, e.g. `68 advisories, newest modified 2024-05-01T12:00:00Z`.
    /// The same data gives the same text, whatever the clock.
    pub fn revision(&self) -> String {
        let newest = self
            .advisories
            .iter()
            .chain(&self.withdrawn)
            .filter_map(|a| a.modified)
            .max();
        match newest {
            Some(t) => format!(
                "{} advisories, newest modified {}",
                self.len(),
                t.format("%Y-%m-%dT%H:%M:%SZ")
            ),
            None => format!("{} advisories", self.len()),
        }
    }
}

/// Reads every `*.json` file below `path`, sorted by path so that results do not depend on the
/// file system's order. For combining several directories before
/// [`AdvisoryDb::from_json_records`].
pub fn read_json_records(path: &Path) -> (Vec<(String, String)>, Vec<FileError>) {
    let mut files = Vec::new();
    let mut errors = json_files(path, &mut files);
    let mut records = Vec::new();
    // Thousands of small files: reading them on several threads overlaps the system calls.
    let read = parallel::map(&files, |file| std::fs::read_to_string(file));
    for (file, text) in files.iter().zip(read) {
        let name = file.display().to_string();
        match text {
            Ok(text) => records.push((name, text)),
            Err(e) => errors.push(unreadable_record(name, &e)),
        }
    }
    (records, errors)
}

/// What [`AdvisoryDb::load_dirs`] gives.
#[derive(Debug, Default)]
pub struct LoadedAdvisories {
    pub db: AdvisoryDb,
    /// Directories and files that could not be read.
    pub unreadable: Vec<FileError>,
    /// Files, or parts of them, that were read but are not usable OSV records.
    pub skipped: Vec<FileError>,
}

impl LoadedAdvisories {
    /// The database, and every error: what could not be read, then what could not be used.
    pub fn with_all_errors(mut self) -> (AdvisoryDb, Vec<FileError>) {
        self.unreadable.append(&mut self.skipped);
        (self.db, self.unreadable)
    }
}

/// Appends the `*.json` files below `path` to `files`, sorted by path so that results do not
/// depend on the file system's order; gives the errors met while listing.
fn json_files(path: &Path, files: &mut Vec<PathBuf>) -> Vec<FileError> {
    let mut found = Vec::new();
    let mut errors = Vec::new();
    collect_json_files(path, &mut found, &mut errors);
    // A folder kept by `advisories sync` holds its state beside the records.
    found.retain(|f| *f != path.join(crate::knowledge::STATE_FILE));
    found.sort();
    files.append(&mut found);
    errors
}

fn unreadable_record(file: String, e: &std::io::Error) -> FileError {
    FileError {
        file,
        line: 0,
        message: format!("cannot read the advisory: {e}"),
        ..Default::default()
    }
}

fn collect_json_files(path: &Path, files: &mut Vec<PathBuf>, errors: &mut Vec<FileError>) {
    let io_error = |e: std::io::Error| FileError {
        file: path.display().to_string(),
        line: 0,
        message: format!("cannot read the advisory directory: {e}"),
        ..Default::default()
    };
    let metadata = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) => return errors.push(io_error(e)),
    };
    if metadata.is_file() {
        files.push(path.to_path_buf());
        return;
    }
    let entries = match std::fs::read_dir(path) {
        Ok(entries) => entries,
        Err(e) => return errors.push(io_error(e)),
    };
    for entry in entries {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                errors.push(io_error(e));
                continue;
            }
        };
        let child = entry.path();
        let is_dir = entry.file_type().map(|t| t.is_dir()).unwrap_or(false);
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        if is_dir && !hidden {
            collect_json_files(&child, files, errors);
        } else if child.extension().is_some_and(|e| e == "json") {
            files.push(child);
        }
    }
}

/// Groups records that share an id or alias, directly or through a chain, and merges each
/// group into one advisory.
fn merge_aliases(records: Vec<Advisory>) -> Vec<Advisory> {
    let mut parent: Vec<usize> = (0..records.len()).collect();
    let mut owner: HashMap<String, usize> = HashMap::new();
    for (i, record) in records.iter().enumerate() {
        for id in record.ids() {
            match owner.get(&id.to_ascii_uppercase()) {
                Some(&j) => union(&mut parent, i, j),
                None => {
                    owner.insert(id.to_ascii_uppercase(), i);
                }
            }
        }
    }
    let mut groups: BTreeMap<usize, Vec<Advisory>> = BTreeMap::new();
    for (i, record) in records.into_iter().enumerate() {
        let root = find(&mut parent, i);
        groups.entry(root).or_default().push(record);
    }
    let mut merged: Vec<Advisory> = groups.into_values().map(merge_group).collect();
    merged.sort_by(|a, b| a.id.cmp(&b.id));
    merged
}

fn find(parent: &mut [usize], mut i: usize) -> usize {
    while parent[i] != i {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    i
}

fn union(parent: &mut [usize], a: usize, b: usize) {
    let (ra, rb) = (find(parent, a), find(parent, b));
    if ra != rb {
        parent[ra.max(rb)] = ra.min(rb);
    }
}

/// The rank of an id as the advisory's name: the database native to the ecosystem first, then
/// GHSA, then CVE, then anything else.
fn id_rank(eco: Ecosystem, id: &str) -> u8 {
    let native: &[&str] = match eco {
        Ecosystem::CratesIo => &["RUSTSEC-"],
        Ecosystem::Go => &["GO-"],
        Ecosystem::PyPI => &["PYSEC-"],
        Ecosystem::Npm | Ecosystem::RubyGems | Ecosystem::Packagist => &["GHSA-"],
        Ecosystem::Docker => &[],
        Ecosystem::Debian => &["DSA-", "DLA-", "DTSA-", "DEBIAN-"],
        Ecosystem::Ubuntu => &["USN-", "UBUNTU-"],
        Ecosystem::Alpine => &["ALPINE-"],
    };
    let id = id.to_ascii_uppercase();
    if native.iter().any(|prefix| id.starts_with(prefix)) {
        0
    } else if id.starts_with("GHSA-") {
        1
    } else if id.starts_with("CVE-") {
        2
    } else {
        3
    }
}

/// Merges one group. The ecosystem that decides the preferred id is the one most of the
/// group's `affected` entries name. Severity: the highest CVSS score of the group (an issue is
/// as bad as its worst reading), else the highest label.
fn merge_group(mut group: Vec<Advisory>) -> Advisory {
    if group.len() == 1 {
        if let Some(only) = group.pop() {
            return only;
        }
    }
    let mut counts: BTreeMap<Ecosystem, usize> = BTreeMap::new();
    for a in group.iter().flat_map(|r| &r.affected) {
        *counts.entry(a.ecosystem).or_default() += 1;
    }
    let eco = counts
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
        .map_or(Ecosystem::Npm, |(e, _)| *e);

    let record_ids: Vec<String> = group.iter().map(|r| r.id.clone()).collect();
    let mut names: Vec<String> = group
        .iter()
        .flat_map(|r| r.ids().map(str::to_string))
        .collect();
    names.sort();
    names.dedup();
    let preferred = names
        .iter()
        .min_by_key(|n| (id_rank(eco, n), !record_ids.contains(n), n.as_str()))
        .cloned()
        .unwrap_or_default();

    // The record that carries the preferred id (if one does) leads for the texts; the others
    // follow in id order.
    group.sort_by(|a, b| (a.id != preferred, &a.id).cmp(&(b.id != preferred, &b.id)));
    let first_text = |pick: fn(&Advisory) -> &str| {
        group
            .iter()
            .map(pick)
            .find(|t| !t.is_empty())
            .unwrap_or_default()
            .to_string()
    };
    let summary = first_text(|a| &a.summary);
    let details_head = first_text(|a| &a.details_head);
    let url = group.iter().find_map(|a| a.url.clone());
    let informational = group.iter().find_map(|a| a.informational.clone());
    let published = group.iter().filter_map(|a| a.published).min();
    let modified = group.iter().filter_map(|a| a.modified).max();
    let withdrawn = group.iter().filter_map(|a| a.withdrawn).max();
    let scored = group
        .iter()
        .filter_map(|a| a.cvss_score.map(|s| (s, a)))
        .max_by(|x, y| x.0.total_cmp(&y.0));
    let (severity, cvss_score, cvss_vector) = match scored {
        Some((score, a)) => (a.severity, Some(score), a.cvss_vector.clone()),
        None => (
            group
                .iter()
                .map(|a| a.severity)
                .max()
                .unwrap_or(crate::model::Severity::Unknown),
            None,
            None,
        ),
    };
    let mut affected = Vec::new();
    let mut sources = Vec::new();
    for record in group {
        for entry in record.affected {
            if !affected.contains(&entry) {
                affected.push(entry);
            }
        }
        sources.extend(record.sources);
    }
    sources.sort();
    sources.dedup();
    let aliases = names.into_iter().filter(|n| *n != preferred).collect();
    Advisory {
        id: preferred,
        aliases,
        summary,
        details_head,
        published,
        modified,
        withdrawn,
        url,
        severity,
        cvss_score,
        cvss_vector,
        informational,
        affected,
        sources,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reading and parsing each file in one worker loads what reading every file, then parsing
    /// them all, loads: the same advisories and the same errors, in the same order, across
    /// several folders, a broken record and a file that is not UTF-8 included.
    #[test]
    fn loading_folders_gives_what_reading_then_parsing_gives() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let extra = tempfile::tempdir().unwrap();
        std::fs::write(
            extra.path().join("a-broken.json"),
            "{\"id\": \"X-1\",\n  oops",
        )
        .unwrap();
        std::fs::write(extra.path().join("b-latin1.json"), b"{\"id\": \"caf\xe9\"}").unwrap();
        std::fs::write(
            extra.path().join("c-good.json"),
            r#"{"id": "GHSA-load-0001", "modified": "2026-01-01T00:00:00Z",
                "affected": [{"package": {"ecosystem": "npm", "name": "left-pad"},
                              "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "1.3.0"}]}]}]}"#,
        )
        .unwrap();
        let mut dirs = vec![root.join("fixtures/advisories"), extra.path().to_path_buf()];
        let shared = root.join("../shared/advisories");
        if shared.is_dir() {
            dirs.push(shared);
        }

        let mut records = Vec::new();
        let mut read_errors = Vec::new();
        for dir in &dirs {
            let (found, errors) = read_json_records(dir);
            records.extend(found);
            read_errors.extend(errors);
        }
        let (expected, parse_errors) = AdvisoryDb::from_json_records(&records);

        let loaded = AdvisoryDb::load_dirs(&dirs);
        assert_eq!(loaded.unreadable, read_errors);
        assert_eq!(loaded.skipped, parse_errors);
        assert_eq!(loaded.unreadable.len(), 1, "{:?}", loaded.unreadable);
        assert!(
            loaded
                .skipped
                .iter()
                .any(|e| e.file.ends_with("a-broken.json"))
        );
        let ids = |db: &AdvisoryDb| db.iter().map(|a| a.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&loaded.db), ids(&expected));
        assert!(loaded.db.get("GHSA-load-0001").is_some());
        assert!(loaded.db.iter().eq(expected.iter()));
        assert_eq!(loaded.db.revision(), expected.revision());
    }

    /// `affecting` normalises the name once; it must pick exactly what checking each candidate
    /// with `affects` (which normalises per entry) picks, for every spelling and version.
    #[test]
    fn affecting_agrees_with_affects_on_the_fixtures() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let (db, errors) = AdvisoryDb::load_dir(&root.join("fixtures/advisories"));
        assert!(errors.is_empty(), "{errors:?}");
        let mut checked = 0;
        for advisory in db.iter() {
            for affected in &advisory.affected {
                let eco = affected.ecosystem;
                let mut versions: Vec<Version> = affected.versions.clone();
                for range in &affected.ranges {
                    versions.extend(range.events().iter().filter_map(|e| e.version().cloned()));
                }
                let spellings = [
                    affected.name.clone(),
                    affected.name.to_uppercase(),
                    affected.name.replace('-', "_"),
                ];
                for name in &spellings {
                    for version in &versions {
                        let expected: Vec<&str> = db
                            .for_package(eco, name)
                            .into_iter()
                            .filter(|a| a.affects(eco, name, version))
                            .map(|a| a.id.as_str())
                            .collect();
                        let got: Vec<&str> = db
                            .affecting(eco, name, version)
                            .into_iter()
                            .map(|a| a.id.as_str())
                            .collect();
                        assert_eq!(got, expected, "{eco} {name} {version}");
                        checked += usize::from(!got.is_empty());
                    }
                }
            }
        }
        assert!(
            checked > 50,
            "the fixtures must exercise matches: {checked}"
        );
    }
}
