//! Decoding helpers shared by the v1 and v2 wire formats: the list envelopes,
//! record decoding that names the failing JSON field path, RFC 3339 timestamps,
//! and the `raw` copy of a record kept in the model.

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// Why a response could not be decoded: the JSON field path and what was wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DecodeFailure {
    pub path: String,
    pub detail: String,
}

impl DecodeFailure {
    pub fn new(path: impl Into<String>, detail: impl Into<String>) -> Self {
        DecodeFailure {
            path: path.into(),
            detail: detail.into(),
        }
    }
}

/// The v2 list envelope `{success, data, total_count, next_token, has_more}`.
/// Records stay `Value`s so each can be decoded (and kept raw) on its own.
#[derive(Debug, Deserialize)]
pub(crate) struct V2Envelope {
    pub data: Vec<Value>,
    #[serde(default)]
    pub total_count: Option<u64>,
    #[serde(default)]
    pub next_token: Option<String>,
    #[serde(default)]
    pub has_more: Option<bool>,
}

/// The v1 list envelope `{data, total, page, pageSize}` (`total` and the page
/// fields only on paginated endpoints).
#[derive(Debug, Deserialize)]
pub(crate) struct V1Envelope {
    pub data: Vec<Value>,
    #[serde(default)]
    pub total: Option<u64>,
}

/// Decodes a whole response body, naming the JSON path of a mismatch and saying
/// plainly when the body is not JSON at all or was cut short.
///
/// Text that is not valid Unicode (bytes that are not UTF-8, or a lone UTF-16
/// surrogate escape such as JavaScript emits for a name cut inside an emoji)
/// is replaced by U+FFFD with a warning rather than failing every nightly run
/// on one odd name.
pub(crate) fn decode_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, DecodeFailure> {
    let failure = match decode_exact(body) {
        Ok(v) => return Ok(v),
        Err(f) => f,
    };
    match repair_text(body) {
        Some(repaired) => {
            let decoded = decode_exact(&repaired)?;
            tracing::warn!(
                "the response held text that is not valid Unicode; it was replaced by U+FFFD"
            );
            Ok(decoded)
        }
        None => Err(failure),
    }
}

/// A copy of a JSON body with invalid UTF-8 and lone surrogate escapes
/// (`\ud83d` not followed by a low surrogate, or a low one alone) replaced by
/// U+FFFD; `None` when it has neither.
fn repair_text(body: &[u8]) -> Option<Vec<u8>> {
    let text = String::from_utf8_lossy(body);
    let mut changed = matches!(text, std::borrow::Cow::Owned(_));
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'\\' {
            out.push(bytes[i]);
            i += 1;
            continue;
        }
        // A backslash only occurs in JSON as an escape inside a string.
        let unit = (bytes.get(i + 1) == Some(&b'u'))
            .then(|| hex4(bytes, i + 2))
            .flatten();
        let width = match unit {
            Some(0xD800..=0xDBFF) => {
                let low = (bytes.get(i + 6..i + 8) == Some(&b"\\u"[..]))
                    .then(|| hex4(bytes, i + 8))
                    .flatten();
                if matches!(low, Some(0xDC00..=0xDFFF)) {
                    12
                } else {
                    0
                }
            }
            Some(0xDC00..=0xDFFF) => 0,
            Some(_) => 6,
            None => 2,
        };
        if width == 0 {
            out.extend_from_slice(b"\\ufffd");
            changed = true;
            i += 6;
        } else {
            let end = (i + width).min(bytes.len());
            out.extend_from_slice(&bytes[i..end]);
            i = end;
        }
    }
    changed.then_some(out)
}

/// The four hex digits at `at` as a UTF-16 code unit.
fn hex4(bytes: &[u8], at: usize) -> Option<u32> {
    let digits = bytes.get(at..at + 4)?;
    if !digits.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    u32::from_str_radix(std::str::from_utf8(digits).ok()?, 16).ok()
}

fn decode_exact<T: DeserializeOwned>(body: &[u8]) -> Result<T, DecodeFailure> {
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let detail = if inner.is_eof() {
            format!(
                "the response body ended early after {} bytes (truncated JSON: {inner})",
                body.len()
            )
        } else if inner.is_syntax() {
            describe_non_json(body, &inner)
        } else {
            inner.to_string()
        };
        DecodeFailure::new(path, detail)
    })
}

/// Whether a body is cut-short JSON (a transport failure worth retrying).
pub(crate) fn is_truncated(body: &[u8]) -> bool {
    match serde_json::from_slice::<serde::de::IgnoredAny>(body) {
        Ok(_) => false,
        Err(e) => e.is_eof(),
    }
}

fn describe_non_json(body: &[u8], err: &serde_json::Error) -> String {
    let start = String::from_utf8_lossy(&body[..body.len().min(64)]);
    let trimmed = start.trim_start();
    if trimmed.starts_with('<') {
        "the response is HTML, not JSON (a proxy, login or error page?); check the URL points at the Retool API".to_string()
    } else {
        format!("the response is not valid JSON ({err})")
    }
}

/// Decodes one record of a list, naming the path as `data[<index>].<field>`.
pub(crate) fn decode_record<T: DeserializeOwned>(
    value: &Value,
    index: usize,
) -> Result<T, DecodeFailure> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let inner_path = e.path().to_string();
        let path = if inner_path == "." || inner_path.is_empty() {
            format!("data[{index}]")
        } else {
            format!("data[{index}].{inner_path}")
        };
        DecodeFailure::new(path, e.into_inner().to_string())
    })
}

/// The record as received, compact JSON with sorted keys, without `strip`ped keys.
/// Serializes in place: no copy of the record (a group's `members` can hold
/// every user of the org).
pub(crate) fn raw_without(value: &Value, strip: &[&str]) -> String {
    let text = match value {
        Value::Object(map) if !strip.is_empty() => {
            let kept: std::collections::BTreeMap<&String, &Value> = map
                .iter()
                .filter(|(k, _)| !strip.contains(&k.as_str()))
                .collect();
            serde_json::to_string(&kept)
        }
        other => serde_json::to_string(other),
    };
    text.unwrap_or_default()
}

fn parse_ts(s: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(s)
        .map(|d| d.with_timezone(&Utc))
        .map_err(|e| format!("`{}` is not an RFC 3339 timestamp ({e})", truncate(s, 40)))
}

/// An optional RFC 3339 timestamp: `null`/absent is `None`, garbage is an error
/// (never a silent `None`).
pub(crate) fn opt_ts<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    match Option::<String>::deserialize(d)? {
        None => Ok(None),
        Some(s) if s.is_empty() => Ok(None),
        Some(s) => parse_ts(&s).map(Some).map_err(serde::de::Error::custom),
    }
}

/// Shortens untrusted text for an error message, on a char boundary.
pub(crate) fn truncate(s: &str, max_chars: usize) -> String {
    let cleaned: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if cleaned.chars().count() <= max_chars {
        cleaned
    } else {
        let mut out: String = cleaned.chars().take(max_chars).collect();
        out.push('…');
        out
    }
}

/// An id or count as the usage API may send it: a string or a number.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum IdText {
    Text(String),
    Number(serde_json::Number),
}

impl IdText {
    /// The text form: the string, or the number as JSON spells it.
    pub(crate) fn text(self) -> String {
        match self {
            IdText::Text(s) => s,
            IdText::Number(n) => n.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Rec {
        #[allow(dead_code)]
        id: String,
        #[serde(default, deserialize_with = "opt_ts")]
        created_at: Option<DateTime<Utc>>,
    }

    #[test]
    fn record_errors_name_the_field_path() {
        let v = serde_json::json!({"id": 5});
        let err = decode_record::<Rec>(&v, 3).err();
        assert_eq!(err.map(|e| e.path).as_deref(), Some("data[3].id"));
        let v = serde_json::json!({"id": "a", "created_at": "last tuesday"});
        let err = decode_record::<Rec>(&v, 0).err();
        let err = err.unwrap_or_else(|| DecodeFailure::new("", ""));
        assert_eq!(err.path, "data[0].created_at");
        assert!(err.detail.contains("RFC 3339"), "{}", err.detail);
        let ok = decode_record::<Rec>(&serde_json::json!({"id": "a", "created_at": null}), 0);
        assert!(ok.is_ok_and(|r| r.created_at.is_none()));
    }

    #[test]
    fn truncated_and_html_bodies_are_described() {
        let err = decode_body::<V2Envelope>(br#"{"data": [{"id": "#).err();
        assert!(err.is_some_and(|e| e.detail.contains("truncated")));
        assert!(is_truncated(br#"{"data": [1,"#));
        assert!(!is_truncated(b"<html>502</html>"));
        let err = decode_body::<V2Envelope>(b"<html><body>Bad gateway</body></html>").err();
        assert!(err.is_some_and(|e| e.detail.contains("HTML")));
    }

    #[test]
    fn text_that_is_not_unicode_becomes_replacement_characters() {
        let decode = |body: &[u8]| -> Value {
            decode_body(body).unwrap_or_else(|f| panic!("{}: {}", f.path, f.detail))
        };
        assert_eq!(
            decode(b"[\"a\xff\xfeb\"]"),
            serde_json::json!(["a\u{fffd}\u{fffd}b"])
        );
        assert_eq!(decode(br#"["\ud83dx"]"#), serde_json::json!(["\u{fffd}x"]));
        assert_eq!(decode(br#"["\udc00"]"#), serde_json::json!(["\u{fffd}"]));
        // A proper pair, an escaped backslash before a `u`, and plain escapes stay.
        assert_eq!(decode(br#"["\ud83e\udd80"]"#), serde_json::json!(["🦀"]));
        assert_eq!(
            decode(br#"["\\ud83d", "\u00e9\n"]"#),
            serde_json::json!(["\\ud83d", "é\n"])
        );
        assert_eq!(repair_text(br#"{"a": "\\ud83d \u0041"}"#), None);
        // A body that is broken in another way still fails, naming why.
        let err = decode_body::<Value>(b"[\"\xff\", ").err();
        assert!(err.is_some_and(|e| e.detail.contains("truncated")));
    }

    #[test]
    fn raw_drops_only_the_named_keys_and_sorts() {
        let v = serde_json::json!({"z": 1, "invite_link": "https://secret", "a": 2});
        assert_eq!(raw_without(&v, &["invite_link"]), r#"{"a":2,"z":1}"#);
    }
}
