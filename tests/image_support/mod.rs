//! Builds real images on disk for the image tests and benchmarks: tar layers (plain, gzip
//! through flate2, zstd through the `zstd` command), OCI image layouts with nested
//! multi-platform indexes, and legacy `docker save` tarballs.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use sha2::{Digest, Sha256};

pub fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// One entry of a layer: a file with content, or a whiteout marker.
pub enum Entry<'a> {
    File(&'a str, &'a [u8]),
    Dir(&'a str),
}

/// A tar of the entries, in the order given (builders write walk order).
pub fn tar(entries: &[Entry<'_>]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for entry in entries {
        let mut header = tar::Header::new_gnu();
        match entry {
            Entry::File(path, bytes) => {
                header.set_entry_type(tar::EntryType::Regular);
                header.set_size(bytes.len() as u64);
                header.set_mode(0o644);
                header.set_cksum();
                builder.append_data(&mut header, path, *bytes).unwrap();
            }
            Entry::Dir(path) => {
                header.set_entry_type(tar::EntryType::Directory);
                header.set_size(0);
                header.set_mode(0o755);
                header.set_cksum();
                builder.append_data(&mut header, path, &[][..]).unwrap();
            }
        }
    }
    builder.into_inner().unwrap()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

pub fn compress(bytes: &[u8], how: Compression) -> Vec<u8> {
    match how {
        Compression::None => bytes.to_vec(),
        Compression::Gzip => {
            let mut encoder =
                flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            encoder.write_all(bytes).unwrap();
            encoder.finish().unwrap()
        }
        Compression::Zstd => {
            // Debian's zstd (installed by scripts/test-deps.sh): a real encoder, not ours.
            let mut child = Command::new("zstd")
                .args(["-q", "-c", "-3"])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .expect("the zstd command is installed (scripts/test-deps.sh)");
            let mut stdin = child.stdin.take().unwrap();
            let input = bytes.to_vec();
            let writer = std::thread::spawn(move || stdin.write_all(&input).unwrap());
            let out = child.wait_with_output().unwrap();
            writer.join().unwrap();
            assert!(out.status.success());
            out.stdout
        }
    }
}

pub fn media_type(how: Compression) -> &'static str {
    match how {
        Compression::None => "application/vnd.oci.image.layer.v1.tar",
        Compression::Gzip => "application/vnd.oci.image.layer.v1.tar+gzip",
        Compression::Zstd => "application/vnd.oci.image.layer.v1.tar+zstd",
    }
}

/// A layer ready to go into an image: its uncompressed tar and how it is stored.
pub struct Layer {
    pub tar: Vec<u8>,
    pub compression: Compression,
}

impl Layer {
    pub fn new(entries: &[Entry<'_>], compression: Compression) -> Layer {
        Layer {
            tar: tar(entries),
            compression,
        }
    }

    /// As a registry stores it: the compressed blob, its media type and its diff id.
    pub fn stored(&self) -> (Vec<u8>, &'static str, String) {
        (
            compress(&self.tar, self.compression),
            media_type(self.compression),
            sha256(&self.tar),
        )
    }
}

/// `status` with glibc's binaries at `2.36-9+deb12u1`: this machine made an older point
/// release, affected by DSA-5514-1 (Looney Tunables).
pub fn older_status(status: &str) -> String {
    let current = version_of(status, "libc6");
    status.replace(
        &format!("Version: {current}\n"),
        "Version: 2.36-9+deb12u1\n",
    )
}

/// An OCI image layout directory being written.
pub struct Layout {
    pub dir: PathBuf,
}

impl Layout {
    pub fn new(dir: &Path) -> Layout {
        std::fs::create_dir_all(dir.join("blobs/sha256")).unwrap();
        std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
        Layout {
            dir: dir.to_path_buf(),
        }
    }

    /// Stores a blob, returns its descriptor JSON (without platform).
    pub fn blob(&self, media_type: &str, bytes: &[u8]) -> serde_json::Value {
        let digest = sha256(bytes);
        let hex = digest.trim_start_matches("sha256:");
        std::fs::write(self.dir.join("blobs/sha256").join(hex), bytes).unwrap();
        serde_json::json!({"mediaType": media_type, "digest": digest, "size": bytes.len()})
    }

    /// Stores one platform's image (config, layers, manifest); returns the manifest's
    /// descriptor with its platform.
    pub fn image(&self, arch: &str, layers: &[Layer]) -> serde_json::Value {
        let diff_ids: Vec<String> = layers.iter().map(|l| sha256(&l.tar)).collect();
        let config = serde_json::json!({
            "architecture": arch, "os": "linux",
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
            "config": {},
        });
        let config = self.blob(
            "application/vnd.oci.image.config.v1+json",
            &serde_json::to_vec(&config).unwrap(),
        );
        let layers: Vec<serde_json::Value> = layers
            .iter()
            .map(|l| self.blob(media_type(l.compression), &compress(&l.tar, l.compression)))
            .collect();
        let manifest = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": config, "layers": layers,
        });
        let mut descriptor = self.blob(
            "application/vnd.oci.image.manifest.v1+json",
            &serde_json::to_vec(&manifest).unwrap(),
        );
        descriptor["platform"] = serde_json::json!({"os": "linux", "architecture": arch});
        descriptor
    }

    /// Writes `index.json` naming one manifest directly.
    pub fn single(&self, manifest: serde_json::Value) {
        let mut manifest = manifest;
        manifest.as_object_mut().unwrap().remove("platform");
        self.write_index(vec![manifest]);
    }

    /// Writes a multi-platform index blob and an `index.json` pointing at it, as
    /// `skopeo copy --all` lays out a multi-platform image.
    pub fn multi(&self, manifests: Vec<serde_json::Value>) {
        let index = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": manifests,
        });
        let descriptor = self.blob(
            "application/vnd.oci.image.index.v1+json",
            &serde_json::to_vec(&index).unwrap(),
        );
        self.write_index(vec![descriptor]);
    }

    fn write_index(&self, manifests: Vec<serde_json::Value>) {
        let index = serde_json::json!({"schemaVersion": 2, "manifests": manifests});
        std::fs::write(
            self.dir.join("index.json"),
            serde_json::to_vec_pretty(&index).unwrap(),
        )
        .unwrap();
    }
}

/// A legacy `docker save` tarball (manifest.json, config, `<id>/layer.tar`).
pub fn docker_save(path: &Path, layers: &[Layer]) {
    let diff_ids: Vec<String> = layers.iter().map(|l| sha256(&l.tar)).collect();
    let config = serde_json::to_vec(&serde_json::json!({
        "architecture": "amd64", "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    }))
    .unwrap();
    let config_name = format!("{}.json", sha256(&config).trim_start_matches("sha256:"));
    let layer_names: Vec<String> = diff_ids
        .iter()
        .map(|d| format!("{}/layer.tar", &d["sha256:".len()..]))
        .collect();
    let manifest = serde_json::to_vec(&serde_json::json!([
        {"Config": config_name, "RepoTags": ["example:1"], "Layers": layer_names}
    ]))
    .unwrap();
    let mut entries = vec![
        Entry::File("manifest.json", &manifest),
        Entry::File(&config_name, &config),
    ];
    for (name, layer) in layer_names.iter().zip(layers) {
        entries.push(Entry::File(name, &layer.tar));
    }
    std::fs::write(path, tar(&entries)).unwrap();
}

/// This machine's real dpkg status and os-release (a Debian 12 system), read at run time.
pub fn real_debian() -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let status = std::fs::read("/var/lib/dpkg/status").expect("a Debian machine's dpkg status");
    let os_release = std::fs::read("/etc/os-release")
        .or_else(|_| std::fs::read("/usr/lib/os-release"))
        .unwrap();
    let debian_version = std::fs::read("/etc/debian_version").unwrap();
    (status, os_release, debian_version)
}

/// The number of installed packages in a dpkg status, counted independently of the reader.
pub fn installed_count(status: &str) -> usize {
    status
        .split("\n\n")
        .filter(|p| p.lines().any(|l| l == "Status: install ok installed"))
        .count()
}

/// The paragraph of `package` in a dpkg status.
pub fn paragraph<'a>(status: &'a str, package: &str) -> &'a str {
    let head = format!("Package: {package}\n");
    status
        .split("\n\n")
        .find(|p| p.starts_with(&head))
        .unwrap_or_else(|| panic!("{package} is installed on this machine"))
}

/// The `Version:` of `package` in a dpkg status.
pub fn version_of(status: &str, package: &str) -> String {
    paragraph(status, package)
        .lines()
        .find_map(|l| l.strip_prefix("Version: "))
        .unwrap()
        .to_string()
}

/// A Debian layer from real files, in walk order (etc before var).
pub fn debian_layer(
    status: &[u8],
    os_release: &[u8],
    debian_version: &[u8],
    how: Compression,
) -> Layer {
    Layer::new(
        &[
            Entry::Dir("etc"),
            Entry::File("etc/debian_version", debian_version),
            Entry::File("etc/os-release", os_release),
            Entry::Dir("var"),
            Entry::Dir("var/lib"),
            Entry::Dir("var/lib/dpkg"),
            Entry::File("var/lib/dpkg/status", status),
        ],
        how,
    )
}
