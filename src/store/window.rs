//! A window on the history for one subject: the versions of every record that
//! can change what one user, group or object reaches, over a range of
//! snapshots, read once. The subject's part of the state at any snapshot of
//! the range is assembled from them, and it can only change where one of
//! them begins or ends — so a timeline costs the subject's changes, not
//! snapshots × rows.

use std::collections::{HashMap, HashSet};

use super::db::ToValue;

use super::error::SqlContext;
use super::history::Version;
use super::rows::Versioned;
use super::{Store, StoreError};
use crate::model::{
    App, Folder, Grant, Group, GroupId, Membership, ObjectRef, ObjectType, OrgState, Resource,
    Role, RoleGrant, SnapshotMeta, User, UserId, Workflow,
};

/// Whose access a window is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// The user's record, memberships, direct grants and roles, and everything
    /// their groups hold.
    User(UserId),
    /// The group's record, members (and their records), grants and roles.
    Group(GroupId),
    /// The object, the folders it was in, every grant on it or on those
    /// folders, every group giving `edit` or `own` on it (by grant, folder
    /// or universal level) with its members, admins, roles and direct
    /// grants: enough to know who reaches it at `edit` or `own`.
    Object(ObjectRef),
}

/// The versions a [`Scope`] needs over a range of snapshots.
#[derive(Debug, Clone)]
pub struct Window {
    /// The org's snapshots in the range, oldest first.
    pub snapshots: Vec<SnapshotMeta>,
    users: Vec<Version<User>>,
    groups: Vec<Version<Group>>,
    memberships: Vec<Version<Membership>>,
    folders: Vec<Version<Folder>>,
    apps: Vec<Version<App>>,
    resources: Vec<Version<Resource>>,
    workflows: Vec<Version<Workflow>>,
    grants: Vec<Version<Grant>>,
    roles: Vec<Version<Role>>,
    role_grants: Vec<Version<RoleGrant>>,
    /// Per user, the indexes of their versions in `users` and `memberships`.
    people: HashMap<UserId, (Vec<usize>, Vec<usize>)>,
}

/// The table, id column and universal-level column of an object type.
fn object_table(t: ObjectType) -> (&'static str, &'static str, &'static str) {
    match t {
        ObjectType::Resource => ("resources", "resource_id", "universal_resource_access"),
        ObjectType::Workflow => ("workflows", "workflow_id", "universal_workflow_access"),
        _ => ("apps", "app_id", "universal_app_access"),
    }
}

/// Grants on the object `?4` of type `?5` or on any folder it was in.
fn on_object(t: ObjectType) -> String {
    let (table, id, _) = object_table(t);
    format!(
        "(object_type = ?5 AND object_id = ?4) OR (object_type = 'folder' AND object_id IN \
         (SELECT folder_id FROM {table} WHERE org = ?1 AND {id} = ?4))"
    )
}

/// The groups that can give `edit` or `own` on the object `?4` of type
/// `?5`: by a grant on it or on a folder it was in, by a universal level, or
/// by a role.
fn edit_groups(t: ObjectType) -> String {
    let (_, _, universal) = object_table(t);
    format!(
        "SELECT CAST(subject_id AS INTEGER) FROM grants WHERE org = ?1 AND subject_type = 'group' \
         AND access_level IN ('edit', 'own') AND ({on}) \
         UNION SELECT group_id FROM groups WHERE org = ?1 AND {universal} IN ('edit', 'own') \
         UNION SELECT CAST(subject_id AS INTEGER) FROM role_grants WHERE org = ?1 \
         AND subject_type = 'group'",
        on = on_object(t)
    )
}

impl Store {
    /// The versions `scope` needs from snapshot `from` to `to` (ids of
    /// `org`, inclusive).
    pub fn window(
        &self,
        org: &str,
        scope: &Scope,
        from: i64,
        to: i64,
    ) -> Result<Window, StoreError> {
        let snapshots: Vec<SnapshotMeta> = self
            .snapshots(Some(org))?
            .into_iter()
            .filter(|m| (from..=to).contains(&m.id))
            .collect();
        let mut params: Vec<Box<dyn ToValue>> =
            vec![Box::new(org.to_string()), Box::new(from), Box::new(to)];
        // Which users, memberships, groups, grants and role grants the scope
        // needs (SQL over each table, `?4`/`?5` the subject); roles are read
        // whole.
        let all = "1 = 1".to_string();
        // The inventory (folders, apps, resources, workflows): whole for a
        // user or a group; for an object only itself and the folders it was
        // in (its level comes from grants on those, universal levels and
        // roles, never from another object).
        let mut inventory = [all.clone(), all.clone(), all.clone(), all.clone()];
        if let Scope::Object(object) = scope {
            let (table, id, _) = object_table(object.object_type);
            let none = "1 = 0".to_string();
            inventory = [
                format!(
                    "folder_id IN (SELECT folder_id FROM {table} WHERE org = ?1 AND {id} = ?4)"
                ),
                none.clone(),
                none.clone(),
                none,
            ];
            let own = match object.object_type {
                ObjectType::Resource => 2,
                ObjectType::Workflow => 3,
                _ => 1,
            };
            inventory[own] = format!("{id} = ?4");
        }
        let [users, memberships, groups, grants, role_grants]: [String; 5] = match scope {
            Scope::User(user) => {
                params.push(Box::new(user.0.clone()));
                let of_groups = "SELECT group_id FROM memberships WHERE org = ?1 AND user_id = ?4";
                let held = format!(
                    "(subject_type = 'user' AND subject_id = ?4) OR (subject_type = 'group' \
                     AND CAST(subject_id AS INTEGER) IN ({of_groups}))"
                );
                [
                    "user_id = ?4".into(),
                    "user_id = ?4".into(),
                    format!("group_id IN ({of_groups})"),
                    held.clone(),
                    held,
                ]
            }
            Scope::Group(group) => {
                params.push(Box::new(group.0.to_string()));
                let this = "group_id = CAST(?4 AS INTEGER)";
                let held = "subject_type = 'group' AND subject_id = ?4".to_string();
                [
                    format!(
                        "user_id IN (SELECT user_id FROM memberships WHERE org = ?1 AND {this})"
                    ),
                    this.into(),
                    this.into(),
                    held.clone(),
                    held,
                ]
            }
            Scope::Object(object) => {
                params.push(Box::new(object.id.0.clone()));
                params.push(Box::new(object.object_type.as_str().to_string()));
                let groups = edit_groups(object.object_type);
                let on_it = on_object(object.object_type);
                [
                    format!(
                        "is_admin = 1 OR user_id IN (SELECT user_id FROM memberships \
                         WHERE org = ?1 AND group_id IN ({groups})) OR user_id IN \
                         (SELECT subject_id FROM grants WHERE org = ?1 AND subject_type = 'user' \
                         AND ({on_it})) OR user_id IN (SELECT subject_id FROM role_grants \
                         WHERE org = ?1 AND subject_type = 'user')"
                    ),
                    format!("group_id IN ({groups})"),
                    all.clone(),
                    on_it,
                    all.clone(),
                ]
            }
        };
        let p = &params;
        let w = Window {
            users: self.versions_of(p, &users)?,
            memberships: self.versions_of(p, &memberships)?,
            groups: self.versions_of(p, &groups)?,
            grants: self.versions_of(p, &grants)?,
            role_grants: self.versions_of(p, &role_grants)?,
            roles: self.versions_of(p, &all)?,
            folders: self.versions_of(p, &inventory[0])?,
            apps: self.versions_of(p, &inventory[1])?,
            resources: self.versions_of(p, &inventory[2])?,
            workflows: self.versions_of(p, &inventory[3])?,
            snapshots,
            people: HashMap::new(),
        };
        Ok(w.indexed())
    }

    /// The versions of `T` of org `?1` overlapping snapshots `?2..=?3` that
    /// `filter` (SQL over the table's columns, `?4`/`?5` bound) selects.
    fn versions_of<T: Versioned>(
        &self,
        params: &[Box<dyn ToValue>],
        filter: &str,
    ) -> Result<Vec<Version<T>>, StoreError> {
        let (p, table) = (&self.path, T::TABLE);
        let context = "reading a subject's history";
        let sql = format!(
            "SELECT rowid, valid_from, valid_to, {} FROM {table} WHERE org = ?1 \
             AND valid_from <= ?3 AND (valid_to IS NULL OR valid_to > ?2) AND ({filter})",
            T::columns().join(", ")
        );
        let mut stmt = self.conn.prepare(&sql).ctx(p, context)?;
        let used = stmt.parameter_count();
        let bound: Vec<&dyn ToValue> = params.iter().take(used).map(|b| b.as_ref()).collect();
        let mut rows = stmt.query(bound.as_slice()).ctx(p, context)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().ctx(p, context)? {
            let value = T::from_row(&row, 3).map_err(|e| e.corrupt(table, &row))?;
            out.push(Version {
                valid_from: row.get(1).ctx(p, context)?,
                valid_to: row.get(2).ctx(p, context)?,
                value,
            });
        }
        Ok(out)
    }
}

/// What changed at a change point of a window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Touched {
    /// Only these users' records and memberships.
    Users(HashSet<UserId>),
    /// Something else too (a group, a grant, a role, the inventory).
    All,
}

impl Window {
    /// The window with its per-user index built.
    fn indexed(mut self) -> Self {
        let mut people: HashMap<UserId, (Vec<usize>, Vec<usize>)> = HashMap::new();
        for (i, v) in self.users.iter().enumerate() {
            people.entry(v.value.id.clone()).or_default().0.push(i);
        }
        for (i, v) in self.memberships.iter().enumerate() {
            people.entry(v.value.user_id.clone()).or_default().1.push(i);
        }
        self.people = people;
        self
    }

    /// The indexes (into [`Window::snapshots`], the first left out) of the
    /// snapshots where a version of the window begins or ends — the only
    /// snapshots where [`Window::state_at`] can differ from the one before —
    /// with what changed there. A version beginning or ending in a pruned
    /// snapshot counts in the next snapshot kept.
    pub fn change_points(&self) -> Vec<(usize, Touched)> {
        let ids: Vec<i64> = self.snapshots.iter().map(|m| m.id).collect();
        let mut touched: Vec<Option<Touched>> = vec![None; ids.len()];
        let mut mark = |at: i64, user: Option<&UserId>| {
            let i = ids.partition_point(|&id| id < at);
            if i == 0 || i >= ids.len() {
                return;
            }
            match (&mut touched[i], user) {
                (Some(Touched::All), _) => {}
                (Some(Touched::Users(set)), Some(u)) => {
                    set.insert(u.clone());
                }
                (None, Some(u)) => touched[i] = Some(Touched::Users(HashSet::from([u.clone()]))),
                (t, None) => *t = Some(Touched::All),
            }
        };
        for v in &self.users {
            for at in [Some(v.valid_from), v.valid_to].into_iter().flatten() {
                mark(at, Some(&v.value.id));
            }
        }
        for v in &self.memberships {
            for at in [Some(v.valid_from), v.valid_to].into_iter().flatten() {
                mark(at, Some(&v.value.user_id));
            }
        }
        macro_rules! bounds {
            ($($kind:ident),*) => {
                $(for v in &self.$kind {
                    for at in [Some(v.valid_from), v.valid_to].into_iter().flatten() {
                        mark(at, None);
                    }
                })*
            };
        }
        bounds!(
            groups,
            folders,
            apps,
            resources,
            workflows,
            grants,
            roles,
            role_grants
        );
        touched
            .into_iter()
            .enumerate()
            .filter_map(|(i, t)| t.map(|t| (i, t)))
            .collect()
    }

    /// The records and memberships of `users` at `snapshots[index]`: with
    /// [`Window::state_without_people`] of an earlier index after which
    /// only users changed, the state there.
    pub fn people_at(&self, index: usize, users: &HashSet<UserId>) -> (Vec<User>, Vec<Membership>) {
        let id = self.snapshots[index].id;
        let mut records = Vec::new();
        let mut memberships = Vec::new();
        for u in users {
            let Some((user_versions, membership_versions)) = self.people.get(u) else {
                continue;
            };
            records.extend(
                user_versions
                    .iter()
                    .map(|&i| &self.users[i])
                    .filter(|v| v.covers(id))
                    .map(|v| v.value.clone()),
            );
            memberships.extend(
                membership_versions
                    .iter()
                    .map(|&i| &self.memberships[i])
                    .filter(|v| v.covers(id))
                    .map(|v| v.value.clone()),
            );
        }
        records.sort_by(|a, b| a.id.cmp(&b.id));
        memberships.sort();
        (records, memberships)
    }

    /// [`Window::state_at`] without users and memberships.
    pub fn state_without_people(&self, index: usize) -> OrgState {
        self.state_at_with(index, false)
    }

    /// The scope's part of the state at snapshot `snapshots[index]`: the
    /// records of the window valid there. The kinds a snapshot did not
    /// collect are marked so, as in a full state.
    pub fn state_at(&self, index: usize) -> OrgState {
        self.state_at_with(index, true)
    }

    /// The state at `index`; with its users and memberships or without them.
    fn state_at_with(&self, index: usize, people: bool) -> OrgState {
        let meta = &self.snapshots[index];
        fn at<T: Clone>(versions: &[Version<T>], id: i64) -> Vec<T> {
            versions
                .iter()
                .filter(|v| v.covers(id))
                .map(|v| v.value.clone())
                .collect()
        }
        let id = meta.id;
        let mut state = OrgState {
            users: if people {
                at(&self.users, id)
            } else {
                Vec::new()
            },
            groups: at(&self.groups, id),
            memberships: if people {
                at(&self.memberships, id)
            } else {
                Vec::new()
            },
            folders: at(&self.folders, id),
            apps: at(&self.apps, id),
            resources: at(&self.resources, id),
            workflows: at(&self.workflows, id),
            grants: at(&self.grants, id),
            roles: at(&self.roles, id),
            role_grants: at(&self.role_grants, id),
            not_collected: meta.not_collected.clone(),
            ..OrgState::default()
        };
        state.mark_unread_kinds(&meta.counts);
        state.normalize();
        state
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use super::*;
    use crate::analyze::timeline::{View, group_view, object_view, user_view};
    use crate::model::{AccessLevel, ObjectId, Subject};

    /// Six snapshots of the sample org, each changing something a view shows.
    fn history(store: &mut Store) -> Vec<SnapshotMeta> {
        let mut s = sample_state();
        let mut metas = vec![write(store, "o", s.clone(), 1)];
        // u3 joins group 2 as group admin; a direct grant on the app.
        s.memberships.push(member(2, "u3", true));
        s.grants.push(grant(
            Subject::User(UserId("u3".into())),
            ObjectType::App,
            "a1",
            AccessLevel::Edit,
        ));
        s.normalize();
        metas.push(write(store, "o", s.clone(), 2));
        // Only last_active moves, and an unrelated app is renamed.
        s.users[0].last_active = Some(t(3, 0));
        s.apps[1].name = "renamed".into();
        metas.push(write(store, "o", s.clone(), 3));
        // Only a membership: u3 leaves group 2 (universal own on apps).
        s.memberships
            .retain(|m| !(m.user_id.0 == "u3" && m.group_id.0 == 2));
        metas.push(write(store, "o", s.clone(), 4));
        // The app moves folder; group 2's universal level drops; u1 demoted.
        s.apps[0].folder_id = Some(ObjectId("f1".into()));
        s.groups[1].universal_app_access = AccessLevel::Use;
        s.users[0].is_admin = false;
        metas.push(write(store, "o", s.clone(), 5));
        // u3 leaves Retool.
        s.users.retain(|u| u.id.0 != "u3");
        s.memberships.retain(|m| m.user_id.0 != "u3");
        s.grants
            .retain(|g| g.subject != Subject::User(UserId("u3".into())));
        metas.push(write(store, "o", s, 6));
        metas
    }

    #[test]
    fn a_window_s_views_are_the_full_state_s_at_every_snapshot() {
        let dir = tmp();
        let mut store = open(&dir.path().join("h.db"));
        let metas = history(&mut store);
        write(&mut store, "other", sample_state(), 7);
        let (first, last) = (metas[0].id, metas[metas.len() - 1].id);
        let full: Vec<OrgState> = metas.iter().map(|m| state_at(&store, m.id)).collect();
        let mut scopes: Vec<Scope> = ["u1", "u2", "u3"]
            .iter()
            .map(|u| Scope::User(UserId((*u).into())))
            .collect();
        scopes.extend([1, 2].map(|g| Scope::Group(GroupId(g))));
        for (t, id) in [
            (ObjectType::App, "a1"),
            (ObjectType::Resource, "r1"),
            (ObjectType::Workflow, "w1"),
        ] {
            scopes.push(Scope::Object(ObjectRef {
                object_type: t,
                id: ObjectId(id.into()),
            }));
        }
        let view = |scope: &Scope, s: &OrgState| -> View {
            match scope {
                Scope::User(u) => user_view(s, u),
                Scope::Group(g) => group_view(s, *g),
                Scope::Object(o) => object_view(s, o),
            }
        };
        for scope in &scopes {
            let w = store.window("o", scope, first, last).unwrap();
            assert_eq!(w.snapshots.len(), metas.len());
            for (i, full_state) in full.iter().enumerate() {
                assert_eq!(
                    view(scope, &w.state_at(i)),
                    view(scope, full_state),
                    "{scope:?} at snapshot {}",
                    i + 1
                );
            }
            // The timeline from the window (incremental where only users
            // changed) is the diff of the full states, snapshot by snapshot.
            let naive: Vec<(usize, crate::analyze::timeline::TimelineChange)> = (1..full.len())
                .flat_map(|i| {
                    crate::analyze::timeline::diff(
                        &view(scope, &full[i - 1]),
                        &view(scope, &full[i]),
                    )
                    .into_iter()
                    .map(move |c| (i, c))
                })
                .collect();
            let got = crate::commands::subject_changes(&w, scope);
            if let Scope::Object(o) = scope {
                // The membership-only snapshot takes the per-user path, and
                // u3's level on the app moves there.
                let points = w.change_points();
                assert!(
                    points.contains(&(3, Touched::Users(HashSet::from([UserId("u3".into())])))),
                    "{points:?}"
                );
                if o.id.0 == "a1" {
                    assert!(
                        got.iter().any(|(i, c)| *i == 3 && c.kind == "user_access"),
                        "{got:?}"
                    );
                }
            }
            assert_eq!(got, naive, "{scope:?}");
            assert!(
                !got.is_empty() || matches!(scope, Scope::User(u) if u.0 == "u2"),
                "{scope:?}"
            );
        }
        // A window of a sub-range starts from that range's first snapshot.
        let w = store
            .window(
                "o",
                &Scope::User(UserId("u3".into())),
                metas[1].id,
                metas[3].id,
            )
            .unwrap();
        assert_eq!(w.snapshots.len(), 3);
        assert_eq!(
            view(&Scope::User(UserId("u3".into())), &w.state_at(0)),
            view(&Scope::User(UserId("u3".into())), &full[1])
        );
    }
}
