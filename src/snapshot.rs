//! The files of one repository that the scanner wants, at one point in time.

use crate::manifest;
use crate::model::{EditMode, FileError, ParsedManifest};
use crate::policy::REPO_CONFIG_PATH;
use std::collections::{BTreeMap, BTreeSet};

/// Repository-relative path (with `/`) → content. Only manifests and the repository config are
/// kept: nothing else is ever read or fetched.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RepoSnapshot {
    pub files: BTreeMap<String, String>,
    /// Files of interest that could not be read (not UTF-8, too large, I/O error).
    pub unreadable: Vec<FileError>,
    /// The commit the files were read at, when known.
    pub commit: Option<String>,
    /// Files that were not valid UTF-8 and were decoded lossily: scanned, but never rewritten
    /// (writing the decoded text back would replace their bytes with U+FFFD).
    pub lossy: BTreeSet<String>,
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

    /// Turns raw bytes into text and keeps it (see [`Decoded::new`]).
    pub fn insert_bytes(&mut self, path: String, bytes: Vec<u8>) {
        let decoded = Decoded::new(&path, bytes);
        self.insert_decoded(path, decoded);
    }

    /// Keeps a file's decoded text, and the note on its invalid bytes when it had some.
    pub fn insert_decoded(&mut self, path: String, decoded: Decoded) {
        if let Some(invalid) = decoded.invalid {
            self.unreadable.push(invalid);
            self.lossy.insert(path.clone());
        }
        self.files.insert(path, decoded.text);
    }
}

/// A file's bytes as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    pub text: String,
    /// Where the first byte that is not UTF-8 is, when there is one.
    pub invalid: Option<FileError>,
}

impl Decoded {
    /// Manifests are UTF-8, but one stray byte (a Latin-1 "café" in a comment) must not hide the
    /// whole file from the scan: invalid bytes are decoded as U+FFFD, the file is scanned, and
    /// `invalid` says where the first bad byte is.
    pub fn new(path: &str, bytes: Vec<u8>) -> Decoded {
        match String::from_utf8(bytes) {
            Ok(text) => Decoded {
                text,
                invalid: None,
            },
            Err(e) => {
                let bytes = e.into_bytes();
                let (first, lines) = invalid_lines(&bytes);
                let more = match lines {
                    0 | 1 => String::new(),
                    n => format!(" (and on {} more line(s))", n - 1),
                };
                Decoded {
                    text: String::from_utf8_lossy(&bytes).into_owned(),
                    invalid: Some(FileError {
                        file: path.to_string(),
                        line: first.line,
                        message: format!(
                            "byte 0x{:02X} is not valid UTF-8{more}; it was read as U+FFFD and the rest of the file was scanned, but `fix` will not rewrite it: save the file as UTF-8",
                            first.byte
                        ),
                        ..Default::default()
                    }),
                }
            }
        }
    }
}

/// Whether nothing after parsing reads the text `m` (a `kind` file) was parsed from: a lockfile whose entries
/// all need a re-lock gets no edit (its fixes are commands), so only the parser reads its bytes.
/// Requirements files are kept whatever they hold: the scan reads their `-r` includes again
/// ([`manifest::requirements::missing_includes`]). Not for `fix`, whose re-lock reads them.
pub fn releasable(kind: manifest::ManifestKind, m: &ParsedManifest) -> bool {
    kind != manifest::ManifestKind::Requirements
        && !m.dependencies.is_empty()
        && m.dependencies
            .iter()
            .all(|d| matches!(d.edit_mode, EditMode::NeedsRelock { .. }))
}

/// The first invalid byte of a file.
struct BadByte {
    /// 1-based.
    line: u32,
    byte: u8,
}

/// Where the first invalid UTF-8 byte is, and on how many lines there are invalid bytes.
fn invalid_lines(bytes: &[u8]) -> (BadByte, usize) {
    let mut first = None;
    let mut lines = std::collections::BTreeSet::new();
    let mut offset = 0;
    for chunk in bytes.utf8_chunks() {
        offset += chunk.valid().len();
        let invalid = chunk.invalid();
        if !invalid.is_empty() {
            let line = bytes[..offset].iter().filter(|&&b| b == b'\n').count() as u32 + 1;
            lines.insert(line);
            first.get_or_insert(BadByte {
                line,
                byte: invalid[0],
            });
        }
        offset += invalid.len();
    }
    let first = first.unwrap_or(BadByte { line: 1, byte: 0 });
    (first, lines.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_new_lockfiles_and_image_yaml_are_wanted() {
        for path in [
            "web/pnpm-lock.yaml",
            "uv.lock",
            "Pipfile.lock",
            "Gemfile.lock",
            "composer.lock",
            "compose.yaml",
            "deploy/docker-compose.prod.yml",
            "k8s/api.yaml",
            "chart/values.yaml",
            ".github/workflows/ci.yml",
        ] {
            assert!(wants(path), "{path}");
        }
        for path in [
            "Pipfile",
            "Gemfile",
            "composer.json",
            "README.md",
            "notes.txt",
        ] {
            assert!(!wants(path), "{path}");
        }
    }

    #[test]
    fn a_latin1_byte_is_reported_at_its_line_and_the_file_is_still_read() {
        let mut snapshot = RepoSnapshot::default();
        snapshot.insert_bytes(
            "Dockerfile".to_string(),
            b"# caf\xe9\nFROM node:16.20.2-alpine\n# na\xefve \xe9\n".to_vec(),
        );
        let text = &snapshot.files["Dockerfile"];
        assert!(text.contains("\nFROM node:16.20.2-alpine\n"), "{text:?}");
        assert!(snapshot.lossy.contains("Dockerfile"));
        assert_eq!(snapshot.unreadable.len(), 1, "{:?}", snapshot.unreadable);
        let e = &snapshot.unreadable[0];
        assert_eq!(e.line, 1);
        assert!(e.message.contains("0xE9"), "{}", e.message);
        assert!(e.message.contains("1 more line"), "{}", e.message);

        let mut clean = RepoSnapshot::default();
        clean.insert_bytes("Dockerfile".to_string(), b"FROM alpine\n".to_vec());
        assert!(clean.unreadable.is_empty() && clean.lossy.is_empty());
    }
}
