//! Command-line arguments (clap derive). Parsed once in `main`, turned into
//! validated settings by [`crate::commands`]; nothing else reads `std::env::args`.
//!
//! The API token is deliberately not an argument: arguments leak into `ps` and
//! shell history. It comes from `RETOOL_API_TOKEN` or `--token-file`.

// Doc comments here are the `--help` text, where bare URLs read best.
#![allow(rustdoc::bare_urls)]

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::config::{Address, TOKEN_ENV, Target, TokenSource, Tuning};
use crate::model::Dialect;
use crate::report::fail_on::{FailOn, parse_fail_on};
use crate::report::write::{Format, parse_formats};
use crate::store::SnapshotSelector;

const AFTER_HELP: &str = "\
Exit codes: 0 ok, 1 the run failed (API, network, disk, integrity), 2 usage or configuration error,
3 `report --fail-on` found a listed finding (the report was still written in full).

Examples:
  retool-audit demo                                   # simulated org, every report, ./demo-reports
  RETOOL_API_TOKEN=... retool-audit snapshot --base-url https://acme.retool.com
  retool-audit --config /etc/retool-audit/retool-audit.toml snapshot --all
  retool-audit doctor --all
  retool-audit snapshots --format json
  retool-audit report --out reports/ --roster hr.csv
  retool-audit verify
  retool-audit prune --keep-days 90 --keep-monthly 24";

#[derive(Debug, Parser)]
#[command(
    name = "retool-audit",
    version = crate::LONG_VERSION,
    about = "Who can reach what in a Retool organization, and since when",
    long_about = "Collects a Retool organization's users, groups, memberships, apps, folders, \
resources, workflows and permission grants into a SQLite history, and renders SOC 2 \
access-review evidence (CSV, XLSX, HTML, JSON) from it.",
    after_help = AFTER_HELP
)]
pub struct Cli {
    /// The SQLite history file [default: the config file's `db`, else retool-audit.db].
    #[arg(long, global = true, env = "RETOOL_AUDIT_DB")]
    pub db: Option<PathBuf>,

    /// The configuration file naming the Retool orgs and spaces to audit
    /// [default: ./retool-audit.toml when it exists; without one, flags configure one org].
    #[arg(long, global = true, env = "RETOOL_AUDIT_CONFIG")]
    pub config: Option<PathBuf>,

    /// Log lines on stderr as human text or as JSON objects (for log shippers).
    #[arg(long, global = true, value_enum, default_value = "text")]
    pub log_format: LogFormat,

    /// More log output on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Print nothing on success (errors still go to stderr).
    #[arg(short, long, global = true)]
    pub quiet: bool,

    #[command(subcommand)]
    pub command: Command,
}

/// How log lines on stderr are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Collect the organization from the Retool API and store it as a snapshot.
    #[command(after_help = "\
The token comes from the RETOOL_API_TOKEN environment variable or --token-file, never
from an argument. Minimal read-only scopes: Users > Read, Groups > Read, Apps > Read,
Folders > Read, Resources > Read, Workflows > Read, Permissions > Read (plus Access
Tokens > Read, the user-invite read scope, Spaces > Read (spaces and SSO settings),
Organization > Read (security settings) and usage to audit those; missing optional
scopes are recorded as \"not collected\"). `retool-audit doctor` lists
every endpoint with its scope.

Examples:
  RETOOL_API_TOKEN=retool_01h... retool-audit snapshot --base-url https://acme.retool.com
  retool-audit snapshot --base-url https://tools.acme.com/retool --token-file /etc/retool-audit/token
  retool-audit snapshot --api v1 --base-url https://retool.internal --token-file token --max-rps 4
  retool-audit snapshot --api-root http://127.0.0.1:8080/ --token-file token   # a proxy or mock serving the API at /
  retool-audit --config retool-audit.toml snapshot --all          # every org and space in the config file
  retool-audit snapshot --org acme-prod --json | jq .targets[0].id")]
    Snapshot(SnapshotArgs),

    /// Check the setup before the first night: config, DNS/TLS, the token, the Retool
    /// version and every endpoint the collector uses, with the scope each one needs.
    #[command(after_help = "\
Makes one cheap request per endpoint (limit=1 where the API pages) and prints what a
snapshot would be missing. Exit 0 when users and groups (the mandatory endpoints) can be
read for every checked org, 1 otherwise, 2 for configuration errors.

Examples:
  retool-audit doctor --base-url https://acme.retool.com --token-file /etc/retool-audit/token
  retool-audit --config retool-audit.toml doctor --all
  retool-audit doctor --org acme-prod/sales")]
    Doctor(DoctorArgs),

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
  retool-audit report --out nightly/ --format csv,json --inactive-days 60
  retool-audit report --out weekly/ --fail-on high-risk-changes,disabled-with-access || page-oncall
  retool-audit report --out q4/ --sign-key /etc/retool-audit/audit.key   # SHA256SUMS.minisig beside SHA256SUMS")]
    Report(ReportArgs),

    /// Check a report directory against its manifest, SHA256SUMS, signature and history.
    #[command(after_help = "\
Every file the manifest lists must be present with the same size and SHA-256, and
SHA256SUMS must agree with the manifest. With --pubkey the minisign signature must
verify; with --db (or RETOOL_AUDIT_DB) the snapshots the report was computed from must be in that history
with the same SHA-256, and the history's hash chain must verify. Exit 0 when all
holds, 1 naming the first file or snapshot that differs, 2 for usage errors.

Examples:
  retool-audit verify-report q4/
  retool-audit verify-report q4/ --pubkey audit.pub --db /var/lib/retool-audit/history.db
  (cd q4 && sha256sum -c SHA256SUMS && minisign -Vm SHA256SUMS -p ../audit.pub)")]
    VerifyReport(VerifyReportArgs),

    /// Who could reach what at a moment: one user's effective access, or one object's users.
    #[command(after_help = "\
Reads the last snapshot taken at or before --at (a date means the end of that day,
UTC) and prints its id, time and SHA-256 as the proof with the answer. A user's rows
are the effective_access table's (per type the level on every object, then the objects
where grants give more); an object's rows are every active user reaching it at use or
above, with the source that sets the level and every source. A disabled account's
access is shown from its grants and its status says it could not sign in.

Examples:
  retool-audit access-at --at 2026-03-14 --object app:Payroll
  retool-audit access-at --at 2026-03-14T10:00:00Z --user alice@acme.com --format csv > alice.csv
  retool-audit access-at --at 42 --user alice@acme.com --format json | jq '.access[] | select(.access_level == \"own\")'")]
    AccessAt(AccessAtArgs),

    /// A user's, group's or object's access across the history: every change and when.
    #[command(after_help = "\
Each change is listed once, in the first snapshot that shows it, with the snapshot
before it: the change happened between the two (the window), and their SHA-256s are
the proof. For a user: account fields (status, admin, type, 2FA, e-mail), memberships
and group-admin flags, direct grants, roles, and the effective level on every object
held at edit or own. For a group: its name, universal levels and flags, members, grants
and roles. For an object: its name and folder, grants on it and on its folder, and the
active users reaching it at edit or own. --from and --to default to the first and the
latest snapshot.

Examples:
  retool-audit timeline --user alice@acme.com
  retool-audit timeline --group Finance --from 2026-07-01 --to 2026-09-30 --format csv
  retool-audit timeline --object app:Payroll --format json | jq '.changes[] | select(.risk == \"high\")'")]
    Timeline(TimelineArgs),

    /// The quarterly access review: freeze a population, collect decisions, prove the revocations.
    #[command(after_help = "\
The loop: `review start` freezes the population of one snapshot into review workbooks;
reviewers fill the decision columns; `review import` reads them back; after someone removes
the access in Retool and a new snapshot is taken, `review status` proves what was revoked.
`review plan` prints the Retool API calls for the pending revocations (never run by the tool).

Examples:
  retool-audit review start --out q4-review/ --roster hr.csv --name 2026-Q4
  retool-audit review import q4-review/review-2026-Q4-all.xlsx
  retool-audit snapshot --base-url https://acme.retool.com   # after the revocations
  retool-audit review status --campaign 2026-Q4 --out q4-evidence/
  retool-audit review plan --campaign 2026-Q4 --out q4-plan/")]
    Review(ReviewArgs),

    /// Remove old snapshots, keeping the hash chain verifiable and every kept snapshot exact.
    #[command(after_help = "\
Keeps every snapshot taken within --keep-days, the newest snapshot of each of the
--keep-monthly most recent months, each org's latest snapshot and any snapshot a
review campaign refers to. Each removed snapshot's id, time and hashes are recorded
in the `pruned_snapshots` table, so `verify` still proves the chain across the gap.
Back up the database first; this cannot be undone.

Examples:
  retool-audit prune --keep-days 90 --dry-run
  retool-audit prune --keep-days 90 --keep-monthly 24 --vacuum
  retool-audit prune --org acme --keep-days 30")]
    Prune(PruneArgs),

    /// Copy every organization's history from one store into another (SQLite ⇄ PostgreSQL).
    #[command(after_help = "\
Copies every snapshot (same ids, rows and hashes), run record, pruned-snapshot record and
review campaign, one snapshot per transaction: interrupted, the target holds whole snapshots
only and a rerun continues. The target must be empty or an earlier copy of the same history.
Afterwards `verify` runs on both and every snapshot's state is compared.

Examples:
  retool-audit copy-history --from retool-audit.db --to postgres://audit@db.internal/audit
  retool-audit copy-history --from postgres://audit@db.internal/audit --to restored.db")]
    CopyHistory(CopyHistoryArgs),

    /// Print a shell completion script (bash, zsh, fish, elvish, powershell) to stdout.
    #[command(after_help = "\
Examples:
  retool-audit completions bash > /etc/bash_completion.d/retool-audit
  retool-audit completions zsh > \"${fpath[1]}/_retool-audit\"
  retool-audit completions fish > ~/.config/fish/completions/retool-audit.fish")]
    Completions(CompletionsArgs),

    /// Print the man page (roff) to stdout, or write one page per command into --out DIR.
    #[command(after_help = "\
Examples:
  retool-audit man | man -l -
  retool-audit man --out /usr/local/share/man/man1")]
    Man(ManArgs),

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

/// `--api v2|v1`: the model's [`Dialect`], offered with a help line per value.
fn dialect_parser() -> impl clap::builder::TypedValueParser<Value = Dialect> {
    use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
    PossibleValuesParser::new([
        PossibleValue::new("v2").help("Retool API v2 (/api/v2), the current API."),
        PossibleValue::new("v1").help("The older v1 Management API shape (/api/v1)."),
    ])
    .map(|s| Dialect::parse(&s).unwrap_or_default())
}

/// Which org(s) to collect or check, and how to reach them. Without a config
/// file, the flags describe one org; with one, `--org NAME` or `--all` picks
/// configured targets and the tuning flags override its `[defaults]`.
#[derive(Debug, Args)]
pub struct TargetArgs {
    /// The Retool instance root, e.g. https://acme.retool.com (the client appends /api/v2 or /api/v1).
    #[arg(long, env = "RETOOL_BASE_URL", conflicts_with = "api_root")]
    pub base_url: Option<String>,

    /// Use this URL verbatim as the API root (for proxies and mocks serving the API at /).
    #[arg(long)]
    pub api_root: Option<String>,

    /// Which API shape the instance speaks [default: v2].
    #[arg(long = "api", value_parser = dialect_parser())]
    pub api: Option<Dialect>,

    /// Read the API token from this file (instead of RETOOL_API_TOKEN).
    #[arg(long)]
    pub token_file: Option<PathBuf>,

    /// A label for the organization in the history (one database can hold many)
    /// [default: "default"]; with a config file, the configured org or space to use.
    #[arg(long)]
    pub org: Option<String>,

    /// Every org and space in the config file, one after the other.
    #[arg(long, conflicts_with = "org")]
    pub all: bool,

    /// Requests in flight at once [default: 16]. A 429 pauses every request for its Retry-After.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub concurrency: Option<u16>,

    /// Client-side limit on requests per second (self-hosted Retool defaults to 300 a minute).
    #[arg(long)]
    pub max_rps: Option<f64>,

    /// Ask /users and /resources for pages of N records (1-100) instead of each whole list in one
    /// response [default: whole list]. Use 100 if a proxy or the server times out on large lists.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=100))]
    pub page_size: Option<u64>,

    /// Seconds to wait for a connection [default: 10].
    #[arg(long)]
    pub connect_timeout: Option<u64>,

    /// Seconds to wait for one response [default: 60].
    #[arg(long)]
    pub timeout: Option<u64>,

    /// Retries per request on 429, 5xx, timeouts and connection errors [default: 6].
    #[arg(long)]
    pub max_retries: Option<u32>,

    /// Allow a plain-http base URL that is not loopback (the token would travel in clear text).
    #[arg(long)]
    pub allow_insecure_http: bool,

    /// Skip direct user grants (one request per user and object type).
    #[arg(long, conflicts_with = "user_grants_max_users")]
    pub no_user_grants: bool,

    /// Collect direct user grants only up to this many users (3 requests per user);
    /// above it they are recorded as partially collected. 0 means no limit [default: 2000].
    #[arg(long)]
    pub user_grants_max_users: Option<usize>,

    /// Read each user's app views and saves over this many whole days, ending
    /// yesterday (one request; needs the `usage` scope). 0 reads no usage
    /// [default: 90].
    #[arg(long, value_name = "DAYS", value_parser = clap::value_parser!(u32).range(0..=366))]
    pub usage_days: Option<u32>,

    /// Also read who viewed and who saved each app over the usage window
    /// (`GET /usage/app_details`): one request per app, so an organization
    /// with 2 000 apps costs 2 000 more requests per snapshot (about 2 000 /
    /// concurrency round trips). Off by default.
    #[arg(long)]
    pub usage_details: bool,

    /// Ask Retool's own access list (`permissions/accessList`) about this many
    /// objects and compare it with the computed effective access, user by user;
    /// one request per object, `all` checks every app, resource, workflow and
    /// folder, 0 turns it off [default: 20].
    #[arg(long, value_name = "N|all")]
    pub cross_check: Option<crate::config::CrossCheckObjects>,
}

impl TargetArgs {
    /// The single target the flags describe (no config file in use). The
    /// address is checked when the target is used.
    pub fn target(&self) -> Target {
        let address = match (&self.base_url, &self.api_root) {
            (_, Some(root)) => Address::ApiRoot(root.clone()),
            (Some(base), None) => Address::BaseUrl(base.clone()),
            (None, None) => Address::BaseUrl(String::new()),
        };
        Target {
            name: self.org.clone().unwrap_or_else(|| "default".to_string()),
            address,
            dialect: self.api.unwrap_or_default(),
            token: match &self.token_file {
                Some(path) => TokenSource::File(path.clone()),
                None => TokenSource::Env(TOKEN_ENV.to_string()),
            },
            tuning: self.tuning(),
            origin: None,
        }
    }

    /// The tuning flags that were given.
    pub fn tuning(&self) -> Tuning {
        Tuning {
            concurrency: self.concurrency,
            max_rps: self.max_rps,
            page_size: self.page_size,
            connect_timeout_secs: self.connect_timeout,
            timeout_secs: self.timeout,
            max_retries: self.max_retries,
            allow_insecure_http: self.allow_insecure_http.then_some(true),
            user_grants: self.no_user_grants.then_some(false),
            user_grants_max_users: self.user_grants_max_users,
            usage_days: self.usage_days,
            usage_details: self.usage_details.then_some(true),
            cross_check: self.cross_check,
        }
    }
}

#[derive(Debug, Args)]
pub struct SnapshotArgs {
    #[command(flatten)]
    pub target: TargetArgs,

    /// Print a machine-readable JSON summary on stdout instead of the summary lines.
    #[arg(long)]
    pub json: bool,

    /// Seconds to wait for another snapshot run on the same database to finish
    /// (0: exit 1 at once, naming the run that holds the lock).
    #[arg(long, default_value_t = 0, value_name = "SECS")]
    pub lock_timeout: u64,
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    #[command(flatten)]
    pub target: TargetArgs,
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

/// A comma-separated list given as one flag value (`--format csv,json`), parsed,
/// checked and deduplicated by clap before the command runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct List<T>(pub Vec<T>);

/// `--format`: report formats (`csv`, `xlsx`, `html`, `json`).
fn formats(s: &str) -> Result<List<Format>, String> {
    parse_formats(s).map(List)
}

/// `--fail-on`: the findings that make `report` exit 3.
fn findings(s: &str) -> Result<List<FailOn>, String> {
    parse_fail_on(s).map(List)
}

/// Which snapshot of which organization a command reads.
#[derive(Debug, Args)]
pub struct SnapshotPick {
    /// The organization (needed only when the history holds several).
    #[arg(long)]
    pub org: Option<String>,

    /// The snapshot: an id, `latest`, or a date (the last snapshot on or before it).
    #[arg(long, default_value = "latest")]
    pub snapshot: SnapshotSelector,
}

/// How users are judged: against the HR roster, by inactivity, and which group
/// does not count as access. Shared by `report` and `review start`.
#[derive(Debug, Args)]
pub struct AnalysisArgs {
    /// HR roster CSV with an `email` column: active users not in it are flagged
    /// (orphaned in a report, `terminated` in a review).
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
pub struct ReportArgs {
    /// Directory to write the reports into (created if missing).
    #[arg(long)]
    pub out: PathBuf,

    /// Formats, comma-separated: csv, xlsx, html, json.
    #[arg(long, default_value = "csv,xlsx,html", value_parser = formats)]
    pub format: List<Format>,

    #[command(flatten)]
    pub pick: SnapshotPick,

    /// The older snapshot for the change report: an id or a date (default: the one before).
    #[arg(long)]
    pub since: Option<SnapshotSelector>,

    /// Compare every snapshot between --since and the reported one, so access granted
    /// and taken away in between is listed in `changes` (the default when they are not
    /// adjacent).
    #[arg(long, requires = "since")]
    pub every_snapshot: bool,

    /// Compare only the --since snapshot with the reported one (a plain two-state diff).
    #[arg(long, requires = "since", conflicts_with = "every_snapshot")]
    pub endpoints_only: bool,

    #[command(flatten)]
    pub analysis: AnalysisArgs,

    /// HR terminations CSV (columns `email` and `termination_date`: YYYY-MM-DD, the end
    /// of that day UTC, or RFC 3339): adds the deprovisioning test.
    #[arg(long, value_name = "FILE")]
    pub terminations: Option<PathBuf>,

    /// Hours after the termination by which Retool access must be gone.
    #[arg(long, default_value_t = 24, value_name = "HOURS")]
    pub deprovision_sla_hours: u32,

    /// Exit with code 3 when the report holds any of these findings (comma-separated:
    /// high-risk-changes, orphans, disabled-with-access, security-settings, cross-check,
    /// deprovisioning, or an exceptions threshold: severity>=critical|high|medium|low);
    /// the report is still written.
    #[arg(long, value_name = "LIST", value_parser = findings)]
    pub fail_on: Option<List<FailOn>>,

    /// Write the per-user expansion (effective_access, access_matrix) whatever the
    /// organization's size: as CSV and JSON Lines (jsonl/), streamed. Without it an
    /// organization of more than 5 000 active users gets object_access, exceptions,
    /// privileged_access and per-user cards instead, and the Evidence says so.
    #[arg(long)]
    pub full_effective_access: bool,

    #[command(flatten)]
    pub sign: SignArgs,

    /// Print a machine-readable JSON summary on stdout (files written, rows per
    /// table, snapshot ids) instead of the human lines.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct CopyHistoryArgs {
    /// The history to copy: a SQLite file or a postgres:// URL.
    #[arg(long, value_name = "FILE|URL")]
    pub from: PathBuf,

    /// Where to copy it: a new SQLite file or a postgres:// URL of an empty database.
    #[arg(long, value_name = "FILE|URL")]
    pub to: PathBuf,
}

#[derive(Debug, Args)]
pub struct PruneArgs {
    /// Keep every snapshot taken within this many days (0: none by age).
    #[arg(long, value_name = "N")]
    pub keep_days: u32,

    /// Also keep the newest snapshot of each of the M most recent calendar months (UTC).
    #[arg(long, value_name = "M", default_value_t = 0)]
    pub keep_monthly: u32,

    /// Only this organization (default: every org in the history).
    #[arg(long)]
    pub org: Option<String>,

    /// Show what would be removed; change nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Reclaim the freed space afterwards (VACUUM; rewrites the whole file).
    #[arg(long, conflicts_with = "dry_run")]
    pub vacuum: bool,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to generate completions for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write retool-audit.1 and one page per command (retool-audit-report.1, ...) into this directory.
    #[arg(long)]
    pub out: Option<PathBuf>,
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

/// The benchmark organizations (`fake-server --size`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BenchSize {
    M,
    L,
    Xl,
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

    /// One of the benchmark organizations of BENCHMARKS.md (the bench's seeds and sizes,
    /// times relative to now): m (10 000 users), l (50 000), xl (100 000).
    #[arg(long, value_enum, conflicts_with_all = ["users", "seed"])]
    pub size: Option<BenchSize>,

    /// Delay added to every response, in milliseconds.
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,

    /// Faults to inject, e.g. `429x3:retry-after=1,500x2,truncatex1` (see docs/commands.md, "Simulated Retool faults").
    #[arg(long)]
    pub faults: Option<String>,

    /// The bearer token the server accepts.
    #[arg(long, default_value = "fake-token")]
    pub token: String,

    /// Apply the scripted changes before serving (the demo's second state).
    #[arg(long)]
    pub changed: bool,

    /// Answer 403 wherever this scope is needed, as for a token without it
    /// (repeatable), e.g. `--without-scope usage --without-scope spaces:read`.
    #[arg(long, value_name = "SCOPE")]
    pub without_scope: Vec<String>,

    /// Answer 404 for paths containing this text, as an older Retool without the
    /// endpoint (repeatable), e.g. `--missing-endpoint /role_permissions`.
    #[arg(long, value_name = "PATH")]
    pub missing_endpoint: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ReviewArgs {
    #[command(subcommand)]
    pub command: ReviewCommand,
}

#[derive(Debug, Subcommand)]
pub enum ReviewCommand {
    /// Freeze the population of one snapshot as a campaign and write the review workbooks.
    Start(ReviewStartArgs),
    /// Read decisions back from filled-in review workbooks (nothing is imported unless all are clean).
    Import(ReviewImportArgs),
    /// Check each revoke/modify decision against the latest snapshot and write the evidence report.
    Status(ReviewStatusArgs),
    /// Print the Retool API calls that would carry out the pending revocations (never run by the tool).
    Plan(ReviewPlanArgs),
}

/// Who reviews which rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReviewerByArg {
    /// One workbook for the whole population.
    Single,
    /// One workbook per group for its group admins, plus one for admins and ungrouped users.
    GroupAdmin,
}

#[derive(Debug, Args)]
pub struct ReviewStartArgs {
    /// Directory to write the workbooks and the HTML companion into (created if missing).
    #[arg(long)]
    pub out: PathBuf,

    /// The campaign's name, unique per org (default: the quarter of the snapshot, e.g. 2026-Q4).
    #[arg(long)]
    pub name: Option<String>,

    #[command(flatten)]
    pub pick: SnapshotPick,

    #[command(flatten)]
    pub analysis: AnalysisArgs,

    /// Who reviews which rows.
    #[arg(long, value_enum, default_value = "single")]
    pub reviewer_by: ReviewerByArg,
}

#[derive(Debug, Args)]
pub struct ReviewImportArgs {
    /// The filled-in review workbooks (.xlsx).
    #[arg(required = true)]
    pub workbooks: Vec<PathBuf>,

    /// Only check the workbooks and print the problems and progress; import nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// The campaign the workbooks must belong to (default: the one the first workbook names).
    #[arg(long)]
    pub campaign: Option<String>,

    /// The organization of --campaign (needed only when several have a campaign of that name).
    #[arg(long, requires = "campaign")]
    pub org: Option<String>,
}

/// Which review campaign a command reads.
#[derive(Debug, Args)]
pub struct CampaignPick {
    /// The campaign (default: the newest one).
    #[arg(long)]
    pub campaign: Option<String>,

    /// The organization (needed only when several have a campaign of that name).
    #[arg(long)]
    pub org: Option<String>,
}

#[derive(Debug, Args)]
pub struct ReviewStatusArgs {
    #[command(flatten)]
    pub pick: CampaignPick,

    /// Write the evidence report (population, decisions, remediation) into this directory.
    #[arg(long)]
    pub out: Option<PathBuf>,

    /// Formats of the evidence report, comma-separated: csv, xlsx, html, json.
    #[arg(long, default_value = "csv,xlsx,html", value_parser = formats)]
    pub format: List<Format>,

    #[command(flatten)]
    pub sign: SignArgs,
}

/// Signing a report directory's `SHA256SUMS` with a minisign key.
#[derive(Debug, Args)]
pub struct SignArgs {
    /// Sign SHA256SUMS with this minisign secret key (SHA256SUMS.minisig, verified by
    /// `minisign -Vm SHA256SUMS -p KEY.pub` or `retool-audit verify-report --pubkey`).
    #[arg(long, value_name = "FILE")]
    pub sign_key: Option<PathBuf>,

    /// The file holding the signing key's password (its first line); the environment
    /// variable RETOOL_AUDIT_SIGN_PASSWORD also works. Keys made with `minisign -G -W`
    /// have none.
    #[arg(long, value_name = "FILE", requires = "sign_key")]
    pub sign_password_file: Option<PathBuf>,
}

/// `--format` of the commands that answer one question: an aligned table for a
/// person, CSV or JSON for a script.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AnswerFormat {
    Table,
    Csv,
    Json,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("subject").required(true).args(["user", "object"])))]
pub struct AccessAtArgs {
    /// When: a date (the end of that day, UTC), an RFC 3339 time, a snapshot id or `latest`.
    #[arg(long)]
    pub at: SnapshotSelector,

    /// The organization (needed only when the history holds several).
    #[arg(long)]
    pub org: Option<String>,

    /// The user: an e-mail (any case) or a user id.
    #[arg(long)]
    pub user: Option<String>,

    /// The object: TYPE:ID or TYPE:NAME (type app, resource or workflow), or an id or name alone.
    #[arg(long)]
    pub object: Option<String>,

    #[arg(long, value_enum, default_value = "table", conflicts_with = "out")]
    pub format: AnswerFormat,

    /// Write the answer as a report directory instead: CSV, XLSX, HTML and JSON with
    /// manifest.json and SHA256SUMS, as `report` writes them.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("subject").required(true).args(["user", "object", "group"])))]
pub struct TimelineArgs {
    /// The user: an e-mail (any case) or a user id.
    #[arg(long)]
    pub user: Option<String>,

    /// The object: TYPE:ID or TYPE:NAME (type app, resource or workflow), or an id or name alone.
    #[arg(long)]
    pub object: Option<String>,

    /// The group: its name (any case) or id.
    #[arg(long)]
    pub group: Option<String>,

    /// Start: a date (the end of that day, UTC), an RFC 3339 time or a snapshot id [default: the first snapshot].
    #[arg(long)]
    pub from: Option<SnapshotSelector>,

    /// End: a date, an RFC 3339 time, a snapshot id or `latest` [default: latest].
    #[arg(long, default_value = "latest")]
    pub to: SnapshotSelector,

    /// The organization (needed only when the history holds several).
    #[arg(long)]
    pub org: Option<String>,

    #[arg(long, value_enum, default_value = "table", conflicts_with = "out")]
    pub format: AnswerFormat,

    /// Write the timeline as a report directory instead: CSV, XLSX, HTML and JSON with
    /// manifest.json and SHA256SUMS, as `report` writes them.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct VerifyReportArgs {
    /// The report directory (the one holding manifest.json).
    pub dir: PathBuf,

    /// Also check the signature SHA256SUMS.minisig with this minisign public key.
    #[arg(long, value_name = "FILE")]
    pub pubkey: Option<PathBuf>,

    /// Print the outcome as JSON.
    #[arg(long)]
    pub json: bool,
}

/// How `review plan` prints the calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlanFormat {
    /// A shell script of curl commands (the token is read from $RETOOL_API_TOKEN when it runs).
    Sh,
    /// A JSON array of {method, path, body, reason} objects.
    Json,
}

#[derive(Debug, Args)]
pub struct ReviewPlanArgs {
    #[command(flatten)]
    pub pick: CampaignPick,

    /// Write plan.sh and plan.json into this directory instead of printing.
    #[arg(long)]
    pub out: Option<PathBuf>,

    /// What to print on stdout when --out is not given.
    #[arg(long, value_enum, default_value = "sh")]
    pub format: PlanFormat,
}
