//! `retool-audit snapshots`: the snapshots in the history (and failed runs),
//! as a table or as JSON.

use anyhow::anyhow;
use chrono::Utc;
use std::path::Path;

use super::common::snapshot_json;
use super::{CmdResult, CommandError, Output};
use crate::cli::{ListFormat, SnapshotsArgs};
use crate::model::EntityKind;
use crate::store::Store;

pub(super) fn run(db: &Path, args: &SnapshotsArgs, out: Output) -> CmdResult {
    let store = Store::open_existing(db)?;
    let snapshots = store.snapshots(args.org.as_deref())?;
    let failed: Vec<_> = store
        .runs(args.org.as_deref())?
        .into_iter()
        .filter(|r| r.status != "ok")
        .collect();
    match args.format {
        ListFormat::Json => {
            let mut rows: Vec<(chrono::DateTime<Utc>, serde_json::Value)> = snapshots
                .iter()
                .map(|s| (s.info.started_at, snapshot_json(s)))
                .collect();
            rows.extend(failed.iter().map(|r| {
                (
                    r.started_at,
                    serde_json::json!({
                        "id": null,
                        "org": r.org,
                        "started_at": r.started_at,
                        "finished_at": r.finished_at,
                        "status": r.status,
                        "source": r.source_url,
                        "error": r.error,
                    }),
                )
            }));
            rows.sort_by_key(|(t, _)| *t);
            let values: Vec<serde_json::Value> = rows.into_iter().map(|(_, v)| v).collect();
            let text = serde_json::to_string_pretty(&values)
                .map_err(|e| CommandError::failed(anyhow!(e)))?;
            // JSON is the point of --format json: print it even under --quiet.
            println!("{text}");
        }
        ListFormat::Table => {
            if snapshots.is_empty() && failed.is_empty() {
                out.line(format!(
                    "no snapshots in {} yet: run `retool-audit snapshot`",
                    crate::store::shown(db)
                ));
                return Ok(());
            }
            out.line(format!(
                "{:>5}  {:<12} {:<20} {:<20} {:<7} {:>7} {:>6} {:>8} {:>6} {:>7} {:>9} {:>9} {:>7}  {:<16}  source",
                "id", "org", "started_at", "finished_at", "status", "users", "groups",
                "members", "apps", "folders", "resources", "workflows", "grants", "sha256"
            ));
            for s in &snapshots {
                let c = |k: EntityKind| s.counts.get(&k).copied().unwrap_or(0);
                out.line(format!(
                    "{:>5}  {:<12} {:<20} {:<20} {:<7} {:>7} {:>6} {:>8} {:>6} {:>7} {:>9} {:>9} {:>7}  {:<16}  {}",
                    s.id,
                    s.org,
                    crate::report::format_time(&s.info.started_at),
                    crate::report::format_time(&s.info.finished_at),
                    "ok",
                    c(EntityKind::Users),
                    c(EntityKind::Groups),
                    c(EntityKind::Memberships),
                    c(EntityKind::Apps),
                    c(EntityKind::Folders),
                    c(EntityKind::Resources),
                    c(EntityKind::Workflows),
                    c(EntityKind::Grants),
                    &s.sha256[..s.sha256.len().min(16)],
                    s.info.source_url,
                ));
            }
            for r in &failed {
                out.line(format!(
                    "{:>5}  {:<12} {:<20} {:<20} {:<7} {}",
                    "-",
                    r.org,
                    crate::report::format_time(&r.started_at),
                    crate::report::format_time(&r.finished_at),
                    r.status,
                    r.error
                        .as_deref()
                        .unwrap_or("")
                        .lines()
                        .next()
                        .unwrap_or(""),
                ));
            }
        }
    }
    Ok(())
}
