//! `retool-audit report`: read one snapshot (and the one to compare it with)
//! from the history, build every table and write the requested formats; exit 3
//! when `--fail-on` finds what it lists.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::anyhow;
use chrono::Utc;

use super::common::{command_line, headline, load_signer, org_label, pick_org, read_roster};
use super::{CmdResult, CommandError, Output};
use crate::analyze::Roster;
use crate::analyze::approvals::ReviewKeep;
use crate::analyze::changes::{SeenChange, changes};
use crate::analyze::deprovisioning::{Leaver, judge, parse_terminations};
use crate::cli::ReportArgs;
use crate::model::review::Decision;
use crate::model::{EntityKind, OrgState, SnapshotMeta};
use crate::report::build::{
    ReportInput, ReportOptions, Trend, build_streamed, exceptions_by_severity,
};
use crate::report::fail_on::{FailOn, triggered};
use crate::report::manifest::Signer;
use crate::report::write::{Format, write_report};
use crate::report::{Cell, Report, RowSource, Section};
use crate::store::{SnapshotSelector, Store};

/// A validated `report` request.
pub(super) struct ReportRequest {
    pub(super) out: PathBuf,
    pub(super) formats: Vec<Format>,
    pub(super) org: Option<String>,
    pub(super) snapshot: SnapshotSelector,
    pub(super) since: Option<SnapshotSelector>,
    /// `--every-snapshot` (`Some(true)`), `--endpoints-only` (`Some(false)`),
    /// or neither: walk when the two snapshots are not adjacent.
    pub(super) every_snapshot: Option<bool>,
    pub(super) roster: Option<Roster>,
    pub(super) inactive_days: u32,
    pub(super) default_group: String,
    /// The org label shown in reports and file names (None: derived).
    pub(super) label: Option<String>,
    /// Signs SHA256SUMS when given.
    pub(super) signer: Option<Signer>,
    /// `--full-effective-access`.
    pub(super) full_effective_access: bool,
    /// `--terminations` (read and checked) and `--deprovision-sla-hours`.
    pub(super) terminations: Option<Vec<Leaver>>,
    pub(super) sla_hours: u32,
}

fn report_request(args: &ReportArgs) -> CmdResult<ReportRequest> {
    let analysis = &args.analysis;
    let roster = analysis.roster.as_deref().map(read_roster).transpose()?;
    let terminations = args
        .terminations
        .as_deref()
        .map(read_terminations)
        .transpose()?;
    let signer = load_signer(&args.sign)?;
    Ok(ReportRequest {
        out: args.out.clone(),
        formats: args.format.0.clone(),
        org: args.pick.org.clone(),
        snapshot: args.pick.snapshot,
        since: args.since,
        every_snapshot: match (args.every_snapshot, args.endpoints_only) {
            (true, _) => Some(true),
            (_, true) => Some(false),
            _ => None,
        },
        roster,
        inactive_days: analysis.inactive_days,
        default_group: analysis.default_group.clone(),
        label: None,
        signer,
        full_effective_access: args.full_effective_access,
        terminations,
        sla_hours: args.deprovision_sla_hours,
    })
}

/// Reads `--terminations`: a file that cannot be used is a usage error
/// before anything is written.
pub(super) fn read_terminations(path: &Path) -> CmdResult<Vec<Leaver>> {
    let bytes = std::fs::read(path).map_err(|e| {
        CommandError::usage(anyhow!(
            "cannot read the terminations file {}: {e}",
            path.display()
        ))
    })?;
    parse_terminations(&bytes).map_err(|e| {
        CommandError::from(e).context(format!(
            "the terminations file {} is not usable; nothing was written",
            path.display()
        ))
    })
}

pub(super) fn run(db: &Path, args: &ReportArgs, out: Output) -> CmdResult {
    let request = report_request(args)?;
    let store = Store::open_existing(db)?;
    let rendered = render_report(&store, request)?;
    if args.json {
        let text = serde_json::to_string_pretty(&report_json(&rendered))
            .map_err(|e| CommandError::failed(anyhow!(e)))?;
        println!("{text}");
    } else {
        for f in &rendered.files {
            out.line(format!("wrote {}", f.display()));
        }
        out.line(headline(&rendered.report));
    }
    let fail_on = args.fail_on.as_ref().map_or(&[][..], |l| &l.0[..]);
    check_fail_on(&rendered.report, fail_on)
}

/// Exit code 3 when the written report holds any finding `--fail-on` lists,
/// with one line naming each and its count.
fn check_fail_on(report: &Report, fail_on: &[FailOn]) -> CmdResult {
    let found = triggered(report, fail_on)?;
    if found.is_empty() {
        return Ok(());
    }
    let counts: Vec<String> = found.iter().map(|(f, n)| format!("{n} {f}")).collect();
    Err(CommandError::findings(anyhow!(
        "--fail-on: found {} (the report was written in full)",
        counts.join(", ")
    )))
}

/// The trend charts' figures: the counts of every snapshot in `history` (the
/// org's snapshots up to the reported one, which is last), and the exceptions
/// of the earlier snapshots, newest first, within [`Trend::BUDGET`] users.
fn trend(
    store: &Store,
    label: &str,
    history: &[SnapshotMeta],
    options: &ReportOptions,
) -> CmdResult<Trend> {
    let Some((current, earlier)) = history.split_last() else {
        return Ok(Trend::default());
    };
    let counts = store.snapshot_counts(&current.org, current.id)?;
    let mut exceptions = Vec::new();
    let mut budget = Trend::BUDGET;
    // Walking back, each state serves as the next one's previous.
    let mut next: Option<(usize, OrgState)> = None;
    for i in (0..earlier.len()).rev() {
        let meta = &earlier[i];
        let users = meta.counts.get(&EntityKind::Users).copied().unwrap_or(0);
        if users > budget {
            break;
        }
        budget -= users;
        let state = match next.take() {
            Some((j, state)) if j == i => state,
            _ => store.state_at(meta.id)?,
        };
        let previous = match i.checked_sub(1) {
            Some(j) => Some((j, store.state_at(earlier[j].id)?)),
            None => None,
        };
        let disabled_since = store.disabled_since(meta.id)?;
        let input = ReportInput {
            org: label,
            current: meta,
            current_state: &state,
            previous: previous.as_ref().map(|(j, s)| (&earlier[*j], s)),
            walked: None,
            history: &history[..=i],
            failed_runs: &[],
            disabled_since: &disabled_since,
            trend: &Trend::default(),
            transient: &[],
            review_keeps: &[],
            deprovisioning: None,
        };
        exceptions.push((meta.id, exceptions_by_severity(&input, options)));
        next = previous;
    }
    exceptions.reverse();
    Ok(Trend {
        counts,
        exceptions_left_out: earlier.len() - exceptions.len(),
        exceptions,
    })
}

/// `report --json`: the files written, the snapshots read, rows per table and
/// the summary's findings.
fn report_json(r: &Rendered) -> serde_json::Value {
    let tables = &r.rows;
    let findings: serde_json::Map<String, serde_json::Value> = r
        .report
        .summary
        .iter()
        .filter(|s| s.section == Section::Findings)
        .map(|s| {
            let value = match &s.value {
                Cell::Int(n) => serde_json::json!(n),
                other => serde_json::json!(other.to_plain()),
            };
            (s.label.clone(), value)
        })
        .collect();
    serde_json::json!({
        "org": r.report.org,
        "snapshot_id": r.snapshot_id,
        "since_snapshot_id": r.since_snapshot_id,
        "files": r.files,
        "tables": tables,
        "findings": findings,
    })
}

/// Whether `changes` walks every snapshot from `since` to `current`: as asked,
/// else when a kept snapshot lies between them.
fn walks(asked: Option<bool>, history: &[SnapshotMeta], since: i64, current: i64) -> bool {
    asked.unwrap_or_else(|| history.iter().any(|m| m.id > since && m.id < current))
}

/// The current `keep` decisions of `org`'s review campaigns frozen at or
/// before snapshot `up_to`: evidence of approval for access added.
fn review_keeps(store: &Store, org: &str, up_to: i64) -> CmdResult<Vec<ReviewKeep>> {
    let mut keeps = Vec::new();
    for campaign in store.campaigns(Some(org))? {
        if campaign.snapshot_id > up_to {
            continue;
        }
        for d in store.decisions(campaign.id, false)? {
            if d.decision == Decision::Keep {
                keeps.push(ReviewKeep {
                    campaign: campaign.name.clone(),
                    snapshot_id: campaign.snapshot_id,
                    key: d.key,
                    reviewer: d.reviewer,
                    reviewed_at: d.reviewed_at,
                });
            }
        }
    }
    Ok(keeps)
}

/// What `render_report` wrote, and from which snapshots.
pub(super) struct Rendered {
    /// The summary, evidence and small tables; the streamed tables' rows went
    /// straight to the files and are not held.
    pub(super) report: Report,
    /// Rows per table, streamed ones included.
    pub(super) rows: BTreeMap<String, usize>,
    pub(super) files: Vec<PathBuf>,
    pub(super) snapshot_id: i64,
    pub(super) since_snapshot_id: Option<i64>,
}

/// Reads the chosen snapshots from the history, builds every table and writes
/// the requested formats. Everything that can be refused is checked before the
/// first file is written. The report returned holds the summary, evidence and
/// small tables; the rows of the streamed tables (`access_matrix`,
/// `effective_access`) went straight to the files and are not held.
pub(super) fn render_report(store: &Store, req: ReportRequest) -> CmdResult<Rendered> {
    let org = pick_org(store, req.org.as_deref())?;
    let current = store.resolve(Some(&org), &req.snapshot)?;
    let previous = match &req.since {
        Some(sel) => {
            let older = store.resolve(Some(&org), sel)?;
            if older.id >= current.id {
                return Err(CommandError::usage(anyhow!(
                    "--since picks snapshot {} ({}), which is not older than the reported snapshot {} ({}); \
                     pick an earlier --since or a later --snapshot",
                    older.id,
                    crate::report::format_time(&older.taken_at()),
                    current.id,
                    crate::report::format_time(&current.taken_at()),
                )));
            }
            Some(older)
        }
        None => store.previous(&current)?,
    };
    let state = store.state_at(current.id)?;
    let previous_state = match &previous {
        Some(p) => Some(store.state_at(p.id)?),
        None => None,
    };
    let history: Vec<SnapshotMeta> = store
        .snapshots(Some(&org))?
        .into_iter()
        .filter(|s| s.id <= current.id)
        .collect();
    let since_time = previous.as_ref().map(|p| p.taken_at());
    let failed_runs: Vec<_> = store
        .runs(Some(&org))?
        .into_iter()
        .filter(|r| r.status != "ok")
        .filter(|r| r.started_at <= current.taken_at())
        .filter(|r| since_time.is_none_or(|t| r.started_at >= t))
        .collect();
    let disabled_since = store.disabled_since(current.id)?;
    let label = req
        .label
        .clone()
        .unwrap_or_else(|| org_label(&org, &current.info.source_url));
    let mut options = ReportOptions::new(Utc::now(), command_line());
    options.inactive_days = req.inactive_days;
    options.default_group = req.default_group.clone();
    options.roster = req.roster;
    options.full_effective_access = req.full_effective_access;
    let trend = trend(store, &label, &history, &options)?;
    let transient = match &previous {
        Some(p) => store.transient_access(&org, p.id, current.id)?,
        None => Vec::new(),
    };
    let deprovisioning = match &req.terminations {
        Some(leavers) => {
            let mut rows = Vec::with_capacity(leavers.len());
            for leaver in leavers {
                let account =
                    store.account_history(&org, &leaver.email, &req.default_group, current.id)?;
                rows.push(judge(leaver, account.as_ref(), req.sla_hours));
            }
            Some(rows)
        }
        None => None,
    };
    let walked = match &previous {
        Some(p) if walks(req.every_snapshot, &history, p.id, current.id) => {
            let mut list = Vec::new();
            store.walk_period::<CommandError>(&org, p.id, current.id, |step| {
                let found = changes(&step.old, &step.new);
                list.extend(SeenChange::all(step.before.id, step.after, found));
                Ok(())
            })?;
            Some(list)
        }
        _ => None,
    };
    let review_keeps = review_keeps(store, &org, current.id)?;
    let input = ReportInput {
        org: &label,
        current: &current,
        current_state: &state,
        previous: previous.as_ref().zip(previous_state.as_ref()),
        walked: walked.as_deref(),
        review_keeps: &review_keeps,
        history: &history,
        failed_runs: &failed_runs,
        disabled_since: &disabled_since,
        trend: &trend,
        transient: &transient,
        deprovisioning: deprovisioning.as_deref(),
    };
    let report = build_streamed(&input, &options);
    let files =
        write_report(&report, &req.out, &req.formats, req.signer.as_ref()).map_err(|e| {
            CommandError::from(e).context(format!(
                "could not write the reports to {}; nothing was left half-written",
                req.out.display()
            ))
        })?;
    let rows = report
        .tables
        .iter()
        .map(|t| (t.name.clone(), t.rows.len()))
        .collect();
    Ok(Rendered {
        report: report.detach(),
        rows,
        files,
        snapshot_id: current.id,
        since_snapshot_id: previous.as_ref().map(|p| p.id),
    })
}
