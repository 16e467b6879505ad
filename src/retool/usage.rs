//! Decoding `GET /usage/user_summary`: app views, saves, unique apps and last
//! activity per user over a window.

use serde::Deserialize;
use serde_json::Value;

use super::decode::IdText;
use super::decode::{DecodeFailure, decode_record, opt_ts};
use crate::model::UserUsage;

#[derive(Debug, Deserialize)]
struct UserSummaryDto {
    user_id: IdText,
    #[serde(default)]
    email: String,
    #[serde(default)]
    count_app_views: f64,
    #[serde(default)]
    count_app_saves: f64,
    #[serde(default)]
    count_unique_apps: f64,
    #[serde(default, deserialize_with = "opt_ts")]
    last_active: Option<chrono::DateTime<chrono::Utc>>,
}

/// A count sent as a JSON number (whole, never negative in practice).
fn count(v: f64) -> i64 {
    if v.is_finite() && v > 0.0 {
        v.round() as i64
    } else {
        0
    }
}

pub(crate) fn user_summary(value: &Value, index: usize) -> Result<UserUsage, DecodeFailure> {
    let d: UserSummaryDto = decode_record(value, index)?;
    Ok(UserUsage {
        user_id: d.user_id.text(),
        email: d.email,
        app_views: count(d.count_app_views),
        app_saves: count(d.count_app_saves),
        unique_apps: count(d.count_unique_apps),
        last_active: d.last_active,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ids_and_counts_are_read_in_either_json_type() {
        let v = json!({"org_id": "o", "user_id": 42, "email": "a@x.io", "host": "h",
                       "count_app_views": 12.0, "count_app_saves": 3, "count_unique_apps": 2,
                       "last_active": "2026-11-01T10:00:00.000Z"});
        let u = user_summary(&v, 0).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(
            (u.user_id.as_str(), u.app_views, u.app_saves),
            ("42", 12, 3)
        );
        assert!(u.last_active.is_some());
        let bad = user_summary(&json!({"email": "a@x.io"}), 5)
            .err()
            .map(|e| e.path);
        assert_eq!(bad.as_deref(), Some("data[5]"));
    }
}
