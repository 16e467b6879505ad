//! Changes between snapshots: single edits tests make (revoke a membership or a
//! grant, disable a user, rename a user id) and the scripted day of changes the
//! demo and the change reports use.

use std::collections::HashSet;

use super::names::plain_email;
use super::{
    ADMIN_GROUP, ALL_USERS_GROUP, FakeAccessRequest, FakeMember, FakeOrg, FakeRoleGrant, FakeUser,
    ScriptedChanges, days, secs,
};
use crate::fake::rng::SplitMix64;
use crate::model::{AccessLevel, Grant, GroupId, ObjectId, ObjectRef, ObjectType, Subject, UserId};

impl FakeOrg {
    /// Gives user `old` the id `new` everywhere the organization refers to it
    /// (the user, group members, direct grants), as a Retool whose user ids
    /// have an unexpected format would send them.
    pub fn rename_user_id(&mut self, old: &str, new: &str) {
        for u in self.users.iter_mut().filter(|u| u.id == old) {
            u.id = new.to_string();
        }
        for m in self.groups.iter_mut().flat_map(|g| g.members.iter_mut()) {
            if m.user_id == old {
                m.user_id = new.to_string();
            }
        }
        for g in &mut self.grants {
            if matches!(&g.subject, Subject::User(u) if u.0 == old) {
                g.subject = Subject::User(UserId(new.to_string()));
            }
        }
        self.grants.sort();
    }

    /// Removes `user` from `group`. `false` when there was no such membership.
    pub fn revoke_membership(&mut self, group: GroupId, user: &UserId) -> bool {
        let Some(g) = self.groups.iter_mut().find(|g| g.id == group.0) else {
            return false;
        };
        let before = g.members.len();
        g.members.retain(|m| m.user_id != user.0);
        before != g.members.len()
    }

    /// Enables or disables `user`. `false` when there is no such user.
    pub fn set_user_active(&mut self, user: &UserId, active: bool) -> bool {
        let now = self.now;
        match self.users.iter_mut().find(|u| u.id == user.0) {
            Some(u) => {
                u.active = active;
                u.updated_at = now;
                true
            }
            None => false,
        }
    }

    /// Adds `user` to `group`, or sets an existing member's group admin flag
    /// (Retool's `POST /groups/{id}/members`). `false` when there is no such group.
    pub fn set_member(&mut self, group: GroupId, user: &UserId, is_group_admin: bool) -> bool {
        let Some(g) = self.groups.iter_mut().find(|g| g.id == group.0) else {
            return false;
        };
        match g.members.iter_mut().find(|m| m.user_id == user.0) {
            Some(m) => m.is_group_admin = is_group_admin,
            None => g.members.push(FakeMember {
                user_id: user.0.clone(),
                is_group_admin,
            }),
        }
        true
    }

    /// Removes `subject`'s grant on `object`; on a folder also its grants on
    /// the objects directly in that folder, as Retool's `POST
    /// /permissions/revoke` does. Returns how many grants were removed.
    pub fn revoke_grant(&mut self, subject: &Subject, object: &ObjectRef) -> usize {
        let in_folder: HashSet<ObjectRef> = if object.object_type == ObjectType::Folder {
            let folder = object.id.0.as_str();
            let item = |t: ObjectType, id: &str| ObjectRef {
                object_type: t,
                id: ObjectId(id.to_string()),
            };
            self.apps
                .iter()
                .filter(|a| a.folder_id == folder)
                .map(|a| item(ObjectType::App, &a.id))
                .chain(
                    self.resources
                        .iter()
                        .filter(|r| r.folder_id.as_deref() == Some(folder))
                        .map(|r| item(ObjectType::Resource, &r.id)),
                )
                .chain(
                    self.workflows
                        .iter()
                        .filter(|w| w.folder_id == folder)
                        .map(|w| item(ObjectType::Workflow, &w.id)),
                )
                .collect()
        } else {
            HashSet::new()
        };
        let before = self.grants.len();
        self.grants.retain(|g| {
            !(&g.subject == subject && (&g.object == object || in_folder.contains(&g.object)))
        });
        before - self.grants.len()
    }

    fn user_groups(&self, uid: &str) -> Vec<i64> {
        self.groups
            .iter()
            .filter(|g| g.members.iter().any(|m| m.user_id == uid))
            .map(|g| g.id)
            .collect()
    }

    fn add_member(&mut self, group: i64, uid: &str) -> bool {
        match self.groups.iter_mut().find(|g| g.id == group) {
            Some(g) if !g.members.iter().any(|m| m.user_id == uid) => {
                g.members.push(FakeMember {
                    user_id: uid.to_string(),
                    is_group_admin: false,
                });
                true
            }
            _ => false,
        }
    }

    /// Applies a deterministic set of changes (a day passes) and says what changed.
    /// Can be called repeatedly; each round picks new targets.
    pub fn apply_scripted_changes(&mut self) -> ScriptedChanges {
        self.change_rounds += 1;
        self.now += days(1);
        let now = self.now;
        let mut rng = SplitMix64::new(self.seed ^ 0xC4A9_6E5D_0000_0000 ^ self.change_rounds);
        let mut ch = ScriptedChanges::default();
        let direct_grant_users: HashSet<String> = self
            .grants
            .iter()
            .filter_map(|g| match &g.subject {
                Subject::User(u) => Some(u.0.clone()),
                Subject::Group(_) => None,
            })
            .collect();
        let team_group_ids: Vec<i64> = self
            .groups
            .iter()
            .map(|g| g.id)
            .filter(|g| *g >= 3)
            .collect();

        // Users added (2), the first also joins a team group.
        for k in 0..2 {
            let legacy = self.next_legacy_id;
            self.next_legacy_id += 1;
            let mut u = self.new_user(&mut rng, self.users.len() + k, legacy);
            u.email = plain_email(
                u.first_name.as_deref().unwrap_or_default(),
                u.last_name.as_deref().unwrap_or_default(),
                |e| self.users.iter().any(|o| o.email == e),
            );
            u.created_at = now - secs(3600);
            u.updated_at = u.created_at;
            u.last_active = None;
            let uid = u.id.clone();
            self.users.push(u);
            self.add_member(ALL_USERS_GROUP.0, &uid);
            ch.memberships_added
                .push((ALL_USERS_GROUP, UserId(uid.clone())));
            if k == 0 {
                if let Some(g) = team_group_ids.first() {
                    self.add_member(*g, &uid);
                    ch.memberships_added
                        .push((GroupId(*g), UserId(uid.clone())));
                }
            }
            ch.added_users.push(UserId(uid));
        }
        let added: HashSet<String> = ch.added_users.iter().map(|u| u.0.clone()).collect();
        let candidates = |org: &FakeOrg,
                          taken: &HashSet<String>,
                          f: &dyn Fn(&FakeUser) -> bool|
         -> Option<String> {
            org.users
                .iter()
                .skip(21)
                .find(|u| {
                    !taken.contains(&u.id)
                        && !added.contains(&u.id)
                        && !direct_grant_users.contains(&u.id)
                        && f(u)
                })
                .map(|u| u.id.clone())
        };
        let mut taken: HashSet<String> = HashSet::new();

        // One user removed (with every membership).
        if let Some(uid) = candidates(self, &taken, &|u| u.active && !u.is_admin) {
            for gid in self.user_groups(&uid) {
                ch.memberships_removed
                    .push((GroupId(gid), UserId(uid.clone())));
            }
            for g in &mut self.groups {
                g.members.retain(|m| m.user_id != uid);
            }
            self.users.retain(|u| u.id != uid);
            taken.insert(uid.clone());
            ch.removed_users.push(UserId(uid));
        }
        // Two users disabled; the first is kept in a team group.
        let in_team = |org: &FakeOrg, uid: &str| org.user_groups(uid).iter().any(|g| *g >= 3);
        let first = self
            .users
            .iter()
            .skip(21)
            .find(|u| {
                u.active
                    && !u.is_admin
                    && !taken.contains(&u.id)
                    && !added.contains(&u.id)
                    && in_team(self, &u.id)
            })
            .map(|u| u.id.clone());
        if let Some(uid) = first {
            taken.insert(uid.clone());
            ch.disabled_users.push(UserId(uid));
        }
        if let Some(uid) = candidates(self, &taken, &|u| u.active && !u.is_admin) {
            taken.insert(uid.clone());
            ch.disabled_users.push(UserId(uid));
        }
        for uid in ch.disabled_users.clone() {
            self.set_user_active(&uid, false);
        }
        // One disabled (non-admin) user re-enabled.
        let re_enable = self
            .users
            .iter()
            .skip(14)
            .find(|u| {
                !u.active
                    && !u.is_admin
                    && !taken.contains(&u.id)
                    && !direct_grant_users.contains(&u.id)
            })
            .map(|u| u.id.clone());
        if let Some(uid) = re_enable {
            self.set_user_active(&UserId(uid.clone()), true);
            taken.insert(uid.clone());
            ch.re_enabled_users.push(UserId(uid));
        }
        // One user promoted to admin (joins the admin group).
        if let Some(uid) = candidates(self, &taken, &|u| u.active && !u.is_admin) {
            if let Some(u) = self.users.iter_mut().find(|u| u.id == uid) {
                u.is_admin = true;
                u.updated_at = now;
            }
            if self.add_member(ADMIN_GROUP.0, &uid) {
                ch.memberships_added
                    .push((ADMIN_GROUP, UserId(uid.clone())));
            }
            taken.insert(uid.clone());
            ch.promoted_admins.push(UserId(uid));
        }
        // One membership added, one removed (team groups).
        if let Some(uid) = candidates(self, &taken, &|u| u.active) {
            let current = self.user_groups(&uid);
            if let Some(g) = team_group_ids.iter().find(|g| !current.contains(g)) {
                if self.add_member(*g, &uid) {
                    ch.memberships_added
                        .push((GroupId(*g), UserId(uid.clone())));
                }
            }
            taken.insert(uid);
        }
        let removal = self
            .groups
            .iter()
            .filter(|g| g.id >= 3)
            .flat_map(|g| g.members.iter().map(move |m| (g.id, m)))
            .find(|(_, m)| {
                !m.is_group_admin && !taken.contains(&m.user_id) && !added.contains(&m.user_id)
            })
            .map(|(g, m)| (g, m.user_id.clone()));
        if let Some((g, uid)) = removal {
            if self.revoke_membership(GroupId(g), &UserId(uid.clone())) {
                ch.memberships_removed.push((GroupId(g), UserId(uid)));
            }
        }

        // Grants: one raised to own, one removed, one new edit grant.
        let group_grant_idx: Vec<usize> = self
            .grants
            .iter()
            .enumerate()
            .filter(|(_, g)| matches!(g.subject, Subject::Group(_)))
            .map(|(i, _)| i)
            .collect();
        let raise = group_grant_idx
            .iter()
            .copied()
            .find(|i| self.grants[*i].level < AccessLevel::Own);
        if let Some(i) = raise {
            let g = &mut self.grants[i];
            if let Subject::Group(gid) = g.subject {
                ch.grants_raised
                    .push((gid, g.object.clone(), g.level, AccessLevel::Own));
                g.level = AccessLevel::Own;
            }
        }
        let remove = group_grant_idx
            .iter()
            .copied()
            .rev()
            .find(|i| Some(*i) != raise);
        if let Some(i) = remove {
            let g = self.grants.remove(i);
            if let Subject::Group(gid) = g.subject {
                ch.grants_removed.push((gid, g.object, g.level));
            }
        }
        if let Some(gid) = team_group_ids.get(rng.index(team_group_ids.len())).copied() {
            let target = self.apps.iter().find(|a| {
                !self.grants.iter().any(|g| {
                    g.subject == Subject::Group(GroupId(gid))
                        && g.object.object_type == ObjectType::App
                        && g.object.id.0 == a.id
                })
            });
            if let Some(a) = target {
                let object = ObjectRef {
                    object_type: ObjectType::App,
                    id: ObjectId(a.id.clone()),
                };
                self.grants.push(Grant {
                    subject: Subject::Group(GroupId(gid)),
                    object: object.clone(),
                    level: AccessLevel::Edit,
                });
                ch.grants_added
                    .push((GroupId(gid), object, AccessLevel::Edit));
            }
        }
        // One group's universal resource access raised.
        if let Some(g) = self
            .groups
            .iter_mut()
            .filter(|g| g.id >= 3)
            .find(|g| g.universal_resource < AccessLevel::Own)
        {
            let old = g.universal_resource;
            let new = match old {
                AccessLevel::None => AccessLevel::Use,
                AccessLevel::Use => AccessLevel::Edit,
                _ => AccessLevel::Own,
            };
            g.universal_resource = new;
            g.updated_at = now;
            ch.universal_raised
                .push((GroupId(g.id), ObjectType::Resource, old, new));
        }
        // An app renamed, an app added.
        if let Some(a) = self.apps.iter_mut().rev().find(|a| a.name.len() < 200) {
            let old = a.name.clone();
            a.name = format!("{old} v{}", self.change_rounds + 1);
            a.updated_at = now;
            ch.apps_renamed
                .push((ObjectId(a.id.clone()), old, a.name.clone()));
        }
        let folders = self.app_folder_ids();
        let mut app = self.new_app(&mut rng, &folders);
        app.created_at = now - secs(600);
        app.updated_at = app.created_at;
        ch.apps_added.push(ObjectId(app.id.clone()));
        self.apps.push(app);
        // A resource removed (with its grants).
        if !self.resources.is_empty() {
            let r = self.resources.remove(self.resources.len() - 1);
            let mut kept = Vec::with_capacity(self.grants.len());
            for g in std::mem::take(&mut self.grants) {
                if g.object.object_type == ObjectType::Resource && g.object.id.0 == r.id {
                    if let Subject::Group(gid) = g.subject {
                        ch.grants_removed.push((gid, g.object, g.level));
                    }
                } else {
                    kept.push(g);
                }
            }
            self.grants = kept;
            ch.resources_removed.push(ObjectId(r.id));
        }
        self.change_access_model(&mut ch);
        self.change_environments(&mut ch);
        ch
    }

    /// The day's changes to roles, role grants, settings and access requests:
    /// the custom user-manager role gains `groups:manage`, the object role is
    /// granted to one more group on another app, app owners lose the right to
    /// share their apps, the first pending access request is approved and a
    /// new one arrives.
    fn change_access_model(&mut self, ch: &mut ScriptedChanges) {
        let now = self.now;
        if let Some(r) = self.roles.iter_mut().find(|r| r.name == "User Manager") {
            if !r.organization_scopes.iter().any(|s| s == "groups:manage") {
                r.organization_scopes.push("groups:manage".into());
                r.updated_at = now;
                ch.roles_modified.push(r.id.clone());
            }
        }
        let publisher = self
            .roles
            .iter()
            .find(|r| r.name == "App Publisher")
            .map(|r| r.id.clone());
        let app = self
            .apps
            .get(self.change_rounds as usize % self.apps.len().max(1))
            .map(|a| a.id.clone());
        let holders: HashSet<&Subject> = self.role_grants.iter().map(|g| &g.subject).collect();
        let group = self
            .groups
            .iter()
            .map(|g| Subject::Group(GroupId(g.id)))
            .filter(|s| matches!(s, Subject::Group(g) if g.0 >= 3))
            .find(|s| !holders.contains(s));
        if let (Some(role_id), Some(app), Some(subject)) = (publisher, app, group) {
            self.role_grants.push(FakeRoleGrant {
                role_id: role_id.clone(),
                subject: subject.clone(),
                object: Some(ObjectRef {
                    object_type: ObjectType::App,
                    id: ObjectId(app),
                }),
            });
            ch.role_grants_added.push((role_id, subject));
        }
        if let Some(org) = self.settings.organization.as_object_mut() {
            let key = "app_owners_permissions_management";
            let now_on = !org.get(key).and_then(|v| v.as_bool()).unwrap_or(false);
            org.insert(key.into(), now_on.into());
            ch.settings_changed.push(format!("organization.{key}"));
        }
        let approver = self
            .users
            .iter()
            .find(|u| u.is_admin && u.active)
            .map(|u| u.id.clone());
        if let Some(r) = self
            .access_requests
            .iter_mut()
            .find(|r| r.status == "PENDING")
        {
            r.status = "APPROVED".into();
            r.updated_by_id = approver;
            r.updated_at = now;
            ch.access_requests_decided.push(r.id);
        }
        let id = self
            .access_requests
            .iter()
            .map(|r| r.id)
            .max()
            .unwrap_or(699)
            + 1;
        self.access_requests.push(FakeAccessRequest {
            id,
            status: "PENDING".into(),
            requesting_email: format!("requester.{id}@example.com"),
            updated_by_id: None,
            created_at: now - secs(3600),
            updated_at: now - secs(3600),
        });
        ch.access_requests_added.push(id);
        // A day of app use: the first few users with usage viewed more apps.
        for u in self.usage.iter_mut().take(5) {
            u.app_views += 7;
        }
    }
}
