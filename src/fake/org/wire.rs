//! The wire: each record as the v2 API and the v1 Management API send it, and
//! the answers of `listObjects`. Built with `serde_json`
//! values; no DTO is shared with `retool/`.

use std::collections::HashMap;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

use super::names::resource_type_display;
use super::{
    FakeAccessRequest, FakeApp, FakeFolder, FakeGroup, FakeInvite, FakeOrg, FakeResource, FakeRole,
    FakeRoleGrant, FakeSpace, FakeToken, FakeUser, FakeWorkflow,
};
use crate::model::{ObjectType, Subject};

/// Formats a timestamp the way the fake sends it (RFC 3339, milliseconds, `Z`).
pub fn wire_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn opt_time(t: Option<DateTime<Utc>>) -> Value {
    t.map_or(Value::Null, |t| Value::String(wire_time(t)))
}

impl FakeOrg {
    /// The v2 `GET /role_permissions/roles` record.
    pub fn role_v2(r: &FakeRole) -> Value {
        json!({
            "id": r.id,
            "organization_id": "org_fake",
            "name": r.name,
            "description": r.description,
            "is_default_role": r.is_default_role,
            "is_legacy_role": r.is_legacy_role,
            "object_scopes": r.object_scopes,
            "organization_scopes": r.organization_scopes,
            "added_dependent_scopes": [],
            "created_at": wire_time(r.created_at),
            "updated_at": wire_time(r.updated_at),
        })
    }

    /// A `GET /role_permissions/role_grants` record. Retool does not document
    /// the list's shape; the fake sends the create body's field names, with
    /// `null` object fields for an organization-wide grant.
    pub fn role_grant_v2(g: &FakeRoleGrant) -> Value {
        let (subject_type, subject_id) = match &g.subject {
            Subject::Group(id) => ("group", json!(id.0)),
            Subject::User(id) => ("user", json!(id.0)),
        };
        json!({
            "role_id": g.role_id,
            "subject_type": subject_type,
            "subject_id": subject_id,
            "object_type": g.object.as_ref().map(|o| o.object_type.as_str()),
            "object_id": g.object.as_ref().map(|o| o.id.0.as_str()),
        })
    }

    /// A `GET /usage/user_summary` record.
    pub fn usage_v2(u: &super::FakeUsage) -> Value {
        json!({
            "org_id": "org_fake",
            "user_id": u.user_id,
            "email": u.email,
            "host": "fake.retool.example",
            "count_app_views": u.app_views,
            "count_app_saves": u.app_saves,
            "count_unique_apps": u.unique_apps,
            "last_active": opt_time(u.last_active),
        })
    }

    /// The v2 `GET /access_requests` record.
    pub fn access_request_v2(r: &FakeAccessRequest) -> Value {
        json!({
            "id": r.id,
            "status": r.status,
            "legacy_id": r.id,
            "requesting_email": r.requesting_email,
            "updated_by_id": r.updated_by_id,
            "created_at": wire_time(r.created_at),
            "updated_at": wire_time(r.updated_at),
        })
    }

    /// The v2 `GET /users` record.
    pub fn user_v2(u: &FakeUser) -> Value {
        json!({
            "id": u.id,
            "legacy_id": u.legacy_id,
            "email": u.email,
            "active": u.active,
            "created_at": wire_time(u.created_at),
            "last_active": opt_time(u.last_active),
            "first_name": u.first_name,
            "last_name": u.last_name,
            "metadata": {},
            "is_admin": u.is_admin,
            "user_type": u.user_type,
            "two_factor_auth_enabled": u.two_factor,
        })
    }

    /// The v1 `GET /users` record (camelCase, `isDisabled`, `groups`).
    pub fn user_v1(&self, u: &FakeUser) -> Value {
        let groups: Vec<Value> = self
            .groups
            .iter()
            .filter(|g| g.members.iter().any(|m| m.user_id == u.id))
            .map(|g| json!({"id": g.id, "name": g.name}))
            .collect();
        self.user_v1_with_groups(u, groups)
    }

    pub(crate) fn user_v1_with_groups(&self, u: &FakeUser, groups: Vec<Value>) -> Value {
        let mut v = json!({
            "id": u.id,
            "email": u.email,
            "isAdmin": u.is_admin,
            "isDisabled": !u.active,
            "userType": if u.user_type == "default" { "default" } else { "endUser" },
            "groups": groups,
            "createdAt": wire_time(u.created_at),
            "updatedAt": wire_time(u.updated_at),
        });
        if let Some(obj) = v.as_object_mut() {
            if let Some(f) = &u.first_name {
                obj.insert("firstName".into(), json!(f));
            }
            if let Some(l) = &u.last_name {
                obj.insert("lastName".into(), json!(l));
            }
        }
        v
    }

    /// Groups each user belongs to, as v1 `groups` refs, keyed by user id.
    pub(crate) fn v1_user_groups(&self) -> HashMap<&str, Vec<Value>> {
        let mut map: HashMap<&str, Vec<Value>> = HashMap::new();
        for g in &self.groups {
            for m in &g.members {
                map.entry(m.user_id.as_str())
                    .or_default()
                    .push(json!({"id": g.id, "name": g.name}));
            }
        }
        map
    }

    pub(super) fn invite_v2(&self, i: &FakeInvite) -> Value {
        let groups: Vec<Value> = i
            .group_ids
            .iter()
            .map(|gid| {
                let name = self
                    .groups
                    .iter()
                    .find(|g| g.id == *gid)
                    .map(|g| g.name.clone())
                    .unwrap_or_default();
                json!({"id": gid, "legacy_id": gid, "name": name})
            })
            .collect();
        json!({
            "id": i.id,
            "legacy_id": i.id,
            "invited_by": i.invited_by,
            "invited_email": i.email,
            "expires_at": wire_time(i.expires_at),
            "claimed_by": i.claimed_by,
            "claimed_at": opt_time(i.claimed_at),
            "user_type": i.user_type,
            "metadata": null,
            "created_at": wire_time(i.created_at),
            "invite_link": i.invite_link,
            "groups": groups,
        })
    }

    /// The v2 group record without `members`/`user_invites` (what `raw` keeps).
    pub(super) fn group_v2_base(g: &FakeGroup) -> Value {
        json!({
            "id": g.id,
            "legacy_id": g.id,
            "name": g.name,
            "universal_app_access": g.universal_app.as_str(),
            "universal_resource_access": g.universal_resource.as_str(),
            "universal_workflow_access": g.universal_workflow.as_str(),
            "universal_query_library_access": g.universal_query_library.as_str(),
            "user_list_access": g.flags.user_list_access,
            "audit_log_access": g.flags.audit_log_access,
            "unpublished_release_access": g.flags.unpublished_release_access,
            "usage_analytics_access": g.flags.usage_analytics_access,
            "theme_access": g.flags.theme_access,
            "account_details_access": g.flags.account_details_access,
            "landing_page_app_id": g.landing_page_app_id,
            "created_at": wire_time(g.created_at),
            "updated_at": wire_time(g.updated_at),
        })
    }

    /// Emails by user id, for rendering group members.
    pub(crate) fn emails(&self) -> HashMap<&str, &str> {
        self.users
            .iter()
            .map(|u| (u.id.as_str(), u.email.as_str()))
            .collect()
    }

    /// The full v2 group record with `members` and `user_invites`.
    pub fn group_v2(&self, g: &FakeGroup, emails: &HashMap<&str, &str>) -> Value {
        let mut v = Self::group_v2_base(g);
        let members: Vec<Value> = g
            .members
            .iter()
            .map(|m| {
                json!({
                    "id": m.user_id,
                    "email": emails.get(m.user_id.as_str()).copied().unwrap_or_default(),
                    "is_group_admin": m.is_group_admin,
                })
            })
            .collect();
        let invites: Vec<Value> = self
            .invites
            .iter()
            .filter(|i| i.group_ids.contains(&g.id))
            .map(|i| self.invite_v2(i))
            .collect();
        if let Some(o) = v.as_object_mut() {
            o.insert("members".into(), Value::Array(members));
            o.insert("user_invites".into(), Value::Array(invites));
        }
        v
    }

    pub(super) fn group_v1_base(g: &FakeGroup) -> Value {
        json!({
            "id": g.id,
            "name": g.name,
            "createdAt": wire_time(g.created_at),
            "updatedAt": wire_time(g.updated_at),
        })
    }

    /// The v1 group record with `members: [{id, email}]`.
    pub fn group_v1(g: &FakeGroup, emails: &HashMap<&str, &str>) -> Value {
        let mut v = Self::group_v1_base(g);
        let members: Vec<Value> = g
            .members
            .iter()
            .map(|m| json!({"id": m.user_id, "email": emails.get(m.user_id.as_str()).copied().unwrap_or_default()}))
            .collect();
        if let Some(o) = v.as_object_mut() {
            o.insert("members".into(), Value::Array(members));
        }
        v
    }

    pub fn folder_v2(f: &FakeFolder) -> Value {
        json!({
            "id": f.id,
            "legacy_id": f.id,
            "name": f.name,
            "parent_folder_id": f.parent_id,
            "is_system_folder": f.is_system,
            "folder_type": f.folder_type,
            "created_at": wire_time(f.created_at),
            "updated_at": wire_time(f.updated_at),
        })
    }

    pub fn folder_v1(f: &FakeFolder) -> Value {
        let mut v = json!({
            "id": f.id,
            "name": f.name,
            "folderType": f.folder_type,
            "createdAt": wire_time(f.created_at),
        });
        if let (Some(p), Some(o)) = (&f.parent_id, v.as_object_mut()) {
            o.insert("parentFolderId".into(), json!(p));
        }
        v
    }

    pub fn app_v2(a: &FakeApp) -> Value {
        json!({
            "id": a.id,
            "name": a.name,
            "description": a.description,
            "folder_id": a.folder_id,
            "protected": a.protected,
            "synced": false,
            "shortlink": null,
            "is_module": a.is_module,
            "is_mobile_app": a.is_mobile_app,
            "created_at": wire_time(a.created_at),
            "updated_at": wire_time(a.updated_at),
            "release_version": "latest",
        })
    }

    pub fn app_v1(a: &FakeApp) -> Value {
        let mut v = json!({
            "id": a.id,
            "name": a.name,
            "folderId": a.folder_id,
            "createdBy": a.created_by,
            "createdAt": wire_time(a.created_at),
            "updatedAt": wire_time(a.updated_at),
        });
        if let (Some(d), Some(o)) = (&a.description, v.as_object_mut()) {
            o.insert("description".into(), json!(d));
        }
        v
    }

    pub fn resource_v2(r: &FakeResource) -> Value {
        json!({
            "id": r.id,
            "type": r.resource_type,
            "display_name": r.display_name,
            "folder_id": r.folder_id,
            "protected": r.protected,
            "created_at": wire_time(r.created_at),
            "updated_at": wire_time(r.updated_at),
        })
    }

    pub fn resource_v1(r: &FakeResource) -> Value {
        json!({
            "id": r.id,
            "name": r.display_name,
            "type": r.resource_type,
            "displayName": resource_type_display(&r.resource_type),
            "createdAt": wire_time(r.created_at),
            "updatedAt": wire_time(r.updated_at),
        })
    }

    pub fn workflow_v2(w: &FakeWorkflow) -> Value {
        json!({
            "id": w.id,
            "name": w.name,
            "description": w.description,
            "crontab": w.crontab,
            "timezone": w.crontab.as_ref().map(|_| "UTC"),
            "is_enabled": w.is_enabled,
            "folder_id": w.folder_id,
            "protected": w.protected,
            "created_by": w.created_by,
            "created_at": wire_time(w.created_at),
            "updated_at": wire_time(w.updated_at),
        })
    }

    /// The v2 `GET /user_invites` record (with `invite_link`, as Retool sends it).
    pub fn invite_record_v2(&self, i: &FakeInvite) -> Value {
        self.invite_v2(i)
    }

    pub fn token_v2(t: &FakeToken) -> Value {
        json!({
            "id": t.id,
            "label": t.label,
            "description": t.description,
            "last4": t.last4,
            "owner_legacy_id": t.owner_legacy_id,
            "scopes": t.scopes,
            "created_at": wire_time(t.created_at),
            "updated_at": wire_time(t.updated_at),
        })
    }

    pub fn space_v2(s: &FakeSpace) -> Value {
        json!({
            "id": s.id,
            "name": s.name,
            "domain": s.domain,
            "created_at": wire_time(s.created_at),
            "updated_at": wire_time(s.updated_at),
        })
    }

    /// `listObjects` answer for one subject and object type: `[{type,id,access_level}]`.
    pub fn list_objects(&self, subject: &Subject, object_type: ObjectType) -> Vec<Value> {
        self.grants
            .iter()
            .filter(|g| &g.subject == subject && g.object.object_type == object_type)
            .map(|g| {
                json!({
                    "type": object_type.as_str(),
                    "id": g.object.id.0,
                    "access_level": g.level.as_str(),
                })
            })
            .collect()
    }
}
