//! Any bytes as an HR roster CSV.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let _ = retool_audit::analyze::roster::Roster::parse(bytes);
});
