#![no_main]

use libfuzzer_sys::fuzz_target;

// The first byte picks the parser, so one corpus exercises all of them.
fuzz_target!(|data: &[u8]| {
    if let Some((&first, rest)) = data.split_first() {
        patchwright_fuzz::check(patchwright_fuzz::kind_from_byte(first), rest);
    }
});
