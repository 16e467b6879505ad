//! Property tests of response decoding (issue 5, item 8): arbitrary bytes and
//! arbitrary JSON never panic any decoder, and a record broken in one field is
//! refused with an error naming that field's path. Case counts are bounded so
//! `cargo test` stays fast; `PROPTEST_CASES` raises them for a longer run.

use proptest::prelude::*;
use serde_json::{Map, Value};

use super::decode::{DecodeFailure, V1Envelope, V2Envelope, decode_body};
use super::{v1, v2};
use crate::fake::{FakeOrg, OrgSpec};

/// Field names the decoders know, so generated objects hit real fields.
const FIELDS: &[&str] = &[
    "id",
    "legacy_id",
    "email",
    "first_name",
    "last_name",
    "active",
    "is_admin",
    "user_type",
    "two_factor_auth_enabled",
    "created_at",
    "updated_at",
    "last_active",
    "name",
    "members",
    "is_group_admin",
    "universal_app_access",
    "data",
    "total_count",
    "next_token",
    "has_more",
    "total",
    "type",
    "access_level",
    "isDisabled",
    "isAdmin",
    "userType",
    "groups",
];

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::sample::select(FIELDS).prop_map(str::to_string),
        "[a-zA-Z_]{1,10}",
    ]
}

fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        any::<String>().prop_map(Value::String),
        Just(Value::String("2024-01-02T03:04:05Z".into())),
        Just(Value::String("own".into())),
    ];
    leaf.prop_recursive(4, 48, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            proptest::collection::btree_map(key(), inner, 0..8)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

type Decoder = fn(&Value, usize) -> Result<(), DecodeFailure>;

/// Every record decoder of both dialects, by name.
fn decoders() -> Vec<(&'static str, Decoder)> {
    vec![
        ("v2 user", |v, i| v2::user(v, i).map(drop)),
        ("v2 group", |v, i| v2::group(v, i).map(drop)),
        ("v2 folder", |v, i| v2::folder(v, i).map(drop)),
        ("v2 app", |v, i| v2::app(v, i).map(drop)),
        ("v2 resource", |v, i| v2::resource(v, i).map(drop)),
        ("v2 workflow", |v, i| v2::workflow(v, i).map(drop)),
        ("v2 invite", |v, i| v2::user_invite(v, i).map(drop)),
        ("v2 token", |v, i| v2::access_token(v, i).map(drop)),
        ("v2 grant item", |v, i| v2::grant_item(v, i).map(drop)),
        ("v1 user", |v, i| v1::user(v, i).map(drop)),
        ("v1 group", |v, i| v1::group(v, i).map(drop)),
        ("v1 app", |v, i| v1::app(v, i).map(drop)),
        ("v1 resource", |v, i| v1::resource(v, i).map(drop)),
        ("v1 folder", |v, i| v1::folder(v, i).map(drop)),
    ]
}

/// One valid record per decoder, as the simulated Retool sends them.
fn valid_records() -> &'static [(&'static str, Decoder, Value)] {
    static RECORDS: std::sync::OnceLock<Vec<(&'static str, Decoder, Value)>> =
        std::sync::OnceLock::new();
    RECORDS.get_or_init(generate_valid_records)
}

fn generate_valid_records() -> Vec<(&'static str, Decoder, Value)> {
    let org = FakeOrg::generate(&OrgSpec::demo(chrono::Utc::now()));
    let emails = org.emails();
    let by_name = |name: &str| {
        decoders()
            .into_iter()
            .find(|(n, _)| *n == name)
            .unwrap_or_else(|| panic!("decoder {name}"))
    };
    let mut out = Vec::new();
    let mut add = |name: &str, v: Value| {
        let (n, d) = by_name(name);
        out.push((n, d, v));
    };
    add("v2 user", FakeOrg::user_v2(&org.users[0]));
    add("v2 group", org.group_v2(&org.groups[2], &emails));
    add("v2 folder", FakeOrg::folder_v2(&org.folders[3]));
    add("v2 app", FakeOrg::app_v2(&org.apps[3]));
    add("v2 resource", FakeOrg::resource_v2(&org.resources[0]));
    add("v2 workflow", FakeOrg::workflow_v2(&org.workflows[0]));
    add("v2 invite", org.invite_record_v2(&org.invites[0]));
    add("v2 token", FakeOrg::token_v2(&org.tokens[0]));
    add("v1 user", org.user_v1(&org.users[0]));
    add("v1 group", FakeOrg::group_v1(&org.groups[2], &emails));
    add("v1 app", FakeOrg::app_v1(&org.apps[3]));
    add("v1 resource", FakeOrg::resource_v1(&org.resources[0]));
    add("v1 folder", FakeOrg::folder_v1(&org.folders[3]));
    out
}

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|c| c.parse().ok())
            .unwrap_or(cases),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

#[test]
fn the_valid_records_decode() {
    for (name, decode, v) in valid_records() {
        if let Err(f) = decode(v, 0) {
            panic!("{name}: {} {}", f.path, f.detail);
        }
    }
}

proptest! {
    #![proptest_config(config(512))]

    /// Any bytes at all: an envelope or a clear failure, never a panic.
    #[test]
    fn arbitrary_bytes_never_panic_the_envelope_decoders(body in proptest::collection::vec(any::<u8>(), 0..512)) {
        for result in [
            decode_body::<V2Envelope>(&body).map(drop),
            decode_body::<V1Envelope>(&body).map(drop),
            decode_body::<Value>(&body).map(drop),
        ] {
            if let Err(f) = result {
                prop_assert!(!f.path.is_empty() && !f.detail.is_empty(), "{f:?}");
            }
        }
    }

    /// JSON-looking bytes (a real document, then cut, or with a byte
    /// flipped) never panic, and the failure says where.
    #[test]
    fn damaged_json_never_panics(v in json(), cut in any::<prop::sample::Index>(), flip in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let body = serde_json::to_vec(&serde_json::json!({"data": [v], "total_count": 1})).unwrap_or_default();
        let mut cut_body = body.clone();
        cut_body.truncate(cut.index(body.len() + 1));
        let mut flipped = body.clone();
        if !flipped.is_empty() {
            let at = flip.index(flipped.len());
            flipped[at] = byte;
        }
        for b in [&body, &cut_body, &flipped] {
            if let Err(f) = decode_body::<V2Envelope>(b) {
                prop_assert!(!f.path.is_empty() && !f.detail.is_empty(), "{f:?}");
            }
        }
    }

    /// Any JSON value, handed to every record decoder: a record or an error
    /// whose path starts at the record (`data[<index>]`), never a panic.
    #[test]
    fn arbitrary_json_never_panics_a_record_decoder(v in json(), index in 0usize..1000) {
        let prefix = format!("data[{index}]");
        for (name, decode) in decoders() {
            if let Err(f) = decode(&v, index) {
                prop_assert!(f.path.starts_with(&prefix), "{name}: path {} for {v}", f.path);
            }
        }
    }

    /// A valid record with one field replaced by anything (or removed): it
    /// still decodes, or the error names exactly that field.
    #[test]
    fn one_broken_field_is_named_in_the_error(which in any::<prop::sample::Index>(), field in any::<prop::sample::Index>(), value in prop::option::of(json())) {
        let records = valid_records();
        let (name, decode, mut record) = records[which.index(records.len())].clone();
        let Some(obj) = record.as_object_mut() else { return Ok(()) };
        let keys: Vec<String> = obj.keys().cloned().collect();
        let key = keys[field.index(keys.len())].clone();
        match value {
            Some(v) => { obj.insert(key.clone(), v); }
            None => { obj.remove(&key); }
        }
        if let Err(f) = decode(&record, 0) {
            let named = f.path == format!("data[0].{key}")
                || f.path.starts_with(&format!("data[0].{key}."))
                || f.path.starts_with(&format!("data[0].{key}["))
                // A group without its id falls back to legacy_id, and says id.
                || (key == "legacy_id" && f.path == "data[0].id")
                // serde names the record itself when a required field is missing.
                || (f.path == "data[0]" && f.detail.contains(&format!("`{key}`")));
            prop_assert!(named, "{name}: changing `{key}` gave path {} ({})", f.path, f.detail);
        }
    }
}
