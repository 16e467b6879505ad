//! Scale benchmark (issue 6): collection, snapshot write, a year of history and
//! reports on the generated organizations M (10k users), L (50k) and XL (100k).
//!
//! ```text
//! cargo bench --bench scale -- [M|L|XL|all] [--stage collect,write,year,report,postgres]
//!     [--nights N] [--year-budget SECONDS] [--concurrency N,...] [--page-size N]
//!     [--prerendered]
//! ```
//!
//! `--concurrency` defaults to `1,16`: the sequential run (one request after
//! another) is measured, not computed, and is the reference for the speed-up.
//!
//! `postgres` (not in the default stages: it needs the PostgreSQL test server,
//! `source .ci/postgres.sh && retool_audit_pg_start`) compares PostgreSQL with
//! SQLite in the same run: see `postgres.rs`.
//!
//! Every stage prints wall time, CPU time (utime + stime of the whole process
//! from `/proc/self/stat`, so the in-process fake server counts too), peak RSS
//! (`VmHWM`, reset before each stage through `/proc/self/clear_refs` where the
//! kernel allows it) and the ratio to a reference measured in the same run.
//! Plain `fn main` (harness = false): no timing assertions, just figures.

mod measure;
mod postgres;
mod stages;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use chrono::{DateTime, TimeZone, Utc};
use retool_audit::collect::CollectOptions;
use retool_audit::fake::{FakeOrg, OrgSpec};
use retool_audit::retool::ClientConfig;

use measure::*;
use stages::*;

const LATENCY: Duration = Duration::from_millis(20);

// ---------------------------------------------------------------- arguments

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Size {
    M,
    L,
    Xl,
}

impl Size {
    fn name(self) -> &'static str {
        match self {
            Size::M => "M",
            Size::L => "L",
            Size::Xl => "XL",
        }
    }

    fn spec(self, now: DateTime<Utc>) -> OrgSpec {
        match self {
            Size::M => OrgSpec::m(now),
            Size::L => OrgSpec::l(now),
            Size::Xl => OrgSpec::xl(now),
        }
    }
}

struct Args {
    sizes: Vec<Size>,
    stages: Vec<String>,
    nights: usize,
    year_budget: Duration,
    concurrency: Vec<usize>,
    /// `--page-size`: read `/users` and `/resources` in pages (default: whole lists).
    page_size: Option<u64>,
    /// `--prerendered`: the simulated server renders its list answers at start.
    prerendered: bool,
    /// Run in this process (set for the child processes `main` starts).
    in_process: bool,
}

fn parse_args() -> Result<Args> {
    let mut args = Args {
        sizes: Vec::new(),
        stages: vec![
            "collect".into(),
            "write".into(),
            "year".into(),
            "report".into(),
        ],
        nights: 365,
        year_budget: Duration::from_secs(600),
        concurrency: vec![1, ClientConfig::DEFAULT_CONCURRENCY],
        page_size: None,
        prerendered: false,
        in_process: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| anyhow!("{name} needs a value"));
        match a.as_str() {
            "--bench" => {} // cargo bench passes this to harness = false benches
            "--in-process" => args.in_process = true,
            "--prerendered" => args.prerendered = true,
            "--stage" | "--stages" => {
                args.stages = value("--stage")?
                    .split(',')
                    .map(|s| s.trim().to_lowercase())
                    .collect();
            }
            "--nights" => args.nights = value("--nights")?.parse()?,
            "--year-budget" => {
                args.year_budget = Duration::from_secs(value("--year-budget")?.parse()?)
            }
            "--concurrency" => {
                args.concurrency = value("--concurrency")?
                    .split(',')
                    .map(|c| c.trim().parse::<usize>())
                    .collect::<Result<_, _>>()?;
            }
            "--page-size" => args.page_size = Some(value("--page-size")?.parse()?),
            s if s.eq_ignore_ascii_case("m") => args.sizes.push(Size::M),
            s if s.eq_ignore_ascii_case("l") => args.sizes.push(Size::L),
            s if s.eq_ignore_ascii_case("xl") => args.sizes.push(Size::Xl),
            s if s.eq_ignore_ascii_case("all") => args.sizes = vec![Size::M, Size::L, Size::Xl],
            other => return Err(anyhow!("unknown argument `{other}`")),
        }
    }
    if args.sizes.is_empty() {
        args.sizes = vec![Size::M, Size::L];
    }
    for s in &args.stages {
        if !["collect", "write", "year", "report", "postgres"].contains(&s.as_str()) {
            return Err(anyhow!(
                "unknown stage `{s}`: expected collect, write, year, report, postgres"
            ));
        }
    }
    Ok(args)
}

fn bench_dir() -> Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("retool-audit-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// The stages that run for `size` (XL: collection and write only, the issue's
/// growth table).
fn stages_for(args: &Args, size: Size) -> Vec<String> {
    args.stages
        .iter()
        .filter(|s| size != Size::Xl || s.as_str() == "collect" || s.as_str() == "write")
        .cloned()
        .collect()
}

/// Runs each (size, stage) in its own child process, so each stage's peak RSS
/// is its own (memory an allocator keeps from an earlier stage cannot be reset).
fn run_children(args: &Args) -> Result<()> {
    let exe = std::env::current_exe()?;
    let list = |v: &[usize]| v.iter().map(usize::to_string).collect::<Vec<_>>().join(",");
    for &size in &args.sizes {
        for stage in stages_for(args, size) {
            let status = std::process::Command::new(&exe)
                .arg(size.name())
                .args(["--stage", &stage])
                .args(["--nights", &args.nights.to_string()])
                .args(["--year-budget", &args.year_budget.as_secs().to_string()])
                .args(["--concurrency", &list(&args.concurrency)])
                .args(args.prerendered.then_some("--prerendered"))
                .args(
                    args.page_size
                        .map(|n| vec!["--page-size".to_string(), n.to_string()])
                        .unwrap_or_default(),
                )
                .arg("--in-process")
                .status()?;
            if !status.success() {
                return Err(anyhow!("{} {stage} failed: {status}", size.name()));
            }
        }
    }
    Ok(())
}

fn main() -> Result<()> {
    let args = parse_args()?;
    let jobs: usize = args.sizes.iter().map(|&s| stages_for(&args, s).len()).sum();
    if jobs > 1 && !args.in_process {
        println!(
            "retool-audit scale bench: {jobs} (size, stage) runs, each in its own process; load {}",
            std::fs::read_to_string("/proc/loadavg")
                .unwrap_or_default()
                .trim()
        );
        return run_children(&args);
    }
    println!(
        "--- sizes {:?}, stages {:?}, nights {}, concurrency {:?}, peak-RSS reset {}, load {}",
        args.sizes.iter().map(|s| s.name()).collect::<Vec<_>>(),
        args.stages,
        args.nights,
        args.concurrency,
        if reset_peak() {
            "per step"
        } else {
            "unavailable (peak is process-wide)"
        },
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .trim()
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let dir = bench_dir()?;
    let wants = |s: &str| args.stages.iter().any(|x| x == s);
    let now = Utc
        .with_ymd_and_hms(2026, 11, 1, 0, 0, 0)
        .single()
        .context("now")?;
    for &size in &args.sizes {
        let spec = size.spec(now);
        let m = Measure::start();
        let org = FakeOrg::generate(&spec);
        line(size.name(), "generate", "FakeOrg::generate", &m.stop(), "");
        let mut collected = None;
        if wants("collect") {
            // The sequential run (c=1), when asked for, goes first: it is the
            // reference for the others' speed-up.
            let mut order = args.concurrency.clone();
            order.sort_unstable();
            let mut sequential = None;
            let defaults = CollectOptions::default();
            let mut last = None;
            for c in order {
                let (got, wall) = stage_collect(
                    &rt,
                    size,
                    org.clone(),
                    c,
                    args.page_size,
                    args.prerendered,
                    sequential,
                    (&defaults, ""),
                )?;
                if c == 1 {
                    sequential = Some(wall);
                }
                last = Some((c, wall));
                collected.get_or_insert(got);
            }
            // Against the defaults, measured in this run (issue 13): without
            // usage and the cross-check, and with per-app usage on top.
            if let Some((c, with)) = last {
                let variants = [
                    (
                        CollectOptions {
                            usage_days: 0,
                            cross_check: 0,
                            ..CollectOptions::default()
                        },
                        ", usage and cross-check off",
                    ),
                    (
                        CollectOptions {
                            usage_details: true,
                            ..CollectOptions::default()
                        },
                        ", with --usage-details",
                    ),
                ];
                for (options, label) in &variants {
                    let (_, wall) = stage_collect(
                        &rt,
                        size,
                        org.clone(),
                        c,
                        args.page_size,
                        args.prerendered,
                        None,
                        (options, label),
                    )?;
                    println!(
                        "      {}: {:.2} s against the defaults' {:.2} s ({:.2}×)",
                        label.trim_start_matches(", "),
                        wall.as_secs_f64(),
                        with.as_secs_f64(),
                        wall.as_secs_f64() / with.as_secs_f64()
                    );
                }
            }
        }
        if wants("write") {
            let c = match collected {
                Some(c) => c,
                None => offline(&org, now),
            };
            stage_write(size, &c, &dir)?;
        }
        // XL: collection and write only (the issue's growth table).
        if size == Size::Xl {
            continue;
        }
        if wants("year") {
            stage_year(size, &org, &dir, args.nights, args.year_budget)?;
        }
        if wants("report") {
            stage_report(size, &org, &dir)?;
        }
        if wants("postgres") {
            postgres::stage_postgres(&rt, size, &org, &dir)?;
        }
    }
    if let Err(e) = std::fs::remove_dir_all(&dir) {
        eprintln!("could not remove {}: {e}", dir.display());
    }
    Ok(())
}
