//! Changes between two states of one organization: users, groups, memberships,
//! permission grants, apps, folders, resources and workflows added, removed or
//! modified (one row per changed field), each rated `high`/`medium`/`low` risk.
//!
//! `last_active` is never compared: it changes every night for every active
//! user and would drown the report. `raw`, `created_at` and `updated_at` are not
//! compared either (bookkeeping, not access). A kind that is not collected in
//! either state is not compared (everything would look removed or added).

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use crate::model::{
    AccessLevel, EntityKind, GroupId, ObjectId, ObjectType, OrgState, Subject, UserId,
};

/// What kind of record changed. Declaration order is the sort order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ChangeEntity {
    User,
    Group,
    Membership,
    Permission,
    App,
    Folder,
    Resource,
    Workflow,
}

impl ChangeEntity {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeEntity::User => "user",
            ChangeEntity::Group => "group",
            ChangeEntity::Membership => "membership",
            ChangeEntity::Permission => "permission",
            ChangeEntity::App => "app",
            ChangeEntity::Folder => "folder",
            ChangeEntity::Resource => "resource",
            ChangeEntity::Workflow => "workflow",
        }
    }

    fn kind(self) -> EntityKind {
        match self {
            ChangeEntity::User => EntityKind::Users,
            ChangeEntity::Group => EntityKind::Groups,
            ChangeEntity::Membership => EntityKind::Memberships,
            ChangeEntity::Permission => EntityKind::Grants,
            ChangeEntity::App => EntityKind::Apps,
            ChangeEntity::Folder => EntityKind::Folders,
            ChangeEntity::Resource => EntityKind::Resources,
            ChangeEntity::Workflow => EntityKind::Workflows,
        }
    }
}

impl fmt::Display for ChangeEntity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ChangeKind {
    Added,
    Removed,
    Modified,
}

impl ChangeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Added => "added",
            ChangeKind::Removed => "removed",
            ChangeKind::Modified => "modified",
        }
    }
}

impl fmt::Display for ChangeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How much a change matters to an access review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Risk {
    /// Removals, renames, disables, moves: access shrinks or stays.
    Low,
    /// Other access gains: a membership, a `use` grant, a new user, a flag.
    Medium,
    /// Admin granted, new `edit`/`own` access, a user re-enabled, universal
    /// access raised.
    High,
}

impl Risk {
    pub fn as_str(self) -> &'static str {
        match self {
            Risk::Low => "low",
            Risk::Medium => "medium",
            Risk::High => "high",
        }
    }
}

impl fmt::Display for Risk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One change. `field` is empty for `added`/`removed` rows; those carry the
/// record's main value (membership `member`/`group admin`, permission level,
/// user status) in `new_value`/`old_value`.
///
/// `entity_id`: user, app, folder, resource, workflow: the id; group: the group
/// id; membership `<group_id>:<user_id>`; permission
/// `<group_id>:<object_type>:<object_id>` for a group grant and
/// `user:<user_id>:<object_type>:<object_id>` for a direct user grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub entity_type: ChangeEntity,
    pub change: ChangeKind,
    pub entity_id: String,
    /// Human-readable: the email, name, `email in group`, `group → object`.
    pub entity_name: String,
    pub field: String,
    pub old_value: String,
    pub new_value: String,
    pub risk: Risk,
}

type Fields = Vec<(&'static str, String)>;

fn b(v: bool) -> String {
    v.to_string()
}

fn opt(v: &Option<impl ToString>) -> String {
    v.as_ref().map(ToString::to_string).unwrap_or_default()
}

fn status(active: bool) -> String {
    if active { "active" } else { "disabled" }.to_string()
}

/// Collects rows for one entity type.
struct Diff {
    entity_type: ChangeEntity,
    out: Vec<Change>,
}

impl Diff {
    fn push(
        &mut self,
        change: ChangeKind,
        id: &str,
        name: &str,
        field: &str,
        old: String,
        new: String,
        risk: Risk,
    ) {
        self.out.push(Change {
            entity_type: self.entity_type,
            change,
            entity_id: id.to_string(),
            entity_name: name.to_string(),
            field: field.to_string(),
            old_value: old,
            new_value: new,
            risk,
        });
    }

    /// One row per field whose value differs; `risk` rates each field change.
    fn fields(
        &mut self,
        id: &str,
        name: &str,
        old: Fields,
        new: Fields,
        risk: impl Fn(&str, &str, &str) -> Risk,
    ) {
        for ((field, ov), (_, nv)) in old.into_iter().zip(new) {
            if ov != nv {
                let r = risk(field, &ov, &nv);
                self.push(ChangeKind::Modified, id, name, field, ov, nv, r);
            }
        }
    }
}

/// Walks two keyed maps and calls `on(old, new)` for every key in either.
fn walk<K: Ord, V>(
    old: &BTreeMap<K, V>,
    new: &BTreeMap<K, V>,
    mut on: impl FnMut(&K, Option<&V>, Option<&V>),
) {
    for (k, nv) in new {
        on(k, old.get(k), Some(nv));
    }
    for (k, ov) in old {
        if !new.contains_key(k) {
            on(k, Some(ov), None);
        }
    }
}

fn raised(old: &str, new: &str) -> bool {
    match (AccessLevel::parse(old), AccessLevel::parse(new)) {
        (Some(o), Some(n)) => n > o,
        _ => false,
    }
}

fn group_name(new: &OrgState, old: &OrgState, id: GroupId) -> String {
    new.group(id)
        .or_else(|| old.group(id))
        .map(|g| g.name.clone())
        .unwrap_or_else(|| format!("group {id}"))
}

fn user_email(new: &OrgState, old: &OrgState, id: &UserId) -> String {
    new.user(id)
        .or_else(|| old.user(id))
        .map(|u| u.email.clone())
        .unwrap_or_else(|| format!("user {id}"))
}

fn object_names(s: &OrgState) -> HashMap<(ObjectType, &ObjectId), &str> {
    s.folders
        .iter()
        .map(|f| ((ObjectType::Folder, &f.id), f.name.as_str()))
        .chain(
            s.apps
                .iter()
                .map(|a| ((ObjectType::App, &a.id), a.name.as_str())),
        )
        .chain(
            s.resources
                .iter()
                .map(|r| ((ObjectType::Resource, &r.id), r.name.as_str())),
        )
        .chain(
            s.workflows
                .iter()
                .map(|w| ((ObjectType::Workflow, &w.id), w.name.as_str())),
        )
        .collect()
}

/// Whether a group in `state` gives `edit` or `own` anywhere: a universal level
/// or any grant at `edit`/`own`.
fn group_is_powerful(state: &OrgState, id: GroupId) -> bool {
    let universal = state.group(id).is_some_and(|g| {
        [
            g.universal_app_access,
            g.universal_resource_access,
            g.universal_workflow_access,
            g.universal_query_library_access,
        ]
        .into_iter()
        .any(|l| l >= AccessLevel::Edit)
    });
    universal
        || state
            .grants
            .iter()
            .any(|g| g.subject == Subject::Group(id) && g.level >= AccessLevel::Edit)
}

/// Every change from `old` to `new`, sorted by entity type (in
/// [`ChangeEntity`] order), entity id, field, change.
pub fn changes(old: &OrgState, new: &OrgState) -> Vec<Change> {
    let compared = |e: ChangeEntity| {
        !old.not_collected.contains_key(&e.kind()) && !new.not_collected.contains_key(&e.kind())
    };
    let mut out = Vec::new();
    let mut diff = |entity_type: ChangeEntity, f: &mut dyn FnMut(&mut Diff)| {
        if compared(entity_type) {
            let mut d = Diff {
                entity_type,
                out: Vec::new(),
            };
            f(&mut d);
            out.append(&mut d.out);
        }
    };

    diff(ChangeEntity::User, &mut |d| {
        fn map(s: &OrgState) -> BTreeMap<UserId, &crate::model::User> {
            s.users.iter().map(|u| (u.id.clone(), u)).collect()
        }
        let fields = |u: &crate::model::User| -> Fields {
            vec![
                ("email", u.email.clone()),
                ("first_name", opt(&u.first_name)),
                ("last_name", opt(&u.last_name)),
                ("user_type", u.user_type.clone()),
                ("is_admin", b(u.is_admin)),
                ("status", status(u.active)),
                ("two_factor_enabled", opt(&u.two_factor_enabled)),
            ]
        };
        walk(&map(old), &map(new), |id, ov, nv| match (ov, nv) {
            (None, Some(n)) => {
                let risk = if n.is_admin { Risk::High } else { Risk::Medium };
                let value = if n.is_admin {
                    format!("{} admin", status(n.active))
                } else {
                    status(n.active)
                };
                d.push(
                    ChangeKind::Added,
                    &id.0,
                    &n.email,
                    "",
                    String::new(),
                    value,
                    risk,
                );
            }
            (Some(o), None) => {
                d.push(
                    ChangeKind::Removed,
                    &id.0,
                    &o.email,
                    "",
                    status(o.active),
                    String::new(),
                    Risk::Low,
                );
            }
            (Some(o), Some(n)) => {
                d.fields(&id.0, &n.email, fields(o), fields(n), |f, ov, nv| {
                    match (f, ov, nv) {
                        ("is_admin", "false", "true") => Risk::High,
                        ("status", "disabled", "active") => Risk::High,
                        _ => Risk::Low,
                    }
                })
            }
            (None, None) => {}
        });
    });

    diff(ChangeEntity::Group, &mut |d| {
        fn map(s: &OrgState) -> BTreeMap<GroupId, &crate::model::Group> {
            s.groups.iter().map(|g| (g.id, g)).collect()
        }
        let fields = |g: &crate::model::Group| -> Fields {
            vec![
                ("name", g.name.clone()),
                ("universal_app_access", g.universal_app_access.to_string()),
                (
                    "universal_resource_access",
                    g.universal_resource_access.to_string(),
                ),
                (
                    "universal_workflow_access",
                    g.universal_workflow_access.to_string(),
                ),
                (
                    "universal_query_library_access",
                    g.universal_query_library_access.to_string(),
                ),
                ("user_list_access", b(g.flags.user_list_access)),
                ("audit_log_access", b(g.flags.audit_log_access)),
                (
                    "unpublished_release_access",
                    b(g.flags.unpublished_release_access),
                ),
                ("usage_analytics_access", b(g.flags.usage_analytics_access)),
                ("theme_access", b(g.flags.theme_access)),
                ("account_details_access", b(g.flags.account_details_access)),
                ("landing_page_app_id", opt(&g.landing_page_app_id)),
            ]
        };
        let field_risk = |f: &str, ov: &str, nv: &str| {
            if f.starts_with("universal_") && raised(ov, nv) {
                Risk::High
            } else if f.ends_with("_access") && ov == "false" && nv == "true" {
                Risk::Medium
            } else {
                Risk::Low
            }
        };
        walk(&map(old), &map(new), |id, ov, nv| {
            let key = id.to_string();
            match (ov, nv) {
                (None, Some(n)) => {
                    // A new group is rated like its levels and flags raised from nothing.
                    let universal = [
                        n.universal_app_access,
                        n.universal_resource_access,
                        n.universal_workflow_access,
                        n.universal_query_library_access,
                    ];
                    let f = &n.flags;
                    let flags = [
                        f.user_list_access,
                        f.audit_log_access,
                        f.unpublished_release_access,
                        f.usage_analytics_access,
                        f.theme_access,
                        f.account_details_access,
                    ];
                    let risk = if universal.iter().any(|l| *l > AccessLevel::None) {
                        Risk::High
                    } else if flags.iter().any(|f| *f) {
                        Risk::Medium
                    } else {
                        Risk::Low
                    };
                    d.push(
                        ChangeKind::Added,
                        &key,
                        &n.name,
                        "",
                        String::new(),
                        String::new(),
                        risk,
                    );
                }
                (Some(o), None) => d.push(
                    ChangeKind::Removed,
                    &key,
                    &o.name,
                    "",
                    String::new(),
                    String::new(),
                    Risk::Low,
                ),
                (Some(o), Some(n)) => d.fields(&key, &n.name, fields(o), fields(n), field_risk),
                (None, None) => {}
            }
        });
    });

    diff(ChangeEntity::Membership, &mut |d| {
        let map = |s: &OrgState| {
            s.memberships
                .iter()
                .map(|m| ((m.group_id, m.user_id.clone()), m.is_group_admin))
                .collect::<BTreeMap<_, _>>()
        };
        let role = |admin: bool| if admin { "group admin" } else { "member" }.to_string();
        walk(&map(old), &map(new), |(gid, uid), ov, nv| {
            let key = format!("{gid}:{uid}");
            let name = format!(
                "{} in {}",
                user_email(new, old, uid),
                group_name(new, old, *gid)
            );
            match (ov, nv) {
                (None, Some(n)) => {
                    let risk = if *n || group_is_powerful(new, *gid) {
                        Risk::High
                    } else {
                        Risk::Medium
                    };
                    d.push(
                        ChangeKind::Added,
                        &key,
                        &name,
                        "",
                        String::new(),
                        role(*n),
                        risk,
                    );
                }
                (Some(o), None) => d.push(
                    ChangeKind::Removed,
                    &key,
                    &name,
                    "",
                    role(*o),
                    String::new(),
                    Risk::Low,
                ),
                (Some(o), Some(n)) if o != n => {
                    let risk = if *n { Risk::High } else { Risk::Low };
                    d.push(
                        ChangeKind::Modified,
                        &key,
                        &name,
                        "is_group_admin",
                        b(*o),
                        b(*n),
                        risk,
                    );
                }
                _ => {}
            }
        });
    });

    diff(ChangeEntity::Permission, &mut |d| {
        let map = |s: &OrgState| {
            let mut m: BTreeMap<(Subject, ObjectType, ObjectId), AccessLevel> = BTreeMap::new();
            for g in &s.grants {
                let e = m
                    .entry((g.subject.clone(), g.object.object_type, g.object.id.clone()))
                    .or_default();
                *e = (*e).max(g.level);
            }
            m
        };
        let (old_names, new_names) = (object_names(old), object_names(new));
        let gain = |level: AccessLevel| match level {
            AccessLevel::Edit | AccessLevel::Own => Risk::High,
            AccessLevel::Use => Risk::Medium,
            AccessLevel::None => Risk::Low,
        };
        walk(&map(old), &map(new), |(subject, t, id), ov, nv| {
            let (key, holder) = match subject {
                Subject::Group(g) => (format!("{g}:{t}:{id}"), group_name(new, old, *g)),
                Subject::User(u) => (format!("user:{u}:{t}:{id}"), user_email(new, old, u)),
            };
            let object = new_names
                .get(&(*t, id))
                .or_else(|| old_names.get(&(*t, id)))
                .map(|n| (*n).to_string())
                .unwrap_or_else(|| format!("{t} {id}"));
            let name = format!("{holder} → {t} {object}");
            match (ov, nv) {
                (None, Some(n)) => d.push(
                    ChangeKind::Added,
                    &key,
                    &name,
                    "",
                    String::new(),
                    n.to_string(),
                    gain(*n),
                ),
                (Some(o), None) => d.push(
                    ChangeKind::Removed,
                    &key,
                    &name,
                    "",
                    o.to_string(),
                    String::new(),
                    Risk::Low,
                ),
                (Some(o), Some(n)) if o != n => {
                    let risk = if n > o { gain(*n) } else { Risk::Low };
                    d.push(
                        ChangeKind::Modified,
                        &key,
                        &name,
                        "access_level",
                        o.to_string(),
                        n.to_string(),
                        risk,
                    );
                }
                _ => {}
            }
        });
    });

    // Apps, folders, resources, workflows: every change is low risk (access to
    // them is rated through memberships and permissions).
    fn objects<V>(
        d: &mut Diff,
        old: BTreeMap<ObjectId, V>,
        new: BTreeMap<ObjectId, V>,
        name: impl Fn(&V) -> String,
        fields: impl Fn(&V) -> Fields,
    ) {
        walk(&old, &new, |id, ov, nv| match (ov, nv) {
            (None, Some(n)) => d.push(
                ChangeKind::Added,
                &id.0,
                &name(n),
                "",
                String::new(),
                String::new(),
                Risk::Low,
            ),
            (Some(o), None) => d.push(
                ChangeKind::Removed,
                &id.0,
                &name(o),
                "",
                String::new(),
                String::new(),
                Risk::Low,
            ),
            (Some(o), Some(n)) => {
                d.fields(&id.0, &name(n), fields(o), fields(n), |_, _, _| Risk::Low)
            }
            (None, None) => {}
        });
    }
    diff(ChangeEntity::App, &mut |d| {
        fn map(s: &OrgState) -> BTreeMap<ObjectId, &crate::model::App> {
            s.apps.iter().map(|a| (a.id.clone(), a)).collect()
        }
        objects(
            d,
            map(old),
            map(new),
            |a| a.name.clone(),
            |a| {
                vec![
                    ("name", a.name.clone()),
                    ("description", opt(&a.description)),
                    ("folder_id", opt(&a.folder_id)),
                    ("protected", b(a.protected)),
                    ("is_module", b(a.is_module)),
                    ("is_mobile_app", b(a.is_mobile_app)),
                ]
            },
        );
    });
    diff(ChangeEntity::Folder, &mut |d| {
        fn map(s: &OrgState) -> BTreeMap<ObjectId, &crate::model::Folder> {
            s.folders.iter().map(|f| (f.id.clone(), f)).collect()
        }
        objects(
            d,
            map(old),
            map(new),
            |f| f.name.clone(),
            |f| {
                vec![
                    ("name", f.name.clone()),
                    ("parent_id", opt(&f.parent_id)),
                    ("is_system_folder", b(f.is_system_folder)),
                    ("folder_type", f.folder_type.clone()),
                ]
            },
        );
    });
    diff(ChangeEntity::Resource, &mut |d| {
        fn map(s: &OrgState) -> BTreeMap<ObjectId, &crate::model::Resource> {
            s.resources.iter().map(|r| (r.id.clone(), r)).collect()
        }
        objects(
            d,
            map(old),
            map(new),
            |r| r.name.clone(),
            |r| {
                vec![
                    ("name", r.name.clone()),
                    ("resource_type", r.resource_type.clone()),
                    ("folder_id", opt(&r.folder_id)),
                    ("protected", b(r.protected)),
                ]
            },
        );
    });
    diff(ChangeEntity::Workflow, &mut |d| {
        fn map(s: &OrgState) -> BTreeMap<ObjectId, &crate::model::Workflow> {
            s.workflows.iter().map(|w| (w.id.clone(), w)).collect()
        }
        objects(
            d,
            map(old),
            map(new),
            |w| w.name.clone(),
            |w| {
                vec![
                    ("name", w.name.clone()),
                    ("description", opt(&w.description)),
                    ("folder_id", opt(&w.folder_id)),
                    ("is_enabled", b(w.is_enabled)),
                    ("protected", b(w.protected)),
                ]
            },
        );
    });

    out.sort_by(|a, b| {
        (a.entity_type, &a.entity_id, &a.field, a.change).cmp(&(
            b.entity_type,
            &b.entity_id,
            &b.field,
            b.change,
        ))
    });
    out
}
