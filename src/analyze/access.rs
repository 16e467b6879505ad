//! Effective access: which level each active user holds on each app, resource and
//! workflow, and which sources (admin, universal, group, folder, direct) give it.
//!
//! Semantics (DESIGN.md): a user's level on an object is the highest of
//! - `admin`: an org admin holds `own` on everything;
//! - `universal:<group>`: each of the user's groups' universal level for the type;
//! - `group:<group>`: each of the user's groups' grant on the object;
//! - `folder:<folder> via group:<group>`: each group's grant on the folder that
//!   DIRECTLY contains the object (not its parent folders);
//! - `direct`: a grant to the user (subject `User`);
//! - `role:<role>` and `role:<role> via group:<group>`: a role held directly or
//!   through a group, on the object or (a grant naming no object) on every
//!   object of the type, at the level its object scopes give (see
//!   [`super::roles`] for the mapping).
//!
//! `via` lists every source that grants anything (level above `none`), highest
//! level first; within one level in the order admin, universal, group, folder,
//! direct, role, each by name. So the first entries are the ones that give the
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
    /// A role held directly (`group` `None`) or through a group.
    Role { role: String, group: Option<String> },
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Admin => f.write_str("admin"),
            Source::Universal { group } => write!(f, "universal:{group}"),
            Source::Group { group } => write!(f, "group:{group}"),
            Source::Folder { folder, group } => write!(f, "folder:{folder} via group:{group}"),
            Source::Direct => f.write_str("direct"),
            Source::Role { role, group: None } => write!(f, "role:{role}"),
            Source::Role {
                role,
                group: Some(group),
            } => write!(f, "role:{role} via group:{group}"),
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

/// A source before names are looked up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RawSource<'a> {
    Group(GroupId),
    Folder(&'a ObjectId, GroupId),
    Direct,
    Role(&'a str, Option<GroupId>),
}

/// A source's place in the `via` order: the index of its [`Source`] in
/// [`AccessIndex::sources`] (sorted, unique), so equal sources share one.
type SourceRank = u32;

/// An object's place in [`AccessIndex::objects`] (sorted by type, then id).
type ObjRank = u32;

/// One entry of a `via` list: sorts highest level first, then in source order.
type ViaKey = (Reverse<AccessLevel>, SourceRank);

/// One object-specific level a group (or user) reaches.
#[derive(Debug, Clone, Copy)]
struct Reach {
    object: ObjRank,
    level: AccessLevel,
    source: SourceRank,
}

type ObjKey<'a> = (ObjectType, &'a ObjectId);

fn rank<T: Ord>(sorted: &[T], item: &T) -> u32 {
    // Every item looked up was put in `sorted` when it was built.
    let i = sorted.binary_search(item).unwrap_or_else(|i| i);
    u32::try_from(i).unwrap_or(u32::MAX)
}

/// The (type, id) key of an object a role grant names, borrowed from the
/// state when the state holds the object.
fn state_object_key<'a>(
    state: &'a OrgState,
    object: &crate::model::ObjectRef,
) -> Option<ObjKey<'a>> {
    // Every list of a normalized state is sorted by id.
    fn find<'a, T>(items: &'a [T], id: &ObjectId, of: fn(&T) -> &ObjectId) -> Option<&'a ObjectId> {
        let i = items.binary_search_by(|x| of(x).cmp(id)).ok()?;
        items.get(i).map(of)
    }
    let id = match object.object_type {
        ObjectType::App => find(&state.apps, &object.id, |a| &a.id),
        ObjectType::Resource => find(&state.resources, &object.id, |r| &r.id),
        ObjectType::Workflow => find(&state.workflows, &object.id, |w| &w.id),
        ObjectType::Folder => find(&state.folders, &object.id, |f| &f.id),
    }?;
    Some((object.object_type, id))
}

/// Precomputed lookups over one state: user → groups, group → what its grants
/// reach (object grants, and folder grants expanded to the folder's items), user
/// → direct grants, object → name, and every source a `via` can name, spelled
/// once. Build once, query many times.
pub struct AccessIndex<'a> {
    state: &'a OrgState,
    user_groups: HashMap<&'a UserId, Vec<GroupId>>,
    group_reach: HashMap<GroupId, Vec<Reach>>,
    direct: HashMap<&'a UserId, Vec<Reach>>,
    /// Levels on every object of a type from roles granted without an object:
    /// per group and per user, (type, level, source).
    group_roles: HashMap<GroupId, Vec<(ObjectType, AccessLevel, SourceRank)>>,
    user_roles: HashMap<&'a UserId, Vec<(ObjectType, AccessLevel, SourceRank)>>,
    /// Every object a name or grant mentions, sorted by (type, id), with its
    /// name ([`UNKNOWN_OBJECT_NAME`] for a grant on an object not in the state).
    objects: Vec<(ObjKey<'a>, &'a str)>,
    /// Every source a `via` can name, sorted (the `via` order), unique.
    sources: Vec<Source>,
    /// `sources` as reports spell them.
    labels: Vec<String>,
    /// Each group's universal source.
    universal: HashMap<GroupId, SourceRank>,
    admin: SourceRank,
}

impl<'a> AccessIndex<'a> {
    pub fn new(state: &'a OrgState) -> Self {
        let group_names: HashMap<GroupId, &str> = state
            .groups
            .iter()
            .map(|g| (g.id, g.name.as_str()))
            .collect();
        let group_name = |id: GroupId| match group_names.get(&id) {
            Some(n) => (*n).to_string(),
            None => format!("group {id}"),
        };

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
        let object_name = |key: &ObjKey| names.get(key).copied().unwrap_or(UNKNOWN_OBJECT_NAME);

        // Grants as (subject, object, level, source) before ranks are known.
        let mut raw_group: Vec<(GroupId, ObjKey, AccessLevel, RawSource)> = Vec::new();
        let mut raw_direct: Vec<(&UserId, ObjKey, AccessLevel, RawSource)> = Vec::new();
        // Roles granted without an object: (subject, type, level, source).
        let mut raw_role_base: Vec<(Subject, ObjectType, AccessLevel, RawSource)> = Vec::new();
        let roles: HashMap<&str, &crate::model::Role> =
            state.roles.iter().map(|r| (r.id.as_str(), r)).collect();
        for rg in &state.role_grants {
            let Some(role) = roles.get(rg.role_id.as_str()) else {
                continue;
            };
            let subject = match (rg.user(), rg.group()) {
                (Some(u), _) => Subject::User(u),
                (None, Some(g)) => Subject::Group(g),
                (None, None) => continue,
            };
            let group = match &subject {
                Subject::Group(g) => Some(*g),
                Subject::User(_) => None,
            };
            let source = RawSource::Role(role.name.as_str(), group);
            match rg.object() {
                Some(object) => {
                    let level = super::roles::role_level(role, object.object_type);
                    if level == AccessLevel::None {
                        continue;
                    }
                    let Some(key) = state_object_key(state, &object) else {
                        continue;
                    };
                    match subject {
                        Subject::Group(g) => raw_group.push((g, key, level, source)),
                        Subject::User(u) => {
                            if let Some(uid) = state.user(&u).map(|u| &u.id) {
                                raw_direct.push((uid, key, level, source));
                            }
                        }
                    }
                }
                None if rg.object_type.is_empty() => {
                    for t in ACCESS_OBJECT_TYPES {
                        let level = super::roles::role_level(role, t);
                        if level > AccessLevel::None {
                            raw_role_base.push((subject.clone(), t, level, source));
                        }
                    }
                }
                None => {} // an object type this version does not model
            }
        }
        for g in &state.grants {
            if g.level == AccessLevel::None {
                continue;
            }
            let key = (g.object.object_type, &g.object.id);
            match &g.subject {
                Subject::Group(gid) => {
                    raw_group.push((*gid, key, g.level, RawSource::Group(*gid)));
                    if g.object.object_type == ObjectType::Folder {
                        for item in folder_items.get(&g.object.id).into_iter().flatten() {
                            raw_group.push((
                                *gid,
                                *item,
                                g.level,
                                RawSource::Folder(&g.object.id, *gid),
                            ));
                        }
                    }
                }
                Subject::User(uid) => raw_direct.push((uid, key, g.level, RawSource::Direct)),
            }
        }

        let mut objects: Vec<(ObjKey, &str)> = names.iter().map(|(k, n)| (*k, *n)).collect();
        objects.extend(
            raw_group
                .iter()
                .map(|r| r.1)
                .chain(raw_direct.iter().map(|r| r.1))
                .map(|k| (k, object_name(&k))),
        );
        objects.sort_unstable();
        objects.dedup_by(|a, b| a.0 == b.0);
        let obj_rank = |key: &ObjKey| {
            let i = objects
                .binary_search_by(|(k, _)| k.cmp(key))
                .unwrap_or_else(|i| i);
            u32::try_from(i).unwrap_or(u32::MAX)
        };

        let resolve = |raw: RawSource| match raw {
            RawSource::Group(g) => Source::Group {
                group: group_name(g),
            },
            RawSource::Folder(f, g) => Source::Folder {
                folder: object_name(&(ObjectType::Folder, f)).to_string(),
                group: group_name(g),
            },
            RawSource::Direct => Source::Direct,
            RawSource::Role(role, g) => Source::Role {
                role: role.to_string(),
                group: g.map(group_name),
            },
        };
        let mut sources: Vec<Source> = vec![Source::Admin, Source::Direct];
        sources.extend(state.groups.iter().map(|g| Source::Universal {
            group: g.name.clone(),
        }));
        sources.extend(raw_group.iter().map(|r| resolve(r.3)));
        sources.extend(raw_direct.iter().map(|r| resolve(r.3)));
        sources.extend(raw_role_base.iter().map(|r| resolve(r.3)));
        sources.sort_unstable();
        sources.dedup();

        let mut group_reach: HashMap<GroupId, Vec<Reach>> = HashMap::new();
        for (gid, key, level, raw) in &raw_group {
            group_reach.entry(*gid).or_default().push(Reach {
                object: obj_rank(key),
                level: *level,
                source: rank(&sources, &resolve(*raw)),
            });
        }
        let direct_rank = rank(&sources, &Source::Direct);
        let mut direct: HashMap<&UserId, Vec<Reach>> = HashMap::new();
        for (uid, key, level, raw) in &raw_direct {
            let source = match raw {
                RawSource::Direct => direct_rank,
                other => rank(&sources, &resolve(*other)),
            };
            direct.entry(*uid).or_default().push(Reach {
                object: obj_rank(key),
                level: *level,
                source,
            });
        }
        let mut group_roles: HashMap<GroupId, Vec<_>> = HashMap::new();
        let mut user_roles: HashMap<&UserId, Vec<_>> = HashMap::new();
        for (subject, t, level, raw) in &raw_role_base {
            let entry = (*t, *level, rank(&sources, &resolve(*raw)));
            match subject {
                Subject::Group(g) => group_roles.entry(*g).or_default().push(entry),
                Subject::User(u) => {
                    if let Some(user) = state.user(u) {
                        user_roles.entry(&user.id).or_default().push(entry);
                    }
                }
            }
        }
        let universal = state
            .groups
            .iter()
            .map(|g| {
                let source = Source::Universal {
                    group: g.name.clone(),
                };
                (g.id, rank(&sources, &source))
            })
            .collect();
        let labels = sources.iter().map(Source::to_string).collect();
        let admin = rank(&sources, &Source::Admin);
        AccessIndex {
            state,
            user_groups,
            group_reach,
            direct,
            group_roles,
            user_roles,
            objects,
            sources,
            labels,
            universal,
            admin,
        }
    }

    /// The object's name, or [`UNKNOWN_OBJECT_NAME`].
    pub fn object_name(&self, object_type: ObjectType, id: &ObjectId) -> &str {
        self.object_rank(object_type, id)
            .map_or(UNKNOWN_OBJECT_NAME, |i| self.objects[i as usize].1)
    }

    fn object_rank(&self, object_type: ObjectType, id: &ObjectId) -> Option<ObjRank> {
        self.objects
            .binary_search_by(|((t, i), _)| (*t, *i).cmp(&(object_type, id)))
            .ok()
            .and_then(|i| u32::try_from(i).ok())
    }

    /// Whether the state holds this object.
    pub fn knows(&self, object: &ObjectRef) -> bool {
        self.object_rank(object.object_type, &object.id)
            .is_some_and(|i| self.objects[i as usize].1 != UNKNOWN_OBJECT_NAME)
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
        let universal = self.state.group(group).map(|g| {
            ACCESS_OBJECT_TYPES.map(|t| {
                let roles = self.group_roles.get(&group).into_iter().flatten();
                let role = roles
                    .filter(|(rt, _, _)| *rt == t)
                    .map(|(_, l, _)| *l)
                    .max()
                    .unwrap_or(AccessLevel::None);
                (t, g.universal_access(t).max(role))
            })
        });
        if let Some(universal) = universal {
            for (t, level) in universal {
                if level < min {
                    continue;
                }
                for ((ot, id), name) in &self.objects {
                    if *ot == t && *name != UNKNOWN_OBJECT_NAME {
                        add(t, id, level);
                    }
                }
            }
        }
        for r in self.group_reach.get(&group).into_iter().flatten() {
            let ((object_type, id), _) = self.objects[r.object as usize];
            if ACCESS_OBJECT_TYPES.contains(&object_type) {
                add(object_type, id, r.level);
            }
        }
        out.into_iter().collect()
    }

    /// The groups a user is a member of (sorted, deduplicated).
    pub fn groups_of(&self, user: &UserId) -> &[GroupId] {
        self.user_groups.get(user).map(Vec::as_slice).unwrap_or(&[])
    }

    fn vias(&self, keys: &[ViaKey]) -> Vec<Via> {
        keys.iter()
            .map(|&(Reverse(level), source)| Via {
                source: self.sources[source as usize].clone(),
                level,
            })
            .collect()
    }

    /// The sources of a user's level on every object of a type (admin,
    /// universal), sorted and deduplicated.
    fn baseline(&self, user: &User, object_type: ObjectType) -> Vec<ViaKey> {
        let mut via = Vec::new();
        if user.is_admin {
            via.push((Reverse(AccessLevel::Own), self.admin));
        }
        for gid in self.groups_of(&user.id) {
            if let (Some(g), Some(&source)) = (self.state.group(*gid), self.universal.get(gid)) {
                let level = g.universal_access(object_type);
                if level > AccessLevel::None {
                    via.push((Reverse(level), source));
                }
            }
        }
        let roles = self
            .groups_of(&user.id)
            .iter()
            .flat_map(|g| self.group_roles.get(g).into_iter().flatten())
            .chain(self.user_roles.get(&user.id).into_iter().flatten());
        for &(t, level, source) in roles {
            if t == object_type {
                via.push((Reverse(level), source));
            }
        }
        via.sort_unstable();
        via.dedup();
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
        if let Some(target) = self.object_rank(object.object_type, &object.id) {
            let reaches = self
                .groups_of(user)
                .iter()
                .flat_map(|gid| self.group_reach.get(gid).into_iter().flatten())
                .chain(self.direct.get(user).into_iter().flatten());
            via.extend(
                reaches
                    .filter(|r| r.object == target)
                    .map(|r| (Reverse(r.level), r.source)),
            );
        }
        via.sort_unstable();
        via.dedup();
        let level = via.first().map_or(AccessLevel::None, |v| v.0.0);
        (level, self.vias(&via))
    }

    /// What a user's groups and direct grants reach on single apps, resources
    /// and workflows, sorted by object, then highest level first. Empty for an
    /// admin (`own` on everything already).
    fn specific(&self, user: &User) -> Vec<(ObjRank, ViaKey)> {
        let mut out = Vec::new();
        if user.is_admin {
            return out;
        }
        let reaches = self
            .groups_of(&user.id)
            .iter()
            .flat_map(|gid| self.group_reach.get(gid).into_iter().flatten())
            .chain(self.direct.get(&user.id).into_iter().flatten());
        for r in reaches {
            if self.objects[r.object as usize].0.0 != ObjectType::Folder {
                out.push((r.object, (Reverse(r.level), r.source)));
            }
        }
        out.sort_unstable();
        out
    }

    /// The part of `specific` (sorted by object, so by type first) of one type.
    fn of_type<'s>(
        &self,
        specific: &'s [(ObjRank, ViaKey)],
        t: ObjectType,
    ) -> &'s [(ObjRank, ViaKey)] {
        let type_of = |e: &(ObjRank, ViaKey)| self.objects[e.0 as usize].0.0;
        let start = specific.partition_point(|e| type_of(e) < t);
        let end = specific.partition_point(|e| type_of(e) <= t);
        &specific[start..end]
    }

    /// Calls `f` with each row of `user` in the bounded effective-access table
    /// (see [`EffectiveAccess`]), in table order: per type the baseline row,
    /// then the objects where grants give more, by object id.
    pub fn for_each_row(&self, user: &User, mut f: impl FnMut(&AccessRow<'_>)) {
        let specific = self.specific(user);
        let mut via: Vec<ViaKey> = Vec::new();
        for t in ACCESS_OBJECT_TYPES {
            let base = self.baseline(user, t);
            let base_level = base.first().map_or(AccessLevel::None, |v| v.0.0);
            // A baseline of `none` is no access: no row says so.
            if base_level > AccessLevel::None {
                f(&AccessRow {
                    object_type: t,
                    object_id: None,
                    object_name: all_objects_name(t),
                    level: base_level,
                    via: &base,
                    labels: &self.labels,
                    sources: &self.sources,
                });
            }
            for chunk in self.of_type(&specific, t).chunk_by(|a, b| a.0 == b.0) {
                // Sorted highest first: the first entry is the object's best grant.
                let Some(&(object, (Reverse(best), _))) = chunk.first() else {
                    continue;
                };
                if best <= base_level {
                    continue;
                }
                via.clear();
                via.extend_from_slice(&base);
                via.extend(chunk.iter().map(|e| e.1));
                via.sort_unstable();
                via.dedup();
                let ((_, id), name) = self.objects[object as usize];
                f(&AccessRow {
                    object_type: t,
                    object_id: Some(id),
                    object_name: name,
                    level: via.first().map_or(AccessLevel::None, |v| v.0.0),
                    via: &via,
                    labels: &self.labels,
                    sources: &self.sources,
                });
            }
        }
    }

    /// How many rows [`Self::for_each_row`] gives for `user`, without building them.
    pub fn row_count(&self, user: &User) -> usize {
        let specific = self.specific(user);
        let mut n = 0;
        for t in ACCESS_OBJECT_TYPES {
            let base_level = self
                .baseline(user, t)
                .first()
                .map_or(AccessLevel::None, |v| v.0.0);
            n += usize::from(base_level > AccessLevel::None)
                + self
                    .of_type(&specific, t)
                    .chunk_by(|a, b| a.0 == b.0)
                    .filter(|chunk| chunk.first().is_some_and(|e| e.1.0.0 > base_level))
                    .count();
        }
        n
    }
}

/// One row of the bounded effective-access table, borrowed from an
/// [`AccessIndex`] (see [`EffectiveAccess`] for the owned form).
pub struct AccessRow<'r> {
    pub object_type: ObjectType,
    /// `None` for the baseline row covering every object of the type.
    pub object_id: Option<&'r ObjectId>,
    pub object_name: &'r str,
    pub level: AccessLevel,
    via: &'r [ViaKey],
    labels: &'r [String],
    sources: &'r [Source],
}

impl AccessRow<'_> {
    /// Every source granting anything, highest level first.
    pub fn via(&self) -> Vec<Via> {
        self.via
            .iter()
            .map(|&(Reverse(level), source)| Via {
                source: self.sources[source as usize].clone(),
                level,
            })
            .collect()
    }

    /// Appends the source that sets the level (the first of `via`) to `out`.
    pub fn write_determining_source(&self, out: &mut String) {
        if let Some((_, source)) = self.via.first() {
            out.push_str(&self.labels[*source as usize]);
        }
    }

    /// Appends the `via` spelling of [`join_via`] to `out`.
    pub fn write_via(&self, out: &mut String) {
        for (i, (_, source)) in self.via.iter().enumerate() {
            if i > 0 {
                out.push(';');
            }
            out.push_str(&self.labels[*source as usize]);
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

/// The users the effective-access table lists, in its order: active users by
/// email, then id, each id once.
pub fn effective_access_users(state: &OrgState) -> Vec<&User> {
    let mut users: Vec<&User> = state.users.iter().filter(|u| u.active).collect();
    users.sort_by(|a, b| (&a.email, &a.id).cmp(&(&b.email, &b.id)));
    let mut seen: HashSet<&UserId> = HashSet::new();
    users.retain(|u| seen.insert(&u.id));
    users
}

/// The bounded effective-access table of all ACTIVE users: per user and object
/// type (app, resource, workflow) one baseline row (`object_id` `None`) with the
/// level on every object of the type, then one row per object where grants give
/// more than that baseline. Sorted by email, user id, object type, object id
/// (baseline first). For large organizations prefer [`AccessIndex::for_each_row`],
/// which builds no owned rows.
pub fn effective_access(state: &OrgState) -> Vec<EffectiveAccess> {
    let index = AccessIndex::new(state);
    let users = effective_access_users(state);
    let mut out = Vec::with_capacity(users.len() * ACCESS_OBJECT_TYPES.len());
    for u in users {
        index.for_each_row(u, |row| {
            out.push(EffectiveAccess {
                user_id: u.id.clone(),
                email: u.email.clone(),
                object_type: row.object_type,
                object_id: row.object_id.cloned(),
                object_name: row.object_name.to_string(),
                level: row.level,
                via: row.via(),
            })
        });
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
        // Every user's `*` app row (All Users gives use), the admin's `*`
        // resource and workflow rows, the Ops app for Eng's two active
        // members, Carol's DB: no row says `none`.
        assert_eq!(rows.len(), 4 + 2 + 2 + 1);
        assert!(rows.iter().all(|r| r.level > AccessLevel::None));
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
