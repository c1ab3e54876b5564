#![no_main]

//! CODEOWNERS files come from the repositories scanned: parsing and matching must never panic.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (owners, _) = patchwright::owners::parse(".github/CODEOWNERS", text);
    for path in ["README.md", "src/a/b.rs", "docs/x", ".github/workflows/ci.yml"] {
        let _ = owners.owners_of(path);
    }
});
