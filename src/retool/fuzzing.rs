//! Entry points for the `fuzz/` cargo-fuzz targets (feature `fuzzing` only; not
//! part of the supported API): a response body through the same decoding a
//! listing uses, every record through every decoder of its dialect.

use serde_json::Value;

use super::decode::{V1Envelope, V2Envelope, decode_body};
use super::{v1, v2};

/// Decodes `body` as a v2 list page and each record as every v2 kind.
pub fn decode_v2_page(body: &[u8]) {
    if let Ok(page) = decode_body::<V2Envelope>(body) {
        for (i, v) in page.data.iter().enumerate() {
            each_v2(v, i);
        }
    }
}

/// Decodes `body` as a v1 list page and each record as every v1 kind.
pub fn decode_v1_page(body: &[u8]) {
    if let Ok(page) = decode_body::<V1Envelope>(body) {
        for (i, v) in page.data.iter().enumerate() {
            let _ = v1::user(v, i);
            let _ = v1::group(v, i);
            let _ = v1::app(v, i);
            let _ = v1::resource(v, i);
            let _ = v1::folder(v, i);
        }
    }
}

fn each_v2(v: &Value, i: usize) {
    let _ = v2::user(v, i);
    let _ = v2::group(v, i);
    let _ = v2::folder(v, i);
    let _ = v2::app(v, i);
    let _ = v2::resource(v, i);
    let _ = v2::workflow(v, i);
    let _ = v2::user_invite(v, i);
    let _ = v2::access_token(v, i);
    let _ = v2::grant_item(v, i);
}
