//! The commands behind the CLI: validate settings once, run the pipeline stages
//! (collect → store → analyze → report), and classify every failure with the exit
//! code the README documents (1 the run failed, 2 usage or configuration, 3
//! `report --fail-on` found a listed finding).

mod prune;
mod review;
mod shell;
mod targets;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow};
use chrono::Utc;

use crate::analyze::Roster;
use crate::cli::{
    BenchSize, Cli, Command, DemoArgs, FakeServerArgs, ListFormat, LogFormat, ReportArgs,
    SnapshotsArgs,
};
use crate::collect::{CollectOptions, collect};
use crate::config::{self, Config};
use crate::fake::{FakeConfig, FakeOrg, FakeServer, OrgSpec, parse_faults};
use crate::model::{Dialect, EntityKind, SnapshotMeta};
use crate::report::build::{ReportInput, ReportOptions, build_streamed};
use crate::report::fail_on::{FailOn, parse_fail_on, triggered};
use crate::report::write::{Format, parse_formats, write_report};
use crate::report::{Cell, Report, RowSource, Section};
use crate::retool::{Client, ClientConfig, Progress, Secret, resolve_api_root};
use crate::store::{SnapshotSelector, Store, StoreError};

/// A failed command: the error to print (with its causes, `{:#}`) and the exit code.
#[derive(Debug)]
pub struct CommandError {
    pub code: u8,
    pub error: anyhow::Error,
}

impl CommandError {
    /// Exit code 2: the user must change the command, the configuration or an input file.
    pub fn usage(error: impl Into<anyhow::Error>) -> Self {
        CommandError {
            code: 2,
            error: error.into(),
        }
    }

    /// Exit code 1: the run failed (API, network, disk, integrity).
    pub fn failed(error: impl Into<anyhow::Error>) -> Self {
        CommandError {
            code: 1,
            error: error.into(),
        }
    }

    /// Exit code 3: the command did its work (the report is written in full) and
    /// found something `--fail-on` asked to be alerted about.
    pub fn findings(error: impl Into<anyhow::Error>) -> Self {
        CommandError {
            code: Self::FINDINGS,
            error: error.into(),
        }
    }

    /// The exit code of [`CommandError::findings`].
    pub const FINDINGS: u8 = 3;
}

type CmdResult<T = ()> = Result<T, CommandError>;

/// Classifies a store error: a missing, foreign or newer database and an unknown
/// snapshot are the user's to fix (2); everything else is a failed run (1).
fn store_error(e: StoreError) -> CommandError {
    let usage = matches!(
        e,
        StoreError::NotADatabase { .. }
            | StoreError::NewerSchema { .. }
            | StoreError::Missing { .. }
            | StoreError::SnapshotNotFound { .. }
            | StoreError::NoSnapshots { .. }
            | StoreError::NoSnapshotBefore { .. }
            | StoreError::CampaignExists { .. }
            | StoreError::CampaignNotFound { .. }
            | StoreError::CampaignAmbiguous { .. }
    );
    if usage {
        CommandError::usage(e)
    } else {
        CommandError::failed(e)
    }
}

/// What the global flags ask of output.
#[derive(Debug, Clone, Copy)]
struct Output {
    quiet: bool,
    /// Progress bars on stderr: a terminal, not `--quiet`, text logs.
    progress: bool,
}

impl Output {
    fn line(&self, s: impl AsRef<str>) {
        if !self.quiet {
            println!("{}", s.as_ref());
        }
    }
}

/// Runs one parsed command line.
pub fn run(cli: Cli) -> CmdResult {
    let out = Output {
        quiet: cli.quiet,
        progress: !cli.quiet
            && cli.log_format == LogFormat::Text
            && std::io::stderr().is_terminal(),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            CommandError::failed(anyhow!(e).context("could not start the async runtime"))
        })?;
    // `demo` and `fake-server` run on their own and never read the config file.
    let setup = || -> CmdResult<(Option<Config>, PathBuf)> {
        let config = match config::locate(cli.config.as_deref()) {
            Some(path) => Some(Config::load(&path).map_err(CommandError::usage)?),
            None => None,
        };
        let db = cli
            .db
            .clone()
            .or_else(|| config.as_ref().and_then(|c| c.db.clone()))
            .unwrap_or_else(|| PathBuf::from("retool-audit.db"));
        Ok((config, db))
    };
    match &cli.command {
        Command::Snapshot(args) => {
            let (config, db) = setup()?;
            runtime.block_on(targets::snapshot_command(&db, config.as_ref(), args, out))
        }
        Command::Doctor(args) => {
            let (config, _) = setup()?;
            runtime.block_on(targets::doctor_command(config.as_ref(), args, out))
        }
        Command::Snapshots(args) => list_snapshots(&setup()?.1, args, out),
        Command::Verify => verify(&setup()?.1, out),
        Command::Report(args) => report_command(&setup()?.1, args, out),
        Command::Demo(args) => runtime.block_on(demo(args, out)),
        Command::FakeServer(args) => runtime.block_on(fake_server(args, out)),
        Command::Review(args) => review::run(&setup()?.1, &args.command, out),
        Command::Prune(args) => prune::prune_command(&setup()?.1, args, out),
        Command::Completions(args) => shell::completions(args.shell),
        Command::Man(args) => shell::man(args.out.as_deref(), out),
    }
}

/// Everything `snapshot` needs, validated.
struct SnapshotJob {
    org: String,
    client: ClientConfig,
    options: CollectOptions,
}

/// Collects once and writes the snapshot in one transaction. A failed collection
/// writes nothing but a line in the `runs` table.
async fn take_snapshot(
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
            let mut failure = store_error(e);
            failure.error = failure
                .error
                .context("could not write the snapshot; the history is unchanged");
            Err(failure)
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

fn summary_line(meta: &SnapshotMeta) -> String {
    let c = |k: EntityKind| meta.counts.get(&k).copied().unwrap_or(0);
    let secs = (meta.info.finished_at - meta.info.started_at).num_milliseconds() as f64 / 1000.0;
    let mut line = format!(
        "snapshot {} ({}): {} users, {} groups, {} memberships, {} apps, {} folders, {} resources, \
         {} workflows, {} grants in {:.1}s ({} requests, {} retries)",
        meta.id,
        meta.org,
        c(EntityKind::Users),
        c(EntityKind::Groups),
        c(EntityKind::Memberships),
        c(EntityKind::Apps),
        c(EntityKind::Folders),
        c(EntityKind::Resources),
        c(EntityKind::Workflows),
        c(EntityKind::Grants),
        secs,
        meta.info.total_requests(),
        meta.info.total_retries(),
    );
    if !meta.not_collected.is_empty() {
        let missing: Vec<String> = meta
            .not_collected
            .iter()
            .map(|(k, why)| format!("{k} ({why})"))
            .collect();
        let _ = write!(line, "; not collected: {}", missing.join(", "));
    }
    line
}

/// One snapshot as `snapshots --format json` and `snapshot --json` print it.
fn snapshot_json(s: &SnapshotMeta) -> serde_json::Value {
    let counts: BTreeMap<&str, u64> = s.counts.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    serde_json::json!({
        "id": s.id,
        "org": s.org,
        "started_at": s.info.started_at,
        "finished_at": s.info.finished_at,
        "status": "ok",
        "source": s.info.source_url,
        "dialect": s.info.dialect,
        "api_version": s.info.api_version,
        "counts": counts,
        "not_collected": s.not_collected,
        "sha256": s.sha256,
        "prev_sha256": s.prev_sha256,
    })
}

fn list_snapshots(db: &Path, args: &SnapshotsArgs, out: Output) -> CmdResult {
    let store = Store::open_existing(db).map_err(store_error)?;
    let snapshots = store.snapshots(args.org.as_deref()).map_err(store_error)?;
    let failed: Vec<_> = store
        .runs(args.org.as_deref())
        .map_err(store_error)?
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
                    db.display()
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

fn verify(db: &Path, out: Output) -> CmdResult {
    let store = Store::open_existing(db).map_err(store_error)?;
    let report = store.verify().map_err(store_error)?;
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
            db.display()
        ));
        return Ok(());
    }
    let mut msg = format!(
        "integrity check failed for {}: {} problem(s)",
        db.display(),
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

/// A validated `report` request.
struct ReportRequest {
    out: PathBuf,
    formats: Vec<Format>,
    org: Option<String>,
    snapshot: SnapshotSelector,
    since: Option<SnapshotSelector>,
    roster: Option<Roster>,
    inactive_days: u32,
    default_group: String,
    /// The org label shown in reports and file names (None: derived).
    label: Option<String>,
}

fn report_request(args: &ReportArgs) -> CmdResult<ReportRequest> {
    let formats = parse_formats(&args.format).map_err(|e| CommandError::usage(anyhow!(e)))?;
    let snapshot: SnapshotSelector = args.snapshot.parse().map_err(|e| {
        CommandError::usage(anyhow!(
            "--snapshot {:?}: {e}; use an id, `latest` or a date like 2026-11-01",
            args.snapshot
        ))
    })?;
    let since = args
        .since
        .as_deref()
        .map(|s| {
            s.parse::<SnapshotSelector>().map_err(|e| {
                CommandError::usage(anyhow!(
                    "--since {s:?}: {e}; use an id or a date like 2026-09-30"
                ))
            })
        })
        .transpose()?;
    let roster = args.roster.as_deref().map(read_roster).transpose()?;
    Ok(ReportRequest {
        out: args.out.clone(),
        formats,
        org: args.org.clone(),
        snapshot,
        since,
        roster,
        inactive_days: args.inactive_days,
        default_group: args.default_group.clone(),
        label: None,
    })
}

fn read_roster(path: &Path) -> CmdResult<Roster> {
    read_roster_hashed(path).map(|(roster, _)| roster)
}

/// The roster and the SHA-256 of the very bytes it was parsed from (evidence).
fn read_roster_hashed(path: &Path) -> CmdResult<(Roster, String)> {
    let bytes = std::fs::read(path).map_err(|e| {
        CommandError::usage(anyhow!("cannot read the roster {}: {e}", path.display()))
    })?;
    let roster = Roster::parse(&bytes).map_err(|e| {
        CommandError::usage(anyhow!(e).context(format!(
            "the roster {} is not usable; nothing was written",
            path.display()
        )))
    })?;
    let sha256 = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes));
    Ok((roster, sha256))
}

fn report_command(db: &Path, args: &ReportArgs, out: Output) -> CmdResult {
    let request = report_request(args)?;
    // Checked before anything is written, like every other argument.
    let fail_on: Vec<FailOn> = match &args.fail_on {
        Some(list) => parse_fail_on(list).map_err(|e| CommandError::usage(anyhow!(e)))?,
        None => Vec::new(),
    };
    let store = Store::open_existing(db).map_err(store_error)?;
    let rendered = render_report(&store, request)?;
    if args.json {
        let text = serde_json::to_string_pretty(&report_json(&rendered))
            .map_err(|e| CommandError::failed(anyhow!(e)))?;
        println!("{text}");
        return Ok(());
    }
    for f in &rendered.files {
        out.line(format!("wrote {}", f.display()));
    }
    out.line(headline(&rendered.report));
    check_fail_on(&rendered.report, &fail_on)
}

/// Exit code 3 when the written report holds any finding `--fail-on` lists,
/// with one line naming each and its count.
fn check_fail_on(report: &Report, fail_on: &[FailOn]) -> CmdResult {
    let found = triggered(report, fail_on).map_err(|e| CommandError::failed(anyhow!(e)))?;
    if found.is_empty() {
        return Ok(());
    }
    let counts: Vec<String> = found.iter().map(|(f, n)| format!("{n} {f}")).collect();
    Err(CommandError::findings(anyhow!(
        "--fail-on: found {} (the report was written in full)",
        counts.join(", ")
    )))
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

/// What `render_report` wrote, and from which snapshots.
struct Rendered {
    /// The summary, evidence and small tables; the streamed tables' rows went
    /// straight to the files and are not held.
    report: Report,
    /// Rows per table, streamed ones included.
    rows: BTreeMap<String, usize>,
    files: Vec<PathBuf>,
    snapshot_id: i64,
    since_snapshot_id: Option<i64>,
}

/// Picks the organization: the one asked for, or the only one in the history.
fn pick_org(store: &Store, asked: Option<&str>) -> CmdResult<String> {
    let orgs = store.orgs().map_err(store_error)?;
    match asked {
        Some(o) if orgs.iter().any(|x| x == o) => Ok(o.to_string()),
        Some(o) => Err(CommandError::usage(anyhow!(
            "no snapshots of org {o:?} in the history; it holds: {}",
            if orgs.is_empty() {
                "nothing yet (run `retool-audit snapshot`)".to_string()
            } else {
                orgs.join(", ")
            }
        ))),
        None => match orgs.as_slice() {
            [] => Err(CommandError::usage(anyhow!(
                "the history has no snapshots yet: run `retool-audit snapshot` first"
            ))),
            [one] => Ok(one.clone()),
            many => Err(CommandError::usage(anyhow!(
                "the history holds several orgs ({}); pick one with --org",
                many.join(", ")
            ))),
        },
    }
}

/// Reads the chosen snapshots from the history, builds every table and writes
/// the requested formats. Everything that can be refused is checked before the
/// first file is written. The report returned holds the summary, evidence and
/// small tables; the rows of the streamed tables (`access_matrix`,
/// `effective_access`) went straight to the files and are not held.
fn render_report(store: &Store, req: ReportRequest) -> CmdResult<Rendered> {
    let org = pick_org(store, req.org.as_deref())?;
    let current = store
        .resolve(Some(&org), &req.snapshot)
        .map_err(store_error)?;
    let previous = match &req.since {
        Some(sel) => {
            let older = store.resolve(Some(&org), sel).map_err(store_error)?;
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
        None => store.previous(&current).map_err(store_error)?,
    };
    let state = store.state_at(current.id).map_err(store_error)?;
    let previous_state = match &previous {
        Some(p) => Some(store.state_at(p.id).map_err(store_error)?),
        None => None,
    };
    let history: Vec<SnapshotMeta> = store
        .snapshots(Some(&org))
        .map_err(store_error)?
        .into_iter()
        .filter(|s| s.id <= current.id)
        .collect();
    let since_time = previous.as_ref().map(|p| p.taken_at());
    let failed_runs: Vec<_> = store
        .runs(Some(&org))
        .map_err(store_error)?
        .into_iter()
        .filter(|r| r.status != "ok")
        .filter(|r| r.started_at <= current.taken_at())
        .filter(|r| since_time.is_none_or(|t| r.started_at >= t))
        .collect();
    let disabled_since = store.disabled_since(current.id).map_err(store_error)?;
    let label = req
        .label
        .clone()
        .unwrap_or_else(|| org_label(&org, &current.info.source_url));
    let input = ReportInput {
        org: &label,
        current: &current,
        current_state: &state,
        previous: previous.as_ref().zip(previous_state.as_ref()),
        history: &history,
        failed_runs: &failed_runs,
        disabled_since: &disabled_since,
    };
    let mut options = ReportOptions::new(Utc::now(), command_line());
    options.inactive_days = req.inactive_days;
    options.default_group = req.default_group.clone();
    options.roster = req.roster;
    let report = build_streamed(&input, &options);
    let files = write_report(&report, &req.out, &req.formats).map_err(|e| {
        CommandError::usage(anyhow!(e).context(format!(
            "could not write the reports to {}; nothing was left half-written",
            req.out.display()
        )))
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

/// The label reports use: the `--org` name, or the instance host for the default org.
fn org_label(org: &str, source_url: &str) -> String {
    if org != "default" {
        return org.to_string();
    }
    url::Url::parse(source_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_else(|| org.to_string())
}

/// The command line for the evidence sheet, as `retool-audit <arguments>`.
/// Tokens are never arguments, so the arguments are safe to show; paths are shown
/// as given.
fn command_line() -> String {
    std::iter::once("retool-audit".to_string())
        .chain(std::env::args().skip(1))
        .collect::<Vec<_>>()
        .join(" ")
}

/// One line with the report's headline findings.
fn headline(report: &Report) -> String {
    let items: Vec<String> = report
        .summary
        .iter()
        .filter(|s| matches!(s.section, Section::Headline | Section::Findings))
        .filter(|s| !matches!(s.value, Cell::Int(0) | Cell::Empty))
        .map(|s| format!("{}: {}", s.label, s.value.to_plain()))
        .collect();
    format!("findings: {}", items.join(", "))
}

/// The simulated organization of `demo` and `fake-server`: the small demo org, or
/// one of `users` users; times are relative to now.
fn simulated_org(users: Option<usize>, seed: u64) -> OrgSpec {
    let now = Utc::now();
    let mut spec = match users {
        Some(n) => OrgSpec::with_users(n, seed, now),
        None => OrgSpec::demo(now),
    };
    spec.seed = seed;
    spec
}

async fn demo(args: &DemoArgs, out: Output) -> CmdResult {
    let org = FakeOrg::generate(&simulated_org(args.users, args.seed));
    let roster_rows: Vec<String> = org
        .expected_state()
        .users
        .iter()
        .enumerate()
        .filter(|(i, u)| u.active && i % 9 != 4)
        .map(|(_, u)| u.email.clone())
        .collect();
    let token = "demo-token".to_string();
    let config = FakeConfig {
        port: 0,
        token: token.clone(),
        version: Some("3.148.0 (simulated)".to_string()),
        ..FakeConfig::default()
    };
    let server = FakeServer::start(org, config).await.map_err(|e| {
        CommandError::failed(anyhow!(e).context("could not start the simulated Retool on loopback"))
    })?;

    std::fs::create_dir_all(&args.out).map_err(|e| {
        CommandError::usage(anyhow!(
            "cannot create the output directory {}: {e}",
            args.out.display()
        ))
    })?;
    let db = args.out.join("retool-audit-demo.db");
    for suffix in ["", "-wal", "-shm"] {
        let p = PathBuf::from(format!("{}{suffix}", db.display()));
        if p.exists() {
            std::fs::remove_file(&p).map_err(|e| {
                CommandError::failed(anyhow!(
                    "cannot replace the old demo database {}: {e}",
                    p.display()
                ))
            })?;
        }
    }
    let roster_path = args.out.join("demo-roster.csv");
    let mut roster_csv = String::from("email,department\n");
    for email in &roster_rows {
        let _ = writeln!(
            roster_csv,
            "{},staff",
            email.replace([',', '\n', '\r', '"'], " ")
        );
    }
    std::fs::write(&roster_path, roster_csv).map_err(|e| {
        CommandError::failed(anyhow!("cannot write {}: {e}", roster_path.display()))
    })?;

    let mut store = Store::open(&db).map_err(store_error)?;
    let api_root = resolve_api_root(Some(&server.base_url()), None, Dialect::V2, false)
        .map_err(CommandError::failed)?;
    let client = ClientConfig::new(api_root, Dialect::V2, Secret::new(token));
    let job = SnapshotJob {
        org: "demo".to_string(),
        client,
        options: CollectOptions::default(),
    };
    let t0 = Instant::now();
    let first = take_snapshot(&mut store, &job, None).await?;
    out.line(summary_line(&first));
    let changes = server.update_org(|o| o.apply_scripted_changes());
    tracing::info!("applied scripted changes: {changes:?}");
    let second = take_snapshot(&mut store, &job, None).await?;
    out.line(summary_line(&second));
    server.shutdown().await;

    let request = ReportRequest {
        out: args.out.clone(),
        formats: vec![Format::Csv, Format::Xlsx, Format::Html, Format::Json],
        org: Some("demo".to_string()),
        snapshot: SnapshotSelector::Latest,
        since: None,
        roster: Some(read_roster(&roster_path)?),
        inactive_days: 90,
        default_group: "All Users".to_string(),
        label: Some("demo".to_string()),
    };
    let Rendered { report, files, .. } = render_report(&store, request)?;
    out.line(format!(
        "demo finished in {:.1}s; reports in {}:",
        t0.elapsed().as_secs_f64(),
        args.out.display()
    ));
    for f in &files {
        out.line(format!("  {}", f.display()));
    }
    out.line(headline(&report));
    Ok(())
}

async fn fake_server(args: &FakeServerArgs, out: Output) -> CmdResult {
    let spec = match args.size {
        Some(BenchSize::M) => OrgSpec::m(Utc::now()),
        Some(BenchSize::L) => OrgSpec::l(Utc::now()),
        Some(BenchSize::Xl) => OrgSpec::xl(Utc::now()),
        None => simulated_org(args.users, args.seed),
    };
    let mut org = FakeOrg::generate(&spec);
    if args.changed {
        org.apply_scripted_changes();
    }
    let faults = match &args.faults {
        Some(s) => {
            parse_faults(s).map_err(|e| CommandError::usage(anyhow!("--faults {s:?}: {e}")))?
        }
        None => Vec::new(),
    };
    let users = spec.users;
    let config = FakeConfig {
        port: args.port,
        token: args.token.clone(),
        latency: Duration::from_millis(args.latency_ms),
        faults,
        version: Some("3.148.0 (simulated)".to_string()),
        ..FakeConfig::default()
    };
    let server = FakeServer::start(org, config).await.map_err(|e| {
        CommandError::failed(anyhow!(e).context(format!(
            "could not listen on 127.0.0.1:{}; is the port in use?",
            args.port
        )))
    })?;
    out.line(format!(
        "simulated Retool with {users} users on {} (API v2 at /api/v2, v1 at /api/v1); \
         accepts the bearer token given by --token; Ctrl-C stops it",
        server.base_url()
    ));
    tokio::signal::ctrl_c()
        .await
        .context("waiting for Ctrl-C")
        .map_err(CommandError::failed)?;
    server.shutdown().await;
    Ok(())
}
