//! The simulated Retool's `accessList`: who may reach one object, computed
//! by the fake's own implementation of Retool's rules (DESIGN.md), apart from
//! the collector's `analyze::access`, so the cross-check compares two
//! implementations rather than one with itself.
//!
//! A user's level on an app, resource or workflow is the highest of: `own`
//! for an admin; the universal level of each of their groups for the type;
//! each group's grant on the object or on the folder directly containing it;
//! their direct grant on the object; each role they hold (directly or
//! through a group) on the object, or on no object, at the level the role's
//! `<type>:<level>` object scopes give. On a folder: admin, group and direct
//! grants on the folder itself, and roles on it. Disabled users are not
//! listed. Objects in [`FakeOrg::access_list_skew`] leave their first listed
//! user out, so a test can plant a disagreement.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Value, json};

use super::FakeOrg;
use crate::model::{AccessLevel, ObjectType, Subject};

/// The level a fake role's object scopes give on `t`.
fn scope_level(scopes: &[String], t: ObjectType) -> AccessLevel {
    scopes
        .iter()
        .filter_map(|s| {
            let (kind, level) = s.split_once(':')?;
            let kind = kind.trim_end_matches('s');
            (kind == t.as_str()).then_some(())?;
            AccessLevel::parse(level).filter(|l| *l != AccessLevel::None)
        })
        .max()
        .unwrap_or(AccessLevel::None)
}

impl FakeOrg {
    /// The `accessList` answer for one object (`data`: `group`, `user`,
    /// `userInvite`).
    pub fn access_list(&self, object_type: ObjectType, id: &str) -> Value {
        let folder = match object_type {
            ObjectType::App => self
                .apps
                .iter()
                .find(|a| a.id == id)
                .map(|a| a.folder_id.clone()),
            ObjectType::Resource => self
                .resources
                .iter()
                .find(|r| r.id == id)
                .and_then(|r| r.folder_id.clone()),
            ObjectType::Workflow => self
                .workflows
                .iter()
                .find(|w| w.id == id)
                .map(|w| w.folder_id.clone()),
            ObjectType::Folder => None,
        };
        // The grants on this object and on its folder, by subject: one pass.
        let mut on_object: HashMap<&Subject, AccessLevel> = HashMap::new();
        let mut on_folder: HashMap<&Subject, AccessLevel> = HashMap::new();
        for g in &self.grants {
            let target = if g.object.object_type == object_type && g.object.id.0 == id {
                &mut on_object
            } else if g.object.object_type == ObjectType::Folder
                && folder.as_deref() == Some(g.object.id.0.as_str())
            {
                &mut on_folder
            } else {
                continue;
            };
            let e = target.entry(&g.subject).or_default();
            *e = (*e).max(g.level);
        }

        // Each group: its own level and sources.
        let mut group_levels: HashMap<i64, (AccessLevel, bool, bool, bool)> = HashMap::new();
        let mut groups = Vec::new();
        for g in &self.groups {
            let subject = Subject::Group(crate::model::GroupId(g.id));
            let direct = on_object.get(&subject).copied();
            let inherited = on_folder.get(&subject).copied();
            let universal = match object_type {
                ObjectType::App => g.universal_app,
                ObjectType::Resource => g.universal_resource,
                ObjectType::Workflow => g.universal_workflow,
                ObjectType::Folder => AccessLevel::None,
            };
            let level = direct
                .unwrap_or_default()
                .max(inherited.unwrap_or_default())
                .max(universal);
            group_levels.insert(
                g.id,
                (
                    level,
                    direct.is_some(),
                    universal > AccessLevel::None,
                    inherited.is_some(),
                ),
            );
            if level == AccessLevel::None {
                continue;
            }
            let mut sources = json!({
                "direct": direct.is_some(),
                "universal": universal > AccessLevel::None,
            });
            if let (Some(f), Some(_), Some(o)) = (&folder, inherited, sources.as_object_mut()) {
                o.insert("inherited".into(), json!({"id": f, "type": "folder"}));
            }
            groups.push(json!({
                "subject": {"id": g.id.to_string(), "type": "group"},
                "sources": sources,
                "accessLevel": level.as_str(),
            }));
        }
        // Roles: what each holder gets on this object.
        let roles: HashMap<&str, &super::FakeRole> =
            self.roles.iter().map(|r| (r.id.as_str(), r)).collect();
        let mut role_level: HashMap<&Subject, AccessLevel> = HashMap::new();
        for rg in &self.role_grants {
            let Some(role) = roles.get(rg.role_id.as_str()) else {
                continue;
            };
            let applies = match &rg.object {
                None => true,
                Some(o) => o.object_type == object_type && o.id.0 == id,
            };
            if applies {
                let level = scope_level(&role.object_scopes, object_type);
                let e = role_level.entry(&rg.subject).or_default();
                *e = (*e).max(level);
            }
        }
        let mut member_of: HashMap<&str, Vec<i64>> = HashMap::new();
        for g in &self.groups {
            for m in &g.members {
                member_of.entry(m.user_id.as_str()).or_default().push(g.id);
            }
        }
        let mut users: BTreeMap<&str, Value> = BTreeMap::new();
        for u in self.users.iter().filter(|u| u.active) {
            let subject = Subject::User(crate::model::UserId(u.id.clone()));
            let member_of = member_of
                .get(u.id.as_str())
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            let direct = on_object.get(&subject).copied();
            let mut level = direct.unwrap_or_default();
            let mut universal = u.is_admin;
            let mut inherited = false;
            let mut through = Vec::new();
            if u.is_admin {
                level = AccessLevel::Own;
            }
            for gid in member_of {
                let Some(&(l, d, uni, inh)) = group_levels.get(gid) else {
                    continue;
                };
                level = level.max(l);
                universal |= uni;
                inherited |= inh;
                if d || inh {
                    through.push(json!({"id": gid.to_string(), "type": "group"}));
                }
                let held = role_level
                    .get(&Subject::Group(crate::model::GroupId(*gid)))
                    .copied()
                    .unwrap_or_default();
                level = level.max(held);
            }
            level = level.max(role_level.get(&subject).copied().unwrap_or_default());
            if level == AccessLevel::None {
                continue;
            }
            let mut sources = json!({"direct": direct.is_some(), "universal": universal});
            if !through.is_empty() {
                if let Some(o) = sources.as_object_mut() {
                    o.insert("groups".into(), Value::Array(through));
                }
            }
            if let (true, Some(f), Some(o)) = (inherited, &folder, sources.as_object_mut()) {
                o.insert("inherited".into(), json!({"id": f, "type": "folder"}));
            }
            users.insert(
                u.id.as_str(),
                json!({
                    "subject": {"id": u.id, "type": "user"},
                    "sources": sources,
                    "accessLevel": level.as_str(),
                }),
            );
        }
        let mut users: Vec<Value> = users.into_values().collect();
        let skewed = self
            .access_list_skew
            .iter()
            .any(|(t, o)| *t == object_type && o == id);
        if skewed && !users.is_empty() {
            users.remove(0);
        }
        json!({"group": groups, "user": users, "userInvite": []})
    }
}
