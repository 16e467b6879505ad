//! One record's versions over time: when a membership, a direct grant or a
//! user changed or ended. `review status` reads these to find the snapshot
//! that proves a revocation (indexed by the `<table>_key` indexes).

use rusqlite::params;

use super::error::SqlContext;
use super::{Store, StoreError};
use crate::model::{AccessLevel, GroupId, ObjectRef, UserId};

/// One version of a record: part of every snapshot `S` of its org with
/// `valid_from <= S` and (`valid_to` is `None` or `S < valid_to`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Version<T> {
    pub valid_from: i64,
    pub valid_to: Option<i64>,
    pub value: T,
}

impl<T> Version<T> {
    /// Whether this version is part of snapshot `id`.
    pub fn covers(&self, id: i64) -> bool {
        self.valid_from <= id && self.valid_to.is_none_or(|to| id < to)
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
        params: impl rusqlite::Params,
        value: impl Fn(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
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
        rows.collect::<rusqlite::Result<Vec<_>>>()
            .ctx(&self.path, context)
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
}
