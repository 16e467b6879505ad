//! Reading the history: snapshot listings, selectors (`latest`, an id, a date),
//! the exact state of any snapshot, runs, and "disabled since" lookups.

use std::collections::BTreeMap;
use std::str::FromStr;

use super::db::{DbResult, OptionalExtension, Row, params};
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};

use super::error::SqlContext;
use super::rows::{Versioned, parse_time};
use super::{Store, StoreError};
use crate::model::{DisabledWindow, OrgState, RunRecord, SnapshotMeta, SnapshotRef, UserId};

/// Which snapshot a command means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnapshotSelector {
    /// The newest snapshot.
    Latest,
    /// A snapshot by id.
    Id(i64),
    /// The last snapshot taken (finished) on or before this time.
    OnOrBefore(DateTime<Utc>),
}

/// A snapshot selector that is none of `latest`, an id, a date or a time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{input}` is not a snapshot: use `latest`, a snapshot id like 42, a date like 2026-11-01 (end of that day, UTC) or an RFC 3339 time like 2026-11-01T12:00:00Z"
)]
pub struct ParseSelectorError {
    pub input: String,
}

impl FromStr for SnapshotSelector {
    type Err = ParseSelectorError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        if t.eq_ignore_ascii_case("latest") {
            return Ok(SnapshotSelector::Latest);
        }
        if let Ok(id) = t.parse::<i64>() {
            if id > 0 {
                return Ok(SnapshotSelector::Id(id));
            }
        }
        if let Ok(day) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
            let end = NaiveTime::from_hms_nano_opt(23, 59, 59, 999_999_999);
            if let Some(end) = end {
                return Ok(SnapshotSelector::OnOrBefore(day.and_time(end).and_utc()));
            }
        }
        if let Some(time) = parse_time(t) {
            return Ok(SnapshotSelector::OnOrBefore(time));
        }
        Err(ParseSelectorError {
            input: super::rows::truncate(s),
        })
    }
}

const META_COLUMNS: &str =
    "id, org, info_json, counts_json, not_collected_json, sha256, prev_sha256";

fn corrupt_json(id: i64, column: &str, e: serde_json::Error) -> StoreError {
    StoreError::Corrupt {
        detail: format!("snapshot {id}: column {column} is not the expected JSON ({e})"),
    }
}

/// A `snapshots` row as read, before its JSON columns are decoded.
struct MetaRow {
    id: i64,
    org: String,
    info_json: String,
    counts_json: String,
    not_collected_json: String,
    sha256: String,
    prev_sha256: Option<String>,
}

impl MetaRow {
    fn read(r: &Row<'_>) -> DbResult<MetaRow> {
        Ok(MetaRow {
            id: r.get(0)?,
            org: r.get(1)?,
            info_json: r.get(2)?,
            counts_json: r.get(3)?,
            not_collected_json: r.get(4)?,
            sha256: r.get(5)?,
            prev_sha256: r.get(6)?,
        })
    }

    fn decode(self) -> Result<SnapshotMeta, StoreError> {
        let id = self.id;
        Ok(SnapshotMeta {
            id,
            org: self.org,
            info: serde_json::from_str(&self.info_json)
                .map_err(|e| corrupt_json(id, "info_json", e))?,
            counts: serde_json::from_str(&self.counts_json)
                .map_err(|e| corrupt_json(id, "counts_json", e))?,
            not_collected: serde_json::from_str(&self.not_collected_json)
                .map_err(|e| corrupt_json(id, "not_collected_json", e))?,
            sha256: self.sha256,
            prev_sha256: self.prev_sha256,
        })
    }
}

/// One `snapshots` row for `verify`: its id and org as stored, and its
/// metadata or why that does not decode.
pub(crate) struct ListedSnapshot {
    pub id: i64,
    pub org: String,
    pub meta: Result<SnapshotMeta, StoreError>,
}

impl Store {
    /// Every snapshot in ascending id order, each decoded on its own, so one
    /// unreadable row does not hide the others.
    pub(crate) fn snapshot_rows(&self) -> Result<Vec<ListedSnapshot>, StoreError> {
        let p = &self.path;
        let mut stmt = self
            .conn
            .prepare(&format!("SELECT {META_COLUMNS} FROM snapshots ORDER BY id"))
            .ctx(p, "listing snapshots")?;
        let rows = stmt
            .query_map((), MetaRow::read)
            .ctx(p, "listing snapshots")?;
        let mut out = Vec::new();
        for row in rows {
            let row = row.ctx(p, "listing snapshots")?;
            out.push(ListedSnapshot {
                id: row.id,
                org: row.org.clone(),
                meta: row.decode(),
            });
        }
        Ok(out)
    }

    /// Snapshots in ascending id order, of one org or of all.
    pub fn snapshots(&self, org: Option<&str>) -> Result<Vec<SnapshotMeta>, StoreError> {
        let p = &self.path;
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT {META_COLUMNS} FROM snapshots WHERE CAST(?1 AS TEXT) IS NULL OR org = ?1 ORDER BY id"
            ))
            .ctx(p, "listing snapshots")?;
        let rows = stmt
            .query_map([org], MetaRow::read)
            .ctx(p, "listing snapshots")?;
        let mut out = Vec::new();
        for row in rows {
            out.push(row.ctx(p, "listing snapshots")?.decode()?);
        }
        Ok(out)
    }

    /// One snapshot's metadata.
    pub fn snapshot(&self, id: i64) -> Result<SnapshotMeta, StoreError> {
        self.conn
            .query_row(
                &format!("SELECT {META_COLUMNS} FROM snapshots WHERE id = ?1"),
                [id],
                MetaRow::read,
            )
            .optional()
            .ctx(&self.path, "reading a snapshot")?
            .ok_or(StoreError::SnapshotNotFound { id })?
            .decode()
    }

    /// The snapshot a selector means, within `org` when given.
    pub fn resolve(
        &self,
        org: Option<&str>,
        selector: &SnapshotSelector,
    ) -> Result<SnapshotMeta, StoreError> {
        let no_snapshots = || StoreError::NoSnapshots {
            org: org.unwrap_or("any").to_string(),
        };
        match *selector {
            SnapshotSelector::Id(id) => {
                let meta = self.snapshot(id)?;
                match org {
                    Some(o) if o != meta.org => Err(StoreError::SnapshotNotFound { id }),
                    _ => Ok(meta),
                }
            }
            SnapshotSelector::Latest => {
                let id: Option<i64> = self
                    .conn
                    .query_row(
                        "SELECT max(id) FROM snapshots WHERE CAST(?1 AS TEXT) IS NULL OR org = ?1",
                        [org],
                        |r| r.get(0),
                    )
                    .ctx(&self.path, "finding the latest snapshot")?;
                self.snapshot(id.ok_or_else(no_snapshots)?)
            }
            SnapshotSelector::OnOrBefore(when) => {
                // Times are compared as times, not as text: RFC 3339 strings with
                // different sub-second digits do not sort correctly.
                let all = self.snapshots(org)?;
                if all.is_empty() {
                    return Err(no_snapshots());
                }
                all.into_iter()
                    .filter(|m| m.taken_at() <= when)
                    .max_by_key(|m| (m.taken_at(), m.id))
                    .ok_or_else(|| StoreError::NoSnapshotBefore {
                        when: super::rows::time_text(&when),
                    })
            }
        }
    }

    /// The same org's snapshot before `meta`, if any.
    pub fn previous(&self, meta: &SnapshotMeta) -> Result<Option<SnapshotMeta>, StoreError> {
        let id: Option<i64> = self
            .conn
            .query_row(
                "SELECT max(id) FROM snapshots WHERE org = ?1 AND id < ?2",
                params![meta.org, meta.id],
                |r| r.get(0),
            )
            .ctx(&self.path, "finding the previous snapshot")?;
        id.map(|id| self.snapshot(id)).transpose()
    }

    /// Every collection attempt in ascending id order, of one org or of all.
    pub fn runs(&self, org: Option<&str>) -> Result<Vec<RunRecord>, StoreError> {
        let p = &self.path;
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT id, org, source_url, started_at, finished_at, status, error, snapshot_id \
                 FROM runs WHERE CAST(?1 AS TEXT) IS NULL OR org = ?1 ORDER BY id",
            )
            .ctx(p, "listing runs")?;
        let mut rows = stmt.query([org]).ctx(p, "listing runs")?;
        let mut out = Vec::new();
        while let Some(r) = rows.next().ctx(p, "listing runs")? {
            let id: i64 = r.get(0).ctx(p, "listing runs")?;
            let time = |i: usize, col: &str| -> Result<DateTime<Utc>, StoreError> {
                let s: String = r.get(i).ctx(p, "listing runs")?;
                parse_time(&s).ok_or_else(|| StoreError::Corrupt {
                    detail: format!(
                        "run {id}: {col} `{}` is not a time",
                        super::rows::truncate(&s)
                    ),
                })
            };
            out.push(RunRecord {
                id,
                org: r.get(1).ctx(p, "listing runs")?,
                source_url: r.get(2).ctx(p, "listing runs")?,
                started_at: time(3, "started_at")?,
                finished_at: time(4, "finished_at")?,
                status: r.get(5).ctx(p, "listing runs")?,
                error: r.get(6).ctx(p, "listing runs")?,
                snapshot_id: r.get(7).ctx(p, "listing runs")?,
            });
        }
        Ok(out)
    }

    /// The organizations with snapshots or runs in this file, sorted.
    pub fn orgs(&self) -> Result<Vec<String>, StoreError> {
        let p = &self.path;
        let mut stmt = self
            .conn
            .prepare_cached("SELECT org FROM snapshots UNION SELECT org FROM runs ORDER BY org")
            .ctx(p, "listing organizations")?;
        let rows = stmt
            .query_map((), |r| r.get::<_, String>(0))
            .ctx(p, "listing organizations")?;
        rows.collect::<DbResult<Vec<_>>>()
            .ctx(p, "listing organizations")
    }

    /// The organization's state exactly as collected for `snapshot_id`.
    pub fn state_at(&self, snapshot_id: i64) -> Result<OrgState, StoreError> {
        // One consistent view across the tables' reads (a prune may commit
        // in between); dropped, it ends without having written anything.
        let _view = self.begin(super::db::Begin::Read)?;
        let meta = self.snapshot(snapshot_id)?;
        let mut state = self.state_of(&meta.org, snapshot_id, meta.not_collected)?;
        state.mark_unread_kinds(&meta.counts);
        Ok(state)
    }

    pub(crate) fn state_of(
        &self,
        org: &str,
        id: i64,
        not_collected: BTreeMap<crate::model::EntityKind, String>,
    ) -> Result<OrgState, StoreError> {
        let mut state = OrgState {
            users: self.load(org, id)?,
            groups: self.load(org, id)?,
            memberships: self.load(org, id)?,
            folders: self.load(org, id)?,
            apps: self.load(org, id)?,
            resources: self.load(org, id)?,
            workflows: self.load(org, id)?,
            grants: self.load(org, id)?,
            user_invites: self.load(org, id)?,
            access_tokens: self.load(org, id)?,
            roles: self.load(org, id)?,
            role_grants: self.load(org, id)?,
            access_requests: self.load(org, id)?,
            settings: self.load(org, id)?,
            usage: self.load(org, id)?,
            environments: self.load(org, id)?,
            resource_configurations: self.load(org, id)?,
            configuration_grants: self.load(org, id)?,
            app_usage: self.load(org, id)?,
            not_collected,
        };
        state.normalize();
        Ok(state)
    }

    /// The versions of one table that are part of snapshot `id` of `org`.
    pub(super) fn load<T: Versioned>(&self, org: &str, id: i64) -> Result<Vec<T>, StoreError> {
        let p = &self.path;
        let table = T::TABLE;
        let context = "reading a snapshot's records";
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT rowid, {} FROM {table} WHERE org = ?1 AND valid_from <= ?2 \
                 AND (valid_to IS NULL OR valid_to > ?2)",
                T::columns().join(", ")
            ))
            .ctx(p, context)?;
        let mut rows = stmt.query(params![org, id]).ctx(p, context)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().ctx(p, context)? {
            out.push(T::from_row(&row, 1).map_err(|e| e.corrupt(table, &row))?);
        }
        Ok(out)
    }

    /// For every user disabled in `snapshot_id`: the first snapshot of the
    /// unbroken run of snapshots, ending there, in which the user was present and
    /// disabled, and the last snapshot before it in which the user was present
    /// and active. Users already disabled in the org's first snapshot are left
    /// out (since when is unknown).
    pub fn disabled_since(
        &self,
        snapshot_id: i64,
    ) -> Result<BTreeMap<UserId, DisabledWindow>, StoreError> {
        let meta = self.snapshot(snapshot_id)?;
        let p = &self.path;
        let context = "reading disabled users' history";
        let kept: Vec<SnapshotMeta> = self.snapshots(Some(&meta.org))?;
        let Some(first) = kept.first().map(|m| m.id) else {
            return Ok(BTreeMap::new());
        };
        // The last kept snapshot before `id` (a version's end may be pruned).
        let before = |id: i64| -> Option<SnapshotRef> {
            let i = kept.partition_point(|m| m.id < id);
            i.checked_sub(1).map(|j| kept[j].as_ref())
        };
        // Versions of users disabled at S, newest first per user.
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT user_id, active, valid_from, valid_to FROM users \
                 WHERE org = ?1 AND valid_from <= ?2 AND user_id IN ( \
                   SELECT user_id FROM users WHERE org = ?1 AND active = 0 \
                   AND valid_from <= ?2 AND (valid_to IS NULL OR valid_to > ?2)) \
                 ORDER BY user_id, valid_from DESC",
            )
            .ctx(p, context)?;
        let mut rows = stmt.query(params![meta.org, snapshot_id]).ctx(p, context)?;
        // user -> (start of the run so far, whether the run is still
        // extendable, the end of the newest active version before it)
        let mut runs: BTreeMap<String, (i64, bool, Option<i64>)> = BTreeMap::new();
        while let Some(r) = rows.next().ctx(p, context)? {
            let user: String = r.get(0).ctx(p, context)?;
            let active: bool = r.get(1).ctx(p, context)?;
            let from: i64 = r.get(2).ctx(p, context)?;
            let to: Option<i64> = r.get(3).ctx(p, context)?;
            match runs.get_mut(&user) {
                None => {
                    // The version current at S (newest with valid_from <= S).
                    runs.insert(user, (from, true, None));
                }
                Some((start, open, last_active)) => {
                    // Extend back only through adjacent, still-disabled versions.
                    if *open && !active && to == Some(*start) {
                        *start = from;
                    } else {
                        *open = false;
                        if active && last_active.is_none() {
                            *last_active = to;
                        }
                    }
                }
            }
        }
        let mut out = BTreeMap::new();
        for (user, (start, _, last_active)) in runs {
            if start == first {
                continue;
            }
            let disabled_since = self.snapshot(start)?.as_ref();
            out.insert(
                UserId(user),
                DisabledWindow {
                    last_seen_active: last_active.and_then(before),
                    disabled_since,
                },
            );
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use super::*;

    #[test]
    fn selectors_parse_latest_ids_dates_and_times() {
        assert_eq!("latest".parse(), Ok(SnapshotSelector::Latest));
        assert_eq!(" LATEST ".parse(), Ok(SnapshotSelector::Latest));
        assert_eq!("42".parse(), Ok(SnapshotSelector::Id(42)));
        let end_of_day = "2026-11-01T23:59:59.999999999Z"
            .parse::<DateTime<Utc>>()
            .ok();
        assert_eq!(
            "2026-11-01".parse::<SnapshotSelector>().ok(),
            end_of_day.map(SnapshotSelector::OnOrBefore)
        );
        assert_eq!(
            "2026-11-01T04:00:00+02:00".parse::<SnapshotSelector>().ok(),
            Some(SnapshotSelector::OnOrBefore(t(1, 0)))
        );
        for bad in ["", "yesterday", "-3", "0", "2026-13-01", "<script>"] {
            let err = bad.parse::<SnapshotSelector>();
            assert!(err.is_err(), "{bad:?} parsed");
            let msg = err.err().map(|e| e.to_string()).unwrap_or_default();
            assert!(msg.contains("latest"), "{msg}");
        }
    }

    #[test]
    fn resolve_by_id_latest_and_date() {
        let dir = tmp();
        let path = dir.path().join("h.db");
        let mut store = open(&path);
        assert!(matches!(
            store.resolve(None, &SnapshotSelector::Latest),
            Err(StoreError::NoSnapshots { .. })
        ));
        let s = sample_state();
        let m3 = write(&mut store, "acme", s.clone(), 3); // 2026-11-03T02:00:00.0015Z
        let m5 = write(&mut store, "acme", s.clone(), 5);
        let other = write(&mut store, "beta", s.clone(), 6);

        let r = |org, sel: &str| {
            sel.parse::<SnapshotSelector>()
                .ok()
                .and_then(|sel| store.resolve(org, &sel).ok())
                .map(|m| m.id)
        };
        assert_eq!(r(Some("acme"), "latest"), Some(m5.id));
        assert_eq!(r(None, "latest"), Some(other.id));
        assert_eq!(r(Some("acme"), &m3.id.to_string()), Some(m3.id));
        assert_eq!(r(Some("acme"), "2026-11-04"), Some(m3.id));
        assert_eq!(r(Some("acme"), "2026-11-05"), Some(m5.id));
        assert_eq!(r(Some("acme"), "2026-12-31"), Some(m5.id));
        // Exactly at the snapshot time counts; a microsecond before does not.
        assert_eq!(r(Some("acme"), "2026-11-03T02:00:00.0015Z"), Some(m3.id));
        assert!(matches!(
            store.resolve(Some("acme"), &SnapshotSelector::OnOrBefore(t(3, 1_499_000))),
            Err(StoreError::NoSnapshotBefore { .. })
        ));
        // An id of another org is not found within this org.
        assert!(matches!(
            store.resolve(Some("acme"), &SnapshotSelector::Id(other.id)),
            Err(StoreError::SnapshotNotFound { .. })
        ));
        assert!(matches!(
            store.snapshot(999),
            Err(StoreError::SnapshotNotFound { id: 999 })
        ));
        assert!(matches!(
            store.state_at(999),
            Err(StoreError::SnapshotNotFound { id: 999 })
        ));
        assert!(matches!(
            store.resolve(Some("nobody"), &SnapshotSelector::Latest),
            Err(StoreError::NoSnapshots { .. })
        ));

        assert_eq!(
            store.previous(&m5).ok().flatten().map(|m| m.id),
            Some(m3.id)
        );
        assert_eq!(store.previous(&m3).ok().flatten(), None);
        assert_eq!(
            store.previous(&other).ok().flatten(),
            None,
            "previous stays in its org"
        );
        let runs = store.runs(Some("acme")).unwrap_or_default();
        let snap_ids: Vec<Option<i64>> = runs.iter().map(|r| r.snapshot_id).collect();
        assert_eq!(snap_ids, vec![Some(m3.id), Some(m5.id)]);
        assert!(runs.iter().all(|r| r.status == "ok"));
    }

    #[test]
    fn disabled_since_finds_the_start_of_the_current_disabled_run() {
        let dir = tmp();
        let mut store = open(&dir.path().join("h.db"));
        let base = |users: Vec<crate::model::User>| {
            let mut s = crate::model::OrgState {
                users,
                ..Default::default()
            };
            s.normalize();
            s
        };
        // early: disabled from the first snapshot (unknown since when).
        // flip: disabled at 2, enabled at 3, disabled again at 4 → since 4.
        // steady: disabled at 2, other field changes at 3, still disabled → since 2.
        // gone: disabled at 2, absent at 3, back disabled at 4 → since 4.
        // fine: never disabled.
        let s1 = base(vec![
            user("early", "e@x", false),
            user("flip", "f@x", true),
            user("steady", "s@x", true),
            user("gone", "g@x", true),
            user("fine", "ok@x", true),
        ]);
        let s2 = base(vec![
            user("early", "e@x", false),
            user("flip", "f@x", false),
            user("steady", "s@x", false),
            user("gone", "g@x", false),
            user("fine", "ok@x", true),
        ]);
        let mut steady3 = user("steady", "s@x", false);
        steady3.last_active = Some(t(3, 0));
        let s3 = base(vec![
            user("early", "e@x", false),
            user("flip", "f@x", true),
            steady3.clone(),
            user("fine", "ok@x", true),
        ]);
        let s4 = base(vec![
            user("early", "e@x", false),
            user("flip", "f@x", false),
            steady3,
            user("gone", "g@x", false),
            user("fine", "ok@x", true),
        ]);
        let m1 = write(&mut store, "default", s1, 1);
        let m2 = write(&mut store, "default", s2, 2);
        let m3 = write(&mut store, "default", s3, 3);
        let m4 = write(&mut store, "default", s4, 4);

        let since = store.disabled_since(m4.id).unwrap_or_default();
        // (user, last seen active, disabled since)
        let got: Vec<(&str, Option<i64>, i64)> = since
            .iter()
            .map(|(u, w)| {
                (
                    u.0.as_str(),
                    w.last_seen_active.map(|r| r.id),
                    w.disabled_since.id,
                )
            })
            .collect();
        // flip: active again in 3. gone: last active in 1 (absent in 3).
        assert_eq!(
            got,
            vec![
                ("flip", Some(m3.id), m4.id),
                ("gone", Some(m1.id), m4.id),
                ("steady", Some(m1.id), m2.id)
            ]
        );
        assert_eq!(
            since
                .get(&UserId("steady".into()))
                .map(|w| w.disabled_since.taken_at),
            Some(m2.info.finished_at)
        );

        // As of snapshot 2 all three were disabled since 2, active in 1;
        // `early` is unknown.
        let at2 = store.disabled_since(m2.id).unwrap_or_default();
        assert_eq!(at2.len(), 3);
        assert!(at2.values().all(
            |w| w.disabled_since.id == m2.id && w.last_seen_active.map(|r| r.id) == Some(m1.id)
        ));
        assert!(store.disabled_since(m1.id).is_ok_and(|m| m.is_empty()));
    }
}
