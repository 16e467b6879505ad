//! Who can reach each object, the way Retool's own permission screen answers
//! "who has access to X": per object, every subject that reaches it — org
//! admins, a group's universal level, a group's grant on the object or on the
//! folder directly containing it, a direct user grant, a role — with the level
//! it gives and how many active users it reaches.
//!
//! To stay bounded (a universal level on 5 000 apps is 5 000 identical rows),
//! what reaches every object of a type — admins, universal levels, roles
//! granted on no object — is one row per type with object id `*`; per-object
//! rows list grants on the object or its folder, direct grants and roles
//! granted on the object.

use std::collections::HashMap;

use super::access::ACCESS_OBJECT_TYPES;
use super::roles::role_level;
use crate::model::{AccessLevel, GroupId, ObjectId, ObjectRef, ObjectType, OrgState, Subject};

/// What kind of subject reaches the object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SubjectType {
    Admins,
    Universal,
    Group,
    User,
    Role,
}

impl SubjectType {
    pub fn as_str(self) -> &'static str {
        match self {
            SubjectType::Admins => "admins",
            SubjectType::Universal => "universal",
            SubjectType::Group => "group",
            SubjectType::User => "user",
            SubjectType::Role => "role",
        }
    }
}

/// One subject reaching one object (or, with `object` `None`, every object
/// of `object_type`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectAccess {
    pub object_type: ObjectType,
    /// `None`: every object of the type (`*`).
    pub object: Option<ObjectId>,
    pub subject_type: SubjectType,
    /// The group id, user id or role id; empty for admins.
    pub subject_id: String,
    /// The group's name, the user's e-mail, `<role> → <holder>`, `org admins`.
    pub subject_name: String,
    pub access_level: AccessLevel,
    /// How the grant reaches the object: empty for a grant on it, `folder:<name>`
    /// for a grant on its folder.
    pub through: String,
    pub active_users_reached: usize,
}

/// Every subject that reaches an app, resource or workflow, `*` rows first
/// per type, then by object, level (highest first) and subject.
pub fn object_access(state: &OrgState) -> Vec<ObjectAccess> {
    let active: HashMap<&str, bool> = state
        .users
        .iter()
        .map(|u| (u.id.0.as_str(), u.active))
        .collect();
    let mut members: HashMap<GroupId, usize> = HashMap::new();
    for m in &state.memberships {
        if active.get(m.user_id.0.as_str()).copied().unwrap_or(false) {
            *members.entry(m.group_id).or_default() += 1;
        }
    }
    let group_name = |g: GroupId| {
        state
            .group(g)
            .map_or_else(|| format!("group {g}"), |g| g.name.clone())
    };
    let admins = state
        .users
        .iter()
        .filter(|u| u.active && u.is_admin)
        .count();
    let mut out = Vec::new();
    let row = |object_type,
               object,
               subject_type,
               subject_id: String,
               subject_name: String,
               level,
               through: String,
               reached| ObjectAccess {
        object_type,
        object,
        subject_type,
        subject_id,
        subject_name,
        access_level: level,
        through,
        active_users_reached: reached,
    };

    // What reaches every object of a type.
    for t in ACCESS_OBJECT_TYPES {
        if admins > 0 || state.users.iter().any(|u| u.is_admin) {
            out.push(row(
                t,
                None,
                SubjectType::Admins,
                String::new(),
                "org admins".into(),
                AccessLevel::Own,
                String::new(),
                admins,
            ));
        }
        for g in &state.groups {
            let level = g.universal_access(t);
            if level > AccessLevel::None {
                out.push(row(
                    t,
                    None,
                    SubjectType::Universal,
                    g.id.to_string(),
                    g.name.clone(),
                    level,
                    String::new(),
                    members.get(&g.id).copied().unwrap_or(0),
                ));
            }
        }
    }

    // Grants on objects and on folders (reaching the items directly inside).
    let mut in_folder: HashMap<&ObjectId, Vec<ObjectRef>> = HashMap::new();
    for a in &state.apps {
        if let Some(f) = &a.folder_id {
            in_folder.entry(f).or_default().push(ObjectRef {
                object_type: ObjectType::App,
                id: a.id.clone(),
            });
        }
    }
    for r in &state.resources {
        if let Some(f) = &r.folder_id {
            in_folder.entry(f).or_default().push(ObjectRef {
                object_type: ObjectType::Resource,
                id: r.id.clone(),
            });
        }
    }
    for w in &state.workflows {
        if let Some(f) = &w.folder_id {
            in_folder.entry(f).or_default().push(ObjectRef {
                object_type: ObjectType::Workflow,
                id: w.id.clone(),
            });
        }
    }
    let folders: HashMap<&ObjectId, &str> = state
        .folders
        .iter()
        .map(|f| (&f.id, f.name.as_str()))
        .collect();
    let folder_name = |id: &ObjectId| {
        folders
            .get(id)
            .map_or_else(|| id.0.clone(), |n| n.to_string())
    };
    for g in &state.grants {
        let (subject_type, subject_id, subject_name, reached) = match &g.subject {
            Subject::Group(id) => (
                SubjectType::Group,
                id.to_string(),
                group_name(*id),
                members.get(id).copied().unwrap_or(0),
            ),
            Subject::User(id) => {
                let user = state.user(id);
                (
                    SubjectType::User,
                    id.0.clone(),
                    user.map_or_else(|| "(not in snapshot)".to_string(), |u| u.email.clone()),
                    usize::from(user.is_some_and(|u| u.active)),
                )
            }
        };
        if g.object.object_type == ObjectType::Folder {
            let through = format!("folder:{}", folder_name(&g.object.id));
            for o in in_folder.get(&g.object.id).into_iter().flatten() {
                out.push(row(
                    o.object_type,
                    Some(o.id.clone()),
                    subject_type,
                    subject_id.clone(),
                    subject_name.clone(),
                    g.level,
                    through.clone(),
                    reached,
                ));
            }
        } else {
            out.push(row(
                g.object.object_type,
                Some(g.object.id.clone()),
                subject_type,
                subject_id,
                subject_name,
                g.level,
                String::new(),
                reached,
            ));
        }
    }

    // Roles: on one object, or on every object of the types their scopes map.
    let roles: HashMap<&str, &crate::model::Role> =
        state.roles.iter().map(|r| (r.id.as_str(), r)).collect();
    for rg in &state.role_grants {
        let Some(role) = roles.get(rg.role_id.as_str()) else {
            continue;
        };
        let (holder, reached) = match (rg.user(), rg.group()) {
            (Some(u), _) => (
                state
                    .user(&u)
                    .map_or_else(|| u.0.clone(), |u| u.email.clone()),
                usize::from(state.user(&u).is_some_and(|u| u.active)),
            ),
            (None, Some(g)) => (
                format!("group {}", group_name(g)),
                members.get(&g).copied().unwrap_or(0),
            ),
            (None, None) => (format!("{} {}", rg.subject_type, rg.subject_id), 0),
        };
        let name = format!("{} → {holder}", role.name);
        match rg.object() {
            Some(o) if ACCESS_OBJECT_TYPES.contains(&o.object_type) => {
                let level = role_level(role, o.object_type);
                if level > AccessLevel::None {
                    out.push(row(
                        o.object_type,
                        Some(o.id),
                        SubjectType::Role,
                        role.id.clone(),
                        name,
                        level,
                        String::new(),
                        reached,
                    ));
                }
            }
            Some(_) => {}
            None => {
                for t in ACCESS_OBJECT_TYPES {
                    let level = role_level(role, t);
                    if level > AccessLevel::None {
                        out.push(row(
                            t,
                            None,
                            SubjectType::Role,
                            role.id.clone(),
                            name.clone(),
                            level,
                            String::new(),
                            reached,
                        ));
                    }
                }
            }
        }
    }

    out.sort_by(|a, b| {
        (
            a.object_type,
            &a.object,
            std::cmp::Reverse(a.access_level),
            a.subject_type,
            &a.subject_name,
            &a.subject_id,
            &a.through,
        )
            .cmp(&(
                b.object_type,
                &b.object,
                std::cmp::Reverse(b.access_level),
                b.subject_type,
                &b.subject_name,
                &b.subject_id,
                &b.through,
            ))
    });
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::fixtures::*;

    #[test]
    fn every_subject_reaching_an_object_with_the_active_users_it_stands_for() {
        let mut s = org();
        s.grants.push(user_grant(
            "u-bob",
            ObjectType::App,
            "a-top",
            AccessLevel::Own,
        ));
        s.normalize();
        let rows = object_access(&s);
        let got: Vec<(&str, &str, &str, &str, &str, &str, usize)> = rows
            .iter()
            .map(|r| {
                (
                    r.object_type.as_str(),
                    r.object.as_ref().map_or("*", |o| o.0.as_str()),
                    r.subject_type.as_str(),
                    r.subject_name.as_str(),
                    r.access_level.as_str(),
                    r.through.as_str(),
                    r.active_users_reached,
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("app", "*", "admins", "org admins", "own", "", 1),
                ("app", "*", "universal", "All Users", "use", "", 4),
                // Eng's folder grant reaches the app directly in Ops, for
                // its two active members (Erin is disabled).
                ("app", "a-ops", "group", "Eng", "edit", "folder:Ops", 2),
                ("app", "a-top", "user", "bob@example.com", "own", "", 1),
                ("resource", "*", "admins", "org admins", "own", "", 1),
                ("resource", "r-db", "group", "DBA", "own", "", 1),
                ("workflow", "*", "admins", "org admins", "own", "", 1),
            ]
        );
    }
}
