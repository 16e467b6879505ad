//! `retool-audit verify`: recompute every snapshot's hash from the stored rows
//! and check the chain.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::anyhow;

use super::{CmdResult, CommandError, Output};
use crate::store::Store;

pub(super) fn run(db: &Path, out: Output) -> CmdResult {
    let store = Store::open_existing(db)?;
    let report = store.verify()?;
    if report.is_ok() {
        let pruned = if report.pruned > 0 {
            format!(
                ", through {} pruned snapshot(s) recorded by `prune`",
                report.pruned
            )
        } else {
            String::new()
        };
        out.line(format!(
            "verified {} snapshot(s) in {}: every hash recomputed from the stored rows matches and the chain is intact{pruned}",
            report.checked,
            crate::store::shown(db)
        ));
        return Ok(());
    }
    let mut msg = format!(
        "integrity check failed for {}: {} problem(s)",
        crate::store::shown(db),
        report.problems.len()
    );
    if let Some(first) = report.first_broken() {
        let _ = write!(msg, "; first broken snapshot: {first}");
    }
    for p in &report.problems {
        match p.snapshot_id {
            Some(id) => {
                let _ = write!(msg, "\n  snapshot {id} ({}): {}", p.org, p.detail);
            }
            None => {
                let _ = write!(msg, "\n  {}: {}", p.org, p.detail);
            }
        }
    }
    msg.push_str("\nthe history was modified after it was written; restore it from a backup and investigate who had write access");
    Err(CommandError::failed(anyhow!(msg)))
}
