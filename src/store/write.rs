//! Writing the history: one snapshot (and its `runs` row) per successful
//! collection in one transaction, storing only the records that changed; and
//! the log of failed attempts.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use std::path::Path;
use std::sync::mpsc;

use super::db::{Begin, Binder, Db, DbResult, OptionalExtension, ValueRef, params};
use chrono::{DateTime, Utc};

use super::error::SqlContext;
use super::rows::{Versioned, fingerprint, time_text};
use super::verify::hash_snapshot;
use super::{Store, StoreError};
use crate::model::{Collected, CollectionInfo, OrgState, SnapshotMeta};

/// What one snapshot changed in one table.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Delta {
    inserted: u64,
    closed: u64,
}

impl Store {
    /// Stores one collection as the next snapshot of `org`, in one transaction:
    /// on any error the file is exactly as before. Records that did not change
    /// since the org's previous snapshot cost nothing. Also records an `ok` run.
    pub fn write_snapshot(
        &mut self,
        org: &str,
        collected: &Collected,
    ) -> Result<SnapshotMeta, StoreError> {
        // The multi-row INSERTs (see `insert_versions`) run with a statement
        // journal: a failing statement undoes its own earlier rows. Kept in
        // memory (SQLite decides where when the write transaction starts) it
        // costs no temporary-file I/O, and it only ever holds the pages one
        // statement changed. Back to the default after, so large sorts of
        // reading commands still spill to disk.
        let Some(sqlite) = self.conn.sqlite() else {
            return self.write_snapshot_transaction(org, collected);
        };
        sqlite
            .pragma_update(None, "temp_store", "MEMORY")
            .ctx(&self.path, "keeping the statement journal in memory")?;
        let written = self.write_snapshot_transaction(org, collected);
        if let Some(sqlite) = self.conn.sqlite()
            && let Err(e) = sqlite.pragma_update(None, "temp_store", "DEFAULT")
        {
            tracing::warn!("could not reset temp_store: {e}");
        }
        written
    }

    fn write_snapshot_transaction(
        &mut self,
        org: &str,
        collected: &Collected,
    ) -> Result<SnapshotMeta, StoreError> {
        let state = normalized(&collected.state);
        check_unique_keys(&state)?;
        let info = &collected.info;
        let counts = state.counts();
        let path = self.path.clone();
        let p = path.as_path();

        let tx = self
            .conn
            .begin(Begin::Write)
            .ctx(p, "starting the snapshot transaction")?;
        // On PostgreSQL, writers of other orgs go on; one of this org waits
        // here, so the previous hash below is the one this snapshot follows.
        tx.lock_org_in_transaction(org)
            .ctx(p, "waiting for the organization's write lock")?;

        let prev_sha256: Option<String> = tx
            .query_row(
                "SELECT sha256 FROM snapshots WHERE org = ?1 ORDER BY id DESC LIMIT 1",
                [org],
                |r| r.get(0),
            )
            .optional()
            .ctx(p, "reading the previous snapshot's hash")?;
        let counts_json = to_json(&counts).ctx(p, "encoding the counts")?;
        let not_collected_json =
            to_json(&state.not_collected).ctx(p, "encoding the not-collected kinds")?;
        let info_json = to_json(info).ctx(p, "encoding the collection info")?;
        // The content hash is filled in below, once hashing is done.
        let id: i64 = tx
            .query_row(
                "INSERT INTO snapshots (org, started_at, finished_at, source_url, dialect, \
             api_version, tool_version, counts_json, not_collected_json, info_json, sha256, \
             prev_sha256) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, '', ?11) RETURNING id",
                params![
                    org,
                    time_text(&info.started_at),
                    time_text(&info.finished_at),
                    info.source_url,
                    info.dialect.as_str(),
                    info.api_version,
                    info.tool_version,
                    counts_json,
                    not_collected_json,
                    info_json,
                    prev_sha256,
                ],
                |r| r.get(0),
            )
            .ctx(p, "inserting the snapshot")?;

        // Hashing (serializing every record, its fingerprint and the content
        // hash) runs on its own thread while this one writes the rows.
        let prev = prev_sha256.as_deref();
        let records: &OrgState = &state;
        let (synced, hashed) = std::thread::scope(|scope| {
            let (out, feed) = mpsc::channel();
            let thread_out = out.clone();
            let hashing = std::thread::Builder::new()
                .name("snapshot-hash".into())
                .spawn_scoped(scope, move || {
                    hash_with_fingerprints(prev, info, records, thread_out)
                });
            // No thread to be had: hash here, first. (With a thread, `out` is
            // dropped here, so the feed ends with the thread's last chunk.)
            let hashing = hashing.map_err(|_| hash_with_fingerprints(prev, info, records, out));
            let mut feed = FingerprintFeed::new(feed);
            let synced = sync_all(&tx, p, org, id, records, &mut feed);
            // A failed write drops the feed: the hashing thread stops sending.
            drop(feed);
            let hashed = match hashing {
                Ok(thread) => thread
                    .join()
                    .map_err(|_| internal("the hashing thread panicked")),
                Err(hashed_here) => Ok(hashed_here),
            };
            (synced, hashed)
        });
        let deltas = synced?;
        let total = deltas.iter().fold(Delta::default(), |t, (_, d)| Delta {
            inserted: t.inserted + d.inserted,
            closed: t.closed + d.closed,
        });
        let sha256 = hashed?;
        tx.execute(
            "UPDATE snapshots SET sha256 = ?1 WHERE id = ?2",
            params![sha256, id],
        )
        .ctx(p, "recording the snapshot's hash")?;

        tx.execute(
            "INSERT INTO runs (org, source_url, started_at, finished_at, status, error, snapshot_id) \
             VALUES (?1, ?2, ?3, ?4, 'ok', NULL, ?5)",
            params![
                org,
                info.source_url,
                time_text(&info.started_at),
                time_text(&info.finished_at),
                id
            ],
        )
        .ctx(p, "recording the run")?;
        tx.commit().ctx(p, "committing the snapshot")?;
        self.refresh_statistics(&deltas);
        tracing::debug!(
            snapshot = id,
            org,
            inserted = total.inserted,
            closed = total.closed,
            "snapshot stored"
        );

        Ok(SnapshotMeta {
            id,
            org: org.to_string(),
            info: info.clone(),
            counts,
            not_collected: state.not_collected.clone(),
            sha256,
            prev_sha256,
        })
    }

    /// Logs an attempt that failed (nothing was collected or stored). `error`
    /// must not contain secrets; it is stored and shown in reports.
    pub fn log_failed_run(
        &mut self,
        org: &str,
        source_url: &str,
        started_at: DateTime<Utc>,
        finished_at: DateTime<Utc>,
        error: &str,
    ) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT INTO runs (org, source_url, started_at, finished_at, status, error, snapshot_id) \
                 VALUES (?1, ?2, ?3, ?4, 'failed', ?5, NULL)",
                params![
                    org,
                    source_url,
                    time_text(&started_at),
                    time_text(&finished_at),
                    error
                ],
            )
            .ctx(&self.path, "recording the failed run")?;
        Ok(())
    }
}

/// Rows a snapshot must change in a table before PostgreSQL's planner
/// statistics of that table are refreshed at once (autovacuum would do it
/// later).
const ANALYZE_AFTER: u64 = 5_000;

impl Store {
    /// PostgreSQL: after a snapshot that changed many rows (the first one of
    /// a large org), `ANALYZE` now, so that the next report is not planned
    /// on the statistics of empty tables (a nested loop over 10 000 users
    /// took 18 s instead of 20 ms). A role that does not own the tables only
    /// gets a warning from the server; a failure is logged, not fatal: the
    /// snapshot is committed.
    fn refresh_statistics(&self, deltas: &[(&'static str, Delta)]) {
        if self.conn.is_sqlite() {
            return;
        }
        let changed: Vec<&str> = deltas
            .iter()
            .filter(|(_, d)| d.inserted + d.closed >= ANALYZE_AFTER)
            .map(|(t, _)| *t)
            .collect();
        if changed.is_empty() {
            return;
        }
        if let Err(e) = self
            .conn
            .execute_batch(&format!("ANALYZE {}", changed.join(", ")))
        {
            tracing::warn!("could not refresh the planner's statistics: {e}");
        }
    }
}

fn to_json<T: serde::Serialize>(v: &T) -> DbResult<String> {
    serde_json::to_string(v).map_err(|e| super::db::DbError::Conversion(e.to_string()))
}

/// The state sorted by key; borrowed when it already is (the usual case).
fn normalized(state: &OrgState) -> Cow<'_, OrgState> {
    if is_normalized(state) {
        return Cow::Borrowed(state);
    }
    let mut sorted = state.clone();
    sorted.normalize();
    Cow::Owned(sorted)
}

fn is_normalized(s: &OrgState) -> bool {
    s.users.is_sorted_by(|a, b| a.id <= b.id)
        && s.groups.is_sorted_by(|a, b| a.id <= b.id)
        && s.memberships.is_sorted()
        && s.folders.is_sorted_by(|a, b| a.id <= b.id)
        && s.apps.is_sorted_by(|a, b| a.id <= b.id)
        && s.resources.is_sorted_by(|a, b| a.id <= b.id)
        && s.workflows.is_sorted_by(|a, b| a.id <= b.id)
        && s.grants.is_sorted()
        && s.user_invites.is_sorted_by(|a, b| a.id <= b.id)
        && s.access_tokens.is_sorted_by(|a, b| a.id <= b.id)
        && s.roles.is_sorted_by(|a, b| a.id <= b.id)
        && s.role_grants.is_sorted()
        && s.access_requests.is_sorted_by(|a, b| a.id <= b.id)
        && s.settings.is_sorted()
        && s.usage.is_sorted_by(|a, b| a.user_id <= b.user_id)
        && s.environments.is_sorted_by(|a, b| a.id <= b.id)
        && s.resource_configurations.is_sorted_by(|a, b| a.id <= b.id)
        && s.configuration_grants.is_sorted()
        && s.app_usage.is_sorted()
}

/// In a normalized state records with equal keys are adjacent.
fn check_unique_keys(s: &OrgState) -> Result<(), StoreError> {
    fn check<T: Versioned>(items: &[T]) -> Result<(), StoreError> {
        for w in items.windows(2) {
            let k = w[0].key();
            if k == w[1].key() {
                return Err(StoreError::DuplicateRecord {
                    kind: T::TABLE,
                    key: super::rows::truncate(&format!("{k:?}")),
                });
            }
        }
        Ok(())
    }
    check(&s.users)?;
    check(&s.groups)?;
    check(&s.memberships)?;
    check(&s.folders)?;
    check(&s.apps)?;
    check(&s.resources)?;
    check(&s.workflows)?;
    check(&s.grants)?;
    check(&s.user_invites)?;
    check(&s.access_tokens)?;
    check(&s.roles)?;
    check(&s.role_grants)?;
    check(&s.access_requests)?;
    check(&s.settings)?;
    check(&s.usage)?;
    check(&s.environments)?;
    check(&s.resource_configurations)?;
    check(&s.configuration_grants)?;
    check(&s.app_usage)
}

/// Syncs every table, in the order [`hash_snapshot`] fingerprints them;
/// returns what each changed.
fn sync_all(
    tx: &Db,
    path: &Path,
    org: &str,
    id: i64,
    s: &OrgState,
    feed: &mut FingerprintFeed,
) -> Result<Vec<(&'static str, Delta)>, StoreError> {
    macro_rules! each {
        ($($kind:ident),*) => {
            vec![$(
                (state_table(&s.$kind), sync(tx, path, org, id, &s.$kind, feed)?),
            )*]
        };
    }
    Ok(each!(
        users,
        groups,
        memberships,
        folders,
        apps,
        resources,
        workflows,
        grants,
        user_invites,
        access_tokens,
        roles,
        role_grants,
        access_requests,
        settings,
        usage,
        environments,
        resource_configurations,
        configuration_grants,
        app_usage
    ))
}

/// The table of a state's records.
fn state_table<T: Versioned>(_: &[T]) -> &'static str {
    T::TABLE
}

/// Brings one table of `org` to `items` as of snapshot `id`: unchanged records
/// are left alone, changed ones get their open version closed and a new one
/// inserted, vanished ones are closed. `feed` has the records' fingerprints.
///
/// Records are matched to open versions by fingerprint alone: it covers the
/// whole record, key included, so an open version with a record's fingerprint
/// is that record unchanged, and every open version no record matched belongs
/// to a record that changed or vanished.
fn sync<T: Versioned>(
    tx: &Db,
    path: &Path,
    org: &str,
    id: i64,
    items: &[T],
    feed: &mut FingerprintFeed,
) -> Result<Delta, StoreError> {
    let (mut open, mut ended) = open_versions(tx, path, org, T::TABLE)?;
    if open.is_empty() && ended.is_empty() {
        // Nothing to compare with (a first snapshot): every record is
        // inserted as soon as its fingerprint is ready.
        let rows = items.iter().map(|item| Ok((item, feed.next(T::TABLE)?)));
        let inserted = insert_versions(tx, path, org, id, rows)?;
        return Ok(Delta {
            inserted,
            closed: 0,
        });
    }
    let mut new_versions = Vec::new();
    for item in items {
        let hash = feed.next(T::TABLE)?;
        if open.remove(&u128::from_le_bytes(hash)).is_none() {
            new_versions.push((item, hash));
        }
    }
    // Closed before the inserts: a changed record's new version must not meet
    // its old one in the unique `<table>_open` index.
    ended.extend(open.into_values());
    ended.sort_unstable();
    close_versions(tx, path, T::TABLE, id, &ended)?;
    let inserted = insert_versions(tx, path, org, id, new_versions.into_iter().map(Ok))?;
    Ok(Delta {
        inserted,
        closed: ended.len() as u64,
    })
}

/// How many fingerprints the hashing thread sends at a time.
const FEED_CHUNK: usize = 512;

/// [`hash_snapshot`], sending every record's fingerprint to `out` in order,
/// [`FEED_CHUNK`] at a time.
fn hash_with_fingerprints(
    prev_sha256: Option<&str>,
    info: &CollectionInfo,
    state: &OrgState,
    out: mpsc::Sender<Vec<[u8; 16]>>,
) -> String {
    let mut chunk = Vec::with_capacity(FEED_CHUNK);
    let sha256 = hash_snapshot(prev_sha256, info, state, |_, json| {
        chunk.push(fingerprint(json));
        if chunk.len() == FEED_CHUNK {
            // The feed is gone only when the write failed: nobody waits.
            let _ = out.send(std::mem::replace(
                &mut chunk,
                Vec::with_capacity(FEED_CHUNK),
            ));
        }
    });
    let _ = out.send(chunk);
    sha256
}

/// The records' fingerprints as [`hash_with_fingerprints`] sends them: every
/// user's, then every group's, ..., in the order the tables are synced.
struct FingerprintFeed {
    chunks: mpsc::Receiver<Vec<[u8; 16]>>,
    current: std::vec::IntoIter<[u8; 16]>,
}

impl FingerprintFeed {
    fn new(chunks: mpsc::Receiver<Vec<[u8; 16]>>) -> Self {
        FingerprintFeed {
            chunks,
            current: Vec::new().into_iter(),
        }
    }

    /// The next record's fingerprint (a record of `table`), waiting for it.
    fn next(&mut self, table: &str) -> Result<[u8; 16], StoreError> {
        loop {
            if let Some(f) = self.current.next() {
                return Ok(f);
            }
            match self.chunks.recv() {
                Ok(chunk) => self.current = chunk.into_iter(),
                Err(_) => return Err(internal(&format!("fingerprints of {table} missing"))),
            }
        }
    }
}

fn internal(what: &str) -> StoreError {
    StoreError::Corrupt {
        detail: format!("internal: {what}"),
    }
}

/// Open versions by fingerprint, as a map to their rowid (fingerprints are
/// SHA-256 bits: [`FingerprintHasher`] just takes 64 of them).
type ByFingerprint = HashMap<u128, i64, BuildHasherDefault<FingerprintHasher>>;

#[derive(Default)]
struct FingerprintHasher(u64);

impl Hasher for FingerprintHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u128(&mut self, v: u128) {
        self.0 = v as u64;
    }
}

/// The open versions of `table` in `org` by fingerprint, and the rowids of
/// those no record can match (a `row_hash` that is not 16 bytes, or the same
/// as another's: only an edited file has them), which are to be closed.
fn open_versions(
    tx: &Db,
    path: &Path,
    org: &str,
    table: &str,
) -> Result<(ByFingerprint, Vec<i64>), StoreError> {
    let context = "reading current versions";
    let mut stmt = tx
        .prepare(&format!(
            "SELECT rowid, row_hash FROM {table} WHERE org = ?1 AND valid_to IS NULL"
        ))
        .ctx(path, context)?;
    let mut rows = stmt.query([org]).ctx(path, context)?;
    let mut open = ByFingerprint::default();
    let mut unmatchable = Vec::new();
    let mut shared = HashSet::new();
    while let Some(row) = rows.next().ctx(path, context)? {
        let rowid: i64 = row.get(0).ctx(path, context)?;
        let hash = match row.get_ref(1).ctx(path, context)? {
            ValueRef::Blob(b) => <[u8; 16]>::try_from(b).ok().map(u128::from_le_bytes),
            _ => None,
        };
        let Some(hash) = hash.filter(|h| !shared.contains(h)) else {
            unmatchable.push(rowid);
            continue;
        };
        if let Some(twin) = open.insert(hash, rowid) {
            open.remove(&hash);
            shared.insert(hash);
            unmatchable.extend([twin, rowid]);
        }
    }
    Ok((open, unmatchable))
}

/// Ends the versions `rowids` of `table` at snapshot `id`.
fn close_versions(
    tx: &Db,
    path: &Path,
    table: &str,
    id: i64,
    rowids: &[i64],
) -> Result<(), StoreError> {
    if rowids.is_empty() {
        return Ok(());
    }
    let mut close = tx
        .prepare(&format!(
            "UPDATE {table} SET valid_to = ?1 WHERE rowid = ?2"
        ))
        .ctx(path, "preparing to close versions")?;
    for rowid in rowids {
        close
            .execute(params![id, rowid])
            .ctx(path, "closing a version")?;
    }
    Ok(())
}

/// Rows per `INSERT` statement. One statement inserting many rows keeps
/// SQLite's table and index cursors open from row to row, so rows that arrive
/// in key order are appended without searching every index from its root, and
/// the per-statement work (bind, step, reset) is shared.
const INSERT_BATCH: usize = 64;

/// Inserts `rows` (records with their fingerprints, in order) as versions
/// valid from snapshot `id`, [`INSERT_BATCH`] rows per statement; returns how
/// many.
fn insert_versions<'a, T: Versioned + 'a>(
    tx: &Db,
    path: &Path,
    org: &str,
    id: i64,
    mut rows: impl Iterator<Item = Result<(&'a T, [u8; 16]), StoreError>>,
) -> Result<u64, StoreError> {
    if !tx.is_sqlite() {
        return copy_versions(tx, path, org, id, rows);
    }
    let n = T::columns().len();
    let prepare = |count: usize| {
        // ?1 is the org and ?2 the snapshot in every row; then each row's
        // columns and fingerprint.
        let values: Vec<String> = (0..count)
            .map(|r| {
                let first = 3 + r * (n + 1);
                let params: Vec<String> = (first..=first + n).map(|i| format!("?{i}")).collect();
                format!("(?1, {}, ?2)", params.join(", "))
            })
            .collect();
        tx.prepare(&format!(
            "INSERT INTO {table} (org, {columns}, row_hash, valid_from) VALUES {}",
            values.join(", "),
            table = T::TABLE,
            columns = T::columns().join(", "),
        ))
        .ctx(path, "preparing to insert versions")
    };
    let mut full = None;
    let mut batch = Vec::with_capacity(INSERT_BATCH);
    let mut inserted = 0;
    loop {
        batch.clear();
        for row in rows.by_ref().take(INSERT_BATCH) {
            batch.push(row?);
        }
        if batch.is_empty() {
            return Ok(inserted);
        }
        let mut partial;
        let stmt = if batch.len() == INSERT_BATCH {
            match &mut full {
                Some(s) => s,
                None => full.insert(prepare(INSERT_BATCH)?),
            }
        } else {
            partial = prepare(batch.len())?;
            &mut partial
        };
        stmt.raw_bind_parameter(1, org)
            .ctx(path, "inserting versions")?;
        stmt.raw_bind_parameter(2, id)
            .ctx(path, "inserting versions")?;
        for (r, (item, hash)) in batch.iter().enumerate() {
            let first = 3 + r * (n + 1);
            item.bind(stmt, first).ctx(path, "inserting versions")?;
            stmt.raw_bind_parameter(first + n, hash.as_slice())
                .ctx(path, "inserting versions")?;
        }
        stmt.raw_execute().ctx(path, "inserting versions")?;
        inserted += batch.len() as u64;
    }
}

/// [`insert_versions`] on PostgreSQL: one binary `COPY` per table.
fn copy_versions<'a, T: Versioned + 'a>(
    tx: &Db,
    path: &Path,
    org: &str,
    id: i64,
    rows: impl Iterator<Item = Result<(&'a T, [u8; 16]), StoreError>>,
) -> Result<u64, StoreError> {
    let mut columns = vec!["org"];
    columns.extend(T::columns());
    columns.extend(["row_hash", "valid_from"]);
    let n = columns.len();
    let context = "inserting versions";
    let db_error = |e| StoreError::from_db(path, context, e);
    tx.copy_in(T::TABLE, &columns, db_error, |sink| {
        for row in rows {
            let (item, hash) = row?;
            let bound = sink.row();
            bound.raw_bind_parameter(1, org).ctx(path, context)?;
            item.bind(bound, 2).ctx(path, context)?;
            bound
                .raw_bind_parameter(n - 1, hash.as_slice())
                .ctx(path, context)?;
            bound.raw_bind_parameter(n, id).ctx(path, context)?;
            sink.end_row().ctx(path, context)?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use crate::model::*;

    const VERSION_TABLES: [&str; 10] = [
        "users",
        "groups",
        "memberships",
        "folders",
        "apps",
        "resources",
        "workflows",
        "grants",
        "user_invites",
        "access_tokens",
    ];

    fn version_rows(path: &std::path::Path) -> i64 {
        VERSION_TABLES
            .iter()
            .map(|t| raw_count(path, &format!("SELECT count(*) FROM {t}")))
            .sum()
    }

    #[test]
    fn every_kind_round_trips_exactly() {
        let dir = tmp();
        let mut store = open(&dir.path().join("h.db"));
        let s = sample_state();
        for kind in EntityKind::ALL {
            assert!(s.counts()[&kind] > 0, "fixture lacks {kind}");
        }
        let meta = write(&mut store, "default", s.clone(), 3);
        assert_eq!(state_at(&store, meta.id), s);
        assert_eq!(meta.counts, s.counts());
        assert_eq!(meta.not_collected, s.not_collected);
        assert_eq!(meta.prev_sha256, None);
        // Survives closing and reopening the file.
        drop(store);
        let store = open(&dir.path().join("h.db"));
        assert_eq!(state_at(&store, meta.id), s);
        let stored = store.snapshot(meta.id).ok();
        assert_eq!(stored, Some(meta));
    }

    /// A snapshot taken before roles, role grants, access requests and
    /// settings were read has no count for them: it still verifies, and reads
    /// them back as not collected rather than as "there are none".
    #[test]
    fn a_snapshot_from_before_the_later_kinds_reads_them_as_not_collected() {
        let dir = tmp();
        let path = dir.path().join("h.db");
        let mut store = open(&path);
        let mut s = sample_state();
        s.roles.clear();
        s.role_grants.clear();
        s.access_requests.clear();
        s.settings.clear();
        s.usage.clear();
        s.environments.clear();
        s.resource_configurations.clear();
        s.configuration_grants.clear();
        s.app_usage.clear();
        let meta = write(&mut store, "default", s.clone(), 3);
        // What the first release wrote: counts of its ten kinds only.
        let later = EntityKind::ADDED_LATER.map(|k| k.as_str());
        let removed = if on_postgres() {
            format!("(counts_json::jsonb - '{}')::text", later.join("' - '"))
        } else {
            format!("json_remove(counts_json, '$.{}')", later.join("', '$."))
        };
        raw_sql(
            &path,
            &format!(
                "UPDATE snapshots SET counts_json = {removed} WHERE id = {}",
                meta.id
            ),
        );
        let read = state_at(&store, meta.id);
        for kind in EntityKind::ADDED_LATER {
            let why = read.not_collected.get(&kind).map(String::as_str);
            assert_eq!(
                why,
                Some("not read by the retool-audit version that took this snapshot"),
                "{kind}"
            );
        }
        assert_eq!(read.not_collected.get(&EntityKind::Users), None);
        assert!(store.verify().is_ok_and(|r| r.is_ok()));
        // A snapshot of this version that found none of them says so.
        let meta = write(&mut store, "default", s, 4);
        let read = state_at(&store, meta.id);
        assert!(read.roles.is_empty());
        assert_eq!(read.not_collected.get(&EntityKind::Roles), None);
    }

    #[test]
    fn an_unsorted_state_is_stored_normalized() {
        let dir = tmp();
        let mut store = open(&dir.path().join("h.db"));
        let s = sample_state();
        let mut shuffled = s.clone();
        shuffled.users.reverse();
        shuffled.memberships.reverse();
        shuffled.grants.reverse();
        let meta = write(&mut store, "default", shuffled, 3);
        assert_eq!(state_at(&store, meta.id), s);
    }

    #[test]
    fn an_unchanged_snapshot_adds_no_versions_and_almost_no_bytes() {
        let dir = tmp();
        let path = dir.path().join("h.db");
        let mut store = open(&path);
        let mut s = sample_state();
        for i in 0..2000 {
            s.users.push(user(
                &format!("bulk{i:05}"),
                &format!("b{i}@example.com"),
                true,
            ));
            s.memberships.push(member(1, &format!("bulk{i:05}"), false));
        }
        s.normalize();
        write(&mut store, "default", s.clone(), 3);
        let rows_before = version_rows(&path);
        let size_before = file_size(&path);

        let second = write(&mut store, "default", s.clone(), 4);
        assert_eq!(
            version_rows(&path),
            rows_before,
            "no version rows for an unchanged org"
        );
        let size_after = file_size(&path);
        let (size_before, size_after) = (size_before.unwrap_or(0), size_after.unwrap_or(0));
        assert!(
            size_after - size_before <= 16 * 1024,
            "grew by {} bytes",
            size_after - size_before
        );
        assert_eq!(state_at(&store, second.id), s);
        assert_eq!(
            raw_count(&path, "SELECT count(*) FROM runs WHERE status = 'ok'"),
            2
        );
    }

    #[test]
    fn older_snapshots_read_back_exactly_after_later_changes() {
        let dir = tmp();
        let path = dir.path().join("h.db");
        let mut store = open(&path);
        let s1 = sample_state();

        // Snapshot 2: a user changes email, one is disabled, one leaves, a
        // membership flips admin, a grant changes level, an app vanishes,
        // workflows are not collected this time.
        let mut s2 = s1.clone();
        s2.users[0].email = "ada@new.example.com".into();
        s2.users[2].active = false;
        s2.users.remove(1);
        s2.memberships.retain(|m| m.user_id.0 != "u2");
        s2.memberships[0].is_group_admin = true;
        s2.grants[0].level = AccessLevel::Own;
        s2.apps.remove(1);
        s2.workflows.clear();
        s2.not_collected.insert(
            EntityKind::Workflows,
            "403: scope workflows:read missing".into(),
        );
        s2.normalize();

        // Snapshot 3: the user comes back, workflows are collected again.
        let mut s3 = s2.clone();
        s3.users.push(user("u2", "bob@example.com", true));
        s3.workflows = s1.workflows.clone();
        s3.not_collected.remove(&EntityKind::Workflows);
        s3.users[0].last_active = Some(t(5, 7));
        s3.normalize();

        let m1 = write(&mut store, "default", s1.clone(), 3);
        let rows_after_1 = version_rows(&path);
        let m2 = write(&mut store, "default", s2.clone(), 4);
        let m3 = write(&mut store, "default", s3.clone(), 5);
        assert_eq!(state_at(&store, m1.id), s1);
        assert_eq!(state_at(&store, m2.id), s2);
        assert_eq!(state_at(&store, m3.id), s3);
        assert_eq!(m2.prev_sha256.as_deref(), Some(m1.sha256.as_str()));
        assert_eq!(m3.prev_sha256.as_deref(), Some(m2.sha256.as_str()));
        // Only changes were written in snapshot 2: users u1 (email) and u3
        // (disabled), the (1, u1) membership flip, the grant's new level;
        // removals only close versions.
        let new_in_2 = VERSION_TABLES
            .iter()
            .map(|t| {
                raw_count(
                    &path,
                    &format!("SELECT count(*) FROM {t} WHERE valid_from = {}", m2.id),
                )
            })
            .sum::<i64>();
        assert_eq!(new_in_2, 4);
        assert!(version_rows(&path) < rows_after_1 * 2);
    }

    #[test]
    fn a_failure_mid_transaction_leaves_the_history_unchanged() {
        let dir = tmp();
        let path = dir.path().join("h.db");
        let mut store = open(&path);
        let s1 = sample_state();
        let m1 = write(&mut store, "default", s1.clone(), 3);
        let size_before = file_size(&path);

        // Make the memberships step fail after the snapshot row, users and
        // groups were already written in the transaction.
        raw_sql(
            &path,
            if on_postgres() {
                "CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS \
                 $$ BEGIN RAISE EXCEPTION 'disk on fire'; END $$; \
                 CREATE TRIGGER boom BEFORE INSERT ON memberships EXECUTE FUNCTION boom();"
            } else {
                "CREATE TRIGGER boom BEFORE INSERT ON memberships BEGIN SELECT RAISE(ABORT, 'disk on fire'); END;"
            },
        );
        let mut s2 = s1.clone();
        s2.users[0].email = "changed@example.com".into();
        s2.memberships.push(member(2, "u2", false));
        s2.normalize();
        let err = store.write_snapshot("default", &collected(s2, 4));
        assert!(
            matches!(
                err,
                Err(crate::store::StoreError::Sqlite { .. }
                    | crate::store::StoreError::PostgresSql { .. })
            ),
            "{err:?}"
        );
        raw_sql(
            &path,
            if on_postgres() {
                "DROP TRIGGER boom ON memberships"
            } else {
                "DROP TRIGGER boom"
            },
        );
        assert_eq!(file_size(&path), size_before);
        assert_eq!(raw_count(&path, "SELECT count(*) FROM snapshots"), 1);
        assert_eq!(raw_count(&path, "SELECT count(*) FROM runs"), 1);
        assert_eq!(
            raw_count(
                &path,
                "SELECT count(*) FROM users WHERE valid_to IS NOT NULL"
            ),
            0,
            "no version was closed"
        );
        assert_eq!(state_at(&store, m1.id), s1);
        let report = store.verify().ok();
        assert!(report.is_some_and(|r| r.is_ok()));
    }

    #[test]
    fn versions_whose_fingerprint_no_record_can_match_are_replaced() {
        let dir = tmp();
        let path = dir.path().join("h.db");
        let mut store = open(&path);
        let s = sample_state();
        write(&mut store, "default", s.clone(), 3);
        // An edited file: u1's fingerprint is not 16 bytes, u3 has u2's.
        raw_sql(
            &path,
            "UPDATE users SET row_hash = x'00' WHERE user_id = 'u1'; \
             UPDATE users SET row_hash = (SELECT row_hash FROM users WHERE user_id = 'u2') \
             WHERE user_id = 'u3';",
        );
        let m2 = write(&mut store, "default", s.clone(), 4);
        assert_eq!(state_at(&store, m2.id), s);
        let replaced = raw_count(
            &path,
            &format!(
                "SELECT count(*) FROM users WHERE valid_from = {} AND valid_to IS NULL",
                m2.id
            ),
        );
        assert_eq!(replaced, 3, "u1, u2 and u3 get new versions");
        assert_eq!(
            raw_count(&path, "SELECT count(*) FROM users WHERE valid_to IS NULL"),
            s.users.len() as i64
        );
    }

    #[test]
    fn duplicate_keys_are_refused_before_anything_is_written() {
        let dir = tmp();
        let path = dir.path().join("h.db");
        let mut store = open(&path);
        let mut s = sample_state();
        s.memberships.push(member(1, "u1", true)); // (1,u1) twice, differing flag
        s.normalize();
        let err = store.write_snapshot("default", &collected(s, 3));
        assert!(
            matches!(
                err,
                Err(crate::store::StoreError::DuplicateRecord {
                    kind: "memberships",
                    ..
                })
            ),
            "{err:?}"
        );
        assert_eq!(raw_count(&path, "SELECT count(*) FROM snapshots"), 0);
    }

    #[test]
    fn failed_runs_are_logged_without_a_snapshot() {
        let dir = tmp();
        let mut store = open(&dir.path().join("h.db"));
        let r = store.log_failed_run(
            "acme",
            "https://acme.retool.com/api/v2",
            t(3, 0),
            t(3, 5),
            "401 Unauthorized: check RETOOL_TOKEN",
        );
        assert!(r.is_ok(), "{r:?}");
        let runs = store.runs(Some("acme")).unwrap_or_default();
        assert_eq!(runs.len(), 1);
        assert_eq!(runs[0].status, "failed");
        assert_eq!(runs[0].snapshot_id, None);
        assert_eq!(
            runs[0].error.as_deref(),
            Some("401 Unauthorized: check RETOOL_TOKEN")
        );
        assert_eq!(runs[0].finished_at, t(3, 5));
        assert!(store.snapshots(Some("acme")).is_ok_and(|s| s.is_empty()));
        assert_eq!(store.orgs().ok(), Some(vec!["acme".to_string()]));
    }

    #[test]
    fn orgs_in_one_file_keep_separate_states_and_chains() {
        let dir = tmp();
        let mut store = open(&dir.path().join("h.db"));
        let a = sample_state();
        let mut b = sample_state();
        b.users.truncate(1);
        b.users[0].email = "other@b.example".into();
        let a1 = write(&mut store, "acme", a.clone(), 3);
        let b1 = write(&mut store, "beta", b.clone(), 3);
        let a2 = write(&mut store, "acme", a.clone(), 4);
        let b2 = write(&mut store, "beta", b.clone(), 4);
        assert_eq!(b1.prev_sha256, None, "beta starts its own chain");
        assert_eq!(a2.prev_sha256.as_deref(), Some(a1.sha256.as_str()));
        assert_eq!(b2.prev_sha256.as_deref(), Some(b1.sha256.as_str()));
        assert_eq!(state_at(&store, a2.id), a);
        assert_eq!(state_at(&store, b2.id), b);
        assert_eq!(store.orgs().ok(), Some(vec!["acme".into(), "beta".into()]));
        let ids: Vec<i64> = store
            .snapshots(Some("beta"))
            .unwrap_or_default()
            .iter()
            .map(|m| m.id)
            .collect();
        assert_eq!(ids, vec![b1.id, b2.id]);
        assert!(store.verify().is_ok_and(|r| r.is_ok() && r.checked == 4));
    }

    /// Pins the format of the integrity data: the snapshot hashes (`sha256`,
    /// `prev_sha256`) and the stored `row_hash` fingerprints of two snapshots
    /// of the sample org. The expected values were computed once with the
    /// writer as of commit c36bc13 (before the write speed-ups of issue 6): a
    /// change here means existing history files would no longer `verify`.
    #[test]
    fn snapshot_hashes_and_fingerprints_are_stable() {
        use sha2::{Digest, Sha256};
        let dir = tmp();
        let path = dir.path().join("h.db");
        let mut store = open(&path);
        // The sample as the first release knew it: the kinds read since
        // (roles, role grants, access requests, settings) are empty, and an
        // empty later kind must not change a hash.
        let mut s1 = sample_state();
        s1.roles.clear();
        s1.role_grants.clear();
        s1.access_requests.clear();
        s1.settings.clear();
        s1.usage.clear();
        s1.environments.clear();
        s1.resource_configurations.clear();
        s1.configuration_grants.clear();
        s1.app_usage.clear();
        let mut s2 = s1.clone();
        s2.users[0].email = "ada@new.example.com".into();
        s2.users.remove(1);
        s2.memberships[0].is_group_admin = true;
        s2.grants[0].level = AccessLevel::Own;
        s2.normalize();
        let m1 = write(&mut store, "default", s1, 3);
        let m2 = write(&mut store, "default", s2, 4);
        assert_eq!(
            m1.sha256,
            "09880a5353148e809d1065a239dfd4a90781ae88c17f0175e9bc3a27c45d2842"
        );
        assert_eq!(
            m2.sha256,
            "6646f82caaa0418f4341af2803fc04ed78300fa0dd744ecc8a1161c77cea0448"
        );
        assert_eq!(m2.prev_sha256.as_deref(), Some(m1.sha256.as_str()));

        let mut all = Sha256::new();
        for table in VERSION_TABLES {
            let hex = if on_postgres() {
                "upper(encode(row_hash, 'hex'))"
            } else {
                "hex(row_hash)"
            };
            let rows = raw_texts(
                &path,
                &format!(
                    "SELECT {hex} || ':' || valid_from || ':' || coalesce(CAST(valid_to AS TEXT), '-') \
                     FROM {table}"
                ),
            );
            assert!(!rows.is_empty(), "{table} has rows");
            all.update(format!("{table}={}\n", rows.join(",")));
        }
        assert_eq!(
            hex::encode(all.finalize()),
            "b684726874eb20f904443bc459c1a0a3f866f8d4f18d4ad94f2c6c3eaac59806"
        );
    }

    /// A rough timing figure: `cargo test --lib store::write::tests::timing -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn timing_50k_users() {
        use std::time::Instant;
        let dir = tmp();
        let path = dir.path().join("h.db");
        let mut store = open(&path);
        let mut s = OrgState::default();
        for g in 0..50 {
            s.groups.push(group(g, &format!("group {g}")));
        }
        for i in 0..50_000 {
            let id = format!("user-{i:06}-3f2a9c1e-8d4b-4c55-a1f0");
            let mut u = user(&id, &format!("person{i}@example.com"), i % 20 != 0);
            u.last_active = Some(t(1, i64::from(i) * 1_000_003));
            u.raw = format!(
                r#"{{"id":"{id}","email":"person{i}@example.com","first_name":"Person","last_name":"Number {i}","active":true,"is_admin":false,"user_type":"default","two_factor_auth_enabled":false,"last_active":"2026-11-01T02:00:00Z","created_at":"2025-01-01T00:00:00Z","metadata":{{}}}}"#
            );
            s.users.push(u);
            for k in 0..5 {
                s.memberships
                    .push(member((i64::from(i) * 7 + k * 11) % 50, &id, k == 0));
            }
        }
        s.normalize();
        s.memberships
            .dedup_by(|a, b| a.group_id == b.group_id && a.user_id == b.user_id);
        let rows = s.users.len() + s.memberships.len();

        let th = Instant::now();
        let c = collected(s.clone(), 3);
        let _ = crate::store::content_hash(None, &c.info, &c.state);
        eprintln!("content_hash alone {:?}", th.elapsed());

        let t0 = Instant::now();
        let m1 = write(&mut store, "default", s.clone(), 3);
        let first = t0.elapsed();
        raw_sql(&path, "PRAGMA wal_checkpoint(TRUNCATE)");
        let size1 = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        let t1 = Instant::now();
        write(&mut store, "default", s.clone(), 4);
        let unchanged = t1.elapsed();
        raw_sql(&path, "PRAGMA wal_checkpoint(TRUNCATE)");
        let size2 = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        let t2 = Instant::now();
        let back = state_at(&store, m1.id);
        let read = t2.elapsed();
        assert_eq!(back, s);
        let t3 = Instant::now();
        let report = store.verify();
        let verify = t3.elapsed();
        assert!(report.is_ok_and(|r| r.is_ok()));

        // Baseline: a bare bulk insert of the same rows into index-free tables.
        let bare = dir.path().join("bare.db");
        let t4 = Instant::now();
        if let Ok(mut conn) = rusqlite::Connection::open(&bare) {
            let _ = conn.execute_batch(
                "PRAGMA journal_mode=WAL; CREATE TABLE u (org, user_id, legacy_id, email, first_name, last_name, active, is_admin, user_type, two_factor_enabled, created_at, last_active, raw, valid_from); CREATE TABLE m (org, group_id, user_id, is_group_admin, valid_from);",
            );
            if let Ok(tx) = conn.transaction() {
                {
                    let mut iu = tx.prepare(
                        "INSERT INTO u VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14)",
                    );
                    let mut im = tx.prepare("INSERT INTO m VALUES (?1,?2,?3,?4,?5)");
                    if let (Ok(iu), Ok(im)) = (&mut iu, &mut im) {
                        for u in &s.users {
                            let _ = iu.execute(rusqlite::params![
                                "default",
                                u.id.0,
                                u.legacy_id,
                                u.email,
                                u.first_name,
                                u.last_name,
                                u.active,
                                u.is_admin,
                                u.user_type,
                                u.two_factor_enabled,
                                u.created_at.map(|t| super::time_text(&t)),
                                u.last_active.map(|t| super::time_text(&t)),
                                u.raw,
                                1
                            ]);
                        }
                        for m in &s.memberships {
                            let _ = im.execute(rusqlite::params![
                                "default",
                                m.group_id.0,
                                m.user_id.0,
                                m.is_group_admin,
                                1
                            ]);
                        }
                    }
                }
                let _ = tx.commit();
            }
        }
        let bare_time = t4.elapsed();
        eprintln!(
            "{rows} rows: first snapshot {first:?} (bare bulk insert {bare_time:?}), unchanged snapshot {unchanged:?} (+{} bytes), state_at {read:?}, verify of 2 snapshots {verify:?}, file {size1} bytes",
            size2.saturating_sub(size1)
        );
    }
}
