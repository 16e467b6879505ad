//! Wire DTOs of Retool API v2 (`/api/v2`, snake_case) and their conversion into
//! [`crate::model`] types. Unknown extra fields are accepted and kept in `raw`.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

use super::decode::{DecodeFailure, decode_record, opt_ts, raw_without};
use crate::model::{
    AccessLevel, AccessToken, App, Folder, Group, GroupFlags, GroupId, Membership, ObjectId,
    Resource, User, UserId, UserInvite, Workflow,
};

#[derive(Debug, Deserialize)]
struct UserDto {
    id: String,
    #[serde(default)]
    legacy_id: Option<i64>,
    email: String,
    #[serde(default)]
    first_name: Option<String>,
    #[serde(default)]
    last_name: Option<String>,
    active: bool,
    is_admin: bool,
    user_type: String,
    two_factor_auth_enabled: bool,
    #[serde(default, deserialize_with = "opt_ts")]
    created_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "opt_ts")]
    last_active: Option<DateTime<Utc>>,
}

pub(crate) fn user(value: &Value, index: usize) -> Result<User, DecodeFailure> {
    let d: UserDto = decode_record(value, index)?;
    Ok(User {
        id: UserId(d.id),
        legacy_id: d.legacy_id,
        email: d.email,
        first_name: d.first_name,
        last_name: d.last_name,
        active: d.active,
        is_admin: d.is_admin,
        user_type: d.user_type,
        two_factor_enabled: Some(d.two_factor_auth_enabled),
        created_at: d.created_at,
        last_active: d.last_active,
        raw: raw_without(value, &[]),
    })
}

#[derive(Debug, Deserialize)]
struct SpaceDto {
    id: String,
    name: String,
    domain: String,
}

pub(crate) fn space(value: &Value, index: usize) -> Result<super::Space, DecodeFailure> {
    let d: SpaceDto = decode_record(value, index)?;
    Ok(super::Space {
        id: d.id,
        name: d.name,
        domain: d.domain,
    })
}

#[derive(Debug, Deserialize)]
struct MemberDto {
    id: String,
    #[serde(default)]
    is_group_admin: bool,
}

#[derive(Debug, Deserialize)]
struct GroupDto {
    #[serde(default)]
    id: Option<i64>,
    #[serde(default)]
    legacy_id: Option<i64>,
    name: String,
    #[serde(default)]
    members: Vec<MemberDto>,
    universal_app_access: AccessLevel,
    universal_resource_access: AccessLevel,
    universal_workflow_access: AccessLevel,
    universal_query_library_access: AccessLevel,
    user_list_access: bool,
    audit_log_access: bool,
    unpublished_release_access: bool,
    usage_analytics_access: bool,
    theme_access: bool,
    account_details_access: bool,
    #[serde(default)]
    landing_page_app_id: Option<String>,
    #[serde(default, deserialize_with = "opt_ts")]
    created_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "opt_ts")]
    updated_at: Option<DateTime<Utc>>,
}

/// A group and the memberships from its `members` list.
pub(crate) fn group(
    value: &Value,
    index: usize,
) -> Result<(Group, Vec<Membership>), DecodeFailure> {
    let d: GroupDto = decode_record(value, index)?;
    let id = d.id.or(d.legacy_id).map(GroupId).ok_or_else(|| {
        DecodeFailure::new(
            format!("data[{index}].id"),
            "the group has neither an id nor a legacy_id",
        )
    })?;
    let memberships = d
        .members
        .into_iter()
        .map(|m| Membership {
            group_id: id,
            user_id: UserId(m.id),
            is_group_admin: m.is_group_admin,
        })
        .collect();
    let group = Group {
        id,
        legacy_id: d.legacy_id,
        name: d.name,
        universal_app_access: d.universal_app_access,
        universal_resource_access: d.universal_resource_access,
        universal_workflow_access: d.universal_workflow_access,
        universal_query_library_access: d.universal_query_library_access,
        flags: GroupFlags {
            user_list_access: d.user_list_access,
            audit_log_access: d.audit_log_access,
            unpublished_release_access: d.unpublished_release_access,
            usage_analytics_access: d.usage_analytics_access,
            theme_access: d.theme_access,
            account_details_access: d.account_details_access,
        },
        landing_page_app_id: d.landing_page_app_id,
        created_at: d.created_at,
        updated_at: d.updated_at,
        raw: raw_without(value, &["members", "user_invites"]),
    };
    Ok((group, memberships))
}

#[derive(Debug, Deserialize)]
struct FolderDto {
    id: String,
    name: String,
    #[serde(default)]
    parent_folder_id: Option<String>,
    is_system_folder: bool,
    folder_type: String,
    #[serde(default, deserialize_with = "opt_ts")]
    created_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "opt_ts")]
    updated_at: Option<DateTime<Utc>>,
}

pub(crate) fn folder(value: &Value, index: usize) -> Result<Folder, DecodeFailure> {
    let d: FolderDto = decode_record(value, index)?;
    Ok(Folder {
        id: ObjectId(d.id),
        name: d.name,
        parent_id: d.parent_folder_id.map(ObjectId),
        is_system_folder: d.is_system_folder,
        folder_type: d.folder_type,
        created_at: d.created_at,
        updated_at: d.updated_at,
        raw: raw_without(value, &[]),
    })
}

#[derive(Debug, Deserialize)]
struct AppDto {
    id: String,
    name: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    folder_id: Option<String>,
    protected: bool,
    #[serde(default)]
    is_module: bool,
    #[serde(default)]
    is_mobile_app: bool,
    #[serde(default, deserialize_with = "opt_ts")]
    created_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "opt_ts")]
    updated_at: Option<DateTime<Utc>>,
}

pub(crate) fn app(value: &Value, index: usize) -> Result<App, DecodeFailure> {
    let d: AppDto = decode_record(value, index)?;
    Ok(App {
        id: ObjectId(d.id),
        name: d.name,
        description: d.description,
        folder_id: d.folder_id.map(ObjectId),
        protected: d.protected,
        is_module: d.is_module,
        is_mobile_app: d.is_mobile_app,
        created_at: d.created_at,
        updated_at: d.updated_at,
        raw: raw_without(value, &[]),
    })
}

#[derive(Debug, Deserialize)]
struct ResourceDto {
    id: String,
    #[serde(rename = "type")]
    resource_type: String,
    display_name: String,
    #[serde(default)]
    folder_id: Option<String>,
    #[serde(default)]
    protected: bool,
    #[serde(default, deserialize_with = "opt_ts")]
    created_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "opt_ts")]
    updated_at: Option<DateTime<Utc>>,
}

pub(crate) fn resource(value: &Value, index: usize) -> Result<Resource, DecodeFailure> {
    let d: ResourceDto = decode_record(value, index)?;
    Ok(Resource {
        id: ObjectId(d.id),
        name: d.display_name,
        resource_type: d.resource_type,
        folder_id: d.folder_id.map(ObjectId),
        protected: d.protected,
        created_at: d.created_at,
        updated_at: d.updated_at,
        raw: raw_without(value, &[]),
    })
}

#[derive(Debug, Deserialize)]
struct WorkflowDto {
    id: String,
    name: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    folder_id: Option<String>,
    is_enabled: bool,
    #[serde(default)]
    protected: bool,
    #[serde(default, deserialize_with = "opt_ts")]
    created_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "opt_ts")]
    updated_at: Option<DateTime<Utc>>,
}

pub(crate) fn workflow(value: &Value, index: usize) -> Result<Workflow, DecodeFailure> {
    let d: WorkflowDto = decode_record(value, index)?;
    Ok(Workflow {
        id: ObjectId(d.id),
        name: d.name,
        description: d.description,
        folder_id: d.folder_id.map(ObjectId),
        is_enabled: d.is_enabled,
        protected: d.protected,
        created_at: d.created_at,
        updated_at: d.updated_at,
        raw: raw_without(value, &[]),
    })
}

#[derive(Debug, Deserialize)]
struct InviteGroupDto {
    #[serde(default)]
    id: Option<i64>,
    #[serde(default)]
    legacy_id: Option<i64>,
}

#[derive(Debug, Deserialize)]
struct InviteDto {
    id: i64,
    invited_email: String,
    #[serde(default)]
    invited_by: Option<String>,
    #[serde(default)]
    user_type: Option<String>,
    #[serde(default)]
    groups: Vec<InviteGroupDto>,
    #[serde(default, deserialize_with = "opt_ts")]
    expires_at: Option<DateTime<Utc>>,
    #[serde(default)]
    claimed_by: Option<String>,
    #[serde(default, deserialize_with = "opt_ts")]
    claimed_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "opt_ts")]
    created_at: Option<DateTime<Utc>>,
}

/// An invite; the `invite_link` (a credential) is dropped, from `raw` too.
pub(crate) fn user_invite(value: &Value, index: usize) -> Result<UserInvite, DecodeFailure> {
    let d: InviteDto = decode_record(value, index)?;
    let mut group_ids: Vec<GroupId> = d
        .groups
        .iter()
        .filter_map(|g| g.id.or(g.legacy_id).map(GroupId))
        .collect();
    group_ids.sort();
    group_ids.dedup();
    Ok(UserInvite {
        id: d.id,
        email: d.invited_email,
        invited_by: d.invited_by,
        user_type: d.user_type,
        group_ids,
        expires_at: d.expires_at,
        claimed_by: d.claimed_by,
        claimed_at: d.claimed_at,
        created_at: d.created_at,
        raw: raw_without(value, &["invite_link"]),
    })
}

#[derive(Debug, Deserialize)]
struct AccessTokenDto {
    id: String,
    label: String,
    #[serde(default)]
    description: Option<String>,
    last4: String,
    #[serde(default)]
    owner_legacy_id: Option<i64>,
    #[serde(default)]
    scopes: Vec<String>,
    #[serde(default, deserialize_with = "opt_ts")]
    created_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "opt_ts")]
    updated_at: Option<DateTime<Utc>>,
}

/// Token metadata. Should a server ever include the secret itself
/// (`access_token`, as on creation), it is dropped.
pub(crate) fn access_token(value: &Value, index: usize) -> Result<AccessToken, DecodeFailure> {
    let d: AccessTokenDto = decode_record(value, index)?;
    Ok(AccessToken {
        id: d.id,
        label: d.label,
        description: d.description,
        last4: d.last4,
        owner_legacy_id: d.owner_legacy_id,
        scopes: d.scopes,
        created_at: d.created_at,
        updated_at: d.updated_at,
        raw: raw_without(value, &["access_token"]),
    })
}

#[derive(Debug, Deserialize)]
struct GrantItemDto {
    #[serde(rename = "type")]
    object_type: String,
    id: String,
    access_level: AccessLevel,
}

/// One `listObjects` item: its wire type, object id and level.
pub(crate) fn grant_item(
    value: &Value,
    index: usize,
) -> Result<(String, ObjectId, AccessLevel), DecodeFailure> {
    let d: GrantItemDto = decode_record(value, index)?;
    Ok((d.object_type, ObjectId(d.id), d.access_level))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn v2_user_maps_two_factor_and_keeps_unknown_fields_in_raw() {
        let v = json!({
            "id": "user_abc", "legacy_id": 7, "email": "a@x.io", "active": false,
            "created_at": "2024-01-02T03:04:05.678Z", "last_active": null,
            "first_name": null, "last_name": "L", "metadata": {}, "is_admin": true,
            "user_type": "default", "two_factor_auth_enabled": false, "future_field": 1
        });
        let u = user(&v, 0).map_err(|e| e.path);
        let u = match u {
            Ok(u) => u,
            Err(p) => panic!("decode failed at {p}"),
        };
        assert_eq!(u.two_factor_enabled, Some(false));
        assert!(!u.active && u.is_admin);
        assert_eq!(u.last_active, None);
        assert!(u.raw.contains("\"future_field\":1"));
        assert_eq!(
            u.created_at.map(|t| t.to_rfc3339()).as_deref(),
            Some("2024-01-02T03:04:05.678+00:00")
        );
    }

    #[test]
    fn group_raw_has_no_members_or_invites_and_levels_are_checked() {
        let mut v = json!({
            "id": 3, "legacy_id": 3, "name": "Eng",
            "members": [{"id": "user_a", "email": "a@x.io", "is_group_admin": true}],
            "universal_app_access": "edit", "universal_resource_access": "none",
            "universal_workflow_access": "use", "universal_query_library_access": "none",
            "user_invites": [{"invite_link": "https://secret"}],
            "user_list_access": true, "audit_log_access": false,
            "unpublished_release_access": false, "usage_analytics_access": false,
            "theme_access": false, "account_details_access": false,
            "landing_page_app_id": null, "created_at": "2024-01-01T00:00:00Z",
            "updated_at": "2024-01-01T00:00:00Z"
        });
        let (g, m) = group(&v, 0)
            .map_err(|e| e.path)
            .unwrap_or_else(|p| panic!("{p}"));
        assert_eq!(g.universal_app_access, AccessLevel::Edit);
        assert!(!g.raw.contains("members") && !g.raw.contains("secret"));
        assert_eq!(m.len(), 1);
        assert!(m[0].is_group_admin);
        v["universal_app_access"] = json!("superuser");
        let err = group(&v, 4).err().map(|e| e.path);
        assert_eq!(err.as_deref(), Some("data[4].universal_app_access"));
    }

    #[test]
    fn invite_link_never_survives() {
        let v = json!({
            "id": 9, "legacy_id": 9, "invited_by": "b@x.io", "invited_email": "c@x.io",
            "expires_at": "2024-02-01T00:00:00Z", "claimed_by": null, "claimed_at": null,
            "user_type": "default", "metadata": null, "created_at": "2024-01-01T00:00:00Z",
            "invite_link": "https://acme.retool.com/invite?token=SECRET",
            "groups": [{"id": 4, "legacy_id": 4, "name": "Eng"}]
        });
        let i = user_invite(&v, 0)
            .map_err(|e| e.path)
            .unwrap_or_else(|p| panic!("{p}"));
        assert!(!i.raw.contains("SECRET") && !i.raw.contains("invite_link"));
        assert_eq!(i.group_ids, vec![GroupId(4)]);
    }
}
