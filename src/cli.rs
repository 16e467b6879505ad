//! Command-line arguments (clap derive). Parsed once in `main`, turned into
//! validated settings by [`crate::commands`]; nothing else reads `std::env::args`.
//!
//! The API token is deliberately not an argument: arguments leak into `ps` and
//! shell history. It comes from `RETOOL_API_TOKEN` or `--token-file`.

// Doc comments here are the `--help` text, where bare URLs read best.
#![allow(rustdoc::bare_urls)]

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

const AFTER_HELP: &str = "\
Exit codes: 0 ok, 1 the run failed (API, network, disk, integrity), 2 usage or configuration error.

Examples:
  retool-audit demo                                   # simulated org, every report, ./demo-reports
  RETOOL_API_TOKEN=... retool-audit snapshot --base-url https://acme.retool.com
  retool-audit snapshots --format json
  retool-audit report --out reports/ --roster hr.csv
  retool-audit verify";

#[derive(Debug, Parser)]
#[command(
    name = "retool-audit",
    version,
    about = "Who can reach what in a Retool organization, and since when",
    long_about = "Collects a Retool organization's users, groups, memberships, apps, folders, \
resources, workflows and permission grants into a SQLite history, and renders SOC 2 \
access-review evidence (CSV, XLSX, HTML, JSON) from it.",
    after_help = AFTER_HELP
)]
pub struct Cli {
    /// The SQLite history file.
    #[arg(
        long,
        global = true,
        env = "RETOOL_AUDIT_DB",
        default_value = "retool-audit.db"
    )]
    pub db: PathBuf,

    /// More log output on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Print nothing on success (errors still go to stderr).
    #[arg(short, long, global = true)]
    pub quiet: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Collect the organization from the Retool API and store it as a snapshot.
    #[command(after_help = "\
The token comes from the RETOOL_API_TOKEN environment variable or --token-file, never
from an argument. Minimal read-only scopes: Users > Read, Groups > Read, Apps > Read,
Folders > Read, Resources > Read, Workflows > Read, Permissions > Read (plus Access
Tokens > Read and the user-invite read scope to audit those; missing optional scopes
are recorded as \"not collected\").

Examples:
  RETOOL_API_TOKEN=retool_01h... retool-audit snapshot --base-url https://acme.retool.com
  retool-audit snapshot --base-url https://tools.acme.com/retool --token-file /etc/retool-audit/token
  retool-audit snapshot --api v1 --base-url https://retool.internal --token-file token --max-rps 4
  retool-audit snapshot --api-root http://127.0.0.1:8080/ --token-file token   # a proxy or mock serving the API at /")]
    Snapshot(SnapshotArgs),

    /// List the snapshots in the history.
    #[command(after_help = "\
Examples:
  retool-audit snapshots
  retool-audit snapshots --format json | jq '.[-1].sha256'")]
    Snapshots(SnapshotsArgs),

    /// Recompute every snapshot's hash and check the chain; fails if anything was edited.
    #[command(after_help = "\
Examples:
  retool-audit verify && echo history intact
  retool-audit --db /var/lib/retool-audit/history.db verify")]
    Verify,

    /// Render access-review reports (CSV, XLSX, HTML, JSON) from the history.
    #[command(after_help = "\
Reads only the history, never the API.

Examples:
  retool-audit report --out reports/
  retool-audit report --out q4/ --snapshot 42 --since 2026-09-30 --roster hr-export.csv
  retool-audit report --out nightly/ --format csv,json --inactive-days 60")]
    Report(ReportArgs),

    /// Run everything on a simulated Retool: two snapshots with changes in between, every report.
    #[command(after_help = "\
Starts the simulated Retool on loopback, takes a snapshot, applies scripted changes,
takes a second snapshot and writes every report in every format.

Examples:
  retool-audit demo
  retool-audit demo --out /tmp/demo --users 500")]
    Demo(DemoArgs),

    /// Serve a simulated Retool organization over HTTP on loopback (for trying the tool, tests, curl).
    #[command(after_help = "\
Examples:
  retool-audit fake-server --port 8080 --users 1000
  RETOOL_API_TOKEN=fake-token retool-audit snapshot --base-url http://127.0.0.1:8080
  retool-audit fake-server --port 8080 --latency-ms 20 --faults 429x3:retry-after=1,500x2")]
    FakeServer(FakeServerArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ApiDialect {
    /// Retool API v2 (/api/v2), the current API.
    V2,
    /// The older v1 Management API shape (/api/v1).
    V1,
}

#[derive(Debug, Args)]
pub struct SnapshotArgs {
    /// The Retool instance root, e.g. https://acme.retool.com (the client appends /api/v2 or /api/v1).
    #[arg(long, env = "RETOOL_BASE_URL", conflicts_with = "api_root")]
    pub base_url: Option<String>,

    /// Use this URL verbatim as the API root (for proxies and mocks serving the API at /).
    #[arg(long)]
    pub api_root: Option<String>,

    /// Which API shape the instance speaks.
    #[arg(long = "api", value_enum, default_value = "v2")]
    pub api: ApiDialect,

    /// Read the API token from this file (instead of RETOOL_API_TOKEN).
    #[arg(long)]
    pub token_file: Option<PathBuf>,

    /// A label for the organization in the history (one database can hold many).
    #[arg(long, default_value = "default")]
    pub org: String,

    /// Requests in flight at once.
    #[arg(long, default_value_t = crate::retool::ClientConfig::DEFAULT_CONCURRENCY as u16, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub concurrency: u16,

    /// Client-side limit on requests per second (self-hosted Retool defaults to 300 a minute).
    #[arg(long)]
    pub max_rps: Option<f64>,

    /// Seconds to wait for a connection.
    #[arg(long, default_value_t = 10)]
    pub connect_timeout: u64,

    /// Seconds to wait for one response.
    #[arg(long, default_value_t = 60)]
    pub timeout: u64,

    /// Retries per request on 429, 5xx, timeouts and connection errors.
    #[arg(long, default_value_t = 6)]
    pub max_retries: u32,

    /// Allow a plain-http base URL that is not loopback (the token would travel in clear text).
    #[arg(long)]
    pub allow_insecure_http: bool,

    /// Skip direct user grants (one request per user and object type).
    #[arg(long, conflicts_with = "user_grants_max_users")]
    pub no_user_grants: bool,

    /// Collect direct user grants only up to this many users (3 requests per user);
    /// above it they are recorded as partially collected. 0 means no limit.
    #[arg(long, default_value_t = crate::collect::DEFAULT_USER_GRANTS_MAX_USERS)]
    pub user_grants_max_users: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    Table,
    Json,
}

#[derive(Debug, Args)]
pub struct SnapshotsArgs {
    /// Only this organization's snapshots.
    #[arg(long)]
    pub org: Option<String>,

    #[arg(long, value_enum, default_value = "table")]
    pub format: ListFormat,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Directory to write the reports into (created if missing).
    #[arg(long)]
    pub out: PathBuf,

    /// Formats, comma-separated: csv, xlsx, html, json.
    #[arg(long, default_value = "csv,xlsx,html")]
    pub format: String,

    /// The organization to report on (needed only when the history holds several).
    #[arg(long)]
    pub org: Option<String>,

    /// The snapshot to report on: an id, `latest`, or a date (the last snapshot on or before it).
    #[arg(long, default_value = "latest")]
    pub snapshot: String,

    /// The older snapshot for the change report: an id or a date (default: the one before).
    #[arg(long)]
    pub since: Option<String>,

    /// HR roster CSV with an `email` column: active users not in it are flagged.
    #[arg(long)]
    pub roster: Option<PathBuf>,

    /// Users whose last activity is older than this many days (before the snapshot) are flagged.
    #[arg(long, default_value_t = 90)]
    pub inactive_days: u32,

    /// The group every user is in (memberships in it alone do not count as access).
    #[arg(long, default_value = "All Users")]
    pub default_group: String,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Directory for the demo database and reports.
    #[arg(long, default_value = "demo-reports")]
    pub out: PathBuf,

    /// Size of the simulated organization (default: the small demo org).
    #[arg(long)]
    pub users: Option<usize>,

    /// Seed of the simulated organization.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}

#[derive(Debug, Args)]
pub struct FakeServerArgs {
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,

    /// Number of users in the generated organization (default: the small demo org).
    #[arg(long)]
    pub users: Option<usize>,

    #[arg(long, default_value_t = 42)]
    pub seed: u64,

    /// Delay added to every response, in milliseconds.
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,

    /// Faults to inject, e.g. `429x3:retry-after=1,500x2,truncatex1` (see the README).
    #[arg(long)]
    pub faults: Option<String>,

    /// The bearer token the server accepts.
    #[arg(long, default_value = "fake-token")]
    pub token: String,

    /// Apply the scripted changes before serving (the demo's second state).
    #[arg(long)]
    pub changed: bool,
}
