//! One layer read as a stream: decompressed (gzip, zstd or none, told by the first bytes),
//! its tar entries walked once, the files that matter parsed, its whiteouts noted, and the
//! reading stopped once the walk has passed every path that matters.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::io::{self, BufRead, BufReader, Read};

use serde::{Deserialize, Serialize};

use super::os_release::{OsRelease, parse_os_release};
use super::packages::{PackageDb, parse_apk_installed, parse_dpkg_status};
use super::source::normalize;

/// The version of [`LayerFacts`]' shape; a cached entry of another version is read again.
pub const LAYER_FACTS_VERSION: u32 = 1;

/// A file that matters for knowing what is installed, parsed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum FileFacts {
    OsRelease(OsRelease),
    /// `/etc/debian_version` (`12.4`): Debian's point release, which os-release leaves out.
    DebianVersion {
        version: String,
    },
    Dpkg(PackageDb),
    Apk(PackageDb),
}

/// What one layer adds and removes, for the paths that matter. This is what the layer cache
/// stores per layer digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerFacts {
    pub version: u32,
    pub digest: String,
    /// Path (without a leading `/`) → what the file says.
    pub files: BTreeMap<String, FileFacts>,
    /// Paths this layer deletes from the layers below (`.wh.NAME` files).
    pub whiteouts: Vec<String>,
    /// Directories whose lower-layer content this layer hides (`.wh..wh..opq`).
    pub opaque_dirs: Vec<String>,
    /// Whether the walk stopped before the end of the layer (see [`read_layer`]).
    pub stopped_early: bool,
}

/// The largest file that matters read into memory; a dpkg status of a large image is a few
/// MiB.
const MAX_FILE_BYTES: u64 = 64 << 20;

/// What kind of file that matters `path` is, if any.
fn wanted(path: &str) -> Option<Wanted> {
    match path {
        "etc/os-release" | "usr/lib/os-release" => Some(Wanted::OsRelease),
        "etc/debian_version" => Some(Wanted::DebianVersion),
        "var/lib/dpkg/status" => Some(Wanted::Dpkg),
        "lib/apk/db/installed" | "usr/lib/apk/db/installed" => Some(Wanted::Apk),
        _ => {
            let name = path.strip_prefix("var/lib/dpkg/status.d/")?;
            // distroless keeps one file per package, beside its `.md5sums`.
            let is_package = !name.is_empty()
                && !name.contains('/')
                && !name.ends_with(".md5sums")
                && !name.ends_with(".list");
            is_package.then_some(Wanted::Dpkg)
        }
    }
}

#[derive(Clone, Copy)]
enum Wanted {
    OsRelease,
    DebianVersion,
    Dpkg,
    Apk,
}

/// Compares paths component by component: the order in which image builders (Go's
/// `filepath.Walk`, BuildKit, `tar --sort=name`) write a layer, where `a/b` sorts before `a-c`.
fn walk_order(a: &str, b: &str) -> Ordering {
    a.split('/').cmp(b.split('/'))
}

/// Every path that matters sorts before this one, or under it (`var/lib/dpkg/…`).
const LAST_WANTED_DIR: &str = "var/lib/dpkg";

/// Reads one layer blob (compressed or not). Entries are expected in walk order, as builders
/// write them; while they are, the walk stops at the first path past `var/lib/dpkg`, since no
/// later entry can matter. An entry out of order turns the early stop off for that layer.
pub fn read_layer(blob: impl Read, digest: &str) -> io::Result<LayerFacts> {
    let mut facts = LayerFacts {
        version: LAYER_FACTS_VERSION,
        digest: digest.to_string(),
        files: BTreeMap::new(),
        whiteouts: Vec::new(),
        opaque_dirs: Vec::new(),
        stopped_early: false,
    };
    let mut archive = tar::Archive::new(decompress(blob)?);
    let mut previous = String::new();
    let mut in_order = true;
    for entry in archive.entries()? {
        let mut entry = entry?;
        let path = normalize(&entry.path()?.to_string_lossy());
        if walk_order(&path, &previous) == Ordering::Less {
            in_order = false;
        }
        if in_order
            && walk_order(&path, LAST_WANTED_DIR) == Ordering::Greater
            && !path.starts_with("var/lib/dpkg/")
        {
            facts.stopped_early = true;
            break;
        }
        let (dir, name) = match path.rsplit_once('/') {
            Some((dir, name)) => (dir, name),
            None => ("", path.as_str()),
        };
        if name == ".wh..wh..opq" {
            facts.opaque_dirs.push(dir.to_string());
        } else if let Some(hidden) = name.strip_prefix(".wh.") {
            let hidden = if dir.is_empty() {
                hidden.to_string()
            } else {
                format!("{dir}/{hidden}")
            };
            facts.whiteouts.push(hidden);
        } else if entry.header().entry_type().is_file() {
            if let Some(kind) = wanted(&path) {
                let mut bytes = Vec::new();
                (&mut entry).take(MAX_FILE_BYTES).read_to_end(&mut bytes)?;
                facts.files.insert(path.clone(), parse_file(kind, &bytes));
            }
        }
        previous = path;
    }
    if !facts.stopped_early {
        // Read what is left so that a digest-verifying source sees the whole blob.
        io::copy(&mut archive.into_inner(), &mut io::sink())?;
    }
    Ok(facts)
}

fn parse_file(kind: Wanted, bytes: &[u8]) -> FileFacts {
    match kind {
        Wanted::OsRelease => {
            FileFacts::OsRelease(parse_os_release(&String::from_utf8_lossy(bytes)))
        }
        Wanted::DebianVersion => FileFacts::DebianVersion {
            version: String::from_utf8_lossy(bytes).trim().to_string(),
        },
        Wanted::Dpkg => FileFacts::Dpkg(parse_dpkg_status(bytes)),
        Wanted::Apk => FileFacts::Apk(parse_apk_installed(bytes)),
    }
}

/// gzip (`1f 8b`), zstd (`28 b5 2f fd`) or a plain tar, told by the first bytes rather than
/// the media type, which `docker save` and some registries get wrong.
fn decompress<'a>(blob: impl Read + 'a) -> io::Result<Box<dyn Read + 'a>> {
    let mut reader = BufReader::with_capacity(64 << 10, blob);
    let head = reader.fill_buf()?;
    if head.starts_with(&[0x1f, 0x8b]) {
        Ok(Box::new(flate2::read::MultiGzDecoder::new(reader)))
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        let decoder = ruzstd::decoding::StreamingDecoder::new(reader)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("zstd: {e}")))?;
        Ok(Box::new(decoder))
    } else {
        Ok(Box::new(reader))
    }
}

/// Applies the layers in order: each layer's whiteouts and opaque directories hide what the
/// layers below have there, then its own files are laid on top. Pure.
pub fn merge_layers<'a>(
    layers: impl IntoIterator<Item = &'a LayerFacts>,
) -> BTreeMap<String, FileFacts> {
    let mut files: BTreeMap<String, FileFacts> = BTreeMap::new();
    for layer in layers {
        for dir in &layer.opaque_dirs {
            let prefix = format!("{dir}/");
            files.retain(|path, _| dir.is_empty() || !path.starts_with(&prefix));
        }
        for hidden in &layer.whiteouts {
            let prefix = format!("{hidden}/");
            files.retain(|path, _| path != hidden && !path.starts_with(&prefix));
        }
        for (path, facts) in &layer.files {
            files.insert(path.clone(), facts.clone());
        }
    }
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walk_order_is_by_component() {
        assert_eq!(
            walk_order("var/lib/dpkg/status", "var/lib/dpkg-x"),
            Ordering::Less
        );
        assert_eq!(
            walk_order("var/lib/dpkg-x", LAST_WANTED_DIR),
            Ordering::Greater
        );
        assert_eq!(
            walk_order("usr/lib/os-release", LAST_WANTED_DIR),
            Ordering::Less
        );
    }

    fn layer(files: &[(&str, &str)], whiteouts: &[&str], opaque: &[&str]) -> LayerFacts {
        LayerFacts {
            version: LAYER_FACTS_VERSION,
            digest: "sha256:0".to_string(),
            files: files
                .iter()
                .map(|(p, v)| {
                    (
                        p.to_string(),
                        FileFacts::DebianVersion {
                            version: v.to_string(),
                        },
                    )
                })
                .collect(),
            whiteouts: whiteouts.iter().map(|s| s.to_string()).collect(),
            opaque_dirs: opaque.iter().map(|s| s.to_string()).collect(),
            stopped_early: false,
        }
    }

    #[test]
    fn whiteouts_hide_lower_layers_only() {
        let lower = layer(&[("a/x", "1"), ("a/y", "1"), ("b/z", "1")], &[], &[]);
        let upper = layer(&[("a/y", "2")], &["a/x"], &["b"]);
        let merged = merge_layers([&lower, &upper]);
        assert_eq!(merged.keys().collect::<Vec<_>>(), ["a/y"]);
        assert_eq!(
            merged["a/y"],
            FileFacts::DebianVersion {
                version: "2".to_string()
            }
        );
    }
}
