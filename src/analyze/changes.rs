//! Changes between two states of one organization: users, groups, memberships,
//! permission grants, apps, folders, resources and workflows, roles, role
//! grants, security settings and access requests (risk rules in `docs/reports.md`) added,
//! removed or modified (one row per changed field), each rated
//! `high`/`medium`/`low` risk.
//!
//! `last_active` is never compared: it changes every night for every active
//! user and would drown the report. `raw`, `created_at` and `updated_at` are not
//! compared either (bookkeeping, not access). A kind that is not collected in
//! either state is not compared (everything would look removed or added).

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};
use std::fmt;

mod access_model;

pub(crate) use access_model::grant_id as role_grant_id;

use crate::model::fields::Fields as RecordFields;
use chrono::{DateTime, Utc};

use crate::model::{
    AccessLevel, EntityKind, GroupId, ObjectId, ObjectType, OrgState, SnapshotMeta, Subject, UserId,
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
    Role,
    RoleGrant,
    Setting,
    AccessRequest,
    EnvironmentAccess,
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
            ChangeEntity::Role => "role",
            ChangeEntity::RoleGrant => "role_grant",
            ChangeEntity::Setting => "setting",
            ChangeEntity::AccessRequest => "access_request",
            ChangeEntity::EnvironmentAccess => "environment_access",
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
            ChangeEntity::Role => EntityKind::Roles,
            ChangeEntity::RoleGrant => EntityKind::RoleGrants,
            ChangeEntity::Setting => EntityKind::Settings,
            ChangeEntity::AccessRequest => EntityKind::AccessRequests,
            ChangeEntity::EnvironmentAccess => EntityKind::ConfigurationGrants,
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

/// A change with the snapshot that first showed it: it happened after
/// `previous` was taken and by `seen_in`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenChange {
    pub previous: i64,
    pub seen_in: i64,
    pub seen_at: DateTime<Utc>,
    pub change: Change,
}

impl SeenChange {
    /// Every change of `list`, seen between `previous` and `current`.
    pub fn all(previous: i64, current: &SnapshotMeta, list: Vec<Change>) -> Vec<SeenChange> {
        list.into_iter()
            .map(|change| SeenChange {
                previous,
                seen_in: current.id,
                seen_at: current.taken_at(),
                change,
            })
            .collect()
    }
}

type Fields = Vec<(&'static str, String)>;

/// `(field, text)` of every field of `record` the change report compares, in
/// declaration order: derived from [`crate::model::fields`], never listed here.
fn compared_fields<T: RecordFields>(record: &T) -> Fields {
    T::FIELDS
        .iter()
        .filter_map(|f| f.compared(record))
        .collect()
}

fn b(v: bool) -> String {
    v.to_string()
}

fn status(active: bool) -> String {
    crate::model::account_status(active).to_string()
}

/// Collects rows for one entity type.
struct Diff {
    entity_type: ChangeEntity,
    out: Vec<Change>,
}

impl Diff {
    // One argument per output column: a struct literal at every call would be noisier.
    #[allow(clippy::too_many_arguments)]
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

/// Walks two keyed maps in key order (one merge pass) and calls
/// `on(key, old, new)` for every key in either.
fn walk<K: Ord, V>(
    old: &BTreeMap<K, V>,
    new: &BTreeMap<K, V>,
    mut on: impl FnMut(&K, Option<&V>, Option<&V>),
) {
    let (mut o, mut n) = (old.iter().peekable(), new.iter().peekable());
    loop {
        let order = match (o.peek(), n.peek()) {
            (Some((ok, _)), Some((nk, _))) => ok.cmp(nk),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => break,
        };
        match order {
            Ordering::Less => o
                .next()
                .into_iter()
                .for_each(|(k, ov)| on(k, Some(ov), None)),
            Ordering::Greater => n
                .next()
                .into_iter()
                .for_each(|(k, nv)| on(k, None, Some(nv))),
            Ordering::Equal => {
                if let (Some((k, ov)), Some((_, nv))) = (o.next(), n.next()) {
                    on(k, Some(ov), Some(nv));
                }
            }
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

/// Whether a group gives `edit` or `own` on every object of some type (a group
/// is powerful when this holds or any of its grants is at `edit`/`own`).
fn group_is_universally_powerful(g: &crate::model::Group) -> bool {
    [
        g.universal_app_access,
        g.universal_resource_access,
        g.universal_workflow_access,
        g.universal_query_library_access,
    ]
    .into_iter()
    .any(|l| l >= AccessLevel::Edit)
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
        fn map(s: &OrgState) -> BTreeMap<&UserId, &crate::model::User> {
            s.users.iter().map(|u| (&u.id, u)).collect()
        }
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
            // Equal records have equal fields: skip spelling them out.
            (Some(o), Some(n)) if o == n => {}
            (Some(o), Some(n)) => d.fields(
                &id.0,
                &n.email,
                compared_fields::<crate::model::User>(o),
                compared_fields::<crate::model::User>(n),
                |f, ov, nv| match (f, ov, nv) {
                    ("is_admin", "false", "true") => Risk::High,
                    ("status", "disabled", "active") => Risk::High,
                    _ => Risk::Low,
                },
            ),
            (None, None) => {}
        });
    });

    diff(ChangeEntity::Group, &mut |d| {
        fn map(s: &OrgState) -> BTreeMap<GroupId, &crate::model::Group> {
            s.groups.iter().map(|g| (g.id, g)).collect()
        }
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
                (Some(o), Some(n)) if o == n => {}
                (Some(o), Some(n)) => d.fields(
                    &key,
                    &n.name,
                    compared_fields::<crate::model::Group>(o),
                    compared_fields::<crate::model::Group>(n),
                    field_risk,
                ),
                (None, None) => {}
            }
        });
    });

    diff(ChangeEntity::Membership, &mut |d| {
        fn map(s: &OrgState) -> BTreeMap<(GroupId, &UserId), bool> {
            s.memberships
                .iter()
                .map(|m| ((m.group_id, &m.user_id), m.is_group_admin))
                .collect()
        }
        let role = |admin: bool| if admin { "group admin" } else { "member" }.to_string();
        // Whether each group of `new` gives edit or own anywhere, computed once.
        let mut powerful: HashMap<GroupId, bool> = new
            .groups
            .iter()
            .map(|g| (g.id, group_is_universally_powerful(g)))
            .collect();
        for g in &new.grants {
            if let Subject::Group(id) = g.subject
                && g.level >= AccessLevel::Edit
            {
                powerful.insert(id, true);
            }
        }
        walk(&map(old), &map(new), |(gid, uid), ov, nv| {
            if ov == nv {
                return; // most memberships: skip naming them
            }
            let key = format!("{gid}:{uid}");
            let name = format!(
                "{} in {}",
                user_email(new, old, uid),
                group_name(new, old, *gid)
            );
            match (ov, nv) {
                (None, Some(n)) => {
                    let risk = if *n || powerful.get(gid).copied().unwrap_or(false) {
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
        type Key<'s> = (&'s Subject, ObjectType, &'s ObjectId);
        fn map(s: &OrgState) -> BTreeMap<Key<'_>, AccessLevel> {
            let mut m: BTreeMap<Key<'_>, AccessLevel> = BTreeMap::new();
            for g in &s.grants {
                let e = m
                    .entry((&g.subject, g.object.object_type, &g.object.id))
                    .or_default();
                *e = (*e).max(g.level);
            }
            m
        }
        let (old_names, new_names) = (object_names(old), object_names(new));
        let gain = |level: AccessLevel| match level {
            AccessLevel::Edit | AccessLevel::Own => Risk::High,
            AccessLevel::Use => Risk::Medium,
            AccessLevel::None => Risk::Low,
        };
        walk(&map(old), &map(new), |(subject, t, id), ov, nv| {
            if ov == nv {
                return;
            }
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
    fn objects<V: PartialEq>(
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
            (Some(o), Some(n)) if o == n => {}
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
            |a| compared_fields(*a),
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
            |f| compared_fields(*f),
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
            |r| compared_fields(*r),
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
            |w| compared_fields(*w),
        );
    });
    diff(ChangeEntity::Role, &mut |d| {
        access_model::roles(d, old, new)
    });
    diff(ChangeEntity::RoleGrant, &mut |d| {
        access_model::role_grants(d, old, new)
    });
    diff(ChangeEntity::Setting, &mut |d| {
        access_model::settings(d, old, new)
    });
    diff(ChangeEntity::AccessRequest, &mut |d| {
        access_model::access_requests(d, old, new)
    });
    diff(ChangeEntity::EnvironmentAccess, &mut |d| {
        access_model::environment_access(d, old, new)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::fixtures::*;

    type Row = (String, String, String, String, String, String, String);

    fn rows(old: &OrgState, new: &OrgState) -> Vec<Row> {
        changes(old, new)
            .into_iter()
            .map(|c| {
                (
                    c.entity_type.to_string(),
                    c.change.to_string(),
                    c.entity_id,
                    c.field,
                    c.old_value,
                    c.new_value,
                    c.risk.to_string(),
                )
            })
            .collect()
    }

    fn row(e: &str, c: &str, id: &str, f: &str, o: &str, n: &str, r: &str) -> Row {
        (
            e.into(),
            c.into(),
            id.into(),
            f.into(),
            o.into(),
            n.into(),
            r.into(),
        )
    }

    #[test]
    fn identical_states_and_last_active_give_no_changes() {
        let old = org();
        let mut new = org();
        new.users[0].last_active = Some(t(2026, 11, 23));
        new.users[0].raw = "{\"x\":1}".into();
        assert_eq!(rows(&old, &new), Vec::<Row>::new());
    }

    #[test]
    fn user_changes_and_their_risk() {
        let old = org();
        let mut new = org();
        new.users[0].is_admin = true; // alice becomes admin
        new.users[1].email = "robert@example.com".into(); // bob renamed
        new.users[4].active = true; // erin re-enabled
        new.users[2].active = false; // carol disabled
        new.users.retain(|u| u.id.0 != "u-dave");
        let mut frank = user("u-frank", "frank@example.com");
        new.users.push(frank.clone());
        frank.id = UserId("u-gina".into());
        frank.is_admin = true;
        new.users.push(frank);
        new.normalize();
        assert_eq!(
            rows(&old, &new),
            vec![
                row(
                    "user", "modified", "u-alice", "is_admin", "false", "true", "high"
                ),
                row(
                    "user",
                    "modified",
                    "u-bob",
                    "email",
                    "bob@example.com",
                    "robert@example.com",
                    "low"
                ),
                row(
                    "user", "modified", "u-carol", "status", "active", "disabled", "low"
                ),
                row("user", "removed", "u-dave", "", "active", "", "low"),
                row(
                    "user", "modified", "u-erin", "status", "disabled", "active", "high"
                ),
                row("user", "added", "u-frank", "", "", "active", "medium"),
                row("user", "added", "u-gina", "", "", "active admin", "high"),
            ]
        );
    }

    #[test]
    fn membership_risk_follows_the_group_power_and_admin_flag() {
        let old = org();
        let mut new = org();
        new.memberships.push(member(3, "u-alice")); // DBA holds own: high
        let mut g = member(2, "u-carol"); // Eng holds edit on a folder: high
        g.is_group_admin = false;
        new.memberships.push(g);
        new.groups.push(group(4, "Readers"));
        new.memberships.push(member(4, "u-bob")); // no power: medium
        new.memberships
            .retain(|m| !(m.group_id.0 == 2 && m.user_id.0 == "u-erin"));
        for m in new.memberships.iter_mut() {
            if m.group_id.0 == 2 && m.user_id.0 == "u-bob" {
                m.is_group_admin = true; // group admin granted: high
            }
        }
        new.normalize();
        let got: Vec<Row> = rows(&old, &new)
            .into_iter()
            .filter(|r| r.0 == "membership")
            .collect();
        assert_eq!(
            got,
            vec![
                row(
                    "membership",
                    "modified",
                    "2:u-bob",
                    "is_group_admin",
                    "false",
                    "true",
                    "high"
                ),
                row("membership", "added", "2:u-carol", "", "", "member", "high"),
                row("membership", "removed", "2:u-erin", "", "member", "", "low"),
                row("membership", "added", "3:u-alice", "", "", "member", "high"),
                row("membership", "added", "4:u-bob", "", "", "member", "medium"),
            ]
        );
        let names: Vec<String> = changes(&old, &new)
            .into_iter()
            .filter(|c| c.entity_id == "3:u-alice")
            .map(|c| c.entity_name)
            .collect();
        assert_eq!(names, vec!["alice@example.com in DBA"]);
    }

    #[test]
    fn permission_and_group_risk() {
        let old = org();
        let mut new = org();
        new.grants = vec![
            group_grant(2, ObjectType::Folder, "f-ops", AccessLevel::Use), // lowered: low
            group_grant(3, ObjectType::Resource, "r-db", AccessLevel::Own), // same
            group_grant(1, ObjectType::App, "a-top", AccessLevel::Use),    // added use: medium
            group_grant(3, ObjectType::App, "a-top", AccessLevel::Edit),   // added edit: high
            user_grant("u-bob", ObjectType::Workflow, "w-1", AccessLevel::Own), // direct own: high
        ];
        new.groups[0].universal_resource_access = AccessLevel::Use; // raised: high
        new.groups[1].name = "Engineering".into(); // rename: low
        new.groups[2].flags.audit_log_access = true; // flag on: medium
        new.normalize();
        assert_eq!(
            rows(&old, &new),
            vec![
                row(
                    "group",
                    "modified",
                    "1",
                    "universal_resource_access",
                    "none",
                    "use",
                    "high"
                ),
                row(
                    "group",
                    "modified",
                    "2",
                    "name",
                    "Eng",
                    "Engineering",
                    "low"
                ),
                row(
                    "group",
                    "modified",
                    "3",
                    "audit_log_access",
                    "false",
                    "true",
                    "medium"
                ),
                row(
                    "permission",
                    "added",
                    "1:app:a-top",
                    "",
                    "",
                    "use",
                    "medium"
                ),
                row(
                    "permission",
                    "modified",
                    "2:folder:f-ops",
                    "access_level",
                    "edit",
                    "use",
                    "low"
                ),
                row("permission", "added", "3:app:a-top", "", "", "edit", "high"),
                row(
                    "permission",
                    "added",
                    "user:u-bob:workflow:w-1",
                    "",
                    "",
                    "own",
                    "high"
                ),
            ]
        );
        let name = changes(&old, &new)
            .into_iter()
            .find(|c| c.entity_id == "user:u-bob:workflow:w-1")
            .map(|c| c.entity_name);
        assert_eq!(name.as_deref(), Some("bob@example.com → workflow Nightly"));
        // Raising a grant to own is high; removing it is low.
        let mut raised = new.clone();
        raised.grants[0].level = AccessLevel::Own;
        let got = rows(&new, &raised);
        assert_eq!(got[0].6, "high");
        let mut removed = new.clone();
        removed.grants.remove(0);
        assert_eq!(rows(&new, &removed)[0].6, "low");
    }

    #[test]
    fn objects_changes_are_low_and_not_collected_kinds_are_skipped() {
        let old = org();
        let mut new = org();
        new.apps[0].folder_id = None;
        new.apps.push(app("a-new", "New", None));
        new.folders.retain(|f| f.id.0 != "f-sub");
        new.normalize();
        let got = rows(&old, &new);
        assert!(got.contains(&row(
            "app",
            "modified",
            "a-deep",
            "folder_id",
            "f-sub",
            "",
            "low"
        )));
        assert!(got.contains(&row("app", "added", "a-new", "", "", "", "low")));
        assert!(got.contains(&row("folder", "removed", "f-sub", "", "", "", "low")));

        let mut blind = org();
        blind.grants.clear();
        blind
            .not_collected
            .insert(EntityKind::Grants, "missing scope permissions:read".into());
        assert_eq!(rows(&old, &blind), Vec::<Row>::new());
    }
}
