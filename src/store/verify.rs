//! The integrity chain: the canonical content hash of a snapshot, and `verify`,
//! which recomputes every snapshot's hash from the stored rows and checks the
//! per-org chain links and SQLite's own consistency checks.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use super::error::SqlContext;
use super::rows::{HashWriter, time_text};
use super::{Store, StoreError};
use crate::model::{CollectionInfo, EntityKind, OrgState};

/// SHA-256 (hex) over the previous snapshot's hash (or nothing), then the
/// canonical JSON of `info`, then the canonical JSON of `state` (which must be
/// normalized: the model's serialization is then canonical).
pub fn content_hash(prev_sha256: Option<&str>, info: &CollectionInfo, state: &OrgState) -> String {
    let mut w = HashWriter(Sha256::new());
    w.0.update(prev_sha256.unwrap_or("").as_bytes());
    // Writing model data into a hasher cannot fail (string map keys only, and
    // the writer never errors), so a failure here is impossible in practice.
    let _ = serde_json::to_writer(&mut w, info);
    let _ = serde_json::to_writer(&mut w, state);
    hex::encode(w.0.finalize())
}

/// What `verify` found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifyReport {
    /// Snapshots whose content was recomputed.
    pub checked: usize,
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

const VERSIONED_TABLES: [EntityKind; 10] = EntityKind::ALL;

impl Store {
    /// Recomputes every snapshot's hash from the stored rows and checks the
    /// chain links, stray versions and SQLite's integrity and foreign keys.
    /// Problems are reported, not returned as errors; an error means the file
    /// could not be read at all.
    pub fn verify(&self) -> Result<VerifyReport, StoreError> {
        let mut report = VerifyReport::default();
        let mut file_wide = Vec::new();
        self.check_sqlite(&mut file_wide)?;

        let all = self.snapshots(None)?;
        let mut by_org: BTreeMap<String, Vec<_>> = BTreeMap::new();
        for meta in all {
            by_org.entry(meta.org.clone()).or_default().push(meta);
        }
        for (org, snaps) in &by_org {
            let mut prev: Option<&str> = None;
            for meta in snaps {
                let problem = |detail: String| VerifyProblem {
                    snapshot_id: Some(meta.id),
                    org: org.clone(),
                    detail,
                };
                if meta.prev_sha256.as_deref() != prev {
                    report.problems.push(problem(match (prev, &meta.prev_sha256) {
                        (None, Some(_)) => "chain broken: the org's first snapshot names a previous hash (earlier snapshots were deleted or the chain was re-ordered)".to_string(),
                        (Some(_), None) => "chain broken: it claims to be the org's first snapshot but is not (snapshots were inserted or re-ordered)".to_string(),
                        _ => "chain broken: prev_sha256 is not the previous snapshot's sha256 (a snapshot was deleted, inserted or re-ordered)".to_string(),
                    }));
                }
                prev = Some(meta.sha256.as_str());

                self.check_columns(meta.id, &meta.info, &mut |d| report.problems.push(problem(d)))?;
                match self.state_of(org, meta.id, meta.not_collected.clone()) {
                    Ok(state) => {
                        if state.counts() != meta.counts {
                            report.problems.push(problem(
                                "stored record counts differ from the records stored".to_string(),
                            ));
                        }
                        let hash = content_hash(meta.prev_sha256.as_deref(), &meta.info, &state);
                        if hash != meta.sha256 {
                            report.problems.push(problem(
                                "content hash mismatch: records of this snapshot were edited, deleted or inserted after it was written".to_string(),
                            ));
                        }
                    }
                    Err(StoreError::Corrupt { detail }) => {
                        report.problems.push(problem(format!("records unreadable: {detail}")));
                    }
                    Err(e) => return Err(e),
                }
                report.checked += 1;
            }
        }
        self.check_stray_versions(&mut report.problems)?;
        report.problems.sort_by(|a, b| {
            (&a.org, a.snapshot_id.is_none(), a.snapshot_id)
                .cmp(&(&b.org, b.snapshot_id.is_none(), b.snapshot_id))
        });
        report.problems.extend(file_wide);
        Ok(report)
    }

    fn check_sqlite(&self, problems: &mut Vec<VerifyProblem>) -> Result<(), StoreError> {
        let p = &self.path;
        let mut stmt = self
            .conn
            .prepare("PRAGMA integrity_check")
            .ctx(p, "running integrity_check")?;
        let lines = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .ctx(p, "running integrity_check")?
            .collect::<rusqlite::Result<Vec<_>>>()
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
        let mut stmt = self
            .conn
            .prepare("PRAGMA foreign_key_check")
            .ctx(p, "running foreign_key_check")?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, Option<i64>>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })
            .ctx(p, "running foreign_key_check")?
            .collect::<rusqlite::Result<Vec<_>>>()
            .ctx(p, "running foreign_key_check")?;
        for (table, rowid, parent) in rows {
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
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)),
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
            let mut rows = stmt.query([]).ctx(p, "checking version rows")?;
            while let Some(r) = rows.next().ctx(p, "checking version rows")? {
                let rowid: i64 = r.get(0).ctx(p, "checking version rows")?;
                let org: String = r.get(1).ctx(p, "checking version rows")?;
                let from: i64 = r.get(2).ctx(p, "checking version rows")?;
                let to: Option<i64> = r.get(3).ctx(p, "checking version rows")?;
                let from_org: Option<String> = r.get(4).ctx(p, "checking version rows")?;
                let detail = if from_org.as_deref() != Some(org.as_str()) {
                    format!(
                        "{table} row {rowid} says it is valid from snapshot {from}, which is not a snapshot of this org (row inserted, or snapshot deleted)"
                    )
                } else if to.is_some_and(|t| t <= from) {
                    format!(
                        "{table} row {rowid} is valid for no snapshot (valid_to {} <= valid_from {from}); it was not written by retool-audit",
                        to.unwrap_or_default()
                    )
                } else {
                    format!(
                        "{table} row {rowid} says it ended at snapshot {}, which is not a snapshot of this org (row edited, or snapshot deleted)",
                        to.unwrap_or_default()
                    )
                };
                problems.push(VerifyProblem {
                    snapshot_id: Some(from),
                    org,
                    detail,
                });
            }
        }
        Ok(())
    }
}
