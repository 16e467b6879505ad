//! The integrity chain: the canonical content hash of a snapshot, and `verify`,
//! which recomputes every snapshot's hash from the stored rows and checks the
//! per-org chain links and SQLite's own consistency checks.

use std::collections::{BTreeMap, BTreeSet};

use sha2::{Digest, Sha256};

use super::db::DbResult;
use super::error::SqlContext;
use super::rows::{Versioned, fingerprint, time_text};
use super::{Store, StoreError};
use crate::model::{
    AccessRequest, AccessToken, App, AppUsage, CollectionInfo, ConfigurationGrant, EntityKind,
    Environment, Folder, Grant, Group, Membership, OrgState, Resource, ResourceConfiguration, Role,
    RoleGrant, Setting, SnapshotMeta, User, UserInvite, UserUsage, Workflow,
};

/// SHA-256 (hex) over the previous snapshot's hash (or nothing), then the
/// canonical JSON of `info`, then the canonical JSON of `state` (which must be
/// normalized: the model's serialization is then canonical).
pub fn content_hash(prev_sha256: Option<&str>, info: &CollectionInfo, state: &OrgState) -> String {
    hash_snapshot(prev_sha256, info, state, |_, _| {})
}

/// Computes [`content_hash`] while serializing every record only once, handing
/// each record's canonical JSON to `on_record` (the writer fingerprints rows
/// from it). The bytes hashed are exactly `serde_json::to_writer(state)`'s,
/// which a test pins.
pub(crate) fn hash_snapshot(
    prev_sha256: Option<&str>,
    info: &CollectionInfo,
    state: &OrgState,
    mut on_record: impl FnMut(EntityKind, &[u8]),
) -> String {
    let mut h = BufferedHasher::new();
    h.push(prev_sha256.unwrap_or("").as_bytes());
    // Writing model data into memory cannot fail (string map keys only).
    let _ = serde_json::to_writer(&mut h, info);
    let mut record = Vec::with_capacity(4096);
    let mut list = |h: &mut BufferedHasher, kind: EntityKind, first: bool, items: &dyn Records| {
        h.push(if first { b"{\"" } else { b",\"" });
        h.push(kind.as_str().as_bytes());
        h.push(b"\":[");
        for i in 0..items.len() {
            if i > 0 {
                h.push(b",");
            }
            record.clear();
            items.write_json(i, &mut record);
            on_record(kind, &record);
            h.push(&record);
        }
        h.push(b"]");
    };
    list(&mut h, EntityKind::Users, true, &state.users);
    list(&mut h, EntityKind::Groups, false, &state.groups);
    list(&mut h, EntityKind::Memberships, false, &state.memberships);
    list(&mut h, EntityKind::Folders, false, &state.folders);
    list(&mut h, EntityKind::Apps, false, &state.apps);
    list(&mut h, EntityKind::Resources, false, &state.resources);
    list(&mut h, EntityKind::Workflows, false, &state.workflows);
    list(&mut h, EntityKind::Grants, false, &state.grants);
    list(&mut h, EntityKind::UserInvites, false, &state.user_invites);
    list(
        &mut h,
        EntityKind::AccessTokens,
        false,
        &state.access_tokens,
    );
    // Kinds added after the first release are hashed only when present, so
    // the hash of a snapshot taken before them does not change (the model's
    // serialization skips them the same way).
    let later: [(EntityKind, &dyn Records); 9] = [
        (EntityKind::Roles, &state.roles),
        (EntityKind::RoleGrants, &state.role_grants),
        (EntityKind::AccessRequests, &state.access_requests),
        (EntityKind::Settings, &state.settings),
        (EntityKind::Usage, &state.usage),
        (EntityKind::Environments, &state.environments),
        (
            EntityKind::ResourceConfigurations,
            &state.resource_configurations,
        ),
        (EntityKind::ConfigurationGrants, &state.configuration_grants),
        (EntityKind::AppUsage, &state.app_usage),
    ];
    for (kind, items) in later {
        if items.len() > 0 {
            list(&mut h, kind, false, items);
        }
    }

    h.push(b",\"not_collected\":");
    let _ = serde_json::to_writer(&mut h, &state.not_collected);
    h.push(b"}");
    h.finish()
}

/// A list of records that can write one of them as JSON.
trait Records {
    fn len(&self) -> usize;
    fn write_json(&self, i: usize, out: &mut Vec<u8>);
}

impl<T: serde::Serialize> Records for Vec<T> {
    fn len(&self) -> usize {
        <[T]>::len(self)
    }
    fn write_json(&self, i: usize, out: &mut Vec<u8>) {
        if let Some(item) = self.get(i) {
            let _ = serde_json::to_writer(out, item);
        }
    }
}

/// Feeds SHA-256 in large chunks: serde writes many tiny pieces.
struct BufferedHasher {
    hasher: Sha256,
    buf: Vec<u8>,
}

impl BufferedHasher {
    const CHUNK: usize = 64 * 1024;

    fn new() -> Self {
        BufferedHasher {
            hasher: Sha256::new(),
            buf: Vec::with_capacity(Self::CHUNK * 2),
        }
    }

    fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
        if self.buf.len() >= Self::CHUNK {
            self.hasher.update(&self.buf);
            self.buf.clear();
        }
    }

    fn finish(mut self) -> String {
        self.hasher.update(&self.buf);
        hex::encode(self.hasher.finalize())
    }
}

impl std::io::Write for BufferedHasher {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.push(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// What `verify` found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifyReport {
    /// Snapshots whose content was recomputed.
    pub checked: usize,
    /// Prune records (removed snapshots) the chain runs through.
    pub pruned: usize,
    /// Every problem, ordered by org, then snapshot id (file-wide problems last).
    pub problems: Vec<VerifyProblem>,
}

/// One integrity problem, naming the snapshot when it concerns one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyProblem {
    pub snapshot_id: Option<i64>,
    pub org: String,
    pub detail: String,
}

impl std::fmt::Display for VerifyProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.snapshot_id {
            Some(id) => write!(f, "org {}, snapshot {id}: {}", self.org, self.detail),
            None => write!(f, "org {}: {}", self.org, self.detail),
        }
    }
}

impl VerifyReport {
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }

    /// The earliest snapshot (lowest id) that has a problem.
    pub fn first_broken(&self) -> Option<i64> {
        self.problems.iter().filter_map(|p| p.snapshot_id).min()
    }
}

/// `users: 3 recorded, 2 stored; ...` for the kinds whose counts differ.
fn count_differences(recorded: &crate::model::Counts, stored: &crate::model::Counts) -> String {
    EntityKind::ALL
        .iter()
        .filter_map(|k| {
            let r = recorded.get(k).copied().unwrap_or(0);
            let s = stored.get(k).copied().unwrap_or(0);
            (r != s).then(|| format!("{k}: {r} recorded, {s} stored"))
        })
        .collect::<Vec<_>>()
        .join("; ")
}

const VERSIONED_TABLES: [EntityKind; 19] = EntityKind::ALL;

/// A removed snapshot as `pruned_snapshots` records it.
struct PrunedLink {
    id: i64,
    org: String,
    sha256: String,
    prev_sha256: Option<String>,
}

/// One link of an org's chain.
enum Link<'a> {
    Stored(&'a SnapshotMeta),
    Pruned(&'a PrunedLink),
}

impl Link<'_> {
    fn id(&self) -> i64 {
        match self {
            Link::Stored(m) => m.id,
            Link::Pruned(p) => p.id,
        }
    }

    fn sha256(&self) -> &str {
        match self {
            Link::Stored(m) => &m.sha256,
            Link::Pruned(p) => &p.sha256,
        }
    }

    fn prev_sha256(&self) -> Option<&str> {
        match self {
            Link::Stored(m) => m.prev_sha256.as_deref(),
            Link::Pruned(p) => p.prev_sha256.as_deref(),
        }
    }
}

impl Store {
    /// Recomputes every snapshot's hash from the stored rows and checks the
    /// chain links, stray versions and SQLite's integrity and foreign keys.
    /// Problems are reported, not returned as errors; an error means the file
    /// could not be read at all.
    pub fn verify(&self) -> Result<VerifyReport, StoreError> {
        let mut report = VerifyReport::default();
        let mut file_wide = Vec::new();
        self.check_sqlite(&mut file_wide)?;

        // Each snapshot row is read on its own: an unreadable one is a problem
        // of that snapshot, not a reason to stop verifying the others.
        let mut stored = Vec::new();
        for listed in self.snapshot_rows()? {
            match listed.meta {
                Ok(meta) => stored.push(meta),
                Err(e) => report.problems.push(VerifyProblem {
                    snapshot_id: Some(listed.id),
                    org: listed.org,
                    detail: format!("snapshot row unreadable: {e}"),
                }),
            }
        }
        let pruned = self.pruned_links()?;
        let stored_ids: BTreeSet<i64> = stored.iter().map(|m| m.id).collect();
        // Each org's chain, in id order: stored snapshots and the prune records
        // that stand in for removed ones.
        let mut chains: BTreeMap<&str, Vec<Link<'_>>> = BTreeMap::new();
        for meta in &stored {
            chains
                .entry(&meta.org)
                .or_default()
                .push(Link::Stored(meta));
        }
        for p in &pruned {
            chains.entry(&p.org).or_default().push(Link::Pruned(p));
        }
        for (org, links) in &mut chains {
            links.sort_by_key(Link::id);
            let mut prev: Option<&str> = None;
            for link in links.iter() {
                let problem = |detail: &str| VerifyProblem {
                    snapshot_id: Some(link.id()),
                    org: org.to_string(),
                    detail: detail.to_string(),
                };
                if link.prev_sha256() != prev {
                    report.problems.push(problem(match (link, prev, link.prev_sha256()) {
                        (Link::Pruned(_), _, _) => "chain broken: the prune record of this snapshot does not link to the snapshot before it (a prune record or a snapshot was edited, inserted or deleted)",
                        (_, None, Some(_)) => "chain broken: the org's first snapshot names a previous hash (earlier snapshots were deleted or the chain was re-ordered)",
                        (_, Some(_), None) => "chain broken: it claims to be the org's first snapshot but is not (snapshots were inserted or re-ordered)",
                        _ => "chain broken: prev_sha256 is not the previous snapshot's sha256 (a snapshot was deleted, inserted or re-ordered)",
                    }));
                }
                prev = Some(link.sha256());
                match link {
                    Link::Stored(meta) => {
                        self.check_content(meta, &mut report.problems)?;
                        report.checked += 1;
                    }
                    Link::Pruned(p) => {
                        if stored_ids.contains(&p.id) {
                            report.problems.push(problem(
                                "recorded as pruned but still stored (a prune record was inserted)",
                            ));
                        }
                        report.pruned += 1;
                    }
                }
            }
            if let Some(Link::Pruned(p)) = links.last() {
                report.problems.push(VerifyProblem {
                    snapshot_id: Some(p.id),
                    org: org.to_string(),
                    detail: "the org's latest snapshot is recorded as pruned, which prune never does (the latest snapshot was deleted)".to_string(),
                });
            }
        }
        self.check_stray_versions(&mut report.problems)?;
        report.problems.sort_by(|a, b| {
            (&a.org, a.snapshot_id.is_none(), a.snapshot_id).cmp(&(
                &b.org,
                b.snapshot_id.is_none(),
                b.snapshot_id,
            ))
        });
        self.check_row_hashes::<User>(&mut report.problems)?;
        self.check_row_hashes::<Group>(&mut report.problems)?;
        self.check_row_hashes::<Membership>(&mut report.problems)?;
        self.check_row_hashes::<Folder>(&mut report.problems)?;
        self.check_row_hashes::<App>(&mut report.problems)?;
        self.check_row_hashes::<Resource>(&mut report.problems)?;
        self.check_row_hashes::<Workflow>(&mut report.problems)?;
        self.check_row_hashes::<Grant>(&mut report.problems)?;
        self.check_row_hashes::<UserInvite>(&mut report.problems)?;
        self.check_row_hashes::<AccessToken>(&mut report.problems)?;
        self.check_row_hashes::<Role>(&mut report.problems)?;
        self.check_row_hashes::<RoleGrant>(&mut report.problems)?;
        self.check_row_hashes::<AccessRequest>(&mut report.problems)?;
        self.check_row_hashes::<Setting>(&mut report.problems)?;
        self.check_row_hashes::<UserUsage>(&mut report.problems)?;
        self.check_row_hashes::<Environment>(&mut report.problems)?;
        self.check_row_hashes::<ResourceConfiguration>(&mut report.problems)?;
        self.check_row_hashes::<ConfigurationGrant>(&mut report.problems)?;
        self.check_row_hashes::<AppUsage>(&mut report.problems)?;
        report.problems.extend(file_wide);
        Ok(report)
    }

    /// Recomputes one stored snapshot's hash and counts from its rows.
    /// Versions whose stored `row_hash` is not the fingerprint of the record
    /// they hold. The fingerprint decides whether a later snapshot re-uses a
    /// version, so an edited one would hide a change from the next snapshot.
    /// Rows that do not read back at all are reported by the snapshot check.
    fn check_row_hashes<T: Versioned>(
        &self,
        problems: &mut Vec<VerifyProblem>,
    ) -> Result<(), StoreError> {
        let p = &self.path;
        let context = "checking row fingerprints";
        let table = T::TABLE;
        let sql = format!(
            "SELECT rowid, org, valid_from, row_hash, {} FROM {table}",
            T::columns().join(", ")
        );
        let mut stmt = self.conn.prepare(&sql).ctx(p, context)?;
        let mut rows = stmt.query(()).ctx(p, context)?;
        let mut json = Vec::new();
        while let Some(row) = rows.next().ctx(p, context)? {
            let Ok(record) = T::from_row(&row, 4) else {
                continue;
            };
            json.clear();
            // Writing a model record into memory cannot fail.
            let _ = serde_json::to_writer(&mut json, &record);
            let stored = row.get_ref(3).ctx(p, context)?;
            let stored = stored.as_bytes().unwrap_or_default();
            if stored != fingerprint(&json).as_slice() {
                let rowid: i64 = row.get(0).ctx(p, context)?;
                problems.push(VerifyProblem {
                    snapshot_id: Some(row.get(2).ctx(p, context)?),
                    org: row.get(1).ctx(p, context)?,
                    detail: format!(
                        "{table} row {rowid}: its fingerprint (row_hash) does not match its content; the row was edited after it was written"
                    ),
                });
            }
        }
        Ok(())
    }

    fn check_content(
        &self,
        meta: &SnapshotMeta,
        problems: &mut Vec<VerifyProblem>,
    ) -> Result<(), StoreError> {
        let mut problem = |detail: String| {
            problems.push(VerifyProblem {
                snapshot_id: Some(meta.id),
                org: meta.org.clone(),
                detail,
            })
        };
        self.check_columns(meta.id, &meta.info, &mut problem)?;
        match self.state_of(&meta.org, meta.id, meta.not_collected.clone()) {
            Ok(state) => {
                let counts = count_differences(&meta.counts, &state.counts());
                let hash = content_hash(meta.prev_sha256.as_deref(), &meta.info, &state);
                if hash != meta.sha256 {
                    let mut detail = "content hash mismatch: records of this snapshot were edited, deleted or inserted after it was written".to_string();
                    if !counts.is_empty() {
                        detail.push_str(&format!(" (record counts: {counts})"));
                    }
                    problem(detail);
                } else if !counts.is_empty() {
                    problem(format!("recorded counts were edited ({counts})"));
                }
                Ok(())
            }
            Err(StoreError::Corrupt { detail }) => {
                problem(format!("records unreadable: {detail}"));
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// Every `pruned_snapshots` row: the chain links that stand in for removed
    /// snapshots.
    fn pruned_links(&self) -> Result<Vec<PrunedLink>, StoreError> {
        let p = &self.path;
        let context = "reading the prune records";
        let mut stmt = self
            .conn
            .prepare("SELECT id, org, sha256, prev_sha256 FROM pruned_snapshots ORDER BY id")
            .ctx(p, context)?;
        let rows = stmt
            .query_map((), |r| {
                Ok(PrunedLink {
                    id: r.get(0)?,
                    org: r.get(1)?,
                    sha256: r.get(2)?,
                    prev_sha256: r.get(3)?,
                })
            })
            .ctx(p, context)?;
        rows.collect::<DbResult<_>>().ctx(p, context)
    }

    /// The engine's own checks: SQLite's `integrity_check` and
    /// `foreign_key_check`; on PostgreSQL (which checks its pages itself) every
    /// foreign key again, since a superuser can write with them switched off.
    fn check_sqlite(&self, problems: &mut Vec<VerifyProblem>) -> Result<(), StoreError> {
        let violations = if self.conn.is_sqlite() {
            self.check_integrity(problems)?;
            self.sqlite_foreign_key_check()?
        } else {
            self.foreign_key_violations()?
        };
        for (table, rowid, parent) in violations {
            problems.push(VerifyProblem {
                snapshot_id: None,
                org: String::new(),
                detail: format!(
                    "foreign key violation: {table} row {} refers to a missing {parent} row",
                    rowid.map_or("?".to_string(), |r| r.to_string())
                ),
            });
        }
        Ok(())
    }

    fn check_integrity(&self, problems: &mut Vec<VerifyProblem>) -> Result<(), StoreError> {
        let p = &self.path;
        let lines = self
            .conn
            .prepare("PRAGMA integrity_check")
            .and_then(|mut st| {
                st.query_map((), |r| r.get::<_, String>(0))?
                    .collect::<DbResult<Vec<_>>>()
            })
            .ctx(p, "running integrity_check")?;
        if lines != ["ok"] {
            for line in lines {
                problems.push(VerifyProblem {
                    snapshot_id: None,
                    org: String::new(),
                    detail: format!("SQLite integrity check: {line}"),
                });
            }
        }
        Ok(())
    }

    /// (table, rowid, parent table) of every row whose foreign key names a
    /// missing row.
    fn sqlite_foreign_key_check(&self) -> Result<Vec<(String, Option<i64>, String)>, StoreError> {
        self.conn
            .prepare("PRAGMA foreign_key_check")
            .and_then(|mut st| {
                st.query_map((), |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                    .collect::<DbResult<Vec<_>>>()
            })
            .ctx(&self.path, "running foreign_key_check")
    }

    /// [`Store::sqlite_foreign_key_check`] on PostgreSQL: every declared
    /// single-column key, and the versioned tables' `valid_from`/`valid_to`
    /// (declared without a constraint there).
    fn foreign_key_violations(&self) -> Result<Vec<(String, Option<i64>, String)>, StoreError> {
        let (p, context) = (&self.path, "checking foreign keys");
        let declared: Vec<(String, String, String, String, Option<String>)> = self
            .conn
            .prepare(
                "SELECT c.conrelid::regclass::text, a.attname::text, c.confrelid::regclass::text, \
                 f.attname::text, (SELECT r.attname::text FROM pg_attribute r \
                 WHERE r.attrelid = c.conrelid AND r.attname IN ('rowid', 'id') LIMIT 1) \
                 FROM pg_constraint c \
                 JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] \
                 JOIN pg_attribute f ON f.attrelid = c.confrelid AND f.attnum = c.confkey[1] \
                 WHERE c.contype = 'f' AND cardinality(c.conkey) = 1 \
                 AND c.connamespace = current_schema()::regnamespace ORDER BY 1, 2",
            )
            .and_then(|mut st| {
                st.query_map((), |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                })?
                .collect::<DbResult<Vec<_>>>()
            })
            .ctx(p, context)?;
        let versions = crate::model::EntityKind::ALL.iter().flat_map(|k| {
            ["valid_from", "valid_to"].map(|c| {
                let snapshots = ("snapshots".to_string(), "id".to_string());
                (
                    k.as_str().to_string(),
                    c.to_string(),
                    snapshots.0,
                    snapshots.1,
                    Some("rowid".to_string()),
                )
            })
        });
        let mut out = Vec::new();
        for (table, column, parent, parent_column, id) in declared.into_iter().chain(versions) {
            let id = id.map_or("NULL".to_string(), |c| format!("t.{c}"));
            let sql = format!(
                "SELECT {id} FROM {table} t WHERE t.{column} IS NOT NULL AND NOT EXISTS \
                 (SELECT 1 FROM {parent} x WHERE x.{parent_column} = t.{column})"
            );
            let rowids = self
                .conn
                .prepare(&sql)
                .and_then(|mut st| {
                    st.query_map((), |r| r.get(0))?
                        .collect::<DbResult<Vec<_>>>()
                })
                .ctx(p, context)?;
            out.extend(
                rowids
                    .into_iter()
                    .map(|rowid| (table.clone(), rowid, parent.clone())),
            );
        }
        Ok(out)
    }

    /// The typed columns of `snapshots` must agree with `info_json`.
    fn check_columns(
        &self,
        id: i64,
        info: &CollectionInfo,
        report: &mut dyn FnMut(String),
    ) -> Result<(), StoreError> {
        let (started, finished, url, dialect, api, tool): (
            String,
            String,
            String,
            String,
            Option<String>,
            String,
        ) = self
            .conn
            .query_row(
                "SELECT started_at, finished_at, source_url, dialect, api_version, tool_version \
                 FROM snapshots WHERE id = ?1",
                [id],
                |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                    ))
                },
            )
            .ctx(&self.path, "reading a snapshot's columns")?;
        if started != time_text(&info.started_at)
            || finished != time_text(&info.finished_at)
            || url != info.source_url
            || dialect != info.dialect.as_str()
            || api != info.api_version
            || tool != info.tool_version
        {
            report("snapshot columns (times, source, versions) differ from its recorded collection info".to_string());
        }
        Ok(())
    }

    /// Versions whose `valid_from`/`valid_to` name no snapshot of their org, or
    /// that are valid for no snapshot at all; no `state_at` would show them.
    fn check_stray_versions(&self, problems: &mut Vec<VerifyProblem>) -> Result<(), StoreError> {
        let p = &self.path;
        for kind in VERSIONED_TABLES {
            let table = kind.as_str();
            let sql = format!(
                "SELECT v.rowid, v.org, v.valid_from, v.valid_to, \
                   (SELECT org FROM snapshots WHERE id = v.valid_from), \
                   (SELECT org FROM snapshots WHERE id = v.valid_to) \
                 FROM {table} v \
                 WHERE NOT EXISTS (SELECT 1 FROM snapshots s WHERE s.id = v.valid_from AND s.org = v.org) \
                    OR (v.valid_to IS NOT NULL AND (v.valid_to <= v.valid_from OR NOT EXISTS \
                        (SELECT 1 FROM snapshots s WHERE s.id = v.valid_to AND s.org = v.org)))"
            );
            let mut stmt = self.conn.prepare(&sql).ctx(p, "checking version rows")?;
            let mut rows = stmt.query(()).ctx(p, "checking version rows")?;
            while let Some(r) = rows.next().ctx(p, "checking version rows")? {
                let rowid: i64 = r.get(0).ctx(p, "checking version rows")?;
                let org: String = r.get(1).ctx(p, "checking version rows")?;
                let from: i64 = r.get(2).ctx(p, "checking version rows")?;
                let to: Option<i64> = r.get(3).ctx(p, "checking version rows")?;
                let from_org: Option<String> = r.get(4).ctx(p, "checking version rows")?;
                let starts_in_org = from_org.as_deref() == Some(org.as_str());
                let mut at = from;
                let detail = if !starts_in_org {
                    format!(
                        "{table} row {rowid} says it is valid from snapshot {from}, which is not a snapshot of this org (row inserted, or snapshot deleted)"
                    )
                } else if to.is_some_and(|t| t <= from) {
                    format!(
                        "{table} row {rowid} is valid for no snapshot (valid_to {} <= valid_from {from}); it was not written by retool-audit",
                        to.unwrap_or_default()
                    )
                } else {
                    at = to.unwrap_or(from);
                    format!(
                        "{table} row {rowid} says it ended at snapshot {at}, which is not a snapshot of this org (row edited, or snapshot deleted)"
                    )
                };
                problems.push(VerifyProblem {
                    snapshot_id: Some(at),
                    org,
                    detail,
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use super::*;
    use std::path::{Path, PathBuf};

    /// Three snapshots of `acme` with changes and one of `beta`.
    fn history() -> (tempfile::TempDir, PathBuf, Vec<i64>) {
        let dir = tmp();
        let path = dir.path().join("h.db");
        let mut store = open(&path);
        let s1 = sample_state();
        let mut s2 = s1.clone();
        s2.users[0].email = "ada@new.example".into();
        let mut s3 = s2.clone();
        s3.users[1].active = true;
        let ids = vec![
            write(&mut store, "acme", s1.clone(), 1).id,
            write(&mut store, "acme", s2, 2).id,
            write(&mut store, "acme", s3, 3).id,
            write(&mut store, "beta", s1, 3).id,
        ];
        (dir, path, ids)
    }

    fn verify(path: &Path) -> VerifyReport {
        match Store::open_existing(&super::super::fixtures::history(path)).and_then(|s| s.verify())
        {
            Ok(r) => r,
            Err(e) => panic!("verify: {e}"),
        }
    }

    fn problem_snapshots(r: &VerifyReport) -> Vec<Option<i64>> {
        let mut ids: Vec<Option<i64>> = r.problems.iter().map(|p| p.snapshot_id).collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    #[test]
    fn content_hash_is_sha256_of_the_plain_serialization() {
        let c = collected(sample_state(), 1);
        for prev in [None, Some("ab12")] {
            let mut bytes = prev.unwrap_or("").as_bytes().to_vec();
            bytes.extend(serde_json::to_vec(&c.info).unwrap_or_default());
            bytes.extend(serde_json::to_vec(&c.state).unwrap_or_default());
            assert_eq!(
                content_hash(prev, &c.info, &c.state),
                hex::encode(Sha256::digest(&bytes))
            );
        }
        let empty = OrgState::default();
        let mut bytes = serde_json::to_vec(&c.info).unwrap_or_default();
        bytes.extend(serde_json::to_vec(&empty).unwrap_or_default());
        assert_eq!(
            content_hash(None, &c.info, &empty),
            hex::encode(Sha256::digest(&bytes))
        );
    }

    #[test]
    fn content_hash_depends_on_every_input() {
        let c = collected(sample_state(), 1);
        let h = content_hash(None, &c.info, &c.state);
        assert_eq!(h.len(), 64);
        assert_eq!(h, content_hash(None, &c.info, &c.state));
        assert_ne!(h, content_hash(Some(&h), &c.info, &c.state));
        let mut info = c.info.clone();
        info.notes.push("x".into());
        assert_ne!(h, content_hash(None, &info, &c.state));
        let mut state = c.state.clone();
        state.users[0].raw.push(' ');
        assert_ne!(h, content_hash(None, &c.info, &state));
    }

    #[test]
    fn an_untouched_file_verifies() {
        let (_dir, path, ids) = history();
        let r = verify(&path);
        assert!(r.is_ok(), "{:?}", r.problems);
        assert_eq!(r.checked, ids.len());
        assert_eq!(r.first_broken(), None);
    }

    #[test]
    fn an_edited_row_is_reported_at_the_snapshots_it_belongs_to() {
        let (_dir, path, ids) = history();
        // u2's first version covers snapshots 1 and 2 (it changes at 3).
        raw_sql(
            &path,
            "UPDATE users SET email = 'mallory@evil.example' WHERE user_id = 'u2' AND valid_to IS NOT NULL",
        );
        let r = verify(&path);
        assert_eq!(
            problem_snapshots(&r),
            vec![Some(ids[0]), Some(ids[1])],
            "{:?}",
            r.problems
        );
        assert_eq!(r.first_broken(), Some(ids[0]));
        assert!(r.problems[0].detail.contains("hash mismatch"));
        assert_eq!(r.problems[0].org, "acme");
    }

    #[test]
    fn a_deleted_version_row_is_reported() {
        let (_dir, path, ids) = history();
        raw_sql(
            &path,
            "DELETE FROM memberships WHERE org = 'acme' AND user_id = 'u3'",
        );
        let r = verify(&path);
        assert_eq!(
            problem_snapshots(&r),
            vec![Some(ids[0]), Some(ids[1]), Some(ids[2])]
        );
    }

    #[test]
    fn inserted_rows_are_reported() {
        let (_dir, path, ids) = history();
        // A grant slipped into snapshot 2 only.
        raw_sql(
            &path,
            &format!(
                "INSERT INTO grants (org, subject_type, subject_id, object_type, object_id, access_level, row_hash, valid_from, valid_to) \
                 VALUES ('acme', 'user', 'u2', 'resource', 'r1', 'own', x'00', {}, {})",
                ids[1], ids[2]
            ),
        );
        let r = verify(&path);
        assert_eq!(
            problem_snapshots(&r),
            vec![Some(ids[1])],
            "{:?}",
            r.problems
        );

        // A row that names no snapshot at all is reported too (and by SQLite's
        // foreign key check).
        let (_dir2, path2, _) = history();
        raw_sql(
            &path2,
            "INSERT INTO users (org, user_id, email, active, is_admin, user_type, raw, row_hash, valid_from) \
             VALUES ('acme', 'ghost', 'g@x', 1, 1, 'default', '{}', x'00', 999)",
        );
        let r = verify(&path2);
        assert!(
            r.problems
                .iter()
                .any(|p| p.snapshot_id == Some(999) && p.detail.contains("users row")),
            "{:?}",
            r.problems
        );
        assert!(
            r.problems.iter().any(|p| p.detail.contains("foreign key")),
            "{:?}",
            r.problems
        );
    }

    #[test]
    fn a_deleted_middle_snapshot_breaks_the_chain_at_the_next_one() {
        let (_dir, path, ids) = history();
        raw_sql(
            &path,
            &format!(
                "DELETE FROM runs WHERE snapshot_id = {0}; DELETE FROM snapshots WHERE id = {0}",
                ids[1]
            ),
        );
        let r = verify(&path);
        assert!(!r.is_ok());
        assert_eq!(r.checked, 3);
        assert!(
            r.problems
                .iter()
                .any(|p| p.snapshot_id == Some(ids[2]) && p.detail.contains("chain broken")),
            "{:?}",
            r.problems
        );
        // The version that started in the deleted snapshot is named too.
        assert!(r.problems.iter().any(|p| p.snapshot_id == Some(ids[1])));
        assert!(
            r.problems.iter().all(|p| p.org != "beta"),
            "beta's chain is intact"
        );
    }

    #[test]
    fn tampered_and_reordered_chains_are_reported() {
        let (_dir, path, ids) = history();
        raw_sql(
            &path,
            &format!(
                "UPDATE snapshots SET prev_sha256 = NULL WHERE id = {}",
                ids[2]
            ),
        );
        let r = verify(&path);
        assert_eq!(r.first_broken(), Some(ids[2]));
        assert!(r.problems.iter().any(|p| p.detail.contains("chain broken")));

        // Swapping two snapshots' hashes (re-ordering) breaks links.
        let (_dir2, path2, ids) = history();
        raw_sql(
            &path2,
            &format!(
                "CREATE TEMP TABLE h AS SELECT id, sha256 FROM snapshots; \
                 UPDATE snapshots SET sha256 = (SELECT sha256 FROM h WHERE h.id = \
                 CASE snapshots.id WHEN {a} THEN {b} ELSE {a} END) WHERE id IN ({a}, {b})",
                a = ids[0],
                b = ids[1]
            ),
        );
        let r = verify(&path2);
        assert_eq!(r.first_broken(), Some(ids[0]));
        assert!(
            problem_snapshots(&r).contains(&Some(ids[2])),
            "the next link is broken too"
        );
    }

    #[test]
    fn edited_snapshot_evidence_is_reported() {
        let (_dir, path, ids) = history();
        raw_sql(
            &path,
            &format!(
                "UPDATE snapshots SET info_json = replace(info_json, 'a note', 'nothing to see') WHERE id = {}",
                ids[0]
            ),
        );
        let r = verify(&path);
        assert_eq!(problem_snapshots(&r), vec![Some(ids[0])]);

        let (_dir2, path2, ids) = history();
        raw_sql(
            &path2,
            &format!(
                "UPDATE snapshots SET source_url = 'https://elsewhere' WHERE id = {}",
                ids[3]
            ),
        );
        let r = verify(&path2);
        assert_eq!(problem_snapshots(&r), vec![Some(ids[3])]);
        assert_eq!(r.problems[0].org, "beta");
    }
}
