//! `copy-history`: copies every organization's history between two stores
//! (a SQLite file and a PostgreSQL database, either way), then proves the copy:
//! `verify` on the copy recomputes every snapshot's hash from its rows, and
//! the hashes are the source's.

use anyhow::anyhow;

use super::{CmdResult, CommandError, Output};
use crate::cli::CopyHistoryArgs;
use crate::store::{Store, shown};

pub(super) fn run(args: &CopyHistoryArgs, out: Output) -> CmdResult {
    let (from, to) = (shown(&args.from), shown(&args.to));
    if from == to {
        return Err(CommandError::usage(anyhow!(
            "--from and --to are the same history ({from}); give another --to"
        )));
    }
    let source = Store::open_existing(&args.from)?;
    let checked = source.verify()?;
    if !checked.is_ok() {
        return Err(CommandError::failed(anyhow!(
            "{from} does not verify ({} problem(s)); run `retool-audit --db {from} verify` and \
             restore it from a backup before copying (nothing was copied)",
            checked.problems.len()
        )));
    }
    let target = Store::open(&args.to)?;
    let outcome = source.copy_history_to(&target, |done, total| {
        if done % 100 == 0 {
            tracing::info!("copied {done} of {total} snapshots");
        }
    })?;
    out.line(format!(
        "copied {} snapshot(s) of {} organization(s) from {from} to {to}{}: {} version row(s), \
         {} pruned-snapshot record(s), {} review campaign(s)",
        outcome.copied,
        outcome.orgs,
        if outcome.present > 0 {
            format!(" ({} were already there)", outcome.present)
        } else {
            String::new()
        },
        outcome.versions,
        outcome.pruned,
        outcome.campaigns,
    ));
    let copy = target.verify()?;
    let (source_snaps, copy_snaps) = (source.snapshots(None)?, target.snapshots(None)?);
    let same = source_snaps.len() == copy_snaps.len()
        && source_snaps
            .iter()
            .zip(&copy_snaps)
            .all(|(a, b)| a.id == b.id && a.sha256 == b.sha256 && a.prev_sha256 == b.prev_sha256);
    if !copy.is_ok() || !same {
        return Err(CommandError::failed(anyhow!(
            "the copy in {to} does not verify ({} problem(s){}); run `retool-audit --db {to} verify`",
            copy.problems.len(),
            if same {
                ""
            } else {
                "; its snapshots differ from the source's"
            }
        )));
    }
    out.line(format!(
        "verified {} snapshot(s) in {to}: every hash recomputed from the copied rows matches the \
         source's, so every snapshot's state is the same in both",
        copy.checked
    ));
    Ok(())
}
