//! Writing the history: one snapshot (and its `runs` row) per successful
//! collection in one transaction, storing only the records that changed; and
//! the log of failed attempts.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::Path;

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Transaction, TransactionBehavior, params};

use super::error::SqlContext;
use super::rows::{Versioned, row_hash, time_text};
use super::{Store, StoreError, content_hash};
use crate::model::{Collected, OrgState, SnapshotMeta};

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
        let state = normalized(&collected.state);
        check_unique_keys(&state)?;
        let info = &collected.info;
        let counts = state.counts();
        let path = self.path.clone();
        let p = path.as_path();

        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .ctx(p, "starting the snapshot transaction")?;

        let prev_sha256: Option<String> = tx
            .query_row(
                "SELECT sha256 FROM snapshots WHERE org = ?1 ORDER BY id DESC LIMIT 1",
                [org],
                |r| r.get(0),
            )
            .optional()
            .ctx(p, "reading the previous snapshot's hash")?;
        let sha256 = content_hash(prev_sha256.as_deref(), info, &state);

        let counts_json = to_json(&counts).ctx(p, "encoding the counts")?;
        let not_collected_json =
            to_json(&state.not_collected).ctx(p, "encoding the not-collected kinds")?;
        let info_json = to_json(info).ctx(p, "encoding the collection info")?;
        tx.execute(
            "INSERT INTO snapshots (org, started_at, finished_at, source_url, dialect, \
             api_version, tool_version, counts_json, not_collected_json, info_json, sha256, \
             prev_sha256) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
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
                sha256,
                prev_sha256,
            ],
        )
        .ctx(p, "inserting the snapshot")?;
        let id = tx.last_insert_rowid();

        let mut total = Delta::default();
        for d in [
            sync(&tx, p, org, id, &state.users)?,
            sync(&tx, p, org, id, &state.groups)?,
            sync(&tx, p, org, id, &state.memberships)?,
            sync(&tx, p, org, id, &state.folders)?,
            sync(&tx, p, org, id, &state.apps)?,
            sync(&tx, p, org, id, &state.resources)?,
            sync(&tx, p, org, id, &state.workflows)?,
            sync(&tx, p, org, id, &state.grants)?,
            sync(&tx, p, org, id, &state.user_invites)?,
            sync(&tx, p, org, id, &state.access_tokens)?,
        ] {
            total.inserted += d.inserted;
            total.closed += d.closed;
        }

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

fn to_json<T: serde::Serialize>(v: &T) -> rusqlite::Result<String> {
    serde_json::to_string(v).map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))
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
    check(&s.access_tokens)
}

/// Brings one table of `org` to `items` as of snapshot `id`: unchanged records
/// are left alone, changed ones get their open version closed and a new one
/// inserted, vanished ones are closed.
fn sync<T: Versioned>(
    tx: &Transaction<'_>,
    path: &Path,
    org: &str,
    id: i64,
    items: &[T],
) -> Result<Delta, StoreError> {
    let table = T::TABLE;
    let keys = T::KEY_COLUMNS.join(", ");
    let mut open: HashMap<T::Key, (i64, Vec<u8>)> = HashMap::new();
    {
        let mut stmt = tx
            .prepare(&format!(
                "SELECT rowid, row_hash, {keys} FROM {table} WHERE org = ?1 AND valid_to IS NULL"
            ))
            .ctx(path, "preparing to read current versions")?;
        let mut rows = stmt.query([org]).ctx(path, "reading current versions")?;
        while let Some(row) = rows.next().ctx(path, "reading current versions")? {
            let rowid: i64 = row.get(0).ctx(path, "reading current versions")?;
            let hash: Vec<u8> = row.get(1).ctx(path, "reading current versions")?;
            let key = T::key_from_row(row, 2).ctx(path, "reading current versions")?;
            open.insert(key, (rowid, hash));
        }
    }

    let columns = T::COLUMNS.join(", ");
    let n = T::COLUMNS.len();
    let placeholders: Vec<String> = (1..=n + 3).map(|i| format!("?{i}")).collect();
    let mut insert = tx
        .prepare(&format!(
            "INSERT INTO {table} (org, {columns}, row_hash, valid_from) VALUES ({})",
            placeholders.join(", ")
        ))
        .ctx(path, "preparing to insert versions")?;
    let mut close = tx
        .prepare(&format!(
            "UPDATE {table} SET valid_to = ?1 WHERE rowid = ?2"
        ))
        .ctx(path, "preparing to close versions")?;

    let mut delta = Delta::default();
    for item in items {
        let hash = row_hash(item);
        match open.remove(&item.key()) {
            Some((_, old)) if old.as_slice() == hash.as_slice() => continue,
            Some((rowid, _)) => {
                close
                    .execute(params![id, rowid])
                    .ctx(path, "closing a changed version")?;
                delta.closed += 1;
            }
            None => {}
        }
        insert
            .raw_bind_parameter(1, org)
            .ctx(path, "inserting a version")?;
        item.bind(&mut insert, 2).ctx(path, "inserting a version")?;
        insert
            .raw_bind_parameter(n + 2, hash.as_slice())
            .ctx(path, "inserting a version")?;
        insert
            .raw_bind_parameter(n + 3, id)
            .ctx(path, "inserting a version")?;
        insert.raw_execute().ctx(path, "inserting a version")?;
        delta.inserted += 1;
    }
    for (rowid, _) in open.into_values() {
        close
            .execute(params![id, rowid])
            .ctx(path, "closing a vanished version")?;
        delta.closed += 1;
    }
    Ok(delta)
}
