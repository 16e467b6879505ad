//! `copy-history`: every organization's history from one store into another
//! (a SQLite file into PostgreSQL, or back), keeping every id, so that the
//! copy's snapshots have the same ids, rows and hashes and `verify` passes on
//! both.
//!
//! Snapshots are copied one transaction each, in id order: the snapshot's
//! row, its `runs` row, the versions that begin there (still open) and the
//! closing of the versions that end there, plus the `pruned_snapshots` rows
//! before it. After each commit the copy is the source as it was when that
//! snapshot was taken; interrupted, it holds whole snapshots only, and a
//! rerun goes on after the last one. Failed runs and review campaigns (their
//! items and decisions) follow in one last transaction.

use std::collections::{BTreeMap, BTreeSet};

use super::db::{Begin, Binder, Db, DbResult, Params, Value, params};
use super::error::SqlContext;
use super::{Store, StoreError};
use crate::model::EntityKind;

/// What a copy did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CopyOutcome {
    /// Snapshots copied by this run.
    pub copied: usize,
    /// Snapshots the target already had (an earlier, interrupted copy).
    pub present: usize,
    /// Organizations in the source.
    pub orgs: usize,
    /// Version rows copied.
    pub versions: u64,
    /// `pruned_snapshots` rows copied.
    pub pruned: usize,
    /// Review campaigns copied.
    pub campaigns: usize,
}

/// Rows per `INSERT` statement at most (and at most this many parameters).
const BATCH_ROWS: usize = 256;
const BATCH_PARAMS: usize = 30_000;

impl Store {
    /// Copies this history into `target`, which must be empty or hold an
    /// earlier copy of this history (the same snapshots, ids and hashes);
    /// anything else is refused before anything is written. `progress` is
    /// called after each snapshot with (done, total).
    pub fn copy_history_to(
        &self,
        target: &Store,
        mut progress: impl FnMut(usize, usize),
    ) -> Result<CopyOutcome, StoreError> {
        let (src, dst) = (&self.conn, &target.conn);
        let (sp, tp) = (&self.path, &target.path);
        let listing = "listing snapshots";
        let source = snapshot_ids(src).ctx(sp, listing)?;
        let present = snapshot_ids(dst).ctx(tp, listing)?;
        for (id, (org, sha)) in &present {
            if source.get(id) != Some(&(org.clone(), sha.clone())) {
                return Err(StoreError::CopyConflict {
                    target: tp.display().to_string(),
                    detail: format!(
                        "it already holds snapshot {id} of organization `{org}`, which is not this \
                         history's"
                    ),
                });
            }
        }
        let mut pruned_done: BTreeSet<i64> =
            ids(dst, "SELECT id FROM pruned_snapshots").ctx(tp, listing)?;
        let pruned: Vec<i64> = ids(src, "SELECT id FROM pruned_snapshots")
            .ctx(sp, listing)?
            .into_iter()
            .collect();
        let mut outcome = CopyOutcome {
            present: present.len(),
            orgs: source
                .values()
                .map(|(o, _)| o)
                .collect::<BTreeSet<_>>()
                .len(),
            ..CopyOutcome::default()
        };
        let total = source.len();
        for (n, (&id, (org, _))) in source.iter().enumerate() {
            if present.contains_key(&id) {
                continue;
            }
            let context = format!("copying snapshot {id}");
            let tx = dst.begin(Begin::Write).ctx(tp, &context)?;
            tx.lock_org_in_transaction(org).ctx(tp, &context)?;
            let earlier: Vec<i64> = pruned
                .iter()
                .copied()
                .filter(|p| *p < id && !pruned_done.contains(p))
                .collect();
            outcome.versions += copy_snapshot(src, &tx, id, &earlier).map_err(|e| {
                StoreError::from_db(tp, &format!("{context} (from {})", sp.display()), e)
            })?;
            tx.commit().ctx(tp, &context)?;
            outcome.pruned += earlier.len();
            pruned_done.extend(earlier);
            outcome.copied += 1;
            progress(n + 1, total);
        }
        let context = "copying failed runs and review campaigns";
        let tx = dst.begin(Begin::Write).ctx(tp, context)?;
        let rest: Vec<i64> = pruned
            .into_iter()
            .filter(|p| !pruned_done.contains(p))
            .collect();
        outcome.pruned += rest.len();
        outcome.campaigns = copy_the_rest(src, &tx, &rest).ctx(tp, context)?;
        tx.commit().ctx(tp, context)?;
        Ok(outcome)
    }
}

/// Every snapshot: id → (org, sha256).
fn snapshot_ids(db: &Db) -> DbResult<BTreeMap<i64, (String, String)>> {
    db.prepare("SELECT id, org, sha256 FROM snapshots ORDER BY id")?
        .query_map((), |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?))))?
        .collect()
}

fn ids(db: &Db, sql: &str) -> DbResult<BTreeSet<i64>> {
    db.prepare(sql)?.query_map((), |r| r.get(0))?.collect()
}

/// Copies snapshot `id` (and the pruned snapshots `pruned`) inside the
/// target's open transaction; returns the number of versions copied.
fn copy_snapshot(src: &Db, dst: &Db, id: i64, pruned: &[i64]) -> DbResult<u64> {
    copy_rows(src, dst, "snapshots", "id = ?1", params![id], &[])?;
    for p in pruned {
        copy_rows(src, dst, "pruned_snapshots", "id = ?1", params![p], &[])?;
    }
    let mut versions = 0;
    for kind in EntityKind::ALL {
        let table = kind.as_str();
        // Open until the snapshot that ends them is copied.
        versions += copy_rows(
            src,
            dst,
            table,
            "valid_from = ?1",
            params![id],
            &["valid_to"],
        )?;
        let ending: Vec<i64> = src
            .prepare(&format!("SELECT rowid FROM {table} WHERE valid_to = ?1"))?
            .query_map([id], |r| r.get(0))?
            .collect::<DbResult<_>>()?;
        let mut close = dst.prepare(&format!(
            "UPDATE {table} SET valid_to = ?1 WHERE rowid = ?2"
        ))?;
        for rowid in ending {
            close.execute(params![id, rowid])?;
        }
    }
    copy_rows(src, dst, "runs", "snapshot_id = ?1", params![id], &[])?;
    advance_identities(dst)?;
    Ok(versions)
}

/// Failed runs, the remaining pruned snapshots and the review campaigns
/// (items, decisions) the target does not have yet; returns the campaigns.
fn copy_the_rest(src: &Db, dst: &Db, pruned: &[i64]) -> DbResult<usize> {
    for p in pruned {
        copy_rows(src, dst, "pruned_snapshots", "id = ?1", params![p], &[])?;
    }
    let runs = ids(dst, "SELECT id FROM runs WHERE snapshot_id IS NULL")?;
    for id in ids(src, "SELECT id FROM runs WHERE snapshot_id IS NULL")?.difference(&runs) {
        copy_rows(src, dst, "runs", "id = ?1", params![id], &[])?;
    }
    let campaigns = ids(dst, "SELECT id FROM review_campaigns")?;
    let new: Vec<i64> = ids(src, "SELECT id FROM review_campaigns")?
        .difference(&campaigns)
        .copied()
        .collect();
    for id in &new {
        copy_rows(src, dst, "review_campaigns", "id = ?1", params![id], &[])?;
        copy_rows(
            src,
            dst,
            "review_items",
            "campaign_id = ?1",
            params![id],
            &[],
        )?;
        // Which decision superseded which is set once all are there.
        copy_rows(
            src,
            dst,
            "review_decisions",
            "campaign_id = ?1",
            params![id],
            &["superseded_by"],
        )?;
        let superseded: Vec<(i64, i64)> = src
            .prepare("SELECT id, superseded_by FROM review_decisions WHERE campaign_id = ?1 AND superseded_by IS NOT NULL")?
            .query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<DbResult<_>>()?;
        let mut set =
            dst.prepare("UPDATE review_decisions SET superseded_by = ?1 WHERE id = ?2")?;
        for (decision, by) in superseded {
            set.execute(params![by, decision])?;
        }
    }
    advance_identities(dst)?;
    Ok(new.len())
}

/// Copies the rows of `table` that `filter` selects, every column as stored
/// (a versioned table's `rowid` too), the columns `nulled` as NULL; returns
/// how many.
fn copy_rows(
    src: &Db,
    dst: &Db,
    table: &str,
    filter: &str,
    params: impl Params,
    nulled: &[&str],
) -> DbResult<u64> {
    let mut columns: Vec<String> = src
        .prepare(&format!("SELECT * FROM {table} LIMIT 0"))?
        .column_names()
        .into_iter()
        .filter(|c| c != "rowid")
        .collect();
    if EntityKind::parse(table).is_some() {
        columns.insert(0, "rowid".to_string());
    }
    let select: Vec<&str> = columns
        .iter()
        .map(|c| {
            if nulled.contains(&c.as_str()) {
                "NULL"
            } else {
                c.as_str()
            }
        })
        .collect();
    let mut read = src.prepare(&format!(
        "SELECT {} FROM {table} WHERE {filter}",
        select.join(", ")
    ))?;
    let mut rows = read.query(params)?;
    let width = columns.len();
    let per_batch = BATCH_ROWS.min(BATCH_PARAMS / width).max(1);
    let mut batch: Vec<Value<'static>> = Vec::with_capacity(per_batch * width);
    let mut copied = 0;
    while let Some(row) = rows.next()? {
        for i in 0..width {
            batch.push(owned(row.get_ref(i)?));
        }
        if batch.len() == per_batch * width {
            copied += insert(dst, table, &columns, &batch)?;
            batch.clear();
        }
    }
    if !batch.is_empty() {
        copied += insert(dst, table, &columns, &batch)?;
    }
    Ok(copied)
}

fn owned(v: super::db::ValueRef<'_>) -> Value<'static> {
    use super::db::ValueRef as R;
    use std::borrow::Cow;
    match v {
        R::Null => Value::Null,
        R::Int(i) => Value::Int(i),
        R::Real(f) => Value::Real(f),
        R::Text(t) => match String::from_utf8(t.into_owned()) {
            Ok(s) => Value::Text(Cow::Owned(s)),
            Err(e) => Value::Blob(Cow::Owned(e.into_bytes())),
        },
        R::Blob(b) => Value::Blob(Cow::Owned(b.to_vec())),
    }
}

/// Inserts `values` (whole rows of `columns`) into `table`, ids as given.
fn insert(dst: &Db, table: &str, columns: &[String], values: &[Value<'_>]) -> DbResult<u64> {
    let width = columns.len();
    if !dst.is_sqlite() {
        // COPY writes identity columns as given.
        let names: Vec<&str> = columns.iter().map(String::as_str).collect();
        return dst.copy_in(
            table,
            &names,
            |e| e,
            |sink| {
                for row in values.chunks(width) {
                    for (i, v) in row.iter().enumerate() {
                        sink.row().raw_bind_parameter(i + 1, v)?;
                    }
                    sink.end_row()?;
                }
                Ok(())
            },
        );
    }
    let rows = values.len() / width;
    let tuples: Vec<String> = (0..rows)
        .map(|r| {
            let p: Vec<String> = (1..=width).map(|c| format!("?{}", r * width + c)).collect();
            format!("({})", p.join(", "))
        })
        .collect();
    let sql = format!(
        "INSERT INTO {table} ({}) VALUES {}",
        columns.join(", "),
        tuples.join(", ")
    );
    let refs: Vec<&dyn super::db::ToValue> = values.iter().map(|v| v as _).collect();
    dst.prepare_cached(&sql)?.execute(refs.as_slice())?;
    Ok(rows as u64)
}

/// PostgreSQL: moves every identity sequence past the ids copied, so that
/// the next snapshot written to the copy gets the next id.
fn advance_identities(dst: &Db) -> DbResult<()> {
    if dst.is_sqlite() {
        return Ok(());
    }
    let mut identities: Vec<(String, &str)> =
        ["snapshots", "runs", "review_campaigns", "review_decisions"]
            .into_iter()
            .map(|t| (t.to_string(), "id"))
            .collect();
    identities.extend(
        EntityKind::ALL
            .iter()
            .map(|k| (k.as_str().to_string(), "rowid")),
    );
    for (table, column) in identities {
        dst.query_row(
            &format!(
                "SELECT setval(pg_get_serial_sequence('{table}', '{column}'), \
                 coalesce((SELECT max({column}) FROM {table}), 0) + 1, false)"
            ),
            (),
            |_| Ok(()),
        )?;
    }
    Ok(())
}
