//! Wire DTOs of the older v1 Management API (`/api/v1`, camelCase) and their
//! conversion into [`crate::model`] types. v1 knows no universal access levels,
//! group admins, two-factor state or last-active times; those map to their
//! "not said" values (`none`, `false`, `None`).

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

use super::decode::{DecodeFailure, decode_record, opt_ts, raw_without};
use crate::model::{
    AccessLevel, App, Folder, Group, GroupFlags, GroupId, Membership, ObjectId, Resource, User,
    UserId,
};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct UserDto {
    id: String,
    email: String,
    #[serde(default)]
    first_name: Option<String>,
    #[serde(default)]
    last_name: Option<String>,
    is_admin: bool,
    is_disabled: bool,
    user_type: String,
    #[serde(default, deserialize_with = "opt_ts")]
    created_at: Option<DateTime<Utc>>,
}

pub(crate) fn user(value: &Value, index: usize) -> Result<User, DecodeFailure> {
    let d: UserDto = decode_record(value, index)?;
    Ok(User {
        id: UserId(d.id),
        email: d.email,
        first_name: d.first_name,
        last_name: d.last_name,
        active: !d.is_disabled,
        is_admin: d.is_admin,
        user_type: d.user_type,
        created_at: d.created_at,
        raw: raw_without(value, &[]),
        // What the v1 API does not have keeps its default.
        ..Default::default()
    })
}

#[derive(Debug, Deserialize)]
struct MemberDto {
    id: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct GroupDto {
    id: i64,
    name: String,
    #[serde(default)]
    members: Vec<MemberDto>,
    #[serde(default, deserialize_with = "opt_ts")]
    created_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "opt_ts")]
    updated_at: Option<DateTime<Utc>>,
}

pub(crate) fn group(
    value: &Value,
    index: usize,
) -> Result<(Group, Vec<Membership>), DecodeFailure> {
    let d: GroupDto = decode_record(value, index)?;
    let id = GroupId(d.id);
    let memberships = d
        .members
        .into_iter()
        .map(|m| Membership {
            group_id: id,
            user_id: UserId(m.id),
            is_group_admin: false,
        })
        .collect();
    let group = Group {
        id,
        legacy_id: None,
        name: d.name,
        universal_app_access: AccessLevel::None,
        universal_resource_access: AccessLevel::None,
        universal_workflow_access: AccessLevel::None,
        universal_query_library_access: AccessLevel::None,
        flags: GroupFlags::default(),
        landing_page_app_id: None,
        created_at: d.created_at,
        updated_at: d.updated_at,
        raw: raw_without(value, &["members", "user_invites"]),
    };
    Ok((group, memberships))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AppDto {
    id: String,
    name: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    folder_id: Option<String>,
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
        created_at: d.created_at,
        updated_at: d.updated_at,
        raw: raw_without(value, &[]),
        // What the v1 API does not have keeps its default.
        ..Default::default()
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ResourceDto {
    id: String,
    name: String,
    #[serde(rename = "type")]
    resource_type: String,
    #[serde(default, deserialize_with = "opt_ts")]
    created_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "opt_ts")]
    updated_at: Option<DateTime<Utc>>,
}

pub(crate) fn resource(value: &Value, index: usize) -> Result<Resource, DecodeFailure> {
    let d: ResourceDto = decode_record(value, index)?;
    Ok(Resource {
        id: ObjectId(d.id),
        name: d.name,
        resource_type: d.resource_type,
        created_at: d.created_at,
        updated_at: d.updated_at,
        raw: raw_without(value, &[]),
        // What the v1 API does not have keeps its default.
        ..Default::default()
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct FolderDto {
    id: String,
    name: String,
    folder_type: String,
    #[serde(default)]
    parent_folder_id: Option<String>,
    #[serde(default, deserialize_with = "opt_ts")]
    created_at: Option<DateTime<Utc>>,
}

pub(crate) fn folder(value: &Value, index: usize) -> Result<Folder, DecodeFailure> {
    let d: FolderDto = decode_record(value, index)?;
    Ok(Folder {
        id: ObjectId(d.id),
        name: d.name,
        parent_id: d.parent_folder_id.map(ObjectId),
        folder_type: d.folder_type,
        created_at: d.created_at,
        raw: raw_without(value, &[]),
        // What the v1 API does not have keeps its default.
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn v1_user_is_active_unless_disabled_and_says_nothing_about_2fa() {
        let v = json!({
            "id": "8d3c", "email": "a@x.io", "firstName": "A", "lastName": "B",
            "isAdmin": false, "isDisabled": true, "userType": "endUser",
            "groups": [{"id": 1, "name": "All Users"}], "createdAt": "2023-05-01T10:00:00Z"
        });
        let u = user(&v, 0)
            .map_err(|e| e.path)
            .unwrap_or_else(|p| panic!("{p}"));
        assert!(!u.active);
        assert_eq!(u.user_type, "endUser");
        assert_eq!(u.two_factor_enabled, None);
        assert_eq!(u.last_active, None);
    }

    #[test]
    fn v1_missing_admin_flag_is_an_error_not_a_guess() {
        let v =
            json!({"id": "8d3c", "email": "a@x.io", "isDisabled": false, "userType": "default"});
        let err = user(&v, 2).err();
        assert!(err.is_some_and(|e| e.path == "data[2]" && e.detail.contains("isAdmin")));
    }
}
