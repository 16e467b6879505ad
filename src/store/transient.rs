//! Access that came and went between two snapshots: runs of adjacent
//! versions of one record (an admin flag, a group-admin flag, a membership,
//! a grant, a role grant, a group's universal level, a group's access to an
//! environment's configuration) that began after one snapshot and ended by a
//! later one. Read straight from the versions, so walking every snapshot in
//! between costs the records that changed, not snapshots × rows.

use super::db::params;

use super::error::SqlContext;
use super::{Store, StoreError};
use crate::model::{AccessLevel, SnapshotMeta, TransientAccess, TransientKind, UserId};

/// One kind of run and its SQL (org `?1`, the range `?2..=?3`; columns: the
/// record's key as text, its parts joined by `\u{1f}`, its user id or NULL,
/// the level or NULL, then valid_from and valid_to, ordered by key and
/// valid_from).
struct RunKind {
    kind: TransientKind,
    runs: &'static str,
}

/// A role's name as of snapshot `?3`.
const ROLE_NAME: &str = "SELECT name FROM roles WHERE org = ?1 AND role_id = ?2 AND valid_from <= ?3 \
     ORDER BY valid_from DESC LIMIT 1";

/// A group's name as of snapshot `?3` (its newest version up to then).
const GROUP_NAME: &str = "SELECT name FROM groups WHERE org = ?1 AND group_id = CAST(?2 AS INTEGER) \
     AND valid_from <= ?3 ORDER BY valid_from DESC LIMIT 1";

const KINDS: [RunKind; 7] = [
    RunKind {
        kind: TransientKind::Admin,
        runs: "SELECT user_id, user_id, NULL, valid_from, valid_to FROM users \
               WHERE org = ?1 AND is_admin = 1 AND active = 1 AND valid_from <= ?3 \
               AND (valid_to IS NULL OR valid_to > ?2) ORDER BY user_id, valid_from",
    },
    RunKind {
        kind: TransientKind::GroupAdmin,
        runs: "SELECT CAST(group_id AS TEXT) || char(31) || user_id, user_id, NULL, valid_from, \
               valid_to FROM memberships WHERE org = ?1 AND is_group_admin = 1 \
               AND valid_from <= ?3 AND (valid_to IS NULL OR valid_to > ?2) \
               ORDER BY group_id, user_id, valid_from",
    },
    RunKind {
        kind: TransientKind::Membership,
        runs: "SELECT CAST(group_id AS TEXT) || char(31) || user_id, user_id, NULL, valid_from, \
               valid_to FROM memberships WHERE org = ?1 AND valid_from <= ?3 \
               AND (valid_to IS NULL OR valid_to > ?2) ORDER BY group_id, user_id, valid_from",
    },
    RunKind {
        kind: TransientKind::Grant,
        runs: "SELECT subject_type || char(31) || subject_id || char(31) || object_type \
               || char(31) || object_id, CASE subject_type WHEN 'user' THEN subject_id END, \
               access_level, valid_from, valid_to FROM grants \
               WHERE org = ?1 AND valid_from <= ?3 AND (valid_to IS NULL OR valid_to > ?2) \
               ORDER BY subject_type, subject_id, object_type, object_id, access_level, valid_from",
    },
    RunKind {
        kind: TransientKind::Role,
        runs: "SELECT role_id || char(31) || subject_type || char(31) || subject_id || char(31) \
               || object_type || char(31) || object_id, \
               CASE subject_type WHEN 'user' THEN subject_id END, NULL, valid_from, valid_to \
               FROM role_grants WHERE org = ?1 AND valid_from <= ?3 \
               AND (valid_to IS NULL OR valid_to > ?2) \
               ORDER BY role_id, subject_type, subject_id, object_type, object_id, valid_from",
    },
    RunKind {
        kind: TransientKind::Universal,
        runs: "SELECT CAST(group_id AS TEXT) || char(31) || kind, NULL, level, valid_from, valid_to \
               FROM (SELECT group_id, 'app' AS kind, universal_app_access AS level, valid_from, \
               valid_to FROM groups WHERE org = ?1 AND valid_from <= ?3 \
               AND (valid_to IS NULL OR valid_to > ?2) \
               UNION ALL SELECT group_id, 'resource', universal_resource_access, valid_from, \
               valid_to FROM groups WHERE org = ?1 AND valid_from <= ?3 \
               AND (valid_to IS NULL OR valid_to > ?2) \
               UNION ALL SELECT group_id, 'workflow', universal_workflow_access, valid_from, \
               valid_to FROM groups WHERE org = ?1 AND valid_from <= ?3 \
               AND (valid_to IS NULL OR valid_to > ?2) \
               UNION ALL SELECT group_id, 'query_library', universal_query_library_access, \
               valid_from, valid_to FROM groups WHERE org = ?1 AND valid_from <= ?3 \
               AND (valid_to IS NULL OR valid_to > ?2)) AS levels \
               WHERE level != 'none' ORDER BY group_id, kind, valid_from",
    },
    RunKind {
        kind: TransientKind::EnvironmentAccess,
        runs: "SELECT CAST(group_id AS TEXT) || char(31) || configuration_id, NULL, access_level, \
               valid_from, valid_to FROM configuration_grants WHERE org = ?1 \
               AND valid_from <= ?3 AND (valid_to IS NULL OR valid_to > ?2) \
               ORDER BY group_id, configuration_id, valid_from",
    },
];

/// A run being read: the record's key, its user, its level, its first
/// snapshot and the snapshot by which it was gone (`None`: still there).
type Run = (String, Option<String>, Option<String>, i64, Option<i64>);

impl Store {
    /// Every access of `org` that appeared after snapshot `since` and was
    /// gone again by snapshot `until`, walking every snapshot in between:
    /// an admin flag (on an active account), a group-admin flag, a
    /// membership, a grant (per level), a role grant, a group's universal
    /// level or its access to an environment's configuration (per level). A run seen only in
    /// snapshots that were pruned is left out: no kept snapshot proves it.
    pub fn transient_access(
        &self,
        org: &str,
        since: i64,
        until: i64,
    ) -> Result<Vec<TransientAccess>, StoreError> {
        let (p, context) = (&self.path, "finding access that came and went");
        let kept: Vec<SnapshotMeta> = self.snapshots(Some(org))?;
        let mut out = Vec::new();
        for kind in &KINDS {
            let mut stmt = self.conn.prepare_cached(kind.runs).ctx(p, context)?;
            let mut rows = stmt.query(params![org, since, until]).ctx(p, context)?;
            let mut run: Option<Run> = None;
            let mut finished = Vec::new();
            while let Some(r) = rows.next().ctx(p, context)? {
                let key: String = r.get(0).ctx(p, context)?;
                let user: Option<String> = r.get(1).ctx(p, context)?;
                let level: Option<String> = r.get(2).ctx(p, context)?;
                let from: i64 = r.get(3).ctx(p, context)?;
                let to: Option<i64> = r.get(4).ctx(p, context)?;
                match &mut run {
                    // The same record, the same level, adjacent: one run.
                    Some(open) if open.0 == key && open.2 == level && open.4 == Some(from) => {
                        open.4 = to;
                    }
                    _ => {
                        finished.extend(run.take());
                        run = Some((key, user, level, from, to));
                    }
                }
            }
            finished.extend(run);
            for (key, user, level, start, end) in finished {
                // Appeared after `since`, gone by `until`.
                let Some(end) = end.filter(|&e| start > since && e <= until) else {
                    continue;
                };
                let first = kept.partition_point(|m| m.id < start);
                let last = kept.partition_point(|m| m.id < end);
                if first >= last {
                    continue;
                }
                let (first, last) = (kept[first].as_ref(), kept[last - 1].as_ref());
                out.push(TransientAccess {
                    kind: kind.kind,
                    email: match &user {
                        Some(u) => self.email_of(org, u, last.id)?,
                        None => String::new(),
                    },
                    user_id: user.map(UserId),
                    subject: self.name_of(org, kind.kind, &key, last.id)?,
                    level: level.as_deref().and_then(AccessLevel::parse),
                    first_seen: first,
                    last_seen: last,
                });
            }
        }
        out.sort_by(|a, b| {
            (a.first_seen.id, &a.email, a.kind, &a.subject).cmp(&(
                b.first_seen.id,
                &b.email,
                b.kind,
                &b.subject,
            ))
        });
        Ok(out)
    }

    /// A user's e-mail as of snapshot `at`.
    fn email_of(&self, org: &str, user: &str, at: i64) -> Result<String, StoreError> {
        self.text(
            "SELECT email FROM users WHERE org = ?1 AND user_id = ?2 AND valid_from <= ?3 \
             ORDER BY valid_from DESC LIMIT 1",
            org,
            user,
            at,
        )
        .map(|e| e.unwrap_or_else(|| user.to_string()))
    }

    /// What a run's record is, named as of snapshot `at`: a group, `admin`,
    /// an object (`app Payroll`, with `via group X` for a group's grant), a
    /// role (`role R on app Payroll`).
    fn name_of(
        &self,
        org: &str,
        kind: TransientKind,
        key: &str,
        at: i64,
    ) -> Result<String, StoreError> {
        let parts: Vec<&str> = key.split('\u{1f}').collect();
        let object = |t: &str, id: &str| -> Result<String, StoreError> {
            let (table, column) = match t {
                "app" => ("apps", "app_id"),
                "resource" => ("resources", "resource_id"),
                "workflow" => ("workflows", "workflow_id"),
                "folder" => ("folders", "folder_id"),
                _ => return Ok(format!("{t} {id}")),
            };
            let name = self.text(
                &format!(
                    "SELECT name FROM {table} WHERE org = ?1 AND {column} = ?2 \
                     AND valid_from <= ?3 ORDER BY valid_from DESC LIMIT 1"
                ),
                org,
                id,
                at,
            )?;
            Ok(format!("{t} {}", name.unwrap_or_else(|| id.to_string())))
        };
        let group = |id: &str| -> Result<String, StoreError> {
            Ok(self
                .text(GROUP_NAME, org, id, at)?
                .unwrap_or_else(|| format!("group {id}")))
        };
        Ok(match (kind, parts.as_slice()) {
            (TransientKind::Admin, _) => "admin".to_string(),
            (TransientKind::GroupAdmin | TransientKind::Membership, [g, _]) => group(g)?,
            (TransientKind::Grant, [st, sid, ot, oid]) => {
                let on = object(ot, oid)?;
                if *st == "group" {
                    format!("{on} via group {}", group(sid)?)
                } else {
                    on
                }
            }
            (TransientKind::Role, [role, st, sid, ot, oid]) => {
                let name = self
                    .text(ROLE_NAME, org, role, at)?
                    .unwrap_or_else(|| role.to_string());
                let mut text = format!("role {name}");
                if !ot.is_empty() {
                    text.push_str(&format!(" on {}", object(ot, oid)?));
                }
                if *st == "group" {
                    text.push_str(&format!(" via group {}", group(sid)?));
                }
                text
            }
            (TransientKind::Universal, [g, t]) => {
                let plural = match *t {
                    "query_library" => "the query library".to_string(),
                    t => format!("all {t}s"),
                };
                format!("{plural} via group {}", group(g)?)
            }
            (TransientKind::EnvironmentAccess, [g, configuration]) => {
                let (resource, environment) = self.configuration_names(org, configuration, at)?;
                format!("{resource} ({environment}) via group {}", group(g)?)
            }
            _ => key.to_string(),
        })
    }

    /// A resource configuration's resource and environment names as of
    /// snapshot `at` (ids when the history does not name them).
    fn configuration_names(
        &self,
        org: &str,
        configuration: &str,
        at: i64,
    ) -> Result<(String, String), StoreError> {
        let resource = self
            .text(
                "SELECT resource_name FROM resource_configurations WHERE org = ?1 \
                 AND configuration_id = ?2 AND valid_from <= ?3 ORDER BY valid_from DESC LIMIT 1",
                org,
                configuration,
                at,
            )?
            .unwrap_or_else(|| format!("configuration {configuration}"));
        let environment = self
            .text(
                "SELECT e.name FROM environments e JOIN resource_configurations c \
                 ON c.org = e.org AND c.environment_id = e.environment_id \
                 WHERE c.org = ?1 AND c.configuration_id = ?2 AND c.valid_from <= ?3 \
                 AND e.valid_from <= ?3 ORDER BY c.valid_from DESC, e.valid_from DESC LIMIT 1",
                org,
                configuration,
                at,
            )?
            .unwrap_or_else(|| "environment not listed".to_string());
        Ok((resource, environment))
    }

    fn text(&self, sql: &str, org: &str, key: &str, at: i64) -> Result<Option<String>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(sql)
            .ctx(&self.path, "naming a record")?;
        let mut rows = stmt
            .query(params![org, key, at])
            .ctx(&self.path, "naming a record")?;
        match rows.next().ctx(&self.path, "naming a record")? {
            Some(r) => r.get(0).ctx(&self.path, "naming a record"),
            None => Ok(None),
        }
    }
}
