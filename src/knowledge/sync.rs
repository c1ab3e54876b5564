//! One ecosystem's sync: full from `all.zip`, or incremental from `modified_id.csv`. Everything
//! is fetched and verified in memory before the disk is touched, so a failure of any kind keeps
//! the last good data.

use super::diff::{Changes, RecordMeta, diff};
use super::http::{FetchError, Fetched, MirrorClient};
use super::plan::{CsvError, is_safe_id, parse_modified_csv, plan_incremental};
use super::store::{self, IoError};
use crate::model::FileError;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

#[derive(Debug, Clone)]
pub struct SyncRequest<'a> {
    /// The base URL: osv.dev's bucket or a mirror with its layout.
    pub mirror: &'a str,
    /// As osv.dev spells it: `npm`, `PyPI`, `crates.io`, `Go`.
    pub ecosystem: &'a str,
    pub dir: &'a Path,
    /// Take `all.zip` (conditionally) even when an incremental sync could run.
    pub full: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncKind {
    /// A new `all.zip` replaced the folder.
    Full,
    /// The mirror answered 304 to the conditional request for `all.zip`.
    Unchanged,
    /// Only records listed in `modified_id.csv` as newer were fetched.
    Incremental,
}

#[derive(Debug, Clone)]
pub struct Outcome {
    pub kind: SyncKind,
    pub changes: Changes,
    /// Records fetched (full: in the export).
    pub fetched: usize,
    /// Records kept on disk that patchwright's OSV reader refuses (a version it cannot parse):
    /// a scan skips them with the same warning.
    pub unreadable: Vec<FileError>,
}

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("`{0}` is not an ecosystem name")]
    Ecosystem(String),
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error("{url}: the mirror has no such file (404)")]
    Missing { url: String },
    #[error("{url}: not a valid zip archive: {message}")]
    Zip { url: String, message: String },
    #[error("{url}: {file}: not an OSV record: {message}")]
    Record {
        url: String,
        file: String,
        message: String,
    },
    #[error("{url}: the export holds no records")]
    Empty { url: String },
    #[error("{url}: {source}")]
    Csv {
        url: String,
        #[source]
        source: CsvError,
    },
    #[error(transparent)]
    Io(#[from] IoError),
}

/// Syncs one ecosystem into `DIR/<ecosystem>/` and records the new state in `DIR/state.json`.
/// Incremental when a previous sync left a cursor and its folder, unless `full` is asked.
pub async fn sync_ecosystem(
    client: &MirrorClient,
    request: &SyncRequest<'_>,
) -> Result<Outcome, SyncError> {
    if !is_safe_id(request.ecosystem) {
        return Err(SyncError::Ecosystem(request.ecosystem.to_string()));
    }
    store::recover_folder(request.dir, request.ecosystem)?;
    let state = store::read_state(request.dir)?;
    let previous = state.ecosystems.get(request.ecosystem);
    let folder = request.dir.join(request.ecosystem);
    let base = format!(
        "{}/{}",
        request.mirror.trim_end_matches('/'),
        request.ecosystem
    );
    let have_data = folder.is_dir();
    match previous.and_then(|p| p.cursor) {
        Some(cursor) if have_data && !request.full => {
            let (outcome, cursor) =
                incremental(client, &base, request.ecosystem, &folder, cursor).await?;
            store::write_state(
                request.dir,
                &state.after_incremental(request.ecosystem, cursor),
            )?;
            Ok(outcome)
        }
        _ => {
            // Validators are only worth sending when the data they describe is still there.
            let (etag, last_modified) = match previous.filter(|_| have_data) {
                Some(p) => (p.etag.as_deref(), p.last_modified.as_deref()),
                None => (None, None),
            };
            let url = format!("{base}/all.zip");
            let (body, etag, last_modified) = match client.get(&url, etag, last_modified).await? {
                Fetched::NotModified => {
                    return Ok(Outcome {
                        kind: SyncKind::Unchanged,
                        changes: Changes::default(),
                        fetched: 0,
                        unreadable: Vec::new(),
                    });
                }
                Fetched::NotFound => return Err(SyncError::Missing { url }),
                Fetched::Body {
                    body,
                    etag,
                    last_modified,
                } => (body, etag, last_modified),
            };
            let records = read_export(&url, &body)?;
            if records.is_empty() {
                return Err(SyncError::Empty { url });
            }
            let new: BTreeMap<String, RecordMeta> = records
                .iter()
                .map(|(meta, _)| (meta.id.clone(), meta.clone()))
                .collect();
            let newest = new.values().map(|m| m.modified).max();
            let unreadable = check_records(request.ecosystem, &records);
            let old = store::read_metas(&folder)?;
            let changes = diff(&old, &new);
            let files: Vec<(String, String)> = records
                .into_iter()
                .map(|(meta, json)| (meta.id, json))
                .collect();
            store::replace_folder(request.dir, request.ecosystem, &files)?;
            store::write_state(
                request.dir,
                &state.after_full(request.ecosystem, etag, last_modified, newest),
            )?;
            Ok(Outcome {
                kind: SyncKind::Full,
                changes,
                fetched: files.len(),
                unreadable,
            })
        }
    }
}

async fn incremental(
    client: &MirrorClient,
    base: &str,
    ecosystem: &str,
    folder: &Path,
    since: chrono::DateTime<chrono::Utc>,
) -> Result<(Outcome, chrono::DateTime<chrono::Utc>), SyncError> {
    let url = format!("{base}/modified_id.csv");
    let text = match client.get(&url, None, None).await? {
        Fetched::Body { body, .. } => String::from_utf8_lossy(&body).into_owned(),
        Fetched::NotModified => String::new(),
        Fetched::NotFound => return Err(SyncError::Missing { url }),
    };
    let entries = parse_modified_csv(&text).map_err(|source| SyncError::Csv {
        url: url.clone(),
        source,
    })?;
    let (ids, cursor) = plan_incremental(&entries, since);

    let mut records = Vec::new();
    for id in &ids {
        let url = format!("{base}/{id}.json");
        let body = match client.get(&url, None, None).await? {
            Fetched::Body { body, .. } => body,
            // Listed but gone: nothing to take; the file on disk, if any, stays.
            Fetched::NotFound | Fetched::NotModified => continue,
        };
        let (meta, json) = read_record(&url, &format!("{id}.json"), &body)?;
        if meta.id != *id {
            return Err(SyncError::Record {
                url,
                file: format!("{id}.json"),
                message: format!("the record's id is `{}`", meta.id),
            });
        }
        records.push((meta, json));
    }
    let unreadable = check_records(ecosystem, &records);
    let mut old = BTreeMap::new();
    for (meta, _) in &records {
        if let Some(before) = store::read_meta(&folder.join(format!("{}.json", meta.id)))? {
            old.insert(before.id.clone(), before);
        }
    }
    let new: BTreeMap<String, RecordMeta> = records
        .iter()
        .map(|(meta, _)| (meta.id.clone(), meta.clone()))
        .collect();
    let changes = diff(&old, &new);
    let files: Vec<(String, String)> = records
        .into_iter()
        .map(|(meta, json)| (meta.id, json))
        .collect();
    store::write_records(folder, &files)?;
    Ok((
        Outcome {
            kind: SyncKind::Incremental,
            changes,
            fetched: files.len(),
            unreadable,
        },
        cursor,
    ))
}

/// Reads every `*.json` entry of an export. The zip reader checks each entry's CRC, so a
/// truncated or corrupted download fails here rather than on disk.
fn read_export(url: &str, body: &[u8]) -> Result<Vec<(RecordMeta, String)>, SyncError> {
    let zip_error = |e: zip::result::ZipError| SyncError::Zip {
        url: url.to_string(),
        message: e.to_string(),
    };
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(body)).map_err(zip_error)?;
    let mut records = Vec::with_capacity(archive.len());
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).map_err(zip_error)?;
        if entry.is_dir() || !entry.name().ends_with(".json") {
            continue;
        }
        let name = entry.name().to_string();
        let mut bytes = Vec::with_capacity(usize::try_from(entry.size()).unwrap_or(0));
        entry.read_to_end(&mut bytes).map_err(|e| SyncError::Zip {
            url: url.to_string(),
            message: format!("{name}: {e}"),
        })?;
        records.push(read_record(url, &name, &bytes)?);
    }
    Ok(records)
}

/// One record's text and metadata; refuses what is not an OSV record or has an id that cannot
/// be a file name.
fn read_record(url: &str, file: &str, bytes: &[u8]) -> Result<(RecordMeta, String), SyncError> {
    let fail = |message: String| SyncError::Record {
        url: url.to_string(),
        file: file.to_string(),
        message,
    };
    let json = String::from_utf8(bytes.to_vec()).map_err(|_| fail("not UTF-8".to_string()))?;
    let meta = RecordMeta::read(&json).map_err(|e| fail(e.to_string()))?;
    if !is_safe_id(&meta.id) {
        return Err(fail(format!("`{}` cannot name a file", meta.id)));
    }
    Ok((meta, json))
}

/// Runs patchwright's own OSV reader over the records, as a scan would, and returns what it
/// refuses. These are kept: a record with one version it cannot parse is still a valid OSV
/// record, and the scan skips it with a warning; refusing the whole export for it would stop
/// every sync of a real ecosystem.
fn check_records(ecosystem: &str, records: &[(RecordMeta, String)]) -> Vec<FileError> {
    records
        .iter()
        .filter_map(|(meta, json)| {
            crate::catalog::osv::parse_record(&format!("{ecosystem}/{}.json", meta.id), json).err()
        })
        .collect()
}
