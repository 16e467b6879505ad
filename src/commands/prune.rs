//! `prune`: applies a retention policy to the history and says, per org, what
//! was (or would be) removed and what is kept and why.

use std::path::Path;

use chrono::Utc;

use super::{CmdResult, Output};
use crate::cli::PruneArgs;
use crate::model::SnapshotRef;
use crate::store::{OrgPrune, RetentionPolicy, Store};

pub(super) fn run(db: &Path, args: &PruneArgs, out: Output) -> CmdResult {
    let mut store = Store::open_existing(db)?;
    let policy = RetentionPolicy {
        keep_days: args.keep_days,
        keep_monthly: args.keep_monthly,
        org: args.org.clone(),
        now: Utc::now(),
    };
    let outcome = store.prune(&policy, args.dry_run)?;
    for org in &outcome.orgs {
        out.line(org_line(org, args.dry_run));
    }
    let removed = outcome.removed();
    if args.dry_run {
        out.line(format!(
            "dry run: nothing was changed; without --dry-run {removed} snapshot(s) would be removed from {}",
            crate::store::shown(db)
        ));
        return Ok(());
    }
    if args.vacuum && removed > 0 {
        store.vacuum()?;
    }
    out.line(format!(
        "removed {removed} snapshot(s) from {}{}; their ids, times and hashes are in pruned_snapshots, \
         and `retool-audit verify` checks the chain across the gaps",
        crate::store::shown(db),
        if args.vacuum && removed > 0 {
            " and reclaimed the space"
        } else {
            ""
        },
    ));
    Ok(())
}

/// `org acme: removed 3 snapshot(s): 1-2, 4 (2026-01-01 to 2026-03-01); kept 2: 3 (monthly), 5 (latest, recent); ...`
fn org_line(org: &OrgPrune, dry_run: bool) -> String {
    let verb = if dry_run { "would remove" } else { "removed" };
    let kept: Vec<String> = org
        .kept
        .iter()
        .map(|(s, why)| {
            let why: Vec<&str> = why.iter().map(|w| w.as_str()).collect();
            format!("{} ({})", s.id, why.join(", "))
        })
        .collect();
    let kept = format!("kept {}: {}", org.kept.len(), kept.join(", "));
    match (org.removed.first(), org.removed.last()) {
        (Some(first), Some(last)) => format!(
            "org {}: {verb} {} snapshot(s): {} ({} to {}); {kept}; {} record version(s) only they contained, {} run(s)",
            org.org,
            org.removed.len(),
            id_ranges(&org.removed),
            first.taken_at.format("%Y-%m-%d"),
            last.taken_at.format("%Y-%m-%d"),
            org.versions_deleted,
            org.runs_deleted,
        ),
        _ => format!("org {}: nothing to remove; {kept}", org.org),
    }
}

/// `1-3, 5, 7-8` for ids in ascending order.
fn id_ranges(snapshots: &[SnapshotRef]) -> String {
    let mut ranges: Vec<(i64, i64)> = Vec::new();
    for s in snapshots {
        match ranges.last_mut() {
            Some((_, end)) if *end + 1 == s.id => *end = s.id,
            _ => ranges.push((s.id, s.id)),
        }
    }
    ranges
        .iter()
        .map(|(a, b)| {
            if a == b {
                a.to_string()
            } else {
                format!("{a}-{b}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_listed_as_ranges() {
        let refs = |ids: &[i64]| -> Vec<SnapshotRef> {
            ids.iter()
                .map(|&id| SnapshotRef {
                    id,
                    taken_at: chrono::DateTime::UNIX_EPOCH,
                })
                .collect()
        };
        assert_eq!(id_ranges(&refs(&[1, 2, 3, 5, 7, 8])), "1-3, 5, 7-8");
        assert_eq!(id_ranges(&refs(&[4])), "4");
        assert_eq!(id_ranges(&refs(&[])), "");
    }
}
