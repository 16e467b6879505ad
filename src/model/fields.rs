//! Each versioned record's fields, declared once: the column that holds it,
//! how to read it from and write it into the record, and whether the change
//! report compares it. The store binds and reads its rows from these
//! declarations and the changes analysis derives its field lists from them, so
//! a new field on a record is the struct, its wire decoder, a migration and
//! one line here. (Grants keep a hand-written row: their subject is two
//! columns.)

use chrono::{DateTime, Utc};

use super::{
    AccessLevel, AccessRequest, AccessToken, App, AppUsage, ConfigurationGrant, Environment,
    Folder, Group, GroupId, Membership, ObjectId, Resource, ResourceConfiguration,
    Role as RetoolRole, RoleGrant, Setting, User, UserInvite, UserUsage, Workflow, account_status,
};

/// How one field is read from and written into a record of type `T`, by the
/// kind of value it holds.
pub enum Access<T> {
    Text(fn(&T) -> &str, fn(&mut T, String)),
    OptText(fn(&T) -> Option<&str>, fn(&mut T, Option<String>)),
    Int(fn(&T) -> i64, fn(&mut T, i64)),
    OptInt(fn(&T) -> Option<i64>, fn(&mut T, Option<i64>)),
    Bool(fn(&T) -> bool, fn(&mut T, bool)),
    OptBool(fn(&T) -> Option<bool>, fn(&mut T, Option<bool>)),
    Time(
        fn(&T) -> Option<DateTime<Utc>>,
        fn(&mut T, Option<DateTime<Utc>>),
    ),
    Level(fn(&T) -> AccessLevel, fn(&mut T, AccessLevel)),
    /// Stored as a JSON array.
    GroupIds(fn(&T) -> &[GroupId], fn(&mut T, Vec<GroupId>)),
    /// Stored as a JSON array.
    Strings(fn(&T) -> &[String], fn(&mut T, Vec<String>)),
}

impl<T> Access<T> {
    /// The field's value as the change report shows it: text as is, `true` or
    /// `false`, a level's name, an absent value as the empty string.
    pub fn text(&self, record: &T) -> String {
        fn opt(v: Option<impl ToString>) -> String {
            v.map(|v| v.to_string()).unwrap_or_default()
        }
        match self {
            Access::Text(get, _) => get(record).to_string(),
            Access::OptText(get, _) => opt(get(record)),
            Access::Int(get, _) => get(record).to_string(),
            Access::OptInt(get, _) => opt(get(record)),
            Access::Bool(get, _) => get(record).to_string(),
            Access::OptBool(get, _) => opt(get(record)),
            Access::Time(get, _) => opt(get(record).map(|t| t.to_rfc3339())),
            Access::Level(get, _) => get(record).as_str().to_string(),
            Access::GroupIds(get, _) => {
                let ids: Vec<String> = get(record).iter().map(|g| g.0.to_string()).collect();
                ids.join(",")
            }
            Access::Strings(get, _) => get(record).join(","),
        }
    }
}

/// What a field is to the change report.
pub enum Role<T> {
    /// Identifies the record (a key column).
    Key,
    /// A change of it is reported under the field's name.
    Compared,
    /// A change of it is reported under another name, with its own text
    /// (users' `active` as `status`: `active` or `disabled`).
    ComparedAs(&'static str, fn(&T) -> String),
    /// Stored and hashed, never reported as a change (ids of the old API,
    /// timestamps, the record as sent).
    Kept,
}

/// One field of a record: its column and what the change report makes of it.
pub struct Field<T> {
    /// The column that holds it (and its name in the change report).
    pub column: &'static str,
    pub role: Role<T>,
    pub access: Access<T>,
}

impl<T> Field<T> {
    /// `(field, text)` as the change report compares it, if it does.
    pub fn compared(&self, record: &T) -> Option<(&'static str, String)> {
        match &self.role {
            Role::Compared => Some((self.column, self.access.text(record))),
            Role::ComparedAs(name, text) => Some((name, text(record))),
            Role::Key | Role::Kept => None,
        }
    }
}

/// A record whose fields are declared here; `Default` is the blank the store
/// fills from a row.
pub trait Fields: Default + 'static {
    /// Every field, in column order (key columns first).
    const FIELDS: &'static [Field<Self>];
}

const fn field<T>(column: &'static str, role: Role<T>, access: Access<T>) -> Field<T> {
    Field {
        column,
        role,
        access,
    }
}

/// `text!(a.b)`: a `String` field at that path.
macro_rules! text {
    ($($f:tt).+) => {
        Access::Text(|r| &r.$($f).+, |r, v| r.$($f).+ = v)
    };
}
/// `opt_text!(a)`: an `Option<String>` field.
macro_rules! opt_text {
    ($f:ident) => {
        Access::OptText(|r| r.$f.as_deref(), |r, v| r.$f = v)
    };
}
/// `opt_id!(a)`: an `Option<ObjectId>` field, stored as text.
macro_rules! opt_id {
    ($f:ident) => {
        Access::OptText(
            |r| r.$f.as_ref().map(|id| id.0.as_str()),
            |r, v| r.$f = v.map(ObjectId),
        )
    };
}
/// `scalar!(Kind, a.b)`: a `Copy` field of that kind at that path.
macro_rules! scalar {
    ($kind:ident, $($f:tt).+) => {
        Access::$kind(|r| r.$($f).+, |r, v| r.$($f).+ = v)
    };
}

use Role::{Compared, ComparedAs, Kept, Key};

impl Fields for User {
    const FIELDS: &'static [Field<User>] = &[
        field("user_id", Key, text!(id.0)),
        field("legacy_id", Kept, scalar!(OptInt, legacy_id)),
        field("email", Compared, text!(email)),
        field("first_name", Compared, opt_text!(first_name)),
        field("last_name", Compared, opt_text!(last_name)),
        field(
            "active",
            ComparedAs("status", |u| account_status(u.active).to_string()),
            scalar!(Bool, active),
        ),
        field("is_admin", Compared, scalar!(Bool, is_admin)),
        field("user_type", Compared, text!(user_type)),
        field(
            "two_factor_enabled",
            Compared,
            scalar!(OptBool, two_factor_enabled),
        ),
        field("created_at", Kept, scalar!(Time, created_at)),
        field("last_active", Kept, scalar!(Time, last_active)),
        field("raw", Kept, text!(raw)),
    ];
}

impl Fields for Group {
    const FIELDS: &'static [Field<Group>] = &[
        field("group_id", Key, scalar!(Int, id.0)),
        field("legacy_id", Kept, scalar!(OptInt, legacy_id)),
        field("name", Compared, text!(name)),
        field(
            "universal_app_access",
            Compared,
            scalar!(Level, universal_app_access),
        ),
        field(
            "universal_resource_access",
            Compared,
            scalar!(Level, universal_resource_access),
        ),
        field(
            "universal_workflow_access",
            Compared,
            scalar!(Level, universal_workflow_access),
        ),
        field(
            "universal_query_library_access",
            Compared,
            scalar!(Level, universal_query_library_access),
        ),
        field(
            "user_list_access",
            Compared,
            scalar!(Bool, flags.user_list_access),
        ),
        field(
            "audit_log_access",
            Compared,
            scalar!(Bool, flags.audit_log_access),
        ),
        field(
            "unpublished_release_access",
            Compared,
            scalar!(Bool, flags.unpublished_release_access),
        ),
        field(
            "usage_analytics_access",
            Compared,
            scalar!(Bool, flags.usage_analytics_access),
        ),
        field("theme_access", Compared, scalar!(Bool, flags.theme_access)),
        field(
            "account_details_access",
            Compared,
            scalar!(Bool, flags.account_details_access),
        ),
        field(
            "landing_page_app_id",
            Compared,
            opt_text!(landing_page_app_id),
        ),
        field("created_at", Kept, scalar!(Time, created_at)),
        field("updated_at", Kept, scalar!(Time, updated_at)),
        field("raw", Kept, text!(raw)),
    ];
}

/// Memberships are compared as a whole by the change report (a membership
/// added, removed, or its group-admin flag changed).
impl Fields for Membership {
    const FIELDS: &'static [Field<Membership>] = &[
        field("group_id", Key, scalar!(Int, group_id.0)),
        field("user_id", Key, text!(user_id.0)),
        field("is_group_admin", Compared, scalar!(Bool, is_group_admin)),
    ];
}

impl Fields for Folder {
    const FIELDS: &'static [Field<Folder>] = &[
        field("folder_id", Key, text!(id.0)),
        field("name", Compared, text!(name)),
        field("parent_id", Compared, opt_id!(parent_id)),
        field(
            "is_system_folder",
            Compared,
            scalar!(Bool, is_system_folder),
        ),
        field("folder_type", Compared, text!(folder_type)),
        field("created_at", Kept, scalar!(Time, created_at)),
        field("updated_at", Kept, scalar!(Time, updated_at)),
        field("raw", Kept, text!(raw)),
    ];
}

impl Fields for App {
    const FIELDS: &'static [Field<App>] = &[
        field("app_id", Key, text!(id.0)),
        field("name", Compared, text!(name)),
        field("description", Compared, opt_text!(description)),
        field("folder_id", Compared, opt_id!(folder_id)),
        field("protected", Compared, scalar!(Bool, protected)),
        field("is_module", Compared, scalar!(Bool, is_module)),
        field("is_mobile_app", Compared, scalar!(Bool, is_mobile_app)),
        field("created_at", Kept, scalar!(Time, created_at)),
        field("updated_at", Kept, scalar!(Time, updated_at)),
        field("raw", Kept, text!(raw)),
    ];
}

impl Fields for Resource {
    const FIELDS: &'static [Field<Resource>] = &[
        field("resource_id", Key, text!(id.0)),
        field("name", Compared, text!(name)),
        field("resource_type", Compared, text!(resource_type)),
        field("folder_id", Compared, opt_id!(folder_id)),
        field("protected", Compared, scalar!(Bool, protected)),
        field("created_at", Kept, scalar!(Time, created_at)),
        field("updated_at", Kept, scalar!(Time, updated_at)),
        field("raw", Kept, text!(raw)),
    ];
}

impl Fields for Workflow {
    const FIELDS: &'static [Field<Workflow>] = &[
        field("workflow_id", Key, text!(id.0)),
        field("name", Compared, text!(name)),
        field("description", Compared, opt_text!(description)),
        field("folder_id", Compared, opt_id!(folder_id)),
        field("is_enabled", Compared, scalar!(Bool, is_enabled)),
        field("protected", Compared, scalar!(Bool, protected)),
        field("created_at", Kept, scalar!(Time, created_at)),
        field("updated_at", Kept, scalar!(Time, updated_at)),
        field("raw", Kept, text!(raw)),
    ];
}

/// Invites and tokens are inventories: the change report does not diff them.
impl Fields for UserInvite {
    const FIELDS: &'static [Field<UserInvite>] = &[
        field("invite_id", Key, scalar!(Int, id)),
        field("email", Kept, text!(email)),
        field("invited_by", Kept, opt_text!(invited_by)),
        field("user_type", Kept, opt_text!(user_type)),
        field(
            "group_ids_json",
            Kept,
            Access::GroupIds(|r| &r.group_ids, |r, v| r.group_ids = v),
        ),
        field("expires_at", Kept, scalar!(Time, expires_at)),
        field("claimed_by", Kept, opt_text!(claimed_by)),
        field("claimed_at", Kept, scalar!(Time, claimed_at)),
        field("created_at", Kept, scalar!(Time, created_at)),
        field("raw", Kept, text!(raw)),
    ];
}

impl Fields for AccessToken {
    const FIELDS: &'static [Field<AccessToken>] = &[
        field("token_id", Key, text!(id)),
        field("label", Kept, text!(label)),
        field("description", Kept, opt_text!(description)),
        field("last4", Kept, text!(last4)),
        field("owner_legacy_id", Kept, scalar!(OptInt, owner_legacy_id)),
        field(
            "scopes_json",
            Kept,
            Access::Strings(|r| &r.scopes, |r, v| r.scopes = v),
        ),
        field("created_at", Kept, scalar!(Time, created_at)),
        field("updated_at", Kept, scalar!(Time, updated_at)),
        field("raw", Kept, text!(raw)),
    ];
}

impl Fields for RetoolRole {
    const FIELDS: &'static [Field<RetoolRole>] = &[
        field("role_id", Key, text!(id)),
        field("name", Compared, text!(name)),
        field("description", Compared, opt_text!(description)),
        field("is_default_role", Kept, scalar!(Bool, is_default_role)),
        field("is_legacy_role", Kept, scalar!(Bool, is_legacy_role)),
        field(
            "object_scopes_json",
            Compared,
            Access::Strings(|r| &r.object_scopes, |r, v| r.object_scopes = v),
        ),
        field(
            "organization_scopes_json",
            Compared,
            Access::Strings(|r| &r.organization_scopes, |r, v| r.organization_scopes = v),
        ),
        field("created_at", Kept, scalar!(Time, created_at)),
        field("updated_at", Kept, scalar!(Time, updated_at)),
        field("raw", Kept, text!(raw)),
    ];
}

/// Every column of a role grant is part of its key: a grant is there or not.
impl Fields for RoleGrant {
    const FIELDS: &'static [Field<RoleGrant>] = &[
        field("role_id", Key, text!(role_id)),
        field("subject_type", Key, text!(subject_type)),
        field("subject_id", Key, text!(subject_id)),
        field("object_type", Key, text!(object_type)),
        field("object_id", Key, text!(object_id)),
    ];
}

impl Fields for AccessRequest {
    const FIELDS: &'static [Field<AccessRequest>] = &[
        field("request_id", Key, scalar!(Int, id)),
        field("legacy_id", Kept, scalar!(OptInt, legacy_id)),
        field("status", Compared, text!(status)),
        field("requesting_email", Kept, text!(requesting_email)),
        field("updated_by_id", Compared, opt_text!(updated_by_id)),
        field("created_at", Kept, scalar!(Time, created_at)),
        field("updated_at", Kept, scalar!(Time, updated_at)),
        field("raw", Kept, text!(raw)),
    ];
}

impl Fields for Setting {
    const FIELDS: &'static [Field<Setting>] = &[
        field("source", Key, text!(source)),
        field("name", Key, text!(name)),
        field("value", Compared, text!(value)),
    ];
}

/// Usage figures change every night: the change report does not diff them.
impl Fields for UserUsage {
    const FIELDS: &'static [Field<UserUsage>] = &[
        field("user_id", Key, text!(user_id)),
        field("email", Kept, text!(email)),
        field("app_views", Kept, scalar!(Int, app_views)),
        field("app_saves", Kept, scalar!(Int, app_saves)),
        field("unique_apps", Kept, scalar!(Int, unique_apps)),
        field("last_active", Kept, scalar!(Time, last_active)),
    ];
}

impl Fields for Environment {
    const FIELDS: &'static [Field<Environment>] = &[
        field("environment_id", Key, text!(id)),
        field("name", Compared, text!(name)),
        field("description", Kept, opt_text!(description)),
        field("is_default", Compared, scalar!(Bool, is_default)),
        field("created_at", Kept, scalar!(Time, created_at)),
        field("updated_at", Kept, scalar!(Time, updated_at)),
    ];
}

/// Which resource and environment a configuration joins; never its options.
impl Fields for ResourceConfiguration {
    const FIELDS: &'static [Field<ResourceConfiguration>] = &[
        field("configuration_id", Key, text!(id)),
        field("resource_id", Compared, text!(resource_id)),
        field("resource_name", Kept, text!(resource_name)),
        field("resource_type", Kept, text!(resource_type)),
        field("environment_id", Compared, text!(environment_id)),
    ];
}

impl Fields for ConfigurationGrant {
    const FIELDS: &'static [Field<ConfigurationGrant>] = &[
        field("group_id", Key, scalar!(Int, group_id.0)),
        field("configuration_id", Key, text!(configuration_id)),
        field(
            "access_level",
            Compared,
            Access::Level(|g| g.access_level, |g, v| g.access_level = v),
        ),
    ];
}

/// Usage figures change every night: the change report does not diff them.
impl Fields for AppUsage {
    const FIELDS: &'static [Field<AppUsage>] = &[
        field("app_id", Key, text!(app_id)),
        field("user_id", Key, text!(user_id)),
        field("email", Kept, text!(email)),
        field("views", Kept, scalar!(Int, views)),
        field("saves", Kept, scalar!(Int, saves)),
    ];
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writing every field of a record into a blank one gives the record back:
    /// no field is declared twice, forgotten by its setter or set elsewhere.
    fn round_trip<T: Fields + Clone + PartialEq + std::fmt::Debug>(record: &T) {
        let mut blank = T::default();
        for f in T::FIELDS {
            match &f.access {
                Access::Text(get, set) => set(&mut blank, get(record).to_string()),
                Access::OptText(get, set) => set(&mut blank, get(record).map(str::to_string)),
                Access::Int(get, set) => set(&mut blank, get(record)),
                Access::OptInt(get, set) => set(&mut blank, get(record)),
                Access::Bool(get, set) => set(&mut blank, get(record)),
                Access::OptBool(get, set) => set(&mut blank, get(record)),
                Access::Time(get, set) => set(&mut blank, get(record)),
                Access::Level(get, set) => set(&mut blank, get(record)),
                Access::GroupIds(get, set) => set(&mut blank, get(record).to_vec()),
                Access::Strings(get, set) => set(&mut blank, get(record).to_vec()),
            }
        }
        assert_eq!(&blank, record);
    }

    #[test]
    fn every_record_of_the_demo_org_round_trips_through_its_fields() {
        let org = crate::fake::FakeOrg::generate(&crate::fake::OrgSpec::demo(
            chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 11, 20, 12, 0, 0)
                .single()
                .unwrap_or_default(),
        ));
        let s = org.expected_state();
        s.users.iter().for_each(round_trip);
        s.groups.iter().for_each(round_trip);
        s.memberships.iter().for_each(round_trip);
        s.folders.iter().for_each(round_trip);
        s.apps.iter().for_each(round_trip);
        s.resources.iter().for_each(round_trip);
        s.workflows.iter().for_each(round_trip);
        s.user_invites.iter().for_each(round_trip);
        s.access_tokens.iter().for_each(round_trip);
        s.roles.iter().for_each(round_trip);
        s.role_grants.iter().for_each(round_trip);
        s.access_requests.iter().for_each(round_trip);
        s.settings.iter().for_each(round_trip);
        s.usage.iter().for_each(round_trip);
        s.environments.iter().for_each(round_trip);
        s.resource_configurations.iter().for_each(round_trip);
        s.configuration_grants.iter().for_each(round_trip);
        org.expected_app_usage().iter().for_each(round_trip);
        assert!(!s.environments.is_empty() && !s.resource_configurations.is_empty());
        assert!(!s.configuration_grants.is_empty() && !org.expected_app_usage().is_empty());
        assert!(!s.user_invites.is_empty() && !s.access_tokens.is_empty());
        assert!(!s.roles.is_empty() && !s.role_grants.is_empty());
        assert!(!s.access_requests.is_empty() && !s.settings.is_empty());
    }

    #[test]
    fn columns_are_unique_and_keys_come_first() {
        fn check<T: Fields>(what: &str) {
            let names: Vec<&str> = T::FIELDS.iter().map(|f| f.column).collect();
            let mut unique = names.clone();
            unique.sort_unstable();
            unique.dedup();
            assert_eq!(unique.len(), names.len(), "{what}: a column twice");
            let keys = T::FIELDS
                .iter()
                .take_while(|f| matches!(f.role, Role::Key))
                .count();
            let all_keys = T::FIELDS
                .iter()
                .filter(|f| matches!(f.role, Role::Key))
                .count();
            assert!(keys >= 1 && keys == all_keys, "{what}: key columns first");
        }
        check::<User>("users");
        check::<Group>("groups");
        check::<Membership>("memberships");
        check::<Folder>("folders");
        check::<App>("apps");
        check::<Resource>("resources");
        check::<Workflow>("workflows");
        check::<UserInvite>("user_invites");
        check::<AccessToken>("access_tokens");
        check::<RetoolRole>("roles");
        check::<RoleGrant>("role_grants");
        check::<AccessRequest>("access_requests");
        check::<Setting>("settings");
        check::<UserUsage>("usage");
        check::<Environment>("environments");
        check::<ResourceConfiguration>("resource_configurations");
        check::<ConfigurationGrant>("configuration_grants");
        check::<AppUsage>("app_usage");
    }
}
