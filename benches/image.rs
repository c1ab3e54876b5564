//! Reading a base image's OS contents, cold (every layer decompressed and walked) and with the
//! layer cache warm, on images built like the tests build them: a Debian 12 image from this
//! machine's real dpkg status (gzip layer plus an application layer) and an Alpine 3.18 image
//! from the fixture (fixtures/images). Figures in BENCHMARKS.md.

#[path = "../tests/image_support/mod.rs"]
mod image_support;

use criterion::Criterion;
use image_support::*;
use patchwright::image::{AnalyseOptions, LayerCache, LocalImage, analyse};
use std::hint::black_box;
use std::path::Path;

fn debian(dir: &Path) {
    let (status, os_release, debian_version) = real_debian();
    let layout = Layout::new(dir);
    let base = debian_layer(&status, &os_release, &debian_version, Compression::Gzip);
    // A base layer also carries the rest of the system; 2,000 small files in front of and
    // behind the package database make the walk and the early stop visible.
    let filler: Vec<(String, Vec<u8>)> = (0..2000)
        .map(|i| {
            (
                format!("usr/share/doc/pkg{i:04}/copyright"),
                vec![b'x'; 512],
            )
        })
        .collect();
    let mut entries: Vec<Entry<'_>> = filler
        .iter()
        .map(|(p, b)| Entry::File(p.as_str(), b.as_slice()))
        .collect();
    entries.push(Entry::File("var/lib/dpkg/status", &status));
    entries.push(Entry::File("var/lib/dpkg/zz-after", b"x"));
    let system = Layer::new(&entries, Compression::Gzip);
    let app = Layer::new(&[Entry::File("app/run", b"#!/bin/sh\n")], Compression::Zstd);
    let manifest = layout.image("amd64", &[base, system, app]);
    layout.single(manifest);
}

fn alpine(dir: &Path) {
    let installed = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/images/alpine-3.18.4-installed"),
    )
    .unwrap();
    let layout = Layout::new(dir);
    let layer = Layer::new(
        &[
            Entry::File("etc/os-release", b"ID=alpine\nVERSION_ID=3.18.4\n"),
            Entry::File("lib/apk/db/installed", &installed),
        ],
        Compression::Gzip,
    );
    let manifest = layout.image("amd64", &[layer]);
    layout.single(manifest);
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    let options = AnalyseOptions::default();
    for (name, build) in [("debian12", debian as fn(&Path)), ("alpine3.18", alpine)] {
        let dir = tempfile::tempdir().unwrap();
        build(dir.path());
        let source = LocalImage::open(dir.path()).unwrap();
        let mut group = c.benchmark_group(format!("image/{name}"));
        group.bench_function("cold", |b| {
            b.iter(|| black_box(analyse(&source, &options, None).unwrap()))
        });
        let cache_dir = tempfile::tempdir().unwrap();
        let cache = LayerCache::new(cache_dir.path());
        analyse(&source, &options, Some(&cache)).unwrap();
        group.bench_function("warm-cache", |b| {
            b.iter(|| black_box(analyse(&source, &options, Some(&cache)).unwrap()))
        });
        group.finish();
    }
    c.final_summary();
}
