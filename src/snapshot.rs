//! The files of one repository that the scanner wants, at one point in time.

use crate::manifest;
use crate::model::FileError;
use crate::policy::REPO_CONFIG_PATH;
use std::collections::BTreeMap;

/// Repository-relative path (with `/`) → content. Only manifests and the repository config are
/// kept: nothing else is ever read or fetched.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RepoSnapshot {
    pub files: BTreeMap<String, String>,
    /// Files of interest that could not be read (not UTF-8, too large, I/O error).
    pub unreadable: Vec<FileError>,
    /// The commit the files were read at, when known.
    pub commit: Option<String>,
}

/// Whether a file at `path` is one the scanner reads: manifests, the repository config, and
/// CODEOWNERS (who to assign and ask for review).
pub fn wants(path: &str) -> bool {
    path == REPO_CONFIG_PATH
        || crate::owners::LOCATIONS.contains(&path)
        || manifest::detect(path).is_some()
}

/// Files larger than this are reported, not read: no real manifest comes near it, and a
/// generated blob that size would only slow every scan down.
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

impl RepoSnapshot {
    pub fn from_files<I, P, C>(files: I) -> RepoSnapshot
    where
        I: IntoIterator<Item = (P, C)>,
        P: Into<String>,
        C: Into<String>,
    {
        RepoSnapshot {
            files: files
                .into_iter()
                .map(|(p, c)| (p.into(), c.into()))
                .collect(),
            ..Default::default()
        }
    }

    /// Turns raw bytes into text, or records why it can't: manifests are UTF-8 text, so
    /// anything else is reported rather than guessed at.
    pub fn insert_bytes(&mut self, path: String, bytes: Vec<u8>) {
        match String::from_utf8(bytes) {
            Ok(text) => {
                self.files.insert(path, text);
            }
            Err(e) => {
                let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
                let line = valid.iter().filter(|&&b| b == b'\n').count() as u32 + 1;
                self.unreadable.push(FileError {
                    file: path,
                    line,
                    message:
                        "the file is not valid UTF-8 text; save it as UTF-8 so it can be scanned"
                            .to_string(),
                    ..Default::default()
                });
            }
        }
    }
}
