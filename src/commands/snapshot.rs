//! `retool-audit snapshot`: collect every selected target from the Retool API
//! and write each as one snapshot in one transaction. With one target the
//! outcome is that target's; with several, one failing target does not stop
//! the others.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::anyhow;
use chrono::Utc;

use super::common::{snapshot_json, summary_line};
use super::targets::{Checked, check, select};
use super::{CmdResult, CommandError, Output};
use crate::cli::SnapshotArgs;
use crate::collect::{CollectOptions, collect};
use crate::config::Config;
use crate::model::SnapshotMeta;
use crate::progress::TerminalProgress;
use crate::retool::{Client, ClientConfig, Progress};
use crate::store::{RunLock, Store};

/// `snapshot`: every selected target in turn. With one target the outcome is
/// that target's (summary line or error, as always); with several, each
/// failure is reported as it happens, the others go on, and the run fails
/// (exit 1) naming the failed targets.
pub(super) async fn run(
    db: &Path,
    config: Option<&Config>,
    args: &SnapshotArgs,
    out: Output,
) -> CmdResult {
    let targets = select(config, &args.target)?;
    let checked = targets.iter().map(check).collect::<CmdResult<Vec<_>>>()?;
    // Held from before the history is opened until it is closed (declared
    // first, dropped last): the next run must not open it while this one's
    // connection still checkpoints on close.
    let wait = Duration::from_secs(args.lock_timeout);
    let on_file = !crate::store::postgres::is_postgres_url(&db.to_string_lossy());
    let _lock = on_file.then(|| RunLock::acquire(db, wait)).transpose()?;
    let mut store = Store::open(db)?;
    let many = args.target.all || checked.len() > 1;
    let mut outcomes: Vec<(&Checked, CmdResult<SnapshotMeta>)> = Vec::new();
    for c in &checked {
        // On PostgreSQL each org has its own lock, taken before its
        // collection: another run holding one org fails that target only.
        let result = match store.lock_org(&c.name, wait) {
            Ok(()) => snapshot_one(&mut store, c, out).await,
            Err(e) => Err(e.into()),
        };
        match &result {
            Ok(meta) if !args.json => out.line(summary_line(meta)),
            Err(e) if many => eprintln!("error: snapshot of {} failed: {:#}", c.name, e.error),
            _ => {}
        }
        outcomes.push((c, result));
    }
    if args.json {
        print_json(&outcomes)?;
    }
    let failed: Vec<&str> = outcomes
        .iter()
        .filter(|(_, r)| r.is_err())
        .map(|(c, _)| c.name.as_str())
        .collect();
    if !many {
        return match outcomes.pop() {
            Some((_, Err(e))) => Err(e),
            _ => Ok(()),
        };
    }
    if failed.is_empty() {
        if !args.json {
            out.line(format!("all {} targets collected", outcomes.len()));
        }
        return Ok(());
    }
    Err(CommandError::failed(anyhow!(
        "{} of {} targets failed: {}; the other targets' snapshots were stored",
        failed.len(),
        outcomes.len(),
        failed.join(", ")
    )))
}

async fn snapshot_one(store: &mut Store, c: &Checked, out: Output) -> CmdResult<SnapshotMeta> {
    let started = Utc::now();
    let client = match c.client_config().await {
        Ok((client, note)) => {
            if let Some(note) = note {
                tracing::info!("{}: {note}", c.name);
            }
            client
        }
        Err(e) => {
            record_failed_run(
                store,
                &c.name,
                &c.source(),
                started,
                &format!("{:#}", e.error),
            );
            return Err(e);
        }
    };
    let job = SnapshotJob {
        org: c.name.clone(),
        client,
        options: c.options.clone(),
    };
    let progress = out
        .progress
        .then(|| Arc::new(TerminalProgress::stderr(&c.name)));
    let observer = progress.clone().map(|p| p as Arc<dyn Progress>);
    let result = take_snapshot(store, &job, observer).await;
    if let Some(p) = progress {
        p.finish();
    }
    result
}

/// `snapshot --json`: `{"targets": [...], "collected": n, "failed": n}`, each
/// target as in `snapshots --format json` plus request counts, or its error.
fn print_json(outcomes: &[(&Checked, CmdResult<SnapshotMeta>)]) -> CmdResult {
    let targets: Vec<serde_json::Value> = outcomes
        .iter()
        .map(|(c, r)| match r {
            Ok(meta) => {
                let mut v = snapshot_json(meta);
                if let Some(o) = v.as_object_mut() {
                    o.insert("requests".into(), meta.info.total_requests().into());
                    o.insert("retries".into(), meta.info.total_retries().into());
                }
                v
            }
            Err(e) => serde_json::json!({
                "id": null,
                "org": c.name,
                "status": "failed",
                "source": c.source(),
                "exit_code": e.code,
                "error": format!("{:#}", e.error),
            }),
        })
        .collect();
    let failed = outcomes.iter().filter(|(_, r)| r.is_err()).count();
    let summary = serde_json::json!({
        "targets": targets,
        "collected": outcomes.len() - failed,
        "failed": failed,
    });
    let text =
        serde_json::to_string_pretty(&summary).map_err(|e| CommandError::failed(anyhow!(e)))?;
    println!("{text}");
    Ok(())
}

/// Everything `snapshot` needs, validated.
pub(super) struct SnapshotJob {
    pub(super) org: String,
    pub(super) client: ClientConfig,
    pub(super) options: CollectOptions,
}

/// Collects once and writes the snapshot in one transaction. A failed collection
/// writes nothing but a line in the `runs` table.
pub(super) async fn take_snapshot(
    store: &mut Store,
    job: &SnapshotJob,
    progress: Option<Arc<dyn Progress>>,
) -> CmdResult<SnapshotMeta> {
    let source = job.client.api_root.to_string();
    let started = Utc::now();
    let client =
        Client::with_progress(job.client.clone(), progress).map_err(CommandError::failed)?;
    let collected = match collect(&client, &job.options).await {
        Ok(c) => c,
        Err(e) => {
            let message = format!("{:#}", anyhow!(e));
            record_failed_run(store, &job.org, &source, started, &message);
            return Err(CommandError::failed(anyhow!(
                "{message}\nthe collection from {source} failed; nothing was written to the history"
            )));
        }
    };
    // The summary line names what was not collected; logs add it for -v.
    for (kind, why) in &collected.state.not_collected {
        tracing::info!("{kind} not collected: {why}");
    }
    match store.write_snapshot(&job.org, &collected) {
        Ok(meta) => Ok(meta),
        Err(e) => {
            let message = format!("could not write the snapshot: {e}");
            record_failed_run(store, &job.org, &source, started, &message);
            Err(CommandError::from(e)
                .context("could not write the snapshot; the history is unchanged"))
        }
    }
}

/// Logs a failed attempt in the `runs` table. Best effort: the fault that failed
/// the run (a full disk, a lock) may stop this line too; that is only warned about.
fn record_failed_run(
    store: &mut Store,
    org: &str,
    source: &str,
    started: chrono::DateTime<Utc>,
    message: &str,
) {
    if let Err(e) = store.log_failed_run(org, source, started, Utc::now(), message) {
        tracing::warn!("could not record the failed run in the history: {e}");
    }
}
