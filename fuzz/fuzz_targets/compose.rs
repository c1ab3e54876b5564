#![no_main]

use libfuzzer_sys::fuzz_target;
use patchwright::manifest::ManifestKind;

fuzz_target!(|data: &[u8]| patchwright_fuzz::check(ManifestKind::Compose, data));
