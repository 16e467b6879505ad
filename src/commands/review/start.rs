//! `retool-audit review start`: freeze the population of one snapshot as a
//! campaign and write its review workbooks and HTML companion.
//!
//! Order, so that a failure leaves a consistent state: everything is checked
//! first; the campaign is inserted in a transaction; the files are written
//! into a staging directory inside `--out` while the transaction is open (the
//! workbooks show the campaign id); a failure there rolls the campaign back
//! and removes the staging directory; then the campaign is committed and the
//! files are renamed into place.

use std::path::{Path, PathBuf};

use anyhow::anyhow;
use chrono::{Datelike, Utc};

use crate::cli::{ReviewStartArgs, ReviewerByArg};
use crate::commands::common::{org_label, pick_org, read_roster};
use crate::commands::{CmdResult, CommandError, Output};
use crate::output::{WriteError, create_private_dir};
use crate::report::format_time;
use crate::review::population::{Population, PopulationOptions, flag_counts, population};
use crate::review::workbook::{CampaignFiles, CampaignSettings, RosterInfo, write_campaign_files};
use crate::review::{NewCampaign, ReviewerBy, Suggestion};
use crate::store::{Store, StoreError};

/// Why the campaign could not be created: the store refused it, or its files
/// could not be written (the campaign is rolled back then).
#[derive(Debug, thiserror::Error)]
enum StartError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Write(#[from] WriteError),
}

/// A campaign name: 1-64 letters, digits, spaces, `.`, `_` or `-`.
fn check_name(name: &str) -> CmdResult {
    let ok = !name.trim().is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, ' ' | '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(CommandError::usage(anyhow!(
            "--name {name:?} is not a valid campaign name: use 1-64 letters, digits, spaces, \
             '.', '_' or '-' (e.g. 2026-Q4)"
        )))
    }
}

pub(super) fn run(db: &Path, args: &ReviewStartArgs, out: Output) -> CmdResult {
    if let Some(name) = &args.name {
        check_name(name)?;
    }
    let analysis = &args.analysis;
    let roster = analysis.roster.as_deref().map(read_roster).transpose()?;
    let mut store = Store::open_existing(db)?;
    let org = pick_org(&store, args.pick.org.as_deref())?;
    let snapshot = store.resolve(Some(&org), &args.pick.snapshot)?;
    let state = store.state_at(snapshot.id)?;
    let taken = snapshot.taken_at();
    let name = args
        .name
        .clone()
        .unwrap_or_else(|| format!("{}-Q{}", taken.year(), taken.month0() / 3 + 1));
    let reviewer_by = match args.reviewer_by {
        ReviewerByArg::Single => ReviewerBy::Single,
        ReviewerByArg::GroupAdmin => ReviewerBy::GroupAdmin,
    };
    let pop = population(
        &state,
        &PopulationOptions {
            as_of: taken,
            inactive_days: analysis.inactive_days,
            default_group: analysis.default_group.clone(),
            reviewer_by,
            roster: roster.as_ref(),
        },
    );
    let settings = CampaignSettings {
        inactive_days: analysis.inactive_days,
        default_group: analysis.default_group.clone(),
        roster: roster.as_ref().and_then(|r| {
            r.source.as_ref().map(|s| RosterInfo {
                file: s.file.clone(),
                sha256: s.sha256.clone(),
                emails: r.len(),
            })
        }),
        tool_version: crate::VERSION.to_string(),
        workbooks: pop.workbooks.clone(),
    };
    let new = NewCampaign {
        org: org.clone(),
        name: name.clone(),
        snapshot_id: snapshot.id,
        snapshot_sha256: snapshot.sha256.clone(),
        created_at: Utc::now(),
        reviewer_by,
        settings: serde_json::to_value(&settings).map_err(|e| CommandError::failed(anyhow!(e)))?,
    };

    let cannot_write = |e: WriteError| {
        CommandError::from(e).context(format!(
            "could not write the review files to {}; the campaign was not stored, fix the \
             problem and run again",
            args.out.display()
        ))
    };
    create_private_dir(&args.out).map_err(cannot_write)?;
    let staging = tempfile::Builder::new()
        .prefix(".review-staging-")
        .tempdir_in(&args.out)
        .map_err(|e| cannot_write(WriteError::io(&args.out, e)))?;
    let label = org_label(&org, &snapshot.info.source_url);
    let generated_at = Utc::now();
    let created = store.create_campaign_then(&new, &pop.items, |campaign| {
        let files = CampaignFiles {
            campaign,
            settings: &settings,
            population: &pop,
            snapshot: &snapshot,
            org_label: &label,
            generated_at,
        };
        write_campaign_files(staging.path(), &files).map_err(StartError::from)
    });
    let (campaign, names) = match created {
        Ok(done) => done,
        Err(StartError::Store(e)) => return Err(CommandError::from(e)),
        Err(StartError::Write(e)) => return Err(cannot_write(e)),
    };

    let mut written: Vec<PathBuf> = Vec::new();
    for name in &names {
        let dest = args.out.join(name);
        if let Err(e) = std::fs::rename(staging.path().join(name), &dest) {
            let kept = staging.keep();
            return Err(CommandError::failed(anyhow!(
                "campaign `{}` (id {}) is stored, but moving {name} into {} failed: {e}; \
                 the files are in {}: move them into {} by hand",
                campaign.name,
                campaign.id,
                args.out.display(),
                kept.display(),
                args.out.display()
            )));
        }
        written.push(dest);
    }
    drop(staging);

    for f in &written {
        out.line(format!("wrote {}", f.display()));
    }
    out.line(format!(
        "campaign {} (id {}, org {}) frozen from snapshot {} taken {}: {} rows in {} workbook(s)",
        campaign.name,
        campaign.id,
        campaign.org,
        snapshot.id,
        format_time(&taken),
        campaign.items,
        settings.workbooks.len()
    ));
    out.line(summary(&pop));
    for w in settings.workbooks.iter().filter(|w| w.note.is_some()) {
        out.line(format!(
            "  workbook {} ({} rows): {}",
            w.name,
            w.rows,
            w.note.as_deref().unwrap_or_default()
        ));
    }
    Ok(())
}

/// `flagged rows: ...; suggestions: ...`
fn summary(pop: &Population) -> String {
    let flagged: Vec<String> = flag_counts(&pop.items)
        .into_iter()
        .map(|(f, n)| format!("{f} {n}"))
        .collect();
    let count = |s: Suggestion| pop.items.iter().filter(|i| i.suggested == Some(s)).count();
    format!(
        "flagged rows: {}; suggestions: revoke {}, modify {}, review {}",
        flagged.join(", "),
        count(Suggestion::Revoke),
        count(Suggestion::Modify),
        count(Suggestion::Review)
    )
}
