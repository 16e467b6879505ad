//! Retention: `prune` removes old snapshots while every kept snapshot reads
//! back exactly as before (`state_at` and its recomputed hash are unchanged) and
//! the hash chain stays verifiable across the gap through `pruned_snapshots`.
//!
//! How versions are kept exact: a version row belongs to snapshot `S` iff
//! `valid_from <= S < valid_to`. For each org, with `K` the kept snapshots:
//! - a version that covers no kept snapshot is deleted;
//! - a `valid_from` naming a removed snapshot moves to the first kept snapshot
//!   after it (the version covers it, or it would have been deleted);
//! - a `valid_to` naming a removed snapshot moves to the first kept snapshot
//!   after it (there always is one: an org's latest snapshot is never removed).
//!
//! Both moves skip only removed snapshots, so the kept snapshots each version
//! covers are the same before and after, and no row content changes: every
//! kept snapshot's records, and so its content hash, are exactly as written.

use std::collections::{BTreeMap, BTreeSet};

use super::db::{Begin, Db, DbResult, params};
use chrono::{DateTime, Datelike, Duration, Utc};

use super::error::SqlContext;
use super::rows::{parse_time, time_text};
use super::{Store, StoreError};
use crate::model::{EntityKind, SnapshotRef};

/// Which snapshots `prune` keeps (besides each org's latest and those a review
/// campaign refers to, which are always kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionPolicy {
    /// Keep every snapshot taken at or after `now - keep_days` days.
    pub keep_days: u32,
    /// Keep the newest snapshot of each of the `keep_monthly` most recent
    /// calendar months (UTC) that have snapshots.
    pub keep_monthly: u32,
    /// Only this org; every org when `None`.
    pub org: Option<String>,
    pub now: DateTime<Utc>,
}

/// Why a snapshot is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum KeepReason {
    /// The org's latest snapshot: never removed.
    Latest,
    /// Taken within `keep_days`.
    Recent,
    /// The newest of its month, within `keep_monthly`.
    Monthly,
    /// A review campaign refers to it.
    ReviewCampaign,
}

impl KeepReason {
    pub fn as_str(self) -> &'static str {
        match self {
            KeepReason::Latest => "latest",
            KeepReason::Recent => "recent",
            KeepReason::Monthly => "monthly",
            KeepReason::ReviewCampaign => "review campaign",
        }
    }
}

/// What `prune` did (or, in a dry run, would do) to one org.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgPrune {
    pub org: String,
    /// Kept snapshots, oldest first, with every reason each is kept.
    pub kept: Vec<(SnapshotRef, Vec<KeepReason>)>,
    /// Removed snapshots, oldest first.
    pub removed: Vec<SnapshotRef>,
    /// Version rows deleted because no kept snapshot contains them.
    pub versions_deleted: usize,
    /// `runs` rows deleted: the ok runs of removed snapshots, and failed runs
    /// that started before the oldest kept snapshot.
    pub runs_deleted: usize,
}

/// What `prune` did to every org it looked at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PruneOutcome {
    pub orgs: Vec<OrgPrune>,
    /// False for a dry run: everything was computed, then rolled back.
    pub applied: bool,
}

impl PruneOutcome {
    pub fn removed(&self) -> usize {
        self.orgs.iter().map(|o| o.removed.len()).sum()
    }
}

/// The snapshots to keep, with their reasons. `snapshots` are one org's, in
/// any order; the newest (highest id) is always kept.
pub(crate) fn choose_kept(
    snapshots: &[SnapshotRef],
    policy: &RetentionPolicy,
    referenced: &BTreeSet<i64>,
) -> BTreeMap<i64, Vec<KeepReason>> {
    let mut kept: BTreeMap<i64, BTreeSet<KeepReason>> = BTreeMap::new();
    let mut keep = |id: i64, why: KeepReason| {
        kept.entry(id).or_default().insert(why);
    };
    if let Some(latest) = snapshots.iter().map(|s| s.id).max() {
        keep(latest, KeepReason::Latest);
    }
    let cutoff = policy.now - Duration::days(i64::from(policy.keep_days));
    // The newest snapshot of each month, months newest first.
    let mut newest_of_month: BTreeMap<(i32, u32), &SnapshotRef> = BTreeMap::new();
    for s in snapshots {
        if policy.keep_days > 0 && s.taken_at >= cutoff {
            keep(s.id, KeepReason::Recent);
        }
        if referenced.contains(&s.id) {
            keep(s.id, KeepReason::ReviewCampaign);
        }
        let month = (s.taken_at.year(), s.taken_at.month());
        let newer = newest_of_month
            .get(&month)
            .is_none_or(|m| (s.taken_at, s.id) > (m.taken_at, m.id));
        if newer {
            newest_of_month.insert(month, s);
        }
    }
    let months = usize::try_from(policy.keep_monthly).unwrap_or(usize::MAX);
    for s in newest_of_month.values().rev().take(months) {
        keep(s.id, KeepReason::Monthly);
    }
    kept.into_iter()
        .map(|(id, why)| (id, why.into_iter().collect()))
        .collect()
}

/// A `snapshots` row as prune reads it.
struct SnapshotRow {
    id: i64,
    taken_at: DateTime<Utc>,
}

impl Store {
    /// Removes the snapshots `policy` does not keep, in one transaction, and
    /// records each in `pruned_snapshots`. With `dry_run` the same work is done
    /// and rolled back, so the outcome is exactly what a real run would do.
    pub fn prune(
        &mut self,
        policy: &RetentionPolicy,
        dry_run: bool,
    ) -> Result<PruneOutcome, StoreError> {
        let path = self.path.clone();
        let p = path.as_path();
        let tx = self
            .conn
            .begin(Begin::Write)
            .ctx(p, "starting the prune transaction")?;
        let orgs: Vec<String> = match &policy.org {
            Some(org) => vec![org.clone()],
            None => {
                let mut stmt = tx
                    .prepare("SELECT DISTINCT org FROM snapshots ORDER BY org")
                    .ctx(p, "listing organizations")?;
                let rows = stmt
                    .query_map((), |r| r.get(0))
                    .ctx(p, "listing organizations")?;
                rows.collect::<DbResult<Vec<String>>>()
                    .ctx(p, "listing organizations")?
            }
        };
        let referenced = review_campaign_snapshots(&tx).ctx(p, "reading review campaigns")?;
        let pruned_at = time_text(&policy.now);
        let mut outcome = PruneOutcome {
            orgs: Vec::new(),
            applied: !dry_run,
        };
        for org in orgs {
            // On PostgreSQL, no snapshot of this org is written meanwhile.
            tx.lock_org_in_transaction(&org)
                .ctx(p, "waiting for the organization's write lock")?;
            let snapshots = org_snapshots(&tx, p, &org)?;
            if snapshots.is_empty() {
                return Err(StoreError::NoSnapshots { org });
            }
            let refs: Vec<SnapshotRef> = snapshots
                .iter()
                .map(|s| SnapshotRef {
                    id: s.id,
                    taken_at: s.taken_at,
                })
                .collect();
            let kept = choose_kept(&refs, policy, &referenced);
            let (kept_refs, removed): (Vec<SnapshotRef>, Vec<SnapshotRef>) =
                refs.into_iter().partition(|s| kept.contains_key(&s.id));
            let mut result = OrgPrune {
                org: org.clone(),
                kept: kept_refs
                    .into_iter()
                    .map(|s| {
                        let why = kept.get(&s.id).cloned().unwrap_or_default();
                        (s, why)
                    })
                    .collect(),
                removed,
                versions_deleted: 0,
                runs_deleted: 0,
            };
            if !result.removed.is_empty() {
                remove_snapshots(&tx, &org, &mut result, &pruned_at)
                    .ctx(p, &format!("pruning org {org}"))?;
            }
            outcome.orgs.push(result);
        }
        if dry_run {
            tx.rollback().ctx(p, "rolling back the dry run")?;
        } else {
            tx.commit().ctx(p, "committing the prune")?;
        }
        Ok(outcome)
    }

    /// Rewrites the file to give the space of removed rows back (`VACUUM`).
    pub fn vacuum(&self) -> Result<(), StoreError> {
        self.conn
            .execute_batch("VACUUM")
            .ctx(&self.path, "vacuuming the history")
    }
}

/// Snapshot ids that review campaigns refer to.
fn review_campaign_snapshots(conn: &Db) -> DbResult<BTreeSet<i64>> {
    let mut stmt = conn.prepare(
        "SELECT DISTINCT snapshot_id FROM review_campaigns WHERE snapshot_id IS NOT NULL",
    )?;
    let rows = stmt.query_map((), |r| r.get(0))?;
    rows.collect()
}

fn org_snapshots(
    conn: &Db,
    p: &std::path::Path,
    org: &str,
) -> Result<Vec<SnapshotRow>, StoreError> {
    let context = "reading the org's snapshots";
    let mut stmt = conn
        .prepare("SELECT id, finished_at FROM snapshots WHERE org = ?1 ORDER BY id")
        .ctx(p, context)?;
    let mut rows = stmt.query([org]).ctx(p, context)?;
    let mut out = Vec::new();
    while let Some(r) = rows.next().ctx(p, context)? {
        let id: i64 = r.get(0).ctx(p, context)?;
        let text: String = r.get(1).ctx(p, context)?;
        let taken_at = parse_time(&text).ok_or_else(|| StoreError::Corrupt {
            detail: format!("snapshot {id}: finished_at `{text}` is not a time"),
        })?;
        out.push(SnapshotRow { id, taken_at });
    }
    Ok(out)
}

/// Removes `result.removed` from `org` (see the module docs), records each in
/// `pruned_snapshots` and counts what went.
fn remove_snapshots(conn: &Db, org: &str, result: &mut OrgPrune, pruned_at: &str) -> DbResult<()> {
    conn.execute_batch(
        "DROP TABLE IF EXISTS temp.prune_kept; DROP TABLE IF EXISTS temp.prune_removed;
         CREATE TEMP TABLE prune_kept (id INTEGER PRIMARY KEY);
         CREATE TEMP TABLE prune_removed (id INTEGER PRIMARY KEY);",
    )?;
    for (s, _) in &result.kept {
        conn.execute("INSERT INTO temp.prune_kept (id) VALUES (?1)", [s.id])?;
    }
    for s in &result.removed {
        conn.execute("INSERT INTO temp.prune_removed (id) VALUES (?1)", [s.id])?;
    }
    for kind in EntityKind::ALL {
        let t = kind.as_str();
        // The first kept snapshot after a removed one; NULL when there is none.
        let next_kept =
            |col: &str| format!("(SELECT min(k.id) FROM temp.prune_kept k WHERE k.id > {t}.{col})");
        result.versions_deleted += conn.execute(
            &format!(
                "DELETE FROM {t} WHERE org = ?1 \
                 AND valid_from IN (SELECT id FROM temp.prune_removed) \
                 AND NOT coalesce({} < coalesce(valid_to, 9223372036854775807), FALSE)",
                next_kept("valid_from")
            ),
            [org],
        )?;
        for col in ["valid_from", "valid_to"] {
            conn.execute(
                &format!(
                    "UPDATE {t} SET {col} = {} WHERE org = ?1 \
                     AND {col} IN (SELECT id FROM temp.prune_removed)",
                    next_kept(col)
                ),
                [org],
            )?;
        }
    }
    result.runs_deleted += conn.execute(
        "DELETE FROM runs WHERE snapshot_id IN (SELECT id FROM temp.prune_removed)",
        (),
    )?;

    // Failed attempts from before the oldest kept snapshot are outside every
    // report window that is left.
    if let Some((oldest, _)) = result.kept.first() {
        let before = oldest.taken_at;
        // Times are compared as times: RFC 3339 text with different sub-second
        // digits does not sort correctly.
        let mut stmt =
            conn.prepare("SELECT id, started_at FROM runs WHERE org = ?1 AND status = 'failed'")?;
        let old: Vec<i64> = stmt
            .query_map([org], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))?
            .collect::<DbResult<Vec<_>>>()?
            .into_iter()
            .filter(|(_, started)| parse_time(started).is_some_and(|t| t < before))
            .map(|(id, _)| id)
            .collect();
        for id in old {
            result.runs_deleted += conn.execute("DELETE FROM runs WHERE id = ?1", [id])?;
        }
    }
    conn.execute(
        "INSERT INTO pruned_snapshots \
           (id, org, started_at, finished_at, counts_json, sha256, prev_sha256, pruned_at) \
         SELECT id, org, started_at, finished_at, counts_json, sha256, prev_sha256, ?1 \
         FROM snapshots WHERE id IN (SELECT id FROM temp.prune_removed)",
        params![pruned_at],
    )?;
    conn.execute(
        "DELETE FROM snapshots WHERE id IN (SELECT id FROM temp.prune_removed)",
        (),
    )?;
    conn.execute_batch("DROP TABLE temp.prune_kept; DROP TABLE temp.prune_removed;")
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use super::*;
    use crate::model::{AccessLevel, GroupId, ObjectType, OrgState, Subject, UserId};
    use chrono::TimeZone;
    use std::path::Path;

    fn day(n: i64) -> DateTime<Utc> {
        match Utc.with_ymd_and_hms(2025, 12, 1, 2, 0, 0).single() {
            Some(d) => d + Duration::days(n),
            None => panic!("bad date"),
        }
    }

    /// Snapshot `i` of a year of history: every snapshot changes something,
    /// and records come, go, come back and change level.
    fn state(i: usize) -> OrgState {
        let mut users = Vec::new();
        for k in 0..(5 + i) {
            let mut u = user(
                &format!("u{k}"),
                &format!("u{k}@example.com"),
                k % 7 != i % 7,
            );
            if k == 0 {
                u.last_active = Some(day(i as i64));
            }
            if k == 1 {
                u.email = format!("u1+{}@example.com", i / 10);
            }
            users.push(u);
        }
        if i % 3 != 0 {
            users.push(user("flicker", "flicker@example.com", true));
        }
        let mut memberships: Vec<_> = users.iter().map(|u| member(1, &u.id.0, false)).collect();
        memberships.extend(
            users
                .iter()
                .enumerate()
                .filter(|(k, _)| k % 2 == i % 2)
                .map(|(_, u)| member(2, &u.id.0, i % 4 == 0)),
        );
        let level = [AccessLevel::Use, AccessLevel::Edit, AccessLevel::Own][i % 3];
        let mut s = OrgState {
            users,
            groups: vec![group(1, "All Users"), group(2, "Ops")],
            memberships,
            grants: vec![
                grant(Subject::Group(GroupId(2)), ObjectType::App, "a1", level),
                grant(
                    Subject::User(UserId("u2".into())),
                    ObjectType::Resource,
                    "r1",
                    AccessLevel::Own,
                ),
            ],
            ..Default::default()
        };
        s.normalize();
        s
    }

    fn write_at(store: &mut Store, org: &str, state: OrgState, at: DateTime<Utc>) -> i64 {
        let mut c = collected(state, 1);
        c.info.started_at = at;
        c.info.finished_at = at + Duration::seconds(3);
        match store.write_snapshot(org, &c) {
            Ok(m) => m.id,
            Err(e) => panic!("write_snapshot: {e}"),
        }
    }

    /// 30 snapshots of `acme`, 12 days apart, from 2025-12-01; three of `beta`.
    fn year(path: &Path) -> (Store, Vec<i64>, Vec<i64>) {
        let mut store = open(path);
        let mut acme = Vec::new();
        let mut beta = Vec::new();
        for i in 0..30 {
            acme.push(write_at(&mut store, "acme", state(i), day(12 * i as i64)));
            if i % 10 == 0 {
                beta.push(write_at(
                    &mut store,
                    "beta",
                    state(i + 1),
                    day(12 * i as i64),
                ));
            }
        }
        (store, acme, beta)
    }

    fn policy(keep_days: u32, keep_monthly: u32, org: Option<&str>) -> RetentionPolicy {
        RetentionPolicy {
            keep_days,
            keep_monthly,
            org: org.map(str::to_string),
            // The day after the last snapshot (day 348 = 2026-11-14).
            now: day(349),
        }
    }

    fn states(store: &Store, ids: &[i64]) -> BTreeMap<i64, String> {
        ids.iter()
            .map(|&id| {
                let json = serde_json::to_string(&state_at(store, id)).unwrap_or_default();
                (id, json)
            })
            .collect()
    }

    fn ids(store: &Store, org: &str) -> Vec<i64> {
        match store.snapshots(Some(org)) {
            Ok(v) => v.iter().map(|m| m.id).collect(),
            Err(e) => panic!("snapshots: {e}"),
        }
    }

    fn prune(store: &mut Store, policy: &RetentionPolicy, dry_run: bool) -> PruneOutcome {
        match store.prune(policy, dry_run) {
            Ok(o) => o,
            Err(e) => panic!("prune: {e}"),
        }
    }

    fn verify(store: &Store) -> super::super::VerifyReport {
        match store.verify() {
            Ok(r) => r,
            Err(e) => panic!("verify: {e}"),
        }
    }

    #[test]
    fn the_policy_keeps_recent_monthly_latest_and_referenced_snapshots() {
        let refs: Vec<SnapshotRef> = (0..30)
            .map(|i| SnapshotRef {
                id: i + 1,
                taken_at: day(12 * i),
            })
            .collect();
        // Snapshots 28-30 are within 30 days of day 349 (days 324, 336, 348).
        let kept = choose_kept(&refs, &policy(30, 0, None), &BTreeSet::new());
        assert_eq!(kept.keys().copied().collect::<Vec<_>>(), vec![28, 29, 30]);
        assert_eq!(
            kept.get(&30),
            Some(&vec![KeepReason::Latest, KeepReason::Recent])
        );
        // Monthly: the newest of each of the 3 newest months (Nov, Oct, Sep 2026).
        let kept = choose_kept(&refs, &policy(0, 3, None), &BTreeSet::from([2]));
        let got: Vec<(i64, Vec<KeepReason>)> = kept.into_iter().collect();
        assert_eq!(
            got,
            vec![
                (2, vec![KeepReason::ReviewCampaign]),
                (26, vec![KeepReason::Monthly]), // 2026-09-27
                (28, vec![KeepReason::Monthly]), // 2026-10-21
                (30, vec![KeepReason::Latest, KeepReason::Monthly]), // 2026-11-14
            ]
        );
        // Nothing asked for: only the latest.
        let kept = choose_kept(&refs, &policy(0, 0, None), &BTreeSet::new());
        assert_eq!(kept.keys().copied().collect::<Vec<_>>(), vec![30]);
    }

    #[test]
    fn a_pruned_year_keeps_every_kept_snapshot_exact_and_the_chain_verifiable() {
        let dir = tmp();
        let path = dir.path().join("h.db");
        let (mut store, acme, beta) = year(&path);
        let before = states(&store, &acme);
        let beta_before = states(&store, &beta);
        let hashes: BTreeMap<i64, String> = store
            .snapshots(None)
            .unwrap_or_default()
            .into_iter()
            .map(|m| (m.id, m.sha256))
            .collect();
        let versions_before = raw_count(&path, "SELECT count(*) FROM users");
        // Failed attempts: one long before the oldest kept snapshot, one recent.
        for d in [5, 340] {
            if let Err(e) = store.log_failed_run("acme", "https://x", day(d), day(d), "timeout") {
                panic!("log_failed_run: {e}");
            }
        }

        let outcome = prune(&mut store, &policy(40, 4, Some("acme")), false);
        assert!(outcome.applied);
        let org = &outcome.orgs[0];
        // Within 40 days (from 2026-10-06): 26-29; the newest of each of the
        // 4 newest months adds 25 (September) and 22 (August).
        let kept: Vec<i64> = [22, 25, 26, 27, 28, 29].iter().map(|&i| acme[i]).collect();
        assert_eq!(ids(&store, "acme"), kept);
        assert_eq!(org.kept.iter().map(|(s, _)| s.id).collect::<Vec<_>>(), kept);
        assert_eq!(org.removed.len(), 24);
        assert!(org.versions_deleted > 0, "{org:?}");
        assert_eq!(
            org.runs_deleted,
            24 + 1,
            "ok runs of removed snapshots, one old failure"
        );
        let failed = store.runs(Some("acme")).unwrap_or_default();
        let failed: Vec<_> = failed.iter().filter(|r| r.status == "failed").collect();
        assert_eq!(failed.len(), 1);
        assert_eq!(failed[0].started_at, day(340));
        assert!(raw_count(&path, "SELECT count(*) FROM users") < versions_before);
        assert_eq!(ids(&store, "beta"), beta, "another org is untouched");

        // Every kept snapshot reads back byte for byte, with the same hash.
        let after = states(&store, &kept);
        for id in &kept {
            assert_eq!(after.get(id), before.get(id), "snapshot {id}");
            let meta = store.snapshot(*id).ok();
            assert_eq!(meta.map(|m| m.sha256), hashes.get(id).cloned());
        }
        assert_eq!(states(&store, &beta), beta_before);

        let r = verify(&store);
        assert!(r.is_ok(), "{:?}", r.problems);
        assert_eq!(r.checked, kept.len() + beta.len());
        assert_eq!(r.pruned, 24);
        assert_eq!(
            raw_count(
                &path,
                "SELECT count(*) FROM pruned_snapshots WHERE org = 'acme'"
            ),
            24
        );
        // The record carries the removed snapshot's own hashes.
        let first = acme[0];
        assert_eq!(
            raw_count(
                &path,
                &format!(
                    "SELECT count(*) FROM pruned_snapshots WHERE id = {first} \
                     AND sha256 = '{}' AND prev_sha256 IS NULL",
                    hashes.get(&first).cloned().unwrap_or_default()
                )
            ),
            1
        );

        // A second, harsher prune runs the chain through both generations.
        let outcome = prune(&mut store, &policy(0, 0, None), false);
        assert_eq!(
            outcome.removed(),
            5 + 2,
            "acme down to its latest, beta too"
        );
        assert_eq!(ids(&store, "acme"), vec![acme[29]]);
        assert_eq!(
            states(&store, &[acme[29]]).get(&acme[29]),
            before.get(&acme[29])
        );
        let r = verify(&store);
        assert!(r.is_ok(), "{:?}", r.problems);
        assert_eq!((r.checked, r.pruned), (2, 29 + 2));
        drop(store);

        // A snapshot written after a prune chains onto the kept latest.
        let mut store = open(&path);
        write_at(&mut store, "acme", state(30), day(360));
        let r = verify(&store);
        assert!(r.is_ok(), "{:?}", r.problems);
    }

    #[test]
    fn tampering_after_a_prune_is_still_detected() {
        let cases: [(&str, &str); 5] = [
            (
                "an edited row of a kept snapshot",
                "UPDATE users SET email = 'mallory@evil.example' WHERE org = 'acme' AND user_id = 'u3' AND valid_to IS NULL",
            ),
            (
                "a deleted prune record",
                "DELETE FROM pruned_snapshots WHERE id = (SELECT max(id) FROM pruned_snapshots WHERE org = 'acme')",
            ),
            (
                "an edited prune record",
                "UPDATE pruned_snapshots SET sha256 = 'ab' || substr(sha256, 3) WHERE id = (SELECT min(id) FROM pruned_snapshots)",
            ),
            (
                "a kept snapshot deleted outright",
                "DELETE FROM runs WHERE snapshot_id = (SELECT min(id) FROM snapshots WHERE org = 'acme'); \
                 DELETE FROM snapshots WHERE id = (SELECT min(id) FROM snapshots WHERE org = 'acme')",
            ),
            (
                "the latest snapshot dressed up as pruned",
                "INSERT INTO pruned_snapshots SELECT id, org, started_at, finished_at, counts_json, sha256, prev_sha256, 'x' \
                   FROM snapshots WHERE id = (SELECT max(id) FROM snapshots WHERE org = 'acme'); \
                 DELETE FROM runs WHERE snapshot_id = (SELECT max(id) FROM snapshots WHERE org = 'acme'); \
                 DELETE FROM snapshots WHERE id = (SELECT max(id) FROM snapshots WHERE org = 'acme')",
            ),
        ];
        for (what, sql) in cases {
            let dir = tmp();
            let path = dir.path().join("h.db");
            let (mut store, _, _) = year(&path);
            prune(&mut store, &policy(40, 4, None), false);
            assert!(verify(&store).is_ok(), "clean before: {what}");
            drop(store);
            raw_sql(&path, sql);
            let r = verify(&open(&path));
            assert!(!r.is_ok(), "{what} was not detected");
            assert!(
                r.problems.iter().all(|p| p.org != "beta"),
                "{what}: {:?}",
                r.problems
            );
        }
    }

    #[test]
    fn a_dry_run_reports_exactly_what_a_real_run_does_and_changes_nothing() {
        let dir = tmp();
        let path = dir.path().join("h.db");
        let (mut store, acme, beta) = year(&path);
        let rows = || {
            raw_count(
                &path,
                "SELECT (SELECT count(*) FROM users) + (SELECT count(*) FROM grants) + (SELECT count(*) FROM runs)",
            )
        };
        let rows_before = rows();
        let dry = prune(&mut store, &policy(40, 4, None), true);
        assert!(!dry.applied);
        assert_eq!(ids(&store, "acme"), acme);
        assert_eq!(ids(&store, "beta"), beta);
        assert_eq!(rows(), rows_before);
        assert_eq!(raw_count(&path, "SELECT count(*) FROM pruned_snapshots"), 0);
        let real = prune(&mut store, &policy(40, 4, None), false);
        assert_eq!(dry.orgs, real.orgs);
        assert!(rows() < rows_before);
    }

    #[test]
    fn snapshots_a_review_campaign_refers_to_are_kept() {
        let dir = tmp();
        let path = dir.path().join("h.db");
        let (store, acme, _) = year(&path);
        drop(store);
        raw_sql(
            &path,
            &format!(
                "INSERT INTO review_campaigns (org, name, snapshot_id, snapshot_sha256, created_at, \
                 reviewer_by, settings_json, population_sha256) \
                 VALUES ('acme', '2026-Q1', {}, 'x', '2026-01-01T00:00:00Z', 'single', '{{}}', 'x')",
                acme[3]
            ),
        );
        let mut store = open(&path);
        let before = states(&store, &[acme[3]]);
        let outcome = prune(&mut store, &policy(0, 0, Some("acme")), false);
        assert_eq!(ids(&store, "acme"), vec![acme[3], acme[29]]);
        assert_eq!(
            outcome.orgs[0].kept[0],
            (
                SnapshotRef {
                    id: acme[3],
                    taken_at: day(36) + Duration::seconds(3)
                },
                vec![KeepReason::ReviewCampaign]
            )
        );
        assert_eq!(states(&store, &[acme[3]]), before);
        let r = verify(&store);
        assert!(r.is_ok(), "{:?}", r.problems);
    }

    #[test]
    fn an_unknown_org_is_refused() {
        let dir = tmp();
        let path = dir.path().join("h.db");
        let (mut store, _, _) = year(&path);
        let err = store.prune(&policy(1, 0, Some("nobody")), false).err();
        assert!(
            matches!(err, Some(StoreError::NoSnapshots { ref org }) if org == "nobody"),
            "{err:?}"
        );
    }
}
