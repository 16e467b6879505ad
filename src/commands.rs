//! The commands behind the CLI, one file per subcommand (`commands/<name>.rs`):
//! each validates its settings, runs the pipeline stages it needs (collect →
//! store → analyze → report) and returns a [`CommandError`] whose exit code the
//! failing error chose itself ([`crate::exit`]; the contract is
//! `docs/operations.md`, "Exit codes"). Helpers more than one command uses
//! (picking the org, labels, the roster, snapshot summaries) are in `common`;
//! reaching and checking the Retool targets of `snapshot` and `doctor` is in
//! `targets`.

mod access_at;
mod answer;
mod common;
mod completions;
mod copy_history;
mod demo;
mod doctor;
mod fake_server;
mod man;
mod prune;
mod report;
mod review;
mod snapshot;
mod snapshots;
mod targets;
mod timeline;

pub use timeline::subject_changes;
mod verify;
mod verify_report;

use std::fmt::Display;
use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::anyhow;

use crate::cli::{Cli, Command, LogFormat};
use crate::config::{self, Config};
use crate::exit::{Classify, Exit};

/// A failed command: the error to print (with its causes, `{:#}`) and the exit code.
#[derive(Debug)]
pub struct CommandError {
    pub code: u8,
    pub error: anyhow::Error,
}

impl CommandError {
    /// Exit code 2: the user must change the command, the configuration or an input file.
    pub fn usage(error: impl Into<anyhow::Error>) -> Self {
        Self::with(Exit::Usage, error)
    }

    /// Exit code 1: the run failed (API, network, disk, integrity).
    pub fn failed(error: impl Into<anyhow::Error>) -> Self {
        Self::with(Exit::Failed, error)
    }

    /// Exit code 3: the command did its work (the report is written in full) and
    /// found something `--fail-on` asked to be alerted about.
    pub fn findings(error: impl Into<anyhow::Error>) -> Self {
        Self::with(Exit::Findings, error)
    }

    fn with(exit: Exit, error: impl Into<anyhow::Error>) -> Self {
        CommandError {
            code: exit.code(),
            error: error.into(),
        }
    }

    /// The same failure with a line of context before its message.
    pub fn context(self, context: impl Display + Send + Sync + 'static) -> Self {
        CommandError {
            code: self.code,
            error: self.error.context(context),
        }
    }

    /// The exit code of [`CommandError::findings`].
    pub const FINDINGS: u8 = 3;
}

/// Every error of the library becomes a command failure with the exit code it
/// chose for itself, so `?` is all a command needs.
impl<E> From<E> for CommandError
where
    E: Classify + std::error::Error + Send + Sync + 'static,
{
    fn from(e: E) -> Self {
        Self::with(e.exit(), e)
    }
}

type CmdResult<T = ()> = Result<T, CommandError>;

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
            Some(path) => Some(Config::load(&path)?),
            None => None,
        };
        let db = cli
            .db
            .clone()
            .or_else(|| config.as_ref().and_then(|c| c.db.clone()))
            .unwrap_or_else(|| PathBuf::from("retool-audit.db"));
        if let Some(file) = config.as_ref().and_then(|c| c.db_password_file.as_deref()) {
            crate::store::postgres::use_password_file(file);
        }
        Ok((config, db))
    };
    match &cli.command {
        Command::Snapshot(args) => {
            let (config, db) = setup()?;
            runtime.block_on(snapshot::run(&db, config.as_ref(), args, out))
        }
        Command::Doctor(args) => {
            let (config, _) = setup()?;
            runtime.block_on(doctor::run(config.as_ref(), args, out))
        }
        Command::Snapshots(args) => snapshots::run(&setup()?.1, args, out),
        Command::Verify => verify::run(&setup()?.1, out),
        Command::Report(args) => report::run(&setup()?.1, args, out),
        Command::AccessAt(args) => access_at::run(&setup()?.1, args, out),
        Command::Timeline(args) => timeline::run(&setup()?.1, args, out),
        Command::VerifyReport(args) => verify_report::run(cli.db.as_deref(), args, out),
        Command::Demo(args) => runtime.block_on(demo::run(args, out)),
        Command::FakeServer(args) => runtime.block_on(fake_server::run(args, out)),
        Command::Review(args) => review::run(&setup()?.1, &args.command, out),
        Command::Prune(args) => prune::run(&setup()?.1, args, out),
        Command::CopyHistory(args) => {
            setup()?;
            copy_history::run(args, out)
        }
        Command::Completions(args) => completions::run(args.shell),
        Command::Man(args) => man::run(args.out.as_deref(), out),
    }
}
