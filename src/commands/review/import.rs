//! `retool-audit review import`: check filled-in review workbooks against the
//! campaign's frozen population and import their decisions, all or nothing.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;

use anyhow::anyhow;
use chrono::Utc;

use crate::cli::ReviewImportArgs;
use crate::commands::{CmdResult, CommandError, Output};
use crate::review::import::{
    OpenedWorkbook, Problem, Progress, check_workbooks, open_workbook, preview, progress,
};
use crate::review::{Campaign, Decision, ImportOutcome};
use crate::store::{Store, StoreError};

pub(super) fn run(db: &Path, args: &ReviewImportArgs, out: Output) -> CmdResult {
    let mut store = Store::open_existing(db)?;
    let mut problems: Vec<Problem> = Vec::new();
    let mut opened: Vec<OpenedWorkbook> = Vec::new();
    for path in &args.workbooks {
        match open_workbook(path) {
            Ok(w) => opened.push(w),
            Err(p) => problems.extend(p),
        }
    }
    let campaign = match &args.campaign {
        Some(name) => store.campaign(name, args.org.as_deref())?,
        None => match opened.first() {
            None => return Err(refused(&problems)),
            Some(first) => match store.campaign_by_id(first.identity.campaign_id) {
                Ok(c) => c,
                Err(StoreError::CampaignNotFound { .. }) => {
                    problems.push(Problem {
                        file: first.file.clone(),
                        sheet: Some("Campaign".into()),
                        row: None,
                        message: format!(
                            "this workbook belongs to {}, which is not in the history {}; \
                             pass the --db the campaign was started with",
                            first.identity,
                            crate::store::shown(db)
                        ),
                    });
                    return Err(refused(&problems));
                }
                Err(e) => return Err(CommandError::from(e)),
            },
        },
    };
    let items = store.campaign_items(campaign.id)?;
    let checked = check_workbooks(&opened, &campaign, &items);
    problems.extend(checked.problems);
    if !problems.is_empty() {
        return Err(refused(&problems));
    }

    let current = store.decisions(campaign.id, false)?;
    let (outcome, after) = if args.dry_run {
        let outcome = preview(&current, &checked.decisions);
        let mut merged: HashMap<&str, (Decision, Option<&str>)> = current
            .iter()
            .map(|d| (d.key.as_str(), (d.decision, d.reviewer.as_deref())))
            .collect();
        for d in &checked.decisions {
            merged.insert(d.key.as_str(), (d.decision, d.reviewer.as_deref()));
        }
        let p = progress(&items, merged.into_iter().map(|(k, (d, r))| (k, d, r)));
        (outcome, p)
    } else {
        let outcome = store.import_decisions(campaign.id, &checked.decisions, Utc::now())?;
        let now = store.decisions(campaign.id, false)?;
        let p = progress(
            &items,
            now.iter()
                .map(|d| (d.key.as_str(), d.decision, d.reviewer.as_deref())),
        );
        (outcome, p)
    };
    out.line(outcome_line(
        &campaign,
        opened.len(),
        checked.rows,
        &outcome,
        args.dry_run,
    ));
    for line in progress_lines(&after) {
        out.line(line);
    }
    Ok(())
}

/// Exit code 2 with every problem, one a line.
fn refused(problems: &[Problem]) -> CommandError {
    let mut msg = format!(
        "{} problem(s) in the workbooks; nothing was imported:",
        problems.len()
    );
    for p in problems {
        let _ = write!(msg, "\n  {}", printable(&p.to_string()));
    }
    msg.push_str("\nfix the workbooks (or send them back to their reviewers) and import again");
    CommandError::usage(anyhow!(msg))
}

fn outcome_line(
    campaign: &Campaign,
    workbooks: usize,
    rows: usize,
    o: &ImportOutcome,
    dry_run: bool,
) -> String {
    let verb = if dry_run {
        "dry run, nothing imported; would import"
    } else {
        "imported"
    };
    format!(
        "campaign {} (id {}): {workbooks} workbook(s), {rows} row(s) checked; {verb}: {} new, \
         {} replaced, {} unchanged",
        campaign.name, campaign.id, o.added, o.replaced, o.unchanged
    )
}

/// Text from a workbook made safe for a terminal: control characters (escape
/// sequences, line breaks) shown as `?`.
fn printable(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

fn percent(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        100.0
    } else {
        part as f64 * 100.0 / whole as f64
    }
}

fn progress_lines(p: &Progress) -> Vec<String> {
    let mut lines = vec![format!(
        "progress: {} of {} rows decided ({:.1}%), {} undecided; {}",
        p.decided,
        p.population,
        percent(p.decided, p.population),
        p.population - p.decided,
        Decision::ALL
            .iter()
            .map(|d| format!("{d} {}", p.by_decision.get(d).copied().unwrap_or(0)))
            .collect::<Vec<_>>()
            .join(", ")
    )];
    for w in &p.by_workbook {
        lines.push(format!(
            "  workbook {}: {} of {} decided ({:.1}%)",
            w.workbook,
            w.decided,
            w.rows,
            percent(w.decided, w.rows)
        ));
    }
    for (reviewer, n) in &p.by_reviewer {
        lines.push(format!("  reviewer {}: {n} decided", printable(reviewer)));
    }
    lines
}
