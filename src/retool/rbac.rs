//! Decoders of the v2 records that describe who may do what beyond groups and
//! grants: roles and role grants (API 2.9+), access requests (API 2.3+) and the
//! organization's security settings (`GET /organization/`, `GET /sso/config`).
//!
//! Role grants are decoded tolerantly: Retool documents the body that creates
//! one but not the list's answer, so the usual spellings (snake_case,
//! camelCase, nested `subject`/`object`) are all read. Settings are read
//! through an allow-list: nothing else of either answer is kept, so a client
//! secret (the SSO answer carries them, encrypted or not) never reaches the
//! database, a log or a report.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

use super::decode::{DecodeFailure, decode_record, opt_ts, raw_without};
use crate::model::{AccessRequest, Role, RoleGrant, Setting};

#[derive(Debug, Deserialize)]
struct RoleDto {
    id: String,
    name: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    is_default_role: bool,
    #[serde(default)]
    is_legacy_role: bool,
    #[serde(default)]
    object_scopes: Vec<String>,
    #[serde(default)]
    organization_scopes: Vec<String>,
    #[serde(default, deserialize_with = "opt_ts")]
    created_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "opt_ts")]
    updated_at: Option<DateTime<Utc>>,
}

pub(crate) fn role(value: &Value, index: usize) -> Result<Role, DecodeFailure> {
    let d: RoleDto = decode_record(value, index)?;
    let mut object_scopes = d.object_scopes;
    object_scopes.sort();
    object_scopes.dedup();
    let mut organization_scopes = d.organization_scopes;
    organization_scopes.sort();
    organization_scopes.dedup();
    Ok(Role {
        id: d.id,
        name: d.name,
        description: d.description.filter(|s| !s.is_empty()),
        is_default_role: d.is_default_role,
        is_legacy_role: d.is_legacy_role,
        object_scopes,
        organization_scopes,
        created_at: d.created_at,
        updated_at: d.updated_at,
        raw: raw_without(value, &[]),
    })
}

/// An id as text: strings as they are, numbers in decimal.
fn id_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The first of `names` present (and not null) in `value`, where a name may
/// be a JSON pointer (`/subject/id`).
fn first<'a>(value: &'a Value, names: &[&str]) -> Option<&'a Value> {
    names
        .iter()
        .filter_map(|n| {
            if n.starts_with('/') {
                value.pointer(n)
            } else {
                value.get(*n)
            }
        })
        .find(|v| !v.is_null())
}

/// One role grant, whichever of the usual spellings the server uses.
pub(crate) fn role_grant(value: &Value, index: usize) -> Result<RoleGrant, DecodeFailure> {
    let at = |field: &str| format!("data[{index}].{field}");
    if !value.is_object() {
        return Err(DecodeFailure::new(
            format!("data[{index}]"),
            "a role grant is not an object",
        ));
    }
    let role_id = first(value, &["role_id", "roleId", "/role/id"])
        .and_then(id_text)
        .ok_or_else(|| DecodeFailure::new(at("role_id"), "no role id"))?;
    let (subject_type, subject_id) = if let Some(t) =
        first(value, &["subject_type", "subjectType", "/subject/type"]).and_then(Value::as_str)
    {
        let id = first(value, &["subject_id", "subjectId", "/subject/id"])
            .and_then(id_text)
            .ok_or_else(|| DecodeFailure::new(at("subject_id"), "no subject id"))?;
        (t.to_string(), id)
    } else if let Some(id) = first(value, &["user_id", "userId"]).and_then(id_text) {
        ("user".to_string(), id)
    } else if let Some(id) = first(value, &["group_id", "groupId"]).and_then(id_text) {
        ("group".to_string(), id)
    } else {
        return Err(DecodeFailure::new(at("subject_type"), "no subject"));
    };
    let object_type = first(value, &["object_type", "objectType", "/object/type"])
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let object_id = first(value, &["object_id", "objectId", "/object/id"])
        .and_then(id_text)
        .unwrap_or_default();
    Ok(RoleGrant {
        role_id,
        subject_type,
        subject_id,
        object_type,
        object_id,
    })
}

/// The records of a role-grant answer: the usual `{data: [...]}` envelope or
/// a bare array.
pub(crate) fn role_grant_records(body: &Value) -> Option<&Vec<Value>> {
    match body {
        Value::Array(items) => Some(items),
        Value::Object(_) => body.get("data").and_then(Value::as_array),
        _ => None,
    }
}

#[derive(Debug, Deserialize)]
struct AccessRequestDto {
    id: i64,
    #[serde(default)]
    legacy_id: Option<i64>,
    status: String,
    requesting_email: String,
    #[serde(default)]
    updated_by_id: Option<String>,
    #[serde(default, deserialize_with = "opt_ts")]
    created_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "opt_ts")]
    updated_at: Option<DateTime<Utc>>,
}

pub(crate) fn access_request(value: &Value, index: usize) -> Result<AccessRequest, DecodeFailure> {
    let d: AccessRequestDto = decode_record(value, index)?;
    Ok(AccessRequest {
        id: d.id,
        legacy_id: d.legacy_id,
        status: d.status,
        requesting_email: d.requesting_email,
        updated_by_id: d.updated_by_id.filter(|s| !s.is_empty()),
        created_at: d.created_at,
        updated_at: d.updated_at,
        raw: raw_without(value, &[]),
    })
}

/// The organization settings that are read (`GET /organization/`); every
/// other field (custom CSS and JavaScript, among others) is ignored.
pub const ORGANIZATION_SETTINGS: [&str; 8] = [
    "two_factor_auth_required",
    "two_factor_auth_type",
    "request_access_enabled",
    "app_owners_permissions_management",
    "release_management_enabled",
    "disable_new_login_ip_notification_email",
    "ai_support_bot_disabled",
    "retool_forms_disabled",
];

/// The SSO settings that are read (`GET /sso/config`). Secrets, client ids and
/// the identity provider's URLs are never read; a roles mapping is recorded
/// as `configured` or `none`, never its content.
pub const SSO_SETTINGS: [&str; 5] = [
    "config_type",
    "disable_email_password_login",
    "jit_enabled",
    "restricted_domain",
    "trigger_login_automatically",
];

/// A setting's value as text: strings as they are, booleans and numbers in
/// JSON spelling. Arrays and objects are not settings this reads.
fn setting_text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) => Some(s.clone()),
        Value::Array(_) | Value::Object(_) => None,
    }
}

fn data_object<'a>(body: &'a Value, what: &str) -> Result<Option<&'a Value>, DecodeFailure> {
    match body.get("data") {
        Some(Value::Null) => Ok(None),
        Some(d @ Value::Object(_)) => Ok(Some(d)),
        Some(_) => Err(DecodeFailure::new(
            "data",
            format!("the {what} is not an object"),
        )),
        None => Err(DecodeFailure::new("data", "missing")),
    }
}

fn allow_listed(data: &Value, source: &str, names: &[&str]) -> Result<Vec<Setting>, DecodeFailure> {
    let mut out = Vec::new();
    for name in names {
        // An absent setting and a null one are the same fact: not set.
        let Some(v) = data.get(*name).filter(|v| !v.is_null()) else {
            continue;
        };
        let value = setting_text(v).ok_or_else(|| {
            DecodeFailure::new(
                format!("data.{name}"),
                "expected a string, number or boolean",
            )
        })?;
        out.push(Setting {
            source: source.to_string(),
            name: (*name).to_string(),
            value,
        });
    }
    Ok(out)
}

/// The allow-listed settings of a `GET /organization/` answer.
pub(crate) fn organization_settings(body: &Value) -> Result<Vec<Setting>, DecodeFailure> {
    let data = data_object(body, "organization")?
        .ok_or_else(|| DecodeFailure::new("data", "the organization is null"))?;
    let settings = allow_listed(data, "organization", &ORGANIZATION_SETTINGS)?;
    if settings.is_empty() {
        // Not one known setting: a shape this version does not know, never
        // an organization without settings.
        return Err(DecodeFailure::new("data", "none of the known settings"));
    }
    Ok(settings)
}

/// The allow-listed settings of a `GET /sso/config` answer. No configuration
/// (`data: null`) is `config_type` `none`.
pub(crate) fn sso_settings(body: &Value) -> Result<Vec<Setting>, DecodeFailure> {
    let setting = |name: &str, value: &str| Setting {
        source: "sso".to_string(),
        name: name.to_string(),
        value: value.to_string(),
    };
    let Some(data) = data_object(body, "SSO configuration")? else {
        return Ok(vec![setting("config_type", "none")]);
    };
    let mut out = allow_listed(data, "sso", &SSO_SETTINGS)?;
    if !out.iter().any(|s| s.name == "config_type") {
        return Err(DecodeFailure::new("data.config_type", "missing"));
    }
    let mapped = ["roles_mapping", "jwt_roles_key", "ldap_role_mapping"]
        .iter()
        .any(|k| {
            data.get(*k)
                .is_some_and(|v| v.as_str().is_some_and(|s| !s.is_empty()))
        });
    out.push(setting(
        "roles_mapping",
        if mapped { "configured" } else { "none" },
    ));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn role_grants_are_read_in_every_usual_spelling() {
        let shapes = [
            json!({"role_id": "r1", "subject_type": "group", "subject_id": 7,
                   "object_type": "app", "object_id": "a1"}),
            json!({"roleId": "r1", "subjectType": "group", "subjectId": "7",
                   "objectType": "app", "objectId": "a1"}),
            json!({"role": {"id": "r1"}, "subject": {"type": "group", "id": 7},
                   "object": {"type": "app", "id": "a1"}}),
        ];
        for s in &shapes {
            let g = role_grant(s, 0).unwrap_or_else(|e| panic!("{s}: {e:?}"));
            assert_eq!(
                (
                    g.role_id.as_str(),
                    g.subject_type.as_str(),
                    g.subject_id.as_str()
                ),
                ("r1", "group", "7")
            );
            assert_eq!(
                (g.object_type.as_str(), g.object_id.as_str()),
                ("app", "a1")
            );
        }
        let org_wide = role_grant(
            &json!({"role_id": "r2", "user_id": "user_1", "object_id": null}),
            0,
        )
        .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(org_wide.user().map(|u| u.0), Some("user_1".to_string()));
        assert_eq!(org_wide.object(), None);
        let unknown = role_grant(&json!({"grant": "r1"}), 3).err();
        assert_eq!(unknown.map(|e| e.path).as_deref(), Some("data[3].role_id"));
    }

    #[test]
    fn settings_keep_only_the_allow_list_and_never_a_secret() {
        let org = json!({"success": true, "data": {
            "id": "org", "two_factor_auth_required": false, "two_factor_auth_type": null,
            "request_access_enabled_x": null,
            "request_access_enabled": true, "app_owners_permissions_management": true,
            "preloaded_javascript": "steal()", "javascript_links": ["https://x"]
        }});
        let s = organization_settings(&org).unwrap_or_else(|e| panic!("{e:?}"));
        let names: Vec<&str> = s.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "two_factor_auth_required",
                "request_access_enabled",
                "app_owners_permissions_management"
            ],
            "null is not set, like absent"
        );
        let sso = json!({"success": true, "data": {
            "config_type": "oidc", "oidc_client_id": "cid", "oidc_client_secret": "S3CRET",
            "jit_enabled": true, "restricted_domain": "", "roles_mapping": "admin -> Admins",
            "disable_email_password_login": false, "trigger_login_automatically": false
        }});
        let s = sso_settings(&sso).unwrap_or_else(|e| panic!("{e:?}"));
        let text = format!("{s:?}");
        assert!(!text.contains("S3CRET") && !text.contains("cid") && !text.contains("Admins"));
        assert!(
            s.iter()
                .any(|s| s.name == "roles_mapping" && s.value == "configured")
        );
        // A shape with none of the known settings is not "no settings".
        let odd = json!({"success": true, "data": {"entry": {"two_factor_auth_required": true}}});
        assert_eq!(
            organization_settings(&odd).err().map(|e| e.path).as_deref(),
            Some("data")
        );
        assert!(sso_settings(&odd).is_err());
        let none = sso_settings(&json!({"success": true, "data": null}))
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(none.len(), 1);
        assert_eq!(none[0].value, "none");
    }
}
