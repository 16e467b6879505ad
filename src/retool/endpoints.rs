//! The endpoint catalogue: every read endpoint of the Retool API the collector
//! uses, as data — its path, whether it pages in each dialect (or is missing
//! from one), whether a snapshot can do without it, the token scope it needs,
//! what a snapshot misses without it, and the decoders of its records.
//! [`Client`](super::Client)'s listing functions, `doctor`'s probes and the
//! scope table of `docs/collection.md` (checked by a test) all read it.

use serde_json::Value;

use super::decode::DecodeFailure;
use super::{Space, environments, rbac, v1, v2};
use crate::model::{
    AccessRequest, AccessToken, App, Dialect, Environment, Folder, Group, Membership, Resource,
    ResourceConfiguration, Role, User, UserInvite, Workflow,
};

/// How a list is read in one dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paging {
    /// Page by page (v2 `limit`/`next_token`, v1 `page`/`pageSize`).
    Paged,
    /// The whole list in one answer.
    Whole,
}

/// What the catalogue says about one endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct About {
    /// Method, path and (for one path probed twice) which use: what `doctor`
    /// prints, e.g. `GET /users`.
    pub name: &'static str,
    /// The path under the API root, the same in both dialects.
    pub path: &'static str,
    /// A snapshot fails without it; without any other endpoint it records what
    /// was not collected and goes on.
    pub mandatory: bool,
    /// The token scope it needs.
    pub scope: &'static str,
    /// What snapshots lack when it cannot be read.
    pub missing: &'static str,
}

/// Turns the record at an index of a page into a model value.
pub(super) type Decode<T> = fn(&Value, usize) -> Result<T, DecodeFailure>;

/// A list endpoint: what the catalogue says, how each dialect serves it and
/// decodes its records, and how records are told apart (duplicates across
/// pages are dropped by key).
pub(super) struct Endpoint<T> {
    pub about: About,
    pub v2: (Paging, Decode<T>),
    /// `None`: not in the v1 API.
    pub v1: Option<(Paging, Decode<T>)>,
    pub key: fn(&T) -> String,
}

impl<T> Endpoint<T> {
    /// How `dialect` serves it, or `None` when that API does not have it.
    pub fn served(&self, dialect: Dialect) -> Option<(Paging, Decode<T>)> {
        match dialect {
            Dialect::V2 => Some(self.v2),
            Dialect::V1 => self.v1,
        }
    }
}

const fn about(
    name: &'static str,
    path: &'static str,
    mandatory: bool,
    scope: &'static str,
    missing: &'static str,
) -> About {
    About {
        name,
        path,
        mandatory,
        scope,
        missing,
    }
}

use Paging::{Paged, Whole};

pub(super) const USERS: Endpoint<User> = Endpoint {
    about: about(
        "GET /users",
        "/users",
        true,
        "users:read",
        "everything: users are mandatory, snapshots fail",
    ),
    v2: (Paged, v2::user),
    v1: Some((Paged, v1::user)),
    key: |u| u.id.0.clone(),
};

pub(super) const GROUPS: Endpoint<(Group, Vec<Membership>)> = Endpoint {
    about: about(
        "GET /groups",
        "/groups",
        true,
        "groups:read",
        "everything: groups are mandatory, snapshots fail",
    ),
    v2: (Whole, v2::group),
    v1: Some((Whole, v1::group)),
    key: |g| g.0.id.to_string(),
};

pub(super) const FOLDERS: Endpoint<Folder> = Endpoint {
    about: about(
        "GET /folders",
        "/folders",
        false,
        "folders:read",
        "folders (folder grants cannot be placed)",
    ),
    v2: (Whole, v2::folder),
    v1: Some((Whole, v1::folder)),
    key: |f| f.id.0.clone(),
};

pub(super) const APPS: Endpoint<App> = Endpoint {
    about: about("GET /apps", "/apps", false, "apps:read", "apps"),
    v2: (Whole, v2::app),
    v1: Some((Paged, v1::app)),
    key: |a| a.id.0.clone(),
};

pub(super) const RESOURCES: Endpoint<Resource> = Endpoint {
    about: about(
        "GET /resources",
        "/resources",
        false,
        "resources:read",
        "resources",
    ),
    v2: (Paged, v2::resource),
    v1: Some((Whole, v1::resource)),
    key: |r| r.id.0.clone(),
};

pub(super) const WORKFLOWS: Endpoint<Workflow> = Endpoint {
    about: about(
        "GET /workflows",
        "/workflows",
        false,
        "workflows:read",
        "workflows",
    ),
    v2: (Whole, v2::workflow),
    v1: None,
    key: |w| w.id.0.clone(),
};

pub(super) const USER_INVITES: Endpoint<UserInvite> = Endpoint {
    about: about(
        "GET /user_invites",
        "/user_invites",
        false,
        "user_invites:read",
        "pending invites",
    ),
    v2: (Whole, v2::user_invite),
    v1: None,
    key: |i| i.id.to_string(),
};

pub(super) const ACCESS_TOKENS: Endpoint<AccessToken> = Endpoint {
    about: about(
        "GET /access_tokens",
        "/access_tokens",
        false,
        "access_tokens:read",
        "the API token inventory",
    ),
    v2: (Whole, v2::access_token),
    v1: None,
    key: |t| t.id.clone(),
};

pub(super) const SPACES: Endpoint<Space> = Endpoint {
    about: about(
        "GET /spaces",
        "/spaces",
        false,
        "spaces:read",
        "nothing; [[org.space]] entries cannot be looked up",
    ),
    v2: (Whole, v2::space),
    v1: None,
    key: |s| s.id.clone(),
};

pub(super) const ROLES: Endpoint<Role> = Endpoint {
    about: about(
        "GET /role_permissions/roles",
        "/role_permissions/roles",
        false,
        "permissions:read",
        "roles (custom roles are not seen; API 2.9+)",
    ),
    v2: (Whole, rbac::role),
    v1: None,
    key: |r| r.id.clone(),
};

pub(super) const ACCESS_REQUESTS: Endpoint<AccessRequest> = Endpoint {
    about: about(
        "GET /access_requests",
        "/access_requests",
        false,
        "users:read",
        "access requests (the approval trail; API 2.3+)",
    ),
    v2: (Paged, rbac::access_request),
    v1: None,
    key: |r| r.id.to_string(),
};

pub(super) const ENVIRONMENTS: Endpoint<Environment> = Endpoint {
    about: about(
        "GET /environments",
        "/environments",
        false,
        "environments:read",
        "environment names (per-environment resource access shows ids; API 2.4+)",
    ),
    v2: (Whole, environments::environment),
    v1: None,
    key: |e| e.id.clone(),
};

/// Which resource and environment each configuration joins; its `options`
/// (credentials) are never read.
pub(super) const RESOURCE_CONFIGURATIONS: Endpoint<ResourceConfiguration> = Endpoint {
    about: about(
        "GET /resource_configurations",
        "/resource_configurations",
        false,
        "resources:read",
        "resource configurations (per-environment access cannot be placed; API 2.4+)",
    ),
    v2: (Paged, environments::resource_configuration),
    v1: None,
    key: |c| c.id.clone(),
};

/// `GET /role_permissions/role_grants`: who holds which role (API 2.9+). Its
/// answer's shape is undocumented; see [`Client::role_grants`](super::Client::role_grants).
pub const ROLE_GRANTS: About = about(
    "GET /role_permissions/role_grants",
    "/role_permissions/role_grants",
    false,
    "permissions:read",
    "role grants (access through roles is not seen; API 2.9+)",
);

/// `GET /organization/`: the organization's security settings (one record).
pub const ORGANIZATION: About = about(
    "GET /organization/",
    "/organization/",
    false,
    "organization:read",
    "the organization's security settings (2FA, access requests)",
);

/// `GET /sso/config`: the single sign-on settings (allow-listed; no secret).
pub const SSO_CONFIG: About = about(
    "GET /sso/config",
    "/sso/config",
    false,
    "spaces:read",
    "the single sign-on settings",
);

/// `GET /usage/user_summary`: app views, saves and last activity per user over
/// a window (scope `usage`; self-hosted Retool needs `USAGE_API_TOKEN`).
pub const USAGE: About = about(
    "GET /usage/user_summary",
    "/usage/user_summary",
    false,
    "usage",
    "usage figures (app views and saves per user)",
);

/// `GET /usage/app_details`: who viewed and who saved one app (read with
/// `--usage-details`: one request per app).
pub const APP_DETAILS: About = about(
    "GET /usage/app_details",
    "/usage/app_details",
    false,
    "usage",
    "per-app usage (--usage-details: who viewed and saved each app)",
);

/// `GET /permissions/accessList/{type}/{id}`: Retool's own list of who may
/// reach one object, read for the cross-check's sample of objects.
pub const ACCESS_LIST: About = about(
    "GET /permissions/accessList",
    "/permissions/accessList",
    false,
    "permissions:read",
    "the cross-check against Retool's own access lists",
);

/// `POST /permissions/listObjects` for a group: its grants, one request per
/// group and object type (not a list; see [`Client::grants`](super::Client::grants)).
pub const GROUP_GRANTS: About = about(
    "POST /permissions/listObjects (group)",
    "/permissions/listObjects",
    false,
    "permissions:read",
    "all grants (access comes from admin and universal levels only)",
);

/// The same endpoint for a user's direct grants (API 2.7+).
pub const USER_GRANTS: About = about(
    "POST /permissions/listObjects (user)",
    "/permissions/listObjects",
    false,
    "permissions:read",
    "direct user grants (group grants are kept)",
);

/// The same endpoint for a group's access to resource configurations: which
/// environments of a resource it may use.
pub const CONFIGURATION_GRANTS: About = about(
    "POST /permissions/listObjects (resource_configuration)",
    "/permissions/listObjects",
    false,
    "permissions:read",
    "per-environment resource access (Retool 3.37+)",
);

/// Every endpoint, in the order `doctor` probes them and the docs list them.
pub const CATALOGUE: [About; 22] = [
    USERS.about,
    GROUPS.about,
    FOLDERS.about,
    APPS.about,
    RESOURCES.about,
    WORKFLOWS.about,
    USER_INVITES.about,
    ACCESS_TOKENS.about,
    SPACES.about,
    GROUP_GRANTS,
    USER_GRANTS,
    ROLES.about,
    ROLE_GRANTS,
    ACCESS_REQUESTS.about,
    ORGANIZATION,
    SSO_CONFIG,
    USAGE,
    ACCESS_LIST,
    ENVIRONMENTS.about,
    RESOURCE_CONFIGURATIONS.about,
    CONFIGURATION_GRANTS,
    APP_DETAILS,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_users_and_groups_are_mandatory_and_every_name_is_unique() {
        let mandatory: Vec<&str> = CATALOGUE
            .iter()
            .filter(|e| e.mandatory)
            .map(|e| e.name)
            .collect();
        assert_eq!(mandatory, ["GET /users", "GET /groups"]);
        let mut names: Vec<&str> = CATALOGUE.iter().map(|e| e.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), CATALOGUE.len());
        for e in CATALOGUE {
            assert!(e.name.ends_with(e.path) || e.name.contains(&format!("{} (", e.path)));
            // Read scopes only (`usage` is Retool's name for reading usage).
            assert!(
                e.scope.ends_with(":read") || e.scope == "usage",
                "{}: read scopes only",
                e.name
            );
        }
    }

    #[test]
    fn v2_serves_every_list_and_v1_only_the_ones_it_has() {
        fn v1<T>(e: &Endpoint<T>) -> Option<&'static str> {
            e.served(Dialect::V1).map(|_| e.about.name)
        }
        let in_v1: Vec<&str> = [
            v1(&USERS),
            v1(&GROUPS),
            v1(&FOLDERS),
            v1(&APPS),
            v1(&RESOURCES),
            v1(&WORKFLOWS),
            v1(&USER_INVITES),
            v1(&ACCESS_TOKENS),
            v1(&SPACES),
            v1(&ROLES),
            v1(&ACCESS_REQUESTS),
            v1(&ENVIRONMENTS),
            v1(&RESOURCE_CONFIGURATIONS),
        ]
        .into_iter()
        .flatten()
        .collect();
        assert_eq!(
            in_v1,
            [
                "GET /users",
                "GET /groups",
                "GET /folders",
                "GET /apps",
                "GET /resources"
            ]
        );
        assert!(
            USERS
                .served(Dialect::V2)
                .is_some_and(|(p, _)| p == Paging::Paged)
        );
    }
}
