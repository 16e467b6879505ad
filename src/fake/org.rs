//! The simulated organization: the records the fake holds ([`FakeOrg`]), and
//! its four jobs, one child module each: deterministic generation from an
//! [`OrgSpec`] (`generate`, with the word lists in `names`), the wire records
//! both dialects send (`wire`), the exact [`OrgState`](crate::model::OrgState) a correct collector must
//! produce (`oracle`), and changes between snapshots (`mutate`).
//!
//! # Mapping rules (what a correct collector produces; the client agrees)
//!
//! - Timestamps are sent as RFC 3339 UTC with milliseconds and `Z`
//!   (`2024-05-01T12:00:00.000Z`) and parse back to `DateTime<Utc>`; generated
//!   times are whole seconds so the round trip is exact.
//! - Ids: users `user_<hex>` (both dialects), groups integers (`legacy_id` equals
//!   `id`, numeric), apps/resources/workflows UUID-shaped strings, folders
//!   `<folder_type>_<n>` (`app_3`, the shape `listObjects` uses; `legacy_id` is
//!   the same string). `folder_id` → `Some(ObjectId)`, `null` → `None`.
//! - v2 `resources.display_name` → `Resource.name`, `type` → `resource_type`.
//! - v2 invite `invited_email` → `email`, `groups[].id` → `group_ids`.
//! - `raw` = `serde_json::to_string` of the record exactly as sent (keys sorted,
//!   since serde_json without `preserve_order` sorts them), except: groups'
//!   `raw` drops `members` and `user_invites` (both dialects), invites' `raw`
//!   drops `invite_link`.
//! - Grants are every `listObjects` answer: per group and per user (direct
//!   grants), object types `folder`, `app`, `resource`. No workflow grants.
//! - v1: `active = !isDisabled`, `two_factor_enabled = None`, `last_active =
//!   None`, `legacy_id = None`; group universal levels `none`, flags all false,
//!   memberships with `is_group_admin = false`; apps `protected`, `is_module`,
//!   `is_mobile_app` false; resources `name` (not `displayName`, which is the
//!   resource type's display name), `folder_id = None`; folders
//!   `is_system_folder = false`, `updated_at = None`; absent optional strings
//!   (`firstName`, `description`, `parentFolderId`) are omitted, not `null`.

mod access;
mod environments;
mod generate;
mod mutate;
mod names;
mod oracle;
mod spec;
mod wire;

use chrono::{DateTime, Duration as ChronoDuration, Utc};

use crate::model::{
    AccessLevel, Grant, GroupFlags, GroupId, ObjectId, ObjectRef, ObjectType, Subject, UserId,
};

pub use spec::OrgSpec;
pub use wire::wire_time;

/// The built-in group every user belongs to.
pub const ALL_USERS_GROUP: GroupId = GroupId(1);
/// The built-in admin group; its members are the organization's admins.
pub const ADMIN_GROUP: GroupId = GroupId(2);
/// Why v1 lacks some kinds, as recorded in `OrgState::not_collected`.
pub const NOT_IN_V1: &str = "not available in the v1 API";

/// The hostile strings a `hostile_names` org carries (report escaping tests).
pub const HOSTILE_SCRIPT: &str = "<script>alert(1)</script>";
pub const HOSTILE_HYPERLINK: &str = "=HYPERLINK(\"http://evil.example\",\"click\")";
pub const HOSTILE_CMD: &str = "+cmd|' /C calc'!A0";
pub const HOSTILE_SUM: &str = "@SUM(1+1)";
pub const HOSTILE_QUOTES: &str = "O'Brien \"The Hammer\"";
pub const HOSTILE_NEWLINE: &str = "Line one\nLine two";
pub const HOSTILE_RTL: &str = "Mallory\u{200F}gpj.exe";
pub const HOSTILE_EMOJI: &str = "Ferris 🦀🎉";
pub const HOSTILE_JAPANESE: &str = "日本語";
pub const HOSTILE_GREEK: &str = "Ελληνικά";
/// Length of the one very long app name.
pub const LONG_NAME_LEN: usize = 10_000;

/// A user as the fake holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct FakeUser {
    pub id: String,
    pub legacy_id: i64,
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub active: bool,
    pub is_admin: bool,
    /// `default`, `mobile` or `embed` (v1 shows `mobile`/`embed` as `endUser`).
    pub user_type: String,
    pub two_factor: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub last_active: Option<DateTime<Utc>>,
}

/// A group member.
#[derive(Debug, Clone, PartialEq)]
pub struct FakeMember {
    pub user_id: String,
    pub is_group_admin: bool,
}

/// A permission group with its members.
#[derive(Debug, Clone, PartialEq)]
pub struct FakeGroup {
    pub id: i64,
    pub name: String,
    pub universal_app: AccessLevel,
    pub universal_resource: AccessLevel,
    pub universal_workflow: AccessLevel,
    pub universal_query_library: AccessLevel,
    pub flags: GroupFlags,
    pub landing_page_app_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub members: Vec<FakeMember>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FakeFolder {
    pub id: String,
    pub name: String,
    pub parent_id: Option<String>,
    pub is_system: bool,
    pub folder_type: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FakeApp {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub folder_id: String,
    pub protected: bool,
    pub is_module: bool,
    pub is_mobile_app: bool,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FakeResource {
    pub id: String,
    pub display_name: String,
    pub resource_type: String,
    pub folder_id: Option<String>,
    pub protected: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FakeWorkflow {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub folder_id: String,
    pub is_enabled: bool,
    pub protected: bool,
    pub crontab: Option<String>,
    pub created_by: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FakeInvite {
    pub id: i64,
    pub email: String,
    pub invited_by: String,
    pub user_type: Option<String>,
    pub group_ids: Vec<i64>,
    pub expires_at: DateTime<Utc>,
    pub claimed_by: Option<String>,
    pub claimed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// A credential in real Retool; the collector must never keep it.
    pub invite_link: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FakeToken {
    pub id: String,
    pub label: String,
    pub description: Option<String>,
    pub last4: String,
    pub owner_legacy_id: i64,
    pub scopes: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FakeSpace {
    pub id: String,
    pub name: String,
    pub domain: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A role (API 2.9+).
#[derive(Debug, Clone, PartialEq)]
pub struct FakeRole {
    pub id: String,
    pub name: String,
    pub description: String,
    pub is_default_role: bool,
    pub is_legacy_role: bool,
    pub object_scopes: Vec<String>,
    pub organization_scopes: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Who holds a role: `subject` org-wide, or on `object`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct FakeRoleGrant {
    pub role_id: String,
    pub subject: Subject,
    pub object: Option<ObjectRef>,
}

/// A request to join the organization.
#[derive(Debug, Clone, PartialEq)]
pub struct FakeAccessRequest {
    pub id: i64,
    /// `PENDING`, `APPROVED` or `DENIED`.
    pub status: String,
    pub requesting_email: String,
    pub updated_by_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One user's app usage as the usage API reports it (the fake's figures do
/// not depend on the window asked for).
#[derive(Debug, Clone, PartialEq)]
pub struct FakeUsage {
    pub user_id: String,
    pub email: String,
    pub app_views: i64,
    pub app_saves: i64,
    pub unique_apps: i64,
    pub last_active: Option<DateTime<Utc>>,
}

/// The organization's advanced settings and its SSO configuration, as the
/// fake sends them (JSON objects: `GET /organization/` and `GET /sso/config`
/// answer with them). The SSO configuration carries a client secret that a
/// correct collector never keeps.
#[derive(Debug, Clone, PartialEq)]
pub struct FakeSettings {
    pub organization: serde_json::Value,
    /// `None`: no SSO configured (`data: null`).
    pub sso: Option<serde_json::Value>,
}

/// An environment (production, staging).
#[derive(Debug, Clone, PartialEq)]
pub struct FakeEnvironment {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub color: String,
    pub default: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A resource's configuration in one environment, with the connection
/// options Retool sends (a password among them: see
/// [`RESOURCE_PASSWORD`]).
#[derive(Debug, Clone, PartialEq)]
pub struct FakeConfiguration {
    pub id: String,
    pub resource_id: String,
    pub environment_id: String,
    pub options: serde_json::Value,
}

/// A group's access to one resource configuration.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct FakeConfigurationGrant {
    pub group_id: i64,
    pub configuration_id: String,
    pub level: AccessLevel,
}

/// One user's views and saves of one app (`GET /usage/app_details`).
#[derive(Debug, Clone, PartialEq)]
pub struct FakeAppUsage {
    pub app_id: String,
    pub user_id: String,
    pub email: String,
    pub views: i64,
    pub saves: i64,
}

/// The database password in every simulated resource configuration's
/// options, and the host beside it: no byte of either may reach a database,
/// log or report.
pub const RESOURCE_PASSWORD: &str = "fake-db-password-8e41d2";
pub const RESOURCE_HOST: &str = "db-internal-7c1f.fake.example";

/// The OIDC client secret of the simulated SSO configuration: no byte of
/// it may reach a database, log or report.
pub const SSO_CLIENT_SECRET: &str = "fake-oidc-client-secret-5f3a9c";

/// The simulated organization. Lists are kept in the order the server sends them.
#[derive(Debug, Clone, PartialEq)]
pub struct FakeOrg {
    pub now: DateTime<Utc>,
    pub users: Vec<FakeUser>,
    pub groups: Vec<FakeGroup>,
    pub folders: Vec<FakeFolder>,
    pub apps: Vec<FakeApp>,
    pub resources: Vec<FakeResource>,
    pub workflows: Vec<FakeWorkflow>,
    /// Group and direct user grants on folders, apps and resources.
    pub grants: Vec<Grant>,
    pub invites: Vec<FakeInvite>,
    pub tokens: Vec<FakeToken>,
    pub spaces: Vec<FakeSpace>,
    pub roles: Vec<FakeRole>,
    pub role_grants: Vec<FakeRoleGrant>,
    pub access_requests: Vec<FakeAccessRequest>,
    pub settings: FakeSettings,
    /// Users with app activity in any window (others have none).
    pub usage: Vec<FakeUsage>,
    pub environments: Vec<FakeEnvironment>,
    pub configurations: Vec<FakeConfiguration>,
    pub configuration_grants: Vec<FakeConfigurationGrant>,
    /// Per-app views and saves (the figures do not depend on the window).
    pub app_usage: Vec<FakeAppUsage>,
    /// Objects whose `accessList` leaves out its first user: a planted
    /// disagreement for the cross-check.
    pub access_list_skew: Vec<(ObjectType, String)>,
    seed: u64,
    change_rounds: u64,
    next_legacy_id: i64,
}

/// What [`FakeOrg::apply_scripted_changes`] did, with model ids, so tests can
/// assert diffs and reports. Membership lists include every membership that
/// appeared or vanished, also those implied by added, removed or promoted users.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScriptedChanges {
    pub added_users: Vec<UserId>,
    pub removed_users: Vec<UserId>,
    pub disabled_users: Vec<UserId>,
    pub re_enabled_users: Vec<UserId>,
    pub promoted_admins: Vec<UserId>,
    pub memberships_added: Vec<(GroupId, UserId)>,
    pub memberships_removed: Vec<(GroupId, UserId)>,
    /// (group, object, old level, new level).
    pub grants_raised: Vec<(GroupId, ObjectRef, AccessLevel, AccessLevel)>,
    pub grants_added: Vec<(GroupId, ObjectRef, AccessLevel)>,
    /// Group grants that vanished (also those on a removed resource).
    pub grants_removed: Vec<(GroupId, ObjectRef, AccessLevel)>,
    /// (group, object type, old level, new level).
    pub universal_raised: Vec<(GroupId, ObjectType, AccessLevel, AccessLevel)>,
    /// (app, old name, new name).
    pub apps_renamed: Vec<(ObjectId, String, String)>,
    pub apps_added: Vec<ObjectId>,
    pub resources_removed: Vec<ObjectId>,
    /// Roles whose scopes changed (ids).
    pub roles_modified: Vec<String>,
    /// (role id, subject) of each role grant added.
    pub role_grants_added: Vec<(String, Subject)>,
    /// `<source>.<name>` of each setting changed.
    pub settings_changed: Vec<String>,
    pub access_requests_decided: Vec<i64>,
    pub access_requests_added: Vec<i64>,
    /// (group, configuration id, new level) of each configuration grant
    /// added or raised.
    pub configuration_grants_changed: Vec<(GroupId, String, AccessLevel)>,
}

fn days(n: i64) -> ChronoDuration {
    ChronoDuration::days(n)
}

fn secs(n: i64) -> ChronoDuration {
    ChronoDuration::seconds(n)
}
