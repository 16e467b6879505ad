//! A period walked snapshot by snapshot: for each snapshot after the first,
//! the records that changed since the snapshot before — read from where
//! their versions end and begin, not by rebuilding every state — with the
//! records needed to name and rate those changes. `report --since` diffs each
//! step, so access granted and taken away again in between is seen, at the
//! cost of what changed rather than of snapshots × rows.

use std::collections::{BTreeMap, BTreeSet};

use super::db::params;

use super::error::SqlContext;
use super::rows::Versioned;
use super::{Store, StoreError};
use crate::model::{
    AccessLevel, AccessRequest, ConfigurationGrant, EntityKind, Grant, GroupId, Membership,
    OrgState, RoleGrant, SnapshotMeta, Subject, User, UserId,
};

/// One step of a walk: the part of the states at `before` and `after` that
/// changed, and their context. Diffing `old` against `new` gives exactly the
/// changes from the full state at `before` to the full state at `after`.
#[derive(Debug)]
pub struct Step<'m> {
    pub before: &'m SnapshotMeta,
    pub after: &'m SnapshotMeta,
    /// The changed users, memberships, grants, role grants, access requests
    /// and configuration grants as they were at `before`; the users and the
    /// edit/own grants of groups those changes name, unchanged; and the whole
    /// small kinds (groups, the inventory, roles, settings, environments and
    /// resource configurations).
    pub old: OrgState,
    /// The same at `after`.
    pub new: OrgState,
}

/// One kind along a walk: the last snapshot that collected it, this step's
/// changed versions and, for the kinds kept whole or read for context, the
/// current version of every record by key.
struct Track<T: Versioned> {
    kind: EntityKind,
    /// The last snapshot of the walk that collected the kind: a snapshot
    /// that did not is passed over, so changes across it are compared
    /// between the snapshots on either side.
    since: Option<i64>,
    /// Whether this step compares the kind.
    compared: bool,
    /// This step's versions that ended, and those that began.
    ended: Vec<T>,
    began: Vec<T>,
    records: Option<BTreeMap<T::Key, T>>,
}

/// Whether `meta` collected `kind` (in full).
fn collected(meta: &SnapshotMeta, kind: EntityKind) -> bool {
    !meta.not_collected.contains_key(&kind)
        && (!EntityKind::ADDED_LATER.contains(&kind) || meta.counts.contains_key(&kind))
}

/// What a walk does to every track alike.
trait Walked {
    /// Reads what changed by `after`; the kind is compared when `after` and
    /// an earlier snapshot of the walk collected it.
    fn read(&mut self, store: &Store, after: &SnapshotMeta) -> Result<(), StoreError>;
    fn unchanged(&self) -> bool;
    /// Moves the held records to after this step.
    fn apply(&mut self);
    /// Marks the kind not collected in `state` when this step does not
    /// compare it.
    fn mark(&self, state: &mut OrgState, after: &SnapshotMeta);
}

impl<T: Versioned + Clone> Walked for Track<T> {
    fn read(&mut self, store: &Store, after: &SnapshotMeta) -> Result<(), StoreError> {
        self.ended.clear();
        self.began.clear();
        self.compared = false;
        if !collected(after, self.kind) {
            return Ok(());
        }
        match self.since {
            Some(since) => {
                (self.ended, self.began) = store.delta(&after.org, since, after.id)?;
                self.compared = true;
            }
            None => {
                if let Some(records) = &mut self.records {
                    let all: Vec<T> = store.load(&after.org, after.id)?;
                    *records = all.into_iter().map(|r| (r.key(), r)).collect();
                }
            }
        }
        self.since = Some(after.id);
        Ok(())
    }

    fn unchanged(&self) -> bool {
        self.ended.is_empty() && self.began.is_empty()
    }

    fn apply(&mut self) {
        if let Some(records) = &mut self.records {
            for r in &self.ended {
                records.remove(&r.key());
            }
            for r in &self.began {
                records.insert(r.key(), r.clone());
            }
        }
    }

    fn mark(&self, state: &mut OrgState, after: &SnapshotMeta) {
        if !self.compared {
            state.not_collected.entry(self.kind).or_insert_with(|| {
                match after.not_collected.get(&self.kind) {
                    Some(why) => why.clone(),
                    None => "not collected on one side of this step".to_string(),
                }
            });
        }
    }
}

impl<T: Versioned + Clone> Track<T> {
    /// A track starting at `first` with its records there; `keep`: hold
    /// every record (else only each step's changes).
    fn new(first: &SnapshotMeta, records: Vec<T>, keep: bool) -> Self {
        // Every versioned table is spelled like its kind (`Versioned::TABLE`).
        let kind = EntityKind::parse(T::TABLE);
        debug_assert!(kind.is_some(), "{} is not a kind", T::TABLE);
        let kind = kind.unwrap_or(EntityKind::Users);
        Track {
            kind,
            since: collected(first, kind).then_some(first.id),
            compared: false,
            ended: Vec::new(),
            began: Vec::new(),
            records: keep.then(|| records.into_iter().map(|r| (r.key(), r)).collect()),
        }
    }

    fn keys(&self) -> BTreeSet<T::Key> {
        self.ended.iter().chain(&self.began).map(T::key).collect()
    }

    /// Every record held, as they are now.
    fn all(&self) -> Vec<T> {
        self.records
            .iter()
            .flat_map(|r| r.values().cloned())
            .collect()
    }
}

impl Store {
    /// Walks `org`'s snapshots from `from` to `to` (ids, inclusive), calling
    /// `on` for every step where a record changed, oldest first. Versions
    /// that began and ended between two kept snapshots (in pruned ones) are
    /// part of neither state and are not seen.
    pub fn walk_period<E: From<StoreError>>(
        &self,
        org: &str,
        from: i64,
        to: i64,
        on: impl FnMut(Step<'_>) -> Result<(), E>,
    ) -> Result<(), E> {
        let metas: Vec<SnapshotMeta> = self
            .snapshots(Some(org))?
            .into_iter()
            .filter(|m| (from..=to).contains(&m.id))
            .collect();
        self.walk_snapshots(&metas, on)
    }

    /// [`Store::walk_period`] over the given snapshots of one org (oldest
    /// first); a snapshot left out is passed over as a pruned one is.
    pub(crate) fn walk_snapshots<E: From<StoreError>>(
        &self,
        metas: &[SnapshotMeta],
        mut on: impl FnMut(Step<'_>) -> Result<(), E>,
    ) -> Result<(), E> {
        let Some(first) = metas.first() else {
            return Ok(());
        };
        let start = self.state_of(&first.org, first.id, Default::default())?;
        // Changed records only.
        let mut memberships: Track<Membership> = Track::new(first, Vec::new(), false);
        let mut role_grants: Track<RoleGrant> = Track::new(first, Vec::new(), false);
        let mut requests: Track<AccessRequest> = Track::new(first, Vec::new(), false);
        let mut config_grants: Track<ConfigurationGrant> = Track::new(first, Vec::new(), false);
        // Read for context: the changed records and those changes name.
        let mut users = Track::new(first, start.users, true);
        let mut grants = Track::new(first, start.grants, true);
        // Small: kept whole on both sides.
        let mut groups = Track::new(first, start.groups, true);
        let mut folders = Track::new(first, start.folders, true);
        let mut apps = Track::new(first, start.apps, true);
        let mut resources = Track::new(first, start.resources, true);
        let mut workflows = Track::new(first, start.workflows, true);
        let mut roles = Track::new(first, start.roles, true);
        let mut settings = Track::new(first, start.settings, true);
        let mut environments = Track::new(first, start.environments, true);
        let mut configurations = Track::new(first, start.resource_configurations, true);
        // Every track, for what is done to each alike.
        macro_rules! tracks {
            () => {{
                let all: [&mut dyn Walked; 15] = [
                    &mut memberships,
                    &mut role_grants,
                    &mut requests,
                    &mut config_grants,
                    &mut users,
                    &mut grants,
                    &mut groups,
                    &mut folders,
                    &mut apps,
                    &mut resources,
                    &mut workflows,
                    &mut roles,
                    &mut settings,
                    &mut environments,
                    &mut configurations,
                ];
                all
            }};
        }

        for pair in metas.windows(2) {
            let (before, after) = (&pair[0], &pair[1]);
            for t in tracks!() {
                t.read(self, after)?;
            }
            if tracks!().iter().all(|t| t.unchanged()) {
                continue;
            }

            // Context: the users the changed memberships, grants and role
            // grants name; the edit/own grants of the groups whose
            // memberships changed (they make a new membership high risk);
            // and the unchanged grants on the objects whose grants changed,
            // held by the same subject (a change report compares a
            // subject's highest level on each object).
            let changed_users = users.keys();
            let mut named_users: BTreeSet<String> = BTreeSet::new();
            let mut member_groups: BTreeSet<GroupId> = BTreeSet::new();
            for m in memberships.ended.iter().chain(&memberships.began) {
                named_users.insert(m.user_id.0.clone());
                member_groups.insert(m.group_id);
            }
            for g in grants.ended.iter().chain(&grants.began) {
                if let Subject::User(u) = &g.subject {
                    named_users.insert(u.0.clone());
                }
            }
            for g in role_grants.ended.iter().chain(&role_grants.began) {
                if let Some(UserId(u)) = g.user() {
                    named_users.insert(u);
                }
            }
            let held_users = users.records.as_ref();
            let context_users: Vec<User> = named_users
                .iter()
                .filter(|u| !changed_users.contains(*u))
                .filter_map(|u| held_users.and_then(|r| r.get(u)).cloned())
                .collect();
            let changed_grants = grants.keys();
            let regranted: BTreeSet<_> = grants
                .ended
                .iter()
                .chain(&grants.began)
                .map(|g| (&g.subject, &g.object))
                .collect();
            let context_grants: Vec<Grant> = if member_groups.is_empty() && regranted.is_empty() {
                Vec::new()
            } else {
                grants
                    .records
                    .iter()
                    .flatten()
                    .filter(|(k, g)| {
                        !changed_grants.contains(*k)
                            && (regranted.contains(&(&g.subject, &g.object))
                                || (g.level >= AccessLevel::Edit
                                    && matches!(g.subject, Subject::Group(id) if member_groups.contains(&id))))
                    })
                    .map(|(_, g)| g.clone())
                    .collect()
            };

            // The small kinds, whole, on a side of the step.
            macro_rules! with_small_kinds {
                ($changed:expr) => {
                    OrgState {
                        groups: groups.all(),
                        folders: folders.all(),
                        apps: apps.all(),
                        resources: resources.all(),
                        workflows: workflows.all(),
                        roles: roles.all(),
                        settings: settings.all(),
                        environments: environments.all(),
                        resource_configurations: configurations.all(),
                        ..$changed
                    }
                };
            }
            let mut old = with_small_kinds!(OrgState {
                users: [users.ended.clone(), context_users.clone()].concat(),
                memberships: memberships.ended.clone(),
                grants: [grants.ended.clone(), context_grants.clone()].concat(),
                role_grants: role_grants.ended.clone(),
                access_requests: requests.ended.clone(),
                configuration_grants: config_grants.ended.clone(),
                ..OrgState::default()
            });
            for t in tracks!() {
                t.apply();
            }
            let mut new = with_small_kinds!(OrgState {
                users: [std::mem::take(&mut users.began), context_users].concat(),
                memberships: std::mem::take(&mut memberships.began),
                grants: [std::mem::take(&mut grants.began), context_grants].concat(),
                role_grants: std::mem::take(&mut role_grants.began),
                access_requests: std::mem::take(&mut requests.began),
                configuration_grants: std::mem::take(&mut config_grants.began),
                ..OrgState::default()
            });
            for state in [&mut old, &mut new] {
                for t in tracks!() {
                    t.mark(state, after);
                }
                state.normalize();
            }
            on(Step {
                before,
                after,
                old,
                new,
            })?;
        }
        Ok(())
    }

    /// The versions of `T` that ended after snapshot `before` (part of it,
    /// not of `after`) and those that began by `after` (part of it, not of
    /// `before`).
    fn delta<T: Versioned>(
        &self,
        org: &str,
        before: i64,
        after: i64,
    ) -> Result<(Vec<T>, Vec<T>), StoreError> {
        let (p, table) = (&self.path, T::TABLE);
        let context = "reading the changes between two snapshots";
        let columns = T::columns().join(", ");
        let read = |sql: String| -> Result<Vec<T>, StoreError> {
            let mut stmt = self.conn.prepare_cached(&sql).ctx(p, context)?;
            let mut rows = stmt.query(params![org, before, after]).ctx(p, context)?;
            let mut out = Vec::new();
            while let Some(row) = rows.next().ctx(p, context)? {
                out.push(T::from_row(&row, 1).map_err(|e| e.corrupt(table, &row))?);
            }
            Ok(out)
        };
        let ended = read(format!(
            "SELECT rowid, {columns} FROM {table} WHERE org = ?1 AND valid_to > ?2 \
             AND valid_to <= ?3 AND valid_from <= ?2"
        ))?;
        let began = read(format!(
            "SELECT rowid, {columns} FROM {table} WHERE org = ?1 AND valid_from > ?2 \
             AND valid_from <= ?3 AND (valid_to IS NULL OR valid_to > ?3)"
        ))?;
        Ok((ended, began))
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use super::*;
    use crate::analyze::changes::{Change, changes};
    use crate::model::{EntityKind, ObjectType};

    /// Seven snapshots of the sample org changing every kind a change report
    /// compares, one of them not collecting apps.
    fn history(store: &mut Store) -> Vec<SnapshotMeta> {
        let mut s = sample_state();
        let mut metas = vec![write(store, "o", s.clone(), 1)];
        // u3 joins group 2 (universal own) as group admin; a direct grant; a
        // role for u2; 2FA required; a new access request; a configuration
        // grant raised; u1's last_active moves.
        s.memberships.push(member(2, "u3", true));
        s.grants.push(grant(
            Subject::User(UserId("u3".into())),
            ObjectType::App,
            "a1",
            AccessLevel::Edit,
        ));
        s.role_grants.push(RoleGrant {
            role_id: "role-1".into(),
            subject_type: "user".into(),
            subject_id: "u2".into(),
            ..RoleGrant::default()
        });
        s.settings[1].value = "true".into();
        let mut request = s.access_requests[0].clone();
        request.id = 71;
        request.status = "PENDING".into();
        s.access_requests.push(request);
        s.configuration_grants[0].access_level = AccessLevel::Edit;
        s.users[0].last_active = Some(t(3, 0));
        s.normalize();
        metas.push(write(store, "o", s.clone(), 2));
        // Only last_active moves, and an app is renamed; another org writes.
        s.users[0].last_active = Some(t(4, 0));
        s.apps[1].name = "renamed".into();
        metas.push(write(store, "o", s.clone(), 3));
        write(store, "other", sample_state(), 3);
        // Apps not collected.
        let mut partial = s.clone();
        partial.apps.clear();
        partial
            .not_collected
            .insert(EntityKind::Apps, "403 scope missing".into());
        metas.push(write(store, "o", partial, 4));
        // Apps back, one renamed while they were not collected; a group renamed, u1 demoted, a grant removed, a role's
        // scopes changed, an environment and a resource renamed, the request
        // approved.
        s.apps[0].name = "Payroll v2".into();
        s.groups[0].name = "Everyone".into();
        s.users[0].is_admin = false;
        s.grants.retain(|g| g.level != AccessLevel::Use);
        s.roles[0].organization_scopes.push("groups:manage".into());
        s.environments[0].name = "prod".into();
        s.resources[0].name = "prod db (primary)".into();
        s.access_requests[1].status = "APPROVED".into();
        metas.push(write(store, "o", s.clone(), 5));
        // u2 made admin and a member of group 2, for one snapshot.
        let before_u2 = s.clone();
        s.users[1].is_admin = true;
        s.memberships.push(member(2, "u2", false));
        s.normalize();
        metas.push(write(store, "o", s, 6));
        // u2 back as before; u3 leaves Retool.
        let mut s = before_u2;
        s.users.retain(|u| u.id.0 != "u3");
        s.memberships.retain(|m| m.user_id.0 != "u3");
        s.grants
            .retain(|g| g.subject != Subject::User(UserId("u3".into())));
        s.role_grants.retain(|g| g.subject_id != "u3");
        metas.push(write(store, "o", s, 7));
        metas
    }

    /// The changes of every step the walk over `metas` reports, by the
    /// snapshot it ends at.
    fn walked(store: &Store, metas: &[SnapshotMeta]) -> BTreeMap<i64, Vec<Change>> {
        let mut out = BTreeMap::new();
        store
            .walk_snapshots::<StoreError>(metas, |step| {
                out.insert(step.after.id, changes(&step.old, &step.new));
                Ok(())
            })
            .unwrap();
        out
    }

    /// What diffing the full states of each pair of `metas` gives, for the
    /// pairs that differ; a snapshot that did not collect apps holds those
    /// of the snapshot before (the walk compares apps across it).
    fn full(store: &Store, metas: &[SnapshotMeta]) -> BTreeMap<i64, Vec<Change>> {
        let mut states: Vec<OrgState> = metas.iter().map(|m| state_at(store, m.id)).collect();
        for i in 1..states.len() {
            if states[i].not_collected.remove(&EntityKind::Apps).is_some() {
                states[i].apps = states[i - 1].apps.clone();
            }
        }
        metas
            .iter()
            .zip(&states)
            .collect::<Vec<_>>()
            .windows(2)
            .map(|p| (p[1].0.id, changes(p[0].1, p[1].1)))
            .filter(|(_, d)| !d.is_empty())
            .collect()
    }

    #[test]
    fn each_step_gives_the_changes_of_the_full_states() {
        let dir = tmp();
        let mut store = open(&dir.path().join("h.db"));
        let metas = history(&mut store);
        let got = walked(&store, &metas);
        let want = full(&store, &metas);
        // A step with versions but no compared change (last_active only) is
        // walked and gives nothing; every other step gives the full diff.
        let got_nonempty: BTreeMap<_, _> = got.into_iter().filter(|(_, d)| !d.is_empty()).collect();
        assert_eq!(got_nonempty, want);
        // The history is worth the comparison: every step changes something
        // but the one into the snapshot without apps (nothing else changed),
        // the rename made while apps were not collected is seen when they
        // are again, and each kind the sub-states carry context for is among
        // the changes.
        let ids: Vec<i64> = want.keys().copied().collect();
        assert_eq!(ids, [1, 2, 4, 5, 6].map(|i| metas[i].id).to_vec());
        assert!(
            want[&metas[4].id]
                .iter()
                .any(|c| c.entity_id == "a1" && c.new_value == "Payroll v2")
        );
        let all: Vec<&Change> = want.values().flatten().collect();
        for (entity, risk) in [
            ("membership", "high"),
            ("permission", "high"),
            ("role_grant", "high"),
            ("setting", "low"),
            ("access_request", "low"),
            ("environment_access", "high"),
            ("user", "high"),
            ("group", "low"),
            ("app", "low"),
            ("role", "high"),
        ] {
            assert!(
                all.iter()
                    .any(|c| c.entity_type.as_str() == entity && c.risk.as_str() == risk),
                "no {risk} {entity} change in {all:#?}"
            );
        }
        // The walk stays inside its org and range.
        let middle = walked(&store, &metas[2..5]);
        assert_eq!(middle, full(&store, &metas[2..5]));
        assert_eq!(middle.keys().copied().collect::<Vec<_>>(), [metas[4].id]);
    }

    #[test]
    fn a_snapshot_passed_over_hides_what_began_and_ended_in_it() {
        let dir = tmp();
        let mut store = open(&dir.path().join("h.db"));
        let metas = history(&mut store);
        // As if 2, 4 and 6 were pruned: u2's admin run (6 only) is in
        // neither state; what began in 2 and lasted is seen at 3.
        let kept: Vec<SnapshotMeta> = [0, 2, 4, 6].map(|i| metas[i].clone()).to_vec();
        let got = walked(&store, &kept);
        assert_eq!(got, full(&store, &kept));
        let last = &got[&metas[6].id];
        assert!(
            !last
                .iter()
                .any(|c| c.entity_id == "u2" || c.entity_id == "2:u2"),
            "{last:#?}"
        );
        assert!(
            got[&metas[2].id]
                .iter()
                .any(|c| c.entity_id == "2:u3" && c.risk.as_str() == "high")
        );
    }
}
