//! Any bytes as a Retool API response, through both dialects' decoding.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    retool_audit::retool::fuzzing::decode_v2_page(body);
    retool_audit::retool::fuzzing::decode_v1_page(body);
});
