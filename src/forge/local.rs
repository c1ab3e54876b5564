//! A local checkout: walk it (respecting .gitignore and `--exclude`), read the files the scanner
//! wants, and write fixed files back.

use crate::model::FileError;
use crate::snapshot::{MAX_FILE_BYTES, RepoSnapshot, wants};
use ignore::WalkBuilder;
use ignore::overrides::OverrideBuilder;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    #[error("{path}: not a directory or file that can be scanned")]
    NotFound { path: PathBuf },
    #[error("--exclude `{glob}` is not a valid glob: {reason}")]
    BadExclude { glob: String, reason: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Reads every file of interest under `root`. Honours `.gitignore`, `.ignore` and git's global
/// excludes even outside a git repository (people scan unpacked tarballs too), plus `excludes`
/// (gitignore-style globs relative to `root`). Hidden directories are walked, since
/// `.github/patchwright.toml` lives in one; `.git` itself is skipped.
pub fn read_snapshot(root: &Path, excludes: &[String]) -> Result<RepoSnapshot, LocalError> {
    if !root.exists() {
        return Err(LocalError::NotFound {
            path: root.to_path_buf(),
        });
    }
    let mut overrides = OverrideBuilder::new(root);
    for glob in excludes {
        overrides
            .add(&format!("!{glob}"))
            .map_err(|e| LocalError::BadExclude {
                glob: glob.clone(),
                reason: e.to_string(),
            })?;
    }
    let overrides = overrides.build().map_err(|e| LocalError::BadExclude {
        glob: excludes.join(" "),
        reason: e.to_string(),
    })?;

    let mut snapshot = RepoSnapshot::default();
    let walker = WalkBuilder::new(root)
        .hidden(false)
        .git_ignore(true)
        .require_git(false)
        .overrides(overrides)
        .filter_entry(|e| e.file_name() != ".git")
        .build();
    for entry in walker {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                snapshot.unreadable.push(FileError {
                    file: root.display().to_string(),
                    line: 0,
                    message: e.to_string(),
                    ..Default::default()
                });
                continue;
            }
        };
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        let rel = relative(root, entry.path());
        if !wants(&rel) {
            continue;
        }
        match std::fs::metadata(entry.path()) {
            Ok(m) if m.len() > MAX_FILE_BYTES => {
                snapshot.unreadable.push(FileError {
                    file: rel,
                    line: 0,
                    message: format!("{} bytes is larger than the {MAX_FILE_BYTES}-byte limit; it was not scanned", m.len()),
                    ..Default::default()
                });
                continue;
            }
            _ => {}
        }
        match std::fs::read(entry.path()) {
            Ok(bytes) => snapshot.insert_bytes(rel, bytes),
            Err(e) => snapshot.unreadable.push(FileError {
                file: rel,
                line: 0,
                message: format!("cannot read: {e}"),
                ..Default::default()
            }),
        }
    }
    Ok(snapshot)
}

/// Repository-relative path with `/` separators; a single file scanned on its own keeps its name.
fn relative(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    let rel = if rel.as_os_str().is_empty() {
        Path::new(path.file_name().unwrap_or_default())
    } else {
        rel
    };
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// Writes `content` to `root/rel`, replacing the file atomically (write a sibling, then rename) so
/// an interrupted fix never leaves a half-written manifest.
pub fn write_file(root: &Path, rel: &str, content: &str) -> Result<(), LocalError> {
    let path = root.join(rel);
    let tmp = path.with_extension("patchwright-tmp");
    let io = |source| LocalError::Io {
        path: path.clone(),
        source,
    };
    std::fs::write(&tmp, content).map_err(io)?;
    if let Ok(meta) = std::fs::metadata(&path) {
        let _ = std::fs::set_permissions(&tmp, meta.permissions());
    }
    std::fs::rename(&tmp, &path).map_err(io)
}
