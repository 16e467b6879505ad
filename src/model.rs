//! The domain model: one complete, consistent picture of a Retool organization
//! (`OrgState`) and how it was obtained (`CollectionInfo`).
//!
//! Plain data, no I/O. Wire DTOs live in `retool/`, SQL rows in `store/`, view
//! models in `report/`; everything converts to and from these types at the seams.
//!
//! Ordering is part of the contract: every `Vec` in an `OrgState` is sorted by its
//! key (see [`OrgState::normalize`]), so two states with the same content are equal
//! and serialize to the same bytes, which the integrity chain relies on.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub mod access_model;
pub mod cross_check;
pub mod fields;
pub mod review;

pub use access_model::{
    AccessRequest, AppUsage, ConfigurationGrant, Environment, ResourceConfiguration, Role,
    RoleGrant, Setting, UserUsage,
};
pub use cross_check::{CrossCheck, Disagreement};

/// A Retool user id (a UUID-like string in API v2 and v1). Never a number.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
#[serde(transparent)]
pub struct UserId(pub String);

/// A Retool permission group id (an integer). Never conflated with a user id.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(transparent)]
pub struct GroupId(pub i64);

/// The id of a folder, app, resource or workflow (strings in the API).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
#[serde(transparent)]
pub struct ObjectId(pub String);

macro_rules! display_inner {
    ($($t:ty),*) => {$(
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }
    )*};
}
display_inner!(UserId, GroupId, ObjectId);

/// Retool's access levels, ordered: `None < Use < Edit < Own`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "lowercase")]
pub enum AccessLevel {
    #[default]
    None,
    Use,
    Edit,
    Own,
}

impl AccessLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            AccessLevel::None => "none",
            AccessLevel::Use => "use",
            AccessLevel::Edit => "edit",
            AccessLevel::Own => "own",
        }
    }

    /// Parses Retool's lowercase spelling (`none`, `use`, `edit`, `own`).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "none" => Some(AccessLevel::None),
            "use" => Some(AccessLevel::Use),
            "edit" => Some(AccessLevel::Edit),
            "own" => Some(AccessLevel::Own),
            _ => None,
        }
    }
}

impl fmt::Display for AccessLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The kinds of object a permission can be granted on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ObjectType {
    Folder,
    App,
    Resource,
    Workflow,
}

impl ObjectType {
    pub const ALL: [ObjectType; 4] = [
        ObjectType::Folder,
        ObjectType::App,
        ObjectType::Resource,
        ObjectType::Workflow,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ObjectType::Folder => "folder",
            ObjectType::App => "app",
            ObjectType::Resource => "resource",
            ObjectType::Workflow => "workflow",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        ObjectType::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

impl fmt::Display for ObjectType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A reference to one folder, app, resource or workflow.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ObjectRef {
    pub object_type: ObjectType,
    pub id: ObjectId,
}

/// Who holds a grant: a group, or a user directly (API 2.7+).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "type", content = "id", rename_all = "lowercase")]
pub enum Subject {
    Group(GroupId),
    User(UserId),
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Subject::Group(g) => write!(f, "group:{g}"),
            Subject::User(u) => write!(f, "user:{u}"),
        }
    }
}

/// A Retool user. `raw` is the record as received (compact JSON), so fields we do
/// not model yet are kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct User {
    pub id: UserId,
    pub legacy_id: Option<i64>,
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// `false` when the account is disabled (v2 `active`, v1 `!isDisabled`).
    pub active: bool,
    pub is_admin: bool,
    /// `default`, `mobile`, `embed` (v2) or `default`, `endUser` (v1), verbatim.
    pub user_type: String,
    /// `None` where the API does not say (v1).
    pub two_factor_enabled: Option<bool>,
    pub created_at: Option<DateTime<Utc>>,
    /// `None` for a user who never logged in (or where the API does not say).
    pub last_active: Option<DateTime<Utc>>,
    pub raw: String,
}

/// An account's status as reports show it: `active` or `disabled`.
pub fn account_status(active: bool) -> &'static str {
    if active { "active" } else { "disabled" }
}

/// Boolean feature flags a group grants to its members.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupFlags {
    pub user_list_access: bool,
    pub audit_log_access: bool,
    pub unpublished_release_access: bool,
    pub usage_analytics_access: bool,
    pub theme_access: bool,
    pub account_details_access: bool,
}

/// A permission group. Members are in [`OrgState::memberships`]; `raw` is the
/// record as received without its `members` and `user_invites` arrays (they are
/// modelled separately and would make every membership change a group change).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Group {
    pub id: GroupId,
    pub legacy_id: Option<i64>,
    pub name: String,
    pub universal_app_access: AccessLevel,
    pub universal_resource_access: AccessLevel,
    pub universal_workflow_access: AccessLevel,
    pub universal_query_library_access: AccessLevel,
    pub flags: GroupFlags,
    pub landing_page_app_id: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    pub raw: String,
}

impl Group {
    /// The group's universal level for one object type (`None` for folders:
    /// Retool has no universal folder access; folder access flows through apps).
    pub fn universal_access(&self, object_type: ObjectType) -> AccessLevel {
        match object_type {
            ObjectType::App => self.universal_app_access,
            ObjectType::Resource => self.universal_resource_access,
            ObjectType::Workflow => self.universal_workflow_access,
            ObjectType::Folder => AccessLevel::None,
        }
    }
}

/// A user's membership in a group, from the group's `members` list.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Default)]
pub struct Membership {
    pub group_id: GroupId,
    pub user_id: UserId,
    pub is_group_admin: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Folder {
    pub id: ObjectId,
    pub name: String,
    pub parent_id: Option<ObjectId>,
    pub is_system_folder: bool,
    /// `app`, `workflow`, `resource`, ... verbatim.
    pub folder_type: String,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    pub raw: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct App {
    pub id: ObjectId,
    pub name: String,
    pub description: Option<String>,
    pub folder_id: Option<ObjectId>,
    pub protected: bool,
    pub is_module: bool,
    pub is_mobile_app: bool,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    pub raw: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Resource {
    pub id: ObjectId,
    /// v2 `display_name`, v1 `name`.
    pub name: String,
    /// `postgresql`, `restapi`, ... verbatim.
    pub resource_type: String,
    pub folder_id: Option<ObjectId>,
    pub protected: bool,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    pub raw: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Workflow {
    pub id: ObjectId,
    pub name: String,
    pub description: Option<String>,
    pub folder_id: Option<ObjectId>,
    pub is_enabled: bool,
    pub protected: bool,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    pub raw: String,
}

/// A permission: `subject` holds `level` on `object`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Grant {
    pub subject: Subject,
    pub object: ObjectRef,
    pub level: AccessLevel,
}

/// A pending or claimed invitation. The invite link is a credential and is never
/// kept (it is stripped from `raw` too).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct UserInvite {
    pub id: i64,
    pub email: String,
    pub invited_by: Option<String>,
    pub user_type: Option<String>,
    pub group_ids: Vec<GroupId>,
    pub expires_at: Option<DateTime<Utc>>,
    pub claimed_by: Option<String>,
    pub claimed_at: Option<DateTime<Utc>>,
    pub created_at: Option<DateTime<Utc>>,
    pub raw: String,
}

impl UserInvite {
    /// `pending` (unclaimed and unexpired at `as_of`), `claimed` or `expired`.
    pub fn status(&self, as_of: DateTime<Utc>) -> &'static str {
        if self.claimed_at.is_some() || self.claimed_by.is_some() {
            "claimed"
        } else if self.expires_at.is_some_and(|e| e <= as_of) {
            "expired"
        } else {
            "pending"
        }
    }
}

/// An API access token's metadata: label, scopes, owner, last 4 characters.
/// Nothing secret is ever part of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct AccessToken {
    pub id: String,
    pub label: String,
    pub description: Option<String>,
    pub last4: String,
    pub owner_legacy_id: Option<i64>,
    pub scopes: Vec<String>,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    pub raw: String,
}

impl AccessToken {
    /// Its scopes that allow writing (`…:write`), sorted.
    pub fn write_scopes(&self) -> Vec<&str> {
        let mut write: Vec<&str> = self
            .scopes
            .iter()
            .map(String::as_str)
            .filter(|s| s.ends_with(":write"))
            .collect();
        write.sort_unstable();
        write
    }
}

/// The kinds of record a snapshot holds; keys for coverage and counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntityKind {
    Users,
    Groups,
    Memberships,
    Folders,
    Apps,
    Resources,
    Workflows,
    Grants,
    UserInvites,
    AccessTokens,
    Roles,
    RoleGrants,
    AccessRequests,
    Settings,
    Usage,
    Environments,
    ResourceConfigurations,
    ConfigurationGrants,
    AppUsage,
}

impl EntityKind {
    pub const ALL: [EntityKind; 19] = [
        EntityKind::Users,
        EntityKind::Groups,
        EntityKind::Memberships,
        EntityKind::Folders,
        EntityKind::Apps,
        EntityKind::Resources,
        EntityKind::Workflows,
        EntityKind::Grants,
        EntityKind::UserInvites,
        EntityKind::AccessTokens,
        EntityKind::Roles,
        EntityKind::RoleGrants,
        EntityKind::AccessRequests,
        EntityKind::Settings,
        EntityKind::Usage,
        EntityKind::Environments,
        EntityKind::ResourceConfigurations,
        EntityKind::ConfigurationGrants,
        EntityKind::AppUsage,
    ];

    /// The kinds the first release did not read: a snapshot it took has no
    /// count for them, and reads them back as not collected.
    pub const ADDED_LATER: [EntityKind; 9] = [
        EntityKind::Roles,
        EntityKind::RoleGrants,
        EntityKind::AccessRequests,
        EntityKind::Settings,
        EntityKind::Usage,
        EntityKind::Environments,
        EntityKind::ResourceConfigurations,
        EntityKind::ConfigurationGrants,
        EntityKind::AppUsage,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EntityKind::Users => "users",
            EntityKind::Groups => "groups",
            EntityKind::Memberships => "memberships",
            EntityKind::Folders => "folders",
            EntityKind::Apps => "apps",
            EntityKind::Resources => "resources",
            EntityKind::Workflows => "workflows",
            EntityKind::Grants => "grants",
            EntityKind::UserInvites => "user_invites",
            EntityKind::AccessTokens => "access_tokens",
            EntityKind::Roles => "roles",
            EntityKind::RoleGrants => "role_grants",
            EntityKind::AccessRequests => "access_requests",
            EntityKind::Settings => "settings",
            EntityKind::Usage => "usage",
            EntityKind::Environments => "environments",
            EntityKind::ResourceConfigurations => "resource_configurations",
            EntityKind::ConfigurationGrants => "configuration_grants",
            EntityKind::AppUsage => "app_usage",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        EntityKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl fmt::Display for EntityKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Record counts of one state, per kind.
pub type Counts = BTreeMap<EntityKind, u64>;

/// One complete, consistent picture of an organization at one moment.
///
/// `not_collected` says which kinds are missing and why (scope missing, endpoint
/// not available on this version or dialect): an empty list of workflows and
/// "workflows not collected" are different facts, and reports must say which.
/// A kind that is partly collected (for example user grants on an old version)
/// is also listed, with the reason.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgState {
    pub users: Vec<User>,
    pub groups: Vec<Group>,
    pub memberships: Vec<Membership>,
    pub folders: Vec<Folder>,
    pub apps: Vec<App>,
    pub resources: Vec<Resource>,
    pub workflows: Vec<Workflow>,
    pub grants: Vec<Grant>,
    pub user_invites: Vec<UserInvite>,
    pub access_tokens: Vec<AccessToken>,
    /// The kinds below were added after the first release; they are left out
    /// of the canonical serialization while empty, so the hash of a snapshot
    /// taken before they were read does not change.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<Role>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub role_grants: Vec<RoleGrant>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub access_requests: Vec<AccessRequest>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub settings: Vec<Setting>,
    /// App usage per user over [`CollectionInfo::usage_window`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub usage: Vec<UserUsage>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub environments: Vec<Environment>,
    /// Which resource and environment each configuration joins (never its
    /// options).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resource_configurations: Vec<ResourceConfiguration>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub configuration_grants: Vec<ConfigurationGrant>,
    /// Per-app usage (with `--usage-details`), over the same window.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub app_usage: Vec<AppUsage>,
    pub not_collected: BTreeMap<EntityKind, String>,
}

impl OrgState {
    /// Users by their legacy (v1) id: how API tokens name their owner.
    pub fn users_by_legacy_id(&self) -> std::collections::HashMap<i64, &User> {
        self.users
            .iter()
            .filter_map(|u| u.legacy_id.map(|l| (l, u)))
            .collect()
    }

    /// Sorts every list by its key (users, folders, apps, resources, workflows,
    /// access tokens by id; groups by id; memberships by (group, user); grants by
    /// (subject, object, level); invites by id). Call after building a state.
    pub fn normalize(&mut self) {
        self.users.sort_by(|a, b| a.id.cmp(&b.id));
        self.groups.sort_by_key(|g| g.id);
        self.memberships.sort();
        self.folders.sort_by(|a, b| a.id.cmp(&b.id));
        self.apps.sort_by(|a, b| a.id.cmp(&b.id));
        self.resources.sort_by(|a, b| a.id.cmp(&b.id));
        self.workflows.sort_by(|a, b| a.id.cmp(&b.id));
        self.grants.sort();
        self.user_invites.sort_by_key(|i| i.id);
        self.access_tokens.sort_by(|a, b| a.id.cmp(&b.id));
        self.roles.sort_by(|a, b| a.id.cmp(&b.id));
        self.role_grants.sort();
        self.access_requests.sort_by_key(|r| r.id);
        self.settings.sort();
        self.usage.sort_by(|a, b| a.user_id.cmp(&b.user_id));
        self.environments.sort_by(|a, b| a.id.cmp(&b.id));
        self.resource_configurations.sort_by(|a, b| a.id.cmp(&b.id));
        self.configuration_grants.sort();
        self.app_usage.sort();
    }

    /// Marks the kinds a snapshot's recorded `counts` do not name as not
    /// collected: the snapshot was taken by a version that did not read them,
    /// and an empty list must not read as "there are none".
    pub fn mark_unread_kinds(&mut self, counts: &Counts) {
        for kind in EntityKind::ADDED_LATER {
            if !counts.contains_key(&kind) {
                self.not_collected.entry(kind).or_insert_with(|| {
                    "not read by the retool-audit version that took this snapshot".to_string()
                });
            }
        }
    }

    pub fn counts(&self) -> Counts {
        let mut c = Counts::new();
        c.insert(EntityKind::Users, self.users.len() as u64);
        c.insert(EntityKind::Groups, self.groups.len() as u64);
        c.insert(EntityKind::Memberships, self.memberships.len() as u64);
        c.insert(EntityKind::Folders, self.folders.len() as u64);
        c.insert(EntityKind::Apps, self.apps.len() as u64);
        c.insert(EntityKind::Resources, self.resources.len() as u64);
        c.insert(EntityKind::Workflows, self.workflows.len() as u64);
        c.insert(EntityKind::Grants, self.grants.len() as u64);
        c.insert(EntityKind::UserInvites, self.user_invites.len() as u64);
        c.insert(EntityKind::AccessTokens, self.access_tokens.len() as u64);
        c.insert(EntityKind::Roles, self.roles.len() as u64);
        c.insert(EntityKind::RoleGrants, self.role_grants.len() as u64);
        c.insert(
            EntityKind::AccessRequests,
            self.access_requests.len() as u64,
        );
        c.insert(EntityKind::Settings, self.settings.len() as u64);
        c.insert(EntityKind::Usage, self.usage.len() as u64);
        c.insert(EntityKind::Environments, self.environments.len() as u64);
        c.insert(
            EntityKind::ResourceConfigurations,
            self.resource_configurations.len() as u64,
        );
        c.insert(
            EntityKind::ConfigurationGrants,
            self.configuration_grants.len() as u64,
        );
        c.insert(EntityKind::AppUsage, self.app_usage.len() as u64);
        c
    }

    /// Memberships, grants and folder parents that name a user, group or object
    /// this state does not hold. They are kept (never dropped) and reported.
    pub fn dangling_references(&self) -> Vec<DanglingReference> {
        use std::collections::HashSet;
        let users: HashSet<&UserId> = self.users.iter().map(|u| &u.id).collect();
        let groups: HashSet<GroupId> = self.groups.iter().map(|g| g.id).collect();
        let objects: HashSet<(ObjectType, &ObjectId)> = self
            .folders
            .iter()
            .map(|f| (ObjectType::Folder, &f.id))
            .chain(self.apps.iter().map(|a| (ObjectType::App, &a.id)))
            .chain(self.resources.iter().map(|r| (ObjectType::Resource, &r.id)))
            .chain(self.workflows.iter().map(|w| (ObjectType::Workflow, &w.id)))
            .collect();
        let collected = |k: EntityKind| !self.not_collected.contains_key(&k);
        let mut out = Vec::new();
        for m in &self.memberships {
            if !groups.contains(&m.group_id) {
                out.push(DanglingReference::new(
                    "membership",
                    format!("{}:{}", m.group_id, m.user_id),
                    format!("group {}", m.group_id),
                ));
            }
            if !users.contains(&m.user_id) {
                out.push(DanglingReference::new(
                    "membership",
                    format!("{}:{}", m.group_id, m.user_id),
                    format!("user {}", m.user_id),
                ));
            }
        }
        for g in &self.grants {
            let key = format!("{}:{}:{}", g.subject, g.object.object_type, g.object.id);
            match &g.subject {
                Subject::Group(id) if !groups.contains(id) => out.push(DanglingReference::new(
                    "grant",
                    key.clone(),
                    format!("group {id}"),
                )),
                Subject::User(id) if !users.contains(id) => out.push(DanglingReference::new(
                    "grant",
                    key.clone(),
                    format!("user {id}"),
                )),
                _ => {}
            }
            let kind = match g.object.object_type {
                ObjectType::Folder => EntityKind::Folders,
                ObjectType::App => EntityKind::Apps,
                ObjectType::Resource => EntityKind::Resources,
                ObjectType::Workflow => EntityKind::Workflows,
            };
            if collected(kind) && !objects.contains(&(g.object.object_type, &g.object.id)) {
                out.push(DanglingReference::new(
                    "grant",
                    key,
                    format!("{} {}", g.object.object_type, g.object.id),
                ));
            }
        }
        for f in &self.folders {
            if let Some(p) = &f.parent_id {
                if !objects.contains(&(ObjectType::Folder, p)) {
                    out.push(DanglingReference::new(
                        "folder",
                        f.id.0.clone(),
                        format!("parent folder {p}"),
                    ));
                }
            }
        }
        out
    }

    pub fn user(&self, id: &UserId) -> Option<&User> {
        self.users
            .binary_search_by(|u| u.id.cmp(id))
            .ok()
            .map(|i| &self.users[i])
    }

    pub fn group(&self, id: GroupId) -> Option<&Group> {
        self.groups
            .binary_search_by_key(&id, |g| g.id)
            .ok()
            .map(|i| &self.groups[i])
    }
}

/// A reference from one record to a record the state does not hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DanglingReference {
    /// `membership`, `grant` or `folder`.
    pub kind: String,
    /// The referring record's key (membership `<group>:<user>`, grant
    /// `<subject>:<type>:<object>`, folder id).
    pub key: String,
    /// What is missing, for example `user 3f2a...`.
    pub missing: String,
}

impl DanglingReference {
    fn new(kind: &str, key: String, missing: String) -> Self {
        DanglingReference {
            kind: kind.to_string(),
            key,
            missing,
        }
    }
}

/// Which wire shape the API speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Dialect {
    /// Retool API v2 (`/api/v2`, snake_case, `limit`/`next_token`).
    #[default]
    V2,
    /// The older v1 Management API shape (`/api/v1`, camelCase, `page`/`pageSize`).
    V1,
}

impl Dialect {
    pub fn as_str(self) -> &'static str {
        match self {
            Dialect::V2 => "v2",
            Dialect::V1 => "v1",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "v2" => Some(Dialect::V2),
            "v1" => Some(Dialect::V1),
            _ => None,
        }
    }
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How one endpoint was read during a collection (IPE evidence).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointStats {
    /// Method and path template, for example `GET /users` or
    /// `POST /permissions/listObjects`. Never a full URL with query secrets.
    pub endpoint: String,
    pub requests: u64,
    pub retries: u64,
    pub pages: u64,
    pub records: u64,
    /// Wall time spent in requests to this endpoint, summed, in milliseconds.
    pub duration_ms: u64,
    /// Duplicate records across pages that were dropped (deduplicated by id).
    pub duplicates_dropped: u64,
}

/// How a snapshot was obtained: the evidence an auditor asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CollectionInfo {
    /// The API root that was read, for example `https://acme.retool.com/api/v2`.
    /// Never contains the token.
    pub source_url: String,
    pub dialect: Dialect,
    /// The Retool version from `GET /api/checkHealth`, when the server tells.
    pub api_version: Option<String>,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    /// Per endpoint, sorted by `endpoint`.
    pub endpoints: Vec<EndpointStats>,
    /// Records received per kind versus what the API said it had
    /// (`total_count`/`total`); equal in every stored snapshot.
    pub expected_totals: BTreeMap<EntityKind, u64>,
    /// Things the collector noticed and handled: duplicates dropped, dangling
    /// references kept. Human-readable, one line each, sorted.
    pub notes: Vec<String>,
    /// The `retool-audit` version that collected it.
    pub tool_version: String,
    /// The days (first and last, inclusive, UTC) the usage figures cover;
    /// absent when usage was not asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage_window: Option<(chrono::NaiveDate, chrono::NaiveDate)>,
    /// Retool's access lists compared with the computed effective access;
    /// absent when no cross-check ran (`Err`: why it could not run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cross_check: Option<Result<CrossCheck, String>>,
}

impl CollectionInfo {
    pub fn total_requests(&self) -> u64 {
        self.endpoints.iter().map(|e| e.requests).sum()
    }

    pub fn total_retries(&self) -> u64 {
        self.endpoints.iter().map(|e| e.retries).sum()
    }
}

/// One collection's result: the state and how it was obtained.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Collected {
    pub state: OrgState,
    pub info: CollectionInfo,
}

/// A stored snapshot's metadata: id, how it was collected, counts and its place
/// in the integrity chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotMeta {
    /// Increasing with time across the whole database.
    pub id: i64,
    /// The organization label this snapshot belongs to (`default` for a
    /// single-org database).
    pub org: String,
    pub info: CollectionInfo,
    pub counts: Counts,
    /// Which kinds were not collected and why (same as the state's).
    pub not_collected: BTreeMap<EntityKind, String>,
    /// SHA-256 (hex) over the previous hash and this snapshot's canonical content.
    pub sha256: String,
    /// The previous snapshot's `sha256` in the chain (`None` for the first).
    pub prev_sha256: Option<String>,
}

impl SnapshotMeta {
    /// When the snapshot was taken (the collection's finish time).
    pub fn taken_at(&self) -> DateTime<Utc> {
        self.info.finished_at
    }

    pub fn as_ref(&self) -> SnapshotRef {
        SnapshotRef {
            id: self.id,
            taken_at: self.taken_at(),
        }
    }
}

/// A pointer to a snapshot with its time, for "since" columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotRef {
    pub id: i64,
    pub taken_at: DateTime<Utc>,
}

/// When a disabled user was last seen active and first seen disabled: the
/// deprovisioning happened between the two.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisabledWindow {
    /// The last snapshot before the disabled run in which the user was
    /// present and active (`None`: never seen active before it).
    pub last_seen_active: Option<SnapshotRef>,
    /// The first snapshot of the unbroken disabled run.
    pub disabled_since: SnapshotRef,
}

/// What the history holds of one account, snapshot by snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountHistory {
    pub user_id: UserId,
    /// Every snapshot up to the reported one, oldest first, with whether the
    /// account held access there: present, active, and an admin, in a group
    /// other than the default one, or holding a direct grant or role. `None`: the account was not there.
    pub access: Vec<(SnapshotRef, String, Option<bool>)>,
    /// Retool's `last_active`, the newest the history holds.
    pub last_active: Option<DateTime<Utc>>,
}

/// What kind of access came and went ([`TransientAccess`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum TransientKind {
    /// The admin flag on an active account.
    Admin,
    /// A group-admin flag.
    GroupAdmin,
    /// A membership of a group.
    Membership,
    /// A grant, to a user or a group, at one level.
    Grant,
    /// A role held by a user or a group.
    Role,
    /// A group's universal level on one object type, at one level.
    Universal,
    /// A group's access to one environment's configuration of a resource,
    /// at one level.
    EnvironmentAccess,
}

impl TransientKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TransientKind::Admin => "admin",
            TransientKind::GroupAdmin => "group_admin",
            TransientKind::Membership => "membership",
            TransientKind::Grant => "grant",
            TransientKind::Role => "role",
            TransientKind::Universal => "universal",
            TransientKind::EnvironmentAccess => "environment_access",
        }
    }
}

/// Access that appeared after one snapshot and was gone by a later one
/// (a report's `--since` and reported snapshots), seen in the snapshots in
/// between: one run of adjacent versions of one record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransientAccess {
    pub kind: TransientKind,
    /// The user who held it; `None` for a group's grant or role.
    pub user_id: Option<UserId>,
    /// The user's e-mail as of the last snapshot that saw it; empty without a user.
    pub email: String,
    /// What it was, named as of the last snapshot that saw it: `admin`, a
    /// group, `app Payroll` (`… via group X` for a group's grant), `role R …`.
    pub subject: String,
    /// A grant's, universal level's or environment access's level.
    pub level: Option<AccessLevel>,
    /// The first snapshot that saw it.
    pub first_seen: SnapshotRef,
    /// The last snapshot that saw it (the next one did not).
    pub last_seen: SnapshotRef,
}

/// What the report's history charts plot for one snapshot
/// ([`crate::store::Store::snapshot_counts`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotCounts {
    pub snapshot_id: i64,
    /// Active users who are organization admins.
    pub admins: usize,
    /// Active users who admin at least one group.
    pub group_admins: usize,
    /// Access records (users' access fields, groups, memberships, grants,
    /// roles and role grants, environment grants, settings, tokens, invites)
    /// added, removed or changed since the snapshot before; `None` for the
    /// first snapshot.
    pub access_changes: Option<usize>,
}

/// One attempt to collect, successful or not (failed attempts write no snapshot
/// but are logged here so reports can show them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunRecord {
    pub id: i64,
    pub org: String,
    pub source_url: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    /// `ok` or `failed`.
    pub status: String,
    /// The error message of a failed run (never contains the token).
    pub error: Option<String>,
    pub snapshot_id: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_levels_are_ordered_and_round_trip() {
        assert!(AccessLevel::None < AccessLevel::Use);
        assert!(AccessLevel::Use < AccessLevel::Edit);
        assert!(AccessLevel::Edit < AccessLevel::Own);
        for l in [
            AccessLevel::None,
            AccessLevel::Use,
            AccessLevel::Edit,
            AccessLevel::Own,
        ] {
            assert_eq!(AccessLevel::parse(l.as_str()), Some(l));
        }
        assert_eq!(AccessLevel::parse("admin"), None);
    }

    #[test]
    fn dangling_memberships_and_grants_are_reported_not_dropped() {
        let mut s = OrgState::default();
        s.memberships.push(Membership {
            group_id: GroupId(7),
            user_id: UserId("ghost".into()),
            is_group_admin: false,
        });
        s.grants.push(Grant {
            subject: Subject::Group(GroupId(7)),
            object: ObjectRef {
                object_type: ObjectType::App,
                id: ObjectId("a1".into()),
            },
            level: AccessLevel::Use,
        });
        let d = s.dangling_references();
        let missing: Vec<&str> = d.iter().map(|d| d.missing.as_str()).collect();
        assert_eq!(missing, vec!["group 7", "user ghost", "group 7", "app a1"]);
        assert_eq!(s.memberships.len(), 1, "dangling rows are kept");
    }
}
