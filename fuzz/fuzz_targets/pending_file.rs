//! Pending files: `refunds::PendingCreate` read from JSON (what `refunds recover FILE` reads). What
//! reads must write back to JSON that reads as the same pending create.
#![no_main]

use libfuzzer_sys::fuzz_target;
use refunds::PendingCreate;

fuzz_target!(|data: &[u8]| {
    let Ok(pending) = serde_json::from_slice::<PendingCreate>(data) else {
        return;
    };
    let written = serde_json::to_string(&pending).expect("a pending create serializes");
    let again: PendingCreate = serde_json::from_str(&written)
        .unwrap_or_else(|e| panic!("a pending create does not read back ({e}): {written}"));
    assert_eq!(again, pending, "a pending create changed through its JSON: {written}");
});
