//! The simulated Retool's write endpoints — the ones `review plan` emits — so a
//! test can carry out a plan against it and prove the result with a snapshot
//! (retool-audit itself never calls them). Validation follows Retool's API v2
//! spec: ids by pattern, required fields, no unknown properties where the spec
//! forbids them; 404 for a group, user or member that does not exist.

use axum::body::Bytes;
use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use super::org::FakeOrg;
use super::server::{Answer, Route, bad};
use crate::model::{GroupId, ObjectId, ObjectRef, ObjectType, Subject, UserId};

fn not_found(message: impl Into<String>) -> (StatusCode, String) {
    (StatusCode::NOT_FOUND, message.into())
}

fn body_object(body: &Bytes) -> Result<Map<String, Value>, (StatusCode, String)> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(o)) => Ok(o),
        Ok(_) => Err(bad("request body must be a JSON object")),
        Err(e) => Err(bad(format!("request body is not valid JSON: {e}"))),
    }
}

/// Refuses properties the spec does not list (`additionalProperties: false`).
fn only(o: &Map<String, Value>, allowed: &[&str], what: &str) -> Result<(), (StatusCode, String)> {
    match o.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(bad(format!("{what}: unknown property `{k}`"))),
        None => Ok(()),
    }
}

/// A group id path parameter (`^\d+$`) of an existing group.
fn group_id(org: &FakeOrg, id: &str) -> Result<GroupId, (StatusCode, String)> {
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad(format!(
            "groupId must be the group's ID number, not `{id}`"
        )));
    }
    let gid: i64 = id
        .parse()
        .map_err(|_| bad(format!("groupId `{id}` is out of range")))?;
    if org.groups.iter().any(|g| g.id == gid) {
        Ok(GroupId(gid))
    } else {
        Err(not_found(format!("Group {gid} not found")))
    }
}

/// A user id (`user_<lowercase alphanumerics>`) of an existing user.
fn user_id(org: &FakeOrg, id: &str) -> Result<UserId, (StatusCode, String)> {
    let well_formed = id.strip_prefix("user_").is_some_and(|rest| {
        !rest.is_empty()
            && rest
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    });
    if !well_formed {
        return Err(bad(format!("user id must look like user_<id>, not `{id}`")));
    }
    if org.users.iter().any(|u| u.id == id) {
        Ok(UserId(id.to_string()))
    } else {
        Err(not_found(format!("User {id} not found")))
    }
}

fn group_answer(org: &FakeOrg, gid: GroupId) -> Answer {
    let emails = org.emails();
    let g = org
        .groups
        .iter()
        .find(|g| g.id == gid.0)
        .ok_or_else(|| not_found(format!("Group {gid} not found")))?;
    Ok(json!({"success": true, "data": org.group_v2(g, &emails)}))
}

/// Answers one write route, changing `org`.
pub(super) fn answer_write(org: &mut FakeOrg, route: &Route, body: &Bytes) -> Answer {
    match route {
        Route::V2RemoveMember(group, user) => {
            let gid = group_id(org, group)?;
            let uid = user_id(org, user)?;
            if !org.revoke_membership(gid, &uid) {
                return Err(not_found(format!(
                    "User {uid} is not a member of group {gid}"
                )));
            }
            group_answer(org, gid)
        }
        Route::V2AddMembers(group) => {
            let gid = group_id(org, group)?;
            let req = body_object(body)?;
            only(&req, &["members"], "body")?;
            let members = req
                .get("members")
                .and_then(Value::as_array)
                .ok_or_else(|| bad("members is required: an array of {id, is_group_admin}"))?;
            let mut changes = Vec::with_capacity(members.len());
            for m in members {
                let id = m
                    .get("id")
                    .and_then(Value::as_str)
                    .ok_or_else(|| bad("members[].id is required: a user id"))?;
                let admin = m
                    .get("is_group_admin")
                    .and_then(Value::as_bool)
                    .ok_or_else(|| bad("members[].is_group_admin is required: a boolean"))?;
                changes.push((user_id(org, id)?, admin));
            }
            for (uid, admin) in &changes {
                org.set_member(gid, uid, *admin);
            }
            group_answer(org, gid)
        }
        Route::V2Revoke => {
            let req = body_object(body)?;
            only(&req, &["subject", "object"], "body")?;
            let subject = match req.get("subject") {
                Some(Value::Object(s)) => {
                    only(s, &["type", "id"], "subject")?;
                    match (s.get("type").and_then(Value::as_str), s.get("id")) {
                        (Some("group"), Some(Value::Number(n))) => {
                            let gid = n
                                .as_i64()
                                .ok_or_else(|| bad("subject.id of a group must be an integer"))?;
                            Subject::Group(group_id(org, &gid.to_string())?)
                        }
                        (Some("user"), Some(Value::String(id))) => Subject::User(user_id(org, id)?),
                        _ => {
                            return Err(bad(
                                "subject must be {type: \"group\", id: number} or {type: \"user\", id: \"user_...\"}",
                            ));
                        }
                    }
                }
                _ => return Err(bad("subject is required")),
            };
            let object = match req.get("object") {
                Some(Value::Object(o)) => {
                    only(o, &["type", "id"], "object")?;
                    let object_type = match o.get("type").and_then(Value::as_str) {
                        Some("folder") => ObjectType::Folder,
                        Some("app") => ObjectType::App,
                        Some("resource") => ObjectType::Resource,
                        other => {
                            return Err(bad(format!(
                                "object.type must be folder, app, screen, resource or \
                                 resource_configuration, not {other:?}"
                            )));
                        }
                    };
                    let id = o
                        .get("id")
                        .and_then(Value::as_str)
                        .filter(|id| !id.is_empty())
                        .ok_or_else(|| bad("object.id is required: a string"))?;
                    ObjectRef {
                        object_type,
                        id: ObjectId(id.to_string()),
                    }
                }
                _ => return Err(bad("object is required")),
            };
            org.revoke_grant(&subject, &object);
            Ok(json!({
                "success": true,
                "data": org.list_objects(&subject, object.object_type),
            }))
        }
        Route::V2PatchUser(user) => {
            let uid = user_id(org, user)?;
            let req = body_object(body)?;
            only(&req, &["operations"], "body")?;
            let ops = req
                .get("operations")
                .and_then(Value::as_array)
                .ok_or_else(|| bad("operations is required: an array of JSON Patch operations"))?;
            let mut active = None;
            for op in ops {
                let kind = op.get("op").and_then(Value::as_str);
                let path = op.get("path").and_then(Value::as_str);
                match (kind, path, op.get("value")) {
                    (Some("replace" | "add"), Some("/active"), Some(Value::Bool(b))) => {
                        active = Some(*b)
                    }
                    (Some("replace" | "add"), Some("/active"), _) => {
                        return Err(bad("/active takes a boolean value"));
                    }
                    (Some("add" | "remove" | "replace"), Some(p), _) => {
                        return Err(bad(format!(
                            "the simulated Retool supports only /active in PATCH /users, not {p}"
                        )));
                    }
                    _ => return Err(bad("each operation needs op (add|remove|replace) and path")),
                }
            }
            if let Some(a) = active {
                org.set_user_active(&uid, a);
            }
            let u = org
                .users
                .iter()
                .find(|u| u.id == uid.0)
                .ok_or_else(|| not_found(format!("User {uid} not found")))?;
            Ok(json!({"success": true, "data": FakeOrg::user_v2(u)}))
        }
        _ => Err(bad("not a write route")),
    }
}
