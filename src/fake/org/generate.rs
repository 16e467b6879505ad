//! Deterministic generation: the same [`OrgSpec`] always gives the same
//! organization (users, groups and memberships, folders, apps, resources,
//! workflows, grants, invites, tokens and spaces; roles, role grants, access
//! requests and security settings).

use std::collections::HashSet;

use chrono::{Duration as ChronoDuration, Timelike};

use super::names::*;
use super::{
    ADMIN_GROUP, ALL_USERS_GROUP, FakeAccessRequest, FakeApp, FakeFolder, FakeGroup, FakeInvite,
    FakeMember, FakeOrg, FakeResource, FakeRole, FakeRoleGrant, FakeSettings, FakeSpace, FakeToken,
    FakeUsage, FakeUser, FakeWorkflow, HOSTILE_CMD, HOSTILE_EMOJI, HOSTILE_GREEK,
    HOSTILE_HYPERLINK, HOSTILE_JAPANESE, HOSTILE_NEWLINE, HOSTILE_QUOTES, HOSTILE_RTL,
    HOSTILE_SCRIPT, HOSTILE_SUM, LONG_NAME_LEN, OrgSpec, SSO_CLIENT_SECRET, days, secs,
};
use crate::fake::rng::SplitMix64;
use crate::model::{
    AccessLevel, Grant, GroupFlags, GroupId, ObjectId, ObjectRef, ObjectType, Subject, UserId,
};

fn level_for(rng: &mut SplitMix64) -> AccessLevel {
    match rng.below(10) {
        0..=5 => AccessLevel::Use,
        6..=8 => AccessLevel::Edit,
        _ => AccessLevel::Own,
    }
}

impl FakeOrg {
    /// Generates the organization `spec` describes. Deterministic; linear in size.
    pub fn generate(spec: &OrgSpec) -> FakeOrg {
        let now = spec
            .now
            .with_nanosecond(0)
            .unwrap_or(spec.now - ChronoDuration::nanoseconds(i64::from(spec.now.nanosecond())));
        let mut rng = SplitMix64::new(spec.seed);
        let mut org = FakeOrg {
            now,
            users: Vec::with_capacity(spec.users),
            groups: Vec::new(),
            folders: Vec::new(),
            apps: Vec::with_capacity(spec.apps),
            resources: Vec::new(),
            workflows: Vec::new(),
            grants: Vec::new(),
            invites: Vec::new(),
            tokens: Vec::new(),
            spaces: Vec::new(),
            roles: Vec::new(),
            role_grants: Vec::new(),
            access_requests: Vec::new(),
            settings: FakeSettings {
                organization: serde_json::Value::Null,
                sso: None,
            },
            usage: Vec::new(),
            environments: Vec::new(),
            configurations: Vec::new(),
            configuration_grants: Vec::new(),
            app_usage: Vec::new(),
            access_list_skew: Vec::new(),
            seed: spec.seed,
            change_rounds: 0,
            next_legacy_id: 1000 + spec.users as i64,
        };
        org.gen_users(spec, &mut rng);
        org.gen_folders(spec, &mut rng);
        org.gen_apps(spec, &mut rng);
        org.gen_resources(spec, &mut rng);
        org.gen_workflows(spec, &mut rng);
        org.gen_groups(spec, &mut rng);
        org.gen_grants(spec, &mut rng);
        org.gen_invites_tokens_spaces(spec, &mut rng);
        // From its own stream, so the records above do not depend on it.
        org.gen_rbac(
            spec,
            &mut SplitMix64::new(spec.seed ^ 0x0052_4241_4300_0000),
        );
        org.gen_environments(&mut SplitMix64::new(spec.seed ^ 0x0045_4e56_0000_0000));
        org
    }

    /// Roles (three default ones, a custom role that manages users held by a
    /// user who is not an admin, an object role granted to a group on one
    /// app), access requests approved, denied and pending, and the security
    /// settings, with a client secret in the SSO configuration.
    fn gen_rbac(&mut self, spec: &OrgSpec, rng: &mut SplitMix64) {
        let t = self.now - days(300);
        let role = |rng: &mut SplitMix64,
                    name: &str,
                    desc: &str,
                    default: bool,
                    object: &[&str],
                    org: &[&str]| {
            FakeRole {
                id: rng.uuid(),
                name: name.to_string(),
                description: desc.to_string(),
                is_default_role: default,
                is_legacy_role: false,
                object_scopes: object.iter().map(|s| s.to_string()).collect(),
                organization_scopes: org.iter().map(|s| s.to_string()).collect(),
                created_at: t,
                updated_at: t,
            }
        };
        let admin = role(
            rng,
            "Admin",
            "All organization permission scopes",
            true,
            &[],
            &[
                "users:manage",
                "sso:manage",
                "billing:manage",
                "audit_logs:view",
                "query_library:edit",
                "user_list:view",
            ],
        );
        let viewer = role(
            rng,
            "Viewer",
            "Query library (view), view users, manage account details",
            true,
            &[],
            &[
                "query_library:view",
                "user_list:view",
                "account_details:manage",
            ],
        );
        let editor = role(
            rng,
            "Editor",
            "",
            true,
            &[],
            &["query_library:edit", "user_list:view", "draft_apps:manage"],
        );
        let manager = role(
            rng,
            "User Manager",
            "Manages users without being an admin",
            false,
            &[],
            &["users:manage", "user_list:view"],
        );
        let publisher = role(
            rng,
            "App Publisher",
            "Edits the apps it is granted on",
            false,
            &["app:edit"],
            &[],
        );
        let grant = |role: &FakeRole, subject: Subject, object: Option<ObjectRef>| FakeRoleGrant {
            role_id: role.id.clone(),
            subject,
            object,
        };
        self.role_grants
            .push(grant(&admin, Subject::Group(ADMIN_GROUP), None));
        self.role_grants
            .push(grant(&viewer, Subject::Group(ALL_USERS_GROUP), None));
        if let Some(u) = self.users.iter().find(|u| u.active && !u.is_admin) {
            self.role_grants
                .push(grant(&manager, Subject::User(UserId(u.id.clone())), None));
        }
        let group = self.groups.iter().map(|g| g.id).find(|g| *g >= 3);
        if let (Some(g), Some(app)) = (group, self.apps.first()) {
            let object = ObjectRef {
                object_type: ObjectType::App,
                id: ObjectId(app.id.clone()),
            };
            self.role_grants
                .push(grant(&publisher, Subject::Group(GroupId(g)), Some(object)));
        }
        self.roles = vec![admin, viewer, editor, manager, publisher];

        let approver = self
            .users
            .iter()
            .find(|u| u.is_admin && u.active)
            .map(|u| u.id.clone());
        let requests = (spec.users / 100).max(4);
        for i in 0..requests {
            let id = 700 + i as i64;
            let created = self.now - days(30 + rng.below(200) as i64);
            let (status, by) = match i % 4 {
                0 | 3 => ("APPROVED", approver.clone()),
                1 => ("DENIED", approver.clone()),
                _ => ("PENDING", None),
            };
            // Approved requests came from people who have an account now.
            let email = match (status, self.users.get(i * 7 % self.users.len().max(1))) {
                ("APPROVED", Some(u)) => u.email.clone(),
                _ => format!("requester.{id}@example.com"),
            };
            self.access_requests.push(FakeAccessRequest {
                id,
                status: status.to_string(),
                requesting_email: email,
                updated_by_id: by,
                created_at: created,
                updated_at: if status == "PENDING" {
                    created
                } else {
                    created + days(1)
                },
            });
        }

        // App usage: most active users viewed apps, some also saved; every
        // fourth active user and the never-active ones have none.
        for (i, u) in self.users.iter().enumerate() {
            if !u.active || u.last_active.is_none() || i % 4 == 3 {
                continue;
            }
            let views = 1 + rng.below(300) as i64;
            let saves = if i % 3 == 0 { rng.below(40) as i64 } else { 0 };
            self.usage.push(FakeUsage {
                user_id: u.id.clone(),
                email: u.email.clone(),
                app_views: views,
                app_saves: saves,
                unique_apps: 1 + rng.below(views.min(12) as u64) as i64,
                last_active: u.last_active,
            });
        }

        self.settings = FakeSettings {
            organization: serde_json::json!({
                "id": "org_fake",
                "request_access_enabled": true,
                "ai_support_bot_disabled": false,
                "retool_forms_disabled": false,
                "release_management_enabled": true,
                "cache_queries_per_user": null,
                "apply_preloaded_css_to_homepage": false,
                "preloaded_css": null,
                "preloaded_javascript": "window.fakeAnalytics = true;",
                "javascript_links": [],
                "workflow_run_retention_period_mins": 43200,
                "app_owners_permissions_management": true,
                "two_factor_auth_required": false,
                "two_factor_auth_type": null,
                "disable_new_login_ip_notification_email": false,
            }),
            sso: Some(serde_json::json!({
                "config_type": "oidc",
                "oidc_client_id": "fake-oidc-client-id",
                "oidc_client_secret": SSO_CLIENT_SECRET,
                "oidc_scopes": "openid email profile",
                "oidc_auth_url": "https://idp.fake.example/authorize",
                "oidc_token_url": "https://idp.fake.example/token",
                "oidc_userinfo_url": "https://idp.fake.example/userinfo",
                "jwt_email_key": "email",
                "jwt_roles_key": "groups",
                "jwt_first_name_key": "given_name",
                "jwt_last_name_key": "family_name",
                "roles_mapping": "retool-admins -> admin",
                "jit_enabled": true,
                "restricted_domain": "",
                "trigger_login_automatically": false,
                "disable_email_password_login": false,
            })),
        };
    }

    pub(super) fn new_user(&mut self, rng: &mut SplitMix64, i: usize, legacy_id: i64) -> FakeUser {
        let first = rng.pick(FIRST_NAMES).copied().unwrap_or("Ada");
        let last = rng.pick(LAST_NAMES).copied().unwrap_or("Lovelace");
        let created_at =
            self.now - days(100 + rng.below(900) as i64) - secs(rng.below(86_400) as i64);
        let user_type = match i % 50 {
            7 => "mobile",
            13 => "embed",
            _ => "default",
        };
        FakeUser {
            id: format!(
                "user_{:012x}{:06x}",
                rng.next_u64() & 0xffff_ffff_ffff,
                legacy_id
            ),
            legacy_id,
            email: format!(
                "{}.{}.{}@example.com",
                first.to_ascii_lowercase(),
                last.to_ascii_lowercase(),
                legacy_id
            ),
            first_name: Some(first.to_string()),
            last_name: Some(last.to_string()),
            active: true,
            is_admin: false,
            user_type: user_type.to_string(),
            two_factor: rng.chance(0.7),
            created_at,
            updated_at: created_at + days(rng.below(90) as i64),
            last_active: Some(self.now - secs(rng.below(20 * 86_400) as i64)),
        }
    }

    fn gen_users(&mut self, spec: &OrgSpec, rng: &mut SplitMix64) {
        let admins = (spec.users / 1000).max(3);
        let mut taken: HashSet<String> = HashSet::with_capacity(spec.users);
        for i in 0..spec.users {
            let mut u = self.new_user(rng, i, 1000 + i as i64);
            u.email = plain_email(
                u.first_name.as_deref().unwrap_or_default(),
                u.last_name.as_deref().unwrap_or_default(),
                |e| taken.contains(e),
            );
            taken.insert(u.email.clone());
            if i < admins || i == 3 {
                u.is_admin = true;
            }
            // Index 3: a disabled admin; 4: disabled, kept in a group (see groups);
            // 14: disabled (re-enabled by the first scripted change).
            if i == 3 || i == 4 || i == 14 || (i > 20 && rng.chance(0.03)) {
                u.active = false;
            }
            // Never logged in; or inactive for more than 90 days.
            if i == 15 || (i > 20 && rng.chance(0.05)) {
                u.last_active = None;
            } else if i == 16 || (i > 20 && rng.chance(0.10)) {
                u.last_active = Some(self.now - days(91 + rng.below(400) as i64));
            }
            if i == 17 {
                u.first_name = None;
                u.last_name = None;
            }
            if spec.hostile_names {
                match i {
                    5 => u.first_name = Some(HOSTILE_SCRIPT.into()),
                    6 => {
                        u.first_name = Some(HOSTILE_HYPERLINK.into());
                        u.email = format!("=1+1.{}@example.com", u.legacy_id);
                    }
                    7 => {
                        u.last_name = Some(HOSTILE_CMD.into());
                        u.email = format!("+cmd.{}@example.com", u.legacy_id);
                    }
                    8 => u.first_name = Some(HOSTILE_SUM.into()),
                    9 => u.last_name = Some(HOSTILE_QUOTES.into()),
                    10 => u.first_name = Some(HOSTILE_NEWLINE.into()),
                    11 => u.last_name = Some(HOSTILE_RTL.into()),
                    12 => u.first_name = Some(HOSTILE_EMOJI.into()),
                    13 => {
                        u.first_name = Some(HOSTILE_JAPANESE.into());
                        u.last_name = Some(HOSTILE_GREEK.into());
                    }
                    _ => {}
                }
            }
            self.users.push(u);
        }
    }

    fn gen_folders(&mut self, spec: &OrgSpec, rng: &mut SplitMix64) {
        let n = spec.folders.max(4);
        let base = self.now - days(800);
        let mk =
            |id: String, name: String, parent: Option<String>, ty: &str, sys: bool| FakeFolder {
                id,
                name,
                parent_id: parent,
                is_system: sys,
                folder_type: ty.to_string(),
                created_at: base,
                updated_at: base,
            };
        self.folders
            .push(mk("app_1".into(), "root".into(), None, "app", true));
        self.folders.push(mk(
            "workflow_2".into(),
            "Workflows".into(),
            None,
            "workflow",
            false,
        ));
        let mut counter = 3;
        if n >= 6 {
            self.folders.push(mk(
                "resource_3".into(),
                "Shared resources".into(),
                None,
                "resource",
                false,
            ));
            counter = 4;
        }
        while self.folders.len() < n {
            let app_folders: Vec<String> = self
                .folders
                .iter()
                .filter(|f| f.folder_type == "app")
                .map(|f| f.id.clone())
                .collect();
            // The first app folder sits under root, the second nests in the first,
            // later ones pick any app folder as parent.
            let parent = match counter {
                c if c <= 4 => "app_1".to_string(),
                _ => rng
                    .pick(&app_folders)
                    .cloned()
                    .unwrap_or_else(|| "app_1".into()),
            };
            let parent = if self.folders.len() == n - 1 && n >= 4 {
                // Guarantee nesting: the last folder is a child of a non-root folder.
                app_folders
                    .iter()
                    .find(|f| f.as_str() != "app_1")
                    .cloned()
                    .unwrap_or(parent)
            } else {
                parent
            };
            // Team names, then the same with a number ("Finance 2").
            let k = self
                .folders
                .iter()
                .filter(|f| f.folder_type == "app" && !f.is_system)
                .count();
            let team = TEAMS[k % TEAMS.len()];
            let mut name = match k / TEAMS.len() {
                0 => team.to_string(),
                round => format!("{team} {}", round + 1),
            };
            if spec.hostile_names && counter == 5 {
                name = HOSTILE_SUM.to_string();
            }
            let created = self.now - days(100 + rng.below(600) as i64);
            self.folders.push(FakeFolder {
                id: format!("app_{counter}"),
                name,
                parent_id: Some(parent),
                is_system: false,
                folder_type: "app".into(),
                created_at: created,
                updated_at: created + days(rng.below(50) as i64),
            });
            counter += 1;
        }
    }

    pub(super) fn app_folder_ids(&self) -> Vec<String> {
        self.folders
            .iter()
            .filter(|f| f.folder_type == "app")
            .map(|f| f.id.clone())
            .collect()
    }

    pub(super) fn new_app(&self, rng: &mut SplitMix64, folders: &[String]) -> FakeApp {
        let word = rng.pick(APP_WORDS).copied().unwrap_or("Orders");
        let kind = rng.pick(APP_KINDS).copied().unwrap_or("Tool");
        let created = self.now - days(30 + rng.below(700) as i64);
        let creator = self
            .users
            .get(rng.index(self.users.len()))
            .map(|u| u.email.clone())
            .unwrap_or_else(|| "admin@example.com".into());
        let name = unique_name(&format!("{word} {kind}"), |n| {
            self.apps.iter().any(|a| a.name == n)
        });
        FakeApp {
            id: rng.uuid(),
            name,
            description: if rng.chance(0.6) {
                Some(format!("{kind} for {} work", word.to_lowercase()))
            } else {
                None
            },
            folder_id: rng.pick(folders).cloned().unwrap_or_else(|| "app_1".into()),
            protected: rng.chance(0.1),
            is_module: rng.chance(0.1),
            is_mobile_app: rng.chance(0.05),
            created_by: creator,
            created_at: created,
            updated_at: created + days(rng.below(30) as i64),
        }
    }

    fn gen_apps(&mut self, spec: &OrgSpec, rng: &mut SplitMix64) {
        let folders = self.app_folder_ids();
        for i in 0..spec.apps {
            let mut app = self.new_app(rng, &folders);
            if spec.hostile_names {
                match i {
                    0 => {
                        let mut long = String::from("Long name ");
                        while long.len() < LONG_NAME_LEN {
                            long.push_str("very long ");
                        }
                        long.truncate(LONG_NAME_LEN);
                        app.name = long;
                    }
                    1 => app.name = HOSTILE_SCRIPT.into(),
                    2 => app.description = Some(HOSTILE_HYPERLINK.into()),
                    _ => {}
                }
            }
            self.apps.push(app);
        }
    }

    fn gen_resources(&mut self, spec: &OrgSpec, rng: &mut SplitMix64) {
        let res_folder = self
            .folders
            .iter()
            .find(|f| f.folder_type == "resource")
            .map(|f| f.id.clone());
        for i in 0..spec.resources {
            let ty = rng.pick(RESOURCE_TYPES).copied().unwrap_or("postgresql");
            let created = self.now - days(60 + rng.below(700) as i64);
            let base = format!("{} {}", TEAMS[i % TEAMS.len()], resource_type_display(ty));
            let mut display_name = unique_name(&base, |n| {
                self.resources.iter().any(|r| r.display_name == n)
            });
            if spec.hostile_names && i == 1 {
                display_name = HOSTILE_CMD.into();
            }
            self.resources.push(FakeResource {
                id: rng.uuid(),
                display_name,
                resource_type: ty.into(),
                folder_id: if rng.chance(0.3) {
                    res_folder.clone()
                } else {
                    None
                },
                protected: rng.chance(0.1),
                created_at: created,
                updated_at: created + days(rng.below(60) as i64),
            });
        }
    }

    fn gen_workflows(&mut self, spec: &OrgSpec, rng: &mut SplitMix64) {
        for i in 0..spec.workflows {
            let created = self.now - days(10 + rng.below(300) as i64);
            let word = rng.pick(APP_WORDS).copied().unwrap_or("Orders");
            self.workflows.push(FakeWorkflow {
                id: rng.uuid(),
                name: unique_name(&format!("Nightly {word} sync"), |n| {
                    self.workflows.iter().any(|w| w.name == n)
                }),
                description: if i % 2 == 0 {
                    Some(format!("Syncs {word}"))
                } else {
                    None
                },
                folder_id: "workflow_2".into(),
                is_enabled: i % 4 != 3,
                protected: rng.chance(0.1),
                crontab: if i % 3 == 0 {
                    Some("0 3 * * *".into())
                } else {
                    None
                },
                created_by: self.users.first().map(|u| u.legacy_id),
                created_at: created,
                updated_at: created + days(rng.below(10) as i64),
            });
        }
    }

    fn gen_groups(&mut self, spec: &OrgSpec, rng: &mut SplitMix64) {
        let n = spec.groups.max(3);
        let base = self.now - days(900);
        let all_flags = GroupFlags {
            user_list_access: true,
            audit_log_access: true,
            unpublished_release_access: true,
            usage_analytics_access: true,
            theme_access: true,
            account_details_access: true,
        };
        self.groups.push(FakeGroup {
            id: ALL_USERS_GROUP.0,
            name: "All Users".into(),
            universal_app: AccessLevel::Use,
            universal_resource: AccessLevel::Use,
            universal_workflow: AccessLevel::None,
            universal_query_library: AccessLevel::Use,
            flags: GroupFlags {
                user_list_access: true,
                ..GroupFlags::default()
            },
            landing_page_app_id: None,
            created_at: base,
            updated_at: base,
            members: self
                .users
                .iter()
                .map(|u| FakeMember {
                    user_id: u.id.clone(),
                    is_group_admin: false,
                })
                .collect(),
        });
        self.groups.push(FakeGroup {
            id: ADMIN_GROUP.0,
            name: "admin".into(),
            universal_app: AccessLevel::Own,
            universal_resource: AccessLevel::Own,
            universal_workflow: AccessLevel::Own,
            universal_query_library: AccessLevel::Edit,
            flags: all_flags,
            landing_page_app_id: None,
            created_at: base,
            updated_at: base,
            members: self
                .users
                .iter()
                .filter(|u| u.is_admin)
                .map(|u| FakeMember {
                    user_id: u.id.clone(),
                    is_group_admin: false,
                })
                .collect(),
        });
        for gi in 3..=n as i64 {
            let idx = gi as usize - 3;
            let team = TEAMS[idx % TEAMS.len()];
            let mut name = if idx < TEAMS.len() {
                team.to_string()
            } else {
                format!("{team} {gi}")
            };
            if spec.hostile_names && gi == 4 {
                name = HOSTILE_HYPERLINK.into();
            }
            let created = self.now - days(50 + rng.below(800) as i64);
            self.groups.push(FakeGroup {
                id: gi,
                name,
                universal_app: AccessLevel::None,
                // Group 3 holds universal `edit` on resources.
                universal_resource: if gi == 3 {
                    AccessLevel::Edit
                } else {
                    AccessLevel::None
                },
                universal_workflow: if gi == 3 {
                    AccessLevel::Use
                } else {
                    AccessLevel::None
                },
                universal_query_library: AccessLevel::None,
                flags: GroupFlags {
                    audit_log_access: gi == 3,
                    unpublished_release_access: rng.chance(0.3),
                    ..GroupFlags::default()
                },
                landing_page_app_id: if rng.chance(0.2) {
                    self.apps
                        .get(rng.index(self.apps.len()))
                        .map(|a| a.id.clone())
                } else {
                    None
                },
                created_at: created,
                updated_at: created + days(rng.below(40) as i64),
                members: Vec::new(),
            });
        }
        // Memberships in team groups (index 2.. in self.groups).
        let team_groups = self.groups.len() - 2;
        if team_groups == 0 {
            return;
        }
        let extra_mean = (spec.memberships_per_user - 1.0).max(0.0);
        for ui in 0..self.users.len() {
            // Users 18 and 19 (and ~10% of the rest) belong to no group but All Users.
            let lonely = ui == 18 || ui == 19 || (ui > 20 && rng.chance(0.1));
            let mut k = if lonely {
                0
            } else {
                // Mean over non-lonely users is extra_mean / 0.9.
                let target = extra_mean / 0.9;
                let whole = target.floor() as usize;
                whole + usize::from(rng.chance(target - whole as f64))
            };
            if ui == 4 {
                k = k.max(1); // the disabled user still in a non-default group
            }
            k = k.min(team_groups);
            let mut chosen: Vec<usize> = Vec::with_capacity(k);
            if ui == 4 {
                chosen.push(2);
            }
            while chosen.len() < k {
                let g = 2 + rng.index(team_groups);
                if !chosen.contains(&g) {
                    chosen.push(g);
                }
            }
            let uid = self.users[ui].id.clone();
            for g in chosen {
                let is_group_admin = self.groups[g].members.is_empty() || rng.chance(0.02);
                self.groups[g].members.push(FakeMember {
                    user_id: uid.clone(),
                    is_group_admin,
                });
            }
        }
    }

    fn gen_grants(&mut self, spec: &OrgSpec, rng: &mut SplitMix64) {
        let team_groups: Vec<i64> = self
            .groups
            .iter()
            .map(|g| g.id)
            .filter(|id| *id >= 3)
            .collect();
        if team_groups.is_empty() {
            return;
        }
        let folders: Vec<String> = self
            .folders
            .iter()
            .filter(|f| !f.is_system)
            .map(|f| f.id.clone())
            .collect();
        let mut seen: HashSet<(Subject, ObjectRef)> = HashSet::new();
        let mut push =
            |org: &mut FakeOrg, subject: Subject, object: ObjectRef, level: AccessLevel| {
                if seen.insert((subject.clone(), object.clone())) {
                    org.grants.push(Grant {
                        subject,
                        object,
                        level,
                    });
                }
            };
        let obj = |t: ObjectType, id: &str| ObjectRef {
            object_type: t,
            id: ObjectId(id.to_string()),
        };
        // A fixed head so small orgs have every kind and level.
        let g0 = team_groups[0];
        let g1 = team_groups[1 % team_groups.len()];
        if let Some(f) = self
            .folders
            .iter()
            .find(|f| f.folder_type == "app" && !f.is_system)
        {
            let o = obj(ObjectType::Folder, &f.id.clone());
            push(self, Subject::Group(GroupId(g0)), o, AccessLevel::Edit);
        }
        if let Some(a) = self.apps.first() {
            let o = obj(ObjectType::App, &a.id.clone());
            push(self, Subject::Group(GroupId(g1)), o, AccessLevel::Use);
        }
        if let Some(a) = self.apps.get(1) {
            let o = obj(ObjectType::App, &a.id.clone());
            push(self, Subject::Group(GroupId(g0)), o, AccessLevel::Own);
        }
        if let Some(r) = self.resources.first() {
            let o = obj(ObjectType::Resource, &r.id.clone());
            push(self, Subject::Group(GroupId(g1)), o, AccessLevel::Edit);
        }
        let mut attempts = 0usize;
        while self.grants.len() < spec.grants && attempts < spec.grants * 4 + 16 {
            attempts += 1;
            let g = team_groups[rng.index(team_groups.len())];
            let kind = rng.below(10);
            let object = if kind < 2 && !folders.is_empty() {
                obj(ObjectType::Folder, &folders[rng.index(folders.len())])
            } else if kind < 8 && !self.apps.is_empty() {
                let i = rng.index(self.apps.len());
                obj(ObjectType::App, &self.apps[i].id.clone())
            } else if !self.resources.is_empty() {
                let i = rng.index(self.resources.len());
                obj(ObjectType::Resource, &self.resources[i].id.clone())
            } else {
                continue;
            };
            let level = level_for(rng);
            push(self, Subject::Group(GroupId(g)), object, level);
        }
        // A few direct user grants on apps (API 2.7+).
        let direct = (self.users.len() / 1000).max(3).min(self.users.len());
        for k in 0..direct {
            if self.apps.is_empty() {
                break;
            }
            let ui = 20 + k * 7;
            let Some(u) = self.users.get(ui % self.users.len().max(1)) else {
                break;
            };
            let uid = u.id.clone();
            let i = rng.index(self.apps.len());
            let o = obj(ObjectType::App, &self.apps[i].id.clone());
            let level = if k == 0 {
                AccessLevel::Edit
            } else {
                level_for(rng)
            };
            push(self, Subject::User(UserId(uid)), o, level);
        }
    }

    fn gen_invites_tokens_spaces(&mut self, spec: &OrgSpec, rng: &mut SplitMix64) {
        let admin_email = self
            .users
            .first()
            .map(|u| u.email.clone())
            .unwrap_or_else(|| "admin@example.com".into());
        let group_ids: Vec<i64> = self
            .groups
            .iter()
            .map(|g| g.id)
            .filter(|g| *g >= 3)
            .collect();
        let invites = (spec.users / 200).max(3);
        for i in 0..invites {
            // Invite 1 has waited 45 days for a 90-day link: a stale pending
            // invite carrying groups.
            let created = if i == 1 {
                self.now - days(45)
            } else {
                self.now - days(rng.below(20) as i64 + 1)
            };
            let claimed = i % 3 == 2;
            let mut gids = vec![ALL_USERS_GROUP.0];
            if let Some(g) = rng.pick(&group_ids) {
                gids.push(*g);
            }
            let id = 500 + i as i64;
            self.invites.push(FakeInvite {
                id,
                email: format!("invitee.{id}@example.com"),
                invited_by: admin_email.clone(),
                user_type: Some(if i % 4 == 1 { "mobile" } else { "default" }.into()),
                group_ids: gids,
                expires_at: created + days(if i == 1 { 90 } else { 7 }),
                claimed_by: claimed.then(|| format!("invitee.{id}@example.com")),
                claimed_at: claimed.then_some(created + days(1)),
                created_at: created,
                invite_link: format!("https://fake.retool.example/invite/{:016x}", rng.next_u64()),
            });
        }
        let tokens = 3 + spec.users / 5000;
        for i in 0..tokens {
            let created = self.now - days(10 + rng.below(300) as i64);
            let scopes: Vec<String> = if i == 0 {
                TOKEN_SCOPES.iter().map(|s| s.to_string()).collect()
            } else {
                TOKEN_SCOPES
                    .iter()
                    .filter(|_| rng.chance(0.4))
                    .map(|s| s.to_string())
                    .collect()
            };
            let mut scopes = scopes;
            // Token 1 can write users and belongs to user 3, the disabled admin:
            // a write-scoped token whose owner is gone.
            let owner_index = if i == 1 {
                scopes.push("users:write".to_string());
                3
            } else {
                i
            };
            let owner = self
                .users
                .get(owner_index % self.users.len().max(1))
                .map_or(1000, |u| u.legacy_id);
            self.tokens.push(FakeToken {
                id: rng.uuid(),
                label: if i == 0 {
                    "retool-audit".into()
                } else {
                    format!("automation-{i}")
                },
                description: if i % 2 == 0 {
                    Some("Read-only audit export".into())
                } else {
                    None
                },
                last4: format!("{:04x}", rng.below(0x10000)),
                owner_legacy_id: owner,
                scopes,
                created_at: created,
                updated_at: created,
            });
        }
        let created = self.now - days(400);
        self.spaces.push(FakeSpace {
            id: rng.uuid(),
            name: "Production".into(),
            domain: "fake.retool.example".into(),
            created_at: created,
            updated_at: created,
        });
    }
}
