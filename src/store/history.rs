//! One record's versions over time: when a membership, a direct grant or a
//! user changed or ended. `review status` reads these to find the snapshot
//! that proves a revocation (indexed by the `<table>_key` indexes). And the
//! counts the report's history charts plot for every snapshot of an org.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::db::{DbResult, Params, Row, params};

use super::error::SqlContext;
use super::{Store, StoreError};
use crate::model::{
    AccessLevel, AccountHistory, GroupId, ObjectRef, SnapshotCounts, SnapshotMeta, UserId,
};

/// One version of a record: part of every snapshot `S` of its org with
/// `valid_from <= S` and (`valid_to` is `None` or `S < valid_to`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Version<T> {
    pub valid_from: i64,
    pub valid_to: Option<i64>,
    pub value: T,
}

/// Whether a version valid from `from` until `to` (exclusive; `None`: still
/// current) is part of snapshot `id`.
fn covers(from: i64, to: Option<i64>, id: i64) -> bool {
    from <= id && to.is_none_or(|t| id < t)
}

impl<T> Version<T> {
    /// Whether this version is part of snapshot `id`.
    pub fn covers(&self, id: i64) -> bool {
        covers(self.valid_from, self.valid_to, id)
    }
}

impl Store {
    /// The versions of `user`'s membership of `group` that were still current
    /// after snapshot `after` (value: `is_group_admin`), oldest first.
    pub fn membership_versions(
        &self,
        org: &str,
        group: GroupId,
        user: &UserId,
        after: i64,
    ) -> Result<Vec<Version<bool>>, StoreError> {
        self.versions(
            "SELECT valid_from, valid_to, is_group_admin FROM memberships \
             WHERE org = ?1 AND group_id = ?2 AND user_id = ?3 \
             AND (valid_to IS NULL OR valid_to > ?4) ORDER BY valid_from",
            params![org, group.0, user.0, after],
            |r| r.get::<_, bool>(2),
        )
    }

    /// The versions of `user` that were still current after snapshot `after`
    /// (value: `active`), oldest first.
    pub fn user_versions(
        &self,
        org: &str,
        user: &UserId,
        after: i64,
    ) -> Result<Vec<Version<bool>>, StoreError> {
        self.versions(
            "SELECT valid_from, valid_to, active FROM users \
             WHERE org = ?1 AND user_id = ?2 \
             AND (valid_to IS NULL OR valid_to > ?3) ORDER BY valid_from",
            params![org, user.0, after],
            |r| r.get::<_, bool>(2),
        )
    }

    /// The versions of `user`'s direct grants on `object` that were still
    /// current after snapshot `after` (value: the level), oldest first.
    pub fn direct_grant_versions(
        &self,
        org: &str,
        user: &UserId,
        object: &ObjectRef,
        after: i64,
    ) -> Result<Vec<Version<AccessLevel>>, StoreError> {
        let raw = self.versions(
            "SELECT valid_from, valid_to, access_level FROM grants \
             WHERE org = ?1 AND subject_type = 'user' AND subject_id = ?2 \
             AND object_type = ?3 AND object_id = ?4 \
             AND (valid_to IS NULL OR valid_to > ?5) ORDER BY valid_from",
            params![org, user.0, object.object_type.as_str(), object.id.0, after],
            |r| r.get::<_, String>(2),
        )?;
        raw.into_iter()
            .map(|v| {
                let level = AccessLevel::parse(&v.value).ok_or_else(|| StoreError::Corrupt {
                    detail: format!(
                        "grants: access level {:?} of user {} on {} {}",
                        v.value, user, object.object_type, object.id
                    ),
                })?;
                Ok(Version {
                    valid_from: v.valid_from,
                    valid_to: v.valid_to,
                    value: level,
                })
            })
            .collect()
    }

    fn versions<T>(
        &self,
        sql: &str,
        params: impl Params,
        value: impl Fn(&Row<'_>) -> DbResult<T>,
    ) -> Result<Vec<Version<T>>, StoreError> {
        let context = "reading a record's history";
        let mut stmt = self.conn.prepare_cached(sql).ctx(&self.path, context)?;
        let rows = stmt
            .query_map(params, |r| {
                Ok(Version {
                    valid_from: r.get(0)?,
                    valid_to: r.get(1)?,
                    value: value(r)?,
                })
            })
            .ctx(&self.path, context)?;
        rows.collect::<DbResult<Vec<_>>>().ctx(&self.path, context)
    }
}

/// Columns `range` of `row` as one text, equal exactly when the values are.
fn columns_text(row: &Row<'_>, range: std::ops::Range<usize>) -> DbResult<String> {
    use super::db::ValueRef;
    use std::fmt::Write as _;
    // Each value tagged with its class, text and blobs with their length:
    // no two different rows give the same text.
    let mut out = String::new();
    for i in range {
        let _ = match row.get_ref(i)? {
            ValueRef::Null => write!(out, "N;"),
            ValueRef::Int(n) => write!(out, "I{n};"),
            ValueRef::Real(f) => write!(out, "R{f:?};"),
            ValueRef::Text(t) => write!(out, "T{}:{};", t.len(), String::from_utf8_lossy(&t)),
            ValueRef::Blob(b) => write!(out, "B{}:{};", b.len(), hex::encode(b)),
        };
    }
    Ok(out)
}

/// The versioned tables whose changes are access changes, each with the
/// columns naming one record and the columns whose change matters (a user's
/// `last_active` moves every night and is not one of them).
const ACCESS_TABLES: [(&str, &str, &str); 10] = [
    (
        "users",
        "user_id",
        "email, first_name, last_name, active, is_admin, user_type, two_factor_enabled",
    ),
    (
        "groups",
        "group_id",
        "name, universal_app_access, universal_resource_access, universal_workflow_access, \
         universal_query_library_access, user_list_access, audit_log_access, \
         unpublished_release_access, usage_analytics_access, theme_access, \
         account_details_access, landing_page_app_id",
    ),
    ("memberships", "group_id, user_id", "is_group_admin"),
    (
        "grants",
        "subject_type, subject_id, object_type, object_id",
        "access_level",
    ),
    (
        "roles",
        "role_id",
        "name, is_default_role, is_legacy_role, object_scopes_json, organization_scopes_json",
    ),
    (
        "role_grants",
        "role_id, subject_type, subject_id, object_type, object_id",
        "1",
    ),
    (
        "configuration_grants",
        "group_id, configuration_id",
        "access_level",
    ),
    ("settings", "source, name", "value"),
    (
        "access_tokens",
        "token_id",
        "label, owner_legacy_id, scopes_json",
    ),
    (
        "user_invites",
        "invite_id",
        "email, user_type, group_ids_json, expires_at, claimed_by",
    ),
];

impl Store {
    /// The account with e-mail `email` (any case) across `org`'s snapshots up
    /// to `up_to`: at each, whether it held access — present, active, and an
    /// admin, in a group not named `default_group`, or holding a direct grant
    /// or a role directly. `None` when no snapshot
    /// held such an account. With several accounts of that e-mail, the newest.
    pub fn account_history(
        &self,
        org: &str,
        email: &str,
        default_group: &str,
        up_to: i64,
    ) -> Result<Option<AccountHistory>, StoreError> {
        let (p, context) = (&self.path, "reading a leaver's history");
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT user_id, active, is_admin, last_active, valid_from, valid_to FROM users \
                 WHERE org = ?1 AND lower(email) = lower(?2) AND valid_from <= ?3 \
                 ORDER BY valid_from",
            )
            .ctx(p, context)?;
        type Row = (String, bool, bool, Option<String>, i64, Option<i64>);
        let versions: Vec<Row> = stmt
            .query_map(params![org, email.trim(), up_to], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ))
            })
            .ctx(p, context)?
            .collect::<DbResult<_>>()
            .ctx(p, context)?;
        let Some(user) = versions.last().map(|v| v.0.clone()) else {
            return Ok(None);
        };
        let versions: Vec<&Row> = versions.iter().filter(|v| v.0 == user).collect();
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT valid_from, valid_to FROM memberships WHERE org = ?1 AND user_id = ?2 \
                 AND valid_from <= ?3 AND group_id NOT IN \
                 (SELECT group_id FROM groups WHERE org = ?1 AND name = ?4)",
            )
            .ctx(p, context)?;
        // The spans in which the account held access beyond the default group.
        let mut held: Vec<(i64, Option<i64>)> = stmt
            .query_map(params![org, user, up_to, default_group], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .ctx(p, context)?
            .collect::<DbResult<_>>()
            .ctx(p, context)?;
        // Direct grants and roles held directly are access too.
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT valid_from, valid_to FROM grants WHERE org = ?1 AND subject_type = 'user' \
                 AND subject_id = ?2 AND valid_from <= ?3 \
                 UNION ALL SELECT valid_from, valid_to FROM role_grants WHERE org = ?1 \
                 AND subject_type = 'user' AND subject_id = ?2 AND valid_from <= ?3",
            )
            .ctx(p, context)?;
        let direct: Vec<(i64, Option<i64>)> = stmt
            .query_map(params![org, user, up_to], |r| Ok((r.get(0)?, r.get(1)?)))
            .ctx(p, context)?
            .collect::<DbResult<_>>()
            .ctx(p, context)?;
        held.extend(direct);
        let access = self
            .snapshots(Some(org))?
            .into_iter()
            .filter(|m| m.id <= up_to)
            .map(|m| {
                let held = versions
                    .iter()
                    .find(|v| covers(v.4, v.5, m.id))
                    .map(|v| v.1 && (v.2 || held.iter().any(|h| covers(h.0, h.1, m.id))));
                (m.as_ref(), m.sha256, held)
            })
            .collect();
        Ok(Some(AccountHistory {
            user_id: UserId(user),
            access,
            last_active: versions
                .iter()
                .filter_map(|v| v.3.as_deref().and_then(super::rows::parse_time))
                .max(),
        }))
    }

    /// The first snapshot of `org` that holds a user whose id is `query` or
    /// whose e-mail is `query` in any case, and the snapshot by which it was
    /// gone (`None`: still there in the latest); `None` when no snapshot
    /// ever held one. For "not in this snapshot, but in …" messages.
    pub fn user_span(
        &self,
        org: &str,
        query: &str,
    ) -> Result<Option<(i64, Option<i64>)>, StoreError> {
        let span: (Option<i64>, Option<i64>, bool) = self
            .conn
            .query_row(
                "SELECT min(valid_from), max(valid_to), count(*) > count(valid_to) FROM users \
                 WHERE org = ?1 AND (user_id = ?2 OR lower(email) = lower(?2))",
                params![org, query.trim()],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .ctx(&self.path, "looking a user up in the history")?;
        Ok(match span {
            (Some(from), _, true) => Some((from, None)),
            (Some(from), to, false) => Some((from, to)),
            (None, _, _) => None,
        })
    }

    /// For every snapshot of `org` up to `up_to`, oldest first: the active
    /// admins, the active users who admin a group, and how many access records
    /// changed since the snapshot before (see [`SnapshotCounts`]). Read from
    /// the versions directly — no snapshot is rebuilt — so a year of nightly
    /// snapshots costs a few table scans.
    pub fn snapshot_counts(
        &self,
        org: &str,
        up_to: i64,
    ) -> Result<Vec<SnapshotCounts>, StoreError> {
        let (p, context) = (&self.path, "counting access across the history");
        let metas: Vec<SnapshotMeta> = self
            .snapshots(Some(org))?
            .into_iter()
            .filter(|m| m.id <= up_to)
            .collect();
        let ids: Vec<i64> = metas.iter().map(|m| m.id).collect();
        // A kind not collected in a snapshot has no versions there: its
        // records would look removed, then added again.
        let collected = |i: usize, table: &str| {
            metas[i]
                .not_collected
                .keys()
                .chain(
                    i.checked_sub(1)
                        .map_or(&BTreeMap::new(), |j| &metas[j].not_collected)
                        .keys(),
                )
                .all(|k| k.as_str() != table)
        };
        let Some(&first) = ids.first() else {
            return Ok(Vec::new());
        };
        let spans = |sql: &str| -> Result<Vec<(String, i64, Option<i64>)>, StoreError> {
            let mut stmt = self.conn.prepare_cached(sql).ctx(p, context)?;
            let rows = stmt
                .query_map(params![org, up_to], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })
                .ctx(p, context)?;
            rows.collect::<DbResult<_>>().ctx(p, context)
        };
        // Active-user versions of everyone who was ever an admin or a group admin.
        let admins = spans(
            "SELECT user_id, valid_from, valid_to FROM users \
             WHERE org = ?1 AND valid_from <= ?2 AND is_admin = 1 AND active = 1",
        )?;
        let group_admin = spans(
            "SELECT user_id, valid_from, valid_to FROM memberships \
             WHERE org = ?1 AND valid_from <= ?2 AND is_group_admin = 1",
        )?;
        let active = spans(
            "SELECT user_id, valid_from, valid_to FROM users \
             WHERE org = ?1 AND valid_from <= ?2 AND active = 1 AND user_id IN \
             (SELECT user_id FROM memberships WHERE org = ?1 AND is_group_admin = 1)",
        )?;
        let mut active_by_user: HashMap<&str, Vec<(i64, Option<i64>)>> = HashMap::new();
        for (u, from, to) in &active {
            active_by_user.entry(u).or_default().push((*from, *to));
        }

        // Access changes: per snapshot and record, the versions that began
        // there against those that ended there; a record changed when the two
        // differ in what matters. A version beginning or ending in a pruned
        // snapshot counts in the next snapshot kept.
        let slot = |event: i64| ids.partition_point(|&id| id < event);
        // (snapshot slot, table, record) -> the compared values of the
        // versions that began there, and of those that ended there.
        type Sides = (Vec<String>, Vec<String>);
        let mut events: HashMap<(usize, usize, String), Sides> = HashMap::new();
        for (t, (table, key, compared)) in ACCESS_TABLES.iter().enumerate() {
            let sql = format!(
                "SELECT valid_from, 1, {key}, {compared} FROM {table} \
                 WHERE org = ?1 AND valid_from > ?2 AND valid_from <= ?3 \
                 UNION ALL \
                 SELECT valid_to, 0, {key}, {compared} FROM {table} \
                 WHERE org = ?1 AND valid_to > ?2 AND valid_to <= ?3"
            );
            let keys = key.split(',').count();
            let values = compared.split(',').count();
            let mut stmt = self.conn.prepare(&sql).ctx(p, context)?;
            let mut rows = stmt.query(params![org, first, up_to]).ctx(p, context)?;
            while let Some(r) = rows.next().ctx(p, context)? {
                let at: i64 = r.get(0).ctx(p, context)?;
                let began: bool = r.get(1).ctx(p, context)?;
                let record = columns_text(&r, 2..2 + keys).ctx(p, context)?;
                let value = columns_text(&r, 2 + keys..2 + keys + values).ctx(p, context)?;
                let entry = events.entry((slot(at), t, record)).or_default();
                if began { &mut entry.0 } else { &mut entry.1 }.push(value);
            }
        }
        let mut changed = vec![0usize; ids.len()];
        for ((at, t, _), (mut began, mut ended)) in events {
            began.sort_unstable();
            ended.sort_unstable();
            if began != ended && at < ids.len() && collected(at, ACCESS_TABLES[t].0) {
                changed[at] += 1;
            }
        }

        Ok(ids
            .iter()
            .enumerate()
            .map(|(i, &s)| {
                let admins = admins.iter().filter(|(_, f, t)| covers(*f, *t, s)).count();
                let group_admins: HashSet<&str> = group_admin
                    .iter()
                    .filter(|(u, f, t)| {
                        covers(*f, *t, s)
                            && active_by_user
                                .get(u.as_str())
                                .is_some_and(|v| v.iter().any(|(f, t)| covers(*f, *t, s)))
                    })
                    .map(|(u, _, _)| u.as_str())
                    .collect();
                SnapshotCounts {
                    snapshot_id: s,
                    admins,
                    group_admins: group_admins.len(),
                    access_changes: (i > 0).then_some(changed[i]),
                }
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use super::*;
    use crate::model::{Grant, Membership, ObjectId, ObjectType, OrgState, Subject};

    fn state(member: Option<bool>, active: bool, level: Option<AccessLevel>) -> OrgState {
        let mut s = OrgState {
            users: vec![user("u1", "u1@x", active)],
            ..Default::default()
        };
        if let Some(admin) = member {
            s.memberships.push(Membership {
                group_id: GroupId(7),
                user_id: UserId("u1".into()),
                is_group_admin: admin,
            });
        }
        if let Some(level) = level {
            s.grants.push(Grant {
                subject: Subject::User(UserId("u1".into())),
                object: app(),
                level,
            });
        }
        s.normalize();
        s
    }

    fn app() -> ObjectRef {
        ObjectRef {
            object_type: ObjectType::App,
            id: ObjectId("a1".into()),
        }
    }

    #[test]
    fn versions_say_when_a_membership_a_grant_and_a_user_changed_or_ended() {
        let dir = tmp();
        let mut store = open(&dir.path().join("h.db"));
        let s1 = write(
            &mut store,
            "o",
            state(Some(true), true, Some(AccessLevel::Edit)),
            1,
        );
        let s2 = write(
            &mut store,
            "o",
            state(Some(false), true, Some(AccessLevel::Use)),
            2,
        );
        let s3 = write(&mut store, "o", state(None, false, None), 3);
        let s4 = write(&mut store, "o", state(Some(false), false, None), 4);
        let u = UserId("u1".into());

        let m = store
            .membership_versions("o", GroupId(7), &u, s1.id)
            .unwrap();
        let spans: Vec<(i64, Option<i64>, bool)> = m
            .iter()
            .map(|v| (v.valid_from, v.valid_to, v.value))
            .collect();
        assert_eq!(
            spans,
            vec![
                (s1.id, Some(s2.id), true),
                (s2.id, Some(s3.id), false),
                (s4.id, None, false)
            ]
        );
        assert!(m[1].covers(s2.id) && !m[1].covers(s3.id) && m[2].covers(s4.id + 10));
        // Versions that ended at or before `after` are left out.
        let later = store
            .membership_versions("o", GroupId(7), &u, s2.id)
            .unwrap();
        assert_eq!(later.len(), 2, "{later:?}");

        let g = store.direct_grant_versions("o", &u, &app(), s1.id).unwrap();
        let levels: Vec<(i64, Option<i64>, AccessLevel)> = g
            .iter()
            .map(|v| (v.valid_from, v.valid_to, v.value))
            .collect();
        assert_eq!(
            levels,
            vec![
                (s1.id, Some(s2.id), AccessLevel::Edit),
                (s2.id, Some(s3.id), AccessLevel::Use)
            ]
        );

        let users = store.user_versions("o", &u, s1.id).unwrap();
        assert_eq!(
            users.last().map(|v| (v.valid_from, v.value)),
            Some((s3.id, false))
        );
        assert!(store.user_versions("other-org", &u, 0).unwrap().is_empty());
    }

    #[test]
    fn snapshot_counts_follow_admins_group_admins_and_access_changes() {
        let dir = tmp();
        let mut store = open(&dir.path().join("h.db"));
        let base = |admin: bool, level: AccessLevel, group_admin: bool| {
            let mut boss = user("u1", "u1@x", true);
            boss.is_admin = admin;
            let mut s = OrgState {
                users: vec![boss, user("u2", "u2@x", true), user("u3", "u3@x", false)],
                memberships: vec![member(7, "u2", group_admin), member(7, "u3", true)],
                grants: vec![grant(
                    Subject::User(UserId("u2".into())),
                    ObjectType::App,
                    "a1",
                    level,
                )],
                ..Default::default()
            };
            s.normalize();
            s
        };
        let s1 = write(&mut store, "o", base(true, AccessLevel::Use, true), 1);
        // Only last_active moves: no access change.
        let mut quiet = base(true, AccessLevel::Use, true);
        quiet.users[0].last_active = Some(t(2, 0));
        let s2 = write(&mut store, "o", quiet, 2);
        // The admin is demoted, the grant raised, the group admin flag dropped.
        let s3 = write(&mut store, "o", base(false, AccessLevel::Edit, false), 3);
        // Memberships not collected: not counted as removed.
        let mut partial = base(false, AccessLevel::Edit, false);
        partial.memberships.clear();
        partial
            .not_collected
            .insert(crate::model::EntityKind::Memberships, "403".into());
        let s4 = write(&mut store, "o", partial, 4);
        write(&mut store, "other", base(true, AccessLevel::Own, true), 5);

        let counts = store.snapshot_counts("o", s4.id).unwrap();
        let got: Vec<(i64, usize, usize, Option<usize>)> = counts
            .iter()
            .map(|c| (c.snapshot_id, c.admins, c.group_admins, c.access_changes))
            .collect();
        // u3 admins group 7 but is disabled: never counted.
        assert_eq!(
            got,
            vec![
                (s1.id, 1, 1, None),
                (s2.id, 1, 1, Some(0)),
                (s3.id, 0, 0, Some(3)),
                (s4.id, 0, 0, Some(0)),
            ]
        );
        assert_eq!(store.snapshot_counts("o", s2.id).unwrap().len(), 2);
        assert!(store.snapshot_counts("nobody", s4.id).unwrap().is_empty());
    }

    #[test]
    fn account_history_counts_groups_other_than_the_default_and_direct_grants() {
        let dir = tmp();
        let mut store = open(&dir.path().join("h.db"));
        let with = |member_of: &[i64], direct: bool, active: bool| {
            let mut s = OrgState {
                users: vec![user("u1", "Leaver@X", active)],
                groups: vec![group(1, "All Users"), group(2, "Eng")],
                memberships: member_of.iter().map(|g| member(*g, "u1", false)).collect(),
                ..Default::default()
            };
            if direct {
                s.grants.push(grant(
                    Subject::User(UserId("u1".into())),
                    ObjectType::App,
                    "a1",
                    AccessLevel::Use,
                ));
            }
            s.normalize();
            s
        };
        let m1 = write(&mut store, "o", with(&[1, 2], false, true), 1);
        let m2 = write(&mut store, "o", with(&[1], true, true), 2);
        let m3 = write(&mut store, "o", with(&[1], false, true), 3);
        let m4 = write(&mut store, "o", with(&[1, 2], false, false), 4);
        let h = store
            .account_history("o", "leaver@x", "All Users", m4.id)
            .unwrap()
            .unwrap();
        let held: Vec<(i64, Option<bool>)> = h.access.iter().map(|(s, _, a)| (s.id, *a)).collect();
        // Eng; a direct grant only; the default group only; disabled.
        assert_eq!(
            held,
            vec![
                (m1.id, Some(true)),
                (m2.id, Some(true)),
                (m3.id, Some(false)),
                (m4.id, Some(false))
            ]
        );
        assert_eq!(h.access[1].1, m2.sha256);
        assert!(
            store
                .account_history("o", "nobody@x", "All Users", m4.id)
                .unwrap()
                .is_none()
        );
    }
}
