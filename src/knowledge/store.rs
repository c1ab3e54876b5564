//! The disk edge: the record folders and the state file, each replaced atomically so a reader
//! (or a crash) never sees half of a sync.

use super::diff::RecordMeta;
use super::state::SyncState;
use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
#[error("{}: {source}", path.display())]
pub struct IoError {
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> IoError + '_ {
    move |source| IoError {
        path: path.to_path_buf(),
        source,
    }
}

/// Reads `DIR/state.json`; a missing file is the empty state (nothing synced yet).
pub fn read_state(dir: &Path) -> Result<SyncState, IoError> {
    let path = dir.join(super::STATE_FILE);
    match fs::read_to_string(&path) {
        Ok(text) => serde_json::from_str(&text).map_err(|e| IoError {
            path,
            source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(SyncState::default()),
        Err(e) => Err(io(&path)(e)),
    }
}

pub fn write_state(dir: &Path, state: &SyncState) -> Result<(), IoError> {
    let text = serde_json::to_string_pretty(state).map_err(|e| IoError {
        path: dir.join(super::STATE_FILE),
        source: std::io::Error::other(e),
    })?;
    write_atomically(&dir.join(super::STATE_FILE), text.as_bytes())
}

/// The metadata of the records on disk in `folder` (`<ID>.json` files); an absent folder holds
/// none. A file that is not a record is left out: it did not come from a sync.
pub fn read_metas(folder: &Path) -> Result<BTreeMap<String, RecordMeta>, IoError> {
    let mut metas = BTreeMap::new();
    let entries = match fs::read_dir(folder) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(metas),
        Err(e) => return Err(io(folder)(e)),
    };
    for entry in entries {
        let path = entry.map_err(io(folder))?.path();
        if path.extension().is_some_and(|e| e == "json")
            && let Some(meta) = read_meta(&path)?
        {
            metas.insert(meta.id.clone(), meta);
        }
    }
    Ok(metas)
}

/// The metadata of one record file, `None` when it is absent or not a record.
pub fn read_meta(path: &Path) -> Result<Option<RecordMeta>, IoError> {
    match fs::read_to_string(path) {
        Ok(text) => Ok(RecordMeta::read(&text).ok()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io(path)(e)),
    }
}

/// Replaces `DIR/<ecosystem>/` with exactly `records` (`(id, json)`): written into a hidden
/// folder beside it (the advisory reader skips hidden folders), then swapped in by renames.
/// Between the two renames the folder is briefly absent, never half-written.
pub fn replace_folder(
    dir: &Path,
    ecosystem: &str,
    records: &[(String, String)],
) -> Result<(), IoError> {
    let pid = std::process::id();
    let staging = dir.join(format!(".sync-{ecosystem}-{pid}"));
    let retired = dir.join(format!(".old-{ecosystem}-{pid}"));
    let target = dir.join(ecosystem);
    fs::create_dir_all(dir).map_err(io(dir))?;
    for leftover in [&staging, &retired] {
        if leftover.exists() {
            fs::remove_dir_all(leftover).map_err(io(leftover))?;
        }
    }
    let result = (|| {
        fs::create_dir(&staging).map_err(io(&staging))?;
        for (id, json) in records {
            let path = staging.join(format!("{id}.json"));
            fs::write(&path, json).map_err(io(&path))?;
        }
        sync_dir(&staging)?;
        if target.exists() {
            fs::rename(&target, &retired).map_err(io(&target))?;
        }
        fs::rename(&staging, &target).map_err(io(&target))
    })();
    if result.is_err() {
        // Put the last good folder back if the swap got half way.
        if !target.exists() && retired.exists() {
            let _ = fs::rename(&retired, &target);
        }
        let _ = fs::remove_dir_all(&staging);
    } else if retired.exists() {
        fs::remove_dir_all(&retired).map_err(io(&retired))?;
    }
    result
}

/// Puts back the folder a crash left retired between the two renames of [`replace_folder`], so
/// the last good data is found again.
pub fn recover_folder(dir: &Path, ecosystem: &str) -> Result<(), IoError> {
    let target = dir.join(ecosystem);
    if target.exists() {
        return Ok(());
    }
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io(dir)(e)),
    };
    let prefix = format!(".old-{ecosystem}-");
    for entry in entries {
        let entry = entry.map_err(io(dir))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name
            .strip_prefix(&prefix)
            .is_some_and(|pid| pid.parse::<u32>().is_ok())
        {
            return fs::rename(entry.path(), &target).map_err(io(&target));
        }
    }
    Ok(())
}

/// Writes or overwrites single records in `DIR/<ecosystem>/`, each atomically.
pub fn write_records(folder: &Path, records: &[(String, String)]) -> Result<(), IoError> {
    fs::create_dir_all(folder).map_err(io(folder))?;
    for (id, json) in records {
        write_atomically(&folder.join(format!("{id}.json")), json.as_bytes())?;
    }
    Ok(())
}

/// Writes a hidden temporary file beside `path`, flushes it to disk and renames it over `path`.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), IoError> {
    let parent = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(parent).map_err(io(parent))?;
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let temp = parent.join(format!(".{name}.{}.tmp", std::process::id()));
    let written = (|| {
        let mut file = fs::File::create(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()
    })();
    if let Err(e) = written {
        let _ = fs::remove_file(&temp);
        return Err(io(&temp)(e));
    }
    fs::rename(&temp, path).map_err(io(path))
}

fn sync_dir(path: &Path) -> Result<(), IoError> {
    fs::File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(io(path))
}
