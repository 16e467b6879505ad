//! A subject's timeline: what one user, group or object looks like in one
//! state (a [`View`]: account fields, memberships, grants, roles, and who
//! reaches what at `edit` or `own`), and the changes from one view to the
//! next, each rated like the `changes` table's rows.

use std::collections::{BTreeMap, HashSet};

use super::access::AccessIndex;
use super::changes::Risk;
use crate::model::{AccessLevel, GroupId, ObjectRef, ObjectType, OrgState, Subject, UserId};

/// What a view compares: (kind, stable key, field).
pub type ViewKey = (&'static str, String, &'static str);

/// A subject as one state shows it: per key, the label a person reads
/// (names can change; keys do not) and the value.
pub type View = BTreeMap<ViewKey, (String, String)>;

/// One change between two views.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineChange {
    /// `account`, `membership`, `direct_grant`, `role`, `effective_access`,
    /// `group`, `member`, `grant`, `folder_grant`, `object`, `user_access`.
    pub kind: &'static str,
    /// What changed, as a person reads it (a group, an object, a user).
    pub entity: String,
    pub field: &'static str,
    /// Empty when the entry is new.
    pub old_value: String,
    /// Empty when the entry is gone.
    pub new_value: String,
    pub risk: Risk,
}

fn rank(level: &str) -> AccessLevel {
    let word = level.split(' ').next().unwrap_or_default();
    AccessLevel::parse(word).unwrap_or(AccessLevel::None)
}

fn rate(kind: &str, field: &str, old: &str, new: &str) -> Risk {
    match (kind, field) {
        ("account", "is_admin") if new == "true" => Risk::High,
        ("account", "status") if new == "active" && old == "disabled" => Risk::High,
        ("membership" | "member", "role") if new == "group admin" => Risk::High,
        ("membership" | "member", _) if !new.is_empty() => Risk::Medium,
        ("role", _) if !new.is_empty() => Risk::High,
        ("group", f) if f.starts_with("universal_") => {
            if rank(new) >= AccessLevel::Edit && rank(new) > rank(old) {
                Risk::High
            } else {
                Risk::Low
            }
        }
        ("group", _) if new == "true" => Risk::Medium,
        (_, "access_level") => {
            let (o, n) = (rank(old), rank(new));
            if n > o && n >= AccessLevel::Edit {
                Risk::High
            } else if n > o {
                Risk::Medium
            } else {
                Risk::Low
            }
        }
        _ if old.is_empty() && !new.is_empty() => Risk::Medium,
        _ => Risk::Low,
    }
}

/// The level a view's `effective_access` entry for every object of `object`'s
/// type gives (`app:*` for `app:<id>`).
fn baseline(view: &View, object: &str) -> AccessLevel {
    let ty = object.split(':').next().unwrap_or_default();
    view.get(&("effective_access", format!("{ty}:*"), "access_level"))
        .map_or(AccessLevel::None, |v| rank(&v.1))
}

/// The changes from `old` to `new`, in key order. An object's effective
/// entry that appears or vanishes only because the level on every object of
/// its type covers it on the other side (a promotion to admin, a demotion)
/// is not a change of its own: the `*` entry's change says it.
pub fn diff(old: &View, new: &View) -> Vec<TimelineChange> {
    let mut out = Vec::new();
    let keys: std::collections::BTreeSet<&ViewKey> = old.keys().chain(new.keys()).collect();
    for key in keys {
        let (o, n) = (old.get(key), new.get(key));
        if key.0 == "effective_access" && !key.1.ends_with(":*") {
            let covered = match (o, n) {
                (Some(o), None) => baseline(new, &key.1) >= rank(&o.1),
                (None, Some(n)) => baseline(old, &key.1) >= rank(&n.1),
                _ => false,
            };
            if covered {
                continue;
            }
        }
        let old_value = o.map(|v| v.1.clone()).unwrap_or_default();
        let new_value = n.map(|v| v.1.clone()).unwrap_or_default();
        if old_value == new_value {
            continue;
        }
        let entity = n.or(o).map(|v| v.0.clone()).unwrap_or_default();
        out.push(TimelineChange {
            kind: key.0,
            entity,
            field: key.2,
            risk: rate(key.0, key.2, &old_value, &new_value),
            old_value,
            new_value,
        });
    }
    out
}

fn put(
    view: &mut View,
    kind: &'static str,
    key: String,
    field: &'static str,
    label: String,
    value: String,
) {
    view.insert((kind, key, field), (label, value));
}

fn group_label(state: &OrgState, id: GroupId) -> String {
    state
        .group(id)
        .map_or_else(|| format!("group {id}"), |g| g.name.clone())
}

fn object_label(index: &AccessIndex<'_>, object: &ObjectRef) -> String {
    format!(
        "{} {}",
        object.object_type,
        index.object_name(object.object_type, &object.id)
    )
}

/// A level and the source that sets it: `own (group:Eng)`.
fn level_text(level: AccessLevel, source: &str) -> String {
    if source.is_empty() {
        level.as_str().to_string()
    } else {
        format!("{level} ({source})")
    }
}

/// An object's name by its type's spelling and id; the id when unknown.
fn named(state: &OrgState, object_type: &str, id: &str) -> String {
    let found = match ObjectType::parse(object_type) {
        Some(ObjectType::App) => state.apps.iter().find(|a| a.id.0 == id).map(|a| &a.name),
        Some(ObjectType::Resource) => state
            .resources
            .iter()
            .find(|r| r.id.0 == id)
            .map(|r| &r.name),
        Some(ObjectType::Workflow) => state
            .workflows
            .iter()
            .find(|w| w.id.0 == id)
            .map(|w| &w.name),
        Some(ObjectType::Folder) => state.folders.iter().find(|f| f.id.0 == id).map(|f| &f.name),
        _ => None,
    };
    found.cloned().unwrap_or_else(|| id.to_string())
}

/// The roles `holds` picks from the state's role grants, keyed by role and
/// object, valued by how they are held (`directly`, `via group X`).
fn roles_view(
    state: &OrgState,
    view: &mut View,
    holds: impl Fn(&crate::model::RoleGrant) -> Option<String>,
) {
    let mut held: BTreeMap<(String, String), (String, Vec<String>)> = BTreeMap::new();
    for rg in &state.role_grants {
        let Some(how) = holds(rg) else { continue };
        let role = state
            .roles
            .iter()
            .find(|r| r.id == rg.role_id)
            .map_or_else(|| rg.role_id.clone(), |r| r.name.clone());
        let on = if rg.object_type.is_empty() {
            String::new()
        } else {
            format!(
                " on {} {}",
                rg.object_type,
                named(state, &rg.object_type, &rg.object_id)
            )
        };
        let e = held
            .entry((
                rg.role_id.clone(),
                format!("{}:{}", rg.object_type, rg.object_id),
            ))
            .or_insert_with(|| (format!("{role}{on}"), Vec::new()));
        e.1.push(how);
    }
    for ((role, on), (label, mut how)) in held {
        how.sort();
        how.dedup();
        put(
            view,
            "role",
            format!("{role}|{on}"),
            "held",
            label,
            how.join("; "),
        );
    }
}

/// A user as `state` shows them: the account, memberships, direct grants,
/// roles, and the effective access at `edit` or `own`. Empty when the user
/// is not in the state.
pub fn user_view(state: &OrgState, user: &UserId) -> View {
    let mut view = View::new();
    let Some(u) = state.user(user) else {
        return view;
    };
    let account =
        |field, value: String| (("account", String::new(), field), (u.email.clone(), value));
    view.extend([
        account("email", u.email.clone()),
        account(
            "status",
            if u.active { "active" } else { "disabled" }.to_string(),
        ),
        account("is_admin", u.is_admin.to_string()),
        account("user_type", u.user_type.clone()),
        account(
            "two_factor_enabled",
            u.two_factor_enabled
                .map(|b| b.to_string())
                .unwrap_or_default(),
        ),
    ]);
    let mut groups = Vec::new();
    for m in state.memberships.iter().filter(|m| &m.user_id == user) {
        groups.push(m.group_id);
        let role = if m.is_group_admin {
            "group admin"
        } else {
            "member"
        };
        put(
            &mut view,
            "membership",
            m.group_id.to_string(),
            "role",
            group_label(state, m.group_id),
            role.into(),
        );
    }
    let index = AccessIndex::new(state);
    for g in &state.grants {
        if g.subject == Subject::User(user.clone()) {
            let key = format!("{}:{}", g.object.object_type, g.object.id);
            put(
                &mut view,
                "direct_grant",
                key,
                "access_level",
                object_label(&index, &g.object),
                g.level.as_str().into(),
            );
        }
    }
    roles_view(state, &mut view, |rg| {
        if rg.user().as_ref() == Some(user) {
            Some("directly".into())
        } else {
            rg.group()
                .filter(|g| groups.contains(g))
                .map(|g| format!("via group {}", group_label(state, g)))
        }
    });
    index.for_each_row(u, |row| {
        if row.level < AccessLevel::Edit {
            return;
        }
        let key = format!(
            "{}:{}",
            row.object_type,
            row.object_id.map_or("*", |id| id.0.as_str())
        );
        let mut source = String::new();
        row.write_determining_source(&mut source);
        let label = format!("{} {}", row.object_type, row.object_name);
        put(
            &mut view,
            "effective_access",
            key,
            "access_level",
            label,
            level_text(row.level, &source),
        );
    });
    view
}

/// A group as `state` shows it: its name, universal levels and flags,
/// members (group admins marked), grants and roles. Empty when the group is
/// not in the state.
pub fn group_view(state: &OrgState, group: GroupId) -> View {
    let mut view = View::new();
    let Some(g) = state.group(group) else {
        return view;
    };
    let f = &g.flags;
    let fields: [(&'static str, String); 11] = [
        ("name", g.name.clone()),
        (
            "universal_app_access",
            g.universal_app_access.as_str().into(),
        ),
        (
            "universal_resource_access",
            g.universal_resource_access.as_str().into(),
        ),
        (
            "universal_workflow_access",
            g.universal_workflow_access.as_str().into(),
        ),
        (
            "universal_query_library_access",
            g.universal_query_library_access.as_str().into(),
        ),
        ("user_list_access", f.user_list_access.to_string()),
        ("audit_log_access", f.audit_log_access.to_string()),
        (
            "unpublished_release_access",
            f.unpublished_release_access.to_string(),
        ),
        (
            "usage_analytics_access",
            f.usage_analytics_access.to_string(),
        ),
        ("theme_access", f.theme_access.to_string()),
        (
            "account_details_access",
            f.account_details_access.to_string(),
        ),
    ];
    for (field, value) in fields {
        put(
            &mut view,
            "group",
            String::new(),
            field,
            g.name.clone(),
            value,
        );
    }
    for m in state.memberships.iter().filter(|m| m.group_id == group) {
        let email = state
            .user(&m.user_id)
            .map_or_else(|| m.user_id.0.clone(), |u| u.email.clone());
        let role = if m.is_group_admin {
            "group admin"
        } else {
            "member"
        };
        put(
            &mut view,
            "member",
            m.user_id.0.clone(),
            "role",
            email,
            role.into(),
        );
    }
    let index = AccessIndex::new(state);
    for gr in state
        .grants
        .iter()
        .filter(|gr| gr.subject == Subject::Group(group))
    {
        let key = format!("{}:{}", gr.object.object_type, gr.object.id);
        put(
            &mut view,
            "grant",
            key,
            "access_level",
            object_label(&index, &gr.object),
            gr.level.as_str().into(),
        );
    }
    roles_view(state, &mut view, |rg| {
        (rg.group() == Some(group)).then(|| "held".to_string())
    });
    view
}

/// An object as `state` shows it: its name and folder, the grants on it and
/// on its folder, and every active user reaching it at `edit` or `own` with
/// the source that sets the level. Empty when the object is not in the state.
pub fn object_view(state: &OrgState, object: &ObjectRef) -> View {
    let mut view = View::new();
    let folder = match object.object_type {
        ObjectType::App => state
            .apps
            .iter()
            .find(|a| a.id == object.id)
            .map(|a| a.folder_id.clone()),
        ObjectType::Resource => state
            .resources
            .iter()
            .find(|r| r.id == object.id)
            .map(|r| r.folder_id.clone()),
        ObjectType::Workflow => state
            .workflows
            .iter()
            .find(|w| w.id == object.id)
            .map(|w| w.folder_id.clone()),
        _ => None,
    };
    let Some(folder) = folder else {
        return view;
    };
    let index = AccessIndex::new(state);
    let name = index
        .object_name(object.object_type, &object.id)
        .to_string();
    let folder_name = folder
        .as_ref()
        .map(|f| index.object_name(ObjectType::Folder, f).to_string());
    put(
        &mut view,
        "object",
        String::new(),
        "name",
        name.clone(),
        name.clone(),
    );
    put(
        &mut view,
        "object",
        String::new(),
        "folder",
        name,
        folder_name.unwrap_or_default(),
    );
    let subject_label = |s: &Subject| match s {
        Subject::Group(g) => format!("group {}", group_label(state, *g)),
        Subject::User(u) => format!(
            "user {}",
            state.user(u).map_or(u.0.as_str(), |u| u.email.as_str())
        ),
    };
    let subject_key = |s: &Subject| match s {
        Subject::Group(g) => format!("group:{g}"),
        Subject::User(u) => format!("user:{u}"),
    };
    for g in &state.grants {
        if &g.object == object {
            put(
                &mut view,
                "grant",
                subject_key(&g.subject),
                "access_level",
                subject_label(&g.subject),
                g.level.as_str().into(),
            );
        } else if g.object.object_type == ObjectType::Folder
            && Some(&g.object.id) == folder.as_ref()
        {
            let label = format!(
                "{} on folder {}",
                subject_label(&g.subject),
                index.object_name(ObjectType::Folder, &g.object.id)
            );
            put(
                &mut view,
                "folder_grant",
                subject_key(&g.subject),
                "access_level",
                label,
                g.level.as_str().into(),
            );
        }
    }
    for u in state.users.iter().filter(|u| u.active) {
        let (level, via) = index.level(&u.id, object);
        if level >= AccessLevel::Edit {
            let source = via
                .first()
                .map(|v| v.source.to_string())
                .unwrap_or_default();
            put(
                &mut view,
                "user_access",
                u.id.0.clone(),
                "access_level",
                u.email.clone(),
                level_text(level, &source),
            );
        }
    }
    view
}

/// The kinds of a group's or an object's view that are one entry per user,
/// keyed by the user's id, and depend only on that user's records (and on
/// the group's or object's, which a change touching only users leaves alone).
const PER_USER: [&str; 2] = ["member", "user_access"];

/// Brings a group's or an object's `view` up to date after a change that
/// touched only `users`, given `partial`, the view of a state holding only
/// them (everything else in the view depends on records that did not
/// change), and returns the changes: those users' entries, old against new.
pub fn replace_users(
    view: &mut View,
    partial: &View,
    users: &HashSet<UserId>,
) -> Vec<TimelineChange> {
    let mut old = View::new();
    for kind in PER_USER {
        for u in users {
            let from: ViewKey = (kind, u.0.clone(), "");
            let keys: Vec<ViewKey> = view
                .range(from..)
                .take_while(|(k, _)| k.0 == kind && k.1 == u.0)
                .map(|(k, _)| k.clone())
                .collect();
            for k in keys {
                if let Some(v) = view.remove(&k) {
                    old.insert(k, v);
                }
            }
        }
    }
    let new: View = partial
        .iter()
        .filter(|(k, _)| PER_USER.contains(&k.0))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let changes = diff(&old, &new);
    view.extend(new);
    changes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::fixtures::*;

    #[test]
    fn a_promotion_and_a_new_membership_are_rated_and_labelled() {
        let before = org();
        let mut after = before.clone();
        let bob = after.users.iter_mut().find(|u| u.id.0 == "u-bob").unwrap();
        bob.is_admin = true;
        after.memberships.push(member(3, "u-bob"));
        after.normalize();
        let id = UserId("u-bob".into());
        let changes = diff(&user_view(&before, &id), &user_view(&after, &id));
        let find = |kind: &str, field: &str| {
            changes
                .iter()
                .filter(|c| c.kind == kind && c.field == field)
                .collect::<Vec<_>>()
        };
        let admin = find("account", "is_admin");
        assert_eq!(
            (
                admin[0].old_value.as_str(),
                admin[0].new_value.as_str(),
                admin[0].risk
            ),
            ("false", "true", Risk::High)
        );
        let joined = find("membership", "role");
        assert_eq!(
            (
                joined[0].entity.as_str(),
                joined[0].new_value.as_str(),
                joined[0].risk
            ),
            ("DBA", "member", Risk::Medium)
        );
        // Admin: own on every app, resource and workflow.
        let gained = find("effective_access", "access_level");
        assert!(
            gained
                .iter()
                .any(|c| c.entity == "app (all apps)" && c.new_value == "own (admin)"),
            "{gained:?}"
        );
        assert!(diff(&user_view(&after, &id), &user_view(&after, &id)).is_empty());
        assert!(user_view(&after, &UserId("nobody".into())).is_empty());
    }

    #[test]
    fn an_object_view_names_who_reaches_it_at_edit_or_own() {
        let s = org();
        let db = obj(ObjectType::Resource, "r-db");
        let view = object_view(&s, &db);
        let users: Vec<(&str, &str)> = view
            .iter()
            .filter(|(k, _)| k.0 == "user_access")
            .map(|(_, (label, value))| (label.as_str(), value.as_str()))
            .collect();
        // Carol through DBA, Dave as admin; Erin is disabled.
        assert_eq!(
            users,
            vec![
                ("carol@example.com", "own (group:DBA)"),
                ("dave@example.com", "own (admin)")
            ]
        );
        let g = group_view(&s, GroupId(3));
        assert_eq!(
            g.get(&("grant", "resource:r-db".into(), "access_level"))
                .map(|v| v.1.as_str()),
            Some("own")
        );
    }
}
