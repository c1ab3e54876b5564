//! A local checkout: find the project root, walk the scanned directory (respecting .gitignore and
//! `--exclude`, following symlinks that stay inside the root), read the files the scanner wants,
//! and write fixed files back.

use crate::infra::parallel;
use crate::model::FileError;
use crate::policy::REPO_CONFIG_PATH;
use crate::snapshot::{Decoded, MAX_FILE_BYTES, RepoSnapshot, wants};
use ignore::WalkBuilder;
use ignore::overrides::{Override, OverrideBuilder};
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

/// What the CLI scans: the files under `path`, named from the project root that holds them.
#[derive(Debug, Clone)]
pub struct Checkout {
    /// The project root (canonical): the snapshot's paths are relative to it, its
    /// `.github/patchwright.toml` applies, and fixes are written under it.
    pub root: PathBuf,
    /// The scanned path relative to `root`, `/`-separated; empty when the whole root is scanned.
    pub scope: String,
    pub snapshot: RepoSnapshot,
}

impl Checkout {
    /// Whether only part of the project was scanned (exceptions for the rest cannot be judged).
    pub fn is_partial(&self) -> bool {
        !self.scope.is_empty()
    }
}

/// The project root of `path`: the nearest directory at or above it that is a git work tree
/// (holds `.git`) or holds its own `.github/patchwright.toml` (a project kept inside another
/// repository, like `examples/demo`); `path` itself (or its directory) when there is none.
pub fn project_root(path: &Path) -> Result<PathBuf, LocalError> {
    let path = canonical(path)?;
    let start = if path.is_dir() {
        path.clone()
    } else {
        path.parent().map(Path::to_path_buf).unwrap_or_default()
    };
    Ok(start
        .ancestors()
        .find(|dir| dir.join(".git").exists() || dir.join(REPO_CONFIG_PATH).is_file())
        .unwrap_or(&start)
        .to_path_buf())
}

fn canonical(path: &Path) -> Result<PathBuf, LocalError> {
    path.canonicalize().map_err(|_| LocalError::NotFound {
        path: path.to_path_buf(),
    })
}

/// Reads every file of interest under `path`, named from its project root (see
/// [`project_root`]), plus the root's repository config and CODEOWNERS when `path` is only part
/// of the project. `excludes` are gitignore-style globs relative to `path`.
pub fn read_checkout(path: &Path, excludes: &[String]) -> Result<Checkout, LocalError> {
    read_checkout_with(path, excludes, |_, _| None::<()>).map(|(checkout, _)| checkout)
}

/// [`read_checkout`], handing each file's text to `each` as soon as it is read, on the thread
/// that read it: files are read on several threads, and a caller that parses them there need not
/// wait for the whole checkout, nor keep a text it is done with (`each` may empty it). Gives
/// what `each` returned, in no particular order.
pub fn read_checkout_with<T, F>(
    path: &Path,
    excludes: &[String],
    each: F,
) -> Result<(Checkout, Vec<T>), LocalError>
where
    T: Send,
    F: Fn(&str, &mut String) -> Option<T> + Sync,
{
    let root = project_root(path)?;
    let scanned = canonical(path)?;
    let scope = relative(&root, &scanned);
    let scope = if scanned == root {
        String::new()
    } else {
        scope
    };
    let mut listed = list(&root, &scanned, excludes)?;
    if !scope.is_empty() {
        for extra in std::iter::once(REPO_CONFIG_PATH).chain(crate::owners::LOCATIONS) {
            let file = root.join(extra);
            let listed_already = listed
                .iter()
                .any(|l| matches!(l, Listed::File { rel, .. } if rel == extra));
            if !listed_already && file.is_file() {
                listed.push(listed_file(file, extra.to_string()));
            }
        }
    }
    let (snapshot, found) = read_listed(listed, each);
    Ok((
        Checkout {
            root,
            scope,
            snapshot,
        },
        found,
    ))
}

/// Reads every file of interest under `root`, with paths relative to `root` itself (no search
/// for a project root). Honours `.gitignore`, `.ignore` and git's global excludes even outside a
/// git repository (people scan unpacked tarballs too), plus `excludes` (gitignore-style globs
/// relative to `root`). Hidden directories are walked, since `.github/patchwright.toml` lives
/// in one; `.git` itself is skipped.
pub fn read_snapshot(root: &Path, excludes: &[String]) -> Result<RepoSnapshot, LocalError> {
    let root = canonical(root)?;
    let base = if root.is_dir() {
        root.clone()
    } else {
        root.parent().map(Path::to_path_buf).unwrap_or_default()
    };
    let listed = list(&base, &root, excludes)?;
    Ok(read_listed(listed, |_, _| None::<()>).0)
}

/// Whether `file` (relative to the project root) is read from the root even when only part of
/// the project is scanned: the repository config and CODEOWNERS.
pub fn is_root_extra(file: &str) -> bool {
    file == REPO_CONFIG_PATH || crate::owners::LOCATIONS.contains(&file)
}

/// The `--exclude` globs as a matcher of absolute paths under `path` (the scanned path).
pub fn exclusions(path: &Path, excludes: &[String]) -> Result<Override, LocalError> {
    overrides(&canonical(path)?, excludes)
}

/// Whether `file` (absolute) is excluded by `exclusions`, itself or through a directory above
/// it (the walk prunes excluded directories; a file read from elsewhere must be judged the same).
pub fn is_excluded(exclusions: &Override, file: &Path) -> bool {
    if exclusions.matched(file, false).is_ignore() {
        return true;
    }
    file.ancestors()
        .skip(1)
        .take_while(|dir| dir.starts_with(exclusions.path()))
        .any(|dir| exclusions.matched(dir, true).is_ignore())
}

fn overrides(path: &Path, excludes: &[String]) -> Result<Override, LocalError> {
    let mut overrides = OverrideBuilder::new(path);
    for glob in excludes {
        overrides
            .add(&format!("!{glob}"))
            .map_err(|e| LocalError::BadExclude {
                glob: glob.clone(),
                reason: e.to_string(),
            })?;
    }
    overrides.build().map_err(|e| LocalError::BadExclude {
        glob: excludes.join(" "),
        reason: e.to_string(),
    })
}

/// Walks `path` (inside `root`, both canonical), naming files relative to `root`. Symlinks are
/// followed so a linked Dockerfile is scanned, but only to targets inside `root` (a link out of
/// the project is reported, not read); the walker itself reports link loops.
fn list(root: &Path, path: &Path, excludes: &[String]) -> Result<Vec<Listed>, LocalError> {
    let mut listed = Vec::new();
    let skipped = |file: String, message: String| {
        Listed::Skipped(FileError {
            file,
            line: 0,
            message,
            ..Default::default()
        })
    };
    let walker = WalkBuilder::new(path)
        .hidden(false)
        .git_ignore(true)
        .require_git(false)
        .follow_links(true)
        .overrides(overrides(path, excludes)?)
        .filter_entry(|e| e.file_name() != ".git")
        .build();
    for entry in walker {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                listed.push(skipped(relative(root, path), format!("skipped: {e}")));
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
        // Any component of the path may be a followed link: judge where the file really is.
        match entry.path().canonicalize() {
            Ok(target) if target.starts_with(root) => {}
            Ok(target) => {
                let message = format!(
                    "a symlink to {}, outside the scanned project; it was not read",
                    target.display()
                );
                listed.push(skipped(rel, message));
                continue;
            }
            Err(e) => {
                listed.push(skipped(rel, format!("cannot follow: {e}")));
                continue;
            }
        }
        listed.push(listed_file(entry.into_path(), rel));
    }
    Ok(listed)
}

/// One step of the walk, in walk order: a file to read, or why one is not read.
enum Listed {
    File {
        path: PathBuf,
        rel: String,
        len: u64,
    },
    Skipped(FileError),
}

fn listed_file(path: PathBuf, rel: String) -> Listed {
    let len = std::fs::metadata(&path).map_or(0, |m| m.len());
    if len > MAX_FILE_BYTES {
        return Listed::Skipped(FileError {
            file: rel,
            line: 0,
            message: format!(
                "{len} bytes is larger than the {MAX_FILE_BYTES}-byte limit; it was not scanned"
            ),
            ..Default::default()
        });
    }
    Listed::File { path, rel, len }
}

/// Reads the listed files (on several threads when there is enough to read), handing each text
/// to `each`; the snapshot holds them, and the errors, in walk order.
fn read_listed<T, F>(listed: Vec<Listed>, each: F) -> (RepoSnapshot, Vec<T>)
where
    T: Send,
    F: Fn(&str, &mut String) -> Option<T> + Sync,
{
    let weight = |l: &Listed| match l {
        Listed::File { len, .. } => usize::try_from(*len).unwrap_or(usize::MAX),
        Listed::Skipped(_) => 0,
    };
    let bytes = listed.iter().map(weight).fold(0, usize::saturating_add);
    let threads = parallel::threads_for_bytes(bytes);
    let read = parallel::map_weighted(&listed, threads, weight, |l| match l {
        Listed::File { path, rel, .. } => Some(std::fs::read(path).map(|bytes| {
            let mut decoded = Decoded::new(rel, bytes);
            let found = each(rel, &mut decoded.text);
            (decoded, found)
        })),
        Listed::Skipped(_) => None,
    });
    let mut snapshot = RepoSnapshot::default();
    let mut found = Vec::new();
    for (listed, read) in listed.into_iter().zip(read) {
        match (listed, read) {
            (Listed::File { rel, .. }, Some(Ok((decoded, each_found)))) => {
                snapshot.insert_decoded(rel, decoded);
                found.extend(each_found);
            }
            (Listed::File { rel, .. }, Some(Err(e))) => snapshot.unreadable.push(FileError {
                file: rel,
                line: 0,
                message: format!("cannot read: {e}"),
                ..Default::default()
            }),
            (Listed::Skipped(e), _) => snapshot.unreadable.push(e),
            (Listed::File { .. }, None) => {}
        }
    }
    (snapshot, found)
}

/// `path` relative to `root` with `/` separators; `root` itself gives its own name.
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
/// an interrupted fix never leaves a half-written manifest. A symlink is written through: its
/// target (inside the root, as the walk checked) changes, and the link stays a link.
pub fn write_file(root: &Path, rel: &str, content: &str) -> Result<(), LocalError> {
    let path = root.join(rel);
    let path = path.canonicalize().unwrap_or(path);
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
