#![no_main]

//! PR and issue comments are typed by anyone: the command parser must answer every one of them
//! with commands or errors whose positions lie inside the comment, and never panic.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(body) = std::str::from_utf8(data) else {
        return;
    };
    for result in patchwright::commands::parse_comment(body, "patchwright") {
        if let Err(e) = result {
            if let Some(at) = e.at {
                assert!(at.offset <= body.len());
            }
        }
    }
});
