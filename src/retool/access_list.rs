//! Decoding `GET /permissions/accessList/{type}/{id}`: every user (and group)
//! with access to one object, the level, and where it comes from.

use serde::Deserialize;
use serde_json::Value;

use super::decode::{DecodeFailure, decode_record};
use crate::model::AccessLevel;

/// One user Retool lists on an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedUser {
    pub user_id: String,
    pub level: AccessLevel,
    /// `direct`, `universal`, `groups:<id>,…`, `inherited:<type>:<id>`,
    /// joined by `;`.
    pub sources: String,
}

#[derive(Debug, Deserialize)]
struct Ref {
    id: Value,
    #[serde(rename = "type")]
    kind: String,
}

#[derive(Debug, Default, Deserialize)]
struct Sources {
    #[serde(default)]
    direct: bool,
    #[serde(default)]
    universal: bool,
    #[serde(default)]
    groups: Vec<Ref>,
    #[serde(default)]
    inherited: Option<Ref>,
}

#[derive(Debug, Deserialize)]
struct Entry {
    subject: Ref,
    #[serde(default)]
    sources: Option<Sources>,
    #[serde(rename = "accessLevel", alias = "access_level")]
    level: AccessLevel,
}

fn id_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The users an access-list answer names (groups and invites are not
/// compared), with their level and sources.
pub(crate) fn listed_users(body: &Value) -> Result<Vec<ListedUser>, DecodeFailure> {
    let users = match body.pointer("/data/user") {
        Some(Value::Array(items)) => items,
        Some(Value::Null) | None if body.pointer("/data").is_some_and(Value::is_object) => {
            return Ok(Vec::new());
        }
        _ => return Err(DecodeFailure::new("data.user", "missing")),
    };
    let mut out = Vec::with_capacity(users.len());
    for (i, v) in users.iter().enumerate() {
        let e: Entry = decode_record(v, i).map_err(|f| DecodeFailure {
            path: f.path.replacen("data[", "data.user[", 1),
            detail: f.detail,
        })?;
        if e.subject.kind != "user" {
            continue;
        }
        let s = e.sources.unwrap_or_default();
        let mut parts = Vec::new();
        if s.direct {
            parts.push("direct".to_string());
        }
        if s.universal {
            parts.push("universal".to_string());
        }
        if !s.groups.is_empty() {
            let ids: Vec<String> = s.groups.iter().map(|g| id_text(&g.id)).collect();
            parts.push(format!("groups:{}", ids.join(",")));
        }
        if let Some(r) = &s.inherited {
            parts.push(format!("inherited:{}:{}", r.kind, id_text(&r.id)));
        }
        out.push(ListedUser {
            user_id: id_text(&e.subject.id),
            level: e.level,
            sources: parts.join(";"),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn users_are_read_with_their_sources_and_groups_are_skipped() {
        let body = json!({"success": true, "data": {
            "group": [{"subject": {"id": "3", "type": "group"}, "accessLevel": "edit"}],
            "user": [
                {"subject": {"id": "user_a", "type": "user"}, "accessLevel": "own",
                 "sources": {"direct": true, "universal": false,
                             "groups": [{"id": "3", "type": "group"}, {"id": 5, "type": "group"}],
                             "inherited": {"id": "app_1", "type": "folder"}}},
                {"subject": {"id": "user_b", "type": "user"}, "accessLevel": "use"}
            ],
            "userInvite": []
        }});
        let users = listed_users(&body).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(users.len(), 2);
        assert_eq!(users[0].sources, "direct;groups:3,5;inherited:folder:app_1");
        assert_eq!(
            (users[1].level, users[1].sources.as_str()),
            (AccessLevel::Use, "")
        );
        let odd = json!({"success": true, "data": {"user": [{"who": "x"}]}});
        assert_eq!(
            listed_users(&odd).err().map(|e| e.path).as_deref(),
            Some("data.user[0]")
        );
    }
}
