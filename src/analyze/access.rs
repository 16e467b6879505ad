//! Effective access: which level each active user holds on each app, resource and
//! workflow, and which sources (admin, universal, group, folder, direct) give it.
//!
//! Semantics (DESIGN.md): a user's level on an object is the highest of
//! - `admin`: an org admin holds `own` on everything;
//! - `universal:<group>`: each of the user's groups' universal level for the type;
//! - `group:<group>`: each of the user's groups' grant on the object;
//! - `folder:<folder> via group:<group>`: each group's grant on the folder that
//!   DIRECTLY contains the object (not its parent folders);
//! - `direct`: a grant to the user (subject `User`).
//!
//! `via` lists every source that grants anything (level above `none`), highest
//! level first; within one level in the order admin, universal, group, folder,
//! direct, each by name. So the first entries are the ones that give the
//! winning level.

use std::cmp::Reverse;
use std::collections::{HashMap, HashSet};
use std::fmt;

use crate::model::{
    AccessLevel, GroupId, ObjectId, ObjectRef, ObjectType, OrgState, Subject, User, UserId,
};

/// The object types effective access is computed for (folders are containers;
/// their grants flow to the items directly inside them).
pub const ACCESS_OBJECT_TYPES: [ObjectType; 3] =
    [ObjectType::App, ObjectType::Resource, ObjectType::Workflow];

/// Where a level comes from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Source {
    /// The user is an org admin (`own` on everything).
    Admin,
    /// A group's universal level for the object type.
    Universal { group: String },
    /// A group's grant on the object itself.
    Group { group: String },
    /// A group's grant on the folder directly containing the object.
    Folder { folder: String, group: String },
    /// A grant to the user directly.
    Direct,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Admin => f.write_str("admin"),
            Source::Universal { group } => write!(f, "universal:{group}"),
            Source::Group { group } => write!(f, "group:{group}"),
            Source::Folder { folder, group } => write!(f, "folder:{folder} via group:{group}"),
            Source::Direct => f.write_str("direct"),
        }
    }
}

/// One source and the level it grants.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Via {
    pub source: Source,
    pub level: AccessLevel,
}

/// The `via` spelling of a report row: sources joined with `;`, in the given
/// order (see the module docs for the order [`effective_level`] uses).
pub fn join_via(via: &[Via]) -> String {
    via.iter()
        .map(|v| v.source.to_string())
        .collect::<Vec<_>>()
        .join(";")
}

fn sort_via(via: &mut Vec<Via>) {
    via.sort_by(|a, b| (Reverse(a.level), &a.source).cmp(&(Reverse(b.level), &b.source)));
    via.dedup();
}

/// One row of the bounded effective-access table.
///
/// For each active user and object type there is one baseline row
/// (`object_id` `None`, rendered `*`): the level the user holds on ALL objects
/// of the type (from admin and universal access). Per-object rows follow only
/// where grants on the object, its folder or the user give MORE than that.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EffectiveAccess {
    pub user_id: UserId,
    pub email: String,
    pub object_type: ObjectType,
    /// `None` for the baseline row covering every object of the type.
    pub object_id: Option<ObjectId>,
    /// The object's name; `(all apps)`, `(all resources)`, `(all workflows)` for
    /// a baseline row; `(not in snapshot)` for a grant on an unknown object.
    pub object_name: String,
    pub level: AccessLevel,
    /// Every source granting anything, highest level first.
    pub via: Vec<Via>,
}

/// The baseline row's object name for a type.
pub fn all_objects_name(object_type: ObjectType) -> &'static str {
    match object_type {
        ObjectType::App => "(all apps)",
        ObjectType::Resource => "(all resources)",
        ObjectType::Workflow => "(all workflows)",
        ObjectType::Folder => "(all folders)",
    }
}

/// The name used for a grant whose object the snapshot does not hold.
pub const UNKNOWN_OBJECT_NAME: &str = "(not in snapshot)";

/// A source before names are looked up (cheap to build for every user).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RawSource<'a> {
    Group(GroupId),
    Folder(&'a ObjectId, GroupId),
    Direct,
}

/// One object-specific level a group (or user) reaches.
#[derive(Debug, Clone, Copy)]
struct Reach<'a> {
    object_type: ObjectType,
    id: &'a ObjectId,
    level: AccessLevel,
    source: RawSource<'a>,
}

type ObjKey<'a> = (ObjectType, &'a ObjectId);

/// Precomputed lookups over one state: user → groups, group → what its grants
/// reach (object grants, and folder grants expanded to the folder's items), user
/// → direct grants, object → folder and name. Build once, query many times.
pub struct AccessIndex<'a> {
    state: &'a OrgState,
    group_names: HashMap<GroupId, &'a str>,
    user_groups: HashMap<&'a UserId, Vec<GroupId>>,
    group_reach: HashMap<GroupId, Vec<Reach<'a>>>,
    direct: HashMap<&'a UserId, Vec<Reach<'a>>>,
    names: HashMap<ObjKey<'a>, &'a str>,
}

impl<'a> AccessIndex<'a> {
    pub fn new(state: &'a OrgState) -> Self {
        let group_names: HashMap<GroupId, &str> = state
            .groups
            .iter()
            .map(|g| (g.id, g.name.as_str()))
            .collect();

        let mut user_groups: HashMap<&UserId, Vec<GroupId>> = HashMap::new();
        for m in &state.memberships {
            user_groups.entry(&m.user_id).or_default().push(m.group_id);
        }
        for gs in user_groups.values_mut() {
            gs.sort();
            gs.dedup();
        }

        let mut names: HashMap<ObjKey, &str> = HashMap::new();
        let mut folder_items: HashMap<&ObjectId, Vec<ObjKey>> = HashMap::new();
        for f in &state.folders {
            names.insert((ObjectType::Folder, &f.id), f.name.as_str());
        }
        let items = state
            .apps
            .iter()
            .map(|a| {
                (
                    ObjectType::App,
                    &a.id,
                    a.name.as_str(),
                    a.folder_id.as_ref(),
                )
            })
            .chain(state.resources.iter().map(|r| {
                (
                    ObjectType::Resource,
                    &r.id,
                    r.name.as_str(),
                    r.folder_id.as_ref(),
                )
            }))
            .chain(state.workflows.iter().map(|w| {
                (
                    ObjectType::Workflow,
                    &w.id,
                    w.name.as_str(),
                    w.folder_id.as_ref(),
                )
            }));
        for (t, id, name, folder) in items {
            names.insert((t, id), name);
            if let Some(folder) = folder {
                folder_items.entry(folder).or_default().push((t, id));
            }
        }

        let mut group_reach: HashMap<GroupId, Vec<Reach>> = HashMap::new();
        let mut direct: HashMap<&UserId, Vec<Reach>> = HashMap::new();
        for g in &state.grants {
            if g.level == AccessLevel::None {
                continue;
            }
            match &g.subject {
                Subject::Group(gid) => {
                    let reach = group_reach.entry(*gid).or_default();
                    reach.push(Reach {
                        object_type: g.object.object_type,
                        id: &g.object.id,
                        level: g.level,
                        source: RawSource::Group(*gid),
                    });
                    if g.object.object_type == ObjectType::Folder {
                        for (t, id) in folder_items.get(&g.object.id).into_iter().flatten() {
                            reach.push(Reach {
                                object_type: *t,
                                id,
                                level: g.level,
                                source: RawSource::Folder(&g.object.id, *gid),
                            });
                        }
                    }
                }
                Subject::User(uid) => {
                    direct.entry(uid).or_default().push(Reach {
                        object_type: g.object.object_type,
                        id: &g.object.id,
                        level: g.level,
                        source: RawSource::Direct,
                    });
                }
            }
        }

        AccessIndex {
            state,
            group_names,
            user_groups,
            group_reach,
            direct,
            names,
        }
    }

    fn group_name(&self, id: GroupId) -> String {
        match self.group_names.get(&id) {
            Some(n) => (*n).to_string(),
            None => format!("group {id}"),
        }
    }

    /// The object's name, or [`UNKNOWN_OBJECT_NAME`].
    pub fn object_name(&self, object_type: ObjectType, id: &ObjectId) -> &str {
        self.names
            .get(&(object_type, id))
            .copied()
            .unwrap_or(UNKNOWN_OBJECT_NAME)
    }

    /// Whether the state holds this object.
    pub fn knows(&self, object: &ObjectRef) -> bool {
        self.names.contains_key(&(object.object_type, &object.id))
    }

    /// The apps, resources and workflows a group brings its members at `min`
    /// or above — through its universal levels (every object of the type), its
    /// grants on objects and its grants on the folders directly containing
    /// them — each with the highest level the group gives it, sorted.
    pub fn objects_of_group(
        &self,
        group: GroupId,
        min: AccessLevel,
    ) -> Vec<(ObjectRef, AccessLevel)> {
        let mut out: std::collections::BTreeMap<ObjectRef, AccessLevel> = Default::default();
        let mut add = |object_type: ObjectType, id: &ObjectId, level: AccessLevel| {
            if level >= min {
                let e = out
                    .entry(ObjectRef {
                        object_type,
                        id: id.clone(),
                    })
                    .or_default();
                *e = (*e).max(level);
            }
        };
        if let Some(g) = self.state.group(group) {
            for t in ACCESS_OBJECT_TYPES {
                let level = g.universal_access(t);
                if level < min {
                    continue;
                }
                for (ot, id) in self.names.keys() {
                    if *ot == t {
                        add(t, id, level);
                    }
                }
            }
        }
        for r in self.group_reach.get(&group).into_iter().flatten() {
            if ACCESS_OBJECT_TYPES.contains(&r.object_type) {
                add(r.object_type, r.id, r.level);
            }
        }
        out.into_iter().collect()
    }

    /// The groups a user is a member of (sorted, deduplicated).
    pub fn groups_of(&self, user: &UserId) -> &[GroupId] {
        self.user_groups.get(user).map(Vec::as_slice).unwrap_or(&[])
    }

    fn resolve(&self, raw: RawSource<'_>) -> Source {
        match raw {
            RawSource::Group(g) => Source::Group {
                group: self.group_name(g),
            },
            RawSource::Folder(f, g) => Source::Folder {
                folder: self.object_name(ObjectType::Folder, f).to_string(),
                group: self.group_name(g),
            },
            RawSource::Direct => Source::Direct,
        }
    }

    /// The sources of a user's level on every object of a type (admin, universal).
    fn baseline(&self, user: &User, object_type: ObjectType) -> Vec<Via> {
        let mut via = Vec::new();
        if user.is_admin {
            via.push(Via {
                source: Source::Admin,
                level: AccessLevel::Own,
            });
        }
        for gid in self.groups_of(&user.id) {
            if let Some(g) = self.state.group(*gid) {
                let level = g.universal_access(object_type);
                if level > AccessLevel::None {
                    via.push(Via {
                        source: Source::Universal {
                            group: g.name.clone(),
                        },
                        level,
                    });
                }
            }
        }
        via
    }

    /// A user's effective level on one object and every source granting anything
    /// (highest first). Computed from grants alone: it does not look at whether
    /// the account is disabled (the table leaves disabled users out).
    pub fn level(&self, user: &UserId, object: &ObjectRef) -> (AccessLevel, Vec<Via>) {
        let Some(u) = self.state.user(user) else {
            return (AccessLevel::None, Vec::new());
        };
        let mut via = self.baseline(u, object.object_type);
        let matches = |r: &Reach| r.object_type == object.object_type && *r.id == object.id;
        for gid in self.groups_of(user) {
            for r in self.group_reach.get(gid).into_iter().flatten() {
                if matches(r) {
                    via.push(Via {
                        source: self.resolve(r.source),
                        level: r.level,
                    });
                }
            }
        }
        for r in self.direct.get(user).into_iter().flatten() {
            if matches(r) {
                via.push(Via {
                    source: Source::Direct,
                    level: r.level,
                });
            }
        }
        sort_via(&mut via);
        let level = via.first().map(|v| v.level).unwrap_or(AccessLevel::None);
        (level, via)
    }

    /// The bounded effective-access rows of one user (see [`EffectiveAccess`]).
    fn rows_for(&self, user: &User, out: &mut Vec<EffectiveAccess>) {
        let mut specific: HashMap<ObjKey, Vec<(AccessLevel, RawSource)>> = HashMap::new();
        if !user.is_admin {
            for gid in self.groups_of(&user.id) {
                for r in self.group_reach.get(gid).into_iter().flatten() {
                    specific
                        .entry((r.object_type, r.id))
                        .or_default()
                        .push((r.level, r.source));
                }
            }
            for r in self.direct.get(&user.id).into_iter().flatten() {
                specific
                    .entry((r.object_type, r.id))
                    .or_default()
                    .push((r.level, r.source));
            }
        }
        for t in ACCESS_OBJECT_TYPES {
            let mut base = self.baseline(user, t);
            sort_via(&mut base);
            let base_level = base.first().map(|v| v.level).unwrap_or(AccessLevel::None);
            let mut objects: Vec<(&ObjectId, &Vec<(AccessLevel, RawSource)>)> = specific
                .iter()
                .filter(|((ot, _), srcs)| *ot == t && srcs.iter().any(|(l, _)| *l > base_level))
                .map(|((_, id), srcs)| (*id, srcs))
                .collect();
            objects.sort_by(|a, b| a.0.cmp(b.0));
            out.push(EffectiveAccess {
                user_id: user.id.clone(),
                email: user.email.clone(),
                object_type: t,
                object_id: None,
                object_name: all_objects_name(t).to_string(),
                level: base_level,
                via: base.clone(),
            });
            for (id, srcs) in objects {
                let mut via = base.clone();
                via.extend(srcs.iter().map(|(level, raw)| Via {
                    source: self.resolve(*raw),
                    level: *level,
                }));
                sort_via(&mut via);
                let level = via.first().map(|v| v.level).unwrap_or(AccessLevel::None);
                out.push(EffectiveAccess {
                    user_id: user.id.clone(),
                    email: user.email.clone(),
                    object_type: t,
                    object_id: Some(id.clone()),
                    object_name: self.object_name(t, id).to_string(),
                    level,
                    via,
                });
            }
        }
    }
}

/// A user's effective level on one object with every source granting anything,
/// highest first. Builds an [`AccessIndex`]; for many queries build one yourself.
pub fn effective_level(
    state: &OrgState,
    user: &UserId,
    object: &ObjectRef,
) -> (AccessLevel, Vec<Via>) {
    AccessIndex::new(state).level(user, object)
}

/// The bounded effective-access table of all ACTIVE users: per user and object
/// type (app, resource, workflow) one baseline row (`object_id` `None`) with the
/// level on every object of the type, then one row per object where grants give
/// more than that baseline. Sorted by email, user id, object type, object id
/// (baseline first).
pub fn effective_access(state: &OrgState) -> Vec<EffectiveAccess> {
    let index = AccessIndex::new(state);
    let mut users: Vec<&User> = state.users.iter().filter(|u| u.active).collect();
    users.sort_by(|a, b| (&a.email, &a.id).cmp(&(&b.email, &b.id)));
    let mut seen: HashSet<&UserId> = HashSet::new();
    let mut out = Vec::with_capacity(users.len() * ACCESS_OBJECT_TYPES.len());
    for u in users {
        if seen.insert(&u.id) {
            index.rows_for(u, &mut out);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::fixtures::*;

    fn rows_of<'a>(rows: &'a [EffectiveAccess], user: &str) -> Vec<&'a EffectiveAccess> {
        rows.iter().filter(|r| r.user_id.0 == user).collect()
    }

    fn app_level(s: &OrgState, user: &str, app: &str) -> (AccessLevel, String) {
        let (l, via) = effective_level(s, &UserId(user.into()), &obj(ObjectType::App, app));
        (l, join_via(&via))
    }

    #[test]
    fn objects_of_group_lists_what_a_group_brings_at_a_minimum_level() {
        let mut s = org();
        s.grants
            .push(group_grant(2, ObjectType::App, "a-top", AccessLevel::Use));
        s.groups[2].universal_workflow_access = AccessLevel::Edit;
        let index = AccessIndex::new(&s);
        let names = |g: i64, min: AccessLevel| -> Vec<(String, AccessLevel)> {
            index
                .objects_of_group(GroupId(g), min)
                .into_iter()
                .map(|(o, l)| (o.id.0, l))
                .collect()
        };
        // Eng: the folder grant reaches a-ops (not a-deep in the subfolder);
        // its use grant on a-top is below edit.
        assert_eq!(
            names(2, AccessLevel::Edit),
            vec![("a-ops".into(), AccessLevel::Edit)]
        );
        assert_eq!(names(2, AccessLevel::Use).len(), 2);
        // DBA: own on the resource, universal edit on every workflow.
        assert_eq!(
            names(3, AccessLevel::Edit),
            vec![
                ("r-db".into(), AccessLevel::Own),
                ("w-1".into(), AccessLevel::Edit)
            ]
        );
        // All Users' universal use is below edit; an unknown group brings nothing.
        assert!(names(1, AccessLevel::Edit).is_empty());
        assert_eq!(names(1, AccessLevel::Use).len(), 3, "every app");
        assert!(names(99, AccessLevel::Use).is_empty());
        assert!(index.knows(&obj(ObjectType::App, "a-top")));
        assert!(!index.knows(&obj(ObjectType::App, "gone")));
    }

    #[test]
    fn folder_grant_reaches_items_directly_inside_only() {
        let s = org();
        assert_eq!(
            app_level(&s, "u-alice", "a-ops"),
            (
                AccessLevel::Edit,
                "folder:Ops via group:Eng;universal:All Users".into()
            )
        );
        // a-deep sits in the subfolder: the Ops folder grant does not reach it.
        assert_eq!(
            app_level(&s, "u-alice", "a-deep"),
            (AccessLevel::Use, "universal:All Users".into())
        );
    }

    #[test]
    fn group_universal_admin_and_direct_sources_are_named() {
        let mut s = org();
        s.grants
            .push(group_grant(2, ObjectType::App, "a-top", AccessLevel::Use));
        s.grants.push(user_grant(
            "u-bob",
            ObjectType::App,
            "a-top",
            AccessLevel::Own,
        ));
        s.normalize();
        assert_eq!(
            app_level(&s, "u-alice", "a-top"),
            (AccessLevel::Use, "universal:All Users;group:Eng".into())
        );
        // max wins: the direct own beats the group's use.
        assert_eq!(
            app_level(&s, "u-bob", "a-top"),
            (
                AccessLevel::Own,
                "direct;universal:All Users;group:Eng".into()
            )
        );
        assert_eq!(
            app_level(&s, "u-dave", "a-top"),
            (AccessLevel::Own, "admin;universal:All Users".into())
        );
        let (l, via) = effective_level(
            &s,
            &UserId("u-carol".into()),
            &obj(ObjectType::Resource, "r-db"),
        );
        assert_eq!(
            (l, join_via(&via).as_str()),
            (AccessLevel::Own, "group:DBA")
        );
        let (l, via) = effective_level(
            &s,
            &UserId("u-alice".into()),
            &obj(ObjectType::Resource, "r-db"),
        );
        assert_eq!((l, via.len()), (AccessLevel::None, 0));
    }

    #[test]
    fn bounded_table_has_one_baseline_row_per_type_and_rows_only_above_it() {
        let mut s = org();
        // Eng's use on a-top equals alice's universal baseline: no row for it.
        s.grants
            .push(group_grant(2, ObjectType::App, "a-top", AccessLevel::Use));
        s.normalize();
        let rows = effective_access(&s);
        let alice = rows_of(&rows, "u-alice");
        let keys: Vec<(ObjectType, Option<&str>, AccessLevel)> = alice
            .iter()
            .map(|r| {
                (
                    r.object_type,
                    r.object_id.as_ref().map(|o| o.0.as_str()),
                    r.level,
                )
            })
            .collect();
        assert_eq!(
            keys,
            vec![
                (ObjectType::App, None, AccessLevel::Use),
                (ObjectType::App, Some("a-ops"), AccessLevel::Edit),
                (ObjectType::Resource, None, AccessLevel::None),
                (ObjectType::Workflow, None, AccessLevel::None),
            ]
        );
        assert_eq!(alice[0].object_name, "(all apps)");
        assert_eq!(join_via(&alice[0].via), "universal:All Users");
        assert_eq!(alice[1].object_name, "Ops console");
        // The admin holds own on everything: baseline rows only.
        let dave = rows_of(&rows, "u-dave");
        assert_eq!(dave.len(), 3);
        assert!(
            dave.iter()
                .all(|r| r.level == AccessLevel::Own && r.object_id.is_none())
        );
        assert_eq!(join_via(&dave[1].via), "admin");
    }

    #[test]
    fn disabled_users_are_left_out_and_rows_sorted_by_email() {
        let rows = effective_access(&org());
        assert!(rows_of(&rows, "u-erin").is_empty());
        let emails: Vec<&str> = rows.iter().map(|r| r.email.as_str()).collect();
        let mut sorted = emails.clone();
        sorted.sort();
        assert_eq!(emails, sorted);
        assert_eq!(
            rows.len(),
            4 * 3 + 2 + 1,
            "4 active users x 3 types + a-ops x2 + r-db"
        );
    }

    #[test]
    fn grant_on_unknown_object_is_kept_with_a_marker_name() {
        let mut s = org();
        s.grants.push(user_grant(
            "u-alice",
            ObjectType::Workflow,
            "w-gone",
            AccessLevel::Edit,
        ));
        s.normalize();
        let rows = effective_access(&s);
        let r = rows
            .iter()
            .find(|r| r.object_id == Some(ObjectId("w-gone".into())))
            .map(|r| (r.object_name.as_str(), r.level, join_via(&r.via)));
        assert_eq!(
            r,
            Some((UNKNOWN_OBJECT_NAME, AccessLevel::Edit, "direct".to_string()))
        );
    }

    /// A generated org of 50 000 users, 1 000 groups, 20 000 grants and 5 000
    /// apps: the table stays bounded (baseline rows plus specific grants above
    /// it). Run with `cargo test --release -- --ignored` to see the time.
    #[test]
    #[ignore]
    fn large_org_stays_bounded() {
        let mut s = OrgState::default();
        let mut all = group(0, "All Users");
        all.universal_app_access = AccessLevel::Use;
        s.groups.push(all);
        for g in 1..1000 {
            s.groups.push(group(g, &format!("g{g}")));
        }
        for f in 0..500 {
            s.folders
                .push(folder(&format!("f{f}"), &format!("F{f}"), None));
        }
        for a in 0..5000 {
            let f = format!("f{}", a % 500);
            s.apps
                .push(app(&format!("a{a}"), &format!("A{a}"), Some(&f)));
        }
        for u in 0..50_000 {
            let id = format!("u{u}");
            s.users.push(user(&id, &format!("{id}@example.com")));
            s.memberships.push(member(0, &id));
            s.memberships.push(member(1 + (u % 999), &id));
            s.memberships.push(member(1 + ((u * 7) % 999), &id));
        }
        for i in 0..20_000i64 {
            let g = 1 + (i % 999);
            let (t, id) = if i % 10 == 0 {
                (ObjectType::Folder, format!("f{}", i % 500))
            } else {
                (ObjectType::App, format!("a{}", i % 5000))
            };
            s.grants.push(group_grant(g, t, &id, AccessLevel::Edit));
        }
        s.normalize();
        let start = std::time::Instant::now();
        let rows = effective_access(&s);
        eprintln!("{} rows in {:?}", rows.len(), start.elapsed());
        assert!(rows.len() >= 150_000);
        assert!(rows.len() < 150_000 + 50_000 * 200, "{}", rows.len());
    }
}
