//! The oracle: exactly the [`OrgState`] a correct collector produces from the
//! organization in each dialect (see the mapping rules in the parent module),
//! and its counts.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{FakeOrg, NOT_IN_V1};
use crate::model::{
    AccessLevel, AccessRequest, AccessToken, App, EntityKind, Folder, Group, GroupFlags, GroupId,
    Membership, ObjectId, OrgState, Resource, Role, RoleGrant, Setting, Subject, User, UserId,
    UserInvite, UserUsage, Workflow,
};

impl FakeOrg {
    /// Exactly the `OrgState` a correct v2 collector produces from this org
    /// (normalized). See the module docs for the mapping rules.
    pub fn expected_state(&self) -> OrgState {
        let raw = |v: &Value| serde_json::to_string(v).unwrap_or_default();
        let users = self
            .users
            .iter()
            .map(|u| User {
                id: UserId(u.id.clone()),
                legacy_id: Some(u.legacy_id),
                email: u.email.clone(),
                first_name: u.first_name.clone(),
                last_name: u.last_name.clone(),
                active: u.active,
                is_admin: u.is_admin,
                user_type: u.user_type.clone(),
                two_factor_enabled: Some(u.two_factor),
                created_at: Some(u.created_at),
                last_active: u.last_active,
                raw: raw(&Self::user_v2(u)),
            })
            .collect();
        let mut s = OrgState {
            users,
            ..OrgState::default()
        };
        for g in &self.groups {
            s.groups.push(Group {
                id: GroupId(g.id),
                legacy_id: Some(g.id),
                name: g.name.clone(),
                universal_app_access: g.universal_app,
                universal_resource_access: g.universal_resource,
                universal_workflow_access: g.universal_workflow,
                universal_query_library_access: g.universal_query_library,
                flags: g.flags.clone(),
                landing_page_app_id: g.landing_page_app_id.clone(),
                created_at: Some(g.created_at),
                updated_at: Some(g.updated_at),
                raw: raw(&Self::group_v2_base(g)),
            });
            s.memberships.extend(g.members.iter().map(|m| Membership {
                group_id: GroupId(g.id),
                user_id: UserId(m.user_id.clone()),
                is_group_admin: m.is_group_admin,
            }));
        }
        s.folders = self
            .folders
            .iter()
            .map(|f| Folder {
                id: ObjectId(f.id.clone()),
                name: f.name.clone(),
                parent_id: f.parent_id.clone().map(ObjectId),
                is_system_folder: f.is_system,
                folder_type: f.folder_type.clone(),
                created_at: Some(f.created_at),
                updated_at: Some(f.updated_at),
                raw: raw(&Self::folder_v2(f)),
            })
            .collect();
        s.apps = self
            .apps
            .iter()
            .map(|a| App {
                id: ObjectId(a.id.clone()),
                name: a.name.clone(),
                description: a.description.clone(),
                folder_id: Some(ObjectId(a.folder_id.clone())),
                protected: a.protected,
                is_module: a.is_module,
                is_mobile_app: a.is_mobile_app,
                created_at: Some(a.created_at),
                updated_at: Some(a.updated_at),
                raw: raw(&Self::app_v2(a)),
            })
            .collect();
        s.resources = self
            .resources
            .iter()
            .map(|r| Resource {
                id: ObjectId(r.id.clone()),
                name: r.display_name.clone(),
                resource_type: r.resource_type.clone(),
                folder_id: r.folder_id.clone().map(ObjectId),
                protected: r.protected,
                created_at: Some(r.created_at),
                updated_at: Some(r.updated_at),
                raw: raw(&Self::resource_v2(r)),
            })
            .collect();
        s.workflows = self
            .workflows
            .iter()
            .map(|w| Workflow {
                id: ObjectId(w.id.clone()),
                name: w.name.clone(),
                description: w.description.clone(),
                folder_id: Some(ObjectId(w.folder_id.clone())),
                is_enabled: w.is_enabled,
                protected: w.protected,
                created_at: Some(w.created_at),
                updated_at: Some(w.updated_at),
                raw: raw(&Self::workflow_v2(w)),
            })
            .collect();
        s.grants = self.grants.clone();
        s.user_invites = self
            .invites
            .iter()
            .map(|i| {
                let mut v = self.invite_v2(i);
                if let Some(o) = v.as_object_mut() {
                    o.remove("invite_link");
                }
                UserInvite {
                    id: i.id,
                    email: i.email.clone(),
                    invited_by: Some(i.invited_by.clone()),
                    user_type: i.user_type.clone(),
                    group_ids: i.group_ids.iter().map(|g| GroupId(*g)).collect(),
                    expires_at: Some(i.expires_at),
                    claimed_by: i.claimed_by.clone(),
                    claimed_at: i.claimed_at,
                    created_at: Some(i.created_at),
                    raw: raw(&v),
                }
            })
            .collect();
        s.access_tokens = self
            .tokens
            .iter()
            .map(|t| AccessToken {
                id: t.id.clone(),
                label: t.label.clone(),
                description: t.description.clone(),
                last4: t.last4.clone(),
                owner_legacy_id: Some(t.owner_legacy_id),
                scopes: t.scopes.clone(),
                created_at: Some(t.created_at),
                updated_at: Some(t.updated_at),
                raw: raw(&Self::token_v2(t)),
            })
            .collect();
        self.expected_rbac(&mut s);
        self.expected_environments(&mut s);
        s.normalize();
        s
    }

    /// Roles (scopes sorted, an empty description absent), role grants (group
    /// ids in decimal, empty object fields for an organization-wide grant),
    /// access requests, and the allow-listed settings: nothing of the SSO
    /// configuration but its type, its login and provisioning switches, its
    /// restricted domain and whether a roles mapping is configured.
    fn expected_rbac(&self, s: &mut OrgState) {
        let raw = |v: &Value| serde_json::to_string(v).unwrap_or_default();
        let sorted = |v: &[String]| {
            let mut v = v.to_vec();
            v.sort();
            v
        };
        s.roles = self
            .roles
            .iter()
            .map(|r| Role {
                id: r.id.clone(),
                name: r.name.clone(),
                description: Some(r.description.clone()).filter(|d| !d.is_empty()),
                is_default_role: r.is_default_role,
                is_legacy_role: r.is_legacy_role,
                object_scopes: sorted(&r.object_scopes),
                organization_scopes: sorted(&r.organization_scopes),
                created_at: Some(r.created_at),
                updated_at: Some(r.updated_at),
                raw: raw(&Self::role_v2(r)),
            })
            .collect();
        s.role_grants = self
            .role_grants
            .iter()
            .map(|g| {
                let (subject_type, subject_id) = match &g.subject {
                    Subject::Group(id) => ("group", id.0.to_string()),
                    Subject::User(id) => ("user", id.0.clone()),
                };
                RoleGrant {
                    role_id: g.role_id.clone(),
                    subject_type: subject_type.to_string(),
                    subject_id,
                    object_type: g
                        .object
                        .as_ref()
                        .map(|o| o.object_type.as_str().to_string())
                        .unwrap_or_default(),
                    object_id: g
                        .object
                        .as_ref()
                        .map(|o| o.id.0.clone())
                        .unwrap_or_default(),
                }
            })
            .collect();
        s.access_requests = self
            .access_requests
            .iter()
            .map(|r| AccessRequest {
                id: r.id,
                legacy_id: Some(r.id),
                status: r.status.clone(),
                requesting_email: r.requesting_email.clone(),
                updated_by_id: r.updated_by_id.clone(),
                created_at: Some(r.created_at),
                updated_at: Some(r.updated_at),
                raw: raw(&Self::access_request_v2(r)),
            })
            .collect();
        s.usage = self
            .usage
            .iter()
            .map(|u| UserUsage {
                user_id: u.user_id.clone(),
                email: u.email.clone(),
                app_views: u.app_views,
                app_saves: u.app_saves,
                unique_apps: u.unique_apps,
                last_active: u.last_active,
            })
            .collect();
        let text = |v: &Value| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let setting = |source: &str, name: &str, value: String| Setting {
            source: source.to_string(),
            name: name.to_string(),
            value,
        };
        let org = &self.settings.organization;
        for name in [
            "two_factor_auth_required",
            "two_factor_auth_type",
            "request_access_enabled",
            "app_owners_permissions_management",
            "release_management_enabled",
            "disable_new_login_ip_notification_email",
            "ai_support_bot_disabled",
            "retool_forms_disabled",
        ] {
            if let Some(v) = org.get(name).filter(|v| !v.is_null()) {
                s.settings.push(setting("organization", name, text(v)));
            }
        }
        match &self.settings.sso {
            None => s
                .settings
                .push(setting("sso", "config_type", "none".into())),
            Some(sso) => {
                for name in [
                    "config_type",
                    "disable_email_password_login",
                    "jit_enabled",
                    "restricted_domain",
                    "trigger_login_automatically",
                ] {
                    if let Some(v) = sso.get(name).filter(|v| !v.is_null()) {
                        s.settings.push(setting("sso", name, text(v)));
                    }
                }
                let mapped = ["roles_mapping", "jwt_roles_key", "ldap_role_mapping"]
                    .iter()
                    .any(|k| {
                        sso.get(*k)
                            .and_then(Value::as_str)
                            .is_some_and(|v| !v.is_empty())
                    });
                let value = if mapped { "configured" } else { "none" };
                s.settings
                    .push(setting("sso", "roles_mapping", value.into()));
            }
        }
    }

    /// Exactly the `OrgState` a correct v1 collector produces (normalized): users,
    /// groups, memberships, apps, resources, folders; the rest `not_collected`.
    pub fn expected_state_v1(&self) -> OrgState {
        let raw = |v: &Value| serde_json::to_string(v).unwrap_or_default();
        let user_groups = self.v1_user_groups();
        let users = self
            .users
            .iter()
            .map(|u| {
                let groups = user_groups.get(u.id.as_str()).cloned().unwrap_or_default();
                User {
                    id: UserId(u.id.clone()),
                    legacy_id: None,
                    email: u.email.clone(),
                    first_name: u.first_name.clone(),
                    last_name: u.last_name.clone(),
                    active: u.active,
                    is_admin: u.is_admin,
                    user_type: if u.user_type == "default" {
                        "default"
                    } else {
                        "endUser"
                    }
                    .into(),
                    two_factor_enabled: None,
                    created_at: Some(u.created_at),
                    last_active: None,
                    raw: raw(&self.user_v1_with_groups(u, groups)),
                }
            })
            .collect();
        let mut s = OrgState {
            users,
            ..OrgState::default()
        };
        for g in &self.groups {
            s.groups.push(Group {
                id: GroupId(g.id),
                legacy_id: None,
                name: g.name.clone(),
                universal_app_access: AccessLevel::None,
                universal_resource_access: AccessLevel::None,
                universal_workflow_access: AccessLevel::None,
                universal_query_library_access: AccessLevel::None,
                flags: GroupFlags::default(),
                landing_page_app_id: None,
                created_at: Some(g.created_at),
                updated_at: Some(g.updated_at),
                raw: raw(&Self::group_v1_base(g)),
            });
            s.memberships.extend(g.members.iter().map(|m| Membership {
                group_id: GroupId(g.id),
                user_id: UserId(m.user_id.clone()),
                is_group_admin: false,
            }));
        }
        s.folders = self
            .folders
            .iter()
            .map(|f| Folder {
                id: ObjectId(f.id.clone()),
                name: f.name.clone(),
                parent_id: f.parent_id.clone().map(ObjectId),
                is_system_folder: false,
                folder_type: f.folder_type.clone(),
                created_at: Some(f.created_at),
                updated_at: None,
                raw: raw(&Self::folder_v1(f)),
            })
            .collect();
        s.apps = self
            .apps
            .iter()
            .map(|a| App {
                id: ObjectId(a.id.clone()),
                name: a.name.clone(),
                description: a.description.clone(),
                folder_id: Some(ObjectId(a.folder_id.clone())),
                protected: false,
                is_module: false,
                is_mobile_app: false,
                created_at: Some(a.created_at),
                updated_at: Some(a.updated_at),
                raw: raw(&Self::app_v1(a)),
            })
            .collect();
        s.resources = self
            .resources
            .iter()
            .map(|r| Resource {
                id: ObjectId(r.id.clone()),
                name: r.display_name.clone(),
                resource_type: r.resource_type.clone(),
                folder_id: None,
                protected: false,
                created_at: Some(r.created_at),
                updated_at: Some(r.updated_at),
                raw: raw(&Self::resource_v1(r)),
            })
            .collect();
        for k in [
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
        ] {
            s.not_collected.insert(k, NOT_IN_V1.to_string());
        }
        s.not_collected.insert(
            EntityKind::AppUsage,
            crate::model::access_model::APP_USAGE_NOT_REQUESTED.to_string(),
        );
        s.normalize();
        s
    }

    /// Record counts per kind (as the v2 expected state has them).
    pub fn counts(&self) -> BTreeMap<EntityKind, u64> {
        let memberships: usize = self.groups.iter().map(|g| g.members.len()).sum();
        let mut c = BTreeMap::new();
        c.insert(EntityKind::Users, self.users.len() as u64);
        c.insert(EntityKind::Groups, self.groups.len() as u64);
        c.insert(EntityKind::Memberships, memberships as u64);
        c.insert(EntityKind::Folders, self.folders.len() as u64);
        c.insert(EntityKind::Apps, self.apps.len() as u64);
        c.insert(EntityKind::Resources, self.resources.len() as u64);
        c.insert(EntityKind::Workflows, self.workflows.len() as u64);
        c.insert(EntityKind::Grants, self.grants.len() as u64);
        c.insert(EntityKind::UserInvites, self.invites.len() as u64);
        c.insert(EntityKind::AccessTokens, self.tokens.len() as u64);
        c.insert(EntityKind::Roles, self.roles.len() as u64);
        c.insert(EntityKind::RoleGrants, self.role_grants.len() as u64);
        c.insert(
            EntityKind::AccessRequests,
            self.access_requests.len() as u64,
        );
        c.insert(EntityKind::Settings, self.expected_state_settings() as u64);
        c.insert(EntityKind::Usage, self.usage.len() as u64);
        c.insert(EntityKind::Environments, self.environments.len() as u64);
        c.insert(
            EntityKind::ResourceConfigurations,
            self.configurations.len() as u64,
        );
        c.insert(
            EntityKind::ConfigurationGrants,
            self.configuration_grants.len() as u64,
        );
        // Read only with --usage-details.
        c.insert(EntityKind::AppUsage, 0);
        c
    }

    fn expected_state_settings(&self) -> usize {
        let mut s = OrgState::default();
        self.expected_rbac(&mut s);
        s.settings.len()
    }

    /// One line for a startup banner: `60 users, 8 groups, ...`.
    pub fn describe(&self) -> String {
        self.counts()
            .iter()
            .map(|(k, v)| format!("{v} {k}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}
