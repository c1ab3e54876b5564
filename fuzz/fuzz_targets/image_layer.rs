#![no_main]

//! The image parsers on untrusted bytes: the package databases, os-release, manifest JSON, and a
//! whole layer blob (tar, gzip, zstd). The first byte picks which.

use libfuzzer_sys::fuzz_target;
use patchwright::image::{layer, manifest, os_release, packages};

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    match which % 5 {
        0 => {
            let db = packages::parse_dpkg_status(rest);
            let lines = rest.split(|&b| b == b'\n').count() as u32;
            assert!(db.notes.iter().all(|n| n.line >= 1 && n.line <= lines));
        }
        1 => {
            packages::parse_apk_installed(rest);
        }
        2 => {
            os_release::parse_os_release(&String::from_utf8_lossy(rest));
        }
        3 => {
            let _ = manifest::parse_document(rest);
        }
        _ => {
            let _ = layer::read_layer(rest, "sha256:00");
        }
    }
});
