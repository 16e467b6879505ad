//! `retool-audit review status`: each revoke/modify decision checked against the
//! snapshots taken since the campaign's; a compact status on stdout, or the
//! evidence report with `--out`. Exit 0 even with pending rows (status is
//! information, not a failure).

use std::path::Path;

use anyhow::anyhow;
use chrono::Utc;

use crate::cli::ReviewStatusArgs;
use crate::commands::common::{command_line, load_signer};
use crate::commands::{CmdResult, CommandError, Output};
use crate::report::format_time;
use crate::report::write::write_report;
use crate::review::evidence::{build_report, campaign_figures};
use crate::review::plan::one_line;
use crate::review::status::{self, RemediationStatus};
use crate::review::{Campaign, evidence};
use crate::store::Store;

/// At most this many pending rows are listed on stdout.
const MAX_LISTED: usize = 20;

pub(super) fn run(db: &Path, args: &ReviewStatusArgs, out: Output) -> CmdResult {
    if args.out.is_none() && args.sign.sign_key.is_some() {
        return Err(CommandError::usage(anyhow!(
            "--sign-key signs the evidence report: give --out DIR too"
        )));
    }
    let signer = load_signer(&args.sign)?;
    let store = Store::open_existing(db)?;
    let campaign = pick_campaign(
        &store,
        args.pick.campaign.as_deref(),
        args.pick.org.as_deref(),
    )?;
    let data = status::load(&store, campaign)?;
    let rows = status::evaluate(&data);
    let figures = campaign_figures(&data, &rows);
    let c = &data.campaign;
    let latest = data.latest_snapshot();
    out.line(format!(
        "campaign {} (id {}, org {}, snapshot {}): {} rows, {} decided, {} undecided",
        c.name,
        c.id,
        c.org,
        c.snapshot_id,
        figures.rows,
        figures.decided,
        figures.rows - figures.decided
    ));
    let judged_on = if data.later.is_empty() {
        "no snapshot since the campaign's".to_string()
    } else {
        format!(
            "judged on snapshot {} ({})",
            latest.id,
            format_time(&latest.taken_at())
        )
    };
    out.line(format!(
        "remediation: {} revoke, {} modify: {} done, {} partially done, {} pending ({judged_on})",
        figures.revoke,
        figures.modify,
        figures.status.done,
        figures.status.partially_done,
        figures.status.pending
    ));
    if let Some(dir) = &args.out {
        let report = build_report(&data, &rows, Utc::now(), &command_line());
        let files = write_report(&report, dir, &args.format.0, signer.as_ref()).map_err(|e| {
            CommandError::from(e).context(format!(
                "could not write the evidence report to {}; nothing was left half-written",
                dir.display()
            ))
        })?;
        out.line(format!(
            "evidence report ({}) in {}:",
            evidence::TABLES.join(", "),
            dir.display()
        ));
        for f in &files {
            out.line(format!("  {}", f.display()));
        }
        return Ok(());
    }
    let open: Vec<_> = rows
        .iter()
        .filter(|r| r.status != RemediationStatus::Done)
        .collect();
    for r in open.iter().take(MAX_LISTED) {
        out.line(format!(
            "  {:<14} {} {} {} ({}): {}",
            r.status.as_str(),
            r.decision,
            one_line(&r.email),
            one_line(&r.target),
            one_line(&r.key),
            one_line(&r.detail)
        ));
    }
    if open.len() > MAX_LISTED {
        out.line(format!(
            "  ... and {} more: write the full evidence report with --out DIR",
            open.len() - MAX_LISTED
        ));
    }
    Ok(())
}

/// The campaign `--campaign` names, or the newest one (of `--org` when given).
/// A missing or ambiguous campaign is the user's to fix (exit 2).
pub(super) fn pick_campaign(
    store: &Store,
    name: Option<&str>,
    org: Option<&str>,
) -> CmdResult<Campaign> {
    let campaign = match name {
        Some(name) => store.campaign(name, org),
        None => match store.campaigns(org) {
            Ok(all) => match all.into_iter().max_by_key(|c| c.id) {
                Some(c) => Ok(c),
                None => {
                    return Err(CommandError::usage(anyhow!(
                        "no review campaign in the history{}: start one with `retool-audit review start`",
                        org.map(|o| format!(" for org {o}")).unwrap_or_default()
                    )));
                }
            },
            Err(e) => Err(e),
        },
    };
    Ok(campaign?)
}
