//! Applying the configured faults ([`crate::fake::Fault`]) to requests and
//! answers: counted faults are used up one request at a time; permanent ones
//! reshape the JSON or corrupt the serialized text of every matching answer.

use std::sync::atomic::Ordering;

use serde_json::{Value, json};

use super::Shared;
use crate::fake::faults::Fault;

/// Takes one use of the first counted fault of kind `pick` that matches `path`.
pub(super) fn take_fault<'a>(
    shared: &'a Shared,
    path: &str,
    pick: impl Fn(&Fault) -> bool,
) -> Option<&'a Fault> {
    for (i, f) in shared.config.faults.iter().enumerate() {
        let (inner, filter) = f.unwrap_path();
        if !pick(inner) || !path.contains(filter) {
            continue;
        }
        let Some(times) = f.times() else { continue };
        let used = &shared.fault_uses[i];
        let took = used
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |u| {
                (u < times).then_some(u + 1)
            })
            .is_ok();
        if took {
            return Some(inner);
        }
    }
    None
}

/// Whether a permanent fault of kind `pick` applies to `path`.
pub(super) fn has_fault(shared: &Shared, path: &str, pick: impl Fn(&Fault) -> bool) -> bool {
    shared.config.faults.iter().any(|f| {
        let (inner, filter) = f.unwrap_path();
        pick(inner) && path.contains(filter)
    })
}

/// The records of an answer: a list's `data` items, or a single `data` object.
pub(super) fn records(v: &mut Value) -> Vec<&mut Value> {
    match v.get_mut("data") {
        Some(Value::Array(items)) => items.iter_mut().collect(),
        Some(one @ Value::Object(_)) => vec![one],
        _ => Vec::new(),
    }
}

/// Applies the permanent wire-shape faults that change JSON values.
pub(super) fn reshape(shared: &Shared, path: &str, v: &mut Value) {
    if has_fault(shared, path, |f| matches!(f, Fault::ExtraFields)) {
        let extra = json!({
            "x_future_field": {"nested": [1, "two", null], "flag": true},
            "x_note": "not in the spec",
        });
        let extend = |target: &mut Value| {
            if let (Some(o), Some(e)) = (target.as_object_mut(), extra.as_object()) {
                o.extend(e.clone());
            }
        };
        for r in records(v) {
            extend(r);
        }
        extend(v);
    }
    if has_fault(shared, path, |f| matches!(f, Fault::DropNulls)) {
        for r in records(v) {
            if let Some(o) = r.as_object_mut() {
                o.retain(|_, value| !value.is_null());
            }
        }
    }
    if has_fault(shared, path, |f| matches!(f, Fault::OddShape)) {
        for r in records(v) {
            *r = json!({ "entry": r.take() });
        }
    }
    if has_fault(shared, path, |f| matches!(f, Fault::WrongType)) {
        if let Some(Value::Object(first)) = records(v).into_iter().next() {
            for value in first.values_mut() {
                if let Some(b) = value.as_bool() {
                    *value = Value::String(b.to_string());
                }
            }
        }
    }
}

/// Applies the permanent faults that put bad text into the serialized body:
/// the first `"first_name":"` gets invalid UTF-8 or a lone surrogate escape.
pub(super) fn corrupt_text(shared: &Shared, path: &str, bytes: &mut Vec<u8>) {
    let insert: &[u8] = if has_fault(shared, path, |f| matches!(f, Fault::InvalidUtf8)) {
        b"\xff\xfe"
    } else if has_fault(shared, path, |f| matches!(f, Fault::LoneSurrogate)) {
        b"\\ud83d"
    } else {
        return;
    };
    let needle = b"\"first_name\":\"";
    if let Some(pos) = bytes.windows(needle.len()).position(|w| w == needle) {
        let at = pos + needle.len();
        bytes.splice(at..at, insert.iter().copied());
    }
}
