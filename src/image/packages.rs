//! The OS package databases: dpkg's `status` (and distroless `status.d/*`) and apk's
//! `installed`. Pure functions over bytes; a paragraph that cannot be read becomes a note with
//! its line, and the rest is still read.

use serde::{Deserialize, Serialize};

/// One installed OS package.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct OsPackage {
    /// The binary package name (`libssl3`).
    pub name: String,
    /// The installed version (`3.0.11-1~deb12u2`).
    pub version: String,
    /// The name advisories use: Debian's `Source:` (`openssl`), Alpine's origin (`o:`); the
    /// binary name when the database gives none.
    pub source: String,
    /// The source version advisories compare: Debian's `Source: name (version)` when given
    /// (binNMUs), else the binary's version.
    pub source_version: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub arch: String,
}

/// Something in a package database that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DbNote {
    pub line: u32,
    pub message: String,
}

/// A package database as read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageDb {
    pub packages: Vec<OsPackage>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<DbNote>,
}

/// One `Key: value` paragraph with the line it starts on.
struct Paragraph<'a> {
    line: u32,
    fields: Vec<(&'a str, &'a str)>,
}

impl<'a> Paragraph<'a> {
    fn get(&self, key: &str) -> Option<&'a str> {
        self.fields
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.trim())
    }
}

/// Splits deb822 text into paragraphs (blank lines between them; continuation lines, which
/// start with a space, belong to the field before and are not needed here).
fn paragraphs(text: &str) -> Vec<Paragraph<'_>> {
    let mut out = Vec::new();
    let mut current: Option<Paragraph<'_>> = None;
    for (index, line) in text.lines().enumerate() {
        let number = u32::try_from(index + 1).unwrap_or(u32::MAX);
        if line.trim().is_empty() {
            out.extend(current.take());
            continue;
        }
        let paragraph = current.get_or_insert_with(|| Paragraph {
            line: number,
            fields: Vec::new(),
        });
        if line.starts_with([' ', '\t']) {
            continue;
        }
        if let Some((key, value)) = line.split_once(':') {
            paragraph.fields.push((key.trim(), value));
        }
    }
    out.extend(current);
    out
}

/// A field's value, unless it is empty.
fn present(value: Option<&str>) -> Option<&str> {
    value.filter(|v| !v.is_empty())
}

/// Reads a dpkg `status` file, or one file of distroless's `status.d/`. Only packages whose
/// `Status` says `installed` count (a file of `status.d/` has no `Status`: it is installed).
pub fn parse_dpkg_status(bytes: &[u8]) -> PackageDb {
    let text = String::from_utf8_lossy(bytes);
    let mut db = PackageDb::default();
    for paragraph in paragraphs(&text) {
        if let Some(status) = paragraph.get("Status") {
            if status.split_whitespace().last() != Some("installed") {
                continue;
            }
        }
        let (Some(name), Some(version)) = (
            present(paragraph.get("Package")),
            present(paragraph.get("Version")),
        ) else {
            db.notes.push(DbNote {
                line: paragraph.line,
                message: "a package entry without `Package` or `Version`; skipped".to_string(),
            });
            continue;
        };
        let (source, source_version) = match paragraph.get("Source") {
            Some(source) => match source.split_once('(') {
                Some((source, version)) => (
                    source.trim(),
                    version.trim_end().trim_end_matches(')').trim(),
                ),
                None => (source, version),
            },
            None => (name, version),
        };
        db.packages.push(OsPackage {
            name: name.to_string(),
            version: version.to_string(),
            source: source.to_string(),
            source_version: source_version.to_string(),
            arch: paragraph.get("Architecture").unwrap_or("").to_string(),
        });
    }
    db.packages.sort();
    db
}

/// Reads apk's `lib/apk/db/installed`: one-letter fields (`P:` name, `V:` version, `o:` origin,
/// `A:` arch), packages separated by blank lines.
pub fn parse_apk_installed(bytes: &[u8]) -> PackageDb {
    let text = String::from_utf8_lossy(bytes);
    let mut db = PackageDb::default();
    for paragraph in paragraphs(&text) {
        // apk's keys are case-sensitive (`V:` version, `v:` is not used): look them up exactly.
        let get = |key: &str| {
            paragraph
                .fields
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| v.trim())
        };
        let (Some(name), Some(version)) = (
            get("P").filter(|v| !v.is_empty()),
            get("V").filter(|v| !v.is_empty()),
        ) else {
            db.notes.push(DbNote {
                line: paragraph.line,
                message: "a package entry without `P:` or `V:`; skipped".to_string(),
            });
            continue;
        };
        db.packages.push(OsPackage {
            name: name.to_string(),
            version: version.to_string(),
            source: get("o").unwrap_or(name).to_string(),
            source_version: version.to_string(),
            arch: get("A").unwrap_or("").to_string(),
        });
    }
    db.packages.sort();
    db
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dpkg_source_and_status() {
        let db = parse_dpkg_status(
            b"Package: libssl3\nStatus: install ok installed\nArchitecture: amd64\nSource: openssl\nVersion: 3.0.11-1~deb12u2\nDescription: x\n more\n\nPackage: gone\nStatus: deinstall ok config-files\nVersion: 1\n\nPackage: libbin\nStatus: install ok installed\nSource: src (1.0-1)\nVersion: 1.0-1+b2\n\nStatus: install ok installed\n",
        );
        assert_eq!(db.packages.len(), 2);
        assert_eq!(db.packages[0].name, "libbin");
        assert_eq!(db.packages[0].source, "src");
        assert_eq!(db.packages[0].source_version, "1.0-1");
        assert_eq!(db.packages[1].source, "openssl");
        assert_eq!(db.packages[1].source_version, "3.0.11-1~deb12u2");
        assert_eq!(db.notes.len(), 1);
        assert_eq!(db.notes[0].line, 18);
    }

    #[test]
    fn apk_origin() {
        let db = parse_apk_installed(
            b"C:Q1abc=\nP:libcrypto3\nV:3.1.4-r1\nA:x86_64\no:openssl\n\nP:musl\nV:1.2.4_git20230717-r4\n",
        );
        assert_eq!(db.packages.len(), 2);
        assert_eq!(db.packages[0].source, "openssl");
        assert_eq!(db.packages[1].source, "musl");
    }
}
