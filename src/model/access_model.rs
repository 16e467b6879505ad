//! The records of Retool's access model beyond users, groups and grants:
//! roles and who holds them, requests to join, the security settings, and app
//! usage per user.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{GroupId, ObjectId, ObjectRef, ObjectType, UserId};

/// A role (API 2.9+): a named set of organization scopes (settings a holder
/// may manage) and object scopes (what a holder may do with the object a grant
/// of it names). Default roles mirror the built-in groups.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Role {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub is_default_role: bool,
    pub is_legacy_role: bool,
    pub object_scopes: Vec<String>,
    pub organization_scopes: Vec<String>,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    pub raw: String,
}

/// Who holds a role: a user or group, organization-wide or on one object.
/// Kept as Retool names them (the list's shape is undocumented): an empty
/// `object_type` and `object_id` mean the grant names no object.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Default)]
pub struct RoleGrant {
    pub role_id: String,
    /// `user` or `group` (anything else is kept verbatim).
    pub subject_type: String,
    pub subject_id: String,
    /// `app`, `folder`, `resource`, `workflow`, ... or empty.
    pub object_type: String,
    pub object_id: String,
}

impl RoleGrant {
    /// The user this grant names directly, if it names one.
    pub fn user(&self) -> Option<UserId> {
        (self.subject_type == "user").then(|| UserId(self.subject_id.clone()))
    }

    /// The group this grant names, if it names one.
    pub fn group(&self) -> Option<GroupId> {
        if self.subject_type != "group" {
            return None;
        }
        self.subject_id.parse().ok().map(GroupId)
    }

    /// The object this grant is on, when it is on one of the four kinds.
    pub fn object(&self) -> Option<ObjectRef> {
        let object_type = ObjectType::parse(&self.object_type)?;
        (!self.object_id.is_empty()).then(|| ObjectRef {
            object_type,
            id: ObjectId(self.object_id.clone()),
        })
    }
}

/// A request to join the organization (API 2.3+): the approval trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct AccessRequest {
    pub id: i64,
    pub legacy_id: Option<i64>,
    /// `PENDING`, `APPROVED` or `DENIED`, verbatim.
    pub status: String,
    pub requesting_email: String,
    /// The user who approved or denied it.
    pub updated_by_id: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    pub raw: String,
}

/// One security setting of the organization (`GET /organization/`) or its
/// single sign-on (`GET /sso/config`). Only allow-listed settings are ever
/// read; the value is text (`true`, `otp`, a domain, `configured`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Default)]
pub struct Setting {
    /// `organization` or `sso`.
    pub source: String,
    pub name: String,
    pub value: String,
}

/// One user's app usage over the collection's usage window
/// (`GET /usage/user_summary`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Default)]
pub struct UserUsage {
    /// The user id as the usage API sends it (matched to a user by id, legacy
    /// id or e-mail).
    pub user_id: String,
    pub email: String,
    pub app_views: i64,
    pub app_saves: i64,
    pub unique_apps: i64,
    pub last_active: Option<DateTime<Utc>>,
}

/// One environment of the organization (`GET /environments`, API 2.4+):
/// production, staging, ... Each resource has one configuration per
/// environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Environment {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    /// The environment apps use unless told otherwise.
    pub is_default: bool,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
}

/// A resource's configuration in one environment
/// (`GET /resource_configurations`). Only which resource and which
/// environment it joins are read: its `options` (hosts, user names,
/// passwords, keys) never are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ResourceConfiguration {
    pub id: String,
    /// The resource's id (Retool sends its uuid or its name).
    pub resource_id: String,
    /// The resource's display name as the configuration names it.
    pub resource_name: String,
    pub resource_type: String,
    pub environment_id: String,
}

/// A group's access to one resource configuration: which environments of a
/// resource the group may use (`listObjects` with `resource_configuration`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Default)]
pub struct ConfigurationGrant {
    pub group_id: GroupId,
    pub configuration_id: String,
    pub access_level: super::AccessLevel,
}

/// Why per-app usage is not collected in a run without `--usage-details`.
pub const APP_USAGE_NOT_REQUESTED: &str =
    "not requested (--usage-details reads it: one request per app)";

/// Who viewed and who saved one app over the usage window
/// (`GET /usage/app_details`, read with `--usage-details`): one user's figures
/// for one app.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Default)]
pub struct AppUsage {
    pub app_id: String,
    /// The user id as the usage API sends it.
    pub user_id: String,
    pub email: String,
    pub views: i64,
    pub saves: i64,
}
